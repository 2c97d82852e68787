// Vulnerabilities (docs/api.md "Vulnerabilities"):
//   GET  /api/v1/contracts/{contract}/vulnerabilities                    `isms vuln list`
//   GET  /api/v1/contracts/{contract}/vulnerabilities/{finding}          `isms vuln show`, with
//                                                                        the finding's events
//   POST /api/v1/contracts/{contract}/vulnerabilities/{finding}/events   `isms vuln released`,
//                                                                        `patched`, `agree`, ...
//   GET  /api/v1/contracts/{contract}/assets                             `isms asset list`
//   POST /api/v1/contracts/{contract}/scans                              `isms import scan`
//   POST /api/v1/contracts/{contract}/advisories                         `isms import advisory`
// Uploads are multipart/form-data (one file part; the other parameters as form fields or in the
// query) or the file as the raw body. The importers read a path, so the upload is written to a
// private temporary folder under its own (sanitised) name, and removed after the import.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "app/vulns.h"
#include "core/event_types.h"
#include "core/severity.h"
#include "formats/scan.h"
#include "net/api_routes.h"
#include "net/api_util.h"
#include "net/multipart.h"
#include "net/web_cache.h"

namespace isms::net {

namespace api {

Result<app::FindingView> FindFinding(RequestContext& ctx, const std::string& id) {
  ISMS_ASSIGN_OR_RETURN(std::int64_t n, app::ParseFindingId(id));
  app::Vulnerabilities vulns(ctx.services.ledger());
  Result<app::FindingView> v = vulns.Show(app::FindingId(n));
  if ((!v.ok() && v.status().code() == StatusCode::kNotFound) ||
      (v.ok() && v->contract != ctx.contract)) {
    return Status::NotFound("no finding " + app::FindingId(n) + " in contract " + ctx.contract +
                            ": GET /api/v1/contracts/" + ctx.contract +
                            "/vulnerabilities lists them");
  }
  return v;
}

}  // namespace api

namespace {

using api::Json;

// The uploaded file and the form fields sent with it.
struct Upload {
  std::string filename;  // as the client named it ("" when it did not)
  std::string_view data;
  std::vector<std::pair<std::string, std::string>> fields;  // form fields, then the query
};

Result<Upload> ParseUpload(const HttpRequest& req) {
  Upload u;
  std::string_view type = req.Header("content-type");
  if (std::optional<std::string> boundary = MultipartBoundary(type)) {
    ISMS_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(*boundary, req.body));
    int files = 0;
    for (const MultipartPart& p : parts) {
      if (!p.filename.empty() || p.name == "file") {
        ++files;
        u.filename = p.filename;
        u.data = p.data;
      } else if (p.name != "csrf") {
        u.fields.emplace_back(p.name, std::string(p.data));
      }
    }
    if (files != 1) {
      return Status::InvalidArgument(
          "the multipart body holds " + std::to_string(files) +
          " files; send exactly one, in a part with a filename (curl -F file=@report.nessus)");
    }
  } else {
    u.data = req.body;
    std::string_view disposition = req.Header("content-disposition");
    if (std::optional<std::string> f = HeaderParam(disposition, "filename")) u.filename = *f;
  }
  for (const auto& q : req.query) u.fields.push_back(q);
  if (std::optional<std::string> name = req.Query("filename")) u.filename = *name;
  if (u.data.empty()) {
    return Status::InvalidArgument(
        "the upload is empty: send the report as the body, or as a multipart file part");
  }
  return u;
}

std::string FieldOf(const Upload& u, std::string_view name) {
  for (const auto& [k, v] : u.fields) {
    if (k == name && !v.empty()) return v;
  }
  return {};
}

// The file's name kept for messages and the scan record: its last path element, with anything
// but letters, digits, '.', '_' and '-' replaced by '_'.
std::string SafeName(const std::string& filename) {
  std::string base = filename.substr(filename.find_last_of("/\\") + 1);
  std::string out;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.size() > 100) out = out.substr(out.size() - 100);
  if (out.empty() || out.find_first_not_of('.') == std::string::npos) out = "upload";
  return out;
}

