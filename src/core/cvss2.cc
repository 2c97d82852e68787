// CVSS v2.0 scoring (FIRST, "A Complete Guide to the Common Vulnerability Scoring System
// Version 2.0", section 3.2), in exact decimal arithmetic.
//
// Every v2 weight is a decimal with at most three places, so each equation is evaluated on
// integers scaled by a power of ten and rounded half up exactly as the guide's
// round_to_1_decimal. Floating point would put products such as 9.0 x 0.85 = 7.65 just below
// the tie and round them down (docs/cvss.md, "Rounding").
#include <cstdint>

#include "core/cvss_internal.h"

namespace isms::cvss_internal::v2 {

namespace {

__extension__ typedef __int128 Int128;

// Weights in the order of the values in v2::kMetrics, scaled as noted.
constexpr std::int64_t kAccessVector[] = {395, 646, 1000};        // L, A, N; x1000
constexpr std::int64_t kAccessComplexity[] = {35, 61, 71};        // H, M, L; x100
constexpr std::int64_t kAuthentication[] = {450, 560, 704};       // M, S, N; x1000
constexpr std::int64_t kImpact[] = {0, 275, 660};                 // N, P, C; x1000
constexpr std::int64_t kExploitability[] = {85, 90, 95, 100};     // U, POC, F, H; x100
constexpr std::int64_t kRemediationLevel[] = {87, 90, 95, 100};   // OF, TF, W, U; x100
constexpr std::int64_t kReportConfidence[] = {90, 95, 100};       // UC, UR, C; x100
constexpr std::int64_t kCollateralDamage[] = {0, 1, 3, 4, 5};     // N, L, LM, MH, H; x10
constexpr std::int64_t kTargetDistribution[] = {0, 25, 75, 100};  // N, L, M, H; x100
constexpr std::int64_t kRequirement[] = {50, 100, 151};           // L, M, H; x100

static_assert(kMetrics[kAV].values[2] == "N" && kMetrics[kC].values[2] == "C" &&
              kMetrics[kE].values[3] == "H" && kMetrics[kCDP].values[4] == "H" &&
              kMetrics[kTD].values[3] == "H" && kMetrics[kCR].values[2] == "H");

// `value` / `unit`, rounded half away from zero.
std::int64_t RoundHalfUp(Int128 value, Int128 unit) {
  if (value >= 0) return static_cast<std::int64_t>((value + unit / 2) / unit);
  return -static_cast<std::int64_t>((-value + unit / 2) / unit);
}

std::int64_t Weight(const ParsedVector& p, Metric m, const std::int64_t* weights,
                    std::int64_t not_defined) {
  const int v = p.value[m];
  return v < 0 ? not_defined : weights[v];
}

// The base equation in tenths, with the impact sub-score weighted by the security requirements
// (x100; 100 each for the base score itself). With requirements the impact is capped at 10
// (AdjustedImpact); without, it is not, as in the guide.
std::int64_t BaseTenths(const ParsedVector& p, std::int64_t cr, std::int64_t ir, std::int64_t ar,
                        bool adjusted) {
  // 10.41 x (1 - (1 - C x CR) x (1 - I x IR) x (1 - A x AR)), in units of 1e-17.
  const std::int64_t c = kImpact[p.value[kC]] * cr;  // x1e5
  const std::int64_t i = kImpact[p.value[kI]] * ir;
  const std::int64_t a = kImpact[p.value[kA]] * ar;
  constexpr std::int64_t kOne5 = 100'000;
  const std::int64_t kept = (kOne5 - c) * (kOne5 - i) * (kOne5 - a);  // x1e15
  std::int64_t impact = 1041 * (kOne5 * kOne5 * kOne5 - kept);        // x1e17
  if (adjusted && impact > 1'000'000'000'000'000'000) impact = 1'000'000'000'000'000'000;
  if (impact == 0) return 0;  // f(Impact) = 0
  // 20 x AV x AC x Au, in units of 1e-8.
  const std::int64_t exploitability = 20 * kAccessVector[p.value[kAV]] *
                                      kAccessComplexity[p.value[kAC]] *
                                      kAuthentication[p.value[kAu]];
  // ((0.6 x Impact) + (0.4 x Exploitability) - 1.5) x 1.176, in units of 1e-21.
  const Int128 sum = Int128{6} * impact + Int128{4} * exploitability * 1'000'000'000 -
                     Int128{1'500'000'000'000'000'000};
  return RoundHalfUp(sum * 1176, Int128{100'000'000'000'000'000} * 1000);
}

// round_to_1_decimal(score x E x RL x RC), all in tenths.
std::int64_t TemporalTenths(const ParsedVector& p, std::int64_t base_tenths) {
  const std::int64_t product = base_tenths * Weight(p, kE, kExploitability, 100) *
                               Weight(p, kRL, kRemediationLevel, 100) *
                               Weight(p, kRC, kReportConfidence, 100);  // x1e7
  return RoundHalfUp(product, 1'000'000);
}

double FromTenths(std::int64_t tenths) {
  return static_cast<double>(tenths < 0 ? 0 : tenths) / 10.0;
}

}  // namespace

void Score(const ParsedVector& p, CvssScore& out) {
  std::int64_t base = BaseTenths(p, 100, 100, 100, false);
  if (base < 0) base = 0;
  out.base_score = FromTenths(base);
  out.score = out.base_score;

  if (p.value[kE] >= 0 || p.value[kRL] >= 0 || p.value[kRC] >= 0) {
    out.temporal_score = FromTenths(TemporalTenths(p, base));
    out.score = *out.temporal_score;
  }

  if (p.value[kCDP] >= 0 || p.value[kTD] >= 0 || p.value[kCR] >= 0 || p.value[kIR] >= 0 ||
      p.value[kAR] >= 0) {
    const std::int64_t adjusted_base =
        BaseTenths(p, Weight(p, kCR, kRequirement, 100), Weight(p, kIR, kRequirement, 100),
                   Weight(p, kAR, kRequirement, 100), true);
    const std::int64_t adjusted_temporal = TemporalTenths(p, adjusted_base);  // x10
    // (AdjustedTemporal + (10 - AdjustedTemporal) x CDP) x TD, in units of 1e-4.
    const std::int64_t cdp = Weight(p, kCDP, kCollateralDamage, 0);    // x10
    const std::int64_t td = Weight(p, kTD, kTargetDistribution, 100);  // x100
    const std::int64_t env = (adjusted_temporal * 10 + (100 - adjusted_temporal) * cdp) * td;
    out.environmental_score = FromTenths(RoundHalfUp(env, 1000));
    out.score = *out.environmental_score;
  }
}

}  // namespace isms::cvss_internal::v2
