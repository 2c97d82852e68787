#include "net/web_app.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "net/listen.h"
#include "net/multipart.h"
#include "net/web_render.h"

namespace isms::net {

namespace {

constexpr double kBucketMs[] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
constexpr size_t kBuckets = sizeof(kBucketMs) / sizeof(kBucketMs[0]);

bool SafeMethod(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS";
}

bool IsApiPath(std::string_view path) {
  return path.rfind("/api/", 0) == 0 || path == "/healthz" || path == "/metrics";
}

// A refusal in the form the route's kind expects: JSON for the API, a small page otherwise.
HttpResponse Refusal(bool api, int status, std::string_view code, const std::string& message) {
  if (api) return HttpResponse::Error(status, code, message);
  std::string title = std::to_string(status) + " " + std::string(ReasonPhrase(status));
  std::string body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     title +
                     " - isms</title><link rel=\"stylesheet\" href=\"/static/isms.css\">"
                     "</head><body><main><h1>" +
                     title + "</h1><p>" + web::HtmlEscape(message) +
                     "</p><p><a href=\"/\">Back to the start page</a></p></main></body></html>\n";
  return HttpResponse::Text(status, std::move(body), "text/html; charset=utf-8");
}

HttpResponse RefusalOf(bool api, const Status& s) {
  return Refusal(api, HttpStatusOf(s.code()), ErrorCodeOf(s.code()), s.message());
}

// The CSRF token a request carries: the X-CSRF-Token header, else the form field "csrf" of a
// urlencoded or multipart body.
std::string CsrfOf(const HttpRequest& req) {
  std::string_view header = req.Header("x-csrf-token");
  if (!header.empty()) return std::string(header);
  std::string_view type = req.Header("content-type");
  if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    auto form = ParseFormEncoded(req.body);
    if (!form) return {};
    for (auto& [k, v] : *form) {
      if (k == "csrf") return v;
    }
    return {};
  }
  if (std::optional<std::string> b = MultipartBoundary(type)) {
    auto parts = ParseMultipart(*b, req.body);
    if (!parts.ok()) return {};
    for (const MultipartPart& p : *parts) {
      if (p.name == "csrf" && p.filename.empty()) return std::string(p.data);
    }
  }
  return {};
}

// The host part of an Origin header value ("https://host:port" -> "host:port").
std::string_view OriginHost(std::string_view origin) {
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  return origin.substr(scheme + 3);
}

std::string Base64Url(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(s[i]) << 16) |
                 (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i < s.size()) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (i + 1 < s.size()) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

// The pool of per-thread services and the access-log writer.
struct WebApp::Impl {
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Services>> pool;  // idle services

