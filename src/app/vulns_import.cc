// Scan and advisory imports: one transaction each.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stop_token>
#include <thread>
#include <unordered_map>
#include <variant>

#include "app/ledger_internal.h"
#include "app/text.h"
#include "app/vulns.h"
#include "app/vulns_internal.h"
#include "core/cvss.h"
#include "core/ordered_worker.h"
#include "core/severity.h"
#include "formats/advisory.h"
#include "formats/advisory_match.h"

namespace isms::app {
using namespace internal;

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path + ": check the path and its permissions");
  in.seekg(0, std::ios::end);
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) return Status::IoError("cannot read " + path + " to its end");
  return data;
}

// A file's bytes, mapped read-only (no copy: a scan report may be hundreds of megabytes); read
// into memory where it cannot be mapped (an empty file, a pipe).
class FileBytes {
 public:
  static Result<std::unique_ptr<FileBytes>> Open(const std::string& path) {
    auto f = std::unique_ptr<FileBytes>(new FileBytes);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Status::IoError("cannot read " + path + ": check the path and its permissions");
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        ::close(fd);
        ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
        f->map_ = p;
        f->size_ = static_cast<size_t>(st.st_size);
        return f;
      }
    }
    ::close(fd);
    ISMS_ASSIGN_OR_RETURN(f->copy_, ReadFile(path));
    return f;
  }
  ~FileBytes() {
    if (map_) ::munmap(map_, size_);
  }
  std::string_view bytes() const {
    return map_ ? std::string_view(static_cast<const char*>(map_), size_) : copy_;
  }
  // The parse has gone past `offset`: the mapped pages well before it are given back (read from
  // the file again should they be needed), so that a large file need not stay resident whole.
  void Release(std::uint64_t offset) {
    constexpr std::uint64_t kBehind = 8 << 20, kStep = 16 << 20;
    if (!map_ || offset < released_ + kBehind + kStep) return;
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t upto = (offset - kBehind) / page * page;
    ::madvise(static_cast<char*>(map_) + released_, upto - released_, MADV_DONTNEED);
    released_ = upto;
  }

 private:
  FileBytes() = default;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::uint64_t released_ = 0;
  std::string copy_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Host names are case-insensitive; other names are kept as given.
AssetName Normalised(const AssetName& n) {
  if (n.kind == "host" || n.kind == "fqdn" || n.kind == "mac") return {n.kind, Lower(n.value)};
  return n;
}

// The scanner's own severity word mapped onto the NVD scale, for findings without a vector.
std::optional<NvdRating> RatingOfWord(std::string word) {
  word = Lower(word);
  if (word == "critical" || word == "4") return NvdRating::kCritical;
  if (word == "high" || word == "important" || word == "3") return NvdRating::kHigh;
  if (word == "medium" || word == "moderate" || word == "2") return NvdRating::kMedium;
  if (word == "low" || word == "negligible" || word == "1") return NvdRating::kLow;
  if (word == "none" || word == "info" || word == "informational" || word == "log" || word == "0") {
    return NvdRating::kNone;
  }
  return std::nullopt;
}

struct Severity {
  std::string category = "Other";
  std::string source;
  std::optional<double> base_score;
  std::string vector;
};

// 9.2: CVSS vectors are scored here, never trusted from the file; NVD's vector first, then the
// vendor's; with none, the scanner's word is mapped and the source says so.
Severity DecideSeverity(const RawFinding& f, const Policy& policy,
                        const std::optional<std::string>& microsoft) {
  Severity out;
  std::vector<Rating> ratings;
  const CvssVector* chosen = nullptr;
  std::optional<CvssScore> chosen_score;
  for (int pass = 0; pass < 2 && !chosen; ++pass) {
    for (const CvssVector& v : f.cvss) {
      if ((pass == 0) != v.nvd) continue;
      Result<CvssScore> s = ScoreCvss(v.vector);
      if (!s.ok()) continue;
      if (!chosen_score || static_cast<int>(s->version) > static_cast<int>(chosen_score->version)) {
        chosen = &v;
        chosen_score = *s;
      }
    }
  }
  if (chosen_score) {
    double basis = chosen_score->base_score;
    if (policy.score_basis == ScoreBasis::kEnvironmental) {
      basis = chosen_score->version == CvssVersion::kV40
                  ? chosen_score->score
                  : chosen_score->environmental_score.value_or(chosen_score->base_score);
    }
    ratings.push_back(CvssRating(chosen_score->version, basis, policy.score_basis,
                                 chosen->source.empty() ? "scanner" : chosen->source));
    out.base_score = chosen_score->base_score;
    Result<std::string> canonical = CanonicalCvss(chosen->vector);
    out.vector = canonical.ok() ? *canonical : chosen->vector;
  }
  if (microsoft) ratings.push_back(MicrosoftRating(*microsoft));
  if (!ratings.empty()) {
    Result<CategoryDecision> d =
        DecideCategory(ratings, policy.severity_method, policy.score_basis);
    if (d.ok()) {
      out.category = std::string(CategoryName(d->category));
      out.source = DescribeRating(d->from);
      return out;
    }
  }
  for (const SeverityWord& w : f.severities) {
    if (std::optional<NvdRating> r = RatingOfWord(w.value)) {
      out.category = std::string(CategoryName(CategoryFromNvd(*r)));
      out.source = "scanner severity: " + w.issuer + " " + w.value + " (no CVSS vector)";
      return out;
    }
  }
  out.source = "no rating in the report: Other by default";
  return out;
}

// A NUL byte cannot be stored as text (PostgreSQL refuses it), yet reports carry them (Grype
// prints a Java version "17.0.10+7\u0000-J-ms8m"): each becomes U+FFFD, visibly.
void ReplaceNul(std::string& s) {
  for (size_t pos = 0; (pos = s.find('\0', pos)) != std::string::npos; pos += 3) {
    s.replace(pos, 1, "\xEF\xBF\xBD");
  }
}

void ReplaceNul(std::vector<AssetName>& names) {
  for (AssetName& n : names) ReplaceNul(n.value);
}

// A finding as the parse hands it over, with its severity decided on the parsing thread once
// the policy is known (the importing thread has the writes to do).
struct Parsed {
  RawFinding f;
  std::optional<Severity> severity;
};

// What the parse of a report says, handed from the parsing thread to the importing one in file
// order, in batches (one lock per batch), at most a few batches ahead of the import.
class ParseQueue final : public ScanSink {
 public:
  using Item = std::variant<ScannedAsset, Parsed>;

  ParseQueue(ImportProgress progress, std::int64_t total)
      : progress_(std::move(progress)), total_(total) {}

  // The parsing thread.
  Status OnScan(const ScanInfo& info) override {
    std::lock_guard lock(mu_);
    info_ = info;
    has_info_ = true;
    cv_.notify_all();
    return Status::Ok();
  }
  Status OnAsset(const ScannedAsset& asset) override {
    ScannedAsset a = asset;
    ReplaceNul(a.names);
    return Add(std::move(a));
  }
  Status OnFinding(RawFinding&& f) override {
    ReplaceNul(f.asset);
    for (std::string* s : {&f.check_id, &f.component, &f.purl, &f.cpe, &f.port, &f.title,
                           &f.fixed_version, &f.vex_justification}) {
      ReplaceNul(*s);
    }
    if (progress_ && ++count_ % 4096 == 0) {
      progress_(static_cast<std::int64_t>(f.offset), total_, count_);
    }
    Parsed parsed{std::move(f), std::nullopt};
    {
      std::lock_guard lock(policy_mu_);
      if (policy_) parsed.severity = DecideSeverity(parsed.f, *policy_, std::nullopt);
    }
    return Add(std::move(parsed));
  }
  // The importing thread: the policy the severities are decided under, from now on (nullptr:
  // no more; to be called before the policy is let go).
  void DecideUnder(const Policy* policy) {
    std::lock_guard lock(policy_mu_);
    policy_ = policy;
  }
  // Once the parse has ended, with its outcome.
  void Finish(Status parsed) {
    std::lock_guard lock(mu_);
    if (!batch_.empty()) full_.push_back(std::move(batch_));
    parsed_ = std::move(parsed);
    done_ = true;
    cv_.notify_all();
  }

