#include "core/totp.h"

namespace isms {

std::string_view OtpAlgorithmName(OtpAlgorithm a) {
  switch (a) {
    case OtpAlgorithm::kSha1: return "SHA1";
    case OtpAlgorithm::kSha256: return "SHA256";
    case OtpAlgorithm::kSha512: return "SHA512";
  }
  return "SHA1";
}

Result<std::uint64_t> TotpCounter(Instant t, const TotpParams& p) {
  if (p.step < std::chrono::seconds(1)) {
    return Status::InvalidArgument("TOTP time step " + std::to_string(p.step.count()) +
                                   " s: it must be at least 1 s");
  }
  if (t < p.t0) {
    return Status::InvalidArgument("TOTP time " + FormatInstant(t) + " is before T0 " +
                                   FormatInstant(p.t0));
  }
  const auto elapsed = std::chrono::floor<std::chrono::seconds>(t - p.t0);
  return static_cast<std::uint64_t>(elapsed.count() / p.step.count());
}

std::string HotpMessage(std::uint64_t counter) {
  std::string m(8, '\0');
  for (int i = 7; i >= 0; --i) {
    m[static_cast<size_t>(i)] = static_cast<char>(counter & 0xff);
    counter >>= 8;
  }
  return m;
}

Result<std::string> HotpTruncate(std::string_view mac, int digits) {
  if (mac.size() < 20) {
    return Status::InvalidArgument("HOTP: an HMAC value of " + std::to_string(mac.size()) +
                                   " bytes; it must have at least 20 (HMAC-SHA-1)");
  }
  if (digits < 6 || digits > 8) {
    return Status::InvalidArgument("HOTP: " + std::to_string(digits) +
                                   " digits; RFC 4226 allows 6, 7 or 8");
  }
  auto byte = [&](size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(mac[i]));
  };
  const size_t offset = byte(mac.size() - 1) & 0x0f;
  const std::uint32_t bin = (byte(offset) & 0x7f) << 24 | byte(offset + 1) << 16 |
                            byte(offset + 2) << 8 | byte(offset + 3);
  std::uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string code = std::to_string(bin % mod);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

Result<std::string> Hotp(const OtpMac& mac, std::uint64_t counter, int digits) {
  return HotpTruncate(mac(HotpMessage(counter)), digits);
}

Result<std::string> Totp(const OtpMac& mac, Instant t, const TotpParams& p) {
  ISMS_ASSIGN_OR_RETURN(std::uint64_t counter, TotpCounter(t, p));
  return Hotp(mac, counter, p.digits);
}

std::optional<std::uint64_t> TotpVerify(const OtpMac& mac, std::string_view code, Instant now,
                                        const TotpParams& p, int window,
                                        std::optional<std::uint64_t> last_used) {
  if (code.size() != static_cast<size_t>(p.digits)) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  Result<std::uint64_t> current = TotpCounter(now, p);
  if (!current.ok()) return std::nullopt;
  std::optional<std::uint64_t> matched;
  // Every step of the window is computed and compared, so the time taken does not say which
  // step matched.
  for (int d = -window; d <= window; ++d) {
    if (d < 0 && *current < static_cast<std::uint64_t>(-d)) continue;
    const std::uint64_t counter =
        *current + static_cast<std::uint64_t>(static_cast<std::int64_t>(d));
    Result<std::string> expected = Hotp(mac, counter, p.digits);
    if (expected.ok() && ConstantTimeEquals(*expected, code) && !matched) matched = counter;
  }
  if (!matched || (last_used && *matched <= *last_used)) return std::nullopt;
  return matched;
}

namespace {
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buffer >> (bits - 5)) & 0x1f];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 0x1f];
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '-') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0 || padding) {
      return Status::InvalidArgument(
          "base32 secret: character " + std::to_string(i + 1) +
          (padding ? " follows '=' padding" : " is not one of A-Z and 2-7") +
          "; copy the secret again as it was given");
    }
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument(
        "base32 secret: its length or last character is not that of whole bytes; copy the secret "
        "again as it was given");
  }
  return out;
}

namespace {

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::string OtpauthUri(std::string_view issuer, std::string_view account,
                       std::string_view secret_base32, const TotpParams& p) {
  const std::string is = PercentEncode(issuer);
  return "otpauth://totp/" + is + ":" + PercentEncode(account) +
         "?secret=" + std::string(secret_base32) + "&issuer=" + is +
         "&algorithm=" + std::string(OtpAlgorithmName(p.algorithm)) +
         "&digits=" + std::to_string(p.digits) + "&period=" + std::to_string(p.step.count());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace isms
