// Command handlers of `isms`, free of the argument parser: cli.cc parses the command line into
// these option structs and calls the handler, which writes to the Context. Handlers for values
// that may be "-" go through ForEachValue (one result per input line).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"

namespace isms::cli {

struct CalendarOptions {
  std::string policy_file;
  std::string holidays_file;
};

struct CalendarAddOptions {
  CalendarOptions calendar;
  std::string date;  // or "-"
  std::optional<int> days, working_days, months;
};
void CalendarAdd(Context& ctx, const CalendarAddOptions& o);

struct CalendarHolidaysOptions {
  CalendarOptions calendar;
  std::string year;  // or "-"
};
void CalendarHolidays(Context& ctx, const CalendarHolidaysOptions& o);

struct CalendarIsWorkingDayOptions {
  CalendarOptions calendar;
  std::string date;  // or "-"
};
void CalendarIsWorkingDay(Context& ctx, const CalendarIsWorkingDayOptions& o);

struct CvssOptions {
  std::string vector;  // or "-"
  bool json = false;
  std::string policy_file;
};
void Cvss(Context& ctx, const CvssOptions& o);

struct DeadlinePatchOptions {
  CalendarOptions calendar;
  std::string category;
  std::string released;  // or "-"
  bool extension = false;
  std::optional<int> agreed_days;
  std::string agreed_until;
};
void DeadlinePatch(Context& ctx, const DeadlinePatchOptions& o);

struct PolicyShowOptions {
  std::string policy_file;
};
void PolicyShow(Context& ctx, const PolicyShowOptions& o);

}  // namespace isms::cli

namespace isms::cli {

struct StoreOptions {
  std::string store;  // --store URL; empty: $ISMS_STORE, else sqlite:./isms-data/isms.db
};

struct InitOptions {
  StoreOptions store;
  std::string key_dir;  // where the audit checkpoint signing key lives
};
void Init(Context& ctx, const InitOptions& o);

struct ContractCreateOptions {
  StoreOptions store;
  std::string name;
  std::string start;
  std::string buyer;
  std::string supplier;
  bool bespoke_isms = false;
  std::string policy_file;
};
void ContractCreate(Context& ctx, const ContractCreateOptions& o);

struct ContractListOptions {
  StoreOptions store;
  bool json = false;
};
void ContractList(Context& ctx, const ContractListOptions& o);

struct EventRecordOptions {
  StoreOptions store;
  std::string type;
  std::string contract;
  std::string subject;
  std::string at;
  std::string note;
  std::vector<std::string> attrs;  // KEY=VALUE
};
void EventRecord(Context& ctx, const EventRecordOptions& o);

struct EventListOptions {
  StoreOptions store;
  std::string contract;
  bool json = false;
};
void EventList(Context& ctx, const EventListOptions& o);

struct StatusOptions {
  StoreOptions store;
  std::string contract;
  std::string at;
  bool as_known = false;
  std::string state;
  bool json = false;
  bool summary = false;
  bool all = false;          // list every obligation instead of the overview
  std::int64_t limit = -1;   // at most this many per list (-1: 20 in the overview, else all)
  std::int64_t offset = 0;   // skip this many of the list first
};
void ShowStatus(Context& ctx, const StatusOptions& o);

struct RecomputeOptions {
  StoreOptions store;
  std::string contract;
};
void Recompute(Context& ctx, const RecomputeOptions& o);

struct RootCauseListOptions {
  StoreOptions store;
  std::string contract;
};
void RootCauseList(Context& ctx, const RootCauseListOptions& o);

}  // namespace isms::cli

namespace isms::cli {

struct ImportScanOptions {
  StoreOptions store;
  std::vector<std::string> files;
  std::string contract;
  std::string format;
  std::string asset;
  std::string scanned_at;
  bool quiet = false;
};
void ImportScan(Context& ctx, const ImportScanOptions& o);

struct ImportAdvisoryOptions {
  StoreOptions store;
  std::vector<std::string> files;
  std::string contract;
};
void ImportAdvisory(Context& ctx, const ImportAdvisoryOptions& o);

struct VulnListOptions {
  StoreOptions store;
  std::string contract;
  std::string state = "open";
  std::string category;
  std::string asset;
  bool json = false;
};
void VulnList(Context& ctx, const VulnListOptions& o);

struct VulnShowOptions {
  StoreOptions store;
  std::string id;
  bool json = false;
};
void VulnShow(Context& ctx, const VulnShowOptions& o);

// isms vuln released|patched|not-exploitable|exploitable|exploited|extend|agree|at-risk|notified|
// mitigated ID ...
struct VulnActOptions {
  StoreOptions store;
  std::string action;
  std::string id;
  std::string date;       // released: the release date
  std::string at;         // when it happened
  std::string reason;     // not-exploitable
  std::string test_plan;  // extend
  std::optional<int> days;
  std::string until;
  std::string evidence;
  std::string note;
};
void VulnAct(Context& ctx, const VulnActOptions& o);

struct AssetListOptions {
  StoreOptions store;
  std::string contract;
  bool json = false;
};
void AssetList(Context& ctx, const AssetListOptions& o);

}  // namespace isms::cli

