#include "cli/allocator.h"

#include <string_view>

namespace isms::cli {

bool IsBulkCommand(const std::vector<std::string>& args) {
  if (args.size() < 2) return false;
  const std::string_view first = args[1];
  if (first == "serve" || first == "import" || first == "report" || first == "recompute") {
    return true;
  }
  if (first == "audit" && args.size() >= 3) return args[2] == "ingest" || args[2] == "export";
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
