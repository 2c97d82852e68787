#include "audit/note.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace isms::audit {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;
constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 em dash, space
constexpr size_t kMaxSignatures = 100;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Decodes one UTF-8 code point at s[i], advancing i; -1 for an invalid sequence (overlong forms,
// surrogates and values above U+10FFFF included).
int32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len;
  int32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) return -1;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return -1;
    cp = cp << 6 | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += len;
  return cp;
}

// Go's unicode.IsSpace: the White_Space code points.
bool IsUnicodeSpace(int32_t c) {
  switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

// Empty when `text` is valid UTF-8 with no control character other than newline; else what is
// wrong with it.
std::string CheckNoteCharacters(std::string_view text) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const int32_t c = NextCodePoint(text, i);
    if (c < 0) return "line " + std::to_string(line) + " is not valid UTF-8";
    if (c == '\n') {
      ++line;
    } else if (c < 0x20) {
      return "line " + std::to_string(line) + " holds the control character " + std::to_string(c);
    }
  }
  return {};
}

std::string KeyIdHex(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

Result<uint32_t> ParseKeyIdHex(std::string_view hex) {
  if (hex.size() != 8) return Status::InvalidArgument("the key ID is not 8 hexadecimal digits");
  uint32_t id = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return Status::InvalidArgument("the key ID is not 8 hexadecimal digits");
    id = id << 4 | static_cast<uint32_t>(d);
  }
  return id;
}

// Splits s at the first `sep`: before and after (after empty when absent).
std::pair<std::string_view, std::string_view> Chop(std::string_view s, char sep) {
  size_t i = s.find(sep);
  if (i == std::string_view::npos) return {s, {}};
  return {s.substr(0, i), s.substr(i + 1)};
}

Result<Ed25519PublicKey> PublicKeyFromSeed(std::span<const uint8_t, 32> seed) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  Ed25519PublicKey pub;
  size_t len = pub.size();
  if (key == nullptr || EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 ||
      len != pub.size()) {
    return Status::Internal("OpenSSL could not derive an Ed25519 public key");
  }
  return pub;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    const int32_t c = NextCodePoint(name, i);
    if (c < 0 || c == '+' || IsUnicodeSpace(c)) return false;
  }
  return true;
}

uint32_t Ed25519KeyId(std::string_view name, const Ed25519PublicKey& public_key) {
  std::string input(name);
  input += '\n';
  input += static_cast<char>(kAlgEd25519);
  input.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  uint8_t digest[32];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    std::fputs("isms: OpenSSL SHA-256 failed\n", stderr);
    std::abort();
  }
  return uint32_t{digest[0]} << 24 | uint32_t{digest[1]} << 16 | uint32_t{digest[2]} << 8 |
         uint32_t{digest[3]};
}

Result<NoteVerifier> NoteVerifier::FromPublicKey(std::string_view name,
                                                 const Ed25519PublicKey& key) {
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument(
        "key name \"" + std::string(name) +
        "\" is invalid: it must be non-empty UTF-8 without spaces or '+'");
  }
  NoteVerifier v;
  v.name_ = std::string(name);
  v.public_key_ = key;
  v.key_id_ = Ed25519KeyId(name, key);
  return v;
}

Result<NoteVerifier> NoteVerifier::Decode(std::string_view vkey) {
  const std::string what = "verifier key \"" + std::string(vkey) + "\"";
  auto [name, rest] = Chop(vkey, '+');
  auto [hex, key64] = Chop(rest, '+');
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument(what + " does not start with a valid key name and '+'");
  }
  Result<uint32_t> id = ParseKeyIdHex(hex);
  if (!id.ok()) return id.status().WithContext(what);
  Result<std::vector<uint8_t>> key = Base64Decode(key64);
  if (!key.ok()) return key.status().WithContext(what + ": public key");
  if (key->empty() || (*key)[0] != kAlgEd25519) {
    return Status::InvalidArgument(what + " is not an Ed25519 key (algorithm byte 0x01)");
  }
  if (key->size() != 33) {
    return Status::InvalidArgument(what + ": an Ed25519 public key is 32 bytes, got " +
                                   std::to_string(key->size() - 1));
  }
  Ed25519PublicKey pub;
  std::copy(key->begin() + 1, key->end(), pub.begin());
  ISMS_ASSIGN_OR_RETURN(NoteVerifier v, FromPublicKey(name, pub));
  if (v.key_id_ != *id) {
    return Status::InvalidArgument(what + ": key ID " + std::string(hex) +
                                   " does not match the name and key (expected " +
                                   KeyIdHex(v.key_id_) + ")");
  }
  return v;
}

std::string NoteVerifier::Label() const {
  return name_ + "+" + KeyIdHex(key_id_);
}

std::string NoteVerifier::KeyIdText() const {
  return KeyIdHex(key_id_);
}

