// The contract's dashboard:
//   GET /c/{contract}    what is breached, what is due in the next 14 days, what was met, each
//                        grouped by clause with Default and material Default first; who holds
//                        the contract; the latest events of the ledger (backdated ones marked).
//                        The part computed from the whole contract is kept (web_cache.h).
#include <algorithm>
#include <cctype>
#include <map>

#include "app/access.h"
#include "net/web_cache.h"
#include "net/web_pages.h"
#include "net/web_render.h"
#include "net/web_views.h"

namespace isms::net {

namespace {

constexpr auto kHorizon = std::chrono::days(14);
constexpr size_t kPerGroup = 10;
constexpr size_t kTimeline = 15;

// The obligations of one bucket grouped by clause: groups holding a material Default first,
// then Default, then by clause; each group's obligations most urgent first, `kPerGroup` shown.
nlohmann::json Groups(std::vector<const Obligation*> list, const std::string& contract,
                      Instant now, const std::string& id_prefix) {
  std::map<std::string, std::vector<const Obligation*>> by_clause;
  for (const Obligation* o : list) by_clause[o->clause].push_back(o);
  struct Group {
    std::string clause;
    int severity;
    std::vector<const Obligation*> items;
  };
  std::vector<Group> groups;
  for (auto& [clause, items] : by_clause) {
    std::sort(items.begin(), items.end(),
              [](const Obligation* a, const Obligation* b) { return MoreUrgent(*a, *b); });
    int sev = 2;
    for (const Obligation* o : items) sev = std::min(sev, web::Severity(*o));
    groups.push_back({clause, sev, std::move(items)});
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.severity != b.severity) return a.severity < b.severity;
    return web::ClauseLess(a.clause, b.clause);
  });
  nlohmann::json out = nlohmann::json::array();
  for (const Group& g : groups) {
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < g.items.size() && i < kPerGroup; ++i) {
      items.push_back(web::ObligationView(*g.items[i], contract, now));
    }
    std::string id = id_prefix;
    for (char ch : g.clause) id.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-');
    nlohmann::json jg = {{"clause", g.clause},
                         {"id", id},
                         {"count", g.items.size()},
                         {"items", items},
                         {"severity", g.severity == 0   ? "material-default"
                                      : g.severity == 1 ? "default"
                                                        : "breach"}};
    if (g.items.size() > kPerGroup) {
      jg["more"] = {{"count", g.items.size() - kPerGroup}};
      if (g.clause.rfind("9.", 0) == 0) jg["more"]["href"] = web::ContractPath(contract, "/vulns");
    }
    out.push_back(std::move(jg));
  }
  return {{"groups", out}};
}

// The part of the dashboard computed from the whole contract (web_cache.h): the obligations by
// bucket and clause, rendered, with their counts, and the latest events.
Result<nlohmann::json> ContractStatus(RequestContext& ctx, const app::ContractRecord& c) {
  app::Ledger& ledger = ctx.services.ledger();
  ISMS_ASSIGN_OR_RETURN(std::vector<Obligation> obligations, ledger.StatusOf(c.name, {}));
  Instant now = ctx.clock.Now();
  Instant horizon = now + kHorizon;
  std::vector<const Obligation*> breached, due, met, suspended;
  std::int64_t later = 0, no_due = 0, defaults = 0;
  for (const Obligation& o : obligations) {
    switch (o.state) {
      case ObligationState::kBreached:
        breached.push_back(&o);
        if (web::Severity(o) <= 1) ++defaults;
        break;
      case ObligationState::kOpen:
        if (!o.due_at) {
          ++no_due;
        } else if (*o.due_at <= horizon) {
          due.push_back(&o);
        } else {
          ++later;
        }
        break;
      case ObligationState::kMet:
      case ObligationState::kMetLate:
        met.push_back(&o);
        break;
      case ObligationState::kSuspended:
        suspended.push_back(&o);
        break;
      case ObligationState::kSuperseded:
        break;
    }
  }
  nlohmann::json d;
  d["now"] = web::LondonTime(now);
  d["counts"] = {{"breached", breached.size()},
                 {"defaults", defaults},
                 {"due", due.size()},
                 {"later", later},
                 {"no_due", no_due},
                 {"any_no_due", no_due > 0},
                 {"met", met.size()},
                 {"suspended", suspended.size()}};
  d["breached"] = Groups(breached, c.name, now, "breached-");
  d["due"] = Groups(due, c.name, now, "due-");
  d["met"] = Groups(met, c.name, now, "met-");
  d["suspended"] = Groups(suspended, c.name, now, "suspended-");
  d["has_breached"] = !breached.empty();
  d["has_due"] = !due.empty();
  d["has_met"] = !met.empty();
  d["has_suspended"] = !suspended.empty();
  d["has_later"] = later + no_due > 0;

  ISMS_ASSIGN_OR_RETURN(std::vector<app::EventView> events, ledger.ListEvents(c.name));
  nlohmann::json timeline = nlohmann::json::array();
  for (auto it = events.rbegin(); it != events.rend() && timeline.size() < kTimeline; ++it) {
    timeline.push_back(web::EventView(*it));
  }
  nlohmann::json t = {{"timeline", timeline},
                      {"has_timeline", !timeline.empty()},
                      {"event_count", events.size()},
                      {"contract_path", web::ContractPath(c.name)}};
  return nlohmann::json{{"status_html", web::Render("dashboard-status", d)},
                        {"timeline_html", web::Render("dashboard-timeline", t)},
                        {"now", d["now"]}};
}

