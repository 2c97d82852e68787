// England and Wales working days, bank holidays, and London civil time.
//
// A Working Day (CCS Joint Schedule 1) is any day other than a Saturday, a Sunday or a public
// holiday in England and Wales. Bank holidays are computed by rule for any year (checked
// 2000–2100), including substitute days and the known one-off days. An official GOV.UK
// `bank-holidays.json` feed, when loaded (see formats/bank_holidays_json.h), is authoritative for
// every year it covers: for such a year the feed's list replaces the rule's, adding and removing
// days. See docs/calendar.md.
//
// Period semantics (docs/calendar.md):
//   - "N Working Days after D": the N-th working day after D; D itself is never counted.
//   - "N days": calendar days.
//   - "N Months": the same day of month N months later, clamped to that month's last day.
//   - a period in hours runs from the trigger instant.
//   - a deadline date ends at 23:59:59.999 Europe/London.
//
// London time is computed by the UK rule in force since 1996: BST (UTC+1) from 01:00 UTC on the
// last Sunday of March to 01:00 UTC on the last Sunday of October; GMT otherwise. No time-zone
// database is used.
//
// Performance: working days are looked up in a bitmap covering 1990–2110 (and every year of the
// official list); the rule-only bitmap is built once per process and shared, so constructing a
// rules-only Calendar allocates nothing and copying a Calendar is cheap. AddWorkingDays and
// WorkingDaysBetween count 64 days per step. Dates outside the bitmap are still answered
// correctly, by rule, only more slowly.
//
// Thread-safety: a Calendar is immutable after construction; share it freely across threads.
// The free functions are pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/period.h"
#include "core/status.h"
#include "core/time.h"

namespace isms {

namespace calendar_internal {
struct DayMaps;
}  // namespace calendar_internal

struct Holiday {
  Date date;
  std::string name;
  friend bool operator==(const Holiday&, const Holiday&) = default;
};

// Easter Sunday of `year` in the Gregorian calendar (Anonymous Gregorian algorithm).
Date EasterSunday(int year);

// The England and Wales days off of `year` by rule, in date order (the day off, i.e. the
// substitute day where the holiday falls on a weekend; never a weekend date). Names are ASCII
// ("New Year's Day"); substitute days carry " (substitute day)" after the holiday's name.
std::vector<Holiday> RuleHolidays(int year);

// An official list of days off, by year: each year present replaces the rule for that year.
// Each entry's date should lie in its key's year.
using OfficialHolidays = std::map<int, std::vector<Holiday>>;

class Calendar {
 public:
  // Rules only. Cheap: shares the process-wide rule bitmap.
  Calendar();
  // Rules, overridden by `official` for every year it holds (a year present with an empty list
  // has no holidays at all).
  explicit Calendar(const OfficialHolidays& official);

  // The days off of `year`, in date order: the official list where loaded, else the rule's.
  std::vector<Holiday> Holidays(int year) const;
  bool IsHoliday(Date d) const;     // `d` is one of the days off of its year
  bool IsWorkingDay(Date d) const;  // not Saturday, not Sunday, not a holiday

  Date AddDays(Date d, int n) const;  // n may be negative
  // The n-th working day after d (d itself never counts, whether or not it is a working day);
  // n == 0 returns d; n < 0 gives the |n|-th working day before d.
  Date AddWorkingDays(Date d, int n) const;
  // The same day of month n months later (n may be negative), clamped to the month's last day.
  Date AddMonths(Date d, int n) const;
  // Number of working days w with from < w <= to (0 when to <= from).
  int WorkingDaysBetween(Date from, Date to) const;

  // The due date of `p` counted from date `d`. Unit::kHours is not a date period (use
  // DueInstant); for it this returns the latest London date on which a period of that many hours
  // triggered during day `d` can end, i.e. LondonDate(EndOfLondonDay(d) + N hours).
  Date AddPeriod(Date d, const Period& p) const;

  // The instant a period started at `trigger` ends: for hours, trigger + N hours; for the date
  // units, the end (23:59:59.999 London) of AddPeriod(LondonDate(trigger), p).
  Instant DueInstant(Instant trigger, const Period& p) const;

  // Which years the official feed covers (empty when rules only).
  const OfficialHolidays& official() const { return official_; }

 private:
  OfficialHolidays official_;                               // each year's list sorted by date
  std::shared_ptr<const calendar_internal::DayMaps> maps_;  // defined in calendar.cc
};

// London civil time by the UK rule since 1996 (no tz database), applied to every year.
bool IsBritishSummerTime(Instant t);
std::chrono::minutes LondonUtcOffset(Instant t);  // 0 or +60 minutes
std::chrono::local_time<std::chrono::milliseconds> ToLondonLocal(Instant t);
Date LondonDate(Instant t);
// The first and last instant of a London calendar day (last = 23:59:59.999 local).
Instant StartOfLondonDay(Date d);
Instant EndOfLondonDay(Date d);

}  // namespace isms
