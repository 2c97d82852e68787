#include <algorithm>
#include <cctype>
#include <functional>
#include <nlohmann/json.hpp>

#include "app/ledger_internal.h"
#include "app/text.h"
#include "core/ordered_worker.h"

namespace isms::app::ledger_internal {
namespace {


// The attributes of `text` when it is a flat object of plain strings ({"k":"v",...}, no escapes
// or spaces: what EncodeAttrs writes for most values), else nullopt. Reading a million events,
// the JSON parser costs more than everything else of a row.
std::optional<std::vector<std::pair<std::string, std::string>>> DecodePlainAttrs(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> attrs;
  size_t i = 1;
  auto plain = [&](std::string* out) {
    if (i >= text.size() || text[i] != '"') return false;
    size_t end = ++i;
    while (end < text.size() && text[end] != '"') {
      const unsigned char c = static_cast<unsigned char>(text[end]);
      if (c == '\\' || c < 0x20) return false;
      ++end;
    }
    if (end >= text.size()) return false;
    out->assign(text.substr(i, end - i));
    i = end + 1;
    return true;
  };
  if (text.size() < 2 || text.front() != '{') return std::nullopt;
  while (true) {
    std::pair<std::string, std::string> kv;
    if (!plain(&kv.first) || i >= text.size() || text[i++] != ':' || !plain(&kv.second)) {
      return std::nullopt;
    }
    attrs.push_back(std::move(kv));
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i + 1 != text.size() || text[i] != '}') return std::nullopt;
    break;
  }
  return attrs;
}

Result<std::vector<std::pair<std::string, std::string>>> DecodeAttrs(std::string_view text,
                                                                     std::int64_t event_id) {
  std::vector<std::pair<std::string, std::string>> attrs;
  if (text == "{}") return attrs;  // most events carry no attributes
  if (auto plain = DecodePlainAttrs(text)) {
    attrs = std::move(*plain);
    std::sort(attrs.begin(), attrs.end());
    // Keys are unique in what EncodeAttrs writes; a store edited by hand goes the long way.
    if (std::adjacent_find(attrs.begin(), attrs.end(), [](const auto& a, const auto& b) {
          return a.first == b.first;
        }) == attrs.end()) {
      return attrs;
    }
    attrs.clear();
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Status::Corruption("event " + std::to_string(event_id) +
                              ": stored attributes are not a JSON object");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) {
      return Status::Corruption("event " + std::to_string(event_id) + ": attribute '" + it.key() +
                                "' is not a string");
    }
    attrs.emplace_back(it.key(), it.value().get<std::string>());
  }
  std::sort(attrs.begin(), attrs.end());
  return attrs;
}

std::vector<std::int64_t> SplitIds(const std::string& s) {
  std::vector<std::int64_t> ids;
  for (const std::string& id : Split(s, ',')) ids.push_back(std::stoll(id));
  return ids;
}

Result<TimescaleSource> ParseTimescaleSource(const std::string& s) {
  for (TimescaleSource t :
       {TimescaleSource::kContract, TimescaleSource::kPolicyDefault, TimescaleSource::kVaried}) {
    if (TimescaleSourceKey(t) == s) return t;
  }
  return Status::Corruption("unknown timescale source '" + s + "' in the store");
}

Result<Consequence> ParseStoredConsequence(const std::string& s) {
  for (Consequence c : {Consequence::kBreach, Consequence::kDefault, Consequence::kMaterialDefault,
                        Consequence::kEscalation}) {
    if (ConsequenceName(c) == s) return c;
  }
  return Status::Corruption("unknown consequence '" + s + "' in the store");
}

// Each value to a bulk writer, a statement's parameters, or a fingerprint.
struct WriterSink {
  store::BulkWriter& w;
  void Text(std::string_view v) { w.AddText(v); }
  void Int(std::int64_t v) { w.AddInt(v); }
  void Null() { w.AddNull(); }
};

struct BindSink {
  store::Statement& st;
  int next;
  void Text(std::string_view v) { st.BindText(next++, v); }
  void Int(std::int64_t v) { st.BindInt(next++, v); }
  void Null() { st.BindNull(next++); }
};

std::string JoinColumns() {
  std::string s;
  for (const std::string& c : ObligationColumnList()) s += (s.empty() ? "" : ",") + c;
  return s;
}

}  // namespace

std::string EncodeAttrs(const std::vector<std::pair<std::string, std::string>>& attrs) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : attrs) j[k] = v;
  return j.dump();
}

