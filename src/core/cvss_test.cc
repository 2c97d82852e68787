#include "core/cvss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isms_test_paths.h"

namespace isms {
namespace {

// ---- Reference vectors of RedHatProductSecurity/cvss (docs/cvss.md, "Tests"). ----

const std::filesystem::path kVectorDir =
    std::filesystem::path(ISMS_SHARED_TESTDATA) / "redhat-cvss" / "tests";

bool SameAtOneDecimal(double a, double b) {
  return std::lround(a * 10) == std::lround(b * 10);
}

std::string Show(std::optional<double> v) {
  return v ? std::to_string(*v) : "None";
}

struct Line {
  std::string vector;
  std::vector<std::optional<double>> expected;  // base, temporal, environmental (v4: score)
};

// "VECTOR - (base, temporal, environmental)", "VECTOR - (score,)" or "VECTOR - score".
std::vector<Line> ReadVectors(const std::string& name) {
  std::vector<Line> lines;
  std::ifstream in(kVectorDir / name);
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    const std::size_t dash = text.find(" - ");
    Line line;
    line.vector = text.substr(0, dash);
    std::string rest = text.substr(dash + 3);
    std::string field;
    for (char c : rest + ",") {
      if (c == '(' || c == ')' || c == ' ') continue;
      if (c != ',') {
        field += c;
        continue;
      }
      if (field == "None") {
        line.expected.push_back(std::nullopt);
      } else if (!field.empty()) {
        line.expected.push_back(std::stod(field));
      }
      field.clear();
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void CheckV2Line(const Line& line) {
  ASSERT_EQ(line.expected.size(), 3u);
  const Result<CvssScore> s = ScoreCvss(line.vector);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, CvssVersion::kV2);
  EXPECT_TRUE(SameAtOneDecimal(s->base_score, *line.expected[0])) << s->base_score;
  EXPECT_EQ(s->temporal_score.has_value(), line.expected[1].has_value());
  if (s->temporal_score && line.expected[1]) {
    EXPECT_TRUE(SameAtOneDecimal(*s->temporal_score, *line.expected[1])) << Show(s->temporal_score);
  }
  EXPECT_EQ(s->environmental_score.has_value(), line.expected[2].has_value());
  if (s->environmental_score && line.expected[2]) {
    EXPECT_TRUE(SameAtOneDecimal(*s->environmental_score, *line.expected[2]))
        << Show(s->environmental_score);
  }
  EXPECT_EQ(s->score, s->environmental_score.value_or(s->temporal_score.value_or(s->base_score)));
}

// RedHat's library reports all three v3 scores for every vector. Where the vector has no
// temporal metric, ScoreCvss reports none, and the temporal score is the base score; where it
// has no environmental metric, the environmental score is checked on the vector with CR:M added
// (CR:M weighs 1, as CR:X does).
void CheckV3Line(const Line& line, CvssVersion version) {
  ASSERT_EQ(line.expected.size(), 3u);
  const Result<CvssScore> s = ScoreCvss(line.vector);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, version);
  EXPECT_TRUE(SameAtOneDecimal(s->base_score, *line.expected[0])) << s->base_score;
  EXPECT_TRUE(SameAtOneDecimal(s->temporal_score.value_or(s->base_score), *line.expected[1]))
      << Show(s->temporal_score);
  std::optional<double> environmental = s->environmental_score;
  if (!environmental) {
    const Result<std::string> canonical = CanonicalCvss(line.vector);
    ASSERT_TRUE(canonical.ok());
    const Result<CvssScore> with_cr = ScoreCvss(*canonical + "/CR:M");
    ASSERT_TRUE(with_cr.ok()) << with_cr.status().ToString();
    environmental = with_cr->environmental_score;
  }
  ASSERT_TRUE(environmental.has_value());
  EXPECT_TRUE(SameAtOneDecimal(*environmental, *line.expected[2])) << *environmental;
  EXPECT_EQ(s->score, s->environmental_score.value_or(s->temporal_score.value_or(s->base_score)));
}

void CheckV4Line(const Line& line) {
  ASSERT_EQ(line.expected.size(), 1u);
  const Result<CvssScore> s = ScoreCvss(line.vector);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, CvssVersion::kV40);
  EXPECT_TRUE(SameAtOneDecimal(s->score, *line.expected[0])) << s->score;
  EXPECT_FALSE(s->temporal_score.has_value());
  EXPECT_FALSE(s->environmental_score.has_value());
}

class CvssReferenceVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kVectorDir)) {
      GTEST_SKIP() << "shared test data not found at " << kVectorDir;
    }
  }

  // Checks every line of the file `name` with `check`; returns the number of lines.
  template <typename Check>
  int CheckFile(const std::string& name, Check check) {
    const std::vector<Line> lines = ReadVectors(name);
    for (const Line& line : lines) {
      SCOPED_TRACE(name + ": " + line.vector);
      check(line);
    }
    return static_cast<int>(lines.size());
  }
  int CheckV2(const std::string& name) { return CheckFile(name, CheckV2Line); }
  int CheckV3(const std::string& name, CvssVersion version) {
    return CheckFile(name, [version](const Line& line) { CheckV3Line(line, version); });
  }
  int CheckV4(const std::string& name) { return CheckFile(name, CheckV4Line); }
};

