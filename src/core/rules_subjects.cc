#include <optional>
#include <string>
#include <utility>

#include "core/rules_internal.h"

namespace isms::rules_internal {

// A1 6.4: training within 12 Months of joining and of each training, until the person leaves.
// A1 6.5: access revoked within 1 Working Day of leaving or of privileges becoming unneeded.
void PersonRules(Context& c, const std::string& subject, const Stream& events) {
  std::optional<Obligation> open;
  bool left = false;
  auto start = [&](const Event& e) {
    open =
        c.Start("A1 6.4", "security_training", "Security training (annual)", subject, TriggerOf(e));
  };
  for (const Event* e : events.all()) {
    if (e->type == "person.joined") {
      if (open) continue;
      left = false;
      start(*e);
    } else if (e->type == "person.trained") {
      if (left) continue;
      if (open) c.Settle(std::move(*open), e);
      start(*e);
    } else if (e->type == "person.left") {
      left = true;
      if (!open) continue;
      Obligation o = std::move(*open);
      open.reset();
      o.closed_at = e->at;
      o.evidence = {e->id};
      o.state =
          o.due_at && e->at > *o.due_at ? ObligationState::kBreached : ObligationState::kSuperseded;
      c.Keep(std::move(o));
    }
  }
  if (open) c.Settle(std::move(*open), nullptr);

  for (const Event* e : events.all()) {
    if (e->type != "person.left" && e->type != "privilege.unneeded") continue;
    // A revocation earlier on the same London day counts: access removed in anticipation.
    const Event* revoked =
        events.FirstAtOrAfter("access.revoked", StartOfLondonDay(LondonDate(e->at)));
    c.Settle(c.Start("A1 6.5", "access_revocation", "Revoke the person's access rights", subject,
                     TriggerOf(*e)),
             revoked);
  }
}

// 8.1, 8.2.1.5 and 8.2.2, per incident.
void IncidentRules(Context& c, const std::string& subject, const Stream& events) {
  PairClocks(c, events, "breach.detected", "breach.notified", "8.1", "breach_notification",
             "Notify the Buyer of the Breach of Security", subject);
  PairClocks(c, events, "breach.detected", "details.delivered", "8.2.2", "breach_details",
             "Provide full details of the Breach of Security to the Buyer", subject);
  PairClocks(c, events, "rca.requested", "rca.delivered", "8.2.2", "breach_details",
             "Provide the root cause analysis the Buyer required", subject);
  for (const Event* q : events.OfType("datarequest.received")) {
    const std::optional<std::string_view> request = q->Attr("request");
    const Event* answer = events.FirstAtOrAfter("datarequest.answered", q->at, [&](const Event& a) {
      const std::optional<std::string_view> answers = a.Attr("request");
      return !request || !answers || request == answers;
    });
    c.Settle(c.Start("8.2.1.5", "incident_data_request", "Supply the data the Buyer requested",
                     subject, TriggerOf(*q)),
             answer);
  }
}

void DataRules(Context& c, const std::string& subject, const Stream& events) {
  PairClocks(c, events, "data.demanded", "data.provided", "A1 3.3.1", "data_return",
             "Provide all Government Data in an agreed open format", subject);
}

void ErasureRules(Context& c, const std::string& subject, const Stream& events) {
  PairClocks(c, events, "erasure.requested", "erasure.completed", "A1 3.3.4", "data_erasure",
             "Securely erase the Government Data requested", subject);
}

void ThreatRules(Context& c, const std::string& subject, const Stream& events) {
  PairClocks(c, events, "threat.learned", "threat.informed", "9.5.8", "threat_notification",
             "Inform the Buyer of the new threat, with initial mitigations", subject);
}

}  // namespace isms::rules_internal
