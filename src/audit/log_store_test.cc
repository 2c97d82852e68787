#include "audit/log_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/proof.h"
#include "audit/zstd_frame.h"

namespace isms::audit {
namespace {

Instant At(int minute) {
  return Instant(std::chrono::minutes(29'000'000 + minute));
}

// The kinds of this test's records ("record N"): bit N mod 3 (records 0, 3, 6, ... are kind 1,
// those of web-01 and db-01 alternate); 0 for any other content.
std::uint64_t TestKinds(std::string_view content) {
  if (!content.starts_with("record ")) return 0;
  return std::uint64_t{1} << (std::stoi(std::string(content.substr(7))) % 3);
}

// The keys of this test's records, as their content gives them (EntryKeysOf):
//   - "record N" (LogStoreTest::Append): minute N, web-01 for even N, db-01 for odd, user alice
//     when N is a multiple of 3, no address (so the records Append gives an address are stored
//     with their keys);
//   - "record N of a host" (ManyHosts): its host, user and address, except that the content of
//     every 13th gives another user (stored with their keys too).
bool TestKeysOf(std::string_view content, ContentKeys* out) {
  if (!content.starts_with("record ")) return false;
  const int n = std::stoi(std::string(content.substr(7)));
  if (content.ends_with(" of a host")) {
    static const auto* names = [] {
      auto* v = new std::vector<std::string>;
      for (int i = 0; i < 37; ++i) v->push_back("host-" + std::to_string(i));
      for (int i = 0; i < 11; ++i) v->push_back("user-" + std::to_string(i));
      for (int i = 0; i < 27; ++i) {
        v->push_back("10.0." + std::to_string(i / 9) + "." + std::to_string(i % 9));
      }
      return v;
    }();
    out->time_ms = At(n % 700).time_since_epoch().count();
    out->host = (*names)[static_cast<std::size_t>((n * 7) % 37)];
    out->user = n % 5 == 0 ? std::string_view((*names)[37 + static_cast<std::size_t>(n % 11)])
                           : std::string_view();
    if (n % 13 == 1) out->user = "someone else";
    out->ip = n % 4 == 0
                  ? std::string_view((*names)[48 + static_cast<std::size_t>(n % 3 * 9 + n % 9)])
                  : std::string_view();
    return true;
  }
  out->time_ms = At(n).time_since_epoch().count();
  out->host = n % 2 == 0 ? "web-01" : "db-01";
  out->user = n % 3 == 0 ? "alice" : "";
  out->ip = "";
  return true;
}

// Each test runs twice: with logs that store every entry's keys, and with logs that read them from
// the content where they are the content's (TestKeysOf).
class LogStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isms-logstore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = store::Connection::Open("sqlite:" + dir_ + "/audit.db");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
    ASSERT_TRUE(
        store::Migrate(*conn_,
                       {{1, "log", LogStore::SchemaSql(store::Engine::kSqlite), ""},
                        {2, "addresses", LogStore::AddressSchemaSql(store::Engine::kSqlite), ""},
                        {3, "checkpoints", LogStore::CheckpointCountSql(), ""},
                        {4, "kinds", LogStore::BlockKindsSql(), ""},
                        {5, "without kinds", LogStore::BlocksWithoutKindsIndexSql(), ""},
                        {6, "digests", LogStore::DataDigestSql(store::Engine::kSqlite), ""}})
            .ok());
    log_ = std::make_unique<LogStore>(*conn_, 7, LogKind::kAudit, 2, TestKinds, Keys());
  }
  // The EntryKeysOf of this run's logs.
  static EntryKeysOf Keys() { return GetParam() ? TestKeysOf : nullptr; }

  void TearDown() override {
    log_.reset();
    conn_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Appends n records (minute = leaf index) in one batch and writes a checkpoint. With
  // `addresses`, the records of web-01 carry an address key too.
  void Append(int n, bool addresses = false) {
    std::vector<LogEntry> es;
    for (int i = 0; i < n; ++i, ++next_) {
      LogEntry e;
      e.bytes = "record " + std::to_string(next_);
      e.time = At(next_);
      e.host = next_ % 2 == 0 ? "web-01" : "db-01";
      e.user = next_ % 3 == 0 ? "alice" : "";
      if (addresses && next_ % 2 == 0) e.ip = "10.0.0." + std::to_string(next_);
      es.push_back(e);
      mem_.Append(LeafHash(e.bytes));
    }
    ASSERT_TRUE(conn_->Begin().ok());
    ASSERT_TRUE(log_->Append(es).ok());
    ASSERT_TRUE(log_->WriteCheckpoint(signer_, "test/audit", At(0)).ok());
    ASSERT_TRUE(conn_->Commit().ok());
  }

  // Appends n events of one host ("event 0", ...) to a log without kinds (a ledger log), in one
  // batch, and writes a checkpoint.
  void AppendEvents(LogStore& ledger, int n) {
    std::vector<LogEntry> es(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      es[i].bytes = "event " + std::to_string(i);
      es[i].time = At(i);
      es[i].host = "h";
    }
    ASSERT_TRUE(conn_->Begin().ok());
    ASSERT_TRUE(ledger.Append(es).ok());
    ASSERT_TRUE(ledger.WriteCheckpoint(signer_, "test/ledger", At(0)).ok());
    ASSERT_TRUE(conn_->Commit().ok());
  }

  std::vector<std::string> Problems() {
    auto r = log_->Verify(signer_.Verifier());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->problems : std::vector<std::string>{"verify failed"};
  }

  void Exec(const std::string& sql) { ASSERT_TRUE(conn_->Execute(sql).ok()) << sql; }

  // The rows `sql` (whose $1 is a contract) gives for `contract`, each as its columns joined.
  std::vector<std::string> Rows(const std::string& sql, std::int64_t contract) {
    const int columns =
        static_cast<int>(std::count(sql.begin(), sql.begin() + sql.find(" FROM "), ',')) + 1;
    auto st = conn_->Prepare(sql);
    EXPECT_TRUE(st.ok()) << sql;
    (*st)->BindInt(1, contract);
    std::vector<std::string> out;
    while (*(*st)->Step()) {
      std::string row;
      for (int c = 0; c < columns; ++c) {
        row += (*st)->IsNull(c) ? "NULL" : (*st)->ColumnBlob(c);
        row += '|';
      }
      out.push_back(row);
    }
    return out;
  }

  // The logs of contracts 7 (`a`) and 8 (`b`) are stored as the same rows, byte for byte, hold
  // `chunks` complete chunks, and verify, each with `size` records.
  void ExpectSameVerifiedLogs(LogStore& a, LogStore& b, std::uint64_t size, int chunks) {
    ExpectSameRows(7, 8);
    EXPECT_EQ(Rows("SELECT COUNT(*) FROM audit_chunks WHERE contract_id = $1", 8),
              std::vector<std::string>{std::to_string(chunks) + "|"});
    for (LogStore* log : {&a, &b}) {
      auto r = log->Verify(signer_.Verifier());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE(r->problems.empty()) << r->problems.front();
      EXPECT_EQ(r->size, size);
    }
  }

  // Both contracts' logs are stored as the same rows, byte for byte.
  void ExpectSameRows(std::int64_t a, std::int64_t b) {
    for (const std::string sql :
         {"SELECT chunk_no, host, records, min_time, max_time, data, kinds FROM audit_blocks "
          "WHERE contract_id = $1 ORDER BY chunk_no, host",
          "SELECT user_key, chunk_no, host FROM audit_postings WHERE contract_id = $1 ORDER BY "
          "chunk_no, user_key, host",
          "SELECT ip, chunk_no, host FROM audit_ip_postings WHERE contract_id = $1 ORDER BY "
          "chunk_no, ip, host",
          "SELECT chunk_no, root, records, min_time, max_time FROM audit_chunks WHERE "
          "contract_id = $1 ORDER BY chunk_no",
          "SELECT first_leaf, leaves, hash, min_time, max_time, data FROM audit_tail WHERE "
          "contract_id = $1 ORDER BY first_leaf",
          "SELECT size, tree FROM audit_logs WHERE contract_id = $1"}) {
      const std::vector<std::string> x = Rows(sql, a), y = Rows(sql, b);
      EXPECT_FALSE(x.empty()) << sql;
      EXPECT_EQ(x, y) << sql;
    }
  }

  // Entries of 37 hosts, some with users and addresses, their times out of order within hosts.
  static std::vector<LogEntry> ManyHosts(int n) {
    std::vector<LogEntry> es;
    for (int i = 0; i < n; ++i) {
      LogEntry e;
      e.bytes = "record " + std::to_string(i) + " of a host";
      e.time = At(i % 700);
      e.host = "host-" + std::to_string((i * 7) % 37);
      e.user = i % 5 == 0 ? "user-" + std::to_string(i % 11) : "";
      e.ip = i % 4 == 0 ? "10.0." + std::to_string(i % 3) + "." + std::to_string(i % 9) : "";
      es.push_back(e);
    }
    return es;
  }

  // Flips one byte of a blob column of the first row of `table` matching `where`.
  void FlipBlob(const std::string& table, const std::string& column, const std::string& where,
                size_t offset) {
    auto st = conn_->Prepare("SELECT rowid, " + column + " FROM " + table + " WHERE " + where);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*(*st)->Step());
    std::int64_t rowid = (*st)->ColumnInt(0);
    std::string blob = (*st)->ColumnBlob(1);
    st->reset();
    ASSERT_LT(offset, blob.size());
    blob[offset] = static_cast<char>(blob[offset] ^ 0x01);
    auto up = conn_->Prepare("UPDATE " + table + " SET " + column + " = $1 WHERE rowid = $2");
    ASSERT_TRUE(up.ok());
    (*up)->BindBlob(1, blob);
    (*up)->BindInt(2, rowid);
    ASSERT_TRUE((*up)->Run().ok());
  }

