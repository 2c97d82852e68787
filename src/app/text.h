// Lists stored in one text column: joined with a separator that the items never hold.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isms::app {

std::string Join(const std::vector<std::string>& items, char separator);
// The non-empty items of `text` between separators.
std::vector<std::string> Split(std::string_view text, char separator);

}  // namespace isms::app
