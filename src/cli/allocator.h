// Which memory allocator a command of the isms binary runs on.
//
// The binary itself uses glibc's malloc, which costs a command nothing at start. gperftools'
// tcmalloc is faster for the commands that allocate in bulk from several threads (an import of
// 200,000 findings takes about a quarter less time with it, `audit export` of a million records
// about a fifth less), but zeroing its tables at start costs every command about 900 page faults
// (`isms --version` 14.8 ms against 31.4 ms with it on a machine whose page faults are slow:
// docs/benchmarks.md, run 32). So only the bulk commands run on it: main() starts them again at
// once, the same binary with the same arguments and process id, with tcmalloc preloaded.
// ISMS_ALLOCATOR=system keeps every command on glibc's malloc (for a debugger or valgrind, say);
// a command started with LD_PRELOAD already set is left as it is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isms::cli {

// The environment variable that chooses: unset, empty or "auto" (the bulk commands on tcmalloc) or
// "system" (glibc's malloc for all). Set to "preloaded" in the environment of a command started
// again with tcmalloc preloaded, which then removes it and LD_PRELOAD from its own environment.
inline constexpr const char* kAllocatorVariable = "ISMS_ALLOCATOR";
inline constexpr const char* kPreloadedMarker = "preloaded";

// The bulk commands: a command line is one when its words after the program begin with one of
// these (all of a group's subcommands when it names only the group).
inline constexpr const char* kBulkCommands[] = {"serve",     "import",       "report",
                                                "recompute", "audit ingest", "audit export"};

// Whether a command line (args[0] the program) is one of kBulkCommands. A command line whose
// first word is an option is not (it runs as it is: the choice only ever costs speed).
bool IsBulkCommand(const std::vector<std::string>& args);

enum class AllocatorStep {
  kStay,       // run on the allocator the process has
  kPreload,    // start again with the bulk allocator preloaded
  kPreloaded,  // this process is that second start: clear the marker and LD_PRELOAD, then run
  kUnknown,    // ISMS_ALLOCATOR holds a value other than auto or system: say so, and stay
};

// The step for a command line, given ISMS_ALLOCATOR's and LD_PRELOAD's values (null when unset)
// and whether the bulk allocator's library is there to preload (false in builds without it).
AllocatorStep ChooseAllocator(const std::vector<std::string>& args, const char* isms_allocator,
                              const char* ld_preload, bool library_available);

}  // namespace isms::cli
