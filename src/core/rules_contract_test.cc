#include <gtest/gtest.h>

#include "core/rules.h"
#include "core/rules_testing.h"

namespace isms {
namespace {

using testing::D;
using testing::Doc;
using testing::History;
using testing::T;
using State = ObligationState;

// Start Date 2026-06-01 (a Monday; no bank holiday until 2026-08-31).
constexpr const char* kStart = "2026-06-01";

TEST(RulesDocuments, SubmissionOnTimeIsMetAndDueEndsAtLondonMidnightInSummer) {
  History h(D(kStart));
  h.Add("isms.submitted", "", T("2026-06-29T20:00:00Z"), {{"doc", Doc(1)}});
  Evaluation ev = h.Eval(T("2026-07-10T00:00:00Z"));
  const std::optional<Obligation> o = History::Find(ev, "isms_submission", "isms");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->clause, "3.1");
  EXPECT_EQ(o->trigger_type, "contract.start");
  EXPECT_EQ(o->trigger_event_id, 0);
  EXPECT_EQ(o->due_date, D("2026-06-29"));
  EXPECT_EQ(o->due_at, T("2026-06-29T22:59:59.999Z"));
  EXPECT_EQ(o->state, State::kMet);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{1});
  EXPECT_EQ(o->timescale, (Period{20, Period::Unit::kWorkingDays}));
  EXPECT_EQ(o->timescale_source, TimescaleSource::kContract);
  EXPECT_EQ(o->consequence_text, "breach of 3.1");
}

TEST(RulesDocuments, SubmissionLateIsMetLateAndNeverIsBreached) {
  History h(D(kStart));
  h.Add("isms.submitted", "", T("2026-06-29T23:30:00Z"), {{"doc", Doc(1)}});
  Evaluation ev = h.Eval(T("2026-07-10T00:00:00Z"));
  EXPECT_EQ(History::Find(ev, "isms_submission", "isms")->state, State::kMetLate);
  const std::optional<Obligation> smp = History::Find(ev, "smp_submission", "smp");
  EXPECT_EQ(smp->clause, "4.1");
  EXPECT_EQ(smp->state, State::kBreached);
  EXPECT_FALSE(smp->closed_at.has_value());
  EXPECT_EQ(History::Find(h.Eval(T("2026-06-29T22:59:59.999Z")), "smp_submission", "smp")->state,
            State::kOpen);
}

TEST(RulesDocuments, BankHolidaysMoveTheDueDate) {
  History h(D("2026-12-14"));
  const std::optional<Obligation> o =
      History::Find(h.Eval(T("2026-12-20T00:00:00Z")), "isms_submission", "isms");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->due_date, D("2027-01-14"));
  EXPECT_EQ(o->due_at, T("2027-01-14T23:59:59.999Z"));
}

TEST(RulesDocuments, NonBespokeIsmsNeedsNoApprovalButTheSmpDoes) {
  History h(D(kStart));
  h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  h.Add("smp.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(2)}});
  Evaluation ev = h.Eval(T("2026-07-30T00:00:00Z"));
  EXPECT_FALSE(History::Find(ev, "isms_approval", "isms").has_value());
  const std::optional<Obligation> smp = History::Find(ev, "smp_approval", "smp");
  ASSERT_TRUE(smp.has_value());
  EXPECT_EQ(smp->clause, "4.3");
  EXPECT_EQ(smp->due_date, D("2026-06-26"));
  EXPECT_EQ(smp->state, State::kBreached);
  EXPECT_EQ(smp->consequence, Consequence::kEscalation);
}

TEST(RulesDocuments, BespokeIsmsApprovedInTime) {
  History h(D(kStart), /*bespoke=*/true);
  const auto s = h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  h.Add("isms.approved", "", T("2026-06-25T10:00:00Z"), {{"submission", std::to_string(s)}});
  Evaluation ev = h.Eval(T("2026-07-30T00:00:00Z"));
  const std::optional<Obligation> o = History::Find(ev, "isms_approval", "isms");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->clause, "3.7");
  EXPECT_EQ(o->due_date, D("2026-06-26"));
  EXPECT_EQ(o->state, State::kMet);
  EXPECT_EQ(History::Count(ev, "isms_resubmission"), 0);
}

