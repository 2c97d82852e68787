// CVSS v3.0 and v3.1 scoring (FIRST, "CVSS v3.x Specification Document", section 7).
//
// The polynomial parts of the equations are evaluated on integers scaled by a power of ten, so
// they are exact; only the Scope Changed impact, with its 15th (v3.1 environmental: 13th)
// power, is evaluated in floating point and then fixed to 11 decimal places. Roundup is then
// applied to the exact value: v3.0 takes the smallest one-decimal number >= the value; v3.1
// uses its integer-based Roundup, which first rounds the value to five decimal places
// (specification v3.1, Appendix A).
#include <cmath>
#include <cstdint>

#include "core/cvss_internal.h"

namespace isms::cvss_internal::v3 {

namespace {

// Weights in the order of the values in v3::kMetrics, x100 unless noted.
constexpr std::int64_t kAttackVector[] = {85, 62, 55, 20};            // N, A, L, P
constexpr std::int64_t kAttackComplexity[] = {77, 44};                // L, H
constexpr std::int64_t kPrivilegesUnchanged[] = {85, 62, 27};         // N, L, H
constexpr std::int64_t kPrivilegesChanged[] = {85, 68, 50};           // N, L, H
constexpr std::int64_t kUserInteraction[] = {85, 62};                 // N, R
constexpr std::int64_t kImpact[] = {56, 22, 0};                       // H, L, N
constexpr std::int64_t kExploitMaturity[] = {100, 100, 97, 94, 91};   // X, H, F, P, U
constexpr std::int64_t kRemediationLevel[] = {100, 100, 97, 96, 95};  // X, U, W, T, O
constexpr std::int64_t kReportConfidence[] = {100, 100, 96, 92};      // X, C, R, U
constexpr std::int64_t kRequirement[] = {10, 15, 10, 5};              // X, H, M, L; x10

static_assert(kMetrics[kAV].values[3] == "P" && kMetrics[kPR].values[2] == "H" &&
              kMetrics[kS].values[1] == "C" && kMetrics[kC].values[2] == "N" &&
              kMetrics[kE].values[4] == "U" && kMetrics[kRL].values[4] == "O" &&
              kMetrics[kRC].values[3] == "U" && kMetrics[kCR].values[3] == "L" &&
              kMetrics[kMAV].values[1] == "N" && kMetrics[kMS].values[2] == "C" &&
              kMetrics[kMC].values[1] == "H");

constexpr std::int64_t kPow10[] = {
    1,         10,         100,         1'000,         10'000,         100'000,
    1'000'000, 10'000'000, 100'000'000, 1'000'000'000, 10'000'000'000, 100'000'000'000};

// Roundup of value / 10^scale (value >= 0, 5 <= scale <= 11), in tenths.
std::int64_t Roundup(std::int64_t value, int scale, bool v31) {
  if (!v31) {
    const std::int64_t unit = kPow10[scale - 1];
    return (value + unit - 1) / unit;
  }
  const std::int64_t unit5 = kPow10[scale - 5];
  const std::int64_t int_input = (value + unit5 / 2) / unit5;  // five decimal places
  return int_input % 10'000 == 0 ? int_input / 10'000 : int_input / 10'000 + 1;
}

// A Scope Changed sum, computed in floating point, as a fixed-point value with `scale` places.
std::int64_t Fixed(double value, int scale) {
  return std::llround(value * static_cast<double>(kPow10[scale]));
}

// The value index of a modified metric (X, then the values of its base metric) as the index of
// the base metric's value.
int Modified(const ParsedVector& p, Metric modified, Metric base) {
  const int v = p.value[modified];
  return v >= 1 ? v - 1 : p.value[base];
}

std::int64_t Weight(const ParsedVector& p, Metric m, const std::int64_t* weights) {
  const int v = p.value[m];
  return weights[v < 0 ? 0 : v];
}

// Roundup(score x E x RL x RC), all in tenths.
std::int64_t TemporalTenths(const ParsedVector& p, std::int64_t score_tenths, bool v31) {
  const std::int64_t product = score_tenths * Weight(p, kE, kExploitMaturity) *
                               Weight(p, kRL, kRemediationLevel) *
                               Weight(p, kRC, kReportConfidence);  // x1e7
  return Roundup(product, 7, v31);
}

std::int64_t BaseTenths(const ParsedVector& p, bool v31) {
  const bool changed = p.value[kS] == 1;
  // 1 - (1 - C) x (1 - I) x (1 - A), x1e6.
  const std::int64_t iss = 1'000'000 - (100 - kImpact[p.value[kC]]) * (100 - kImpact[p.value[kI]]) *
                                           (100 - kImpact[p.value[kA]]);
  // 8.22 x AV x AC x PR x UI, x1e10.
  const std::int64_t exploitability =
      822 * kAttackVector[p.value[kAV]] * kAttackComplexity[p.value[kAC]] *
      (changed ? kPrivilegesChanged : kPrivilegesUnchanged)[p.value[kPR]] *
      kUserInteraction[p.value[kUI]];
  if (!changed) {
    const std::int64_t impact = 642 * iss;  // x1e8
    if (impact <= 0) return 0;
    std::int64_t sum = impact * 100 + exploitability;  // x1e10
    if (sum > 100'000'000'000) sum = 100'000'000'000;
    return Roundup(sum, 10, v31);
  }
  const double iss_d = static_cast<double>(iss) / 1e6;
  const double impact = 7.52 * (iss_d - 0.029) - 3.25 * std::pow(iss_d - 0.02, 15);
  if (impact <= 0) return 0;
  const double sum = 1.08 * (impact + static_cast<double>(exploitability) / 1e10);
  return Roundup(Fixed(sum < 10.0 ? sum : 10.0, 10), 10, v31);
}

std::int64_t EnvironmentalTenths(const ParsedVector& p, bool v31) {
  const int scope = Modified(p, kMS, kS);
  const bool changed = scope == 1;
  // Minimum(1 - (1 - MC x CR) x (1 - MI x IR) x (1 - MA x AR), 0.915), x1e9.
  const std::int64_t c = kImpact[Modified(p, kMC, kC)] * Weight(p, kCR, kRequirement);
  const std::int64_t i = kImpact[Modified(p, kMI, kI)] * Weight(p, kIR, kRequirement);
  const std::int64_t a = kImpact[Modified(p, kMA, kA)] * Weight(p, kAR, kRequirement);
  std::int64_t miss = 1'000'000'000 - (1000 - c) * (1000 - i) * (1000 - a);
  if (miss > 915'000'000) miss = 915'000'000;
  // 8.22 x MAV x MAC x MPR x MUI, x1e10.
  const std::int64_t exploitability =
      822 * kAttackVector[Modified(p, kMAV, kAV)] * kAttackComplexity[Modified(p, kMAC, kAC)] *
      (changed ? kPrivilegesChanged : kPrivilegesUnchanged)[Modified(p, kMPR, kPR)] *
      kUserInteraction[Modified(p, kMUI, kUI)];
  std::int64_t modified_tenths = 0;
  if (!changed) {
    const std::int64_t impact = 642 * miss;  // x1e11
    if (impact <= 0) return 0;
    std::int64_t sum = impact + exploitability * 10;  // x1e11
    if (sum > 1'000'000'000'000) sum = 1'000'000'000'000;
    modified_tenths = Roundup(sum, 11, v31);
  } else {
    const double miss_d = static_cast<double>(miss) / 1e9;
    const double impact =
        v31 ? 7.52 * (miss_d - 0.029) - 3.25 * std::pow(miss_d * 0.9731 - 0.02, 13)
            : 7.52 * (miss_d - 0.029) - 3.25 * std::pow(miss_d - 0.02, 15);
    if (impact <= 0) return 0;
    const double sum = 1.08 * (impact + static_cast<double>(exploitability) / 1e10);
    modified_tenths = Roundup(Fixed(sum < 10.0 ? sum : 10.0, 11), 11, v31);
  }
  return TemporalTenths(p, modified_tenths, v31);
}

bool AnyGiven(const ParsedVector& p, Metric first, Metric last) {
  for (int m = first; m <= last; ++m) {
    if (p.value[m] >= 0) return true;
  }
  return false;
}

}  // namespace

void Score(const ParsedVector& p, CvssScore& out) {
  const bool v31 = p.version == CvssVersion::kV31;
  const std::int64_t base = BaseTenths(p, v31);
  out.base_score = static_cast<double>(base) / 10.0;
  out.score = out.base_score;
  if (AnyGiven(p, kE, kRC)) {
    out.temporal_score = static_cast<double>(TemporalTenths(p, base, v31)) / 10.0;
    out.score = *out.temporal_score;
  }
  if (AnyGiven(p, kCR, kMA)) {
    out.environmental_score = static_cast<double>(EnvironmentalTenths(p, v31)) / 10.0;
    out.score = *out.environmental_score;
  }
}

}  // namespace isms::cvss_internal::v3
