#include "core/rules.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/event_types.h"
#include "core/rules_internal.h"

namespace isms {
namespace {

using rules_internal::Context;
using rules_internal::Events;

const Policy& DefaultPolicy() {
  static const Policy* const p = new Policy(Policy::Defaults());
  return *p;
}

std::string_view StreamPrefix(StreamFamily f) {
  switch (f) {
    case StreamFamily::kPerson: return "person:";
    case StreamFamily::kIncident: return "incident:";
    case StreamFamily::kData: return "data:";
    case StreamFamily::kErasure: return "erasure:";
    case StreamFamily::kThreat: return "threat:";
    case StreamFamily::kVuln: return "vuln:";
    case StreamFamily::kContract:
    case StreamFamily::kOfTarget: return "";
  }
  return "";
}

// The family of `e`'s stream: a retraction takes the family of the type it retracts.
StreamFamily FamilyOf(const Event& e) {
  const EventType* t = FindEventType(e.type);
  if (t == nullptr) return StreamFamily::kContract;
  if (t->stream != StreamFamily::kOfTarget) return t->stream;
  std::optional<std::string_view> of = e.Attr("type");
  const EventType* target = of ? FindEventType(*of) : nullptr;
  if (target == nullptr || target->stream == StreamFamily::kOfTarget) {
    return StreamFamily::kContract;
  }
  return target->stream;
}

Status Invalid(std::string_view field, const std::string& message) {
  return Status::InvalidArgument(std::string(field) + ": " + message);
}

std::string Id(std::int64_t id) {
  return std::to_string(id);
}

std::string ShortDoc(std::string_view doc) {
  return std::string(doc.substr(0, std::min<size_t>(doc.size(), 19))) + "...";
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "isms" or "smp" for the document events, else "".
std::string_view DocumentOf(std::string_view type) {
  if (StartsWith(type, "isms.")) return "isms";
  if (StartsWith(type, "smp.")) return "smp";
  return "";
}

bool IsAnswer(std::string_view type) {
  return !DocumentOf(type).empty() && (EndsWith(type, ".approved") || EndsWith(type, ".rejected"));
}

bool IsTest(std::string_view type) {
  return type == "securitytest.completed" || type == "buyertest.completed";
}

Status CheckShape(const EventType& t, const Event& e) {
  if (t.subject == SubjectRule::kRequired && e.subject.empty()) {
    return Invalid("subject", e.type + " needs a subject (" + std::string(t.subject_help) + ")");
  }
  if (t.subject == SubjectRule::kForbidden && !e.subject.empty()) {
    return Invalid("subject", e.type + " takes no subject: remove '" + e.subject + "'");
  }
  if (!e.subject.empty() && !IsIdentifier(e.subject)) {
    return Invalid("subject", "'" + e.subject.substr(0, 80) +
                                  "' is not an identifier: use 1-128 of A-Z a-z 0-9 . _ - : @ /");
  }
  for (size_t i = 0; i < e.attrs.size(); ++i) {
    const auto& [key, value] = e.attrs[i];
    if (i > 0 && e.attrs[i - 1].first >= key) {
      return Invalid("attr " + key, "attributes must have unique keys, sorted: give it once");
    }
    if (key == kEvidenceAttr) {
      if (value.empty()) {
        return Invalid("attr evidence", "empty: give a message id, a document hash or a reference");
      }
      continue;
    }
    const AttrSpec* spec = FindAttrSpec(t, key);
    if (spec == nullptr) {
      std::string known;
      for (const AttrSpec& a : t.attrs) known += std::string(a.key) + ", ";
      return Invalid("attr " + key, e.type + " takes no attribute '" + key +
                                        "': its attributes are " + known + "evidence");
    }
    Status s = CheckAttrSyntax(spec->syntax, value);
    if (!s.ok()) return Invalid("attr " + key, s.message() + " (" + std::string(spec->help) + ")");
  }
  for (const AttrSpec& a : t.attrs) {
    if (a.required && !e.Attr(a.key)) {
      return Invalid("attr " + std::string(a.key), e.type + " needs " + std::string(a.key) + "=<" +
                                                       std::string(AttrSyntaxHelp(a.syntax)) +
                                                       "> (" + std::string(a.help) + ")");
    }
  }
  if (e.Attr("weakness") == "yes" && !e.Attr("root_cause")) {
    return Invalid("attr root_cause", e.type +
                                          " with weakness=yes needs root_cause=<ID>[,<ID>...] (the "
                                          "root cause of each weakness, compared by 6.5)");
  }
  if (t.buyer_act && !e.by_buyer && !e.Attr(kEvidenceAttr)) {
    return Invalid("attr evidence",
                   e.type +
                       " is an act of the Buyer: add evidence=<message id, document hash or "
                       "reference>, or record it from the Buyer's own account");
  }
  return Status::Ok();
}

Status CheckDocuments(const Event& e, const std::vector<const Event*>& others) {
  const std::string doc_kind(DocumentOf(e.type));
  const std::string submitted = doc_kind + ".submitted";
  if (e.type == submitted) {
    const Event* latest = nullptr;
    for (const Event* o : others) {
      if (o->type == submitted && o->at <= e.at) latest = o;
    }
    if (latest != nullptr && latest->Attr("doc") == e.Attr("doc")) {
      return Invalid("attr doc", std::string(*e.Attr("doc")) +
                                     " is the version submitted as event " + Id(latest->id) +
                                     ": a re-submission is an amended document with a new version");
    }
    return Status::Ok();
  }
  if (!IsAnswer(e.type)) return Status::Ok();
  const std::int64_t sub_id = std::stoll(std::string(*e.Attr("submission")));
  const Event* sub = nullptr;
  for (const Event* o : others) {
    if (o->id == sub_id && o->type == submitted) sub = o;
  }
  if (sub == nullptr) {
    return Invalid("attr submission", "event " + Id(sub_id) + " is not an effective " + submitted +
                                          ": name the submission this answers (isms event list)");
  }
  if (e.at < sub->at) {
    return Invalid("at", "the answer happens before submission " + Id(sub_id) + " (" +
                             FormatInstant(sub->at) + "): check --at");
  }
  std::optional<std::string_view> doc = e.Attr("doc");
  if (doc && doc != sub->Attr("doc")) {
    return Invalid("attr doc", ShortDoc(*doc) + " is not the version of submission " + Id(sub_id) +
                                   " (" + ShortDoc(sub->Attr("doc").value_or("")) +
                                   "): give that version or omit doc=");
  }
  for (const Event* o : others) {
    if (o->type == submitted && HappenedBefore(*sub, *o) && o->at <= e.at) {
      return Invalid("attr submission", "submission " + Id(sub_id) + " (" +
                                            ShortDoc(sub->Attr("doc").value_or("")) +
                                            ") is an older version: submission " + Id(o->id) +
                                            " (" + ShortDoc(o->Attr("doc").value_or("")) +
                                            ") replaced it; answer " + Id(o->id));
    }
    if (IsAnswer(o->type) && DocumentOf(o->type) == doc_kind &&
        o->Attr("submission") == e.Attr("submission")) {
      return Invalid("attr submission",
                     "submission " + Id(sub_id) + " was already answered by event " + Id(o->id) +
                         ": to correct that answer, supersede event " + Id(o->id));
    }
  }
  return Status::Ok();
}

Status CheckStreamHistory(const ContractTerms& terms, const Event& e,
                          const std::vector<const Event*>& others) {
  if (IsTest(e.type)) {
    for (const Event* o : others) {
      if (IsTest(o->type) && o->subject == e.subject) {
        return Invalid("subject", "test '" + e.subject + "' was already completed (event " +
                                      Id(o->id) + "): give each test its own identifier");
      }
    }
  }
  if (e.type == "changes.notified" || e.type == "retest.completed") {
    const Event* test = nullptr;
    bool weakness = false;
    for (const Event* o : others) {
      if (o->subject != e.subject) continue;
      if (IsTest(o->type)) test = o;
      if ((IsTest(o->type) || o->type == "retest.completed") && o->Attr("weakness") == "yes") {
        weakness = true;
      }
    }
    if (test == nullptr) {
      return Invalid("subject", "no Security Test or Buyer's test '" + e.subject +
                                    "' is recorded: record the test first, or check the subject");
    }
    if (!weakness) {
      return Invalid("subject", "test '" + e.subject +
                                    "' revealed no weakness (weakness=no): there is nothing to " +
                                    (e.type == "retest.completed" ? "repeat" : "notify"));
    }
    if (e.at < test->at) {
      return Invalid("at", "this happens before test '" + e.subject + "' (" +
                               FormatInstant(test->at) + "): check --at");
    }
  }
  if (e.type == "vuln.agreed" && e.Attr("days").has_value() == e.Attr("until").has_value()) {
    return Invalid("attr days",
                   "vuln.agreed needs one of days=<N> (calendar days from the patch "
                   "release) or until=<YYYY-MM-DD> (the agreed last day)");
  }
  if (e.type == "change.implemented") {
    for (const Event* o : others) {
      if (o->type == e.type && o->subject == e.subject) {
        return Invalid("subject", "change '" + e.subject + "' was already implemented (event " +
                                      Id(o->id) + "): supersede that event to correct it");
      }
    }
  }
  if (e.type == "report.submitted") {
    Date first = ParseDate(std::string(*e.Attr("month")) + "-01").value();
    Date next = first.year() / first.month() / std::chrono::day(1) + std::chrono::months(1);
    if (e.at < StartOfLondonDay(next)) {
      return Invalid("attr month", std::string(*e.Attr("month")) + " has not ended at " +
                                       FormatInstant(e.at) +
                                       ": a monthly report follows the end of its Month");
    }
  }
  if (std::optional<std::string_view> from = e.Attr("report_from")) {
    if (ParseDate(*from).value() < terms.start) {
      return Invalid("attr report_from", std::string(*from) + " is before the Start Date " +
                                             FormatDate(terms.start) + ": give a later date");
    }
  }
  return Status::Ok();
}

}  // namespace

const Policy& PolicyInForce(const std::vector<PolicyVersion>& versions, Date d) {
  if (versions.empty()) return DefaultPolicy();
  const PolicyVersion* in_force = &versions.front();
  for (const PolicyVersion& v : versions) {
    if (v.effective_from <= d) in_force = &v;
  }
  return in_force->policy;
}

Status ValidateEvent(const ContractTerms& terms, const Event& e, std::span<const Event> prior) {
  const EventType* t = FindEventType(e.type);
  if (t == nullptr) {
    return Invalid("type", "unknown event type '" + e.type.substr(0, 80) +
                               "': see docs/events.md for the vocabulary");
  }
  ISMS_RETURN_IF_ERROR(CheckShape(*t, e));
  if (e.at < StartOfLondonDay(terms.start)) {
    return Invalid("at", FormatInstant(e.at) + " is before the contract's Start Date " +
                             FormatDate(terms.start) + ": check --at");
  }
  const Event* target = nullptr;
  if (e.supersedes) {
    for (const Event& p : prior) {
      if (p.id == *e.supersedes) target = &p;
    }
    if (target != nullptr && target->type == "event.retracted") {
      return Invalid("supersedes", "event " + Id(*e.supersedes) +
                                       " is a retraction: record the fact again as a new event");
    }
    if (target == nullptr || StreamOf(*target) != StreamOf(e)) {
      return Invalid("supersedes",
                     "event " + Id(*e.supersedes) + " is not an effective event of stream '" +
                         StreamOf(e) +
                         "' (superseded, retracted, or of another subject or family): to move a "
                         "fact elsewhere, retract it and record a new event");
    }
  }
  if (e.type == "event.retracted") {
    if (target == nullptr) {
      return Invalid("supersedes", "event.retracted needs supersedes=<the event number retracted>");
    }
    if (e.Attr("type") != target->type || e.subject != target->subject) {
      return Invalid("attr type", "a retraction of event " + Id(target->id) +
                                      " needs type=" + target->type + " and subject '" +
                                      target->subject + "' (the retracted event's)");
    }
    return Status::Ok();
  }
  std::vector<const Event*> others;
  others.reserve(prior.size());
  for (const Event& p : prior) {
    if (&p != target && p.type != "event.retracted") others.push_back(&p);
  }
  ISMS_RETURN_IF_ERROR(CheckDocuments(e, others));
  return CheckStreamHistory(terms, e, others);
}

bool IsBackdated(const Event& e, const Calendar& calendar, const Policy& policy) {
  if (e.type == "event.retracted") return false;
  return e.recorded_at > calendar.DueInstant(e.at, policy.backdated_threshold);
}

std::string StreamOf(const Event& e) {
  const std::string_view prefix = StreamPrefix(FamilyOf(e));
  if (prefix.empty()) return "";
  return std::string(prefix) + e.subject;
}

std::vector<Event> EffectiveEvents(std::span<const Event> events) {
  std::set<std::int64_t> superseded;
  for (const Event& e : events) {
    if (e.supersedes) superseded.insert(*e.supersedes);
  }
  std::vector<Event> out;
  out.reserve(events.size());
  for (const Event& e : events) {
    if (e.type == "event.retracted" || superseded.count(e.id)) continue;
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), HappenedBefore);
  return out;
}

namespace {

Evaluation Evaluate(const ContractTerms& terms, const std::vector<PolicyVersion>& policies,
                    const Calendar& calendar, std::span<const Event* const> events, Instant as_of,
                    const std::string* only) {
  // The ids superseded, sorted (a stream's few events supersede none or one or two).
  std::vector<std::int64_t> superseded;
  for (const Event* e : events) {
    if (e->supersedes) superseded.push_back(*e->supersedes);
  }
  std::sort(superseded.begin(), superseded.end());
  Events kept;
  kept.reserve(events.size());
  for (const Event* e : events) {
    if (e->type == "event.retracted" || e->at > as_of ||
        std::binary_search(superseded.begin(), superseded.end(), e->id)) {
      continue;
    }
    kept.push_back(e);
  }
  std::sort(kept.begin(), kept.end(),
            [](const Event* a, const Event* b) { return HappenedBefore(*a, *b); });
  std::map<std::string, Events> streams;
  if (only == nullptr || only->empty()) streams[""];
  Events in_scope;
  if (only != nullptr && !only->empty()) {
    // One stream: its events are those whose StreamOf is `only` (prefix, then subject), told
    // without building each event's stream name.
    Events& list = streams[*only];
    for (const Event* e : kept) {
      const std::string_view prefix = StreamPrefix(FamilyOf(*e));
      if (prefix.empty() || only->size() != prefix.size() + e->subject.size() ||
          !std::string_view(*only).starts_with(prefix) ||
          !std::string_view(*only).ends_with(e->subject)) {
        continue;
      }
      list.push_back(e);
      in_scope.push_back(e);
    }
    if (list.empty()) streams.clear();
  } else {
    for (const Event* e : kept) {
      std::string s = StreamOf(*e);
      if (only != nullptr && s != *only) continue;
      streams[s].push_back(e);
      in_scope.push_back(e);
    }
  }
  Context c(terms, policies, calendar, as_of);
  for (auto& [stream, list] : streams) {
    const rules_internal::Stream evs(std::move(list));
    if (stream.empty()) {
      rules_internal::ContractRules(c, evs);
      continue;
    }
    const std::string& subject = evs.all().front()->subject;
    switch (FamilyOf(*evs.all().front())) {
      case StreamFamily::kPerson: rules_internal::PersonRules(c, subject, evs); break;
      case StreamFamily::kIncident: rules_internal::IncidentRules(c, subject, evs); break;
      case StreamFamily::kData: rules_internal::DataRules(c, subject, evs); break;
      case StreamFamily::kErasure: rules_internal::ErasureRules(c, subject, evs); break;
      case StreamFamily::kThreat: rules_internal::ThreatRules(c, subject, evs); break;
      // A finding's obligations need its facts as well: core/vuln_rules.h EvaluateFinding.
      case StreamFamily::kVuln:
      case StreamFamily::kContract:
      case StreamFamily::kOfTarget: break;
    }
  }
  return std::move(c).Finish(in_scope);
}

std::vector<const Event*> Pointers(std::span<const Event> events) {
  std::vector<const Event*> out;
  out.reserve(events.size());
  for (const Event& e : events) out.push_back(&e);
  return out;
}

}  // namespace

Evaluation EvaluateStream(const ContractTerms& terms, const std::vector<PolicyVersion>& policies,
                          const Calendar& calendar, std::string_view stream,
                          std::span<const Event> stream_events, Instant as_of) {
  return EvaluateStreamEvents(terms, policies, calendar, stream, Pointers(stream_events), as_of);
}

Evaluation EvaluateStreamEvents(const ContractTerms& terms,
                                const std::vector<PolicyVersion>& policies,
                                const Calendar& calendar, std::string_view stream,
                                std::span<const Event* const> stream_events, Instant as_of) {
  const std::string only(stream);
  return Evaluate(terms, policies, calendar, stream_events, as_of, &only);
}

Evaluation EvaluateContract(const ContractTerms& terms, const std::vector<PolicyVersion>& policies,
                            const Calendar& calendar, std::span<const Event> events,
                            Instant as_of) {
  return Evaluate(terms, policies, calendar, Pointers(events), as_of, nullptr);
}

std::vector<std::string> RootCausesInUse(std::span<const Event> events) {
  std::set<std::string> ids;
  for (const Event& e : EffectiveEvents(events)) {
    if (!IsTest(e.type) && e.type != "retest.completed") continue;
    if (std::optional<std::string_view> rc = e.Attr("root_cause")) {
      for (std::string& id : SplitIdentifierList(*rc)) ids.insert(std::move(id));
    }
  }
  return {ids.begin(), ids.end()};
}

namespace rules_internal {

Trigger TriggerOf(const Event& e) {
  return Trigger{e.id, e.type, e.at};
}

Obligation Context::Start(std::string_view clause, std::string_view key, std::string title,
                          std::string subject, const Trigger& t, Consequence consequence,
                          std::string consequence_text) const {
  const Date day = LondonDate(t.at);
  const Timescale* ts = PolicyInForce(policies_, day).Find(key);
  if (ts == nullptr) ts = DefaultPolicy().Find(key);
  Obligation o;
  o.clause = std::string(clause);
  o.key = std::string(key);
  o.title = std::move(title);
  o.subject = std::move(subject);
  o.trigger_event_id = t.id;
  o.trigger_type = t.type;
  o.trigger_at = t.at;
  o.consequence = consequence;
  o.consequence_text =
      consequence_text.empty() ? "breach of " + std::string(clause) : std::move(consequence_text);
  if (ts != nullptr) {
    o.timescale = ts->period;
    o.timescale_source = ts->source;
  }
  if (o.timescale) {
    o.due_at = calendar_.DueInstant(t.at, *o.timescale);
    if (o.timescale->unit != Period::Unit::kHours) {
      o.due_date = calendar_.AddPeriod(day, *o.timescale);
    }
  }
  return o;
}

void Context::Settle(Obligation o, const Event* met) {
  if (met != nullptr) {
    o.closed_at = met->at;
    o.evidence.push_back(met->id);
    o.state = o.due_at && met->at > *o.due_at ? ObligationState::kMetLate : ObligationState::kMet;
  } else if (o.due_at && as_of_ > *o.due_at) {
    o.state = ObligationState::kBreached;
  } else {
    o.state = ObligationState::kOpen;
    if (o.due_at) ChangesAt(*o.due_at + std::chrono::milliseconds(1));
  }
  out_.push_back(std::move(o));
}

void Context::Keep(Obligation o) {
  out_.push_back(std::move(o));
}

void Context::ChangesAt(Instant t) {
  if (t > as_of_ && (!next_change_ || t < *next_change_)) next_change_ = t;
}

Evaluation Context::Finish(const std::vector<const Event*>& events) && {
  std::map<std::int64_t, const Event*> by_id;
  for (const Event* e : events) by_id[e->id] = e;
  for (Obligation& o : out_) {
    std::vector<std::int64_t> ids = {o.trigger_event_id};
    ids.insert(ids.end(), o.evidence.begin(), o.evidence.end());
    for (std::int64_t id : ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      const Event& e = *it->second;
      if (!IsBackdated(e, calendar_, PolicyInForce(policies_, LondonDate(e.at)))) continue;
      std::string flag = "event " + Id(id) + " backdated: happened " +
                         FormatDate(LondonDate(e.at)) + ", recorded " +
                         FormatDate(LondonDate(e.recorded_at));
      if (std::find(o.flags.begin(), o.flags.end(), flag) == o.flags.end()) {
        o.flags.push_back(std::move(flag));
      }
    }
  }
  std::sort(out_.begin(), out_.end(), ObligationBefore);
  return Evaluation{std::move(out_), next_change_};
}

Stream::Stream(Events events) : all_(std::move(events)) {
  for (const Event* e : all_) by_type_[e->type].push_back(e);
}

const Events& Stream::OfType(std::string_view type) const {
  static const Events* const kNone = new Events();
  auto it = by_type_.find(type);
  return it == by_type_.end() ? *kNone : it->second;
}

const Event* Stream::FirstAtOrAfter(std::string_view type, Instant from,
                                    const std::function<bool(const Event&)>& pred) const {
  const Events& of = OfType(type);
  auto it = std::lower_bound(of.begin(), of.end(), from,
                             [](const Event* e, Instant t) { return e->at < t; });
  for (; it != of.end(); ++it) {
    if (!pred || pred(**it)) return *it;
  }
  return nullptr;
}

void PairClocks(Context& c, const Stream& events, std::string_view trigger_type,
                std::string_view meet_type, std::string_view clause, std::string_view key,
                const std::string& title, const std::string& subject) {
  for (const Event* e : events.OfType(trigger_type)) {
    c.Settle(c.Start(clause, key, title, subject, TriggerOf(*e)),
             events.FirstAtOrAfter(meet_type, e->at));
  }
}

}  // namespace rules_internal
}  // namespace isms
