#include "formats/audit_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace isms {
namespace {

Instant At(std::string_view s) {
  return ParseInstant(s).value();
}

AuditRecord Sample() {
  AuditRecord r;
  r.time = At("2026-03-01T09:15:02.123Z");
  r.received = At("2026-03-01T09:15:03Z");
  r.source = AuditSource::kSyslog5424;
  r.flags = kAuditUtf8Bom;
  r.facility = 4;
  r.severity = 2;
  r.host = "web-01";
  r.app = "sshd";
  r.procid = "4242";
  r.message = std::string("Accepted publickey for alice \xff\xfe", 31);
  r.category = AuditCategory::kRemoteSessionStart;
  r.rule = "sshd-accepted";
  r.user = "alice";
  r.src_ip = "10.0.0.9";
  r.session = "4242";
  r.structured_data = {{"origin@32473", {{"ip", "10.0.0.1"}, {"ip", "10.0.0.2"}}}};
  r.extra = {{"src_port", "51234"}, {"method", "publickey"}};
  return r;
}

TEST(AuditRecordTest, RoundTrips) {
  const AuditRecord r = Sample();
  const std::string bytes = EncodeAuditRecord(r).value();
  Result<AuditRecord> back = DecodeAuditRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  AuditRecord expected = r;
  std::swap(expected.extra[0], expected.extra[1]);  // decoded sorted by key
  EXPECT_EQ(*back, expected);
  EXPECT_EQ(EncodeAuditRecord(*back).value(), bytes);
}

TEST(AuditRecordTest, EncodingIntoAUsedBufferGivesTheSameBytes) {
  // As a listener does: each record is encoded into the buffer of an earlier one, longer or
  // shorter; the bytes are those of a fresh encoding, with nothing of the earlier record left.
  const AuditRecord full = Sample();
  const AuditRecord small = [] {
    AuditRecord r;
    r.time = At("2026-03-01T09:15:02Z");
    r.message = "x";
    return r;
  }();
  std::string buffer;
  for (const AuditRecord* r : {&full, &small, &full, &small, &full}) {
    ASSERT_TRUE(EncodeAuditRecordInto(*r, buffer).ok());
    EXPECT_EQ(buffer, EncodeAuditRecord(*r).value());
  }
  buffer = std::string(1000, '\xff');  // a buffer holding other bytes, with room to spare
  ASSERT_TRUE(EncodeAuditRecordInto(small, buffer).ok());
  EXPECT_EQ(buffer, EncodeAuditRecord(small).value());
}

TEST(AuditRecordTest, EncodingIsIndependentOfExtraOrder) {
  AuditRecord a = Sample();
  AuditRecord b = Sample();
  std::swap(b.extra[0], b.extra[1]);
  EXPECT_EQ(EncodeAuditRecord(a).value(), EncodeAuditRecord(b).value());
}

TEST(AuditRecordTest, EncodingSortsExtraKeysBytewiseInEveryOrder) {
  // Keys that share first bytes, an empty key, and bytes above 0x7f (compared unsigned).
  std::vector<std::pair<std::string, std::string>> extra = {
      {"", "0"},    {"d", "1"}, {"dest", "2"}, {"dest_port", "3"}, {"\xc3\xa9t\xc3\xa9", "4"},
      {"zeta", "5"}};
  AuditRecord sorted = Sample();
  sorted.extra = extra;
  const std::string expected = EncodeAuditRecord(sorted).value();
  std::sort(extra.begin(), extra.end());
  int orders = 0;
  do {
    AuditRecord r = Sample();
    r.extra = extra;
    ASSERT_EQ(EncodeAuditRecord(r).value(), expected) << orders;
    ++orders;
  } while (std::next_permutation(extra.begin(), extra.end()));
  EXPECT_EQ(orders, 720);
  for (const auto& twice :
       {std::vector<std::pair<std::string, std::string>>{{"dest", "a"}, {"dest", "b"}},
        {{"d", "a"}, {"dest", "b"}, {"d", "c"}},
        {{"", "a"}, {"", "b"}}}) {
    AuditRecord r = Sample();
    r.extra = twice;
    Result<std::string> e = EncodeAuditRecord(r);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.status().message().find("appears twice"), std::string::npos);
  }
}

