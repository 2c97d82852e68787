#include <gtest/gtest.h>

#include "core/rules.h"
#include "core/rules_testing.h"

namespace isms {
namespace {

using testing::D;
using testing::History;
using testing::T;
using State = ObligationState;

constexpr const char* kStart = "2026-06-01";

TEST(RulesIncidents, NotificationWithin24HoursAcrossTheOctoberClockChange) {
  History h(D(kStart));
  h.Add("breach.detected", "INC-7", T("2026-10-24T12:00:00Z"));
  Evaluation ev = h.Eval(T("2026-10-25T11:00:00Z"));
  const std::optional<Obligation> o = History::Find(ev, "breach_notification", "INC-7");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->clause, "8.1");
  EXPECT_EQ(o->due_at, T("2026-10-25T12:00:00Z"));
  EXPECT_FALSE(o->due_date.has_value());
  EXPECT_EQ(o->timescale_source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(o->state, State::kOpen);
  EXPECT_EQ(
      History::Find(h.Eval(T("2026-10-25T12:00:00.001Z")), "breach_notification", "INC-7")->state,
      State::kBreached);
  h.Add("breach.notified", "INC-7", T("2026-10-25T11:30:00Z"));
  EXPECT_EQ(History::Find(h.Eval(T("2026-10-26T00:00:00Z")), "breach_notification", "INC-7")->state,
            State::kMet);
}

TEST(RulesIncidents, DataRequestsDetailsAndRootCauseAnalysis) {
  History h(D(kStart));
  h.Add("breach.detected", "INC-1", T("2026-07-01T10:00:00Z"));
  h.Add("datarequest.received", "INC-1", T("2026-07-03T10:00:00Z"), {{"request", "Q1"}});
  h.Add("datarequest.received", "INC-1", T("2026-07-03T11:00:00Z"), {{"request", "Q2"}});
  h.Add("datarequest.answered", "INC-1", T("2026-07-07T10:00:00Z"), {{"request", "Q2"}});
  h.Add("details.delivered", "INC-1", T("2026-07-10T10:00:00Z"));
  Evaluation ev = h.Eval(T("2026-07-20T00:00:00Z"));
  const std::optional<Obligation> q1 = History::Find(ev, "incident_data_request", "INC-1", 0);
  EXPECT_EQ(q1->clause, "8.2.1.5");
  EXPECT_EQ(q1->due_date, D("2026-07-07"));
  EXPECT_EQ(q1->state, State::kBreached);
  EXPECT_EQ(History::Find(ev, "incident_data_request", "INC-1", 1)->state, State::kMet);
  const std::optional<Obligation> details = History::Find(ev, "breach_details", "INC-1");
  EXPECT_EQ(details->clause, "8.2.2");
  EXPECT_EQ(details->due_date, D("2026-07-15"));
  EXPECT_EQ(details->state, State::kMet);
  EXPECT_EQ(History::Count(ev, "breach_details"), 1);
  h.Add("rca.requested", "INC-1", T("2026-07-13T10:00:00Z"));
  ev = h.Eval(T("2026-07-20T00:00:00Z"));
  const std::optional<Obligation> rca = History::Find(ev, "breach_details", "INC-1", 1);
  ASSERT_TRUE(rca.has_value());
  EXPECT_EQ(rca->trigger_type, "rca.requested");
  EXPECT_EQ(rca->due_date, D("2026-07-27"));
  EXPECT_EQ(rca->state, State::kOpen);
  h.Add("rca.delivered", "INC-1", T("2026-07-28T10:00:00Z"));
  EXPECT_EQ(History::Find(h.Eval(T("2026-08-01T00:00:00Z")), "breach_details", "INC-1", 1)->state,
            State::kMetLate);
}

TEST(RulesPeople, TrainingChainEndsWhenThePersonLeaves) {
  History h(D(kStart));
  h.Add("person.joined", "alice", T("2026-06-10T09:00:00Z"));
  h.Add("person.trained", "alice", T("2027-06-01T09:00:00Z"));
  Evaluation ev = h.Eval(T("2027-07-01T00:00:00Z"));
  const std::optional<Obligation> first = History::Find(ev, "security_training", "alice", 0);
  EXPECT_EQ(first->clause, "A1 6.4");
  EXPECT_EQ(first->due_date, D("2027-06-10"));
  EXPECT_EQ(first->state, State::kMet);
  const std::optional<Obligation> second = History::Find(ev, "security_training", "alice", 1);
  EXPECT_EQ(second->due_date, D("2028-06-01"));
  EXPECT_EQ(second->state, State::kOpen);
  h.Add("person.left", "alice", T("2027-09-01T16:00:00Z"));
  ev = h.Eval(T("2029-01-01T00:00:00Z"));
  EXPECT_EQ(History::Find(ev, "security_training", "alice", 1)->state, State::kSuperseded);
  EXPECT_EQ(History::Count(ev, "security_training"), 2);
}

TEST(RulesPeople, TrainingNeverDoneIsBreached) {
  History h(D(kStart));
  h.Add("person.joined", "bob", T("2026-06-10T09:00:00Z"));
  const std::optional<Obligation> o =
      History::Find(h.Eval(T("2027-06-11T00:00:00Z")), "security_training", "bob");
  EXPECT_EQ(o->state, State::kBreached);
}

TEST(RulesPeople, AccessRevokedWithinOneWorkingDay) {
  History h(D(kStart));
  h.Add("person.joined", "alice", T("2026-06-10T09:00:00Z"));
  h.Add("access.revoked", "alice", T("2026-09-02T08:00:00Z"));
  h.Add("person.left", "alice", T("2026-09-02T16:00:00Z"));
  h.Add("person.joined", "carol", T("2026-06-10T09:00:00Z"));
  h.Add("privilege.unneeded", "carol", T("2026-09-04T16:00:00Z"));
  h.Add("access.revoked", "carol", T("2026-09-08T08:00:00Z"));
  Evaluation ev = h.Eval(T("2026-09-10T00:00:00Z"));
  const std::optional<Obligation> a = History::Find(ev, "access_revocation", "alice");
  EXPECT_EQ(a->clause, "A1 6.5");
  EXPECT_EQ(a->due_date, D("2026-09-03"));
  EXPECT_EQ(a->state, State::kMet);
  const std::optional<Obligation> c = History::Find(ev, "access_revocation", "carol");
  EXPECT_EQ(c->due_date, D("2026-09-07"));
  EXPECT_EQ(c->state, State::kMetLate);
  EXPECT_EQ(History::Find(ev, "security_training", "alice")->state, State::kSuperseded);
}

TEST(RulesData, DemandErasureAndThreat) {
  History h(D(kStart));
  h.Add("data.demanded", "DD-1", T("2026-07-01T10:00:00Z"));
  h.Add("data.provided", "DD-1", T("2026-07-10T10:00:00Z"));
  h.Add("erasure.requested", "ER-1", T("2026-07-01T10:00:00Z"));
  h.Add("threat.learned", "CVE-2026-1", T("2026-07-03T10:00:00Z"));
  h.Add("threat.informed", "CVE-2026-1", T("2026-07-06T10:00:00Z"));
  Evaluation ev = h.Eval(T("2026-07-20T00:00:00Z"));
  const std::optional<Obligation> d = History::Find(ev, "data_return", "DD-1");
  EXPECT_EQ(d->clause, "A1 3.3.1");
  EXPECT_EQ(d->due_date, D("2026-07-15"));
  EXPECT_EQ(d->state, State::kMet);
  const std::optional<Obligation> e = History::Find(ev, "data_erasure", "ER-1");
  EXPECT_EQ(e->clause, "A1 3.3.4");
  EXPECT_EQ(e->state, State::kBreached);
  const std::optional<Obligation> t = History::Find(ev, "threat_notification", "CVE-2026-1");
  EXPECT_EQ(t->clause, "9.5.8");
  EXPECT_EQ(t->due_date, D("2026-07-06"));
  EXPECT_EQ(t->state, State::kMet);
}

TEST(RulesPolicy, AChangeAppliesToClocksStartedFromItsDateOnly) {
  History h(D(kStart));
  Policy varied = Policy::Defaults();
  ASSERT_TRUE(varied.SetPeriod("breach_details", {5, Period::Unit::kWorkingDays}, "CCN-1").ok());
  h.policies() = {{D(kStart), Policy::Defaults()}, {D("2026-09-01"), varied}};
  h.Add("breach.detected", "INC-OLD", T("2026-08-27T10:00:00Z"));
  h.Add("breach.detected", "INC-NEW", T("2026-09-02T10:00:00Z"));
  Evaluation ev = h.Eval(T("2026-10-01T00:00:00Z"));
  const std::optional<Obligation> old_clock = History::Find(ev, "breach_details", "INC-OLD");
  EXPECT_EQ(old_clock->timescale, (Period{10, Period::Unit::kWorkingDays}));
  EXPECT_EQ(old_clock->timescale_source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(old_clock->due_date, D("2026-09-11"));
  const std::optional<Obligation> new_clock = History::Find(ev, "breach_details", "INC-NEW");
  EXPECT_EQ(new_clock->timescale, (Period{5, Period::Unit::kWorkingDays}));
  EXPECT_EQ(new_clock->timescale_source, TimescaleSource::kVaried);
  EXPECT_EQ(new_clock->due_date, D("2026-09-09"));
}

TEST(RulesPolicy, PolicyInForceChoosesByDate) {
  Policy varied = Policy::Defaults();
  varied.at_risk_percent = 50;
  std::vector<PolicyVersion> versions = {{D("2026-06-01"), Policy::Defaults()},
                                         {D("2026-09-01"), varied}};
  EXPECT_EQ(PolicyInForce(versions, D("2026-05-01")).at_risk_percent, 75);
  EXPECT_EQ(PolicyInForce(versions, D("2026-08-31")).at_risk_percent, 75);
  EXPECT_EQ(PolicyInForce(versions, D("2026-09-01")).at_risk_percent, 50);
  EXPECT_EQ(PolicyInForce({}, D("2026-09-01")).at_risk_percent, 75);
}

TEST(RulesBackdated, FlaggedWhenRecordedAfterTwoWorkingDays) {
  Calendar cal;
  Policy p = Policy::Defaults();
  Event e;
  e.type = "person.joined";
  e.at = T("2026-07-01T10:00:00Z");
  e.recorded_at = T("2026-07-03T22:59:59.999Z");
  EXPECT_FALSE(IsBackdated(e, cal, p));
  e.recorded_at = T("2026-07-03T23:00:00Z");
  EXPECT_TRUE(IsBackdated(e, cal, p));

  History h(D(kStart));
  Event joined = h.Make("person.joined", "dave", T("2026-07-01T10:00:00Z"));
  joined.recorded_at = T("2026-07-10T10:00:00Z");
  h.Append(joined);
  const std::optional<Obligation> o =
      History::Find(h.Eval(T("2026-07-11T00:00:00Z")), "security_training", "dave");
  ASSERT_EQ(o->flags.size(), 1u);
  EXPECT_EQ(o->flags[0], "event 1 backdated: happened 2026-07-01, recorded 2026-07-10");
}

TEST(RulesSupersede, CorrectionReplacesAndRetractionWithdraws) {
  History h(D(kStart));
  h.Add("breach.detected", "INC-2", T("2026-07-01T10:00:00Z"));
  Event fix = h.Make("breach.detected", "INC-2", T("2026-07-02T10:00:00Z"));
  fix.supersedes = 1;
  ASSERT_TRUE(h.Check(fix).ok());
  h.Append(fix);
  h.Add("breach.notified", "INC-2", T("2026-07-03T09:00:00Z"));
  Evaluation ev = h.Eval(T("2026-07-10T00:00:00Z"));
  EXPECT_EQ(History::Count(ev, "breach_notification"), 1);
  const std::optional<Obligation> o = History::Find(ev, "breach_notification", "INC-2");
  EXPECT_EQ(o->trigger_event_id, 2);
  EXPECT_EQ(o->state, State::kMet);

  Event undo = RetractionOf(h.events()[2]);
  undo.id = 4;
  undo.recorded_at = T("2026-07-10T00:00:00Z");
  ASSERT_TRUE(h.Check(undo).ok()) << h.Check(undo).ToString();
  EXPECT_EQ(StreamOf(undo), "incident:INC-2");
  h.Append(undo);
  ev = h.Eval(T("2026-07-10T00:00:00Z"));
  EXPECT_EQ(History::Find(ev, "breach_notification", "INC-2")->state, State::kBreached);

  Event again = h.Make("breach.notified", "INC-2", T("2026-07-03T09:00:00Z"));
  again.supersedes = 3;
  EXPECT_EQ(h.Check(again).code(), StatusCode::kInvalidArgument);
  Event undo_undo = h.Make("breach.notified", "INC-2", T("2026-07-03T09:00:00Z"));
  undo_undo.supersedes = 4;
  EXPECT_EQ(h.Check(undo_undo).message(),
            "supersedes: event 4 is a retraction: record the fact again as a new event");
}

TEST(RulesSupersede, CorrectionOfAnEventAfterAsOfHidesTheOriginal) {
  History h(D(kStart));
  h.Add("data.demanded", "DD-9", T("2026-07-01T10:00:00Z"));
  Event fix = h.Make("data.demanded", "DD-9", T("2026-07-20T10:00:00Z"));
  fix.supersedes = 1;
  h.Append(fix);
  EXPECT_EQ(History::Count(h.Eval(T("2026-07-10T00:00:00Z")), "data_return"), 0);
  EXPECT_EQ(History::Count(h.Eval(T("2026-07-21T00:00:00Z")), "data_return"), 1);
}

TEST(RulesNextChange, IsTheFirstInstantTheResultChanges) {
  History h(D(kStart));
  h.Add("person.joined", "erin", T("2026-06-10T09:00:00Z"));
  h.Add("breach.detected", "INC-3", T("2026-06-20T09:00:00Z"));
  const Instant as_of = T("2026-06-20T10:00:00Z");
  Evaluation ev = h.Eval(as_of);
  ASSERT_TRUE(ev.next_change.has_value());
  EXPECT_EQ(*ev.next_change, T("2026-06-21T09:00:00.001Z"));
  EXPECT_EQ(h.Eval(*ev.next_change - std::chrono::milliseconds(1)).obligations, ev.obligations);
  EXPECT_NE(h.Eval(*ev.next_change).obligations, ev.obligations);

  History before(D(kStart));
  Evaluation early = before.Eval(T("2026-05-01T00:00:00Z"));
  EXPECT_TRUE(early.obligations.empty());
  EXPECT_EQ(early.next_change, StartOfLondonDay(D(kStart)));

  Evaluation person = EvaluateStream(h.terms(), h.policies(), h.calendar(), "person:erin",
                                     h.events(), T("2027-06-11T00:00:00Z"));
  EXPECT_FALSE(person.next_change.has_value());
  ASSERT_EQ(person.obligations.size(), 1u);
  EXPECT_EQ(person.obligations[0].state, State::kBreached);
}

TEST(RulesStreams, StreamOfEachFamily) {
  Event e;
  e.type = "isms.submitted";
  EXPECT_EQ(StreamOf(e), "");
  e.type = "change.approved";
  e.subject = "CHG-1";
  EXPECT_EQ(StreamOf(e), "");
  e.type = "person.left";
  e.subject = "alice";
  EXPECT_EQ(StreamOf(e), "person:alice");
  e.type = "access.revoked";
  EXPECT_EQ(StreamOf(e), "person:alice");
  e.type = "rca.requested";
  e.subject = "INC-7";
  EXPECT_EQ(StreamOf(e), "incident:INC-7");
  e.type = "data.provided";
  EXPECT_EQ(StreamOf(e), "data:INC-7");
  e.type = "erasure.completed";
  EXPECT_EQ(StreamOf(e), "erasure:INC-7");
  e.type = "threat.learned";
  EXPECT_EQ(StreamOf(e), "threat:INC-7");
  EXPECT_EQ(StreamOf(RetractionOf(e)), "threat:INC-7");
}

}  // namespace
}  // namespace isms
