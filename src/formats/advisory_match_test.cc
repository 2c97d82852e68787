#include "formats/advisory_match.h"

#include <gtest/gtest.h>

namespace isms {
namespace {

AdvisoryProduct WithPurl(const char* purl) {
  AdvisoryProduct p;
  p.id = "P";
  p.purl = purl;
  return p;
}

AdvisoryProduct WithCpe(const char* cpe) {
  AdvisoryProduct p;
  p.id = "P";
  p.cpe = cpe;
  return p;
}

AdvisoryProduct Named(const char* product, const char* version) {
  AdvisoryProduct p;
  p.id = "P";
  p.product = product;
  p.version = version;
  return p;
}

TEST(AdvisoryMatchTest, PurlIgnoresQualifiersAndSubpath) {
  const AdvisoryProduct p = WithPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
  EXPECT_TRUE(
      ProductMatches(p, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "", "", ""));
  EXPECT_TRUE(ProductMatches(
      p, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar&classifier=sources", "", "",
      ""));
  EXPECT_TRUE(ProductMatches(p, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1#src/main", "",
                             "", ""));
  const AdvisoryProduct q =
      WithPurl("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=12");
  EXPECT_TRUE(ProductMatches(q, "pkg:deb/debian/openssl@3.0.11-1~deb12u2", "", "", ""));
}

TEST(AdvisoryMatchTest, PurlComparesTypeNamespaceNameAndVersion) {
  const AdvisoryProduct p = WithPurl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
  EXPECT_FALSE(
      ProductMatches(p, "pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0", "", "", ""));
  EXPECT_FALSE(
      ProductMatches(p, "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1", "", "", ""));
  EXPECT_FALSE(ProductMatches(p, "pkg:maven/org.example/log4j-core@2.14.1", "", "", ""));
  EXPECT_FALSE(
      ProductMatches(p, "pkg:gradle/org.apache.logging.log4j/log4j-core@2.14.1", "", "", ""));
  EXPECT_FALSE(ProductMatches(p, "pkg:maven/org.apache.logging.log4j/log4j-core", "", "", ""));
  EXPECT_FALSE(ProductMatches(WithPurl("pkg:maven/org.apache.logging.log4j/log4j-core"),
                              "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "", "", ""));
}

TEST(AdvisoryMatchTest, PurlCaseAndEncodingFollowTheTypeRules) {
  EXPECT_TRUE(ProductMatches(WithPurl("pkg:npm/%40example/widget-server@2.4.1"),
                             "pkg:NPM/@example/widget-server@2.4.1", "", "", ""));
  EXPECT_TRUE(
      ProductMatches(WithPurl("pkg:pypi/Django_Rest@3.1"), "pkg:pypi/django-rest@3.1", "", "", ""));
  EXPECT_TRUE(ProductMatches(WithPurl("pkg:github/Package-URL/purl-spec@v1.0"),
                             "pkg:github/package-url/purl-spec@1.0", "", "", ""));
  EXPECT_FALSE(ProductMatches(WithPurl("pkg:maven/org.Example/Thing@1.0"),
                              "pkg:maven/org.example/thing@1.0", "", "", ""));
  EXPECT_TRUE(ProductMatches(WithPurl("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5"),
                             "pkg:deb/debian/curl@7.88.1-10+deb12u5", "", "", ""));
}

TEST(AdvisoryMatchTest, PurlOnBothSidesDecidesEvenWhenNamesAgree) {
  AdvisoryProduct p = WithPurl("pkg:npm/lodash@4.17.20");
  p.product = "lodash";
  p.version = "4.17.20";
  EXPECT_FALSE(ProductMatches(p, "pkg:npm/lodash@4.17.21", "", "lodash", "4.17.20"));
  EXPECT_TRUE(ProductMatches(p, "", "", "lodash", "4.17.20"));
  EXPECT_TRUE(ProductMatches(p, "not a purl", "", "lodash", "4.17.20"));
}

TEST(AdvisoryMatchTest, Cpe23AndCpe22) {
  const AdvisoryProduct p23 = WithCpe("cpe:2.3:a:example:widget-server:2.4.1:*:*:*:*:*:*:*");
  EXPECT_TRUE(
      ProductMatches(p23, "", "cpe:2.3:a:example:widget-server:2.4.1:*:*:*:*:*:*:*", "", ""));
  EXPECT_TRUE(ProductMatches(p23, "", "cpe:/a:example:widget-server:2.4.1", "", ""));
  EXPECT_TRUE(ProductMatches(p23, "", "CPE:2.3:A:Example:Widget-Server:2.4.1", "", ""));
  EXPECT_FALSE(
      ProductMatches(p23, "", "cpe:2.3:a:example:widget-server:2.4.2:*:*:*:*:*:*:*", "", ""));
  EXPECT_FALSE(
      ProductMatches(p23, "", "cpe:2.3:a:other:widget-server:2.4.1:*:*:*:*:*:*:*", "", ""));

  const AdvisoryProduct p22 = WithCpe("cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-alpha");
  EXPECT_TRUE(ProductMatches(
      p22, "", "cpe:2.3:a:csaf-tools:cvrf-csaf-converter:1.0.0-alpha:*:*:*:*:*:*:*", "", ""));
  EXPECT_TRUE(ProductMatches(p22, "", "cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-alpha", "", ""));
  EXPECT_FALSE(ProductMatches(p22, "", "cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-rc2", "", ""));
}

TEST(AdvisoryMatchTest, CpeWildcardsAndEscapes) {
  EXPECT_TRUE(ProductMatches(WithCpe("cpe:/a:redhat:openshift:4.6::el8"), "",
                             "cpe:2.3:a:redhat:openshift:*:*:*:*:*:*:*:*", "", ""));
  EXPECT_TRUE(ProductMatches(WithCpe("cpe:/a:redhat:openshift"), "",
                             "cpe:2.3:a:redhat:openshift:4.6:*:*:*:*:*:*:*", "", ""));
  EXPECT_TRUE(ProductMatches(WithCpe("cpe:2.3:a:example:widget:2.4*:*:*:*:*:*:*:*"), "",
                             "cpe:2.3:a:example:widget:2.4.9:*:*:*:*:*:*:*", "", ""));
  EXPECT_FALSE(ProductMatches(WithCpe("cpe:2.3:a:example:widget:2.4*:*:*:*:*:*:*:*"), "",
                              "cpe:2.3:a:example:widget:2.5.0:*:*:*:*:*:*:*", "", ""));
  EXPECT_FALSE(ProductMatches(WithCpe("cpe:2.3:a:example:widget:-:*:*:*:*:*:*:*"), "",
                              "cpe:2.3:a:example:widget:1.0:*:*:*:*:*:*:*", "", ""));
  EXPECT_TRUE(ProductMatches(WithCpe("cpe:2.3:a:example:widget:-:*:*:*:*:*:*:*"), "",
                             "cpe:/a:example:widget:-", "", ""));
  EXPECT_TRUE(ProductMatches(WithCpe("cpe:2.3:a:example:c\\:\\\\tool:1.0:*:*:*:*:*:*:*"), "",
                             "cpe:/a:example:c%3a%5ctool:1.0", "", ""));
  EXPECT_TRUE(ProductMatches(WithCpe("cpe:2.3:a:example:widget\\*:1.0:*:*:*:*:*:*:*"), "",
                             "cpe:2.3:a:example:widget\\*:1.0", "", ""));
  EXPECT_FALSE(ProductMatches(WithCpe("cpe:2.3:a:example:widget\\*:1.0:*:*:*:*:*:*:*"), "",
                              "cpe:2.3:a:example:widgetx:1.0", "", ""));
}

TEST(AdvisoryMatchTest, NameAndVersionAfterNormalisation) {
  EXPECT_TRUE(ProductMatches(Named("Log4j_Core", "v2.14.1"), "", "", "log4j-core", "2.14.1"));
  EXPECT_TRUE(ProductMatches(Named("CVRF-CSAF-Converter", "1.0.0-alpha"), "", "",
                             "cvrf csaf converter", "1.0.0-ALPHA"));
  EXPECT_TRUE(ProductMatches(Named("openssl", "1:3.0.11-1"), "", "", "OpenSSL", "3.0.11-1"));
  EXPECT_TRUE(ProductMatches(Named("node.js", "20.11.0"), "", "", "Node-JS", "v20.11.0"));
  AdvisoryProduct full;
  full.name = "gadget_lib";
  full.version = "1.9.0";
  EXPECT_TRUE(ProductMatches(full, "", "", "gadget-lib", "1.9.0"));
}

TEST(AdvisoryMatchTest, NameNonMatches) {
  EXPECT_FALSE(ProductMatches(Named("log4j-core", "2.14.1"), "", "", "log4j-api", "2.14.1"));
  EXPECT_FALSE(ProductMatches(Named("log4j-core", "2.14.1"), "", "", "log4j-core", "2.14.10"));
  EXPECT_FALSE(ProductMatches(Named("nodejs", "20.11.0"), "", "", "node.js", "20.11.0"));
  EXPECT_FALSE(ProductMatches(Named("log4j-core", ""), "", "", "log4j-core", "2.14.1"));
  EXPECT_FALSE(ProductMatches(Named("log4j-core", "2.14.1"), "", "", "log4j-core", ""));
  EXPECT_FALSE(ProductMatches(Named("Secvisogram", "<=1.14.0"), "", "", "secvisogram", "1.14.0"));
  EXPECT_FALSE(ProductMatches(Named("", ""), "", "", "", ""));
  EXPECT_FALSE(ProductMatches(Named("version", "1.0"), "", "", "version", "1:2.0"));
}

TEST(AdvisoryMatchTest, CpeOnBothSidesDecidesBeforeNames) {
  AdvisoryProduct p = WithCpe("cpe:/a:example:gadget_lib:1.9.0");
  p.product = "gadget_lib";
  p.version = "1.9.0";
  EXPECT_FALSE(ProductMatches(p, "", "cpe:/a:example:gadget_lib:1.9.1", "gadget_lib", "1.9.0"));
  EXPECT_TRUE(ProductMatches(p, "", "", "gadget-lib", "1.9.0"));
}

TEST(AdvisoryMatchTest, Normalisers) {
  EXPECT_EQ(NormaliseProductName("  Log4j__Core. "), "log4j-core");
  EXPECT_EQ(NormaliseProductName("A - B"), "a-b");
  EXPECT_EQ(NormaliseProductName("--"), "");
  EXPECT_EQ(NormaliseVersion(" 1:v2.4.1-RC1 "), "2.4.1-rc1");
  EXPECT_EQ(NormaliseVersion("v"), "v");
  EXPECT_EQ(NormaliseVersion("version2"), "version2");
  EXPECT_EQ(NormaliseVersion("12:"), "12:");
  EXPECT_EQ(NormaliseVersion("2.0:1"), "2.0:1");
}

}  // namespace
}  // namespace isms
