#include "app/ledger.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "app/ledger_internal.h"
#include "app/schema.h"
#include "app/text.h"
#include "app/vulns.h"
#include "formats/bank_holidays_json.h"
#include "formats/policy_toml.h"

namespace isms::app {
namespace {

using ledger_internal::AddObligationRow;
using ledger_internal::BindObligation;
using ledger_internal::EncodeAttrs;
using ledger_internal::FromMs;
using ledger_internal::kEventColumns;
using ledger_internal::kEventParameters;
using ledger_internal::kInsertEvent;
using ledger_internal::kObligationColumns;
using ledger_internal::kObligationParameters;
using ledger_internal::kObligationsPerStatement;
using ledger_internal::Ms;
using ledger_internal::ObligationColumnList;
using ledger_internal::ReadEvent;
using ledger_internal::ReadEvents;
using ledger_internal::ReadObligations;
using ledger_internal::RecordEventWithObligations;
using ledger_internal::UpsertObligations;
using ledger_internal::UrgencyOpenDueBy;
using ledger_internal::UrgencyOrder;
using ledger_internal::UrgencyRankOf;

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

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path + ": check the path and its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kContractColumns =
    "id, name, start_date, buyer, supplier, bespoke_isms, policy_toml, created_at, created_by, "
    "policy_dir";

// Beside a contract's columns: how many policy.changed and event.retracted events it has
// (policy_events) and the number its next event takes (next_event_id). Each count is an equality
// on both columns of events_by_type, which PostgreSQL takes as the index's condition whatever its
// statistics say (with IN, planned while the table looked empty, it read every event of the
// contract and filtered).
constexpr const char* kContractEventState =
    "(SELECT COUNT(*) FROM events WHERE contract_id = contracts.id AND type = 'policy.changed') + "
    "(SELECT COUNT(*) FROM events WHERE contract_id = contracts.id AND type = 'event.retracted') "
    "AS policy_events, (SELECT COALESCE(MAX(id), 0) + 1 FROM events WHERE contract_id = "
    "contracts.id) AS next_event_id";

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
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_->Prepare(std::string("SELECT ") + kContractColumns + ", " +
                                       kContractEventState + " FROM contracts WHERE name = $1"));
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
  ISMS_ASSIGN_OR_RETURN(const ContractContext* context, CachedContext(record, policy_events));
  return Current{context, next_event_id};
}

Result<const ContractContext*> Ledger::CachedContext(const ContractRecord& record,
                                                     std::int64_t policy_events) {
  auto it = contracts_.find(record.name);
  if (it == contracts_.end() || !(it->second.context.record == record) ||
      it->second.policy_events != policy_events) {
    ISMS_ASSIGN_OR_RETURN(ContractContext loaded, Load(record));
    it = contracts_.insert_or_assign(record.name, CachedContract{std::move(loaded), policy_events})
             .first;
  }
  return &it->second.context;
}

Result<Ledger::Current> Ledger::CurrentContractAndStream(const std::string& name,
                                                         const std::string& stream,
                                                         std::vector<Event>* events) {
  // The contract's row, its policy event count and next number (as CurrentContract) on each row
  // of the stream's events, or on one row of NULL events for a stream without any. Recording an
  // event on PostgreSQL is round trips more than work: this read and the write, no more.
  static const std::string kSql = [] {
    auto prefixed = [](std::string_view columns, const char* alias) {
      std::string out;
      for (size_t at = 0; at < columns.size();) {
        size_t end = columns.find(", ", at);
        if (end == std::string_view::npos) end = columns.size();
        if (!out.empty()) out += ", ";
        out += alias;
        out += '.';
        out.append(columns.substr(at, end - at));
        at = end + 2;
      }
      return out;
    };
    // The contract's part once (LIMIT keeps the engines from folding it into the join and
    // evaluating it on every row).
    return "SELECT " + prefixed(kContractColumns, "c") + ", c.policy_events, c.next_event_id, " +
           prefixed(kEventColumns, "e") + " FROM (SELECT " + kContractColumns + ", " +
           kContractEventState +
           " FROM contracts WHERE name = $1 LIMIT 1) c LEFT JOIN events e ON e.contract_id = c.id "
           "AND e.stream = $2 ORDER BY e.at, e.id";
  }();
  constexpr int kFirstEventColumn = 12;
  ISMS_ASSIGN_OR_RETURN(auto st, conn_->Prepare(kSql));
  st->BindText(1, name);
  st->BindText(2, stream);
  events->clear();
  std::optional<ContractRecord> record;
  std::int64_t policy_events = 0;
  std::int64_t next_event_id = 0;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    if (!record) {
      ISMS_ASSIGN_OR_RETURN(record, ReadContract(*st));
      policy_events = st->ColumnInt(10);
      next_event_id = st->ColumnInt(11);
    }
    if (st->IsNull(kFirstEventColumn)) continue;
    ISMS_ASSIGN_OR_RETURN(Event e, ReadEvent(*st, kFirstEventColumn));
    events->push_back(std::move(e));
  }
  if (!record) {
    return Status::NotFound("no contract named '" + name +
                            "': `isms contract list` shows the contracts of this store");
  }
  ISMS_ASSIGN_OR_RETURN(const ContractContext* context, CachedContext(*record, policy_events));
  return Current{context, next_event_id};
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

