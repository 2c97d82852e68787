// The PostgreSQL engine: libpq, one PGconn per Connection.
//
// Statements are prepared server-side under names unique to the connection (isms_1, isms_2, ...)
// and run with PQsendQueryPrepared in single-row mode, so a query's rows arrive one at a time and a
// million-row result never sits in memory. Parameters go as text, blobs as binary. Bulk writes use
// COPY ... FROM STDIN in text format.
#include <dlfcn.h>
#include <libpq-fe.h>  // types and constants; the functions come through LibPq

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>

#include "core/ordered_worker.h"
#include "store/store_internal.h"

namespace isms::store::internal {
namespace {

// libpq is loaded when a PostgreSQL store is first opened, not when isms starts: it and the
// libraries it needs (Kerberos, LDAP, GnuTLS and others, twenty in all) added about 6 ms to the
// start of every command, most of which use SQLite. Its functions are called through this table.
#define ISMS_LIBPQ_FUNCTIONS(X) \
  X(PQclear)                    \
  X(PQcmdStatus)                \
  X(PQcmdTuples)                \
  X(PQconnectdb)                \
  X(PQdescribePrepared)         \
  X(PQerrorMessage)             \
  X(PQexec)                     \
  X(PQfinish)                   \
  X(PQfreemem)                  \
  X(PQftype)                    \
  X(PQgetResult)                \
  X(PQgetisnull)                \
  X(PQgetlength)                \
  X(PQgetvalue)                 \
  X(PQnfields)                  \
  X(PQnparams)                  \
  X(PQprepare)                  \
  X(PQputCopyData)              \
  X(PQputCopyEnd)               \
  X(PQresultErrorField)         \
  X(PQresultStatus)             \
  X(PQsendQueryPrepared)        \
  X(PQsetClientEncoding)        \
  X(PQsetNoticeProcessor)       \
  X(PQsetSingleRowMode)         \
  X(PQstatus)                   \
  X(PQtransactionStatus)        \
  X(PQunescapeBytea)

constexpr const char* kLibPq = "libpq.so.5";

struct LibPq {
#define ISMS_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  ISMS_LIBPQ_FUNCTIONS(ISMS_LIBPQ_POINTER)
#undef ISMS_LIBPQ_POINTER
};

// Loads libpq once; its functions, or why they could not be had.
const Result<LibPq>& LoadLibPq() {
  static const Result<LibPq> loaded = []() -> Result<LibPq> {
    void* lib = ::dlopen(kLibPq, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      return Status::Unavailable(std::string("PostgreSQL stores need ") + kLibPq + ", which " +
                                 "could not be loaded (" + (why != nullptr ? why : "?") +
                                 "): install it (Debian: apt-get install libpq5)");
    }
    LibPq pq;
#define ISMS_LIBPQ_LOAD(name)                                                                   \
  pq.name = reinterpret_cast<decltype(pq.name)>(::dlsym(lib, #name));                           \
  if (pq.name == nullptr) {                                                                     \
    return Status::Unavailable(std::string(kLibPq) + " has no " #name                           \
                                                     ": install libpq5 of Debian 12 or later"); \
  }
    ISMS_LIBPQ_FUNCTIONS(ISMS_LIBPQ_LOAD)
#undef ISMS_LIBPQ_LOAD
    return pq;  // the library stays loaded for the process's life
  }();
  return loaded;
}

// The loaded functions: only called once OpenPostgres loaded them.
const LibPq& Pq() {
  return *LoadLibPq();
}

constexpr unsigned kByteaOid = 17;
constexpr std::size_t kCopyFlushBytes = 1 << 18;
// The rows a group's writer hands over at a time (see PgBulkGroup): the sender starts a COPY
// wherever the table changes, and fewer, longer COPYs cost the server and the client less. The
// Trivy import of docs/benchmarks.md (200,000 findings, 242,000 obligations): 3.23-3.72 s,
// median 3.26, in chunks of 4 MiB; 3.19-3.82 s, median 3.38, of 1 MiB; 3.44-4.04 s, median
// 3.73, of 256 KiB (alternated runs).
constexpr std::size_t kGroupChunkBytes = 1 << 22;

StatusCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return StatusCode::kAlreadyExists;
  if (state.size() != 5) return StatusCode::kInternal;
  std::string_view cls = state.substr(0, 2);
  if (cls == "23" || cls == "25") return StatusCode::kFailedPrecondition;
  if (cls == "08" || cls == "53" || cls == "57" || cls == "40" || state == "55P03") {
    return StatusCode::kUnavailable;
  }
  if (cls == "22") return StatusCode::kInvalidArgument;
  if (cls == "58") return StatusCode::kIoError;
  if (cls == "XX") return StatusCode::kCorruption;
  return StatusCode::kInternal;
}

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running..."):
// fold them into one.
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char ch : text) {
    if (ch == '\n' || ch == '\t' || ch == '\r' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

void IgnoreNotice(void*, const char*) {}

// Whether `v` is ASCII with neither a backslash nor a control character below 0x0e (NUL, tab,
// newline and carriage return among them): valid text that COPY's text format takes as it is.
// Nearly every stored value is; eight bytes are checked at a time.
bool PlainCopyText(std::string_view v) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const std::size_t n = v.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    // A byte's high bit is set in `below` when the byte is below 0x0e, in `backslash` when it
    // is a backslash (exactly so for the word as a whole: a false mark needs a true one below
    // it), and in `w` itself when it is not ASCII.
    const std::uint64_t below = (w - kOnes * 0x0e) & ~w;
    const std::uint64_t x = w ^ (kOnes * '\\');
    const std::uint64_t backslash = (x - kOnes) & ~x;
    if (((below | backslash | w) & kHighs) != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] >= 0x80 || p[i] < 0x0e || p[i] == '\\') return false;
  }
  return true;
}

// Appends `v` escaped for COPY's text format.
void AppendCopyText(std::string& out, std::string_view v) {
  // Most values need no escape at all: appended whole.
  auto needs_escape = [](unsigned char c) { return c == '\\' || c < 0x0e; };
  std::size_t i = 0;
  while (i < v.size() && !needs_escape(static_cast<unsigned char>(v[i]))) ++i;
  if (i == v.size()) {
    out.append(v);
    return;
  }
  std::size_t start = 0;
  for (; i < v.size(); ++i) {
    const char* esc = nullptr;
    switch (v[i]) {
      case '\\': esc = "\\\\"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      default: continue;
    }
    out.append(v.data() + start, i - start);
    out += esc;
    start = i + 1;
  }
  out.append(v.data() + start, v.size() - start);
}

void AppendHex(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// Decodes bytea's text output: hex ("\x0a0b") or, from old servers, the escape format.
std::string DecodeBytea(const char* text, int length) {
  if (length >= 2 && text[0] == '\\' && text[1] == 'x') {
    std::string out;
    out.reserve((length - 2) / 2);
    for (int i = 2; i + 1 < length; i += 2) {
      out += static_cast<char>(HexValue(text[i]) << 4 | HexValue(text[i + 1]));
    }
    return out;
  }
  std::size_t n = 0;
  unsigned char* raw = Pq().PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  Pq().PQfreemem(raw);
  return out;
}

class PgStatement;

class PgConnection final : public Connection {
 public:
  PgConnection(PGconn* conn, std::string display) : conn_(conn), display_(std::move(display)) {}
  ~PgConnection() override { Pq().PQfinish(conn_); }

  Engine engine() const override { return Engine::kPostgres; }
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
  // COPY `table` (`columns`) FROM STDIN.
  Result<std::string> CopySql(std::string_view table, const std::vector<std::string>& columns);
  // Ends the COPY running on the connection (`sql`): its rows are kept, and the server's verdict
  // given, when `abort_reason` is null; otherwise it fails with that reason, and OK is given.
  Status EndCopy(std::string_view sql, const char* abort_reason) {
    Status s;
    if (Pq().PQputCopyEnd(conn_, abort_reason) != 1 && !abort_reason) s = ResultError(nullptr, sql);
    while (PGresult* r = Pq().PQgetResult(conn_)) {
      if (!abort_reason && s.ok() && Pq().PQresultStatus(r) != PGRES_COMMAND_OK) {
        s = ResultError(r, sql);
      }
      Pq().PQclear(r);
    }
    return s;
  }

  Status Begin() override {
    ISMS_RETURN_IF_ERROR(Ready());
    if (InTransaction()) {
      return Error(StatusCode::kFailedPrecondition, {},
                   "a transaction is open already, and transactions do not nest");
    }
    return ExecuteRaw("BEGIN");
  }
  Status BeginRead() override {
    ISMS_RETURN_IF_ERROR(Ready());
    if (InTransaction()) {
      return Error(StatusCode::kFailedPrecondition, {},
                   "a transaction is open already, and transactions do not nest");
    }
    return ExecuteRaw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }
  Status Commit() override {
    ISMS_RETURN_IF_ERROR(Ready());
    if (!InTransaction())
      return Error(StatusCode::kFailedPrecondition, "COMMIT", "no transaction is open");
    if (Pq().PQtransactionStatus(conn_) == PQTRANS_INERROR) {
      (void)ExecuteRaw("ROLLBACK");
      ForgetPlans();
      return Error(StatusCode::kFailedPrecondition, "COMMIT",
                   "the transaction was aborted by an earlier error and has been rolled back");
    }
    return ExecuteRaw("COMMIT");
  }
  Status Rollback() override {
    ISMS_RETURN_IF_ERROR(Ready());
    if (!InTransaction()) {
      return Error(StatusCode::kFailedPrecondition, "ROLLBACK", "no transaction is open");
    }
    ForgetPlans();
    return ExecuteRaw("ROLLBACK");
  }
  bool InTransaction() const override {
    PGTransactionStatusType t = Pq().PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
  }

  PGconn* pg() { return conn_; }
  Status Error(StatusCode code, std::string_view sql, std::string_view message) const {
    return SqlError(code, Engine::kPostgres, display_, sql, message);
  }
  // The error carried by `res` (or by the connection when `res` is null).
  Status ResultError(const PGresult* res, std::string_view sql) const {
    const char* state = res ? Pq().PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = res ? Pq().PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const char* detail = res ? Pq().PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr;
    std::string msg = primary ? primary : OneLine(Pq().PQerrorMessage(conn_));
    if (detail) msg += std::string(": ") + detail;
    StatusCode code = state ? CodeForSqlState(state) : StatusCode::kInternal;
    if (Pq().PQstatus(conn_) == CONNECTION_BAD) {
      code = StatusCode::kUnavailable;
      msg += ": the connection to the server is lost; open the store again";
    }
    return Error(code, sql, msg);
  }
  // Runs SQL through the simple-query protocol, ignoring any rows.
  Status ExecuteRaw(std::string_view sql) {
    PGresult* res = Pq().PQexec(conn_, std::string(sql).c_str());
    ExecStatusType st = Pq().PQresultStatus(res);
    Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY
                   ? Status::Ok()
                   : ResultError(res, sql);
    Pq().PQclear(res);
    return s;
  }
  // Makes the connection free for a new command: refuses during a bulk write, buffers the rest of
  // a streaming query, and drops statements destroyed since the last call.
  Status Ready();
  void set_bulk_active(bool b) { bulk_active_ = b; }
  void set_streaming(PgStatement* s) { streaming_ = s; }
  PgStatement* streaming() const { return streaming_; }
  void Deallocate(std::string name) { to_deallocate_.push_back(std::move(name)); }

  // Prepared statements are kept by their SQL for the session and reused: each new one costs two
  // round trips (prepare, describe) and a third to drop it. A rollback forgets them all (a plan
  // may name what the rolled-back transaction created, such as a temporary table).
  struct Plan {
    std::string name;
    int params;
  };
  const Plan* FindPlan(const std::string& sql) const {
    auto it = plans_.find(sql);
    return it == plans_.end() ? nullptr : &it->second;
  }
  bool KeepPlan(const std::string& sql, const std::string& name, int params) {
    if (plans_.size() >= kMaxPlans) return false;
    plans_.emplace(sql, Plan{name, params});
    return true;
  }
  void ForgetPlans() {
    for (auto& [sql, plan] : plans_) to_deallocate_.push_back(plan.name);
    plans_.clear();
  }

 private:
  PGconn* conn_;
  std::string display_;
  bool bulk_active_ = false;
  PgStatement* streaming_ = nullptr;
  std::vector<std::string> to_deallocate_;
  int next_name_ = 0;
  static constexpr size_t kMaxPlans = 256;
  std::unordered_map<std::string, Plan> plans_;
};

class PgStatement final : public Statement {
 public:
  PgStatement(PgConnection& c, std::string name, std::string sql, int params, bool kept)
      : c_(c),
        kept_(kept),
        name_(std::move(name)),
        sql_(std::move(sql)),
        values_(params),
        is_null_(params, true),
        formats_(params, 0) {}
  ~PgStatement() override {
    Reset();
    if (!kept_) c_.Deallocate(std::move(name_));
  }

  void BindInt(int index, std::int64_t value) override { Set(index, std::to_string(value), 0); }
  void BindDouble(int index, double value) override { Set(index, FormatDouble(value), 0); }
  void BindText(int index, std::string_view value) override {
    if (Status s = CheckText(value); !s.ok()) {
      if (Slot(index) >= 0)
        bind_errors_[index] = s.WithContext("parameter $" + std::to_string(index));
      return;
    }
    Set(index, std::string(value), 0);
  }
  void BindBlob(int index, std::string_view bytes) override { Set(index, std::string(bytes), 1); }
  void BindNull(int index) override {
    int slot = Slot(index);
    if (slot < 0) return;
    is_null_[slot] = true;
    bind_errors_.erase(index);
  }

  Result<bool> Step() override;

  bool IsNull(int column) const override {
    return !Valid(column) || Pq().PQgetisnull(row_, 0, column);
  }
  std::int64_t ColumnInt(int column) const override {
    return IsNull(column) ? 0 : ParseInt(Pq().PQgetvalue(row_, 0, column));
  }
  double ColumnDouble(int column) const override {
    return IsNull(column) ? 0 : ParseDouble(Pq().PQgetvalue(row_, 0, column));
  }
  std::string ColumnText(int column) const override {
    if (IsNull(column)) return {};
    return std::string(Pq().PQgetvalue(row_, 0, column), Pq().PQgetlength(row_, 0, column));
  }
  std::string_view ColumnView(int column) const override {
    if (IsNull(column)) return {};
    return std::string_view(Pq().PQgetvalue(row_, 0, column), Pq().PQgetlength(row_, 0, column));
  }
  std::string ColumnBlob(int column) const override {
    if (IsNull(column)) return {};
    const char* v = Pq().PQgetvalue(row_, 0, column);
    int n = Pq().PQgetlength(row_, 0, column);
    return Pq().PQftype(row_, column) == kByteaOid ? DecodeBytea(v, n) : std::string(v, n);
  }
  std::int64_t ChangedRows() const override { return changed_; }
  void Reset() override {
    ClearRow();
    for (PGresult* r : buffered_) Pq().PQclear(r);
    buffered_.clear();
    if (streaming_) {
      while (PGresult* r = Pq().PQgetResult(c_.pg())) Pq().PQclear(r);
      StopStreaming();
    }
    started_ = done_ = false;
  }

  // Reads the rest of the running query into memory, freeing the connection for another command.
  void BufferRest() {
    while (PGresult* r = Pq().PQgetResult(c_.pg())) buffered_.push_back(r);
    StopStreaming();
  }

 private:
  int Slot(int index) {
    if (started_) Reset();
    if (index < 1 || index > static_cast<int>(values_.size())) {
      bind_errors_[index] =
          Status::InvalidArgument("parameter $" + std::to_string(index) +
                                  " is bound but the statement has no $" + std::to_string(index));
      return -1;
    }
    return index - 1;
  }
  void Set(int index, std::string value, int format) {
    int slot = Slot(index);
    if (slot < 0) return;
    values_[slot] = std::move(value);
    is_null_[slot] = false;
    formats_[slot] = format;
    bind_errors_.erase(index);
  }
  bool Valid(int column) const {
    return row_ != nullptr && column >= 0 && column < Pq().PQnfields(row_);
  }
  void ClearRow() {
    Pq().PQclear(row_);
    row_ = nullptr;
  }
  void StopStreaming() {
    streaming_ = false;
    if (c_.streaming() == this) c_.set_streaming(nullptr);
  }
  PGresult* NextResult() {
    if (!buffered_.empty()) {
      PGresult* r = buffered_.front();
      buffered_.pop_front();
      return r;
    }
    if (!streaming_) return nullptr;
    PGresult* r = Pq().PQgetResult(c_.pg());
    if (r == nullptr) StopStreaming();
    return r;
  }

  PgConnection& c_;
  bool kept_;
  std::string name_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<char> is_null_;
  std::vector<int> formats_;
  std::map<int, Status> bind_errors_;
  std::deque<PGresult*> buffered_;
  PGresult* row_ = nullptr;
  bool started_ = false;
  bool streaming_ = false;
  bool done_ = false;
  std::int64_t changed_ = 0;
};

Status PgConnection::Ready() {
  if (bulk_active_) {
    return Error(StatusCode::kFailedPrecondition, {},
                 "a bulk write is in progress on this connection: Finish() or discard it first");
  }
  if (streaming_ != nullptr) streaming_->BufferRest();
  if (!to_deallocate_.empty() && Pq().PQtransactionStatus(conn_) != PQTRANS_INERROR) {
    std::string sql;
    for (const std::string& name : to_deallocate_) sql += "DEALLOCATE " + name + ";";
    to_deallocate_.clear();
    Pq().PQclear(Pq().PQexec(conn_, sql.c_str()));
  }
  return Status::Ok();
}

Result<bool> PgStatement::Step() {
  if (!bind_errors_.empty()) {
    const Status& e = bind_errors_.begin()->second;
    return c_.Error(e.code(), sql_, e.message());
  }
  if (done_) return false;
  if (!started_) {
    ISMS_RETURN_IF_ERROR(c_.Ready());
    const int n = static_cast<int>(values_.size());
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    for (int i = 0; i < n; ++i) {
      values[i] = is_null_[i] ? nullptr : values_[i].data();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    if (!Pq().PQsendQueryPrepared(c_.pg(), name_.c_str(), n, values.data(), lengths.data(),
                                  formats_.data(), 0)) {
      return c_.ResultError(nullptr, sql_);
    }
    started_ = streaming_ = true;
    c_.set_streaming(this);
    if (!Pq().PQsetSingleRowMode(c_.pg())) {
      Reset();
      return c_.Error(StatusCode::kInternal, sql_, "libpq refused single-row mode");
    }
  }
  ClearRow();
  while (PGresult* r = NextResult()) {
    switch (Pq().PQresultStatus(r)) {
      case PGRES_SINGLE_TUPLE: row_ = r; return true;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        changed_ = std::string_view(Pq().PQcmdStatus(r)).substr(0, 6) == "SELECT"
                       ? 0
                       : ParseInt(Pq().PQcmdTuples(r));
        Pq().PQclear(r);
        break;
      default: {
        Status err = c_.ResultError(r, sql_);
        Pq().PQclear(r);
        Reset();
        return err;
      }
    }
  }
  done_ = true;
  return false;
}

Result<std::unique_ptr<Statement>> PgConnection::Prepare(std::string_view sql) {
  ISMS_RETURN_IF_ERROR(Ready());
  std::string text(sql);
  if (const Plan* plan = FindPlan(text)) {
    return std::unique_ptr<Statement>(new PgStatement(*this, plan->name, text, plan->params, true));
  }
  std::string name = "isms_" + std::to_string(++next_name_);
  PGresult* res = Pq().PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
  if (Pq().PQresultStatus(res) != PGRES_COMMAND_OK) {
    Status s = ResultError(res, sql);
    Pq().PQclear(res);
    return s;
  }
  Pq().PQclear(res);
  res = Pq().PQdescribePrepared(conn_, name.c_str());
  if (Pq().PQresultStatus(res) != PGRES_COMMAND_OK) {
    Status s = ResultError(res, sql);
    Pq().PQclear(res);
    Deallocate(name);
    return s;
  }
  int params = Pq().PQnparams(res);
  Pq().PQclear(res);
  const bool kept = KeepPlan(text, name, params);
  return std::unique_ptr<Statement>(new PgStatement(*this, name, text, params, kept));
}

// COPY table (columns) FROM STDIN, text format, sent in chunks of kCopyFlushBytes. Inside the
// caller's transaction the COPY runs in a savepoint, so a failed or discarded writer leaves that
// transaction usable; outside one, the COPY is its own transaction.
// The rows a group's writer has made, handed to the group's sender (below).
class PgBulkSender {
 public:
  virtual ~PgBulkSender() = default;
  // Takes `rows` (COPY text of whole rows) of the group's table `table`; gives the sender's first
  // failure, if any.
  virtual Status Send(std::size_t table, std::string&& rows) = 0;
};

class PgBulkWriter final : public BulkWriter {
 public:
  // Alone (a BulkInsert), or one table of a group, whose rows go to `sender` in chunks.
  PgBulkWriter(PgConnection& c, std::string sql, int columns, bool savepoint,
               PgBulkSender* sender = nullptr, std::size_t table = 0)
      : c_(c), sql_(std::move(sql)), columns_(columns), savepoint_(savepoint), sender_(sender),
        table_(table), flush_bytes_(sender_ ? kGroupChunkBytes : kCopyFlushBytes) {
    if (!sender_) c_.set_bulk_active(true);
    buf_.reserve(flush_bytes_ + 4096);
  }
  ~PgBulkWriter() override {
    if (!finished_ && !sender_) Abandon("the bulk writer was discarded before Finish()");
  }
  const std::string& sql() const { return sql_; }

  void AddInt(std::int64_t v) override {
    if (!Next()) return;
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    buf_.append(digits, static_cast<std::size_t>(end - digits));
  }
  void AddDouble(double v) override {
    if (Next()) buf_ += FormatDouble(v);
  }
  void AddText(std::string_view v) override {
    if (!Next()) return;
    if (PlainCopyText(v)) {
      buf_.append(v);
      return;
    }
    if (Status s = CheckText(v); !s.ok()) {
      error_ = c_.Error(s.code(), sql_, s.message());
      return;
    }
    AppendCopyText(buf_, v);
  }
  void AddBlob(std::string_view bytes) override {
    if (!Next()) return;
    buf_ += "\\\\x";
    AppendHex(buf_, bytes);
  }
  void AddNull() override {
    if (Next()) buf_ += "\\N";
  }

  Status EndRow() override {
    if (finished_) return Finished();
    if (!error_.ok()) return error_;
    if (column_ != columns_) {
      error_ = c_.Error(StatusCode::kInvalidArgument, sql_,
                        "row " + std::to_string(rows_ + 1) + " has " + std::to_string(column_) +
                            " values for " + std::to_string(columns_) + " columns");
      return error_;
    }
    buf_ += '\n';
    column_ = 0;
    ++rows_;
    if (buf_.size() >= flush_bytes_) Flush();
    return error_;
  }

  Status Finish() override {
    if (finished_) return Finished();
    if (Status closed = Close(); sender_ || !closed.ok()) {
      if (!sender_) Abandon("isms stopped the bulk write after an error");
      return closed;
    }
    c_.set_bulk_active(false);
    Status s = c_.EndCopy(sql_, nullptr);
    if (savepoint_) {
      (void)c_.ExecuteRaw(s.ok() ? "RELEASE SAVEPOINT isms_bulk"
                                 : "ROLLBACK TO SAVEPOINT isms_bulk; RELEASE SAVEPOINT isms_bulk");
    }
    return s;
  }

  // Ends the rows, sending the last (to the group's sender in a group); gives this writer's first
  // error.
  Status Close() {
    if (finished_) return error_;
    finished_ = true;
    if (error_.ok() && column_ != 0) {
      error_ =
          c_.Error(StatusCode::kInvalidArgument, sql_, "the last row was not ended with EndRow()");
    }
    if (error_.ok()) Flush();
    return error_;
  }

 private:
  bool Next() {
    if (finished_ || !error_.ok()) return false;
    if (column_ >= columns_) {
      error_ = c_.Error(StatusCode::kInvalidArgument, sql_,
                        "row " + std::to_string(rows_ + 1) + " has more values than the " +
                            std::to_string(columns_) + " columns");
      return false;
    }
    if (column_ > 0) buf_ += '\t';
    ++column_;
    return true;
  }
  void Flush() {
    if (buf_.empty()) return;
    if (sender_) {
      error_ = sender_->Send(table_, std::move(buf_));
      buf_ = std::string();
      buf_.reserve(flush_bytes_ + 4096);
      return;
    }
    if (Pq().PQputCopyData(c_.pg(), buf_.data(), static_cast<int>(buf_.size())) != 1) {
      error_ = c_.ResultError(nullptr, sql_);
    }
    buf_.clear();
  }
  Status Finished() const {
    return c_.Error(StatusCode::kFailedPrecondition, sql_, "the bulk writer is finished already");
  }
  void Abandon(const char* reason) {
    finished_ = true;
    c_.set_bulk_active(false);
    (void)c_.EndCopy(sql_, reason);
    if (savepoint_) {
      (void)c_.ExecuteRaw("ROLLBACK TO SAVEPOINT isms_bulk; RELEASE SAVEPOINT isms_bulk");
    }
  }

  PgConnection& c_;
  std::string sql_;
  int columns_;
  bool savepoint_;
  PgBulkSender* sender_;  // in a group
  std::size_t table_;
  std::size_t flush_bytes_;  // rows made before they are sent (or handed to the group)
  std::string buf_;
  int column_ = 0;
  std::int64_t rows_ = 0;
  Status error_;
  bool finished_ = false;
};

// A group's tables (see BulkGroup), inside one savepoint of the caller's transaction or a
// transaction of the group's own. The writers hand their rows over in chunks; a thread of the
// group's sends them, in the order handed over, each in a COPY of its table: one COPY at a time
// runs on a connection, so the sender ends one and starts the next where the table changes (a
// round trip every chunk of kGroupChunkBytes or more). The server so inserts every table's rows
// while the callers make the next ones, rather than the others' after the first.
class PgBulkGroup final : public BulkGroup, public PgBulkSender {
 public:
  PgBulkGroup(PgConnection& c, bool own_tx)
      : c_(c), own_tx_(own_tx),
        sender_(kQueued, [this](Chunk& chunk) { return Put(chunk.table, chunk.rows); }) {
    c_.set_bulk_active(true);
  }
  ~PgBulkGroup() override {
    if (!finished_) (void)End(Status::FailedPrecondition("discarded"));
  }
  void Add(std::unique_ptr<PgBulkWriter> w) { writers_.push_back(std::move(w)); }

  BulkWriter& writer(std::size_t table) override { return *writers_.at(table); }

  Status Send(std::size_t table, std::string&& rows) override {
    return sender_.Hand(Chunk{table, std::move(rows)});
  }

  Status Finish() override {
    if (finished_) return Status::FailedPrecondition("the bulk group is finished already");
    Status s;
    for (auto& w : writers_) {
      Status closed = w->Close();
      if (s.ok()) s = closed;
    }
    return End(std::move(s));
  }

 private:
  static constexpr std::size_t kQueued = 8;
  struct Chunk {
    std::size_t table = 0;
    std::string rows;
  };

  // Sends `rows` of `table`, in its COPY (started here if another runs).
  Status Put(std::size_t table, const std::string& rows) {
    if (copying_ != table) {
      if (copying_ != kNone) ISMS_RETURN_IF_ERROR(EndCopy(/*ok=*/true));
      const std::string& sql = writers_[table]->sql();
      PGresult* res = Pq().PQexec(c_.pg(), sql.c_str());
      const bool started = Pq().PQresultStatus(res) == PGRES_COPY_IN;
      Status s = started ? Status::Ok() : c_.ResultError(res, sql);
      Pq().PQclear(res);
      if (!started) return s;
      copying_ = table;
    }
    for (std::size_t at = 0; at < rows.size(); at += kCopyFlushBytes) {
      const std::size_t n = std::min(kCopyFlushBytes, rows.size() - at);
      if (Pq().PQputCopyData(c_.pg(), rows.data() + at, static_cast<int>(n)) != 1) {
        return c_.ResultError(nullptr, writers_[table]->sql());
      }
    }
    return Status::Ok();
  }
  // Ends the COPY running: its rows stay (`ok`) or it fails.
  Status EndCopy(bool ok) {
    const std::string& sql = writers_[copying_]->sql();
    copying_ = kNone;
    return c_.EndCopy(sql, ok ? nullptr : "isms stopped the bulk write");
  }
  // Sends what is left when `s` is OK, and ends the COPY and the savepoint or transaction.
  Status End(Status s) {
    finished_ = true;
    Status sent = sender_.Stop(/*discard=*/!s.ok());
    if (s.ok()) s = sent;
    if (copying_ != kNone) {
      Status ended = EndCopy(s.ok());
      if (s.ok()) s = ended;
    }
    c_.set_bulk_active(false);
    if (s.ok()) {
      Status ended = c_.ExecuteRaw(own_tx_ ? "COMMIT" : "RELEASE SAVEPOINT isms_bulk");
      if (ended.ok()) return ended;
      s = ended;
    }
    (void)c_.ExecuteRaw(own_tx_ ? "ROLLBACK"
                                : "ROLLBACK TO SAVEPOINT isms_bulk; RELEASE SAVEPOINT isms_bulk");
    return s;
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  PgConnection& c_;
  const bool own_tx_;
  bool finished_ = false;
  std::vector<std::unique_ptr<PgBulkWriter>> writers_;
  std::size_t copying_ = kNone;  // the table whose COPY runs (the sender's)
  OrderedWorker<Chunk> sender_;  // last: stopped before the rest goes
};

Result<std::string> PgConnection::CopySql(std::string_view table,
                                          const std::vector<std::string>& columns) {
  if (!IsIdentifier(table) || columns.empty()) {
    return Error(StatusCode::kInvalidArgument, {},
                 "bulk insert needs a plain table name and at least one column");
  }
  std::string sql = "COPY " + std::string(table) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (!IsIdentifier(columns[i])) {
      return Error(StatusCode::kInvalidArgument, {},
                   "bulk insert: \"" + columns[i] + "\" is not a plain column name");
    }
    sql += (i ? ", " : "") + columns[i];
  }
  sql += ") FROM STDIN";
  return sql;
}

Result<std::unique_ptr<BulkGroup>> PgConnection::BulkInsertGroup(
    const std::vector<BulkTable>& tables) {
  ISMS_RETURN_IF_ERROR(Ready());
  if (tables.empty()) {
    return Error(StatusCode::kInvalidArgument, {}, "a bulk group needs at least one table");
  }
  std::vector<std::string> sqls;
  for (const BulkTable& t : tables) {
    ISMS_ASSIGN_OR_RETURN(std::string sql, CopySql(t.table, t.columns));
    sqls.push_back(std::move(sql));
  }
  const bool own_tx = !InTransaction();
  ISMS_RETURN_IF_ERROR(ExecuteRaw(own_tx ? "BEGIN" : "SAVEPOINT isms_bulk"));
  auto group = std::make_unique<PgBulkGroup>(*this, own_tx);
  for (std::size_t i = 0; i < tables.size(); ++i) {
    group->Add(std::make_unique<PgBulkWriter>(*this, sqls[i],
                                              static_cast<int>(tables[i].columns.size()),
                                              /*savepoint=*/false, group.get(), i));
  }
  return std::unique_ptr<BulkGroup>(std::move(group));
}

Result<std::unique_ptr<BulkWriter>> PgConnection::BulkInsert(
    std::string_view table, const std::vector<std::string>& columns) {
  ISMS_RETURN_IF_ERROR(Ready());
  ISMS_ASSIGN_OR_RETURN(std::string sql, CopySql(table, columns));
  const bool savepoint = InTransaction();
  if (savepoint) ISMS_RETURN_IF_ERROR(ExecuteRaw("SAVEPOINT isms_bulk"));
  PGresult* res = Pq().PQexec(conn_, sql.c_str());
  if (Pq().PQresultStatus(res) != PGRES_COPY_IN) {
    Status s = ResultError(res, sql);
    Pq().PQclear(res);
    if (savepoint) (void)ExecuteRaw("ROLLBACK TO SAVEPOINT isms_bulk; RELEASE SAVEPOINT isms_bulk");
    return s;
  }
  Pq().PQclear(res);
  return std::unique_ptr<BulkWriter>(
      new PgBulkWriter(*this, sql, static_cast<int>(columns.size()), savepoint));
}

}  // namespace

Result<std::unique_ptr<Connection>> OpenPostgres(std::string_view url) {
  const std::string display = RedactUrl(url);
  if (const Result<LibPq>& pq = LoadLibPq(); !pq.ok()) {
    return SqlError(StatusCode::kUnavailable, Engine::kPostgres, display, {},
                    pq.status().message());
  }
  PGconn* conn = Pq().PQconnectdb(std::string(url).c_str());
  if (conn == nullptr) {
    return SqlError(StatusCode::kUnavailable, Engine::kPostgres, display, {},
                    "libpq could not allocate a connection");
  }
  if (Pq().PQstatus(conn) != CONNECTION_OK) {
    std::string msg = OneLine(Pq().PQerrorMessage(conn));
    Pq().PQfinish(conn);
    return SqlError(StatusCode::kUnavailable, Engine::kPostgres, display, {},
                    "cannot connect: " + msg +
                        ": check that the server runs and that the URL's host, port, user and "
                        "database are right; a password comes from ~/.pgpass, PGPASSFILE or the "
                        "ISMS_STORE environment variable");
  }
  Pq().PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  if (Pq().PQsetClientEncoding(conn, "UTF8") != 0) {
    std::string msg = OneLine(Pq().PQerrorMessage(conn));
    Pq().PQfinish(conn);
    return SqlError(StatusCode::kUnavailable, Engine::kPostgres, display, {},
                    "cannot set the client encoding to UTF8: " + msg);
  }
  return std::unique_ptr<Connection>(new PgConnection(conn, display));
}

}  // namespace isms::store::internal