namespace {

// An event's stored values: views into a row of kEventColumns or into a batch of copied rows.
struct EventFields {
  std::int64_t id = 0, at = 0, recorded_at = 0;
  bool by_buyer = false;
  std::optional<std::int64_t> supersedes;
  std::string_view type, subject, actor, note, attrs;
};

EventFields FieldsOf(const store::Statement& st, int first) {
  EventFields f;
  f.id = st.ColumnInt(first);
  f.type = st.ColumnView(first + 1);
  f.subject = st.ColumnView(first + 2);
  f.at = st.ColumnInt(first + 3);
  f.recorded_at = st.ColumnInt(first + 4);
  f.actor = st.ColumnView(first + 5);
  f.by_buyer = st.ColumnInt(first + 6) != 0;
  f.note = st.ColumnView(first + 7);
  f.attrs = st.ColumnView(first + 8);
  f.supersedes = st.ColumnOptionalInt(first + 9);
  return f;
}

Result<Event> MakeEvent(const EventFields& f) {
  Event e;
  e.id = f.id;
  e.type = f.type;
  e.subject = f.subject;
  e.at = FromMs(f.at);
  e.recorded_at = FromMs(f.recorded_at);
  e.actor = f.actor;
  e.by_buyer = f.by_buyer;
  e.note = f.note;
  ISMS_ASSIGN_OR_RETURN(e.attrs, DecodeAttrs(f.attrs, e.id));
  e.supersedes = f.supersedes;
  return e;
}

// Rows copied out of a statement for another thread to decode: the texts of a row lie one after
// another in `text`, in the order of EventFields's views.
struct EventBatch {
  struct Row {
    EventFields numbers;          // its views are empty: the texts are in `text`
    std::uint32_t sizes[5] = {};  // type, subject, actor, note, attrs
  };
  std::string text;
  std::vector<Row> rows;

  void Add(const EventFields& f) {
    Row& r = rows.emplace_back();
    r.numbers.id = f.id;
    r.numbers.at = f.at;
    r.numbers.recorded_at = f.recorded_at;
    r.numbers.by_buyer = f.by_buyer;
    r.numbers.supersedes = f.supersedes;
    const std::string_view parts[5] = {f.type, f.subject, f.actor, f.note, f.attrs};
    for (int i = 0; i < 5; ++i) {
      r.sizes[i] = static_cast<std::uint32_t>(parts[i].size());
      text.append(parts[i]);
    }
  }
  // Decodes every row in order into `take`; stops at the first that fails.
  Status Decode(const std::function<void(Event&&)>& take) const {
    size_t at = 0;
    for (const Row& r : rows) {
      EventFields f = r.numbers;
      std::string_view* views[5] = {&f.type, &f.subject, &f.actor, &f.note, &f.attrs};
      for (int i = 0; i < 5; ++i) {
        *views[i] = std::string_view(text).substr(at, r.sizes[i]);
        at += r.sizes[i];
      }
      ISMS_ASSIGN_OR_RETURN(Event e, MakeEvent(f));
      take(std::move(e));
    }
    return Status::Ok();
  }
};

}  // namespace

Result<Event> ReadEvent(const store::Statement& st, int first) {
  return MakeEvent(FieldsOf(st, first));
}

Status ForEachEvent(store::Statement& st, const std::function<void(Event&&)>& take) {
  // The first rows are decoded here: a short read (one stream's events) never starts a thread.
  constexpr size_t kDirect = 2048, kBatch = 4096, kQueued = 8;
  size_t direct = 0;
  for (; direct < kDirect; ++direct) {
    ISMS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    ISMS_ASSIGN_OR_RETURN(Event e, ReadEvent(st));
    take(std::move(e));
  }
  // A long read: this thread steps through the rows and copies them in batches, which a second
  // thread decodes, in order. Decoding (the texts' allocations, the attributes) costs about as
  // much as SQLite's stepping.
  OrderedWorker<EventBatch> decoder(kQueued,
                                    [&](EventBatch& batch) { return batch.Decode(take); });
  Status stepped = Status::Ok();
  EventBatch batch;
  while (true) {
    Result<bool> row = st.Step();
    if (!row.ok()) {
      stepped = row.status();
      break;
    }
    if (!*row) break;
    batch.Add(FieldsOf(st, 0));
    if (batch.rows.size() == kBatch) {
      // A failure of the decoder's stops the read; Stop() gives it.
      if (!decoder.Hand(std::move(batch)).ok()) break;
      batch = EventBatch{};
      batch.rows.reserve(kBatch);
    }
  }
  // Nothing more is decoded after a failed step.
  if (stepped.ok() && !batch.rows.empty()) (void)decoder.Hand(std::move(batch));
  Status decoded = decoder.Stop(/*discard=*/!stepped.ok());
  ISMS_RETURN_IF_ERROR(stepped);
  return decoded;
}

