// The routes every deployment needs whatever else it serves:
//   GET /healthz               public; 200 {"status":"ok"} when the store answers, else 503
//   GET /metrics               Prometheus text; from a loopback address, or with a user
//   GET /api/v1/me             the caller: name, role, contracts it may see
#include <map>
#include <nlohmann/json.hpp>

#include "net/api_routes.h"
#include "net/routes.h"

namespace isms::net {

namespace {

bool Loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address.rfind("127.", 0) == 0 ||
         address == "::ffff:127.0.0.1";
}

// A Prometheus label value: backslash, double quote and line feed escaped.
std::string LabelValue(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// Obligations by contract and state, from the projection (brought up to date first). A user
// sees the contracts it may; a loopback client without a user, every contract.
std::string ObligationMetrics(RequestContext& ctx) {
  std::vector<std::string> names;
  if (ctx.principal) {
    if (ctx.principal->role == app::Role::kAdmin) return {};  // an admin reads no contract data
    names = ctx.principal->contracts;
  } else {
    Result<std::vector<app::ContractRecord>> all = ctx.services.ledger().ListContracts();
    if (!all.ok()) return {};
    for (const app::ContractRecord& c : *all) names.push_back(c.name);
  }
  std::string out =
      "# HELP isms_obligations Obligations of each contract by state, as the status shows them.\n"
      "# TYPE isms_obligations gauge\n";
  for (const std::string& name : names) {
    Result<std::vector<app::StatusCount>> counts = ctx.services.ledger().Summary(name);
    if (!counts.ok()) continue;
    std::map<std::string, std::int64_t> by_state;
    for (const app::StatusCount& c : *counts) {
      by_state[std::string(ObligationStateName(c.state))] += c.count;
    }
    for (const auto& [state, n] : by_state) {
      out += "isms_obligations{contract=\"" + LabelValue(name) + "\",state=\"" + state + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  return out;
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
            return HttpResponse::Text(200, ctx.app.MetricsText() + ObligationMetrics(ctx),
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
  AddApiRoutes(app);
  AddWebRoutes(app);
}

}  // namespace isms::net
