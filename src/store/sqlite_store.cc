// The SQLite engine: SQLite's C API, one sqlite3* per Connection, WAL journal.
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "core/ordered_worker.h"
#include "store/store_internal.h"

namespace isms::store::internal {
namespace {

// The highest $N a statement may hold: PostgreSQL's limit on a statement's parameters.
constexpr std::int64_t kMaxParameterNumber = 65535;

constexpr int kBusyTimeoutMs = 10000;

StatusCode CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return StatusCode::kAlreadyExists;
    default: break;
  }
  switch (rc & 0xFF) {
    case SQLITE_CONSTRAINT: return StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return StatusCode::kUnavailable;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return StatusCode::kIoError;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return StatusCode::kCorruption;
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE: return StatusCode::kInvalidArgument;
    default: return StatusCode::kInternal;
  }
}

// Creates the missing folders of `path` (mode 0700) and the file itself (mode 0600) when absent,
// so that SQLite (which gives its -wal and -shm files the database file's mode) never creates a
// world-readable store.
Status PrepareFile(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    std::vector<fs::path> missing;
    for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
        return Status::IoError("cannot create folder " + it->string() +
                               " for the store: " + std::strerror(errno));
      }
    }
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    return Status::IoError("cannot create store file " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

class SqliteConnection;

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(SqliteConnection& c, sqlite3_stmt* stmt, std::string sql, std::vector<int> params)
      : c_(c), stmt_(stmt), sql_(std::move(sql)), params_(std::move(params)) {}
  ~SqliteStatement() override;

  void BindInt(int index, std::int64_t value) override {
    if (int p = Param(index)) Bound(index, sqlite3_bind_int64(stmt_, p, value));
  }
  void BindDouble(int index, double value) override {
    if (int p = Param(index)) Bound(index, sqlite3_bind_double(stmt_, p, value));
  }
  void BindText(int index, std::string_view value) override {
    int p = Param(index);
    if (p == 0) return;
    if (Status s = CheckText(value); !s.ok()) {
      bind_errors_[index] = s.WithContext("parameter $" + std::to_string(index));
      return;
    }
    Bound(index, sqlite3_bind_text64(stmt_, p, value.empty() ? "" : value.data(), value.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void BindBlob(int index, std::string_view bytes) override {
    if (int p = Param(index)) {
      Bound(index, sqlite3_bind_blob64(stmt_, p, bytes.empty() ? "" : bytes.data(), bytes.size(),
                                       SQLITE_TRANSIENT));
    }
  }
  void BindNull(int index) override {
    if (int p = Param(index)) Bound(index, sqlite3_bind_null(stmt_, p));
  }

  Result<bool> Step() override;

  bool IsNull(int column) const override {
    return !row_ || sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  std::int64_t ColumnInt(int column) const override {
    return row_ ? sqlite3_column_int64(stmt_, column) : 0;
  }
  double ColumnDouble(int column) const override {
    return row_ ? sqlite3_column_double(stmt_, column) : 0;
  }
  std::string ColumnText(int column) const override {
    if (!row_) return {};
    const auto* p = sqlite3_column_text(stmt_, column);
    int n = sqlite3_column_bytes(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }
  std::string_view ColumnView(int column) const override {
    if (!row_) return {};
    const auto* p = sqlite3_column_text(stmt_, column);
    int n = sqlite3_column_bytes(stmt_, column);
    return p ? std::string_view(reinterpret_cast<const char*>(p), n) : std::string_view();
  }
  std::string ColumnBlob(int column) const override {
    if (!row_) return {};
    const void* p = sqlite3_column_blob(stmt_, column);
    int n = sqlite3_column_bytes(stmt_, column);
    return p ? std::string(static_cast<const char*>(p), n) : std::string();
  }
  std::int64_t ChangedRows() const override { return changed_; }
  void Reset() override {
    sqlite3_reset(stmt_);
    started_ = done_ = row_ = false;
  }

 private:
  // The SQLite index of $index, after resetting a running statement; 0 (and a bind error)
  // when the SQL has no $index.
  int Param(int index) {
    if (started_) Reset();
    if (index <= 0 || static_cast<std::size_t>(index) >= params_.size() || params_[index] == 0) {
      bind_errors_[index] =
          Status::InvalidArgument("parameter $" + std::to_string(index) +
                                  " is bound but the statement has no $" + std::to_string(index));
      return 0;
    }
    return params_[index];
  }
  void Bound(int index, int rc) {
    if (rc == SQLITE_OK) {
      bind_errors_.erase(index);
    } else {
      bind_errors_[index] = Status::Internal("cannot bind parameter $" + std::to_string(index) +
                                             ": " + sqlite3_errstr(rc));
    }
  }

  SqliteConnection& c_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  // $N -> SQLite's parameter index, 0 for none: an array, as a statement of many rows binds
  // hundreds of values (a tree's look-up a value waited on memory for each).
  std::vector<int> params_;
  std::map<int, Status> bind_errors_;
  bool started_ = false;
  bool done_ = false;
  bool row_ = false;
  std::int64_t changed_ = 0;
  std::int64_t total_changes_before_ = 0;
};

class SqliteBulkWriter;
struct BulkInsertStatement;

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, std::string display) : db_(db), display_(std::move(display)) {}
  ~SqliteConnection() override {
    for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
    if (checkpointer_) {
      sqlite3_wal_hook(db_, nullptr, nullptr);
      checkpointer_.reset();
    }
    sqlite3_close_v2(db_);
  }

  Engine engine() const override { return Engine::kSqlite; }
  std::string DisplayUrl() const override { return display_; }

  Status Execute(std::string_view sql) override {
    ISMS_RETURN_IF_ERROR(Ready());
    return ExecuteRaw(sql);
  }
  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) override;
  Result<std::unique_ptr<BulkWriter>> BulkInsert(std::string_view table,
                                                 const std::vector<std::string>& columns) override;
  Result<std::unique_ptr<BulkGroup>> BulkInsertGroup(
      const std::vector<BulkTable>& tables) override;

  Status Begin() override {
    ISMS_RETURN_IF_ERROR(ReadyToBegin());
    return ExecuteRaw("BEGIN IMMEDIATE");
  }
  Status BeginRead() override {
    ISMS_RETURN_IF_ERROR(ReadyToBegin());
    return ExecuteRaw("BEGIN DEFERRED");
  }
  Status BeginLarge() override {
    ISMS_RETURN_IF_ERROR(ReadyToBegin());
    // Leaving WAL mode takes the store to itself: another connection open on it (a server's, a
    // reader's) keeps it in WAL mode, asked without waiting, and this is a plain transaction.
    sqlite3_busy_timeout(db_, 0);
    const bool left_wal = JournalMode("PRAGMA journal_mode = DELETE") == "delete";
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    if (!left_wal) return ExecuteRaw("BEGIN IMMEDIATE");
    leave_wal_ = true;
    Status s = ExecuteRaw("PRAGMA synchronous = FULL");
    if (s.ok()) s = ExecuteRaw("BEGIN IMMEDIATE");
    if (!s.ok()) RestoreWal();
    return s;
  }
  Status Commit() override { return End("COMMIT"); }
  Status Rollback() override { return End("ROLLBACK"); }
  bool InTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  Status CheckpointInBackground(int pages) override;

  sqlite3* db() { return db_; }
  Status Error(int rc, std::string_view sql) const {
    const char* msg = sqlite3_errmsg(db_);
    return SqlError(CodeFor(rc), Engine::kSqlite, display_, sql,
                    msg != nullptr ? msg : sqlite3_errstr(rc));
  }
  Status Ready() const {
    if (!bulk_active_) return Status::Ok();
    return SqlError(StatusCode::kFailedPrecondition, Engine::kSqlite, display_, {},
                    "a bulk write is in progress on this connection: Finish() or discard it first");
  }
  Status ExecuteRaw(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqlError(CodeFor(sqlite3_extended_errcode(db_)), Engine::kSqlite, display_, sql, msg);
  }
  void set_bulk_active(bool b) { bulk_active_ = b; }
  Result<BulkInsertStatement> PrepareInsert(std::string_view table,
                                                   const std::vector<std::string>& columns);
  Result<bool> BeginBulk();

  // Prepared statements are kept for reuse, keyed by their SQL: parsing a statement costs more
  // than running a small one. A statement returns here when its Statement is destroyed.
  struct Cached {
    sqlite3_stmt* stmt;
    std::vector<int> params;
  };
  void Release(const std::string& sql, sqlite3_stmt* stmt, std::vector<int>&& params) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (cache_.size() >= kMaxCached || cache_.count(sql)) {
      sqlite3_finalize(stmt);
      return;
    }
    cache_.emplace(sql, Cached{stmt, std::move(params)});
  }

 private:
  static constexpr size_t kMaxCached = 128;
  std::unordered_map<std::string, Cached> cache_;

  Status End(std::string_view sql) {
    ISMS_RETURN_IF_ERROR(Ready());
    if (!InTransaction()) {
      return SqlError(StatusCode::kFailedPrecondition, Engine::kSqlite, display_, sql,
                      "no transaction is open");
    }
    // A statement left on a row keeps its read snapshot open past the commit, and while any
    // snapshot stays open the write-ahead log can never be checkpointed back to its start: it
    // would grow without bound. The transaction's statements end with it.
    for (sqlite3_stmt* st = sqlite3_next_stmt(db_, nullptr); st != nullptr;
         st = sqlite3_next_stmt(db_, st)) {
      if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
    }
    ISMS_RETURN_IF_ERROR(ExecuteRaw(sql));
    if (!InTransaction()) RestoreWal();
    return Status::Ok();
  }
  // Ready, with no transaction open.
  Status ReadyToBegin() {
    ISMS_RETURN_IF_ERROR(Ready());
    if (InTransaction()) {
      return SqlError(StatusCode::kFailedPrecondition, Engine::kSqlite, display_, {},
                      "a transaction is open already, and transactions do not nest");
    }
    RestoreWal();
    return Status::Ok();
  }

  // The journal mode a "PRAGMA journal_mode" statement leaves, in lower case; "" when it fails
  // (the store is busy).
  std::string JournalMode(const char* pragma) {
    sqlite3_stmt* st = nullptr;
    std::string mode;
    if (sqlite3_prepare_v2(db_, pragma, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(st, 0);
      if (text != nullptr) mode = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(st);
    return mode;
  }
  // Back to WAL mode and synchronous NORMAL after a BeginLarge() transaction. Should another
  // connection hold the store past the busy timeout, it stays in rollback-journal mode (safe,
  // with synchronous FULL) until the next transaction begun on this connection, or the next
  // connection opened, sets WAL mode.
  void RestoreWal() {
    if (!leave_wal_ || JournalMode("PRAGMA journal_mode = WAL") != "wal") return;
    leave_wal_ = false;
    (void)ExecuteRaw("PRAGMA synchronous = NORMAL");
  }

  class Checkpointer;
  static int OnWalCommit(void* checkpointer, sqlite3* db, const char* schema, int pages);

  sqlite3* db_;
  std::string display_;
  std::unique_ptr<Checkpointer> checkpointer_;  // CheckpointInBackground
  bool bulk_active_ = false;
  bool leave_wal_ = false;  // in rollback-journal mode for a BeginLarge() transaction
};

Result<bool> SqliteStatement::Step() {
  if (!bind_errors_.empty()) {
    return SqlError(bind_errors_.begin()->second.code(), Engine::kSqlite, c_.DisplayUrl(), sql_,
                    bind_errors_.begin()->second.message());
  }
  ISMS_RETURN_IF_ERROR(c_.Ready());
  if (done_) return false;
  if (!started_) total_changes_before_ = sqlite3_total_changes64(c_.db());
  started_ = true;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    row_ = true;
    return true;
  }
  row_ = false;
  if (rc == SQLITE_DONE) {
    done_ = true;
    // sqlite3_changes64() keeps the count of the last INSERT, UPDATE or DELETE on the connection,
    // so it only describes this statement when this statement changed rows.
    changed_ =
        sqlite3_total_changes64(c_.db()) != total_changes_before_ ? sqlite3_changes64(c_.db()) : 0;
    return false;
  }
  Status err = c_.Error(rc, sql_);
  Reset();
  return err;
}

SqliteStatement::~SqliteStatement() { c_.Release(sql_, stmt_, std::move(params_)); }

Result<std::unique_ptr<Statement>> SqliteConnection::Prepare(std::string_view sql) {
  ISMS_RETURN_IF_ERROR(Ready());
  if (auto it = cache_.find(std::string(sql)); it != cache_.end()) {
    Cached cached = std::move(it->second);
    cache_.erase(it);
    return std::unique_ptr<Statement>(
        new SqliteStatement(*this, cached.stmt, std::string(sql), std::move(cached.params)));
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc, sql);
  if (stmt == nullptr) {
    return SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, display_, sql,
                    "the SQL holds no statement");
  }
  std::string_view rest(tail, sql.data() + sql.size() - tail);
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(stmt);
    return SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, display_, sql,
                    "Prepare() takes one statement: use Execute() for several");
  }
  std::vector<int> params;
  for (int i = 1, n = sqlite3_bind_parameter_count(stmt); i <= n; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    std::int64_t number = name != nullptr && name[0] == '$' ? ParseInt(name + 1) : 0;
    if (number <= 0 || number > kMaxParameterNumber ||
        std::string_view(name) != "$" + std::to_string(number)) {
      sqlite3_finalize(stmt);
      return SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, display_, sql,
                      "placeholders must be written $1, $2, ... up to $" +
                          std::to_string(kMaxParameterNumber) + " (both engines read them)");
    }
    if (params.size() <= static_cast<std::size_t>(number)) params.resize(number + 1, 0);
    params[static_cast<std::size_t>(number)] = i;
  }
  return std::unique_ptr<Statement>(
      new SqliteStatement(*this, stmt, std::string(sql), std::move(params)));
}

