// ExtentStore: immutable blobs of file content ("extents"), addressed by a 64-bit id.
//
// Contract
// - An extent is written once through a Writer and never changes afterwards.
// - Writer::Finish makes the bytes durable (fsynced, and the extent's name in its directory
//   too) before it returns. Only then may metadata that references the extent be committed.
// - An extent that was never finished, or that no metadata references, is garbage: Remove
//   deletes it; ListAll lets start-up recovery find extents that the metadata does not know.
// - A Reader opened on an extent keeps reading the same bytes even if the extent is removed
//   meanwhile (on local disk an open descriptor keeps the file alive).
// - All methods are thread-safe; a Writer or Reader is used by one thread at a time.
//
// Usage:
//   TARN_ASSIGN_OR_RETURN(auto w, store->NewWriter(extent::Hashing::kMd5));
//   TARN_RETURN_IF_ERROR(w->Append(data));
//   TARN_ASSIGN_OR_RETURN(ExtentInfo info, w->Finish());
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tarn::extent {

struct ExtentInfo {
  uint64_t id = 0;
  int64_t length = 0;
  std::string md5;  // raw 16-byte MD5 of the content; empty if written with Hashing::kNone
};

// Whether a writer computes its extent's MD5. Most writes need it (Put Blob stores it as the
// blob's Content-MD5); a DFS append without a Content-MD5 to check does not, and the hash was
// 57% of tarnd's CPU in a 1 GiB upload by appends.
enum class Hashing { kMd5, kNone };

class Writer {
 public:
  virtual ~Writer() = default;
  // The extent's id. Final once Finish returns (a store may choose where to keep an extent only
  // when it knows its size), so use ExtentInfo::id.
  virtual uint64_t id() const = 0;
  virtual Status Append(std::string_view data) = 0;
  // Flushes and fsyncs; the extent is complete and durable afterwards.
  virtual StatusOr<ExtentInfo> Finish() = 0;
  // Discards a writer that will not be finished (also done by the destructor).
  virtual void Abandon() = 0;
};

class Reader {
 public:
  virtual ~Reader() = default;
  virtual int64_t length() const = 0;
  // Reads up to n bytes at offset; returns the count (0 only at or past the end).
  virtual StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) = 0;
  // A file descriptor for zero-copy transfer (sendfile), or -1 if the store has none.
  virtual int NativeFd() const { return -1; }
};

// The bytes of an extent held in memory (packed or inline extents, read out of a database).
class MemoryReader final : public Reader {
 public:
  explicit MemoryReader(std::string data) : data_(std::move(data)) {}
  int64_t length() const override { return static_cast<int64_t>(data_.size()); }
  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    if (offset < 0) return Status(Code::kInvalidArgument, "negative extent read offset");
    if (static_cast<size_t>(offset) >= data_.size()) return size_t{0};
    n = std::min(n, data_.size() - static_cast<size_t>(offset));
    std::memcpy(buf, data_.data() + offset, n);
    return n;
  }

 private:
  const std::string data_;
};

class ExtentStore {
 public:
  virtual ~ExtentStore() = default;
  virtual StatusOr<std::unique_ptr<Writer>> NewWriter(Hashing hashing) = 0;
  virtual StatusOr<std::unique_ptr<Reader>> Open(uint64_t id) = 0;
  // Removes an extent's bytes. Removing a missing extent is OK.
  virtual Status Remove(uint64_t id) = 0;
  // Removes many at once; stores that can batch the work override it.
  virtual Status RemoveMany(const std::vector<uint64_t>& ids) {
    for (uint64_t id : ids) TARN_RETURN_IF_ERROR(Remove(id));
    return Status::Ok();
  }
  // Every extent id present in the store, finished or not.
  virtual StatusOr<std::vector<uint64_t>> ListAll() = 0;
};

}  // namespace tarn::extent
