#include "core/patch_deadline.h"

#include <string>

namespace isms {

std::string_view PatchTimescaleKey(Category c) {
  switch (c) {
    case Category::kCritical: return "patch_critical";
    case Category::kImportant: return "patch_important";
    case Category::kOther: return "patch_other";
  }
  return "patch_other";
}

Result<Date> PatchDueDate(const Calendar& calendar, const Policy& policy,
                          const PatchDeadlineRequest& request) {
  if (!request.released.ok()) {
    return Status::InvalidArgument("patch release date is not a valid date: correct it");
  }
  const bool agreed = request.agreed_days.has_value() || request.agreed_until.has_value();
  if (request.extension && request.category == Category::kOther) {
    return Status::InvalidArgument(
        "9.3.2 extension applies only to Critical and Important vulnerabilities");
  }
  if (request.extension && agreed) {
    return Status::InvalidArgument(
        "a 9.3.2 extension cannot be combined with a 9.3.3 agreed period: the agreed period "
        "replaces the timescale, so agree one period that includes any extension");
  }
  if (request.agreed_days && request.agreed_until) {
    return Status::InvalidArgument(
        "9.3.3 agreed period given both as days and as a date: give one of them");
  }
  if (request.agreed_days) {
    const int n = *request.agreed_days;
    if (n < 0 || n > kMaxPeriodAmount) {
      return Status::InvalidArgument("9.3.3 agreed period of " + std::to_string(n) +
                                     " days is out of range: use 0 to " +
                                     std::to_string(kMaxPeriodAmount));
    }
    return calendar.AddDays(request.released, n);
  }
  if (request.agreed_until) {
    if (!request.agreed_until->ok()) {
      return Status::InvalidArgument("9.3.3 agreed date is not a valid date: correct it");
    }
    if (ToDays(*request.agreed_until) < ToDays(request.released)) {
      return Status::InvalidArgument("9.3.3 agreed date " + FormatDate(*request.agreed_until) +
                                     " is before the patch release " +
                                     FormatDate(request.released) + ": correct the agreed date");
    }
    return *request.agreed_until;
  }
  const std::string_view key = PatchTimescaleKey(request.category);
  ISMS_ASSIGN_OR_RETURN(Period period, policy.PeriodOf(key));
  if (period.unit == Period::Unit::kHours) {
    return Status::InvalidArgument("policy timescale '" + std::string(key) +
                                   "' is in hours: 9.3 counts whole days");
  }
  Date due = calendar.AddPeriod(request.released, period);
  if (request.extension) {
    ISMS_ASSIGN_OR_RETURN(Period extension, policy.PeriodOf("patch_extension"));
    if (extension.unit == Period::Unit::kHours) {
      return Status::InvalidArgument(
          "policy timescale 'patch_extension' is in hours: 9.3.2 counts whole days");
    }
    due = calendar.AddPeriod(due, extension);
  }
  return due;
}

}  // namespace isms
