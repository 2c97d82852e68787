#include "core/patch_deadline.h"

#include <gtest/gtest.h>

namespace isms {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

Date D(int y, unsigned m, unsigned d) {
  return Date{year{y}, month{m}, day{d}};
}

class PatchDeadlineTest : public ::testing::Test {
 protected:
  Result<Date> Due(PatchDeadlineRequest r) { return PatchDueDate(calendar_, policy_, r); }
  PatchDeadlineRequest Req(Category c, Date released) {
    PatchDeadlineRequest r;
    r.category = c;
    r.released = released;
    return r;
  }

  Calendar calendar_;
  Policy policy_ = Policy::Defaults();
};

TEST_F(PatchDeadlineTest, TimescaleKeys) {
  EXPECT_EQ(PatchTimescaleKey(Category::kCritical), "patch_critical");
  EXPECT_EQ(PatchTimescaleKey(Category::kImportant), "patch_important");
  EXPECT_EQ(PatchTimescaleKey(Category::kOther), "patch_other");
}

TEST_F(PatchDeadlineTest, CriticalIs14CalendarDaysEvenOverEaster) {
  Result<Date> due = Due(Req(Category::kCritical, D(2026, 3, 20)));
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  EXPECT_EQ(*due, D(2026, 4, 3));  // Good Friday: calendar days do not skip holidays
}

TEST_F(PatchDeadlineTest, ImportantIs30CalendarDays) {
  Result<Date> due = Due(Req(Category::kImportant, D(2026, 1, 31)));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, D(2026, 3, 2));
}

TEST_F(PatchDeadlineTest, OtherIs60WorkingDaysOverChristmas) {
  // Skips 2025-12-25, 2025-12-26 and 2026-01-01.
  EXPECT_EQ(*Due(Req(Category::kOther, D(2025, 11, 3))), D(2026, 1, 29));
  // Christmas 2022 with substitute days 2022-12-26/27 and 2023-01-02.
  EXPECT_EQ(*Due(Req(Category::kOther, D(2022, 12, 23))), D(2023, 3, 22));
}

TEST_F(PatchDeadlineTest, OtherIs60WorkingDaysOverEaster) {
  // Skips Good Friday 2026-04-03, Easter Monday 2026-04-06 and 2026-05-04.
  EXPECT_EQ(*Due(Req(Category::kOther, D(2026, 2, 20))), D(2026, 5, 20));
}

TEST_F(PatchDeadlineTest, OtherSkipsOneOffHolidays) {
  // 2022-08-29 and the state funeral 2022-09-19.
  EXPECT_EQ(*Due(Req(Category::kOther, D(2022, 8, 1))), D(2022, 10, 26));
  // The Platinum Jubilee 2022-06-02/03.
  EXPECT_EQ(*Due(Req(Category::kOther, D(2022, 5, 20))), D(2022, 8, 16));
}

TEST_F(PatchDeadlineTest, TimescalesComeFromThePolicy) {
  ASSERT_TRUE(policy_.SetPeriod("patch_critical", Period{7, Period::Unit::kDays}).ok());
  EXPECT_EQ(*Due(Req(Category::kCritical, D(2026, 3, 20))), D(2026, 3, 27));
  ASSERT_TRUE(policy_.SetPeriod("patch_important", Period{1, Period::Unit::kMonths}).ok());
  EXPECT_EQ(*Due(Req(Category::kImportant, D(2026, 1, 31))), D(2026, 2, 28));
}

TEST_F(PatchDeadlineTest, ExtensionAddsFiveDaysToCriticalAndImportant) {
  PatchDeadlineRequest r = Req(Category::kCritical, D(2026, 3, 20));
  r.extension = true;
  EXPECT_EQ(*Due(r), D(2026, 4, 8));
  r = Req(Category::kImportant, D(2026, 1, 31));
  r.extension = true;
  EXPECT_EQ(*Due(r), D(2026, 3, 7));
}

