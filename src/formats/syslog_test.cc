#include "formats/syslog.h"

#include <gtest/gtest.h>

namespace isms {
namespace {

Instant At(std::string_view s) {
  return ParseInstant(s).value();
}

SyslogOptions Received(std::string_view s) {
  SyslogOptions o;
  o.received = At(s);
  return o;
}

const std::string kBom = "\xEF\xBB\xBF";

// RFC 5424 §6.5, example 1 (with the BOM the RFC marks as "BOM").
TEST(SyslogTest, Rfc5424Example1) {
  const std::string line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " +
                           kBom + "'su root' failed for lonvick on /dev/pts/8";
  const AuditRecord r = ParseSyslogMessage(line, Received("2003-10-11T22:14:16Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog5424);
  EXPECT_EQ(r.facility, 4);
  EXPECT_EQ(r.severity, 2);
  EXPECT_EQ(r.time, At("2003-10-11T22:14:15.003Z"));
  EXPECT_EQ(r.host, "mymachine.example.com");
  EXPECT_EQ(r.app, "su");
  EXPECT_EQ(r.procid, "");
  EXPECT_EQ(r.msgid, "ID47");
  EXPECT_TRUE(r.structured_data.empty());
  EXPECT_EQ(r.message, "'su root' failed for lonvick on /dev/pts/8");
  EXPECT_EQ(r.flags, kAuditUtf8Bom);
}

// Example 2: microsecond fraction and an offset; no BOM.
TEST(SyslogTest, Rfc5424Example2) {
  const AuditRecord r = ParseSyslogMessage(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
      "the do-nuts.",
      Received("2003-08-24T12:14:16Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog5424);
  EXPECT_EQ(r.facility, 20);
  EXPECT_EQ(r.severity, 5);
  EXPECT_EQ(r.time, At("2003-08-24T12:14:15Z"));
  EXPECT_EQ(r.host, "192.0.2.1");
  EXPECT_EQ(r.app, "myproc");
  EXPECT_EQ(r.procid, "8710");
  EXPECT_EQ(r.msgid, "");
  EXPECT_EQ(r.message, "%% It's time to make the do-nuts.");
  EXPECT_EQ(r.flags, 0);
}

// Example 3: structured data and a message.
TEST(SyslogTest, Rfc5424Example3) {
  const AuditRecord r = ParseSyslogMessage(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
      "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] " +
          kBom + "An application event log entry...",
      Received("2003-10-11T22:14:16Z"));
  ASSERT_EQ(r.source, AuditSource::kSyslog5424);
  ASSERT_EQ(r.structured_data.size(), 1u);
  EXPECT_EQ(r.structured_data[0].id, "exampleSDID@32473");
  const std::vector<std::pair<std::string, std::string>> params = {
      {"iut", "3"}, {"eventSource", "Application"}, {"eventID", "1011"}};
  EXPECT_EQ(r.structured_data[0].params, params);
  EXPECT_EQ(r.message, "An application event log entry...");
}

// Example 4: two SD elements and no message.
TEST(SyslogTest, Rfc5424Example4) {
  const AuditRecord r = ParseSyslogMessage(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
      "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 "
      "class=\"high\"]",
      Received("2003-10-11T22:14:16Z"));
  ASSERT_EQ(r.source, AuditSource::kSyslog5424);
  ASSERT_EQ(r.structured_data.size(), 2u);
  EXPECT_EQ(r.structured_data[1].id, "examplePriority@32473");
  EXPECT_EQ(r.structured_data[1].params[0].second, "high");
  EXPECT_EQ(r.message, "");
}

TEST(SyslogTest, Rfc5424EscapesInParamValues) {
  const AuditRecord r = ParseSyslogMessage(
      R"(<13>1 2026-03-01T09:00:00Z h a - - [x@1 v="a\"b\\c\]d\e"] m)", SyslogOptions());
  ASSERT_EQ(r.source, AuditSource::kSyslog5424);
  EXPECT_EQ(r.structured_data[0].params[0].second, "a\"b\\c]d\\e");
}

TEST(SyslogTest, Rfc5424NilTimestampUsesReceiveTime) {
  const AuditRecord r =
      ParseSyslogMessage("<13>1 - host app 12 - - hello\n", Received("2026-03-01T09:00:00Z"));
  ASSERT_EQ(r.source, AuditSource::kSyslog5424);
  EXPECT_EQ(r.time, At("2026-03-01T09:00:00Z"));
  EXPECT_EQ(r.flags, kAuditTimeFromReceipt);
  EXPECT_EQ(r.message, "hello");
}

TEST(SyslogTest, Rfc5424FaultsFallBackToVerbatim) {
  const SyslogOptions o = Received("2026-03-01T09:00:00Z");
  for (std::string_view bad : {
           "<13>1 ",
           "<13>1 2026-03-01T09:00:00Z",
           "<13>1 not-a-time h a - - - m",
           "<13>1 2026-03-01T09:00:00Z h a - - [x@1 v=\"unterminated",
           "<13>1 2026-03-01T09:00:00Z h a - - [x@1 v=\"a\"",
           "<13>1 2026-03-01T09:00:00Z h a - - [x@1 =\"a\"]",
           "<13>1 2026-03-01T09:00:00Z h a - - [",
           "<13>1 2026-03-01T09:00:00Z h a - - x",
           "<13>1 2026-03-01T09:00:00Z h a - - -x",
       }) {
    const AuditRecord r = ParseSyslogMessage(bad, o);
    EXPECT_EQ(r.source, AuditSource::kUnparsed) << bad;
    EXPECT_EQ(r.message, bad);
    EXPECT_EQ(r.time, o.received);
    EXPECT_TRUE(r.flags & kAuditUnparsed);
  }
  EXPECT_FALSE(ParseRfc5424("<13>1 2026-03-01T09:00:00Z h a - - [", o).ok());
}

TEST(SyslogTest, Bsd3164WithPri) {
  const AuditRecord r = ParseSyslogMessage(
      "<38>Mar  1 09:15:02 bastion-01 sshd[4242]: Accepted publickey for alice from 10.0.0.9 port "
      "51234 ssh2: ED25519 SHA256:Xx0",
      Received("2026-03-01T09:15:03Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog3164);
  EXPECT_EQ(r.facility, 4);
  EXPECT_EQ(r.severity, 6);
  EXPECT_EQ(r.time, At("2026-03-01T09:15:02Z"));
  EXPECT_EQ(r.host, "bastion-01");
  EXPECT_EQ(r.app, "sshd");
  EXPECT_EQ(r.procid, "4242");
  EXPECT_EQ(r.message,
            "Accepted publickey for alice from 10.0.0.9 port 51234 ssh2: ED25519 SHA256:Xx0");
  EXPECT_EQ(r.flags, kAuditYearInferred | kAuditZoneAssumed);
}

TEST(SyslogTest, Bsd3164WithoutPriAsInLogFiles) {
  const AuditRecord r =
      ParseSyslogMessage("Mar 01 09:15:02 gw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4",
                         Received("2026-03-01T09:15:03Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog3164);
  EXPECT_EQ(r.facility, -1);
  EXPECT_EQ(r.host, "gw");
  EXPECT_EQ(r.app, "kernel");
  EXPECT_EQ(r.procid, "");
  EXPECT_EQ(r.message, "[UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4");
}

TEST(SyslogTest, Bsd3164WithoutHost) {
  const AuditRecord r = ParseSyslogMessage("<86>Mar  1 09:15:02 sudo[77]: pam_unix(sudo:session)",
                                           Received("2026-03-01T09:15:03Z"));
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.app, "sudo");
  EXPECT_EQ(r.procid, "77");
  EXPECT_EQ(r.message, "pam_unix(sudo:session)");
}

TEST(SyslogTest, Bsd3164WithYearAndMilliseconds) {
  const AuditRecord r = ParseSyslogMessage("<189>Mar 1 2025 09:15:02.250 rtr-01 ifmgr: link up",
                                           Received("2026-03-01T09:15:03Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog3164);
  EXPECT_EQ(r.time, At("2025-03-01T09:15:02.250Z"));
  EXPECT_EQ(r.flags, kAuditZoneAssumed);
  EXPECT_EQ(r.host, "rtr-01");
  EXPECT_EQ(r.app, "ifmgr");
}

TEST(SyslogTest, RsyslogHighPrecisionTimestamp) {
  const AuditRecord r = ParseSyslogMessage(
      "2026-03-01T10:15:02.123456+01:00 proxy-01 squid[900]: 1772356502.123 12 10.0.0.5 "
      "TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html",
      Received("2026-03-01T09:15:03Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog3164);
  EXPECT_EQ(r.time, At("2026-03-01T09:15:02.123Z"));
  EXPECT_EQ(r.flags, 0);
  EXPECT_EQ(r.host, "proxy-01");
  EXPECT_EQ(r.app, "squid");
}

TEST(SyslogTest, YearInferredAcrossNewYear) {
  EXPECT_EQ(
      ParseSyslogMessage("<13>Dec 31 23:59:58 h app: x", Received("2026-01-01T00:00:05Z")).time,
      At("2025-12-31T23:59:58Z"));
  EXPECT_EQ(
      ParseSyslogMessage("<13>Jan  1 00:00:02 h app: x", Received("2025-12-31T23:59:59Z")).time,
      At("2026-01-01T00:00:02Z"));
  EXPECT_EQ(
      ParseSyslogMessage("<13>Jun 15 12:00:00 h app: x", Received("2026-06-15T12:00:00Z")).time,
      At("2026-06-15T12:00:00Z"));
}

TEST(SyslogTest, LeapDayOnlyInLeapYears) {
  EXPECT_EQ(
      ParseSyslogMessage("<13>Feb 29 10:00:00 h app: x", Received("2028-03-01T00:00:00Z")).time,
      At("2028-02-29T10:00:00Z"));
  // No year within one of the receive year has 29 February: the time is the receive time and
  // the text is kept.
  const AuditRecord r =
      ParseSyslogMessage("<13>Feb 29 10:00:00 h app: x", Received("2026-03-01T00:00:00Z"));
  EXPECT_EQ(r.time, At("2026-03-01T00:00:00Z"));
  EXPECT_EQ(r.flags, kAuditTimeFromReceipt);
  EXPECT_EQ(r.message, "Feb 29 10:00:00 h app: x");
}

TEST(SyslogTest, BsdZoneOptions) {
  SyslogOptions o = Received("2026-07-01T12:00:00Z");
  o.bsd_zone = SyslogOptions::BsdZone::kEuropeLondon;
  EXPECT_EQ(ParseSyslogMessage("<13>Jul  1 13:00:00 h a: x", o).time, At("2026-07-01T12:00:00Z"));
  o.received = At("2026-01-15T12:00:00Z");
  EXPECT_EQ(ParseSyslogMessage("<13>Jan 15 13:00:00 h a: x", o).time, At("2026-01-15T13:00:00Z"));
  o.bsd_zone = SyslogOptions::BsdZone::kFixedOffset;
  o.bsd_offset = std::chrono::minutes(-300);
  EXPECT_EQ(ParseSyslogMessage("<13>Jan 15 08:00:00 h a: x", o).time, At("2026-01-15T13:00:00Z"));
}

TEST(SyslogTest, PriWithoutTimestampKeepsTextWithReceiveTime) {
  const AuditRecord r =
      ParseSyslogMessage("<13>openvpn[5]: hello", Received("2026-03-01T09:00:00Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog3164);
  EXPECT_EQ(r.flags, kAuditTimeFromReceipt);
  EXPECT_EQ(r.app, "openvpn");
  EXPECT_EQ(r.message, "hello");
}

TEST(SyslogTest, FuzzStyleEdgeCasesAreKeptVerbatim) {
  const SyslogOptions o = Received("2026-03-01T09:00:00Z");
  for (std::string_view bad :
       {std::string_view(""), std::string_view("<"), std::string_view("<>"),
        std::string_view("<13"), std::string_view("<192>Mar  1 09:15:02 h a: x"),
        std::string_view("<-1>x"), std::string_view("<1a>x"), std::string_view("<9999>x"),
        std::string_view("just some text"), std::string_view("Mar 99 09:15:02 h a: x"),
        std::string_view("Mar  1 25:15:02 h a: x"), std::string_view("\0\0\0", 3)}) {
    const AuditRecord r = ParseSyslogMessage(bad, o);
    EXPECT_EQ(r.source, AuditSource::kUnparsed) << bad;
    EXPECT_EQ(r.message, bad);
  }
}

TEST(SyslogTest, OnlyPriIsAnEmptyMessage) {
  const AuditRecord r = ParseSyslogMessage("<13>", Received("2026-03-01T09:00:00Z"));
  EXPECT_EQ(r.source, AuditSource::kSyslog3164);
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.severity, 5);
}

TEST(SyslogTest, InvalidUtf8IsKeptAsBytes) {
  const std::string bytes = "<13>Mar  1 09:15:02 h app: caf\xe9 \xc3\x28 \xff";
  const AuditRecord r = ParseSyslogMessage(bytes, Received("2026-03-01T09:00:00Z"));
  EXPECT_EQ(r.message, "caf\xe9 \xc3\x28 \xff");
  const std::string unparsed = "\xfe\xff garbage \x80";
  EXPECT_EQ(ParseSyslogMessage(unparsed, SyslogOptions()).message, unparsed);
  const std::string in5424 = "<13>1 - h a - - - " + kBom + "\xff\xfe";
  EXPECT_EQ(ParseSyslogMessage(in5424, SyslogOptions()).message, "\xff\xfe");
}

// A listener parses every message into one record: what an earlier message (and its
// classification) left in it must not show in the next.
TEST(SyslogTest, ParsingIntoAnEarlierRecordLeavesNothingOfIt) {
  AuditRecord dirty;
  dirty.time = At("2020-01-01T00:00:00Z");
  dirty.received = At("2020-01-01T00:00:01Z");
  dirty.source = AuditSource::kJsonLines;
  dirty.flags = 0xFF;
  dirty.facility = 3;
  dirty.severity = 2;
  for (std::string* s : {&dirty.host, &dirty.app, &dirty.procid, &dirty.msgid, &dirty.message,
                         &dirty.rule, &dirty.user, &dirty.src_ip, &dirty.src_host, &dirty.src_mac,
                         &dirty.dest, &dirty.session}) {
    *s = "left over from an earlier record, long enough to be on the heap";
  }
  dirty.category = AuditCategory::kSecurityAlert;
  dirty.structured_data.push_back({"old@1", {{"a", "b"}}});
  dirty.extra.emplace_back("old", "value");
  const SyslogOptions o = Received("2026-03-01T09:00:00Z");
  for (const std::string message :
       {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        "[exampleSDID@32473 iut=\"3\"] An application event",
        "<13>1 - h a - - -", "<13>1 broken", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
        "no syslog at all"}) {
    AuditRecord into = dirty;
    ParseSyslogMessageInto(message, o, into);
    EXPECT_EQ(into, ParseSyslogMessage(message, o)) << message;
    // A view holding an earlier record's fields, as a preparer's does.
    const std::string earlier = "<165>1 2003-10-11T22:14:15.003Z host app 12 ID47 [a@1 b=\"c\"] x";
    AuditRecordView view;
    ParseSyslogMessageInto(earlier, o, view);
    view.rule = view.user = view.src_ip = view.src_host = view.src_mac = view.dest = view.session =
        "left over";
    view.category = AuditCategory::kSecurityAlert;
    view.extra.emplace_back("old", "value");
    ParseSyslogMessageInto(message, o, view);
    EXPECT_EQ(ToAuditRecord(view), ParseSyslogMessage(message, o)) << message;
  }
}

// A view (isms serve's preparers parse each message as one, without copying it) stands for the
// record the owned parse gives, of every form and fault; its strings are the message's bytes.
TEST(SyslogTest, AViewOfAMessageIsTheRecordParsedFromIt) {
  const SyslogOptions o = Received("2026-03-01T09:00:00Z");
  const std::string messages[] = {
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][x@1 a=\"q\\\"uo\\]te\"] "
      "\xEF\xBB\xBF"
      "An application event",
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed\r\n",
      "<13>1 - - - - - -",
      "<13>1 - h a - - -",
      "<13>1 broken",
      "<13>1 2003-13-11T22:14:15Z h a p m - x",
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
      "Oct 11 22:14:15 host sshd[123]: Accepted",
      "<30>2026-03-01T09:14:02.123456+00:00 web-01 nginx[77]: GET /",
      "<13>",
      "<999>1 x",
      "no syslog at all",
      "",
      "\xFF\xFE binary \x00 bytes\n"};
  for (const std::string& message : messages) {
    AuditRecordView view;
    ParseSyslogMessageInto(message, o, view);
    EXPECT_EQ(ToAuditRecord(view), ParseSyslogMessage(message, o)) << message;
    for (const std::string_view field :
         {view.host, view.app, view.procid, view.msgid, view.message}) {
      if (!field.empty()) {
        EXPECT_TRUE(field.data() >= message.data() &&
                    field.data() + field.size() <= message.data() + message.size())
            << message;
      }
    }
  }
}

}  // namespace
}  // namespace isms
