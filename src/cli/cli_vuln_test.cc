// Vulnerability management (paragraph 9) through the command line, on SQLite and PostgreSQL:
// scan and advisory imports, the findings' clocks and their exceptions. Fixtures are hand-written
// under tests/fixtures/vulns/ (what each holds is said in its first lines).
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "cli/cli_test_util.h"
#include "isms_test_paths.h"

namespace isms::cli::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Fixture(const std::string& name) {
  return std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/vulns/" + name;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class VulnCli : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Ok({"contract", "create", "c", "--start", "2026-01-05"});
  }

  CliRun Import(const std::string& fixture, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"import", "scan", Fixture(fixture), "--contract", "c"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Isms(args);
  }
  std::string ImportOk(const std::string& fixture, std::vector<std::string> extra = {}) {
    CliRun r = Import(fixture, std::move(extra));
    EXPECT_EQ(r.code, 0) << fixture << ": " << r.err;
    return r.out;
  }
  std::string AdvisoryOk(const std::string& fixture) {
    CliRun r = Isms({"import", "advisory", Fixture(fixture), "--contract", "c"});
    EXPECT_EQ(r.code, 0) << fixture << ": " << r.err;
    return r.out;
  }

  json List(std::vector<std::string> filters = {"--state", "all"}) {
    std::vector<std::string> args = {"vuln", "list", "--contract", "c", "--json"};
    args.insert(args.end(), filters.begin(), filters.end());
    return Json(args);
  }
  // The finding of `vuln_id` (its CVE, or the scanner's id) in `vuln list --state all`.
  json Finding(const std::string& vuln_id, const std::string& component = "") {
    for (const json& f : List()) {
      if (f["vuln_id"] == vuln_id && (component.empty() || f["component"] == component)) return f;
    }
    ADD_FAILURE() << "no finding " << vuln_id << " " << component;
    return json::object();
  }
  std::string Id(const std::string& vuln_id, const std::string& component = "") {
    return Finding(vuln_id, component).value("id", "F-0");
  }
  json Show(const std::string& id) { return Json({"vuln", "show", id, "--json"}); }
  json Status(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"status", "--contract", "c", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Json(args);
  }
  std::string Act(std::vector<std::string> args) {
    args.insert(args.begin(), "vuln");
    return Ok(args);
  }
};

json ObligationOf(const json& list, const std::string& clause) {
  for (const json& o : list) {
    if (o["clause"] == clause) return o;
  }
  return nullptr;
}

json ObligationIn(const json& status, const std::string& clause, const std::string& subject) {
  for (const json& o : status) {
    if (o["clause"] == clause && o["subject"] == subject) return o;
  }
  return nullptr;
}

// --- What a finding is ---------------------------------------------------------------------

TEST_P(VulnCli, ANessusPluginOnAHostIsOneFindingWithAllItsCves) {
  std::string out = ImportOk("web-week1.nessus");
  EXPECT_TRUE(Has(out,
                  "nessus scan S-1 by Nessus: 5 findings on 1 asset, 4 new, 0 remediated "
                  "by absence, 0 reopened"))
      << out;
  json list = List();
  ASSERT_EQ(list.size(), 4u) << list.dump(2);  // plugin 300001 on ports 80 and 443 is one
  json multi = Finding("300001");
  EXPECT_EQ(multi["cves"], json({"CVE-2025-1001", "CVE-2025-1002"}));
  EXPECT_EQ(multi["asset"], "web01.example.gov.uk");
  EXPECT_EQ(Show(multi["id"])["port"], "443/tcp,80/tcp");
  json single = Finding("CVE-2025-2001");
  EXPECT_EQ(single["cves"], json({"CVE-2025-2001"}));
}

TEST_P(VulnCli, OneMachineSeenByTwoScannersIsOneAssetWithItsAliases) {
  ImportOk("web-week1.nessus");
  ImportOk("web-openvas.xml");
  json assets = Json({"asset", "list", "--contract", "c", "--json"});
  ASSERT_EQ(assets.size(), 1u) << assets.dump(2);
  EXPECT_EQ(assets[0]["name"], "web01.example.gov.uk");
  std::set<std::string> aliases;
  for (const json& a : assets[0]["aliases"]) {
    aliases.insert(a["kind"].get<std::string>() + ":" + a["value"].get<std::string>());
  }
  EXPECT_TRUE(aliases.count("ip:192.0.2.10")) << assets.dump(2);
  EXPECT_TRUE(aliases.count("fqdn:web01.example.gov.uk")) << assets.dump(2);
  EXPECT_EQ(Finding("CVE-2025-5001")["asset"], "web01.example.gov.uk");
  EXPECT_TRUE(Has(Ok({"asset", "list", "--contract", "c"}), "ip:192.0.2.10"));
}

