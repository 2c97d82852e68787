// A timescale of the contract: an amount and a unit ("20 Working Days", "12 Months",
// "24 hours"). Semantics are in core/calendar.h.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace isms {

struct Period {
  enum class Unit { kDays, kWorkingDays, kMonths, kHours };
  int amount = 0;  // >= 0
  Unit unit = Unit::kDays;

  friend bool operator==(const Period&, const Period&) = default;
};

// "14 days", "60 Working Days", "12 Months", "24 hours" (1 day, 1 Working Day, ...).
std::string FormatPeriod(const Period& p);

// Unit names as written in policy files: "days", "working_days", "months", "hours".
std::string_view UnitKey(Period::Unit u);
Result<Period::Unit> ParseUnitKey(std::string_view key);

}  // namespace isms
