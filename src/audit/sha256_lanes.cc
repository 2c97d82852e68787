// SHA-256 as FIPS 180-4 section 6.2 defines it, several messages in flight at once, by two
// paths: the SHA extensions' instructions (sha256rnds2: two rounds; sha256msg1 / sha256msg2: the
// message schedule), whose state lives in two registers in the order those instructions want it,
// (A, B, E, F) and (C, D, G, H), highest 32-bit element first; and plain AVX-512 integer
// instructions, one message in each 32-bit element of the registers (further down).
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

// Runs the `count` lanes in `active` (each started) and the messages get(next) .. get(n - 1)
// after them to the end, into out: a lane whose message ends takes the next message at once, so
// messages of different lengths keep every lane busy until fewer than `count` remain.
template <typename Get>
__attribute__((target("sha,sse4.1"))) void RunLanes(Lane* const* started, int count, size_t next,
                                                    size_t n, const Get& get, Hash* out) {
  Lane* active[kMaxLanes];
  std::copy(started, started + count, active);
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

// Hashes messages get(0) .. get(n - 1) into out[0 .. n), up to `width` at a time.
template <typename Get>
void Interleave(size_t n, const Get& get, Hash* out, int width) {
  Lane lanes[kMaxLanes];
  Lane* active[kMaxLanes];
  int count = 0;
  size_t next = 0;
  for (; count < width && next < n; ++count, ++next) {
    Start(lanes[count], get(next), next);
    active[count] = &lanes[count];
  }
  RunLanes(active, count, next, n, get, out);
}

// ---- Sixteen messages at once in the 32-bit elements of AVX-512 registers ----
//
// Where the SHA extensions are missing (Intel's Skylake and Cascade Lake servers) or slow (an
// Intel Xeon, CPUID family 6 model 167, measured 174-225 ns a 237-byte leaf with them, with 1 to
// 4 messages in flight, and 96-98 ns here), the rounds of FIPS 180-4 section 6.2.2 are computed in plain integer instructions
// for 16 messages at once: element l of each register belongs to message l. Rotations are one
// instruction (vprord) and Ch, Maj and the three-way XORs one each (vpternlogd).

#define ISMS_AVX512 __attribute__((target("avx512f,avx512bw")))
// The small helpers of the wide path go inline into its loop (as calls, their 16 registers
// would pass through memory).
#define ISMS_AVX512_INLINE inline __attribute__((always_inline, target("avx512f,avx512bw")))

// g++ 12 warns that AVX-512 intrinsics of its own headers read an uninitialised value (their
// `_mm512_undefined_epi32`, an intended "any value"): a false warning, off for this section.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // (a g++ warning only)
#endif

constexpr int kWide = 16;
// Below this many messages a batch goes to the narrow paths: the wide rounds cost the same for
// one message as for sixteen.
constexpr size_t kWideMinimum = 8;

// FIPS 180-4 section 5.3.3: H(0).
constexpr uint32_t kInitialHash[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// The 16 messages in flight: the working state of each (state[k][l]: word k of H of message l)
// and where each is.
struct WideLanes {
  alignas(64) uint32_t state[8][kWide];
  Message m[kWide];
  size_t out[kWide];
  uint64_t next[kWide];
  uint64_t blocks[kWide];
  bool on[kWide];
};

uint64_t BlocksOf(const Message& m) {
  return (m.size + (m.prefix >= 0 ? 1 : 0) + 8) / 64 + 1;
}

// The bits below `k` (0 <= k <= 64).
uint64_t MaskBelow(int64_t k) {
  return k >= 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1;
}

// Block `b` of a message, padded (section 5.1.1), with its bytes in order: the message's own
// bytes by one masked load (bytes outside the mask are neither read nor able to fault), then the
// prefix, the 0x80 byte and, in the last block, the big-endian bit length.
ISMS_AVX512_INLINE __m512i LoadBlock(const Message& m, uint64_t b, uint64_t blocks) {
  const int64_t p = m.prefix >= 0 ? 1 : 0;
  const int64_t start = 64 * static_cast<int64_t>(b);  // the block's offset in prefix || data
  const int64_t end = static_cast<int64_t>(m.size) + p - start;  // where the 0x80 byte goes
  // A block wholly inside the data (the middle of a long message) is read as it lies.
  if (start >= p && end >= 64) return _mm512_loadu_si512(m.data + (start - p));
  const int64_t lo = std::clamp<int64_t>(p - start, 0, 64);
  const int64_t hi = std::clamp<int64_t>(end, 0, 64);
  const uint64_t mask = hi > lo ? MaskBelow(hi) & ~MaskBelow(lo) : 0;
  // Element i of the load is data[start - p + i]; the address may lie before data (the first
  // block's prefix), whose byte the mask leaves out.
  const auto* base = reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(m.data) +
                                                   static_cast<uintptr_t>(start - p));
  __m512i v = _mm512_maskz_loadu_epi8(mask, base);
  if (start < p) v = _mm512_mask_set1_epi8(v, 1, static_cast<char>(m.prefix));
  if (end >= 0 && end < 64) v = _mm512_mask_set1_epi8(v, uint64_t{1} << end, '\x80');
  if (b + 1 == blocks) {
    const uint64_t bits = (static_cast<uint64_t>(m.size) + static_cast<uint64_t>(p)) * 8;
    v = _mm512_mask_set1_epi64(v, 0x80, static_cast<long long>(__builtin_bswap64(bits)));
  }
  return v;
}

// r[l] holds the 16 words of lane l's block; afterwards r[j] holds word j of every lane.
ISMS_AVX512_INLINE void Transpose(__m512i (&r)[kWide]) {
  __m512i t[kWide];
  for (int i = 0; i < kWide; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // u[4g + k], 128-bit part q: rows 4g .. 4g + 3 of column 4q + k.
  __m512i u[kWide];
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512i x0 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x44);
    const __m512i x1 = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xee);
    const __m512i y0 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x44);
    const __m512i y1 = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xee);
    r[k] = _mm512_shuffle_i32x4(x0, y0, 0x88);
    r[4 + k] = _mm512_shuffle_i32x4(x0, y0, 0xdd);
    r[8 + k] = _mm512_shuffle_i32x4(x1, y1, 0x88);
    r[12 + k] = _mm512_shuffle_i32x4(x1, y1, 0xdd);
  }
}

