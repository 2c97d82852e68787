// `isms recompute`: a contract's stored obligations rebuilt from its events alone.
//
// The events are read in the order the store keeps them (one pass over the table, where an
// index's order would cost a random access per event) and brought together by stream in memory.
// The streams are evaluated on worker threads (the rules are pure functions) while this thread
// reads the stored projection; each stream's new rows are then compared with the stored ones by
// a fingerprint of their values, and only the streams that differ are written. When nothing is
// stored yet, or when a large share differs (after a policy change, a new version of the rules,
// a damaged store), the contract's projection is emptied and written whole with the bulk writer
// instead, its secondary indexes made again once at the end.
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "app/ledger.h"
#include "app/ledger_internal.h"
#include "app/vulns.h"

namespace isms::app {
namespace {

using ledger_internal::AddObligationRow;
using ledger_internal::kEventColumns;
using ledger_internal::Ms;
using ledger_internal::ObligationColumnList;
using ledger_internal::ObligationHashes;
using ledger_internal::RowHash;

// One stream: its events and, once evaluated, its obligations and their fingerprints.
struct StreamGroup {
  std::string stream;
  std::vector<const Event*> events;  // in any order: the rules sort them
  bool fixed = false;  // a finding's or an asset's stream, evaluated with its facts beforehand
  bool ready = false;  // `evaluation` holds the stream's obligations
  Evaluation evaluation;
  std::vector<std::uint64_t> hashes;  // of the obligations' values, by ordinal
};

bool IsFindingStream(std::string_view stream) {
  return stream.substr(0, 5) == "vuln:";
}

// Positions of keys brought together: `order` lists the positions of equal keys next to each
// other (in ascending position), cluster c taking order[starts[c]] to order[starts[c + 1] - 1].
struct Clusters {
  std::vector<std::uint32_t> order;
  std::vector<std::uint32_t> starts;  // with the end of the last cluster at the end
};

// The keys' clusters, by a sort of the keys' hashes and positions: sorting pairs of integers
// costs a fraction of sorting or looking up the strings. Keys that share a hash are told apart
// by the key itself.
Clusters Cluster(const std::vector<std::string>& keys) {
  struct Item {
    std::uint64_t hash;
    std::uint32_t index;
  };
  std::vector<Item> items(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    items[i] = {std::hash<std::string>{}(keys[i]), static_cast<std::uint32_t>(i)};
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
  });
  Clusters c;
  c.order.resize(items.size());
  for (size_t i = 0; i < items.size();) {
    size_t j = i + 1;
    bool shared = false;
    while (j < items.size() && items[j].hash == items[i].hash) {
      shared = shared || keys[items[j].index] != keys[items[i].index];
      ++j;
    }
    for (size_t k = i; k < j; ++k) c.order[k] = items[k].index;
    c.starts.push_back(static_cast<std::uint32_t>(i));
    if (shared) {
      auto first = c.order.begin() + static_cast<std::ptrdiff_t>(i);
      auto last = c.order.begin() + static_cast<std::ptrdiff_t>(j);
      std::stable_sort(first, last,
                       [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
      for (auto k = first + 1; k != last; ++k) {
        if (keys[*k] != keys[*(k - 1)]) {
          c.starts.push_back(static_cast<std::uint32_t>(k - c.order.begin()));
        }
      }
    }
    i = j;
  }
  c.starts.push_back(static_cast<std::uint32_t>(items.size()));
  return c;
}

// The contract's events in `storage`, and their groups by the stream the rules give them
// (StreamOf; the stored stream column serves the per-stream reads of recording), in stream
// order, the contract stream "" first with or without events. The finding streams' events go to
// `findings` instead: their obligations need the findings' facts.
Result<std::vector<StreamGroup>> ReadStreams(store::Connection& conn, std::int64_t contract_id,
                                             std::vector<Event>* storage,
                                             std::map<std::string, std::vector<Event>>* findings,
                                             std::int64_t* count) {
  // Room for the events, which are numbered 1, 2, ... within their contract and never removed:
  // the highest number, one look-up in the key's index, is their count (COUNT(*) walks the
  // index: 70-200 ms for a million events).
  ISMS_ASSIGN_OR_RETURN(auto n, conn.Prepare("SELECT COALESCE(MAX(id), 0) FROM events WHERE "
                                             "contract_id = $1"));
  n->BindInt(1, contract_id);
  ISMS_ASSIGN_OR_RETURN(bool counted, n->Step());
  const auto expected = static_cast<size_t>(counted ? n->ColumnInt(0) : 0);
  n->Reset();
  // On SQLite, a contract that holds most of the events is read by a pass over the table (a
  // quarter less CPU than by the key's index, which costs a second B-tree look-up a row). Events
  // are never removed, so the highest rowid is how many there are in all.
  bool scan = false;
  if (conn.engine() == store::Engine::kSqlite && expected > 0) {
    ISMS_ASSIGN_OR_RETURN(auto all, conn.Prepare("SELECT MAX(rowid) FROM events"));
    ISMS_ASSIGN_OR_RETURN(bool row, all->Step());
    scan = row && static_cast<std::int64_t>(expected) * 2 >= all->ColumnInt(0);
  }
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn.Prepare(std::string("SELECT ") + kEventColumns + " FROM events WHERE " +
                                     (scan ? "+" : "") + "contract_id = $1"));
  st->BindInt(1, contract_id);
  std::vector<Event>& events = *storage;
  events.clear();
  events.reserve(expected);
  std::vector<std::string> streams;
  streams.reserve(expected);
  ISMS_RETURN_IF_ERROR(ledger_internal::ForEachEvent(*st, [&](Event&& e) {
    streams.push_back(StreamOf(e));
    events.push_back(std::move(e));
  }));
  *count += static_cast<std::int64_t>(events.size());
  const Clusters clusters = Cluster(streams);
  std::vector<StreamGroup> groups;
  groups.reserve(clusters.starts.size());
  for (size_t k = 0; k + 1 < clusters.starts.size(); ++k) {
    const auto first = clusters.order.begin() + clusters.starts[k];
    const auto last = clusters.order.begin() + clusters.starts[k + 1];
    const std::string& stream = streams[*first];
    if (IsFindingStream(stream)) {
      std::vector<Event>& of = (*findings)[stream];
      for (auto i = first; i != last; ++i) of.push_back(events[*i]);
      std::sort(of.begin(), of.end(), HappenedBefore);
      continue;
    }
    StreamGroup g;
    g.stream = stream;
    g.events.reserve(static_cast<size_t>(last - first));
    for (auto i = first; i != last; ++i) g.events.push_back(&events[*i]);
    groups.push_back(std::move(g));
  }
  if (std::none_of(groups.begin(), groups.end(),
                   [](const StreamGroup& g) { return g.stream.empty(); })) {
    groups.push_back(StreamGroup{});
  }
  std::sort(groups.begin(), groups.end(),
            [](const StreamGroup& a, const StreamGroup& b) { return a.stream < b.stream; });
  return groups;
}

// Evaluates the streams of `groups` on worker threads ahead of a caller that takes them in
// order, so that storing or comparing one stream's obligations overlaps evaluating the next. The
// caller evaluates a group itself when it gets there before the workers. `groups` must outlive
// the evaluator and keep its size; the evaluator stops (finishing the groups it holds) when
// destroyed.
class AheadEvaluator {
 public:
  AheadEvaluator(const ContractContext& l, Instant now, std::vector<StreamGroup>& groups,
                 bool hashes)
      : l_(l), now_(now), hashes_(hashes), groups_(groups), state_(groups.size()) {
    // One core stays with the caller; at least one worker even where the count is unknown.
    const unsigned cores = std::thread::hardware_concurrency();
    const unsigned workers = std::clamp(cores, 2u, 9u) - 1;
    for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~AheadEvaluator() {
    stop_.store(true);
    for (std::thread& t : workers_) t.join();
  }
  AheadEvaluator(const AheadEvaluator&) = delete;
  AheadEvaluator& operator=(const AheadEvaluator&) = delete;

  // Group `i`, evaluated.
  StreamGroup& Get(size_t i) {
    if (Claim(i)) {
      Evaluate(i);
    } else {
      for (int s = state_[i].load(); s != kDone; s = state_[i].load()) state_[i].wait(s);
    }
    return groups_[i];
  }

 private:
  static constexpr int kPending = 0, kClaimed = 1, kDone = 2;

  bool Claim(size_t i) {
    int expected = kPending;
    return state_[i].compare_exchange_strong(expected, kClaimed);
  }
  void Evaluate(size_t i) {
    StreamGroup& g = groups_[i];
    if (!g.ready) {
      g.evaluation =
          EvaluateStreamEvents(l_.terms, l_.versions, l_.calendar, g.stream, g.events, now_);
      g.ready = true;
    }
    if (hashes_) g.hashes = ObligationHashes(g.evaluation.obligations);
    state_[i].store(kDone);
    state_[i].notify_all();
  }
  void Work() {
    while (!stop_.load()) {
      const size_t i = next_.fetch_add(1);
      if (i >= groups_.size()) return;
      if (Claim(i)) Evaluate(i);
    }
  }

  const ContractContext& l_;
  const Instant now_;
  const bool hashes_;
  std::vector<StreamGroup>& groups_;
  std::vector<std::atomic<int>> state_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

// What the projection holds for one stream.
struct StoredStream {
  std::string stream;
  std::vector<std::pair<std::int64_t, std::uint64_t>> rows;  // (ordinal, fingerprint) ascending
  // Its row in `streams`, in milliseconds; none when it has no row (no next change).
  std::optional<std::int64_t> next_change;
};

// The contract's stored projection, by stream in stream order, with the number of obligation
// rows. Each table is read in one pass in the order it is stored: by the index on the key, the
// rows of a projection kept up to date event by event would be a random access each.
Result<std::vector<StoredStream>> ReadProjection(store::Connection& conn, std::int64_t contract_id,
                                                 std::int64_t* rows) {
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn.Prepare(std::string("SELECT ") + ledger_internal::kObligationColumns +
                                     " FROM obligations WHERE +contract_id = $1"));
  st->BindInt(1, contract_id);
  std::vector<std::string> keys;
  std::vector<std::pair<std::int64_t, std::uint64_t>> values;
  RowHash hash;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    keys.emplace_back(st->ColumnView(0));
    for (int c = 2; c < 2 + ledger_internal::kObligationValueColumns; ++c) {
      st->IsNull(c) ? hash.Null() : hash.Text(st->ColumnView(c));
    }
    values.emplace_back(st->ColumnInt(1), hash.Take());
  }
  *rows = static_cast<std::int64_t>(values.size());
  std::vector<StoredStream> stored;
  const Clusters clusters = Cluster(keys);
  for (size_t k = 0; k + 1 < clusters.starts.size(); ++k) {
    StoredStream& s = stored.emplace_back();
    s.stream = keys[clusters.order[clusters.starts[k]]];
    for (std::uint32_t i = clusters.starts[k]; i < clusters.starts[k + 1]; ++i) {
      s.rows.push_back(values[clusters.order[i]]);
    }
  }
  for (StoredStream& s : stored) std::sort(s.rows.begin(), s.rows.end());
  std::sort(stored.begin(), stored.end(),
            [](const StoredStream& a, const StoredStream& b) { return a.stream < b.stream; });

