// The API's vulnerabilities (api_vulns.cc) on SQLite and PostgreSQL: scan and advisory uploads
// (multipart and raw), the findings list with the filters of `isms vuln list`, one finding with
// its events, its exceptions recorded, the assets, and who may do what.
#include <gtest/gtest.h>

#include "net/api_test_util.h"

namespace isms::net::testing {
namespace {

class VulnsApi : public ApiTest {
 protected:
  json ImportOk(const std::string& fixture, const std::string& user = "engineer") {
    Reply r = Upload(user, "/api/v1/contracts/acme/scans", fixture,
                     ReadFile(VulnFixture(fixture)));
    EXPECT_EQ(r.status, 201) << fixture << ": " << r.body;
    return Json(r);
  }
  std::vector<json> List(const std::string& query = "?state=all") {
    json page = Json(Api("auditor", "GET", "/api/v1/contracts/acme/vulnerabilities" + query +
                                               (query.empty() ? "?" : "&") + "limit=1000"));
    std::vector<json> out;
    for (const json& f : page["items"]) out.push_back(f);
    return out;
  }
  std::string Id(const std::string& vuln_id) {
    for (const json& f : List()) {
      if (f["vuln_id"] == vuln_id) return f["id"];
    }
    ADD_FAILURE() << "no finding " << vuln_id;
    return "F-0";
  }
  json Show(const std::string& id, const std::string& user = "auditor") {
    return Json(Api(user, "GET", "/api/v1/contracts/acme/vulnerabilities/" + id));
  }
};

TEST_P(VulnsApi, AScanUploadedAsAFilePartIsImportedLikeTheCommandLine) {
  json r = ImportOk("web-week1.nessus");
  EXPECT_EQ(r["file"], "web-week1.nessus");
  EXPECT_EQ(r["format"], "nessus");
  EXPECT_EQ(r["scan"], "S-1");
  EXPECT_EQ(r["findings"], 5);
  EXPECT_EQ(r["new_findings"], 4);
  EXPECT_EQ(r["duplicate"], false);
  std::vector<json> all = List();
  ASSERT_EQ(all.size(), 4u);
  // The same file again changes nothing.
  Reply again = Upload("engineer", "/api/v1/contracts/acme/scans", "copy.nessus",
                       ReadFile(VulnFixture("web-week1.nessus")));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again)["duplicate"], true);
}