// One prepared INSERT per table reused for every row, inside a transaction of its own (BEGIN
// IMMEDIATE) or a savepoint of the caller's transaction, so that a writer discarded before
// Finish() leaves no row behind and a failed one leaves the caller's transaction as it was.
// A lone writer writes its first rows as they end, on the caller's thread. Past kDirectRows, and
// from the first row in a group, rows are gathered in batches that a second thread binds and
// steps while the callers make the next ones: on a long write (the 711,802 obligations of a
// recompute, the findings and clocks of an import), preparing the values (and checking the text)
// costs about as much as SQLite's insert. An error of SQLite's then shows at a later EndRow() or
// at Finish(), as on PostgreSQL.

enum class BulkKind { kInt, kDouble, kText, kBlob, kNull };
struct BulkValue {
  BulkKind kind;
  std::int64_t i;
  double d;
  std::size_t offset, size;  // text and blobs: where they lie in the batch's bytes
};
// Rows ended and not yet written: their values in column order, their text and blobs in
// `bytes`, which no longer moves once the batch is handed over.
struct BulkBatch {
  std::vector<BulkValue> values;
  std::string bytes;
  std::size_t rows = 0;
  void Clear() {
    values.clear();
    bytes.clear();
    rows = 0;
  }
};

// One table's INSERT.
struct BulkInsertStatement {
  sqlite3_stmt* stmt = nullptr;
  std::string sql;
  int columns = 0;
};

