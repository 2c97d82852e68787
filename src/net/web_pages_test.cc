// The web pages as a browser meets them: log-in and sessions, redirects, CSRF refusals,
// permissions (a user sees nothing of a contract it does not hold), the forms' validation with
// the command line's messages, escaping of user text, downloads. Both engines.
#include <gtest/gtest.h>

#include <regex>

#include "app/access_internal.h"
#include "app/audit.h"
#include "app/report.h"
#include "app/vulns.h"
#include "audit/note.h"
#include "core/totp.h"
#include "isms_test_paths.h"
#include "net/web_assets.h"
#include "net/web_render.h"
#include "net/web_test_util.h"

namespace isms::net {
namespace {

using testing::Client;
using testing::Reply;
using testing::WebTest;

std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += "&";
    out += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class WebPagesTest : public WebTest {
 protected:
  struct Browser {
    std::string cookie;  // "isms_session=..."
    std::string csrf;
  };

  Reply Post(const std::string& target, const std::string& body, const Browser* b = nullptr,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (b != nullptr) headers.emplace_back("Cookie", b->cookie);
    Client c(port_, false);
    return c.Send("POST", target, body, headers);
  }

  Reply Get(const std::string& target, const Browser* b = nullptr) {
    Client c(port_, false);
    if (b == nullptr) return c.Send("GET", target);
    return c.Send("GET", target, "", {{"Cookie", b->cookie}});
  }

  static std::string CsrfOf(const std::string& html) {
    std::smatch m;
    static const std::regex re("name=\"csrf\" value=\"([^\"]+)\"");
    return std::regex_search(html, m, re) ? m[1].str() : std::string();
  }

  // Logs in through the form, as a browser does.
  Browser LogIn(const std::string& user) {
    Reply r = Post("/login", FormBody({{"name", user}, {"password", testing::kPassword}}));
    EXPECT_EQ(r.status, 303) << r.body;
    std::string set = r.Header("set-cookie");
    Browser b;
    b.cookie = set.substr(0, set.find(';'));
    Reply home = Get("/", &b);
    EXPECT_EQ(home.status, 200) << home.body;
    b.csrf = CsrfOf(home.body);
    EXPECT_FALSE(b.csrf.empty()) << "every page of a session carries the log-out form's token";
    return b;
  }

  // Posts a form of the session with its CSRF token.
  Reply Submit(const Browser& b, const std::string& target,
               std::vector<std::pair<std::string, std::string>> fields) {
    fields.emplace_back("csrf", b.csrf);
    return Post(target, FormBody(fields), &b);
  }

  Event Record(const std::string& type, const std::string& at,
                    std::vector<std::pair<std::string, std::string>> attrs = {},
                    const std::string& subject = "") {
    app::NewEvent e;
    e.contract = "acme";
    e.type = type;
    e.subject = subject;
    e.at = ParseInstant(at).value();
    e.attrs = std::move(attrs);
    auto r = ledger_->RecordEvent(e, app::Actor{"setup", false});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Event{};
  }
};

const std::string kDoc = "sha256:" + std::string(64, 'a');

TEST_P(WebPagesTest, TheLogInPageHasLabelledFieldsAndAStrictContentSecurityPolicy) {
  Reply r = Get("/login");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_TRUE(Has(r.body, "<label for=\"name\">"));
  EXPECT_TRUE(Has(r.body, "<label for=\"password\">"));
  EXPECT_TRUE(Has(r.body, "<label for=\"code\">"));
  EXPECT_TRUE(Has(r.body, "<html lang=\"en-GB\">"));
  std::string csp = r.Header("content-security-policy");
  EXPECT_TRUE(Has(csp, "script-src 'self'")) << csp;
  EXPECT_FALSE(Has(csp, "unsafe-inline")) << csp;
  EXPECT_FALSE(std::regex_search(r.body, std::regex("<script>|<script [^>]*>[^<]")))
      << "no inline script: " << r.body;
  EXPECT_FALSE(Has(r.body, " style=\"")) << "no inline style";
}

TEST_P(WebPagesTest, LoggingInSetsAStrictHttpOnlySessionCookieAndGoesToTheLocalNextPage) {
  Reply r = Post("/login", FormBody({{"name", "officer"},
                                     {"password", testing::kPassword},
                                     {"next", "/c/acme/vulns?state=all"}}));
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), "/c/acme/vulns?state=all");
  std::string cookie = r.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("isms_session=", 0), 0u) << cookie;
  EXPECT_TRUE(Has(cookie, "HttpOnly"));
  EXPECT_TRUE(Has(cookie, "SameSite=Strict"));
  EXPECT_TRUE(Has(cookie, "Path=/"));
}

TEST_P(WebPagesTest, NextGoesOnlyToPathsOfThisSite) {
  for (const char* next : {"https://evil.example/", "//evil.example/x", "/\\evil.example",
                           "javascript:alert(1)", "evil"}) {
    Reply r = Post("/login", FormBody({{"name", "officer"},
                                       {"password", testing::kPassword},
                                       {"next", next}}));
    ASSERT_EQ(r.status, 303) << next;
    EXPECT_EQ(r.Header("location"), "/") << next;
  }
  Reply form = Get("/login?next=https%3A%2F%2Fevil.example");
  EXPECT_FALSE(Has(form.body, "evil.example")) << form.body;
}

TEST_P(WebPagesTest, ARefusedLogInSaysSoAndSetsNoCookie) {
  Reply r = Post("/login", FormBody({{"name", "officer"}, {"password", "not the password"}}));
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.Header("set-cookie").empty());
  EXPECT_TRUE(Has(r.body, "log-in refused: wrong user name, password or one-time code")) << r.body;
  EXPECT_TRUE(Has(r.body, "value=\"officer\"")) << "the name typed stays in the form";
  Reply unknown = Post("/login", FormBody({{"name", "nobody"}, {"password", "whatever it is"}}));
  EXPECT_EQ(unknown.status, 403);
  EXPECT_TRUE(Has(unknown.body, "log-in refused: wrong user name, password or one-time code"));
}

