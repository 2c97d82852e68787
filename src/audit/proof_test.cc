#include "audit/proof.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace isms::audit {
namespace {

Hash H(std::string_view hex) {
  return HashFromHex(hex).value();
}

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash("record " + std::to_string(i)));
  return leaves;
}

Hash FlipBit(Hash h, size_t bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

std::vector<Hash> Proof(Result<std::vector<Hash>> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Hash>{};
}

// RFC 9162 2.1.5: the tree of seven leaves d0..d6 and its named nodes.
class Rfc9162Example : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 7; ++i) leaves.push_back(LeafHash("d" + std::to_string(i)));
    a = leaves[0], b = leaves[1], c = leaves[2], d = leaves[3];
    e = leaves[4], f = leaves[5], j = leaves[6];
    g = NodeHash(a, b), h = NodeHash(c, d), i = NodeHash(e, f);
    k = NodeHash(g, h), l = NodeHash(i, j);
    hash = NodeHash(k, l);
    source = MemoryHashSource(leaves);
  }

  std::vector<Hash> leaves;
  Hash a, b, c, d, e, f, g, h, i, j, k, l, hash;
  MemoryHashSource source;
};

TEST_F(Rfc9162Example, TreeHashes) {
  EXPECT_EQ(RootAt(7, source).value(), hash);
  EXPECT_EQ(MerkleRoot(leaves), hash);
  // hash0, hash1 and hash2 of the consistency example: the trees of 3, 4 and 6 leaves.
  EXPECT_EQ(RootAt(3, source).value(), NodeHash(g, c));
  EXPECT_EQ(RootAt(4, source).value(), k);
  EXPECT_EQ(RootAt(6, source).value(), NodeHash(k, i));
}

TEST_F(Rfc9162Example, InclusionProofsAsTheFiguresShow) {
  EXPECT_EQ(Proof(InclusionProof(0, 7, source)), (std::vector<Hash>{b, h, l}));
  EXPECT_EQ(Proof(InclusionProof(3, 7, source)), (std::vector<Hash>{c, g, l}));
  EXPECT_EQ(Proof(InclusionProof(4, 7, source)), (std::vector<Hash>{f, j, k}));
  EXPECT_EQ(Proof(InclusionProof(6, 7, source)), (std::vector<Hash>{i, k}));
  for (uint64_t index : {0, 3, 4, 6}) {
    EXPECT_TRUE(
        VerifyInclusion(leaves[index], index, 7, Proof(InclusionProof(index, 7, source)), hash)
            .ok());
  }
}

TEST_F(Rfc9162Example, ConsistencyProofsAsTheFiguresShow) {
  EXPECT_EQ(Proof(ConsistencyProof(3, 7, source)), (std::vector<Hash>{c, d, g, l}));
  EXPECT_EQ(Proof(ConsistencyProof(4, 7, source)), (std::vector<Hash>{l}));
  EXPECT_EQ(Proof(ConsistencyProof(6, 7, source)), (std::vector<Hash>{i, j, k}));
  EXPECT_TRUE(VerifyConsistency(3, 7, NodeHash(g, c), hash, std::vector<Hash>{c, d, g, l}).ok());
  EXPECT_TRUE(VerifyConsistency(4, 7, k, hash, std::vector<Hash>{l}).ok());
  EXPECT_TRUE(VerifyConsistency(6, 7, NodeHash(k, i), hash, std::vector<Hash>{i, j, k}).ok());
}

