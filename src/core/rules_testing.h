// Test helpers for the rules: a contract history built event by event (each validated as the
// ledger would), and short ways to write instants, dates and document versions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event_types.h"
#include "core/rules.h"

namespace isms::testing {

inline Instant T(const std::string& text) {
  return ParseInstant(text).value();
}
inline Date D(const std::string& text) {
  return ParseDate(text).value();
}

// "sha256:" and 64 hex digits derived from n.
inline std::string Doc(int n) {
  std::string hex = std::to_string(n);
  return "sha256:" + std::string(64 - hex.size(), 'a') + hex;
}

using Attrs = std::vector<std::pair<std::string, std::string>>;

class History {
 public:
  explicit History(Date start, bool bespoke = false) {
    terms_.name = "c";
    terms_.start = start;
    terms_.bespoke_isms = bespoke;
  }

  // Appends an event (recorded when it happened), adding evidence= to a Buyer's act. Fails the
  // test when ValidateEvent refuses it. Returns its id.
  std::int64_t Add(const std::string& type, const std::string& subject, Instant at,
                   const Attrs& attrs = {}) {
    Event e = Make(type, subject, at, attrs);
    Status s = Check(e);
    EXPECT_TRUE(s.ok()) << type << " " << subject << ": " << s.ToString();
    events_.push_back(e);
    return e.id;
  }

  // An event with the next id, not yet appended.
  Event Make(const std::string& type, const std::string& subject, Instant at,
             const Attrs& attrs = {}) const {
    Event e;
    e.id = static_cast<std::int64_t>(events_.size()) + 1;
    e.type = type;
    e.subject = subject;
    e.at = at;
    e.recorded_at = at;
    e.actor = "tester";
    for (const auto& [k, v] : attrs) e.SetAttr(k, v);
    const EventType* t = FindEventType(type);
    if (t != nullptr && t->buyer_act && !e.Attr("evidence")) e.SetAttr("evidence", "msg-1");
    return e;
  }

  // ValidateEvent against the effective events of `e`'s stream so far.
  Status Check(const Event& e) const {
    std::vector<Event> prior;
    for (const Event& p : EffectiveWithRetractions()) {
      if (StreamOf(p) == StreamOf(e)) prior.push_back(p);
    }
    return ValidateEvent(terms_, e, prior);
  }

  // Appends without validation (for histories the ledger would refuse).
  void Append(Event e) { events_.push_back(std::move(e)); }

  Evaluation Eval(Instant as_of) const {
    return EvaluateContract(terms_, policies_, calendar_, events_, as_of);
  }

  // A copy of the `n`-th obligation (in evaluation order) with `key` and `subject`, if any.
  static std::optional<Obligation> Find(const Evaluation& ev, const std::string& key,
                                        const std::string& subject, int n = 0) {
    for (const Obligation& o : ev.obligations) {
      if (o.key == key && o.subject == subject && n-- == 0) return o;
    }
    return std::nullopt;
  }
  static int Count(const Evaluation& ev, const std::string& key) {
    int n = 0;
    for (const Obligation& o : ev.obligations) n += o.key == key;
    return n;
  }

  ContractTerms& terms() { return terms_; }
  std::vector<PolicyVersion>& policies() { return policies_; }
  const Calendar& calendar() const { return calendar_; }
  std::vector<Event>& events() { return events_; }

 private:
  // The prior events as the ledger passes them: without superseded ones (retractions stay).
  std::vector<Event> EffectiveWithRetractions() const {
    std::vector<std::int64_t> superseded;
    for (const Event& e : events_) {
      if (e.supersedes) superseded.push_back(*e.supersedes);
    }
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (std::find(superseded.begin(), superseded.end(), e.id) == superseded.end()) {
        out.push_back(e);
      }
    }
    return out;
  }

  ContractTerms terms_;
  std::vector<PolicyVersion> policies_;
  Calendar calendar_;
  std::vector<Event> events_;
};

}  // namespace isms::testing
