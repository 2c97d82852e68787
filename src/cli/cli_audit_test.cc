#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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
    if (args[1] == "verify-proof") {
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

INSTANTIATE_TEST_SUITE_P(Engines, AuditCli, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::cli::testing