// The upload written to a private temporary folder (mode 0700) under its own name; removed with
// this object.
class TempUpload {
 public:
  static Result<std::unique_ptr<TempUpload>> Write(const Upload& u) {
    std::error_code ec;
    std::string tmpl = (std::filesystem::temp_directory_path(ec) / "isms-upload-XXXXXX").string();
    if (ec) tmpl = "/tmp/isms-upload-XXXXXX";
    if (!mkdtemp(tmpl.data())) {
      return Status::IoError("cannot create a temporary folder for the upload in " +
                             std::filesystem::path(tmpl).parent_path().string() +
                             ": check TMPDIR and its free space");
    }
    auto t = std::unique_ptr<TempUpload>(new TempUpload(tmpl));
    t->path_ = tmpl + "/" + SafeName(u.filename);
    std::ofstream f(t->path_, std::ios::binary | std::ios::trunc);
    f.write(u.data.data(), static_cast<std::streamsize>(u.data.size()));
    f.close();
    if (!f) {
      return Status::IoError("cannot write the upload to " + tmpl +
                             ": check TMPDIR and its free space");
    }
    return t;
  }
  ~TempUpload() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }
  // `s` with the temporary folder taken out of its message, so it names the upload only.
  Status Clean(const Status& s) const {
    std::string m = s.message();
    const std::string prefix = dir_ + "/";
    for (size_t at; (at = m.find(prefix)) != std::string::npos;) m.erase(at, prefix.size());
    return Status(s.code(), m);
  }
  std::string Clean(const std::string& text) const {
    return Clean(Status::Internal(text)).message();
  }

 private:
  explicit TempUpload(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::string path_;
};

// The CLI's verbs of `isms vuln ACTION` and the event types they record.
const std::pair<const char*, const char*> kVulnActions[] = {
    {"released", "vuln.released"},
    {"patched", "vuln.patched"},
    {"not-exploitable", "vuln.not_exploitable"},
    {"exploitable", "vuln.exploitable"},
    {"exploited", "vuln.exploited"},
    {"extend", "vuln.extended"},
    {"agree", "vuln.agreed"},
    {"at-risk", "vuln.at_risk"},
    {"notified", "buyer.notified"},
    {"mitigated", "mitigation.proposed"},
};

Json FindingSchema() {
  return Json::parse(R"({"type":"object","properties":{
    "id":{"type":"string"},"asset":{"type":"string"},"vuln_id":{"type":"string"},
    "cves":{"type":"array","items":{"type":"string"}},"component":{"type":"string"},
    "category":{"type":"string"},"category_source":{"type":"string"},
    "base_score":{"type":["number","null"]},"fix_available":{"type":"boolean"},
    "patch_released":{"type":["string","null"],"format":"date"},
    "patch_released_assumed":{"type":"boolean"},"first_seen":{"type":"string"},
    "state":{"type":"string"},"due":{"type":["string","null"],"format":"date"},
    "obligation_state":{"type":["string","null"]},"at_risk":{"type":"boolean"}}})");
}

