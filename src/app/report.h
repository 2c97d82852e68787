// The monthly vulnerability report of paragraph 9.5.5: the vulnerabilities patched in a Month and
// those outstanding when the report is issued, with the time elapsed since each patch's public
// release, the 9.3 timescales, the totals per category and the obligations breached.
//
// A report is evaluated "as of" its issue instant from the stored data: findings first seen after
// it are left out, a remediation or a `vuln.patched` after it does not count (the finding is
// outstanding), and events that happened after it are ignored. What the imports established about
// a finding (its category, its release evidence) is taken as stored now: the store keeps no
// history of those facts.
//
// Issuing freezes the report: its HTML and JSON are rendered once (from rows kept compactly, as
// Write renders them), stored in table `reports`, and the ledger event `report.submitted
// month=YYYY-MM sha256=HEX` (HEX: the sha256 of the stored JSON bytes) is recorded at the issue
// instant, which meets 9.5.5. `Show` returns the stored bytes.
// Formats and fields: docs/reports.md.
//
// Thread-safety: as Ledger (one per thread).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/ledger.h"
#include "app/text.h"  // Sha256Hex, of the issued reports' bytes
#include "core/calendar.h"
#include "core/obligation.h"
#include "core/status.h"
#include "core/time.h"

namespace isms::app {

namespace internal {
struct CompactRows;
}

struct ReportRequest {
  std::string contract;
  std::string month;                 // "YYYY-MM"
  std::optional<Instant> issued_at;  // default: the ledger clock's now
};

// A 9.3 timescale of the policy in force at the issue, with where its value comes from.
struct ReportTimescale {
  std::string clause;    // "9.3", "9.3.2", ...
  std::string key;       // "patch_critical", ...
  std::string category;  // "Critical", "Important", "Other" for the three clocks, else ""
  std::string title;
  std::string timescale;  // "14 days", "60 Working Days", "no clock"
  std::string source;     // "contract", "policy-default", "varied"
  std::string wording;    // the schedule's words where the timescale is not a period
  std::string reference;  // for a varied timescale: the agreement, if given
};

// One vulnerability of the report: patched in the Month, or outstanding at the issue.
struct ReportRow {
  std::string finding;  // "F-12"
  std::string category;
  std::string asset;
  std::string vuln_id;
  std::vector<std::string> cves;
  std::string title;
  std::string component;
  std::optional<Date> patch_released;
  bool patch_released_assumed = false;
  std::string patch_release_source;
  Instant first_seen{};
  // Patched rows: when and how the patch was applied (the earliest of the remediation the scans
  // or a VEX statement established and a `vuln.patched` event).
  std::optional<Instant> applied_at;
  std::string applied_by;
  // Calendar days from the release date to the London date of the application (patched) or of
  // the issue (outstanding); none without a released patch.
  std::optional<int> elapsed_days;
  // The same in Working Days (release date excluded, end date included), for 'Other' only.
  std::optional<int> elapsed_working_days;
  std::optional<Date> due;           // the 9.3 due date in force
  std::optional<int> deadline_days;  // calendar days from the release date to `due`
  std::string clock_state;           // the 9.3 obligation's state as of the issue, "" without one
  std::optional<bool> within_timescale;  // patched: applied by the due date (none: no clock)
  bool overdue = false;                  // outstanding: the 9.3 clock is breached
  bool at_risk = false;   // outstanding: past the policy's at-risk share of its window
  std::string exception;  // the 9.3 exception in force (9.3.1, 9.3.2, 9.3.3), or ""
};

struct CategoryTotals {
  std::string category;  // "Critical", "Important", "Other", or "all"
  int patched_within = 0;
  int patched_late = 0;
  int outstanding_within = 0;
  int outstanding_overdue = 0;
};

struct MonthlyReport {
  std::string contract;
  std::string buyer;
  std::string supplier;
  std::string month;  // "YYYY-MM"
  Date first_day;
  Date last_day;
  Instant period_start{};          // 00:00 London of the first day
  Instant period_end{};            // 23:59:59.999 London of the last day
  std::optional<Date> report_due;  // the 9.5.5 deadline for this Month's report
  Instant issued_at{};
  bool issued = false;    // false: a preview (`report monthly`)
  std::string issued_by;  // the actor, when issued
  bool month_ended = true;
  std::string patch_release_rule;  // policy patch_release, for the assumed-date caveat
  std::vector<ReportTimescale> timescales;
  std::vector<ReportRow> patched;
  std::vector<ReportRow> outstanding;
  std::array<CategoryTotals, 4> totals;  // Critical, Important, Other, all
  std::vector<Obligation> breached;  // every obligation breached as of the issue, most urgent first
  std::int64_t observations = 0;     // findings left out: scanner observations
  std::int64_t own_code = 0;         // findings left out: the Supplier's own code
  std::int64_t not_affected = 0;     // findings left out: VEX/CSAF not_affected
  std::int64_t patched_after_month = 0;  // patched after the Month but before the issue
  std::vector<std::string> caveats;
  // The contract's audit log as of the issue (Annex 1 8.1): its latest signed checkpoint, which
  // leaves the supplier's host in this report so that the Buyer can later prove the log extends
  // it (`isms audit verify --against`), the verifier key of its signature, and the signing key's
  // rotations up to the issue (docs/audit-merkle.md). Empty when the report was made without
  // the audit store, or the log had no checkpoint yet (`note` says so).
  struct AuditLogSeal {
    std::string checkpoint;                  // the signed note
    std::string verifier_key;                // the key that signed it (current or retired)
    std::vector<std::string> key_rotations;  // "FROM to TO at T", oldest first
    std::string note;                        // why there is no checkpoint, when there is none
  };
  AuditLogSeal audit;
};

enum class ReportFormat { kHtml, kCsv, kJson };

// The three renderings (docs/reports.md). JSON and CSV are deterministic functions of the report;
// HTML too, and it is a standalone printable document with an inline SVG chart.
std::string RenderReportJson(const MonthlyReport& r);
std::string RenderReportCsv(const MonthlyReport& r);
Result<std::string> RenderReportHtml(const MonthlyReport& r);
// The rendering `format` handed to `sink` in pieces, in order (the same bytes as the whole
// rendering), for a long report that need not be held whole: the rows are rendered on worker
// threads, a few pieces ahead of the sink. Stops at, and returns, the sink's first error (or the
// HTML template's).
Status WriteReport(ReportFormat format, const MonthlyReport& r,
                   const std::function<Status(std::string_view)>& sink);

// Whether a spreadsheet would read a CSV text cell as a formula: it starts with '=', '+', '-',
// '@', a tab, a carriage return or a NUL (OWASP ASVS 5.0, 1.2.10). Every CSV isms writes puts a
// single quote before such a cell's text.
bool CsvLooksLikeAFormula(std::string_view value);

// One CSV cell (RFC 4180): a text cell that CsvLooksLikeAFormula gets a leading single quote
// (against formula injection); a cell holding ',', '"', CR or LF is quoted, doubling its quotes.
std::string CsvTextCell(std::string_view value);

// Calendar days from `from` to `to` (negative when `to` is earlier).
int ElapsedDays(Date from, Date to);
// Working Days w with from < w <= to (0 when `to` is not after `from`).
int ElapsedWorkingDays(const Calendar& calendar, Date from, Date to);

// "YYYY-MM" -> its first day. Errors name the value and the form.
Result<Date> ParseMonth(std::string_view month);

// True when `s` is valid UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool IsValidUtf8(std::string_view s);
// The length of the valid UTF-8 sequence that starts at s[i] (1 to 4), or 0 when none does.
size_t Utf8SequenceLength(std::string_view s, size_t i);

struct IssuedReport {
  std::string contract;
  std::string month;
  Instant issued_at{};
  std::string issued_by;
  std::string sha256;  // of `json`, byte for byte
  std::string html;
  std::string json;
  std::int64_t event_id = 0;  // the report.submitted event
};

class AuditService;

class Reports {
 public:
  // With `audit` (the same store's), reports print the audit log's latest checkpoint.
  explicit Reports(Ledger& ledger, AuditService* audit = nullptr)
      : ledger_(ledger), audit_(audit) {}

