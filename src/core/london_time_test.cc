#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "core/calendar.h"

namespace isms {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::sys_days;

Instant T(const char* text) {
  return ParseInstant(text).value();
}
Date D(const char* text) {
  return ParseDate(text).value();
}

std::string Local(Instant t) {
  const auto local = ToLondonLocal(t);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::hh_mm_ss<milliseconds> tod(local - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s %02d:%02d:%02d.%03d",
                FormatDate(Date(sys_days(day.time_since_epoch()))).c_str(),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

TEST(LondonTimeTest, SummerTimeStartsAt0100UtcOnTheLastSundayOfMarch) {
  EXPECT_FALSE(IsBritishSummerTime(T("2026-03-29T00:59:59.999Z")));
  EXPECT_TRUE(IsBritishSummerTime(T("2026-03-29T01:00:00Z")));
  EXPECT_EQ(Local(T("2026-03-29T00:59:59.999Z")), "2026-03-29 00:59:59.999");
  EXPECT_EQ(Local(T("2026-03-29T01:00:00Z")), "2026-03-29 02:00:00.000");
  EXPECT_FALSE(IsBritishSummerTime(T("2027-03-28T00:59:59.999Z")));
  EXPECT_TRUE(IsBritishSummerTime(T("2027-03-28T01:00:00Z")));
}

// Every year's change, whether looked up among the years worked out in advance (1970-2199) or
// worked out on the spot: 01:00 UTC on the last Sunday of March and of October.
TEST(LondonTimeTest, SummerTimeFollowsTheRuleInEveryYearInsideAndOutsideTheTable) {
  for (int y = 1960; y <= 2210; ++y) {
    SCOPED_TRACE(y);
    using std::chrono::Sunday;
    const auto last_sunday = [&](unsigned m) {
      return Instant(sys_days(std::chrono::year_month_weekday_last{
                         std::chrono::year(y), std::chrono::month(m),
                         std::chrono::weekday_last(Sunday)}) +
                     hours(1));
    };
    const Instant start = last_sunday(3), end = last_sunday(10);
    EXPECT_FALSE(IsBritishSummerTime(start - milliseconds(1)));
    EXPECT_TRUE(IsBritishSummerTime(start));
    EXPECT_TRUE(IsBritishSummerTime(end - milliseconds(1)));
    EXPECT_FALSE(IsBritishSummerTime(end));
  }
}

TEST(LondonTimeTest, SummerTimeEndsAt0100UtcOnTheLastSundayOfOctober) {
  EXPECT_TRUE(IsBritishSummerTime(T("2026-10-25T00:59:59.999Z")));
  EXPECT_FALSE(IsBritishSummerTime(T("2026-10-25T01:00:00Z")));
  EXPECT_EQ(Local(T("2026-10-25T00:59:59.999Z")), "2026-10-25 01:59:59.999");
  EXPECT_EQ(Local(T("2026-10-25T01:00:00Z")), "2026-10-25 01:00:00.000");
}

TEST(LondonTimeTest, OffsetIsZeroInWinterAndOneHourInSummer) {
  EXPECT_EQ(LondonUtcOffset(T("2026-01-15T12:00:00Z")), std::chrono::minutes(0));
  EXPECT_EQ(LondonUtcOffset(T("2026-07-15T12:00:00Z")), std::chrono::minutes(60));
  EXPECT_EQ(Local(T("2026-01-15T12:00:00Z")), "2026-01-15 12:00:00.000");
  EXPECT_EQ(Local(T("2026-07-15T12:00:00Z")), "2026-07-15 13:00:00.000");
}

TEST(LondonTimeTest, LondonDateFollowsTheLocalClock) {
  EXPECT_EQ(LondonDate(T("2026-06-30T22:59:59.999Z")), D("2026-06-30"));
  EXPECT_EQ(LondonDate(T("2026-06-30T23:00:00Z")), D("2026-07-01"));
  EXPECT_EQ(LondonDate(T("2026-12-31T23:30:00Z")), D("2026-12-31"));
  EXPECT_EQ(LondonDate(T("2027-01-01T00:00:00Z")), D("2027-01-01"));
}

TEST(LondonTimeTest, LondonDayBoundsInWinterAndSummer) {
  EXPECT_EQ(FormatInstant(StartOfLondonDay(D("2026-01-15"))), "2026-01-15T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(EndOfLondonDay(D("2026-01-15"))), "2026-01-15T23:59:59.999Z");
  EXPECT_EQ(FormatInstant(StartOfLondonDay(D("2026-07-01"))), "2026-06-30T23:00:00.000Z");
  EXPECT_EQ(FormatInstant(EndOfLondonDay(D("2026-07-01"))), "2026-07-01T22:59:59.999Z");
}

TEST(LondonTimeTest, ClockChangeDaysLast23And25Hours) {
  EXPECT_EQ(FormatInstant(StartOfLondonDay(D("2026-03-29"))), "2026-03-29T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(EndOfLondonDay(D("2026-03-29"))), "2026-03-29T22:59:59.999Z");
  EXPECT_EQ(EndOfLondonDay(D("2026-03-29")) + milliseconds(1) - StartOfLondonDay(D("2026-03-29")),
            hours(23));
  EXPECT_EQ(FormatInstant(StartOfLondonDay(D("2026-10-25"))), "2026-10-24T23:00:00.000Z");
  EXPECT_EQ(FormatInstant(EndOfLondonDay(D("2026-10-25"))), "2026-10-25T23:59:59.999Z");
  EXPECT_EQ(EndOfLondonDay(D("2026-10-25")) + milliseconds(1) - StartOfLondonDay(D("2026-10-25")),
            hours(25));
}

TEST(LondonTimeTest, DateDeadlineEndsAt235959999London) {
  const Calendar cal;
  using U = Period::Unit;
  // Summer: 23:59:59.999 BST is 22:59:59.999Z.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-07-01T10:00:00Z"), {14, U::kDays})),
            "2026-07-15T22:59:59.999Z");
  // Winter: 23:59:59.999 GMT is 23:59:59.999Z.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-01-05T10:00:00Z"), {14, U::kDays})),
            "2026-01-19T23:59:59.999Z");
  // A period that starts in winter and ends in summer ends at midnight summer time.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-03-20T10:00:00Z"), {14, U::kDays})),
            "2026-04-03T22:59:59.999Z");
  // And the other way round.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-10-20T10:00:00Z"), {7, U::kDays})),
            "2026-10-27T23:59:59.999Z");
}

TEST(LondonTimeTest, DateDeadlineCountsFromTheLondonDateOfTheTrigger) {
  const Calendar cal;
  using U = Period::Unit;
  // 23:30Z on 1 July is 00:30 BST on 2 July: day 1 is 3 July.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-07-01T23:30:00Z"), {1, U::kDays})),
            "2026-07-03T22:59:59.999Z");
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-07-01T22:30:00Z"), {1, U::kDays})),
            "2026-07-02T22:59:59.999Z");
}

