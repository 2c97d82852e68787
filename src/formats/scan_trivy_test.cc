#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
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

const std::string kDir = SharedFile("defectdojo/trivy");

TEST(TrivyTest, SchemaTwoManyVulns) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, ReadFile(kDir + "/scheme_2_many_vulns.json"), sink).ok());
  EXPECT_EQ(sink.info.scan_type, "trivy:container_image");
  ASSERT_EQ(sink.findings.size(), 5u);
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "CVE-2020-15999");
  EXPECT_EQ(f.component, "freetype 2.9.1-r2");
  EXPECT_THAT(f.asset, ElementsAre(AssetName{"image", "teamdojo:latest"}));
  EXPECT_THAT(f.cves, ElementsAre("CVE-2020-15999"));
  EXPECT_EQ(f.fix, FixState::kAvailable);
  EXPECT_EQ(f.fixed_version, "2.9.1-r3");
  ASSERT_EQ(f.cvss.size(), 3u);
  EXPECT_EQ(f.cvss[0], (CvssVector{"AV:N/AC:M/Au:N/C:N/I:N/A:P", "NVD", true}));
  EXPECT_EQ(f.cvss[2].source, "Red Hat");
  EXPECT_FALSE(f.cvss[2].nvd);
  EXPECT_EQ(f.severities[0], (SeverityWord{"Trivy", "MEDIUM"}));
  EXPECT_THAT(f.cwes, ElementsAre("CWE-787"));
  ASSERT_EQ(sink.assets.size(), 1u);
}

TEST(TrivyTest, AllStatusesMapToFixAndVex) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, ReadFile(kDir + "/all_statuses.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 8u);
  EXPECT_EQ(FormatInstant(*sink.info.scanned_at), "2024-01-15T08:58:29.827Z");
  std::map<std::string, const RawFinding*> by_id;
  for (const RawFinding& f : sink.findings) by_id[f.check_id] = &f;
  EXPECT_EQ(by_id["CVE-2011-3374"]->fix, FixState::kUnknown);             // unknown
  EXPECT_EQ(by_id["CVE-2019-18276"]->vex, VexState::kNotAffected);        // not_affected
  EXPECT_EQ(by_id["TEMP-0841856-B18BAF"]->fix, FixState::kNotAvailable);  // affected
  EXPECT_EQ(by_id["TEMP-0841856-B18BAF"]->vex, VexState::kAffected);
  EXPECT_EQ(by_id["CVE-2018-1000876"]->fix, FixState::kAvailable);  // fixed
  EXPECT_EQ(by_id["CVE-2018-12697"]->vex, VexState::kUnderInvestigation);
  EXPECT_EQ(by_id["CVE-2018-12698"]->fix, FixState::kWontFix);
  EXPECT_EQ(by_id["CVE-2018-12934"]->fix, FixState::kWontFix);
  EXPECT_EQ(by_id["CVE-2018-12699"]->fix, FixState::kNotAvailable);  // fix_deferred
  EXPECT_EQ(FormatDate(*by_id["CVE-2011-3374"]->vuln_published), "2019-11-26");
  // ArtifactName is empty: the image is named by its ID.
  EXPECT_EQ(sink.findings[0].asset[0].kind, "image");
  EXPECT_THAT(sink.findings[0].asset[0].value, HasSubstr("sha256:22ae3921"));
  // Trivy's word first, then VendorSeverity by issuer.
  EXPECT_EQ(by_id["CVE-2011-3374"]->severities,
            (std::vector<SeverityWord>{{"Trivy", "LOW"}, {"debian", "LOW"}, {"NVD", "LOW"}}));
}

TEST(TrivyTest, CvssV4AndVendorIds) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, ReadFile(kDir + "/cvssv4_severity_source.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 3u);
  EXPECT_EQ(sink.info.scanner, "Trivy 0.69.1");
  EXPECT_EQ(sink.info.scan_type, "trivy:filesystem");
  const RawFinding& f = sink.findings[0];
  EXPECT_THAT(f.asset, ElementsAre(AssetName{"path", "lib/catalina.jar"}));
  EXPECT_EQ(f.purl, "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.109");
  EXPECT_THAT(f.aliases, ElementsAre("GHSA-fpj8-gq4v-p354"));
  EXPECT_EQ(f.cvss[0],
            (CvssVector{"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", "GitHub",
                        false}));
  int v4 = 0;
  for (const RawFinding& g : sink.findings) {
    for (const CvssVector& c : g.cvss) v4 += c.vector.starts_with("CVSS:4.0/");
  }
  EXPECT_EQ(v4, 3);
}

TEST(TrivyTest, LegacyArrayNamesTheImageByItsOsTarget) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, ReadFile(kDir + "/legacy_many_vulns.json"), sink).ok());
  EXPECT_EQ(sink.findings.size(), 93u);
  EXPECT_EQ(sink.info.scan_type, "trivy:legacy");
  EXPECT_THAT(sink.findings[0].asset, ElementsAre(AssetName{"image", "debian"}));
}

TEST(TrivyTest, EmptyReportsGiveNoFindings) {
  ISMS_REQUIRE_SHARED(kDir);
  for (const char* name : {"legacy_no_vuln.json", "scheme_2_no_vuln.json"}) {
    CollectingSink sink;
    ASSERT_TRUE(Parse(ParseTrivy, ReadFile(kDir + "/" + name), sink).ok()) << name;
    EXPECT_EQ(sink.scans, 1) << name;
    EXPECT_TRUE(sink.findings.empty()) << name;
  }
}

