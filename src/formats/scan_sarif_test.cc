#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "formats/json_scan_test_util.h"

namespace isms {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_json::CollectingSink;
using testing_json::Fixture;
using testing_json::Parse;
using testing_json::ReadFile;
using testing_json::SharedFile;

const std::string kDir = SharedFile("defectdojo/sarif");

TEST(SarifTest, RawResultCounts) {
  ISMS_REQUIRE_SHARED(kDir);
  const std::pair<const char*, std::size_t> files[] = {
      {"DefectDojo_django-DefectDojo__2020-12-11_export.sarif", 510},
      {"appendix_k1.sarif", 0},
      {"cxf-3.4.6.sarif", 22},
      {"dependency_check.sarif", 13},
      {"no_runs.sarif", 0},
      {"suppression_test.sarif", 5}};
  for (const auto& [name, count] : files) {
    CollectingSink sink;
    Status s = Parse(ParseSarif, ReadFile(kDir + "/" + name), sink);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
    EXPECT_EQ(sink.findings.size(), count) << name;
    EXPECT_EQ(sink.scans, 1) << name;
  }
}

TEST(SarifTest, LgtmExportIsOwnCode) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseSarif,
                    ReadFile(kDir + "/DefectDojo_django-DefectDojo__2020-12-11_export.sarif"), sink)
                  .ok());
  EXPECT_EQ(sink.info.scanner, "LGTM.com 1.26.0-SNAPSHOT");
  EXPECT_EQ(sink.info.scan_type, "sarif:LGTM.com");
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "com.lgtm/javascript-queries:js/unused-local-variable");
  EXPECT_EQ(f.component, "dojo/static/dojo/js/index.js:220");
  EXPECT_TRUE(f.own_code);
  EXPECT_TRUE(f.informational);  // the rule's default level is note
  for (const RawFinding& g : sink.findings) EXPECT_TRUE(g.cves.empty());
}

TEST(SarifTest, GrypeSarifCarriesCves) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseSarif, ReadFile(kDir + "/cxf-3.4.6.sarif"), sink).ok());
  const RawFinding& f = sink.findings[0];
  EXPECT_THAT(f.cves, ElementsAre("CVE-2008-0732"));
  EXPECT_FALSE(f.own_code);
  EXPECT_EQ(f.severities[0], (SeverityWord{"Grype", "Low"}));
  ASSERT_EQ(sink.findings.size(), 22u);
  for (std::size_t i = 0; i < 21; ++i) EXPECT_FALSE(sink.findings[i].cves.empty()) << i;
  const RawFinding& ghsa = sink.findings[21];
  EXPECT_EQ(ghsa.check_id, "GHSA-57j2-w4cx-62h2-jackson-databind");
  EXPECT_THAT(ghsa.aliases, ElementsAre("GHSA-57j2-w4cx-62h2"));
  EXPECT_FALSE(ghsa.own_code);
}

TEST(SarifTest, DependencyCheckMixesCvesAndRetireJs) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseSarif, ReadFile(kDir + "/dependency_check.sarif"), sink).ok());
  int with_cve = 0;
  for (const RawFinding& f : sink.findings) with_cve += !f.cves.empty();
  EXPECT_EQ(with_cve, 9);
  EXPECT_EQ(sink.findings[0].severities[0], (SeverityWord{"dependency-check", "low"}));
}

TEST(SarifTest, SuppressedResultsAreNotAffected) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseSarif, ReadFile(kDir + "/suppression_test.sarif"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 5u);
  EXPECT_EQ(sink.findings[0].vex, VexState::kNotAffected);
  EXPECT_EQ(sink.findings[0].vex_justification, "suppressed (external)");
  EXPECT_EQ(sink.findings[2].vex_justification, "suppressed (inSource)");
  EXPECT_EQ(sink.findings[3].vex, VexState::kNone);
  EXPECT_EQ(sink.findings[4].vex, VexState::kNone);
}

TEST(SarifTest, CodeQlRunWithProvenance) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseSarif, Fixture("sarif-codeql.json"), sink).ok());
  EXPECT_EQ(sink.info.scanner, "CodeQL 2.16.0");
  ASSERT_EQ(sink.assets.size(), 1u);
  ASSERT_EQ(sink.findings.size(), 3u);  // the "absent" baseline result is gone
  const RawFinding& xss = sink.findings[0];
  EXPECT_THAT(xss.asset, ElementsAre(AssetName{"repository", "https://git.example/acme/shop"}));
  EXPECT_EQ(xss.component, "src/view.js:42");
  EXPECT_THAT(xss.cwes, ElementsAre("CWE-79", "CWE-116"));
  EXPECT_EQ(xss.severities[0], (SeverityWord{"CodeQL", "High"}));
  EXPECT_TRUE(xss.own_code);
  EXPECT_FALSE(xss.informational);
  EXPECT_TRUE(sink.findings[1].informational);
  EXPECT_THAT(sink.findings[2].cves, ElementsAre("CVE-2021-23337"));
  EXPECT_FALSE(sink.findings[2].own_code);
}

TEST(SarifTest, OtherVersionsAreRefused) {
  CollectingSink sink;
  Status s = Parse(ParseSarif, R"({"version": "1.0.0", "runs": []})", sink, "old.sarif");
  EXPECT_THAT(s.message(), HasSubstr("old.sarif: $.version: SARIF 1.0.0 is not supported"));
}

TEST(SarifTest, RunsMustBeAnArray) {
  CollectingSink sink;
  Status s = Parse(ParseSarif, R"({"version": "2.1.0", "runs": {}})", sink, "x.sarif");
  EXPECT_EQ(s.message(), "x.sarif: $.runs: expected an array");
}

}  // namespace
}  // namespace isms
