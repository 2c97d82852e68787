// Vulnerabilities:
//   GET  /c/{contract}/vulns                  the findings, filtered (state, category, asset) and
//                                             paginated, under a chart of the open findings by
//                                             age against their 9.3 deadline (inline SVG)
//   GET  /c/{contract}/vulns/{finding}        a finding: its evidence, clocks, exceptions and
//                                             events, and the actions the user may record
//   GET  /c/{contract}/vulns/{finding}/record?type=T   the form of one of its events
//   POST /c/{contract}/vulns/{finding}/events records it (Vulnerabilities::RecordFindingEvent:
//                                             the checks and messages of `isms vuln ...`)
#include <algorithm>
#include <cmath>
#include <map>

#include "app/access.h"
#include "app/vulns.h"
#include "core/calendar.h"
#include "core/event_types.h"
#include "net/web_event_form.h"
#include "net/web_cache.h"
#include "net/web_pages.h"
#include "net/web_render.h"
#include "net/web_views.h"

namespace isms::net {

namespace {

constexpr const char* kStates[] = {"open",        "remediated", "not-exploitable", "not-affected",
                                   "observation", "own-code",   "all"};
constexpr const char* kCategories[] = {"Critical", "Important", "Other"};

nlohmann::json Option(const std::string& value, const std::string& label, const std::string& cur) {
  return {{"value", value}, {"label", label}, {"selected", value == cur}};
}

// The clock of an open finding, for the chart and the list: "overdue" (9.3 breached),
// "exception" (suspended, extended or agreed), "at-risk", "within", or "" without a clock.
std::string ClockClass(const app::FindingView& f) {
  if (f.obligation_state == "breached") return "overdue";
  if (f.obligation_state == "suspended" || !f.exception.empty()) return "exception";
  if (f.obligation_state.empty()) return "";
  if (f.at_risk) return "at-risk";
  return "within";
}

std::string ClockLabel(const std::string& cls) {
  if (cls == "overdue") return "overdue";
  if (cls == "exception") return "exception in force";
  if (cls == "at-risk") return "at risk";
  if (cls == "within") return "within timescale";
  return "no clock";
}

// The chart of open findings by age (days since the patch's public release) against their
// deadline: one band per category, columns of findings by age stacked by clock, and a dashed
// line at the band's usual deadline.
nlohmann::json AgeChart(const std::vector<app::FindingView>& open, Date today) {
  struct Item {
    int age;
    int deadline;  // -1 without a due date
    std::string cls;
  };
  std::map<std::string, std::vector<Item>> bands;
  std::int64_t no_release = 0;
  int max_x = 14;
  for (const app::FindingView& f : open) {
    if (f.state != "open") continue;
    if (!f.patch_released) {
      ++no_release;
      continue;
    }
    int age = static_cast<int>(
        (std::chrono::sys_days(today) - std::chrono::sys_days(*f.patch_released)).count());
    int deadline = f.due ? static_cast<int>((std::chrono::sys_days(*f.due) -
                                             std::chrono::sys_days(*f.patch_released))
                                                .count())
                         : -1;
    std::string cls = ClockClass(f);
    if (cls.empty()) cls = "within";
    bands[f.category].push_back({std::max(age, 0), deadline, cls});
    max_x = std::max({max_x, age, deadline});
  }
  nlohmann::json chart;
  chart["no_release"] = no_release;
  chart["any_no_release"] = no_release > 0;
  if (bands.empty()) {
    chart["show"] = false;
    return chart;
  }
  max_x = std::min(max_x, 365);
  int bucket = std::max(1, static_cast<int>(std::ceil(max_x / 30.0)));
  int columns = max_x / bucket + 1;
  const int left = 110, plot_w = 620, band_h = 80, gap = 34, top = 40;
  double col_w = static_cast<double>(plot_w) / columns;
  const char* order[] = {"overdue", "at-risk", "exception", "within"};
  nlohmann::json jbands = nlohmann::json::array();
  nlohmann::json table = nlohmann::json::array();
  int y0 = top;
  for (const char* category : kCategories) {
    auto it = bands.find(category);
    if (it == bands.end()) continue;
    std::map<int, std::map<std::string, int>> cols;
    std::map<int, int> deadlines;
    std::map<std::string, int> totals;
    for (const Item& i : it->second) {
      cols[std::min(i.age, max_x) / bucket][i.cls]++;
      if (i.deadline >= 0) deadlines[i.deadline]++;
      totals[i.cls]++;
    }
    int tallest = 1;
    for (auto& [c, m] : cols) {
      int n = 0;
      for (auto& [k, v] : m) n += v;
      tallest = std::max(tallest, n);
    }
    nlohmann::json rects = nlohmann::json::array();
    for (auto& [c, m] : cols) {
      double y = y0 + band_h;
      int from = c * bucket, to = c * bucket + bucket - 1;
      std::string range = bucket == 1 ? std::to_string(from) : std::to_string(from) + "-" + std::to_string(to);
      if (to >= max_x && max_x == 365) range = std::to_string(from) + "+";
      for (const char* cls : order) {
        auto n = m.find(cls);
        if (n == m.end()) continue;
        double h = static_cast<double>(n->second) * band_h / tallest;
        y -= h;
        char buf[32];
        nlohmann::json r;
        std::snprintf(buf, sizeof buf, "%.1f", left + c * col_w + 1);
        r["x"] = buf;
        std::snprintf(buf, sizeof buf, "%.1f", y);
        r["y"] = buf;
        std::snprintf(buf, sizeof buf, "%.1f", std::max(col_w - 2, 1.0));
        r["w"] = buf;
        std::snprintf(buf, sizeof buf, "%.1f", h);
        r["h"] = buf;
        r["cls"] = cls;
        r["tip"] = std::string(category) + ", " + range + " days since the patch's release: " +
                   std::to_string(n->second) + " " + ClockLabel(cls);
        rects.push_back(std::move(r));
      }
    }
    nlohmann::json band = {{"label", category},
                           {"label_y", y0 + band_h / 2 + 4},
                           {"base_y", y0 + band_h},
                           {"top_y", y0},
                           {"rects", rects},
                           {"count", it->second.size()},
                           {"tallest", tallest},
                           {"tallest_y", y0 + 10}};
    if (!deadlines.empty()) {
      auto usual = std::max_element(deadlines.begin(), deadlines.end(),
                                    [](auto& a, auto& b) { return a.second < b.second; });
      int dx = std::min(usual->first, max_x);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", left + (static_cast<double>(dx) / bucket) * col_w);
      band["deadline"] = {{"x", buf},
                          {"days", usual->first},
                          {"y1", y0 - 4},
                          {"y2", y0 + band_h},
                          {"label_y", y0 - 6}};
    }
    jbands.push_back(std::move(band));
    table.push_back({{"category", category},
                     {"overdue", totals["overdue"]},
                     {"at_risk", totals["at-risk"]},
                     {"exception", totals["exception"]},
                     {"within", totals["within"]}});
    y0 += band_h + gap;
  }
  nlohmann::json ticks = nlohmann::json::array();
  int step = max_x <= 30 ? 7 : max_x <= 90 ? 14 : max_x <= 180 ? 30 : 60;
  for (int d = 0; d <= max_x; d += step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", left + (static_cast<double>(d) / bucket) * col_w);
    ticks.push_back({{"x", buf}, {"label", std::to_string(d)}});
  }
  chart["show"] = true;
  chart["bands"] = jbands;
  chart["ticks"] = ticks;
  chart["table"] = table;
  chart["width"] = left + plot_w + 20;
  chart["height"] = y0 + 10;
  chart["axis_y"] = y0 - gap + 16;
  chart["left"] = left;
  chart["right"] = left + plot_w;
  chart["bottom"] = y0 - gap;
  chart["bucket"] = bucket;
  return chart;
}

nlohmann::json FindingRow(const app::FindingView& f, const std::string& contract) {
  std::string cls = f.state == "open" ? ClockClass(f) : "";
  nlohmann::json j = {{"id", f.id},
                      {"href", web::ContractPath(contract, "/vulns/" + PercentEncode(f.id))},
                      {"category", f.category},
                      {"asset", f.asset},
                      {"vuln_id", f.vuln_id},
                      {"title", f.title},
                      {"component", f.component},
                      {"state", f.state},
                      {"clock", cls.empty() ? "" : ClockLabel(cls)},
                      {"clock_class", cls},
                      {"exception", f.exception},
                      {"first_seen", web::LondonDay(f.first_seen)},
                      {"released", nullptr},
                      {"assumed", false},
                      {"due", nullptr}};
  if (f.patch_released) {
    j["released"] = FormatDate(*f.patch_released);
    j["assumed"] = f.patch_released_assumed;
  }
  if (f.due) j["due"] = FormatDate(*f.due);
  return j;
}

// What the list page computes from every finding of the filter (web_cache.h): how many there
// are, the chart of the open ones (rendered), the assets to filter by.
Result<nlohmann::json> VulnSummary(RequestContext& ctx, const app::FindingFilter& filter) {
  app::Vulnerabilities vulns(ctx.services.ledger());
  ISMS_ASSIGN_OR_RETURN(std::vector<app::FindingView> list, vulns.List(ctx.contract, filter));
  std::vector<app::FindingView> open_store;
  const std::vector<app::FindingView>* open = &list;
  if (filter.state != "open") {
    app::FindingFilter of = filter;
    of.state = "open";
    ISMS_ASSIGN_OR_RETURN(open_store, vulns.List(ctx.contract, of));
    open = &open_store;
  }
  nlohmann::json assets = nlohmann::json::array();
  ISMS_ASSIGN_OR_RETURN(std::vector<app::AssetView> a, vulns.Assets(ctx.contract));
  for (const app::AssetView& v : a) assets.push_back(v.name);
  nlohmann::json chart = AgeChart(*open, LondonDate(ctx.clock.Now()));
  return nlohmann::json{{"total", list.size()},
                        {"chart_html", web::Render("vulns-chart", {{"chart", chart}})},
                        {"assets", assets}};
}

HttpResponse VulnList(RequestContext& ctx) {
  Result<PageRequest> page = ParsePage(ctx.req);
  if (!page.ok()) return web::StatusPage(ctx, page.status());
  app::FindingFilter filter;
  filter.state = ctx.req.Query("state").value_or("open");
  if (filter.state.empty()) filter.state = "open";
  filter.category = ctx.req.Query("category").value_or("");
  filter.asset = ctx.req.Query("asset").value_or("");
  app::Vulnerabilities vulns(ctx.services.ledger());
  // The page's findings: the list stops once it has them.
  app::FindingFilter first = filter;
  first.limit = page->offset + page->limit;
  Result<std::vector<app::FindingView>> list = vulns.List(ctx.contract, first);
  if (!list.ok()) return web::StatusPage(ctx, list.status());
  std::string kind = "vulns\n" + filter.state + "\n" + filter.category + "\n" + filter.asset;
  Result<std::shared_ptr<const nlohmann::json>> summary =
      web::Cached(ctx, ctx.contract, kind, [&] { return VulnSummary(ctx, filter); });
  if (!summary.ok()) return web::StatusPage(ctx, summary.status());
  const nlohmann::json& sum = **summary;

  nlohmann::json rows = nlohmann::json::array();
  std::int64_t total = sum["total"].get<std::int64_t>();
  for (std::int64_t i = page->offset; i < static_cast<std::int64_t>(list->size()); ++i) {
    rows.push_back(FindingRow((*list)[static_cast<size_t>(i)], ctx.contract));
  }
  nlohmann::json states = nlohmann::json::array();
  for (const char* s : kStates) states.push_back(Option(s, s, filter.state));
  nlohmann::json categories = nlohmann::json::array();
  categories.push_back(Option("", "any", filter.category));
  for (const char* c : kCategories) categories.push_back(Option(c, c, filter.category));
  nlohmann::json assets = nlohmann::json::array();
  assets.push_back(Option("", "any", filter.asset));
  for (const auto& a : sum["assets"]) {
    assets.push_back(Option(a.get<std::string>(), a.get<std::string>(), filter.asset));
  }
  nlohmann::json d = {{"section", "vulns"},
                      {"rows", rows},
                      {"has_rows", !rows.empty()},
                      {"total", total},
                      {"from", page->offset + 1},
                      {"to", page->offset + static_cast<std::int64_t>(rows.size())},
                      {"states", states},
                      {"categories", categories},
                      {"assets", assets},
                      {"state", filter.state},
                      {"chart_html", sum["chart_html"]},
                      {"next", nullptr},
                      {"prev", nullptr}};
  auto query = [&](std::int64_t offset) {
    std::string q = "?state=" + PercentEncode(filter.state);
    if (!filter.category.empty()) q += "&category=" + PercentEncode(filter.category);
    if (!filter.asset.empty()) q += "&asset=" + PercentEncode(filter.asset);
    q += "&limit=" + std::to_string(page->limit);
    if (offset > 0) q += "&cursor=" + NextCursor(offset - page->limit, page->limit);
    return web::ContractPath(ctx.contract, "/vulns" + q);
  };
  if (page->offset + page->limit < total) d["next"] = query(page->offset + page->limit);
  if (page->offset > 0) d["prev"] = query(std::max<std::int64_t>(0, page->offset - page->limit));
  return web::Page(ctx, "vulns", "Vulnerabilities", d);
}

// The finding `id` of the page's contract; the same NotFound for one of another contract as for
// one that does not exist.
Result<app::FindingView> FindingOf(RequestContext& ctx, const std::string& id) {
  app::Vulnerabilities vulns(ctx.services.ledger());
  Result<app::FindingView> f = vulns.Show(id);
  if (!f.ok() || f->contract != ctx.contract) {
    if (!f.ok() && f.status().code() != StatusCode::kNotFound &&
        f.status().code() != StatusCode::kInvalidArgument) {
      return f.status();
    }
    return Status::NotFound("contract " + ctx.contract + " has no finding '" + id +
                            "': the list of vulnerabilities shows them");
  }
  return f;
}

// The finding's event types the user may record.
nlohmann::json FindingActions(const RequestContext& ctx, const std::string& id) {
  const app::Principal& p = *ctx.principal;
  nlohmann::json out = nlohmann::json::array();
  for (const EventType& t : EventTypes()) {
    if (t.stream != StreamFamily::kVuln) continue;
    if (!app::Allowed(p.role, app::EventAction(p.role, t))) continue;
    out.push_back({{"type", std::string(t.name)},
                   {"description", std::string(t.description)},
                   {"buyer_act", t.buyer_act},
                   {"href", web::ContractPath(ctx.contract, "/vulns/" + PercentEncode(id) +
                                                            "/record?type=" + std::string(t.name))}});
  }
  return out;
}

HttpResponse FindingPage(RequestContext& ctx) {
  std::string id(ctx.Param("finding"));
  Result<app::FindingView> f = FindingOf(ctx, id);
  if (!f.ok()) return web::StatusPage(ctx, f.status());
  Instant now = ctx.clock.Now();
  nlohmann::json j = FindingRow(*f, ctx.contract);
  std::string cves;
  for (const std::string& c : f->cves) cves += (cves.empty() ? "" : ", ") + c;
  j["cves"] = cves;
  j["scanner"] = f->scanner;
  j["scan_type"] = f->scan_type;
  j["check_id"] = f->check_id;
  j["port"] = f->port;
  j["kind"] = f->kind;
  j["category_source"] = f->category_source;
  j["score"] = nullptr;
  j["remediated"] = nullptr;
  if (f->base_score) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", *f->base_score);
    j["score"] = buf;
  }
  j["cvss_vector"] = f->cvss_vector;
  j["fix"] = f->fix_available ? (f->fixed_version.empty() ? "available"
                                                          : "available: " + f->fixed_version)
                              : "none known";
  j["release_source"] = f->patch_release_source;
  j["last_seen"] = web::LondonTime(f->last_seen);
  j["first_seen_time"] = web::LondonTime(f->first_seen);
  if (f->remediated_at) {
    j["remediated"] = web::LondonTime(*f->remediated_at) +
                      (f->remediated_by.empty() ? "" : " (" + f->remediated_by + ")");
  }
  j["statement"] = f->statement;
  j["justification"] = f->justification;
  j["at_risk"] = f->at_risk;
  nlohmann::json obligations = nlohmann::json::array();
  for (const Obligation& o : f->obligations) {
    obligations.push_back(web::ObligationView(o, ctx.contract, now));
  }
  nlohmann::json timeline = nlohmann::json::array();
  Result<std::vector<app::EventView>> events = ctx.services.ledger().ListEvents(ctx.contract);
  if (!events.ok()) return web::StatusPage(ctx, events.status());
  for (auto it = events->rbegin(); it != events->rend(); ++it) {
    if (it->event.subject != f->id) continue;
    const EventType* t = FindEventType(it->event.type);
    bool mine = t && t->stream == StreamFamily::kVuln;
    if (it->event.type == "event.retracted") {
      std::optional<std::string_view> target = it->event.Attr("type");
      const EventType* tt = target ? FindEventType(*target) : nullptr;
      mine = tt && tt->stream == StreamFamily::kVuln;
    }
    if (mine) timeline.push_back(web::EventView(*it));
  }
  nlohmann::json actions = FindingActions(ctx, f->id);
  nlohmann::json d = {{"section", "vulns"},
                      {"f", j},
                      {"obligations", obligations},
                      {"has_obligations", !obligations.empty()},
                      {"timeline", timeline},
                      {"has_timeline", !timeline.empty()},
                      {"actions", actions},
                      {"has_actions", !actions.empty()}};
  if (std::optional<std::string> rec = ctx.req.Query("recorded")) {
    for (const app::EventView& v : *events) {
      if (std::to_string(v.event.id) == *rec) d["recorded"] = web::EventView(v);
    }
  }
  return web::Page(ctx, "finding", "Finding " + f->id, d);
}

// The finding's event type `name` when the user may record it on this finding.
Result<const EventType*> FindingEventType(RequestContext& ctx, const std::string& name) {
  const EventType* t = FindEventType(name);
  if (t == nullptr || t->stream != StreamFamily::kVuln) {
    return Status::NotFound("'" + name + "' is not an event of a finding");
  }
  ISMS_RETURN_IF_ERROR(ctx.Check(app::EventAction(ctx.principal->role, *t), ctx.contract));
  return t;
}

web::EventFormTarget FindingTarget(const RequestContext& ctx, const std::string& id) {
  std::string base = web::ContractPath(ctx.contract, "/vulns/" + PercentEncode(id));
  return {base + "/events", id, base, "Back to the finding"};
}

HttpResponse FindingEventForm(RequestContext& ctx) {
  std::string id(ctx.Param("finding"));
  Result<app::FindingView> f = FindingOf(ctx, id);
  if (!f.ok()) return web::StatusPage(ctx, f.status());
  Result<const EventType*> t = FindingEventType(ctx, ctx.req.Query("type").value_or(""));
  if (!t.ok()) return web::StatusPage(ctx, t.status());
  return web::EventFormPage(ctx, **t, FindingTarget(ctx, f->id), {}, "", 200);
}

HttpResponse RecordFindingEvent(RequestContext& ctx) {
  if (Status held = ctx.Check(app::Action::kVulnRead, ctx.contract); !held.ok()) {
    return web::StatusPage(ctx, held);
  }
  std::string id(ctx.Param("finding"));
  Result<app::FindingView> f = FindingOf(ctx, id);
  if (!f.ok()) return web::StatusPage(ctx, f.status());
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  Result<const EventType*> t = FindingEventType(ctx, form->Get("type"));
  if (!t.ok()) return web::StatusPage(ctx, t.status());
  web::EventFormTarget target = FindingTarget(ctx, f->id);
  web::EventFormValues v = web::ReadEventForm(ctx, *form, **t);
  v.subject = f->id;
  Result<app::NewEvent> e = web::ToNewEvent(ctx.contract, **t, v);
  if (!e.ok()) return web::EventFormPage(ctx, **t, target, v, e.status().message(), 400);
  app::Vulnerabilities vulns(ctx.services.ledger());
  Result<Event> r = vulns.RecordFindingEvent(f->id, *e, ctx.Actor());
  if (!r.ok()) {
    return web::EventFormPage(ctx, **t, target, v, r.status().message(),
                              HttpStatusOf(r.status().code()));
  }
  web::SealLedger(ctx, *r);
  return HttpResponse::Redirect(target.back_href + "?recorded=" + std::to_string(r->id));
}

}  // namespace

void AddWebVulnRoutes(WebApp& app) {
  app.Add({"GET", "/c/{contract}/vulns", RouteKind::kPage, RouteAuth::kUser, "vuln.read",
           "The findings, filtered and paginated, with the chart of open findings by age"},
          VulnList);
  app.Add({"GET", "/c/{contract}/vulns/{finding}", RouteKind::kPage, RouteAuth::kUser,
           "vuln.read", "A finding: evidence, clocks, exceptions, events"},
          FindingPage);
  app.Add({"GET", "/c/{contract}/vulns/{finding}/record", RouteKind::kPage, RouteAuth::kUser,
           "vuln.read", "The form of one of a finding's events"},
          FindingEventForm);
  app.Add({"POST", "/c/{contract}/vulns/{finding}/events", RouteKind::kPage, RouteAuth::kUser, "",
           "Record an event of a finding (the action depends on its type)"},
          RecordFindingEvent);
}

}  // namespace isms::net
