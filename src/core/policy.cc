#include "core/policy.h"

#include <set>
#include <utility>

namespace isms {
namespace {

using Unit = Period::Unit;
constexpr TimescaleSource kContract = TimescaleSource::kContract;
constexpr TimescaleSource kDefault = TimescaleSource::kPolicyDefault;

Timescale Row(std::string key, std::string clause, std::string title, std::optional<Period> period,
              TimescaleSource source, std::string wording = "") {
  Timescale t;
  t.key = std::move(key);
  t.clause = std::move(clause);
  t.title = std::move(title);
  t.period = period;
  t.source = source;
  t.wording = std::move(wording);
  return t;
}

Period P(int amount, Unit unit) {
  return Period{amount, unit};
}

std::vector<Timescale> DefaultTimescales() {
  const Unit wd = Unit::kWorkingDays;
  const Unit days = Unit::kDays;
  const Unit months = Unit::kMonths;
  return {
      Row("isms_submission", "3.1", "submit the ISMS to the Buyer after the Start Date", P(20, wd),
          kContract),
      Row("isms_resubmission", "3.7", "re-submit an amended bespoke ISMS after non-approval",
          P(10, wd), kContract),
      Row("isms_approval", "3.7",
          "bespoke ISMS approved after first submission (else Dispute Resolution)", P(15, wd),
          kContract),
      Row("isms_resubmission_rejected", "3.7",
          "non-approval of the re-submitted ISMS goes to Dispute Resolution", std::nullopt,
          kContract, "no timescale: escalation to Dispute Resolution"),
      Row("smp_submission", "4.1", "submit the Security Management Plan after the Start Date",
          P(20, wd), kContract),
      Row("smp_resubmission", "4.3", "re-submit an amended SMP after non-approval", P(10, wd),
          kContract),
      Row("smp_approval", "4.3", "SMP approved after first submission (else Dispute Resolution)",
          P(15, wd), kContract),
      Row("isms_review", "5.1", "full review of the ISMS and the SMP", P(12, months), kContract,
          "at least annually"),
      Row("review_results", "5.2", "deliver the results of a review to the Buyer", P(10, wd),
          kDefault, "as soon as reasonably practicable"),
      Row("change_approval", "5.3",
          "written Buyer approval before an ISMS/SMP change is implemented", std::nullopt,
          kContract, "no timescale: a gate before implementation"),
      Row("security_test", "6.1", "Security Test across the scope of the ISMS", P(12, months),
          kContract, "at least annually"),
      Row("change_security_test", "6.1", "Security Test after a change to the ISMS or SMP",
          P(30, days), kDefault, "additionally after"),
      Row("test_results", "6.2", "deliver Security Test results to the Buyer", P(10, wd), kDefault,
          "as soon as practicable"),
      Row("test_remediation", "6.4", "notify the Buyer of proposed ISMS/SMP changes after a test",
          P(5, wd), kDefault, "promptly"),
      Row("repeat_test_failure", "6.5",
          "repeat test reveals a breach with the same root cause: material Default", P(0, days),
          kContract, "immediate"),
      Row("breach_notification", "8.1", "notify the Buyer of a (potential) Breach of Security",
          P(24, Unit::kHours), kDefault, "per the incident management process"),
      Row("incident_data_request", "8.2.1.5", "supply data requested about an incident", P(2, wd),
          kContract),
      Row("breach_details", "8.2.2", "full details and root cause analysis of a Breach of Security",
          P(10, wd), kDefault, "as soon as reasonably practicable"),
      Row("patch_critical", "9.3", "apply a 'Critical' security patch after its public release",
          P(14, days), kContract),
      Row("patch_important", "9.3", "apply an 'Important' security patch after its public release",
          P(30, days), kContract),
      Row("patch_other", "9.3", "apply an 'Other' security patch after its public release",
          P(60, wd), kContract),
      Row("patch_not_exploitable", "9.3.1",
          "9.3 clock suspended while a vulnerability is asserted not exploitable", std::nullopt,
          kContract, "suspended while the assertion holds"),
      Row("patch_extension", "9.3.2",
          "extension when a Critical/Important patch adversely affects the Services", P(5, days),
          kContract),
      Row("patch_agreed_period", "9.3.3", "period agreed with the Buyer case by case", std::nullopt,
          kContract, "the agreed period, case by case"),
      Row("cots_upgrade", "9.4", "COTS Software at most one major version behind (n-1)",
          P(6, months), kContract),
      Row("cots_upgrade_mitigations", "9.4.1", "n-1 where upgrading would reduce mitigations",
          P(12, months), kContract),
      Row("monthly_vulnerability_report", "9.5.5",
          "monthly report of patched and outstanding vulnerabilities", P(5, wd), kContract),
      Row("interim_mitigation", "9.5.6",
          "propose interim mitigation for an exploitable vulnerability without a patch", P(5, wd),
          kDefault, "propose"),
      Row("threat_notification", "9.5.8",
          "inform the Buyer of a new threat, vulnerability or technique", P(1, wd), kDefault,
          "inform"),
      Row("patch_at_risk_notification", "9.6",
          "notify the Buyer that a vulnerability is unlikely to be mitigated in time", P(0, days),
          kDefault, "immediately"),
      Row("security_training", "A1 6.4",
          "security training of people with access to Government Data", P(12, months), kContract,
          "annually"),
      Row("access_revocation", "A1 6.5",
          "revoke access when a person leaves or no longer needs elevated privileges", P(1, wd),
          kContract),
      Row("audit_retention", "A1 8.1.4", "retain each audit record (earlier deletion refused)",
          P(6, months), kContract, "at least"),
      Row("data_return", "A1 3.3.1", "provide all Government Data in an agreed open format",
          P(10, wd), kDefault, "on demand"),
      Row("data_erasure", "A1 3.3.4", "securely erase data, with a record of what and when",
          P(10, wd), kDefault, "on request"),
  };
}

bool IsPatchTimescale(std::string_view key) {
  return key == "patch_critical" || key == "patch_important" || key == "patch_other" ||
         key == "patch_extension";
}

Status CheckAmount(std::string_view what, const Period& p) {
  if (p.amount < 0 || p.amount > kMaxPeriodAmount) {
    return Status::InvalidArgument(std::string(what) + ": amount " + std::to_string(p.amount) +
                                   " is out of range: use 0 to " +
                                   std::to_string(kMaxPeriodAmount));
  }
  return Status::Ok();
}

}  // namespace

std::string_view TimescaleSourceKey(TimescaleSource s) {
  switch (s) {
    case TimescaleSource::kContract: return "contract";
    case TimescaleSource::kPolicyDefault: return "policy-default";
    case TimescaleSource::kVaried: return "varied";
  }
  return "contract";
}

std::string_view PatchReleaseRuleKey(PatchReleaseRule r) {
  switch (r) {
    case PatchReleaseRule::kEarlierOfPublicationAndFirstSeen:
      return "earlier-of-publication-and-first-seen";
    case PatchReleaseRule::kFirstSeen: return "first-seen";
  }
  return "earlier-of-publication-and-first-seen";
}

Result<PatchReleaseRule> ParsePatchReleaseRule(std::string_view key) {
  if (key == "earlier-of-publication-and-first-seen") {
    return PatchReleaseRule::kEarlierOfPublicationAndFirstSeen;
  }
  if (key == "first-seen") return PatchReleaseRule::kFirstSeen;
  return Status::InvalidArgument("unknown patch release rule '" + std::string(key) +
                                 "': use earlier-of-publication-and-first-seen or first-seen");
}

std::string_view ResumeRuleKey(ResumeRule r) {
  switch (r) {
    case ResumeRule::kFullTimescaleFromExploitable: return "full-timescale-from-exploitable";
    case ResumeRule::kFromOriginalRelease: return "from-original-release";
  }
  return "full-timescale-from-exploitable";
}

Result<ResumeRule> ParseResumeRule(std::string_view key) {
  if (key == "full-timescale-from-exploitable") return ResumeRule::kFullTimescaleFromExploitable;
  if (key == "from-original-release") return ResumeRule::kFromOriginalRelease;
  return Status::InvalidArgument("unknown resume rule '" + std::string(key) +
                                 "': use full-timescale-from-exploitable or from-original-release");
}

Policy Policy::Defaults() {
  Policy p;
  p.timescales = DefaultTimescales();
  return p;
}

const Timescale* Policy::Find(std::string_view key) const {
  for (const Timescale& t : timescales) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

Result<Period> Policy::PeriodOf(std::string_view key) const {
  const Timescale* t = Find(key);
  if (t == nullptr) {
    return Status::NotFound("no timescale '" + std::string(key) +
                            "' in the policy: see docs/policy.md for the keys");
  }
  if (!t->period) {
    return Status::FailedPrecondition("timescale '" + t->key + "' (" + t->clause +
                                      ") has no clock: " + t->wording);
  }
  return *t->period;
}

Period Policy::AuditRetention() const {
  const Timescale* t = Find("audit_retention");
  if (t != nullptr && t->period) return *t->period;
  return Period{6, Period::Unit::kMonths};
}

Status Policy::SetPeriod(std::string_view key, const Period& period, std::string reference) {
  Timescale* t = nullptr;
  for (Timescale& candidate : timescales) {
    if (candidate.key == key) t = &candidate;
  }
  if (t == nullptr) {
    return Status::NotFound("no timescale '" + std::string(key) +
                            "' in the policy: see docs/policy.md for the keys");
  }
  if (!t->period) {
    return Status::InvalidArgument("timescale '" + t->key + "' (" + t->clause + ") has no clock (" +
                                   t->wording + "): remove it");
  }
  ISMS_RETURN_IF_ERROR(CheckAmount("timescale '" + t->key + "'", period));
  if (IsPatchTimescale(key) && period.unit == Period::Unit::kHours) {
    return Status::InvalidArgument("timescale '" + t->key + "' (" + t->clause +
                                   ") counts whole days: use days, working_days or months");
  }
  const Timescale* def = nullptr;
  static const std::vector<Timescale> defaults = DefaultTimescales();
  for (const Timescale& d : defaults) {
    if (d.key == key) def = &d;
  }
  t->period = period;
  if (def != nullptr && def->period == period) {
    t->source = def->source;
    t->reference.clear();
  } else {
    t->source = TimescaleSource::kVaried;
    t->reference = std::move(reference);
  }
  return Status::Ok();
}

Status Policy::Validate() const {
  std::set<std::string_view> keys;
  for (const Timescale& t : timescales) {
    if (!keys.insert(t.key).second) {
      return Status::Internal("timescale '" + t.key + "' appears twice in the policy");
    }
    if (!t.period) continue;
    ISMS_RETURN_IF_ERROR(CheckAmount("timescale '" + t.key + "'", *t.period));
    if (IsPatchTimescale(t.key) && t.period->unit == Period::Unit::kHours) {
      return Status::InvalidArgument("timescale '" + t.key + "' (" + t.clause +
                                     ") counts whole days: use days, working_days or months");
    }
  }
  ISMS_RETURN_IF_ERROR(CheckAmount("backdated_threshold", backdated_threshold));
  ISMS_RETURN_IF_ERROR(CheckAmount("scan_recency", scan_recency));
  if (at_risk_percent < 1 || at_risk_percent > 100) {
    return Status::InvalidArgument("at_risk_percent " + std::to_string(at_risk_percent) +
                                   " is out of range: use 1 to 100");
  }
  return Status::Ok();
}

std::string DescribeTimescalePeriod(const Timescale& t) {
  if (!t.period) return "no clock";
  if (t.period->amount == 0) return "immediate";
  return FormatPeriod(*t.period);
}

}  // namespace isms
