#include "net/http_test_util.h"

#include <utility>  // before Asio under C++20

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>

#include "net/tls_cert.h"

namespace isms::net::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

struct Client::Impl {
  unsigned short port;
  bool tls;
  asio::io_context io;
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  std::unique_ptr<beast::tcp_stream> plain;
  bool connected = false;

  // Writes a message to, or reads one from, the TLS or the plain stream.
  template <typename Message>
  void Write(const Message& m, boost::system::error_code& ec) {
    if (tls) {
      http::write(*tls_stream, m, ec);
    } else {
      http::write(*plain, m, ec);
    }
  }
  template <typename Target>
  void Read(beast::flat_buffer& buffer, Target& into, boost::system::error_code& ec) {
    if (tls) {
      http::read(*tls_stream, buffer, into, ec);
    } else {
      http::read(*plain, buffer, into, ec);
    }
  }
};

Client::Client(unsigned short port, bool tls, int tls_max_version) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->tls = tls;
  impl_->ssl.set_verify_mode(asio::ssl::verify_none);
  if (tls_max_version != 0) {
    SSL_CTX_set_min_proto_version(impl_->ssl.native_handle(), 0);
    SSL_CTX_set_max_proto_version(impl_->ssl.native_handle(), tls_max_version);
    SSL_CTX_set_security_level(impl_->ssl.native_handle(), 0);
  }
}

Client::~Client() = default;

bool Client::Connect(std::string* error) {
  Impl& d = *impl_;
  boost::system::error_code ec;
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), d.port);
  if (d.tls) {
    d.tls_stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(d.io, d.ssl);
    beast::get_lowest_layer(*d.tls_stream).connect(ep, ec);
    if (!ec) d.tls_stream->handshake(asio::ssl::stream_base::client, ec);
  } else {
    d.plain = std::make_unique<beast::tcp_stream>(d.io);
    d.plain->connect(ep, ec);
  }
  if (ec && error) *error = ec.message();
  d.connected = !ec;
  return d.connected;
}

std::string Client::PeerFingerprint() {
  if (!impl_->tls_stream) return "";
  X509* x = SSL_get1_peer_certificate(impl_->tls_stream->native_handle());
  if (x == nullptr) return "";
  std::string fingerprint = CertificateFingerprint(x);
  X509_free(x);
  return fingerprint;
}

Reply Client::Send(const std::string& method, const std::string& target, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
  Impl& d = *impl_;
  if (!d.connected && !Connect()) return Reply{};
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(d.port));
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  if (method == "GET" || method == "HEAD") {
    if (body.empty()) req.erase(http::field::content_length);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 32);
  if (method == "HEAD") parser.skip(true);
  boost::system::error_code ec;
  Reply r;
  d.Write(req, ec);
  if (!ec) d.Read(buffer, parser, ec);
  if (ec) {
    d.connected = false;
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
  if (r.closed) d.connected = false;
  return r;
}

Reply Client::SendRaw(const std::string& bytes) {
  Impl& d = *impl_;
  if (!d.connected && !Connect()) return Reply{};
  boost::system::error_code ec;
  if (d.tls) {
    asio::write(*d.tls_stream, asio::buffer(bytes), ec);
  } else {
    asio::write(d.plain->socket(), asio::buffer(bytes), ec);
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) d.Read(buffer, res, ec);
  Reply r;
  if (ec) {
    r.closed = true;
    return r;
  }
  r.status = static_cast<int>(res.result_int());
  r.body = res.body();
  r.closed = !res.keep_alive();
  d.connected = !r.closed;
  return r;
}

}  // namespace isms::net::testing