TEST_P(VulnCli, ImagesOfOneClusterAreSeparateAssets) {
  std::string out = ImportOk("k8s-two-images.json");
  EXPECT_TRUE(Has(out, "2 findings on 3 assets, 2 new")) << out;  // the cluster, and its images
  std::set<std::string> assets;
  for (const json& v : List({"--state", "all"})) assets.insert(v["asset"]);
  EXPECT_EQ(assets.size(), 2u) << "the cluster's name is not the images' identity";
}

TEST_P(VulnCli, ShowReadsIdsFromStandardInputOnePerLine) {
  ImportOk("web-week1.nessus");
  std::string id = Id("CVE-2025-2001");
  CliRun r = Isms({"vuln", "show", "-", "--json"}, id + "\nF-999999\n" + id + "\n");
  EXPECT_EQ(r.code, 1) << "one line was refused";
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(json::parse(lines[0])["id"], id);
  EXPECT_EQ(lines[1], "error: no finding F-999999: `isms vuln list` shows them");
  EXPECT_EQ(json::parse(lines[2])["id"], id);
}

TEST_P(VulnCli, ListJsonHasExactlyTheDocumentedFields) {
  ImportOk("web-week1.nessus");
  auto list = nlohmann::ordered_json::parse(
      Ok({"vuln", "list", "--contract", "c", "--json", "--state", "all"}));
  ASSERT_FALSE(list.empty());
  std::vector<std::string> keys;
  for (auto it = list[0].begin(); it != list[0].end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "id", "asset", "vuln_id", "cves", "component", "category", "category_source",
                      "base_score", "fix_available", "patch_released", "patch_released_assumed",
                      "first_seen", "state", "due", "obligation_state", "at_risk"}));
}

TEST_P(VulnCli, ListFiltersByStateCategoryAndAsset) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  EXPECT_EQ(List({}).size(), 8u) << "open by default: the observation is not open";
  EXPECT_EQ(List({"--state", "observation"}).size(), 1u);
  for (const json& f : List({"--category", "Important"})) EXPECT_EQ(f["category"], "Important");
  EXPECT_EQ(List({"--category", "Other"}).size(), 1u);  // bash (the observation is not open)
  json shop = List({"--asset", "registry.example.gov.uk/shop:1.4"});
  EXPECT_EQ(shop.size(), 5u);
  for (const json& f : shop) EXPECT_EQ(f["asset"], "registry.example.gov.uk/shop:1.4");
  CliRun bad = Isms({"vuln", "list", "--contract", "c", "--state", "closed"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(Has(bad.err, "--state 'closed'")) << bad.err;
}

// --- Severity (9.2) ------------------------------------------------------------------------

TEST_P(VulnCli, CvssVectorsAreScoredNeverTrustedFromTheFile) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  // Nessus says cvss3_base_score 3.1 and risk factor Critical; the vector scores 9.8.
  json web = Finding("300001");
  EXPECT_EQ(web["base_score"], 9.8);
  EXPECT_EQ(web["category"], "Critical");
  // Risk factor Low, vector 7.5 (NVD High = Critical).
  EXPECT_EQ(Finding("CVE-2025-2001")["base_score"], 7.5);
  EXPECT_EQ(Finding("CVE-2025-2001")["category"], "Critical");
  // Trivy: V3Score 1.0 and severity LOW in the file, the NVD vector scores 9.8.
  json openssl = Finding("CVE-2025-4001");
  EXPECT_EQ(openssl["base_score"], 9.8);
  EXPECT_EQ(openssl["category"], "Critical");
}

TEST_P(VulnCli, NvdsVectorIsPreferredThenTheVendorsThenTheScannersWord) {
  ImportOk("shop-trivy.json");
  json nvd = Finding("CVE-2025-4001");  // NVD 9.8 and Red Hat 5.9: NVD's
  EXPECT_EQ(nvd["category_source"], "NVD Critical (CVSS 3.1 base 9.8)");
  json vendor = Finding("CVE-2025-4002");  // Red Hat's only (file score 9.9 ignored)
  EXPECT_EQ(vendor["base_score"], 7.5);
  EXPECT_TRUE(Has(vendor["category_source"], "from Red Hat")) << vendor.dump();
  json word = Finding("CVE-2025-4003");  // no vector: Trivy's HIGH, and it says so
  EXPECT_EQ(word["category"], "Critical");
  EXPECT_TRUE(word["base_score"].is_null());
  EXPECT_EQ(word["category_source"], "scanner severity: Trivy HIGH (no CVSS vector)");
  EXPECT_EQ(Finding("CVE-2025-4005")["category"], "Other");
}

// --- Fix availability and the 9.3 clock ----------------------------------------------------

TEST_P(VulnCli, NoFixMeansNoPatchClock) {
  ImportOk("shop-trivy.json");
  json zlib = Finding("CVE-2025-4003");
  EXPECT_EQ(zlib["fix_available"], false);
  EXPECT_TRUE(zlib["patch_released"].is_null());
  EXPECT_TRUE(zlib["due"].is_null());
  EXPECT_TRUE(zlib["obligation_state"].is_null());
  EXPECT_EQ(zlib["state"], "open");
  EXPECT_TRUE(ObligationIn(Status(), "9.3", zlib["id"]).is_null());
  json web = Finding("CVE-2025-4003");
  EXPECT_TRUE(Show(web["id"])["obligations"].empty());
}

