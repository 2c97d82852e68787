// CVSS v4.0 scoring (FIRST, "CVSS v4.0 Specification Document", section 8, and its reference
// calculator): the vector's macrovector (EQ1-EQ6) gives the score of its highest-severity
// vectors from FIRST's lookup table; the score is lowered by the mean proportional distance of
// the vector from those highest-severity vectors towards the next lower macrovectors.
//
// The arithmetic follows the reference calculator operation by operation, in double precision,
// so that the result rounds the same way; the final rounding is half up after adding 1e-6, as
// the reference calculator does to absorb floating-point error at x.x5.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "core/cvss_internal.h"

namespace isms::cvss_internal::v4 {

namespace {

// Severity levels of metric values: 0.0 is the most severe. Every metric's values are numbered so
// that its level is kLevel[number]: AV N A L P; AC L H; AT N P; PR N L H; UI N P A; VC/VI/VA
// H L N; SC/SI/SA on the extended scale S H L N (S only through MSI/MSA); CR/IR/AR H M L.
constexpr double kLevel[] = {0.0, 0.1, 0.2, 0.3};

// The metrics that take part in severity distances.
enum Slot {
  kSlotAV,
  kSlotPR,
  kSlotUI,
  kSlotAC,
  kSlotAT,
  kSlotVC,
  kSlotVI,
  kSlotVA,
  kSlotSC,
  kSlotSI,
  kSlotSA,
  kSlotCR,
  kSlotIR,
  kSlotAR,
  kSlotE,
  kSlotCount
};

using Levels = std::array<std::int8_t, kSlotCount>;

// The effective value numbers of a vector: modified base metrics replace base metrics; X
// requirements count as High and X exploit maturity as Attacked.
Levels Effective(const ParsedVector& p, bool with_environment) {
  const auto pick = [&](Metric base, Metric modified) -> std::int8_t {
    const int v = with_environment ? p.value[modified] : -1;
    return static_cast<std::int8_t>(v >= 1 ? v - 1 : p.value[base]);
  };
  const auto subsequent = [&](Metric base, Metric modified, bool has_safety) -> std::int8_t {
    const int v = with_environment ? p.value[modified] : -1;
    if (v >= 1) return static_cast<std::int8_t>(has_safety ? v - 1 : v);
    return static_cast<std::int8_t>(p.value[base] + 1);
  };
  const auto optional = [&](Metric m) -> std::int8_t {
    const int v = with_environment ? p.value[m] : -1;
    return static_cast<std::int8_t>(v >= 1 ? v - 1 : 0);
  };
  Levels l{};
  l[kSlotAV] = pick(kAV, kMAV);
  l[kSlotPR] = pick(kPR, kMPR);
  l[kSlotUI] = pick(kUI, kMUI);
  l[kSlotAC] = pick(kAC, kMAC);
  l[kSlotAT] = pick(kAT, kMAT);
  l[kSlotVC] = pick(kVC, kMVC);
  l[kSlotVI] = pick(kVI, kMVI);
  l[kSlotVA] = pick(kVA, kMVA);
  l[kSlotSC] = subsequent(kSC, kMSC, false);
  l[kSlotSI] = subsequent(kSI, kMSI, true);
  l[kSlotSA] = subsequent(kSA, kMSA, true);
  l[kSlotCR] = optional(kCR);
  l[kSlotIR] = optional(kIR);
  l[kSlotAR] = optional(kAR);
  l[kSlotE] = optional(kE);
  return l;
}

static_assert(kMetrics[kAV].values[3] == "P" && kMetrics[kUI].values[2] == "A" &&
              kMetrics[kVC].values[0] == "H" && kMetrics[kMSC].values[1] == "H" &&
              kMetrics[kMSI].values[1] == "S" && kMetrics[kMSA].values[1] == "S" &&
              kMetrics[kCR].values[1] == "H" && kMetrics[kE].values[3] == "U" &&
              kMetrics[kMAV].values[1] == "N" && kMetrics[kMUI].values[3] == "A");

constexpr int kN = 0;         // AV, PR, UI: None / Network
constexpr int kHigh = 0;      // VC, VI, VA, CR, IR, AR
constexpr int kSafety = 0;    // SI, SA on the extended scale
constexpr int kHighSub = 1;   // SC, SI, SA on the extended scale
constexpr int kNoneVuln = 2;  // VC, VI, VA
constexpr int kNoneSub = 3;   // SC, SI, SA on the extended scale
constexpr int kPhysical = 3;  // AV

struct MacroVector {
  int eq[6];
};

MacroVector MacroVectorOf(const Levels& l) {
  MacroVector m{};
  const bool av_n = l[kSlotAV] == kN, pr_n = l[kSlotPR] == kN, ui_n = l[kSlotUI] == kN;
  if (av_n && pr_n && ui_n) {
    m.eq[0] = 0;
  } else if ((av_n || pr_n || ui_n) && l[kSlotAV] != kPhysical) {
    m.eq[0] = 1;
  } else {
    m.eq[0] = 2;
  }
  m.eq[1] = (l[kSlotAC] == 0 && l[kSlotAT] == 0) ? 0 : 1;
  if (l[kSlotVC] == kHigh && l[kSlotVI] == kHigh) {
    m.eq[2] = 0;
  } else if (l[kSlotVC] == kHigh || l[kSlotVI] == kHigh || l[kSlotVA] == kHigh) {
    m.eq[2] = 1;
  } else {
    m.eq[2] = 2;
  }
  if (l[kSlotSI] == kSafety || l[kSlotSA] == kSafety) {
    m.eq[3] = 0;
  } else if (l[kSlotSC] == kHighSub || l[kSlotSI] == kHighSub || l[kSlotSA] == kHighSub) {
    m.eq[3] = 1;
  } else {
    m.eq[3] = 2;
  }
  m.eq[4] = l[kSlotE];
  const bool high_req = (l[kSlotCR] == kHigh && l[kSlotVC] == kHigh) ||
                        (l[kSlotIR] == kHigh && l[kSlotVI] == kHigh) ||
                        (l[kSlotAR] == kHigh && l[kSlotVA] == kHigh);
  m.eq[5] = high_req ? 0 : 1;
  return m;
}

constexpr int kMaxDigit[6] = {2, 1, 2, 2, 2, 1};
constexpr int kLookupSize = 3 * 2 * 3 * 3 * 3 * 2;

constexpr int LookupIndex(const int eq[6]) {
  int index = 0;
  for (int i = 0; i < 6; ++i) index = index * (kMaxDigit[i] + 1) + eq[i];
  return index;
}

// Macrovector scores indexed by LookupIndex; NaN where FIRST's table has no entry.
struct Tables {
  std::array<double, kLookupSize> score;
  // Highest-severity vectors as levels per slot; -1 where the partial vector does not set it.
  std::array<std::array<Levels, 3>, 3> eq1;
  std::array<std::array<Levels, 2>, 2> eq2;
  std::array<std::array<std::array<Levels, 5>, 2>, 3> eq3eq6;
  std::array<Levels, 3> eq4;
  int eq1_count[3], eq2_count[2], eq3eq6_count[3][2];
};

// Parses a partial vector of FIRST's max_composed data ("AV:N/PR:N/UI:N/") into levels.
void ParsePartial(std::string_view partial, Levels& out) {
  struct SlotName {
    std::string_view name;
    Slot slot;
    Metric metric;
    int offset;
  };
  static constexpr SlotName kSlots[] = {
      {"AV", kSlotAV, kAV, 0},   {"PR", kSlotPR, kPR, 0},   {"UI", kSlotUI, kUI, 0},
      {"AC", kSlotAC, kAC, 0},   {"AT", kSlotAT, kAT, 0},   {"VC", kSlotVC, kVC, 0},
      {"VI", kSlotVI, kVI, 0},   {"VA", kSlotVA, kVA, 0},   {"SC", kSlotSC, kMSC, 0},
      {"SI", kSlotSI, kMSI, -1}, {"SA", kSlotSA, kMSA, -1}, {"CR", kSlotCR, kCR, -1},
      {"IR", kSlotIR, kIR, -1},  {"AR", kSlotAR, kAR, -1},  {"E", kSlotE, kE, -1}};
  while (!partial.empty()) {
    const std::size_t slash = partial.find('/');
    const std::string_view component = partial.substr(0, slash);
    partial = slash == std::string_view::npos ? std::string_view() : partial.substr(slash + 1);
    const std::size_t colon = component.find(':');
    const std::string_view name = component.substr(0, colon);
    const std::string_view value = component.substr(colon + 1);
    for (const SlotName& s : kSlots) {
      if (s.name != name) continue;
      const MetricDef& m = kMetrics[s.metric];
      for (int v = 0; v < m.value_count; ++v) {
        if (m.values[v] == value) out[s.slot] = static_cast<std::int8_t>(v + s.offset);
      }
    }
  }
}

template <std::size_t N>
int FillMaxes(std::span<const std::string_view> partials, std::array<Levels, N>& out) {
  for (std::size_t i = 0; i < partials.size() && i < N; ++i) {
    out[i].fill(-1);
    ParsePartial(partials[i], out[i]);
  }
  return static_cast<int>(partials.size() < N ? partials.size() : N);
}

Tables BuildTables() {
  Tables t{};
  t.score.fill(std::numeric_limits<double>::quiet_NaN());
  for (const MacroVectorScore& entry : kMacroVectorScores) {
    int eq[6];
    for (int i = 0; i < 6; ++i) eq[i] = entry.macro_vector[i] - '0';
    t.score[LookupIndex(eq)] = entry.score;
  }
  for (int i = 0; i < 3; ++i) t.eq1_count[i] = FillMaxes(kMaxComposedEq1[i], t.eq1[i]);
  for (int i = 0; i < 2; ++i) t.eq2_count[i] = FillMaxes(kMaxComposedEq2[i], t.eq2[i]);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      t.eq3eq6_count[i][j] = FillMaxes(kMaxComposedEq3Eq6[i][j], t.eq3eq6[i][j]);
    }
  }
  for (int i = 0; i < 3; ++i) {
    std::array<Levels, 1> one{};
    FillMaxes(kMaxComposedEq4[i], one);
    t.eq4[i] = one[0];
  }
  return t;
}