TEST_P(WebPagesTest, RepeatedFailuresAreThrottledWithRetryAfterNotLockedOut) {
  for (int i = 0; i < 4; ++i) {
    Reply r = Post("/login", FormBody({{"name", "buyer"}, {"password", "wrong password!"}}));
    EXPECT_EQ(r.status, 403) << "attempt " << i + 1;
  }
  Reply throttled = Post("/login", FormBody({{"name", "buyer"}, {"password", testing::kPassword}}));
  EXPECT_EQ(throttled.status, 429);
  EXPECT_TRUE(Has(throttled.body, "too many failed log-ins")) << throttled.body;
  EXPECT_EQ(throttled.Header("retry-after"), "1");
  clock_.Set(clock_.Now() + std::chrono::seconds(2));
  Reply later = Post("/login", FormBody({{"name", "buyer"}, {"password", testing::kPassword}}));
  EXPECT_EQ(later.status, 303) << "the wait ends: " << later.body;
}

TEST_P(WebPagesTest, APageWithoutASessionRedirectsToTheLogInWithItsPath) {
  Reply r = Get("/c/acme/vulns?state=all");
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.Header("location"), "/login?next=%2Fc%2Facme%2Fvulns%3Fstate%3Dall");
  Reply home = Get("/");
  EXPECT_EQ(home.status, 303);
}

TEST_P(WebPagesTest, TheStartPageListsOnlyTheContractsTheUserHolds) {
  Browser b = LogIn("buyer");
  Reply r = Get("/", &b);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r.body, "href=\"/c/acme\""));
  EXPECT_FALSE(Has(r.body, "other")) << "not even its name: " << r.body;
}

TEST_P(WebPagesTest, ABuyerOfOneContractIsRefusedAnotherExactlyAsOneThatDoesNotExist) {
  Browser b = LogIn("otherbuyer");
  for (const char* path : {"", "/vulns", "/events", "/events/new", "/reports", "/audit",
                           "/reports/2026-02", "/reports/2026-02/preview.csv"}) {
    Reply theirs = Get(std::string("/c/acme") + path, &b);
    Reply none = Get(std::string("/c/nonexistent") + path, &b);
    EXPECT_EQ(theirs.status, 404) << path;
    EXPECT_EQ(none.status, 404) << path;
    std::string a = std::regex_replace(theirs.body, std::regex("acme"), "NAME");
    std::string n = std::regex_replace(none.body, std::regex("nonexistent"), "NAME");
    EXPECT_EQ(a, n) << path << ": the refusal must not tell that the contract exists";
  }
  Reply post = Submit(b, "/c/acme/events", {{"type", "isms.approved"}, {"attr.submission", "1"}});
  EXPECT_EQ(post.status, 404);
  EXPECT_TRUE(ledger_->ListEvents("acme")->empty());
}

TEST_P(WebPagesTest, TheDashboardGroupsBreachedDueAndMetByClauseWithTheirTimescalesSource) {
  Record("isms.submitted", "2026-01-20T10:00:00Z", {{"doc", kDoc}});
  // Recorded on 2026-03-02, three weeks after it happened: backdated.
  Record("person.left", "2026-02-09T09:00:00Z", {}, "bob");
  Browser b = LogIn("auditor");
  Reply r = Get("/c/acme", &b);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& h = r.body;
  size_t breached = h.find("<h2 id=\"breached\">"), due = h.find("<h2 id=\"due\">"),
         met = h.find("<h2 id=\"met\">");
  ASSERT_NE(breached, std::string::npos);
  ASSERT_NE(due, std::string::npos);
  ASSERT_NE(met, std::string::npos);
  EXPECT_LT(breached, due);
  EXPECT_LT(due, met);
  EXPECT_TRUE(Has(h.substr(met), "Clause 3.1")) << "the ISMS submitted in time is met";
  EXPECT_TRUE(Has(h, "source-contract")) << "a contract timescale is marked as such";
  EXPECT_TRUE(Has(h, "backdated")) << "the late record of bob's leaving is marked";
  EXPECT_TRUE(Has(h, "Who holds this contract")) << "an auditor reads the grants";
  EXPECT_TRUE(Has(h, "aria-current=\"page\">Dashboard</a>"));
  EXPECT_FALSE(Has(h, "Record an event")) << "an auditor records nothing";
}

// The pages keep what they compute from the whole contract (web_cache.h): a change made elsewhere
// (the command line, the API) or the passage of time shows at the next request.
TEST_P(WebPagesTest, WhatThePagesKeepIsNeverOlderThanTheDataOrTheClock) {
  Browser b = LogIn("officer");
  auto met_section = [&](const Reply& r) { return r.body.substr(r.body.find("<h2 id=\"met\">")); };
  Reply before = Get("/c/acme", &b);
  ASSERT_EQ(before.status, 200);
  EXPECT_FALSE(Has(met_section(before), "Clause 3.1"));
  Record("isms.submitted", "2026-01-20T10:00:00Z", {{"doc", kDoc}});
  Reply after = Get("/c/acme", &b);
  EXPECT_TRUE(Has(met_section(after), "Clause 3.1")) << "a new event shows at once";

  Reply none = Get("/c/acme/vulns", &b);
  EXPECT_TRUE(Has(none.body, "No open finding with a released patch")) << none.body;
  app::Vulnerabilities vulns(*ledger_);
  app::ImportScanRequest req;
  req.contract = "acme";
  req.path = std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/vulns/web-week1.nessus";
  ASSERT_TRUE(vulns.ImportScan(req, app::Actor{"setup", false}).ok());
  Reply some = Get("/c/acme/vulns", &b);
  EXPECT_TRUE(Has(some.body, "<svg")) << "a new scan shows at once";

  // The clock moves on: what is due is what is due then.
  auto due_section = [](const Reply& r) {
    std::string d = r.body.substr(r.body.find("<h2 id=\"due\">"));
    return d.substr(0, d.find("<h2 id=\"met\">"));
  };
  std::string due_now = due_section(Get("/c/acme", &b));
  clock_.Set(clock_.Now() + std::chrono::hours(24 * 400));
  b = LogIn("officer");  // the session has long ended
  Reply later = Get("/c/acme", &b);
  std::string due_later = due_section(later);
  EXPECT_NE(due_later, due_now);
  EXPECT_TRUE(Has(due_later, "2027-04")) << "the monthly report of 2027-03 is due: " << due_later;
  EXPECT_TRUE(Has(later.body, web::LondonTime(clock_.Now()))) << "as of the clock's now";
}

