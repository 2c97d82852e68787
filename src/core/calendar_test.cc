#include "core/calendar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "isms_test_paths.h"

namespace isms {
namespace {

using std::chrono::sys_days;

Date D(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
}

Date D(const char* text) {
  return ParseDate(text).value();
}

std::vector<std::string> Dates(const std::vector<Holiday>& list) {
  std::vector<std::string> out;
  for (const Holiday& h : list) out.push_back(FormatDate(h.date));
  return out;
}

std::string NameOn(const std::vector<Holiday>& list, Date d) {
  for (const Holiday& h : list) {
    if (h.date == d) return h.name;
  }
  return "";
}

bool IsWeekend(Date d) {
  std::chrono::weekday w{sys_days(d)};
  return w == std::chrono::Saturday || w == std::chrono::Sunday;
}

using Strings = std::vector<std::string>;

TEST(CalendarEasterTest, MatchesPublishedEasterSundays) {
  EXPECT_EQ(EasterSunday(1818), D("1818-03-22"));  // earliest possible date
  EXPECT_EQ(EasterSunday(1943), D("1943-04-25"));  // latest possible date
  EXPECT_EQ(EasterSunday(2000), D("2000-04-23"));
  EXPECT_EQ(EasterSunday(2008), D("2008-03-23"));
  EXPECT_EQ(EasterSunday(2011), D("2011-04-24"));
  EXPECT_EQ(EasterSunday(2019), D("2019-04-21"));
  EXPECT_EQ(EasterSunday(2024), D("2024-03-31"));
  EXPECT_EQ(EasterSunday(2025), D("2025-04-20"));
  EXPECT_EQ(EasterSunday(2038), D("2038-04-25"));
  EXPECT_EQ(EasterSunday(2049), D("2049-04-18"));
  EXPECT_EQ(EasterSunday(2076), D("2076-04-19"));
  EXPECT_EQ(EasterSunday(2100), D("2100-03-28"));
  EXPECT_EQ(EasterSunday(2285), D("2285-03-22"));
}

TEST(CalendarEasterTest, IsAlwaysASundayBetween22MarchAnd25April) {
  for (int y = 1900; y <= 2300; ++y) {
    const Date e = EasterSunday(y);
    SCOPED_TRACE(y);
    EXPECT_EQ(std::chrono::weekday(sys_days(e)), std::chrono::Sunday);
    EXPECT_GE(e, D(y, 3, 22));
    EXPECT_LE(e, D(y, 4, 25));
  }
}

TEST(CalendarRuleTest, OrdinaryYearHasEightDaysOff2026) {
  EXPECT_EQ(Dates(RuleHolidays(2026)),
            (Strings{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25",
                     "2026-08-31", "2026-12-25", "2026-12-28"}));
  const auto list = RuleHolidays(2026);
  EXPECT_EQ(NameOn(list, D("2026-01-01")), "New Year's Day");
  EXPECT_EQ(NameOn(list, D("2026-04-03")), "Good Friday");
  EXPECT_EQ(NameOn(list, D("2026-04-06")), "Easter Monday");
  EXPECT_EQ(NameOn(list, D("2026-05-04")), "Early May bank holiday");
  EXPECT_EQ(NameOn(list, D("2026-05-25")), "Spring bank holiday");
  EXPECT_EQ(NameOn(list, D("2026-08-31")), "Summer bank holiday");
  EXPECT_EQ(NameOn(list, D("2026-12-25")), "Christmas Day");
  EXPECT_EQ(NameOn(list, D("2026-12-28")), "Boxing Day (substitute day)");
}

TEST(CalendarRuleTest, ChristmasOnSaturdayGivesMonday27AndTuesday28_2004) {
  EXPECT_EQ(Dates(RuleHolidays(2004)),
            (Strings{"2004-01-01", "2004-04-09", "2004-04-12", "2004-05-03", "2004-05-31",
                     "2004-08-30", "2004-12-27", "2004-12-28"}));
  const auto list = RuleHolidays(2004);
  EXPECT_EQ(NameOn(list, D("2004-12-27")), "Christmas Day (substitute day)");
  EXPECT_EQ(NameOn(list, D("2004-12-28")), "Boxing Day (substitute day)");
}

TEST(CalendarRuleTest, ChristmasOnSaturdayGivesMonday27AndTuesday28_2010) {
  EXPECT_EQ(Dates(RuleHolidays(2010)),
            (Strings{"2010-01-01", "2010-04-02", "2010-04-05", "2010-05-03", "2010-05-31",
                     "2010-08-30", "2010-12-27", "2010-12-28"}));
}

TEST(CalendarRuleTest, ChristmasOnSundayGivesBoxingDayMonday26AndSubstituteTuesday27_2005) {
  const auto list = RuleHolidays(2005);
  EXPECT_EQ(Dates(list), (Strings{"2005-01-03", "2005-03-25", "2005-03-28", "2005-05-02",
                                  "2005-05-30", "2005-08-29", "2005-12-26", "2005-12-27"}));
  EXPECT_EQ(NameOn(list, D("2005-01-03")), "New Year's Day (substitute day)");
  EXPECT_EQ(NameOn(list, D("2005-12-26")), "Boxing Day");
  EXPECT_EQ(NameOn(list, D("2005-12-27")), "Christmas Day (substitute day)");
}

TEST(CalendarRuleTest, BoxingDayOnSaturdayGivesMonday28_2009) {
  const auto list = RuleHolidays(2009);
  EXPECT_EQ(Dates(list), (Strings{"2009-01-01", "2009-04-10", "2009-04-13", "2009-05-04",
                                  "2009-05-25", "2009-08-31", "2009-12-25", "2009-12-28"}));
  EXPECT_EQ(NameOn(list, D("2009-12-28")), "Boxing Day (substitute day)");
}

TEST(CalendarRuleTest, NewYearOnSundayMovesToMonday2_2006AndSaturdayToMonday3_2011) {
  EXPECT_EQ(Dates(RuleHolidays(2006)).front(), "2006-01-02");
  EXPECT_EQ(Dates(RuleHolidays(2011)).front(), "2011-01-03");
  EXPECT_EQ(Dates(RuleHolidays(2022)).front(), "2022-01-03");
  EXPECT_EQ(Dates(RuleHolidays(2023)).front(), "2023-01-02");
}

TEST(CalendarRuleTest, EarlyMayMovedToFriday8MayForVeDay2020) {
  const auto list = RuleHolidays(2020);
  EXPECT_EQ(Dates(list), (Strings{"2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08",
                                  "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28"}));
  EXPECT_EQ(NameOn(list, D("2020-05-08")), "Early May bank holiday (VE day)");
}

TEST(CalendarRuleTest, EarlyMayMovedToMonday8May1995) {
  const auto dates = Dates(RuleHolidays(1995));
  EXPECT_NE(std::find(dates.begin(), dates.end(), "1995-05-08"), dates.end());
  EXPECT_EQ(std::find(dates.begin(), dates.end(), "1995-05-01"), dates.end());
}

TEST(CalendarRuleTest, FutureYear2027) {
  EXPECT_EQ(Dates(RuleHolidays(2027)),
            (Strings{"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31",
                     "2027-08-30", "2027-12-27", "2027-12-28"}));
}

TEST(CalendarRuleTest, FarYear2100) {
  EXPECT_EQ(Dates(RuleHolidays(2100)),
            (Strings{"2100-01-01", "2100-03-26", "2100-03-29", "2100-05-03", "2100-05-31",
                     "2100-08-30", "2100-12-27", "2100-12-28"}));
}

TEST(CalendarRuleTest, MillenniumBankHolidayOn31December1999) {
  EXPECT_EQ(Dates(RuleHolidays(1999)),
            (Strings{"1999-01-01", "1999-04-02", "1999-04-05", "1999-05-03", "1999-05-31",
                     "1999-08-30", "1999-12-27", "1999-12-28", "1999-12-31"}));
  EXPECT_EQ(Dates(RuleHolidays(2000)).front(), "2000-01-03");
}

TEST(CalendarRuleTest, GoldenJubilee2002MovesSpringBankHolidayToTuesday4June) {
  const auto list = RuleHolidays(2002);
  EXPECT_EQ(Dates(list),
            (Strings{"2002-01-01", "2002-03-29", "2002-04-01", "2002-05-06", "2002-06-03",
                     "2002-06-04", "2002-08-26", "2002-12-25", "2002-12-26"}));
  EXPECT_EQ(NameOn(list, D("2002-06-03")), "Golden Jubilee bank holiday");
  EXPECT_EQ(NameOn(list, D("2002-06-04")), "Spring bank holiday");
}

TEST(CalendarRuleTest, RoyalWedding29April2011) {
  EXPECT_EQ(Dates(RuleHolidays(2011)),
            (Strings{"2011-01-03", "2011-04-22", "2011-04-25", "2011-04-29", "2011-05-02",
                     "2011-05-30", "2011-08-29", "2011-12-26", "2011-12-27"}));
}

TEST(CalendarRuleTest, DiamondJubilee2012MovesSpringBankHolidayToMonday4June) {
  const auto list = RuleHolidays(2012);
  EXPECT_EQ(Dates(list),
            (Strings{"2012-01-02", "2012-04-06", "2012-04-09", "2012-05-07", "2012-06-04",
                     "2012-06-05", "2012-08-27", "2012-12-25", "2012-12-26"}));
  EXPECT_EQ(NameOn(list, D("2012-06-04")), "Spring bank holiday");
  EXPECT_EQ(NameOn(list, D("2012-06-05")), "Diamond Jubilee bank holiday");
}

TEST(CalendarRuleTest, PlatinumJubileeStateFuneralAndChristmasOnSunday2022) {
  const auto list = RuleHolidays(2022);
  EXPECT_EQ(Dates(list),
            (Strings{"2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02",
                     "2022-06-03", "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27"}));
  EXPECT_EQ(NameOn(list, D("2022-06-03")), "Platinum Jubilee bank holiday");
  EXPECT_EQ(NameOn(list, D("2022-09-19")),
            "Bank Holiday for the State Funeral of Queen Elizabeth II");
}

TEST(CalendarRuleTest, CoronationOfKingCharlesIII8May2023) {
  EXPECT_EQ(Dates(RuleHolidays(2023)),
            (Strings{"2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08",
                     "2023-05-29", "2023-08-28", "2023-12-25", "2023-12-26"}));
}

TEST(CalendarRuleTest, EveryYearIsSortedWeekdaysOnlyInItsYearWithPlainAsciiNames) {
  for (int y = 1978; y <= 2200; ++y) {
    SCOPED_TRACE(y);
    const auto list = RuleHolidays(y);
    EXPECT_GE(list.size(), 8u);
    EXPECT_LE(list.size(), 10u);
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_FALSE(IsWeekend(list[i].date)) << FormatDate(list[i].date);
      EXPECT_EQ(static_cast<int>(list[i].date.year()), y);
      if (i > 0) {
        EXPECT_LT(list[i - 1].date, list[i].date);
      }
      for (char c : list[i].name) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << list[i].name;
    }
  }
}

TEST(CalendarRuleTest, OrdinaryYearsHaveExactlyEightDaysOff) {
  const std::set<int> special = {1977, 1981, 1999, 2002, 2011, 2012, 2022, 2023};
  for (int y = 1978; y <= 2200; ++y) {
    if (special.count(y)) continue;
    EXPECT_EQ(RuleHolidays(y).size(), 8u) << y;
  }
}

// The dates of a vacanza snapshot ({"YYYY-MM-DD": "name", ...}); empty when absent.
std::vector<Date> ReadSnapshotDates(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::vector<Date> out;
  for (size_t pos = s.find('"'); pos != std::string::npos; pos = s.find('"', pos + 1)) {
    if (pos + 12 < s.size() && s[pos + 11] == '"' && s[pos + 12] == ':') {
      Result<Date> d = ParseDate(s.substr(pos + 1, 10));
      if (d.ok()) out.push_back(*d);
      pos += 12;
    }
  }
  return out;
}

TEST(CalendarSharedDataTest, RuleDaysOffEqualVacanzaNonWorkingWeekdays1975To2050) {
  const std::string path = std::string(ISMS_SHARED_TESTDATA) +
                           "/uk-bank-holidays/vacanza-holidays/snapshots/countries/GB_ENG.json";
  if (!std::ifstream(path)) GTEST_SKIP() << "shared test data not found at " << path;
  const std::vector<Date> snapshot = ReadSnapshotDates(path);
  ASSERT_EQ(snapshot.size(), 823u) << "unexpected snapshot " << path;
  // Required for 2000–2050; the rule also matches back to 1975 (New Year's Day became a bank
  // holiday in 1974, the early May one in 1978).
  for (int y = 1975; y <= 2050; ++y) {
    SCOPED_TRACE(y);
    std::vector<std::string> expected;
    for (Date d : snapshot) {
      // vacanza lists a holiday's weekend date as well as its "(observed)" weekday: only
      // weekdays are days off.
      if (static_cast<int>(d.year()) == y && !IsWeekend(d)) expected.push_back(FormatDate(d));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Dates(RuleHolidays(y)), expected);
  }
}

TEST(CalendarTest, WeekendsAndHolidaysAreNotWorkingDays) {
  const Calendar cal;
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-03-31")));   // Tuesday
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-03-28")));  // Saturday
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-03-29")));  // Sunday
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-04-03")));  // Good Friday
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-12-28")));  // Boxing Day (substitute day)
  EXPECT_TRUE(cal.IsHoliday(D("2026-12-28")));
  EXPECT_FALSE(cal.IsHoliday(D("2026-12-26")));  // Boxing Day itself is a Saturday
  EXPECT_FALSE(cal.IsHoliday(D("2026-03-31")));
}

TEST(CalendarTest, HolidaysOfAYearAreTheRulesWithoutAFeed) {
  const Calendar cal;
  EXPECT_TRUE(cal.official().empty());
  for (int y = 1990; y <= 2110; ++y) EXPECT_EQ(cal.Holidays(y), RuleHolidays(y)) << y;
}

TEST(CalendarTest, BitmapAgreesWithRuleForEveryDay1980To2130) {
  const Calendar cal;
  std::set<sys_days> off;
  for (int y = 1980; y <= 2130; ++y) {
    for (const Holiday& h : RuleHolidays(y)) off.insert(sys_days(h.date));
  }
  for (sys_days d = sys_days(D("1980-01-01")); d <= sys_days(D("2130-12-31"));
       d += std::chrono::days(1)) {
    const bool holiday = off.count(d) > 0;
    ASSERT_EQ(cal.IsHoliday(Date(d)), holiday) << FormatDate(Date(d));
    ASSERT_EQ(cal.IsWorkingDay(Date(d)), !holiday && !IsWeekend(Date(d))) << FormatDate(Date(d));
  }
}

TEST(CalendarTest, WorkingDaysAfterChristmas2026SkipTheBankHolidaysAndWeekend) {
  const Calendar cal;
  // Thu 24 (1); Fri 25 Christmas; Sat 26; Sun 27; Mon 28 Boxing Day substitute; Tue 29 (2);
  // Wed 30 (3).
  EXPECT_EQ(cal.AddWorkingDays(D("2026-12-23"), 1), D("2026-12-24"));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-12-23"), 2), D("2026-12-29"));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-12-23"), 3), D("2026-12-30"));
}