TEST_P(VulnCli, NessusPatchPublicationDateStartsTheClock) {
  ImportOk("web-week1.nessus");
  json web = Finding("300001");
  EXPECT_EQ(web["fix_available"], true);
  EXPECT_EQ(web["patch_released"], "2026-01-02");
  EXPECT_EQ(web["patch_released_assumed"], false);
  EXPECT_EQ(web["due"], "2026-01-16");  // Critical: 14 days
  EXPECT_EQ(web["obligation_state"], "open");
  EXPECT_EQ(Show(web["id"])["patch_release_source"], "nessus");
  json o = ObligationIn(Status(), "9.3", web["id"]);
  ASSERT_FALSE(o.is_null());
  EXPECT_EQ(o["key"], "patch_critical");
  // Nessus without a patch date: the fix is unknown, no clock.
  json console = Finding("CVE-2025-3001");
  EXPECT_EQ(console["fix_available"], false);
  EXPECT_TRUE(console["due"].is_null());
  EXPECT_EQ(console["category_source"], "scanner severity: Nessus High (no CVSS vector)");
}

TEST_P(VulnCli, AssumedReleaseDatesAreTheEarlierOfPublicationAndFirstSighting) {
  ImportOk("shop-trivy.json");  // scanned 2026-01-12
  SetNow("2026-01-12T12:00:00Z");
  json openssl = Finding("CVE-2025-4001");  // published 2025-12-20
  EXPECT_EQ(openssl["patch_released"], "2025-12-20");
  EXPECT_EQ(openssl["patch_released_assumed"], true);
  EXPECT_EQ(openssl["first_seen"], "2026-01-12T10:00:00.000Z");
  json libxml = Finding("CVE-2025-4002");  // publication unknown
  EXPECT_EQ(libxml["patch_released"], "2026-01-12");
  EXPECT_EQ(libxml["patch_released_assumed"], true);
  EXPECT_EQ(Show(libxml["id"])["patch_release_source"], "assumed");
  json o = ObligationIn(Status(), "9.3", libxml["id"]);
  ASSERT_FALSE(o.is_null());
  EXPECT_NE(std::find(o["flags"].begin(), o["flags"].end(), "patch release date assumed"),
            o["flags"].end())
      << o.dump(2);
}

TEST_P(VulnCli, AReleaseDateSetByHandStartsTheClockButNotOverANessusDate) {
  ImportOk("web-week1.nessus");
  std::string console = Id("CVE-2025-3001");
  SetNow("2026-01-12T12:00:00Z");
  Act({"released", console, "2026-01-07"});
  json f = Finding("CVE-2025-3001");
  EXPECT_EQ(f["fix_available"], true);
  EXPECT_EQ(f["patch_released"], "2026-01-07");
  EXPECT_EQ(f["patch_released_assumed"], false);
  EXPECT_EQ(f["due"], "2026-01-21");
  EXPECT_EQ(Show(console)["patch_release_source"], "manual");
  std::string web = Id("300001");
  Act({"released", web, "2026-01-10"});
  EXPECT_EQ(Finding("300001")["patch_released"], "2026-01-02") << "Nessus' date wins";
  CliRun bad = Isms({"vuln", "released", web, "2026-02-30"});
  EXPECT_EQ(bad.code, 1);
}

TEST_P(VulnCli, ACsafVendorFixDateBeatsNessusDate) {
  ImportOk("web-week1.nessus");
  std::string out = AdvisoryOk("http-server-vendor-fix.json");
  EXPECT_TRUE(Has(out, "EXP-SA-2025-0100 by Example PSIRT, 1 vulnerabilities, 1 findings updated"))
      << out;
  json web = Finding("300001");  // matched by CPE and CVE-2025-1001
  EXPECT_EQ(web["patch_released"], "2025-12-20");
  EXPECT_EQ(web["due"], "2026-01-03");
  EXPECT_EQ(Show(web["id"])["patch_release_source"], "csaf-remediation");
  EXPECT_EQ(ObligationIn(Status(), "9.3", web["id"])["due"], "2026-01-03");
  EXPECT_EQ(Finding("CVE-2025-2001")["patch_released"], "2026-01-05") << "another CVE";
}

TEST_P(VulnCli, ACsafVendorFixStartsTheClockOfAFindingWithoutFix) {
  ImportOk("shop-trivy.json");
  SetNow("2026-01-16T12:00:00Z");
  AdvisoryOk("shop-debian-advisory.json");
  json zlib = Finding("CVE-2025-4003");  // matched by name and version
  EXPECT_EQ(zlib["fix_available"], true);
  EXPECT_EQ(zlib["patch_released"], "2026-01-15");
  EXPECT_EQ(zlib["patch_released_assumed"], false);
  EXPECT_EQ(zlib["due"], "2026-01-29");
}

