#include "core/calendar.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace isms {

namespace calendar_internal {

// Bit i of each map is day first_day + i (days since 1970-01-01). The maps always hold whole
// words: every bit stands for a real day, so scans never meet padding.
struct DayMaps {
  std::int64_t first_day = 0;
  std::int64_t num_days = 0;           // a multiple of 64
  std::vector<std::uint64_t> working;  // 1 = working day
  std::vector<std::uint64_t> holiday;  // 1 = listed day off
};

}  // namespace calendar_internal

namespace {

using calendar_internal::DayMaps;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::weekday;
using std::chrono::year;

constexpr int kFirstMapYear = 1990;
constexpr int kLastMapYear = 2110;

constexpr std::string_view kSubstitute = " (substitute day)";

std::int64_t DayNumber(Date d) {
  return ToDays(d).time_since_epoch().count();
}
Date DateOfDay(std::int64_t n) {
  return FromDays(sys_days(days(n)));
}
int YearOf(Date d) {
  return static_cast<int>(d.year());
}

bool IsWeekend(sys_days d) {
  weekday w(d);
  return w == std::chrono::Saturday || w == std::chrono::Sunday;
}

Date Ymd(int y, unsigned m, unsigned d) {
  return Date{year(y), std::chrono::month(m), std::chrono::day(d)};
}

Date FirstMonday(int y, unsigned m) {
  return Date(sys_days(
      std::chrono::year_month_weekday{year(y) / std::chrono::month(m) / std::chrono::Monday[1]}));
}

Date LastWeekday(int y, unsigned m, weekday w) {
  return Date(sys_days(std::chrono::year_month_weekday_last{year(y), std::chrono::month(m),
                                                            std::chrono::weekday_last(w)}));
}

bool Contains(const std::vector<Holiday>& list, Date d) {
  return std::any_of(list.begin(), list.end(), [&](const Holiday& h) { return h.date == d; });
}

// Holidays that fall on a fixed date of the year: where the date is a Saturday or Sunday, the
// day off is the next weekday that is not already a day off. Days that fall on weekdays are
// placed first, so that with Christmas on a Sunday, Boxing Day keeps Monday 26 and Christmas
// moves to Tuesday 27.
void AddFixedDateHolidays(std::vector<Holiday>& out,
                          const std::vector<std::pair<Date, std::string>>& fixed) {
  for (const auto& [date, name] : fixed) {
    if (!IsWeekend(sys_days(date))) out.push_back({date, name});
  }
  for (const auto& [date, name] : fixed) {
    if (!IsWeekend(sys_days(date))) continue;
    sys_days d = sys_days(date);
    while (IsWeekend(d) || Contains(out, Date(d))) d += days(1);
    out.push_back({Date(d), name + std::string(kSubstitute)});
  }
}

struct OneOff {
  int y;
  unsigned m;
  unsigned d;
  const char* name;
};

constexpr OneOff kOneOffDays[] = {
    {1977, 6, 7, "Silver Jubilee bank holiday"},
    {1981, 7, 29, "Royal Wedding bank holiday"},
    {1999, 12, 31, "Millennium Celebrations bank holiday"},
    {2002, 6, 3, "Golden Jubilee bank holiday"},
    {2011, 4, 29, "Royal Wedding bank holiday"},
    {2012, 6, 5, "Diamond Jubilee bank holiday"},
    {2022, 6, 3, "Platinum Jubilee bank holiday"},
    {2022, 9, 19, "Bank Holiday for the State Funeral of Queen Elizabeth II"},
    {2023, 5, 8, "Bank holiday for the coronation of King Charles III"},
};

Date EarlyMay(int y) {
  if (y == 1995) return Ymd(1995, 5, 8);  // moved for the 50th anniversary of VE day
  if (y == 2020) return Ymd(2020, 5, 8);  // moved for the 75th anniversary of VE day
  return FirstMonday(y, 5);
}

Date SpringBankHoliday(int y) {
  switch (y) {
    case 2002: return Ymd(2002, 6, 4);  // Golden Jubilee
    case 2012: return Ymd(2012, 6, 4);  // Diamond Jubilee
    case 2022: return Ymd(2022, 6, 2);  // Platinum Jubilee
    default: return LastWeekday(y, 5, std::chrono::Monday);
  }
}

void SetBit(std::vector<std::uint64_t>& v, std::int64_t i, bool on) {
  const std::uint64_t bit = std::uint64_t{1} << (i % 64);
  if (on) {
    v[static_cast<size_t>(i / 64)] |= bit;
  } else {
    v[static_cast<size_t>(i / 64)] &= ~bit;
  }
}

void MarkHoliday(DayMaps& m, Date d, bool on) {
  const std::int64_t i = DayNumber(d) - m.first_day;
  if (i < 0 || i >= m.num_days) return;
  SetBit(m.holiday, i, on);
  SetBit(m.working, i, !on && !IsWeekend(sys_days(d)));
}

// Rule-only maps from 1 January of `first_year`, covering at least to 31 December of
// `last_year`, rounded up to whole words.
DayMaps BuildRuleMaps(int first_year, int last_year) {
  DayMaps m;
  m.first_day = DayNumber(Ymd(first_year, 1, 1));
  const std::int64_t end = DayNumber(Ymd(last_year + 1, 1, 1));
  const std::int64_t words = (end - m.first_day + 63) / 64;
  m.num_days = words * 64;
  m.working.assign(static_cast<size_t>(words), 0);
  m.holiday.assign(static_cast<size_t>(words), 0);
  for (std::int64_t i = 0; i < m.num_days; ++i) {
    SetBit(m.working, i, !IsWeekend(sys_days(days(m.first_day + i))));
  }
  const int last_mapped_year = YearOf(DateOfDay(m.first_day + m.num_days - 1));
  for (int y = first_year; y <= last_mapped_year; ++y) {
    for (const Holiday& h : RuleHolidays(y)) MarkHoliday(m, h.date, true);
  }
  return m;
}

const std::shared_ptr<const DayMaps>& SharedRuleMaps() {
  static const std::shared_ptr<const DayMaps> maps =
      std::make_shared<const DayMaps>(BuildRuleMaps(kFirstMapYear, kLastMapYear));
  return maps;
}

std::uint64_t BitsFrom(unsigned b) {
  return ~std::uint64_t{0} << b;
}  // bits b..63
std::uint64_t BitsUpTo(unsigned b) {  // bits 0..b
  return b == 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (b + 1)) - 1;
}

