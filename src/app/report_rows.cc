// The monthly report's rows: every finding of the contract read once and its clocks evaluated
// as of the issue, on worker threads.
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <span>
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
// Where equal first bytes cannot tell two strings apart, MoreUrgent itself decides; a test holds
// the keys to MoreUrgent's order.
struct UrgencyKey {
  int rank;
  bool no_due;
  std::int64_t due_ms;
  std::int64_t trigger_ms;
  std::int64_t trigger_event;
  std::array<char, 8> clause;    // "9.3", "9.5.6", ...
  std::array<char, 32> key;      // "patch_at_risk_notification", ...
  std::array<char, 16> subject;  // "F-12", ...
  bool exact[3];                 // clause, key and subject fit in their prefixes
  int run;                       // whose obligations: 0 the contract's, then each worker's
  std::uint32_t list;            // in them: which list (a finding's obligations)
  std::uint32_t index;           // and where in it
};

template <size_t N>
std::array<char, N> Prefix(std::string_view s, bool* exact) {
  std::array<char, N> out{};
  std::memcpy(out.data(), s.data(), std::min(s.size(), N));
  *exact = s.size() <= N && s.find('\0') == std::string_view::npos;
  return out;
}

template <typename O>  // Obligation or CompactObligation
UrgencyKey KeyOf(const O& o, int run, size_t list, size_t index) {
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
  k.clause = Prefix<8>(o.clause, &k.exact[0]);
  k.key = Prefix<32>(o.key, &k.exact[1]);
  k.subject = Prefix<16>(o.subject, &k.exact[2]);
  k.run = run;
  k.list = static_cast<std::uint32_t>(list);
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
  auto differ = [&](const auto& x, const auto& y, bool x_exact, bool y_exact, bool* less) {
    const int c = std::memcmp(x.data(), y.data(), x.size());
    if (c != 0) {
      *less = c < 0;
      return true;
    }
    // Equal first bytes of strings that go on: only the whole strings can tell.
    if (!x_exact || !y_exact) {
      *tie = true;
      *less = false;
      return true;
    }
    return false;
  };
  bool less = false;
  if (differ(a.clause, b.clause, a.exact[0], b.exact[0], &less)) return less;
  if (differ(a.key, b.key, a.exact[1], b.exact[1], &less)) return less;
  if (differ(a.subject, b.subject, a.exact[2], b.exact[2], &less)) return less;
  return false;  // equal in every field MoreUrgent reads
}

// The obligation MoreUrgent sees in `o`: the fields it reads.
Obligation Probe(const CompactObligation& o) {
  Obligation p;
  p.clause = o.clause;
  p.key = o.key;
  p.subject = o.subject;
  p.trigger_at = o.trigger_at;
  p.trigger_event_id = o.trigger_event_id;
  p.due_date = o.due_date;
  p.due_at = o.due_at;
  p.state = o.state;
  p.consequence = o.consequence;
  p.closed_at = o.closed_at;
  return p;
}
bool Urgent(const Obligation& a, const Obligation& b) {
  return MoreUrgent(a, b);
}
bool Urgent(const CompactObligation& a, const CompactObligation& b) {
  return MoreUrgent(Probe(a), Probe(b));
}

// a before b in MoreUrgent's order, from their keys (MoreUrgent itself on a tie).
template <typename At>
bool KeyBeforeOf(const UrgencyKey& a, const UrgencyKey& b, const At& at) {
  bool tie = false;
  const bool less = KeyLess(a, b, &tie);
  return tie ? Urgent(at(a), at(b)) : less;
}

