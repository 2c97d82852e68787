#include "net/listen.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>

namespace isms::net {

namespace asio = boost::asio;
using boost::system::error_code;

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("listen address '" + text + "': " + why +
                                   "; write HOST:PORT, [IPV6]:PORT or PORT (127.0.0.1:PORT)");
  };
  std::string host = "127.0.0.1";
  std::string port = text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return bad("no ']:' after the IPv6 address");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return bad("put an IPv6 address in brackets");
  }
  if (host == "localhost") host = "127.0.0.1";
  ListenAddress a;
  int p = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 0 || p > 65535) {
    return bad("the port must be a number 0-65535");
  }
  a.port = static_cast<unsigned short>(p);
  error_code err;
  a.address = asio::ip::make_address(host, err);
  if (err) return bad("'" + host + "' is not an IP address");
  return a;
}

void NameThisThread(const char* name) {
  if (gettid() == getpid()) return;  // the main thread's name is the process's: "isms"
  char cut[16] = {};
  std::strncpy(cut, name, sizeof cut - 1);
  (void)pthread_setname_np(pthread_self(), cut);  // only fails for a name that is too long
}

std::string EndpointText(const asio::ip::address& a, unsigned short port) {
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(port)
                   : a.to_string() + ":" + std::to_string(port);
}

namespace {

Status CheckReadable(const std::string& path, const std::string& option) {
  if (path.empty()) return Status::InvalidArgument("TLS needs " + option + " FILE (PEM)");
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument(option + " " + path + ": cannot read the file");
  return Status::Ok();
}

// Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange and AEAD ciphers only. TLS 1.3
// suites are OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(const TlsFiles& f) {
  ISMS_RETURN_IF_ERROR(CheckReadable(f.cert, f.cert_option));
  ISMS_RETURN_IF_ERROR(CheckReadable(f.key, f.key_option));
  if (!f.client_ca.empty()) ISMS_RETURN_IF_ERROR(CheckReadable(f.client_ca, f.client_ca_option));
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
                   asio::ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Status::Internal("OpenSSL refused the TLS 1.2 cipher list");
  }
  error_code ec;
  ctx->use_certificate_chain_file(f.cert, ec);
  if (ec) {
    return Status::InvalidArgument(f.cert_option + " " + f.cert +
                                   ": not a PEM certificate: " + ec.message());
  }
  ctx->use_private_key_file(f.key, asio::ssl::context::pem, ec);
  if (ec && ec.message().find("mismatch") != std::string::npos) {
    return Status::InvalidArgument(f.key_option + " " + f.key + " does not match " +
                                   f.cert_option + " " + f.cert);
  }
  if (ec) {
    return Status::InvalidArgument(f.key_option + " " + f.key +
                                   ": not a PEM private key: " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status::InvalidArgument(f.key_option + " " + f.key + " does not match " +
                                   f.cert_option + " " + f.cert);
  }
  if (!f.client_ca.empty()) {
    ctx->load_verify_file(f.client_ca, ec);
    if (ec) {
      return Status::InvalidArgument(f.client_ca_option + " " + f.client_ca +
                                     ": not a PEM certificate: " + ec.message());
    }
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace isms::net
