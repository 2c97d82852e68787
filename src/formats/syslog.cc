#include "formats/syslog.h"

#include <array>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>

#include "core/ascii.h"
#include "core/calendar.h"

namespace isms {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr size_t kMaxHeaderField = 255;  // RFC 5424 allows 255 for HOSTNAME, less for the others
constexpr size_t kMaxSdName = 32;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsPrintUsAscii(char c) {
  return c >= 33 && c <= 126;
}

std::string_view StripTrailing(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

Status Bad(size_t offset, std::string_view what) {
  return Status::InvalidArgument("byte " + std::to_string(offset) + ": " + std::string(what));
}

// The parsers below say whether a message parsed, and why not into `*why` when the caller asks
// (ParseRfc5424 and ParseRfc3164 do; ParseSyslogMessage, on every received message's path, does
// not). A Status returned on success was built in memory by the callee and read back at once by
// the caller: 12.7 % of ParseSyslogMessageInto's samples waited on that read (docs/benchmarks.md
// run 29). `make` builds the reason.
template <typename Make>
[[gnu::cold]] bool Fail(Status* why, const Make& make) {
  if (why != nullptr) *why = make();
  return false;
}

// "<PRI>" at the start of `s`: 1-3 digits, 0-191. Returns the PRI value and sets `*len` to the
// bytes it took; -1 when `s` does not start with a valid PRI. (A number, not an optional: GCC
// returned the optional through the stack, a read back that waited for every store before it.)
int ReadPri(std::string_view s, size_t* len) {
  if (s.size() < 3 || s[0] != '<') return -1;
  int value = 0;
  size_t i = 1;
  while (i < s.size() && i <= 3 && IsDigit(s[i])) value = value * 10 + (s[i++] - '0');
  if (i == 1 || i >= s.size() || s[i] != '>' || value > 191) return -1;
  *len = i + 1;
  return value;
}

template <typename Text>
void SetPri(BasicAuditRecord<Text>& r, int pri) {
  r.facility = pri / 8;
  r.severity = pri % 8;
}

// Why a header field of RFC 5424 that starts at `start` and whose scan stopped at `pos` is not
// one. Out of line: HeaderField, inlined on every message's path, keeps only its tests.
[[gnu::noinline, gnu::cold]] Status HeaderFieldError(std::string_view s, size_t start, size_t pos,
                                                     std::string_view name) {
  if (pos < s.size() && s[pos] != ' ') {
    return Bad(pos, std::string(name) + " has a byte that is not printable US-ASCII");
  }
  if (pos == start) return Bad(pos, std::string(name) + " is empty");
  if (pos - start > kMaxHeaderField) return Bad(start, std::string(name) + " is too long");
  return Bad(pos, "message ends after " + std::string(name));
}

// A header field of RFC 5424: printable US-ASCII up to the next SP, into `v` ("-" is empty),
// `pos` then past the SP. False when there is none at `pos` (HeaderFieldError says why; `pos` is
// where the scan stopped). The scan stops at any byte that is not printable, SP included: one
// test a byte. A bool, not a Result: five a message, on every message's path (inlined: a call
// each cost a tenth of the parse).
[[gnu::always_inline]] inline bool HeaderField(std::string_view s, size_t& pos,
                                               std::string_view& v) {
  const size_t start = pos;
  const size_t end = PrintUsAsciiEnd(s, start);
  pos = end;
  if (end >= s.size() || s[end] != ' ' || end == start || end - start > kMaxHeaderField) {
    return false;
  }
  v = s.substr(start, end - start);
  if (v == "-") v = std::string_view();
  pos = end + 1;  // past the SP
  return true;
}

Result<std::string> SdName(std::string_view s, size_t& pos, std::string_view what) {
  const size_t start = pos;
  while (pos < s.size() && IsPrintUsAscii(s[pos]) && s[pos] != '=' && s[pos] != ']' &&
         s[pos] != '"') {
    ++pos;
  }
  if (pos == start) return Bad(pos, std::string(what) + " is empty");
  if (pos - start > kMaxSdName) return Bad(start, std::string(what) + " is longer than 32 bytes");
  if (pos >= s.size()) return Bad(pos, "structured data is truncated");
  return std::string(s.substr(start, pos - start));
}

bool ParseStructuredData(std::string_view s, size_t& pos, std::vector<SdElement>& out,
                         Status* why) {
  if (pos < s.size() && s[pos] == '-') {
    ++pos;
    return true;
  }
  if (pos >= s.size() || s[pos] != '[')
    return Fail(why, [&] { return Bad(pos, "expected '-' or '[' for STRUCTURED-DATA"); });
  while (pos < s.size() && s[pos] == '[') {
    ++pos;
    SdElement element;
    Result<std::string> id = SdName(s, pos, "SD-ID");
    if (!id.ok()) return Fail(why, [&] { return id.status(); });
    element.id = std::move(id).value();
    while (pos < s.size() && s[pos] == ' ') {
      ++pos;
      Result<std::string> param = SdName(s, pos, "PARAM-NAME");
      if (!param.ok()) return Fail(why, [&] { return param.status(); });
      std::string name = std::move(param).value();
      if (s[pos] != '=')
        return Fail(why, [&] { return Bad(pos, "expected '=' after PARAM-NAME"); });
      ++pos;
      if (pos >= s.size() || s[pos] != '"')
        return Fail(why, [&] { return Bad(pos, "expected '\"' to open PARAM-VALUE"); });
      ++pos;
      std::string value;
      bool closed = false;
      while (pos < s.size()) {
        const char c = s[pos];
        if (c == '"') {
          closed = true;
          ++pos;
          break;
        }
        if (c == '\\' && pos + 1 < s.size() &&
            (s[pos + 1] == '"' || s[pos + 1] == '\\' || s[pos + 1] == ']')) {
          value.push_back(s[pos + 1]);
          pos += 2;
          continue;
        }
        value.push_back(c);
        ++pos;
      }
      if (!closed) return Fail(why, [&] { return Bad(pos, "PARAM-VALUE is not closed by '\"'"); });
      element.params.emplace_back(std::move(name), std::move(value));
    }
    if (pos >= s.size() || s[pos] != ']')
      return Fail(why, [&] { return Bad(pos, "expected ']' to close SD-ELEMENT"); });
    ++pos;
    out.push_back(std::move(element));
  }
  return true;
}

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};

int MonthOf(std::string_view s) {
  if (s.size() < 3) return 0;
  for (size_t m = 0; m < kMonths.size(); ++m) {
    bool same = true;
    for (size_t i = 0; i < 3; ++i) {
      if ((s[i] | 0x20) != kMonths[m][i]) same = false;
    }
    if (same) return static_cast<int>(m) + 1;
  }
  return 0;
}

// Reads `n` digits at s[pos..]; false when they are not all digits.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  *out = v;
  return true;
}