TEST_F(CvssReferenceVectors, V2AllBaseCombinations) {
  EXPECT_EQ(CheckV2("vectors_simple2"), 729);
}

// RedHat's docstring: "Another 2 vectors added based on Issue #10, one of them does not match
// the calculator." NVD's calculator works in floating point: 9.0 x 0.85 = 7.6499... gives 7.6
// there, while the guide's formula gives 7.65 -> 7.7, which is what the file expects and what
// ScoreCvss computes (see CvssV2.TemporalRoundsExactTiesUp).
TEST_F(CvssReferenceVectors, V2Calculator) {
  EXPECT_EQ(CheckV2("vectors_calculator2"), 5);
}

TEST_F(CvssReferenceVectors, V2Cvsslib) {
  EXPECT_EQ(CheckV2("vectors_cvsslib2"), 24);
}

TEST_F(CvssReferenceVectors, V30AllBaseCombinations) {
  EXPECT_EQ(CheckV3("vectors_simple3", CvssVersion::kV30), 2592);
}

TEST_F(CvssReferenceVectors, V30Calculator) {
  EXPECT_EQ(CheckV3("vectors_calculator3", CvssVersion::kV30), 2);
}

TEST_F(CvssReferenceVectors, V30Cvsslib) {
  EXPECT_EQ(CheckV3("vectors_cvsslib3", CvssVersion::kV30), 29);
}

TEST_F(CvssReferenceVectors, V31AllBaseCombinations) {
  EXPECT_EQ(CheckV3("vectors_simple31", CvssVersion::kV31), 2592);
}

TEST_F(CvssReferenceVectors, V40Base) {
  EXPECT_EQ(CheckV4("vectors_simple4"), 1058);
}
TEST_F(CvssReferenceVectors, V40Supplemental) {
  EXPECT_EQ(CheckV4("vectors_supplemental4"), 576);
}
TEST_F(CvssReferenceVectors, V40Requirements) {
  EXPECT_EQ(CheckV4("vectors_security4"), 54);
}
TEST_F(CvssReferenceVectors, V40Threat) {
  EXPECT_EQ(CheckV4("vectors_threat4"), 6);
}

// ---- Hand-checked vectors. ----

CvssScore MustScore(std::string_view vector) {
  Result<CvssScore> s = ScoreCvss(vector);
  EXPECT_TRUE(s.ok()) << vector << ": " << s.status().ToString();
  return s.ok() ? *s : CvssScore{};
}

TEST(CvssV31, CriticalNetworkVector) {
  const CvssScore s = MustScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_EQ(s.version, CvssVersion::kV31);
  EXPECT_DOUBLE_EQ(s.base_score, 9.8);
  EXPECT_DOUBLE_EQ(s.score, 9.8);
  EXPECT_FALSE(s.temporal_score.has_value());
  EXPECT_FALSE(s.environmental_score.has_value());
  EXPECT_EQ(s.base_rating, NvdRating::kCritical);
}

