#include "audit/note.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isms::audit {
namespace {

// Test vectors of golang.org/x/mod/sumdb/note (note_test.go): keys, text and signatures.
constexpr std::string_view kPeterSkey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kEnochVkey =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr std::string_view kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr std::string_view kPeterSig =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr std::string_view kEnochSig =
    "\xE2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

std::string S(std::string_view v) {
  return std::string(v);
}

TEST(NoteKeys, GoSignerKeyDecodesToTheGoVerifierKey) {
  Result<NoteSigner> signer = NoteSigner::Decode(kPeterSkey);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ(signer->name(), "PeterNeumann");
  EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer->Encode(), kPeterSkey);
  EXPECT_EQ(signer->Verifier().Encode(), kPeterVkey);

  Result<NoteVerifier> verifier = NoteVerifier::Decode(kPeterVkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  EXPECT_EQ(verifier->key_id(), 0xc74f20a3u);
  EXPECT_EQ(Ed25519KeyId("PeterNeumann", verifier->public_key()), 0xc74f20a3u);
  EXPECT_EQ(verifier->Encode(), kPeterVkey);
  EXPECT_EQ(NoteVerifier::Decode(kEnochVkey).value().key_id(), 0xaf0cfe78u);
}

TEST(NoteKeys, SigningReproducesTheGoSignatureExactly) {
  NoteSigner signer = NoteSigner::Decode(kPeterSkey).value();
  Result<std::string> note = SignNote(kText, signer);
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(*note, S(kText) + "\n" + S(kPeterSig));
}

TEST(NoteKeys, EveryTruncationAndEveryChangedByteOfAKeyIsRejected) {
  for (std::string_view key : {kPeterVkey, kPeterSkey}) {
    const bool is_signer = key.starts_with("PRIVATE");
    auto decodes = [&](std::string_view k) {
      return is_signer ? NoteSigner::Decode(k).ok() : NoteVerifier::Decode(k).ok();
    };
    ASSERT_TRUE(decodes(key));
    for (size_t i = 0; i <= key.size(); ++i) {
      for (size_t j = i + 1; j <= key.size(); ++j) {
        if (i == 0 && j == key.size()) continue;
        ASSERT_FALSE(decodes(key.substr(i, j - i))) << key.substr(i, j - i);
      }
    }
    std::string changed(key);
    for (size_t i = 0; i < changed.size(); ++i) {
      ++changed[i];
      ASSERT_FALSE(decodes(changed)) << changed;
      --changed[i];
    }
  }
  // A key of the wrong length and an unknown algorithm, each with a matching key ID.
  EXPECT_FALSE(NoteVerifier::Decode(
                   "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
                   .ok());
  EXPECT_FALSE(
      NoteVerifier::Decode("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
          .ok());
}

TEST(NoteKeys, DecodeErrorsSayWhatIsWrongAndNeverQuoteTheSecret) {
  Status s = NoteSigner::Decode(
                 "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
                 .status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("AYEKFALV"), std::string::npos) << s.message();
  EXPECT_NE(NoteSigner::Decode(kPeterVkey).status().message().find("PRIVATE+KEY+"),
            std::string::npos);
}

TEST(NoteKeys, GeneratedKeysRoundTripThroughTheirStrings) {
  Result<NoteSigner> signer = NoteSigner::Generate("isms.example/contract-42/audit");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  Result<NoteSigner> again = NoteSigner::Decode(signer->Encode());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->key_id(), signer->key_id());
  Result<NoteVerifier> verifier = NoteVerifier::Decode(signer->Verifier().Encode());
  ASSERT_TRUE(verifier.ok());

  std::array<uint8_t, 64> sig = again->Sign("hi").value();
  EXPECT_TRUE(verifier->Verify("hi", sig));
  EXPECT_FALSE(verifier->Verify("hj", sig));
  sig[0] ^= 1;
  EXPECT_FALSE(verifier->Verify("hi", sig));
  EXPECT_FALSE(verifier->Verify("hi", std::span(sig).first(63)));

  EXPECT_NE(NoteSigner::Generate("other").value().key_id(), signer->key_id());
  EXPECT_FALSE(NoteSigner::Generate("has space").ok());
}

TEST(NoteKeys, KeyNamesFollowTheSpec) {
  EXPECT_TRUE(IsValidKeyName("example.com/log42"));
  EXPECT_TRUE(IsValidKeyName("quasimodo.example/salvatore"));
  EXPECT_TRUE(IsValidKeyName("caf\xC3\xA9"));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("a+b"));
  EXPECT_FALSE(IsValidKeyName("a b"));
  EXPECT_FALSE(IsValidKeyName("a\tb"));
  EXPECT_FALSE(
      IsValidKeyName("a\xC2\xA0"
                     "b"));  // U+00A0 no-break space
  EXPECT_FALSE(
      IsValidKeyName("a\xE3\x80\x80"
                     "b"));  // U+3000 ideographic space
  EXPECT_FALSE(IsValidKeyName("a\xFF"));
  EXPECT_FALSE(IsValidKeyName("\xC0\xAF"));  // overlong '/'
}

TEST(SignedNote, OpenVerifiesTheKnownKeyAndIgnoresOthers) {
  NoteVerifier peter = NoteVerifier::Decode(kPeterVkey).value();
  NoteVerifier enoch = NoteVerifier::Decode(kEnochVkey).value();
  const std::string both = S(kText) + "\n" + S(kPeterSig) + S(kEnochSig);
  EXPECT_EQ(OpenNote(both, peter).value(), kText);
  EXPECT_EQ(OpenNote(both, enoch).value(), kText);

  Result<SignedNote> parsed = ParseNote(both);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->text, kText);
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(parsed->signatures[0].name, "PeterNeumann");
  EXPECT_EQ(parsed->signatures[0].key_id, 0xc74f20a3u);
  EXPECT_EQ(parsed->signatures[0].signature.size(), 64u);
  EXPECT_EQ(parsed->signatures[1].key_id, 0xaf0cfe78u);
}

