#include "net/http_server.h"

#include <utility>  // before Asio under C++20

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <atomic>
#include <cctype>
#include <csignal>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "net/listen.h"
#include "net/tls_cert.h"

namespace isms::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasHeader(const HttpResponse& r, std::string_view lower_name) {
  for (const HttpHeader& h : r.headers) {
    if (Lower(h.name) == lower_name) return true;
  }
  return false;
}

}  // namespace

struct SessionBase {
  virtual ~SessionBase() = default;
  // Closes the connection when it is waiting for a request (shutdown); a request being read
  // or handled is finished first.
  virtual void CloseIfIdle() = 0;
};

struct HttpServer::Impl {
  Impl(const HttpServerOptions& o, HttpHandler h, std::ostream& l)
      : options(o),
        handler(std::move(h)),
        log(l),
        io(static_cast<int>(o.threads == 0 ? 1 : o.threads)),
        control(asio::make_strand(io)),
        signals(control),
        grace(control) {}

  HttpServerOptions options;
  HttpHandler handler;
  std::ostream& log;
  std::mutex log_mu;
  asio::io_context io;
  asio::strand<asio::io_context::executor_type> control;  // acceptors, signals, grace timer
  asio::signal_set signals;
  asio::steady_timer grace;
  // The TLS context new connections take: replaced by ReloadTls, while each connection keeps the
  // one it began with.
  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::string> listening;
  std::atomic<bool> stopping{false};

  std::mutex sessions_mu;
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  std::atomic<std::uint64_t> connections{0}, requests{0}, tls_failures{0}, refused{0},
      refused_connections{0};
  LogThrottle limit_log;  // under log_mu

  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    log << "isms serve: " << line << std::endl;
  }

  void Register(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions[s.get()] = s;
  }
  void Unregister(SessionBase* s) {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions.erase(s);
    if (stopping && sessions.empty()) asio::post(control, [this] { grace.cancel(); });
  }

  std::shared_ptr<asio::ssl::context> CurrentTls() {
    std::lock_guard<std::mutex> lock(tls_mu);
    return tls;
  }
  // Makes the TLS context (again) from the certificate and key files; the one in use stays when
  // that fails.
  Status ReloadTls();
  // Waits for the next signal: SIGHUP reloads the certificate, SIGINT and SIGTERM stop.
  void WaitForSignal();

  void Accept(tcp::acceptor& acceptor);
  void BeginStop();
};

namespace {

template <bool kTls>
class Session : public SessionBase, public std::enable_shared_from_this<Session<kTls>> {
 public:
  using Stream =
      std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  // `tls`: the context the stream was made with (kept while the stream lives), or null.
  template <typename... Args>
  Session(HttpServer::Impl& impl, std::string remote, std::shared_ptr<asio::ssl::context> tls,
          Args&&... args)
      : impl_(impl),
        remote_(std::move(remote)),
        tls_(std::move(tls)),
        stream_(std::forward<Args>(args)...),
        deadline_(stream_.get_executor()) {}
  ~Session() override { impl_.Unregister(this); }

