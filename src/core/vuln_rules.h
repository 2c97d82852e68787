// The vulnerability clocks of paragraph 9 (pure): for one finding, its facts from the scans
// and advisories plus the events people recorded about it → its 9.3, 9.5.6 and 9.6
// obligations, and whether it is "at risk". Also the 9.3 patch release date precedence and
// the 9.5.4 scan-recency obligation per asset. See docs/vulnerabilities.md.
//
// The events of a finding form the stream "vuln:<finding id>" (core/rules.h StreamOf): vuln.*,
// buyer.notified and mitigation.proposed with subject = the finding id. EvaluateStream yields no
// obligations for such a stream (it lacks the facts): the finding's obligations come from
// EvaluateFinding.
//
// Clocks and policy: the 9.3 clock takes its timescale, extension, at-risk share and resume
// rule from the policy in force on the London date it counts from (the patch release date, or
// the date a 9.3.1 assertion ended under ResumeRule::kFullTimescaleFromExploitable); 9.5.6 and
// 9.6 clocks from the policy in force on their trigger's London date, as core/rules.h does.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/event.h"
#include "core/obligation.h"
#include "core/rules.h"
#include "core/severity.h"
#include "core/status.h"
#include "core/time.h"

namespace isms {

// What the feeds say about when a finding's patch was publicly released (9.3), in order of
// precedence: a CSAF vendor_fix remediation date for that CVE and product; the
// initial_release_date of the CSAF advisory that carries the vendor_fix; Nessus
// patch_publication_date; a date set by hand (`isms vuln released`, event vuln.released);
// otherwise assumed by policy from the CVE's publication and the first sighting.
struct ReleaseEvidence {
  std::optional<Date> csaf_remediation_date;
  std::optional<Date> csaf_initial_release;
  std::optional<Date> nessus_patch_published;
  std::optional<Date> manual;
  std::optional<Date> cve_published;
  Date first_seen;  // London date of the finding's first sighting
};

struct PatchRelease {
  Date date;
  std::string source;  // "csaf-remediation", "csaf-advisory", "nessus", "manual", "assumed"
  bool assumed = false;

  friend bool operator==(const PatchRelease&, const PatchRelease&) = default;
};

// The first source present in the order above. Assumed (source "assumed", assumed = true):
// PatchReleaseRule::kEarlierOfPublicationAndFirstSeen takes the earlier of cve_published and
// first_seen (first_seen when the CVE's publication is unknown); kFirstSeen takes first_seen.
PatchRelease DecidePatchRelease(const ReleaseEvidence& e, PatchReleaseRule rule);

// The date set by hand for a finding's patch release: the `date` of the last effective
// vuln.released of `finding` that happened at or before `as_of` (superseded and retracted
// events resolved as EvaluateStream does), for ReleaseEvidence::manual. None when there is none.
std::optional<Date> ManualReleaseDate(std::string_view finding, std::span<const Event> events,
                                      Instant as_of);

// The facts of one finding, as the imports have established them.
struct FindingFacts {
  std::string id;       // the finding's identifier, also its stream's subject ("vuln:<id>")
  std::string asset;    // the asset's register name
  std::string vuln_id;  // its CVE where it has exactly one, else the scanner's id
  Category category = Category::kOther;  // 9.2, decided with core/severity.h
  bool has_clock = true;       // false for observations and the supplier's own code: no clocks
  bool fix_available = false;  // a fix is released (no fix: no 9.3 clock, see 9.5.6)
  std::optional<PatchRelease> release;  // when fix_available (DecidePatchRelease)
  Instant first_seen{};
  std::optional<Instant> remediated_at;  // absent from a later, as-good scan; or VEX/CSAF fixed
  bool exploit_known = false;            // scanner flag: exploited or exploitable
  std::optional<Instant> exploit_known_since;  // when that flag was first seen; first_seen if none
};

struct FindingEvaluation {
  // 9.3, 9.5.6 and 9.6 obligations (ObligationBefore order); next_change also covers the
  // at-risk threshold, the patch release date and facts dated after as_of.
  Evaluation evaluation;
  std::optional<Date> due;            // the 9.3 due date in force (none: no clock, or suspended)
  std::optional<Instant> patched_at;  // remediation instant (scan, VEX or `vuln patched`)
  bool at_risk = false;    // 9.6 warning: open 9.3 clock past policy.at_risk_percent of its window
  bool suspended = false;  // 9.3.1: asserted not exploitable, holding, not patched
  std::string exception;   // the exception in force, e.g. "9.3.2 extension (TP-4)"
};

// `events` are the raw events of the finding's stream (superseded events and retractions
// included, resolved here as EvaluateStream does; events of other streams and events with
// at > as_of are ignored).
//
// 9.3 (key patch_critical / patch_important / patch_other, consequence Default (9.7)): one
// clock per finding with a released fix, from the release's London date; met by the earliest of
// facts.remediated_at and vuln.patched (met late after the due instant). Exceptions:
//   - vuln.not_exploitable suspends it (state suspended, no due) until vuln.exploitable; an
//     assertion after the due instant leaves the breach standing (flagged). On resumption
//     policy.resume_after_exploitable decides: the full timescale from the London date of the
//     vuln.exploitable (the clock's trigger becomes that event), or the original due date.
//   - vuln.extended adds patch_extension (Critical/Important only: for Other it is flagged as
//     refused and ignored; also ignored when recorded after the due instant, or a second time).
//   - vuln.agreed (the last one) replaces the timescale: days=N from the date the clock counts
//     from, or until=DATE; an extension is not added to it (flagged). Applies whenever recorded.
// 9.5.6 (interim_mitigation): a finding known exploitable (facts.exploit_known from
// exploit_known_since, or the first vuln.exploited) while no patch is released; met by the
// first mitigation.proposed; superseded when the patch is released (or the finding remediated)
// before its due instant.
// 9.6 (patch_at_risk_notification): each vuln.at_risk opens "notify the Buyer", due the same
// day, met by the first buyer.notified from the start of that London day. A 9.3 due instant
// passed unpatched with no buyer.notified since the clock's trigger and no vuln.at_risk before
// it is a 9.6 breach at that instant (no timescale; met late by a later buyer.notified).
//
// `policies` as for EvaluateStream. The result does not depend on facts.first_seen except for
// the assumed release and a flag when the finding was first seen after its 9.3 deadline.
FindingEvaluation EvaluateFinding(const FindingFacts& facts,
                                  const std::vector<PolicyVersion>& policies,
                                  const Calendar& calendar, std::span<const Event> events,
                                  Instant as_of);

// A check the app makes when recording `e` about the finding `facts` (ValidateEvent knows no
// category): a vuln.extended of an 'Other' finding, and a vuln.agreed until= before the patch
// release, are refused (kFailedPrecondition, naming the fix). Other events: OK.
Status CheckFindingEvent(const FindingFacts& facts, const Event& e);

// 9.5.4: every in-scope asset scanned within policy.scan_recency (the policy in force on the
// London date of its last scan, or of its registration when never scanned). One obligation per
// asset (key "scan_recency", subject = the asset's name, trigger id 0, trigger type
// "scan.completed" or "asset.registered"), re-created by each scan: open until due (the end of
// the London day `scan_recency` after the scan; for hours, scan + N hours), breached after.
// The caller's next change for it is due_at + 1 ms while open.
Obligation ScanRecencyObligation(const std::string& asset, Instant registered,
                                 std::optional<Instant> last_scanned,
                                 const std::vector<PolicyVersion>& policies,
                                 const Calendar& calendar, Instant as_of);

}  // namespace isms