  // The importing thread. The scan's facts, once the parse has given them (or ended).
  const ScanInfo& Info() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return has_info_ || done_; });
    return info_;
  }
  // The next batch in file order; false once the parse has ended and all were taken.
  bool Next(std::vector<Item>* batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || done_; });
    if (full_.empty()) return false;
    *batch = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return true;
  }
  // The parse's outcome (once Next has returned false).
  Status parsed() {
    std::lock_guard lock(mu_);
    return parsed_;
  }
  // The import gives up: the parse stops at its next item.
  void Abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    cv_.notify_all();
  }
  std::int64_t count() const { return count_; }

 private:
  static constexpr size_t kBatch = 512, kAhead = 8;

  Status Add(Item item) {
    batch_.push_back(std::move(item));
    if (batch_.size() < kBatch) return Status::Ok();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return full_.size() < kAhead || abandoned_; });
    if (abandoned_) return Status::Unavailable("the import stopped");
    full_.push_back(std::move(batch_));
    batch_.clear();
    cv_.notify_all();
    return Status::Ok();
  }

  ImportProgress progress_;
  const std::int64_t total_;
  std::mutex policy_mu_;  // held by the parsing thread while it uses policy_
  const Policy* policy_ = nullptr;
  std::int64_t count_ = 0;
  std::vector<Item> batch_;  // the parsing thread's, not yet handed over

  std::mutex mu_;
  std::condition_variable cv_;
  ScanInfo info_;
  bool has_info_ = false;
  std::deque<std::vector<Item>> full_;
  bool done_ = false;
  bool abandoned_ = false;
  Status parsed_;
};

// The asset register of one contract, held in memory for an import.
class AssetRegister {
 public:
  AssetRegister(store::Connection& conn, std::int64_t contract_id, Instant now)
      : conn_(conn), contract_id_(contract_id), now_(now) {}

  Status Load() {
    ISMS_ASSIGN_OR_RETURN(auto st,
                          conn_.Prepare("SELECT id, name FROM assets WHERE contract_id = $1"));
    st->BindInt(1, contract_id_);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      names_[st->ColumnText(1)] = st->ColumnInt(0);
      by_id_[st->ColumnInt(0)] = st->ColumnText(1);
      next_id_ = std::max(next_id_, st->ColumnInt(0) + 1);
    }
    ISMS_ASSIGN_OR_RETURN(auto al,
                          conn_.Prepare("SELECT kind, value, asset_id FROM asset_aliases WHERE "
                                        "contract_id = $1"));
    al->BindInt(1, contract_id_);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, al->Step());
      if (!more) break;
      aliases_[Key(al->ColumnText(0), al->ColumnText(1))] = al->ColumnInt(2);
    }
    return Status::Ok();
  }

  // The asset known by any of `names` (adding the names it lacks), or a new one named after the
  // first; `forced` puts everything on the asset of that register name.
  Result<std::int64_t> Resolve(const std::vector<AssetName>& raw, const std::string& forced) {
    // The findings of one host come one after another with the same names: resolved once.
    if (last_id_ && raw == last_raw_ && forced == last_forced_) return *last_id_;
    ISMS_ASSIGN_OR_RETURN(std::int64_t id, ResolveNames(raw, forced));
    last_raw_ = raw;
    last_forced_ = forced;
    last_id_ = id;
    return id;
  }

  // True when resolving `raw` with `forced` (as Resolve takes them) would register nothing,
  // neither an asset nor an alias: every name that identifies an asset is known already.
  bool Knows(const std::vector<AssetName>& raw, const std::string& forced) const {
    // Names just resolved are registered, and so known.
    if (last_id_ && raw == last_raw_ && forced == last_forced_) return true;
    return KnowsNames(raw, forced);
  }

 private:
  Result<std::int64_t> ResolveNames(const std::vector<AssetName>& raw, const std::string& forced) {
    std::vector<AssetName> names;
    for (const AssetName& n : raw) {
      if (!n.value.empty()) names.push_back(Normalised(n));
    }
    std::optional<std::int64_t> id;
    if (!forced.empty()) {
      auto it = names_.find(forced);
      if (it != names_.end()) {
        id = it->second;
      } else {
        ISMS_ASSIGN_OR_RETURN(std::int64_t created, Create(forced));
        id = created;
      }
    }
    // A cluster name is shared by every image in it: it identifies an asset only when it is
    // the only name given.
    auto identifying = [&](const AssetName& n) { return n.kind != "cluster" || names.size() == 1; };
    for (const AssetName& n : names) {
      if (id) break;
      if (!identifying(n)) continue;
      auto it = aliases_.find(Key(n.kind, n.value));
      if (it != aliases_.end()) id = it->second;
    }
    if (!id) {
      if (names.empty()) {
        return Status::InvalidArgument(
            "a finding names no asset: give the asset with --asset NAME");
      }
      auto named = std::find_if(names.begin(), names.end(), identifying);
      const AssetName& first = named != names.end() ? *named : names.front();
      std::string name = first.value;
      for (int k = 2; names_.count(name); ++k) name = first.value + "#" + std::to_string(k);
      ISMS_ASSIGN_OR_RETURN(std::int64_t created, Create(name));
      id = created;
    }
    for (const AssetName& n : names) {
      if (!identifying(n)) continue;
      std::string key = Key(n.kind, n.value);
      if (aliases_.count(key)) continue;
      aliases_[key] = *id;
      new_aliases_.push_back({n.kind, n.value, *id});
    }
    return *id;
  }

  bool KnowsNames(const std::vector<AssetName>& raw, const std::string& forced) const {
    if (!forced.empty() && !names_.count(forced)) return false;
    size_t given = 0;
    for (const AssetName& n : raw) given += n.value.empty() ? 0 : 1;
    bool any = false;
    for (const AssetName& n : raw) {
      if (n.value.empty() || (n.kind == "cluster" && given != 1)) continue;
      const AssetName name = Normalised(n);
      if (!aliases_.count(Key(name.kind, name.value))) return false;
      any = true;
    }
    return any;
  }

 public:
  // The register name of asset `id` ("" when unknown).
  const std::string& NameOf(std::int64_t id) const {
    static const std::string kNone;
    auto it = by_id_.find(id);
    return it == by_id_.end() ? kNone : it->second;
  }

  // Writes the assets and aliases added since Load(), in bulk (one COPY each on PostgreSQL,
  // where one statement per asset and alias cost a round trip each).
  Status Flush() {
    if (!new_assets_.empty()) {
      ISMS_ASSIGN_OR_RETURN(
          auto w, conn_.BulkInsert("assets", {"contract_id", "id", "name", "created_at"}));
      for (std::int64_t id : new_assets_) {
        w->AddInt(contract_id_);
        w->AddInt(id);
        w->AddText(by_id_[id]);
        w->AddInt(Ms(now_));
        ISMS_RETURN_IF_ERROR(w->EndRow());
      }
      ISMS_RETURN_IF_ERROR(w->Finish());
      new_assets_.clear();
    }
    if (!new_aliases_.empty()) {
      ISMS_ASSIGN_OR_RETURN(
          auto w, conn_.BulkInsert("asset_aliases", {"contract_id", "kind", "value", "asset_id"}));
      for (const auto& [kind, value, id] : new_aliases_) {
        w->AddInt(contract_id_);
        w->AddText(kind);
        w->AddText(value);
        w->AddInt(id);
        ISMS_RETURN_IF_ERROR(w->EndRow());
      }
      ISMS_RETURN_IF_ERROR(w->Finish());
      new_aliases_.clear();
    }
    return Status::Ok();
  }

 private:
  static std::string Key(const std::string& kind, const std::string& value) {
    return kind + '\x1f' + value;
  }
  Result<std::int64_t> Create(const std::string& name) {
    std::int64_t id = next_id_++;
    names_[name] = id;
    by_id_[id] = name;
    new_assets_.push_back(id);
    return id;
  }

  store::Connection& conn_;
  std::int64_t contract_id_;
  Instant now_;
  std::int64_t next_id_ = 1;
  std::unordered_map<std::string, std::int64_t> names_;
  std::unordered_map<std::int64_t, std::string> by_id_;
  std::unordered_map<std::string, std::int64_t> aliases_;
  std::vector<std::int64_t> new_assets_;  // not yet written
  struct Alias {
    std::string kind, value;
    std::int64_t asset;
  };
  std::vector<Alias> new_aliases_;  // not yet written
  // The names last resolved, and their asset.
  std::vector<AssetName> last_raw_;
  std::string last_forced_;
  std::optional<std::int64_t> last_id_;
};

