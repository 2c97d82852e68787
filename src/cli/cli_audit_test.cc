#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "app/audit.h"
#include "audit/log_store.h"
#include "cli/cli_test_util.h"
#include "store/store.h"

namespace isms::cli::testing {
namespace {

// Chunks of 4,096 records (not the default 65,536), so that tests fill, tamper with and purge
// whole chunks quickly.
class AuditCli : public CliTest {
 protected:
  void SetUp() override {
    ::setenv("ISMS_AUDIT_CHUNK_BITS", "12", 1);
    CliTest::SetUp();
  }
  void TearDown() override {
    CliTest::TearDown();
    ::unsetenv("ISMS_AUDIT_CHUNK_BITS");
  }

  // Runs `isms audit ARGS...`; on PostgreSQL with --key-dir (SQLite keeps the key beside its file).
  CliRun Audit(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), "audit");
    if (args[1] == "verify-proof" || args[1] == "verify-transition") {
      args.insert(args.begin(), "isms");
      return RunRaw(args, stdin_text);
    }
    if (GetParam() == "postgresql") {
      args.push_back("--key-dir");
      args.push_back(dir_ + "/keys");
    }
    return Isms(args, stdin_text);
  }
  std::string AuditOk(std::vector<std::string> args, const std::string& stdin_text = "") {
    CliRun r = Audit(std::move(args), stdin_text);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
  std::string KeyDir() const { return GetParam() == "postgresql" ? dir_ + "/keys" : dir_; }

  // n JSON lines, one a minute from `day` 10:00 UTC, alternating hosts, every third by alice.
  static std::string Lines(int n, const std::string& day, int first = 0) {
    std::string s;
    for (int i = first; i < first + n; ++i) {
      char t[32];
      std::snprintf(t, sizeof t, "%sT%02d:%02d:00Z", day.c_str(), 10 + i / 60 % 12, i % 60);
      s += std::string("{\"time\":\"") + t + "\",\"host\":\"" + (i % 2 ? "db-01" : "web-01") +
           "\"," + (i % 3 == 0 ? "\"user\":\"alice\"," : "") + "\"message\":\"event " +
           std::to_string(i) + "\"}\n";
    }
    return s;
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::unique_ptr<store::Connection> AuditStore() {
    std::string url = GetParam() == "postgresql" ? store_ : "sqlite:" + dir_ + "/isms-audit.db";
    auto c = store::Connection::Open(url);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }

  void SetUpContract() {
    std::string init = Ok({"init"});
    if (GetParam() == "sqlite") {
      EXPECT_NE(init.find("created the audit signing key"), std::string::npos) << init;
    }
    Ok({"contract", "create", "alpha", "--start", "2026-01-05"});
  }
  // Contract alpha with one-hour leases and the office day of kOfficeDay ingested (at 13:00);
  // the ingest's output.
  std::string SetUpOfficeDay();
};

TEST_P(AuditCli, IngestsSearchesAndSignsWithANewKey) {
  SetUpContract();
  SetNow("2026-01-12T09:00:00Z");
  CliRun r =
      Audit({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(10, "2026-01-10"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ingested 10 records into alpha (leaves 0-9)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("categories: other=10"), std::string::npos) << r.out;
  // `init` made the key beside a SQLite store; with PostgreSQL the first audit command does.

  struct stat st {};
  ASSERT_EQ(::stat((KeyDir() + "/audit-checkpoint.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(std::filesystem::exists(KeyDir() + "/audit-checkpoint.pub"));

  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "web-01", "--count"}), "5\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--user", "alice", "--count"}), "4\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--text", "event 7", "--count"}), "1\n");
  // --text looks in the message only: every record's bytes hold "web-01" or "alice" elsewhere.
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--text", "web-01", "--count"}), "0\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--text", "alice", "--count"}), "0\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--from", "2026-01-10T10:05:00Z", "--to",
                     "2026-01-10T10:07:00Z", "--count"}),
            "2\n");
  EXPECT_EQ(
      AuditOk({"search", "--contract", "alpha", "--category", "other", "--limit", "3", "--count"}),
      "3\n");
  auto j = nlohmann::json::parse(
      AuditOk({"search", "--contract", "alpha", "--user", "alice", "--json", "--limit", "2"}));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["leaf"], 3);
  EXPECT_EQ(j[1]["host"], "db-01");

  std::string cp = AuditOk({"checkpoint", "--contract", "alpha"});
  EXPECT_EQ(cp.rfind("isms/alpha/audit\n10\n", 0), 0u) << cp;
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha"}).find("OK: 10 records"), std::string::npos);
}

TEST_P(AuditCli, ABadJsonLineRefusesTheWholeFile) {
  SetUpContract();
  CliRun r = Audit({"ingest", "-", "--contract", "alpha", "--format", "jsonl"},
                   Lines(3, "2026-01-10") + "{\"time\":\"x\"}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nothing was ingested"), std::string::npos) << r.err;
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--count"}), "0\n");
}

TEST_P(AuditCli, SyslogIsIngestedAndClassified) {
  SetUpContract();
  std::string log =
      "<38>1 2026-01-10T10:00:00Z web-01 sshd 4242 - - Accepted publickey for alice from "
      "10.0.0.9 port 51234 ssh2\n"
      "<13>Jan 10 10:00:01 web-01 cron[1]: something else\n";
  std::string path = Write("auth.log", log);
  std::string out = AuditOk({"ingest", path, "--contract", "alpha"});
  EXPECT_NE(out.find("ingested 2 records"), std::string::npos) << out;
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "web-01", "--count"}), "2\n");
}

