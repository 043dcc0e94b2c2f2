// TLS for Tarn's HTTP: an OpenSSL context for the server (certificate + key) or the client
// (trusted CA file), and a self-signed certificate made on first start.
//
// Contract
// - A TlsContext is immutable after creation and shared by every connection (thread-safe, as
//   OpenSSL's SSL_CTX is once configured).
// - EnsureSelfSigned creates <dir>/cert.pem and <dir>/key.pem (0600) if either is missing, or
//   if the certificate there does not cover every name asked for: an EC P-256 key and a
//   certificate for localhost, 127.0.0.1, ::1 and the names given (virtual hosts, such as
//   "*.blob.localhost"), valid for 825 days. Clients trust it by naming cert.pem
//   (REQUESTS_CA_BUNDLE, connection_verify, --ca-file).
//
//   TARN_RETURN_IF_ERROR(EnsureSelfSigned(data_dir + "/tls", {"*.blob.localhost"}));
//   TARN_ASSIGN_OR_RETURN(auto tls, TlsContext::ForServer(dir + "/cert.pem", dir + "/key.pem"));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tarn::http {

class TlsContext {
 public:
  static StatusOr<std::unique_ptr<TlsContext>> ForServer(const std::string& cert_pem,
                                                         const std::string& key_pem);
  // ca_pem "" uses the system's trust store.
  static StatusOr<std::unique_ptr<TlsContext>> ForClient(const std::string& ca_pem);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

Status EnsureSelfSigned(const std::string& dir, const std::vector<std::string>& dns_names = {});

// The OpenSSL error queue as text (and cleared), for messages.
std::string OpenSslErrors();

}  // namespace tarn::http