TEST_P(WebPagesTest, DefaultsComeFirstAmongTheBreached) {
  Browser b = LogIn("officer");
  Reply r = Get("/c/acme", &b);
  ASSERT_EQ(r.status, 200);
  std::string breached = r.body.substr(r.body.find("<h2 id=\"breached\">"));
  breached = breached.substr(0, breached.find("<h2 id=\"due\">"));
  size_t first_default = breached.find("class=\"group default\"");
  size_t first_material = breached.find("class=\"group material-default\"");
  size_t first_plain = breached.find("class=\"group breach\"");
  size_t first_severe = std::min(first_default, first_material);
  if (first_severe != std::string::npos && first_plain != std::string::npos) {
    EXPECT_LT(first_severe, first_plain) << breached;
  }
  if (first_default != std::string::npos && first_material != std::string::npos) {
    EXPECT_LT(first_material, first_default) << breached;
  }
  EXPECT_NE(breached.find("class=\"group "), std::string::npos)
      << "nothing was done since the Start Date: the ISMS submission is breached\n" << breached;
}

TEST_P(WebPagesTest, AnEventIsRecordedThroughTheFormAndShownOnTheDashboard) {
  Browser b = LogIn("officer");
  Reply form = Get("/c/acme/events/new?type=isms.submitted", &b);
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_TRUE(Has(form.body, "<label for=\"attr-doc\">"));
  EXPECT_TRUE(Has(form.body, "name=\"csrf\" value=\"" + b.csrf + "\""));
  Reply r = Submit(b, "/c/acme/events",
                   {{"type", "isms.submitted"}, {"attr.doc", kDoc}, {"at", "2026-02-27"},
                    {"note", "version 1"}});
  ASSERT_EQ(r.status, 303) << r.body;
  auto events = ledger_->ListEvents("acme");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  const Event& e = events->front().event;
  EXPECT_EQ(e.type, "isms.submitted");
  EXPECT_EQ(e.actor, "officer");
  EXPECT_EQ(FormatInstant(e.at), "2026-02-27T00:00:00.000Z");
  EXPECT_EQ(r.Header("location"), "/c/acme?recorded=" + std::to_string(e.id));
  Reply dash = Get(r.Header("location"), &b);
  EXPECT_TRUE(Has(dash.body, "Recorded event 1: <strong>isms.submitted</strong>")) << dash.body;
}

TEST_P(WebPagesTest, AFormWithoutItsCsrfTokenIsRefusedAndChangesNothing) {
  Browser b = LogIn("officer");
  Reply bare = Post("/c/acme/events", FormBody({{"type", "isms.submitted"}, {"attr.doc", kDoc}}),
                    &b);
  EXPECT_EQ(bare.status, 403);
  EXPECT_TRUE(Has(bare.body, "security token")) << bare.body;
  Reply wrong = Post("/c/acme/events",
                     FormBody({{"type", "isms.submitted"}, {"attr.doc", kDoc}, {"csrf", "x"}}), &b);
  EXPECT_EQ(wrong.status, 403);
  Reply logout = Post("/logout", "", &b);
  EXPECT_EQ(logout.status, 403) << "logging out is a change too";
  EXPECT_TRUE(ledger_->ListEvents("acme")->empty());
}

