#include "core/policy.h"

#include <gtest/gtest.h>

#include <set>

namespace isms {
namespace {

using Unit = Period::Unit;

struct Expected {
  const char* key;
  const char* clause;
  std::optional<Period> period;
  TimescaleSource source;
};

constexpr TimescaleSource kContract = TimescaleSource::kContract;
constexpr TimescaleSource kDefault = TimescaleSource::kPolicyDefault;

// Every row of OBLIGATIONS.md's "Time-bound obligations" table, in order.
const Expected kTable[] = {
    {"isms_submission", "3.1", Period{20, Unit::kWorkingDays}, kContract},
    {"isms_resubmission", "3.7", Period{10, Unit::kWorkingDays}, kContract},
    {"isms_approval", "3.7", Period{15, Unit::kWorkingDays}, kContract},
    {"isms_resubmission_rejected", "3.7", std::nullopt, kContract},
    {"smp_submission", "4.1", Period{20, Unit::kWorkingDays}, kContract},
    {"smp_resubmission", "4.3", Period{10, Unit::kWorkingDays}, kContract},
    {"smp_approval", "4.3", Period{15, Unit::kWorkingDays}, kContract},
    {"isms_review", "5.1", Period{12, Unit::kMonths}, kContract},
    {"review_results", "5.2", Period{10, Unit::kWorkingDays}, kDefault},
    {"change_approval", "5.3", std::nullopt, kContract},
    {"security_test", "6.1", Period{12, Unit::kMonths}, kContract},
    {"change_security_test", "6.1", Period{30, Unit::kDays}, kDefault},
    {"test_results", "6.2", Period{10, Unit::kWorkingDays}, kDefault},
    {"test_remediation", "6.4", Period{5, Unit::kWorkingDays}, kDefault},
    {"repeat_test_failure", "6.5", Period{0, Unit::kDays}, kContract},
    {"breach_notification", "8.1", Period{24, Unit::kHours}, kDefault},
    {"incident_data_request", "8.2.1.5", Period{2, Unit::kWorkingDays}, kContract},
    {"breach_details", "8.2.2", Period{10, Unit::kWorkingDays}, kDefault},
    {"patch_critical", "9.3", Period{14, Unit::kDays}, kContract},
    {"patch_important", "9.3", Period{30, Unit::kDays}, kContract},
    {"patch_other", "9.3", Period{60, Unit::kWorkingDays}, kContract},
    {"patch_not_exploitable", "9.3.1", std::nullopt, kContract},
    {"patch_extension", "9.3.2", Period{5, Unit::kDays}, kContract},
    {"patch_agreed_period", "9.3.3", std::nullopt, kContract},
    {"cots_upgrade", "9.4", Period{6, Unit::kMonths}, kContract},
    {"cots_upgrade_mitigations", "9.4.1", Period{12, Unit::kMonths}, kContract},
    {"monthly_vulnerability_report", "9.5.5", Period{5, Unit::kWorkingDays}, kContract},
    {"interim_mitigation", "9.5.6", Period{5, Unit::kWorkingDays}, kDefault},
    {"threat_notification", "9.5.8", Period{1, Unit::kWorkingDays}, kDefault},
    {"patch_at_risk_notification", "9.6", Period{0, Unit::kDays}, kDefault},
    {"security_training", "A1 6.4", Period{12, Unit::kMonths}, kContract},
    {"access_revocation", "A1 6.5", Period{1, Unit::kWorkingDays}, kContract},
    {"audit_retention", "A1 8.1.4", Period{6, Unit::kMonths}, kContract},
    {"data_return", "A1 3.3.1", Period{10, Unit::kWorkingDays}, kDefault},
    {"data_erasure", "A1 3.3.4", Period{10, Unit::kWorkingDays}, kDefault},
};

TEST(PolicyDefaults, EveryObligationRowInOrder) {
  const Policy p = Policy::Defaults();
  ASSERT_EQ(p.timescales.size(), std::size(kTable));
  for (size_t i = 0; i < std::size(kTable); ++i) {
    const Timescale& t = p.timescales[i];
    SCOPED_TRACE(t.key);
    EXPECT_EQ(t.key, kTable[i].key);
    EXPECT_EQ(t.clause, kTable[i].clause);
    EXPECT_EQ(t.period, kTable[i].period);
    EXPECT_EQ(t.source, kTable[i].source);
    EXPECT_FALSE(t.title.empty());
    EXPECT_TRUE(t.reference.empty());
  }
}

TEST(PolicyDefaults, KeysAreUniqueSnakeCase) {
  std::set<std::string> keys;
  for (const Timescale& t : Policy::Defaults().timescales) {
    EXPECT_TRUE(keys.insert(t.key).second) << t.key;
    for (char c : t.key) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << t.key;
  }
}

TEST(PolicyDefaults, PolicyDefaultsAndGapsSayWhy) {
  for (const Timescale& t : Policy::Defaults().timescales) {
    if (t.source == TimescaleSource::kPolicyDefault || !t.period) {
      EXPECT_FALSE(t.wording.empty()) << t.key;
    }
  }
  EXPECT_EQ(Policy::Defaults().Find("test_remediation")->wording, "promptly");
  EXPECT_EQ(Policy::Defaults().Find("patch_at_risk_notification")->wording, "immediately");
}

TEST(PolicyDefaults, Settings) {
  const Policy p = Policy::Defaults();
  EXPECT_FALSE(p.effective.has_value());
  EXPECT_EQ(p.severity_method, SeverityMethod::kMicrosoftElseNvd);
  EXPECT_EQ(p.score_basis, ScoreBasis::kBase);
  EXPECT_FALSE(p.holidays_file.has_value());
  EXPECT_EQ(p.backdated_threshold, (Period{2, Unit::kWorkingDays}));
  EXPECT_EQ(p.at_risk_percent, 75);
  EXPECT_EQ(p.scan_recency, (Period{31, Unit::kDays}));
  EXPECT_EQ(p.patch_release, PatchReleaseRule::kEarlierOfPublicationAndFirstSeen);
  EXPECT_EQ(p.resume_after_exploitable, ResumeRule::kFullTimescaleFromExploitable);
  EXPECT_EQ(p.AuditRetention(), (Period{6, Unit::kMonths}));
  EXPECT_TRUE(p.Validate().ok());
}

TEST(PolicyLookup, FindAndPeriodOf) {
  const Policy p = Policy::Defaults();
  ASSERT_NE(p.Find("breach_notification"), nullptr);
  EXPECT_EQ(p.Find("breach_notification")->clause, "8.1");
  EXPECT_EQ(p.Find("nope"), nullptr);
  EXPECT_EQ(*p.PeriodOf("patch_other"), (Period{60, Unit::kWorkingDays}));
  EXPECT_EQ(p.PeriodOf("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(p.PeriodOf("change_approval").status().code(), StatusCode::kFailedPrecondition);
}

TEST(PolicyVariation, ChangedPeriodIsVaried) {
  Policy p = Policy::Defaults();
  ASSERT_TRUE(p.SetPeriod("patch_other", Period{40, Unit::kWorkingDays}, "CCN-7").ok());
  const Timescale* t = p.Find("patch_other");
  EXPECT_EQ(t->period, (Period{40, Unit::kWorkingDays}));
  EXPECT_EQ(t->source, TimescaleSource::kVaried);
  EXPECT_EQ(t->reference, "CCN-7");
  EXPECT_EQ(TimescaleSourceKey(t->source), "varied");
}

TEST(PolicyVariation, PolicyDefaultRowChangedIsVaried) {
  Policy p = Policy::Defaults();
  ASSERT_TRUE(p.SetPeriod("breach_notification", Period{4, Unit::kHours}).ok());
  EXPECT_EQ(p.Find("breach_notification")->source, TimescaleSource::kVaried);
}

TEST(PolicyVariation, RestatingTheDefaultKeepsItsSource) {
  Policy p = Policy::Defaults();
  ASSERT_TRUE(p.SetPeriod("patch_critical", Period{14, Unit::kDays}, "CCN-1").ok());
  EXPECT_EQ(p.Find("patch_critical")->source, TimescaleSource::kContract);
  EXPECT_TRUE(p.Find("patch_critical")->reference.empty());
  ASSERT_TRUE(p.SetPeriod("review_results", Period{5, Unit::kWorkingDays}).ok());
  ASSERT_TRUE(p.SetPeriod("review_results", Period{10, Unit::kWorkingDays}).ok());
  EXPECT_EQ(p.Find("review_results")->source, TimescaleSource::kPolicyDefault);
}

TEST(PolicyVariation, Refusals) {
  Policy p = Policy::Defaults();
  EXPECT_EQ(p.SetPeriod("nope", Period{1, Unit::kDays}).code(), StatusCode::kNotFound);
  EXPECT_EQ(p.SetPeriod("change_approval", Period{1, Unit::kDays}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(p.SetPeriod("patch_other", Period{-1, Unit::kDays}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(p.SetPeriod("patch_other", Period{kMaxPeriodAmount + 1, Unit::kDays}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(p.SetPeriod("patch_critical", Period{48, Unit::kHours}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(p.Find("patch_other")->period, (Period{60, Unit::kWorkingDays}));
}

TEST(PolicyValidate, CatchesBadSettings) {
  Policy p = Policy::Defaults();
  p.at_risk_percent = 0;
  EXPECT_FALSE(p.Validate().ok());
  p = Policy::Defaults();
  p.scan_recency.amount = -3;
  EXPECT_FALSE(p.Validate().ok());
  p = Policy::Defaults();
  p.timescales.push_back(p.timescales.front());
  EXPECT_FALSE(p.Validate().ok());
}

TEST(PolicyKeys, RulesRoundTrip) {
  for (PatchReleaseRule r :
       {PatchReleaseRule::kEarlierOfPublicationAndFirstSeen, PatchReleaseRule::kFirstSeen}) {
    EXPECT_EQ(*ParsePatchReleaseRule(PatchReleaseRuleKey(r)), r);
  }
  for (ResumeRule r :
       {ResumeRule::kFullTimescaleFromExploitable, ResumeRule::kFromOriginalRelease}) {
    EXPECT_EQ(*ParseResumeRule(ResumeRuleKey(r)), r);
  }
  EXPECT_FALSE(ParsePatchReleaseRule("publication").ok());
  EXPECT_FALSE(ParseResumeRule("resume").ok());
  EXPECT_EQ(TimescaleSourceKey(TimescaleSource::kContract), "contract");
  EXPECT_EQ(TimescaleSourceKey(TimescaleSource::kPolicyDefault), "policy-default");
}

TEST(PolicyDescribe, Periods) {
  const Policy p = Policy::Defaults();
  EXPECT_EQ(DescribeTimescalePeriod(*p.Find("patch_other")), "60 Working Days");
  EXPECT_EQ(DescribeTimescalePeriod(*p.Find("patch_at_risk_notification")), "immediate");
  EXPECT_EQ(DescribeTimescalePeriod(*p.Find("change_approval")), "no clock");
}

}  // namespace
}  // namespace isms
