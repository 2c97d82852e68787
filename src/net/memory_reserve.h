// Memory that `isms serve` reserves at start for its syslog listeners (--syslog-memory,
// docs/serve.md). The first burst of records otherwise faults in every page of the queue's and
// the batches' memory as it first uses it (the kernel zeroing each one): about 50,000 faults for
// the first million records, 7 % of the time of that burst in docs/benchmarks.md (run 27). Memory
// touched once at start and kept by the allocator is there when the burst comes.
#pragma once

#include <cstddef>
#include <string_view>

namespace isms::net {

// What ReserveMemory did.
struct MemoryReserve {
  // The allocator it configured: "tcmalloc" (`isms serve`'s, found at run time) or "glibc"
  // (whose freed memory stays with the thread's arena: the reserve serves the calling thread's
  // allocations there).
  std::string_view allocator;
  // The process's memory in transparent huge pages once the reserve is touched (Linux's
  // AnonHugePages; 0 where the system has none or does not say).
  std::size_t huge_bytes = 0;
};

// Has the allocator keep freed memory for later allocations instead of returning it to the
// system, then allocates `bytes` (in pieces, which lie in the heap), asks the system to back the
// heap with transparent huge pages (madvise MADV_HUGEPAGE; a million-record burst 4 % faster in
// docs/benchmarks.md run 28), faults in every page of the heap without changing it, writes every
// page of the pieces, and frees them, so that the memory is the allocator's own, faulted in.
// Call once, before the threads that will use it start. `bytes` 0 reserves nothing and changes
// nothing.
MemoryReserve ReserveMemory(std::size_t bytes);

// For glibc's malloc (a build configured with -DISMS_TCMALLOC=OFF, and the tests): blocks of up
// to 32 MiB come from the heap, and freed memory at its top is kept up to `at_least` (at least
// 512 MiB, at most 1 GiB) before it is returned. isms serve's syslog writer frees buffers of tens
// of MB at a time; by glibc's defaults they were mapped for each batch and returned after it, so
// that each batch's memory was faulted in and zeroed again (a fifth of the server's CPU time).
// With tcmalloc (`isms serve`'s: cli/allocator.h) this does nothing: its mallopt ignores these
// settings.
void KeepFreedMemory(std::size_t at_least = 0);

}  // namespace isms::net
