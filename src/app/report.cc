#include "app/report.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "app/audit.h"
#include "app/ledger_internal.h"
#include "app/report_internal.h"
#include "app/vulns.h"
#include "app/vulns_internal.h"
#include "audit/zstd_frame.h"
#include "core/vuln_rules.h"

namespace isms::app {

using namespace internal;

int ElapsedDays(Date from, Date to) {
  return (ToDays(to) - ToDays(from)).count();
}

int ElapsedWorkingDays(const Calendar& calendar, Date from, Date to) {
  return calendar.WorkingDaysBetween(from, to);
}

Result<Date> ParseMonth(std::string_view month) {
  auto bad = [&] {
    return Status::InvalidArgument("--month '" + std::string(month) +
                                   "' is not a Month: write it as YYYY-MM, e.g. 2026-03");
  };
  if (month.size() != 7 || month[4] != '-') return bad();
  for (size_t i = 0; i < month.size(); ++i) {
    if (i != 4 && (month[i] < '0' || month[i] > '9')) return bad();
  }
  Result<Date> d = ParseDate(std::string(month) + "-01");
  if (!d.ok()) return bad();
  return *d;
}

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  bool ok = len > 0 && i + len <= s.size() && !(len == 2 && c < 0xC2);
  for (size_t k = 1; ok && k < len; ++k) {
    ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  }
  if (ok && len == 3) {
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
  }
  if (ok && len == 4) {
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
  }
  return ok ? len : 0;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII bytes at a time.
    while (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= s.size()) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

namespace internal {

// Text from the imports made valid UTF-8 (each invalid byte becomes U+FFFD), so that every
// rendering, and PostgreSQL's TEXT, takes it.
std::string ValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    if (size_t len = Utf8SequenceLength(s, i)) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

void MakeValidUtf8(std::string* s) {
  if (!IsValidUtf8(*s)) *s = ValidUtf8(*s);
}

}  // namespace internal

namespace {

Date FirstOfNextMonth(Date first) {
  return first.year() / first.month() / std::chrono::day(1) + std::chrono::months(1);
}

Date LastDay(Date first) {
  return first.year() / first.month() / std::chrono::last;
}

// 9.5.4 as of `as_of`: each asset registered by then, with its last scan by then.
Status ScanRecencyAsOf(store::Connection& conn, const ContractContext& ctx, Instant as_of,
                       std::vector<Obligation>* out) {
  ISMS_ASSIGN_OR_RETURN(
      auto st,
      conn.Prepare("SELECT a.name, a.created_at, MAX(s.scanned_at) FROM assets a "
                   "LEFT JOIN scan_assets sa ON sa.contract_id = a.contract_id AND sa.asset_id = "
                   "a.id LEFT JOIN scans s ON s.contract_id = sa.contract_id AND s.id = "
                   "sa.scan_id AND s.scanned_at <= $2 WHERE a.contract_id = $1 AND "
                   "a.created_at <= $2 GROUP BY a.id, a.name, a.created_at ORDER BY a.id"));
  st->BindInt(1, ctx.record.id);
  st->BindInt(2, Ms(as_of));
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    if (!more) break;
    std::optional<Instant> last;
    if (!st->IsNull(2)) last = FromMs(st->ColumnInt(2));
    out->push_back(ScanRecencyObligation(st->ColumnText(0), FromMs(st->ColumnInt(1)), last,
                                         ctx.versions, ctx.calendar, as_of));
  }
  return Status::Ok();
}

bool IsFindingOrScanKey(const std::string& key) {
  return key == "patch_critical" || key == "patch_important" || key == "patch_other" ||
         key == "interim_mitigation" || key == "patch_at_risk_notification" ||
         key == "scan_recency";
}

constexpr const char* kAssumedCaveat =
    "A patch release date marked assumed was given by no feed (no CSAF advisory, no scanner "
    "patch date, none set by hand): it is assumed under the contract's policy (patch_release = "
    "%RULE%), and the elapsed time and due date counted from it are only as good as that "
    "assumption. A later advisory or `isms vuln released` replaces it.";

}  // namespace

