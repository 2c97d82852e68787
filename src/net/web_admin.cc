// Users, for the admin only (user.manage):
//   GET  /admin/users                        every user: role, contracts, second factor, state
//   POST /admin/users                        add a user (with a password, or none: a machine
//                                            account that uses API tokens)
//   POST /admin/users/{user}/disable         disable the account (sessions end, tokens stop)
//   POST /admin/users/{user}/password        set its password (ends its sessions)
//   POST /admin/users/{user}/grant           grant a contract (field "contract")
//   POST /admin/users/{user}/revoke          revoke a contract (field "contract")
// Each change is an access record in the store's access log and in the log of every contract
// it concerns, as `isms user ...` writes them. The second factor is enrolled on the server
// (`isms user totp NAME`): its secret is shown once, to whoever enrols it.
#include "app/access.h"
#include "net/web_pages.h"
#include "net/web_render.h"

namespace isms::net {

namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

HttpResponse UsersPage(RequestContext& ctx, int status, const std::string& error,
                       const std::string& done, const nlohmann::json& form) {
  app::Access& access = *ctx.services.access;
  Result<std::vector<app::UserView>> users = access.ListUsers();
  if (!users.ok()) return web::StatusPage(ctx, users.status());
  Result<std::vector<std::string>> contracts = access.VisibleContracts(*ctx.principal);
  if (!contracts.ok()) return web::StatusPage(ctx, contracts.status());
  nlohmann::json list = nlohmann::json::array();
  for (const app::UserView& u : *users) {
    std::string base = "/admin/users/" + PercentEncode(u.name);
    nlohmann::json held = nlohmann::json::array();
    nlohmann::json grantable = nlohmann::json::array();
    for (const std::string& c : *contracts) {
      bool has = std::find(u.contracts.begin(), u.contracts.end(), c) != u.contracts.end();
      if (has) {
        held.push_back({{"name", c}, {"revoke", base + "/revoke"}});
      } else {
        grantable.push_back(c);
      }
    }
    bool admin = u.role == app::Role::kAdmin;
    list.push_back(
        {{"name", u.name},
         {"role", std::string(app::RoleKey(u.role))},
         {"held", held},
         {"has_held", !held.empty()},
         {"grantable", grantable},
         {"can_grant", !admin && !u.disabled && !grantable.empty()},
         {"password", u.has_password},
         {"totp", u.totp},
         {"disabled", u.disabled},
         {"created", web::LondonDay(u.created_at)},
         {"created_by", u.created_by},
         {"disable", u.disabled || u.name == ctx.principal->name ? "" : base + "/disable"},
         {"password_action", u.disabled ? "" : base + "/password"},
         {"grant", base + "/grant"},
         {"id", "u-" + u.name}});
  }
  nlohmann::json roles = nlohmann::json::array();
  std::string role = form.value("role", "");
  for (app::Role r : app::kRoles) {
    std::string k(app::RoleKey(r));
    roles.push_back({{"value", k}, {"label", k}, {"selected", k == role}});
  }
  nlohmann::json cs = nlohmann::json::array();
  for (const std::string& c : *contracts) {
    bool checked = false;
    if (form.contains("contracts")) {
      for (const auto& x : form["contracts"]) checked = checked || x == c;
    }
    cs.push_back({{"name", c}, {"checked", checked}, {"id", "grant-" + c}});
  }
  nlohmann::json d = {{"users", list},
                      {"roles", roles},
                      {"contracts", cs},
                      {"has_contracts", !cs.empty()},
                      {"error", error},
                      {"done", done},
                      {"new_name", form.value("name", "")}};
  return web::Page(ctx, "users", "Users", d, status);
}

std::string DoneText(const std::string& done, const std::string& user) {
  if (done == "added") return "Added user " + user + ".";
  if (done == "disabled")
    return "Disabled user " + user + ": its sessions ended and its tokens stopped.";
  if (done == "password") return "Set the password of " + user + "; its sessions ended.";
  if (done == "granted") return "Granted the contract to " + user + ".";
  if (done == "revoked") return "Revoked the contract from " + user + ".";
  return "";
}

HttpResponse Done(const std::string& what, const std::string& user) {
  return HttpResponse::Redirect("/admin/users?done=" + what + "&user=" + PercentEncode(user) +
                                "#u-" + PercentEncode(user));
}

HttpResponse ListUsers(RequestContext& ctx) {
  std::string done;
  std::string user = ctx.req.Query("user").value_or("");
  if (app::ValidateUserName(user).ok()) done = DoneText(ctx.req.Query("done").value_or(""), user);
  return UsersPage(ctx, 200, "", done, nlohmann::json::object());
}

// The password typed twice, exactly as typed.
Result<std::string> PasswordOf(const web::Form& form) {
  std::string a, b;
  for (const auto& [k, v] : form.fields()) {
    if (k == "password" && a.empty()) a = v;
    if (k == "password2" && b.empty()) b = v;
  }
  if (a != b) return Status::InvalidArgument("the two passwords differ: nothing was changed");
  return a;
}

HttpResponse AddUser(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  std::string name = form->Get("name");
  std::vector<std::string> contracts;
  nlohmann::json echo = {{"name", name}, {"role", form->Get("role")}};
  echo["contracts"] = nlohmann::json::array();
  for (const auto& [k, v] : form->fields()) {
    if (k == "contract" && !v.empty()) {
      contracts.push_back(v);
      echo["contracts"].push_back(v);
    }
  }
  Result<app::Role> role = app::ParseRole(form->Get("role"));
  Status st = role.status();
  Result<std::string> password = PasswordOf(*form);
  if (st.ok()) st = password.status();
  std::vector<std::string> logs;
  if (st.ok()) {
    Result<app::UserView> u =
        ctx.services.access->AddUser(name, *role, contracts, *password, ctx.Actor());
    st = u.status();
    if (u.ok()) logs = u->contracts;
  }
  ctx.RecordChange(
      "user.add", "user " + name, st, logs,
      "role " + form->Get("role") + (contracts.empty() ? "" : ", contracts " + Join(contracts)));
  if (!st.ok()) return UsersPage(ctx, HttpStatusOf(st.code()), st.message(), "", echo);
  return Done("added", name);
}

HttpResponse ChangeUser(RequestContext& ctx, const std::string& what) {
  std::string name(ctx.Param("user"));
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  app::Access& access = *ctx.services.access;
  Result<app::UserView> before = access.FindUser(name);
  std::vector<std::string> logs = before.ok() ? before->contracts : std::vector<std::string>{};
  Status st;
  std::string action, detail;
  if (what == "disabled") {
    action = "user.disable";
    st = name == ctx.principal->name
             ? Status::InvalidArgument(
                   "an admin does not disable its own account from the web: "
                   "another admin, or isms user disable on the server, does")
             : access.DisableUser(name, ctx.Actor());
  } else if (what == "password") {
    action = "user.password";
    Result<std::string> password = PasswordOf(*form);
    st = password.ok() ? access.SetPassword(name, *password, ctx.Actor()) : password.status();
  } else {
    std::string contract = form->Get("contract");
    bool grant = what == "granted";
    action = grant ? "grant.add" : "grant.revoke";
    st = grant ? access.Grant(name, contract, ctx.Actor())
               : access.Revoke(name, contract, ctx.Actor());
    detail = "contract " + contract;
    if (st.ok() && std::find(logs.begin(), logs.end(), contract) == logs.end()) {
      logs.push_back(contract);
    }
  }
  ctx.RecordChange(action, "user " + name, st, logs, detail);
  if (!st.ok())
    return UsersPage(ctx, HttpStatusOf(st.code()), st.message(), "", nlohmann::json::object());
  return Done(what, name);
}

}  // namespace