AuditRecord DocumentedExample() {
  AuditRecord r;
  r.time = Instant(std::chrono::milliseconds(0x0102030405));
  r.received = Instant(std::chrono::milliseconds(-1));
  r.source = AuditSource::kUnparsed;
  r.flags = kAuditUnparsed | kAuditTimeFromReceipt;
  r.message = "hi";
  r.extra = {{"k", "v"}};
  return r;
}

// The example of docs/audit-format.md in version 1: what logs written before version 2 hold.
std::string DocumentedVersion1() {
  std::string expected;
  expected += '\x01';
  expected += std::string("\x00\x00\x00\x01\x02\x03\x04\x05", 8);
  expected += std::string(8, '\xff');
  expected += std::string("\x03\x05\xff\xff", 4);
  expected += std::string("\x00\x00\x00\x05other", 9);
  for (int i = 0; i < 11; ++i) expected += std::string(4, '\0');  // rule .. session
  expected += std::string("\x00\x00\x00\x02hi", 6);
  expected += std::string(4, '\0');                // no SD elements
  expected += std::string("\x00\x00\x00\x01", 4);  // one extra
  expected += std::string("\x00\x00\x00\x01k\x00\x00\x00\x01v", 10);
  return expected;
}

TEST(AuditRecordTest, EncodesTheDocumentedBytes) {
  std::string expected;
  expected += '\x02';
  expected += std::string("\x00\x00\x00\x01\x02\x03\x04\x05", 8);
  expected += std::string(8, '\xff');
  expected += std::string("\x03\x05\xff\xff", 4);
  expected += '\x00';                 // category 0: other
  expected += std::string(11, '\0');  // rule .. session
  expected += std::string("\x02hi", 3);
  expected += '\x00';  // no SD elements
  expected += '\x01';  // one extra
  expected += std::string("\x01k\x01v", 4);
  EXPECT_EQ(EncodeAuditRecord(DocumentedExample()).value(), expected);
  EXPECT_EQ(EncodeAuditRecord(DocumentedExample(), 1).value(), DocumentedVersion1());
}

TEST(AuditRecordTest, ReadsVersion1) {
  // Leaves are never re-encoded: a log written before version 2 is read as it is.
  Result<AuditRecord> old = DecodeAuditRecord(DocumentedVersion1());
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(*old, DocumentedExample());
  AuditRecord r = Sample();
  std::sort(r.extra.begin(), r.extra.end());
  const std::string v1 = EncodeAuditRecord(r, 1).value();
  const std::string v2 = EncodeAuditRecord(r).value();
  EXPECT_EQ(v1[0], 1);
  EXPECT_EQ(v2[0], 2);
  EXPECT_LT(v2.size(), v1.size());
  EXPECT_EQ(DecodeAuditRecord(v1).value(), r);
  EXPECT_EQ(DecodeAuditRecord(v2).value(), r);
  EXPECT_FALSE(EncodeAuditRecord(r, 3).ok());
}

TEST(AuditRecordTest, Version2LengthsAreVarints) {
  // 127 bytes take one length byte, 128 two (0x80 0x01), 16,384 three.
  for (const auto& [n, prefix] : std::vector<std::pair<size_t, std::string>>{
           {127, "\x7f"}, {128, "\x80\x01"}, {300, "\xac\x02"}, {16384, "\x80\x80\x01"}}) {
    AuditRecord r;
    r.message = std::string(n, 'm');
    const std::string b = EncodeAuditRecord(r).value();
    const size_t at = 1 + 8 + 8 + 4 + 1 + 11;  // after the header, category, rule .. session
    EXPECT_EQ(b.substr(at, prefix.size()), prefix) << n;
    EXPECT_EQ(b.size(), at + prefix.size() + n + 2) << n;
    EXPECT_EQ(DecodeAuditRecord(b).value().message, r.message) << n;
  }
}