// Binds and steps every row of `b`, stopping at the first that fails. SQLite copies the text and
// blobs from the batch once, into the record.
Status WriteBatch(SqliteConnection& c, const BulkInsertStatement& s, const BulkBatch& b) {
  std::size_t v = 0;
  for (std::size_t r = 0; r < b.rows; ++r) {
    int rc = SQLITE_OK;
    for (int p = 1; p <= s.columns && rc == SQLITE_OK; ++p, ++v) {
      const BulkValue& x = b.values[v];
      const char* at = b.bytes.data() + x.offset;
      switch (x.kind) {
        case BulkKind::kInt: rc = sqlite3_bind_int64(s.stmt, p, x.i); break;
        case BulkKind::kDouble: rc = sqlite3_bind_double(s.stmt, p, x.d); break;
        case BulkKind::kNull: rc = sqlite3_bind_null(s.stmt, p); break;
        case BulkKind::kText:
          rc = sqlite3_bind_text64(s.stmt, p, at, x.size, SQLITE_STATIC, SQLITE_UTF8);
          break;
        case BulkKind::kBlob: rc = sqlite3_bind_blob64(s.stmt, p, at, x.size, SQLITE_STATIC); break;
      }
    }
    if (rc != SQLITE_OK) return c.Error(rc, s.sql);
    rc = sqlite3_step(s.stmt);
    Status st = rc == SQLITE_DONE ? Status::Ok() : c.Error(rc, s.sql);
    sqlite3_reset(s.stmt);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// The transaction (or savepoint) of one bulk write, and the thread that steps its batches, for
// one writer or a group. Batches are written in the order they were handed over.
class BulkSteps {
 public:
  BulkSteps(SqliteConnection& c, bool own_tx)
      : c_(c), own_tx_(own_tx), writer_(kQueuedBatches, [this](Job& job) { return Write(job); }) {
    c_.set_bulk_active(true);
  }
  ~BulkSteps() {
    if (!ended_) (void)End(/*keep=*/false);
  }

  bool threaded() const { return writer_.started(); }
  // Gives `b` (rows for `s`) to the writer thread, started with the first batch, waiting while it
  // has kQueuedBatches to write. Returns the writer's first failure, if any.
  Status Hand(const BulkInsertStatement& s, BulkBatch&& b) {
    return writer_.Hand(Job{&s, std::move(b)});
  }
  // A batch to fill: one already written, with its memory (a batch of findings holds megabytes,
  // which would otherwise be allocated, grown and given back to the system every time), or a
  // new one.
  BulkBatch Spare() {
    std::lock_guard lock(spare_mu_);
    if (spare_.empty()) return {};
    BulkBatch b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }
  // Waits for the writer thread to write what it holds (or, with `discard`, only the batch it is
  // writing) and ends it; gives its first failure.
  Status Stop(bool discard) { return writer_.Stop(discard); }
  // Ends the transaction or savepoint: keeps the rows (an error if that fails) or drops them.
  Status End(bool keep) {
    (void)Stop(/*discard=*/true);
    ended_ = true;
    c_.set_bulk_active(false);
    if (keep) {
      Status s = c_.ExecuteRaw(own_tx_ ? "COMMIT" : "RELEASE SAVEPOINT isms_bulk");
      if (s.ok()) return s;
      (void)c_.ExecuteRaw(own_tx_ ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT isms_bulk");
      return s;
    }
    (void)c_.ExecuteRaw(own_tx_ ? "ROLLBACK"
                                : "ROLLBACK TO SAVEPOINT isms_bulk; RELEASE SAVEPOINT isms_bulk");
    return Status::Ok();
  }

 private:
  static constexpr std::size_t kQueuedBatches = 4;
  struct Job {
    const BulkInsertStatement* s = nullptr;
    BulkBatch b;
  };

  // On the writer thread.
  Status Write(Job& job) {
    ISMS_RETURN_IF_ERROR(WriteBatch(c_, *job.s, job.b));
    job.b.Clear();
    std::lock_guard lock(spare_mu_);
    if (spare_.size() < kQueuedBatches) spare_.push_back(std::move(job.b));
    return Status::Ok();
  }

  SqliteConnection& c_;
  const bool own_tx_;
  bool ended_ = false;
  std::mutex spare_mu_;
  std::vector<BulkBatch> spare_;  // written, to be filled again
  OrderedWorker<Job> writer_;     // last: stopped before the rest goes
};

// The rows of one table. Alone (BulkInsert) it owns its transaction and writes its first rows
// itself; in a group, the group does, and every batch goes to the writer thread.
class SqliteBulkWriter final : public BulkWriter {
 public:
  // Alone.
  SqliteBulkWriter(SqliteConnection& c, BulkInsertStatement s, bool own_transaction)
      : c_(c), s_(std::move(s)), own_steps_(std::make_unique<BulkSteps>(c, own_transaction)),
        steps_(*own_steps_) {}
  // In a group, whose `steps` outlive the writer.
  SqliteBulkWriter(SqliteConnection& c, BulkInsertStatement s, BulkSteps& steps)
      : c_(c), s_(std::move(s)), steps_(steps) {}
  ~SqliteBulkWriter() override {
    if (own_steps_ && !finished_) (void)own_steps_->End(/*keep=*/false);
    own_steps_.reset();
    sqlite3_finalize(s_.stmt);
  }

  void AddInt(std::int64_t v) override {
    if (Next()) batch_.values.push_back({BulkKind::kInt, v, 0, 0, 0});
  }
  void AddDouble(double v) override {
    if (Next()) batch_.values.push_back({BulkKind::kDouble, 0, v, 0, 0});
  }
  void AddText(std::string_view v) override {
    if (!Next()) return;
    if (Status s = CheckText(v); !s.ok()) {
      error_ = SqlError(s.code(), Engine::kSqlite, c_.DisplayUrl(), s_.sql, s.message());
      return;
    }
    Keep(BulkKind::kText, v);
  }
  void AddBlob(std::string_view bytes) override {
    if (Next()) Keep(BulkKind::kBlob, bytes);
  }
  void AddNull() override {
    if (Next()) batch_.values.push_back({BulkKind::kNull, 0, 0, 0, 0});
  }

  Status EndRow() override {
    if (finished_) return Finished();
    if (!error_.ok()) return error_;
    if (next_ != s_.columns) {
      error_ = SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, c_.DisplayUrl(), s_.sql,
                        "row " + std::to_string(rows_ + 1) + " has " + std::to_string(next_) +
                            " values for " + std::to_string(s_.columns) + " columns");
      return error_;
    }
    next_ = 0;
    ++rows_;
    ++batch_.rows;
    if (own_steps_ && rows_ <= kDirectRows) {
      error_ = WriteBatch(c_, s_, batch_);
      batch_.Clear();
    } else if (batch_.rows == kBatchRows) {
      error_ = steps_.Hand(s_, std::move(batch_));
      batch_ = steps_.Spare();
    }
    return error_;
  }

  Status Finish() override {
    if (finished_) return Finished();
    Status s = Close();
    if (!own_steps_) return s;
    // Alone: the rows are written, or none.
    Status stopped = steps_.Stop(/*discard=*/!s.ok());
    if (s.ok()) s = stopped;
    Status ended = steps_.End(/*keep=*/s.ok());
    return s.ok() ? ended : s;
  }

  // Ends the rows: hands over the last batch. Gives this writer's first error.
  Status Close() {
    if (finished_) return error_;
    finished_ = true;
    if (error_.ok() && next_ != 0) {
      error_ = SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, c_.DisplayUrl(), s_.sql,
                        "the last row was not ended with EndRow()");
    }
    if (error_.ok() && batch_.rows > 0) {
      error_ = steps_.threaded() || !own_steps_ ? steps_.Hand(s_, std::move(batch_))
                                                : WriteBatch(c_, s_, batch_);
    }
    batch_ = BulkBatch{};
    return error_;
  }
  // After the group has ended: the statement is not left running.
  void Reset() { sqlite3_reset(s_.stmt); }

 private:
  static constexpr std::int64_t kDirectRows = 4096;
  static constexpr std::size_t kBatchRows = 2048;

  int Next() {
    if (finished_ || !error_.ok()) return 0;
    if (next_ >= s_.columns) {
      error_ = SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, c_.DisplayUrl(), s_.sql,
                        "row " + std::to_string(rows_ + 1) + " has more values than the " +
                            std::to_string(s_.columns) + " columns");
      return 0;
    }
    return ++next_;
  }
  void Keep(BulkKind kind, std::string_view v) {
    batch_.values.push_back({kind, 0, 0, batch_.bytes.size(), v.size()});
    batch_.bytes.append(v);
  }
  Status Finished() const {
    return SqlError(StatusCode::kFailedPrecondition, Engine::kSqlite, c_.DisplayUrl(), s_.sql,
                    "the bulk writer is finished already");
  }

  SqliteConnection& c_;
  BulkInsertStatement s_;
  std::unique_ptr<BulkSteps> own_steps_;  // alone
  BulkSteps& steps_;
  int next_ = 0;
  std::int64_t rows_ = 0;
  Status error_;
  bool finished_ = false;
  BulkBatch batch_;  // the rows being made
};