// --- Kinds without clocks ------------------------------------------------------------------

TEST_P(VulnCli, SarifWithoutACveIsOwnCodeWithoutAClock) {
  std::string out = ImportOk("app-codeql.sarif", {"--scanned-at", "2026-01-12T08:00:00Z"});
  EXPECT_TRUE(Has(out, "sarif scan S-1 by CodeQL 2.16.0: 1 findings on 1 asset")) << out;
  json list = List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["state"], "own-code");
  EXPECT_TRUE(list[0]["due"].is_null());
  EXPECT_EQ(list[0]["first_seen"], "2026-01-12T08:00:00.000Z");
  EXPECT_TRUE(Show(list[0]["id"])["obligations"].empty());
  EXPECT_TRUE(List({}).empty()) << "own code is not an open vulnerability";
}

TEST_P(VulnCli, NessusSeverityZeroIsAnObservation) {
  ImportOk("web-week1.nessus");
  json info = Finding("19506");
  EXPECT_EQ(info["state"], "observation");
  EXPECT_TRUE(info["due"].is_null());
  EXPECT_TRUE(ObligationIn(Status(), "9.3", info["id"]).is_null());
}

// --- Re-imports and remediation by absence ---------------------------------------------------

TEST_P(VulnCli, ReimportingTheSameFileChangesNothing) {
  ImportOk("web-week1.nessus");
  json before = List();
  json status = Status();
  std::string out = ImportOk("web-week1.nessus");
  EXPECT_TRUE(Has(out, "already imported as scan S-1 (same content): nothing changed")) << out;
  EXPECT_EQ(List(), before);
  EXPECT_EQ(Status(), status);
}

TEST_P(VulnCli, ALaterScanWithTheSameFindingsOnlyMovesLastSeen) {
  ImportOk("web-week1.nessus");
  json before = List();
  std::string out = ImportOk("web-week2-same.nessus");
  EXPECT_TRUE(Has(out,
                  "scan S-2 by Nessus: 5 findings on 1 asset, 0 new, 0 remediated by "
                  "absence, 0 reopened"))
      << out;
  EXPECT_EQ(List(), before);
  json web = Show(Id("300001"));
  EXPECT_EQ(web["first_seen"], "2026-01-12T09:00:00.000Z");
  EXPECT_EQ(web["last_seen"], "2026-01-19T09:00:00.000Z");
}

TEST_P(VulnCli, AFindingMissingFromALaterScanIsRemediatedAtThatScansTime) {
  ImportOk("web-week1.nessus");
  std::string ssh = Id("CVE-2025-2001");
  SetNow("2026-01-26T12:00:00Z");
  std::string out = ImportOk("web-week3-fixed.nessus");
  EXPECT_TRUE(Has(out, "scan S-2 by Nessus: 4 findings on 1 asset, 0 new, 1 remediated by absence"))
      << out;
  json f = Show(ssh);
  EXPECT_EQ(f["state"], "remediated");
  EXPECT_EQ(f["remediated_at"], "2026-01-26T09:00:00.000Z");
  EXPECT_TRUE(Has(f["remediated_by"], "absent from scan S-2")) << f.dump(2);
  EXPECT_TRUE(Has(f["remediated_by"], "web-week3-fixed.nessus")) << f.dump(2);
  EXPECT_EQ(f["obligation_state"], "met late");  // due 2026-01-19
  EXPECT_EQ(Finding("300001")["state"], "open");
  EXPECT_EQ(List({"--state", "remediated"}).size(), 1u);
}

TEST_P(VulnCli, AnOlderScanImportedLateNeitherRemediatesNorReopens) {
  SetNow("2026-01-26T12:00:00Z");
  ImportOk("web-week3-fixed.nessus");
  std::string out = ImportOk("web-week1.nessus");  // scanned two weeks earlier
  EXPECT_TRUE(Has(out, "0 remediated by absence, 0 reopened")) << out;
  json f = Show(Id("CVE-2025-2001"));
  EXPECT_EQ(f["state"], "open") << "week 1 saw it; week 3 did not, but week 3 came first";
  EXPECT_EQ(f["last_seen"], "2026-01-12T09:00:00.000Z");
  ImportOk("web-week2-same.nessus");
  for (const json& v : List({"--state", "all"})) {
    EXPECT_NE(v["state"], "remediated") << v.dump(2);
  }
}

TEST_P(VulnCli, ANarrowerScanDoesNotRemediate) {
  ImportOk("web-week1.nessus");
  std::string out = ImportOk("web-week3-uncredentialed.nessus");
  EXPECT_TRUE(Has(out, "0 remediated by absence")) << out;
  EXPECT_EQ(Finding("CVE-2025-2001")["state"], "open");
}

