#include "net/http_server.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "net/http_test_util.h"
#include "net/tls_cert.h"

namespace isms::net {
namespace {

namespace fs = std::filesystem;
using testing::Client;
using testing::PortOf;
using testing::Reply;

std::string TempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() /
               (name + "-" + std::to_string(::getpid()) + "-" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(p);
  return p.string();
}

// A server on a port the system chooses, running on its own thread until the fixture ends.
class Served {
 public:
  Served(HttpServerOptions o, HttpHandler h) {
    o.handle_signals = false;
    if (o.listen.empty()) o.listen = {"127.0.0.1:0"};
    auto s = HttpServer::Create(o, std::move(h), log_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return;
    server_ = std::move(*s);
    port_ = PortOf(server_->listening().at(0));
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  ~Served() { Stop(); }
  void Stop() {
    if (!server_) return;
    server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  unsigned short port() const { return port_; }
  HttpServer& server() { return *server_; }

 private:
  std::ostringstream log_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  unsigned short port_ = 0;
  Status run_status_;
};

HttpServerOptions Plain() {
  HttpServerOptions o;
  o.tls = false;
  o.threads = 2;
  return o;
}

HttpResponse Echo(HttpRequest& r) {
  HttpResponse res = HttpResponse::Text(200, r.method + " " + r.path + " " + r.body,
                                        "text/plain; charset=utf-8");
  res.With("X-Remote", r.remote);
  if (auto q = r.Query("q")) res.With("X-Q", *q);
  return res;
}

TEST(HttpServer, AnswersWithTheHandlersResponseAndTheSecurityHeaders) {
  Served s(Plain(), Echo);
  Client c(s.port(), false);
  Reply r = c.Send("POST", "/a%20b?q=1+2", "payload", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /a b payload");
  EXPECT_EQ(r.Header("x-q"), "1 2");
  EXPECT_EQ(r.Header("x-remote"), "127.0.0.1");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("x-frame-options"), "DENY");
  EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  EXPECT_EQ(r.Header("strict-transport-security"), "") << "HSTS is for HTTPS only";
}

TEST(HttpServer, KeepsTheConnectionAliveBetweenRequests) {
  Served s(Plain(), Echo);
  Client c(s.port(), false);
  for (int i = 0; i < 5; ++i) {
    Reply r = c.Send("GET", "/n" + std::to_string(i));
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.closed);
  }
  EXPECT_EQ(s.server().stats().connections, 1u);
  EXPECT_EQ(s.server().stats().requests, 5u);
}

TEST(HttpServer, HeadAnswersTheLengthWithoutTheBody) {
  Served s(Plain(), Echo);
  Client c(s.port(), false);
  Reply r = c.Send("HEAD", "/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("content-length"), std::to_string(std::string("HEAD /x ").size()));
}

TEST(HttpServer, AHandlerThatThrowsGivesAJson500) {
  Served s(Plain(), [](HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  Client c(s.port(), false);
  Reply r = c.Send("GET", "/");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("\"code\":\"internal\""), std::string::npos);
  EXPECT_EQ(r.body.find("boom"), std::string::npos) << "internals stay in the server log";
}

TEST(HttpServer, LimitsHeadersBodiesAndMalformedRequestsWithJsonErrors) {
  HttpServerOptions o = Plain();
  o.max_header_bytes = 1024;
  o.max_body_bytes = 100;
  Served s(o, Echo);
  {
    Client c(s.port(), false);
    Reply r = c.Send("GET", "/", "", {{"X-Big", std::string(2000, 'a')}});
    EXPECT_EQ(r.status, 431);
    EXPECT_NE(r.body.find("\"header_too_large\""), std::string::npos);
    EXPECT_TRUE(r.closed);
  }
  {
    Client c(s.port(), false);
    Reply r = c.Send("POST", "/", std::string(101, 'b'));
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find("\"content_too_large\""), std::string::npos);
  }
  {
    Client c(s.port(), false);
    Reply r = c.Send("POST", "/", std::string(100, 'b'));
    EXPECT_EQ(r.status, 200) << "a body at the limit is read";
  }
  {
    Client c(s.port(), false);
    Reply r = c.SendRaw("GARBAGE\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("\"bad_request\""), std::string::npos);
  }
  {
    Client c(s.port(), false);
    Reply r = c.SendRaw("GET relative/path HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 400);
  }
}

TEST(HttpServer, ARequestThatNeverCompletesTimesOut) {
  HttpServerOptions o = Plain();
  o.request_timeout = std::chrono::seconds(1);
  Served s(o, Echo);
  Client c(s.port(), false);
  Reply r = c.SendRaw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(r.status, 408);
}

// Waits up to 5 s for `n` connections to be open on `s`.
bool WaitForOpen(Served& s, std::uint64_t n) {
  for (int i = 0; i < 500 && s.server().stats().active != n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return s.server().stats().active == n;
}

TEST(HttpServer, AConnectionBeyondTheLimitIsClosedAndThoseOpenAreServed) {
  HttpServerOptions o = Plain();
  o.max_connections = 2;
  Served s(o, Echo);
  Client a(s.port(), false);
  std::optional<Client> b;
  b.emplace(s.port(), false);
  ASSERT_TRUE(a.Connect());
  ASSERT_TRUE(b->Connect());
  ASSERT_TRUE(WaitForOpen(s, 2));
  {
    Client over(s.port(), false);
    Reply r = over.Send("GET", "/over");
    EXPECT_EQ(r.status, 0) << "closed unanswered";
  }
  EXPECT_EQ(s.server().stats().refused_connections, 1u);
  EXPECT_EQ(a.Send("GET", "/a").status, 200);
  EXPECT_EQ(b->Send("GET", "/b").status, 200);
  b.reset();
  ASSERT_TRUE(WaitForOpen(s, 1));
  Client later(s.port(), false);
  EXPECT_EQ(later.Send("GET", "/later").status, 200) << "room again once one has closed";
  EXPECT_EQ(s.server().stats().connections, 3u) << "the refused one is not counted as accepted";
}

TEST(HttpServer, PlainHttpIsRefusedOffLoopback) {
  HttpServerOptions o = Plain();
  o.listen = {"0.0.0.0:0"};
  std::ostringstream log;
  auto s = HttpServer::Create(o, Echo, log);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("loopback"), std::string::npos);
}

TEST(HttpServer, RefusesABadListenAddressAndAPortInUse) {
  std::ostringstream log;
  HttpServerOptions o = Plain();
  o.listen = {"127.0.0.1:99999"};
  EXPECT_EQ(HttpServer::Create(o, Echo, log).status().code(), StatusCode::kInvalidArgument);
  Served s(Plain(), Echo);
  o.listen = {"127.0.0.1:" + std::to_string(s.port())};
  EXPECT_EQ(HttpServer::Create(o, Echo, log).status().code(), StatusCode::kUnavailable);
}

TEST(HttpServer, ShutdownFinishesTheRequestBeingHandled) {
  std::atomic<bool> started{false};
  Served s(Plain(), [&](HttpRequest& r) {
    started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return Echo(r);
  });
  Client idle(s.port(), false);
  ASSERT_TRUE(idle.Connect());
  Reply r;
  std::thread t([&] {
    Client c(s.port(), false);
    r = c.Send("GET", "/slow");
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto before = std::chrono::steady_clock::now();
  s.Stop();
  t.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /slow ");
  EXPECT_TRUE(r.closed) << "the answer during shutdown closes the connection";
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5))
      << "the idle connection did not hold the shutdown up";
}

class HttpsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("isms-https");
    auto cert = EnsureSelfSignedCert(dir_, "isms-test");
    ASSERT_TRUE(cert.ok()) << cert.status().ToString();
    cert_ = *cert;
  }
  void TearDown() override { fs::remove_all(dir_); }
  HttpServerOptions Options() {
    HttpServerOptions o;
    o.tls_cert = cert_.cert_path;
    o.tls_key = cert_.key_path;
    o.threads = 2;
    return o;
  }
  std::string dir_;
  SelfSignedCert cert_;
};

TEST_F(HttpsServer, ServesTls12AndLaterWithHsts) {
  Served s(Options(), Echo);
  Client c(s.port(), true);
  std::string error;
  ASSERT_TRUE(c.Connect(&error)) << error;
  Reply r = c.Send("GET", "/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("strict-transport-security"), "max-age=31536000; includeSubDomains");
  Client tls12(s.port(), true, TLS1_2_VERSION);
  EXPECT_TRUE(tls12.Connect(&error)) << error;
}

TEST_F(HttpsServer, RefusesTls11) {
  Served s(Options(), Echo);
  Client old(s.port(), true, TLS1_1_VERSION);
  EXPECT_FALSE(old.Connect());
  for (int i = 0; i < 100 && s.server().stats().tls_failures == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(s.server().stats().tls_failures, 1u);
}

TEST_F(HttpsServer, ReloadsItsCertificateForNewConnectionsAndKeepsItWhenTheFilesAreBad) {
  Served s(Options(), Echo);
  Client first(s.port(), true);
  ASSERT_TRUE(first.Connect());
  EXPECT_EQ(first.PeerFingerprint(), cert_.fingerprint);
  std::string other = TempDir("isms-https-renewed");
  auto renewed = EnsureSelfSignedCert(other, "renewed");
  ASSERT_TRUE(renewed.ok());
  ASSERT_NE(renewed->fingerprint, cert_.fingerprint);
  fs::copy_file(renewed->cert_path, cert_.cert_path, fs::copy_options::overwrite_existing);
  fs::copy_file(renewed->key_path, cert_.key_path, fs::copy_options::overwrite_existing);
  Status reloaded = s.server().ReloadTls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.ToString();
  Client second(s.port(), true);
  ASSERT_TRUE(second.Connect());
  EXPECT_EQ(second.PeerFingerprint(), renewed->fingerprint) << "new connections: the new one";
  EXPECT_EQ(first.Send("GET", "/still").status, 200) << "an open connection goes on";
  {
    std::ofstream damaged(cert_.cert_path, std::ios::trunc);
    damaged << "not a certificate\n";
  }
  Status bad = s.server().ReloadTls();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find(cert_.cert_path), std::string::npos) << bad.message();
  Client third(s.port(), true);
  ASSERT_TRUE(third.Connect()) << "the certificate in use stays";
  EXPECT_EQ(third.PeerFingerprint(), renewed->fingerprint);
  fs::remove_all(other);
}

TEST(HttpServer, PlainHttpHasNoCertificateToReload) {
  Served s(Plain(), Echo);
  EXPECT_EQ(s.server().ReloadTls().code(), StatusCode::kFailedPrecondition);
}

TEST_F(HttpsServer, RefusesAKeyThatDoesNotMatch) {
  std::string other = TempDir("isms-https-other");
  auto cert = EnsureSelfSignedCert(other, "other");
  ASSERT_TRUE(cert.ok());
  HttpServerOptions o = Options();
  o.tls_key = cert->key_path;
  o.listen = {"127.0.0.1:0"};
  std::ostringstream log;
  auto s = HttpServer::Create(o, Echo, log);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("does not match"), std::string::npos);
  fs::remove_all(other);
}

TEST(SelfSignedCert, IsMadeOnceWithAPrivateKeyAndKeptAfterwards) {
  std::string dir = TempDir("isms-cert");
  auto first = EnsureSelfSignedCert(dir + "/sub", "host.example");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  struct stat st {};
  ASSERT_EQ(::stat(first->key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(first->fingerprint.size(), 32u * 3 - 1) << first->fingerprint;
  auto again = EnsureSelfSignedCert(dir + "/sub", "host.example");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->fingerprint, first->fingerprint);
  auto fp = CertificateFingerprint(first->cert_path);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(*fp, first->fingerprint);
  ::chmod(first->key_path.c_str(), 0644);
  auto open = EnsureSelfSignedCert(dir + "/sub", "host.example");
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace isms::net
