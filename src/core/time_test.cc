#include "core/time.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace isms {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

TEST(ParseDate, AcceptsIsoCalendarDates) {
  Result<Date> d = ParseDate("2026-03-31");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(*d, (Date{year(2026), month(3), day(31)}));
  EXPECT_TRUE(ParseDate("2024-02-29").ok());
}

TEST(ParseDate, RefusesImpossibleDaysNamingTheValue) {
  Result<Date> d = ParseDate("2026-02-29");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("'2026-02-29'"), std::string::npos);
  EXPECT_FALSE(ParseDate("2026-13-01").ok());
  EXPECT_FALSE(ParseDate("2026-00-10").ok());
  EXPECT_FALSE(ParseDate("2026-04-31").ok());
  EXPECT_EQ(ParseDate("0999-01-01").status().message(),
            "'0999-01-01' is out of range: years run from 1000 to 9999");
}

TEST(ParseDate, RefusesOtherFormsAndSaysWhichFormToUse) {
  for (const char* bad : {"", "2026-3-31", "31/03/2026", "2026-03-31T00:00:00Z", "2026-03-31 ",
                          "20260331", "２０２６-03-31"}) {
    Result<Date> d = ParseDate(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find("YYYY-MM-DD"), std::string::npos) << bad;
  }
}

TEST(FormatDate, PadsToTheIsoForm) {
  EXPECT_EQ(FormatDate(Date{year(2026), month(1), day(5)}), "2026-01-05");
}

// Every day of the years 0-2200 and 9990-9999, and years beyond four digits, as printf's
// "%04d-%02u-%02u" writes them.
TEST(FormatDate, WritesEveryDayAsPrintfDoes) {
  auto printf_form = [](Date d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return std::string(buf);
  };
  for (auto [from, to] : {std::pair{0, 2200}, std::pair{9990, 9999}}) {
    for (std::chrono::sys_days t{Date{year(from), month(1), day(1)}};
         t <= std::chrono::sys_days{Date{year(to), month(12), day(31)}}; t += std::chrono::days(1)) {
      const Date d{t};
      ASSERT_EQ(FormatDate(d), printf_form(d));
    }
  }
  for (int y : {-1, -2026, 10000, 32767}) {
    const Date d{year(y), month(2), day(28)};
    EXPECT_EQ(FormatDate(d), printf_form(d)) << y;
  }
}

TEST(ParseInstant, ReadsUtcAndOffsets) {
  Result<Instant> z = ParseInstant("2026-03-29T00:59:59.999Z");
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(FormatInstant(*z), "2026-03-29T00:59:59.999Z");
  Result<Instant> bst = ParseInstant("2026-07-01T12:00:00+01:00");
  ASSERT_TRUE(bst.ok());
  EXPECT_EQ(FormatInstant(*bst), "2026-07-01T11:00:00.000Z");
  Result<Instant> west = ParseInstant("2026-07-01t23:30:00-02:30");
  ASSERT_TRUE(west.ok());
  EXPECT_EQ(FormatInstant(*west), "2026-07-02T02:00:00.000Z");
  Result<Instant> space = ParseInstant("2026-07-01 12:00:00.5z");
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(FormatInstant(*space), "2026-07-01T12:00:00.500Z");
}

