#include "audit/log_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>

#include "audit/checkpoint.h"
#include "audit/sha256_lanes.h"
#include "audit/zstd_frame.h"
#include "core/bytes.h"

namespace isms::audit {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE audit_logs (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  chunk_bits   INTEGER NOT NULL,
  size         BIGINT NOT NULL,
  tree         %BLOB% NOT NULL,
  PRIMARY KEY (contract_id, log_kind)
);
CREATE TABLE audit_chunks (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  chunk_no     BIGINT NOT NULL,
  root         %BLOB% NOT NULL,
  records      BIGINT NOT NULL,
  min_time     BIGINT NOT NULL,
  max_time     BIGINT NOT NULL,
  purged_at    BIGINT,
  PRIMARY KEY (contract_id, log_kind, chunk_no)
);
CREATE TABLE audit_blocks (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  chunk_no     BIGINT NOT NULL,
  host         %BLOB% NOT NULL,
  records      BIGINT NOT NULL,
  min_time     BIGINT NOT NULL,
  max_time     BIGINT NOT NULL,
  data         %BLOB% NOT NULL,
  PRIMARY KEY (contract_id, log_kind, chunk_no, host)
);
CREATE INDEX audit_blocks_by_host ON audit_blocks (contract_id, log_kind, host, chunk_no);
CREATE TABLE audit_postings (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  user_key     %BLOB% NOT NULL,
  chunk_no     BIGINT NOT NULL,
  host         %BLOB% NOT NULL,
  PRIMARY KEY (contract_id, log_kind, user_key, chunk_no, host)
);
CREATE TABLE audit_tail (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  first_leaf   BIGINT NOT NULL,
  leaves       BIGINT NOT NULL,
  hash         %BLOB% NOT NULL,
  min_time     BIGINT NOT NULL,
  max_time     BIGINT NOT NULL,
  data         %BLOB% NOT NULL,
  PRIMARY KEY (contract_id, log_kind, first_leaf)
);
CREATE TABLE audit_kept (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  start_leaf   BIGINT NOT NULL,
  size         BIGINT NOT NULL,
  hash         %BLOB% NOT NULL,
  PRIMARY KEY (contract_id, log_kind, start_leaf, size)
);
CREATE TABLE audit_checkpoints (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  size         BIGINT NOT NULL,
  root         %BLOB% NOT NULL,
  written_at   BIGINT NOT NULL,
  note         TEXT NOT NULL,
  PRIMARY KEY (contract_id, log_kind, size)
);
)sql";

constexpr const char* kAddressSchema = R"sql(
CREATE TABLE audit_ip_postings (
  contract_id  BIGINT NOT NULL,
  log_kind     INTEGER NOT NULL,
  ip           %BLOB% NOT NULL,
  chunk_no     BIGINT NOT NULL,
  host         %BLOB% NOT NULL,
  PRIMARY KEY (contract_id, log_kind, ip, chunk_no, host)
);
)sql";

// Entry kinds: 0 and 1 (content, erased) were written before entries carried an ip key; 2 and 3
// carry it. Every kind is read; 2 and 3 are written.
constexpr std::uint8_t kEntryContent = 0;
constexpr std::uint8_t kEntryErased = 1;
constexpr std::uint8_t kEntryContentIp = 2;
constexpr std::uint8_t kEntryErasedIp = 3;
// Content whose keys are those it gives (EntryKeysOf): kind, leaf, content; no keys.
constexpr std::uint8_t kEntryKeyed = 4;
constexpr std::size_t kMaxBlockBytes = std::size_t{1} << 31;

