// The monthly vulnerability report (9.5.5) through the command line, on SQLite and PostgreSQL:
// the fixture tests/fixtures/reports/march.nessus (one host, five vulnerabilities and one
// observation, scanned 2026-03-02) and assumed-release.trivy.json (a fix without a release date).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/report.h"
#include "cli/cli_test_util.h"
#include "isms_test_paths.h"

namespace isms::cli::testing {
namespace {

using nlohmann::json;

std::string Fixture(const std::string& name) {
  return std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/reports/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

const json* Row(const json& rows, const std::string& finding) {
  for (const json& r : rows) {
    if (r["finding"] == finding) return &r;
  }
  return nullptr;
}

class ReportCli : public CliTest {
 protected:
  // March 2026: F-2 (Critical) patched within 14 days, F-3 (Important) late, F-4 (Other) within
  // 60 Working Days; F-5 (Critical) overdue, F-6 (Important, hostile title) within, F-7
  // (Important, assumed release) overdue; F-1 an observation.
  void March() {
    Ok({"contract", "create", "c", "--start", "2026-01-05", "--buyer", "Home Office", "--supplier",
        "Acme & Sons <Ltd>"});
    SetNow("2026-03-03T12:00:00Z");
    Ok({"import", "scan", Fixture("march.nessus"), Fixture("assumed-release.trivy.json"),
        "--contract", "c", "--quiet"});
    SetNow("2026-03-20T12:00:00Z");
    Ok({"vuln", "patched", "F-2", "--at", "2026-03-05T10:00:00Z"});
    Ok({"vuln", "patched", "F-3", "--at", "2026-03-10"});
    Ok({"vuln", "patched", "F-4", "--at", "2026-03-16"});
    SetNow("2026-04-03T09:00:00Z");
  }

  json Report(const std::string& issued_at) {
    return Json({"report", "monthly", "--contract", "c", "--month", "2026-03", "--issued-at",
                 issued_at, "--format", "json"});
  }
};

TEST_P(ReportCli, JsonListsPatchedAndOutstandingWithTotals) {
  March();
  json r = Report("2026-04-02");
  EXPECT_EQ(r["month"], "2026-03");
  EXPECT_EQ(r["contract"], "c");
  EXPECT_EQ(r["buyer"], "Home Office");
  EXPECT_EQ(r["period"]["first_day"], "2026-03-01");
  EXPECT_EQ(r["period"]["last_day"], "2026-03-31");
  EXPECT_EQ(r["report_due"], "2026-04-09") << "5 Working Days: Good Friday, Easter Monday skipped";
  EXPECT_EQ(r["issued_at"], "2026-04-02T22:59:59.999Z") << "a date: the end of that London day";
  EXPECT_EQ(r["issued"], false);
  EXPECT_EQ(r["totals"]["Critical"], json({{"patched_within", 1},
                                           {"patched_late", 0},
                                           {"outstanding_within", 0},
                                           {"outstanding_overdue", 1}}));
  EXPECT_EQ(r["totals"]["Important"]["patched_late"], 1);
  EXPECT_EQ(r["totals"]["Important"]["outstanding_within"], 1);
  EXPECT_EQ(r["totals"]["Important"]["outstanding_overdue"], 1);
  EXPECT_EQ(r["totals"]["Other"]["patched_within"], 1);
  EXPECT_EQ(r["totals"]["all"]["patched_within"], 2);
  ASSERT_EQ(r["patched"].size(), 3u);
  ASSERT_EQ(r["outstanding"].size(), 3u);
  EXPECT_EQ(r["excluded"]["observations"], 1);

  const json* f2 = Row(r["patched"], "F-2");
  ASSERT_NE(f2, nullptr);
  EXPECT_EQ((*f2)["patch_released"], "2026-02-25");
  EXPECT_EQ((*f2)["applied_at"], "2026-03-05T10:00:00.000Z");
  EXPECT_EQ((*f2)["elapsed_days"], 8);
  EXPECT_EQ((*f2)["within_timescale"], true);
  EXPECT_TRUE((*f2)["elapsed_working_days"].is_null()) << "Working Days for 'Other' only";
  const json* f3 = Row(r["patched"], "F-3");
  EXPECT_EQ((*f3)["elapsed_days"], 37);
  EXPECT_EQ((*f3)["due"], "2026-03-03");
  EXPECT_EQ((*f3)["within_timescale"], false);
  const json* f4 = Row(r["patched"], "F-4");
  EXPECT_EQ((*f4)["category"], "Other");
  EXPECT_EQ((*f4)["elapsed_days"], 70);
  EXPECT_EQ((*f4)["elapsed_working_days"], 50);
  EXPECT_EQ((*f4)["within_timescale"], true);

  const json* f5 = Row(r["outstanding"], "F-5");
  ASSERT_NE(f5, nullptr);
  EXPECT_EQ((*f5)["elapsed_days"], 51) << "2026-02-10 to the issue date 2026-04-02";
  EXPECT_EQ((*f5)["overdue"], true);
  EXPECT_EQ((*f5)["due"], "2026-02-24");
  const json* f7 = Row(r["outstanding"], "F-7");
  EXPECT_EQ((*f7)["patch_released_assumed"], true);
  EXPECT_EQ((*f7)["patch_release_source"], "assumed");
  EXPECT_EQ((*f7)["patch_released"], "2026-02-27");
  EXPECT_EQ(Row(r["outstanding"], "F-6")->at("overdue"), false);

  ASSERT_GE(r["timescales"].size(), 3u);
  EXPECT_EQ(r["timescales"][0]["key"], "patch_critical");
  EXPECT_EQ(r["timescales"][0]["timescale"], "14 days");
  EXPECT_EQ(r["timescales"][0]["source"], "contract");
  EXPECT_EQ(r["timescales"][2]["timescale"], "60 Working Days");
  EXPECT_NE(r["caveats"][0].get<std::string>().find("assumed"), std::string::npos);

  bool f5_breach = false, isms_breach = false;
  for (const json& o : r["breached_obligations"]) {
    if (o["clause"] == "9.3" && o["subject"] == "F-5") {
      EXPECT_FALSE(f5_breach) << "each obligation once";
      f5_breach = true;
      EXPECT_EQ(o["consequence"], "Default");
    }
    if (o["clause"] == "3.1") isms_breach = true;
    EXPECT_EQ(o["state"], "breached");
  }
  EXPECT_TRUE(f5_breach);
  EXPECT_TRUE(isms_breach) << "every clause, not only paragraph 9";
}

TEST_P(ReportCli, TheReportIsEvaluatedAsOfItsIssueTime) {
  March();
  SetNow("2026-04-12T09:00:00Z");
  Ok({"import", "scan", Fixture("late-host.nessus"), "--contract", "c", "--quiet"});
  Ok({"vuln", "patched", "F-5", "--at", "2026-04-05"});

  json early = Report("2026-04-02");
  EXPECT_NE(Row(early["outstanding"], "F-5"), nullptr) << "patched after the issue: outstanding";
  EXPECT_EQ(Row(early["outstanding"], "F-8"), nullptr) << "first seen after the issue";
  EXPECT_EQ(early["outstanding"].size(), 3u);
  EXPECT_EQ(early["totals"]["Critical"]["outstanding_overdue"], 1);

  json late = Report("2026-04-11T00:00:00Z");
  EXPECT_EQ(Row(late["outstanding"], "F-5"), nullptr);
  EXPECT_EQ(Row(late["patched"], "F-5"), nullptr) << "patched in April: April's report";
  EXPECT_EQ(late["excluded"]["patched_after_month"], 1);
  ASSERT_NE(Row(late["outstanding"], "F-8"), nullptr);
  EXPECT_EQ(Row(late["outstanding"], "F-8")->at("overdue"), true);
}

TEST_P(ReportCli, CsvQuotesCellsAndDefusesFormulas) {
  March();
  std::string csv = Ok({"report", "monthly", "--contract", "c", "--month", "2026-03", "--issued-at",
                        "2026-04-02", "--format", "csv"});
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "section,finding,category,asset,vuln_id,cves,title,component,patch_released,"
            "patch_released_assumed,patch_release_source,applied_at,applied_by,elapsed_days,"
            "elapsed_working_days,due,clock_state,within_timescale,overdue,at_risk,exception");
  size_t lines = 0;
  for (size_t p = 0; (p = csv.find("\r\n", p)) != std::string::npos; p += 2) ++lines;
  EXPECT_EQ(lines, 7u) << "a header and six vulnerabilities, CRLF-terminated";
  EXPECT_NE(csv.find(",\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\") "
                     "<script>alert(1)</script>\","),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("patched,F-4,Other,app01.example,CVE-2026-1003,CVE-2026-1003,"
                     "Example SSH Banner Leak,,2026-01-05,no,nessus,2026-03-16T00:00:00.000Z,"
                     "\"vuln.patched (event 3, by "),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",70,50,2026-03-30,met,yes,,,\r\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("outstanding,F-5,Critical,"), std::string::npos);
  EXPECT_NE(csv.find(",51,,2026-02-24,breached,,yes,no,\r\n"), std::string::npos) << csv;
}

TEST_P(ReportCli, HtmlIsAPrintableDocumentWithAnEscapedChart) {
  March();
  std::string file = dir_ + "/march.html";
  std::string out = Ok({"report", "monthly", "--contract", "c", "--month", "2026-03", "--issued-at",
                        "2026-04-02", "-o", file});
  EXPECT_EQ(out, "");
  std::string html = ReadFile(file);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_NE(html.find("PREVIEW"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("role=\"img\""), std::string::npos);
  EXPECT_NE(html.find("<title id=\"chart-title\">"), std::string::npos);
  EXPECT_NE(html.find("<desc id=\"chart-desc\">3 outstanding"), std::string::npos);
  EXPECT_NE(html.find("class=\"deadline\""), std::string::npos);
  EXPECT_NE(html.find("Acme &amp; Sons &lt;Ltd&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "no script at all, escaped or ours";
  EXPECT_NE(html.find("2026-02-27 (assumed)"), std::string::npos);
  EXPECT_NE(html.find("breach of 3.1"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"))
      << "nothing fetched from elsewhere";
}

TEST_P(ReportCli, IssuingFreezesTheReportAndMeets955) {
  March();
  CliRun issue = Isms({"report", "issue", "--contract", "c", "--month", "2026-03"});
  ASSERT_EQ(issue.code, 0) << issue.err;
  const size_t at = issue.out.find("sha256 ");
  ASSERT_NE(at, std::string::npos) << issue.out;
  const std::string sha = issue.out.substr(at + 7, 64);
  EXPECT_NE(issue.out.find("isms report show --contract c --month 2026-03 --issued-at "
                           "2026-04-03T09:00:00.000Z"),
            std::string::npos)
      << issue.out;

  json events = Json({"event", "list", "--contract", "c", "--json"});
  const json& last = events.back();
  EXPECT_EQ(last["type"], "report.submitted");
  EXPECT_EQ(last["at"], "2026-04-03T09:00:00.000Z");
  EXPECT_EQ(last["attrs"]["month"], "2026-03");
  EXPECT_EQ(last["attrs"]["sha256"], sha);

  json status = Json({"status", "--contract", "c", "--json"});
  bool met = false;
  for (const json& o : status) {
    if (o["key"] == "monthly_vulnerability_report" && o["subject"] == "2026-03") {
      met = o["state"] == "met";
    }
  }
  EXPECT_TRUE(met) << status.dump(2);

  SetNow("2026-05-20T09:00:00Z");
  Ok({"vuln", "patched", "F-5", "--at", "2026-04-01"});
  std::string frozen =
      Ok({"report", "show", "--contract", "c", "--month", "2026-03", "--format", "json"});
  EXPECT_EQ(app::Sha256Hex(frozen), sha);
  json j = json::parse(frozen);
  EXPECT_EQ(j["issued"], true);
  EXPECT_FALSE(j["issued_by"].get<std::string>().empty());
  EXPECT_NE(Row(j["outstanding"], "F-5"), nullptr) << "frozen: later facts do not change it";
  std::string file = dir_ + "/frozen.json";
  Ok({"report", "show", "--contract", "c", "--month", "2026-03", "--format", "json", "-o", file});
  EXPECT_EQ(ReadFile(file), frozen);
  std::string html = Ok({"report", "show", "--contract", "c", "--month", "2026-03"});
  EXPECT_EQ(html.find("PREVIEW"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(Ok({"report", "show", "--contract", "c", "--month", "2026-03", "--issued-at",
                "2026-04-03T09:00:00Z"}),
            html);
}

TEST_P(ReportCli, AReissueIsANewEventAndShowGivesTheLatest) {
  March();
  Ok({"report", "issue", "--contract", "c", "--month", "2026-03", "--issued-at", "2026-04-02"});
  std::string first =
      Ok({"report", "show", "--contract", "c", "--month", "2026-03", "--format", "json"});
  SetNow("2026-04-20T09:00:00Z");
  Ok({"vuln", "patched", "F-6", "--at", "2026-04-15"});
  Ok({"report", "issue", "--contract", "c", "--month", "2026-03"});
  std::string second =
      Ok({"report", "show", "--contract", "c", "--month", "2026-03", "--format", "json"});
  EXPECT_NE(first, second);
  EXPECT_EQ(json::parse(second)["issued_at"], "2026-04-20T09:00:00.000Z");
  EXPECT_EQ(Ok({"report", "show", "--contract", "c", "--month", "2026-03", "--format", "json",
                "--issued-at", "2026-04-02"}),
            first);
  int submitted = 0;
  for (const json& e : Json({"event", "list", "--contract", "c", "--json"})) {
    if (e["type"] == "report.submitted") ++submitted;
  }
  EXPECT_EQ(submitted, 2);
  json status = Json({"status", "--contract", "c", "--json"});
  for (const json& o : status) {
    if (o["key"] == "monthly_vulnerability_report" && o["subject"] == "2026-03") {
      EXPECT_EQ(o["state"], "met") << "the first delivery, on time, meets it";
    }
  }
}

TEST_P(ReportCli, AMonthThatHasNotEndedCannotBeIssued) {
  March();
  SetNow("2026-03-31T21:00:00Z");
  CliRun r = Isms({"report", "issue", "--contract", "c", "--month", "2026-03"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("2026-03 has not ended at 2026-03-31T21:00:00.000Z"), std::string::npos)
      << r.err;
  SetNow("2026-04-03T09:00:00Z");
  r = Isms(
      {"report", "issue", "--contract", "c", "--month", "2026-03", "--issued-at", "2026-03-31"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("has not ended"), std::string::npos) << r.err;
  CliRun show = Isms({"report", "show", "--contract", "c", "--month", "2026-03"});
  EXPECT_EQ(show.code, 1);
  EXPECT_NE(show.err.find("no report of 2026-03 was issued"), std::string::npos) << show.err;
  for (const json& e : Json({"event", "list", "--contract", "c", "--json"})) {
    EXPECT_NE(e["type"], "report.submitted");
  }
  EXPECT_EQ(Isms({"report", "monthly", "--contract", "c", "--month", "2026-03", "--issued-at",
                  "2026-03-31T21:00:00Z", "--format", "json"})
                .code,
            0)
      << "a preview of a Month under way is allowed";
}

TEST_P(ReportCli, BadArgumentsAreRefused) {
  March();
  CliRun month = Isms({"report", "monthly", "--contract", "c", "--month", "2026-3"});
  EXPECT_EQ(month.code, 1);
  EXPECT_NE(month.err.find("YYYY-MM"), std::string::npos) << month.err;
  CliRun format =
      Isms({"report", "monthly", "--contract", "c", "--month", "2026-03", "--format", "pdf"});
  EXPECT_EQ(format.code, 1);
  EXPECT_NE(format.err.find("html, csv or json"), std::string::npos) << format.err;
  CliRun csv = Isms({"report", "show", "--contract", "c", "--month", "2026-03", "--format", "csv"});
  EXPECT_EQ(csv.code, 1);
  CliRun future = Isms(
      {"report", "monthly", "--contract", "c", "--month", "2026-03", "--issued-at", "2026-05-01"});
  EXPECT_EQ(future.code, 1);
  EXPECT_NE(future.err.find("in the future"), std::string::npos) << future.err;
  CliRun before = Isms({"report", "monthly", "--contract", "c", "--month", "2025-12"});
  EXPECT_EQ(before.code, 1);
  EXPECT_NE(before.err.find("starts on 2026-01-05"), std::string::npos) << before.err;
}

// A report that is refused writes nothing: an existing output file keeps what it held, in
// every format.
TEST_P(ReportCli, ARefusedReportLeavesTheOutputFileAsItWas) {
  March();
  const std::string file = dir_ + "/kept.out";
  for (const char* format : {"html", "csv", "json"}) {
    SCOPED_TRACE(format);
    {
      std::ofstream f(file, std::ios::binary | std::ios::trunc);
      f << "the earlier report";
    }
    CliRun unknown = Isms({"report", "monthly", "--contract", "nobody", "--month", "2026-03",
                           "--format", format, "-o", file});
    EXPECT_EQ(unknown.code, 1);
    CliRun early = Isms({"report", "monthly", "--contract", "c", "--month", "2025-12",
                         "--format", format, "-o", file});
    EXPECT_EQ(early.code, 1);
    EXPECT_EQ(ReadFile(file), "the earlier report");
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, ReportCli, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
