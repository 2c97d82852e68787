#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <istream>
#include <ostream>

#include "cli/allocator.h"
#include "cli/commands.h"
#include "cli/context.h"

namespace isms::cli {
namespace {

constexpr const char* kStdinNote = " ('-' reads one per line from standard input)";

void AddCalendarOptions(CLI::App* cmd, CalendarOptions* o) {
  cmd->add_option("--policy", o->policy_file, "Policy file (TOML) whose holidays feed to use")
      ->type_name("FILE");
  cmd->add_option("--holidays", o->holidays_file,
                  "GOV.UK bank-holidays.json: authoritative for every year it covers")
      ->type_name("FILE");
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, const Clock& clock) {
  Context ctx{in, out, err, clock};

  CLI::App app{
      "isms: the security schedule of a UK public-sector IT contract, on the contract's clock.\n"
      "Working days are England and Wales working days; see docs/ for every rule."};
  app.name("isms");
  app.set_version_flag("--version", std::string("isms ") + ISMS_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  std::function<void()> action;

  // isms calendar ...
  auto* calendar = app.add_subcommand("calendar", "England and Wales working days and holidays");
  calendar->require_subcommand(1);

  CalendarAddOptions add;
  auto* add_cmd =
      calendar->add_subcommand("add", "Add a period to a date and print the due date (YYYY-MM-DD)");
  add_cmd->add_option("DATE", add.date, std::string("Start date YYYY-MM-DD") + kStdinNote)
      ->required();
  auto* days = add_cmd->add_option("--days", add.days, "N calendar days after DATE");
  auto* wdays =
      add_cmd->add_option("--working-days", add.working_days,
                          "the N-th Working Day after DATE (DATE itself is never counted)");
  auto* months = add_cmd->add_option(
      "--months", add.months, "the same day N Months later, clamped to the month's last day");
  days->excludes(wdays)->excludes(months);
  wdays->excludes(months);
  AddCalendarOptions(add_cmd, &add.calendar);
  add_cmd->callback([&] {
    action = [&] {
      if (!add.days && !add.working_days && !add.months) {
        ctx.Fail(Status::InvalidArgument(
            "calendar add needs one of --days N, --working-days N or --months N"));
        ctx.exit_code = 2;
        return;
      }
      CalendarAdd(ctx, add);
    };
  });

  CalendarHolidaysOptions hol;
  auto* hol_cmd = calendar->add_subcommand(
      "holidays", "List the England and Wales days off of a year (\"YYYY-MM-DD<TAB>name\")");
  hol_cmd->add_option("YEAR", hol.year, std::string("Year, e.g. 2026") + kStdinNote)->required();
  AddCalendarOptions(hol_cmd, &hol.calendar);
  hol_cmd->callback([&] { action = [&] { CalendarHolidays(ctx, hol); }; });

  CalendarIsWorkingDayOptions iwd;
  auto* iwd_cmd =
      calendar->add_subcommand("is-working-day", "Print yes if DATE is a Working Day, else no");
  iwd_cmd->add_option("DATE", iwd.date, std::string("Date YYYY-MM-DD") + kStdinNote)->required();
  AddCalendarOptions(iwd_cmd, &iwd.calendar);
  iwd_cmd->callback([&] { action = [&] { CalendarIsWorkingDay(ctx, iwd); }; });

  // isms cvss ...
  CvssOptions cvss;
  auto* cvss_cmd = app.add_subcommand(
      "cvss",
      "Score a CVSS v2.0/v3.0/v3.1/v4.0 vector: prints \"<version> <base> <rating> <category>\"");
  cvss_cmd->add_option("VECTOR", cvss.vector, std::string("CVSS vector") + kStdinNote)->required();
  cvss_cmd->add_flag("--json", cvss.json,
                     "Print {\"vector\",\"version\",\"base_score\",\"score\",\"nvd_severity\","
                     "\"category\"} per vector");
  cvss_cmd
      ->add_option("--policy", cvss.policy_file,
                   "Policy file deciding the score basis of the 9.2 category")
      ->type_name("FILE");
  cvss_cmd->callback([&] { action = [&] { Cvss(ctx, cvss); }; });

  // isms deadline ...
  auto* deadline = app.add_subcommand("deadline", "Deadlines of the schedule");
  deadline->require_subcommand(1);
  DeadlinePatchOptions patch;
  auto* patch_cmd = deadline->add_subcommand(
      "patch", "9.3: the date by which a patch must be applied (prints YYYY-MM-DD)");
  patch_cmd->add_option("--category", patch.category, "Critical, Important or Other (9.2)")
      ->required();
  patch_cmd
      ->add_option("--released", patch.released,
                   std::string("Public release date of the patch, YYYY-MM-DD") + kStdinNote)
      ->required();
  patch_cmd->add_flag("--extension", patch.extension,
                      "9.3.2: +5 days where the patch adversely affects the service and the test "
                      "plan was followed (Critical and Important only)");
  auto* agreed_days =
      patch_cmd->add_option("--agreed-days", patch.agreed_days,
                            "9.3.3: a period agreed with the Buyer, N calendar days from release");
  auto* agreed_until = patch_cmd->add_option("--agreed-until", patch.agreed_until,
                                             "9.3.3: a date agreed with the Buyer, YYYY-MM-DD");
  agreed_days->excludes(agreed_until);
  AddCalendarOptions(patch_cmd, &patch.calendar);
  patch_cmd->callback([&] { action = [&] { DeadlinePatch(ctx, patch); }; });

  // isms policy ...
  auto* policy = app.add_subcommand("policy", "The contract's timescales and settings");
  policy->require_subcommand(1);
  PolicyShowOptions show;
  auto* show_cmd = policy->add_subcommand(
      "show", "Print the effective policy: each timescale with its clause and source");
  show_cmd->add_option("--policy", show.policy_file, "Policy file (TOML) over the defaults")
      ->type_name("FILE");
  show_cmd->callback([&] { action = [&] { PolicyShow(ctx, show); }; });

  // The ledger: store, contracts, events, obligations.
  auto add_store = [](CLI::App* cmd, StoreOptions* o) {
    cmd->add_option("--store", o->store,
                    "Store URL: sqlite:PATH or postgresql://... (default: $ISMS_STORE, else "
                    "sqlite:./isms-data/isms.db); never put a password here")
        ->type_name("URL");
  };

  InitOptions init;
  auto* init_cmd = app.add_subcommand(
      "init",
      "Create the store, or bring its schema up to date, and the audit checkpoint signing key");
  add_store(init_cmd, &init.store);
  init_cmd->add_option("--key-dir", init.key_dir,
                       "Folder of the audit signing key (default: $ISMS_KEY_DIR, else beside a "
                       "SQLite store; required for PostgreSQL)")
      ->type_name("DIR");
  init_cmd->callback([&] { action = [&] { Init(ctx, init); }; });

  auto* contract = app.add_subcommand("contract", "Contracts held in the store");
  contract->require_subcommand(1);
  ContractCreateOptions cc;
  auto* cc_cmd =
      contract->add_subcommand("create", "Create a contract; its clocks start at --start");
  cc_cmd->add_option("NAME", cc.name, "Contract name: letters, digits, '-', '_', '.'")->required();
  cc_cmd->add_option("--start", cc.start, "The contract's Start Date, YYYY-MM-DD")->required();
  cc_cmd->add_option("--buyer", cc.buyer, "The Buyer's name");
  cc_cmd->add_option("--supplier", cc.supplier, "The Supplier's name");
  cc_cmd->add_flag("--bespoke-isms", cc.bespoke_isms,
                   "The Buyer stipulated a bespoke ISMS: it needs the Buyer's approval (3.7)");
  cc_cmd->add_option("--policy", cc.policy_file, "Policy file (TOML) varying the defaults")
      ->type_name("FILE");
  add_store(cc_cmd, &cc.store);
  cc_cmd->callback([&] { action = [&] { ContractCreate(ctx, cc); }; });
  ContractListOptions cl;
  auto* cl_cmd = contract->add_subcommand("list", "List the contracts of the store");
  cl_cmd->add_flag("--json", cl.json, "Print a JSON array");
  add_store(cl_cmd, &cl.store);
  cl_cmd->callback([&] { action = [&] { ContractList(ctx, cl); }; });

  auto* event = app.add_subcommand("event", "The contract's ledger of events (docs/events.md)");
  event->require_subcommand(1);
  EventRecordOptions er;
  auto* er_cmd = event->add_subcommand(
      "record", "Record an event: what happened, when, about what (append-only)");
  er_cmd->add_option("TYPE", er.type, "Event type, e.g. isms.submitted (docs/events.md)")
      ->required();
  er_cmd->add_option("ATTRS", er.attrs,
                     "KEY=VALUE attributes, e.g. doc=sha256:HEX evidence=MSG-1 supersedes=12");
  er_cmd->add_option("--contract", er.contract, "Contract name")->required();
  er_cmd->add_option("--subject", er.subject, "What the event is about, e.g. alice or INC-7");
  er_cmd->add_option("--at", er.at,
                     "When it happened: YYYY-MM-DD (start of that London day) or an RFC 3339 "
                     "instant; default now");
  er_cmd->add_option("--note", er.note, "A free-text note");
  add_store(er_cmd, &er.store);
  er_cmd->callback([&] { action = [&] { EventRecord(ctx, er); }; });
  EventListOptions el;
  auto* el_cmd = event->add_subcommand("list", "List a contract's events in recording order");
  el_cmd->add_option("--contract", el.contract, "Contract name")->required();
  el_cmd->add_flag("--json", el.json, "Print a JSON array");
  add_store(el_cmd, &el.store);
  el_cmd->callback([&] { action = [&] { EventList(ctx, el); }; });

  StatusOptions st;
  auto* st_cmd = app.add_subcommand(
      "status", "Which obligations are open, met, met late or breached, most urgent first");
  st_cmd->add_option("--contract", st.contract, "Contract name")->required();
  st_cmd->add_option("--at", st.at,
                     "Evaluate as of this date (its end, London time) or instant, from the events");
  st_cmd->add_flag("--as-known", st.as_known,
                   "With --at: also ignore events recorded after that time");
  st_cmd->add_option("--state", st.state,
                     "Only obligations in this state: open, met, met-late, breached, suspended, "
                     "superseded");
  st_cmd->add_flag("--json", st.json, "Print a JSON array of obligations");
  st_cmd->add_flag("--summary", st.summary,
                   "Count the obligations by clause and state instead of listing them");
  st_cmd->add_flag("--all", st.all,
                   "List every obligation, most urgent first (without it, and without --state or "
                   "--json, status shows the counts that need attention, what is breached and "
                   "what falls due in the next 30 days)");
  st_cmd->add_option("--limit", st.limit,
                     "At most N obligations per list (default: 20 in the overview, all in a list)")
      ->check(CLI::NonNegativeNumber);
  st_cmd->add_option("--offset", st.offset,
                     "Skip the first N of the list: with --limit, one page of it")
      ->check(CLI::NonNegativeNumber);
  add_store(st_cmd, &st.store);
  st_cmd->callback([&] { action = [&] { ShowStatus(ctx, st); }; });

  RecomputeOptions rc;
  auto* rc_cmd =
      app.add_subcommand("recompute", "Rebuild the stored obligations from the events alone");
  rc_cmd->add_option("--contract", rc.contract, "Only this contract (default: all)");
  add_store(rc_cmd, &rc.store);
  rc_cmd->callback([&] { action = [&] { Recompute(ctx, rc); }; });

  auto* rootcause = app.add_subcommand("rootcause", "Root-cause identifiers of tests (6.5)");
  rootcause->require_subcommand(1);
  RootCauseListOptions rl;
  auto* rl_cmd = rootcause->add_subcommand("list", "List the root-cause identifiers in use");
  rl_cmd->add_option("--contract", rl.contract, "Contract name")->required();
  add_store(rl_cmd, &rl.store);
  rl_cmd->callback([&] { action = [&] { RootCauseList(ctx, rl); }; });

  // Vulnerability management (paragraph 9).
  auto* import = app.add_subcommand("import", "Read scanner reports and advisories");
  import->require_subcommand(1);
  ImportScanOptions is;
  auto* is_cmd = import->add_subcommand(
      "scan",
      "Import scanner reports: Nessus, OpenVAS/GVM, Trivy, Grype, OSV-Scanner, CycloneDX (incl. "
      "VEX), SARIF; each file lands whole or not at all. On a SQLite store that nothing else "
      "has open, a report of 20 MB or more is written through a rollback journal (faster); "
      "other commands on the store wait for it");
  is_cmd->add_option("FILE", is.files, "Report files")->required();
  is_cmd->add_option("--contract", is.contract, "Contract name")->required();
  is_cmd->add_option("--format", is.format,
                     "nessus, openvas, trivy, grype, osv, cyclonedx or sarif (default: detected "
                     "from the content)");
  is_cmd->add_option("--asset", is.asset, "Put every finding on this asset of the register");
  is_cmd->add_option("--scanned-at", is.scanned_at,
                     "When the scan ran, where the report does not say (default: now)");
  is_cmd->add_flag("--quiet", is.quiet, "No progress line on the terminal");
  add_store(is_cmd, &is.store);
  is_cmd->callback([&] { action = [&] { ImportScan(ctx, is); }; });
  ImportAdvisoryOptions ia;
  auto* ia_cmd = import->add_subcommand(
      "advisory", "Read CSAF 2.0 advisories: patch release dates, fixed and not-affected "
                  "statements, Microsoft ratings, applied to matching findings");
  ia_cmd->add_option("FILE", ia.files, "CSAF 2.0 JSON files")->required();
  ia_cmd->add_option("--contract", ia.contract, "Only this contract (default: every contract)");
  add_store(ia_cmd, &ia.store);
  ia_cmd->callback([&] { action = [&] { ImportAdvisory(ctx, ia); }; });

  auto* vuln = app.add_subcommand("vuln", "Findings and their 9.3 patch deadlines");
  vuln->require_subcommand(1);
  VulnListOptions vl;
  auto* vl_cmd = vuln->add_subcommand("list", "List the findings of a contract");
  vl_cmd->add_option("--contract", vl.contract, "Contract name")->required();
  vl_cmd->add_option("--state", vl.state,
                     "open (default), remediated, not-exploitable, not-affected, observation, "
                     "own-code or all");
  vl_cmd->add_option("--category", vl.category, "Critical, Important or Other");
  vl_cmd->add_option("--asset", vl.asset, "Only this asset");
  vl_cmd->add_flag("--json", vl.json, "Print a JSON array (fields in docs/vulnerabilities.md)");
  add_store(vl_cmd, &vl.store);
  vl_cmd->callback([&] { action = [&] { VulnList(ctx, vl); }; });
  VulnShowOptions vs;
  auto* vs_cmd = vuln->add_subcommand("show", "Show one finding with its evidence and clocks");
  vs_cmd->add_option("ID", vs.id,
                     "Finding id, e.g. F-12 ('-' reads one per line from standard input)")
      ->required();
  vs_cmd->add_flag("--json", vs.json, "Print JSON");
  add_store(vs_cmd, &vs.store);
  vs_cmd->callback([&] { action = [&] { VulnShow(ctx, vs); }; });

  VulnActOptions va;
  struct Act {
    const char* name;
    const char* help;
  };
  const Act acts[] = {
      {"released", "Set the patch's public release date by hand (9.3): ID DATE"},
      {"patched", "Record that the patch was applied (--at when)"},
      {"not-exploitable",
       "9.3.1: assert the vulnerability is not exploitable here (--reason); the clock stops"},
      {"exploitable", "9.3.1: the assertion no longer holds; the clock runs again (--at)"},
      {"exploited", "9.5.6: known to be exploited or exploitable"},
      {"extend", "9.3.2: +5 days, Critical/Important only, with the test plan (--test-plan)"},
      {"agree", "9.3.3: a period agreed with the Buyer (--days N | --until DATE, --evidence)"},
      {"at-risk", "9.6: judged unlikely to be mitigated in time: notify the Buyer now"},
      {"notified", "9.6: the Buyer was notified"},
      {"mitigated", "9.5.6: interim mitigation proposed"},
  };
  for (const Act& a : acts) {
    auto* cmd = vuln->add_subcommand(a.name, a.help);
    cmd->add_option("ID", va.id, "Finding id, e.g. F-12")->required();
    if (std::string(a.name) == "released") {
      cmd->add_option("DATE", va.date, "Release date YYYY-MM-DD")->required();
    }
    if (std::string(a.name) == "not-exploitable") {
      cmd->add_option("--reason", va.reason, "Why it is not exploitable here")->required();
    }
    if (std::string(a.name) == "extend") {
      cmd->add_option("--test-plan", va.test_plan, "The test plan followed")->required();
    }
    if (std::string(a.name) == "agree") {
      auto* d = cmd->add_option("--days", va.days, "N calendar days from the release");
      auto* u = cmd->add_option("--until", va.until, "An agreed last date, YYYY-MM-DD");
      d->excludes(u);
    }
    cmd->add_option("--at", va.at, "When it happened: YYYY-MM-DD or RFC 3339 (default now)");
    cmd->add_option("--evidence", va.evidence,
                    "A message id, document hash or reference (needed for the Buyer's acts)");
    cmd->add_option("--note", va.note, "A free-text note");
    add_store(cmd, &va.store);
    std::string name = a.name;
    cmd->callback([&, name] {
      va.action = name;
      action = [&] { VulnAct(ctx, va); };
    });
  }

  auto* asset = app.add_subcommand("asset", "The asset register");
  asset->require_subcommand(1);
  AssetListOptions al;
  auto* al_cmd = asset->add_subcommand("list", "List the assets with their aliases");
  al_cmd->add_option("--contract", al.contract, "Contract name")->required();
  al_cmd->add_flag("--json", al.json, "Print a JSON array");
  add_store(al_cmd, &al.store);
  al_cmd->callback([&] { action = [&] { AssetList(ctx, al); }; });

  // The monthly vulnerability report (9.5.5).
  auto* report = app.add_subcommand("report", "The monthly vulnerability report (9.5.5)");
  report->require_subcommand(1);
  const char* const kIssuedAtHelp =
      "Evaluate as of this time: a date (the end of that London day) or an RFC 3339 instant; "
      "default now";
  ReportMonthlyOptions rm;
  auto* rm_cmd = report->add_subcommand(
      "monthly", "Render the report of a Month as of a time (a preview: nothing is recorded)");
  rm_cmd->add_option("--contract", rm.contract, "Contract name")->required();
  rm_cmd->add_option("--month", rm.month, "The Month reported, YYYY-MM")->required();
  rm_cmd->add_option("--issued-at", rm.issued_at, kIssuedAtHelp);
  rm_cmd->add_option("--format", rm.format, "html (default), csv or json (docs/reports.md)");
  rm_cmd->add_option("-o,--output", rm.output, "Write to FILE instead of standard output")
      ->type_name("FILE");
  add_store(rm_cmd, &rm.store);
  rm_cmd->callback([&] { action = [&] { ReportMonthly(ctx, rm); }; });
  ReportIssueOptions ri;
  auto* ri_cmd = report->add_subcommand(
      "issue", "Freeze the report of an ended Month (HTML and JSON) and record report.submitted");
  ri_cmd->add_option("--contract", ri.contract, "Contract name")->required();
  ri_cmd->add_option("--month", ri.month, "The Month reported, YYYY-MM")->required();
  ri_cmd->add_option("--issued-at", ri.issued_at, kIssuedAtHelp);
  add_store(ri_cmd, &ri.store);
  ri_cmd->callback([&] { action = [&] { ReportIssue(ctx, ri); }; });
  ReportShowOptions rs;
  auto* rs_cmd = report->add_subcommand(
      "show", "Print an issued report byte for byte as it was issued (default: the latest)");
  rs_cmd->add_option("--contract", rs.contract, "Contract name")->required();
  rs_cmd->add_option("--month", rs.month, "The Month reported, YYYY-MM")->required();
  rs_cmd->add_option("--issued-at", rs.issued_at, "The issue to print, as `report issue` gave it");
  rs_cmd->add_option("--format", rs.format, "html (default) or json");
  rs_cmd->add_option("-o,--output", rs.output, "Write to FILE instead of standard output")
      ->type_name("FILE");
  add_store(rs_cmd, &rs.store);
  rs_cmd->callback([&] { action = [&] { ReportShow(ctx, rs); }; });

  // isms audit ...
  auto* audit = app.add_subcommand(
      "audit",
      "Audit records: ingest, search, verify, prove, export, erase, purge, upgrade, rotate-key");
  audit->require_subcommand(1);
  auto add_audit = [&](CLI::App* cmd, AuditCommonOptions* o, bool contract) {
    if (contract) cmd->add_option("--contract", o->contract, "Contract name")->required();
    cmd->add_option("--key-dir", o->key_dir,
                    "Folder of the audit signing key (default: $ISMS_KEY_DIR, else beside the "
                    "SQLite file)")
        ->type_name("DIR");
    add_store(cmd, &o->store);
  };
  AuditIngestOptions ai;
  auto* ai_cmd = audit->add_subcommand(
      "ingest", "Append a file of syslog or JSON-lines records (one transaction) and sign a "
                "checkpoint");
  ai_cmd->add_option("FILE", ai.file, "The records ('-': standard input)")->required();
  ai_cmd->add_option("--format", ai.format, "syslog or jsonl (default: by the file's extension)");
  add_audit(ai_cmd, &ai.common, true);
  ai_cmd->callback([&] { action = [&] { AuditIngest(ctx, ai); }; });
  AuditSearchOptions as;
  auto* as_cmd = audit->add_subcommand("search", "Find audit records, in log order");
  as_cmd->add_option("--from", as.from, "From this date or RFC 3339 instant");
  as_cmd->add_option("--to", as.to, "Up to this date (inclusive) or instant (exclusive)");
  as_cmd->add_option("--host", as.host,
                     "Only this host: what it sent, and outbound requests from an address it "
                     "held by DHCP lease at the time (a host name or MAC address)");
  as_cmd->add_option("--user", as.user, "Only this user");
  as_cmd->add_option("--category", as.category, "Only this category (docs/audit-format.md)");
  as_cmd->add_option("--text", as.text, "Only messages containing this text");
  as_cmd->add_option("--limit", as.limit, "At most N records");
  auto* as_json = as_cmd->add_flag("--json", as.json, "JSON output");
  as_cmd->add_flag("--count", as.count, "Print only the number of records")->excludes(as_json);
  add_audit(as_cmd, &as.common, true);
  as_cmd->callback([&] { action = [&] { AuditSearch(ctx, as); }; });
  AuditVerifyOptions av;
  auto* av_cmd = audit->add_subcommand(
      "verify",
      "Recompute every chunk, index and checkpoint, rebuild the lease index; name the first bad "
      "chunk");
  av_cmd->add_option("--against", av.against,
                     "Also prove that the log extends this signed checkpoint (kept by the buyer)")
      ->type_name("CHECKPOINT_FILE");
  av_cmd->add_option("--log", av.log,
                     "audit (default): the audit records; ledger: the contract's own events, "
                     "each checked against its sealed leaf");
  add_audit(av_cmd, &av.common, true);
  av_cmd->callback([&] { action = [&] { AuditVerify(ctx, av); }; });
  AuditCommonOptions ack;
  auto* ack_cmd = audit->add_subcommand("checkpoint", "Print the latest signed checkpoint");
  add_audit(ack_cmd, &ack, true);
  ack_cmd->callback([&] { action = [&] { AuditCheckpoint(ctx, ack); }; });
  AuditProveOptions ap;
  auto* ap_cmd = audit->add_subcommand(
      "prove", "Inclusion proof of record I and/or consistency proof from size M (JSON)");
  ap_cmd->add_option("--index", ap.index, "The record's position in the log");
  ap_cmd->add_option("--size", ap.size, "The checkpoint's size (default: the latest)");
  ap_cmd->add_option("--from-size", ap.from_size, "Prove consistency from this checkpoint size");
  add_audit(ap_cmd, &ap.common, true);
  ap_cmd->callback([&] { action = [&] { AuditProve(ctx, ap); }; });
  AuditVerifyProofOptions avp;
  auto* avp_cmd = audit->add_subcommand(
      "verify-proof", "Check a proof of `audit prove` offline, with the log's public key");
  avp_cmd->add_option("FILE", avp.file, "The proof (JSON)")->required();
  avp_cmd
      ->add_option("--public-key", avp.public_keys,
                   "The verifier key file (audit-checkpoint.pub); repeatable: after a key "
                   "rotation, the old key's too for checkpoints it signed")
      ->required()
      ->type_name("FILE");
  avp_cmd->callback([&] { action = [&] { AuditVerifyProof(ctx, avp); }; });
  AuditCommonOptions ark;
  auto* ark_cmd = audit->add_subcommand(
      "rotate-key",
      "Replace the audit signing key: checkpoints are signed with a new key from now on; the old "
      "verifier key and a transition note signed by both keys stay in the key folder");
  add_audit(ark_cmd, &ark, false);
  ark_cmd->callback([&] { action = [&] { AuditRotateKey(ctx, ark); }; });
  AuditVerifyTransitionOptions avt;
  auto* avt_cmd = audit->add_subcommand(
      "verify-transition",
      "Check key transition notes offline, from the verifier key you hold to the key that signs "
      "now, and print that key");
  avt_cmd
      ->add_option("FILE", avt.files,
                   "Transition notes (audit-key-transition-*.note), oldest first")
      ->required();
  avt_cmd->add_option("--public-key", avt.public_key, "The verifier key file you hold")
      ->required()
      ->type_name("FILE");
  avt_cmd->add_option("-o,--output", avt.output, "Also write the new verifier key to FILE")
      ->type_name("FILE");
  avt_cmd->callback([&] { action = [&] { AuditVerifyTransition(ctx, avt); }; });
  AuditExportOptions ae;
  auto* ae_cmd = audit->add_subcommand("export", "Export the records of a period");
  ae_cmd->add_option("--from", ae.from, "From this date or RFC 3339 instant")->required();
  ae_cmd->add_option("--to", ae.to, "Up to this date (inclusive) or instant (exclusive)")
      ->required();
  ae_cmd->add_option("--format", ae.format, "jsonl (default) or csv");
  ae_cmd->add_option("-o,--output", ae.output, "Write to FILE instead of standard output")
      ->type_name("FILE");
  add_audit(ae_cmd, &ae.common, true);
  ae_cmd->callback([&] { action = [&] { AuditExport(ctx, ae); }; });
  AuditPurgeOptions apu;
  auto* apu_cmd = audit->add_subcommand(
      "purge", "Drop whole chunks older than a date (not younger than the retention period)");
  apu_cmd->add_option("--before", apu.before, "Purge records before this date, YYYY-MM-DD")
      ->required();
  add_audit(apu_cmd, &apu.common, true);
  apu_cmd->callback([&] { action = [&] { AuditPurge(ctx, apu); }; });
  AuditCommonOptions aup;
  auto* aup_cmd = audit->add_subcommand(
      "upgrade",
      "Store what blocks written by older versions lack: their records' kinds, so that "
      "searches by category read only the blocks they need, and the SHA-256 of their stored "
      "bytes, so that verify finds any changed byte");
  add_audit(aup_cmd, &aup, true);
  aup_cmd->footer(
      "Reads each such block (and tail batch) once, in transactions of 16 chunks (about a "
      "million records by default): a running `isms serve` commits between them. The SHA-256 "
      "vouches for the bytes as they are: run `isms audit verify` first. `isms audit verify` "
      "checks what is stored, and says how many blocks still lack either.");
  aup_cmd->callback([&] { action = [&] { AuditUpgrade(ctx, aup); }; });
  AuditEraseOptions aer;
  auto* aer_cmd = audit->add_subcommand(
      "erase", "Erase the content of records (A1 3.3.4); their leaf hashes stay, so proofs do");
  aer_cmd->add_option("--leaf", aer.leaves, "The records' positions: I, or a list such as 17,20-25")
      ->type_name("I[,J-K]");
  aer_cmd->add_option("--from", aer.from, "With a filter: from this date or RFC 3339 instant");
  aer_cmd->add_option("--to", aer.to, "With a filter: up to this date (inclusive) or instant");
  aer_cmd->add_option("--host", aer.host,
                      "Every record of this host (as `search --host`, leases followed)");
  aer_cmd->add_option("--user", aer.user, "Every record of this user");
  aer_cmd->add_option("--category", aer.category, "Only this category");
  aer_cmd->add_option("--text", aer.text, "Only messages containing this text");
  aer_cmd->add_option("--reason", aer.reason, "Why (recorded in the ledger's audit.erased event)");
  aer_cmd->add_flag("--dry-run", aer.dry_run, "Only list the leaves that would be erased");
  add_audit(aer_cmd, &aer.common, true);
  aer_cmd->footer(
      "Erasing a DHCP record rebuilds the lease index from the log's DHCP records while it holds "
      "the audit store's write lock: a running `isms serve` waits, keeping what it receives "
      "(docs/audit-format.md, \"Not yet\").");
  aer_cmd->callback([&] { action = [&] { AuditErase(ctx, aer); }; });
  AuditLeasesOptions ale;
  auto* ale_cmd = audit->add_subcommand(
      "leases", "The DHCP leases a host held, or those of an address (asset attribution)");
  ale_cmd->add_option("--host", ale.host, "The holder: host name or MAC address");
  ale_cmd->add_option("--ip", ale.ip, "The address");
  ale_cmd->add_option("--from", ale.from, "Overlapping from this date or RFC 3339 instant");
  ale_cmd->add_option("--to", ale.to, "Up to this date (inclusive) or instant (exclusive)");
  ale_cmd->add_flag("--json", ale.json, "JSON output");
  add_audit(ale_cmd, &ale.common, true);
  ale_cmd->callback([&] { action = [&] { AuditLeases(ctx, ale); }; });

  // isms user ..., isms token ... (docs/access.md).
  AddAccessCommands(app, ctx, action);

  ServeOptions sv;
  auto* sv_cmd = app.add_subcommand(
      "serve",
      "Serve the web interface and API over HTTPS, and receive syslog (TCP, TLS, UDP) into a "
      "contract's audit log; SIGHUP reloads the TLS certificate, SIGTERM stops (docs/serve.md)");
  sv_cmd->add_option("--listen", sv.listen,
                     "Serve HTTPS (the web interface and /api/v1) on HOST:PORT, [IPV6]:PORT or "
                     "PORT (repeatable; default 127.0.0.1:8443; 'none' for syslog only)")
      ->type_name("ADDR");
  sv_cmd->add_flag("--insecure-http", sv.insecure_http,
                   "Serve plain HTTP instead of HTTPS (loopback addresses only)");
  sv_cmd->add_option("--threads", sv.threads, "HTTP worker threads (default 4)")
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  sv_cmd->add_option("--max-connections", sv.http_max_connections,
                     "HTTPS connections open at once; more are closed on arrival (default 1000)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000));
  sv_cmd->add_option("--syslog-tcp", sv.syslog_tcp,
                     "Listen for syslog over TCP (octet counting and LF framing) on HOST:PORT, "
                     "[IPV6]:PORT or PORT (127.0.0.1); ADDR=CONTRACT: records of that contract "
                     "(else --contract's)")
      ->type_name("ADDR[=CONTRACT]");
  sv_cmd->add_option("--syslog-udp", sv.syslog_udp,
                     "Listen for syslog over UDP on ADDR (=CONTRACT as for --syslog-tcp)")
      ->type_name("ADDR[=CONTRACT]");
  sv_cmd->add_option("--syslog-tls", sv.syslog_tls,
                     "Listen for syslog over TLS (RFC 5425; TLS 1.2+, octet counting and LF "
                     "framing) on ADDR (=CONTRACT as for --syslog-tcp); needs --tls-cert and "
                     "--tls-key")
      ->type_name("ADDR[=CONTRACT]");
  sv_cmd->add_option("--tls-cert", sv.tls_cert,
                     "The certificate of HTTPS and syslog TLS (PEM; may hold the chain; default "
                     "for HTTPS: a self-signed one made in the data folder)")
      ->type_name("FILE");
  sv_cmd->add_option("--tls-key", sv.tls_key, "The private key of --tls-cert (PEM)")
      ->type_name("FILE");
  sv_cmd->add_option("--syslog-client-ca", sv.client_ca,
                     "Require TLS clients to present a certificate signed by this CA (PEM)")
      ->type_name("FILE");
  sv_cmd->add_option("--syslog-allow", sv.allow,
                     "Accept only senders in this CIDR range (repeatable; default: any)")
      ->type_name("CIDR");
  sv_cmd->add_option("--syslog-max-connections", sv.max_connections,
                     "Syslog TCP and TLS connections open at once, for each contract's "
                     "listeners; more are closed on arrival (default 1000)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000));
  sv_cmd->add_option("--syslog-handshake-timeout", sv.handshake_timeout,
                     "Close a syslog TLS connection whose handshake has not ended this many "
                     "seconds after it was accepted (default 10)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.001, 3600.0));
  sv_cmd
      ->add_option("--syslog-idle-timeout", sv.idle_timeout,
                   "Close a syslog TCP or TLS connection that has sent nothing for this many "
                   "seconds; what it sent is kept (default 0: never, as senders such as "
                   "rsyslog keep a quiet connection open)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 31536000.0));
  sv_cmd
      ->add_option("--syslog-threads", sv.syslog_threads,
                   "Threads that parse, classify and hash received syslog records, for each "
                   "contract's listeners (default: one a core, at most 8)")
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  sv_cmd
      ->add_option("--syslog-memory", sv.syslog_memory,
                   "MiB of memory reserved at start for each contract's syslog listeners and "
                   "kept, so that a burst of records finds its queue's memory ready, on huge "
                   "pages where the system has them (default 256; 0: none, freed memory goes "
                   "back to the system)")
      ->type_name("MIB")
      ->check(CLI::Range(0, 65536));
  sv_cmd->add_option("--contract", sv.contract,
                     "The contract of the syslog listeners given without =CONTRACT (default: "
                     "the store's only one)");
  sv_cmd->add_option("--key-dir", sv.key_dir,
                     "Folder of the audit signing key (default: $ISMS_KEY_DIR, else beside the "
                     "SQLite file)")
      ->type_name("DIR");
  add_store(sv_cmd, &sv.store);
  sv_cmd->callback([&] { action = [&] { Serve(ctx, sv); }; });

  // Set last, so that the subcommands (which copy their parent's footer) do not repeat it.
  std::string bulk;
  for (const char* c : kBulkCommands) bulk += (bulk.empty() ? "" : ", ") + std::string(c);
  app.footer(
      "Environment: ISMS_STORE, the default store URL; ISMS_KEY_DIR, the default folder "
      "of the audit signing key; ISMS_ALLOCATOR=system keeps glibc's malloc for every "
      "command (by default " +
      bulk + " run on tcmalloc where the build has it: README, Building by hand).");

  std::vector<std::string> rev(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, out, err);
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e, out, err);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e, out, err);
    return 0;
  } catch (const CLI::ParseError& e) {
    app.exit(e, out, err);
    return 2;
  }
  if (!action) return 2;
  try {
    action();
  } catch (const std::exception& e) {
    ctx.Fail(Status::Internal(std::string("unexpected error: ") + e.what()));
  }
  return ctx.exit_code;
}

}  // namespace isms::cli