TEST(CalendarTest, MaundyThursdayPlusOneWorkingDayIsTheTuesdayAfterEaster) {
  const Calendar cal;
  EXPECT_EQ(cal.AddWorkingDays(D("2026-04-02"), 1), D("2026-04-07"));
  EXPECT_EQ(cal.AddWorkingDays(D("2025-04-17"), 1), D("2025-04-22"));
}

TEST(CalendarTest, TheStartDayIsNeverCountedEvenWhenItIsAWeekendOrHoliday) {
  const Calendar cal;
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-06"), 1), D("2026-03-09"));  // Fri -> Mon
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-07"), 1), D("2026-03-09"));  // Sat -> Mon
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-08"), 1), D("2026-03-09"));  // Sun -> Mon
  EXPECT_EQ(cal.AddWorkingDays(D("2026-04-03"), 1), D("2026-04-07"));  // Good Friday -> Tue
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-09"), 5), D("2026-03-16"));  // Mon -> next Mon
}

TEST(CalendarTest, ZeroWorkingDaysReturnsTheDateItself) {
  const Calendar cal;
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-07"), 0), D("2026-03-07"));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-12-25"), 0), D("2026-12-25"));
}

TEST(CalendarTest, NegativeWorkingDaysCountBackwards) {
  const Calendar cal;
  EXPECT_EQ(cal.AddWorkingDays(D("2026-04-07"), -1), D("2026-04-02"));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-12-30"), -3), D("2026-12-23"));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-08"), -1), D("2026-03-06"));
}

