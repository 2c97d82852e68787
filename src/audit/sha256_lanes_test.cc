#include "audit/sha256_lanes.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace isms::audit {
namespace {

// Every path: the OpenSSL fallback, 1 to 4 interleaved messages with the SHA extensions, 16 in
// AVX-512 registers (every batch, however small, and to its end), and the CPU's choice (which,
// where it is the AVX-512 path, gives small batches and the last few long messages of a batch to
// the SHA extensions). A path the CPU lacks is the fallback, which is then what gets checked.
class Sha256LanesTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { SetSha256LanesForTesting(GetParam()); }
  void TearDown() override { SetSha256LanesForTesting(-1); }
};

INSTANTIATE_TEST_SUITE_P(Paths, Sha256LanesTest, ::testing::Values(0, 1, 2, 3, 4, 16, -1),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return p.param < 0 ? std::string("Auto")
                                              : "Lanes" + std::to_string(p.param);
                         });

// Bytes that differ from record to record and from length to length.
std::string Record(std::mt19937& rng, size_t size) {
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<Hash> Leaves(const std::vector<std::string>& records) {
  std::vector<std::string_view> views(records.begin(), records.end());
  std::vector<Hash> out(records.size());
  LeafHashes(views, out.data());
  return out;
}

void ExpectLeaves(const std::vector<std::string>& records) {
  const std::vector<Hash> got = Leaves(records);
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(HashHex(got[i]), HashHex(LeafHash(records[i])))
        << "record " << i << " of " << records.size() << ", " << records[i].size() << " bytes";
  }
}

TEST_P(Sha256LanesTest, PathIsTheOneAskedFor) {
  const int lanes = Sha256Lanes();
  if (GetParam() == 0) {
    EXPECT_EQ(lanes, 0);
  } else if (GetParam() > 0 && lanes > 0) {
    EXPECT_EQ(lanes, GetParam());
  }
}

// FIPS 180-4 examples (NIST's "SHA256.pdf" and "SHA2_Additional.pdf"), one batch so that they
// share lanes.
TEST_P(Sha256LanesTest, PublishedVectors) {
  const std::string million(1000000, 'a');
  const std::vector<std::string_view> msgs = {
      "abc", "", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", million};
  std::vector<Hash> out(msgs.size());
  Sha256s(msgs, out.data());
  EXPECT_EQ(HashHex(out[0]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashHex(out[1]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashHex(out[2]), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HashHex(out[3]), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(out[1], EmptyRoot());
}

// Every length around the padding's boundaries (55/56 bytes and their multiples of 64 with the
// prefix byte), each alone and all in one batch.
TEST_P(Sha256LanesTest, EveryRecordLengthUpTo600) {
  std::mt19937 rng(9162);
  std::vector<std::string> all;
  for (size_t size = 0; size <= 600; ++size) {
    all.push_back(Record(rng, size));
    ExpectLeaves({all.back()});
  }
  ExpectLeaves(all);
}

TEST_P(Sha256LanesTest, LongRecordsBesideShortOnes) {
  std::mt19937 rng(180);
  ExpectLeaves({Record(rng, 5000), Record(rng, 70000), Record(rng, 3), Record(rng, 237),
                Record(rng, 65536), Record(rng, 0), Record(rng, 70001)});
}

// Long records among many short ones: the short ones end first, and the long ones go on alone
// (handed to the SHA extensions' lanes by the CPU's choice when it uses AVX-512 and has both).
TEST_P(Sha256LanesTest, AFewLongRecordsOutlastManyShortOnes) {
  std::mt19937 rng(5425);
  for (size_t long_ones : {1, 3, 4, 5, 9}) {
    std::vector<std::string> records;
    for (size_t i = 0; i < 40; ++i) records.push_back(Record(rng, 237));
    for (size_t i = 0; i < long_ones; ++i) {
      records.insert(records.begin() + static_cast<std::ptrdiff_t>((7 * i) % records.size()),
                     Record(rng, 3000 + 64 * i));
    }
    ExpectLeaves(records);
  }
}

TEST_P(Sha256LanesTest, BatchesOfEverySizeWithMixedLengths) {
  std::mt19937 rng(4);
  for (size_t n = 0; n <= 40; ++n) {
    std::vector<std::string> records;
    for (size_t i = 0; i < n; ++i) records.push_back(Record(rng, rng() % 400));
    ExpectLeaves(records);
  }
}

TEST_P(Sha256LanesTest, RandomBatches) {
  std::mt19937 rng(20260101);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> records(rng() % 70);
    for (std::string& r : records) {
      // Mostly syslog-sized records, now and then a long one.
      r = Record(rng, rng() % 16 == 0 ? rng() % 3000 : 200 + rng() % 80);
    }
    ExpectLeaves(records);
  }
}

TEST_P(Sha256LanesTest, NodeHashesOfEveryCount) {
  std::mt19937 rng(2);
  for (size_t n = 0; n <= 17; ++n) {
    std::vector<Hash> children(2 * n);
    for (Hash& h : children) h = LeafHash(Record(rng, rng() % 100));
    std::vector<Hash> got(n);
    NodeHashes(children, got.data());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(HashHex(got[i]), HashHex(NodeHash(children[2 * i], children[2 * i + 1])))
          << "node " << i << " of " << n;
    }
  }
}

TEST_P(Sha256LanesTest, NodeHashesIgnoreAnOddLastChild) {
  std::vector<Hash> children = {LeafHash("a"), LeafHash("b"), LeafHash("c")};
  Hash got[2] = {Hash{}, Hash{}};
  NodeHashes(children, got);
  EXPECT_EQ(got[0], NodeHash(children[0], children[1]));
  EXPECT_EQ(got[1], Hash{});
}

// Level by level up a tree of random leaves gives the RFC 9162 root.
TEST_P(Sha256LanesTest, LevelsGiveTheMerkleRoot) {
  std::mt19937 rng(77);
  std::vector<Hash> level(256);
  for (Hash& h : level) h = LeafHash(Record(rng, 237));
  const Hash root = MerkleRoot(level);
  while (level.size() > 1) {
    std::vector<Hash> up(level.size() / 2);
    NodeHashes(level, up.data());
    level = std::move(up);
  }
  EXPECT_EQ(level[0], root);
}

}  // namespace
}  // namespace isms::audit