TEST(SignedNote, WrongKeyNameOrKeyIsRejected) {
  NoteVerifier peter = NoteVerifier::Decode(kPeterVkey).value();
  const std::string note = S(kText) + "\n" + S(kEnochSig);
  Result<std::string> r = OpenNote(note, peter);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("no signature by key PeterNeumann+c74f20a3"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("EnochRoot+af0cfe78"), std::string::npos);

  // The same public key under another name has another key ID: the signature is not its.
  NoteVerifier renamed = NoteVerifier::FromPublicKey("PeterNeumann2", peter.public_key()).value();
  EXPECT_EQ(OpenNote(S(kText) + "\n" + S(kPeterSig), renamed).status().code(),
            StatusCode::kPermissionDenied);
  // A signature line that claims another name is not Peter's either.
  std::string misnamed = S(kText) + "\n" + S(kPeterSig);
  misnamed.replace(misnamed.find("PeterNeumann"), 12, "CarmenSandiego");
  EXPECT_EQ(OpenNote(misnamed, peter).status().code(), StatusCode::kPermissionDenied);
}

// A log's key and the keys it had before (key rotation): a note opens when any of them signed it.
TEST(SignedNote, OpenWithSeveralKeysTakesASignatureByAnyOfThem) {
  NoteVerifier peter = NoteVerifier::Decode(kPeterVkey).value();
  NoteVerifier enoch = NoteVerifier::Decode(kEnochVkey).value();
  const std::vector<NoteVerifier> ring = {peter, enoch};
  EXPECT_EQ(OpenNote(S(kText) + "\n" + S(kEnochSig), ring).value(), kText);
  EXPECT_EQ(OpenNote(S(kText) + "\n" + S(kPeterSig), ring).value(), kText);

  Result<NoteSigner> other = NoteSigner::Generate("Other");
  ASSERT_TRUE(other.ok());
  Result<std::string> by_other = SignNote(kText, *other);
  ASSERT_TRUE(by_other.ok());
  Result<std::string> r = OpenNote(*by_other, ring);
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("no signature by keys PeterNeumann+c74f20a3, "
                                      "EnochRoot+af0cfe78; it is signed by Other+"),
            std::string::npos)
      << r.status().message();
  // A bad signature by a known key refuses the note, whatever the other keys.
  std::string tampered = S(kText) + "\n" + S(kPeterSig);
  tampered[0] ^= 1;
  EXPECT_EQ(OpenNote(tampered, ring).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(
      OpenNote(S(kText) + "\n" + S(kPeterSig), std::span<const NoteVerifier>{}).status().code(),
      StatusCode::kPermissionDenied);
}

