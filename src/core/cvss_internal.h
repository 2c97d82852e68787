// Internals of core/cvss.h shared by the parser (cvss.cc) and the scorers (cvss2.cc, cvss3.cc,
// cvss4.cc): the metric tables of each version and the parsed form of a vector. Not a public
// interface; include core/cvss.h instead.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "core/cvss.h"

namespace isms::cvss_internal {

inline constexpr int kMaxMetrics = 32;
inline constexpr int kMaxValues = 6;

// One metric of one CVSS version, with its allowed values in the specification's order.
struct MetricDef {
  std::string_view name;
  std::array<std::string_view, kMaxValues> values{};
  int value_count = 0;
  int not_defined = -1;  // index of X (ND in v2) in `values`; -1 for base metrics
  bool mandatory = false;
};

constexpr MetricDef BaseMetric(std::string_view name, std::initializer_list<std::string_view> v) {
  MetricDef m;
  m.name = name;
  for (std::string_view s : v) m.values[m.value_count++] = s;
  m.mandatory = true;
  return m;
}

constexpr MetricDef OptionalMetric(std::string_view name, std::initializer_list<std::string_view> v,
                                   std::string_view not_defined) {
  MetricDef m;
  m.name = name;
  for (std::string_view s : v) {
    if (s == not_defined) m.not_defined = m.value_count;
    m.values[m.value_count++] = s;
  }
  return m;
}

// A metric name or value packed into an integer for fast comparison: its length in the low
// byte, then its bytes. 0 for an empty string or one longer than 7 bytes (never a valid key).
constexpr std::uint64_t PackKey(std::string_view s) {
  if (s.empty() || s.size() > 7) return 0;
  std::uint64_t key = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    key |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * (i + 1));
  }
  return key;
}

// A parsed vector: per metric of its version (indexed as the version's table), the index of its
// value in MetricDef::values, or -1 when the metric is absent or Not Defined (X / ND).
struct ParsedVector {
  CvssVersion version = CvssVersion::kV31;
  std::array<std::int8_t, kMaxMetrics> value{};
};

namespace v2 {
enum Metric { kAV, kAC, kAu, kC, kI, kA, kE, kRL, kRC, kCDP, kTD, kCR, kIR, kAR, kCount };
inline constexpr std::array<MetricDef, kCount> kMetrics = {
    BaseMetric("AV", {"L", "A", "N"}),
    BaseMetric("AC", {"H", "M", "L"}),
    BaseMetric("Au", {"M", "S", "N"}),
    BaseMetric("C", {"N", "P", "C"}),
    BaseMetric("I", {"N", "P", "C"}),
    BaseMetric("A", {"N", "P", "C"}),
    OptionalMetric("E", {"U", "POC", "F", "H", "ND"}, "ND"),
    OptionalMetric("RL", {"OF", "TF", "W", "U", "ND"}, "ND"),
    OptionalMetric("RC", {"UC", "UR", "C", "ND"}, "ND"),
    OptionalMetric("CDP", {"N", "L", "LM", "MH", "H", "ND"}, "ND"),
    OptionalMetric("TD", {"N", "L", "M", "H", "ND"}, "ND"),
    OptionalMetric("CR", {"L", "M", "H", "ND"}, "ND"),
    OptionalMetric("IR", {"L", "M", "H", "ND"}, "ND"),
    OptionalMetric("AR", {"L", "M", "H", "ND"}, "ND"),
};
}  // namespace v2

namespace v3 {
// clang-format off
enum Metric {
  kAV, kAC, kPR, kUI, kS, kC, kI, kA,         // base
  kE, kRL, kRC,                               // temporal
  kCR, kIR, kAR,                              // environmental: security requirements
  kMAV, kMAC, kMPR, kMUI, kMS, kMC, kMI, kMA,  // environmental: modified base metrics
  kCount
};
// clang-format on
inline constexpr std::array<MetricDef, kCount> kMetrics = {
    BaseMetric("AV", {"N", "A", "L", "P"}),
    BaseMetric("AC", {"L", "H"}),
    BaseMetric("PR", {"N", "L", "H"}),
    BaseMetric("UI", {"N", "R"}),
    BaseMetric("S", {"U", "C"}),
    BaseMetric("C", {"H", "L", "N"}),
    BaseMetric("I", {"H", "L", "N"}),
    BaseMetric("A", {"H", "L", "N"}),
    OptionalMetric("E", {"X", "H", "F", "P", "U"}, "X"),
    OptionalMetric("RL", {"X", "U", "W", "T", "O"}, "X"),
    OptionalMetric("RC", {"X", "C", "R", "U"}, "X"),
    OptionalMetric("CR", {"X", "H", "M", "L"}, "X"),
    OptionalMetric("IR", {"X", "H", "M", "L"}, "X"),
    OptionalMetric("AR", {"X", "H", "M", "L"}, "X"),
    OptionalMetric("MAV", {"X", "N", "A", "L", "P"}, "X"),
    OptionalMetric("MAC", {"X", "L", "H"}, "X"),
    OptionalMetric("MPR", {"X", "N", "L", "H"}, "X"),
    OptionalMetric("MUI", {"X", "N", "R"}, "X"),
    OptionalMetric("MS", {"X", "U", "C"}, "X"),
    OptionalMetric("MC", {"X", "H", "L", "N"}, "X"),
    OptionalMetric("MI", {"X", "H", "L", "N"}, "X"),
    OptionalMetric("MA", {"X", "H", "L", "N"}, "X"),
};
}  // namespace v3