// Chromium posts the forms of a page served with Referrer-Policy: no-referrer with "Origin: null".
TEST_P(WebPagesTest, AFormPostedWithOriginNullIsJudgedByItsCsrfToken) {
  Reply login = Post("/login", FormBody({{"name", "officer"}, {"password", testing::kPassword}}),
                     nullptr, {{"Origin", "null"}});
  ASSERT_EQ(login.status, 303) << login.body;
  Browser b = LogIn("officer");
  Reply with = Post("/c/acme/events",
                    FormBody({{"type", "isms.submitted"}, {"attr.doc", kDoc}, {"csrf", b.csrf}}), &b,
                    {{"Origin", "null"}});
  EXPECT_EQ(with.status, 303) << with.body;
  Reply without = Post("/c/acme/events", FormBody({{"type", "isms.submitted"}, {"attr.doc", kDoc}}),
                       &b, {{"Origin", "null"}});
  EXPECT_EQ(without.status, 403);
  Reply elsewhere = Post("/c/acme/events",
                         FormBody({{"type", "isms.submitted"}, {"attr.doc", kDoc}, {"csrf", b.csrf}}),
                         &b, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(elsewhere.status, 403);
}

TEST_P(WebPagesTest, ARefusedEventShowsTheLedgersOwnMessageAndKeepsWhatWasTyped) {
  Browser b = LogIn("officer");
  Reply r = Submit(b, "/c/acme/events",
                   {{"type", "isms.submitted"}, {"attr.doc", "sha256:nothex"}, {"note", "typed"}});
  EXPECT_EQ(r.status, 400);
  app::NewEvent same;
  same.contract = "acme";
  same.type = "isms.submitted";
  same.attrs = {{"doc", "sha256:nothex"}};
  auto direct = ledger_->RecordEvent(same, app::Actor{"x", false});
  ASSERT_FALSE(direct.ok());
  EXPECT_TRUE(Has(r.body, web::HtmlEscape(direct.status().message())))
      << "the message of `isms event record`: " << direct.status().message() << "\n" << r.body;
  EXPECT_TRUE(Has(r.body, ">typed</textarea>"));
  EXPECT_TRUE(Has(r.body, "role=\"alert\""));

  Reply at = Submit(b, "/c/acme/events",
                    {{"type", "isms.submitted"}, {"attr.doc", kDoc}, {"at", "yesterday"}});
  EXPECT_EQ(at.status, 400);
  EXPECT_TRUE(Has(at.body, "neither a date YYYY-MM-DD nor an RFC 3339 instant")) << at.body;
}

TEST_P(WebPagesTest, TheBuyerApprovesFromItsOwnAccountWithoutEvidenceTheOfficerNeedsIt) {
  Event sub = Record("isms.submitted", "2026-01-20T10:00:00Z", {{"doc", kDoc}});
  Browser officer = LogIn("officer");
  Reply refused = Submit(officer, "/c/acme/events",
                         {{"type", "isms.approved"}, {"attr.submission", std::to_string(sub.id)}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(Has(refused.body, "evidence")) << refused.body;

  Browser buyer = LogIn("buyer");
  Reply types = Get("/c/acme/events/new", &buyer);
  ASSERT_EQ(types.status, 200);
  EXPECT_TRUE(Has(types.body, "isms.approved"));
  EXPECT_FALSE(Has(types.body, "type=isms.submitted")) << "not a Buyer's act";
  Reply ok = Submit(buyer, "/c/acme/events",
                    {{"type", "isms.approved"}, {"attr.submission", std::to_string(sub.id)}});
  ASSERT_EQ(ok.status, 303) << ok.body;
  auto events = ledger_->ListEvents("acme");
  ASSERT_EQ(events->size(), 2u);
  EXPECT_TRUE(events->back().event.by_buyer);
  EXPECT_EQ(events->back().event.actor, "buyer");

  Reply not_hers = Submit(buyer, "/c/acme/events", {{"type", "isms.submitted"}, {"attr.doc", kDoc}});
  EXPECT_EQ(not_hers.status, 403);
}

TEST_P(WebPagesTest, AnAuditorMayReadButNotRecord) {
  Browser b = LogIn("auditor");
  EXPECT_EQ(Get("/c/acme/events", &b).status, 200);
  Reply form = Get("/c/acme/events/new?type=isms.submitted", &b);
  EXPECT_EQ(form.status, 403);
  EXPECT_TRUE(Has(form.body, "auditor")) << "the refusal names the role: " << form.body;
  Reply post = Submit(b, "/c/acme/events", {{"type", "isms.submitted"}, {"attr.doc", kDoc}});
  EXPECT_EQ(post.status, 403);
  Reply issue = Submit(b, "/c/acme/reports/2026-02/issue", {});
  EXPECT_EQ(issue.status, 403);
}

TEST_P(WebPagesTest, UserTextIsEscapedEverywhereItIsShown) {
  const std::string evil = "<script>alert('x')</script>";
  Record("person.joined", "2026-03-02T09:00:00Z", {}, "alice");
  app::NewEvent e;
  e.contract = "acme";
  e.type = "person.trained";
  e.subject = "alice";
  e.note = evil;
  e.at = ParseInstant("2026-03-02T09:30:00Z").value();
  ASSERT_TRUE(ledger_->RecordEvent(e, app::Actor{"setup", false}).ok());
  Browser b = LogIn("officer");
  for (const char* path : {"/c/acme", "/c/acme/events"}) {
    Reply r = Get(path, &b);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_FALSE(Has(r.body, evil)) << path;
    EXPECT_TRUE(Has(r.body, "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;") ||
                Has(r.body, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        << path << r.body;
  }
  Reply form = Submit(b, "/c/acme/events",
                      {{"type", "person.left"}, {"subject", "\"><script>x</script>"}});
  EXPECT_EQ(form.status, 400);
  EXPECT_FALSE(Has(form.body, "<script>x</script>"));
  Reply refused = Post("/login", FormBody({{"name", evil}, {"password", "whatever it is"}}));
  EXPECT_FALSE(Has(refused.body, evil));
}

TEST_P(WebPagesTest, TheMonthlyReportIsViewedDownloadedAndIssuedFromThePage) {
  Browser b = LogIn("officer");
  Reply page = Get("/c/acme/reports/2026-02", &b);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(Has(page.body, "Issue the report of 2026-02"));
  Reply view = Get("/c/acme/reports/2026-02/preview.html", &b);
  ASSERT_EQ(view.status, 200);
  EXPECT_TRUE(Has(view.body, "Monthly vulnerability report"));
  EXPECT_TRUE(view.Header("content-disposition").empty());
  Reply csv = Get("/c/acme/reports/2026-02/preview.csv?download=1", &b);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.Header("content-disposition"),
            "attachment; filename=\"acme-report-2026-02-preview.csv\"");
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");

  Reply issued = Submit(b, "/c/acme/reports/2026-02/issue", {});
  ASSERT_EQ(issued.status, 303) << issued.body;
  EXPECT_EQ(issued.Header("location"), "/c/acme/reports/2026-02?issued=1");
  Reply after = Get(issued.Header("location"), &b);
  EXPECT_TRUE(Has(after.body, "is issued")) << after.body;
  app::Reports reports(*ledger_);
  auto stored = reports.Show("acme", "2026-02", std::nullopt);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  Reply json = Get("/c/acme/reports/2026-02/issued.json?download=1", &b);
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.body, stored->json) << "the frozen bytes";
  EXPECT_EQ(app::Sha256Hex(json.body), stored->sha256);
  Reply month_not_ended = Submit(b, "/c/acme/reports/2026-03/issue", {});
  EXPECT_EQ(month_not_ended.status, 409) << month_not_ended.body;
}

TEST_P(WebPagesTest, FindingsAreListedWithTheirChartAndAFindingOfAnotherContractIsNotFound) {
  app::Vulnerabilities vulns(*ledger_);
  app::ImportScanRequest req;
  req.contract = "acme";
  req.path = std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/vulns/web-week1.nessus";
  auto imported = vulns.ImportScan(req, app::Actor{"setup", false});
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto list = vulns.List("acme", {});
  ASSERT_TRUE(list.ok());
  ASSERT_FALSE(list->empty());
  Browser b = LogIn("engineer");
  Reply r = Get("/c/acme/vulns", &b);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Has(r.body, "<svg")) << "the chart is drawn by the server";
  EXPECT_TRUE(Has(r.body, "role=\"img\""));
  EXPECT_TRUE(Has(r.body, list->front().id));
  Reply limited = Get("/c/acme/vulns?state=all&limit=1", &b);
  ASSERT_EQ(limited.status, 200);
  EXPECT_TRUE(Has(limited.body, "rel=\"next\"")) << limited.body;
  EXPECT_EQ(Get("/c/acme/vulns?state=bogus", &b).status, 400);

  const std::string& id = list->front().id;
  Reply f = Get("/c/acme/vulns/" + id, &b);
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_TRUE(Has(f.body, "vuln.patched")) << "an engineer records remediation";

  Reply form = Get("/c/acme/vulns/" + id + "/record?type=vuln.not_exploitable", &b);
  ASSERT_EQ(form.status, 200) << form.body;
  Reply bad = Submit(b, "/c/acme/vulns/" + id + "/events", {{"type", "vuln.not_exploitable"}});
  EXPECT_EQ(bad.status, 400) << "reason= is required";
  Reply ok = Submit(b, "/c/acme/vulns/" + id + "/events",
                    {{"type", "vuln.not_exploitable"}, {"attr.reason", "not reachable"}});
  ASSERT_EQ(ok.status, 303) << ok.body;
  auto events = ledger_->ListEvents("acme");
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  const Event& e = events->back().event;
  EXPECT_EQ(e.type, "vuln.not_exploitable");
  EXPECT_EQ(e.subject, id);
  EXPECT_EQ(e.actor, "engineer");
  EXPECT_EQ(ok.Header("location"), "/c/acme/vulns/" + id + "?recorded=" + std::to_string(e.id));
  Reply shown = Get(ok.Header("location"), &b);
  EXPECT_TRUE(Has(shown.body, "<strong>vuln.not_exploitable</strong>")) << shown.body;

  Browser other = LogIn("otherbuyer");
  Reply theirs = Get("/c/other/vulns/" + id, &other);
  Reply none = Get("/c/other/vulns/F-999999", &other);
  EXPECT_EQ(theirs.status, 404);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(std::regex_replace(theirs.body, std::regex(id), "ID"),
            std::regex_replace(none.body, std::regex("F-999999"), "ID"));
}

TEST_P(WebPagesTest, AuditRecordsAreSearchedTheCheckpointDownloadedAndTheLogVerified) {
  auto audit = app::AuditService::Open(store_.url, store_.dir + "/keys", clock_);
  ASSERT_TRUE(audit.ok());
  app::AuditIngestRequest in;
  in.contract = "acme";
  in.format = "syslog";
  in.source = "test";
  in.data =
      "<86>1 2026-03-02T09:00:00Z bastion sshd 812 - - Accepted publickey for alice from "
      "10.0.0.9 port 51234 ssh2\n"
      "<86>1 2026-03-02T09:05:00Z web nginx - - - GET /<b>bold</b>\n";
  ASSERT_TRUE((*audit)->Ingest(in).ok());
  Browser b = LogIn("buyer");
  Reply r = Get("/c/acme/audit?host=bastion", &b);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Has(r.body, "Accepted publickey for alice"));
  Reply text = Get("/c/acme/audit?text=bold", &b);
  EXPECT_TRUE(Has(text.body, "GET /&lt;b&gt;bold&lt;/b&gt;")) << text.body;
  EXPECT_TRUE(Has(r.body, "Latest signed checkpoint"));
  Reply cp = Get("/c/acme/audit/checkpoint", &b);
  ASSERT_EQ(cp.status, 200);
  // A signed note: origin, size, root; the access records keep the log growing meanwhile.
  std::smatch size;
  ASSERT_TRUE(std::regex_search(cp.body, size, std::regex("^isms/acme/audit\n([0-9]+)\n")))
      << cp.body;
  auto stored = (*audit)->CheckpointAt("acme", std::stoull(size[1].str()));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(cp.body, *stored);
  EXPECT_TRUE(Has(cp.Header("content-disposition"), "attachment"));
  // The access records of the requests above are being committed meanwhile: verification reads
  // one snapshot of the log.
  Reply verify = Submit(b, "/c/acme/audit/verify", {{"against", cp.body}});
  ASSERT_EQ(verify.status, 303) << verify.body;
  Reply after = Get("/c/acme/audit", &b);
  EXPECT_TRUE(Has(after.body, "Audit log: verified")) << after.body;
  EXPECT_TRUE(Has(after.body, "the log extends the checkpoint given"));
  EXPECT_TRUE(Has(after.body, "by buyer"));
  Reply bad = Get("/c/acme/audit?from=yesterday", &b);
  EXPECT_TRUE(Has(bad.body, "neither a date")) << bad.body;
}

// After a rotation of the signing key, the audit page lists it (from, to, when) with its
// transition note to download, which opens with the key served before; the log still verifies.
TEST_P(WebPagesTest, TheAuditPageListsTheSigningKeysRotationsWithTheirTransitionNotes) {
  Browser b = LogIn("buyer");
  Reply before = Get("/c/acme/audit", &b);
  ASSERT_EQ(before.status, 200);
  EXPECT_FALSE(Has(before.body, "Key rotations")) << before.body;
  Reply old_key = Get("/c/acme/audit/verifier-key", &b);
  ASSERT_EQ(old_key.status, 200);
  std::string k = old_key.body;
  while (!k.empty() && k.back() == '\n') k.pop_back();
  const audit::NoteVerifier held = audit::NoteVerifier::Decode(k).value();

  Result<app::AuditKeyRotation> r =
      app::RotateAuditKey(store_.dir + "/keys", ParseInstant("2026-03-03T10:00:00Z").value());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Reply page = Get("/c/acme/audit", &b);
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(Has(page.body, "Key rotations, oldest first")) << page.body;
  EXPECT_TRUE(Has(page.body, "2026-03-03T10:00:00.000Z"));
  EXPECT_TRUE(Has(page.body, "<code>" + held.Label() + "</code>"));
  EXPECT_TRUE(Has(page.body, "<code>" + r->new_key.Label() + "</code>"));
  const std::string link = "/c/acme/audit/key-transition/" + r->new_key.KeyIdText();
  EXPECT_TRUE(Has(page.body, link)) << page.body;
  Reply note = Get(link, &b);
  ASSERT_EQ(note.status, 200);
  EXPECT_TRUE(Has(note.Header("content-disposition"), "attachment"));
  Result<app::AuditKeyTransition> t = app::OpenAuditKeyTransition(note.body, {&held, 1});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->to.Encode(), r->new_key.Encode());
  EXPECT_EQ(Get("/c/acme/audit/key-transition/0000000g", &b).status, 404);
  EXPECT_EQ(Get("/c/acme/audit/key-transition/..%2F..%2Fx", &b).status, 404);
  Reply verify = Submit(b, "/c/acme/audit/verify", {});
  ASSERT_EQ(verify.status, 303) << verify.body;
  EXPECT_TRUE(Has(Get("/c/acme/audit", &b).body, "Audit log: verified"));
}