TEST_P(AuditCli, ATamperedChunkIsNamedByVerify) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(4100, "2026-01-10"));
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "db-01", "--count"}), "2050\n");
  {
    auto c = AuditStore();
    auto st = c->Prepare("SELECT host, data FROM audit_blocks WHERE chunk_no = 0 ORDER BY host");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*(*st)->Step());
    std::string host = (*st)->ColumnBlob(0);
    std::string data = (*st)->ColumnBlob(1);
    st->reset();
    data[data.size() / 2] ^= 0x20;
    auto up = c->Prepare("UPDATE audit_blocks SET data = $1 WHERE chunk_no = 0 AND host = $2");
    ASSERT_TRUE(up.ok());
    (*up)->BindBlob(1, data);
    (*up)->BindBlob(2, host);
    ASSERT_TRUE((*up)->Run().ok());
  }
  CliRun r = Audit({"verify", "--contract", "alpha"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("BAD: chunk 0 (leaves 0-4095)"), std::string::npos) << r.out;
}

// Blocks and tail batches stored before rows kept the SHA-256 of their bytes (NULL) still
// verify, through their records, and verify says how many there are.
TEST_P(AuditCli, VerifyCountsTheRowsStoredWithoutTheSha256OfTheirBytes) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(4100, "2026-01-10"));
  std::string out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  std::int64_t rows = 0;
  {
    auto c = AuditStore();
    ASSERT_TRUE(c->Execute("UPDATE audit_blocks SET data_sha256 = NULL WHERE chunk_no = 0; "
                           "UPDATE audit_tail SET data_sha256 = NULL")
                    .ok());
    auto st = c->Prepare(
        "SELECT (SELECT COUNT(*) FROM audit_blocks WHERE data_sha256 IS NULL AND log_kind = 0) + "
        "(SELECT COUNT(*) FROM audit_tail WHERE data_sha256 IS NULL AND log_kind = 0)");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*(*st)->Step());
    rows = (*st)->ColumnInt(0);
  }
  EXPECT_EQ(rows, 3) << "the chunk's blocks of web-01 and db-01, and the tail batch";
  out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_NE(out.find("note: 3 blocks and tail batches were written before rows kept the SHA-256 "
                     "of their bytes: they are checked through the records they hold only; "
                     "`isms audit upgrade` stores it\n"),
            std::string::npos)
      << out;

  // `audit upgrade` stores it, for the bytes as they are; verify then checks it again.
  EXPECT_EQ(AuditOk({"upgrade", "--contract", "alpha"}),
            "stored the SHA-256 of the bytes of 3 blocks and tail batches of the audit and ledger "
            "logs of alpha; every one now keeps it\n(1 transactions)\n");
  out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  {
    auto c = AuditStore();
    ASSERT_TRUE(c->Execute("UPDATE audit_tail SET data_sha256 = NULL").ok());
    auto st = c->Prepare("UPDATE audit_blocks SET data = $1 WHERE chunk_no = 0 AND host = $2");
    ASSERT_TRUE(st.ok());
    (*st)->BindBlob(1, "not a zstd frame");
    (*st)->BindBlob(2, "web-01");
    ASSERT_TRUE((*st)->Run().ok());
    ASSERT_TRUE(c->Execute("UPDATE audit_blocks SET data_sha256 = NULL WHERE chunk_no = 0").ok());
  }
  // Bytes that do not decompress get none: the upgrade names them and stores nothing.
  CliRun r = Audit({"upgrade", "--contract", "alpha"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("chunk 0, block of host 'web-01' (run isms audit verify)"),
            std::string::npos)
      << r.err;
  {
    auto c = AuditStore();
    auto st = c->Prepare("SELECT COUNT(*) FROM audit_tail WHERE data_sha256 IS NULL");
    ASSERT_TRUE(st.ok() && *(*st)->Step());
    EXPECT_EQ((*st)->ColumnInt(0), 1) << "the tail batch's was rolled back with the rest";
  }
}

TEST_P(AuditCli, ProofsVerifyOfflineAndAgainstAKeptCheckpoint) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(5, "2026-01-10"));
  std::string kept = Write("kept.checkpoint", AuditOk({"checkpoint", "--contract", "alpha"}));
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(7, "2026-01-11", 5));
  std::string out = AuditOk({"verify", "--contract", "alpha", "--against", kept});
  EXPECT_NE(out.find("OK: the log extends the checkpoint"), std::string::npos) << out;

  std::string proof = Write(
      "proof.json", AuditOk({"prove", "--contract", "alpha", "--index", "3", "--from-size", "5"}));
  std::string pub = KeyDir() + "/audit-checkpoint.pub";
  CliRun v = Audit({"verify-proof", proof, "--public-key", pub});
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("OK: record 3"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("extends the log at size 5"), std::string::npos) << v.out;

  auto j = nlohmann::json::parse(
      AuditOk({"prove", "--contract", "alpha", "--index", "3", "--size", "12"}));
  j["inclusion"]["index"] = 4;
  CliRun bad = Audit({"verify-proof", Write("bad.json", j.dump()), "--public-key", pub});
  EXPECT_EQ(bad.code, 1);
}

