// Copying and comparing short byte ranges: the fields of an audit record, the edges of a SHA-256
// message and the fixed strings of the classifier's rules are mostly a few to a few dozen bytes,
// and a call to memcpy or memcmp for each (its size unknown to the compiler) cost more than the
// work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace isms {

namespace bytes_internal {
// K bytes from `from` to `to`, through a temporary: a fixed-size copy the compiler inlines as
// one or two moves.
template <std::size_t K>
inline void Move(unsigned char* to, const unsigned char* from) {
  unsigned char t[K];
  std::memcpy(t, from, K);
  std::memcpy(to, t, K);
}
// Whether the bytes at a and b are equal for the size of Word (4 or 8 bytes), as one compare.
template <typename Word>
inline bool Same(const unsigned char* a, const unsigned char* b) {
  Word x, y;
  std::memcpy(&x, a, sizeof x);
  std::memcpy(&y, b, sizeof y);
  return x == y;
}
}  // namespace bytes_internal

// Copies n bytes (the ranges must not overlap). Up to 32 bytes with two overlapping moves of 16,
// 8 or 4 bytes (or byte by byte below 4); longer ranges with memcpy.
inline void CopyBytes(void* to, const void* from, std::size_t n) {
  using bytes_internal::Move;
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  if (n > 32) {
    std::memcpy(d, s, n);
  } else if (n >= 16) {
    Move<16>(d, s);
    Move<16>(d + n - 16, s + n - 16);
  } else if (n >= 8) {
    Move<8>(d, s);
    Move<8>(d + n - 8, s + n - 8);
  } else if (n >= 4) {
    Move<4>(d, s);
    Move<4>(d + n - 4, s + n - 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
  }
}

// Whether the n bytes at a and b are equal. Up to 16 bytes with two overlapping word compares;
// longer ranges with memcmp.
inline bool EqualBytes(const void* a, const void* b, std::size_t n) {
  using bytes_internal::Same;
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  if (n > 16) return std::memcmp(x, y, n) == 0;
  if (n >= 8) return Same<std::uint64_t>(x, y) && Same<std::uint64_t>(x + n - 8, y + n - 8);
  if (n >= 4) return Same<std::uint32_t>(x, y) && Same<std::uint32_t>(x + n - 4, y + n - 4);
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

}  // namespace isms