TEST_P(VulnCli, AScanNarrowerThanTheLastSightingDoesNotRemediate) {
  ImportOk("web-week1-uncredentialed.nessus");
  ImportOk("web-week2-same.nessus");  // credentialed, sees it again
  std::string out = ImportOk("web-week3-uncredentialed.nessus");
  EXPECT_TRUE(Has(out, "0 remediated by absence")) << out;
  EXPECT_EQ(Finding("CVE-2025-2001")["state"], "open");
}

TEST_P(VulnCli, AScanOfAnotherAssetDoesNotRemediate) {
  ImportOk("web-week1.nessus");
  std::string out = ImportOk("db-week3.nessus");
  EXPECT_TRUE(Has(out, "0 remediated by absence")) << out;
  EXPECT_EQ(List({}).size(), 3u);
  EXPECT_EQ(Json({"asset", "list", "--contract", "c", "--json"}).size(), 2u);
}

TEST_P(VulnCli, AnEmptyButValidReportImportsNoFindingsAndRemediatesByAbsence) {
  ImportOk("shop-trivy.json");
  std::string out = ImportOk("shop-trivy-clean.json");
  EXPECT_TRUE(Has(out, ": 0 findings on 1 asset, 0 new, 5 remediated by absence")) << out;
  EXPECT_TRUE(List({}).empty());
}

// --- VEX and CSAF statements ---------------------------------------------------------------

TEST_P(VulnCli, VexStatementsApplyToTheMatchingFindingsWithTheirJustification) {
  ImportOk("shop-trivy.json");
  SetNow("2026-01-14T13:00:00Z");
  std::string curl = Id("CVE-2025-4004");
  std::string libxml = Id("CVE-2025-4002");
  ASSERT_FALSE(ObligationIn(Status(), "9.3", curl).is_null());
  ImportOk("shop-cyclonedx-vex.json");
  json c = Show(curl);
  EXPECT_EQ(c["state"], "not-affected");
  EXPECT_EQ(c["statement"], "not_affected");
  EXPECT_EQ(c["justification"], "code_not_reachable");
  EXPECT_TRUE(c["due"].is_null());
  EXPECT_TRUE(ObligationIn(Status(), "9.3", curl).is_null());
  json x = Show(libxml);
  EXPECT_EQ(x["state"], "remediated");
  EXPECT_EQ(x["statement"], "fixed");
  EXPECT_EQ(x["remediated_at"], "2026-01-14T12:00:00.000Z");
  EXPECT_EQ(List({"--state", "not-affected"}).size(), 2u) << "the VEX's own finding and Trivy's";
}

TEST_P(VulnCli, CsafStatementsApplyToTheMatchingFindingsWithTheirJustification) {
  ImportOk("shop-trivy.json");
  SetNow("2026-01-16T12:00:00Z");
  std::string out = AdvisoryOk("shop-debian-advisory.json");
  EXPECT_TRUE(Has(out, "EXP-SA-2026-0007 by Example PSIRT, 3 vulnerabilities, 3 findings updated"))
      << out;
  json openssl = Show(Id("CVE-2025-4001"));  // known_not_affected, matched by purl
  EXPECT_EQ(openssl["state"], "not-affected");
  EXPECT_EQ(openssl["justification"], "vulnerable_code_not_in_execute_path");
  EXPECT_TRUE(openssl["due"].is_null());
  json libxml = Show(Id("CVE-2025-4002"));  // product_status fixed
  EXPECT_EQ(libxml["state"], "remediated");
  EXPECT_EQ(libxml["statement"], "fixed");
  EXPECT_EQ(libxml["remediated_at"], "2026-01-16T12:00:00.000Z");
  EXPECT_TRUE(Has(libxml["remediated_by"], "EXP-SA-2026-0007")) << libxml.dump(2);
  EXPECT_EQ(AdvisoryOk("shop-debian-advisory.json").find("(read before)") != std::string::npos,
            true);
}

// --- Bad input: refused, named, and nothing changed ----------------------------------------

