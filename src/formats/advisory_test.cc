#include "formats/advisory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isms_test_paths.h"

namespace isms {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

namespace fs = std::filesystem;

const fs::path kCsafDir = fs::path(ISMS_SHARED_TESTDATA) / "oasis-csaf" / "csaf_2.0";
const fs::path kExamples = kCsafDir / "examples" / "csaf";
const fs::path kFixtures = fs::path(ISMS_SOURCE_DIR "/tests/fixtures/advisories");

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<Advisory> ParseFile(const fs::path& path) {
  return ParseCsafAdvisory(ReadFile(path), path.filename().string());
}

Instant T(const char* text) {
  return ParseInstant(text).value();
}

std::string Day(const std::optional<Instant>& t) {
  if (!t) return "none";
  return FormatDate(Date(std::chrono::floor<std::chrono::days>(*t)));
}

size_t CountIf(const Advisory& a, const std::vector<std::string> AdvisoryVulnerability::*list) {
  return static_cast<size_t>(
      std::count_if(a.vulnerabilities.begin(), a.vulnerabilities.end(),
                    [&](const AdvisoryVulnerability& v) { return !(v.*list).empty(); }));
}

// Counts from the shared test data's MANIFEST.md section 3 (taken from the raw files).
struct Expected {
  const char* file;
  const char* category;
  const char* id;
  const char* initial;
  const char* current;
  size_t products, vulnerabilities, remediations, dated_remediations, cvss_v3, threats;
  size_t with_fixed, with_known_affected, with_known_not_affected, with_under_investigation;
};

const Expected kExpected[] = {
    {"bsi-2022-0001.json", "csaf_security_advisory", "BSI-2022-0001", "2022-03-17", "2022-03-17", 6,
     1, 1, 1, 1, 0, 1, 1, 0, 0},
    {"cisco-sa-20180328-smi2.json", "Cisco Security Advisory", "cisco-sa-20180328-smi2",
     "2018-03-28", "2018-04-17", 259, 1, 1, 0, 1, 0, 0, 1, 0, 0},
    {"csaf_vex/2022-evd-uc-01-a-001.json", "csaf_vex", "2022-EVD-UC-01-A-001", "2022-03-03",
     "2022-03-03", 1, 1, 1, 0, 0, 0, 0, 1, 0, 0},
    {"csaf_vex/2022-evd-uc-01-f-001.json", "csaf_vex", "2022-EVD-UC-01-F-001", "2022-03-03",
     "2022-03-03", 1, 1, 0, 0, 0, 0, 1, 0, 0, 0},
    {"csaf_vex/2022-evd-uc-01-na-001.json", "csaf_vex", "2022-EVD-UC-01-NA-001", "2022-03-03",
     "2022-03-03", 1, 1, 0, 0, 0, 1, 0, 0, 1, 0},
    {"csaf_vex/2022-evd-uc-01-ui-001.json", "csaf_vex", "2022-EVD-UC-01-UI-001", "2022-03-03",
     "2022-03-03", 1, 1, 0, 0, 0, 0, 0, 0, 0, 1},
    {"csaf_vex/2022-evd-uc-02-na-001.json", "csaf_vex", "2022-EVD-UC-02-NA-001", "2022-03-03",
     "2022-03-03", 1, 19, 0, 0, 0, 19, 0, 0, 19, 0},
    {"csaf_vex/2022-evd-uc-03-ms-001.json", "csaf_vex", "2022-EVD-UC-03-MS-001", "2022-03-03",
     "2022-03-03", 1, 19, 5, 0, 0, 6, 3, 5, 6, 5},
    {"csaf_vex/2022-evd-uc-04-001.json", "csaf_vex", "2022-EVD-UC-04-001", "2022-03-03",
     "2022-03-03", 3, 1, 1, 0, 1, 0, 0, 1, 0, 0},
    {"csaf_vex/2022-evd-uc-05-001.json", "csaf_vex", "2022-EVD-UC-05-001", "2022-03-03",
     "2022-03-03", 1, 1, 0, 0, 0, 0, 0, 0, 0, 1},
    {"csaf_vex/2022-evd-uc-06-001.json", "csaf_vex", "2022-EVD-UC-06-001", "2022-03-03",
     "2022-03-03", 7, 1, 1, 0, 2, 1, 0, 1, 1, 0},
    {"csaf_vex/2022-evd-uc-07-001.json", "csaf_vex", "2022-EVD-UC-07-001", "2022-03-03",
     "2022-03-03", 10, 1, 2, 0, 2, 2, 1, 1, 1, 0},
    {"csaf_vex/2022-evd-uc-08-001.json", "csaf_vex", "2022-EVD-UC-08-001", "2022-03-03",
     "2022-03-03", 11, 2, 4, 0, 4, 4, 2, 2, 2, 0},
    {"csaf_vex/2022-evd-uc-09-001.json", "csaf_vex", "2022-EVD-UC-09-001", "2022-03-03",
     "2022-03-03", 2, 2, 2, 0, 4, 2, 0, 2, 2, 0},
    {"csaf_vex/sec-vex-2022-0001.json", "csaf_vex", "SEC-VEX-2022-0001", "2022-05-27", "2022-05-27",
     1, 3, 0, 0, 0, 3, 0, 0, 3, 0},
    {"rhsa-2019_1862.json", "csaf_informational_advisory", "RHSA-2019:1862", "2019-07-26",
     "2019-07-26", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"rhsa-2021_5186.json", "csaf_security_advisory", "RHSA-2021:5186", "2021-12-16", "2021-12-16",
     7, 2, 2, 0, 0, 2, 2, 0, 2, 0},
    {"rhsa-2021_5217.json", "csaf_security_advisory", "RHSA-2021:5217", "2021-12-20", "2021-12-20",
     1, 1, 1, 0, 0, 1, 1, 0, 0, 0},
    {"rhsa-2022_0011.json", "csaf_security_advisory", "RHSA-2022:0011", "2022-01-04", "2022-01-04",
     25, 1, 1, 0, 0, 1, 1, 0, 0, 0},
};

#define SKIP_WITHOUT_SHARED_DATA()                                          \
  if (!fs::exists(kExamples)) {                                             \
    GTEST_SKIP() << "shared test data not found at " << kExamples.string(); \
  }

TEST(CsafSharedTest, EveryOasisExampleParsesWithTheManifestCounts) {
  SKIP_WITHOUT_SHARED_DATA();
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.file);
    Result<Advisory> r = ParseFile(kExamples / e.file);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Advisory& a = *r;
    EXPECT_EQ(a.category, e.category);
    EXPECT_EQ(a.id, e.id);
    EXPECT_EQ(Day(a.initial_release_date), e.initial);
    EXPECT_EQ(Day(a.current_release_date), e.current);
    EXPECT_EQ(a.products.size(), e.products);
    EXPECT_EQ(a.vulnerabilities.size(), e.vulnerabilities);
    size_t remediations = 0, dated = 0, v3 = 0, threats = 0;
    for (const AdvisoryVulnerability& v : a.vulnerabilities) {
      remediations += v.remediations.size();
      for (const AdvisoryRemediation& m : v.remediations) dated += m.date.has_value();
      for (const auto& s : v.scores) v3 += s.cvss.vector.rfind("CVSS:3", 0) == 0;
      threats += v.threats.size();
      for (const auto& s : v.scores) EXPECT_EQ(s.cvss.source, a.publisher);
    }
    EXPECT_EQ(remediations, e.remediations);
    EXPECT_EQ(dated, e.dated_remediations);
    EXPECT_EQ(v3, e.cvss_v3);
    EXPECT_EQ(threats, e.threats);
    EXPECT_EQ(CountIf(a, &AdvisoryVulnerability::fixed), e.with_fixed);
    EXPECT_EQ(CountIf(a, &AdvisoryVulnerability::known_affected), e.with_known_affected);
    EXPECT_EQ(CountIf(a, &AdvisoryVulnerability::known_not_affected), e.with_known_not_affected);
    EXPECT_EQ(CountIf(a, &AdvisoryVulnerability::under_investigation), e.with_under_investigation);
    for (const AdvisoryProduct& p : a.products) EXPECT_EQ(a.FindProduct(p.id), &p);
    EXPECT_FALSE(a.FromMicrosoft());
  }
}

