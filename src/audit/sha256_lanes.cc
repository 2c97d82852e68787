// SHA-256 as FIPS 180-4 section 6.2 defines it, computed with the SHA extensions' instructions
// (sha256rnds2: two rounds; sha256msg1 / sha256msg2: the message schedule), several messages in
// flight at once. The state lives in two registers in the order those instructions want it:
// (A, B, E, F) and (C, D, G, H), highest 32-bit element first.
#include "audit/sha256_lanes.h"

#include <cpuid.h>
#include <immintrin.h>
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "core/bytes.h"

namespace isms::audit {
namespace {

// NodeHashes reads a (left, right) pair of a span of hashes as 64 contiguous bytes.
static_assert(sizeof(Hash) == 32 && alignof(Hash) == 1);

// How many messages to keep in flight. On an AMD EPYC (Zen 4) `audit_bench hash` measured, in ns
// a 237-byte leaf / a node: OpenSSL one by one 210 / 99, here with 1 lane 203 / 94, 2 lanes
// 118 / 52, 3 lanes 112 / 49, 4 lanes 110 / 47. Four lanes need more than the 16 registers the
// SHA instructions can use and spill some, but still hide the most latency.
constexpr int kDefaultLanes = 4;
constexpr int kMaxLanes = 4;

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// One message as the hash sees it: an optional one-byte prefix (RFC 9162's 0x00 or 0x01), then
// `size` bytes at `data`.
struct Message {
  const uint8_t* data = nullptr;
  size_t size = 0;
  int prefix = -1;  // -1 for none
};

// A message in flight: its place in the output, its compression state, and the block it is at.
struct Lane {
  __m128i abef;  // the working state (A, B, E, F) and (C, D, G, H) of FIPS 180-4
  __m128i cdgh;
  Message m;
  size_t out = 0;
  uint64_t next = 0;    // the next block to compress
  uint64_t blocks = 0;  // the padded message's number of 64-byte blocks
  // A block that is not wholly inside `m.data` (the prefix, the padding), assembled.
  alignas(16) uint8_t pad[64];
};

void Start(Lane& lane, const Message& m, size_t out) {
  // FIPS 180-4 section 5.3.3: H(0), the first 32 bits of the fractional parts of the square
  // roots of the first 8 primes.
  lane.abef = _mm_set_epi32(0x6a09e667, static_cast<int>(0xbb67ae85), 0x510e527f,
                            static_cast<int>(0x9b05688c));
  lane.cdgh = _mm_set_epi32(0x3c6ef372, static_cast<int>(0xa54ff53a), 0x1f83d9ab, 0x5be0cd19);
  lane.m = m;
  lane.out = out;
  lane.next = 0;
  // Padding (section 5.1.1) adds a 0x80 byte and the 8-byte bit length, then zeros up to a
  // multiple of 64 bytes.
  const uint64_t total = m.size + (m.prefix >= 0 ? 1 : 0);
  lane.blocks = (total + 8) / 64 + 1;
}

// The next block of a lane: in place when it lies wholly inside the message's data (all blocks
// of a long record but its first and last), else assembled in lane.pad.
const uint8_t* NextBlock(Lane& lane) {
  const Message& m = lane.m;
  const uint64_t p = m.prefix >= 0 ? 1 : 0;
  const uint64_t start = 64 * lane.next;  // offset of the block in prefix || data
  if (start >= p && start - p + 64 <= m.size) return m.data + (start - p);
  uint8_t* pad = lane.pad;
  const __m128i zero = _mm_setzero_si128();
  for (int i = 0; i < 4; ++i) _mm_store_si128(reinterpret_cast<__m128i*>(pad + 16 * i), zero);
  uint64_t o = 0;
  if (start < p) pad[o++] = static_cast<uint8_t>(m.prefix);
  const uint64_t from = start + o - p;  // offset in data of pad[o]
  if (from < m.size) {
    const uint64_t n = std::min<uint64_t>(64 - o, m.size - from);
    CopyBytes(pad + o, m.data + from, n);  // up to 64 bytes (inline up to 32)
  }
  const uint64_t total = m.size + p;
  if (total >= start && total < start + 64) pad[total - start] = 0x80;
  if (lane.next + 1 == lane.blocks) {
    const uint64_t bits = total * 8;
    for (int i = 0; i < 8; ++i) pad[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  }
  return pad;
}

// Compresses one block into each of L lanes. The rounds of the different lanes are written side
// by side so the CPU can issue one lane's sha256rnds2 while another's waits for its result: one
// message alone would leave the instruction's latency unused.
template <int L>
__attribute__((target("sha,sse4.1"))) void Compress(Lane* const* lanes,
                                                    const uint8_t* const* blocks) {
  // Message words are big-endian (section 3.1).
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i s0[L], s1[L], w[L][4];
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    s0[l] = lanes[l]->abef;
    s1[l] = lanes[l]->cdgh;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      w[l][j] = _mm_shuffle_epi8(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[l] + 16 * j)), bswap);
    }
  }
  // 16 steps of four rounds; w[l][g % 4] holds W(4g) .. W(4g + 3) at step g.
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {
    const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants + 4 * g));
    __m128i wk[L];
#pragma GCC unroll 4
    for (int l = 0; l < L; ++l) {
      wk[l] = _mm_add_epi32(w[l][g % 4], k);
      s1[l] = _mm_sha256rnds2_epu32(s1[l], s0[l], wk[l]);  // rounds 4g, 4g + 1
    }
