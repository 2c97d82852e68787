// What the JSON API's routes (api_*.cc) share: registration with the route's OpenAPI
// description kept beside it, request parsing (JSON bodies, query parameters, times), pages of
// lists, and the JSON shapes of the domain values. docs/api.md.
//
// Thread-safety: the route descriptions are registered while the routes are added (before the
// server starts) and only read afterwards; the other functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/json_views.h"
#include "app/ledger.h"
#include "app/vulns.h"
#include "core/obligation.h"
#include "core/status.h"
#include "core/time.h"
#include "net/web_app.h"

namespace isms::net::api {

using Json = nlohmann::ordered_json;

// A query parameter of a route, for the OpenAPI document and for refusing unknown ones.
struct ApiParam {
  ApiParam(std::string n, std::string t, std::string d, std::vector<std::string> v = {},
           bool r = false)
      : name(std::move(n)),
        type(std::move(t)),
        description(std::move(d)),
        values(std::move(v)),
        required(r) {}

  std::string name;
  std::string type;  // "string", "integer", "boolean"
  std::string description;
  std::vector<std::string> values;  // the allowed values, when a closed set
  bool required = false;
};

// How a route is described in /api/v1/openapi.json. Path parameters come from the pattern.
struct ApiDoc {
  std::string description;           // more than the summary, when useful
  std::vector<ApiParam> query;       // besides limit and cursor of a paginated list
  bool paginated = false;            // {"items":[...],"next_cursor":...}, limit and cursor
  std::vector<std::string> request;  // the media types of the body accepted; empty: none
  std::string request_description;   // what the body holds
  Json request_schema;               // a JSON Schema of a JSON body (null: none given)
  int success = 200;                 // the status of success
  std::vector<std::string> response = {"application/json"};
  std::string response_description;  // what the success answer holds
  Json response_schema;              // a JSON Schema of a JSON answer (null: none given)
  std::vector<int> errors;           // besides 401/403/404, which every user route may answer

  // Setters, to write a description as one expression beside its route.
  ApiDoc& Describe(std::string d) {
    description = std::move(d);
    return *this;
  }
  ApiDoc& Query(std::vector<ApiParam> q) {
    query = std::move(q);
    return *this;
  }
  ApiDoc& Paginated() {
    paginated = true;
    return *this;
  }
  ApiDoc& Request(std::vector<std::string> types) {
    request = std::move(types);
    return *this;
  }
  ApiDoc& RequestText(std::string d) {
    request_description = std::move(d);
    return *this;
  }
  ApiDoc& RequestSchema(Json s) {
    request_schema = std::move(s);
    return *this;
  }
  ApiDoc& Success(int status) {
    success = status;
    return *this;
  }
  ApiDoc& Response(std::vector<std::string> types) {
    response = std::move(types);
    return *this;
  }
  ApiDoc& Returns(std::string d) {
    response_description = std::move(d);
    return *this;
  }
  ApiDoc& Schema(Json s) {
    response_schema = std::move(s);
    return *this;
  }
  ApiDoc& Errors(std::vector<int> e) {
    errors = std::move(e);
    return *this;
  }
};

// Adds the route to `app` and keeps its description for the OpenAPI document. The handler is
// wrapped: query parameters the description does not name are refused (400) before it runs, and
// an exception escaping it (nlohmann, std) is answered 500 rather than tearing the server down.
void Add(WebApp& app, RouteSpec spec, ApiDoc doc, RouteHandler handler);

// The description of a route added with Add; nullptr for routes added otherwise.
const ApiDoc* DocOf(std::string_view method, std::string_view pattern);

// The OpenAPI 3.1 document of `app`'s JSON routes (api_openapi.cc).
Json OpenApiDocument(const WebApp& app);

// A JSON answer ("\n" ended); invalid UTF-8 in strings is replaced, never an exception.
HttpResponse JsonReply(int status, const Json& j);
std::string Dump(const Json& j);

// One page of `total` items starting at `p.offset`: {"items": items, "next_cursor": C or null}.
HttpResponse PageReply(Json items, const PageRequest& p, bool more);

// A page of a vector: the items [offset, offset + limit) rendered by `fn`.
template <typename T, typename Fn>
HttpResponse SlicePage(const std::vector<T>& all, const PageRequest& p, Fn&& fn) {
  Json items = Json::array();
  const std::size_t begin = static_cast<std::size_t>(p.offset);
  const std::size_t end = std::min(all.size(), begin + static_cast<std::size_t>(p.limit));
  for (std::size_t i = begin; i < end; ++i) items.push_back(fn(all[i]));
  return PageReply(std::move(items), p, end < all.size());
}

// The request's body as a JSON object; InvalidArgument saying where the JSON breaks, or that an
// object was expected. An empty body is an empty object.
Result<Json> JsonBody(const HttpRequest& req);

// Fields of a JSON object: absent (or null) gives the default / nullopt; a value of the wrong
// type is InvalidArgument naming the field and the type expected.
Result<std::string> StringField(const Json& j, std::string_view key, bool required = false);
Result<std::optional<std::int64_t>> IntField(const Json& j, std::string_view key);
Result<bool> BoolField(const Json& j, std::string_view key);
Result<std::vector<std::string>> StringListField(const Json& j, std::string_view key);
// Refuses keys not in `known` (a misspelt field must not be silently ignored).
Status OnlyFields(const Json& j, std::initializer_list<std::string_view> known);

// Query parameters: absent gives nullopt; a malformed value is InvalidArgument naming it.
std::optional<std::string> QueryText(const HttpRequest& req, std::string_view name);
Result<std::optional<std::int64_t>> QueryInt(const HttpRequest& req, std::string_view name);
Result<bool> QueryBool(const HttpRequest& req, std::string_view name);

// A time as the command line takes it: a date YYYY-MM-DD (the start of that London day, or its
// end with `end_of_day`) or an RFC 3339 instant. Errors name `field`.
Result<Instant> ParseAt(const std::string& text, bool end_of_day, std::string_view field);

// An answer for a refused request: the JSON error of `s` (net/http.h).
inline HttpResponse Fail(const Status& s) {
  return ErrorResponse(s);
}

// JSON of the domain values, with the fields of the command line's --json output.
Json OptionalDate(const std::optional<Date>& d);
Json OptionalInstant(const std::optional<Instant>& t);
Json ContractJson(const app::ContractRecord& c);
using app::EventJson;       // app/json_views.h, shared with the command line
using app::FindingJson;
using app::ObligationJson;

// The body of an event to record (type, subject, at, note, attrs), as `isms event record` takes
// it (api_contracts.cc).
Result<app::NewEvent> ParseNewEvent(const Json& body, const std::string& contract);
// Checks the action of recording `e` as the caller (EventAction), records it (a finding's event
// through the vulnerability checks), seals the ledger log and answers 201 (api_contracts.cc).
HttpResponse RecordEvent(RequestContext& ctx, app::NewEvent e);

// The finding `id` of the request's contract; NotFound alike for a finding that does not exist
// and one of another contract (api_vulns.cc).
Result<app::FindingView> FindFinding(RequestContext& ctx, const std::string& id);

}  // namespace isms::net::api
