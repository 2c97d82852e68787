#include "formats/audit_record.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <span>

#include "core/bytes.h"

namespace isms {
namespace {

constexpr std::array<std::pair<AuditCategory, std::string_view>, 8> kCategories = {{
    {AuditCategory::kOther, "other"},
    {AuditCategory::kOutboundRequest, "outbound-request"},
    {AuditCategory::kDhcpLease, "dhcp-lease"},
    {AuditCategory::kPrivilegedLogon, "privileged-logon"},
    {AuditCategory::kPrivilegedLogoff, "privileged-logoff"},
    {AuditCategory::kRemoteSessionStart, "remote-session-start"},
    {AuditCategory::kRemoteSessionEnd, "remote-session-end"},
    {AuditCategory::kSecurityAlert, "security-alert"},
}};

constexpr std::uint8_t kNone = 0xFF;

// Writes into a buffer sized beforehand: the caller's string, whose memory is used again from
// record to record (a listener encodes every record into a buffer it keeps).
class Writer {
 public:
  Writer(char* out, size_t size) : end_(out + size), p_(out) {}
  // Whole integers at a time, not byte by byte: a byte store may alias p_, so the compiler
  // reloaded and stored p_ around each one.
  void U8(std::uint8_t v) { *p_++ = static_cast<char>(v); }
  void U32(std::uint32_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                                static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    std::memcpy(p_, b, sizeof b);
    p_ += sizeof b;
  }
  void I64(std::int64_t v) {
    // One 8-byte store of the byte-swapped value: eight byte stores read back as one word
    // stalled the store-to-load forwarding.
    auto u = static_cast<std::uint64_t>(v);
    if constexpr (std::endian::native == std::endian::little) u = __builtin_bswap64(u);
    std::memcpy(p_, &u, sizeof u);
    p_ += sizeof u;
  }
  // Byte strings: their lengths were checked (kMaxField) when the buffer was sized.
  void Str(std::string_view s) {
    U32(static_cast<std::uint32_t>(s.size()));
    Bytes(s);
  }
  // Version 2: an unsigned LEB128 varint (7 bits a byte, low groups first, the high bit set on
  // every byte but the last), and byte strings prefixed by their length as one.
  void Var(std::uint32_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void VStr(std::string_view s) {
    Var(static_cast<std::uint32_t>(s.size()));
    Bytes(s);
  }
  bool Full() const { return p_ == end_; }

 private:
  // The bytes of `s` (most fields are a few bytes long: copied inline, core/bytes.h).
  void Bytes(std::string_view s) {
    CopyBytes(p_, s.data(), s.size());
    p_ += s.size();
  }

  char* end_;
  char* p_;
};

// The longest byte string a record may hold (4 GiB less 2 bytes).
constexpr size_t kMaxField = std::numeric_limits<std::uint32_t>::max() - 1;

// The bytes Writer::Var writes for `n` (a length: sizes past 4 GiB are refused before writing).
// Most lengths and counts are below 128: one byte, decided by one well-predicted compare.
size_t VarSize(size_t n) {
  if (n < (size_t{1} << 7)) return 1;
  return 2 + (n >= (size_t{1} << 14)) + (n >= (size_t{1} << 21)) + (n >= (size_t{1} << 28));
}

// The category's number in version 2: its place in kCategories (the enum's order).
std::uint8_t CategoryCode(AuditCategory c);

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool U8(std::uint8_t* v) {
    if (pos_ + 1 > in_.size()) return false;
    *v = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool U32(std::uint32_t* v) {
    if (pos_ + 4 > in_.size()) return false;
    std::uint32_t r = 0;
    for (int i = 0; i < 4; ++i) r = (r << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    *v = r;
    return true;
  }
  bool I64(std::int64_t* v) {
    if (pos_ + 8 > in_.size()) return false;
    std::uint64_t r = 0;
    for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    *v = static_cast<std::int64_t>(r);
    return true;
  }
  // Lengths and counts as varints (version 2) or u32s (version 1).
  void set_varint(bool v) { varint_ = v; }
  bool Length(std::uint32_t* n) { return varint_ ? Var(n) : U32(n); }
  bool Str(std::string* s) {
    std::uint32_t n = 0;
    if (!Length(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool View(std::string_view* s) {
    std::uint32_t n = 0;
    if (!Length(&n) || n > in_.size() - pos_) return false;
    *s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // A count of items each at least `min_item` bytes long, checked against what is left so that
  // a damaged count cannot make the decoder reserve absurd amounts of memory.
  bool Count(std::uint32_t* n, size_t min_item) {
    return Length(n) && static_cast<std::uint64_t>(*n) * min_item <= in_.size() - pos_;
  }
  // Version 2: a varint of at most 32 bits in its shortest form (so that each value has one
  // encoding); false otherwise.
  bool Var(std::uint32_t* v) {
    std::uint64_t r = 0;
    for (int i = 0; i < 5; ++i) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      r |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        if (i > 0 && b == 0) return false;  // not the shortest form
        if (r > std::numeric_limits<std::uint32_t>::max()) return false;
        *v = static_cast<std::uint32_t>(r);
        return true;
      }
    }
    return false;
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool varint_ = false;
};

Status Corrupt(const Reader& r, std::string_view what) {
  return Status::Corruption("audit record encoding: byte " + std::to_string(r.pos()) + ": " +
                            std::string(what) +
                            "; the stored record is damaged: verify it against its leaf hash");
}

std::uint8_t CategoryCode(AuditCategory c) {
  for (size_t i = 0; i < kCategories.size(); ++i) {
    if (kCategories[i].first == c) return static_cast<std::uint8_t>(i);
  }
  return 0;  // as AuditCategoryKey: "other"
}

// The fields after the fixed header, in their order, with the length prefixes and category of
// encoding `kVersion`: one sequence for both versions, each compiled without a test of the
// version a field.
template <int kVersion, typename Text>
void WriteFields(Writer& w, const BasicAuditRecord<Text>& r,
                 std::span<const std::string_view> strings,
                 std::span<const std::pair<Text, Text>* const> extra) {
  const auto str = [&w](std::string_view s) { kVersion == 2 ? w.VStr(s) : w.Str(s); };
  const auto count = [&w](size_t n) {
    const auto v = static_cast<std::uint32_t>(n);
    kVersion == 2 ? w.Var(v) : w.U32(v);
  };
  if (kVersion == 2) {
    w.U8(CategoryCode(r.category));
  } else {
    w.Str(AuditCategoryKey(r.category));
  }
  str(r.rule);
  for (const std::string_view s : strings) str(s);
  count(r.structured_data.size());
  for (const SdElement& sd : r.structured_data) {
    str(sd.id);
    count(sd.params.size());
    for (const auto& [name, value] : sd.params) {
      str(name);
      str(value);
    }
  }
  count(extra.size());
  for (const auto* e : extra) {
    str(e->first);
    str(e->second);
  }
}

}  // namespace

std::string_view AuditCategoryKey(AuditCategory c) {
  for (const auto& [cat, key] : kCategories) {
    if (cat == c) return key;
  }
  return "other";
}

Result<AuditCategory> ParseAuditCategoryKey(std::string_view key) {
  for (const auto& [cat, k] : kCategories) {
    if (k == key) return cat;
  }
  std::string all;
  for (const auto& [cat, k] : kCategories) {
    if (!all.empty()) all += ", ";
    all += k;
  }
  return Status::InvalidArgument("unknown audit category '" + std::string(key) + "'; use one of " +
                                 all);
}

std::string_view AuditSourceKey(AuditSource s) {
  switch (s) {
    case AuditSource::kSyslog5424: return "rfc5424";
    case AuditSource::kSyslog3164: return "rfc3164";
    case AuditSource::kUnparsed: return "unparsed";
    case AuditSource::kJsonLines: return "jsonl";
  }
  return "unparsed";
}

AuditRecord ToAuditRecord(const AuditRecordView& v) {
  AuditRecord r;
  r.time = v.time;
  r.received = v.received;
  r.source = v.source;
  r.flags = v.flags;
  r.facility = v.facility;
  r.severity = v.severity;
  r.host = v.host;
  r.app = v.app;
  r.procid = v.procid;
  r.msgid = v.msgid;
  r.message = v.message;
  r.category = v.category;
  r.rule = v.rule;
  r.user = v.user;
  r.src_ip = v.src_ip;
  r.src_host = v.src_host;
  r.src_mac = v.src_mac;
  r.dest = v.dest;
  r.session = v.session;
  r.structured_data = v.structured_data;
  r.extra.reserve(v.extra.size());
  for (const auto& [k, x] : v.extra) r.extra.emplace_back(k, x);
  return r;
}

Result<std::string> EncodeAuditRecord(const AuditRecord& r, std::uint8_t version) {
  std::string out;
  ISMS_RETURN_IF_ERROR(EncodeAuditRecordInto(r, out, version));
  return out;
}

namespace {

template <typename Text>
Status EncodeInto(const BasicAuditRecord<Text>& r, std::string& out, std::uint8_t version) {
  if (version != 1 && version != 2) {
    return Status::InvalidArgument("audit record: no encoding version " + std::to_string(version) +
                                   "; versions 1 and 2 exist");
  }
  if (r.facility < -1 || r.facility > 23 || r.severity < -1 || r.severity > 7) {
    return Status::InvalidArgument("audit record: facility " + std::to_string(r.facility) +
                                   " / severity " + std::to_string(r.severity) +
                                   " out of range; use 0-23 / 0-7, or -1 for none");
  }
  thread_local std::vector<const std::pair<Text, Text>*> extra;
  extra.clear();
  for (const auto& e : r.extra) extra.push_back(&e);
  // Usually in strict key order already (the classifier's rules capture in a fixed order): one
  // compare a pair then says that they need no sorting and that no key repeats.
  const auto in_order = [] {
    for (size_t i = 1; i < extra.size(); ++i) {
      const std::string_view a = extra[i - 1]->first, b = extra[i]->first;
      // Keys mostly differ in their first byte: compared inline, without a call to memcmp.
      if (!a.empty() && !b.empty() && a[0] != b[0]) {
        if (static_cast<unsigned char>(a[0]) > static_cast<unsigned char>(b[0])) return false;
        continue;
      }
      if (!(a < b)) return false;
    }
    return true;
  };
  if (!in_order()) {
    std::sort(extra.begin(), extra.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (size_t i = 1; i < extra.size(); ++i) {
      if (extra[i - 1]->first == extra[i]->first) {
        return Status::InvalidArgument("audit record: extra field '" +
                                       std::string(extra[i]->first) +
                                       "' appears twice; keep one value per key");
      }
    }
  }
  const std::string_view strings[] = {r.host, r.app,     r.procid,   r.msgid,
                                      r.user, r.src_ip,  r.src_host, r.src_mac,
                                      r.dest, r.session, r.message};
  const bool v2 = version == 2;
  // The length prefix of a count; the bytes of a byte string with its prefix, whose length is
  // checked here once for the writing below.
  const auto pre = [v2](size_t n) { return v2 ? VarSize(n) : size_t{4}; };
  size_t longest = 0;
  const auto str = [&pre, &longest](std::string_view s) {
    longest = std::max(longest, s.size());
    return pre(s.size()) + s.size();
  };
  // 1 + 8 + 8 + 4 bytes; the category; the rule and 11 strings; two counts; then structured
  // data and extra fields.
  size_t size = 21 + (v2 ? 1 : 4 + AuditCategoryKey(r.category).size()) + str(r.rule) +
                pre(r.structured_data.size()) + pre(extra.size());
  for (const std::string_view s : strings) size += str(s);
  for (const SdElement& sd : r.structured_data) {
    size += str(sd.id) + pre(sd.params.size());
    for (const auto& [name, value] : sd.params) size += str(name) + str(value);
  }
  for (const auto* e : extra) size += str(e->first) + str(e->second);
  if (longest > kMaxField) {
    return Status::InvalidArgument(
        "audit record: a field is 4 GiB or longer; it cannot be encoded");
  }
  // A buffer too small is replaced, not grown (its old bytes need no copy); one that held a
  // record before gets room for a somewhat longer one next time. Only the bytes beyond its
  // current size are zeroed first.
  if (out.capacity() < size) {
    const bool used = !out.empty();
    out.clear();
    out.reserve(used ? size + size / 2 : size);
  }
  out.resize(size);
  Writer w(out.data(), size);
  w.U8(version);
  w.I64(r.time.time_since_epoch().count());
  w.I64(r.received.time_since_epoch().count());
  w.U8(static_cast<std::uint8_t>(r.source));
  w.U8(r.flags);
  w.U8(r.facility < 0 ? kNone : static_cast<std::uint8_t>(r.facility));
  w.U8(r.severity < 0 ? kNone : static_cast<std::uint8_t>(r.severity));
  if (v2) {
    WriteFields<2, Text>(w, r, strings, extra);
  } else {
    WriteFields<1, Text>(w, r, strings, extra);
  }
  if (!w.Full()) return Status::Internal("audit record: the encoded size was miscounted");
  return Status::Ok();
}

}  // namespace

Status EncodeAuditRecordInto(const AuditRecord& r, std::string& out, std::uint8_t version) {
  return EncodeInto(r, out, version);
}

Status EncodeAuditRecordInto(const AuditRecordView& r, std::string& out, std::uint8_t version) {
  return EncodeInto(r, out, version);
}

Result<AuditRecord> DecodeAuditRecord(std::string_view bytes) {
  Reader in(bytes);
  AuditRecord r;
  std::uint8_t version = 0;
  if (!in.U8(&version)) return Corrupt(in, "empty");
  if (version != 1 && version != 2) {
    return Corrupt(in, "unknown encoding version " + std::to_string(version) +
                           " (this isms reads versions 1 and 2)");
  }
  const bool v2 = version == 2;
  std::int64_t time = 0, received = 0;
  std::uint8_t source = 0, facility = 0, severity = 0;
  if (!in.I64(&time) || !in.I64(&received) || !in.U8(&source) || !in.U8(&r.flags) ||
      !in.U8(&facility) || !in.U8(&severity)) {
    return Corrupt(in, "truncated header");
  }
  r.time = Instant(std::chrono::milliseconds(time));
  r.received = Instant(std::chrono::milliseconds(received));
  if (source < 1 || source > 4) return Corrupt(in, "unknown source " + std::to_string(source));
  r.source = static_cast<AuditSource>(source);
  if (facility != kNone && facility > 23) return Corrupt(in, "facility out of range");
  if (severity != kNone && severity > 7) return Corrupt(in, "severity out of range");
  r.facility = facility == kNone ? -1 : facility;
  r.severity = severity == kNone ? -1 : severity;
  if (v2) {
    std::uint8_t code = 0;
    if (!in.U8(&code)) return Corrupt(in, "truncated category");
    if (code >= kCategories.size()) return Corrupt(in, "unknown category " + std::to_string(code));
    r.category = kCategories[code].first;
  } else {
    std::string category;
    if (!in.Str(&category)) return Corrupt(in, "truncated category");
    Result<AuditCategory> cat = ParseAuditCategoryKey(category);
    if (!cat.ok()) return Corrupt(in, "unknown category '" + category + "'");
    r.category = *cat;
  }
  // Strings and counts: u32-prefixed in version 1, varint-prefixed in version 2.
  in.set_varint(v2);
  for (std::string* s : {&r.rule, &r.host, &r.app, &r.procid, &r.msgid, &r.user, &r.src_ip,
                         &r.src_host, &r.src_mac, &r.dest, &r.session, &r.message}) {
    if (!in.Str(s)) return Corrupt(in, "truncated field");
  }
  // The least bytes an element or field takes: two empty strings (or a string and a count).
  const size_t min_item = v2 ? 2 : 8;
  std::uint32_t n = 0;
  if (!in.Count(&n, min_item)) return Corrupt(in, "bad structured-data count");
  r.structured_data.resize(n);
  for (SdElement& sd : r.structured_data) {
    std::uint32_t params = 0;
    if (!in.Str(&sd.id) || !in.Count(&params, min_item)) return Corrupt(in, "truncated SD element");
    sd.params.resize(params);
    for (auto& [name, value] : sd.params) {
      if (!in.Str(&name) || !in.Str(&value)) return Corrupt(in, "truncated SD parameter");
    }
  }
  if (!in.Count(&n, min_item)) return Corrupt(in, "bad extra-field count");
  r.extra.resize(n);
  for (size_t i = 0; i < r.extra.size(); ++i) {
    if (!in.Str(&r.extra[i].first) || !in.Str(&r.extra[i].second)) {
      return Corrupt(in, "truncated extra field");
    }
    if (i > 0 && !(r.extra[i - 1].first < r.extra[i].first)) {
      return Corrupt(in, "extra fields not strictly sorted by key");
    }
  }
  if (!in.done()) return Corrupt(in, "trailing bytes after the record");
  return r;
}

int PeekAuditCategoryNumber(std::string_view bytes) {
  // Version, time, received, source, flags, facility and severity: 21 bytes in both versions.
  constexpr std::size_t kAt = 21;
  if (bytes.size() <= kAt) return -1;
  if (bytes[0] == 2) {
    const auto c = static_cast<std::uint8_t>(bytes[kAt]);
    if (c >= kCategories.size()) return -1;
    return static_cast<int>(kCategories[c].first);
  }
  if (bytes[0] == 1 && bytes.size() >= kAt + 4) {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(bytes[kAt + i]);
    if (bytes.size() - kAt - 4 < n) return -1;
    Result<AuditCategory> c = ParseAuditCategoryKey(bytes.substr(kAt + 4, n));
    if (c.ok()) return static_cast<int>(*c);
  }
  return -1;
}

std::optional<AuditRecordKeys> PeekAuditKeys(std::string_view bytes) {
  Reader in(bytes);
  std::uint8_t version = 0, skip = 0;
  std::int64_t time = 0, received = 0;
  if (!in.U8(&version) || (version != 1 && version != 2) || !in.I64(&time) ||
      !in.I64(&received)) {
    return std::nullopt;
  }
  for (int i = 0; i < 4; ++i) {  // source, flags, facility, severity
    if (!in.U8(&skip)) return std::nullopt;
  }
  AuditRecordKeys k;
  k.time = Instant(std::chrono::milliseconds(time));
  if (version == 2) {
    std::uint8_t code = 0;
    if (!in.U8(&code) || code >= kCategories.size()) return std::nullopt;
    k.category = kCategories[code].first;
  } else {
    std::string_view key;
    if (!in.View(&key)) return std::nullopt;
    Result<AuditCategory> c = ParseAuditCategoryKey(key);
    if (!c.ok()) return std::nullopt;
    k.category = *c;
  }
  in.set_varint(version == 2);
  std::string_view rule, app, procid, msgid;
  if (!in.View(&rule) || !in.View(&k.host) || !in.View(&app) || !in.View(&procid) ||
      !in.View(&msgid) || !in.View(&k.user) || !in.View(&k.src_ip)) {
    return std::nullopt;
  }
  return k;
}

}  // namespace isms
