// Address ranges in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or a bare address meaning a
// single host), for the sender allow-lists of the listeners (docs/serve.md).
//
// An IPv4 range also matches the IPv4-mapped IPv6 form of its addresses (::ffff:10.1.2.3), which
// is how a dual-stack socket reports IPv4 senders.
//
// Thread-safety: a Cidr is an immutable value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace isms::net {

class Cidr {
 public:
  // "ADDR/LEN" or "ADDR". InvalidArgument naming the text when the address or the prefix length
  // is not valid, or when bits are set beyond the prefix ("10.1.0.0/8").
  static Result<Cidr> Parse(std::string_view text);

  // Whether `address` (IPv4 dotted quad or IPv6 text, without brackets or zone) is in the range;
  // false for text that is not an address.
  bool Contains(std::string_view address) const;
  // The same for raw bytes in network order: 4 for IPv4, 16 for IPv6.
  bool Contains(const std::uint8_t* bytes, size_t size) const;

  bool is_v6() const { return v6_; }
  int prefix() const { return prefix_; }
  std::string ToString() const;

 private:
  std::array<std::uint8_t, 16> bytes_{};
  bool v6_ = false;
  int prefix_ = 0;
};

}  // namespace isms::net
