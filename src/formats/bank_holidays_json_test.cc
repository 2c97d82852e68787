#include "formats/bank_holidays_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "isms_test_paths.h"

namespace isms {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Date D(const char* text) {
  return ParseDate(text).value();
}

std::vector<std::string> Dates(const std::vector<Holiday>& list) {
  std::vector<std::string> out;
  for (const Holiday& h : list) out.push_back(FormatDate(h.date));
  return out;
}

const std::string kFeedDir =
    std::string(ISMS_SHARED_TESTDATA) + "/uk-bank-holidays/dmossop-bank-holidays-data";
const std::string kFeed2019To2027 = kFeedDir + "/0b1a5772/bank-holidays.json";
const std::string kFeed2024To2027 = kFeedDir + "/53da110d/bank-holidays.json";

// A small feed in GOV.UK's shape, written for these tests.
constexpr char kSmallFeed[] = R"({
  "england-and-wales": {
    "division": "england-and-wales",
    "events": [
      {"title": "Boxing Day", "date": "2026-12-28", "notes": "Substitute day", "bunting": true},
      {"title": "New Year\u2019s Day", "date": "2026-01-01", "notes": "", "bunting": true},
      {"title": "Christmas Day", "date": "2026-12-25", "notes": "", "bunting": true},
      {"title": "New Year\u2019s Day", "date": "2027-01-01", "notes": "", "bunting": true}
    ]
  },
  "scotland": {
    "division": "scotland",
    "events": [{"title": "St Andrew\u2019s Day", "date": "2026-11-30", "notes": "", "bunting": true}]
  },
  "northern-ireland": {"division": "northern-ireland", "events": []}
})";

// The England and Wales division with `events` as its events array.
std::string FeedWithEvents(const std::string& events) {
  return R"({"england-and-wales": {"division": "england-and-wales", "events": )" + events + "}}";
}