// A log begun by an older version (blocks without their records' kinds, rows without the SHA-256
// of their bytes): the verification's summary says how many blocks and rows `isms audit upgrade`
// would complete.
TEST_P(WebPagesTest, VerifyingAnOlderLogSaysWhatAuditUpgradeWouldComplete) {
  auto audit = app::AuditService::Open(store_.url, store_.dir + "/keys", clock_, /*chunk_bits=*/8);
  ASSERT_TRUE(audit.ok());
  app::AuditIngestRequest in;
  in.contract = "acme";
  in.format = "syslog";
  in.source = "test";
  for (int i = 0; i < 300; ++i) {  // chunk 0 (256 records) of two hosts, and a tail
    in.data += "<86>1 2026-03-02T09:00:00Z host-" + std::to_string(i % 2) +
               " sshd 812 - - Accepted publickey for alice from 10.0.0.9 port " +
               std::to_string(50000 + i) + " ssh2\n";
  }
  ASSERT_TRUE((*audit)->Ingest(in).ok());
  {
    auto c = store::Connection::Open(app::AuditStoreUrl(store_.url));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Execute("UPDATE audit_blocks SET kinds = NULL WHERE log_kind = 0").ok());
    ASSERT_TRUE((*c)->Execute("UPDATE audit_blocks SET data_sha256 = NULL WHERE log_kind = 0; "
                              "UPDATE audit_tail SET data_sha256 = NULL WHERE log_kind = 0")
                    .ok());
  }
  Browser b = LogIn("officer");
  ASSERT_EQ(Submit(b, "/c/acme/audit/verify", {}).status, 303);
  Reply page = Get("/c/acme/audit", &b);
  EXPECT_TRUE(Has(page.body, "Audit log: verified")) << page.body;
  EXPECT_TRUE(Has(page.body, "2 blocks were written before blocks kept their records&apos; kinds"))
      << page.body;
  EXPECT_TRUE(Has(page.body,
                  "3 blocks and tail batches were written before rows kept the SHA-256 of their "
                  "bytes (checked through their records only; `isms audit upgrade` stores it)"))
      << page.body;  // the chunk's two blocks and the tail batch
  ASSERT_TRUE((*audit)->Upgrade("acme").ok());
  ASSERT_EQ(Submit(b, "/c/acme/audit/verify", {}).status, 303);
  page = Get("/c/acme/audit", &b);
  EXPECT_TRUE(Has(page.body, "Audit log: verified"));
  EXPECT_FALSE(Has(page.body, "blocks were written before")) << page.body;
  EXPECT_FALSE(Has(page.body, "tail batches were written before")) << page.body;
}

