// Shared by the vulnerability use cases (vulns*.cc): the stored finding row and its facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/ledger.h"
#include "core/vuln_rules.h"
#include "store/store.h"

namespace isms::app::internal {

// The fields of a finding's row that its clocks are decided from (FactsOf).
struct FindingClockFields {
  std::int64_t id = 0;
  std::string asset_name;  // filled by queries that join assets
  std::string vuln_id, category, kind, fix_state;
  std::optional<Date> patch_published, vuln_published, csaf_fix_date, csaf_advisory_date;
  bool exploit_available = false;
  std::optional<Instant> exploit_seen_at;
  Instant first_seen{};
  std::optional<Instant> remediated_at;
  std::string statement;
};

struct FindingRow : FindingClockFields {
  std::int64_t contract_id = 0;
  std::int64_t asset_id = 0;
  std::string scanner, scan_type, check_id, component, purl, cpe, port, title;
  std::vector<std::string> cves;
  std::string category_source;
  std::optional<double> base_score;
  std::string cvss_vector, fixed_version;
  std::string csaf_advisory;
  Instant last_seen{};
  std::int64_t first_scan_id = 0, last_scan_id = 0;
  std::optional<bool> credentialed;
  std::string remediated_by, statement_note;
};

extern const char* const kFindingColumns;  // "f.contract_id, f.id, ..., a.name" (joined)
extern const char* const kFindingFrom;     // "findings f JOIN assets a ON ..."
Result<FindingRow> ReadFinding(const store::Statement& st);

// The facts the rules need, with the patch release decided under the policy in force.
FindingFacts FactsOf(const FindingClockFields& row, const ContractContext& ctx,
                     const std::vector<Event>& events, Instant as_of);

// The scan-recency streams ("scan:<asset id>") of the assets scan `scan_id` covered, evaluated
// as of `now`, in one query.
Result<std::vector<std::pair<std::string, Evaluation>>> EvaluateScanStreamsOf(
    store::Connection& conn, const ContractContext& ctx, std::int64_t scan_id, Instant now);

std::int64_t Ms(Instant t);
Instant FromMs(std::int64_t ms);

}  // namespace isms::app::internal