// `isms audit rotate-key`: checkpoints signed before still verify (and a kept one), the buyer
// follows the transition note from the key they hold to the new one, a proof across the
// rotation verifies with both keys, and the rotation is an access record of the contract.
TEST_P(AuditCli, ARotatedKeyKeepsOldCheckpointsVerifiableAndHandsOverToTheNewKey) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(5, "2026-01-10"));
  std::string kept = Write("kept.checkpoint", AuditOk({"checkpoint", "--contract", "alpha"}));
  std::string old_pub;
  {
    std::ifstream f(KeyDir() + "/audit-checkpoint.pub");
    std::getline(f, old_pub);
  }
  std::string held = Write("held.pub", old_pub + "\n");

  std::string out = AuditOk({"rotate-key"});
  EXPECT_NE(out.find("rotated the audit signing key: isms-audit+"), std::string::npos) << out;
  std::vector<std::string> notes;
  for (const auto& e : std::filesystem::directory_iterator(KeyDir())) {
    if (e.path().filename().string().starts_with("audit-key-transition-")) {
      notes.push_back(e.path().string());
    }
  }
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(out.find(notes[0]), std::string::npos) << out;

  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(7, "2026-01-11", 5));
  out = AuditOk({"verify", "--contract", "alpha", "--against", kept});
  EXPECT_NE(out.find("OK: the log extends the checkpoint"), std::string::npos) << out;

  // The buyer: from the key held to the one that signs now.
  CliRun t =
      Audit({"verify-transition", notes[0], "--public-key", held, "-o", dir_ + "/learned.pub"});
  ASSERT_EQ(t.code, 0) << t.err;
  std::string now_pub;
  {
    std::ifstream f(KeyDir() + "/audit-checkpoint.pub");
    std::getline(f, now_pub);
  }
  EXPECT_NE(now_pub, old_pub);
  EXPECT_NE(t.out.find("handed over to"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find(now_pub + "\n"), std::string::npos) << t.out;
  {
    std::ifstream f(dir_ + "/learned.pub");
    std::string line;
    std::getline(f, line);
    EXPECT_EQ(line, now_pub);
  }
  // Not from a key the transition is not from.
  CliRun wrong =
      Audit({"verify-transition", notes[0], "--public-key", KeyDir() + "/audit-checkpoint.pub"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("which is not a key given"), std::string::npos) << wrong.err;

  std::string proof = Write(
      "proof.json", AuditOk({"prove", "--contract", "alpha", "--index", "3", "--from-size", "5"}));
  CliRun v =
      Audit({"verify-proof", proof, "--public-key", dir_ + "/learned.pub", "--public-key", held});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("extends the log at size 5"), std::string::npos) << v.out;
  CliRun one = Audit({"verify-proof", proof, "--public-key", dir_ + "/learned.pub"});
  EXPECT_EQ(one.code, 1);
  EXPECT_NE(one.err.find("from_checkpoint"), std::string::npos) << one.err;

  EXPECT_NE(AuditOk({"search", "--contract", "alpha", "--text", "audit.key.rotate"})
                .find("audit.key.rotate key isms-audit+"),
            std::string::npos);
}

TEST_P(AuditCli, ExportEscapesFormulasInCsv) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"},
          "{\"time\":\"2026-01-10T10:00:00Z\",\"host\":\"web-01\",\"message\":\"=HYPERLINK("
          "\\\"x\\\")\"}\n");
  std::string csv = AuditOk({"export", "--contract", "alpha", "--from", "2026-01-10", "--to",
                             "2026-01-10", "--format", "csv"});
  EXPECT_NE(csv.find("\"'=HYPERLINK(\"\"x\"\")\""), std::string::npos) << csv;
  std::string jsonl =
      AuditOk({"export", "--contract", "alpha", "--from", "2026-01-10", "--to", "2026-01-10"});
  EXPECT_EQ(nlohmann::json::parse(jsonl)["message"], "=HYPERLINK(\"x\")");
  EXPECT_EQ(
      AuditOk({"export", "--contract", "alpha", "--from", "2026-01-11", "--to", "2026-01-12"}), "");
}

