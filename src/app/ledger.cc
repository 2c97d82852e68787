#include "app/ledger.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "app/schema.h"
#include "app/text.h"
#include "app/vulns.h"
#include "formats/bank_holidays_json.h"
#include "formats/policy_toml.h"

namespace isms::app {
namespace {

using std::chrono::milliseconds;

std::int64_t Ms(Instant t) {
  return t.time_since_epoch().count();
}
Instant FromMs(std::int64_t ms) {
  return Instant(milliseconds(ms));
}

// The largest difference between an event's time and the recording clock that is not "future".
constexpr auto kClockSkew = std::chrono::minutes(5);

Status CheckContractName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("contract name '" + name + "' must be 1 to 64 characters long");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return Status::InvalidArgument("contract name '" + name +
                                     "' may hold only letters, digits, '-', '_' and '.'");
    }
  }
  return Status::Ok();
}

std::string EncodeAttrs(const std::vector<std::pair<std::string, std::string>>& attrs) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : attrs) j[k] = v;
  return j.dump();
}

// The attributes of `text` when it is a flat object of plain strings ({"k":"v",...}, no escapes
// or spaces: what EncodeAttrs writes for most values), else nullopt. Reading a million events,
// the JSON parser costs more than everything else of a row.
std::optional<std::vector<std::pair<std::string, std::string>>> DecodePlainAttrs(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> attrs;
  size_t i = 1;
  auto plain = [&](std::string* out) {
    if (i >= text.size() || text[i] != '"') return false;
    size_t end = ++i;
    while (end < text.size() && text[end] != '"') {
      const unsigned char c = static_cast<unsigned char>(text[end]);
      if (c == '\\' || c < 0x20) return false;
      ++end;
    }
    if (end >= text.size()) return false;
    out->assign(text.substr(i, end - i));
    i = end + 1;
    return true;
  };
  if (text.size() < 2 || text.front() != '{') return std::nullopt;
  while (true) {
    std::pair<std::string, std::string> kv;
    if (!plain(&kv.first) || i >= text.size() || text[i++] != ':' || !plain(&kv.second)) {
      return std::nullopt;
    }
    attrs.push_back(std::move(kv));
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i + 1 != text.size() || text[i] != '}') return std::nullopt;
    break;
  }
  return attrs;
}

Result<std::vector<std::pair<std::string, std::string>>> DecodeAttrs(const std::string& text,
                                                                     std::int64_t event_id) {
  std::vector<std::pair<std::string, std::string>> attrs;
  if (text == "{}") return attrs;  // most events carry no attributes
  if (auto plain = DecodePlainAttrs(text)) {
    attrs = std::move(*plain);
    std::sort(attrs.begin(), attrs.end());
    // Keys are unique in what EncodeAttrs writes; a store edited by hand goes the long way.
    if (std::adjacent_find(attrs.begin(), attrs.end(), [](const auto& a, const auto& b) {
          return a.first == b.first;
        }) == attrs.end()) {
      return attrs;
    }
    attrs.clear();
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Status::Corruption("event " + std::to_string(event_id) +
                              ": stored attributes are not a JSON object");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) {
      return Status::Corruption("event " + std::to_string(event_id) + ": attribute '" + it.key() +
                                "' is not a string");
    }
    attrs.emplace_back(it.key(), it.value().get<std::string>());
  }
  std::sort(attrs.begin(), attrs.end());
  return attrs;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path + ": check the path and its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string JoinIds(const std::vector<std::int64_t>& ids) {
  std::string text;
  for (std::int64_t id : ids) {
    if (!text.empty()) text += ',';
    text += std::to_string(id);
  }
  return text;
}

std::vector<std::int64_t> SplitIds(const std::string& s) {
  std::vector<std::int64_t> ids;
  for (const std::string& id : Split(s, ',')) ids.push_back(std::stoll(id));
  return ids;
}

constexpr const char* kEventColumns =
    "id, type, subject, at, recorded_at, actor, by_buyer, note, attrs, supersedes";

// The event in the columns of kEventColumns, from column `first` on.
Result<Event> ReadEvent(const store::Statement& st, int first = 0) {
  Event e;
  e.id = st.ColumnInt(first);
  e.type = st.ColumnText(first + 1);
  e.subject = st.ColumnText(first + 2);
  e.at = FromMs(st.ColumnInt(first + 3));
  e.recorded_at = FromMs(st.ColumnInt(first + 4));
  e.actor = st.ColumnText(first + 5);
  e.by_buyer = st.ColumnInt(first + 6) != 0;
  e.note = st.ColumnText(first + 7);
  ISMS_ASSIGN_OR_RETURN(e.attrs, DecodeAttrs(st.ColumnText(first + 8), e.id));
  e.supersedes = st.ColumnOptionalInt(first + 9);
  return e;
}

// Every remaining row of `st`, which selects kEventColumns.
Result<std::vector<Event>> ReadEvents(store::Statement& st) {
  std::vector<Event> events;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ISMS_ASSIGN_OR_RETURN(Event e, ReadEvent(st));
    events.push_back(std::move(e));
  }
  return events;
}

constexpr const char* kContractColumns =
    "id, name, start_date, buyer, supplier, bespoke_isms, policy_toml, created_at, created_by, "
    "policy_dir";

Result<ContractRecord> ReadContract(const store::Statement& st) {
  ContractRecord c;
  c.id = st.ColumnInt(0);
  c.name = st.ColumnText(1);
  ISMS_ASSIGN_OR_RETURN(c.start, ParseDate(st.ColumnText(2)));
  c.buyer = st.ColumnText(3);
  c.supplier = st.ColumnText(4);
  c.bespoke_isms = st.ColumnInt(5) != 0;
  c.policy_toml = st.ColumnText(6);
  c.created_at = FromMs(st.ColumnInt(7));
  c.created_by = st.ColumnText(8);
  c.policy_dir = st.ColumnText(9);
  return c;
}

constexpr const char* kObligationColumns =
    "stream, ordinal, clause, key, title, subject, trigger_event_id, trigger_type, trigger_at, "
    "timescale_amount, timescale_unit, timescale_source, due_date, due_at, state, consequence, "
    "consequence_text, closed_at, evidence, flags";

Result<TimescaleSource> ParseTimescaleSource(const std::string& s) {
  for (TimescaleSource t :
       {TimescaleSource::kContract, TimescaleSource::kPolicyDefault, TimescaleSource::kVaried}) {
    if (TimescaleSourceKey(t) == s) return t;
  }
  return Status::Corruption("unknown timescale source '" + s + "' in the store");
}