// vpternlogd's truth tables (bit 4a + 2b + c of the immediate is f(a, b, c)).
constexpr int kXor3 = 0x96;
constexpr int kChoose = 0xca;    // Ch: a ? b : c
constexpr int kMajority = 0xe8;  // Maj

template <int A, int B, int C>
ISMS_AVX512 __m512i Rotations(__m512i x) {
  return _mm512_ternarylogic_epi32(_mm512_ror_epi32(x, A), _mm512_ror_epi32(x, B),
                                   _mm512_ror_epi32(x, C), kXor3);
}

template <int A, int B, int S>
ISMS_AVX512 __m512i RotationsAndShift(__m512i x) {
  return _mm512_ternarylogic_epi32(_mm512_ror_epi32(x, A), _mm512_ror_epi32(x, B),
                                   _mm512_srli_epi32(x, S), kXor3);
}

// One block into every lane's state: w[j] holds word j (big-endian, already swapped) of every
// lane's block. Section 6.2.2 steps 1 to 4.
ISMS_AVX512 void CompressWide(uint32_t (&state)[8][kWide], __m512i (&w)[kWide]) {
  __m512i v[8];
  for (int k = 0; k < 8; ++k) v[k] = _mm512_load_si512(state[k]);
  __m512i a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
#pragma GCC unroll 64
  for (int t = 0; t < 64; ++t) {
    if (t >= 16) {
      // W(t) = s1(W(t-2)) + W(t-7) + s0(W(t-15)) + W(t-16)
      w[t & 15] = _mm512_add_epi32(
          _mm512_add_epi32(RotationsAndShift<17, 19, 10>(w[(t - 2) & 15]), w[(t - 7) & 15]),
          _mm512_add_epi32(RotationsAndShift<7, 18, 3>(w[(t - 15) & 15]), w[t & 15]));
    }
    const __m512i t1 = _mm512_add_epi32(
        _mm512_add_epi32(h, Rotations<6, 11, 25>(e)),
        _mm512_add_epi32(
            _mm512_ternarylogic_epi32(e, f, g, kChoose),
            _mm512_add_epi32(w[t & 15], _mm512_set1_epi32(static_cast<int>(kRoundConstants[t])))));
    const __m512i t2 =
        _mm512_add_epi32(Rotations<2, 13, 22>(a), _mm512_ternarylogic_epi32(a, b, c, kMajority));
    h = g;
    g = f;
    f = e;
    e = _mm512_add_epi32(d, t1);
    d = c;
    c = b;
    b = a;
    a = _mm512_add_epi32(t1, t2);
  }
  const __m512i after[8] = {a, b, c, d, e, f, g, h};
  for (int k = 0; k < 8; ++k) _mm512_store_si512(state[k], _mm512_add_epi32(v[k], after[k]));
}

