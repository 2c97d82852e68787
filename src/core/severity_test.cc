#include "core/severity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace isms {
namespace {

TEST(SeverityCategory, NamesAndParsing) {
  EXPECT_EQ(CategoryName(Category::kCritical), "Critical");
  EXPECT_EQ(CategoryName(Category::kImportant), "Important");
  EXPECT_EQ(CategoryName(Category::kOther), "Other");
  EXPECT_EQ(*ParseCategory("critical"), Category::kCritical);
  EXPECT_EQ(*ParseCategory("IMPORTANT"), Category::kImportant);
  EXPECT_EQ(*ParseCategory(" Other "), Category::kOther);
  Result<Category> bad = ParseCategory("High");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Critical, Important or Other"), std::string::npos);
}

TEST(SeverityCategory, Ordering) {
  EXPECT_TRUE(MoreSevere(Category::kCritical, Category::kImportant));
  EXPECT_TRUE(MoreSevere(Category::kImportant, Category::kOther));
  EXPECT_FALSE(MoreSevere(Category::kOther, Category::kOther));
  EXPECT_FALSE(MoreSevere(Category::kOther, Category::kCritical));
}

TEST(SeverityMapping, NvdRatings) {
  EXPECT_EQ(CategoryFromNvd(NvdRating::kCritical), Category::kCritical);
  EXPECT_EQ(CategoryFromNvd(NvdRating::kHigh), Category::kCritical);
  EXPECT_EQ(CategoryFromNvd(NvdRating::kMedium), Category::kImportant);
  EXPECT_EQ(CategoryFromNvd(NvdRating::kLow), Category::kOther);
  EXPECT_EQ(CategoryFromNvd(NvdRating::kNone), Category::kOther);
}

TEST(SeverityMapping, MicrosoftRatings) {
  EXPECT_EQ(*CategoryFromMicrosoft("Critical"), Category::kCritical);
  EXPECT_EQ(*CategoryFromMicrosoft("Important"), Category::kImportant);
  EXPECT_EQ(*CategoryFromMicrosoft("Moderate"), Category::kOther);
  EXPECT_EQ(*CategoryFromMicrosoft("Low"), Category::kOther);
  EXPECT_EQ(*CategoryFromMicrosoft("important"), Category::kImportant);
  for (const char* bad : {"High", "Medium", "None", "", "Severe"}) {
    Result<Category> r = CategoryFromMicrosoft(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("Critical, Important, Moderate or Low"), std::string::npos);
  }
}

struct ScoreCase {
  CvssVersion version;
  double score;
  Category category;
};

// The whole CVSS -> NVD rating -> category table at every boundary (docs/severity.md).
TEST(SeverityMapping, CvssScoresThroughNvdRating) {
  const ScoreCase cases[] = {
      {CvssVersion::kV2, 0.0, Category::kOther},
      {CvssVersion::kV2, 3.9, Category::kOther},
      {CvssVersion::kV2, 4.0, Category::kImportant},
      {CvssVersion::kV2, 6.9, Category::kImportant},
      {CvssVersion::kV2, 7.0, Category::kCritical},
      {CvssVersion::kV2, 10.0, Category::kCritical},
      {CvssVersion::kV30, 0.0, Category::kOther},
      {CvssVersion::kV30, 3.9, Category::kOther},
      {CvssVersion::kV30, 4.0, Category::kImportant},
      {CvssVersion::kV30, 7.0, Category::kCritical},
      {CvssVersion::kV31, 0.1, Category::kOther},
      {CvssVersion::kV31, 3.9, Category::kOther},
      {CvssVersion::kV31, 4.0, Category::kImportant},
      {CvssVersion::kV31, 6.9, Category::kImportant},
      {CvssVersion::kV31, 7.0, Category::kCritical},
      {CvssVersion::kV31, 8.9, Category::kCritical},
      {CvssVersion::kV31, 9.0, Category::kCritical},
      {CvssVersion::kV31, 10.0, Category::kCritical},
      {CvssVersion::kV40, 0.0, Category::kOther},
      {CvssVersion::kV40, 3.9, Category::kOther},
      {CvssVersion::kV40, 4.0, Category::kImportant},
      {CvssVersion::kV40, 6.9, Category::kImportant},
      {CvssVersion::kV40, 7.0, Category::kCritical},
      {CvssVersion::kV40, 9.3, Category::kCritical},
  };
  for (const ScoreCase& c : cases) {
    Result<CategoryDecision> d =
        DecideCategory({CvssRating(c.version, c.score)}, SeverityMethod::kMicrosoftElseNvd);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->category, c.category) << "CVSS " << CvssVersionName(c.version) << " " << c.score;
  }
}