Result<std::vector<Event>> ReadEvents(store::Statement& st) {
  std::vector<Event> events;
  ISMS_RETURN_IF_ERROR(ForEachEvent(st, [&](Event&& e) { events.push_back(std::move(e)); }));
  return events;
}

const std::vector<std::string>& ObligationColumnList() {
  static const std::vector<std::string> kColumns = {
      "contract_id", "stream",    "ordinal",          "clause",           "key",
      "title",       "subject",   "trigger_event_id", "trigger_type",     "trigger_at",
      "timescale_amount", "timescale_unit", "timescale_source", "due_date", "due_at",
      "state",       "consequence", "consequence_text", "closed_at",      "evidence",
      "flags"};
  return kColumns;
}

Result<Obligation> ReadObligation(const store::Statement& st) {
  Obligation o;
  o.clause = st.ColumnText(2);
  o.key = st.ColumnText(3);
  o.title = st.ColumnText(4);
  o.subject = st.ColumnText(5);
  o.trigger_event_id = st.ColumnInt(6);
  o.trigger_type = st.ColumnText(7);
  o.trigger_at = FromMs(st.ColumnInt(8));
  if (!st.IsNull(9)) {
    ISMS_ASSIGN_OR_RETURN(Period::Unit unit, ParseUnitKey(st.ColumnText(10)));
    o.timescale = Period{static_cast<int>(st.ColumnInt(9)), unit};
  }
  ISMS_ASSIGN_OR_RETURN(o.timescale_source, ParseTimescaleSource(st.ColumnText(11)));
  if (!st.IsNull(12)) {
    ISMS_ASSIGN_OR_RETURN(Date d, ParseDate(st.ColumnText(12)));
    o.due_date = d;
  }
  if (!st.IsNull(13)) o.due_at = FromMs(st.ColumnInt(13));
  ISMS_ASSIGN_OR_RETURN(o.state, ParseObligationState(st.ColumnText(14)));
  ISMS_ASSIGN_OR_RETURN(o.consequence, ParseStoredConsequence(st.ColumnText(15)));
  o.consequence_text = st.ColumnText(16);
  if (!st.IsNull(17)) o.closed_at = FromMs(st.ColumnInt(17));
  o.evidence = SplitIds(st.ColumnText(18));
  o.flags = Split(st.ColumnText(19), '\n');
  return o;
}

Result<std::vector<Obligation>> ReadObligations(store::Statement& st) {
  std::vector<Obligation> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ISMS_ASSIGN_OR_RETURN(Obligation o, ReadObligation(st));
    out.push_back(std::move(o));
  }
  return out;
}

std::string JoinIds(const std::vector<std::int64_t>& ids) {
  std::string text;
  for (std::int64_t id : ids) {
    if (!text.empty()) text += ',';
    text += std::to_string(id);
  }
  return text;
}

Status AddStreamRow(store::BulkWriter& w, std::int64_t contract_id, std::string_view stream,
                    const std::optional<Instant>& next_change) {
  if (!next_change) return Status::Ok();
  w.AddInt(contract_id);
  w.AddText(stream);
  w.AddInt(Ms(*next_change));
  return w.EndRow();
}

void AddObligationRow(store::BulkWriter& w, std::int64_t contract_id, const std::string& stream,
                      int ordinal, const Obligation& o) {
  w.AddInt(contract_id);
  w.AddText(stream);
  w.AddInt(ordinal);
  WriterSink sink{w};
  ObligationValues(o, sink);
}

void BindObligation(store::Statement& st, int base, std::int64_t contract_id,
                    const std::string& stream, int ordinal, const Obligation& o) {
  st.BindInt(base + 1, contract_id);
  st.BindText(base + 2, stream);
  st.BindInt(base + 3, ordinal);
  BindSink sink{st, base + 4};
  ObligationValues(o, sink);
}

std::uint64_t RowHash::Take() {
  const std::uint64_t h = std::hash<std::string_view>{}(bytes_);
  bytes_.clear();
  return h;
}

std::vector<std::uint64_t> ObligationHashes(const std::vector<Obligation>& obligations) {
  std::vector<std::uint64_t> out;
  out.reserve(obligations.size());
  RowHash h;
  for (const Obligation& o : obligations) {
    ObligationValues(o, h);
    out.push_back(h.Take());
  }
  return out;
}