TEST_P(VulnsApi, AScanSentAsTheRawBodyWithItsParametersInTheQuery) {
  Reply r = Api("officer", "POST",
                "/api/v1/contracts/acme/scans?format=trivy&filename=shop.json",
                ReadFile(VulnFixture("shop-trivy.json")),
                {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["file"], "shop.json");
  EXPECT_EQ(Json(r)["format"], "trivy");
  Reply wrong = Api("officer", "POST", "/api/v1/contracts/acme/scans?format=trivy",
                    ReadFile(VulnFixture("web-week1.nessus")),
                    {{"Content-Type", "application/octet-stream"}});
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_NE(wrong.body.find("stored: upload"), std::string::npos)
      << "named by the default name: " << wrong.body;
}

TEST_P(VulnsApi, ABadReportIsRefusedNamingTheUploadAndStoresNothing) {
  Reply r = Upload("engineer", "/api/v1/contracts/acme/scans", "broken.json",
                   ReadFile(VulnFixture("shop-trivy-malformed.json")));
  EXPECT_EQ(r.status, 400) << r.body;
  std::string message = Json(r)["error"]["message"];
  EXPECT_NE(message.find("broken.json"), std::string::npos) << message;
  EXPECT_NE(message.find("nothing of the upload was stored"), std::string::npos) << message;
  EXPECT_EQ(message.find("isms-upload-"), std::string::npos)
      << "the temporary folder is not shown: " << message;
  EXPECT_TRUE(List().empty());
  Reply empty = Upload("engineer", "/api/v1/contracts/acme/scans", "empty.nessus", "");
  EXPECT_EQ(empty.status, 400);
  Reply two = Api("engineer", "POST", "/api/v1/contracts/acme/scans",
                  "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n"
                  "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\ny\r\n"
                  "--b--\r\n",
                  {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(two.status, 400);
  EXPECT_NE(two.body.find("exactly one"), std::string::npos) << two.body;
}

TEST_P(VulnsApi, OnlyTheSuppliersRolesImportAndOnlyTheirContracts) {
  std::string bytes = ReadFile(VulnFixture("web-week1.nessus"));
  EXPECT_EQ(Upload("", "/api/v1/contracts/acme/scans", "a.nessus", bytes).status, 401);
  EXPECT_EQ(Upload("auditor", "/api/v1/contracts/acme/scans", "a.nessus", bytes).status, 403);
  EXPECT_EQ(Upload("buyer", "/api/v1/contracts/acme/scans", "a.nessus", bytes).status, 403);
  EXPECT_EQ(Upload("admin", "/api/v1/contracts/acme/scans", "a.nessus", bytes).status, 403);
  EXPECT_EQ(Upload("engineer", "/api/v1/contracts/other/scans", "a.nessus", bytes).status, 404);
  EXPECT_TRUE(List().empty());
}

TEST_P(VulnsApi, TheListFiltersAsTheCommandLine) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  EXPECT_EQ(List("").size(), 8u) << "open by default";
  EXPECT_EQ(List("?state=observation").size(), 1u);
  for (const json& f : List("?category=important")) EXPECT_EQ(f["category"], "Important");
  std::vector<json> shop = List("?asset=registry.example.gov.uk/shop:1.4");
  EXPECT_EQ(shop.size(), 5u);
  std::vector<json> shop_pages = Walk(
      "auditor", "/api/v1/contracts/acme/vulnerabilities?asset=registry.example.gov.uk/shop:1.4",
      2, "id");
  EXPECT_EQ(shop_pages.size(), 5u);
  for (const json& f : shop_pages) EXPECT_EQ(f["asset"], "registry.example.gov.uk/shop:1.4");
  auto f = nlohmann::ordered_json::parse(
      Api("auditor", "GET", "/api/v1/contracts/acme/vulnerabilities?limit=1").body)["items"][0];
  std::vector<std::string> keys;
  for (auto it = f.begin(); it != f.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "id", "asset", "vuln_id", "cves", "component", "category", "category_source",
                      "base_score", "fix_available", "patch_released", "patch_released_assumed",
                      "first_seen", "state", "due", "obligation_state", "at_risk"}));
  Reply bad = Api("auditor", "GET", "/api/v1/contracts/acme/vulnerabilities?state=closed");
  EXPECT_EQ(bad.status, 400);
  Reply bad_cat = Api("auditor", "GET", "/api/v1/contracts/acme/vulnerabilities?category=High");
  EXPECT_EQ(bad_cat.status, 400);
  // Pages of 3 walk all the open findings once each.
  std::vector<json> walked = Walk("buyer", "/api/v1/contracts/acme/vulnerabilities", 3, "id");
  EXPECT_EQ(walked.size(), 8u);
  EXPECT_EQ(Api("buyer", "GET", "/api/v1/contracts/other/vulnerabilities").status, 404);
}

// A Trivy report of one image with `n` vulnerabilities of distinct packages.
std::string ManyFindings(int n) {
  json vulns = json::array();
  for (int i = 0; i < n; ++i) {
    vulns.push_back({{"VulnerabilityID", "CVE-2025-" + std::to_string(10000 + i)},
                     {"PkgName", "pkg" + std::to_string(i)},
                     {"InstalledVersion", "1.0"},
                     {"FixedVersion", "1.1"},
                     {"Status", "fixed"},
                     {"Severity", "HIGH"},
                     {"PublishedDate", "2025-12-20T10:15:00Z"}});
  }
  json report = {{"SchemaVersion", 2},
                 {"CreatedAt", "2026-01-12T10:00:00Z"},
                 {"ArtifactName", "registry.example.gov.uk/big:1"},
                 {"ArtifactType", "container_image"},
                 {"Results", json::array({{{"Target", "registry.example.gov.uk/big:1 (debian 12)"},
                                           {"Class", "os-pkgs"},
                                           {"Type", "debian"},
                                           {"Vulnerabilities", vulns}}})}};
  return report.dump();
}

