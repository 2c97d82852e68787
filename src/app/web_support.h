// What the web pages need of the store beyond the use cases: a cheap stamp of everything a
// contract's status, findings and events are computed from, so a page may keep what it computed
// while the stamp is unchanged (net/web_cache.h).
//
// Thread-safety: as Ledger (one per thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/ledger.h"
#include "core/status.h"
#include "core/time.h"

namespace isms::app {

// Every change to a contract's data goes with a new event (the ledger, a finding's events,
// report.submitted, policy.changed), a new scan (imports, remediation by absence, VEX
// statements) or a new advisory; the stored obligations also change with the passage of time,
// when a stream's next change comes (Ledger's projection). `isms recompute` rewrites the
// projection with none of these: a page kept across it lasts until its own time limit.
struct ContractStamp {
  std::int64_t contract_id = 0;
  std::int64_t last_event = 0;     // the contract's highest event number
  std::int64_t last_scan = 0;      // the contract's highest scan number
  std::int64_t last_advisory = 0;  // the store's highest advisory number (advisories are shared)
  std::optional<Instant> next_change;  // the earliest time a stored obligation changes by itself

  // Same data (next_change aside: it moves when the projection is brought up to date).
  bool SameData(const ContractStamp& o) const {
    return contract_id == o.contract_id && last_event == o.last_event &&
           last_scan == o.last_scan && last_advisory == o.last_advisory;
  }
};

// Four indexed look-ups. NotFound for a contract that does not exist.
Result<ContractStamp> StampOf(Ledger& ledger, const std::string& contract);

}  // namespace isms::app