class SqliteBulkGroup final : public BulkGroup {
 public:
  SqliteBulkGroup(SqliteConnection& c, std::vector<BulkInsertStatement> statements, bool own_tx)
      : steps_(c, own_tx) {
    for (BulkInsertStatement& s : statements) {
      writers_.push_back(std::make_unique<SqliteBulkWriter>(c, std::move(s), steps_));
    }
  }
  ~SqliteBulkGroup() override {
    if (!finished_) Abandon();
  }

  BulkWriter& writer(std::size_t table) override { return *writers_.at(table); }

  Status Finish() override {
    if (finished_) {
      return Status::FailedPrecondition("the bulk group is finished already");
    }
    Status s;
    for (auto& w : writers_) {
      Status closed = w->Close();
      if (s.ok()) s = closed;
    }
    Status stopped = steps_.Stop(/*discard=*/!s.ok());
    if (s.ok()) s = stopped;
    if (!s.ok()) {
      Abandon();
      return s;
    }
    finished_ = true;
    return steps_.End(/*keep=*/true);
  }

 private:
  void Abandon() {
    finished_ = true;
    (void)steps_.Stop(/*discard=*/true);
    for (auto& w : writers_) w->Reset();
    (void)steps_.End(/*keep=*/false);
  }

  BulkSteps steps_;  // declared first: destroyed after the writers
  std::vector<std::unique_ptr<SqliteBulkWriter>> writers_;
  bool finished_ = false;
};

