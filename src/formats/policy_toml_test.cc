#include "formats/policy_toml.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "isms_test_paths.h"

namespace isms {
namespace {

using Unit = Period::Unit;

std::string ErrorOf(std::string_view text) {
  Result<Policy> p = LoadPolicyString(text, "policy.toml");
  EXPECT_FALSE(p.ok()) << text;
  if (p.ok()) return "";
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  return p.status().message();
}

TEST(PolicyToml, EmptyFileIsTheDefaults) {
  Result<Policy> p = LoadPolicyString("", "policy.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Policy d = Policy::Defaults();
  EXPECT_EQ(p->timescales, d.timescales);
  EXPECT_EQ(p->severity_method, d.severity_method);
  EXPECT_FALSE(p->effective.has_value());
}

TEST(PolicyToml, EverySetting) {
  Result<Policy> p = LoadPolicyString(R"(
[policy]
effective = 2026-04-01

[severity]
method = "most-severe"
basis = "environmental"

[calendar]
holidays = "data/bank-holidays.json"

[status]
at_risk_percent = 80
backdated_threshold = "3 working_days"

[vulnerabilities]
scan_recency = "14 days"
patch_release = "first-seen"
resume_after_exploitable = "from-original-release"

[timescales]
patch_other = "40 working_days"
breach_notification = { period = "12 hours", reference = "CCN-0042" }
patch_at_risk_notification = "immediate"

[timescales.cots_upgrade]
period = "3 months"
)",
                                      "policy.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->effective, (Date{std::chrono::year{2026}, std::chrono::April, std::chrono::day{1}}));
  EXPECT_EQ(p->severity_method, SeverityMethod::kMostSevere);
  EXPECT_EQ(p->score_basis, ScoreBasis::kEnvironmental);
  EXPECT_EQ(p->holidays_file, "data/bank-holidays.json");
  EXPECT_EQ(p->at_risk_percent, 80);
  EXPECT_EQ(p->backdated_threshold, (Period{3, Unit::kWorkingDays}));
  EXPECT_EQ(p->scan_recency, (Period{14, Unit::kDays}));
  EXPECT_EQ(p->patch_release, PatchReleaseRule::kFirstSeen);
  EXPECT_EQ(p->resume_after_exploitable, ResumeRule::kFromOriginalRelease);

  const Timescale* other = p->Find("patch_other");
  EXPECT_EQ(other->period, (Period{40, Unit::kWorkingDays}));
  EXPECT_EQ(other->source, TimescaleSource::kVaried);
  const Timescale* breach = p->Find("breach_notification");
  EXPECT_EQ(breach->period, (Period{12, Unit::kHours}));
  EXPECT_EQ(breach->source, TimescaleSource::kVaried);
  EXPECT_EQ(breach->reference, "CCN-0042");
  EXPECT_EQ(p->Find("patch_at_risk_notification")->source, TimescaleSource::kPolicyDefault);
  EXPECT_EQ(p->Find("cots_upgrade")->period, (Period{3, Unit::kMonths}));
  EXPECT_EQ(p->Find("patch_critical")->source, TimescaleSource::kContract);
}

TEST(PolicyToml, EffectiveDateAsString) {
  Result<Policy> p = LoadPolicyString("[policy]\neffective = \"2026-05-01\"\n", "p");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(FormatDate(*p->effective), "2026-05-01");
  EXPECT_EQ(ErrorOf("[policy]\neffective = \"2026-02-30\"\n").substr(0, 16), "policy.toml:2:13");
  EXPECT_NE(ErrorOf("[policy]\neffective = 2026-04-01T10:00:00Z\n").find("not a date"),
            std::string::npos);
}

TEST(PolicyToml, SingularUnitsAndSpaces) {
  Result<Policy> p =
      LoadPolicyString("[timescales]\nthreat_notification = \" 1  working_day \"\n", "p");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Find("threat_notification")->period, (Period{1, Unit::kWorkingDays}));
  EXPECT_EQ(p->Find("threat_notification")->source, TimescaleSource::kPolicyDefault);
}

TEST(PolicyToml, UnknownSectionNamesPosition) {
  EXPECT_EQ(ErrorOf("[severty]\nmethod = \"most-severe\"\n"),
            "policy.toml:1:2: unknown section 'severty'; use policy, severity, calendar, status, "
            "vulnerabilities, timescales or audit (docs/policy.md)");
}

TEST(PolicyToml, UnknownKeyNamesPosition) {
  EXPECT_EQ(ErrorOf("[severity]\nmethod = \"most-severe\"\n  mehtod = \"x\"\n"),
            "policy.toml:3:3: unknown key 'mehtod' in [severity]; use method or basis "
            "(docs/policy.md)");
  EXPECT_NE(ErrorOf("[status]\nat_risk = 70\n").find("policy.toml:2:1: unknown key 'at_risk'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = { period = \"5 days\", ref = \"x\" }\n")
                .find("policy.toml:2:36: unknown key 'ref'"),
            std::string::npos);
}

TEST(PolicyToml, UnknownTimescale) {
  EXPECT_EQ(ErrorOf("[timescales]\npatch_urgent = \"7 days\"\n"),
            "policy.toml:2:1: unknown timescale 'patch_urgent'; use a key of docs/policy.md, e.g. "
            "patch_other");
}

TEST(PolicyToml, TimescaleWithoutClock) {
  EXPECT_NE(ErrorOf("[timescales]\nchange_approval = \"5 days\"\n").find("has no clock"),
            std::string::npos);
}

TEST(PolicyToml, NegativePeriod) {
  EXPECT_EQ(ErrorOf("[timescales]\npatch_other = \"-5 working_days\"\n"),
            "policy.toml:2:15: 'timescales.patch_other': negative period '-5 working_days'; use "
            "an amount of 0 or more");
}

TEST(PolicyToml, TooLongPeriod) {
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = \"10000 days\"\n").find("too long"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf("[timescales]\npatch_other = \"99999999999999999999999 days\"\n").find("too long"),
      std::string::npos);
}

TEST(PolicyToml, UnknownUnit) {
  const std::string e = ErrorOf("[timescales]\npatch_other = \"60 weeks\"\n");
  EXPECT_EQ(e.substr(0, 17), "policy.toml:2:15:");
  EXPECT_NE(e.find("unknown unit 'weeks'"), std::string::npos);
  EXPECT_NE(e.find("; write \"<amount> <unit>\""), std::string::npos);
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = \"60\"\n").find("has no unit"), std::string::npos);
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = \"sixty days\"\n").find("whole number"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = \"6.5 days\"\n").find("whole number"),
            std::string::npos);
}

