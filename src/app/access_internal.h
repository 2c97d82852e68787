// Helpers shared by the access files: randomness, hashes and encodings (libsodium, OpenSSL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "app/access.h"
#include "app/text.h"  // Sha256Hex
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace isms::app {

// A user's row as stored.
struct Access::Row {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kAuditor;
  std::string password_hash;  // "" when none is set
  std::optional<std::string> totp_secret;
  std::optional<std::int64_t> totp_last_step;
  bool disabled = false;
};

}  // namespace isms::app

namespace isms::app::access_internal {

// libsodium initialised (once; thread-safe); Internal when it cannot be.
Status InitSodium();
// `n` bytes from the operating system's random source.
std::string RandomBytes(std::size_t n);

// The key failed log-ins are counted under: the name tried, or for a name that cannot be a
// user's (it may not even be UTF-8) a digest of it.
std::string ThrottleKey(const std::string& name);
// base64url without padding (RFC 4648 section 5).
std::string Base64Url(std::string_view bytes);
// A well-formed Argon2id string of this cost with a random salt and hash, which no password
// matches: checking a password against it costs what checking a real one does.
std::string DummyHash(std::uint64_t opslimit, std::size_t memlimit);
// HMAC-SHA-1 (RFC 2104) of `message` under `key`.
std::string HmacSha1(std::string_view key, std::string_view message);

// Milliseconds since the epoch, as stored.
std::int64_t Millis(Instant t);
Instant FromMillis(std::int64_t ms);

}  // namespace isms::app::access_internal