TEST(RulesDocuments, BespokeIsmsNotApprovedInTimeIsAnEscalation) {
  History h(D(kStart), true);
  h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  const std::optional<Obligation> o =
      History::Find(h.Eval(T("2026-06-27T00:00:00Z")), "isms_approval", "isms");
  EXPECT_EQ(o->state, State::kBreached);
  EXPECT_EQ(o->consequence, Consequence::kEscalation);
  EXPECT_EQ(o->consequence_text, "escalation: Dispute Resolution Procedure");
}

TEST(RulesDocuments, RejectionStartsTheResubmissionClock) {
  History h(D(kStart), true);
  const auto s = h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  const auto r =
      h.Add("isms.rejected", "", T("2026-06-10T10:00:00Z"), {{"submission", std::to_string(s)}});
  Evaluation open = h.Eval(T("2026-06-24T12:00:00Z"));
  const std::optional<Obligation> o = History::Find(open, "isms_resubmission", "isms");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->trigger_event_id, r);
  EXPECT_EQ(o->due_date, D("2026-06-24"));
  EXPECT_EQ(o->state, State::kOpen);
  EXPECT_EQ(History::Find(h.Eval(T("2026-06-25T00:00:00Z")), "isms_resubmission", "isms")->state,
            State::kBreached);
  h.Add("isms.submitted", "", T("2026-06-26T09:00:00Z"), {{"doc", Doc(2)}});
  EXPECT_EQ(History::Find(h.Eval(T("2026-06-27T00:00:00Z")), "isms_resubmission", "isms")->state,
            State::kMetLate);
}

TEST(RulesDocuments, RejectedResubmissionEscalatesToDisputeResolution) {
  History h(D(kStart), true);
  const auto s1 = h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  h.Add("isms.rejected", "", T("2026-06-10T10:00:00Z"), {{"submission", std::to_string(s1)}});
  const auto s2 = h.Add("isms.submitted", "", T("2026-06-19T10:00:00Z"), {{"doc", Doc(2)}});
  const auto r2 =
      h.Add("isms.rejected", "", T("2026-06-22T10:00:00Z"), {{"submission", std::to_string(s2)}});
  Evaluation ev = h.Eval(T("2026-08-01T00:00:00Z"));
  EXPECT_EQ(History::Find(ev, "isms_resubmission", "isms")->state, State::kMet);
  EXPECT_EQ(History::Count(ev, "isms_resubmission"), 1);
  const std::optional<Obligation> esc = History::Find(ev, "isms_resubmission_rejected", "isms");
  ASSERT_TRUE(esc.has_value());
  EXPECT_EQ(esc->clause, "3.7");
  EXPECT_EQ(esc->state, State::kBreached);
  EXPECT_EQ(esc->consequence, Consequence::kEscalation);
  EXPECT_EQ(esc->consequence_text, "escalation: Dispute Resolution Procedure");
  EXPECT_FALSE(esc->due_at.has_value());
  EXPECT_EQ(esc->evidence, std::vector<std::int64_t>{r2});
  const std::optional<Obligation> approval = History::Find(ev, "isms_approval", "isms");
  EXPECT_EQ(approval->state, State::kSuperseded);
  EXPECT_EQ(approval->closed_at, T("2026-06-22T10:00:00Z"));
}