  std::string dir_;
  std::unique_ptr<store::Connection> conn_;
  std::unique_ptr<LogStore> log_;
  NoteSigner signer_ = NoteSigner::Generate("test/audit").value();
  MemoryHashSource mem_;
  int next_ = 0;
};

TEST_P(LogStoreTest, AppendsChunksAndTailWithTheRfc9162Root) {
  Append(3);
  Append(6);
  auto s = log_->State();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size, 9u);
  EXPECT_EQ(s->root, *RootAt(9, mem_));
  EXPECT_TRUE(Problems().empty());
  auto count = [&](const std::string& table) {
    auto st = conn_->Prepare("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(*(*st)->Step());
    return (*st)->ColumnInt(0);
  };
  EXPECT_EQ(count("audit_chunks"), 2);
  EXPECT_EQ(count("audit_blocks"), 4);
  EXPECT_EQ(count("audit_tail"), 1);
  EXPECT_EQ(*log_->RootAt(3), *RootAt(3, mem_));
}

// A large chunk's blocks and an append's leaf hashes are made by two threads; the rows stored
// must be those one thread would store, byte for byte, and verify.
TEST_P(LogStoreTest, TwoThreadsStoreExactlyTheRowsOneThreadStores) {
  const std::vector<LogEntry> es = ManyHosts(3300);
  // Contract 7 by one thread, contract 8 by two (from 2 entries on), in chunks of 1,024: the
  // first append fills two chunks and a tail, the second completes the third chunk.
  LogStore one(*conn_, 7, LogKind::kAudit, 10, TestKinds, Keys());
  LogStore two(*conn_, 8, LogKind::kAudit, 10, TestKinds, Keys());
  one.set_two_thread_entries(std::numeric_limits<std::size_t>::max());
  two.set_two_thread_entries(2);
  for (LogStore* log : {&one, &two}) {
    std::vector<LogEntry> first(es.begin(), es.begin() + 2500), second(es.begin() + 2500, es.end());
    ASSERT_TRUE(conn_->Begin().ok());
    ASSERT_TRUE(log->Append(first).ok());
    ASSERT_TRUE(log->Append(second).ok());
    ASSERT_TRUE(log->WriteCheckpoint(signer_, "test/audit", At(0)).ok());
    ASSERT_TRUE(conn_->Commit().ok());
  }
  ExpectSameVerifiedLogs(one, two, 3300, 3);
}

// A writer's staged entries are stored as the same rows as the entries appended one by one:
// whole chunks from their staged blocks (by one thread and by two), anything else entry by
// entry — part of a chunk, the rest of a chunk begun in the tail, and entries staged for leaves
// the log has not reached.
TEST_P(LogStoreTest, StagedEntriesAreStoredAsTheSameRowsAsEntriesAppendedOneByOne) {
  std::vector<LogEntry> es = ManyHosts(3300);
  LogStore plain(*conn_, 7, LogKind::kAudit, 10, TestKinds, Keys());
  LogStore staged(*conn_, 8, LogKind::kAudit, 10, TestKinds, Keys());
  // [from, to) of `es`, and the first leaf the staged entries are expected to become.
  const std::vector<std::array<std::size_t, 3>> batches = {
      {0, 1024, 0},        // a whole chunk, from its blocks
      {1024, 1500, 1024},  // part of a chunk: the tail
      {1500, 2048, 1500},  // the rest of the chunk: the tail and these, one by one
      {2048, 3072, 2048},  // a whole chunk again, by two threads
      {3072, 3300, 5000},  // staged for leaves the log has not reached: appended after it
  };
  StagedEntries stage(TestKinds, Keys());
  // Entries of many other hosts staged first and never appended leave nothing behind.
  std::vector<LogEntry> others = ManyHosts(600);
  for (std::size_t i = 0; i < others.size(); ++i) others[i].host = "other-" + std::to_string(i);
  stage.Start(0);
  for (LogEntry& e : others) stage.Add(e);
  for (const auto& [from, to, first] : batches) {
    staged.set_two_thread_entries(from == 2048 ? 2 : std::numeric_limits<std::size_t>::max());
    std::vector<LogEntry> part(es.begin() + static_cast<std::ptrdiff_t>(from),
                               es.begin() + static_cast<std::ptrdiff_t>(to));
    stage.Start(first);
    stage.Start(first);                     // twice: the second finds it empty and keeps its memory
    for (LogEntry& e : part) stage.Add(e);  // hashes each (none is hashed yet)
    EXPECT_EQ(stage.size(), to - from);
    ASSERT_TRUE(conn_->Begin().ok());
    ASSERT_TRUE(plain.Append(part).ok());
    ASSERT_TRUE(staged.Append(stage).ok());
    ASSERT_TRUE(conn_->Commit().ok());
  }
  ASSERT_TRUE(conn_->Begin().ok());
  for (LogStore* log : {&plain, &staged}) {
    ASSERT_TRUE(log->WriteCheckpoint(signer_, "test/audit", At(0)).ok());
  }
  ASSERT_TRUE(conn_->Commit().ok());
  ExpectSameVerifiedLogs(plain, staged, 3300, 3);
}

// A whole chunk staged for a log whose tail, which should be empty at a chunk boundary, holds a
// batch is refused, and nothing of it is stored.
TEST_P(LogStoreTest, AWholeStagedChunkIsRefusedWhenTheTailHoldsAStrayBatch) {
  std::vector<LogEntry> es = ManyHosts(4);
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(log_->Append(es).ok());  // leaves 0-3: one chunk of 4 (chunk bits 2)
  ASSERT_TRUE(conn_->Commit().ok());
  Exec(
      "INSERT INTO audit_tail (contract_id, log_kind, first_leaf, leaves, hash, min_time, "
      "max_time, data) SELECT contract_id, log_kind, 4, 1, root, 0, 0, root FROM audit_chunks");
  StagedEntries stage(TestKinds, Keys());
  stage.Start(4);
  for (LogEntry& e : es) stage.Add(e);
  ASSERT_TRUE(conn_->Begin().ok());
  const Status st = log_->Append(stage);
  ASSERT_TRUE(conn_->Rollback().ok());
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("expected none after leaf 4"), std::string::npos) << st.ToString();
  EXPECT_EQ(Rows("SELECT COUNT(*) FROM audit_chunks WHERE contract_id = $1", 7),
            std::vector<std::string>{"1|"});
}

