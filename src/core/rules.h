// The rules of the security schedule: a pure function from a contract's events, its policy
// versions and the calendar to its obligations ("events in, obligations out", DESIGN.md).
// No I/O, no clock, no database. The obligations, their clauses, triggers, timescales and states
// are described in docs/obligations.md; the event vocabulary in docs/events.md.
//
// Streams. The events of a contract fall into streams; the obligations of a stream depend only
// on its own events, so a stored projection can be updated one stream at a time:
//   ""                 the contract: ISMS and SMP documents, reviews, changes, Security Tests,
//                      the Buyer's tests, retests, monthly reports and policy changes
//   "person:<subj>"    person.*, privilege.unneeded, access.revoked
//   "incident:<subj>"  breach.*, datarequest.*, details.delivered, rca.*
//   "data:<subj>"      data.demanded, data.provided
//   "erasure:<subj>"   erasure.requested, erasure.completed
//   "threat:<subj>"    threat.learned, threat.informed
//   "vuln:<subj>"      vuln.*, mitigation.proposed, buyer.notified (subject: a finding id);
//                      their obligations need the finding's facts (core/vuln_rules.h), so
//                      EvaluateStream gives none for these streams
// An event.retracted belongs to the stream of the event it retracts (it carries that event's
// subject and type=<its type>); a correction (supersedes=) must stay in its target's stream.
//
// Evaluation. Events are resolved first (an event superseded by another, or retracted, is
// ignored; a retraction itself is no fact), then events that happened after `as_of` are ignored,
// then the rules run. Clocks take their timescale from the policy in force on the London date of
// their trigger, so a policy change never rewrites a clock started before it.
//
// Determinism: the same input gives the same output, in the order of ObligationBefore.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/event.h"
#include "core/obligation.h"
#include "core/policy.h"
#include "core/status.h"
#include "core/time.h"

namespace isms {

struct ContractTerms {
  std::string name;
  Date start;                 // the Start Date
  bool bespoke_isms = false;  // the Buyer stipulated a bespoke ISMS (3.3.2): 3.7 applies
};

// A policy and the London date from which it applies. A contract's versions are sorted by
// effective_from; the first applies from the Start Date whatever its date.
struct PolicyVersion {
  Date effective_from;
  Policy policy;
};

// The policy in force on London date `d`: the last version with effective_from <= d, else the
// first; Policy::Defaults() when `versions` is empty. The reference lives as long as `versions`
// (or for the process, for the defaults).
const Policy& PolicyInForce(const std::vector<PolicyVersion>& versions, Date d);

// Validation before an event is recorded. `prior` is the effective events (neither superseded
// nor retracted) of the event's stream recorded so far (the whole contract's will do too).
// Checks: the type is known; the subject rule and identifier syntax; attributes known, each in
// its syntax, the required ones present; evidence= on a Buyer's act recorded by the supplier's
// side; `at` not before the Start Date; a correction names an effective event of the same
// stream; a retraction carries its target's subject and type; document versions (an answer
// names a submission of the same document, its latest version as of the answer, not yet
// answered; a re-submission is a new version); a notification or retest names a test that
// revealed a weakness; a test identifier is used once; a report's Month has ended.
// Errors are one line naming the field and the fix, e.g.
// "attr evidence: isms.approved is an act of the Buyer: add evidence=<...> ...".
Status ValidateEvent(const ContractTerms& terms, const Event& e, std::span<const Event> prior);

// The event was recorded later than policy.backdated_threshold after it happened (with the
// default of 2 Working Days: recorded after the end of the second Working Day after the London
// date it happened). A retraction is never backdated (its `at` is its target's).
bool IsBackdated(const Event& e, const Calendar& calendar, const Policy& policy);

// The stream of an event (see above).
std::string StreamOf(const Event& e);

// The effective events among `events`: without superseded or retracted events and without
// retractions, sorted by HappenedBefore.
std::vector<Event> EffectiveEvents(std::span<const Event> events);

struct Evaluation {
  std::vector<Obligation> obligations;  // in the order of ObligationBefore
  // The earliest instant after as_of at which the result would change with no new event (a due
  // instant passing, a Month ending, the Start Date arriving); none when nothing is pending.
  std::optional<Instant> next_change;
};

// The obligations of one stream as of `as_of`. `stream_events` are the stream's events,
// including superseded ones and retractions (resolved here); events of other streams are
// ignored. Events with at > as_of are ignored, after superseded events are resolved: pass the
// stream's events unfiltered by `at` for "as of T" with today's corrections; filter by
// recorded_at <= T for "as known at T". The contract stream "" has obligations even with no
// events (3.1, 4.1, 9.5.5).
Evaluation EvaluateStream(const ContractTerms& terms, const std::vector<PolicyVersion>& policies,
                          const Calendar& calendar, std::string_view stream,
                          std::span<const Event> stream_events, Instant as_of);
// The same, given pointers to the stream's events (which stay where they are, in any order).
Evaluation EvaluateStreamEvents(const ContractTerms& terms,
                                const std::vector<PolicyVersion>& policies,
                                const Calendar& calendar, std::string_view stream,
                                std::span<const Event* const> stream_events, Instant as_of);

// The union of every stream's evaluation (the contract stream always included), in the order
// of ObligationBefore; next_change the earliest of the streams'.
Evaluation EvaluateContract(const ContractTerms& terms, const std::vector<PolicyVersion>& policies,
                            const Calendar& calendar, std::span<const Event> events, Instant as_of);

// The root-cause identifiers used by effective tests and retests (6.5), sorted, unique: for
// `isms rootcause list`, so that a retest reuses the exact identifier.
std::vector<std::string> RootCausesInUse(std::span<const Event> events);

}  // namespace isms
