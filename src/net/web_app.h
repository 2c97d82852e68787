// The application behind the HTTPS listener: routing, authentication (session cookie or bearer
// token), CSRF checks, the access audit record of every request, metrics, and the per-thread
// services the handlers use. The routes themselves are registered by the API (api_*.cc) and the
// web pages (web_*.cc); each names the Action it performs, so every request is checked and
// audited the same way. docs/api.md, docs/access.md.
//
// A request goes: match the route (404/405) -> authenticate (Bearer token, else the session
// cookie; a route that needs a user answers 401, or for a page redirects to /login) -> for an
// unsafe method on a session, the CSRF token (header X-CSRF-Token or form field "csrf") -> the
// handler, which calls RequestContext::Check before touching a contract's data -> the response,
// then one access record (who, what, when, from where, outcome) queued for the audit log of
// the route's contract (or the store's access log) and committed within a second by the
// writer thread.
//
// Thread-safety: Handle() is called concurrently from the server's threads; each thread gets
// its own Services (store connections) on first use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/access.h"
#include "app/audit.h"
#include "app/ledger.h"
#include "core/status.h"
#include "core/time.h"
#include "net/http.h"

namespace isms::net {

struct WebAppOptions {
  std::string store_url;  // resolved
  std::string key_dir;    // the audit signing key's folder ("" for the default)
  bool tls = true;        // cookies are Secure (and __Host- prefixed) over TLS
  app::AccessOptions access;
  std::chrono::milliseconds audit_flush{200};  // the access log's group commit
};

// The store connections of one server thread.
struct Services {
  std::unique_ptr<app::AuditService> audit;  // owns the Ledger
  std::unique_ptr<app::Access> access;       // on the Ledger's connection
  app::Ledger& ledger() { return audit->ledger(); }
};

class WebApp;

// Everything a handler sees of its request.
struct RequestContext {
  RequestContext(const HttpRequest& r, PathParams p, Services& s, const Clock& c, WebApp& a)
      : req(r), params(std::move(p)), services(s), clock(c), app(a) {}

  const HttpRequest& req;
  PathParams params;
  Services& services;
  const Clock& clock;
  WebApp& app;
  std::optional<app::Principal> principal;  // set on routes that need a user
  std::optional<app::SessionView> session;  // when authenticated by the session cookie
  std::string contract;                     // the {contract} path parameter, if any

  std::string_view Param(std::string_view name) const { return net::Param(params, name); }
  // Principal as the ledger's actor.
  app::Actor Actor() const { return app::ToActor(*principal); }
  // Access::Check for the principal; on refusal the access record says "denied".
  Status Check(app::Action a, const std::string& contract_name);
  // Adds a detail to this request's access record ("imported 120 findings").
  void Note(std::string detail) { audit_detail = std::move(detail); }
  // Records a change to an account or a grant (the principal's act on `target`) in the store's
  // access log and the logs of `contracts`, in place of this request's own record.
  void RecordChange(const std::string& action, const std::string& target, const Status& outcome,
                    const std::vector<std::string>& contracts, const std::string& detail = "");
  // Replaces this request's access record by `e` (log-in and log-out handlers), or suppresses
  // it with `skip` (requests that record nothing: static files).
  std::optional<app::AccessEvent> audit_override;
  bool audit_skip = false;
  bool denied = false;
  std::string audit_detail;
};

using RouteHandler = std::function<HttpResponse(RequestContext&)>;

enum class RouteAuth {
  kPublic,  // no user needed (login, health, static files, the OpenAPI document)
  kUser,    // an authenticated principal
};

enum class RouteKind {
  kApi,   // JSON: refusals are JSON errors, 401 for no user
  kPage,  // HTML: no user redirects to /login?next=PATH
};

struct RouteSpec {
  std::string method;
  std::string pattern;  // "/api/v1/contracts/{contract}/status"
  RouteKind kind = RouteKind::kApi;
  RouteAuth auth = RouteAuth::kUser;
  // The action the route performs, for the access record and docs ("" for public routes and
  // routes whose action depends on the input, which then call Check themselves).
  std::string action;
  std::string summary;  // one line, for the OpenAPI document
};

struct RouteMetrics {
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> errors{0};         // 5xx
  std::atomic<std::uint64_t> client_errors{0};  // 4xx
  std::atomic<std::uint64_t> micros{0};         // sum of latencies
  // Latency histogram: <= 1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000 ms, +Inf.
  std::atomic<std::uint64_t> buckets[11] = {};
};

class WebApp {
 public:
  // Opens the store once (applying migrations) to check it, starts the access-log writer.
  static Result<std::unique_ptr<WebApp>> Create(const WebAppOptions& options, const Clock& clock,
                                                std::ostream& log);
  ~WebApp();  // stops the writer after committing what it holds
  WebApp(const WebApp&) = delete;
  WebApp& operator=(const WebApp&) = delete;

  // Adds a route; a duplicate is a bug (std::logic_error).
  void Add(RouteSpec spec, RouteHandler handler);
  const std::vector<RouteSpec>& routes() const { return specs_; }

  // The server's handler.
  HttpResponse Handle(HttpRequest& req);

  // Commits every queued access record now (shutdown, tests).
  Status FlushAudit();
  // Queues access-log entries (committed within audit_flush).
  void QueueAudit(std::vector<app::AccessLogEntry> entries);

  // The session cookie's name: "__Host-isms_session" over TLS, "isms_session" otherwise.
  const std::string& session_cookie() const { return session_cookie_; }
  // A Set-Cookie value for the session (empty `value` and max_age 0 deletes it).
  std::string SessionCookie(const std::string& value, std::chrono::seconds max_age) const;

  const WebAppOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }
  // This thread's services (opened on first use).
  Result<Services*> ThreadServices();

  // Prometheus text: per route requests and latencies, server gauges given by `extra`.
  std::string MetricsText() const;
  // Lines appended to MetricsText (the syslog listeners' counters, obligations by state).
  void AddMetricsSource(std::function<std::string()> source);

  struct Impl;

 private:
  WebApp(const WebAppOptions& options, const Clock& clock, std::ostream& log);
  HttpResponse Dispatch(HttpRequest& req, int& route);

  WebAppOptions options_;
  const Clock& clock_;
  std::ostream& log_;
  std::string session_cookie_;
  RouteTable table_;
  std::vector<RouteSpec> specs_;
  std::vector<RouteHandler> handlers_;
  std::vector<std::unique_ptr<RouteMetrics>> metrics_;
  RouteMetrics unmatched_;
  std::vector<std::function<std::string()>> metric_sources_;
  std::unique_ptr<Impl> impl_;
  std::uint64_t instance_;
};

// Pagination of every list (docs/api.md "Pagination"): `limit` (1-1000, default 100) and an
// opaque `cursor` naming where the previous page ended.
struct PageRequest {
  std::int64_t limit = 100;
  std::int64_t offset = 0;  // decoded from the cursor
};
Result<PageRequest> ParsePage(const HttpRequest& req);
// The cursor of the page after one that began at `offset` and held `limit` items.
std::string NextCursor(std::int64_t offset, std::int64_t limit);

}  // namespace isms::net
