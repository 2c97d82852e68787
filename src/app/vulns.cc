#include "app/vulns.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "app/text.h"
#include "app/vulns_internal.h"

namespace isms::app {
namespace internal {

const char* const kFindingColumns =
    "f.contract_id, f.id, f.asset_id, f.scanner, f.scan_type, f.check_id, f.component, f.purl, "
    "f.cpe, f.port, f.title, f.vuln_id, f.cves, f.category, f.category_source, f.base_score, "
    "f.cvss_vector, f.kind, f.fix_state, f.fixed_version, f.patch_published, f.vuln_published, "
    "f.csaf_fix_date, f.csaf_advisory_date, f.csaf_advisory, f.exploit_available, "
    "f.exploit_seen_at, f.first_seen, f.last_seen, f.first_scan_id, f.last_scan_id, "
    "f.credentialed, f.remediated_at, f.remediated_by, f.statement, f.statement_note, a.name";
const char* const kFindingFrom =
    "findings f JOIN assets a ON a.contract_id = f.contract_id AND a.id = f.asset_id";

std::int64_t Ms(Instant t) { return t.time_since_epoch().count(); }
Instant FromMs(std::int64_t ms) { return Instant(std::chrono::milliseconds(ms)); }

namespace {

Result<std::optional<Date>> OptionalDate(const store::Statement& st, int c) {
  if (st.IsNull(c)) return std::optional<Date>();
  ISMS_ASSIGN_OR_RETURN(Date d, ParseDate(st.ColumnText(c)));
  return std::optional<Date>(d);
}

std::optional<Instant> OptionalInstant(const store::Statement& st, int c) {
  if (st.IsNull(c)) return std::nullopt;
  return FromMs(st.ColumnInt(c));
}

}  // namespace

Result<FindingRow> ReadFinding(const store::Statement& st) {
  FindingRow r;
  r.contract_id = st.ColumnInt(0);
  r.id = st.ColumnInt(1);
  r.asset_id = st.ColumnInt(2);
  r.scanner = st.ColumnText(3);
  r.scan_type = st.ColumnText(4);
  r.check_id = st.ColumnText(5);
  r.component = st.ColumnText(6);
  r.purl = st.ColumnText(7);
  r.cpe = st.ColumnText(8);
  r.port = st.ColumnText(9);
  r.title = st.ColumnText(10);
  r.vuln_id = st.ColumnText(11);
  r.cves = Split(st.ColumnText(12), ',');
  r.category = st.ColumnText(13);
  r.category_source = st.ColumnText(14);
  if (!st.IsNull(15)) r.base_score = st.ColumnDouble(15);
  r.cvss_vector = st.ColumnText(16);
  r.kind = st.ColumnText(17);
  r.fix_state = st.ColumnText(18);
  r.fixed_version = st.ColumnText(19);
  ISMS_ASSIGN_OR_RETURN(r.patch_published, OptionalDate(st, 20));
  ISMS_ASSIGN_OR_RETURN(r.vuln_published, OptionalDate(st, 21));
  ISMS_ASSIGN_OR_RETURN(r.csaf_fix_date, OptionalDate(st, 22));
  ISMS_ASSIGN_OR_RETURN(r.csaf_advisory_date, OptionalDate(st, 23));
  r.csaf_advisory = st.ColumnText(24);
  r.exploit_available = st.ColumnInt(25) != 0;
  r.exploit_seen_at = OptionalInstant(st, 26);
  r.first_seen = FromMs(st.ColumnInt(27));
  r.last_seen = FromMs(st.ColumnInt(28));
  r.first_scan_id = st.ColumnInt(29);
  r.last_scan_id = st.ColumnInt(30);
  if (!st.IsNull(31)) r.credentialed = st.ColumnInt(31) != 0;
  r.remediated_at = OptionalInstant(st, 32);
  r.remediated_by = st.ColumnText(33);
  r.statement = st.ColumnText(34);
  r.statement_note = st.ColumnText(35);
  r.asset_name = st.ColumnText(36);
  return r;
}

FindingFacts FactsOf(const FindingClockFields& row, const ContractContext& ctx,
                     const std::vector<Event>& events, Instant as_of) {
  FindingFacts f;
  f.id = FindingId(row.id);
  f.asset = row.asset_name;
  f.vuln_id = row.vuln_id;
  f.category = ParseCategory(row.category).status().ok() ? *ParseCategory(row.category)
                                                          : Category::kOther;
  f.has_clock = row.kind == "vulnerability" && row.statement != "not_affected";
  f.fix_available = row.fix_state == "available" || row.patch_published.has_value() ||
                    row.csaf_fix_date.has_value() || row.csaf_advisory_date.has_value();
  ReleaseEvidence ev;
  ev.csaf_remediation_date = row.csaf_fix_date;
  ev.csaf_initial_release = row.csaf_advisory_date;
  ev.nessus_patch_published = row.patch_published;
  ev.manual = ManualReleaseDate(f.id, events, as_of);
  ev.cve_published = row.vuln_published;
  ev.first_seen = LondonDate(row.first_seen);
  if (ev.manual) f.fix_available = true;
  if (f.fix_available) {
    const Policy& p = PolicyInForce(ctx.versions, ev.first_seen);
    f.release = DecidePatchRelease(ev, p.patch_release);
  }
  f.first_seen = row.first_seen;
  f.remediated_at = row.remediated_at;
  f.exploit_known = row.exploit_available;
  f.exploit_known_since = row.exploit_seen_at;
  return f;
}

}  // namespace internal

using namespace internal;

std::string FindingId(std::int64_t n) { return "F-" + std::to_string(n); }

Result<std::int64_t> ParseFindingId(std::string_view id) {
  std::string_view digits = id;
  if (digits.size() > 2 && (digits[0] == 'F' || digits[0] == 'f') && digits[1] == '-') {
    digits.remove_prefix(2);
  }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n <= 0) {
    return Status::InvalidArgument("'" + std::string(id) +
                                   "' is not a finding id: write it as F-12 (`isms vuln list`)");
  }
  return n;
}

