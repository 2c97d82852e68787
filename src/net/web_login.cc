// The pages every user meets first:
//   GET  /login            the log-in form (a user already logged in goes on to `next`)
//   POST /login            Access::Login, then a session cookie; refusals say why they may
//   POST /logout           ends the session
//   GET  /                 the contracts the user may see
//   GET  /static/{file}    the stylesheet, the script and the icon (embedded)
#include <cmath>

#include "app/access.h"
#include "net/web_assets.h"
#include "net/web_cache.h"
#include "net/web_pages.h"
#include "net/web_render.h"

namespace isms::net {

namespace {

std::string ContentTypeOf(std::string_view file) {
  auto ends = [&](std::string_view ext) {
    return file.size() >= ext.size() && file.substr(file.size() - ext.size()) == ext;
  };
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

app::AccessEvent LoginEvent(const RequestContext& ctx, const std::string& user,
                            std::string_view action) {
  app::AccessEvent e;
  e.time = ctx.clock.Now();
  e.user = user.size() > 128 ? user.substr(0, 128) : user;
  e.via = "password";
  e.address = ctx.req.remote;
  e.kind = "auth";
  e.action = std::string(action);
  e.target = "web";
  return e;
}

HttpResponse LoginForm(RequestContext& ctx, int status, const std::string& next,
                       const std::string& name, const std::string& error) {
  nlohmann::json d = {{"next", next}, {"name", name}, {"error", error}};
  d["ended"] = ctx.req.Query("ended").has_value();
  return web::Page(ctx, "login", "Log in", d, status);
}

HttpResponse PostLogin(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  std::string name = form->Get("name");
  std::string next = web::LocalPath(form->Get("next"));
  // The password is taken as typed: spaces are part of it.
  std::string password;
  for (const auto& [k, v] : form->fields()) {
    if (k == "password") {
      password = v;
      break;
    }
  }
  app::Access& access = *ctx.services.access;
  std::string why;
  Result<app::Principal> p = access.Login(name, password, form->Get("code"), ctx.req.remote, &why);
  if (!p.ok()) {
    app::AccessEvent e = LoginEvent(ctx, name, "login");
    e.outcome = "failure";
    e.detail = why.empty() ? p.status().message() : why;
    std::vector<std::string> contracts;
    if (Result<app::UserView> u = access.FindUser(name); u.ok()) contracts = u->contracts;
    ctx.app.QueueAudit(app::AccessEntries(e, contracts));
    int status = p.status().code() == StatusCode::kUnavailable ? 429 : 403;
    HttpResponse r = LoginForm(ctx, status, next, name, p.status().message());
    if (status == 429) {
      Result<std::optional<Instant>> after = access.RetryAfter(name, ctx.req.remote);
      if (after.ok() && *after) {
        auto wait = std::chrono::duration_cast<std::chrono::seconds>(**after - ctx.clock.Now() +
                                                                      std::chrono::milliseconds(999));
        r.With("Retry-After", std::to_string(std::max<std::int64_t>(1, wait.count())));
      }
    }
    return r;
  }
  Result<app::NewSession> s = access.CreateSession(*p, ctx.req.remote);
  if (!s.ok()) return web::StatusPage(ctx, s.status());
  app::AccessEvent e = LoginEvent(ctx, p->name, "login");
  e.role = std::string(app::RoleKey(p->role));
  e.outcome = "success";
  e.session = app::Access::SessionRef(s->session_id);
  ctx.audit_override = e;
  ctx.principal = *p;
  auto max_age = std::chrono::duration_cast<std::chrono::seconds>(access.options().session_absolute);
  HttpResponse r = HttpResponse::Redirect(next);
  r.With("Set-Cookie", ctx.app.SessionCookie(s->session_id, max_age));
  return r;
}

HttpResponse PostLogout(RequestContext& ctx) {
  HttpResponse r = HttpResponse::Redirect("/login?ended=1");
  if (!ctx.session) return r;
  std::string cookie = ctx.req.Cookie(ctx.app.session_cookie());
  Status st = ctx.services.access->EndSession(cookie);
  app::AccessEvent e = LoginEvent(ctx, ctx.principal->name, "logout");
  e.via = "session";
  e.role = std::string(app::RoleKey(ctx.principal->role));
  e.outcome = st.ok() ? "success" : "failure";
  if (!st.ok()) e.detail = st.message();
  e.session = app::Access::SessionRef(cookie);
  ctx.audit_override = e;
  r.With("Set-Cookie", ctx.app.SessionCookie("", std::chrono::seconds(0)));
  return r;
}

HttpResponse Home(RequestContext& ctx) {
  const app::Principal& p = *ctx.principal;
  Result<std::vector<std::string>> visible = ctx.services.access->VisibleContracts(p);
  if (!visible.ok()) return web::StatusPage(ctx, visible.status());
  bool admin = p.role == app::Role::kAdmin;
  nlohmann::json list = nlohmann::json::array();
  if (admin) {
    for (const std::string& name : *visible) list.push_back({{"name", name}, {"link", false}});
  } else {
    for (const std::string& name : *visible) {
      Result<app::ContractRecord> c = ctx.services.ledger().FindContract(name);
      if (!c.ok()) continue;
      Result<std::shared_ptr<const nlohmann::json>> counts =
          web::Cached(ctx, name, "counts", [&]() -> Result<nlohmann::json> {
            ISMS_ASSIGN_OR_RETURN(std::vector<app::StatusCount> summary,
                                  ctx.services.ledger().Summary(name));
            std::int64_t breached = 0, open = 0;
            for (const app::StatusCount& n : summary) {
              if (n.state == ObligationState::kBreached) breached += n.count;
              if (n.state == ObligationState::kOpen) open += n.count;
            }
            return nlohmann::json{{"breached", breached}, {"open", open}};
          });
      std::int64_t breached = counts.ok() ? (**counts)["breached"].get<std::int64_t>() : 0;
      std::int64_t open = counts.ok() ? (**counts)["open"].get<std::int64_t>() : 0;
      list.push_back({{"name", name},
                      {"link", {{"href", web::ContractPath(name)}}},
                      {"start", FormatDate(c->start)},
                      {"buyer", c->buyer},
                      {"supplier", c->supplier},
                      {"breached", breached},
                      {"breached_any", breached > 0},
                      {"open", open}});
    }
  }
  nlohmann::json d = {{"admin", admin}, {"contracts", list}, {"has_contracts", !list.empty()}};
  return web::Page(ctx, "home", "Contracts", d);
}

}  // namespace

void AddWebLoginRoutes(WebApp& app) {
  app.Add({"GET", "/login", RouteKind::kPage, RouteAuth::kPublic, "", "The log-in form"},
          [](RequestContext& ctx) {
            ctx.audit_skip = true;
            std::string next = web::LocalPath(ctx.req.Query("next").value_or("/"));
            if (ctx.principal) return HttpResponse::Redirect(next);
            return LoginForm(ctx, 200, next, "", "");
          });
  app.Add({"POST", "/login", RouteKind::kPage, RouteAuth::kPublic, "",
           "Log in with a user name, password and one-time code; sets the session cookie"},
          PostLogin);
  app.Add({"POST", "/logout", RouteKind::kPage, RouteAuth::kUser, "", "End the session"},
          PostLogout);
  app.Add({"GET", "/", RouteKind::kPage, RouteAuth::kUser, "", "The contracts the user may see"},
          Home);
  app.Add({"GET", "/static/{file}", RouteKind::kPage, RouteAuth::kPublic, "",
           "The web interface's stylesheet, script and icon"},
          [](RequestContext& ctx) {
            ctx.audit_skip = true;
            std::string file(ctx.Param("file"));
            std::optional<std::string_view> data = FindWebAsset("static/" + file);
            if (!data) {
              return web::StatusPage(ctx, Status::NotFound("no static file named '" + file + "'"));
            }
            HttpResponse r = HttpResponse::Text(200, std::string(*data), ContentTypeOf(file));
            r.With("Cache-Control", "public, max-age=3600");
            return r;
          });
}

void AddWebRoutes(WebApp& app) {
  AddWebLoginRoutes(app);
  AddWebDashboardRoutes(app);
  AddWebEventRoutes(app);
  AddWebVulnRoutes(app);
  AddWebReportRoutes(app);
  AddWebAuditRoutes(app);
  AddWebAdminRoutes(app);
  AddWebAccountRoutes(app);
}

}  // namespace isms::net