HttpResponse ImportScan(RequestContext& ctx) {
  Result<Upload> u = ParseUpload(ctx.req);
  if (!u.ok()) return api::Fail(u.status());
  app::ImportScanRequest r;
  r.contract = ctx.contract;
  r.asset = FieldOf(*u, "asset");
  if (std::string f = FieldOf(*u, "format"); !f.empty()) {
    Result<ScanFormat> format = ParseScanFormatKey(f);
    if (!format.ok()) return api::Fail(format.status().WithContext("format"));
    r.format = *format;
  }
  if (std::string t = FieldOf(*u, "scanned_at"); !t.empty()) {
    Result<Instant> at = api::ParseAt(t, false, "scanned_at");
    if (!at.ok()) return api::Fail(at.status());
    r.scanned_at = *at;
  }
  Result<std::unique_ptr<TempUpload>> tmp = TempUpload::Write(*u);
  if (!tmp.ok()) return api::Fail(tmp.status());
  r.path = (*tmp)->path();
  auto started = std::chrono::steady_clock::now();
  app::Vulnerabilities vulns(ctx.services.ledger());
  Result<app::ImportScanResult> res = vulns.ImportScan(r, ctx.Actor());
  if (!res.ok()) {
    return api::Fail((*tmp)->Clean(res.status()).WithContext("nothing of the upload was stored"));
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  Json j;
  j["file"] = (*tmp)->Clean(res->file);
  j["format"] = ScanFormatKey(res->format);
  j["scanner"] = res->scanner;
  j["scan"] = "S-" + std::to_string(res->scan_id);
  j["bytes"] = res->bytes;
  j["assets"] = res->assets;
  j["findings"] = res->findings;
  j["new_findings"] = res->new_findings;
  j["remediated"] = res->remediated;
  j["reopened"] = res->reopened;
  j["duplicate"] = res->duplicate;
  j["millis"] = static_cast<std::int64_t>(ms);
  ctx.Note(res->duplicate ? "scan already imported as S-" + std::to_string(res->scan_id)
                          : "imported scan S-" + std::to_string(res->scan_id) + ": " +
                                std::to_string(res->findings) + " findings, " +
                                std::to_string(res->new_findings) + " new");
  return api::JsonReply(res->duplicate ? 200 : 201, j);
}

HttpResponse ImportAdvisory(RequestContext& ctx) {
  Result<Upload> u = ParseUpload(ctx.req);
  if (!u.ok()) return api::Fail(u.status());
  Result<std::unique_ptr<TempUpload>> tmp = TempUpload::Write(*u);
  if (!tmp.ok()) return api::Fail(tmp.status());
  app::Vulnerabilities vulns(ctx.services.ledger());
  Result<app::ImportAdvisoryResult> r =
      vulns.ImportAdvisory((*tmp)->path(), ctx.contract, ctx.Actor());
  if (!r.ok()) {
    return api::Fail((*tmp)->Clean(r.status()).WithContext("nothing of the upload was stored"));
  }
  Json j;
  j["file"] = (*tmp)->Clean(r->file);
  j["document_id"] = r->document_id;
  j["publisher"] = r->publisher;
  j["vulnerabilities"] = r->vulnerabilities;
  j["findings_updated"] = r->findings_updated;
  j["duplicate"] = r->duplicate;
  ctx.Note("advisory " + r->document_id + ": " + std::to_string(r->findings_updated) +
           " findings updated");
  return api::JsonReply(r->duplicate ? 200 : 201, j);
}

// Every finding of the contract as [state, category, asset, its JSON text], in id order: the
// list is evaluated once and kept while the contract's data is unchanged (net/web_cache.h), and
// each page is cut from it. (Vulnerabilities::List reads and sorts every finding of the contract
// before its first row, so a page computed for the request alone costs the whole list anyway.)
Result<std::shared_ptr<const nlohmann::json>> AllFindings(RequestContext& ctx) {
  return web::Cached(ctx, ctx.contract, "api:findings", [&]() -> Result<nlohmann::json> {
    app::FindingFilter all;
    all.state = "all";
    app::Vulnerabilities vulns(ctx.services.ledger());
    ISMS_ASSIGN_OR_RETURN(std::vector<app::FindingView> list, vulns.List(ctx.contract, all));
    nlohmann::json out = nlohmann::json::array();
    out.get_ref<nlohmann::json::array_t&>().reserve(list.size());
    for (const app::FindingView& v : list) {
      out.push_back(nlohmann::json::array(
          {v.state, v.category, v.asset, api::Dump(api::FindingJson(v, false))}));
    }
    return out;
  });
}

// The states `isms vuln list --state` takes.
constexpr std::string_view kStates[] = {
    "open", "remediated", "not-exploitable", "not-affected", "observation", "own-code", "all"};

// The findings of one state and category (as Vulnerabilities::List filters them), each
// [asset, its JSON text], in id order: cut from AllFindings and kept alike, so that a page of
// the list is found by its offset, not by reading the findings before it.
Result<std::shared_ptr<const nlohmann::json>> FilteredFindings(RequestContext& ctx,
                                                               const app::FindingFilter& f) {
  std::string kind = "api:findings\n" + f.state + "\n" + f.category;
  return web::Cached(ctx, ctx.contract, kind, [&]() -> Result<nlohmann::json> {
    ISMS_ASSIGN_OR_RETURN(std::shared_ptr<const nlohmann::json> all, AllFindings(ctx));
    nlohmann::json out = nlohmann::json::array();
    for (const nlohmann::json& row : *all) {
      if (!f.category.empty() && row[1].get_ref<const std::string&>() != f.category) continue;
      if (f.state != "all" && row[0].get_ref<const std::string&>() != f.state) continue;
      out.push_back(nlohmann::json::array({row[2], row[3]}));
    }
    return out;
  });
}

// One page of `rows` ([asset, text], see FilteredFindings), of `asset` only when given.
HttpResponse FindingsPage(const nlohmann::json& rows, const std::string& asset,
                          const PageRequest& p) {
  std::string body = "{\"items\":[";
  const std::size_t n = rows.size();
  std::size_t i = 0;
  if (asset.empty()) {
    i = std::min(n, static_cast<std::size_t>(p.offset));
  } else {
    for (std::int64_t seen = 0; i < n; ++i) {
      if (rows[i][0].get_ref<const std::string&>() != asset) continue;
      if (seen++ == p.offset) break;
    }
  }
  std::int64_t shown = 0;
  bool more = false;
  for (; i < n; ++i) {
    if (!asset.empty() && rows[i][0].get_ref<const std::string&>() != asset) continue;
    if (shown == p.limit) {
      more = true;
      break;
    }
    if (shown++ > 0) body += ',';
    body += rows[i][1].get_ref<const std::string&>();
  }
  body += "],\"next_cursor\":";
  body += more ? "\"" + NextCursor(p.offset, p.limit) + "\"" : "null";
  body += "}\n";
  return HttpResponse::Json(200, std::move(body));
}

const std::vector<std::string> kUploadTypes = {"multipart/form-data", "application/octet-stream"};

}  // namespace

