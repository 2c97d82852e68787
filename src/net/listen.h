// What the network listeners of `isms serve` share: listen addresses and the server TLS context
// (TLS 1.2 or later, forward-secret AEAD ciphers only, no compression or renegotiation).
// Internal to net/: it includes Asio.
//
// Thread-safety: functions; a TLS context is shared read-only by the connections it serves.
#pragma once

#include <utility>  // before Asio under C++20

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"

namespace isms::net {

struct ListenAddress {
  boost::asio::ip::address address;
  unsigned short port = 0;
};

// "HOST:PORT", "[IPV6]:PORT" or "PORT" (127.0.0.1:PORT); "localhost" is 127.0.0.1.
// InvalidArgument naming the text and the accepted forms.
Result<ListenAddress> ParseListenAddress(const std::string& text);

// Names the calling thread (at most 15 bytes; longer names are cut), as `top -H`, `ps -L` and
// /proc/PID/task/TID/comm show it: "syslog-io", "syslog-writer", "http", "access-writer". The main
// thread keeps the process's name ("isms", which `pgrep` and `killall` look for): called there, it
// does nothing.
void NameThisThread(const char* name);

// "127.0.0.1:8443", "[::1]:8443".
std::string EndpointText(const boost::asio::ip::address& a, unsigned short port);

// A log line that repeats (a refused connection, a dropped datagram) is written at most once a
// second, with the count so far. Not thread-safe: its caller serialises.
class LogThrottle {
 public:
  bool Due() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1)) return false;
    last_ = now;
    return true;
  }

 private:
  std::chrono::steady_clock::time_point last_{};
};

struct TlsFiles {
  std::string cert, key;   // PEM: the certificate (chain) and its private key
  std::string client_ca;   // PEM; when set, clients need a certificate it signed
  // The options that named them, for messages: "--tls-cert", "--tls-key", "--syslog-client-ca".
  std::string cert_option = "--tls-cert", key_option = "--tls-key",
              client_ca_option = "--syslog-client-ca";
};

// A server context over `files`; InvalidArgument naming the option and file that is missing,
// unreadable, not PEM, or (the key) does not match the certificate.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const TlsFiles& files);

}  // namespace isms::net
