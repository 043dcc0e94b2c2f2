#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

class LocalFile : public RandomAccessFile {
 public:
  LocalFile(int fd, int64_t size) : fd_(fd), size_(size) {}
  ~LocalFile() override { ::close(fd_); }
  LocalFile(const LocalFile&) = delete;
  LocalFile& operator=(const LocalFile&) = delete;

  int64_t Size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, buf + done, n - done, offset + static_cast<off_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return InternalError(std::string("read failed: ") + std::strerror(errno));
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

 private:
  int fd_;
  int64_t size_;
};

}  // namespace

StatusOr<std::unique_ptr<RandomAccessFile>> LocalFileOpener::Open(const SourceFile& f) {
  const std::string path = root_.empty() ? f.key : root_ + "/" + f.key;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Status(err == ENOENT ? Code::kNotFound : Code::kInternal,
                  "cannot open: " + std::string(std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return InternalError("cannot stat: " + std::string(std::strerror(errno)));
  }
  return std::unique_ptr<RandomAccessFile>(std::make_unique<LocalFile>(fd, st.st_size));
}

}  // namespace tarn::tabular
