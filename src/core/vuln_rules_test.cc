#include "core/vuln_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/event_types.h"
#include "core/rules_testing.h"

namespace isms {
namespace {

using testing::Attrs;
using testing::D;
using testing::History;
using testing::T;

constexpr std::chrono::milliseconds kMs{1};

class Finding : public ::testing::Test {
 protected:
  Finding() : h_(D("2026-01-01")) {
    facts_.id = "F-1";
    facts_.asset = "web-01";
    facts_.vuln_id = "CVE-2026-1234";
    facts_.category = Category::kCritical;
    facts_.first_seen = T("2026-06-03T09:00:00Z");
    Released("2026-06-01");
  }

  void Released(const std::string& date, bool assumed = false) {
    facts_.fix_available = true;
    facts_.release = PatchRelease{D(date), assumed ? "assumed" : "nessus", assumed};
  }
  void NoFix() {
    facts_.fix_available = false;
    facts_.release.reset();
  }

  std::int64_t Add(const std::string& type, const std::string& at, const Attrs& attrs = {}) {
    return h_.Add(type, facts_.id, T(at), attrs);
  }

  FindingEvaluation Eval(const std::string& as_of) { return Eval(T(as_of)); }
  FindingEvaluation Eval(Instant as_of) {
    return EvaluateFinding(facts_, h_.policies(), h_.calendar(), h_.events(), as_of);
  }

  static std::optional<Obligation> Find(const FindingEvaluation& ev, const std::string& clause,
                                        int n = 0) {
    for (const Obligation& o : ev.evaluation.obligations) {
      if (o.clause == clause && n-- == 0) return o;
    }
    return std::nullopt;
  }
  static int Count(const FindingEvaluation& ev, const std::string& clause) {
    return static_cast<int>(std::count_if(ev.evaluation.obligations.begin(),
                                          ev.evaluation.obligations.end(),
                                          [&](const Obligation& o) { return o.clause == clause; }));
  }
  static bool HasFlag(const Obligation& o, const std::string& flag) {
    return std::find(o.flags.begin(), o.flags.end(), flag) != o.flags.end();
  }
  static bool HasFlagStarting(const Obligation& o, const std::string& prefix) {
    return std::any_of(o.flags.begin(), o.flags.end(),
                       [&](const std::string& f) { return f.rfind(prefix, 0) == 0; });
  }

