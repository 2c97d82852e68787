// Accounts: users, grants, TOTP enrolment, log-in and its throttling.
#include <sodium.h>

#include <algorithm>
#include <map>

#include "app/access.h"
#include "app/access_internal.h"
#include "app/schema.h"
#include "core/totp.h"

namespace isms::app {

using access_internal::FromMillis;
using access_internal::Millis;

namespace {

constexpr const char* kUserColumns =
    "id, name, role, password_hash, totp_secret, totp_last_step, disabled";

// The one message of every refused log-in: it never says which part was wrong.
Status LoginRefused() {
  return Status::PermissionDenied("log-in refused: wrong user name, password or one-time code");
}

TotpParams DefaultTotp() {
  return TotpParams{};
}

}  // namespace

Access::Access(store::Connection& conn, const Clock& clock, AccessOptions options)
    : conn_(conn), clock_(clock), options_(std::move(options)) {}

Access::~Access() = default;

Result<std::unique_ptr<Access>> Access::Open(const std::string& url, const Clock& clock,
                                             AccessOptions options) {
  ISMS_ASSIGN_OR_RETURN(std::unique_ptr<store::Connection> conn, store::Connection::Open(url));
  ISMS_RETURN_IF_ERROR(store::Migrate(*conn, Migrations()));
  auto access = std::make_unique<Access>(*conn, clock, std::move(options));
  access->owned_ = std::move(conn);
  return access;
}

Result<std::string> Access::HashPassword(const std::string& password) {
  ISMS_RETURN_IF_ERROR(access_internal::InitSodium());
  if (options_.pwhash_opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      options_.pwhash_memlimit < crypto_pwhash_MEMLIMIT_MIN) {
    return Status::InvalidArgument("Argon2id cost below libsodium's minimum");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), options_.pwhash_opslimit,
                        options_.pwhash_memlimit) != 0) {
    return Status::Internal("Argon2id could not hash the password (out of memory?)");
  }
  return std::string(out);
}

const std::string& Access::DummyHash() {
  if (dummy_hash_.empty()) {
    dummy_hash_ = access_internal::DummyHash(options_.pwhash_opslimit, options_.pwhash_memlimit);
  }
  return dummy_hash_;
}

Result<std::optional<Access::Row>> Access::LoadUser(const std::string& name) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string("SELECT ") + kUserColumns +
                                               " FROM users WHERE name = $1"));
  st->BindText(1, name);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return std::optional<Row>();
  Row r;
  r.id = st->ColumnInt(0);
  r.name = st->ColumnText(1);
  ISMS_ASSIGN_OR_RETURN(r.role, ParseRole(st->ColumnText(2)));
  r.password_hash = st->ColumnText(3);
  r.totp_secret = st->ColumnOptionalText(4);
  r.totp_last_step = st->ColumnOptionalInt(5);
  r.disabled = st->ColumnInt(6) != 0;
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  return std::optional<Row>(std::move(r));
}

namespace {

Status NoSuchUser(const std::string& name) {
  return Status::NotFound("no user named '" + name + "': `isms user list` shows the users");
}

}  // namespace

Result<std::int64_t> Access::ContractId(const std::string& name) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT id FROM contracts WHERE name = $1"));
  st->BindText(1, name);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NoSuchContract(name);
  std::int64_t id = st->ColumnInt(0);
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  return id;
}

Result<Principal> Access::LoadPrincipal(std::int64_t user_id, const std::string& via) {
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_.Prepare("SELECT name, role, disabled FROM users WHERE id = $1"));
  st->BindInt(1, user_id);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Status::PermissionDenied("the account no longer exists");
  Principal p;
  p.user_id = user_id;
  p.name = st->ColumnText(0);
  ISMS_ASSIGN_OR_RETURN(p.role, ParseRole(st->ColumnText(1)));
  const bool disabled = st->ColumnInt(2) != 0;
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  if (disabled) return Status::PermissionDenied("the account '" + p.name + "' is disabled");
  ISMS_ASSIGN_OR_RETURN(auto gs,
                        conn_.Prepare("SELECT c.name FROM user_contracts g JOIN contracts c ON "
                                      "c.id = g.contract_id WHERE g.user_id = $1 ORDER BY c.name"));
  gs->BindInt(1, user_id);
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool r, gs->Step());
    if (!r) break;
    p.contracts.push_back(gs->ColumnText(0));
  }
  p.via = via;
  return p;
}

