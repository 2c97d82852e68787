#include "core/bytes.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace isms {
namespace {

// Every length from 0 to 200 (each path of CopyBytes and both sides of its bounds), from and to
// every alignment: exactly the n bytes are copied, and not one byte before or after them changes.
TEST(Bytes, CopiesExactlyTheRangeAtEveryLengthAndAlignment) {
  std::mt19937 rng(20261130);
  for (std::size_t n = 0; n <= 200; ++n) {
    for (std::size_t offset = 0; offset < 16; ++offset) {
      std::string from(n + 32, '\0');
      for (char& c : from) c = static_cast<char>(rng());
      std::string to(n + 32, '#');
      CopyBytes(to.data() + offset, from.data() + 7, n);
      const std::string want =
          std::string(offset, '#') + from.substr(7, n) + std::string(32 - offset, '#');
      ASSERT_EQ(to, want) << "length " << n << ", offset " << offset;
    }
  }
}

// Every length from 0 to 40, a difference at each position or none: EqualBytes says equal
// exactly when every byte is.
TEST(Bytes, EqualBytesFindsADifferenceAtEveryPosition) {
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string a(n + 8, '\0');
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<char>('a' + i % 26);
    const std::string b = a;
    EXPECT_TRUE(EqualBytes(a.data() + 3, b.data() + 3, n)) << n;
    for (std::size_t at = 0; at < n; ++at) {
      std::string c = b;
      c[3 + at] = static_cast<char>(c[3 + at] ^ 0x20);
      EXPECT_FALSE(EqualBytes(a.data() + 3, c.data() + 3, n)) << n << " at " << at;
    }
    // A difference just outside the range does not count.
    std::string d = b;
    d[2] = '#';
    d[3 + n] = '#';
    EXPECT_TRUE(EqualBytes(a.data() + 3, d.data() + 3, n)) << n;
  }
}

}  // namespace
}  // namespace isms
