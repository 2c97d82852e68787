#include "core/totp.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace isms {
namespace {

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

Instant At(std::int64_t unix_seconds) {
  return Instant(std::chrono::seconds(unix_seconds));
}

// RFC 4226 Appendix D: HMAC-SHA-1 of the counters 0-9 under the secret "12345678901234567890",
// and the HOTP value (6 digits) of each.
struct HotpVector {
  std::uint64_t count;
  const char* hmac;
  const char* hotp;
};
constexpr HotpVector kRfc4226[] = {
    {0, "cc93cf18508d94934c64b65d8ba7667fb7cde4b0", "755224"},
    {1, "75a48a19d4cbe100644e8ac1397eea747a2d33ab", "287082"},
    {2, "0bacb7fa082fef30782211938bc1c5e70416ff44", "359152"},
    {3, "66c28227d03a2d5529262ff016a1e6ef76557ece", "969429"},
    {4, "a904c900a64b35909874b33e61c5938a8e15ed1c", "338314"},
    {5, "a37e783d7b7233c083d4f62926c7a25f238d0316", "254676"},
    {6, "bc9cd28561042c83f219324d3c607256c03272ae", "287922"},
    {7, "a4fb960c0bc06e1eabb804e5b397cdc4b45596fa", "162583"},
    {8, "1b3c89f65e6c9e883012052823443f048b4332db", "399871"},
    {9, "1637409809a679dc698207310c8c7fc07290d9e5", "520489"},
};

// The RFC 4226 HMAC-SHA-1 values as a Mac: the HMAC of the secret for counters 0-9.
OtpMac Rfc4226Mac() {
  return [](std::string_view message) {
    for (const HotpVector& v : kRfc4226) {
      if (message == HotpMessage(v.count)) return FromHex(v.hmac);
    }
    return std::string(20, '\0');
  };
}

TEST(Hotp, TruncatesEveryRfc4226AppendixDValue) {
  for (const HotpVector& v : kRfc4226) {
    Result<std::string> code = HotpTruncate(FromHex(v.hmac), 6);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    EXPECT_EQ(*code, v.hotp) << "count " << v.count;
  }
}

TEST(Hotp, ComputesTheRfc4226ValuesThroughTheMac) {
  OtpMac mac = Rfc4226Mac();
  for (const HotpVector& v : kRfc4226) {
    EXPECT_EQ(Hotp(mac, v.count, 6).value(), v.hotp);
  }
}

TEST(Hotp, TruncationOfTheRfc4226Section531Example) {
  // RFC 4226 5.4: HMAC 1f8698690e02ca16618550ef7f19da8e945b555a, offset 0xa, DBC 0x50ef7f19,
  // value 1357872921, 6-digit HOTP 872921.
  EXPECT_EQ(HotpTruncate(FromHex("1f8698690e02ca16618550ef7f19da8e945b555a"), 6).value(), "872921");
  EXPECT_EQ(HotpTruncate(FromHex("1f8698690e02ca16618550ef7f19da8e945b555a"), 8).value(),
            "57872921");
}

TEST(Hotp, MessageIsTheCounterBigEndianOnEightBytes) {
  EXPECT_EQ(HotpMessage(0), std::string(8, '\0'));
  EXPECT_EQ(HotpMessage(0x0102030405060708ULL), "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_EQ(HotpMessage(0x27BC86AA), std::string("\0\0\0\0\x27\xbc\x86\xaa", 8));
}

TEST(Hotp, RefusesAShortMacAndDigitsOutsideSixToEight) {
  EXPECT_EQ(HotpTruncate(std::string(19, 'a'), 6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HotpTruncate(std::string(20, 'a'), 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HotpTruncate(std::string(20, 'a'), 9).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HotpTruncate(std::string(64, 'a'), 8).ok());
}

TEST(Hotp, KeepsLeadingZeros) {
  // offset 0, value 0x00000007: 000007.
  std::string mac(20, '\0');
  mac[3] = 7;
  EXPECT_EQ(HotpTruncate(mac, 6).value(), "000007");
  EXPECT_EQ(HotpTruncate(mac, 8).value(), "00000007");
}

TEST(Totp, CountersOfRfc6238AppendixB) {
  // The "Value of T (hex)" column of RFC 6238 Appendix B (X = 30, T0 = 0).
  TotpParams p;
  EXPECT_EQ(TotpCounter(At(59), p).value(), 0x1u);
  EXPECT_EQ(TotpCounter(At(1111111109), p).value(), 0x23523ECu);
  EXPECT_EQ(TotpCounter(At(1111111111), p).value(), 0x23523EDu);
  EXPECT_EQ(TotpCounter(At(1234567890), p).value(), 0x273EF07u);
  EXPECT_EQ(TotpCounter(At(2000000000), p).value(), 0x3F940AAu);
  EXPECT_EQ(TotpCounter(At(20000000000), p).value(), 0x27BC86AAu);
}

TEST(Totp, CounterRoundsDownWithinAStepAndHonoursT0) {
  TotpParams p;
  EXPECT_EQ(TotpCounter(At(0), p).value(), 0u);
  EXPECT_EQ(TotpCounter(At(29) + std::chrono::milliseconds(999), p).value(), 0u);
  EXPECT_EQ(TotpCounter(At(30), p).value(), 1u);
  p.t0 = At(100);
  p.step = std::chrono::seconds(60);
  EXPECT_EQ(TotpCounter(At(159), p).value(), 0u);
  EXPECT_EQ(TotpCounter(At(160), p).value(), 1u);
  EXPECT_EQ(TotpCounter(At(99), p).status().code(), StatusCode::kInvalidArgument);
  p.step = std::chrono::seconds(0);
  EXPECT_EQ(TotpCounter(At(200), p).status().code(), StatusCode::kInvalidArgument);
}

TEST(Totp, IsHotpOfTheTimeStep) {
  // With the RFC 4226 Mac, time steps 0-9 give that appendix's values.
  TotpParams p;
  EXPECT_EQ(Totp(Rfc4226Mac(), At(0), p).value(), "755224");
  EXPECT_EQ(Totp(Rfc4226Mac(), At(59), p).value(), "287082");
  EXPECT_EQ(Totp(Rfc4226Mac(), At(9 * 30 + 29), p).value(), "520489");
}

TEST(TotpVerify, AcceptsTheStepBeforeAtAndAfterNow) {
  OtpMac mac = Rfc4226Mac();
  TotpParams p;
  const Instant now = At(5 * 30 + 10);  // step 5
  EXPECT_EQ(TotpVerify(mac, "254676", now, p, 1, std::nullopt), 5u);
  EXPECT_EQ(TotpVerify(mac, "338314", now, p, 1, std::nullopt), 4u);
  EXPECT_EQ(TotpVerify(mac, "287922", now, p, 1, std::nullopt), 6u);
  EXPECT_EQ(TotpVerify(mac, "969429", now, p, 1, std::nullopt), std::nullopt);  // step 3
  EXPECT_EQ(TotpVerify(mac, "162583", now, p, 1, std::nullopt), std::nullopt);  // step 7
  EXPECT_EQ(TotpVerify(mac, "969429", now, p, 2, std::nullopt), 3u);
}

TEST(TotpVerify, AcceptsACodeOnceAndNoEarlierOneAfterIt) {
  OtpMac mac = Rfc4226Mac();
  TotpParams p;
  const Instant now = At(5 * 30);
  EXPECT_EQ(TotpVerify(mac, "254676", now, p, 1, 5u), std::nullopt);  // replayed
  EXPECT_EQ(TotpVerify(mac, "338314", now, p, 1, 5u), std::nullopt);  // older than the last
  EXPECT_EQ(TotpVerify(mac, "287922", now, p, 1, 5u), 6u);
  EXPECT_EQ(TotpVerify(mac, "254676", now, p, 1, 4u), 5u);
}

TEST(TotpVerify, RefusesMalformedCodesAndTheFirstStepHasNoPredecessor) {
  OtpMac mac = Rfc4226Mac();
  TotpParams p;
  EXPECT_EQ(TotpVerify(mac, "", At(0), p, 1, std::nullopt), std::nullopt);
  EXPECT_EQ(TotpVerify(mac, "75522", At(0), p, 1, std::nullopt), std::nullopt);
  EXPECT_EQ(TotpVerify(mac, "7552240", At(0), p, 1, std::nullopt), std::nullopt);
  EXPECT_EQ(TotpVerify(mac, "75522a", At(0), p, 1, std::nullopt), std::nullopt);
  EXPECT_EQ(TotpVerify(mac, "755224", At(0), p, 1, std::nullopt), 0u);
  EXPECT_EQ(TotpVerify(mac, "287082", At(0), p, 1, std::nullopt), 1u);
}

TEST(Base32, EncodesTheRfc4648Section10VectorsWithoutPadding) {
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(Base32Encode("fo"), "MZXQ");
  EXPECT_EQ(Base32Encode("foo"), "MZXW6");
  EXPECT_EQ(Base32Encode("foob"), "MZXW6YQ");
  EXPECT_EQ(Base32Encode("fooba"), "MZXW6YTB");
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32, DecodesWithOrWithoutPaddingInEitherCaseIgnoringSpaces) {
  EXPECT_EQ(Base32Decode("MZXW6YTBOI======").value(), "foobar");
  EXPECT_EQ(Base32Decode("MZXW6YTBOI").value(), "foobar");
  EXPECT_EQ(Base32Decode("mzxw 6ytb oi").value(), "foobar");
  EXPECT_EQ(Base32Decode("MY======").value(), "f");
  EXPECT_EQ(Base32Decode("").value(), "");
  for (int n = 0; n < 70; ++n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) bytes += static_cast<char>((i * 37 + n) & 0xff);
    EXPECT_EQ(Base32Decode(Base32Encode(bytes)).value(), bytes) << n;
  }
}

TEST(Base32, RefusesBadCharactersTrailingBitsAndTextAfterPadding) {
  Status s = Base32Decode("MZXW1").status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("character 5"), std::string::npos) << s.message();
  EXPECT_FALSE(Base32Decode("MZ").ok());      // 'Z' leaves non-zero bits
  EXPECT_FALSE(Base32Decode("MYA").ok());     // a character that holds no whole byte
  EXPECT_FALSE(Base32Decode("MY==MY").ok());  // text after padding
}

TEST(OtpauthUri, HoldsEveryParameterAndEscapesIssuerAndAccount) {
  TotpParams p;
  EXPECT_EQ(OtpauthUri("isms", "alice", "JBSWY3DPEHPK3PXP", p),
            "otpauth://totp/isms:alice?secret=JBSWY3DPEHPK3PXP&issuer=isms&algorithm=SHA1"
            "&digits=6&period=30");
  p.algorithm = OtpAlgorithm::kSha256;
  p.digits = 8;
  p.step = std::chrono::seconds(60);
  EXPECT_EQ(OtpauthUri("ACME Co", "bob@example.com", "AB", p),
            "otpauth://totp/ACME%20Co:bob%40example.com?secret=AB&issuer=ACME%20Co"
            "&algorithm=SHA256&digits=8&period=60");
}

TEST(ConstantTimeEquals, ComparesBytes) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace isms
