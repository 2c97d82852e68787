// The API's monthly reports (api_reports.cc) on SQLite and PostgreSQL: previews in three forms,
// issuing (frozen, recorded as report.submitted), the issued reports and their bytes.
#include <gtest/gtest.h>

#include "app/report.h"
#include "net/api_test_util.h"

namespace isms::net::testing {
namespace {

class ReportsApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Reply r = Upload("engineer", "/api/v1/contracts/acme/scans", "web-week1.nessus",
                     ReadFile(VulnFixture("web-week1.nessus")));
    ASSERT_EQ(r.status, 201) << r.body;
  }
};

TEST_P(ReportsApi, APreviewInEachFormAsADownload) {
  Reply html = Api("buyer", "GET", "/api/v1/contracts/acme/reports/monthly/2026-02");
  ASSERT_EQ(html.status, 200) << html.body;
  EXPECT_EQ(html.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(html.Header("content-disposition"),
            "attachment; filename=\"acme-2026-02-report.html\"");
  EXPECT_NE(html.body.find("<svg"), std::string::npos);
  Reply csv = Api("auditor", "GET", "/api/v1/contracts/acme/reports/monthly/2026-02?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  Reply j = Api("engineer", "GET", "/api/v1/contracts/acme/reports/monthly/2026-02?format=json");
  ASSERT_EQ(j.status, 200);
  json report = Json(j);
  EXPECT_EQ(report["month"], "2026-02");
  EXPECT_FALSE(report["outstanding"].empty()) << j.body.substr(0, 400);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/reports/monthly/2026-02?format=pdf")
                .status,
            400);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/reports/monthly/2026-2").status, 400);
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/reports/monthly/2026-02").status,
            404);
  EXPECT_EQ(Api("admin", "GET", "/api/v1/contracts/acme/reports/monthly/2026-02").status, 403);
}

TEST_P(ReportsApi, IssuingFreezesTheReportAndOnlyTheSecurityOfficerIssues) {
  const std::string issue = "/api/v1/contracts/acme/reports/monthly/2026-02/issue";
  EXPECT_EQ(Post("engineer", issue, json::object()).status, 403);
  EXPECT_EQ(Post("buyer", issue, json::object()).status, 403);
  Reply early = Post("officer", "/api/v1/contracts/acme/reports/monthly/2026-03/issue",
                     json::object());
  EXPECT_EQ(early.status, 409) << "the Month has not ended: " << early.body;
  Reply r = Post("officer", issue, json::object());
  ASSERT_EQ(r.status, 201) << r.body;
  json issued = Json(r);
  EXPECT_EQ(issued["month"], "2026-02");
  EXPECT_EQ(issued["issued_by"], "officer");
  EXPECT_EQ(issued["sealed"], true);
  std::string sha = issued["sha256"];

  json list = Json(Api("buyer", "GET", "/api/v1/contracts/acme/reports/issued"));
  ASSERT_EQ(list["items"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["items"][0]["sha256"], sha);
  Reply frozen = Api("buyer", "GET", list["items"][0]["json"].get<std::string>());
  ASSERT_EQ(frozen.status, 200) << frozen.body;
  EXPECT_EQ(app::Sha256Hex(frozen.body), sha) << "the bytes are those issued";
  EXPECT_EQ(frozen.Header("x-report-sha256"), sha);
  Reply html = Api("auditor", "GET", "/api/v1/contracts/acme/reports/issued/2026-02");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/reports/issued/2026-02?format=csv")
                .status,
            400);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/reports/issued/2026-01").status, 404);

  // Issuing is an event of the ledger: 9.5.5 is met.
  json events = Json(Api("auditor", "GET", "/api/v1/contracts/acme/events?type=report.submitted"));
  ASSERT_EQ(events["items"].size(), 1u);
  EXPECT_EQ(events["items"][0]["attrs"]["sha256"], sha);
}

INSTANTIATE_TEST_SUITE_P(Engines, ReportsApi, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net::testing
