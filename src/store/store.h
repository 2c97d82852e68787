// The one narrow SQL interface of isms, with two engines: SQLite (embedded default) and
// PostgreSQL. Nothing outside src/store speaks to a database library. See docs/storage.md.
//
// URLs: "sqlite:PATH" (PATH created with its folder when missing; WAL journal) and
// "postgresql://..." / "postgres://..." (libpq connection URI). A PostgreSQL password is never
// taken from the URL on a command line: it comes from ~/.pgpass, PGPASSFILE, or the ISMS_STORE
// environment variable (which may hold a whole URL). Open() refuses a URL that carries a password
// unless it came from ISMS_STORE.
//
// SQL text is written once for both engines: placeholders are $1, $2, ... (each may repeat);
// integer, text, real, blob and NULL are the only value types; instants are stored as integer
// milliseconds since 1970-01-01T00:00:00Z. Where the dialects differ, the caller asks engine().
//
// Ownership and lifetime: a Statement and a BulkWriter borrow their Connection and must not
// outlive it. Thread-safety: a Connection and everything made from it belong to one thread at
// a time; open one connection per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace isms::store {

enum class Engine { kSqlite, kPostgres };
std::string_view EngineName(Engine e);  // "sqlite", "postgresql"

// A prepared statement. Bind parameters (1-based, matching $N), then Step() through the rows.
class Statement {
 public:
  virtual ~Statement() = default;

  virtual void BindInt(int index, std::int64_t value) = 0;
  virtual void BindDouble(int index, double value) = 0;
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindBlob(int index, std::string_view bytes) = 0;
  virtual void BindNull(int index) = 0;
  void BindOptionalText(int index, const std::optional<std::string>& v) {
    v ? BindText(index, *v) : BindNull(index);
  }
  void BindOptionalInt(int index, const std::optional<std::int64_t>& v) {
    v ? BindInt(index, *v) : BindNull(index);
  }

  // Runs the statement (first call) or moves to the next row. True when a row is available,
  // false when done. Errors name the SQL and the engine's message.
  virtual Result<bool> Step() = 0;

  // Column values of the current row (0-based). Reading NULL gives 0 / "" ; IsNull tells.
  virtual bool IsNull(int column) const = 0;
  virtual std::int64_t ColumnInt(int column) const = 0;
  virtual double ColumnDouble(int column) const = 0;
  virtual std::string ColumnText(int column) const = 0;
  virtual std::string ColumnBlob(int column) const = 0;
  // The text of a column of the current row without a copy ("" for NULL): valid until the next
  // Step(), Reset() or the statement's destruction. For readers of many rows.
  virtual std::string_view ColumnView(int column) const = 0;
  std::optional<std::string> ColumnOptionalText(int c) const {
    return IsNull(c) ? std::nullopt : std::optional<std::string>(ColumnText(c));
  }
  std::optional<std::int64_t> ColumnOptionalInt(int c) const {
    return IsNull(c) ? std::nullopt : std::optional<std::int64_t>(ColumnInt(c));
  }

  // Rows changed by the last INSERT/UPDATE/DELETE run through this statement.
  virtual std::int64_t ChangedRows() const = 0;

  // Ready to bind and run again (bindings are kept until rebound). Binding after Step() resets
  // the statement first. A parameter left unbound is NULL; binding a $N the SQL does not use,
  // or text that is not valid UTF-8 or holds a NUL byte, makes the next Step() fail.
  virtual void Reset() = 0;

  // Runs a statement from the start (after an implicit Reset()) to its end, ignoring any rows.
  Status Run();
};

// Many rows into one table, fast: COPY on PostgreSQL, one prepared INSERT on SQLite. Rows go
// in with Add*() per column in the order given at creation, then EndRow(). Finish() must be
// called (inside the caller's transaction) for the rows to be written; destroying an unfinished
// writer discards what Finish() has not sent. A row the store refuses (a unique violation) shows
// at a later EndRow() or at Finish() on either engine: both write while the caller makes rows.
class BulkWriter {
 public:
  virtual ~BulkWriter() = default;
  virtual void AddInt(std::int64_t v) = 0;
  virtual void AddDouble(double v) = 0;
  virtual void AddText(std::string_view v) = 0;
  virtual void AddBlob(std::string_view bytes) = 0;
  virtual void AddNull() = 0;
  virtual Status EndRow() = 0;
  virtual Status Finish() = 0;
};

// A table and the columns a bulk write fills, in the order of the values.
struct BulkTable {
  std::string table;
  std::vector<std::string> columns;
};

// Bulk writes into several tables at once, on one connection (BulkInsertGroup): one BulkWriter
// per table, in the order the tables were given. Each writer is used by one thread at a time,
// and different writers may be used by different threads at once (rows of a table and the rows
// derived from them, made on two threads). A writer's Finish() ends its table's rows; the
// group's Finish() ends the writers left and writes everything, or gives the first error of any
// table (a failed group writes nothing, as a failed BulkWriter). Destroying the group before its
// Finish() discards every table's rows. Both engines write every table's rows as they come, on
// a thread of the group's: SQLite steps their batches in the order handed over; PostgreSQL sends
// them in chunks, ending one table's COPY and starting the next where the table changes. The
// group's Finish() must come after the other threads are done with their writers.
class BulkGroup {
 public:
  virtual ~BulkGroup() = default;
  virtual BulkWriter& writer(std::size_t table) = 0;
  virtual Status Finish() = 0;
};