TEST_P(WebPagesTest, OnlyTheAdminManagesUsersAndEveryChangeIsRecorded) {
  Browser officer = LogIn("officer");
  EXPECT_EQ(Get("/admin/users", &officer).status, 403);
  EXPECT_EQ(Submit(officer, "/admin/users", {{"name", "mallory"}, {"role", "buyer"}}).status, 403);

  // The admin logs in with a one-time code; the API token stands in for it here (the form
  // posts the same fields, and a request with a token needs no CSRF token).
  Reply page = Api("admin", "GET", "/admin/users");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(Has(page.body, "otherbuyer"));
  Reply add = Api("admin", "POST", "/admin/users",
                  FormBody({{"name", "newbuyer"}, {"role", "buyer"}, {"contract", "acme"},
                            {"password", "a long enough password"},
                            {"password2", "a long enough password"}}),
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(add.status, 303) << add.body;
  auto u = access_->FindUser("newbuyer");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->contracts, std::vector<std::string>{"acme"});
  Reply dup = Api("admin", "POST", "/admin/users",
                  FormBody({{"name", "newbuyer"}, {"role", "buyer"}}),
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(dup.status, 409);
  Reply grant = Api("admin", "POST", "/admin/users/newbuyer/grant", FormBody({{"contract", "other"}}),
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(grant.status, 303) << grant.body;
  Reply disable = Api("admin", "POST", "/admin/users/newbuyer/disable", "",
                      {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(disable.status, 303);
  EXPECT_TRUE(access_->FindUser("newbuyer")->disabled);
  ASSERT_TRUE(web_->FlushAudit().ok());
  std::vector<std::string> acme;
  auto audit = app::AuditService::Open(store_.url, store_.dir + "/keys", clock_);
  app::AuditSearchRequest sr;
  sr.contract = "acme";
  ASSERT_TRUE((*audit)->Search(sr, [&](app::AuditHit&& h) -> Result<bool> {
                 acme.push_back(h.record.message);
                 return true;
               }).ok());
  auto has = [&](const std::string& s) {
    for (const std::string& m : acme) {
      if (Has(m, s)) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("user.add user newbuyer: success")) << ::testing::PrintToString(acme);
  EXPECT_TRUE(has("user.disable user newbuyer: success")) << ::testing::PrintToString(acme);
}

TEST_P(WebPagesTest, TheAdminLogsInOnlyWithAOneTimeCodeAndReadsNoContractData) {
  Reply without = Post("/login", FormBody({{"name", "admin"}, {"password", testing::kPassword}}));
  EXPECT_EQ(without.status, 403);
  EXPECT_TRUE(Has(without.body, "isms user totp admin")) << "says how to enrol: " << without.body;
  auto enrolled = access_->EnableTotp("admin", app::Actor{"setup", false});
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  std::string key = Base32Decode(enrolled->secret).value();
  OtpMac mac = [&key](std::string_view m) { return app::access_internal::HmacSha1(key, m); };
  std::string code = Totp(mac, clock_.Now(), TotpParams{}).value();
  Reply wrong = Post("/login", FormBody({{"name", "admin"},
                                         {"password", testing::kPassword},
                                         {"code", code == "000000" ? "111111" : "000000"}}));
  EXPECT_EQ(wrong.status, 403);
  Reply r = Post("/login", FormBody({{"name", "admin"},
                                     {"password", testing::kPassword},
                                     {"code", code}}));
  ASSERT_EQ(r.status, 303) << r.body;
  Browser b;
  b.cookie = r.Header("set-cookie").substr(0, r.Header("set-cookie").find(';'));
  Reply home = Get("/", &b);
  ASSERT_EQ(home.status, 200);
  EXPECT_TRUE(Has(home.body, "<th scope=\"row\">acme</th>")) << "names, without links: " << home.body;
  EXPECT_FALSE(Has(home.body, "href=\"/c/acme\""));
  EXPECT_TRUE(Has(home.body, "href=\"/admin/users\""));
  Reply data = Get("/c/acme", &b);
  EXPECT_EQ(data.status, 403);
  EXPECT_TRUE(Has(data.body, "admin")) << data.body;
  Reply users = Get("/admin/users", &b);
  ASSERT_EQ(users.status, 200);
  b.csrf = CsrfOf(users.body);
  Reply add = Submit(b, "/admin/users", {{"name", "carol"}, {"role", "auditor"}, {"contract", "other"}});
  ASSERT_EQ(add.status, 303) << add.body;
  EXPECT_EQ(access_->FindUser("carol")->contracts, std::vector<std::string>{"other"});
  Reply differ = Submit(b, "/admin/users/carol/password",
                        {{"password", "a long enough password"}, {"password2", "another one!!"}});
  EXPECT_EQ(differ.status, 400);
  EXPECT_TRUE(Has(differ.body, "the two passwords differ"));
}

TEST_P(WebPagesTest, LoggingOutEndsTheSession) {
  Browser b = LogIn("engineer");
  Reply out = Submit(b, "/logout", {});
  ASSERT_EQ(out.status, 303);
  EXPECT_EQ(out.Header("location"), "/login?ended=1");
  EXPECT_TRUE(Has(out.Header("set-cookie"), "Max-Age=0"));
  Reply after = Get("/c/acme", &b);
  EXPECT_EQ(after.status, 303) << "the old cookie no longer works";
  Reply login = Get("/login?ended=1");
  EXPECT_TRUE(Has(login.body, "You have logged out."));
}

TEST_P(WebPagesTest, StaticFilesAreServedWithTheirTypes) {
  Reply css = Get("/static/isms.css");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.body, std::string(*FindWebAsset("static/isms.css")));
  EXPECT_EQ(Get("/static/isms.js").Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("/static/nothing.css").status, 404);
  EXPECT_EQ(Get("/static/..%2F..%2Fetc%2Fpasswd").status, 404);
}

TEST_P(WebPagesTest, EveryPageOfTheContractRendersForEveryRoleThatMayReadIt) {
  Record("isms.submitted", "2026-01-20T10:00:00Z", {{"doc", kDoc}});
  for (const char* user : {"officer", "engineer", "auditor", "buyer"}) {
    Browser b = LogIn(user);
    for (const char* path : {"/", "/c/acme", "/c/acme/events", "/c/acme/events/new",
                             "/c/acme/vulns", "/c/acme/vulns?state=all", "/c/acme/reports",
                             "/c/acme/reports/2026-02", "/c/acme/audit",
                             "/c/acme/audit?search=1"}) {
      Reply r = Get(path, &b);
      EXPECT_EQ(r.status, 200) << user << " " << path << "\n" << r.body;
      EXPECT_TRUE(Has(r.body, "</html>")) << user << " " << path;
    }
  }
}

// The account page: a user's own password, second factor and API tokens.

std::vector<std::string> AcmeAuditMessages(WebApp& web, const std::string& url,
                                           const std::string& keys, const Clock& clock) {
  std::vector<std::string> out;
  EXPECT_TRUE(web.FlushAudit().ok());
  auto audit = app::AuditService::Open(url, keys, clock);
  EXPECT_TRUE(audit.ok());
  if (!audit.ok()) return out;
  app::AuditSearchRequest sr;
  sr.contract = "acme";
  EXPECT_TRUE((*audit)->Search(sr, [&](app::AuditHit&& h) -> Result<bool> {
                 out.push_back(h.record.message);
                 return true;
               }).ok());
  return out;
}

bool AnyHas(const std::vector<std::string>& messages, const std::string& needle) {
  for (const std::string& m : messages) {
    if (Has(m, needle)) return true;
  }
  return false;
}

TEST_P(WebPagesTest, EveryPageLinksToTheAccountPageWhichHasLabelledForms) {
  Browser b = LogIn("buyer");
  Reply home = Get("/", &b);
  EXPECT_TRUE(Has(home.body, "<a href=\"/account\">")) << home.body;
  Reply r = Get("/account", &b);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  for (const char* label : {"<label for=\"pw-current\">", "<label for=\"pw-new\">",
                            "<label for=\"pw-new2\">", "<label for=\"token-expires\">",
                            "<h2 id=\"password-h\">", "<h2 id=\"totp-h\">", "<h2 id=\"tokens-h\">"}) {
    EXPECT_TRUE(Has(r.body, label)) << label;
  }
  EXPECT_TRUE(Has(r.body, "action=\"/account/totp/new\""));
}

TEST_P(WebPagesTest, AnOwnPasswordChangeWithTheWrongCurrentPasswordIsRefusedAndChangesNothing) {
  Browser b = LogIn("officer");
  Reply r = Submit(b, "/account/password",
                   {{"current", "not my password at all"},
                    {"password", "a brand new password"},
                    {"password2", "a brand new password"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(Has(r.body, "the current password is wrong: nothing was changed")) << r.body;
  Reply differ = Submit(b, "/account/password",
                        {{"current", testing::kPassword},
                         {"password", "a brand new password"},
                         {"password2", "a brand new passwort"}});
  EXPECT_EQ(differ.status, 400);
  EXPECT_TRUE(Has(differ.body, "the two passwords differ: nothing was changed"));
  Reply rules = Submit(b, "/account/password",
                       {{"current", testing::kPassword}, {"password", "short"}, {"password2", "short"}});
  EXPECT_EQ(rules.status, 400) << "the same rules as isms user password";
  EXPECT_EQ(Get("/account", &b).status, 200) << "the session goes on";
  Reply old = Post("/login", FormBody({{"name", "officer"}, {"password", testing::kPassword}}));
  EXPECT_EQ(old.status, 303) << "the password is unchanged: " << old.body;
  EXPECT_TRUE(AnyHas(AcmeAuditMessages(*web_, store_.url, store_.dir + "/keys", clock_),
                     "user.password user officer: failure"));
}

TEST_P(WebPagesTest, AnOwnPasswordChangeWorksAndTheOldPasswordNoLongerLogsIn) {
  Browser b = LogIn("officer");
  Browser other = LogIn("officer");
  Reply r = Submit(b, "/account/password",
                   {{"current", testing::kPassword},
                    {"password", "a brand new password"},
                    {"password2", "a brand new password"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), "/account?done=password");
  Browser next;
  next.cookie = r.Header("set-cookie").substr(0, r.Header("set-cookie").find(';'));
  Reply page = Get("/account?done=password", &next);
  EXPECT_EQ(page.status, 200) << "this browser goes on in a new session";
  EXPECT_TRUE(Has(page.body, "Changed your password")) << page.body;
  EXPECT_EQ(Get("/account", &other).status, 303) << "the user's other sessions ended";
  EXPECT_EQ(Post("/login", FormBody({{"name", "officer"}, {"password", testing::kPassword}})).status,
            403);
  EXPECT_EQ(
      Post("/login", FormBody({{"name", "officer"}, {"password", "a brand new password"}})).status,
      303);
  EXPECT_TRUE(AnyHas(AcmeAuditMessages(*web_, store_.url, store_.dir + "/keys", clock_),
                     "user.password user officer: success"));
}

TEST_P(WebPagesTest, AnAccountFormWithoutItsCsrfTokenIsRefused) {
  Browser b = LogIn("officer");
  Reply pw = Post("/account/password",
                  FormBody({{"current", testing::kPassword},
                            {"password", "a brand new password"},
                            {"password2", "a brand new password"}}),
                  &b);
  EXPECT_EQ(pw.status, 403);
  Reply token = Post("/account/tokens", FormBody({{"expires", "2026-12-31"}}), &b);
  EXPECT_EQ(token.status, 403);
  Reply cross = Post("/account/tokens", FormBody({{"expires", "2026-12-31"}, {"csrf", b.csrf}}), &b,
                     {{"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403) << "nor from another site";
  EXPECT_TRUE(access_->ListTokens("officer")->empty());
  EXPECT_EQ(Post("/login", FormBody({{"name", "officer"}, {"password", testing::kPassword}})).status,
            303);
}

TEST_P(WebPagesTest, ATokenCreatedOnTheAccountPageIsShownOnceWorksAsBearerAndRevokedGives401) {
  Browser b = LogIn("engineer");
  Reply bad = Submit(b, "/account/tokens", {{"expires", "yesterday"}, {"note", "ci"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(Has(bad.body, "expires")) << bad.body;
  Reply r = Submit(b, "/account/tokens", {{"expires", "2026-12-31"}, {"note", "ci upload"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.body, m, std::regex("isms_[A-Za-z0-9_-]{43}"))) << r.body;
  const std::string token = m[0].str();
  Reply again = Get("/account", &b);
  EXPECT_FALSE(Has(again.body, token)) << "shown once";
  EXPECT_TRUE(Has(again.body, "ci upload"));
  auto call = [&](const std::string& t) {
    Client c(port_, false);
    return c.Send("GET", "/api/v1/contracts/acme/status", "", {{"Authorization", "Bearer " + t}});
  };
  EXPECT_EQ(call(token).status, 200);
  auto mine = access_->ListTokens("engineer");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ(mine->front().user, "engineer");
  std::string id = std::to_string(mine->front().id);
  // Another user's token is not found, exactly as none.
  Browser theirs = LogIn("auditor");
  Reply not_theirs = Submit(theirs, "/account/tokens/" + id + "/revoke", {});
  EXPECT_EQ(not_theirs.status, 404);
  EXPECT_EQ(call(token).status, 200);
  Reply revoke = Submit(b, "/account/tokens/" + id + "/revoke", {});
  ASSERT_EQ(revoke.status, 303) << revoke.body;
  EXPECT_EQ(call(token).status, 401);
  auto log = AcmeAuditMessages(*web_, store_.url, store_.dir + "/keys", clock_);
  EXPECT_TRUE(AnyHas(log, "token.create token " + id + " of engineer: success"))
      << ::testing::PrintToString(log);
  EXPECT_TRUE(AnyHas(log, "token.revoke token " + id + " of engineer: success"));
}

TEST_P(WebPagesTest, ASecondFactorEnrolledOnTheAccountPageTakesEffectOnlyWithAValidCode) {
  Browser b = LogIn("engineer");
  Reply proposed = Submit(b, "/account/totp/new", {});
  ASSERT_EQ(proposed.status, 200) << proposed.body;
  EXPECT_EQ(proposed.Header("cache-control"), "no-store");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(proposed.body, m,
                                std::regex("id=\"totp-secret\">([A-Z2-7]{32})<")))
      << proposed.body;
  const std::string secret = m[1].str();
  EXPECT_TRUE(Has(proposed.body, "otpauth://totp/isms:engineer?secret=" + secret))
      << proposed.body;
  EXPECT_FALSE(access_->FindUser("engineer")->totp) << "nothing changes before the code";
  std::string key = Base32Decode(secret).value();
  OtpMac mac = [&key](std::string_view msg) { return app::access_internal::HmacSha1(key, msg); };
  std::string code = Totp(mac, clock_.Now(), TotpParams{}).value();
  std::string wrong = code == "000000" ? "111111" : "000000";
  Reply refused = Submit(b, "/account/totp",
                         {{"secret", secret}, {"current", testing::kPassword}, {"code", wrong}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(Has(refused.body, "the one-time code does not match the new secret")) << refused.body;
  EXPECT_TRUE(Has(refused.body, secret)) << "the same secret, to try again";
  EXPECT_FALSE(access_->FindUser("engineer")->totp);
  Reply no_password = Submit(b, "/account/totp",
                             {{"secret", secret}, {"current", "not my password"}, {"code", code}});
  EXPECT_EQ(no_password.status, 403);
  EXPECT_FALSE(access_->FindUser("engineer")->totp);
  EXPECT_EQ(Post("/login", FormBody({{"name", "engineer"}, {"password", testing::kPassword}})).status,
            303)
      << "still no code needed";
  Reply ok = Submit(b, "/account/totp",
                    {{"secret", secret}, {"current", testing::kPassword}, {"code", code}});
  ASSERT_EQ(ok.status, 303) << ok.body;
  EXPECT_TRUE(access_->FindUser("engineer")->totp);
  EXPECT_EQ(Post("/login", FormBody({{"name", "engineer"}, {"password", testing::kPassword}})).status,
            403)
      << "a code is needed now";
  EXPECT_EQ(Post("/login", FormBody({{"name", "engineer"},
                                     {"password", testing::kPassword},
                                     {"code", code}}))
                .status,
            403)
      << "the confirming code is spent";
  clock_.Set(clock_.Now() + std::chrono::seconds(30));
  std::string later = Totp(mac, clock_.Now(), TotpParams{}).value();
  EXPECT_EQ(Post("/login", FormBody({{"name", "engineer"},
                                     {"password", testing::kPassword},
                                     {"code", later}}))
                .status,
            303);
  EXPECT_TRUE(AnyHas(AcmeAuditMessages(*web_, store_.url, store_.dir + "/keys", clock_),
                     "user.totp user engineer: success"));
}

INSTANTIATE_TEST_SUITE_P(Engines, WebPagesTest, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net
