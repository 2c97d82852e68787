// The JSON API's tests (api_*_test.cc): the server of web_test_util.h with every route, and
// helpers for JSON bodies, uploads, sessions and walking paginated lists.
#pragma once

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "isms_test_paths.h"
#include "net/web_test_util.h"

namespace isms::net::testing {

using nlohmann::json;

inline std::string VulnFixture(const std::string& name) {
  return std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/vulns/" + name;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A browser session: its cookie header and CSRF token.
struct TestSession {
  std::string cookie;
  std::string csrf;
};

class ApiTest : public WebTest {
 protected:
  // Sends `body` as JSON.
  Reply Post(const std::string& user, const std::string& target, const json& body,
             const std::string& method = "POST") {
    return Api(user, method, target, body.dump(), {{"Content-Type", "application/json"}});
  }

  // Uploads `bytes` as the one file part `filename` of a multipart body, with form `fields`.
  Reply Upload(const std::string& user, const std::string& target, const std::string& filename,
               const std::string& bytes,
               const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    const std::string b = "isms-test-boundary-7MA4YWxk";
    std::string body;
    for (const auto& [k, v] : fields) {
      body += "--" + b + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v +
              "\r\n";
    }
    body += "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
            filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n--" +
            b + "--\r\n";
    return Api(user, "POST", target, body,
               {{"Content-Type", "multipart/form-data; boundary=" + b}});
  }

  // Every item of a paginated list, page by page (`limit` a page); fails the test on a
  // duplicate (by `key`) or a page that is not {"items", "next_cursor"}.
  std::vector<json> Walk(const std::string& user, const std::string& target, int limit,
                         const std::string& key = "", int* pages = nullptr) {
    std::vector<json> all;
    std::set<std::string> seen;
    std::string cursor;
    int n = 0;
    while (true) {
      std::string sep = target.find('?') == std::string::npos ? "?" : "&";
      std::string t = target + sep + "limit=" + std::to_string(limit);
      if (!cursor.empty()) t += "&cursor=" + cursor;
      Reply r = Api(user, "GET", t);
      EXPECT_EQ(r.status, 200) << t << ": " << r.body;
      if (r.status != 200) break;
      json page = Json(r);
      EXPECT_TRUE(page["items"].is_array()) << r.body;
      EXPECT_LE(page["items"].size(), static_cast<size_t>(limit));
      ++n;
      for (const json& item : page["items"]) {
        std::string id = key.empty() ? item.dump() : item[key].dump();
        EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id << " on page " << n;
        all.push_back(item);
      }
      if (page["next_cursor"].is_null()) break;
      cursor = page["next_cursor"].get<std::string>();
      if (n > 10000) {
        ADD_FAILURE() << "the pages never end";
        break;
      }
    }
    if (pages) *pages = n;
    return all;
  }

  // Logs `user` in through POST /api/v1/session.
  TestSession Login(const std::string& user) {
    Client c(port_, false);
    Reply r = c.Send("POST", "/api/v1/session",
                     json{{"name", user}, {"password", kPassword}}.dump(),
                     {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 200) << r.body;
    TestSession s;
    std::string set = r.Header("set-cookie");
    s.cookie = set.substr(0, set.find(';'));
    if (r.status == 200) s.csrf = Json(r).value("csrf_token", "");
    return s;
  }

  // Sends on a session (with its CSRF token unless `csrf` is false).
  Reply OnSession(const TestSession& s, const std::string& method, const std::string& target,
                  const std::string& body = "", bool csrf = true) {
    std::vector<std::pair<std::string, std::string>> h = {{"Cookie", s.cookie},
                                                          {"Content-Type", "application/json"}};
    if (csrf) h.emplace_back("X-CSRF-Token", s.csrf);
    Client c(port_, false);
    return c.Send(method, target, body, h);
  }

  // The messages of the access records of `contract`'s audit log ("" the store's access log).
  std::vector<std::string> AuditMessages(const std::string& contract) {
    EXPECT_TRUE(web_->FlushAudit().ok());
    auto audit = app::AuditService::Open(store_.url, store_.dir + "/keys", clock_);
    EXPECT_TRUE(audit.ok());
    std::vector<std::string> out;
    if (!audit.ok()) return out;
    app::AuditSearchRequest r;
    r.contract = contract;
    auto collect = [&](app::AuditHit&& h) -> Result<bool> {
      out.push_back(h.record.message);
      return true;
    };
    Status st = contract.empty() ? app::SearchAccessLog(**audit, r, collect)
                                 : (*audit)->Search(r, collect);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
  static bool AnyHas(const std::vector<std::string>& v, const std::string& part) {
    for (const std::string& s : v) {
      if (Has(s, part)) return true;
    }
    return false;
  }
};

}  // namespace isms::net::testing
