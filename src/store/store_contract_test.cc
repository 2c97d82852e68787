// The storage contract: one suite, written once, run against every engine.
//
// SQLite always runs, on a fresh file per test. PostgreSQL runs when ISMS_TEST_POSTGRES_URL is set
// (scripts/with-pg.sh starts a throwaway cluster and sets it); each test gets a fresh schema,
// created through that URL and dropped afterwards, and connects with search_path set to it. With
// ISMS_REQUIRE_POSTGRES=1 (CI) a missing or unreachable server fails the suite instead of
// skipping it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_test_util.h"

namespace isms::store {
namespace {

using namespace std::string_literals;
using ::isms::store::testing::TempDir;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}
bool PostgresRequired() {
  const char* v = Env("ISMS_REQUIRE_POSTGRES");
  return v != nullptr && std::string_view(v) == "1";
}

std::vector<std::string> EnginesUnderTest() {
  std::vector<std::string> engines = {"sqlite"};
  if (Env("ISMS_TEST_POSTGRES_URL") != nullptr || PostgresRequired())
    engines.push_back("postgresql");
  return engines;
}

std::string MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "isms-store-XXXXXX").string();
  char* dir = ::mkdtemp(pattern.data());
  return dir != nullptr ? std::string(dir) : std::string();
}


// Text that trips up escaping: COPY's specials, a literal \N, empty vs NULL, UTF-8.
const std::vector<std::optional<std::string>>& AwkwardTexts() {
  static const std::vector<std::optional<std::string>> texts = {
      "plain",
      "tab\there",
      "new\nline",
      "carriage\rreturn",
      "back\\slash",
      "\\N",
      "\\",
      "\\\\N\t\\n",
      "",
      std::nullopt,
      "£ € 日本語 🙂",
      "trailing\n",
      "'quotes' \"double\" ;",
      "\\.",
      " leading and trailing spaces ",
  };
  return texts;
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = MakeTempDir();
      ASSERT_FALSE(dir_.empty());
      url_ = "sqlite:" + dir_ + "/store.db";
    } else {
      const char* base = Env("ISMS_TEST_POSTGRES_URL");
      ASSERT_NE(base, nullptr) << "ISMS_REQUIRE_POSTGRES=1 but ISMS_TEST_POSTGRES_URL is not set: "
                                  "run the tests through scripts/with-pg.sh";
      auto admin = Connection::Open(base);
      ASSERT_TRUE(admin.ok()) << "PostgreSQL for the contract tests is unreachable: "
                              << admin.status().ToString();
      admin_ = std::move(*admin);
      static int counter = 0;
      schema_ = "isms_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
      ASSERT_TRUE(
          admin_->Execute("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_)
              .ok());
      std::string b(base);
      url_ =
          b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
    }
    auto c = Connection::Open(url_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
  }

  void TearDown() override {
    conn_.reset();
    if (admin_) {
      EXPECT_TRUE(admin_->Execute("DROP SCHEMA " + schema_ + " CASCADE").ok());
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool Pg() const { return GetParam() == "postgresql"; }
  std::string BlobType() const { return Pg() ? "BYTEA" : "BLOB"; }
  Connection& c() { return *conn_; }

  std::unique_ptr<Statement> Prep(std::string_view sql) {
    auto s = c().Prepare(sql);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::int64_t Count(std::string_view table) {
    auto s = Prep("SELECT count(*) FROM "s + std::string(table));
    if (!s) return -1;
    auto row = s->Step();
    EXPECT_TRUE(row.ok() && *row) << row.status().ToString();
    return row.ok() && *row ? s->ColumnInt(0) : -1;
  }
  void Insert(std::int64_t id) {
    auto s = Prep("INSERT INTO t (id) VALUES ($1)");
    s->BindInt(1, id);
    ASSERT_TRUE(s->Run().ok());
  }
  void MakeTable() {
    ASSERT_TRUE(c().Execute("CREATE TABLE t (id BIGINT PRIMARY KEY, s TEXT)").ok());
  }

  std::string dir_;
  std::string url_;
  std::string schema_;
  std::unique_ptr<Connection> admin_;
  std::unique_ptr<Connection> conn_;
};

TEST_P(StoreContractTest, OpensReportsItsEngineAndCloses) {
  EXPECT_EQ(EngineName(c().engine()), GetParam());
  EXPECT_EQ(c().DisplayUrl(), url_);
  MakeTable();
  Insert(7);
  conn_.reset();
  auto again = Connection::Open(url_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  conn_ = std::move(*again);
  EXPECT_EQ(Count("t"), 1);
}

TEST_P(StoreContractTest, ExecuteRunsSeveralStatements) {
  ASSERT_TRUE(c().Execute("CREATE TABLE a (x BIGINT); INSERT INTO a VALUES (1); "
                          "INSERT INTO a VALUES (2);")
                  .ok());
  EXPECT_EQ(Count("a"), 2);
}

TEST_P(StoreContractTest, RoundTripsEveryValueType) {
  ASSERT_TRUE(c().Execute("CREATE TABLE v (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                          "s TEXT, b " +
                          BlobType() + ")")
                  .ok());
  struct Row {
    std::optional<std::int64_t> i;
    std::optional<double> d;
    std::optional<std::string> s;
    std::optional<std::string> b;
  };
  const std::vector<Row> rows = {
      {std::numeric_limits<std::int64_t>::min(), -1e308, "tab\tnew\nline\\back", "\0\x01\xff\0"s},
      {std::numeric_limits<std::int64_t>::max(), 0.1, "£ € 日本語 🙂", ""s},
      {0, 5e-324, "", "\\x00\\N"s},
      {-1, std::numeric_limits<double>::infinity(), "\\N", "\n\t\r\\"s},
      {42, -std::numeric_limits<double>::infinity(), "x", std::string(1000, '\0')},
      {std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {1, 1.0 / 3.0, "carriage\rreturn", "\x80\x81\xfe"s},
  };
  auto insert = Prep("INSERT INTO v (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)");
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Row& r = rows[k];
    insert->BindInt(1, static_cast<std::int64_t>(k));
    insert->BindOptionalInt(2, r.i);
    r.d ? insert->BindDouble(3, *r.d) : insert->BindNull(3);
    insert->BindOptionalText(4, r.s);
    r.b ? insert->BindBlob(5, *r.b) : insert->BindNull(5);
    ASSERT_TRUE(insert->Run().ok()) << k;
    EXPECT_EQ(insert->ChangedRows(), 1);
  }
  auto select = Prep("SELECT i, d, s, b FROM v ORDER BY id");
  for (std::size_t k = 0; k < rows.size(); ++k) {
    auto row = select->Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
    const Row& r = rows[k];
    EXPECT_EQ(select->ColumnOptionalInt(0), r.i) << k;
    EXPECT_EQ(select->IsNull(1), !r.d) << k;
    if (r.d) {
      EXPECT_EQ(select->ColumnDouble(1), *r.d) << k;
    }
    EXPECT_EQ(select->ColumnOptionalText(2), r.s) << k;
    EXPECT_EQ(select->IsNull(3), !r.b) << k;
    if (r.b) {
      EXPECT_EQ(select->ColumnBlob(3), *r.b) << k;
    }
  }
  auto end = select->Step();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  EXPECT_FALSE(*select->Step());
}

TEST_P(StoreContractTest, NullReadsAsZeroAndEmpty) {
  auto s = Prep("SELECT NULL, NULL, NULL");
  ASSERT_TRUE(*s->Step());
  EXPECT_TRUE(s->IsNull(0));
  EXPECT_EQ(s->ColumnInt(0), 0);
  EXPECT_EQ(s->ColumnDouble(1), 0.0);
  EXPECT_EQ(s->ColumnText(2), "");
  EXPECT_EQ(s->ColumnOptionalText(2), std::nullopt);
}

TEST_P(StoreContractTest, ColumnViewGivesEachRowsTextUntilTheNextStep) {
  ASSERT_TRUE(c().Execute("CREATE TABLE v (k BIGINT, t TEXT)").ok());
  auto insert = Prep("INSERT INTO v (k, t) VALUES ($1, $2)");
  const std::vector<std::optional<std::string>> texts = {"caf\xC3\xA9 \"quoted\"", "", std::nullopt,
                                                         std::string(5000, 'x')};
  for (size_t k = 0; k < texts.size(); ++k) {
    insert->BindInt(1, static_cast<std::int64_t>(k));
    insert->BindOptionalText(2, texts[k]);
    ASSERT_TRUE(insert->Run().ok());
  }
  auto select = Prep("SELECT t, k FROM v ORDER BY k");
  for (size_t k = 0; k < texts.size(); ++k) {
    auto row = select->Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
    EXPECT_EQ(select->ColumnView(0), texts[k].value_or("")) << k;
    EXPECT_EQ(select->ColumnView(0), select->ColumnText(0)) << k;
    EXPECT_EQ(select->ColumnView(1), std::to_string(k)) << "a number reads as its text";
  }
  EXPECT_FALSE(*select->Step());
  EXPECT_EQ(select->ColumnView(0), "") << "no row: empty";
}

TEST_P(StoreContractTest, PlaceholdersRepeatAndComeInAnyOrder) {
  ASSERT_TRUE(c().Execute("CREATE TABLE p (a BIGINT, b TEXT, c BIGINT)").ok());
  auto insert = Prep("INSERT INTO p (a, b, c) VALUES ($2, $1, $2)");
  insert->BindText(1, "one");
  insert->BindInt(2, 20);
  ASSERT_TRUE(insert->Run().ok());
  auto select = Prep("SELECT a, b, c FROM p WHERE a = $1 AND c = $1");
  select->BindInt(1, 20);
  auto row = select->Step();
  ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
  EXPECT_EQ(select->ColumnInt(0), 20);
  EXPECT_EQ(select->ColumnText(1), "one");
  EXPECT_EQ(select->ColumnInt(2), 20);
}

TEST_P(StoreContractTest, UnboundParameterIsNullAndUnknownOneIsRefused) {
  ASSERT_TRUE(c().Execute("CREATE TABLE p (a BIGINT, b TEXT)").ok());
  auto insert = Prep("INSERT INTO p (a, b) VALUES ($1, $2)");
  insert->BindInt(1, 5);
  ASSERT_TRUE(insert->Run().ok());
  auto s = Prep("SELECT b FROM p WHERE a = 5");
  ASSERT_TRUE(*s->Step());
  EXPECT_TRUE(s->IsNull(0));

  insert->BindInt(3, 1);
  Status st = insert->Run();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("$3"), std::string::npos) << st.message();

  for (int index : {0, -1}) {
    auto again = Prep("INSERT INTO p (a, b) VALUES ($1, $2)");
    again->BindInt(1, 6);
    again->BindInt(index, 1);
    st = again->Run();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << index << ": " << st.ToString();
  }
  // Past the highest parameter number PostgreSQL takes, refused by both.
  EXPECT_FALSE(c().Prepare("SELECT $70000").ok());
}

TEST_P(StoreContractTest, OtherPlaceholderSyntaxIsRefused) {
  MakeTable();
  for (const char* sql : {"SELECT ?", "SELECT :name", "SELECT @name"}) {
    Status s = c().Prepare(sql).status();
    EXPECT_FALSE(s.ok()) << sql;
    if (!Pg()) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << sql;
    }
  }
  Insert(1);
}

TEST_P(StoreContractTest, TextThatNeitherEngineStoresAlikeIsRefused) {
  MakeTable();
  auto insert = Prep("INSERT INTO t (id, s) VALUES ($1, $2)");
  insert->BindInt(1, 1);
  insert->BindText(2, "nul\0inside"s);
  EXPECT_EQ(insert->Run().code(), StatusCode::kInvalidArgument);
  insert->BindText(2, "bad \xff utf-8");
  EXPECT_EQ(insert->Run().code(), StatusCode::kInvalidArgument);
  insert->BindText(2, "fine");
  EXPECT_TRUE(insert->Run().ok());
}

TEST_P(StoreContractTest, StatementIsReusedWithNewBindings) {
  MakeTable();
  auto insert = Prep("INSERT INTO t (id, s) VALUES ($1, $2)");
  insert->BindText(2, "kept");
  for (int id = 1; id <= 3; ++id) {
    insert->BindInt(1, id);
    ASSERT_TRUE(insert->Run().ok());
    EXPECT_EQ(insert->ChangedRows(), 1);
  }
  auto select_all = Prep("SELECT id FROM t");
  ASSERT_TRUE(select_all->Run().ok());
  EXPECT_EQ(select_all->ChangedRows(), 0);
  auto ddl = Prep("CREATE TABLE other (x BIGINT)");
  ASSERT_TRUE(ddl->Run().ok());
  EXPECT_EQ(ddl->ChangedRows(), 0);
  auto none = Prep("DELETE FROM t WHERE id > 100");
  ASSERT_TRUE(none->Run().ok());
  EXPECT_EQ(none->ChangedRows(), 0);

  auto update = Prep("UPDATE t SET s = $1 WHERE id >= $2");
  update->BindText(1, "changed");
  update->BindInt(2, 2);
  ASSERT_TRUE(update->Run().ok());
  EXPECT_EQ(update->ChangedRows(), 2);

  auto select = Prep("SELECT s FROM t WHERE id = $1");
  select->BindInt(1, 1);
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->ColumnText(0), "kept");
  select->BindInt(1, 3);
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->ColumnText(0), "changed");
  select->Reset();
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->ColumnText(0), "changed");
}