// Lane l's digest: H(N) word by word, each big-endian.
void WideFinish(const WideLanes& w, int l, Hash& out) {
  for (int k = 0; k < 8; ++k) {
    const uint32_t x = __builtin_bswap32(w.state[k][l]);
    std::memcpy(out.data() + 4 * k, &x, 4);
  }
}

// Lane l takes message get(next) (returns true), or stops when there is none.
template <typename Get>
bool WideStart(WideLanes& w, int l, size_t& next, size_t n, const Get& get) {
  w.on[l] = next < n;
  if (!w.on[l]) return false;
  w.m[l] = get(next);
  w.out[l] = next++;
  w.next[l] = 0;
  w.blocks[l] = BlocksOf(w.m[l]);
  for (int k = 0; k < 8; ++k) w.state[k][l] = kInitialHash[k];
  return true;
}

// Hashes messages get(0) .. get(n - 1) into out[0 .. n), 16 at a time. When the messages run out
// and only a few lanes are left (long messages among short ones), those go on in the SHA
// extensions' lanes if the CPU has them: the wide rounds would cost as much for them alone as
// for sixteen.
template <typename Get>
ISMS_AVX512 void InterleaveWide(size_t n, const Get& get, Hash* out, bool narrow_tail) {
  WideLanes w;
  size_t next = 0;
  int live = 0;
  for (int l = 0; l < kWide; ++l) live += WideStart(w, l, next, n, get) ? 1 : 0;
  const __m512i bswap =
      _mm512_broadcast_i32x4(_mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL));
  while (live > 0) {
    if (narrow_tail && next == n && live <= kMaxLanes) {
      Lane lanes[kMaxLanes];
      Lane* active[kMaxLanes];
      int count = 0;
      for (int l = 0; l < kWide; ++l) {
        if (!w.on[l]) continue;
        Lane& lane = lanes[count];
        const auto word = [&](int k) { return static_cast<int>(w.state[k][l]); };
        lane.abef = _mm_set_epi32(word(0), word(1), word(4), word(5));
        lane.cdgh = _mm_set_epi32(word(2), word(3), word(6), word(7));
        lane.m = w.m[l];
        lane.out = w.out[l];
        lane.next = w.next[l];
        lane.blocks = w.blocks[l];
        active[count++] = &lane;
      }
      RunLanes(active, count, next, n, get, out);
      return;
    }
    __m512i r[kWide];
    for (int l = 0; l < kWide; ++l) {
      r[l] = w.on[l] ? _mm512_shuffle_epi8(LoadBlock(w.m[l], w.next[l], w.blocks[l]), bswap)
                     : _mm512_setzero_si512();
    }
    Transpose(r);
    CompressWide(w.state, r);
    for (int l = 0; l < kWide; ++l) {
      if (!w.on[l] || ++w.next[l] < w.blocks[l]) continue;
      WideFinish(w, l, out[w.out[l]]);
      if (!WideStart(w, l, next, n, get)) --live;
    }
  }
}

