#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "formats/scan.h"
#include "formats/xml_scan_test_util.h"

namespace isms {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing_xml::FixturePath;
using testing_xml::ReadFile;
using testing_xml::RecordingSink;
using testing_xml::SharedPath;

std::string Detected(std::string_view head) {
  Result<ScanFormat> r = DetectScanFormat(head, "in.dat");
  if (!r.ok()) return "error: " + r.status().message();
  return std::string(ScanFormatKey(*r));
}

std::string ErrorOf(std::string_view head, std::string_view source = "in.dat") {
  Result<ScanFormat> r = DetectScanFormat(head, source);
  EXPECT_FALSE(r.ok()) << ScanFormatKey(*r);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ScanFormatKeyTest, KeysRoundTrip) {
  for (ScanFormat f :
       {ScanFormat::kNessus, ScanFormat::kOpenVas, ScanFormat::kTrivy, ScanFormat::kGrype,
        ScanFormat::kOsv, ScanFormat::kCycloneDx, ScanFormat::kSarif}) {
    Result<ScanFormat> back = ParseScanFormatKey(ScanFormatKey(f));
    ASSERT_TRUE(back.ok()) << ScanFormatKey(f);
    EXPECT_EQ(*back, f);
  }
  EXPECT_EQ(ScanFormatKey(ScanFormat::kCycloneDx), "cyclonedx");
  EXPECT_EQ(ParseScanFormatKey("qualys").status().message(),
            "unknown scan format \"qualys\": expected one of nessus, openvas, trivy, grype, osv, "
            "cyclonedx, sarif");
}

TEST(ScanFormatKeyTest, FixAndVexKeys) {
  EXPECT_EQ(FixStateKey(FixState::kUnknown), "unknown");
  EXPECT_EQ(FixStateKey(FixState::kAvailable), "available");
  EXPECT_EQ(FixStateKey(FixState::kNotAvailable), "not-available");
  EXPECT_EQ(FixStateKey(FixState::kWontFix), "wont-fix");
  EXPECT_EQ(VexStateKey(VexState::kNone), "");
  EXPECT_EQ(VexStateKey(VexState::kAffected), "affected");
  EXPECT_EQ(VexStateKey(VexState::kNotAffected), "not_affected");
  EXPECT_EQ(VexStateKey(VexState::kFixed), "fixed");
  EXPECT_EQ(VexStateKey(VexState::kUnderInvestigation), "under_investigation");
}

TEST(DetectScanFormatTest, XmlFormats) {
  EXPECT_EQ(Detected("<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Policy>"), "nessus");
  EXPECT_EQ(Detected("\xef\xbb\xbf<!-- c --><NessusClientData_v2/>"), "nessus");
  EXPECT_EQ(Detected("<report id=\"x\" format_id=\"a994b278\"><owner>"), "openvas");
  EXPECT_EQ(Detected("<report><report><gmp><version>22.4</version></gmp>"), "openvas");
  EXPECT_EQ(Detected("<report><report><omp><version>7.0</version></omp>"), "openvas");
  EXPECT_EQ(Detected("<get_reports_response status=\"200\"><report"), "openvas");
}

TEST(DetectScanFormatTest, JsonFormats) {
  EXPECT_EQ(Detected(R"({"SchemaVersion": 2, "ArtifactName": "a:1", "Results": []})"), "trivy");
  EXPECT_EQ(Detected(R"j([{"Target": "debian (debian 10.8)", "Vulnerabilities": null}])j"),
            "trivy");
  EXPECT_EQ(Detected("null\n"), "trivy");
  EXPECT_EQ(Detected(R"({"ClusterName": "prod", "Resources": []})"), "trivy");
  EXPECT_EQ(Detected(R"({"matches": [], "source": {"type": "image"}, "descriptor": {}})"), "grype");
  // A large Grype report whose head ends inside "matches".
  EXPECT_EQ(Detected(R"({"matches": [{"vulnerability": {"id": "CVE-1"}, "artifact": {"name": )"),
            "grype");
  EXPECT_EQ(Detected(R"({"results": [{"source": {"path": "go.mod"}, "packages": [)"), "osv");
  EXPECT_EQ(Detected(R"({"bomFormat": "CycloneDX", "specVersion": "1.5"})"), "cyclonedx");
  EXPECT_EQ(Detected(R"({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []})"),
            "sarif");
  EXPECT_EQ(Detected(R"({"version": "2.1.0", "runs": [{"tool": {}}]})"), "sarif");
  EXPECT_EQ(Detected("  \n\t{\"bomFormat\" : \"CycloneDX\"}"), "cyclonedx");
}

TEST(DetectScanFormatTest, EmptyFile) {
  EXPECT_EQ(ErrorOf("", "no_findings.json"),
            "no_findings.json is empty (0 bytes): not a scan report");
  EXPECT_EQ(ErrorOf(" \n ", "blank.json"), "blank.json holds only white space: not a scan report");
}

TEST(DetectScanFormatTest, CsafAdvisoryIsSentToImportAdvisory) {
  EXPECT_EQ(ErrorOf(R"({"document": {"category": "csaf_vex", "csaf_version": "2.0"}})", "a.json"),
            "a.json is a CSAF advisory, not a scan report: use `isms import advisory`");
}

TEST(DetectScanFormatTest, UnsupportedInputsSayWhatTheyLookLike) {
  EXPECT_THAT(ErrorOf("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.2\">"),
              StartsWith("in.dat is a CycloneDX XML BOM: only CycloneDX JSON is read"));
  EXPECT_EQ(ErrorOf("<NessusClientData><Report>"),
            "in.dat is a Nessus v1 report: export the scan as .nessus (v2)");
  EXPECT_THAT(ErrorOf("<?xml version='1.0'?><ScanGroup><Scan>"),
              StartsWith("in.dat is not a supported scan report: it is XML with root element "
                         "<ScanGroup> (supported: Nessus"));
  EXPECT_THAT(ErrorOf("<report><title>Quarterly</title></report>"),
              HasSubstr("an XML <report> with none of the marks of an OpenVAS/GVM report"));
  EXPECT_THAT(ErrorOf("<!DOCTYPE html><html><head>"), HasSubstr("it is an HTML page"));
  EXPECT_THAT(ErrorOf(R"({"spdxVersion": "SPDX-2.3", "packages": []})"), HasSubstr("an SPDX SBOM"));
  EXPECT_THAT(ErrorOf(R"({"bomFormat": "Other"})"), HasSubstr("JSON with bomFormat \"Other\""));
  EXPECT_THAT(ErrorOf(R"({"a": 1, "b": {"c": 2}, "d": [3]})"),
              HasSubstr("it is JSON with top-level keys \"a\", \"b\", \"d\" (supported:"));
  EXPECT_THAT(ErrorOf("[1, 2]"), HasSubstr("a JSON array with no objects"));
  EXPECT_THAT(ErrorOf(std::string_view("\x1f\x8b\x08\x00\x00\x00", 6)),
              HasSubstr("it is a file starting with \"\\x1f\\x8b\\x08\\x00\\x00\\x00\"; a "
                        "gzip-compressed file: decompress it first"));
  EXPECT_THAT(ErrorOf("PK\x03\x04rest"), HasSubstr("a ZIP archive"));
  EXPECT_THAT(ErrorOf("Plugin ID,CVE,CVSS v2.0 Base Score,Risk\n1,2,3,4\n"),
              HasSubstr("a Nessus CSV export"));
  EXPECT_THAT(ErrorOf("hello world"), HasSubstr("it is a file starting with \"hello world\""));
  EXPECT_THAT(ErrorOf(std::string_view("\xff\xfe<\0?\0", 6)), HasSubstr("UTF-16 text"));
}

TEST(DetectScanFormatTest, ReadsAtMost64KiB) {
  std::string big =
      R"({"padding": ")" + std::string(70 * 1024, 'x') + R"(", "bomFormat": "CycloneDX"})";
  EXPECT_THAT(ErrorOf(big), HasSubstr("top-level keys \"padding\""));
}

TEST(DetectScanFormatTest, InTreeFixtures) {
  EXPECT_EQ(Detected(ReadFile(FixturePath("nessus/two-hosts.nessus"))), "nessus");
  EXPECT_EQ(Detected(ReadFile(FixturePath("nessus/no-hosts.nessus"))), "nessus");
  EXPECT_EQ(Detected(ReadFile(FixturePath("openvas/gvm22-hosts.xml"))), "openvas");
  EXPECT_EQ(Detected(ReadFile(FixturePath("openvas/gmp9-cve-text.xml"))), "openvas");
  EXPECT_EQ(Detected(ReadFile(FixturePath("openvas/no-results.xml"))), "openvas");
}

TEST(DetectScanFormatTest, EveryDefectDojoSampleFile) {
  const std::string root = SharedPath("defectdojo");
  ISMS_REQUIRE_SHARED_XML(root);
  const std::map<std::string, std::string> expected = {
      {"tenable", "nessus"},      {"openvas", "openvas"}, {"trivy", "trivy"},
      {"anchore_grype", "grype"}, {"osv_scanner", "osv"}, {"cyclonedx", "cyclonedx"},
      {"sarif", "sarif"},
  };
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string folder = std::filesystem::relative(entry.path(), root).begin()->string();
    const std::string name = entry.path().filename().string();
    ASSERT_TRUE(expected.contains(folder)) << folder;
    ++files;
    const std::string head = ReadFile(entry.path().string()).substr(0, 64 * 1024);
    const std::string got = Detected(head);
    if (name == "no_findings.json") {
      EXPECT_EQ(got, "error: in.dat is empty (0 bytes): not a scan report");
    } else if (name == "dd_1_15_0.xml") {
      EXPECT_THAT(got, StartsWith("error: in.dat is a CycloneDX XML BOM"));
    } else {
      EXPECT_EQ(got, expected.at(folder)) << entry.path();
    }
  }
  EXPECT_EQ(files, 39);
}

