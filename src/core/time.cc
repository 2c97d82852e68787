#include "core/time.h"

#include <cstdio>

namespace isms {
namespace {

bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// The fields of "YYYY-MM-DD" at the start of `text`, checked for digits and dashes only.
bool ReadDateFields(std::string_view text, int* y, int* m, int* d) {
  return text.size() >= 10 && ReadDigits(text, 0, 4, y) && text[4] == '-' &&
         ReadDigits(text, 5, 2, m) && text[7] == '-' && ReadDigits(text, 8, 2, d);
}

Result<Date> ParseDatePrefix(std::string_view text, std::string_view whole) {
  int y, m, d;
  if (!ReadDateFields(text, &y, &m, &d)) {
    return Status::InvalidArgument("'" + std::string(whole) +
                                   "' is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31");
  }
  Date date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
            std::chrono::day(static_cast<unsigned>(d))};
  if (y < 1000) {
    return Status::InvalidArgument("'" + std::string(whole) +
                                   "' is out of range: years run from 1000 to 9999");
  }
  if (!date.ok()) {
    return Status::InvalidArgument("'" + std::string(whole) +
                                   "' is not a calendar date (no such day in that month)");
  }
  return date;
}

}  // namespace

std::optional<std::int64_t> CivilDays(int y, int m, int d) {
  if (y < 0 || m < 1 || m > 12 || d < 1) return std::nullopt;
  // Divisions by constants only (the compiler multiplies): the library's conversion divided.
  const bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  static constexpr int kLast[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kLast[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days from civil (Howard Hinnant's algorithm), years counted from March.
  const int ym = m <= 2 ? y - 1 : y;  // at least -1, as y >= 0
  const int era = ym >= 0 ? ym / 400 : -1;
  const int yoe = ym - era * 400;  // the year of the 400-year era, 0 to 399
  const int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return std::int64_t{era} * 146097 + doe - 719468;
}

Result<Date> ParseDate(std::string_view text) {
  if (text.size() != 10) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31");
  }
  return ParseDatePrefix(text, text);
}

std::string FormatDate(Date d) {
  const int y = static_cast<int>(d.year());
  const unsigned m = static_cast<unsigned>(d.month());
  const unsigned day = static_cast<unsigned>(d.day());
  if (y < 0 || y > 9999 || m > 99 || day > 99) {  // beyond YYYY-MM-DD: as printf writes it
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, day);
    return buf;
  }
  // Digit by digit: dates are written for every row of a large import.
  std::string s = "0000-00-00";
  s[0] = static_cast<char>('0' + y / 1000);
  s[1] = static_cast<char>('0' + y / 100 % 10);
  s[2] = static_cast<char>('0' + y / 10 % 10);
  s[3] = static_cast<char>('0' + y % 10);
  s[5] = static_cast<char>('0' + m / 10);
  s[6] = static_cast<char>('0' + m % 10);
  s[8] = static_cast<char>('0' + day / 10);
  s[9] = static_cast<char>('0' + day % 10);
  return s;
}

bool ReadInstant(std::string_view text, Instant* out) {
  // "YYYY-MM-DD", years from 1000, a calendar date: as ParseDatePrefix.
  int y, mo, d;
  if (text.size() < 20 || !ReadDateFields(text, &y, &mo, &d) || y < 1000) return false;
  const std::optional<std::int64_t> days = CivilDays(y, mo, d);
  if (!days) return false;
  const char sep = text[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  int hh, mm, ss;
  if (!ReadDigits(text, 11, 2, &hh) || text[13] != ':' || !ReadDigits(text, 14, 2, &mm) ||
      text[16] != ':' || !ReadDigits(text, 17, 2, &ss)) {
    return false;
  }
  if (hh > 23 || mm > 59 || ss > 60) return false;
  if (ss == 60) ss = 59;  // a leap second is read as the last second of its minute
  size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    // Milliseconds: the first three digits, truncated; any further ones (RFC 5424 allows six)
    // are read and dropped. (A division a digit here cost as much as the rest of the parse.)
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = 10 * millis + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (pos >= text.size()) return false;
  int offset_minutes = 0;
  const char z = text[pos];
  if (z == 'Z' || z == 'z') {
    ++pos;
  } else if (z == '+' || z == '-') {
    int oh, om;
    if (!ReadDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = (oh * 60 + om) * (z == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != text.size()) return false;
  using namespace std::chrono;
  *out = Instant(milliseconds(((*days * 24 + hh) * 60 + mm - offset_minutes) * 60000 +
                              std::int64_t{ss} * 1000 + millis));
  return true;
}

Result<Instant> ParseInstant(std::string_view text) {
  Instant t;
  if (ReadInstant(text, &t)) return t;
  // Why not: the date's own message when the date is what is wrong.
  ISMS_RETURN_IF_ERROR(ParseDatePrefix(text, text).status());
  return Status::InvalidArgument(
      "'" + std::string(text) +
      "' is not an RFC 3339 instant: write it as YYYY-MM-DDTHH:MM:SSZ or with an offset, "
      "e.g. 2026-03-31T14:05:00+01:00");
}

std::string FormatInstant(Instant t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  Date d(day);
  auto ms = (t - day).count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld.%03lldZ", FormatDate(d).c_str(),
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return buf;
}

Instant SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace isms