TEST_P(AuditCli, PurgeKeepsProofsAndIsRecordedInTheLedger) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(10, "2026-01-10"));
  std::string kept = Write("kept.checkpoint", AuditOk({"checkpoint", "--contract", "alpha"}));
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"},
          Lines(4090, "2026-01-10", 10));
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(20, "2026-03-01"));

  SetNow("2026-08-01T09:00:00Z");
  CliRun young = Audit({"purge", "--contract", "alpha", "--before", "2026-03-01"});
  EXPECT_EQ(young.code, 1);
  EXPECT_NE(young.err.find("retention period of 6 Months"), std::string::npos) << young.err;

  std::string out = AuditOk({"purge", "--contract", "alpha", "--before", "2026-02-01"});
  EXPECT_EQ(out, "purged 1 chunks (4096 records) older than 2026-02-01; their hashes are kept\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--count"}), "24\n");
  EXPECT_NE(Ok({"event", "list", "--contract", "alpha"}).find("audit.purged"), std::string::npos);
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha", "--against", kept}).find("OK: 4120 records"),
            std::string::npos);

  std::string proof =
      Write("proof.json",
            AuditOk({"prove", "--contract", "alpha", "--index", "4100", "--from-size", "10"}));
  CliRun v = Audit({"verify-proof", proof, "--public-key", KeyDir() + "/audit-checkpoint.pub"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(Audit({"prove", "--contract", "alpha", "--index", "5"}).code, 1);
}

TEST_P(AuditCli, EveryRecordedEventIsSealedInTheLedgerLogAndAChangeIsNamed) {
  ::setenv("ISMS_KEY_DIR", (dir_ + "/keys").c_str(), 1);
  SetUpContract();
  SetNow("2026-02-10T12:00:00Z");
  for (const char* who : {"alice", "bob", "carol"}) {
    CliRun r = Isms({"event", "record", "person.joined", "--contract", "alpha", "--subject", who,
                     "--at", "2026-02-02"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "sealed without complaint";
  }
  CliRun ok = Audit({"verify", "--contract", "alpha", "--log", "ledger"});
  ASSERT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("OK: 3 of 3 events sealed in the ledger log and unchanged"),
            std::string::npos)
      << ok.out;

  // Someone with access to the database rewrites history.
  auto conn = store::Connection::Open(store_);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->Execute("UPDATE events SET subject = 'mallory' WHERE id = 2").ok());
  conn->reset();
  CliRun bad = Audit({"verify", "--contract", "alpha", "--log", "ledger"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("BAD: ledger event 2 differs from leaf 1 of the ledger log"),
            std::string::npos)
      << bad.out;
  ::unsetenv("ISMS_KEY_DIR");
}

// A day of a small office, as its DHCP server, proxy, firewall and one laptop log it (syslog,
// RFC 3164, times UTC): laptop-042 holds 10.20.0.15, renewing it every 50 minutes, until it
// releases it; desktop-007 gets the address next; laptop-042 later gets 10.20.0.16 from the
// router's dnsmasq, whose lease (an hour, the policy's audit.lease_seconds) it does not renew.
constexpr const char* kOfficeDay =
    "<30>Mar  2 08:00:00 dhcp-01 dhcpd[612]: DHCPACK on 10.20.0.15 to 3c:22:fb:11:22:33 "
    "(laptop-042) via eth0\n"
    "<30>Mar  2 08:00:05 laptop-042 systemd[1]: Started Session 3 of user alice.\n"
    "<134>Mar  2 08:40:00 proxy-01 squid[1201]: 1772440800.512    187 10.20.0.15 "
    "TCP_TUNNEL/200 6453 CONNECT www.example.org:443 - HIER_DIRECT/93.184.216.34 -\n"
    "<30>Mar  2 08:50:00 dhcp-01 dhcpd[612]: DHCPACK on 10.20.0.15 to 3c:22:fb:11:22:33 "
    "(laptop-042) via eth0\n"
    "<4>Mar  2 09:20:00 fw-01 kernel: [12345.678901] OUTBOUND IN=eth1 OUT=eth0 "
    "MAC=52:54:00:12:34:56:3c:22:fb:11:22:33:08:00 SRC=10.20.0.15 DST=203.0.113.50 LEN=60 "
    "TOS=0x00 PREC=0x00 TTL=63 ID=54321 DF PROTO=TCP SPT=51514 DPT=22 WINDOW=64240 RES=0x00 "
    "SYN URGP=0\n"
    "<134>Mar  2 09:25:00 proxy-01 squid[1201]: 1772443500.001     12 10.20.0.99 "
    "TCP_MISS/200 512 GET http://unleased.example/ - HIER_DIRECT/198.51.100.7 text/html\n"
    "<30>Mar  2 09:40:00 dhcp-01 dhcpd[612]: DHCPACK on 10.20.0.15 to 3c:22:fb:11:22:33 "
    "(laptop-042) via eth0\n"
    "<30>Mar  2 10:00:00 dhcp-01 dhcpd[612]: DHCPRELEASE of 10.20.0.15 from 3c:22:fb:11:22:33 "
    "(laptop-042) via eth0 (found)\n"
    "<30>Mar  2 10:05:00 dhcp-01 dhcpd[612]: DHCPACK on 10.20.0.15 to 00:16:3e:aa:bb:cc "
    "(desktop-007) via eth0\n"
    "<134>Mar  2 10:10:00 proxy-01 squid[1201]: 1772446200.250    301 10.20.0.15 "
    "TCP_MISS/200 10421 GET http://intranet.example/news - HIER_DIRECT/10.1.1.1 text/html\n"
    "<30>Mar  2 11:00:00 router dnsmasq-dhcp[1234]: DHCPACK(br-lan) 10.20.0.16 "
    "3c:22:fb:11:22:33 laptop-042\n"
    "<134>Mar  2 11:30:00 proxy-01 squid[1201]: 1772451000.100     50 10.20.0.16 "
    "TCP_TUNNEL/200 2210 CONNECT login.example.net:443 - HIER_DIRECT/192.0.2.80 -\n"
    "<134>Mar  2 12:30:00 proxy-01 squid[1201]: 1772454600.100     50 10.20.0.16 "
    "TCP_TUNNEL/200 2210 CONNECT login.example.net:443 - HIER_DIRECT/192.0.2.80 -\n";

// laptop-042's first lease of 10.20.0.15 once its renewal at 09:40 (leaf 6) is erased: from the
// grant at 08:00 to an hour after the renewal at 08:50, records 0 to 3.
constexpr const char* kLeaseWithoutTheRenewal =
    "10.20.0.15\tlaptop-042\t3c:22:fb:11:22:33\t2026-03-02T08:00:00.000Z\t"
    "2026-03-02T09:50:00.000Z\t0\t3\n";

std::string AuditCli::SetUpOfficeDay() {
  Ok({"init"});
  Ok({"contract", "create", "alpha", "--start", "2026-01-05", "--policy",
      Write("policy.toml", "[audit]\nlease_seconds = 3600\n")});
  SetNow("2026-03-02T13:00:00Z");
  return AuditOk({"ingest", Write("office.log", kOfficeDay), "--contract", "alpha"});
}

TEST_P(AuditCli, AHostSearchFollowsDhcpLeasesToTheRequestsOfItsAddress) {
  std::string out = SetUpOfficeDay();
  EXPECT_NE(out.find("dhcp-lease=6"), std::string::npos) << out;
  EXPECT_NE(out.find("outbound-request=6"), std::string::npos) << out;

  // What laptop-042 sent itself, and the three requests from an address it held at the time;
  // not the request from its old address after desktop-007 got it, nor the one after its
  // dnsmasq lease lapsed.
  std::string text = AuditOk({"search", "--contract", "alpha", "--host", "laptop-042"});
  std::vector<std::string> lines;
  for (std::size_t p = 0, q; (q = text.find('\n', p)) != std::string::npos; p = q + 1) {
    lines.push_back(text.substr(p, q - p));
  }
  ASSERT_EQ(lines.size(), 4u) << text;
  EXPECT_EQ(lines[0].find("1\t2026-03-02T08:00:05.000Z\tlaptop-042\tsystemd"), 0u) << lines[0];
  EXPECT_EQ(lines[0].find("via lease"), std::string::npos);
  EXPECT_EQ(lines[1].find("2\t2026-03-02T08:40:00.000Z\tproxy-01\tsquid\toutbound-request"), 0u);
  EXPECT_NE(lines[1].find("\tvia lease: 10.20.0.15 held by laptop-042 (3c:22:fb:11:22:33) from "
                          "2026-03-02T08:00:00.000Z to 2026-03-02T10:00:00.000Z, DHCP record "
                          "leaf 0"),
            std::string::npos)
      << lines[1];
  EXPECT_EQ(lines[2].find("4\t2026-03-02T09:20:00.000Z\tfw-01\tkernel\toutbound-request"), 0u);
  EXPECT_NE(lines[2].find("via lease: 10.20.0.15"), std::string::npos);
  EXPECT_EQ(lines[3].find("11\t2026-03-02T11:30:00.000Z\tproxy-01"), 0u) << lines[3];
  EXPECT_NE(lines[3].find("via lease: 10.20.0.16 held by laptop-042 (3c:22:fb:11:22:33) from "
                          "2026-03-02T11:00:00.000Z to 2026-03-02T12:00:00.000Z, DHCP record "
                          "leaf 10"),
            std::string::npos)
      << lines[3];

  auto j = nlohmann::json::parse(
      AuditOk({"search", "--contract", "alpha", "--host", "desktop-007", "--json"}));
  ASSERT_EQ(j.size(), 1u) << j.dump(2);
  EXPECT_EQ(j[0]["leaf"], 9);
  EXPECT_EQ(j[0]["src_ip"], "10.20.0.15");
  EXPECT_EQ(j[0]["dest"], "http://intranet.example/news");
  EXPECT_EQ(j[0]["via_lease"]["host"], "desktop-007");
  EXPECT_EQ(j[0]["via_lease"]["first_leaf"], 8);

  // By MAC address, in either notation; with a time range; and the leases themselves.
  EXPECT_EQ(
      AuditOk({"search", "--contract", "alpha", "--host", "3C-22-FB-11-22-33", "--count"}), "3\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "laptop-042", "--from",
                     "2026-03-02T09:00:00Z", "--to", "2026-03-02T12:00:00Z", "--count"}),
            "2\n");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "laptop-042", "--category",
                     "outbound-request", "--count"}),
            "3\n");
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--host", "laptop-042"}),
            "10.20.0.15\tlaptop-042\t3c:22:fb:11:22:33\t2026-03-02T08:00:00.000Z\t"
            "2026-03-02T10:00:00.000Z\t0\t7\n"
            "10.20.0.16\tlaptop-042\t3c:22:fb:11:22:33\t2026-03-02T11:00:00.000Z\t"
            "2026-03-02T12:00:00.000Z\t10\t10\n");
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--ip", "10.20.0.15", "--from",
                     "2026-03-02T10:01:00Z"}),
            "10.20.0.15\tdesktop-007\t00:16:3e:aa:bb:cc\t2026-03-02T10:05:00.000Z\t"
            "2026-03-02T11:05:00.000Z\t8\t8\n");
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha"}).find("OK: 13 records"), std::string::npos);
}

