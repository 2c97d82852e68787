// The time vocabulary of isms: calendar dates, UTC instants and the injected Clock.
//
// Dates are std::chrono::year_month_day (no other calendar type is used anywhere).
// Instants are UTC, millisecond precision. Nothing in core/ reads the wall clock: a Clock is
// passed in, so tests fix time exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace isms {

using Date = std::chrono::year_month_day;
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// Parses an ISO 8601 calendar date "YYYY-MM-DD" (exactly that form; years 1000–9999).
// Errors name the value and the expected form.
Result<Date> ParseDate(std::string_view text);

// "YYYY-MM-DD".
std::string FormatDate(Date d);

// Parses an RFC 3339 instant: "YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)" ('t', 'z' and a space
// instead of 'T' are accepted, as RFC 3339 allows). Fractions below a millisecond are truncated.
Result<Instant> ParseInstant(std::string_view text);

// The same parse without the error: false where ParseInstant fails. For a caller that needs no
// message, on every received record's path (a Result comes back through memory).
bool ReadInstant(std::string_view text, Instant* out);

// Days since 1970-01-01 of year `y` (from 0), month `m` (1-12), day `d`; nullopt when that is
// not a calendar date. As std::chrono's conversion, without its divisions.
std::optional<std::int64_t> CivilDays(int y, int m, int d);

// RFC 3339 in UTC with milliseconds: "2026-03-29T00:59:59.999Z".
std::string FormatInstant(Instant t);

// Days since 1970-01-01 of a date, and back.
inline std::chrono::sys_days ToDays(Date d) {
  return std::chrono::sys_days(d);
}
inline Date FromDays(std::chrono::sys_days d) {
  return Date(d);
}

// The source of "now". Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
};

// The system's real-time clock. Used only by front-ends (cli/, net/).
class SystemClock final : public Clock {
 public:
  Instant Now() const override;
};

// A clock that always says the same instant; for tests and for "as of" evaluation.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Instant now) : now_(now) {}
  Instant Now() const override { return now_; }
  void Set(Instant now) { now_ = now; }

 private:
  Instant now_;
};

}  // namespace isms
