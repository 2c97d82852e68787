#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "app/audit.h"
#include "app/json_views.h"
#include "app/ledger.h"
#include "cli/commands.h"
#include "cli/store_access.h"
#include "cli/table.h"
#include "formats/policy_toml.h"

namespace isms::cli {
namespace {

std::string DueText(const Obligation& o) {
  if (o.due_date) return FormatDate(*o.due_date);
  if (o.due_at) return FormatInstant(*o.due_at);
  return "-";
}

std::string TimescaleText(const Obligation& o) {
  std::string s = o.timescale ? FormatPeriod(*o.timescale) : "no clock";
  return s + " (" + std::string(TimescaleSourceKey(o.timescale_source)) + ")";
}

void ShowSummary(Context& ctx, app::Ledger& ledger, const StatusOptions& o) {
  Result<std::vector<app::StatusCount>> counts = ledger.Summary(o.contract);
  if (!counts.ok()) return ctx.Fail(counts.status());
  if (o.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const app::StatusCount& n : *counts) {
      arr.push_back(app::StatusCountJson(n));
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"CLAUSE", "OBLIGATION", "STATE", "COUNT"});
  for (const app::StatusCount& n : *counts) {
    t.Add({n.clause, n.title, std::string(ObligationStateName(n.state)), std::to_string(n.count)});
  }
  t.Print(ctx.out);
}

// The obligations as a table, most urgent first.
void PrintObligations(Context& ctx, const std::vector<Obligation>& list) {
  Table t({"STATE", "CLAUSE", "DUE", "SUBJECT", "OBLIGATION", "TIMESCALE", "IF MISSED", "NOTES"});
  for (const Obligation& ob : list) {
    std::string notes;
    if (!ob.flags.empty()) {
      notes =
          ob.flags.front().size() > 60 ? ob.flags.front().substr(0, 57) + "..." : ob.flags.front();
      if (ob.flags.size() > 1) notes += " (+" + std::to_string(ob.flags.size() - 1) + " more)";
    }
    t.Add({std::string(ObligationStateName(ob.state)), ob.clause, DueText(ob), ob.subject, ob.title,
           TimescaleText(ob), ob.consequence_text, notes});
  }
  t.Print(ctx.out);
}

// "the first 20 of 95" or "all 3".
std::string Shown(size_t shown, std::int64_t total) {
  if (static_cast<std::int64_t>(shown) >= total) return "all " + std::to_string(total);
  return "the first " + std::to_string(shown) + " of " + std::to_string(total);
}

// The default status: the counts that need attention, then the breached obligations and those
// falling due within 30 days, most urgent first.
void ShowOverview(Context& ctx, app::Ledger& ledger, const StatusOptions& o,
                  const app::StatusQuery& sq) {
  app::OverviewQuery q;
  q.at = sq.at;
  q.as_known = sq.as_known;
  if (o.limit >= 0) q.limit = o.limit;
  Result<app::StatusOverview> v = ledger.Overview(o.contract, q);
  if (!v.ok()) return ctx.Fail(v.status());
  const std::string due_by = FormatDate(LondonDate(v->due_by));
  ctx.out << "Contract " << o.contract << " as of " << FormatInstant(v->as_of) << ": "
          << v->breached << " breached, " << v->open << " open (" << v->due_soon << " due by "
          << due_by << "), " << v->suspended << " suspended, " << v->met_late << " met late\n";
  if (v->breached > 0) {
    ctx.out << "\nBreached, most urgent first (" << Shown(v->most_urgent_breached.size(), v->breached)
            << "; --state breached lists every one):\n";
    PrintObligations(ctx, v->most_urgent_breached);
  }
  if (v->due_soon > 0) {
    ctx.out << "\nOpen and due by " << due_by << ", soonest first ("
            << Shown(v->next_due.size(), v->due_soon) << "):\n";
    PrintObligations(ctx, v->next_due);
  }
  ctx.out << "\n--all lists every obligation (--limit N --offset M for one page of them), "
             "--summary counts them by clause and state, --json prints them for programs\n";
}

}  // namespace

// The actor of a command-line call: the operating-system user, never free text.
app::Actor OsActor() {
  const passwd* pw = getpwuid(geteuid());
  if (pw && pw->pw_name && *pw->pw_name) return {pw->pw_name, false};
  return {"uid:" + std::to_string(geteuid()), false};
}

Result<std::unique_ptr<app::Ledger>> OpenLedger(Context& ctx, const StoreOptions& o) {
  std::optional<std::string> flag;
  if (!o.store.empty()) flag = o.store;
  ISMS_ASSIGN_OR_RETURN(std::string url, store::ResolveStoreUrl(flag));
  return app::Ledger::Open(url, ctx.clock);
}