  ISMS_ASSIGN_OR_RETURN(auto ss, conn.Prepare("SELECT stream, next_change FROM streams WHERE "
                                              "+contract_id = $1"));
  ss->BindInt(1, contract_id);
  std::vector<StoredStream> listed;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, ss->Step());
    if (!row) break;
    listed.push_back({ss->ColumnText(0), {}, ss->ColumnOptionalInt(1)});
  }
  std::sort(listed.begin(), listed.end(),
            [](const StoredStream& a, const StoredStream& b) { return a.stream < b.stream; });
  // The union of both, by stream.
  std::vector<StoredStream> out;
  out.reserve(std::max(stored.size(), listed.size()));
  size_t a = 0, b = 0;
  while (a < stored.size() || b < listed.size()) {
    if (b == listed.size() || (a < stored.size() && stored[a].stream < listed[b].stream)) {
      out.push_back(std::move(stored[a++]));
    } else if (a == stored.size() || listed[b].stream < stored[a].stream) {
      out.push_back(std::move(listed[b++]));
    } else {
      out.push_back(std::move(stored[a++]));
      out.back().next_change = listed[b++].next_change;
    }
  }
  return out;
}

// Whether the stored stream `s` (null: nothing stored) holds exactly the rows of `g`. A stream
// has a row in `streams` only while its result will change: none stands for no next change.
bool Unchanged(const StoredStream* s, const StreamGroup& g) {
  const std::optional<std::int64_t> next =
      g.evaluation.next_change ? std::optional<std::int64_t>(Ms(*g.evaluation.next_change))
                               : std::nullopt;
  if (s == nullptr) return g.hashes.empty() && !next;
  if (s->rows.size() != g.hashes.size() || s->next_change != next) return false;
  for (size_t i = 0; i < g.hashes.size(); ++i) {
    if (s->rows[i] !=
        std::pair<std::int64_t, std::uint64_t>(static_cast<std::int64_t>(i), g.hashes[i])) {
      return false;
    }
  }
  return true;
}