Result<Evaluation> Ledger::EvaluateStreamOf(const ContractContext& l, const std::string& stream,
                                            const std::vector<Event>& events, Instant now) {
  if (stream.rfind("vuln:", 0) == 0) return EvaluateVulnStream(*conn_, l, stream, events, now);
  if (stream.rfind("scan:", 0) == 0) return EvaluateScanStream(*conn_, l, stream, now);
  return EvaluateStream(l.terms, l.versions, l.calendar, stream, events, now);
}

Status Ledger::StoreStream(const ContractContext& l, const std::string& stream,
                           const std::vector<Event>& events, Instant now) {
  ISMS_ASSIGN_OR_RETURN(Evaluation ev, EvaluateStreamOf(l, stream, events, now));
  return StoreEvaluation(l, stream, ev);
}

Status Ledger::StoreEvaluation(const ContractContext& l, const std::string& stream,
                               const Evaluation& ev) {
  // The rows are written over the stored ones of the same ordinals (those that differ: the
  // others are left as they are), many to a statement, and only those beyond the new count are
  // deleted: three statements for most streams, where deleting the stream's rows and inserting
  // them again one by one took two more per row and rewrote every page they were on.
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
  // A stream has a row in `streams` only while its result will change (see AddStreamRow).
  if (!ev.next_change) {
    ISMS_ASSIGN_OR_RETURN(auto gone, conn_->Prepare("DELETE FROM streams WHERE contract_id = $1 "
                                                    "AND stream = $2"));
    gone->BindInt(1, l.record.id);
    gone->BindText(2, stream);
    return gone->Run();
  }
  ISMS_ASSIGN_OR_RETURN(
      auto up, conn_->Prepare("INSERT INTO streams (contract_id, stream, next_change) VALUES ($1, "
                              "$2, $3) ON CONFLICT (contract_id, stream) DO UPDATE SET "
                              "next_change = excluded.next_change WHERE streams.next_change IS "
                              "DISTINCT FROM excluded.next_change"));
  up->BindInt(1, l.record.id);
  up->BindText(2, stream);
  up->BindInt(3, Ms(*ev.next_change));
  return up->Run();
}