Result<MonthlyReport> Reports::Build(const ReportRequest& r) {
  const Instant now = ledger_.clock().Now();
  return BuildAt(r, r.issued_at.value_or(now), false);
}

Status Reports::Write(const ReportRequest& r, ReportFormat format,
                      const std::function<Status(std::string_view)>& sink) {
  const Instant now = ledger_.clock().Now();
  CompactRows rows;
  ISMS_ASSIGN_OR_RETURN(MonthlyReport rep, BuildAt(r, r.issued_at.value_or(now), false, &rows));
  return WriteReportInPieces(format, rep, &rows, kReportRowsPerPiece, 0, sink);
}

namespace {

// The audit log's latest checkpoint as of `as_of`, the key that signed it and the key's
// rotations until then.
Status SealOfAuditLog(AuditService& audit, const std::string& contract, Instant as_of,
                      MonthlyReport::AuditLogSeal* seal) {
  Result<std::string> note = audit.CheckpointWrittenBy(contract, as_of);
  if (!note.ok()) {
    if (note.status().code() != StatusCode::kNotFound) return note.status();
    seal->note = "The audit log had no signed checkpoint at the issue (no audit record yet).";
    return Status::Ok();
  }
  seal->checkpoint = *note;
  // The key that signed it (the note names it only by name and key ID). Without the key
  // folder the checkpoint is printed all the same.
  if (Result<std::vector<audit::NoteVerifier>> keys = audit.Verifiers(); keys.ok()) {
    for (const audit::NoteVerifier& k : *keys) {
      if (!audit::OpenNote(*note, k).ok()) continue;
      seal->verifier_key = k.Encode();
      break;
    }
  }
  ISMS_ASSIGN_OR_RETURN(std::vector<std::string> transitions, audit.KeyTransitionNotes());
  for (const std::string& t : transitions) {
    Result<AuditKeyTransition> k = AuditKeyTransitionOf(t);
    if (!k.ok()) continue;
    Result<Instant> at = ParseInstant(k->at);
    if (!at.ok() || *at > as_of) continue;
    seal->key_rotations.push_back(k->from.Label() + " to " + k->to.Label() + " at " + k->at);
  }
  return Status::Ok();
}

}  // namespace

