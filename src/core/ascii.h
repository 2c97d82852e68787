// ASCII case for identifiers, keywords and encodings in reports and policies: letters A-Z and
// a-z only, never the C locale (which std::tolower consults on every call, and which could
// change the answer for bytes above 127).
#pragma once

#include <cstddef>
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

}  // namespace isms