TEST(TrivyTest, KubernetesMisconfigurationsAreOwnCode) {
  ISMS_REQUIRE_SHARED(kDir);
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, ReadFile(kDir + "/issue_10991.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 37u);
  EXPECT_EQ(sink.info.scan_type, "trivy:kubernetes");
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "KSV116");
  EXPECT_THAT(f.aliases, ElementsAre("AVD-KSV-0116"));
  EXPECT_EQ(f.component, "default/Service/kubernetes");
  EXPECT_TRUE(f.own_code);
  EXPECT_FALSE(f.informational);
  EXPECT_TRUE(f.cves.empty());
  EXPECT_TRUE(f.asset.empty());  // ClusterName is empty: the importer names the asset
}

TEST(TrivyTest, KubernetesClusterWithImageVulnerabilities) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, Fixture("trivy-k8s-cluster.json"), sink).ok());
  ASSERT_EQ(sink.findings.size(), 2u);  // the PASS check is not a finding
  EXPECT_THAT(sink.findings[0].asset,
              ElementsAre(AssetName{"image", "registry.example/shop:1.4"},
                          AssetName{"image", "sha256:abc"}, AssetName{"cluster", "prod-eu"}));
  EXPECT_EQ(
      sink.findings[0].severities,
      (std::vector<SeverityWord>{{"Trivy", "HIGH"}, {"NVD", "CRITICAL"}, {"debian", "MEDIUM"}}));
  EXPECT_EQ(sink.findings[1].component, "web/Deployment/shop");
  EXPECT_EQ(sink.findings[1].solution, "Set allowPrivilegeEscalation to false");
  EXPECT_TRUE(sink.findings[1].own_code);
  EXPECT_EQ(sink.assets.size(), 2u);
}

TEST(TrivyTest, KeysInAnyOrderAndSecrets) {
  CollectingSink sink;
  ASSERT_TRUE(Parse(ParseTrivy, Fixture("trivy-sorted-keys.json"), sink).ok());
  EXPECT_EQ(sink.info.scanner, "Trivy 0.50.1");
  ASSERT_EQ(sink.findings.size(), 2u);
  const RawFinding& f = sink.findings[0];
  EXPECT_EQ(f.check_id, "CVE-2021-23337");
  EXPECT_EQ(f.component, "lodash 4.17.20");
  EXPECT_EQ(f.fix, FixState::kWontFix);
  EXPECT_EQ(f.severities[0], (SeverityWord{"Trivy", "HIGH"}));
  EXPECT_GT(f.offset, 0u);
  EXPECT_EQ(sink.findings[1].check_id, "aws-access-key-id");
  EXPECT_EQ(sink.findings[1].component, "package-lock.json:12");
  EXPECT_TRUE(sink.findings[1].own_code);
}

TEST(TrivyTest, WrongShapeNamesThePath) {
  CollectingSink sink;
  Status s = Parse(ParseTrivy, Fixture("trivy-bad-shape.json"), sink, "bad.json");
  EXPECT_EQ(s.message(), "bad.json: $.Results[1].Vulnerabilities: expected an array");
}

TEST(TrivyTest, TruncatedFileNamesTheByte) {
  std::string data = Fixture("trivy-sorted-keys.json");
  data.resize(300);
  CollectingSink sink;
  Status s = Parse(ParseTrivy, data, sink, "cut.json");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("cut.json: byte "));
  EXPECT_THAT(s.message(), HasSubstr("the file is damaged or truncated"));
}

TEST(TrivyTest, Utf16IsRefused) {
  CollectingSink sink;
  Status s = Parse(ParseTrivy, std::string("\xFF\xFE{\0}\0", 6), sink, "u16.json");
  EXPECT_EQ(s.message(), "u16.json is UTF-16: save it as UTF-8");
}

TEST(TrivyTest, Utf8ByteOrderMarkIsSkipped) {
  CollectingSink sink;
  EXPECT_TRUE(Parse(ParseTrivy, "\xEF\xBB\xBFnull", sink).ok());
}

TEST(TrivyTest, EmptyFileIsRefused) {
  CollectingSink sink;
  Status s = Parse(ParseTrivy, "  \n", sink, "empty.json");
  EXPECT_THAT(s.message(), HasSubstr("empty.json: the file is empty"));
}

TEST(TrivyTest, ParsesALargeReportWithEveryFinding) {
  std::string one =
      R"({"VulnerabilityID":"CVE-2024-12345","PkgName":"openssl",)"
      R"("InstalledVersion":"3.0.9-1","FixedVersion":"3.0.11-1","Severity":"HIGH",)"
      R"("Title":"openssl: a long enough title for a realistic record",)"
      R"("Description":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do )"
      R"(eiusmod tempor incididunt ut labore et dolore magna aliqua.",)"
      R"("References":["https://example.org/a","https://example.org/b"],)"
      R"("CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",)"
      R"("V3Score":9.8}},"VendorSeverity":{"nvd":4},"PublishedDate":"2024-01-01T00:00:00Z"})";
  std::string data = R"({"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"container_image",)"
                     R"("Results":[{"Target":"x","Vulnerabilities":[)";
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    if (i > 0) data += ',';
    data += one;
  }
  data += "]}]}";
  CollectingSink sink;
  ASSERT_TRUE(ParseTrivy(data, "big.json", sink).ok());
  ASSERT_EQ(sink.findings.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(sink.findings.back().check_id, "CVE-2024-12345");
  EXPECT_EQ(sink.findings.back().fixed_version, "3.0.11-1");
}

}  // namespace
}  // namespace isms