TEST(SeverityMethodKeys, RoundTrip) {
  for (SeverityMethod m : {SeverityMethod::kMicrosoftElseNvd, SeverityMethod::kMostSevere}) {
    EXPECT_EQ(*ParseSeverityMethod(SeverityMethodKey(m)), m);
  }
  for (ScoreBasis b : {ScoreBasis::kBase, ScoreBasis::kEnvironmental}) {
    EXPECT_EQ(*ParseScoreBasis(ScoreBasisKey(b)), b);
  }
  EXPECT_EQ(SeverityMethodKey(SeverityMethod::kMicrosoftElseNvd), "microsoft-else-nvd");
  EXPECT_EQ(SeverityMethodKey(SeverityMethod::kMostSevere), "most-severe");
  EXPECT_FALSE(ParseSeverityMethod("nvd").ok());
  EXPECT_FALSE(ParseScoreBasis("temporal").ok());
}

TEST(SeverityRatings, Describe) {
  EXPECT_EQ(DescribeRating(CvssRating(CvssVersion::kV31, 7.5)), "NVD High (CVSS 3.1 base 7.5)");
  EXPECT_EQ(DescribeRating(CvssRating(CvssVersion::kV31, 5.3, ScoreBasis::kBase, "Red Hat")),
            "NVD Medium (CVSS 3.1 base 5.3 from Red Hat)");
  EXPECT_EQ(DescribeRating(CvssRating(CvssVersion::kV2, 10.0)), "NVD High (CVSS 2.0 base 10.0)");
  EXPECT_EQ(DescribeRating(CvssRating(CvssVersion::kV40, 9.3, ScoreBasis::kEnvironmental)),
            "NVD Critical (CVSS 4.0 environmental 9.3)");
  EXPECT_EQ(DescribeRating(MicrosoftRating("Important")), "Microsoft Important");
  EXPECT_EQ(DescribeRating(VendorRating("Red Hat", "Important")),
            "Red Hat Important (vendor rating)");
}

// A score is written with one decimal exactly as printf's "%.1f" writes it, ties included (a
// double such as 0.25 or 0.35 rounds as its exact binary value does).
TEST(SeverityRatings, DescribeWritesTheScoreAsPrintfDoes) {
  std::vector<double> scores;
  for (int hundredths = 0; hundredths <= 1000; ++hundredths) scores.push_back(hundredths / 100.0);
  for (double s : {0.05, 0.15, 0.25, 0.35, 0.45, 7.45, 9.95, 9.9999, 1e-9, 3.0000000001}) {
    scores.push_back(s);
  }
  for (double score : scores) {
    char expected[64];
    std::snprintf(expected, sizeof expected, "%.1f", score);
    Rating r = CvssRating(CvssVersion::kV31, score);
    const std::string text = DescribeRating(r);
    EXPECT_NE(text.find(std::string("base ") + expected + ")"), std::string::npos)
        << score << ": " << text;
  }
}

TEST(SeverityDecide, DefaultMethodPrefersMicrosoft) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 9.8), MicrosoftRating("Important")},
                     SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kImportant);
  EXPECT_EQ(d->from.issuer, Rating::Issuer::kMicrosoft);
  EXPECT_EQ(d->method, SeverityMethod::kMicrosoftElseNvd);
  EXPECT_EQ(d->Explain(), "Important: Microsoft Important by microsoft-else-nvd");
}

TEST(SeverityDecide, DefaultMethodFallsBackToNvd) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 7.5)}, SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(DescribeRating(d->from), "NVD High (CVSS 3.1 base 7.5)");
  EXPECT_EQ(d->Explain(), "Critical: NVD High (CVSS 3.1 base 7.5) by microsoft-else-nvd");
}

TEST(SeverityDecide, MicrosoftModerateIsOtherEvenWhenNvdIsHigh) {
  Result<CategoryDecision> d =
      DecideCategory({MicrosoftRating("Moderate"), CvssRating(CvssVersion::kV31, 8.1)},
                     SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kOther);
}

TEST(SeverityDecide, MostSevereTakesTheHigher) {
  Result<CategoryDecision> d =
      DecideCategory({MicrosoftRating("Moderate"), CvssRating(CvssVersion::kV31, 8.1)},
                     SeverityMethod::kMostSevere);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(d->from.issuer, Rating::Issuer::kNvdCvss);

  d = DecideCategory({MicrosoftRating("Critical"), CvssRating(CvssVersion::kV31, 5.0)},
                     SeverityMethod::kMostSevere);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(d->from.issuer, Rating::Issuer::kMicrosoft);
}