TEST_P(LogStoreTest, SearchesByHostAndUserInLeafOrder) {
  Append(10);
  std::vector<std::uint64_t> leaves;
  LogQuery q;
  q.host = "web-01";
  ASSERT_TRUE(log_->Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           leaves.push_back(e.leaf);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(leaves, (std::vector<std::uint64_t>{0, 2, 4, 6, 8}));
  leaves.clear();
  q = {};
  q.user = "alice";
  q.from = At(1);
  ASSERT_TRUE(log_->Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           leaves.push_back(e.leaf);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(leaves, (std::vector<std::uint64_t>{3, 6, 9}));
}

// A chunk groups its entries by host (one block each): hosts of every length up to 20 bytes,
// and hosts that differ from another in one byte only, wherever that byte is, keep their own
// entries, in leaf order.
TEST_P(LogStoreTest, HostsThatDifferInOneByteKeepTheirOwnEntries) {
  std::vector<std::string> hosts;
  for (size_t n = 0; n <= 20; ++n) {
    const std::string base(n, 'h');
    hosts.push_back(base);
    for (size_t at = 0; at < n; ++at) {
      std::string other = base;
      other[at] = 'x';
      hosts.push_back(other);
    }
  }
  LogStore wide(*conn_, 8, LogKind::kAudit, 10, TestKinds, Keys());  // chunks of 1,024 entries
  std::vector<LogEntry> es(1024);
  std::map<std::string, std::vector<std::uint64_t>> want;
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].bytes = "record " + std::to_string(i);
    es[i].time = At(static_cast<int>(i));
    es[i].host = hosts[(i * 5) % hosts.size()];  // every host (5 is prime to their number)
    want[es[i].host].push_back(i);
  }
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(wide.Append(es).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  auto blocks = conn_->Prepare("SELECT COUNT(*) FROM audit_blocks WHERE contract_id = 8");
  ASSERT_TRUE(blocks.ok());
  ASSERT_TRUE(*(*blocks)->Step());
  EXPECT_EQ((*blocks)->ColumnInt(0), static_cast<std::int64_t>(want.size()));
  for (const auto& [host, leaves] : want) {
    LogQuery q;
    q.host = host;
    std::vector<std::uint64_t> got;
    ASSERT_TRUE(wide.Scan(q,
                          [&](StoredEntry&& e) -> Result<bool> {
                            EXPECT_EQ(e.host, host);
                            got.push_back(e.leaf);
                            return true;
                          })
                    .ok());
    EXPECT_EQ(got, leaves) << "host '" << host << "'";
  }
}

TEST_P(LogStoreTest, ATimeWindowFindsExactlyItsRecordsWhateverChunkTheyArrivedIn) {
  // 42 records, 4 to a chunk: record i happened at minute i, except record 21, which arrived
  // late and happened at minute 2 (its chunk, 5, spans minutes 2 to 23).
  std::vector<LogEntry> es;
  for (int i = 0; i < 42; ++i) {
    LogEntry e;
    e.bytes = "record " + std::to_string(i);
    e.time = At(i == 21 ? 2 : i);
    e.host = i % 2 == 0 ? "web-01" : "db-01";
    e.user = i % 3 == 0 ? "alice" : "";
    es.push_back(e);
  }
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(log_->Append(es).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  for (int from = 0; from <= 42; from += 3) {
    for (int to = from + 1; to <= 44; to += 5) {
      for (int filter = 0; filter < 3; ++filter) {
        LogQuery q;
        q.from = At(from);
        q.to = At(to);
        if (filter == 1) q.host = "web-01";
        if (filter == 2) q.user = "alice";
        std::vector<std::uint64_t> want, got;
        for (std::uint64_t i = 0; i < es.size(); ++i) {
          const LogEntry& e = es[i];
          if (e.time < *q.from || e.time >= *q.to) continue;
          if (q.host && e.host != *q.host) continue;
          if (q.user && e.user != *q.user) continue;
          want.push_back(i);
        }
        ASSERT_TRUE(log_->Scan(q,
                               [&](StoredEntry&& e) -> Result<bool> {
                                 got.push_back(e.leaf);
                                 return true;
                               })
                        .ok());
        EXPECT_EQ(got, want) << "minutes [" << from << ", " << to << "), filter " << filter;
      }
    }
  }
}

TEST_P(LogStoreTest, AFlippedByteInAChunkBlockNamesTheChunk) {
  Append(9);
  FlipBlob("audit_blocks", "data", "chunk_no = 1 AND host = X'64622d3031'", 20);
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("chunk 1 (leaves 4-7)"), std::string::npos) << p[0];
}

TEST_P(LogStoreTest, AChangedIndexRowNamesTheChunk) {
  Append(9);
  Exec(
      "UPDATE audit_blocks SET max_time = max_time + 1 WHERE chunk_no = 0 AND rowid = "
      "(SELECT MIN(rowid) FROM audit_blocks WHERE chunk_no = 0)");
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("chunk 0 (leaves 0-3)"), std::string::npos) << p[0];
}

TEST_P(LogStoreTest, AChangedPostingNamesTheChunk) {
  Append(9);
  FlipBlob("audit_postings", "user_key", "chunk_no = 1", 0);
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("chunk 1 (leaves 4-7)"), std::string::npos) << p[0];
}

TEST_P(LogStoreTest, AFlippedByteInATailBatchIsNamed) {
  Append(6);
  FlipBlob("audit_tail", "data", "1 = 1", 12);
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("tail batch (leaves 4-5)"), std::string::npos) << p[0];
}

TEST_P(LogStoreTest, BlocksAndTailBatchesWhoseBytesDisagreeWithTheirSha256AreNamed) {
  Append(6);
  // The stored bytes of db-01's block of chunk 0 stay as they are; their SHA-256 changes.
  FlipBlob("audit_blocks", "data_sha256", "chunk_no = 0 AND host = X'64622d3031'", 31);
  FlipBlob("audit_tail", "data_sha256", "1 = 1", 0);
  // The first problems first; a tail batch not read leaves the log's later checks without its
  // leaves (its size and root follow).
  auto p = Problems();
  ASSERT_GE(p.size(), 2u);
  EXPECT_EQ(p[0],
            "chunk 0 (leaves 0-3): block of host 'db-01': its stored bytes do not match their "
            "SHA-256 (data_sha256)");
  EXPECT_EQ(p[1],
            "tail batch (leaves 4-5): its stored bytes do not match their SHA-256 (data_sha256)");
  // An erasure does not rewrite such a block (its new bytes would get a SHA-256 of their own).
  const std::vector<std::uint64_t> leaf = {1};
  Result<std::vector<StoredEntry>> erased = log_->Erase(leaf);
  ASSERT_FALSE(erased.ok());
  EXPECT_NE(erased.status().message().find("data_sha256"), std::string::npos)
      << erased.status().ToString();
}

TEST_P(LogStoreTest, RowsWrittenBeforeRowsKeptTheirSha256AreCountedAndCheckedByTheirRecords) {
  Append(6);
  Exec(
      "UPDATE audit_blocks SET data_sha256 = NULL WHERE chunk_no = 0 AND host = X'776562"
      "2d3031'");
  Exec("UPDATE audit_tail SET data_sha256 = NULL");
  auto r = log_->Verify(signer_.Verifier());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->problems.empty());
  EXPECT_EQ(r->rows_without_digest, 2u) << "web-01's block of chunk 0 and the tail batch";
  FlipBlob("audit_tail", "data", "1 = 1", 12);
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("tail batch (leaves 4-5)"), std::string::npos) << p[0];
}

TEST_P(LogStoreTest, AChangedCheckpointIsDetected) {
  Append(5);
  auto st = conn_->Prepare("SELECT note FROM audit_checkpoints WHERE size = 5");
  ASSERT_TRUE(*(*st)->Step());
  std::string note = (*st)->ColumnText(0);
  st->reset();
  note[note.find('\n') + 1] = '6';
  auto up = conn_->Prepare("UPDATE audit_checkpoints SET note = $1 WHERE size = 5");
  (*up)->BindText(1, note);
  ASSERT_TRUE((*up)->Run().ok());
  auto p = Problems();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("checkpoint of size 5"), std::string::npos) << p[0];
}