TEST(CvssV31, TemporalAndEnvironmental) {
  // Temporal: Roundup(9.8 x 0.97 x 0.95) = Roundup(9.0307) = 9.1. Environmental: MISS =
  // min(1 - 0.72 x 0.72 x 0.16, 0.915) = 0.915; Roundup(6.42 x 0.915 + 8.22 x 0.62 x 0.77 x
  // 0.85 x 0.85) = Roundup(8.7096) = 8.8; Roundup(8.8 x 0.97 x 0.95) = Roundup(8.1092) = 8.2.
  const CvssScore s =
      MustScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C/CR:L/IR:L/AR:H/MAV:A");
  EXPECT_DOUBLE_EQ(s.base_score, 9.8);
  ASSERT_TRUE(s.temporal_score.has_value());
  EXPECT_DOUBLE_EQ(*s.temporal_score, 9.1);
  ASSERT_TRUE(s.environmental_score.has_value());
  EXPECT_DOUBLE_EQ(*s.environmental_score, 8.2);
  EXPECT_DOUBLE_EQ(s.score, 8.2);
}

TEST(CvssV3, ScopeChangedEnvironmentalDiffersBetween30And31) {
  // v3.1 changed the Scope Changed modified impact: 3.25 x (MISS x 0.9731 - 0.02)^13.
  const CvssScore v30 = MustScore("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/CR:M");
  const CvssScore v31 = MustScore("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/CR:M");
  EXPECT_DOUBLE_EQ(v30.base_score, 9.9);
  EXPECT_DOUBLE_EQ(v31.base_score, 9.9);
  EXPECT_DOUBLE_EQ(*v30.environmental_score, 9.9);
  EXPECT_DOUBLE_EQ(*v31.environmental_score, 10.0);
}

TEST(CvssV30, RoundupIsExactNotFloatingPoint) {
  // 5.0 x 0.92 = 4.6 exactly. FIRST's v3.0 calculator multiplies in floating point
  // (4.6000000000000005) and shows 4.7; the specification's Roundup of 4.6 is 4.6, which is also
  // what v3.1's integer-based Roundup gives.
  const CvssScore v30 = MustScore("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:N/I:N/A:L/RC:U");
  EXPECT_DOUBLE_EQ(v30.base_score, 5.0);
  EXPECT_DOUBLE_EQ(*v30.temporal_score, 4.6);
  const CvssScore v31 = MustScore("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:N/I:N/A:L/RC:U");
  EXPECT_DOUBLE_EQ(*v31.temporal_score, 4.6);
}

TEST(CvssV2, CompleteNetworkCompromise) {
  const CvssScore s = MustScore("AV:N/AC:L/Au:N/C:C/I:C/A:C");
  EXPECT_EQ(s.version, CvssVersion::kV2);
  EXPECT_DOUBLE_EQ(s.base_score, 10.0);
  EXPECT_EQ(s.base_rating, NvdRating::kHigh);
}

TEST(CvssV2, AcceptsNvdParenthesesAndPrefix) {
  EXPECT_DOUBLE_EQ(MustScore("(AV:N/AC:L/Au:N/C:P/I:P/A:P)").base_score, 7.5);
  EXPECT_DOUBLE_EQ(MustScore("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P").base_score, 7.5);
  EXPECT_EQ(*CanonicalCvss("(AV:N/AC:L/Au:N/C:P/I:P/A:P)"), "AV:N/AC:L/Au:N/C:P/I:P/A:P");
  EXPECT_EQ(*CanonicalCvss("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P"), "AV:N/AC:L/Au:N/C:P/I:P/A:P");
}

TEST(CvssV2, TemporalRoundsExactTiesUp) {
  // 9.0 x 0.85 = 7.65 exactly; the guide rounds it half up to 7.7.
  const CvssScore s = MustScore("AV:N/AC:L/Au:S/C:C/I:C/A:C/E:U/RL:U/RC:C");
  EXPECT_DOUBLE_EQ(s.base_score, 9.0);
  EXPECT_DOUBLE_EQ(*s.temporal_score, 7.7);
  EXPECT_DOUBLE_EQ(s.score, 7.7);
}

