#include "core/event_types.h"

#include <algorithm>
#include <array>

#include "core/time.h"

namespace isms {
namespace {

using S = AttrSyntax;
using F = StreamFamily;
constexpr SubjectRule kReq = SubjectRule::kRequired;
constexpr SubjectRule kNone = SubjectRule::kForbidden;
constexpr SubjectRule kOpt = SubjectRule::kOptional;

constexpr std::span<const AttrSpec> kEmpty{};

constexpr AttrSpec kSubmission[] = {
    {"doc", S::kDocVersion, true, "the version submitted: sha256 of the document"}};
constexpr AttrSpec kAnswer[] = {
    {"doc", S::kDocVersion, false, "the version answered (must be the submission's)"},
    {"submission", S::kEventId, true, "the event number of the submission answered"}};
constexpr AttrSpec kSmpApproval[] = {
    {"doc", S::kDocVersion, false, "the version answered (must be the submission's)"},
    {"report_from", S::kDate, false,
     "the date the SMP sets for the monthly vulnerability reports (9.5.5); default the Start "
     "Date"},
    {"submission", S::kEventId, true, "the event number of the submission answered"}};
constexpr AttrSpec kReview[] = {{"doc", S::kDocKind, true, "which document: isms or smp"}};
constexpr AttrSpec kChange[] = {{"doc", S::kDocKind, false, "which document: isms or smp"}};
constexpr AttrSpec kTest[] = {
    {"root_cause", S::kIdentifierList, false,
     "root-cause identifiers of the weaknesses found (required with weakness=yes)"},
    {"scope", S::kTestScope, false,
     "full (default: across the scope of the ISMS) or change (covers a change only)"},
    {"weakness", S::kYesNo, true, "whether it revealed a breach or weakness"}};
constexpr AttrSpec kBuyerTest[] = {
    {"root_cause", S::kIdentifierList, false,
     "root-cause identifiers of the weaknesses found (required with weakness=yes)"},
    {"weakness", S::kYesNo, true, "whether it revealed a breach or weakness"}};
constexpr AttrSpec kReport[] = {
    {"month", S::kMonth, true, "the Month reported"},
    {"sha256", S::kSha256, true, "sha256 of the report as delivered"},
    {"html_sha256", S::kSha256, false, "sha256 of its printable HTML (isms report issue)"}};
constexpr AttrSpec kAuditPurged[] = {
    {"before", S::kDate, true, "records older than this London date were purged"},
    {"chunks", S::kIdentifier, true, "how many chunks were purged"},
    {"records", S::kIdentifier, true, "how many records were purged"}};
constexpr AttrSpec kAuditErased[] = {
    {"leaves", S::kIdentifierList, true,
     "the audit records (leaves) whose content was erased, as ranges, e.g. 17,20-25"},
    {"leases", S::kIdentifier, false,
     "rebuilt: the DHCP lease index was rebuilt from the records that remain (isms audit erase)"},
    {"reason", S::kText, false, "why, e.g. the data-subject request it answers (A1 3.3.4)"},
    {"records", S::kIdentifier, true, "how many records were erased"}};
constexpr AttrSpec kPolicy[] = {{"policy", S::kText, true, "the policy file (TOML) in force"}};
constexpr AttrSpec kRequest[] = {
    {"request", S::kIdentifier, false,
     "the request's identifier, when an incident has several data requests"}};
constexpr AttrSpec kNotExploitable[] = {
    {"reason", S::kText, true,
     "why the vulnerability cannot be exploited within the context of any Service (9.3.1)"}};
constexpr AttrSpec kExtended[] = {
    {"test_plan", S::kIdentifier, true,
     "the security patch test plan agreed with the Buyer that was followed, e.g. TP-4"}};
constexpr AttrSpec kAgreed[] = {
    {"days", S::kCount, false,
     "the agreed period in calendar days from the patch release (give days or until)"},
    {"until", S::kDate, false, "the agreed last day (give days or until)"}};
constexpr AttrSpec kReleased[] = {
    {"date", S::kDate, true, "the date the patch was publicly released"}};
constexpr AttrSpec kRetraction[] = {
    {"type", S::kIdentifier, true, "the type of the event retracted"}};

constexpr EventType kTypes[] = {
    {"isms.submitted", kNone, "", kSubmission, false, F::kContract,
     "The Supplier submitted the ISMS (a version) to the Buyer: meets 3.1; for a bespoke ISMS "
     "starts the 3.7 approval clock, or meets a 3.7 re-submission"},
    {"isms.approved", kNone, "", kAnswer, true, F::kContract,
     "The Buyer approved a submitted bespoke ISMS: adoption (3.7); meets the 3.7 approval clock"},
    {"isms.rejected", kNone, "", kAnswer, true, F::kContract,
     "The Buyer's notice of non-approval of a submitted ISMS: 10 Working Days to re-submit "
     "(3.7); non-approval of a re-submission goes to the Dispute Resolution Procedure"},
    {"smp.submitted", kNone, "", kSubmission, false, F::kContract,
     "The Supplier submitted the Security Management Plan (a version): meets 4.1; starts or "
     "meets 4.3 clocks"},
    {"smp.approved", kNone, "", kSmpApproval, true, F::kContract,
     "The Buyer approved a submitted SMP: adoption (4.3); may set report_from (9.5.5)"},
    {"smp.rejected", kNone, "", kAnswer, true, F::kContract,
     "The Buyer's notice of non-approval of a submitted SMP: 10 Working Days to re-submit (4.3)"},
    {"review.completed", kNone, "", kReview, false, F::kContract,
     "A full review of the ISMS or the SMP was completed: meets and restarts 5.1; starts 5.2"},
    {"review.results.delivered", kNone, "", kReview, false, F::kContract,
     "The results of the review were provided to the Buyer: meets 5.2"},
    {"change.proposed", kReq, "the change, e.g. CHG-12", kChange, false, F::kContract,
     "The Supplier proposed a change to the ISMS or SMP (5.3)"},
    {"change.approved", kReq, "the change, e.g. CHG-12", kEmpty, true, F::kContract,
     "The Buyer approved the change in writing (5.3)"},
    {"change.implemented", kReq, "the change, e.g. CHG-12", kEmpty, false, F::kContract,
     "The change was implemented: a breach of 5.3 unless approved before; starts a 6.1 "
     "Security Test clock"},
    {"securitytest.agreed", kReq, "the test, e.g. ST-2026", kEmpty, true, F::kContract,
     "The Buyer agreed the date, timing, content and conduct of the Security Test (6.1)"},
    {"securitytest.completed", kReq, "the test, e.g. ST-2026", kTest, false, F::kContract,
     "The Supplier completed a Security Test: meets 6.1; starts 6.2; with weakness=yes 6.4"},
    {"buyertest.completed", kReq, "the Buyer's test, e.g. BT-1", kBuyerTest, true, F::kContract,
     "The Buyer's own test (6.3) was completed and its results given; with weakness=yes 6.4"},
    {"securitytest.results.delivered", kReq, "the test", kEmpty, false, F::kContract,
     "The results of the Security Test were provided to the Buyer: meets 6.2"},
    {"changes.notified", kReq, "the test that revealed the weakness", kEmpty, false, F::kContract,
     "The Buyer was notified of the ISMS/SMP changes proposed to correct the weakness (6.4)"},
    {"retest.completed", kReq, "the test repeated", kBuyerTest, false, F::kContract,
     "The test was repeated after the changes (6.4); the same root cause again is a material "
     "Default (6.5)"},
    {"report.submitted", kNone, "", kReport, false, F::kContract,
     "The monthly vulnerability report for a Month was delivered to the Buyer: meets 9.5.5"},
    {"audit.purged", kNone, "", kAuditPurged, false, F::kContract,
     "Audit records older than the retention period (8.1.4) were purged; their hashes are kept"},
    {"audit.erased", kNone, "", kAuditErased, false, F::kContract,
     "The content of audit records was erased (A1 3.3.4); their leaf hashes are kept"},
    {"policy.changed", kNone, "", kPolicy, false, F::kContract,
     "A new policy (timescales) applies to clocks started from the London date it happened"},
    {"breach.detected", kReq, "the incident, e.g. INC-7", kEmpty, false, F::kIncident,
     "The Supplier became aware of a (potential or attempted) Breach of Security: starts 8.1 "
     "and 8.2.2"},
    {"breach.notified", kReq, "the incident", kEmpty, false, F::kIncident,
     "The Buyer was notified of the Breach of Security: meets 8.1"},
    {"datarequest.received", kReq, "the incident", kRequest, true, F::kIncident,
     "The Buyer (or GovCertUK) requested data about the incident: 2 Working Days (8.2.1.5)"},
    {"datarequest.answered", kReq, "the incident", kRequest, false, F::kIncident,
     "The requested data was supplied: meets 8.2.1.5"},
    {"details.delivered", kReq, "the incident", kEmpty, false, F::kIncident,
     "Full details of the Breach of Security were provided to the Buyer: meets 8.2.2"},
    {"rca.requested", kReq, "the incident", kEmpty, true, F::kIncident,
     "The Buyer required a root cause analysis of the Breach of Security (8.2.2)"},
    {"rca.delivered", kReq, "the incident", kEmpty, false, F::kIncident,
     "The root cause analysis was provided to the Buyer: meets 8.2.2"},
    {"person.joined", kReq, "the person, e.g. alice", kEmpty, false, F::kPerson,
     "A person with access to Government Data joined: training within 12 Months (A1 6.4)"},
    {"person.trained", kReq, "the person", kEmpty, false, F::kPerson,
     "The person completed security training: meets and restarts A1 6.4"},
    {"person.left", kReq, "the person", kEmpty, false, F::kPerson,
     "The person left: access revoked within 1 Working Day (A1 6.5); ends A1 6.4"},
    {"privilege.unneeded", kReq, "the person", kEmpty, false, F::kPerson,
     "The person no longer needs elevated privileges: revoke within 1 Working Day (A1 6.5)"},
    {"access.revoked", kReq, "the person", kEmpty, false, F::kPerson,
     "The person's access rights were revoked: meets A1 6.5"},
    {"data.demanded", kReq, "the demand, e.g. DD-1", kEmpty, true, F::kData,
     "The Buyer demanded all Government Data (A1 3.3.1)"},
    {"data.provided", kReq, "the demand", kEmpty, false, F::kData,
     "All Government Data was provided in an agreed open format: meets A1 3.3.1"},
    {"erasure.requested", kReq, "the request, e.g. ER-1", kEmpty, true, F::kErasure,
     "The Buyer requested erasure of Government Data (A1 3.3.4)"},
    {"erasure.completed", kReq, "the request", kEmpty, false, F::kErasure,
     "The data was securely erased (the note records what and when): meets A1 3.3.4"},
    {"threat.learned", kReq, "the threat, e.g. CVE-2026-1234", kEmpty, false, F::kThreat,
     "The Supplier learned of a new threat, vulnerability or exploitation technique (9.5.8)"},
    {"threat.informed", kReq, "the threat", kEmpty, false, F::kThreat,
     "The Buyer was informed, with initial indications of mitigations: meets 9.5.8"},
    {"vuln.released", kReq, "the finding, e.g. F-12", kReleased, false, F::kVuln,
     "The date the finding's patch was publicly released, set by hand (9.3): used when no "
     "advisory or scanner gives one"},
    {"vuln.not_exploitable", kReq, "the finding", kNotExploitable, false, F::kVuln,
     "The Supplier asserts the vulnerability is not exploitable within the context of any "
     "Service: the 9.3 clock is suspended while the assertion holds (9.3.1)"},
    {"vuln.exploitable", kReq, "the finding", kEmpty, false, F::kVuln,
     "The vulnerability asserted not exploitable has become exploitable: the 9.3 clock resumes "
     "(9.3.1; the policy's resume rule says from when)"},
    {"vuln.extended", kReq, "the finding", kExtended, false, F::kVuln,
     "The Critical or Important patch adversely affects the Services and the agreed test plan "
     "was followed: 9.3 deadline extended by 5 days (9.3.2)"},
    {"vuln.agreed", kReq, "the finding", kAgreed, true, F::kVuln,
     "The Buyer agreed a different maximum period for the patch, case by case: it replaces the "
     "9.3 timescale (9.3.3)"},
    {"vuln.patched", kReq, "the finding", kEmpty, false, F::kVuln,
     "The security patch was applied (at = when), recorded by hand: meets 9.3"},
    {"vuln.exploited", kReq, "the finding", kEmpty, false, F::kVuln,
     "The vulnerability is known to be exploited or exploitable: without a patch, starts 9.5.6"},
    {"vuln.at_risk", kReq, "the finding", kEmpty, false, F::kVuln,
     "The Supplier judges the vulnerability unlikely to be mitigated within its 9.3 timescale: "
     "notify the Buyer immediately (9.6)"},
    {"buyer.notified", kReq, "the finding", kEmpty, false, F::kVuln,
     "The Buyer was notified that the vulnerability is unlikely to be mitigated in time: meets "
     "9.6"},
    {"mitigation.proposed", kReq, "the finding", kEmpty, false, F::kVuln,
     "Interim mitigation measures were proposed for the vulnerability without a patch: meets "
     "9.5.6"},
    {"event.retracted", kOpt, "the retracted event's subject", kRetraction, false, F::kOfTarget,
     "Withdraws the event named by supersedes= without replacement (it was recorded in error)"},
};

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string_view AttrSyntaxHelp(AttrSyntax s) {
  switch (s) {
    case S::kText: return "text";
    case S::kIdentifier: return "an identifier (1-128 of A-Z a-z 0-9 . _ - : @ /)";
    case S::kIdentifierList: return "identifiers separated by commas, e.g. RC-1,RC-2";
    case S::kYesNo: return "yes or no";
    case S::kDocVersion: return "sha256:<64 lowercase hex digits>";
    case S::kSha256: return "<64 lowercase hex digits>";
    case S::kMonth: return "a Month, YYYY-MM";
    case S::kDate: return "a date, YYYY-MM-DD";
    case S::kEventId: return "an event number, e.g. 12";
    case S::kDocKind: return "isms or smp";
    case S::kTestScope: return "full or change";
    case S::kCount: return "a whole number, 0-9999";
  }
  return "text";
}

std::span<const EventType> EventTypes() {
  return kTypes;
}

const EventType* FindEventType(std::string_view name) {
  for (const EventType& t : kTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const AttrSpec* FindAttrSpec(const EventType& type, std::string_view key) {
  for (const AttrSpec& a : type.attrs) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == ':' || c == '@' || c == '/';
  });
}

std::vector<std::string> SplitIdentifierList(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    const size_t comma = value.find(',');
    std::string item(value.substr(0, comma));
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

Status CheckAttrSyntax(AttrSyntax syntax, std::string_view v) {
  bool ok = false;
  switch (syntax) {
    case S::kText: ok = true; break;
    case S::kIdentifier: ok = IsIdentifier(v); break;
    case S::kIdentifierList: {
      ok = !v.empty();
      for (const std::string& id : SplitIdentifierList(v)) ok = ok && IsIdentifier(id);
      break;
    }
    case S::kYesNo: ok = v == "yes" || v == "no"; break;
    case S::kDocVersion:
      ok = v.size() == 71 && v.substr(0, 7) == "sha256:" && IsLowerHex(v.substr(7));
      break;
    case S::kSha256: ok = v.size() == 64 && IsLowerHex(v); break;
    case S::kMonth:
      ok = v.size() == 7 && v[4] == '-' && IsDigits(v.substr(0, 4)) && IsDigits(v.substr(5)) &&
           ParseDate(std::string(v) + "-01").ok();
      break;
    case S::kDate: ok = ParseDate(v).ok(); break;
    case S::kEventId: ok = IsDigits(v) && v.size() <= 18 && v[0] != '0'; break;
    case S::kDocKind: ok = v == "isms" || v == "smp"; break;
    case S::kTestScope: ok = v == "full" || v == "change"; break;
    case S::kCount: ok = IsDigits(v) && v.size() <= 4; break;
  }
  if (ok) return Status::Ok();
  std::string shown(v.substr(0, 80));
  return Status::InvalidArgument("'" + shown + "' is not " + std::string(AttrSyntaxHelp(syntax)));
}

}  // namespace isms
