#include "net/web_views.h"

#include <cstdlib>
#include <vector>

#include "core/period.h"
#include "core/policy.h"
#include "net/web_render.h"

namespace isms::net::web {

namespace {

std::vector<int> ClauseKey(std::string_view clause) {
  std::vector<int> parts;
  int annex = 0;
  if (clause.rfind("A1 ", 0) == 0) {
    annex = 1;
    clause.remove_prefix(3);
  }
  parts.push_back(annex);
  size_t pos = 0;
  while (pos <= clause.size()) {
    size_t end = clause.find('.', pos);
    if (end == std::string_view::npos) end = clause.size();
    parts.push_back(std::atoi(std::string(clause.substr(pos, end - pos)).c_str()));
    pos = end + 1;
  }
  return parts;
}

std::string SourceLabel(TimescaleSource s) {
  switch (s) {
    case TimescaleSource::kContract: return "contract";
    case TimescaleSource::kPolicyDefault: return "policy default";
    case TimescaleSource::kVaried: return "varied";
  }
  return "contract";
}

}  // namespace

bool ClauseLess(std::string_view a, std::string_view b) {
  std::vector<int> ka = ClauseKey(a), kb = ClauseKey(b);
  if (ka != kb) return ka < kb;
  return a < b;
}

int Severity(const Obligation& o) {
  if (o.consequence == Consequence::kMaterialDefault) return 0;
  if (o.consequence == Consequence::kDefault) return 1;
  return 2;
}

std::string Relative(Instant t, Instant now) {
  using namespace std::chrono;
  auto diff = t - now;
  bool future = diff >= milliseconds(0);
  auto abs = future ? diff : -diff;
  auto days = duration_cast<std::chrono::days>(abs).count();
  auto hours = duration_cast<std::chrono::hours>(abs).count();
  std::string n;
  if (days >= 1) {
    n = std::to_string(days) + (days == 1 ? " day" : " days");
  } else if (hours >= 1) {
    n = std::to_string(hours) + (hours == 1 ? " hour" : " hours");
  } else {
    return future ? "within the hour" : "less than an hour ago";
  }
  return future ? "in " + n : n + " ago";
}

nlohmann::json ObligationView(const Obligation& o, std::string_view contract, Instant now) {
  nlohmann::json j;
  j["clause"] = o.clause;
  j["title"] = o.title;
  j["subject"] = o.subject;
  j["subject_href"] = nullptr;
  j["due"] = nullptr;
  j["due_iso"] = nullptr;
  j["when"] = nullptr;
  j["closed"] = nullptr;
  if (o.subject.rfind("F-", 0) == 0 && o.clause.rfind("9.", 0) == 0) {
    j["subject_href"] = ContractPath(contract, "/vulns/" + PercentEncode(o.subject));
  }
  if (o.due_date) {
    j["due"] = FormatDate(*o.due_date);
  } else if (o.due_at) {
    j["due"] = LondonTime(*o.due_at);
  }
  if (o.due_at) {
    j["due_iso"] = FormatInstant(*o.due_at);
    j["when"] = Relative(*o.due_at, now);
  }
  j["timescale"] = o.timescale ? FormatPeriod(*o.timescale) : "no clock";
  j["source"] = std::string(TimescaleSourceKey(o.timescale_source));
  j["source_label"] = SourceLabel(o.timescale_source);
  j["state"] = std::string(ObligationStateName(o.state));
  j["state_class"] = o.state == ObligationState::kBreached   ? "bad"
                     : o.state == ObligationState::kMetLate  ? "warn"
                     : o.state == ObligationState::kMet      ? "ok"
                                                             : "";
  j["consequence"] = std::string(ConsequenceName(o.consequence));
  j["consequence_text"] = o.consequence_text;
  int sev = Severity(o);
  j["severity"] = sev == 0 ? "material-default" : sev == 1 ? "default" : "breach";
  j["is_default"] = sev <= 1;
  if (o.closed_at) j["closed"] = LondonTime(*o.closed_at);
  j["trigger"] = o.trigger_type + (o.trigger_event_id > 0
                                       ? " (event " + std::to_string(o.trigger_event_id) + ")"
                                       : "");
  j["trigger_at"] = LondonTime(o.trigger_at);
  nlohmann::json flags = nlohmann::json::array();
  for (const std::string& f : o.flags) flags.push_back(f);
  j["flags"] = flags;
  std::string evidence;
  for (std::int64_t id : o.evidence) {
    evidence += (evidence.empty() ? "" : ", ") + std::to_string(id);
  }
  j["evidence"] = evidence;
  return j;
}

nlohmann::json EventView(const app::EventView& v) {
  const Event& e = v.event;
  nlohmann::json j;
  j["id"] = e.id;
  j["type"] = e.type;
  j["subject"] = e.subject;
  j["at"] = LondonTime(e.at);
  j["at_iso"] = FormatInstant(e.at);
  j["recorded"] = LondonTime(e.recorded_at);
  j["recorded_iso"] = FormatInstant(e.recorded_at);
  j["actor"] = e.actor;
  j["by_buyer"] = e.by_buyer;
  j["backdated"] = v.backdated;
  j["note"] = e.note;
  nlohmann::json attrs = nlohmann::json::array();
  for (const auto& [k, val] : e.attrs) {
    attrs.push_back({{"key", k}, {"value", val.size() > 80 ? val.substr(0, 77) + "..." : val}});
  }
  j["has_attrs"] = !attrs.empty();
  j["attrs"] = attrs;
  j["supersedes"] = nullptr;
  if (e.supersedes) j["supersedes"] = *e.supersedes;
  return j;
}

}  // namespace isms::net::web
