#include "app/audit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/json_views.h"
#include "audit/checkpoint.h"
#include "audit/log_store.h"
#include "audit/note.h"
#include "audit/zstd_frame.h"
#include "core/calendar.h"
#include "core/time.h"
#include "formats/audit_record.h"
#include "formats/syslog.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace isms::app {
namespace {

// Creates contract `name` (starting 2026-11-01) in the ledger of `s`.
void CreateContract(AuditService& s, const std::string& name) {
  NewContract c;
  c.name = name;
  c.start = ParseDate("2026-11-01").value();
  ASSERT_TRUE(s.ledger().CreateContract(c, Actor{"test"}).ok());
}

// Each test's own store (SQLite, in a folder of its own) and its audit service.
class AuditServiceFiles : public ::testing::Test {
 protected:
  // The service, or null (the test has then failed).
  std::unique_ptr<AuditService> Open(int chunk_bits = DefaultAuditChunkBits()) {
    EXPECT_FALSE(tmp_.path.empty());
    auto service =
        AuditService::Open("sqlite:" + tmp_.path + "/isms.db", tmp_.path, clock_, chunk_bits);
    EXPECT_TRUE(service.ok()) << service.status().ToString();
    return service.ok() ? std::move(service).value() : nullptr;
  }

  const store::testing::TempDir tmp_;
  SystemClock clock_;
};

// A listener prepares each record into one that held an earlier record (AuditPreparer::
// PrepareInto): whatever the earlier one was — a DHCP lease, an outbound request, a login — the
// result is the record Prepare makes afresh, with nothing of the earlier one left (no lease, no
// address, no longer bytes).
TEST_F(AuditServiceFiles, PreparingIntoAUsedRecordGivesWhatPrepareGives) {
  {
    std::unique_ptr<AuditService> service = Open();
    ASSERT_NE(service, nullptr);
    CreateContract(*service, "c");
    auto preparer = service->Preparer("c");
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
    o.received = clock_.Now();
    auto fresh = [&](const std::string& m) {
      return (*preparer)->Prepare(ParseSyslogMessage(m, o)).value();
    };
    ASSERT_TRUE(fresh(messages[0]).lease != nullptr);
    // A grant that states no lease length records the policy's (a day by default), so that
    // verify rebuilds the lease index with the length used even after the policy changes.
    Result<AuditRecord> granted = DecodeAuditRecord(fresh(messages[0]).entry.bytes);
    ASSERT_TRUE(granted.ok());
    EXPECT_EQ(granted->Extra("lease_seconds"), "86400");
    EXPECT_EQ(fresh(messages[0]).lease->length, std::chrono::hours(24));
    Result<AuditRecord> other = DecodeAuditRecord(fresh(messages[1]).entry.bytes);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->Extra("lease_seconds"), "");
    ASSERT_EQ(fresh(messages[1]).entry.ip, "10.0.0.5");
    // Each prepared record vouches for its keys, and they are those AuditEntryKeysOf reads from
    // its bytes (the audit log stores it without them): the address only for an outbound
    // request, not for the DHCP grant's.
    for (const std::string& m : messages) {
      const PreparedAuditRecord p = fresh(m);
      EXPECT_TRUE(p.entry.keys_of_bytes) << m;
      audit::ContentKeys k;
      ASSERT_TRUE(AuditEntryKeysOf(p.entry.bytes, &k)) << m;
      EXPECT_EQ(k.time_ms, p.entry.time.time_since_epoch().count()) << m;
      EXPECT_EQ(k.host, p.entry.host) << m;
      EXPECT_EQ(k.user, p.entry.user) << m;
      EXPECT_EQ(k.ip, p.entry.ip) << m;
    }
    EXPECT_EQ(fresh(messages[0]).entry.ip, "");
    const auto same = [](const PreparedAuditRecord& out, const PreparedAuditRecord& want) {
      EXPECT_EQ(out.entry.bytes, want.entry.bytes);
      EXPECT_EQ(out.entry.leaf_hash, want.entry.leaf_hash);
      EXPECT_TRUE(out.entry.hashed);
      EXPECT_EQ(out.entry.time, want.entry.time);
      EXPECT_EQ(out.entry.host, want.entry.host);
      EXPECT_EQ(out.entry.user, want.entry.user);
      EXPECT_EQ(out.entry.ip, want.entry.ip);
      EXPECT_EQ(out.category, want.category);
      ASSERT_EQ(out.lease != nullptr, want.lease != nullptr);
      if (want.lease) {
        EXPECT_EQ(out.lease->ip, want.lease->ip);
        EXPECT_EQ(out.lease->host, want.lease->host);
        EXPECT_EQ(out.lease->mac, want.lease->mac);
        EXPECT_EQ(out.lease->release, want.lease->release);
        EXPECT_EQ(out.lease->length, want.lease->length);
      }
    };
    for (const std::string& before : messages) {
      for (const std::string& m : messages) {
        SCOPED_TRACE(before + " then " + m);
        const PreparedAuditRecord want = fresh(m);
        PreparedAuditRecord out;
        AuditRecord r = ParseSyslogMessage(before, o);
        ASSERT_TRUE((*preparer)->PrepareInto(r, out).ok());
        r = ParseSyslogMessage(m, o);
        ASSERT_TRUE((*preparer)->PrepareInto(r, out).ok());
        same(out, want);
        // isms serve's way: each message parsed as a view into one view record, prepared into a
        // record used before (a lease takes the owned path inside).
        PreparedAuditRecord served;
        AuditRecordView view;
        ParseSyslogMessageInto(before, o, view);
        ASSERT_TRUE((*preparer)->PrepareInto(view, served).ok());
        ParseSyslogMessageInto(m, o, view);
        ASSERT_TRUE((*preparer)->PrepareInto(view, served).ok());
        same(served, want);
      }
    }
  }
}