  std::mutex queue_mu;
  std::condition_variable queue_cv, flushed_cv;
  std::vector<app::AccessLogEntry> queue;
  std::uint64_t queued = 0, committed = 0;  // entries
  bool stop = false;
  std::unique_ptr<app::AuditService> writer_service;
  std::thread writer;
  std::atomic<std::uint64_t> audit_failures{0};
};

void RequestContext::RecordChange(const std::string& action, const std::string& target,
                                  const Status& outcome, const std::vector<std::string>& contracts,
                                  const std::string& detail) {
  app::AccessEvent e;
  e.time = clock.Now();
  e.user = principal->name;
  e.role = std::string(app::RoleKey(principal->role));
  e.via = principal->via;
  e.address = req.remote;
  e.kind = "change";
  e.action = action;
  e.target = target;
  e.outcome = outcome.ok() ? "success" : "failure";
  e.detail = outcome.ok() ? detail : outcome.message();
  audit_skip = true;
  app.QueueAudit(app::AccessEntries(e, contracts));
}

Status RequestContext::Check(app::Action a, const std::string& contract_name) {
  if (!principal) return Status::PermissionDenied("not logged in");
  Status st = services.access->Check(*principal, a, contract_name);
  if (!st.ok()) denied = true;
  return st;
}

WebApp::WebApp(const WebAppOptions& options, const Clock& clock, std::ostream& log)
    : options_(options), clock_(clock), log_(log), impl_(std::make_unique<Impl>()) {
  static std::atomic<std::uint64_t> next_instance{1};
  instance_ = next_instance++;
  session_cookie_ = options.tls ? "__Host-isms_session" : "isms_session";
}

WebApp::~WebApp() {
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    impl_->stop = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

Result<std::unique_ptr<WebApp>> WebApp::Create(const WebAppOptions& options, const Clock& clock,
                                               std::ostream& log) {
  std::unique_ptr<WebApp> app(new WebApp(options, clock, log));
  ISMS_ASSIGN_OR_RETURN(app->impl_->writer_service,
                        app::AuditService::Open(options.store_url, options.key_dir, clock));
  // The first request should not pay for opening the store.
  ISMS_ASSIGN_OR_RETURN(Services * first, app->ThreadServices());
  {
    std::lock_guard<std::mutex> lock(app->impl_->pool_mu);
    app->impl_->pool.emplace_back(first);
  }
  Impl* impl = app->impl_.get();
  std::ostream* out = &app->log_;
  std::chrono::milliseconds flush = options.audit_flush;
  const Clock* clk = &clock;
  impl->writer = std::thread([impl, out, flush, clk] {
    NameThisThread("access-writer");
    std::unique_lock<std::mutex> lock(impl->queue_mu);
    while (true) {
      impl->queue_cv.wait_for(lock, flush, [impl] { return impl->stop || !impl->queue.empty(); });
      if (impl->queue.empty()) {
        if (impl->stop) return;
        continue;
      }
      // Group commit: wait up to one flush interval for more to arrive.
      if (!impl->stop && impl->queue.size() < 2000) {
        impl->queue_cv.wait_for(lock, flush / 4, [impl] { return impl->stop; });
      }
      std::vector<app::AccessLogEntry> batch;
      batch.swap(impl->queue);
      std::uint64_t n = batch.size();
      lock.unlock();
      Status st = app::AppendAccessRecords(*impl->writer_service, std::move(batch), *clk);
      if (!st.ok()) {
        impl->audit_failures += n;
        *out << "isms serve: access records not committed: " << st.ToString() << std::endl;
      }
      lock.lock();
      impl->committed += n;
      impl->flushed_cv.notify_all();
    }
  });
  return app;
}

Result<Services*> WebApp::ThreadServices() {
  {
    std::lock_guard<std::mutex> lock(impl_->pool_mu);
    if (!impl_->pool.empty()) {
      Services* s = impl_->pool.back().release();
      impl_->pool.pop_back();
      return s;
    }
  }
  auto s = std::make_unique<Services>();
  ISMS_ASSIGN_OR_RETURN(s->audit,
                        app::AuditService::Open(options_.store_url, options_.key_dir, clock_));
  s->access =
      std::make_unique<app::Access>(s->audit->ledger().connection(), clock_, options_.access);
  return s.release();
}

void WebApp::QueueAudit(std::vector<app::AccessLogEntry> entries) {
  if (entries.empty()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    impl_->queued += entries.size();
    for (auto& e : entries) impl_->queue.push_back(std::move(e));
  }
  impl_->queue_cv.notify_one();
}

Status WebApp::FlushAudit() {
  std::unique_lock<std::mutex> lock(impl_->queue_mu);
  std::uint64_t target = impl_->queued;
  impl_->queue_cv.notify_one();
  impl_->flushed_cv.wait(lock, [&] { return impl_->committed >= target; });
  if (impl_->audit_failures > 0) {
    return Status::Unavailable(std::to_string(impl_->audit_failures.load()) +
                               " access records could not be committed; see the server log");
  }
  return Status::Ok();
}

void WebApp::Add(RouteSpec spec, RouteHandler handler) {
  table_.Add(spec.method, spec.pattern);
  specs_.push_back(std::move(spec));
  handlers_.push_back(std::move(handler));
  metrics_.push_back(std::make_unique<RouteMetrics>());
}

std::string WebApp::SessionCookie(const std::string& value, std::chrono::seconds max_age) const {
  std::string c = session_cookie_ + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (options_.tls) c += "; Secure";
  c += "; Max-Age=" + std::to_string(max_age.count());
  return c;
}

void WebApp::AddMetricsSource(std::function<std::string()> source) {
  metric_sources_.push_back(std::move(source));
}

HttpResponse WebApp::Handle(HttpRequest& req) {
  auto start = std::chrono::steady_clock::now();
  int route = -1;
  HttpResponse res = Dispatch(req, route);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  RouteMetrics& rm = route >= 0 ? *metrics_[static_cast<size_t>(route)] : unmatched_;
  ++rm.count;
  if (res.status >= 500)
    ++rm.errors;
  else if (res.status >= 400)
    ++rm.client_errors;
  rm.micros += static_cast<std::uint64_t>(micros);
  double ms = static_cast<double>(micros) / 1000.0;
  size_t b = 0;
  while (b < kBuckets && ms > kBucketMs[b]) ++b;
  ++rm.buckets[b];
  return res;
}

HttpResponse WebApp::Dispatch(HttpRequest& req, int& route) {
  bool api_path = IsApiPath(req.path);
  RouteTable::Match m = table_.Find(req.method, req.path);
  if (m.id < 0) {
    if (!m.allow.empty()) {
      HttpResponse r = Refusal(api_path, 405, "method_not_allowed",
                               req.method + " is not served at " + req.path + "; use " + m.allow);
      r.With("Allow", m.allow);
      return r;
    }
    return Refusal(api_path, 404, "not_found", "nothing is served at " + req.path);
  }
  route = m.id;
  const RouteSpec& spec = specs_[static_cast<size_t>(m.id)];
  bool api = spec.kind == RouteKind::kApi;

  Result<Services*> leased = ThreadServices();
  if (!leased.ok()) {
    log_ << "isms serve: cannot open the store: " << leased.status().ToString() << std::endl;
    return Refusal(api, 503, "unavailable", "the store cannot be opened; see the server log");
  }
  std::unique_ptr<Services> services(*leased);
  struct Return {
    Impl& impl;
    std::unique_ptr<Services>& s;
    ~Return() {
      std::lock_guard<std::mutex> lock(impl.pool_mu);
      impl.pool.push_back(std::move(s));
    }
  } give_back{*impl_, services};

  RequestContext ctx(req, std::move(m.params), *services, clock_, *this);
  ctx.contract = std::string(ctx.Param("contract"));

  // Authentication: a bearer token, else the session cookie.
  std::string_view authz = req.Header("authorization");
  if (!authz.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    Result<app::Principal> p =
        authz.rfind(kBearer, 0) == 0
            ? services->access->AuthenticateToken(authz.substr(kBearer.size()))
            : Result<app::Principal>(
                  Status::PermissionDenied("only Authorization: Bearer TOKEN is accepted"));
    if (!p.ok()) {
      app::AccessEvent e;
      e.time = clock_.Now();
      e.via = "token";
      e.address = req.remote;
      e.kind = "auth";
      e.action = "token";
      e.target = req.method + " " + req.path;
      e.outcome = "failure";
      e.detail = p.status().message();
      QueueAudit(app::AccessEntries(e, {}));
      HttpResponse r = Refusal(api, 401, "unauthenticated", p.status().message());
      r.With("WWW-Authenticate", "Bearer realm=\"isms\", error=\"invalid_token\"");
      return r;
    }
    ctx.principal = std::move(*p);
  } else if (std::string cookie = req.Cookie(session_cookie_); !cookie.empty()) {
    Result<app::SessionView> s = services->access->FindSession(cookie);
    if (s.ok()) {
      ctx.principal = s->principal;
      ctx.session = std::move(*s);
    }
  }
  if (spec.auth == RouteAuth::kUser && !ctx.principal) {
    if (api) {
      HttpResponse r = Refusal(true, 401, "unauthenticated",
                               "log in first, or send Authorization: Bearer TOKEN "
                               "(isms token create)");
      r.With("WWW-Authenticate", "Bearer realm=\"isms\"");
      return r;
    }
    return HttpResponse::Redirect("/login?next=" + PercentEncode(req.target));
  }

  // Unsafe methods: from this site only (Origin), and with the session's CSRF token.
  if (!SafeMethod(req.method)) {
    std::string_view origin = req.Header("origin");
    // Browsers send "Origin: null" for a form posted from a page served with Referrer-Policy
    // no-referrer (every page here): it says nothing, so the CSRF token below decides.
    if (origin == "null") origin = {};
    if (!origin.empty() && OriginHost(origin) != req.Header("host")) {
      return Refusal(api, 403, "cross_origin",
                     "the request comes from another site (Origin " + std::string(origin) + ")");
    }
    if (ctx.session && !app::Access::CheckCsrf(*ctx.session, CsrfOf(req))) {
      return Refusal(api, 403, "csrf",
                     "the form's security token is missing or stale; reload the page and try "
                     "again (API clients: send the X-CSRF-Token header)");
    }
  }

  HttpResponse res;
  Status pre;
  if (ctx.principal && !spec.action.empty()) {
    Result<app::Action> a = app::ParseAction(spec.action);
    if (!a.ok()) throw std::logic_error("route " + spec.pattern + ": " + a.status().message());
    if (app::IsStoreAction(*a)) {
      pre = ctx.Check(*a, "");
    } else if (!ctx.contract.empty()) {
      pre = ctx.Check(*a, ctx.contract);
    }
  }
  if (!pre.ok()) {
    res = RefusalOf(api, pre);
  } else {
    res = handlers_[static_cast<size_t>(route)](ctx);
  }

  // The access record.
  if (ctx.audit_override) {
    std::vector<std::string> contracts;
    if (ctx.principal) contracts = ctx.principal->contracts;
    QueueAudit(app::AccessEntries(*ctx.audit_override, contracts));
  } else if (ctx.principal && !ctx.audit_skip) {
    app::AccessEvent e;
    e.time = clock_.Now();
    e.user = ctx.principal->name;
    e.role = std::string(app::RoleKey(ctx.principal->role));
    e.via = ctx.principal->via;
    e.address = req.remote;
    e.kind = SafeMethod(req.method) ? "access" : "change";
    e.action = spec.action.empty() ? req.method : spec.action;
    e.target = req.method + " " + req.path;
    e.outcome = ctx.denied || res.status == 403 ? "denied"
                : res.status >= 400             ? "failure"
                                                : "success";
    e.detail = ctx.audit_detail;
    bool holds = false;
    for (const std::string& c : ctx.principal->contracts) holds = holds || c == ctx.contract;
    QueueAudit(
        {app::AccessLogEntry{holds ? ctx.contract : std::string(), app::AccessAuditRecord(e)}});
  }
  return res;
}

std::string WebApp::MetricsText() const {
  std::ostringstream o;
  o << "# HELP isms_http_requests_total HTTP requests answered, by route and status class.\n"
       "# TYPE isms_http_requests_total counter\n";
  auto each = [&](auto&& fn) {
    for (size_t i = 0; i < specs_.size(); ++i) {
      fn(specs_[i].method + " " + specs_[i].pattern, *metrics_[i]);
    }
    fn(std::string("unmatched"), unmatched_);
  };
  each([&](const std::string& route, const RouteMetrics& m) {
    std::uint64_t n = m.count, e5 = m.errors, e4 = m.client_errors;
    if (n == 0) return;
    o << "isms_http_requests_total{route=\"" << route << "\",class=\"ok\"} " << (n - e4 - e5)
      << "\n";
    o << "isms_http_requests_total{route=\"" << route << "\",class=\"4xx\"} " << e4 << "\n";
    o << "isms_http_requests_total{route=\"" << route << "\",class=\"5xx\"} " << e5 << "\n";
  });
  o << "# HELP isms_http_request_duration_seconds Time to handle a request, by route.\n"
       "# TYPE isms_http_request_duration_seconds histogram\n";
  each([&](const std::string& route, const RouteMetrics& m) {
    std::uint64_t n = m.count;
    if (n == 0) return;
    std::uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets; ++b) {
      cumulative += m.buckets[b];
      o << "isms_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"";
      if (b < kBuckets) {
        o << kBucketMs[b] / 1000.0;
      } else {
        o << "+Inf";
      }
      o << "\"} " << cumulative << "\n";
    }
    o << "isms_http_request_duration_seconds_sum{route=\"" << route << "\"} "
      << static_cast<double>(m.micros) / 1e6 << "\n";
    o << "isms_http_request_duration_seconds_count{route=\"" << route << "\"} " << n << "\n";
  });
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    o << "# HELP isms_access_records_total Access audit records queued and committed.\n"
         "# TYPE isms_access_records_total counter\n"
         "isms_access_records_total{state=\"queued\"} "
      << impl_->queued << "\nisms_access_records_total{state=\"committed\"} " << impl_->committed
      << "\nisms_access_records_total{state=\"failed\"} " << impl_->audit_failures << "\n";
  }
  for (const auto& source : metric_sources_) o << source();
  return o.str();
}

