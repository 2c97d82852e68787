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
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using testing_xml::At;
using testing_xml::D;
using testing_xml::FixturePath;
using testing_xml::ReadFile;
using testing_xml::RecordingSink;
using testing_xml::SharedPath;
using testing_xml::Values;

Status Parse(std::string_view data, RecordingSink& sink, std::string_view source = "scan.nessus") {
  Status s = ParseNessus(data, source, sink);
  EXPECT_TRUE(sink.order_ok) << "OnScan must come once, before any asset or finding";
  return s;
}

std::size_t CountIf(const std::vector<RawFinding>& fs, bool (*pred)(const RawFinding&)) {
  return static_cast<std::size_t>(std::count_if(fs.begin(), fs.end(), pred));
}

class NessusFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = ReadFile(FixturePath("nessus/two-hosts.nessus"));
    ASSERT_FALSE(data_.empty());
    Status s = Parse(data_, sink_, "two-hosts.nessus");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string data_;
  RecordingSink sink_;
};

TEST_F(NessusFixtureTest, ScanInfoHasPolicyEarliestHostStartAndWhetherEveryHostLoggedIn) {
  EXPECT_EQ(sink_.scans, 1);
  EXPECT_EQ(sink_.info.format, ScanFormat::kNessus);
  EXPECT_EQ(sink_.info.scanner, "Nessus");
  EXPECT_EQ(sink_.info.scan_type, "nessus:Monthly Credentialed Scan");
  // HOST_START_TIMESTAMP wins over the local-time HOST_START text.
  EXPECT_EQ(sink_.info.scanned_at, At("2024-05-13T08:00:00Z"));
  // One host logged in, the other did not: the scan as a whole was not credentialed.
  EXPECT_EQ(sink_.info.credentialed, false);
}

TEST_F(NessusFixtureTest, OneAssetPerReportHostIncludingHostsWithoutFindings) {
  ASSERT_EQ(sink_.assets.size(), 2u);
  EXPECT_THAT(Values(sink_.assets[0].names),
              ElementsAre("fqdn:web01.estate.example", "ip:192.0.2.10", "host:WEB01",
                          "mac:00:50:56:aa:bb:01", "mac:00:50:56:aa:bb:02"));
  EXPECT_EQ(sink_.assets[0].scanned_at, At("2024-05-13T08:00:00Z"));
  EXPECT_EQ(sink_.assets[0].credentialed, true);
  EXPECT_THAT(Values(sink_.assets[1].names), ElementsAre("ip:192.0.2.7"));
  EXPECT_EQ(sink_.assets[1].scanned_at, At("2024-05-13T08:59:30Z"));  // HOST_START read as UTC
  EXPECT_EQ(sink_.assets[1].credentialed, false);
}

TEST_F(NessusFixtureTest, OneFindingPerReportItemOnItsHost) {
  ASSERT_EQ(sink_.findings.size(), 4u);
  for (const RawFinding& f : sink_.findings) {
    EXPECT_EQ(f.asset, sink_.assets[0].names);
    EXPECT_EQ(data_.substr(f.offset, 11), "<ReportItem") << f.check_id;
  }
  EXPECT_EQ(sink_.findings[0].check_id, "19506");
  EXPECT_EQ(sink_.findings[1].check_id, "200001");
  EXPECT_EQ(sink_.findings[2].check_id, "200002");
  EXPECT_EQ(sink_.findings[3].check_id, "200003");
}

TEST_F(NessusFixtureTest, SeverityZeroIsInformational) {
  const RawFinding& f = sink_.findings[0];
  EXPECT_TRUE(f.informational);
  EXPECT_EQ(f.port, "0/tcp");
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"Nessus", "None"}));
  EXPECT_EQ(f.solution, "n/a");
  EXPECT_EQ(f.fix, FixState::kUnknown);
}

TEST_F(NessusFixtureTest, VulnerabilityFieldsAreMapped) {
  const RawFinding& f = sink_.findings[1];
  EXPECT_FALSE(f.informational);
  EXPECT_EQ(f.port, "443/tcp");
  EXPECT_EQ(f.title, "Example HTTP Server < 2.4.59 Multiple Vulnerabilities");
  EXPECT_THAT(f.cves, ElementsAre("CVE-2024-27316", "CVE-2024-24795"));
  EXPECT_THAT(f.cwes, ElementsAre("CWE-79", "CWE-400"));
  EXPECT_THAT(
      f.cvss,
      ElementsAre(CvssVector{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/"
                             "SA:N",
                             "Tenable", false},
                  CvssVector{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "Tenable", false},
                  CvssVector{"AV:N/AC:L/Au:N/C:N/I:N/A:C", "Tenable", false}));
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"Nessus", "High"}));
  EXPECT_EQ(f.patch_published, D("2024-04-04"));
  EXPECT_EQ(f.vuln_published, D("2024-04-03"));
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_TRUE(f.exploit_available);
  EXPECT_EQ(f.cpe, "cpe:/a:example:http_server");
  EXPECT_EQ(f.solution, "Upgrade to version 2.4.59 or later.\n\nSee the vendor advisory.");
  EXPECT_EQ(f.vex, VexState::kNone);
}

