// CVSS vectors: parsing, scoring and canonical printing for CVSS v2.0, v3.0, v3.1 and v4.0,
// as FIRST specifies them. The accepted syntax, the formulas, the rounding rules and the
// data tables are documented in docs/cvss.md.
//
// Accepted input:
//   v2.0  "AV:N/AC:L/Au:N/C:P/I:P/A:P", "(AV:N/AC:L/...)" as NVD writes it, or "CVSS:2.0/AV:N/..."
//   v3.x  "CVSS:3.0/AV:N/..." and "CVSS:3.1/AV:N/..."
//   v4.0  "CVSS:4.0/AV:N/..."
// Metrics may come in any order. Every base metric is mandatory; temporal, threat,
// environmental and supplemental metrics are optional. A metric set to its "Not Defined" value
// (X, or ND in v2) is the same as the metric being absent. Metric names and values are
// case-sensitive; no white space is allowed anywhere in a vector.
//
// Errors: kInvalidArgument, with a message that quotes the vector and names the offending
// metric or component: unknown metric, unknown value (with the allowed values), duplicate
// metric, missing base metric, wrong or missing version prefix, empty component, trailing '/'.
//
// Thread-safety: pure functions over immutable tables; call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace isms {

enum class CvssVersion { kV2, kV30, kV31, kV40 };

// "2.0", "3.0", "3.1", "4.0".
std::string_view CvssVersionName(CvssVersion v);

// The NVD qualitative severity rating of a score.
enum class NvdRating { kNone, kLow, kMedium, kHigh, kCritical };

// "None", "Low", "Medium", "High", "Critical".
std::string_view NvdRatingName(NvdRating r);

// The NVD rating of `score` (taken at one decimal, rounded half up).
//   v2:     Low 0.0-3.9, Medium 4.0-6.9, High 7.0-10.0 (v2 has no None and no Critical).
//   v3, v4: None 0.0, Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0.
NvdRating NvdRatingFor(CvssVersion version, double score);

struct CvssScore {
  CvssVersion version = CvssVersion::kV31;
  // v2/v3: the base score. v4: the score of the vector with only its base metrics (threat and
  // environmental metrics ignored).
  double base_score = 0.0;
  // v2/v3 only: present when at least one temporal metric has a value other than X/ND.
  std::optional<double> temporal_score;
  // v2/v3 only: present when at least one environmental metric has a value other than X/ND.
  // Then it is the full environmental score, which includes the temporal metrics.
  std::optional<double> environmental_score;
  // The score that describes the vector as given.
  //   v4:    CVSS-BTE, the one v4 score including threat and environmental metrics.
  //   v2/v3: environmental_score if present, else temporal_score if present, else base_score.
  double score = 0.0;
  // NvdRatingFor(version, base_score).
  NvdRating base_rating = NvdRating::kNone;
};

// Parses and scores a vector. Allocates nothing unless it fails. Scores have one decimal.
Result<CvssScore> ScoreCvss(std::string_view vector);

// The vector printed back in the specification's metric order: v2 without prefix or
// parentheses ("AV:N/AC:L/Au:N/C:P/I:P/A:P"), v3 and v4 with theirs ("CVSS:3.1/AV:N/...").
// Metrics set to X (ND in v2) are dropped, as they mean the same as an absent metric; so
// ScoreCvss(CanonicalCvss(v)) gives the same scores as ScoreCvss(v).
Result<std::string> CanonicalCvss(std::string_view vector);

}  // namespace isms
