// The request pipeline every route shares: authentication, CSRF, refusals, access records,
// metrics. The routes' own behaviour is tested beside them (api_*_test.cc, web_*_test.cc).
#include "net/web_app.h"

#include <gtest/gtest.h>

#include "audit/log_store.h"
#include "net/web_test_util.h"

namespace isms::net {
namespace {

using testing::Reply;
using testing::WebTest;

class WebAppTest : public WebTest {
 protected:
  void SetUp() override {
    WebTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // A route that reads a contract's data and one that changes it, as the API's routes do.
    web_->Add({"GET", "/api/v1/test/{contract}", RouteKind::kApi, RouteAuth::kUser,
               "contract.read", "test: read"},
              [](RequestContext& ctx) {
                return HttpResponse::Json(200, "{\"contract\":\"" + ctx.contract + "\"}");
              });
    web_->Add({"POST", "/api/v1/test/{contract}", RouteKind::kApi, RouteAuth::kUser,
               "event.record", "test: change"},
              [](RequestContext& ctx) {
                ctx.Note("changed");
                return HttpResponse::Json(200, "{}");
              });
    web_->Add({"GET", "/page", RouteKind::kPage, RouteAuth::kUser, "", "test: a page"},
              [](RequestContext&) {
                return HttpResponse::Text(200, "<p>hi</p>", "text/html; charset=utf-8");
              });
  }

