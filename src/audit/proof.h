// Inclusion and consistency proofs of RFC 9162 section 2.1.3 and 2.1.4, computed from any source
// of subtree hashes and verified with the RFC's iterative algorithms. See docs/audit-merkle.md.
//
// Proof hashes are ordered as in the RFC: the one nearest the leaf (or the boundary) first, the
// one nearest the root last.
//
// Proof generation asks a HashSource for the MTH of ranges produced by the RFC's recursive split
// of a tree of some size n: each such range is either an aligned subtree or a right edge
// [start, n) of the tree. A source backed by chunk subtree hashes can answer those even after the
// chunks' leaves are purged, as long as it keeps the hashes docs/audit-merkle.md lists.
//
// Thread-safety: a HashSource is not safe for concurrent use unless its implementation says so;
// the verification functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "audit/merkle.h"
#include "core/status.h"

namespace isms::audit {

// Where proof generation gets its hashes.
class HashSource {
 public:
  virtual ~HashSource() = default;
  // MTH of the leaves [start, start + size), size >= 1. NotFound when the source cannot tell
  // (leaves purged and no kept hash covers them, or beyond the log's end); other errors (I/O,
  // corruption) pass through to the caller of the proof function.
  virtual Result<Hash> SubtreeHash(uint64_t start, uint64_t size) = 0;
};

// A HashSource over leaf hashes held in memory, positions 0 .. Size() - 1. Caches the hashes of
// aligned subtrees of 64 leaves or more (they never change as leaves are appended), so repeated
// proofs over a large log cost O(log n) hashes each after the first. Memory: the leaves plus
// about one cached hash per 32 leaves.
class MemoryHashSource final : public HashSource {
 public:
  MemoryHashSource() = default;
  explicit MemoryHashSource(std::vector<Hash> leaf_hashes) : leaves_(std::move(leaf_hashes)) {}

  void Append(const Hash& leaf_hash) { leaves_.push_back(leaf_hash); }
  uint64_t Size() const { return leaves_.size(); }
  std::span<const Hash> Leaves() const { return leaves_; }

  Result<Hash> SubtreeHash(uint64_t start, uint64_t size) override;

 private:
  Hash Compute(uint64_t start, uint64_t size);

  std::vector<Hash> leaves_;
  std::unordered_map<uint64_t, Hash> cache_;  // key: 2 * start + size - 1, unique per aligned node
};

// A HashSource that knows only some hashes: the subtree hashes of purged chunks, the boundary
// hashes kept for checkpoints (AlignedCover in merkle.h), and the leaf hashes of live chunks.
// SubtreeHash(start, size) returns a known hash for exactly that range, or else splits the range
// as RFC 9162 does and combines the halves, down to single leaves; NotFound names the first leaf
// it could not obtain. Computed hashes are not cached: wrap it, or add the hashes you compute
// often (for instance the subtree hash of every complete chunk) with AddSubtree. Each kept hash
// is one hash-map entry, so add the leaves of the chunks a proof needs, not of the whole log.
class SparseHashSource final : public HashSource {
 public:
  // Records MTH([start, start + size)). Any range of an RFC 9162 tree may be added; adding the
  // same range twice keeps the last hash.
  void AddSubtree(uint64_t start, uint64_t size, const Hash& hash);
  // Records the leaf hashes of positions first, first + 1, ...
  void AddLeaves(uint64_t first, std::span<const Hash> leaf_hashes);

  Result<Hash> SubtreeHash(uint64_t start, uint64_t size) override;

 private:
  struct Key {
    uint64_t start;
    uint64_t size;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.start * 31 + k.size); }
  };
  std::unordered_map<Key, Hash, KeyHash> known_;
};

// MTH of the first `size` leaves of the source: the root of the tree at that size.
// EmptyRoot() for size 0.
Result<Hash> RootAt(uint64_t size, HashSource& source);

// RFC 9162 2.1.3.1 PATH(index, D[0:size]). InvalidArgument unless index < size.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, HashSource& source);

// RFC 9162 2.1.4.1 PROOF(m, D[0:n]). InvalidArgument unless m <= n. Empty when m == 0 or m == n
// (VerifyConsistency accepts exactly those empty proofs).
Result<std::vector<Hash>> ConsistencyProof(uint64_t m, uint64_t n, HashSource& source);

// The root that an inclusion proof leads to (RFC 9162 2.1.3.2 steps 1-4). InvalidArgument unless
// index < size; Corruption when the proof has the wrong number of hashes for (index, size).
Result<Hash> RootFromInclusionProof(const Hash& leaf_hash, uint64_t index, uint64_t size,
                                    std::span<const Hash> proof);

// RFC 9162 2.1.3.2: OK when `proof` shows the leaf with hash `leaf_hash` at position `index` of
// the tree of `size` leaves with root `root`; otherwise Corruption (InvalidArgument for an index
// outside the tree), saying which check failed.
Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                       std::span<const Hash> proof, const Hash& root);

// RFC 9162 2.1.4.2: OK when `proof` shows that the tree of m leaves with root root_m is a prefix
// of the tree of n leaves with root root_n; otherwise Corruption (InvalidArgument when m > n).
// For m == n the proof must be empty and the roots equal; for m == 0 the proof must be empty and
// root_m must be EmptyRoot().
Status VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                         std::span<const Hash> proof);

}  // namespace isms::audit
