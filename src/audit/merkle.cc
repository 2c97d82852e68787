// SHA256_Init/Update/Final (see Digest); defined before any OpenSSL header is read.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "audit/merkle.h"

#include <openssl/sha.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "audit/sha256_lanes.h"

namespace isms::audit {
namespace {

[[noreturn]] void HashFailure() {
  std::fputs("isms: OpenSSL SHA-256 failed; aborting rather than writing a wrong hash\n", stderr);
  std::abort();
}

// SHA-256 through OpenSSL's SHA256_Init/Update/Final: the same implementation (SHA extensions
// where the CPU has them) as EVP's, without EVP's per-digest provider dispatch, which cost as
// much as the compression of a 65-byte node hash itself. Deprecated in OpenSSL 3 but kept by it
// (OPENSSL_SUPPRESS_DEPRECATED above).
Hash Digest(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, const uint8_t* c,
            size_t c_len) {
  SHA256_CTX ctx;
  Hash out;
  if (SHA256_Init(&ctx) != 1 || (a_len > 0 && SHA256_Update(&ctx, a, a_len) != 1) ||
      (b_len > 0 && SHA256_Update(&ctx, b, b_len) != 1) ||
      (c_len > 0 && SHA256_Update(&ctx, c, c_len) != 1) || SHA256_Final(out.data(), &ctx) != 1) {
    HashFailure();
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Hash LeafHash(std::span<const uint8_t> record) {
  static constexpr uint8_t kLeafPrefix = 0x00;
  return Digest(&kLeafPrefix, 1, record.data(), record.size(), nullptr, 0);
}

Hash LeafHash(std::string_view record) {
  return LeafHash(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buf[1 + 2 * 32];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Digest(buf, sizeof buf, nullptr, 0, nullptr, 0);
}

const Hash& EmptyRoot() {
  static const Hash empty = Digest(nullptr, 0, nullptr, 0, nullptr, 0);
  return empty;
}

std::string HashHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < hash.size(); ++i) {
    out[2 * i] = kDigits[hash[i] >> 4];
    out[2 * i + 1] = kDigits[hash[i] & 0x0f];
  }
  return out;
}

Result<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 64) {
    return Status::InvalidArgument("a SHA-256 hash is 64 hexadecimal digits, got " +
                                   std::to_string(hex.size()) + " characters");
  }
  Hash out;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigit(hex[2 * i]);
    int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("a SHA-256 hash must be hexadecimal; character " +
                                     std::to_string(hi < 0 ? 2 * i + 1 : 2 * i + 2) + " is not");
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

uint64_t SplitPoint(uint64_t n) {
  return std::bit_floor(n - 1);
}

bool IsAlignedSubtree(uint64_t start, uint64_t size) {
  return std::has_single_bit(size) && start % size == 0;
}

Hash MerkleRoot(std::span<const Hash> leaf_hashes) {
  CompactTree tree;
  tree.AppendAll(leaf_hashes);
  return tree.Root();
}

std::vector<Subtree> AlignedCover(uint64_t begin, uint64_t end) {
  std::vector<Subtree> cover;
  while (begin < end) {
    uint64_t size = std::bit_floor(end - begin);
    if (begin != 0) size = std::min(size, begin & -begin);
    cover.push_back({begin, size});
    begin += size;
  }
  return cover;
}

Result<CompactTree> CompactTree::FromFrontier(uint64_t size, std::span<const Hash> frontier) {
  if (frontier.size() != static_cast<size_t>(std::popcount(size))) {
    return Status::InvalidArgument("a compact tree of " + std::to_string(size) + " leaves has " +
                                   std::to_string(std::popcount(size)) + " frontier hashes, got " +
                                   std::to_string(frontier.size()));
  }
  CompactTree tree;
  tree.size_ = size;
  tree.count_ = frontier.size();
  std::copy(frontier.begin(), frontier.end(), tree.frontier_.begin());
  return tree;
}

Result<CompactTree> CompactTree::Deserialize(std::span<const uint8_t> bytes) {
  if (bytes.size() < 9 || bytes[0] != 0x01) {
    return Status::Corruption(
        "stored compact Merkle tree is not in format 1 (version byte 0x01, 8-byte size, hashes)");
  }
  uint64_t size = 0;
  for (size_t i = 1; i < 9; ++i) size = size << 8 | bytes[i];
  size_t count = static_cast<size_t>(std::popcount(size));
  if (bytes.size() != 9 + 32 * count) {
    return Status::Corruption("stored compact Merkle tree of " + std::to_string(size) +
                              " leaves should be " + std::to_string(9 + 32 * count) +
                              " bytes long, is " + std::to_string(bytes.size()));
  }
  CompactTree tree;
  tree.size_ = size;
  tree.count_ = count;
  for (size_t i = 0; i < count; ++i) {
    std::copy_n(bytes.begin() + 9 + 32 * i, 32, tree.frontier_[i].begin());
  }
  return tree;
}

void CompactTree::Append(const Hash& leaf_hash) {
  frontier_[count_++] = leaf_hash;
  // Each trailing one bit of the old size is a subtree the new leaf completes.
  for (uint64_t s = size_; s & 1; s >>= 1) {
    --count_;
    frontier_[count_ - 1] = NodeHash(frontier_[count_ - 1], frontier_[count_]);
  }
  ++size_;
}

bool CompactTree::Append(const Hash& leaf_hash, int level, Hash* subtree) {
  frontier_[count_++] = leaf_hash;
  bool got = level == 0;
  if (got) *subtree = leaf_hash;
  int merged = 0;
  for (uint64_t s = size_; s & 1; s >>= 1) {
    --count_;
    frontier_[count_ - 1] = NodeHash(frontier_[count_ - 1], frontier_[count_]);
    if (++merged == level) {
      *subtree = frontier_[count_ - 1];
      got = true;
    }
  }
  ++size_;
  return got;
}

void CompactTree::AppendAll(std::span<const Hash> leaf_hashes, int level,
                            std::vector<Hash>* subtrees) {
  // The longest run hashed level by level: its levels fit in 6 KB of stack, and a longer run
  // would only move the few nodes of its top levels, hashed one or two at a time, further up.
  constexpr int kRunBits = 8;
  std::array<Hash, (1 << kRunBits) / 2> odd;   // levels 1, 3, ... of the run
  std::array<Hash, (1 << kRunBits) / 4> even;  // levels 2, 4, ...
  size_t i = 0;
  while (i < leaf_hashes.size()) {
    // The largest aligned subtree that starts at Size() and that the leaves left fill.
    const int k =
        std::min({std::countr_zero(size_),
                  static_cast<int>(std::bit_width(leaf_hashes.size() - i)) - 1, kRunBits});
    std::span<const Hash> below = leaf_hashes.subspan(i, size_t{1} << k);
    if (subtrees != nullptr && level == 0 && k > 0) {
      subtrees->insert(subtrees->end(), below.begin(), below.end());
    }
    for (int h = 1; h <= k; ++h) {
      Hash* up = h % 2 == 1 ? odd.data() : even.data();
      NodeHashes(below, up);
      below = {up, below.size() / 2};
      if (subtrees != nullptr && h == level && h < k) {
        subtrees->insert(subtrees->end(), below.begin(), below.end());
      }
    }
    Push(below[0], k, level, subtrees);
    i += size_t{1} << k;
  }
}

void CompactTree::Push(const Hash& hash, int height, int level, std::vector<Hash>* subtrees) {
  if (subtrees != nullptr && height == level) subtrees->push_back(hash);
  frontier_[count_++] = hash;
  // Each trailing one bit of the old size, from bit `height` up, is a subtree this one completes.
  int merged = height;
  for (uint64_t s = size_ >> height; s & 1; s >>= 1) {
    --count_;
    frontier_[count_ - 1] = NodeHash(frontier_[count_ - 1], frontier_[count_]);
    if (++merged == level && subtrees != nullptr) subtrees->push_back(frontier_[count_ - 1]);
  }
  size_ += uint64_t{1} << height;
}

Hash CompactTree::Root() const {
  if (count_ == 0) return EmptyRoot();
  Hash root = frontier_[count_ - 1];
  for (size_t i = count_ - 1; i-- > 0;) root = NodeHash(frontier_[i], root);
  return root;
}

std::vector<uint8_t> CompactTree::Serialize() const {
  std::vector<uint8_t> out;
  out.reserve(9 + 32 * count_);
  out.push_back(0x01);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(size_ >> shift));
  for (size_t i = 0; i < count_; ++i)
    out.insert(out.end(), frontier_[i].begin(), frontier_[i].end());
  return out;
}

bool operator==(const CompactTree& a, const CompactTree& b) {
  return a.size_ == b.size_ && std::equal(a.Frontier().begin(), a.Frontier().end(),
                                          b.Frontier().begin(), b.Frontier().end());
}

}  // namespace isms::audit