const Tables& GetTables() {
  static const Tables tables = BuildTables();
  return tables;
}

// The score of the macrovector `eq` with `digit` raised by `step`; NaN if there is none.
double LowerScore(const Tables& t, const MacroVector& m, int digit, int step, int digit2 = -1) {
  int eq[6];
  for (int i = 0; i < 6; ++i) eq[i] = m.eq[i];
  eq[digit] += step;
  if (digit2 >= 0) eq[digit2] += 1;
  for (int i = 0; i < 6; ++i) {
    if (eq[i] > kMaxDigit[i]) return std::numeric_limits<double>::quiet_NaN();
  }
  return t.score[LookupIndex(eq)];
}

double Distance(const Levels& l, const Levels& max, Slot s) {
  return kLevel[l[s]] - kLevel[max[s]];
}

// True when the vector `l` is nowhere more severe than the partial vector `partial`.
bool NotAbove(const Levels& l, const Levels& partial) {
  for (int s = 0; s < kSlotE; ++s) {
    if (partial[s] >= 0 && l[s] < partial[s]) return false;
  }
  return true;
}

double ScoreOf(const Levels& l) {
  if (l[kSlotVC] == kNoneVuln && l[kSlotVI] == kNoneVuln && l[kSlotVA] == kNoneVuln &&
      l[kSlotSC] == kNoneSub && l[kSlotSI] == kNoneSub && l[kSlotSA] == kNoneSub) {
    return 0.0;
  }
  const Tables& t = GetTables();
  const MacroVector m = MacroVectorOf(l);
  const int eq1 = m.eq[0], eq2 = m.eq[1], eq3 = m.eq[2], eq4 = m.eq[3], eq6 = m.eq[5];
  double value = t.score[LookupIndex(m.eq)];

  // Scores of the next lower macrovector of each EQ (NaN where there is none).
  const double lower_eq1 = LowerScore(t, m, 0, 1);
  const double lower_eq2 = LowerScore(t, m, 1, 1);
  double lower_eq3eq6;
  if (eq3 == 0 && eq6 == 0) {
    const double left = LowerScore(t, m, 5, 1);
    const double right = LowerScore(t, m, 2, 1);
    lower_eq3eq6 = left > right ? left : right;
  } else if (eq3 == 1 && eq6 == 0) {
    lower_eq3eq6 = LowerScore(t, m, 5, 1);
  } else if (eq6 == 1 && eq3 <= 1) {
    lower_eq3eq6 = LowerScore(t, m, 2, 1);
  } else {
    lower_eq3eq6 = LowerScore(t, m, 2, 1, 5);
  }
  const double lower_eq4 = LowerScore(t, m, 3, 1);
  const double lower_eq5 = LowerScore(t, m, 4, 1);

  // The distances from the first highest-severity vector of the macrovector (in the reference
  // calculator's order: EQ1 partial, then EQ2, EQ3+EQ6, EQ4 and EQ5 partials varying fastest
  // last) that the vector exceeds in no metric, or from the last one if there is none. A
  // composed vector qualifies exactly when each of its partials does, so the first qualifying
  // one is made of the first qualifying partial of each EQ.
  const std::span<const Levels> groups[] = {
      std::span<const Levels>(t.eq1[eq1]).first(t.eq1_count[eq1]),
      std::span<const Levels>(t.eq2[eq2]).first(t.eq2_count[eq2]),
      std::span<const Levels>(t.eq3eq6[eq3][eq6]).first(t.eq3eq6_count[eq3][eq6]),
      std::span<const Levels>(&t.eq4[eq4], 1)};
  const Levels* chosen[4];
  bool all_qualify = true;
  for (int g = 0; g < 4; ++g) {
    chosen[g] = nullptr;
    for (const Levels& partial : groups[g]) {
      if (NotAbove(l, partial)) {
        chosen[g] = &partial;
        break;
      }
    }
    all_qualify = all_qualify && chosen[g] != nullptr;
  }
  Levels max{};
  for (int g = 0; g < 4; ++g) {
    const Levels& partial = all_qualify ? *chosen[g] : groups[g].back();
    for (int s = 0; s < kSlotE; ++s) {
      if (partial[s] >= 0) max[s] = partial[s];
    }
  }
  std::array<double, kSlotCount> d{};
  for (int s = 0; s < kSlotE; ++s) d[s] = Distance(l, max, static_cast<Slot>(s));

  const double current_eq1 = d[kSlotAV] + d[kSlotPR] + d[kSlotUI];
  const double current_eq2 = d[kSlotAC] + d[kSlotAT];
  const double current_eq3eq6 =
      d[kSlotVC] + d[kSlotVI] + d[kSlotVA] + d[kSlotCR] + d[kSlotIR] + d[kSlotAR];
  const double current_eq4 = d[kSlotSC] + d[kSlotSI] + d[kSlotSA];

  const double step = 0.1;
  const double max_severity_eq1 = kMaxSeverityEq1[eq1] * step;
  const double max_severity_eq2 = kMaxSeverityEq2[eq2] * step;
  const double max_severity_eq3eq6 = kMaxSeverityEq3Eq6[eq3][eq6] * step;
  const double max_severity_eq4 = kMaxSeverityEq4[eq4] * step;

  int existing_lower = 0;
  double normalized_eq1 = 0, normalized_eq2 = 0, normalized_eq3eq6 = 0, normalized_eq4 = 0,
         normalized_eq5 = 0;
  const double available_eq1 = value - lower_eq1;
  const double available_eq2 = value - lower_eq2;
  const double available_eq3eq6 = value - lower_eq3eq6;
  const double available_eq4 = value - lower_eq4;
  const double available_eq5 = value - lower_eq5;
  if (!std::isnan(available_eq1)) {
    ++existing_lower;
    normalized_eq1 = available_eq1 * (current_eq1 / max_severity_eq1);
  }
  if (!std::isnan(available_eq2)) {
    ++existing_lower;
    normalized_eq2 = available_eq2 * (current_eq2 / max_severity_eq2);
  }
  if (!std::isnan(available_eq3eq6)) {
    ++existing_lower;
    normalized_eq3eq6 = available_eq3eq6 * (current_eq3eq6 / max_severity_eq3eq6);
  }
  if (!std::isnan(available_eq4)) {
    ++existing_lower;
    normalized_eq4 = available_eq4 * (current_eq4 / max_severity_eq4);
  }
  if (!std::isnan(available_eq5)) {
    // The proportion for EQ5 is always 0.
    ++existing_lower;
    normalized_eq5 = available_eq5 * 0.0;
  }
  const double mean_distance = existing_lower == 0
                                   ? 0.0
                                   : (normalized_eq1 + normalized_eq2 + normalized_eq3eq6 +
                                      normalized_eq4 + normalized_eq5) /
                                         existing_lower;
  value -= mean_distance;
  if (value < 0.0) value = 0.0;
  if (value > 10.0) value = 10.0;
  return std::floor((value + 1e-6) * 10.0 + 0.5) / 10.0;
}

}  // namespace

void Score(const ParsedVector& p, CvssScore& out) {
  out.base_score = ScoreOf(Effective(p, false));
  bool threat_or_environment = false;
  for (int m = kE; m <= kMSA; ++m) threat_or_environment |= p.value[m] >= 0;
  out.score = threat_or_environment ? ScoreOf(Effective(p, true)) : out.base_score;
  out.temporal_score.reset();
  out.environmental_score.reset();
}

}  // namespace isms::cvss_internal::v4
