// Monthly vulnerability reports, 9.5.5 (docs/api.md "Reports"):
//   GET  /api/v1/contracts/{contract}/reports/monthly/{month}         a preview, as
//                                                                     `isms report monthly`
//   POST /api/v1/contracts/{contract}/reports/monthly/{month}/issue   issue (freeze) it, as
//                                                                     `isms report issue`
//   GET  /api/v1/contracts/{contract}/reports/issued                  the reports issued
//   GET  /api/v1/contracts/{contract}/reports/issued/{month}          one as issued, as
//                                                                     `isms report show`
#include "app/api_support.h"
#include "app/report.h"
#include "net/api_routes.h"
#include "net/api_util.h"

namespace isms::net {

namespace {

using api::Json;

Result<app::ReportRequest> Request(RequestContext& ctx, std::optional<std::string> issued_at) {
  app::ReportRequest r;
  r.contract = ctx.contract;
  r.month = std::string(ctx.Param("month"));
  ISMS_RETURN_IF_ERROR(app::ParseMonth(r.month).status());
  if (issued_at && !issued_at->empty()) {
    ISMS_ASSIGN_OR_RETURN(Instant t, api::ParseAt(*issued_at, /*end_of_day=*/true, "issued_at"));
    r.issued_at = t;
  }
  return r;
}

// The report's bytes as a download: "acme-2026-02-report.html".
HttpResponse Download(const std::string& contract, const std::string& month,
                      const std::string& format, std::string bytes) {
  std::string type = format == "json"  ? "application/json"
                     : format == "csv" ? "text/csv; charset=utf-8"
                                       : "text/html; charset=utf-8";
  std::string name = contract + "-" + month + "-report." + format;
  for (char& c : name) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  HttpResponse r = HttpResponse::Text(200, std::move(bytes), type);
  r.With("Content-Disposition", "attachment; filename=\"" + name + "\"");
  return r;
}

Json IssuedJson(const std::string& contract, const app::IssuedReportInfo& r) {
  std::string base = "/api/v1/contracts/" + PercentEncode(contract) + "/reports/issued/" + r.month +
                     "?issued_at=" + PercentEncode(FormatInstant(r.issued_at));
  return Json{{"month", r.month},
              {"issued_at", FormatInstant(r.issued_at)},
              {"issued_by", r.issued_by},
              {"sha256", r.sha256},
              {"event", r.event_id},
              {"html", base + "&format=html"},
              {"json", base + "&format=json"}};
}

}  // namespace

void AddReportRoutes(WebApp& app) {
  const std::vector<std::string> kDownloads = {"text/html", "text/csv", "application/json"};

  api::Add(
      app,
      {"GET", "/api/v1/contracts/{contract}/reports/monthly/{month}", RouteKind::kApi,
       RouteAuth::kUser, "report.read",
       "The monthly report of a Month as it stands (a preview: nothing is stored)"},
      api::ApiDoc()
          .Describe("As `isms report monthly`: the report as of issued_at (default now). "
                    "`month` is YYYY-MM. Answered as a download (Content-Disposition).")
          .Query({{"format", "string", "default html", {"html", "csv", "json"}},
                  {"issued_at", "string",
                   "evaluate as of: YYYY-MM-DD (the end of that London day) or an instant"}})
          .Response(kDownloads)
          .Returns("the report (docs/reports.md)")
          .Errors({400}),
      [](RequestContext& ctx) {
        std::string format = api::QueryText(ctx.req, "format").value_or("html");
        if (format != "html" && format != "csv" && format != "json") {
          return api::Fail(Status::InvalidArgument("format=" + format + ": use html, csv or json"));
        }
        Result<app::ReportRequest> req = Request(ctx, api::QueryText(ctx.req, "issued_at"));
        if (!req.ok()) return api::Fail(req.status());
        app::Reports reports(ctx.services.ledger(), ctx.services.audit.get());
        Result<app::MonthlyReport> rep = reports.Build(*req);
        if (!rep.ok()) return api::Fail(rep.status());
        std::string bytes;
        if (format == "json") {
          bytes = app::RenderReportJson(*rep);
        } else if (format == "csv") {
          bytes = app::RenderReportCsv(*rep);
        } else {
          Result<std::string> html = app::RenderReportHtml(*rep);
          if (!html.ok()) return api::Fail(html.status());
          bytes = std::move(*html);
        }
        return Download(ctx.contract, req->month, format, std::move(bytes));
      });

  api::Add(
      app,
      {"POST", "/api/v1/contracts/{contract}/reports/monthly/{month}/issue", RouteKind::kApi,
       RouteAuth::kUser, "report.issue", "Issue (freeze) the monthly report of a Month"},
      api::ApiDoc()
          .Describe("As `isms report issue`: renders and stores the report as of issued_at "
                    "(default now) and records report.submitted, which meets 9.5.5. Refused "
                    "(409) while the Month has not ended.")
          .Request({"application/json"})
          .RequestText("optional: {\"issued_at\": YYYY-MM-DD or an RFC 3339 instant}")
          .RequestSchema(
              Json::parse(R"({"type":"object","properties":{"issued_at":{"type":"string"}}})"))
          .Success(201)
          .Returns("month, issued_at, issued_by, sha256 (of the JSON), event (the "
                   "report.submitted event), and links to the html and json")
          .Errors({400, 409}),
      [](RequestContext& ctx) {
        Result<Json> body = api::JsonBody(ctx.req);
        if (!body.ok()) return api::Fail(body.status());
        if (Status st = api::OnlyFields(*body, {"issued_at"}); !st.ok()) return api::Fail(st);
        Result<std::string> at = api::StringField(*body, "issued_at");
        if (!at.ok()) return api::Fail(at.status());
        Result<app::ReportRequest> req = Request(ctx, *at);
        if (!req.ok()) return api::Fail(req.status());
        app::Reports reports(ctx.services.ledger(), ctx.services.audit.get());
        Result<app::IssuedReport> r = reports.Issue(*req, ctx.Actor());
        if (!r.ok()) return api::Fail(r.status());
        ctx.Note("issued the " + r->month + " report, sha256 " + r->sha256);
        app::IssuedReportInfo info{r->month, r->issued_at, r->issued_by, r->sha256, r->event_id};
        Json j = IssuedJson(ctx.contract, info);
        Result<std::uint64_t> sealed = ctx.services.audit->SyncLedgerLog(ctx.contract);
        j["sealed"] = sealed.ok();
        return api::JsonReply(201, j);
      });

  api::Add(
      app,
      {"GET", "/api/v1/contracts/{contract}/reports/issued", RouteKind::kApi, RouteAuth::kUser,
       "report.read", "The monthly reports issued, newest first"},
      api::ApiDoc().Paginated().Returns("month, issued_at, issued_by, sha256, event, and links to "
                                        "the html and json as issued"),
      [](RequestContext& ctx) {
        Result<PageRequest> page = ParsePage(ctx.req);
        if (!page.ok()) return api::Fail(page.status());
        Result<std::vector<app::IssuedReportInfo>> list =
            app::ListIssuedReports(ctx.services.ledger(), ctx.contract);
        if (!list.ok()) return api::Fail(list.status());
        const std::string& c = ctx.contract;
        return api::SlicePage(*list, *page,
                              [&c](const app::IssuedReportInfo& r) { return IssuedJson(c, r); });
      });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/reports/issued/{month}", RouteKind::kApi,
            RouteAuth::kUser, "report.read", "A monthly report as it was issued (frozen bytes)"},
           api::ApiDoc()
               .Describe("As `isms report show`: the latest issue of the Month, or the one issued "
                         "at issued_at. The bytes are those stored at the issue; X-Report-SHA256 "
                         "is the sha256 of its JSON.")
               .Query({{"format", "string", "default html", {"html", "json"}},
                       {"issued_at", "string", "the instant of the issue (default: the latest)"}})
               .Response({"text/html", "application/json"})
               .Errors({400}),
           [](RequestContext& ctx) {
             std::string format = api::QueryText(ctx.req, "format").value_or("html");
             if (format != "html" && format != "json") {
               return api::Fail(Status::InvalidArgument(
                   "format=" + format +
                   ": use html or json (an issued report is frozen in those two "
                   "forms)"));
             }
             std::optional<Instant> issued_at;
             if (std::optional<std::string> t = api::QueryText(ctx.req, "issued_at")) {
               Result<Instant> at = api::ParseAt(*t, /*end_of_day=*/true, "issued_at");
               if (!at.ok()) return api::Fail(at.status());
               issued_at = *at;
             }
             std::string month(ctx.Param("month"));
             app::Reports reports(ctx.services.ledger(), ctx.services.audit.get());
             Result<app::IssuedReport> r = reports.Show(ctx.contract, month, issued_at);
             if (!r.ok()) return api::Fail(r.status());
             HttpResponse res =
                 Download(ctx.contract, month, format, format == "json" ? r->json : r->html);
             res.With("X-Report-SHA256", r->sha256);
             return res;
           });
}

}  // namespace isms::net
