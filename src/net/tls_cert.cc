#include "net/tls_cert.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

namespace isms::net {

namespace {

namespace fs = std::filesystem;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using FilePtr = std::unique_ptr<FILE, FileClose>;

Result<X509Ptr> ReadCert(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "r"));
  if (!f) return Status::IoError(path + ": cannot read the certificate");
  X509Ptr x(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!x) return Status::InvalidArgument(path + ": not a PEM certificate");
  return x;
}

std::string Fingerprint(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(x, EVP_sha256(), md, &n);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

bool AddExtension(X509* x, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// True when the name can go in a DNS subjectAltName as is.
bool PlainHostName(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return true;
}

Status Create(const std::string& cert_path, const std::string& key_path,
              const std::string& host_name) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal("OpenSSL could not make a P-256 key");
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 397L * 24 * 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  std::string cn = PlainHostName(host_name) ? host_name : "localhost";
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("isms (self-signed)"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (PlainHostName(host_name) && host_name != "localhost") san += ",DNS:" + host_name;
  if (!AddExtension(x.get(), NID_subject_alt_name, san) ||
      !AddExtension(x.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExtension(x.get(), NID_key_usage, "critical,digitalSignature") ||
      !AddExtension(x.get(), NID_ext_key_usage, "serverAuth")) {
    return Status::Internal("OpenSSL refused a certificate extension");
  }
  if (X509_sign(x.get(), key.get(), EVP_sha256()) == 0) {
    return Status::Internal("OpenSSL could not sign the certificate");
  }
  std::string key_tmp = key_path + ".tmp", cert_tmp = cert_path + ".tmp";
  ::unlink(key_tmp.c_str());
  int fd = ::open(key_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::IoError(key_tmp + ": cannot create the key file");
  FilePtr kf(::fdopen(fd, "w"));
  if (!kf || PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      std::fflush(kf.get()) != 0 || ::fsync(fd) != 0) {
    return Status::IoError(key_tmp + ": cannot write the key");
  }
  kf.reset();
  FilePtr cf(std::fopen(cert_tmp.c_str(), "w"));
  if (!cf || PEM_write_X509(cf.get(), x.get()) != 1 || std::fflush(cf.get()) != 0) {
    return Status::IoError(cert_tmp + ": cannot write the certificate");
  }
  cf.reset();
  std::error_code ec;
  fs::rename(key_tmp, key_path, ec);
  if (!ec) fs::rename(cert_tmp, cert_path, ec);
  if (ec) return Status::IoError(cert_path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::string> CertificateFingerprint(const std::string& pem_path) {
  ISMS_ASSIGN_OR_RETURN(X509Ptr x, ReadCert(pem_path));
  return Fingerprint(x.get());
}

std::string CertificateFingerprint(X509* cert) { return Fingerprint(cert); }

std::string ReloadedMessage(std::string_view listener, const std::string& cert_path,
                            const Status& reloaded) {
  if (!reloaded.ok()) {
    return "SIGHUP: the " + std::string(listener) +
           " certificate was not reloaded, the previous one stays in use: " + reloaded.message();
  }
  Result<std::string> fp = CertificateFingerprint(cert_path);
  return "SIGHUP: new " + std::string(listener) + " connections use the certificate " + cert_path +
         (fp.ok() ? " (SHA-256 fingerprint " + *fp + ")" : "");
}

Result<SelfSignedCert> EnsureSelfSignedCert(const std::string& dir, const std::string& host_name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(dir + ": cannot create the folder: " + ec.message());
  SelfSignedCert out;
  out.cert_path = (fs::path(dir) / kSelfSignedCertFile).string();
  out.key_path = (fs::path(dir) / kSelfSignedKeyFile).string();
  bool have = fs::exists(out.cert_path) && fs::exists(out.key_path);
  if (have) {
    struct stat st {};
    if (::stat(out.key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      return Status::PermissionDenied(out.key_path +
                                      " is readable by other users; run chmod 600 on it");
    }
    ISMS_ASSIGN_OR_RETURN(X509Ptr x, ReadCert(out.cert_path));
    // Replaced when it has expired or expires within a day.
    time_t soon = std::time(nullptr) + 24 * 3600;
    if (X509_cmp_time(X509_get0_notAfter(x.get()), &soon) <= 0) have = false;
  }
  if (!have) {
    ISMS_RETURN_IF_ERROR(Create(out.cert_path, out.key_path, host_name));
    out.created = true;
  }
  ISMS_ASSIGN_OR_RETURN(out.fingerprint, CertificateFingerprint(out.cert_path));
  return out;
}

}  // namespace isms::net
