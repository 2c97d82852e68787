// The HTTPS server's application in-process for tests: a fresh store (SQLite, or PostgreSQL
// when available: TEST_P over both), two contracts with users of every role, the WebApp with
// every route, served over plain HTTP on a loopback port the system chooses, and a client.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/access.h"
#include "app/audit.h"
#include "app/ledger.h"
#include "net/http_server.h"
#include "net/http_test_util.h"
#include "net/routes.h"
#include "net/web_app.h"
#include "store/store_test_util.h"

namespace isms::net::testing {

inline constexpr const char* kPassword = "correct horse battery staple";

class WebTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_.SetUp(GetParam());
    if (store_.skip) GTEST_SKIP() << store_.why;
    ASSERT_FALSE(store_.url.empty());
    auto key = app::EnsureAuditKey(store_.dir + "/keys");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    auto ledger = app::Ledger::Open(store_.url, clock_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    app::Actor setup{"setup", false};
    for (const char* name : {"acme", "other"}) {
      app::NewContract c;
      c.name = name;
      c.start = Date(std::chrono::year(2026), std::chrono::month(1), std::chrono::day(5));
      c.buyer = "Department";
      c.supplier = "Supplier Ltd";
      ASSERT_TRUE((*ledger)->CreateContract(c, setup).ok());
    }
    access_ = std::make_unique<app::Access>((*ledger)->connection(), clock_, AccessOptions());
    AddUser("officer", app::Role::kSecurityOfficer, {"acme"});
    AddUser("engineer", app::Role::kEngineer, {"acme"});
    AddUser("auditor", app::Role::kAuditor, {"acme"});
    AddUser("buyer", app::Role::kBuyer, {"acme"});
    AddUser("otherbuyer", app::Role::kBuyer, {"other"});
    AddUser("admin", app::Role::kAdmin, {});
    ledger_ = std::move(*ledger);

    WebAppOptions wo;
    wo.store_url = store_.url;
    wo.key_dir = store_.dir + "/keys";
    wo.tls = false;
    wo.access = AccessOptions();
    wo.audit_flush = std::chrono::milliseconds(20);
    auto web = WebApp::Create(wo, clock_, log_);
    ASSERT_TRUE(web.ok()) << web.status().ToString();
    web_ = std::move(*web);
    AddAllRoutes(*web_);
    HttpServerOptions ho;
    ho.tls = false;
    ho.listen = {"127.0.0.1:0"};
    ho.threads = 2;
    ho.handle_signals = false;
    WebApp* w = web_.get();
    auto server = HttpServer::Create(
        ho, [w](HttpRequest& r) { return w->Handle(r); }, log_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    port_ = PortOf(server_->listening().at(0));
    thread_ = std::thread([this] { (void)server_->Run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      if (thread_.joinable()) thread_.join();
    }
    server_.reset();
    web_.reset();
    access_.reset();
    ledger_.reset();
    store_.TearDown();
  }

  // Argon2id at its lowest cost: the tests check behaviour, not the cost.
  static app::AccessOptions AccessOptions() {
    app::AccessOptions o;
    o.pwhash_opslimit = 1;
    o.pwhash_memlimit = 8192;
    return o;
  }

  void AddUser(const std::string& name, app::Role role, std::vector<std::string> contracts) {
    auto u = access_->AddUser(name, role, contracts, kPassword, app::Actor{"setup", false});
    ASSERT_TRUE(u.ok()) << u.status().ToString();
  }

  // A bearer token of `user`, valid for 30 days from the test clock's now.
  std::string Token(const std::string& user) {
    auto t = access_->CreateToken(user, clock_.Now() + std::chrono::hours(24 * 30), "test",
                                  app::Actor{"setup", false});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->token : std::string();
  }

  // Sends with `user`'s token ("" for none).
  Reply Api(const std::string& user, const std::string& method, const std::string& target,
            const std::string& body = "",
            std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!user.empty()) {
      auto it = tokens_.find(user);
      if (it == tokens_.end()) it = tokens_.emplace(user, Token(user)).first;
      headers.emplace_back("Authorization", "Bearer " + it->second);
    }
    Client c(port_, false);
    return c.Send(method, target, body, headers);
  }

  nlohmann::json Json(const Reply& r) { return nlohmann::json::parse(r.body, nullptr, false); }

  store::testing::TestStore store_;
  FixedClock clock_{ParseInstant("2026-03-02T10:00:00Z").value()};
  std::ostringstream log_;
  std::unique_ptr<app::Ledger> ledger_;
  std::unique_ptr<app::Access> access_;
  std::unique_ptr<WebApp> web_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  unsigned short port_ = 0;
  std::map<std::string, std::string> tokens_;
};

}  // namespace isms::net::testing