// The lease index is a table beside the log, not hashed into it: verify rebuilds it from the
// log's DHCP records and names any lease that was changed, added or deleted.
TEST_P(AuditCli, VerifyRebuildsTheLeaseIndexAndNamesAChangedAddedOrMissingLease) {
  SetUpOfficeDay();
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha"})
                .find("OK: lease index: 3 leases, as the log's DHCP records give them"),
            std::string::npos);

  auto exec = [&](const std::string& sql, const std::string& blob = "") {
    auto c = AuditStore();
    auto st = c->Prepare(sql);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    if (!blob.empty()) (*st)->BindBlob(1, blob);
    ASSERT_TRUE((*st)->Run().ok()) << sql;
  };
  const std::string desktop =
      "10.20.0.15 from 2026-03-02T10:05:00.000Z to 2026-03-02T11:05:00.000Z held by "
      "desktop-007 (00:16:3e:aa:bb:cc), DHCP record leaves 8 to 8";
  struct Case {
    std::string change, undo, finding;
    std::string blob = "", undo_blob = "";
  };
  const std::vector<Case> cases = {
      {"UPDATE audit_leases SET end_ms = end_ms + 1 WHERE first_leaf = 8",
       "UPDATE audit_leases SET end_ms = end_ms - 1 WHERE first_leaf = 8",
       "BAD: lease index: the lease of 10.20.0.15 from 2026-03-02T10:05:00.000Z to "
       "2026-03-02T11:05:00.001Z held by desktop-007 (00:16:3e:aa:bb:cc), DHCP record leaves 8 "
       "to 8 differs from the one the log's DHCP records give: " + desktop},
      {"UPDATE audit_leases SET host = $1 WHERE first_leaf = 8",
       "UPDATE audit_leases SET host = $1 WHERE first_leaf = 8", "held by desktop-008",
       "desktop-008", "desktop-007"},
      {"UPDATE audit_leases SET mac = '00:16:3e:aa:bb:cd' WHERE first_leaf = 8",
       "UPDATE audit_leases SET mac = '00:16:3e:aa:bb:cc' WHERE first_leaf = 8",
       "desktop-007 (00:16:3e:aa:bb:cd)"},
      {"UPDATE audit_leases SET last_leaf = 9 WHERE first_leaf = 8",
       "UPDATE audit_leases SET last_leaf = 8 WHERE first_leaf = 8", "leaves 8 to 9 differs"},
      {"UPDATE audit_leases SET first_leaf = 9 WHERE first_leaf = 8",
       "UPDATE audit_leases SET first_leaf = 8 WHERE first_leaf = 9", "leaves 9 to 8 differs"},
      {"DELETE FROM audit_leases WHERE first_leaf = 8",
       "INSERT INTO audit_leases (contract_id, ip, start_ms, end_ms, host, mac, first_leaf, "
       "last_leaf) SELECT contract_id, ip, 1772445900000, 1772449500000, $1, "
       "'00:16:3e:aa:bb:cc', 8, 8 FROM audit_leases WHERE first_leaf = 0",
       "BAD: lease index: the lease of " + desktop + ", which the log's DHCP records give, is "
       "missing",
       "",
       "desktop-007"},
      {"INSERT INTO audit_leases (contract_id, ip, start_ms, end_ms, host, mac, first_leaf, "
       "last_leaf) SELECT contract_id, '10.20.0.99', start_ms, end_ms, host, mac, first_leaf, "
       "last_leaf FROM audit_leases WHERE first_leaf = 0",
       "DELETE FROM audit_leases WHERE ip = '10.20.0.99'",
       "BAD: lease index: the lease of 10.20.0.99 from 2026-03-02T08:00:00.000Z",
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.change);
    exec(c.change, c.blob);
    CliRun r = Audit({"verify", "--contract", "alpha"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find(c.finding), std::string::npos) << r.out;
    exec(c.undo, c.undo_blob);
    EXPECT_EQ(Audit({"verify", "--contract", "alpha"}).code, 0) << "undone";
  }
}

