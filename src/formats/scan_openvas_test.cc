#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "formats/scan.h"
#include "formats/scan_parsers.h"
#include "formats/xml_scan_test_util.h"

namespace isms {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using testing_xml::At;
using testing_xml::FixturePath;
using testing_xml::ReadFile;
using testing_xml::RecordingSink;
using testing_xml::SharedPath;
using testing_xml::Values;

Status Parse(std::string_view data, RecordingSink& sink, std::string_view source = "report.xml") {
  Status s = ParseOpenVas(data, source, sink);
  EXPECT_TRUE(sink.order_ok) << "OnScan must come once, before any asset or finding";
  return s;
}

class OpenVasGvm22FixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = ReadFile(FixturePath("openvas/gvm22-hosts.xml"));
    ASSERT_FALSE(data_.empty());
    Status s = Parse(data_, sink_, "gvm22-hosts.xml");
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(sink_.findings.size(), 5u);
  }
  std::string data_;
  RecordingSink sink_;
};

TEST_F(OpenVasGvm22FixtureTest, ScanInfoFromGmpVersionConfigAndScanStart) {
  EXPECT_EQ(sink_.info.format, ScanFormat::kOpenVas);
  EXPECT_EQ(sink_.info.scanner, "GVM 22.4");
  EXPECT_EQ(sink_.info.scan_type, "openvas:Full and fast");
  EXPECT_EQ(sink_.info.scanned_at, At("2024-05-13T10:00:05Z"));
  EXPECT_FALSE(sink_.info.credentialed.has_value());
}

TEST_F(OpenVasGvm22FixtureTest, VendorFixResultWithNvdVector) {
  const RawFinding& f = sink_.findings[0];
  EXPECT_THAT(Values(f.asset), ElementsAre("fqdn:app02.estate.example", "ip:198.51.100.20"));
  EXPECT_EQ(f.port, "443/tcp");
  EXPECT_EQ(f.check_id, "1.3.6.1.4.1.25623.1.0.900001");
  EXPECT_EQ(f.title, "Example TLS Library Denial of Service");
  EXPECT_THAT(f.cves, ElementsAre("CVE-2024-0727", "CVE-2024-2511"));
  // The tags repeat the NVD vector: kept once, with its NVD origin.
  EXPECT_THAT(f.cvss,
              ElementsAre(CvssVector{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "NVD", true}));
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"OpenVAS", "High"}));
  EXPECT_FALSE(f.informational);
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_EQ(f.solution, "Update to version 3.0.14 or later.");
  EXPECT_EQ(f.fixed_version, "3.0.14");
  EXPECT_EQ(data_.substr(f.offset, 7), "<result");
}

TEST_F(OpenVasGvm22FixtureTest, SolutionTypesMapToFixStates) {
  EXPECT_EQ(sink_.findings[1].fix, FixState::kWontFix);
  EXPECT_EQ(sink_.findings[2].fix, FixState::kNotAvailable);
  EXPECT_EQ(sink_.findings[3].fix, FixState::kUnknown);  // Mitigation
  EXPECT_THAT(sink_.findings[1].cvss,
              ElementsAre(CvssVector{"AV:N/AC:L/Au:N/C:C/I:C/A:C", "Greenbone", false}));
}

TEST_F(OpenVasGvm22FixtureTest, EmptyThreatTakesGvmsWordForTheScoreAndLogIsInformational) {
  EXPECT_THAT(Values(sink_.findings[2].asset), ElementsAre("ip:198.51.100.21"));
  EXPECT_THAT(sink_.findings[2].severities, ElementsAre(SeverityWord{"OpenVAS", "Medium"}));
  EXPECT_FALSE(sink_.findings[2].informational);
  EXPECT_THAT(sink_.findings[3].severities, ElementsAre(SeverityWord{"OpenVAS", "Log"}));
  EXPECT_TRUE(sink_.findings[3].informational);
}

TEST_F(OpenVasGvm22FixtureTest, FalsePositiveOverrideIsANotAffectedStatement) {
  const RawFinding& f = sink_.findings[4];
  EXPECT_EQ(f.vex, VexState::kNotAffected);
  EXPECT_FALSE(f.vex_justification.empty());
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"OpenVAS", "False Positive"}));
}

TEST_F(OpenVasGvm22FixtureTest, AssetsAreTheReportHostsThenResultHostsNotListed) {
  ASSERT_EQ(sink_.assets.size(), 4u);
  EXPECT_THAT(Values(sink_.assets[0].names),
              ElementsAre("fqdn:app02.estate.example", "ip:198.51.100.20"));
  EXPECT_EQ(sink_.assets[0].scanned_at, At("2024-05-13T10:00:10Z"));
  EXPECT_EQ(sink_.assets[0].credentialed, true);
  EXPECT_THAT(Values(sink_.assets[1].names), ElementsAre("ip:198.51.100.21"));
  EXPECT_EQ(sink_.assets[1].credentialed, false);
  EXPECT_THAT(Values(sink_.assets[2].names), ElementsAre("ip:198.51.100.30"));
  EXPECT_FALSE(sink_.assets[2].credentialed.has_value());
  EXPECT_THAT(Values(sink_.assets[3].names), ElementsAre("ip:198.51.100.22"));
  EXPECT_EQ(sink_.assets[3].scanned_at, At("2024-05-13T10:00:05Z"));  // the scan's start
}

