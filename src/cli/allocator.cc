#include "cli/allocator.h"

#include <algorithm>
#include <string_view>

namespace isms::cli {

bool IsBulkCommand(const std::vector<std::string>& args) {
  for (std::string_view command : kBulkCommands) {
    std::size_t i = 1;  // the word of args being matched
    while (!command.empty()) {
      const std::string_view word = command.substr(0, command.find(' '));
      if (i >= args.size() || args[i] != word) break;
      command.remove_prefix(std::min(command.size(), word.size() + 1));
      ++i;
    }
    if (command.empty()) return true;
  }
  return false;
}

AllocatorStep ChooseAllocator(const std::vector<std::string>& args, const char* isms_allocator,
                              const char* ld_preload, bool library_available) {
  // Empty is taken as unset.
  const std::string_view choice =
      isms_allocator != nullptr && *isms_allocator != '\0' ? isms_allocator : "auto";
  if (choice == kPreloadedMarker) return AllocatorStep::kPreloaded;
  if (choice == "system") return AllocatorStep::kStay;
  if (choice != "auto") return AllocatorStep::kUnknown;
  if (ld_preload != nullptr && *ld_preload != '\0') return AllocatorStep::kStay;
  if (!library_available || !IsBulkCommand(args)) return AllocatorStep::kStay;
  return AllocatorStep::kPreload;
}

}  // namespace isms::cli
