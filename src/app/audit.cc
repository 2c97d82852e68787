#include "app/audit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/proof.h"
#include "core/calendar.h"
#include "core/event.h"
#include "core/rules.h"
#include "formats/audit_classify.h"
#include "formats/audit_jsonl.h"
#include "formats/syslog.h"
#include "formats/syslog_framing.h"

namespace isms::app {
namespace {

bool IsSqlite(const std::string& url) {
  return url.rfind("sqlite:", 0) == 0;
}

std::vector<store::Migration> AuditFileMigrations() {
  return {
      {1, "audit logs: chunks, blocks, postings, tail batches, checkpoints",
       audit::LogStore::SchemaSql(store::Engine::kSqlite),
       audit::LogStore::SchemaSql(store::Engine::kPostgres)},
      {2, "audit logs: address postings and the DHCP lease index",
       audit::LogStore::AddressSchemaSql(store::Engine::kSqlite) +
           audit::LeaseIndex::SchemaSql(store::Engine::kSqlite),
       audit::LogStore::AddressSchemaSql(store::Engine::kPostgres) +
           audit::LeaseIndex::SchemaSql(store::Engine::kPostgres)},
      {3, "audit logs: the state row counts the checkpoints", audit::LogStore::CheckpointCountSql(),
       audit::LogStore::CheckpointCountSql()},
      {4, "audit logs: blocks keep their records' kinds (categories)",
       audit::LogStore::BlockKindsSql(), audit::LogStore::BlockKindsSql()},
      {5, "audit logs: an index of the blocks without kinds",
       audit::LogStore::BlocksWithoutKindsIndexSql(),
       audit::LogStore::BlocksWithoutKindsIndexSql()},
      {6, "audit logs: blocks and tail batches keep the SHA-256 of their bytes",
       audit::LogStore::DataDigestSql(store::Engine::kSqlite),
       audit::LogStore::DataDigestSql(store::Engine::kPostgres)},
      {7, "audit logs: no index of the blocks by host", audit::LogStore::DropBlocksByHostIndexSql(),
       audit::LogStore::DropBlocksByHostIndexSql()},
      // No table changes: from here on an entry indexed under the keys its record gives is
      // stored without them (docs/audit-format.md), which an isms before this one cannot
      // read; it refuses the store instead (its migrations end at 7).
      {8, "audit logs: entries stored without the keys their records give", "SELECT 1",
       "SELECT 1"}};
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteNewFile(const std::string& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError(path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::IoError(path + ": " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    Status s = Status::IoError(path + ": " + std::strerror(errno));
    ::close(fd);
    return s;
  }
  ::close(fd);
  return Status::Ok();
}

// Writes `path` whole through a temporary file (`path` + `tmp_suffix`) renamed over it (the folder
// synced after), so that it holds either the old content or the new. Writers that may run at
// once need temporary files of their own.
Status ReplaceFile(const std::string& path, const std::string& content, mode_t mode,
                   const std::string& tmp_suffix = ".new") {
  const std::string tmp = path + tmp_suffix;
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  ISMS_RETURN_IF_ERROR(WriteNewFile(tmp, content, mode));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::IoError(path + ": " + std::strerror(errno));
    std::filesystem::remove(tmp, ec);
    return s;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
  return Status::Ok();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The length of the lease a DHCP record grants: its `lease_seconds` field when it has one (a
// rule captured or set it), else the contract's default.
std::chrono::milliseconds LeaseLength(const AuditRecord& r, const AuditSettings& settings) {
  std::int64_t seconds = settings.lease_seconds;
  const std::string_view v = r.Extra("lease_seconds");
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (!v.empty() && ec == std::errc() && end == v.data() + v.size() && n > 0 && n <= 366 * 86400) {
    seconds = n;
  }
  return std::chrono::seconds(seconds);
}

// What a DHCP record tells the lease index (asset attribution), or nothing: a grant or release
// of `src_ip` to a holder named by `src_mac` or `src_host`. The same when a record is appended
// and when verify rebuilds the index from the log.
std::optional<PreparedAuditRecord::Lease> LeaseOf(const AuditRecord& rec,
                                                  const AuditSettings& settings) {
  if (rec.category != AuditCategory::kDhcpLease || rec.src_ip.empty() ||
      (rec.src_mac.empty() && rec.src_host.empty())) {
    return std::nullopt;
  }
  PreparedAuditRecord::Lease l;
  l.release = rec.Extra("lease") == "release";
  l.length = LeaseLength(rec, settings);
  l.mac = audit::NormalizeMac(rec.src_mac);
  if (l.mac.empty()) l.mac = rec.src_mac;
  l.ip = rec.src_ip;
  l.host = rec.src_host;
  return l;
}

// What a DHCP record of the log tells the lease index, for its rebuild (verify, erasure).
struct LeaseFact {
  std::uint64_t leaf = 0;
  Instant at{};
  PreparedAuditRecord::Lease lease;
};

// The lease facts of a log's DHCP records, gathered by LogStore::Verify's visitor (called from
// several threads): only DHCP records are decoded, the rest are passed over by their category
// byte.
class LeaseFacts {
 public:
  explicit LeaseFacts(const AuditSettings& settings) : settings_(settings) {}

  audit::VerifyVisit Visitor() {
    return [this](std::uint64_t leaf, std::string_view bytes) { Add(leaf, bytes); };
  }
  // In leaf order; a DHCP record that does not decode is a problem of `rep`.
  std::vector<LeaseFact> Take(audit::VerifyReport& rep) {
    std::sort(facts_.begin(), facts_.end(),
              [](const LeaseFact& a, const LeaseFact& b) { return a.leaf < b.leaf; });
    std::sort(undecoded_.begin(), undecoded_.end());
    for (const auto& [leaf, why] : undecoded_) {
      rep.problems.push_back("leaf " + std::to_string(leaf) + ": " + why);
    }
    return std::move(facts_);
  }

 private:
  void Add(std::uint64_t leaf, std::string_view bytes) {
    if (PeekAuditCategory(bytes) != AuditCategory::kDhcpLease) return;
    Result<AuditRecord> rec = DecodeAuditRecord(bytes);
    std::optional<PreparedAuditRecord::Lease> l;
    if (rec.ok()) l = LeaseOf(*rec, settings_);
    std::lock_guard<std::mutex> lock(mu_);
    if (!rec.ok()) {
      undecoded_.emplace_back(leaf, rec.status().message());
    } else if (l) {
      facts_.push_back({leaf, rec->time, std::move(*l)});
    }
  }

  const AuditSettings& settings_;
  std::mutex mu_;
  std::vector<LeaseFact> facts_;
  std::vector<std::pair<std::uint64_t, std::string>> undecoded_;
};

// For verify: "" when an audit record's entry is indexed under the keys its record gives
// (AuditEntryKeysOf), else which of them disagree.
std::string AuditEntryKeysDisagree(std::string_view content, std::int64_t time_ms,
                                   std::string_view host, std::string_view user,
                                   std::optional<std::string_view> ip) {
  audit::ContentKeys k;
  if (!AuditEntryKeysOf(content, &k)) return "the record is not a canonical audit record";
  std::string why;
  auto add = [&](const char* what) { why += why.empty() ? what : std::string(", ") + what; };
  if (k.time_ms != time_ms) add("time");
  if (k.host != host) add("host");
  if (k.user != user) add("user");
  if (ip && *ip != k.ip) add("address");
  return why;
}

// The lease index as the log's DHCP records give it: `facts` (in leaf order) applied by the rules
// of the stored index (LeaseReplay), one append at a time, in time order. Leases of `stored`
// begun by a purged record are taken as they are (`seeded` counts them).
Result<std::vector<audit::Lease>> RebuildLeases(const std::vector<LeaseFact>& facts,
                                                audit::VerifyReport& rep,
                                                const std::vector<audit::Lease>& stored,
                                                std::uint64_t& seeded) {
  auto purged = [&](std::uint64_t leaf) {
    return std::any_of(rep.purged.begin(), rep.purged.end(), [&](const audit::Subtree& t) {
      return leaf >= t.start && leaf < t.start + t.size;
    });
  };
  audit::LeaseReplay replay;
  seeded = 0;
  // A lease begun by a purged record cannot be rebuilt: it is taken as stored, and the kept
  // records extend or end it as they did when they were appended.
  for (const audit::Lease& l : stored) {
    if (!purged(l.first_leaf)) continue;
    ++seeded;
    if (Status st = replay.Seed(l); !st.ok()) {
      rep.problems.push_back("lease index: " + st.message());
    }
  }
  // The records of one append went to the index together, in time order (IndexLeases); an
  // append ends at a checkpoint, so the checkpoints' sizes are the batches' boundaries.
  std::vector<const LeaseFact*> batch;
  auto apply = [&]() -> Status {
    std::stable_sort(batch.begin(), batch.end(),
                     [](const LeaseFact* a, const LeaseFact* b) { return a->at < b->at; });
    for (const LeaseFact* f : batch) {
      const PreparedAuditRecord::Lease& l = f->lease;
      ISMS_RETURN_IF_ERROR(l.release
                               ? replay.Release(l.ip, l.host, l.mac, f->at, f->leaf)
                               : replay.Grant(l.ip, l.host, l.mac, f->at, l.length, f->leaf));
    }
    batch.clear();
    return Status::Ok();
  };
  std::size_t boundary = 0;  // the first checkpoint beyond the batch being gathered
  for (const LeaseFact& f : facts) {
    const std::size_t b =
        static_cast<std::size_t>(std::upper_bound(rep.checkpoint_sizes.begin(),
                                                  rep.checkpoint_sizes.end(), f.leaf) -
                                 rep.checkpoint_sizes.begin());
    if (b != boundary) {
      ISMS_RETURN_IF_ERROR(apply());
      boundary = b;
    }
    batch.push_back(&f);
  }
  ISMS_RETURN_IF_ERROR(apply());
  return replay.Rows();
}

// "10.0.0.5 from 2026-11-28T09:00:00.000Z to ... held by laptop-042 (mac), DHCP records
// leaves N to M": one lease in verify's findings.
std::string DescribeLease(const audit::Lease& l) {
  std::string holder = l.host.empty() ? l.mac : l.host;
  if (!l.host.empty() && !l.mac.empty()) holder += " (" + l.mac + ")";
  return l.ip + " from " + FormatInstant(l.from) + " to " + FormatInstant(l.to) + " held by " +
         holder + ", DHCP record leaves " + std::to_string(l.first_leaf) + " to " +
         std::to_string(l.last_leaf);
}

// Verify's check of the lease index: rebuilds it from the lease facts of the log's DHCP records
// and appends a problem to `rep` for each stored lease that differs from the rebuild. A
// difference near one of `erased_times` (records erased before erasures rebuilt the index) is
// counted as unchecked, not reported.
Status CheckLeaseIndex(store::Connection& conn, std::int64_t contract_id,
                       const std::vector<LeaseFact>& facts, audit::VerifyReport& rep,
                       const std::vector<Instant>& erased_times) {
  ISMS_ASSIGN_OR_RETURN(std::vector<audit::Lease> stored,
                        audit::LeaseIndex(conn, contract_id).All());
  std::uint64_t seeded = 0;
  ISMS_ASSIGN_OR_RETURN(const std::vector<audit::Lease> rebuilt,
                        RebuildLeases(facts, rep, stored, seeded));

  // Compare by (address, start). An erasure rebuilds the index from the records that remain,
  // so the rebuild here matches it; before erasures did (their audit.erased events say
  // leases=rebuilt when they did), an erased record's part could not be rebuilt (its content is
  // gone; its time stays): a difference is left unchecked when such a record was erased at a
  // time inside the stored lease (it may have renewed, released or cut it short), or, for a
  // lease only the rebuild has, up to a year before it began (the erased grant's lease, dropped
  // with it, may have taken in the grants that begin this one).
  std::map<std::pair<std::string, std::int64_t>, const audit::Lease*> want, have;
  for (const audit::Lease& l : rebuilt) want[{l.ip, l.from.time_since_epoch().count()}] = &l;
  for (const audit::Lease& l : stored) have[{l.ip, l.from.time_since_epoch().count()}] = &l;
  auto erased_within = [&](Instant from, Instant to) {
    return std::any_of(erased_times.begin(), erased_times.end(),
                       [&](Instant t) { return t >= from && t <= to; });
  };
  auto excused = [&](const audit::Lease& l) { return erased_within(l.from, l.to); };
  auto excused_rebuilt = [&](const audit::Lease& l) {
    return erased_within(l.from - std::chrono::days(366), l.from);
  };
  std::uint64_t unchecked = 0;
  std::vector<std::string> found;
  for (const auto& [key, l] : have) {
    auto it = want.find(key);
    if (it != want.end() && *l == *it->second) continue;
    if (excused(*l)) {
      ++unchecked;
    } else if (it == want.end()) {
      found.push_back("lease index: the lease of " + DescribeLease(*l) +
                      " is not given by the log's DHCP records");
    } else {
      found.push_back("lease index: the lease of " + DescribeLease(*l) +
                      " differs from the one the log's DHCP records give: " +
                      DescribeLease(*it->second));
    }
  }
  for (const auto& [key, l] : want) {
    if (have.contains(key)) continue;
    if (excused_rebuilt(*l)) {
      ++unchecked;
    } else {
      found.push_back("lease index: the lease of " + DescribeLease(*l) +
                      ", which the log's DHCP records give, is missing");
    }
  }
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < found.size() && i < kShown; ++i) rep.problems.push_back(found[i]);
  if (found.size() > kShown) {
    rep.problems.push_back("lease index: " + std::to_string(found.size() - kShown) +
                           " more leases differ from the log's DHCP records");
  }
  rep.leases = stored.size();
  rep.leases_taken_as_stored = seeded;
  rep.leases_unchecked = unchecked;
  return Status::Ok();
}

}  // namespace

std::string LeafRanges(const std::vector<std::uint64_t>& leaves) {
  std::string out;
  for (std::size_t i = 0; i < leaves.size();) {
    std::size_t j = i;
    while (j + 1 < leaves.size() && leaves[j + 1] == leaves[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(leaves[i]);
    if (j > i) out += "-" + std::to_string(leaves[j]);
    i = j + 1;
  }
  return out;
}

Result<std::vector<std::uint64_t>> ParseLeafRanges(std::string_view text) {
  std::vector<std::uint64_t> out;
  auto number = [](std::string_view s, std::uint64_t& v) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t dash = part.find('-');
    std::uint64_t a = 0, b = 0;
    const bool ok = dash == std::string_view::npos
                        ? number(part, a) && (b = a, true)
                        : number(part.substr(0, dash), a) && number(part.substr(dash + 1), b);
    if (!ok || b < a || b - a >= (std::uint64_t{1} << 32)) {
      return Status::InvalidArgument("'" + std::string(part) +
                                     "' is not a leaf or a range of leaves; write e.g. 3,7-9");
    }
    for (std::uint64_t v = a;; ++v) {
      out.push_back(v);
      if (v == b) break;
    }
  }
  return out;
}

std::string AuditStoreUrl(const std::string& url) {
  if (!IsSqlite(url)) return url;
  std::string path = url.substr(7);
  if (path.size() > 3 && path.ends_with(".db"))
    return "sqlite:" + path.substr(0, path.size() - 3) + "-audit.db";
  return "sqlite:" + path + "-audit";
}

Result<std::string> AuditKeyDir(const std::string& url, const std::string& key_dir) {
  if (!key_dir.empty()) return key_dir;
  if (const char* env = std::getenv("ISMS_KEY_DIR"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (!IsSqlite(url)) {
    return Status::FailedPrecondition(
        "a PostgreSQL store keeps no files: give the folder of the audit signing key with "
        "--key-dir DIR or ISMS_KEY_DIR");
  }
  std::filesystem::path p(url.substr(7));
  std::string dir = p.parent_path().string();
  return dir.empty() ? std::string(".") : dir;
}

Result<AuditKeyInfo> EnsureAuditKey(const std::string& dir) {
  AuditKeyInfo info;
  info.private_path = (std::filesystem::path(dir) / kAuditKeyFile).string();
  info.public_path = (std::filesystem::path(dir) / kAuditPublicKeyFile).string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(dir + ": " + ec.message());
  struct stat st {};
  if (::stat(info.private_path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return Status::PermissionDenied(info.private_path +
                                      ": the audit signing key is readable by others; run "
                                      "chmod 600 on it (and consider it compromised)");
    }
    // The verifier key follows the secret: written when missing, and written again when it names
    // another key (a rotation stopped between replacing the one and the other).
    // Every process that uses the key may do this, at the moment a rotation writes the same
    // file: each through a temporary file of its own. A rotation may also replace the secret
    // after this read it and write its verifier key before this writes the old one: so the
    // secret is read again after each write, and the verifier key written again if the secret
    // changed meanwhile (the rotation writes its verifier key after its secret, so a secret
    // unchanged after this write means that the rotation's write, if any, comes later).
    ISMS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(info.private_path));
    for (int attempt = 0; attempt < 100; ++attempt) {
      ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, audit::NoteSigner::Decode(Trim(text)));
      info.verifier_key = signer.Verifier().Encode();
      Result<std::string> pub = ReadSmallFile(info.public_path);
      if (pub.ok() && Trim(*pub) == info.verifier_key) break;
      static std::atomic<unsigned> mends{0};
      ISMS_RETURN_IF_ERROR(ReplaceFile(
          info.public_path, info.verifier_key + "\n", 0644,
          ".mend-" + std::to_string(::getpid()) + "-" + std::to_string(mends.fetch_add(1))));
      ISMS_ASSIGN_OR_RETURN(std::string now, ReadSmallFile(info.private_path));
      if (now == text) break;
      text = std::move(now);
    }
    return info;
  }
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, audit::NoteSigner::Generate(kAuditKeyName));
  ISMS_RETURN_IF_ERROR(WriteNewFile(info.private_path, signer.Encode() + "\n", 0600));
  info.verifier_key = signer.Verifier().Encode();
  std::filesystem::remove(info.public_path, ec);
  ISMS_RETURN_IF_ERROR(WriteNewFile(info.public_path, info.verifier_key + "\n", 0644));
  info.created = true;
  return info;
}

namespace {

constexpr std::string_view kTransitionTitle = "isms audit key transition";

// The files of `dir` whose names start with `prefix` and end with `suffix`, sorted by name.
std::vector<std::filesystem::path> FilesLike(const std::string& dir, std::string_view prefix,
                                             std::string_view suffix) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > prefix.size() + suffix.size() && name.starts_with(prefix) &&
        name.ends_with(suffix)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<AuditKeyRotation> RotateAuditKey(const std::string& dir, Instant now) {
  const std::string private_path = (std::filesystem::path(dir) / kAuditKeyFile).string();
  if (!std::filesystem::exists(private_path)) {
    return Status::FailedPrecondition("no audit signing key to rotate in " + dir +
                                      " (`isms init` makes one)");
  }
  // One rotation at a time: two at once would both retire the same key, and the key the first
  // made (which may already have signed) would be retired by neither.
  const std::string lock_path = (std::filesystem::path(dir) / kAuditKeyLockFile).string();
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return Status::IoError(lock_path + ": " + std::strerror(errno));
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing the file releases the lock
  } unlock{lock};
  while (::flock(lock, LOCK_EX) != 0) {
    if (errno != EINTR) return Status::IoError(lock_path + ": " + std::strerror(errno));
  }
  ISMS_ASSIGN_OR_RETURN(AuditKeyInfo info, EnsureAuditKey(dir));
  ISMS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(info.private_path));
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner old_signer, audit::NoteSigner::Decode(Trim(text)));
  std::optional<audit::NoteSigner> fresh;
  // A new key whose key ID differs from every key the directory has held (4 bytes: a clash is
  // one in four billion, but checkpoints name their key by it).
  ISMS_ASSIGN_OR_RETURN(std::vector<audit::NoteVerifier> held, AuditVerifierKeys(dir));
  while (!fresh) {
    ISMS_ASSIGN_OR_RETURN(audit::NoteSigner s, audit::NoteSigner::Generate(kAuditKeyName));
    const bool clash = std::any_of(held.begin(), held.end(), [&](const audit::NoteVerifier& v) {
      return v.key_id() == s.key_id();
    });
    if (!clash) fresh = s;
  }
  AuditKeyRotation r;
  r.old_key = old_signer.Verifier();
  r.new_key = fresh->Verifier();
  const std::string body = std::string(kTransitionTitle) + "\nfrom " + r.old_key.Encode() +
                           "\nto " + r.new_key.Encode() + "\nat " + FormatInstant(now) + "\n";
  ISMS_ASSIGN_OR_RETURN(std::string note, audit::SignNote(body, old_signer));
  ISMS_ASSIGN_OR_RETURN(r.transition_note, audit::AddNoteSignature(note, *fresh));
  const std::filesystem::path d(dir);
  r.retired_path =
      (d / (std::string(kAuditRetiredKeyPrefix) + r.old_key.KeyIdText() + ".pub")).string();
  r.transition_path =
      (d / (std::string(kAuditKeyTransitionPrefix) + r.new_key.KeyIdText() + ".note")).string();
  r.public_path = info.public_path;
  // The old verifier key and the transition first; then the secret, renamed over the old one
  // (the rotation takes effect there); then the verifier key (EnsureAuditKey mends it should
  // this stop before).
  ISMS_RETURN_IF_ERROR(ReplaceFile(r.retired_path, r.old_key.Encode() + "\n", 0644));
  ISMS_RETURN_IF_ERROR(ReplaceFile(r.transition_path, r.transition_note, 0644));
  if (Status s = ReplaceFile(info.private_path, fresh->Encode() + "\n", 0600); !s.ok()) {
    // No transition to a key that never signed (the old key's verifier key may stay: it is the
    // key in use).
    std::error_code ec;
    std::filesystem::remove(r.transition_path, ec);
    return s;
  }
  ISMS_RETURN_IF_ERROR(ReplaceFile(info.public_path, r.new_key.Encode() + "\n", 0644));
  return r;
}

Result<std::vector<audit::NoteVerifier>> AuditVerifierKeys(const std::string& dir) {
  std::vector<audit::NoteVerifier> out;
  const std::string private_path = (std::filesystem::path(dir) / kAuditKeyFile).string();
  if (std::filesystem::exists(private_path)) {
    ISMS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(private_path));
    ISMS_ASSIGN_OR_RETURN(audit::NoteSigner s, audit::NoteSigner::Decode(Trim(text)));
    out.push_back(s.Verifier());
  }
  for (const auto& path : FilesLike(dir, kAuditRetiredKeyPrefix, ".pub")) {
    ISMS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path.string()));
    Result<audit::NoteVerifier> v = audit::NoteVerifier::Decode(Trim(text));
    if (!v.ok()) return v.status().WithContext(path.string());
    out.push_back(*v);
  }
  return out;
}

