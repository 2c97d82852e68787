#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
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

const std::string kDojo = SharedFile("defectdojo/cyclonedx");
const std::string kExamples = SharedFile("cyclonedx-bom-examples");

std::vector<std::pair<std::string, VexState>> States(const CollectingSink& sink) {
  std::vector<std::pair<std::string, VexState>> out;
  for (const RawFinding& f : sink.findings) out.emplace_back(f.component, f.vex);
  return out;
}

TEST(CycloneDxTest, DefectDojoFiles) {
  ISMS_REQUIRE_SHARED(kDojo);
  const std::pair<const char*, std::size_t> files[] = {
      {"issue_9277.json", 14}, {"jake2.json", 7},
      {"log4j.json", 8},       {"nested-component-log4j.json", 8},
      {"no-severity.json", 1}, {"valid-vulnerability-1.4.json", 1}};
  for (const auto& [name, count] : files) {
    CollectingSink sink;
    Status s = Parse(ParseCycloneDx, ReadFile(kDojo + "/" + name), sink);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
    EXPECT_EQ(sink.findings.size(), count) << name;
  }
}

TEST(CycloneDxTest, Log4jRatingsAndAnalysis) {
  ISMS_REQUIRE_SHARED(kDojo);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseCycloneDx, ReadFile(kDojo + "/log4j.json"), sink).ok());
  EXPECT_EQ(sink.info.scanner, "grype 0.41.0");
  EXPECT_EQ(sink.info.scan_type, "cyclonedx:1.4");
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "CVE-2021-44228");
  EXPECT_EQ(f.component, "log4j-core 2.13.2");
  EXPECT_EQ(f.purl, "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2");
  EXPECT_EQ(f.vex, VexState::kUnderInvestigation);
  ASSERT_EQ(f.cvss.size(), 2u);
  EXPECT_EQ(f.cvss[1].vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H");
}

TEST(CycloneDxTest, NotAffectedWithJustification) {
  ISMS_REQUIRE_SHARED(kDojo);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseCycloneDx, ReadFile(kDojo + "/valid-vulnerability-1.4.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].vex, VexState::kNotAffected);
  EXPECT_FALSE(sink.findings[0].vex_justification.empty());
  EXPECT_EQ(sink.findings[0].cvss[0].vector.substr(0, 9), "CVSS:3.0/");
}

TEST(CycloneDxTest, XmlIsRefused) {
  ISMS_REQUIRE_SHARED(kDojo);
  CollectingSink sink;
  Status s = Parse(ParseCycloneDx, ReadFile(kDojo + "/dd_1_15_0.xml"), sink, "dd.xml");
  EXPECT_THAT(s.message(), HasSubstr("dd.xml is CycloneDX XML: only CycloneDX JSON is supported"));
}

TEST(CycloneDxTest, PlainSbomsHaveNoFindings) {
  ISMS_REQUIRE_SHARED(kExamples);
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kExamples + "/SBOM")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    CollectingSink sink;
    Status s = Parse(ParseCycloneDx, ReadFile(entry.path()), sink);
    ASSERT_TRUE(s.ok()) << entry.path() << ": " << s.ToString();
    EXPECT_TRUE(sink.findings.empty()) << entry.path();
    EXPECT_EQ(sink.assets.size(), 1u) << entry.path();
  }
  EXPECT_EQ(files, 4);
}

TEST(CycloneDxTest, EveryVexExampleParses) {
  ISMS_REQUIRE_SHARED(kExamples);
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kExamples + "/VEX")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    CollectingSink sink;
    Status s = Parse(ParseCycloneDx, ReadFile(entry.path()), sink);
    EXPECT_TRUE(s.ok()) << entry.path() << ": " << s.ToString();
  }
  EXPECT_EQ(files, 39);
}

TEST(CycloneDxTest, CisaCase1FourStatuses) {
  ISMS_REQUIRE_SHARED(kExamples);
  const std::pair<const char*, VexState> cases[] = {
      {"vex-affected.json", VexState::kAffected},
      {"vex-fixed.json", VexState::kFixed},
      {"vex-not_affected.json", VexState::kNotAffected},
      {"vex-under_investigation.json", VexState::kUnderInvestigation}};
  for (const auto& [name, state] : cases) {
    CollectingSink sink;
    ASSERT_TRUE(
        Parse(ParseCycloneDx, ReadFile(kExamples + "/VEX/CISA-Use-Cases/Case-1/" + name), sink)
            .ok());
    ASSERT_EQ(sink.findings.size(), 1u) << name;
    EXPECT_EQ(sink.findings[0].vex, state) << name;
    EXPECT_THAT(sink.findings[0].cves, ElementsAre("CVE-2021-44228"));
    EXPECT_EQ(sink.findings[0].asset.size(), 1u);
  }
}

