#include "audit/checkpoint.h"

#include <limits>

namespace isms::audit {
namespace {

// Empty when `line` may be one line of a checkpoint (non-empty, no control characters); else
// what is wrong.
std::string CheckLine(std::string_view line) {
  if (line.empty()) return "is empty";
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20) return "holds a newline or control character";
  }
  return {};
}

}  // namespace

Result<std::string> CheckpointText(const Checkpoint& checkpoint) {
  if (std::string bad = CheckLine(checkpoint.origin); !bad.empty()) {
    return Status::InvalidArgument("checkpoint origin " + bad);
  }
  std::string text = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                     Base64Encode(checkpoint.root) + "\n";
  for (size_t i = 0; i < checkpoint.extensions.size(); ++i) {
    if (std::string bad = CheckLine(checkpoint.extensions[i]); !bad.empty()) {
      return Status::InvalidArgument("checkpoint extension line " + std::to_string(i + 1) + " " +
                                     bad);
    }
    text += checkpoint.extensions[i];
    text += '\n';
  }
  return text;
}

Result<Checkpoint> ParseCheckpointText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("checkpoint text must end with a newline");
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    const size_t eol = text.find('\n', start);
    lines.push_back(text.substr(start, eol - start));
    start = eol + 1;
  }
  if (lines.size() < 3) {
    return Status::InvalidArgument(
        "checkpoint text must have at least 3 lines (origin, tree size, root hash), has " +
        std::to_string(lines.size()));
  }
  // The lines CheckpointText would print: none empty, none with a control character (C2SP
  // signed notes hold none but the newline, so a note's text never has one; a text given alone
  // may).
  for (size_t i = 0; i < lines.size(); ++i) {
    if (std::string bad = CheckLine(lines[i]); !bad.empty()) {
      return Status::InvalidArgument("checkpoint line " + std::to_string(i + 1) + " " + bad);
    }
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);

  const std::string_view size = lines[1];
  const bool leading_zero = size.size() > 1 && size[0] == '0';
  uint64_t n = 0;
  for (char c : size) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (c < '0' || c > '9' || leading_zero ||
        n > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return Status::InvalidArgument("checkpoint line 2, the tree size \"" + std::string(size) +
                                     "\", is not a decimal number without leading zeros that "
                                     "fits 64 bits");
    }
    n = n * 10 + digit;
  }
  cp.size = n;

  Result<std::vector<uint8_t>> root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != cp.root.size()) {
    return Status::InvalidArgument("checkpoint line 3, the root hash \"" + std::string(lines[2]) +
                                   "\", is not the base64 of 32 bytes");
  }
  std::copy(root->begin(), root->end(), cp.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) cp.extensions.emplace_back(lines[i]);
  return cp;
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const NoteSigner& signer) {
  ISMS_ASSIGN_OR_RETURN(std::string text, CheckpointText(checkpoint));
  return SignNote(text, signer);
}

Result<Checkpoint> ParseCheckpoint(std::string_view note) {
  ISMS_ASSIGN_OR_RETURN(SignedNote parsed, ParseNote(note));
  return ParseCheckpointText(parsed.text);
}

Result<Checkpoint> VerifyCheckpoint(std::string_view note, const NoteVerifier& verifier) {
  return VerifyCheckpoint(note, std::span<const NoteVerifier>(&verifier, 1));
}

Result<Checkpoint> VerifyCheckpoint(std::string_view note, std::span<const NoteVerifier> keys) {
  ISMS_ASSIGN_OR_RETURN(std::string text, OpenNote(note, keys));
  Result<Checkpoint> cp = ParseCheckpointText(text);
  if (!cp.ok()) {
    return cp.status().WithContext("signed checkpoint by " +
                                   (keys.empty() ? std::string("no key") : keys.front().name()));
  }
  return cp;
}

}  // namespace isms::audit