  History h_;
  FindingFacts facts_;
};

TEST(DecidePatchRelease, EachSourceWinsOverTheLowerOnes) {
  ReleaseEvidence e;
  e.first_seen = D("2026-06-20");
  e.cve_published = D("2026-06-10");
  e.manual = D("2026-06-05");
  e.nessus_patch_published = D("2026-06-04");
  e.csaf_initial_release = D("2026-06-03");
  e.csaf_remediation_date = D("2026-06-02");
  const auto rule = PatchReleaseRule::kEarlierOfPublicationAndFirstSeen;
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-02"), "csaf-remediation"}));
  e.csaf_remediation_date.reset();
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-03"), "csaf-advisory"}));
  e.csaf_initial_release.reset();
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-04"), "nessus"}));
  e.nessus_patch_published.reset();
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-05"), "manual"}));
  e.manual.reset();
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-10"), "assumed", true}));
  EXPECT_EQ(DecidePatchRelease(e, PatchReleaseRule::kFirstSeen),
            (PatchRelease{D("2026-06-20"), "assumed", true}));
}

TEST(DecidePatchRelease, AHigherSourceWinsEvenWhenLater) {
  ReleaseEvidence e;
  e.first_seen = D("2026-06-01");
  e.nessus_patch_published = D("2026-05-01");
  e.csaf_remediation_date = D("2026-05-20");
  EXPECT_EQ(DecidePatchRelease(e, PatchReleaseRule::kFirstSeen).date, D("2026-05-20"));
}

TEST(DecidePatchRelease, AssumedFromFirstSeenWhenTheCveIsPublishedLaterOrUnknown) {
  ReleaseEvidence e;
  e.first_seen = D("2026-06-01");
  e.cve_published = D("2026-06-09");
  const auto rule = PatchReleaseRule::kEarlierOfPublicationAndFirstSeen;
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-01"), "assumed", true}));
  e.cve_published.reset();
  EXPECT_EQ(DecidePatchRelease(e, rule), (PatchRelease{D("2026-06-01"), "assumed", true}));
}

TEST_F(Finding, ManualReleaseDateIsTheLastEffectiveOneAsOf) {
  EXPECT_EQ(ManualReleaseDate("F-1", h_.events(), T("2026-07-01T00:00:00Z")), std::nullopt);
  Add("vuln.released", "2026-06-02T10:00:00Z", {{"date", "2026-05-30"}});
  const std::int64_t second =
      Add("vuln.released", "2026-06-04T10:00:00Z", {{"date", "2026-05-31"}});
  h_.Add("vuln.released", "F-2", T("2026-06-05T10:00:00Z"), {{"date", "2026-01-02"}});
  EXPECT_EQ(ManualReleaseDate("F-1", h_.events(), T("2026-07-01T00:00:00Z")), D("2026-05-31"));
  EXPECT_EQ(ManualReleaseDate("F-1", h_.events(), T("2026-06-03T00:00:00Z")), D("2026-05-30"));
  Event retraction = RetractionOf(h_.events()[second - 1]);
  retraction.id = static_cast<std::int64_t>(h_.events().size()) + 1;
  h_.Append(retraction);
  EXPECT_EQ(ManualReleaseDate("F-1", h_.events(), T("2026-07-01T00:00:00Z")), D("2026-05-30"));
}

TEST_F(Finding, CriticalIsDueFourteenDaysAfterRelease) {
  FindingEvaluation ev = Eval("2026-06-10T12:00:00Z");
  ASSERT_EQ(ev.evaluation.obligations.size(), 1u);
  const Obligation& o = ev.evaluation.obligations[0];
  EXPECT_EQ(o.clause, "9.3");
  EXPECT_EQ(o.key, "patch_critical");
  EXPECT_EQ(o.subject, "F-1");
  EXPECT_EQ(o.title, "Apply the 'Critical' security patch for CVE-2026-1234 on web-01");
  EXPECT_EQ(o.trigger_event_id, 0);
  EXPECT_EQ(o.trigger_type, "patch.released");
  EXPECT_EQ(o.trigger_at, StartOfLondonDay(D("2026-06-01")));
  EXPECT_EQ(o.timescale, (Period{14, Period::Unit::kDays}));
  EXPECT_EQ(o.timescale_source, TimescaleSource::kContract);
  EXPECT_EQ(o.due_date, D("2026-06-15"));
  EXPECT_EQ(o.due_at, T("2026-06-15T22:59:59.999Z"));
  EXPECT_EQ(o.state, ObligationState::kOpen);
  EXPECT_EQ(o.consequence, Consequence::kDefault);
  EXPECT_EQ(o.consequence_text,
            "Default (9.7): the Supplier shall comply with the Rectification Plan Process");
  EXPECT_TRUE(o.flags.empty());
  EXPECT_EQ(ev.due, D("2026-06-15"));
  EXPECT_FALSE(ev.at_risk);
  EXPECT_FALSE(ev.suspended);
  EXPECT_EQ(ev.exception, "");
}

TEST_F(Finding, ImportantIsDueThirtyDaysAfterRelease) {
  facts_.category = Category::kImportant;
  FindingEvaluation ev = Eval("2026-06-10T12:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key, "patch_important");
  EXPECT_EQ(o->due_date, D("2026-07-01"));
  EXPECT_EQ(o->timescale, (Period{30, Period::Unit::kDays}));
}

TEST_F(Finding, OtherIsDueSixtyWorkingDaysAfterReleaseOverChristmas) {
  facts_.category = Category::kOther;
  Released("2026-11-20");
  FindingEvaluation ev = Eval("2026-12-01T12:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key, "patch_other");
  EXPECT_EQ(o->timescale, (Period{60, Period::Unit::kWorkingDays}));
  // 25 and 28 December 2026 and 1 January 2027 are not Working Days.
  EXPECT_EQ(o->due_date, D("2027-02-17"));
  EXPECT_EQ(o->due_at, T("2027-02-17T23:59:59.999Z"));
}

TEST_F(Finding, AssumedReleaseDateIsFlagged) {
  Released("2026-06-01", true);
  std::optional<Obligation> o = Find(Eval("2026-06-10T12:00:00Z"), "9.3");
  ASSERT_TRUE(o);
  EXPECT_TRUE(HasFlag(*o, "patch release date assumed"));
}

TEST_F(Finding, NoFixNoClockUntilTheFixIsReleased) {
  NoFix();
  FindingEvaluation ev = Eval("2026-06-10T12:00:00Z");
  EXPECT_TRUE(ev.evaluation.obligations.empty());
  EXPECT_EQ(ev.due, std::nullopt);
  EXPECT_EQ(ev.evaluation.next_change, std::nullopt);

  Released("2026-07-06");
  ev = Eval("2026-07-10T12:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->trigger_at, StartOfLondonDay(D("2026-07-06")));
  EXPECT_EQ(o->due_date, D("2026-07-20"));
}

TEST_F(Finding, AReleaseAfterAsOfStartsNoClockYet) {
  Released("2026-07-06");
  FindingEvaluation ev = Eval("2026-07-01T12:00:00Z");
  EXPECT_EQ(Count(ev, "9.3"), 0);
  EXPECT_EQ(ev.evaluation.next_change, StartOfLondonDay(D("2026-07-06")));
  EXPECT_EQ(Count(Eval(*ev.evaluation.next_change), "9.3"), 1);
  EXPECT_EQ(Count(Eval(*ev.evaluation.next_change - kMs), "9.3"), 0);
}

TEST_F(Finding, RemediatedOnTimeIsMet) {
  facts_.remediated_at = T("2026-06-15T22:59:59.999Z");
  FindingEvaluation ev = Eval("2026-07-01T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state, ObligationState::kMet);
  EXPECT_EQ(o->closed_at, facts_.remediated_at);
  EXPECT_EQ(ev.patched_at, facts_.remediated_at);
  EXPECT_EQ(ev.evaluation.next_change, std::nullopt);
}

TEST_F(Finding, RemediatedLateIsMetLate) {
  facts_.remediated_at = T("2026-06-15T23:00:00Z");
  std::optional<Obligation> o = Find(Eval("2026-07-01T00:00:00Z"), "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state, ObligationState::kMetLate);
}

TEST_F(Finding, NeverRemediatedIsBreachedAfterTheDueInstant) {
  EXPECT_EQ(Find(Eval("2026-06-15T22:59:59.999Z"), "9.3")->state, ObligationState::kOpen);
  FindingEvaluation ev = Eval("2026-06-15T23:00:00Z");
  EXPECT_EQ(Find(ev, "9.3")->state, ObligationState::kBreached);
  EXPECT_EQ(Find(ev, "9.3")->consequence, Consequence::kDefault);
}

TEST_F(Finding, RemediationAfterAsOfIsNotSeenButIsTheNextChange) {
  facts_.remediated_at = T("2026-06-12T10:00:00Z");
  FindingEvaluation ev = Eval("2026-06-12T09:00:00Z");
  EXPECT_EQ(Find(ev, "9.3")->state, ObligationState::kOpen);
  EXPECT_EQ(ev.patched_at, std::nullopt);
  EXPECT_EQ(ev.evaluation.next_change, T("2026-06-12T10:00:00Z"));
}

TEST_F(Finding, PatchedByHandMeetsWithEvidence) {
  const std::int64_t id = Add("vuln.patched", "2026-06-20T10:00:00Z");
  FindingEvaluation ev = Eval("2026-07-01T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  EXPECT_EQ(o->state, ObligationState::kMetLate);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{id});
  EXPECT_EQ(ev.patched_at, T("2026-06-20T10:00:00Z"));
  facts_.remediated_at = T("2026-06-10T10:00:00Z");
  ev = Eval("2026-07-01T00:00:00Z");
  EXPECT_EQ(Find(ev, "9.3")->state, ObligationState::kMet);
  EXPECT_EQ(ev.patched_at, facts_.remediated_at);
}

TEST_F(Finding, NotExploitableSuspendsTheClock) {
  const std::int64_t id =
      Add("vuln.not_exploitable", "2026-06-05T10:00:00Z", {{"reason", "module not loaded"}});
  FindingEvaluation ev = Eval("2026-07-01T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state, ObligationState::kSuspended);
  EXPECT_EQ(o->due_date, std::nullopt);
  EXPECT_EQ(o->due_at, std::nullopt);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{id});
  EXPECT_TRUE(HasFlag(*o, "9.3.1 not exploitable since 2026-06-05 (event 1): module not loaded"));
  EXPECT_TRUE(ev.suspended);
  EXPECT_EQ(ev.due, std::nullopt);
  EXPECT_EQ(ev.exception, "9.3.1 not exploitable: module not loaded");
  EXPECT_FALSE(ev.at_risk);
  EXPECT_EQ(ev.evaluation.next_change, std::nullopt);
  EXPECT_EQ(Count(ev, "9.6"), 0);
}

TEST_F(Finding, ExploitableResumesWithTheFullTimescaleByDefault) {
  Add("vuln.not_exploitable", "2026-06-05T10:00:00Z", {{"reason", "not running"}});
  const std::int64_t resumed = Add("vuln.exploitable", "2026-06-20T10:00:00Z");
  FindingEvaluation ev = Eval("2026-06-25T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state, ObligationState::kOpen);
  EXPECT_EQ(o->trigger_event_id, resumed);
  EXPECT_EQ(o->trigger_type, "vuln.exploitable");
  EXPECT_EQ(o->due_date, D("2026-07-04"));
  EXPECT_TRUE(HasFlag(*o,
                      "9.3.1 not exploitable from 2026-06-05 (event 1) until 2026-06-20 "
                      "(event 2): full timescale from 2026-06-20"));
  EXPECT_FALSE(ev.suspended);
}

TEST_F(Finding, ExploitableResumesFromTheOriginalReleaseByPolicy) {
  Policy p = Policy::Defaults();
  p.resume_after_exploitable = ResumeRule::kFromOriginalRelease;
  h_.policies().push_back(PolicyVersion{D("2026-01-01"), p});
  Add("vuln.not_exploitable", "2026-06-05T10:00:00Z", {{"reason", "not running"}});
  Add("vuln.exploitable", "2026-06-10T10:00:00Z");
  std::optional<Obligation> o = Find(Eval("2026-06-12T00:00:00Z"), "9.3");
  EXPECT_EQ(o->trigger_type, "patch.released");
  EXPECT_EQ(o->due_date, D("2026-06-15"));
  EXPECT_TRUE(HasFlag(*o,
                      "9.3.1 not exploitable from 2026-06-05 (event 1) until 2026-06-10 "
                      "(event 2): timescale from the original release 2026-06-01"));
  // Resumed after the original deadline: breached at once.
  Add("vuln.not_exploitable", "2026-06-12T10:00:00Z", {{"reason", "again"}});
  Add("vuln.exploitable", "2026-06-30T10:00:00Z");
  EXPECT_EQ(Find(Eval("2026-06-30T11:00:00Z"), "9.3")->state, ObligationState::kBreached);
  EXPECT_EQ(Find(Eval("2026-06-20T11:00:00Z"), "9.3")->state, ObligationState::kSuspended);
}

TEST_F(Finding, NotExploitableAfterTheDeadlineLeavesTheBreach) {
  Add("vuln.not_exploitable", "2026-06-16T10:00:00Z", {{"reason", "late"}});
  FindingEvaluation ev = Eval("2026-06-20T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  EXPECT_EQ(o->state, ObligationState::kBreached);
  EXPECT_TRUE(HasFlag(*o,
                      "9.3.1 asserted not exploitable on 2026-06-16 (event 1), after the 9.3 "
                      "deadline: the breach stands"));
  EXPECT_FALSE(ev.suspended);
}

TEST_F(Finding, PatchedWhileSuspendedIsMet) {
  Add("vuln.not_exploitable", "2026-06-05T10:00:00Z", {{"reason", "not running"}});
  Add("vuln.patched", "2026-07-20T10:00:00Z");
  FindingEvaluation ev = Eval("2026-08-01T00:00:00Z");
  EXPECT_EQ(Find(ev, "9.3")->state, ObligationState::kMet);
  EXPECT_FALSE(ev.suspended);
}

TEST_F(Finding, SuspendedBeforeTheReleaseStartsSuspended) {
  NoFix();
  Add("vuln.not_exploitable", "2026-05-20T10:00:00Z", {{"reason", "not running"}});
  EXPECT_TRUE(Eval("2026-05-25T00:00:00Z").suspended);
  Released("2026-06-01");
  EXPECT_EQ(Find(Eval("2026-06-20T00:00:00Z"), "9.3")->state, ObligationState::kSuspended);
}

TEST_F(Finding, ExtensionAddsFiveDaysForCritical) {
  const std::int64_t id = Add("vuln.extended", "2026-06-14T10:00:00Z", {{"test_plan", "TP-4"}});
  FindingEvaluation ev = Eval("2026-06-16T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  EXPECT_EQ(o->due_date, D("2026-06-20"));
  EXPECT_EQ(o->state, ObligationState::kOpen);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{id});
  EXPECT_TRUE(HasFlag(*o, "9.3.2 extension (TP-4)"));
  EXPECT_EQ(ev.exception, "9.3.2 extension (TP-4)");
  EXPECT_EQ(ev.due, D("2026-06-20"));
}

TEST_F(Finding, ExtensionAddsFiveDaysForImportant) {
  facts_.category = Category::kImportant;
  Add("vuln.extended", "2026-06-14T10:00:00Z", {{"test_plan", "TP-4"}});
  EXPECT_EQ(Find(Eval("2026-06-16T00:00:00Z"), "9.3")->due_date, D("2026-07-06"));
}

TEST_F(Finding, ExtensionIsRefusedForOther) {
  facts_.category = Category::kOther;
  Event e = h_.Make("vuln.extended", "F-1", T("2026-06-14T10:00:00Z"), {{"test_plan", "TP-4"}});
  EXPECT_EQ(CheckFindingEvent(facts_, e).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(h_.Check(e).ok());
  h_.Append(e);
  FindingEvaluation ev = Eval("2026-06-16T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  EXPECT_EQ(o->due_date, D("2026-08-24"));
  EXPECT_TRUE(HasFlag(*o,
                      "9.3.2 extension (TP-4) (event 1) refused: the extension applies only to "
                      "Critical and Important vulnerabilities"));
  EXPECT_EQ(ev.exception, "");
  facts_.category = Category::kImportant;
  EXPECT_TRUE(CheckFindingEvent(facts_, e).ok());
}

TEST_F(Finding, ExtensionAfterTheDeadlineOrTwiceIsNotApplied) {
  Add("vuln.extended", "2026-06-16T10:00:00Z", {{"test_plan", "TP-4"}});
  std::optional<Obligation> o = Find(Eval("2026-06-17T00:00:00Z"), "9.3");
  EXPECT_EQ(o->due_date, D("2026-06-15"));
  EXPECT_EQ(o->state, ObligationState::kBreached);
  EXPECT_TRUE(HasFlag(*o,
                      "9.3.2 extension (TP-4) (event 1) recorded after the 9.3 deadline: not "
                      "applied"));

  History h(D("2026-01-01"));
  h.Add("vuln.extended", "F-1", T("2026-06-10T10:00:00Z"), {{"test_plan", "TP-4"}});
  h.Add("vuln.extended", "F-1", T("2026-06-18T10:00:00Z"), {{"test_plan", "TP-5"}});
  o = Find(
      EvaluateFinding(facts_, h.policies(), h.calendar(), h.events(), T("2026-06-19T00:00:00Z")),
      "9.3");
  EXPECT_EQ(o->due_date, D("2026-06-20"));
  EXPECT_TRUE(HasFlag(*o, "9.3.2 extension (TP-5) (event 2) ignored: already extended (event 1)"));
}

TEST_F(Finding, AgreedDaysReplaceTheTimescale) {
  const std::int64_t id =
      Add("vuln.agreed", "2026-06-10T10:00:00Z", {{"days", "45"}, {"evidence", "MSG-9"}});
  FindingEvaluation ev = Eval("2026-06-16T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  EXPECT_EQ(o->due_date, D("2026-07-16"));
  EXPECT_EQ(o->state, ObligationState::kOpen);
  EXPECT_EQ(o->timescale, (Period{45, Period::Unit::kDays}));
  EXPECT_EQ(o->timescale_source, TimescaleSource::kVaried);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{id});
  EXPECT_TRUE(HasFlag(*o, "9.3.3 agreed: 45 days (evidence MSG-9)"));
  EXPECT_EQ(ev.exception, "9.3.3 agreed: 45 days (evidence MSG-9)");
}

TEST_F(Finding, AgreedUntilADate) {
  Add("vuln.agreed", "2026-06-10T10:00:00Z", {{"until", "2026-08-01"}, {"evidence", "MSG-9"}});
  std::optional<Obligation> o = Find(Eval("2026-06-16T00:00:00Z"), "9.3");
  EXPECT_EQ(o->due_date, D("2026-08-01"));
  EXPECT_EQ(o->timescale, (Period{61, Period::Unit::kDays}));
  EXPECT_TRUE(HasFlag(*o, "9.3.3 agreed: until 2026-08-01 (evidence MSG-9)"));
}

TEST_F(Finding, AgreedAfterTheDeadlineStillAppliesAndIsFlagged) {
  Add("vuln.agreed", "2026-06-20T10:00:00Z", {{"days", "30"}, {"evidence", "MSG-9"}});
  std::optional<Obligation> o = Find(Eval("2026-06-21T00:00:00Z"), "9.3");
  EXPECT_EQ(o->state, ObligationState::kOpen);
  EXPECT_EQ(o->due_date, D("2026-07-01"));
  EXPECT_TRUE(HasFlag(*o,
                      "9.3.3 agreed on 2026-06-20 (event 1), after the 9.3 deadline had "
                      "passed"));
}

TEST_F(Finding, AgreedPeriodReplacesAnExtension) {
  Add("vuln.extended", "2026-06-10T10:00:00Z", {{"test_plan", "TP-4"}});
  Add("vuln.agreed", "2026-06-12T10:00:00Z", {{"days", "21"}, {"evidence", "MSG-9"}});
  FindingEvaluation ev = Eval("2026-06-16T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.3");
  EXPECT_EQ(o->due_date, D("2026-06-22"));
  EXPECT_TRUE(HasFlag(
      *o, "9.3.2 extension (TP-4) not added: the 9.3.3 agreed period replaces the timescale"));
  EXPECT_EQ(ev.exception, "9.3.3 agreed: 21 days (evidence MSG-9)");
  EXPECT_EQ(o->evidence, (std::vector<std::int64_t>{1, 2}));
}

TEST_F(Finding, AnAgreementBeforeTheReleaseIsNotAppliedAndFlagged) {
  Event e = h_.Make("vuln.agreed", "F-1", T("2026-05-20T10:00:00Z"),
                    {{"until", "2026-05-25"}, {"evidence", "MSG-9"}});
  EXPECT_EQ(CheckFindingEvent(facts_, e).code(), StatusCode::kFailedPrecondition);
  h_.Append(e);
  std::optional<Obligation> o = Find(Eval("2026-06-10T00:00:00Z"), "9.3");
  EXPECT_EQ(o->due_date, D("2026-06-15"));
  EXPECT_TRUE(HasFlagStarting(*o, "9.3.3 agreement (event 1) not applied: "));
}

TEST_F(Finding, ValidateEventChecksTheVulnVocabulary) {
  auto refusal = [&](const std::string& type, const Attrs& attrs) {
    Status s = h_.Check(h_.Make(type, "F-1", T("2026-06-10T10:00:00Z"), attrs));
    return s.ok() ? std::string("ok") : s.message();
  };
  EXPECT_EQ(refusal("vuln.not_exploitable", {}).rfind("attr reason:", 0), 0u);
  EXPECT_EQ(refusal("vuln.extended", {}).rfind("attr test_plan:", 0), 0u);
  EXPECT_EQ(refusal("vuln.agreed", {{"evidence", "MSG-9"}}).rfind("attr days:", 0), 0u);
  EXPECT_EQ(refusal("vuln.agreed", {{"days", "4"}, {"until", "2026-07-01"}, {"evidence", "M"}})
                .rfind("attr days:", 0),
            0u);
  EXPECT_EQ(refusal("vuln.agreed", {{"days", "x"}, {"evidence", "M"}}).rfind("attr days:", 0), 0u);
  Event unevidenced = h_.Make("vuln.agreed", "F-1", T("2026-06-10T10:00:00Z"), {{"days", "45"}});
  unevidenced.attrs.erase(unevidenced.attrs.begin() + 1);
  EXPECT_EQ(h_.Check(unevidenced).message().rfind("attr evidence:", 0), 0u);
  EXPECT_EQ(refusal("vuln.agreed", {{"days", "45"}, {"evidence", "M"}}), "ok");
  EXPECT_EQ(refusal("vuln.released", {{"date", "2026-13-01"}}).rfind("attr date:", 0), 0u);
  EXPECT_EQ(h_.Check(h_.Make("vuln.patched", "", T("2026-06-10T10:00:00Z"))).ok(), false);
  for (const char* type : {"vuln.exploitable", "vuln.patched", "vuln.exploited", "vuln.at_risk",
                           "buyer.notified", "mitigation.proposed"}) {
    EXPECT_EQ(refusal(type, {}), "ok") << type;
  }
}

TEST_F(Finding, VulnEventsFormOneStreamPerFindingWithoutContractRules) {
  const std::int64_t id = Add("vuln.patched", "2026-06-10T10:00:00Z");
  for (const EventType& t : EventTypes()) {
    if (t.stream != StreamFamily::kVuln) continue;
    EXPECT_EQ(StreamOf(h_.Make(std::string(t.name), "F-1", T("2026-06-10T10:00:00Z"))), "vuln:F-1");
  }
  EXPECT_EQ(StreamOf(RetractionOf(h_.events()[id - 1])), "vuln:F-1");
  Evaluation ev = EvaluateStream(h_.terms(), h_.policies(), h_.calendar(), "vuln:F-1", h_.events(),
                                 T("2026-07-01T00:00:00Z"));
  EXPECT_TRUE(ev.obligations.empty());
  Event moved = h_.Make("vuln.patched", "F-2", T("2026-06-11T10:00:00Z"));
  moved.supersedes = id;
  EXPECT_EQ(h_.Check(moved).message().rfind("supersedes:", 0), 0u);
}

TEST_F(Finding, InterimMitigationOpensForAnExploitableFindingWithoutAPatch) {
  NoFix();
  facts_.exploit_known = true;
  FindingEvaluation ev = Eval("2026-06-05T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.5.6");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key, "interim_mitigation");
  EXPECT_EQ(o->trigger_type, "scan.exploit_known");
  EXPECT_EQ(o->trigger_at, facts_.first_seen);
  EXPECT_EQ(o->timescale, (Period{5, Period::Unit::kWorkingDays}));
  EXPECT_EQ(o->timescale_source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(o->due_date, D("2026-06-10"));
  EXPECT_EQ(o->state, ObligationState::kOpen);
  EXPECT_EQ(o->consequence_text, "breach of 9.5.6");
  EXPECT_EQ(Find(Eval("2026-06-11T00:00:00Z"), "9.5.6")->state, ObligationState::kBreached);

  const std::int64_t id = Add("mitigation.proposed", "2026-06-08T10:00:00Z");
  o = Find(Eval("2026-06-11T00:00:00Z"), "9.5.6");
  EXPECT_EQ(o->state, ObligationState::kMet);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{id});
}

TEST_F(Finding, InterimMitigationFromAnExploitedEventOrTheFlagsDate) {
  NoFix();
  const std::int64_t id = Add("vuln.exploited", "2026-06-12T10:00:00Z");
  std::optional<Obligation> o = Find(Eval("2026-06-13T00:00:00Z"), "9.5.6");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->trigger_event_id, id);
  EXPECT_EQ(o->due_date, D("2026-06-19"));
  facts_.exploit_known = true;
  facts_.exploit_known_since = T("2026-06-10T10:00:00Z");
  o = Find(Eval("2026-06-13T00:00:00Z"), "9.5.6");
  EXPECT_EQ(o->trigger_type, "scan.exploit_known");
  EXPECT_EQ(o->trigger_at, T("2026-06-10T10:00:00Z"));
  EXPECT_EQ(Count(Eval("2026-06-13T00:00:00Z"), "9.5.6"), 1);
}

TEST_F(Finding, InterimMitigationIsSupersededByAPatchRelease) {
  facts_.exploit_known = true;
  Released("2026-06-08");
  FindingEvaluation ev = Eval("2026-06-07T12:00:00Z");
  EXPECT_EQ(Find(ev, "9.5.6")->state, ObligationState::kOpen);
  EXPECT_EQ(ev.evaluation.next_change, StartOfLondonDay(D("2026-06-08")));
  ev = Eval("2026-06-09T00:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.5.6");
  EXPECT_EQ(o->state, ObligationState::kSuperseded);
  EXPECT_EQ(o->closed_at, StartOfLondonDay(D("2026-06-08")));
  EXPECT_TRUE(HasFlag(*o, "superseded: patch released 2026-06-08"));
  EXPECT_EQ(Find(ev, "9.3")->due_date, D("2026-06-22"));
}

TEST_F(Finding, InterimMitigationBreachStandsWhenThePatchComesLater) {
  facts_.exploit_known = true;
  Released("2026-06-20");
  EXPECT_EQ(Find(Eval("2026-06-25T00:00:00Z"), "9.5.6")->state, ObligationState::kBreached);
  Add("mitigation.proposed", "2026-06-22T10:00:00Z");
  EXPECT_EQ(Find(Eval("2026-06-25T00:00:00Z"), "9.5.6")->state, ObligationState::kMetLate);
}

TEST_F(Finding, NoInterimMitigationWhenAPatchWasAvailable) {
  facts_.exploit_known = true;
  EXPECT_EQ(Count(Eval("2026-06-05T00:00:00Z"), "9.5.6"), 0);
}

TEST_F(Finding, InterimMitigationIsSupersededByRemediationWithoutAPatch) {
  NoFix();
  facts_.exploit_known = true;
  facts_.remediated_at = T("2026-06-05T10:00:00Z");
  std::optional<Obligation> o = Find(Eval("2026-06-20T00:00:00Z"), "9.5.6");
  EXPECT_EQ(o->state, ObligationState::kSuperseded);
  EXPECT_TRUE(HasFlag(*o, "superseded: remediated 2026-06-05"));
}

TEST_F(Finding, AtRiskFromThePolicyShareOfTheWindow) {
  // Window 2026-06-01 00:00 to 2026-06-16 00:00 London (15 days); 75% = 11.25 days.
  const Instant threshold = T("2026-06-12T05:00:00Z");
  FindingEvaluation before = Eval(threshold - kMs);
  EXPECT_FALSE(before.at_risk);
  EXPECT_EQ(before.evaluation.next_change, threshold);
  FindingEvaluation at = Eval(threshold);
  EXPECT_TRUE(at.at_risk);
  EXPECT_EQ(at.evaluation.next_change, T("2026-06-15T23:00:00Z"));
  EXPECT_TRUE(Find(at, "9.3")->state == ObligationState::kOpen);
  EXPECT_FALSE(Eval("2026-06-15T23:00:00Z").at_risk);

  Policy p = Policy::Defaults();
  p.at_risk_percent = 50;
  h_.policies().push_back(PolicyVersion{D("2026-01-01"), p});
  EXPECT_TRUE(Eval("2026-06-08T11:00:00Z").at_risk);
  EXPECT_FALSE(Eval("2026-06-08T10:59:59.999Z").at_risk);
}

TEST_F(Finding, AtRiskJudgementMustBeNotifiedTheSameDay) {
  const std::int64_t judged = Add("vuln.at_risk", "2026-06-10T10:00:00Z");
  FindingEvaluation ev = Eval("2026-06-10T12:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.6");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key, "patch_at_risk_notification");
  EXPECT_EQ(o->trigger_event_id, judged);
  EXPECT_EQ(o->due_date, D("2026-06-10"));
  EXPECT_EQ(o->timescale_source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(o->state, ObligationState::kOpen);
  EXPECT_EQ(Find(Eval("2026-06-11T00:00:00Z"), "9.6")->state, ObligationState::kBreached);
  const std::int64_t notice = Add("buyer.notified", "2026-06-10T15:00:00Z");
  o = Find(Eval("2026-06-20T00:00:00Z"), "9.6");
  EXPECT_EQ(o->state, ObligationState::kMet);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{notice});
  // The judgement recorded and notified: no second 9.6 at the deadline.
  EXPECT_EQ(Count(Eval("2026-06-20T00:00:00Z"), "9.6"), 1);
}

TEST_F(Finding, DeadlineWithoutNoticeBreaches96) {
  EXPECT_EQ(Count(Eval("2026-06-15T22:59:59.999Z"), "9.6"), 0);
  FindingEvaluation ev = Eval("2026-06-15T23:00:00Z");
  std::optional<Obligation> o = Find(ev, "9.6");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state, ObligationState::kBreached);
  EXPECT_EQ(o->due_at, T("2026-06-15T22:59:59.999Z"));
  EXPECT_EQ(o->due_date, D("2026-06-15"));
  EXPECT_EQ(o->timescale, std::nullopt);
  EXPECT_EQ(o->consequence_text, "breach of 9.6");
  EXPECT_EQ(o->trigger_type, "patch.released");
  EXPECT_TRUE(
      HasFlag(*o, "no notice to the Buyer (buyer.notified) before the 9.3 deadline 2026-06-15"));

  const std::int64_t late = Add("buyer.notified", "2026-06-17T10:00:00Z");
  o = Find(Eval("2026-06-18T00:00:00Z"), "9.6");
  EXPECT_EQ(o->state, ObligationState::kMetLate);
  EXPECT_EQ(o->evidence, std::vector<std::int64_t>{late});
}

TEST_F(Finding, NoticeBeforeTheDeadlineMeets96) {
  Add("buyer.notified", "2026-06-14T10:00:00Z");
  FindingEvaluation ev = Eval("2026-06-20T00:00:00Z");
  EXPECT_EQ(Find(ev, "9.3")->state, ObligationState::kBreached);
  EXPECT_EQ(Count(ev, "9.6"), 0);
}

TEST_F(Finding, PatchedLateWithoutNoticeStillBreaches96) {
  facts_.remediated_at = T("2026-06-18T10:00:00Z");
  std::optional<Obligation> o = Find(Eval("2026-06-20T00:00:00Z"), "9.6");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->state, ObligationState::kBreached);
  EXPECT_EQ(o->closed_at, facts_.remediated_at);
  facts_.remediated_at = T("2026-06-15T10:00:00Z");
  EXPECT_EQ(Count(Eval("2026-06-20T00:00:00Z"), "9.6"), 0);
}

TEST_F(Finding, PolicyChangeAppliesFromTheReleaseDate) {
  Policy p = Policy::Defaults();
  ASSERT_TRUE(p.SetPeriod("patch_critical", Period{7, Period::Unit::kDays}, "CCN-1").ok());
  h_.policies().push_back(PolicyVersion{D("2026-01-01"), Policy::Defaults()});
  h_.policies().push_back(PolicyVersion{D("2026-07-01"), p});
  Released("2026-06-30");
  std::optional<Obligation> o = Find(Eval("2026-07-02T00:00:00Z"), "9.3");
  EXPECT_EQ(o->due_date, D("2026-07-14"));
  EXPECT_EQ(o->timescale_source, TimescaleSource::kContract);
  Released("2026-07-01");
  o = Find(Eval("2026-07-02T00:00:00Z"), "9.3");
  EXPECT_EQ(o->due_date, D("2026-07-08"));
  EXPECT_EQ(o->timescale, (Period{7, Period::Unit::kDays}));
  EXPECT_EQ(o->timescale_source, TimescaleSource::kVaried);
}

TEST_F(Finding, NextChangeIsExact) {
  facts_.exploit_known = true;
  NoFix();
  Released("2026-06-04");
  facts_.exploit_known_since = T("2026-06-02T10:00:00Z");
  // Before the flag: next is the flag; then the release; then the at-risk threshold; the due.
  std::vector<Instant> seen;
  Instant t = T("2026-06-01T12:00:00Z");
  FindingEvaluation ev = Eval(t);
  while (ev.evaluation.next_change && seen.size() < 10) {
    const Instant next = *ev.evaluation.next_change;
    ASSERT_GT(next, t);
    const FindingEvaluation just_before = Eval(next - kMs);
    EXPECT_EQ(just_before.evaluation.obligations, ev.evaluation.obligations);
    EXPECT_EQ(just_before.at_risk, ev.at_risk);
    const FindingEvaluation after = Eval(next);
    EXPECT_TRUE(after.evaluation.obligations != ev.evaluation.obligations ||
                after.at_risk != ev.at_risk)
        << FormatInstant(next);
    seen.push_back(next);
    t = next;
    ev = after;
  }
  const std::vector<Instant> expected = {
      T("2026-06-02T10:00:00Z"),          // 9.5.6 opens
      StartOfLondonDay(D("2026-06-04")),  // patch released: 9.3 starts, 9.5.6 superseded
      T("2026-06-15T05:00:00Z"),          // 75% of 2026-06-04..2026-06-18 (15 days)
      T("2026-06-18T23:00:00Z"),          // 9.3 breached; 9.6 breached
  };
  EXPECT_EQ(seen, expected);
}

TEST_F(Finding, NoClockForObservations) {
  facts_.has_clock = false;
  facts_.exploit_known = true;
  FindingEvaluation ev = Eval("2026-07-01T00:00:00Z");
  EXPECT_TRUE(ev.evaluation.obligations.empty());
  EXPECT_EQ(ev.evaluation.next_change, std::nullopt);
}

TEST_F(Finding, OtherFindingsEventsAndFutureEventsAreIgnored) {
  h_.Add("vuln.patched", "F-2", T("2026-06-05T10:00:00Z"));
  Add("vuln.patched", "2026-06-20T10:00:00Z");
  EXPECT_EQ(Find(Eval("2026-06-10T00:00:00Z"), "9.3")->state, ObligationState::kOpen);
}

TEST_F(Finding, BackdatedEvidenceIsFlagged) {
  Event e = h_.Make("vuln.patched", "F-1", T("2026-06-10T10:00:00Z"));
  e.recorded_at = T("2026-06-30T10:00:00Z");
  h_.Append(e);
  std::optional<Obligation> o = Find(Eval("2026-07-01T00:00:00Z"), "9.3");
  EXPECT_TRUE(HasFlag(*o, "event 1 backdated: happened 2026-06-10, recorded 2026-06-30"));
}

TEST(ScanRecency, DueThePeriodAfterTheLastScan) {
  std::vector<PolicyVersion> policies;
  Calendar cal;
  Obligation o =
      ScanRecencyObligation("web-01", T("2026-01-05T10:00:00Z"), T("2026-06-01T10:00:00Z"),
                            policies, cal, T("2026-07-02T22:59:59.999Z"));
  EXPECT_EQ(o.clause, "9.5.4");
  EXPECT_EQ(o.key, "scan_recency");
  EXPECT_EQ(o.subject, "web-01");
  EXPECT_EQ(o.trigger_type, "scan.completed");
  EXPECT_EQ(o.trigger_at, T("2026-06-01T10:00:00Z"));
  EXPECT_EQ(o.timescale, (Period{31, Period::Unit::kDays}));
  EXPECT_EQ(o.timescale_source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(o.due_date, D("2026-07-02"));
  EXPECT_EQ(o.due_at, T("2026-07-02T22:59:59.999Z"));
  EXPECT_EQ(o.state, ObligationState::kOpen);
  EXPECT_EQ(o.consequence_text, "breach of 9.5.4");
  EXPECT_TRUE(o.flags.empty());
  o = ScanRecencyObligation("web-01", T("2026-01-05T10:00:00Z"), T("2026-06-01T10:00:00Z"),
                            policies, cal, T("2026-07-02T23:00:00Z"));
  EXPECT_EQ(o.state, ObligationState::kBreached);
}

TEST(ScanRecency, NeverScannedRunsFromRegistrationAndPolicyVaries) {
  Policy p = Policy::Defaults();
  p.scan_recency = Period{7, Period::Unit::kDays};
  std::vector<PolicyVersion> policies = {{D("2026-01-01"), p}};
  Obligation o = ScanRecencyObligation("db-01", T("2026-03-02T10:00:00Z"), std::nullopt, policies,
                                       Calendar(), T("2026-03-05T00:00:00Z"));
  EXPECT_EQ(o.trigger_type, "asset.registered");
  EXPECT_EQ(o.due_date, D("2026-03-09"));
  EXPECT_EQ(o.timescale_source, TimescaleSource::kVaried);
  EXPECT_EQ(o.flags, std::vector<std::string>{"never scanned"});
  EXPECT_EQ(o.state, ObligationState::kOpen);
}

}  // namespace
}  // namespace isms