TEST(CvssV40, BaseThreatAndEnvironment) {
  const CvssScore base =
      MustScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
  EXPECT_EQ(base.version, CvssVersion::kV40);
  EXPECT_DOUBLE_EQ(base.base_score, 9.3);
  EXPECT_DOUBLE_EQ(base.score, 9.3);
  EXPECT_EQ(base.base_rating, NvdRating::kCritical);

  const CvssScore threat =
      MustScore("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U");
  EXPECT_DOUBLE_EQ(threat.base_score, 7.3);
  EXPECT_DOUBLE_EQ(threat.score, 4.1);
  EXPECT_EQ(threat.base_rating, NvdRating::kHigh);
  EXPECT_FALSE(threat.temporal_score.has_value());
  EXPECT_FALSE(threat.environmental_score.has_value());
}

TEST(CvssV40, ModifiedSafetyRaisesTheScore) {
  const CvssScore s =
      MustScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSI:S/MSA:S");
  EXPECT_DOUBLE_EQ(s.base_score, 9.3);
  EXPECT_DOUBLE_EQ(s.score, 10.0);
}

// The reference files have no modified base metrics; these vectors (out of order, as found in
// advisories) were cross-checked with an independent implementation of FIRST's calculator.
TEST(CvssV40, ModifiedBaseMetrics) {
  const CvssScore a = MustScore(
      "CVSS:4.0/AT:P/IR:L/E:P/UI:P/SA:N/VA:N/MSA:S/SI:N/AV:L/MSC:H/PR:N/AC:L/MAV:A/VI:N/VC:H/"
      "MAT:N/MSI:S/RE:X/SC:H/MAC:L/AU:Y");
  EXPECT_DOUBLE_EQ(a.base_score, 6.8);
  EXPECT_DOUBLE_EQ(a.score, 8.6);
  const CvssScore b = MustScore(
      "CVSS:4.0/MVC:N/AT:N/PR:H/SC:N/CR:L/AV:N/MVA:L/VI:L/VC:H/MSC:X/MPR:L/AU:Y/VA:L/AC:H/SI:L/"
      "MSI:N/S:N/SA:N/UI:A");
  EXPECT_DOUBLE_EQ(b.base_score, 5.7);
  EXPECT_DOUBLE_EQ(b.score, 2.0);
  const CvssScore c = MustScore(
      "CVSS:4.0/MSA:H/VA:H/MVC:X/AT:P/MSC:L/AR:M/SA:L/E:P/IR:L/MUI:N/SI:N/RE:X/UI:A/PR:H/AV:A/"
      "VI:H/SC:H/AC:L/CR:L/VC:H");
  EXPECT_DOUBLE_EQ(c.base_score, 6.9);
  EXPECT_DOUBLE_EQ(c.score, 5.8);
}

TEST(CvssV40, SupplementalMetricsDoNotChangeTheScore) {
  const std::string base = "CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:P/VC:L/VI:H/VA:N/SC:L/SI:N/SA:H";
  const double plain = MustScore(base).score;
  EXPECT_DOUBLE_EQ(MustScore(base + "/S:P/AU:Y/R:I/V:C/RE:H/U:Red").score, plain);
}

TEST(CvssV40, NoImpactScoresZero) {
  const CvssScore s = MustScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N");
  EXPECT_DOUBLE_EQ(s.score, 0.0);
  EXPECT_EQ(s.base_rating, NvdRating::kNone);
}

// ---- Order, Not Defined values and canonical printing. ----

