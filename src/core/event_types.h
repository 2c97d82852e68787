// The event vocabulary of the ledger: every event type the rules know, whether it takes a
// subject, which attributes it takes and their syntax, whether it is an act of the Buyer (and so
// needs evidence= when recorded from the supplier's side), the stream it belongs to, and a
// description for docs and --help. The table is stable: types are added, never renamed. See
// docs/events.md.
//
// Thread-safety: the table is immutable; the functions are pure.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace isms {

enum class SubjectRule { kRequired, kForbidden, kOptional };

enum class AttrSyntax {
  kText,            // any text (may be long, e.g. a policy file)
  kIdentifier,      // 1-128 of A-Z a-z 0-9 . _ - : @ /
  kIdentifierList,  // identifiers separated by commas, e.g. RC-1,RC-2
  kYesNo,           // yes | no
  kDocVersion,      // sha256:<64 lowercase hex digits>
  kSha256,          // <64 lowercase hex digits>
  kMonth,           // YYYY-MM
  kDate,            // YYYY-MM-DD
  kEventId,         // a positive event number
  kDocKind,         // isms | smp
  kTestScope,       // full | change
  kCount,           // a whole number 0-9999, e.g. 45
};

// "sha256:<64 lowercase hex digits>", ... (for error messages and docs).
std::string_view AttrSyntaxHelp(AttrSyntax s);

struct AttrSpec {
  std::string_view key;
  AttrSyntax syntax = AttrSyntax::kText;
  bool required = false;
  std::string_view help;  // what the value means
};

// Which stream an event type belongs to (core/rules.h StreamOf): the contract stream, or one
// stream per subject of a family. Retractions belong to the stream of the type they retract.
enum class StreamFamily {
  kContract,
  kPerson,
  kIncident,
  kData,
  kErasure,
  kThreat,
  kVuln,  // one stream per finding: "vuln:<finding id>" (core/vuln_rules.h)
  kOfTarget,
};

struct EventType {
  std::string_view name;
  SubjectRule subject = SubjectRule::kForbidden;
  std::string_view subject_help;  // what the subject names, e.g. "the person, e.g. alice"
  std::span<const AttrSpec> attrs;
  bool buyer_act = false;  // needs evidence= unless recorded from the Buyer's own account
  StreamFamily stream = StreamFamily::kContract;
  std::string_view description;
};

// Every attribute of every type may also carry evidence=<text> (a message id, a document hash,
// a reference); for a Buyer's act recorded by the supplier's side it is required.
inline constexpr std::string_view kEvidenceAttr = "evidence";

// All types, in the order of docs/events.md.
std::span<const EventType> EventTypes();
// The type named `name`, or nullptr.
const EventType* FindEventType(std::string_view name);
// The spec of attribute `key` of `type`, or nullptr (evidence is not listed: it is general).
const AttrSpec* FindAttrSpec(const EventType& type, std::string_view key);

// Checks `value` against `syntax`; the error names the expected form (the caller adds the field).
Status CheckAttrSyntax(AttrSyntax syntax, std::string_view value);
// A subject or identifier: 1-128 of A-Z a-z 0-9 . _ - : @ /.
bool IsIdentifier(std::string_view s);

// The comma-separated identifiers of a kIdentifierList value, in order, without duplicates.
std::vector<std::string> SplitIdentifierList(std::string_view value);

}  // namespace isms