// "hh:mm:ss[.fff...]" at s[pos..]; advances pos.
bool ClockTime(std::string_view s, size_t& pos, milliseconds* out) {
  int hh, mm, ss;
  if (!Digits(s, pos, 2, &hh) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
      !Digits(s, pos + 3, 2, &mm) || pos + 5 >= s.size() || s[pos + 5] != ':' ||
      !Digits(s, pos + 6, 2, &ss) || hh > 23 || mm > 59 || ss > 60) {
    return false;
  }
  pos += 8;
  if (ss == 60) ss = 59;
  int millis = 0;
  if (pos + 1 < s.size() && s[pos] == '.' && IsDigit(s[pos + 1])) {
    ++pos;
    int scale = 100;
    while (pos < s.size() && IsDigit(s[pos])) {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  *out = hours(hh) + minutes(mm) + seconds(ss) + milliseconds(millis);
  return true;
}

Instant LocalToUtc(std::chrono::sys_days day, milliseconds tod, const SyslogOptions& o) {
  const Instant local = Instant(day) + tod;
  switch (o.bsd_zone) {
    case SyslogOptions::BsdZone::kUtc: return local;
    case SyslogOptions::BsdZone::kFixedOffset: return local - o.bsd_offset;
    case SyslogOptions::BsdZone::kEuropeLondon: {
      const Instant as_bst = local - hours(1);
      return LondonUtcOffset(as_bst) == hours(1) ? as_bst : local;
    }
  }
  return local;
}

// A BSD timestamp "Mmm dd hh:mm:ss[.fff]" or "Mmm dd yyyy hh:mm:ss[.fff]" at s[pos..], followed
// by SP or the end. Advances pos past the SP.
std::optional<Instant> BsdTimestamp(std::string_view s, size_t& pos, const SyslogOptions& o,
                                    std::uint8_t* flags) {
  size_t p = pos;
  const int month = MonthOf(s.substr(p));
  if (month == 0 || p + 4 > s.size() || s[p + 3] != ' ') return std::nullopt;
  p += 4;
  if (p < s.size() && s[p] == ' ') ++p;  // "Mar  1"
  int day = 0;
  if (Digits(s, p, 2, &day)) {
    p += 2;
  } else if (Digits(s, p, 1, &day)) {
    p += 1;
  } else {
    return std::nullopt;
  }
  if (day < 1 || day > 31 || p >= s.size() || s[p] != ' ') return std::nullopt;
  ++p;
  std::optional<int> year;
  int y = 0;
  if (Digits(s, p, 4, &y) && p + 4 < s.size() && s[p + 4] == ' ') {
    year = y;
    p += 5;
  }
  milliseconds tod{};
  if (!ClockTime(s, p, &tod)) return std::nullopt;
  if (p < s.size() && s[p] != ' ') return std::nullopt;
  if (p < s.size()) ++p;

  const auto md = std::chrono::month(static_cast<unsigned>(month)) /
                  std::chrono::day(static_cast<unsigned>(day));
  std::optional<Instant> best;
  if (year) {
    const Date ymd = std::chrono::year(*year) / md;
    if (!ymd.ok()) return std::nullopt;
    best = LocalToUtc(std::chrono::sys_days(ymd), tod, o);
  } else {
    const int received_year = static_cast<int>(Date(std::chrono::floor<days>(o.received)).year());
    for (int candidate = received_year - 1; candidate <= received_year + 1; ++candidate) {
      const Date ymd = std::chrono::year(candidate) / md;
      if (!ymd.ok()) continue;
      const Instant t = LocalToUtc(std::chrono::sys_days(ymd), tod, o);
      if (!best || std::abs((t - o.received).count()) < std::abs((*best - o.received).count())) {
        best = t;
      }
    }
    if (!best) return std::nullopt;
    *flags |= kAuditYearInferred;
  }
  *flags |= kAuditZoneAssumed;
  pos = p;
  return best;
}

// An RFC 3339 timestamp at s[pos..] (rsyslog's high-precision format), followed by SP or the end.
std::optional<Instant> Rfc3339Timestamp(std::string_view s, size_t& pos) {
  int y;
  if (!Digits(s, pos, 4, &y) || pos + 4 >= s.size() || s[pos + 4] != '-') return std::nullopt;
  size_t end = s.find(' ', pos);
  if (end == std::string_view::npos) end = s.size();
  Instant t;
  if (!ReadInstant(s.substr(pos, end - pos), &t)) return std::nullopt;
  pos = end < s.size() ? end + 1 : end;
  return t;
}

// "TAG[PID]: " or "TAG: " at s[pos..]; sets app and procid and advances pos past it. Leaves
// everything alone when there is no such tag.
template <typename Text>
void BsdTag(std::string_view s, size_t& pos, BasicAuditRecord<Text>& r) {
  constexpr size_t kMaxTag = 64;
  size_t p = pos;
  while (p < s.size() && p - pos <= kMaxTag && s[p] != ' ' && s[p] != '[' && s[p] != ':') ++p;
  if (p == pos || p >= s.size() || p - pos > kMaxTag) return;
  const std::string_view tag = s.substr(pos, p - pos);
  std::string_view pid;
  if (s[p] == '[') {
    const size_t close = s.find(']', p);
    if (close == std::string_view::npos || close - p > 129) return;
    pid = s.substr(p + 1, close - p - 1);
    if (pid.find(' ') != std::string_view::npos) return;
    p = close + 1;
  }
  if (p >= s.size() || s[p] != ':') return;
  ++p;
  if (p < s.size() && s[p] == ' ') ++p;
  r.app = tag;
  r.procid = pid;
  pos = p;
}

// `r` (a default record) as the record kept for `bytes` that could not be parsed.
template <typename Text>
void SetUnparsed(BasicAuditRecord<Text>& r, std::string_view bytes, Instant received) {
  r.source = AuditSource::kUnparsed;
  r.flags = kAuditUnparsed | kAuditTimeFromReceipt;
  r.time = received;
  r.received = received;
  r.message = bytes;
}

}  // namespace

AuditRecord UnparsedAuditRecord(std::string_view bytes, Instant received) {
  AuditRecord r;
  SetUnparsed(r, bytes, received);
  return r;
}

namespace {

// ParseRfc5424 into `r` (a default record): one record from the read to the caller, not moved
// through Results on the way (ParseSyslogMessage is on every received message's path). A view
// refers to `input`.
template <typename Text>
bool ParseRfc5424Into(std::string_view input, const SyslogOptions& options,
                      BasicAuditRecord<Text>& r, Status* why) {
  const std::string_view s = StripTrailing(input);
  r.source = AuditSource::kSyslog5424;
  r.received = options.received;
  size_t pos = 0;
  const int pri = ReadPri(s, &pos);
  if (pri < 0) return Fail(why, [&] { return Bad(0, "no valid PRI (\"<0>\" to \"<191>\")"); });
  SetPri(r, pri);
  if (pos + 1 >= s.size() || s[pos] != '1' || s[pos + 1] != ' ') {
    return Fail(why, [&] { return Bad(pos, "VERSION is not 1"); });
  }
  pos += 2;
  std::string_view timestamp, host, app, procid, msgid;
  if (const size_t start = pos; !HeaderField(s, pos, timestamp)) {
    return Fail(why, [&] { return HeaderFieldError(s, start, pos, "TIMESTAMP"); });
  }
  if (timestamp.empty()) {
    r.time = options.received;
    r.flags |= kAuditTimeFromReceipt;
  } else {
    if (!ReadInstant(timestamp, &r.time)) {
      return Fail(why, [&] { return Bad(pos, "TIMESTAMP is not RFC 3339"); });
    }
  }
  const std::pair<std::string_view*, std::string_view> fields[] = {
      {&host, "HOSTNAME"}, {&app, "APP-NAME"}, {&procid, "PROCID"}, {&msgid, "MSGID"}};
  // (A pair, not a structured binding: clang 14, the fuzzers' compiler, cannot capture one.)
  for (const auto& field : fields) {
    if (const size_t start = pos; !HeaderField(s, pos, *field.first)) {
      return Fail(why, [&] { return HeaderFieldError(s, start, pos, field.second); });
    }
  }
  r.host = host;
  r.app = app;
  r.procid = procid;
  r.msgid = msgid;
  if (!ParseStructuredData(s, pos, r.structured_data, why)) return false;
  if (pos < s.size()) {
    if (s[pos] != ' ') return Fail(why, [&] { return Bad(pos, "expected SP before MSG"); });
    ++pos;
    std::string_view msg = s.substr(pos);
    if (msg.size() >= 3 && msg.substr(0, 3) == "\xEF\xBB\xBF") {
      msg.remove_prefix(3);
      r.flags |= kAuditUtf8Bom;
    }
    r.message = msg;
  }
  return true;
}

}  // namespace

Result<AuditRecord> ParseRfc5424(std::string_view input, const SyslogOptions& options) {
  AuditRecord r;
  Status why;
  if (!ParseRfc5424Into(input, options, r, &why)) return why;
  return r;
}

namespace {

// ParseRfc3164 into `r` (a default record); a view refers to `input`.
template <typename Text>
bool ParseRfc3164Into(std::string_view input, const SyslogOptions& options,
                      BasicAuditRecord<Text>& r, Status* why) {
  const std::string_view s = StripTrailing(input);
  r.source = AuditSource::kSyslog3164;
  r.received = options.received;
  size_t pos = 0;
  const int pri = ReadPri(s, &pos);
  if (pri >= 0) {
    SetPri(r, pri);
  } else if (!s.empty() && s[0] == '<') {
    return Fail(why, [&] { return Bad(0, "PRI is not \"<0>\" to \"<191>\""); });
  }
  std::optional<Instant> time = Rfc3339Timestamp(s, pos);
  if (!time) time = BsdTimestamp(s, pos, options, &r.flags);
  if (time) {
    r.time = *time;
  } else if (pri >= 0) {
    r.time = options.received;
    r.flags |= kAuditTimeFromReceipt;
  } else {
    return Fail(why, [&] { return Bad(0, "neither PRI nor a timestamp"); });
  }
  if (time) {
    const size_t sp = s.find(' ', pos);
    if (sp != std::string_view::npos) {
      const std::string_view token = s.substr(pos, sp - pos);
      if (!token.empty() && token.back() != ':' && token.find('[') == std::string_view::npos) {
        r.host = token;
        pos = sp + 1;
      }
    }
  }
  BsdTag(s, pos, r);
  r.message = s.substr(pos);
  return true;
}

}  // namespace

Result<AuditRecord> ParseRfc3164(std::string_view input, const SyslogOptions& options) {
  AuditRecord r;
  Status why;
  if (!ParseRfc3164Into(input, options, r, &why)) return why;
  return r;
}

namespace {

// `r` as a default record, keeping the memory of its strings and lists. Every field of
// BasicAuditRecord (formats/audit_record.h) is set here: a field added there must be added here
// (SyslogTest.ParsingIntoAnEarlierRecordLeavesNothingOfIt checks them all).
template <typename Text>
void Reset(BasicAuditRecord<Text>& r) {
  r.time = Instant{};
  r.received = Instant{};
  r.source = AuditSource::kUnparsed;
  r.flags = 0;
  r.facility = -1;
  r.severity = -1;
  // Each field by name, not through a list of pointers (building the list and its loop cost as
  // much as the clearing).
  const auto clear = [](Text& t) {
    if constexpr (std::is_same_v<Text, std::string>) {
      t.clear();
    } else {
      t = {};
    }
  };
  clear(r.host), clear(r.app), clear(r.procid), clear(r.msgid), clear(r.message);
  clear(r.rule), clear(r.user), clear(r.src_ip), clear(r.src_host), clear(r.src_mac);
  clear(r.dest), clear(r.session);
  r.category = AuditCategory::kOther;
  r.structured_data.clear();
  r.extra.clear();
}

template <typename Text>
void ParseInto(std::string_view message, const SyslogOptions& options, BasicAuditRecord<Text>& r) {
  Reset(r);
  size_t after_pri = 0;
  const bool rfc5424 = ReadPri(message, &after_pri) >= 0 && after_pri + 1 < message.size() &&
                       message[after_pri] == '1' && message[after_pri + 1] == ' ';
  if (rfc5424 ? ParseRfc5424Into(message, options, r, nullptr)
              : ParseRfc3164Into(message, options, r, nullptr)) {
    return;
  }
  Reset(r);
  SetUnparsed(r, message, options.received);
}

}  // namespace

void ParseSyslogMessageInto(std::string_view message, const SyslogOptions& options,
                            AuditRecord& r) {
  ParseInto(message, options, r);
}

void ParseSyslogMessageInto(std::string_view message, const SyslogOptions& options,
                            AuditRecordView& r) {
  ParseInto(message, options, r);
}

AuditRecord ParseSyslogMessage(std::string_view message, const SyslogOptions& options) {
  AuditRecord r;
  ParseSyslogMessageInto(message, options, r);
  return r;
}

}  // namespace isms