std::int64_t Ms(Instant t) {
  return t.time_since_epoch().count();
}
Instant FromMs(std::int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

std::string_view HashBytes(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}
Result<Hash> HashFromBytes(const std::string& b, std::string_view what) {
  if (b.size() != 32) return Status::Corruption(std::string(what) + " is not 32 bytes");
  Hash h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  bool U8(std::uint8_t& v) {
    if (s_.size() - pos_ < 1) return false;
    v = static_cast<std::uint8_t>(s_[pos_++]);
    return true;
  }
  bool U64(std::uint64_t& v) {
    if (s_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s_[pos_++]);
    return true;
  }
  bool U32(std::uint32_t& v) {
    if (s_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(s_[pos_++]);
    return true;
  }
  bool Bytes(std::string& out) {
    std::uint32_t n = 0;
    if (!U32(n) || s_.size() - pos_ < n) return false;
    out.assign(s_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Fixed(std::size_t n, std::string& out) {
    if (s_.size() - pos_ < n) return false;
    out.assign(s_.substr(pos_, n));
    pos_ += n;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// zstd levels. Tail batches live until their chunk completes: speed first. Chunk blocks are
// kept, but level -1 compresses the per-host blocks of syslog as well as 1 (and 3) do, and
// faster (300 blocks of a million-record run: 393,481 bytes at -1, 393,879 at 1).
constexpr int kTailLevel = -1;
constexpr int kBlockLevel = -1;

// Runs `second` on a thread of its own while this one runs `first`, and returns once both are
// done (an exception of either is thrown here). When no thread can be had, this one runs both.
template <typename First, typename Second>
void OnTwoThreads(const First& first, const Second& second) {
  std::future<void> other;
  try {
    other = std::async(std::launch::async, second);
  } catch (const std::system_error&) {
    first();
    second();
    return;
  }
  first();
  other.get();
}

// What an entry adds to its block's kinds: its kinds when it keeps its content and the log has
// EntryKinds, else nothing (a block's kinds are those of its live entries).
template <typename Entry>
std::uint64_t LiveKinds(EntryKinds fn, const Entry& e) {
  return fn != nullptr && !e.erased ? fn(e.bytes) : 0;
}

// A block's kinds as a parameter: `kinds` when the log has EntryKinds, else NULL (not known).
void BindKinds(store::Statement& st, int index, EntryKinds fn, std::uint64_t kinds) {
  if (fn != nullptr) {
    st.BindInt(index, static_cast<std::int64_t>(kinds));
  } else {
    st.BindNull(index);
  }
}

}  // namespace

// An entry as views into a decoded buffer or a LogEntry: what writing chunks and tails needs.
struct EntryView {
  std::uint64_t leaf = 0;
  std::int64_t time = 0;  // ms since 1970
  std::string_view host, user, ip, bytes;
  bool erased = false;
  Hash leaf_hash{};
  bool ip_keyed = true;  // false for the entry kinds written before entries had an ip key
  bool keyed = false;    // stored without its keys (kEntryKeyed), or to be
};

namespace {

// The SHA-256 of a block's or a tail batch's stored (compressed) bytes, kept in its row
// (`data_sha256`). The records' hashes cover what the bytes decompress to; this covers the bytes
// themselves, some bits of which (a zstd bit stream's padding) change no record.
std::string DataDigest(std::string_view data) {
  std::string d(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(d.data()));
  return d;
}

// The digest a row stores: none (NULL) for a row written before rows kept one.
std::optional<std::string> StoredDigest(const store::Statement& row, int column) {
  if (row.IsNull(column)) return std::nullopt;
  return row.ColumnBlob(column);
}

// "" when a row's stored bytes agree with their stored digest (or it has none), else the finding.
std::string DigestMismatch(const std::optional<std::string>& stored, std::string_view data) {
  if (!stored || *stored == DataDigest(data)) return "";
  return "its stored bytes do not match their SHA-256 (data_sha256)";
}

EntryView ViewOf(const StoredEntry& e) {
  return {e.leaf,  Ms(e.time), e.host,      e.user,     e.ip,
          e.bytes, e.erased,   e.leaf_hash, e.ip_keyed, e.keyed};
}

// Whether a live entry's keys are exactly those its content gives, so that it may be stored
// without them (kEntryKeyed).
bool KeysAreContents(EntryKeysOf keys_of, const EntryView& e) {
  if (keys_of == nullptr || e.erased || !e.ip_keyed) return false;
  ContentKeys k;
  return keys_of(e.bytes, &k) && k.time_ms == e.time && k.host == e.host && k.user == e.user &&
         k.ip == e.ip;
}

// Whether an entry appended now is stored without its keys: when the log reads keys from content
// and the caller vouched for them (LogEntry::keys_of_bytes) or they are the content's.
bool StoreWithoutKeys(EntryKeysOf keys_of, bool vouched, const EntryView& e) {
  return keys_of != nullptr && (vouched || KeysAreContents(keys_of, e));
}

// A kEntryKeyed entry's keys, read from its content; false when its content gives none.
bool TakeContentKeys(EntryKeysOf keys_of, EntryView& e) {
  ContentKeys k;
  if (keys_of == nullptr || !keys_of(e.bytes, &k)) return false;
  e.time = k.time_ms;
  e.host = k.host;
  e.user = k.user;
  e.ip = k.ip;
  e.ip_keyed = true;
  e.keyed = true;
  return true;
}

// What an entry of kind kEntryKeyed that cannot be read says.
constexpr const char* kNoContentKeys =
    "an entry stored without its keys whose content gives none (or a log read without its "
    "owner's keys)";

// The entry EncodeEntry wrote at `at` in `raw`, as views into `raw`; an erased entry's leaf hash
// is read from it, a live entry's is left to the caller. `keys_of`: the one the entry was
// written with (an entry stored without its keys was written only when its content gave them).
EntryView ViewAt(std::string_view raw, std::size_t at, EntryKeysOf keys_of) {
  const char* p = raw.data() + at;
  auto u64 = [&] {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(*p++);
    return v;
  };
  auto bytes = [&] {
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(*p++);
    const std::string_view v(p, n);
    p += n;
    return v;
  };
  EntryView e;
  const auto kind = static_cast<std::uint8_t>(*p++);
  e.erased = kind == kEntryErasedIp;
  e.leaf = u64();
  if (kind == kEntryKeyed) {
    e.bytes = bytes();
    TakeContentKeys(keys_of, e);
    return e;
  }
  e.time = static_cast<std::int64_t>(u64());
  e.host = bytes();
  e.user = bytes();
  e.ip = bytes();
  if (e.erased) {
    std::memcpy(e.leaf_hash.data(), p, e.leaf_hash.size());
  } else {
    e.bytes = bytes();
  }
  return e;
}

// One entry: kind, leaf (u64), time (ms, u64 two's complement), host, user, ip, then the content
// (kind 2) or the 32-byte leaf hash of erased content (kind 3); or, for a live entry whose keys
// are its content's (`keyed`), kind 4, leaf and content alone.
std::size_t EncodedEntrySize(const EntryView& e) {
  if (e.keyed && !e.erased) return 1 + 8 + 4 + e.bytes.size();
  return 1 + 8 + 8 + 4 + e.host.size() + 4 + e.user.size() + 4 + e.ip.size() +
         (e.erased ? 32 : 4 + e.bytes.size());
}

// Writes the entry at `p` (EncodedEntrySize(e) bytes) and returns where it ends.
char* EncodeEntryAt(char* p, const EntryView& e) {
  auto u64 = [&](std::uint64_t v) {
    for (int i = 7; i >= 0; --i) *p++ = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto bytes = [&](std::string_view b) {
    const auto n = static_cast<std::uint32_t>(b.size());
    for (int i = 3; i >= 0; --i) *p++ = static_cast<char>((n >> (8 * i)) & 0xff);
    CopyBytes(p, b.data(), b.size());
    p += b.size();
  };
  if (e.keyed && !e.erased) {
    *p++ = static_cast<char>(kEntryKeyed);
    u64(e.leaf);
    bytes(e.bytes);
    return p;
  }
  *p++ = static_cast<char>(e.erased ? kEntryErasedIp : kEntryContentIp);
  u64(e.leaf);
  u64(static_cast<std::uint64_t>(e.time));
  bytes(e.host);
  bytes(e.user);
  bytes(e.ip);
  if (e.erased) {
    std::memcpy(p, e.leaf_hash.data(), e.leaf_hash.size());
    p += e.leaf_hash.size();
  } else {
    bytes(e.bytes);
  }
  return p;
}

// Appends the entry to `out`, growing it once (callers reserve the whole buffer beforehand, so
// a block or tail batch of thousands of entries is not copied as it grows).
void EncodeEntry(std::string& out, const EntryView& e) {
  const std::size_t at = out.size();
  out.resize(at + EncodedEntrySize(e));
  EncodeEntryAt(out.data() + at, e);
}
void EncodeEntry(std::string& out, const StoredEntry& e) {
  EncodeEntry(out, ViewOf(e));
}

// Verify's check of an entry's keys against its content: "" when they agree (or the entry is
// erased, its content gone, or stored without keys, which were read from its content), else the
// finding.
std::string Misindexed(const VerifyKeys& keys, const EntryView& e) {
  if (e.erased || e.keyed) return "";
  const std::optional<std::string_view> ip =
      e.ip_keyed ? std::optional<std::string_view>(e.ip) : std::nullopt;
  const std::string why = keys(e.bytes, e.time, e.host, e.user, ip);
  return why.empty() ? why
                     : "leaf " + std::to_string(e.leaf) +
                           " is indexed under keys its record does not give: " + why;
}

std::string Compress(std::string_view raw, int level) { return CompressFrame(raw, level); }

Result<std::string> Decompress(std::string_view blob) {
  return DecompressFrame(blob, kMaxBlockBytes);
}

// Without `hash`, the leaf hash of an entry with content is left zero. `keys_of`: the log's.
Status DecodeEntries(std::string_view blob, std::vector<StoredEntry>& out, EntryKeysOf keys_of,
                     bool hash = true) {
  ISMS_ASSIGN_OR_RETURN(std::string raw, Decompress(blob));
  Reader r(raw);
  const std::size_t first = out.size();
  while (!r.done()) {
    StoredEntry e;
    std::uint8_t kind = 0;
    std::uint64_t t = 0;
    if (r.U8(kind) && kind == kEntryKeyed) {
      if (!r.U64(e.leaf) || !r.Bytes(e.bytes)) return Status::Corruption("truncated entry");
      EntryView v;
      v.bytes = e.bytes;
      if (!TakeContentKeys(keys_of, v)) return Status::Corruption(kNoContentKeys);
      e.time = FromMs(v.time);
      e.host.assign(v.host);
      e.user.assign(v.user);
      e.ip.assign(v.ip);
      e.keyed = true;
      out.push_back(std::move(e));
      continue;
    }
    if (!r.U64(e.leaf) || !r.U64(t) || !r.Bytes(e.host) || !r.Bytes(e.user)) {
      return Status::Corruption("truncated entry");
    }
    e.time = FromMs(static_cast<std::int64_t>(t));
    e.ip_keyed = kind == kEntryContentIp || kind == kEntryErasedIp;
    if (e.ip_keyed && !r.Bytes(e.ip)) {
      return Status::Corruption("truncated entry");
    }
    if (kind == kEntryContent || kind == kEntryContentIp) {
      if (!r.Bytes(e.bytes)) return Status::Corruption("truncated entry content");
    } else if (kind == kEntryErased || kind == kEntryErasedIp) {
      std::string h;
      if (!r.Fixed(32, h)) return Status::Corruption("truncated erased entry");
      std::copy(h.begin(), h.end(), e.leaf_hash.begin());
      e.erased = true;
    } else {
      return Status::Corruption("unknown entry kind " + std::to_string(kind));
    }
    out.push_back(std::move(e));
  }
  if (!hash) return Status::Ok();
  LeafHasher<StoredEntry> hasher;
  for (std::size_t i = first; i < out.size(); ++i) {
    if (!out[i].erased) hasher.Add(out[i]);
  }
  hasher.Flush();
  return Status::Ok();
}

// A row's stored bytes decoded, once they agree with the SHA-256 the row keeps (if it keeps one).
Status DecodeCheckedEntries(std::string_view blob, const std::optional<std::string>& digest,
                            std::vector<StoredEntry>& out, EntryKeysOf keys_of) {
  if (const std::string why = DigestMismatch(digest, blob); !why.empty()) {
    return Status::Corruption(why);
  }
  return DecodeEntries(blob, out, keys_of);
}

// Reads the entry at the start of `in` into `e` (views into `in`; an erased entry's leaf hash
// copied, a live entry's left as it was) and returns its size in bytes; or returns 0 when `in`
// ends inside the entry (`why` empty: more bytes may complete it) or the entry is bad (`why` says
// how). `keys_of`: the log's.
std::size_t ParseEntry(std::string_view in, EntryView& e, std::string& why, EntryKeysOf keys_of) {
  std::size_t p = 0;
  auto u64 = [&](std::uint64_t& v) {
    if (in.size() - p < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[p++]);
    return true;
  };
  auto bytes = [&](std::string_view& v) {
    if (in.size() - p < 4) return false;
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<std::uint8_t>(in[p++]);
    if (in.size() - p < n) return false;
    v = in.substr(p, n);
    p += n;
    return true;
  };
  why.clear();
  if (in.empty()) return 0;
  const auto kind = static_cast<std::uint8_t>(in[p++]);
  std::uint64_t t = 0;
  e.erased = false;
  e.keyed = false;
  e.ip = {};
  e.bytes = {};
  if (kind == kEntryKeyed) {
    if (!u64(e.leaf) || !bytes(e.bytes)) return 0;
    if (!TakeContentKeys(keys_of, e)) {
      why = kNoContentKeys;
      return 0;
    }
    return p;
  }
  if (!u64(e.leaf) || !u64(t) || !bytes(e.host) || !bytes(e.user)) return 0;
  e.time = static_cast<std::int64_t>(t);
  e.ip_keyed = kind == kEntryContentIp || kind == kEntryErasedIp;
  if (e.ip_keyed && !bytes(e.ip)) return 0;
  if (kind == kEntryContent || kind == kEntryContentIp) {
    if (!bytes(e.bytes)) return 0;
  } else if (kind == kEntryErased || kind == kEntryErasedIp) {
    if (in.size() - p < 32) return 0;
    std::copy(in.begin() + static_cast<std::ptrdiff_t>(p),
              in.begin() + static_cast<std::ptrdiff_t>(p + 32), e.leaf_hash.begin());
    p += 32;
    e.erased = true;
  } else {
    why = "unknown entry kind " + std::to_string(kind);
    return 0;
  }
  return p;
}

// The entries of a decompressed buffer, as views into it; `raw` must outlive them. Without
// `hash`, the leaf hash of an entry with content is left zero. `keys_of`: the log's.
Status DecodeViews(std::string_view raw, std::vector<EntryView>& out, EntryKeysOf keys_of,
                   bool hash = true) {
  const std::size_t first = out.size();
  std::string why;
  for (std::size_t p = 0; p < raw.size();) {
    EntryView e;
    const std::size_t n = ParseEntry(raw.substr(p), e, why, keys_of);
    if (n == 0) return Status::Corruption(why.empty() ? "truncated entry" : why);
    out.push_back(e);
    p += n;
  }
  if (hash) {
    LeafHasher<EntryView> hasher;
    for (std::size_t i = first; i < out.size(); ++i) {
      if (!out[i].erased) hasher.Add(out[i]);
    }
    hasher.Flush();
  }
  return Status::Ok();
}

// Calls `fn` with each entry of the compressed batch `blob`, in order, as views valid during the
// call (leaf hashes of live entries left zero), decompressing a piece at a time through `reader`
// (one a scan, used again for each batch: not one a thread, since `fn` may itself scan): a scan
// of a tail batch of tens of thousands of entries neither holds their decompressed bytes at once
// nor makes a view of each. Stops early, with Ok, when `fn` returns false.
Status EachEntry(FrameReader& reader, std::string_view blob, EntryKeysOf keys_of,
                 const std::function<Result<bool>(const EntryView&)>& fn) {
  ISMS_RETURN_IF_ERROR(reader.Open(blob, kMaxBlockBytes));
  std::string why;
  std::size_t want = 1;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(std::string_view avail, reader.Fill(want));
    if (avail.empty() && reader.done()) return Status::Ok();
    EntryView e;
    const std::size_t n = ParseEntry(avail, e, why, keys_of);
    if (n == 0) {
      if (!why.empty()) return Status::Corruption(why);
      if (avail.size() < want) return Status::Corruption("truncated entry");  // the frame ended
      want = avail.size() + 1;  // the entry goes on past what was read
      continue;
    }
    ISMS_ASSIGN_OR_RETURN(bool more, fn(e));
    if (!more) return Status::Ok();
    reader.Consume(n);
    want = 1;
  }
}

std::string Range(std::uint64_t start, std::uint64_t end) {
  return "leaves " + std::to_string(start) + "-" + std::to_string(end - 1);
}

}  // namespace

struct LogStore::Chunk {
  std::uint64_t no = 0;
  Hash root{};
  std::int64_t records = 0;
  std::int64_t min_time = 0;
  std::int64_t max_time = 0;
  bool purged = false;
};

// The check of one live chunk's content, self-contained so that chunks are checked in parallel.
struct LogStore::ChunkJob {
  struct Block {
    std::string host;
    std::int64_t records = 0, lo = 0, hi = 0;
    std::string data;
    std::optional<std::int64_t> kinds;  // as stored (NULL: not known)
    std::optional<std::string> digest;  // as stored (NULL: written before blocks kept one)
  };
  Chunk chunk;
  std::uint64_t size = 0;                  // leaves a chunk
  std::vector<std::uint64_t> checkpoints;  // checkpoint sizes strictly inside the chunk
  std::set<std::pair<std::string, std::string>> postings, ip_postings;  // as stored
  std::vector<Block> blocks;

  std::string bad;                 // the first problem found
  std::vector<Subtree> cover;      // AlignedCover(start, m) of each checkpoint m inside, with
  std::vector<Hash> cover_hashes;  // their hashes: what the root at m needs
  std::vector<std::uint64_t> erased;
  const VerifyVisit* visit = nullptr;  // Verify's, when given
  const VerifyKeys* keys = nullptr;
  EntryKinds kinds = nullptr;         // the log's
  EntryKeysOf keys_of = nullptr;      // the log's
  std::vector<Instant> erased_times;  // beside `erased`

  void Run() {
    const std::vector<Block> blocks = std::move(this->blocks);  // freed when done
    const auto postings = std::move(this->postings);
    const auto ip_postings = std::move(this->ip_postings);
    std::deque<std::string> raws;
    const std::uint64_t start = chunk.no * size;
    std::vector<Hash> leaves(size);
    std::vector<bool> seen(size, false);
    std::uint64_t count = 0;
    std::int64_t chunk_lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t chunk_hi = std::numeric_limits<std::int64_t>::min();
    std::vector<EntryView> entries;
    std::vector<std::pair<std::string_view, std::string_view>> want_users, want_ips;
    for (const Block& b : blocks) {
      if (const std::string why = DigestMismatch(b.digest, b.data); !why.empty() && bad.empty()) {
        bad = "block of host '" + b.host + "': " + why;
      }
      Result<std::string> raw = Decompress(b.data);
      entries.clear();
      Status d = raw.ok() ? DecodeViews(raws.emplace_back(std::move(raw).value()), entries, keys_of)
                          : raw.status();
      if (!d.ok() && bad.empty()) bad = "block of host '" + b.host + "': " + d.message();
      std::int64_t lo = std::numeric_limits<std::int64_t>::max();
      std::int64_t hi = std::numeric_limits<std::int64_t>::min();
      const std::size_t users = want_users.size(), ips = want_ips.size();
      std::uint64_t block_kinds = 0;
      for (const EntryView& e : entries) {
        if (e.host != b.host && bad.empty()) bad = "block of host '" + b.host + "' holds another";
        lo = std::min(lo, e.time);
        hi = std::max(hi, e.time);
        // A block holds one host and few users or addresses: a short list each.
        auto add = [](auto& list, std::size_t from, std::string_view key, std::string_view host) {
          for (std::size_t i = from; i < list.size(); ++i) {
            if (list[i].first == key && list[i].second == host) return;
          }
          list.emplace_back(key, host);
        };
        if (!e.user.empty()) add(want_users, users, e.user, e.host);
        if (!e.ip.empty()) add(want_ips, ips, e.ip, e.host);
        if (e.leaf < start || e.leaf >= start + size || seen[e.leaf - start]) {
          if (bad.empty()) bad = "leaf " + std::to_string(e.leaf) + " is out of place or repeated";
          continue;
        }
        seen[e.leaf - start] = true;
        leaves[e.leaf - start] = e.leaf_hash;
        ++count;
        if (keys && bad.empty()) bad = Misindexed(*keys, e);
        if (e.erased) {
          erased.push_back(e.leaf);
          erased_times.push_back(FromMs(e.time));
          continue;
        }
        block_kinds |= LiveKinds(kinds, e);
        if (visit) (*visit)(e.leaf, e.bytes);
      }
      if (bad.empty() && b.kinds && kinds == nullptr) {
        bad = "the block of host '" + b.host + "' stores kinds of records, yet its log has none";
      } else if (bad.empty() && b.kinds && static_cast<std::uint64_t>(*b.kinds) != block_kinds) {
        bad = "the kinds stored for the block of host '" + b.host + "' are not its records' kinds";
      }
      chunk_lo = std::min(chunk_lo, lo);
      chunk_hi = std::max(chunk_hi, hi);
      if (bad.empty() &&
          (static_cast<std::int64_t>(entries.size()) != b.records || lo != b.lo || hi != b.hi)) {
        bad = "the index row of host '" + b.host + "' disagrees with its block";
      }
    }
    // In leaf order, each time beside its leaf.
    std::vector<std::pair<std::uint64_t, Instant>> both;
    for (std::size_t i = 0; i < erased.size(); ++i) both.emplace_back(erased[i], erased_times[i]);
    std::sort(both.begin(), both.end());
    for (std::size_t i = 0; i < both.size(); ++i) std::tie(erased[i], erased_times[i]) = both[i];
    if (bad.empty() && count != size) {
      bad = "holds " + std::to_string(count) + " records, not " + std::to_string(size);
    }
    if (!bad.empty()) return;
    // The whole subtree, level by level: its root, and any aligned subtree inside.
    std::vector<std::vector<Hash>> levels{std::move(leaves)};
    while (levels.back().size() > 1) {
      const std::vector<Hash>& below = levels.back();
      std::vector<Hash> up(below.size() / 2);
      NodeHashes(below, up.data());
      levels.push_back(std::move(up));
    }
    if (levels.back()[0] != chunk.root) {
      bad = "its records do not hash to its stored subtree hash";
      return;
    }
    for (std::uint64_t m : checkpoints) {
      for (const Subtree& t : AlignedCover(start, m)) {
        const int level = std::countr_zero(t.size);
        cover.push_back(t);
        cover_hashes.push_back(levels[static_cast<std::size_t>(level)][(t.start - start) >> level]);
      }
    }
    if (chunk.records != static_cast<std::int64_t>(size) || chunk.min_time != chunk_lo ||
        chunk.max_time != chunk_hi) {
      bad = "the chunk row disagrees with its records";
    } else if (!SameSet(want_users, postings)) {
      bad = "the user postings disagree with its records";
    } else if (!SameSet(want_ips, ip_postings)) {
      bad = "the address postings disagree with its records";
    }
  }

  // Whether the pairs, made unique, are exactly the stored set.
  static bool SameSet(std::vector<std::pair<std::string_view, std::string_view>>& want,
                      const std::set<std::pair<std::string, std::string>>& stored) {
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    if (want.size() != stored.size()) return false;
    auto it = stored.begin();
    for (const auto& [a, b] : want) {
      if (a != it->first || b != it->second) return false;
      ++it;
    }
    return true;
  }
};

struct LogStore::Batch {
  std::uint64_t first = 0;
  std::uint64_t leaves = 0;
  Hash hash{};
  std::int64_t min_time = 0, max_time = 0;  // as stored: searches by time skip on them
  std::vector<StoredEntry> entries;
  Status decoded;
  bool digested = false;  // its row keeps the SHA-256 of its data (checked when it was decoded)
};

namespace {
std::string WithBlobs(std::string s, store::Engine engine) {
  const std::string blob = engine == store::Engine::kPostgres ? "BYTEA" : "BLOB";
  for (std::size_t p; (p = s.find("%BLOB%")) != std::string::npos;) s.replace(p, 6, blob);
  return s;
}
}  // namespace

std::string LogStore::SchemaSql(store::Engine engine) {
  return WithBlobs(kSchema, engine);
}

std::string LogStore::AddressSchemaSql(store::Engine engine) {
  return WithBlobs(kAddressSchema, engine);
}

std::string LogStore::CheckpointCountSql() {
  return "ALTER TABLE audit_logs ADD COLUMN checkpoints BIGINT NOT NULL DEFAULT 0;\n"
         "UPDATE audit_logs SET checkpoints = (SELECT COUNT(*) FROM audit_checkpoints c WHERE "
         "c.contract_id = audit_logs.contract_id AND c.log_kind = audit_logs.log_kind);\n";
}

std::string LogStore::BlockKindsSql() {
  return "ALTER TABLE audit_blocks ADD COLUMN kinds BIGINT;\n";
}

std::string LogStore::DataDigestSql(store::Engine engine) {
  return WithBlobs(
      "ALTER TABLE audit_blocks ADD COLUMN data_sha256 %BLOB%;\n"
      "ALTER TABLE audit_tail ADD COLUMN data_sha256 %BLOB%;\n",
      engine);
}

std::string LogStore::DropBlocksByHostIndexSql() {
  return "DROP INDEX IF EXISTS audit_blocks_by_host;\n";
}

std::string LogStore::BlocksWithoutKindsIndexSql() {
  return "CREATE INDEX IF NOT EXISTS audit_blocks_without_kinds ON audit_blocks (contract_id, "
         "log_kind, chunk_no) WHERE kinds IS NULL;\n";
}

LogStore::LogStore(store::Connection& conn, std::int64_t contract_id, LogKind kind, int chunk_bits,
                   EntryKinds kinds, EntryKeysOf keys_of)
    : conn_(conn),
      contract_id_(contract_id),
      log_(static_cast<int>(kind)),
      chunk_bits_(chunk_bits),
      kinds_(kinds),
      keys_of_(keys_of) {}

Status LogStore::EachRow(std::string_view sql,
                         const std::function<Status(const store::Statement&)>& fn,
                         std::initializer_list<std::int64_t> more) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(sql));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  int index = 3;
  for (std::int64_t v : more) st->BindInt(index++, v);
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) return Status::Ok();
    ISMS_RETURN_IF_ERROR(fn(*st));
  }
}

Result<LogState> LogStore::State() {
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_.Prepare("SELECT chunk_bits, size, tree FROM audit_logs WHERE "
                                      "contract_id = $1 AND log_kind = $2"));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  LogState s;
  s.chunk_bits = chunk_bits_;
  s.root = EmptyRoot();
  if (!row) return s;
  const std::int64_t bits = st->ColumnInt(0);
  // Logs are made with 1 to 30 (tests use 2; `isms` uses 8 to 20): anything else is damage,
  // which the cast to int would otherwise hide.
  if (bits < 1 || bits > 30) {
    return Status::Corruption("the stored chunk size of the log, 2^" + std::to_string(bits) +
                              ", is not one a log is made with");
  }
  s.chunk_bits = static_cast<int>(bits);
  std::string tree = st->ColumnBlob(2);
  std::int64_t size = st->ColumnInt(1);
  (void)st->Step();
  ISMS_ASSIGN_OR_RETURN(
      CompactTree t,
      CompactTree::Deserialize({reinterpret_cast<const std::uint8_t*>(tree.data()), tree.size()}));
  if (static_cast<std::int64_t>(t.Size()) != size) {
    return Status::Corruption("the stored tree state of the log disagrees with its size");
  }
  s.size = t.Size();
  s.root = t.Root();
  chunk_bits_ = s.chunk_bits;
  return s;
}

