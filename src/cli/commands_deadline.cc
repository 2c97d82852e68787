#include <ostream>

#include "cli/commands.h"
#include "core/patch_deadline.h"

namespace isms::cli {

void DeadlinePatch(Context& ctx, const DeadlinePatchOptions& o) {
  Result<Policy> policy = LoadPolicyOption(o.calendar.policy_file);
  if (!policy.ok()) return ctx.Fail(policy.status());
  Result<Calendar> calendar = LoadCalendarOption(*policy, o.calendar.holidays_file);
  if (!calendar.ok()) return ctx.Fail(calendar.status());
  Result<Category> category = ParseCategory(o.category);
  if (!category.ok()) return ctx.Fail(category.status());
  PatchDeadlineRequest request;
  request.category = *category;
  request.extension = o.extension;
  request.agreed_days = o.agreed_days;
  if (!o.agreed_until.empty()) {
    Result<Date> until = ParseDate(o.agreed_until);
    if (!until.ok()) return ctx.Fail(until.status().WithContext("--agreed-until"));
    request.agreed_until = *until;
  }
  ForEachValue(ctx, o.released, [&](std::string_view text) -> Result<std::string> {
    ISMS_ASSIGN_OR_RETURN(request.released, ParseDate(text));
    ISMS_ASSIGN_OR_RETURN(Date due, PatchDueDate(*calendar, *policy, request));
    return FormatDate(due);
  });
}

}  // namespace isms::cli