TEST(SignedNote, AddingASignatureKeepsTheTextAndTheOthers) {
  Result<NoteSigner> a = NoteSigner::Generate("a");
  Result<NoteSigner> b = NoteSigner::Generate("b");
  ASSERT_TRUE(a.ok() && b.ok());
  Result<std::string> one = SignNote(kText, *a);
  ASSERT_TRUE(one.ok());
  Result<std::string> two = AddNoteSignature(*one, *b);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->rfind(*one, 0), 0u);  // the note as it was, then one more line
  EXPECT_EQ(OpenNote(*two, a->Verifier()).value(), kText);
  EXPECT_EQ(OpenNote(*two, b->Verifier()).value(), kText);
  Result<SignedNote> parsed = ParseNote(*two);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(AddNoteSignature(*two, *a).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(AddNoteSignature("no blank line\n", *a).status().code(), StatusCode::kInvalidArgument);
}

TEST(SignedNote, TamperedTextOrSignatureIsRejected) {
  NoteVerifier peter = NoteVerifier::Decode(kPeterVkey).value();
  std::string note = S(kText) + "\n" + S(kPeterSig);
  ASSERT_TRUE(OpenNote(note, peter).ok());
  for (size_t i = 0; i < kText.size(); ++i) {
    std::string tampered = note;
    tampered[i] ^= 0x20;
    if (tampered[i] == '\n' || static_cast<unsigned char>(tampered[i]) < 0x20) continue;
    ASSERT_FALSE(OpenNote(tampered, peter).ok()) << i;
  }
  // Go's invalid-signature vector: "ABCD" inserted into the base64.
  std::string sig = S(kPeterSig);
  std::string bad = S(kText) + "\n" + sig.substr(0, 60) + "ABCD" + sig.substr(60);
  Result<std::string> r = OpenNote(bad, peter);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("does not verify"), std::string::npos)
      << r.status().message();
}

TEST(SignedNote, MalformedNotesAreRejected) {
  NoteVerifier peter = NoteVerifier::Decode(kPeterVkey).value();
  const std::string text = S(kText), sig = S(kPeterSig);
  std::string many = text + "\n";
  for (int i = 0; i < 101; ++i) many += sig;
  const std::vector<std::string> bad = {
      text,
      text + "\n",
      text + "\n" + sig.substr(0, sig.size() - 1),
      "\x01" + text + "\n" + sig,
      "\xff" + text + "\n" + sig,
      text + "\n" + "\xE2\x80\x94 Bad Name " + sig.substr(sig.rfind(' ') + 1),
      text + "\n" + sig + "Unexpected line.\n",
      text + "\n" + "-- PeterNeumann " + sig.substr(sig.rfind(' ') + 1),
      text + "\n" + "\xE2\x80\x94 PeterNeumann AAAA\n",
      many,
  };
  for (const std::string& note : bad) {
    Result<SignedNote> parsed = ParseNote(note);
    EXPECT_FALSE(parsed.ok()) << note;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(OpenNote(note, peter).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(SignedNote, TextMayHoldBlankLinesAsInTheSpecExample) {
  // The example of c2sp.org/signed-note: the text holds a blank line; the last one separates.
  const std::string note =
      "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \xC3\xA8 subito "
      "sera.\n\n\xE2\x80\x94 quasimodo.example/salvatore "
      "NnugSzTjtVAewIS+Z/iJhUPeFDkO/"
      "5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
  Result<SignedNote> parsed = ParseNote(note);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->text,
            "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \xC3\xA8 "
            "subito sera.\n");
  ASSERT_EQ(parsed->signatures.size(), 1u);
  EXPECT_EQ(parsed->signatures[0].name, "quasimodo.example/salvatore");
}

TEST(SignedNote, SignRejectsTextThatCannotBeANote) {
  NoteSigner signer = NoteSigner::Decode(kPeterSkey).value();
  EXPECT_EQ(SignNote("", signer).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("abc", signer).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("a\tb\n", signer).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("\xff\n", signer).status().code(), StatusCode::kInvalidArgument);
}

TEST(Base64, RoundTripsAndDecodesStrictly) {
  for (size_t n = 0; n < 40; ++n) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 37 + n);
    const std::string text = Base64Encode(bytes);
    EXPECT_EQ(text.size(), (n + 2) / 3 * 4);
    EXPECT_EQ(Base64Decode(text).value(), bytes) << text;
  }
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_FALSE(Base64Decode("Zm9vYg=").ok());
  EXPECT_FALSE(Base64Decode("Zm9vYh==").ok());  // non-zero unused bits
  EXPECT_FALSE(Base64Decode("Zm9v Yg==").ok());
  EXPECT_FALSE(Base64Decode("Zm=vYg==").ok());
  EXPECT_FALSE(Base64Decode("====").ok());
  EXPECT_FALSE(Base64Decode("Zm9vYg-_").ok());
}

}  // namespace
}  // namespace isms::audit