TEST(CvssCanonical, OutOfOrderMetricsAreAcceptedAndPrintedInSpecificationOrder) {
  const std::string v4 = "CVSS:4.0/VC:H/AV:N/E:P/SA:N/AC:L/SI:N/AT:N/SC:N/PR:N/VA:H/UI:N/VI:H";
  EXPECT_EQ(*CanonicalCvss(v4),
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P");
  EXPECT_DOUBLE_EQ(MustScore(v4).score, MustScore(*CanonicalCvss(v4)).score);

  EXPECT_EQ(*CanonicalCvss("CVSS:3.1/S:U/A:H/I:H/C:H/UI:N/PR:N/AC:L/AV:N/MAV:L/E:P"),
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/MAV:L");
  EXPECT_EQ(*CanonicalCvss("A:C/I:N/C:P/Au:S/AC:M/AV:A/TD:H/E:F"),
            "AV:A/AC:M/Au:S/C:P/I:N/A:C/E:F/TD:H");
}

TEST(CvssCanonical, NotDefinedMetricsAreDroppedAndScoreAsAbsent) {
  EXPECT_EQ(*CanonicalCvss("CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X"),
            "CVSS:3.0/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/E:F");
  EXPECT_EQ(*CanonicalCvss("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:ND/CDP:ND"), "AV:N/AC:L/Au:N/C:P/I:P/A:P");

  // An X environmental metric is no environmental metric: the score stays the base score.
  const CvssScore x = MustScore("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/MAV:X/E:X");
  EXPECT_FALSE(x.temporal_score.has_value());
  EXPECT_FALSE(x.environmental_score.has_value());
  EXPECT_DOUBLE_EQ(x.score, 9.9);

  const CvssScore v4 =
      MustScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/MAV:X");
  EXPECT_DOUBLE_EQ(v4.score, 9.3);
}

// ---- Rejections: each names the vector and the metric or component. ----

std::string ErrorOf(std::string_view vector) {
  const Result<CvssScore> s = ScoreCvss(vector);
  EXPECT_FALSE(s.ok()) << vector;
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  // CanonicalCvss rejects the same vectors with the same message.
  EXPECT_EQ(CanonicalCvss(vector).status(), s.status());
  return s.status().message();
}

TEST(CvssRejects, UnknownValueNamesMetricAndAllowedValues) {
  EXPECT_EQ(ErrorOf("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            "CVSS vector 'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H': metric AV has no value "
            "'Q' (allowed: N, A, L, P)");
  EXPECT_EQ(ErrorOf("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:X"),
            "CVSS vector 'AV:N/AC:L/Au:N/C:P/I:P/A:P/E:X': metric E has no value 'X' (allowed: "
            "U, POC, F, H, ND)");
  EXPECT_NE(ErrorOf("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N")
                .find("metric SI has no value 'S' (allowed: H, L, N)"),
            std::string::npos);
  EXPECT_NE(ErrorOf("CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").find("metric AV has no"),
            std::string::npos);
}

TEST(CvssRejects, UnknownMetric) {
  EXPECT_EQ(ErrorOf("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N"),
            "CVSS vector 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N': unknown metric "
            "'AT' for CVSS 3.1");
  // Without a prefix a vector is read as v2; the message says so.
  const std::string e = ErrorOf("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_NE(e.find("unknown metric 'PR' for CVSS 2.0"), std::string::npos) << e;
  EXPECT_NE(e.find("'CVSS:3.1/'"), std::string::npos) << e;
}

TEST(CvssRejects, DuplicateMetric) {
  EXPECT_EQ(ErrorOf("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L"),
            "CVSS vector 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L': metric AV appears "
            "more than once");
  // Even when one of them is Not Defined.
  EXPECT_NE(
      ErrorOf("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/E:H").find("metric E appears"),
      std::string::npos);
}

TEST(CvssRejects, MissingBaseMetrics) {
  EXPECT_EQ(ErrorOf("CVSS:3.1/AV:N/AC:L/UI:N/S:U/C:H/I:H/A:H"),
            "CVSS vector 'CVSS:3.1/AV:N/AC:L/UI:N/S:U/C:H/I:H/A:H': missing base metric PR");
  EXPECT_EQ(ErrorOf("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H"),
            "CVSS vector 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H': missing base "
            "metrics SC, SI, SA");
}

TEST(CvssRejects, WrongOrMissingVersionPrefix) {
  EXPECT_EQ(ErrorOf("CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            "CVSS vector 'CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H': unsupported version "
            "prefix 'CVSS:3.2' (expected CVSS:2.0/, CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/)");
  EXPECT_NE(ErrorOf("CVSS:3.1").find("no metrics after the version prefix"), std::string::npos);
  EXPECT_NE(ErrorOf("CVSS:3.1/").find("no metrics"), std::string::npos);
  EXPECT_NE(ErrorOf("AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .find("unknown metric 'AT' for CVSS 2.0"),
            std::string::npos);
}

TEST(CvssRejects, EmptyComponentAndTrailingSlash) {
  EXPECT_EQ(ErrorOf("CVSS:3.1/AV:N/AC:L/PR:N//UI:N/S:U/C:H/I:H/A:H"),
            "CVSS vector 'CVSS:3.1/AV:N/AC:L/PR:N//UI:N/S:U/C:H/I:H/A:H': empty component (a '/' "
            "at the start or two in a row)");
  EXPECT_EQ(ErrorOf("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/"),
            "CVSS vector 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/': trailing '/'");
  EXPECT_NE(ErrorOf("CVSS:3.1//AV:N").find("empty component"), std::string::npos);
}

TEST(CvssRejects, MalformedInput) {
  EXPECT_EQ(ErrorOf(""), "CVSS vector is empty");
  EXPECT_NE(ErrorOf("CVSS:3.1/AV:N/ACL").find("component 'ACL' is not METRIC:VALUE"),
            std::string::npos);
  EXPECT_NE(ErrorOf("(AV:N/AC:L/Au:N/C:P/I:P/A:P").find("without a closing ')'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H ").find("metric A has no"),
            std::string::npos);
  // Control bytes are not copied into the message.
  EXPECT_EQ(ErrorOf(std::string_view("\x01\n", 2)).find('\n'), std::string::npos);
}

// ---- Names and NVD ratings. ----

TEST(CvssNames, VersionAndRatingNames) {
  EXPECT_EQ(CvssVersionName(CvssVersion::kV2), "2.0");
  EXPECT_EQ(CvssVersionName(CvssVersion::kV30), "3.0");
  EXPECT_EQ(CvssVersionName(CvssVersion::kV31), "3.1");
  EXPECT_EQ(CvssVersionName(CvssVersion::kV40), "4.0");
  EXPECT_EQ(NvdRatingName(NvdRating::kNone), "None");
  EXPECT_EQ(NvdRatingName(NvdRating::kLow), "Low");
  EXPECT_EQ(NvdRatingName(NvdRating::kMedium), "Medium");
  EXPECT_EQ(NvdRatingName(NvdRating::kHigh), "High");
  EXPECT_EQ(NvdRatingName(NvdRating::kCritical), "Critical");
}

TEST(CvssNvdRating, V2Boundaries) {
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV2, 0.0), NvdRating::kLow);
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV2, 3.9), NvdRating::kLow);
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV2, 4.0), NvdRating::kMedium);
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV2, 6.9), NvdRating::kMedium);
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV2, 7.0), NvdRating::kHigh);
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV2, 10.0), NvdRating::kHigh);
}

