// The user's own account (docs/web.md "Account"), for every role:
//   GET  /account                       the account: role, contracts, second factor, API tokens
//   POST /account/password              change the password (current one + new one twice)
//   POST /account/totp/new              propose a new second factor: its secret and otpauth:// URI
//   POST /account/totp                  enrol it, once a first one-time code of it is given
//   POST /account/tokens                create an API token (shown once, on this response only)
//   POST /account/tokens/{id}/revoke    revoke one of the user's tokens
// The checks are app::Access's self-service functions (access_self.cc): every change proves the
// current password under the log-in throttling; a proposed secret is stored only when confirmed.
// Each change is an access record in the store's access log and the logs of the user's
// contracts, as `isms user ...` and `isms token ...` write them. Pages that show a secret are
// never cached.
#include <algorithm>

#include "app/access.h"
#include "core/totp.h"
#include "net/web_pages.h"
#include "net/web_render.h"

namespace isms::net {

namespace {

struct Shown {
  std::string error;
  std::string done;
  std::optional<app::TotpEnrolment> totp;  // proposed, to confirm
  std::optional<app::NewToken> token;      // just created
  std::string note;                        // the token form's note, kept on an error
  std::string expires;
};

HttpResponse AccountPage(RequestContext& ctx, int status, const Shown& s) {
  app::Access& access = *ctx.services.access;
  Result<app::UserView> me = access.FindUser(ctx.principal->name);
  if (!me.ok()) return web::StatusPage(ctx, me.status());
  Result<std::vector<app::TokenView>> tokens = access.ListTokens(me->name);
  if (!tokens.ok()) return web::StatusPage(ctx, tokens.status());
  const Instant now = ctx.clock.Now();
  nlohmann::json list = nlohmann::json::array();
  for (const app::TokenView& t : *tokens) {
    std::string state = t.revoked_at                ? "revoked " + web::LondonTime(*t.revoked_at)
                        : t.expires_at <= now ? "expired"
                                              : "active";
    list.push_back({{"id", t.id},
                    {"note", t.note},
                    {"created", web::LondonTime(t.created_at)},
                    {"created_by", t.created_by},
                    {"expires", web::LondonTime(t.expires_at)},
                    {"last_used", t.last_used_at ? web::LondonTime(*t.last_used_at) : "never"},
                    {"state", state},
                    {"revoke", !t.revoked_at && t.expires_at > now
                                   ? "/account/tokens/" + std::to_string(t.id) + "/revoke"
                                   : ""}});
  }
  nlohmann::json contracts = nlohmann::json::array();
  for (const std::string& c : me->contracts) contracts.push_back(c);
  nlohmann::json d = {{"name", me->name},
                      {"role", std::string(app::RoleKey(me->role))},
                      {"contracts", contracts},
                      {"has_contracts", !contracts.empty()},
                      {"has_password", me->has_password},
                      {"totp", me->totp},
                      {"tokens", list},
                      {"has_tokens", !list.empty()},
                      {"error", s.error},
                      {"done", s.done},
                      {"note", s.note},
                      {"expires", s.expires},
                      {"proposed", nullptr},
                      {"new_token", nullptr},
                      {"no_contract_nav", true}};
  if (s.totp) d["proposed"] = {{"secret", s.totp->secret}, {"uri", s.totp->uri}};
  if (s.token) {
    d["new_token"] = {{"id", s.token->id},
                      {"token", s.token->token},
                      {"expires", web::LondonTime(s.token->expires_at)}};
  }
  HttpResponse r = web::Page(ctx, "account", "Your account", d, status);
  r.With("Cache-Control", "no-store");
  return r;
}

std::string DoneText(const std::string& done) {
  if (done == "password") return "Changed your password: your other sessions ended.";
  if (done == "totp") return "Enrolled the new second factor: log in with its codes from now on.";
  if (done == "revoked") return "Revoked the API token.";
  return "";
}

HttpResponse Show(RequestContext& ctx) {
  Shown s;
  s.done = DoneText(ctx.req.Query("done").value_or(""));
  return AccountPage(ctx, 200, s);
}

// The first value of a field exactly as typed (passwords keep their spaces).
std::string Raw(const web::Form& form, std::string_view name) {
  for (const auto& [k, v] : form.fields()) {
    if (k == name) return v;
  }
  return "";
}

HttpResponse Refused(RequestContext& ctx, const Status& st, Shown s = {}) {
  s.error = st.message();
  return AccountPage(ctx, HttpStatusOf(st.code()), s);
}

std::vector<std::string> MyContracts(RequestContext& ctx) {
  Result<app::UserView> u = ctx.services.access->FindUser(ctx.principal->name);
  return u.ok() ? u->contracts : std::vector<std::string>{};
}

HttpResponse ChangePassword(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  std::string password = Raw(*form, "password");
  Status st = password == Raw(*form, "password2")
                  ? ctx.services.access->ChangeOwnPassword(*ctx.principal, Raw(*form, "current"),
                                                           password, ctx.req.remote)
                  : Status::InvalidArgument("the two passwords differ: nothing was changed");
  const std::string me = ctx.principal->name;
  ctx.RecordChange("user.password", "user " + me, st, MyContracts(ctx), "own password");
  if (!st.ok()) return Refused(ctx, st);
  // Every session of the user ended with the change; this browser goes on in a new one.
  if (!ctx.session) return HttpResponse::Redirect("/account?done=password");
  Result<app::NewSession> s = ctx.services.access->CreateSession(*ctx.principal, ctx.req.remote);
  if (!s.ok()) return HttpResponse::Redirect("/login?next=%2Faccount");
  auto max_age = std::chrono::duration_cast<std::chrono::seconds>(
      ctx.services.access->options().session_absolute);
  HttpResponse r = HttpResponse::Redirect("/account?done=password");
  r.With("Set-Cookie", ctx.app.SessionCookie(s->session_id, max_age));
  return r;
}

HttpResponse ProposeTotp(RequestContext& ctx) {
  Result<app::TotpEnrolment> t = ctx.services.access->ProposeTotp(*ctx.principal);
  if (!t.ok()) return Refused(ctx, t.status());
  ctx.Note("a new second factor proposed, not yet enrolled");
  Shown s;
  s.totp = *t;
  return AccountPage(ctx, 200, s);
}

HttpResponse ConfirmTotp(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  std::string secret = form->Get("secret");
  Status st = ctx.services.access->ConfirmTotp(*ctx.principal, Raw(*form, "current"), secret,
                                               form->Get("code"), ctx.req.remote);
  const std::string me = ctx.principal->name;
  ctx.RecordChange("user.totp", "user " + me, st, MyContracts(ctx), "own second factor");
  if (!st.ok()) {
    Shown s;
    // The same proposal stays on the page to try again with a fresh code.
    Result<std::string> key = Base32Decode(secret);
    if (st.code() != StatusCode::kUnavailable && key.ok() && key->size() == 20) {
      s.totp = app::TotpEnrolment{
          secret, OtpauthUri(ctx.services.access->options().totp_issuer, me, secret, TotpParams{})};
    }
    return Refused(ctx, st, s);
  }
  return HttpResponse::Redirect("/account?done=totp");
}

HttpResponse CreateToken(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  Shown s;
  s.note = form->Get("note");
  s.expires = form->Get("expires");
  const std::string me = ctx.principal->name;
  Result<Instant> at = web::ParseWhen("expires", s.expires, /*end_of_day=*/true);
  Result<app::NewToken> t = at.ok() ? ctx.services.access->CreateToken(me, *at, s.note, ctx.Actor())
                                     : Result<app::NewToken>(at.status());
  ctx.RecordChange("token.create",
                   "token " + (t.ok() ? std::to_string(t->id) : std::string("-")) + " of " + me,
                   t.status(), MyContracts(ctx),
                   at.ok() ? "expires " + FormatInstant(*at) : std::string());
  if (!t.ok()) return Refused(ctx, t.status(), s);
  Shown shown;
  shown.token = *t;
  return AccountPage(ctx, 201, shown);
}

HttpResponse RevokeToken(RequestContext& ctx) {
  std::string text(ctx.Param("id"));
  bool digits = !text.empty() && text.size() < 18;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  Status st = digits ? ctx.services.access->RevokeOwnToken(*ctx.principal, std::stoll(text))
                     : Status::InvalidArgument("'" + text + "' is not a token number");
  const std::string me = ctx.principal->name;
  ctx.RecordChange("token.revoke", "token " + text + " of " + me, st, MyContracts(ctx));
  if (!st.ok()) return Refused(ctx, st);
  return HttpResponse::Redirect("/account?done=revoked");
}

}  // namespace

void AddWebAccountRoutes(WebApp& app) {
  app.Add({"GET", "/account", RouteKind::kPage, RouteAuth::kUser, "",
           "The user's own account: password, second factor, API tokens"},
          Show);
  app.Add({"POST", "/account/password", RouteKind::kPage, RouteAuth::kUser, "",
           "Change one's own password"},
          ChangePassword);
  app.Add({"POST", "/account/totp/new", RouteKind::kPage, RouteAuth::kUser, "",
           "Propose a new second factor (not yet enrolled)"},
          ProposeTotp);
  app.Add({"POST", "/account/totp", RouteKind::kPage, RouteAuth::kUser, "",
           "Enrol one's own second factor, given its first one-time code"},
          ConfirmTotp);
  app.Add({"POST", "/account/tokens", RouteKind::kPage, RouteAuth::kUser, "",
           "Create one's own API token (shown once)"},
          CreateToken);
  app.Add({"POST", "/account/tokens/{id}/revoke", RouteKind::kPage, RouteAuth::kUser, "",
           "Revoke one's own API token"},
          RevokeToken);
}

}  // namespace isms::net
