// The 9.2 severity category of a vulnerability: Critical, Important or Other.
//
// Paragraph 9.2 aligns the three categories to the NVD Vulnerability Severity Ratings of the CVSS
// score (High / Medium / Low; a CVSS v3/v4 "Critical" counts as High) and to Microsoft's Security
// Bulletin Severity Rating System (Critical / Important / Moderate and Low). Which rating decides
// is "the agreed method in the ISMS", so the method and the score basis are policy (core/policy.h).
//
// Every rating keeps its issuer. Only ratings of Microsoft's own advisories are Microsoft ratings;
// other vendors' words (Red Hat "Important", ...) are kept for display and never decide a category
// under the methods below. The decision names the rating it came from, so an auditor can retrace
// it. The full mapping table and the methods are in docs/severity.md.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cvss.h"
#include "core/status.h"

namespace isms {

// Ordered from most to least severe.
enum class Category { kCritical, kImportant, kOther };

// "Critical", "Important", "Other".
std::string_view CategoryName(Category c);
// Case-insensitive "critical" / "important" / "other"; anything else is an error.
Result<Category> ParseCategory(std::string_view text);
// True when `a` is strictly more severe than `b`.
inline bool MoreSevere(Category a, Category b) {
  return static_cast<int>(a) < static_cast<int>(b);
}

// NVD rating -> category: Critical and High -> Critical, Medium -> Important, Low and None ->
// Other.
Category CategoryFromNvd(NvdRating r);
// Microsoft rating (case-insensitive): Critical -> Critical, Important -> Important, Moderate and
// Low -> Other. Any other word is an error naming the accepted values.
Result<Category> CategoryFromMicrosoft(std::string_view rating);

// How the category is chosen (policy key severity.method).
enum class SeverityMethod {
  kMicrosoftElseNvd,  // "microsoft-else-nvd" (default): Microsoft's rating where one exists,
                      // else the NVD rating of the CVSS score
  kMostSevere,        // "most-severe": the most severe of the Microsoft and NVD ratings
};
std::string_view SeverityMethodKey(SeverityMethod m);
Result<SeverityMethod> ParseSeverityMethod(std::string_view key);

// Which CVSS score is rated (policy key severity.basis).
enum class ScoreBasis {
  kBase,           // "base" (default): the base score
  kEnvironmental,  // "environmental": the environmental score where one exists, else the base
};
std::string_view ScoreBasisKey(ScoreBasis b);
Result<ScoreBasis> ParseScoreBasis(std::string_view key);

// One rating of one vulnerability, with who issued it.
struct Rating {
  enum class Issuer {
    kNvdCvss,    // the NVD rating of a CVSS score; issuer_name is who published the score
    kMicrosoft,  // Microsoft's own Security Bulletin Severity Rating (only from Microsoft)
    kVendor,     // any other vendor's own word, e.g. Red Hat "Important"; display only
  };
  Issuer issuer = Issuer::kVendor;
  std::string issuer_name;  // "NVD", "Microsoft", "Red Hat", ...
  std::string value;        // "High", "Important", ...; for kNvdCvss the NVD rating name
  // kNvdCvss only.
  CvssVersion cvss_version = CvssVersion::kV31;
  double score = 0.0;
  ScoreBasis basis = ScoreBasis::kBase;

  friend bool operator==(const Rating&, const Rating&) = default;
};

// A CVSS score rated by the NVD thresholds; `value` is the NVD rating name of the score.
// `source` is who published the score ("NVD" unless a scanner or vendor supplied it).
Rating CvssRating(CvssVersion version, double score, ScoreBasis basis = ScoreBasis::kBase,
                  std::string source = "NVD");
Rating MicrosoftRating(std::string value);
Rating VendorRating(std::string issuer_name, std::string value);

// "NVD High (CVSS 3.1 base 7.5)", "NVD Medium (CVSS 3.1 base 5.3 from Red Hat)",
// "Microsoft Important", "Red Hat Important (vendor rating)".
std::string DescribeRating(const Rating& r);

struct CategoryDecision {
  Category category = Category::kOther;
  SeverityMethod method = SeverityMethod::kMicrosoftElseNvd;
  ScoreBasis basis = ScoreBasis::kBase;
  Rating from;  // the rating that decided

  // "Critical: NVD High (CVSS 3.1 base 7.5) by microsoft-else-nvd".
  std::string Explain() const;
};

// Decides the category of one vulnerability from all of its ratings (any order, any issuers).
//
// Candidates are the Microsoft ratings and the CVSS ratings of the chosen basis (with
// ScoreBasis::kEnvironmental: the environmental ratings where any exists, else the base ones).
// Where several CVSS ratings remain, the newest CVSS version is used, and among those the most
// severe. kMicrosoftElseNvd takes a Microsoft rating where there is one (the most severe, if
// several), else that CVSS rating; kMostSevere takes the most severe candidate, a Microsoft rating
// winning a tie. Vendor ratings are never candidates.
//
// Errors: kInvalidArgument for a Microsoft rating that is not Critical/Important/Moderate/Low or a
// CVSS score outside 0.0-10.0; kFailedPrecondition when there is no Microsoft rating and no CVSS
// score (the category then has to be set by hand).
Result<CategoryDecision> DecideCategory(const std::vector<Rating>& ratings, SeverityMethod method,
                                        ScoreBasis basis = ScoreBasis::kBase);

}  // namespace isms
