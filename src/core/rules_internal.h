// Internals shared by the rule families (rules_contract.cc, rules_subjects.cc): the evaluation
// context that starts, settles and collects clocks. Not part of the public API.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/event.h"
#include "core/obligation.h"
#include "core/rules.h"

namespace isms::rules_internal {

// The effective events of one stream, sorted by HappenedBefore.
using Events = std::vector<const Event*>;

// The events of one stream, indexed by type.
class Stream {
 public:
  explicit Stream(Events events);
  const Events& all() const { return all_; }
  // The events of `type`, sorted by HappenedBefore.
  const Events& OfType(std::string_view type) const;
  // The first event of `type` that happened at or after `from` and satisfies `pred`.
  const Event* FirstAtOrAfter(std::string_view type, Instant from,
                              const std::function<bool(const Event&)>& pred = nullptr) const;

 private:
  Events all_;
  std::map<std::string, Events, std::less<>> by_type_;
};

struct Trigger {
  std::int64_t id = 0;  // 0: the Start Date, or the end of a Month
  std::string type;     // event type, "contract.start" or "month.end"
  Instant at{};
};
Trigger TriggerOf(const Event& e);

class Context {
 public:
  Context(const ContractTerms& terms, const std::vector<PolicyVersion>& policies,
          const Calendar& calendar, Instant as_of)
      : terms_(terms), policies_(policies), calendar_(calendar), as_of_(as_of) {}

  const ContractTerms& terms() const { return terms_; }
  const Calendar& calendar() const { return calendar_; }
  Instant as_of() const { return as_of_; }

  // A clock of timescale `key` started by `t`, with the policy in force on t's London date: the
  // timescale, its source, and the due date and instant (none when the timescale has no period).
  // The consequence text defaults to "breach of <clause>".
  Obligation Start(std::string_view clause, std::string_view key, std::string title,
                   std::string subject, const Trigger& t,
                   Consequence consequence = Consequence::kBreach,
                   std::string consequence_text = "") const;

  // Settles `o` by `met` (nullptr: not met) and keeps it: met or met late by `met`'s instant;
  // otherwise breached once as_of is past the due instant, else open.
  void Settle(Obligation o, const Event* met);
  // Keeps `o` as it is.
  void Keep(Obligation o);
  // The result would change at `t` (if after as_of).
  void ChangesAt(Instant t);

  Evaluation Finish(const std::vector<const Event*>& events) &&;

 private:
  const ContractTerms& terms_;
  const std::vector<PolicyVersion>& policies_;
  const Calendar& calendar_;
  Instant as_of_;
  std::vector<Obligation> out_;
  std::optional<Instant> next_change_;
};

// For each event of `trigger_type`, a clock met by the first `meet_type` at or after it.
void PairClocks(Context& c, const Stream& events, std::string_view trigger_type,
                std::string_view meet_type, std::string_view clause, std::string_view key,
                const std::string& title, const std::string& subject);

// The rule families. Each gets the effective events of one stream.
void ContractRules(Context& c, const Stream& events);
void PersonRules(Context& c, const std::string& subject, const Stream& events);
void IncidentRules(Context& c, const std::string& subject, const Stream& events);
void DataRules(Context& c, const std::string& subject, const Stream& events);
void ErasureRules(Context& c, const std::string& subject, const Stream& events);
void ThreatRules(Context& c, const std::string& subject, const Stream& events);

}  // namespace isms::rules_internal