// Position of the k-th (k >= 1) lowest set bit; bits has at least k set bits.
int NthLowestBit(std::uint64_t bits, int k) {
  for (int i = 1; i < k; ++i) bits &= bits - 1;
  return std::countr_zero(bits);
}

// Position of the k-th (k >= 1) highest set bit; bits has at least k set bits.
int NthHighestBit(std::uint64_t bits, int k) {
  for (int i = 1; i < k; ++i) bits &= ~(std::uint64_t{1} << (63 - std::countl_zero(bits)));
  return 63 - std::countl_zero(bits);
}

// Working days by rule for dates outside the bitmap, one year's list at a time.
class YearByYear {
 public:
  explicit YearByYear(const Calendar& cal) : cal_(cal) {}
  bool IsWorkingDay(std::int64_t day) {
    const Date d = DateOfDay(day);
    if (IsWeekend(sys_days(d))) return false;
    if (YearOf(d) != year_ || !loaded_) {
      year_ = YearOf(d);
      list_ = cal_.Holidays(year_);
      loaded_ = true;
    }
    return !Contains(list_, d);
  }

 private:
  const Calendar& cal_;
  bool loaded_ = false;
  int year_ = 0;
  std::vector<Holiday> list_;
};

}  // namespace

Date EasterSunday(int y) {
  const int a = y % 19;
  const int b = y / 100;
  const int c = y % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return Ymd(y, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

std::vector<Holiday> RuleHolidays(int y) {
  std::vector<Holiday> out;
  const sys_days easter = sys_days(EasterSunday(y));
  out.push_back({Date(easter - days(2)), "Good Friday"});
  out.push_back({Date(easter + days(1)), "Easter Monday"});
  if (y >= 1978) {
    out.push_back({EarlyMay(y), y == 1995 || y == 2020 ? "Early May bank holiday (VE day)"
                                                       : "Early May bank holiday"});
  }
  out.push_back({SpringBankHoliday(y), "Spring bank holiday"});
  out.push_back({LastWeekday(y, 8, std::chrono::Monday), "Summer bank holiday"});
  for (const OneOff& o : kOneOffDays) {
    if (o.y == y) out.push_back({Ymd(o.y, o.m, o.d), o.name});
  }
  std::vector<std::pair<Date, std::string>> fixed;
  if (y >= 1974) fixed.emplace_back(Ymd(y, 1, 1), "New Year's Day");
  fixed.emplace_back(Ymd(y, 12, 25), "Christmas Day");
  fixed.emplace_back(Ymd(y, 12, 26), "Boxing Day");
  AddFixedDateHolidays(out, fixed);
  std::sort(out.begin(), out.end(),
            [](const Holiday& a, const Holiday& b) { return a.date < b.date; });
  return out;
}

Calendar::Calendar() : maps_(SharedRuleMaps()) {}

Calendar::Calendar(const OfficialHolidays& official) : official_(official) {
  for (auto& [y, list] : official_) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Holiday& a, const Holiday& b) { return a.date < b.date; });
  }
  if (official_.empty()) {
    maps_ = SharedRuleMaps();
    return;
  }
  int first_year = kFirstMapYear;
  int last_year = kLastMapYear;
  for (const auto& [y, list] : official_) {
    first_year = std::min(first_year, y);
    last_year = std::max(last_year, y);
    for (const Holiday& h : list) {
      first_year = std::min(first_year, YearOf(h.date));
      last_year = std::max(last_year, YearOf(h.date));
    }
  }
  auto maps = first_year == kFirstMapYear && last_year == kLastMapYear
                  ? std::make_shared<DayMaps>(*SharedRuleMaps())
                  : std::make_shared<DayMaps>(BuildRuleMaps(first_year, last_year));
  for (const auto& [y, list] : official_) {
    for (const Holiday& h : RuleHolidays(y)) MarkHoliday(*maps, h.date, false);
  }
  for (const auto& [y, list] : official_) {
    for (const Holiday& h : list) MarkHoliday(*maps, h.date, true);
  }
  maps_ = std::move(maps);
}