Result<std::vector<std::string>> AuditKeyTransitionNotes(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> notes;  // (at, note)
  for (const auto& path : FilesLike(dir, kAuditKeyTransitionPrefix, ".note")) {
    ISMS_ASSIGN_OR_RETURN(std::string note, ReadSmallFile(path.string()));
    Result<audit::SignedNote> parsed = audit::ParseNote(note);
    if (!parsed.ok()) return parsed.status().WithContext(path.string());
    const std::size_t at = parsed->text.find("\nat ");
    notes.emplace_back(at == std::string::npos ? "" : parsed->text.substr(at + 4), note);
  }
  std::stable_sort(notes.begin(), notes.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& n : notes) out.push_back(std::move(n.second));
  return out;
}

Result<AuditKeyTransition> OpenAuditKeyTransition(std::string_view note,
                                                  std::span<const audit::NoteVerifier> trusted) {
  ISMS_ASSIGN_OR_RETURN(std::string text, audit::OpenNote(note, trusted));
  const auto shape = [](const std::string& what) {
    return Status::InvalidArgument("not a key transition note: " + what +
                                   "; expected the lines 'isms audit key transition', 'from "
                                   "KEY', 'to KEY' and 'at TIME'");
  };
  std::vector<std::string> lines;
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t eol = text.find('\n', from);
    lines.push_back(text.substr(from, eol - from));
    from = eol + 1;
  }
  if (lines.size() != 4 || lines[0] != kTransitionTitle) return shape("its first line");
  if (!lines[1].starts_with("from ")) return shape("line 2");
  if (!lines[2].starts_with("to ")) return shape("line 3");
  if (!lines[3].starts_with("at ")) return shape("line 4");
  Result<audit::NoteVerifier> old_key = audit::NoteVerifier::Decode(lines[1].substr(5));
  if (!old_key.ok()) return shape("line 2's key (" + old_key.status().message() + ")");
  Result<audit::NoteVerifier> new_key = audit::NoteVerifier::Decode(lines[2].substr(3));
  if (!new_key.ok()) return shape("line 3's key (" + new_key.status().message() + ")");
  Result<Instant> at = ParseInstant(lines[3].substr(3));
  if (!at.ok()) return shape("line 4's time (" + at.status().message() + ")");
  // The key that opened the note must be the one it retires: a trusted key cannot hand on a key
  // it is not.
  const bool from_trusted =
      std::any_of(trusted.begin(), trusted.end(),
                  [&](const audit::NoteVerifier& v) { return v.Encode() == old_key->Encode(); });
  if (!from_trusted || !audit::OpenNote(note, *old_key).ok()) {
    return Status::PermissionDenied("the transition is from key " + old_key->Label() +
                                    ", which is not a key given, or which did not sign it");
  }
  Result<std::string> by_new = audit::OpenNote(note, *new_key);
  if (!by_new.ok()) {
    return Status::PermissionDenied("the transition's new key " + new_key->Label() +
                                    " did not sign it: " + by_new.status().message());
  }
  return AuditKeyTransition{*old_key, *new_key, lines[3].substr(3)};
}