void AddVulnRoutes(WebApp& app) {
  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/vulnerabilities", RouteKind::kApi,
            RouteAuth::kUser, "vuln.read", "Findings (`isms vuln list`)"},
           api::ApiDoc()
               .Query({{"state",
                        "string",
                        "default open",
                        {"open", "remediated", "not-exploitable", "not-affected", "observation",
                         "own-code", "all"}},
                       {"category", "string", "Critical, Important or Other"},
                       {"asset", "string", "only the findings of this asset (its register name)"}})
               .Paginated()
               .Schema(FindingSchema())
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             app::FindingFilter f;
             if (auto s = api::QueryText(ctx.req, "state")) f.state = *s;
             if (auto c = api::QueryText(ctx.req, "category")) {
               Result<Category> cat = ParseCategory(*c);
               if (!cat.ok()) return api::Fail(cat.status().WithContext("category"));
               f.category = std::string(CategoryName(*cat));
             }
             if (auto a = api::QueryText(ctx.req, "asset")) f.asset = *a;
             bool known = false;
             for (std::string_view st : kStates) known = known || f.state == st;
             if (!known) {
               return api::Fail(Status::InvalidArgument(
                   "state=" + f.state +
                   ": use open, remediated, not-exploitable, not-affected, observation, "
                   "own-code or all"));
             }
             Result<std::shared_ptr<const nlohmann::json>> rows = FilteredFindings(ctx, f);
             if (!rows.ok()) return api::Fail(rows.status());
             return FindingsPage(**rows, f.asset, *page);
           });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/vulnerabilities/{finding}", RouteKind::kApi,
            RouteAuth::kUser, "vuln.read",
            "A finding with its evidence, obligations, exceptions and events (`isms vuln show`)"},
           api::ApiDoc().Returns("every field of `isms vuln show --json`, and `events`: the "
                                 "events of the finding's stream (release dates, exceptions, "
                                 "remediation), in the order they happened"),
           [](RequestContext& ctx) {
             Result<app::FindingView> v = api::FindFinding(ctx, std::string(ctx.Param("finding")));
             if (!v.ok()) return api::Fail(v.status());
             Result<app::ContractRecord> c = ctx.services.ledger().FindContract(ctx.contract);
             if (!c.ok()) return api::Fail(c.status());
             Result<std::vector<Event>> events =
                 ctx.services.ledger().StreamEvents(c->id, "vuln:" + v->id);
             if (!events.ok()) return api::Fail(events.status());
             Json j = api::FindingJson(*v, true);
             Json evs = Json::array();
             for (const Event& e : *events) evs.push_back(api::EventJson(e, false));
             j["events"] = std::move(evs);
             return api::JsonReply(200, j);
           });

  api::Add(
      app,
      {"POST", "/api/v1/contracts/{contract}/vulnerabilities/{finding}/events", RouteKind::kApi,
       RouteAuth::kUser, "", "Record a finding's event: release date, remediation, exception"},
      api::ApiDoc()
          .Describe(
              "`type` is an event type of a finding (vuln.released, vuln.patched, "
              "vuln.not_exploitable, vuln.exploitable, vuln.exploited, vuln.extended, vuln.agreed, "
              "vuln.at_risk, buyer.notified, mitigation.proposed), or `action` one of the command "
              "line's verbs (released, patched, not-exploitable, exploitable, exploited, extend, "
              "agree, at-risk, notified, mitigated). Attributes as for the command line: "
              "released {date}, not-exploitable {reason}, extend {test_plan}, agree {days or "
              "until, "
              "evidence}. The subject is the finding.")
          .Request({"application/json"})
          .RequestSchema(Json::parse(R"({"type":"object","properties":{
         "type":{"type":"string"},"action":{"type":"string"},"at":{"type":"string"},
         "note":{"type":"string"},
         "attrs":{"type":"object","additionalProperties":{"type":["string","integer"]}}}})"))
          .Success(201)
          .Returns("{\"event\": the event recorded, \"sealed\": ...}")
          .Errors({400, 409}),
      [](RequestContext& ctx) {
        Result<Json> body = api::JsonBody(ctx.req);
        if (!body.ok()) return api::Fail(body.status());
        // The finding first: a refusal must not tell whether the contract exists.
        if (Status st = ctx.Check(app::Action::kVulnRead, ctx.contract); !st.ok()) {
          return api::Fail(st);
        }
        Result<app::FindingView> v = api::FindFinding(ctx, std::string(ctx.Param("finding")));
        if (!v.ok()) return api::Fail(v.status());
        Json b = *body;
        if (b.contains("action")) {
          Result<std::string> action = api::StringField(b, "action", true);
          if (!action.ok()) return api::Fail(action.status());
          if (b.contains("type")) {
            return api::Fail(Status::InvalidArgument("give either type or action, not both"));
          }
          std::string type;
          for (const auto& [verb, t] : kVulnActions) {
            if (*action == verb) type = t;
          }
          if (type.empty()) {
            std::string verbs;
            for (const auto& [verb, t] : kVulnActions)
              verbs += (verbs.empty() ? "" : ", ") + std::string(verb);
            return api::Fail(
                Status::InvalidArgument("unknown action '" + *action + "': use " + verbs));
          }
          b.erase("action");
          b["type"] = type;
        }
        if (b.contains("subject")) {
          return api::Fail(Status::InvalidArgument(
              "the subject of a finding's event is the finding of the path; leave it out"));
        }
        Result<app::NewEvent> e = api::ParseNewEvent(b, ctx.contract);
        if (!e.ok()) return api::Fail(e.status());
        const EventType* type = FindEventType(e->type);
        if (!type || type->stream != StreamFamily::kVuln) {
          return api::Fail(Status::InvalidArgument(
              "'" + e->type +
              "' is not an event of a finding: use vuln.released, vuln.patched, "
              "vuln.not_exploitable, vuln.exploitable, vuln.exploited, vuln.extended, "
              "vuln.agreed, vuln.at_risk, buyer.notified or mitigation.proposed"));
        }
        e->subject = v->id;
        return api::RecordEvent(ctx, std::move(*e));
      });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/assets", RouteKind::kApi, RouteAuth::kUser,
            "contract.read", "The asset register (`isms asset list`)"},
           api::ApiDoc().Paginated().Schema(Json::parse(R"({"type":"object","properties":{
              "name":{"type":"string"},
              "aliases":{"type":"array","items":{"type":"object","properties":{
                 "kind":{"type":"string"},"value":{"type":"string"}}}},
              "last_scanned":{"type":["string","null"]},"open_findings":{"type":"integer"}}})")),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             app::Vulnerabilities vulns(ctx.services.ledger());
             Result<std::vector<app::AssetView>> list = vulns.Assets(ctx.contract);
             if (!list.ok()) return api::Fail(list.status());
             return api::SlicePage(*list, *page, [](const app::AssetView& a) {
               Json aliases = Json::array();
               for (const auto& [k, v] : a.aliases) aliases.push_back({{"kind", k}, {"value", v}});
               return Json{{"name", a.name},
                           {"aliases", aliases},
                           {"last_scanned", api::OptionalInstant(a.last_scanned)},
                           {"open_findings", a.open_findings}};
             });
           });

  api::Add(
      app,
      {"POST", "/api/v1/contracts/{contract}/scans", RouteKind::kApi, RouteAuth::kUser,
       "vuln.import", "Upload a scanner report (`isms import scan`)"},
      api::ApiDoc()
          .Describe("One report per request, as a multipart file part or as the raw body "
                    "(then its name from the filename parameter or Content-Disposition). "
                    "The parameters may be given as form fields or in the query. A report "
                    "lands whole or not at all; the same file twice changes nothing (200, "
                    "duplicate).")
          .Query({{"format",
                   "string",
                   "the report's format (default: detected from the content)",
                   {"nessus", "openvas", "trivy", "grype", "osv", "cyclonedx", "sarif"}},
                  {"asset", "string", "put every finding on this asset (register name)"},
                  {"scanned_at", "string",
                   "when the report does not say: YYYY-MM-DD or an RFC 3339 instant"},
                  {"filename", "string", "the report's file name, for messages and the record"}})
          .Request(kUploadTypes)
          .RequestText("the report")
          .Success(201)
          .Returns("file, format, scanner, scan (S-n), bytes, assets, findings, "
                   "new_findings, remediated (by absence), reopened, duplicate")
          .Errors({400, 413}),
      ImportScan);

  api::Add(app,
           {"POST", "/api/v1/contracts/{contract}/advisories", RouteKind::kApi, RouteAuth::kUser,
            "vuln.import", "Upload a CSAF 2.0 advisory (`isms import advisory`)"},
           api::ApiDoc()
               .Describe("Applied to the contract's findings whose CVE and product it names. "
                         "Multipart or raw body, as scans.")
               .Query({{"filename", "string", "the advisory's file name, for messages"}})
               .Request(kUploadTypes)
               .RequestText("the CSAF 2.0 JSON document")
               .Success(201)
               .Returns("file, document_id, publisher, vulnerabilities, "
                        "findings_updated, duplicate")
               .Errors({400, 413}),
           ImportAdvisory);
}

}  // namespace isms::net