Result<Consequence> ParseStoredConsequence(const std::string& s) {
  for (Consequence c : {Consequence::kBreach, Consequence::kDefault, Consequence::kMaterialDefault,
                        Consequence::kEscalation}) {
    if (ConsequenceName(c) == s) return c;
  }
  return Status::Corruption("unknown consequence '" + s + "' in the store");
}

Result<Obligation> ReadObligation(const store::Statement& st) {
  Obligation o;
  o.clause = st.ColumnText(2);
  o.key = st.ColumnText(3);
  o.title = st.ColumnText(4);
  o.subject = st.ColumnText(5);
  o.trigger_event_id = st.ColumnInt(6);
  o.trigger_type = st.ColumnText(7);
  o.trigger_at = FromMs(st.ColumnInt(8));
  if (!st.IsNull(9)) {
    ISMS_ASSIGN_OR_RETURN(Period::Unit unit, ParseUnitKey(st.ColumnText(10)));
    o.timescale = Period{static_cast<int>(st.ColumnInt(9)), unit};
  }
  ISMS_ASSIGN_OR_RETURN(o.timescale_source, ParseTimescaleSource(st.ColumnText(11)));
  if (!st.IsNull(12)) {
    ISMS_ASSIGN_OR_RETURN(Date d, ParseDate(st.ColumnText(12)));
    o.due_date = d;
  }
  if (!st.IsNull(13)) o.due_at = FromMs(st.ColumnInt(13));
  ISMS_ASSIGN_OR_RETURN(o.state, ParseObligationState(st.ColumnText(14)));
  ISMS_ASSIGN_OR_RETURN(o.consequence, ParseStoredConsequence(st.ColumnText(15)));
  o.consequence_text = st.ColumnText(16);
  if (!st.IsNull(17)) o.closed_at = FromMs(st.ColumnInt(17));
  o.evidence = SplitIds(st.ColumnText(18));
  o.flags = Split(st.ColumnText(19), '\n');
  return o;
}

// Binds the row's 21 values to parameters $base+1 ... $base+21.
// Every remaining row of `st`, which selects kObligationColumns.
Result<std::vector<Obligation>> ReadObligations(store::Statement& st) {
  std::vector<Obligation> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ISMS_ASSIGN_OR_RETURN(Obligation o, ReadObligation(st));
    out.push_back(std::move(o));
  }
  return out;
}

// ORDER BY terms that sort obligations as MoreUrgent does (core/obligation.h), then by their key
// so that the order is total: the urgency rank, the due instant (breached and open only; none
// last), the trigger, clause, kind and subject (compared byte by byte, as std::string does).
std::string UrgencyOrder(store::Engine engine) {
  const std::string bytes = engine == store::Engine::kPostgres ? " COLLATE \"C\"" : "";
  return "CASE state WHEN 'breached' THEN CASE consequence WHEN 'material Default' THEN 0 WHEN "
         "'Default' THEN 1 ELSE 2 END WHEN 'open' THEN 3 WHEN 'suspended' THEN 4 WHEN 'met late' "
         "THEN 5 WHEN 'met' THEN 6 ELSE 7 END, CASE WHEN state IN ('breached', 'open') AND "
         "due_at IS NULL AND closed_at IS NULL THEN 1 ELSE 0 END, CASE WHEN state IN "
         "('breached', 'open') THEN COALESCE(due_at, closed_at, 0) ELSE 0 END, trigger_at, "
         "trigger_event_id, clause" +
         bytes + ", key" + bytes + ", subject" + bytes + ", stream" + bytes + ", ordinal";
}

void BindObligation(store::Statement& st, int base, std::int64_t contract_id,
                    const std::string& stream, int ordinal, const Obligation& o) {
  st.BindInt(base + 1, contract_id);
  st.BindText(base + 2, stream);
  st.BindInt(base + 3, ordinal);
  st.BindText(base + 4, o.clause);
  st.BindText(base + 5, o.key);
  st.BindText(base + 6, o.title);
  st.BindText(base + 7, o.subject);
  st.BindInt(base + 8, o.trigger_event_id);
  st.BindText(base + 9, o.trigger_type);
  st.BindInt(base + 10, Ms(o.trigger_at));
  if (o.timescale) {
    st.BindInt(base + 11, o.timescale->amount);
    st.BindText(base + 12, UnitKey(o.timescale->unit));
  } else {
    st.BindNull(base + 11);
    st.BindNull(base + 12);
  }
  st.BindText(base + 13, TimescaleSourceKey(o.timescale_source));
  if (o.due_date) {
    st.BindText(base + 14, FormatDate(*o.due_date));
  } else {
    st.BindNull(base + 14);
  }
  if (o.due_at) {
    st.BindInt(base + 15, Ms(*o.due_at));
  } else {
    st.BindNull(base + 15);
  }
  st.BindText(base + 16, ObligationStateName(o.state));
  st.BindText(base + 17, ConsequenceName(o.consequence));
  st.BindText(base + 18, o.consequence_text);
  if (o.closed_at) {
    st.BindInt(base + 19, Ms(*o.closed_at));
  } else {
    st.BindNull(base + 19);
  }
  st.BindText(base + 20, JoinIds(o.evidence));
  st.BindText(base + 21, Join(o.flags, '\n'));
}

void AddObligationRow(store::BulkWriter& w, std::int64_t contract_id, const std::string& stream,
                      int ordinal, const Obligation& o) {
  w.AddInt(contract_id);
  w.AddText(stream);
  w.AddInt(ordinal);
  w.AddText(o.clause);
  w.AddText(o.key);
  w.AddText(o.title);
  w.AddText(o.subject);
  w.AddInt(o.trigger_event_id);
  w.AddText(o.trigger_type);
  w.AddInt(Ms(o.trigger_at));
  if (o.timescale) {
    w.AddInt(o.timescale->amount);
    w.AddText(UnitKey(o.timescale->unit));
  } else {
    w.AddNull();
    w.AddNull();
  }
  w.AddText(TimescaleSourceKey(o.timescale_source));
  o.due_date ? w.AddText(FormatDate(*o.due_date)) : w.AddNull();
  o.due_at ? w.AddInt(Ms(*o.due_at)) : w.AddNull();
  w.AddText(ObligationStateName(o.state));
  w.AddText(ConsequenceName(o.consequence));
  w.AddText(o.consequence_text);
  o.closed_at ? w.AddInt(Ms(*o.closed_at)) : w.AddNull();
  w.AddText(JoinIds(o.evidence));
  w.AddText(Join(o.flags, '\n'));
}