// isms serve stages each record as it is ready (StagedAuditRecords) and appends the staged
// records: the log, the categories counted and the lease index are those AppendPrepared gives
// for the same records — a whole chunk from its blocks, then part of one.
TEST_F(AuditServiceFiles, StagedRecordsAreAppendedAsAppendPreparedAppendsThem) {
  std::unique_ptr<AuditService> service = Open(8);  // chunks of 256 records
  ASSERT_NE(service, nullptr);
  CreateContract(*service, "prepared");
  CreateContract(*service, "staged");
  auto preparer = service->Preparer("prepared");
  ASSERT_TRUE(preparer.ok()) << preparer.status().ToString();
  SyslogOptions o;
  o.received = clock_.Now();
  std::vector<PreparedAuditRecord> records;
  for (int i = 0; i < 300; ++i) {
    const std::string n = std::to_string(i % 7 + 2);
    const std::string m =
        i % 3 == 0
            ? "<30>Nov 29 10:" + std::to_string(10 + i / 60) + ":00 dhcp1 dhcpd[1]: " +
                  (i % 9 == 0
                       ? "DHCPRELEASE of 10.0.0." + n + " from aa:bb:cc:dd:ee:0" + n + " via eth0"
                       : "DHCPACK on 10.0.0." + n + " to aa:bb:cc:dd:ee:0" + n + " (laptop-" + n +
                             ") via eth0")
        : i % 3 == 1 ? "<4>Nov 29 10:" + std::to_string(10 + i / 60) +
                           ":01 fw1 kernel: OUT IN=eth0 OUT=eth1 SRC=10.0.0." + n +
                           " DST=192.0.2.1 PROTO=TCP SPT=1234 DPT=443"
                     : "<38>Nov 29 10:00:02 web-0" + n + " sshd[4242]: Accepted publickey for u" +
                           n + " from 10.0.0.9 port 51234 ssh2";
    Result<PreparedAuditRecord> p = (*preparer)->Prepare(ParseSyslogMessage(m, o));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    records.push_back(std::move(p).value());
  }
  ASSERT_TRUE(records[0].lease != nullptr);
  StagedAuditRecords staged;
  for (const auto& [from, to] : {std::pair{0, 256}, std::pair{256, 300}}) {
    std::vector<PreparedAuditRecord> part(std::make_move_iterator(records.begin() + from),
                                          std::make_move_iterator(records.begin() + to));
    auto a = service->AppendPrepared("prepared", part);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    staged.Start(static_cast<std::uint64_t>(from));
    for (PreparedAuditRecord& r : part) staged.Add(r);
    EXPECT_EQ(staged.size(), part.size());
    auto b = service->AppendStaged("staged", staged);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->records, a->records);
    EXPECT_EQ(b->categories, a->categories);
    EXPECT_EQ(b->first_leaf, a->first_leaf);
    EXPECT_EQ(b->size, a->size);
  }
  for (const std::string c : {"prepared", "staged"}) {
    auto v = service->Verify(c, std::nullopt);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->problems.empty()) << c << ": " << v->problems.front();
    EXPECT_EQ(v->size, 300u);
  }
  auto leases = [&](const std::string& c) {
    std::vector<audit::Lease> all;
    for (int n = 2; n <= 8; ++n) {
      auto l = service->Leases(c, std::nullopt, "10.0.0." + std::to_string(n), std::nullopt,
                               std::nullopt);
      EXPECT_TRUE(l.ok()) << l.status().ToString();
      if (l.ok()) all.insert(all.end(), l->begin(), l->end());
    }
    return all;
  };
  EXPECT_FALSE(leases("prepared").empty());
  EXPECT_EQ(leases("staged"), leases("prepared"));
}