Result<UserView> Access::AddUser(const std::string& name, Role role,
                                 const std::vector<std::string>& contracts,
                                 const std::string& password, const Actor& by) {
  ISMS_RETURN_IF_ERROR(ValidateUserName(name));
  if (role == Role::kAdmin && !contracts.empty()) {
    return Status::InvalidArgument(
        "an admin account never holds a contract: admin manages users and grants only; give "
        "the contracts to an account of another role");
  }
  std::string hash;
  if (!password.empty()) {
    ISMS_RETURN_IF_ERROR(ValidatePassword(name, password));
    ISMS_ASSIGN_OR_RETURN(hash, HashPassword(password));
  }
  std::vector<std::int64_t> ids;
  for (const std::string& c : contracts) {
    ISMS_ASSIGN_OR_RETURN(std::int64_t id, ContractId(c));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  const std::int64_t now = Millis(clock_.Now());
  store::Transaction tx(conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> existing, LoadUser(name));
  if (existing) {
    return Status::AlreadyExists("a user named '" + name + "' exists already (role " +
                                 std::string(RoleKey(existing->role)) + ")");
  }
  ISMS_ASSIGN_OR_RETURN(
      auto ins, conn_.Prepare("INSERT INTO users (name, role, password_hash, totp_secret, "
                              "totp_last_step, disabled, created_at, created_by, changed_at, "
                              "changed_by) VALUES ($1, $2, $3, NULL, NULL, 0, $4, $5, $4, $5)"));
  ins->BindText(1, name);
  ins->BindText(2, RoleKey(role));
  ins->BindText(3, hash);
  ins->BindInt(4, now);
  ins->BindText(5, by.name);
  ISMS_RETURN_IF_ERROR(ins->Run());
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> added, LoadUser(name));
  if (!added) return Status::Internal("the user just added cannot be read back");
  ISMS_ASSIGN_OR_RETURN(auto grant, conn_.Prepare("INSERT INTO user_contracts (user_id, "
                                                  "contract_id, granted_at, granted_by) VALUES "
                                                  "($1, $2, $3, $4)"));
  for (std::int64_t id : ids) {
    grant->BindInt(1, added->id);
    grant->BindInt(2, id);
    grant->BindInt(3, now);
    grant->BindText(4, by.name);
    ISMS_RETURN_IF_ERROR(grant->Run());
  }
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return FindUser(name);
}

Status Access::DisableUser(const std::string& name, const Actor& by) {
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(name));
  if (!u) return NoSuchUser(name);
  store::Transaction tx(conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  if (!u->disabled) {
    ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE users SET disabled = 1, changed_at = $2, "
                                                 "changed_by = $3 WHERE id = $1"));
    st->BindInt(1, u->id);
    st->BindInt(2, Millis(clock_.Now()));
    st->BindText(3, by.name);
    ISMS_RETURN_IF_ERROR(st->Run());
  }
  ISMS_ASSIGN_OR_RETURN(auto del, conn_.Prepare("DELETE FROM sessions WHERE user_id = $1"));
  del->BindInt(1, u->id);
  ISMS_RETURN_IF_ERROR(del->Run());
  return tx.Commit();
}

