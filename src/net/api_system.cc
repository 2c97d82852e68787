// The routes every deployment needs whatever else it serves:
//   GET /healthz               public; 200 {"status":"ok"} when the store answers, else 503
//   GET /metrics               Prometheus text; from a loopback address, or with a user
//   GET /api/v1/me             the caller: name, role, contracts it may see
#include <nlohmann/json.hpp>

#include "net/api_routes.h"
#include "net/routes.h"

namespace isms::net {

namespace {

bool Loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address.rfind("127.", 0) == 0 ||
         address == "::ffff:127.0.0.1";
}

}  // namespace

void AddSystemRoutes(WebApp& app) {
  app.Add({"GET", "/healthz", RouteKind::kApi, RouteAuth::kPublic, "",
           "Health: 200 when the server and its store answer"},
          [](RequestContext& ctx) {
            ctx.audit_skip = true;
            Result<std::vector<app::ContractRecord>> contracts =
                ctx.services.ledger().ListContracts();
            if (!contracts.ok()) {
              return HttpResponse::Error(503, "unavailable", "the store does not answer");
            }
            return HttpResponse::Json(200, "{\"status\":\"ok\"}\n");
          });
  app.Add({"GET", "/metrics", RouteKind::kApi, RouteAuth::kPublic, "",
           "Prometheus metrics (from a loopback address, or with a user)"},
          [](RequestContext& ctx) {
            if (!ctx.principal && !Loopback(ctx.req.remote)) {
              return HttpResponse::Error(401, "unauthenticated",
                                         "metrics are served to loopback clients and to users "
                                         "logged in or with a token");
            }
            ctx.audit_skip = !ctx.principal.has_value();
            return HttpResponse::Text(200, ctx.app.MetricsText(),
                                      "text/plain; version=0.0.4; charset=utf-8");
          });
  app.Add({"GET", "/api/v1/me", RouteKind::kApi, RouteAuth::kUser, "",
           "The caller: its name, role and the contracts it may see"},
          [](RequestContext& ctx) {
            Result<std::vector<std::string>> visible =
                ctx.services.access->VisibleContracts(*ctx.principal);
            if (!visible.ok()) return ErrorResponse(visible.status());
            nlohmann::json j = {{"name", ctx.principal->name},
                                {"role", std::string(app::RoleKey(ctx.principal->role))},
                                {"via", ctx.principal->via},
                                {"contracts", *visible}};
            if (ctx.session) j["csrf_token"] = ctx.session->csrf_token;
            return HttpResponse::Json(200, j.dump() + "\n");
          });
}

void AddAllRoutes(WebApp& app) {
  AddSystemRoutes(app);
  AddWebRoutes(app);
}

}  // namespace isms::net