TEST_P(VulnsApi, DeepPagesWalkEveryFindingOnceAndSeeAChange) {
  Reply r = Upload("engineer", "/api/v1/contracts/acme/scans", "big.json", ManyFindings(1250));
  ASSERT_EQ(r.status, 201) << r.body;
  // Pages past the first thousand findings are cut from the whole list.
  int pages = 0;
  std::vector<json> all =
      Walk("auditor", "/api/v1/contracts/acme/vulnerabilities", 300, "id", &pages);
  EXPECT_EQ(all.size(), 1250u);
  EXPECT_EQ(pages, 5);
  std::vector<json> direct = Walk("auditor", "/api/v1/contracts/acme/vulnerabilities", 1000, "id");
  ASSERT_EQ(direct.size(), 1250u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], direct[i]) << i;
  // A finding remediated is no longer open on the deep pages either.
  std::string last = all.back()["id"];
  ASSERT_EQ(Post("engineer", "/api/v1/contracts/acme/vulnerabilities/" + last + "/events",
                 {{"action", "patched"}})
                .status,
            201);
  EXPECT_EQ(Walk("auditor", "/api/v1/contracts/acme/vulnerabilities", 300, "id").size(), 1249u);
}

TEST_P(VulnsApi, AFindingWithItsEvidenceExceptionsAndEvents) {
  ImportOk("web-week1.nessus");
  std::string web = Id("300001");  // Critical, released 2026-01-02, due 2026-01-16
  clock_.Set(ParseInstant("2026-01-14T10:00:00Z").value());
  Reply ext = Post("engineer", "/api/v1/contracts/acme/vulnerabilities/" + web + "/events",
                   {{"action", "extend"}, {"attrs", {{"test_plan", "TP-4"}}}});
  ASSERT_EQ(ext.status, 201) << ext.body;
  EXPECT_EQ(Json(ext)["event"]["type"], "vuln.extended");
  EXPECT_EQ(Json(ext)["event"]["subject"], web);
  json f = Show(web);
  EXPECT_EQ(f["id"], web);
  EXPECT_EQ(f["due"], "2026-01-21");
  EXPECT_NE(f["exception"].get<std::string>().find("TP-4"), std::string::npos) << f.dump(2);
  EXPECT_EQ(f["port"], "443/tcp,80/tcp");
  EXPECT_EQ(f["patch_release_source"], "nessus");
  ASSERT_EQ(f["events"].size(), 1u);
  EXPECT_EQ(f["events"][0]["attrs"]["test_plan"], "TP-4");
  EXPECT_FALSE(f["obligations"].empty());
  // The same refusals as the command line.
  Reply no_plan = Post("engineer", "/api/v1/contracts/acme/vulnerabilities/" + web + "/events",
                       {{"type", "vuln.extended"}});
  EXPECT_EQ(no_plan.status, 400) << no_plan.body;
  Reply not_vuln = Post("engineer", "/api/v1/contracts/acme/vulnerabilities/" + web + "/events",
                        {{"type", "person.joined"}});
  EXPECT_EQ(not_vuln.status, 400);
  Reply verb = Post("engineer", "/api/v1/contracts/acme/vulnerabilities/" + web + "/events",
                    {{"action", "fixed"}});
  EXPECT_EQ(verb.status, 400);
  EXPECT_NE(verb.body.find("released, patched"), std::string::npos) << verb.body;
}