TEST_F(NessusFixtureTest, SolutionWithoutPatchDateLeavesTheFixUnknown) {
  const RawFinding& f = sink_.findings[2];
  EXPECT_EQ(f.solution, "Disable the weak algorithms.");
  EXPECT_EQ(f.fix, FixState::kUnknown);
  EXPECT_FALSE(f.patch_published.has_value());
  // No risk_factor: the word comes from the severity attribute.
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"Nessus", "Medium"}));
  EXPECT_THAT(f.cvss, ElementsAre(CvssVector{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N",
                                             "Tenable", false}));
  EXPECT_TRUE(f.exploit_available);  // CISA-KNOWN-EXPLOITED xref
  EXPECT_THAT(f.aliases, ElementsAre("MS17-010"));
}

TEST_F(NessusFixtureTest, UnsupportedByVendorIsWontFix) {
  EXPECT_EQ(sink_.findings[3].fix, FixState::kWontFix);
  EXPECT_THAT(sink_.findings[3].severities, ElementsAre(SeverityWord{"Nessus", "Critical"}));
}

TEST(NessusTest, ScanThatReachedNoHostGivesScanInfoOnly) {
  RecordingSink sink;
  Status s = Parse(ReadFile(FixturePath("nessus/no-hosts.nessus")), sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sink.scans, 1);
  EXPECT_EQ(sink.info.scan_type, "nessus:Basic Network Scan");
  EXPECT_FALSE(sink.info.scanned_at.has_value());
  EXPECT_FALSE(sink.info.credentialed.has_value());
  EXPECT_TRUE(sink.assets.empty());
  EXPECT_TRUE(sink.findings.empty());
}

TEST(NessusTest, HostWithoutHostPropertiesIsNamedByItsReportHostName) {
  RecordingSink sink;
  Status s = Parse(
      "<NessusClientData_v2><Report name='r'><ReportHost name='db7'>"
      "<ReportItem port='5432' protocol='tcp' severity='1' pluginID='9' pluginName='P'/>"
      "</ReportHost></Report></NessusClientData_v2>",
      sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sink.info.scan_type, "nessus:");
  ASSERT_EQ(sink.assets.size(), 1u);
  EXPECT_THAT(Values(sink.assets[0].names), ElementsAre("host:db7"));
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_THAT(sink.findings[0].severities, ElementsAre(SeverityWord{"Nessus", "Low"}));
  EXPECT_EQ(sink.findings[0].port, "5432/tcp");
}

TEST(NessusTest, PluginNameElementTitlesAnItemWithoutPluginNameAndMalwareMeansAnExploit) {
  RecordingSink sink;
  Status s = Parse(
      "<NessusClientData_v2><Report name='r'><ReportHost name='db7'>"
      "<ReportItem port='0' protocol='tcp' severity='2' pluginID='9' pluginName=''>"
      "<plugin_name>  Weak\n  cipher </plugin_name>"
      "<exploited_by_malware>true</exploited_by_malware>"
      "</ReportItem></ReportHost></Report></NessusClientData_v2>",
      sink);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.findings[0].title, "Weak cipher");
  EXPECT_TRUE(sink.findings[0].exploit_available);
}

TEST(NessusTest, SinkErrorStopsTheParseAndIsReturnedAsIs) {
  RecordingSink sink;
  sink.fail_after = 1;
  Status s = Parse(ReadFile(FixturePath("nessus/two-hosts.nessus")), sink);
  EXPECT_EQ(s, Status::FailedPrecondition("sink refused the finding"));
  EXPECT_EQ(sink.findings.size(), 1u);
  EXPECT_EQ(sink.assets.size(), 1u);
}