// Issue requirement, taken literally: a change of any single byte of any stored row of the log —
// every byte of every blob and text, each integer changed in its lowest and in a high byte — is
// found by Verify. Chunks of 4 leaves, two hosts, users and addresses, so that every table holds
// rows: chunks, blocks, user and address postings, a tail batch, checkpoints, the tree state.
TEST_P(LogStoreTest, EverySingleChangedByteOfEveryStoredRowIsFound) {
  for (int batch = 0; batch < 3; ++batch) Append(3, /*addresses=*/true);
  ASSERT_TRUE(Problems().empty());
  struct Column {
    const char* table;
    const char* name;
    char type;  // 'b' blob, 't' text, 'i' integer
  };
  const std::vector<Column> columns = {
      {"audit_logs", "contract_id", 'i'},
      {"audit_logs", "log_kind", 'i'},
      {"audit_logs", "chunk_bits", 'i'},
      {"audit_logs", "size", 'i'},
      {"audit_logs", "tree", 'b'},
      {"audit_logs", "checkpoints", 'i'},
      {"audit_chunks", "contract_id", 'i'},
      {"audit_chunks", "log_kind", 'i'},
      {"audit_chunks", "chunk_no", 'i'},
      {"audit_chunks", "root", 'b'},
      {"audit_chunks", "records", 'i'},
      {"audit_chunks", "min_time", 'i'},
      {"audit_chunks", "max_time", 'i'},
      {"audit_blocks", "contract_id", 'i'},
      {"audit_blocks", "log_kind", 'i'},
      {"audit_blocks", "chunk_no", 'i'},
      {"audit_blocks", "host", 'b'},
      {"audit_blocks", "records", 'i'},
      {"audit_blocks", "min_time", 'i'},
      {"audit_blocks", "max_time", 'i'},
      {"audit_blocks", "data", 'b'},
      {"audit_blocks", "kinds", 'i'},
      {"audit_blocks", "data_sha256", 'b'},
      {"audit_postings", "contract_id", 'i'},
      {"audit_postings", "log_kind", 'i'},
      {"audit_postings", "user_key", 'b'},
      {"audit_postings", "chunk_no", 'i'},
      {"audit_postings", "host", 'b'},
      {"audit_ip_postings", "contract_id", 'i'},
      {"audit_ip_postings", "log_kind", 'i'},
      {"audit_ip_postings", "ip", 'b'},
      {"audit_ip_postings", "chunk_no", 'i'},
      {"audit_ip_postings", "host", 'b'},
      {"audit_tail", "contract_id", 'i'},
      {"audit_tail", "log_kind", 'i'},
      {"audit_tail", "first_leaf", 'i'},
      {"audit_tail", "leaves", 'i'},
      {"audit_tail", "hash", 'b'},
      {"audit_tail", "min_time", 'i'},
      {"audit_tail", "max_time", 'i'},
      {"audit_tail", "data", 'b'},
      {"audit_tail", "data_sha256", 'b'},
      {"audit_checkpoints", "contract_id", 'i'},
      {"audit_checkpoints", "log_kind", 'i'},
      {"audit_checkpoints", "size", 'i'},
      {"audit_checkpoints", "root", 'b'},
      {"audit_checkpoints", "note", 't'},
  };
  // Found: Verify reports a problem, or refuses the log outright (a row moved to another log
  // leaves this one without its state).
  // The keys each record of this test is appended under, from its content ("record N").
  const VerifyKeys keys = [](std::string_view content, std::int64_t time_ms,
                             std::string_view host, std::string_view user,
                             std::optional<std::string_view> ip) -> std::string {
    if (!content.starts_with("record ")) return "not a record of this test";
    const int n = std::stoi(std::string(content.substr(7)));
    const std::string want_ip = n % 2 == 0 ? "10.0.0." + std::to_string(n) : "";
    if (time_ms != std::chrono::duration_cast<std::chrono::milliseconds>(
                       At(n).time_since_epoch()).count() ||
        host != (n % 2 == 0 ? "web-01" : "db-01") || user != (n % 3 == 0 ? "alice" : "") ||
        !ip || *ip != want_ip) {
      return "keys of record " + std::to_string(n);
    }
    return "";
  };
  auto found = [&] {
    auto r = log_->Verify(signer_.Verifier(), {}, keys);
    return !r.ok() || !r->problems.empty();
  };
  std::vector<std::string> missed;
  std::size_t changes = 0, same_records = 0;
  for (const Column& c : columns) {
    std::vector<std::pair<std::int64_t, std::string>> rows;  // rowid, value (as bytes or text)
    std::vector<std::pair<std::int64_t, std::int64_t>> ints;
    {
      auto st = conn_->Prepare(std::string("SELECT rowid, ") + c.name + " FROM " + c.table);
      ASSERT_TRUE(st.ok()) << c.table << "." << c.name;
      while (*(*st)->Step()) {
        if (c.type == 'i') {
          ints.emplace_back((*st)->ColumnInt(0), (*st)->ColumnInt(1));
        } else {
          rows.emplace_back((*st)->ColumnInt(0), c.type == 'b' ? (*st)->ColumnBlob(1)
                                                                : (*st)->ColumnText(1));
        }
      }
    }
    ASSERT_FALSE(rows.empty() && ints.empty()) << c.table << " holds no row";
    const std::string update = std::string("UPDATE ") + c.table + " SET " + c.name +
                               " = $1 WHERE rowid = $2";
    // False when the store refuses the change (a key that another row has).
    auto set_value = [&](std::int64_t rowid, const std::string* bytes, std::int64_t n) {
      auto up = conn_->Prepare(update);
      EXPECT_TRUE(up.ok());
      if (!up.ok()) return false;
      if (bytes == nullptr) {
        (*up)->BindInt(1, n);
      } else if (c.type == 'b') {
        (*up)->BindBlob(1, *bytes);
      } else {
        (*up)->BindText(1, *bytes);
      }
      (*up)->BindInt(2, rowid);
      return (*up)->Run().ok();
    };
    for (const auto& [rowid, value] : rows) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        std::string changed = value;
        changed[i] = static_cast<char>(changed[i] ^ 0x01);
        if (!set_value(rowid, &changed, 0)) continue;
        ++changes;
        // Some bits of a zstd frame change nothing it decompresses to (a bit stream's padding):
        // only the row's SHA-256 of its bytes tells those changes.
        if (std::string_view(c.name) == "data") {
          Result<std::string> was = DecompressFrame(value, 1 << 20);
          Result<std::string> now = DecompressFrame(changed, 1 << 20);
          if (was.ok() && now.ok() && *was == *now) ++same_records;
        }
        if (!found()) {
          missed.push_back(std::string(c.table) + "." + c.name + " row " + std::to_string(rowid) +
                           " byte " + std::to_string(i));
        }
        ASSERT_TRUE(set_value(rowid, &value, 0));
      }
    }
    for (const auto& [rowid, value] : ints) {
      for (std::int64_t delta : {std::int64_t{1}, std::int64_t{1} << 40}) {
        if (!set_value(rowid, nullptr, value ^ delta)) continue;
        ++changes;
        if (!found()) {
          missed.push_back(std::string(c.table) + "." + c.name + " row " +
                           std::to_string(rowid) + " ^ " + std::to_string(delta));
        }
        ASSERT_TRUE(set_value(rowid, nullptr, value));
      }
    }
  }
  EXPECT_GT(changes, 1000u);
  EXPECT_GT(same_records, 0u) << "the test's log has bytes whose change no record shows";
  std::string all;
  for (const std::string& m : missed) all += "\n  " + m;
  EXPECT_TRUE(missed.empty()) << missed.size() << " of " << changes << " changes not found:"
                              << all;
  ASSERT_TRUE(Problems().empty()) << "every change was undone";
  EXPECT_FALSE(found()) << "the keys agree with the records";
}

