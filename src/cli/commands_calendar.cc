#include <charconv>
#include <ostream>

#include "cli/commands.h"

namespace isms::cli {
namespace {

Result<Calendar> CalendarFor(const CalendarOptions& o) {
  ISMS_ASSIGN_OR_RETURN(Policy policy, LoadPolicyOption(o.policy_file));
  return LoadCalendarOption(policy, o.holidays_file);
}

Result<int> ParseYear(std::string_view text) {
  int year = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), year);
  if (ec != std::errc() || end != text.data() + text.size() || year < 1900 || year > 2999) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a year: write four digits, e.g. 2026");
  }
  return year;
}

}  // namespace

void CalendarAdd(Context& ctx, const CalendarAddOptions& o) {
  Result<Calendar> calendar = CalendarFor(o.calendar);
  if (!calendar.ok()) return ctx.Fail(calendar.status());
  Period period;
  if (o.days) {
    period = {*o.days, Period::Unit::kDays};
  } else if (o.working_days) {
    period = {*o.working_days, Period::Unit::kWorkingDays};
  } else {
    period = {*o.months, Period::Unit::kMonths};
  }
  if (period.amount < 0) {
    return ctx.Fail(Status::InvalidArgument("the number of " + std::string(UnitKey(period.unit)) +
                                            " is " + std::to_string(period.amount) +
                                            ": give a number of 0 or more"));
  }
  ForEachValue(ctx, o.date, [&](std::string_view text) -> Result<std::string> {
    ISMS_ASSIGN_OR_RETURN(Date date, ParseDate(text));
    return FormatDate(calendar->AddPeriod(date, period));
  });
}

void CalendarHolidays(Context& ctx, const CalendarHolidaysOptions& o) {
  Result<Calendar> calendar = CalendarFor(o.calendar);
  if (!calendar.ok()) return ctx.Fail(calendar.status());
  ForEachValue(ctx, o.year, [&](std::string_view text) -> Result<std::string> {
    ISMS_ASSIGN_OR_RETURN(int year, ParseYear(text));
    std::string lines;
    for (const Holiday& h : calendar->Holidays(year)) {
      if (!lines.empty()) lines += '\n';
      lines += FormatDate(h.date);
      lines += '\t';
      lines += h.name;
    }
    return lines;
  });
}

void CalendarIsWorkingDay(Context& ctx, const CalendarIsWorkingDayOptions& o) {
  Result<Calendar> calendar = CalendarFor(o.calendar);
  if (!calendar.ok()) return ctx.Fail(calendar.status());
  ForEachValue(ctx, o.date, [&](std::string_view text) -> Result<std::string> {
    ISMS_ASSIGN_OR_RETURN(Date date, ParseDate(text));
    return std::string(calendar->IsWorkingDay(date) ? "yes" : "no");
  });
}

}  // namespace isms::cli
