#include "net/http.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "net/multipart.h"

namespace isms::net {
namespace {

TEST(RouteTable, MatchesLiteralsAndParameters) {
  RouteTable t;
  int list = t.Add("GET", "/api/v1/contracts");
  int status = t.Add("GET", "/api/v1/contracts/{contract}/status");
  int record = t.Add("POST", "/api/v1/contracts/{contract}/events");
  RouteTable::Match m = t.Find("GET", "/api/v1/contracts/acme/status");
  EXPECT_EQ(m.id, status);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(Param(m.params, "contract"), "acme");
  EXPECT_EQ(t.Find("GET", "/api/v1/contracts").id, list);
  EXPECT_EQ(t.Find("GET", "/api/v1/contracts/").id, list) << "a trailing slash is the same path";
  EXPECT_EQ(t.Find("POST", "/api/v1/contracts/acme/events").id, record);
}

TEST(RouteTable, LiteralSegmentsWinOverParameters) {
  RouteTable t;
  int param = t.Add("GET", "/api/v1/findings/{id}");
  int literal = t.Add("GET", "/api/v1/findings/summary");
  EXPECT_EQ(t.Find("GET", "/api/v1/findings/summary").id, literal);
  EXPECT_EQ(t.Find("GET", "/api/v1/findings/F-1").id, param);
}

TEST(RouteTable, AnotherMethodOnAKnownPathGivesAllow) {
  RouteTable t;
  t.Add("GET", "/api/v1/contracts/{contract}/events");
  t.Add("POST", "/api/v1/contracts/{contract}/events");
  RouteTable::Match m = t.Find("DELETE", "/api/v1/contracts/x/events");
  EXPECT_EQ(m.id, -1);
  EXPECT_EQ(m.allow, "GET, POST");
  EXPECT_EQ(t.Find("GET", "/nothing/here").allow, "");
}

TEST(RouteTable, HeadIsServedByGet) {
  RouteTable t;
  int get = t.Add("GET", "/healthz");
  EXPECT_EQ(t.Find("HEAD", "/healthz").id, get);
}

TEST(RouteTable, AParameterNeverMatchesAnEmptySegmentOrSeveral) {
  RouteTable t;
  t.Add("GET", "/a/{x}/b");
  EXPECT_EQ(t.Find("GET", "/a//b").id, -1);
  EXPECT_EQ(t.Find("GET", "/a/1/2/b").id, -1);
}

TEST(RouteTable, ADuplicateRouteIsABug) {
  RouteTable t;
  t.Add("GET", "/x");
  EXPECT_THROW(t.Add("GET", "/x"), std::logic_error);
}

TEST(ParseTarget, DecodesThePathAndTheQuery) {
  HttpRequest r;
  r.target = "/api/v1/contracts/a%20b/status?state=breached&text=x+y%26z&flag";
  ASSERT_TRUE(ParseTarget(r).ok());
  EXPECT_EQ(r.path, "/api/v1/contracts/a b/status");
  EXPECT_EQ(r.Query("state"), "breached");
  EXPECT_EQ(r.Query("text"), "x y&z");
  EXPECT_EQ(r.Query("flag"), "");
  EXPECT_EQ(r.Query("absent"), std::nullopt);
}

TEST(ParseTarget, RefusesMalformedTargets) {
  for (const char* bad : {"api/v1", "", "/a%2", "/a%zz", "/a?b=%4", "/a%00b", "http://x/y"}) {
    HttpRequest r;
    r.target = bad;
    EXPECT_FALSE(ParseTarget(r).ok()) << bad;
  }
}

TEST(PercentEncode, KeepsUnreservedAndRoundTrips) {
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode("/x?y=1&z"), "%2Fx%3Fy%3D1%26z");
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(PercentDecode(PercentEncode(all), false), all);
}

TEST(HttpRequest, ReadsCookiesAndHeaders) {
  HttpRequest r;
  r.headers = {{"cookie", "a=1; isms_session=abc=; b=2"}, {"x-csrf-token", "t"}};
  EXPECT_EQ(r.Cookie("isms_session"), "abc=");
  EXPECT_EQ(r.Cookie("b"), "2");
  EXPECT_EQ(r.Cookie("c"), "");
  EXPECT_EQ(r.Header("x-csrf-token"), "t");
  EXPECT_EQ(r.Header("absent"), "");
}

TEST(ErrorResponse, EveryFailureHasTheSameJsonShape) {
  HttpResponse r = ErrorResponse(Status::NotFound("no contract \"x\""));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            "{\"error\":{\"code\":\"not_found\",\"message\":\"no contract \\\"x\\\"\","
            "\"status\":404}}\n");
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternal), 500);
}

TEST(ParseFormEncoded, DecodesPairsAndRefusesBadEscapes) {
  auto f = ParseFormEncoded("a=1&b=x+y&c=%41&&d");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[1].second, "x y");
  EXPECT_EQ((*f)[2].second, "A");
  EXPECT_EQ((*f)[3].first, "d");
  EXPECT_FALSE(ParseFormEncoded("a=%G1"));
}

TEST(Multipart, ReadsFieldsAndFiles) {
  std::string type = "multipart/form-data; boundary=\"XyZ\"";
  auto b = MultipartBoundary(type);
  ASSERT_EQ(b, "XyZ");
  std::string body =
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.nessus\"\r\n"
      "Content-Type: application/xml\r\n\r\n<a>\r\n--X</a>\r\n--XyZ--\r\n";
  auto parts = ParseMultipart(*b, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "csrf");
  EXPECT_EQ((*parts)[0].data, "tok");
  EXPECT_EQ((*parts)[1].filename, "scan.nessus");
  EXPECT_EQ((*parts)[1].content_type, "application/xml");
  EXPECT_EQ((*parts)[1].data, "<a>\r\n--X</a>");
}

TEST(Multipart, RefusesBrokenBodiesNamingTheOffset) {
  EXPECT_FALSE(MultipartBoundary("application/json"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data"));
  auto none = ParseMultipart("B", "no boundary here");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("byte 0"), std::string::npos);
  auto open = ParseMultipart("B", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxx");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("no closing boundary"), std::string::npos);
  auto headerless = ParseMultipart("B", "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--");
  EXPECT_FALSE(headerless.ok());
}

}  // namespace
}  // namespace isms::net