namespace isms::cli {

// isms report monthly|issue|show: the monthly vulnerability report of 9.5.5 (docs/reports.md).
struct ReportMonthlyOptions {
  StoreOptions store;
  std::string contract;
  std::string month;      // YYYY-MM
  std::string issued_at;  // a date (the end of that London day) or an RFC 3339 instant
  std::string format = "html";
  std::string output;  // -o FILE; "" or "-": standard output
};
void ReportMonthly(Context& ctx, const ReportMonthlyOptions& o);

struct ReportIssueOptions {
  StoreOptions store;
  std::string contract;
  std::string month;
  std::string issued_at;
};
void ReportIssue(Context& ctx, const ReportIssueOptions& o);

struct ReportShowOptions {
  StoreOptions store;
  std::string contract;
  std::string month;
  std::string issued_at;  // which issue; default the latest
  std::string format = "html";
  std::string output;
};
void ReportShow(Context& ctx, const ReportShowOptions& o);

}  // namespace isms::cli

namespace isms::cli {

// isms audit ...: audit records (docs/audit-format.md).
struct AuditCommonOptions {
  StoreOptions store;
  std::string key_dir;  // --key-dir; else $ISMS_KEY_DIR, else beside the SQLite file
  std::string contract;
};

struct AuditIngestOptions {
  AuditCommonOptions common;
  std::string file;  // or "-"
  std::string format;
};
void AuditIngest(Context& ctx, const AuditIngestOptions& o);

struct AuditSearchOptions {
  AuditCommonOptions common;
  std::string from, to, host, user, category, text;
  std::optional<std::int64_t> limit;
  bool json = false;
  bool count = false;
};
void AuditSearch(Context& ctx, const AuditSearchOptions& o);

struct AuditVerifyOptions {
  AuditCommonOptions common;
  std::string against;
  std::string log = "audit";  // audit, or ledger (the contract's own events)
};
void AuditVerify(Context& ctx, const AuditVerifyOptions& o);

void AuditCheckpoint(Context& ctx, const AuditCommonOptions& o);

struct AuditProveOptions {
  AuditCommonOptions common;
  std::optional<std::uint64_t> index, size, from_size;
};
void AuditProve(Context& ctx, const AuditProveOptions& o);

struct AuditVerifyProofOptions {
  std::string file;
  std::vector<std::string> public_keys;  // files; the log's key and the keys it replaced
};
void AuditVerifyProof(Context& ctx, const AuditVerifyProofOptions& o);

// `isms audit rotate-key`: a new signing key; the old one's verifier key and a transition note
// kept in the key folder; the rotation recorded in the access log and every contract's audit log.
void AuditRotateKey(Context& ctx, const AuditCommonOptions& o);

struct AuditVerifyTransitionOptions {
  std::vector<std::string> files;  // transition notes, oldest first
  std::string public_key;          // the key the buyer holds
  std::string output;              // write the last key there ("" or "-": only print it)
};
// `isms audit verify-transition`: follows transition notes from a trusted key to the current one.
void AuditVerifyTransition(Context& ctx, const AuditVerifyTransitionOptions& o);

struct AuditExportOptions {
  AuditCommonOptions common;
  std::string from, to;
  std::string format = "jsonl";
  std::string output;
};
void AuditExport(Context& ctx, const AuditExportOptions& o);

struct AuditPurgeOptions {
  AuditCommonOptions common;
  std::string before;
};
void AuditPurge(Context& ctx, const AuditPurgeOptions& o);
void AuditUpgrade(Context& ctx, const AuditCommonOptions& o);

struct AuditEraseOptions {
  AuditCommonOptions common;
  std::string leaves;  // --leaf: "17", "17,20-25"
  std::string from, to, host, user, category, text;
  std::string reason;
  bool dry_run = false;
};
void AuditErase(Context& ctx, const AuditEraseOptions& o);

struct AuditLeasesOptions {
  AuditCommonOptions common;
  std::string host, ip, from, to;
  bool json = false;
};
void AuditLeases(Context& ctx, const AuditLeasesOptions& o);

}  // namespace isms::cli

namespace isms::cli {

// isms serve: the syslog listeners (docs/serve.md).
struct ServeOptions {
  StoreOptions store;
  std::string key_dir;
  std::string contract;  // "": the only contract of the store
  std::vector<std::string> syslog_tcp, syslog_udp, syslog_tls;
  std::string tls_cert, tls_key, client_ca;  // PEM files
  std::vector<std::string> allow;            // CIDR ranges
  size_t max_connections = 1000;             // syslog stream connections at once
  double handshake_timeout = 10;             // seconds for a syslog TLS handshake
  double idle_timeout = 0;                   // seconds without data; 0: never
  size_t syslog_threads = 0;                 // preparer threads a contract; 0: one a core
  size_t syslog_memory = 256;                // MiB reserved at start a contract's listeners
  std::vector<std::string> listen;           // HTTPS (or HTTP) addresses; "none": no HTTP
  bool insecure_http = false;                // plain HTTP, loopback only
  size_t threads = 4;                        // HTTP worker threads
  size_t http_max_connections = 1000;        // HTTP connections at once
};
void Serve(Context& ctx, const ServeOptions& o);

}  // namespace isms::cli

namespace CLI {
class App;
}  // namespace CLI

namespace isms::cli {

// isms user ... and isms token ...: accounts and API tokens (docs/access.md), registered on `app`
// with their options; the chosen command's handler is put in `action`.
void AddAccessCommands(CLI::App& app, Context& ctx, std::function<void()>& action);

}  // namespace isms::cli
