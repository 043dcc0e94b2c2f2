// Retention of the zones, carried out by tarnd itself as each filesystem's metadata says
// (zones/zone_metadata.h, set by `tarn lake apply` from lake.yaml):
//
// - tarn_failed_staging_days: staging directories under .tarn/staging/ (an ingestion or run
//   that failed, or a crash) not modified for that many days are deleted.
// - tarn_raw_batches_days, in the zone named "raw" (tarn_zone): every
//   <source>/ingest_date=<day>/ folder whose day is that many days old or more is deleted, with
//   the duplicate markers (.tarn/ingest/<source>/*.json) not touched since. Dataset versions
//   that pinned those files keep their bytes: deleting a path never frees extents something
//   still holds.
//
// The metadata can only be set by someone who may write the whole filesystem, who could delete
// all of it anyway; a writer of some folders cannot make tarnd delete others.
//
// Soft-deleted paths (a delete retention policy, lake::LakeService::SoftDelete) whose retention
// has ended are purged by the same pass.
//
// One pass looks at every filesystem of the accounts; Start runs a pass every `interval` on a
// thread of its own until the object is destroyed. Each deletion is logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "lake/lake_service.h"

namespace tarn::zones {

struct RetentionPass {
  int64_t filesystems = 0;  // zones: filesystems with a tarn_zone
  int64_t staging_deleted = 0;
  int64_t batch_days_deleted = 0;  // ingest_date folders
  int64_t markers_deleted = 0;
  int64_t soft_deleted_purged = 0;  // soft-deleted paths whose retention ended (any filesystem)
  int64_t containers_purged = 0;    // soft-deleted containers whose retention ended
};

class Retention {
 public:
  Retention(lake::LakeService* lake, std::vector<std::string> accounts);
  ~Retention();
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // One pass as of now_us (microseconds since the epoch).
  StatusOr<RetentionPass> RunOnce(int64_t now_us);
  // Runs a pass every interval (the first after one interval).
  void Start(std::chrono::seconds interval);

 private:
  Status Apply(const std::string& account, const lake::Filesystem& fs, int64_t now_us,
               RetentionPass* pass);

  lake::LakeService* lake_;
  std::vector<std::string> accounts_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tarn::zones
