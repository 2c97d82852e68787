// Accounts and access: the role x action matrix (every cell, and docs/access.md agreeing with the
// code), users and grants, log-in with Argon2id, TOTP (RFC 6238 Appendix B) and throttling, API
// tokens, sessions, and the access audit records, on SQLite and PostgreSQL.
#include "app/access.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/access_internal.h"
#include "app/audit.h"
#include "app/ledger.h"
#include "core/totp.h"
#include "isms_test_paths.h"

namespace isms::app {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Instant T(const char* s) {
  return ParseInstant(s).value();
}

std::string Sha256Hex(std::string_view s) {
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  char hex[sizeof d * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  return hex;
}

OtpMac HmacOf(const EVP_MD* md, std::string key) {
  return [md, key](std::string_view m) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(m.data()), m.size(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
  };
}

// ---------------------------------------------------------------------------------------------
// The matrix, without a store.

Principal Of(Role role, std::vector<std::string> contracts = {"alpha"}) {
  Principal p;
  p.user_id = 1;
  p.name = "someone";
  p.role = role;
  if (role != Role::kAdmin) p.contracts = std::move(contracts);
  p.via = "session";
  return p;
}

TEST(AccessMatrix, EveryActionAndRoleHasAKeyThatParsesBack) {
  std::set<std::string_view> keys;
  for (Action a : kActions) {
    EXPECT_TRUE(keys.insert(ActionKey(a)).second) << ActionKey(a);
    EXPECT_EQ(ParseAction(ActionKey(a)).value(), a);
    EXPECT_FALSE(ActionDescription(a).empty());
  }
  for (Role r : kRoles) EXPECT_EQ(ParseRole(RoleKey(r)).value(), r);
  EXPECT_EQ(ParseRole("root").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAction("contract.delete").status().code(), StatusCode::kInvalidArgument);
}

TEST(AccessMatrix, AdminHoldsNoDataRoleAndEveryDataActionHasADataRole) {
  for (Action a : kActions) {
    const bool admin_action =
        IsStoreAction(a) || a == Action::kGrantRead || a == Action::kGrantManage;
    if (!admin_action) {
      EXPECT_FALSE(Allowed(Role::kAdmin, a)) << ActionKey(a);
    }
    bool someone = false;
    for (Role r : kRoles) someone = someone || Allowed(r, a);
    EXPECT_TRUE(someone) << ActionKey(a) << " is allowed to no role";
  }
}

TEST(AccessMatrix, AuditorOnlyReadsAndBuyerOnlyReadsAndActsAsBuyer) {
  const std::set<Action> reads = {Action::kContractRead, Action::kVulnRead,  Action::kReportRead,
                                  Action::kAuditSearch,  Action::kAuditRead, Action::kGrantRead};
  for (Action a : kActions) {
    EXPECT_EQ(Allowed(Role::kAuditor, a), reads.count(a) == 1) << ActionKey(a);
    EXPECT_EQ(Allowed(Role::kBuyer, a), reads.count(a) == 1 || a == Action::kBuyerAct)
        << ActionKey(a);
  }
}

TEST(AccessMatrix, SecurityOfficerDoesEverythingOnItsContractsButTheBuyersOwnActs) {
  for (Action a : kActions) {
    if (IsStoreAction(a) || a == Action::kGrantManage) continue;
    EXPECT_EQ(Allowed(Role::kSecurityOfficer, a), a != Action::kBuyerAct) << ActionKey(a);
  }
}

TEST(AccessMatrix, EngineerImportsRecordsRemediationAndSearchesAudit) {
  for (Action a : {Action::kVulnImport, Action::kVulnRecord, Action::kAuditSearch,
                   Action::kAuditIngest, Action::kContractRead}) {
    EXPECT_TRUE(Allowed(Role::kEngineer, a)) << ActionKey(a);
  }
  for (Action a : {Action::kEventRecord, Action::kBuyerAct, Action::kReportIssue,
                   Action::kAuditPurge, Action::kGrantManage, Action::kUserManage}) {
    EXPECT_FALSE(Allowed(Role::kEngineer, a)) << ActionKey(a);
  }
}

TEST(AccessMatrix, EventActionTellsTheBuyersOwnActsFromTheSuppliersRecords) {
  const EventType* approved = FindEventType("isms.approved");
  ASSERT_NE(approved, nullptr);
  ASSERT_TRUE(approved->buyer_act);
  EXPECT_EQ(EventAction(Role::kBuyer, *approved), Action::kBuyerAct);
  EXPECT_EQ(EventAction(Role::kSecurityOfficer, *approved), Action::kEventRecord);
  const EventType* submitted = FindEventType("isms.submitted");
  ASSERT_NE(submitted, nullptr);
  EXPECT_EQ(EventAction(Role::kBuyer, *submitted), Action::kEventRecord);
  for (const EventType& t : EventTypes()) {
    if (t.stream == StreamFamily::kVuln && !t.buyer_act) {
      EXPECT_EQ(EventAction(Role::kEngineer, t), Action::kVulnRecord) << t.name;
    }
  }
}

TEST(AccessMatrix, ToActorMarksOnlyTheBuyer) {
  for (Role r : kRoles) {
    Actor a = ToActor(Of(r));
    EXPECT_EQ(a.name, "someone");
    EXPECT_EQ(a.buyer, r == Role::kBuyer);
  }
}

// docs/access.md holds the matrix as a table: "| `action.key` | what | admin | ... |" with "yes"
// or "no" in each role's column. The documented table and the code's must agree cell for cell.
TEST(AccessMatrix, DocsTableAgreesWithTheCodeCellForCell) {
  std::ifstream in(std::string(ISMS_SOURCE_DIR) + "/docs/access.md");
  ASSERT_TRUE(in) << "docs/access.md is missing";
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream s(line.substr(1));
    std::string c;
    while (std::getline(s, c, '|')) {
      const size_t b = c.find_first_not_of(' ');
      const size_t e = c.find_last_not_of(' ');
      out.push_back(b == std::string::npos ? "" : c.substr(b, e - b + 1));
    }
    return out;
  };
  std::string line;
  std::vector<std::string> header;
  std::map<std::string, std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    if (line.rfind("| action |", 0) == 0) {
      header = cells(line);
      continue;
    }
    if (header.empty()) continue;
    if (line.rfind("|", 0) != 0) {
      if (!rows.empty()) break;
      continue;
    }
    if (line.rfind("|---", 0) == 0 || line.rfind("| ---", 0) == 0) continue;
    std::vector<std::string> c = cells(line);
    ASSERT_GE(c.size(), header.size()) << line;
    ASSERT_TRUE(c[0].size() > 2 && c[0].front() == '`' && c[0].back() == '`') << line;
    EXPECT_TRUE(rows.emplace(c[0].substr(1, c[0].size() - 2), c).second) << "twice: " << line;
  }
  ASSERT_FALSE(header.empty()) << "docs/access.md has no table starting \"| action |\"";
  std::map<Role, size_t> column;
  for (Role r : kRoles) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == RoleKey(r)) column[r] = i;
    }
    ASSERT_TRUE(column.count(r)) << "docs/access.md: no column " << RoleKey(r);
  }
  EXPECT_EQ(rows.size(), std::size(kActions));
  for (Action a : kActions) {
    auto row = rows.find(std::string(ActionKey(a)));
    ASSERT_NE(row, rows.end()) << "docs/access.md: no row for " << ActionKey(a);
    for (Role r : kRoles) {
      const std::string& cell = row->second[column[r]];
      ASSERT_TRUE(cell == "yes" || cell == "no") << ActionKey(a) << " / " << RoleKey(r);
      EXPECT_EQ(cell == "yes", Allowed(r, a))
          << "docs/access.md says " << cell << " for " << RoleKey(r) << " / " << ActionKey(a);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// With a store: SQLite always, PostgreSQL when ISMS_TEST_POSTGRES_URL is set.

class AccessTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isms-access-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    url_ = "sqlite:" + dir_ + "/isms.db";
    if (GetParam() == "postgresql") {
      const char* base = std::getenv("ISMS_TEST_POSTGRES_URL");
      const char* required = std::getenv("ISMS_REQUIRE_POSTGRES");
      if (base == nullptr) {
        if (required != nullptr && std::string(required) == "1") {
          FAIL() << "ISMS_REQUIRE_POSTGRES=1 but ISMS_TEST_POSTGRES_URL is not set";
        }
        GTEST_SKIP() << "PostgreSQL not tested: set ISMS_TEST_POSTGRES_URL (scripts/with-pg.sh)";
      }
      static int counter = 0;
      schema_ = "isms_access_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
      auto admin = store::Connection::Open(base);
      ASSERT_TRUE(admin.ok()) << admin.status().ToString();
      ASSERT_TRUE((*admin)->Execute("CREATE SCHEMA " + schema_).ok());
      std::string b = base;
      url_ =
          b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
      admin_url_ = base;
    }
    auto ledger = Ledger::Open(url_, clock_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
    for (const char* name : {"alpha", "beta"}) {
      NewContract c;
      c.name = name;
      c.start = ParseDate("2026-01-05").value();
      ASSERT_TRUE(ledger_->CreateContract(c, Actor{"setup", false}).ok());
    }
    access_ = std::make_unique<Access>(ledger_->connection(), clock_, Options());
  }
  void TearDown() override {
    access_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
    if (!schema_.empty()) {
      auto admin = store::Connection::Open(admin_url_);
      if (admin.ok()) (void)(*admin)->Execute("DROP SCHEMA " + schema_ + " CASCADE");
    }
  }

  // The cheapest Argon2id libsodium allows, so tests stay fast; the defaults are measured in
  // docs/access.md.
  static AccessOptions Options() {
    AccessOptions o;
    o.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    o.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    return o;
  }

  UserView Add(const std::string& name, Role role, std::vector<std::string> contracts = {},
               const std::string& password = "correct horse battery") {
    Result<UserView> u = access_->AddUser(name, role, contracts, password, by_);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : UserView{};
  }

  void Advance(std::chrono::milliseconds d) { clock_.Set(clock_.Now() + d); }

  // The TOTP code of `secret` (base32) now.
  std::string CodeNow(const std::string& secret, std::chrono::seconds offset = seconds(0)) {
    std::string key = Base32Decode(secret).value();
    return Totp(HmacOf(EVP_sha1(), key), clock_.Now() + offset, TotpParams{}).value();
  }

  std::string dir_, url_, schema_, admin_url_;
  FixedClock clock_{T("2026-03-02T09:00:00Z")};
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Access> access_;
  Actor by_{"root", false};
};

INSTANTIATE_TEST_SUITE_P(Engines, AccessTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(AccessTest, CheckWalksEveryCellOfTheMatrix) {
  for (Role r : kRoles) {
    Principal p = Of(r);
    for (Action a : kActions) {
      const std::string contract = IsStoreAction(a) ? "" : "alpha";
      Status s = access_->Check(p, a, contract);
      if (Allowed(r, a)) {
        EXPECT_TRUE(s.ok()) << RoleKey(r) << " / " << ActionKey(a) << ": " << s.ToString();
      } else {
        EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << RoleKey(r) << " / " << ActionKey(a);
        EXPECT_NE(s.message().find(std::string(ActionKey(a))), std::string::npos) << s.message();
      }
    }
  }
}

TEST_P(AccessTest, AContractNotAssignedIsIndistinguishableFromOneThatDoesNotExist) {
  const Status missing = ledger_->FindContract("gamma").status();
  ASSERT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(NoSuchContract("gamma"), missing);
  for (Role r : kRoles) {
    if (r == Role::kAdmin) continue;
    Principal p = Of(r);
    for (Action a : kActions) {
      if (IsStoreAction(a)) continue;
      EXPECT_EQ(access_->Check(p, a, "beta"), NoSuchContract("beta")) << ActionKey(a);
      EXPECT_EQ(access_->Check(p, a, "gamma"), missing) << ActionKey(a);
    }
  }
}

TEST_P(AccessTest, AdminReachesGrantsOfEveryContractThatExistsAndNoData) {
  Principal admin = Of(Role::kAdmin);
  EXPECT_TRUE(access_->Check(admin, Action::kGrantManage, "beta").ok());
  EXPECT_TRUE(access_->Check(admin, Action::kGrantRead, "alpha").ok());
  EXPECT_EQ(access_->Check(admin, Action::kGrantRead, "gamma"), NoSuchContract("gamma"));
  Status s = access_->Check(admin, Action::kContractRead, "alpha");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("holds no data role"), std::string::npos) << s.message();
  EXPECT_EQ(access_->VisibleContracts(admin).value(), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(access_->VisibleContracts(Of(Role::kBuyer)).value(),
            (std::vector<std::string>{"alpha"}));
}

TEST_P(AccessTest, UsersHaveOneRoleAndAnAdminNeverHoldsAContract) {
  UserView so = Add("sam", Role::kSecurityOfficer, {"alpha", "beta"});
  EXPECT_EQ(so.role, Role::kSecurityOfficer);
  EXPECT_EQ(so.contracts, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_TRUE(so.has_password);
  EXPECT_EQ(so.created_by, "root");
  EXPECT_EQ(access_->AddUser("sam", Role::kAuditor, {}, "", by_).status().code(),
            StatusCode::kAlreadyExists);
  Status admin = access_->AddUser("ada", Role::kAdmin, {"alpha"}, "", by_).status();
  EXPECT_EQ(admin.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(admin.message().find("never holds a contract"), std::string::npos);
  EXPECT_EQ(access_->AddUser("eve", Role::kEngineer, {"gamma"}, "", by_).status(),
            NoSuchContract("gamma"));
  EXPECT_EQ(access_->AddUser("Bad Name", Role::kAuditor, {}, "", by_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(access_->AddUser("short", Role::kAuditor, {}, "tiny", by_).status().code(),
            StatusCode::kInvalidArgument);
  UserView t = Add("ingest-bot", Role::kEngineer, {"alpha"}, "");
  EXPECT_FALSE(t.has_password);
  Add("ada", Role::kAdmin);
  EXPECT_EQ(access_->Grant("ada", "alpha", by_).code(), StatusCode::kInvalidArgument);
  std::vector<UserView> all = access_->ListUsers().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "ada");
  EXPECT_EQ(all[1].name, "ingest-bot");
  EXPECT_EQ(all[2].name, "sam");
}

TEST_P(AccessTest, GrantsAreListedPerContractAndRevokedGrantsTakeEffect) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  Add("bea", Role::kBuyer);
  ASSERT_TRUE(access_->Grant("bea", "alpha", Actor{"ada", false}).ok());
  ASSERT_TRUE(access_->Grant("bea", "alpha", by_).ok());  // twice: the first is kept
  std::vector<GrantView> g = access_->ListGrants("alpha").value();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].user, "bea");
  EXPECT_EQ(g[0].role, Role::kBuyer);
  EXPECT_EQ(g[0].granted_by, "ada");
  EXPECT_EQ(g[1].user, "sam");
  EXPECT_TRUE(access_->ListGrants("beta").value().empty());
  EXPECT_EQ(access_->ListGrants("gamma").status(), NoSuchContract("gamma"));

  Principal bea = access_->Login("bea", "correct horse battery", "", "192.0.2.1").value();
  EXPECT_EQ(bea.contracts, (std::vector<std::string>{"alpha"}));
  ASSERT_TRUE(access_->Revoke("bea", "alpha", by_).ok());
  EXPECT_EQ(access_->Revoke("bea", "alpha", by_).code(), StatusCode::kNotFound);
  NewSession s = access_->CreateSession(bea, "192.0.2.1").value();
  EXPECT_TRUE(access_->FindSession(s.session_id)->principal.contracts.empty());
}

TEST_P(AccessTest, LogInChecksThePasswordAndRefusesWithOneMessage) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  Add("nopw", Role::kAuditor, {}, "");
  Result<Principal> p = access_->Login("sam", "correct horse battery", "", "192.0.2.1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "sam");
  EXPECT_EQ(p->role, Role::kSecurityOfficer);
  EXPECT_EQ(p->contracts, (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(p->via, "password");

  std::string why;
  Status wrong = access_->Login("sam", "wrong horse battery", "", "192.0.2.1", &why).status();
  EXPECT_EQ(wrong.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(why, "wrong password");
  Status unknown =
      access_->Login("nobody", "correct horse battery", "", "192.0.2.1", &why).status();
  EXPECT_EQ(unknown, wrong);
  EXPECT_EQ(why, "unknown user");
  Status nopw = access_->Login("nopw", "", "", "192.0.2.1", &why).status();
  EXPECT_EQ(nopw, wrong);
  EXPECT_EQ(why, "no password set");
  ASSERT_TRUE(access_->DisableUser("sam", by_).ok());
  Status disabled = access_->Login("sam", "correct horse battery", "", "192.0.2.2", &why).status();
  EXPECT_EQ(disabled, wrong);
  EXPECT_EQ(why, "account disabled");
}

TEST_P(AccessTest, PasswordsAreStoredAsArgon2idAndChangingOneEndsSessions) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  auto st = access_->connection().Prepare("SELECT password_hash FROM users WHERE name = 'sam'");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->Step().value());
  const std::string hash = (*st)->ColumnText(0);
  (void)(*st)->Step();
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);

  Principal p = access_->Login("sam", "correct horse battery", "", "192.0.2.1").value();
  NewSession s = access_->CreateSession(p, "192.0.2.1").value();
  ASSERT_TRUE(access_->SetPassword("sam", "a new passphrase here", by_).ok());
  EXPECT_EQ(access_->FindSession(s.session_id).status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(access_->Login("sam", "correct horse battery", "", "192.0.2.1").ok());
  EXPECT_TRUE(access_->Login("sam", "a new passphrase here", "", "192.0.2.1").ok());
  EXPECT_EQ(access_->SetPassword("sam", "short", by_).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(access_->SetPassword("nobody", "a new passphrase here", by_).code(),
            StatusCode::kNotFound);
}

TEST_P(AccessTest, ARehashFollowsAChangeOfCost) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  AccessOptions o = Options();
  o.pwhash_opslimit = 2;
  Access stronger(access_->connection(), clock_, o);
  ASSERT_TRUE(stronger.Login("sam", "correct horse battery", "", "192.0.2.1").ok());
  auto st = access_->connection().Prepare("SELECT password_hash FROM users WHERE name = 'sam'");
  ASSERT_TRUE((*st)->Step().value());
  EXPECT_NE((*st)->ColumnText(0).find("t=2,"), std::string::npos) << (*st)->ColumnText(0);
}

TEST_P(AccessTest, FailuresSlowTheAccountFromThatAddressWithGrowingDelaysNeverALockout) {
  Add("bea", Role::kBuyer, {"alpha"});
  const std::string from = "203.0.113.9";
  std::string why;
  // Three failures cost nothing.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(access_->Login("bea", "guess", "", from).status().code(),
              StatusCode::kPermissionDenied);
    EXPECT_FALSE(access_->RetryAfter("bea", from).value().has_value());
  }
  // Then 1 s, 2 s, 4 s, ... up to 300 s.
  std::vector<int> delays;
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(access_->Login("bea", "guess", "", from).status().code(),
              StatusCode::kPermissionDenied);
    std::optional<Instant> retry = access_->RetryAfter("bea", from).value();
    ASSERT_TRUE(retry.has_value());
    delays.push_back(
        static_cast<int>(std::chrono::duration_cast<seconds>(*retry - clock_.Now()).count()));
    // An attempt during the delay is refused unchecked, even with the right password, and says
    // when to retry.
    Status early = access_->Login("bea", "correct horse battery", "", from, &why).status();
    EXPECT_EQ(early.code(), StatusCode::kUnavailable);
    EXPECT_EQ(why, "throttled");
    EXPECT_NE(early.message().find(FormatInstant(*retry)), std::string::npos) << early.message();
    clock_.Set(*retry);
  }
  EXPECT_EQ(delays, (std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}));
  // Another address is not slowed down.
  EXPECT_TRUE(access_->Login("bea", "correct horse battery", "", "198.51.100.1").ok());
  // When the delay has passed the right password works, and clears the count.
  ASSERT_TRUE(access_->Login("bea", "correct horse battery", "", from).ok());
  EXPECT_FALSE(access_->RetryAfter("bea", from).value().has_value());
  EXPECT_EQ(access_->Login("bea", "guess", "", from).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_FALSE(access_->RetryAfter("bea", from).value().has_value());
}

