// The Merkle tree of an audit or ledger log, hashed exactly as RFC 9162 (Certificate
// Transparency v2) section 2.1: a leaf hash is SHA-256(0x00 || record), an interior node hash is
// SHA-256(0x01 || left || right), and the tree of n > 1 leaves splits at the largest power of two
// smaller than n. The tree of no leaves has the root SHA-256(""). See docs/audit-merkle.md.
//
// Terms used here and in proof.h:
//   - a range [start, start + size) of leaf positions;
//   - an aligned subtree: size a power of two and start a multiple of size. Its hash never
//     changes as the log grows; an audit chunk is one aligned subtree;
//   - MTH(range): the RFC 9162 Merkle Tree Hash of the leaves of a range taken as a tree.
//
// Thread-safety: the free functions are safe to call from any thread (each thread keeps its own
// hashing context). A CompactTree is a value: copy freely, guard shared instances yourself.
// SHA-256 cannot fail short of memory exhaustion; if OpenSSL reports a failure anyway the process
// aborts rather than return a wrong hash.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace isms::audit {

using Hash = std::array<uint8_t, 32>;

// SHA-256(0x00 || record): the hash of one audit record as a leaf.
Hash LeafHash(std::span<const uint8_t> record);
Hash LeafHash(std::string_view record);

// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);

// SHA-256 of nothing: the root of the empty tree.
const Hash& EmptyRoot();

// Lower-case hexadecimal, 64 characters; and its inverse (either case accepted).
std::string HashHex(const Hash& hash);
Result<Hash> HashFromHex(std::string_view hex);

// The largest power of two strictly smaller than n: the RFC 9162 split point. Requires n >= 2.
uint64_t SplitPoint(uint64_t n);

// True when [start, start + size) is an aligned subtree (size a power of two, start a multiple).
bool IsAlignedSubtree(uint64_t start, uint64_t size);

// MTH of the given leaf hashes, in order; EmptyRoot() for none. Computes exactly n - 1 node
// hashes with O(log n) memory and no allocation, several at a time (CompactTree::AppendAll). For
// the leaves [begin, end) of a larger vector pass `std::span(leaves).subspan(begin, end - begin)`;
// when that range is an aligned subtree the result is the subtree hash a stored chunk keeps after
// its leaves are purged.
Hash MerkleRoot(std::span<const Hash> leaf_hashes);

// One range of leaf positions.
struct Subtree {
  uint64_t start = 0;
  uint64_t size = 0;
  uint64_t end() const { return start + size; }
  friend bool operator==(const Subtree&, const Subtree&) = default;
};

// The unique shortest list of aligned subtrees that exactly covers [begin, end), left to right
// (sizes first rise, then fall). Empty when begin >= end. At most 2 * 64 entries.
//
// Retention uses it: for a checkpoint of size m inside a chunk [c, c + 2^k) that is to be purged,
// keep the hashes of AlignedCover(c, m) and AlignedCover(m, c + 2^k) (its boundary hashes) beside
// the chunk's own subtree hash; then roots at m and every inclusion and consistency proof that
// involves m can still be computed (see SparseHashSource in proof.h).
std::vector<Subtree> AlignedCover(uint64_t begin, uint64_t end);

// An append-only Merkle tree that keeps only its right frontier: the hashes of the aligned
// subtrees that cover [0, Size()), one per set bit of Size(), largest (leftmost) first. Appending
// costs one leaf-to-root merge (amortised two node hashes); Root() costs popcount(Size()) - 1.
// No allocation: the frontier lives in a fixed array.
class CompactTree {
 public:
  CompactTree() = default;

  // Rebuilds a tree from its size and frontier (as returned by Frontier()). InvalidArgument
  // when the number of hashes is not popcount(size).
  static Result<CompactTree> FromFrontier(uint64_t size, std::span<const Hash> frontier);

  // Restores a tree written by Serialize(). Corruption when the bytes are not such a tree.
  static Result<CompactTree> Deserialize(std::span<const uint8_t> bytes);

  void Append(const Hash& leaf_hash);
  // Appends and, when the new leaf completes an aligned subtree of 2^level leaves (Size() is then
  // a multiple of 2^level), sets *subtree to that subtree's hash — computed by the merge anyway,
  // so a log that stores chunk roots need not hash its chunks again. Returns whether it did.
  bool Append(const Hash& leaf_hash, int level, Hash* subtree);
  // Appends the leaves in order, with the same result as Append(leaf, ...) one by one, but
  // hashes each aligned run of leaves level by level with NodeHashes (sha256_lanes.h), several
  // nodes at a time. When `subtrees` is given, the hash of each aligned subtree of 2^level
  // leaves the new leaves complete is appended to it, leftmost first: the first is that of the
  // subtree holding leaf Size() before the call.
  void AppendAll(std::span<const Hash> leaf_hashes, int level = 0,
                 std::vector<Hash>* subtrees = nullptr);
  uint64_t Size() const { return size_; }
  // MTH of all leaves appended so far; EmptyRoot() when none.
  Hash Root() const;
  // The frontier hashes, leftmost (largest subtree) first; AlignedCover(0, Size()) gives their
  // ranges.
  std::span<const Hash> Frontier() const { return {frontier_.data(), count_}; }

  // Version byte 0x01, Size() as 8 bytes big-endian, then the frontier hashes (32 bytes each).
  std::vector<uint8_t> Serialize() const;

  friend bool operator==(const CompactTree& a, const CompactTree& b);

 private:
  // Appends the hash of an aligned subtree of 2^height leaves (Size() must be a multiple of
  // 2^height) and merges; reports to `subtrees` the subtree of 2^level leaves it completes.
  void Push(const Hash& hash, int height, int level, std::vector<Hash>* subtrees);

  uint64_t size_ = 0;
  size_t count_ = 0;
  std::array<Hash, 65> frontier_{};  // one spare: Append pushes before it merges
};

}  // namespace isms::audit