Result<AuditKeyTransition> AuditKeyTransitionOf(std::string_view note) {
  ISMS_ASSIGN_OR_RETURN(audit::SignedNote parsed, audit::ParseNote(note));
  const std::string prefix = std::string(kTransitionTitle) + "\nfrom ";
  if (!parsed.text.starts_with(prefix)) {
    return Status::InvalidArgument("not a key transition note: its first line");
  }
  const std::size_t eol = parsed.text.find('\n', prefix.size());
  ISMS_ASSIGN_OR_RETURN(audit::NoteVerifier from, audit::NoteVerifier::Decode(parsed.text.substr(
                                                      prefix.size(), eol - prefix.size())));
  return OpenAuditKeyTransition(note, std::span<const audit::NoteVerifier>(&from, 1));
}

std::uint64_t AuditKindsOf(AuditCategory c) {
  return std::uint64_t{1} << static_cast<int>(c);
}

bool AuditEntryKeysOf(std::string_view content, audit::ContentKeys* out) {
  const std::optional<AuditRecordKeys> k = PeekAuditKeys(content);
  if (!k) return false;
  out->time_ms = k->time.time_since_epoch().count();
  out->host = k->host;
  out->user = k->user;
  out->ip = k->category == AuditCategory::kOutboundRequest ? k->src_ip : std::string_view();
  return true;
}