// The INSERT of `columns` into `table`.
Result<BulkInsertStatement> SqliteConnection::PrepareInsert(
    std::string_view table, const std::vector<std::string>& columns) {
  if (!IsIdentifier(table) || columns.empty()) {
    return SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, display_, {},
                    "bulk insert needs a plain table name and at least one column");
  }
  std::string sql = "INSERT INTO " + std::string(table) + " (";
  std::string values;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (!IsIdentifier(columns[i])) {
      return SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, display_, {},
                      "bulk insert: \"" + columns[i] + "\" is not a plain column name");
    }
    sql += (i ? ", " : "") + columns[i];
    values += (i ? ", $" : "$") + std::to_string(i + 1);
  }
  sql += ") VALUES (" + values + ")";
  BulkInsertStatement s;
  s.sql = std::move(sql);
  s.columns = static_cast<int>(columns.size());
  int rc = sqlite3_prepare_v3(db_, s.sql.data(), static_cast<int>(s.sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s.stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, s.sql);
  return s;
}

// Opens the bulk write's transaction, or its savepoint in the caller's; true for its own.
Result<bool> SqliteConnection::BeginBulk() {
  const bool own_tx = !InTransaction();
  // Inside the caller's transaction, the pages it changed so far go to the write-ahead log first
  // (they would at its commit): in WAL mode SQLite copies a page changed before a savepoint to
  // the savepoint's journal (a temporary file) when it must spill that page from its cache
  // inside the savepoint. An import of 200,000 findings copied 70 MB of them so, writing the
  // obligations after the findings, where it now copies next to nothing.
  if (!own_tx) {
    int rc_flush = sqlite3_db_cacheflush(db_);
    if (rc_flush != SQLITE_OK) return Error(rc_flush, "flushing the transaction's pages");
  }
  ISMS_RETURN_IF_ERROR(ExecuteRaw(own_tx ? "BEGIN IMMEDIATE" : "SAVEPOINT isms_bulk"));
  return own_tx;
}

