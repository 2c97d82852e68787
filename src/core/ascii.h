// ASCII case for identifiers, keywords and encodings in reports and policies: letters A-Z and
// a-z only, never the C locale (which std::tolower consults on every call, and which could
// change the answer for bytes above 127).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace isms {

constexpr char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Equal but for the case of ASCII letters.
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Scans of the syslog parsers, eight bytes at a time (one 64-bit word, little-endian as on
// x86-64 and AArch64): the header fields and the rules' tokens of every received record.
// In each word, a flag (the byte's top bit) is set for every byte that ends the run, and maybe
// for bytes above one that does (a borrow or carry spills only upwards): the lowest flag is
// exact.
namespace ascii_internal {
inline constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
// The top bit of each byte of `x` that is 0 (the lowest one exact).
constexpr std::uint64_t ZeroBytes(std::uint64_t x) {
  return (x - kOnes) & ~x & kHigh;
}
inline std::size_t FirstFlag(std::uint64_t flags) {
  return static_cast<std::size_t>(__builtin_ctzll(flags)) / 8;
}
inline std::uint64_t Word(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
}  // namespace ascii_internal

// The offset of the first byte of s at or after `from` outside 33–126 (RFC 5424 PRINTUSASCII),
// or s.size().
inline std::size_t PrintUsAsciiEnd(std::string_view s, std::size_t from) {
  using namespace ascii_internal;
  std::size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t x = Word(s.data() + i);
    const std::uint64_t below = (x - 33 * kOnes) & ~x & kHigh;  // bytes 0-32
    const std::uint64_t above = ((x + kOnes) | x) & kHigh;      // bytes 127-255
    if (const std::uint64_t f = below | above) return i + FirstFlag(f);
  }
  while (i < s.size() && s[i] >= 33 && s[i] <= 126) ++i;
  return i;
}

// The offset of the first space or tab of s at or after `from`, or s.size().
inline std::size_t SpaceOrTabAt(std::string_view s, std::size_t from) {
  using namespace ascii_internal;
  std::size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t x = Word(s.data() + i);
    if (const std::uint64_t f = ZeroBytes(x ^ (' ' * kOnes)) | ZeroBytes(x ^ ('\t' * kOnes))) {
      return i + FirstFlag(f);
    }
  }
  while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
  return i;
}

}  // namespace isms