std::string FindingKey(std::int64_t asset, const std::string& scanner, const std::string& check,
                       const std::string& component) {
  return std::to_string(asset) + '\x1f' + scanner + '\x1f' + check + '\x1f' + component;
}

struct Existing {
  std::int64_t id;
  std::optional<std::int64_t> remediated_at;
  bool exploit_available;
};

const std::vector<std::string> kFindingColumnList = {"contract_id",
                                                     "id",
                                                     "asset_id",
                                                     "scanner",
                                                     "scan_type",
                                                     "check_id",
                                                     "component",
                                                     "purl",
                                                     "cpe",
                                                     "port",
                                                     "title",
                                                     "vuln_id",
                                                     "cves",
                                                     "category",
                                                     "category_source",
                                                     "base_score",
                                                     "cvss_vector",
                                                     "kind",
                                                     "fix_state",
                                                     "fixed_version",
                                                     "patch_published",
                                                     "vuln_published",
                                                     "csaf_fix_date",
                                                     "csaf_advisory_date",
                                                     "csaf_advisory",
                                                     "exploit_available",
                                                     "exploit_seen_at",
                                                     "first_seen",
                                                     "last_seen",
                                                     "first_scan_id",
                                                     "last_scan_id",
                                                     "credentialed",
                                                     "remediated_at",
                                                     "remediated_by",
                                                     "statement",
                                                     "statement_note"};

// "YYYY-MM-DD", as FormatDate writes it, without its printf (two dates a finding).
void AddOptionalDate(store::BulkWriter& w, const std::optional<Date>& d) {
  if (!d) return w.AddNull();
  const int y = static_cast<int>(d->year());
  if (y < 0 || y > 9999 || !d->ok()) return w.AddText(FormatDate(*d));
  const unsigned m = static_cast<unsigned>(d->month()), day = static_cast<unsigned>(d->day());
  const char text[10] = {static_cast<char>('0' + y / 1000),     static_cast<char>('0' + y / 100 % 10),
                         static_cast<char>('0' + y / 10 % 10),  static_cast<char>('0' + y % 10),
                         '-',
                         static_cast<char>('0' + m / 10),       static_cast<char>('0' + m % 10),
                         '-',
                         static_cast<char>('0' + day / 10),     static_cast<char>('0' + day % 10)};
  w.AddText(std::string_view(text, sizeof text));
}

// A finding new to the register, with what is decided about it before it is written.
struct Pending {
  std::int64_t asset;
  RawFinding f;
  Severity severity;
  std::string kind;  // vulnerability, observation, own-code
  std::string cves;  // as stored: comma-separated

  void Decide(const Policy& policy, std::optional<Severity>& decided) {
    severity = decided ? std::move(*decided) : DecideSeverity(f, policy, std::nullopt);
    kind = f.informational ? "observation" : f.own_code ? "own-code" : "vulnerability";
    cves = Join(f.cves, ',');
  }
  // Once decided and written: what is not written (nor merged, nor evaluated) is let go.
  void Slim() {
    std::vector<AssetName>().swap(f.asset);
    std::vector<std::string>().swap(f.aliases);
    std::vector<std::string>().swap(f.cwes);
    std::vector<CvssVector>().swap(f.cvss);
    std::vector<SeverityWord>().swap(f.severities);
    std::string().swap(f.solution);
  }
  const std::string& VulnId() const { return f.cves.size() == 1 ? f.cves[0] : f.check_id; }
  std::string Statement() const {
    if (f.vex == VexState::kNotAffected) return "not_affected";
    if (f.vex == VexState::kFixed) return "fixed";
    return "";
  }
  // What the finding's clocks are decided from, as it reads back once written (finding `id`,
  // first seen by a scan run at `scanned_at`).
  void Clock(std::int64_t id, const std::string& asset_name, Instant scanned_at,
             FindingClockFields* r) const {
    r->id = id;
    r->asset_name = asset_name;
    r->vuln_id = VulnId();
    r->category = severity.category;
    r->kind = kind;
    r->fix_state = std::string(FixStateKey(f.fix));
    r->patch_published = f.patch_published;
    r->vuln_published = f.vuln_published;
    r->csaf_fix_date.reset();
    r->csaf_advisory_date.reset();
    r->exploit_available = f.exploit_available;
    r->exploit_seen_at = f.exploit_available ? std::optional<Instant>(scanned_at) : std::nullopt;
    r->first_seen = scanned_at;
    r->remediated_at =
        f.vex == VexState::kFixed ? std::optional<Instant>(scanned_at) : std::nullopt;
    r->statement = Statement();
  }
  static std::string StatementRemediation(std::int64_t scan_id) {
    return "statement in scan S-" + std::to_string(scan_id);
  }
};

// The new findings' clocks, evaluated on a thread of its own while the import reads and writes
// the next findings (the rules are pure), and their obligations and streams written through
// the import's bulk group, which stores them as they come on either engine (see BulkGroup). Rows
// wait in a bounded queue: the import waits when the evaluation falls behind, so that memory
// stays bounded.
class ClockQueue {
 public:
  ClockQueue(const ContractContext& ctx, Instant now, store::BulkWriter& obligations,
             store::BulkWriter& streams)
      : ctx_(ctx), now_(now), obligations_(obligations), streams_(streams),
        worker_(kAhead, [this](std::vector<FindingClockFields>& rows) { return Write(rows); }) {}
  ClockQueue(const ClockQueue&) = delete;
  ClockQueue& operator=(const ClockQueue&) = delete;

  // The fields of a new finding, as written.
  void Add(FindingClockFields&& row) {
    batch_.push_back(std::move(row));
    if (batch_.size() == kBatch) Hand();
  }
  // Waits for every row to be evaluated and its clocks written (before the group finishes);
  // gives the first error of the writes.
  Status Close() {
    if (!batch_.empty()) Hand();
    return worker_.Stop(/*discard=*/false);
  }

 private:
  static constexpr size_t kBatch = 256, kAhead = 64;

  // A failure is given by Close() (the rest is not evaluated: the import fails).
  void Hand() {
    (void)worker_.Hand(std::move(batch_));
    batch_.clear();
  }
  // On the worker's thread.
  Status Write(const std::vector<FindingClockFields>& rows) {
    static const std::vector<Event> kNone;
    const std::int64_t cid = ctx_.record.id;
    for (const FindingClockFields& row : rows) {
      const std::string stream = "vuln:" + FindingId(row.id);
      const Evaluation ev =
          EvaluateFinding(FactsOf(row, ctx_, kNone, now_), ctx_.versions, ctx_.calendar, kNone,
                          now_)
              .evaluation;
      int ordinal = 0;
      for (const Obligation& o : ev.obligations) {
        ledger_internal::AddObligationRow(obligations_, cid, stream, ordinal++, o);
        ISMS_RETURN_IF_ERROR(obligations_.EndRow());
      }
      ISMS_RETURN_IF_ERROR(ledger_internal::AddStreamRow(streams_, cid, stream, ev.next_change));
    }
    return Status::Ok();
  }

  const ContractContext& ctx_;
  const Instant now_;
  store::BulkWriter& obligations_;
  store::BulkWriter& streams_;
  std::vector<FindingClockFields> batch_;  // the import's, not yet handed over
  OrderedWorker<std::vector<FindingClockFields>> worker_;  // last: stopped first
};

// From this many new obligations an import may write them without obligations_by_urgency and make
// the index again (see ImportScan): below it, keeping the index up to date costs little.
constexpr std::int64_t kRebuildUrgencyAtLeast = 10000;

