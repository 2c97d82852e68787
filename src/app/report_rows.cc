// The monthly report's rows: every finding of the contract read once and its clocks evaluated
// as of the issue, on worker threads.
#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "app/report_internal.h"
#include "app/vulns.h"
#include "app/vulns_internal.h"
#include "core/vuln_rules.h"

namespace isms::app::internal {
namespace {

constexpr const char* kCategories[] = {"Critical", "Important", "Other"};

int CategoryIndex(const std::string& category) {
  for (int i = 0; i < 3; ++i) {
    if (category == kCategories[i]) return i;
  }
  return 2;
}

// The columns of a finding the report reads: those FactsOf needs, and the row's own.
constexpr const char* kReportColumns =
    "f.id, f.asset_id, f.kind, f.statement, f.category, f.vuln_id, f.cves, f.title, "
    "f.component, f.fix_state, f.patch_published, f.vuln_published, f.csaf_fix_date, "
    "f.csaf_advisory_date, f.exploit_available, f.exploit_seen_at, f.first_seen, "
    "f.remediated_at, f.remediated_by";

Status ReadDate(const store::Statement& st, int c, std::optional<Date>* out) {
  if (st.IsNull(c)) {
    out->reset();
    return Status::Ok();
  }
  ISMS_ASSIGN_OR_RETURN(*out, ParseDate(st.ColumnView(c)));
  return Status::Ok();
}

// Reads a row of kReportColumns into `r`, reusing its strings' buffers.
Status ReadReportFinding(const store::Statement& st, FindingRow* r) {
  r->id = st.ColumnInt(0);
  r->asset_id = st.ColumnInt(1);
  r->kind.assign(st.ColumnView(2));
  r->statement.assign(st.ColumnView(3));
  r->category.assign(st.ColumnView(4));
  r->vuln_id.assign(st.ColumnView(5));
  const std::string_view cves = st.ColumnView(6);
  size_t n = 0;
  for (size_t pos = 0; pos < cves.size();) {
    size_t end = cves.find(',', pos);
    if (end == std::string_view::npos) end = cves.size();
    if (end > pos) {
      if (n < r->cves.size()) {
        r->cves[n].assign(cves.substr(pos, end - pos));
      } else {
        r->cves.emplace_back(cves.substr(pos, end - pos));
      }
      ++n;
    }
    pos = end + 1;
  }
  r->cves.resize(n);
  r->title.assign(st.ColumnView(7));
  r->component.assign(st.ColumnView(8));
  r->fix_state.assign(st.ColumnView(9));
  ISMS_RETURN_IF_ERROR(ReadDate(st, 10, &r->patch_published));
  ISMS_RETURN_IF_ERROR(ReadDate(st, 11, &r->vuln_published));
  ISMS_RETURN_IF_ERROR(ReadDate(st, 12, &r->csaf_fix_date));
  ISMS_RETURN_IF_ERROR(ReadDate(st, 13, &r->csaf_advisory_date));
  r->exploit_available = st.ColumnInt(14) != 0;
  r->exploit_seen_at.reset();
  if (!st.IsNull(15)) r->exploit_seen_at = FromMs(st.ColumnInt(15));
  r->first_seen = FromMs(st.ColumnInt(16));
  r->remediated_at.reset();
  if (!st.IsNull(17)) r->remediated_at = FromMs(st.ColumnInt(17));
  r->remediated_by.assign(st.ColumnView(18));
  return Status::Ok();
}

const Obligation* PatchClock(const std::vector<Obligation>& obligations) {
  for (const Obligation& o : obligations) {
    if (o.clause == "9.3") return &o;
  }
  return nullptr;
}

// How the patch was applied: the scan (or VEX statement) that established the remediation, or
// the vuln.patched event.
std::string AppliedBy(const FindingRow& row, const std::vector<Event>& events, Instant applied) {
  if (row.remediated_at && *row.remediated_at == applied) {
    return row.remediated_by.empty() ? "remediated" : row.remediated_by;
  }
  for (const Event& e : EffectiveEvents(events)) {
    if (e.type == "vuln.patched" && e.at == applied) {
      return "vuln.patched (event " + std::to_string(e.id) + ", by " + e.actor + ")";
    }
  }
  return "vuln.patched";
}

// A report row's place: category (Critical first), then applied (patched rows, earliest
// first), then due date (none last), then finding number; in integers, to sort fast.
struct RowKey {
  RowKey(int category, const std::optional<Instant>& applied, const std::optional<Date>& due,
         std::int64_t finding, int worker, size_t index)
      : category(category),
        applied(applied.has_value()),
        applied_ms(applied ? Ms(*applied) : 0),
        no_due(!due.has_value()),
        due_days(due ? ToDays(*due).time_since_epoch().count() : 0),
        finding(finding),
        worker(worker),
        index(static_cast<std::uint32_t>(index)) {}
  int category;
  bool applied;
  std::int64_t applied_ms;
  bool no_due;
  std::int64_t due_days;
  std::int64_t finding;
  int worker;           // whose rows
  std::uint32_t index;  // in them, unsorted
};

bool KeyBefore(const RowKey& a, const RowKey& b) {
  return std::tie(a.category, a.applied, a.applied_ms, a.no_due, a.due_days, a.finding) <
         std::tie(b.category, b.applied, b.applied_ms, b.no_due, b.due_days, b.finding);
}

// An obligation's place in MoreUrgent's order, in a compact form that sorts without touching
// the obligation: its urgency rank and due instant as MoreUrgent reckons them, then
// ObligationBefore's trigger instant, trigger event, and the first bytes of clause, key and
// subject (zero-padded, so a shorter string sorts first as std::string's comparison has it).
// When two keys are equal MoreUrgent itself decides; and the order the keys give is checked
// against MoreUrgent afterwards, so the key can only make the sort faster, never different.
struct UrgencyKey {
  static constexpr size_t kPrefix = 16;
  int rank;
  bool no_due;
  std::int64_t due_ms;
  std::int64_t trigger_ms;
  std::int64_t trigger_event;
  std::array<char, kPrefix> clause, key, subject;
  bool exact;           // clause, key and subject fit in their prefixes
  int run;              // whose obligations: 0 the contract's, then each worker's
  std::uint32_t index;  // in them
};

std::array<char, UrgencyKey::kPrefix> Prefix(const std::string& s, bool* exact) {
  std::array<char, UrgencyKey::kPrefix> out{};
  std::memcpy(out.data(), s.data(), std::min(s.size(), out.size()));
  if (s.size() > out.size() || s.find('\0') != std::string::npos) *exact = false;
  return out;
}

UrgencyKey KeyOf(const Obligation& o, int run, size_t index) {
  UrgencyKey k{};
  switch (o.state) {
    case ObligationState::kBreached:
      k.rank = o.consequence == Consequence::kMaterialDefault ? 0
               : o.consequence == Consequence::kDefault       ? 1
                                                              : 2;
      break;
    case ObligationState::kOpen: k.rank = 3; break;
    case ObligationState::kSuspended: k.rank = 4; break;
    case ObligationState::kMetLate: k.rank = 5; break;
    case ObligationState::kMet: k.rank = 6; break;
    case ObligationState::kSuperseded: k.rank = 7; break;
  }
  if (k.rank <= 3) {
    if (o.due_at) {
      k.due_ms = Ms(*o.due_at);
    } else if (o.closed_at) {
      k.due_ms = Ms(*o.closed_at);
    } else {
      k.no_due = true;
    }
  }
  k.trigger_ms = Ms(o.trigger_at);
  k.trigger_event = o.trigger_event_id;
  k.exact = true;
  k.clause = Prefix(o.clause, &k.exact);
  k.key = Prefix(o.key, &k.exact);
  k.subject = Prefix(o.subject, &k.exact);
  k.run = run;
  k.index = static_cast<std::uint32_t>(index);
  return k;
}

// Orders keys; `tie` is set when the keys alone cannot tell (MoreUrgent must).
bool KeyLess(const UrgencyKey& a, const UrgencyKey& b, bool* tie) {
  *tie = false;
  if (a.rank != b.rank) return a.rank < b.rank;
  if (a.no_due != b.no_due) return a.no_due < b.no_due;
  if (a.due_ms != b.due_ms) return a.due_ms < b.due_ms;
  if (a.trigger_ms != b.trigger_ms) return a.trigger_ms < b.trigger_ms;
  if (a.trigger_event != b.trigger_event) return a.trigger_event < b.trigger_event;
  for (auto field : {&UrgencyKey::clause, &UrgencyKey::key, &UrgencyKey::subject}) {
    const int c = std::memcmp((a.*field).data(), (b.*field).data(), UrgencyKey::kPrefix);
    if (c != 0) return c < 0;
  }
  *tie = !(a.exact && b.exact);  // else the whole strings are equal, and so are a and b
  return false;
}

// Finding identities are unique, so no two obligations here are equal under MoreUrgent: the
// order is total and any sort consistent with it gives the same sequence.
template <typename At>
void SortByUrgency(std::vector<UrgencyKey>& keys, const At& at) {
  std::sort(keys.begin(), keys.end(), [&](const UrgencyKey& a, const UrgencyKey& b) {
    bool tie = false;
    const bool less = KeyLess(a, b, &tie);
    if (!tie) return less;
    return MoreUrgent(at(a), at(b));
  });
}

// What the worker threads share, read-only.
struct Shared {
  const ContractContext& ctx;
  Instant as_of;
  Date first_day;
  Date last_day;
  Date issue_date;
  std::unordered_map<std::int64_t, std::vector<Event>> events;  // by finding number
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> assets;  // raw, valid
};

// What one worker found: rows and obligations in deques (nothing moves as they grow).
struct Found {
  std::deque<ReportRow> patched, outstanding;
  std::vector<RowKey> patched_keys, outstanding_keys;
  std::deque<Obligation> breached;
  std::vector<UrgencyKey> breached_keys;  // most urgent first, once the worker is done
  std::int64_t observations = 0, own_code = 0, not_affected = 0, patched_after_month = 0;
  std::array<CategoryTotals, 3> totals;
};

// One finding of the report: its clocks as of the issue, and its row.
void Evaluate(const Shared& s, FindingRow& row, int worker, Found& out) {
  static const std::vector<Event> kNone;
  static const std::pair<std::string, std::string> kNoName;
  auto asset_it = s.assets.find(row.asset_id);
  const auto& asset = asset_it == s.assets.end() ? kNoName : asset_it->second;
  row.asset_name = asset.first;
  if (row.remediated_at && *row.remediated_at > s.as_of) row.remediated_at.reset();
  if (row.exploit_seen_at && *row.exploit_seen_at > s.as_of) {
    row.exploit_available = false;
    row.exploit_seen_at.reset();
  }
  auto it = s.events.find(row.id);
  const std::vector<Event>& evs = it == s.events.end() ? kNone : it->second;
  FindingFacts facts = FactsOf(row, s.ctx, evs, s.as_of);
  FindingEvaluation fe = EvaluateFinding(facts, s.ctx.versions, s.ctx.calendar, evs, s.as_of);
  // The 9.3 clock's state and due date, before the breached obligations move out.
  std::optional<ObligationState> clock_state;
  std::optional<Date> clock_due;
  if (const Obligation* clock = PatchClock(fe.evaluation.obligations)) {
    clock_state = clock->state;
    clock_due = clock->due_date;
  }
  for (Obligation& o : fe.evaluation.obligations) {
    if (o.state != ObligationState::kBreached) continue;
    MakeValidUtf8(&o.title);
    MakeValidUtf8(&o.subject);
    out.breached.push_back(std::move(o));
  }
  if (row.kind == "observation") {
    ++out.observations;
    return;
  }
  if (row.kind != "vulnerability") {
    ++out.own_code;
    return;
  }
  if (row.statement == "not_affected") {
    ++out.not_affected;
    return;
  }
  std::optional<Instant> applied = fe.patched_at;
  if (!applied || *applied > s.as_of) applied = row.remediated_at;
  if (applied && LondonDate(*applied) < s.first_day) return;
  if (applied && LondonDate(*applied) > s.last_day) {
    ++out.patched_after_month;
    return;
  }

  ReportRow v;
  v.finding = FindingId(row.id);
  v.category = row.category;
  v.asset = asset.second;
  v.vuln_id = ValidUtf8(row.vuln_id);
  v.cves.reserve(row.cves.size());
  for (const std::string& c : row.cves) v.cves.push_back(ValidUtf8(c));
  v.title = ValidUtf8(row.title);
  v.component = ValidUtf8(row.component);
  v.first_seen = row.first_seen;
  if (facts.release) {
    v.patch_released = facts.release->date;
    v.patch_released_assumed = facts.release->assumed;
    v.patch_release_source = std::move(facts.release->source);
  }
  v.due = fe.due;
  v.exception = ValidUtf8(fe.exception);
  if (clock_state) v.clock_state = std::string(ObligationStateName(*clock_state));
  if (clock_due) v.due = clock_due;
  const Date until = applied ? LondonDate(*applied) : s.issue_date;
  if (v.patch_released) {
    v.elapsed_days = ElapsedDays(*v.patch_released, until);
    if (v.category == "Other") {
      v.elapsed_working_days = ElapsedWorkingDays(s.ctx.calendar, *v.patch_released, until);
    }
    if (v.due) v.deadline_days = ElapsedDays(*v.patch_released, *v.due);
  }
  const int category = CategoryIndex(v.category);
  CategoryTotals& t = out.totals[category];
  if (applied) {
    v.applied_at = applied;
    v.applied_by = ValidUtf8(AppliedBy(row, evs, *applied));
    if (clock_state == ObligationState::kMetLate) {
      v.within_timescale = false;
    } else if (clock_state) {
      v.within_timescale = true;
    }
    ++(v.within_timescale == false ? t.patched_late : t.patched_within);
    out.patched_keys.emplace_back(category, v.applied_at, v.due, row.id, worker,
                                  out.patched.size());
    out.patched.push_back(std::move(v));
  } else {
    v.overdue = clock_state == ObligationState::kBreached;
    v.at_risk = fe.at_risk;
    ++(v.overdue ? t.outstanding_overdue : t.outstanding_within);
    out.outstanding_keys.emplace_back(category, std::nullopt, v.due, row.id, worker,
                                      out.outstanding.size());
    out.outstanding.push_back(std::move(v));
  }
}

// Findings go from the reading thread to the workers in batches; a batch comes back empty to
// be filled again, so that its rows' strings keep their buffers.
constexpr size_t kBatchRows = 1024;
struct Batch {
  std::vector<FindingRow> rows = std::vector<FindingRow>(kBatchRows);
  size_t count = 0;
};

class BatchQueue {
 public:
  explicit BatchQueue(size_t batches) {
    for (size_t i = 0; i < batches; ++i) free_.push_back(std::make_unique<Batch>());
  }
  // A batch to fill (waits for one).
  std::unique_ptr<Batch> Empty() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    std::unique_ptr<Batch> b = std::move(free_.back());
    free_.pop_back();
    b->count = 0;
    return b;
  }
  void Recycle(std::unique_ptr<Batch> b) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(b));
    }
    cv_.notify_all();
  }
  void Push(std::unique_ptr<Batch> b) {
    {
      std::lock_guard lock(mu_);
      full_.push_back(std::move(b));
    }
    cv_.notify_all();
  }
  // The next batch to evaluate, or none once Close() was called and all are taken.
  std::unique_ptr<Batch> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || closed_; });
    if (full_.empty()) return nullptr;
    std::unique_ptr<Batch> b = std::move(full_.front());
    full_.pop_front();
    return b;
  }
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Batch>> free_;
  std::deque<std::unique_ptr<Batch>> full_;
  bool closed_ = false;
};

