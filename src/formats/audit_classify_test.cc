#include "formats/audit_classify.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "formats/syslog.h"

namespace isms {
namespace {

const AuditClassifier& BuiltIn() {
  static const AuditClassifier* c = new AuditClassifier(AuditClassifier::Create().value());
  return *c;
}

// A syslog line, parsed and classified by the built-in rules. Parsed and classified as a view
// too (isms serve's way), the line must give the same record.
AuditRecord Classified(std::string_view line) {
  SyslogOptions o;
  o.received = ParseInstant("2026-03-01T09:20:00Z").value();
  AuditRecord r = ParseSyslogMessage(line, o);
  BuiltIn().Classify(r);
  AuditRecordView view;
  ParseSyslogMessageInto(line, o, view);
  BuiltIn().Classify(view);
  EXPECT_EQ(ToAuditRecord(view), r) << line;
  return r;
}

TEST(AuditClassifyTest, BuiltInRulesLoad) {
  EXPECT_GE(BuiltInAuditRules().size(), 20u);
  for (const AuditRule& r : BuiltInAuditRules()) {
    EXPECT_FALSE(r.apps.empty() && r.contains.empty()) << r.name;
  }
}

TEST(AuditClassifyTest, SquidAccessLog) {
  const AuditRecord r = Classified(
      "<150>Mar  1 09:15:02 proxy-01 squid[900]: 1772356502.719   1190 10.0.0.5 TCP_MISS/200 "
      "5290 GET http://www.example.com/status.html alice HIER_DIRECT/93.184.216.34 text/html");
  EXPECT_EQ(r.category, AuditCategory::kOutboundRequest);
  EXPECT_EQ(r.rule, "squid-access");
  EXPECT_EQ(r.src_ip, "10.0.0.5");
  EXPECT_EQ(r.dest, "http://www.example.com/status.html");
  EXPECT_EQ(r.user, "alice");
  EXPECT_EQ(r.Extra("method"), "GET");
  EXPECT_EQ(r.Extra("result"), "TCP_MISS/200");
  EXPECT_EQ(r.Extra("peer"), "HIER_DIRECT/93.184.216.34");

  const AuditRecord connect = Classified(
      "<150>Mar  1 09:15:02 proxy-01 (squid-1)[901]: 1772356502.800 35 10.0.0.6 TCP_TUNNEL/200 "
      "4000 CONNECT login.example.org:443 - HIER_DIRECT/203.0.113.10 -");
  EXPECT_EQ(connect.category, AuditCategory::kOutboundRequest);
  EXPECT_EQ(connect.dest, "login.example.org:443");
  EXPECT_EQ(connect.user, "");

  const AuditRecord startup = Classified(
      "<150>Mar  1 09:15:02 proxy-01 squid[900]: Starting Squid Cache version 5.7 for "
      "x86_64-pc-linux-gnu...");
  EXPECT_EQ(startup.category, AuditCategory::kOther);
}

TEST(AuditClassifyTest, UfwAndIptablesKernelLines) {
  const AuditRecord r = Classified(
      "<4>Mar  1 09:15:02 gw-01 kernel: [12345.678901] [UFW BLOCK] IN= OUT=eth0 "
      "SRC=10.0.0.5 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP "
      "SPT=40000 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0");
  EXPECT_EQ(r.category, AuditCategory::kOutboundRequest);
  EXPECT_EQ(r.rule, "netfilter");
  EXPECT_EQ(r.src_ip, "10.0.0.5");
  EXPECT_EQ(r.dest, "198.51.100.7");
  EXPECT_EQ(r.Extra("out_if"), "eth0");
  EXPECT_EQ(r.Extra("in_if"), "");
  EXPECT_EQ(r.Extra("proto"), "TCP");
  EXPECT_EQ(r.Extra("dest_port"), "25");

  const AuditRecord nft = Classified(
      "<4>Mar  1 09:15:03 gw-01 kernel: OUTBOUND-ACCEPT IN=eth1 OUT=eth0 MAC=00:11:22:33:44:55:66:"
      "77:88:99:aa:bb:08:00 SRC=10.0.0.7 DST=203.0.113.9 LEN=52 PROTO=UDP SPT=5353 DPT=53 LEN=32");
  EXPECT_EQ(nft.category, AuditCategory::kOutboundRequest);
  EXPECT_EQ(nft.src_ip, "10.0.0.7");
  EXPECT_EQ(nft.Extra("in_if"), "eth1");
}

TEST(AuditClassifyTest, DhcpLeases) {
  const AuditRecord isc = Classified(
      "<30>Mar  1 09:15:02 dhcp-01 dhcpd[612]: DHCPACK on 10.0.0.5 to aa:bb:cc:dd:ee:ff "
      "(laptop-042) via eth0");
  EXPECT_EQ(isc.category, AuditCategory::kDhcpLease);
  EXPECT_EQ(isc.rule, "dhcpd-ack");
  EXPECT_EQ(isc.src_ip, "10.0.0.5");
  EXPECT_EQ(isc.src_mac, "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(isc.src_host, "laptop-042");
  EXPECT_EQ(isc.Extra("interface"), "eth0");

  const AuditRecord nameless = Classified(
      "<30>Mar  1 09:15:02 dhcp-01 dhcpd[612]: DHCPACK on 10.0.0.6 to 00:16:3e:12:34:56 via "
      "eth0");
  EXPECT_EQ(nameless.category, AuditCategory::kDhcpLease);
  EXPECT_EQ(nameless.src_host, "");

  const AuditRecord offer = Classified(
      "<30>Mar  1 09:15:02 dhcp-01 dhcpd[612]: DHCPOFFER on 10.0.0.5 to aa:bb:cc:dd:ee:ff via "
      "eth0");
  EXPECT_EQ(offer.category, AuditCategory::kOther);

  const AuditRecord dnsmasq = Classified(
      "<30>Mar  1 09:15:02 router dnsmasq-dhcp[1234]: DHCPACK(br-lan) 192.168.1.100 "
      "00:11:22:33:44:55 printer-2");
  EXPECT_EQ(dnsmasq.category, AuditCategory::kDhcpLease);
  EXPECT_EQ(dnsmasq.src_ip, "192.168.1.100");
  EXPECT_EQ(dnsmasq.src_mac, "00:11:22:33:44:55");
  EXPECT_EQ(dnsmasq.src_host, "printer-2");
  EXPECT_EQ(dnsmasq.Extra("interface"), "br-lan");

  const AuditRecord extra_log = Classified(
      "<30>Mar  1 09:15:02 router dnsmasq-dhcp[1234]: 3858437658 DHCPACK(eth0) 10.1.1.9 "
      "00:11:22:33:44:66");
  EXPECT_EQ(extra_log.category, AuditCategory::kDhcpLease);
  EXPECT_EQ(extra_log.src_ip, "10.1.1.9");
  EXPECT_EQ(extra_log.Extra("lease"), "") << "a grant says nothing; a release says so";
}

TEST(AuditClassifyTest, DhcpReleasesEndLeases) {
  const AuditRecord isc = Classified(
      "<30>Mar  1 10:02:11 dhcp-01 dhcpd[612]: DHCPRELEASE of 10.0.0.5 from aa:bb:cc:dd:ee:ff "
      "(laptop-042) via eth0 (found)");
  EXPECT_EQ(isc.category, AuditCategory::kDhcpLease);
  EXPECT_EQ(isc.rule, "dhcpd-release");
  EXPECT_EQ(isc.src_ip, "10.0.0.5");
  EXPECT_EQ(isc.src_mac, "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(isc.src_host, "laptop-042");
  EXPECT_EQ(isc.Extra("lease"), "release");

  const AuditRecord dnsmasq = Classified(
      "<30>Mar  1 10:02:11 router dnsmasq-dhcp[1234]: DHCPRELEASE(br-lan) 192.168.1.100 "
      "00:11:22:33:44:55");
  EXPECT_EQ(dnsmasq.rule, "dnsmasq-dhcprelease");
  EXPECT_EQ(dnsmasq.src_ip, "192.168.1.100");
  EXPECT_EQ(dnsmasq.src_mac, "00:11:22:33:44:55");
  EXPECT_EQ(dnsmasq.Extra("lease"), "release");
}

TEST(AuditClassifyTest, ASupplierRuleSetsConstantsAndTheLeaseLength) {
  constexpr std::string_view kKea = R"toml(
[audit]
lease_seconds = 3600

[[audit.rules]]
name = "kea-lease"
category = "dhcp-lease"
app = ["kea-dhcp4"]
contains = ["DHCP4_LEASE_ALLOC"]
regex = 'hwaddr=(?<src_mac>[0-9a-f:]+).* lease (?<src_ip>\S+) has been allocated for (?<lease_seconds>\d+) seconds'
set = { server = "kea", src_ip = "ignored: the capture came first" }
)toml";
  Result<AuditSettings> settings = LoadAuditSettingsToml(kKea, "kea.toml");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->lease_seconds, 3600);
  EXPECT_EQ(LoadAuditSettingsToml("[policy]\n", "p.toml")->lease_seconds, 86400);
  Result<std::vector<AuditRule>> rules = LoadAuditRulesToml(kKea, "kea.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  Result<AuditClassifier> c = AuditClassifier::Create(std::move(rules).value());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  AuditRecord r;
  r.app = "kea-dhcp4";
  r.message =
      "DHCP4_LEASE_ALLOC [hwtype=1 hwaddr=3c:22:fb:11:22:33], cid=[no info], tid=0x1: lease "
      "10.0.0.5 has been allocated for 4000 seconds";
  c->Classify(r);
  EXPECT_EQ(r.rule, "kea-lease");
  EXPECT_EQ(r.src_ip, "10.0.0.5");
  EXPECT_EQ(r.src_mac, "3c:22:fb:11:22:33");
  EXPECT_EQ(r.Extra("lease_seconds"), "4000");
  EXPECT_EQ(r.Extra("server"), "kea");
}

TEST(AuditClassifyTest, SudoAndSu) {
  const AuditRecord cmd = Classified(
      "<85>Mar  1 09:15:02 web-01 sudo[3001]:    alice : TTY=pts/0 ; PWD=/home/alice ; "
      "USER=root ; COMMAND=/usr/bin/systemctl restart nginx");
  EXPECT_EQ(cmd.category, AuditCategory::kPrivilegedLogon);
  EXPECT_EQ(cmd.rule, "sudo-command");
  EXPECT_EQ(cmd.user, "alice");
  EXPECT_EQ(cmd.Extra("target_user"), "root");
  EXPECT_EQ(cmd.Extra("command"), "/usr/bin/systemctl restart nginx");

  const AuditRecord opened = Classified(
      "<86>Mar  1 09:15:02 web-01 sudo[3001]: pam_unix(sudo:session): session opened for user "
      "root(uid=0) by alice(uid=1000)");
  EXPECT_EQ(opened.category, AuditCategory::kPrivilegedLogon);
  EXPECT_EQ(opened.user, "alice");
  EXPECT_EQ(opened.Extra("target_user"), "root");
  EXPECT_EQ(opened.session, "3001");

  const AuditRecord old_format = Classified(
      "<86>Mar  1 09:15:02 web-01 sudo: pam_unix(sudo:session): session opened for user root by "
      "alice(uid=1000)");
  EXPECT_EQ(old_format.user, "alice");

  const AuditRecord closed = Classified(
      "<86>Mar  1 09:15:04 web-01 sudo[3001]: pam_unix(sudo:session): session closed for user "
      "root");
  EXPECT_EQ(closed.category, AuditCategory::kPrivilegedLogoff);
  EXPECT_EQ(closed.session, "3001");

  const AuditRecord denied = Classified(
      "<81>Mar  1 09:15:02 web-01 sudo[3002]:      bob : user NOT in sudoers ; TTY=pts/1 ; "
      "PWD=/home/bob ; USER=root ; COMMAND=/bin/bash");
  EXPECT_EQ(denied.category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(denied.user, "bob");

  const AuditRecord su_open = Classified(
      "<86>Mar  1 09:16:00 web-01 su[4100]: pam_unix(su-l:session): session opened for user "
      "root(uid=0) by alice(uid=1000)");
  EXPECT_EQ(su_open.category, AuditCategory::kPrivilegedLogon);
  EXPECT_EQ(su_open.rule, "su-session-opened");

  const AuditRecord su_to =
      Classified("<86>Mar  1 09:16:00 web-01 su[4100]: (to root) alice on pts/2");
  EXPECT_EQ(su_to.category, AuditCategory::kPrivilegedLogon);
  EXPECT_EQ(su_to.user, "alice");
  EXPECT_EQ(su_to.Extra("target_user"), "root");

  const AuditRecord su_failed =
      Classified("<86>Mar  1 09:16:00 web-01 su[4101]: FAILED su for root by mallory");
  EXPECT_EQ(su_failed.category, AuditCategory::kSecurityAlert);
}

TEST(AuditClassifyTest, SshSessions) {
  const AuditRecord accepted = Classified(
      "<38>Mar  1 09:15:02 bastion-01 sshd[4242]: Accepted publickey for alice from 10.0.0.9 port "
      "51234 ssh2: ED25519 SHA256:AbCdEf");
  EXPECT_EQ(accepted.category, AuditCategory::kRemoteSessionStart);
  EXPECT_EQ(accepted.rule, "sshd-accepted");
  EXPECT_EQ(accepted.user, "alice");
  EXPECT_EQ(accepted.src_ip, "10.0.0.9");
  EXPECT_EQ(accepted.session, "4242");
  EXPECT_EQ(accepted.Extra("method"), "publickey");
  EXPECT_EQ(accepted.Extra("src_port"), "51234");

  const AuditRecord pam = Classified(
      "<86>Mar  1 09:15:02 bastion-01 sshd[4242]: pam_unix(sshd:session): session opened for "
      "user alice(uid=1000) by (uid=0)");
  EXPECT_EQ(pam.category, AuditCategory::kRemoteSessionStart);
  EXPECT_EQ(pam.user, "alice");

  const AuditRecord gone = Classified(
      "<38>Mar  1 10:01:00 bastion-01 sshd-session[4242]: Disconnected from user alice 10.0.0.9 "
      "port 51234");
  EXPECT_EQ(gone.category, AuditCategory::kRemoteSessionEnd);
  EXPECT_EQ(gone.session, "4242");

  const AuditRecord closed = Classified(
      "<86>Mar  1 10:01:00 bastion-01 sshd[4242]: pam_unix(sshd:session): session closed for "
      "user alice");
  EXPECT_EQ(closed.category, AuditCategory::kRemoteSessionEnd);

  const AuditRecord failed = Classified(
      "<38>Mar  1 10:01:00 bastion-01 sshd[4300]: Failed password for invalid user admin from "
      "203.0.113.50 port 40000 ssh2");
  EXPECT_EQ(failed.category, AuditCategory::kOther);
}

TEST(AuditClassifyTest, OpenVpnSessions) {
  const AuditRecord start = Classified(
      "<29>Mar  1 09:15:02 vpn-01 openvpn[800]: 203.0.113.7:51234 [alice] Peer Connection "
      "Initiated with [AF_INET]203.0.113.7:51234");
  EXPECT_EQ(start.category, AuditCategory::kRemoteSessionStart);
  EXPECT_EQ(start.user, "alice");
  EXPECT_EQ(start.src_ip, "203.0.113.7");
  EXPECT_EQ(start.session, "203.0.113.7:51234");

  const AuditRecord named = Classified(
      "<29>Mar  1 09:15:02 vpn-01 ovpn-server[800]: bob/198.51.100.4:1194 Peer Connection "
      "Initiated with [AF_INET]198.51.100.4:1194");
  EXPECT_EQ(named.category, AuditCategory::kRemoteSessionStart);
  EXPECT_EQ(named.user, "bob");

  const AuditRecord end = Classified(
      "<29>Mar  1 11:00:00 vpn-01 openvpn[800]: alice/203.0.113.7:51234 SIGTERM[soft,remote-exit] "
      "received, client-instance exiting");
  EXPECT_EQ(end.category, AuditCategory::kRemoteSessionEnd);
  EXPECT_EQ(end.user, "alice");
  EXPECT_EQ(end.session, "203.0.113.7:51234");
}

TEST(AuditClassifyTest, SecurityAlerts) {
  const AuditRecord anom = Classified(
      "<14>Mar  1 09:15:02 web-01 audispd: type=ANOM_ABEND msg=audit(1772356502.123:812): "
      "auid=1000 uid=1000 gid=1000 ses=3 pid=5555 comm=\"crashy\" exe=\"/usr/bin/crashy\" sig=11 "
      "res=1");
  EXPECT_EQ(anom.category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(anom.Extra("audit_type"), "ANOM_ABEND");
  EXPECT_EQ(anom.Extra("exe"), "/usr/bin/crashy");

  const AuditRecord login = Classified(
      "<14>Mar  1 09:15:02 web-01 audispd: type=USER_LOGIN msg=audit(1772356502.200:813): "
      "pid=4242 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" "
      "hostname=? addr=10.0.0.9 terminal=/dev/pts/0 res=success'");
  EXPECT_EQ(login.category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(login.src_ip, "10.0.0.9");
  EXPECT_EQ(login.Extra("result"), "success");

  const AuditRecord clam = Classified(
      "<28>Mar  1 09:15:02 files-01 clamd[700]: /srv/share/invoice.pdf.exe: "
      "Win.Trojan.Agent-1234567 FOUND");
  EXPECT_EQ(clam.category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(clam.Extra("path"), "/srv/share/invoice.pdf.exe");
  EXPECT_EQ(clam.Extra("signature"), "Win.Trojan.Agent-1234567");

  const AuditRecord generic =
      Classified("<28>Mar  1 09:15:02 pc-17 edr-agent[99]: Malware Detected in C:\\tmp\\x.exe");
  EXPECT_EQ(generic.category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(generic.rule, "malware-detected");

  const AuditRecord boot =
      Classified("<30>Mar  1 09:15:02 pc-17 systemd[1]: Detected virtualization kvm.");
  EXPECT_EQ(boot.category, AuditCategory::kOther);
}

TEST(AuditClassifyTest, UnmatchedAndUnparsedAreOther) {
  EXPECT_EQ(Classified("<30>Mar  1 09:15:02 h cron[1]: job done").category, AuditCategory::kOther);
  const AuditRecord unparsed = Classified("garbage \xff");
  EXPECT_EQ(unparsed.category, AuditCategory::kOther);
  EXPECT_EQ(unparsed.rule, "");
}

TEST(AuditClassifyTest, SenderClassificationIsKept) {
  AuditRecord r;
  r.app = "sshd";
  r.message = "Accepted publickey for alice from 10.0.0.9 port 1 ssh2";
  r.category = AuditCategory::kSecurityAlert;
  r.rule = "sender";
  BuiltIn().Classify(r);
  EXPECT_EQ(r.category, AuditCategory::kSecurityAlert);
  EXPECT_EQ(r.user, "");
}

TEST(AuditClassifyTest, SenderFieldsAreNotOverwritten) {
  AuditRecord r;
  r.app = "sshd";
  r.user = "alice@corp";
  r.message = "Accepted publickey for alice from 10.0.0.9 port 1 ssh2";
  BuiltIn().Classify(r);
  EXPECT_EQ(r.category, AuditCategory::kRemoteSessionStart);
  EXPECT_EQ(r.user, "alice@corp");
  EXPECT_EQ(r.src_ip, "10.0.0.9");
}

constexpr std::string_view kPolicy = R"toml(
[policy]
effective = 2026-04-01

[[audit.rules]]
name = "fortigate-traffic"
category = "outbound-request"
app = "fortigate"
contains = ['type="traffic"']
kv = { src_ip = "srcip", dest = "dstip", user = "user", action = "action" }

[[audit.rules]]
name = "citrix-logon"
category = "remote-session-start"
contains = ["SESSION LOGIN"]
regex = 'User (?<user>\S+) - Client_ip (?<src_ip>\S+)'

[[audit.rules]]
name = "sshd-local-override"
category = "security-alert"
app = ["sshd"]
contains = ["Accepted password for root "]
)toml";

TEST(AuditClassifyTest, SupplierRulesFromPolicyComeFirst) {
  Result<std::vector<AuditRule>> rules = LoadAuditRulesToml(kPolicy, "policy.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].origin, "policy.toml:5");
  Result<AuditClassifier> c = AuditClassifier::Create(std::move(rules).value());
  ASSERT_TRUE(c.ok()) << c.status().ToString();

  AuditRecord fg;
  fg.app = "fortigate";
  fg.message =
      "date=2026-03-01 time=09:15:02 devname=\"FGT60F\" type=\"traffic\" subtype=\"forward\" "
      "srcip=10.0.0.5 srcport=51000 dstip=93.184.216.34 dstport=443 action=\"accept\" "
      "user=\"alice\"";
  c->Classify(fg);
  EXPECT_EQ(fg.category, AuditCategory::kOutboundRequest);
  EXPECT_EQ(fg.rule, "fortigate-traffic");
  EXPECT_EQ(fg.src_ip, "10.0.0.5");
  EXPECT_EQ(fg.dest, "93.184.216.34");
  EXPECT_EQ(fg.user, "alice");
  EXPECT_EQ(fg.Extra("action"), "accept");

  AuditRecord citrix;
  citrix.app = "ns";
  citrix.message = "SSLVPN SESSION LOGIN User bob - Client_ip 198.51.100.4 - Vserver 10.1.1.1";
  c->Classify(citrix);
  EXPECT_EQ(citrix.category, AuditCategory::kRemoteSessionStart);
  EXPECT_EQ(citrix.user, "bob");

  AuditRecord root;
  root.app = "sshd";
  root.message = "Accepted password for root from 10.0.0.9 port 1 ssh2";
  c->Classify(root);
  EXPECT_EQ(root.rule, "sshd-local-override");
  AuditRecord alice;
  alice.app = "sshd";
  alice.message = "Accepted password for alice from 10.0.0.9 port 1 ssh2";
  c->Classify(alice);
  EXPECT_EQ(alice.rule, "sshd-accepted");
}

// kv as docs/audit-format.md states it, one key at a time: the value of the first token
// KEY=VALUE (a token starts the text or follows a space, a tab or a quote), up to the next
// space or tab, quotes around it dropped.
std::optional<std::string> KvByTheRule(std::string_view s, std::string_view key) {
  for (size_t at = 0; at + key.size() < s.size(); ++at) {
    const bool starts = at == 0 || s[at - 1] == ' ' || s[at - 1] == '\t' || s[at - 1] == '\'';
    if (!starts || s.substr(at, key.size()) != key || s[at + key.size()] != '=') continue;
    size_t end = at + key.size() + 1;
    while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
    std::string_view v = s.substr(at + key.size() + 1, end - at - key.size() - 1);
    while (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '"' || v.back() == '\'')) v.remove_suffix(1);
    return std::string(v);
  }
  return std::nullopt;
}

// A rule whose kv is `kv` (each field to its key, as TOML) and random texts over `alphabet`: each
// field gets what KvByTheRule says, in a record and in a view.
void CheckKvOnRandomTexts(const std::vector<std::pair<std::string, std::string>>& kv,
                          const std::string& alphabet, std::uint32_t seed) {
  std::string table;
  for (const auto& [field, key] : kv) {
    table += (table.empty() ? "" : ", ") + field + " = '" + key + "'";
  }
  Result<std::vector<AuditRule>> rules = LoadAuditRulesToml(R"(
[[audit.rules]]
name = "kv-random"
category = "security-alert"
app = ["kvtest"]
kv = { )" + table + " }\n",
                                                            "kv.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  Result<AuditClassifier> c = AuditClassifier::Create(std::move(rules).value());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::mt19937 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    AuditRecord r;
    r.app = "kvtest";
    for (size_t n = rng() % 24; n > 0; --n) r.message += alphabet[rng() % alphabet.size()];
    AuditRecordView view;
    view.app = r.app;
    view.message = r.message;
    c->Classify(r);
    ASSERT_EQ(r.rule, "kv-random");
    c->Classify(view);
    ASSERT_EQ(ToAuditRecord(view), r) << r.message;
    for (const auto& [field, key] : kv) {
      const std::string want = KvByTheRule(r.message, key).value_or("");
      const std::string got = field == "user" ? r.user : std::string(r.Extra(field));
      ASSERT_EQ(got, want) << "key " << key << " in '" << r.message << "'";
    }
  }
}

// Keys without '=', space, tab or quote, as every built-in rule's: found in one pass over the
// text. Two fields with the same key both get its value.
TEST(AuditClassifyTest, KvTakesEachKeysFirstTokenOnRandomTexts) {
  CheckKvOnRandomTexts(
      {{"k", "K"}, {"kk", "KK"}, {"kx", "KX"}, {"x", "X"}, {"user", "U"}, {"again", "K"}},
      "KXU= \t'\"a", 20261130);
}

// Keys holding '=', a quote or a space: searched one at a time.
TEST(AuditClassifyTest, KvKeysWithSeparatorsTakeTheirFirstTokenOnRandomTexts) {
  CheckKvOnRandomTexts({{"k", "K"}, {"eq", "K="}, {"quote", "K\"K"}, {"space", "X K"}},
                       "KX= \t'\"a", 20261201);
}

TEST(AuditClassifyTest, RuleErrorsNameFileLineAndFix) {
  struct Case {
    std::string_view toml;
    std::string_view expected;
  };
  for (const Case& c : std::vector<Case>{
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"login\"\napp = \"a\"\n",
            "p.toml:3:12: audit rule 'x': unknown audit category 'login'"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\nregex = 'a'\n",
            "p.toml:1:1: audit rule 'x' has neither 'app' nor 'contains'"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nregex = '(a'\n",
            "p.toml:5:9: audit rule 'x': regex does not compile"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nregex = "
            "'(?<User>a)'\n",
            "p.toml:5:9: audit rule 'x': group name 'User' is not a field name"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\ncolour = 1\n",
            "p.toml:5:1: audit rule 'x': unknown key 'colour'"},
           {"[[audit.rules]]\ncategory = \"other\"\n", "p.toml:1:1: audit rule 1 has no name"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\n"
            "[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\n",
            "p.toml:5:1: audit rule 'x' is defined twice"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nfields = { "
            "src_ip = 0 }\n",
            "p.toml:5:21: audit rule 'x': fields.src_ip is not a token number"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp_regex = \"a\"\n",
            "p.toml:1:1: audit rule 'x' has neither 'app' nor 'contains'"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nregex = "
            "'a{4444444444444444444}'\n",
            "p.toml:5:9: audit rule 'x': a repeat count in {...} is above 255"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nregex = "
            "'(a)\\4444444444444444444'\n",
            "p.toml:5:9: audit rule 'x': backreferences"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nregex = "
            "'[]{999}'\n",
            "p.toml:5:9: audit rule 'x': a repeat count in {...} is above 255"},
           {"[audit]\nrules = 3\n", "p.toml:2:9: 'audit.rules' is not an array of tables"},
           {"[audit]\nlease = 3\n", "p.toml:2:1: unknown key 'audit.lease'"},
           {"[audit]\nlease_seconds = 0\n", "p.toml:2:17: 'audit.lease_seconds' is not a lease"},
           {"[audit]\nlease_seconds = \"1h\"\n",
            "p.toml:2:17: 'audit.lease_seconds' is not a lease"},
           {"[[audit.rules]]\nname = \"x\"\ncategory = \"other\"\napp = \"a\"\nset = { lease = "
            "1 }\n",
            "p.toml:5:17: audit rule 'x': set.lease is not a value"},
           {"[[audit.rules]\n", "p.toml:1:"},
       }) {
    Result<std::vector<AuditRule>> r = LoadAuditRulesToml(c.toml, "p.toml");
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().message().rfind(c.expected, 0), 0u)
        << r.status().message() << "\nexpected prefix: " << c.expected;
  }
}

TEST(AuditClassifyTest, NoAuditSectionIsNoRules) {
  Result<std::vector<AuditRule>> r = LoadAuditRulesToml("[policy]\n", "p.toml");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(AuditClassifyTest, SupplierRuleMayNotReuseABuiltInName) {
  AuditRule r;
  r.name = "sshd-accepted";
  r.apps = {"x"};
  EXPECT_FALSE(AuditClassifier::Create({r}).ok());
}

TEST(AuditClassifyTest, LongMessagesAreSafe) {
  AuditRecord r;
  r.app = "clamd";
  r.message = std::string(200000, 'a') + ": Sig FOUND";
  BuiltIn().Classify(r);
  EXPECT_EQ(r.category, AuditCategory::kOther);
}

}  // namespace
}  // namespace isms
