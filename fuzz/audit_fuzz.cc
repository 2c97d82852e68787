// Fuzzes what a buyer's copy of isms reads from the supplier, and what verify reads back from a
// store that may have been tampered with: signed notes and checkpoints (audit/note.h,
// audit/checkpoint.h), proof documents (`isms audit verify-proof`, app/json_views.h), RFC 9162
// inclusion and consistency proofs (audit/proof.h), stored record encodings
// (formats/audit_record.h), the hex and base64 they carry, and the transition notes of a key
// rotation (app/audit.h). The first byte picks the target.
// Properties: no crash, no sanitizer report; a note or checkpoint opens with the fixed key only
// to a text that key signed (no forgery); a proof is accepted only as the honest proof of its
// tree (any other hashes, more or fewer, are refused); a checkpoint that parses prints back
// to the same text; a record encoding that decodes encodes back to the same bytes (one encoding
// a record), and a hex (in lower case) or base64 text that decodes encodes back to itself; a
// transition note is accepted from the fixed key only as the one it signed (to the second key),
// and a signature added to a note opens; a stored zstd frame read a piece at a time
// (audit/zstd_frame.h FrameReader, as a search reads the log's tail) gives exactly what reading it
// whole gives, or an error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/audit.h"
#include "app/json_views.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/proof.h"
#include "audit/zstd_frame.h"
#include "formats/audit_record.h"

