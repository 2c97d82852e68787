// The ledger through the command line: contracts, events, status, recompute, on SQLite.
#include <gtest/gtest.h>

#include <map>

#include "cli/cli_test_util.h"

namespace isms::cli::testing {
namespace {

using nlohmann::json;

// The obligation of `key` about `subject` in a status --json array, or null.
json Find(const json& status, const std::string& key, const std::string& subject = "") {
  for (const json& o : status) {
    if (o["key"] == key && (subject.empty() || o["subject"] == subject)) return o;
  }
  return nullptr;
}

class LedgerCli : public CliTest {};

TEST_P(LedgerCli, InitCreatesTheStoreAndIsIdempotent) {
  CliRun r = Isms({"init"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("is ready (schema version "), std::string::npos) << r.out;
  EXPECT_EQ(Isms({"init"}).code, 0);
}

TEST_P(LedgerCli, ContractsAreCreatedOnceAndListed) {
  Ok({"contract", "create", "alpha", "--start", "2026-01-05", "--buyer", "Home Office",
      "--supplier", "Acme", "--bespoke-isms"});
  Ok({"contract", "create", "beta", "--start", "2026-02-02"});
  CliRun dup = Isms({"contract", "create", "alpha", "--start", "2026-01-05"});
  EXPECT_EQ(dup.code, 1);
  EXPECT_NE(dup.err.find("a contract named 'alpha' exists already"), std::string::npos) << dup.err;
  json list = Json({"contract", "list", "--json"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "alpha");
  EXPECT_EQ(list[0]["buyer"], "Home Office");
  EXPECT_EQ(list[0]["bespoke_isms"], true);
  EXPECT_EQ(list[1]["start"], "2026-02-02");
}

TEST_P(LedgerCli, ContractNamesAndDatesAreChecked) {
  CliRun bad = Isms({"contract", "create", "no spaces", "--start", "2026-01-05"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("may hold only letters"), std::string::npos) << bad.err;
  CliRun date = Isms({"contract", "create", "c", "--start", "2026-02-30"});
  EXPECT_EQ(date.code, 1);
  EXPECT_NE(date.err.find("--start: '2026-02-30'"), std::string::npos) << date.err;
}

TEST_P(LedgerCli, ANewContractOwesItsIsmsAndSmpIn20WorkingDays) {
  Ok({"contract", "create", "c", "--start", "2026-12-14"});
  EXPECT_EQ(Json({"status", "--contract", "c", "--json"}).size(), 0u)
      << "no clock runs before the Start Date";
  SetNow("2026-12-14T09:00:00Z");
  json status = Json({"status", "--contract", "c", "--json"});
  json isms = Find(status, "isms_submission");
  ASSERT_FALSE(isms.is_null()) << status.dump(2);
  EXPECT_EQ(isms["clause"], "3.1");
  EXPECT_EQ(isms["due"], "2027-01-14");  // Christmas, Boxing Day and New Year's Day skipped
  EXPECT_EQ(isms["due_at"], "2027-01-14T23:59:59.999Z");
  EXPECT_EQ(isms["timescale"], "20 Working Days");
  EXPECT_EQ(isms["timescale_source"], "contract");
  EXPECT_EQ(isms["state"], "open");
  EXPECT_EQ(isms["consequence"], "breach");
  EXPECT_FALSE(Find(status, "smp_submission").is_null());
}

TEST_P(LedgerCli, RecordingAnEventMeetsTheObligationAndIsListed) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-01-20T10:00:00Z");
  std::string out = Ok({"event", "record", "isms.submitted", "--contract", "c", "--at",
                        "2026-01-20", "doc=" + Doc(1)});
  EXPECT_EQ(out, "recorded event 1: isms.submitted at 2026-01-20T00:00:00.000Z\n");
  json status = Json({"status", "--contract", "c", "--json"});
  EXPECT_EQ(Find(status, "isms_submission")["state"], "met");
  json events = Json({"event", "list", "--contract", "c", "--json"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "isms.submitted");
  EXPECT_EQ(events[0]["attrs"]["doc"], Doc(1));
  EXPECT_EQ(events[0]["recorded_at"], "2026-01-20T10:00:00.000Z");
  EXPECT_FALSE(events[0]["actor"].get<std::string>().empty());
  EXPECT_EQ(events[0]["backdated"], false);
}

TEST_P(LedgerCli, MissedDeadlinesShowAsBreachedOnceTheyPass) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-02-02T23:00:00Z");  // 2026-02-02 is the 20th Working Day
  EXPECT_EQ(Find(Json({"status", "--contract", "c", "--json"}), "isms_submission")["state"],
            "open");
  SetNow("2026-02-03T00:00:00Z");
  EXPECT_EQ(Find(Json({"status", "--contract", "c", "--json"}), "isms_submission")["state"],
            "breached");
  SetNow("2026-02-04T12:00:00Z");
  Ok({"event", "record", "isms.submitted", "--contract", "c", "doc=" + Doc(1)});
  EXPECT_EQ(Find(Json({"status", "--contract", "c", "--json"}), "isms_submission")["state"],
            "met late");
}

TEST_P(LedgerCli, BadEventsAreRefusedAndWriteNothing) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-03-01T12:00:00Z");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"event", "record", "isms.sent", "--contract", "c"}, "isms.sent"},
      {{"event", "record", "isms.submitted", "--contract", "nope", "doc=" + Doc(1)},
       "no contract named 'nope'"},
      {{"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-01-02",
        "doc=" + Doc(1)},
       "Start Date"},
      {{"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-13-01",
        "doc=" + Doc(1)},
       "2026-13-01"},
      {{"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-03-02",
        "doc=" + Doc(1)},
       "in the future"},
      {{"event", "record", "person.left", "--contract", "c"}, "subject"},
      {{"event", "record", "isms.submitted", "--contract", "c", "nodoc"}, "KEY=VALUE"},
  };
  for (const Case& c : cases) {
    CliRun r = Isms(c.args);
    EXPECT_EQ(r.code, 1) << c.args[2];
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args[2] << ": " << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(Json({"event", "list", "--contract", "c", "--json"}).size(), 0u);
}

TEST_P(LedgerCli, TheBuyersActsNeedEvidenceFromTheSuppliersSide) {
  Ok({"contract", "create", "c", "--start", "2026-01-05", "--bespoke-isms"});
  SetNow("2026-01-21T12:00:00Z");
  Ok({"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-01-20",
      "doc=" + Doc(1)});
  CliRun r = Isms({"event", "record", "isms.approved", "--contract", "c", "submission=1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("evidence"), std::string::npos) << r.err;
  Ok({"event", "record", "isms.approved", "--contract", "c", "submission=1",
      "evidence=MSG-2026-001"});
  json status = Json({"status", "--contract", "c", "--json"});
  EXPECT_EQ(Find(status, "isms_approval")["state"], "met");
}

TEST_P(LedgerCli, AnEventRecordedLateIsFlaggedBackdated) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-01-26T12:00:00Z");
  Ok({"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-01-20",
      "doc=" + Doc(1)});
  json events = Json({"event", "list", "--contract", "c", "--json"});
  EXPECT_EQ(events[0]["backdated"], true);
  std::string text = Ok({"event", "list", "--contract", "c"});
  EXPECT_NE(text.find("BACKDATED"), std::string::npos) << text;
}

TEST_P(LedgerCli, StatusAsOfAndAsKnown) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-02-10T12:00:00Z");
  // Submitted on time, but recorded only after the deadline.
  Ok({"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-01-30",
      "doc=" + Doc(1)});
  EXPECT_EQ(Find(Json({"status", "--contract", "c", "--json", "--at", "2026-02-05"}),
                 "isms_submission")["state"],
            "met");
  EXPECT_EQ(Find(Json({"status", "--contract", "c", "--json", "--at", "2026-01-29"}),
                 "isms_submission")["state"],
            "open");
  // As known on 2026-02-05, nobody had recorded the submission yet.
  EXPECT_EQ(Find(Json({"status", "--contract", "c", "--json", "--at", "2026-02-05", "--as-known"}),
                 "isms_submission")["state"],
            "breached");
  CliRun r = Isms({"status", "--contract", "c", "--as-known"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--as-known needs --at"), std::string::npos);
}

TEST_P(LedgerCli, RecomputeRebuildsTheSameObligations) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-06-01T12:00:00Z");
  Ok({"event", "record", "isms.submitted", "--contract", "c", "--at", "2026-01-20",
      "doc=" + Doc(1)});
  Ok({"event", "record", "person.joined", "--contract", "c", "--subject", "alice", "--at",
      "2026-02-02"});
  Ok({"event", "record", "person.left", "--contract", "c", "--subject", "bob", "--at",
      "2026-05-29"});
  json before = Json({"status", "--contract", "c", "--json"});
  std::string out = Ok({"recompute"});
  EXPECT_NE(out.find("from 3 events of 1 contract"), std::string::npos) << out;
  EXPECT_EQ(Json({"status", "--contract", "c", "--json"}), before);
  EXPECT_EQ(Json({"status", "--contract", "c", "--json", "--at", "2026-06-01T12:00:00Z"}), before);
}

TEST_P(LedgerCli, StatusFiltersByState) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-03-01T12:00:00Z");
  json breached = Json({"status", "--contract", "c", "--json", "--state", "breached"});
  ASSERT_FALSE(breached.empty());
  for (const json& o : breached) EXPECT_EQ(o["state"], "breached");
  CliRun bad = Isms({"status", "--contract", "c", "--state", "late"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("late"), std::string::npos);
}

TEST_P(LedgerCli, SummaryCountsObligationsByClauseAndState) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-03-01T12:00:00Z");
  for (const char* who : {"alice", "bob", "carol"}) {
    Ok({"event", "record", "person.left", "--contract", "c", "--subject", who, "--at",
        "2026-02-02"});
  }
  Ok({"event", "record", "access.revoked", "--contract", "c", "--subject", "alice", "--at",
      "2026-02-03"});
  json summary = Json({"status", "--contract", "c", "--summary", "--json"});
  std::map<std::string, long> revocations;
  for (const json& n : summary) {
    if (n["key"] == "access_revocation") revocations[n["state"]] = n["count"];
  }
  EXPECT_EQ(revocations, (std::map<std::string, long>{{"breached", 2}, {"met", 1}}));
  EXPECT_EQ(summary[0]["clause"], "3.1") << "clauses in the schedule's order";
  EXPECT_EQ(summary.back()["clause"], "A1 6.5");
  std::string text = Ok({"status", "--contract", "c", "--summary"});
  EXPECT_NE(text.find("A1 6.5"), std::string::npos) << text;
  EXPECT_EQ(Isms({"status", "--contract", "c", "--summary", "--state", "open"}).code, 1);
}

TEST_P(LedgerCli, StatusShowsWhatNeedsAttentionUnlessAskedForTheList) {
  Ok({"contract", "create", "c", "--start", "2026-01-05"});
  SetNow("2026-03-01T12:00:00Z");
  for (const char* who : {"alice", "bob", "carol"}) {
    Ok({"event", "record", "person.left", "--contract", "c", "--subject", who, "--at",
        "2026-02-02"});
  }
  Ok({"event", "record", "person.left", "--contract", "c", "--subject", "dave", "--at",
      "2026-02-27"});
  Ok({"event", "record", "access.revoked", "--contract", "c", "--subject", "alice", "--at",
      "2026-02-03"});
  const json all = Json({"status", "--contract", "c", "--json"});
  long breached = 0;
  for (const json& o : all) breached += o["state"] == "breached";
  ASSERT_GT(breached, 2);

  // By default: the counts, the breached obligations and what falls due soon; not the met ones.
  std::string text = Ok({"status", "--contract", "c"});
  EXPECT_NE(text.find(std::to_string(breached) + " breached"), std::string::npos) << text;
  EXPECT_NE(text.find("A1 6.5"), std::string::npos) << text;
  EXPECT_NE(text.find("bob"), std::string::npos) << text;
  EXPECT_EQ(text.find("alice"), std::string::npos) << "alice's revocation was met: " << text;
  EXPECT_NE(text.find("--all"), std::string::npos) << text;
  text = Ok({"status", "--contract", "c", "--limit", "1"});
  EXPECT_NE(text.find("the first 1 of " + std::to_string(breached)), std::string::npos) << text;
  text = Ok({"status", "--contract", "c", "--at", "2026-03-01T12:00:00Z"});
  EXPECT_NE(text.find(std::to_string(breached) + " breached"), std::string::npos) << text;

  // --all lists everything, --limit and --offset one page of it, in the order of --json.
  text = Ok({"status", "--contract", "c", "--all"});
  EXPECT_NE(text.find("alice"), std::string::npos) << text;
  const json page = Json({"status", "--contract", "c", "--json", "--limit", "2", "--offset", "1"});
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0], all[1]);
  EXPECT_EQ(page[1], all[2]);
  CliRun bad = Isms({"status", "--contract", "c", "--offset", "3"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("--all"), std::string::npos) << bad.err;
}

TEST_P(LedgerCli, StoreUrlsWithPasswordsAreRefusedOnTheCommandLine) {
  CliRun r = RunRaw({"isms", "init", "--store", "postgresql://u:secret@127.0.0.1:1/db"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("pgpass"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("secret"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Engines, LedgerCli, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
