#include "net/memory_reserve.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

// Only in the builds that link the isms binary with tcmalloc (src/net/CMakeLists.txt): the
// sanitizers' builds never do, and their vptr check would need tcmalloc's type information at
// link time.
#if defined(ISMS_WITH_TCMALLOC) && __has_include(<gperftools/malloc_extension.h>)
#include <gperftools/malloc_extension.h>
#define ISMS_HAVE_MALLOC_EXTENSION 1
#endif

namespace isms::net {
namespace {

// Pieces below glibc's mmap threshold as KeepFreedMemory sets it, so that they come from (and go
// back to) its heap rather than from mappings of their own.
constexpr std::size_t kPiece = 16 << 20;

#ifdef ISMS_HAVE_MALLOC_EXTENSION
// tcmalloc's extension when tcmalloc is the process's allocator, else null. Looked up at run
// time: only the isms binary links tcmalloc, and the tests that call this do not.
MallocExtension* Tcmalloc() {
  using Instance = MallocExtension* (*)();
  void* f = dlsym(RTLD_DEFAULT, "_ZN15MallocExtension8instanceEv");
  return f != nullptr ? reinterpret_cast<Instance>(f)() : nullptr;
}
#endif

// Asks for transparent huge pages for the whole heap (madvise MADV_HUGEPAGE; ignored by a system
// without them), then faults in every page of it that is not yet (MADV_POPULATE_WRITE, Linux 5.14
// and later; nothing elsewhere), without changing what any page holds: the reserve's pieces,
// which lie in the heap, and the allocator's own memory between and before them (its
// metadata's, earlier allocations'), which a burst would otherwise fault in as it first used it,
// a few thousand 4 KiB pages.
void PopulateHeap() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() < 6 || line.compare(line.size() - 6, 6, "[heap]") != 0) continue;
    unsigned long long from = 0, to = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx", &from, &to) != 2 || to <= from) continue;
    void* const at = reinterpret_cast<void*>(static_cast<std::uintptr_t>(from));
    const auto n = static_cast<std::size_t>(to - from);
    (void)madvise(at, n, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
    (void)madvise(at, n, MADV_POPULATE_WRITE);
#endif
  }
}

// The process's anonymous memory in transparent huge pages, in bytes (0 when not known).
std::size_t AnonHugeBytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  while (in >> key) {
    if (key == "AnonHugePages:") {
      std::size_t kb = 0;
      return in >> kb ? kb << 10 : 0;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

}  // namespace

void KeepFreedMemory(std::size_t at_least) {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(
                                std::max<std::size_t>(at_least, 512 << 20), std::size_t{1} << 30)));
#else
  (void)at_least;
#endif
}

MemoryReserve ReserveMemory(std::size_t bytes) {
  MemoryReserve r{"glibc", 0};
  bool keeps = false;
#ifdef ISMS_HAVE_MALLOC_EXTENSION
  if (MallocExtension* t = Tcmalloc()) {
    r.allocator = "tcmalloc";
    if (bytes == 0) return r;
    // Rate 0: its page heap never hands free pages back to the system by itself.
    t->SetMemoryReleaseRate(0);
    keeps = true;
  }
#endif
  if (bytes == 0) return r;
  if (!keeps) KeepFreedMemory(bytes);  // the pieces below come from glibc's heap and stay there
  const std::size_t page = static_cast<std::size_t>(std::max(4096L, sysconf(_SC_PAGESIZE)));
  std::vector<char*> pieces;
  pieces.reserve(bytes / kPiece + 1);
  for (std::size_t done = 0; done < bytes; done += kPiece) {
    const std::size_t n = std::min(kPiece, bytes - done);
    auto* p = static_cast<char*>(std::malloc(n));
    if (p == nullptr) break;  // less than asked for: what could be had is reserved
    pieces.push_back(p);
  }
  // Before the first touch, so that the pieces are faulted in as huge pages.
  PopulateHeap();
  // Each page written all the same: where the kernel cannot populate, this faults them in.
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const std::size_t n = std::min(kPiece, bytes - k * kPiece);
    // volatile: a store the compiler may not drop for memory freed unread.
    for (std::size_t i = 0; i < n; i += page) static_cast<volatile char*>(pieces[k])[i] = 1;
  }
  r.huge_bytes = AnonHugeBytes();
  for (char* p : pieces) std::free(p);
  return r;
}

}  // namespace isms::net
