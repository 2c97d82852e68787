#include "core/period.h"

namespace isms {

std::string_view UnitKey(Period::Unit u) {
  switch (u) {
    case Period::Unit::kDays: return "days";
    case Period::Unit::kWorkingDays: return "working_days";
    case Period::Unit::kMonths: return "months";
    case Period::Unit::kHours: return "hours";
  }
  return "days";
}

Result<Period::Unit> ParseUnitKey(std::string_view key) {
  if (key == "days") return Period::Unit::kDays;
  if (key == "working_days") return Period::Unit::kWorkingDays;
  if (key == "months") return Period::Unit::kMonths;
  if (key == "hours") return Period::Unit::kHours;
  return Status::InvalidArgument("unknown unit '" + std::string(key) +
                                 "': use days, working_days, months or hours");
}

std::string FormatPeriod(const Period& p) {
  const bool one = p.amount == 1;
  std::string unit;
  switch (p.unit) {
    case Period::Unit::kDays: unit = one ? "day" : "days"; break;
    case Period::Unit::kWorkingDays: unit = one ? "Working Day" : "Working Days"; break;
    case Period::Unit::kMonths: unit = one ? "Month" : "Months"; break;
    case Period::Unit::kHours: unit = one ? "hour" : "hours"; break;
  }
  return std::to_string(p.amount) + " " + unit;
}

}  // namespace isms