std::uint64_t AuditEntryKinds(std::string_view content) {
  const int c = PeekAuditCategoryNumber(content);
  return c < 0 ? 0 : AuditKindsOf(static_cast<AuditCategory>(c));
}

Result<std::optional<AuditRecord>> DecodeIfMatching(std::string_view bytes,
                                                    std::optional<AuditCategory> category,
                                                    const std::optional<std::string>& text) {
  const std::optional<AuditRecord> none;  // no match
  if (category) {
    const std::optional<AuditCategory> c = PeekAuditCategory(bytes);
    if (c && *c != *category) return none;  // (bytes that do not say fail to decode)
  }
  // The message is held verbatim in the bytes: bytes without the text hold no message with it.
  if (text && bytes.find(*text) == std::string_view::npos) return none;
  ISMS_ASSIGN_OR_RETURN(AuditRecord rec, DecodeAuditRecord(bytes));
  if ((category && rec.category != *category) ||
      (text && rec.message.find(*text) == std::string::npos)) {
    return none;
  }
  return std::optional<AuditRecord>(std::move(rec));
}

audit::LogStore AuditLog(store::Connection& conn, std::int64_t contract_id, int chunk_bits) {
  return audit::LogStore(conn, contract_id, audit::LogKind::kAudit, chunk_bits, AuditEntryKinds,
                         AuditEntryKeysOf);
}

int DefaultAuditChunkBits() {
  if (const char* v = std::getenv("ISMS_AUDIT_CHUNK_BITS")) {
    char* end = nullptr;
    long k = std::strtol(v, &end, 10);
    if (end != v && *end == '\0' && k >= 8 && k <= 20) return static_cast<int>(k);
  }
  return audit::LogStore::kDefaultChunkBits;
}

Result<std::unique_ptr<AuditService>> AuditService::Open(const std::string& url,
                                                         const std::string& key_dir,
                                                         const Clock& clock, int chunk_bits) {
  ISMS_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, Ledger::Open(url, clock));
  ISMS_ASSIGN_OR_RETURN(std::unique_ptr<store::Connection> conn,
                        store::Connection::Open(AuditStoreUrl(url)));
  if (conn->engine() == store::Engine::kSqlite) {
    ISMS_ASSIGN_OR_RETURN(int version, store::SchemaVersion(*conn));
    if (version == 0) {
      // A new audit file gets 16 KiB pages: a chunk's blocks are rows of a few KiB, of which
      // 4 KiB pages waste a fifth. (Only an empty file can change its page size; WAL again
      // after, whatever happened.)
      (void)conn->Execute("PRAGMA journal_mode = DELETE; PRAGMA page_size = 16384; VACUUM");
      ISMS_RETURN_IF_ERROR(conn->Execute("PRAGMA journal_mode = WAL"));
    }
    ISMS_RETURN_IF_ERROR(store::Migrate(*conn, AuditFileMigrations()));
  }
  std::string dir;
  Result<std::string> d = AuditKeyDir(url, key_dir);
  if (d.ok()) dir = *d;
  return std::unique_ptr<AuditService>(
      new AuditService(std::move(ledger), std::move(conn), dir, clock, chunk_bits));
}

Result<std::string> AuditService::KeyDir() const {
  if (key_dir_.empty()) return AuditKeyDir("postgresql:", "").status();
  return key_dir_;
}

Result<std::vector<std::string>> AuditService::KeyTransitionNotes() const {
  Result<std::string> dir = KeyDir();
  if (!dir.ok()) return std::vector<std::string>{};
  return AuditKeyTransitionNotes(*dir);
}

Result<audit::NoteSigner> AuditService::Signer() {
  ISMS_RETURN_IF_ERROR(KeyDir().status());
  const std::string private_path = (std::filesystem::path(key_dir_) / kAuditKeyFile).string();
  struct stat st {};
  if (signer_) {
    // The key as read before, unless a rotation renamed a new file over it. A key file that
    // went away is not made again while a key is in use: checkpoints go on with that key.
    if (::stat(private_path.c_str(), &st) != 0) return *signer_;
    if (st.st_ino == signer_inode_ &&
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec ==
            signer_mtime_ns_) {
      return *signer_;
    }
  }
  ISMS_ASSIGN_OR_RETURN(AuditKeyInfo info, EnsureAuditKey(key_dir_));
  if (info.created) created_key_ = info;
  // The file's identity before it is read: should it be replaced in between, the next call
  // reads it again.
  const bool known = ::stat(private_path.c_str(), &st) == 0;
  ISMS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(info.private_path));
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, audit::NoteSigner::Decode(Trim(text)));
  signer_ = signer;
  signer_inode_ = known ? st.st_ino : 0;
  signer_mtime_ns_ =
      known ? static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec : -1;
  return signer;
}

