#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "core/event_types.h"
#include "core/rules_internal.h"

namespace isms::rules_internal {
namespace {

constexpr std::string_view kDisputeResolution = "escalation: Dispute Resolution Procedure";
constexpr std::string_view kNotAgreed = "not agreed with the Buyer in advance (6.1)";

// The submission an answer names (submission=<id>), else the latest one before it.
const Event* AnsweredSubmission(const Events& submissions, const Event& answer) {
  std::optional<std::string_view> named = answer.Attr("submission");
  const Event* latest = nullptr;
  for (const Event* s : submissions) {
    if (named && std::to_string(s->id) == *named) return s;
    if (HappenedBefore(*s, answer)) latest = s;
  }
  return latest;
}

// 3.1/4.1 submission; 3.7/4.3 approval, re-submission and escalation. Returns the adoption: the
// first approval, or for an ISMS that needs no approval (not bespoke) its first submission.
const Event* DocumentRules(Context& c, const Stream& events, const std::string& doc) {
  const bool isms = doc == "isms";
  const std::string name = isms ? "the ISMS" : "the Security Management Plan";
  const Events& subs = events.OfType(doc + ".submitted");
  const Trigger start{0, "contract.start", StartOfLondonDay(c.terms().start)};
  c.Settle(c.Start(isms ? "3.1" : "4.1", doc + "_submission", "Submit " + name + " to the Buyer",
                   doc, start),
           subs.empty() ? nullptr : subs.front());
  if (isms && !c.terms().bespoke_isms) return subs.empty() ? nullptr : subs.front();
  if (subs.empty()) return nullptr;

  const std::string clause = isms ? "3.7" : "4.3";
  const Event* first = subs.front();
  const Event* approved = nullptr;
  const Event* escalated = nullptr;
  for (const Event* a : events.all()) {
    if (approved != nullptr) break;
    if (a->type == doc + ".approved") {
      approved = a;
      continue;
    }
    if (a->type != doc + ".rejected") continue;
    const Event* answered = AnsweredSubmission(subs, *a);
    if (answered == nullptr || answered == first) {
      const Event* resubmitted = events.FirstAtOrAfter(
          doc + ".submitted", a->at, [&](const Event& s) { return HappenedBefore(*a, s); });
      c.Settle(c.Start(clause, doc + "_resubmission",
                       "Amend and re-submit " + name + " after non-approval", doc, TriggerOf(*a)),
               resubmitted);
      continue;
    }
    Obligation o =
        c.Start(clause, doc + "_resubmission_rejected",
                "Re-submitted " + std::string(isms ? "ISMS" : "SMP") +
                    " not approved: Dispute Resolution Procedure",
                doc, TriggerOf(*a), Consequence::kEscalation, std::string(kDisputeResolution));
    o.timescale.reset();
    o.due_date.reset();
    o.due_at.reset();
    o.state = ObligationState::kBreached;
    o.closed_at = a->at;
    o.evidence = {a->id};
    c.Keep(std::move(o));
    if (escalated == nullptr) escalated = a;
  }
  Obligation o =
      c.Start(clause, doc + "_approval", "Buyer approval of " + name, doc, TriggerOf(*first),
              Consequence::kEscalation, std::string(kDisputeResolution));
  if (escalated != nullptr) {
    o.closed_at = escalated->at;
    o.evidence = {escalated->id};
    o.state = o.due_at && escalated->at > *o.due_at ? ObligationState::kBreached
                                                    : ObligationState::kSuperseded;
    c.Keep(std::move(o));
  } else {
    c.Settle(std::move(o), approved);
  }
  return approved;
}

// A chain of clocks: each link started by `links[i]` is met by `links[i + 1]`.
void Chain(Context& c, const Events& links, std::string_view clause, std::string_view key,
           const std::string& title, const std::string& subject,
           const std::function<void(Obligation&, const Event&)>& on_met = nullptr) {
  for (size_t i = 0; i < links.size(); ++i) {
    Obligation o = c.Start(clause, key, title, subject, TriggerOf(*links[i]));
    const Event* met = i + 1 < links.size() ? links[i + 1] : nullptr;
    if (met != nullptr && on_met) on_met(o, *met);
    c.Settle(std::move(o), met);
  }
}

// `first` (if any), then the events of `events` after it that pass `pred`.
Events LinksFrom(const Event* first, const Events& events,
                 const std::function<bool(const Event&)>& pred) {
  Events links;
  if (first == nullptr) return links;
  links.push_back(first);
  for (const Event* e : events) {
    if (HappenedBefore(*first, *e) && pred(*e)) links.push_back(e);
  }
  return links;
}

void ReviewRules(Context& c, const Stream& events, const std::string& doc, const Event* adoption) {
  const std::string name = doc == "isms" ? "ISMS" : "SMP";
  auto is_review = [&](const Event& e) { return e.Attr("doc") == doc; };
  Chain(c, LinksFrom(adoption, events.OfType("review.completed"), is_review), "5.1", "isms_review",
        "Full review of the " + name, doc);
  for (const Event* r : events.OfType("review.completed")) {
    if (!is_review(*r)) continue;
    const Event* delivered = events.FirstAtOrAfter(
        "review.results.delivered", r->at, [&](const Event& d) { return d.Attr("doc") == doc; });
    c.Settle(
        c.Start("5.2", "review_results",
                "Provide the results of the " + name + " review to the Buyer", doc, TriggerOf(*r)),
        delivered);
  }
}

// 5.3: per change, the gate; 6.1: a Security Test after each implemented change.
void ChangeRules(Context& c, const Stream& events) {
  std::vector<std::string> order;
  std::map<std::string, Events> changes;
  for (const Event* e : events.all()) {
    if (e->type != "change.proposed" && e->type != "change.approved" &&
        e->type != "change.implemented") {
      continue;
    }
    if (!changes.count(e->subject)) order.push_back(e->subject);
    changes[e->subject].push_back(e);
  }
  for (const std::string& id : order) {
    const Events& evs = changes[id];
    const Event* approved = nullptr;
    const Event* implemented = nullptr;
    for (const Event* e : evs) {
      if (e->type == "change.approved" && approved == nullptr) approved = e;
      if (e->type == "change.implemented" && implemented == nullptr) implemented = e;
    }
    Obligation gate =
        c.Start("5.3", "change_approval", "Written Buyer approval before the change is implemented",
                id, TriggerOf(*evs.front()));
    if (approved != nullptr && (implemented == nullptr || approved->at <= implemented->at)) {
      gate.state = ObligationState::kMet;
      gate.closed_at = approved->at;
      gate.evidence = {approved->id};
    } else if (implemented != nullptr) {
      gate.state = ObligationState::kBreached;
      gate.closed_at = implemented->at;
      gate.evidence = {implemented->id};
      if (approved != nullptr) {
        gate.flags.push_back("approved after implementation (event " +
                             std::to_string(approved->id) + ")");
      }
    } else {
      gate.state = ObligationState::kOpen;
    }
    c.Keep(std::move(gate));
    if (implemented != nullptr) {
      c.Settle(c.Start("6.1", "change_security_test", "Security Test after the change", id,
                       TriggerOf(*implemented)),
               events.FirstAtOrAfter("securitytest.completed", implemented->at));
    }
  }
}

// 6.4 and 6.5 for one test (rounds[0]) and its retests.
// `next_test`: the next test with the same identifier (the ledger refuses one), or nullptr.
void RemediationRules(Context& c, const Stream& events, const std::string& id, const Events& rounds,
                      const Event* next_test) {
  const Event* test = rounds.front();
  auto in_series = [&](const Event& e) {
    return e.subject == id && (next_test == nullptr || HappenedBefore(e, *next_test));
  };
  std::vector<std::pair<std::string, std::int64_t>> seen;  // root cause, event revealing it
  for (const Event* round : rounds) {
    if (round->Attr("weakness") != "yes") continue;
    const std::vector<std::string> causes =
        SplitIdentifierList(round->Attr("root_cause").value_or(""));
    if (round != test) {
      Obligation o = c.Start("6.5", "repeat_test_failure",
                             "Repeat test reveals a breach exploiting the same root cause", id,
                             TriggerOf(*round), Consequence::kMaterialDefault, "material Default");
      o.timescale.reset();
      o.due_date.reset();
      o.due_at.reset();
      o.evidence = {round->id};
      for (const std::string& cause : causes) {
        for (const auto& [earlier, by] : seen) {
          if (earlier != cause) continue;
          o.flags.push_back("root cause " + cause + " also revealed by event " +
                            std::to_string(by));
          if (std::find(o.evidence.begin(), o.evidence.end(), by) == o.evidence.end()) {
            o.evidence.push_back(by);
          }
        }
      }
      if (!o.flags.empty()) {
        o.state = ObligationState::kBreached;
        o.closed_at = round->at;
        c.Keep(std::move(o));
      }
    }
    for (const std::string& cause : causes) seen.emplace_back(cause, round->id);
    c.Settle(c.Start("6.4", "test_remediation",
                     "Notify the Buyer of the ISMS/SMP changes proposed to correct the weakness",
                     id, TriggerOf(*round)),
             events.FirstAtOrAfter("changes.notified", round->at, in_series));
    c.Settle(
        c.Start("6.4", "test_retest", "Repeat the test after the changes", id, TriggerOf(*round)),
        events.FirstAtOrAfter("retest.completed", round->at, [&](const Event& r) {
          return in_series(r) && HappenedBefore(*round, r);
        }));
  }
}

void TestRules(Context& c, const Stream& events, const Event* isms_adoption) {
  std::map<std::string, Instant> first_agreed;
  for (const Event* a : events.OfType("securitytest.agreed"))
    first_agreed.emplace(a->subject, a->at);
  auto agreed = [&](const Event& test) {
    auto it = first_agreed.find(test.subject);
    return it != first_agreed.end() && it->second <= test.at;
  };
  const Events& tests = events.OfType("securitytest.completed");
  Chain(c,
        LinksFrom(isms_adoption, tests, [](const Event& e) { return e.Attr("scope") != "change"; }),
        "6.1", "security_test", "Security Test across the scope of the ISMS", "isms",
        [&](Obligation& o, const Event& test) {
          if (!agreed(test)) {
            o.flags.push_back("Security Test " + test.subject + " " + std::string(kNotAgreed));
          }
        });
  for (const Event* t : tests) {
    Obligation o = c.Start("6.2", "test_results", "Provide the Security Test results to the Buyer",
                           t->subject, TriggerOf(*t));
    if (!agreed(*t)) o.flags.push_back(std::string(kNotAgreed));
    c.Settle(std::move(o),
             events.FirstAtOrAfter("securitytest.results.delivered", t->at,
                                   [&](const Event& d) { return d.subject == t->subject; }));
  }
  // Per test identifier: the tests and retests in order; a retest repeats the latest test.
  std::map<std::string, std::vector<Events>> by_subject;
  for (const Event* e : events.all()) {
    if (e->type == "securitytest.completed" || e->type == "buyertest.completed") {
      by_subject[e->subject].push_back({e});
    } else if (e->type == "retest.completed" && by_subject.count(e->subject)) {
      by_subject[e->subject].back().push_back(e);
    }
  }
  for (const auto& [id, series] : by_subject) {
    for (size_t i = 0; i < series.size(); ++i) {
      RemediationRules(c, events, id, series[i],
                       i + 1 < series.size() ? series[i + 1].front() : nullptr);
    }
  }
}

std::string MonthLabel(std::chrono::year_month m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(m.year()),
                static_cast<unsigned>(m.month()));
  return buf;
}

// 9.5.5: a report for every Month from the date the SMP sets (default the Start Date).
void MonthlyReports(Context& c, const Stream& events) {
  using namespace std::chrono;
  Date from = c.terms().start;
  for (const Event* e : events.OfType("smp.approved")) {
    if (std::optional<std::string_view> d = e->Attr("report_from")) {
      Result<Date> parsed = ParseDate(*d);
      if (parsed.ok()) from = std::max(*parsed, c.terms().start);
    }
  }
  std::map<std::string, const Event*> reports;
  for (const Event* e : events.OfType("report.submitted")) {
    reports.emplace(std::string(e->Attr("month").value_or("")), e);
  }
  for (year_month m = from.year() / from.month();; m += months(1)) {
    const Instant end = EndOfLondonDay(m / last);
    if (end > c.as_of()) {
      c.ChangesAt(end);
      break;
    }
    const std::string label = MonthLabel(m);
    auto it = reports.find(label);
    c.Settle(c.Start("9.5.5", "monthly_vulnerability_report",
                     "Monthly report of patched and outstanding vulnerabilities", label,
                     Trigger{0, "month.end", end}),
             it == reports.end() ? nullptr : it->second);
  }
}

}  // namespace

void ContractRules(Context& c, const Stream& events) {
  const Instant start = StartOfLondonDay(c.terms().start);
  if (c.as_of() < start) {
    c.ChangesAt(start);
    return;
  }
  const Event* isms = DocumentRules(c, events, "isms");
  const Event* smp = DocumentRules(c, events, "smp");
  ReviewRules(c, events, "isms", isms);
  ReviewRules(c, events, "smp", smp);
  ChangeRules(c, events);
  TestRules(c, events, isms);
  MonthlyReports(c, events);
}

}  // namespace isms::rules_internal