TEST(RulesDocuments, SmpRejectedResubmissionEscalatesWithoutBespoke) {
  History h(D(kStart));
  const auto s1 = h.Add("smp.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  h.Add("smp.rejected", "", T("2026-06-08T10:00:00Z"), {{"submission", std::to_string(s1)}});
  const auto s2 = h.Add("smp.submitted", "", T("2026-06-09T10:00:00Z"), {{"doc", Doc(2)}});
  h.Add("smp.rejected", "", T("2026-06-10T10:00:00Z"), {{"submission", std::to_string(s2)}});
  Evaluation ev = h.Eval(T("2026-08-01T00:00:00Z"));
  const std::optional<Obligation> esc = History::Find(ev, "smp_resubmission_rejected", "smp");
  ASSERT_TRUE(esc.has_value());
  EXPECT_EQ(esc->clause, "4.3");
  EXPECT_EQ(esc->consequence, Consequence::kEscalation);
}

TEST(RulesReviews, AnnualReviewChainFromAdoptionAndResultsDelivery) {
  History h(D(kStart));
  h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  const auto s = h.Add("smp.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(2)}});
  h.Add("smp.approved", "", T("2026-06-12T10:00:00Z"), {{"submission", std::to_string(s)}});
  const auto r = h.Add("review.completed", "", T("2027-05-03T10:00:00Z"), {{"doc", "isms"}});
  Evaluation ev = h.Eval(T("2027-06-30T00:00:00Z"));
  const std::optional<Obligation> first = History::Find(ev, "isms_review", "isms", 0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->clause, "5.1");
  EXPECT_EQ(first->trigger_event_id, 1);
  EXPECT_EQ(first->due_date, D("2027-06-05"));
  EXPECT_EQ(first->state, State::kMet);
  const std::optional<Obligation> second = History::Find(ev, "isms_review", "isms", 1);
  EXPECT_EQ(second->trigger_event_id, r);
  EXPECT_EQ(second->due_date, D("2028-05-03"));
  EXPECT_EQ(second->state, State::kOpen);
  const std::optional<Obligation> smp = History::Find(ev, "isms_review", "smp");
  EXPECT_EQ(smp->due_date, D("2027-06-12"));
  EXPECT_EQ(smp->state, State::kBreached);
  const std::optional<Obligation> results = History::Find(ev, "review_results", "isms");
  EXPECT_EQ(results->clause, "5.2");
  EXPECT_EQ(results->timescale_source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(results->due_date, D("2027-05-17"));
  EXPECT_EQ(results->state, State::kBreached);
  h.Add("review.results.delivered", "", T("2027-05-10T10:00:00Z"), {{"doc", "isms"}});
  EXPECT_EQ(History::Find(h.Eval(T("2027-06-30T00:00:00Z")), "review_results", "isms")->state,
            State::kMet);
}

TEST(RulesChanges, ApprovedBeforeImplementationIsMet) {
  History h(D(kStart));
  h.Add("change.proposed", "CHG-1", T("2026-07-01T10:00:00Z"));
  h.Add("change.approved", "CHG-1", T("2026-07-02T10:00:00Z"));
  h.Add("change.implemented", "CHG-1", T("2026-07-03T10:00:00Z"));
  Evaluation ev = h.Eval(T("2026-07-10T00:00:00Z"));
  const std::optional<Obligation> gate = History::Find(ev, "change_approval", "CHG-1");
  ASSERT_TRUE(gate.has_value());
  EXPECT_EQ(gate->clause, "5.3");
  EXPECT_EQ(gate->state, State::kMet);
  EXPECT_FALSE(gate->timescale.has_value());
  const std::optional<Obligation> test = History::Find(ev, "change_security_test", "CHG-1");
  ASSERT_TRUE(test.has_value());
  EXPECT_EQ(test->clause, "6.1");
  EXPECT_EQ(test->due_date, D("2026-08-02"));
  EXPECT_EQ(test->timescale_source, TimescaleSource::kPolicyDefault);
}

TEST(RulesChanges, ImplementedBeforeApprovalIsABreachAtTheImplementation) {
  History h(D(kStart));
  h.Add("change.proposed", "CHG-2", T("2026-07-01T10:00:00Z"));
  EXPECT_EQ(History::Find(h.Eval(T("2026-07-01T12:00:00Z")), "change_approval", "CHG-2")->state,
            State::kOpen);
  const auto impl = h.Add("change.implemented", "CHG-2", T("2026-07-02T10:00:00Z"));
  h.Add("change.approved", "CHG-2", T("2026-07-03T10:00:00Z"));
  const std::optional<Obligation> gate =
      History::Find(h.Eval(T("2026-07-10T00:00:00Z")), "change_approval", "CHG-2");
  EXPECT_EQ(gate->state, State::kBreached);
  EXPECT_EQ(gate->closed_at, T("2026-07-02T10:00:00Z"));
  EXPECT_EQ(gate->evidence, std::vector<std::int64_t>{impl});
  ASSERT_EQ(gate->flags.size(), 1u);
  EXPECT_EQ(gate->flags[0], "approved after implementation (event 3)");
}

TEST(RulesSecurityTests, AnnualTestChainAndResultsAndAgreementFlag) {
  History h(D(kStart));
  h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  h.Add("securitytest.agreed", "ST-1", T("2027-04-01T10:00:00Z"));
  h.Add("securitytest.completed", "ST-1", T("2027-05-03T10:00:00Z"), {{"weakness", "no"}});
  h.Add("securitytest.results.delivered", "ST-1", T("2027-05-20T10:00:00Z"));
  h.Add("securitytest.completed", "ST-2", T("2028-06-01T10:00:00Z"), {{"weakness", "no"}});
  Evaluation ev = h.Eval(T("2028-07-01T00:00:00Z"));
  const std::optional<Obligation> first = History::Find(ev, "security_test", "isms", 0);
  EXPECT_EQ(first->due_date, D("2027-06-05"));
  EXPECT_EQ(first->state, State::kMet);
  EXPECT_TRUE(first->flags.empty());
  const std::optional<Obligation> second = History::Find(ev, "security_test", "isms", 1);
  EXPECT_EQ(second->due_date, D("2028-05-03"));
  EXPECT_EQ(second->state, State::kMetLate);
  ASSERT_EQ(second->flags.size(), 1u);
  EXPECT_EQ(second->flags[0], "Security Test ST-2 not agreed with the Buyer in advance (6.1)");
  const std::optional<Obligation> results = History::Find(ev, "test_results", "ST-1");
  EXPECT_EQ(results->clause, "6.2");
  EXPECT_EQ(results->due_date, D("2027-05-17"));
  EXPECT_EQ(results->state, State::kMetLate);
  EXPECT_EQ(History::Find(ev, "test_results", "ST-2")->state, State::kBreached);
  EXPECT_EQ(History::Find(ev, "security_test", "isms", 2)->state, State::kOpen);
}

TEST(RulesSecurityTests, ChangeTestMetByATestAfterTheChange) {
  History h(D(kStart));
  h.Add("change.approved", "CHG-1", T("2026-07-01T10:00:00Z"));
  h.Add("change.implemented", "CHG-1", T("2026-07-02T10:00:00Z"));
  h.Add("securitytest.completed", "ST-C", T("2026-08-05T10:00:00Z"),
        {{"weakness", "no"}, {"scope", "change"}});
  Evaluation ev = h.Eval(T("2026-09-01T00:00:00Z"));
  EXPECT_EQ(History::Find(ev, "change_security_test", "CHG-1")->state, State::kMetLate);
}

TEST(RulesSecurityTests, WeaknessNeedsNotificationAndRetest) {
  History h(D(kStart));
  h.Add("securitytest.completed", "ST-1", T("2026-07-01T10:00:00Z"),
        {{"weakness", "yes"}, {"root_cause", "RC-1"}});
  Evaluation ev = h.Eval(T("2026-07-20T00:00:00Z"));
  const std::optional<Obligation> notify = History::Find(ev, "test_remediation", "ST-1");
  ASSERT_TRUE(notify.has_value());
  EXPECT_EQ(notify->clause, "6.4");
  EXPECT_EQ(notify->due_date, D("2026-07-08"));
  EXPECT_EQ(notify->state, State::kBreached);
  const std::optional<Obligation> retest = History::Find(ev, "test_retest", "ST-1");
  ASSERT_TRUE(retest.has_value());
  EXPECT_FALSE(retest->timescale.has_value());
  EXPECT_EQ(retest->state, State::kOpen);
  h.Add("changes.notified", "ST-1", T("2026-07-03T10:00:00Z"));
  h.Add("retest.completed", "ST-1", T("2026-08-03T10:00:00Z"), {{"weakness", "no"}});
  ev = h.Eval(T("2026-09-01T00:00:00Z"));
  EXPECT_EQ(History::Find(ev, "test_remediation", "ST-1")->state, State::kMet);
  EXPECT_EQ(History::Find(ev, "test_retest", "ST-1")->state, State::kMet);
  EXPECT_EQ(History::Count(ev, "repeat_test_failure"), 0);
}

TEST(RulesSecurityTests, RetestWithTheSameRootCauseIsAMaterialDefault) {
  History h(D(kStart));
  const auto t = h.Add("buyertest.completed", "BT-1", T("2026-07-01T10:00:00Z"),
                       {{"weakness", "yes"}, {"root_cause", "RC-1,RC-2"}});
  h.Add("changes.notified", "BT-1", T("2026-07-03T10:00:00Z"));
  const auto r = h.Add("retest.completed", "BT-1", T("2026-08-03T10:00:00Z"),
                       {{"weakness", "yes"}, {"root_cause", "RC-2"}});
  Evaluation ev = h.Eval(T("2026-08-04T00:00:00Z"));
  const std::optional<Obligation> md = History::Find(ev, "repeat_test_failure", "BT-1");
  ASSERT_TRUE(md.has_value());
  EXPECT_EQ(md->clause, "6.5");
  EXPECT_EQ(md->state, State::kBreached);
  EXPECT_EQ(md->consequence, Consequence::kMaterialDefault);
  EXPECT_EQ(md->consequence_text, "material Default");
  EXPECT_EQ(md->trigger_event_id, r);
  EXPECT_EQ(md->evidence, (std::vector<std::int64_t>{r, t}));
  EXPECT_EQ(md->closed_at, T("2026-08-03T10:00:00Z"));
  EXPECT_EQ(History::Count(ev, "test_remediation"), 2);
  EXPECT_EQ(RootCausesInUse(h.events()), (std::vector<std::string>{"RC-1", "RC-2"}));
}

TEST(RulesSecurityTests, RetestWithADifferentRootCauseIsNoMaterialDefault) {
  History h(D(kStart));
  h.Add("securitytest.completed", "ST-1", T("2026-07-01T10:00:00Z"),
        {{"weakness", "yes"}, {"root_cause", "RC-1"}});
  h.Add("retest.completed", "ST-1", T("2026-08-03T10:00:00Z"),
        {{"weakness", "yes"}, {"root_cause", "rc-1"}});
  Evaluation ev = h.Eval(T("2026-08-04T00:00:00Z"));
  EXPECT_EQ(History::Count(ev, "repeat_test_failure"), 0);
  EXPECT_EQ(History::Count(ev, "test_retest"), 2);
  EXPECT_EQ(History::Find(ev, "test_retest", "ST-1", 0)->state, State::kMet);
  EXPECT_EQ(History::Find(ev, "test_retest", "ST-1", 1)->state, State::kOpen);
}

TEST(RulesMonthlyReports, FirstPartialMonthAndDueFiveWorkingDaysAfterTheMonth) {
  History h(D("2026-12-14"));
  h.Add("report.submitted", "", T("2027-01-08T10:00:00Z"),
        {{"month", "2026-12"}, {"sha256", std::string(64, 'b')}});
  Evaluation ev = h.Eval(T("2027-02-15T00:00:00Z"));
  const std::optional<Obligation> dec =
      History::Find(ev, "monthly_vulnerability_report", "2026-12");
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(dec->clause, "9.5.5");
  EXPECT_EQ(dec->trigger_type, "month.end");
  EXPECT_EQ(dec->trigger_at, T("2026-12-31T23:59:59.999Z"));
  EXPECT_EQ(dec->due_date, D("2027-01-08"));
  EXPECT_EQ(dec->state, State::kMet);
  const std::optional<Obligation> jan =
      History::Find(ev, "monthly_vulnerability_report", "2027-01");
  EXPECT_EQ(jan->due_date, D("2027-02-05"));
  EXPECT_EQ(jan->state, State::kBreached);
  EXPECT_FALSE(History::Find(ev, "monthly_vulnerability_report", "2027-02").has_value());
  EXPECT_EQ(ev.next_change, T("2027-02-28T23:59:59.999Z"));
}

TEST(RulesMonthlyReports, TheSmpSetsTheFirstMonth) {
  History h(D(kStart));
  const auto s = h.Add("smp.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  h.Add("smp.approved", "", T("2026-06-12T10:00:00Z"),
        {{"submission", std::to_string(s)}, {"report_from", "2026-09-01"}});
  Evaluation ev = h.Eval(T("2026-11-15T00:00:00Z"));
  EXPECT_FALSE(History::Find(ev, "monthly_vulnerability_report", "2026-08").has_value());
  EXPECT_TRUE(History::Find(ev, "monthly_vulnerability_report", "2026-09").has_value());
  EXPECT_EQ(History::Count(ev, "monthly_vulnerability_report"), 2);
}

}  // namespace
}  // namespace isms