Result<MonthlyReport> Reports::BuildAt(const ReportRequest& req, Instant as_of, bool issuing,
                                       CompactRows* compact) {
  ISMS_ASSIGN_OR_RETURN(Date first, ParseMonth(req.month));
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger_.Context(req.contract));
  const Instant now = ledger_.clock().Now();
  if (as_of > now) {
    return Status::InvalidArgument("--issued-at " + FormatInstant(as_of) +
                                   " is in the future: a report is evaluated from what is known");
  }
  MonthlyReport rep;
  rep.contract = ctx.record.name;
  rep.buyer = ValidUtf8(ctx.record.buyer);
  rep.supplier = ValidUtf8(ctx.record.supplier);
  rep.month = req.month;
  rep.first_day = first;
  rep.last_day = LastDay(first);
  rep.period_start = StartOfLondonDay(rep.first_day);
  rep.period_end = EndOfLondonDay(rep.last_day);
  rep.issued_at = as_of;
  rep.month_ended = as_of >= StartOfLondonDay(FirstOfNextMonth(first));
  if (rep.last_day < ctx.record.start) {
    return Status::InvalidArgument("contract " + rep.contract + " starts on " +
                                   FormatDate(ctx.record.start) + ": " + req.month +
                                   " is before it, so there is nothing to report");
  }
  if (as_of < rep.period_start) {
    return Status::InvalidArgument(req.month + " has not begun at " + FormatInstant(as_of) +
                                   ": there is nothing to report yet");
  }
  if (issuing && !rep.month_ended) {
    return Status::FailedPrecondition(
        req.month + " has not ended at " + FormatInstant(as_of) +
        ": a monthly report follows the end of its Month (9.5.5); issue it from " +
        FormatInstant(StartOfLondonDay(FirstOfNextMonth(first))) + " on");
  }

  const Policy& policy = PolicyInForce(ctx.versions, LondonDate(as_of));
  rep.patch_release_rule = std::string(PatchReleaseRuleKey(policy.patch_release));
  for (const Timescale& t : policy.timescales) {
    if (t.clause != "9.3" && t.clause.rfind("9.3.", 0) != 0) continue;
    ReportTimescale line;
    line.clause = t.clause;
    line.key = t.key;
    if (t.key == "patch_critical") line.category = "Critical";
    if (t.key == "patch_important") line.category = "Important";
    if (t.key == "patch_other") line.category = "Other";
    line.title = t.title;
    line.timescale = DescribeTimescalePeriod(t);
    line.source = std::string(TimescaleSourceKey(t.source));
    line.wording = t.wording;
    line.reference = t.reference;
    rep.timescales.push_back(std::move(line));
  }
  const Policy& month_policy = PolicyInForce(ctx.versions, rep.last_day);
  if (Result<Period> p = month_policy.PeriodOf("monthly_vulnerability_report"); p.ok()) {
    rep.report_due = ctx.calendar.AddPeriod(rep.last_day, *p);
  }

  store::Connection& conn = ledger_.connection();
  ISMS_ASSIGN_OR_RETURN(auto events, FindingEvents(ledger_, ctx.record.id));

  std::vector<Obligation> breached;
  {
    StatusQuery q;
    q.at = as_of;
    q.state = ObligationState::kBreached;
    q.findings = false;  // evaluated below, once, with the report's own rows
    ISMS_ASSIGN_OR_RETURN(breached, ledger_.StatusOf(rep.contract, q));
    // The findings' and the assets' obligations are evaluated below, as of the issue, from the
    // facts as they stood then.
    std::erase_if(breached, [](const Obligation& o) { return IsFindingOrScanKey(o.key); });
  }
  std::vector<Obligation> scans;
  ISMS_RETURN_IF_ERROR(ScanRecencyAsOf(conn, ctx, as_of, &scans));
  for (Obligation& o : scans) {
    if (o.state == ObligationState::kBreached) breached.push_back(std::move(o));
  }

  ISMS_RETURN_IF_ERROR(
      EvaluateReportRows(conn, ctx, as_of, std::move(events), std::move(breached), &rep, compact));
  const char* const kCategories[] = {"Critical", "Important", "Other"};
  for (int i = 0; i < 3; ++i) rep.totals[i].category = kCategories[i];
  CategoryTotals& all = rep.totals[3];
  all.category = "all";
  for (int i = 0; i < 3; ++i) {
    all.patched_within += rep.totals[i].patched_within;
    all.patched_late += rep.totals[i].patched_late;
    all.outstanding_within += rep.totals[i].outstanding_within;
    all.outstanding_overdue += rep.totals[i].outstanding_overdue;
  }

  if (audit_ != nullptr) {
    ISMS_RETURN_IF_ERROR(SealOfAuditLog(*audit_, rep.contract, as_of, &rep.audit));
  }

  std::string caveat = kAssumedCaveat;
  caveat.replace(caveat.find("%RULE%"), 6, rep.patch_release_rule);
  rep.caveats.push_back(std::move(caveat));
  rep.caveats.push_back(
      "Evaluated as of the issue instant from the stored data: findings first seen later are "
      "left out, remediations and events after it do not count. A finding's category and release "
      "evidence are as the imports last established them.");
  return rep;
}

