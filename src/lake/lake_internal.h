// Pieces shared by the lake service's translation units. Not part of the public interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "lake/lake_service.h"
#include "store/meta/namespace_store.h"

namespace tarn::lake::internal {

std::string NewEtag();

// Splits a normalised path into its components ("" -> none).
std::vector<std::string> Components(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& name);

StatusOr<Filesystem> RequireFilesystem(meta::ReadTxn& t, const std::string& account,
                                       const std::string& name);
// Walks from the root; nullopt if any component is missing (or a file is in the way).
StatusOr<std::optional<Node>> Resolve(meta::ReadTxn& t, const Filesystem& fs,
                                      const std::string& path);
// Resolve, with a missing path as Reason::kPathNotFound.
StatusOr<Node> RequirePath(meta::ReadTxn& t, const Filesystem& fs, const std::string& path);

// Preconditions and leases every write checks (lake_conditions.cc). Reads answer NotModified
// where HTTP says 304; writes answer `fail`.
bool EqualsLeaseId(const std::string& a, const std::string& b);
Status CheckConditions(const Conditions& c, const std::string* etag, int64_t modified_us,
                       bool is_read, Reason fail = Reason::kConditionNotMet);
Status CheckNodeConditions(const Conditions& c, const std::optional<Node>& n, bool is_read,
                           Reason fail = Reason::kConditionNotMet);
// A write to a leased resource must name the lease; a write naming a lease needs one.
Status CheckWriteLease(const meta::Lease& lease, const std::optional<std::string>& lease_id);
// What a delete (or a soft delete) of n checks first: conditions, the lease, and recursive for
// a directory that is not empty.
Status CheckDeletable(meta::ReadTxn& t, const Node& n, bool recursive, const Access& access);
// Whether a filesystem may be deleted: its conditions, and its lease if it has one.
Status CheckFilesystemDeletable(const Filesystem& fs, const Access& access);

// Extents whose id has bit 63 set may be inline (their bytes in the namespace store); others
// need no lookup there (lake_extents.cc).
inline constexpr uint64_t kInlineIdBit = 1ULL << 63;
inline bool MaybeInline(uint64_t id) { return (id & kInlineIdBit) != 0; }

}  // namespace tarn::lake::internal

namespace tarn::lake {

// A request body written as an extent, not yet recorded (lake_extents.cc).
struct LakeService::WrittenExtent {
  meta::ExtentRecord record;
  bool is_inline = false;
  std::string data;  // the bytes of an inline extent
};

}  // namespace tarn::lake