TEST(CalendarTest, SixtyWorkingDaysAcrossEaster2026) {
  const Calendar cal;
  // Counted by hand: 3–31 March 21, 1–30 April 20 (Good Friday and Easter Monday off),
  // 1–29 May 19 (4 and 25 May off): the 60th is Friday 29 May.
  EXPECT_EQ(cal.AddWorkingDays(D("2026-03-02"), 60), D("2026-05-29"));
  EXPECT_EQ(cal.WorkingDaysBetween(D("2026-03-02"), D("2026-05-29")), 60);
}

// A plain day-by-day reference over the rule's days off.
class ReferenceCalendar {
 public:
  ReferenceCalendar(int first_year, int last_year) {
    for (int y = first_year; y <= last_year; ++y) {
      for (const Holiday& h : RuleHolidays(y)) off_.insert(sys_days(h.date));
    }
  }
  bool IsWorkingDay(sys_days d) const { return !IsWeekend(Date(d)) && off_.count(d) == 0; }
  Date Add(Date from, int n) const {
    sys_days d = sys_days(from);
    const int step = n < 0 ? -1 : 1;
    for (int left = n < 0 ? -n : n; left > 0;) {
      d += std::chrono::days(step);
      if (IsWorkingDay(d)) --left;
    }
    return Date(d);
  }

