// DatasetMount: a registered dataset version as a read-only FUSE filesystem, the way
// azureml's FileDataset.mount() presents one. Its files appear under the mount point at their
// paths relative to their common directory (as download() lays them out), and every read
// returns the version's registered bytes through CatalogClient's ranged reads: pinned bytes for
// a datastore on the same tarnd, etag-checked bytes for another endpoint (a read of a changed
// external file fails with EIO, and the reason is reported through on_error). Nothing is
// copied to local disk; the kernel may cache pages, which is safe because versions are
// immutable.
//
// Contract
// - Start() mounts (the mount point must be an existing, empty directory) and serves requests
//   on threads of its own until Stop() or destruction, which unmount. Writes fail with EROFS.
// - The CatalogClient must outlive the mount; it is used from several threads (it is
//   thread-safe).
// - Needs /dev/fuse and the right to mount (root, or fusermount3 from Debian's fuse3).
//
//   TARN_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(v));
//   TARN_ASSIGN_OR_RETURN(auto m, DatasetMount::Start(catalog, v, files, "/mnt/sales", {}));
//   ... read /mnt/sales/2024/01.csv ...
//   TARN_RETURN_IF_ERROR(m->Stop());
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/catalog_client.h"
#include "common/status.h"

struct fuse;

namespace tarn::mount {

// The files' paths relative to their common directory ("a/x/1.csv", "a/y/2.csv" -> "x/1.csv",
// "y/2.csv"), in the input's order.
std::vector<std::string> RelativeToCommonDir(const std::vector<std::string>& paths);

struct MountOptions {
  // Called (from a serving thread) when a read fails, with the file's path and the reason.
  std::function<void(const std::string& path, const Status& why)> on_error;
  bool allow_other = false;  // let other users read it (needs user_allow_other for non-root)
};

class DatasetMount {
 public:
  static StatusOr<std::unique_ptr<DatasetMount>> Start(client::CatalogClient& catalog,
                                                       client::VersionRef v,
                                                       const std::vector<client::DatasetFile>& files,
                                                       const std::string& mount_point,
                                                       MountOptions opts);
  ~DatasetMount();
  DatasetMount(const DatasetMount&) = delete;
  DatasetMount& operator=(const DatasetMount&) = delete;

  // Unmounts and waits for the serving threads. Idempotent.
  Status Stop();
  const std::string& mount_point() const { return mount_point_; }
  bool mounted() const { return fuse_ != nullptr; }

  // The FUSE callbacks' view (public for them; not part of the interface).
  struct Entry {
    bool dir = false;
    int64_t size = 0;
    int64_t index = -1;  // the manifest index of a file
    std::vector<std::string> children;  // names, sorted, for a directory
  };
  const Entry* Find(const std::string& path) const;
  int Read(const Entry& e, const std::string& path, char* buf, size_t n, int64_t offset);
  int64_t mounted_at() const { return mounted_at_; }

 private:
  DatasetMount(client::CatalogClient& catalog, client::VersionRef v, std::string mount_point,
               MountOptions opts);
  Status Build(const std::vector<client::DatasetFile>& files);

  client::CatalogClient& catalog_;
  client::VersionRef v_;
  std::string mount_point_;
  MountOptions opts_;
  std::map<std::string, Entry> entries_;  // "/" and "/x/1.csv"; immutable once mounted
  int64_t mounted_at_ = 0;
  struct fuse* fuse_ = nullptr;
  std::thread loop_;
  std::atomic<bool> loop_done_{false};
  uint64_t connection_ = 0;  // the mount's device number, for an abort if unmounting hangs
};

}  // namespace tarn::mount