Result<std::vector<audit::NoteVerifier>> AuditService::Verifiers() {
  ISMS_RETURN_IF_ERROR(Signer().status());
  return AuditVerifierKeys(key_dir_);
}

Result<audit::NoteVerifier> AuditService::Verifier() {
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner s, Signer());
  return s.Verifier();
}

std::string AuditService::Origin(const std::string& contract, audit::LogKind kind) {
  return "isms/" + contract + (kind == audit::LogKind::kAudit ? "/audit" : "/ledger");
}

Result<std::int64_t> AuditService::ContractId(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_->FindContract(contract));
  return c.id;
}

Result<AuditIngestResult> AuditService::Ingest(const AuditIngestRequest& r) {
  const Instant now = clock_.Now();
  std::vector<AuditRecord> records;
  if (r.format == "jsonl") {
    ISMS_RETURN_IF_ERROR(ParseAuditJsonLines(r.data, r.source, now, [&](AuditRecord&& rec) {
      records.push_back(std::move(rec));
      return Status::Ok();
    }));
  } else if (r.format == "syslog" || r.format.empty()) {
    SyslogFrameDecoder decoder;
    SyslogFrames frames;
    decoder.Feed(r.data, frames);
    decoder.Finish(frames);
    SyslogOptions opts;
    opts.received = now;
    records.reserve(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
      AuditRecord rec = ParseSyslogMessage(frames.data(i), opts);
      rec.flags |= frames.flags(i);
      records.push_back(std::move(rec));
    }
  } else {
    return Status::InvalidArgument("unknown audit format '" + r.format + "': syslog or jsonl");
  }
  return AppendRecords(r.contract, std::move(records));
}

Result<PreparedAuditRecord> AuditPreparer::Prepare(AuditRecord&& rec) const {
  PreparedAuditRecord p;
  ISMS_RETURN_IF_ERROR(PrepareInto(rec, p));
  return p;
}

namespace {

// The prepared record of `rec`, classified: its canonical bytes, leaf hash (when `hash`) and
// index keys. The lease is the caller's.
template <typename Text>
Status Encode(const BasicAuditRecord<Text>& rec, PreparedAuditRecord& p, bool hash) {
  p.category = rec.category;
  ISMS_RETURN_IF_ERROR(EncodeAuditRecordInto(rec, p.entry.bytes));
  if (hash) p.entry.leaf_hash = audit::LeafHash(p.entry.bytes);
  p.entry.hashed = hash;
  p.entry.time = rec.time;
  p.entry.host.assign(rec.host);
  p.entry.user.assign(rec.user);
  if (rec.category == AuditCategory::kOutboundRequest) {
    p.entry.ip.assign(rec.src_ip);
  } else {
    p.entry.ip.clear();
  }
  // The keys are the record's, as AuditEntryKeysOf reads them from its bytes: the audit log
  // stores the entry without them. (Checked here in builds with assertions; verify finds any
  // entry stored so whose content gives other keys.)
  p.entry.keys_of_bytes = true;
  assert([&] {
    audit::ContentKeys k;
    return AuditEntryKeysOf(p.entry.bytes, &k) &&
           k.time_ms == p.entry.time.time_since_epoch().count() && k.host == p.entry.host &&
           k.user == p.entry.user && k.ip == p.entry.ip;
  }());
  return Status::Ok();
}

}  // namespace

Status AuditPreparer::PrepareInto(AuditRecord& rec, PreparedAuditRecord& p, bool hash) const {
  classifier_->Classify(rec);
  // A grant whose message states no lease length records the policy's, so that verify rebuilds
  // the lease index with the length used even after the policy has changed.
  if (rec.category == AuditCategory::kDhcpLease && rec.Extra("lease_seconds").empty() &&
      rec.Extra("lease") != "release" && LeaseOf(rec, settings_)) {
    rec.SetExtra("lease_seconds", std::to_string(settings_.lease_seconds));
  }
  ISMS_RETURN_IF_ERROR(Encode(rec, p, hash));
  std::optional<PreparedAuditRecord::Lease> lease = LeaseOf(rec, settings_);
  p.lease = lease ? std::make_unique<PreparedAuditRecord::Lease>(std::move(*lease)) : nullptr;
  return Status::Ok();
}

Status AuditPreparer::PrepareInto(AuditRecordView& rec, PreparedAuditRecord& p, bool hash) const {
  classifier_->Classify(rec);
  if (rec.category == AuditCategory::kDhcpLease) {
    // A lease may gain the policy's length (above): it takes the owned path. Rare beside the
    // rest of the traffic.
    AuditRecord owned = ToAuditRecord(rec);
    return PrepareInto(owned, p, hash);
  }
  ISMS_RETURN_IF_ERROR(Encode(rec, p, hash));
  p.lease.reset();  // LeaseOf: only DHCP records tell the lease index something
  return Status::Ok();
}

Result<std::shared_ptr<const AuditPreparer>> AuditService::PreparerOf(const ContractRecord& c) {
  auto it = preparers_.find(c.id);
  if (it != preparers_.end() && it->second->policy_toml() == c.policy_toml) return it->second;
  std::shared_ptr<AuditPreparer> p(new AuditPreparer());
  p->policy_toml_ = c.policy_toml;
  std::vector<AuditRule> supplier;
  if (!c.policy_toml.empty()) {
    ISMS_ASSIGN_OR_RETURN(supplier, LoadAuditRulesToml(c.policy_toml, "the contract's policy"));
    ISMS_ASSIGN_OR_RETURN(p->settings_,
                          LoadAuditSettingsToml(c.policy_toml, "the contract's policy"));
  }
  ISMS_ASSIGN_OR_RETURN(AuditClassifier classifier, AuditClassifier::Create(std::move(supplier)));
  p->classifier_ = std::make_unique<AuditClassifier>(std::move(classifier));
  preparers_[c.id] = p;
  return std::shared_ptr<const AuditPreparer>(p);
}

Result<std::shared_ptr<const AuditPreparer>> AuditService::Preparer(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_->FindContract(contract));
  return PreparerOf(c);
}

Status AuditService::IndexLeases(std::int64_t contract_id, LeaseBatch leases,
                                 std::uint64_t first_leaf) {
  if (leases.empty()) return Status::Ok();
  std::stable_sort(leases.begin(), leases.end(),
                   [](const auto& a, const auto& b) { return std::get<1>(a) < std::get<1>(b); });
  audit::LeaseIndex index(*conn_, contract_id);
  for (const auto& [i, at, lease] : leases) {
    const PreparedAuditRecord::Lease& l = *lease;
    if (l.release) {
      ISMS_RETURN_IF_ERROR(index.Release(l.ip, l.host, l.mac, at, first_leaf + i));
    } else {
      ISMS_RETURN_IF_ERROR(index.Grant(l.ip, l.host, l.mac, at, l.length, first_leaf + i));
    }
  }
  return Status::Ok();
}

Result<AuditIngestResult> AuditService::AppendRecords(const std::string& contract,
                                                      std::vector<AuditRecord> records) {
  ISMS_ASSIGN_OR_RETURN(std::shared_ptr<const AuditPreparer> preparer, Preparer(contract));
  std::vector<PreparedAuditRecord> prepared;
  prepared.reserve(records.size());
  for (AuditRecord& rec : records) {
    ISMS_ASSIGN_OR_RETURN(PreparedAuditRecord p, preparer->Prepare(std::move(rec)));
    prepared.push_back(std::move(p));
  }
  return AppendPrepared(contract, prepared);
}

Result<AuditIngestResult> AuditService::AppendPrepared(const std::string& contract,
                                                       std::vector<PreparedAuditRecord>& records) {
  std::vector<PreparedAuditRecord*> each(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) each[i] = &records[i];
  return AppendPrepared(contract, std::span<PreparedAuditRecord* const>(each));
}