const std::string& UpsertObligations(int rows) {
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> sql(kObligationsPerStatement + 1);
    for (int n = 1; n <= kObligationsPerStatement; ++n) {
      std::string text = "INSERT INTO obligations (" + JoinColumns() + ") VALUES ";
      for (int r = 0; r < n; ++r) {
        text += r ? ", (" : "(";
        for (size_t c = 0; c < ObligationColumnList().size(); ++c) {
          text += (c ? ", $" : "$") + std::to_string(r * ObligationColumnList().size() + c + 1);
        }
        text += ")";
      }
      // A row stored as it is stays untouched: neither engine writes its page again (most of a
      // stream's rows are as they were when an event is added to it).
      text += " ON CONFLICT (contract_id, stream, ordinal) DO UPDATE SET ";
      std::string stored, given;
      for (size_t c = 3; c < ObligationColumnList().size(); ++c) {
        const std::string& column = ObligationColumnList()[c];
        text += (c > 3 ? ", " : "") + column + " = excluded." + column;
        stored += (c > 3 ? ", obligations." : "obligations.") + column;
        given += (c > 3 ? ", excluded." : "excluded.") + column;
      }
      text += " WHERE (" + stored + ") IS DISTINCT FROM (" + given + ")";
      sql[n] = std::move(text);
    }
    return sql;
  }();
  return kSql[rows];
}


const std::string& RecordEventWithObligations(int rows) {
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> sql(kObligationsPerStatement + 1);
    for (int n = 0; n <= kObligationsPerStatement; ++n) {
      // Parts of one statement run on one snapshot, in no set order: they touch other rows.
      std::string text = std::string("WITH e AS (") + kInsertEvent + "), ";
      if (n > 0) {
        std::string upsert = UpsertObligations(n);
        for (int p = n * kObligationParameters; p >= 1; --p) {  // renumber after the event's
          const std::string from = "$" + std::to_string(p);
          const std::string to = "$" + std::to_string(p + kEventParameters);
          for (size_t at = 0; (at = upsert.find(from, at)) != std::string::npos;) {
            const size_t end = at + from.size();
            if (end < upsert.size() && std::isdigit(static_cast<unsigned char>(upsert[end]))) {
              at = end;
              continue;
            }
            upsert.replace(at, from.size(), to);
            at += to.size();
          }
        }
        text += "o AS (" + upsert + "), ";
      }
      const int tail = kEventParameters + n * kObligationParameters;
      // The stream's row in `streams` only while its result will change: deleted otherwise.
      const std::string next = "$" + std::to_string(tail + 2) + "::bigint";
      text += "d AS (DELETE FROM obligations WHERE contract_id = $1 AND stream = $5 AND ordinal >= $" +
              std::to_string(tail + 1) +
              "), s AS (DELETE FROM streams WHERE contract_id = $1 AND stream = $5 AND " + next +
              " IS NULL) INSERT INTO streams (contract_id, stream, next_change) SELECT $1, $5, " +
              next + " WHERE " + next +
              " IS NOT NULL ON CONFLICT (contract_id, stream) DO UPDATE SET next_change = "
              "excluded.next_change WHERE streams.next_change IS DISTINCT FROM "
              "excluded.next_change";
      sql[static_cast<size_t>(n)] = std::move(text);
    }
    return sql;
  }();
  return kSql[static_cast<size_t>(rows)];
}

