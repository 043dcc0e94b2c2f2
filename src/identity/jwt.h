// RS256 JSON Web Tokens and the RSA keys that sign them, over OpenSSL.
//
// Contract
// - SigningKey holds an RSA-2048 key pair with its key ID (kid). Sign() gives a compact JWT with
//   header {"alg":"RS256","typ":"JWT","kid":...}; Jwk() is the public half as JWKS lists it.
// - VerifyRs256 checks the token's shape, alg and signature against the key its kid names (via
//   the lookup); it does not look at claims: the caller checks exp, nbf, aud, iss and tid.
// - Errors are kInvalidAuthenticationInfo with a message saying what is wrong.
//
//   TARN_ASSIGN_OR_RETURN(auto key, SigningKey::Generate());
//   std::string jwt = key->Sign(Json{{"oid", oid}, {"exp", exp}});
//   TARN_ASSIGN_OR_RETURN(Json claims, VerifyRs256(jwt, [&](const std::string& kid) {...}));
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/encoding.h"  // Base64UrlEncode / Decode
#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace tarn::identity {

using Json = nlohmann::json;


class SigningKey {
 public:
  static StatusOr<std::unique_ptr<SigningKey>> Generate();
  // From the PEM PrivatePem() gave, and the kid it had.
  static StatusOr<std::unique_ptr<SigningKey>> FromPem(const std::string& kid,
                                                       const std::string& pem);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  const std::string& kid() const { return kid_; }
  std::string PrivatePem() const;
  Json Jwk() const;
  std::string Sign(const Json& claims) const;
  EVP_PKEY* pkey() const { return pkey_; }

 private:
  SigningKey(std::string kid, EVP_PKEY* pkey) : kid_(std::move(kid)), pkey_(pkey) {}
  std::string kid_;
  EVP_PKEY* pkey_;
};

// Returns the key for a kid, or null if unknown.
using KeyLookup = std::function<EVP_PKEY*(const std::string& kid)>;
StatusOr<Json> VerifyRs256(std::string_view token, const KeyLookup& lookup);

}  // namespace tarn::identity
