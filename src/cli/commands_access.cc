// isms user ... and isms token ...: accounts, grants, TOTP and API tokens (docs/access.md).
// The command line acts as the operating-system user; each change appends an access record to
// the store's access log and to the logs of the contracts concerned.
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "app/access.h"
#include "app/audit.h"
#include "cli/commands.h"
#include "cli/store_access.h"
#include "cli/table.h"

namespace isms::cli {
namespace {

using nlohmann::ordered_json;

struct AccessCommon {
  StoreOptions store;
  std::string key_dir;
};

struct UserAddOptions {
  AccessCommon common;
  std::string name;
  std::string role;
  std::vector<std::string> contracts;
  bool password_stdin = false;
};

struct UserNameOptions {
  AccessCommon common;
  std::string name;
};

struct UserGrantOptions {
  AccessCommon common;
  std::string name;
  std::string contract;
};

struct UserListOptions {
  AccessCommon common;
  std::string contract;
  bool json = false;
};

struct UserLogOptions {
  AccessCommon common;
  std::string user;
  std::string from, to;
  bool json = false;
  bool verify = false;
};

struct TokenCreateOptions {
  AccessCommon common;
  std::string user;
  std::string expires;
  std::string note;
};

struct TokenListOptions {
  AccessCommon common;
  std::string user;
  bool json = false;
};

struct TokenRevokeOptions {
  AccessCommon common;
  std::int64_t id = 0;
};

// What a command works with: the audit service (for the records) and accounts on its ledger's
// connection.
struct Session {
  std::unique_ptr<app::AuditService> audit;
  std::unique_ptr<app::Access> access;
};

Result<Session> Open(Context& ctx, const AccessCommon& o) {
  Session s;
  ISMS_ASSIGN_OR_RETURN(s.audit, OpenAuditService(ctx, o.store, o.key_dir));
  s.access = std::make_unique<app::Access>(s.audit->ledger().connection(), ctx.clock);
  return s;
}

// Appends the record of a change made from the command line: to the store's access log and to
// the logs of `contracts`. A failure is reported (exit code 1) but the change stands.
void Record(Context& ctx, Session& s, const std::string& action, const std::string& target,
            const Status& outcome, const std::vector<std::string>& contracts,
            const std::string& detail = "") {
  app::AccessEvent e;
  e.time = ctx.clock.Now();
  e.user = OsActor().name;
  e.via = "cli";
  e.kind = "change";
  e.action = action;
  e.target = target;
  e.outcome = outcome.ok() ? "success" : "failure";
  e.detail = outcome.ok() ? detail : outcome.message();
  Status st = app::AppendAccessRecords(*s.audit, app::AccessEntries(e, contracts), ctx.clock);
  if (!st.ok()) {
    ctx.err << "isms: " << (outcome.ok() ? "done" : "refused")
            << ", but its audit record was not written: " << st.message() << "\n";
    ctx.exit_code = 1;
  }
}

// The contracts a user holds now, for the records (empty when it cannot be read).
std::vector<std::string> ContractsOf(Session& s, const std::string& name) {
  Result<app::UserView> u = s.access->FindUser(name);
  return u.ok() ? u->contracts : std::vector<std::string>{};
}

// One line of standard input, without its line break.
std::string ReadLine(Context& ctx) {
  std::string line;
  std::getline(ctx.in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool StdinIsTerminal(Context& ctx) {
  return &ctx.in == &std::cin && isatty(STDIN_FILENO);
}

// Asks on the terminal without echo.
std::string Prompt(Context& ctx, const std::string& question) {
  ctx.err << question << std::flush;
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line = ReadLine(ctx);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  ctx.err << "\n";
  return line;
}

// The new password: typed twice on a terminal, else the first line of standard input.
Result<std::string> NewPassword(Context& ctx, const std::string& name) {
  if (!StdinIsTerminal(ctx)) {
    std::string p = ReadLine(ctx);
    if (p.empty()) {
      return Status::InvalidArgument(
          "no password on standard input: give it as the first line (e.g. from a password "
          "manager), or run on a terminal to be asked");
    }
    return p;
  }
  std::string a = Prompt(ctx, "New password for " + name + ": ");
  std::string b = Prompt(ctx, "The same again: ");
  if (a != b) return Status::InvalidArgument("the two passwords differ: nothing was changed");
  return a;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

ordered_json OptionalInstant(const std::optional<Instant>& t) {
  return t ? ordered_json(FormatInstant(*t)) : ordered_json(nullptr);
}

void UserAdd(Context& ctx, const UserAddOptions& o) {
  Result<app::Role> role = app::ParseRole(o.role);
  if (!role.ok()) return ctx.Fail(role.status().WithContext("--role"));
  std::string password;
  if (o.password_stdin) {
    password = ReadLine(ctx);
    if (password.empty()) {
      return ctx.Fail(Status::InvalidArgument(
          "--password-stdin: standard input holds no password on its first line"));
    }
  }
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::UserView> u = s->access->AddUser(o.name, *role, o.contracts, password, OsActor());
  std::vector<std::string> logs;
  if (u.ok()) logs = u->contracts;
  Record(ctx, *s, "user.add", "user " + o.name, u.status(), logs,
         "role " + o.role + (o.contracts.empty() ? "" : ", contracts " + Join(o.contracts)));
  if (!u.ok()) return ctx.Fail(u.status());
  ctx.out << "added user " << u->name << " (" << app::RoleKey(u->role);
  if (!u->contracts.empty()) ctx.out << "; contracts " << Join(u->contracts);
  ctx.out << ")\n";
  if (!u->has_password) {
    ctx.out << "it has no password: it can use API tokens (isms token create --user " << u->name
            << "); give it one with: isms user password " << u->name << "\n";
  }
  if (u->role == app::Role::kAdmin) {
    ctx.out << "an admin logs in to the web only with a one-time code: enrol it with: isms user "
               "totp "
            << u->name << "\n";
  }
}

void UserDisable(Context& ctx, const UserNameOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Status st = s->access->DisableUser(o.name, OsActor());
  Record(ctx, *s, "user.disable", "user " + o.name, st, ContractsOf(*s, o.name));
  if (!st.ok()) return ctx.Fail(st);
  ctx.out << "disabled user " << o.name
          << ": its sessions have ended, its API tokens are refused, it cannot log in\n";
}

void UserPassword(Context& ctx, const UserNameOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::UserView> u = s->access->FindUser(o.name);
  if (!u.ok()) return ctx.Fail(u.status());
  Result<std::string> password = NewPassword(ctx, o.name);
  if (!password.ok()) return ctx.Fail(password.status());
  Status st = s->access->SetPassword(o.name, *password, OsActor());
  Record(ctx, *s, "user.password", "user " + o.name, st, u->contracts);
  if (!st.ok()) return ctx.Fail(st);
  ctx.out << "set the password of " << o.name << "; its sessions have ended\n";
}

void UserTotp(Context& ctx, const UserNameOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::TotpEnrolment> e = s->access->EnableTotp(o.name, OsActor());
  Record(ctx, *s, "user.totp", "user " + o.name, e.status(), ContractsOf(*s, o.name));
  if (!e.ok()) return ctx.Fail(e.status());
  ctx.out << "enrolled a TOTP second factor for " << o.name
          << " (RFC 6238: SHA-1, 6 digits, 30 s); give the user, privately, the secret or the URI"
             " (an authenticator app reads it from a QR code of the URI):\n"
          << "secret: " << e->secret << "\nuri: " << e->uri << "\n";
}

void UserGrant(Context& ctx, const UserGrantOptions& o, bool grant) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Status st = grant ? s->access->Grant(o.name, o.contract, OsActor())
                    : s->access->Revoke(o.name, o.contract, OsActor());
  Result<app::UserView> u = s->access->FindUser(o.name);
  Record(ctx, *s, grant ? "grant.add" : "grant.revoke",
         "user " + o.name + " contract " + o.contract, st,
         st.ok() ? std::vector<std::string>{o.contract} : std::vector<std::string>{},
         u.ok() ? "role " + std::string(app::RoleKey(u->role)) : "");
  if (!st.ok()) return ctx.Fail(st);
  ctx.out << (grant ? "granted " : "revoked ") << o.name << (grant ? " access to " : " access to ")
          << "contract " << o.contract << "\n";
}

void UserList(Context& ctx, const UserListOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<std::vector<app::UserView>> users = s->access->ListUsers();
  if (!users.ok()) return ctx.Fail(users.status());
  if (o.json) {
    ordered_json arr = ordered_json::array();
    for (const app::UserView& u : *users) {
      arr.push_back({{"name", u.name},
                     {"role", std::string(app::RoleKey(u.role))},
                     {"contracts", u.contracts},
                     {"password", u.has_password},
                     {"totp", u.totp},
                     {"disabled", u.disabled},
                     {"created_at", FormatInstant(u.created_at)},
                     {"created_by", u.created_by}});
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"NAME", "ROLE", "PASSWORD", "TOTP", "STATE", "CONTRACTS"});
  for (const app::UserView& u : *users) {
    t.Add({u.name, std::string(app::RoleKey(u.role)), u.has_password ? "yes" : "no",
           u.totp ? "yes" : "no", u.disabled ? "disabled" : "active", Join(u.contracts)});
  }
  t.Print(ctx.out);
}

void UserGrants(Context& ctx, const UserListOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<std::vector<app::GrantView>> grants = s->access->ListGrants(o.contract);
  if (!grants.ok()) return ctx.Fail(grants.status());
  if (o.json) {
    ordered_json arr = ordered_json::array();
    for (const app::GrantView& g : *grants) {
      arr.push_back({{"user", g.user},
                     {"role", std::string(app::RoleKey(g.role))},
                     {"disabled", g.disabled},
                     {"granted_at", FormatInstant(g.granted_at)},
                     {"granted_by", g.granted_by}});
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"USER", "ROLE", "STATE", "GRANTED", "BY"});
  for (const app::GrantView& g : *grants) {
    t.Add({g.user, std::string(app::RoleKey(g.role)), g.disabled ? "disabled" : "active",
           FormatInstant(g.granted_at), g.granted_by});
  }
  t.Print(ctx.out);
}

void UserLog(Context& ctx, const UserLogOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  if (o.verify) {
    Result<audit::VerifyReport> r = app::VerifyAccessLog(*s->audit);
    if (!r.ok()) return ctx.Fail(r.status());
    if (!r->problems.empty()) {
      for (const std::string& p : r->problems) ctx.out << "problem: " << p << "\n";
      ctx.exit_code = 1;
      return;
    }
    ctx.out << "the access log verifies: " << r->size << " records, " << r->checkpoints
            << " signed checkpoints, root " << audit::HashHex(r->root) << "\n";
    return;
  }
  app::AuditSearchRequest q;
  if (!o.user.empty()) q.user = o.user;
  if (!o.from.empty()) {
    Result<Instant> f = ParseAt(o.from, false);
    if (!f.ok()) return ctx.Fail(f.status().WithContext("--from"));
    q.from = *f;
  }
  if (!o.to.empty()) {
    Result<Instant> t = ParseAt(o.to, true);
    if (!t.ok()) return ctx.Fail(t.status().WithContext("--to"));
    q.to = o.to.size() == 10 ? *t + std::chrono::milliseconds(1) : *t;
  }
  ordered_json arr = ordered_json::array();
  Status st = app::SearchAccessLog(*s->audit, q, [&](app::AuditHit&& h) -> Result<bool> {
    const AuditRecord& r = h.record;
    if (o.json) {
      arr.push_back({{"leaf", h.leaf},
                     {"time", FormatInstant(r.time)},
                     {"user", r.user},
                     {"src_ip", r.src_ip},
                     {"kind", r.msgid},
                     {"via", std::string(r.Extra("via"))},
                     {"action", std::string(r.Extra("action"))},
                     {"outcome", std::string(r.Extra("outcome"))},
                     {"message", r.message}});
    } else {
      ctx.out << FormatInstant(r.time) << " " << (r.user.empty() ? "-" : r.user) << " "
              << (r.src_ip.empty() ? "-" : r.src_ip) << " " << r.message << "\n";
    }
    return true;
  });
  if (!st.ok()) return ctx.Fail(st);
  if (o.json) ctx.out << arr.dump(2) << "\n";
}

void TokenCreate(Context& ctx, const TokenCreateOptions& o) {
  Result<Instant> expires = ParseAt(o.expires, true);
  if (!expires.ok()) return ctx.Fail(expires.status().WithContext("--expires"));
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::NewToken> t = s->access->CreateToken(o.user, *expires, o.note, OsActor());
  Record(ctx, *s, "token.create",
         (t.ok() ? "token " + std::to_string(t->id) + " " : std::string()) + "of user " + o.user,
         t.status(), ContractsOf(*s, o.user),
         t.ok() ? "expires " + FormatInstant(t->expires_at) : "");
  if (!t.ok()) return ctx.Fail(t.status());
  ctx.out << "token " << t->id << " for " << o.user << ", valid until "
          << FormatInstant(t->expires_at)
          << "; it is shown only now (send it as Authorization: Bearer):\n"
          << t->token << "\n";
}

void TokenList(Context& ctx, const TokenListOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<std::vector<app::TokenView>> tokens = s->access->ListTokens(o.user);
  if (!tokens.ok()) return ctx.Fail(tokens.status());
  const Instant now = ctx.clock.Now();
  auto state = [&](const app::TokenView& t) -> std::string {
    if (t.revoked_at) return "revoked";
    return t.expires_at <= now ? "expired" : "valid";
  };
  if (o.json) {
    ordered_json arr = ordered_json::array();
    for (const app::TokenView& t : *tokens) {
      arr.push_back({{"id", t.id},
                     {"user", t.user},
                     {"note", t.note},
                     {"state", state(t)},
                     {"created_at", FormatInstant(t.created_at)},
                     {"created_by", t.created_by},
                     {"expires_at", FormatInstant(t.expires_at)},
                     {"last_used_at", OptionalInstant(t.last_used_at)},
                     {"revoked_at", OptionalInstant(t.revoked_at)}});
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"ID", "USER", "STATE", "EXPIRES", "LAST USED", "NOTE"});
  for (const app::TokenView& v : *tokens) {
    t.Add({std::to_string(v.id), v.user, state(v), FormatInstant(v.expires_at),
           v.last_used_at ? FormatInstant(*v.last_used_at) : "never", v.note});
  }
  t.Print(ctx.out);
}

void TokenRevoke(Context& ctx, const TokenRevokeOptions& o) {
  Result<Session> s = Open(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::TokenView> t = s->access->FindToken(o.id);
  Status st = t.ok() ? s->access->RevokeToken(o.id, OsActor()) : t.status();
  Record(ctx, *s, "token.revoke",
         "token " + std::to_string(o.id) + (t.ok() ? " of user " + t->user : ""), st,
         t.ok() ? ContractsOf(*s, t->user) : std::vector<std::string>{});
  if (!st.ok()) return ctx.Fail(st);
  ctx.out << "revoked token " << o.id << " of " << t->user << "\n";
}

void AddCommon(CLI::App* cmd, AccessCommon* o) {
  cmd->add_option("--store", o->store.store,
                  "Store URL: sqlite:PATH or postgresql://... (default: $ISMS_STORE, else "
                  "sqlite:./isms-data/isms.db); never put a password here")
      ->type_name("URL");
  cmd->add_option("--key-dir", o->key_dir,
                  "Folder of the audit signing key that seals the access records (default: "
                  "$ISMS_KEY_DIR, else beside a SQLite store)")
      ->type_name("DIR");
}

}  // namespace

void AddAccessCommands(CLI::App& app, Context& ctx, std::function<void()>& action) {
  auto* user = app.add_subcommand(
      "user", "Accounts: users, their role and contracts, passwords, TOTP (docs/access.md)");
  user->require_subcommand(1);
  const char* const kRoles = "admin, security-officer, engineer, auditor or buyer";

  auto add = std::make_shared<UserAddOptions>();
  auto* add_cmd = user->add_subcommand("add", "Add a user with exactly one role");
  add_cmd->add_option("NAME", add->name, "User name: a-z 0-9 . _ - @ (lower case)")->required();
  add_cmd->add_option("--role", add->role, std::string("The role: ") + kRoles)->required();
  add_cmd->add_option("--contract", add->contracts,
                      "A contract the user may act on (repeatable; never for admin)");
  add_cmd->add_flag("--password-stdin", add->password_stdin,
                    "Read the password from the first line of standard input (without it the "
                    "user has no password until `isms user password`)");
  AddCommon(add_cmd, &add->common);
  add_cmd->callback([&ctx, &action, add] { action = [&ctx, add] { UserAdd(ctx, *add); }; });

  auto dis = std::make_shared<UserNameOptions>();
  auto* dis_cmd = user->add_subcommand(
      "disable", "Disable a user: its sessions end, its tokens are refused, it cannot log in");
  dis_cmd->add_option("NAME", dis->name, "User name")->required();
  AddCommon(dis_cmd, &dis->common);
  dis_cmd->callback([&ctx, &action, dis] { action = [&ctx, dis] { UserDisable(ctx, *dis); }; });

  auto pw = std::make_shared<UserNameOptions>();
  auto* pw_cmd = user->add_subcommand(
      "password",
      "Set a user's password: asked twice without echo on a terminal, else the first line of "
      "standard input; ends the user's sessions");
  pw_cmd->add_option("NAME", pw->name, "User name")->required();
  AddCommon(pw_cmd, &pw->common);
  pw_cmd->callback([&ctx, &action, pw] { action = [&ctx, pw] { UserPassword(ctx, *pw); }; });

  auto totp = std::make_shared<UserNameOptions>();
  auto* totp_cmd = user->add_subcommand(
      "totp",
      "Enrol (or replace) a user's TOTP second factor (RFC 6238); prints the secret and the "
      "otpauth:// URI. Required for admin");
  totp_cmd->add_option("NAME", totp->name, "User name")->required();
  AddCommon(totp_cmd, &totp->common);
  totp_cmd->callback([&ctx, &action, totp] { action = [&ctx, totp] { UserTotp(ctx, *totp); }; });

  auto list = std::make_shared<UserListOptions>();
  auto* list_cmd = user->add_subcommand("list", "List the users with their role and contracts");
  list_cmd->add_flag("--json", list->json, "Print a JSON array");
  AddCommon(list_cmd, &list->common);
  list_cmd->callback([&ctx, &action, list] { action = [&ctx, list] { UserList(ctx, *list); }; });

  auto grant = std::make_shared<UserGrantOptions>();
  auto* grant_cmd = user->add_subcommand("grant", "Let a user act on a contract, by its role");
  grant_cmd->add_option("NAME", grant->name, "User name")->required();
  grant_cmd->add_option("--contract", grant->contract, "Contract name")->required();
  AddCommon(grant_cmd, &grant->common);
  grant_cmd->callback(
      [&ctx, &action, grant] { action = [&ctx, grant] { UserGrant(ctx, *grant, true); }; });

  auto revoke = std::make_shared<UserGrantOptions>();
  auto* revoke_cmd = user->add_subcommand("revoke", "Take a contract away from a user");
  revoke_cmd->add_option("NAME", revoke->name, "User name")->required();
  revoke_cmd->add_option("--contract", revoke->contract, "Contract name")->required();
  AddCommon(revoke_cmd, &revoke->common);
  revoke_cmd->callback(
      [&ctx, &action, revoke] { action = [&ctx, revoke] { UserGrant(ctx, *revoke, false); }; });

  auto grants = std::make_shared<UserListOptions>();
  auto* grants_cmd = user->add_subcommand("grants", "List who holds a contract, and their role");
  grants_cmd->add_option("--contract", grants->contract, "Contract name")->required();
  grants_cmd->add_flag("--json", grants->json, "Print a JSON array");
  AddCommon(grants_cmd, &grants->common);
  grants_cmd->callback(
      [&ctx, &action, grants] { action = [&ctx, grants] { UserGrants(ctx, *grants); }; });

  auto log = std::make_shared<UserLogOptions>();
  auto* log_cmd = user->add_subcommand(
      "log",
      "The store's access log: log-ins, refused log-ins, account and token changes, in order");
  log_cmd->add_option("--user", log->user, "Only records of this user (or name tried)");
  log_cmd->add_option("--from", log->from, "From this date or RFC 3339 instant");
  log_cmd->add_option("--to", log->to, "Up to this date (inclusive) or instant (exclusive)");
  log_cmd->add_flag("--json", log->json, "Print a JSON array");
  log_cmd->add_flag("--verify", log->verify,
                    "Verify the access log (Merkle tree, signed checkpoints) instead");
  AddCommon(log_cmd, &log->common);
  log_cmd->callback([&ctx, &action, log] { action = [&ctx, log] { UserLog(ctx, *log); }; });

  auto* token = app.add_subcommand(
      "token", "API tokens (sent as Authorization: Bearer), stored as SHA-256 (docs/access.md)");
  token->require_subcommand(1);

  auto tc = std::make_shared<TokenCreateOptions>();
  auto* tc_cmd = token->add_subcommand(
      "create", "Create a random 256-bit API token for a user; the token is the last word printed");
  tc_cmd->add_option("--user", tc->user, "The user the token acts as")->required();
  tc_cmd
      ->add_option("--expires", tc->expires,
                   "Valid until: a date (the end of that London day) or an RFC 3339 instant")
      ->required();
  tc_cmd->add_option("--note", tc->note, "What the token is for, e.g. ci-scan-upload");
  AddCommon(tc_cmd, &tc->common);
  tc_cmd->callback([&ctx, &action, tc] { action = [&ctx, tc] { TokenCreate(ctx, *tc); }; });

  auto tl = std::make_shared<TokenListOptions>();
  auto* tl_cmd = token->add_subcommand("list", "List API tokens (never the tokens themselves)");
  tl_cmd->add_option("--user", tl->user, "Only this user's tokens");
  tl_cmd->add_flag("--json", tl->json, "Print a JSON array");
  AddCommon(tl_cmd, &tl->common);
  tl_cmd->callback([&ctx, &action, tl] { action = [&ctx, tl] { TokenList(ctx, *tl); }; });

  auto tr = std::make_shared<TokenRevokeOptions>();
  auto* tr_cmd = token->add_subcommand("revoke", "Revoke an API token: it is refused from now on");
  tr_cmd->add_option("ID", tr->id, "The token's number (isms token list)")->required();
  AddCommon(tr_cmd, &tr->common);
  tr_cmd->callback([&ctx, &action, tr] { action = [&ctx, tr] { TokenRevoke(ctx, *tr); }; });
}

}  // namespace isms::cli