// Canonical encoding version 2 replaced version 1; leaves are never re-encoded, so a log that
// holds version 1 leaves (written before) and version 2 ones after them, in one chunk and in the
// tail, verifies, and a search decodes both.
TEST_F(AuditServiceFiles, ALogOfVersion1AndVersion2LeavesVerifiesAndSearches) {
  {
    std::unique_ptr<AuditService> service = Open(/*chunk_bits=*/8);
    ASSERT_NE(service, nullptr);
    AuditService& s = *service;
    CreateContract(s, "c");
    const std::int64_t id = s.ledger().FindContract("c").value().id;
    auto preparer = s.Preparer("c");
    ASSERT_TRUE(preparer.ok()) << preparer.status().ToString();
    SyslogOptions o;
    o.received = ParseInstant("2026-11-29T10:00:00Z").value();
    auto record = [&](int i) {
      AuditRecord r = ParseSyslogMessage(
          "<38>1 2026-11-29T09:00:00." + std::to_string(100 + i % 900) + "Z web-" +
              std::to_string(i % 3) + " sshd 42 - - Accepted publickey for alice from 10.0.0.9 " +
              "port 51234 ssh2 n=" + std::to_string(i),
          o);
      return (*preparer)->Prepare(std::move(r)).value();
    };
    // 200 leaves in version 1, as an isms before version 2 wrote them.
    std::vector<AuditRecord> want;
    {
      std::vector<audit::LogEntry> old;
      for (int i = 0; i < 200; ++i) {
        PreparedAuditRecord p = record(i);
        AuditRecord r = DecodeAuditRecord(p.entry.bytes).value();
        p.entry.bytes = EncodeAuditRecord(r, 1).value();
        ASSERT_EQ(p.entry.bytes[0], 1);
        p.entry.hashed = false;
        old.push_back(p.entry);
        want.push_back(std::move(r));
      }
      store::Transaction tx(s.audit_connection());
      ASSERT_TRUE(tx.Begin().ok());
      audit::LogStore log(s.audit_connection(), id, audit::LogKind::kAudit, 8);
      ASSERT_TRUE(log.Append(old).ok());
      ASSERT_TRUE(log.WriteCheckpoint(s.Signer().value(),
                                      AuditService::Origin("c", audit::LogKind::kAudit),
                                      clock_.Now())
                      .ok());  // as every append does
      ASSERT_TRUE(tx.Commit().ok());
    }
    // A log of version 1 leaves alone, all in the tail, verifies.
    {
      auto report = s.Verify("c", std::nullopt);
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      EXPECT_TRUE(report->problems.empty()) << report->problems.front();
      EXPECT_EQ(report->size, 200u);
    }
    // Then 100 in version 2, through the service: chunk 0 (256 leaves) holds both, the tail too.
    std::vector<PreparedAuditRecord> fresh;
    for (int i = 200; i < 300; ++i) {
      fresh.push_back(record(i));
      ASSERT_EQ(fresh.back().entry.bytes[0], 2);
      want.push_back(DecodeAuditRecord(fresh.back().entry.bytes).value());
    }
    auto appended = s.AppendPrepared("c", fresh);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_EQ(appended->size, 300u);

    auto report = s.Verify("c", std::nullopt);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->problems.empty()) << report->problems.front();
    EXPECT_EQ(report->size, 300u);
    EXPECT_EQ(report->chunks, 1u);

    std::vector<AuditHit> hits;
    AuditSearchRequest q;
    q.contract = "c";
    ASSERT_TRUE(s.Search(q, [&](AuditHit&& h) -> Result<bool> {
                   hits.push_back(std::move(h));
                   return true;
                 }).ok());
    ASSERT_EQ(hits.size(), 300u);
    for (std::size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].leaf, i);
      EXPECT_EQ(hits[i].record, want[i]) << i;
      EXPECT_EQ(hits[i].leaf_hash,
                audit::LeafHash(EncodeAuditRecord(want[i], i < 200 ? 1 : 2).value()))
          << i;
    }
  }
}

