#include "common/secret_box.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tarn {
namespace {

static_assert(crypto_secretbox_KEYBYTES == 32);

Status SysError(const std::string& what) {
  return InternalError(what + ": " + std::strerror(errno));
}

Status WriteNewKey(const std::string& path, const unsigned char* key) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("cannot create " + tmp);
  bool ok = ::write(fd, key, 32) == 32 && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return SysError("cannot write " + tmp);
  // link() refuses to replace an existing key: two racing first starts keep one key.
  if (::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    return SysError("cannot install " + path);
  }
  ::unlink(tmp.c_str());
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<SecretBox>> SecretBox::OpenOrCreate(const std::string& key_path) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  std::unique_ptr<SecretBox> box(new SecretBox());
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) {
    if (errno != ENOENT) return SysError("cannot stat " + key_path);
    unsigned char fresh[32];
    crypto_secretbox_keygen(fresh);
    Status s = WriteNewKey(key_path, fresh);
    sodium_memzero(fresh, sizeof fresh);
    TARN_RETURN_IF_ERROR(s);
    if (::stat(key_path.c_str(), &st) != 0) return SysError("cannot stat " + key_path);
  }
  if ((st.st_mode & 077) != 0) {
    return InternalError("the master key " + key_path +
                         " is readable by group or others; run chmod 600 on it");
  }
  if (st.st_size != 32) {
    return InternalError("the master key " + key_path + " is not 32 bytes long");
  }
  int fd = ::open(key_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SysError("cannot open " + key_path);
  ssize_t n = ::read(fd, box->key_, sizeof box->key_);
  ::close(fd);
  if (n != 32) return InternalError("cannot read the master key " + key_path);
  return box;
}

SecretBox::~SecretBox() { sodium_memzero(key_, sizeof key_); }

std::string SecretBox::Seal(const std::string& plaintext) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key_);
  return out;
}

StatusOr<std::string> SecretBox::Open(const std::string& sealed) const {
  constexpr size_t kOverhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < kOverhead) return InternalError("a sealed secret is truncated");
  std::string out(sealed.size() - kOverhead, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                 nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce, key_) != 0) {
    return InternalError("a sealed secret failed authentication (wrong master key?)");
  }
  return out;
}

}  // namespace tarn