namespace v4 {
// clang-format off
enum Metric {
  kAV, kAC, kAT, kPR, kUI, kVC, kVI, kVA, kSC, kSI, kSA,  // base
  kE,                                                     // threat
  kCR, kIR, kAR,                                          // environmental: requirements
  kMAV, kMAC, kMAT, kMPR, kMUI,                           // environmental: modified base
  kMVC, kMVI, kMVA, kMSC, kMSI, kMSA,                     //   metrics
  kS, kAU, kR, kV, kRE, kU,                               // supplemental
  kCount
};
// clang-format on
inline constexpr std::array<MetricDef, kCount> kMetrics = {
    BaseMetric("AV", {"N", "A", "L", "P"}),
    BaseMetric("AC", {"L", "H"}),
    BaseMetric("AT", {"N", "P"}),
    BaseMetric("PR", {"N", "L", "H"}),
    BaseMetric("UI", {"N", "P", "A"}),
    BaseMetric("VC", {"H", "L", "N"}),
    BaseMetric("VI", {"H", "L", "N"}),
    BaseMetric("VA", {"H", "L", "N"}),
    BaseMetric("SC", {"H", "L", "N"}),
    BaseMetric("SI", {"H", "L", "N"}),
    BaseMetric("SA", {"H", "L", "N"}),
    OptionalMetric("E", {"X", "A", "P", "U"}, "X"),
    OptionalMetric("CR", {"X", "H", "M", "L"}, "X"),
    OptionalMetric("IR", {"X", "H", "M", "L"}, "X"),
    OptionalMetric("AR", {"X", "H", "M", "L"}, "X"),
    OptionalMetric("MAV", {"X", "N", "A", "L", "P"}, "X"),
    OptionalMetric("MAC", {"X", "L", "H"}, "X"),
    OptionalMetric("MAT", {"X", "N", "P"}, "X"),
    OptionalMetric("MPR", {"X", "N", "L", "H"}, "X"),
    OptionalMetric("MUI", {"X", "N", "P", "A"}, "X"),
    OptionalMetric("MVC", {"X", "H", "L", "N"}, "X"),
    OptionalMetric("MVI", {"X", "H", "L", "N"}, "X"),
    OptionalMetric("MVA", {"X", "H", "L", "N"}, "X"),
    OptionalMetric("MSC", {"X", "H", "L", "N"}, "X"),
    OptionalMetric("MSI", {"X", "S", "H", "L", "N"}, "X"),
    OptionalMetric("MSA", {"X", "S", "H", "L", "N"}, "X"),
    OptionalMetric("S", {"X", "N", "P"}, "X"),
    OptionalMetric("AU", {"X", "N", "Y"}, "X"),
    OptionalMetric("R", {"X", "A", "U", "I"}, "X"),
    OptionalMetric("V", {"X", "D", "C"}, "X"),
    OptionalMetric("RE", {"X", "L", "M", "H"}, "X"),
    OptionalMetric("U", {"X", "Clear", "Green", "Amber", "Red"}, "X"),
};

// FIRST's v4.0 scoring data (cvss4_data.cc).
inline constexpr int kMacroVectorCount = 270;
struct MacroVectorScore {
  std::string_view macro_vector;  // "EQ1 EQ2 EQ3 EQ4 EQ5 EQ6" as six digits, e.g. "001021"
  double score;
};
extern const std::array<MacroVectorScore, kMacroVectorCount> kMacroVectorScores;

// The highest-severity vectors of each macrovector value, as partial vectors. EQ3 and EQ6 are
// joined: kMaxComposedEq3Eq6[eq3][eq6].
extern const std::array<std::span<const std::string_view>, 3> kMaxComposedEq1;
extern const std::array<std::span<const std::string_view>, 2> kMaxComposedEq2;
extern const std::array<std::array<std::span<const std::string_view>, 2>, 3> kMaxComposedEq3Eq6;
extern const std::array<std::span<const std::string_view>, 3> kMaxComposedEq4;
extern const std::array<std::span<const std::string_view>, 3> kMaxComposedEq5;

// The depth of each macrovector value, in steps of 0.1; kMaxSeverityEq3Eq6[eq3][eq6].
extern const std::array<int, 3> kMaxSeverityEq1;
extern const std::array<int, 2> kMaxSeverityEq2;
extern const std::array<std::array<int, 2>, 3> kMaxSeverityEq3Eq6;
extern const std::array<int, 3> kMaxSeverityEq4;
}  // namespace v4

// The metric table of a version.
std::span<const MetricDef> MetricsOf(CvssVersion version);

// Scorers (cvss2.cc, cvss3.cc, cvss4.cc): fill every field of `out` but `version` and
// `base_rating` from a valid parsed vector of their version (all base metrics present).
namespace v2 {
void Score(const ParsedVector& p, CvssScore& out);
}
namespace v3 {
void Score(const ParsedVector& p, CvssScore& out);  // v3.0 or v3.1, by p.version
}
namespace v4 {
void Score(const ParsedVector& p, CvssScore& out);
}

}  // namespace isms::cvss_internal