// Finding identities are unique, so no two obligations here are equal under MoreUrgent: the
// order is total and any sort consistent with it gives the same sequence.
template <typename At>
void SortByUrgency(std::vector<UrgencyKey>& keys, const At& at) {
  std::sort(keys.begin(), keys.end(),
            [&](const UrgencyKey& a, const UrgencyKey& b) { return KeyBeforeOf(a, b, at); });
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

// A row's values, its text still where the finding and its evaluation hold it.
struct RowValues {
  const FindingRow* row;
  const std::string* asset;  // valid UTF-8
  const FindingFacts* facts;
  const FindingEvaluation* fe;
  const std::vector<Event>* events;
  int category;
  std::optional<Instant> applied;
  std::optional<ObligationState> clock_state;
  std::optional<Date> due;
  std::optional<int> elapsed_days, elapsed_working_days, deadline_days;
  std::optional<bool> within_timescale;
  bool overdue = false;
};

// What one worker found, whatever form its rows take.
struct Counts {
  std::int64_t observations = 0, own_code = 0, not_affected = 0, patched_after_month = 0;
  std::array<CategoryTotals, 3> totals;
  std::vector<RowKey> patched_keys, outstanding_keys;
  std::vector<UrgencyKey> breached_keys;  // most urgent first, once the worker is done
};

// Rows as ReportRows, obligations as the rules gave them (for MonthlyReport).
struct FullOut : Counts {
  std::vector<ReportRow> patched, outstanding;
  // The evaluations' obligations of the findings with a breached one, kept where the rules
  // left them (the breached ones are moved out once, into the report).
  std::vector<std::vector<Obligation>> obligations;

  void AddBreached(std::vector<Obligation>& obligations_of_finding) {
    bool any = false;
    for (Obligation& o : obligations_of_finding) {
      if (o.state != ObligationState::kBreached) continue;
      MakeValidUtf8(&o.title);
      MakeValidUtf8(&o.subject);
      any = true;
    }
    if (any) obligations.push_back(std::move(obligations_of_finding));
  }
  void KeyObligations(int run) {
    for (size_t l = 0; l < obligations.size(); ++l) {
      for (size_t i = 0; i < obligations[l].size(); ++i) {
        const Obligation& o = obligations[l][i];
        if (o.state == ObligationState::kBreached) breached_keys.push_back(KeyOf(o, run, l, i));
      }
    }
    SortByUrgency(breached_keys, [&](const UrgencyKey& k) -> const Obligation& {
      return obligations[k.list][k.index];
    });
  }
  // Returns where the row went.
  size_t AddRow(const RowValues& rv) {
    const FindingRow& row = *rv.row;
    ReportRow v;
    v.finding = FindingId(row.id);
    v.category = row.category;
    v.asset = *rv.asset;
    v.vuln_id = ValidUtf8(row.vuln_id);
    v.cves.reserve(row.cves.size());
    for (const std::string& c : row.cves) v.cves.push_back(ValidUtf8(c));
    v.title = ValidUtf8(row.title);
    v.component = ValidUtf8(row.component);
    v.first_seen = row.first_seen;
    if (rv.facts->release) {
      v.patch_released = rv.facts->release->date;
      v.patch_released_assumed = rv.facts->release->assumed;
      v.patch_release_source = rv.facts->release->source;
    }
    v.due = rv.due;
    v.exception = ValidUtf8(rv.fe->exception);
    if (rv.clock_state) v.clock_state = std::string(ObligationStateName(*rv.clock_state));
    v.elapsed_days = rv.elapsed_days;
    v.elapsed_working_days = rv.elapsed_working_days;
    v.deadline_days = rv.deadline_days;
    if (rv.applied) {
      v.applied_at = rv.applied;
      v.applied_by = ValidUtf8(AppliedBy(row, *rv.events, *rv.applied));
      v.within_timescale = rv.within_timescale;
      patched.push_back(std::move(v));
      return patched.size() - 1;
    }
    v.overdue = rv.overdue;
    v.at_risk = rv.fe->at_risk;
    outstanding.push_back(std::move(v));
    return outstanding.size() - 1;
  }
};

// Rows and obligations with their text in an arena (for a long report's JSON).
struct CompactOut : Counts {
  std::unique_ptr<TextArena> arena = std::make_unique<TextArena>();
  std::unique_ptr<std::vector<CompactRow>> patched = std::make_unique<std::vector<CompactRow>>();
  std::unique_ptr<std::vector<CompactRow>> outstanding =
      std::make_unique<std::vector<CompactRow>>();
  std::unique_ptr<std::vector<CompactObligation>> obligations =
      std::make_unique<std::vector<CompactObligation>>();

  static CompactObligation Compact(const Obligation& o, TextArena& arena) {
    CompactObligation c;
    c.clause = arena.Copy(o.clause);
    c.key = arena.Copy(o.key);
    c.title = arena.CopyValidUtf8(o.title);
    c.subject = arena.CopyValidUtf8(o.subject);
    c.trigger_at = o.trigger_at;
    c.trigger_event_id = o.trigger_event_id;
    c.due_date = o.due_date;
    c.due_at = o.due_at;
    c.state = o.state;
    c.consequence = o.consequence;
    c.consequence_text = arena.Copy(o.consequence_text);
    c.closed_at = o.closed_at;
    return c;
  }
  void AddBreached(std::vector<Obligation>& obligations_of_finding) {
    for (const Obligation& o : obligations_of_finding) {
      if (o.state == ObligationState::kBreached) obligations->push_back(Compact(o, *arena));
    }
  }
  void KeyObligations(int run) {
    for (size_t i = 0; i < obligations->size(); ++i) {
      breached_keys.push_back(KeyOf((*obligations)[i], run, 0, i));
    }
    SortByUrgency(breached_keys, [&](const UrgencyKey& k) -> const CompactObligation& {
      return (*obligations)[k.index];
    });
  }
  size_t AddRow(const RowValues& rv) {
    const FindingRow& row = *rv.row;
    TextArena& a = *arena;
    CompactRow v;
    v.finding = a.Copy(FindingId(row.id));
    v.category = a.Copy(row.category);
    v.asset = a.Copy(*rv.asset);
    v.vuln_id = a.CopyValidUtf8(row.vuln_id);
    std::span<std::string_view> cves = a.Views(row.cves.size());
    for (size_t i = 0; i < row.cves.size(); ++i) cves[i] = a.CopyValidUtf8(row.cves[i]);
    v.cves = cves;
    v.title = a.CopyValidUtf8(row.title);
    v.component = a.CopyValidUtf8(row.component);
    v.first_seen = row.first_seen;
    if (rv.facts->release) {
      v.patch_released = rv.facts->release->date;
      v.patch_released_assumed = rv.facts->release->assumed;
      v.patch_release_source = a.Copy(rv.facts->release->source);
    }
    v.due = rv.due;
    v.exception = a.CopyValidUtf8(rv.fe->exception);
    if (rv.clock_state) v.clock_state = ObligationStateName(*rv.clock_state);
    v.elapsed_days = rv.elapsed_days;
    v.elapsed_working_days = rv.elapsed_working_days;
    v.deadline_days = rv.deadline_days;
    if (rv.applied) {
      v.applied_at = rv.applied;
      v.applied_by = a.CopyValidUtf8(AppliedBy(row, *rv.events, *rv.applied));
      v.within_timescale = rv.within_timescale;
      patched->push_back(v);
      return patched->size() - 1;
    }
    v.overdue = rv.overdue;
    v.at_risk = rv.fe->at_risk;
    outstanding->push_back(v);
    return outstanding->size() - 1;
  }
};

// One finding of the report: its clocks as of the issue, and its row.
template <typename Out>
void Evaluate(const Shared& s, FindingRow& row, int worker, Out& out) {
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
  const FindingFacts facts = FactsOf(row, s.ctx, evs, s.as_of);
  FindingEvaluation fe = EvaluateFinding(facts, s.ctx.versions, s.ctx.calendar, evs, s.as_of);
  RowValues rv{&row, &asset.second, &facts, &fe, &evs, 0, {}, {}, fe.due, {}, {}, {}, {}, false};
  // The 9.3 clock's state and due date, before the breached obligations move out.
  if (const Obligation* clock = PatchClock(fe.evaluation.obligations)) {
    rv.clock_state = clock->state;
    if (clock->due_date) rv.due = clock->due_date;
  }
  out.AddBreached(fe.evaluation.obligations);
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
  rv.applied = fe.patched_at;
  if (!rv.applied || *rv.applied > s.as_of) rv.applied = row.remediated_at;
  if (rv.applied && LondonDate(*rv.applied) < s.first_day) return;
  if (rv.applied && LondonDate(*rv.applied) > s.last_day) {
    ++out.patched_after_month;
    return;
  }
  const Date until = rv.applied ? LondonDate(*rv.applied) : s.issue_date;
  if (facts.release) {
    const Date released = facts.release->date;
    rv.elapsed_days = ElapsedDays(released, until);
    if (row.category == "Other") {
      rv.elapsed_working_days = ElapsedWorkingDays(s.ctx.calendar, released, until);
    }
    if (rv.due) rv.deadline_days = ElapsedDays(released, *rv.due);
  }
  rv.category = CategoryIndex(row.category);
  CategoryTotals& t = out.totals[rv.category];
  if (rv.applied) {
    if (rv.clock_state == ObligationState::kMetLate) {
      rv.within_timescale = false;
    } else if (rv.clock_state) {
      rv.within_timescale = true;
    }
    ++(rv.within_timescale == false ? t.patched_late : t.patched_within);
    const size_t at = out.AddRow(rv);
    out.patched_keys.emplace_back(rv.category, rv.applied, rv.due, row.id, worker, at);
  } else {
    rv.overdue = rv.clock_state == ObligationState::kBreached;
    ++(rv.overdue ? t.outstanding_overdue : t.outstanding_within);
    const size_t at = out.AddRow(rv);
    out.outstanding_keys.emplace_back(rv.category, std::nullopt, rv.due, row.id, worker, at);
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

// Reads the findings on this thread and evaluates them on `workers` threads into `found`.
template <typename Out>
Status ReadAndEvaluate(store::Connection& conn, const Shared& shared, std::vector<Out>& found) {
  const int workers = static_cast<int>(found.size());
  BatchQueue queue(static_cast<size_t>(2 * workers + 2));
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Out& out = found[static_cast<size_t>(w)];
      while (std::unique_ptr<Batch> b = queue.Next()) {
        for (size_t i = 0; i < b->count; ++i) Evaluate(shared, b->rows[i], w, out);
        queue.Recycle(std::move(b));
      }
      out.KeyObligations(w + 1);
    });
  }
  // In the order the engine finds them (sorting 400,000 rows costs it more than the rest): the
  // rows are sorted below, and each finding's obligations name it, so the order is the same.
  Status read = [&]() -> Status {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(std::string("SELECT ") + kReportColumns +
                                                " FROM findings f WHERE f.contract_id = $1 AND "
                                                "f.first_seen <= $2"));
    st->BindInt(1, shared.ctx.record.id);
    st->BindInt(2, Ms(shared.as_of));
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
  return read;
}

