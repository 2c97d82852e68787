#include "formats/audit_jsonl.h"

#include <gtest/gtest.h>

namespace isms {
namespace {

Instant At(std::string_view s) {
  return ParseInstant(s).value();
}
const Instant kReceived = At("2026-03-01T10:00:00Z");

std::vector<AuditRecord> ParseAll(std::string_view data, Status* status) {
  std::vector<AuditRecord> out;
  *status = ParseAuditJsonLines(data, "audit.jsonl", kReceived, [&](AuditRecord&& r) {
    out.push_back(std::move(r));
    return Status::Ok();
  });
  return out;
}

TEST(AuditJsonlTest, ParsesKnownAndExtraFields) {
  Result<AuditRecord> r = ParseAuditJsonLine(
      R"({"time":"2026-03-01T09:15:02+01:00","host":"web-01","app":"sshd","user":"alice",)"
      R"("message":"Accepted publickey for alice from 10.0.0.9 port 51234 ssh2","pid":4242,)"
      R"("tags":["a","b"],"site":"leeds","src_ip":"10.0.0.9","nothing":null})",
      kReceived);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, AuditSource::kJsonLines);
  EXPECT_EQ(r->time, At("2026-03-01T08:15:02Z"));
  EXPECT_EQ(r->received, kReceived);
  EXPECT_EQ(r->host, "web-01");
  EXPECT_EQ(r->app, "sshd");
  EXPECT_EQ(r->user, "alice");
  EXPECT_EQ(r->src_ip, "10.0.0.9");
  EXPECT_EQ(r->message, "Accepted publickey for alice from 10.0.0.9 port 51234 ssh2");
  EXPECT_EQ(r->rule, "");
  EXPECT_EQ(r->Extra("pid"), "4242");
  EXPECT_EQ(r->Extra("tags"), R"(["a","b"])");
  EXPECT_EQ(r->Extra("site"), "leeds");
  EXPECT_EQ(r->Extra("nothing"), "null");
}

TEST(AuditJsonlTest, SenderCategoryIsKept) {
  Result<AuditRecord> r = ParseAuditJsonLine(
      R"({"time":"2026-03-01T09:15:02Z","host":"edr-01","message":"Trojan blocked","category":"security-alert"})",
      kReceived);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(r->rule, "sender");
}

TEST(AuditJsonlTest, ErrorsNameLineAndColumn) {
  struct Case {
    std::string_view line;
    std::string_view expected;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"time":"2026-03-01T09:15:02Z","host":"h","message":"m",})",
            "audit.jsonl:3:57: not valid JSON"},
           {R"({"time":"yesterday","host":"h","message":"m"})",
            "audit.jsonl:3:9: field 'time' is not an RFC 3339 date-time ('yesterday')"},
           {R"({"time":"2026-03-01T09:15:02Z","host":7,"message":"m"})",
            "audit.jsonl:3:39: field 'host' is a number; write a string"},
           {R"({"time":"2026-03-01T09:15:02Z","message":"m"})",
            "audit.jsonl:3:1: field 'host' is missing"},
           {R"({"host":"h","message":"m"})", "audit.jsonl:3:1: field 'time' is missing"},
           {R"({"time":"2026-03-01T09:15:02Z","host":"h","message":"m","category":"login"})",
            "audit.jsonl:3:68: field 'category' is invalid: unknown audit category 'login'"},
           {R"({"time":"2026-03-01T09:15:02Z","host":"h","message":"m","host":"g"})",
            "audit.jsonl:3:39: field 'host' appears twice"},
           {R"(["time"])", "audit.jsonl:3:1: the line is an array, not a JSON object"},
           {"{\"time\":\"2026-03-01T09:15:02Z\",\"host\":\"h\",\"message\":\"\xff\"}",
            "audit.jsonl:3:"},
       }) {
    Result<AuditRecord> r = ParseAuditJsonLine(c.line, kReceived, "audit.jsonl", 3);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().message().rfind(c.expected, 0), 0u)
        << r.status().message() << "\nexpected prefix: " << c.expected;
  }
}

TEST(AuditJsonlTest, BulkFileSkipsBlankLinesAndHandlesBomAndCrlf) {
  Status s;
  const std::vector<AuditRecord> got = ParseAll(
      "\xEF\xBB\xBF{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"a\",\"message\":\"1\"}\r\n"
      "\n   \n"
      "{\"time\":\"2026-03-01T09:00:01Z\",\"host\":\"b\",\"message\":\"2\"}",
      &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].host, "a");
  EXPECT_EQ(got[1].message, "2");
}

TEST(AuditJsonlTest, BulkFileIsRefusedAtTheFirstBadLine) {
  Status s;
  ParseAll(
      "{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"a\",\"message\":\"1\"}\n"
      "\n"
      "{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"a\",\"message\":\"1\"\n"
      "{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"a\",\"message\":\"1\"}\n",
      &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("audit.jsonl:3:", 0), 0u) << s.message();
}

TEST(AuditJsonlTest, SinkErrorStopsTheFile) {
  int calls = 0;
  const Status s = ParseAuditJsonLines(
      "{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"a\",\"message\":\"1\"}\n"
      "{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"a\",\"message\":\"1\"}\n",
      "f", kReceived, [&](AuditRecord&&) {
        ++calls;
        return Status::IoError("disk full");
      });
  EXPECT_EQ(s, Status::IoError("disk full"));
  EXPECT_EQ(calls, 1);
}

TEST(AuditJsonlTest, LiveStreamKeepsBadLinesVerbatim) {
  const AuditRecord bad = AuditJsonLineOrUnparsed("{not json", kReceived);
  EXPECT_EQ(bad.source, AuditSource::kUnparsed);
  EXPECT_EQ(bad.message, "{not json");
  EXPECT_EQ(bad.time, kReceived);
  const AuditRecord good = AuditJsonLineOrUnparsed(
      R"({"time":"2026-03-01T09:00:00Z","host":"a","message":"1"})", kReceived);
  EXPECT_EQ(good.source, AuditSource::kJsonLines);
}

TEST(AuditJsonlTest, NumberOverflowIsAnErrorNotACrash) {
  Result<AuditRecord> r = ParseAuditJsonLine(
      R"({"time":"2026-03-01T09:15:02Z","host":"h","message":"m","n":6E916})", kReceived, "f", 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("f:2:1: not valid JSON (number overflow", 0), 0u)
      << r.status().message();
  EXPECT_EQ(AuditJsonLineOrUnparsed("6E916E91", kReceived).source, AuditSource::kUnparsed);
}

TEST(AuditJsonlTest, EdgeCasesNeverCrash) {
  for (std::string_view line : {"", "{", "}", "null", "\"x\"", "{\"time\":1}", "[]", "{}",
                                "{\"time\":\"2026-03-01T09:00:00Z\",\"host\":\"\","
                                "\"message\":\"\"}"}) {
    EXPECT_FALSE(ParseAuditJsonLine(line, kReceived).ok()) << line;
  }
}

}  // namespace
}  // namespace isms