TEST(CsafSharedTest, EveryJsonFileInTheFolderIsReadOrRefusedByName) {
  SKIP_WITHOUT_SHARED_DATA();
  size_t advisories = 0, schemas = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kCsafDir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    Result<Advisory> r = ParseFile(entry.path());
    if (entry.path().string().find("/examples/") != std::string::npos) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      ++advisories;
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(r.status().message(),
                entry.path().filename().string() + ": not a CSAF document (a JSON schema)");
      ++schemas;
    }
  }
  EXPECT_EQ(advisories, std::size(kExpected));
  EXPECT_EQ(schemas, 4u);
}

TEST(CsafSharedTest, BsiVendorFixKeepsItsOffsetDateAsUtc) {
  SKIP_WITHOUT_SHARED_DATA();
  Result<Advisory> r = ParseFile(kExamples / "bsi-2022-0001.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->publisher, "Bundesamt für Sicherheit in der Informationstechnik");
  EXPECT_EQ(r->publisher_category, "coordinator");
  EXPECT_EQ(r->initial_release_date, T("2022-03-17T13:03:42.105Z"));
  const AdvisoryVulnerability& v = r->vulnerabilities.at(0);
  EXPECT_EQ(v.cve, "CVE-2022-27193");
  EXPECT_THAT(v.ids, ElementsAre("Github Issue:csaf-tools/CVRF-CSAF-Converter#78"));
  EXPECT_THAT(v.fixed, ElementsAre("CSAFPID-0006"));
  EXPECT_THAT(v.first_fixed, ElementsAre("CSAFPID-0006"));
  EXPECT_EQ(v.known_affected.size(), 5u);
  const AdvisoryRemediation& fix = v.remediations.at(0);
  EXPECT_EQ(fix.category, "vendor_fix");
  EXPECT_EQ(fix.date, T("2022-03-14T12:10:55Z"));
  EXPECT_EQ(fix.product_ids.size(), 5u);
  EXPECT_EQ(fix.url, "https://github.com/csaf-tools/CVRF-CSAF-Converter/releases/tag/1.0.0-rc2");
  ASSERT_EQ(v.scores.size(), 1u);
  EXPECT_EQ(v.scores[0].cvss.vector, "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:L/E:F/RL:O/RC:C");
  EXPECT_FALSE(v.scores[0].cvss.nvd);
  EXPECT_EQ(v.scores[0].product_ids.size(), 5u);
  const AdvisoryProduct* p = r->FindProduct("CSAFPID-0001");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->vendor, "CSAF Tools");
  EXPECT_EQ(p->product, "CVRF-CSAF-Converter");
  EXPECT_EQ(p->version, "1.0.0-alpha");
  EXPECT_EQ(p->name, "CSAF Tools CVRF-CSAF-Converter 1.0.0-alpha");
  EXPECT_EQ(p->cpe, "cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-alpha");
  EXPECT_EQ(r->FindProduct("CSAFPID-0099"), nullptr);
}