TEST_P(AccessTest, UnknownNamesAreThrottledLikeKnownOnes) {
  for (int i = 0; i < 4; ++i) (void)access_->Login("ghost", "guess", "", "203.0.113.9");
  EXPECT_TRUE(access_->RetryAfter("ghost", "203.0.113.9").value().has_value());
  EXPECT_EQ(access_->Login("ghost", "guess", "", "203.0.113.9").status().code(),
            StatusCode::kUnavailable);
}

TEST_P(AccessTest, ANameThatCannotBeAUsersIsRefusedAndThrottledLikeAnyOther) {
  const std::string bad = "\xff\xfe not utf-8";
  std::string why;
  for (int i = 0; i < 4; ++i) {
    Status s = access_->Login(bad, "guess", "", "203.0.113.9", &why).status();
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
    EXPECT_EQ(why, "unknown user");
  }
  EXPECT_EQ(access_->Login(bad, "guess", "", "203.0.113.9").status().code(),
            StatusCode::kUnavailable);
  EXPECT_TRUE(access_->RetryAfter(bad, "203.0.113.9").value().has_value());
}

TEST(AccessDummyHash, IsAWellFormedArgon2idStringOfTheConfiguredCostThatNothingMatches) {
  ASSERT_GE(sodium_init(), 0);
  for (auto [ops, mem] : {std::pair<std::uint64_t, std::size_t>{3, 64u << 20},
                          {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}}) {
    const std::string d = access_internal::DummyHash(ops, mem);
    // 0: well formed and of exactly this cost (a malformed string gives -1 and would be checked
    // in no time, telling an unknown name from a known one).
    EXPECT_EQ(crypto_pwhash_str_needs_rehash(d.c_str(), ops, mem), 0) << d;
    EXPECT_NE(access_internal::DummyHash(ops, mem), d);
  }
  const std::string d =
      access_internal::DummyHash(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
  EXPECT_NE(crypto_pwhash_str_verify(d.c_str(), "", 0), 0);
}

TEST_P(AccessTest, FailuresAreForgottenADayAfterTheLast) {
  Add("bea", Role::kBuyer, {"alpha"});
  for (int i = 0; i < 5; ++i) {
    (void)access_->Login("bea", "guess", "", "203.0.113.9");
    Advance(minutes(10));
  }
  Advance(hours(25));
  // A new failure starts the count again (the old row was pruned): no delay after it.
  (void)access_->Login("bea", "guess", "", "203.0.113.9");
  EXPECT_FALSE(access_->RetryAfter("bea", "203.0.113.9").value().has_value());
}

TEST(Totp, Rfc6238AppendixBWithEveryAlgorithm) {
  struct Vector {
    std::int64_t time;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  const Vector kVectors[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  const std::string k20 = "12345678901234567890";
  const std::string k32 = "12345678901234567890123456789012";
  const std::string k64 = "1234567890123456789012345678901234567890123456789012345678901234";
  TotpParams p;
  p.digits = 8;
  for (const Vector& v : kVectors) {
    const Instant t{seconds(v.time)};
    EXPECT_EQ(Totp(HmacOf(EVP_sha1(), k20), t, p).value(), v.sha1) << v.time;
    EXPECT_EQ(Totp(HmacOf(EVP_sha256(), k32), t, p).value(), v.sha256) << v.time;
    EXPECT_EQ(Totp(HmacOf(EVP_sha512(), k64), t, p).value(), v.sha512) << v.time;
  }
}

TEST_P(AccessTest, TotpEnrolmentGivesASecretAndAnOtpauthUri) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  TotpEnrolment e = access_->EnableTotp("sam", by_).value();
  EXPECT_EQ(Base32Decode(e.secret).value().size(), 20u);
  EXPECT_EQ(e.uri, "otpauth://totp/isms:sam?secret=" + e.secret +
                       "&issuer=isms&algorithm=SHA1&digits=6&period=30");
  EXPECT_TRUE(access_->FindUser("sam")->totp);
  EXPECT_EQ(access_->EnableTotp("nobody", by_).status().code(), StatusCode::kNotFound);
}

TEST_P(AccessTest, AnAdminLogsInOnlyWithAOneTimeCodeAcceptedOnce) {
  Add("ada", Role::kAdmin);
  std::string why;
  Status none = access_->Login("ada", "correct horse battery", "", "192.0.2.1", &why).status();
  EXPECT_EQ(none.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.message().find("isms user totp ada"), std::string::npos) << none.message();
  EXPECT_EQ(why, "no TOTP enrolled");
  // A wrong password still says nothing more than any refusal.
  EXPECT_EQ(access_->Login("ada", "wrong horse battery", "", "192.0.2.1").status().code(),
            StatusCode::kPermissionDenied);

  TotpEnrolment e = access_->EnableTotp("ada", by_).value();
  EXPECT_EQ(access_->Login("ada", "correct horse battery", "", "192.0.2.1", &why).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(why, "wrong one-time code");
  const std::string code = CodeNow(e.secret);
  Result<Principal> p = access_->Login("ada", "correct horse battery", code, "192.0.2.1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->role, Role::kAdmin);
  EXPECT_TRUE(p->contracts.empty());
  // The same code again is refused (RFC 6238 5.2).
  EXPECT_EQ(access_->Login("ada", "correct horse battery", code, "192.0.2.1", &why).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(why, "wrong one-time code");
  // The next step's code (a clock 30 s ahead) is accepted.
  EXPECT_TRUE(
      access_->Login("ada", "correct horse battery", CodeNow(e.secret, seconds(30)), "192.0.2.1")
          .ok());
  // A code two steps away is not.
  Advance(minutes(5));
  EXPECT_FALSE(
      access_->Login("ada", "correct horse battery", CodeNow(e.secret, seconds(-60)), "192.0.2.1")
          .ok());
  EXPECT_TRUE(
      access_->Login("ada", "correct horse battery", CodeNow(e.secret, seconds(-30)), "192.0.2.1")
          .ok());
}

TEST_P(AccessTest, AnyUserWithTotpNeedsTheCode) {
  Add("bea", Role::kBuyer, {"alpha"});
  TotpEnrolment e = access_->EnableTotp("bea", by_).value();
  EXPECT_FALSE(access_->Login("bea", "correct horse battery", "", "192.0.2.1").ok());
  EXPECT_TRUE(access_->Login("bea", "correct horse battery", CodeNow(e.secret), "192.0.2.1").ok());
}

// Self-service: a user's own password, second factor and tokens (access_self.cc).

TEST_P(AccessTest, AnOwnPasswordChangeProvesTheCurrentOneAndEndsTheSessions) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  Principal p = access_->Login("sam", "correct horse battery", "", "192.0.2.1").value();
  NewSession s = access_->CreateSession(p, "192.0.2.1").value();
  Status wrong = access_->ChangeOwnPassword(p, "wrong horse battery", "a new long password",
                                            "192.0.2.1");
  EXPECT_EQ(wrong.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong.message(), "the current password is wrong: nothing was changed");
  EXPECT_TRUE(access_->FindSession(s.session_id).ok()) << "nothing changed";
  EXPECT_EQ(access_->ChangeOwnPassword(p, "correct horse battery", "sam", "192.0.2.1").code(),
            StatusCode::kInvalidArgument)
      << "ValidatePassword's rules";
  ASSERT_TRUE(access_->ChangeOwnPassword(p, "correct horse battery", "a new long password",
                                         "192.0.2.1")
                  .ok());
  EXPECT_FALSE(access_->FindSession(s.session_id).ok());
  EXPECT_FALSE(access_->Login("sam", "correct horse battery", "", "192.0.2.1").ok());
  EXPECT_TRUE(access_->Login("sam", "a new long password", "", "192.0.2.1").ok());
}

TEST_P(AccessTest, WrongCurrentPasswordsAreThrottledLikeLogIns) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  Principal p = access_->Login("sam", "correct horse battery", "", "192.0.2.1").value();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(access_->ChangeOwnPassword(p, "guess number " + std::to_string(i),
                                         "a new long password", "192.0.2.1")
                  .code(),
              StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(access_->ChangeOwnPassword(p, "correct horse battery", "a new long password",
                                       "192.0.2.1")
                .code(),
            StatusCode::kUnavailable)
      << "refused unchecked during the delay";
  Advance(seconds(2));
  EXPECT_TRUE(access_->ChangeOwnPassword(p, "correct horse battery", "a new long password",
                                         "192.0.2.1")
                  .ok());
}

TEST_P(AccessTest, AProposedSecondFactorTakesEffectOnlyWithItsFirstCode) {
  Add("bea", Role::kBuyer, {"alpha"});
  Principal p = access_->Login("bea", "correct horse battery", "", "192.0.2.1").value();
  TotpEnrolment e = access_->ProposeTotp(p).value();
  EXPECT_EQ(Base32Decode(e.secret).value().size(), 20u);
  EXPECT_EQ(e.uri, "otpauth://totp/isms:bea?secret=" + e.secret +
                       "&issuer=isms&algorithm=SHA1&digits=6&period=30");
  EXPECT_FALSE(access_->FindUser("bea")->totp) << "a proposal stores nothing";
  const std::string code = CodeNow(e.secret);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  Status st = access_->ConfirmTotp(p, "correct horse battery", e.secret, wrong, "192.0.2.1");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(access_->FindUser("bea")->totp);
  EXPECT_EQ(access_->ConfirmTotp(p, "wrong horse battery", e.secret, code, "192.0.2.1").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->ConfirmTotp(p, "correct horse battery", "AAAA", code, "192.0.2.1").code(),
            StatusCode::kInvalidArgument)
      << "not a secret of 160 bits";
  EXPECT_FALSE(access_->FindUser("bea")->totp);
  ASSERT_TRUE(access_->ConfirmTotp(p, "correct horse battery", e.secret, code, "192.0.2.1").ok());
  EXPECT_TRUE(access_->FindUser("bea")->totp);
  EXPECT_FALSE(access_->Login("bea", "correct horse battery", code, "192.0.2.1").ok())
      << "the confirming code is spent";
  EXPECT_TRUE(
      access_->Login("bea", "correct horse battery", CodeNow(e.secret, seconds(30)), "192.0.2.1")
          .ok());
}

TEST_P(AccessTest, AUserRevokesItsOwnTokensOnlyAndAnotherUsersIsNotFoundAlike) {
  Add("bot", Role::kEngineer, {"alpha"});
  Add("eve", Role::kEngineer, {"alpha"});
  NewToken t = access_->CreateToken("bot", T("2026-04-01T00:00:00Z"), "ci", by_).value();
  Principal eve = access_->Login("eve", "correct horse battery", "", "192.0.2.1").value();
  Status theirs = access_->RevokeOwnToken(eve, t.id);
  Status none = access_->RevokeOwnToken(eve, t.id + 1000);
  EXPECT_EQ(theirs.code(), StatusCode::kNotFound);
  EXPECT_EQ(theirs.message(), "no API token number " + std::to_string(t.id) + " of yours");
  EXPECT_EQ(none.code(), StatusCode::kNotFound);
  EXPECT_TRUE(access_->AuthenticateToken(t.token).ok());
  Principal bot = access_->Login("bot", "correct horse battery", "", "192.0.2.1").value();
  ASSERT_TRUE(access_->RevokeOwnToken(bot, t.id).ok());
  EXPECT_FALSE(access_->AuthenticateToken(t.token).ok());
}

TEST_P(AccessTest, TokensAreRandomShownOnceStoredAsSha256AndExpire) {
  Add("bot", Role::kEngineer, {"alpha"}, "");
  const Instant expires = T("2026-04-01T00:00:00Z");
  NewToken t = access_->CreateToken("bot", expires, "ci", by_).value();
  ASSERT_EQ(t.token.size(), 5u + 43u);
  EXPECT_EQ(t.token.rfind("isms_", 0), 0u);
  NewToken t2 = access_->CreateToken("bot", expires, "", by_).value();
  EXPECT_NE(t.token, t2.token);

  auto st = access_->connection().Prepare("SELECT token_hash FROM tokens WHERE id = $1");
  (*st)->BindInt(1, t.id);
  ASSERT_TRUE((*st)->Step().value());
  EXPECT_EQ((*st)->ColumnText(0), Sha256Hex(t.token));
  (void)(*st)->Step();

  Result<Principal> p = access_->AuthenticateToken(t.token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, "bot");
  EXPECT_EQ(p->via, "token");
  EXPECT_EQ(p->contracts, (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(access_->FindToken(t.id)->last_used_at, clock_.Now());

  std::string forged = t.token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(access_->AuthenticateToken(forged).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->AuthenticateToken("isms_short").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->AuthenticateToken("").status().code(), StatusCode::kPermissionDenied);

  clock_.Set(expires);
  Status expired = access_->AuthenticateToken(t.token).status();
  EXPECT_EQ(expired.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(expired.message().find("expired"), std::string::npos);
  EXPECT_EQ(access_->CreateToken("bot", expires, "", by_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(access_->CreateToken("nobody", expires + hours(1), "", by_).status().code(),
            StatusCode::kNotFound);
}

TEST_P(AccessTest, RevokedTokensAndTokensOfDisabledUsersAreRefused) {
  Add("bot", Role::kEngineer, {"alpha"}, "");
  Add("eve", Role::kEngineer, {"alpha"}, "");
  const Instant expires = T("2026-04-01T00:00:00Z");
  NewToken a = access_->CreateToken("bot", expires, "a", by_).value();
  NewToken b = access_->CreateToken("eve", expires, "b", by_).value();
  ASSERT_TRUE(access_->RevokeToken(a.id, Actor{"ada", false}).ok());
  EXPECT_TRUE(access_->RevokeToken(a.id, by_).ok());  // twice: no change
  EXPECT_EQ(access_->AuthenticateToken(a.token).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->FindToken(a.id)->revoked_at, clock_.Now());
  EXPECT_EQ(access_->RevokeToken(999, by_).code(), StatusCode::kNotFound);

  EXPECT_TRUE(access_->AuthenticateToken(b.token).ok());
  ASSERT_TRUE(access_->DisableUser("eve", by_).ok());
  EXPECT_EQ(access_->AuthenticateToken(b.token).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->CreateToken("eve", expires, "", by_).status().code(),
            StatusCode::kFailedPrecondition);

  std::vector<TokenView> all = access_->ListTokens("").value();
  ASSERT_EQ(all.size(), 2u);
  std::vector<TokenView> bots = access_->ListTokens("bot").value();
  ASSERT_EQ(bots.size(), 1u);
  EXPECT_EQ(bots[0].note, "a");
  EXPECT_EQ(bots[0].created_by, "root");
  EXPECT_EQ(bots[0].expires_at, expires);
}

TEST_P(AccessTest, SessionsCarryACsrfTokenAndEndAfterIdleOrAbsoluteTimeouts) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  Principal p = access_->Login("sam", "correct horse battery", "", "192.0.2.1").value();
  NewSession s = access_->CreateSession(p, "192.0.2.1").value();
  EXPECT_EQ(s.session_id.size(), 43u);
  EXPECT_EQ(s.idle_expires_at, clock_.Now() + minutes(30));
  EXPECT_EQ(s.absolute_expires_at, clock_.Now() + hours(12));

  SessionView v = access_->FindSession(s.session_id).value();
  EXPECT_EQ(v.principal.name, "sam");
  EXPECT_EQ(v.principal.via, "session");
  EXPECT_EQ(v.csrf_token, s.csrf_token);
  EXPECT_EQ(v.address, "192.0.2.1");
  EXPECT_TRUE(Access::CheckCsrf(v, s.csrf_token));
  EXPECT_FALSE(Access::CheckCsrf(v, ""));
  EXPECT_FALSE(Access::CheckCsrf(v, s.session_id));
  std::string other = s.csrf_token;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(Access::CheckCsrf(v, other));

  // Only the SHA-256 of the id is stored.
  auto st = access_->connection().Prepare("SELECT session_hash FROM sessions");
  ASSERT_TRUE((*st)->Step().value());
  EXPECT_EQ((*st)->ColumnText(0), Sha256Hex(s.session_id));
  (void)(*st)->Step();
  EXPECT_EQ(Access::SessionRef(s.session_id), Sha256Hex(s.session_id).substr(0, 16));

  // Used every 20 minutes, the session lives until its absolute timeout.
  for (int i = 0; i < 35; ++i) {
    Advance(minutes(20));
    ASSERT_TRUE(access_->FindSession(s.session_id).ok()) << i;
  }
  Advance(minutes(20));  // 12 h after creation
  Status old = access_->FindSession(s.session_id).status();
  EXPECT_EQ(old.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(old.message().find("older than 12 h"), std::string::npos) << old.message();

  NewSession s2 = access_->CreateSession(p, "192.0.2.1").value();
  EXPECT_NE(s2.session_id, s.session_id);
  EXPECT_NE(s2.csrf_token, s.csrf_token);
  Advance(minutes(29));
  ASSERT_TRUE(access_->FindSession(s2.session_id).ok());
  Advance(minutes(30));
  Status idle = access_->FindSession(s2.session_id).status();
  EXPECT_NE(idle.message().find("idle for more than 30 min"), std::string::npos) << idle.message();
  // An expired session is gone, not just refused.
  EXPECT_NE(access_->FindSession(s2.session_id).status().message().find("has ended"),
            std::string::npos);
}

TEST_P(AccessTest, EndingASessionOrDisablingItsUserEndsIt) {
  Add("sam", Role::kSecurityOfficer, {"alpha"});
  Principal p = access_->Login("sam", "correct horse battery", "", "192.0.2.1").value();
  NewSession a = access_->CreateSession(p, "192.0.2.1").value();
  NewSession b = access_->CreateSession(p, "192.0.2.1").value();
  ASSERT_TRUE(access_->EndSession(a.session_id).ok());
  EXPECT_EQ(access_->FindSession(a.session_id).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(access_->FindSession(b.session_id).ok());
  ASSERT_TRUE(access_->DisableUser("sam", by_).ok());
  EXPECT_EQ(access_->FindSession(b.session_id).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->FindSession("not a session").status().code(), StatusCode::kPermissionDenied);
}

TEST(AccessAuditRecord, SaysWhoWhatWhenFromWhereAndTheOutcome) {
  AccessEvent e;
  e.time = T("2026-03-02T09:00:00Z");
  e.user = "bea";
  e.role = "buyer";
  e.via = "session";
  e.address = "192.0.2.1";
  e.kind = "access";
  e.action = "contract.read";
  e.target = "GET /api/v1/contracts/alpha/status";
  e.outcome = "success";
  e.session = "0123456789abcdef";
  AuditRecord r = AccessAuditRecord(e);
  EXPECT_EQ(r.time, e.time);
  EXPECT_EQ(r.received, e.time);
  EXPECT_EQ(r.app, "isms");
  EXPECT_EQ(r.msgid, "access");
  EXPECT_EQ(r.user, "bea");
  EXPECT_EQ(r.src_ip, "192.0.2.1");
  EXPECT_EQ(r.session, "0123456789abcdef");
  EXPECT_EQ(r.category, AuditCategory::kOther);
  EXPECT_EQ(r.rule, "isms");
  EXPECT_FALSE(r.host.empty());
  EXPECT_EQ(r.message, "contract.read GET /api/v1/contracts/alpha/status: success");
  EXPECT_EQ(r.Extra("via"), "session");
  EXPECT_EQ(r.Extra("outcome"), "success");
  EXPECT_EQ(r.Extra("role"), "buyer");
  EXPECT_EQ(r.severity, 6);
  Result<std::string> bytes = EncodeAuditRecord(r);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(EncodeAuditRecord(DecodeAuditRecord(*bytes).value()).value(), *bytes);

  e.kind = "auth";
  e.action = "login";
  e.target = "";
  e.outcome = "failure";
  e.detail = "wrong password";
  r = AccessAuditRecord(e);
  EXPECT_EQ(r.message, "login: failure (wrong password)");
  EXPECT_EQ(r.severity, 4);
  EXPECT_EQ(r.category, AuditCategory::kOther);
}

TEST(AccessAuditRecord, AnAdminsLogInAndOutArePrivilegedLogOnAndOff) {
  AccessEvent e;
  e.user = "ada";
  e.role = "admin";
  e.kind = "auth";
  e.action = "login";
  e.outcome = "success";
  EXPECT_EQ(AccessAuditRecord(e).category, AuditCategory::kPrivilegedLogon);
  e.action = "logout";
  EXPECT_EQ(AccessAuditRecord(e).category, AuditCategory::kPrivilegedLogoff);
  e.outcome = "failure";
  EXPECT_EQ(AccessAuditRecord(e).category, AuditCategory::kOther);
  e.role = "buyer";
  e.outcome = "success";
  EXPECT_EQ(AccessAuditRecord(e).category, AuditCategory::kOther);
}

TEST(AccessAuditRecord, EntriesGoToTheStoreLogAndEachContractOfTheUser) {
  AccessEvent e;
  e.user = "sam";
  e.kind = "auth";
  e.action = "login";
  e.outcome = "success";
  std::vector<AccessLogEntry> entries = AccessEntries(e, {"alpha", "beta"});
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].contract, "");
  EXPECT_EQ(entries[1].contract, "alpha");
  EXPECT_EQ(entries[2].contract, "beta");
  EXPECT_EQ(entries[1].record, entries[0].record);
}

TEST_P(AccessTest, EntriesForAUserGoToItsContractsAndForAnUnknownNameToTheStoreLogOnly) {
  Add("sam", Role::kSecurityOfficer, {"alpha", "beta"});
  AccessEvent e;
  e.user = "sam";
  e.kind = "auth";
  e.action = "login";
  e.outcome = "failure";
  std::vector<AccessLogEntry> entries = access_->EntriesFor(e).value();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].contract, "");
  EXPECT_EQ(entries[1].contract, "alpha");
  EXPECT_EQ(entries[2].contract, "beta");
  e.user = "ghost";
  EXPECT_EQ(access_->EntriesFor(e)->size(), 1u);
  e.user = "\xff not a name";
  EXPECT_EQ(access_->EntriesFor(e)->size(), 1u);
}

TEST_P(AccessTest, AccessRecordsLandInTheContractsLogAndTheStoresSignedAccessLog) {
  auto audit = AuditService::Open(url_, dir_ + "/keys", clock_);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  AccessEvent login;
  login.time = clock_.Now();
  login.user = "sam";
  login.role = "security-officer";
  login.via = "password";
  login.address = "192.0.2.1";
  login.kind = "auth";
  login.action = "login";
  login.outcome = "success";
  std::vector<AccessLogEntry> entries = AccessEntries(login, {"alpha"});
  AccessEvent ghost = login;
  ghost.user = "ghost";
  ghost.role = "";
  ghost.outcome = "failure";
  ghost.detail = "unknown user";
  for (AccessLogEntry& x : AccessEntries(ghost, {})) entries.push_back(std::move(x));
  AccessEvent lost = login;
  lost.kind = "access";
  lost.action = "contract.read";
  lost.target = "contract gone";
  entries.push_back({"gone", AccessAuditRecord(lost)});  // no such contract: the store's log
  ASSERT_TRUE(AppendAccessRecords(**audit, entries, clock_).ok());

  std::vector<AuditRecord> store_log;
  AuditSearchRequest all;
  ASSERT_TRUE(SearchAccessLog(**audit, all, [&](AuditHit&& h) -> Result<bool> {
                store_log.push_back(std::move(h.record));
                return true;
              }).ok());
  ASSERT_EQ(store_log.size(), 3u);
  EXPECT_EQ(store_log[0].user, "sam");
  EXPECT_EQ(store_log[1].user, "ghost");
  EXPECT_EQ(store_log[1].message, "login: failure (unknown user)");
  EXPECT_EQ(store_log[2].Extra("contract"), "gone");
  // --text looks in the message only ("ghost" is the user of the message "login: failure ..."),
  // and --category in the category.
  auto count = [&](AuditSearchRequest q) {
    int n = 0;
    EXPECT_TRUE(SearchAccessLog(**audit, q, [&](AuditHit&&) -> Result<bool> {
                  ++n;
                  return true;
                }).ok());
    return n;
  };
  AuditSearchRequest text;
  text.text = "unknown user";
  EXPECT_EQ(count(text), 1);
  text.text = "ghost";
  EXPECT_EQ(count(text), 0);
  AuditSearchRequest category;
  category.category = std::string(AuditCategoryKey(store_log[1].category));
  const int same = static_cast<int>(std::count_if(
      store_log.begin(), store_log.end(),
      [&](const AuditRecord& x) { return x.category == store_log[1].category; }));
  EXPECT_EQ(count(category), same);

  AuditSearchRequest alpha;
  alpha.contract = "alpha";
  std::vector<AuditRecord> contract_log;
  ASSERT_TRUE((*audit)
                  ->Search(alpha,
                           [&](AuditHit&& h) -> Result<bool> {
                             contract_log.push_back(std::move(h.record));
                             return true;
                           })
                  .ok());
  ASSERT_EQ(contract_log.size(), 1u);
  EXPECT_EQ(contract_log[0], store_log[0]);

  Result<audit::VerifyReport> v = VerifyAccessLog(**audit);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  EXPECT_EQ(v->size, 3u);
  EXPECT_EQ(v->checkpoints, 1u);
  // The contract's own log is untouched by the store's.
  EXPECT_EQ((*audit)->State("alpha")->size, 1u);
}

}  // namespace
}  // namespace isms::app
