// Many independent SHA-256 hashes at once: the leaves of a batch, the nodes of one tree level.
// Each result is bit-identical to LeafHash / NodeHash (merkle.h); only the speed differs.
//
// One SHA-256 is a single chain of dependent rounds, so hashing messages one by one leaves most
// of the CPU's SHA unit idle. Where the CPU has the SHA extensions (CPUID leaf 7, EBX bit 29),
// these functions keep several messages in flight and interleave their rounds, so the rounds of
// one message fill the latency of another's; a message that ends (messages may differ in length)
// hands its place to the next. Without the extensions they call LeafHash / NodeHash one by one
// (OpenSSL). The CPU is examined once, on first use. See docs/audit-merkle.md.
//
// Thread-safety: every function may be called from any thread at the same time; they keep no
// state beyond the CPU check and the test override below.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "audit/merkle.h"

namespace isms::audit {

// out[i] = LeafHash(records[i]) for every i. `out` holds records.size() hashes; it must not
// overlap the records.
void LeafHashes(std::span<const std::string_view> records, Hash* out);

// out[i] = NodeHash(children[2i], children[2i + 1]) for i < children.size() / 2 (an odd last
// child is ignored). `out` holds children.size() / 2 hashes and must not overlap `children`: to
// go up a tree level by level, alternate between two buffers.
void NodeHashes(std::span<const Hash> children, Hash* out);

// out[i] = SHA-256(messages[i]), with no RFC 9162 prefix: the plain FIPS 180-4 hash, through the
// same paths as above (for tests against the published vectors).
void Sha256s(std::span<const std::string_view> messages, Hash* out);

// How the functions above compute: -1 (the default) chooses by the CPU; 0 forces the one-by-one
// OpenSSL fallback; 1, 2 or 4 forces that many interleaved messages (the SHA extensions must be
// present: otherwise the fallback is used anyway). For tests and benchmarks; it applies to every
// thread at once, so set it only while no other thread hashes.
void SetSha256LanesForTesting(int lanes);

// The number of interleaved messages the functions above use now; 0 when they fall back to
// OpenSSL.
int Sha256Lanes();

}  // namespace isms::audit