const std::vector<std::string> kObligationColumnList = {"contract_id",
                                                        "stream",
                                                        "ordinal",
                                                        "clause",
                                                        "key",
                                                        "title",
                                                        "subject",
                                                        "trigger_event_id",
                                                        "trigger_type",
                                                        "trigger_at",
                                                        "timescale_amount",
                                                        "timescale_unit",
                                                        "timescale_source",
                                                        "due_date",
                                                        "due_at",
                                                        "state",
                                                        "consequence",
                                                        "consequence_text",
                                                        "closed_at",
                                                        "evidence",
                                                        "flags"};

// The obligations written by one statement when a stream is stored row by row.
constexpr int kObligationsPerStatement = 16;

// INSERT of `rows` obligations (1 to kObligationsPerStatement) that writes over the stored rows
// of the same ordinals.
const std::string& UpsertObligations(int rows) {
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> sql(kObligationsPerStatement + 1);
    for (int n = 1; n <= kObligationsPerStatement; ++n) {
      std::string text = "INSERT INTO obligations (" + Join(kObligationColumnList, ',') + ") VALUES ";
      for (int r = 0; r < n; ++r) {
        text += r ? ", (" : "(";
        for (size_t c = 0; c < kObligationColumnList.size(); ++c) {
          text += (c ? ", $" : "$") + std::to_string(r * kObligationColumnList.size() + c + 1);
        }
        text += ")";
      }
      text += " ON CONFLICT (contract_id, stream, ordinal) DO UPDATE SET ";
      for (size_t c = 3; c < kObligationColumnList.size(); ++c) {
        text += (c > 3 ? ", " : "") + kObligationColumnList[c] + " = excluded." +
                kObligationColumnList[c];
      }
      sql[n] = std::move(text);
    }
    return sql;
  }();
  return kSql[rows];
}

// The events that withdraw or replace others: superseded ids are removed from the history
// before the rules see it (the rules see only effective events).
std::set<std::int64_t> SupersededIds(const std::vector<Event>& events) {
  std::set<std::int64_t> ids;
  for (const Event& e : events) {
    if (e.supersedes) ids.insert(*e.supersedes);
  }
  return ids;
}

// Policy versions: the contract's own from the Start Date, then each effective policy.changed
// event (its `policy` attribute holds the policy file) from the London date it happened.
Result<std::vector<PolicyVersion>> PolicyVersionsFrom(const ContractTerms& terms,
                                                      const Policy& base,
                                                      const std::vector<Event>& events) {
  std::vector<PolicyVersion> versions = {{terms.start, base}};
  for (const Event& e : EffectiveEvents(events)) {
    if (e.type != "policy.changed") continue;
    std::optional<std::string_view> text = e.Attr("policy");
    if (!text) {
      return Status::Corruption("event " + std::to_string(e.id) +
                                " (policy.changed) carries no policy");
    }
    ISMS_ASSIGN_OR_RETURN(Policy p,
                          LoadPolicyString(*text, "policy of event " + std::to_string(e.id)));
    Date from = std::max(LondonDate(e.at), terms.start);
    if (versions.back().effective_from == from) {
      versions.back().policy = std::move(p);
    } else {
      versions.push_back({from, std::move(p)});
    }
  }
  return versions;
}

// The events of one stream and, once evaluated, its obligations.
struct StreamGroup {
  std::string stream;
  std::vector<Event> events;
  Evaluation evaluation;
};

bool IsFindingStream(std::string_view stream) {
  return stream.substr(0, 5) == "vuln:";
}

// Every event of a contract by stream, read in the order of the index events_by_stream, so that
// a stream's events arrive together: the contract stream "" first (with or without events), the
// others in the engine's order. The finding streams' events go to `findings` instead (their
// obligations need the findings' facts). Each event's stored stream is checked against
// StreamOf: should a store hold an event filed under another stream (written by a version whose
// rules differed), the events are regrouped by StreamOf.
Result<std::vector<StreamGroup>> ReadStreams(store::Connection& conn, std::int64_t contract_id,
                                             std::map<std::string, std::vector<Event>>* findings,
                                             std::int64_t* count) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(std::string("SELECT stream, ") + kEventColumns +
                                              " FROM events WHERE contract_id = $1 ORDER BY "
                                              "stream, at, id"));
  st->BindInt(1, contract_id);
  std::vector<StreamGroup> groups(1);  // groups[0]: the contract stream
  bool misfiled = false;
  std::string stream;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    stream = st->ColumnText(0);
    ISMS_ASSIGN_OR_RETURN(Event e, ReadEvent(*st, 1));
    ++*count;
    if (!misfiled && StreamOf(e) != stream) misfiled = true;
    if (!stream.empty() && groups.back().stream != stream) {
      groups.push_back({stream, {}, {}});
    }
    (stream.empty() ? groups.front() : groups.back()).events.push_back(std::move(e));
  }
  if (misfiled) {
    std::vector<std::pair<std::string, Event>> all;
    for (StreamGroup& g : groups) {
      for (Event& e : g.events) {
        std::string s = StreamOf(e);
        all.emplace_back(std::move(s), std::move(e));
      }
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : HappenedBefore(a.second, b.second);
    });
    groups.assign(1, StreamGroup{});
    for (auto& [s, e] : all) {
      if (!s.empty() && groups.back().stream != s) groups.push_back({s, {}, {}});
      (s.empty() ? groups.front() : groups.back()).events.push_back(std::move(e));
    }
  }
  std::erase_if(groups, [&](StreamGroup& g) {
    if (!IsFindingStream(g.stream)) return false;
    (*findings)[g.stream] = std::move(g.events);
    return true;
  });
  return groups;
}