Result<std::unique_ptr<BulkWriter>> SqliteConnection::BulkInsert(
    std::string_view table, const std::vector<std::string>& columns) {
  ISMS_RETURN_IF_ERROR(Ready());
  ISMS_ASSIGN_OR_RETURN(BulkInsertStatement s, PrepareInsert(table, columns));
  Result<bool> own_tx = BeginBulk();
  if (!own_tx.ok()) {
    sqlite3_finalize(s.stmt);
    return own_tx.status();
  }
  return std::unique_ptr<BulkWriter>(new SqliteBulkWriter(*this, std::move(s), *own_tx));
}

Result<std::unique_ptr<BulkGroup>> SqliteConnection::BulkInsertGroup(
    const std::vector<BulkTable>& tables) {
  ISMS_RETURN_IF_ERROR(Ready());
  if (tables.empty()) {
    return SqlError(StatusCode::kInvalidArgument, Engine::kSqlite, display_, {},
                    "a bulk group needs at least one table");
  }
  std::vector<BulkInsertStatement> statements;
  auto finalize = [&] {
    for (BulkInsertStatement& s : statements) sqlite3_finalize(s.stmt);
  };
  for (const BulkTable& t : tables) {
    Result<BulkInsertStatement> s = PrepareInsert(t.table, t.columns);
    if (!s.ok()) {
      finalize();
      return s.status();
    }
    statements.push_back(std::move(*s));
  }
  Result<bool> own_tx = BeginBulk();
  if (!own_tx.ok()) {
    finalize();
    return own_tx.status();
  }
  return std::unique_ptr<BulkGroup>(new SqliteBulkGroup(*this, std::move(statements), *own_tx));
}