#pragma GCC unroll 4
    for (int l = 0; l < L; ++l) {
      s0[l] = _mm_sha256rnds2_epu32(s0[l], s1[l], _mm_shuffle_epi32(wk[l], 0x0e));  // 4g+2, 4g+3
    }
    if (g < 12) {
      // W(t) = s1(W(t-2)) + W(t-7) + s0(W(t-15)) + W(t-16) for the four words of step g + 4:
      // msg1 gives W(t-16) + s0(W(t-15)), then W(t-7) is added, msg2 adds the s1 terms.
#pragma GCC unroll 4
      for (int l = 0; l < L; ++l) {
        const __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w[l][g % 4], w[l][(g + 1) % 4]),
                                        _mm_alignr_epi8(w[l][(g + 3) % 4], w[l][(g + 2) % 4], 4));
        w[l][g % 4] = _mm_sha256msg2_epu32(t, w[l][(g + 3) % 4]);
      }
    }
  }
  // Section 6.2.2 step 4: add the state the block started from.
#pragma GCC unroll 4
  for (int l = 0; l < L; ++l) {
    lanes[l]->abef = _mm_add_epi32(s0[l], lanes[l]->abef);
    lanes[l]->cdgh = _mm_add_epi32(s1[l], lanes[l]->cdgh);
  }
}

// The digest: A .. H, each big-endian.
__attribute__((target("sha,sse4.1"))) void Finish(const Lane& lane, Hash& out) {
  // Reverses all 16 bytes: the element order and each element's bytes.
  const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i abcd = _mm_shuffle_epi8(_mm_unpackhi_epi64(lane.cdgh, lane.abef), reverse);
  const __m128i efgh = _mm_shuffle_epi8(_mm_unpacklo_epi64(lane.cdgh, lane.abef), reverse);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data()), abcd);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data() + 16), efgh);
}

// Hashes messages get(0) .. get(n - 1) into out[0 .. n), up to `width` at a time. A lane whose
// message ends takes the next message at once, so messages of different lengths keep every lane
// busy until fewer than `width` remain.
template <typename Get>
__attribute__((target("sha,sse4.1"))) void Interleave(size_t n, const Get& get, Hash* out,
                                                      int width) {
  Lane lanes[kMaxLanes];
  Lane* active[kMaxLanes];
  int count = 0;
  size_t next = 0;
  for (; count < width && next < n; ++count, ++next) {
    Start(lanes[count], get(next), next);
    active[count] = &lanes[count];
  }
  while (count > 0) {
    const uint8_t* blocks[kMaxLanes];
    for (int i = 0; i < count; ++i) blocks[i] = NextBlock(*active[i]);
    switch (count) {
      case 4: Compress<4>(active, blocks); break;
      case 3: Compress<3>(active, blocks); break;
      case 2: Compress<2>(active, blocks); break;
      default: Compress<1>(active, blocks); break;
    }
    for (int i = 0; i < count;) {
      Lane& lane = *active[i];
      if (++lane.next < lane.blocks) {
        ++i;
        continue;
      }
      Finish(lane, out[lane.out]);
      if (next < n) {
        Start(lane, get(next), next);
        ++next;
        ++i;
      } else {
        active[i] = active[--count];  // order does not matter: each lane knows its output
      }
    }
  }
}

bool CpuHasShaExtensions() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  // SSSE3 (leaf 1, ECX bit 9) and SSE4.1 (bit 19) for the shuffles; every CPU with the SHA
  // extensions has them, but they are checked all the same.
  if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & (1u << 9)) == 0 || (c & (1u << 19)) == 0) {
    return false;
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return (b & (1u << 29)) != 0;  // SHA
}

std::atomic<int> lanes_override{-1};

const uint8_t* Bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

}  // namespace

int Sha256Lanes() {
  static const bool has_sha = CpuHasShaExtensions();
  const int o = lanes_override.load(std::memory_order_relaxed);
  if (!has_sha || o == 0) return 0;
  return o < 0 ? kDefaultLanes : std::min(o, kMaxLanes);
}

void SetSha256LanesForTesting(int lanes) {
  lanes_override.store(lanes, std::memory_order_relaxed);
}

void LeafHashes(std::span<const std::string_view> records, Hash* out) {
  const int width = Sha256Lanes();
  if (width == 0) {
    for (size_t i = 0; i < records.size(); ++i) out[i] = LeafHash(records[i]);
    return;
  }
  Interleave(
      records.size(),
      [&](size_t i) {
        return Message{Bytes(records[i]), records[i].size(), 0x00};
      },
      out, width);
}

void NodeHashes(std::span<const Hash> children, Hash* out) {
  const size_t n = children.size() / 2;
  const int width = Sha256Lanes();
  if (width == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = NodeHash(children[2 * i], children[2 * i + 1]);
    return;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(children.data());
  Interleave(
      n,
      [&](size_t i) {
        return Message{bytes + 64 * i, 64, 0x01};
      },
      out, width);
}

void Sha256s(std::span<const std::string_view> messages, Hash* out) {
  const int width = Sha256Lanes();
  if (width == 0) {
    for (size_t i = 0; i < messages.size(); ++i) {
      SHA256(Bytes(messages[i]), messages[i].size(), out[i].data());
    }
    return;
  }
  Interleave(
      messages.size(),
      [&](size_t i) {
        return Message{Bytes(messages[i]), messages[i].size(), -1};
      },
      out, width);
}

}  // namespace isms::audit
