// Copying short byte ranges: the fields of an audit record and the edges of a SHA-256 message are
// mostly a few to a few dozen bytes, and a call to memcpy for each (its size unknown to the
// compiler) cost more than the copy.
#pragma once

#include <cstddef>
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
}  // namespace bytes_internal

// Copies n bytes (the ranges must not overlap). Up to 64 bytes with two or four overlapping
// moves of 16, 8 or 4 bytes (or byte by byte below 4); longer ranges with memcpy.
inline void CopyBytes(void* to, const void* from, std::size_t n) {
  using bytes_internal::Move;
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  if (n > 64) {
    std::memcpy(d, s, n);
  } else if (n >= 32) {
    Move<16>(d, s);
    Move<16>(d + 16, s + 16);
    Move<16>(d + n - 32, s + n - 32);
    Move<16>(d + n - 16, s + n - 16);
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

}  // namespace isms
