#include "app/audit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/calendar.h"
#include "core/time.h"
#include "formats/syslog.h"

namespace isms::app {
namespace {

// A listener prepares each record into one that held an earlier record (AuditPreparer::
// PrepareInto): whatever the earlier one was — a DHCP lease, an outbound request, a login — the
// result is the record Prepare makes afresh, with nothing of the earlier one left (no lease, no
// address, no longer bytes).
TEST(AuditPreparerTest, PreparingIntoAUsedRecordGivesWhatPrepareGives) {
  char tmpl[] = "/tmp/isms-audit-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  SystemClock clock;
  {
    auto service = AuditService::Open("sqlite:" + dir + "/isms.db", dir, clock);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    NewContract c;
    c.name = "c";
    c.start = ParseDate("2026-11-01").value();
    ASSERT_TRUE((*service)->ledger().CreateContract(c, Actor{"test"}).ok());
    auto preparer = (*service)->Preparer("c");
    ASSERT_TRUE(preparer.ok()) << preparer.status().ToString();

    const std::vector<std::string> messages = {
        "<30>Nov 29 10:00:00 dhcp1 dhcpd[1]: DHCPACK on 10.0.0.5 to aa:bb:cc:dd:ee:ff (laptop-7) "
        "via eth0",
        "<4>Nov 29 10:00:01 fw1 kernel: OUT IN=eth0 OUT=eth1 SRC=10.0.0.5 DST=192.0.2.1 PROTO=TCP "
        "SPT=1234 DPT=443",
        "<38>Nov 29 10:00:02 web-01 sshd[4242]: Accepted publickey for alice from 10.0.0.9 port "
        "51234 ssh2",
        "x",
    };
    SyslogOptions o;
    o.received = clock.Now();
    auto fresh = [&](const std::string& m) {
      return (*preparer)->Prepare(ParseSyslogMessage(m, o)).value();
    };
    ASSERT_TRUE(fresh(messages[0]).lease.has_value());
    ASSERT_EQ(fresh(messages[1]).entry.ip, "10.0.0.5");
    for (const std::string& before : messages) {
      for (const std::string& m : messages) {
        PreparedAuditRecord out;
        AuditRecord r = ParseSyslogMessage(before, o);
        ASSERT_TRUE((*preparer)->PrepareInto(r, out).ok());
        r = ParseSyslogMessage(m, o);
        ASSERT_TRUE((*preparer)->PrepareInto(r, out).ok());
        const PreparedAuditRecord want = fresh(m);
        SCOPED_TRACE(before + " then " + m);
        EXPECT_EQ(out.entry.bytes, want.entry.bytes);
        EXPECT_EQ(out.entry.leaf_hash, want.entry.leaf_hash);
        EXPECT_TRUE(out.entry.hashed);
        EXPECT_EQ(out.entry.time, want.entry.time);
        EXPECT_EQ(out.entry.host, want.entry.host);
        EXPECT_EQ(out.entry.user, want.entry.user);
        EXPECT_EQ(out.entry.ip, want.entry.ip);
        EXPECT_EQ(out.category, want.category);
        ASSERT_EQ(out.lease.has_value(), want.lease.has_value());
        if (want.lease) {
          EXPECT_EQ(out.lease->ip, want.lease->ip);
          EXPECT_EQ(out.lease->host, want.lease->host);
          EXPECT_EQ(out.lease->mac, want.lease->mac);
          EXPECT_EQ(out.lease->release, want.lease->release);
          EXPECT_EQ(out.lease->length, want.lease->length);
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace isms::app