// Evaluates the streams of `groups` on worker threads ahead of a caller that takes them in
// order (the rules are pure functions: core/rules.h), so that storing one stream's obligations
// overlaps evaluating the next ones. The caller evaluates a group itself when it gets there
// before the workers. `groups` must outlive the evaluator and keep its size.
class AheadEvaluator {
 public:
  AheadEvaluator(const ContractContext& l, Instant now, std::vector<StreamGroup>& groups)
      : l_(l), now_(now), groups_(groups), state_(groups.size()) {
    // One core stays with the caller; at least one worker even where the count is unknown.
    const unsigned cores = std::thread::hardware_concurrency();
    const unsigned workers = std::clamp(cores, 2u, 9u) - 1;
    for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~AheadEvaluator() {
    stop_.store(true);
    for (std::thread& t : workers_) t.join();
  }
  AheadEvaluator(const AheadEvaluator&) = delete;
  AheadEvaluator& operator=(const AheadEvaluator&) = delete;

  // Group `i`, evaluated.
  StreamGroup& Get(size_t i) {
    if (Claim(i)) {
      Evaluate(i);
    } else {
      for (int s = state_[i].load(); s != kDone; s = state_[i].load()) state_[i].wait(s);
    }
    return groups_[i];
  }

 private:
  static constexpr int kPending = 0, kClaimed = 1, kDone = 2;

  bool Claim(size_t i) {
    int expected = kPending;
    return state_[i].compare_exchange_strong(expected, kClaimed);
  }
  void Evaluate(size_t i) {
    StreamGroup& g = groups_[i];
    g.evaluation = EvaluateStream(l_.terms, l_.versions, l_.calendar, g.stream, g.events, now_);
    state_[i].store(kDone);
    state_[i].notify_all();
  }
  void Work() {
    while (!stop_.load()) {
      const size_t i = next_.fetch_add(1);
      if (i >= groups_.size()) return;
      if (Claim(i)) Evaluate(i);
    }
  }

  const ContractContext& l_;
  const Instant now_;
  std::vector<StreamGroup>& groups_;
  std::vector<std::atomic<int>> state_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

// Empties the contract's part of the stored projection before it is written again. Where the
// projection holds no other contract's rows, the tables are emptied whole, which both engines do
// without visiting each row (SQLite's truncate optimisation, PostgreSQL's TRUNCATE, which also
// keeps other sessions out of the two tables until the commit).
Status ClearProjection(store::Connection& conn, std::int64_t contract_id) {
  bool alone = true;
  for (const char* sql : {"SELECT MIN(contract_id), MAX(contract_id) FROM obligations",
                          "SELECT MIN(contract_id), MAX(contract_id) FROM streams"}) {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (row && !st->IsNull(0) && (st->ColumnInt(0) != contract_id || st->ColumnInt(1) != contract_id)) {
      alone = false;
    }
  }
  if (alone) {
    return conn.Execute(conn.engine() == store::Engine::kPostgres
                            ? "TRUNCATE obligations, streams"
                            : "DELETE FROM obligations; DELETE FROM streams");
  }
  for (const char* sql : {"DELETE FROM obligations WHERE contract_id = $1",
                          "DELETE FROM streams WHERE contract_id = $1"}) {
    ISMS_ASSIGN_OR_RETURN(auto del, conn.Prepare(sql));
    del->BindInt(1, contract_id);
    ISMS_RETURN_IF_ERROR(del->Run());
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& url, const Clock& clock) {
  ISMS_ASSIGN_OR_RETURN(std::unique_ptr<store::Connection> conn, store::Connection::Open(url));
  ISMS_RETURN_IF_ERROR(store::Migrate(*conn, Migrations()));
  return std::unique_ptr<Ledger>(new Ledger(std::move(conn), clock));
}

Result<ContractRecord> Ledger::CreateContract(const NewContract& c, const Actor& actor) {
  ISMS_RETURN_IF_ERROR(CheckContractName(c.name));
  if (!c.start.ok()) return Status::InvalidArgument("the Start Date is not a calendar date");
  if (!c.policy_toml.empty()) {
    ISMS_RETURN_IF_ERROR(
        LoadPolicyString(c.policy_toml, c.policy_source.empty() ? "policy" : c.policy_source)
            .status());
  }
  const Instant now = clock_.Now();
  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  if (FindContract(c.name).ok()) {
    return Status::AlreadyExists("a contract named '" + c.name + "' exists already");
  }
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_->Prepare("INSERT INTO contracts (name, start_date, buyer, supplier, "
                                       "bespoke_isms, policy_toml, created_at, created_by, "
                                       "policy_dir) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"));
  st->BindText(1, c.name);
  st->BindText(2, FormatDate(c.start));
  st->BindText(3, c.buyer);
  st->BindText(4, c.supplier);
  st->BindInt(5, c.bespoke_isms ? 1 : 0);
  st->BindText(6, c.policy_toml);
  st->BindInt(7, Ms(now));
  st->BindText(8, actor.name);
  st->BindText(9, c.policy_dir);
  ISMS_RETURN_IF_ERROR(st->Run());
  ISMS_ASSIGN_OR_RETURN(ContractRecord record, FindContract(c.name));
  ISMS_ASSIGN_OR_RETURN(ContractContext loaded, Load(record));
  // The contract stream exists from the start: 3.1 and 4.1 run from the Start Date.
  ISMS_RETURN_IF_ERROR(StoreStream(loaded, "", {}, now));
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return record;
}

Result<std::vector<ContractRecord>> Ledger::ListContracts() {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare(std::string("SELECT ") + kContractColumns +
                                                " FROM contracts ORDER BY name"));
  std::vector<ContractRecord> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    ISMS_ASSIGN_OR_RETURN(ContractRecord c, ReadContract(*st));
    out.push_back(std::move(c));
  }
  return out;
}

Result<ContractRecord> Ledger::FindContract(const std::string& name) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare(std::string("SELECT ") + kContractColumns +
                                                " FROM contracts WHERE name = $1"));
  st->BindText(1, name);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    return Status::NotFound("no contract named '" + name +
                            "': `isms contract list` shows the contracts of this store");
  }
  return ReadContract(*st);
}

Result<Ledger::Current> Ledger::CurrentContract(const std::string& name) {
  // The policy versions depend only on the policy.changed and event.retracted events (Load), and
  // events are only ever added: their count tells whether the cached versions still hold (an
  // index-only count, where their highest number would walk every event of the contract).
  ISMS_ASSIGN_OR_RETURN(
      auto st,
      conn_->Prepare(std::string("SELECT ") + kContractColumns +
                     ", (SELECT COUNT(*) FROM events WHERE contract_id = contracts.id AND type IN "
                     "('policy.changed', 'event.retracted')), (SELECT COALESCE(MAX(id), 0) + 1 "
                     "FROM events WHERE contract_id = contracts.id) FROM contracts WHERE name = "
                     "$1"));
  st->BindText(1, name);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    return Status::NotFound("no contract named '" + name +
                            "': `isms contract list` shows the contracts of this store");
  }
  ISMS_ASSIGN_OR_RETURN(ContractRecord record, ReadContract(*st));
  const std::int64_t policy_events = st->ColumnInt(10);
  const std::int64_t next_event_id = st->ColumnInt(11);
  st->Reset();
  auto it = contracts_.find(name);
  if (it == contracts_.end() || !(it->second.context.record == record) ||
      it->second.policy_events != policy_events) {
    ISMS_ASSIGN_OR_RETURN(ContractContext loaded, Load(record));
    it = contracts_.insert_or_assign(name, CachedContract{std::move(loaded), policy_events})
             .first;
  }
  return Current{&it->second.context, next_event_id};
}

