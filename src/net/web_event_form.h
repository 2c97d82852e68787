// The form of one event type, shared by the ledger's event page (web_events.cc) and a finding's
// page (web_vulns.cc): its fields come from the type's vocabulary (core/event_types.h), and what
// is typed goes to the use case as `isms event record` would give it.
#pragma once

#include <map>
#include <string>

#include "app/ledger.h"
#include "core/event_types.h"
#include "net/web_app.h"
#include "net/web_render.h"

namespace isms::net::web {

struct EventFormValues {
  std::string subject, at, note, supersedes;
  std::map<std::string, std::string> attrs;  // the type's attributes and evidence, as typed
};

struct EventFormTarget {
  std::string action;         // where the form posts
  std::string fixed_subject;  // the subject, when the page decides it (a finding)
  std::string back_href, back_label;
};

// The form of `t`, with the values given (after a refusal) and the refusal's message.
HttpResponse EventFormPage(RequestContext& ctx, const EventType& t, const EventFormTarget& target,
                           const EventFormValues& v, const std::string& error, int status);

// The values of a posted form of `t`: only its own attributes and evidence (nothing else the
// body holds reaches the ledger); a document chosen for a sha256: attribute is hashed.
EventFormValues ReadEventForm(const RequestContext& ctx, const Form& form, const EventType& t);

// The event to record; InvalidArgument for a bad time.
Result<app::NewEvent> ToNewEvent(const std::string& contract, const EventType& t,
                                 const EventFormValues& v);

// Brings the contract's ledger log up to date after `recorded` (as `isms event record` does) and
// notes the event in the request's access record.
void SealLedger(RequestContext& ctx, const Event& recorded);

}  // namespace isms::net::web