TEST(CycloneDxTest, CisaCase6AffectedAndNotAffectedVersions) {
  ISMS_REQUIRE_SHARED(kExamples);
  CollectingSink sink;
  ASSERT_TRUE(
      Parse(ParseCycloneDx, ReadFile(kExamples + "/VEX/CISA-Use-Cases/Case-6/vex.json"), sink)
          .ok());
  using P = std::pair<std::string, VexState>;
  EXPECT_EQ(States(sink), (std::vector<P>{{"ABC 2.4", VexState::kAffected},
                                          {"ABC 2.6", VexState::kAffected},
                                          {"ABC vers:generic/>=2.9|<=4.1", VexState::kAffected},
                                          {"ABC vers:generic/>=1.0|<=2.3", VexState::kNotAffected},
                                          {"ABC 2.5", VexState::kNotAffected},
                                          {"ABC vers:generic/>=2.7|<=2.8", VexState::kNotAffected},
                                          {"ABC 4.2", VexState::kNotAffected}}));
}

TEST(CycloneDxTest, UseCase5RangeAffectedAndNotAffected) {
  ISMS_REQUIRE_SHARED(kExamples);
  CollectingSink sink;
  ASSERT_TRUE(
      Parse(ParseCycloneDx, ReadFile(kExamples + "/VEX/Use-Cases/Case-5/vex.json"), sink).ok());
  using P = std::pair<std::string, VexState>;
  EXPECT_EQ(States(sink),
            (std::vector<P>{{"Acme Product vers:semver/<7.0.0|>=1.5.0", VexState::kAffected},
                            {"Acme Product vers:semver/<1.5.0|>=7.0.0", VexState::kNotAffected}}));
  EXPECT_EQ(sink.findings[1].vex_justification, "code_not_reachable");
  EXPECT_EQ(sink.findings[0].cvss[0],
            (CvssVector{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", "NVD", true}));
}

TEST(CycloneDxTest, UseCase13BomLinksToOtherBoms) {
  ISMS_REQUIRE_SHARED(kExamples);
  CollectingSink sink;
  ASSERT_TRUE(
      Parse(ParseCycloneDx, ReadFile(kExamples + "/VEX/Use-Cases/Case-13/vex.json"), sink).ok());
  using P = std::pair<std::string, VexState>;
  EXPECT_EQ(States(sink), (std::vector<P>{{"acme-product-1", VexState::kNotAffected},
                                          {"acme-product-2", VexState::kNotAffected},
                                          {"acme-product-3", VexState::kAffected}}));
}

TEST(CycloneDxTest, UseCase7WithoutAffectsIsOneStatement) {
  ISMS_REQUIRE_SHARED(kExamples);
  CollectingSink sink;
  ASSERT_TRUE(
      Parse(ParseCycloneDx, ReadFile(kExamples + "/VEX/Use-Cases/Case-7/vex.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].component, "");
  EXPECT_EQ(sink.findings[0].vex, VexState::kNotAffected);
}

TEST(CycloneDxTest, UseCase11Ripple20NotAffected) {
  ISMS_REQUIRE_SHARED(kExamples);
  CollectingSink sink;
  ASSERT_TRUE(
      Parse(ParseCycloneDx, ReadFile(kExamples + "/VEX/Use-Cases/Case-11/vex.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 19u);
  for (const RawFinding& f : sink.findings) EXPECT_EQ(f.vex, VexState::kNotAffected);
}

TEST(CycloneDxTest, ContainerBomWithNestedComponents) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseCycloneDx, Fixture("cyclonedx-container-vex.json"), sink).ok());
  EXPECT_EQ(sink.info.scanner, "scanner-x 2.1");
  EXPECT_EQ(FormatInstant(*sink.info.scanned_at), "2024-06-01T12:00:00.000Z");
  ASSERT_EQ(sink.findings.size(), 3u);
  const RawFinding& f = sink.findings[0];
  EXPECT_THAT(f.asset, ElementsAre(AssetName{"image", "registry.example/api:7.2"}));
  EXPECT_EQ(f.component, "com.fasterxml.jackson.core/jackson-databind 2.9.4");
  EXPECT_EQ(f.purl, "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4");
  EXPECT_THAT(f.aliases, ElementsAre("GHSA-288c-cq4h-88gq"));
  EXPECT_THAT(f.cwes, ElementsAre("CWE-611"));
  EXPECT_EQ(
      f.cvss,
      (std::vector<CvssVector>{
          {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", "NVD", true},
          {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N", "Acme", false}}));
  EXPECT_EQ(f.vex, VexState::kNotAffected);
  EXPECT_EQ(f.vex_justification, "code_not_reachable");
  EXPECT_EQ(FormatDate(*f.vuln_published), "2020-12-03");
  EXPECT_EQ(f.title, "XXE in jackson-databind");
  EXPECT_EQ(sink.findings[1].component, "inner 1.0");
  EXPECT_EQ(sink.findings[1].vex, VexState::kNotAffected);  // the analysis state decides
  EXPECT_EQ(sink.findings[2].component, "registry.example/api 7.2");
  EXPECT_EQ(sink.findings[2].vex, VexState::kAffected);
  EXPECT_EQ(sink.findings[2].fix, FixState::kAvailable);
}

TEST(CycloneDxTest, NotCycloneDx) {
  CollectingSink sink;
  Status s = Parse(ParseCycloneDx, R"({"bomFormat": "SPDX"})", sink, "x.json");
  EXPECT_THAT(s.message(), HasSubstr("x.json: $.bomFormat: expected \"CycloneDX\""));
}

}  // namespace
}  // namespace isms
