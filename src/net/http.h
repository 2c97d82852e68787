// HTTP requests and responses as plain values, the route table, and the JSON error shape every
// failure of the HTTPS server uses (docs/api.md "Errors"). Nothing here includes Beast: the
// server (http_server.h) converts to and from these, and the handlers (web_app.h, api_*.cc,
// web_*.cc) see only them.
//
// Thread-safety: values; a RouteTable is read-only once built and may be shared by threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace isms::net {

struct HttpHeader {
  std::string name;  // lower case in requests; as written in responses
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/api/v1/contracts?limit=10"
  std::string path;    // the target's path, percent-decoded: "/api/v1/contracts"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<HttpHeader> headers;                         // names lower case
  std::string body;
  std::string remote;  // the peer's address: "127.0.0.1", "::1"
  bool tls = false;

  // The first header of that (lower-case) name; "" when absent.
  std::string_view Header(std::string_view lower_name) const;
  // The first query parameter of that name.
  std::optional<std::string> Query(std::string_view name) const;
  // The value of a cookie of the Cookie header; "" when absent.
  std::string Cookie(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<HttpHeader> headers;
  std::string body;

  HttpResponse& With(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
  }

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body, std::string content_type);
  // 303 See Other to `location` (after a form post).
  static HttpResponse Redirect(std::string location);
  // {"error":{"status":404,"code":"not_found","message":"..."}}: the shape of every failure.
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
};

// The HTTP status and error code for a Status: InvalidArgument 400 "invalid_argument",
// NotFound 404, AlreadyExists 409, FailedPrecondition 409, PermissionDenied 403, Unavailable 503,
// others 500.
int HttpStatusOf(StatusCode code);
// The error code of a Status in JSON errors: "invalid_argument", "not_found", "already_exists",
// "failed_precondition", "permission_denied", "io_error", "corruption", "unavailable",
// "internal".
std::string_view ErrorCodeOf(StatusCode code);
HttpResponse ErrorResponse(const Status& s);

// The reason phrase of a status code: "Not Found".
std::string_view ReasonPhrase(int status);

// Percent-decodes `s` ("+" as a space when `plus_as_space`, as in forms and queries); nullopt
// for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space);
// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
std::string PercentEncode(std::string_view s);
// Parses "a=1&b=x+y" (a query or an application/x-www-form-urlencoded body); nullopt when an
// escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseFormEncoded(
    std::string_view s);

// Fills path and query of `r` from its target; InvalidArgument when the target is not an
// origin-form path or holds a malformed escape.
Status ParseTarget(HttpRequest& r);

using PathParams = std::vector<std::pair<std::string, std::string>>;
// The value of a path parameter ("" when absent).
std::string_view Param(const PathParams& p, std::string_view name);

// Routes: a method and a pattern of literal segments and {name} parameters
// ("/api/v1/contracts/{contract}/status"); a parameter matches one non-empty segment.
// Literal segments win over parameters at the same position.
class RouteTable {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{contract}" for a parameter
  };
  struct Match {
    int id = -1;  // the route's index; -1 when none matched
    PathParams params;
    std::string allow;  // when the path matched under other methods only: "GET, POST"
  };

  // Adds a route and returns its id (0, 1, ...). A duplicate method and pattern is a bug
  // (std::logic_error).
  int Add(std::string method, std::string pattern);
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace isms::net
