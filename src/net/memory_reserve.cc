#include "net/memory_reserve.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
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

std::string_view ReserveMemory(std::size_t bytes) {
  std::string_view allocator = "glibc";
  bool keeps = false;
#ifdef ISMS_HAVE_MALLOC_EXTENSION
  if (MallocExtension* t = Tcmalloc()) {
    allocator = "tcmalloc";
    if (bytes == 0) return allocator;
    // Rate 0: its page heap never hands free pages back to the system by itself.
    t->SetMemoryReleaseRate(0);
    keeps = true;
  }
#endif
  if (bytes == 0) return allocator;
  if (!keeps) KeepFreedMemory(bytes);  // the pieces below come from glibc's heap and stay there
  const std::size_t page = static_cast<std::size_t>(std::max(4096L, sysconf(_SC_PAGESIZE)));
  std::vector<char*> pieces;
  pieces.reserve(bytes / kPiece + 1);
  for (std::size_t done = 0; done < bytes; done += kPiece) {
    const std::size_t n = std::min(kPiece, bytes - done);
    auto* p = static_cast<char*>(std::malloc(n));
    if (p == nullptr) break;  // less than asked for: what could be had is reserved
    // volatile: a store the compiler may not drop for memory freed unread.
    for (std::size_t i = 0; i < n; i += page) static_cast<volatile char*>(p)[i] = 1;
    pieces.push_back(p);
  }
  for (char* p : pieces) std::free(p);
  return allocator;
}

}  // namespace isms::net
