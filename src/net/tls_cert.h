// The HTTPS certificate of `isms serve` when none is given: a self-signed certificate made on
// first start in the data directory (ECDSA P-256, SHA-256, valid 397 days, for localhost,
// 127.0.0.1, ::1 and the machine's host name), and SHA-256 fingerprints to print so a user can
// check what the browser shows. docs/serve.md "HTTPS".
//
// Thread-safety: functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

struct x509_st;

namespace isms::net {

inline constexpr const char* kSelfSignedCertFile = "https-cert.pem";
inline constexpr const char* kSelfSignedKeyFile = "https-key.pem";

struct SelfSignedCert {
  std::string cert_path, key_path;
  std::string fingerprint;  // SHA-256 of the DER certificate, "AB:CD:..."
  bool created = false;     // made now (else it was there)
};

// The certificate and key in `dir` (created with the folder when missing; the key with mode
// 0600). A key readable by others is refused (PermissionDenied); a certificate that has expired
// or expires within a day is replaced.
Result<SelfSignedCert> EnsureSelfSignedCert(const std::string& dir, const std::string& host_name);

// The SHA-256 fingerprint of the first certificate of a PEM file.
Result<std::string> CertificateFingerprint(const std::string& pem_path);
// The SHA-256 fingerprint of a certificate (OpenSSL's X509), "AB:CD:...".
std::string CertificateFingerprint(x509_st* cert);

// The log line of a certificate reloaded on SIGHUP for `listener` ("HTTPS", "syslog TLS") from
// `cert_path`: the new certificate's fingerprint when `reloaded` is OK, else the error and that the
// previous certificate stays in use.
std::string ReloadedMessage(std::string_view listener, const std::string& cert_path,
                            const Status& reloaded);

}  // namespace isms::net