// Audit-file migration 7: an older file's index of the blocks by host goes (once a log is large,
// each chunk's append wrote as many of that index's pages as the chunk had hosts), and a search
// for a host, over the whole log or a time window, finds the same records through each chunk's
// blocks, in the chunks and in the tail.
TEST_F(AuditServiceFiles, AnOlderFileLosesItsIndexOfBlocksByHostAndHostSearchesFindTheSame) {
  const auto indexes = [](AuditService& s) -> std::int64_t {
    auto st = s.audit_connection().Prepare(
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit_blocks_by_host'");
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok() || !*(*st)->Step()) return -1;
    return (*st)->ColumnInt(0);
  };
  // The leaves host `host` sent between from and to (none: the whole log), in order.
  const auto leaves_of = [](AuditService& s, const std::string& host,
                            std::optional<Instant> from = std::nullopt,
                            std::optional<Instant> to = std::nullopt) {
    std::vector<std::uint64_t> leaves;
    AuditSearchRequest q;
    q.contract = "c";
    q.host = host;
    q.from = from;
    q.to = to;
    const Status st = s.Search(q, [&](AuditHit&& h) -> Result<bool> {
      leaves.push_back(h.leaf);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return leaves;
  };
  const Instant nine = ParseInstant("2026-11-29T09:00:00Z").value();
  // Record i comes from host web-(i mod 3) at 09:00 plus i seconds: 600 records make two chunks
  // of 256 leaves and a tail of 88.
  std::vector<std::uint64_t> web1, web1_window;
  for (std::uint64_t i = 0; i < 600; ++i) {
    if (i % 3 != 1) continue;
    web1.push_back(i);
    if (i >= 200 && i < 550) web1_window.push_back(i);
  }
  const Instant from = nine + std::chrono::seconds(200), to = nine + std::chrono::seconds(550);
  {
    std::unique_ptr<AuditService> service = Open(/*chunk_bits=*/8);
    ASSERT_NE(service, nullptr);
    AuditService& s = *service;
    CreateContract(s, "c");
    auto preparer = s.Preparer("c");
    ASSERT_TRUE(preparer.ok()) << preparer.status().ToString();
    SyslogOptions o;
    o.received = ParseInstant("2026-11-29T10:00:00Z").value();
    std::vector<PreparedAuditRecord> records;
    for (int i = 0; i < 600; ++i) {
      char at[32];
      std::snprintf(at, sizeof at, "2026-11-29T09:%02d:%02dZ", i / 60, i % 60);
      AuditRecord r = ParseSyslogMessage("<38>1 " + std::string(at) + " web-" +
                                             std::to_string(i % 3) + " sshd 42 - - n=" +
                                             std::to_string(i),
                                         o);
      records.push_back((*preparer)->Prepare(std::move(r)).value());
    }
    ASSERT_TRUE(s.AppendPrepared("c", records).ok());
    EXPECT_EQ(indexes(s), 0) << "a new file has no index of the blocks by host";
    EXPECT_EQ(leaves_of(s, "web-1"), web1);
    EXPECT_EQ(leaves_of(s, "web-1", from, to), web1_window);
    EXPECT_TRUE(leaves_of(s, "web-9").empty());
    // The file as an isms before migration 7 left it (its index, and migrations 7 and 8 not
    // applied).
    ASSERT_TRUE(s.audit_connection()
                    .Execute("CREATE INDEX audit_blocks_by_host ON audit_blocks (contract_id, "
                             "log_kind, host, chunk_no); DELETE FROM schema_migrations WHERE "
                             "version >= 7")
                    .ok());
    EXPECT_EQ(indexes(s), 1);
  }
  std::unique_ptr<AuditService> service = Open(/*chunk_bits=*/8);  // migrates
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(indexes(*service), 0);
  EXPECT_EQ(leaves_of(*service, "web-1"), web1);
  EXPECT_EQ(leaves_of(*service, "web-1", from, to), web1_window);
  auto report = service->Verify("c", std::nullopt);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->chunks, 2u);
}

// Verify reads each record's indexed fields and compares them with the keys its entry is stored
// under (a record filed under another host would be hidden from that host's search), and names a
// DHCP record that does not decode, whose part in the lease index cannot be rebuilt.
TEST_F(AuditServiceFiles, VerifyNamesAnEntryFiledUnderAnotherHostAndADhcpRecordThatDoesNotDecode) {
  {
    std::unique_ptr<AuditService> service = Open();
    ASSERT_NE(service, nullptr);
    AuditService& s = *service;
    SyslogOptions o;
    o.received = clock_.Now();
    // Appends one prepared record to contract `name`'s log as given, with its checkpoint.
    auto append = [&](const std::string& name, const std::string& message,
                      const std::function<void(audit::LogEntry&)>& change) {
      CreateContract(s, name);
      audit::LogEntry e = s.Preparer(name).value()->Prepare(ParseSyslogMessage(message, o))
                              .value()
                              .entry;
      change(e);
      store::Transaction tx(s.audit_connection());
      ASSERT_TRUE(tx.Begin().ok());
      audit::LogStore log = AuditLog(s.audit_connection(), s.ledger().FindContract(name).value().id);
      ASSERT_TRUE(log.Append(std::span<const audit::LogEntry>(&e, 1)).ok());
      ASSERT_TRUE(log.WriteCheckpoint(s.Signer().value(),
                                      AuditService::Origin(name, audit::LogKind::kAudit),
                                      clock_.Now())
                      .ok());
      ASSERT_TRUE(tx.Commit().ok());
    };
    const std::string ssh =
        "<38>1 2026-11-29T09:00:00Z web-01 sshd 42 - - Accepted publickey for alice from "
        "10.0.0.9 port 51234 ssh2";
    const std::string dhcp =
        "<30>1 2026-11-29T09:00:00Z dhcp-01 dhcpd 612 - - DHCPACK on 10.0.0.5 to "
        "aa:bb:cc:dd:ee:ff (laptop-7) via eth0";
    append("as-sent", ssh, [](audit::LogEntry&) {});
    append("filed-elsewhere", ssh, [](audit::LogEntry& e) {
      e.host = "web-02";
      e.keys_of_bytes = false;  // no longer the keys its record gives
    });
    append("undecodable", dhcp, [](audit::LogEntry& e) {
      e.bytes += '!';
      e.hashed = false;  // hashed as stored: only the record's decoding fails
    });

    // The entry of the record as sent is stored without its keys (entry kind 4,
    // docs/audit-format.md); the one filed elsewhere with them (kind 2).
    const auto first_kind = [&](const std::string& name) {
      auto st = s.audit_connection().Prepare("SELECT data FROM audit_tail WHERE contract_id = $1");
      EXPECT_TRUE(st.ok());
      (*st)->BindInt(1, s.ledger().FindContract(name).value().id);
      EXPECT_TRUE(*(*st)->Step());
      const std::string raw =
          audit::DecompressFrame((*st)->ColumnBlob(0), std::size_t{1} << 20).value();
      return raw.empty() ? -1 : static_cast<int>(static_cast<unsigned char>(raw[0]));
    };
    EXPECT_EQ(first_kind("as-sent"), 4);
    EXPECT_EQ(first_kind("filed-elsewhere"), 2);

    auto ok = s.Verify("as-sent", std::nullopt);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_TRUE(ok->problems.empty()) << ok->problems.front();

    auto moved = s.Verify("filed-elsewhere", std::nullopt);
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
    ASSERT_FALSE(moved->problems.empty());
    EXPECT_EQ(moved->problems.front(),
              "tail batch (leaves 0-0): leaf 0 is indexed under keys its record does not give: "
              "host");

    auto bad = s.Verify("undecodable", std::nullopt);
    ASSERT_TRUE(bad.ok()) << bad.status().ToString();
    std::string all;
    for (const std::string& p : bad->problems) all += p + "\n";
    ASSERT_EQ(bad->problems.size(), 1u) << all;
    EXPECT_EQ(bad->problems.front().find("leaf 0: "), 0u) << bad->problems.front();
  }
}

// A buyer checks a proof document (`isms audit prove`) with the log's public key alone: every
// part proved is said, and any change to the document — a record number, a leaf hash, a proof
// hash, a checkpoint — stops the check at the part it breaks, with what does not hold.
TEST_F(AuditServiceFiles, AProofDocumentVerifiesWithThePublicKeyAndAnyChangeIsCaught) {
  std::unique_ptr<AuditService> service = Open();
  ASSERT_NE(service, nullptr);
  CreateContract(*service, "c");
  std::vector<AuditRecord> first, second;
  for (int i = 0; i < 12; ++i) {
    AuditRecord r;
    r.time = ParseInstant("2026-11-29T09:00:00Z").value() + std::chrono::seconds(i);
    r.host = "web-" + std::to_string(i % 3);
    r.message = "record " + std::to_string(i);
    (i < 5 ? first : second).push_back(std::move(r));
  }
  ASSERT_TRUE(service->AppendRecords("c", std::move(first)).ok());
  ASSERT_TRUE(service->AppendRecords("c", std::move(second)).ok());
  Result<audit::NoteSigner> signer = service->Signer();
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  const audit::NoteVerifier verifier = signer->Verifier();
  Result<nlohmann::ordered_json> proof = AuditProofJson(*service, "c", 3, 5, std::nullopt);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();

  const AuditProofCheck good = VerifyAuditProofJson(proof->dump(), verifier);
  ASSERT_TRUE(good.status.ok()) << good.status.ToString();
  ASSERT_EQ(good.proved.size(), 3u);
  EXPECT_EQ(good.proved[0].rfind("OK: checkpoint of isms/c/audit at size 12 signed by ", 0), 0u)
      << good.proved[0];
  EXPECT_EQ(good.proved[1].rfind("OK: record 3 (leaf hash ", 0), 0u) << good.proved[1];
  EXPECT_EQ(good.proved[2], "OK: the log at size 12 extends the log at size 5");

  // Each change, the parts proved before it, and the error's code and words.
  struct Change {
    std::string what;
    std::function<void(nlohmann::ordered_json&)> edit;
    size_t proved;
    StatusCode code;
    std::string says;
  };
  const auto flip = [](std::string hex) {
    hex[0] = hex[0] == '0' ? '1' : '0';
    return hex;
  };
  const std::vector<Change> changes = {
      {"another record number", [](auto& j) { j["inclusion"]["index"] = 4; }, 1,
       StatusCode::kCorruption, "inclusion: inclusion proof for leaf 4"},
      {"another leaf hash",
       [&](auto& j) { j["inclusion"]["leaf_hash"] = flip(j["inclusion"]["leaf_hash"]); }, 1,
       StatusCode::kCorruption, "inclusion: "},
      {"an inclusion hash changed",
       [&](auto& j) { j["inclusion"]["hashes"][0] = flip(j["inclusion"]["hashes"][0]); }, 1,
       StatusCode::kCorruption, "inclusion: "},
      {"an inclusion hash missing", [](auto& j) { j["inclusion"]["hashes"].erase(0); }, 1,
       StatusCode::kCorruption, "fewer than the tree needs"},
      {"a consistency hash changed",
       [&](auto& j) { j["consistency"]["hashes"][0] = flip(j["consistency"]["hashes"][0]); }, 2,
       StatusCode::kCorruption, "consistency: "},
      {"a consistency hash too many",
       [](auto& j) { j["consistency"]["hashes"].push_back(std::string(64, 'a')); }, 2,
       StatusCode::kCorruption, "more than the trees need"},
      {"the checkpoint's size changed",
       [](auto& j) {
         std::string n = j["checkpoint"];
         n.replace(n.find("\n12\n"), 4, "\n13\n");
         j["checkpoint"] = n;
       },
       0, StatusCode::kPermissionDenied, "the checkpoint: the signature"},
      {"the earlier checkpoint is the later one",
       [](auto& j) { j["consistency"]["from_checkpoint"] = j["checkpoint"]; }, 2,
       StatusCode::kCorruption, "consistency: "},
      {"a hash that is not hex", [](auto& j) { j["inclusion"]["hashes"][0] = "zz"; }, 1,
       StatusCode::kInvalidArgument, "inclusion: "},
      {"hashes not a list", [](auto& j) { j["consistency"]["hashes"] = 7; }, 2,
       StatusCode::kInvalidArgument, "\"hashes\" is not an array"},
      {"a negative record number", [](auto& j) { j["inclusion"]["index"] = -1; }, 1,
       StatusCode::kInvalidArgument, "\"inclusion\" needs index, leaf_hash and hashes"},
      {"no checkpoint", [](auto& j) { j.erase("checkpoint"); }, 0, StatusCode::kInvalidArgument,
       "no \"checkpoint\""},
  };
  for (const Change& c : changes) {
    nlohmann::ordered_json j = *proof;
    c.edit(j);
    const AuditProofCheck bad = VerifyAuditProofJson(j.dump(), verifier);
    EXPECT_EQ(bad.status.code(), c.code) << c.what << ": " << bad.status.ToString();
    EXPECT_NE(bad.status.message().find(c.says), std::string::npos)
        << c.what << ": " << bad.status.ToString();
    EXPECT_EQ(bad.proved.size(), c.proved) << c.what;
  }
  // Another key, and bytes that are not JSON.
  Result<audit::NoteSigner> other = audit::NoteSigner::Generate("someone-else");
  ASSERT_TRUE(other.ok());
  const AuditProofCheck stranger = VerifyAuditProofJson(proof->dump(), other->Verifier());
  EXPECT_EQ(stranger.status.code(), StatusCode::kPermissionDenied) << stranger.status.ToString();
  EXPECT_TRUE(stranger.proved.empty());
  EXPECT_EQ(VerifyAuditProofJson("{\"checkpoint\":", verifier).status.code(),
            StatusCode::kInvalidArgument);
}

// Key rotation: the checkpoints signed before stay verifiable (the retired key is kept), the
// service signs with the new key from its next checkpoint, the old secret is gone, a buyer
// holding the old key learns the new one from the transition note (and from nothing else), and
// a proof spanning the rotation verifies with both keys.
TEST_F(AuditServiceFiles, ARotatedKeySignsFromThenOnAndTheOldCheckpointsStillVerify) {
  std::unique_ptr<AuditService> service = Open();
  ASSERT_NE(service, nullptr);
  CreateContract(*service, "c");
  const auto records = [](int from, int n) {
    std::vector<AuditRecord> out;
    for (int i = from; i < from + n; ++i) {
      AuditRecord r;
      r.time = ParseInstant("2026-11-29T09:00:00Z").value() + std::chrono::seconds(i);
      r.host = "web-" + std::to_string(i % 2);
      r.message = "record " + std::to_string(i);
      out.push_back(std::move(r));
    }
    return out;
  };
  ASSERT_TRUE(service->AppendRecords("c", records(0, 5)).ok());
  Result<audit::NoteSigner> old_signer = service->Signer();
  ASSERT_TRUE(old_signer.ok()) << old_signer.status().ToString();
  const audit::NoteVerifier old_key = old_signer->Verifier();
  Result<std::string> old_checkpoint = service->LatestCheckpoint("c");
  ASSERT_TRUE(old_checkpoint.ok());
  const std::string old_secret = old_signer->Encode();

  Result<AuditKeyRotation> r =
      RotateAuditKey(tmp_.path, ParseInstant("2026-11-30T12:00:00Z").value());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->old_key.Encode(), old_key.Encode());
  EXPECT_NE(r->new_key.key_id(), old_key.key_id());

  // The folder: the new secret (0600) and verifier key, the old verifier key, the transition;
  // the old secret in no file.
  const std::filesystem::path dir(tmp_.path);
  EXPECT_EQ(
      std::filesystem::status(dir / kAuditKeyFile).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".db" || e.path().string().ends_with("-wal") ||
        e.path().string().ends_with("-shm")) {
      continue;
    }
    std::ifstream f(e.path(), std::ios::binary);
    const std::string content((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
    EXPECT_EQ(content.find(old_secret), std::string::npos) << e.path();
  }
  Result<std::vector<audit::NoteVerifier>> ring = AuditVerifierKeys(tmp_.path);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  ASSERT_EQ(ring->size(), 2u);
  EXPECT_EQ((*ring)[0].Encode(), r->new_key.Encode());
  EXPECT_EQ((*ring)[1].Encode(), old_key.Encode());

  // The same service signs its next checkpoint with the new key.
  ASSERT_TRUE(service->AppendRecords("c", records(5, 7)).ok());
  Result<std::string> new_checkpoint = service->LatestCheckpoint("c");
  ASSERT_TRUE(new_checkpoint.ok());
  EXPECT_TRUE(audit::VerifyCheckpoint(*new_checkpoint, r->new_key).ok());
  EXPECT_EQ(audit::VerifyCheckpoint(*new_checkpoint, old_key).status().code(),
            StatusCode::kPermissionDenied);
  // Verification takes every stored checkpoint, by either key, and the buyer's old one.
  Result<audit::VerifyReport> rep = service->Verify("c", *old_checkpoint);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_TRUE(rep->problems.empty()) << rep->problems.front();
  EXPECT_EQ(rep->checkpoints, 2u);

  // The transition note: from the old key to the new, signed by both.
  Result<AuditKeyTransition> t = OpenAuditKeyTransition(r->transition_note, {&old_key, 1});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->to.Encode(), r->new_key.Encode());
  EXPECT_EQ(t->at, "2026-11-30T12:00:00.000Z");
  // Not to a buyer who holds another key; not once changed; not when the old key signed a
  // transition the new key did not.
  Result<audit::NoteSigner> stranger = audit::NoteSigner::Generate(kAuditKeyName);
  ASSERT_TRUE(stranger.ok());
  const audit::NoteVerifier stranger_key = stranger->Verifier();
  EXPECT_EQ(OpenAuditKeyTransition(r->transition_note, {&stranger_key, 1}).status().code(),
            StatusCode::kPermissionDenied);
  std::string changed = r->transition_note;
  changed.replace(changed.find("at 2026"), 7, "at 2027");
  EXPECT_EQ(OpenAuditKeyTransition(changed, {&old_key, 1}).status().code(),
            StatusCode::kPermissionDenied);
  const std::string to_stranger = "isms audit key transition\nfrom " + old_key.Encode() + "\nto " +
                                  stranger_key.Encode() + "\nat 2026-11-30T12:00:00Z\n";
  Result<std::string> only_old = audit::SignNote(to_stranger, *old_signer);
  ASSERT_TRUE(only_old.ok());
  Result<AuditKeyTransition> unsigned_by_new = OpenAuditKeyTransition(*only_old, {&old_key, 1});
  EXPECT_EQ(unsigned_by_new.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(unsigned_by_new.status().message().find("did not sign it"), std::string::npos)
      << unsigned_by_new.status().message();
  // A transition from a key that is not the one trusted, though signed by a trusted key.
  const std::string from_stranger = "isms audit key transition\nfrom " + stranger_key.Encode() +
                                    "\nto " + old_key.Encode() + "\nat 2026-11-30T12:00:00Z\n";
  Result<std::string> forged = audit::SignNote(from_stranger, *old_signer);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(OpenAuditKeyTransition(*forged, {&old_key, 1}).status().code(),
            StatusCode::kPermissionDenied);

  // A proof from a checkpoint of the old key to one of the new verifies with both keys given.
  Result<nlohmann::ordered_json> proof = AuditProofJson(*service, "c", 2, 5, std::nullopt);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  const std::vector<audit::NoteVerifier> both = {r->new_key, old_key};
  const AuditProofCheck with_both = VerifyAuditProofJson(proof->dump(), both);
  EXPECT_TRUE(with_both.status.ok()) << with_both.status.ToString();
  EXPECT_EQ(with_both.proved.size(), 3u);
  const AuditProofCheck new_only = VerifyAuditProofJson(proof->dump(), r->new_key);
  EXPECT_EQ(new_only.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(new_only.proved.size(), 2u);

  // A second rotation: three keys held, two transitions, oldest first.
  Result<AuditKeyRotation> r2 =
      RotateAuditKey(tmp_.path, ParseInstant("2026-12-01T12:00:00Z").value());
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_EQ(AuditVerifierKeys(tmp_.path)->size(), 3u);
  Result<std::vector<std::string>> notes = AuditKeyTransitionNotes(tmp_.path);
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 2u);
  EXPECT_EQ((*notes)[0], r->transition_note);
  EXPECT_EQ((*notes)[1], r2->transition_note);
  Result<AuditKeyTransition> listed = AuditKeyTransitionOf((*notes)[1]);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->from.Encode(), r->new_key.Encode());
  ASSERT_TRUE(service->AppendRecords("c", records(12, 1)).ok());
  rep = service->Verify("c", *old_checkpoint);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_TRUE(rep->problems.empty()) << rep->problems.front();
  EXPECT_EQ(rep->checkpoints, 3u);
}

