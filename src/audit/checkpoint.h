// Checkpoints: signed tree heads in the C2SP tlog-checkpoint format, signed as C2SP signed
// notes (note.h). See docs/audit-merkle.md.
//
// The checkpoint text is
//   <origin>\n<tree size, decimal, no leading zeros>\n<base64 of the 32-byte root>\n
// followed by optional non-empty extension lines, each ending in "\n". The origin names the log;
// the signing key's name SHOULD equal it (isms names both after the contract and the log).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "audit/note.h"
#include "core/status.h"

namespace isms::audit {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // opaque lines, without their newlines

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The note text of a checkpoint. InvalidArgument when the origin or an extension line is empty
// or holds a newline or another control character.
Result<std::string> CheckpointText(const Checkpoint& checkpoint);

// Parses a checkpoint's note text (without the signatures). InvalidArgument naming the line.
Result<Checkpoint> ParseCheckpointText(std::string_view text);

// The signed checkpoint note.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const NoteSigner& signer);

// Parses a signed checkpoint note WITHOUT checking any signature: for display and diagnostics
// only. Trust a checkpoint only from VerifyCheckpoint.
Result<Checkpoint> ParseCheckpoint(std::string_view note);

// The checkpoint in `note` when it carries a valid signature by `verifier` (see OpenNote for the
// errors) and its text is a well-formed checkpoint. The caller still compares the origin with the
// log it expects, and the size and root with what it knows (a consistency proof).
Result<Checkpoint> VerifyCheckpoint(std::string_view note, const NoteVerifier& verifier);
// As above, signed by any of `keys` (the log's key and the keys it had before).
Result<Checkpoint> VerifyCheckpoint(std::string_view note, std::span<const NoteVerifier> keys);

}  // namespace isms::audit