TEST(AuditRecordTest, Version2DecoderIsStrict) {
  AuditRecord r;
  r.message = "hi";
  const std::string good = EncodeAuditRecord(r).value();
  const size_t at = 1 + 8 + 8 + 4 + 1 + 11;  // the message's length byte
  ASSERT_EQ(good[at], 2);
  // The same length in a longer form (0x82 0x00) is not the encoding: refused.
  std::string longer = good;
  longer.replace(at, 1, std::string("\x82\x00", 2));
  EXPECT_EQ(DecodeAuditRecord(longer).status().code(), StatusCode::kCorruption);
  // A length past 32 bits.
  std::string huge = good;
  huge.replace(at, 1, std::string("\xff\xff\xff\xff\x7f", 5));
  EXPECT_FALSE(DecodeAuditRecord(huge).ok());
  // An unknown category number.
  std::string category = good;
  category[1 + 8 + 8 + 4] = 8;
  EXPECT_NE(DecodeAuditRecord(category).status().message().find("unknown category 8"),
            std::string::npos);
  // Every category number round-trips.
  for (const std::string_view key :
       {"other", "outbound-request", "dhcp-lease", "privileged-logon", "privileged-logoff",
        "remote-session-start", "remote-session-end", "security-alert"}) {
    r.category = ParseAuditCategoryKey(key).value();
    EXPECT_EQ(DecodeAuditRecord(EncodeAuditRecord(r).value()).value().category, r.category);
  }
}

TEST(AuditRecordTest, DifferentFieldSplitsEncodeDifferently) {
  AuditRecord a, b;
  a.host = "ab";
  a.app = "c";
  b.host = "a";
  b.app = "bc";
  EXPECT_NE(EncodeAuditRecord(a).value(), EncodeAuditRecord(b).value());
}