TEST(InclusionProof, CertificateTransparencyReferenceProofs) {
  const char* const data[] = {"",
                              "\x00",
                              "\x10",
                              "\x20\x21",
                              "\x30\x31",
                              "\x40\x41\x42\x43",
                              "\x50\x51\x52\x53\x54\x55\x56\x57",
                              "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const size_t lengths[] = {0, 1, 1, 2, 2, 4, 8, 16};
  MemoryHashSource source;
  for (int n = 0; n < 8; ++n) source.Append(LeafHash(std::string_view(data[n], lengths[n])));
  EXPECT_EQ(
      Proof(InclusionProof(0, 8, source)),
      (std::vector<Hash>{H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                         H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                         H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}));
  EXPECT_EQ(
      Proof(InclusionProof(5, 8, source)),
      (std::vector<Hash>{H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                         H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                         H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
}

// Every (index, size) up to 64 leaves: the proof verifies, and no single-bit change of a proof
// hash, the leaf, the root or the index verifies; nor does a shorter or longer proof.
TEST(InclusionProof, EveryPairUpTo64VerifiesAndEverySingleBitTamperIsRejected) {
  const std::vector<Hash> leaves = Leaves(64);
  MemoryHashSource source(leaves);
  size_t checked = 0;
  for (uint64_t size = 1; size <= 64; ++size) {
    const Hash root = RootAt(size, source).value();
    for (uint64_t index = 0; index < size; ++index) {
      std::vector<Hash> proof = Proof(InclusionProof(index, size, source));
      const Hash& leaf = leaves[index];
      ASSERT_TRUE(VerifyInclusion(leaf, index, size, proof, root).ok()) << index << "/" << size;
      for (size_t bit = 0; bit < 256; ++bit) {
        ASSERT_FALSE(VerifyInclusion(FlipBit(leaf, bit), index, size, proof, root).ok());
        ASSERT_FALSE(VerifyInclusion(leaf, index, size, proof, FlipBit(root, bit)).ok());
        for (Hash& p : proof) {
          const Hash saved = p;
          p = FlipBit(saved, bit);
          ASSERT_FALSE(VerifyInclusion(leaf, index, size, proof, root).ok());
          p = saved;
        }
      }
      for (int bit = 0; bit < 64; ++bit) {
        ASSERT_FALSE(VerifyInclusion(leaf, index ^ (uint64_t{1} << bit), size, proof, root).ok())
            << "index " << index << " bit " << bit << " size " << size;
      }
      std::vector<Hash> longer = proof;
      longer.push_back(root);
      ASSERT_FALSE(VerifyInclusion(leaf, index, size, longer, root).ok());
      if (!proof.empty()) {
        std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
        ASSERT_FALSE(VerifyInclusion(leaf, index, size, shorter, root).ok());
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 64u * 65u / 2u);
}

// Every (m, n) with m <= n <= 64: the proof verifies, and no single-bit change of a proof hash,
// of either root, or of m verifies.
TEST(ConsistencyProof, EveryPairUpTo64VerifiesAndEverySingleBitTamperIsRejected) {
  const std::vector<Hash> leaves = Leaves(64);
  MemoryHashSource source(leaves);
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= 64; ++n) roots.push_back(RootAt(n, source).value());
  size_t checked = 0;
  for (uint64_t n = 0; n <= 64; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      std::vector<Hash> proof = Proof(ConsistencyProof(m, n, source));
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], proof).ok()) << m << "->" << n;
      ASSERT_EQ(proof.empty(), m == 0 || m == n);
      for (size_t bit = 0; bit < 256; ++bit) {
        // With m == 0 the proof says nothing about root_n (the empty tree is a prefix of all).
        if (m > 0) {
          ASSERT_FALSE(VerifyConsistency(m, n, roots[m], FlipBit(roots[n], bit), proof).ok());
        }
        ASSERT_FALSE(VerifyConsistency(m, n, FlipBit(roots[m], bit), roots[n], proof).ok());
        for (Hash& p : proof) {
          const Hash saved = p;
          p = FlipBit(saved, bit);
          ASSERT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], proof).ok());
          p = saved;
        }
      }
      // n is not tampered with: a root does not encode its size (the proof from 1 to 5 also
      // "verifies" as one from 1 to 7), so sizes must come from signed checkpoints.
      for (int bit = 0; bit < 64; ++bit) {
        ASSERT_FALSE(VerifyConsistency(m ^ (uint64_t{1} << bit), n, roots[m], roots[n], proof).ok())
            << m << "->" << n << " m bit " << bit;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 65u * 66u / 2u);
}