Result<PageRequest> ParsePage(const HttpRequest& req) {
  PageRequest p;
  if (std::optional<std::string> l = req.Query("limit")) {
    std::int64_t v = 0;
    bool digits = !l->empty() && l->size() <= 6;
    for (char c : *l) digits = digits && c >= '0' && c <= '9';
    if (digits) v = std::stoll(*l);
    if (!digits || v < 1 || v > 1000) {
      return Status::InvalidArgument("limit=" + *l + ": give a number of items from 1 to 1000");
    }
    p.limit = v;
  }
  if (std::optional<std::string> c = req.Query("cursor"); c && !c->empty()) {
    std::optional<std::string> raw = FromBase64Url(*c);
    bool ok = raw && raw->rfind("o:", 0) == 0 && raw->size() > 2 && raw->size() < 20;
    if (ok) {
      for (size_t i = 2; i < raw->size(); ++i) ok = ok && (*raw)[i] >= '0' && (*raw)[i] <= '9';
    }
    if (!ok) {
      return Status::InvalidArgument(
          "cursor: not a cursor this server gave; use the next_cursor of the previous page");
    }
    p.offset = std::stoll(raw->substr(2));
  }
  return p;
}

std::string NextCursor(std::int64_t offset, std::int64_t limit) {
  return Base64Url("o:" + std::to_string(offset + limit));
}

}  // namespace isms::net