// An --at value: a date (the start of that London day for an event; its end for "as of"), or
// an RFC 3339 instant.
Result<Instant> ParseAt(const std::string& text, bool end_of_day) {
  if (text.size() == 10) {
    ISMS_ASSIGN_OR_RETURN(Date d, ParseDate(text));
    return end_of_day ? EndOfLondonDay(d) : StartOfLondonDay(d);
  }
  Result<Instant> t = ParseInstant(text);
  if (!t.ok()) {
    return Status::InvalidArgument("--at '" + text +
                                   "' is neither a date YYYY-MM-DD nor an RFC 3339 instant such "
                                   "as 2026-03-31T14:05:00Z");
  }
  return t;
}

Result<std::unique_ptr<app::AuditService>> OpenAuditService(Context& ctx, const StoreOptions& o,
                                                            const std::string& key_dir) {
  std::optional<std::string> flag;
  if (!o.store.empty()) flag = o.store;
  ISMS_ASSIGN_OR_RETURN(std::string url, store::ResolveStoreUrl(flag));
  return app::AuditService::Open(url, key_dir, ctx.clock);
}

void SealLedger(Context& ctx, const StoreOptions& store, const std::string& contract) {
  Result<std::unique_ptr<app::AuditService>> audit = OpenAuditService(ctx, store);
  Result<std::uint64_t> sealed =
      audit.ok() ? (*audit)->SyncLedgerLog(contract) : Result<std::uint64_t>(audit.status());
  if (!sealed.ok()) {
    ctx.err << "isms: the event is recorded, but the ledger log was not brought up to date ("
            << sealed.status().message() << "); the next recorded event seals it\n";
  }
}

void Init(Context& ctx, const InitOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<int> version = store::SchemaVersion((*ledger)->connection());
  if (!version.ok()) return ctx.Fail(version.status());
  ctx.out << "store " << (*ledger)->connection().DisplayUrl() << " is ready (schema version "
          << *version << ")\n";
  // The key that signs the audit log's checkpoints (A1 8.1): created once, private to its owner.
  std::optional<std::string> flag;
  if (!o.store.store.empty()) flag = o.store.store;
  Result<std::string> url = store::ResolveStoreUrl(flag);
  if (!url.ok()) return ctx.Fail(url.status());
  Result<std::string> dir = app::AuditKeyDir(*url, o.key_dir);
  if (!dir.ok()) {
    ctx.err << "isms: no audit signing key made: " << dir.status().message() << "\n";
    return;
  }
  Result<app::AuditKeyInfo> key = app::EnsureAuditKey(*dir);
  if (!key.ok()) return ctx.Fail(key.status());
  ctx.out << (key->created ? "created" : "kept") << " the audit signing key " << key->private_path
          << " (mode 0600); give the Buyer its public key " << key->public_path << ":\n"
          << key->verifier_key << (key->verifier_key.ends_with('\n') ? "" : "\n");
}

void ContractCreate(Context& ctx, const ContractCreateOptions& o) {
  app::NewContract c;
  c.name = o.name;
  Result<Date> start = ParseDate(o.start);
  if (!start.ok()) return ctx.Fail(start.status().WithContext("--start"));
  c.start = *start;
  c.buyer = o.buyer;
  c.supplier = o.supplier;
  c.bespoke_isms = o.bespoke_isms;
  if (!o.policy_file.empty()) {
    std::ifstream in(o.policy_file, std::ios::binary);
    if (!in) {
      return ctx.Fail(Status::IoError("cannot read policy file " + o.policy_file +
                                      ": check the path and its permissions"));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    c.policy_toml = ss.str();
    c.policy_source = o.policy_file;
    std::error_code ec;
    c.policy_dir =
        std::filesystem::absolute(std::filesystem::path(o.policy_file), ec).parent_path().string();
  }
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<app::ContractRecord> r = (*ledger)->CreateContract(c, OsActor());
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out << "created contract " << r->name << " (Start Date " << FormatDate(r->start)
          << (r->bespoke_isms ? ", bespoke ISMS" : "") << ")\n";
}

void ContractList(Context& ctx, const ContractListOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<std::vector<app::ContractRecord>> list = (*ledger)->ListContracts();
  if (!list.ok()) return ctx.Fail(list.status());
  if (o.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& c : *list) {
      arr.push_back({{"name", c.name},
                     {"start", FormatDate(c.start)},
                     {"buyer", c.buyer},
                     {"supplier", c.supplier},
                     {"bespoke_isms", c.bespoke_isms}});
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"NAME", "START", "BUYER", "SUPPLIER", "ISMS"});
  for (const auto& c : *list) {
    t.Add(
        {c.name, FormatDate(c.start), c.buyer, c.supplier, c.bespoke_isms ? "bespoke" : "extant"});
  }
  t.Print(ctx.out);
}