TEST(ParseInstant, TruncatesBelowAMillisecond) {
  Result<Instant> t = ParseInstant("2026-07-01T12:00:00.123999Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatInstant(*t), "2026-07-01T12:00:00.123Z");
}

TEST(ParseInstant, ReadsFractionsOfAnyLengthAsWholeMilliseconds) {
  // One digit is tenths, two hundredths, three milliseconds; any further digits are dropped.
  const std::string digits = "987654321098";
  const char* expected[] = {"900", "980", "987"};
  for (size_t n = 1; n <= digits.size(); ++n) {
    const std::string text = "2026-07-01T12:00:00." + digits.substr(0, n) + "+01:00";
    Result<Instant> t = ParseInstant(text);
    ASSERT_TRUE(t.ok()) << text;
    EXPECT_EQ(FormatInstant(*t),
              "2026-07-01T11:00:00." + std::string(expected[std::min<size_t>(n, 3) - 1]) + "Z")
        << text;
  }
  EXPECT_EQ(FormatInstant(*ParseInstant("2026-07-01T12:00:00.000999Z")),
            "2026-07-01T12:00:00.000Z");
  EXPECT_EQ(FormatInstant(*ParseInstant("2026-07-01T12:00:00.05Z")), "2026-07-01T12:00:00.050Z");
}

// What ReadInstant reads, written back by FormatInstant (std::chrono's arithmetic), or "" where
// it refuses; ParseInstant, which wraps it, agrees.
TEST(ReadInstant, ReadsWhatRfc3339AllowsAndRefusesTheRest) {
  const std::pair<const char*, const char*> cases[] = {
      {"2026-03-29T00:59:59.999Z", "2026-03-29T00:59:59.999Z"},
      {"2026-07-01T12:00:00+01:00", "2026-07-01T11:00:00.000Z"},
      {"2026-07-01t23:30:00-02:30", "2026-07-02T02:00:00.000Z"},
      {"2026-07-01 12:00:00.5z", "2026-07-01T12:00:00.500Z"},
      {"2026-07-01T12:00:00.123999Z", "2026-07-01T12:00:00.123Z"},
      {"2026-12-31T23:59:60Z", "2026-12-31T23:59:59.000Z"},
      {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"},
      {"1000-01-01T00:00:00Z", "1000-01-01T00:00:00.000Z"},
      {"9999-12-31T23:59:59.999-23:59", "10000-01-01T23:58:59.999Z"},
      {"2026-07-01T12:00:00", ""},
      {"2026-07-01", ""},
      {"2026-07-01T24:00:00Z", ""},
      {"2026-07-01T12:60:00Z", ""},
      {"2026-07-01T12:00:00+1:00", ""},
      {"2026-07-01T12:00:00.Z", ""},
      {"2026-07-01T12:00:00Zjunk", ""},
      {"0999-07-01T12:00:00Z", ""},
      {"2026-02-29T12:00:00Z", ""},
      {"2026-02-30T12:00:00Z", ""},
      {"2026-13-01T12:00:00Z", ""},
      {"2026-00-01T12:00:00Z", ""},
      {"2026-07-00T12:00:00Z", ""},
      {"2026-07-01X12:00:00Z", ""},
      {"2026-07-01T12:00:00+24:00", ""},
      {"2026-07-01T12:00:00+01:60", ""},
      {"2026-07-01T12:00:00+01:00x", ""},
      {"2026-07-01T12:00:00+01", ""},
      {"2026-07-01T12:00:00.1", ""},
      {"", ""}};
  for (const auto& [text, expected] : cases) {
    Instant t{};
    const bool read = ReadInstant(text, &t);
    EXPECT_EQ(read ? FormatInstant(t) : "", expected) << text;
    const Result<Instant> parsed = ParseInstant(text);
    ASSERT_EQ(parsed.ok(), read) << text;
    if (read) {
      EXPECT_EQ(*parsed, t) << text;
    }
  }
}

TEST(CivilDays, AgreesWithTheLibraryOnEveryDayOfYears0To9999AndRefusesTheRest) {
  using namespace std::chrono;
  int valid = 0;
  for (int y = 0; y <= 9999; ++y) {
    for (int m = 0; m <= 13; ++m) {
      for (int d = 0; d <= 32; ++d) {
        const year_month_day ymd{year(y), month(static_cast<unsigned>(m)),
                                 day(static_cast<unsigned>(d))};
        const std::optional<std::int64_t> days = CivilDays(y, m, d);
        if (!ymd.ok()) {
          ASSERT_FALSE(days.has_value()) << y << "-" << m << "-" << d;
          continue;
        }
        ASSERT_TRUE(days.has_value()) << y << "-" << m << "-" << d;
        ASSERT_EQ(*days, sys_days(ymd).time_since_epoch().count()) << y << "-" << m << "-" << d;
        ++valid;
      }
    }
  }
  EXPECT_EQ(valid, 3652425);  // 10,000 Gregorian years
  EXPECT_FALSE(CivilDays(-1, 1, 1).has_value());
}

TEST(ReadInstant, ReadsBackWhatFormatInstantWritesFromYear1000To9999) {
  using namespace std::chrono;
  const Instant first = sys_days(year(1000) / 1 / 1);
  const Instant last = sys_days(year(9999) / 12 / 31) + hours(23) + minutes(59) + seconds(59);
  int checked = 0;
  for (Instant t = first; t <= last; t += hours(1009) + minutes(17) + milliseconds(5)) {
    Instant back{};
    const std::string text = FormatInstant(t);
    ASSERT_TRUE(ReadInstant(text, &back)) << text;
    ASSERT_EQ(back, t) << text;
    // The same instant an hour east of UTC.
    const Instant local = t + hours(1);
    std::string local_text = FormatInstant(local);
    local_text.pop_back();
    ASSERT_TRUE(ReadInstant(local_text + "+01:00", &back)) << local_text;
    ASSERT_EQ(back, t) << local_text;
    ++checked;
  }
  EXPECT_GT(checked, 75000);
}

TEST(ParseInstant, NamesTheDateWhenTheDateIsWrong) {
  EXPECT_NE(ParseInstant("2026-02-30T12:00:00Z").status().message().find("not a calendar date"),
            std::string::npos);
  EXPECT_NE(ParseInstant("0999-07-01T12:00:00Z").status().message().find("out of range"),
            std::string::npos);
  EXPECT_NE(ParseInstant("2026-07-01T25:00:00Z").status().message().find("RFC 3339"),
            std::string::npos);
}

TEST(ParseInstant, RefusesInstantsWithoutAZoneOrOutOfRange) {
  for (const char* bad :
       {"2026-07-01T12:00:00", "2026-07-01", "2026-07-01T24:00:00Z", "2026-07-01T12:60:00Z",
        "2026-07-01T12:00:00+1:00", "2026-07-01T12:00:00.Z", "2026-07-01T12:00:00Zjunk"}) {
    Result<Instant> t = ParseInstant(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("RFC 3339"), std::string::npos) << bad;
  }
}

TEST(FixedClock, SaysWhatItWasSet) {
  Instant t = *ParseInstant("2026-11-28T22:00:00Z");
  FixedClock clock(t);
  EXPECT_EQ(clock.Now(), t);
  clock.Set(t + std::chrono::hours(1));
  EXPECT_EQ(FormatInstant(clock.Now()), "2026-11-28T23:00:00.000Z");
}

TEST(Status, CarriesCodeMessageAndContext) {
  Status s = Status::InvalidArgument("metric AV has no value 'Q'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "invalid argument: metric AV has no value 'Q'");
  EXPECT_EQ(s.WithContext("line 3").message(), "line 3: metric AV has no value 'Q'");
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().WithContext("x"), Status::Ok());
}

Result<int> Half(int n) {
  if (n % 2) return Status::InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  ISMS_ASSIGN_OR_RETURN(int h, Half(n));
  return Half(h);
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "3 is odd");
  EXPECT_EQ(Quarter(5).status().message(), "5 is odd");
}

}  // namespace
}  // namespace isms
