#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/rules.h"
#include "core/rules_testing.h"

namespace isms {
namespace {

using testing::D;
using testing::Doc;
using testing::T;

// A long random history over every stream family, with corrections and retractions. Not every
// event would pass validation: the rules must still be total and deterministic.
std::vector<Event> RandomHistory(std::mt19937& rng, int n, Instant start) {
  const std::vector<std::string> contract_types = {"isms.submitted",
                                                   "isms.approved",
                                                   "isms.rejected",
                                                   "smp.submitted",
                                                   "smp.approved",
                                                   "smp.rejected",
                                                   "review.completed",
                                                   "review.results.delivered",
                                                   "change.proposed",
                                                   "change.approved",
                                                   "change.implemented",
                                                   "securitytest.agreed",
                                                   "securitytest.completed",
                                                   "buyertest.completed",
                                                   "securitytest.results.delivered",
                                                   "changes.notified",
                                                   "retest.completed",
                                                   "report.submitted"};
  const std::vector<std::string> subject_types = {
      "breach.detected",   "breach.notified", "datarequest.received", "datarequest.answered",
      "details.delivered", "rca.requested",   "rca.delivered",        "person.joined",
      "person.trained",    "person.left",     "privilege.unneeded",   "access.revoked",
      "data.demanded",     "data.provided",   "erasure.requested",    "erasure.completed",
      "threat.learned",    "threat.informed"};
  std::vector<Event> events;
  Instant at = start;
  for (int i = 1; i <= n; ++i) {
    at += std::chrono::minutes(std::uniform_int_distribution<int>(0, 3 * 24 * 60)(rng));
    Event e;
    e.id = i;
    e.at = at - std::chrono::hours(std::uniform_int_distribution<int>(0, 200)(rng));
    if (e.at < start) e.at = start;
    e.recorded_at = at;
    e.actor = "r";
    const int kind = std::uniform_int_distribution<int>(0, 99)(rng);
    if (kind < 5 && !events.empty()) {
      const Event& target =
          events[std::uniform_int_distribution<size_t>(0, events.size() - 1)(rng)];
      if (kind < 2) {
        e = [&] {
          Event r = RetractionOf(target);
          r.id = i;
          r.recorded_at = at;
          return r;
        }();
      } else {
        const std::int64_t id = e.id;
        const Instant rec = e.recorded_at;
        e = target;
        e.id = id;
        e.recorded_at = rec;
        e.at = target.at + std::chrono::hours(std::uniform_int_distribution<int>(-5, 48)(rng));
        if (e.at < start) e.at = start;
        e.supersedes = target.id;
      }
      events.push_back(e);
      continue;
    }
    const int sub = std::uniform_int_distribution<int>(0, 5)(rng);
    if (kind < 55) {
      e.type =
          contract_types[std::uniform_int_distribution<size_t>(0, contract_types.size() - 1)(rng)];
      if (e.type.find("change") == 0) e.subject = "CHG-" + std::to_string(sub);
      if (e.type.find("test") != std::string::npos || e.type == "changes.notified") {
        e.subject = "ST-" + std::to_string(sub);
      }
      e.SetAttr("doc", sub % 2 ? "isms" : "smp");
      if (e.type.find(".submitted") != std::string::npos && e.type != "report.submitted") {
        e.SetAttr("doc", Doc(i));
      }
      if (e.type.find(".approved") != std::string::npos ||
          e.type.find(".rejected") != std::string::npos) {
        e.SetAttr("submission", std::to_string(std::max(1, i - sub)));
      }
      e.SetAttr("weakness", sub % 3 ? "yes" : "no");
      e.SetAttr("root_cause", "RC-" + std::to_string(sub % 3) + ",RC-" + std::to_string(sub));
      const Date d = LondonDate(e.at);
      const std::chrono::year_month m =
          d.year() / d.month() - std::chrono::months(std::uniform_int_distribution<int>(1, 3)(rng));
      char month[16];
      std::snprintf(month, sizeof month, "%04d-%02u", static_cast<int>(m.year()),
                    static_cast<unsigned>(m.month()));
      e.SetAttr("month", month);
      if (sub == 0) e.SetAttr("report_from", "2026-09-15");
    } else {
      e.type =
          subject_types[std::uniform_int_distribution<size_t>(0, subject_types.size() - 1)(rng)];
      e.subject = "S" + std::to_string(sub);
      if (sub % 2) e.SetAttr("request", "Q" + std::to_string(sub % 4));
    }
    events.push_back(e);
  }
  return events;
}

std::vector<Obligation> Sorted(std::vector<Obligation> v) {
  std::sort(v.begin(), v.end(), ObligationBefore);
  return v;
}

class RulesRandomised : public ::testing::Test {
 protected:
  RulesRandomised() {
    terms_.name = "r";
    terms_.start = D("2026-06-01");
    terms_.bespoke_isms = true;
    Policy varied = Policy::Defaults();
    EXPECT_TRUE(varied.SetPeriod("breach_notification", {48, Period::Unit::kHours}).ok());
    EXPECT_TRUE(varied.SetPeriod("isms_review", {6, Period::Unit::kMonths}).ok());
    policies_ = {{terms_.start, Policy::Defaults()}, {D("2027-06-01"), varied}};
  }
  ContractTerms terms_;
  std::vector<PolicyVersion> policies_;
  Calendar calendar_;
};

TEST_F(RulesRandomised, WholeEqualsIncrementalPerStreamEvaluation) {
  std::mt19937 rng(20260601);
  const std::vector<Event> events = RandomHistory(rng, 4000, StartOfLondonDay(terms_.start));
  const Instant as_of = events.back().recorded_at + std::chrono::hours(24 * 40);

  Evaluation whole = EvaluateContract(terms_, policies_, calendar_, events, as_of);
  EXPECT_GT(whole.obligations.size(), 1000u);
  EXPECT_EQ(whole.obligations,
            EvaluateContract(terms_, policies_, calendar_, events, as_of).obligations);

  // The ledger's way: after each event, re-evaluate only its stream from its own events.
  std::map<std::string, std::vector<Event>> stream_events;
  std::map<std::string, Evaluation> projection;
  projection[""] = EvaluateStream(terms_, policies_, calendar_, "", {}, as_of);
  for (const Event& e : events) {
    const std::string s = StreamOf(e);
    stream_events[s].push_back(e);
    projection[s] = EvaluateStream(terms_, policies_, calendar_, s, stream_events[s], as_of);
  }
  std::vector<Obligation> merged;
  std::optional<Instant> next;
  for (const auto& [s, ev] : projection) {
    merged.insert(merged.end(), ev.obligations.begin(), ev.obligations.end());
    if (ev.next_change && (!next || *ev.next_change < *next)) next = ev.next_change;
  }
  EXPECT_EQ(Sorted(merged), whole.obligations);
  EXPECT_EQ(next, whole.next_change);

  std::map<std::string, int> ids;
  for (const Obligation& o : whole.obligations) ++ids[ObligationId(o)];
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
}

TEST_F(RulesRandomised, NextChangeIsExact) {
  std::mt19937 rng(7);
  const std::vector<Event> events = RandomHistory(rng, 600, StartOfLondonDay(terms_.start));
  for (int i = 0; i < 40; ++i) {
    const Instant as_of =
        StartOfLondonDay(terms_.start) +
        std::chrono::minutes(std::uniform_int_distribution<int>(-3000, 900 * 24 * 60)(rng));
    std::vector<Event> known;
    for (const Event& e : events) {
      if (e.at <= as_of) known.push_back(e);
    }
    Evaluation now = EvaluateContract(terms_, policies_, calendar_, known, as_of);
    ASSERT_TRUE(now.next_change.has_value());
    ASSERT_GT(*now.next_change, as_of);
    Evaluation just_before = EvaluateContract(terms_, policies_, calendar_, known,
                                              *now.next_change - std::chrono::milliseconds(1));
    EXPECT_EQ(just_before.obligations, now.obligations) << FormatInstant(as_of);
    EXPECT_EQ(just_before.next_change, now.next_change);
    Evaluation after = EvaluateContract(terms_, policies_, calendar_, known, *now.next_change);
    EXPECT_NE(after.obligations, now.obligations) << FormatInstant(as_of);
  }
}

}  // namespace
}  // namespace isms