#pragma GCC diagnostic pop

// What the CPU offers for the paths above, examined once.
struct CpuFeatures {
  bool sha = false;     // the SHA extensions (with the SSSE3 and SSE4.1 shuffles they need)
  bool avx512 = false;  // AVX-512 F and BW, with the registers' state saved by the system
  bool intel = false;
};

CpuFeatures DetectCpu() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) == 0) return f;
  f.intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;  // "GenuineIntel"
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
  const bool ssse3_sse41 = (c & (1u << 9)) != 0 && (c & (1u << 19)) != 0;
  const bool osxsave = (c & (1u << 27)) != 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return f;
  f.sha = ssse3_sse41 && (b & (1u << 29)) != 0;
  const bool avx512fbw = (b & (1u << 16)) != 0 && (b & (1u << 30)) != 0;
  if (osxsave && avx512fbw) {
    unsigned lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    // XCR0: the SSE and AVX state (bits 1, 2), the opmask and both halves of the ZMM registers
    // (bits 5 to 7).
    f.avx512 = (lo & 0xe6) == 0xe6;
  }
  return f;
}

const CpuFeatures& Cpu() {
  static const CpuFeatures f = DetectCpu();
  return f;
}

std::atomic<int> lanes_override{-1};

const uint8_t* Bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// Hashes messages get(0) .. get(n - 1) into out by the path Sha256Lanes() names; `one(i)` is
// message i's hash through OpenSSL.
template <typename Get, typename One>
void Hashes(size_t n, const Get& get, Hash* out, const One& one) {
  const int width = Sha256Lanes();
  const bool forced = lanes_override.load(std::memory_order_relaxed) == kWide;
  if (width == kWide && (forced || n >= kWideMinimum)) {
    InterleaveWide(n, get, out, /*narrow_tail=*/!forced && Cpu().sha);
    return;
  }
  const int narrow = width == kWide ? (Cpu().sha ? kDefaultLanes : 0) : width;
  if (narrow == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = one(i);
    return;
  }
  Interleave(n, get, out, narrow);
}

}  // namespace

int Sha256Lanes() {
  const CpuFeatures& cpu = Cpu();
  const int o = lanes_override.load(std::memory_order_relaxed);
  if (o == kWide) return cpu.avx512 ? kWide : 0;
  if (o >= 0) return cpu.sha ? std::min(o, kMaxLanes) : 0;
  if (cpu.avx512 && (cpu.intel || !cpu.sha)) return kWide;
  return cpu.sha ? kDefaultLanes : 0;
}

void SetSha256LanesForTesting(int lanes) {
  lanes_override.store(lanes, std::memory_order_relaxed);
}

void LeafHashes(std::span<const std::string_view> records, Hash* out) {
  Hashes(
      records.size(),
      [&](size_t i) {
        return Message{Bytes(records[i]), records[i].size(), 0x00};
      },
      out, [&](size_t i) { return LeafHash(records[i]); });
}

void NodeHashes(std::span<const Hash> children, Hash* out) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(children.data());
  Hashes(
      children.size() / 2,
      [&](size_t i) {
        return Message{bytes + 64 * i, 64, 0x01};
      },
      out, [&](size_t i) { return NodeHash(children[2 * i], children[2 * i + 1]); });
}

void Sha256s(std::span<const std::string_view> messages, Hash* out) {
  Hashes(
      messages.size(),
      [&](size_t i) {
        return Message{Bytes(messages[i]), messages[i].size(), -1};
      },
      out,
      [&](size_t i) {
        Hash h;
        SHA256(Bytes(messages[i]), messages[i].size(), h.data());
        return h;
      });
}

}  // namespace isms::audit