TEST(SeverityDecide, MostSevereTieNamesMicrosoft) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 5.0), MicrosoftRating("Important")},
                     SeverityMethod::kMostSevere);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kImportant);
  EXPECT_EQ(d->from.issuer, Rating::Issuer::kMicrosoft);
}

TEST(SeverityDecide, VendorRatingsNeverDecide) {
  Result<CategoryDecision> d =
      DecideCategory({VendorRating("Red Hat", "Important"), CvssRating(CvssVersion::kV31, 3.1)},
                     SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kOther);
  EXPECT_EQ(d->from.issuer, Rating::Issuer::kNvdCvss);

  d = DecideCategory({VendorRating("Red Hat", "Critical"), CvssRating(CvssVersion::kV31, 3.1)},
                     SeverityMethod::kMostSevere);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kOther);
}

TEST(SeverityDecide, VendorRatingNamedMicrosoftWordIsNotMicrosoft) {
  Result<CategoryDecision> d =
      DecideCategory({VendorRating("Red Hat", "Important")}, SeverityMethod::kMicrosoftElseNvd);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
}

TEST(SeverityDecide, NoRatingIsAnError) {
  Result<CategoryDecision> d = DecideCategory({}, SeverityMethod::kMostSevere);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("set the category by hand"), std::string::npos);
}

TEST(SeverityDecide, UnknownMicrosoftRatingIsAnError) {
  Result<CategoryDecision> d = DecideCategory(
      {MicrosoftRating("High"), CvssRating(CvssVersion::kV31, 9.0)}, SeverityMethod::kMostSevere);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
}

TEST(SeverityDecide, ScoreOutOfRangeIsAnError) {
  for (double bad : {-0.1, 10.1, std::numeric_limits<double>::quiet_NaN()}) {
    Result<CategoryDecision> d =
        DecideCategory({CvssRating(CvssVersion::kV31, 5.0), CvssRating(CvssVersion::kV31, bad)},
                       SeverityMethod::kMicrosoftElseNvd);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SeverityDecide, BaseBasisIgnoresEnvironmentalScore) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 9.8),
                      CvssRating(CvssVersion::kV31, 5.0, ScoreBasis::kEnvironmental)},
                     SeverityMethod::kMicrosoftElseNvd, ScoreBasis::kBase);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(d->from.basis, ScoreBasis::kBase);
}

TEST(SeverityDecide, EnvironmentalBasisUsesEnvironmentalWhereItExists) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 9.8),
                      CvssRating(CvssVersion::kV31, 5.0, ScoreBasis::kEnvironmental)},
                     SeverityMethod::kMicrosoftElseNvd, ScoreBasis::kEnvironmental);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kImportant);
  EXPECT_EQ(d->basis, ScoreBasis::kEnvironmental);
  EXPECT_EQ(DescribeRating(d->from), "NVD Medium (CVSS 3.1 environmental 5.0)");
}

TEST(SeverityDecide, EnvironmentalBasisFallsBackToBase) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 9.8)}, SeverityMethod::kMicrosoftElseNvd,
                     ScoreBasis::kEnvironmental);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(d->from.basis, ScoreBasis::kBase);
}

TEST(SeverityDecide, EnvironmentalBasisDoesNotOverrideMicrosoft) {
  Result<CategoryDecision> d = DecideCategory(
      {MicrosoftRating("Critical"), CvssRating(CvssVersion::kV31, 2.0, ScoreBasis::kEnvironmental)},
      SeverityMethod::kMicrosoftElseNvd, ScoreBasis::kEnvironmental);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(d->from.issuer, Rating::Issuer::kMicrosoft);
}

TEST(SeverityDecide, NewestCvssVersionWins) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV2, 9.3), CvssRating(CvssVersion::kV31, 5.3)},
                     SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kImportant);
  EXPECT_EQ(d->from.cvss_version, CvssVersion::kV31);
}

TEST(SeverityDecide, SameVersionMostSevereScoreWins) {
  Result<CategoryDecision> d =
      DecideCategory({CvssRating(CvssVersion::kV31, 5.3, ScoreBasis::kBase, "Red Hat"),
                      CvssRating(CvssVersion::kV31, 7.5)},
                     SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kCritical);
  EXPECT_EQ(d->from.issuer_name, "NVD");
}

TEST(SeverityDecide, SeveralMicrosoftRatingsTakeTheMostSevere) {
  Result<CategoryDecision> d = DecideCategory(
      {MicrosoftRating("Low"), MicrosoftRating("Important")}, SeverityMethod::kMicrosoftElseNvd);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->category, Category::kImportant);
  EXPECT_EQ(d->from.value, "Important");
}

}  // namespace
}  // namespace isms