// The keys of every worker's rows, in report order.
std::vector<RowKey> SortedKeys(const std::vector<const std::vector<RowKey>*>& keys) {
  std::vector<RowKey> all;
  for (const auto* k : keys) all.insert(all.end(), k->begin(), k->end());
  std::sort(all.begin(), all.end(), KeyBefore);
  return all;
}

// Merges the runs of keys (each sorted) into one sequence in MoreUrgent's order, calling
// `take` with each key in turn.
template <typename At, typename Take>
void MergeByUrgency(const std::vector<const std::vector<UrgencyKey>*>& runs, const At& at,
                    const Take& take) {
  std::vector<size_t> next(runs.size(), 0);
  while (true) {
    int best = -1;
    for (size_t r = 0; r < runs.size(); ++r) {
      if (next[r] == runs[r]->size()) continue;
      if (best < 0 ||
          KeyBeforeOf((*runs[r])[next[r]],
                      (*runs[static_cast<size_t>(best)])[next[static_cast<size_t>(best)]], at)) {
        best = static_cast<int>(r);
      }
    }
    if (best < 0) break;
    const size_t b = static_cast<size_t>(best);
    take((*runs[b])[next[b]++]);
  }
}

template <typename Out>
void AddCounts(const std::vector<Out>& found, MonthlyReport* rep) {
  for (const Out& f : found) {
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
}

}  // namespace

