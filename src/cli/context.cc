#include "cli/context.h"

#include <istream>
#include <ostream>

#include "formats/bank_holidays_json.h"
#include "formats/policy_toml.h"

namespace isms::cli {

void Context::Fail(const Status& status) {
  err << "isms: " << status.message() << "\n";
  exit_code = 1;
}

void ForEachValue(Context& ctx, const std::string& value,
                  const std::function<Result<std::string>(std::string_view)>& fn) {
  if (value != "-") {
    Result<std::string> r = fn(value);
    if (r.ok()) {
      ctx.out << *r << "\n";
    } else {
      ctx.Fail(r.status());
    }
    return;
  }
  std::string line;
  while (std::getline(ctx.in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Result<std::string> r = fn(line);
    if (r.ok()) {
      ctx.out << *r << "\n";
    } else {
      ctx.out << "error: " << r.status().message() << "\n";
      ctx.exit_code = 1;
    }
  }
}

Result<Policy> LoadPolicyOption(const std::string& policy_file) {
  if (policy_file.empty()) return Policy::Defaults();
  return LoadPolicyFile(policy_file);
}

Result<Calendar> LoadCalendarOption(const Policy& policy, const std::string& holidays_file) {
  std::string path = holidays_file;
  if (path.empty() && policy.holidays_file.has_value()) path = *policy.holidays_file;
  if (path.empty()) return Calendar();
  ISMS_ASSIGN_OR_RETURN(OfficialHolidays official, LoadBankHolidaysJsonFile(path));
  return Calendar(official);
}

}  // namespace isms::cli