TEST(CsafSharedTest, RedHatRelationshipsTakeTheComponentAndRatingsComeFromImpactThreats) {
  SKIP_WITHOUT_SHARED_DATA();
  Result<Advisory> r = ParseFile(kExamples / "rhsa-2021_5186.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->publisher, "Red Hat Product Security");
  EXPECT_EQ(r->initial_release_date, T("2021-12-16T22:34:00Z"));
  const std::string hive =
      "openshift4/ose-metering-hive:v4.6.0-202112160147.p0.gf139e12.assembly.stream";
  const AdvisoryProduct* composed = r->FindProduct("8Base-RHOSE-4.6:" + hive);
  ASSERT_NE(composed, nullptr);
  EXPECT_EQ(composed->name, hive + " as a component of Red Hat OpenShift Container Platform 4.6");
  EXPECT_EQ(composed->vendor, "Red Hat");
  EXPECT_EQ(composed->product, hive);  // no product_name branch: the component's own name
  EXPECT_EQ(composed->version, hive);
  const AdvisoryProduct* platform = r->FindProduct("8Base-RHOSE-4.6");
  ASSERT_NE(platform, nullptr);
  EXPECT_EQ(platform->product, "Red Hat OpenShift Container Platform 4.6");
  EXPECT_EQ(platform->version, "");
  EXPECT_EQ(platform->cpe, "cpe:/a:redhat:openshift:4.6::el8");

  ASSERT_EQ(r->vulnerabilities.size(), 2u);
  const AdvisoryVulnerability& v0 = r->vulnerabilities[0];
  EXPECT_EQ(v0.cve, "CVE-2021-4104");
  EXPECT_EQ(v0.release_date, T("2021-12-10T00:00:00Z"));
  EXPECT_EQ(v0.discovery_date, T("2021-12-13T00:00:00Z"));
  EXPECT_THAT(v0.fixed, ElementsAre("8Base-RHOSE-4.6:" + hive));
  EXPECT_EQ(v0.known_not_affected.size(), 2u);
  ASSERT_EQ(v0.remediations.size(), 1u);
  EXPECT_EQ(v0.remediations[0].category, "vendor_fix");
  EXPECT_FALSE(v0.remediations[0].date.has_value());
  EXPECT_EQ(v0.remediations[0].url, "https://access.redhat.com/errata/RHSA-2021:5186");
  EXPECT_EQ(v0.ImpactRating("8Base-RHOSE-4.6:" + hive), "Moderate");
  EXPECT_EQ(r->vulnerabilities[1].ImpactRating("any product"), "Critical");
  EXPECT_FALSE(r->FromMicrosoft());
}

TEST(CsafSharedTest, CiscoServicePacksAreTheVersion) {
  SKIP_WITHOUT_SHARED_DATA();
  Result<Advisory> r = ParseFile(kExamples / "cisco-sa-20180328-smi2.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->publisher, "Cisco PSIRT");
  const AdvisoryProduct* p = r->FindProduct("CVRFPID-103763");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->vendor, "Cisco");
  EXPECT_EQ(p->product, "IOS");
  EXPECT_EQ(p->version, "12.2(55)SE");
  const AdvisoryVulnerability& v = r->vulnerabilities.at(0);
  EXPECT_EQ(v.cve, "CVE-2018-0171");
  EXPECT_THAT(v.ids, ElementsAre("Cisco Bug ID:CSCvg76186"));
  EXPECT_EQ(v.remediations.at(0).category, "workaround");
  EXPECT_EQ(v.scores.at(0).cvss.vector, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
}

TEST(CsafSharedTest, VexFlagsAndJustifications) {
  SKIP_WITHOUT_SHARED_DATA();
  Result<Advisory> r = ParseFile(kExamples / "csaf_vex" / "sec-vex-2022-0001.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AdvisoryVulnerability& v = r->vulnerabilities.at(0);
  EXPECT_EQ(v.cve, "CVE-2021-44228");
  EXPECT_THAT(v.known_not_affected, ElementsAre("CSAFPID-0001"));
  ASSERT_EQ(v.flags.size(), 1u);
  EXPECT_EQ(v.flags[0].label, "component_not_present");
  EXPECT_THAT(v.flags[0].product_ids, ElementsAre("CSAFPID-0001"));
  ASSERT_EQ(v.threats.size(), 1u);
  EXPECT_EQ(v.threats[0].category, "impact");
  EXPECT_EQ(v.ImpactRating("CSAFPID-0001"), "");  // a justification, not a rating
  EXPECT_EQ(r->FindProduct("CSAFPID-0001")->version, "<=1.14.0");
}

TEST(CsafAdvisoryTest, VendorFixWithOffsetDateGroupsAndRelationship) {
  Result<Advisory> r = ParseFile(kFixtures / "vendor-fix-dated.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Advisory& a = *r;
  EXPECT_EQ(a.id, "EXW-SA-2024-0007");
  EXPECT_EQ(a.category, "csaf_security_advisory");
  EXPECT_EQ(a.publisher, "Example Widgets PSIRT");
  EXPECT_EQ(a.publisher_category, "vendor");
  EXPECT_EQ(a.initial_release_date, T("2024-03-12T09:30:00Z"));
  EXPECT_EQ(a.current_release_date, T("2024-03-19T16:00:00Z"));
  ASSERT_EQ(a.products.size(), 4u);
  const AdvisoryProduct* composed = a.FindProduct("WA-7:WS-2.4.1");
  ASSERT_NE(composed, nullptr);
  EXPECT_EQ(composed->name, "widget-server 2.4.1 installed on Widget Appliance 7");
  EXPECT_EQ(composed->vendor, "Example Widgets");
  EXPECT_EQ(composed->product, "widget-server");
  EXPECT_EQ(composed->version, "2.4.1");
  EXPECT_EQ(composed->purl, "pkg:npm/%40example/widget-server@2.4.1");
  EXPECT_EQ(composed->cpe, "cpe:2.3:a:example:widget-server:2.4.1:*:*:*:*:*:*:*");
  EXPECT_EQ(a.FindProduct("WA-7")->product, "Widget Appliance");

  const AdvisoryVulnerability& v = a.vulnerabilities.at(0);
  EXPECT_EQ(v.title, "Path traversal in the upload handler");
  EXPECT_THAT(v.ids, ElementsAre("Example Tracker:EXW-1234"));
  ASSERT_EQ(v.remediations.size(), 2u);
  EXPECT_EQ(v.remediations[0].date, T("2024-03-12T04:15:00Z"));
  EXPECT_THAT(v.remediations[0].product_ids, ElementsAre("WS-2.4.1", "WA-7:WS-2.4.1"));
  EXPECT_EQ(v.remediations[0].details, "Upgrade to widget-server 2.4.2");
  EXPECT_FALSE(v.remediations[1].date.has_value());
  EXPECT_THAT(v.remediations[1].product_ids, ElementsAre("WS-2.4.1", "WA-7:WS-2.4.1"));
  ASSERT_EQ(v.scores.size(), 2u);
  EXPECT_EQ(v.scores[0].cvss, (CvssVector{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                                          "Example Widgets PSIRT", false}));
  EXPECT_EQ(v.scores[1].cvss.vector, "AV:N/AC:L/Au:N/C:C/I:C/A:C");
  EXPECT_THAT(v.scores[1].product_ids, ElementsAre("WS-2.4.1", "WA-7:WS-2.4.1"));
  ASSERT_EQ(v.threats.size(), 1u);
  EXPECT_THAT(v.threats[0].product_ids, ElementsAre("WS-2.4.1", "WA-7:WS-2.4.1"));
}

TEST(CsafAdvisoryTest, VendorFixWithoutDateAndTopLevelProducts) {
  Result<Advisory> r = ParseFile(kFixtures / "vendor-fix-undated.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->category, "csaf_base");
  ASSERT_EQ(r->products.size(), 2u);
  EXPECT_EQ(r->products[0].cpe, "cpe:/a:example:gadget_lib:1.9.0");
  EXPECT_EQ(r->products[0].version, "");
  const AdvisoryRemediation& fix = r->vulnerabilities.at(0).remediations.at(0);
  EXPECT_EQ(fix.category, "vendor_fix");
  EXPECT_FALSE(fix.date.has_value());
  EXPECT_THAT(fix.product_ids, ElementsAre("GL-1.9.0"));
}

TEST(CsafAdvisoryTest, MicrosoftRatingsArePerProductImpactThreats) {
  Result<Advisory> r = ParseFile(kFixtures / "microsoft-style.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->FromMicrosoft());
  const AdvisoryVulnerability& v = r->vulnerabilities.at(0);
  EXPECT_EQ(v.ImpactRating("11923"), "Critical");
  EXPECT_EQ(v.ImpactRating("12243"), "Important");
  EXPECT_EQ(v.ImpactRating("99999"), "");
  EXPECT_EQ(v.remediations.at(1).date, T("2024-01-09T08:00:00Z"));
  EXPECT_EQ(r->FindProduct("12243")->product, "Windows 11 Version 23H2 for x64-based Systems");
}

TEST(CsafAdvisoryTest, ImpactRatingPrefersTheProductsOwnWord) {
  AdvisoryVulnerability v;
  v.threats = {{"impact", " moderate ", {}},
               {"impact", "Elevation of Privilege", {"A"}},
               {"impact", "IMPORTANT", {"A"}},
               {"exploit_status", "Critical", {"B"}}};
  EXPECT_EQ(v.ImpactRating("A"), "Important");
  EXPECT_EQ(v.ImpactRating("B"), "Moderate");
}

TEST(CsafAdvisoryTest, FromMicrosoftNeedsTheNameAndTheVendorCategory) {
  Advisory a;
  a.publisher_category = "vendor";
  for (const char* name : {"Microsoft", "microsoft security response center", " MICROSOFT "}) {
    a.publisher = name;
    EXPECT_TRUE(a.FromMicrosoft()) << name;
  }
  for (const char* name : {"Microsoft Corp PSIRT", "Red Hat Product Security", ""}) {
    a.publisher = name;
    EXPECT_FALSE(a.FromMicrosoft()) << name;
  }
  a.publisher = "Microsoft";
  a.publisher_category = "coordinator";
  EXPECT_FALSE(a.FromMicrosoft());
}

TEST(CsafAdvisoryTest, VexKnownNotAffectedWithFlagsExpandedFromGroups) {
  Result<Advisory> r = ParseFile(kFixtures / "vex-not-affected.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->initial_release_date, T("2024-01-15T08:00:00Z"));
  const AdvisoryVulnerability& v = r->vulnerabilities.at(0);
  EXPECT_THAT(v.known_not_affected, ElementsAre("WS-2.4.1", "WS-2.4.2"));
  EXPECT_THAT(v.under_investigation, ElementsAre("WS-3.0.0"));
  ASSERT_EQ(v.flags.size(), 2u);
  EXPECT_EQ(v.flags[0].label, "vulnerable_code_not_in_execute_path");
  EXPECT_THAT(v.flags[0].product_ids, ElementsAre("WS-2.4.1", "WS-2.4.2"));
  EXPECT_THAT(v.flags[1].product_ids, ElementsAre("WS-2.4.2"));
  EXPECT_THAT(v.threats.at(0).product_ids, ElementsAre("WS-2.4.1", "WS-2.4.2"));
  EXPECT_THAT(v.remediations, IsEmpty());
}

TEST(CsafAdvisoryTest, BadDateIsNamedByItsJsonPointer) {
  Result<Advisory> r = ParseFile(kFixtures / "bad-date.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "bad-date.json: /vulnerabilities/0/remediations/1/date: '11/03/2024' is not an RFC "
            "3339 date-time");
}

TEST(CsafAdvisoryTest, TruncatedFileNamesTheByte) {
  const std::string text = ReadFile(kFixtures / "vendor-fix-undated.json");
  ASSERT_GT(text.size(), 200u);
  Result<Advisory> r = ParseCsafAdvisory(std::string_view(text).substr(0, 200), "cut.json");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("cut.json: byte 201: "));
  EXPECT_THAT(r.status().message(), HasSubstr("; the file is damaged or truncated"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("json.exception")));

  r = ParseCsafAdvisory("{\"document\": {\"csaf_version\": \"2.0\",}}", "comma.json");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("comma.json: byte "));
}

TEST(CsafAdvisoryTest, OtherJsonDocumentsAreRefusedWithWhatTheyLookLike) {
  struct Case {
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []})",
       "x.json: not a CSAF document (a CycloneDX BOM: use isms import scan)"},
      {R"({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": []})",
       "x.json: not a CSAF document (a SARIF log: use isms import scan)"},
      {R"({"SchemaVersion": 2, "ArtifactName": "alpine:3.18", "Results": []})",
       "x.json: not a CSAF document (a Trivy report: use isms import scan)"},
      {R"({"matches": [], "descriptor": {"name": "grype"}})",
       "x.json: not a CSAF document (a Grype report: use isms import scan)"},
      {R"({"$schema": "http://json-schema.org/draft-07/schema#", "properties": {}})",
       "x.json: not a CSAF document (a JSON schema)"},
      {R"({"document": {"title": "no version"}})",
       "x.json: not a CSAF document (document.csaf_version is missing)"},
      {R"([1, 2])", "x.json: not a CSAF document (a JSON array, not an object)"},
      {R"({"document": {"csaf_version": "2.1"}})",
       "x.json: /document/csaf_version: CSAF version '2.1' is not supported (only 2.0 is)"},
      {"  \n", "x.json: an empty file, not a CSAF document"},
  };
  for (const Case& c : cases) {
    Result<Advisory> r = ParseCsafAdvisory(c.json, "x.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().message(), c.expected);
  }
}

TEST(CsafAdvisoryTest, WrongTypesAndUndefinedGroupsAreNamedByPointer) {
  struct Case {
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"document": {"csaf_version": "2.0", "title": 7}})",
       "x.json: /document/title: expected a string, found a JSON number"},
      {R"({"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"product_status":
           {"fixed": ["A", 2]}}]})",
       "x.json: /vulnerabilities/0/product_status/fixed/1: expected a string, found a JSON "
       "number"},
      {R"({"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"flags":
           [{"label": "component_not_present", "group_ids": ["G9"]}]}]})",
       "x.json: /vulnerabilities/0/flags/0/group_ids/0: product group 'G9' is not defined in "
       "/product_tree/product_groups"},
      {R"({"document": {"csaf_version": "2.0"}, "product_tree": {"full_product_names":
           [{"name": "a", "product_id": "P"}, {"name": "b", "product_id": "P"}]}})",
       "x.json: /product_tree/full_product_names/1/product_id: product_id 'P' is defined twice "
       "(CSAF 2.0 6.1.2); the advisory is ambiguous"},
      {R"({"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"scores":
           [{"cvss_v3": {"baseScore": 5}, "products": ["P"]}]}]})",
       "x.json: /vulnerabilities/0/scores/0/cvss_v3: the CVSS object has no vectorString"},
      {R"({"document": {"csaf_version": "2.0"}, "vulnerabilities": {}})",
       "x.json: /vulnerabilities: expected an array, found a JSON object"},
  };
  for (const Case& c : cases) {
    Result<Advisory> r = ParseCsafAdvisory(c.json, "x.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().message(), c.expected);
  }
}

