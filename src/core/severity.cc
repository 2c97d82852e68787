#include "core/severity.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "core/ascii.h"

namespace isms {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string FormatScore(double score) {
  char buf[400];  // "%.1f" of the largest double
  // As printf's "%.1f" writes it (the standard defines to_chars with a precision so).
  const auto r = std::to_chars(buf, buf + sizeof buf, score, std::chars_format::fixed, 1);
  return std::string(buf, r.ptr);
}

bool ValidScore(double score) {
  return std::isfinite(score) && score >= 0.0 && score <= 10.0;
}

int VersionRank(CvssVersion v) {
  switch (v) {
    case CvssVersion::kV2: return 0;
    case CvssVersion::kV30: return 1;
    case CvssVersion::kV31: return 2;
    case CvssVersion::kV40: return 3;
  }
  return 0;
}

Category CvssCategory(const Rating& r) {
  return CategoryFromNvd(NvdRatingFor(r.cvss_version, r.score));
}

}  // namespace

std::string_view CategoryName(Category c) {
  switch (c) {
    case Category::kCritical: return "Critical";
    case Category::kImportant: return "Important";
    case Category::kOther: return "Other";
  }
  return "Other";
}

Result<Category> ParseCategory(std::string_view text) {
  for (Category c : {Category::kCritical, Category::kImportant, Category::kOther}) {
    if (EqualsIgnoreCase(Trim(text), CategoryName(c))) return c;
  }
  return Status::InvalidArgument("unknown severity category '" + std::string(text) +
                                 "': use Critical, Important or Other (9.2)");
}

Category CategoryFromNvd(NvdRating r) {
  switch (r) {
    case NvdRating::kCritical:
    case NvdRating::kHigh: return Category::kCritical;
    case NvdRating::kMedium: return Category::kImportant;
    case NvdRating::kLow:
    case NvdRating::kNone: return Category::kOther;
  }
  return Category::kOther;
}

Result<Category> CategoryFromMicrosoft(std::string_view rating) {
  const std::string_view r = Trim(rating);
  if (EqualsIgnoreCase(r, "Critical")) return Category::kCritical;
  if (EqualsIgnoreCase(r, "Important")) return Category::kImportant;
  if (EqualsIgnoreCase(r, "Moderate") || EqualsIgnoreCase(r, "Low")) return Category::kOther;
  return Status::InvalidArgument("unknown Microsoft severity rating '" + std::string(rating) +
                                 "': use Critical, Important, Moderate or Low");
}

std::string_view SeverityMethodKey(SeverityMethod m) {
  switch (m) {
    case SeverityMethod::kMicrosoftElseNvd: return "microsoft-else-nvd";
    case SeverityMethod::kMostSevere: return "most-severe";
  }
  return "microsoft-else-nvd";
}

Result<SeverityMethod> ParseSeverityMethod(std::string_view key) {
  if (key == "microsoft-else-nvd") return SeverityMethod::kMicrosoftElseNvd;
  if (key == "most-severe") return SeverityMethod::kMostSevere;
  return Status::InvalidArgument("unknown severity method '" + std::string(key) +
                                 "': use microsoft-else-nvd or most-severe");
}

std::string_view ScoreBasisKey(ScoreBasis b) {
  switch (b) {
    case ScoreBasis::kBase: return "base";
    case ScoreBasis::kEnvironmental: return "environmental";
  }
  return "base";
}

Result<ScoreBasis> ParseScoreBasis(std::string_view key) {
  if (key == "base") return ScoreBasis::kBase;
  if (key == "environmental") return ScoreBasis::kEnvironmental;
  return Status::InvalidArgument("unknown score basis '" + std::string(key) +
                                 "': use base or environmental");
}

Rating CvssRating(CvssVersion version, double score, ScoreBasis basis, std::string source) {
  Rating r;
  r.issuer = Rating::Issuer::kNvdCvss;
  r.issuer_name = std::move(source);
  r.cvss_version = version;
  r.score = score;
  r.basis = basis;
  r.value = std::string(NvdRatingName(NvdRatingFor(version, score)));
  return r;
}