// A rotation stopped after the secret was replaced but before its verifier key was: the next use
// of the key writes the verifier key of the secret.
TEST_F(AuditServiceFiles, AVerifierKeyFileThatNamesAnotherKeyIsWrittenAgain) {
  Result<AuditKeyInfo> info = EnsureAuditKey(tmp_.path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  Result<audit::NoteSigner> other = audit::NoteSigner::Generate(kAuditKeyName);
  ASSERT_TRUE(other.ok());
  {
    std::ofstream f(info->public_path, std::ios::trunc);
    f << other->Verifier().Encode() << "\n";
  }
  Result<AuditKeyInfo> again = EnsureAuditKey(tmp_.path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  std::ifstream f(info->public_path);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, info->verifier_key);
}

// A rotation that cannot replace the secret changes nothing a buyer or a verifier would read: the
// key in use stays, and no transition to the key that never signed is left.
TEST_F(AuditServiceFiles, ARotationThatCannotReplaceTheKeyLeavesNoTransition) {
  Result<AuditKeyInfo> info = EnsureAuditKey(tmp_.path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  // The temporary file the new secret is written to cannot be made.
  std::filesystem::create_directories(info->private_path + ".new/in-the-way");
  Result<AuditKeyRotation> r =
      RotateAuditKey(tmp_.path, ParseInstant("2026-11-30T12:00:00Z").value());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
  Result<std::vector<std::string>> notes = AuditKeyTransitionNotes(tmp_.path);
  ASSERT_TRUE(notes.ok());
  EXPECT_TRUE(notes->empty());
  Result<std::vector<audit::NoteVerifier>> ring = AuditVerifierKeys(tmp_.path);
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->front().Encode(), info->verifier_key);
}

// A signing key file removed while a service signs with it is not replaced by a new key behind
// the buyer's back: the service goes on signing with the key it holds.
TEST_F(AuditServiceFiles, AKeyFileRemovedWhileInUseIsNotSilentlyReplaced) {
  std::unique_ptr<AuditService> service = Open();
  ASSERT_NE(service, nullptr);
  CreateContract(*service, "c");
  AuditRecord r;
  r.time = ParseInstant("2026-11-29T09:00:00Z").value();
  r.host = "web-01";
  r.message = "one";
  ASSERT_TRUE(service->AppendRecords("c", {r}).ok());
  Result<audit::NoteSigner> before = service->Signer();
  ASSERT_TRUE(before.ok());
  std::filesystem::remove(std::filesystem::path(tmp_.path) / kAuditKeyFile);
  r.message = "two";
  ASSERT_TRUE(service->AppendRecords("c", {r}).ok());
  Result<std::string> cp = service->LatestCheckpoint("c");
  ASSERT_TRUE(cp.ok());
  EXPECT_TRUE(audit::VerifyCheckpoint(*cp, before->Verifier()).ok());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(tmp_.path) / kAuditKeyFile));
}

