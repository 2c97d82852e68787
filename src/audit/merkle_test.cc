#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "audit/proof.h"
#include "audit/sha256_lanes.h"

namespace isms::audit {
namespace {

Hash H(std::string_view hex) {
  return HashFromHex(hex).value();
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash("record " + std::to_string(i)));
  return leaves;
}

// MTH exactly as RFC 9162 2.1.1 defines it, recursively.
Hash ReferenceMth(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  const size_t k = std::bit_floor(leaves.size() - 1);
  return NodeHash(ReferenceMth(leaves.first(k)), ReferenceMth(leaves.subspan(k)));
}

// The Certificate Transparency reference leaves and roots (RFC 6962 test data, also used by
// transparency-dev/merkle and golang.org/x/mod/sumdb/tlog).
const char* const kCtLeaves[] = {"",
                                 "00",
                                 "10",
                                 "2021",
                                 "3031",
                                 "40414243",
                                 "5051525354555657",
                                 "606162636465666768696a6b6c6d6e6f"};
const char* const kCtRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

TEST(MerkleHash, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(HashHex(EmptyRoot()), kCtRoots[0]);
  EXPECT_EQ(MerkleRoot({}), EmptyRoot());
  EXPECT_EQ(CompactTree().Root(), EmptyRoot());
}

TEST(MerkleHash, LeafHashPrefixesZeroByte) {
  EXPECT_EQ(HashHex(LeafHash("")), kCtRoots[1]);
  EXPECT_EQ(HashHex(LeafHash(Unhex("00"))),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  const std::string record = "abc";
  EXPECT_EQ(LeafHash(record), LeafHash(std::span<const uint8_t>(
                                  reinterpret_cast<const uint8_t*>(record.data()), record.size())));
}

TEST(MerkleHash, RootsMatchCertificateTransparencyReferenceData) {
  std::vector<Hash> leaves;
  CompactTree tree;
  for (size_t n = 1; n <= 8; ++n) {
    leaves.push_back(LeafHash(Unhex(kCtLeaves[n - 1])));
    tree.Append(leaves.back());
    EXPECT_EQ(HashHex(MerkleRoot(leaves)), kCtRoots[n]) << "size " << n;
    EXPECT_EQ(HashHex(tree.Root()), kCtRoots[n]) << "size " << n;
  }
}

TEST(MerkleHash, NodeHashIsOrderSensitive) {
  const Hash a = LeafHash("a"), b = LeafHash("b");
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  EXPECT_EQ(MerkleRoot(std::vector<Hash>{a, b}), NodeHash(a, b));
}

TEST(MerkleHash, HexRoundTripAndErrors) {
  const Hash h = LeafHash("x");
  EXPECT_EQ(H(HashHex(h)), h);
  std::string upper = HashHex(h);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(H(upper), h);
  EXPECT_EQ(HashFromHex("abc").status().code(), StatusCode::kInvalidArgument);
  std::string bad = HashHex(h);
  bad[10] = 'g';
  Result<Hash> r = HashFromHex(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("character 11"), std::string::npos) << r.status().message();
}

TEST(MerkleHash, SplitPointIsLargestPowerOfTwoBelow) {
  EXPECT_EQ(SplitPoint(2), 1u);
  EXPECT_EQ(SplitPoint(3), 2u);
  EXPECT_EQ(SplitPoint(4), 2u);
  EXPECT_EQ(SplitPoint(5), 4u);
  EXPECT_EQ(SplitPoint(7), 4u);
  EXPECT_EQ(SplitPoint(8), 4u);
  EXPECT_EQ(SplitPoint(9), 8u);
  EXPECT_EQ(SplitPoint(uint64_t{1} << 63), uint64_t{1} << 62);
  EXPECT_EQ(SplitPoint(~uint64_t{0}), uint64_t{1} << 63);
}

TEST(MerkleHash, MerkleRootEqualsRecursiveDefinitionForEverySizeUpTo300) {
  const std::vector<Hash> leaves = Leaves(300);
  for (size_t n = 0; n <= leaves.size(); ++n) {
    ASSERT_EQ(MerkleRoot(std::span(leaves).first(n)), ReferenceMth(std::span(leaves).first(n)))
        << "size " << n;
  }
}

TEST(MerkleHash, AlignedSubrangeRootIsTheSubtreeHashOfTheWholeTree) {
  const std::vector<Hash> leaves = Leaves(64);
  // In the tree of 64 leaves, [16, 32) is the right child of the left child of the left child.
  const Hash chunk = MerkleRoot(std::span(leaves).subspan(16, 16));
  const Hash left32 = NodeHash(MerkleRoot(std::span(leaves).subspan(0, 16)), chunk);
  EXPECT_EQ(left32, MerkleRoot(std::span(leaves).first(32)));
  MemoryHashSource source(leaves);
  EXPECT_EQ(source.SubtreeHash(16, 16).value(), chunk);
}

TEST(CompactTree, EqualsMthForEverySizeUpTo300AndAfterRestore) {
  const std::vector<Hash> leaves = Leaves(300);
  CompactTree tree;
  for (size_t n = 0; n <= leaves.size(); ++n) {
    ASSERT_EQ(tree.Size(), n);
    const Hash want = ReferenceMth(std::span(leaves).first(n));
    ASSERT_EQ(tree.Root(), want) << "size " << n;
    ASSERT_EQ(tree.Frontier().size(), static_cast<size_t>(std::popcount(n)));

    const std::vector<uint8_t> bytes = tree.Serialize();
    ASSERT_EQ(bytes.size(), 9 + 32 * tree.Frontier().size());
    Result<CompactTree> restored = CompactTree::Deserialize(bytes);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    ASSERT_EQ(*restored, tree);
    ASSERT_EQ(restored->Root(), want);
    Result<CompactTree> rebuilt = CompactTree::FromFrontier(n, tree.Frontier());
    ASSERT_TRUE(rebuilt.ok());
    ASSERT_EQ(*rebuilt, tree);

    // A restored tree keeps growing exactly like the original.
    if (n < leaves.size()) {
      restored->Append(leaves[n]);
      tree.Append(leaves[n]);
      ASSERT_EQ(restored->Root(), tree.Root());
    }
  }
}

TEST(CompactTree, FrontierHashesAreTheAlignedCoverOfTheTree) {
  const std::vector<Hash> leaves = Leaves(77);
  CompactTree tree;
  for (const Hash& h : leaves) tree.Append(h);
  const std::vector<Subtree> cover = AlignedCover(0, 77);
  ASSERT_EQ(cover.size(), tree.Frontier().size());
  for (size_t i = 0; i < cover.size(); ++i) {
    EXPECT_EQ(tree.Frontier()[i],
              MerkleRoot(std::span(leaves).subspan(cover[i].start, cover[i].size)));
  }
}

// What a log stores as a chunk's root: the subtree hash the append of the chunk's last leaf
// completes, for every chunk size 2^level and every leaf up to 130.
TEST(CompactTree, AppendReportsEachAlignedSubtreeItCompletes) {
  const std::vector<Hash> leaves = Leaves(130);
  for (int level = 0; level <= 5; ++level) {
    const std::uint64_t chunk = std::uint64_t{1} << level;
    CompactTree tree, plain;
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      Hash got{};
      const bool completed = tree.Append(leaves[i], level, &got);
      plain.Append(leaves[i]);
      ASSERT_EQ(completed, (i + 1) % chunk == 0) << "level " << level << " leaf " << i;
      if (completed) {
        EXPECT_EQ(got, MerkleRoot(std::span(leaves).subspan(i + 1 - chunk, chunk)))
            << "level " << level << " leaf " << i;
      }
      ASSERT_EQ(tree, plain);
    }
  }
}

// AppendAll hashes runs of leaves level by level; the tree and the subtrees it reports must be
// those of Append one leaf at a time, whatever the size it starts from and the batch's length,
// both with the SHA extensions and without (sha256_lanes.h).
TEST(CompactTree, AppendAllEqualsAppendOneByOne) {
  const std::vector<Hash> leaves = Leaves(1400);
  std::vector<size_t> counts;
  for (size_t n = 0; n <= 70; ++n) counts.push_back(n);
  for (size_t n : {255, 256, 257, 511, 512, 513, 700}) counts.push_back(n);
  for (int lanes : {0, -1}) {
    SetSha256LanesForTesting(lanes);
    for (size_t start : {0, 1, 2, 3, 5, 7, 8, 13, 64, 255, 256, 300}) {
      CompactTree base;
      for (size_t i = 0; i < start; ++i) base.Append(leaves[i]);
      for (size_t n : counts) {
        for (int level : {0, 1, 2, 3, 8, 9, 10}) {
          CompactTree all = base, one = base;
          std::vector<Hash> got, want;
          all.AppendAll(std::span(leaves).subspan(start, n), level, &got);
          for (size_t i = start; i < start + n; ++i) {
            Hash h;
            if (one.Append(leaves[i], level, &h)) want.push_back(h);
          }
          ASSERT_EQ(all, one) << "lanes " << lanes << " start " << start << " count " << n
                              << " level " << level;
          ASSERT_EQ(got, want) << "lanes " << lanes << " start " << start << " count " << n
                               << " level " << level;
        }
      }
    }
    CompactTree plain;
    plain.AppendAll(leaves);
    EXPECT_EQ(plain.Root(), ReferenceMth(leaves));
  }
  SetSha256LanesForTesting(-1);
}

TEST(CompactTree, DeserializeRejectsDamagedBytes) {
  CompactTree tree;
  for (const Hash& h : Leaves(5)) tree.Append(h);
  std::vector<uint8_t> bytes = tree.Serialize();

  EXPECT_EQ(CompactTree::Deserialize({}).status().code(), StatusCode::kCorruption);
  std::vector<uint8_t> wrong_version = bytes;
  wrong_version[0] = 0x02;
  EXPECT_EQ(CompactTree::Deserialize(wrong_version).status().code(), StatusCode::kCorruption);
  std::vector<uint8_t> short_bytes(bytes.begin(), bytes.end() - 1);
  EXPECT_EQ(CompactTree::Deserialize(short_bytes).status().code(), StatusCode::kCorruption);
  std::vector<uint8_t> wrong_size = bytes;
  wrong_size[8] = 7;  // 7 leaves need 3 frontier hashes; the bytes hold 2
  Result<CompactTree> r = CompactTree::Deserialize(wrong_size);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("7 leaves"), std::string::npos) << r.status().message();

