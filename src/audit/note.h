// Signed notes (C2SP signed-note, as implemented by golang.org/x/mod/sumdb/note) with Ed25519
// keys. See docs/audit-merkle.md for the formats.
//
// A note is a text ending in a newline, a blank line, then one or more signature lines
// "— <key name> <base64(4-byte key ID || signature)>\n" (U+2014 em dash, space). For Ed25519 the
// key ID is the first four bytes, big-endian, of SHA-256(key name || 0x0A || 0x01 || 32-byte
// public key), and the signature is Ed25519 (RFC 8032) over the text including its final newline.
//
// Keys travel as the strings of the Go note package:
//   verifier key  "<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>"
//   signer key    "PRIVATE+KEY+<name>+<key ID, 8 hex digits>+<base64(0x01 || 32-byte seed)>"
// A signer key is a secret: this file never writes it anywhere; callers store it (mode 0600).
//
// Thread-safety: NoteSigner and NoteVerifier are values and their const methods may be called
// from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace isms::audit {

using Ed25519PublicKey = std::array<uint8_t, 32>;

// True when `name` may name a key: non-empty UTF-8 with no Unicode space and no '+'.
bool IsValidKeyName(std::string_view name);

// SHA-256(name || 0x0A || 0x01 || public_key)[:4] as a big-endian number.
uint32_t Ed25519KeyId(std::string_view name, const Ed25519PublicKey& public_key);

// Checks an Ed25519 signature of one note.
class NoteVerifier {
 public:
  // From a name and a public key. InvalidArgument for an invalid name.
  static Result<NoteVerifier> FromPublicKey(std::string_view name, const Ed25519PublicKey& key);
  // From a verifier key string. InvalidArgument saying what is wrong with it.
  static Result<NoteVerifier> Decode(std::string_view vkey);

  // The verifier key string.
  std::string Encode() const;
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const Ed25519PublicKey& public_key() const { return public_key_; }
  // "<name>+<key ID as 8 hex digits>", as messages name a key.
  std::string Label() const;
  // The key ID as 8 lower-case hex digits.
  std::string KeyIdText() const;

  // True when `signature` (64 bytes, without the key ID) is this key's signature of `message`.
  bool Verify(std::string_view message, std::span<const uint8_t> signature) const;

 private:
  std::string name_;
  uint32_t key_id_ = 0;
  Ed25519PublicKey public_key_{};
};

// Signs notes with one Ed25519 key.
class NoteSigner {
 public:
  // A new key from the operating system's random source (OpenSSL RAND_bytes).
  static Result<NoteSigner> Generate(std::string_view name);
  // The key with this 32-byte Ed25519 seed (RFC 8032 private key).
  static Result<NoteSigner> FromSeed(std::string_view name, std::span<const uint8_t, 32> seed);
  // From a signer key string; checks that the key ID matches the key. InvalidArgument saying what
  // is wrong (never quoting the secret).
  static Result<NoteSigner> Decode(std::string_view skey);

  NoteSigner(const NoteSigner&) = default;
  NoteSigner& operator=(const NoteSigner&) = default;
  ~NoteSigner();

  // The signer key string: a secret.
  std::string Encode() const;
  NoteVerifier Verifier() const { return verifier_; }
  const std::string& name() const { return verifier_.name(); }
  uint32_t key_id() const { return verifier_.key_id(); }

  // The 64-byte Ed25519 signature of `message`. Internal when OpenSSL fails.
  Result<std::array<uint8_t, 64>> Sign(std::string_view message) const;

 private:
  NoteSigner() = default;
  std::array<uint8_t, 32> seed_{};
  NoteVerifier verifier_;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::vector<uint8_t> signature;  // the bytes after the key ID
};

struct SignedNote {
  std::string text;  // ends with "\n"; excludes the blank line
  std::vector<NoteSignature> signatures;
};

// Splits a note into its text and signature lines, checking the syntax only (valid UTF-8, no
// control characters but newline, well-formed signature lines, at most 100 of them). Signatures
// are NOT verified: use OpenNote before trusting the text. InvalidArgument saying what is wrong.
Result<SignedNote> ParseNote(std::string_view note);

// `text` signed by `signer`: text, blank line, one signature line. InvalidArgument when the text
// is empty, does not end in a newline, or contains a control character other than newline.
Result<std::string> SignNote(std::string_view text, const NoteSigner& signer);

// The text of `note` when it carries a valid signature by `verifier`'s key (same name and key
// ID). Signatures by other keys are ignored, as the spec requires. Errors: InvalidArgument for a
// malformed note; PermissionDenied when no signature is by this key (naming the keys that did
// sign) or when this key's signature does not verify.
Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier);
// As above, with any of `keys` (a log's signing key and the keys it had before: key rotation).
// The first signature by a known key decides. PermissionDenied when no signature is by one of
// them (naming the keys that did sign) or when that signature does not verify.
Result<std::string> OpenNote(std::string_view note, std::span<const NoteVerifier> keys);

// `note` (as SignNote writes it) with one more signature line, by `signer`, over the same text:
// a note signed by several keys. InvalidArgument for a malformed note; AlreadyExists when
// `signer`'s key (name and key ID) has signed it already.
Result<std::string> AddNoteSignature(std::string_view note, const NoteSigner& signer);

// Standard base64 (RFC 4648 section 4, with padding), as notes and keys use it. Decoding is
// strict: no whitespace, correct padding, zero unused bits.
std::string Base64Encode(std::span<const uint8_t> bytes);
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace isms::audit