TEST(LondonTimeTest, WorkingDayAndMonthDeadlines) {
  const Calendar cal;
  using U = Period::Unit;
  // Maundy Thursday 2026 + 1 Working Day = Tuesday after Easter, end of day BST.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-04-02T10:00:00Z"), {1, U::kWorkingDays})),
            "2026-04-07T22:59:59.999Z");
  // 2026-12-23 + 3 Working Days = 30 December, end of day GMT.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-12-23T09:00:00Z"), {3, U::kWorkingDays})),
            "2026-12-30T23:59:59.999Z");
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-01-31T09:00:00Z"), {1, U::kMonths})),
            "2026-02-28T23:59:59.999Z");
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-01-31T09:00:00Z"), {0, U::kWorkingDays})),
            "2026-01-31T23:59:59.999Z");
}

TEST(LondonTimeTest, HoursAcrossTheClockChangeAreRealHours) {
  const Calendar cal;
  using U = Period::Unit;
  // 24 real hours across the spring change: the London clock moves on 25 hours.
  const Instant spring = cal.DueInstant(T("2026-03-28T12:00:00Z"), {24, U::kHours});
  EXPECT_EQ(FormatInstant(spring), "2026-03-29T12:00:00.000Z");
  EXPECT_EQ(Local(spring), "2026-03-29 13:00:00.000");
  // 24 real hours across the autumn change: the London clock moves on 23 hours.
  const Instant autumn = cal.DueInstant(T("2026-10-24T12:00:00Z"), {24, U::kHours});
  EXPECT_EQ(FormatInstant(autumn), "2026-10-25T12:00:00.000Z");
  EXPECT_EQ(Local(autumn), "2026-10-25 12:00:00.000");
  // Hours keep the trigger's milliseconds and ignore working days.
  EXPECT_EQ(FormatInstant(cal.DueInstant(T("2026-12-24T17:30:00.250Z"), {72, U::kHours})),
            "2026-12-27T17:30:00.250Z");
}