// A log written before the state row counted checkpoints gets the count of the rows it has.
TEST(LogStoreMigration, TheCheckpointCountStartsFromTheRowsStored) {
  char tmpl[] = "/tmp/isms-logstore-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto c = store::Connection::Open("sqlite:" + dir + "/audit.db");
    ASSERT_TRUE(c.ok());
    store::Connection& conn = **c;
    const std::vector<store::Migration> before = {
        {1, "log", LogStore::SchemaSql(store::Engine::kSqlite), ""},
        {2, "addresses", LogStore::AddressSchemaSql(store::Engine::kSqlite), ""}};
    ASSERT_TRUE(store::Migrate(conn, before).ok());
    // A log's state row as an earlier isms wrote it (no checkpoints column), and two of its
    // checkpoints' rows.
    ASSERT_TRUE(conn.Execute("INSERT INTO audit_logs (contract_id, log_kind, size, tree, "
                             "chunk_bits) VALUES (7, 0, 1, X'', 2); "
                             "INSERT INTO audit_checkpoints VALUES (7, 0, 0, X'00', 0, 'a'); "
                             "INSERT INTO audit_checkpoints VALUES (7, 0, 1, X'00', 0, 'b')")
                    .ok());
    std::vector<store::Migration> after = before;
    after.push_back({3, "checkpoints", LogStore::CheckpointCountSql(), ""});
    ASSERT_TRUE(store::Migrate(conn, after).ok());
    auto st = conn.Prepare("SELECT checkpoints FROM audit_logs WHERE contract_id = 7");
    ASSERT_TRUE(st.ok() && *(*st)->Step());
    EXPECT_EQ((*st)->ColumnInt(0), 2);
  }
  std::filesystem::remove_all(dir);
}

TEST_P(LogStoreTest, ADeletedChunkIsDetected) {
  Append(9);
  Exec("DELETE FROM audit_blocks WHERE chunk_no = 0");
  Exec("DELETE FROM audit_chunks WHERE chunk_no = 0");
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p[0], "chunk 0 (leaves 0-3): missing");
}

TEST_P(LogStoreTest, ProofsStillVerifyAfterAPurge) {
  Append(3);
  Append(3);
  Append(5);
  Append(2);
  ASSERT_TRUE(conn_->Begin().ok());
  auto purged = log_->Purge(At(8), At(100));
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  ASSERT_TRUE(conn_->Commit().ok());
  EXPECT_EQ(purged->chunks, 2u);
  EXPECT_EQ(purged->records, 8u);
  EXPECT_TRUE(Problems().empty());

  for (std::uint64_t m : {3u, 6u, 11u}) {
    auto root_m = log_->RootAt(m);
    ASSERT_TRUE(root_m.ok()) << m << root_m.status().ToString();
    EXPECT_EQ(*root_m, *RootAt(m, mem_));
    auto proof = log_->ProveConsistency(m, 13);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    EXPECT_TRUE(VerifyConsistency(m, 13, *root_m, *RootAt(13, mem_), *proof).ok());
  }
  auto inc = log_->ProveInclusion(9, 11);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  EXPECT_TRUE(VerifyInclusion(inc->leaf_hash, 9, 11, inc->hashes, *RootAt(11, mem_)).ok());
  EXPECT_EQ(log_->ProveInclusion(1, 13).status().code(), StatusCode::kNotFound);

  int seen = 0;
  ASSERT_TRUE(log_->Scan({},
                         [&](StoredEntry&&) -> Result<bool> {
                           ++seen;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, 5);
}

// CheckpointSizes and PurgedChunks read what Verify reports of them.
TEST_P(LogStoreTest, CheckpointSizesAndPurgedChunksAreThoseVerifyReports) {
  Append(3);
  Append(3);
  Append(5);
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(log_->Purge(At(4), At(100)).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  auto rep = log_->Verify(signer_.Verifier());
  ASSERT_TRUE(rep.ok() && rep->problems.empty());
  ASSERT_EQ(rep->purged.size(), 1u);
  auto sizes = log_->CheckpointSizes();
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, (std::vector<std::uint64_t>{3, 6, 11}));
  EXPECT_EQ(*sizes, rep->checkpoint_sizes);
  auto purged = log_->PurgedChunks();
  ASSERT_TRUE(purged.ok());
  ASSERT_EQ(purged->size(), 1u);
  EXPECT_EQ((*purged)[0].start, 0u);
  EXPECT_EQ((*purged)[0].size, 4u);
  EXPECT_EQ((*purged)[0].start, rep->purged[0].start);
}

// The kinds stored with each block, as "host: kinds" in chunk and host order.
std::string BlockKinds(store::Connection& conn) {
  auto st = conn.Prepare("SELECT chunk_no, host, kinds FROM audit_blocks ORDER BY chunk_no, host");
  std::string out;
  while (*(*st)->Step()) {
    out += std::to_string((*st)->ColumnInt(0)) + " " + (*st)->ColumnBlob(1) + ": " +
           ((*st)->IsNull(2) ? "NULL" : std::to_string((*st)->ColumnInt(2))) + "; ";
  }
  return out;
}

// The leaves a scan by `q` returns, with `kinds`.
std::vector<std::uint64_t> LeavesOfKinds(LogStore& log, std::uint64_t kinds, LogQuery q = {}) {
  q.kinds = kinds;
  std::vector<std::uint64_t> leaves;
  EXPECT_TRUE(log.Scan(q,
                       [&](StoredEntry&& e) -> Result<bool> {
                         leaves.push_back(e.leaf);
                         return true;
                       })
                  .ok());
  return leaves;
}

// Each block stores the OR of its records' kinds; a scan for some kinds reads only the blocks
// that hold them (a damaged block of other kinds is not even read), then the whole tail.
TEST_P(LogStoreTest, BlocksKeepTheirRecordsKindsAndAScanForAKindReadsOnlyTheirBlocks) {
  Append(10);  // chunks 0 (leaves 0-3) and 1 (4-7), tail 8-9; web-01 even, db-01 odd
  // Record N is kind 1 << (N mod 3): web-01 0,2 -> 1|4; db-01 1,3 -> 2|1; web-01 4,6 -> 2|1;
  // db-01 5,7 -> 4|2.
  EXPECT_EQ(BlockKinds(*conn_), "0 db-01: 3; 0 web-01: 5; 1 db-01: 6; 1 web-01: 3; ");
  EXPECT_EQ(LeavesOfKinds(*log_, 4), (std::vector<std::uint64_t>{0, 2, 5, 7, 8, 9}))
      << "the blocks of 0 web-01 and 1 db-01, and the tail";
  EXPECT_EQ(LeavesOfKinds(*log_, 2 | 4).size(), 10u);
  // With a user, a host, or a host and the addresses it held, the same: blocks without kind 4
  // (0 db-01, 1 web-01) are passed over although they hold alice's 3 and 6.
  LogQuery alice;
  alice.user = "alice";
  EXPECT_EQ(LeavesOfKinds(*log_, 4, alice), (std::vector<std::uint64_t>{0, 9}));
  LogQuery db;
  db.host = "db-01";
  EXPECT_EQ(LeavesOfKinds(*log_, 4, db), (std::vector<std::uint64_t>{5, 7, 9}));
  alice.host = "web-01";
  EXPECT_EQ(LeavesOfKinds(*log_, 4, alice), (std::vector<std::uint64_t>{0}));
  Exec("UPDATE audit_blocks SET data = X'00' WHERE chunk_no = 0 AND host = CAST('db-01' AS BLOB)");
  EXPECT_EQ(LeavesOfKinds(*log_, 4), (std::vector<std::uint64_t>{0, 2, 5, 7, 8, 9}));
  LogQuery all;
  EXPECT_FALSE(log_->Scan(all, [](StoredEntry&&) -> Result<bool> { return true; }).ok())
      << "without kinds, the damaged block is read";
}

// A scan over many chunks (each decoded on a thread of its own while the chunk before goes to
// the caller) gives every entry once, in leaf order; stops where the caller says, however many
// chunks are still being read; and fails on a damaged chunk after the matches before it.
TEST_P(LogStoreTest, AScanOverManyChunksIsInLeafOrderStopsWhenToldAndFailsAtADamagedChunk) {
  for (int i = 0; i < 10; ++i) Append(5);  // 12 chunks of 4 and a tail of 2
  auto leaves = [&](std::size_t stop_after) {
    std::vector<std::uint64_t> got;
    Status s = log_->Scan({}, [&](StoredEntry&& e) -> Result<bool> {
      got.push_back(e.leaf);
      EXPECT_EQ(e.bytes, "record " + std::to_string(e.leaf));
      return got.size() < stop_after;
    });
    return std::pair(s, got);
  };
  auto [all, got] = leaves(1000);
  ASSERT_TRUE(all.ok()) << all.ToString();
  ASSERT_EQ(got.size(), 50u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], i);
  for (std::size_t stop : {1u, 4u, 5u, 23u}) {
    auto [s, some] = leaves(stop);
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(some.size(), stop);
  }
  Exec("UPDATE audit_blocks SET data = X'00' WHERE chunk_no = 7");
  auto [bad, before] = leaves(1000);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("chunk 7: run isms audit verify"), std::string::npos)
      << bad.ToString();
  EXPECT_EQ(before.size(), 28u) << "the chunks before it went to the caller";
}