int WorkerCount() {
  const unsigned n = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(n, 1u, 8u));
}

}  // namespace

Status EvaluateReportRows(store::Connection& conn, const ContractContext& ctx, Instant as_of,
                          std::map<std::string, std::vector<Event>> events,
                          std::vector<Obligation> others, MonthlyReport* rep) {
  Shared shared{ctx, as_of, rep->first_day, rep->last_day, LondonDate(as_of), {}, {}};
  for (auto& [stream, evs] : events) {
    Result<std::int64_t> n = ParseFindingId(std::string_view(stream).substr(5));
    if (n.ok()) shared.events[*n] = std::move(evs);
  }
  // The assets' names, made valid UTF-8 once per asset rather than once per finding.
  {
    ISMS_ASSIGN_OR_RETURN(auto a,
                          conn.Prepare("SELECT id, name FROM assets WHERE contract_id = $1"));
    a->BindInt(1, ctx.record.id);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, a->Step());
      if (!more) break;
      std::string name(a->ColumnView(1));
      std::string valid = ValidUtf8(name);
      shared.assets.emplace(a->ColumnInt(0), std::make_pair(std::move(name), std::move(valid)));
    }
  }

  const int workers = WorkerCount();
  std::vector<Found> found(static_cast<size_t>(workers));
  BatchQueue queue(static_cast<size_t>(2 * workers + 2));
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Found& out = found[static_cast<size_t>(w)];
      while (std::unique_ptr<Batch> b = queue.Next()) {
        for (size_t i = 0; i < b->count; ++i) Evaluate(shared, b->rows[i], w, out);
        queue.Recycle(std::move(b));
      }
      out.breached_keys.reserve(out.breached.size());
      for (size_t i = 0; i < out.breached.size(); ++i) {
        out.breached_keys.push_back(KeyOf(out.breached[i], w + 1, i));
      }
      SortByUrgency(out.breached_keys,
                    [&](const UrgencyKey& k) -> const Obligation& { return out.breached[k.index]; });
    });
  }
  // In the order the engine finds them (sorting 400,000 rows costs it more than the rest): the
  // rows are sorted below, and each finding's obligations name it, so the order is the same.
  Status read = [&]() -> Status {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(std::string("SELECT ") + kReportColumns +
                                                " FROM findings f WHERE f.contract_id = $1 AND "
                                                "f.first_seen <= $2"));
    st->BindInt(1, ctx.record.id);
    st->BindInt(2, Ms(as_of));
    std::unique_ptr<Batch> batch = queue.Empty();
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      ISMS_RETURN_IF_ERROR(ReadReportFinding(*st, &batch->rows[batch->count]));
      if (++batch->count == kBatchRows) {
        queue.Push(std::move(batch));
        batch = queue.Empty();
      }
    }
    queue.Push(std::move(batch));
    return Status::Ok();
  }();
  queue.Close();
  for (std::thread& t : threads) t.join();
  ISMS_RETURN_IF_ERROR(read);

  // The rows: their keys sorted, then each row moved once into place.
  auto place = [&](std::deque<ReportRow> Found::*rows, std::vector<RowKey> Found::*keys,
                   std::vector<ReportRow>* into) {
    std::vector<RowKey> all;
    for (const Found& f : found) all.insert(all.end(), (f.*keys).begin(), (f.*keys).end());
    std::sort(all.begin(), all.end(), KeyBefore);
    into->reserve(all.size());
    for (const RowKey& k : all) {
      into->push_back(std::move((found[static_cast<size_t>(k.worker)].*rows)[k.index]));
    }
  };
  place(&Found::patched, &Found::patched_keys, &rep->patched);
  place(&Found::outstanding, &Found::outstanding_keys, &rep->outstanding);
  for (const Found& f : found) {
    rep->observations += f.observations;
    rep->own_code += f.own_code;
    rep->not_affected += f.not_affected;
    rep->patched_after_month += f.patched_after_month;
    for (int i = 0; i < 3; ++i) {
      rep->totals[i].patched_within += f.totals[i].patched_within;
      rep->totals[i].patched_late += f.totals[i].patched_late;
      rep->totals[i].outstanding_within += f.totals[i].outstanding_within;
      rep->totals[i].outstanding_overdue += f.totals[i].outstanding_overdue;
    }
  }

  // The breached obligations: each worker's sorted by urgency, merged with the others'.
  for (Obligation& o : others) {
    MakeValidUtf8(&o.title);
    MakeValidUtf8(&o.subject);
  }
  std::vector<UrgencyKey> others_keys;
  for (size_t i = 0; i < others.size(); ++i) others_keys.push_back(KeyOf(others[i], 0, i));
  auto at = [&](const UrgencyKey& k) -> Obligation& {
    return k.run == 0 ? others[k.index]
                      : found[static_cast<size_t>(k.run - 1)].breached[k.index];
  };
  SortByUrgency(others_keys, at);
  std::vector<const std::vector<UrgencyKey>*> runs = {&others_keys};
  for (const Found& f : found) runs.push_back(&f.breached_keys);
  std::vector<size_t> next(runs.size(), 0);
  size_t total = 0;
  for (const auto* r : runs) total += r->size();
  rep->breached.reserve(total);
  while (true) {
    int best = -1;
    for (size_t r = 0; r < runs.size(); ++r) {
      if (next[r] == runs[r]->size()) continue;
      if (best < 0) {
        best = static_cast<int>(r);
        continue;
      }
      const UrgencyKey& a = (*runs[r])[next[r]];
      const UrgencyKey& b = (*runs[static_cast<size_t>(best)])[next[static_cast<size_t>(best)]];
      bool tie = false;
      const bool less = KeyLess(a, b, &tie);
      if (tie ? MoreUrgent(at(a), at(b)) : less) best = static_cast<int>(r);
    }
    if (best < 0) break;
    const size_t b = static_cast<size_t>(best);
    rep->breached.push_back(std::move(at((*runs[b])[next[b]++])));
  }
  // The keys mirror MoreUrgent; should they ever disagree with it, MoreUrgent decides.
  if (!std::is_sorted(rep->breached.begin(), rep->breached.end(), MoreUrgent)) {
    std::stable_sort(rep->breached.begin(), rep->breached.end(), MoreUrgent);
  }
  return Status::Ok();
}

}  // namespace isms::app::internal