namespace {

// The level of an issued report's zstd frames, made on two threads: its 620 MB of HTML and JSON
// (docs/benchmarks.md) are stored in 20 MB.
constexpr int kReportLevel = 3;
constexpr int kReportWorkers = 2;

// `what` of a stored report, from its compressed column (`blob`), else its text column (`text`:
// reports issued before they were stored compressed).
Result<std::string> StoredReportText(const store::Statement& st, int blob, int text,
                                     std::string_view what) {
  if (st.IsNull(blob)) return st.ColumnText(text);
  Result<std::string> out =
      audit::DecompressFrame(st.ColumnBlob(blob), std::numeric_limits<std::size_t>::max());
  if (!out.ok()) {
    return out.status().WithContext("the stored " + std::string(what) + " of the report");
  }
  return out;
}

}  // namespace

Result<IssuedReport> Reports::Issue(const ReportRequest& r, const Actor& actor) {
  const Instant as_of = r.issued_at.value_or(ledger_.clock().Now());
  IssuedReport out;
  {
    // The rows kept compactly, as Write keeps them, and gone before the report is stored.
    CompactRows rows;
    ISMS_ASSIGN_OR_RETURN(MonthlyReport rep, BuildAt(r, as_of, true, &rows));
    rep.issued = true;
    rep.issued_by = ValidUtf8(actor.name);
    out.contract = rep.contract;
    out.month = rep.month;
    out.issued_at = as_of;
    out.issued_by = rep.issued_by;
    ISMS_RETURN_IF_ERROR(AppendReport(ReportFormat::kJson, rep, &rows, out.json));
    ISMS_RETURN_IF_ERROR(AppendReport(ReportFormat::kHtml, rep, &rows, out.html));
  }
  out.sha256 = Sha256Hex(out.json);
  const std::string html_sha256 = Sha256Hex(out.html);

  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_.FindContract(r.contract));
  store::Connection& conn = ledger_.connection();
  // The report is stored first, without its event; it counts as issued once the event is
  // recorded and its number written beside it. A failure in between leaves a row that `Show`
  // never returns.
  {
    ISMS_ASSIGN_OR_RETURN(auto ins,
                          conn.Prepare("INSERT INTO reports (contract_id, month, issued_at, "
                                       "issued_by, sha256, html, json, html_zstd, json_zstd) "
                                       "VALUES ($1, $2, $3, $4, $5, '', '', $6, $7)"));
    ins->BindInt(1, c.id);
    ins->BindText(2, out.month);
    ins->BindInt(3, Ms(as_of));
    ins->BindText(4, out.issued_by);
    ins->BindText(5, out.sha256);
    ins->BindBlob(6, audit::CompressFrame(out.html, kReportLevel, kReportWorkers));
    ins->BindBlob(7, audit::CompressFrame(out.json, kReportLevel, kReportWorkers));
    Status s = ins->Run();
    if (!s.ok()) {
      if (s.code() == StatusCode::kAlreadyExists) {
        return Status::AlreadyExists("a report of " + out.month + " was issued at " +
                                     FormatInstant(as_of) + " already: `isms report show`");
      }
      return s;
    }
  }
  auto remove = [&]() -> Status {
    ISMS_ASSIGN_OR_RETURN(auto del, conn.Prepare("DELETE FROM reports WHERE contract_id = $1 AND "
                                                 "month = $2 AND issued_at = $3"));
    del->BindInt(1, c.id);
    del->BindText(2, out.month);
    del->BindInt(3, Ms(as_of));
    return del->Run();
  };
  NewEvent e;
  e.contract = out.contract;
  e.type = "report.submitted";
  e.at = as_of;
  e.note = "monthly vulnerability report (9.5.5), issued by isms";
  e.attrs = {{"month", out.month}, {"sha256", out.sha256}, {"html_sha256", html_sha256}};
  Result<Event> recorded = ledger_.RecordEvent(e, actor);
  if (!recorded.ok()) {
    (void)remove();
    return recorded.status();
  }
  out.event_id = recorded->id;
  ISMS_ASSIGN_OR_RETURN(auto up,
                        conn.Prepare("UPDATE reports SET event_id = $1 WHERE "
                                     "contract_id = $2 AND month = $3 AND issued_at = $4"));
  up->BindInt(1, out.event_id);
  up->BindInt(2, c.id);
  up->BindText(3, out.month);
  up->BindInt(4, Ms(as_of));
  ISMS_RETURN_IF_ERROR(up->Run());
  return out;
}