TEST_F(PatchDeadlineTest, ExtensionComesFromThePolicy) {
  ASSERT_TRUE(policy_.SetPeriod("patch_extension", Period{3, Period::Unit::kWorkingDays}).ok());
  PatchDeadlineRequest r = Req(Category::kCritical, D(2026, 3, 20));
  r.extension = true;
  EXPECT_EQ(*Due(r), D(2026, 4, 9));  // 04-03 + 3 WD skipping 04-06 Easter Monday
}

TEST_F(PatchDeadlineTest, ExtensionForOtherIsRefused) {
  PatchDeadlineRequest r = Req(Category::kOther, D(2026, 3, 20));
  r.extension = true;
  Result<Date> due = Due(r);
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(due.status().message(),
            "9.3.2 extension applies only to Critical and Important vulnerabilities");
}

TEST_F(PatchDeadlineTest, AgreedDaysReplaceTheTimescale) {
  for (Category c : {Category::kCritical, Category::kImportant, Category::kOther}) {
    PatchDeadlineRequest r = Req(c, D(2026, 1, 1));
    r.agreed_days = 90;
    EXPECT_EQ(*Due(r), D(2026, 4, 1)) << CategoryName(c);
  }
  PatchDeadlineRequest r = Req(Category::kCritical, D(2026, 1, 1));
  r.agreed_days = 0;
  EXPECT_EQ(*Due(r), D(2026, 1, 1));
}

TEST_F(PatchDeadlineTest, AgreedDateReplacesTheTimescale) {
  PatchDeadlineRequest r = Req(Category::kCritical, D(2026, 1, 1));
  r.agreed_until = D(2026, 6, 30);
  EXPECT_EQ(*Due(r), D(2026, 6, 30));
  r.agreed_until = D(2026, 1, 1);
  EXPECT_EQ(*Due(r), D(2026, 1, 1));
}

TEST_F(PatchDeadlineTest, ExtensionWithAgreedPeriodIsRefused) {
  PatchDeadlineRequest r = Req(Category::kImportant, D(2026, 1, 1));
  r.extension = true;
  r.agreed_days = 45;
  Result<Date> due = Due(r);
  ASSERT_FALSE(due.ok());
  EXPECT_NE(due.status().message().find("cannot be combined"), std::string::npos);
  r.agreed_days.reset();
  r.agreed_until = D(2026, 3, 1);
  EXPECT_FALSE(Due(r).ok());
}

TEST_F(PatchDeadlineTest, InvalidAgreements) {
  PatchDeadlineRequest r = Req(Category::kOther, D(2026, 1, 10));
  r.agreed_days = 10;
  r.agreed_until = D(2026, 2, 1);
  EXPECT_FALSE(Due(r).ok());

  r = Req(Category::kOther, D(2026, 1, 10));
  r.agreed_days = -1;
  EXPECT_FALSE(Due(r).ok());
  r.agreed_days = kMaxPeriodAmount + 1;
  EXPECT_FALSE(Due(r).ok());

  r = Req(Category::kOther, D(2026, 1, 10));
  r.agreed_until = D(2026, 1, 9);
  Result<Date> due = Due(r);
  ASSERT_FALSE(due.ok());
  EXPECT_NE(due.status().message().find("before the patch release 2026-01-10"), std::string::npos);

  r.agreed_until = D(2026, 2, 30);
  EXPECT_FALSE(Due(r).ok());
}

TEST_F(PatchDeadlineTest, InvalidReleaseDate) {
  EXPECT_FALSE(Due(Req(Category::kCritical, D(2026, 2, 29))).ok());
}

TEST_F(PatchDeadlineTest, HoursInPolicyAreRefused) {
  for (Timescale& t : policy_.timescales) {
    if (t.key == "patch_critical") t.period = Period{48, Period::Unit::kHours};
  }
  EXPECT_FALSE(Due(Req(Category::kCritical, D(2026, 1, 1))).ok());
}

TEST_F(PatchDeadlineTest, MissingTimescaleIsAnError) {
  std::erase_if(policy_.timescales, [](const Timescale& t) { return t.key == "patch_other"; });
  Result<Date> due = Due(Req(Category::kOther, D(2026, 1, 1)));
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace isms