// Sets TZ=Europe/London for the test and restores the previous value afterwards.
class LondonTzDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("TZ")) saved_ = old;
    setenv("TZ", "Europe/London", 1);
    tzset();
    std::tm probe{};
    const std::time_t july = 1782900000;  // 2026-07-01, in summer time
    localtime_r(&july, &probe);
    if (probe.tm_gmtoff != 3600) GTEST_SKIP() << "no Europe/London zone in the system's tz data";
  }
  void TearDown() override {
    if (saved_) {
      setenv("TZ", saved_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  // Compares the rule with localtime_r at `t` (whole seconds); returns false on a mismatch.
  static bool Agrees(Instant t) {
    const std::time_t secs = std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
    std::tm tm{};
    localtime_r(&secs, &tm);
    char expected[40];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    const std::string got = Local(t).substr(0, 19);
    EXPECT_EQ(got, expected) << FormatInstant(t);
    EXPECT_EQ(IsBritishSummerTime(t), tm.tm_isdst > 0) << FormatInstant(t);
    EXPECT_EQ(LondonUtcOffset(t).count() * 60, tm.tm_gmtoff) << FormatInstant(t);
    const Date local_date{std::chrono::year(tm.tm_year + 1900),
                          std::chrono::month(static_cast<unsigned>(tm.tm_mon + 1)),
                          std::chrono::day(static_cast<unsigned>(tm.tm_mday))};
    EXPECT_EQ(LondonDate(t), local_date) << FormatInstant(t);
    return got == expected && IsBritishSummerTime(t) == (tm.tm_isdst > 0);
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(LondonTzDatabaseTest, RuleMatchesTzDataAtEveryHourBoundary1997To2037) {
  int checked = 0;
  for (Instant t = Instant(sys_days(D("1997-01-01"))); t < Instant(sys_days(D("2038-01-01")));
       t += hours(1)) {
    ASSERT_TRUE(Agrees(t));
    ASSERT_TRUE(Agrees(t - std::chrono::seconds(1)));
    checked += 2;
  }
  EXPECT_GT(checked, 700000);
}

TEST_F(LondonTzDatabaseTest, RuleMatchesTzDataAroundEveryClockChangeToMillisecondsFrom1996) {
  for (int y = 1996; y <= 2037; ++y) {
    for (unsigned month : {3u, 10u}) {
      const auto last_sunday = sys_days(
          std::chrono::year_month_weekday_last(std::chrono::year(y), std::chrono::month(month),
                                               std::chrono::weekday_last(std::chrono::Sunday)));
      const Instant change = Instant(last_sunday) + hours(1);
      SCOPED_TRACE(FormatInstant(change));
      EXPECT_EQ(IsBritishSummerTime(change - milliseconds(1)), month == 10);
      EXPECT_EQ(IsBritishSummerTime(change), month == 3);
      for (int h = -48; h <= 48; ++h) {
        ASSERT_TRUE(Agrees(change + hours(h)));
        ASSERT_TRUE(Agrees(change + hours(h) - std::chrono::seconds(1)));
      }
    }
  }
}

TEST_F(LondonTzDatabaseTest, StartAndEndOfEveryLondonDay1997To2037MatchTzData) {
  for (sys_days d = sys_days(D("1997-01-01")); d < sys_days(D("2038-01-01"));
       d += std::chrono::days(1)) {
    const Instant start = StartOfLondonDay(Date(d));
    const Instant end = EndOfLondonDay(Date(d));
    std::time_t s = std::chrono::floor<std::chrono::seconds>(start).time_since_epoch().count();
    std::time_t before = s - 1;
    std::time_t e = std::chrono::floor<std::chrono::seconds>(end).time_since_epoch().count();
    std::tm at_start{}, at_before{}, at_end{};
    localtime_r(&s, &at_start);
    localtime_r(&before, &at_before);
    localtime_r(&e, &at_end);
    ASSERT_EQ(at_start.tm_hour * 3600 + at_start.tm_min * 60 + at_start.tm_sec, 0)
        << FormatDate(Date(d));
    ASSERT_EQ(at_before.tm_hour * 3600 + at_before.tm_min * 60 + at_before.tm_sec, 86399)
        << FormatDate(Date(d));
    ASSERT_EQ(at_end.tm_hour * 3600 + at_end.tm_min * 60 + at_end.tm_sec, 86399)
        << FormatDate(Date(d));
    ASSERT_EQ(at_end.tm_mday, at_start.tm_mday) << FormatDate(Date(d));
    ASSERT_EQ((end - start + milliseconds(1)) % hours(1), milliseconds(0));
  }
}

}  // namespace
}  // namespace isms
