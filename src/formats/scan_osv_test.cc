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

const std::string kDir = SharedFile("defectdojo/osv_scanner");

TEST(OsvTest, ManyFindings) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseOsv, ReadFile(kDir + "/many_findings.json"), sink).ok());
  EXPECT_EQ(sink.findings.size(), 66u);
  EXPECT_EQ(sink.assets.size(), 6u);
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "GHSA-25mq-v84q-4j7r");
  EXPECT_THAT(f.cves, ElementsAre("CVE-2022-31090"));
  EXPECT_EQ(f.component, "guzzlehttp/guzzle 6.3.3");
  EXPECT_EQ(f.purl, "pkg:composer/guzzlehttp/guzzle@6.3.3");
  EXPECT_THAT(f.asset, ElementsAre(AssetName{"path", "/tmpcardmarket-api/composer.lock"}));
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_EQ(f.fixed_version, "6.5.8");
  EXPECT_THAT(f.cwes, ElementsAre("CWE-200", "CWE-212"));
  EXPECT_EQ(f.cvss[0], (CvssVector{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N", "OSV", false}));
  EXPECT_EQ(f.severities[0], (SeverityWord{"OSV", "HIGH"}));
  EXPECT_EQ(FormatDate(*f.vuln_published), "2022-06-21");
}

TEST(OsvTest, SomeFindingsAndMultiCwe) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseOsv, ReadFile(kDir + "/some_findings.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].check_id, "MAL-2023-1035");
  EXPECT_THAT(sink.findings[0].aliases, ElementsAre("GHSA-8348-2q94-ffjx"));
  EXPECT_THAT(sink.findings[0].cwes, ElementsAre("CWE-506"));
  EXPECT_EQ(sink.findings[0].fix, FixState::kNotAvailable);
  CollectingSink multi;
  ASSERT_TRUE(Parse(ParseOsv, ReadFile(kDir + "/multi_cwe_fabricated.json"), multi).ok());
  ASSERT_EQ(multi.findings.size(), 1u);
  EXPECT_THAT(multi.findings[0].cwes, ElementsAre("CWE-79", "CWE-89"));
}

TEST(OsvTest, ZeroByteFileIsRefused) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  Status s = Parse(ParseOsv, ReadFile(kDir + "/no_findings.json"), sink, "no_findings.json");
  EXPECT_THAT(s.message(), HasSubstr("no_findings.json: the file is empty"));
}

TEST(OsvTest, FixFromTheRangeHoldingTheInstalledVersion) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseOsv, Fixture("osv-ranges.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 2u);
  EXPECT_EQ(sink.findings[0].fixed_version, "2.3.10");
  EXPECT_EQ(sink.findings[0].fix, FixState::kAvailable);
  EXPECT_EQ(sink.findings[1].fix, FixState::kNotAvailable);
  EXPECT_THAT(sink.findings[1].cves, ElementsAre("CVE-2024-2222"));  // from its group
  EXPECT_EQ(sink.findings[1].component, "demo 2.3.4");
}

TEST(OsvTest, EmptyResults) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseOsv, R"({"results": []})", sink).ok());
  EXPECT_EQ(sink.scans, 1);
  EXPECT_TRUE(sink.findings.empty());
}

}  // namespace
}  // namespace isms
