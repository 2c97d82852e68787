#include <gtest/gtest.h>

#include <set>

#include "core/event_types.h"
#include "core/rules.h"
#include "core/rules_testing.h"

namespace isms {
namespace {

using testing::D;
using testing::Doc;
using testing::History;
using testing::T;

constexpr const char* kStart = "2026-06-01";

std::string Refusal(const History& h, const Event& e) {
  Status s = h.Check(e);
  return s.ok() ? "ok" : s.message();
}

TEST(EventTypes, EveryTypeIsDescribedAndUnique) {
  std::set<std::string_view> names;
  for (const EventType& t : EventTypes()) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_FALSE(t.description.empty()) << t.name;
    if (t.subject == SubjectRule::kRequired) {
      EXPECT_FALSE(t.subject_help.empty()) << t.name;
    }
    EXPECT_EQ(FindEventType(t.name), &t);
  }
  for (const char* name : {"isms.submitted",
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
                           "breach.detected",
                           "breach.notified",
                           "datarequest.received",
                           "datarequest.answered",
                           "details.delivered",
                           "rca.requested",
                           "rca.delivered",
                           "person.joined",
                           "person.trained",
                           "person.left",
                           "privilege.unneeded",
                           "access.revoked",
                           "report.submitted",
                           "data.demanded",
                           "data.provided",
                           "erasure.requested",
                           "erasure.completed",
                           "policy.changed",
                           "event.retracted",
                           "threat.learned",
                           "threat.informed"}) {
    EXPECT_NE(FindEventType(name), nullptr) << name;
  }
  EXPECT_EQ(FindEventType("isms.approve"), nullptr);
}

TEST(EventAttrs, SetAttrKeepsKeysSortedAndUnique) {
  Event e;
  e.SetAttr("weakness", "yes");
  e.SetAttr("doc", "x");
  e.SetAttr("root_cause", "RC-1");
  e.SetAttr("doc", "y");
  ASSERT_EQ(e.attrs.size(), 3u);
  EXPECT_EQ(e.attrs[0].first, "doc");
  EXPECT_EQ(e.Attr("doc"), "y");
  EXPECT_EQ(e.Attr("root_cause"), "RC-1");
  EXPECT_FALSE(e.Attr("missing").has_value());
}

TEST(EventValidation, TypeSubjectAndAttributes) {
  History h(D(kStart));
  const Instant at = T("2026-06-05T10:00:00Z");
  EXPECT_EQ(Refusal(h, h.Make("isms.submit", "", at)),
            "type: unknown event type 'isms.submit': see docs/events.md for the vocabulary");
  EXPECT_EQ(Refusal(h, h.Make("person.left", "", at)),
            "subject: person.left needs a subject (the person)");
  EXPECT_EQ(Refusal(h, h.Make("isms.submitted", "v1", at, {{"doc", Doc(1)}})),
            "subject: isms.submitted takes no subject: remove 'v1'");
  EXPECT_EQ(Refusal(h, h.Make("person.left", "alice smith", at)),
            "subject: 'alice smith' is not an identifier: use 1-128 of A-Z a-z 0-9 . _ - : @ /");
  EXPECT_EQ(Refusal(h, h.Make("isms.submitted", "", at)),
            "attr doc: isms.submitted needs doc=<sha256:<64 lowercase hex digits>> (the version "
            "submitted: sha256 of the document)");
  EXPECT_EQ(Refusal(h, h.Make("isms.submitted", "", at, {{"doc", "sha256:ABC"}})),
            "attr doc: 'sha256:ABC' is not sha256:<64 lowercase hex digits> (the version "
            "submitted: sha256 of the document)");
  EXPECT_EQ(Refusal(h, h.Make("isms.submitted", "", at, {{"doc", Doc(1)}, {"version", "2"}})),
            "attr version: isms.submitted takes no attribute 'version': its attributes are doc, "
            "evidence");
  EXPECT_EQ(Refusal(h, h.Make("securitytest.completed", "ST-1", at, {{"weakness", "maybe"}})),
            "attr weakness: 'maybe' is not yes or no (whether it revealed a breach or weakness)");
  EXPECT_EQ(Refusal(h, h.Make("securitytest.completed", "ST-1", at, {{"weakness", "yes"}})),
            "attr root_cause: securitytest.completed with weakness=yes needs "
            "root_cause=<ID>[,<ID>...] (the root cause of each weakness, compared by 6.5)");
  EXPECT_EQ(Refusal(h, h.Make("report.submitted", "", T("2026-07-01T10:00:00Z"),
                              {{"month", "2026-13"}, {"sha256", std::string(64, 'a')}})),
            "attr month: '2026-13' is not a Month, YYYY-MM (the Month reported)");
  EXPECT_EQ(
      Refusal(h, h.Make("isms.submitted", "", T("2026-05-31T22:59:59.999Z"), {{"doc", Doc(1)}})),
      "at: 2026-05-31T22:59:59.999Z is before the contract's Start Date 2026-06-01: check "
      "--at");
  EXPECT_EQ(Refusal(h, h.Make("isms.submitted", "", T("2026-05-31T23:00:00Z"), {{"doc", Doc(1)}})),
            "ok");
}

TEST(EventValidation, BuyerActsNeedEvidenceUnlessRecordedByTheBuyer) {
  History h(D(kStart));
  Event e = h.Make("change.approved", "CHG-1", T("2026-06-05T10:00:00Z"));
  EXPECT_EQ(Refusal(h, e), "ok");
  e.attrs.clear();
  EXPECT_EQ(Refusal(h, e),
            "attr evidence: change.approved is an act of the Buyer: add evidence=<message id, "
            "document hash or reference>, or record it from the Buyer's own account");
  e.by_buyer = true;
  EXPECT_EQ(Refusal(h, e), "ok");
  e.SetAttr("evidence", "");
  EXPECT_EQ(Refusal(h, e),
            "attr evidence: empty: give a message id, a document hash or a reference");
  Event supplier = h.Make("change.implemented", "CHG-1", T("2026-06-05T10:00:00Z"));
  EXPECT_EQ(Refusal(h, supplier), "ok");
}

TEST(EventValidation, AnswersNameTheLatestUnansweredSubmission) {
  History h(D(kStart), true);
  const auto s1 = h.Add("isms.submitted", "", T("2026-06-05T10:00:00Z"), {{"doc", Doc(1)}});
  EXPECT_EQ(Refusal(h, h.Make("isms.submitted", "", T("2026-06-06T10:00:00Z"), {{"doc", Doc(1)}})),
            "attr doc: " + Doc(1) +
                " is the version submitted as event 1: a re-submission is an amended document "
                "with a new version");
  EXPECT_EQ(Refusal(h, h.Make("isms.approved", "", T("2026-06-08T10:00:00Z"))),
            "attr submission: isms.approved needs submission=<an event number, e.g. 12> (the "
            "event number of the submission answered)");
  EXPECT_EQ(Refusal(h, h.Make("smp.approved", "", T("2026-06-08T10:00:00Z"),
                              {{"submission", std::to_string(s1)}})),
            "attr submission: event 1 is not an effective smp.submitted: name the submission "
            "this answers (isms event list)");
  EXPECT_EQ(Refusal(h, h.Make("isms.approved", "", T("2026-06-08T10:00:00Z"),
                              {{"submission", "1"}, {"doc", Doc(2)}})),
            "attr doc: sha256:aaaaaaaaaaaa... is not the version of submission 1 "
            "(sha256:aaaaaaaaaaaa...): give that version or omit doc=");
  EXPECT_EQ(
      Refusal(h, h.Make("isms.approved", "", T("2026-06-04T10:00:00Z"), {{"submission", "1"}})),
      "at: the answer happens before submission 1 (2026-06-05T10:00:00.000Z): check --at");
  h.Add("isms.rejected", "", T("2026-06-08T10:00:00Z"), {{"submission", "1"}});
  EXPECT_EQ(
      Refusal(h, h.Make("isms.approved", "", T("2026-06-09T10:00:00Z"), {{"submission", "1"}})),
      "attr submission: submission 1 was already answered by event 2: to correct that "
      "answer, supersede event 2");
  const auto s2 = h.Add("isms.submitted", "", T("2026-06-10T10:00:00Z"), {{"doc", Doc(2)}});
  EXPECT_EQ(s2, 3);
  Event stale = h.Make("isms.approved", "", T("2026-06-11T10:00:00Z"), {{"submission", "1"}});
  stale.supersedes = 2;
  EXPECT_EQ(Refusal(h, stale),
            "attr submission: submission 1 (sha256:aaaaaaaaaaaa...) is an older version: "
            "submission 3 (sha256:aaaaaaaaaaaa...) replaced it; answer 3");
  Event correction = h.Make("isms.approved", "", T("2026-06-09T10:00:00Z"), {{"submission", "1"}});
  correction.supersedes = 2;
  EXPECT_EQ(Refusal(h, correction), "ok");
  EXPECT_EQ(Refusal(h, h.Make("isms.approved", "", T("2026-06-11T10:00:00Z"),
                              {{"submission", "3"}, {"doc", Doc(2)}})),
            "ok");
}

TEST(EventValidation, CorrectionsStayInTheirStreamAndRetractionsNameTheirTarget) {
  History h(D(kStart));
  h.Add("person.joined", "alcie", T("2026-06-05T10:00:00Z"));
  Event moved = h.Make("person.joined", "alice", T("2026-06-05T10:00:00Z"));
  moved.supersedes = 1;
  EXPECT_EQ(Refusal(h, moved),
            "supersedes: event 1 is not an effective event of stream 'person:alice' (superseded, "
            "retracted, or of another subject or family): to move a fact elsewhere, retract it "
            "and record a new event");
  Event bare =
      h.Make("event.retracted", "alcie", T("2026-06-05T10:00:00Z"), {{"type", "person.left"}});
  bare.supersedes = 1;
  EXPECT_EQ(Refusal(h, bare),
            "attr type: a retraction of event 1 needs type=person.joined and subject 'alcie' (the "
            "retracted event's)");
  Event retraction = RetractionOf(h.events()[0]);
  retraction.id = 2;
  EXPECT_EQ(Refusal(h, retraction), "ok");
  retraction.supersedes.reset();
  EXPECT_EQ(Refusal(h, retraction),
            "supersedes: event.retracted needs supersedes=<the event number retracted>");
}

TEST(EventValidation, TestsNotificationsRetestsChangesAndReports) {
  History h(D(kStart));
  const Instant at = T("2026-07-01T10:00:00Z");
  EXPECT_EQ(Refusal(h, h.Make("changes.notified", "ST-1", at)),
            "subject: no Security Test or Buyer's test 'ST-1' is recorded: record the test first, "
            "or check the subject");
  h.Add("securitytest.completed", "ST-1", at, {{"weakness", "no"}});
  EXPECT_EQ(Refusal(h, h.Make("retest.completed", "ST-1", at, {{"weakness", "no"}})),
            "subject: test 'ST-1' revealed no weakness (weakness=no): there is nothing to repeat");
  EXPECT_EQ(Refusal(h, h.Make("buyertest.completed", "ST-1", at, {{"weakness", "no"}})),
            "subject: test 'ST-1' was already completed (event 1): give each test its own "
            "identifier");
  h.Add("change.implemented", "CHG-1", at);
  EXPECT_EQ(Refusal(h, h.Make("change.implemented", "CHG-1", at)),
            "subject: change 'CHG-1' was already implemented (event 2): supersede that event to "
            "correct it");
  EXPECT_EQ(Refusal(h, h.Make("report.submitted", "", T("2026-06-30T22:59:59.999Z"),
                              {{"month", "2026-06"}, {"sha256", std::string(64, 'c')}})),
            "attr month: 2026-06 has not ended at 2026-06-30T22:59:59.999Z: a monthly report "
            "follows the end of its Month");
  EXPECT_EQ(Refusal(h, h.Make("report.submitted", "", T("2026-06-30T23:00:00Z"),
                              {{"month", "2026-06"}, {"sha256", std::string(64, 'c')}})),
            "ok");
  EXPECT_EQ(Refusal(h, h.Make("smp.submitted", "", at, {{"doc", Doc(5)}})), "ok");
}

TEST(Obligations, StateAndConsequenceNames) {
  EXPECT_EQ(ObligationStateName(ObligationState::kMetLate), "met late");
  EXPECT_EQ(ParseObligationState("met-late").value(), ObligationState::kMetLate);
  EXPECT_EQ(ParseObligationState("superseded").value(), ObligationState::kSuperseded);
  EXPECT_FALSE(ParseObligationState("late").ok());
  EXPECT_EQ(ConsequenceName(Consequence::kMaterialDefault), "material Default");
}

TEST(Obligations, UrgencyOrder) {
  auto make = [](ObligationState s, Consequence c, std::optional<Instant> due, std::string key) {
    Obligation o;
    o.state = s;
    o.consequence = c;
    o.due_at = due;
    o.key = std::move(key);
    return o;
  };
  std::vector<Obligation> v = {
      make(ObligationState::kMet, Consequence::kBreach, T("2026-01-01T00:00:00Z"), "met"),
      make(ObligationState::kOpen, Consequence::kBreach, std::nullopt, "open-none"),
      make(ObligationState::kOpen, Consequence::kBreach, T("2026-03-01T00:00:00Z"), "open-late"),
      make(ObligationState::kOpen, Consequence::kBreach, T("2026-02-01T00:00:00Z"), "open-soon"),
      make(ObligationState::kBreached, Consequence::kBreach, T("2026-01-01T00:00:00Z"), "br"),
      make(ObligationState::kBreached, Consequence::kDefault, T("2026-01-05T00:00:00Z"), "def"),
      make(ObligationState::kBreached, Consequence::kMaterialDefault, std::nullopt, "md"),
      make(ObligationState::kSuperseded, Consequence::kBreach, std::nullopt, "sup"),
  };
  std::sort(v.begin(), v.end(), MoreUrgent);
  std::vector<std::string> keys;
  for (const Obligation& o : v) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"md", "def", "br", "open-soon", "open-late",
                                            "open-none", "met", "sup"}));
}

}  // namespace
}  // namespace isms
