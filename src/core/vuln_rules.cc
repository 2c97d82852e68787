#include "core/vuln_rules.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <set>
#include <utility>

#include "core/event_types.h"
#include "core/patch_deadline.h"
#include "core/rules_internal.h"

namespace isms {
namespace {

using rules_internal::Context;
using rules_internal::Trigger;
using rules_internal::TriggerOf;

constexpr std::chrono::milliseconds kTick{1};
constexpr std::string_view kDefaultText =
    "Default (9.7): the Supplier shall comply with the Rectification Plan Process";

const Policy& DefaultPolicy() {
  static const Policy* const p = new Policy(Policy::Defaults());
  return *p;
}

const ContractTerms& NoTerms() {
  static const ContractTerms* const t = new ContractTerms();
  return *t;
}

std::string Id(std::int64_t id) {
  return std::to_string(id);
}

// The effective events of `finding`'s stream that happened at or before `as_of`, sorted by
// HappenedBefore.
std::vector<const Event*> Kept(std::string_view finding, std::span<const Event> events,
                               Instant as_of) {
  std::set<std::int64_t> superseded;
  for (const Event& e : events) {
    if (e.supersedes) superseded.insert(*e.supersedes);
  }
  const std::string stream = "vuln:" + std::string(finding);
  std::vector<const Event*> out;
  for (const Event& e : events) {
    if (e.type == "event.retracted" || e.at > as_of || superseded.count(e.id)) continue;
    if (StreamOf(e) != stream) continue;
    out.push_back(&e);
  }
  std::sort(out.begin(), out.end(),
            [](const Event* a, const Event* b) { return HappenedBefore(*a, *b); });
  return out;
}

const Event* First(const std::vector<const Event*>& events, std::string_view type,
                   Instant from = Instant::min()) {
  for (const Event* e : events) {
    if (e->type == type && e->at >= from) return e;
  }
  return nullptr;
}

std::string Describe(const FindingFacts& f) {
  std::string s = f.vuln_id.empty() ? f.id : f.vuln_id;
  if (!f.asset.empty()) s += " on " + f.asset;
  return s;
}

std::string Day(Instant t) {
  return FormatDate(LondonDate(t));
}

std::string Shorten(std::string_view text) {
  constexpr size_t kMax = 120;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

// The policy whose patch timescales apply to a clock counting from `d`: the one in force, or
// the schedule's defaults where it lacks them.
const Policy& PatchPolicy(const std::vector<PolicyVersion>& policies, Date d, Category c) {
  const Policy& p = PolicyInForce(policies, d);
  if (p.PeriodOf(PatchTimescaleKey(c)).ok() && p.PeriodOf("patch_extension").ok()) return p;
  return DefaultPolicy();
}

std::optional<int> AgreedDays(const Event& e) {
  std::optional<std::string_view> v = e.Attr("days");
  if (!v) return std::nullopt;
  int n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) return -1;
  return n;
}

std::optional<Date> AgreedUntil(const Event& e) {
  std::optional<std::string_view> v = e.Attr("until");
  if (!v) return std::nullopt;
  Result<Date> d = ParseDate(*v);
  return d.ok() ? std::optional<Date>(*d) : std::optional<Date>(Date{});
}

std::string Evidence(const Event& e) {
  if (std::optional<std::string_view> ev = e.Attr(kEvidenceAttr)) {
    return "evidence " + std::string(*ev);
  }
  return "event " + Id(e.id);
}

// "9.3.3 agreed: 45 days (evidence MSG-9)", "9.3.3 agreed: until 2026-08-01 (event 7)".
std::string AgreementText(const Event& e) {
  std::string what;
  if (std::optional<std::string_view> days = e.Attr("days")) {
    what = std::string(*days) + (*days == "1" ? " day" : " days");
  } else {
    what = "until " + std::string(e.Attr("until").value_or("?"));
  }
  return "9.3.3 agreed: " + what + " (" + Evidence(e) + ")";
}

std::string ExtensionText(const Event& e) {
  return "9.3.2 extension (" + std::string(e.Attr("test_plan").value_or("event " + Id(e.id))) + ")";
}

// The 9.3 clock of a finding as the events shape it.
struct PatchClock {
  bool started = false;
  Date start{};    // the date the timescale counts from
  Date release{};  // the patch release date
  Trigger trigger;
  const Event* suspended_by = nullptr;
  const Event* extension = nullptr;
  const Event* agreed = nullptr;
  std::optional<Instant> patched;
  const Event* patch_event = nullptr;
  std::vector<std::int64_t> evidence;
  std::vector<std::string> flags;
};

struct PatchDue {
  Date date;
  const Event* agreed = nullptr;  // the agreement applied
  bool extended = false;          // the extension applied
};

// The due date of the clock: the agreement where valid (flagging an invalid one and an
// extension it displaces when `flags`), else the category's timescale with any extension.
PatchDue ResolveDue(const PatchClock& k, const std::vector<PolicyVersion>& policies,
                    const Calendar& calendar, Category category, std::vector<std::string>* flags) {
  const Policy& policy = PatchPolicy(policies, k.start, category);
  PatchDeadlineRequest r;
  r.category = category;
  r.released = k.start;
  if (k.agreed != nullptr) {
    r.agreed_days = AgreedDays(*k.agreed);
    r.agreed_until = AgreedUntil(*k.agreed);
    Result<Date> due = PatchDueDate(calendar, policy, r);
    if (due.ok()) {
      if (k.extension != nullptr && flags != nullptr) {
        flags->push_back(ExtensionText(*k.extension) +
                         " not added: the 9.3.3 agreed period replaces the timescale");
      }
      return PatchDue{*due, k.agreed, false};
    }
    if (flags != nullptr) {
      flags->push_back("9.3.3 agreement (event " + Id(k.agreed->id) +
                       ") not applied: " + due.status().message());
    }
    r.agreed_days.reset();
    r.agreed_until.reset();
  }
  r.extension = k.extension != nullptr;
  Result<Date> due = PatchDueDate(calendar, policy, r);
  if (due.ok()) return PatchDue{*due, nullptr, r.extension};
  r.extension = false;
  due = PatchDueDate(calendar, DefaultPolicy(), r);
  return PatchDue{due.ok() ? *due : k.start, nullptr, false};
}

struct Step {
  Instant at;
  int order = 0;  // the release, then a remediation, then events, at the same instant
  const Event* event = nullptr;
};

// Walks the release, the remediation and the events in time order.
PatchClock WalkPatchClock(const FindingFacts& facts, const std::vector<PolicyVersion>& policies,
                          const Calendar& calendar, const std::vector<const Event*>& events,
                          std::optional<Instant> release_at, std::optional<Instant> remediated) {
  std::vector<Step> steps;
  if (release_at) steps.push_back(Step{*release_at, 0, nullptr});
  if (remediated) steps.push_back(Step{*remediated, 1, nullptr});
  for (const Event* e : events) steps.push_back(Step{e->at, 2, e});
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  PatchClock k;
  const Category category = facts.category;
  auto due_at_now = [&] {
    return EndOfLondonDay(ResolveDue(k, policies, calendar, category, nullptr).date);
  };
  auto running_past_due = [&](Instant t) {
    return k.started && k.suspended_by == nullptr && t > due_at_now();
  };
  for (const Step& s : steps) {
    if (s.order == 0) {
      k.started = true;
      k.start = k.release = facts.release->date;
      k.trigger = Trigger{0, "patch.released", s.at};
      continue;
    }
    const Event* e = s.event;
    if (k.patched) {
      if (e != nullptr && e->type == "vuln.agreed") {
        k.agreed = e;
        k.evidence.push_back(e->id);
      }
      continue;
    }
    if (e == nullptr) {
      k.patched = s.at;
      continue;
    }
    const std::string& type = e->type;
    if (type == "vuln.patched") {
      k.patched = e->at;
      k.patch_event = e;
      k.evidence.push_back(e->id);
    } else if (type == "vuln.not_exploitable") {
      if (k.suspended_by != nullptr) continue;
      k.evidence.push_back(e->id);
      if (running_past_due(e->at)) {
        k.flags.push_back("9.3.1 asserted not exploitable on " + Day(e->at) + " (event " +
                          Id(e->id) + "), after the 9.3 deadline: the breach stands");
        continue;
      }
      k.suspended_by = e;
    } else if (type == "vuln.exploitable") {
      if (k.suspended_by == nullptr) continue;
      k.evidence.push_back(e->id);
      std::string flag = "9.3.1 not exploitable from " + Day(k.suspended_by->at) + " (event " +
                         Id(k.suspended_by->id) + ") until " + Day(e->at) + " (event " + Id(e->id) +
                         ")";
      if (k.started) {
        const ResumeRule rule = PolicyInForce(policies, k.release).resume_after_exploitable;
        if (rule == ResumeRule::kFullTimescaleFromExploitable) {
          k.start = LondonDate(e->at);
          k.trigger = TriggerOf(*e);
          flag += ": full timescale from " + FormatDate(k.start);
        } else {
          flag += ": timescale from the original release " + FormatDate(k.release);
        }
      }
      k.flags.push_back(std::move(flag));
      k.suspended_by = nullptr;
    } else if (type == "vuln.extended") {
      const std::string what = ExtensionText(*e) + " (event " + Id(e->id) + ")";
      if (category == Category::kOther) {
        k.flags.push_back(what +
                          " refused: the extension applies only to Critical and Important "
                          "vulnerabilities");
      } else if (k.extension != nullptr) {
        k.flags.push_back(what + " ignored: already extended (event " + Id(k.extension->id) + ")");
      } else if (running_past_due(e->at)) {
        k.flags.push_back(what + " recorded after the 9.3 deadline: not applied");
      } else {
        k.extension = e;
        k.evidence.push_back(e->id);
      }
    } else if (type == "vuln.agreed") {
      if (running_past_due(e->at)) {
        k.flags.push_back("9.3.3 agreed on " + Day(e->at) + " (event " + Id(e->id) +
                          "), after the 9.3 deadline had passed");
      }
      if (k.agreed != nullptr) {
        k.flags.push_back("9.3.3 agreement (event " + Id(k.agreed->id) + ") replaced by event " +
                          Id(e->id));
      }
      k.agreed = e;
      k.evidence.push_back(e->id);
    }
  }
  std::sort(k.evidence.begin(), k.evidence.end());
  k.evidence.erase(std::unique(k.evidence.begin(), k.evidence.end()), k.evidence.end());
  return k;
}

struct PatchResult {
  std::optional<Obligation> obligation;
  bool at_risk = false;
  std::string exception;
};

PatchResult PatchObligation(Context& c, const FindingFacts& facts, PatchClock k,
                            const std::vector<PolicyVersion>& policies, const Calendar& calendar) {
  PatchResult r;
  const std::string_view key = PatchTimescaleKey(facts.category);
  Obligation o = c.Start("9.3", key,
                         "Apply the '" + std::string(CategoryName(facts.category)) +
                             "' security patch for " + Describe(facts),
                         facts.id, k.trigger, Consequence::kDefault, std::string(kDefaultText));
  if (facts.release->assumed) o.flags.push_back("patch release date assumed");
  o.flags.insert(o.flags.end(), k.flags.begin(), k.flags.end());
  const PatchDue due = ResolveDue(k, policies, calendar, facts.category, &o.flags);
  if (due.agreed != nullptr) {
    o.timescale =
        Period{static_cast<int>((ToDays(due.date) - ToDays(k.start)).count()), Period::Unit::kDays};
    o.timescale_source = TimescaleSource::kVaried;
    r.exception = AgreementText(*due.agreed);
    o.flags.push_back(r.exception);
  } else if (due.extended) {
    r.exception = ExtensionText(*k.extension);
    o.flags.push_back(r.exception);
  }
  o.evidence = k.evidence;
  if (k.suspended_by != nullptr) {
    o.due_date.reset();
    o.due_at.reset();
    r.exception = "9.3.1 not exploitable: " + Shorten(k.suspended_by->Attr("reason").value_or(""));
    o.flags.push_back("9.3.1 not exploitable since " + Day(k.suspended_by->at) + " (event " +
                      Id(k.suspended_by->id) +
                      "): " + Shorten(k.suspended_by->Attr("reason").value_or("")));
    o.state = ObligationState::kSuspended;
    if (k.patched) {
      o.state = ObligationState::kMet;
      o.closed_at = k.patched;
    }
    r.obligation = std::move(o);
    return r;
  }
  o.due_date = due.date;
  o.due_at = EndOfLondonDay(due.date);
  if (facts.first_seen > *o.due_at) {
    o.flags.push_back("first seen " + Day(facts.first_seen) + ", after the 9.3 deadline");
  }
  if (k.patched) {
    o.state = *k.patched > *o.due_at ? ObligationState::kMetLate : ObligationState::kMet;
    o.closed_at = k.patched;
  } else if (c.as_of() > *o.due_at) {
    o.state = ObligationState::kBreached;
  } else {
    o.state = ObligationState::kOpen;
    c.ChangesAt(*o.due_at + kTick);
    const int percent = PolicyInForce(policies, k.start).at_risk_percent;
    const Instant from = StartOfLondonDay(k.start);
    const std::int64_t window = (*o.due_at + kTick - from).count();
    const Instant threshold = from + std::chrono::milliseconds((window * percent + 99) / 100);
    r.at_risk = c.as_of() >= threshold;
    if (!r.at_risk) c.ChangesAt(threshold);
  }
  r.obligation = std::move(o);
  return r;
}

// 9.6 when the 9.3 due instant passed unpatched and the Buyer was given no notice.
void LateNoticeObligation(Context& c, const FindingFacts& facts, const Obligation& patch,
                          const std::optional<Instant>& patched,
                          const std::vector<const Event*>& events) {
  if (!patch.due_at || c.as_of() <= *patch.due_at) return;
  const Instant due = *patch.due_at;
  if (patched && *patched <= due) return;
  for (const Event* e : events) {
    if (e->type == "vuln.at_risk" && e->at <= due) return;
    if (e->type == "buyer.notified" && e->at >= patch.trigger_at && e->at <= due) return;
  }
  Obligation o;
  o.clause = "9.6";
  o.key = "patch_at_risk_notification";
  o.title = "Notify the Buyer that " + Describe(facts) + " would not be patched within its 9.3 " +
            "timescale";
  o.subject = facts.id;
  o.trigger_event_id = patch.trigger_event_id;
  o.trigger_type = patch.trigger_type;
  o.trigger_at = patch.trigger_at;
  o.timescale_source = TimescaleSource::kPolicyDefault;
  o.due_date = patch.due_date;
  o.due_at = due;
  o.consequence = Consequence::kBreach;
  o.consequence_text = "breach of 9.6";
  o.flags.push_back("no notice to the Buyer (buyer.notified) before the 9.3 deadline " +
                    (patch.due_date ? FormatDate(*patch.due_date) : Day(due)));
  if (const Event* late = First(events, "buyer.notified", due + kTick)) {
    o.state = ObligationState::kMetLate;
    o.closed_at = late->at;
    o.evidence.push_back(late->id);
  } else {
    o.state = ObligationState::kBreached;
    o.closed_at = patched;
  }
  c.Keep(std::move(o));
}

void AtRiskNoticeObligations(Context& c, const FindingFacts& facts,
                             const std::vector<const Event*>& events) {
  for (const Event* e : events) {
    if (e->type != "vuln.at_risk") continue;
    const Event* notice = First(events, "buyer.notified", StartOfLondonDay(LondonDate(e->at)));
    c.Settle(c.Start("9.6", "patch_at_risk_notification",
                     "Notify the Buyer that " + Describe(facts) +
                         " is unlikely to be mitigated within its 9.3 timescale",
                     facts.id, TriggerOf(*e)),
             notice);
  }
}

// 9.5.6: known exploitable while no patch is released.
void InterimMitigationObligation(Context& c, const FindingFacts& facts,
                                 std::optional<Instant> release_at, std::optional<Instant> patched,
                                 const std::vector<const Event*>& events) {
  std::optional<Trigger> trigger;
  if (facts.exploit_known) {
    const Instant since = facts.exploit_known_since.value_or(facts.first_seen);
    if (since <= c.as_of()) {
      trigger = Trigger{0, "scan.exploit_known", since};
    } else {
      c.ChangesAt(since);
    }
  }
  if (const Event* e = First(events, "vuln.exploited")) {
    if (!trigger || e->at < trigger->at) trigger = TriggerOf(*e);
  }
  if (!trigger) return;
  if (release_at && *release_at <= trigger->at) return;
  std::optional<Instant> ended;
  std::string why;
  if (release_at && *release_at <= c.as_of()) {
    ended = *release_at;
    why = "superseded: patch released " + Day(*release_at);
  }
  if (patched && (!ended || *patched < *ended)) {
    ended = *patched;
    why = "superseded: remediated " + Day(*patched);
  }
  Obligation o = c.Start("9.5.6", "interim_mitigation",
                         "Propose interim mitigation for " + Describe(facts) +
                             " (known exploitable, no patch available)",
                         facts.id, *trigger);
  const Event* met = First(events, "mitigation.proposed");
  const bool breached_before_end = ended && o.due_at && *o.due_at < *ended;
  if (met != nullptr && (!ended || met->at <= *ended || breached_before_end)) {
    c.Settle(std::move(o), met);
  } else if (ended && !breached_before_end) {
    o.state = ObligationState::kSuperseded;
    o.closed_at = ended;
    o.flags.push_back(std::move(why));
    c.Keep(std::move(o));
  } else {
    c.Settle(std::move(o), nullptr);
  }
}

}  // namespace

PatchRelease DecidePatchRelease(const ReleaseEvidence& e, PatchReleaseRule rule) {
  if (e.csaf_remediation_date) return PatchRelease{*e.csaf_remediation_date, "csaf-remediation"};
  if (e.csaf_initial_release) return PatchRelease{*e.csaf_initial_release, "csaf-advisory"};
  if (e.nessus_patch_published) return PatchRelease{*e.nessus_patch_published, "nessus"};
  if (e.manual) return PatchRelease{*e.manual, "manual"};
  Date d = e.first_seen;
  if (rule == PatchReleaseRule::kEarlierOfPublicationAndFirstSeen && e.cve_published &&
      ToDays(*e.cve_published) < ToDays(d)) {
    d = *e.cve_published;
  }
  return PatchRelease{d, "assumed", true};
}

std::optional<Date> ManualReleaseDate(std::string_view finding, std::span<const Event> events,
                                      Instant as_of) {
  std::optional<Date> out;
  for (const Event* e : Kept(finding, events, as_of)) {
    if (e->type != "vuln.released") continue;
    Result<Date> d = ParseDate(e->Attr("date").value_or(""));
    if (d.ok()) out = *d;
  }
  return out;
}

FindingEvaluation EvaluateFinding(const FindingFacts& facts,
                                  const std::vector<PolicyVersion>& policies,
                                  const Calendar& calendar, std::span<const Event> events,
                                  Instant as_of) {
  const std::vector<const Event*> kept = Kept(facts.id, events, as_of);
  std::optional<Instant> release_at;
  if (facts.fix_available && facts.release) release_at = StartOfLondonDay(facts.release->date);
  std::optional<Instant> remediated;
  if (facts.remediated_at && *facts.remediated_at <= as_of) remediated = facts.remediated_at;

  Context c(NoTerms(), policies, calendar, as_of);
  if (facts.remediated_at) c.ChangesAt(*facts.remediated_at);
  if (release_at) c.ChangesAt(*release_at);
  PatchClock clock =
      WalkPatchClock(facts, policies, calendar, kept,
                     release_at && *release_at <= as_of ? release_at : std::nullopt, remediated);

  FindingEvaluation out;
  out.patched_at = clock.patched;
  if (!facts.has_clock) return out;
  out.suspended = clock.suspended_by != nullptr && !clock.patched;
  if (clock.started) {
    const std::optional<Instant> patched = clock.patched;
    PatchResult patch = PatchObligation(c, facts, std::move(clock), policies, calendar);
    out.due = patch.obligation->due_date;
    out.at_risk = patch.at_risk;
    out.exception = patch.exception;
    LateNoticeObligation(c, facts, *patch.obligation, patched, kept);
    c.Keep(std::move(*patch.obligation));
  }
  AtRiskNoticeObligations(c, facts, kept);
  InterimMitigationObligation(c, facts, release_at, out.patched_at, kept);
  out.evaluation = std::move(c).Finish(kept);
  return out;
}

Status CheckFindingEvent(const FindingFacts& facts, const Event& e) {
  if (e.type == "vuln.extended" && facts.category == Category::kOther) {
    return Status::FailedPrecondition(
        "type: finding " + facts.id +
        " is 'Other': the 9.3.2 extension applies only to Critical and Important "
        "vulnerabilities; record the Buyer's agreement of a different period (vuln.agreed, "
        "9.3.3) instead");
  }
  if (e.type == "vuln.agreed" && facts.fix_available && facts.release) {
    std::optional<Date> until = AgreedUntil(e);
    if (until && until->ok() && ToDays(*until) < ToDays(facts.release->date)) {
      return Status::FailedPrecondition(
          "attr until: " + FormatDate(*until) + " is before the patch release " +
          FormatDate(facts.release->date) + " of finding " + facts.id +
          ": give the agreed last day, on or after the release");
    }
  }
  return Status::Ok();
}

Obligation ScanRecencyObligation(const std::string& asset, Instant registered,
                                 std::optional<Instant> last_scanned,
                                 const std::vector<PolicyVersion>& policies,
                                 const Calendar& calendar, Instant as_of) {
  const Instant trigger = last_scanned.value_or(registered);
  const Policy& policy = PolicyInForce(policies, LondonDate(trigger));
  Obligation o;
  o.clause = "9.5.4";
  o.key = "scan_recency";
  o.title = "Scan " + asset + " for vulnerable components";
  o.subject = asset;
  o.trigger_type = last_scanned ? "scan.completed" : "asset.registered";
  o.trigger_at = trigger;
  o.timescale = policy.scan_recency;
  o.timescale_source = policy.scan_recency == DefaultPolicy().scan_recency
                           ? TimescaleSource::kPolicyDefault
                           : TimescaleSource::kVaried;
  o.due_at = calendar.DueInstant(trigger, policy.scan_recency);
  if (policy.scan_recency.unit != Period::Unit::kHours) {
    o.due_date = calendar.AddPeriod(LondonDate(trigger), policy.scan_recency);
  }
  o.consequence = Consequence::kBreach;
  o.consequence_text = "breach of 9.5.4";
  if (!last_scanned) o.flags.push_back("never scanned");
  o.state = as_of > *o.due_at ? ObligationState::kBreached : ObligationState::kOpen;
  return o;
}

}  // namespace isms
