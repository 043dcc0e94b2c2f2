#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace tarn {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// These primitives have no error path worth handling: OpenSSL only fails them on allocation
// failure or a broken installation, and a wrong digest must never be returned silently.
[[noreturn]] void CryptoFailure(const char* what) {
  std::fprintf(stderr, "tarn: fatal OpenSSL failure in %s\n", what);
  std::abort();
}

const unsigned char* Bytes(std::string_view s) {
  // Some OpenSSL entry points reject a null pointer even with length 0.
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string Digest(std::string_view data, const EVP_MD* md, const char* what) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(Bytes(data), data.size(), out, &len, md, nullptr) != 1) CryptoFailure(what);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string Md5(std::string_view data) { return Digest(data, EVP_md5(), "Md5"); }

std::string Sha256(std::string_view data) { return Digest(data, EVP_sha256(), "Sha256"); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  if (key.size() > static_cast<size_t>(INT_MAX)) CryptoFailure("HmacSha256 key length");
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), Bytes(key), static_cast<int>(key.size()), Bytes(data), data.size(), out,
           &len) == nullptr) {
    CryptoFailure("HmacSha256");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

struct Md5Stream::Impl {
  MdCtxPtr ctx;
  bool finished = false;
  std::string digest;  // set by Finish
};

Md5Stream::Md5Stream() : impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_md5(), nullptr) != 1) {
    CryptoFailure("Md5Stream init");
  }
}

Md5Stream::~Md5Stream() = default;

void Md5Stream::Update(std::string_view data) {
  // Updating a finished stream is a programming error; continuing would yield a wrong digest.
  if (impl_->finished) CryptoFailure("Md5Stream::Update after Finish");
  if (data.empty()) return;
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) {
    CryptoFailure("Md5Stream::Update");
  }
}

std::string Md5Stream::Finish() {
  if (impl_->finished) return impl_->digest;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out, &len) != 1) CryptoFailure("Md5Stream::Finish");
  impl_->finished = true;
  impl_->digest.assign(reinterpret_cast<const char*>(out), len);
  return impl_->digest;
}

struct OverlappedMd5::Impl {
  Md5Stream md5;
  std::mutex mu;
  std::condition_variable cv;
  std::string_view piece;  // guarded by mu
  bool busy = false;       // guarded by mu: piece is being hashed
  bool stop = false;       // guarded by mu
  std::thread worker;

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || busy; });
      if (busy) {
        std::string_view p = piece;
        lock.unlock();
        md5.Update(p);
        lock.lock();
        busy = false;
        cv.notify_all();
        continue;
      }
      return;
    }
  }
};

OverlappedMd5::OverlappedMd5() : impl_(std::make_unique<Impl>()) {}

OverlappedMd5::~OverlappedMd5() {
  if (!impl_->worker.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->worker.join();
}

void OverlappedMd5::Begin(std::string_view piece) {
  End();
  if (!impl_->worker.joinable()) impl_->worker = std::thread([this] { impl_->Run(); });
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->piece = piece;
    impl_->busy = true;
  }
  impl_->cv.notify_all();
}

void OverlappedMd5::End() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return !impl_->busy; });
}

void OverlappedMd5::Update(std::string_view piece) {
  End();
  impl_->md5.Update(piece);
}

std::string OverlappedMd5::Finish() {
  End();
  return impl_->md5.Finish();
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    size_t chunk = std::min<size_t>(n - done, 1 << 20);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), static_cast<int>(chunk)) !=
        1) {
      CryptoFailure("RandomBytes");
    }
    done += chunk;
  }
  return out;
}

uint64_t RandomU64() {
  unsigned char buf[sizeof(uint64_t)];
  if (RAND_bytes(buf, sizeof(buf)) != 1) CryptoFailure("RandomU64");
  uint64_t v;
  std::memcpy(&v, buf, sizeof(v));
  return v;
}

namespace {

std::string FormatUuid(std::string b) {
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    auto c = static_cast<unsigned char>(b[i]);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

std::string NewUuid() { return FormatUuid(RandomBytes(16)); }

std::string NewRequestId() {
  // splitmix64 over a per-thread counter: a bijection, so a thread never repeats itself, and
  // threads start at random points of the 2^64 cycle.
  thread_local uint64_t state = RandomU64();
  auto next = [] {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::string b(16, '\0');
  const uint64_t hi = next(), lo = next();
  std::memcpy(b.data(), &hi, 8);
  std::memcpy(b.data() + 8, &lo, 8);
  return FormatUuid(std::move(b));
}

bool SecureEquals(std::string_view a, std::string_view b) {
  // The length is not secret (signatures and keys have fixed, public sizes).
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tarn