namespace {

Result<FindingRow> LoadFinding(store::Connection& conn, std::int64_t id) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(std::string("SELECT ") + kFindingColumns + " FROM " +
                                              kFindingFrom + " WHERE f.id = $1"));
  st->BindInt(1, id);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    return Status::NotFound("no finding " + FindingId(id) + ": `isms vuln list` shows them");
  }
  return ReadFinding(*st);
}

}  // namespace

Result<std::map<std::string, std::vector<Event>>> FindingEvents(Ledger& ledger,
                                                                std::int64_t contract_id) {
  ISMS_ASSIGN_OR_RETURN(auto st, ledger.connection().Prepare(
                                     "SELECT stream FROM events WHERE contract_id = $1 AND stream "
                                     "LIKE 'vuln:%' GROUP BY stream"));
  st->BindInt(1, contract_id);
  std::vector<std::string> streams;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    if (!more) break;
    streams.push_back(st->ColumnText(0));
  }
  std::map<std::string, std::vector<Event>> events;
  for (const std::string& s : streams) {
    ISMS_ASSIGN_OR_RETURN(auto evs, ledger.StreamEvents(contract_id, s));
    events[s] = std::move(evs);
  }
  return events;
}

Result<Evaluation> EvaluateVulnStream(store::Connection& conn, const ContractContext& ctx,
                                      const std::string& stream, const std::vector<Event>& events,
                                      Instant now) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t id, ParseFindingId(std::string_view(stream).substr(5)));
  ISMS_ASSIGN_OR_RETURN(FindingRow row, LoadFinding(conn, id));
  FindingFacts facts = FactsOf(row, ctx, events, now);
  return EvaluateFinding(facts, ctx.versions, ctx.calendar, events, now).evaluation;
}