std::string ErrorOf(std::string_view json) {
  Result<OfficialHolidays> r = ParseBankHolidaysJson(json, "feed.json");
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(BankHolidaysJsonTest, ReadsEnglandAndWalesGroupedByYearInDateOrder) {
  Result<OfficialHolidays> r = ParseBankHolidaysJson(kSmallFeed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(Dates(r->at(2026)),
            (std::vector<std::string>{"2026-01-01", "2026-12-25", "2026-12-28"}));
  EXPECT_EQ(Dates(r->at(2027)), (std::vector<std::string>{"2027-01-01"}));
}

TEST(BankHolidaysJsonTest, NamesAreTheTitleWithNotesInBracketsAndKeepGovUkPunctuation) {
  Result<OfficialHolidays> r = ParseBankHolidaysJson(kSmallFeed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(2026)[0].name, "New Year\u2019s Day");  // UTF-8 right single quotation mark
  EXPECT_EQ(r->at(2026)[1].name, "Christmas Day");
  EXPECT_EQ(r->at(2026)[2].name, "Boxing Day (Substitute day)");
}

TEST(BankHolidaysJsonTest, OtherDivisionsAreIgnored) {
  Result<OfficialHolidays> r = ParseBankHolidaysJson(kSmallFeed);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& [year, list] : *r) {
    for (const Holiday& h : list) EXPECT_NE(h.date, D("2026-11-30"));
  }
  Result<OfficialHolidays> only_ew =
      ParseBankHolidaysJson(FeedWithEvents(R"([{"title": "Good Friday", "date": "2026-04-03"}])"));
  ASSERT_TRUE(only_ew.ok()) << only_ew.status().ToString();
  EXPECT_EQ(only_ew->at(2026).size(), 1u);  // notes and bunting may be absent
}

TEST(BankHolidaysJsonTest, NullNotesAreNoNotes) {
  Result<OfficialHolidays> r = ParseBankHolidaysJson(
      FeedWithEvents(R"([{"title": "Good Friday", "date": "2026-04-03", "notes": null}])"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(2026)[0].name, "Good Friday");
}

TEST(BankHolidaysJsonTest, LoadedFeedOverridesTheRuleForItsYears) {
  // The feed drops the spring bank holiday of 2026 and adds 5 June.
  Result<OfficialHolidays> r = ParseBankHolidaysJson(FeedWithEvents(R"([
    {"title": "New Year’s Day", "date": "2026-01-01"},
    {"title": "Good Friday", "date": "2026-04-03"},
    {"title": "Easter Monday", "date": "2026-04-06"},
    {"title": "Early May bank holiday", "date": "2026-05-04"},
    {"title": "Extra bank holiday", "date": "2026-06-05"},
    {"title": "Summer bank holiday", "date": "2026-08-31"},
    {"title": "Christmas Day", "date": "2026-12-25"},
    {"title": "Boxing Day", "date": "2026-12-28", "notes": "Substitute day"}
  ])"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Calendar cal(*r);
  EXPECT_TRUE(cal.IsWorkingDay(D("2026-05-25")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2026-06-05")));
  EXPECT_FALSE(cal.IsWorkingDay(D("2027-05-31")));  // 2027 not in the feed: rule
  EXPECT_EQ(cal.AddWorkingDays(D("2026-06-04"), 1), D("2026-06-08"));
}

TEST(BankHolidaysJsonTest, SyntaxErrorNamesTheSourceAndTheByteOffset) {
  // nlohmann::json counts bytes from 1: byte 35 is the '}' that cannot start a value.
  const std::string message = ErrorOf(R"({"england-and-wales": {"events": [}})");
  EXPECT_THAT(message, StartsWith("feed.json: JSON syntax error at byte 35"));
  EXPECT_THAT(message, HasSubstr("https://www.gov.uk/bank-holidays.json"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("[json.exception")));
}

TEST(BankHolidaysJsonTest, TruncatedAndEmptyInputsAreSyntaxErrors) {
  EXPECT_THAT(ErrorOf(R"({"england-and-wales": {)"), HasSubstr("JSON syntax error at byte 24"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("JSON syntax error at byte 1"));
  EXPECT_THAT(ErrorOf("<html>Service unavailable</html>"),
              HasSubstr("JSON syntax error at byte 1"));
}

TEST(BankHolidaysJsonTest, TopLevelMustBeAnObject) {
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("the top level is a JSON array, not an object"));
  EXPECT_THAT(ErrorOf("null"), HasSubstr("the top level is a JSON null"));
}

TEST(BankHolidaysJsonTest, MissingEnglandAndWalesDivisionIsAClearError) {
  const std::string message = ErrorOf(R"({"scotland": {"division": "scotland", "events": []},
                                          "northern-ireland": {"events": []}})");
  EXPECT_THAT(message, StartsWith("feed.json: no \"england-and-wales\" division"));
  EXPECT_THAT(message, HasSubstr("found \"northern-ireland\", \"scotland\""));
  EXPECT_THAT(ErrorOf("{}"), HasSubstr("found none"));
}

TEST(BankHolidaysJsonTest, DivisionMustBeAnObjectWithItsOwnNameAndAnEventsArray) {
  EXPECT_THAT(ErrorOf(R"({"england-and-wales": []})"),
              HasSubstr("\"england-and-wales\" is a JSON array, not an object"));
  EXPECT_THAT(ErrorOf(R"({"england-and-wales": {"division": "scotland", "events": []}})"),
              HasSubstr("says \"division\": \"scotland\"; it must be \"england-and-wales\""));
  EXPECT_THAT(ErrorOf(R"({"england-and-wales": {"division": "england-and-wales"}})"),
              HasSubstr("has no \"events\" array"));
  EXPECT_THAT(ErrorOf(R"({"england-and-wales": {"events": {}}})"),
              HasSubstr("has no \"events\" array"));
  EXPECT_THAT(ErrorOf(FeedWithEvents("[]")), HasSubstr("lists no events, so it covers no year"));
}

TEST(BankHolidaysJsonTest, MalformedDateNamesTheEventIndexAndTheValue) {
  const std::string message = ErrorOf(FeedWithEvents(R"([
    {"title": "Good Friday", "date": "2026-04-03"},
    {"title": "Easter Monday", "date": "2026-13-06"}])"));
  EXPECT_THAT(message, StartsWith("feed.json: england-and-wales event 1 (events[1])"));
  EXPECT_THAT(message, HasSubstr("malformed \"date\" \"2026-13-06\""));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"title": "X", "date": "2026-02-30"}])")),
              HasSubstr("event 0 (events[0]) has a malformed \"date\" \"2026-02-30\""));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"title": "X", "date": "03/04/2026"}])")),
              HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"title": "X", "date": "2026-04-03T00:00:00Z"}])")),
              HasSubstr("malformed \"date\" \"2026-04-03T00:00:00Z\""));
}

TEST(BankHolidaysJsonTest, EventsNeedAnObjectADateStringAndATitle) {
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"(["2026-04-03"])")),
              HasSubstr("event 0 (events[0]) is a JSON string, not an object"));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"title": "Good Friday"}])")),
              HasSubstr("event 0 (events[0]) has no \"date\""));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"title": "Good Friday", "date": 20260403}])")),
              HasSubstr("has \"date\": 20260403, not a string"));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"date": "2026-04-03"}])")),
              HasSubstr("event 0 (events[0]) (2026-04-03) has no \"title\" string"));
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([{"title": "Good Friday", "date": "2026-04-03",
                                          "notes": 7}])")),
              HasSubstr("has \"notes\": 7, not a string"));
}

