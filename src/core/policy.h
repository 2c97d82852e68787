// The contract's policy: every timescale of the security schedule as data, and the settings the
// rules need (severity method, calendar, thresholds).
//
// Policy::Defaults() is the schedule itself: one Timescale per row of the "Time-bound obligations"
// table of OBLIGATIONS.md, with the clause cited exactly as there. Each timescale says where its
// value comes from, so a buyer never mistakes a product default for the contract:
//   - contract:       the period is written in the schedule ("20 Working Days");
//   - policy-default: the schedule says "promptly", "as soon as (reasonably) practicable",
//                     "immediately", "inform", "on demand", ...; the period is the product's
//                     default reading of those words, and `wording` keeps the schedule's words;
//   - varied:         the contract's policy file sets a period other than the default (a
//                     variation agreed with the Buyer, e.g. under 9.3.3 or 9.4.2, or the period
//                     the buyer-approved ISMS gives to a "promptly").
// "Immediate" is 0 days: due by the end of the day of the trigger.
// Some rows have no clock (a gate, an escalation, a suspension, a case-by-case period): their
// `period` is empty and `wording` says why.
//
// A policy file (formats/policy_toml.h, docs/policy.md) edits a copy of the defaults. A Policy has
// an effective date; the rules apply the policy in force when a clock starts, so a change never
// rewrites clocks that started before it.
//
// Thread-safety: a value; copy freely.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/period.h"
#include "core/severity.h"
#include "core/status.h"
#include "core/time.h"

namespace isms {

enum class TimescaleSource { kContract, kPolicyDefault, kVaried };
// "contract", "policy-default", "varied".
std::string_view TimescaleSourceKey(TimescaleSource s);

struct Timescale {
  std::string key;               // stable snake_case id, e.g. "patch_critical"
  std::string clause;            // as cited in OBLIGATIONS.md, e.g. "9.3", "A1 6.5"
  std::string title;             // what must happen, e.g. "apply a 'Critical' security patch"
  std::optional<Period> period;  // empty: no clock (gate, escalation, suspension, case by case)
  TimescaleSource source = TimescaleSource::kContract;
  std::string wording;    // the schedule's words where they are not a period ("promptly", ...)
  std::string reference;  // for kVaried: the agreement (e.g. "CCN-0042 of 2026-03-01"), if given

  friend bool operator==(const Timescale&, const Timescale&) = default;
};

// When a patch counts as publicly released (9.3), if the feeds disagree or lack a date.
enum class PatchReleaseRule {
  kEarlierOfPublicationAndFirstSeen,  // "earlier-of-publication-and-first-seen" (default)
  kFirstSeen,                         // "first-seen"
};
std::string_view PatchReleaseRuleKey(PatchReleaseRule r);
Result<PatchReleaseRule> ParsePatchReleaseRule(std::string_view key);

// How the 9.3 clock runs once a vulnerability asserted not exploitable (9.3.1) becomes exploitable.
enum class ResumeRule {
  kFullTimescaleFromExploitable,  // "full-timescale-from-exploitable" (default)
  kFromOriginalRelease,           // "from-original-release"
};
std::string_view ResumeRuleKey(ResumeRule r);
Result<ResumeRule> ParseResumeRule(std::string_view key);

// The largest amount a period may have in a policy (any unit); larger values are refused.
inline constexpr int kMaxPeriodAmount = 9999;

struct Policy {
  // From when this policy applies; empty for the defaults (in force from the Start Date).
  std::optional<Date> effective;

  SeverityMethod severity_method = SeverityMethod::kMicrosoftElseNvd;  // 9.2, policy-default
  ScoreBasis score_basis = ScoreBasis::kBase;                          // 9.2, policy-default
  // A GOV.UK bank-holidays.json to load over the calendar's rules; empty: rules only.
  std::optional<std::string> holidays_file;
  // An event recorded more than this after it happened is flagged as backdated. policy-default.
  Period backdated_threshold{2, Period::Unit::kWorkingDays};
  // An open obligation is "at risk" once this share (percent, 1-100) of its period has elapsed.
  // policy-default.
  int at_risk_percent = 75;
  // 9.5.4: every in-scope asset must have a scan at most this old. policy-default.
  Period scan_recency{31, Period::Unit::kDays};
  PatchReleaseRule patch_release = PatchReleaseRule::kEarlierOfPublicationAndFirstSeen;
  ResumeRule resume_after_exploitable = ResumeRule::kFullTimescaleFromExploitable;

  // Every row of the time-bound obligations table, in the table's order.
  std::vector<Timescale> timescales;

  // The schedule's timescales and the product's defaults.
  static Policy Defaults();

  // The timescale with `key`, or nullptr.
  const Timescale* Find(std::string_view key) const;
  // The period of timescale `key`. kNotFound for an unknown key; kFailedPrecondition when the
  // timescale has no clock.
  Result<Period> PeriodOf(std::string_view key) const;
  // A1 8.1.4: the minimum retention of an audit record (timescale "audit_retention").
  Period AuditRetention() const;

  // Sets the period of timescale `key`. A period different from the default's marks it kVaried
  // (with `reference`); the default's own period restores the default source. Errors: unknown key
  // (kNotFound), a timescale without a clock, a negative or too large amount (kInvalidArgument).
  Status SetPeriod(std::string_view key, const Period& period, std::string reference = "");

  // Checks the invariants a loaded policy must hold (amounts 0..kMaxPeriodAmount, no hours for
  // the date-only timescales of 9.3, at_risk_percent 1..100, unique keys).
  Status Validate() const;
};

// "60 Working Days"; "immediate" for 0 days; "no clock" for none.
std::string DescribeTimescalePeriod(const Timescale& t);

}  // namespace isms
