#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/allocator.h"
#include "cli/cli.h"

namespace {

// The library a bulk command runs on (cli/allocator.h), from the build (CMakeLists.txt); none in
// the builds without it (the sanitizers', the fuzzers', -DISMS_TCMALLOC=OFF).
#ifdef ISMS_BULK_ALLOCATOR
constexpr const char* kBulkAllocator = ISMS_BULK_ALLOCATOR;

bool BulkAllocatorAvailable() {
  return access(kBulkAllocator, R_OK) == 0;
}

// Starts this binary again with the bulk allocator preloaded, or returns (and the command runs
// on glibc's malloc) when it cannot.
void StartOnBulkAllocator(char** argv) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  // The path, not /proc/self/exe, so that the process keeps its name (`ps`, /proc/PID/comm).
  if (setenv("LD_PRELOAD", kBulkAllocator, 1) != 0 ||
      setenv(isms::cli::kAllocatorVariable, isms::cli::kPreloadedMarker, 1) != 0) {
    return;
  }
  execv(self, argv);
  unsetenv("LD_PRELOAD");
  unsetenv(isms::cli::kAllocatorVariable);
}
#else
bool BulkAllocatorAvailable() {
  return false;
}
void StartOnBulkAllocator(char** /*argv*/) {}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  using isms::cli::AllocatorStep;
  switch (isms::cli::ChooseAllocator(args, std::getenv(isms::cli::kAllocatorVariable),
                                     std::getenv("LD_PRELOAD"), BulkAllocatorAvailable())) {
    case AllocatorStep::kPreload: StartOnBulkAllocator(argv); break;
    case AllocatorStep::kPreloaded:
      // Nothing this process starts inherits the preload.
      unsetenv("LD_PRELOAD");
      unsetenv(isms::cli::kAllocatorVariable);
      break;
    case AllocatorStep::kUnknown:
      std::cerr << "isms: " << isms::cli::kAllocatorVariable << "="
                << std::getenv(isms::cli::kAllocatorVariable)
                << " is not one of auto, system: glibc's malloc is used\n";
      break;
    case AllocatorStep::kStay: break;
  }
  std::ios::sync_with_stdio(false);
  isms::SystemClock clock;
  int code = isms::cli::RunCli(args, std::cin, std::cout, std::cerr, clock);
  std::cout.flush();
  return code;
}