std::string NoteVerifier::Encode() const {
  std::vector<uint8_t> key{kAlgEd25519};
  key.insert(key.end(), public_key_.begin(), public_key_.end());
  return name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(key);
}

bool NoteVerifier::Verify(std::string_view message, std::span<const uint8_t> signature) const {
  if (signature.size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key_.data(),
                                       public_key_.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (key == nullptr || ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const uint8_t*>(message.data()), message.size()) == 1;
}

NoteSigner::~NoteSigner() {
  OPENSSL_cleanse(seed_.data(), seed_.size());
}

Result<NoteSigner> NoteSigner::Generate(std::string_view name) {
  std::array<uint8_t, 32> seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return Status::Internal("OpenSSL could not draw 32 random bytes for a new Ed25519 key");
  }
  Result<NoteSigner> signer = FromSeed(name, seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return signer;
}

Result<NoteSigner> NoteSigner::FromSeed(std::string_view name, std::span<const uint8_t, 32> seed) {
  ISMS_ASSIGN_OR_RETURN(Ed25519PublicKey pub, PublicKeyFromSeed(seed));
  ISMS_ASSIGN_OR_RETURN(NoteVerifier verifier, NoteVerifier::FromPublicKey(name, pub));
  NoteSigner s;
  std::copy(seed.begin(), seed.end(), s.seed_.begin());
  s.verifier_ = std::move(verifier);
  return s;
}

Result<NoteSigner> NoteSigner::Decode(std::string_view skey) {
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  const std::string what = "signer key";
  if (!skey.starts_with(kPrefix)) {
    return Status::InvalidArgument(what + " does not start with \"PRIVATE+KEY+\"");
  }
  auto [name, rest] = Chop(skey.substr(kPrefix.size()), '+');
  auto [hex, key64] = Chop(rest, '+');
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument(what + " has no valid key name after \"PRIVATE+KEY+\"");
  }
  const std::string named = what + " \"" + std::string(name) + "\"";
  Result<uint32_t> id = ParseKeyIdHex(hex);
  if (!id.ok()) return id.status().WithContext(named);
  Result<std::vector<uint8_t>> key = Base64Decode(key64);
  if (!key.ok()) return Status::InvalidArgument(named + ": the private key is not valid base64");
  if (key->empty() || (*key)[0] != kAlgEd25519) {
    return Status::InvalidArgument(named + " is not an Ed25519 key (algorithm byte 0x01)");
  }
  if (key->size() != 33) {
    OPENSSL_cleanse(key->data(), key->size());
    return Status::InvalidArgument(named + ": an Ed25519 private key seed is 32 bytes");
  }
  std::array<uint8_t, 32> seed;
  std::copy(key->begin() + 1, key->end(), seed.begin());
  OPENSSL_cleanse(key->data(), key->size());
  Result<NoteSigner> signer = FromSeed(name, seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!signer.ok()) return signer.status().WithContext(named);
  if (signer->key_id() != *id) {
    return Status::InvalidArgument(named + ": key ID " + std::string(hex) +
                                   " does not match the key (expected " +
                                   KeyIdHex(signer->key_id()) + ")");
  }
  return signer;
}

std::string NoteSigner::Encode() const {
  std::vector<uint8_t> key{kAlgEd25519};
  key.insert(key.end(), seed_.begin(), seed_.end());
  std::string out = "PRIVATE+KEY+" + name() + "+" + KeyIdHex(key_id()) + "+" + Base64Encode(key);
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

Result<std::array<uint8_t, 64>> NoteSigner::Sign(std::string_view message) const {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  std::array<uint8_t, 64> sig;
  size_t len = sig.size();
  if (key == nullptr || ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const uint8_t*>(message.data()),
                     message.size()) != 1 ||
      len != sig.size()) {
    return Status::Internal("OpenSSL could not make an Ed25519 signature with key " + name());
  }
  return sig;
}

