// Fuzzes the CVSS parser and scorers (core/cvss.h). Properties checked on every input:
//   - ScoreCvss and CanonicalCvss never crash, and accept or reject the same inputs;
//   - an accepted vector has scores within 0.0-10.0 at one decimal place;
//   - its canonical form is accepted, is its own canonical form, and scores the same.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/cvss.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

bool SameScore(double a, double b) {
  return std::lround(a * 10) == std::lround(b * 10);
}

bool SameOptional(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || SameScore(*a, *b));
}

void CheckRange(double score) {
  Check(score >= 0.0 && score <= 10.0);
  Check(std::fabs(score * 10 - std::round(score * 10)) < 1e-9);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const isms::Result<isms::CvssScore> score = isms::ScoreCvss(input);
  const isms::Result<std::string> canonical = isms::CanonicalCvss(input);
  Check(score.ok() == canonical.ok());
  if (!score.ok()) {
    Check(score.status() == canonical.status());
    Check(!score.status().message().empty());
    return 0;
  }

  CheckRange(score->base_score);
  CheckRange(score->score);
  if (score->temporal_score) CheckRange(*score->temporal_score);
  if (score->environmental_score) CheckRange(*score->environmental_score);
  Check(score->base_rating == isms::NvdRatingFor(score->version, score->base_score));

  const isms::Result<isms::CvssScore> again = isms::ScoreCvss(*canonical);
  Check(again.ok());
  Check(again->version == score->version);
  Check(SameScore(again->base_score, score->base_score));
  Check(SameScore(again->score, score->score));
  Check(SameOptional(again->temporal_score, score->temporal_score));
  Check(SameOptional(again->environmental_score, score->environmental_score));
  Check(again->base_rating == score->base_rating);

  const isms::Result<std::string> canonical_again = isms::CanonicalCvss(*canonical);
  Check(canonical_again.ok() && *canonical_again == *canonical);
  return 0;
}