std::vector<Holiday> Calendar::Holidays(int y) const {
  auto it = official_.find(y);
  if (it != official_.end()) return it->second;
  return RuleHolidays(y);
}

bool Calendar::IsHoliday(Date d) const {
  const std::int64_t i = DayNumber(d) - maps_->first_day;
  if (i >= 0 && i < maps_->num_days) {
    return (maps_->holiday[static_cast<size_t>(i / 64)] >> (i % 64)) & 1;
  }
  return Contains(Holidays(YearOf(d)), d);
}

bool Calendar::IsWorkingDay(Date d) const {
  const std::int64_t i = DayNumber(d) - maps_->first_day;
  if (i >= 0 && i < maps_->num_days) {
    return (maps_->working[static_cast<size_t>(i / 64)] >> (i % 64)) & 1;
  }
  return !IsWeekend(sys_days(d)) && !IsHoliday(d);
}

Date Calendar::AddDays(Date d, int n) const {
  return FromDays(ToDays(d) + days(n));
}

Date Calendar::AddWorkingDays(Date d, int n) const {
  const DayMaps& m = *maps_;
  std::int64_t cur = DayNumber(d);  // the last day looked at
  YearByYear slow(*this);
  if (n > 0) {
    int remaining = n;
    while (true) {
      const std::int64_t i = cur + 1 - m.first_day;
      if (i >= 0 && i < m.num_days) {
        const size_t w = static_cast<size_t>(i / 64);
        const std::uint64_t bits = m.working[w] & BitsFrom(static_cast<unsigned>(i % 64));
        const int count = std::popcount(bits);
        if (count >= remaining) {
          return DateOfDay(m.first_day + static_cast<std::int64_t>(w) * 64 +
                           NthLowestBit(bits, remaining));
        }
        remaining -= count;
        cur = m.first_day + static_cast<std::int64_t>(w) * 64 + 63;
      } else {
        ++cur;
        if (slow.IsWorkingDay(cur) && --remaining == 0) return DateOfDay(cur);
      }
    }
  }
  if (n < 0) {
    int remaining = -n;
    while (true) {
      const std::int64_t i = cur - 1 - m.first_day;
      if (i >= 0 && i < m.num_days) {
        const size_t w = static_cast<size_t>(i / 64);
        const std::uint64_t bits = m.working[w] & BitsUpTo(static_cast<unsigned>(i % 64));
        const int count = std::popcount(bits);
        if (count >= remaining) {
          return DateOfDay(m.first_day + static_cast<std::int64_t>(w) * 64 +
                           NthHighestBit(bits, remaining));
        }
        remaining -= count;
        cur = m.first_day + static_cast<std::int64_t>(w) * 64;
      } else {
        --cur;
        if (slow.IsWorkingDay(cur) && --remaining == 0) return DateOfDay(cur);
      }
    }
  }
  return d;
}

Date Calendar::AddMonths(Date d, int n) const {
  const Date r = d + std::chrono::months(n);
  if (r.ok()) return r;
  return Date(std::chrono::year_month_day_last(r.year(), std::chrono::month_day_last(r.month())));
}