Status Ledger::InsertEvent(std::int64_t contract_id, const std::string& stream, const Event& e,
                           const Evaluation* ev) {
  // On PostgreSQL each statement is a round trip to the server: the event and its stream's
  // obligations (up to kObligationsPerStatement of them) go in one statement of several parts.
  const bool together = ev != nullptr && conn_->engine() == store::Engine::kPostgres;
  const int rows =
      together ? std::min(static_cast<int>(ev->obligations.size()), kObligationsPerStatement) : 0;
  ISMS_ASSIGN_OR_RETURN(auto ins,
                        conn_->Prepare(together ? RecordEventWithObligations(rows) : kInsertEvent));
  ins->BindInt(1, contract_id);
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
  if (!together) return ins->Run();
  const int count = static_cast<int>(ev->obligations.size());
  for (int r = 0; r < rows; ++r) {
    BindObligation(*ins, kEventParameters + r * kObligationParameters, contract_id, stream, r,
                   ev->obligations[static_cast<size_t>(r)]);
  }
  const int tail = kEventParameters + rows * kObligationParameters;
  ins->BindInt(tail + 1, count);
  ev->next_change ? ins->BindInt(tail + 2, Ms(*ev->next_change)) : ins->BindNull(tail + 2);
  ISMS_RETURN_IF_ERROR(ins->Run());
  // The rest of a long stream, many to a statement.
  for (int first = rows; first < count; first += kObligationsPerStatement) {
    const int n = std::min(kObligationsPerStatement, count - first);
    ISMS_ASSIGN_OR_RETURN(auto more, conn_->Prepare(UpsertObligations(n)));
    for (int r = 0; r < n; ++r) {
      BindObligation(*more, r * kObligationParameters, contract_id, stream, first + r,
                     ev->obligations[static_cast<size_t>(first + r)]);
    }
    ISMS_RETURN_IF_ERROR(more->Run());
  }
  return Status::Ok();
}

Result<Event> Ledger::RecordEvent(const NewEvent& ne, const Actor& actor) {
  // Two connections recording at once read the same next event number: the second insert of
  // that number fails on the events' key, and with it everything that statement or transaction
  // wrote (so no stream's obligations are ever stored from a history that missed an event). The
  // loser reads again and records after the winner, after a pause that grows with each loss and
  // is drawn at random (so that a writer in a tight loop cannot take every number first).
  thread_local std::mt19937 rng(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    Result<Event> r = RecordEventOnce(ne, actor);
    if (r.ok() || r.status().code() != StatusCode::kAlreadyExists || attempt == 20) return r;
    const int cap_ms = std::min(1 << std::min(attempt, 7), 100);
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap_ms * 1000)(rng)));
  }
}

Result<Event> Ledger::RecordEventOnce(const NewEvent& ne, const Actor& actor) {
  last_recorded_.reset();
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

  // On PostgreSQL an event that corrects none and changes no policy is read in one query and, when
  // its stream has few obligations, written in one statement (the event, the stream's
  // obligations and its next change together): each is its own transaction, as a transaction at
  // PostgreSQL's level (READ COMMITTED) would give each statement its own snapshot anyway, and
  // BEGIN and COMMIT would double the round trips. Anything else runs in one transaction.
  const bool postgres = conn_->engine() == store::Engine::kPostgres;
  bool touches_policy = e.type == "policy.changed";
  store::Transaction tx(*conn_);
  bool began = !postgres || touches_policy || e.supersedes;
  if (began) ISMS_RETURN_IF_ERROR(tx.Begin());
  std::vector<Event> history;
  std::string stream;
  Current current;
  if (e.supersedes) {
    ISMS_ASSIGN_OR_RETURN(current, CurrentContract(ne.contract));
  } else {
    stream = StreamOf(e);
    ISMS_ASSIGN_OR_RETURN(current, CurrentContractAndStream(ne.contract, stream, &history));
  }
  const ContractContext& l = *current.context;
  const ContractRecord& c = l.record;

  // A correction (supersedes=) or a retraction stays in its target's stream.
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
  if (e.supersedes) {
    stream = StreamOf(e);
    ISMS_ASSIGN_OR_RETURN(history, LoadEvents(c.id, &stream));
  }

  std::set<std::int64_t> superseded = SupersededIds(history);
  std::vector<Event> prior;
  for (const Event& h : history) {
    if (!superseded.count(h.id)) prior.push_back(h);
  }
  ISMS_RETURN_IF_ERROR(ValidateEvent(l.terms, e, prior));

  e.id = current.next_event_id;

  if (touches_policy) {
    ISMS_RETURN_IF_ERROR(InsertEvent(c.id, stream, e, nullptr));
    // A policy change may apply to clocks of every stream started after it: rebuild them all.
    std::int64_t seen = 0;
    ISMS_RETURN_IF_ERROR(RecomputeContract(c, now, &seen).status());
  } else {
    history.push_back(e);
    std::sort(history.begin(), history.end(), HappenedBefore);
    ISMS_ASSIGN_OR_RETURN(Evaluation ev, EvaluateStreamOf(l, stream, history, now));
    // A long stream's obligations take more than the one statement: a transaction holds them.
    if (!began && ev.obligations.size() > static_cast<size_t>(kObligationsPerStatement)) {
      ISMS_RETURN_IF_ERROR(tx.Begin());
      began = true;
    }
    ISMS_RETURN_IF_ERROR(InsertEvent(c.id, stream, e, &ev));
    if (!postgres) ISMS_RETURN_IF_ERROR(StoreEvaluation(l, stream, ev));
  }
  if (began) ISMS_RETURN_IF_ERROR(tx.Commit());
  // The contract's policy versions and calendar are as they were before this event (it changed
  // no policy): what a read of the contract would find now.
  if (!touches_policy) {
    last_recorded_ = LastRecorded{
        ne.contract, e.id, IsBackdated(e, l.calendar, PolicyInForce(l.versions, LondonDate(e.at)))};
  }
  return e;
}

