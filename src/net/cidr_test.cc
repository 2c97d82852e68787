#include "net/cidr.h"

#include <gtest/gtest.h>

namespace isms::net {
namespace {

Cidr Must(std::string_view text) {
  Result<Cidr> c = Cidr::Parse(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? *c : Cidr();
}

TEST(Cidr, Ipv4RangeMatchesItsAddressesOnly) {
  Cidr c = Must("10.0.0.0/8");
  EXPECT_FALSE(c.is_v6());
  EXPECT_EQ(c.prefix(), 8);
  EXPECT_TRUE(c.Contains("10.0.0.1"));
  EXPECT_TRUE(c.Contains("10.255.255.255"));
  EXPECT_FALSE(c.Contains("11.0.0.0"));
  EXPECT_FALSE(c.Contains("9.255.255.255"));
  EXPECT_FALSE(c.Contains("::1"));
  EXPECT_FALSE(c.Contains("not an address"));
}

TEST(Cidr, PrefixNotOnAByteBoundary) {
  Cidr c = Must("192.168.4.0/22");
  EXPECT_TRUE(c.Contains("192.168.4.0"));
  EXPECT_TRUE(c.Contains("192.168.7.255"));
  EXPECT_FALSE(c.Contains("192.168.8.0"));
  EXPECT_FALSE(c.Contains("192.168.3.255"));
}

TEST(Cidr, BareAddressIsASingleHost) {
  Cidr c = Must("127.0.0.1");
  EXPECT_EQ(c.prefix(), 32);
  EXPECT_TRUE(c.Contains("127.0.0.1"));
  EXPECT_FALSE(c.Contains("127.0.0.2"));
  Cidr v6 = Must("::1");
  EXPECT_EQ(v6.prefix(), 128);
  EXPECT_TRUE(v6.Contains("::1"));
  EXPECT_FALSE(v6.Contains("::2"));
}

TEST(Cidr, ZeroLengthMatchesEveryAddressOfItsFamily) {
  EXPECT_TRUE(Must("0.0.0.0/0").Contains("203.0.113.9"));
  EXPECT_TRUE(Must("::/0").Contains("2001:db8::1"));
  EXPECT_FALSE(Must("::/0").Contains("203.0.113.9"));
}

TEST(Cidr, Ipv6Range) {
  Cidr c = Must("2001:db8::/32");
  EXPECT_TRUE(c.is_v6());
  EXPECT_TRUE(c.Contains("2001:db8::1"));
  EXPECT_TRUE(c.Contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(c.Contains("2001:db9::"));
  EXPECT_FALSE(c.Contains("10.0.0.1"));
  Cidr odd = Must("fe80::/10");
  EXPECT_TRUE(odd.Contains("febf::1"));
  EXPECT_FALSE(odd.Contains("fec0::1"));
}

TEST(Cidr, Ipv4RangeMatchesMappedIpv6Senders) {
  Cidr c = Must("10.0.0.0/8");
  EXPECT_TRUE(c.Contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(c.Contains("::ffff:11.1.2.3"));
  EXPECT_FALSE(c.Contains("::10.1.2.3"));
}

TEST(Cidr, RawBytes) {
  const std::uint8_t v4[4] = {172, 16, 5, 4};
  EXPECT_TRUE(Must("172.16.0.0/12").Contains(v4, 4));
  EXPECT_FALSE(Must("172.32.0.0/12").Contains(v4, 4));
}

TEST(Cidr, RefusesBadText) {
  for (const char* text :
       {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0/8", "2001:db8::/129",
        "10.1.0.0/8", "2001:db8::1/32", "host.example/24", "10.0.0.0/8/8"}) {
    Result<Cidr> c = Cidr::Parse(text);
    EXPECT_FALSE(c.ok()) << text;
    if (!c.ok()) {
      EXPECT_NE(c.status().message().find("CIDR"), std::string::npos) << c.status().message();
    }
  }
}

TEST(Cidr, ToStringIsCanonical) {
  EXPECT_EQ(Must("10.0.0.0/8").ToString(), "10.0.0.0/8");
  EXPECT_EQ(Must("2001:0db8:0000::/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Must("::1").ToString(), "::1/128");
}

}  // namespace
}  // namespace isms::net