Result<int> LogStore::ChunkBits() {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  return s.chunk_bits;
}

namespace {

// FNV-1a: a host's slot in the tables that group entries by host.
std::size_t HostHash(std::string_view s) {
  std::uint64_t x = 1469598103934665603ull;
  for (const char c : s) x = (x ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<std::size_t>(x);
}

// Groups `entries` by host: `by_host` gets each host (in byte order) with its entries (in
// their order), as spans of `grouped`. An open-addressing table of the hosts (FNV-1a) and a
// counting sort: no allocation a host, a few compares an entry.
void GroupByHost(
    std::span<const EntryView> entries,
    std::vector<std::pair<std::string_view, std::span<const EntryView* const>>>& by_host,
    std::vector<const EntryView*>& grouped) {
  // A host of up to 16 bytes is also held in its slot, so that finding it compares those bytes,
  // not the bytes of the entry that first named it (a cold line among the chunk's tens of MB:
  // memcmp on it was 2 % of the server's CPU).
  constexpr std::size_t kHeld = 16;
  struct Slot {
    std::string_view host;
    std::size_t hash = 0;
    std::uint32_t id = 0;
    bool used = false;
    char held[kHeld] = {};  // the host, when it is at most kHeld bytes
    bool Holds(std::size_t x, std::string_view h) const {
      if (hash != x || host.size() != h.size()) return false;
      return h.size() <= kHeld ? EqualBytes(held, h.data(), h.size()) : host == h;
    }
  };
  // Sized for a few thousand hosts (a chunk holds few compared to its records); grown below
  // when there are more.
  std::size_t cap = 64;
  while (cap < 2 * entries.size() && cap < 4096) cap *= 2;
  std::vector<Slot> table(cap);
  std::vector<std::string_view> hosts;
  std::vector<std::uint32_t> id_of(entries.size());
  std::vector<std::size_t> count;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string_view h = entries[i].host;
    const std::size_t x = HostHash(h);
    std::size_t at = x & (cap - 1);
    while (table[at].used && !table[at].Holds(x, h)) {
      at = (at + 1) & (cap - 1);
    }
    if (!table[at].used) {
      if (hosts.size() + 1 > cap / 2) {  // more hosts than the table was sized for: grow
        std::vector<Slot> bigger(cap * 2);
        for (const Slot& s : table) {
          if (!s.used) continue;
          std::size_t b = s.hash & (cap * 2 - 1);
          while (bigger[b].used) b = (b + 1) & (cap * 2 - 1);
          bigger[b] = s;
        }
        table.swap(bigger);
        cap *= 2;
        at = x & (cap - 1);
        while (table[at].used) at = (at + 1) & (cap - 1);
      }
      table[at] = {h, x, static_cast<std::uint32_t>(hosts.size()), true};
      if (h.size() <= kHeld) CopyBytes(table[at].held, h.data(), h.size());
      hosts.push_back(h);
      count.push_back(0);
    }
    id_of[i] = table[at].id;
    ++count[table[at].id];
  }
  std::vector<std::uint32_t> order(hosts.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return hosts[a] < hosts[b]; });
  std::vector<std::size_t> start(hosts.size());
  std::size_t at = 0;
  for (std::uint32_t k : order) {
    start[k] = at;
    at += count[k];
  }
  grouped.assign(entries.size(), nullptr);
  std::vector<std::size_t> next = start;
  for (std::size_t i = 0; i < entries.size(); ++i) grouped[next[id_of[i]]++] = &entries[i];
  by_host.clear();
  by_host.reserve(hosts.size());
  for (std::uint32_t k : order) {
    by_host.emplace_back(hosts[k],
                         std::span<const EntryView* const>(grouped.data() + start[k], count[k]));
  }
}

}  // namespace

namespace {

// Rows into one table, up to kRows rows a statement (a multi-row VALUES list): a chunk writes
// thousands of block and posting rows, and one statement a row cost a round trip each on
// PostgreSQL and a statement's start and end each on SQLite. For each of `rows` rows: Row(),
// bind its values from parameter `first` on, EndRow().
class RowInserter {
 public:
  static constexpr std::size_t kRows = 64;

  // `head`: "INSERT INTO table (c1, ..., cN) VALUES " with N = `columns`.
  RowInserter(store::Connection& conn, std::string_view head, int columns, std::size_t rows)
      : conn_(conn), head_(head), columns_(columns), rows_(rows) {}

  Status Row(store::Statement*& st, int& first) {
    const std::size_t in_group = done_ % kRows;
    if (in_group == 0) {
      const std::size_t n = std::min(kRows, rows_ - done_);
      std::string sql(head_);
      int p = 1;
      for (std::size_t r = 0; r < n; ++r) {
        sql += r ? ", (" : "(";
        for (int c = 0; c < columns_; ++c) {
          if (c) sql += ", ";
          sql += '$';
          sql += std::to_string(p++);
        }
        sql += ')';
      }
      st_.reset();  // back to the connection's cache, to be taken again for a group as long
      ISMS_ASSIGN_OR_RETURN(st_, conn_.Prepare(sql));
    }
    st = st_.get();
    first = static_cast<int>(in_group) * columns_ + 1;
    return Status::Ok();
  }
  // Runs the statement once all its rows are bound.
  Status EndRow() {
    ++done_;
    if (done_ % kRows == 0 || done_ == rows_) return st_->Run();
    return Status::Ok();
  }

 private:
  store::Connection& conn_;
  std::string_view head_;
  int columns_;
  std::size_t rows_;
  std::size_t done_ = 0;
  std::unique_ptr<store::Statement> st_;
};

// (key, host) pairs: posting rows.
using KeyPairs = std::vector<std::pair<std::string_view, std::string_view>>;

// Sorts the pairs appended to `keys` since `from` and drops the repeated ones.
void SortUnique(KeyPairs& keys, std::size_t from) {
  const auto begin = keys.begin() + static_cast<std::ptrdiff_t>(from);
  std::sort(begin, keys.end());
  keys.erase(std::unique(begin, keys.end()), keys.end());
}

// Appends to `users` and `ips` the (key, host) pairs of the distinct user and address keys of
// one host's entries, each sorted: a vector sorted once (the entries of a host mostly repeat a
// few users), not a tree that compares strings at every insertion.
void PostingKeys(std::string_view host, std::span<const EntryView* const> entries, KeyPairs& users,
                 KeyPairs& ips) {
  const std::size_t u0 = users.size(), i0 = ips.size();
  for (const EntryView* e : entries) {
    if (!e->user.empty() && (users.size() == u0 || users.back().first != e->user)) {
      users.emplace_back(e->user, host);
    }
    if (!e->ip.empty() && (ips.size() == i0 || ips.back().first != e->ip)) {
      ips.emplace_back(e->ip, host);
    }
  }
  SortUnique(users, u0);
  SortUnique(ips, i0);
}

}  // namespace

Status LogStore::InsertPostings(
    std::uint64_t chunk_no, std::span<const std::pair<std::string_view, std::string_view>> users,
    std::span<const std::pair<std::string_view, std::string_view>> ips) {
  for (const auto* keys : {&users, &ips}) {
    RowInserter rows(conn_,
                     keys == &users ? "INSERT INTO audit_postings (contract_id, log_kind, "
                                      "user_key, chunk_no, host) VALUES "
                                    : "INSERT INTO audit_ip_postings (contract_id, log_kind, "
                                      "ip, chunk_no, host) VALUES ",
                     5, keys->size());
    for (const auto& [key, host] : *keys) {
      store::Statement* post = nullptr;
      int p = 0;
      ISMS_RETURN_IF_ERROR(rows.Row(post, p));
      post->BindInt(p, contract_id_);
      post->BindInt(p + 1, log_);
      post->BindBlob(p + 2, key);
      post->BindInt(p + 3, static_cast<std::int64_t>(chunk_no));
      post->BindBlob(p + 4, host);
      ISMS_RETURN_IF_ERROR(rows.EndRow());
    }
  }
  return Status::Ok();
}

Status LogStore::WritePostings(std::uint64_t chunk_no, std::string_view host,
                               std::span<const EntryView* const> entries) {
  std::vector<std::pair<std::string_view, std::string_view>> users, ips;
  PostingKeys(host, entries, users, ips);
  return InsertPostings(chunk_no, users, ips);
}

struct LogStore::BlockRow {
  std::string_view host;
  std::size_t records = 0;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  std::uint64_t kinds = 0;
  std::string data;    // compressed
  std::string digest;  // DataDigest(data), taken where it was compressed (while in the cache)
};

namespace {

// Calls build(from, to, part) over [0, n): on this thread (part 0), and, when `two`, also on a
// second one (part 1), each taking about half of the total of weight(k).
template <typename Weight, typename Build>
void SplitOnTwoThreads(std::size_t n, bool two, const Weight& weight, const Build& build) {
  std::size_t split = n;
  if (two && n > 1) {
    std::size_t total = 0;
    for (std::size_t k = 0; k < n; ++k) total += weight(k);
    std::size_t half = 0;
    split = 0;
    while (split + 1 < n && 2 * half < total) half += weight(split++);
  }
  if (split < n) {
    OnTwoThreads([&] { build(0, split, 0); }, [&] { build(split, n, 1); });
  } else {
    build(0, n, 0);
  }
}

}  // namespace

Status LogStore::WriteChunk(std::uint64_t chunk_no, std::span<const EntryView> entries,
                            const Hash* root) {
  // The entries of each host, in leaf order; blocks are written in host order.
  std::vector<Hash> leaves;
  if (root == nullptr) leaves.reserve(entries.size());
  std::int64_t min_t = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_t = std::numeric_limits<std::int64_t>::min();
  for (const EntryView& e : entries) {
    if (root == nullptr) leaves.push_back(e.leaf_hash);
    min_t = std::min(min_t, e.time);
    max_t = std::max(max_t, e.time);
  }
  std::vector<std::pair<std::string_view, std::span<const EntryView* const>>> by_host;
  std::vector<const EntryView*> grouped;
  GroupByHost(entries, by_host, grouped);
  // Each host's block, encoded and compressed, with its time range, kinds and posting keys:
  // built apart from the store, by this thread and (for a large chunk) a second one, each taking
  // the hosts of about half the entries. The rows are then written in host order.
  std::vector<BlockRow> rows(by_host.size());
  KeyPairs users[2], ips[2];
  const auto build = [&](std::size_t from, std::size_t to, int part) {
    std::string raw;
    for (std::size_t k = from; k < to; ++k) {
      const auto& [host, list] = by_host[k];
      BlockRow& b = rows[k];
      b.host = host;
      b.records = list.size();
      raw.clear();
      std::size_t need = 0;
      for (const EntryView* e : list) need += EncodedEntrySize(*e);
      raw.reserve(need);
      // A host's entries lie far apart in memory (a chunk of records is tens of MB): their
      // bytes are fetched a few entries ahead, so that the copies do not wait for memory one by
      // one.
      constexpr std::size_t kAhead = 4;
      for (std::size_t j = 0; j < list.size(); ++j) {
        if (j + 2 * kAhead < list.size()) __builtin_prefetch(list[j + 2 * kAhead]);
        if (j + kAhead < list.size()) {
          const std::string_view bytes = list[j + kAhead]->bytes;
          for (std::size_t off = 0; off < bytes.size(); off += 64) {
            __builtin_prefetch(bytes.data() + off);
          }
          __builtin_prefetch(list[j + kAhead]->host.data());
        }
        const EntryView* e = list[j];
        EncodeEntry(raw, *e);
        b.lo = std::min(b.lo, e->time);
        b.hi = std::max(b.hi, e->time);
        b.kinds |= LiveKinds(kinds_, *e);
      }
      PostingKeys(host, list, users[part], ips[part]);
      b.data = Compress(raw, kBlockLevel);
      b.digest = DataDigest(b.data);
    }
  };
  SplitOnTwoThreads(
      by_host.size(), entries.size() >= two_thread_entries_,
      [&](std::size_t k) { return by_host[k].second.size(); }, build);
  for (KeyPairs* keys : {users, ips}) keys[0].insert(keys[0].end(), keys[1].begin(), keys[1].end());
  return InsertChunk(chunk_no, rows, users[0], ips[0], root != nullptr ? *root : MerkleRoot(leaves),
                     entries.size(), min_t, max_t);
}

Status LogStore::InsertChunk(std::uint64_t chunk_no, std::span<const BlockRow> blocks,
                             std::span<const std::pair<std::string_view, std::string_view>> users,
                             std::span<const std::pair<std::string_view, std::string_view>> ips,
                             const Hash& root, std::size_t records, std::int64_t min_t,
                             std::int64_t max_t) {
  RowInserter inserter(conn_,
                       "INSERT INTO audit_blocks (contract_id, log_kind, chunk_no, host, records, "
                       "min_time, max_time, data, kinds, data_sha256) VALUES ",
                       10, blocks.size());
  for (const BlockRow& b : blocks) {
    store::Statement* block = nullptr;
    int p = 0;
    ISMS_RETURN_IF_ERROR(inserter.Row(block, p));
    block->BindInt(p, contract_id_);
    block->BindInt(p + 1, log_);
    block->BindInt(p + 2, static_cast<std::int64_t>(chunk_no));
    block->BindBlob(p + 3, b.host);
    block->BindInt(p + 4, static_cast<std::int64_t>(b.records));
    block->BindInt(p + 5, b.lo);
    block->BindInt(p + 6, b.hi);
    block->BindBlob(p + 7, b.data);
    BindKinds(*block, p + 8, kinds_, b.kinds);
    block->BindBlob(p + 9, b.digest);
    ISMS_RETURN_IF_ERROR(inserter.EndRow());
  }
  ISMS_RETURN_IF_ERROR(InsertPostings(chunk_no, users, ips));
  ISMS_ASSIGN_OR_RETURN(auto chunk,
                        conn_.Prepare("INSERT INTO audit_chunks (contract_id, log_kind, chunk_no, "
                                      "root, records, min_time, max_time) VALUES ($1, $2, $3, "
                                      "$4, $5, $6, $7)"));
  chunk->BindInt(1, contract_id_);
  chunk->BindInt(2, log_);
  chunk->BindInt(3, static_cast<std::int64_t>(chunk_no));
  chunk->BindBlob(4, HashBytes(root));
  chunk->BindInt(5, static_cast<std::int64_t>(records));
  chunk->BindInt(6, min_t);
  chunk->BindInt(7, max_t);
  return chunk->Run();
}