 private:
  std::set<sys_days> off_;
};

TEST(CalendarTest, AddWorkingDaysAgreesWithDayByDayCountingIncludingBeyondTheBitmap) {
  const Calendar cal;
  const ReferenceCalendar ref(1980, 2125);
  const int ns[] = {1, 2, 5, 20, 45, 60, 63, 64, 65, 128, 260};
  int checked = 0;
  for (sys_days d = sys_days(D("1987-01-01")); d <= sys_days(D("2113-12-31"));
       d += std::chrono::days(1)) {
    const int y = static_cast<int>(Date(d).year());
    const bool near_edge = y <= 1991 || y >= 2109;
    if (!near_edge && (d.time_since_epoch().count() % 7) != 0) continue;
    for (int n : ns) {
      ASSERT_EQ(cal.AddWorkingDays(Date(d), n), ref.Add(Date(d), n))
          << FormatDate(Date(d)) << " + " << n;
      ASSERT_EQ(cal.AddWorkingDays(Date(d), -n), ref.Add(Date(d), -n))
          << FormatDate(Date(d)) << " - " << n;
      ASSERT_EQ(cal.WorkingDaysBetween(Date(d), cal.AddWorkingDays(Date(d), n)), n)
          << FormatDate(Date(d)) << " + " << n;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100000);
}

TEST(CalendarTest, WorkingDaysBetweenExcludesTheStartAndIncludesTheEnd) {
  const Calendar cal;
  EXPECT_EQ(cal.WorkingDaysBetween(D("2026-03-09"), D("2026-03-09")), 0);
  EXPECT_EQ(cal.WorkingDaysBetween(D("2026-03-09"), D("2026-03-10")), 1);
  EXPECT_EQ(cal.WorkingDaysBetween(D("2026-03-10"), D("2026-03-09")), 0);
  EXPECT_EQ(cal.WorkingDaysBetween(D("2026-03-06"), D("2026-03-08")), 0);    // Fri -> Sun
  EXPECT_EQ(cal.WorkingDaysBetween(D("2026-01-01"), D("2026-12-31")), 253);  // 1 Jan is off
  EXPECT_EQ(cal.WorkingDaysBetween(D("2025-12-31"), D("2026-12-31")), 253);
  EXPECT_EQ(cal.WorkingDaysBetween(D("1900-01-01"), D("2200-01-01")),
            cal.WorkingDaysBetween(D("1900-01-01"), D("2000-01-01")) +
                cal.WorkingDaysBetween(D("2000-01-01"), D("2200-01-01")));
}

TEST(CalendarTest, DatesOutsideTheBitmapUseTheRule) {
  const Calendar cal;
  EXPECT_FALSE(cal.IsWorkingDay(D("2200-04-04")));  // Good Friday 2200
  EXPECT_TRUE(cal.IsHoliday(D("2200-12-25")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2200-12-26")));  // Boxing Day, a Friday
  EXPECT_TRUE(cal.IsWorkingDay(D("2200-12-29")));
  EXPECT_EQ(cal.AddWorkingDays(D("2200-12-24"), 1), D("2200-12-29"));
  EXPECT_EQ(cal.AddWorkingDays(D("1985-12-24"), 1), D("1985-12-27"));
}

TEST(CalendarTest, DaysAreCalendarDays) {
  const Calendar cal;
  EXPECT_EQ(cal.AddDays(D("2026-12-23"), 14), D("2027-01-06"));
  EXPECT_EQ(cal.AddDays(D("2026-03-01"), -1), D("2026-02-28"));
  EXPECT_EQ(cal.AddDays(D("2024-02-28"), 1), D("2024-02-29"));
  EXPECT_EQ(cal.AddDays(D("2026-03-07"), 0), D("2026-03-07"));
}

TEST(CalendarTest, MonthsKeepTheDayOfMonthClampedToTheMonthsLastDay) {
  const Calendar cal;
  EXPECT_EQ(cal.AddMonths(D("2026-01-31"), 1), D("2026-02-28"));
  EXPECT_EQ(cal.AddMonths(D("2024-01-31"), 1), D("2024-02-29"));
  EXPECT_EQ(cal.AddMonths(D("2026-03-31"), 1), D("2026-04-30"));
  EXPECT_EQ(cal.AddMonths(D("2026-01-15"), 1), D("2026-02-15"));
  EXPECT_EQ(cal.AddMonths(D("2026-10-31"), 4), D("2027-02-28"));
  EXPECT_EQ(cal.AddMonths(D("2024-02-29"), 12), D("2025-02-28"));
  EXPECT_EQ(cal.AddMonths(D("2024-02-29"), 48), D("2028-02-29"));
  EXPECT_EQ(cal.AddMonths(D("2026-12-31"), 2), D("2027-02-28"));
  EXPECT_EQ(cal.AddMonths(D("2026-08-31"), -6), D("2026-02-28"));
  EXPECT_EQ(cal.AddMonths(D("2026-05-31"), 0), D("2026-05-31"));
  EXPECT_EQ(cal.AddMonths(D("2026-02-28"), 1), D("2026-03-28"));  // no "end of month" rule
}

TEST(CalendarTest, AddPeriodDispatchesOnTheUnit) {
  const Calendar cal;
  using U = Period::Unit;
  EXPECT_EQ(cal.AddPeriod(D("2026-12-23"), {3, U::kWorkingDays}), D("2026-12-30"));
  EXPECT_EQ(cal.AddPeriod(D("2026-12-23"), {3, U::kDays}), D("2026-12-26"));
  EXPECT_EQ(cal.AddPeriod(D("2026-01-31"), {1, U::kMonths}), D("2026-02-28"));
  EXPECT_EQ(cal.AddPeriod(D("2026-01-31"), {12, U::kMonths}), D("2027-01-31"));
  // Hours: the latest London date a period triggered during that day can end on.
  EXPECT_EQ(cal.AddPeriod(D("2026-01-31"), {0, U::kHours}), D("2026-01-31"));
  EXPECT_EQ(cal.AddPeriod(D("2026-01-31"), {1, U::kHours}), D("2026-02-01"));
  EXPECT_EQ(cal.AddPeriod(D("2026-01-31"), {24, U::kHours}), D("2026-02-01"));
  EXPECT_EQ(cal.AddPeriod(D("2026-01-31"), {25, U::kHours}), D("2026-02-02"));
  EXPECT_EQ(cal.AddPeriod(D("2026-03-28"), {24, U::kHours}), D("2026-03-30"));  // 23-hour day
}

TEST(CalendarOfficialTest, FeedRemovesARuleDayAndAddsANewOne) {
  OfficialHolidays official;
  auto rule = RuleHolidays(2026);
  rule.erase(std::remove_if(rule.begin(), rule.end(),
                            [](const Holiday& h) { return h.date == D("2026-05-25"); }),
             rule.end());
  rule.push_back({D("2026-06-05"), "Extra bank holiday"});
  official[2026] = rule;
  const Calendar cal(official);

  EXPECT_TRUE(cal.IsWorkingDay(D("2026-05-25")));
  EXPECT_FALSE(cal.IsHoliday(D("2026-05-25")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-06-05")));
  EXPECT_TRUE(cal.IsHoliday(D("2026-06-05")));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-05-22"), 1), D("2026-05-25"));
  EXPECT_EQ(cal.AddWorkingDays(D("2026-06-04"), 1), D("2026-06-08"));
  // The list comes back in date order.
  const auto days = cal.Holidays(2026);
  EXPECT_EQ(Dates(days), (Strings{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
                                  "2026-06-05", "2026-08-31", "2026-12-25", "2026-12-28"}));
  // Other years still follow the rule.
  EXPECT_FALSE(cal.IsWorkingDay(D("2025-05-26")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2027-05-31")));
  EXPECT_EQ(cal.Holidays(2027), RuleHolidays(2027));
  EXPECT_EQ(cal.official().size(), 1u);
}

TEST(CalendarOfficialTest, AYearPresentWithNoDaysHasNoHolidays) {
  OfficialHolidays official;
  official[2030] = {};
  const Calendar cal(official);
  EXPECT_TRUE(cal.Holidays(2030).empty());
  EXPECT_TRUE(cal.IsWorkingDay(D("2030-12-25")));  // Wednesday
  EXPECT_EQ(cal.WorkingDaysBetween(D("2029-12-31"), D("2030-12-31")), 261);
  EXPECT_FALSE(cal.IsWorkingDay(D("2029-12-25")));
}

TEST(CalendarOfficialTest, YearsOutsideTheRuleBitmapAreCovered) {
  OfficialHolidays official;
  official[2150] = {{D("2150-07-01"), "Tricentennial"}};
  official[1985] = {{D("1985-07-01"), "Made up"}};
  const Calendar cal(official);
  EXPECT_FALSE(cal.IsWorkingDay(D("2150-07-01")));
  EXPECT_TRUE(cal.IsWorkingDay(D("2150-12-25")));  // not in the official list for 2150
  EXPECT_FALSE(cal.IsWorkingDay(D("1985-07-01")));
  EXPECT_TRUE(cal.IsWorkingDay(D("1985-12-25")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2149-12-25")));  // rule
  EXPECT_EQ(cal.AddWorkingDays(D("2150-06-30"), 1), D("2150-07-02"));
}

TEST(CalendarOfficialTest, CopiesAndTheRuleOnlyCalendarAreIndependent) {
  OfficialHolidays official;
  official[2026] = {{D("2026-03-31"), "Extra"}};
  const Calendar with_feed(official);
  const Calendar copy = with_feed;  // NOLINT(performance-unnecessary-copy-initialization)
  const Calendar rules;
  EXPECT_FALSE(copy.IsWorkingDay(D("2026-03-31")));
  EXPECT_TRUE(rules.IsWorkingDay(D("2026-03-31")));
  EXPECT_FALSE(rules.IsWorkingDay(D("2026-12-25")));
  EXPECT_TRUE(copy.IsWorkingDay(D("2026-12-25")));
}

}  // namespace
}  // namespace isms