// A lease begun by a record that retention purged cannot be rebuilt: verify takes it as stored
// and applies the kept records to it, so a renewal after the purge boundary still checks it.
TEST_P(AuditCli, ALeaseBegunInAPurgedChunkIsTakenAsStoredAndStillChecked) {
  Ok({"init"});
  Ok({"contract", "create", "alpha", "--start", "2026-01-05", "--policy",
      Write("policy.toml", "[audit]\nlease_seconds = 31622400\n")});
  auto grant = [](const std::string& time) {
    return "<30>1 " + time +
           " dhcp-01 dhcpd 612 - - DHCPACK on 10.20.0.15 to 3c:22:fb:11:22:33 (laptop-042) via "
           "eth0\n";
  };
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "syslog"},
          grant("2026-01-10T09:00:00Z"));
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"},
          Lines(4095, "2026-01-10", 1));
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "syslog"},
          grant("2026-03-01T09:00:00Z"));
  SetNow("2026-08-01T09:00:00Z");
  AuditOk({"purge", "--contract", "alpha", "--before", "2026-02-01"});
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--host", "laptop-042"}),
            "10.20.0.15\tlaptop-042\t3c:22:fb:11:22:33\t2026-01-10T09:00:00.000Z\t"
            "2027-03-02T09:00:00.000Z\t0\t4096\n");
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha"})
                .find("OK: lease index: 1 leases, as the log's DHCP records give them (1 begun by "
                      "purged records taken as stored)"),
            std::string::npos);
  {
    auto c = AuditStore();
    auto st = c->Prepare("UPDATE audit_leases SET host = $1");
    ASSERT_TRUE(st.ok());
    (*st)->BindBlob(1, "laptop-043");
    ASSERT_TRUE((*st)->Run().ok());
  }
  CliRun r = Audit({"verify", "--contract", "alpha"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("BAD: lease index: the lease of 10.20.0.15 from 2026-01-10T09:00:00.000Z"),
            std::string::npos)
      << r.out;
}

// Erasing a renewal takes its part out of the lease index: the index is rebuilt from the records
// that remain, so verify checks every lease exactly afterwards, a change near the erased record
// included.
TEST_P(AuditCli, ErasingADhcpRenewalRebuildsTheLeaseIndexAndVerifyStillChecksIt) {
  SetUpOfficeDay();
  // Leaf 6: laptop-042's renewal at 09:40; the release at 10:00 still ends that lease.
  AuditOk({"erase", "--contract", "alpha", "--leaf", "6"});
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--ip", "10.20.0.15", "--to",
                     "2026-03-02T10:01:00Z"}),
            kLeaseWithoutTheRenewal);
  std::string out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_NE(out.find("OK: lease index: 3 leases"), std::string::npos) << out;
  EXPECT_EQ(out.find("unchecked"), std::string::npos) << out;
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  {
    auto c = AuditStore();
    auto st = c->Prepare("UPDATE audit_leases SET end_ms = end_ms + 600000 WHERE first_leaf = 0");
    ASSERT_TRUE(st.ok() && (*st)->Run().ok());
  }
  CliRun r = Audit({"verify", "--contract", "alpha"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("BAD: lease index: the lease of 10.20.0.15 from 2026-03-02T08:00:00.000Z"),
            std::string::npos)
      << r.out;
}

// Blocks keep their records' categories: a search by category and the lease index's rebuild
// after an erasure read only the blocks that hold such records (here a damaged block of another
// host is not even read), while a search of everything and verify still read it.
TEST_P(AuditCli, ACategorySearchAndADhcpErasureReadOnlyTheBlocksHoldingThatCategory) {
  SetUpOfficeDay();
  // 8,200 more records of web-01 and db-01: the office day is in chunk 0 (leaves 0-4095), and
  // chunk 1 (4096-8191) holds no DHCP record.
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(8200, "2026-03-02"));
  // web-01's block of chunk 1, replaced by bytes that do not decode (put back at the end).
  auto set_block = [&](const std::string& data) {
    auto c = AuditStore();
    auto st = c->Prepare("UPDATE audit_blocks SET data = $1 WHERE chunk_no = 1 AND host = $2");
    ASSERT_TRUE(st.ok());
    (*st)->BindBlob(1, data);
    (*st)->BindBlob(2, "web-01");
    ASSERT_TRUE((*st)->Run().ok());
    EXPECT_EQ((*st)->ChangedRows(), 1);
  };
  std::string good;
  {
    auto c = AuditStore();
    auto st = c->Prepare("SELECT data FROM audit_blocks WHERE chunk_no = 1 AND host = $1");
    ASSERT_TRUE(st.ok());
    (*st)->BindBlob(1, "web-01");
    ASSERT_TRUE(*(*st)->Step());
    good = (*st)->ColumnBlob(0);
  }
  set_block("not a zstd frame");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--category", "dhcp-lease", "--count"}),
            "6\n");
  CliRun all = Audit({"search", "--contract", "alpha", "--count"});
  EXPECT_NE(all.code, 0) << "a search of every category reads the damaged block";
  // Leaf 6: laptop-042's renewal at 09:40, as in the test above.
  AuditOk({"erase", "--contract", "alpha", "--leaf", "6"});
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--ip", "10.20.0.15", "--to",
                     "2026-03-02T10:01:00Z"}),
            kLeaseWithoutTheRenewal);
  // Blocks written before blocks kept their kinds (NULL): the rebuild reads every record, as
  // verify does, and gives the same index.
  {
    auto c = AuditStore();
    ASSERT_TRUE(c->Execute("UPDATE audit_blocks SET kinds = NULL WHERE chunk_no = 0").ok());
  }
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--category", "dhcp-lease", "--count"}),
            "5\n");
  // Leaf 8: desktop-007's grant at 10:05, the only record of its lease.
  EXPECT_NE(AuditOk({"erase", "--contract", "alpha", "--leaf", "8"}).find("1 DHCP leases dropped"),
            std::string::npos);
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--host", "desktop-007"}), "");
  CliRun v = Audit({"verify", "--contract", "alpha"});
  EXPECT_EQ(v.code, 1);
  EXPECT_NE(v.out.find("BAD: chunk 1 (leaves 4096-8191): block of host 'web-01'"),
            std::string::npos)
      << v.out;
  set_block(good);
  const std::string out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_NE(out.find("OK: lease index: 2 leases, as the log's DHCP records give them"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("unchecked"), std::string::npos) << out;
}