TEST(OpenVasTest, Gmp9CveTextAndTags) {
  RecordingSink sink;
  Status s = Parse(ReadFile(FixturePath("openvas/gmp9-cve-text.xml")), sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sink.info.scanner, "GVM 9.0");
  EXPECT_EQ(sink.info.scan_type, "openvas");
  EXPECT_EQ(sink.info.scanned_at, At("2023-09-26T10:50:34Z"));
  ASSERT_EQ(sink.findings.size(), 2u);
  const RawFinding& a = sink.findings[0];
  EXPECT_THAT(a.cves, ElementsAre("CVE-2011-2523", "CVE-2011-0762"));
  EXPECT_THAT(a.cvss, ElementsAre(CvssVector{"AV:N/AC:L/Au:N/C:C/I:C/A:C", "Greenbone", false}));
  EXPECT_EQ(a.fix, FixState::kAvailable);
  EXPECT_EQ(a.solution, "Update\nto 2.3.5 | or later.");
  const RawFinding& b = sink.findings[1];
  EXPECT_THAT(b.cves, IsEmpty());        // NOCVE
  EXPECT_EQ(b.fix, FixState::kUnknown);  // Workaround
  EXPECT_EQ(b.solution, "Change the setting.");
  EXPECT_THAT(b.severities, ElementsAre(SeverityWord{"OpenVAS", "Low"}));
  ASSERT_EQ(sink.assets.size(), 1u);
  EXPECT_THAT(Values(sink.assets[0].names), ElementsAre("ip:203.0.113.5"));
}

TEST(OpenVasTest, TagsWithEmptyAndUnkeyedPiecesAreRead) {
  RecordingSink sink;
  Status s = Parse(
      "<report><results><result><host>192.0.2.1</host><nvt oid='1'><name>N</name>"
      "<tags>a=b||x|||solution=Fix | it|solution_type=VendorFix|</tags></nvt>"
      "<threat>Medium</threat></result></results></report>",
      sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].solution, "Fix | it");
  EXPECT_EQ(sink.findings[0].fix, FixState::kAvailable);
}

TEST(OpenVasTest, ReportWithoutResultsGivesScanInfoOnly) {
  RecordingSink sink;
  Status s = Parse(ReadFile(FixturePath("openvas/no-results.xml")), sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sink.scans, 1);
  EXPECT_EQ(sink.info.scanner, "GVM 22.6");
  EXPECT_TRUE(sink.findings.empty());
  EXPECT_TRUE(sink.assets.empty());
}

TEST(OpenVasTest, OmpVersionNamesOpenVas) {
  RecordingSink sink;
  Status s =
      Parse("<report><report><omp><version>7.0</version></omp><results/></report></report>", sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sink.info.scanner, "OpenVAS 7.0");
}

TEST(OpenVasTest, WrongRootElementIsRefused) {
  RecordingSink sink;
  Status s = Parse("<NessusClientData_v2/>", sink, "x.xml");
  EXPECT_EQ(s.message(),
            "x.xml: the root element is <NessusClientData_v2>: not an OpenVAS/GVM report "
            "(expected <report> or <get_reports_response>)");
}

TEST(OpenVasTest, SinkErrorStopsTheParse) {
  RecordingSink sink;
  sink.fail_after = 2;
  Status s = Parse(ReadFile(FixturePath("openvas/gvm22-hosts.xml")), sink);
  EXPECT_EQ(s, Status::FailedPrecondition("sink refused the finding"));
  EXPECT_EQ(sink.findings.size(), 2u);
  EXPECT_TRUE(sink.assets.empty());
}

TEST(OpenVasTest, TruncatedReportNamesLineAndColumn) {
  const std::string data = ReadFile(FixturePath("openvas/gvm22-hosts.xml"));
  const std::size_t cut = data.find("<threat>High");
  RecordingSink sink;
  Status s = Parse(std::string_view(data).substr(0, cut + 5), sink, "cut.xml");
  const auto line = std::count(data.begin(), data.begin() + cut, '\n') + 1;
  EXPECT_THAT(s.message(), MatchesRegex("cut\\.xml: line " + std::to_string(line) +
                                        ", column [0-9]+: unclosed token; the file is damaged or "
                                        "truncated"));
  EXPECT_TRUE(sink.findings.empty());
}

class OpenVasSharedTest : public ::testing::Test {
 protected:
  Status ParseShared(const std::string& name) {
    data_ = ReadFile(SharedPath("defectdojo/openvas/" + name));
    return Parse(data_, sink_, name);
  }
  std::string data_;
  RecordingSink sink_;
};

#define ISMS_PARSE_SHARED(name)                                    \
  ISMS_REQUIRE_SHARED_XML(SharedPath("defectdojo/openvas/" name)); \
  {                                                                \
    Status s = ParseShared(name);                                  \
    ASSERT_TRUE(s.ok()) << s.ToString();                           \
  }