// A tail batch far longer than the pieces a scan decompresses at a time, holding records longer
// than a piece, is scanned entry by entry: each match in leaf order, a stop when told, and a
// damaged batch named.
TEST_P(LogStoreTest, ATailBatchOfThousandsOfEntriesIsScannedAPieceAtATime) {
  LogStore big(*conn_, 8, LogKind::kAudit, 16, TestKinds, Keys());
  std::vector<LogEntry> es;
  for (int i = 0; i < 20000; ++i) {
    LogEntry e;
    e.bytes = "record " + std::to_string(i) + std::string(i % 1000 == 7 ? 300'000 : 40, 'x');
    e.time = At(i);
    e.host = "host-" + std::to_string(i % 50);
    e.user = i % 3 == 0 ? "alice" : "";
    es.push_back(e);
  }
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(big.Append(es).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  ASSERT_EQ(Rows("SELECT COUNT(*) FROM audit_tail WHERE contract_id = $1", 8),
            std::vector<std::string>{"1|"});
  auto scan = [&](const LogQuery& q, std::size_t stop_after) {
    std::vector<std::uint64_t> got;
    Status s = big.Scan(q, [&](StoredEntry&& e) -> Result<bool> {
      EXPECT_EQ(e.bytes, es[e.leaf].bytes);
      EXPECT_EQ(e.leaf_hash, LeafHash(e.bytes));
      got.push_back(e.leaf);
      return got.size() < stop_after;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return got;
  };
  LogQuery host;
  host.host = "host-7";
  std::vector<std::uint64_t> want;
  for (std::uint64_t i = 7; i < 20000; i += 50) want.push_back(i);  // 7, 1007, ... are long
  EXPECT_EQ(scan(host, 100000), want);
  EXPECT_EQ(scan(host, 5), std::vector<std::uint64_t>(want.begin(), want.begin() + 5));
  LogQuery alice_window;
  alice_window.user = "alice";
  alice_window.from = At(1000);
  alice_window.to = At(1010);
  EXPECT_EQ(scan(alice_window, 100000), (std::vector<std::uint64_t>{1002, 1005, 1008}));
  EXPECT_EQ(scan({}, 100000).size(), 20000u);
  // A scan begun while another is inside the same batch leaves the first one where it was.
  std::vector<std::uint64_t> outer, inner;
  ASSERT_TRUE(big.Scan(host,
                       [&](StoredEntry&& e) -> Result<bool> {
                         outer.push_back(e.leaf);
                         if (outer.size() == 3) {
                           LogQuery other;
                           other.host = "host-8";
                           inner = LeavesOfKinds(big, 0, other);
                         }
                         return true;
                       })
                  .ok());
  EXPECT_EQ(outer, want);
  EXPECT_EQ(inner.size(), 400u);

  Exec("UPDATE audit_tail SET data = substr(data, 1, length(data) - 100) WHERE contract_id = 8");
  std::size_t seen = 0;
  Status bad = big.Scan({}, [&](StoredEntry&&) -> Result<bool> {
    ++seen;
    return true;
  });
  EXPECT_EQ(bad.code(), StatusCode::kCorruption) << bad.ToString();
  EXPECT_NE(bad.message().find("tail batch at leaf 0"), std::string::npos) << bad.ToString();
  EXPECT_LT(seen, 20000u);
}

// A host's search that follows the addresses it held reads, of the blocks holding such an
// address, only those of the kinds asked for.
TEST_P(LogStoreTest, AScanForAKindFollowingAddressesReadsOnlyBlocksOfThatKind) {
  Append(10, /*addresses=*/true);  // web-01's records carry 10.0.0.N
  LogQuery q;
  q.host = "db-01";
  q.via.push_back({"10.0.0.2", At(0), At(100)});
  EXPECT_EQ(LeavesOfKinds(*log_, 4, q), (std::vector<std::uint64_t>{2, 5, 7, 9}));
  EXPECT_EQ(LeavesOfKinds(*log_, 2, q), (std::vector<std::uint64_t>{1, 3, 5, 7, 9}))
      << "the block of web-01 in chunk 0 holds no kind 2: 10.0.0.2's record is not read";
  EXPECT_EQ(LeavesOfKinds(*log_, 0, q), (std::vector<std::uint64_t>{1, 2, 3, 5, 7, 9}));
}

TEST_P(LogStoreTest, VerifyChecksEachBlocksKindsAndAcceptsBlocksWrittenWithoutThem) {
  Append(8);
  Exec("UPDATE audit_blocks SET kinds = 7 WHERE chunk_no = 1 AND host = CAST('db-01' AS BLOB)");
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p[0],
            "chunk 1 (leaves 4-7): the kinds stored for the block of host 'db-01' are not its "
            "records' kinds");
  // Blocks written before blocks kept kinds (NULL): nothing to check, and read by every scan.
  Exec("UPDATE audit_blocks SET kinds = NULL");
  EXPECT_TRUE(Problems().empty());
  EXPECT_EQ(LeavesOfKinds(*log_, 4).size(), 8u);
}

TEST_P(LogStoreTest, ALogWithoutKindsStoresNoneAndVerifyRefusesAnyStored) {
  LogStore ledger(*conn_, 7, LogKind::kLedger, 2);  // no EntryKinds
  AppendEvents(ledger, 5);
  EXPECT_EQ(BlockKinds(*conn_), "0 h: NULL; ");
  auto clean = ledger.Verify(signer_.Verifier());
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->problems.empty());
  Exec("UPDATE audit_blocks SET kinds = 0 WHERE log_kind = 1");
  auto rep = ledger.Verify(signer_.Verifier());
  ASSERT_TRUE(rep.ok());
  ASSERT_FALSE(rep->problems.empty());
  EXPECT_EQ(rep->problems[0],
            "chunk 0 (leaves 0-3): the block of host 'h' stores kinds of records, yet its log has "
            "none");
}

// A scan without leaf hashes gives the entries with content a zero hash (not computing them) and
// the erased ones their stored hash; with them (the default), every entry its leaf hash.
TEST_P(LogStoreTest, AScanWithoutLeafHashesLeavesThoseOfTheEntriesWithContentZero) {
  Append(6);  // chunk 0 (leaves 0-3) and a tail (4-5)
  ASSERT_TRUE(conn_->Begin().ok());
  const std::vector<std::uint64_t> leaves = {1, 5};
  ASSERT_TRUE(log_->Erase(leaves).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  for (const bool hashes : {true, false}) {
    LogQuery q;
    q.leaf_hashes = hashes;
    std::vector<StoredEntry> got;
    ASSERT_TRUE(log_->Scan(q,
                           [&](StoredEntry&& e) -> Result<bool> {
                             got.push_back(std::move(e));
                             return true;
                           })
                    .ok());
    ASSERT_EQ(got.size(), 6u);
    for (const StoredEntry& e : got) {
      const Hash want = e.erased || hashes ? LeafHash("record " + std::to_string(e.leaf)) : Hash{};
      EXPECT_EQ(e.leaf_hash, want) << "leaf " << e.leaf << (hashes ? " with" : " without");
    }
  }
}

// An erasure rewrites a block's kinds from the records that keep their content.
TEST_P(LogStoreTest, AnErasureRecomputesTheKindsOfTheBlocksItRewrites) {
  Append(8);
  ASSERT_TRUE(conn_->Begin().ok());
  const std::vector<std::uint64_t> leaves = {2, 5};  // web-01's kind 4 in chunk 0; db-01's in 1
  ASSERT_TRUE(log_->Erase(leaves).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  EXPECT_EQ(BlockKinds(*conn_), "0 db-01: 3; 0 web-01: 1; 1 db-01: 2; 1 web-01: 3; ");
  EXPECT_TRUE(Problems().empty());
  EXPECT_TRUE(LeavesOfKinds(*log_, 4).empty());
}

// Blocks written before blocks kept their kinds (NULL) are given the kinds an append (or an
// erasure) would have stored, a few chunks at a time, and verify checks them.
TEST_P(LogStoreTest, FillKindsStoresWhatAnAppendWouldHaveStoredForBlocksWithout) {
  Append(20);  // chunks 0-4, two hosts each
  ASSERT_TRUE(conn_->Begin().ok());
  const std::vector<std::uint64_t> erased = {9};  // db-01's record of kind 1 in chunk 2
  ASSERT_TRUE(log_->Erase(erased).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  const std::string stored = BlockKinds(*conn_);
  Exec("UPDATE audit_blocks SET kinds = NULL WHERE chunk_no BETWEEN 1 AND 3");
  EXPECT_EQ(*log_->BlocksWithoutKinds(), 6u);

  auto fill = log_->FillKinds(0, 2);
  ASSERT_TRUE(fill.ok()) << fill.status().ToString();
  EXPECT_EQ(fill->blocks, 4u);
  EXPECT_EQ(fill->chunks, 2u);
  ASSERT_TRUE(fill->next.has_value());
  EXPECT_EQ(*fill->next, 3u);
  EXPECT_EQ(*log_->BlocksWithoutKinds(), 2u);
  fill = log_->FillKinds(*fill->next, 2);
  ASSERT_TRUE(fill.ok());
  EXPECT_EQ(fill->blocks, 2u);
  EXPECT_EQ(fill->chunks, 1u);
  EXPECT_FALSE(fill->next.has_value());

  EXPECT_EQ(BlockKinds(*conn_), stored);
  EXPECT_EQ(*log_->BlocksWithoutKinds(), 0u);
  EXPECT_TRUE(Problems().empty());
  fill = log_->FillKinds(0, 2);  // nothing left
  ASSERT_TRUE(fill.ok());
  EXPECT_EQ(fill->blocks, 0u);
  EXPECT_FALSE(fill->next.has_value());
}

TEST_P(LogStoreTest, FillKindsNamesABlockThatDoesNotDecodeAndStoresNothingOfItsChunk) {
  Append(8);
  Exec("UPDATE audit_blocks SET kinds = NULL");
  Exec("UPDATE audit_blocks SET data = X'00010203' WHERE chunk_no = 1 AND host = X'7765622d3031'");
  auto fill = log_->FillKinds(0, 1);  // chunk 0 decodes
  ASSERT_TRUE(fill.ok()) << fill.status().ToString();
  EXPECT_EQ(fill->blocks, 2u);
  fill = log_->FillKinds(*fill->next, 1);
  ASSERT_FALSE(fill.ok());
  EXPECT_NE(fill.status().message().find("chunk 1, block of host 'web-01' (run isms audit verify)"),
            std::string::npos)
      << fill.status().ToString();
  EXPECT_EQ(*log_->BlocksWithoutKinds(), 2u);
}

TEST_P(LogStoreTest, FillKindsLeavesTheBlocksOfALogWithoutKindsAsTheyAre) {
  LogStore ledger(*conn_, 7, LogKind::kLedger, 2);  // no EntryKinds
  AppendEvents(ledger, 5);
  auto fill = ledger.FillKinds(0, 10);
  ASSERT_TRUE(fill.ok());
  EXPECT_EQ(fill->blocks, 0u);
  EXPECT_EQ(BlockKinds(*conn_), "0 h: NULL; ");
  auto rep = ledger.Verify(signer_.Verifier());
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->problems.empty()) << rep->problems.front();
}

TEST_P(LogStoreTest, ErasureDropsContentButKeepsRootsProofsAndVerification) {
  Append(6);  // chunk 0 (leaves 0-3) and a tail (4-5); alice at 0 and 3; db-01 at 1, 3, 5
  const Hash root = log_->State()->root;
  ASSERT_TRUE(conn_->Begin().ok());
  const std::vector<std::uint64_t> leaves = {3, 5};
  auto erased = log_->Erase(leaves);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  ASSERT_TRUE(conn_->Commit().ok());
  ASSERT_EQ(erased->size(), 2u);
  EXPECT_EQ((*erased)[0].leaf, 3u);
  EXPECT_EQ((*erased)[0].bytes, "record 3") << "the caller gets what was erased";
  EXPECT_EQ((*erased)[0].user, "alice");

  EXPECT_EQ(log_->State()->root, root);
  auto rep = log_->Verify(signer_.Verifier());
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->problems.empty()) << rep->problems[0];
  EXPECT_EQ(rep->erased, leaves);
  for (std::uint64_t i : {3u, 5u}) {
    auto inc = log_->ProveInclusion(i, 6);
    ASSERT_TRUE(inc.ok()) << inc.status().ToString();
    EXPECT_EQ(inc->leaf_hash, LeafHash("record " + std::to_string(i)));
    EXPECT_TRUE(VerifyInclusion(inc->leaf_hash, i, 6, inc->hashes, *RootAt(6, mem_)).ok());
  }

  std::vector<std::pair<std::uint64_t, bool>> seen;
  LogQuery q;
  q.host = "db-01";
  ASSERT_TRUE(log_->Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           EXPECT_EQ(e.erased, e.bytes.empty());
                           seen.emplace_back(e.leaf, e.erased);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, bool>>{{1, false}, {3, true}, {5, true}}));
  seen.clear();
  q = {};
  q.user = "alice";
  ASSERT_TRUE(log_->Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           seen.emplace_back(e.leaf, e.erased);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, bool>>{{0, false}}))
      << "an erased record no longer names its user, nor do the postings";

  ASSERT_TRUE(conn_->Begin().ok());
  auto again = log_->Erase(leaves);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  const std::vector<std::uint64_t> beyond = {6};
  EXPECT_EQ(log_->Erase(beyond).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(conn_->Rollback().ok());
}

TEST_P(LogStoreTest, ErasureRefusesAChunkThatDoesNotVerifyAndAPurgedOne) {
  Append(9);
  // The last byte of the block is content (small blocks are stored raw by zstd).
  auto len = conn_->Prepare(
      "SELECT length(data) FROM audit_blocks WHERE chunk_no = 1 AND host = X'64622d3031'");
  ASSERT_TRUE(len.ok() && *(*len)->Step());
  const auto size = static_cast<size_t>((*len)->ColumnInt(0));
  len->reset();
  FlipBlob("audit_blocks", "data", "chunk_no = 1 AND host = X'64622d3031'", size - 1);
  ASSERT_TRUE(conn_->Begin().ok());
  const std::vector<std::uint64_t> five = {5};
  auto r = log_->Erase(five);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("chunk 1 (leaves 4-7)"), std::string::npos);
  ASSERT_TRUE(log_->Purge(At(4), At(100)).ok());
  const std::vector<std::uint64_t> one = {1};
  EXPECT_EQ(log_->Erase(one).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(conn_->Rollback().ok());
}

TEST_P(LogStoreTest, AHostSearchFollowsAddressWindowsIntoOtherHostsBlocks) {
  // A proxy logs requests from two addresses; the laptop held 10.0.0.5 from minute 2 to 7.
  std::vector<LogEntry> es;
  for (int i = 0; i < 11; ++i) {
    LogEntry e;
    e.bytes = "request " + std::to_string(i);
    e.time = At(i);
    e.host = i == 4 ? "laptop" : "proxy";
    e.ip = i == 4 ? "" : (i % 2 == 0 ? "10.0.0.5" : "10.0.0.6");
    es.push_back(e);
  }
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(log_->Append(es).ok());
  ASSERT_TRUE(log_->WriteCheckpoint(signer_, "test/audit", At(0)).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  EXPECT_TRUE(Problems().empty());

  LogQuery q;
  q.host = "laptop";
  q.via = {{"10.0.0.5", At(2), At(7)}, {"10.0.0.6", At(9), At(20)}};
  std::vector<std::pair<std::uint64_t, int>> seen;
  ASSERT_TRUE(log_->Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           seen.emplace_back(e.leaf, e.via);
                           return true;
                         })
                  .ok());
  // 2 and 6 (chunks 0 and 1) by the first window, 4 sent by the laptop, 9 (the tail) by the
  // second; 8 is 10.0.0.5 after the lease ended, 0 before it began.
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, int>>{{2, 0}, {4, -1}, {6, 0}, {9, 1}}));

  FlipBlob("audit_ip_postings", "ip", "chunk_no = 1", 0);
  auto p = Problems();
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("chunk 1 (leaves 4-7): the address postings disagree"), std::string::npos)
      << p[0];
}