// A store upgraded from a version whose blocks did not keep their records' kinds: verify notes
// the blocks without them, `audit upgrade` stores them (checked by verify), and a search by
// category then reads only the blocks holding that category.
TEST_P(AuditCli, UpgradeStoresTheKindsOfOldBlocksSoThatCategorySearchesSkipTheOthers) {
  SetUpOfficeDay();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(8200, "2026-03-02"));
  std::int64_t blocks = 0;
  {
    auto c = AuditStore();
    ASSERT_TRUE(c->Execute("UPDATE audit_blocks SET kinds = NULL").ok());
    auto st = c->Prepare("SELECT COUNT(*) FROM audit_blocks WHERE log_kind = 0");
    ASSERT_TRUE(st.ok() && *(*st)->Step());
    blocks = (*st)->ColumnInt(0);
  }
  ASSERT_GT(blocks, 2);
  std::string out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_NE(out.find("note: " + std::to_string(blocks) +
                     " blocks were written before blocks kept their records' kinds"),
            std::string::npos)
      << out;

  EXPECT_EQ(AuditOk({"upgrade", "--contract", "alpha"}),
            "stored the kinds of the records of " + std::to_string(blocks) +
                " blocks in 2 chunks; every block of the audit log of alpha now keeps them\n"
                "(1 transactions)\n");
  out = AuditOk({"verify", "--contract", "alpha"});
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  EXPECT_EQ(AuditOk({"upgrade", "--contract", "alpha"}),
            "OK: every block of the audit log of alpha keeps its records' kinds, and every "
            "block and tail batch of its logs the SHA-256 of its bytes; nothing to do\n");

  // Chunk 1 holds no DHCP record: its web-01 block, damaged, is no longer read by such a search.
  {
    auto c = AuditStore();
    auto st = c->Prepare("UPDATE audit_blocks SET data = $1 WHERE chunk_no = 1 AND host = $2");
    ASSERT_TRUE(st.ok());
    (*st)->BindBlob(1, "not a zstd frame");
    (*st)->BindBlob(2, "web-01");
    ASSERT_TRUE((*st)->Run().ok());
  }
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--category", "dhcp-lease", "--count"}),
            "6\n");
  EXPECT_NE(Audit({"search", "--contract", "alpha", "--count"}).code, 0);
}

TEST_P(AuditCli, LeasesGrantedInAnEarlierBatchAttributeLaterRequests) {
  Ok({"init"});
  Ok({"contract", "create", "alpha", "--start", "2026-01-05"});
  SetNow("2026-03-02T13:00:00Z");
  std::string day(kOfficeDay);
  std::size_t half = day.find("<134>Mar  2 10:10:00");
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "syslog"}, day.substr(0, half));
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "syslog"}, day.substr(half));
  // The default lease is a day: the 12:30 request still belongs to laptop-042.
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "laptop-042", "--count"}), "5\n");
}