TEST(AuditRecordTest, RefusesDuplicateExtraKeys) {
  AuditRecord r;
  r.extra = {{"k", "1"}, {"k", "2"}};
  EXPECT_EQ(EncodeAuditRecord(r).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuditRecordTest, RefusesOutOfRangePri) {
  AuditRecord r;
  r.facility = 24;
  EXPECT_FALSE(EncodeAuditRecord(r).ok());
}

TEST(AuditRecordTest, DecoderIsStrict) {
  const std::string bytes = EncodeAuditRecord(Sample()).value();
  EXPECT_EQ(DecodeAuditRecord("").status().code(), StatusCode::kCorruption);
  std::string v3 = bytes;
  v3[0] = 3;
  EXPECT_NE(DecodeAuditRecord(v3).status().message().find("version 3"), std::string::npos);
  for (const std::string& b : {bytes, EncodeAuditRecord(Sample(), 1).value()}) {
    EXPECT_TRUE(DecodeAuditRecord(b).ok());
    EXPECT_FALSE(DecodeAuditRecord(b + "x").ok());
    for (size_t n = 0; n < b.size(); ++n) {
      EXPECT_FALSE(DecodeAuditRecord(b.substr(0, n)).ok()) << n;
    }
  }
}

TEST(AuditRecordTest, DecoderRefusesUnsortedExtras) {
  AuditRecord r;
  r.extra = {{"a", "1"}, {"b", "2"}};
  std::string bytes = EncodeAuditRecord(r).value();
  const size_t a = bytes.rfind('a');
  const size_t b = bytes.rfind('b');
  std::swap(bytes[a], bytes[b]);
  EXPECT_EQ(DecodeAuditRecord(bytes).status().code(), StatusCode::kCorruption);
}

TEST(AuditRecordTest, CategoryKeys) {
  for (AuditCategory c : {AuditCategory::kOther, AuditCategory::kOutboundRequest,
                          AuditCategory::kDhcpLease, AuditCategory::kPrivilegedLogon,
                          AuditCategory::kPrivilegedLogoff, AuditCategory::kRemoteSessionStart,
                          AuditCategory::kRemoteSessionEnd, AuditCategory::kSecurityAlert}) {
    EXPECT_EQ(ParseAuditCategoryKey(AuditCategoryKey(c)).value(), c);
  }
  EXPECT_NE(ParseAuditCategoryKey("login").status().message().find("remote-session-start"),
            std::string::npos);
}

TEST(AuditRecordTest, ExtraAccessors) {
  AuditRecord r;
  r.SetExtra("a", "1");
  r.SetExtra("a", "2");
  EXPECT_EQ(r.Extra("a"), "2");
  EXPECT_EQ(r.Extra("b"), "");
  EXPECT_EQ(r.extra.size(), 1u);
}

TEST(AuditRecordTest, TheCategoryIsReadWithoutDecodingInBothVersions) {
  for (int c = 0; c <= static_cast<int>(AuditCategory::kSecurityAlert); ++c) {
    AuditRecord r;
    r.time = Instant(std::chrono::milliseconds(1'700'000'000'000));
    r.host = "h";
    r.message = "m";
    r.category = static_cast<AuditCategory>(c);
    for (std::uint8_t version : {1, 2}) {
      Result<std::string> b = EncodeAuditRecord(r, version);
      ASSERT_TRUE(b.ok());
      EXPECT_EQ(PeekAuditCategory(*b), r.category) << "version " << int{version};
      EXPECT_EQ(PeekAuditCategoryNumber(*b), c) << "version " << int{version};
      EXPECT_EQ(PeekAuditCategory(std::string_view(*b).substr(0, 21)), std::nullopt);
      EXPECT_EQ(PeekAuditCategoryNumber(std::string_view(*b).substr(0, 21)), -1);
    }
  }
  EXPECT_EQ(PeekAuditCategory(""), std::nullopt);
  EXPECT_EQ(PeekAuditCategory(std::string(40, '\x07')), std::nullopt) << "unknown version";
  EXPECT_EQ(PeekAuditCategoryNumber(std::string(40, '\x07')), -1) << "unknown version";
  std::string unknown(40, '\0');
  unknown[0] = 2;
  unknown[21] = 8;  // version 2 knows eight categories, 0 to 7
  EXPECT_EQ(PeekAuditCategoryNumber(unknown), -1) << "unknown category";
}

TEST(AuditRecordTest, TheIndexedFieldsAreReadWithoutDecodingInBothVersions) {
  AuditRecord r;
  r.time = Instant(std::chrono::milliseconds(1'700'000'000'123));
  r.host = "proxy-01";
  r.app = "squid";
  r.user = "alice";
  r.src_ip = "10.20.0.15";
  r.rule = "squid-access";
  r.message = "m";
  r.category = AuditCategory::kOutboundRequest;
  r.extra = {{"k", "v"}};
  for (std::uint8_t version : {1, 2}) {
    Result<std::string> b = EncodeAuditRecord(r, version);
    ASSERT_TRUE(b.ok());
    std::optional<AuditRecordKeys> k = PeekAuditKeys(*b);
    ASSERT_TRUE(k.has_value()) << "version " << int{version};
    EXPECT_EQ(k->time, r.time);
    EXPECT_EQ(k->category, r.category);
    EXPECT_EQ(k->host, "proxy-01");
    EXPECT_EQ(k->user, "alice");
    EXPECT_EQ(k->src_ip, "10.20.0.15");
    for (std::size_t cut = 0; cut < 40; ++cut) {
      EXPECT_EQ(PeekAuditKeys(std::string_view(*b).substr(0, cut)), std::nullopt) << cut;
    }
  }
}

}  // namespace
}  // namespace isms
