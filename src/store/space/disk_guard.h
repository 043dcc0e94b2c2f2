// DiskGuard: keeps a full data disk from wedging the lake.
//
// Two mechanisms, both on the filesystem that holds the data directory:
// - Admission. New data (uploads, appends, blocks) is refused with Reason::kDiskFull while the
//   filesystem has less than min_free_bytes available, so uploads stop before metadata can no
//   longer commit. Reads, deletes and other metadata changes are never refused here.
// - A reserve. A file of reserve_bytes (<dir>/reserve, allocated, not sparse) holds space back.
//   When a metadata commit fails for lack of space anyway (another program filled the disk, or
//   uploads raced past admission), metadata writes find the filesystem below critical_free_bytes
//   (BeforeMetadataWrite) and the reserve gives its space back first: deletes, which free space,
//   keep working on a disk filled to the last byte. Once the filesystem has room again, the
//   reserve is taken back (RestoreReserve, also done by AdmitData).
//
// Thread-safe. The free-space figure is read with statvfs (f_bavail), at most every 50 ms while
// well above the limit, on every call near it.
//
//   TARN_ASSIGN_OR_RETURN(auto guard, DiskGuard::Open(data_dir, {}));
//   TARN_RETURN_IF_ERROR(guard->AdmitData(content_length));
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"

namespace tarn::space {

struct DiskGuardOptions {
  int64_t reserve_bytes = 32LL << 20;    // kept back for metadata commits
  int64_t min_free_bytes = 64LL << 20;   // new data is refused below this much free space
  int64_t critical_free_bytes = 8LL << 20;  // below this, metadata writes release the reserve
};

class DiskGuard {
 public:
  // Bytes available on the filesystem; tests substitute their own.
  using FreeBytesFn = std::function<StatusOr<int64_t>()>;

  // Creates the reserve when the disk has room for it and data besides; on a disk that is
  // already (almost) full it starts with the reserve released, so that start-up can commit.
  static StatusOr<std::unique_ptr<DiskGuard>> Open(const std::string& dir, DiskGuardOptions opts,
                                                   FreeBytesFn free_bytes = {});
  ~DiskGuard();
  DiskGuard(const DiskGuard&) = delete;
  DiskGuard& operator=(const DiskGuard&) = delete;

  // OK when new data of `bytes` (when known) leaves at least min_free_bytes; kDiskFull if not.
  Status AdmitData(std::optional<int64_t> bytes);
  // Called before each metadata write: releases the reserve when the filesystem is below
  // critical_free_bytes, so that the write can commit.
  void BeforeMetadataWrite();
  // Gives the reserve's space back to the filesystem. False if it was already gone.
  bool ReleaseReserve();
  // Takes the reserve back when the filesystem has room for it and min_free_bytes besides.
  void RestoreReserve();
  bool reserve_held() const { return held_.load(); }

 private:
  DiskGuard(std::string path, DiskGuardOptions opts, FreeBytesFn free_bytes);
  StatusOr<int64_t> FreeBytes(bool fresh);

  const std::string path_;  // the reserve file
  const DiskGuardOptions opts_;
  const FreeBytesFn free_bytes_;
  std::mutex mu_;                   // serialises reserve changes
  std::atomic<bool> held_{false};   // the reserve file holds its space
  std::atomic<int64_t> last_free_{0};
  std::atomic<int64_t> last_check_us_{0};
};

}  // namespace tarn::space
