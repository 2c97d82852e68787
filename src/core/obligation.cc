#include "core/obligation.h"

#include <tuple>

namespace isms {

std::string_view ObligationStateName(ObligationState s) {
  switch (s) {
    case ObligationState::kOpen: return "open";
    case ObligationState::kMet: return "met";
    case ObligationState::kMetLate: return "met late";
    case ObligationState::kBreached: return "breached";
    case ObligationState::kSuspended: return "suspended";
    case ObligationState::kSuperseded: return "superseded";
  }
  return "open";
}

Result<ObligationState> ParseObligationState(std::string_view s) {
  for (ObligationState st :
       {ObligationState::kOpen, ObligationState::kMet, ObligationState::kMetLate,
        ObligationState::kBreached, ObligationState::kSuspended, ObligationState::kSuperseded}) {
    if (s == ObligationStateName(st)) return st;
  }
  if (s == "met-late" || s == "met_late") return ObligationState::kMetLate;
  return Status::InvalidArgument("unknown obligation state '" + std::string(s) +
                                 "': use open, met, met-late, breached, suspended or superseded");
}

std::string_view ConsequenceName(Consequence c) {
  switch (c) {
    case Consequence::kBreach: return "breach";
    case Consequence::kDefault: return "Default";
    case Consequence::kMaterialDefault: return "material Default";
    case Consequence::kEscalation: return "escalation";
  }
  return "breach";
}

std::string ObligationId(const Obligation& o) {
  return o.key + "/" + o.subject + "/" + std::to_string(o.trigger_event_id);
}

bool ObligationBefore(const Obligation& a, const Obligation& b) {
  return std::tie(a.trigger_at, a.trigger_event_id, a.clause, a.key, a.subject) <
         std::tie(b.trigger_at, b.trigger_event_id, b.clause, b.key, b.subject);
}

namespace {

int UrgencyRank(const Obligation& o) {
  switch (o.state) {
    case ObligationState::kBreached:
      if (o.consequence == Consequence::kMaterialDefault) return 0;
      if (o.consequence == Consequence::kDefault) return 1;
      return 2;
    case ObligationState::kOpen: return 3;
    case ObligationState::kSuspended: return 4;
    case ObligationState::kMetLate: return 5;
    case ObligationState::kMet: return 6;
    case ObligationState::kSuperseded: return 7;
  }
  return 7;
}

// Breached and open obligations sort by due (none last); the others by trigger only.
std::tuple<bool, Instant> DueKey(const Obligation& o, int rank) {
  if (rank > 3) return {false, Instant{}};
  if (o.due_at) return {false, *o.due_at};
  if (o.closed_at) return {false, *o.closed_at};
  return {true, Instant{}};
}

}  // namespace

bool MoreUrgent(const Obligation& a, const Obligation& b) {
  const int ra = UrgencyRank(a);
  const int rb = UrgencyRank(b);
  if (ra != rb) return ra < rb;
  const auto da = DueKey(a, ra);
  const auto db = DueKey(b, rb);
  if (da != db) return da < db;
  return ObligationBefore(a, b);
}

}  // namespace isms