// Bulk writers and open statements: from BulkInsert() until Finish() or the writer's destruction,
// the connection refuses every other call (kFailedPrecondition). On PostgreSQL, rows of a query
// stream in one at a time; running another statement on the connection before a query is read to
// its end buffers that query's remaining rows in memory.
class Connection {
 public:
  virtual ~Connection() = default;

  // Opens a store by URL (see above).
  static Result<std::unique_ptr<Connection>> Open(std::string_view url);

  virtual Engine engine() const = 0;
  // The URL without any password, for messages.
  virtual std::string DisplayUrl() const = 0;

  // Runs one or more statements separated by ';' that take no parameters.
  virtual Status Execute(std::string_view sql) = 0;

  virtual Result<std::unique_ptr<Statement>> Prepare(std::string_view sql) = 0;

  virtual Result<std::unique_ptr<BulkWriter>> BulkInsert(
      std::string_view table, const std::vector<std::string>& columns) = 0;
  // Several tables at once (see BulkGroup); the connection is busy until the group finishes.
  virtual Result<std::unique_ptr<BulkGroup>> BulkInsertGroup(
      const std::vector<BulkTable>& tables) = 0;

  // Transactions do not nest. Begin() on SQLite takes the write lock at once (IMMEDIATE).
  // Commit() and Rollback() end every statement of the connection still running (left on a
  // row): read a result to its end, or expect it to start again if stepped after the commit.
  virtual Status Begin() = 0;
  // A read-only transaction whose statements all see one snapshot of the store (SQLite: a
  // deferred transaction in WAL mode; PostgreSQL: REPEATABLE READ READ ONLY). It takes no
  // write lock. End it with Commit() or Rollback().
  virtual Status BeginRead() = 0;
  // A write transaction that will add a large part of the store (the first import of a large
  // scan report). On SQLite, when no other connection has the store open, its pages go straight
  // into the store file through a rollback journal (synchronous FULL), each written once,
  // instead of into the write-ahead log and again into the store at the checkpoint that follows
  // the commit. Meanwhile other connections wait (up to the busy timeout, 10 s) to write, to
  // open the store, and to read once it has written pages out; Commit() and Rollback() put the
  // store back in WAL mode. A transaction cut short (a crash, kill -9) is rolled back from the
  // journal by the next connection. With another connection open, and on PostgreSQL: Begin().
  virtual Status BeginLarge() { return Begin(); }
  // For a connection that writes all the time and must not wait (the syslog writer of `isms
  // serve`). On SQLite, the commit that takes the write-ahead log past 1,000 pages copies it
  // back into the store (a checkpoint: writes and two fsyncs) before it returns. From this call
  // until the connection closes, a thread of its own does that instead, on a connection of its
  // own, while the commits go on; should the log reach 8,000 pages all the same (the thread
  // fallen behind), each commit checkpoints as before. `pages` changes the 1,000 (and the 8,000
  // with it). PostgreSQL checkpoints in its own processes: nothing
  // changes there.
  virtual Status CheckpointInBackground(int pages = 1000) {
    (void)pages;
    return Status::Ok();
  }
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  virtual bool InTransaction() const = 0;
};

// Rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) {}
  ~Transaction() {
    if (active_) (void)c_.Rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin() {
    Status s = c_.Begin();
    active_ = s.ok();
    return s;
  }
  Status BeginLarge() {
    Status s = c_.BeginLarge();
    active_ = s.ok();
    return s;
  }
  Status BeginRead() {
    Status s = c_.BeginRead();
    active_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = c_.Commit();
    if (s.ok()) active_ = false;
    return s;
  }

 private:
  Connection& c_;
  bool active_ = false;
};

// Versioned schema migrations. Each migration has a number (1, 2, ...), a name, and SQL for each
// engine. Migrate() applies the missing ones in order, each in its own transaction, recording
// them in table schema_migrations; it refuses a store whose recorded version is newer than the
// newest migration this binary knows ("store was written by a newer isms ...").
struct Migration {
  int version;
  std::string name;
  std::string sqlite_sql;
  std::string postgres_sql;
};
// Safe when several processes migrate one store at once (PostgreSQL: an advisory lock; SQLite:
// BEGIN IMMEDIATE).
Status Migrate(Connection& c, const std::vector<Migration>& migrations);
Result<int> SchemaVersion(Connection& c);  // 0 for an empty store

// The store URL to open: the --store flag when given (refused when it carries a password, which
// `ps` would show), else $ISMS_STORE, else "sqlite:./isms-data/isms.db".
Result<std::string> ResolveStoreUrl(std::optional<std::string> flag_value);

}  // namespace isms::store
