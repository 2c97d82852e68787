// One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), the base32 of their secrets (RFC 4648)
// and the otpauth:// URI authenticator apps read (Google Authenticator's "Key Uri Format").
//
// Pure: the HMAC is given by the caller (a Mac computes HMAC-<algorithm>(key, message) for a key
// it holds), so nothing here depends on a crypto library; app/access.cc supplies OpenSSL's.
// Time is passed in.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace isms {

enum class OtpAlgorithm { kSha1, kSha256, kSha512 };
// "SHA1", "SHA256", "SHA512" (the otpauth:// spelling).
std::string_view OtpAlgorithmName(OtpAlgorithm a);

struct TotpParams {
  OtpAlgorithm algorithm = OtpAlgorithm::kSha1;
  int digits = 6;                 // 6, 7 or 8 (RFC 4226 5.3)
  std::chrono::seconds step{30};  // X (RFC 6238 4.1)
  Instant t0{};                   // T0: the Unix epoch
};

// HMAC-<algorithm>(secret, message) for the caller's secret: 20, 32 or 64 bytes.
using OtpMac = std::function<std::string(std::string_view message)>;

// RFC 6238 4.2: T = floor((t - T0) / X). InvalidArgument for t before T0 or a step below 1 s.
Result<std::uint64_t> TotpCounter(Instant t, const TotpParams& p);

// RFC 4226 5.2: the moving factor as 8 bytes, most significant first.
std::string HotpMessage(std::uint64_t counter);

// RFC 4226 5.3: dynamic truncation of an HMAC value (at least 20 bytes) to `digits` (6-8)
// decimal digits, with leading zeros. InvalidArgument otherwise.
Result<std::string> HotpTruncate(std::string_view mac, int digits);

// HOTP(K, C) = Truncate(HMAC(K, C)).
Result<std::string> Hotp(const OtpMac& mac, std::uint64_t counter, int digits);

// TOTP at time t.
Result<std::string> Totp(const OtpMac& mac, Instant t, const TotpParams& p);

// Checks a code typed at `now` against the time steps from `window` before to `window` after
// the current one, each compared in constant time. Returns the time step it matched, or nullopt
// when none did, the code is not `digits` digits, or the step matched is not after
// `last_used` (RFC 6238 5.2: a code is accepted once).
std::optional<std::uint64_t> TotpVerify(const OtpMac& mac, std::string_view code, Instant now,
                                        const TotpParams& p, int window,
                                        std::optional<std::uint64_t> last_used);

// RFC 4648 base32 (A-Z2-7) without padding.
std::string Base32Encode(std::string_view bytes);
// Decodes base32: letters of either case, spaces and hyphens ignored, '=' padding optional at
// the end. InvalidArgument naming the first bad character (by position) otherwise, or for
// trailing bits that are not zero.
Result<std::string> Base32Decode(std::string_view text);

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30,
// with ISSUER and ACCOUNT percent-encoded (RFC 3986 unreserved characters kept).
std::string OtpauthUri(std::string_view issuer, std::string_view account,
                       std::string_view secret_base32, const TotpParams& p);

// Equality of two byte strings in time that depends on their lengths only.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace isms