int Calendar::WorkingDaysBetween(Date from, Date to) const {
  const DayMaps& m = *maps_;
  std::int64_t lo = DayNumber(from) + 1;
  std::int64_t hi = DayNumber(to);
  const std::int64_t map_end = m.first_day + m.num_days;  // exclusive
  int count = 0;
  YearByYear before(*this);
  YearByYear after(*this);
  for (; lo <= hi && lo < m.first_day; ++lo) count += before.IsWorkingDay(lo) ? 1 : 0;
  for (; hi >= lo && hi >= map_end; --hi) count += after.IsWorkingDay(hi) ? 1 : 0;
  if (lo > hi) return count;
  const std::int64_t i0 = lo - m.first_day;
  const std::int64_t i1 = hi - m.first_day;
  const size_t w0 = static_cast<size_t>(i0 / 64);
  const size_t w1 = static_cast<size_t>(i1 / 64);
  const std::uint64_t first_mask = BitsFrom(static_cast<unsigned>(i0 % 64));
  const std::uint64_t last_mask = BitsUpTo(static_cast<unsigned>(i1 % 64));
  if (w0 == w1) return count + std::popcount(m.working[w0] & first_mask & last_mask);
  count += std::popcount(m.working[w0] & first_mask);
  for (size_t w = w0 + 1; w < w1; ++w) count += std::popcount(m.working[w]);
  count += std::popcount(m.working[w1] & last_mask);
  return count;
}

Date Calendar::AddPeriod(Date d, const Period& p) const {
  switch (p.unit) {
    case Period::Unit::kDays: return AddDays(d, p.amount);
    case Period::Unit::kWorkingDays: return AddWorkingDays(d, p.amount);
    case Period::Unit::kMonths: return AddMonths(d, p.amount);
    case Period::Unit::kHours: return LondonDate(EndOfLondonDay(d) + std::chrono::hours(p.amount));
  }
  return d;
}

Instant Calendar::DueInstant(Instant trigger, const Period& p) const {
  if (p.unit == Period::Unit::kHours) return trigger + std::chrono::hours(p.amount);
  return EndOfLondonDay(AddPeriod(LondonDate(trigger), p));
}

namespace {

// British Summer Time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
// Sunday of October.
std::pair<Instant, Instant> SummerTimeOf(int y) {
  return {Instant(sys_days(LastWeekday(y, 3, std::chrono::Sunday)) + std::chrono::hours(1)),
          Instant(sys_days(LastWeekday(y, 10, std::chrono::Sunday)) + std::chrono::hours(1))};
}

// The years' summer times worked out once: the rules ask for them for every deadline they
// compute, and for every London date they read.
constexpr int kFirstTabledYear = 1970, kLastTabledYear = 2199;
const std::vector<std::pair<Instant, Instant>>& TabledSummerTimes() {
  static const std::vector<std::pair<Instant, Instant>> kTable = [] {
    std::vector<std::pair<Instant, Instant>> t;
    for (int y = kFirstTabledYear; y <= kLastTabledYear; ++y) t.push_back(SummerTimeOf(y));
    return t;
  }();
  return kTable;
}

}  // namespace

bool IsBritishSummerTime(Instant t) {
  const int y = YearOf(Date(std::chrono::floor<days>(t)));
  const auto [start, end] = y >= kFirstTabledYear && y <= kLastTabledYear
                                ? TabledSummerTimes()[static_cast<size_t>(y - kFirstTabledYear)]
                                : SummerTimeOf(y);
  return t >= start && t < end;
}

std::chrono::minutes LondonUtcOffset(Instant t) {
  return IsBritishSummerTime(t) ? std::chrono::minutes(60) : std::chrono::minutes(0);
}

std::chrono::local_time<std::chrono::milliseconds> ToLondonLocal(Instant t) {
  return std::chrono::local_time<std::chrono::milliseconds>(
      (t + LondonUtcOffset(t)).time_since_epoch());
}

Date LondonDate(Instant t) {
  return Date(sys_days(std::chrono::floor<days>(ToLondonLocal(t)).time_since_epoch()));
}

Instant StartOfLondonDay(Date d) {
  // Midnight is never inside a clock change (changes happen at 01:00 UTC), so local midnight
  // is 23:00 UTC the day before in summer time, 00:00 UTC otherwise.
  const Instant midnight_gmt = Instant(ToDays(d));
  const Instant midnight_bst = midnight_gmt - std::chrono::hours(1);
  return IsBritishSummerTime(midnight_bst) ? midnight_bst : midnight_gmt;
}

Instant EndOfLondonDay(Date d) {
  return StartOfLondonDay(Date(ToDays(d) + days(1))) - std::chrono::milliseconds(1);
}

}  // namespace isms
