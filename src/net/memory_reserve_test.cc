#include "net/memory_reserve.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace isms::net {
namespace {

long MinorFaultsOfThisThread() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}

// --syslog-memory 0: no memory touched, and the allocator named.
TEST(ReserveMemory, NothingAskedTouchesNothing) {
  const long before = MinorFaultsOfThisThread();
  // The tests link glibc's malloc; `isms serve` runs on tcmalloc (cli/allocator.h).
  EXPECT_EQ(ReserveMemory(0).allocator, "glibc");
  EXPECT_LT(MinorFaultsOfThisThread() - before, 16) << "pages were touched for a reserve of 0";
}

// Memory of the heap that the reserve's pieces do not cover (the allocator's own, earlier
// allocations' not yet written) is faulted in by the reserve too, where the kernel can do that
// without changing it (MADV_POPULATE_WRITE): writing such a block afterwards takes few faults.
// Before the other tests that reserve: the memory they free stays in the heap, faulted in.
TEST(ReserveMemory, TheRestOfTheHeapIsFaultedInToo) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator maps its own memory";
#else
  constexpr std::size_t kMiB = 1 << 20;
  KeepFreedMemory();  // blocks below 32 MiB come from the heap
  auto* early = static_cast<char*>(std::malloc(8 * kMiB));  // allocated, never written
  ASSERT_NE(early, nullptr);
  char probe[4096 * 2];
  char* page = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(probe) + 4095) & ~4095ull);
  if (madvise(page, 4096, MADV_POPULATE_WRITE) != 0) {
    std::free(early);
    GTEST_SKIP() << "this kernel cannot fault pages in without writing them (Linux < 5.14)";
  }
  ReserveMemory(16 * kMiB);
  const long before = MinorFaultsOfThisThread();
  for (std::size_t j = 0; j < 8 * kMiB; j += 4096) static_cast<volatile char*>(early)[j] = 3;
  const long faults = MinorFaultsOfThisThread() - before;
  std::free(early);
  EXPECT_LT(faults, 64) << "of 2,048 pages of a block allocated before the reserve, " << faults
                        << " were faulted in when first written";
#endif
}

// What isms serve reserves is there, faulted in, when the records come: allocating and
// writing most of it again takes few page faults.
TEST(ReserveMemory, ReservedMemoryIsUsedAgainWithoutPageFaults) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator keeps freed memory in quarantine";
#else
  constexpr std::size_t kMiB = 1 << 20;
  ASSERT_EQ(ReserveMemory(64 * kMiB).allocator, "glibc");
  const long before = MinorFaultsOfThisThread();
  std::vector<char*> blocks;
  constexpr std::size_t kBlocks = 48;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    auto* p = static_cast<char*>(std::malloc(kMiB));
    ASSERT_NE(p, nullptr);
    for (std::size_t j = 0; j < kMiB; j += 4096) static_cast<volatile char*>(p)[j] = 2;
    blocks.push_back(p);
  }
  const long faults = MinorFaultsOfThisThread() - before;
  for (char* p : blocks) std::free(p);
  const long pages = static_cast<long>(kBlocks * kMiB / 4096);
  EXPECT_LT(faults, pages / 10) << "of " << pages << " pages written, " << faults
                                << " were faulted in afresh";
#endif
}

// Whether the system gives transparent huge pages to memory that asks for them: "always" or
// "madvise" (not "never") in /sys/kernel/mm/transparent_hugepage/enabled.
[[maybe_unused]] bool HugePagesOnRequest() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  return modes.find("[always]") != std::string::npos ||
         modes.find("[madvise]") != std::string::npos;
}

// The reserve is backed by huge pages where the system has them, and says so: most of it (the
// edges of the heap aside), whether this is the process's first reserve or not.
TEST(ReserveMemory, ReserveIsBackedByHugePages) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator maps its own memory";
#else
  if (!HugePagesOnRequest()) {
    GTEST_SKIP() << "transparent huge pages are off on this system "
                    "(/sys/kernel/mm/transparent_hugepage/enabled)";
  }
  constexpr std::size_t kMiB = 1 << 20;
  const MemoryReserve r = ReserveMemory(64 * kMiB);
  EXPECT_GE(r.huge_bytes, 32 * kMiB) << "the reserve of 64 MiB is not in huge pages";
#endif
}

}  // namespace
}  // namespace isms::net