TEST_P(StoreContractTest, StatementsInterleaveWhileAQueryIsOpen) {
  MakeTable();
  ASSERT_TRUE(c().Execute("CREATE TABLE copy (id BIGINT)").ok());
  for (int i = 0; i < 50; ++i) Insert(i);
  auto select = Prep("SELECT id FROM t ORDER BY id");
  auto insert = Prep("INSERT INTO copy (id) VALUES ($1)");
  std::int64_t expected = 0;
  for (;;) {
    auto row = select->Step();
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    if (!*row) break;
    EXPECT_EQ(select->ColumnInt(0), expected++);
    insert->BindInt(1, select->ColumnInt(0));
    ASSERT_TRUE(insert->Run().ok());
  }
  EXPECT_EQ(expected, 50);
  EXPECT_EQ(Count("copy"), 50);
}

TEST_P(StoreContractTest, TransactionRollsBackOnDestruction) {
  MakeTable();
  {
    Transaction tx(c());
    ASSERT_TRUE(tx.Begin().ok());
    EXPECT_TRUE(c().InTransaction());
    Insert(1);
  }
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("t"), 0);
}

TEST_P(StoreContractTest, TransactionCommits) {
  MakeTable();
  {
    Transaction tx(c());
    ASSERT_TRUE(tx.Begin().ok());
    Insert(1);
    Insert(2);
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("t"), 2);
}