HttpResponse Dashboard(RequestContext& ctx) {
  app::Ledger& ledger = ctx.services.ledger();
  Result<app::ContractRecord> c = ledger.FindContract(ctx.contract);
  if (!c.ok()) return web::StatusPage(ctx, c.status());
  Result<std::shared_ptr<const nlohmann::json>> status =
      web::Cached(ctx, ctx.contract, "dashboard", [&] { return ContractStatus(ctx, *c); });
  if (!status.ok()) return web::StatusPage(ctx, status.status());

  nlohmann::json d;
  d["section"] = "dashboard";
  d["contract"] = {{"name", c->name},
                   {"start", FormatDate(c->start)},
                   {"buyer", c->buyer},
                   {"supplier", c->supplier},
                   {"isms", c->bespoke_isms ? "bespoke" : "extant"},
                   {"policy", c->policy_toml.empty() ? "the schedule's defaults"
                                                     : "a policy varied for this contract"}};
  d["now"] = (**status)["now"];
  d["status_html"] = (**status)["status_html"];
  d["timeline_html"] = (**status)["timeline_html"];
  d["recorded"] = nullptr;
  if (std::optional<std::string> rec = ctx.req.Query("recorded")) {
    Result<std::vector<app::EventView>> events = ledger.ListEvents(ctx.contract);
    if (events.ok()) {
      for (const app::EventView& v : *events) {
        if (std::to_string(v.event.id) == *rec) d["recorded"] = web::EventView(v);
      }
    }
  }

  const app::Principal& p = *ctx.principal;
  d["can_record"] = app::Allowed(p.role, app::Action::kEventRecord) ||
                    app::Allowed(p.role, app::Action::kBuyerAct);
  d["people"] = nullptr;
  if (app::Allowed(p.role, app::Action::kGrantRead)) {
    Result<std::vector<app::GrantView>> grants = ctx.services.access->ListGrants(ctx.contract);
    if (grants.ok()) {
      nlohmann::json people = nlohmann::json::array();
      for (const app::GrantView& g : *grants) {
        people.push_back({{"user", g.user},
                          {"role", std::string(app::RoleKey(g.role))},
                          {"disabled", g.disabled},
                          {"since", web::LondonDay(g.granted_at)},
                          {"by", g.granted_by}});
      }
      d["people"] = {{"list", people}};
    }
  }
  return web::Page(ctx, "dashboard", "Contract " + c->name, d);
}

}  // namespace

void AddWebDashboardRoutes(WebApp& app) {
  app.Add({"GET", "/c/{contract}", RouteKind::kPage, RouteAuth::kUser, "contract.read",
           "The contract's dashboard: breached, due in 14 days, met; the latest events"},
          Dashboard);
}

}  // namespace isms::net
