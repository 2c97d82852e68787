#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "core/cvss.h"
#include "core/severity.h"

namespace isms::cli {
namespace {

std::string OneDecimal(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

void Cvss(Context& ctx, const CvssOptions& o) {
  Result<Policy> policy = LoadPolicyOption(o.policy_file);
  if (!policy.ok()) return ctx.Fail(policy.status());
  ForEachValue(ctx, o.vector, [&](std::string_view text) -> Result<std::string> {
    ISMS_ASSIGN_OR_RETURN(CvssScore score, ScoreCvss(text));
    const bool env = policy->score_basis == ScoreBasis::kEnvironmental;
    const double basis_score = env ? (score.version == CvssVersion::kV40
                                          ? score.score
                                          : score.environmental_score.value_or(score.base_score))
                                   : score.base_score;
    ISMS_ASSIGN_OR_RETURN(
        CategoryDecision decision,
        DecideCategory({CvssRating(score.version, basis_score, policy->score_basis)},
                       policy->severity_method, policy->score_basis));
    const std::string version(CvssVersionName(score.version));
    const std::string rating(NvdRatingName(score.base_rating));
    const std::string category(CategoryName(decision.category));
    if (!o.json)
      return version + " " + OneDecimal(score.base_score) + " " + rating + " " + category;
    ISMS_ASSIGN_OR_RETURN(std::string canonical, CanonicalCvss(text));
    nlohmann::ordered_json j;
    j["vector"] = canonical;
    j["version"] = version;
    j["base_score"] = score.base_score;
    j["score"] = score.score;
    j["nvd_severity"] = rating;
    j["category"] = category;
    return j.dump();
  });
}

}  // namespace isms::cli
