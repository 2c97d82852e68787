// Vulnerability management use cases (paragraph 9): scan and advisory imports into the asset
// register and the findings, the findings' clocks, exceptions recorded as events, listings.
//
// A finding is one (asset, scanner, check, component). Imports are one transaction each: a
// report lands whole or not at all. A scan import holds its transaction (on SQLite the store's
// write lock, on PostgreSQL a lock on the findings) while it parses, once the file is hashed.
// A finding missing from a later scan of the same asset by the same scanner and scan type (for
// Nessus and OpenVAS, with credentials at least as good) is remediated at that scan's time.
// Each finding's obligations (9.3, 9.5.6, 9.6) live in the ledger's projection as the stream
// "vuln:<id>", so `status` shows them with the rest.
// See docs/vulnerabilities.md.
//
// Thread-safety: as Ledger (one per thread).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/ledger.h"
#include "core/vuln_rules.h"
#include "formats/scan.h"

namespace isms::app {

struct ImportScanRequest {
  std::string contract;
  std::string path;
  std::optional<ScanFormat> format;   // detected from the content when absent
  std::string asset;                  // put every finding on this asset (register name)
  std::optional<Instant> scanned_at;  // when the report does not say (default: import time)
};

struct ImportScanResult {
  std::string file;
  ScanFormat format = ScanFormat::kNessus;
  std::string scanner;
  std::int64_t scan_id = 0;
  std::int64_t bytes = 0;
  std::int64_t assets = 0;    // assets the scan covered
  std::int64_t findings = 0;  // findings in the report (observations included)
  std::int64_t new_findings = 0;
  std::int64_t remediated = 0;  // findings remediated by their absence from this scan
  std::int64_t reopened = 0;    // remediated findings seen again
  bool duplicate = false;       // the same file (sha256) was imported before: nothing changed
};

// Called while a large file is read: bytes done, bytes in all, findings so far; from the thread
// that parses the file (ImportScan parses on a second thread and writes the findings as they
// come), and once more from the caller's thread at the end of the parse.
using ImportProgress = std::function<void(std::int64_t, std::int64_t, std::int64_t)>;

struct ImportAdvisoryResult {
  std::string file;
  std::string document_id;
  std::string publisher;
  std::int64_t vulnerabilities = 0;
  std::int64_t findings_updated = 0;  // findings of matching CVE and product
  bool duplicate = false;
};

struct FindingView {
  std::string id;  // "F-12"
  std::string contract;
  std::string asset;
  std::string scanner;
  std::string scan_type;
  std::string check_id;
  std::string title;
  std::string vuln_id;
  std::vector<std::string> cves;
  std::string component;
  std::string port;
  std::string kind;  // vulnerability, observation, own-code
  std::string category;
  std::string category_source;
  std::optional<double> base_score;
  std::string cvss_vector;
  bool fix_available = false;
  std::string fixed_version;
  std::optional<Date> patch_released;
  bool patch_released_assumed = false;
  std::string patch_release_source;
  Instant first_seen{};
  Instant last_seen{};
  std::optional<Instant> remediated_at;
  std::string remediated_by;
  std::string statement;      // VEX/CSAF statement: not_affected, fixed, ...
  std::string justification;  // the statement's justification or source
  std::string state;          // open, remediated, not-exploitable, observation, own-code
  std::optional<Date> due;
  std::string obligation_state;  // of the 9.3 obligation, or "" without a clock
  bool at_risk = false;
  std::string exception;
  std::vector<Obligation> obligations;
};

struct FindingFilter {
  std::string state = "open";  // open, remediated, not-exploitable, all
  std::string category;        // Critical, Important, Other, or ""
  std::string asset;
  std::int64_t limit = 0;  // 0: all
};

struct AssetView {
  std::string name;
  std::vector<std::pair<std::string, std::string>> aliases;  // (kind, value)
  std::optional<Instant> last_scanned;
  std::int64_t open_findings = 0;
};

class Vulnerabilities {
 public:
  explicit Vulnerabilities(Ledger& ledger) : ledger_(ledger) {}

  Result<ImportScanResult> ImportScan(const ImportScanRequest& r, const Actor& actor,
                                      const ImportProgress& progress = {});
  // Reads a CSAF 2.0 advisory and applies it to the findings of `contract` (every contract when
  // empty) whose CVE and product it names.
  Result<ImportAdvisoryResult> ImportAdvisory(const std::string& path, const std::string& contract,
                                              const Actor& actor);

  Result<std::vector<FindingView>> List(const std::string& contract, const FindingFilter& f);
  Result<FindingView> Show(const std::string& id);
  Result<std::vector<AssetView>> Assets(const std::string& contract);

  // Records an event about finding `id` (type vuln.*, buyer.notified, mitigation.proposed),
  // after the checks that need the finding's facts (e.g. no 9.3.2 extension for 'Other').
  Result<Event> RecordFindingEvent(const std::string& id, NewEvent e, const Actor& actor);

 private:
  Ledger& ledger_;
};

// The events of every finding stream ("vuln:F-<id>") of a contract, by stream, in one read.
Result<std::map<std::string, std::vector<Event>>> FindingEvents(Ledger& ledger,
                                                                std::int64_t contract_id);

// The obligations of a finding's stream "vuln:F-<id>", from its stored facts and `events`.
Result<Evaluation> EvaluateVulnStream(store::Connection& conn, const ContractContext& ctx,
                                      const std::string& stream, const std::vector<Event>& events,
                                      Instant now);

// Every finding stream of a contract with its obligations, for `recompute`; `events_by_stream`
// holds the events of the streams that have any.
Result<std::vector<std::pair<std::string, Evaluation>>> EvaluateAllFindings(
    store::Connection& conn, const ContractContext& ctx,
    const std::map<std::string, std::vector<Event>>& events_by_stream, Instant now);

// 9.5.4: the scan-recency obligation of an asset's stream "scan:<asset id>", and of every asset
// of a contract (for `recompute`).
std::string ScanStream(std::int64_t asset_id);
Result<Evaluation> EvaluateScanStream(store::Connection& conn, const ContractContext& ctx,
                                      const std::string& stream, Instant now);
Result<std::vector<std::pair<std::string, Evaluation>>> EvaluateAllScanStreams(
    store::Connection& conn, const ContractContext& ctx, Instant now);

// "F-12" <-> 12.
std::string FindingId(std::int64_t n);
Result<std::int64_t> ParseFindingId(std::string_view id);

}  // namespace isms::app
