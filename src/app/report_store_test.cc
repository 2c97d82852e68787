// The monthly report from a store, on every engine (PostgreSQL when ISMS_TEST_POSTGRES_URL is
// set): each rendering streamed from compact rows (Reports::Write, what `report monthly` writes,
// and what `report issue` freezes) is byte for byte the rendering of the report built whole
// (Reports::Build; the HTML as the mustache template renders it whole, as it was before it was
// streamed), over findings of every kind, exceptions, patches and remediations.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/audit.h"
#include "app/report.h"
#include "app/report_internal.h"
#include "app/vulns.h"
#include "isms_test_paths.h"
#include "store/store_test_util.h"

namespace isms::app {
namespace {

Instant T(const char* s) {
  return ParseInstant(s).value();
}

std::string Fixture(const std::string& path) {
  return std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/" + path;
}

class ReportStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_.SetUp(GetParam());
    if (store_.skip) GTEST_SKIP() << store_.why;
    const std::string url = store_.url;
    auto ledger = Ledger::Open(url, clock_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
  }
  void TearDown() override {
    ledger_.reset();
    store_.TearDown();
  }

  void Import(const std::string& fixture, const char* scanned_at) {
    Vulnerabilities v(*ledger_);
    ImportScanRequest r;
    r.contract = "c";
    r.path = Fixture(fixture);
    r.scanned_at = T(scanned_at);
    auto result = v.ImportScan(r, actor_);
    ASSERT_TRUE(result.ok()) << fixture << ": " << result.status().ToString();
  }
  // Records `type` about finding `id`; refusals (an extension of an 'Other' finding, say) are
  // part of the history too, and are counted.
  void Record(const std::string& id, const std::string& type, const char* at,
              std::vector<std::pair<std::string, std::string>> attrs = {}) {
    Vulnerabilities v(*ledger_);
    NewEvent e;
    e.type = type;
    e.at = T(at);
    e.attrs = std::move(attrs);
    ++(v.RecordFindingEvent(id, e, actor_).ok() ? recorded_ : refused_);
  }
  int recorded_ = 0, refused_ = 0;

