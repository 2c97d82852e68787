#include "audit/proof.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <string>
#include <string_view>

namespace isms::audit {
namespace {

constexpr uint64_t kCacheMinSize = 64;

// Builds an error message with one allocation: numbers in decimal, hashes in hexadecimal.
class Msg {
 public:
  Msg() { out_.reserve(240); }
  Msg&& operator<<(std::string_view text) && {
    out_.append(text);
    return std::move(*this);
  }
  Msg&& operator<<(uint64_t value) && {
    char buf[20];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
    return std::move(*this);
  }
  Msg&& operator<<(const Hash& hash) && {
    static constexpr char kDigits[] = "0123456789abcdef";
    char buf[64];
    const uint8_t* bytes = hash.data();
    for (char* out = buf; out != buf + sizeof buf; ++bytes) {
      *out++ = kDigits[*bytes >> 4];
      *out++ = kDigits[*bytes & 15];
    }
    out_.append(buf, sizeof buf);
    return std::move(*this);
  }
  operator std::string() && { return std::move(out_); }  // NOLINT: implicit by design

 private:
  std::string out_;
};

std::string RangeText(uint64_t start, uint64_t size) {
  return "[" + std::to_string(start) + ", " + std::to_string(start + size) + ")";
}

// Fetches the hashes of `ranges` in order.
Result<std::vector<Hash>> Fetch(const std::vector<Subtree>& ranges, HashSource& source,
                                const std::string& what) {
  std::vector<Hash> out;
  out.reserve(ranges.size());
  for (const Subtree& r : ranges) {
    Result<Hash> h = source.SubtreeHash(r.start, r.size);
    if (!h.ok()) return h.status().WithContext(what);
    out.push_back(*h);
  }
  return out;
}

// Shifts fn and sn right together until fn's lowest bit is set or fn is 0 (RFC 9162 2.1.3.2
// step 4.b.2 and 2.1.4.2 step 6.b.2).
void ShiftUntilOddOrZero(uint64_t& fn, uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Result<Hash> MemoryHashSource::SubtreeHash(uint64_t start, uint64_t size) {
  if (size == 0) return Status::InvalidArgument("a subtree has at least one leaf");
  if (start > leaves_.size() || size > leaves_.size() - start) {
    return Status::NotFound("leaves " + RangeText(start, size) +
                            " are beyond the end of the log (" + std::to_string(leaves_.size()) +
                            " leaves)");
  }
  return Compute(start, size);
}

Hash MemoryHashSource::Compute(uint64_t start, uint64_t size) {
  if (size < kCacheMinSize) return MerkleRoot(std::span(leaves_).subspan(start, size));
  const bool aligned = IsAlignedSubtree(start, size);
  const uint64_t key = 2 * start + size - 1;
  if (aligned) {
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  const uint64_t k = SplitPoint(size);
  Hash left = Compute(start, k);
  Hash h = NodeHash(left, Compute(start + k, size - k));
  if (aligned) cache_.emplace(key, h);
  return h;
}

void SparseHashSource::AddSubtree(uint64_t start, uint64_t size, const Hash& hash) {
  known_[Key{start, size}] = hash;
}

void SparseHashSource::AddLeaves(uint64_t first, std::span<const Hash> leaf_hashes) {
  for (const Hash& h : leaf_hashes) known_[Key{first++, 1}] = h;
}

Result<Hash> SparseHashSource::SubtreeHash(uint64_t start, uint64_t size) {
  if (size == 0) return Status::InvalidArgument("a subtree has at least one leaf");
  auto it = known_.find(Key{start, size});
  if (it != known_.end()) return it->second;
  if (size == 1) {
    return Status::NotFound("the hash of leaf " + std::to_string(start) +
                            " is not available: no kept leaf, chunk or boundary hash covers it "
                            "(purged by retention, or beyond the end of the log)");
  }
  const uint64_t k = SplitPoint(size);
  ISMS_ASSIGN_OR_RETURN(Hash left, SubtreeHash(start, k));
  ISMS_ASSIGN_OR_RETURN(Hash right, SubtreeHash(start + k, size - k));
  return NodeHash(left, right);
}

Result<Hash> RootAt(uint64_t size, HashSource& source) {
  if (size == 0) return EmptyRoot();
  Result<Hash> root = source.SubtreeHash(0, size);
  if (!root.ok()) return root.status().WithContext("root of the tree of " + std::to_string(size));
  return root;
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, HashSource& source) {
  if (index >= size) {
    return Status::InvalidArgument("no inclusion proof for leaf " + std::to_string(index) +
                                   ": the tree has " + std::to_string(size) + " leaves");
  }
  // PATH(m, D[n]): descend from the root towards the leaf, collecting each sibling.
  std::vector<Subtree> siblings;
  uint64_t start = 0, n = size, m = index;
  while (n > 1) {
    const uint64_t k = SplitPoint(n);
    if (m < k) {
      siblings.push_back({start + k, n - k});
      n = k;
    } else {
      siblings.push_back({start, k});
      start += k;
      m -= k;
      n -= k;
    }
  }
  std::reverse(siblings.begin(), siblings.end());
  return Fetch(siblings, source,
               "inclusion proof for leaf " + std::to_string(index) + " in the tree of " +
                   std::to_string(size));
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t m, uint64_t n, HashSource& source) {
  if (m > n) {
    return Status::InvalidArgument("no consistency proof from size " + std::to_string(m) +
                                   " to the smaller size " + std::to_string(n));
  }
  if (m == 0 || m == n) return std::vector<Hash>{};
  // SUBPROOF(m, D[n], true), descending from the root.
  std::vector<Subtree> nodes;
  uint64_t start = 0;
  bool whole = true;  // the RFC's b: the subtree at hand is the whole old tree so far
  while (m != n) {
    const uint64_t k = SplitPoint(n);
    if (m <= k) {
      nodes.push_back({start + k, n - k});
      n = k;
    } else {
      nodes.push_back({start, k});
      start += k;
      m -= k;
      n -= k;
      whole = false;
    }
  }
  if (!whole) nodes.push_back({start, n});
  std::reverse(nodes.begin(), nodes.end());
  return Fetch(nodes, source, "consistency proof");
}

Result<Hash> RootFromInclusionProof(const Hash& leaf_hash, uint64_t index, uint64_t size,
                                    std::span<const Hash> proof) {
  if (index >= size) {
    return Status::InvalidArgument(Msg() << "leaf index " << index << " is outside the tree of "
                                         << size << " leaves");
  }
  const auto what = [&] {
    return Msg() << "inclusion proof for leaf " << index << " in the tree of " << size;
  };
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return Status::Corruption(what()
                                << " has " << proof.size() << " hashes, more than the tree needs");
    }
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      ShiftUntilOddOrZero(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status::Corruption(what() << " has only " << proof.size()
                                     << " hashes, fewer than the tree needs");
  }
  return r;
}

Status VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                       std::span<const Hash> proof, const Hash& root) {
  ISMS_ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(leaf_hash, index, size, proof));
  if (computed != root) {
    return Status::Corruption(Msg()
                              << "inclusion proof for leaf " << index << " in the tree of " << size
                              << " leads to root " << computed << ", not the expected " << root
                              << ": the record, the proof or the root was altered");
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t m, uint64_t n, const Hash& root_m, const Hash& root_n,
                         std::span<const Hash> proof) {
  const auto what = [&] {
    return Msg() << "consistency proof from size " << m << " to size " << n;
  };
  if (m > n) {
    return Status::InvalidArgument(what() << ": the first size is larger than the second");
  }
  if (m == n || m == 0) {
    if (!proof.empty()) {
      return Status::Corruption(what() << " must be empty, has " << proof.size() << " hashes");
    }
    if (m == n && root_m != root_n) {
      return Status::Corruption(what()
                                << ": two different roots for the same size, " << root_m << " and "
                                << root_n << " (the log forked or a root was altered)");
    }
    if (m == 0 && root_m != EmptyRoot()) {
      return Status::Corruption(what() << ": the root of the empty tree must be " << EmptyRoot()
                                       << ", got " << root_m);
    }
    return Status::Ok();
  }
  if (proof.empty()) return Status::Corruption(what() << " is empty");

  // Step 2: a power-of-two first tree is itself a node of the second; its root leads the path.
  const bool prepend = std::has_single_bit(m);
  const size_t path_size = proof.size() + (prepend ? 1 : 0);
  const auto path = [&](size_t i) -> const Hash& {
    return prepend ? (i == 0 ? root_m : proof[i - 1]) : proof[i];
  };
  uint64_t fn = m - 1, sn = n - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path(0), sr = path(0);
  for (size_t i = 1; i < path_size; ++i) {
    const Hash& c = path(i);
    if (sn == 0) {
      return Status::Corruption(what()
                                << " has " << proof.size() << " hashes, more than the trees need");
    }
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftUntilOddOrZero(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status::Corruption(what() << " has only " << proof.size()
                                     << " hashes, fewer than the trees need");
  }
  if (fr != root_m) {
    return Status::Corruption(what() << " leads to root " << fr << " for size " << m
                                     << ", not the expected " << root_m);
  }
  if (sr != root_n) {
    return Status::Corruption(what() << " leads to root " << sr << " for size " << n
                                     << ", not the expected " << root_n);
  }
  return Status::Ok();
}

}  // namespace isms::audit
