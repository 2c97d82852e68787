// The contract's policy file: TOML over Policy::Defaults() (core/policy.h). Format: docs/policy.md.
//
//   [policy]
//   effective = 2026-04-01                  # optional; TOML date or "YYYY-MM-DD"
//
//   [severity]
//   method = "microsoft-else-nvd"           # or "most-severe"
//   basis = "base"                          # or "environmental"
//
//   [calendar]
//   holidays = "bank-holidays.json"         # GOV.UK feed; relative to the policy file
//
//   [status]
//   at_risk_percent = 75                    # 1-100
//   backdated_threshold = "2 working_days"
//
//   [vulnerabilities]
//   scan_recency = "31 days"
//   patch_release = "earlier-of-publication-and-first-seen"   # or "first-seen"
//   resume_after_exploitable = "full-timescale-from-exploitable"  # or "from-original-release"
//
//   [timescales]
//   patch_other = "40 working_days"
//   breach_notification = { period = "12 hours", reference = "CCN-0042 agreed 2026-03-01" }
//
// A period is "<amount> <unit>" with unit days, working_days, months or hours (singular accepted),
// or "immediate" (0 days). Every key is optional; what is absent keeps its default.
//
// Errors (kInvalidArgument; kIoError when the file cannot be read) have the form
// "FILE:LINE:COL: problem; fix" and name the first problem found: TOML syntax errors, unknown
// sections and keys, wrong value types, unknown units, methods and rules, negative or too large
// periods, an unknown timescale, a timescale without a clock.
//
// Thread-safety: pure functions; no shared state.
#pragma once

#include <string>
#include <string_view>

#include "core/policy.h"
#include "core/status.h"

namespace isms {

// Parses `text` (named `name` in errors) over the defaults. A relative holidays path is kept as
// written.
Result<Policy> LoadPolicyString(std::string_view text, std::string_view name);

// Reads and parses the file at `path`. A relative holidays path is resolved against the
// directory of `path`.
Result<Policy> LoadPolicyFile(const std::string& path);

// The effective policy as a readable text table for `isms policy show`: the effective date, one
// line per timescale (clause, key, period, source, title, and the schedule's words or the
// variation's reference), then the other settings with their clause and source.
std::string RenderPolicy(const Policy& policy);

}  // namespace isms