  store::testing::TestStore store_;
  FixedClock clock_{T("2026-03-02T12:00:00Z")};
  std::unique_ptr<Ledger> ledger_;
  const Actor actor_{"alice", false};
};

TEST_P(ReportStoreTest, EveryStreamedRenderingIsByteForByteThatOfTheWholeReport) {
  NewContract c;
  c.name = "c";
  c.start = ParseDate("2026-01-05").value();
  c.buyer = "Home Office";
  c.supplier = "Acme & Sons <Ltd>";
  ASSERT_TRUE(ledger_->CreateContract(c, actor_).ok());
  Import("reports/march.nessus", "2026-03-02T10:00:00Z");
  Import("reports/assumed-release.trivy.json", "2026-03-02T10:00:00Z");
  Import("vulns/web-week1.nessus", "2026-03-03T10:00:00Z");
  Import("vulns/web-week3-fixed.nessus", "2026-03-17T10:00:00Z");
  Import("vulns/shop-trivy.json", "2026-03-03T10:00:00Z");
  Import("vulns/shop-cyclonedx-vex.json", "2026-03-04T10:00:00Z");
  Import("vulns/app-codeql.sarif", "2026-03-04T10:00:00Z");
  Import("vulns/web-openvas.xml", "2026-03-05T10:00:00Z");
  Import("vulns/k8s-two-images.json", "2026-03-05T10:00:00Z");
  clock_.Set(T("2026-03-20T12:00:00Z"));
  Record("F-2", "vuln.patched", "2026-03-05T10:00:00Z");
  Record("F-3", "vuln.patched", "2026-03-10T00:00:00Z");
  Record("F-4", "vuln.patched", "2026-03-16T00:00:00Z");
  Record("F-5", "vuln.not_exploitable", "2026-03-06T00:00:00Z", {{"reason", "segmented"}});
  Record("F-5", "vuln.exploitable", "2026-03-12T00:00:00Z");
  Record("F-6", "vuln.extended", "2026-03-06T00:00:00Z", {{"test_plan", "TP-4"}});
  Record("F-7", "vuln.agreed", "2026-03-07T00:00:00Z", {{"days", "40"}, {"evidence", "MSG-1"}});
  Record("F-8", "vuln.released", "2026-03-07T00:00:00Z", {{"date", "2026-02-20"}});
  Record("F-9", "vuln.exploited", "2026-03-08T00:00:00Z");
  Record("F-10", "vuln.at_risk", "2026-03-09T00:00:00Z");
  Record("F-11", "vuln.not_exploitable", "2026-03-10T00:00:00Z", {{"reason", "unreachable"}});
  clock_.Set(T("2026-05-20T12:00:00Z"));
  Record("F-12", "vuln.patched", "2026-04-10T00:00:00Z");
  EXPECT_GE(recorded_, 9) << refused_ << " refused";

  Reports reports(*ledger_);
  int compared = 0;
  for (const auto& [month, at] :
       std::vector<std::pair<std::string, const char*>>{{"2026-02", "2026-03-05T00:00:00Z"},
                                                        {"2026-03", "2026-04-02T09:00:00Z"},
                                                        {"2026-03", "2026-04-20T09:00:00Z"},
                                                        {"2026-04", "2026-05-03T09:00:00Z"},
                                                        {"2026-05", "2026-05-20T12:00:00Z"}}) {
    ReportRequest r{"c", month, T(at)};
    Result<MonthlyReport> whole = reports.Build(r);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    Result<std::string> html = internal::RenderReportHtmlFromTemplate(*whole);
    ASSERT_TRUE(html.ok()) << html.status().ToString();
    for (auto [format, expected] : {std::pair(ReportFormat::kJson, RenderReportJson(*whole)),
                                    std::pair(ReportFormat::kCsv, RenderReportCsv(*whole)),
                                    std::pair(ReportFormat::kHtml, *html)}) {
      std::string streamed;
      size_t pieces = 0;
      Status s = reports.Write(r, format, [&](std::string_view bytes) {
        streamed.append(bytes);
        ++pieces;
        return Status::Ok();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(streamed, expected)
          << month << " as of " << at << ", format " << static_cast<int>(format);
      EXPECT_GT(pieces, 1u);
    }
    if (!whole->patched.empty() && !whole->outstanding.empty()) ++compared;
    EXPECT_FALSE(whole->breached.empty()) << month;
  }
  EXPECT_GE(compared, 2) << "reports with both patched and outstanding rows";

  Status refused = reports.Write({"c", "2026-13", std::nullopt}, ReportFormat::kHtml,
                                 [](std::string_view) { return Status::Ok(); });
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << "refused as Build refuses it";

  // Issuing renders from compact rows too: the frozen JSON and HTML are those of the report
  // built whole, marked issued.
  const ReportRequest march{"c", "2026-03", T("2026-04-20T10:00:00Z")};
  Result<MonthlyReport> whole = reports.Build(march);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  whole->issued = true;
  whole->issued_by = actor_.name;
  Result<IssuedReport> issued = reports.Issue(march, actor_);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->json, RenderReportJson(*whole));
  EXPECT_EQ(issued->html, internal::RenderReportHtmlFromTemplate(*whole).value());
  EXPECT_EQ(issued->sha256, Sha256Hex(issued->json));
  Result<IssuedReport> shown = reports.Show("c", "2026-03", march.issued_at);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->html, issued->html);
  EXPECT_EQ(shown->json, issued->json);
}

// `report issue` stores the HTML and JSON compressed, `report show` gives them back byte for
// byte; a report stored before as text still shows; a changed stored report is refused, even
// with the sha256 beside it changed too.
// Annex 1 8.1: the audit log's latest signed checkpoint leaves the host in each monthly report,
// with the key that verifies it; a report as of a time before any checkpoint says there was none,
// and one as of an earlier time prints the checkpoint of then.
TEST_P(ReportStoreTest, AReportPrintsTheAuditLogsLatestCheckpointAsOfItsIssue) {
  auto audit = AuditService::Open(store_.url, store_.dir + "/keys", clock_);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  NewContract c;
  c.name = "c";
  c.start = ParseDate("2026-01-05").value();
  ASSERT_TRUE((*audit)->ledger().CreateContract(c, actor_).ok());
  const auto append = [&](const char* at, const std::string& message) {
    clock_.Set(T(at));
    AuditRecord r;
    r.time = T(at);
    r.host = "web-01";
    r.message = message;
    ASSERT_TRUE((*audit)->AppendRecords("c", {r}).ok());
  };
  Reports reports((*audit)->ledger(), audit->get());
  clock_.Set(T("2026-03-05T09:00:00Z"));
  Result<MonthlyReport> none = reports.Build({"c", "2026-03", std::nullopt});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->audit.checkpoint.empty());
  EXPECT_NE(none->audit.note.find("no signed checkpoint"), std::string::npos);

  append("2026-03-10T09:00:00Z", "first");
  Result<std::string> march = (*audit)->LatestCheckpoint("c");
  ASSERT_TRUE(march.ok());
  append("2026-04-01T09:00:00Z", "second");
  Result<std::string> april = (*audit)->LatestCheckpoint("c");
  ASSERT_TRUE(april.ok());
  ASSERT_NE(*march, *april);

  clock_.Set(T("2026-04-02T09:00:00Z"));
  Result<IssuedReport> issued = reports.Issue({"c", "2026-03", std::nullopt}, actor_);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const nlohmann::json j = nlohmann::json::parse(issued->json);
  EXPECT_EQ(j["audit_log"]["checkpoint"], *april);
  Result<audit::NoteVerifier> key = (*audit)->Verifier();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(j["audit_log"]["verifier_key"], key->Encode());
  EXPECT_EQ(j["audit_log"]["key_rotations"], nlohmann::json::array());
  EXPECT_NE(issued->html.find("Audit log: the latest signed checkpoint"), std::string::npos);
  EXPECT_NE(issued->html.find(april->substr(0, april->find('\n'))), std::string::npos);

