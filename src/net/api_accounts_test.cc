// The API's accounts (api_accounts.cc) on SQLite and PostgreSQL: sessions with log-in
// throttling, users and grants for the admin, grants shown to the security officer and the buyer,
// own API tokens, and the records of every change.
#include <gtest/gtest.h>

#include "net/api_test_util.h"

namespace isms::net::testing {
namespace {

class AccountsApi : public ApiTest {
 protected:
  Reply LogIn(const std::string& name, const std::string& password) {
    Client c(port_, false);
    return c.Send("POST", "/api/v1/session",
                  json{{"name", name}, {"password", password}}.dump(),
                  {{"Content-Type", "application/json"}});
  }
};

TEST_P(AccountsApi, ASessionLogsInUsesItsCsrfTokenAndLogsOut) {
  Reply r = LogIn("officer", kPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string set = r.Header("set-cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
  EXPECT_EQ(Json(r)["role"], "security-officer");
  TestSession s{set.substr(0, set.find(';')), Json(r)["csrf_token"]};
  Reply me = OnSession(s, "GET", "/api/v1/me", "", false);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(Json(me)["via"], "session");
  EXPECT_EQ(OnSession(s, "DELETE", "/api/v1/session", "", false).status, 403)
      << "logging out is a change: it needs the CSRF token";
  Reply out = OnSession(s, "DELETE", "/api/v1/session");
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(OnSession(s, "GET", "/api/v1/me", "", false).status, 401) << "the session is over";
  EXPECT_EQ(Api("officer", "DELETE", "/api/v1/session").status, 400)
      << "a token is not a session";
  std::vector<std::string> acme = AuditMessages("acme");
  EXPECT_TRUE(AnyHas(acme, "login POST /api/v1/session: success")) << ::testing::PrintToString(acme);
  EXPECT_TRUE(AnyHas(acme, "logout DELETE /api/v1/session: success"));
}

TEST_P(AccountsApi, RepeatedFailuresAreSlowedDownNeverLockedOut) {
  // Every refusal says the same, whatever was wrong.
  Reply unknown = LogIn("nobody", "wrong password 1");
  Reply wrong = LogIn("buyer", "wrong password 1");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Json(unknown)["error"]["message"], Json(wrong)["error"]["message"]);
  // The first three failures cost nothing; the fourth makes the next attempt wait.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(LogIn("buyer", "wrong password 2").status, 401);
  Reply slowed = LogIn("buyer", kPassword);
  EXPECT_EQ(slowed.status, 429) << slowed.body;
  EXPECT_EQ(Json(slowed)["error"]["code"], "throttled");
  EXPECT_FALSE(slowed.Header("retry-after").empty());
  // The delay ends: with the clock past it, the right password is accepted.
  clock_.Set(clock_.Now() + std::chrono::seconds(std::stoi(slowed.Header("retry-after"))));
  EXPECT_EQ(LogIn("buyer", kPassword).status, 200);
  std::vector<std::string> store = AuditMessages("");
  EXPECT_TRUE(AnyHas(store, "login POST /api/v1/session: failure (throttled)"))
      << ::testing::PrintToString(store);
  EXPECT_TRUE(AnyHas(store, "login POST /api/v1/session: failure (unknown user)"));
}

TEST_P(AccountsApi, TheAdminManagesUsersAndNobodyElse) {
  EXPECT_EQ(Api("officer", "GET", "/api/v1/users").status, 403);
  EXPECT_EQ(Post("officer", "/api/v1/users", {{"name", "x"}, {"role", "auditor"}}).status, 403);
  json users = Json(Api("admin", "GET", "/api/v1/users"));
  EXPECT_EQ(users["items"].size(), 6u);
  Reply add = Post("admin", "/api/v1/users",
                   {{"name", "dave"}, {"role", "engineer"}, {"contracts", {"acme"}},
                    {"password", "another long password"}});
  ASSERT_EQ(add.status, 201) << add.body;
  EXPECT_EQ(Json(add)["contracts"], json({"acme"}));
  EXPECT_EQ(Json(add)["has_password"], true);
  EXPECT_EQ(Post("admin", "/api/v1/users", {{"name", "dave"}, {"role", "engineer"}}).status, 409);
  Reply bad_role = Post("admin", "/api/v1/users", {{"name", "erin"}, {"role", "root"}});
  EXPECT_EQ(bad_role.status, 400);
  EXPECT_NE(bad_role.body.find("security-officer"), std::string::npos) << bad_role.body;
  EXPECT_EQ(Post("admin", "/api/v1/users",
                 {{"name", "ada2"}, {"role", "admin"}, {"contracts", {"acme"}}})
                .status,
            400)
      << "an admin holds no contract";
  EXPECT_EQ(Json(Api("admin", "GET", "/api/v1/users/dave"))["role"], "engineer");
  Reply pw = Post("admin", "/api/v1/users/dave/password", {{"password", "short"}}, "PUT");
  EXPECT_EQ(pw.status, 400);
  EXPECT_EQ(Post("admin", "/api/v1/users/dave/password", {{"password", "a third long password"}},
                 "PUT")
                .status,
            200);
  EXPECT_EQ(LogIn("dave", "a third long password").status, 200);
  Reply totp = Api("admin", "POST", "/api/v1/users/dave/totp");
  ASSERT_EQ(totp.status, 200) << totp.body;
  EXPECT_EQ(Json(totp)["uri"].get<std::string>().rfind("otpauth://totp/", 0), 0u);
  Reply off = Api("admin", "POST", "/api/v1/users/dave/disable");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(Json(off)["disabled"], true);
  EXPECT_EQ(Api("admin", "GET", "/api/v1/users/nobody").status, 404);
  // The buyer of the contract sees who was added to it, and by whom.
  std::vector<std::string> acme = AuditMessages("acme");
  EXPECT_TRUE(AnyHas(acme, "user.add user dave: success (role engineer, contracts acme)"))
      << ::testing::PrintToString(acme);
  EXPECT_TRUE(AnyHas(acme, "user.disable user dave: success"));
}

TEST_P(AccountsApi, GrantsAreShownToTheContractAndManagedByTheAdmin) {
  json grants = Json(Api("buyer", "GET", "/api/v1/contracts/acme/grants"));
  EXPECT_EQ(grants["items"].size(), 4u) << grants.dump(2);
  EXPECT_EQ(Api("officer", "GET", "/api/v1/contracts/acme/grants").status, 200);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/grants").status, 200);
  EXPECT_EQ(Api("engineer", "GET", "/api/v1/contracts/acme/grants").status, 403);
  EXPECT_EQ(Api("buyer", "GET", "/api/v1/contracts/other/grants").status, 404);
  EXPECT_EQ(Post("officer", "/api/v1/contracts/acme/grants", {{"user", "otherbuyer"}}).status, 403);
  Reply g = Post("admin", "/api/v1/contracts/acme/grants", {{"user", "otherbuyer"}});
  ASSERT_EQ(g.status, 201) << g.body;
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/status").status, 200)
      << "the grant takes effect on the next request";
  Reply revoke = Api("admin", "DELETE", "/api/v1/contracts/acme/grants/otherbuyer");
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/status").status, 404);
  EXPECT_EQ(Api("admin", "DELETE", "/api/v1/contracts/acme/grants/otherbuyer").status, 404);
  EXPECT_EQ(Post("admin", "/api/v1/contracts/nope/grants", {{"user", "buyer"}}).status, 404);
  std::vector<std::string> acme = AuditMessages("acme");
  EXPECT_TRUE(AnyHas(acme, "grant.add user otherbuyer: success (contract acme)"))
      << ::testing::PrintToString(acme);
  EXPECT_TRUE(AnyHas(acme, "grant.revoke user otherbuyer: success"));
}

TEST_P(AccountsApi, AUserManagesItsOwnTokensAndTheAdminEveryones) {
  Reply made = Post("engineer", "/api/v1/tokens", {{"expires", "2026-04-01"}, {"note", "ci"}});
  ASSERT_EQ(made.status, 201) << made.body;
  std::string token = Json(made)["token"];
  std::int64_t id = Json(made)["id"];
  EXPECT_EQ(Json(made)["expires_at"], "2026-04-01T22:59:59.999Z");
  Client c(port_, false);
  EXPECT_EQ(c.Send("GET", "/api/v1/me", "", {{"Authorization", "Bearer " + token}}).status, 200);
  json mine = Json(Api("engineer", "GET", "/api/v1/tokens"));
  EXPECT_EQ(mine["items"].size(), 2u) << "the fixture's and the new one";
  for (const json& t : mine["items"]) EXPECT_EQ(t["user"], "engineer");
  EXPECT_FALSE(mine.dump().find(token) != std::string::npos) << "a token is shown once";
  EXPECT_EQ(Api("engineer", "GET", "/api/v1/tokens?user=officer").status, 403);
  EXPECT_EQ(Api("engineer", "GET", "/api/v1/tokens?all=true").status, 403);
  EXPECT_EQ(Post("engineer", "/api/v1/tokens", {{"expires", "2026-04-01"}, {"user", "officer"}})
                .status,
            403);
  EXPECT_EQ(Post("engineer", "/api/v1/tokens", {{"expires", "2026-01-01"}}).status, 400)
      << "expired already";
  // Another user's token is not found, exactly as one that does not exist.
  Reply theirs = Api("officer", "DELETE", "/api/v1/tokens/" + std::to_string(id));
  Reply none = Api("officer", "DELETE", "/api/v1/tokens/99999");
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(Json(theirs)["error"]["message"].get<std::string>().substr(0, 19),
            Json(none)["error"]["message"].get<std::string>().substr(0, 19));
  EXPECT_EQ(Api("engineer", "DELETE", "/api/v1/tokens/" + std::to_string(id)).status, 200);
  EXPECT_EQ(c.Send("GET", "/api/v1/me", "", {{"Authorization", "Bearer " + token}}).status, 401);
  json all = Json(Api("admin", "GET", "/api/v1/tokens?all=true"));
  EXPECT_GE(all["items"].size(), 3u);
  Reply for_other = Post("admin", "/api/v1/tokens", {{"expires", "2026-04-01"}, {"user", "auditor"}});
  EXPECT_EQ(for_other.status, 201) << for_other.body;
  std::vector<std::string> acme = AuditMessages("acme");
  EXPECT_TRUE(AnyHas(acme, "token.create token " + std::to_string(id) + " of engineer: success"))
      << ::testing::PrintToString(acme);
}

INSTANTIATE_TEST_SUITE_P(Engines, AccountsApi, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net::testing
