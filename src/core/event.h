// An event of the contract's ledger: one fact, with when it happened and who recorded it.
// Events are append-only: a correction is a new event whose `supersedes` names the one it
// replaces (type "event.retracted" withdraws it without replacement). The vocabulary of types,
// their subjects and attributes is in core/event_types.h and docs/events.md.
//
// Thread-safety: a value; copy freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

namespace isms {

struct Event {
  std::int64_t id = 0;    // ledger sequence within its contract, from 1, in recording order
  std::string type;       // e.g. "isms.submitted"
  std::string subject;    // free identifier; empty where the type needs none
  Instant at{};           // when it happened
  Instant recorded_at{};  // when it was recorded
  std::string actor;      // the authenticated actor who recorded it
  bool by_buyer = false;  // recorded from the buyer's own account
  std::string note;
  std::vector<std::pair<std::string, std::string>> attrs;  // sorted by key, keys unique
  std::optional<std::int64_t> supersedes;                  // id of the event this corrects

  // The value of attribute `key`, or nullopt.
  std::optional<std::string_view> Attr(std::string_view key) const;
  // Sets attribute `key` to `value`, keeping `attrs` sorted by key with unique keys.
  void SetAttr(std::string_view key, std::string value);

  friend bool operator==(const Event&, const Event&) = default;
};

// The order in which the rules read events: by `at`, then by `id`.
inline bool HappenedBefore(const Event& a, const Event& b) {
  return a.at != b.at ? a.at < b.at : a.id < b.id;
}

// A retraction of `target`: type "event.retracted", the target's subject, attribute
// type=<the target's type> (so that the retraction belongs to the target's stream), `supersedes`
// = the target's id and `at` = the target's `at` (so "as of" evaluation drops both together).
// The caller fills id, recorded_at, actor, by_buyer and note.
Event RetractionOf(const Event& target);

// The canonical bytes of an event: the leaf content of the contract's ledger log (a Merkle log
// that retention never purges), so that the ledger's own history is tamper-evident. Version 1:
// u8 0x01; i64 id; str type; str subject; i64 at; i64 recorded_at (milliseconds since the epoch,
// UTC); str actor; u8 by_buyer; str note; u32 number of attributes, then each as str key, str
// value, sorted by key; u8 1 and i64 supersedes, or u8 0. Integers are big-endian; a str is a
// u32 length and its bytes. See docs/events.md.
std::string EncodeEventCanonical(const Event& e);

}  // namespace isms
