// Writes Merkle test vectors for the independent Python verifier (tests/merkle_verify.py): the
// records, the roots of every size, and inclusion and consistency proofs. The JSON is always
// built (so this test also exercises the generator); it is written to the file named by the
// environment variable ISMS_MERKLE_VECTORS when that is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "audit/proof.h"

namespace isms::audit {
namespace {

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string HexList(const std::vector<Hash>& hashes) {
  std::string out = "[";
  for (size_t i = 0; i < hashes.size(); ++i) out += (i ? ",\"" : "\"") + HashHex(hashes[i]) + "\"";
  return out + "]";
}

// Record i: varied lengths (the first is empty) and every byte value.
std::vector<uint8_t> Record(uint64_t i) {
  std::vector<uint8_t> r;
  for (uint64_t k = 0; k < i % 37; ++k) r.push_back(static_cast<uint8_t>(i * 131 + k * 7));
  return r;
}

std::string BuildVectors() {
  constexpr uint64_t kAllPairsUpTo = 64;
  const std::vector<uint64_t> large = {65, 100, 127, 128, 129, 255, 256, 257, 1000, 1023, 1025};
  const uint64_t max_size = large.back();
  std::mt19937_64 rng(9162);

  std::vector<Hash> leaf_hashes;
  std::string json = "{\"leaves\":[";
  for (uint64_t i = 0; i < max_size; ++i) {
    const std::vector<uint8_t> record = Record(i);
    leaf_hashes.push_back(LeafHash(record));
    json += (i ? ",\"" : "\"") + Hex(record) + "\"";
  }
  MemoryHashSource source(leaf_hashes);

  json += "],\"roots\":[";
  for (uint64_t n = 0; n <= max_size; ++n) {
    json += (n ? ",\"" : "\"") + HashHex(RootAt(n, source).value()) + "\"";
  }

  std::vector<std::pair<uint64_t, uint64_t>> inclusion, consistency;
  for (uint64_t n = 1; n <= kAllPairsUpTo; ++n) {
    for (uint64_t i = 0; i < n; ++i) inclusion.push_back({i, n});
  }
  for (uint64_t n = 0; n <= kAllPairsUpTo; ++n) {
    for (uint64_t m = 0; m <= n; ++m) consistency.push_back({m, n});
  }
  for (uint64_t n : large) {
    std::set<uint64_t> indexes = {0, 1, n / 2, n - 2, n - 1};
    std::set<uint64_t> olds = {0, 1, 2, n / 3, n / 2, n - 1, n};
    for (int k = 0; k < 8; ++k) {
      indexes.insert(rng() % n);
      olds.insert(rng() % (n + 1));
    }
    for (uint64_t i : indexes) inclusion.push_back({i, n});
    for (uint64_t m : olds) consistency.push_back({m, n});
  }

  json += "],\"inclusion\":[";
  for (size_t k = 0; k < inclusion.size(); ++k) {
    const auto [i, n] = inclusion[k];
    json += std::string(k ? "," : "") + "{\"index\":" + std::to_string(i) +
            ",\"size\":" + std::to_string(n) +
            ",\"proof\":" + HexList(InclusionProof(i, n, source).value()) + "}";
  }
  json += "],\"consistency\":[";
  for (size_t k = 0; k < consistency.size(); ++k) {
    const auto [m, n] = consistency[k];
    json += std::string(k ? "," : "") + "{\"m\":" + std::to_string(m) +
            ",\"n\":" + std::to_string(n) +
            ",\"proof\":" + HexList(ConsistencyProof(m, n, source).value()) + "}";
  }
  return json + "]}\n";
}

TEST(MerkleVectors, WritesVectorsForTheIndependentVerifier) {
  const std::string json = BuildVectors();
  ASSERT_GT(json.size(), 100000u);
  const char* path = std::getenv("ISMS_MERKLE_VECTORS");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json;
  out.close();
  ASSERT_TRUE(out.good()) << "could not write " << path;
}

}  // namespace
}  // namespace isms::audit
