// A blocking HTTP/1.1 client for the server tests: plain or TLS (TLS 1.2+ unless asked
// otherwise, no certificate check: the tests' servers are self-signed), one keep-alive
// connection per client.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace isms::net::testing {

struct Reply {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lower case
  std::string body;
  bool closed = false;  // the server closed the connection after it

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Beast and Asio stay in http_test_util.cc: every server test includes this header, and they
// took most of each test file's compile time.
class Client {
 public:
  // `tls_max_version`: e.g. TLS1_1_VERSION to check that old versions are refused.
  Client(unsigned short port, bool tls, int tls_max_version = 0);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects (and for TLS, handshakes); false with the error in `error` when it fails.
  bool Connect(std::string* error = nullptr);

  // The SHA-256 fingerprint of the certificate the server presented ("" without a TLS
  // connection).
  std::string PeerFingerprint();

  // Sends one request (connecting first when needed) and reads the reply.
  Reply Send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Writes raw bytes and reads whatever reply comes (for malformed requests).
  Reply SendRaw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The port of "https 127.0.0.1:PORT".
inline unsigned short PortOf(const std::string& listening) {
  return static_cast<unsigned short>(std::stoi(listening.substr(listening.rfind(':') + 1)));
}

}  // namespace isms::net::testing