void AddWebAdminRoutes(WebApp& app) {
  app.Add({"GET", "/admin/users", RouteKind::kPage, RouteAuth::kUser, "user.manage",
           "Users, their roles and contracts (admin)"},
          ListUsers);
  app.Add({"POST", "/admin/users", RouteKind::kPage, RouteAuth::kUser, "user.manage",
           "Add a user (admin)"},
          AddUser);
  app.Add({"POST", "/admin/users/{user}/disable", RouteKind::kPage, RouteAuth::kUser, "user.manage",
           "Disable a user (admin)"},
          [](RequestContext& ctx) { return ChangeUser(ctx, "disabled"); });
  app.Add({"POST", "/admin/users/{user}/password", RouteKind::kPage, RouteAuth::kUser,
           "user.manage", "Set a user's password (admin)"},
          [](RequestContext& ctx) { return ChangeUser(ctx, "password"); });
  app.Add({"POST", "/admin/users/{user}/grant", RouteKind::kPage, RouteAuth::kUser, "user.manage",
           "Grant a user a contract (admin)"},
          [](RequestContext& ctx) { return ChangeUser(ctx, "granted"); });
  app.Add({"POST", "/admin/users/{user}/revoke", RouteKind::kPage, RouteAuth::kUser, "user.manage",
           "Revoke a user's contract (admin)"},
          [](RequestContext& ctx) { return ChangeUser(ctx, "revoked"); });
}

}  // namespace isms::net