TEST(BankHolidaysJsonTest, DuplicateDatesAreAnError) {
  EXPECT_THAT(ErrorOf(FeedWithEvents(R"([
    {"title": "Christmas Day", "date": "2026-12-25"},
    {"title": "Boxing Day", "date": "2026-12-28"},
    {"title": "Christmas Day", "date": "2026-12-25"}])")),
              HasSubstr("events 0 and 2 have the same date 2026-12-25"));
}

TEST(BankHolidaysJsonTest, MissingFileIsAnIoErrorNamingThePath) {
  Result<OfficialHolidays> r = LoadBankHolidaysJsonFile("/nonexistent/bank-holidays.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(), StartsWith("/nonexistent/bank-holidays.json: cannot open"));
  EXPECT_THAT(r.status().message(), HasSubstr("No such file or directory"));
}

TEST(BankHolidaysJsonTest, ErrorsFromAFileStartWithItsPath) {
  const std::string path = ::testing::TempDir() + "/isms_bank_holidays_bad.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"england-and-wales": {"events": [,]}})";
  }
  Result<OfficialHolidays> r = LoadBankHolidaysJsonFile(path);
  std::remove(path.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith(path + ": JSON syntax error at byte 35"));
}

TEST(BankHolidaysJsonTest, LoadsAFile) {
  const std::string path = ::testing::TempDir() + "/isms_bank_holidays_good.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << kSmallFeed;
  }
  Result<OfficialHolidays> r = LoadBankHolidaysJsonFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 2u);
}

TEST(BankHolidaysJsonSharedDataTest, GovUkFeed2019To2027MatchesTheRuleDayForDay) {
  if (!std::ifstream(kFeed2019To2027)) {
    GTEST_SKIP() << "shared test data not found at " << kFeed2019To2027;
  }
  Result<OfficialHolidays> r = LoadBankHolidaysJsonFile(kFeed2019To2027);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<int> years;
  size_t events = 0;
  for (const auto& [year, list] : *r) {
    years.insert(year);
    events += list.size();
    EXPECT_EQ(Dates(list), Dates(RuleHolidays(year))) << year;
  }
  EXPECT_EQ(years, (std::set<int>{2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027}));
  EXPECT_EQ(events, 75u);
  EXPECT_EQ(r->at(2019).front().name, "New Year\u2019s Day");
  EXPECT_EQ(r->at(2022).back().name, "Christmas Day (Substitute day)");
  EXPECT_EQ(r->at(2022)[7].name, "Bank Holiday for the State Funeral of Queen Elizabeth II");
}

TEST(BankHolidaysJsonSharedDataTest, LaterFeed2024To2027IsASubsetOfTheEarlierOne) {
  if (!std::ifstream(kFeed2024To2027) || !std::ifstream(kFeed2019To2027)) {
    GTEST_SKIP() << "shared test data not found at " << kFeedDir;
  }
  Result<OfficialHolidays> later = LoadBankHolidaysJsonFile(kFeed2024To2027);
  Result<OfficialHolidays> earlier = LoadBankHolidaysJsonFile(kFeed2019To2027);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  ASSERT_TRUE(earlier.ok()) << earlier.status().ToString();
  ASSERT_EQ(later->size(), 4u);
  size_t events = 0;
  for (const auto& [year, list] : *later) {
    events += list.size();
    EXPECT_EQ(list, earlier->at(year)) << year;
    EXPECT_EQ(Dates(list), Dates(RuleHolidays(year))) << year;
  }
  EXPECT_EQ(events, 32u);
}

TEST(BankHolidaysJsonSharedDataTest, CalendarFromTheFeedAgreesWithTheRuleCalendarEveryDay) {
  if (!std::ifstream(kFeed2019To2027)) {
    GTEST_SKIP() << "shared test data not found at " << kFeed2019To2027;
  }
  Result<OfficialHolidays> r = LoadBankHolidaysJsonFile(kFeed2019To2027);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Calendar official(*r);
  const Calendar rules;
  EXPECT_EQ(official.official().size(), 9u);
  for (auto d = std::chrono::sys_days(D("2018-01-01")); d <= std::chrono::sys_days(D("2028-12-31"));
       d += std::chrono::days(1)) {
    ASSERT_EQ(official.IsWorkingDay(Date(d)), rules.IsWorkingDay(Date(d))) << FormatDate(Date(d));
  }
  EXPECT_EQ(official.AddWorkingDays(D("2026-12-23"), 3), D("2026-12-30"));
  EXPECT_EQ(official.AddWorkingDays(D("2022-09-16"), 1), D("2022-09-20"));  // State Funeral
}

}  // namespace
}  // namespace isms