  // The access records of the store's log and of `contract`'s audit log, as JSON text lines.
  std::vector<std::string> AccessRecords(const std::string& contract) {
    EXPECT_TRUE(web_->FlushAudit().ok());
    auto audit = app::AuditService::Open(store_.url, store_.dir + "/keys", clock_);
    EXPECT_TRUE(audit.ok());
    std::vector<std::string> out;
    app::AuditSearchRequest r;
    r.contract = contract;
    Status st = (*audit)->Search(r, [&](app::AuditHit&& h) -> Result<bool> {
      out.push_back(h.record.message);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
};

TEST_P(WebAppTest, HealthAnswersWithoutAUser) {
  Reply r = Api("", "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"ok\"}\n");
}

TEST_P(WebAppTest, AnApiRouteWithoutAUserIs401WithAChallenge) {
  Reply r = Api("", "GET", "/api/v1/me");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"isms\"");
  EXPECT_NE(r.body.find("\"unauthenticated\""), std::string::npos);
}

TEST_P(WebAppTest, APageWithoutAUserRedirectsToLogin) {
  Reply r = Api("", "GET", "/page?x=1");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.Header("location"), "/login?next=%2Fpage%3Fx%3D1");
}

TEST_P(WebAppTest, ABearerTokenAuthenticates) {
  Reply r = Api("officer", "GET", "/api/v1/me");
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json j = Json(r);
  EXPECT_EQ(j["name"], "officer");
  EXPECT_EQ(j["role"], "security-officer");
  EXPECT_EQ(j["via"], "token");
  EXPECT_EQ(j["contracts"], nlohmann::json::array({"acme"}));
}

TEST_P(WebAppTest, AnUnknownTokenIs401AndRecordedAsAFailedAuthentication) {
  testing::Client c(port_, false);
  Reply r = c.Send("GET", "/api/v1/me", "", {{"Authorization", "Bearer isms_nope"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.Header("www-authenticate").find("invalid_token"), std::string::npos);
  Reply basic = c.Send("GET", "/api/v1/me", "", {{"Authorization", "Basic YTpi"}});
  EXPECT_EQ(basic.status, 401);
}

TEST_P(WebAppTest, AContractNotGrantedIsNotFoundExactlyLikeOneThatDoesNotExist) {
  Reply mine = Api("buyer", "GET", "/api/v1/test/acme");
  EXPECT_EQ(mine.status, 200);
  Reply theirs = Api("buyer", "GET", "/api/v1/test/other");
  Reply none = Api("buyer", "GET", "/api/v1/test/nonexistent");
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(none.status, 404);
  std::string a = theirs.body, b = none.body;
  a.replace(a.find("other"), 5, "NAME");
  b.replace(b.find("nonexistent"), 11, "NAME");
  EXPECT_EQ(a, b) << "the refusal must not tell that the contract exists";
}

TEST_P(WebAppTest, ARoleWithoutTheActionIs403) {
  Reply r = Api("auditor", "POST", "/api/v1/test/acme", "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("auditor"), std::string::npos) << "the refusal names the role: " << r.body;
  Reply admin = Api("admin", "GET", "/api/v1/test/acme");
  EXPECT_EQ(admin.status, 403) << "an admin reads no contract data";
}

TEST_P(WebAppTest, UnknownPathsAre404AndOtherMethods405WithAllow) {
  Reply none = Api("officer", "GET", "/api/v1/nothing");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("\"not_found\""), std::string::npos);
  Reply wrong = Api("officer", "DELETE", "/api/v1/test/acme");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow"), "GET, POST");
}

TEST_P(WebAppTest, ASessionNeedsTheCsrfTokenForChanges) {
  auto p = access_->Login("officer", testing::kPassword, "", "127.0.0.1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto s = access_->CreateSession(*p, "127.0.0.1");
  ASSERT_TRUE(s.ok());
  std::string cookie = web_->session_cookie() + "=" + s->session_id;
  testing::Client c(port_, false);
  EXPECT_EQ(c.Send("GET", "/api/v1/test/acme", "", {{"Cookie", cookie}}).status, 200)
      << "reading needs no token";
  Reply bare = c.Send("POST", "/api/v1/test/acme", "{}", {{"Cookie", cookie}});
  EXPECT_EQ(bare.status, 403);
  EXPECT_NE(bare.body.find("\"csrf\""), std::string::npos);
  Reply wrong = c.Send("POST", "/api/v1/test/acme", "{}",
                       {{"Cookie", cookie}, {"X-CSRF-Token", "nope"}});
  EXPECT_EQ(wrong.status, 403);
  Reply header = c.Send("POST", "/api/v1/test/acme", "{}",
                        {{"Cookie", cookie}, {"X-CSRF-Token", s->csrf_token}});
  EXPECT_EQ(header.status, 200);
  Reply form = c.Send("POST", "/api/v1/test/acme", "a=1&csrf=" + PercentEncode(s->csrf_token),
                      {{"Cookie", cookie}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 200);
  Reply cross = c.Send("POST", "/api/v1/test/acme", "{}",
                       {{"Cookie", cookie},
                        {"X-CSRF-Token", s->csrf_token},
                        {"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_NE(cross.body.find("\"cross_origin\""), std::string::npos);
}

TEST_P(WebAppTest, EveryRequestOfAUserIsAnAccessRecordInTheRightLog) {
  ASSERT_EQ(Api("buyer", "GET", "/api/v1/test/acme").status, 200);
  ASSERT_EQ(Api("buyer", "GET", "/api/v1/test/other").status, 404);
  ASSERT_EQ(Api("officer", "POST", "/api/v1/test/acme", "{}").status, 200);
  std::vector<std::string> acme = AccessRecords("acme");
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    for (const std::string& m : v) {
      if (m.find(s) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(acme, "GET /api/v1/test/acme: success")) << ::testing::PrintToString(acme);
  EXPECT_TRUE(has(acme, "POST /api/v1/test/acme: success (changed)"))
      << ::testing::PrintToString(acme);
  std::vector<std::string> other = AccessRecords("other");
  EXPECT_FALSE(has(other, "/api/v1/test/other"))
      << "a refused look at another contract is not written into that contract's log";
}

TEST_P(WebAppTest, MetricsCountRequestsByRouteForLoopbackClients) {
  ASSERT_EQ(Api("officer", "GET", "/api/v1/me").status, 200);
  Reply m = Api("", "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("isms_http_requests_total{route=\"GET /api/v1/me\",class=\"ok\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("isms_http_request_duration_seconds_bucket{route=\"GET /api/v1/me\","
                        "le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("isms_obligations{contract=\"acme\",state=\"open\"} "),
            std::string::npos)
      << "a loopback client sees the obligations by state";
  EXPECT_NE(m.body.find("isms_access_records_total{state=\"queued\"}"), std::string::npos);
  Reply buyer = Api("otherbuyer", "GET", "/metrics");
  EXPECT_EQ(buyer.body.find("contract=\"acme\""), std::string::npos)
      << "a user sees the obligations of its own contracts only";
}

TEST_P(WebAppTest, PaginationRefusesBadLimitsAndForeignCursors) {
  HttpRequest r;
  r.target = "/x?limit=0";
  ASSERT_TRUE(ParseTarget(r).ok());
  EXPECT_FALSE(ParsePage(r).ok());
  r.target = "/x?limit=1001";
  ASSERT_TRUE(ParseTarget(r).ok());
  EXPECT_FALSE(ParsePage(r).ok());
  r.target = "/x?cursor=bm9wZQ";
  ASSERT_TRUE(ParseTarget(r).ok());
  EXPECT_FALSE(ParsePage(r).ok());
  r.target = "/x?limit=50&cursor=" + NextCursor(100, 50);
  ASSERT_TRUE(ParseTarget(r).ok());
  auto p = ParsePage(r);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->limit, 50);
  EXPECT_EQ(p->offset, 150);
}

INSTANTIATE_TEST_SUITE_P(Engines, WebAppTest, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net
