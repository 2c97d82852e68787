// What every command handler gets: the streams, the clock, and the exit code it sets.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "core/calendar.h"
#include "core/policy.h"
#include "core/status.h"
#include "core/time.h"

namespace isms::cli {

struct Context {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  const Clock& clock;
  int exit_code = 0;

  // Prints "isms: <message>" on the error stream and sets the exit code to 1.
  void Fail(const Status& status);
};

// Calls `fn` with `value`, or, when `value` is "-", with each line of standard input in turn
// (a trailing '\r' is dropped, blank lines are skipped). Each result is printed on its own line
// of `out`. With a single value, an error is printed on the error stream and the exit code is
// 1; with "-", a bad line prints "error: <message>" in its place on `out` and the run goes on,
// the exit code being 1 at the end.
void ForEachValue(Context& ctx, const std::string& value,
                  const std::function<Result<std::string>(std::string_view)>& fn);

// The policy in force for a command: the defaults, overlaid with `policy_file` when not empty.
Result<Policy> LoadPolicyOption(const std::string& policy_file);

// The calendar for a command: rules, overridden by the holidays feed named by `holidays_file`
// when not empty, else by the policy's holidays file when the policy names one.
Result<Calendar> LoadCalendarOption(const Policy& policy, const std::string& holidays_file);

}  // namespace isms::cli