// The urgency rank, the due instant (breached and open only; none
// last), the trigger, clause, kind and subject (compared byte by byte, as std::string does).
// Each term an expression or a column with its collation, as both ORDER BY and CREATE INDEX
// take them (an index takes an expression in parentheses).
namespace {

constexpr const char* kUrgencyRank =
    "(CASE state WHEN 'breached' THEN CASE consequence WHEN 'material Default' THEN 0 WHEN "
    "'Default' THEN 1 ELSE 2 END WHEN 'open' THEN 3 WHEN 'suspended' THEN 4 WHEN 'met late' THEN "
    "5 WHEN 'met' THEN 6 ELSE 7 END)";

constexpr const char* kUrgencyUndue =
    "(CASE WHEN state IN ('breached', 'open') AND due_at IS NULL AND closed_at IS NULL THEN 1 "
    "ELSE 0 END)";
constexpr const char* kUrgencyDue =
    "(CASE WHEN state IN ('breached', 'open') THEN COALESCE(due_at, closed_at, 0) ELSE 0 END)";

// On PostgreSQL the tie-breakers clause, key, subject and stream are one text, the four joined
// by U+0001 and compared byte by byte, followed by the ordinal. It sorts as the four do (for
// texts without U+0001, which the rules' clauses and keys and the ledger's subjects and streams
// do not hold: a field that did could sort otherwise among obligations tied on every term
// before it), while PostgreSQL finds an index entry's column at a known offset only up to its
// first of variable length: comparing the key, the subject and the stream of two entries
// (obligations that share their due and trigger instants, such as a finding's 9.3 and 9.6 ones,
// and findings with one patch release date) walked each entry. Building the index over the
// 417,000 obligations of docs/benchmarks.md's Trivy step took 0.62-0.95 s against 0.80-1.03 s
// with five columns (migration 13), and 0.48-0.54 s against 0.53-0.59 s once the separator was
// a constant rather than chr(1) and the ordinal a term of its own rather than ten digits of
// text (migration 14; alternated).
constexpr const char* kPostgresTieBreak =
    "((clause || E'\\x01' || key || E'\\x01' || subject || E'\\x01' || stream) COLLATE \"C\")";

std::vector<std::string> UrgencyTerms(store::Engine engine) {
  if (engine == store::Engine::kPostgres) {
    return {kUrgencyRank, kUrgencyUndue, kUrgencyDue, "trigger_at", "trigger_event_id",
            kPostgresTieBreak, "ordinal"};
  }
  return {kUrgencyRank, kUrgencyUndue, kUrgencyDue, "trigger_at", "trigger_event_id",
          "clause",     "key",         "subject",   "stream",     "ordinal"};
}

}  // namespace

std::string UrgencyOrder(store::Engine engine) {
  std::string order;
  for (const std::string& term : UrgencyTerms(engine)) order += (order.empty() ? "" : ", ") + term;
  return order;
}

std::string UrgencyRankOf(ObligationState state) {
  // A range even for one rank: SQLite (3.40) takes the order of the rows from the index after a
  // range of an indexed expression, but sorts them after an equality.
  const std::string rank = kUrgencyRank;
  switch (state) {
    case ObligationState::kBreached: return rank + " BETWEEN 0 AND 2";
    case ObligationState::kOpen: return rank + " BETWEEN 3 AND 3";
    case ObligationState::kSuspended: return rank + " BETWEEN 4 AND 4";
    case ObligationState::kMetLate: return rank + " BETWEEN 5 AND 5";
    case ObligationState::kMet: return rank + " BETWEEN 6 AND 6";
    case ObligationState::kSuperseded: return rank + " BETWEEN 7 AND 7";
  }
  return rank + " >= 0";
}

std::string UrgencyOpenDueBy(const std::string& param) {
  // An open obligation with a due instant has 0 as its second term and that instant as its
  // third.
  // Equalities, so that the index's range is cut by the due instant as well (the rows come
  // sorted, which costs little for a range as short as its answer).
  return std::string(kUrgencyRank) + " = 3 AND " + kUrgencyUndue + " = 0 AND " + kUrgencyDue +
         " <= " + param;
}

std::string CreateUrgencyIndex(store::Engine engine) {
  return "CREATE INDEX obligations_by_urgency ON obligations (contract_id, " +
         UrgencyOrder(engine) + ")";
}

Status RebuildUrgencyIndex(store::Connection& conn) {
  const std::string create = CreateUrgencyIndex(conn.engine());
  if (conn.engine() != store::Engine::kSqlite) return conn.Execute(create);
  // SQLite's CREATE INDEX sorts the rows in runs the size of the page cache and merges them:
  // runs of 2 MB sort within the processor's caches, and on other threads while the first
  // reads on (711,794 obligations: 1.5-1.8 s of CPU in one run of 64 MB, 1.1-1.3 s in runs of
  // 2 MB; 417,000 obligations: 0.54-0.56 s with two sorting threads, 0.60-0.61 s with one,
  // alternated). The connection's settings are restored after.
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare("PRAGMA cache_size"));
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  const std::int64_t cache = row ? st->ColumnInt(0) : -2000;
  st.reset();
  ISMS_RETURN_IF_ERROR(conn.Execute("PRAGMA threads = 2; PRAGMA cache_size = -2048"));
  Status created = conn.Execute(create);
  Status restored =
      conn.Execute("PRAGMA threads = 0; PRAGMA cache_size = " + std::to_string(cache));
  ISMS_RETURN_IF_ERROR(created);
  return restored;
}

}  // namespace isms::app::ledger_internal
