// GET /api/v1/openapi.json: the OpenAPI 3.1 document of every JSON route the server serves,
// generated from the routes registered (WebApp::routes()) and the descriptions kept beside them
// (api::ApiDoc). A route registered without a description is still listed, with what its
// RouteSpec says. api_openapi_test.cc checks that the document and the routes served agree.
#include <algorithm>
#include <cctype>

#include "net/api_routes.h"
#include "net/api_util.h"

namespace isms::net {

namespace {

using api::Json;

std::vector<std::string> Segments(const std::string& pattern) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i <= pattern.size()) {
    size_t slash = pattern.find('/', i);
    if (slash == std::string::npos) slash = pattern.size();
    if (slash > i) out.push_back(pattern.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

// "get_contracts_contract_status".
std::string OperationId(const RouteSpec& s) {
  std::string id;
  for (char c : s.method)
    id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const std::string& seg : Segments(s.pattern)) {
    if (seg == "api" || seg == "v1") continue;
    id += '_';
    for (char c : seg) {
      if (c == '{' || c == '}') continue;
      id.push_back(c == '-' || c == '.' ? '_' : c);
    }
  }
  return id;
}

// The area of a route: "contracts", "vulnerabilities", "audit", ...
std::string Tag(const std::string& pattern) {
  std::vector<std::string> seg = Segments(pattern);
  if (seg.size() < 3 || seg[0] != "api") return "system";
  if (seg[2] == "contracts" && seg.size() >= 5) {
    const std::string& area = seg[4];
    if (area == "events" || area == "status" || area == "root-causes") return "contracts";
    if (area == "assets" || area == "scans" || area == "advisories") return "vulnerabilities";
    return area;
  }
  if (seg[2] == "session" || seg[2] == "users" || seg[2] == "tokens") return "accounts";
  if (seg[2] == "access-log") return "audit";
  if (seg[2] == "me" || seg[2] == "openapi.json") return "system";
  return seg[2];
}

Json ErrorRef() {
  return Json{{"$ref", "#/components/responses/Error"}};
}

std::string ErrorText(int status) {
  switch (status) {
    case 400: return "the request is not valid: the message says what and how to fix it";
    case 401: return "no user: log in, or send Authorization: Bearer TOKEN";
    case 403: return "the caller's role may not do this, or a session's CSRF token is missing";
    case 404: return "no such contract (or not one of the caller's), or no such item";
    case 409: return "the state does not allow it (exists already, not yet possible)";
    case 413: return "the body is over the server's limit";
    case 429: return "too many failed log-ins: wait for Retry-After seconds";
    default: return std::string(ReasonPhrase(status));
  }
}

Json Operation(const RouteSpec& spec, const api::ApiDoc* doc) {
  Json op;
  op["operationId"] = OperationId(spec);
  op["summary"] = spec.summary;
  if (doc && !doc->description.empty()) op["description"] = doc->description;
  op["tags"] = Json::array({Tag(spec.pattern)});
  if (!spec.action.empty()) op["x-isms-action"] = spec.action;
  if (spec.auth == RouteAuth::kPublic) {
    op["security"] = Json::array();
  } else {
    op["security"] =
        Json::array({Json{{"bearer", Json::array()}}, Json{{"session", Json::array()}}});
  }

  Json params = Json::array();
  for (const std::string& seg : Segments(spec.pattern)) {
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      params.push_back({{"name", seg.substr(1, seg.size() - 2)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
  }
  if (doc) {
    for (const api::ApiParam& p : doc->query) {
      Json schema{{"type", p.type}};
      if (!p.values.empty()) schema["enum"] = p.values;
      Json q{{"name", p.name}, {"in", "query"}, {"required", p.required}, {"schema", schema}};
      if (!p.description.empty()) q["description"] = p.description;
      params.push_back(std::move(q));
    }
    if (doc->paginated) {
      params.push_back({{"name", "limit"},
                        {"in", "query"},
                        {"required", false},
                        {"description", "items per page, 1-1000 (default 100)"},
                        {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}}});
      params.push_back({{"name", "cursor"},
                        {"in", "query"},
                        {"required", false},
                        {"description", "the next_cursor of the previous page"},
                        {"schema", {{"type", "string"}}}});
    }
  }
  if (!params.empty()) op["parameters"] = std::move(params);

  if (doc && !doc->request.empty()) {
    Json content = Json::object();
    for (const std::string& type : doc->request) {
      Json schema = type == "application/json" && !doc->request_schema.is_null()
                        ? doc->request_schema
                        : Json{{"type", "string"}};
      if (type == "multipart/form-data") {
        schema = Json{
            {"type", "object"},
            {"properties",
             {{"file", {{"type", "string"}, {"contentMediaType", "application/octet-stream"}}}}},
            {"required", Json::array({"file"})}};
      }
      content[type] = Json{{"schema", schema}};
    }
    Json body{{"required", true}, {"content", content}};
    if (!doc->request_description.empty()) body["description"] = doc->request_description;
    op["requestBody"] = std::move(body);
  }

  Json responses = Json::object();
  int success = doc ? doc->success : 200;
  Json ok;
  ok["description"] = doc && !doc->response_description.empty() ? doc->response_description
                                                                : std::string("success");
  Json content = Json::object();
  std::vector<std::string> types =
      doc ? doc->response : std::vector<std::string>{"application/json"};
  for (const std::string& type : types) {
    Json schema = Json::object();
    if (type == "application/json") {
      Json item = doc && !doc->response_schema.is_null() ? doc->response_schema : Json::object();
      if (doc && doc->paginated) {
        schema = Json{{"$ref", "#/components/schemas/Page"}};
        if (!item.empty()) {
          schema = Json{
              {"allOf",
               Json::array({schema, Json{{"properties",
                                          {{"items", {{"type", "array"}, {"items", item}}}}}}})}};
        }
      } else {
        schema = item;
      }
    } else {
      schema = Json{{"type", "string"}};
    }
    content[type] = Json{{"schema", schema}};
  }
  ok["content"] = content;
  responses[std::to_string(success)] = ok;
  std::vector<int> errors;
  if (spec.auth == RouteAuth::kUser) errors = {401, 403, 404};
  if (doc) errors.insert(errors.end(), doc->errors.begin(), doc->errors.end());
  std::sort(errors.begin(), errors.end());
  errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
  for (int e : errors) {
    responses[std::to_string(e)] =
        Json{{"description", ErrorText(e)},
             {"content",
              {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  }
  responses["default"] = ErrorRef();
  op["responses"] = std::move(responses);
  return op;
}

}  // namespace

namespace api {

// The OpenAPI 3.1 document of `app`'s JSON routes.
Json OpenApiDocument(const WebApp& app) {
  Json doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = {
      {"title", "isms"},
      {"version", "1"},
      {"description",
       "The JSON API of isms: contracts and their ledger, obligations, vulnerabilities, "
       "reports and the tamper-evident audit records of a UK public-sector security schedule. "
       "Every failure answers {\"error\": {\"status\", \"code\", \"message\"}}. Every list is "
       "paginated: {\"items\": [...], \"next_cursor\": C or null}; pass cursor=C for the next "
       "page. A contract the caller does not hold answers 404, exactly as one that does not "
       "exist. docs/api.md."}};
  doc["servers"] = Json::array({Json{{"url", "/"}}});
  Json paths = Json::object();
  for (const RouteSpec& spec : app.routes()) {
    if (spec.kind != RouteKind::kApi) continue;
    std::string method;
    for (char c : spec.method)
      method.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    paths[spec.pattern][method] = Operation(spec, DocOf(spec.method, spec.pattern));
  }
  doc["paths"] = std::move(paths);
  doc["components"] = {
      {"securitySchemes",
       {{"bearer",
         {{"type", "http"},
          {"scheme", "bearer"},
          {"description", "an API token: isms token create, or POST /api/v1/tokens"}}},
        {"session",
         {{"type", "apiKey"},
          {"in", "cookie"},
          {"name", app.session_cookie()},
          {"description",
           "the cookie of POST /api/v1/session (or the web log-in); a change "
           "needs the session's CSRF token in X-CSRF-Token"}}}}},
      {"schemas",
       {{"Error", Json::parse(R"({"type":"object","required":["error"],"properties":{"error":{
           "type":"object","required":["status","code","message"],"properties":{
           "status":{"type":"integer"},"code":{"type":"string"},"message":{"type":"string"}}}}})")},
        {"Page", Json::parse(R"({"type":"object","required":["items","next_cursor"],
           "properties":{"items":{"type":"array"},"next_cursor":{"type":["string","null"]}}})")}}},
      {"responses",
       {{"Error",
         {{"description", "a failure"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}}};
  return doc;
}

}  // namespace api

void AddOpenApiRoute(WebApp& app) {
  api::Add(app,
           {"GET", "/api/v1/openapi.json", RouteKind::kApi, RouteAuth::kPublic, "",
            "This OpenAPI 3.1 document"},
           api::ApiDoc().Returns("the OpenAPI document"), [](RequestContext& ctx) {
             ctx.audit_skip = true;
             return api::JsonReply(200, api::OpenApiDocument(ctx.app));
           });
}

void AddApiRoutes(WebApp& app) {
  AddOpenApiRoute(app);
  AddContractRoutes(app);
  AddVulnRoutes(app);
  AddReportRoutes(app);
  AddAuditRoutes(app);
  AddAccountRoutes(app);
}

}  // namespace isms::net
