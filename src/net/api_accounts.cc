// Accounts and access (docs/api.md "Accounts", docs/access.md):
//   POST   /api/v1/session                          log in: a session cookie and its CSRF token
//   DELETE /api/v1/session                          log out
//   GET    /api/v1/users                            users (user.manage: admin)
//   POST   /api/v1/users                            add a user
//   GET    /api/v1/users/{user}                     one user
//   POST   /api/v1/users/{user}/disable             disable it
//   PUT    /api/v1/users/{user}/password            set its password
//   POST   /api/v1/users/{user}/totp                enrol (or replace) its second factor
//   GET    /api/v1/contracts/{contract}/grants      who holds the contract (grant.read)
//   POST   /api/v1/contracts/{contract}/grants      grant it to a user (grant.manage)
//   DELETE /api/v1/contracts/{contract}/grants/{user}   revoke
//   GET    /api/v1/tokens                           the caller's API tokens (others': token.manage)
//   POST   /api/v1/tokens                           create one (shown once)
//   DELETE /api/v1/tokens/{id}                      revoke one
// A change to an account or a grant is recorded, as on the command line, in the store's access
// log and in the audit log of every contract concerned.
#include <chrono>

#include "app/access.h"
#include "net/api_routes.h"
#include "net/api_util.h"

namespace isms::net {

namespace {

using api::Json;

Json UserJson(const app::UserView& u) {
  return Json{{"name", u.name},
              {"role", std::string(app::RoleKey(u.role))},
              {"contracts", u.contracts},
              {"has_password", u.has_password},
              {"totp", u.totp},
              {"disabled", u.disabled},
              {"created_at", FormatInstant(u.created_at)},
              {"created_by", u.created_by}};
}

Json TokenJson(const app::TokenView& t) {
  return Json{{"id", t.id},
              {"user", t.user},
              {"note", t.note},
              {"created_at", FormatInstant(t.created_at)},
              {"created_by", t.created_by},
              {"expires_at", FormatInstant(t.expires_at)},
              {"last_used_at", api::OptionalInstant(t.last_used_at)},
              {"revoked_at", api::OptionalInstant(t.revoked_at)}};
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// The contracts a user holds now (none when it cannot be read).
std::vector<std::string> ContractsOf(RequestContext& ctx, const std::string& name) {
  Result<app::UserView> u = ctx.services.access->FindUser(name);
  return u.ok() ? u->contracts : std::vector<std::string>{};
}

// May the caller act on `user`'s tokens: its own, or token.manage.
Status MayManageTokensOf(RequestContext& ctx, const std::string& user) {
  if (user == ctx.principal->name) return Status::Ok();
  return ctx.Check(app::Action::kTokenManage, "");
}

Json UserSchema() {
  return Json::parse(R"({"type":"object","properties":{
    "name":{"type":"string"},"role":{"type":"string"},
    "contracts":{"type":"array","items":{"type":"string"}},"has_password":{"type":"boolean"},
    "totp":{"type":"boolean"},"disabled":{"type":"boolean"},"created_at":{"type":"string"},
    "created_by":{"type":"string"}}})");
}

Json TokenSchema() {
  return Json::parse(R"({"type":"object","properties":{
    "id":{"type":"integer"},"user":{"type":"string"},"note":{"type":"string"},
    "created_at":{"type":"string"},"created_by":{"type":"string"},"expires_at":{"type":"string"},
    "last_used_at":{"type":["string","null"]},"revoked_at":{"type":["string","null"]}}})");
}

