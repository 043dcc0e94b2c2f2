// Cryptographic primitives over OpenSSL: digests, HMAC, random bytes, identifiers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tarn {

std::string Md5(std::string_view data);  // raw 16 bytes
std::string Sha256(std::string_view data);  // raw 32 bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes

// Incremental MD5 for streamed bodies.
class Md5Stream {
 public:
  Md5Stream();
  ~Md5Stream();
  Md5Stream(const Md5Stream&) = delete;
  Md5Stream& operator=(const Md5Stream&) = delete;
  void Update(std::string_view data);
  std::string Finish();  // raw 16 bytes; the stream may not be updated afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string RandomBytes(size_t n);  // cryptographically secure
uint64_t RandomU64();
std::string NewUuid();  // random (v4) UUID, lowercase "8-4-4-4-12"

// Constant-time comparison.
bool SecureEquals(std::string_view a, std::string_view b);

}  // namespace tarn