TEST_P(AuditCli, ErasedRecordsKeepTheirLeafHashesAndTheErasureIsInTheLedger) {
  SetUpContract();
  SetNow("2026-01-12T09:00:00Z");
  // 4,100 records: chunk 0 (leaves 0-4095) and a tail.
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(4100, "2026-01-10"));
  std::string kept = Write("kept.checkpoint", AuditOk({"checkpoint", "--contract", "alpha"}));
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--user", "alice", "--count"}), "1367\n");

  CliRun r = Audit({"erase", "--contract", "alpha", "--leaf", "3,4098-4099", "--reason",
                    "data-subject request DSR-7"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("erased 3 records (leaves 3,4098-4099); their leaf hashes are kept"),
            std::string::npos)
      << r.out;
  std::string verified = AuditOk({"verify", "--contract", "alpha", "--against", kept});
  EXPECT_NE(verified.find("OK: 4100 records"), std::string::npos) << verified;
  EXPECT_NE(verified.find("OK: the log extends the checkpoint"), std::string::npos);

  // Leaf 3 (db-01, alice) and 4098 (web-01, alice) no longer name their user.
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--user", "alice", "--count"}), "1365\n");
  std::string db = AuditOk({"search", "--contract", "alpha", "--host", "db-01", "--limit", "2"});
  const std::string erased_line = "3\t2026-01-10T10:03:00.000Z\tdb-01\t\terased\t\t[content "
                                  "erased; leaf hash ";
  ASSERT_NE(db.find(erased_line), std::string::npos) << db;
  const std::string leaf_hash = db.substr(db.find(erased_line) + erased_line.size(), 64);
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--text", "event 3", "--count"}), "1110\n")
      << "event 3, 30-39, 300-399, 3000-3999, but not the erased one";
  std::string csv = AuditOk({"export", "--contract", "alpha", "--from", "2026-01-10", "--to",
                             "2026-01-10", "--format", "csv"});
  EXPECT_NE(csv.find("\r\n\"3\",\"2026-01-10T10:03:00.000Z\",\"\",\"\",\"db-01\","),
            std::string::npos);
  auto j = nlohmann::json::parse(AuditOk({"search", "--contract", "alpha", "--host", "web-01",
                                          "--json", "--from", "2026-01-10T18:18:00Z", "--to",
                                          "2026-01-10T18:19:00Z"}));
  ASSERT_EQ(j.size(), 6u) << "leaves 498, 1218, ... 4098";
  EXPECT_EQ(j[5]["leaf"], 4098);
  EXPECT_EQ(j[5]["erased"], true);
  EXPECT_FALSE(j[5].contains("message"));
  EXPECT_FALSE(j[4].contains("erased"));

  // The erased record's inclusion proof still verifies offline.
  std::string proof = Write("proof.json", AuditOk({"prove", "--contract", "alpha", "--index", "3"}));
  CliRun v = Audit({"verify-proof", proof, "--public-key", KeyDir() + "/audit-checkpoint.pub"});
  EXPECT_EQ(v.code, 0) << v.err;
  std::ifstream proof_in(proof);
  EXPECT_EQ(nlohmann::json::parse(proof_in)["inclusion"]["leaf_hash"], leaf_hash);

  std::string events = Ok({"event", "list", "--contract", "alpha", "--json"});
  EXPECT_NE(events.find("\"leaves\": \"3,4098-4099\""), std::string::npos) << events;
  EXPECT_NE(events.find("data-subject request DSR-7"), std::string::npos);

  // By filter: a dry run first, then the erasure; again, nothing is left to erase.
  // (The lines' clock wraps every 12 hours: six records of alice a day are from 10:00 to 10:09.)
  EXPECT_EQ(AuditOk({"erase", "--contract", "alpha", "--user", "alice", "--to",
                     "2026-01-10T10:10:00Z", "--dry-run"})
                .rfind("would erase 23 records: leaves 0,6,9,720,723,726,729,1440,", 0),
            0u);
  EXPECT_NE(AuditOk({"erase", "--contract", "alpha", "--user", "alice", "--to",
                     "2026-01-10T10:10:00Z"})
                .find("erased 23 records (leaves 0,6,9,720,"),
            std::string::npos);
  EXPECT_EQ(AuditOk({"erase", "--contract", "alpha", "--leaf", "0"}),
            "erased nothing: the records were erased before\n");
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha"}).find("OK: 4100 records"),
            std::string::npos);
  EXPECT_EQ(Audit({"erase", "--contract", "alpha"}).code, 1);
  EXPECT_EQ(Audit({"erase", "--contract", "alpha", "--from", "2026-01-10"}).code, 1)
      << "a period alone would erase everything in it";
  EXPECT_EQ(Audit({"erase", "--contract", "alpha", "--leaf", "4100"}).code, 1);
}

TEST_P(AuditCli, AnErasureTheLedgerDoesNotRecordFailsVerification) {
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(10, "2026-01-10"));
  {
    auto c = AuditStore();
    audit::LogStore log = app::AuditLog(*c, 1);
    ASSERT_TRUE(c->Begin().ok());
    const std::vector<std::uint64_t> leaf = {4};
    ASSERT_TRUE(log.Erase(leaf).ok());
    ASSERT_TRUE(c->Commit().ok());
  }
  CliRun r = Audit({"verify", "--contract", "alpha"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("BAD: erased leaves 4: no audit.erased event of the ledger records "
                       "their erasure"),
            std::string::npos)
      << r.out;
}

TEST_P(AuditCli, ErasingTheDhcpRecordThatStartedALeaseDropsTheLease) {
  Ok({"init"});
  Ok({"contract", "create", "alpha", "--start", "2026-01-05"});
  SetNow("2026-03-02T13:00:00Z");
  AuditOk({"ingest", Write("office.log", kOfficeDay), "--contract", "alpha"});
  std::string out = AuditOk({"erase", "--contract", "alpha", "--leaf", "10"});
  EXPECT_NE(out.find("1 DHCP leases dropped"), std::string::npos) << out;
  EXPECT_EQ(AuditOk({"leases", "--contract", "alpha", "--host", "laptop-042", "--from",
                     "2026-03-02T10:30:00Z"}),
            "");
  EXPECT_EQ(AuditOk({"search", "--contract", "alpha", "--host", "laptop-042", "--from",
                     "2026-03-02T10:30:00Z", "--count"}),
            "0\n");
  // The rebuild of the index gives what the erasure left.
  EXPECT_NE(AuditOk({"verify", "--contract", "alpha"}).find("OK: lease index: 2 leases"),
            std::string::npos);
}

TEST_P(AuditCli, ANewSqliteAuditFileHasSixteenKibPages) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "a SQLite file's page size";
  SetUpContract();
  AuditOk({"ingest", "-", "--contract", "alpha", "--format", "jsonl"}, Lines(3, "2026-01-10"));
  auto c = AuditStore();
  for (const char* pragma : {"PRAGMA page_size", "PRAGMA journal_mode"}) {
    auto st = c->Prepare(pragma);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*(*st)->Step());
    if (std::string(pragma) == "PRAGMA page_size") {
      EXPECT_EQ((*st)->ColumnInt(0), 16384) << "blocks of a few KiB waste less of larger pages";
    } else {
      EXPECT_EQ((*st)->ColumnText(0), "wal");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, AuditCli, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
