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

const std::string kDir = SharedFile("defectdojo/anchore_grype");

TEST(GrypeTest, RawMatchCounts) {
  ISMS_REQUIRE_SHARED(kDir);
  const std::pair<const char*, std::size_t> files[] = {
      {"check_all_fields.json", 6}, {"fix_available.json", 1},
      {"many_vulns3.json", 327},    {"many_vulns_with_epss_values.json", 15},
      {"no_vuln.json", 0},          {"same_cve_different_paths.json", 2}};
  for (const auto& [name, count] : files) {
    CollectingSink sink;
    Status s = Parse(ParseGrype, ReadFile(kDir + "/" + name), sink);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
    EXPECT_EQ(sink.findings.size(), count) << name;
    EXPECT_EQ(sink.info.scan_type, "grype:image") << name;
    ASSERT_EQ(sink.assets.size(), 1u) << name;
  }
}

TEST(GrypeTest, CheckAllFields) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseGrype, ReadFile(kDir + "/check_all_fields.json"), sink).ok());
  EXPECT_EQ(sink.info.scanner, "Grype 0.28.0");
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "CVE-2004-0971");
  EXPECT_EQ(f.component, "libgssapi-krb5-2 1.17-3+deb10u3");
  EXPECT_EQ(f.purl, "pkg:deb/debian/libgssapi-krb5-2@1.17-3+deb10u3?arch=amd64");
  EXPECT_EQ(f.asset[0], (AssetName{"image", "vulnerable-image:latest"}));
  EXPECT_EQ(f.fix, FixState::kNotAvailable);
  EXPECT_EQ(f.severities[0], (SeverityWord{"Grype", "Negligible"}));
  EXPECT_EQ(f.cvss[0], (CvssVector{"AV:L/AC:L/Au:N/C:N/I:P/A:N", "NVD", true}));
  int fixed = 0, wont = 0;
  for (const RawFinding& g : sink.findings) {
    fixed += g.fix == FixState::kAvailable;
    wont += g.fix == FixState::kWontFix;
  }
  EXPECT_EQ(fixed, 2);
  EXPECT_EQ(wont, 3);
}

TEST(GrypeTest, NvdSourceAndTimestamp) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseGrype, ReadFile(kDir + "/many_vulns_with_epss_values.json"), sink).ok());
  EXPECT_EQ(FormatInstant(*sink.info.scanned_at), "2025-06-19T11:43:35.523Z");
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.cvss[0], (CvssVector{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "NVD", true}));
}

TEST(GrypeTest, OldReportWithCpeObjects) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseGrype, ReadFile(kDir + "/many_vulns3.json"), sink).ok());
  EXPECT_EQ(sink.findings[0].cpe, "");
  EXPECT_EQ(sink.findings[0].cvss[0].vector, "AV:L/AC:L/Au:N/C:C/I:C/A:C");
}

TEST(GrypeTest, DirectoryGhsaWithRelatedCve) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseGrype, Fixture("grype-directory.json"), sink).ok());
  EXPECT_EQ(sink.info.scan_type, "grype:directory");
  EXPECT_EQ(FormatInstant(*sink.info.scanned_at), "2024-02-01T08:30:00.500Z");
  ASSERT_EQ(sink.findings.size(), 1u);
  const RawFinding& f = sink.findings[0];
  EXPECT_THAT(f.asset, ElementsAre(AssetName{"path", "/srv/app"}));
  EXPECT_EQ(f.check_id, "GHSA-jfh8-c2jp-5v3q");
  EXPECT_THAT(f.cves, ElementsAre("CVE-2021-44228"));
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_EQ(f.fixed_version, "2.15.0");
  EXPECT_EQ(f.cpe, "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*");
  EXPECT_EQ(f.cvss, (std::vector<CvssVector>{
                        {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "GitHub", false},
                        {"AV:N/AC:M/Au:N/C:C/I:C/A:C", "NVD", true}}));
  EXPECT_EQ(f.severities, (std::vector<SeverityWord>{{"Grype", "Critical"}, {"NVD", "Critical"}}));
}

TEST(GrypeTest, NotAGrypeReport) {
  CollectingSink sink;
  Status s = Parse(ParseGrype, R"({"runs": []})", sink, "x.json");
  EXPECT_THAT(s.message(), HasSubstr("x.json: $: not a Grype report"));
}

}  // namespace
}  // namespace isms