Result<std::vector<std::pair<std::string, Evaluation>>> EvaluateAllFindings(
    store::Connection& conn, const ContractContext& ctx,
    const std::map<std::string, std::vector<Event>>& events_by_stream, Instant now) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(std::string("SELECT ") + kFindingColumns + " FROM " +
                                              kFindingFrom +
                                              " WHERE f.contract_id = $1 ORDER BY f.id"));
  st->BindInt(1, ctx.record.id);
  static const std::vector<Event> kNone;
  std::vector<std::pair<std::string, Evaluation>> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    if (!more) break;
    ISMS_ASSIGN_OR_RETURN(FindingRow row, ReadFinding(*st));
    std::string stream = "vuln:" + FindingId(row.id);
    auto it = events_by_stream.find(stream);
    const std::vector<Event>& events = it == events_by_stream.end() ? kNone : it->second;
    FindingFacts facts = FactsOf(row, ctx, events, now);
    out.emplace_back(std::move(stream),
                     EvaluateFinding(facts, ctx.versions, ctx.calendar, events, now).evaluation);
  }
  return out;
}

namespace {

FindingView ViewOf(const FindingRow& row, const ContractContext& ctx,
                   const std::vector<Event>& events, Instant now) {
  FindingView v;
  v.id = FindingId(row.id);
  v.contract = ctx.record.name;
  v.asset = row.asset_name;
  v.scanner = row.scanner;
  v.scan_type = row.scan_type;
  v.check_id = row.check_id;
  v.title = row.title;
  v.vuln_id = row.vuln_id;
  v.cves = row.cves;
  v.component = row.component;
  v.port = row.port;
  v.kind = row.kind;
  v.category = row.category;
  v.category_source = row.category_source;
  v.base_score = row.base_score;
  v.cvss_vector = row.cvss_vector;
  v.fixed_version = row.fixed_version;
  v.first_seen = row.first_seen;
  v.last_seen = row.last_seen;
  v.remediated_at = row.remediated_at;
  v.remediated_by = row.remediated_by;
  v.statement = row.statement;
  v.justification = row.statement_note;
  FindingFacts facts = FactsOf(row, ctx, events, now);
  v.fix_available = facts.fix_available;
  if (facts.release) {
    v.patch_released = facts.release->date;
    v.patch_released_assumed = facts.release->assumed;
    v.patch_release_source = facts.release->source;
  }
  FindingEvaluation fe = EvaluateFinding(facts, ctx.versions, ctx.calendar, events, now);
  v.due = fe.due;
  v.at_risk = fe.at_risk;
  v.exception = fe.exception;
  v.obligations = fe.evaluation.obligations;
  for (const Obligation& o : v.obligations) {
    if (o.clause == "9.3") v.obligation_state = std::string(ObligationStateName(o.state));
  }
  if (row.kind != "vulnerability") {
    v.state = row.kind;
  } else if (fe.patched_at || row.remediated_at) {
    v.state = "remediated";
    if (!v.remediated_at) v.remediated_at = fe.patched_at;
  } else if (row.statement == "not_affected") {
    v.state = "not-affected";
  } else if (fe.suspended) {
    v.state = "not-exploitable";
  } else {
    v.state = "open";
  }
  return v;
}

bool Wanted(const FindingView& v, const FindingFilter& f) {
  if (!f.category.empty() && v.category != f.category) return false;
  if (f.state == "all") return true;
  return v.state == f.state;
}

}  // namespace

Result<std::vector<FindingView>> Vulnerabilities::List(const std::string& contract,
                                                       const FindingFilter& f) {
  for (const char* s : {"open", "remediated", "not-exploitable", "not-affected", "observation",
                        "own-code", "all"}) {
    if (f.state == s) goto state_ok;
  }
  return Status::InvalidArgument("--state '" + f.state +
                                 "': use open, remediated, not-exploitable, not-affected, "
                                 "observation, own-code or all");
state_ok:
  if (!f.category.empty()) ISMS_RETURN_IF_ERROR(ParseCategory(f.category).status());
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Context(contract));
  store::Connection& conn = ledger_.connection();
  const Instant now = ledger_.clock().Now();
  // The events of every finding stream of the contract, in one read.
  ISMS_ASSIGN_OR_RETURN(auto events, FindingEvents(ledger_, ctx.record.id));
  std::string sql = std::string("SELECT ") + kFindingColumns + " FROM " + kFindingFrom +
                    " WHERE f.contract_id = $1";
  if (!f.asset.empty()) sql += " AND a.name = $2";
  sql += " ORDER BY f.id";
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
  st->BindInt(1, ctx.record.id);
  if (!f.asset.empty()) st->BindText(2, f.asset);
  static const std::vector<Event> kNone;
  std::vector<FindingView> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    if (!more) break;
    ISMS_ASSIGN_OR_RETURN(FindingRow row, ReadFinding(*st));
    auto it = events.find("vuln:" + FindingId(row.id));
    FindingView v = ViewOf(row, ctx, it == events.end() ? kNone : it->second, now);
    if (!Wanted(v, f)) continue;
    out.push_back(std::move(v));
    if (f.limit > 0 && static_cast<std::int64_t>(out.size()) >= f.limit) break;
  }
  return out;
}