TEST_P(VulnsApi, AReleaseDateByHandAndAnAgreedPeriodFromTheBuyer) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  std::string console = Id("CVE-2025-3001");
  clock_.Set(ParseInstant("2026-01-12T12:00:00Z").value());
  Reply rel = Post("officer", "/api/v1/contracts/acme/vulnerabilities/" + console + "/events",
                   {{"action", "released"}, {"attrs", {{"date", "2026-01-07"}}}});
  ASSERT_EQ(rel.status, 201) << rel.body;
  EXPECT_EQ(Show(console)["patch_released"], "2026-01-07");
  EXPECT_EQ(Show(console)["due"], "2026-01-21");
  // 9.3.3: the Buyer's act. From the supplier's side it needs evidence=; from the buyer, not.
  std::string openssl = Id("CVE-2025-4001");
  json agree = {{"type", "vuln.agreed"}, {"attrs", {{"days", 45}}}};
  std::string path = "/api/v1/contracts/acme/vulnerabilities/" + openssl + "/events";
  Reply officer = Post("officer", path, agree);
  EXPECT_EQ(officer.status, 400);
  EXPECT_NE(officer.body.find("evidence"), std::string::npos) << officer.body;
  Reply buyer = Post("buyer", path, agree);
  ASSERT_EQ(buyer.status, 201) << buyer.body;
  EXPECT_EQ(Json(buyer)["event"]["by_buyer"], true);
  EXPECT_EQ(Show(openssl)["due"], "2026-02-03");
  // Remediation records are the supplier's: a buyer or an auditor records none.
  EXPECT_EQ(Post("buyer", path, {{"action", "patched"}}).status, 403);
  EXPECT_EQ(Post("auditor", path, {{"action", "patched"}}).status, 403);
  // The same finding through the general events route.
  Reply general = Post("engineer", "/api/v1/contracts/acme/events",
                       {{"type", "vuln.patched"}, {"subject", openssl}});
  EXPECT_EQ(general.status, 201) << general.body;
  EXPECT_EQ(Show(openssl)["state"], "remediated");
}

TEST_P(VulnsApi, AFindingOfAnotherContractIsNotFoundAsOneThatDoesNotExist) {
  ImportOk("web-week1.nessus");
  std::string web = Id("300001");
  // "other" holds no finding: the same id under it is not found, alike with any unknown id.
  ASSERT_TRUE(access_->Grant("officer", "other", app::Actor{"setup", false}).ok());
  Reply theirs = Api("officer", "GET", "/api/v1/contracts/other/vulnerabilities/" + web);
  Reply none = Api("officer", "GET", "/api/v1/contracts/other/vulnerabilities/F-99999");
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(none.status, 404);
  std::string a = theirs.body, b = none.body;
  a.replace(a.find(web), web.size(), "ID");
  b.replace(b.find("F-99999"), 7, "ID");
  EXPECT_EQ(a, b);
  Reply post = Post("officer", "/api/v1/contracts/other/vulnerabilities/" + web + "/events",
                    {{"action", "patched"}});
  EXPECT_EQ(post.status, 404) << post.body;
  Reply via_events = Post("officer", "/api/v1/contracts/other/events",
                          {{"type", "vuln.patched"}, {"subject", web}});
  EXPECT_EQ(via_events.status, 404) << via_events.body;
  EXPECT_EQ(Show(web)["state"], "open");
  EXPECT_EQ(Api("officer", "GET", "/api/v1/contracts/acme/vulnerabilities/nonsense").status, 400);
}

TEST_P(VulnsApi, AssetsAndAdvisories) {
  ImportOk("web-week1.nessus");
  ImportOk("web-openvas.xml");
  json assets = Json(Api("buyer", "GET", "/api/v1/contracts/acme/assets"));
  ASSERT_EQ(assets["items"].size(), 1u) << assets.dump(2);
  EXPECT_EQ(assets["items"][0]["name"], "web01.example.gov.uk");
  EXPECT_FALSE(assets["items"][0]["aliases"].empty());
  Reply adv = Upload("engineer", "/api/v1/contracts/acme/advisories", "vendor.json",
                     ReadFile(VulnFixture("http-server-vendor-fix.json")));
  ASSERT_EQ(adv.status, 201) << adv.body;
  EXPECT_EQ(Json(adv)["document_id"], "EXP-SA-2025-0100");
  EXPECT_EQ(Json(adv)["findings_updated"], 1);
  EXPECT_EQ(Show(Id("300001"))["patch_released"], "2025-12-20");
  EXPECT_EQ(Upload("auditor", "/api/v1/contracts/acme/advisories", "vendor.json",
                   ReadFile(VulnFixture("http-server-vendor-fix.json")))
                .status,
            403);
  Reply not_csaf = Upload("engineer", "/api/v1/contracts/acme/advisories", "scan.json",
                          ReadFile(VulnFixture("shop-trivy.json")));
  EXPECT_EQ(not_csaf.status, 400) << not_csaf.body;
  EXPECT_NE(not_csaf.body.find("scan.json"), std::string::npos) << not_csaf.body;
}

INSTANTIATE_TEST_SUITE_P(Engines, VulnsApi, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net::testing
