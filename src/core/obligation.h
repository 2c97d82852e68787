// An obligation of the schedule, as the rules derive it from the events: which clause, about
// what, since when, due when, and where it stands. See docs/obligations.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/period.h"
#include "core/policy.h"
#include "core/status.h"
#include "core/time.h"

namespace isms {

enum class ObligationState { kOpen, kMet, kMetLate, kBreached, kSuspended, kSuperseded };
std::string_view ObligationStateName(ObligationState s);           // "open", "met", "met late", ...
Result<ObligationState> ParseObligationState(std::string_view s);  // also accepts "met-late"

enum class Consequence { kBreach, kDefault, kMaterialDefault, kEscalation };
std::string_view ConsequenceName(
    Consequence c);  // "breach", "Default", "material Default", "escalation"

struct Obligation {
  std::string clause;                 // as in OBLIGATIONS.md, e.g. "3.1", "A1 6.5"
  std::string key;                    // the policy timescale key, e.g. "isms_submission"
  std::string title;                  // e.g. "Submit the ISMS to the Buyer"
  std::string subject;                // e.g. "isms", "alice", "INC-7", "2026-11"
  std::int64_t trigger_event_id = 0;  // 0 when triggered by the contract's Start Date itself
  std::string trigger_type;           // event type, or "contract.start"
  Instant trigger_at{};
  std::optional<Period> timescale;  // none for a gate (5.3) or an immediate consequence
  TimescaleSource timescale_source = TimescaleSource::kContract;  // core/policy.h
  std::optional<Date> due_date;   // the last day, for day-based timescales
  std::optional<Instant> due_at;  // the end of the due date in London, or trigger + hours
  ObligationState state = ObligationState::kOpen;
  Consequence consequence = Consequence::kBreach;
  std::string consequence_text;        // e.g. "breach of 3.1", "Dispute Resolution Procedure"
  std::optional<Instant> closed_at;    // when met, breached for good, or superseded
  std::vector<std::int64_t> evidence;  // events that met, breached or suspended it
  std::vector<std::string> flags;      // e.g. "not agreed with the Buyer in advance"

  friend bool operator==(const Obligation&, const Obligation&) = default;
};

// The identity of an obligation within its contract: "<key>/<subject>/<trigger_event_id>",
// unique among the obligations of one evaluation (a Month's report: trigger id 0, subject the
// Month; the Start Date clocks: trigger id 0).
std::string ObligationId(const Obligation& o);

// The deterministic order of the rules' output: by trigger instant, trigger event, clause, key,
// subject. A strict weak ordering.
bool ObligationBefore(const Obligation& a, const Obligation& b);

// Display order, most urgent first: breached with material Default, breached with Default,
// other breached (oldest due first), open (earliest due first; no due last), suspended, met
// late, met, superseded; ties broken by ObligationBefore. A strict weak ordering.
bool MoreUrgent(const Obligation& a, const Obligation& b);

}  // namespace isms