Result<AuditIngestResult> AuditService::AppendPrepared(
    const std::string& contract, std::span<PreparedAuditRecord* const> records) {
  // One pass over the records (each a cache miss in a large batch): the categories counted, the
  // entries the log store reads where they are, the records that tell the lease index something.
  std::array<std::int64_t, 8> counts{};
  std::vector<audit::LogEntry*> entries(records.size());
  LeaseBatch leases;
  for (std::size_t i = 0; i < records.size(); ++i) {
    PreparedAuditRecord* p = records[i];
    ++counts[static_cast<std::size_t>(p->category) % counts.size()];
    entries[i] = &p->entry;
    if (p->lease) leases.emplace_back(i, p->entry.time, &*p->lease);
  }
  return AppendBatch(contract, records.size(), counts, std::move(leases),
                     [&](audit::LogStore& log, audit::TailHashes* tail) {
                       return log.Append(std::span<audit::LogEntry* const>(entries), tail);
                     });
}

Result<AuditIngestResult> AuditService::AppendStaged(const std::string& contract,
                                                     StagedAuditRecords& staged) {
  LeaseBatch leases;
  for (const StagedAuditRecords::LeaseAt& l : staged.leases_) {
    leases.emplace_back(l.index, l.at, &l.lease);
  }
  return AppendBatch(contract, staged.size(), staged.counts_, std::move(leases),
                     [&](audit::LogStore& log, audit::TailHashes* tail) {
                       return log.Append(staged.entries_, tail);
                     });
}

Result<AuditIngestResult> AuditService::AppendBatch(
    const std::string& contract, std::size_t records, const std::array<std::int64_t, 8>& counts,
    LeaseBatch leases, const std::function<Status(audit::LogStore&, audit::TailHashes*)>& append) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_->FindContract(contract));
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, Signer());
  const Instant now = clock_.Now();
  AuditIngestResult res;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] > 0) {
      res.categories[std::string(AuditCategoryKey(static_cast<AuditCategory>(k)))] = counts[k];
    }
  }
  audit::LogStore log = AuditLog(*conn_, c.id, chunk_bits_);
  audit::LogState before;
  Status done = [&]() -> Status {
    store::Transaction tx(*conn_);
    ISMS_RETURN_IF_ERROR(tx.Begin());
    ISMS_ASSIGN_OR_RETURN(before, log.State());
    ISMS_RETURN_IF_ERROR(append(log, &tails_[c.id]));
    ISMS_RETURN_IF_ERROR(IndexLeases(c.id, std::move(leases), before.size));
    ISMS_ASSIGN_OR_RETURN(res.checkpoint,
                          log.WriteCheckpoint(signer, Origin(c.name, audit::LogKind::kAudit), now));
    return tx.Commit();
  }();
  if (!done.ok()) tails_[c.id].valid = false;  // the transaction was rolled back
  ISMS_RETURN_IF_ERROR(done);
  res.records = static_cast<std::int64_t>(records);
  res.first_leaf = before.size;
  res.size = before.size + records;
  return res;
}

StagedAuditRecords::StagedAuditRecords() : entries_(AuditEntryKinds, AuditEntryKeysOf) {}

void StagedAuditRecords::Start(std::uint64_t first) {
  entries_.Start(first);
  counts_ = {};
  leases_.clear();
}

void StagedAuditRecords::Add(PreparedAuditRecord& record) {
  if (record.lease) leases_.push_back({entries_.size(), record.entry.time, *record.lease});
  ++counts_[static_cast<std::size_t>(record.category) % counts_.size()];
  entries_.Add(record.entry);
}

Status AuditService::Search(const AuditSearchRequest& r,
                            const std::function<Result<bool>(AuditHit&&)>& fn) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(r.contract));
  std::optional<AuditCategory> category;
  if (r.category) {
    ISMS_ASSIGN_OR_RETURN(category, ParseAuditCategoryKey(*r.category));
  }
  audit::LogQuery q;
  q.from = r.from;
  q.to = r.to;
  q.host = r.host;
  q.user = r.user;
  if (category) q.kinds = AuditKindsOf(*category);  // only the blocks holding that category
  std::vector<audit::Lease> leases;
  if (r.host && r.follow_leases) {
    ISMS_ASSIGN_OR_RETURN(leases, audit::LeaseIndex(*conn_, id).HeldBy(*r.host, r.from, r.to));
    for (const audit::Lease& l : leases) q.via.push_back({l.ip, l.from, l.to});
  }
  std::int64_t seen = 0;
  audit::LogStore log = AuditLog(*conn_, id, chunk_bits_);
  return log.Scan(q, [&](audit::StoredEntry&& e) -> Result<bool> {
    if (r.limit >= 0 && seen >= r.limit) return false;
    AuditHit hit;
    hit.leaf = e.leaf;
    hit.leaf_hash = e.leaf_hash;
    if (e.erased) {
      if (category || r.text) return true;
      hit.erased = true;
      hit.record.time = e.time;
      hit.record.host = std::move(e.host);
    } else {
      ISMS_ASSIGN_OR_RETURN(std::optional<AuditRecord> rec,
                            DecodeIfMatching(e.bytes, category, r.text));
      if (!rec) return true;
      hit.record = std::move(*rec);
      if (e.via >= 0) {
        const audit::Lease& l = leases[static_cast<std::size_t>(e.via)];
        // The index key came from the record; a record that does not say so is not attributed.
        if (hit.record.category != AuditCategory::kOutboundRequest || hit.record.src_ip != l.ip) {
          return true;
        }
        hit.via_lease = l;
      }
    }
    ++seen;
    ISMS_ASSIGN_OR_RETURN(bool more, fn(std::move(hit)));
    return more && (r.limit < 0 || seen < r.limit);
  });
}

Result<std::vector<audit::Lease>> AuditService::Leases(const std::string& contract,
                                                       const std::optional<std::string>& holder,
                                                       const std::optional<std::string>& ip,
                                                       std::optional<Instant> from,
                                                       std::optional<Instant> to) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  audit::LeaseIndex index(*conn_, id);
  if (holder && ip) return Status::InvalidArgument("give a host or an address, not both");
  if (holder) return index.HeldBy(*holder, from, to);
  if (ip) return index.OfAddress(*ip, from, to);
  return Status::InvalidArgument("give a host (name or MAC address) or an address");
}