Result<ContractContext> Ledger::Load(const ContractRecord& c) {
  ContractContext l;
  l.record = c;
  l.terms.name = c.name;
  l.terms.start = c.start;
  l.terms.bespoke_isms = c.bespoke_isms;
  if (c.policy_toml.empty()) {
    l.base_policy = Policy::Defaults();
  } else {
    ISMS_ASSIGN_OR_RETURN(l.base_policy,
                          LoadPolicyString(c.policy_toml, "policy of contract " + c.name));
  }
  if (l.base_policy.holidays_file) {
    std::filesystem::path path(*l.base_policy.holidays_file);
    if (path.is_relative() && !c.policy_dir.empty()) path = c.policy_dir / path;
    ISMS_ASSIGN_OR_RETURN(OfficialHolidays official, LoadBankHolidaysJsonFile(path.string()));
    l.calendar = Calendar(official);
  }
  // Policy versions: the contract's own from the Start Date, then each policy.changed event
  // (its `policy` attribute holds the policy file) from the London date it happened.
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_->Prepare(std::string("SELECT ") + kEventColumns +
                                       " FROM events WHERE contract_id = $1 AND type IN "
                                       "('policy.changed', 'event.retracted') ORDER BY at, id"));
  st->BindInt(1, c.id);
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> changes, ReadEvents(*st));
  ISMS_ASSIGN_OR_RETURN(l.versions, PolicyVersionsFrom(l.terms, l.base_policy, changes));
  return l;
}

Result<std::vector<Event>> Ledger::LoadEvents(std::int64_t contract_id, const std::string* stream) {
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE contract_id = $1";
  if (stream) sql += " AND stream = $2";
  sql += " ORDER BY at, id";
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare(sql));
  st->BindInt(1, contract_id);
  if (stream) st->BindText(2, *stream);
  return ReadEvents(*st);
}

Status Ledger::StoreStream(const ContractContext& l, const std::string& stream,
                           const std::vector<Event>& events, Instant now) {
  if (stream.rfind("vuln:", 0) == 0) {
    ISMS_ASSIGN_OR_RETURN(Evaluation ev, EvaluateVulnStream(*conn_, l, stream, events, now));
    return StoreEvaluation(l, stream, ev);
  }
  if (stream.rfind("scan:", 0) == 0) {
    ISMS_ASSIGN_OR_RETURN(Evaluation ev, EvaluateScanStream(*conn_, l, stream, now));
    return StoreEvaluation(l, stream, ev);
  }
  return StoreEvaluation(l, stream,
                         EvaluateStream(l.terms, l.versions, l.calendar, stream, events, now));
}

Status Ledger::StoreEvaluation(const ContractContext& l, const std::string& stream,
                               const Evaluation& ev) {
  // The rows are written over the stored ones of the same ordinals, many to a statement, and
  // only those beyond the new count are deleted: three statements for most streams, where
  // deleting the stream's rows and inserting them again one by one took two more per row.
  const int count = static_cast<int>(ev.obligations.size());
  constexpr int kColumns = 21;
  for (int first = 0; first < count; first += kObligationsPerStatement) {
    const int rows = std::min(kObligationsPerStatement, count - first);
    ISMS_ASSIGN_OR_RETURN(auto ins, conn_->Prepare(UpsertObligations(rows)));
    for (int r = 0; r < rows; ++r) {
      BindObligation(*ins, r * kColumns, l.record.id, stream, first + r,
                     ev.obligations[static_cast<size_t>(first + r)]);
    }
    ISMS_RETURN_IF_ERROR(ins->Run());
  }
  ISMS_ASSIGN_OR_RETURN(auto del, conn_->Prepare("DELETE FROM obligations WHERE contract_id = $1 "
                                                 "AND stream = $2 AND ordinal >= $3"));
  del->BindInt(1, l.record.id);
  del->BindText(2, stream);
  del->BindInt(3, count);
  ISMS_RETURN_IF_ERROR(del->Run());
  ISMS_ASSIGN_OR_RETURN(
      auto up, conn_->Prepare("INSERT INTO streams (contract_id, stream, next_change) VALUES ($1, "
                              "$2, $3) ON CONFLICT (contract_id, stream) DO UPDATE SET "
                              "next_change = excluded.next_change"));
  up->BindInt(1, l.record.id);
  up->BindText(2, stream);
  if (ev.next_change) {
    up->BindInt(3, Ms(*ev.next_change));
  } else {
    up->BindNull(3);
  }
  return up->Run();
}

