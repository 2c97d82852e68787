// The monthly vulnerability report (9.5.5):
//   GET  /c/{contract}/reports                      choose a Month; the reports issued so far
//   GET  /c/{contract}/reports/{month}              the Month's report in figures, its issued
//                                                   versions, the downloads, the issue button
//   GET  /c/{contract}/reports/{month}/{file}       preview.html|csv|json (as of now) or
//                                                   issued.html|json (the frozen bytes; ?at= an
//                                                   issue instant, default the latest); with
//                                                   ?download=1 as an attachment
//   POST /c/{contract}/reports/{month}/issue        Reports::Issue: renders, freezes and records
//                                                   report.submitted (meets 9.5.5)
#include "app/access.h"
#include "app/report.h"
#include "core/calendar.h"
#include "net/web_event_form.h"
#include "net/web_pages.h"
#include "net/web_render.h"
#include "net/web_views.h"

namespace isms::net {

namespace {

struct Issued {
  std::int64_t event_id;
  std::string month, at, at_iso, actor, sha256;
};

// The reports issued, newest first, from the ledger's report.submitted events.
Result<std::vector<Issued>> IssuedReports(RequestContext& ctx, const std::string& month) {
  ISMS_ASSIGN_OR_RETURN(std::vector<app::EventView> events,
                        ctx.services.ledger().ListEvents(ctx.contract));
  std::vector<Issued> out;
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    const Event& e = it->event;
    if (e.type != "report.submitted") continue;
    std::string m(e.Attr("month").value_or(""));
    if (!month.empty() && m != month) continue;
    out.push_back({e.id, m, web::LondonTime(e.at), FormatInstant(e.at), e.actor,
                   std::string(e.Attr("sha256").value_or(""))});
  }
  return out;
}

nlohmann::json IssuedJson(const std::vector<Issued>& list, const std::string& contract) {
  nlohmann::json out = nlohmann::json::array();
  for (const Issued& i : list) {
    std::string base = web::ContractPath(contract, "/reports/" + i.month);
    std::string at = "?at=" + PercentEncode(i.at_iso);
    out.push_back({{"event", i.event_id},
                   {"month", i.month},
                   {"month_href", base},
                   {"at", i.at},
                   {"actor", i.actor},
                   {"sha256", i.sha256},
                   {"html", base + "/issued.html" + at},
                   {"html_download", base + "/issued.html" + at + "&download=1"},
                   {"json_download", base + "/issued.json" + at + "&download=1"}});
  }
  return out;
}

std::string PreviousMonth(Instant now) {
  Date d = LondonDate(now);
  std::chrono::year_month ym = d.year() / d.month();
  ym -= std::chrono::months(1);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return buf;
}

HttpResponse ReportIndex(RequestContext& ctx) {
  if (std::optional<std::string> m = ctx.req.Query("month"); m && !m->empty()) {
    Result<Date> first = app::ParseMonth(*m);
    if (!first.ok()) return web::StatusPage(ctx, first.status());
    return HttpResponse::Redirect(web::ContractPath(ctx.contract, "/reports/" + *m));
  }
  Result<std::vector<Issued>> issued = IssuedReports(ctx, "");
  if (!issued.ok()) return web::StatusPage(ctx, issued.status());
  nlohmann::json d = {{"section", "reports"},
                      {"month", PreviousMonth(ctx.clock.Now())},
                      {"issued", IssuedJson(*issued, ctx.contract)},
                      {"has_issued", !issued->empty()}};
  return web::Page(ctx, "reports", "Monthly reports", d);
}

HttpResponse ReportMonth(RequestContext& ctx) {
  std::string month(ctx.Param("month"));
  app::Reports reports(ctx.services.ledger(), ctx.services.audit.get());
  Result<app::MonthlyReport> r = reports.Build({ctx.contract, month, std::nullopt});
  if (!r.ok()) return web::StatusPage(ctx, r.status());
  Result<std::vector<Issued>> issued = IssuedReports(ctx, month);
  if (!issued.ok()) return web::StatusPage(ctx, issued.status());
  nlohmann::json totals = nlohmann::json::array();
  for (const app::CategoryTotals& t : r->totals) {
    totals.push_back({{"category", t.category},
                      {"patched_within", t.patched_within},
                      {"patched_late", t.patched_late},
                      {"outstanding_within", t.outstanding_within},
                      {"outstanding_overdue", t.outstanding_overdue}});
  }
  std::string base = web::ContractPath(ctx.contract, "/reports/" + month);
  nlohmann::json d = {{"section", "reports"},
                      {"month", month},
                      {"first_day", FormatDate(r->first_day)},
                      {"last_day", FormatDate(r->last_day)},
                      {"month_ended", r->month_ended},
                      {"totals", totals},
                      {"patched", r->patched.size()},
                      {"outstanding", r->outstanding.size()},
                      {"breached", r->breached.size()},
                      {"preview_html", base + "/preview.html"},
                      {"downloads",
                       {{"html", base + "/preview.html?download=1"},
                        {"csv", base + "/preview.csv?download=1"},
                        {"json", base + "/preview.json?download=1"}}},
                      {"issued", IssuedJson(*issued, ctx.contract)},
                      {"has_issued", !issued->empty()},
                      {"issue_action", base + "/issue"},
                      {"just_issued", ctx.req.Query("issued").has_value()}};
  if (r->report_due) d["report_due"] = FormatDate(*r->report_due);
  nlohmann::json caveats = nlohmann::json::array();
  for (const std::string& c : r->caveats) caveats.push_back(c);
  d["has_caveats"] = !caveats.empty();
  d["caveats"] = caveats;
  d["can_issue"] = app::Allowed(ctx.principal->role, app::Action::kReportIssue);
  return web::Page(ctx, "report", "Monthly report " + month, d);
}

HttpResponse ReportFile(RequestContext& ctx) {
  std::string month(ctx.Param("month"));
  std::string file(ctx.Param("file"));
  bool download = ctx.req.Query("download").has_value();
  std::string name = ctx.contract + "-report-" + month;
  app::Reports reports(ctx.services.ledger(), ctx.services.audit.get());
  std::string body, type, ext;
  if (file == "preview.html" || file == "preview.csv" || file == "preview.json") {
    Result<app::MonthlyReport> r = reports.Build({ctx.contract, month, std::nullopt});
    if (!r.ok()) return web::StatusPage(ctx, r.status());
    ext = file.substr(8);
    if (ext == "html") {
      Result<std::string> html = app::RenderReportHtml(*r);
      if (!html.ok()) return web::StatusPage(ctx, html.status());
      body = std::move(*html);
      type = "text/html; charset=utf-8";
    } else if (ext == "csv") {
      body = app::RenderReportCsv(*r);
      type = "text/csv; charset=utf-8";
    } else {
      body = app::RenderReportJson(*r);
      type = "application/json";
    }
    name += "-preview";
  } else if (file == "issued.html" || file == "issued.json") {
    std::optional<Instant> at;
    if (std::optional<std::string> a = ctx.req.Query("at"); a && !a->empty()) {
      Result<Instant> t = ParseInstant(*a);
      if (!t.ok()) return web::StatusPage(ctx, t.status().WithContext("at"));
      at = *t;
    }
    Result<app::IssuedReport> r = reports.Show(ctx.contract, month, at);
    if (!r.ok()) return web::StatusPage(ctx, r.status());
    ext = file.substr(7);
    body = ext == "html" ? r->html : r->json;
    type = ext == "html" ? "text/html; charset=utf-8" : "application/json";
    name += "-issued";
  } else {
    return web::StatusPage(
        ctx, Status::NotFound("no report file '" + file +
                              "': preview.html, preview.csv, preview.json, issued.html or "
                              "issued.json"));
  }
  ctx.Note("report " + month + " " + file);
  if (download) return web::Download(std::move(body), std::move(type), name + "." + ext);
  HttpResponse res = HttpResponse::Text(200, std::move(body), std::move(type));
  // The report is a standalone document with its own styles and no script.
  res.With("Content-Security-Policy",
           "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
  return res;
}

HttpResponse IssueReport(RequestContext& ctx) {
  std::string month(ctx.Param("month"));
  app::Reports reports(ctx.services.ledger(), ctx.services.audit.get());
  Result<app::IssuedReport> r = reports.Issue({ctx.contract, month, std::nullopt}, ctx.Actor());
  if (!r.ok()) return web::StatusPage(ctx, r.status());
  Result<std::uint64_t> sealed = ctx.services.audit->SyncLedgerLog(ctx.contract);
  ctx.Note("issued the report of " + month + " (event " + std::to_string(r->event_id) +
           ", sha256 " + r->sha256 + ")" +
           (sealed.ok() ? "" : "; the ledger log was not brought up to date"));
  return HttpResponse::Redirect(web::ContractPath(ctx.contract, "/reports/" + month + "?issued=1"));
}

}  // namespace

void AddWebReportRoutes(WebApp& app) {
  app.Add({"GET", "/c/{contract}/reports", RouteKind::kPage, RouteAuth::kUser, "report.read",
           "Monthly reports: choose a Month; the reports issued"},
          ReportIndex);
  app.Add({"GET", "/c/{contract}/reports/{month}", RouteKind::kPage, RouteAuth::kUser,
           "report.read", "A Month's report: figures, versions issued, downloads"},
          ReportMonth);
  app.Add({"GET", "/c/{contract}/reports/{month}/{file}", RouteKind::kPage, RouteAuth::kUser,
           "report.read", "A Month's report as HTML, CSV or JSON (preview or issued)"},
          ReportFile);
  app.Add({"POST", "/c/{contract}/reports/{month}/issue", RouteKind::kPage, RouteAuth::kUser,
           "report.issue", "Issue (freeze) a Month's report: records report.submitted"},
          IssueReport);
}

}  // namespace isms::net