Result<SignedNote> ParseNote(std::string_view note) {
  if (std::string bad = CheckNoteCharacters(note); !bad.empty()) {
    return Status::InvalidArgument("malformed signed note: " + bad);
  }
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::InvalidArgument(
        "malformed signed note: no blank line between the text and the signatures");
  }
  SignedNote out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return Status::InvalidArgument(
        "malformed signed note: the signature lines must follow the blank line, each ending in a "
        "newline");
  }
  while (!sigs.empty()) {
    const size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    const std::string which = "signature line " + std::to_string(out.signatures.size() + 1);
    if (out.signatures.size() == kMaxSignatures) {
      return Status::InvalidArgument("malformed signed note: more than 100 signatures");
    }
    if (!line.starts_with(kSigPrefix)) {
      return Status::InvalidArgument("malformed signed note: " + which +
                                     " does not start with an em dash (U+2014) and a space");
    }
    line.remove_prefix(kSigPrefix.size());
    auto [name, b64] = Chop(line, ' ');
    if (!IsValidKeyName(name)) {
      return Status::InvalidArgument("malformed signed note: " + which +
                                     " has an invalid key name");
    }
    Result<std::vector<uint8_t>> sig = Base64Decode(b64);
    if (!sig.ok() || sig->size() < 5) {
      return Status::InvalidArgument("malformed signed note: " + which + " (key " +
                                     std::string(name) +
                                     ") does not hold a base64 key ID and signature");
    }
    NoteSignature s;
    s.name = std::string(name);
    s.key_id = uint32_t{(*sig)[0]} << 24 | uint32_t{(*sig)[1]} << 16 | uint32_t{(*sig)[2]} << 8 |
               uint32_t{(*sig)[3]};
    s.signature.assign(sig->begin() + 4, sig->end());
    out.signatures.push_back(std::move(s));
  }
  return out;
}

Result<std::string> SignNote(std::string_view text, const NoteSigner& signer) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("a note's text must be non-empty and end with a newline");
  }
  if (std::string bad = CheckNoteCharacters(text); !bad.empty()) {
    return Status::InvalidArgument("a note's text must be UTF-8 without control characters: " +
                                   bad);
  }
  ISMS_ASSIGN_OR_RETURN(auto sig, signer.Sign(text));
  std::vector<uint8_t> blob{
      static_cast<uint8_t>(signer.key_id() >> 24), static_cast<uint8_t>(signer.key_id() >> 16),
      static_cast<uint8_t>(signer.key_id() >> 8), static_cast<uint8_t>(signer.key_id())};
  blob.insert(blob.end(), sig.begin(), sig.end());
  std::string out(text);
  out += '\n';
  out += kSigPrefix;
  out += signer.name();
  out += ' ';
  out += Base64Encode(blob);
  out += '\n';
  return out;
}

Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier) {
  return OpenNote(note, std::span<const NoteVerifier>(&verifier, 1));
}

Result<std::string> OpenNote(std::string_view note, std::span<const NoteVerifier> keys) {
  ISMS_ASSIGN_OR_RETURN(SignedNote parsed, ParseNote(note));
  std::string others;
  for (const NoteSignature& s : parsed.signatures) {
    for (const NoteVerifier& v : keys) {
      if (s.name != v.name() || s.key_id != v.key_id()) continue;
      if (!v.Verify(parsed.text, s.signature)) {
        return Status::PermissionDenied(
            "the signature by key " + v.Label() +
            " does not verify: the note's text or signature was altered");
      }
      return parsed.text;
    }
    others += (others.empty() ? "" : ", ") + s.name + "+" + KeyIdHex(s.key_id);
  }
  std::string known;
  for (const NoteVerifier& v : keys) known += (known.empty() ? "" : ", ") + v.Label();
  return Status::PermissionDenied("the note carries no signature by key" +
                                  std::string(keys.size() == 1 ? " " : "s ") + known +
                                  "; it is signed by " + others);
}

Result<std::string> AddNoteSignature(std::string_view note, const NoteSigner& signer) {
  ISMS_ASSIGN_OR_RETURN(SignedNote parsed, ParseNote(note));
  if (parsed.signatures.size() >= kMaxSignatures) {
    return Status::InvalidArgument("the note has 100 signatures, the most a note may carry");
  }
  for (const NoteSignature& s : parsed.signatures) {
    if (s.name == signer.name() && s.key_id == signer.key_id()) {
      return Status::AlreadyExists("the note is signed by key " + signer.Verifier().Label() +
                                   " already");
    }
  }
  ISMS_ASSIGN_OR_RETURN(std::string one, SignNote(parsed.text, signer));
  // SignNote wrote the text, a blank line and the new signature line: keep the note's own lines
  // and add that one.
  std::string out(note);  // ends with a newline, as ParseNote checked
  out += one.substr(parsed.text.size() + 1);
  return out;
}

std::string Base64Encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | (rest == 2 ? uint32_t{bytes[i + 1]} << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) {
    return Status::InvalidArgument("base64 text must be a multiple of 4 characters long");
  }
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const bool padded = last && k >= 4 - pad;
      const int d = padded ? 0 : value(text[i + k]);
      if (d < 0)
        return Status::InvalidArgument("base64 text holds a character outside A-Za-z0-9+/=");
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (!last || pad < 2) out.push_back(static_cast<uint8_t>(v >> 8));
    if (!last || pad < 1) out.push_back(static_cast<uint8_t>(v));
    if (last && ((pad == 1 && (v & 0xFF) != 0) || (pad == 2 && (v & 0xFFFF) != 0))) {
      return Status::InvalidArgument("base64 text is not canonical (non-zero unused bits)");
    }
  }
  return out;
}

}  // namespace isms::audit
