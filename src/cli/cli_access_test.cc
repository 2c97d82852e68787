// isms user ... and isms token ...: accounts, grants, TOTP and API tokens from the command line,
// with the access records they leave, on SQLite and PostgreSQL.
#include <string>
#include <vector>

#include "app/access.h"
#include "cli/cli_test_util.h"
#include "cli/store_access.h"
#include "core/totp.h"

namespace isms::cli::testing {
namespace {

class AccessCli : public CliTest {
 protected:
  // Runs `isms ARGS...`; on PostgreSQL with --key-dir (SQLite keeps the key beside its file).
  CliRun Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    if (GetParam() == "postgresql") {
      args.push_back("--key-dir");
      args.push_back(dir_ + "/keys");
    }
    return Isms(args, stdin_text);
  }
  std::string RunOk(std::vector<std::string> args, const std::string& stdin_text = "") {
    CliRun r = Run(std::move(args), stdin_text);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
  void SetUpContracts() {
    Ok({"init"});
    Ok({"contract", "create", "alpha", "--start", "2026-01-05"});
    Ok({"contract", "create", "beta", "--start", "2026-01-05"});
  }
  // The accounts of this test's store, checked directly.
  std::unique_ptr<app::Access> Accounts() {
    auto a = app::Access::Open(store_, clock_);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return std::move(*a);
  }
  static std::string LastWord(const std::string& out) {
    std::string s = out;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s.substr(s.find_last_of(" \n") + 1);
  }
};

TEST_P(AccessCli, AddsUsersWithOneRoleAndTheirContracts) {
  SetUpContracts();
  std::string out = RunOk({"user", "add", "sam", "--role", "security-officer", "--contract",
                           "alpha", "--contract", "beta", "--password-stdin"},
                          "correct horse battery\n");
  EXPECT_EQ(out, "added user sam (security-officer; contracts alpha,beta)\n");
  out = RunOk({"user", "add", "bot", "--role", "engineer", "--contract", "alpha"});
  EXPECT_NE(out.find("it has no password"), std::string::npos) << out;

  auto users = nlohmann::json::parse(RunOk({"user", "list", "--json"}));
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0]["name"], "bot");
  EXPECT_EQ(users[0]["password"], false);
  EXPECT_EQ(users[1]["name"], "sam");
  EXPECT_EQ(users[1]["role"], "security-officer");
  EXPECT_EQ(users[1]["contracts"], nlohmann::json::array({"alpha", "beta"}));
  EXPECT_EQ(users[1]["password"], true);
  EXPECT_EQ(users[1]["created_by"], OsActor().name);
  std::string table = RunOk({"user", "list"});
  EXPECT_NE(table.find("sam"), std::string::npos) << table;
  EXPECT_NE(table.find("alpha,beta"), std::string::npos) << table;

  EXPECT_TRUE(Accounts()->Login("sam", "correct horse battery", "", "192.0.2.1").ok());
}