TEST(PolicyToml, HoursRefusedForPatchTimescales) {
  EXPECT_NE(ErrorOf("[timescales]\npatch_critical = \"48 hours\"\n").find("whole days"),
            std::string::npos);
}

TEST(PolicyToml, WrongTypes) {
  EXPECT_EQ(ErrorOf("[timescales]\npatch_other = 60\n"),
            "policy.toml:2:15: 'timescales.patch_other' is an integer, not a period; write e.g. "
            "patch_other = \"60 working_days\"");
  EXPECT_EQ(ErrorOf("[severity]\nmethod = 1\n"),
            "policy.toml:2:10: 'severity.method' is an integer, not a string; write it in "
            "quotes, e.g. method = \"microsoft-else-nvd\"");
  EXPECT_NE(ErrorOf("[status]\nat_risk_percent = \"75\"\n").find("not an integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[status]\nat_risk_percent = 75.0\n").find("is a float, not an integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf("severity = \"most-severe\"\n").find("not a table"), std::string::npos);
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = { reference = \"x\" }\n").find("has no period"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[timescales]\npatch_other = { period = \"5 days\", reference = 3 }\n")
                .find("not a string"),
            std::string::npos);
}

TEST(PolicyToml, UnknownChoices) {
  EXPECT_EQ(ErrorOf("[severity]\nmethod = \"nvd-only\"\n"),
            "policy.toml:2:10: unknown value 'nvd-only' for 'severity.method'; use "
            "microsoft-else-nvd or most-severe");
  EXPECT_NE(ErrorOf("[severity]\nbasis = \"temporal\"\n").find("use base or environmental"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[vulnerabilities]\npatch_release = \"x\"\n").find("first-seen"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[vulnerabilities]\nresume_after_exploitable = \"x\"\n")
                .find("from-original-release"),
            std::string::npos);
}

TEST(PolicyToml, OutOfRangeSettings) {
  EXPECT_NE(ErrorOf("[status]\nat_risk_percent = 0\n").find("outside 1-100"), std::string::npos);
  EXPECT_NE(ErrorOf("[status]\nat_risk_percent = 101\n").find("outside 1-100"), std::string::npos);
  EXPECT_NE(ErrorOf("[calendar]\nholidays = \"  \"\n").find("is empty"), std::string::npos);
}