Rating MicrosoftRating(std::string value) {
  Rating r;
  r.issuer = Rating::Issuer::kMicrosoft;
  r.issuer_name = "Microsoft";
  r.value = std::move(value);
  return r;
}

Rating VendorRating(std::string issuer_name, std::string value) {
  Rating r;
  r.issuer = Rating::Issuer::kVendor;
  r.issuer_name = std::move(issuer_name);
  r.value = std::move(value);
  return r;
}

std::string DescribeRating(const Rating& r) {
  switch (r.issuer) {
    case Rating::Issuer::kNvdCvss: {
      std::string s = "NVD " + r.value + " (CVSS " + std::string(CvssVersionName(r.cvss_version)) +
                      " " + std::string(ScoreBasisKey(r.basis)) + " " + FormatScore(r.score);
      if (!r.issuer_name.empty() && r.issuer_name != "NVD") s += " from " + r.issuer_name;
      return s + ")";
    }
    case Rating::Issuer::kMicrosoft: return "Microsoft " + r.value;
    case Rating::Issuer::kVendor: return r.issuer_name + " " + r.value + " (vendor rating)";
  }
  return r.issuer_name + " " + r.value;
}

std::string CategoryDecision::Explain() const {
  return std::string(CategoryName(category)) + ": " + DescribeRating(from) + " by " +
         std::string(SeverityMethodKey(method));
}

Result<CategoryDecision> DecideCategory(const std::vector<Rating>& ratings, SeverityMethod method,
                                        ScoreBasis basis) {
  const Rating* microsoft = nullptr;
  Category microsoft_category = Category::kOther;
  bool have_environmental = false;
  for (const Rating& r : ratings) {
    if (r.issuer == Rating::Issuer::kMicrosoft) {
      ISMS_ASSIGN_OR_RETURN(Category c, CategoryFromMicrosoft(r.value));
      if (microsoft == nullptr || MoreSevere(c, microsoft_category)) {
        microsoft = &r;
        microsoft_category = c;
      }
    } else if (r.issuer == Rating::Issuer::kNvdCvss) {
      if (!ValidScore(r.score)) {
        return Status::InvalidArgument("CVSS " + std::string(CvssVersionName(r.cvss_version)) +
                                       " score " + FormatScore(r.score) + " from " + r.issuer_name +
                                       " is outside 0.0-10.0: correct the score");
      }
      if (r.basis == ScoreBasis::kEnvironmental) have_environmental = true;
    }
  }
  const ScoreBasis used_basis = basis == ScoreBasis::kEnvironmental && have_environmental
                                    ? ScoreBasis::kEnvironmental
                                    : ScoreBasis::kBase;
  const Rating* cvss = nullptr;
  Category cvss_category = Category::kOther;
  for (const Rating& r : ratings) {
    if (r.issuer != Rating::Issuer::kNvdCvss || r.basis != used_basis) continue;
    const Category c = CvssCategory(r);
    if (cvss == nullptr || VersionRank(r.cvss_version) > VersionRank(cvss->cvss_version) ||
        (r.cvss_version == cvss->cvss_version && MoreSevere(c, cvss_category))) {
      cvss = &r;
      cvss_category = c;
    }
  }

  CategoryDecision d;
  d.method = method;
  d.basis = basis;
  if (microsoft != nullptr && (method == SeverityMethod::kMicrosoftElseNvd || cvss == nullptr ||
                               !MoreSevere(cvss_category, microsoft_category))) {
    d.category = microsoft_category;
    d.from = *microsoft;
    return d;
  }
  if (cvss != nullptr) {
    d.category = cvss_category;
    d.from = *cvss;
    d.from.value = std::string(NvdRatingName(NvdRatingFor(cvss->cvss_version, cvss->score)));
    return d;
  }
  return Status::FailedPrecondition(
      "no Microsoft rating and no CVSS score to decide the 9.2 category (vendor ratings do not "
      "count): record a CVSS score or set the category by hand");
}

}  // namespace isms