namespace {

using isms::Result;
using isms::audit::Hash;

void Require(bool ok) {
  if (!ok) std::abort();
}

// A key of name isms-audit-fuzz from the seed bytes i * a + b.
isms::audit::NoteSigner SignerFromSeed(int a, int b) {
  std::uint8_t seed[32] = {};
  for (int i = 0; i < 32; ++i) seed[i] = static_cast<std::uint8_t>(i * a + b);
  return isms::audit::NoteSigner::FromSeed("isms-audit-fuzz",
                                           std::span<const std::uint8_t, 32>(seed))
      .value();
}

// The verifier of a key the fuzzer cannot sign with, and the signer of a fixed key whose notes
// the seeds hold (so that mutations of signed notes are explored past the signature check).
const isms::audit::NoteSigner& FixedSigner() {
  static const isms::audit::NoteSigner* s = new isms::audit::NoteSigner(SignerFromSeed(7, 1));
  return *s;
}

// The second key of the seeds' key transition (from the fixed key to this one).
const isms::audit::NoteSigner& SecondSigner() {
  static const isms::audit::NoteSigner* s = new isms::audit::NoteSigner(SignerFromSeed(11, 3));
  return *s;
}

// A tree of the leaves "leaf 0", "leaf 1", ... (n of them).
isms::audit::MemoryHashSource Tree(std::uint64_t n) {
  isms::audit::MemoryHashSource tree;
  for (std::uint64_t i = 0; i < n; ++i) {
    tree.Append(isms::audit::LeafHash("leaf " + std::to_string(i)));
  }
  return tree;
}

// Whether the fixed key signed `text` for the seeds: the checkpoints of origin isms/c/audit of
// Tree(12) at sizes 5 and 12, and the key transition from the fixed key to the second (which the
// second key signed too), the only notes in fuzz/seeds/audit_fuzz/. A note that opens with
// either key to any other text would be a forgery.
bool SignedForTheSeeds(std::string_view text) {
  static const std::vector<std::string>* texts = [] {
    auto* out = new std::vector<std::string>;
    out->push_back("isms audit key transition\nfrom " + FixedSigner().Verifier().Encode() +
                   "\nto " + SecondSigner().Verifier().Encode() +
                   "\nat 2026-11-30T12:00:00.000Z\n");
    isms::audit::MemoryHashSource tree = Tree(12);
    for (std::uint64_t size : {5, 12}) {
      isms::audit::Checkpoint cp;
      cp.origin = "isms/c/audit";
      cp.size = size;
      cp.root = isms::audit::RootAt(size, tree).value();
      out->push_back(isms::audit::CheckpointText(cp).value());
    }
    return out;
  }();
  return std::find(texts->begin(), texts->end(), text) != texts->end();
}

// Bytes taken from the front of the input, as the targets consume them.
class Input {
 public:
  explicit Input(std::string_view s) : s_(s) {}
  std::uint8_t Byte() {
    if (s_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(s_[0]);
    s_.remove_prefix(1);
    return b;
  }
  Hash TakeHash() {
    Hash h{};
    for (auto& b : h) b = Byte();
    return h;
  }
  bool empty() const { return s_.empty(); }

 private:
  std::string_view s_;
};

// A tree of 1 to 64 leaves; an honest proof; the same proof changed as the input says. The
// verifier must accept the honest proof, and the changed one exactly when it is the same.
void MerkleProofs(Input in) {
  const std::uint64_t n = 1 + in.Byte() % 64;
  isms::audit::MemoryHashSource tree = Tree(n);
  const bool inclusion = in.Byte() % 2 == 0;
  const std::uint64_t a = in.Byte() % (n + 1);  // inclusion: the index; consistency: m
  const Hash root = isms::audit::RootAt(n, tree).value();
  std::vector<Hash> honest;
  if (inclusion) {
    if (a >= n) return;
    honest = isms::audit::InclusionProof(a, n, tree).value();
  } else {
    honest = isms::audit::ConsistencyProof(a, n, tree).value();
  }
  const auto verify = [&](std::span<const Hash> p) {
    if (inclusion) {
      return isms::audit::VerifyInclusion(tree.Leaves()[a], a, n, p, root).ok();
    }
    const Hash root_m = isms::audit::RootAt(a, tree).value();
    return isms::audit::VerifyConsistency(a, n, root_m, root, p).ok();
  };
  Require(verify(honest));
  std::vector<Hash> changed = honest;
  while (!in.empty()) {
    switch (in.Byte() % 4) {
      case 0:  // replace a hash
        if (!changed.empty()) changed[in.Byte() % changed.size()] = in.TakeHash();
        break;
      case 1:  // drop one
        if (!changed.empty()) changed.erase(changed.begin() + in.Byte() % changed.size());
        break;
      case 2:  // insert one
        changed.insert(changed.begin() + in.Byte() % (changed.size() + 1), in.TakeHash());
        break;
      default:  // flip one bit
        if (!changed.empty()) {
          Hash& h = changed[in.Byte() % changed.size()];
          const std::uint8_t bit = in.Byte();
          h[(bit / 8) % h.size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        }
    }
  }
  Require(verify(changed) == (changed == honest));
}

void Notes(std::string_view text) {
  (void)isms::audit::ParseNote(text);
  Result<std::string> opened = isms::audit::OpenNote(text, FixedSigner().Verifier());
  if (opened.ok()) Require(SignedForTheSeeds(*opened));
}

void Checkpoints(std::string_view text) {
  Result<isms::audit::Checkpoint> cp = isms::audit::ParseCheckpointText(text);
  if (cp.ok()) {
    Result<std::string> printed = isms::audit::CheckpointText(*cp);
    Require(printed.ok());
    Require(*printed == text);
  }
  (void)isms::audit::ParseCheckpoint(text);
  Result<isms::audit::Checkpoint> verified =
      isms::audit::VerifyCheckpoint(text, FixedSigner().Verifier());
  if (verified.ok()) Require(SignedForTheSeeds(isms::audit::CheckpointText(*verified).value()));
}

void ProofDocuments(std::string_view text) {
  const isms::app::AuditProofCheck c =
      isms::app::VerifyAuditProofJson(text, FixedSigner().Verifier());
  Require(c.proved.size() <= 3);
  Require(c.status.ok() || c.proved.size() < 3);
}

// A key transition note, as a buyer's `isms audit verify-transition` reads it, and notes opened
// with several keys or given one more signature.
void KeyTransitions(std::string_view text) {
  const isms::audit::NoteVerifier fixed = FixedSigner().Verifier();
  Result<isms::app::AuditKeyTransition> t = isms::app::OpenAuditKeyTransition(text, {&fixed, 1});
  if (t.ok()) {
    Require(t->from.Encode() == fixed.Encode());
    Require(t->to.Encode() == SecondSigner().Verifier().Encode());
    Require(SignedForTheSeeds(isms::audit::OpenNote(text, fixed).value()));
  }
  (void)isms::app::AuditKeyTransitionOf(text);
  const std::vector<isms::audit::NoteVerifier> ring = {SecondSigner().Verifier(), fixed};
  Result<std::string> opened = isms::audit::OpenNote(text, ring);
  if (opened.ok()) Require(SignedForTheSeeds(*opened));
  Result<std::string> more = isms::audit::AddNoteSignature(text, SecondSigner());
  if (more.ok()) Require(isms::audit::OpenNote(*more, SecondSigner().Verifier()).ok());
}

void RecordEncodings(std::string_view bytes) {
  Result<isms::AuditRecord> r = isms::DecodeAuditRecord(bytes);
  if (!r.ok()) return;
  Result<std::string> again = isms::EncodeAuditRecord(*r, static_cast<std::uint8_t>(bytes[0]));
  Require(again.ok());
  Require(*again == bytes);
  (void)isms::PeekAuditCategory(bytes);
  (void)isms::PeekAuditKeys(bytes);
}

// A stored block or tail batch (possibly tampered with), read whole and a piece at a time with
// the pieces asked for and consumed in the sizes the input's first two bytes give. What reading
// in pieces accepts, reading whole accepts too, as the same bytes. (Not the other way round:
// reading in pieces also refuses bytes after the frame, such as a skippable frame, and windows
// larger than zstd's streaming limit. FrameReaderTest checks that it reads sound frames.)
void Frames(std::string_view in) {
  if (in.size() < 2) return;
  const std::size_t want = 1 + static_cast<std::uint8_t>(in[0]) * 257;
  const std::size_t take = 1 + static_cast<std::uint8_t>(in[1]) * 97;
  const std::string_view blob = in.substr(2);
  constexpr std::size_t kMax = 1 << 20;
  Result<std::string> whole = isms::audit::DecompressFrame(blob, kMax);
  isms::audit::FrameReader reader;
  std::string pieces;
  isms::Status s = reader.Open(blob, kMax);
  while (s.ok() && !reader.done()) {
    Result<std::string_view> avail = reader.Fill(want);
    s = avail.status();
    if (!avail.ok()) break;
    const std::size_t n = std::min(take, avail->size());
    pieces.append(avail->substr(0, n));
    reader.Consume(n);
    Require(pieces.size() <= kMax);
  }
  if (s.ok()) {
    Require(whole.ok());
    Require(*whole == pieces);
  }
}

void Texts(std::string_view text) {
  Result<Hash> h = isms::audit::HashFromHex(text);
  if (h.ok()) {
    std::string lower(text);
    for (char& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    Require(isms::audit::HashHex(*h) == lower);
  }
  Result<std::vector<std::uint8_t>> b = isms::audit::Base64Decode(text);
  if (b.ok()) Require(isms::audit::Base64Encode(*b) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::string_view rest = all.substr(1);
  switch (data[0] % 8) {
    case 0: MerkleProofs(Input(rest)); break;
    case 1: Notes(rest); break;
    case 2: Checkpoints(rest); break;
    case 3: ProofDocuments(rest); break;
    case 4: RecordEncodings(rest); break;
    case 6: KeyTransitions(rest); break;
    case 7: Frames(rest); break;
    default: Texts(rest); break;
  }
  return 0;
}