// Fills the temporary table isms_ids (made once per connection) with `ids`.
Status FillIds(store::Connection& conn, const std::vector<std::int64_t>& ids) {
  ISMS_RETURN_IF_ERROR(conn.Execute(
      conn.engine() == store::Engine::kPostgres
          ? "CREATE TEMP TABLE IF NOT EXISTS isms_ids (id BIGINT PRIMARY KEY) ON COMMIT DELETE ROWS"
          : "CREATE TEMP TABLE IF NOT EXISTS isms_ids (id INTEGER PRIMARY KEY)"));
  ISMS_RETURN_IF_ERROR(conn.Execute("DELETE FROM isms_ids"));
  std::vector<std::int64_t> unique = ids;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  ISMS_ASSIGN_OR_RETURN(auto w, conn.BulkInsert("isms_ids", {"id"}));
  for (std::int64_t id : unique) {
    w->AddInt(id);
    ISMS_RETURN_IF_ERROR(w->EndRow());
  }
  return w->Finish();
}

// Runs `sql` (an UPDATE of findings WHERE id IN (SELECT id FROM isms_ids), with up to two
// parameters) for the findings `ids`: one statement for them all rather than one each.
Status UpdateFindings(store::Connection& conn, const std::vector<std::int64_t>& ids,
                      const std::string& sql, std::optional<std::int64_t> p1 = std::nullopt,
                      std::optional<std::string> p2 = std::nullopt) {
  if (ids.empty()) return Status::Ok();
  ISMS_RETURN_IF_ERROR(FillIds(conn, ids));
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
  if (p1) st->BindInt(1, *p1);
  if (p2) st->BindText(2, *p2);
  return st->Run();
}

// Stores `evaluations` as the obligations of their streams, replacing what was stored there:
// what Ledger::StoreEvaluation does for one stream, for many at once (the streams' rows deleted
// in two statements, the new ones written in bulk) where one stream at a time cost five round
// trips each on PostgreSQL.
Status ReplaceEvaluations(Ledger& ledger, store::Connection& conn, const ContractContext& ctx,
                          const std::vector<std::pair<std::string, Evaluation>>& evaluations) {
  if (evaluations.empty()) return Status::Ok();
  ISMS_RETURN_IF_ERROR(conn.Execute(
      conn.engine() == store::Engine::kPostgres
          ? "CREATE TEMP TABLE IF NOT EXISTS isms_streams (stream TEXT PRIMARY KEY) ON COMMIT "
            "DELETE ROWS"
          : "CREATE TEMP TABLE IF NOT EXISTS isms_streams (stream TEXT PRIMARY KEY)"));
  ISMS_RETURN_IF_ERROR(conn.Execute("DELETE FROM isms_streams"));
  {
    ISMS_ASSIGN_OR_RETURN(auto w, conn.BulkInsert("isms_streams", {"stream"}));
    for (const auto& [stream, ev] : evaluations) {
      w->AddText(stream);
      ISMS_RETURN_IF_ERROR(w->EndRow());
    }
    ISMS_RETURN_IF_ERROR(w->Finish());
  }
  // The range of the streams' names as well (always true of them): the streams of the assets a
  // scan covered are neighbours in the primary key, whose range PostgreSQL then reads rather
  // than the whole table (the 5,000 streams of a scan's assets among 417,000 obligations: 9.5 ms
  // against 236 ms).
  for (const char* table : {"obligations", "streams"}) {
    ISMS_ASSIGN_OR_RETURN(auto del, conn.Prepare(std::string("DELETE FROM ") + table +
                                                 " WHERE contract_id = $1 AND stream BETWEEN "
                                                 "(SELECT MIN(stream) FROM isms_streams) AND "
                                                 "(SELECT MAX(stream) FROM isms_streams) AND "
                                                 "stream IN (SELECT stream FROM isms_streams)"));
    del->BindInt(1, ctx.record.id);
    ISMS_RETURN_IF_ERROR(del->Run());
  }
  return ledger.StoreNewEvaluations(ctx, evaluations);
}

}  // namespace