Status LogStore::WriteStagedChunk(std::uint64_t chunk_no, const StagedEntries& staged,
                                  const Hash& root) {
  using Host = StagedEntries::Host;
  std::vector<const Host*> hosts(staged.used_);
  for (std::size_t k = 0; k < hosts.size(); ++k) hosts[k] = &staged.hosts_[k];
  std::sort(hosts.begin(), hosts.end(),
            [](const Host* a, const Host* b) { return a->key < b->key; });
  std::vector<BlockRow> rows(hosts.size());
  KeyPairs users[2], ips[2];
  std::int64_t min_t = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_t = std::numeric_limits<std::int64_t>::min();
  for (std::size_t k = 0; k < hosts.size(); ++k) {
    const Host& h = *hosts[k];
    rows[k] = {h.key, h.records, h.lo, h.hi, h.kinds, {}, {}};
    min_t = std::min(min_t, h.lo);
    max_t = std::max(max_t, h.hi);
  }
  const auto build = [&](std::size_t from, std::size_t to, int part) {
    for (std::size_t k = from; k < to; ++k) {
      const Host& h = *hosts[k];
      for (const auto& [offsets, keys, key] : {std::tuple{&h.users, &users[part], &EntryView::user},
                                               std::tuple{&h.ips, &ips[part], &EntryView::ip}}) {
        const std::size_t from_key = keys->size();
        for (const std::size_t at : *offsets)
          keys->emplace_back(ViewAt(h.raw.view(), at, staged.keys_of_).*key, h.key);
        SortUnique(*keys, from_key);
      }
      rows[k].data = Compress(h.raw.view(), kBlockLevel);
      rows[k].digest = DataDigest(rows[k].data);
    }
  };
  SplitOnTwoThreads(
      hosts.size(), staged.size() >= two_thread_entries_,
      [&](std::size_t k) { return hosts[k]->raw.view().size(); }, build);
  for (KeyPairs* keys : {users, ips}) keys[0].insert(keys[0].end(), keys[1].begin(), keys[1].end());
  return InsertChunk(chunk_no, rows, users[0], ips[0], root, staged.size(), min_t, max_t);
}

char* StagedEntries::Buffer::Extend(std::size_t n) {
  if (capacity_ - size_ < n) {
    // Doubling, from a few entries' room: a chunk may hold tens of thousands of hosts with an
    // entry or two each.
    const std::size_t want = std::max({std::size_t{1024}, 2 * capacity_, size_ + n});
    std::unique_ptr<char[]> bigger(new char[want]);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = want;
  }
  char* const p = data_.get() + size_;
  size_ += n;
  return p;
}

void StagedEntries::Start(std::uint64_t first) {
  first_ = first;
  // The hosts of the last entries keep their memory for the next ones (mostly the same hosts);
  // any more, left from an earlier batch with more hosts, are freed.
  if (used_ > 0) hosts_.resize(used_);
  for (std::size_t k = 0; k < used_; ++k) {
    Host& h = hosts_[k];
    h.raw.Clear();
    h.users.clear();
    h.ips.clear();
    h.last_user.clear();
    h.last_ip.clear();
  }
  used_ = 0;
  std::fill(slots_.begin(), slots_.end(), 0);
  leaves_.clear();
  at_.clear();
}

void StagedEntries::Add(LogEntry& e) {
  if (!e.hashed) {
    e.leaf_hash = LeafHash(e.bytes);
    e.hashed = true;
  }
  const std::size_t x = HostHash(e.host);
  if (2 * (used_ + 1) > slots_.size()) {  // the table, at most half full
    slots_.assign(std::max<std::size_t>(64, 2 * slots_.size()), 0);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t k = 0; k < used_; ++k) {
      std::size_t at = hosts_[k].hash & mask;
      while (slots_[at] != 0) at = (at + 1) & mask;
      slots_[at] = static_cast<std::uint32_t>(k + 1);
    }
  }
  const std::size_t mask = slots_.size() - 1;
  std::size_t at = x & mask;
  while (slots_[at] != 0) {
    const Host& h = hosts_[slots_[at] - 1];
    if (h.hash == x && h.key == e.host) break;
    at = (at + 1) & mask;
  }
  if (slots_[at] == 0) {
    if (used_ == hosts_.size()) hosts_.emplace_back();
    Host& h = hosts_[used_++];
    h.key.assign(e.host);
    h.hash = x;
    h.records = 0;
    h.lo = std::numeric_limits<std::int64_t>::max();
    h.hi = std::numeric_limits<std::int64_t>::min();
    h.kinds = 0;
    slots_[at] = static_cast<std::uint32_t>(used_);
  }
  const std::uint32_t id = slots_[at] - 1;
  Host& h = hosts_[id];
  const std::size_t offset = h.raw.view().size();
  EntryView v{
      first_ + leaves_.size(), Ms(e.time), e.host, e.user, e.ip, e.bytes, false, e.leaf_hash};
  v.keyed = StoreWithoutKeys(keys_of_, e.keys_of_bytes, v);
  char* const end = EncodeEntryAt(h.raw.Extend(EncodedEntrySize(v)), v);
  // The lines this host's next entry will be written to, fetched for writing now: it comes a
  // host count of entries later, when these lines would have left the cache, and a block's
  // buffers together are far larger than the cache.
  for (std::size_t off = 0; off < 320; off += 64) __builtin_prefetch(end + off, 1);
  ++h.records;
  h.lo = std::min(h.lo, v.time);
  h.hi = std::max(h.hi, v.time);
  h.kinds |= LiveKinds(kinds_, v);
  if (!e.user.empty() && e.user != h.last_user) {
    h.users.push_back(offset);
    h.last_user.assign(e.user);
  }
  if (!e.ip.empty() && e.ip != h.last_ip) {
    h.ips.push_back(offset);
    h.last_ip.assign(e.ip);
  }
  leaves_.push_back(e.leaf_hash);
  at_.emplace_back(id, offset);
}

namespace {

// The tail batches this thread wrote lately, compressed and not: when a chunk completes, a
// stored batch whose bytes are exactly those of one here is not decompressed or decoded again (a
// long-lived writer compresses each batch once and never reads it back). Only byte-for-byte equal
// blobs match, so a stale, erased or damaged batch is simply decompressed. At most kTailMemoBytes
// of uncompressed entries, the oldest dropped first.
constexpr std::size_t kTailMemoBytes = std::size_t{64} << 20;
struct TailMemo {
  struct Batch {
    std::string compressed, raw;
    std::vector<EntryView> views;  // the entries, as views into `raw`
  };
  std::deque<Batch> batches;
  std::size_t bytes = 0;

  // `raw` holds `entries` encoded by EncodeEntry, in order, with `keys_of`. Both strings are
  // taken, not copied.
  void Add(std::string&& compressed, std::string&& raw, std::span<const EntryView> entries,
           EntryKeysOf keys_of) {
    if (raw.size() > kTailMemoBytes) return;
    while (!batches.empty() && bytes + raw.size() > kTailMemoBytes) {
      bytes -= batches.front().raw.size();
      batches.pop_front();
    }
    Batch& b = batches.emplace_back();
    b.compressed = std::move(compressed);
    b.raw = std::move(raw);
    bytes += b.raw.size();
    b.views.reserve(entries.size());
    const char* base = b.raw.data();
    std::size_t at = 0;
    for (const EntryView& e : entries) {
      EntryView v = ViewAt({base, b.raw.size()}, at, keys_of);
      v.leaf_hash = e.leaf_hash;
      at += EncodedEntrySize(e);
      b.views.push_back(v);
    }
  }

  // When `blob` is here: moves its raw entries into `raw` and appends their views (into `raw`)
  // to `views`, as DecodeViews would, leaf hashes included.
  bool Take(std::string_view blob, std::string& raw, std::vector<EntryView>& views) {
    for (auto it = batches.begin(); it != batches.end(); ++it) {
      if (it->compressed.size() != blob.size() ||
          std::memcmp(it->compressed.data(), blob.data(), blob.size()) != 0) {
        continue;
      }
      const char* const was = it->raw.data();
      raw = std::move(it->raw);
      const bool kept = raw.data() == was;  // the views point into this buffer
      if (kept) views.insert(views.end(), it->views.begin(), it->views.end());
      bytes -= raw.size();
      batches.erase(it);
      return kept;
    }
    return false;
  }
};
thread_local TailMemo tail_memo;

}  // namespace

Status LogStore::WriteTail(std::span<const EntryView> entries) {
  if (entries.empty()) return Status::Ok();
  // Several MB a batch; the memo takes it afterwards (isms serve's allocator keeps such freed
  // buffers in the heap, so the next one is not faulted in again).
  std::string raw;
  std::size_t need = 0;
  for (const EntryView& e : entries) need += EncodedEntrySize(e);
  raw.reserve(need);
  std::vector<Hash> leaves;
  leaves.reserve(entries.size());
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (const EntryView& e : entries) {
    EncodeEntry(raw, e);
    leaves.push_back(e.leaf_hash);
    lo = std::min(lo, e.time);
    hi = std::max(hi, e.time);
  }
  ISMS_ASSIGN_OR_RETURN(auto ins,
                        conn_.Prepare("INSERT INTO audit_tail (contract_id, log_kind, "
                                      "first_leaf, leaves, hash, min_time, max_time, data, "
                                      "data_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"));
  ins->BindInt(1, contract_id_);
  ins->BindInt(2, log_);
  ins->BindInt(3, static_cast<std::int64_t>(entries.front().leaf));
  ins->BindInt(4, static_cast<std::int64_t>(entries.size()));
  ins->BindBlob(5, HashBytes(MerkleRoot(leaves)));
  ins->BindInt(6, lo);
  ins->BindInt(7, hi);
  std::string compressed = Compress(raw, kTailLevel);
  ins->BindBlob(8, compressed);
  ins->BindBlob(9, DataDigest(compressed));
  ISMS_RETURN_IF_ERROR(ins->Run());
  tail_memo.Add(std::move(compressed), std::move(raw), entries, keys_of_);
  return Status::Ok();
}

Status LogStore::Append(std::span<const LogEntry> entries) {
  std::vector<LogEntry> copy(entries.begin(), entries.end());
  return Append(copy);
}

Status LogStore::Append(std::vector<LogEntry>& entries, TailHashes* tail) {
  std::vector<LogEntry*> each(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) each[i] = &entries[i];
  return Append(std::span<LogEntry* const>(each), tail);
}

Status LogStore::Append(std::span<LogEntry* const> entries, TailHashes* tail) {
  if (entries.empty()) return Status::Ok();
  const auto hash = [&](std::size_t from, std::size_t to) {
    LeafHasher<LogEntry> hasher;
    for (std::size_t i = from; i < to; ++i) {
      if (!entries[i]->hashed) hasher.Add(*entries[i]);
    }
    hasher.Flush();
  };
  if (entries.size() >= two_thread_entries_) {
    const std::size_t half = entries.size() / 2;
    OnTwoThreads([&] { hash(0, half); }, [&] { hash(half, entries.size()); });
  } else {
    hash(0, entries.size());
  }
  // The views of the entries, in memory the thread keeps from one append to the next: a busy
  // writer's batch is a chunk of views (several MB), which a new vector faulted in page by page.
  thread_local std::vector<EntryView> views;
  views.resize(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    LogEntry& e = *entries[i];
    e.hashed = true;
    views[i] = {0, Ms(e.time), e.host, e.user, e.ip, e.bytes, false, e.leaf_hash};
    views[i].keyed = StoreWithoutKeys(keys_of_, e.keys_of_bytes, views[i]);
  }
  return AppendViews(views, tail, nullptr);
}

Status LogStore::Append(StagedEntries& staged, TailHashes* tail) {
  if (staged.empty()) return Status::Ok();
  return AppendViews({}, tail, &staged);
}

