// The 9.3 patch deadline: the last day by which a security patch must be applied.
//
// 9.3: from the public release of the patch, 'Critical' within 14 days, 'Important' within 30
// days, 'Other' within 60 Working Days (the periods are the policy's timescales patch_critical,
// patch_important and patch_other, so a varied policy changes them). Two exceptions change it:
//   - 9.3.2: a Critical or Important patch that adversely affects the Services, with the agreed
//     test plan followed, earns an extension (timescale patch_extension, 5 days) added to the
//     deadline. It does not apply to Other: requesting it is an error.
//   - 9.3.3: the Buyer agrees a different maximum period case by case. It replaces the timescale:
//     either N calendar days from the release, or an agreed last date.
// An extension and an agreed period together are refused: the agreed period is the whole
// agreement, so the Buyer agrees one period that already includes any extension.
// The deadline ends at 23:59:59.999 Europe/London on the returned date (EndOfLondonDay).
// 9.3.1 (not exploitable) suspensions are handled by the rules, which pass the date the clock
// starts from as `released`. See docs/severity.md.
#pragma once

#include <optional>

#include "core/calendar.h"
#include "core/policy.h"
#include "core/severity.h"
#include "core/status.h"
#include "core/time.h"

namespace isms {

struct PatchDeadlineRequest {
  Category category = Category::kOther;
  Date released;                     // public release of the patch (or the restart date, 9.3.1)
  bool extension = false;            // 9.3.2 granted
  std::optional<int> agreed_days;    // 9.3.3: N calendar days from `released` (N >= 0)
  std::optional<Date> agreed_until;  // 9.3.3: an agreed last date (not before `released`)
};

// The policy timescale key of a category: "patch_critical", "patch_important", "patch_other".
std::string_view PatchTimescaleKey(Category c);

// The last day to apply the patch. Errors (kInvalidArgument): an invalid release date, an
// extension for Other, an extension with an agreed period, both agreed_days and agreed_until,
// negative or too large agreed_days, agreed_until before the release; a policy whose patch
// timescale is missing or in hours.
Result<Date> PatchDueDate(const Calendar& calendar, const Policy& policy,
                          const PatchDeadlineRequest& request);

}  // namespace isms