TEST(PolicyToml, SyntaxErrorNamesPosition) {
  const std::string e = ErrorOf("[severity]\nmethod = \"most-severe\n");
  EXPECT_EQ(e.substr(0, 14), "policy.toml:2:");
  EXPECT_NE(e.find("; fix the TOML syntax"), std::string::npos);
  EXPECT_NE(ErrorOf("[severity]\nmethod = \"a\"\nmethod = \"b\"\n").find("policy.toml:3:"),
            std::string::npos);
}

TEST(PolicyToml, InvalidUtf8IsRefused) {
  EXPECT_FALSE(ErrorOf("a = \"\xff\"\n").empty());
}

class PolicyTomlFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("isms_policy_toml_test_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::filesystem::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(PolicyTomlFileTest, RelativeHolidaysResolvedAgainstTheFile) {
  const std::string path = Write("policy.toml", "[calendar]\nholidays = \"bank-holidays.json\"\n");
  Result<Policy> p = LoadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p->holidays_file, (dir_ / "bank-holidays.json").string());
}

TEST_F(PolicyTomlFileTest, ErrorsNameTheFile) {
  const std::string path = Write("bad.toml", "[severity]\nmethod = \"x\"\n");
  Result<Policy> p = LoadPolicyFile(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message().rfind(path + ":2:10: unknown value 'x'", 0), 0u)
      << p.status().message();
}

TEST_F(PolicyTomlFileTest, MissingFile) {
  Result<Policy> p = LoadPolicyFile((dir_ / "absent.toml").string());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kIoError);
}

TEST(PolicyToml, DocumentedExampleLoads) {
  std::ifstream in(std::string(ISMS_SOURCE_DIR) + "/docs/policy.md");
  ASSERT_TRUE(in) << "docs/policy.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t begin = doc.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = doc.find("```", begin + 8);
  Result<Policy> p = LoadPolicyString(doc.substr(begin + 8, end - begin - 8), "docs/policy.md");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
}

TEST(PolicyRender, DefaultsTable) {
  const std::string out = RenderPolicy(Policy::Defaults());
  EXPECT_NE(out.find("Policy in force from the Start Date"), std::string::npos);
  EXPECT_NE(out.find("3.1       isms_submission"), std::string::npos) << out;
  EXPECT_NE(out.find("60 Working Days"), std::string::npos);
  EXPECT_NE(out.find("policy-default  notify the Buyer of a (potential) Breach of Security "
                     "[schedule: \"per the incident management process\"]"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("immediate"), std::string::npos);
  EXPECT_NE(out.find("no clock         contract        written Buyer approval before an ISMS/SMP "
                     "change is implemented [no timescale: a gate before implementation]"),
            std::string::npos);
  EXPECT_NE(out.find("A1 8.1.4"), std::string::npos);
  EXPECT_NE(out.find("severity.method"), std::string::npos);
  EXPECT_NE(out.find("microsoft-else-nvd"), std::string::npos);
  EXPECT_NE(out.find("75 %"), std::string::npos);
  EXPECT_NE(out.find("(rules only)"), std::string::npos);
  EXPECT_EQ(out.find("varied"), std::string::npos);
  for (const Timescale& t : Policy::Defaults().timescales) {
    EXPECT_NE(out.find(t.key), std::string::npos) << t.key;
  }
}

TEST(PolicyRender, VariedAndEffective) {
  Result<Policy> p = LoadPolicyString(
      "[policy]\neffective = 2026-04-01\n[severity]\nmethod = \"most-severe\"\n"
      "[timescales]\npatch_other = { period = \"40 working_days\", reference = \"CCN-7\" }\n",
      "p");
  ASSERT_TRUE(p.ok());
  const std::string out = RenderPolicy(*p);
  EXPECT_NE(out.find("Policy effective from 2026-04-01"), std::string::npos);
  EXPECT_NE(out.find("40 Working Days  varied"), std::string::npos) << out;
  EXPECT_NE(out.find("[agreed: CCN-7]"), std::string::npos);
  EXPECT_NE(out.find("most-severe"), std::string::npos);
}

}  // namespace
}  // namespace isms

namespace isms {
namespace {

TEST(PolicyToml, AcceptsTheSuppliersAuditRulesAndChecksThem) {
  const char* good = R"toml(
[severity]
method = "most-severe"

[[audit.rules]]
name = "acme-vpn-start"
category = "remote-session-start"
app = ["acmevpn"]
contains = ["session up"]
)toml";
  Result<Policy> p = LoadPolicyString(good, "contract.toml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->severity_method, SeverityMethod::kMostSevere);

  const char* bad = R"toml(
[[audit.rules]]
name = "no-category"
app = ["acmevpn"]
)toml";
  Result<Policy> refused = LoadPolicyString(bad, "contract.toml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("contract.toml:"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace isms
