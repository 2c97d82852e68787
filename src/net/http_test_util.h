// A blocking HTTP/1.1 client for the server tests: plain or TLS (TLS 1.2+ unless asked
// otherwise, no certificate check: the tests' servers are self-signed), one keep-alive
// connection per client.
#pragma once

#include <utility>  // before Asio under C++20

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/tls_cert.h"

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

class Client {
 public:
  // `tls_max_version`: e.g. TLS1_1_VERSION to check that old versions are refused.
  Client(unsigned short port, bool tls, int tls_max_version = 0)
      : port_(port), tls_(tls), ssl_(boost::asio::ssl::context::tls_client) {
    ssl_.set_verify_mode(boost::asio::ssl::verify_none);
    if (tls_max_version != 0) {
      SSL_CTX_set_min_proto_version(ssl_.native_handle(), 0);
      SSL_CTX_set_max_proto_version(ssl_.native_handle(), tls_max_version);
      SSL_CTX_set_security_level(ssl_.native_handle(), 0);
    }
  }

  // Connects (and for TLS, handshakes); false with the error in `error` when it fails.
  bool Connect(std::string* error = nullptr) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port_);
    if (tls_) {
      tls_stream_ = std::make_unique<boost::beast::ssl_stream<boost::beast::tcp_stream>>(io_, ssl_);
      boost::beast::get_lowest_layer(*tls_stream_).connect(ep, ec);
      if (!ec) tls_stream_->handshake(asio::ssl::stream_base::client, ec);
    } else {
      plain_ = std::make_unique<boost::beast::tcp_stream>(io_);
      plain_->connect(ep, ec);
    }
    if (ec && error) *error = ec.message();
    connected_ = !ec;
    return connected_;
  }

  // The SHA-256 fingerprint of the certificate the server presented ("" without a TLS
  // connection).
  std::string PeerFingerprint() {
    if (!tls_stream_) return "";
    X509* x = SSL_get1_peer_certificate(tls_stream_->native_handle());
    if (x == nullptr) return "";
    std::string fingerprint = CertificateFingerprint(x);
    X509_free(x);
    return fingerprint;
  }

  // Sends one request (connecting first when needed) and reads the reply.
  Reply Send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    namespace http = boost::beast::http;
    if (!connected_ && !Connect()) return Reply{};
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    if (method == "GET" || method == "HEAD") {
      if (body.empty()) req.erase(http::field::content_length);
    }
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (method == "HEAD") parser.skip(true);
    boost::system::error_code ec;
    Reply r;
    if (tls_) {
      http::write(*tls_stream_, req, ec);
      if (!ec) http::read(*tls_stream_, buffer, parser, ec);
    } else {
      http::write(*plain_, req, ec);
      if (!ec) http::read(*plain_, buffer, parser, ec);
    }
    if (ec) {
      connected_ = false;
      r.closed = true;
      return r;
    }
    auto res = parser.release();
    r.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace(name, std::string(f.value()));
    }
    r.body = std::move(res.body());
    r.closed = !res.keep_alive();
    if (r.closed) connected_ = false;
    return r;
  }

  // Writes raw bytes and reads whatever reply comes (for malformed requests).
  Reply SendRaw(const std::string& bytes) {
    namespace http = boost::beast::http;
    if (!connected_ && !Connect()) return Reply{};
    boost::system::error_code ec;
    if (tls_) {
      boost::asio::write(*tls_stream_, boost::asio::buffer(bytes), ec);
    } else {
      boost::asio::write(plain_->socket(), boost::asio::buffer(bytes), ec);
    }
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    if (!ec) {
      if (tls_) {
        http::read(*tls_stream_, buffer, res, ec);
      } else {
        http::read(*plain_, buffer, res, ec);
      }
    }
    Reply r;
    if (ec) {
      r.closed = true;
      return r;
    }
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    r.closed = !res.keep_alive();
    connected_ = !r.closed;
    return r;
  }

 private:
  unsigned short port_;
  bool tls_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_stream_;
  std::unique_ptr<boost::beast::tcp_stream> plain_;
  bool connected_ = false;
};

// The port of "https 127.0.0.1:PORT".
inline unsigned short PortOf(const std::string& listening) {
  return static_cast<unsigned short>(std::stoi(listening.substr(listening.rfind(':') + 1)));
}

}  // namespace isms::net::testing