Result<ImportScanResult> Vulnerabilities::ImportScan(const ImportScanRequest& r, const Actor& actor,
                                                     const ImportProgress& progress) {
  ImportScanResult result;
  result.file = r.path;
  ISMS_ASSIGN_OR_RETURN(std::unique_ptr<FileBytes> file, FileBytes::Open(r.path));
  const std::string_view data = file->bytes();
  result.bytes = static_cast<std::int64_t>(data.size());
  ScanFormat format;
  if (r.format) {
    format = *r.format;
  } else {
    ISMS_ASSIGN_OR_RETURN(format, DetectScanFormat(data.substr(0, 65536), r.path));
  }
  result.format = format;
  // The file is parsed on another thread from the start, its findings merged and written on this
  // one as they come (the parse and the writes overlap), and hashed on a third: the same file
  // again changes nothing, and is known from its hash (checked as soon as the hash is ready: the
  // import then stops, and what it wrote is rolled back).
  ParseQueue parse(progress, result.bytes);
  std::jthread parser([&] { parse.Finish(ParseScan(data, format, r.path, parse)); });
  struct Stop {
    ParseQueue& q;
    ~Stop() { q.Abandon(); }  // on every way out, before the parser is joined
  } stop{parse};
  std::future<std::string> hashing =
      std::async(std::launch::async, [data] { return Sha256Hex(data); });

  store::Connection& conn = ledger_.connection();
  const Instant now = ledger_.clock().Now();
  const std::string scanner(ScanFormatKey(format));
  // The findings the report may bring, reckoned from its size: one per 2 KiB (scanners write
  // more per finding than that).
  const std::int64_t adding = result.bytes / 2048;
  const bool large = adding >= kRebuildUrgencyAtLeast;
  store::Transaction tx(conn);
  // A large report is written as a large transaction: on SQLite through a rollback journal when
  // the store is not open elsewhere (see BeginLarge), which writes its pages once instead of
  // twice (the Trivy file of the benchmark, 200,000 findings: 2.7-3.1 s against 3.5-3.7 s).
  ISMS_RETURN_IF_ERROR(large ? tx.BeginLarge() : tx.Begin());
  if (conn.engine() == store::Engine::kPostgres) {
    // Finding and scan numbers are allocated below: one import at a time per store.
    ISMS_RETURN_IF_ERROR(conn.Execute("LOCK TABLE findings IN EXCLUSIVE MODE"));
  }
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Context(r.contract));
  const std::int64_t cid = ctx.record.id;
  // The scans imported into the contract, by their files' hashes.
  std::unordered_map<std::string, std::int64_t> imported;
  {
    ISMS_ASSIGN_OR_RETURN(auto st,
                          conn.Prepare("SELECT sha256, id FROM scans WHERE contract_id = $1"));
    st->BindInt(1, cid);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      imported.emplace(st->ColumnText(0), st->ColumnInt(1));
    }
  }
  std::optional<std::string> sha;
  // True when the file is one imported already (`wait`: for the hash, else only once it is
  // ready); the result then says which scan it was.
  auto imported_already = [&](bool wait) {
    if (!sha) {
      if (!wait && hashing.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        return false;
      }
      sha = hashing.get();
    }
    auto it = imported.find(*sha);
    if (it == imported.end()) return false;
    // What was counted before the hash was ready is not reported: nothing was imported.
    ImportScanResult known;
    known.file = result.file;
    known.bytes = result.bytes;
    known.format = result.format;
    known.duplicate = true;
    known.scan_id = it->second;
    result = std::move(known);
    return true;
  };
  ISMS_ASSIGN_OR_RETURN(auto next_scan, conn.Prepare("SELECT id FROM scans WHERE contract_id = $1 "
                                                     "ORDER BY id DESC LIMIT 1"));
  next_scan->BindInt(1, cid);
  ISMS_ASSIGN_OR_RETURN(bool any_scan, next_scan->Step());
  result.scan_id = any_scan ? next_scan->ColumnInt(0) + 1 : 1;
  ISMS_ASSIGN_OR_RETURN(auto next_finding,
                        conn.Prepare("SELECT id FROM findings ORDER BY id DESC LIMIT 1"));
  ISMS_ASSIGN_OR_RETURN(bool any_finding, next_finding->Step());
  const std::int64_t first_new_id = any_finding ? next_finding->ColumnInt(0) + 1 : 1;
  // Neither is left on its row: SQLite drops no index (below) while a statement reads.
  next_scan->Reset();
  next_finding->Reset();
  AssetRegister assets(conn, cid, now);
  ISMS_RETURN_IF_ERROR(assets.Load());

  // The contract's findings of this scanner, by identity.
  std::unordered_map<std::string, Existing> existing;
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT id, asset_id, check_id, component, "
                                                "remediated_at, exploit_available FROM findings "
                                                "WHERE contract_id = $1 AND scanner = $2"));
    st->BindInt(1, cid);
    st->BindText(2, scanner);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      existing[FindingKey(st->ColumnInt(1), scanner, st->ColumnText(2), st->ColumnText(3))] = {
          st->ColumnInt(0), st->ColumnOptionalInt(4), st->ColumnInt(5) != 0};
    }
  }

  // An import that may bring more obligations than the store holds (a first import, typically:
  // reckoned from the file's size, `adding`) writes them without
  // obligations_by_urgency and makes the index again before it commits: its keys (the urgency,
  // the due instant, the clause, the subject) come in no order, and keeping it up to date row by
  // row costs more than sorting every row once (a first import of 200,000 Nessus findings,
  // 170,000 obligations: about 0.5 s less of PostgreSQL's CPU, 0.2 s less on SQLite). On
  // PostgreSQL the dropped index keeps the table's readers waiting until the import commits.
  bool rebuild_urgency = false;
  if (large) {
    // Counted up to `adding` only: the cost stays that of the rows about to be written.
    ISMS_ASSIGN_OR_RETURN(auto held, conn.Prepare("SELECT COUNT(*) FROM (SELECT 1 FROM "
                                                  "obligations LIMIT $1) AS held"));
    held->BindInt(1, adding);
    ISMS_ASSIGN_OR_RETURN(bool row, held->Step());
    rebuild_urgency = row && held->ColumnInt(0) < adding;
    held->Reset();
  }
  if (rebuild_urgency) {
    // SQLite drops no index while a statement of the connection is left on a row (a caller's):
    // the index is then kept up to date row by row, as for a smaller import. (On PostgreSQL a
    // failed statement ends the transaction.)
    Status dropped = conn.Execute("DROP INDEX IF EXISTS obligations_by_urgency");
    if (!dropped.ok() && conn.engine() == store::Engine::kPostgres) return dropped;
    rebuild_urgency = dropped.ok();
  }

  // What the parse says first: when the scan ran (--scanned-at fills in what the report does
  // not say; a report's own time wins) and what kind of scan it was.
  const ScanInfo info = parse.Info();
  const Instant scanned_at = info.scanned_at.value_or(r.scanned_at.value_or(now));
  const std::string scan_type = info.scan_type.empty() ? scanner : info.scan_type;
  result.scanner = info.scanner.empty() ? scanner : info.scanner;
  const Policy& policy = PolicyInForce(ctx.versions, LondonDate(scanned_at));
  // The parsing thread decides the severities of the findings it reads from now on; it stops
  // before the policy goes, on every way out.
  parse.DecideUnder(&policy);
  struct Undecide {
    ParseQueue& q;
    ~Undecide() { q.DecideUnder(nullptr); }
  } undecide{parse};

  // Which assets the scan covered, with how good its credentials were.
  std::map<std::int64_t, std::optional<bool>> covered;
  // The report's findings, merged by identity (a Nessus plugin on two ports is one finding).
  std::vector<Pending> fresh;  // finding first_new_id + i
  std::unordered_map<std::string, size_t> fresh_index;
  {
    // Room for a finding per KiB of report (scanners write more per finding than that: the
    // reports of docs/benchmarks.md 1.7 KB of Nessus and 1.9 KB of Trivy), so that the findings
    // are never moved as the vector grows (at 2 KiB both imports moved some 180,000 of them
    // once, and held both copies: 90 MB more at the peak); pages not filled are never touched.
    // The index by identity stays sized for a finding per 2 KiB: growing it once costs little
    // (sized for one a KiB, the Trivy import of docs/benchmarks.md was no faster).
    fresh.reserve(static_cast<size_t>(result.bytes / 1024) + 16);
    fresh_index.reserve(static_cast<size_t>(adding) + 16);
  }
  std::vector<size_t> merged;  // fresh findings changed by a merge after they were written
  std::map<std::int64_t, std::optional<bool>> written_cred;  // credentials the rows went in with
  std::vector<std::int64_t> seen_ids;
  std::map<std::int64_t, std::int64_t> seen_asset;  // finding id -> asset
  std::vector<std::int64_t> reopened_ids;
  std::vector<std::int64_t> exploit_ids;
  std::set<std::int64_t> seen_set;
  // A VEX document's not_affected and fixed statements, for the other scanners' findings.
  struct VexStatement {
    std::int64_t asset;
    std::vector<std::string> ids;  // the vulnerability's id and CVEs
    std::string component, purl;
    VexState state;
    std::string justification;
  };
  std::vector<VexStatement> statements;

  // New findings are written as they come; a later duplicate merged into one is written again
  // below (merged).
  std::unique_ptr<store::BulkGroup> writers;  // findings, obligations, streams
  std::optional<ClockQueue> clocks;
  auto write = [&](size_t i, std::optional<Severity>& decided) -> Status {
    if (!writers) {
      ISMS_ASSIGN_OR_RETURN(writers,
                            conn.BulkInsertGroup({{"findings", kFindingColumnList},
                                                  {"obligations",
                                                   ledger_internal::ObligationColumnList()},
                                                  {"streams",
                                                   {"contract_id", "stream", "next_change"}}}));
      clocks.emplace(ctx, now, writers->writer(1), writers->writer(2));
    }
    store::BulkWriter& w = writers->writer(0);
    Pending& p = fresh[i];
    p.Decide(policy, decided);
    const RawFinding& f = p.f;
    const std::optional<bool>& cred = covered.at(p.asset);
    written_cred.emplace(p.asset, cred);
    w.AddInt(cid);
    w.AddInt(first_new_id + static_cast<std::int64_t>(i));
    w.AddInt(p.asset);
    w.AddText(scanner);
    w.AddText(scan_type);
    w.AddText(f.check_id);
    w.AddText(f.component);
    w.AddText(f.purl);
    w.AddText(f.cpe);
    w.AddText(f.port);
    w.AddText(f.title);
    w.AddText(p.VulnId());
    w.AddText(p.cves);
    w.AddText(p.severity.category);
    w.AddText(p.severity.source);
    p.severity.base_score ? w.AddDouble(*p.severity.base_score) : w.AddNull();
    w.AddText(p.severity.vector);
    w.AddText(p.kind);
    w.AddText(FixStateKey(f.fix));
    w.AddText(f.fixed_version);
    AddOptionalDate(w, f.patch_published);
    AddOptionalDate(w, f.vuln_published);
    w.AddNull();
    w.AddNull();
    w.AddText("");
    w.AddInt(f.exploit_available ? 1 : 0);
    f.exploit_available ? w.AddInt(Ms(scanned_at)) : w.AddNull();
    w.AddInt(Ms(scanned_at));
    w.AddInt(Ms(scanned_at));
    w.AddInt(result.scan_id);
    w.AddInt(result.scan_id);
    cred ? w.AddInt(*cred ? 1 : 0) : w.AddNull();
    if (f.vex == VexState::kFixed) {
      w.AddInt(Ms(scanned_at));
      w.AddText(Pending::StatementRemediation(result.scan_id));
    } else {
      w.AddNull();
      w.AddText("");
    }
    w.AddText(p.Statement());
    w.AddText(f.vex_justification);
    ISMS_RETURN_IF_ERROR(w.EndRow());
    FindingClockFields clock;
    p.Clock(first_new_id + static_cast<std::int64_t>(i), assets.NameOf(p.asset), scanned_at,
            &clock);
    clocks->Add(std::move(clock));
    p.Slim();
    return Status::Ok();
  };
  auto take_asset = [&](const ScannedAsset& a) -> Status {
    ISMS_ASSIGN_OR_RETURN(std::int64_t id, assets.Resolve(a.names, r.asset));
    covered[id] = a.credentialed ? a.credentialed : info.credentialed;
    return Status::Ok();
  };
  auto take_finding = [&](Parsed& parsed) -> Status {
    RawFinding& f = parsed.f;
    ++result.findings;
    ISMS_ASSIGN_OR_RETURN(std::int64_t asset, assets.Resolve(f.asset, r.asset));
    if (!covered.count(asset)) covered[asset] = info.credentialed;
    if (format == ScanFormat::kCycloneDx &&
        (f.vex == VexState::kNotAffected || f.vex == VexState::kFixed)) {
      VexStatement v{asset, f.cves, f.component, f.purl, f.vex, f.vex_justification};
      v.ids.push_back(f.check_id);
      statements.push_back(std::move(v));
    }
    std::string key = FindingKey(asset, scanner, f.check_id, f.component);
    auto it = existing.find(key);
    if (it != existing.end()) {
      if (seen_set.insert(it->second.id).second) {
        seen_ids.push_back(it->second.id);
        seen_asset[it->second.id] = asset;
        // Seen again after its remediation: open again. (An older scan imported late proves
        // nothing about a remediation that came after it.)
        if (it->second.remediated_at && *it->second.remediated_at < Ms(scanned_at)) {
          reopened_ids.push_back(it->second.id);
        }
        if (f.exploit_available && !it->second.exploit_available)
          exploit_ids.push_back(it->second.id);
      }
      return Status::Ok();
    }
    // One look-up: the finding's number if the report had it already, else the next one.
    auto [fi, first] = fresh_index.try_emplace(std::move(key), fresh.size());
    if (!first) {
      RawFinding& into = fresh[fi->second].f;
      bool changed = false;
      if (!f.port.empty() && into.port.find(f.port) == std::string::npos) {
        into.port += (into.port.empty() ? "" : ",") + f.port;
        changed = true;
      }
      for (std::string& c : f.cves) {
        if (std::find(into.cves.begin(), into.cves.end(), c) == into.cves.end()) {
          into.cves.push_back(std::move(c));
          changed = true;
        }
      }
      if (f.exploit_available && !into.exploit_available) {
        into.exploit_available = true;
        changed = true;
      }
      if (changed) merged.push_back(fi->second);
      return Status::Ok();
    }
    fresh.push_back({asset, std::move(f), {}, {}, {}});
    return write(fresh.size() - 1, parsed.severity);
  };
  // A finding is merged and written as it comes when its asset is known by all its names
  // already: resolving it then changes nothing, so the outcome is what it would be with every
  // asset of the report registered first (as a report that lists its assets after their
  // findings needs). From the first finding that cannot be, the rest wait for the end of the
  // parse, in order.
  auto known = [&](const RawFinding& f) { return assets.Knows(f.asset, r.asset); };
  std::vector<Parsed> waiting;
  std::vector<ParseQueue::Item> batch;
  while (parse.Next(&batch)) {
    if (imported_already(/*wait=*/false)) return result;
    for (ParseQueue::Item& item : batch) {
      if (ScannedAsset* a = std::get_if<ScannedAsset>(&item)) {
        ISMS_RETURN_IF_ERROR(take_asset(*a));
        continue;
      }
      Parsed& f = std::get<Parsed>(item);
      file->Release(f.f.offset);
      if (waiting.empty() && known(f.f)) {
        ISMS_RETURN_IF_ERROR(take_finding(f));
      } else {
        waiting.push_back(std::move(f));
      }
    }
  }
  if (imported_already(/*wait=*/true)) return result;
  ISMS_RETURN_IF_ERROR(parse.parsed());
  if (progress) progress(result.bytes, result.bytes, parse.count());
  for (Parsed& f : waiting) ISMS_RETURN_IF_ERROR(take_finding(f));
  waiting.clear();
  if (writers) {
    Status clocked = clocks->Close();
    Status written = writers->Finish();
    ISMS_RETURN_IF_ERROR(written);
    ISMS_RETURN_IF_ERROR(clocked);
    clocks.reset();
    writers.reset();
  }
  file.reset();
  result.assets = static_cast<std::int64_t>(covered.size());
  ISMS_RETURN_IF_ERROR(assets.Flush());
  // Rows written before a duplicate was merged into them, or before their asset's credentials
  // were known for good, are written again.
  std::sort(merged.begin(), merged.end());
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  for (size_t i : merged) {
    Pending& p = fresh[i];
    p.cves = Join(p.f.cves, ',');
    ISMS_ASSIGN_OR_RETURN(
        auto u, conn.Prepare("UPDATE findings SET port = $1, vuln_id = $2, cves = $3, "
                             "exploit_available = $4, exploit_seen_at = $5 WHERE id = $6"));
    u->BindText(1, p.f.port);
    u->BindText(2, p.VulnId());
    u->BindText(3, p.cves);
    u->BindInt(4, p.f.exploit_available ? 1 : 0);
    p.f.exploit_available ? u->BindInt(5, Ms(scanned_at)) : u->BindNull(5);
    u->BindInt(6, first_new_id + static_cast<std::int64_t>(i));
    ISMS_RETURN_IF_ERROR(u->Run());
  }
  for (const auto& [asset, cred] : written_cred) {
    if (covered.at(asset) == cred) continue;
    ISMS_ASSIGN_OR_RETURN(auto u, conn.Prepare("UPDATE findings SET credentialed = $1 WHERE "
                                               "contract_id = $2 AND asset_id = $3 AND id >= $4"));
    const std::optional<bool>& now_cred = covered.at(asset);
    now_cred ? u->BindInt(1, *now_cred ? 1 : 0) : u->BindNull(1);
    u->BindInt(2, cid);
    u->BindInt(3, asset);
    u->BindInt(4, first_new_id);
    ISMS_RETURN_IF_ERROR(u->Run());
  }

  // The scan itself.
  {
    ISMS_ASSIGN_OR_RETURN(auto st,
                          conn.Prepare("INSERT INTO scans (contract_id, id, format, scanner, "
                                       "scan_type, file_name, sha256, scanned_at, imported_at, "
                                       "imported_by, findings) VALUES ($1, $2, $3, $4, $5, $6, "
                                       "$7, $8, $9, $10, $11)"));
    st->BindInt(1, cid);
    st->BindInt(2, result.scan_id);
    st->BindText(3, scanner);
    st->BindText(4, result.scanner);
    st->BindText(5, scan_type);
    st->BindText(6, r.path);
    st->BindText(7, *sha);
    st->BindInt(8, Ms(scanned_at));
    st->BindInt(9, Ms(now));
    st->BindText(10, actor.name);
    st->BindInt(11, result.findings);
    ISMS_RETURN_IF_ERROR(st->Run());
  }
  {
    ISMS_ASSIGN_OR_RETURN(auto w, conn.BulkInsert("scan_assets", {"contract_id", "scan_id",
                                                                  "asset_id", "credentialed"}));
    for (const auto& [asset, cred] : covered) {
      w->AddInt(cid);
      w->AddInt(result.scan_id);
      w->AddInt(asset);
      cred ? w->AddInt(*cred ? 1 : 0) : w->AddNull();
      ISMS_RETURN_IF_ERROR(w->EndRow());
    }
    ISMS_RETURN_IF_ERROR(w->Finish());
  }
  {
    // Every asset the scan covered, in one statement.
    ISMS_ASSIGN_OR_RETURN(
        auto st,
        conn.Prepare("UPDATE assets SET last_scanned_at = $3 WHERE contract_id = $1 AND "
                     "id IN (SELECT asset_id FROM scan_assets WHERE contract_id = $1 AND "
                     "scan_id = $2) AND (last_scanned_at IS NULL OR last_scanned_at < $3)"));
    st->BindInt(1, cid);
    st->BindInt(2, result.scan_id);
    st->BindInt(3, Ms(scanned_at));
    ISMS_RETURN_IF_ERROR(st->Run());
  }
  result.new_findings = static_cast<std::int64_t>(fresh.size());

  // The findings whose clocks are evaluated again below: those seen again (reopened, or now
  // known to be exploited) and the new ones changed by a merge after their clocks were written.
  std::vector<std::int64_t> changed = reopened_ids;
  changed.insert(changed.end(), exploit_ids.begin(), exploit_ids.end());
  for (size_t i : merged) changed.push_back(first_new_id + static_cast<std::int64_t>(i));
  // Findings seen again: last seen moves; a remediated one is open again.
  if (!seen_ids.empty()) {
    ISMS_RETURN_IF_ERROR(UpdateFindings(conn, reopened_ids,
                                        "UPDATE findings SET remediated_at = NULL, remediated_by "
                                        "= '' WHERE id IN (SELECT id FROM isms_ids)"));
    // Every finding seen again, in one set-based update through a temporary table (one row per
    // finding would be one round trip each on PostgreSQL). Only a newer sighting moves "last
    // seen" (scans may be imported out of order); the credentials of the scan that last saw a
    // finding are the bar a later scan must meet to remediate it by absence.
    ISMS_RETURN_IF_ERROR(conn.Execute(
        conn.engine() == store::Engine::kPostgres
            ? "CREATE TEMP TABLE IF NOT EXISTS isms_seen (id BIGINT PRIMARY KEY, cred INTEGER) "
              "ON COMMIT DELETE ROWS"
            : "CREATE TEMP TABLE IF NOT EXISTS isms_seen (id INTEGER PRIMARY KEY, cred INTEGER)"));
    ISMS_RETURN_IF_ERROR(conn.Execute("DELETE FROM isms_seen"));
    {
      ISMS_ASSIGN_OR_RETURN(auto w, conn.BulkInsert("isms_seen", {"id", "cred"}));
      for (std::int64_t id : seen_ids) {
        const std::optional<bool>& cred = covered.at(seen_asset.at(id));
        w->AddInt(id);
        cred ? w->AddInt(*cred ? 1 : 0) : w->AddNull();
        ISMS_RETURN_IF_ERROR(w->EndRow());
      }
      ISMS_RETURN_IF_ERROR(w->Finish());
    }
    ISMS_ASSIGN_OR_RETURN(
        auto touch,
        conn.Prepare("UPDATE findings SET last_seen = $1, last_scan_id = $2, credentialed = "
                     "COALESCE(s.cred, findings.credentialed) FROM isms_seen s WHERE "
                     "findings.id = s.id AND findings.last_seen <= $1"));
    touch->BindInt(1, Ms(scanned_at));
    touch->BindInt(2, result.scan_id);
    ISMS_RETURN_IF_ERROR(touch->Run());
    ISMS_RETURN_IF_ERROR(UpdateFindings(conn, exploit_ids,
                                        "UPDATE findings SET exploit_available = 1, "
                                        "exploit_seen_at = $1 WHERE id IN (SELECT id FROM "
                                        "isms_ids)",
                                        Ms(scanned_at)));
  }
  result.reopened = static_cast<std::int64_t>(reopened_ids.size());

  // VEX statements apply to the matching findings of other scanners on the same asset: same
  // vulnerability, same component (by name and version, or package URL without qualifiers).
  auto purl_base = [](const std::string& p) { return p.substr(0, p.find_first_of("?#")); };
  for (const VexStatement& v : statements) {
    ISMS_ASSIGN_OR_RETURN(
        auto st, conn.Prepare(std::string("SELECT ") + kFindingColumns + " FROM " + kFindingFrom +
                              " WHERE f.contract_id = $1 AND f.asset_id = $2 "
                              "AND f.scanner <> $3"));
    st->BindInt(1, cid);
    st->BindInt(2, v.asset);
    st->BindText(3, scanner);
    std::vector<FindingRow> rows;
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      ISMS_ASSIGN_OR_RETURN(FindingRow row, ReadFinding(*st));
      const bool same_vuln = std::any_of(v.ids.begin(), v.ids.end(), [&](const std::string& id) {
        return row.vuln_id == id || row.check_id == id ||
               std::find(row.cves.begin(), row.cves.end(), id) != row.cves.end();
      });
      const bool same_component =
          (!v.component.empty() && row.component == v.component) ||
          (!v.purl.empty() && !row.purl.empty() && purl_base(row.purl) == purl_base(v.purl));
      if (same_vuln && same_component) rows.push_back(std::move(row));
    }
    for (const FindingRow& row : rows) {
      const bool fixed = v.state == VexState::kFixed;
      ISMS_ASSIGN_OR_RETURN(
          auto u, conn.Prepare("UPDATE findings SET statement = $1, statement_note = $2, "
                               "remediated_at = COALESCE(remediated_at, $3), remediated_by = "
                               "CASE WHEN remediated_at IS NULL THEN $4 ELSE remediated_by END "
                               "WHERE id = $5"));
      u->BindText(1, fixed ? "fixed" : "not_affected");
      u->BindText(2, v.justification);
      u->BindOptionalInt(3, fixed ? std::optional<std::int64_t>(Ms(scanned_at)) : std::nullopt);
      u->BindText(
          4, fixed ? "statement in scan S-" + std::to_string(result.scan_id) + " (" + r.path + ")"
                   : row.remediated_by);
      u->BindInt(5, row.id);
      ISMS_RETURN_IF_ERROR(u->Run());
      changed.push_back(row.id);
    }
  }

  // Remediation by absence: open findings of the same scanner and scan type on a covered asset
  // that this scan did not report (one query for every asset it covered). For Nessus and
  // OpenVAS, only a scan with credentials at least as good as the one that last saw the finding
  // proves anything.
  const bool credential_rule = format == ScanFormat::kNessus || format == ScanFormat::kOpenVas;
  if (!existing.empty()) {  // else this scanner has found nothing before: nothing to remediate
    ISMS_ASSIGN_OR_RETURN(
        auto st, conn.Prepare("SELECT id, credentialed, asset_id FROM findings WHERE contract_id "
                              "= $1 AND scanner = $3 AND scan_type = $4 AND remediated_at IS NULL "
                              "AND last_seen < $5 AND asset_id IN (SELECT asset_id FROM "
                              "scan_assets WHERE contract_id = $1 AND scan_id = $2)"));
    st->BindInt(1, cid);
    st->BindInt(2, result.scan_id);
    st->BindText(3, scanner);
    st->BindText(4, scan_type);
    st->BindInt(5, Ms(scanned_at));
    std::vector<std::int64_t> gone;
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      if (credential_rule) {
        const bool before = !st->IsNull(1) && st->ColumnInt(1) != 0;
        const bool now_cred = covered.at(st->ColumnInt(2)).value_or(false);
        if (before && !now_cred) continue;  // a narrower scan proves nothing
      }
      gone.push_back(st->ColumnInt(0));
    }
    ISMS_RETURN_IF_ERROR(UpdateFindings(
        conn, gone,
        "UPDATE findings SET remediated_at = $1, remediated_by = $2 WHERE id IN (SELECT id FROM "
        "isms_ids)",
        Ms(scanned_at),
        "absent from scan S-" + std::to_string(result.scan_id) + " (" + r.path + ")"));
    changed.insert(changed.end(), gone.begin(), gone.end());
    result.remediated = static_cast<std::int64_t>(gone.size());
  }

  // The clocks of the changed findings and of the assets the scan covered (the new findings'
  // were written with them). The new findings are let go on another thread meanwhile
  // (hundreds of thousands of strings take a while to free).
  std::jthread release([gone = std::move(fresh), index = std::move(fresh_index)]() mutable {
    std::vector<Pending>().swap(gone);
    decltype(index)().swap(index);
  });
  std::vector<std::pair<std::string, Evaluation>> refreshed;
  ISMS_ASSIGN_OR_RETURN(refreshed, EvaluateScanStreamsOf(conn, ctx, result.scan_id, now));
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  if (!changed.empty()) {
    ISMS_ASSIGN_OR_RETURN(auto events, FindingEvents(ledger_, cid));
    ISMS_RETURN_IF_ERROR(FillIds(conn, changed));
    ISMS_ASSIGN_OR_RETURN(
        auto st, conn.Prepare(std::string("SELECT ") + kFindingColumns + " FROM " + kFindingFrom +
                              " WHERE f.contract_id = $1 AND f.id IN (SELECT id FROM isms_ids)"));
    st->BindInt(1, cid);
    static const std::vector<Event> kNone;
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      ISMS_ASSIGN_OR_RETURN(FindingRow row, ReadFinding(*st));
      std::string stream = "vuln:" + FindingId(row.id);
      auto it = events.find(stream);
      const std::vector<Event>& evs = it == events.end() ? kNone : it->second;
      FindingFacts facts = FactsOf(row, ctx, evs, now);
      refreshed.emplace_back(
          std::move(stream),
          EvaluateFinding(facts, ctx.versions, ctx.calendar, evs, now).evaluation);
    }
  }
  ISMS_RETURN_IF_ERROR(ReplaceEvaluations(ledger_, conn, ctx, refreshed));
  if (rebuild_urgency) {
    ISMS_RETURN_IF_ERROR(ledger_internal::RebuildUrgencyIndex(conn));
  }
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return result;
}

