// Small reads the HTTPS API needs that the use cases do not offer yet (docs/api.md).
//
// Thread-safety: as Ledger (one per thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/ledger.h"
#include "core/event.h"
#include "core/status.h"
#include "core/time.h"

namespace isms::app {

// A monthly report as issued (app/report.h Reports::Issue), without its bytes.
struct IssuedReportInfo {
  std::string month;  // "YYYY-MM"
  Instant issued_at{};
  std::string issued_by;
  std::string sha256;         // of its JSON
  std::int64_t event_id = 0;  // the report.submitted event
};

// The reports issued for `contract`, newest month first, then newest issue first. NotFound for a
// contract that does not exist.
Result<std::vector<IssuedReportInfo>> ListIssuedReports(Ledger& ledger,
                                                        const std::string& contract);

// Whether `e`, an event of `contract`, was recorded late (as Ledger::ListEvents flags it).
Result<bool> IsEventBackdated(Ledger& ledger, const std::string& contract, const Event& e);

}  // namespace isms::app