std::size_t Count(const std::vector<RawFinding>& fs, std::string_view word) {
  return static_cast<std::size_t>(std::count_if(fs.begin(), fs.end(), [&](const RawFinding& f) {
    return !f.severities.empty() && f.severities[0].value == word;
  }));
}

TEST_F(OpenVasSharedTest, ManyVuln) {
  ISMS_PARSE_SHARED("many_vuln.xml");
  EXPECT_EQ(sink_.info.scanner, "GVM 9.0");
  EXPECT_EQ(sink_.info.scanned_at, At("2023-09-26T10:50:34Z"));
  const auto& fs = sink_.findings;
  ASSERT_EQ(fs.size(), 44u);
  EXPECT_EQ(Count(fs, "High"), 19u);
  // 23 Medium threats, and the 2 empty threats scored 4.0, which GVM rates Medium.
  EXPECT_EQ(Count(fs, "Medium"), 25u);
  EXPECT_EQ(
      std::count_if(fs.begin(), fs.end(), [](const RawFinding& f) { return f.informational; }), 0);
  std::size_t cves = 0;
  for (const RawFinding& f : fs) cves += f.cves.size();
  EXPECT_EQ(cves, 55u);
  for (const RawFinding& f : fs) {
    EXPECT_THAT(Values(f.asset), ElementsAre("host:b6b9f466d63", "ip:192.168.1.1001"));
    EXPECT_FALSE(f.check_id.empty());
    EXPECT_FALSE(f.title.empty());
    EXPECT_FALSE(f.port.empty());
  }
  EXPECT_EQ(fs[0].fix, FixState::kUnknown);  // solution_type=Mitigation in the tags
  // The report's own <host> (no hostname detail) takes the name its results gave.
  ASSERT_EQ(sink_.assets.size(), 1u);
  EXPECT_THAT(Values(sink_.assets[0].names), ElementsAre("host:b6b9f466d63", "ip:192.168.1.1001"));
  EXPECT_EQ(sink_.assets[0].scanned_at, At("2023-09-26T10:50:34Z"));
}

TEST_F(OpenVasSharedTest, OneVuln) {
  ISMS_PARSE_SHARED("one_vuln.xml");
  ASSERT_EQ(sink_.findings.size(), 1u);
  const RawFinding& f = sink_.findings[0];
  EXPECT_THAT(Values(f.asset), ElementsAre("ip:10.0.101.2"));  // empty <hostname/>
  EXPECT_EQ(f.port, "general/tcp");
  EXPECT_EQ(f.cves.size(), 12u);
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_EQ(f.fixed_version, "117");
  EXPECT_EQ(f.solution,
            "Upgrade to version 117 or later,\nPlease see the references for more "
            "information.");
}

TEST_F(OpenVasSharedTest, NoVuln) {
  ISMS_PARSE_SHARED("no_vuln.xml");
  EXPECT_EQ(sink_.scans, 1);
  EXPECT_TRUE(sink_.findings.empty());
  EXPECT_TRUE(sink_.assets.empty());
  EXPECT_EQ(sink_.info.scanned_at, At("2023-09-25T10:46:09Z"));
}

TEST_F(OpenVasSharedTest, Gvm22ReportDetail) {
  ISMS_PARSE_SHARED("report_detail_v2.xml");
  EXPECT_EQ(sink_.info.scanner, "GVM 22.6");
  EXPECT_EQ(sink_.info.scanned_at, At("2025-08-22T13:01:38Z"));
  ASSERT_EQ(sink_.findings.size(), 1u);
  const RawFinding& f = sink_.findings[0];
  EXPECT_THAT(Values(f.asset), ElementsAre("host:server99", "ip:10.99.99.99"));
  EXPECT_EQ(f.port, "42/tcp");
  EXPECT_EQ(f.check_id, "1.3.6.1.4.1.25623.1.0.836484");
  EXPECT_EQ(f.cves.size(), 93u);
  EXPECT_THAT(f.cvss,
              ElementsAre(CvssVector{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "NVD", true}));
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"OpenVAS", "High"}));
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_EQ(f.solution,
            "The vendor has released updates. Please see\nthe references for more "
            "information.");
}

TEST(OpenVasSharedFilesTest, EveryFileParsesAndEveryTruncatedCopyFailsWithAPosition) {
  const std::string dir = SharedPath("defectdojo/openvas");
  ISMS_REQUIRE_SHARED_XML(dir);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    const std::string name = entry.path().filename().string();
    const std::string data = ReadFile(entry.path().string());
    RecordingSink whole;
    Status s = Parse(data, whole, name);
    EXPECT_TRUE(s.ok()) << s.ToString();
    RecordingSink cut;
    s = Parse(std::string_view(data).substr(0, data.size() / 2), cut, name);
    EXPECT_THAT(s.message(), MatchesRegex(".*: line [0-9]+, column [0-9]+: .*; the file is "
                                          "damaged or truncated"))
        << name;
  }
  EXPECT_EQ(files, 4);
}

}  // namespace
}  // namespace isms