Result<ImportAdvisoryResult> Vulnerabilities::ImportAdvisory(const std::string& path,
                                                             const std::string& contract,
                                                             const Actor& actor) {
  ImportAdvisoryResult result;
  result.file = path;
  ISMS_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  ISMS_ASSIGN_OR_RETURN(Advisory adv, ParseCsafAdvisory(data, path));
  result.document_id = adv.id;
  result.publisher = adv.publisher;
  result.vulnerabilities = static_cast<std::int64_t>(adv.vulnerabilities.size());
  const std::string sha = Sha256Hex(data);
  store::Connection& conn = ledger_.connection();
  const Instant now = ledger_.clock().Now();

  store::Transaction tx(conn);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  {
    ISMS_ASSIGN_OR_RETURN(auto dup, conn.Prepare("SELECT id FROM advisories WHERE sha256 = $1"));
    dup->BindText(1, sha);
    ISMS_ASSIGN_OR_RETURN(bool seen, dup->Step());
    result.duplicate = seen;
  }
  if (!result.duplicate) {
    ISMS_ASSIGN_OR_RETURN(auto st,
                          conn.Prepare("INSERT INTO advisories (document_id, publisher, "
                                       "initial_release_date, current_release_date, sha256, "
                                       "file_name, imported_at, imported_by, body) VALUES ($1, "
                                       "$2, $3, $4, $5, $6, $7, $8, $9)"));
    st->BindText(1, adv.id);
    st->BindText(2, adv.publisher);
    st->BindOptionalInt(3, adv.initial_release_date
                               ? std::optional<std::int64_t>(Ms(*adv.initial_release_date))
                               : std::nullopt);
    st->BindOptionalInt(4, adv.current_release_date
                               ? std::optional<std::int64_t>(Ms(*adv.current_release_date))
                               : std::nullopt);
    st->BindText(5, sha);
    st->BindText(6, path);
    st->BindInt(7, Ms(now));
    st->BindText(8, actor.name);
    st->BindText(9, data);
    ISMS_RETURN_IF_ERROR(st->Run());
  }

  std::vector<ContractRecord> contracts;
  if (contract.empty()) {
    ISMS_ASSIGN_OR_RETURN(contracts, ledger_.ListContracts());
  } else {
    ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_.FindContract(contract));
    contracts.push_back(std::move(c));
  }
  for (const ContractRecord& c : contracts) {
    ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Load(c));
    for (const AdvisoryVulnerability& v : adv.vulnerabilities) {
      if (v.cve.empty()) continue;
      // Findings of this CVE: their vuln_id, or one of several CVEs.
      ISMS_ASSIGN_OR_RETURN(
          auto st, conn.Prepare(std::string("SELECT ") + kFindingColumns + " FROM " + kFindingFrom +
                                " WHERE f.contract_id = $1 AND (f.vuln_id = $2 "
                                "OR f.cves LIKE $3)"));
      st->BindInt(1, c.id);
      st->BindText(2, v.cve);
      st->BindText(3, "%" + v.cve + "%");
      std::vector<FindingRow> rows;
      while (true) {
        ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
        if (!more) break;
        ISMS_ASSIGN_OR_RETURN(FindingRow row, ReadFinding(*st));
        if (std::find(row.cves.begin(), row.cves.end(), v.cve) == row.cves.end() &&
            row.vuln_id != v.cve) {
          continue;
        }
        rows.push_back(std::move(row));
      }
      for (FindingRow& row : rows) {
        std::string name, version;
        if (size_t sp = row.component.rfind(' '); sp != std::string::npos) {
          name = row.component.substr(0, sp);
          version = row.component.substr(sp + 1);
        } else {
          name = row.component;
        }
        auto matches = [&](const std::vector<std::string>& ids) {
          for (const std::string& pid : ids) {
            const AdvisoryProduct* p = adv.FindProduct(pid);
            if (p && ProductMatches(*p, row.purl, row.cpe, name, version)) return pid;
          }
          return std::string();
        };
        bool changed = false;
        // A vendor fix for this CVE and product: the patch's release date (9.3).
        for (const AdvisoryRemediation& rem : v.remediations) {
          if (rem.category != "vendor_fix") continue;
          if (matches(rem.product_ids).empty()) continue;
          if (rem.date) row.csaf_fix_date = LondonDate(*rem.date);
          if (adv.initial_release_date)
            row.csaf_advisory_date = LondonDate(*adv.initial_release_date);
          row.fix_state = "available";
          row.csaf_advisory = adv.id;
          changed = true;
        }
        std::string pid;
        if (!(pid = matches(v.known_not_affected)).empty()) {
          row.statement = "not_affected";
          for (const auto& flag : v.flags) {
            if (std::find(flag.product_ids.begin(), flag.product_ids.end(), pid) !=
                flag.product_ids.end()) {
              row.statement_note = flag.label;
            }
          }
          if (row.statement_note.empty()) row.statement_note = "known_not_affected in " + adv.id;
          changed = true;
        } else if (!matches(v.fixed).empty() && row.statement != "fixed") {
          // The installed version is one the advisory says contains the fix.
          row.statement = "fixed";
          row.statement_note = "fixed in " + adv.id;
          if (!row.remediated_at) {
            row.remediated_at = now;
            row.remediated_by = "fixed according to advisory " + adv.id + " (" + path + ")";
          }
          changed = true;
        }
        // Microsoft's own rating, only from Microsoft's advisories (9.2).
        if (adv.FromMicrosoft()) {
          std::string product = matches(v.known_affected);
          if (product.empty()) product = matches(v.fixed);
          std::string word = v.ImpactRating(product);
          if (!word.empty()) {
            Result<Category> cat = CategoryFromMicrosoft(word);
            if (cat.ok()) {
              const Policy& p = PolicyInForce(ctx.versions, LondonDate(row.first_seen));
              std::vector<Rating> ratings = {MicrosoftRating(word)};
              if (row.base_score) {
                Result<CvssScore> s = ScoreCvss(row.cvss_vector);
                if (s.ok()) ratings.push_back(CvssRating(s->version, s->base_score));
              }
              Result<CategoryDecision> d =
                  DecideCategory(ratings, p.severity_method, p.score_basis);
              if (d.ok()) {
                row.category = std::string(CategoryName(d->category));
                row.category_source = DescribeRating(d->from);
                changed = true;
              }
            }
          }
        }
        if (!changed) continue;
        ISMS_ASSIGN_OR_RETURN(auto u,
                              conn.Prepare("UPDATE findings SET csaf_fix_date = $1, "
                                           "csaf_advisory_date = $2, fix_state = $3, csaf_advisory "
                                           "= $4, statement = $5, statement_note = $6, category = "
                                           "$7, category_source = $8, remediated_at = $10, "
                                           "remediated_by = $11 WHERE id = $9"));
        row.csaf_fix_date ? u->BindText(1, FormatDate(*row.csaf_fix_date)) : u->BindNull(1);
        row.csaf_advisory_date ? u->BindText(2, FormatDate(*row.csaf_advisory_date))
                               : u->BindNull(2);
        u->BindText(3, row.fix_state);
        u->BindText(4, row.csaf_advisory);
        u->BindText(5, row.statement);
        u->BindText(6, row.statement_note);
        u->BindText(7, row.category);
        u->BindText(8, row.category_source);
        u->BindInt(9, row.id);
        u->BindOptionalInt(10, row.remediated_at
                                   ? std::optional<std::int64_t>(Ms(*row.remediated_at))
                                   : std::nullopt);
        u->BindText(11, row.remediated_by);
        ISMS_RETURN_IF_ERROR(u->Run());
        ISMS_RETURN_IF_ERROR(ledger_.RefreshStream(ctx, "vuln:" + FindingId(row.id), now));
        ++result.findings_updated;
      }
    }
  }
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return result;
}

}  // namespace isms::app
