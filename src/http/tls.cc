#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace tarn::http {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

Status TlsError(const std::string& what) { return InternalError(what + ": " + OpenSslErrors()); }

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return TlsError("certificate extension");
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? Status::Ok() : TlsError("certificate extension");
}

Status WritePem(const std::string& path, mode_t mode, bool key, EVP_PKEY* pkey, X509* cert) {
  std::string tmp = path + ".tmp";
  FILE* raw = std::fopen(tmp.c_str(), "wb");
  if (!raw) return InternalError("cannot create " + tmp);
  std::unique_ptr<FILE, FileClose> f(raw);
  ::chmod(tmp.c_str(), mode);
  int ok = key ? PEM_write_PrivateKey(f.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_X509(f.get(), cert);
  if (!ok || std::fflush(f.get()) != 0 || ::fsync(fileno(f.get())) != 0) {
    return TlsError("cannot write " + tmp);
  }
  f.reset();
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return InternalError("cannot install " + path + ": " + ec.message());
  return Status::Ok();
}

// Whether the certificate at `path` names each of `names` (a wildcard such as "*.blob.x" is
// checked with a host it covers).
bool CoversNames(const std::string& path, const std::vector<std::string>& names) {
  FILE* raw = std::fopen(path.c_str(), "rb");
  if (!raw) return false;
  std::unique_ptr<FILE, FileClose> f(raw);
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return false;
  for (const std::string& n : names) {
    const std::string host = n.rfind("*.", 0) == 0 ? "a" + n.substr(1) : n;
    if (X509_check_host(cert.get(), host.data(), host.size(), 0, nullptr) != 1) return false;
  }
  return true;
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

StatusOr<std::unique_ptr<TlsContext>> TlsContext::ForServer(const std::string& cert_pem,
                                                            const std::string& key_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return TlsError("SSL_CTX_new");
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // RELEASE_BUFFERS: a connection waiting for its next request holds no 34 KiB of record
  // buffers, which matters with thousands of them waiting in the reactor.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_pem.c_str()) != 1) {
    return TlsError("cannot load the TLS certificate " + cert_pem);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_pem.c_str(), SSL_FILETYPE_PEM) != 1) {
    return TlsError("cannot load the TLS key " + key_pem);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return TlsError("the TLS key " + key_pem + " does not match " + cert_pem);
  }
  return out;
}

StatusOr<std::unique_ptr<TlsContext>> TlsContext::ForClient(const std::string& ca_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return TlsError("SSL_CTX_new");
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int ok = ca_pem.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                          : SSL_CTX_load_verify_locations(ctx, ca_pem.c_str(), nullptr);
  if (ok != 1) return TlsError("cannot load trusted certificates " + ca_pem);
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Status EnsureSelfSigned(const std::string& dir, const std::vector<std::string>& dns_names) {
  const std::string cert_path = dir + "/cert.pem", key_path = dir + "/key.pem";
  if (std::filesystem::exists(cert_path) && std::filesystem::exists(key_path) &&
      CoversNames(cert_path, dns_names)) {
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InternalError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(EVP_EC_gen("P-256"));
  if (!pkey) return TlsError("cannot generate a TLS key");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return TlsError("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return TlsError("RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tarn"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const std::string& n : dns_names) names += ",DNS:" + n;
  TARN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, names.c_str()));
  TARN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  TARN_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign"));
  TARN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  TARN_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) == 0) return TlsError("X509_sign");
  TARN_RETURN_IF_ERROR(WritePem(key_path, 0600, true, pkey.get(), nullptr));
  return WritePem(cert_path, 0644, false, nullptr, cert.get());
}

}  // namespace tarn::http
