// Many independent SHA-256 hashes at once: the leaves of a batch, the nodes of one tree level.
// Each result is bit-identical to LeafHash / NodeHash (merkle.h); only the speed differs.
//
// One SHA-256 is a single chain of dependent rounds, so hashing messages one by one leaves most
// of the CPU idle. These functions keep several messages in flight, by the first of these the
// CPU allows (examined once, on first use):
//   - 16 in the 32-bit elements of AVX-512 registers (AVX-512 F and BW), on an Intel CPU or one
//     without the SHA extensions; batches of fewer than 8 messages, and the last few long
//     messages of a batch, go to the next path when the CPU has it;
//   - 4 with the SHA extensions (CPUID leaf 7, EBX bit 29), their rounds interleaved so that one
//     message's rounds fill the latency of another's;
//   - LeafHash / NodeHash one by one (OpenSSL).
// A message that ends (messages may differ in length) hands its place to the next. See
// docs/audit-merkle.md.
//
// Thread-safety: every function may be called from any thread at the same time; they keep no
// state beyond the CPU check and the test override below.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "audit/merkle.h"

namespace isms::audit {

// out[i] = LeafHash(records[i]) for every i. `out` holds records.size() hashes; it must not
// overlap the records.
void LeafHashes(std::span<const std::string_view> records, Hash* out);

// out[i] = NodeHash(children[2i], children[2i + 1]) for i < children.size() / 2 (an odd last
// child is ignored). `out` holds children.size() / 2 hashes and must not overlap `children`: to
// go up a tree level by level, alternate between two buffers.
void NodeHashes(std::span<const Hash> children, Hash* out);

// out[i] = SHA-256(messages[i]), with no RFC 9162 prefix: the plain FIPS 180-4 hash, through the
// same paths as above (for tests against the published vectors).
void Sha256s(std::span<const std::string_view> messages, Hash* out);

// How the functions above compute: -1 (the default) chooses by the CPU; 0 forces the one-by-one
// OpenSSL fallback; 1, 2, 3 or 4 forces that many interleaved messages with the SHA extensions;
// 16 forces the AVX-512 path for every batch, however small, to its end. A forced path the CPU
// lacks falls back to OpenSSL. For tests and benchmarks; it applies to every thread at once, so
// set it only while no other thread hashes.
void SetSha256LanesForTesting(int lanes);

// The number of messages the functions above keep in flight now: 16 on the AVX-512 path, 1 to 4
// with the SHA extensions, 0 when they fall back to OpenSSL.
int Sha256Lanes();

// Fills in the leaf hashes (member `leaf_hash`) of the entries given to Add (member `bytes` is the
// leaf), several at a time (LeafHashes): one SHA-256 alone leaves the CPU's SHA unit mostly idle.
// An added entry must stay where it is until Flush, which must be called before its hash is read.
template <typename Entry>
class LeafHasher {
 public:
  void Add(Entry& e) {
    records_[n_] = e.bytes;
    entries_[n_++] = &e;
    if (n_ == kSlice) Flush();
  }
  void Flush() {
    LeafHashes({records_.data(), n_}, hashes_.data());
    for (std::size_t i = 0; i < n_; ++i) entries_[i]->leaf_hash = hashes_[i];
    n_ = 0;
  }

 private:
  // Enough to keep every lane busy; small enough for the stack of any thread.
  static constexpr std::size_t kSlice = 128;
  std::size_t n_ = 0;
  std::array<std::string_view, kSlice> records_;
  std::array<Entry*, kSlice> entries_;
  std::array<Hash, kSlice> hashes_;
};

}  // namespace isms::audit
