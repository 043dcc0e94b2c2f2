// LocalExtentStore: extents as files on a local file system.
//
// Layout: <dir>/<fan-out>/<id>, where <id> is the extent id as 16 lowercase hex digits and
// <fan-out> is its first two digits (256 directories, all created by Open). Ids are random,
// non-zero 64-bit values with bit 63 clear; a file is created with O_EXCL under its final name, so an id is never
// reused while its file exists. Files that no metadata references (including writers that died
// mid-way) are found through ListAll and reclaimed by start-up recovery; nothing else in the
// directory tree is touched.
//
// Durability: Writer::Finish fdatasyncs the file and then fsyncs its fan-out directory, unless a
// directory sync that began after the file was created has already completed.
//
// Thread-safety: all store methods are thread-safe. The store must outlive its Writers (they use
// its directory descriptors); Readers are independent of it.
//
//   TARN_ASSIGN_OR_RETURN(auto store, LocalExtentStore::Open("/var/lib/tarn/extents"));
//   TARN_ASSIGN_OR_RETURN(auto w, store->NewWriter(Hashing::kMd5));
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/extent/extent_store.h"

namespace tarn::extent {

class LocalExtentStore final : public ExtentStore {
 public:
  // Creates dir (and its parents) and the fan-out directories when missing.
  static StatusOr<std::unique_ptr<LocalExtentStore>> Open(const std::string& dir);

  ~LocalExtentStore() override;
  LocalExtentStore(const LocalExtentStore&) = delete;
  LocalExtentStore& operator=(const LocalExtentStore&) = delete;

  StatusOr<std::unique_ptr<Writer>> NewWriter(Hashing hashing) override;
  StatusOr<std::unique_ptr<Reader>> Open(uint64_t id) override;
  Status Remove(uint64_t id) override;
  StatusOr<std::vector<uint64_t>> ListAll() override;

  // The path of an extent's file (whether or not it exists).
  std::string PathOf(uint64_t id) const;

 private:
  static constexpr int kFanOut = 256;

  // One fan-out directory: a cached descriptor plus the bookkeeping that lets concurrent
  // Finish calls share one directory fsync.
  struct Shard {
    int fd = -1;
    std::atomic<uint64_t> created{0};  // bumped after each file creation in this directory
    std::atomic<uint64_t> synced{0};   // every creation numbered <= synced is durable
  };

  explicit LocalExtentStore(std::string dir);
  static int ShardOf(uint64_t id) { return static_cast<int>(id >> 56); }
  Shard& ShardFor(uint64_t id) { return shards_[ShardOf(id)]; }
  // Makes the directory entry of the file whose creation was numbered `creation` durable.
  Status SyncDirectory(uint64_t id, uint64_t creation);
  Status RemoveFile(uint64_t id);

  friend class LocalWriter;

  const std::string dir_;
  std::array<Shard, kFanOut> shards_;  // descriptors are set by Open and constant afterwards
};

}  // namespace tarn::extent