// A process that uses the key (a server) mends the verifier key file when it names another key,
// which it does in the moment a rotation has replaced the secret and not yet the verifier key:
// rotations while such a process runs all succeed, and leave the new verifier key.
TEST_F(AuditServiceFiles, RotationsWhileAnotherUserOfTheKeyMendsItAllSucceed) {
  ASSERT_TRUE(EnsureAuditKey(tmp_.path).ok());
  std::atomic<bool> done{false};
  std::atomic<int> mend_errors{0};
  std::thread user([&] {
    while (!done.load()) {
      if (!EnsureAuditKey(tmp_.path).ok()) mend_errors.fetch_add(1);
    }
  });
  std::string last;
  for (int i = 0; i < 30; ++i) {
    Result<AuditKeyRotation> r =
        RotateAuditKey(tmp_.path, ParseInstant("2026-11-30T12:00:00Z").value());
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    last = r->new_key.Encode();
  }
  done = true;
  user.join();
  EXPECT_EQ(mend_errors.load(), 0);
  std::ifstream f(std::filesystem::path(tmp_.path) / kAuditPublicKeyFile);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, last);
  EXPECT_EQ(AuditVerifierKeys(tmp_.path)->size(), 31u);
}

// Rotations started at once take turns: every key that was current stays in the key ring, and
// the transition notes lead from the first key to the last.
TEST_F(AuditServiceFiles, RotationsStartedAtOnceTakeTurns) {
  ASSERT_TRUE(EnsureAuditKey(tmp_.path).ok());
  const audit::NoteVerifier first = AuditVerifierKeys(tmp_.path)->front();
  std::atomic<int> failures{0};
  auto rotate = [&] {
    for (int i = 0; i < 10; ++i) {
      if (!RotateAuditKey(tmp_.path, ParseInstant("2026-11-30T12:00:00Z").value()).ok()) {
        failures.fetch_add(1);
      }
    }
  };
  std::thread a(rotate), b(rotate);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  const std::vector<audit::NoteVerifier> ring = AuditVerifierKeys(tmp_.path).value();
  EXPECT_EQ(ring.size(), 21u);
  std::set<std::string> ids;
  for (const audit::NoteVerifier& v : ring) ids.insert(v.Encode());
  EXPECT_EQ(ids.size(), 21u);
  // From the first key, each note hands over to the next, to the current key.
  std::vector<std::string> notes = AuditKeyTransitionNotes(tmp_.path).value();
  ASSERT_EQ(notes.size(), 20u);
  audit::NoteVerifier held = first;
  for (int step = 0; step < 20; ++step) {
    bool moved = false;
    for (const std::string& n : notes) {
      Result<AuditKeyTransition> t = OpenAuditKeyTransition(n, {&held, 1});
      if (t.ok()) {
        held = t->to;
        moved = true;
        break;
      }
    }
    ASSERT_TRUE(moved) << "no note hands over from key " << step;
  }
  EXPECT_EQ(held.Encode(), ring.front().Encode());
}

// Nothing to rotate in a folder without a key.
TEST_F(AuditServiceFiles, RotatingWithoutAKeyIsRefused) {
  Result<AuditKeyRotation> r =
      RotateAuditKey(tmp_.path, ParseInstant("2026-11-30T12:00:00Z").value());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("isms init"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace isms::app
