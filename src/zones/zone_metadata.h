// How a filesystem says which zone it is and what its retention is: user metadata on the
// filesystem (container), set by `tarn lake apply` (layout/apply.cc) and read by tarnd
// (zones/retention.cc). Setting a filesystem's metadata needs write on the whole filesystem,
// which already allows deleting everything in it: the retention grants no one more than that.
#pragma once

namespace tarn::zones {

inline constexpr char kZoneKey[] = "tarn_zone";                      // "raw", "curated", ...
inline constexpr char kRawBatchesDaysKey[] = "tarn_raw_batches_days";  // whole days
inline constexpr char kFailedStagingDaysKey[] = "tarn_failed_staging_days";
inline constexpr char kKeyPrefix[] = "tarn_";

}  // namespace tarn::zones