Status Access::SetPassword(const std::string& name, const std::string& password, const Actor& by) {
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(name));
  if (!u) return NoSuchUser(name);
  ISMS_RETURN_IF_ERROR(ValidatePassword(name, password));
  ISMS_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  store::Transaction tx(conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE users SET password_hash = $2, changed_at = "
                                               "$3, changed_by = $4 WHERE id = $1"));
  st->BindInt(1, u->id);
  st->BindText(2, hash);
  st->BindInt(3, Millis(clock_.Now()));
  st->BindText(4, by.name);
  ISMS_RETURN_IF_ERROR(st->Run());
  ISMS_ASSIGN_OR_RETURN(auto del, conn_.Prepare("DELETE FROM sessions WHERE user_id = $1"));
  del->BindInt(1, u->id);
  ISMS_RETURN_IF_ERROR(del->Run());
  return tx.Commit();
}

Result<std::vector<UserView>> Access::ListUsers() {
  std::map<std::int64_t, std::vector<std::string>> grants;
  {
    ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT g.user_id, c.name FROM user_contracts g "
                                                 "JOIN contracts c ON c.id = g.contract_id "
                                                 "ORDER BY c.name"));
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      grants[st->ColumnInt(0)].push_back(st->ColumnText(1));
    }
  }
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT id, name, role, password_hash <> '', "
                                               "totp_secret IS NOT NULL, disabled, created_at, "
                                               "created_by FROM users ORDER BY name"));
  std::vector<UserView> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    UserView u;
    u.id = st->ColumnInt(0);
    u.name = st->ColumnText(1);
    ISMS_ASSIGN_OR_RETURN(u.role, ParseRole(st->ColumnText(2)));
    u.has_password = st->ColumnInt(3) != 0;
    u.totp = st->ColumnInt(4) != 0;
    u.disabled = st->ColumnInt(5) != 0;
    u.created_at = FromMillis(st->ColumnInt(6));
    u.created_by = st->ColumnText(7);
    u.contracts = grants[u.id];
    out.push_back(std::move(u));
  }
  return out;
}

Result<UserView> Access::FindUser(const std::string& name) {
  ISMS_ASSIGN_OR_RETURN(std::vector<UserView> all, ListUsers());
  for (UserView& u : all) {
    if (u.name == name) return std::move(u);
  }
  return NoSuchUser(name);
}

Status Access::Grant(const std::string& user, const std::string& contract, const Actor& by) {
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(user));
  if (!u) return NoSuchUser(user);
  if (u->role == Role::kAdmin) {
    return Status::InvalidArgument("'" + user +
                                   "' is an admin: an admin account never holds a contract");
  }
  ISMS_ASSIGN_OR_RETURN(std::int64_t cid, ContractId(contract));
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("INSERT INTO user_contracts (user_id, contract_id, "
                                               "granted_at, granted_by) VALUES ($1, $2, $3, $4) "
                                               "ON CONFLICT (user_id, contract_id) DO NOTHING"));
  st->BindInt(1, u->id);
  st->BindInt(2, cid);
  st->BindInt(3, Millis(clock_.Now()));
  st->BindText(4, by.name);
  return st->Run();
}

Status Access::Revoke(const std::string& user, const std::string& contract, const Actor& by) {
  (void)by;
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(user));
  if (!u) return NoSuchUser(user);
  ISMS_ASSIGN_OR_RETURN(std::int64_t cid, ContractId(contract));
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("DELETE FROM user_contracts WHERE user_id = $1 AND "
                                               "contract_id = $2"));
  st->BindInt(1, u->id);
  st->BindInt(2, cid);
  ISMS_RETURN_IF_ERROR(st->Run());
  if (st->ChangedRows() == 0) {
    return Status::NotFound("'" + user + "' holds no grant on contract '" + contract + "'");
  }
  return Status::Ok();
}

Result<std::vector<GrantView>> Access::ListGrants(const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t cid, ContractId(contract));
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT u.name, u.role, u.disabled, g.granted_at, "
                                               "g.granted_by FROM user_contracts g JOIN users u "
                                               "ON u.id = g.user_id WHERE g.contract_id = $1 "
                                               "ORDER BY u.name"));
  st->BindInt(1, cid);
  std::vector<GrantView> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    GrantView g;
    g.user = st->ColumnText(0);
    ISMS_ASSIGN_OR_RETURN(g.role, ParseRole(st->ColumnText(1)));
    g.disabled = st->ColumnInt(2) != 0;
    g.granted_at = FromMillis(st->ColumnInt(3));
    g.granted_by = st->ColumnText(4);
    out.push_back(std::move(g));
  }
  return out;
}