HttpResponse Login(RequestContext& ctx) {
  Result<Json> body = api::JsonBody(ctx.req);
  if (!body.ok()) return api::Fail(body.status());
  if (Status st = api::OnlyFields(*body, {"name", "password", "totp"}); !st.ok()) {
    return api::Fail(st);
  }
  Result<std::string> name = api::StringField(*body, "name", true);
  Result<std::string> password = api::StringField(*body, "password", true);
  Result<std::string> totp = api::StringField(*body, "totp");
  for (const Status& s : {name.status(), password.status(), totp.status()}) {
    if (!s.ok()) return api::Fail(s);
  }
  app::Access& access = *ctx.services.access;
  app::AccessEvent e;
  e.time = ctx.clock.Now();
  e.user = *name;
  e.via = "password";
  e.address = ctx.req.remote;
  e.kind = "auth";
  e.action = "login";
  e.target = "POST /api/v1/session";
  std::string why;
  Result<app::Principal> p = access.Login(*name, *password, *totp, ctx.req.remote, &why);
  if (!p.ok()) {
    e.outcome = "failure";
    e.detail = why.empty() ? p.status().message() : why;
    ctx.audit_override = e;
    if (p.status().code() == StatusCode::kUnavailable) {
      HttpResponse r = HttpResponse::Error(429, "throttled", p.status().message());
      Result<std::optional<Instant>> retry = access.RetryAfter(*name, ctx.req.remote);
      if (retry.ok() && *retry) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(**retry - ctx.clock.Now());
        r.With("Retry-After", std::to_string(std::max<std::int64_t>(1, (ms.count() + 999) / 1000)));
      }
      return r;
    }
    if (p.status().code() == StatusCode::kPermissionDenied) {
      return HttpResponse::Error(401, "unauthenticated", p.status().message());
    }
    return api::Fail(p.status());
  }
  Result<app::NewSession> s = access.CreateSession(*p, ctx.req.remote);
  if (!s.ok()) return api::Fail(s.status());
  e.role = std::string(app::RoleKey(p->role));
  e.outcome = "success";
  e.session = app::Access::SessionRef(s->session_id);
  ctx.principal = *p;
  ctx.audit_override = e;
  auto max_age =
      std::chrono::duration_cast<std::chrono::seconds>(access.options().session_absolute);
  HttpResponse r =
      api::JsonReply(200, Json{{"name", p->name},
                               {"role", std::string(app::RoleKey(p->role))},
                               {"contracts", p->contracts},
                               {"csrf_token", s->csrf_token},
                               {"idle_expires_at", FormatInstant(s->idle_expires_at)},
                               {"absolute_expires_at", FormatInstant(s->absolute_expires_at)}});
  r.With("Set-Cookie", ctx.app.SessionCookie(s->session_id, max_age));
  return r;
}

HttpResponse Logout(RequestContext& ctx) {
  if (!ctx.session) {
    return api::Fail(Status::InvalidArgument(
        "this request is authenticated by an API token, not a session: revoke a token with "
        "DELETE /api/v1/tokens/{id}"));
  }
  std::string cookie = ctx.req.Cookie(ctx.app.session_cookie());
  Status st = ctx.services.access->EndSession(cookie);
  if (!st.ok()) return api::Fail(st);
  app::AccessEvent e;
  e.time = ctx.clock.Now();
  e.user = ctx.principal->name;
  e.role = std::string(app::RoleKey(ctx.principal->role));
  e.via = "session";
  e.address = ctx.req.remote;
  e.kind = "auth";
  e.action = "logout";
  e.target = "DELETE /api/v1/session";
  e.outcome = "success";
  e.session = app::Access::SessionRef(cookie);
  ctx.audit_override = e;
  HttpResponse r = api::JsonReply(200, Json{{"logged_out", true}});
  r.With("Set-Cookie", ctx.app.SessionCookie("", std::chrono::seconds(0)));
  return r;
}

}  // namespace

