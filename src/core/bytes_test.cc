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

}  // namespace
}  // namespace isms
