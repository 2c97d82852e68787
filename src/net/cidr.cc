#include "net/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace isms::net {
namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Parses an address into `out`; returns 4, 16, or 0 when it is not one.
size_t ParseAddress(std::string_view text, std::uint8_t* out) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) return 4;
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) return 16;
  return 0;
}

bool PrefixEqual(const std::uint8_t* a, const std::uint8_t* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a CIDR range (" + why +
                                   "): write ADDRESS/LENGTH, e.g. 10.0.0.0/8 or 2001:db8::/32");
  };
  Cidr c;
  std::string_view addr = text;
  std::string_view len;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
  }
  size_t n = ParseAddress(addr, c.bytes_.data());
  if (n == 0) return bad("bad address");
  c.v6_ = n == 16;
  int max = c.v6_ ? 128 : 32;
  c.prefix_ = max;
  if (!len.empty() || text.find('/') != std::string_view::npos) {
    int v = -1;
    auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
    if (len.empty() || ec != std::errc() || p != len.data() + len.size() || v < 0 || v > max) {
      return bad("prefix length must be 0-" + std::to_string(max));
    }
    c.prefix_ = v;
  }
  for (int bit = c.prefix_; bit < max; ++bit) {
    if (c.bytes_[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
      return bad("bits set after the prefix");
    }
  }
  return c;
}

bool Cidr::Contains(std::string_view address) const {
  std::uint8_t buf[16];
  size_t n = ParseAddress(address, buf);
  return n != 0 && Contains(buf, n);
}

bool Cidr::Contains(const std::uint8_t* bytes, size_t size) const {
  if (size == 16 && !v6_) {
    if (std::memcmp(bytes, kMappedPrefix, sizeof kMappedPrefix) != 0) return false;
    bytes += 12;
    size = 4;
  }
  if (size != (v6_ ? 16u : 4u)) return false;
  return PrefixEqual(bytes, bytes_.data(), prefix_);
}

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix_);
}

}  // namespace isms::net