// The writer remembers the tail batches it wrote; one erased since must not come back with its
// content when its chunk completes.
TEST_P(LogStoreTest, AnEntryErasedInTheTailStaysErasedWhenItsChunkCompletes) {
  Append(6);  // chunk 0 (leaves 0-3) and a tail (4-5) this thread wrote
  ASSERT_TRUE(conn_->Begin().ok());
  const std::vector<std::uint64_t> leaves = {5};
  ASSERT_TRUE(log_->Erase(leaves).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  Append(2);  // completes chunk 1 (leaves 4-7)
  EXPECT_TRUE(Problems().empty());
  std::vector<std::pair<std::uint64_t, bool>> seen;
  LogQuery q;
  q.host = "db-01";
  ASSERT_TRUE(log_->Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           EXPECT_EQ(e.erased, e.bytes.empty());
                           seen.emplace_back(e.leaf, e.erased);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::uint64_t, bool>>{
                      {1, false}, {3, false}, {5, true}, {7, false}}));
}

TEST_P(LogStoreTest, ACachedTailGivesTheChunksThatTheStoredTailGives) {
  // Chunks of 4 leaves; batches of 3 cross a boundary every other time.
  TailHashes tail;
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<LogEntry> es;
    for (int i = 0; i < 3; ++i, ++next_) {
      LogEntry e;
      e.bytes = "record " + std::to_string(next_);
      e.time = At(next_);
      e.host = next_ % 2 == 0 ? "web-01" : "db-01";
      es.push_back(e);
      mem_.Append(LeafHash(e.bytes));
    }
    if (batch == 3) tail.first += 1;  // a cache that does not fit the log is ignored
    ASSERT_TRUE(conn_->Begin().ok());
    ASSERT_TRUE(log_->Append(es, &tail).ok());
    ASSERT_TRUE(conn_->Commit().ok());
    EXPECT_TRUE(es[0].hashed);
    EXPECT_EQ(es[0].bytes, "record " + std::to_string(next_ - 3)) << "the entries stay";
  }
  EXPECT_TRUE(tail.valid);
  EXPECT_EQ(tail.first, 16u);
  EXPECT_EQ(tail.hashes.size(), 2u);
  EXPECT_EQ(log_->State()->root, *RootAt(18, mem_));
  ASSERT_TRUE(conn_->Begin().ok());
  ASSERT_TRUE(log_->WriteCheckpoint(signer_, "test/audit", At(0)).ok());
  ASSERT_TRUE(conn_->Commit().ok());
  EXPECT_TRUE(Problems().empty());
}