TEST(CsafAdvisoryTest, RelationshipsMayReferToLaterRelationships) {
  Result<Advisory> r = ParseCsafAdvisory(R"({
    "document": {"csaf_version": "2.0", "publisher": {"name": "NVD", "category": "other"}},
    "product_tree": {
      "branches": [{"category": "product_name", "name": "libfoo", "branches": [
        {"category": "product_version", "name": "1.2", "product": {"name": "libfoo 1.2",
         "product_id": "F", "product_identification_helper": {"purl": "pkg:generic/libfoo@1.2"}}}]}],
      "full_product_names": [{"name": "Host OS", "product_id": "H"}],
      "relationships": [
        {"category": "installed_on", "product_reference": "X", "relates_to_product_reference": "H",
         "full_product_name": {"name": "libfoo in app on Host OS", "product_id": "Y"}},
        {"category": "default_component_of", "product_reference": "F",
         "relates_to_product_reference": "H",
         "full_product_name": {"name": "libfoo in app", "product_id": "X"}},
        {"category": "installed_on", "product_reference": "NOPE", "relates_to_product_reference": "H",
         "full_product_name": {"name": "unknown", "product_id": "Z"}}
      ]},
    "vulnerabilities": [{"scores": [{"cvss_v3": {"vectorString": "CVSS:3.1/AV:N"}}]}]})",
                                         "rel.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AdvisoryProduct* y = r->FindProduct("Y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->name, "libfoo in app on Host OS");
  EXPECT_EQ(y->product, "libfoo");
  EXPECT_EQ(y->version, "1.2");
  EXPECT_EQ(y->purl, "pkg:generic/libfoo@1.2");
  EXPECT_EQ(r->FindProduct("Z")->product, "");
  EXPECT_TRUE(r->vulnerabilities.at(0).scores.at(0).cvss.nvd);
  EXPECT_EQ(r->vulnerabilities.at(0).scores.at(0).cvss.source, "NVD");
}

}  // namespace
}  // namespace isms