  // The report as of the request's issue time (a preview: nothing is stored). Refused for a
  // Month that has not begun at that time, before the contract's Start Date, or in the future.
  Result<MonthlyReport> Build(const ReportRequest& r);

  // The rendering `format` of Build(r), byte for byte as WriteReport (and RenderReport*) would
  // give it, handed to `sink` in pieces as it is rendered: for long reports, whose rows are then
  // never held as ReportRows and whose document is never held whole (400,000 findings: 0.5 GB of
  // memory at its peak, where the report built whole took 0.9 GB for CSV and 4.4 GB for HTML).
  // Stops at, and returns, the sink's first error.
  Status Write(const ReportRequest& r, ReportFormat format,
               const std::function<Status(std::string_view)>& sink);

  // Renders and stores the report as of the issue time and records report.submitted at it.
  // Refused (kFailedPrecondition) when the Month has not ended at the issue time.
  Result<IssuedReport> Issue(const ReportRequest& r, const Actor& actor);

  // The report issued for `month` at `issued_at`, or the latest issued when absent (kNotFound
  // when none).
  Result<IssuedReport> Show(const std::string& contract, const std::string& month,
                            std::optional<Instant> issued_at);

 private:
  // With `compact`, the rows go there rather than into the report.
  Result<MonthlyReport> BuildAt(const ReportRequest& r, Instant as_of, bool issuing,
                                internal::CompactRows* compact = nullptr);

  Ledger& ledger_;
  AuditService* audit_;
};

}  // namespace isms::app
