// The HTTPS listener of `isms serve` (docs/serve.md "HTTPS"): HTTP/1.1 with keep-alive over
// TLS 1.2+ (net/listen.h), or plain HTTP on a loopback address when asked. Every request is read
// whole within the limits below, handed to the handler as an HttpRequest, and its HttpResponse
// written with the security headers every response carries (HSTS over TLS, nosniff,
// no-referrer, frame-ancestors none, no-store unless the handler set Cache-Control).
//
// A request over a limit is answered with the JSON error (net/http.h) and its connection closed:
// headers over `max_header_bytes` 431, a body over `max_body_bytes` 413, a request not read
// within `request_timeout` 408, an idle keep-alive connection closed after `idle_timeout`. A
// connection beyond `max_connections` open at once is closed as soon as it is accepted.
//
// Threads: `threads` threads run the listeners and the handler; a handler may block (it reads
// the store) and runs on one of them. SIGHUP reloads the certificate (ReloadTls). Shutdown (Stop,
// SIGTERM or SIGINT): the listeners close, idle connections close, requests being handled are
// finished and answered, then Run returns.
//
// Thread-safety: Stop() and stats() from any thread; the handler is called concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/http.h"

namespace isms::net {

struct HttpServerOptions {
  std::vector<std::string> listen;  // HOST:PORT, [V6]:PORT or PORT (127.0.0.1:PORT)
  bool tls = true;                  // false: plain HTTP, loopback addresses only
  std::string tls_cert, tls_key;    // PEM files, needed when `tls`
  size_t threads = 4;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 512ull * 1024 * 1024;  // scan uploads are large
  std::chrono::seconds request_timeout{60};
  std::chrono::seconds idle_timeout{30};
  std::chrono::seconds shutdown_grace{20};  // longest wait for requests being handled
  // Connections open at once; one more is closed as soon as it is accepted, unanswered.
  size_t max_connections = 1000;
  bool handle_signals = true;               // stop on SIGTERM and SIGINT
};

struct HttpServerStats {
  std::uint64_t connections = 0;  // accepted
  std::uint64_t requests = 0;     // answered
  std::uint64_t tls_failures = 0;
  std::uint64_t refused = 0;  // requests answered with a limit error
  std::uint64_t refused_connections = 0;  // connections beyond max_connections
  std::uint64_t active = 0;   // connections open now
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

class HttpServer {
 public:
  // Binds every listener; InvalidArgument for a bad address, plain HTTP on a non-loopback
  // address, or TLS files that cannot be used; Unavailable when a port cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options,
                                                    HttpHandler handler, std::ostream& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "https 127.0.0.1:8443" (or "http ...") for each listener, with the port the system chose
  // for port 0.
  std::vector<std::string> listening() const;

  // Serves until Stop() (or a signal), then shuts down gracefully and returns.
  Status Run();
  void Stop();
  // Reads the certificate and key files again: connections accepted from now on use them, those
  // open keep theirs. The files are read and checked as by Create; on failure (InvalidArgument
  // naming the file, FailedPrecondition for plain HTTP) the certificate in use stays. SIGHUP does
  // the same when the server handles signals.
  Status ReloadTls();

  HttpServerStats stats() const;

  struct Impl;  // internal to http_server.cc

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isms::net