TEST(NessusTest, WrongRootElementIsRefused) {
  RecordingSink sink;
  Status s = Parse("<?xml version='1.0'?>\n<report><results/></report>", sink, "x.nessus");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "x.nessus: the root element is <report>, not <NessusClientData_v2>: not a Nessus v2 "
            "(.nessus) report");
  EXPECT_EQ(sink.scans, 0);
}

TEST(NessusTest, EmptyFileIsAnError) {
  RecordingSink sink;
  Status s = Parse("", sink, "empty.nessus");
  EXPECT_EQ(s.message(), "empty.nessus is empty (0 bytes): not a scan report");
}

TEST(NessusTest, MismatchedTagNamesLineAndColumn) {
  std::string data = ReadFile(FixturePath("nessus/two-hosts.nessus"));
  const std::size_t at = data.find("</cpe>");
  ASSERT_NE(at, std::string::npos);
  data.replace(at, 6, "</cpx>");
  const auto line = std::count(data.begin(), data.begin() + at, '\n') + 1;
  const auto column = at - data.rfind('\n', at);  // 1-based column of '<'
  RecordingSink sink;
  Status s = Parse(data, sink, "two-hosts.nessus");
  EXPECT_EQ(s.message(), "two-hosts.nessus: line " + std::to_string(line) + ", column " +
                             std::to_string(column + 2) +
                             ": mismatched tag; the file is damaged or truncated");
  ASSERT_EQ(sink.findings.size(), 1u);  // the item before; the damaged one is never emitted
  EXPECT_EQ(sink.findings[0].check_id, "19506");
}

TEST(NessusTest, TruncatedFileNamesLineAndColumn) {
  const std::string data = ReadFile(FixturePath("nessus/two-hosts.nessus"));
  RecordingSink sink;
  Status s = Parse(std::string_view(data).substr(0, data.size() / 2), sink, "cut.nessus");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), MatchesRegex("cut\\.nessus: line [0-9]+, column [0-9]+: .*; the file "
                                        "is damaged or truncated"));
}

TEST(NessusTest, EntityDeclarationsAreRefused) {
  RecordingSink sink;
  Status s = Parse(
      "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">]>\n<NessusClientData_v2>&a;</NessusClientData_v2>",
      sink, "bomb.nessus");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("bomb.nessus: line 1, column"));
  EXPECT_THAT(s.message(), HasSubstr("declares an XML entity (\"a\")"));
}

// The DefectDojo sample files: raw counts (one finding per ReportItem), checked against the files.
class NessusSharedTest : public ::testing::Test {
 protected:
  Status ParseShared(const std::string& name) {
    path_ = SharedPath("defectdojo/tenable/nessus/" + name);
    data_ = ReadFile(path_);
    return Parse(data_, sink_, name);
  }
  std::string path_;
  std::string data_;
  RecordingSink sink_;
};

#define ISMS_PARSE_SHARED(name)                                           \
  ISMS_REQUIRE_SHARED_XML(SharedPath("defectdojo/tenable/nessus/" name)); \
  {                                                                       \
    Status s = ParseShared(name);                                         \
    ASSERT_TRUE(s.ok()) << s.ToString();                                  \
  }

TEST_F(NessusSharedTest, WithCvssV3) {
  ISMS_PARSE_SHARED("nessus_with_cvssv3.nessus");
  EXPECT_EQ(sink_.info.scan_type, "nessus:Basic Network Scan");
  EXPECT_EQ(sink_.info.scanned_at, At("2022-03-23T13:31:51Z"));  // HOST_START_TIMESTAMP
  EXPECT_EQ(sink_.info.credentialed, false);
  ASSERT_EQ(sink_.assets.size(), 1u);
  EXPECT_THAT(Values(sink_.assets[0].names),
              ElementsAre("fqdn:testphp.vulnweb.com", "ip:44.228.249.3"));
  const auto& fs = sink_.findings;
  ASSERT_EQ(fs.size(), 49u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return f.informational; }), 23u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return f.patch_published.has_value(); }), 17u);
  EXPECT_EQ(CountIf(fs,
                    [](const RawFinding& f) {
                      return std::any_of(f.cvss.begin(), f.cvss.end(), [](const CvssVector& v) {
                        return v.vector.starts_with("CVSS:3.0/");
                      });
                    }),
            9u);
  EXPECT_EQ(CountIf(fs,
                    [](const RawFinding& f) {
                      return std::any_of(f.cvss.begin(), f.cvss.end(), [](const CvssVector& v) {
                        return v.vector.starts_with("AV:");
                      });
                    }),
            27u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return f.exploit_available; }), 2u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return f.fix == FixState::kWontFix; }), 2u);
  std::size_t cves = 0;
  for (const RawFinding& f : fs) cves += f.cves.size();
  EXPECT_EQ(cves, 138u);
  const auto medium_v3 = std::find_if(fs.begin(), fs.end(), [](const RawFinding& f) {
    return !f.cvss.empty() && f.cvss[0].vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N";
  });
  ASSERT_NE(medium_v3, fs.end());
  EXPECT_THAT(medium_v3->severities, ElementsAre(SeverityWord{"Nessus", "Medium"}));
  for (const RawFinding& f : fs) {
    EXPECT_FALSE(f.check_id.empty());
    EXPECT_FALSE(f.title.empty());
    EXPECT_EQ(data_.substr(f.offset, 11), "<ReportItem");
  }
}

