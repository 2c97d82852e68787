#include "core/ascii.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace isms
