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

// An MD5 stream whose large pieces are hashed on a thread of its own while the caller does
// something else with the same bytes (writes them to disk), so the digest costs no wall time on
// a machine with a spare core. Begin(piece) starts hashing piece, which must stay valid and
// unchanged until End() returns; pieces are hashed in the order they are begun. Not
// thread-safe: one caller. The thread starts on the first Begin and stops in the destructor.
//
//   OverlappedMd5 md5;
//   md5.Begin(chunk);
//   Status s = WriteAll(fd, chunk);
//   md5.End();
//   ...
//   std::string digest = md5.Finish();
class OverlappedMd5 {
 public:
  OverlappedMd5();
  ~OverlappedMd5();
  OverlappedMd5(const OverlappedMd5&) = delete;
  OverlappedMd5& operator=(const OverlappedMd5&) = delete;

  void Begin(std::string_view piece);
  void End();                             // waits for the piece begun last, if any
  void Update(std::string_view piece);    // hashes on the caller's thread (small pieces)
  std::string Finish();                   // raw 16 bytes, after End

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string RandomBytes(size_t n);  // cryptographically secure
uint64_t RandomU64();
std::string NewUuid();  // random (v4) UUID, lowercase "8-4-4-4-12"
// The same shape, unique but not unpredictable: for ids that are no secret (x-ms-request-id).
// A per-thread generator seeded from RandomBytes; perf put RAND_bytes at 3% of tarnd's time in
// 1 KiB writes, a request id each.
std::string NewRequestId();

// Constant-time comparison.
bool SecureEquals(std::string_view a, std::string_view b);

}  // namespace tarn
