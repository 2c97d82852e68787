// The ledger use cases: contracts, events and the obligations they give rise to, over one store.
//
// Every write is one transaction: an event is validated by the rules (core/rules.h), appended,
// and the obligations of its stream are re-evaluated and stored before the commit, so the stored
// projection never lags the ledger. Status without a time reads the projection, re-evaluating
// first the streams whose result has changed with the passage of time (a due instant passed, a
// Month ended); status "as of" a time is computed from the events alone. See docs/obligations.md.
//
// A Ledger keeps each contract it has loaded for the rules (its policy versions and calendar)
// and reuses it while the contract's row and its policy events stay as they were, checked with
// the contract's row on every call; a holidays file named by the policy is read once per Ledger.
//
// Thread-safety: one Ledger per thread (it owns one store connection).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/calendar.h"
#include "core/event.h"
#include "core/obligation.h"
#include "core/policy.h"
#include "core/rules.h"
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace isms::app {

// Who is acting: the authenticated actor (for the CLI, the operating-system user).
struct Actor {
  std::string name;
  bool buyer = false;  // acting from a buyer's own account
};

struct ContractRecord {
  std::int64_t id = 0;
  std::string name;
  Date start;
  std::string buyer;
  std::string supplier;
  bool bespoke_isms = false;
  std::string policy_toml;  // the contract's policy file as given at creation ("" = defaults)
  std::string policy_dir;   // the folder relative paths in the policy are resolved against
  Instant created_at{};
  std::string created_by;

  friend bool operator==(const ContractRecord&, const ContractRecord&) = default;
};

struct NewContract {
  std::string name;
  Date start;
  std::string buyer;
  std::string supplier;
  bool bespoke_isms = false;
  std::string policy_toml;    // "" for the schedule's defaults
  std::string policy_source;  // the policy's file name, for error messages
  std::string policy_dir;     // the folder relative paths in the policy are resolved against
};

struct NewEvent {
  std::string contract;
  std::string type;
  std::string subject;
  std::optional<Instant> at;  // default: now
  std::string note;
  std::vector<std::pair<std::string, std::string>> attrs;  // KEY=VALUE as given
};

// An event as listed: the event and whether it was recorded late (backdated).
struct EventView {
  Event event;
  bool backdated = false;
};

struct StatusQuery {
  std::optional<Instant> at;  // evaluate as of this instant (events that happened by then)
  bool as_known = false;      // also ignore events recorded after `at`
  std::optional<ObligationState> state;  // only obligations in this state
  bool findings = true;  // with `at`: also evaluate every finding's clocks (9.3, 9.5.6, 9.6)
  // One page of the list, most urgent first: at most `limit` obligations (0: all) after the
  // first `offset`. The order is total, so that pages neither overlap nor leave gaps.
  std::int64_t limit = 0;
  std::int64_t offset = 0;
};

// What `status` shows unless asked for a list: how many obligations need attention, and the most
// urgent of them. Met and superseded obligations are not counted (Summary() counts everything):
// counting a million closed obligations would cost more than the rest together.
struct OverviewQuery {
  std::optional<Instant> at;  // as StatusQuery: evaluated from the events as of `at`
  bool as_known = false;
  std::chrono::milliseconds horizon = std::chrono::hours(24 * 30);  // "due soon": within this
  std::int64_t limit = 20;  // at most this many of the breached and of the due-soon obligations
};

struct StatusOverview {
  Instant as_of{};
  Instant due_by{};  // as_of + horizon
  std::int64_t breached = 0;
  std::int64_t open = 0;
  std::int64_t due_soon = 0;  // open and due by `due_by`
  std::int64_t suspended = 0;
  std::int64_t met_late = 0;
  std::vector<Obligation> most_urgent_breached;  // most urgent first, at most `limit`
  std::vector<Obligation> next_due;              // open and due by `due_by`, soonest first
};

// How many obligations of one kind are in one state (status --summary).
struct StatusCount {
  std::string clause;
  std::string key;
  std::string title;
  ObligationState state = ObligationState::kOpen;
  std::int64_t count = 0;
};

struct RecomputeResult {
  std::int64_t contracts = 0;
  std::int64_t events = 0;
  std::int64_t obligations = 0;
};

// A contract with everything the rules need: its terms, policy versions and calendar.
struct ContractContext {
  ContractRecord record;
  ContractTerms terms;
  Policy base_policy;
  std::vector<PolicyVersion> versions;
  Calendar calendar;
};

class Ledger {
 public:
  // Opens the store at `url`, applying missing migrations.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& url, const Clock& clock);

  store::Connection& connection() { return *conn_; }

  Result<ContractRecord> CreateContract(const NewContract& c, const Actor& actor);
  Result<std::vector<ContractRecord>> ListContracts();
  Result<ContractRecord> FindContract(const std::string& name);

  // Validates and appends an event, updating its stream's obligations in the same transaction.
  Result<Event> RecordEvent(const NewEvent& e, const Actor& actor);
  Result<std::vector<EventView>> ListEvents(const std::string& contract);
  // Whether the event that this Ledger recorded last is backdated, judged with the contract's
  // calendar and policy in force as they stood at its recording: nullopt unless `event_id` of
  // `contract` is that event and it changed no policy. Spares a read of the contract after
  // recording.
  std::optional<bool> RecordedBackdated(const std::string& contract, std::int64_t event_id) const;

  Result<std::vector<Obligation>> StatusOf(const std::string& contract, const StatusQuery& q);

  // The default status: from the projection (brought up to date first) with a few indexed
  // queries whatever the number of obligations, or, with `at`, from the events.
  Result<StatusOverview> Overview(const std::string& contract, const OverviewQuery& q);

  // The obligations counted by clause, kind and state, from the projection (brought up to date
  // first), in clause order.
  Result<std::vector<StatusCount>> Summary(const std::string& contract);

  // Rebuilds the stored obligations of one contract (or all, when empty) from the events alone.
  Result<RecomputeResult> Recompute(const std::string& contract);

  // The root-cause identifiers used by tests and retests so far (6.5).
  Result<std::vector<std::string>> RootCauses(const std::string& contract);

  // The contract `name` loaded for the rules.
  Result<ContractContext> Context(const std::string& name);
  Result<ContractContext> Load(const ContractRecord& c);
  // Re-evaluates the obligations of one stream from its stored events and stores them.
  ::isms::Status RefreshStream(const ContractContext& l, const std::string& stream, Instant now);
  const Clock& clock() const { return clock_; }
  // The stored events of one stream, in the order the rules read them.
  Result<std::vector<Event>> StreamEvents(std::int64_t contract_id, const std::string& stream) {
    return LoadEvents(contract_id, &stream);
  }
  Result<std::string> ContractName(std::int64_t contract_id);
  // The contract's events numbered after `after`, in number order.
  Result<std::vector<Event>> EventsAfter(std::int64_t contract_id, std::int64_t after);
  // Stores the obligations of streams that have none yet, in bulk.
  ::isms::Status StoreNewEvaluations(
      const ContractContext& l, const std::vector<std::pair<std::string, Evaluation>>& streams);
  // Stores `ev` as the obligations of `stream` (replacing what was there).
  ::isms::Status StoreEvaluation(const ContractContext& l, const std::string& stream,
                                 const Evaluation& ev);

 private:
  Ledger(std::unique_ptr<store::Connection> conn, const Clock& clock)
      : conn_(std::move(conn)), clock_(clock) {}

  // One attempt of RecordEvent: AlreadyExists when another connection took the event's number
  // first (nothing written then).
  Result<Event> RecordEventOnce(const NewEvent& e, const Actor& actor);

  // The contract `name` for the rules, from the cache when still current, and the number its
  // next event takes (meaningful inside a transaction): one query.
  struct Current {
    const ContractContext* context = nullptr;  // valid until the next call
    std::int64_t next_event_id = 0;
  };
  Result<Current> CurrentContract(const std::string& name);
  // CurrentContract and the stored events of `stream` (in the order the rules read them) in the
  // same query: what recording an event reads, in one round trip to the store.
  Result<Current> CurrentContractAndStream(const std::string& name, const std::string& stream,
                                           std::vector<Event>* events);
  // The cached context of `record`, loaded again unless it is the record cached and the contract
  // has as many policy.changed and event.retracted events as then.
  Result<const ContractContext*> CachedContext(const ContractRecord& record,
                                               std::int64_t policy_events);

  Result<std::vector<Event>> LoadEvents(std::int64_t contract_id, const std::string* stream);
  // The obligations of `stream` given its events (a finding's and an asset's with their facts).
  Result<Evaluation> EvaluateStreamOf(const ContractContext& l, const std::string& stream,
                                      const std::vector<Event>& events, Instant now);
  // Appends `e` to `stream`; on PostgreSQL with `ev`, stores ev as the stream's obligations in
  // the same statement (elsewhere the caller stores them).
  ::isms::Status InsertEvent(std::int64_t contract_id, const std::string& stream, const Event& e,
                             const Evaluation* ev);
  ::isms::Status StoreStream(const ContractContext& l, const std::string& stream,
                             const std::vector<Event>& events, Instant now);
  ::isms::Status RefreshDueStreams(const ContractContext& l, Instant now);
  Result<std::int64_t> RecomputeContract(const ContractRecord& c, Instant now,
                                         std::int64_t* events_seen);

  // A loaded contract and how many policy.changed and event.retracted events it had then.
  struct CachedContract {
    ContractContext context;
    std::int64_t policy_events = 0;
  };

  std::unique_ptr<store::Connection> conn_;
  const Clock& clock_;
  std::map<std::string, CachedContract> contracts_;
  // The event RecordEvent recorded last (RecordedBackdated).
  struct LastRecorded {
    std::string contract;
    std::int64_t event_id = 0;
    bool backdated = false;
  };
  std::optional<LastRecorded> last_recorded_;
};

}  // namespace isms::app