// Empties the contract's part of the stored projection before it is written whole. Where the
// projection holds no other contract's rows, the tables are emptied whole, which both engines do
// without visiting each row in a B-tree (SQLite's truncate optimisation, PostgreSQL's TRUNCATE,
// which also keeps other sessions out of the two tables until the commit).
Status ClearProjection(store::Connection& conn, std::int64_t contract_id) {
  bool alone = true;
  // One MIN or MAX per query: SQLite answers those from the key's index at once.
  for (const char* sql :
       {"SELECT MIN(contract_id) FROM obligations", "SELECT MAX(contract_id) FROM obligations",
        "SELECT MIN(contract_id) FROM streams", "SELECT MAX(contract_id) FROM streams"}) {
    ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare(sql));
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (row && !st->IsNull(0) && st->ColumnInt(0) != contract_id) alone = false;
  }
  if (alone) {
    return conn.Execute(conn.engine() == store::Engine::kPostgres
                            ? "TRUNCATE obligations, streams"
                            : "DELETE FROM obligations; DELETE FROM streams");
  }
  for (const char* sql : {"DELETE FROM obligations WHERE contract_id = $1",
                          "DELETE FROM streams WHERE contract_id = $1"}) {
    ISMS_ASSIGN_OR_RETURN(auto del, conn.Prepare(sql));
    del->BindInt(1, contract_id);
    ISMS_RETURN_IF_ERROR(del->Run());
  }
  return Status::Ok();
}

}  // namespace