TEST(CvssNvdRating, V3AndV4Boundaries) {
  for (CvssVersion v : {CvssVersion::kV30, CvssVersion::kV31, CvssVersion::kV40}) {
    SCOPED_TRACE(std::string(CvssVersionName(v)));
    EXPECT_EQ(NvdRatingFor(v, 0.0), NvdRating::kNone);
    EXPECT_EQ(NvdRatingFor(v, 0.1), NvdRating::kLow);
    EXPECT_EQ(NvdRatingFor(v, 3.9), NvdRating::kLow);
    EXPECT_EQ(NvdRatingFor(v, 4.0), NvdRating::kMedium);
    EXPECT_EQ(NvdRatingFor(v, 6.9), NvdRating::kMedium);
    EXPECT_EQ(NvdRatingFor(v, 7.0), NvdRating::kHigh);
    EXPECT_EQ(NvdRatingFor(v, 8.9), NvdRating::kHigh);
    EXPECT_EQ(NvdRatingFor(v, 9.0), NvdRating::kCritical);
    EXPECT_EQ(NvdRatingFor(v, 10.0), NvdRating::kCritical);
  }
  // Scores are taken at one decimal: 3.95 counts as 4.0.
  EXPECT_EQ(NvdRatingFor(CvssVersion::kV31, 3.95), NvdRating::kMedium);
}

}  // namespace
}  // namespace isms