TEST(ConsistencyProof, EdgeCases) {
  MemoryHashSource source(Leaves(10));
  const Hash r5 = RootAt(5, source).value(), r10 = RootAt(10, source).value();
  EXPECT_EQ(ConsistencyProof(6, 5, source).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(6, 5, r5, r5, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(VerifyConsistency(5, 5, r5, r5, {}).ok());
  Status fork = VerifyConsistency(5, 5, r5, r10, {});
  EXPECT_EQ(fork.code(), StatusCode::kCorruption);
  EXPECT_NE(fork.message().find("forked"), std::string::npos) << fork.message();
  EXPECT_FALSE(VerifyConsistency(5, 5, r5, r5, std::vector<Hash>{r5}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 10, EmptyRoot(), r10, {}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 10, r5, r10, {}).ok());
  EXPECT_FALSE(VerifyConsistency(5, 10, r5, r10, {}).ok());
  Status wrong = VerifyConsistency(5, 10, r10, r10, Proof(ConsistencyProof(5, 10, source)));
  EXPECT_EQ(wrong.code(), StatusCode::kCorruption);
  EXPECT_NE(wrong.message().find("for size 5"), std::string::npos) << wrong.message();
}

TEST(InclusionProof, EdgeCases) {
  MemoryHashSource source(Leaves(4));
  EXPECT_EQ(InclusionProof(4, 4, source).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(0, 5, source).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(VerifyInclusion(Leaves(1)[0], 1, 1, {}, Leaves(1)[0]).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(VerifyInclusion(Leaves(1)[0], 0, 1, {}, Leaves(1)[0]).ok());
  EXPECT_EQ(RootAt(0, source).value(), EmptyRoot());
  Status s = VerifyInclusion(Leaves(4)[1], 1, 4, Proof(InclusionProof(1, 4, source)),
                             RootAt(3, source).value());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("leaf 1 in the tree of 4"), std::string::npos) << s.message();
}

TEST(MemoryHashSource, CachedLargeTreesAgreeWithDirectComputation) {
  const std::vector<Hash> leaves = Leaves(1000);
  MemoryHashSource source(leaves);
  for (uint64_t n : {1, 63, 64, 65, 128, 129, 500, 511, 512, 513, 999, 1000}) {
    ASSERT_EQ(RootAt(n, source).value(), MerkleRoot(std::span(leaves).first(n))) << n;
    ASSERT_EQ(RootAt(n, source).value(), MerkleRoot(std::span(leaves).first(n))) << n;
  }
  for (uint64_t index : {0, 1, 63, 64, 500, 998, 999}) {
    for (uint64_t size : {index + 1, uint64_t{999}, uint64_t{1000}}) {
      if (index >= size) continue;
      std::vector<Hash> proof = Proof(InclusionProof(index, size, source));
      ASSERT_TRUE(VerifyInclusion(leaves[index], index, size, proof,
                                  MerkleRoot(std::span(leaves).first(size)))
                      .ok());
    }
  }
  source.Append(LeafHash("one more"));
  EXPECT_EQ(source.Size(), 1001u);
  EXPECT_EQ(RootAt(1001, source).value(), MerkleRoot(source.Leaves()));
}

// A log whose first chunks were purged by retention: it keeps each purged chunk's subtree hash,
// the boundary hashes of every checkpoint that falls inside a purged chunk, and the leaf hashes
// of the live chunks. Proofs computed from that alone equal the full log's and verify.
TEST(SparseHashSource, ProofsStillVerifyAfterThePrefixIsPurged) {
  constexpr uint64_t kChunk = 16, kPurged = 128, kSize = 200;
  const std::vector<Hash> leaves = Leaves(kSize);
  MemoryHashSource full(leaves);
  const std::vector<uint64_t> checkpoints = {1,  3,  5,  16,  17,  20,  33,  37,  40, 47,
                                             64, 90, 96, 100, 127, 128, 131, 150, 200};

  SparseHashSource kept;
  for (uint64_t c = 0; c < kPurged; c += kChunk) {
    kept.AddSubtree(c, kChunk, full.SubtreeHash(c, kChunk).value());
  }
  for (uint64_t m : checkpoints) {
    if (m >= kPurged || m % kChunk == 0) continue;
    const uint64_t chunk_start = m / kChunk * kChunk;
    for (const auto& cover :
         {AlignedCover(chunk_start, m), AlignedCover(m, chunk_start + kChunk)}) {
      for (const Subtree& s : cover)
        kept.AddSubtree(s.start, s.size, full.SubtreeHash(s.start, s.size).value());
    }
  }
  kept.AddLeaves(kPurged, std::span(leaves).subspan(kPurged));

  for (uint64_t m : checkpoints) {
    ASSERT_EQ(RootAt(m, kept).value(), RootAt(m, full).value()) << m;
  }
  for (uint64_t size = kPurged + 1; size <= kSize; ++size) {
    ASSERT_EQ(RootAt(size, kept).value(), RootAt(size, full).value()) << size;
  }
  // Inclusion of every live leaf in every later tree.
  for (uint64_t index = kPurged; index < kSize; ++index) {
    for (uint64_t size = index + 1; size <= kSize; ++size) {
      Result<std::vector<Hash>> proof = InclusionProof(index, size, kept);
      ASSERT_TRUE(proof.ok()) << index << "/" << size << ": " << proof.status().ToString();
      ASSERT_EQ(*proof, Proof(InclusionProof(index, size, full)));
      ASSERT_TRUE(
          VerifyInclusion(leaves[index], index, size, *proof, RootAt(size, full).value()).ok());
    }
  }
  // Consistency between every two checkpoints, and from every checkpoint to every live size.
  std::set<uint64_t> targets(checkpoints.begin(), checkpoints.end());
  for (uint64_t n = kPurged; n <= kSize; ++n) targets.insert(n);
  for (uint64_t m : checkpoints) {
    for (uint64_t n : targets) {
      if (n < m) continue;
      Result<std::vector<Hash>> proof = ConsistencyProof(m, n, kept);
      ASSERT_TRUE(proof.ok()) << m << "->" << n << ": " << proof.status().ToString();
      ASSERT_EQ(*proof, Proof(ConsistencyProof(m, n, full)));
      ASSERT_TRUE(
          VerifyConsistency(m, n, RootAt(m, full).value(), RootAt(n, full).value(), *proof).ok());
    }
  }
  // A purged leaf that no boundary hash kept cannot be proven; the error says why.
  Result<std::vector<Hash>> purged = InclusionProof(9, kSize, kept);
  ASSERT_FALSE(purged.ok());
  EXPECT_EQ(purged.status().code(), StatusCode::kNotFound);
  EXPECT_NE(purged.status().message().find("purged"), std::string::npos)
      << purged.status().message();
  EXPECT_NE(purged.status().message().find("inclusion proof for leaf 9"), std::string::npos)
      << purged.status().message();
}

class FailingSource final : public HashSource {
 public:
  Result<Hash> SubtreeHash(uint64_t, uint64_t) override {
    return Status::IoError("audit chunk 7 could not be read");
  }
};

TEST(HashSource, ErrorsPassThroughWithContext) {
  FailingSource source;
  Result<std::vector<Hash>> proof = ConsistencyProof(3, 9, source);
  ASSERT_FALSE(proof.ok());
  EXPECT_EQ(proof.status().code(), StatusCode::kIoError);
  EXPECT_EQ(proof.status().message(), "consistency proof: audit chunk 7 could not be read");
  EXPECT_EQ(RootAt(9, source).status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace isms::audit