Result<std::int64_t> Ledger::RecomputeContract(const ContractRecord& c, Instant now,
                                               std::int64_t* events_seen) {
  ISMS_ASSIGN_OR_RETURN(ContractContext l, Load(c));
  std::vector<Event> events;
  std::map<std::string, std::vector<Event>> finding_events;
  ISMS_ASSIGN_OR_RETURN(std::vector<StreamGroup> groups,
                        ReadStreams(*conn_, c.id, &events, &finding_events, events_seen));
  // Every finding and every asset has a stream, with or without events of its own, evaluated
  // with its facts from the store.
  ISMS_ASSIGN_OR_RETURN(auto fixed, EvaluateAllFindings(*conn_, l, finding_events, now));
  finding_events.clear();
  ISMS_ASSIGN_OR_RETURN(auto scans, EvaluateAllScanStreams(*conn_, l, now));
  fixed.insert(fixed.end(), std::make_move_iterator(scans.begin()),
               std::make_move_iterator(scans.end()));
  for (auto& [stream, ev] : fixed) {
    StreamGroup& g = groups.emplace_back();
    g.stream = std::move(stream);
    g.fixed = g.ready = true;
    g.evaluation = std::move(ev);
  }
  std::sort(groups.begin(), groups.end(),
            [](const StreamGroup& a, const StreamGroup& b) { return a.stream < b.stream; });

  // Compare with what is stored, stream by stream, while the streams are evaluated.
  std::optional<AheadEvaluator> ahead;
  ahead.emplace(l, now, groups, /*hashes=*/true);
  std::int64_t stored_rows = 0;
  ISMS_ASSIGN_OR_RETURN(std::vector<StoredStream> stored,
                        ReadProjection(*conn_, c.id, &stored_rows));
  // Past this many rows to write one stream at a time, writing the whole projection costs less.
  const std::int64_t budget = stored_rows / 2;
  bool whole = stored.empty();
  std::vector<size_t> changed;
  std::vector<std::string> vanished;
  std::int64_t count = 0, to_write = 0;
  size_t s = 0;
  for (size_t i = 0; i < groups.size() && !whole; ++i) {
    StreamGroup& g = ahead->Get(i);
    count += static_cast<std::int64_t>(g.evaluation.obligations.size());
    while (s < stored.size() && stored[s].stream < g.stream) vanished.push_back(stored[s++].stream);
    const StoredStream* same =
        s < stored.size() && stored[s].stream == g.stream ? &stored[s++] : nullptr;
    if (Unchanged(same, g)) {
      if (!g.fixed) {
        g.evaluation = Evaluation{};  // not needed unless the whole projection is written
        g.ready = false;
      }
    } else {
      changed.push_back(i);
      to_write += static_cast<std::int64_t>(
          std::max(g.hashes.size(), same != nullptr ? same->rows.size() : 0));
      whole = to_write > budget;
    }
    g.hashes = {};
  }
  ahead.reset();

  if (!whole) {
    for (; s < stored.size(); ++s) vanished.push_back(stored[s].stream);
    for (const std::string& stream : vanished) {
      for (const char* sql : {"DELETE FROM obligations WHERE contract_id = $1 AND stream = $2",
                              "DELETE FROM streams WHERE contract_id = $1 AND stream = $2"}) {
        ISMS_ASSIGN_OR_RETURN(auto del, conn_->Prepare(sql));
        del->BindInt(1, c.id);
        del->BindText(2, stream);
        ISMS_RETURN_IF_ERROR(del->Run());
      }
    }
    for (size_t i : changed) {
      ISMS_RETURN_IF_ERROR(StoreEvaluation(l, groups[i].stream, groups[i].evaluation));
    }
    return count;
  }

  // The whole projection, written again. Rebuilding a secondary index once costs less than
  // keeping it up to date through every deleted and inserted row: dropped here and made again
  // below, inside the same transaction.
  ISMS_RETURN_IF_ERROR(conn_->Execute("DROP INDEX IF EXISTS obligations_by_urgency"));
  ISMS_RETURN_IF_ERROR(conn_->Execute("DROP INDEX IF EXISTS streams_by_next_change"));
  ISMS_RETURN_IF_ERROR(ClearProjection(*conn_, c.id));
  ahead.emplace(l, now, groups, /*hashes=*/false);
  // One bulk writer at a time per connection: obligations first, then the streams.
  std::vector<std::pair<std::string, std::optional<Instant>>> next_changes;
  next_changes.reserve(groups.size());
  count = 0;
  {
    ISMS_ASSIGN_OR_RETURN(auto writer, conn_->BulkInsert("obligations", ObligationColumnList()));
    for (size_t i = 0; i < groups.size(); ++i) {
      StreamGroup& g = ahead->Get(i);
      int ordinal = 0;
      for (const Obligation& o : g.evaluation.obligations) {
        AddObligationRow(*writer, c.id, g.stream, ordinal++, o);
        ISMS_RETURN_IF_ERROR(writer->EndRow());
        ++count;
      }
      next_changes.emplace_back(std::move(g.stream), g.evaluation.next_change);
      g.evaluation = Evaluation{};  // done with it: its memory goes back now
    }
    ISMS_RETURN_IF_ERROR(writer->Finish());
  }
  ahead.reset();
  ISMS_ASSIGN_OR_RETURN(auto writer,
                        conn_->BulkInsert("streams", {"contract_id", "stream", "next_change"}));
  for (const auto& [stream, next] : next_changes) {
    ISMS_RETURN_IF_ERROR(ledger_internal::AddStreamRow(*writer, c.id, stream, next));
  }
  ISMS_RETURN_IF_ERROR(writer->Finish());
  ISMS_RETURN_IF_ERROR(ledger_internal::RebuildUrgencyIndex(*conn_));
  ISMS_RETURN_IF_ERROR(
      conn_->Execute("CREATE INDEX streams_by_next_change ON streams (contract_id, next_change)"));
  return count;
}

Result<RecomputeResult> Ledger::Recompute(const std::string& contract) {
  std::vector<ContractRecord> contracts;
  if (contract.empty()) {
    ISMS_ASSIGN_OR_RETURN(contracts, ListContracts());
  } else {
    ISMS_ASSIGN_OR_RETURN(ContractRecord c, FindContract(contract));
    contracts.push_back(std::move(c));
  }
  const Instant now = clock_.Now();
  RecomputeResult r;
  store::Transaction tx(*conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  for (const ContractRecord& c : contracts) {
    ISMS_ASSIGN_OR_RETURN(std::int64_t n, RecomputeContract(c, now, &r.events));
    r.obligations += n;
    ++r.contracts;
  }
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return r;
}

}  // namespace isms::app