TEST_P(StoreContractTest, LargeTransactionCommitsAndRollsBackLikeAnother) {
  MakeTable();
  {
    Transaction tx(c());
    ASSERT_TRUE(tx.BeginLarge().ok());
    EXPECT_TRUE(c().InTransaction());
    EXPECT_EQ(c().BeginLarge().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(c().Execute("INSERT INTO t (id, s) VALUES (1, 'kept')").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  {
    Transaction tx(c());
    ASSERT_TRUE(tx.BeginLarge().ok());
    Insert(2);
  }  // rolled back
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("t"), 1);
  // The connection goes on as before, in transactions of either kind.
  ASSERT_TRUE(c().Begin().ok());
  Insert(3);
  ASSERT_TRUE(c().Commit().ok());
  ASSERT_TRUE(c().BeginLarge().ok());
  Insert(4);
  ASSERT_TRUE(c().Rollback().ok());
  EXPECT_EQ(Count("t"), 2);
}

TEST_P(StoreContractTest, NestedBeginIsRefused) {
  ASSERT_TRUE(c().Begin().ok());
  Status nested = c().Begin();
  EXPECT_EQ(nested.code(), StatusCode::kFailedPrecondition) << nested.ToString();
  EXPECT_TRUE(c().InTransaction());
  EXPECT_TRUE(c().Rollback().ok());
  EXPECT_EQ(c().Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c().Rollback().code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, UniqueViolationIsAlreadyExistsAndNamesTheStore) {
  MakeTable();
  Insert(1);
  auto insert = Prep("INSERT INTO t (id) VALUES ($1)");
  insert->BindInt(1, 1);
  Status s = insert->Run();
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find(GetParam() + " store "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(c().DisplayUrl()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("INSERT INTO t (id) VALUES ($1)"), std::string::npos) << s.message();

  Status e = c().Execute("INSERT INTO t (id) VALUES (1)");
  EXPECT_EQ(e.code(), StatusCode::kAlreadyExists) << e.ToString();
}

TEST_P(StoreContractTest, FailedStatementLeavesConnectionUsable) {
  MakeTable();
  EXPECT_FALSE(c().Execute("SELEC nonsense").ok());
  EXPECT_FALSE(c().Prepare("SELECT * FROM no_such_table").ok());
  Insert(1);
  auto dup = Prep("INSERT INTO t (id) VALUES (1)");
  EXPECT_FALSE(dup->Run().ok());
  Insert(2);
  EXPECT_EQ(Count("t"), 2);

  ASSERT_TRUE(c().Begin().ok());
  EXPECT_EQ(dup->Run().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(c().Rollback().ok());
  Insert(3);
  EXPECT_EQ(Count("t"), 3);
}

TEST_P(StoreContractTest, CommitAfterAFailedStatementNeverKeepsHalfATransaction) {
  MakeTable();
  ASSERT_TRUE(c().Begin().ok());
  Insert(1);
  auto dup = Prep("INSERT INTO t (id) VALUES (1)");
  EXPECT_FALSE(dup->Run().ok());
  Status commit = c().Commit();
  EXPECT_FALSE(c().InTransaction());
  // PostgreSQL aborts the whole transaction; SQLite keeps the statements that succeeded.
  EXPECT_EQ(Count("t"), commit.ok() ? 1 : 0) << commit.ToString();
  if (Pg()) {
    EXPECT_EQ(commit.code(), StatusCode::kFailedPrecondition);
  }
}

TEST_P(StoreContractTest, LongSqlIsShortenedInErrors) {
  std::string sql = "SELECT * FROM missing_table WHERE " + std::string(500, 'x') + " = 1";
  Status s = c().Prepare(sql).status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("SELECT * FROM missing_table"), std::string::npos) << s.message();
  EXPECT_LT(s.message().size(), 400u) << s.message();
}

void WriteAwkwardRows(BulkWriter& w, int n) {
  const auto& texts = AwkwardTexts();
  for (int i = 0; i < n; ++i) {
    w.AddInt(i);
    const auto& t = texts[i % texts.size()];
    t ? w.AddText(*t) : w.AddNull();
    w.AddInt(static_cast<std::int64_t>(i) * -7919 +
             (i % 3 == 0 ? std::numeric_limits<std::int64_t>::min() / 2 : 0));
    w.AddDouble(i / 7.0);
    if (i % 5 == 0) {
      w.AddNull();
    } else {
      w.AddBlob(std::string("\0\t\n\\"s) + std::to_string(i));
    }
    ASSERT_TRUE(w.EndRow().ok()) << i;
  }
}

void CheckAwkwardRows(Statement& s, int n) {
  const auto& texts = AwkwardTexts();
  int i = 0;
  for (;; ++i) {
    auto row = s.Step();
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    if (!*row) break;
    ASSERT_EQ(s.ColumnInt(0), i);
    ASSERT_EQ(s.ColumnOptionalText(1), texts[i % texts.size()]) << i;
    ASSERT_EQ(s.ColumnInt(2), static_cast<std::int64_t>(i) * -7919 +
                                  (i % 3 == 0 ? std::numeric_limits<std::int64_t>::min() / 2 : 0));
    ASSERT_EQ(s.ColumnDouble(3), i / 7.0);
    ASSERT_EQ(s.IsNull(4), i % 5 == 0) << i;
    if (i % 5 != 0) {
      ASSERT_EQ(s.ColumnBlob(4), std::string("\0\t\n\\"s) + std::to_string(i));
    }
  }
  EXPECT_EQ(i, n);
}

TEST_P(StoreContractTest, BulkWriterWritesManyAwkwardRowsExactly) {
  ASSERT_TRUE(c().Execute("CREATE TABLE bulk (id BIGINT PRIMARY KEY, s TEXT, n BIGINT, "
                          "d DOUBLE PRECISION, b " +
                          BlobType() + ")")
                  .ok());
  constexpr int kRows = 100000;
  {
    Transaction tx(c());
    ASSERT_TRUE(tx.Begin().ok());
    auto w = c().BulkInsert("bulk", {"id", "s", "n", "d", "b"});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    WriteAwkwardRows(**w, kRows);
    Status f = (*w)->Finish();
    ASSERT_TRUE(f.ok()) << f.ToString();
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(Count("bulk"), kRows);
  auto select = Prep("SELECT id, s, n, d, b FROM bulk ORDER BY id");
  CheckAwkwardRows(*select, kRows);
}

TEST_P(StoreContractTest, BulkWriterWorksOutsideATransaction) {
  ASSERT_TRUE(c().Execute("CREATE TABLE bulk (id BIGINT PRIMARY KEY, s TEXT, n BIGINT, "
                          "d DOUBLE PRECISION, b " +
                          BlobType() + ")")
                  .ok());
  auto w = c().BulkInsert("bulk", {"id", "s", "n", "d", "b"});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  WriteAwkwardRows(**w, 100);
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_FALSE(c().InTransaction());
  auto select = Prep("SELECT id, s, n, d, b FROM bulk ORDER BY id");
  CheckAwkwardRows(*select, 100);
}

TEST_P(StoreContractTest, BulkWriterDiscardedWithoutFinishWritesNothing) {
  MakeTable();
  {
    auto w = c().BulkInsert("t", {"id", "s"});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 5000; ++i) {
      (*w)->AddInt(i);
      (*w)->AddText("x");
      ASSERT_TRUE((*w)->EndRow().ok());
    }
  }
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("t"), 0);

  Transaction tx(c());
  ASSERT_TRUE(tx.Begin().ok());
  Insert(-1);
  {
    auto w = c().BulkInsert("t", {"id", "s"});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 5000; ++i) {
      (*w)->AddInt(i);
      (*w)->AddNull();
      ASSERT_TRUE((*w)->EndRow().ok());
    }
  }
  EXPECT_TRUE(c().InTransaction());
  Insert(-2);
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(Count("t"), 2);
}

TEST_P(StoreContractTest, FailedBulkWriteIsAlreadyExistsAndKeepsTheTransaction) {
  MakeTable();
  Transaction tx(c());
  ASSERT_TRUE(tx.Begin().ok());
  Insert(3);
  auto w = c().BulkInsert("t", {"id"});
  ASSERT_TRUE(w.ok());
  Status s;
  for (int i = 0; i < 10 && s.ok(); ++i) {
    (*w)->AddInt(i);
    s = (*w)->EndRow();
  }
  if (s.ok()) s = (*w)->Finish();
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  w->reset();
  Insert(4);
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(Count("t"), 2);
}

// A long write fails the same way when the failing row is far into it (on SQLite, past the rows
// written as they end, in the batches a second thread writes): at a later EndRow() or at
// Finish(), writing nothing, and the transaction goes on.
TEST_P(StoreContractTest, ALongBulkWriteFailingLateWritesNothingAndKeepsTheTransaction) {
  MakeTable();
  Transaction tx(c());
  ASSERT_TRUE(tx.Begin().ok());
  Insert(15000);
  auto w = c().BulkInsert("t", {"id", "s"});
  ASSERT_TRUE(w.ok());
  Status s;
  int i = 0;
  for (; i < 30000 && s.ok(); ++i) {
    (*w)->AddInt(i);
    (*w)->AddText("row " + std::to_string(i));
    s = (*w)->EndRow();
  }
  if (s.ok()) s = (*w)->Finish();
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_GT(i, 15000);
  w->reset();
  Insert(-1);
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(Count("t"), 2);
}

// A group writes several tables at once, each from its own thread: every row of each, exactly,
// in one transaction with the caller's rows.
TEST_P(StoreContractTest, BulkGroupWritesEveryTableFromTwoThreads) {
  ASSERT_TRUE(c().Execute("CREATE TABLE bulk (id BIGINT PRIMARY KEY, s TEXT, n BIGINT, "
                          "d DOUBLE PRECISION, b " +
                          BlobType() + ")")
                  .ok());
  MakeTable();
  constexpr int kRows = 30000;
  Transaction tx(c());
  ASSERT_TRUE(tx.Begin().ok());
  Insert(-1);
  auto g = c().BulkInsertGroup({{"bulk", {"id", "s", "n", "d", "b"}}, {"t", {"id", "s"}}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(c().Execute("SELECT 1").code(), StatusCode::kFailedPrecondition);
  // The second table's rows are long enough to be handed over in several chunks (4 MiB on
  // PostgreSQL), so that its COPY and the first table's take turns.
  const std::string padding(400, 'x');
  std::thread second([&] {
    BulkWriter& w = (*g)->writer(1);
    for (int i = 0; i < kRows; ++i) {
      w.AddInt(i);
      w.AddText("second " + std::to_string(i) + padding);
      ASSERT_TRUE(w.EndRow().ok()) << i;
    }
    ASSERT_TRUE(w.Finish().ok());
  });
  WriteAwkwardRows((*g)->writer(0), kRows);
  second.join();
  Status f = (*g)->Finish();
  ASSERT_TRUE(f.ok()) << f.ToString();
  EXPECT_TRUE(c().InTransaction());
  Insert(-2);
  ASSERT_TRUE(tx.Commit().ok());
  auto select = Prep("SELECT id, s, n, d, b FROM bulk ORDER BY id");
  CheckAwkwardRows(*select, kRows);
  EXPECT_EQ(Count("t"), kRows + 2);
  auto last = Prep("SELECT s FROM t WHERE id = $1");
  last->BindInt(1, kRows - 1);
  ASSERT_TRUE(*last->Step());
  EXPECT_EQ(last->ColumnText(0), "second " + std::to_string(kRows - 1) + padding);
}

// A group's values keep their column's type whatever its width; on PostgreSQL an integer too
// wide for its column fails the group, and nothing of it is written.
TEST_P(StoreContractTest, BulkGroupKeepsEveryColumnTypesValues) {
  ASSERT_TRUE(c().Execute("CREATE TABLE typed (id BIGINT PRIMARY KEY, i INTEGER, sm SMALLINT, "
                          "v VARCHAR(40), d DOUBLE PRECISION)")
                  .ok());
  ASSERT_TRUE(c().Execute("CREATE TABLE flags (id BIGINT PRIMARY KEY, flag BOOLEAN)").ok());
  struct Row {
    std::int64_t id;
    std::optional<std::int64_t> i, sm;
    std::optional<std::string> v;
    std::optional<double> d;
  };
  const std::vector<Row> rows = {
      {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int32_t>::min(),
       std::numeric_limits<std::int16_t>::min(), "tab\there", -0.5},
      {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int32_t>::max(),
       std::numeric_limits<std::int16_t>::max(), "\xc3\xbcn\xc3\xaf \\N", 1e300},
      {0, 0, 0, "", 0.0},
      {-1, -1, -1, std::nullopt, std::nullopt},
      {7, std::nullopt, std::nullopt, "7", 7.0},
  };
  {
    auto g = c().BulkInsertGroup({{"typed", {"id", "i", "sm", "v", "d"}}, {"flags", {"id", "flag"}}});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    BulkWriter& w = (*g)->writer(0);
    for (const Row& r : rows) {
      w.AddInt(r.id);
      r.i ? w.AddInt(*r.i) : w.AddNull();
      r.sm ? w.AddInt(*r.sm) : w.AddNull();
      r.v ? w.AddText(*r.v) : w.AddNull();
      if (r.id == 7) {
        w.AddInt(7);  // an integer for a floating-point column
      } else {
        r.d ? w.AddDouble(*r.d) : w.AddNull();
      }
      ASSERT_TRUE(w.EndRow().ok()) << r.id;
    }
    BulkWriter& f = (*g)->writer(1);
    f.AddInt(1);
    f.AddInt(1);
    ASSERT_TRUE(f.EndRow().ok());
    Status done = (*g)->Finish();
    ASSERT_TRUE(done.ok()) << done.ToString();
  }
  auto select = Prep("SELECT id, i, sm, v, d FROM typed ORDER BY id");
  std::vector<Row> sorted = rows;
  std::sort(sorted.begin(), sorted.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  // The value read in `column`, NULL as nullopt.
  const auto read = [&](int column, auto value) -> std::optional<decltype(value)> {
    if (select->IsNull(column)) return std::nullopt;
    if constexpr (std::is_same_v<decltype(value), std::string>) {
      return select->ColumnText(column);
    } else if constexpr (std::is_same_v<decltype(value), double>) {
      return select->ColumnDouble(column);
    } else {
      return select->ColumnInt(column);
    }
  };
  for (const Row& r : sorted) {
    auto row = select->Step();
    ASSERT_TRUE(row.ok() && *row) << r.id;
    EXPECT_EQ(select->ColumnInt(0), r.id);
    EXPECT_EQ(read(1, std::int64_t{}), r.i) << r.id;
    EXPECT_EQ(read(2, std::int64_t{}), r.sm) << r.id;
    EXPECT_EQ(read(3, std::string()), r.v) << r.id;
    EXPECT_EQ(read(4, double{}), r.d) << r.id;
  }
  EXPECT_EQ(Count("flags"), 1);
  if (!Pg()) return;  // SQLite's integers are all 64-bit
  auto g = c().BulkInsertGroup({{"typed", {"id", "i", "sm", "v", "d"}}});
  ASSERT_TRUE(g.ok());
  BulkWriter& w = (*g)->writer(0);
  w.AddInt(100);
  w.AddInt(std::int64_t{1} << 31);
  w.AddNull();
  w.AddNull();
  w.AddNull();
  (void)w.EndRow();
  Status wide = (*g)->Finish();
  EXPECT_FALSE(wide.ok());
  EXPECT_NE(wide.message().find("out of range for type integer"), std::string::npos)
      << wide.message();
  EXPECT_EQ(Count("typed"), static_cast<std::int64_t>(rows.size()));
}

// A group that fails in any table (here the second, far into its rows) writes nothing to any,
// names the failure, and leaves the caller's transaction usable; one discarded before Finish()
// writes nothing either, inside a transaction or outside one.
TEST_P(StoreContractTest, AFailedOrDiscardedBulkGroupWritesNothing) {
  MakeTable();
  ASSERT_TRUE(c().Execute("CREATE TABLE u (id BIGINT PRIMARY KEY)").ok());
  {
    Transaction tx(c());
    ASSERT_TRUE(tx.Begin().ok());
    Insert(9000);
    auto g = c().BulkInsertGroup({{"u", {"id"}}, {"t", {"id", "s"}}});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Status s;
    for (int i = 0; i < 20000 && s.ok(); ++i) {
      (*g)->writer(0).AddInt(i);
      s = (*g)->writer(0).EndRow();
      if (s.ok()) {
        (*g)->writer(1).AddInt(i);
        (*g)->writer(1).AddText("x");
        s = (*g)->writer(1).EndRow();
      }
    }
    if (s.ok()) s = (*g)->Finish();
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
    g->reset();
    Insert(-1);
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(Count("u"), 0);
  EXPECT_EQ(Count("t"), 2);
  {
    auto g = c().BulkInsertGroup({{"u", {"id"}}, {"t", {"id", "s"}}});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    for (int i = 0; i < 10000; ++i) {
      (*g)->writer(0).AddInt(i);
      ASSERT_TRUE((*g)->writer(0).EndRow().ok());
      (*g)->writer(1).AddInt(100000 + i);
      (*g)->writer(1).AddNull();
      ASSERT_TRUE((*g)->writer(1).EndRow().ok());
    }
  }
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("u"), 0);
  EXPECT_EQ(Count("t"), 2);
  // Outside a transaction, a finished group is a transaction of its own.
  {
    auto g = c().BulkInsertGroup({{"u", {"id"}}, {"t", {"id", "s"}}});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    (*g)->writer(1).AddInt(7);
    (*g)->writer(1).AddText("seven");
    ASSERT_TRUE((*g)->writer(1).EndRow().ok());
    (*g)->writer(0).AddInt(7);
    ASSERT_TRUE((*g)->writer(0).EndRow().ok());
    ASSERT_TRUE((*g)->Finish().ok());
    EXPECT_EQ((*g)->Finish().code(), StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("u"), 1);
  EXPECT_EQ(Count("t"), 3);
  // A table that is not there: refused at once (SQLite) or by the first rows' COPY (PostgreSQL).
  {
    auto g = c().BulkInsertGroup({{"u", {"id"}}, {"missing", {"id"}}});
    if (g.ok()) {
      for (int i = 0; i < 50000; ++i) {
        (*g)->writer(1).AddInt(i);
        if (!(*g)->writer(1).EndRow().ok()) break;
      }
      EXPECT_FALSE((*g)->Finish().ok());
    }
  }
  EXPECT_FALSE(c().InTransaction());
  EXPECT_EQ(Count("u"), 1);
  EXPECT_EQ(c().BulkInsertGroup({}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c().BulkInsertGroup({{"u", {"id"}}, {"t; DROP TABLE t", {"id"}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(c().InTransaction());
}

// Values are checked and escaped several bytes at a time: each character that needs care, at
// every place in a value of up to three such steps, is kept exactly, and NUL or bytes that are
// not UTF-8 are refused wherever they are.
TEST_P(StoreContractTest, BulkWriterKeepsEveryCharacterAtEveryPlaceInAValue) {
  MakeTable();
  const std::vector<std::string> specials = {"\t",  "\n",  "\r", "\\",     "\x01",
                                             "\x0d", "\x0e", "\x1f", "\x7f", "\\N",
                                             "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x99\x82"};
  std::vector<std::string> values;
  for (size_t n = 0; n <= 24; ++n) values.push_back(std::string(n, 'a'));
  for (const std::string& special : specials) {
    for (size_t at = 0; at <= 20; ++at) {
      values.push_back(std::string(at, 'a') + special + std::string(20 - at, 'b'));
    }
  }
  {
    auto w = c().BulkInsert("t", {"id", "s"});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (size_t i = 0; i < values.size(); ++i) {
      (*w)->AddInt(static_cast<std::int64_t>(i));
      (*w)->AddText(values[i]);
      ASSERT_TRUE((*w)->EndRow().ok()) << i;
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto select = Prep("SELECT id, s FROM t ORDER BY id");
  for (size_t i = 0; i < values.size(); ++i) {
    auto row = select->Step();
    ASSERT_TRUE(row.ok() && *row) << i;
    EXPECT_EQ(select->ColumnText(1), values[i]) << "value " << i;
  }
  for (const std::string& bad : {"\0"s, "\xff"s, "\xc3"s}) {
    for (size_t at : {0, 7, 8, 15, 20}) {
      auto w = c().BulkInsert("t", {"id", "s"});
      ASSERT_TRUE(w.ok());
      (*w)->AddInt(1000);
      (*w)->AddText(std::string(at, 'a') + bad + std::string(20 - at, 'b'));
      EXPECT_EQ((*w)->EndRow().code(), StatusCode::kInvalidArgument) << at;
    }
  }
  EXPECT_EQ(Count("t"), static_cast<std::int64_t>(values.size()));
}

TEST_P(StoreContractTest, BulkWriterChecksRowsAndNames) {
  MakeTable();
  EXPECT_EQ(c().BulkInsert("t; DROP TABLE t", {"id"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(c().BulkInsert("t", {"id", "s\""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c().BulkInsert("t", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(c().BulkInsert("missing", {"id"}).ok());
  {
    auto w = c().BulkInsert("t", {"id", "s"});
    ASSERT_TRUE(w.ok());
    (*w)->AddInt(1);
    EXPECT_EQ((*w)->EndRow().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*w)->Finish().code(), StatusCode::kInvalidArgument);
  }
  {
    auto w = c().BulkInsert("t", {"id"});
    ASSERT_TRUE(w.ok());
    (*w)->AddInt(1);
    (*w)->AddInt(2);
    EXPECT_EQ((*w)->EndRow().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Count("t"), 0);
}

TEST_P(StoreContractTest, ConnectionIsBusyDuringABulkWrite) {
  MakeTable();
  auto select = Prep("SELECT count(*) FROM t");
  auto w = c().BulkInsert("t", {"id"});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(c().Execute("SELECT 1").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c().Prepare("SELECT 1").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c().Begin().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(select->Step().status().code(), StatusCode::kFailedPrecondition);
  (*w)->AddInt(1);
  ASSERT_TRUE((*w)->EndRow().ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ((*w)->Finish().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("t"), 1);
}

std::vector<Migration> TestMigrations(int n) {
  std::vector<Migration> all = {
      {1, "people", "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
       "CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"},
      {2, "seed", "INSERT INTO people VALUES (1, 'first')",
       "INSERT INTO people VALUES (1, 'first')"},
      {3, "roles", "CREATE TABLE roles (id INTEGER); CREATE INDEX roles_id ON roles (id)",
       "CREATE TABLE roles (id BIGINT); CREATE INDEX roles_id ON roles (id)"},
      {4, "more", "CREATE TABLE m4 (x INTEGER)", "CREATE TABLE m4 (x BIGINT)"},
      {5, "seed more", "INSERT INTO people VALUES (2, 'second')",
       "INSERT INTO people VALUES (2, 'second')"},
  };
  all.resize(n);
  return all;
}

TEST_P(StoreContractTest, SchemaVersionOfAnEmptyStoreIsZero) {
  auto v = SchemaVersion(c());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 0);
  ASSERT_TRUE(Migrate(c(), {}).ok());
  EXPECT_EQ(*SchemaVersion(c()), 0);
}

TEST_P(StoreContractTest, MigrationsApplyOnceInOrder) {
  ASSERT_TRUE(Migrate(c(), TestMigrations(2)).ok());
  EXPECT_EQ(*SchemaVersion(c()), 2);
  ASSERT_TRUE(Migrate(c(), TestMigrations(2)).ok());
  EXPECT_EQ(Count("people"), 1);
  EXPECT_EQ(Count("schema_migrations"), 2);

  Status s = Migrate(c(), TestMigrations(5));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*SchemaVersion(c()), 5);
  EXPECT_EQ(Count("people"), 2);
  auto rows = Prep("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  for (int v = 1; v <= 5; ++v) {
    ASSERT_TRUE(*rows->Step());
    EXPECT_EQ(rows->ColumnInt(0), v);
    EXPECT_EQ(rows->ColumnText(1), TestMigrations(5)[v - 1].name);
    EXPECT_GT(rows->ColumnInt(2), 1'600'000'000'000);
  }
}

TEST_P(StoreContractTest, NewerStoreIsRefused) {
  ASSERT_TRUE(Migrate(c(), TestMigrations(3)).ok());
  Status s = Migrate(c(), TestMigrations(2));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "store " + c().DisplayUrl() +
                             " is at schema version 3, but this isms knows only up to 2: upgrade "
                             "isms (never downgrade a store)");
  EXPECT_EQ(*SchemaVersion(c()), 3);
}

TEST_P(StoreContractTest, FailedMigrationIsRolledBackAndStops) {
  auto ms = TestMigrations(4);
  ms[2].sqlite_sql = ms[2].postgres_sql = "CREATE TABLE roles (id BIGINT); SELEC broken";
  Status s = Migrate(c(), ms);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("migration 3 (roles)"), std::string::npos) << s.message();
  EXPECT_EQ(*SchemaVersion(c()), 2);
  EXPECT_FALSE(c().Prepare("SELECT * FROM roles").ok());
  EXPECT_FALSE(c().InTransaction());
}

TEST_P(StoreContractTest, MigrationsOutOfOrderAreABug) {
  auto ms = TestMigrations(3);
  std::swap(ms[1], ms[2]);
  EXPECT_EQ(Migrate(c(), ms).code(), StatusCode::kInternal);
}

TEST_P(StoreContractTest, ConcurrentMigrationsAreSafe) {
  const auto ms = TestMigrations(5);
  std::vector<Status> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto conn = Connection::Open(url_);
      results[i] = conn.ok() ? Migrate(**conn, ms) : conn.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*SchemaVersion(c()), 5);
  EXPECT_EQ(Count("schema_migrations"), 5);
  EXPECT_EQ(Count("people"), 2);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreContractTest, ::testing::ValuesIn(EnginesUnderTest()),
                         [](const auto& info) { return info.param; });

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(StoreEngines, PostgresIsTestedWhenRequired) {
  if (Env("ISMS_TEST_POSTGRES_URL") != nullptr) return;
  if (PostgresRequired()) {
    FAIL() << "ISMS_REQUIRE_POSTGRES=1 but ISMS_TEST_POSTGRES_URL is not set: run the tests "
              "through scripts/with-pg.sh";
  }
  GTEST_SKIP() << "PostgreSQL not tested: set ISMS_TEST_POSTGRES_URL (scripts/with-pg.sh does)";
}

TEST(StoreUrl, FlagWithPasswordIsRefused) {
  auto r = ResolveStoreUrl("postgresql://isms:s3cret@db.example/isms");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "the store URL on the command line carries a password, which would show in `ps`: put "
            "it in ~/.pgpass or PGPASSFILE, or pass the whole URL in the ISMS_STORE environment "
            "variable");
  EXPECT_FALSE(ResolveStoreUrl("postgresql://db.example/isms?password=x").ok());
}

TEST(StoreUrl, FlagEnvironmentDefault) {
  ScopedEnv env("ISMS_STORE", "postgresql://isms:s3cret@db.example/isms");
  EXPECT_EQ(*ResolveStoreUrl("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
  EXPECT_EQ(*ResolveStoreUrl("postgresql://isms@db.example/isms"),
            "postgresql://isms@db.example/isms");
  EXPECT_EQ(*ResolveStoreUrl(std::nullopt), "postgresql://isms:s3cret@db.example/isms");
  ScopedEnv unset("ISMS_STORE", nullptr);
  EXPECT_EQ(*ResolveStoreUrl(std::nullopt), "sqlite:./isms-data/isms.db");
  ScopedEnv empty("ISMS_STORE", "");
  EXPECT_EQ(*ResolveStoreUrl(std::nullopt), "sqlite:./isms-data/isms.db");
}

TEST(StoreUrl, OpenRefusesAPasswordUnlessItCameFromTheEnvironment) {
  const char* url = "postgresql://isms:s3cret@127.0.0.1:1/isms";
  ScopedEnv unset("ISMS_STORE", nullptr);
  auto refused = Connection::Open(url);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message().find("s3cret"), std::string::npos);

  ScopedEnv env("ISMS_STORE", url);
  auto tried = Connection::Open(url);
  ASSERT_FALSE(tried.ok());
  EXPECT_EQ(tried.status().code(), StatusCode::kUnavailable) << tried.status().ToString();
  EXPECT_EQ(tried.status().message().find("s3cret"), std::string::npos);
}

TEST(StoreUrl, UnreachablePostgresIsUnavailableWithAHint) {
  auto r = Connection::Open("postgresql://isms@127.0.0.1:1/isms?connect_timeout=2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("postgresql store postgresql://isms@127.0.0.1:1/isms"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("~/.pgpass"), std::string::npos);
}

TEST(StoreUrl, UnknownSchemeIsRefused) {
  EXPECT_EQ(Connection::Open("mysql://x/y").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Connection::Open("sqlite:").status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreUrl, PasswordsAreRedacted) {
  using internal::RedactUrl;
  using internal::UrlHasPassword;
  EXPECT_EQ(RedactUrl("postgresql://u:p@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(RedactUrl("postgres://u:p%40x@h/db?sslmode=require&password=z&x=1"),
            "postgres://u@h/db?sslmode=require&x=1");
  EXPECT_EQ(RedactUrl("postgresql://h/db?password=z"), "postgresql://h/db");
  EXPECT_EQ(RedactUrl("sqlite:/a:b@c/d.db"), "sqlite:/a:b@c/d.db");
  EXPECT_TRUE(UrlHasPassword("postgresql://u:p@h/db"));
  EXPECT_TRUE(UrlHasPassword("postgresql://h/db?password=p"));
  EXPECT_FALSE(UrlHasPassword("postgresql://u@h:5432/db"));
  EXPECT_FALSE(UrlHasPassword("postgresql://h/db?options=-ca%3Db"));
  EXPECT_FALSE(UrlHasPassword("sqlite:/tmp/a:b@c.db"));
}

TEST(StoreSqlite, NewFileAndFoldersAreCreatedPrivate) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/a/b/isms.db";
  {
    auto c = Connection::Open("sqlite:" + path);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Execute("CREATE TABLE x (a INTEGER)").ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST(StoreSqlite, UsesWalAndForeignKeys) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  auto c = Connection::Open("sqlite:" + dir + "/s.db");
  ASSERT_TRUE(c.ok());
  auto mode = (*c)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok() && *(*mode)->Step());
  EXPECT_EQ((*mode)->ColumnText(0), "wal");
  auto fk = (*c)->Prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.ok() && *(*fk)->Step());
  EXPECT_EQ((*fk)->ColumnInt(0), 1);
  mode->reset();
  fk->reset();
}

// The syslog writer's commits leave the write-ahead log to a thread of the connection's own,
// which copies it into the store once it passes the threshold (SQLite's own checkpoint, at
// 1,000 pages, would not have run for this little); closing the connection leaves no log.
TEST(StoreSqlite, CheckpointsInBackgroundCopyTheLogIntoTheStore) {
  const TempDir tmp;
  const std::string file = tmp.path + "/s.db";
  {
    auto c = Connection::Open("sqlite:" + file);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Execute("CREATE TABLE t (b BLOB)").ok());
    ASSERT_TRUE((*c)->CheckpointInBackground(16).ok());
    ASSERT_TRUE((*c)->CheckpointInBackground(16).ok()) << "a second call changes nothing";
    const std::string blob(128 * 1024, 'x');
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE((*c)->Begin().ok());
      auto st = (*c)->Prepare("INSERT INTO t (b) VALUES ($1)");
      ASSERT_TRUE(st.ok());
      (*st)->BindBlob(1, blob);
      ASSERT_TRUE((*st)->Run().ok());
      ASSERT_TRUE((*c)->Commit().ok());
    }
    std::error_code ec;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::filesystem::file_size(file, ec) < 1024 * 1024 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GE(std::filesystem::file_size(file, ec), 1024u * 1024)
        << "the megabyte written is still only in the write-ahead log";
    auto n = (*c)->Prepare("SELECT count(*), sum(length(b)) FROM t");
    ASSERT_TRUE(n.ok() && *(*n)->Step());
    EXPECT_EQ((*n)->ColumnInt(0), 8);
    EXPECT_EQ((*n)->ColumnInt(1), 8 * 128 * 1024);
  }
  EXPECT_FALSE(std::filesystem::exists(file + "-wal"))
      << "the last connection to close copies the log back and removes it";
}

// Regression: a statement left on a row at commit kept its snapshot open, so the write-ahead
// log was never checkpointed and grew without bound (52 GB over 600,000 small transactions).
TEST(StoreSqlite, WalIsCheckpointedEvenWhenAStatementIsLeftOnARowAtCommit) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  auto c = Connection::Open("sqlite:" + dir + "/wal.db");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  const std::string payload(2000, 'x');
  for (int i = 0; i < 3000; ++i) {
    Transaction tx(**c);
    ASSERT_TRUE(tx.Begin().ok());
    auto last = (*c)->Prepare("SELECT id FROM t ORDER BY id DESC LIMIT 1");
    ASSERT_TRUE(last.ok());
    ASSERT_TRUE((*last)->Step().ok());  // left on its row until after the commit
    auto ins = (*c)->Prepare("INSERT INTO t (id, v) VALUES ($1, $2)");
    ASSERT_TRUE(ins.ok());
    (*ins)->BindInt(1, i + 1);
    (*ins)->BindText(2, payload);
    ASSERT_TRUE((*ins)->Run().ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  // 3,000 rows of 2 kB are 6 MB of data; without checkpoints the log holds every page written.
  EXPECT_LT(std::filesystem::file_size(dir + "/wal.db-wal"), 8u << 20);
  EXPECT_GT(std::filesystem::file_size(dir + "/wal.db"), 4u << 20) << "data reached the database";
}

std::string JournalMode(Connection& c) {
  auto mode = c.Prepare("PRAGMA journal_mode");
  if (!mode.ok() || !*(*mode)->Step()) return "?";
  return (*mode)->ColumnText(0);
}
std::int64_t CountRows(Connection& c) {
  auto n = c.Prepare("SELECT count(*) FROM t");
  if (!n.ok() || !*(*n)->Step()) return -1;
  return (*n)->ColumnInt(0);
}
// Rows of 500 bytes, enough to fill many pages of a small page cache.
Status InsertRows(Connection& c, int from, int count) {
  ISMS_ASSIGN_OR_RETURN(auto w, c.BulkInsert("t", {"id", "v"}));
  const std::string payload(500, 'x');
  for (int i = from; i < from + count; ++i) {
    w->AddInt(i);
    w->AddText(payload);
    ISMS_RETURN_IF_ERROR(w->EndRow());
  }
  return w->Finish();
}

// SQLite's default VFS, with a count of the statement journals it opens: files a statement that
// changes several rows writes the pages it changes to, so that it can be undone alone.
class CountingVfs {
 public:
  CountingVfs() : real_(sqlite3_vfs_find(nullptr)) {
    vfs_ = *real_;
    vfs_.zName = "isms-test-counting";
    vfs_.xOpen = &Open;
    self_ = this;
    sqlite3_vfs_register(&vfs_, 1);
  }
  ~CountingVfs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, 1);
    self_ = nullptr;
  }
  int statement_journals() const { return statement_journals_; }

 private:
  static int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out) {
    if ((flags & SQLITE_OPEN_SUBJOURNAL) != 0) ++self_->statement_journals_;
    return self_->real_->xOpen(self_->real_, name, file, flags, out);
  }
  static inline CountingVfs* self_ = nullptr;
  sqlite3_vfs* real_;
  sqlite3_vfs vfs_{};
  std::atomic<int> statement_journals_{0};
};

// An audit chunk's multi-row inserts change pages all over its posting indexes. Their statement
// journal stays in memory: written to temporary files, it came to twice the audit store's size.
TEST(StoreSqlite, AMultiRowInsertAcrossAnIndexWritesNoStatementJournalFile) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  ASSERT_TRUE(
      Connection::Open("sqlite:" + dir + "/first.db").ok());  // SQLite set up as isms sets it
  const CountingVfs vfs;
  auto c = Connection::Open("sqlite:" + dir + "/journal.db");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Connection& conn = **c;
  ASSERT_TRUE(conn.Execute("CREATE TABLE k (key BLOB PRIMARY KEY, v INTEGER) WITHOUT ROWID").ok());
  // 40,000 keys of 32 bytes: an index of about 440 pages
  auto key = [](std::uint64_t i) {
    std::string k(32, '\0');
    std::uint64_t x = i * 0x9E3779B97F4A7C15ull;
    for (int b = 0; b < 32; ++b, x = x * 6364136223846793005ull + 1442695040888963407ull)
      k[b] = static_cast<char>(x >> 56);
    return k;
  };
  {
    auto w = conn.BulkInsert("k", {"key", "v"});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (std::uint64_t i = 0; i < 40000; ++i) {
      (*w)->AddBlob(key(i));
      (*w)->AddInt(static_cast<std::int64_t>(i));
      ASSERT_TRUE((*w)->EndRow().ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  // Keys that fall all over the index: some 260 of its pages changed, about 1 MB as they were,
  // against the 64 KiB SQLite keeps in memory by default.
  const int rows = 400;
  std::string sql = "INSERT INTO k (key, v) VALUES ";
  for (int r = 0; r < rows; ++r) {
    sql += (r > 0 ? ", ($" : "($") + std::to_string(2 * r + 1) + ", $" + std::to_string(2 * r + 2) +
           ")";
  }
  Transaction tx(conn);
  ASSERT_TRUE(tx.Begin().ok());
  auto insert = conn.Prepare(sql);
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  for (int r = 0; r < rows; ++r) {
    (*insert)->BindBlob(2 * r + 1, key(1000000 + r));
    (*insert)->BindInt(2 * r + 2, r);
  }
  ASSERT_TRUE((*insert)->Run().ok());
  insert->reset();
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(vfs.statement_journals(), 0);
  auto n = conn.Prepare("SELECT count(*) FROM k");
  ASSERT_TRUE(n.ok() && *(*n)->Step());
  EXPECT_EQ((*n)->ColumnInt(0), 40000 + rows);
}

// A large transaction on a store nobody else has open writes every page once, into the store
// through a rollback journal, not into the write-ahead log; its end puts the store back in WAL
// mode, committed or rolled back.
TEST(StoreSqlite, LargeTransactionAloneWritesThroughARollbackJournalThenBackToWal) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/large.db";
  auto c = Connection::Open("sqlite:" + path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Connection& conn = **c;
  ASSERT_TRUE(conn.Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
                           "PRAGMA cache_size = 64").ok());
  ASSERT_TRUE(InsertRows(conn, 0, 100).ok());
  {
    Transaction tx(conn);
    ASSERT_TRUE(tx.BeginLarge().ok());
    EXPECT_EQ(JournalMode(conn), "delete");
    ASSERT_TRUE(InsertRows(conn, 100, 20000).ok());  // 10 MB through a 256 KB page cache
    EXPECT_TRUE(std::filesystem::exists(path + "-journal"));
    EXPECT_FALSE(std::filesystem::exists(path + "-wal") &&
                 std::filesystem::file_size(path + "-wal") > (1u << 20))
        << "the pages went to the write-ahead log";
    EXPECT_GT(std::filesystem::file_size(path), 8u << 20) << "the pages went to the store";
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(JournalMode(conn), "wal");
  EXPECT_FALSE(std::filesystem::exists(path + "-journal"));
  auto sync = conn.Prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.ok() && *(*sync)->Step());
  EXPECT_EQ((*sync)->ColumnInt(0), 1) << "NORMAL again";
  sync->reset();
  {
    Transaction tx(conn);
    ASSERT_TRUE(tx.BeginLarge().ok());
    ASSERT_TRUE(InsertRows(conn, 20100, 5000).ok());
  }  // rolled back
  EXPECT_EQ(JournalMode(conn), "wal");
  EXPECT_EQ(CountRows(conn), 20100);
}

// With another connection open (a server's, say) the store stays in WAL mode, where that
// connection reads the last commit throughout; nothing waits.
TEST(StoreSqlite, LargeTransactionIsAPlainOneWhileAnotherConnectionHasTheStore) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string url = "sqlite:" + dir + "/shared.db";
  auto a = Connection::Open(url);
  auto b = Connection::Open(url);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(InsertRows(**a, 0, 10).ok());
  ASSERT_EQ(CountRows(**b), 10);
  {
    Transaction tx(**a);
    ASSERT_TRUE(tx.BeginLarge().ok());
    EXPECT_EQ(JournalMode(**a), "wal");
    ASSERT_TRUE(InsertRows(**a, 10, 5000).ok());
    EXPECT_EQ(CountRows(**b), 10);
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(CountRows(**b), 5010);
  EXPECT_EQ(JournalMode(**b), "wal");
}

// A connection opened while a large transaction writes waits for it to end, then sees it whole.
TEST(StoreSqlite, ConnectionOpenedDuringALargeTransactionWaitsForItsEnd) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string url = "sqlite:" + dir + "/wait.db";
  auto a = Connection::Open(url);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*a)->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
                            "PRAGMA cache_size = 64").ok());
  Transaction tx(**a);
  ASSERT_TRUE(tx.BeginLarge().ok());
  ASSERT_TRUE(InsertRows(**a, 0, 5000).ok());  // spilled: the store's lock is exclusive
  std::atomic<bool> committed{false};
  std::int64_t seen = -1;
  bool seen_after_commit = false;
  std::string mode;
  std::thread reader([&] {
    auto b = Connection::Open(url);
    if (!b.ok()) return;
    seen_after_commit = committed.load();
    seen = CountRows(**b);
    mode = JournalMode(**b);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  committed = true;
  ASSERT_TRUE(tx.Commit().ok());
  reader.join();
  EXPECT_TRUE(seen_after_commit) << "the other connection opened before the commit";
  EXPECT_EQ(seen, 5000);
  EXPECT_EQ(mode, "wal");
}

// A large transaction cut short (the process killed mid-write, its pages partly in the store)
// leaves a hot journal: the next connection opened rolls the store back from it, whole.
TEST(StoreSqlite, LargeTransactionCutShortIsRolledBackByTheNextConnection) {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/cut.db";
  {
    auto c = Connection::Open("sqlite:" + path);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
    ASSERT_TRUE(InsertRows(**c, 0, 1000).ok());
  }
  const auto before = std::filesystem::file_size(path);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto c = Connection::Open("sqlite:" + path);
    if (!c.ok() || !(*c)->Execute("PRAGMA cache_size = 64").ok() || !(*c)->BeginLarge().ok() ||
        !(*c)->Execute("UPDATE t SET v = 'changed'").ok() || !InsertRows(**c, 1000, 20000).ok()) {
      ::_exit(1);
    }
    ::_exit(0);  // as if killed: no commit, no rollback, no close
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(std::filesystem::exists(path + "-journal")) << "no hot journal left behind";
  EXPECT_GT(std::filesystem::file_size(path), before) << "the cut transaction wrote the store";
  auto c = Connection::Open("sqlite:" + path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(CountRows(**c), 1000);
  auto changed = (*c)->Prepare("SELECT count(*) FROM t WHERE v = 'changed'");
  ASSERT_TRUE(changed.ok() && *(*changed)->Step());
  EXPECT_EQ((*changed)->ColumnInt(0), 0);
  changed->reset();
  auto check = (*c)->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.ok() && *(*check)->Step());
  EXPECT_EQ((*check)->ColumnText(0), "ok");
  check->reset();
  EXPECT_EQ(JournalMode(**c), "wal");
}

TEST(StoreText, SnippetFoldsWhitespaceAndStopsNear80) {
  EXPECT_EQ(internal::SqlSnippet("SELECT\n  a,\n\tb\nFROM t  "), "SELECT a, b FROM t");
  EXPECT_EQ(internal::SqlSnippet(std::string(200, 'x')), std::string(80, 'x') + "...");
}

TEST(StoreText, DoublesRoundTripThroughText) {
  for (double d : {0.1, 1.0 / 3.0, -1e308, 5e-324, 123456789.0, -0.0}) {
    EXPECT_EQ(internal::ParseDouble(internal::FormatDouble(d)), d);
  }
  EXPECT_TRUE(std::isinf(internal::ParseDouble(internal::FormatDouble(HUGE_VAL))));
  EXPECT_TRUE(std::isnan(internal::ParseDouble(internal::FormatDouble(std::nan("")))));
}

}  // namespace
}  // namespace isms::store
