#include <fstream>
#include <functional>
#include <ostream>

#include "app/audit.h"
#include "app/report.h"
#include "cli/commands.h"
#include "cli/store_access.h"

namespace isms::cli {
namespace {

Status CheckFormat(const std::string& format, bool csv_allowed) {
  if (format == "html" || format == "json" || (csv_allowed && format == "csv")) {
    return Status::Ok();
  }
  return Status::InvalidArgument("--format '" + format + "': use " +
                                 (csv_allowed ? "html, csv or json"
                                              : "html or json (an issued "
                                                "report is frozen in those "
                                                "two forms)"));
}

using Sink = std::function<Status(std::string_view)>;

// Runs `write` with a sink writing to `output` ("" or "-": standard output), exactly. The file is
// opened (and truncated) at the first bytes, so that a report refused before any is rendered
// leaves it as it was; a report that fails later leaves the bytes written until then.
Status EmitWith(Context& ctx, const std::string& output,
                const std::function<Status(const Sink&)>& write) {
  if (output.empty() || output == "-") {
    return write([&](std::string_view bytes) {
      ctx.out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      return Status::Ok();
    });
  }
  std::ofstream f;
  auto open = [&] {
    f.open(output, std::ios::binary | std::ios::trunc);
    return f ? Status::Ok()
             : Status::IoError("-o " + output + ": cannot open the file for writing");
  };
  ISMS_RETURN_IF_ERROR(write([&](std::string_view bytes) {
    if (!f.is_open()) ISMS_RETURN_IF_ERROR(open());
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return f ? Status::Ok() : Status::IoError("-o " + output + ": writing the file failed");
  }));
  if (!f.is_open()) ISMS_RETURN_IF_ERROR(open());  // nothing written: an empty file
  f.close();
  if (!f) return Status::IoError("-o " + output + ": writing the file failed");
  return Status::Ok();
}

// Writes `bytes` to `output` (as EmitWith).
Status Emit(Context& ctx, const std::string& output, const std::string& bytes) {
  return EmitWith(ctx, output, [&](const Sink& sink) { return sink(bytes); });
}

// Writes the report of `req` in `format` to `output` as it is rendered, never holding it whole
// (a report of 400,000 findings is some 400 MB of JSON, 200 MB of HTML).
Status EmitReport(Context& ctx, const std::string& output, app::Reports& reports,
                  const app::ReportRequest& req, app::ReportFormat format) {
  return EmitWith(ctx, output, [&](const Sink& sink) { return reports.Write(req, format, sink); });
}

Result<app::ReportRequest> Request(const std::string& contract, const std::string& month,
                                   const std::string& issued_at) {
  app::ReportRequest r;
  r.contract = contract;
  r.month = month;
  ISMS_RETURN_IF_ERROR(app::ParseMonth(month).status());
  if (!issued_at.empty()) {
    Result<Instant> t = ParseAt(issued_at, /*end_of_day=*/true);
    if (!t.ok()) return t.status().WithContext("--issued-at");
    r.issued_at = *t;
  }
  return r;
}

}  // namespace

void ReportMonthly(Context& ctx, const ReportMonthlyOptions& o) {
  if (Status s = CheckFormat(o.format, true); !s.ok()) return ctx.Fail(s);
  Result<app::ReportRequest> req = Request(o.contract, o.month, o.issued_at);
  if (!req.ok()) return ctx.Fail(req.status());
  // The ledger, and the audit log whose latest checkpoint a report prints.
  Result<std::unique_ptr<app::AuditService>> store = OpenAuditService(ctx, o.store);
  if (!store.ok()) return ctx.Fail(store.status());
  app::Reports reports((*store)->ledger(), store->get());
  const app::ReportFormat format = o.format == "json"  ? app::ReportFormat::kJson
                                   : o.format == "csv" ? app::ReportFormat::kCsv
                                                       : app::ReportFormat::kHtml;
  if (Status s = EmitReport(ctx, o.output, reports, *req, format); !s.ok()) return ctx.Fail(s);
}

void ReportIssue(Context& ctx, const ReportIssueOptions& o) {
  Result<app::ReportRequest> req = Request(o.contract, o.month, o.issued_at);
  if (!req.ok()) return ctx.Fail(req.status());
  // The ledger, and the audit log whose latest checkpoint a report prints.
  Result<std::unique_ptr<app::AuditService>> store = OpenAuditService(ctx, o.store);
  if (!store.ok()) return ctx.Fail(store.status());
  app::Reports reports((*store)->ledger(), store->get());
  Result<app::IssuedReport> r = reports.Issue(*req, OsActor());
  if (!r.ok()) return ctx.Fail(r.status());
  const std::string at = FormatInstant(r->issued_at);
  ctx.out << "issued the " << r->month << " report of contract " << r->contract << " at " << at
          << "\n"
          << "sha256 " << r->sha256 << " (of its JSON, " << r->json.size() << " bytes)\n"
          << "recorded event " << r->event_id << ": report.submitted month=" << r->month
          << " sha256=" << r->sha256 << "\n"
          << "fetch it: isms report show --contract " << r->contract << " --month " << r->month
          << " --issued-at " << at << " --format html|json -o FILE\n";
}

void ReportShow(Context& ctx, const ReportShowOptions& o) {
  if (Status s = CheckFormat(o.format, false); !s.ok()) return ctx.Fail(s);
  Result<app::ReportRequest> req = Request(o.contract, o.month, o.issued_at);
  if (!req.ok()) return ctx.Fail(req.status());
  // The ledger, and the audit log whose latest checkpoint a report prints.
  Result<std::unique_ptr<app::AuditService>> store = OpenAuditService(ctx, o.store);
  if (!store.ok()) return ctx.Fail(store.status());
  app::Reports reports((*store)->ledger(), store->get());
  Result<app::IssuedReport> r = reports.Show(o.contract, o.month, req->issued_at);
  if (!r.ok()) return ctx.Fail(r.status());
  if (Status s = Emit(ctx, o.output, o.format == "json" ? r->json : r->html); !s.ok()) {
    return ctx.Fail(s);
  }
}

}  // namespace isms::cli