TEST(DetectScanFormatTest, CycloneDxExamplesAndCsafAdvisories) {
  const std::string cdx = SharedPath("cyclonedx-bom-examples");
  const std::string csaf = SharedPath("oasis-csaf/csaf_2.0/examples/csaf");
  ISMS_REQUIRE_SHARED_XML(cdx);
  ISMS_REQUIRE_SHARED_XML(csaf);
  int boms = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(cdx)) {
    if (entry.path().extension() != ".json") continue;
    ++boms;
    EXPECT_EQ(Detected(ReadFile(entry.path().string())), "cyclonedx") << entry.path();
  }
  EXPECT_GT(boms, 40);
  int advisories = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(csaf)) {
    if (entry.path().extension() != ".json") continue;
    ++advisories;
    EXPECT_EQ(Detected(ReadFile(entry.path().string())),
              "error: in.dat is a CSAF advisory, not a scan report: use `isms import advisory`")
        << entry.path();
  }
  EXPECT_GT(advisories, 10);
}

TEST(ParseScanTest, DispatchesToTheXmlParsers) {
  RecordingSink nessus;
  Status s = ParseScan(ReadFile(FixturePath("nessus/two-hosts.nessus")), ScanFormat::kNessus,
                       "two-hosts.nessus", nessus);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(nessus.findings.size(), 4u);
  RecordingSink openvas;
  s = ParseScan(ReadFile(FixturePath("openvas/gvm22-hosts.xml")), ScanFormat::kOpenVas,
                "gvm22-hosts.xml", openvas);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(openvas.findings.size(), 5u);
  RecordingSink wrong;
  s = ParseScan(ReadFile(FixturePath("openvas/gvm22-hosts.xml")), ScanFormat::kNessus,
                "gvm22-hosts.xml", wrong);
  EXPECT_THAT(s.message(), HasSubstr("not a Nessus v2 (.nessus) report"));
}

}  // namespace
}  // namespace isms