  void Start() {
    if constexpr (kTls) {
      Lowest().expires_after(impl_.options.idle_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) {
                                  ++self->impl_.tls_failures;
                                  return;
                                }
                                self->ReadHeader();
                              });
    } else {
      ReadHeader();
    }
  }

  void CloseIfIdle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->Lowest().cancel();
    });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void ReadHeader() {
    if (impl_.stopping) return Close();
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(impl_.options.max_header_bytes));
    parser_->body_limit(impl_.options.max_body_bytes);
    Lowest().expires_after(impl_.options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    idle_ = false;
    if (ec) return OnReadError(ec);
    const auto& h = parser_->get();
    auto length = parser_->content_length();
    if (length && *length > impl_.options.max_body_bytes) {
      return Refuse(413, "content_too_large",
                    "the request body is " + std::to_string(*length) +
                        " bytes; the limit is " + std::to_string(impl_.options.max_body_bytes));
    }
    auto expect = h.find(bhttp::field::expect);
    if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       h.version());
      return bhttp::async_write(stream_, *cont,
                                [self = this->shared_from_this(), cont](error_code e, size_t) {
                                  if (e) return self->Close();
                                  self->ReadBody();
                                });
    }
    ReadBody();
  }

  // The body has its own deadline (not the stream's, which would close the socket) so that a
  // request cut short can still be answered 408.
  void ReadBody() {
    Lowest().expires_never();
    timed_out_ = false;
    deadline_.expires_after(impl_.options.request_timeout);
    deadline_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec) return;
      self->timed_out_ = true;
      error_code ignored;
      self->Lowest().socket().cancel(ignored);
    });
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        self->deadline_.cancel();
                        if (self->timed_out_) {
                          return self->Refuse(408, "request_timeout",
                                              "the request body was not received within " +
                                                  std::to_string(
                                                      self->impl_.options.request_timeout.count()) +
                                                  " s; send it whole and promptly");
                        }
                        if (ec) return self->OnReadError(ec);
                        self->Handle();
                      });
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::ssl::error::stream_truncated) {
      return Close();
    }
    if (ec == beast::error::timeout) return;  // the stream closed the socket
    if (ec == bhttp::error::header_limit) {
      return Refuse(431, "header_too_large",
                    "the request headers exceed " +
                        std::to_string(impl_.options.max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      return Refuse(413, "content_too_large",
                    "the request body exceeds " + std::to_string(impl_.options.max_body_bytes) +
                        " bytes");
    }
    Refuse(400, "bad_request", "malformed HTTP request: " + ec.message());
  }

  void Refuse(int status, std::string_view code, const std::string& message) {
    ++impl_.refused;
    HttpResponse r = HttpResponse::Error(status, code, message);
    Write(std::move(r), /*keep_alive=*/false, /*head=*/false, 11);
  }

  void Handle() {
    bhttp::request<bhttp::string_body> msg = parser_->release();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.remote = remote_;
    req.tls = kTls;
    for (const auto& f : msg) {
      beast::string_view n = f.name_string(), v = f.value();
      req.headers.push_back({Lower(std::string_view(n.data(), n.size())), std::string(v.data(), v.size())});
    }
    req.body = std::move(msg.body());
    bool keep_alive = msg.keep_alive();
    bool head = msg.method() == bhttp::verb::head;
    HttpResponse res;
    if (Status st = ParseTarget(req); !st.ok()) {
      res = HttpResponse::Error(400, "bad_request", st.message());
    } else {
      try {
        res = impl_.handler(req);
      } catch (const std::exception& e) {
        impl_.Log(std::string("request ") + req.method + " " + req.path + " failed: " + e.what());
        res = HttpResponse::Error(500, "internal", "the server failed on this request; see its log");
      }
    }
    ++impl_.requests;
    Write(std::move(res), keep_alive && !impl_.stopping, head, msg.version());
  }

  void Write(HttpResponse r, bool keep_alive, bool head, unsigned version) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    for (HttpHeader& h : r.headers) res->insert(h.name, h.value);
    if (kTls) res->set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    res->set("X-Content-Type-Options", "nosniff");
    res->set("Referrer-Policy", "no-referrer");
    res->set("X-Frame-Options", "DENY");
    if (!HasHeader(r, "cache-control")) res->set(bhttp::field::cache_control, "no-store");
    res->keep_alive(keep_alive);
    size_t length = r.body.size();
    if (!head) res->body() = std::move(r.body);
    res->prepare_payload();
    if (head) res->content_length(length);
    Lowest().expires_after(impl_.options.request_timeout);
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res, keep_alive](error_code ec, size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->ReadHeader();
                       });
  }

  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {
        error_code ignored;
        self->Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  HttpServer::Impl& impl_;
  std::string remote_;
  std::shared_ptr<asio::ssl::context> tls_;  // before the stream: outlives it
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  std::atomic<bool> idle_{true};
};

}  // namespace

void HttpServer::Impl::Accept(tcp::acceptor& acceptor) {
  acceptor.async_accept(asio::make_strand(io), [this, &acceptor](error_code ec, tcp::socket s) {
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) return;
      Log("accept failed: " + ec.message());
      return Accept(acceptor);
    }
    error_code e;
    std::string remote = s.remote_endpoint(e).address().to_string();
    size_t open = 0;
    {
      std::lock_guard<std::mutex> lock(sessions_mu);
      open = sessions.size();
    }
    if (open >= options.max_connections) {
      const std::uint64_t n = ++refused_connections;
      s.close(e);
      std::lock_guard<std::mutex> lock(log_mu);
      if (limit_log.Due()) {
        log << "isms serve: refused a connection from " << remote << ": " << open
            << " connections are open, the most --max-connections allows (" << n
            << " refused so far)" << std::endl;
      }
      return Accept(acceptor);
    }
    ++connections;
    s.set_option(tcp::no_delay(true), e);
    std::shared_ptr<SessionBase> session;
    if (std::shared_ptr<asio::ssl::context> ctx = CurrentTls()) {
      asio::ssl::context& c = *ctx;
      auto t = std::make_shared<Session<true>>(*this, remote, std::move(ctx), std::move(s), c);
      Register(t);
      t->Start();
    } else {
      auto p = std::make_shared<Session<false>>(*this, remote, nullptr, std::move(s));
      Register(p);
      p->Start();
    }
    Accept(acceptor);
  });
}

