// An unlinked temporary file (O_TMPFILE) in a directory: written in order, read back at any
// offset, gone from the disk when closed, whatever happens to the process. For spooling what is
// too large to hold in memory (a query's answer, a copy source fetched from another server).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tarn {

class TempFile {
 public:
  // dir "" is the system's temporary directory.
  static StatusOr<TempFile> Open(const std::string& dir);
  TempFile(TempFile&& other) noexcept : fd_(other.fd_), size_(other.size_) { other.fd_ = -1; }
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  // Appends data; Reason::kDiskFull when the disk has no room for it.
  Status Append(std::string_view data);
  // Up to n bytes from offset; fewer only at the end.
  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) const;
  int fd() const { return fd_; }
  int64_t size() const { return size_; }

 private:
  explicit TempFile(int fd) : fd_(fd) {}
  int fd_ = -1;
  int64_t size_ = 0;
};

}  // namespace tarn
