// The monthly report's renderings and arithmetic, on reports built by hand (no store).
#include "app/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/json_views.h"
#include "app/report_internal.h"

namespace isms::app {
namespace {

Date D(const char* s) {
  return ParseDate(s).value();
}
Instant T(const char* s) {
  return ParseInstant(s).value();
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = s.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

ReportRow Outstanding(int n, const char* released, const char* due, bool overdue) {
  ReportRow v;
  v.finding = "F-" + std::to_string(n);
  v.category = "Critical";
  v.asset = "web-01";
  v.vuln_id = "CVE-2026-" + std::to_string(1000 + n);
  v.cves = {v.vuln_id};
  v.patch_released = D(released);
  v.due = D(due);
  v.elapsed_days = ElapsedDays(*v.patch_released, D("2026-04-02"));
  v.deadline_days = ElapsedDays(*v.patch_released, *v.due);
  v.clock_state = overdue ? "breached" : "open";
  v.overdue = overdue;
  return v;
}

MonthlyReport Sample() {
  MonthlyReport r;
  r.contract = "c";
  r.buyer = "Home Office";
  r.supplier = "Acme";
  r.month = "2026-03";
  r.first_day = D("2026-03-01");
  r.last_day = D("2026-03-31");
  r.period_start = StartOfLondonDay(r.first_day);
  r.period_end = EndOfLondonDay(r.last_day);
  r.report_due = D("2026-04-09");
  r.issued_at = T("2026-04-02T09:00:00Z");
  r.patch_release_rule = "earlier-of-publication-and-first-seen";
  r.timescales.push_back(
      {"9.3", "patch_critical", "Critical", "apply", "14 days", "contract", "", ""});
  ReportRow p;
  p.finding = "F-1";
  p.category = "Other";
  p.asset = "db-01";
  p.vuln_id = "CVE-2026-0001";
  p.patch_released = D("2026-01-05");
  p.applied_at = T("2026-03-16T10:00:00Z");
  p.applied_by = "vuln.patched (event 3, by alice)";
  p.elapsed_days = 70;
  p.elapsed_working_days = 50;
  p.due = D("2026-03-30");
  p.clock_state = "met";
  p.within_timescale = true;
  r.patched.push_back(p);
  r.outstanding.push_back(Outstanding(2, "2026-02-10", "2026-02-24", true));
  const char* const kCategories[] = {"Critical", "Important", "Other", "all"};
  for (int i = 0; i < 4; ++i) r.totals[i].category = kCategories[i];
  r.totals[0].outstanding_overdue = 1;
  r.totals[2].patched_within = 1;
  r.totals[3].outstanding_overdue = 1;
  r.totals[3].patched_within = 1;
  r.caveats = {"assumed dates are assumed"};
  return r;
}

TEST(ReportArithmetic, ElapsedDaysAreCalendarDays) {
  EXPECT_EQ(ElapsedDays(D("2026-02-25"), D("2026-03-05")), 8);
  EXPECT_EQ(ElapsedDays(D("2028-02-28"), D("2028-03-01")), 2) << "leap year";
  EXPECT_EQ(ElapsedDays(D("2026-03-05"), D("2026-03-05")), 0);
  EXPECT_EQ(ElapsedDays(D("2026-03-05"), D("2026-03-01")), -4);
}

TEST(ReportArithmetic, ElapsedWorkingDaysSkipWeekendsAndBankHolidays) {
  Calendar cal;
  EXPECT_EQ(ElapsedWorkingDays(cal, D("2026-01-05"), D("2026-03-16")), 50);
  // Good Friday 2026-04-03 and Easter Monday 2026-04-06: 1, 2 and 7 April.
  EXPECT_EQ(ElapsedWorkingDays(cal, D("2026-03-31"), D("2026-04-07")), 3);
  // Christmas Day (Friday), Boxing Day's substitute Monday 28 December: only the 29th.
  EXPECT_EQ(ElapsedWorkingDays(cal, D("2026-12-24"), D("2026-12-29")), 1);
  EXPECT_EQ(ElapsedWorkingDays(cal, D("2026-03-05"), D("2026-03-05")), 0);
  EXPECT_EQ(ElapsedWorkingDays(cal, D("2026-03-06"), D("2026-03-05")), 0);
}

TEST(ReportArithmetic, MonthsAreParsedStrictly) {
  EXPECT_EQ(*ParseMonth("2026-03"), D("2026-03-01"));
  for (const char* bad : {"2026-3", "2026-13", "2026-00", "2026/03", "2026-03-01", "", "x026-03"}) {
    EXPECT_FALSE(ParseMonth(bad).ok()) << bad;
  }
}

TEST(ReportArithmetic, Sha256IsLowercaseHexOfTheBytes) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ReportCsv, CellsAreQuotedAndFormulasDefused) {
  EXPECT_EQ(CsvTextCell("plain"), "plain");
  EXPECT_EQ(CsvTextCell(""), "");
  EXPECT_EQ(CsvTextCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvTextCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvTextCell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvTextCell("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(CsvTextCell("=1+1"), "'=1+1");
  EXPECT_EQ(CsvTextCell("+44 20"), "'+44 20");
  EXPECT_EQ(CsvTextCell("-2"), "'-2");
  EXPECT_EQ(CsvTextCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvTextCell("\tx"), "'\tx");
  EXPECT_EQ(CsvTextCell(std::string_view("\0x", 2)), std::string("'\0x", 3));
  EXPECT_EQ(CsvTextCell("\rx"), "\"'\rx\"");
  EXPECT_EQ(CsvTextCell("=HYPERLINK(\"u\",\"x\")"), "\"'=HYPERLINK(\"\"u\"\",\"\"x\"\")\"");
  EXPECT_EQ(CsvTextCell("a=b"), "a=b") << "only a leading sign is a formula";
}

// The audit export's cells are always quoted, and defused by the same rule.
TEST(AuditExportCsv, CellsAreQuotedAndFormulasDefusedAsInReports) {
  EXPECT_EQ(CsvCell("plain"), "\"plain\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  for (const std::string_view v :
       {std::string_view("=1+1"), std::string_view("+44"), std::string_view("-2"),
        std::string_view("@SUM(A1)"), std::string_view("\tx"), std::string_view("\rx"),
        std::string_view("\0x", 2)}) {
    EXPECT_EQ(CsvCell(v), "\"'" + std::string(v) + "\"") << v;
  }
  EXPECT_EQ(CsvCell("a=b"), "\"a=b\"");
}

TEST(ReportCsv, OneRowPerVulnerabilityWithItsSection) {
  std::string csv = RenderReportCsv(Sample());
  EXPECT_EQ(Count(csv, "\r\n"), 3u);
  EXPECT_EQ(Count(csv, "\n"), 3u) << "CRLF only";
  EXPECT_NE(csv.find("\r\npatched,F-1,Other,db-01,CVE-2026-0001,,,,2026-01-05,no,,"
                     "2026-03-16T10:00:00.000Z,\"vuln.patched (event 3, by alice)\",70,50,"
                     "2026-03-30,met,yes,,,\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\r\noutstanding,F-2,Critical,web-01,CVE-2026-1002,CVE-2026-1002,,,"
                     "2026-02-10,no,,,,51,,2026-02-24,breached,,yes,no,\r\n"),
            std::string::npos)
      << csv;
}

TEST(ReportJson, FieldsAreStableAndNullsExplicit) {
  MonthlyReport r = Sample();
  std::string text = RenderReportJson(r);
  EXPECT_EQ(text, RenderReportJson(r)) << "deterministic";
  EXPECT_EQ(text.back(), '\n');
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["clause"], "9.5.5");
  EXPECT_EQ(j["issued"], false);
  EXPECT_TRUE(j["issued_by"].is_null());
  EXPECT_EQ(j["period"]["end"], "2026-03-31T22:59:59.999Z");
  for (const char* cat : {"Critical", "Important", "Other", "all"}) {
    EXPECT_TRUE(j["totals"].contains(cat)) << cat;
  }
  const nlohmann::json& p = j["patched"][0];
  EXPECT_EQ(p["applied_date"], "2026-03-16");
  EXPECT_EQ(p["within_timescale"], true);
  EXPECT_FALSE(p.contains("overdue"));
  const nlohmann::json& o = j["outstanding"][0];
  EXPECT_FALSE(o.contains("applied_at"));
  EXPECT_TRUE(o["elapsed_working_days"].is_null());
  EXPECT_TRUE(o["patch_release_source"].is_null());
  EXPECT_EQ(o["deadline_days"], 14);
  EXPECT_EQ(j["excluded"]["observations"], 0);
}

// The audit log's seal: the checkpoint (a signed note), the key that verifies it and the key's
// rotations, in the JSON (nulls when absent) and printed in the HTML; or why there is none.
TEST(ReportJson, TheAuditLogsCheckpointIsInTheRecordAndPrinted) {
  MonthlyReport r = Sample();
  nlohmann::json without = nlohmann::json::parse(RenderReportJson(r));
  EXPECT_TRUE(without["audit_log"]["checkpoint"].is_null());
  EXPECT_TRUE(without["audit_log"]["verifier_key"].is_null());
  EXPECT_EQ(without["audit_log"]["key_rotations"], nlohmann::json::array());
  EXPECT_EQ(RenderReportHtml(r).value().find("h-audit"), std::string::npos);

  r.audit.note = "The audit log had no signed checkpoint at the issue (no audit record yet).";
  EXPECT_NE(RenderReportHtml(r).value().find(r.audit.note), std::string::npos);

  r.audit.note.clear();
  r.audit.checkpoint = "isms/c/audit\n12\nabc=\n\n\xE2\x80\x94 isms-audit <b>sig</b>\n";
  r.audit.verifier_key = "isms-audit+01020304+AQID";
  r.audit.key_rotations = {
      "isms-audit+aaaaaaaa to isms-audit+01020304 at 2026-03-10T00:00:00.000Z"};
  nlohmann::json j = nlohmann::json::parse(RenderReportJson(r));
  EXPECT_EQ(j["audit_log"]["checkpoint"], r.audit.checkpoint);
  EXPECT_EQ(j["audit_log"]["verifier_key"], r.audit.verifier_key);
  EXPECT_EQ(j["audit_log"]["key_rotations"][0], r.audit.key_rotations[0]);
  EXPECT_TRUE(j["audit_log"]["note"].is_null());
  const std::string html = RenderReportHtml(r).value();
  EXPECT_NE(html.find("<pre class=\"checkpoint\">isms/c/audit\n12\nabc=\n\n"), std::string::npos)
      << html;
  EXPECT_NE(html.find("&lt;b&gt;sig&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("<code>isms-audit+01020304+AQID</code>"), std::string::npos);
  EXPECT_NE(html.find("<li>isms-audit+aaaaaaaa to isms-audit+01020304 at "), std::string::npos);
  EXPECT_NE(html.find("isms audit verify --against FILE"), std::string::npos);
}

TEST(ReportJson, InvalidUtf8DoesNotBreakTheRendering) {
  MonthlyReport r = Sample();
  r.outstanding[0].title = "bad \xff byte";
  nlohmann::json j = nlohmann::json::parse(RenderReportJson(r));
  EXPECT_EQ(j["outstanding"][0]["title"], "bad \xEF\xBF\xBD byte");
}

// The JSON as one nlohmann document tree dumps it: the rows are written without a tree, and an
// issued report's sha256 must not change with the way it is written.
nlohmann::ordered_json TreeOf(const MonthlyReport& r) {
  using nlohmann::ordered_json;
  auto opt_date = [](const std::optional<Date>& d) {
    return d ? ordered_json(FormatDate(*d)) : ordered_json(nullptr);
  };
  auto opt_instant = [](const std::optional<Instant>& t) {
    return t ? ordered_json(FormatInstant(*t)) : ordered_json(nullptr);
  };
  auto opt_int = [](const std::optional<int>& n) {
    return n ? ordered_json(*n) : ordered_json(nullptr);
  };
  auto opt_text = [](const std::string& s) {
    return s.empty() ? ordered_json(nullptr) : ordered_json(s);
  };
  auto row = [&](const ReportRow& v, bool patched) {
    ordered_json j;
    j["finding"] = v.finding;
    j["category"] = v.category;
    j["asset"] = v.asset;
    j["vuln_id"] = v.vuln_id;
    j["cves"] = v.cves;
    j["title"] = v.title;
    j["component"] = v.component;
    j["first_seen"] = FormatInstant(v.first_seen);
    j["patch_released"] = opt_date(v.patch_released);
    j["patch_released_assumed"] = v.patch_released_assumed;
    j["patch_release_source"] = opt_text(v.patch_release_source);
    if (patched) {
      j["applied_at"] = opt_instant(v.applied_at);
      j["applied_date"] = v.applied_at ? ordered_json(FormatDate(LondonDate(*v.applied_at)))
                                       : ordered_json(nullptr);
      j["applied_by"] = v.applied_by;
    }
    j["elapsed_days"] = opt_int(v.elapsed_days);
    j["elapsed_working_days"] = opt_int(v.elapsed_working_days);
    j["due"] = opt_date(v.due);
    j["deadline_days"] = opt_int(v.deadline_days);
    j["clock_state"] = opt_text(v.clock_state);
    if (patched) {
      j["within_timescale"] =
          v.within_timescale ? ordered_json(*v.within_timescale) : ordered_json(nullptr);
    } else {
      j["overdue"] = v.overdue;
      j["at_risk"] = v.at_risk;
    }
    j["exception"] = v.exception;
    return j;
  };
  ordered_json doc = ordered_json::parse(RenderReportJson(r));
  ordered_json patched = ordered_json::array(), outstanding = ordered_json::array(),
               breached = ordered_json::array();
  for (const ReportRow& v : r.patched) patched.push_back(row(v, true));
  for (const ReportRow& v : r.outstanding) outstanding.push_back(row(v, false));
  for (const Obligation& o : r.breached) {
    ordered_json j;
    j["clause"] = o.clause;
    j["key"] = o.key;
    j["title"] = o.title;
    j["subject"] = o.subject;
    j["due"] = opt_date(o.due_date);
    j["due_at"] = opt_instant(o.due_at);
    j["state"] = ObligationStateName(o.state);
    j["consequence"] = ConsequenceName(o.consequence);
    j["consequence_text"] = o.consequence_text;
    breached.push_back(j);
  }
  doc["patched"] = patched;
  doc["outstanding"] = outstanding;
  doc["breached_obligations"] = breached;
  return doc;
}

TEST(ReportJson, TheRowsAreWrittenByteForByteAsOneDocumentTreeDumpsThem) {
  MonthlyReport r = Sample();
  ReportRow odd = Outstanding(3, "2026-03-01", "2026-03-15", false);
  odd.title = std::string("quote \" backslash \\ tab \t newline \n bell \x07 del \x7f nul ") +
              std::string(1, '\0') + " end";
  odd.asset = "caf\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x94\x92";  // two-, three- and four-byte characters
  odd.component = "bad \xC3 \xED\xA0\x80 \xF4\x90\x80\x80 \xC0\xAF tail";  // invalid sequences
  odd.vuln_id = std::string(40, 'x') + "\"" + std::string(9, 'y');  // past the eight-byte steps
  odd.cves = {"CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"};
  odd.exception = "9.3.2 extension (TP-4)";
  odd.at_risk = true;
  odd.first_seen = T("2026-03-02T07:08:09.010Z");
  odd.elapsed_working_days = -3;
  r.outstanding.push_back(odd);
  ReportRow nothing;  // every optional empty
  nothing.finding = "F-9";
  r.outstanding.push_back(nothing);
  ReportRow patched = r.patched[0];
  patched.within_timescale.reset();
  patched.applied_at.reset();
  patched.patch_released =  // a year FormatDate pads
      Date{std::chrono::year(999), std::chrono::month(12), std::chrono::day(31)};
  r.patched.push_back(patched);
  Obligation o;
  o.clause = "9.3";
  o.key = "patch_critical";
  o.title = "Apply the \"Critical\" patch \x01 on web-01";
  o.subject = "F-2";
  o.due_date = D("2026-02-24");
  o.due_at = T("2026-02-24T23:59:59.999Z");
  o.state = ObligationState::kBreached;
  o.consequence = Consequence::kDefault;
  o.consequence_text = "Default (9.7)";
  r.breached.push_back(o);
  o.due_date.reset();
  o.due_at.reset();
  r.breached.push_back(o);

  const std::string text = RenderReportJson(r);
  EXPECT_EQ(text, TreeOf(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                      "\n");
  r.patched.clear();
  r.outstanding.clear();
  r.breached.clear();
  EXPECT_EQ(RenderReportJson(r),
            TreeOf(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                "\n")
      << "empty arrays";
}

TEST(ReportJson, PiecesRenderedOnThreadsComeOutInOrder) {
  MonthlyReport r = Sample();
  for (int n = 3; n < 40; ++n) {
    r.outstanding.push_back(Outstanding(n, "2026-02-10", "2026-02-24", n % 2 == 0));
    Obligation o;
    o.clause = "9.3";
    o.key = "patch_critical";
    o.title = "Apply the patch on web-" + std::to_string(n);
    o.subject = "F-" + std::to_string(n);
    o.state = ObligationState::kBreached;
    r.breached.push_back(o);
  }
  const std::string whole = RenderReportJson(r);
  for (size_t rows : {1, 2, 7, 1000}) {
    for (int threads : {1, 2, 3}) {
      std::string out;
      size_t calls = 0;
      Status s = internal::WriteReportInPieces(ReportFormat::kJson, r, nullptr, rows, threads,
                                               [&](std::string_view b) {
                                                 out.append(b);
                                                 ++calls;
                                                 return Status::Ok();
                                               });
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(out, whole) << rows << " rows a piece, " << threads << " threads";
      if (rows == 1) {
        EXPECT_GT(calls, 70u) << "one piece per row";
      }
    }
  }
  size_t calls = 0;
  Status s = internal::WriteReportInPieces(
      ReportFormat::kJson, r, nullptr, 1, 2,
      [&](std::string_view) { return ++calls == 5 ? Status::IoError("disk full") : Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kIoError) << "the sink's error is returned";
  EXPECT_EQ(calls, 5u) << "and nothing is written after it";
}

TEST(ReportOrder, TheCompactUrgencyKeysOrderAsMoreUrgentDoes) {
  // Obligations that differ in every field MoreUrgent reads, and that agree in most: each pair
  // must compare the same way through the report's keys as through MoreUrgent.
  std::vector<Obligation> all;
  const ObligationState states[] = {ObligationState::kBreached, ObligationState::kOpen,
                                    ObligationState::kMet, ObligationState::kMetLate,
                                    ObligationState::kSuspended, ObligationState::kSuperseded};
  const Consequence consequences[] = {Consequence::kMaterialDefault, Consequence::kDefault,
                                      Consequence::kBreach};
  const char* const clauses[] = {"9.3", "9.6", "9.5.6", "10.1"};
  const char* const keys[] = {"patch_critical", "patch_at_risk_notification",
                              "patch_at_risk_notification_x",
                              "a_key_longer_than_thirty_two_bytes_a", "a_key_longer_than_thirty_two_bytes_b"};
  const char* const subjects[] = {"F-2", "F-12", "F-123456789012345", "F-1234567890123456",
                                  "F-12345678901234567"};
  unsigned n = 0;
  for (ObligationState state : states) {
    for (Consequence consequence : consequences) {
      for (const char* clause : clauses) {
        for (const char* key : keys) {
          for (const char* subject : subjects) {
            ++n;
            Obligation o;
            o.state = state;
            o.consequence = consequence;
            o.clause = clause;
            o.key = key;
            o.subject = subject;
            o.trigger_at = T("2026-03-01T00:00:00Z") + std::chrono::hours(24 * (n % 3));
            o.trigger_event_id = n % 2;
            if (n % 5 != 0) o.due_at = T("2026-03-20T23:59:59.999Z") - std::chrono::hours(n % 4);
            if (n % 7 == 0) o.closed_at = T("2026-03-10T10:00:00Z");
            all.push_back(o);
          }
        }
      }
    }
  }
  size_t disagreements = 0;
  for (const Obligation& a : all) {
    for (const Obligation& b : all) {
      if (internal::UrgencyKeyBefore(a, b) != MoreUrgent(a, b) && ++disagreements <= 3) {
        ADD_FAILURE() << a.clause << " " << a.key << " " << a.subject << " ("
                      << ObligationStateName(a.state) << ") against " << b.clause << " " << b.key
                      << " " << b.subject << " (" << ObligationStateName(b.state) << ")";
      }
    }
  }
  EXPECT_EQ(disagreements, 0u) << "of " << all.size() * all.size() << " pairs";
}

// A report with a row of every kind: patched within, late and without a clock; outstanding
// overdue, at risk, suspended and without a patch; obligations with a due date, a due instant and
// neither; text that HTML, CSV and JSON must escape.
MonthlyReport Varied() {
  MonthlyReport r = Sample();
  const std::string evil = "<b>&\"'=,\r\n\x01 caf\xC3\xA9";
  r.buyer.clear();
  r.supplier = evil;
  r.timescales.push_back(
      {"9.3.2", "extension", "", "extend", "no clock", "varied", "five days", "MSG-" + evil});
  ReportRow late = r.patched[0];
  late.finding = "F-9";
  late.category = "Critical";
  late.asset = evil;
  late.title = evil;
  late.cves = {"CVE-1", "", "CVE-2"};
  late.within_timescale = false;
  late.clock_state = "met late";
  late.elapsed_working_days.reset();
  late.patch_released_assumed = true;
  late.patch_release_source = "assumed";
  late.applied_by = "-" + evil;
  late.exception = "9.3.2";
  r.patched.push_back(late);
  ReportRow none = r.patched[0];
  none.finding = "F-10";
  none.within_timescale.reset();
  none.clock_state.clear();
  none.patch_released.reset();
  none.elapsed_days.reset();
  none.due.reset();
  r.patched.push_back(none);
  for (int n = 20; n < 90; ++n) {
    ReportRow v = Outstanding(n, n % 3 ? "2026-02-10" : "2026-03-20", "2026-03-24", n % 4 == 0);
    v.at_risk = n % 5 == 0;
    v.elapsed_days = 40 - n % 7;
    v.title = n % 2 ? evil : "";
    if (n % 6 == 0) v.clock_state = "suspended", v.exception = "9.3.1";
    if (n % 11 == 0) {
      v.patch_released.reset();
      v.elapsed_days.reset();
      v.deadline_days.reset();
      v.due.reset();
      v.clock_state.clear();
    }
    if (n % 13 == 0) v.category = "Other", v.elapsed_working_days = 12;
    r.outstanding.push_back(v);
  }
  Obligation o;
  o.clause = "9.3";
  o.title = evil;
  o.subject = "F-2";
  o.due_date = D("2026-02-24");
  o.state = ObligationState::kBreached;
  o.consequence = Consequence::kDefault;
  o.consequence_text = "Default (9.7)";
  r.breached.push_back(o);
  o.due_date.reset();
  o.due_at = T("2026-03-03T23:59:59.999Z");
  o.consequence_text.clear();
  o.subject.clear();
  r.breached.push_back(o);
  o.due_at.reset();
  r.breached.push_back(o);
  r.observations = 3;
  r.patched_after_month = 2;
  return r;
}

// The CSV cell by cell, as it was written before it was streamed: the reference for the writer.
std::string CsvCellByCell(const MonthlyReport& r) {
  std::string out =
      "section,finding,category,asset,vuln_id,cves,title,component,patch_released,"
      "patch_released_assumed,patch_release_source,applied_at,applied_by,elapsed_days,"
      "elapsed_working_days,due,clock_state,within_timescale,overdue,at_risk,exception\r\n";
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  auto row = [&](const ReportRow& v, bool patched) {
    std::string cves;
    for (const std::string& c : v.cves) cves += (cves.empty() ? "" : " ") + c;
    auto opt_int = [](const std::optional<int>& n) { return n ? std::to_string(*n) : ""; };
    const std::vector<std::string> cells = {
        patched ? "patched" : "outstanding",
        CsvTextCell(v.finding),
        CsvTextCell(v.category),
        CsvTextCell(v.asset),
        CsvTextCell(v.vuln_id),
        CsvTextCell(cves),
        CsvTextCell(v.title),
        CsvTextCell(v.component),
        v.patch_released ? FormatDate(*v.patch_released) : "",
        yes(v.patch_released_assumed),
        CsvTextCell(v.patch_release_source),
        v.applied_at ? FormatInstant(*v.applied_at) : "",
        CsvTextCell(v.applied_by),
        opt_int(v.elapsed_days),
        opt_int(v.elapsed_working_days),
        v.due ? FormatDate(*v.due) : "",
        CsvTextCell(v.clock_state),
        patched && v.within_timescale ? yes(*v.within_timescale) : "",
        patched ? "" : yes(v.overdue),
        patched ? "" : yes(v.at_risk),
        CsvTextCell(v.exception)};
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += cells[i];
    }
    out += "\r\n";
  };
  for (const ReportRow& v : r.patched) row(v, true);
  for (const ReportRow& v : r.outstanding) row(v, false);
  return out;
}

TEST(ReportCsv, PiecesAreTheCsvWrittenCellByCell) {
  for (const MonthlyReport& r : {Varied(), Sample(), MonthlyReport{}}) {
    const std::string whole = CsvCellByCell(r);
    EXPECT_EQ(RenderReportCsv(r), whole);
    for (size_t rows : {1, 7, 1000}) {
      for (int threads : {1, 2, 3}) {
        std::string out;
        Status s = internal::WriteReportInPieces(ReportFormat::kCsv, r, nullptr, rows, threads,
                                                 [&](std::string_view b) {
                                                   out.append(b);
                                                   return Status::Ok();
                                                 });
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_EQ(out, whole) << rows << " rows a piece, " << threads << " threads";
      }
    }
  }
  EXPECT_NE(RenderReportCsv(Varied()).find("\"'-<b>&\"\"'=,\r\n"), std::string::npos)
      << "a text cell with a leading sign and a comma: marked, then quoted";
}

TEST(ReportHtml, PiecesAreTheTemplateRenderedWhole) {
  // The rows are written by a compiled form of the template's row sections, on threads, in
  // pieces; the template rendered whole by mustache is the reference.
  for (const MonthlyReport& r : {Varied(), Sample(), MonthlyReport{}}) {
    Result<std::string> whole = internal::RenderReportHtmlFromTemplate(r);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    Result<std::string> html = RenderReportHtml(r);
    ASSERT_TRUE(html.ok()) << html.status().ToString();
    EXPECT_EQ(*html, *whole);
    for (size_t rows : {1, 7, 1000}) {
      for (int threads : {1, 2, 3}) {
        std::string out;
        Status s = internal::WriteReportInPieces(ReportFormat::kHtml, r, nullptr, rows, threads,
                                                 [&](std::string_view b) {
                                                   out.append(b);
                                                   return Status::Ok();
                                                 });
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_EQ(out, *whole) << rows << " rows a piece, " << threads << " threads";
      }
    }
  }
  MonthlyReport varied = Varied();
  const std::string html = RenderReportHtml(varied).value();
  EXPECT_EQ(Count(html, "<tr><td>F-"), varied.patched.size() + varied.outstanding.size());
  EXPECT_EQ(html.find('\x01'), html.find("\x01 caf")) << "no marker is left in the document";
}

TEST(ReportHtml, EveryValueIsEscaped) {
  MonthlyReport r = Sample();
  const std::string evil = "<img src=x onerror=alert(1)>&\"'";
  r.contract = evil;
  r.buyer = evil;
  r.supplier = evil;
  r.patched[0].asset = evil;
  r.patched[0].applied_by = evil;
  r.outstanding[0].title = evil;
  r.outstanding[0].vuln_id = evil;
  r.outstanding[0].exception = evil;
  r.timescales[0].reference = evil;
  Obligation o;
  o.clause = "3.1";
  o.title = evil;
  o.subject = evil;
  o.consequence_text = evil;
  o.state = ObligationState::kBreached;
  r.breached.push_back(o);
  r.caveats.push_back(evil);
  Result<std::string> html = RenderReportHtml(r);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_EQ(html->find("<img"), std::string::npos);
  EXPECT_EQ(html->find("onerror=alert(1)>"), std::string::npos);
  EXPECT_GE(Count(*html, "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&apos;"), 10u);
}

TEST(ReportHtml, StandaloneAndPrintable) {
  Result<std::string> html = RenderReportHtml(Sample());
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->rfind("<!DOCTYPE html>\n<html lang=\"en-GB\">", 0), 0u);
  EXPECT_NE(html->find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html->find("@media print"), std::string::npos);
  EXPECT_EQ(html->find("<link"), std::string::npos);
  EXPECT_EQ(html->find("<script"), std::string::npos);
  EXPECT_NE(html->find("<h1>Monthly vulnerability report: March 2026</h1>"), std::string::npos);
  EXPECT_NE(html->find("PREVIEW"), std::string::npos);
  MonthlyReport issued = Sample();
  issued.issued = true;
  issued.issued_by = "alice";
  Result<std::string> frozen = RenderReportHtml(issued);
  EXPECT_EQ(frozen->find("PREVIEW"), std::string::npos);
  EXPECT_NE(frozen->find(", by alice"), std::string::npos);
}

TEST(ReportHtml, TheChartDrawsAgeAgainstTheDeadline) {
  MonthlyReport r = Sample();
  ReportRow nofix = Outstanding(3, "2026-03-01", "2026-03-15", false);
  nofix.patch_released.reset();
  nofix.elapsed_days.reset();
  nofix.deadline_days.reset();
  nofix.due.reset();
  r.outstanding.push_back(nofix);
  r.outstanding.push_back(Outstanding(4, "2026-03-30", "2026-04-13", false));
  Result<std::string> html = RenderReportHtml(r);
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(Count(*html, "<svg"), 1u);
  EXPECT_NE(html->find("aria-labelledby=\"chart-title chart-desc\""), std::string::npos);
  EXPECT_EQ(Count(*html, "<rect class=\"bar bad\" x=\"300.0\""), 1u) << "F-2, overdue";
  EXPECT_EQ(Count(*html, "<rect class=\"bar ok\" x=\"300.0\""), 1u) << "F-4, within";
  EXPECT_EQ(Count(*html, "<line class=\"deadline\""), 3u) << "two bars and the legend";
  EXPECT_NE(html->find("1 outstanding without a released patch"), std::string::npos);
  // F-2: 51 days against 14, on a scale of 56 days (weekly ticks) over 520 px.
  EXPECT_NE(html->find("width=\"473.6\""), std::string::npos) << *html;
  EXPECT_NE(html->find("<line class=\"deadline\" x1=\"430.0\""), std::string::npos);
  EXPECT_NE(html->find(">51 d / 14 d<"), std::string::npos);

  MonthlyReport none = Sample();
  none.outstanding.clear();
  Result<std::string> empty = RenderReportHtml(none);
  EXPECT_EQ(empty->find("<svg"), std::string::npos);
  EXPECT_NE(empty->find("No vulnerability was outstanding at the issue."), std::string::npos);
}

TEST(ReportHtml, TheChartShowsAtMostSixtyBars) {
  MonthlyReport r = Sample();
  r.outstanding.clear();
  for (int i = 0; i < 75; ++i)
    r.outstanding.push_back(Outstanding(i, "2026-02-10", "2026-02-24", true));
  Result<std::string> html = RenderReportHtml(r);
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(Count(*html, "<rect class=\"bar bad\" x=\"300.0\""), 60u);
  EXPECT_NE(html->find("75 outstanding vulnerabilities with a released patch"), std::string::npos);
  EXPECT_NE(html->find("The 60 furthest past"), std::string::npos);
}

}  // namespace
}  // namespace isms::app
