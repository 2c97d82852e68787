// The API's contracts, events and status (api_contracts.cc), on SQLite and PostgreSQL, and what
// every route shares: 401 without a user, 403 for a role without the action, 404 alike for
// another's contract and none, CSRF on a session, token expiry, pagination, unknown parameters.
#include <gtest/gtest.h>

#include "net/api_test_util.h"

namespace isms::net::testing {
namespace {

std::string Doc(int n) { return "sha256:" + std::string(63, 'a') + std::to_string(n % 10); }

class ContractsApi : public ApiTest {};

TEST_P(ContractsApi, NoTokenIs401AndAnExpiredTokenToo) {
  Reply none = Api("", "GET", "/api/v1/contracts");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Json(none)["error"]["code"], "unauthenticated");
  ASSERT_EQ(Api("officer", "GET", "/api/v1/contracts").status, 200);
  // The fixture's tokens last 30 days.
  clock_.Set(clock_.Now() + std::chrono::hours(24 * 31));
  Reply expired = Api("officer", "GET", "/api/v1/contracts");
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_NE(expired.Header("www-authenticate").find("invalid_token"), std::string::npos);
}

TEST_P(ContractsApi, AUserListsOnlyItsContractsAndAnAdminOnlyTheirNames) {
  json mine = Json(Api("buyer", "GET", "/api/v1/contracts"));
  ASSERT_EQ(mine["items"].size(), 1u) << mine.dump();
  EXPECT_EQ(mine["items"][0]["name"], "acme");
  EXPECT_EQ(mine["items"][0]["start"], "2026-01-05");
  EXPECT_EQ(mine["items"][0]["buyer"], "Department");
  EXPECT_TRUE(mine["next_cursor"].is_null());
  json theirs = Json(Api("otherbuyer", "GET", "/api/v1/contracts"));
  ASSERT_EQ(theirs["items"].size(), 1u);
  EXPECT_EQ(theirs["items"][0]["name"], "other");
  json admin = Json(Api("admin", "GET", "/api/v1/contracts"));
  ASSERT_EQ(admin["items"].size(), 2u);
  EXPECT_EQ(admin["items"][0], json({{"name", "acme"}})) << "an admin reads no contract data";
}

TEST_P(ContractsApi, OnlyAnAdminCreatesContracts) {
  json c = {{"name", "gamma"}, {"start", "2026-02-02"}, {"buyer", "Home Office"},
            {"bespoke_isms", true}};
  Reply refused = Post("officer", "/api/v1/contracts", c);
  EXPECT_EQ(refused.status, 403) << refused.body;
  Reply made = Post("admin", "/api/v1/contracts", c);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.Header("location"), "/api/v1/contracts/gamma");
  EXPECT_EQ(Json(made)["bespoke_isms"], true);
  EXPECT_EQ(Json(made)["created_by"], "admin");
  EXPECT_EQ(Post("admin", "/api/v1/contracts", c).status, 409);
  Reply bad = Post("admin", "/api/v1/contracts", {{"name", "delta"}, {"start", "2026-02-30"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("start"), std::string::npos) << bad.body;
  Reply typo = Post("admin", "/api/v1/contracts", {{"name", "delta"}, {"strat", "2026-02-03"}});
  EXPECT_EQ(typo.status, 400);
  EXPECT_NE(typo.body.find("unknown field 'strat'"), std::string::npos) << typo.body;
  Reply notjson = Api("admin", "POST", "/api/v1/contracts", "{\"name\": ",
                      {{"Content-Type", "application/json"}});
  EXPECT_EQ(notjson.status, 400);
  EXPECT_NE(notjson.body.find("not JSON"), std::string::npos) << notjson.body;
}

TEST_P(ContractsApi, AnotherContractIs404ExactlyAsOneThatDoesNotExist) {
  for (const std::string path : {"", "/events", "/status", "/root-causes"}) {
    Reply mine = Api("buyer", "GET", "/api/v1/contracts/acme" + path);
    EXPECT_EQ(mine.status, 200) << path << ": " << mine.body;
    Reply theirs = Api("buyer", "GET", "/api/v1/contracts/other" + path);
    Reply none = Api("buyer", "GET", "/api/v1/contracts/zzzzz" + path);
    EXPECT_EQ(theirs.status, 404) << path;
    EXPECT_EQ(none.status, 404) << path;
    std::string a = theirs.body, b = none.body;
    a.replace(a.find("other"), 5, "NAME");
    b.replace(b.find("zzzzz"), 5, "NAME");
    EXPECT_EQ(a, b) << path;
  }
  Reply post = Post("buyer", "/api/v1/contracts/other/events",
                    {{"type", "change.approved"}, {"subject", "CHG-1"}});
  EXPECT_EQ(post.status, 404) << post.body;
  Reply bad = Post("buyer", "/api/v1/contracts/other/events", {{"typo", 1}});
  EXPECT_EQ(bad.status, 404) << "a bad body must not tell that the contract exists: " << bad.body;
}

TEST_P(ContractsApi, RecordingAnEventAsTheCommandLineDoes) {
  Reply r = Post("officer", "/api/v1/contracts/acme/events",
                 {{"type", "isms.submitted"}, {"at", "2026-01-20"}, {"attrs", {{"doc", Doc(1)}}},
                  {"note", "first version"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json e = Json(r)["event"];
  EXPECT_EQ(e["id"], 1);
  EXPECT_EQ(e["type"], "isms.submitted");
  EXPECT_EQ(e["at"], "2026-01-20T00:00:00.000Z");
  EXPECT_EQ(e["actor"], "officer");
  EXPECT_EQ(e["backdated"], true);
  EXPECT_EQ(Json(r)["sealed"], true);
  json events = Json(Api("auditor", "GET", "/api/v1/contracts/acme/events"));
  ASSERT_EQ(events["items"].size(), 1u);
  EXPECT_EQ(events["items"][0]["attrs"]["doc"], Doc(1));
  EXPECT_EQ(events["items"][0]["note"], "first version");
  json status = Json(Api("buyer", "GET", "/api/v1/contracts/acme/status?state=met"));
  bool met = false;
  for (const json& o : status["items"]) met = met || o["key"] == "isms_submission";
  EXPECT_TRUE(met) << status.dump(2);
}

TEST_P(ContractsApi, BadEventsGetTheCommandLinesMessagesAndWriteNothing) {
  struct Case {
    json body;
    std::string message;
  };
  std::vector<Case> cases = {
      {{{"type", "isms.sent"}}, "unknown event type 'isms.sent'"},
      {{{"type", "isms.submitted"}, {"at", "2026-01-02"}, {"attrs", {{"doc", Doc(1)}}}},
       "Start Date"},
      {{{"type", "isms.submitted"}, {"at", "2026-13-01"}, {"attrs", {{"doc", Doc(1)}}}},
       "2026-13-01"},
      {{{"type", "isms.submitted"}, {"at", "2026-03-03"}, {"attrs", {{"doc", Doc(1)}}}},
       "in the future"},
      {{{"type", "person.left"}}, "subject"},
      {{{"type", "isms.submitted"}, {"attrs", {{"doc", true}}}}, "attribute 'doc'"},
      {{{"subject", "x"}}, "field 'type' is missing"},
  };
  for (const Case& c : cases) {
    Reply r = Post("officer", "/api/v1/contracts/acme/events", c.body);
    EXPECT_EQ(r.status, 400) << c.body.dump() << ": " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << c.body.dump() << ": " << r.body;
  }
  EXPECT_EQ(Json(Api("officer", "GET", "/api/v1/contracts/acme/events"))["items"].size(), 0u);
}

TEST_P(ContractsApi, TheBuyersOwnActsNeedNoEvidenceAndTheSuppliersDo) {
  json act = {{"type", "change.approved"}, {"subject", "CHG-12"}};
  Reply officer = Post("officer", "/api/v1/contracts/acme/events", act);
  EXPECT_EQ(officer.status, 400) << officer.body;
  EXPECT_NE(officer.body.find("evidence"), std::string::npos) << officer.body;
  Reply buyer = Post("buyer", "/api/v1/contracts/acme/events", act);
  ASSERT_EQ(buyer.status, 201) << buyer.body;
  EXPECT_EQ(Json(buyer)["event"]["by_buyer"], true);
  act["attrs"] = {{"evidence", "MSG-2026-001"}};
  EXPECT_EQ(Post("officer", "/api/v1/contracts/acme/events", act).status, 201);
  // A buyer records only the Buyer's acts; an auditor and an engineer record none.
  json supplier = {{"type", "person.joined"}, {"subject", "alice"}};
  EXPECT_EQ(Post("buyer", "/api/v1/contracts/acme/events", supplier).status, 403);
  EXPECT_EQ(Post("auditor", "/api/v1/contracts/acme/events", supplier).status, 403);
  EXPECT_EQ(Post("engineer", "/api/v1/contracts/acme/events", supplier).status, 403);
  EXPECT_EQ(Post("admin", "/api/v1/contracts/acme/events", supplier).status, 403);
  EXPECT_EQ(Post("officer", "/api/v1/contracts/acme/events", supplier).status, 201);
}

TEST_P(ContractsApi, StatusAsOfAsKnownAndSummary) {
  clock_.Set(ParseInstant("2026-02-10T12:00:00Z").value());
  // Submitted on time, recorded after the deadline.
  ASSERT_EQ(Post("officer", "/api/v1/contracts/acme/events",
                 {{"type", "isms.submitted"}, {"at", "2026-01-30"}, {"attrs", {{"doc", Doc(1)}}}})
                .status,
            201);
  auto state = [&](const std::string& query) {
    json s = Json(Api("auditor", "GET", "/api/v1/contracts/acme/status" + query));
    for (const json& o : s["items"]) {
      if (o["key"] == "isms_submission") return o["state"].get<std::string>();
    }
    return std::string("none: ") + s.dump();
  };
  EXPECT_EQ(state(""), "met");
  EXPECT_EQ(state("?at=2026-01-29"), "open");
  EXPECT_EQ(state("?at=2026-02-05"), "met");
  EXPECT_EQ(state("?at=2026-02-05&as_known=true"), "breached");
  Reply no_at = Api("auditor", "GET", "/api/v1/contracts/acme/status?as_known=true");
  EXPECT_EQ(no_at.status, 400);
  EXPECT_NE(no_at.body.find("as_known needs at"), std::string::npos);
  Reply bad_state = Api("auditor", "GET", "/api/v1/contracts/acme/status?state=late");
  EXPECT_EQ(bad_state.status, 400);
  json summary = Json(Api("auditor", "GET", "/api/v1/contracts/acme/status?summary=true"));
  ASSERT_FALSE(summary["items"].empty());
  EXPECT_TRUE(summary["items"][0].contains("count")) << summary.dump();
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/status?summary=1&state=met").status, 400);
}

TEST_P(ContractsApi, TheOverviewCountsWhatNeedsAttention) {
  Reply r = Api("buyer", "GET", "/api/v1/contracts/acme/status/overview?days=400&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  json o = Json(r);
  EXPECT_EQ(o["as_of"], "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(o["due_by"], "2027-04-06T10:00:00.000Z");
  EXPECT_GE(o["breached"].get<int>(), 1) << "the ISMS was due in January: " << o.dump(2);
  EXPECT_EQ(o["most_urgent_breached"].size(),
            std::min<size_t>(5, o["breached"].get<size_t>()));
  json breached = Json(Api("buyer", "GET", "/api/v1/contracts/acme/status?state=breached"));
  EXPECT_EQ(o["most_urgent_breached"][0], breached["items"][0]) << "most urgent first, alike";
  // The overview is kept, but never across a change of the contract's data.
  ASSERT_EQ(Post("officer", "/api/v1/contracts/acme/events",
                 {{"type", "isms.submitted"}, {"attrs", {{"doc", Doc(1)}}}})
                .status,
            201);
  json after = Json(Api("buyer", "GET", "/api/v1/contracts/acme/status/overview?days=400&limit=5"));
  EXPECT_EQ(after["breached"].get<int>(), o["breached"].get<int>() - 1) << after.dump(2);
  EXPECT_EQ(after["met_late"].get<int>(), o["met_late"].get<int>() + 1) << after.dump(2);
  EXPECT_EQ(Api("buyer", "GET", "/api/v1/contracts/acme/status/overview?days=0").status, 400);
  EXPECT_EQ(Api("buyer", "GET", "/api/v1/contracts/other/status/overview").status, 404);
}

TEST_P(ContractsApi, AnUnknownQueryParameterIsRefusedNamingTheKnownOnes) {
  Reply r = Api("auditor", "GET", "/api/v1/contracts/acme/status?sate=met");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown query parameter 'sate'"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("state, at, as_known, summary, limit, cursor"), std::string::npos)
      << r.body;
}

TEST_P(ContractsApi, ACursorWalksTheWholeListWithoutDuplicates) {
  clock_.Set(ParseInstant("2026-03-02T10:00:00Z").value());
  for (int i = 0; i < 23; ++i) {
    Reply r = Post("officer", "/api/v1/contracts/acme/events",
                   {{"type", "person.joined"}, {"subject", "p" + std::to_string(i)},
                    {"at", "2026-02-02"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }
  int pages = 0;
  std::vector<json> all = Walk("auditor", "/api/v1/contracts/acme/events", 5, "id", &pages);
  EXPECT_EQ(all.size(), 23u);
  EXPECT_EQ(pages, 5);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]["id"], static_cast<int>(i) + 1);
  json filtered = Json(Api("auditor", "GET", "/api/v1/contracts/acme/events?subject=p7"));
  ASSERT_EQ(filtered["items"].size(), 1u);
  EXPECT_EQ(filtered["items"][0]["subject"], "p7");
  // The obligations too: every page but the last is full.
  std::vector<json> status = Walk("auditor", "/api/v1/contracts/acme/status", 7);
  json whole = Json(Api("auditor", "GET", "/api/v1/contracts/acme/status?limit=1000"));
  EXPECT_EQ(status.size(), whole["items"].size());
  Reply foreign = Api("auditor", "GET", "/api/v1/contracts/acme/events?cursor=abc");
  EXPECT_EQ(foreign.status, 400);
}

TEST_P(ContractsApi, RootCausesInUseAreListedOnceEachAndPaged) {
  EXPECT_EQ(Json(Api("auditor", "GET", "/api/v1/contracts/acme/root-causes"))["items"], json::array());
  struct Test {
    const char* type;
    const char* subject;
    const char* cause;
  };
  for (const Test& t : {Test{"securitytest.completed", "ST-1", "RC-2"},
                        Test{"buyertest.completed", "BT-1", "RC-1"},
                        Test{"retest.completed", "ST-1", "RC-2"}}) {
    const std::string type = t.type, cause = t.cause;
    Reply r = Post("officer", "/api/v1/contracts/acme/events",
                   {{"type", type},
                    {"subject", t.subject},
                    {"at", "2026-03-02"},
                    {"attrs", {{"weakness", "yes"}, {"root_cause", cause}, {"evidence", "MSG-1"}}}});
    ASSERT_EQ(r.status, 201) << type << ": " << r.body;
  }
  json all = Json(Api("auditor", "GET", "/api/v1/contracts/acme/root-causes"));
  EXPECT_EQ(all["items"], json({"RC-1", "RC-2"}));
  EXPECT_EQ(Walk("auditor", "/api/v1/contracts/acme/root-causes", 1).size(), 2u);
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/root-causes").status, 404);
}

TEST_P(ContractsApi, AChangeOnASessionNeedsItsCsrfToken) {
  TestSession s = Login("officer");
  json e = {{"type", "person.joined"}, {"subject", "bob"}, {"at", "2026-02-02"}};
  Reply bare = OnSession(s, "POST", "/api/v1/contracts/acme/events", e.dump(), false);
  EXPECT_EQ(bare.status, 403);
  EXPECT_EQ(Json(bare)["error"]["code"], "csrf");
  EXPECT_EQ(Json(Api("officer", "GET", "/api/v1/contracts/acme/events"))["items"].size(), 0u);
  Reply with = OnSession(s, "POST", "/api/v1/contracts/acme/events", e.dump());
  EXPECT_EQ(with.status, 201) << with.body;
  EXPECT_EQ(OnSession(s, "GET", "/api/v1/contracts/acme/events", "", false).status, 200)
      << "reading needs no CSRF token";
}

TEST_P(ContractsApi, EveryCallIsAnAccessRecordInTheContractsLog) {
  ASSERT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/status").status, 200);
  ASSERT_EQ(Post("officer", "/api/v1/contracts/acme/events",
                 {{"type", "person.joined"}, {"subject", "carol"}})
                .status,
            201);
  std::vector<std::string> log = AuditMessages("acme");
  EXPECT_TRUE(AnyHas(log, "contract.read GET /api/v1/contracts/acme/status: success"))
      << ::testing::PrintToString(log);
  EXPECT_TRUE(AnyHas(log, "POST /api/v1/contracts/acme/events: success (event 1 person.joined carol)"))
      << ::testing::PrintToString(log);
}

INSTANTIATE_TEST_SUITE_P(Engines, ContractsApi, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net::testing