Result<Event> Ledger::RecordEvent(const NewEvent& ne, const Actor& actor) {
  const Instant now = clock_.Now();
  Event e;
  e.type = ne.type;
  e.subject = ne.subject;
  e.at = ne.at.value_or(now);
  e.recorded_at = now;
  e.actor = actor.name;
  e.by_buyer = actor.buyer;
  e.note = ne.note;
  std::map<std::string, std::string> attrs;
  for (const auto& [k, v] : ne.attrs) {
    if (k == "supersedes") {
      std::int64_t id = 0;
      try {
        size_t used = 0;
        id = std::stoll(v, &used);
        if (used != v.size() || id <= 0) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        return Status::InvalidArgument("supersedes=" + v +
                                       " must name an event by its number, e.g. supersedes=12");
      }
      e.supersedes = id;
      continue;
    }
    if (!attrs.emplace(k, v).second) {
      return Status::InvalidArgument("attribute '" + k + "' is given twice: give it once");
    }
  }
  if (e.type == "policy.changed") {
    // The new policy travels inside the event, so the ledger alone rebuilds every clock.
    auto file = attrs.find("file");
    if (file != attrs.end()) {
      if (attrs.count("policy")) {
        return Status::InvalidArgument("policy.changed takes file=PATH or policy=TEXT, not both");
      }
      ISMS_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file->second));
      attrs["policy"] = std::move(text);
      attrs.erase(file);
    }
    auto policy = attrs.find("policy");
    if (policy == attrs.end()) {
      return Status::InvalidArgument(
          "policy.changed needs file=PATH: the policy file (TOML) in force from --at");
    }
    ISMS_RETURN_IF_ERROR(LoadPolicyString(policy->second, "policy.changed").status());
  }
  e.attrs.assign(attrs.begin(), attrs.end());
  if (e.at > now + kClockSkew) {
    return Status::InvalidArgument("the event happens at " + FormatInstant(e.at) +
                                   ", in the future: record it once it has happened");
  }

  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  ISMS_ASSIGN_OR_RETURN(Current current, CurrentContract(ne.contract));
  const ContractContext& l = *current.context;
  const ContractRecord& c = l.record;

  // A correction (supersedes=) or a retraction stays in its target's stream.
  bool touches_policy = e.type == "policy.changed";
  if (e.type == "event.retracted" && !e.supersedes) {
    return Status::InvalidArgument(
        "event.retracted needs supersedes=ID: the number of the event withdrawn");
  }
  if (e.supersedes) {
    ISMS_ASSIGN_OR_RETURN(auto st,
                          conn_->Prepare(std::string("SELECT ") + kEventColumns +
                                         " FROM events WHERE contract_id = $1 AND id = $2"));
    st->BindInt(1, c.id);
    st->BindInt(2, *e.supersedes);
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) {
      return Status::NotFound("supersedes=" + std::to_string(*e.supersedes) + ": contract " +
                              c.name + " has no event " + std::to_string(*e.supersedes) +
                              " (`isms event list` shows them)");
    }
    ISMS_ASSIGN_OR_RETURN(Event target, ReadEvent(*st));
    touches_policy = touches_policy || target.type == "policy.changed";
    if (e.type == "event.retracted") {
      Event r = RetractionOf(target);
      r.recorded_at = e.recorded_at;
      r.actor = e.actor;
      r.by_buyer = e.by_buyer;
      r.note = e.note;
      if (auto ev = e.Attr("evidence")) r.SetAttr("evidence", std::string(*ev));
      e = std::move(r);
    }
  }
  const std::string stream = StreamOf(e);
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> history, LoadEvents(c.id, &stream));

  std::set<std::int64_t> superseded = SupersededIds(history);
  std::vector<Event> prior;
  for (const Event& h : history) {
    if (!superseded.count(h.id)) prior.push_back(h);
  }
  ISMS_RETURN_IF_ERROR(ValidateEvent(l.terms, e, prior));

  e.id = current.next_event_id;

  ISMS_ASSIGN_OR_RETURN(
      auto ins, conn_->Prepare("INSERT INTO events (contract_id, id, type, subject, stream, at, "
                               "recorded_at, actor, by_buyer, note, attrs, supersedes) VALUES ($1, "
                               "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"));
  ins->BindInt(1, c.id);
  ins->BindInt(2, e.id);
  ins->BindText(3, e.type);
  ins->BindText(4, e.subject);
  ins->BindText(5, stream);
  ins->BindInt(6, Ms(e.at));
  ins->BindInt(7, Ms(e.recorded_at));
  ins->BindText(8, e.actor);
  ins->BindInt(9, e.by_buyer ? 1 : 0);
  ins->BindText(10, e.note);
  ins->BindText(11, EncodeAttrs(e.attrs));
  ins->BindOptionalInt(12, e.supersedes);
  ISMS_RETURN_IF_ERROR(ins->Run());

  if (touches_policy) {
    // A policy change may apply to clocks of every stream started after it: rebuild them all.
    std::int64_t seen = 0;
    ISMS_RETURN_IF_ERROR(RecomputeContract(c, now, &seen).status());
  } else {
    history.push_back(e);
    std::sort(history.begin(), history.end(), HappenedBefore);
    ISMS_RETURN_IF_ERROR(StoreStream(l, stream, history, now));
  }
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return e;
}

Result<std::vector<EventView>> Ledger::ListEvents(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(Current current, CurrentContract(contract));
  const ContractContext& l = *current.context;
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, LoadEvents(l.record.id, nullptr));
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return a.id < b.id; });
  std::vector<EventView> out;
  out.reserve(events.size());
  for (Event& e : events) {
    const Policy& p = PolicyInForce(l.versions, LondonDate(e.at));
    bool backdated = IsBackdated(e, l.calendar, p);
    out.push_back({std::move(e), backdated});
  }
  return out;
}

Status Ledger::RefreshDueStreams(const ContractContext& l, Instant now) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare("SELECT stream FROM streams WHERE contract_id = "
                                                "$1 AND next_change IS NOT NULL AND "
                                                "next_change <= $2"));
  st->BindInt(1, l.record.id);
  st->BindInt(2, Ms(now));
  std::vector<std::string> due;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    due.push_back(st->ColumnText(0));
  }
  if (due.empty()) return Status::Ok();
  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  for (const std::string& stream : due) {
    ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, LoadEvents(l.record.id, &stream));
    ISMS_RETURN_IF_ERROR(StoreStream(l, stream, events, now));
  }
  return tx.Commit();
}

Result<std::vector<Obligation>> Ledger::StatusOf(const std::string& contract,
                                                 const StatusQuery& q) {
  ISMS_ASSIGN_OR_RETURN(Current current, CurrentContract(contract));
  ContractContext l = *current.context;
  const ContractRecord& c = l.record;
  std::vector<Obligation> out;
  if (q.at) {
    ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, LoadEvents(c.id, nullptr));
    // Events that happened after `at` are left to the rules, which drop them after resolving
    // today's corrections; "as known" also forgets what was recorded after `at`.
    std::vector<Event> known;
    for (Event& e : events) {
      if (q.as_known && e.recorded_at > *q.at) continue;
      known.push_back(std::move(e));
    }
    ISMS_ASSIGN_OR_RETURN(l.versions, PolicyVersionsFrom(l.terms, l.base_policy, known));
    Evaluation ev = EvaluateContract(l.terms, l.versions, l.calendar, known, *q.at);
    out = std::move(ev.obligations);
    // The findings' clocks need their facts as well as their events.
    if (q.findings) {
      std::map<std::string, std::vector<Event>> streams;
      for (const Event& e : known) streams[StreamOf(e)].push_back(e);
      ISMS_ASSIGN_OR_RETURN(auto findings, EvaluateAllFindings(*conn_, l, streams, *q.at));
      for (auto& [stream, fev] : findings) {
        out.insert(out.end(), fev.obligations.begin(), fev.obligations.end());
      }
    }
  } else {
    const Instant now = clock_.Now();
    ISMS_RETURN_IF_ERROR(RefreshDueStreams(l, now));
    std::string sql =
        std::string("SELECT ") + kObligationColumns + " FROM obligations WHERE contract_id = $1";
    if (q.state) sql += " AND state = $2";
    const bool page = q.limit > 0 || q.offset > 0;
    // A page is cut by the store, in the same order as below.
    const int next = q.state ? 3 : 2;  // the first placeholder after the state's
    if (page) {
      sql += " ORDER BY " + UrgencyOrder(conn_->engine()) + " LIMIT $" + std::to_string(next) +
             " OFFSET $" + std::to_string(next + 1);
    }
    ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare(sql));
    st->BindInt(1, c.id);
    if (q.state) st->BindText(2, ObligationStateName(*q.state));
    if (page) {
      st->BindInt(next, q.limit > 0 ? q.limit : std::numeric_limits<std::int64_t>::max());
      st->BindInt(next + 1, std::max<std::int64_t>(q.offset, 0));
    }
    ISMS_ASSIGN_OR_RETURN(out, ReadObligations(*st));
    std::stable_sort(out.begin(), out.end(), MoreUrgent);
    return out;
  }
  if (q.state) {
    std::erase_if(out, [&](const Obligation& o) { return o.state != *q.state; });
  }
  std::stable_sort(out.begin(), out.end(), MoreUrgent);
  if (q.offset > 0) {
    out.erase(out.begin(), out.begin() + std::min<std::int64_t>(
                                             q.offset, static_cast<std::int64_t>(out.size())));
  }
  if (q.limit > 0 && static_cast<std::int64_t>(out.size()) > q.limit) {
    out.resize(static_cast<size_t>(q.limit));
  }
  return out;
}