Result<AuditEraseResult> AuditService::Erase(const AuditEraseRequest& r, const Actor& actor,
                                             bool dry_run) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_->FindContract(r.contract));
  AuditEraseResult res;
  std::set<std::uint64_t> wanted(r.leaves.begin(), r.leaves.end());
  if (r.filter) {
    AuditSearchRequest f = *r.filter;
    f.contract = r.contract;
    ISMS_RETURN_IF_ERROR(Search(f, [&](AuditHit&& h) -> Result<bool> {
      wanted.insert(h.leaf);
      return true;
    }));
  }
  if (dry_run) {
    res.leaves.assign(wanted.begin(), wanted.end());
    return res;
  }
  if (wanted.empty()) return res;
  const std::vector<std::uint64_t> leaves(wanted.begin(), wanted.end());
  audit::LogStore log = AuditLog(*conn_, c.id, chunk_bits_);
  {
    store::Transaction tx(*conn_);
    ISMS_RETURN_IF_ERROR(tx.Begin());
    ISMS_ASSIGN_OR_RETURN(std::vector<audit::StoredEntry> erased, log.Erase(leaves));
    bool dhcp = false;
    for (const audit::StoredEntry& e : erased) {
      res.leaves.push_back(e.leaf);
      dhcp = dhcp || PeekAuditCategory(e.bytes) == AuditCategory::kDhcpLease;
    }
    // An erased DHCP record's part in the lease index goes with its content: the index is
    // rebuilt from the records that remain, as verify rebuilds it (CheckLeaseIndex).
    if (dhcp) {
      audit::LeaseIndex index(*conn_, c.id);
      ISMS_ASSIGN_OR_RETURN(std::vector<audit::Lease> stored, index.All());
      ISMS_ASSIGN_OR_RETURN(std::shared_ptr<const AuditPreparer> preparer, PreparerOf(c));
      // The DHCP records that remain. When every block stores its kinds, only the blocks
      // holding some and the tail are read; else (blocks written before blocks kept kinds)
      // every record is, as verify reads them (on every core).
      LeaseFacts facts(preparer->settings());
      audit::VerifyReport rep;
      ISMS_ASSIGN_OR_RETURN(const std::uint64_t without_kinds, log.BlocksWithoutKinds());
      if (without_kinds == 0) {
        ISMS_ASSIGN_OR_RETURN(rep.checkpoint_sizes, log.CheckpointSizes());
        ISMS_ASSIGN_OR_RETURN(rep.purged, log.PurgedChunks());
        audit::LogQuery of_dhcp;
        of_dhcp.kinds = AuditKindsOf(AuditCategory::kDhcpLease);
        of_dhcp.leaf_hashes = false;
        const audit::VerifyVisit visit = facts.Visitor();
        ISMS_RETURN_IF_ERROR(log.Scan(of_dhcp, [&](audit::StoredEntry&& e) -> Result<bool> {
          if (!e.erased) visit(e.leaf, e.bytes);
          return true;
        }));
      } else {
        ISMS_ASSIGN_OR_RETURN(rep, VerifyLog(log, facts.Visitor(), {}));
      }
      std::uint64_t seeded = 0;
      ISMS_ASSIGN_OR_RETURN(std::vector<audit::Lease> rebuilt,
                            RebuildLeases(facts.Take(rep), rep, stored, seeded));
      std::set<std::pair<std::string, Instant>> kept;
      for (const audit::Lease& l : rebuilt) kept.emplace(l.ip, l.from);
      for (const audit::Lease& l : stored) {
        if (!kept.contains({l.ip, l.from})) ++res.leases_dropped;
      }
      ISMS_RETURN_IF_ERROR(index.ReplaceAll(rebuilt));
    }
    ISMS_RETURN_IF_ERROR(tx.Commit());
  }
  res.already_erased = leaves.size() - res.leaves.size();
  if (res.leaves.empty()) return res;
  NewEvent e;
  e.contract = r.contract;
  e.type = "audit.erased";
  e.at = clock_.Now();
  e.note = "isms audit erase";
  // leases=rebuilt: the lease index holds what the remaining records give (verify relies on it).
  e.attrs = {{"leaves", LeafRanges(res.leaves)},
             {"records", std::to_string(res.leaves.size())},
             {"leases", "rebuilt"}};
  if (!r.reason.empty()) e.attrs.emplace_back("reason", r.reason);
  Result<Event> recorded = ledger_->RecordEvent(e, actor);
  ISMS_RETURN_IF_ERROR(recorded.status().WithContext(
      "the records were erased but the ledger event was not recorded (record audit.erased with "
      "leaves=" +
      LeafRanges(res.leaves) + " by hand)"));
  res.event_id = recorded->id;
  return res;
}

Result<std::string> AuditService::LatestCheckpoint(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  return AuditLog(*conn_, id).LatestCheckpoint();
}

Result<std::string> AuditService::CheckpointWrittenBy(const std::string& contract, Instant t) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  return AuditLog(*conn_, id).CheckpointWrittenBy(t);
}

Result<std::string> AuditService::CheckpointAt(const std::string& contract, std::uint64_t size) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  return AuditLog(*conn_, id).CheckpointAt(size);
}

Result<audit::LogState> AuditService::State(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  return AuditLog(*conn_, id).State();
}

Result<audit::VerifyReport> AuditService::Verify(const std::string& contract,
                                                 const std::optional<std::string>& against) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_->FindContract(contract));
  const std::int64_t id = c.id;
  audit::LogStore log = AuditLog(*conn_, id);
  // One snapshot for the log and its lease index: a server may append meanwhile.
  store::Transaction snapshot(*conn_);
  if (!conn_->InTransaction()) ISMS_RETURN_IF_ERROR(snapshot.BeginRead());
  ISMS_ASSIGN_OR_RETURN(std::shared_ptr<const AuditPreparer> preparer, PreparerOf(c));
  LeaseFacts facts(preparer->settings());
  ISMS_ASSIGN_OR_RETURN(audit::VerifyReport rep,
                        VerifyLog(log, facts.Visitor(), AuditEntryKeysDisagree));
  // The times of the erased records whose erasure did not rebuild the lease index (erasures
  // before it did): the lease check cannot know their part.
  std::vector<Instant> unrebuilt_times;
  if (!rep.erased.empty()) {
    // An erasure without its ledger event would be a deletion in disguise.
    std::set<std::uint64_t> recorded, rebuilt;
    ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, ledger_->EventsAfter(id, 0));
    for (const Event& e : events) {
      if (e.type != "audit.erased") continue;
      Result<std::vector<std::uint64_t>> leaves = ParseLeafRanges(e.Attr("leaves").value_or(""));
      if (!leaves.ok()) continue;
      recorded.insert(leaves->begin(), leaves->end());
      if (e.Attr("leases") == "rebuilt") rebuilt.insert(leaves->begin(), leaves->end());
    }
    std::vector<std::uint64_t> unrecorded;
    for (std::size_t i = 0; i < rep.erased.size(); ++i) {
      if (!recorded.contains(rep.erased[i])) unrecorded.push_back(rep.erased[i]);
      if (!rebuilt.contains(rep.erased[i]) && i < rep.erased_times.size()) {
        unrebuilt_times.push_back(rep.erased_times[i]);
      }
    }
    if (!unrecorded.empty()) {
      rep.problems.push_back("erased leaves " + LeafRanges(unrecorded) +
                             ": no audit.erased event of the ledger records their erasure");
    }
  }
  ISMS_RETURN_IF_ERROR(CheckLeaseIndex(*conn_, id, facts.Take(rep), rep, unrebuilt_times));
  ISMS_ASSIGN_OR_RETURN(rep.blocks_without_kinds, log.BlocksWithoutKinds());
  if (!against) return rep;
  ISMS_ASSIGN_OR_RETURN(std::vector<audit::NoteVerifier> keys, Verifiers());
  Result<audit::Checkpoint> cp = audit::VerifyCheckpoint(*against, keys);
  if (!cp.ok()) {
    rep.problems.push_back("the checkpoint given: " + cp.status().message());
    return rep;
  }
  if (cp->origin != Origin(contract, audit::LogKind::kAudit)) {
    rep.problems.push_back("the checkpoint given is of log '" + cp->origin + "', not '" +
                           Origin(contract, audit::LogKind::kAudit) + "'");
    return rep;
  }
  if (cp->size > rep.size) {
    rep.problems.push_back("the checkpoint given has " + std::to_string(cp->size) +
                           " records, more than the log's " + std::to_string(rep.size) +
                           ": records were removed");
    return rep;
  }
  Result<std::vector<audit::Hash>> proof = log.ProveConsistency(cp->size, rep.size);
  if (!proof.ok()) {
    rep.problems.push_back("no consistency proof from the checkpoint given: " +
                           proof.status().message());
    return rep;
  }
  Status s = audit::VerifyConsistency(cp->size, rep.size, cp->root, rep.root, *proof);
  if (!s.ok()) {
    rep.problems.push_back("the log does not extend the checkpoint given (size " +
                           std::to_string(cp->size) + "): " + s.message());
  }
  return rep;
}

