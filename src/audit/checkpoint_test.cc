#include "audit/checkpoint.h"

#include <gtest/gtest.h>

#include <string>

namespace isms::audit {
namespace {

// The example of c2sp.org/tlog-checkpoint.
constexpr std::string_view kSpecText =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr std::string_view kSpecNote =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\xE2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

Checkpoint Sample() {
  Checkpoint cp;
  cp.origin = "isms.example/contract-42/audit";
  cp.size = 1234567;
  cp.root = LeafHash("some root");
  return cp;
}

NoteSigner Signer(std::string_view name = "isms.example/contract-42/audit") {
  return NoteSigner::Generate(name).value();
}

TEST(Checkpoint, TextIsOriginSizeAndBase64Root) {
  Checkpoint cp = Sample();
  EXPECT_EQ(CheckpointText(cp).value(),
            "isms.example/contract-42/audit\n1234567\n" + Base64Encode(cp.root) + "\n");
  cp.extensions = {"first extension", "second"};
  EXPECT_EQ(CheckpointText(cp).value(), "isms.example/contract-42/audit\n1234567\n" +
                                            Base64Encode(cp.root) + "\nfirst extension\nsecond\n");
  cp.size = 0;
  cp.root = EmptyRoot();
  cp.extensions.clear();
  EXPECT_EQ(CheckpointText(cp).value(),
            "isms.example/contract-42/audit\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
}

TEST(Checkpoint, TheSpecExampleParsesAndPrintsBackIdentically) {
  Result<Checkpoint> cp = ParseCheckpointText(kSpecText);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(Base64Encode(cp->root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_EQ(CheckpointText(*cp).value(), kSpecText);

  Result<Checkpoint> unverified = ParseCheckpoint(kSpecNote);
  ASSERT_TRUE(unverified.ok()) << unverified.status().ToString();
  EXPECT_EQ(*unverified, *cp);
}

TEST(Checkpoint, SignVerifyRoundTrip) {
  NoteSigner signer = Signer();
  Checkpoint cp = Sample();
  cp.extensions = {"isms-shard node-1"};
  Result<std::string> note = SignCheckpoint(cp, signer);
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_TRUE(
      note->starts_with(CheckpointText(cp).value() + "\n\xE2\x80\x94 " + signer.name() + " "));
  Result<Checkpoint> verified = VerifyCheckpoint(*note, signer.Verifier());
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, cp);
  // Through the strings the lead's key files hold.
  NoteVerifier from_file = NoteVerifier::Decode(signer.Verifier().Encode()).value();
  EXPECT_EQ(VerifyCheckpoint(*note, from_file).value(), cp);
}

TEST(Checkpoint, TamperedBodyIsRejected) {
  NoteSigner signer = Signer();
  const std::string note = SignCheckpoint(Sample(), signer).value();
  const std::string text = CheckpointText(Sample()).value();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') continue;
    std::string tampered = note;
    tampered[i] = tampered[i] == '1' ? '2' : '1';
    Result<Checkpoint> r = VerifyCheckpoint(tampered, signer.Verifier());
    ASSERT_FALSE(r.ok()) << "byte " << i;
    ASSERT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  }
  std::string extended = note;
  extended.insert(text.size(), "extra line\n");
  EXPECT_FALSE(VerifyCheckpoint(extended, signer.Verifier()).ok());
}

TEST(Checkpoint, TamperedSignatureIsRejected) {
  NoteSigner signer = Signer();
  const std::string note = SignCheckpoint(Sample(), signer).value();
  const size_t sig_start = note.rfind(' ') + 1;
  const size_t sig_end = note.size() - 1;
  // Every base64 character of the signature changed (the key ID's, the signature's; the final
  // padding '=' excluded, since changing it makes the base64 invalid, which is also rejected).
  for (size_t i = sig_start; i < sig_end; ++i) {
    if (note[i] == '=') continue;
    std::string tampered = note;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    ASSERT_FALSE(VerifyCheckpoint(tampered, signer.Verifier()).ok()) << "byte " << i;
  }
}

TEST(Checkpoint, WrongKeyNameOrKeyIsRejected) {
  NoteSigner signer = Signer();
  const std::string note = SignCheckpoint(Sample(), signer).value();

  NoteVerifier renamed =
      NoteVerifier::FromPublicKey("isms.example/contract-43/audit", signer.Verifier().public_key())
          .value();
  Result<Checkpoint> r = VerifyCheckpoint(note, renamed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("no signature by key isms.example/contract-43/audit+"),
            std::string::npos)
      << r.status().message();

  NoteSigner other = Signer();  // same name, another key: another key ID
  EXPECT_EQ(VerifyCheckpoint(note, other.Verifier()).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(Checkpoint, CosignedCheckpointVerifiesWithEitherKey) {
  NoteSigner log = Signer();
  NoteSigner witness = Signer("witness.example/w1");
  const std::string note = SignCheckpoint(Sample(), log).value();
  const std::string text = CheckpointText(Sample()).value();
  const std::string witness_line = SignNote(text, witness).value().substr(text.size() + 1);
  const std::string cosigned = note + witness_line;
  EXPECT_EQ(VerifyCheckpoint(cosigned, log.Verifier()).value(), Sample());
  EXPECT_EQ(VerifyCheckpoint(cosigned, witness.Verifier()).value(), Sample());
}

TEST(Checkpoint, MalformedTextsAreRejectedNamingTheLine) {
  const std::string root = Base64Encode(LeafHash("r"));
  struct Case {
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {"", "end with a newline"},
      {"origin\n5\n" + root, "end with a newline"},
      {"origin\n5\n", "at least 3 lines"},
      {"\n5\n" + root + "\n", "line 1 is empty"},
      {"origin\n\n" + root + "\n", "line 2 is empty"},
      {"origin\n007\n" + root + "\n", "line 2"},
      {"origin\n-1\n" + root + "\n", "line 2"},
      {"origin\n1e3\n" + root + "\n", "line 2"},
      {"origin\n18446744073709551616\n" + root + "\n", "line 2"},
      {"origin\n5\n" + root.substr(4) + "\n", "line 3"},
      {"origin\n5\n" + Base64Encode(std::vector<uint8_t>(33)) + "\n", "line 3"},
      {"origin\n5\n" + root + "\n\nextension\n", "line 4 is empty"},
      // What CheckpointText would refuse to print (found by fuzz/audit_fuzz.cc).
      {std::string("ori\0gin\n5\n", 10) + root + "\n", "line 1 holds a newline or control"},
      {"origin\n5\n" + root + "\nexten\x1b[31msion\n", "line 4 holds a newline or control"},
      {"origin\r\n5\n" + root + "\n", "line 1 holds a newline or control"},
  };
  for (const Case& c : cases) {
    Result<Checkpoint> r = ParseCheckpointText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
  Result<Checkpoint> max = ParseCheckpointText("o\n18446744073709551615\n" + root + "\n");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->size, 18446744073709551615u);
  EXPECT_EQ(ParseCheckpointText("o\n0\n" + root + "\n").value().size, 0u);
}

TEST(Checkpoint, InvalidFieldsCannotBeSigned) {
  NoteSigner signer = Signer();
  Checkpoint cp = Sample();
  cp.origin = "";
  EXPECT_EQ(SignCheckpoint(cp, signer).status().code(), StatusCode::kInvalidArgument);
  cp.origin = "two\nlines";
  EXPECT_EQ(SignCheckpoint(cp, signer).status().code(), StatusCode::kInvalidArgument);
  cp = Sample();
  cp.extensions = {""};
  EXPECT_EQ(SignCheckpoint(cp, signer).status().code(), StatusCode::kInvalidArgument);
  cp.extensions = {"a\nb"};
  EXPECT_EQ(SignCheckpoint(cp, signer).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace isms::audit