std::optional<bool> Ledger::RecordedBackdated(const std::string& contract,
                                              std::int64_t event_id) const {
  if (!last_recorded_ || last_recorded_->contract != contract ||
      last_recorded_->event_id != event_id) {
    return std::nullopt;
  }
  return last_recorded_->backdated;
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
    if (q.state) sql += " AND state = $2 AND " + UrgencyRankOf(*q.state);
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
  // Each from the index by urgency, whose first term follows the state: a count of a range of
  // its entries, as long as the answer and without a visit to the rows.
  for (auto [state, n] : {std::pair{ObligationState::kBreached, &v.breached},
                          std::pair{ObligationState::kOpen, &v.open},
                          std::pair{ObligationState::kSuspended, &v.suspended},
                          std::pair{ObligationState::kMetLate, &v.met_late}}) {
    ISMS_ASSIGN_OR_RETURN(auto count,
                          conn_->Prepare("SELECT COUNT(*) FROM obligations WHERE contract_id = $1 "
                                         "AND " +
                                         UrgencyRankOf(state)));
    count->BindInt(1, l.record.id);
    ISMS_ASSIGN_OR_RETURN(bool row, count->Step());
    *n = row ? count->ColumnInt(0) : 0;
  }
  ISMS_ASSIGN_OR_RETURN(auto soon, conn_->Prepare("SELECT COUNT(*) FROM obligations WHERE "
                                                  "contract_id = $1 AND state = 'open' AND "
                                                  "due_at <= $2 AND " +
                                                  UrgencyOpenDueBy("$2")));
  soon->BindInt(1, l.record.id);
  soon->BindInt(2, Ms(v.due_by));
  ISMS_ASSIGN_OR_RETURN(bool row, soon->Step());
  if (row) v.due_soon = soon->ColumnInt(0);
  const std::string order = UrgencyOrder(conn_->engine());
  ISMS_ASSIGN_OR_RETURN(auto breached,
                        conn_->Prepare(std::string("SELECT ") + kObligationColumns +
                                       " FROM obligations WHERE contract_id = $1 AND state = "
                                       "'breached' AND " +
                                       UrgencyRankOf(ObligationState::kBreached) + " ORDER BY " +
                                       order + " LIMIT $2"));
  breached->BindInt(1, l.record.id);
  breached->BindInt(2, static_cast<std::int64_t>(limit));
  ISMS_ASSIGN_OR_RETURN(v.most_urgent_breached, ReadObligations(*breached));
  ISMS_ASSIGN_OR_RETURN(
      auto due, conn_->Prepare(std::string("SELECT ") + kObligationColumns +
                               " FROM obligations WHERE contract_id = $1 AND "
                               "state = 'open' AND due_at <= $2 AND " +
                               UrgencyOpenDueBy("$2") + " ORDER BY " + order + " LIMIT $3"));
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
    ISMS_ASSIGN_OR_RETURN(auto writer, conn_->BulkInsert("obligations", ObligationColumnList()));
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
    ISMS_RETURN_IF_ERROR(
        ledger_internal::AddStreamRow(*writer, l.record.id, stream, ev.next_change));
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