void HttpServer::Impl::BeginStop() {
  asio::post(control, [this] {
    error_code ignored;
    for (auto& a : acceptors) a->close(ignored);
    signals.cancel(ignored);
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> lock(sessions_mu);
      for (auto& [raw, weak] : sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
      if (sessions.empty()) return;
    }
    for (auto& s : live) s->CloseIfIdle();
    grace.expires_after(options.shutdown_grace);
    grace.async_wait([this](error_code ec) {
      if (ec) return;  // every connection closed in time
      Log("shutdown: connections still open after the grace period are dropped");
      io.stop();
    });
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options,
                                                       HttpHandler handler, std::ostream& log) {
  auto impl = std::make_unique<Impl>(options, std::move(handler), log);
  if (options.listen.empty()) return Status::InvalidArgument("no HTTPS listen address given");
  if (options.max_connections == 0) {
    return Status::InvalidArgument("--max-connections must be at least 1");
  }
  if (options.tls) ISMS_RETURN_IF_ERROR(impl->ReloadTls());
  for (const std::string& text : options.listen) {
    ISMS_ASSIGN_OR_RETURN(ListenAddress la, ParseListenAddress(text));
    if (!options.tls && !la.address.is_loopback()) {
      return Status::InvalidArgument(
          "plain HTTP is served on a loopback address only (127.0.0.1, ::1), not on " + text +
          "; drop --insecure-http to serve HTTPS there");
    }
    auto acceptor = std::make_unique<tcp::acceptor>(impl->io);
    tcp::endpoint ep(la.address, la.port);
    error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable("cannot listen on " + text + ": " + ec.message());
    tcp::endpoint local = acceptor->local_endpoint(ec);
    impl->listening.push_back(std::string(options.tls ? "https " : "http ") +
                              EndpointText(local.address(), local.port()));
    impl->acceptors.push_back(std::move(acceptor));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::vector<std::string> HttpServer::listening() const { return impl_->listening; }

Status HttpServer::Run() {
  Impl& m = *impl_;
  asio::post(m.control, [&m] {
    if (m.options.handle_signals) {
      m.signals.add(SIGINT);
      m.signals.add(SIGTERM);
      m.signals.add(SIGHUP);
      m.WaitForSignal();
    }
    if (m.stopping) return;
    for (auto& a : m.acceptors) m.Accept(*a);
  });
  std::vector<std::thread> threads;
  size_t n = m.options.threads == 0 ? 1 : m.options.threads;
  for (size_t i = 1; i < n; ++i) {
    threads.emplace_back([&m] {
      NameThisThread("http");
      m.io.run();
    });
  }
  NameThisThread("http");
  m.io.run();
  for (std::thread& t : threads) t.join();
  return Status::Ok();
}

Status HttpServer::Impl::ReloadTls() {
  if (!options.tls) {
    return Status::FailedPrecondition("plain HTTP is served: there is no certificate to reload");
  }
  TlsFiles files;
  files.cert = options.tls_cert;
  files.key = options.tls_key;
  ISMS_ASSIGN_OR_RETURN(std::unique_ptr<asio::ssl::context> ctx, MakeServerTlsContext(files));
  std::lock_guard<std::mutex> lock(tls_mu);
  tls = std::move(ctx);
  return Status::Ok();
}

void HttpServer::Impl::WaitForSignal() {
  signals.async_wait([this](error_code ec, int signal) {
    if (ec) return;
    if (signal != SIGHUP) {
      stopping = true;
      return BeginStop();
    }
    if (options.tls) Log(ReloadedMessage("HTTPS", options.tls_cert, ReloadTls()));
    WaitForSignal();
  });
}

Status HttpServer::ReloadTls() { return impl_->ReloadTls(); }

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->BeginStop();
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.connections = impl_->connections;
  s.refused_connections = impl_->refused_connections;
  s.requests = impl_->requests;
  s.tls_failures = impl_->tls_failures;
  s.refused = impl_->refused;
  std::lock_guard<std::mutex> lock(impl_->sessions_mu);
  s.active = impl_->sessions.size();
  return s;
}

}  // namespace isms::net