void EventRecord(Context& ctx, const EventRecordOptions& o) {
  app::NewEvent e;
  e.contract = o.contract;
  e.type = o.type;
  e.subject = o.subject;
  e.note = o.note;
  if (!o.at.empty()) {
    Result<Instant> at = ParseAt(o.at, /*end_of_day=*/false);
    if (!at.ok()) return ctx.Fail(at.status());
    e.at = *at;
  }
  for (const std::string& kv : o.attrs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return ctx.Fail(
          Status::InvalidArgument("'" + kv + "' is not KEY=VALUE, e.g. evidence=MSG-123"));
    }
    e.attrs.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<Event> r = (*ledger)->RecordEvent(e, OsActor());
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out << "recorded event " << r->id << ": " << r->type
          << (r->subject.empty() ? "" : " " + r->subject) << " at " << FormatInstant(r->at) << "\n";
  SealLedger(ctx, o.store, o.contract);
}

void EventList(Context& ctx, const EventListOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<std::vector<app::EventView>> list = (*ledger)->ListEvents(o.contract);
  if (!list.ok()) return ctx.Fail(list.status());
  if (o.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& v : *list) {
      arr.push_back(app::EventJson(v.event, v.backdated));
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"ID", "AT", "TYPE", "SUBJECT", "ATTRIBUTES", "RECORDED", "BY", "NOTE"});
  for (const auto& v : *list) {
    const Event& e = v.event;
    std::string attrs;
    for (const auto& [k, val] : e.attrs) {
      if (!attrs.empty()) attrs += ' ';
      attrs += k + "=" + (val.size() > 40 ? val.substr(0, 37) + "..." : val);
    }
    if (e.supersedes)
      attrs += (attrs.empty() ? "" : " ") + ("supersedes=" + std::to_string(*e.supersedes));
    t.Add({std::to_string(e.id), FormatInstant(e.at), e.type, e.subject, attrs,
           FormatInstant(e.recorded_at) + (v.backdated ? " BACKDATED" : ""), e.actor, e.note});
  }
  t.Print(ctx.out);
}

void ShowStatus(Context& ctx, const StatusOptions& o) {
  app::StatusQuery q;
  if (!o.at.empty()) {
    Result<Instant> at = ParseAt(o.at, /*end_of_day=*/true);
    if (!at.ok()) return ctx.Fail(at.status());
    q.at = *at;
  } else if (o.as_known) {
    return ctx.Fail(Status::InvalidArgument("--as-known needs --at: the time of the knowledge"));
  }
  q.as_known = o.as_known;
  if (!o.state.empty()) {
    Result<ObligationState> s = ParseObligationState(o.state);
    if (!s.ok()) return ctx.Fail(s.status());
    q.state = *s;
  }
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  if (o.summary) {
    if (q.at || q.state || o.all || o.limit >= 0 || o.offset > 0) {
      return ctx.Fail(
          Status::InvalidArgument("--summary counts the present obligations: it takes neither "
                                  "--at, --state, --all, --limit nor --offset"));
    }
    return ShowSummary(ctx, **ledger, o);
  }
  // A list of every obligation can run to a million rows: without a state, --all or --json the
  // overview of what needs attention is shown instead.
  if (!o.json && !o.all && !q.state) {
    if (o.offset > 0) {
      return ctx.Fail(Status::InvalidArgument(
          "--offset pages through a list: give --all or --state with it"));
    }
    return ShowOverview(ctx, **ledger, o, q);
  }
  q.limit = std::max<std::int64_t>(o.limit, 0);
  q.offset = o.offset;
  Result<std::vector<Obligation>> list = (*ledger)->StatusOf(o.contract, q);
  if (!list.ok()) return ctx.Fail(list.status());
  if (o.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const Obligation& ob : *list) arr.push_back(app::ObligationJson(ob));
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  PrintObligations(ctx, *list);
  if (!list->empty()) ctx.out << "(--json shows every note, the trigger and the evidence)\n";
}

void Recompute(Context& ctx, const RecomputeOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<app::RecomputeResult> r = (*ledger)->Recompute(o.contract);
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out << "recomputed " << r->obligations << " obligations from " << r->events << " events of "
          << r->contracts << (r->contracts == 1 ? " contract" : " contracts") << "\n";
}

void RootCauseList(Context& ctx, const RootCauseListOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  Result<std::vector<std::string>> r = (*ledger)->RootCauses(o.contract);
  if (!r.ok()) return ctx.Fail(r.status());
  for (const std::string& id : *r) ctx.out << id << "\n";
}

}  // namespace isms::cli