Status LogStore::AppendViews(std::span<EntryView> fresh, TailHashes* tail,
                             const StagedEntries* staged) {
  TailHashes unused;
  if (tail == nullptr) tail = &unused;
  const bool cached = tail->valid;
  tail->valid = false;  // until this append succeeds
  if (conn_.engine() == store::Engine::kPostgres) {
    // Two writers of one log (two `isms serve` nodes, or an ingest beside a server) would both
    // append after the same size: the second waits here until the first commits. (SQLite's
    // BEGIN IMMEDIATE already serialises writers.)
    ISMS_ASSIGN_OR_RETURN(auto lock, conn_.Prepare("SELECT pg_advisory_xact_lock($1)"));
    lock->BindInt(1, (std::int64_t{0x15A5} << 40) | (contract_id_ << 1) | log_);
    ISMS_RETURN_IF_ERROR(lock->Run());
  }
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT chunk_bits, tree FROM audit_logs WHERE "
                                               "contract_id = $1 AND log_kind = $2"));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  ISMS_ASSIGN_OR_RETURN(bool exists, st->Step());
  CompactTree tree;
  if (exists) {
    chunk_bits_ = static_cast<int>(st->ColumnInt(0));
    std::string blob = st->ColumnBlob(1);
    (void)st->Step();
    ISMS_ASSIGN_OR_RETURN(tree,
                          CompactTree::Deserialize(
                              {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}));
  }
  const std::uint64_t chunk = std::uint64_t{1} << chunk_bits_;
  const std::uint64_t size = tree.Size();
  // Staged entries that make exactly the next chunk are written as their blocks; others are
  // taken one by one, as views into their blocks.
  const bool whole = staged != nullptr && staged->first_ == size && size % chunk == 0 &&
                     staged->size() == chunk && staged->kinds_ == kinds_ &&
                     staged->keys_of_ == keys_of_;
  thread_local std::vector<EntryView> from_staged;
  if (staged != nullptr && !whole) {
    from_staged.resize(staged->size());
    for (std::size_t i = 0; i < staged->size(); ++i) {
      const auto [host, at] = staged->at_[i];
      from_staged[i] = ViewAt(staged->hosts_[host].raw.view(), at, staged->keys_of_);
      from_staged[i].leaf_hash = staged->leaves_[i];
      // Whether it is stored without its keys is this log's to say (as staged when the staged
      // entries were made for logs like it).
      if (staged->keys_of_ != keys_of_) {
        from_staged[i].keyed = KeysAreContents(keys_of_, from_staged[i]);
      }
    }
    fresh = from_staged;
  }
  thread_local std::vector<Hash> own_leaves;
  if (!whole) {
    own_leaves.resize(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      fresh[i].leaf = size + i;
      own_leaves[i] = fresh[i].leaf_hash;
    }
  }
  const std::span<const Hash> leaves =
      whole ? std::span<const Hash>(staged->leaves_) : std::span<const Hash>(own_leaves);
  // The subtree hash of each chunk these entries complete, by chunk number: the tree's merge
  // computes it, so WriteChunk need not hash the chunk's 2^k leaves again.
  std::map<std::uint64_t, Hash> chunk_roots;
  std::vector<Hash> completed;
  tree.AppendAll(leaves, chunk_bits_, &completed);
  for (std::size_t j = 0; j < completed.size(); ++j) {
    chunk_roots[(size >> chunk_bits_) + j] = completed[j];
  }
  const bool fits =
      cached && tail->first == size - size % chunk && tail->hashes.size() == size % chunk;
  if (whole) {
    // The log ends at a chunk boundary, so its tail is empty (as an append that completes
    // chunks checks in general).
    bool stray = false;
    ISMS_RETURN_IF_ERROR(EachRow(
        "SELECT first_leaf FROM audit_tail WHERE contract_id = $1 AND log_kind = $2 LIMIT 1",
        [&](const store::Statement&) {
          stray = true;
          return Status::Ok();
        }));
    if (stray) {
      return Status::Corruption("the tail of the log holds entries, expected none after leaf " +
                                std::to_string(size) + ": run isms audit verify");
    }
    ISMS_RETURN_IF_ERROR(WriteStagedChunk(size / chunk, *staged, completed.at(0)));
    tail->first = size + chunk;
    tail->hashes.clear();
    tail->valid = true;
  } else if ((size + fresh.size()) / chunk == size / chunk) {
    ISMS_RETURN_IF_ERROR(WriteTail(fresh));
    if (fits || size % chunk == 0) {
      tail->first = size - size % chunk;
      if (!fits) tail->hashes.clear();
      for (const EntryView& e : fresh) tail->hashes.push_back(e.leaf_hash);
      tail->valid = true;
    }
  } else {
    // The tail and the new entries make complete chunks: views into the decompressed tail.
    std::deque<std::string> raws;  // stable: the views point into them
    std::vector<EntryView> pending;
    pending.reserve(size % chunk + fresh.size());
    ISMS_RETURN_IF_ERROR(EachRow(
        "SELECT first_leaf, data FROM audit_tail WHERE contract_id = $1 AND log_kind = $2 "
        "ORDER BY first_leaf",
        [&](const store::Statement& row) -> Status {
          const std::string where = "tail batch at leaf " + std::to_string(row.ColumnInt(0));
          const std::string blob = row.ColumnBlob(1);
          if (tail_memo.Take(blob, raws.emplace_back(), pending)) return Status::Ok();
          raws.pop_back();
          Result<std::string> raw = Decompress(blob);
          if (!raw.ok()) return raw.status().WithContext(where);
          raws.push_back(std::move(raw).value());
          return DecodeViews(raws.back(), pending, keys_of_, !fits).WithContext(where);
        }));
    if (fits && pending.size() == tail->hashes.size()) {
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (!pending[i].erased) pending[i].leaf_hash = tail->hashes[i];
      }
    } else if (fits) {
      LeafHasher<EntryView> hasher;
      for (EntryView& e : pending) {
        if (!e.erased) hasher.Add(e);
      }
      hasher.Flush();
    }
    bool in_order = pending.size() == size % chunk;
    for (std::size_t i = 0; in_order && i < pending.size(); ++i) {
      in_order = pending[i].leaf == size - pending.size() + i;
    }
    if (!in_order) {
      return Status::Corruption("the tail of the log holds " + std::to_string(pending.size()) +
                                " entries, expected leaves " + std::to_string(size - size % chunk) +
                                " to " + std::to_string(size) + " in order: run isms audit verify");
    }
    // With no tail (a batch that starts a chunk, as a busy server's do), the new entries are
    // the chunks' entries as they are.
    if (!pending.empty()) pending.insert(pending.end(), fresh.begin(), fresh.end());
    const std::span<const EntryView> all =
        pending.empty() ? std::span<const EntryView>(fresh) : std::span<const EntryView>(pending);
    ISMS_ASSIGN_OR_RETURN(auto del, conn_.Prepare("DELETE FROM audit_tail WHERE contract_id = $1 "
                                                  "AND log_kind = $2"));
    del->BindInt(1, contract_id_);
    del->BindInt(2, log_);
    ISMS_RETURN_IF_ERROR(del->Run());
    std::size_t done = 0;
    while (all.size() - done >= chunk) {
      const std::uint64_t chunk_no = all[done].leaf / chunk;
      const auto root = chunk_roots.find(chunk_no);
      ISMS_RETURN_IF_ERROR(WriteChunk(chunk_no, all.subspan(done, chunk),
                                      root == chunk_roots.end() ? nullptr : &root->second));
      done += chunk;
    }
    ISMS_RETURN_IF_ERROR(WriteTail(all.subspan(done)));
    tail->first = done < all.size() ? all[done].leaf : size + fresh.size();
    tail->hashes.clear();
    for (std::size_t i = done; i < all.size(); ++i) tail->hashes.push_back(all[i].leaf_hash);
    tail->valid = true;
  }
  std::vector<std::uint8_t> ser = tree.Serialize();
  std::string tree_blob(ser.begin(), ser.end());
  ISMS_ASSIGN_OR_RETURN(
      auto up, conn_.Prepare(exists ? "UPDATE audit_logs SET size = $3, tree = $4 WHERE "
                                      "contract_id = $1 AND log_kind = $2"
                                    : "INSERT INTO audit_logs (contract_id, log_kind, size, tree, "
                                      "chunk_bits, checkpoints) VALUES ($1, $2, $3, $4, $5, "
                                      "(SELECT COUNT(*) FROM audit_checkpoints WHERE contract_id "
                                      "= $1 AND log_kind = $2))"));
  up->BindInt(1, contract_id_);
  up->BindInt(2, log_);
  up->BindInt(3, static_cast<std::int64_t>(tree.Size()));
  up->BindBlob(4, tree_blob);
  if (!exists) up->BindInt(5, chunk_bits_);
  return up->Run();
}

Status LogStore::LoadChunks(std::vector<Chunk>& out) {
  ISMS_RETURN_IF_ERROR(EachRow(
      "SELECT chunk_no, root, records, min_time, "
      "max_time, purged_at FROM audit_chunks WHERE "
      "contract_id = $1 AND log_kind = $2 ORDER BY "
      "chunk_no",
      [&](const store::Statement& st) -> Status {
        Chunk c;
        c.no = static_cast<std::uint64_t>(st.ColumnInt(0));
        ISMS_ASSIGN_OR_RETURN(
            c.root, HashFromBytes(st.ColumnBlob(1), "the root of chunk " + std::to_string(c.no)));
        c.records = st.ColumnInt(2);
        c.min_time = st.ColumnInt(3);
        c.max_time = st.ColumnInt(4);
        c.purged = !st.IsNull(5);
        out.push_back(c);
        return Status::Ok();
      }));
  return Status::Ok();
}

Result<std::uint64_t> LogStore::BlocksWithoutKinds() {
  std::uint64_t n = 0;
  ISMS_RETURN_IF_ERROR(
      EachRow("SELECT COUNT(*) FROM audit_blocks WHERE contract_id = $1 AND "
              "log_kind = $2 AND kinds IS NULL",
              [&](const store::Statement& row) -> Status {
                n = static_cast<std::uint64_t>(row.ColumnInt(0));
                return Status::Ok();
              }));
  return n;
}

Result<std::vector<std::uint64_t>> LogStore::ChunksWithBlocksLacking(
    std::string_view column, std::uint64_t from, std::size_t max_chunks,
    std::optional<std::uint64_t>& next) {
  // One more than asked for: it tells where to go on.
  std::vector<std::uint64_t> chunks;
  ISMS_RETURN_IF_ERROR(EachRow(
      "SELECT DISTINCT chunk_no FROM audit_blocks WHERE contract_id = $1 AND log_kind = $2 AND "
      "chunk_no >= $3 AND " +
          std::string(column) + " IS NULL ORDER BY chunk_no LIMIT $4",
      [&](const store::Statement& row) -> Status {
        chunks.push_back(static_cast<std::uint64_t>(row.ColumnInt(0)));
        return Status::Ok();
      },
      {static_cast<std::int64_t>(from), static_cast<std::int64_t>(max_chunks) + 1}));
  next.reset();
  if (chunks.size() > max_chunks) {
    next = chunks.back();
    chunks.pop_back();
  }
  return chunks;
}

Result<std::uint64_t> LogStore::FillBlocksLacking(std::string_view column, std::uint64_t chunk_no,
                                                  const BlockValue& value) {
  // Every value first, so that an error stores nothing of the chunk.
  std::vector<std::pair<std::string, BlockColumn>> found;  // host, value
  ISMS_RETURN_IF_ERROR(EachRow(
      "SELECT host, data FROM audit_blocks WHERE contract_id = $1 AND log_kind = $2 AND "
      "chunk_no = $3 AND " +
          std::string(column) + " IS NULL ORDER BY host",
      [&](const store::Statement& row) -> Status {
        std::string host = row.ColumnBlob(0);
        Result<BlockColumn> v = value(row.ColumnBlob(1));
        if (!v.ok()) {
          return v.status().WithContext("chunk " + std::to_string(chunk_no) + ", block of host '" +
                                        host + "' (run isms audit verify)");
        }
        found.emplace_back(std::move(host), std::move(v).value());
        return Status::Ok();
      },
      {static_cast<std::int64_t>(chunk_no)}));
  // The blocks are found through their key (contract, log, chunk, host).
  ISMS_ASSIGN_OR_RETURN(auto up, conn_.Prepare("UPDATE audit_blocks SET " + std::string(column) +
                                               " = $4 WHERE contract_id = $1 AND log_kind = $2 "
                                               "AND chunk_no = $3 AND host = $5"));
  for (const auto& [host, v] : found) {
    up->BindInt(1, contract_id_);
    up->BindInt(2, log_);
    up->BindInt(3, static_cast<std::int64_t>(chunk_no));
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      up->BindInt(4, *n);
    } else {
      up->BindBlob(4, std::get<std::string>(v));
    }
    up->BindBlob(5, host);
    ISMS_RETURN_IF_ERROR(up->Run());
  }
  return static_cast<std::uint64_t>(found.size());
}

Result<LogStore::KindsFill> LogStore::FillKinds(std::uint64_t from, std::size_t max_chunks) {
  KindsFill fill;
  if (kinds_ == nullptr) return fill;
  ISMS_ASSIGN_OR_RETURN(const std::vector<std::uint64_t> chunks,
                        ChunksWithBlocksLacking("kinds", from, max_chunks, fill.next));
  std::vector<EntryView> entries;
  for (const std::uint64_t chunk_no : chunks) {
    ISMS_ASSIGN_OR_RETURN(
        const std::uint64_t n,
        FillBlocksLacking("kinds", chunk_no, [&](std::string_view data) -> Result<BlockColumn> {
          ISMS_ASSIGN_OR_RETURN(const std::string raw, Decompress(data));
          entries.clear();
          ISMS_RETURN_IF_ERROR(DecodeViews(raw, entries, keys_of_, /*hash=*/false));
          std::uint64_t kinds = 0;
          for (const EntryView& e : entries) kinds |= LiveKinds(kinds_, e);
          return BlockColumn(static_cast<std::int64_t>(kinds));
        }));
    fill.blocks += n;
    ++fill.chunks;
  }
  return fill;
}

Result<LogStore::DigestFill> LogStore::FillDigests(std::uint64_t from, std::size_t max_chunks) {
  DigestFill fill;
  if (from == 0) {
    std::vector<std::pair<std::int64_t, std::string>> batches;  // first leaf, SHA-256
    ISMS_RETURN_IF_ERROR(EachRow(
        "SELECT first_leaf, leaves, data FROM audit_tail WHERE contract_id = $1 AND log_kind = "
        "$2 AND data_sha256 IS NULL ORDER BY first_leaf",
        [&](const store::Statement& row) -> Status {
          const auto first = static_cast<std::uint64_t>(row.ColumnInt(0));
          const auto leaves = static_cast<std::uint64_t>(row.ColumnInt(1));
          const std::string data = row.ColumnBlob(2);
          ISMS_RETURN_IF_ERROR(Decompress(data).status().WithContext(
              "tail batch (" + Range(first, first + std::max<std::uint64_t>(leaves, 1)) +
              ") (run isms audit verify)"));
          batches.emplace_back(static_cast<std::int64_t>(first), DataDigest(data));
          return Status::Ok();
        }));
    ISMS_ASSIGN_OR_RETURN(auto up, conn_.Prepare("UPDATE audit_tail SET data_sha256 = $4 WHERE "
                                                 "contract_id = $1 AND log_kind = $2 AND "
                                                 "first_leaf = $3"));
    for (const auto& [first, digest] : batches) {
      up->BindInt(1, contract_id_);
      up->BindInt(2, log_);
      up->BindInt(3, first);
      up->BindBlob(4, digest);
      ISMS_RETURN_IF_ERROR(up->Run());
      ++fill.rows;
    }
  }
  ISMS_ASSIGN_OR_RETURN(const std::vector<std::uint64_t> chunks,
                        ChunksWithBlocksLacking("data_sha256", from, max_chunks, fill.next));
  for (const std::uint64_t chunk_no : chunks) {
    ISMS_ASSIGN_OR_RETURN(
        const std::uint64_t n,
        FillBlocksLacking(
            "data_sha256", chunk_no, [](std::string_view data) -> Result<BlockColumn> {
              ISMS_RETURN_IF_ERROR(Decompress(data).status());  // the SHA-256 vouches for the bytes
              return BlockColumn(DataDigest(data));
            }));
    fill.rows += n;
    ++fill.chunks;
  }
  return fill;
}

Result<std::vector<std::uint64_t>> LogStore::CheckpointSizes() {
  std::vector<std::uint64_t> sizes;
  ISMS_RETURN_IF_ERROR(
      EachRow("SELECT size FROM audit_checkpoints WHERE contract_id = $1 AND "
              "log_kind = $2 ORDER BY size",
              [&](const store::Statement& st) -> Status {
                sizes.push_back(static_cast<std::uint64_t>(st.ColumnInt(0)));
                return Status::Ok();
              }));
  return sizes;
}

Result<std::vector<Subtree>> LogStore::PurgedChunks() {
  ISMS_ASSIGN_OR_RETURN(const int bits, ChunkBits());
  const std::uint64_t chunk = std::uint64_t{1} << bits;
  std::vector<Subtree> purged;
  ISMS_RETURN_IF_ERROR(
      EachRow("SELECT chunk_no FROM audit_chunks WHERE contract_id = $1 AND "
              "log_kind = $2 AND purged_at IS NOT NULL ORDER BY chunk_no",
              [&](const store::Statement& st) -> Status {
                purged.push_back({static_cast<std::uint64_t>(st.ColumnInt(0)) * chunk, chunk});
                return Status::Ok();
              }));
  return purged;
}

Status LogStore::LoadBatches(std::vector<Batch>& out, bool with_data) {
  ISMS_RETURN_IF_ERROR(EachRow(
      "SELECT first_leaf, leaves, hash, data, min_time, max_time, data_sha256 FROM "
      "audit_tail WHERE contract_id = $1 AND log_kind = "
      "$2 ORDER BY first_leaf",
      [&](const store::Statement& st) -> Status {
        Batch b;
        b.first = static_cast<std::uint64_t>(st.ColumnInt(0));
        b.leaves = static_cast<std::uint64_t>(st.ColumnInt(1));
        b.min_time = st.ColumnInt(4);
        b.max_time = st.ColumnInt(5);
        Result<Hash> h = HashFromBytes(st.ColumnBlob(2), "the hash of a tail batch");
        if (h.ok()) b.hash = *h;
        if (!h.ok()) b.decoded = h.status();
        const std::optional<std::string> digest = StoredDigest(st, 6);
        b.digested = digest.has_value();
        if (with_data && b.decoded.ok()) {
          b.decoded = DecodeCheckedEntries(st.ColumnBlob(3), digest, b.entries, keys_of_);
        }
        out.push_back(std::move(b));
        return Status::Ok();
      }));
  return Status::Ok();
}