// The same entries in a log that reads keys from content (contract 7) and one that does not
// (contract 8): every search gives the same entries with the same keys, and the blocks that
// hold entries without their keys are smaller before compression (by the bytes of the keys) and
// after.
TEST_P(LogStoreTest, EntriesWhoseKeysAreTheirContentsAreStoredWithoutThem) {
  if (!GetParam()) GTEST_SKIP() << "compares the two kinds of log";
  LogStore with(*conn_, 7, LogKind::kAudit, 8, TestKinds, TestKeysOf);
  LogStore without(*conn_, 8, LogKind::kAudit, 8, TestKinds);
  std::vector<LogEntry> es = ManyHosts(700);  // two chunks of 256 and a tail
  std::size_t keyed = 0;
  for (const LogEntry& e : es) {
    ContentKeys k;
    if (TestKeysOf(e.bytes, &k) && k.user == e.user) ++keyed;
  }
  ASSERT_GT(keyed, 600u);
  ASSERT_LT(keyed, 700u) << "some entries' content gives other keys than theirs";
  ASSERT_TRUE(conn_->Begin().ok());
  for (LogStore* log : {&with, &without}) {
    ASSERT_TRUE(log->Append(es).ok());
    ASSERT_TRUE(log->WriteCheckpoint(signer_, "test/audit", At(0)).ok());
  }
  ASSERT_TRUE(conn_->Commit().ok());
  const auto all = [&](LogStore& log, const LogQuery& q) {
    std::vector<std::string> out;
    EXPECT_TRUE(log.Scan(q,
                         [&](StoredEntry&& e) -> Result<bool> {
                           out.push_back(std::to_string(e.leaf) + " " +
                                         std::to_string(e.time.time_since_epoch().count()) + " " +
                                         e.host + " " + e.user + " " + e.ip + " " + e.bytes);
                           return true;
                         })
                    .ok());
    return out;
  };
  std::vector<LogQuery> queries(5);
  queries[1].host = "host-3";
  queries[2].user = "user-4";
  queries[3].user = "someone else";  // the content's user of some: not their key
  queries[4].host = "host-9";
  queries[4].via.push_back({"10.0.1.4", At(0), At(700)});
  for (const LogQuery& q : queries) {
    const std::vector<std::string> a = all(with, q), b = all(without, q);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.empty(), &q == &queries[3]);
  }
  // Bytes of blocks, before and after compression.
  const auto bytes = [&](std::int64_t contract) {
    std::pair<std::size_t, std::size_t> n{0, 0};
    for (const std::string& row :
         Rows("SELECT data FROM audit_blocks WHERE contract_id = $1", contract)) {
      const std::string data = row.substr(0, row.size() - 1);
      n.first += DecompressFrame(data, std::size_t{1} << 30).value().size();
      n.second += data.size();
    }
    return n;
  };
  const auto [raw_with, stored_with] = bytes(7);
  const auto [raw_without, stored_without] = bytes(8);
  std::size_t keys_bytes = 0;  // of the entries of the two chunks stored without keys
  for (std::size_t i = 0; i < 512; ++i) {
    ContentKeys k;
    if (TestKeysOf(es[i].bytes, &k) && k.user == es[i].user) {
      keys_bytes += 8 + 4 + es[i].host.size() + 4 + es[i].user.size() + 4 + es[i].ip.size();
    }
  }
  EXPECT_EQ(raw_without - raw_with, keys_bytes);
  EXPECT_LT(stored_with, stored_without);
  for (LogStore* log : {&with, &without}) {
    auto r = log->Verify(signer_.Verifier());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->problems.empty()) << r->problems.front();
  }
  // An erasure keeps an entry's keys (time and host) wherever they were.
  for (LogStore* log : {&with, &without}) {
    ASSERT_TRUE(conn_->Begin().ok());
    auto erased = log->Erase(std::vector<std::uint64_t>{5, 10, 600});
    ASSERT_TRUE(erased.ok()) << erased.status().ToString();
    ASSERT_TRUE(conn_->Commit().ok());
    auto r = log->Verify(signer_.Verifier());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->problems.empty()) << r->problems.front();
    EXPECT_EQ(r->erased, (std::vector<std::uint64_t>{5, 10, 600}));
  }
  for (const LogQuery& q : queries) EXPECT_EQ(all(with, q), all(without, q));
}

// A log whose entries are stored without their keys, read by a store that cannot read keys from
// content (an owner that gives none): the blocks and tail batches holding them are corrupt to it,
// and say why; nothing is taken for an entry with no keys.
TEST_P(LogStoreTest, EntriesStoredWithoutKeysAreNotReadWithoutTheOwnersKeys) {
  if (!GetParam()) GTEST_SKIP() << "needs entries stored without their keys";
  Append(11);  // two chunks of 4 and a tail of 3
  LogStore blind(*conn_, 7, LogKind::kAudit, 2, TestKinds);
  auto r = blind.Verify(signer_.Verifier());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->problems.empty());
  EXPECT_NE(r->problems.front().find("stored without its keys"), std::string::npos)
      << r->problems.front();
  LogQuery q;
  q.host = "web-01";
  Status scan = blind.Scan(q, [](StoredEntry&&) -> Result<bool> { return true; });
  EXPECT_FALSE(scan.ok());
  EXPECT_NE(scan.message().find("stored without its keys"), std::string::npos) << scan.message();
  EXPECT_TRUE(Problems().empty()) << "its own store reads it";
}

INSTANTIATE_TEST_SUITE_P(Keys, LogStoreTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "KeysFromContent" : "KeysStored";
                         });

}  // namespace
}  // namespace isms::audit