Result<TotpEnrolment> Access::EnableTotp(const std::string& name, const Actor& by) {
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(name));
  if (!u) return NoSuchUser(name);
  ISMS_RETURN_IF_ERROR(access_internal::InitSodium());
  TotpEnrolment e;
  e.secret = Base32Encode(access_internal::RandomBytes(20));
  e.uri = OtpauthUri(options_.totp_issuer, name, e.secret, DefaultTotp());
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE users SET totp_secret = $2, totp_last_step "
                                               "= NULL, changed_at = $3, changed_by = $4 WHERE "
                                               "id = $1"));
  st->BindInt(1, u->id);
  st->BindText(2, e.secret);
  st->BindInt(3, Millis(clock_.Now()));
  st->BindText(4, by.name);
  ISMS_RETURN_IF_ERROR(st->Run());
  return e;
}

Result<std::optional<Instant>> Access::RetryAfter(const std::string& name,
                                                  const std::string& address) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT retry_at FROM login_failures WHERE name = "
                                               "$1 AND address = $2"));
  st->BindText(1, access_internal::ThrottleKey(name));
  st->BindText(2, address);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return std::optional<Instant>();
  const Instant retry = FromMillis(st->ColumnInt(0));
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  if (retry <= clock_.Now()) return std::optional<Instant>();
  return std::optional<Instant>(retry);
}

Status Access::RecordFailure(const std::string& name, const std::string& address) {
  const Instant now = clock_.Now();
  store::Transaction tx(conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  // Failures are forgotten a day after the last one: the count starts again.
  ISMS_ASSIGN_OR_RETURN(auto prune, conn_.Prepare("DELETE FROM login_failures WHERE "
                                                  "last_failure_at < $1 AND retry_at < $2"));
  prune->BindInt(1, Millis(now - std::chrono::hours(24)));
  prune->BindInt(2, Millis(now));
  ISMS_RETURN_IF_ERROR(prune->Run());
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT failures FROM login_failures WHERE name = "
                                               "$1 AND address = $2"));
  st->BindText(1, name);
  st->BindText(2, address);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  const std::int64_t failures = (row ? st->ColumnInt(0) : 0) + 1;
  if (row) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    (void)more;
  }
  std::chrono::milliseconds delay{0};
  if (failures > options_.free_failures) {
    delay = options_.first_delay;
    for (std::int64_t i = options_.free_failures + 1; i < failures && delay < options_.max_delay;
         ++i) {
      delay *= 2;
    }
    delay = std::min<std::chrono::milliseconds>(delay, options_.max_delay);
  }
  ISMS_ASSIGN_OR_RETURN(
      auto up, conn_.Prepare("INSERT INTO login_failures (name, address, failures, "
                             "last_failure_at, retry_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
                             "(name, address) DO UPDATE SET failures = $3, last_failure_at = $4, "
                             "retry_at = $5"));
  up->BindText(1, name);
  up->BindText(2, address);
  up->BindInt(3, failures);
  up->BindInt(4, Millis(now));
  up->BindInt(5, Millis(now + delay));
  ISMS_RETURN_IF_ERROR(up->Run());
  return tx.Commit();
}