Result<StatusOverview> Ledger::Overview(const std::string& contract, const OverviewQuery& q) {
  StatusOverview v;
  v.as_of = q.at.value_or(clock_.Now());
  v.due_by = v.as_of + q.horizon;
  const auto limit = static_cast<size_t>(std::max<std::int64_t>(q.limit, 0));
  if (q.at) {
    StatusQuery sq;
    sq.at = q.at;
    sq.as_known = q.as_known;
    ISMS_ASSIGN_OR_RETURN(std::vector<Obligation> all, StatusOf(contract, sq));
    for (Obligation& o : all) {  // most urgent first
      switch (o.state) {
        case ObligationState::kBreached:
          ++v.breached;
          if (v.most_urgent_breached.size() < limit) v.most_urgent_breached.push_back(std::move(o));
          break;
        case ObligationState::kOpen:
          ++v.open;
          if (o.due_at && *o.due_at <= v.due_by) {
            ++v.due_soon;
            if (v.next_due.size() < limit) v.next_due.push_back(std::move(o));
          }
          break;
        case ObligationState::kSuspended: ++v.suspended; break;
        case ObligationState::kMetLate: ++v.met_late; break;
        case ObligationState::kMet:
        case ObligationState::kSuperseded: break;
      }
    }
    return v;
  }
  ISMS_ASSIGN_OR_RETURN(Current current, CurrentContract(contract));
  const ContractContext& l = *current.context;
  ISMS_RETURN_IF_ERROR(RefreshDueStreams(l, v.as_of));
  // Each from the index by state: a range as long as its answer, never the whole projection.
  ISMS_ASSIGN_OR_RETURN(auto counts,
                        conn_->Prepare("SELECT state, COUNT(*) FROM obligations WHERE contract_id "
                                       "= $1 AND state IN ('breached', 'open', 'suspended', 'met "
                                       "late') GROUP BY state"));
  counts->BindInt(1, l.record.id);
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, counts->Step());
    if (!row) break;
    ISMS_ASSIGN_OR_RETURN(ObligationState state, ParseObligationState(counts->ColumnText(0)));
    const std::int64_t n = counts->ColumnInt(1);
    if (state == ObligationState::kBreached) v.breached = n;
    if (state == ObligationState::kOpen) v.open = n;
    if (state == ObligationState::kSuspended) v.suspended = n;
    if (state == ObligationState::kMetLate) v.met_late = n;
  }
  ISMS_ASSIGN_OR_RETURN(auto soon, conn_->Prepare("SELECT COUNT(*) FROM obligations WHERE "
                                                  "contract_id = $1 AND state = 'open' AND "
                                                  "due_at <= $2"));
  soon->BindInt(1, l.record.id);
  soon->BindInt(2, Ms(v.due_by));
  ISMS_ASSIGN_OR_RETURN(bool row, soon->Step());
  if (row) v.due_soon = soon->ColumnInt(0);
  const std::string order = UrgencyOrder(conn_->engine());
  ISMS_ASSIGN_OR_RETURN(auto breached,
                        conn_->Prepare(std::string("SELECT ") + kObligationColumns +
                                       " FROM obligations WHERE contract_id = $1 AND state = "
                                       "'breached' ORDER BY " +
                                       order + " LIMIT $2"));
  breached->BindInt(1, l.record.id);
  breached->BindInt(2, static_cast<std::int64_t>(limit));
  ISMS_ASSIGN_OR_RETURN(v.most_urgent_breached, ReadObligations(*breached));
  ISMS_ASSIGN_OR_RETURN(auto due, conn_->Prepare(std::string("SELECT ") + kObligationColumns +
                                                 " FROM obligations WHERE contract_id = $1 AND "
                                                 "state = 'open' AND due_at <= $2 ORDER BY " +
                                                 order + " LIMIT $3"));
  due->BindInt(1, l.record.id);
  due->BindInt(2, Ms(v.due_by));
  due->BindInt(3, static_cast<std::int64_t>(limit));
  ISMS_ASSIGN_OR_RETURN(v.next_due, ReadObligations(*due));
  return v;
}

Result<std::vector<StatusCount>> Ledger::Summary(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(Current current, CurrentContract(contract));
  const ContractContext& l = *current.context;
  const ContractRecord& c = l.record;
  ISMS_RETURN_IF_ERROR(RefreshDueStreams(l, clock_.Now()));
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare("SELECT clause, key, MIN(title), state, COUNT(*) "
                                                "FROM obligations WHERE contract_id = $1 "
                                                "GROUP BY clause, key, state"));
  st->BindInt(1, c.id);
  std::vector<StatusCount> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    StatusCount n;
    n.clause = st->ColumnText(0);
    n.key = st->ColumnText(1);
    // The kind's title from the policy: an obligation's own title names its subject.
    const Timescale* t = l.base_policy.Find(n.key);
    n.title = t != nullptr ? t->title : st->ColumnText(2);
    ISMS_ASSIGN_OR_RETURN(n.state, ParseObligationState(st->ColumnText(3)));
    n.count = st->ColumnInt(4);
    out.push_back(std::move(n));
  }
  // Clause order as people read it: numbers numerically ("9.5.5" before "10.1"), Annex last.
  auto clause_key = [](const std::string& clause) {
    std::vector<int> parts;
    std::string rest = clause;
    int annex = 0;
    if (rest.rfind("A1 ", 0) == 0) {
      annex = 1;
      rest = rest.substr(3);
    }
    parts.push_back(annex);
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t end = rest.find('.', pos);
      if (end == std::string::npos) end = rest.size();
      parts.push_back(std::atoi(rest.substr(pos, end - pos).c_str()));
      pos = end + 1;
    }
    return parts;
  };
  std::stable_sort(out.begin(), out.end(), [&](const StatusCount& a, const StatusCount& b) {
    auto ka = clause_key(a.clause), kb = clause_key(b.clause);
    if (ka != kb) return ka < kb;
    if (a.key != b.key) return a.key < b.key;
    return static_cast<int>(a.state) < static_cast<int>(b.state);
  });
  return out;
}