TEST_F(NessusSharedTest, ManyVulnAllInformational) {
  ISMS_PARSE_SHARED("nessus_many_vuln.xml");
  EXPECT_EQ(sink_.info.scanned_at, At("2013-06-25T10:32:42Z"));  // HOST_START only, read as UTC
  ASSERT_EQ(sink_.assets.size(), 1u);
  ASSERT_EQ(sink_.findings.size(), 7u);
  EXPECT_EQ(CountIf(sink_.findings, [](const RawFinding& f) { return f.informational; }), 7u);
}

TEST_F(NessusSharedTest, VersionUnknownSevenHosts) {
  ISMS_PARSE_SHARED("nessus_v_unknown.xml");
  EXPECT_EQ(sink_.info.scan_type, "nessus:Internal Network Scan");
  ASSERT_EQ(sink_.assets.size(), 7u);
  // host-fqdn without a dot is a host name, deduplicated with the ReportHost name and the
  // NetBIOS name regardless of case.
  EXPECT_THAT(Values(sink_.assets[0].names),
              ElementsAre("host:qa3app09", "ip:10.31.112.29", "mac:00:50:56:81:01:e3"));
  EXPECT_EQ(sink_.assets[0].scanned_at, At("2013-07-01T11:33:11Z"));
  const auto& fs = sink_.findings;
  ASSERT_EQ(fs.size(), 296u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return f.informational; }), 266u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return !f.cvss.empty(); }), 30u);
  EXPECT_EQ(CountIf(fs, [](const RawFinding& f) { return f.exploit_available; }), 14u);
  std::size_t cves = 0;
  for (const RawFinding& f : fs) cves += f.cves.size();
  EXPECT_EQ(cves, 7u);
}

TEST_F(NessusSharedTest, CweWithPrefix) {
  ISMS_PARSE_SHARED("nessus_with_cwe-.nessus");
  ASSERT_EQ(sink_.findings.size(), 1u);
  const RawFinding& f = sink_.findings[0];
  EXPECT_THAT(f.cwes, ElementsAre("CWE-94", "CWE-119", "CWE-399"));
  EXPECT_EQ(f.cves.size(), 15u);
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"Nessus", "High"}));
}

TEST_F(NessusSharedTest, Issue6992KeepsNessusWordBesideTheHigherCvss) {
  ISMS_PARSE_SHARED("issue_6992.nessus");
  ASSERT_EQ(sink_.findings.size(), 1u);
  const RawFinding& f = sink_.findings[0];
  EXPECT_THAT(f.severities, ElementsAre(SeverityWord{"Nessus", "Medium"}));
  ASSERT_EQ(f.cvss.size(), 2u);
  EXPECT_TRUE(f.cvss[0].vector.starts_with("CVSS:3.0/")) << f.cvss[0].vector;
  EXPECT_TRUE(f.patch_published.has_value());
}

TEST(NessusSharedFilesTest, EveryFileParsesAndEveryTruncatedCopyFailsWithAPosition) {
  const std::string dir = SharedPath("defectdojo/tenable/nessus");
  ISMS_REQUIRE_SHARED_XML(dir);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    const std::string name = entry.path().filename().string();
    const std::string data = ReadFile(entry.path().string());
    RecordingSink whole;
    Status s = Parse(data, whole, name);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_GT(whole.findings.size(), 0u) << name;
    RecordingSink cut;
    s = Parse(std::string_view(data).substr(0, data.size() * 2 / 3), cut, name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(s.message(), MatchesRegex(".*: line [0-9]+, column [0-9]+: .*; the file is "
                                          "damaged or truncated"))
        << name;
    EXPECT_LE(cut.findings.size(), whole.findings.size()) << name;
  }
  EXPECT_EQ(files, 5);
}

}  // namespace
}  // namespace isms