TEST_P(AccessCli, RefusesAnAdminWithAContractAnUnknownRoleAndADuplicate) {
  SetUpContracts();
  CliRun r = Run({"user", "add", "ada", "--role", "admin", "--contract", "alpha"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("an admin account never holds a contract"), std::string::npos) << r.err;
  r = Run({"user", "add", "ada", "--role", "root"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--role: unknown role 'root'"), std::string::npos) << r.err;
  r = Run({"user", "add", "eve", "--role", "auditor", "--contract", "gamma"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no contract named 'gamma'"), std::string::npos) << r.err;
  std::string out = RunOk({"user", "add", "ada", "--role", "admin"});
  EXPECT_NE(out.find("isms user totp ada"), std::string::npos) << out;
  r = Run({"user", "add", "ada", "--role", "auditor"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("exists already"), std::string::npos) << r.err;
  r = Run({"user", "add", "short", "--role", "auditor", "--password-stdin"}, "tiny\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("at least 12"), std::string::npos) << r.err;
}

TEST_P(AccessCli, PasswordIsReadFromStandardInputAndDisableRefusesLogIn) {
  SetUpContracts();
  RunOk({"user", "add", "bea", "--role", "buyer", "--contract", "alpha"});
  EXPECT_EQ(RunOk({"user", "password", "bea"}, "a passphrase for bea\n"),
            "set the password of bea; its sessions have ended\n");
  EXPECT_TRUE(Accounts()->Login("bea", "a passphrase for bea", "", "192.0.2.1").ok());
  CliRun r = Run({"user", "password", "bea"}, "");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no password on standard input"), std::string::npos) << r.err;
  r = Run({"user", "password", "nobody"}, "a passphrase for bea\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no user named 'nobody'"), std::string::npos) << r.err;

  EXPECT_NE(RunOk({"user", "disable", "bea"}).find("disabled user bea"), std::string::npos);
  EXPECT_FALSE(Accounts()->Login("bea", "a passphrase for bea", "", "192.0.2.1").ok());
  auto users = nlohmann::json::parse(RunOk({"user", "list", "--json"}));
  EXPECT_EQ(users[0]["disabled"], true);
}

TEST_P(AccessCli, TotpEnrolmentPrintsTheSecretAndUriAndAnAdminCanThenLogIn) {
  SetUpContracts();
  RunOk({"user", "add", "ada", "--role", "admin", "--password-stdin"}, "correct horse battery\n");
  Result<app::Principal> before =
      Accounts()->Login("ada", "correct horse battery", "", "192.0.2.1");
  EXPECT_EQ(before.status().code(), StatusCode::kFailedPrecondition);
  std::string out = RunOk({"user", "totp", "ada"});
  const size_t s = out.find("secret: ");
  ASSERT_NE(s, std::string::npos) << out;
  const std::string secret = out.substr(s + 8, out.find('\n', s) - s - 8);
  EXPECT_NE(out.find("uri: otpauth://totp/isms:ada?secret=" + secret), std::string::npos) << out;
  EXPECT_EQ(Base32Decode(secret)->size(), 20u);
  auto users = nlohmann::json::parse(RunOk({"user", "list", "--json"}));
  EXPECT_EQ(users[0]["totp"], true);
}

TEST_P(AccessCli, GrantsAreAddedRevokedAndListedPerContract) {
  SetUpContracts();
  RunOk({"user", "add", "sam", "--role", "security-officer", "--contract", "alpha"});
  RunOk({"user", "add", "ada", "--role", "admin"});
  EXPECT_EQ(RunOk({"user", "grant", "sam", "--contract", "beta"}),
            "granted sam access to contract beta\n");
  CliRun r = Run({"user", "grant", "ada", "--contract", "beta"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("never holds a contract"), std::string::npos) << r.err;
  auto grants = nlohmann::json::parse(RunOk({"user", "grants", "--contract", "beta", "--json"}));
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["user"], "sam");
  EXPECT_EQ(grants[0]["role"], "security-officer");
  EXPECT_EQ(RunOk({"user", "revoke", "sam", "--contract", "beta"}),
            "revoked sam access to contract beta\n");
  EXPECT_EQ(RunOk({"user", "grants", "--contract", "beta"}).find("sam"), std::string::npos);
  r = Run({"user", "revoke", "sam", "--contract", "beta"});
  EXPECT_EQ(r.code, 1);
}

TEST_P(AccessCli, TokenCreatePrintsTheTokenAsItsLastWordOnceAndRevokeRefusesIt) {
  SetUpContracts();
  RunOk({"user", "add", "bot", "--role", "engineer", "--contract", "alpha"});
  std::string out = RunOk(
      {"token", "create", "--user", "bot", "--expires", "2026-02-28", "--note", "ci-scan-upload"});
  const std::string token = LastWord(out);
  EXPECT_EQ(token.rfind("isms_", 0), 0u) << out;
  EXPECT_EQ(token.size(), 48u) << out;
  EXPECT_NE(out.find("valid until 2026-02-28T23:59:59.999Z"), std::string::npos) << out;
  Result<app::Principal> p = Accounts()->AuthenticateToken(token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "bot");

  auto list = nlohmann::json::parse(RunOk({"token", "list", "--json"}));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["user"], "bot");
  EXPECT_EQ(list[0]["note"], "ci-scan-upload");
  EXPECT_EQ(list[0]["state"], "valid");
  const std::string id = std::to_string(list[0]["id"].get<int>());
  EXPECT_EQ(RunOk({"token", "list"}).find(token), std::string::npos);

  EXPECT_EQ(RunOk({"token", "revoke", id}), "revoked token " + id + " of bot\n");
  EXPECT_FALSE(Accounts()->AuthenticateToken(token).ok());
  list = nlohmann::json::parse(RunOk({"token", "list", "--user", "bot", "--json"}));
  EXPECT_EQ(list[0]["state"], "revoked");

  CliRun r = Run({"token", "create", "--user", "bot", "--expires", "2026-01-01"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("has passed"), std::string::npos) << r.err;
  r = Run({"token", "create", "--user", "bot", "--expires", "soon"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--expires"), std::string::npos) << r.err;
  r = Run({"token", "revoke", "999"});
  EXPECT_EQ(r.code, 1);
}

TEST_P(AccessCli, EveryChangeIsInTheAccessLogAndTheContractsLogsWithoutSecrets) {
  SetUpContracts();
  RunOk({"user", "add", "sam", "--role", "security-officer", "--contract", "alpha",
         "--password-stdin"},
        "correct horse battery\n");
  const std::string token =
      LastWord(RunOk({"token", "create", "--user", "sam", "--expires", "2026-02-28"}));
  (void)Run({"user", "add", "ada", "--role", "admin", "--contract", "alpha"});  // refused

  std::string log = RunOk({"user", "log"});
  const std::string me = OsActor().name;
  EXPECT_NE(log.find(me + " - user.add user sam: success (role security-officer, contracts alpha)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("token.create token 1 of user sam: success"), std::string::npos) << log;
  EXPECT_NE(log.find("user.add user ada: failure (an admin account never holds a contract"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("correct horse"), std::string::npos) << log;
  EXPECT_EQ(log.find(token), std::string::npos) << log;
  auto j = nlohmann::json::parse(RunOk({"user", "log", "--json", "--user", me}));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["via"], "cli");
  EXPECT_EQ(j[0]["kind"], "change");
  EXPECT_EQ(j[0]["action"], "user.add");
  EXPECT_EQ(j[2]["outcome"], "failure");
  EXPECT_NE(RunOk({"user", "log", "--verify"}).find("the access log verifies: 3 records"),
            std::string::npos);

  // The contract's own audit log holds what concerns it: sam's account and token.
  std::string alpha = RunOk({"audit", "search", "--contract", "alpha"});
  EXPECT_NE(alpha.find("user.add user sam: success"), std::string::npos) << alpha;
  EXPECT_NE(alpha.find("token.create"), std::string::npos) << alpha;
  EXPECT_EQ(alpha.find("user ada"), std::string::npos) << alpha;
  EXPECT_EQ(RunOk({"audit", "search", "--contract", "beta", "--count"}), "0\n");
}

TEST_P(AccessCli, EveryCommandHasHelp) {
  for (std::vector<std::string> cmd : {std::vector<std::string>{"user"},
                                       {"user", "add"},
                                       {"user", "disable"},
                                       {"user", "password"},
                                       {"user", "list"},
                                       {"user", "totp"},
                                       {"user", "grant"},
                                       {"user", "revoke"},
                                       {"user", "grants"},
                                       {"user", "log"},
                                       {"token"},
                                       {"token", "create"},
                                       {"token", "list"},
                                       {"token", "revoke"}}) {
    cmd.insert(cmd.begin(), "isms");
    cmd.push_back("--help");
    CliRun r = RunRaw(cmd);
    EXPECT_EQ(r.code, 0) << cmd[1] << " " << (cmd.size() > 3 ? cmd[2] : "");
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, AccessCli, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
