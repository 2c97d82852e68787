#include "core/ascii.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace isms {
namespace {

TEST(Ascii, LettersOnlyChangeCase) {
  EXPECT_EQ(AsciiLower('A'), 'a');
  EXPECT_EQ(AsciiLower('Z'), 'z');
  EXPECT_EQ(AsciiLower('a'), 'a');
  EXPECT_EQ(AsciiLower('@'), '@');  // the byte before 'A'
  EXPECT_EQ(AsciiLower('['), '[');  // the byte after 'Z'
  EXPECT_EQ(AsciiLower('\xC3'), '\xC3');
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    if (ch >= 'A' && ch <= 'Z') continue;
    EXPECT_EQ(AsciiLower(ch), ch) << c;
  }
}

TEST(Ascii, EqualsIgnoreCaseComparesAsciiLettersWithoutCase) {
  EXPECT_TRUE(EqualsIgnoreCase("UTF-8", "utf-8"));
  EXPECT_TRUE(EqualsIgnoreCase("cve-2024-1", "CVE-2024-1"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("UTF-8", "UTF-16"));
  EXPECT_FALSE(EqualsIgnoreCase("UTF-8", "UTF_8"));
  EXPECT_FALSE(EqualsIgnoreCase("\xC3\x89", "\xC3\xA9")) << "É and é are not ASCII letters";
  static_assert(EqualsIgnoreCase("Critical", "CRITICAL"));
}

// The byte-at-a-time answers the word-at-a-time scans must give.
std::size_t PrintUsAsciiEndByBytes(std::string_view s, std::size_t from) {
  while (from < s.size() && static_cast<unsigned char>(s[from]) >= 33 &&
         static_cast<unsigned char>(s[from]) <= 126) {
    ++from;
  }
  return from;
}
std::size_t SpaceOrTabAtByBytes(std::string_view s, std::size_t from) {
  while (from < s.size() && s[from] != ' ' && s[from] != '\t') ++from;
  return from;
}

TEST(Ascii, ScansFindEveryStopByteAtEveryPlaceOfAWord) {
  // Every byte value, at every offset of texts up to three words long, after runs of the
  // bytes nearest the bounds (33 and 126 are printable, 32 and 127 are not; 8, 9, 10, 31, 33
  // beside the tab and the space).
  for (const char fill : {'a', '!', '~', '\x08', '\x0a', '\x1f', '\xff', '\x80'}) {
    for (int b = 0; b < 256; ++b) {
      for (std::size_t len = 1; len <= 24; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
          std::string t(len, fill);
          t[at] = static_cast<char>(b);
          for (std::size_t from : {std::size_t{0}, std::size_t{1}, at}) {
            if (from > len) continue;
            ASSERT_EQ(PrintUsAsciiEnd(t, from), PrintUsAsciiEndByBytes(t, from))
                << "byte " << b << " at " << at << " of " << len << " from " << from;
            ASSERT_EQ(SpaceOrTabAt(t, from), SpaceOrTabAtByBytes(t, from))
                << "byte " << b << " at " << at << " of " << len << " from " << from;
          }
        }
      }
    }
  }
}

TEST(Ascii, ScansAgreeWithByteLoopsOnRandomTexts) {
  std::mt19937 rng(20261130);
  for (int i = 0; i < 20000; ++i) {
    std::string t(rng() % 40, ' ');
    // Mostly printable, with spaces, tabs, control and high bytes now and then.
    for (char& c : t) {
      const unsigned r = rng() % 16;
      c = r == 0   ? ' '
          : r == 1 ? '\t'
          : r == 2 ? static_cast<char>(rng() % 256)
                   : static_cast<char>(33 + rng() % 94);
    }
    const std::size_t from = t.empty() ? 0 : rng() % (t.size() + 1);
    ASSERT_EQ(PrintUsAsciiEnd(t, from), PrintUsAsciiEndByBytes(t, from)) << t;
    ASSERT_EQ(SpaceOrTabAt(t, from), SpaceOrTabAtByBytes(t, from)) << t;
  }
  EXPECT_EQ(PrintUsAsciiEnd("2026-11-30T00:00:00Z host", 0), 20u);
  EXPECT_EQ(SpaceOrTabAt("1732838400.123    145", 0), 14u);
  EXPECT_EQ(SpaceOrTabAt("", 0), 0u);
}

}  // namespace
}  // namespace isms