  // As of a time between the two: the first.
  Result<MonthlyReport> then = reports.Build({"c", "2026-03", T("2026-03-20T00:00:00Z")});
  ASSERT_TRUE(then.ok()) << then.status().ToString();
  EXPECT_EQ(then->audit.checkpoint, *march);
}

TEST_P(ReportStoreTest, AnIssuedReportIsStoredCompressedAndShownAsIssued) {
  NewContract c;
  c.name = "c";
  c.start = ParseDate("2026-01-05").value();
  c.buyer = "Home Office";
  ASSERT_TRUE(ledger_->CreateContract(c, actor_).ok());
  Import("reports/march.nessus", "2026-03-02T10:00:00Z");
  Import("vulns/shop-trivy.json", "2026-03-03T10:00:00Z");
  clock_.Set(T("2026-04-02T09:00:00Z"));
  Reports reports(*ledger_);
  Result<IssuedReport> issued = reports.Issue({"c", "2026-03", std::nullopt}, actor_);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  ASSERT_GT(issued->json.size(), 1000u);
  Result<IssuedReport> shown = reports.Show("c", "2026-03", std::nullopt);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->html, issued->html);
  EXPECT_EQ(shown->json, issued->json);
  EXPECT_EQ(shown->sha256, Sha256Hex(issued->json));

  store::Connection& conn = ledger_->connection();
  auto sizes = conn.Prepare("SELECT length(html), length(json), length(html_zstd), "
                            "length(json_zstd) FROM reports");
  ASSERT_TRUE(sizes.ok() && *(*sizes)->Step());
  EXPECT_EQ((*sizes)->ColumnInt(0), 0) << "the text columns are left empty";
  EXPECT_EQ((*sizes)->ColumnInt(1), 0);
  EXPECT_LT((*sizes)->ColumnInt(2) * 3, static_cast<std::int64_t>(issued->html.size()));
  EXPECT_LT((*sizes)->ColumnInt(3) * 3, static_cast<std::int64_t>(issued->json.size()));
  sizes->reset();

  // A report issued before migration 15: its text in the text columns.
  auto old = conn.Prepare("UPDATE reports SET html = $1, json = $2, html_zstd = NULL, "
                          "json_zstd = NULL");
  ASSERT_TRUE(old.ok());
  (*old)->BindText(1, issued->html);
  (*old)->BindText(2, issued->json);
  ASSERT_TRUE((*old)->Run().ok());
  old->reset();
  shown = reports.Show("c", "2026-03", std::nullopt);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->html, issued->html);
  EXPECT_EQ(shown->json, issued->json);

  // Changed together with the sha256 beside it: the hashes its report.submitted event recorded
  // (in the ledger's Merkle log) find it out, the JSON's as the HTML's.
  const std::string forged = std::string(issued->json).replace(10, 1, " ");
  auto both = conn.Prepare("UPDATE reports SET json = $1, sha256 = $2");
  ASSERT_TRUE(both.ok());
  (*both)->BindText(1, forged);
  (*both)->BindText(2, Sha256Hex(forged));
  ASSERT_TRUE((*both)->Run().ok());
  both->reset();
  Result<IssuedReport> refused = reports.Show("c", "2026-03", std::nullopt);
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);
  EXPECT_NE(refused.status().message().find("its JSON no longer matches the sha256 that its "
                                            "report.submitted event"),
            std::string::npos)
      << refused.status().message();
  auto html = conn.Prepare("UPDATE reports SET json = $1, sha256 = $2, html = $3");
  ASSERT_TRUE(html.ok());
  (*html)->BindText(1, issued->json);
  (*html)->BindText(2, issued->sha256);
  (*html)->BindText(3, std::string(issued->html).replace(20, 1, " "));
  ASSERT_TRUE((*html)->Run().ok());
  html->reset();
  refused = reports.Show("c", "2026-03", std::nullopt);
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);
  EXPECT_NE(refused.status().message().find("its HTML no longer matches"), std::string::npos)
      << refused.status().message();

  // Changed where it is kept: refused, compressed or not.
  auto changed = conn.Prepare("UPDATE reports SET json = $1");
  ASSERT_TRUE(changed.ok());
  (*changed)->BindText(1, std::string(issued->json).replace(10, 1, " "));
  ASSERT_TRUE((*changed)->Run().ok());
  changed->reset();
  EXPECT_EQ(reports.Show("c", "2026-03", std::nullopt).status().code(), StatusCode::kCorruption);
  auto damaged = conn.Prepare("UPDATE reports SET json = '', json_zstd = $1");
  ASSERT_TRUE(damaged.ok());
  (*damaged)->BindBlob(1, "not a zstd frame");
  ASSERT_TRUE((*damaged)->Run().ok());
  damaged->reset();
  Result<IssuedReport> bad = reports.Show("c", "2026-03", std::nullopt);
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("JSON"), std::string::npos) << bad.status().message();
}

INSTANTIATE_TEST_SUITE_P(Engines, ReportStoreTest, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::app