TEST_P(VulnCli, BadInputIsRefusedWithItsPositionAndChangesNothing) {
  ImportOk("web-week1.nessus");
  SetNow("2026-01-14T12:00:00Z");
  Act({"patched", Id("CVE-2025-2001"), "--at", "2026-01-13"});
  auto snapshot = [&] {
    return json{List(), Json({"asset", "list", "--contract", "c", "--json"}),
                Json({"event", "list", "--contract", "c", "--json"}), Status()};
  };
  const json before = snapshot();
  struct Case {
    std::vector<std::string> extra;
    std::string file;
    std::string says;
  };
  const Case cases[] = {
      {{}, "web-truncated.nessus", "web-truncated.nessus: line "},
      {{}, "shop-trivy-malformed.json", "shop-trivy-malformed.json: byte "},
      {{}, "empty.nessus", "empty.nessus is empty (0 bytes)"},
      {{"--format", "trivy"}, "web-week2-same.nessus", "web-week2-same.nessus"},
      {{}, "shop-debian-advisory.json", "use `isms import advisory`"},
  };
  for (const Case& c : cases) {
    CliRun r = Import(c.file, c.extra);
    EXPECT_EQ(r.code, 1) << c.file << ": " << r.out;
    EXPECT_TRUE(Has(r.err, c.says)) << r.err;
    EXPECT_TRUE(Has(r.err, c.file + " was not imported; nothing of it was stored")) << r.err;
    EXPECT_EQ(snapshot(), before) << c.file;
  }
  CliRun missing = Import("no-such-file.nessus");
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(Has(missing.err, "no-such-file.nessus")) << missing.err;
  CliRun adv = Isms({"import", "advisory", Fixture("shop-trivy.json"), "--contract", "c"});
  EXPECT_EQ(adv.code, 1);
  EXPECT_TRUE(Has(adv.err, "not a CSAF document (a Trivy report")) << adv.err;
  EXPECT_EQ(snapshot(), before);
}