void AddAccountRoutes(WebApp& app) {
  api::Add(
      app,
      {"POST", "/api/v1/session", RouteKind::kApi, RouteAuth::kPublic, "",
       "Log in: a session cookie and its CSRF token"},
      api::ApiDoc()
          .Describe("For browsers' scripts; other clients use API tokens. Every refusal says the "
                    "same (401), whatever was wrong. Repeated failures for one name from one "
                    "address are slowed down (429 with Retry-After), never locked out. A change "
                    "made on the session needs its CSRF token in the X-CSRF-Token header.")
          .Request({"application/json"})
          .RequestSchema(Json::parse(R"({"type":"object","required":["name","password"],
              "properties":{"name":{"type":"string"},"password":{"type":"string"},
              "totp":{"type":"string","description":"the one-time code, where enrolled"}}})"))
          .Returns("name, role, contracts, csrf_token, idle_expires_at, "
                   "absolute_expires_at; the cookie in Set-Cookie")
          .Errors({400, 409, 429}),
      Login);

  api::Add(app,
           {"DELETE", "/api/v1/session", RouteKind::kApi, RouteAuth::kUser, "",
            "Log out: end the caller's session"},
           api::ApiDoc().Errors({400}), Logout);

  api::Add(app,
           {"GET", "/api/v1/users", RouteKind::kApi, RouteAuth::kUser, "user.manage",
            "The users (`isms user list`)"},
           api::ApiDoc().Paginated().Schema(UserSchema()), [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             Result<std::vector<app::UserView>> users = ctx.services.access->ListUsers();
             if (!users.ok()) return api::Fail(users.status());
             return api::SlicePage(*users, *page, UserJson);
           });

  api::Add(app,
           {"POST", "/api/v1/users", RouteKind::kApi, RouteAuth::kUser, "user.manage",
            "Add a user (`isms user add`)"},
           api::ApiDoc()
               .Describe("Without a password the account can use API tokens only, until one is "
                         "set. An admin holds no contract.")
               .Request({"application/json"})
               .RequestSchema(Json::parse(R"({"type":"object","required":["name","role"],
         "properties":{"name":{"type":"string"},
         "role":{"enum":["admin","security-officer","engineer","auditor","buyer"]},
         "contracts":{"type":"array","items":{"type":"string"}},
         "password":{"type":"string"}}})"))
               .Success(201)
               .Schema(UserSchema())
               .Errors({400, 409}),
           [](RequestContext& ctx) {
             Result<Json> body = api::JsonBody(ctx.req);
             if (!body.ok()) return api::Fail(body.status());
             if (Status st = api::OnlyFields(*body, {"name", "role", "contracts", "password"});
                 !st.ok()) {
               return api::Fail(st);
             }
             Result<std::string> name = api::StringField(*body, "name", true);
             Result<std::string> role_key = api::StringField(*body, "role", true);
             Result<std::vector<std::string>> contracts = api::StringListField(*body, "contracts");
             Result<std::string> password = api::StringField(*body, "password");
             for (const Status& s :
                  {name.status(), role_key.status(), contracts.status(), password.status()}) {
               if (!s.ok()) return api::Fail(s);
             }
             Result<app::Role> role = app::ParseRole(*role_key);
             if (!role.ok()) return api::Fail(role.status().WithContext("role"));
             Result<app::UserView> u =
                 ctx.services.access->AddUser(*name, *role, *contracts, *password, ctx.Actor());
             ctx.RecordChange("user.add", "user " + *name, u.status(),
                              u.ok() ? u->contracts : std::vector<std::string>{},
                              "role " + *role_key +
                                  (contracts->empty() ? "" : ", contracts " + Join(*contracts)));
             if (!u.ok()) return api::Fail(u.status());
             return api::JsonReply(201, UserJson(*u))
                 .With("Location", "/api/v1/users/" + PercentEncode(u->name));
           });

  api::Add(
      app,
      {"GET", "/api/v1/users/{user}", RouteKind::kApi, RouteAuth::kUser, "user.manage", "One user"},
      api::ApiDoc().Schema(UserSchema()), [](RequestContext& ctx) {
        Result<app::UserView> u = ctx.services.access->FindUser(std::string(ctx.Param("user")));
        if (!u.ok()) return api::Fail(u.status());
        return api::JsonReply(200, UserJson(*u));
      });

  api::Add(app,
           {"POST", "/api/v1/users/{user}/disable", RouteKind::kApi, RouteAuth::kUser,
            "user.manage", "Disable a user: its sessions end, its tokens stop working"},
           {}, [](RequestContext& ctx) {
             std::string name(ctx.Param("user"));
             Status st = ctx.services.access->DisableUser(name, ctx.Actor());
             ctx.RecordChange("user.disable", "user " + name, st, ContractsOf(ctx, name));
             if (!st.ok()) return api::Fail(st);
             Result<app::UserView> u = ctx.services.access->FindUser(name);
             if (!u.ok()) return api::Fail(u.status());
             return api::JsonReply(200, UserJson(*u));
           });

  api::Add(app,
           {"PUT", "/api/v1/users/{user}/password", RouteKind::kApi, RouteAuth::kUser,
            "user.manage", "Set a user's password (its sessions end)"},
           api::ApiDoc()
               .Request({"application/json"})
               .RequestSchema(Json::parse(R"({"type":"object","required":["password"],
              "properties":{"password":{"type":"string"}}})"))
               .Errors({400}),
           [](RequestContext& ctx) {
             std::string name(ctx.Param("user"));
             Result<Json> body = api::JsonBody(ctx.req);
             if (!body.ok()) return api::Fail(body.status());
             if (Status st = api::OnlyFields(*body, {"password"}); !st.ok()) return api::Fail(st);
             Result<std::string> password = api::StringField(*body, "password", true);
             if (!password.ok()) return api::Fail(password.status());
             Status st = ctx.services.access->SetPassword(name, *password, ctx.Actor());
             ctx.RecordChange("user.password", "user " + name, st, ContractsOf(ctx, name));
             if (!st.ok()) return api::Fail(st);
             return api::JsonReply(200, Json{{"name", name}, {"password_set", true}});
           });

  api::Add(
      app,
      {"POST", "/api/v1/users/{user}/totp", RouteKind::kApi, RouteAuth::kUser, "user.manage",
       "Enrol (or replace) a user's second factor (`isms user totp`)"},
      api::ApiDoc()
          .Describe("The secret is shown once: give it to the user (e.g. as a QR code "
                    "of the otpauth:// URI).")
          .Returns("secret (base32), uri (otpauth://)"),
      [](RequestContext& ctx) {
        std::string name(ctx.Param("user"));
        Result<app::TotpEnrolment> t = ctx.services.access->EnableTotp(name, ctx.Actor());
        ctx.RecordChange("user.totp", "user " + name, t.status(), ContractsOf(ctx, name));
        if (!t.ok()) return api::Fail(t.status());
        return api::JsonReply(200, Json{{"name", name}, {"secret", t->secret}, {"uri", t->uri}});
      });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/grants", RouteKind::kApi, RouteAuth::kUser,
            "grant.read", "Who holds the contract, in which role (`isms user grants`)"},
           api::ApiDoc().Paginated().Returns("user, role, disabled, granted_at, granted_by"),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             Result<std::vector<app::GrantView>> grants =
                 ctx.services.access->ListGrants(ctx.contract);
             if (!grants.ok()) return api::Fail(grants.status());
             return api::SlicePage(*grants, *page, [](const app::GrantView& g) {
               return Json{{"user", g.user},
                           {"role", std::string(app::RoleKey(g.role))},
                           {"disabled", g.disabled},
                           {"granted_at", FormatInstant(g.granted_at)},
                           {"granted_by", g.granted_by}};
             });
           });

  api::Add(app,
           {"POST", "/api/v1/contracts/{contract}/grants", RouteKind::kApi, RouteAuth::kUser,
            "grant.manage", "Grant the contract to a user (`isms user grant`)"},
           api::ApiDoc()
               .Request({"application/json"})
               .RequestSchema(Json::parse(R"({"type":"object","required":["user"],
              "properties":{"user":{"type":"string"}}})"))
               .Success(201)
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<Json> body = api::JsonBody(ctx.req);
             if (!body.ok()) return api::Fail(body.status());
             if (Status st = api::OnlyFields(*body, {"user"}); !st.ok()) return api::Fail(st);
             Result<std::string> user = api::StringField(*body, "user", true);
             if (!user.ok()) return api::Fail(user.status());
             Status st = ctx.services.access->Grant(*user, ctx.contract, ctx.Actor());
             ctx.RecordChange("grant.add", "user " + *user, st, {ctx.contract},
                              "contract " + ctx.contract);
             if (!st.ok()) return api::Fail(st);
             return api::JsonReply(201, Json{{"user", *user}, {"contract", ctx.contract}});
           });

  api::Add(app,
           {"DELETE", "/api/v1/contracts/{contract}/grants/{user}", RouteKind::kApi,
            RouteAuth::kUser, "grant.manage", "Revoke a user's grant (`isms user revoke`)"},
           {}, [](RequestContext& ctx) {
             std::string user(ctx.Param("user"));
             Status st = ctx.services.access->Revoke(user, ctx.contract, ctx.Actor());
             ctx.RecordChange("grant.revoke", "user " + user, st, {ctx.contract},
                              "contract " + ctx.contract);
             if (!st.ok()) return api::Fail(st);
             return api::JsonReply(
                 200, Json{{"user", user}, {"contract", ctx.contract}, {"revoked", true}});
           });

  api::Add(app,
           {"GET", "/api/v1/tokens", RouteKind::kApi, RouteAuth::kUser, "",
            "API tokens: the caller's own (`isms token list`)"},
           api::ApiDoc()
               .Describe("Another user's tokens, or every user's with all=true, need "
                         "token.manage (admin).")
               .Query({{"user", "string", "the tokens of this user"},
                       {"all", "boolean", "the tokens of every user"}})
               .Paginated()
               .Schema(TokenSchema())
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             Result<bool> all = api::QueryBool(ctx.req, "all");
             if (!all.ok()) return api::Fail(all.status());
             std::string user = api::QueryText(ctx.req, "user").value_or(ctx.principal->name);
             Status may =
                 *all ? ctx.Check(app::Action::kTokenManage, "") : MayManageTokensOf(ctx, user);
             if (!may.ok()) return api::Fail(may);
             Result<std::vector<app::TokenView>> tokens =
                 ctx.services.access->ListTokens(*all ? "" : user);
             if (!tokens.ok()) return api::Fail(tokens.status());
             return api::SlicePage(*tokens, *page, TokenJson);
           });

  api::Add(app,
           {"POST", "/api/v1/tokens", RouteKind::kApi, RouteAuth::kUser, "",
            "Create an API token (`isms token create`): shown once"},
           api::ApiDoc()
               .Describe("For the caller, or for another user with token.manage (admin). "
                         "`expires`: a date (the end of that London day) or an instant.")
               .Request({"application/json"})
               .RequestSchema(Json::parse(R"({"type":"object","required":["expires"],
         "properties":{"expires":{"type":"string"},"note":{"type":"string"},
         "user":{"type":"string"}}})"))
               .Success(201)
               .Returns("id, user, token (send as Authorization: Bearer TOKEN; it is "
                        "not shown again), expires_at")
               .Errors({400, 409}),
           [](RequestContext& ctx) {
             Result<Json> body = api::JsonBody(ctx.req);
             if (!body.ok()) return api::Fail(body.status());
             if (Status st = api::OnlyFields(*body, {"expires", "note", "user"}); !st.ok()) {
               return api::Fail(st);
             }
             Result<std::string> expires = api::StringField(*body, "expires", true);
             Result<std::string> note = api::StringField(*body, "note");
             Result<std::string> user = api::StringField(*body, "user");
             for (const Status& s : {expires.status(), note.status(), user.status()}) {
               if (!s.ok()) return api::Fail(s);
             }
             std::string who = user->empty() ? ctx.principal->name : *user;
             if (Status st = MayManageTokensOf(ctx, who); !st.ok()) return api::Fail(st);
             Result<Instant> at = api::ParseAt(*expires, /*end_of_day=*/true, "expires");
             if (!at.ok()) return api::Fail(at.status());
             Result<app::NewToken> t =
                 ctx.services.access->CreateToken(who, *at, *note, ctx.Actor());
             ctx.RecordChange(
                 "token.create",
                 "token " + (t.ok() ? std::to_string(t->id) : std::string("-")) + " of " + who,
                 t.status(), ContractsOf(ctx, who), "expires " + FormatInstant(*at));
             if (!t.ok()) return api::Fail(t.status());
             return api::JsonReply(201, Json{{"id", t->id},
                                             {"user", who},
                                             {"token", t->token},
                                             {"expires_at", FormatInstant(t->expires_at)}});
           });

  api::Add(
      app,
      {"DELETE", "/api/v1/tokens/{id}", RouteKind::kApi, RouteAuth::kUser, "",
       "Revoke an API token: the caller's own, or any with token.manage"},
      api::ApiDoc().Errors({400}), [](RequestContext& ctx) {
        std::string text(ctx.Param("id"));
        std::int64_t id = 0;
        bool digits = !text.empty() && text.size() < 18;
        for (char c : text) digits = digits && c >= '0' && c <= '9';
        if (digits) id = std::stoll(text);
        Result<app::TokenView> t =
            digits ? ctx.services.access->FindToken(id)
                   : Result<app::TokenView>(Status::InvalidArgument(
                         "'" + text + "' is not a token number (GET /api/v1/tokens)"));
        // Another user's token is not found, alike, unless the caller may manage tokens.
        bool hidden = t.ok() && !MayManageTokensOf(ctx, t->user).ok();
        if (hidden || (!t.ok() && t.status().code() == StatusCode::kNotFound)) {
          t = Status::NotFound("no API token number " + text + ": GET /api/v1/tokens lists yours");
        }
        if (!t.ok()) return api::Fail(t.status());
        Status st = ctx.services.access->RevokeToken(id, ctx.Actor());
        ctx.RecordChange("token.revoke", "token " + text + " of " + t->user, st,
                         ContractsOf(ctx, t->user));
        if (!st.ok()) return api::Fail(st);
        return api::JsonReply(200, Json{{"id", id}, {"revoked", true}});
      });
}

}  // namespace isms::net