Result<IssuedReport> Reports::Show(const std::string& contract, const std::string& month,
                                   std::optional<Instant> issued_at) {
  ISMS_RETURN_IF_ERROR(ParseMonth(month).status());
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger_.FindContract(contract));
  std::string sql =
      "SELECT issued_at, issued_by, sha256, html, json, event_id, html_zstd, json_zstd FROM "
      "reports WHERE contract_id = $1 AND month = $2 AND event_id IS NOT NULL";
  if (issued_at) sql += " AND issued_at = $3";
  sql += " ORDER BY issued_at DESC LIMIT 1";  // the latest: the others are never read
  ISMS_ASSIGN_OR_RETURN(auto st, ledger_.connection().Prepare(sql));
  st->BindInt(1, c.id);
  st->BindText(2, month);
  if (issued_at) st->BindInt(3, Ms(*issued_at));
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    return Status::NotFound("no report of " + month + " was issued for contract " + c.name +
                            (issued_at ? " at " + FormatInstant(*issued_at) : std::string()) +
                            ": `isms report issue` issues one");
  }
  IssuedReport out;
  out.contract = c.name;
  out.month = month;
  out.issued_at = FromMs(st->ColumnInt(0));
  out.issued_by = st->ColumnText(1);
  out.sha256 = st->ColumnText(2);
  ISMS_ASSIGN_OR_RETURN(out.html, StoredReportText(*st, 6, 3, "HTML"));
  ISMS_ASSIGN_OR_RETURN(out.json, StoredReportText(*st, 7, 4, "JSON"));
  out.event_id = st->ColumnInt(5);
  const std::string issue = "the stored report of " + month + " issued at " +
                            FormatInstant(out.issued_at);
  const std::string json_sha256 = Sha256Hex(out.json);
  if (json_sha256 != out.sha256) {
    return Status::Corruption(issue + " no longer matches its sha256 " + out.sha256);
  }
  st.reset();
  // The hashes its report.submitted event recorded: the ledger's events are kept in a Merkle log
  // with signed checkpoints (`isms audit verify`), so a report changed together with the sha256
  // beside it is still found out. Events recorded before the HTML's hash was added carry only
  // the JSON's.
  ISMS_ASSIGN_OR_RETURN(auto ev,
                        ledger_.connection().Prepare(std::string("SELECT ") +
                                                     ledger_internal::kEventColumns +
                                                     " FROM events WHERE contract_id = $1 AND "
                                                     "id = $2"));
  ev->BindInt(1, c.id);
  ev->BindInt(2, out.event_id);
  ISMS_ASSIGN_OR_RETURN(bool found, ev->Step());
  if (!found) {
    return Status::Corruption(issue + " names its report.submitted event " +
                              std::to_string(out.event_id) + ", which the ledger does not hold");
  }
  ISMS_ASSIGN_OR_RETURN(Event e, ledger_internal::ReadEvent(*ev));
  if (e.type != "report.submitted" || e.Attr("sha256") != json_sha256) {
    return Status::Corruption(issue + ": its JSON no longer matches the sha256 that its "
                              "report.submitted event " + std::to_string(out.event_id) +
                              " recorded");
  }
  if (auto html = e.Attr("html_sha256"); html && *html != Sha256Hex(out.html)) {
    return Status::Corruption(issue + ": its HTML no longer matches the sha256 that its "
                              "report.submitted event " + std::to_string(out.event_id) +
                              " recorded");
  }
  return out;
}

}  // namespace isms::app