Result<std::vector<StoredEntry>> LogStore::ChunkEntries(std::uint64_t chunk_no) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT data FROM audit_blocks WHERE contract_id "
                                               "= $1 AND log_kind = $2 AND chunk_no = $3"));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  st->BindInt(3, static_cast<std::int64_t>(chunk_no));
  std::vector<StoredEntry> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    ISMS_RETURN_IF_ERROR(DecodeEntries(st->ColumnBlob(0), out, keys_of_));
  }
  std::sort(out.begin(), out.end(),
            [](const StoredEntry& a, const StoredEntry& b) { return a.leaf < b.leaf; });
  return out;
}

Result<std::string> LogStore::WriteCheckpoint(const NoteSigner& signer, const std::string& origin,
                                              Instant now) {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  Result<std::string> existing = CheckpointAt(s.size);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  Checkpoint cp{origin, s.size, s.root, {}};
  ISMS_ASSIGN_OR_RETURN(std::string note, SignCheckpoint(cp, signer));
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_.Prepare("INSERT INTO audit_checkpoints (contract_id, log_kind, "
                                      "size, root, written_at, note) VALUES ($1, $2, $3, $4, $5, "
                                      "$6)"));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  st->BindInt(3, static_cast<std::int64_t>(s.size));
  st->BindBlob(4, HashBytes(s.root));
  st->BindInt(5, Ms(now));
  st->BindText(6, note);
  ISMS_RETURN_IF_ERROR(st->Run());
  // Counted in the log's state row, so that verify finds a checkpoint row removed.
  ISMS_ASSIGN_OR_RETURN(auto count,
                        conn_.Prepare("UPDATE audit_logs SET checkpoints = checkpoints + 1 "
                                      "WHERE contract_id = $1 AND log_kind = $2"));
  count->BindInt(1, contract_id_);
  count->BindInt(2, log_);
  ISMS_RETURN_IF_ERROR(count->Run());
  return note;
}

Result<std::string> LogStore::CheckpointWhere(std::string_view condition, std::int64_t value,
                                              const std::string& missing) {
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_.Prepare("SELECT note FROM audit_checkpoints WHERE "
                                      "contract_id = $1 AND log_kind = $2 AND " +
                                      std::string(condition) + " ORDER BY size DESC LIMIT 1"));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  st->BindInt(3, value);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Status::NotFound(missing);
  std::string note = st->ColumnText(0);
  (void)st->Step();
  return note;
}

Result<std::string> LogStore::LatestCheckpoint() {
  return CheckpointWhere("size >= $3", 0, "the log has no checkpoint yet: ingest records first");
}

Result<std::string> LogStore::CheckpointWrittenBy(Instant t) {
  return CheckpointWhere("written_at <= $3", Ms(t),
                         "the log had no checkpoint at " + FormatInstant(t));
}

Result<std::string> LogStore::CheckpointAt(std::uint64_t size) {
  return CheckpointWhere("size = $3", static_cast<std::int64_t>(size),
                         "no checkpoint of size " + std::to_string(size));
}

Status LogStore::Scan(const LogQuery& q, const std::function<Result<bool>(StoredEntry&&)>& fn) {
  ISMS_RETURN_IF_ERROR(ChunkBits().status());
  const std::int64_t from = q.from ? Ms(*q.from) : std::numeric_limits<std::int64_t>::min();
  const std::int64_t to = q.to ? Ms(*q.to) : std::numeric_limits<std::int64_t>::max();
  // Whether an entry of these keys matches `q`: -1 by its host (or with no host asked), i for the
  // address window q.via[i]; nullopt when it does not match.
  auto match = [&](std::int64_t t, std::string_view host, std::string_view user,
                   std::string_view ip) -> std::optional<int> {
    if (t < from || t >= to || (q.user && user != *q.user)) return std::nullopt;
    if (!q.host || host == *q.host) return -1;
    for (std::size_t i = 0; i < q.via.size(); ++i) {
      const AddressWindow& w = q.via[i];
      if (!ip.empty() && ip == w.ip && t >= Ms(w.from) && t < Ms(w.to)) {
        return static_cast<int>(i);
      }
    }
    return std::nullopt;
  };
  auto keep = [&](StoredEntry& e) {
    const std::optional<int> via = match(Ms(e.time), e.host, e.user, e.ip);
    if (via) e.via = *via;
    return via.has_value();
  };
  bool stop = false;
  ISMS_RETURN_IF_ERROR(ScanBlocks(q, keep, fn, stop));
  if (stop) return Status::Ok();
  // The tail: every entry is looked at, but only a match is copied out (and hashed).
  std::vector<std::pair<std::int64_t, std::string>> rows;
  ISMS_RETURN_IF_ERROR(EachRow(
      "SELECT first_leaf, data FROM audit_tail WHERE contract_id = $1 AND log_kind = $2 AND "
      "max_time >= $3 AND min_time < $4 ORDER BY first_leaf",
      [&](const store::Statement& st) -> Status {
        rows.emplace_back(st.ColumnInt(0), st.ColumnBlob(1));
        return Status::Ok();
      },
      {from, to}));
  FrameReader reader;
  for (const auto& [first, blob] : rows) {
    bool more = true;
    ISMS_RETURN_IF_ERROR(
        EachEntry(reader, blob, keys_of_, [&](const EntryView& v) -> Result<bool> {
          const std::optional<int> via = match(v.time, v.host, v.user, v.ip);
          if (!via) return true;
          StoredEntry e{v.leaf,
                        FromMs(v.time),
                        std::string(v.host),
                        std::string(v.user),
                        std::string(v.ip),
                        std::string(v.bytes),
                        v.erased,
                        v.leaf_hash};
          e.via = *via;
          if (!e.erased && q.leaf_hashes) e.leaf_hash = LeafHash(e.bytes);
          ISMS_ASSIGN_OR_RETURN(more, fn(std::move(e)));
          return more;
        }).WithContext("tail batch at leaf " + std::to_string(first)));
    if (!more) return Status::Ok();
  }
  return Status::Ok();
}

namespace {

// The FROM and WHERE of one host's blocks in a range of chunks ($1 and $2 the contract and the
// log, the others as numbered): the chunks of the range, then for each one probe of the blocks'
// primary key (contract, log, chunk, host). There is no index of the blocks by host: every
// chunk's append would write as many of its pages as the chunk has hosts, once the log is large
// (a million records into a store of 20 million from 1,000 hosts took 0.88-1.06 s with that
// index, 0.59-0.64 s without: docs/benchmarks.md, run 26).
std::string HostBlocksFrom(int host, int from, int to, int lo_chunk, int hi_chunk) {
  const auto p = [](int n) { return "$" + std::to_string(n); };
  return " FROM audit_chunks c JOIN audit_blocks b ON b.contract_id = c.contract_id AND "
         "b.log_kind = c.log_kind AND b.chunk_no = c.chunk_no WHERE c.contract_id = $1 AND "
         "c.log_kind = $2 AND c.chunk_no BETWEEN " +
         p(lo_chunk) + " AND " + p(hi_chunk) + " AND b.host = " + p(host) +
         " AND b.max_time >= " + p(from) + " AND b.min_time < " + p(to);
}

}  // namespace

// The blocks of complete chunks that may hold matches, chunk by chunk; within a chunk the matches
// go to `fn` in leaf order.
Status LogStore::ScanBlocks(const LogQuery& q, const std::function<bool(StoredEntry&)>& keep,
                            const std::function<Result<bool>(StoredEntry&&)>& fn, bool& stop) {
  const std::int64_t from = q.from ? Ms(*q.from) : std::numeric_limits<std::int64_t>::min();
  const std::int64_t to = q.to ? Ms(*q.to) : std::numeric_limits<std::int64_t>::max();
  std::vector<StoredEntry> group;
  std::vector<std::uint32_t> order;  // of `group`, by leaf: entries are too heavy to sort
  auto flush = [&]() -> Status {
    order.resize(group.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return group[a].leaf < group[b].leaf; });
    for (const std::uint32_t i : order) {
      StoredEntry& e = group[i];
      if (stop || !keep(e)) continue;
      ISMS_ASSIGN_OR_RETURN(bool more, fn(std::move(e)));
      if (!more) stop = true;
    }
    group.clear();
    return Status::Ok();
  };
  // The entries of one chunk's blocks (of the hosts read), in the blocks' order.
  auto decode_chunk = [leaf_hashes = q.leaf_hashes, keys_of = keys_of_](
                          std::int64_t no,
                          std::vector<std::string> blobs) -> Result<std::vector<StoredEntry>> {
    std::vector<StoredEntry> out;
    for (const std::string& blob : blobs) {
      ISMS_RETURN_IF_ERROR(
          DecodeEntries(blob, out, keys_of, leaf_hashes)
              .WithContext("chunk " + std::to_string(no) + ": run isms audit verify"));
    }
    return out;
  };
  // The chunk numbers whose records' times meet [from, to). Records arrive about in time order,
  // so one day of a six-month log is a narrow range of chunks: each query below seeks within it
  // (the blocks' primary key begins with chunk_no, the postings' have it after their key) instead
  // of walking every chunk of the log (1,500 at 100 million records) to test its times.
  std::int64_t lo_chunk = 0;
  std::int64_t hi_chunk = std::numeric_limits<std::int64_t>::max();
  if (q.from || q.to) {
    ISMS_ASSIGN_OR_RETURN(auto range,
                          conn_.Prepare("SELECT min(chunk_no), max(chunk_no) FROM audit_chunks "
                                        "WHERE contract_id = $1 AND log_kind = $2 AND "
                                        "max_time >= $3 AND min_time < $4"));
    range->BindInt(1, contract_id_);
    range->BindInt(2, log_);
    range->BindInt(3, from);
    range->BindInt(4, to);
    ISMS_ASSIGN_OR_RETURN(bool row, range->Step());
    if (!row || range->IsNull(0)) return Status::Ok();
    lo_chunk = range->ColumnInt(0);
    hi_chunk = range->ColumnInt(1);
  }

  // With kinds, only the blocks that hold one of them, or whose kinds were not stored.
  const auto of_kinds = [&q](const std::string& table, const std::string& param) {
    if (q.kinds == 0) return std::string();
    return " AND (" + table + "kinds IS NULL OR (" + table + "kinds & " + param + ") <> 0)";
  };
  const auto bind_kinds = [&q](store::Statement& st, int param) {
    if (q.kinds != 0) st.BindInt(param, static_cast<std::int64_t>(q.kinds));
  };

  if (q.host && !q.via.empty()) {
    // The host's own blocks and the blocks holding an address of a window, by key first, then
    // read chunk by chunk.
    std::map<std::int64_t, std::set<std::string>> keys;
    {
      ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT b.chunk_no" +
                                                   HostBlocksFrom(3, 4, 5, 6, 7) +
                                                   of_kinds("b.", "$8")));
      st->BindInt(1, contract_id_);
      st->BindInt(2, log_);
      st->BindBlob(3, *q.host);
      st->BindInt(4, from);
      st->BindInt(5, to);
      st->BindInt(6, lo_chunk);
      st->BindInt(7, hi_chunk);
      bind_kinds(*st, 8);
      while (true) {
        ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
        if (!row) break;
        keys[st->ColumnInt(0)].insert(*q.host);
      }
    }
    ISMS_ASSIGN_OR_RETURN(
        auto st, conn_.Prepare("SELECT p.chunk_no, p.host FROM audit_ip_postings p JOIN "
                               "audit_blocks b ON b.contract_id = p.contract_id AND b.log_kind = "
                               "p.log_kind AND b.chunk_no = p.chunk_no AND b.host = p.host WHERE "
                               "p.contract_id = $1 AND p.log_kind = $2 AND p.ip = $3 AND "
                               "b.max_time >= $4 AND b.min_time < $5 AND "
                               "p.chunk_no BETWEEN $6 AND $7" +
                               of_kinds("b.", "$8")));
    for (const AddressWindow& w : q.via) {
      const std::int64_t lo = std::max(from, Ms(w.from));
      const std::int64_t hi = std::min(to, Ms(w.to));
      if (lo >= hi) continue;
      st->BindInt(1, contract_id_);
      st->BindInt(2, log_);
      st->BindBlob(3, w.ip);
      st->BindInt(4, lo);
      st->BindInt(5, hi);
      st->BindInt(6, lo_chunk);
      st->BindInt(7, hi_chunk);
      bind_kinds(*st, 8);
      while (true) {
        ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
        if (!row) break;
        keys[st->ColumnInt(0)].insert(st->ColumnBlob(1));
      }
    }
    ISMS_ASSIGN_OR_RETURN(auto data,
                          conn_.Prepare("SELECT data FROM audit_blocks WHERE contract_id = $1 AND "
                                        "log_kind = $2 AND chunk_no = $3 AND host = $4"));
    for (const auto& [no, hosts] : keys) {
      std::vector<std::string> blobs;
      for (const std::string& host : hosts) {
        data->BindInt(1, contract_id_);
        data->BindInt(2, log_);
        data->BindInt(3, no);
        data->BindBlob(4, host);
        ISMS_ASSIGN_OR_RETURN(bool row, data->Step());
        if (row) blobs.push_back(data->ColumnBlob(0));
        while (row) {
          ISMS_ASSIGN_OR_RETURN(row, data->Step());
        }
      }
      ISMS_ASSIGN_OR_RETURN(group, decode_chunk(no, std::move(blobs)));
      ISMS_RETURN_IF_ERROR(flush());
      if (stop) return Status::Ok();
    }
    return Status::Ok();
  }

  const int host_param = q.user ? 8 : 7;
  const int kinds_param = host_param + (q.host ? 1 : 0);
  const std::string kinds_sql =
      of_kinds(q.user || q.host ? "b." : "", "$" + std::to_string(kinds_param));
  std::string sql;
  if (q.user) {
    sql =
        "SELECT b.chunk_no, b.data FROM audit_postings p JOIN audit_blocks b ON "
        "b.contract_id = p.contract_id AND b.log_kind = p.log_kind AND b.chunk_no = p.chunk_no "
        "AND b.host = p.host WHERE p.contract_id = $1 AND p.log_kind = $2 AND p.user_key = $7 "
        "AND b.max_time >= $3 AND b.min_time < $4 AND p.chunk_no BETWEEN $5 AND $6";
    if (q.host) sql += " AND b.host = $" + std::to_string(host_param);
    sql += kinds_sql + " ORDER BY b.chunk_no";
  } else if (q.host) {
    // Parameters as the query above: the host is $7, its time window $3 and $4, the chunks $5
    // to $6.
    sql = "SELECT b.chunk_no, b.data" + HostBlocksFrom(7, 3, 4, 5, 6) + kinds_sql +
          " ORDER BY c.chunk_no";
  } else {
    sql =
        "SELECT chunk_no, data FROM audit_blocks WHERE contract_id = $1 AND log_kind = $2 AND "
        "max_time >= $3 AND min_time < $4 AND chunk_no BETWEEN $5 AND $6";
    sql += kinds_sql + " ORDER BY chunk_no";
  }
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(sql));
  st->BindInt(1, contract_id_);
  st->BindInt(2, log_);
  st->BindInt(3, from);
  st->BindInt(4, to);
  st->BindInt(5, lo_chunk);
  st->BindInt(6, hi_chunk);
  if (q.user) st->BindBlob(7, *q.user);
  if (q.host) st->BindBlob(host_param, *q.host);
  bind_kinds(*st, kinds_param);
  // Each chunk's blocks are decoded (decompressed, parsed, hashed) on a thread of their own while
  // the matches of the chunk before go to `fn` here and the next chunk's blocks are read: a search
  // over many chunks keeps two cores busy. The statement and `fn` stay on this thread.
  std::future<Result<std::vector<StoredEntry>>> decoding;  // the chunk before the one read
  // The chunk being decoded, if any, to `fn`; then `next` is the one being decoded.
  auto hand_over = [&](std::future<Result<std::vector<StoredEntry>>> next) -> Status {
    std::future<Result<std::vector<StoredEntry>>> done = std::exchange(decoding, std::move(next));
    if (!done.valid()) return Status::Ok();
    Result<std::vector<StoredEntry>> got = done.get();
    if (!got.ok()) return got.status();
    group = std::move(got).value();
    return flush();
  };
  auto start = [&](std::int64_t no, std::vector<std::string>& blobs) {
    auto next = std::async(std::launch::async, decode_chunk, no, std::move(blobs));
    blobs.clear();
    return next;
  };
  std::int64_t group_chunk = -1;
  std::vector<std::string> blobs;  // of group_chunk
  while (!stop) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    const std::int64_t no = st->ColumnInt(0);
    if (no != group_chunk && !blobs.empty()) {
      ISMS_RETURN_IF_ERROR(hand_over(start(group_chunk, blobs)));
    }
    group_chunk = no;
    blobs.push_back(st->ColumnBlob(1));
  }
  st.reset();
  if (stop) return Status::Ok();
  if (!blobs.empty()) ISMS_RETURN_IF_ERROR(hand_over(start(group_chunk, blobs)));
  if (stop) return Status::Ok();
  return hand_over({});
}