Result<std::int64_t> Ledger::RecomputeContract(const ContractRecord& c, Instant now,
                                               std::int64_t* events_seen) {
  ISMS_ASSIGN_OR_RETURN(ContractContext l, Load(c));
  std::map<std::string, std::vector<Event>> finding_events;
  ISMS_ASSIGN_OR_RETURN(std::vector<StreamGroup> groups,
                        ReadStreams(*conn_, c.id, &finding_events, events_seen));
  // The streams are evaluated from here on, while this thread reads the findings and writes.
  AheadEvaluator ahead(l, now, groups);
  // Every finding has a stream, with or without events of its own: evaluated before anything is
  // deleted, since reading while the bulk writer runs is not allowed.
  ISMS_ASSIGN_OR_RETURN(auto findings, EvaluateAllFindings(*conn_, l, finding_events, now));
  finding_events.clear();
  ISMS_ASSIGN_OR_RETURN(auto scans, EvaluateAllScanStreams(*conn_, l, now));
  findings.insert(findings.end(), scans.begin(), scans.end());
  // Rebuilding a secondary index once costs less than keeping it up to date through every
  // deleted and inserted row (a contract can hold a million obligations): dropped here and
  // made again below, inside the same transaction.
  ISMS_RETURN_IF_ERROR(conn_->Execute("DROP INDEX IF EXISTS obligations_by_state"));
  ISMS_RETURN_IF_ERROR(conn_->Execute("DROP INDEX IF EXISTS streams_by_next_change"));
  ISMS_RETURN_IF_ERROR(ClearProjection(*conn_, c.id));
  // One bulk writer at a time per connection: obligations first, then the streams.
  std::vector<std::pair<std::string, std::optional<Instant>>> next_changes;
  next_changes.reserve(groups.size() + findings.size());
  std::int64_t count = 0;
  {
    ISMS_ASSIGN_OR_RETURN(auto writer, conn_->BulkInsert("obligations", kObligationColumnList));
    auto add = [&](std::string stream, const Evaluation& ev) -> Status {
      int ordinal = 0;
      for (const Obligation& o : ev.obligations) {
        AddObligationRow(*writer, c.id, stream, ordinal++, o);
        ISMS_RETURN_IF_ERROR(writer->EndRow());
        ++count;
      }
      next_changes.emplace_back(std::move(stream), ev.next_change);
      return Status::Ok();
    };
    for (size_t i = 0; i < groups.size(); ++i) {
      StreamGroup& g = ahead.Get(i);
      ISMS_RETURN_IF_ERROR(add(std::move(g.stream), g.evaluation));
      g = StreamGroup{};  // done with it: its memory goes back now
    }
    for (auto& [stream, ev] : findings) ISMS_RETURN_IF_ERROR(add(std::move(stream), ev));
    ISMS_RETURN_IF_ERROR(writer->Finish());
  }
  ISMS_ASSIGN_OR_RETURN(auto writer,
                        conn_->BulkInsert("streams", {"contract_id", "stream", "next_change"}));
  for (const auto& [stream, next] : next_changes) {
    writer->AddInt(c.id);
    writer->AddText(stream);
    next ? writer->AddInt(Ms(*next)) : writer->AddNull();
    ISMS_RETURN_IF_ERROR(writer->EndRow());
  }
  ISMS_RETURN_IF_ERROR(writer->Finish());
  ISMS_RETURN_IF_ERROR(conn_->Execute(
      "CREATE INDEX obligations_by_state ON obligations (contract_id, state, due_at)"));
  ISMS_RETURN_IF_ERROR(
      conn_->Execute("CREATE INDEX streams_by_next_change ON streams (contract_id, next_change)"));
  return count;
}

Result<RecomputeResult> Ledger::Recompute(const std::string& contract) {
  std::vector<ContractRecord> contracts;
  if (contract.empty()) {
    ISMS_ASSIGN_OR_RETURN(contracts, ListContracts());
  } else {
    ISMS_ASSIGN_OR_RETURN(ContractRecord c, FindContract(contract));
    contracts.push_back(std::move(c));
  }
  const Instant now = clock_.Now();
  RecomputeResult r;
  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  for (const ContractRecord& c : contracts) {
    ISMS_ASSIGN_OR_RETURN(std::int64_t n, RecomputeContract(c, now, &r.events));
    r.obligations += n;
    ++r.contracts;
  }
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return r;
}

Result<std::string> Ledger::ContractName(std::int64_t contract_id) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare("SELECT name FROM contracts WHERE id = $1"));
  st->BindInt(1, contract_id);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Status::NotFound("no contract with id " + std::to_string(contract_id));
  return st->ColumnText(0);
}

Status Ledger::StoreNewEvaluations(const ContractContext& l,
                                   const std::vector<std::pair<std::string, Evaluation>>& streams) {
  {
    ISMS_ASSIGN_OR_RETURN(auto writer, conn_->BulkInsert("obligations", kObligationColumnList));
    for (const auto& [stream, ev] : streams) {
      int ordinal = 0;
      for (const Obligation& o : ev.obligations) {
        AddObligationRow(*writer, l.record.id, stream, ordinal++, o);
        ISMS_RETURN_IF_ERROR(writer->EndRow());
      }
    }
    ISMS_RETURN_IF_ERROR(writer->Finish());
  }
  ISMS_ASSIGN_OR_RETURN(auto writer,
                        conn_->BulkInsert("streams", {"contract_id", "stream", "next_change"}));
  for (const auto& [stream, ev] : streams) {
    writer->AddInt(l.record.id);
    writer->AddText(stream);
    ev.next_change ? writer->AddInt(Ms(*ev.next_change)) : writer->AddNull();
    ISMS_RETURN_IF_ERROR(writer->EndRow());
  }
  return writer->Finish();
}

Result<std::vector<Event>> Ledger::EventsAfter(std::int64_t contract_id, std::int64_t after) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare(std::string("SELECT ") + kEventColumns +
                                                " FROM events WHERE contract_id = $1 AND id > $2 "
                                                "ORDER BY id"));
  st->BindInt(1, contract_id);
  st->BindInt(2, after);
  return ReadEvents(*st);
}

Result<ContractContext> Ledger::Context(const std::string& name) {
  ISMS_ASSIGN_OR_RETURN(Current current, CurrentContract(name));
  return *current.context;
}

Status Ledger::RefreshStream(const ContractContext& l, const std::string& stream, Instant now) {
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, LoadEvents(l.record.id, &stream));
  return StoreStream(l, stream, events, now);
}

Result<std::vector<std::string>> Ledger::RootCauses(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, FindContract(contract));
  ISMS_ASSIGN_OR_RETURN(std::vector<Event> events, LoadEvents(c.id, nullptr));
  return RootCausesInUse(events);
}

}  // namespace isms::app