TEST_P(VulnCli, AReportNamingNoAssetIsRefusedWholeUnlessAnAssetIsGiven) {
  const fs::path vex = fs::path(ISMS_SHARED_TESTDATA) / "cyclonedx-bom-examples" / "VEX" /
                       "Use-Cases" / "Case-7" / "vex.json";
  if (!fs::exists(vex)) GTEST_SKIP() << "shared test data not found at " << vex;
  CliRun r = Isms({"import", "scan", vex.string(), "--contract", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(r.err, "give the asset with --asset NAME")) << r.err;
  EXPECT_TRUE(List().empty());
  EXPECT_TRUE(Json({"asset", "list", "--contract", "c", "--json"}).empty());
  CliRun ok = Isms({"import", "scan", vex.string(), "--contract", "c", "--asset", "product-x"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_FALSE(List().empty());
}

// --- Exceptions ----------------------------------------------------------------------------

TEST_P(VulnCli, NotExploitableSuspendsTheClockAndExploitableResumesIt) {
  ImportOk("web-week1.nessus");
  std::string web = Id("300001");  // Critical, released 2026-01-02, due 2026-01-16
  SetNow("2026-01-06T10:00:00Z");
  CliRun no_reason = Isms({"vuln", "not-exploitable", web});
  EXPECT_NE(no_reason.code, 0);
  EXPECT_TRUE(Has(no_reason.err, "--reason is required")) << no_reason.err;
  Act({"not-exploitable", web, "--reason", "the module is not loaded"});
  json f = Show(web);
  EXPECT_EQ(f["state"], "not-exploitable");
  EXPECT_TRUE(f["due"].is_null());
  EXPECT_EQ(f["obligation_state"], "suspended");
  EXPECT_EQ(List({"--state", "not-exploitable"}).size(), 1u);
  SetNow("2026-01-08T10:00:00Z");
  Act({"exploitable", web, "--at", "2026-01-08"});
  f = Show(web);
  EXPECT_EQ(f["state"], "open");
  EXPECT_EQ(f["due"], "2026-01-22");  // the full 14 days from 2026-01-08
  EXPECT_EQ(f["obligation_state"], "open");
}

TEST_P(VulnCli, AnExtensionAddsFiveDaysForCriticalAndIsRefusedForOther) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  std::string web = Id("300001");  // Critical, released 2026-01-02, due 2026-01-16
  SetNow("2026-01-14T10:00:00Z");
  CliRun no_plan = Isms({"vuln", "extend", web});
  EXPECT_NE(no_plan.code, 0);
  EXPECT_TRUE(Has(no_plan.err, "--test-plan is required")) << no_plan.err;
  Act({"extend", web, "--test-plan", "TP-4"});
  EXPECT_EQ(Finding("300001")["due"], "2026-01-21");
  EXPECT_TRUE(Has(Show(web)["exception"], "TP-4"));
  std::string bash = Id("CVE-2025-4005");  // Other
  json before = Json({"event", "list", "--contract", "c", "--json"});
  CliRun r = Isms({"vuln", "extend", bash, "--test-plan", "TP-5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(r.err, "Other")) << r.err;
  EXPECT_TRUE(Has(r.err, "9.3.2")) << r.err;
  EXPECT_EQ(Json({"event", "list", "--contract", "c", "--json"}), before);
}

TEST_P(VulnCli, AnAgreedPeriodIsTheBuyersActAndNeedsEvidence) {
  ImportOk("shop-trivy.json");
  std::string openssl = Id("CVE-2025-4001");  // released 2025-12-20
  CliRun r = Isms({"vuln", "agree", openssl, "--days", "45"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(r.err, "evidence")) << r.err;
  Act({"agree", openssl, "--days", "45", "--evidence", "MSG-9"});
  EXPECT_EQ(Finding("CVE-2025-4001")["due"], "2026-02-03");
  Act({"agree", openssl, "--until", "2026-02-20", "--evidence", "MSG-10"});
  EXPECT_EQ(Finding("CVE-2025-4001")["due"], "2026-02-20");
  EXPECT_NE(Isms({"vuln", "agree", openssl, "--days", "5", "--until", "2026-02-20", "--evidence",
                  "MSG-11"})
                .code,
            0)
      << "one of --days and --until";
}

TEST_P(VulnCli, APatchMeetsTheClockOrMeetsItLate) {
  ImportOk("web-week1.nessus");
  std::string web = Id("300001");         // due 2026-01-16
  std::string ssh = Id("CVE-2025-2001");  // due 2026-01-19
  SetNow("2026-01-25T10:00:00Z");
  Act({"patched", web, "--at", "2026-01-15T16:00:00Z"});
  Act({"patched", ssh, "--at", "2026-01-20T09:00:00Z"});
  EXPECT_EQ(Finding("300001")["state"], "remediated");
  EXPECT_EQ(Finding("300001")["obligation_state"], "met");
  EXPECT_EQ(Finding("CVE-2025-2001")["obligation_state"], "met late");
  EXPECT_EQ(ObligationIn(Status(), "9.3", ssh)["state"], "met late");
}

TEST_P(VulnCli, ExploitedWithoutAFixOwesAnInterimMitigation) {
  ImportOk("shop-trivy.json");
  std::string zlib = Id("CVE-2025-4003");  // no fix
  SetNow("2026-01-13T10:00:00Z");
  Act({"exploited", zlib});
  json o = ObligationOf(Show(zlib)["obligations"], "9.5.6");
  ASSERT_FALSE(o.is_null()) << Show(zlib).dump(2);
  EXPECT_EQ(o["state"], "open");
  Act({"mitigated", zlib, "--note", "WAF rule 7"});
  EXPECT_EQ(ObligationOf(Show(zlib)["obligations"], "9.5.6")["state"], "met");
}

TEST_P(VulnCli, AtRiskOwesANoticeTheSameDayAndNotifiedMeetsIt) {
  ImportOk("web-week1.nessus");
  std::string ssh = Id("CVE-2025-2001");
  SetNow("2026-01-14T10:00:00Z");
  Act({"at-risk", ssh});
  json o = ObligationOf(Show(ssh)["obligations"], "9.6");
  ASSERT_FALSE(o.is_null());
  EXPECT_EQ(o["due"], "2026-01-14");
  EXPECT_EQ(o["state"], "open");
  SetNow("2026-01-14T15:00:00Z");
  Act({"notified", ssh, "--evidence", "MSG-20"});
  EXPECT_EQ(ObligationOf(Show(ssh)["obligations"], "9.6")["state"], "met");
  EXPECT_EQ(ObligationIn(Status(), "9.6", ssh)["state"], "met");
}

TEST_P(VulnCli, ABreachOfThePatchClockIsADefaultUnderTheRectificationPlan) {
  ImportOk("web-week1.nessus");
  std::string web = Id("300001");
  SetNow("2026-01-16T23:00:00Z");
  EXPECT_EQ(ObligationIn(Status(), "9.3", web)["state"], "open");
  SetNow("2026-01-17T00:00:00Z");
  json o = ObligationIn(Status(), "9.3", web);
  EXPECT_EQ(o["state"], "breached");
  EXPECT_EQ(o["consequence"], "Default");
  EXPECT_TRUE(Has(o["consequence_text"], "Rectification Plan")) << o.dump(2);
  EXPECT_TRUE(Has(o["consequence_text"], "9.7")) << o.dump(2);
}

// --- Rebuilding and time travel ------------------------------------------------------------

TEST_P(VulnCli, RecomputeRebuildsTheFindingsClocks) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  SetNow("2026-01-13T10:00:00Z");
  Act({"not-exploitable", Id("300001"), "--reason", "not reachable"});
  Act({"exploited", Id("CVE-2025-4003")});
  Act({"at-risk", Id("CVE-2025-2001")});
  SetNow("2026-01-20T10:00:00Z");
  json before = Status();
  ASSERT_FALSE(ObligationIn(before, "9.3", Id("CVE-2025-4001")).is_null());
  Ok({"recompute"});
  EXPECT_EQ(Status(), before);
}

TEST_P(VulnCli, StatusAsOfATimeEqualsTheProjectionThen) {
  ImportOk("web-week1.nessus");
  ImportOk("shop-trivy.json");
  SetNow("2026-01-13T10:00:00Z");
  Act({"not-exploitable", Id("300001"), "--reason", "not reachable"});
  Act({"exploited", Id("CVE-2025-4003")});
  SetNow("2026-01-14T10:00:00Z");
  Act({"at-risk", Id("CVE-2025-2001")});
  const json then = Status();
  ASSERT_FALSE(ObligationIn(then, "9.3", Id("CVE-2025-2001")).is_null());
  SetNow("2026-02-20T10:00:00Z");
  Act({"patched", Id("CVE-2025-2001"), "--at", "2026-02-19"});
  auto findings_only = [](const json& status) {
    json out = json::array();
    for (const json& o : status) {
      if (o["subject"].get<std::string>().rfind("F-", 0) == 0) out.push_back(o);
    }
    return out;
  };
  EXPECT_EQ(findings_only(Status({"--at", "2026-01-14T10:00:00Z"})), findings_only(then));
}

// --- Every shared report through the command line ------------------------------------------

TEST_P(VulnCli, EverySharedScannerReportImportsOrIsRefusedClearly) {
  const fs::path root(ISMS_SHARED_TESTDATA);
  const fs::path dirs[] = {root / "defectdojo", root / "cyclonedx-bom-examples" / "VEX"};
  for (const fs::path& d : dirs) {
    if (!fs::exists(d)) GTEST_SKIP() << "shared test data not found at " << d;
  }
  const std::regex imported(
      R"(: (nessus|openvas|trivy|grype|osv|cyclonedx|sarif) scan S-\d+ by .+: (\d+) findings on )"
      R"(\d+ assets?, \d+ new, \d+ remediated by absence, \d+ reopened)");
  std::set<std::string> refused;
  int files = 0, with_findings = 0;
  for (const fs::path& d : dirs) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::recursive_directory_iterator(d)) {
      if (e.is_regular_file() && e.path().extension() != ".md") paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const fs::path& p : paths) {
      ++files;
      // Each report on an asset of its own, so one cannot remediate another's findings; VEX
      // documents name no asset.
      CliRun r = Isms({"import", "scan", p.string(), "--contract", "c", "--asset",
                       "asset-" + std::to_string(files)});
      const std::string rel = fs::relative(p, root).string();
      if (r.code == 0) {
        std::smatch m;
        bool dup = Has(r.out, "already imported as scan S-");
        EXPECT_TRUE(dup || std::regex_search(r.out, m, imported)) << rel << ": " << r.out;
        if (!dup && m.size() > 2 && m[2] != "0") ++with_findings;
        EXPECT_TRUE(Has(r.out, p.string())) << r.out;
      } else {
        refused.insert(rel);
        EXPECT_TRUE(Has(r.err, p.string() + " was not imported; nothing of it was stored"))
            << rel << ": " << r.err;
      }
    }
  }
  EXPECT_EQ(refused, (std::set<std::string>{"defectdojo/cyclonedx/dd_1_15_0.xml",
                                            "defectdojo/osv_scanner/no_findings.json"}));
  EXPECT_GT(files, 70);
  EXPECT_GT(with_findings, 50);
  // A CSAF advisory given to `import scan` is refused, pointing to `import advisory`.
  const fs::path csaf =
      root / "oasis-csaf" / "csaf_2.0" / "examples" / "csaf" / "rhsa-2019_1862.json";
  CliRun r = Isms({"import", "scan", csaf.string(), "--contract", "c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Has(r.err, "use `isms import advisory`")) << r.err;
  CliRun xml = Isms({"import", "scan", (root / "defectdojo/cyclonedx/dd_1_15_0.xml").string(),
                     "--contract", "c"});
  EXPECT_TRUE(Has(xml.err, "CycloneDX XML")) << xml.err;
  CliRun empty =
      Isms({"import", "scan", (root / "defectdojo/osv_scanner/no_findings.json").string(),
            "--contract", "c"});
  EXPECT_TRUE(Has(empty.err, "empty")) << empty.err;
}

TEST_P(VulnCli, EveryOasisCsafFileImportsAsAnAdvisoryOrIsRefusedClearly) {
  const fs::path root = fs::path(ISMS_SHARED_TESTDATA) / "oasis-csaf";
  if (!fs::exists(root)) GTEST_SKIP() << "shared test data not found at " << root;
  ImportOk("shop-trivy.json");
  const std::regex line(R"(: \S+ by .+, \d+ vulnerabilities, \d+ findings updated)");
  int advisories = 0, schemas = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    CliRun r = Isms({"import", "advisory", e.path().string(), "--contract", "c"});
    const bool schema = Has(e.path().string(), "schema");
    if (schema) {
      ++schemas;
      EXPECT_EQ(r.code, 1) << e.path();
      EXPECT_TRUE(Has(r.err, e.path().string() + ": not a CSAF document (a JSON schema)")) << r.err;
    } else {
      ++advisories;
      EXPECT_EQ(r.code, 0) << e.path() << ": " << r.err;
      EXPECT_TRUE(std::regex_search(r.out, line)) << r.out;
    }
  }
  EXPECT_EQ(schemas, 4);
  EXPECT_EQ(advisories, 19);
  EXPECT_EQ(Finding("CVE-2025-4001")["state"], "open") << "no OASIS example names it";
}

INSTANTIATE_TEST_SUITE_P(Engines, VulnCli, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