Result<SparseHashSource> LogStore::SourceFor(std::vector<std::uint64_t> positions) {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  const std::uint64_t chunk = std::uint64_t{1} << s.chunk_bits;
  SparseHashSource src;
  std::vector<Chunk> chunks;
  ISMS_RETURN_IF_ERROR(LoadChunks(chunks));
  std::set<std::uint64_t> live;
  for (const Chunk& c : chunks) {
    src.AddSubtree(c.no * chunk, chunk, c.root);
    if (!c.purged) live.insert(c.no);
  }
  {
    ISMS_RETURN_IF_ERROR(EachRow(
        "SELECT start_leaf, size, hash FROM audit_kept "
        "WHERE contract_id = $1 AND log_kind = $2",
        [&](const store::Statement& st) -> Status {
          ISMS_ASSIGN_OR_RETURN(Hash h, HashFromBytes(st.ColumnBlob(2), "a kept boundary hash"));
          src.AddSubtree(static_cast<std::uint64_t>(st.ColumnInt(0)),
                         static_cast<std::uint64_t>(st.ColumnInt(1)), h);
          return Status::Ok();
        }));
  }
  std::vector<Batch> batches;
  ISMS_RETURN_IF_ERROR(LoadBatches(batches, true));
  for (Batch& b : batches) {
    ISMS_RETURN_IF_ERROR(b.decoded.WithContext("tail batch at leaf " + std::to_string(b.first)));
    for (const StoredEntry& e : b.entries) src.AddLeaves(e.leaf, std::span(&e.leaf_hash, 1));
  }
  std::set<std::uint64_t> wanted;
  for (std::uint64_t p : positions) {
    if (live.contains(p / chunk)) wanted.insert(p / chunk);
  }
  for (std::uint64_t no : wanted) {
    ISMS_ASSIGN_OR_RETURN(std::vector<StoredEntry> entries, ChunkEntries(no));
    for (const StoredEntry& e : entries) src.AddLeaves(e.leaf, std::span(&e.leaf_hash, 1));
  }
  return src;
}

Result<Hash> LogStore::RootAt(std::uint64_t size) {
  if (size == 0) return EmptyRoot();
  ISMS_ASSIGN_OR_RETURN(SparseHashSource src, SourceFor({size - 1}));
  return audit::RootAt(size, src);
}

Result<InclusionProofData> LogStore::ProveInclusion(std::uint64_t index, std::uint64_t size) {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  if (size > s.size) {
    return Status::InvalidArgument("size " + std::to_string(size) + " is beyond the log's " +
                                   std::to_string(s.size) + " records");
  }
  if (index >= size) {
    return Status::InvalidArgument("index " + std::to_string(index) + " is not below size " +
                                   std::to_string(size));
  }
  ISMS_ASSIGN_OR_RETURN(SparseHashSource src, SourceFor({index, size - 1}));
  InclusionProofData p;
  p.index = index;
  p.size = size;
  ISMS_ASSIGN_OR_RETURN(p.leaf_hash, src.SubtreeHash(index, 1));
  ISMS_ASSIGN_OR_RETURN(p.hashes, InclusionProof(index, size, src));
  ISMS_ASSIGN_OR_RETURN(p.root, audit::RootAt(size, src));
  return p;
}

Result<std::vector<Hash>> LogStore::ProveConsistency(std::uint64_t m, std::uint64_t n) {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  if (n > s.size || m > n) {
    return Status::InvalidArgument("sizes " + std::to_string(m) + " and " + std::to_string(n) +
                                   " do not fit a log of " + std::to_string(s.size) + " records");
  }
  std::vector<std::uint64_t> pos;
  for (std::uint64_t p : {m - 1, m, n - 1}) {
    if (p < s.size) pos.push_back(p);
  }
  ISMS_ASSIGN_OR_RETURN(SparseHashSource src, SourceFor(pos));
  return ConsistencyProof(m, n, src);
}

Result<VerifyReport> LogStore::Verify(const NoteVerifier& verifier,
                                      const VerifyVisit& visit, const VerifyKeys& keys) {
  return Verify(std::span<const NoteVerifier>(&verifier, 1), visit, keys);
}

Result<VerifyReport> LogStore::Verify(std::span<const NoteVerifier> signing_keys,
                                      const VerifyVisit& visit, const VerifyKeys& keys) {
  // One snapshot for every statement below, so records appended meanwhile (a server's group
  // commit) are not mistaken for a disagreement between the log's size and its chunks.
  store::Transaction snapshot(conn_);
  if (!conn_.InTransaction()) ISMS_RETURN_IF_ERROR(snapshot.BeginRead());
  VerifyReport rep;
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  rep.size = s.size;
  const std::uint64_t chunk = std::uint64_t{1} << s.chunk_bits;
  const std::uint64_t complete = s.size / chunk;

  struct CpRow {
    std::uint64_t size;
    std::string root;
    std::string note;
  };
  std::vector<CpRow> cps;
  {
    ISMS_RETURN_IF_ERROR(
        EachRow("SELECT size, root, note FROM audit_checkpoints "
                "WHERE contract_id = $1 AND log_kind = $2 "
                "ORDER BY size",
                [&](const store::Statement& st) -> Status {
                  cps.push_back({static_cast<std::uint64_t>(st.ColumnInt(0)), st.ColumnBlob(1),
                                 st.ColumnText(2)});
                  return Status::Ok();
                }));
  }
  for (const CpRow& cp : cps) rep.checkpoint_sizes.push_back(cp.size);
  std::map<std::uint64_t, std::set<std::pair<std::string, std::string>>> postings;
  {
    ISMS_RETURN_IF_ERROR(
        EachRow("SELECT chunk_no, user_key, host FROM "
                "audit_postings WHERE contract_id = $1 AND "
                "log_kind = $2",
                [&](const store::Statement& st) -> Status {
                  postings[static_cast<std::uint64_t>(st.ColumnInt(0))].emplace(st.ColumnBlob(1),
                                                                                st.ColumnBlob(2));
                  return Status::Ok();
                }));
  }
  std::map<std::uint64_t, std::set<std::pair<std::string, std::string>>> ip_postings;
  {
    ISMS_RETURN_IF_ERROR(
        EachRow("SELECT chunk_no, ip, host FROM audit_ip_postings WHERE contract_id = $1 AND "
                "log_kind = $2",
                [&](const store::Statement& st) -> Status {
                  ip_postings[static_cast<std::uint64_t>(st.ColumnInt(0))].emplace(
                      st.ColumnBlob(1), st.ColumnBlob(2));
                  return Status::Ok();
                }));
  }
  std::set<std::uint64_t> block_chunks;
  {
    ISMS_RETURN_IF_ERROR(
        EachRow("SELECT DISTINCT chunk_no FROM audit_blocks "
                "WHERE contract_id = $1 AND log_kind = $2",
                [&](const store::Statement& st) -> Status {
                  block_chunks.insert(static_cast<std::uint64_t>(st.ColumnInt(0)));
                  return Status::Ok();
                }));
  }

  SparseHashSource src;
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT start_leaf, size, hash FROM audit_kept "
                                                 "WHERE contract_id = $1 AND log_kind = $2"));
    st->BindInt(1, contract_id_);
    st->BindInt(2, log_);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      Result<Hash> h = HashFromBytes(st->ColumnBlob(2), "a kept boundary hash");
      if (!h.ok()) {
        rep.problems.push_back(h.status().message());
        continue;
      }
      src.AddSubtree(static_cast<std::uint64_t>(st->ColumnInt(0)),
                     static_cast<std::uint64_t>(st->ColumnInt(1)), *h);
    }
  }
  auto problem = [&](std::uint64_t no, const std::string& what) {
    rep.problems.push_back("chunk " + std::to_string(no) + " (" +
                           Range(no * chunk, (no + 1) * chunk) + "): " + what);
  };
  std::vector<Chunk> chunks;
  ISMS_RETURN_IF_ERROR(LoadChunks(chunks));
  // First the chunk sequence, in order; the live chunks' contents are then checked in parallel
  // (ChunkJob) and their findings put back in that order.
  struct Item {
    std::uint64_t no;
    std::string problem;  // a finding of the sequence, or
    int job = -1;         // a live chunk to check
  };
  std::vector<Item> items;
  std::vector<ChunkJob> jobs;
  std::uint64_t expect = 0;
  for (const Chunk& c : chunks) {
    for (; expect < c.no && expect < complete; ++expect) items.push_back({expect, "missing"});
    if (c.no >= complete) {
      items.push_back({c.no, "stored beyond the log's size of " + std::to_string(s.size)});
      continue;
    }
    expect = c.no + 1;
    src.AddSubtree(c.no * chunk, chunk, c.root);
    if (c.purged) {
      ++rep.purged_chunks;
      rep.purged.push_back({c.no * chunk, chunk});
      if (block_chunks.contains(c.no) || postings.contains(c.no) || ip_postings.contains(c.no)) {
        items.push_back({c.no, "purged, yet blocks or postings remain"});
      }
      continue;
    }
    ++rep.chunks;
    ChunkJob job;
    job.chunk = c;
    job.size = chunk;
    if (visit) job.visit = &visit;
    if (keys) job.keys = &keys;
    job.kinds = kinds_;
    job.keys_of = keys_of_;
    for (const CpRow& cp : cps) {
      if (cp.size > c.no * chunk && cp.size < (c.no + 1) * chunk)
        job.checkpoints.push_back(cp.size);
    }
    if (auto it = postings.find(c.no); it != postings.end()) job.postings = std::move(it->second);
    if (auto it = ip_postings.find(c.no); it != ip_postings.end()) {
      job.ip_postings = std::move(it->second);
    }
    postings.erase(c.no);
    ip_postings.erase(c.no);
    block_chunks.erase(c.no);
    items.push_back({c.no, "", static_cast<int>(jobs.size())});
    jobs.push_back(std::move(job));
  }
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT host, records, min_time, max_time, "
                                                 "data, kinds, data_sha256 FROM audit_blocks WHERE "
                                                 "contract_id = $1 AND log_kind = $2 AND "
                                                 "chunk_no = $3 ORDER BY host"));
    const std::size_t workers =
        std::max<std::size_t>(1, std::min<std::size_t>(8, std::thread::hardware_concurrency()));
    const std::size_t window = 4 * workers;
    for (std::size_t first = 0; first < jobs.size(); first += window) {
      const std::size_t last = std::min(jobs.size(), first + window);
      for (std::size_t j = first; j < last; ++j) {
        st->BindInt(1, contract_id_);
        st->BindInt(2, log_);
        st->BindInt(3, static_cast<std::int64_t>(jobs[j].chunk.no));
        while (true) {
          ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
          if (!row) break;
          jobs[j].blocks.push_back(
              {st->ColumnBlob(0), st->ColumnInt(1), st->ColumnInt(2), st->ColumnInt(3),
               st->ColumnBlob(4),
               st->IsNull(5) ? std::nullopt : std::optional<std::int64_t>(st->ColumnInt(5)),
               StoredDigest(*st, 6)});
          if (!jobs[j].blocks.back().digest) ++rep.rows_without_digest;
        }
      }
      std::atomic<std::size_t> next{first};
      auto work = [&] {
        for (std::size_t j; (j = next.fetch_add(1)) < last;) jobs[j].Run();
      };
      std::vector<std::thread> pool;
      for (std::size_t w = 1; w < std::min(workers, last - first); ++w) pool.emplace_back(work);
      work();
      for (std::thread& t : pool) t.join();
    }
  }
  for (const Item& item : items) {
    if (item.job < 0) {
      problem(item.no, item.problem);
      continue;
    }
    ChunkJob& job = jobs[static_cast<std::size_t>(item.job)];
    if (!job.bad.empty()) problem(item.no, job.bad);
    rep.erased.insert(rep.erased.end(), job.erased.begin(), job.erased.end());
    rep.erased_times.insert(rep.erased_times.end(), job.erased_times.begin(),
                            job.erased_times.end());
    for (std::size_t i = 0; i < job.cover.size(); ++i) {
      src.AddSubtree(job.cover[i].start, job.cover[i].size, job.cover_hashes[i]);
    }
  }
  for (; expect < complete; ++expect) problem(expect, "missing");
  for (std::uint64_t no : block_chunks) problem(no, "blocks stored for a chunk that has no row");
  for (const auto* map : {&postings, &ip_postings}) {
    for (const auto& [no, set] : *map) {
      if (!set.empty()) problem(no, "postings stored for a chunk that has no live row");
    }
  }

  std::vector<Batch> batches;
  ISMS_RETURN_IF_ERROR(LoadBatches(batches, true));
  std::uint64_t next = complete * chunk;
  for (Batch& b : batches) {
    ++rep.tail_batches;
    if (!b.digested) ++rep.rows_without_digest;
    std::string where =
        "tail batch (" + Range(b.first, b.first + std::max<std::uint64_t>(b.leaves, 1)) + "): ";
    if (!b.decoded.ok()) {
      rep.problems.push_back(where + b.decoded.message());
      continue;
    }
    std::vector<Hash> leaves;
    bool ok = b.first == next && b.entries.size() == b.leaves;
    for (std::size_t i = 0; i < b.entries.size(); ++i) {
      ok = ok && b.entries[i].leaf == b.first + i;
      leaves.push_back(b.entries[i].leaf_hash);
      if (b.entries[i].erased) {
        rep.erased.push_back(b.entries[i].leaf);
        rep.erased_times.push_back(b.entries[i].time);
      } else if (visit) {
        visit(b.entries[i].leaf, b.entries[i].bytes);
      }
    }
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = std::numeric_limits<std::int64_t>::min();
    std::string misindexed;
    for (const StoredEntry& e : b.entries) {
      lo = std::min(lo, Ms(e.time));
      hi = std::max(hi, Ms(e.time));
      if (keys && misindexed.empty()) misindexed = Misindexed(keys, ViewOf(e));
    }
    if (!ok) {
      rep.problems.push_back(where + "does not continue the log at leaf " + std::to_string(next));
    } else if (MerkleRoot(leaves) != b.hash) {
      rep.problems.push_back(where + "its records do not hash to its stored hash");
    } else if (!b.entries.empty() && (lo != b.min_time || hi != b.max_time)) {
      rep.problems.push_back(where + "its stored time range disagrees with its records");
    } else if (!misindexed.empty()) {
      rep.problems.push_back(where + misindexed);
    }
    if (ok) src.AddLeaves(b.first, leaves);
    next = b.first + b.leaves;
  }
  if (next != s.size) {
    rep.problems.push_back("the log has " + std::to_string(s.size) + " records but its chunks " +
                           "and tail hold " + std::to_string(next));
  }
  if (s.size > 0) {
    Result<Hash> root = audit::RootAt(s.size, src);
    if (!root.ok()) {
      rep.problems.push_back("cannot compute the root: " + root.status().message());
    } else {
      rep.root = *root;
      if (*root != s.root) {
        rep.problems.push_back("the stored tree state (root " + HashHex(s.root) +
                               ") disagrees with the records (root " + HashHex(*root) + ")");
      }
    }
  } else {
    rep.root = EmptyRoot();
  }
  // The log's state row counts its checkpoints: a row taken out (or added) shows.
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT checkpoints FROM audit_logs WHERE "
                                                 "contract_id = $1 AND log_kind = $2"));
    st->BindInt(1, contract_id_);
    st->BindInt(2, log_);
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (row && st->ColumnInt(0) != static_cast<std::int64_t>(cps.size())) {
      rep.problems.push_back("the log holds " + std::to_string(cps.size()) +
                             " checkpoints, its state row counts " +
                             std::to_string(st->ColumnInt(0)));
    }
  }
  // Every append writes a checkpoint of the size it leaves, in its own transaction: a log
  // without one of its size has lost its latest.
  if (s.size > 0 && (cps.empty() || cps.back().size != s.size)) {
    rep.problems.push_back("no checkpoint of the log's size " + std::to_string(s.size) +
                           ": every append writes one, so the latest was removed");
  }
  for (const CpRow& row : cps) {
    ++rep.checkpoints;
    std::string where = "checkpoint of size " + std::to_string(row.size) + ": ";
    Result<Checkpoint> cp = VerifyCheckpoint(row.note, signing_keys);
    if (!cp.ok()) {
      rep.problems.push_back(where + cp.status().message());
      continue;
    }
    if (cp->size != row.size || HashBytes(cp->root) != row.root) {
      rep.problems.push_back(where + "its row disagrees with its signed note");
      continue;
    }
    if (cp->size > s.size) {
      rep.problems.push_back(where + "beyond the log's size of " + std::to_string(s.size));
      continue;
    }
    Result<Hash> at = audit::RootAt(cp->size, src);
    if (!at.ok()) {
      rep.problems.push_back(where +
                             "cannot compute the root at its size: " + at.status().message());
    } else if (*at != cp->root) {
      rep.problems.push_back(where + "the log's root at that size is " + HashHex(*at) +
                             ", the checkpoint says " + HashHex(cp->root));
    }
  }
  return rep;
}