  EXPECT_EQ(CompactTree::FromFrontier(5, tree.Frontier().first(1)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AlignedCover, ExamplesAndEdges) {
  EXPECT_TRUE(AlignedCover(5, 5).empty());
  EXPECT_TRUE(AlignedCover(6, 5).empty());
  EXPECT_EQ(AlignedCover(0, 7), (std::vector<Subtree>{{0, 4}, {4, 2}, {6, 1}}));
  EXPECT_EQ(AlignedCover(3, 13), (std::vector<Subtree>{{3, 1}, {4, 4}, {8, 4}, {12, 1}}));
  EXPECT_EQ(AlignedCover(16, 32), (std::vector<Subtree>{{16, 16}}));
}

TEST(AlignedCover, CoversExactlyWithAlignedSubtreesAndNoMergeablePair) {
  for (uint64_t begin = 0; begin <= 70; ++begin) {
    for (uint64_t end = begin + 1; end <= 70; ++end) {
      const std::vector<Subtree> cover = AlignedCover(begin, end);
      uint64_t at = begin;
      for (size_t i = 0; i < cover.size(); ++i) {
        ASSERT_EQ(cover[i].start, at);
        ASSERT_TRUE(IsAlignedSubtree(cover[i].start, cover[i].size));
        // Two neighbours of equal size that form an aligned subtree should have been one.
        if (i > 0 && cover[i - 1].size == cover[i].size) {
          ASSERT_FALSE(IsAlignedSubtree(cover[i - 1].start, 2 * cover[i].size))
              << begin << ".." << end;
        }
        at = cover[i].end();
      }
      ASSERT_EQ(at, end);
    }
  }
}

}  // namespace
}  // namespace isms::audit