// The thread of CheckpointInBackground, with its own connection to the store: woken by a commit
// that leaves the write-ahead log past the threshold, it copies the log into the store (a
// PASSIVE checkpoint: it takes no lock that a writer or reader waits for).
class SqliteConnection::Checkpointer {
 public:
  Checkpointer(sqlite3* db, int pages) : db_(db), pages_(pages), thread_([this] { Run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
    sqlite3_close_v2(db_);
  }
  int pages() const { return pages_; }
  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      due_ = true;
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    pthread_setname_np(pthread_self(), "wal-checkpoint");
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return due_ || stop_; });
      if (stop_) return;
      due_ = false;
      lock.unlock();
      // Busy (another checkpoint running) or failed: the next commit past the threshold tries
      // again.
      (void)sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  sqlite3* db_;
  const int pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false, stop_ = false;
  std::thread thread_;  // last: it starts once the rest is ready
};

// sqlite3_wal_hook: after each commit, with the pages now in the log.
int SqliteConnection::OnWalCommit(void* checkpointer, sqlite3* db, const char* schema, int pages) {
  auto* c = static_cast<Checkpointer*>(checkpointer);
  if (pages >= 8 * c->pages()) {
    // The thread has fallen behind: this commit checkpoints, as SQLite's own hook would.
    (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= c->pages()) {
    c->Wake();
  }
  return SQLITE_OK;
}

Status SqliteConnection::CheckpointInBackground(int pages) {
  if (checkpointer_) return Status::Ok();
  const char* file = sqlite3_db_filename(db_, "main");
  if (file == nullptr || *file == '\0') return Status::Ok();  // in memory: nothing to copy
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return SqlError(CodeFor(rc), Engine::kSqlite, display_, {},
                    "cannot open a connection to checkpoint with: " + msg);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  checkpointer_ = std::make_unique<Checkpointer>(db, std::max(1, pages));
  // Replaces SQLite's own hook, which checkpoints on the committing thread.
  sqlite3_wal_hook(db_, &SqliteConnection::OnWalCommit, checkpointer_.get());
  return Status::Ok();
}

// A statement that may change several rows (a multi-row INSERT, an UPDATE) keeps a statement
// journal: the pages it changes, as they were, so that it can be undone alone. SQLite keeps it in
// memory up to 64 KiB, then in a temporary file. An audit chunk's inserts change pages all over
// the posting indexes: they wrote about twice the audit store's own size to such files (write
// calls, and page cache filled and freed). Kept in memory up to this size instead. Set once,
// before SQLite initialises (sqlite3_config refuses it afterwards, and the default stays).
constexpr int kStatementJournalInMemory = 64 << 20;

void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(
      once, [] { (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, kStatementJournalInMemory); });
}

}  // namespace

Result<std::unique_ptr<Connection>> OpenSqlite(std::string_view url) {
  ConfigureSqliteOnce();
  const std::string path(url.substr(std::string_view("sqlite:").size()));
  const std::string display(url);
  if (path.empty()) {
    return Status::InvalidArgument(
        "store URL \"" + display +
        "\" names no file: use sqlite:PATH, e.g. sqlite:./isms-data/isms.db");
  }
  ISMS_RETURN_IF_ERROR(PrepareFile(path));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return SqlError(CodeFor(rc), Engine::kSqlite, display, {}, "cannot open: " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  auto conn = std::make_unique<SqliteConnection>(db, display);
  ISMS_RETURN_IF_ERROR(conn->Execute(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
      "PRAGMA cache_size = -65536"));
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace isms::store::internal