Result<AuditUpgradeResult> AuditService::Upgrade(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  audit::LogStore log = AuditLog(*conn_, id);
  AuditUpgradeResult res;
  std::optional<std::uint64_t> from = 0;
  while (from) {
    store::Transaction tx(*conn_);
    ISMS_RETURN_IF_ERROR(tx.Begin());
    ISMS_ASSIGN_OR_RETURN(audit::LogStore::KindsFill fill, log.FillKinds(*from, kUpgradeChunks));
    if (fill.chunks == 0) break;
    ISMS_RETURN_IF_ERROR(tx.Commit());
    res.blocks += fill.blocks;
    res.chunks += fill.chunks;
    ++res.transactions;
    from = fill.next;
  }
  audit::LogStore ledger(*conn_, id, audit::LogKind::kLedger, chunk_bits_);
  for (audit::LogStore* l : {&log, &ledger}) {
    for (std::optional<std::uint64_t> at = 0; at;) {
      store::Transaction tx(*conn_);
      ISMS_RETURN_IF_ERROR(tx.Begin());
      ISMS_ASSIGN_OR_RETURN(audit::LogStore::DigestFill fill, l->FillDigests(*at, kUpgradeChunks));
      if (fill.rows == 0) break;
      ISMS_RETURN_IF_ERROR(tx.Commit());
      res.digests += fill.rows;
      ++res.transactions;
      at = fill.next;
    }
  }
  return res;
}

Result<audit::VerifyReport> AuditService::VerifyLog(audit::LogStore& log,
                                                    const audit::VerifyVisit& visit,
                                                    const audit::VerifyKeys& keys) {
  ISMS_ASSIGN_OR_RETURN(std::vector<audit::NoteVerifier> signing_keys, Verifiers());
  return log.Verify(signing_keys, visit, keys);
}

Result<audit::InclusionProofData> AuditService::ProveInclusion(const std::string& contract,
                                                               std::uint64_t index,
                                                               std::uint64_t size) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  // One snapshot for the proof's reads: a server's group commit may fold the tail into a chunk
  // between them.
  store::Transaction snapshot(*conn_);
  if (!conn_->InTransaction()) ISMS_RETURN_IF_ERROR(snapshot.BeginRead());
  return AuditLog(*conn_, id).ProveInclusion(index, size);
}

Result<std::vector<audit::Hash>> AuditService::ProveConsistency(const std::string& contract,
                                                                std::uint64_t m, std::uint64_t n) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  // One snapshot for the proof's reads: a server's group commit may fold the tail into a chunk
  // between them.
  store::Transaction snapshot(*conn_);
  if (!conn_->InTransaction()) ISMS_RETURN_IF_ERROR(snapshot.BeginRead());
  return AuditLog(*conn_, id).ProveConsistency(m, n);
}

Result<AuditPurgeResult> AuditService::Purge(const std::string& contract, Date before,
                                             const Actor& actor) {
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_->Context(contract));
  const Instant now = clock_.Now();
  const Date today = LondonDate(now);
  const Policy& policy = PolicyInForce(ctx.versions, today);
  const Period retention = policy.AuditRetention();
  if (ctx.calendar.AddPeriod(before, retention) > today) {
    return Status::FailedPrecondition("refused: records before " + FormatDate(before) +
                                      " are not all older than the retention "
                                      "period of " +
                                      FormatPeriod(retention) +
                                      " (Annex 1 8.1.4; the contract's policy); give "
                                      "a date at least " +
                                      FormatPeriod(retention) + " before today (" +
                                      FormatDate(today) + ")");
  }
  audit::LogStore log = AuditLog(*conn_, ctx.record.id);
  AuditPurgeResult res;
  res.before = before;
  {
    store::Transaction tx(*conn_);
    ISMS_RETURN_IF_ERROR(tx.Begin());
    const Instant cutoff = StartOfLondonDay(before);
    ISMS_ASSIGN_OR_RETURN(res.purged, log.Purge(cutoff, now));
    // A lease that ended before every kept record attributes nothing any more.
    ISMS_RETURN_IF_ERROR(audit::LeaseIndex(*conn_, ctx.record.id)
                             .DropEndedBefore(res.purged.oldest_kept
                                                  ? std::min(cutoff, *res.purged.oldest_kept)
                                                  : cutoff));
    ISMS_RETURN_IF_ERROR(tx.Commit());
  }
  if (res.purged.chunks == 0) return res;
  NewEvent e;
  e.contract = contract;
  e.type = "audit.purged";
  e.at = now;
  e.note = "isms audit purge";
  e.attrs = {{"before", FormatDate(before)},
             {"chunks", std::to_string(res.purged.chunks)},
             {"records", std::to_string(res.purged.records)}};
  ISMS_RETURN_IF_ERROR(ledger_->RecordEvent(e, actor).status().WithContext(
      "the records were purged but the ledger event was not recorded"));
  return res;
}

Status AuditService::AppendLedgerEvent(const std::string& contract, std::string_view bytes) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, Signer());
  const Instant now = clock_.Now();
  audit::LogStore log(*conn_, id, audit::LogKind::kLedger, chunk_bits_);
  audit::LogEntry entry{std::string(bytes), now, "", "", ""};
  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  ISMS_RETURN_IF_ERROR(log.Append(std::span(&entry, 1)));
  ISMS_RETURN_IF_ERROR(
      log.WriteCheckpoint(signer, Origin(contract, audit::LogKind::kLedger), now).status());
  return tx.Commit();
}

Result<std::uint64_t> AuditService::SyncLedgerLog(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, Signer());
  audit::LogStore log(*conn_, id, audit::LogKind::kLedger, chunk_bits_);
  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  ISMS_ASSIGN_OR_RETURN(audit::LogState state, log.State());
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> events,
                        ledger_->EventsAfter(id, static_cast<std::int64_t>(state.size)));
  if (events.empty()) return std::uint64_t{0};
  std::vector<audit::LogEntry> batch;
  std::uint64_t expected = state.size + 1;
  for (const Event& e : events) {
    if (static_cast<std::uint64_t>(e.id) != expected) {
      return Status::Corruption("contract " + contract + ": the ledger has event " +
                                std::to_string(e.id) + " where event " + std::to_string(expected) +
                                " was expected: events were deleted or renumbered");
    }
    ++expected;
    batch.push_back({EncodeEventCanonical(e), e.recorded_at, "", "", ""});
    if (batch.size() == 4096) {
      ISMS_RETURN_IF_ERROR(log.Append(batch));
      batch.clear();
    }
  }
  if (!batch.empty()) ISMS_RETURN_IF_ERROR(log.Append(batch));
  ISMS_RETURN_IF_ERROR(
      log.WriteCheckpoint(signer, Origin(contract, audit::LogKind::kLedger), clock_.Now())
          .status());
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return static_cast<std::uint64_t>(events.size());
}

Result<AuditService::LedgerVerifyReport> AuditService::VerifyLedger(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(contract));
  ISMS_ASSIGN_OR_RETURN(std::vector<audit::NoteVerifier> keys, Verifiers());
  audit::LogStore log(*conn_, id, audit::LogKind::kLedger, chunk_bits_);
  LedgerVerifyReport rep;
  ISMS_ASSIGN_OR_RETURN(rep.log, log.Verify(keys));
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, ledger_->EventsAfter(id, 0));
  rep.events = events.size();
  audit::LogQuery all;
  all.leaf_hashes = false;  // verified above; the events are compared by content
  Status scan = log.Scan(all, [&](audit::StoredEntry&& entry) -> Result<bool> {
    const std::uint64_t n = entry.leaf + 1;  // the event number this leaf records
    if (entry.leaf >= events.size() || static_cast<std::uint64_t>(events[entry.leaf].id) != n) {
      rep.log.problems.push_back("ledger event " + std::to_string(n) +
                                 " is in the ledger log but no longer in the ledger");
      return false;
    }
    if (!entry.erased && entry.bytes != EncodeEventCanonical(events[entry.leaf])) {
      rep.log.problems.push_back("ledger event " + std::to_string(n) + " differs from leaf " +
                                 std::to_string(entry.leaf) +
                                 " of the ledger log: the event was changed after it was sealed");
      return false;
    }
    return true;
  });
  ISMS_RETURN_IF_ERROR(scan);
  rep.lagging = rep.events > rep.log.size ? rep.events - rep.log.size : 0;
  return rep;
}

}  // namespace isms::app