std::string_view TextArena::Copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = Room(s.size(), 1);
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

std::string_view TextArena::CopyValidUtf8(std::string_view s) {
  return IsValidUtf8(s) ? Copy(s) : Copy(ValidUtf8(s));
}

std::span<std::string_view> TextArena::Views(size_t n) {
  if (n == 0) return {};
  auto* p = reinterpret_cast<std::string_view*>(
      Room(n * sizeof(std::string_view), alignof(std::string_view)));
  for (size_t i = 0; i < n; ++i) new (p + i) std::string_view();
  return {p, n};
}

char* TextArena::Room(size_t n, size_t align) {
  const size_t pad = (align - reinterpret_cast<std::uintptr_t>(next_) % align) % align;
  if (next_ == nullptr || left_ < n + pad) {
    // Blocks of 4 MiB, left uninitialised (every byte handed out is written first), on huge
    // pages where the kernel offers them (a fault per 2 MiB rather than per 4 KiB).
    constexpr size_t kBlock = 4 << 20, kHuge = 2 << 20;
    const size_t size = std::max(kBlock, (n + align + kHuge - 1) / kHuge * kHuge);
    void* block = std::aligned_alloc(kHuge, size);
    if (block == nullptr) throw std::bad_alloc();
    ::madvise(block, size, MADV_HUGEPAGE);
    blocks_.push_back(std::unique_ptr<char, Free>(static_cast<char*>(block)));
    next_ = blocks_.back().get();
    left_ = size;
    return Room(n, align);
  }
  char* p = next_ + pad;
  next_ = p + n;
  left_ -= n + pad;
  return p;
}

bool UrgencyKeyBefore(const Obligation& a, const Obligation& b) {
  return KeyBeforeOf(KeyOf(a, 0, 0, 0), KeyOf(b, 0, 1, 0),
                     [&](const UrgencyKey& k) -> const Obligation& { return k.list == 0 ? a : b; });
}

