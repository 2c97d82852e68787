// Text helpers: lists stored in one text column (joined with a separator that the items never
// hold), and the hex SHA-256 that reports, sessions and imports store of their bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isms::app {

std::string Join(const std::vector<std::string>& items, char separator);
// The non-empty items of `text` between separators.
std::vector<std::string> Split(std::string_view text, char separator);

// The SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace isms::app
