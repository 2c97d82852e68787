// GET /api/v1/openapi.json (api_openapi.cc): the document and the routes served agree both ways.
#include <gtest/gtest.h>

#include <regex>

#include "net/api_test_util.h"

namespace isms::net::testing {
namespace {

class OpenApi : public ApiTest {};

// The pattern's parameters filled with values of the fixture.
std::string Fill(std::string pattern) {
  static const std::vector<std::pair<std::string, std::string>> kValues = {
      {"{contract}", "acme"}, {"{finding}", "F-1"}, {"{month}", "2026-02"},
      {"{user}", "engineer"}, {"{id}", "999999"}};
  for (const auto& [k, v] : kValues) {
    for (size_t at; (at = pattern.find(k)) != std::string::npos;) pattern.replace(at, k.size(), v);
  }
  return pattern;
}

TEST_P(OpenApi, TheDocumentIsServedWithoutAUser) {
  Reply r = Api("", "GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  json doc = Json(r);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(doc["info"]["title"], "isms");
  json status = doc["paths"]["/api/v1/contracts/{contract}/status"]["get"];
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["x-isms-action"], "contract.read");
  std::set<std::string> params;
  for (const json& p : status["parameters"]) params.insert(p["name"]);
  EXPECT_EQ(params, (std::set<std::string>{"contract", "state", "at", "as_known", "summary",
                                           "limit", "cursor"}));
  EXPECT_TRUE(status["responses"].contains("401"));
  EXPECT_TRUE(doc["paths"]["/api/v1/openapi.json"]["get"]["security"].empty());
}

TEST_P(OpenApi, EveryRouteServedIsDocumented) {
  json doc = Json(Api("", "GET", "/api/v1/openapi.json"));
  int api_routes = 0;
  for (const RouteSpec& spec : web_->routes()) {
    if (spec.kind != RouteKind::kApi) continue;
    ++api_routes;
    std::string method;
    for (char c : spec.method) method.push_back(static_cast<char>(std::tolower(c)));
    EXPECT_TRUE(doc["paths"].contains(spec.pattern) && doc["paths"][spec.pattern].contains(method))
        << spec.method << " " << spec.pattern << " is served but not in the document";
  }
  EXPECT_GT(api_routes, 40);
}

TEST_P(OpenApi, EveryDocumentedOperationIsServed) {
  json doc = Json(Api("", "GET", "/api/v1/openapi.json"));
  int operations = 0;
  for (auto path = doc["paths"].begin(); path != doc["paths"].end(); ++path) {
    for (auto op = path.value().begin(); op != path.value().end(); ++op) {
      ++operations;
      std::string method = op.key();
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      // As a user whom every area refuses or serves: what matters is that the router knows it.
      Reply r = Api("auditor", method, Fill(path.key()), method == "GET" ? "" : "{}",
                    {{"Content-Type", "application/json"}});
      EXPECT_NE(r.status, 405) << method << " " << path.key() << ": " << r.body;
      json body = Json(r);
      bool router_404 = r.status == 404 && body.is_object() &&
                        body["error"]["message"].get<std::string>().rfind("nothing is served", 0) == 0;
      EXPECT_FALSE(router_404) << method << " " << path.key() << " is documented but not served";
    }
  }
  EXPECT_GT(operations, 40);
}

TEST_P(OpenApi, EveryRouteThatNeedsAUserIs401WithoutOne) {
  int checked = 0;
  for (const RouteSpec& spec : web_->routes()) {
    if (spec.kind != RouteKind::kApi || spec.auth != RouteAuth::kUser) continue;
    ++checked;
    Reply r = Api("", spec.method, Fill(spec.pattern), spec.method == "GET" ? "" : "{}",
                  {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 401) << spec.method << " " << spec.pattern << ": " << r.body;
    EXPECT_EQ(Json(r)["error"]["code"], "unauthenticated") << spec.method << " " << spec.pattern;
  }
  EXPECT_GT(checked, 40);
}

TEST_P(OpenApi, OperationIdsAreUnique) {
  json doc = Json(Api("", "GET", "/api/v1/openapi.json"));
  std::set<std::string> ids;
  for (auto path = doc["paths"].begin(); path != doc["paths"].end(); ++path) {
    for (auto op = path.value().begin(); op != path.value().end(); ++op) {
      EXPECT_TRUE(ids.insert(op.value()["operationId"].get<std::string>()).second)
          << op.value()["operationId"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, OpenApi, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net::testing
