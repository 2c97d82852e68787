// A whole first contract year driven through the command line, as a supplier's security
// officer would record it, checked against `status --json` at the year's end.
#include <gtest/gtest.h>

#include "cli/cli_test_util.h"

namespace isms::cli::testing {
namespace {

using nlohmann::json;

class FirstYear : public CliTest {
 protected:
  // Records an event at `at` (an RFC 3339 instant or a date), one hour after it happened.
  void Record(const std::string& at, std::vector<std::string> args) {
    std::string instant = at.size() == 10 ? at + "T09:00:00Z" : at;
    SetNow(FormatInstant(ParseInstant(instant).value() + std::chrono::hours(1)));
    args.insert(args.begin(), {"event", "record"});
    args.insert(args.end(), {"--contract", "moj-hosting", "--at", instant});
    CliRun r = Isms(args);
    ASSERT_EQ(r.code, 0) << args[2] << " at " << at << ": " << r.err;
  }

  static json Find(const json& status, const std::string& key, const std::string& subject,
                   const std::string& trigger_type = "") {
    for (const json& o : status) {
      if (o["key"] == key && o["subject"] == subject &&
          (trigger_type.empty() || o["trigger_type"] == trigger_type)) {
        return o;
      }
    }
    ADD_FAILURE() << "no obligation " << key << " about '" << subject << "' in " << status.dump(1);
    return json::object();
  }
};

TEST_P(FirstYear, EveryClockOfTheFirstYearEndsWhereTheScheduleSays) {
  Ok({"contract", "create", "moj-hosting", "--start", "2026-01-05", "--buyer", "MoJ", "--supplier",
      "Acme", "--bespoke-isms"});
  // Documents: ISMS on time, rejected, re-submitted and approved; SMP late but approved.
  Record("2026-01-28", {"isms.submitted", "doc=" + Doc(1)});  // event 1
  Record("2026-02-04", {"smp.submitted", "doc=" + Doc(11)});  // event 2
  Record("2026-02-10", {"isms.rejected", "submission=1", "evidence=MSG-1"});
  Record("2026-02-20", {"isms.submitted", "doc=" + Doc(2)});  // event 4
  Record("2026-02-20T15:00:00Z",
         {"smp.approved", "submission=2", "evidence=MSG-2", "report_from=2026-02-01"});
  Record("2026-03-02", {"isms.approved", "submission=4", "evidence=MSG-3"});
  // Monthly vulnerability reports: February on time, March on its last day (Easter), April never.
  Record("2026-03-04", {"report.submitted", "month=2026-02", "sha256=" + Doc(21).substr(7)});
  Record("2026-04-09", {"report.submitted", "month=2026-03", "sha256=" + Doc(22).substr(7)});
  // People.
  Record("2026-01-12", {"person.joined", "--subject", "alice"});
  Record("2026-06-01", {"person.trained", "--subject", "alice"});
  Record("2026-04-30", {"person.left", "--subject", "bob"});
  Record("2026-05-05", {"access.revoked", "--subject", "bob"});
  // A change implemented before the Buyer approved it.
  Record("2026-05-11", {"change.proposed", "--subject", "CHG-1", "doc=isms"});
  Record("2026-05-12", {"change.implemented", "--subject", "CHG-1"});
  Record("2026-05-13", {"change.approved", "--subject", "CHG-1", "evidence=MSG-4"});
  // An incident: notified within hours, full details late.
  Record("2026-06-10T08:00:00Z", {"breach.detected", "--subject", "INC-1"});
  Record("2026-06-10T15:00:00Z", {"breach.notified", "--subject", "INC-1"});
  Record("2026-06-30", {"details.delivered", "--subject", "INC-1"});
  // The annual Security Test finds a weakness; the retest finds the same root cause.
  Record("2026-09-01", {"securitytest.agreed", "--subject", "ST-1", "evidence=MSG-5"});
  Record("2026-09-15",
         {"securitytest.completed", "--subject", "ST-1", "weakness=yes", "root_cause=RC-1"});
  Record("2026-09-22", {"securitytest.results.delivered", "--subject", "ST-1"});
  Record("2026-09-25", {"changes.notified", "--subject", "ST-1"});
  Record("2026-10-20",
         {"retest.completed", "--subject", "ST-1", "weakness=yes", "root_cause=RC-1"});

  SetNow("2026-12-31T12:00:00Z");
  json status = Json({"status", "--contract", "moj-hosting", "--json"});

  EXPECT_EQ(Find(status, "isms_submission", "isms")["state"], "met");
  json smp = Find(status, "smp_submission", "smp");
  EXPECT_EQ(smp["due"], "2026-02-02");
  EXPECT_EQ(smp["state"], "met late");
  EXPECT_EQ(Find(status, "isms_resubmission", "isms")["due"], "2026-02-24");
  EXPECT_EQ(Find(status, "isms_resubmission", "isms")["state"], "met");
  EXPECT_EQ(Find(status, "smp_approval", "smp")["state"], "met");

  json feb = Find(status, "monthly_vulnerability_report", "2026-02");
  EXPECT_EQ(feb["due"], "2026-03-06");
  EXPECT_EQ(feb["state"], "met");
  json mar = Find(status, "monthly_vulnerability_report", "2026-03");
  EXPECT_EQ(mar["due"], "2026-04-09");  // Good Friday and Easter Monday are not Working Days
  EXPECT_EQ(mar["state"], "met");
  json apr = Find(status, "monthly_vulnerability_report", "2026-04");
  EXPECT_EQ(apr["due"], "2026-05-08");  // the early May bank holiday is not a Working Day
  EXPECT_EQ(apr["state"], "breached");
  EXPECT_EQ(apr["consequence_text"], "breach of 9.5.5");

  json bob = Find(status, "access_revocation", "bob");
  EXPECT_EQ(bob["due"], "2026-05-01");
  EXPECT_EQ(bob["state"], "met late");
  json alice = Find(status, "security_training", "alice");
  EXPECT_EQ(alice["due"], "2027-06-01");
  EXPECT_EQ(alice["state"], "open");

  json change = Find(status, "change_approval", "CHG-1");
  EXPECT_EQ(change["clause"], "5.3");
  EXPECT_EQ(change["state"], "breached");

  json notify = Find(status, "breach_notification", "INC-1");
  EXPECT_EQ(notify["due_at"], "2026-06-11T08:00:00.000Z");  // 24 hours
  EXPECT_EQ(notify["timescale_source"], "policy-default");
  EXPECT_EQ(notify["state"], "met");
  json details = Find(status, "breach_details", "INC-1");
  EXPECT_EQ(details["due"], "2026-06-24");
  EXPECT_EQ(details["state"], "met late");

  json retest = Find(status, "repeat_test_failure", "ST-1");
  EXPECT_EQ(retest["clause"], "6.5");
  EXPECT_EQ(retest["consequence"], "material Default");
  EXPECT_EQ(retest["state"], "breached");
  EXPECT_EQ(Find(status, "test_results", "ST-1")["state"], "met");
  EXPECT_EQ(Find(status, "test_remediation", "ST-1", "securitytest.completed")["state"],
            "met late");
  // The retest's weakness opens a new round of 6.4, still unanswered at the year's end.
  EXPECT_EQ(Find(status, "test_remediation", "ST-1", "retest.completed")["state"], "breached");

  // The most urgent come first: the material Default leads the table.
  ASSERT_FALSE(status.empty());
  EXPECT_EQ(status[0]["consequence"], "material Default");

  // The same year evaluated from the events alone, and after a rebuild, is the same.
  EXPECT_EQ(Json({"status", "--contract", "moj-hosting", "--json", "--at", "2026-12-31T12:00:00Z"}),
            status);
  Ok({"recompute", "--contract", "moj-hosting"});
  EXPECT_EQ(Json({"status", "--contract", "moj-hosting", "--json"}), status);

  std::string causes = Ok({"rootcause", "list", "--contract", "moj-hosting"});
  EXPECT_EQ(causes, "RC-1\n");
}

INSTANTIATE_TEST_SUITE_P(Engines, FirstYear, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
