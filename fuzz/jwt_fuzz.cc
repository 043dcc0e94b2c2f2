// RS256 JSON Web Tokens: identity::VerifyRs256 with a key lookup over one RSA key made once, and
// Base64UrlDecode. Inputs are used three ways: as the raw token; as base64url(header bytes) .
// base64url(claims bytes) . base64url(signature bytes), so the JSON parser and the header checks
// see arbitrary JSON ({"alg":1}, {"alg":null,"kid":[]}); and as a header built from typed fields
// over arbitrary claims, sometimes signed with the real key so that verification succeeds and
// returns the claims. Any exception escaping VerifyRs256 is a crash.
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "identity/jwt.h"

namespace {

using tarn::Base64UrlDecode;
using tarn::Base64UrlEncode;
using tarn::identity::Json;

tarn::identity::SigningKey& Key() {
  static tarn::identity::SigningKey* key = [] {
    auto k = tarn::identity::SigningKey::Generate();
    if (!k.ok()) std::abort();
    return std::move(k).value().release();
  }();
  return *key;
}

std::string SignRs256(std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, Key().pkey()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) {
    std::abort();
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     input.size()) != 1) {
    std::abort();
  }
  sig.resize(len);
  return sig;
}

// A JSON value of a type the fuzzer picks: where a string is expected, anything else.
Json AnyValue(FuzzedDataProvider& in, const std::string& good) {
  switch (in.ConsumeIntegralInRange(0, 8)) {
    case 0:
      return good;
    case 1:
      return in.ConsumeRandomLengthString(32);
    case 2:
      return nullptr;
    case 3:
      return in.ConsumeIntegral<int64_t>();
    case 4:
      return in.ConsumeBool();
    case 5:
      return Json::array({good});
    case 6:
      return Json::object({{good, good}});
    case 7:
      return in.ConsumeFloatingPoint<double>();
    default:
      return in.ConsumeIntegral<uint64_t>();
  }
}

void Verify(const std::string& token, bool any_kid) {
  auto lookup = [&](const std::string& kid) -> EVP_PKEY* {
    return any_kid || kid == Key().kid() ? Key().pkey() : nullptr;
  };
  auto claims = tarn::identity::VerifyRs256(token, lookup);
  if (claims.ok() && !claims->is_object()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Key();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int mode = in.ConsumeIntegralInRange(0, 2);
  const bool any_kid = in.ConsumeBool();
  if (mode == 0) {
    std::string token = in.ConsumeRemainingBytesAsString();
    static_cast<void>(Base64UrlDecode(token));
    Verify(token, any_kid);
    return 0;
  }
  if (mode == 1) {
    std::string header = in.ConsumeRandomLengthString(256);
    std::string claims = in.ConsumeRandomLengthString(512);
    std::string sig = in.ConsumeRemainingBytesAsString();
    Verify(Base64UrlEncode(header) + "." + Base64UrlEncode(claims) + "." + Base64UrlEncode(sig),
           any_kid);
    return 0;
  }
  Json header = Json::object();
  if (in.ConsumeBool()) header["alg"] = AnyValue(in, "RS256");
  if (in.ConsumeBool()) header["kid"] = AnyValue(in, Key().kid());
  if (in.ConsumeBool()) header["typ"] = AnyValue(in, "JWT");
  const bool sign = in.ConsumeBool();
  std::string claims = in.ConsumeRemainingBytesAsString();
  std::string header_text = header.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string input = Base64UrlEncode(header_text) + "." + Base64UrlEncode(claims);
  std::string sig = sign ? SignRs256(input) : std::string(256, 'x');
  Verify(input + "." + Base64UrlEncode(sig), any_kid);
  return 0;
}
