#include "identity/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/crypto.h"
#include "common/encoding.h"

namespace tarn::identity {
namespace {

Status Invalid(const std::string& why) {
  return Error(Reason::kInvalidAuthenticationInfo, "the bearer token is invalid: " + why);
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string BigNumBytes(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return "";
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<SigningKey>> SigningKey::Generate() {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  if (!pkey) return InternalError("cannot generate an RSA signing key");
  return std::unique_ptr<SigningKey>(new SigningKey(Base64UrlEncode(RandomBytes(16)), pkey));
}

StatusOr<std::unique_ptr<SigningKey>> SigningKey::FromPem(const std::string& kid,
                                                          const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!pkey) return InternalError("a stored signing key could not be read");
  return std::unique_ptr<SigningKey>(new SigningKey(kid, pkey));
}

SigningKey::~SigningKey() { EVP_PKEY_free(pkey_); }

std::string SigningKey::PrivatePem() const {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), pkey_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Json SigningKey::Jwk() const {
  return Json{{"kty", "RSA"},
              {"use", "sig"},
              {"alg", "RS256"},
              {"kid", kid_},
              {"n", Base64UrlEncode(BigNumBytes(pkey_, OSSL_PKEY_PARAM_RSA_N))},
              {"e", Base64UrlEncode(BigNumBytes(pkey_, OSSL_PKEY_PARAM_RSA_E))}};
}

std::string SigningKey::Sign(const Json& claims) const {
  Json header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_);
  EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  return input + "." + Base64UrlEncode(sig);
}

StatusOr<Json> VerifyRs256(std::string_view token, const KeyLookup& lookup) {
  if (token.size() > 16384) return Invalid("it is longer than 16 KiB");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Invalid("it is not three dot-separated parts");
  }
  auto header_text = Base64UrlDecode(token.substr(0, d1));
  auto claims_text = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!header_text || !claims_text || !sig) return Invalid("a part is not base64url");
  Json header = Json::parse(*header_text, nullptr, false);
  Json claims = Json::parse(*claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return Invalid("a part is not a JSON object");
  // The header is the attacker's text: every member is checked for its type before it is read.
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "RS256") {
    return Invalid("alg must be RS256");
  }
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return Invalid("it has no kid");
  EVP_PKEY* key = lookup(kid->get<std::string>());
  if (!key) return Invalid("its signing key (kid) is unknown");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string_view input = token.substr(0, d2);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Invalid("its signature does not verify");
  }
  return claims;
}

}  // namespace tarn::identity