Result<FindingView> Vulnerabilities::Show(const std::string& id) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t n, ParseFindingId(id));
  store::Connection& conn = ledger_.connection();
  ISMS_ASSIGN_OR_RETURN(FindingRow row, LoadFinding(conn, n));
  ISMS_ASSIGN_OR_RETURN(std::string name, ledger_.ContractName(row.contract_id));
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Context(name));
  ISMS_ASSIGN_OR_RETURN(auto events, ledger_.StreamEvents(ctx.record.id, "vuln:" + FindingId(n)));
  return ViewOf(row, ctx, events, ledger_.clock().Now());
}

Result<std::vector<AssetView>> Vulnerabilities::Assets(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Context(contract));
  store::Connection& conn = ledger_.connection();
  std::map<std::int64_t, AssetView> assets;
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT id, name, last_scanned_at FROM assets "
                                                "WHERE contract_id = $1"));
    st->BindInt(1, ctx.record.id);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      AssetView& a = assets[st->ColumnInt(0)];
      a.name = st->ColumnText(1);
      if (!st->IsNull(2)) a.last_scanned = FromMs(st->ColumnInt(2));
    }
  }
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT asset_id, kind, value FROM asset_aliases "
                                                "WHERE contract_id = $1 ORDER BY kind, value"));
    st->BindInt(1, ctx.record.id);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      assets[st->ColumnInt(0)].aliases.emplace_back(st->ColumnText(1), st->ColumnText(2));
    }
  }
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(
                                       "SELECT asset_id, COUNT(*) FROM findings WHERE contract_id "
                                       "= $1 AND kind = 'vulnerability' AND remediated_at IS NULL "
                                       "GROUP BY asset_id"));
    st->BindInt(1, ctx.record.id);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
      if (!more) break;
      assets[st->ColumnInt(0)].open_findings = st->ColumnInt(1);
    }
  }
  std::vector<AssetView> out;
  for (auto& [id, a] : assets) out.push_back(std::move(a));
  std::sort(out.begin(), out.end(),
            [](const AssetView& a, const AssetView& b) { return a.name < b.name; });
  return out;
}

Result<Event> Vulnerabilities::RecordFindingEvent(const std::string& id, NewEvent e,
                                                  const Actor& actor) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t n, ParseFindingId(id));
  store::Connection& conn = ledger_.connection();
  ISMS_ASSIGN_OR_RETURN(FindingRow row, LoadFinding(conn, n));
  ISMS_ASSIGN_OR_RETURN(std::string name, ledger_.ContractName(row.contract_id));
  if (!e.contract.empty() && e.contract != name) {
    return Status::NotFound("finding " + FindingId(n) + " is not in contract " + e.contract);
  }
  e.contract = name;
  e.subject = FindingId(n);
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Context(name));
  ISMS_ASSIGN_OR_RETURN(auto events, ledger_.StreamEvents(ctx.record.id, "vuln:" + e.subject));
  const Instant now = ledger_.clock().Now();
  FindingFacts facts = FactsOf(row, ctx, events, now);
  Event probe;
  probe.type = e.type;
  probe.subject = e.subject;
  probe.at = e.at.value_or(now);
  for (const auto& [k, v] : e.attrs) probe.SetAttr(k, v);
  ISMS_RETURN_IF_ERROR(CheckFindingEvent(facts, probe));
  return ledger_.RecordEvent(e, actor);
}

}  // namespace isms::app