Status EvaluateReportRows(store::Connection& conn, const ContractContext& ctx, Instant as_of,
                          std::map<std::string, std::vector<Event>> events,
                          std::vector<Obligation> others, MonthlyReport* rep,
                          CompactRows* compact) {
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

  if (compact == nullptr) {
    std::vector<FullOut> found(static_cast<size_t>(WorkerCount()));
    ISMS_RETURN_IF_ERROR(ReadAndEvaluate(conn, shared, found));
    AddCounts(found, rep);
    // The rows: their keys sorted, then each row moved once into place.
    auto place = [&](std::vector<ReportRow> FullOut::*rows, std::vector<RowKey> Counts::*keys,
                     std::vector<ReportRow>* into) {
      std::vector<const std::vector<RowKey>*> runs;
      for (const FullOut& f : found) runs.push_back(&(f.*keys));
      const std::vector<RowKey> all = SortedKeys(runs);
      into->reserve(all.size());
      for (const RowKey& k : all) {
        into->push_back(std::move((found[static_cast<size_t>(k.worker)].*rows)[k.index]));
      }
      for (FullOut& f : found) (f.*rows).clear();
    };
    place(&FullOut::patched, &Counts::patched_keys, &rep->patched);
    place(&FullOut::outstanding, &Counts::outstanding_keys, &rep->outstanding);
    // The breached obligations: each worker's sorted by urgency, merged with the others'.
    for (Obligation& o : others) {
      MakeValidUtf8(&o.title);
      MakeValidUtf8(&o.subject);
    }
    std::vector<UrgencyKey> others_keys;
    for (size_t i = 0; i < others.size(); ++i) others_keys.push_back(KeyOf(others[i], 0, 0, i));
    auto at = [&](const UrgencyKey& k) -> Obligation& {
      return k.run == 0 ? others[k.index]
                        : found[static_cast<size_t>(k.run - 1)].obligations[k.list][k.index];
    };
    SortByUrgency(others_keys, at);
    std::vector<const std::vector<UrgencyKey>*> runs = {&others_keys};
    for (const FullOut& f : found) runs.push_back(&f.breached_keys);
    size_t total = 0;
    for (const auto* r : runs) total += r->size();
    rep->breached.reserve(total);
    MergeByUrgency(runs, at,
                   [&](const UrgencyKey& k) { rep->breached.push_back(std::move(at(k))); });
    return Status::Ok();
  }

  std::vector<CompactOut> found(static_cast<size_t>(WorkerCount()));
  ISMS_RETURN_IF_ERROR(ReadAndEvaluate(conn, shared, found));
  AddCounts(found, rep);
  for (auto [keys, into] : {std::pair(&Counts::patched_keys, &compact->patched),
                            std::pair(&Counts::outstanding_keys, &compact->outstanding)}) {
    std::vector<const std::vector<RowKey>*> runs;
    for (const CompactOut& f : found) runs.push_back(&(f.*keys));
    const std::vector<RowKey> all = SortedKeys(runs);
    const bool patched = keys == &Counts::patched_keys;
    into->reserve(all.size());
    for (const RowKey& k : all) {
      const CompactOut& f = found[static_cast<size_t>(k.worker)];
      into->push_back(&(patched ? *f.patched : *f.outstanding)[k.index]);
    }
  }
  // The breached obligations: the contract's and its assets' made compact too, then merged.
  CompactOut rest;
  for (const Obligation& o : others)
    rest.obligations->push_back(CompactOut::Compact(o, *rest.arena));
  rest.KeyObligations(0);
  auto at = [&](const UrgencyKey& k) -> const CompactObligation& {
    return k.run == 0 ? (*rest.obligations)[k.index]
                      : (*found[static_cast<size_t>(k.run - 1)].obligations)[k.index];
  };
  std::vector<const std::vector<UrgencyKey>*> runs = {&rest.breached_keys};
  for (const CompactOut& f : found) runs.push_back(&f.breached_keys);
  MergeByUrgency(runs, at, [&](const UrgencyKey& k) { compact->breached.push_back(&at(k)); });
  compact->arenas.push_back(std::move(rest.arena));
  compact->obligations_store.push_back(std::move(rest.obligations));
  for (CompactOut& f : found) {
    compact->arenas.push_back(std::move(f.arena));
    compact->rows_store.push_back(std::move(f.patched));
    compact->rows_store.push_back(std::move(f.outstanding));
    compact->obligations_store.push_back(std::move(f.obligations));
  }
  return Status::Ok();
}

}  // namespace isms::app::internal
