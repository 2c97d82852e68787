#include "net/http.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace isms::net {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_name) return h.value;
  }
  return {};
}

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string HttpRequest::Cookie(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (h.name != "cookie") continue;
    std::string_view s = h.value;
    while (!s.empty()) {
      size_t semi = s.find(';');
      std::string_view pair = s.substr(0, semi);
      s = semi == std::string_view::npos ? std::string_view() : s.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Redirect(std::string location) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "See " + location + "\n";
  r.headers.push_back({"Location", std::move(location)});
  return r;
}

HttpResponse HttpResponse::Error(int status, std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error",
                       {{"status", status},
                        {"code", std::string(code)},
                        {"message", std::string(message)}}}};
  return Json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ErrorCodeOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal";
  }
  return "internal";
}

HttpResponse ErrorResponse(const Status& s) {
  return HttpResponse::Error(HttpStatusOf(s.code()), ErrorCodeOf(s.code()), s.message());
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseFormEncoded(
    std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!s.empty()) {
    size_t amp = s.find('&');
    std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::optional<std::string> k = PercentDecode(pair.substr(0, eq), true);
    std::optional<std::string> v =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    if (!k || !v) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

Status ParseTarget(HttpRequest& r) {
  std::string_view t = r.target;
  if (t.empty() || t.front() != '/') {
    return Status::InvalidArgument("the request target must be a path beginning with /");
  }
  size_t q = t.find('?');
  std::optional<std::string> path = PercentDecode(t.substr(0, q), false);
  if (!path) return Status::InvalidArgument("the request path holds a malformed % escape");
  if (path->find('\0') != std::string::npos) {
    return Status::InvalidArgument("the request path holds a NUL byte");
  }
  r.path = std::move(*path);
  r.query.clear();
  if (q != std::string_view::npos) {
    auto query = ParseFormEncoded(t.substr(q + 1));
    if (!query) return Status::InvalidArgument("the query string holds a malformed % escape");
    r.query = std::move(*query);
  }
  return Status::Ok();
}

std::string_view Param(const PathParams& p, std::string_view name) {
  for (const auto& [k, v] : p) {
    if (k == name) return v;
  }
  return {};
}

int RouteTable::Add(std::string method, std::string pattern) {
  for (const Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      throw std::logic_error("route added twice: " + method + " " + pattern);
    }
  }
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  for (std::string_view s : Segments(r.pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
  return static_cast<int>(routes_.size() - 1);
}

RouteTable::Match RouteTable::Find(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> segs = Segments(path);
  Match best;
  int best_literals = -1;
  std::vector<std::string> allowed;
  for (size_t id = 0; id < routes_.size(); ++id) {
    const Route& r = routes_[id];
    if (r.segments.size() != segs.size()) continue;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (IsParam(r.segments[i])) continue;
      if (r.segments[i] != segs[i]) ok = false;
      ++literals;
    }
    if (!ok) continue;
    // HEAD is served by GET's handler (the server drops the body).
    bool method_ok = r.method == method || (method == "HEAD" && r.method == "GET");
    if (!method_ok) {
      allowed.push_back(r.method);
      continue;
    }
    if (literals <= best_literals) continue;
    best_literals = literals;
    best.id = static_cast<int>(id);
    best.params.clear();
    for (size_t i = 0; i < segs.size(); ++i) {
      if (IsParam(r.segments[i])) {
        const std::string& s = r.segments[i];
        best.params.emplace_back(s.substr(1, s.size() - 2), std::string(segs[i]));
      }
    }
  }
  if (best.id < 0) {
    for (const std::string& m : allowed) {
      if (best.allow.find(m) != std::string::npos) continue;
      if (!best.allow.empty()) best.allow += ", ";
      best.allow += m;
    }
  }
  return best;
}

}  // namespace isms::net