Result<std::vector<StoredEntry>> LogStore::Erase(std::span<const std::uint64_t> leaves) {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  const std::uint64_t chunk = std::uint64_t{1} << s.chunk_bits;
  const std::uint64_t complete = s.size / chunk;
  std::map<std::uint64_t, std::set<std::uint64_t>> by_chunk;  // chunk -> leaves
  std::set<std::uint64_t> in_tail;
  for (std::uint64_t leaf : leaves) {
    if (leaf >= s.size) {
      return Status::InvalidArgument("leaf " + std::to_string(leaf) + " is beyond the log's " +
                                     std::to_string(s.size) + " records");
    }
    if (leaf / chunk < complete) {
      by_chunk[leaf / chunk].insert(leaf);
    } else {
      in_tail.insert(leaf);
    }
  }
  std::vector<StoredEntry> erased;
  auto erase = [&](StoredEntry& e) {
    erased.push_back(e);
    e.erased = true;
    e.keyed = false;  // an erased entry keeps its keys: its content is gone
    e.bytes.clear();
    e.bytes.shrink_to_fit();
    e.user.clear();
    e.ip.clear();
  };
  if (!by_chunk.empty()) {
    std::vector<Chunk> chunks;
    ISMS_RETURN_IF_ERROR(LoadChunks(chunks));
    std::map<std::uint64_t, const Chunk*> rows;
    for (const Chunk& c : chunks) rows[c.no] = &c;
    ISMS_ASSIGN_OR_RETURN(auto read, conn_.Prepare("SELECT host, data, data_sha256 FROM "
                                                   "audit_blocks WHERE contract_id = $1 AND "
                                                   "log_kind = $2 AND chunk_no = $3"));
    ISMS_ASSIGN_OR_RETURN(auto write, conn_.Prepare("UPDATE audit_blocks SET data = $5, kinds "
                                                    "= $6, data_sha256 = $7 WHERE contract_id = "
                                                    "$1 AND log_kind = $2 AND chunk_no = $3 AND "
                                                    "host = $4"));
    for (const auto& [no, wanted] : by_chunk) {
      const std::string where =
          "chunk " + std::to_string(no) + " (" + Range(no * chunk, (no + 1) * chunk) + ")";
      auto row = rows.find(no);
      if (row == rows.end()) {
        return Status::Corruption(where + " is missing; nothing was erased: run isms audit verify");
      }
      if (row->second->purged) {
        return Status::FailedPrecondition("leaf " + std::to_string(*wanted.begin()) +
                                          " was purged with " + where +
                                          ": nothing of it is left to erase");
      }
      std::map<std::string, std::vector<StoredEntry>> blocks;
      read->BindInt(1, contract_id_);
      read->BindInt(2, log_);
      read->BindInt(3, static_cast<std::int64_t>(no));
      std::vector<std::pair<std::uint64_t, Hash>> hashes;
      while (true) {
        ISMS_ASSIGN_OR_RETURN(bool more, read->Step());
        if (!more) break;
        std::vector<StoredEntry>& b = blocks[read->ColumnBlob(0)];
        ISMS_RETURN_IF_ERROR(
            DecodeCheckedEntries(read->ColumnBlob(1), StoredDigest(*read, 2), b, keys_of_)
                .WithContext(where + ": nothing was erased: run isms audit verify"));
        for (const StoredEntry& e : b) hashes.emplace_back(e.leaf, e.leaf_hash);
      }
      std::sort(hashes.begin(), hashes.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<Hash> hs;
      bool in_place = hashes.size() == chunk;
      for (std::size_t i = 0; i < hashes.size() && in_place; ++i) {
        in_place = hashes[i].first == no * chunk + i;
        hs.push_back(hashes[i].second);
      }
      if (!in_place || MerkleRoot(hs) != row->second->root) {
        return Status::Corruption(where +
                                  " does not verify; nothing was erased: run isms audit verify");
      }
      for (auto& [host, entries] : blocks) {
        bool changed = false;
        for (StoredEntry& e : entries) {
          if (!e.erased && wanted.contains(e.leaf)) {
            erase(e);
            changed = true;
          }
        }
        if (!changed) continue;
        std::string raw;
        std::uint64_t kinds = 0;  // of the entries that keep their content
        for (const StoredEntry& e : entries) {
          EncodeEntry(raw, e);
          kinds |= LiveKinds(kinds_, e);
        }
        write->BindInt(1, contract_id_);
        write->BindInt(2, log_);
        write->BindInt(3, static_cast<std::int64_t>(no));
        write->BindBlob(4, host);
        const std::string data = Compress(raw, kBlockLevel);
        write->BindBlob(5, data);
        BindKinds(*write, 6, kinds_, kinds);
        write->BindBlob(7, DataDigest(data));
        ISMS_RETURN_IF_ERROR(write->Run());
        for (const char* sql : {"DELETE FROM audit_postings WHERE contract_id = $1 AND log_kind "
                                "= $2 AND chunk_no = $3 AND host = $4",
                                "DELETE FROM audit_ip_postings WHERE contract_id = $1 AND "
                                "log_kind = $2 AND chunk_no = $3 AND host = $4"}) {
          ISMS_ASSIGN_OR_RETURN(auto del, conn_.Prepare(sql));
          del->BindInt(1, contract_id_);
          del->BindInt(2, log_);
          del->BindInt(3, static_cast<std::int64_t>(no));
          del->BindBlob(4, host);
          ISMS_RETURN_IF_ERROR(del->Run());
        }
        std::vector<EntryView> views;
        for (const StoredEntry& e : entries) views.push_back(ViewOf(e));
        std::vector<const EntryView*> list;
        for (const EntryView& v : views) list.push_back(&v);
        ISMS_RETURN_IF_ERROR(WritePostings(no, host, list));
      }
    }
  }
  if (!in_tail.empty()) {
    std::vector<Batch> batches;
    ISMS_RETURN_IF_ERROR(LoadBatches(batches, true));
    ISMS_ASSIGN_OR_RETURN(auto write, conn_.Prepare("UPDATE audit_tail SET data = $4, "
                                                    "data_sha256 = $5 WHERE contract_id = $1 AND "
                                                    "log_kind = $2 AND first_leaf = $3"));
    for (Batch& b : batches) {
      auto first = in_tail.lower_bound(b.first);
      if (first == in_tail.end() || *first >= b.first + b.leaves) continue;
      const std::string where = "tail batch (" + Range(b.first, b.first + b.leaves) + ")";
      ISMS_RETURN_IF_ERROR(
          b.decoded.WithContext(where + ": nothing was erased: run isms audit verify"));
      std::vector<Hash> hs;
      for (const StoredEntry& e : b.entries) hs.push_back(e.leaf_hash);
      if (MerkleRoot(hs) != b.hash) {
        return Status::Corruption(where +
                                  " does not verify; nothing was erased: run isms audit verify");
      }
      bool changed = false;
      for (StoredEntry& e : b.entries) {
        if (!e.erased && in_tail.contains(e.leaf)) {
          erase(e);
          changed = true;
        }
      }
      if (!changed) continue;
      std::string raw;
      for (const StoredEntry& e : b.entries) EncodeEntry(raw, e);
      write->BindInt(1, contract_id_);
      write->BindInt(2, log_);
      write->BindInt(3, static_cast<std::int64_t>(b.first));
      const std::string data = Compress(raw, kTailLevel);
      write->BindBlob(4, data);
      write->BindBlob(5, DataDigest(data));
      ISMS_RETURN_IF_ERROR(write->Run());
    }
  }
  std::sort(erased.begin(), erased.end(),
            [](const StoredEntry& a, const StoredEntry& b) { return a.leaf < b.leaf; });
  return erased;
}

Result<PurgeResult> LogStore::Purge(Instant cutoff, Instant now) {
  ISMS_ASSIGN_OR_RETURN(LogState s, State());
  const std::uint64_t chunk = std::uint64_t{1} << s.chunk_bits;
  std::vector<std::uint64_t> cp_sizes;
  {
    ISMS_RETURN_IF_ERROR(
        EachRow("SELECT size FROM audit_checkpoints WHERE "
                "contract_id = $1 AND log_kind = $2",
                [&](const store::Statement& st) -> Status {
                  cp_sizes.push_back(static_cast<std::uint64_t>(st.ColumnInt(0)));
                  return Status::Ok();
                }));
  }
  std::vector<Chunk> chunks;
  ISMS_RETURN_IF_ERROR(LoadChunks(chunks));
  PurgeResult res;
  for (const Chunk& c : chunks) {
    if (c.purged || c.max_time >= Ms(cutoff)) continue;
    const std::uint64_t start = c.no * chunk;
    const std::uint64_t end = start + chunk;
    ISMS_ASSIGN_OR_RETURN(std::vector<StoredEntry> entries, ChunkEntries(c.no));
    std::vector<Hash> leaves;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].leaf != start + i) break;
      leaves.push_back(entries[i].leaf_hash);
    }
    if (leaves.size() != chunk || MerkleRoot(leaves) != c.root) {
      return Status::Corruption("chunk " + std::to_string(c.no) + " (" + Range(start, end) +
                                ") does not verify; nothing was purged: run isms audit verify");
    }
    ISMS_ASSIGN_OR_RETURN(auto keep,
                          conn_.Prepare("INSERT INTO audit_kept (contract_id, log_kind, "
                                        "start_leaf, size, hash) VALUES ($1, $2, $3, $4, $5) ON "
                                        "CONFLICT DO NOTHING"));
    for (std::uint64_t m : cp_sizes) {
      if (m <= start || m >= end) continue;
      std::vector<Subtree> cover = AlignedCover(start, m);
      std::vector<Subtree> right = AlignedCover(m, end);
      cover.insert(cover.end(), right.begin(), right.end());
      for (const Subtree& t : cover) {
        Hash h = MerkleRoot(std::span<const Hash>(leaves).subspan(t.start - start, t.size));
        keep->BindInt(1, contract_id_);
        keep->BindInt(2, log_);
        keep->BindInt(3, static_cast<std::int64_t>(t.start));
        keep->BindInt(4, static_cast<std::int64_t>(t.size));
        keep->BindBlob(5, HashBytes(h));
        ISMS_RETURN_IF_ERROR(keep->Run());
      }
    }
    for (const char* sql : {"DELETE FROM audit_blocks WHERE contract_id = $1 AND log_kind = $2 "
                            "AND chunk_no = $3",
                            "DELETE FROM audit_postings WHERE contract_id = $1 AND log_kind = $2 "
                            "AND chunk_no = $3",
                            "DELETE FROM audit_ip_postings WHERE contract_id = $1 AND log_kind = "
                            "$2 AND chunk_no = $3"}) {
      ISMS_ASSIGN_OR_RETURN(auto del, conn_.Prepare(sql));
      del->BindInt(1, contract_id_);
      del->BindInt(2, log_);
      del->BindInt(3, static_cast<std::int64_t>(c.no));
      ISMS_RETURN_IF_ERROR(del->Run());
    }
    ISMS_ASSIGN_OR_RETURN(auto up, conn_.Prepare("UPDATE audit_chunks SET purged_at = $4 WHERE "
                                                 "contract_id = $1 AND log_kind = $2 AND "
                                                 "chunk_no = $3"));
    up->BindInt(1, contract_id_);
    up->BindInt(2, log_);
    up->BindInt(3, static_cast<std::int64_t>(c.no));
    up->BindInt(4, Ms(now));
    ISMS_RETURN_IF_ERROR(up->Run());
    ++res.chunks;
    res.records += static_cast<std::uint64_t>(c.records);
  }
  for (const char* sql : {"SELECT MIN(min_time) FROM audit_chunks WHERE contract_id = $1 AND "
                          "log_kind = $2 AND purged_at IS NULL",
                          "SELECT MIN(min_time) FROM audit_tail WHERE contract_id = $1 AND "
                          "log_kind = $2"}) {
    ISMS_RETURN_IF_ERROR(EachRow(sql, [&](const store::Statement& st) -> Status {
      if (st.IsNull(0)) return Status::Ok();
      const Instant t = FromMs(st.ColumnInt(0));
      if (!res.oldest_kept || t < *res.oldest_kept) res.oldest_kept = t;
      return Status::Ok();
    }));
  }
  return res;
}

}  // namespace isms::audit
