// The ledger's rows as the store holds them: events and obligations read, written and compared.
// Shared by the ledger's use cases (ledger.cc) and `recompute` (ledger_recompute.cc); not part of
// the app's interface. The tables are described in docs/storage.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/obligation.h"
#include "core/time.h"
#include "store/store.h"

namespace isms::app::ledger_internal {

// Instants are stored as integer milliseconds since the epoch.
inline std::int64_t Ms(Instant t) {
  return t.time_since_epoch().count();
}
inline Instant FromMs(std::int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

// An event's attributes as stored: a JSON object of strings.
std::string EncodeAttrs(const std::vector<std::pair<std::string, std::string>>& attrs);

// The columns an event is read from, in the order ReadEvent takes them.
constexpr const char* kEventColumns =
    "id, type, subject, at, recorded_at, actor, by_buyer, note, attrs, supersedes";
// The event in the columns of kEventColumns, from column `first` on.
Result<Event> ReadEvent(const store::Statement& st, int first = 0);
// Every remaining row of `st`, which selects kEventColumns.
Result<std::vector<Event>> ReadEvents(store::Statement& st);
// Every remaining row of `st` (kEventColumns), decoded and handed to `take` in row order. Past
// the first few thousand rows, `take` runs on a second thread, which decodes while this one
// steps through the rows; it is never called by two threads at once, and ForEachEvent returns
// after its last call.
Status ForEachEvent(store::Statement& st, const std::function<void(Event&&)>& take);

// The columns an obligation is read from, in the order ReadObligation takes them.
constexpr const char* kObligationColumns =
    "stream, ordinal, clause, key, title, subject, trigger_event_id, trigger_type, trigger_at, "
    "timescale_amount, timescale_unit, timescale_source, due_date, due_at, state, consequence, "
    "consequence_text, closed_at, evidence, flags";
// Every column of the obligations table, in the order the writers below take them: the key
// (contract_id, stream, ordinal), then the obligation's values.
const std::vector<std::string>& ObligationColumnList();
constexpr int kObligationKeyColumns = 3;
constexpr int kObligationValueColumns = 18;

Result<Obligation> ReadObligation(const store::Statement& st);
// Every remaining row of `st`, which selects kObligationColumns.
Result<std::vector<Obligation>> ReadObligations(store::Statement& st);

std::string JoinIds(const std::vector<std::int64_t>& ids);

// The obligation's values as stored, after the key, in column order: `sink` receives each as
// Text(std::string_view), Int(std::int64_t) or Null(). A text view lives only for the call.
template <typename Sink>
void ObligationValues(const Obligation& o, Sink& sink) {
  sink.Text(o.clause);
  sink.Text(o.key);
  sink.Text(o.title);
  sink.Text(o.subject);
  sink.Int(o.trigger_event_id);
  sink.Text(o.trigger_type);
  sink.Int(Ms(o.trigger_at));
  if (o.timescale) {
    sink.Int(o.timescale->amount);
    sink.Text(UnitKey(o.timescale->unit));
  } else {
    sink.Null();
    sink.Null();
  }
  sink.Text(TimescaleSourceKey(o.timescale_source));
  o.due_date ? sink.Text(FormatDate(*o.due_date)) : sink.Null();
  o.due_at ? sink.Int(Ms(*o.due_at)) : sink.Null();
  sink.Text(ObligationStateName(o.state));
  sink.Text(ConsequenceName(o.consequence));
  sink.Text(o.consequence_text);
  o.closed_at ? sink.Int(Ms(*o.closed_at)) : sink.Null();
  sink.Text(JoinIds(o.evidence));
  std::string flags;
  for (const std::string& f : o.flags) {
    if (!flags.empty()) flags += '\n';
    flags += f;
  }
  sink.Text(flags);
}

// A stream has a row in `streams` (contract_id, stream, next_change) only while its result will
// change: this adds the stream's row to a bulk writer of those columns when `next_change` is set,
// and nothing otherwise. Readers take a stream without a row as one without a next change.
Status AddStreamRow(store::BulkWriter& w, std::int64_t contract_id, std::string_view stream,
                    const std::optional<Instant>& next_change);

// One obligation row into a bulk writer of ObligationColumnList().
void AddObligationRow(store::BulkWriter& w, std::int64_t contract_id, const std::string& stream,
                      int ordinal, const Obligation& o);

// A fingerprint of a row's values, equal for the values written and the same values read back
// (integers as decimal text): what `recompute` compares to leave unchanged rows alone.
class RowHash {
 public:
  void Text(std::string_view v) {
    bytes_.append(v);
    bytes_ += '\0';
    bytes_ += 'v';
  }
  void Int(std::int64_t v) { Text(std::to_string(v)); }
  void Null() {
    bytes_ += '\0';
    bytes_ += 'n';
  }
  // The fingerprint of the values given since the last call, and a fresh start.
  std::uint64_t Take();

 private:
  std::string bytes_;
};

// The fingerprint of each obligation's values, by ordinal.
std::vector<std::uint64_t> ObligationHashes(const std::vector<Obligation>& obligations);

// The obligations written by one statement when a stream is stored row by row.
constexpr int kObligationsPerStatement = 16;
// INSERT of `rows` obligations (1 to kObligationsPerStatement) that writes over the stored rows
// of the same ordinals; parameters $1... are the rows' columns in ObligationColumnList() order.
const std::string& UpsertObligations(int rows);
// Binds one row's 21 values to parameters $base+1 ... $base+21.
void BindObligation(store::Statement& st, int base, std::int64_t contract_id,
                    const std::string& stream, int ordinal, const Obligation& o);

// INSERT of one event: parameters $1 ... $12 are contract_id, id, type, subject, stream, at,
// recorded_at, actor, by_buyer, note, attrs, supersedes.
constexpr const char* kInsertEvent =
    "INSERT INTO events (contract_id, id, type, subject, stream, at, recorded_at, actor, "
    "by_buyer, note, attrs, supersedes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
constexpr int kEventParameters = 12;
constexpr int kObligationParameters = 21;
// PostgreSQL only: kInsertEvent, then in the same statement the first `rows` obligations of the
// event's stream (0 to kObligationsPerStatement; ordinals 0... at parameters after the event's,
// as BindObligation binds them), the deletion of the stream's rows from the ordinal given next
// on, and the stream's next change after that.
const std::string& RecordEventWithObligations(int rows);

// ORDER BY terms that sort obligations as MoreUrgent does (core/obligation.h), then by their key
// so that the order is total.
std::string UrgencyOrder(store::Engine engine);
// A condition on the first term of UrgencyOrder (the urgency rank) that holds for every
// obligation in `state` and no other: added beside `state = ...`, it lets a query take its rows
// from a range of obligations_by_urgency, in that index's order.
std::string UrgencyRankOf(ObligationState state);
// Likewise for "open with a due instant at or before `param`" (a placeholder such as "$2"): the
// range of obligations_by_urgency that holds those rows, to stand beside state = 'open' AND
// due_at <= param.
std::string UrgencyOpenDueBy(const std::string& param);
// CREATE INDEX of obligations_by_urgency: the contract, then the terms of UrgencyOrder, so that a
// page of a contract's obligations in that order costs a walk of the index to its offset, not a
// sort of the whole projection (schema migration 7; `recompute` makes it again after a rebuild).
std::string CreateUrgencyIndex(store::Engine engine);
// Makes obligations_by_urgency (dropped before a rewrite of many obligations) again, in the way
// that costs least on the connection's engine.
Status RebuildUrgencyIndex(store::Connection& conn);

}  // namespace isms::app::ledger_internal
