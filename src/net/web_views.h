// How the pages show the ledger's values: obligations, events and clauses as template data
// (web_render.h), so the dashboard, the timeline and a finding's page write them alike.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app/ledger.h"
#include "core/obligation.h"
#include "core/time.h"

namespace isms::net::web {

// Clause order as people read it: "3.1" < "9.3" < "9.5.5" < "10.1" < "A1 6.5".
bool ClauseLess(std::string_view a, std::string_view b);

// 0 for material Default, 1 for Default, 2 otherwise (breach, escalation).
int Severity(const Obligation& o);

// An obligation for the templates: clause, title, subject (with a link to the finding for a
// finding's clocks), due, timescale with its source told apart ("contract", "policy default",
// "varied"), state, consequence, when it closed, flags; "when" says how far the due time is
// from `now` ("in 3 days", "2 days ago").
nlohmann::json ObligationView(const Obligation& o, std::string_view contract, Instant now);

// An event for the templates: number, when it happened and was recorded (backdated marked),
// type, subject, attributes, actor, whether the Buyer recorded it, what it corrects.
nlohmann::json EventView(const app::EventView& v);

// "in 3 days", "today", "2 days ago", "in 5 hours".
std::string Relative(Instant t, Instant now);

}  // namespace isms::net::web