Result<Principal> Access::Login(const std::string& name, const std::string& password,
                                const std::string& totp_code, const std::string& address,
                                std::string* why) {
  auto refuse = [&](const char* reason, Status s) -> Result<Principal> {
    if (why) *why = reason;
    return s;
  };
  const bool valid_name = ValidateUserName(name).ok();
  const std::string key = access_internal::ThrottleKey(name);
  ISMS_ASSIGN_OR_RETURN(std::optional<Instant> retry, RetryAfter(name, address));
  if (retry) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*retry - clock_.Now());
    return refuse("throttled",
                  Status::Unavailable("too many failed log-ins as '" + key + "' from " + address +
                                      ": try again after " + FormatInstant(*retry) + " (in " +
                                      std::to_string(wait.count()) + " s)"));
  }
  std::optional<Row> u;
  if (valid_name) {
    ISMS_ASSIGN_OR_RETURN(u, LoadUser(name));
  }
  const bool usable = u && !u->password_hash.empty();
  // An unknown name, or an account without a password, costs the same hash as a real one.
  const std::string& hash = usable ? u->password_hash : DummyHash();
  const bool password_ok =
      !hash.empty() &&
      crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 && usable;
  const char* reason = nullptr;
  if (!u) {
    reason = "unknown user";
  } else if (u->password_hash.empty()) {
    reason = "no password set";
  } else if (!password_ok) {
    reason = "wrong password";
  } else if (u->disabled) {
    reason = "account disabled";
  }
  if (reason) {
    ISMS_RETURN_IF_ERROR(RecordFailure(key, address));
    return refuse(reason, LoginRefused());
  }
  if (u->totp_secret || u->role == Role::kAdmin) {
    if (!u->totp_secret) {
      return refuse("no TOTP enrolled",
                    Status::FailedPrecondition(
                        "'" + name +
                        "' is an admin without a second factor: an admin logs in "
                        "only with a one-time code; enrol one on the server with `isms user "
                        "totp " +
                        name + "`"));
    }
    ISMS_ASSIGN_OR_RETURN(std::string secret, Base32Decode(*u->totp_secret));
    OtpMac mac = [&secret](std::string_view m) { return access_internal::HmacSha1(secret, m); };
    std::optional<std::uint64_t> last;
    if (u->totp_last_step) last = static_cast<std::uint64_t>(*u->totp_last_step);
    std::optional<std::uint64_t> step =
        TotpVerify(mac, totp_code, clock_.Now(), DefaultTotp(), 1, last);
    bool accepted = false;
    if (step) {
      // Once only, even when two log-ins race with the same code.
      ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE users SET totp_last_step = $2 WHERE "
                                                   "id = $1 AND (totp_last_step IS NULL OR "
                                                   "totp_last_step < $2)"));
      st->BindInt(1, u->id);
      st->BindInt(2, static_cast<std::int64_t>(*step));
      ISMS_RETURN_IF_ERROR(st->Run());
      accepted = st->ChangedRows() == 1;
    }
    if (!accepted) {
      ISMS_RETURN_IF_ERROR(RecordFailure(key, address));
      return refuse("wrong one-time code", LoginRefused());
    }
  }
  ISMS_ASSIGN_OR_RETURN(auto clear, conn_.Prepare("DELETE FROM login_failures WHERE name = $1 AND "
                                                  "address = $2"));
  clear->BindText(1, key);
  clear->BindText(2, address);
  ISMS_RETURN_IF_ERROR(clear->Run());
  if (crypto_pwhash_str_needs_rehash(u->password_hash.c_str(), options_.pwhash_opslimit,
                                     options_.pwhash_memlimit) != 0) {
    Result<std::string> rehashed = HashPassword(password);
    if (rehashed.ok()) {
      ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE users SET password_hash = $2 WHERE "
                                                   "id = $1 AND password_hash = $3"));
      st->BindInt(1, u->id);
      st->BindText(2, *rehashed);
      st->BindText(3, u->password_hash);
      ISMS_RETURN_IF_ERROR(st->Run());
    }
  }
  return LoadPrincipal(u->id, "password");
}

Result<std::vector<std::string>> Access::VisibleContracts(const Principal& p) {
  if (p.role != Role::kAdmin) return p.contracts;
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT name FROM contracts ORDER BY name"));
  std::vector<std::string> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(st->ColumnText(0));
  }
  return out;
}

}  // namespace isms::app
