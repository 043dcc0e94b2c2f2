#include "store/space/disk_guard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/time_util.h"

namespace tarn::space {
namespace {

constexpr int64_t kRecheckUs = 50'000;

Status DiskFull(int64_t free, int64_t want) {
  return Error(Reason::kDiskFull,
               "The lake's data disk is full: " + std::to_string(free >> 20) +
                   " MiB are free and tarnd keeps at least " + std::to_string(want >> 20) +
                   " MiB for metadata. New data is refused until space is freed: delete data "
                   "(reads and deletes keep working) or give the disk more space.");
}

}  // namespace

DiskGuard::DiskGuard(std::string path, DiskGuardOptions opts, FreeBytesFn free_bytes)
    : path_(std::move(path)), opts_(opts), free_bytes_(std::move(free_bytes)) {}

DiskGuard::~DiskGuard() = default;

StatusOr<std::unique_ptr<DiskGuard>> DiskGuard::Open(const std::string& dir,
                                                     DiskGuardOptions opts,
                                                     FreeBytesFn free_bytes) {
  if (!free_bytes) {
    free_bytes = [dir]() -> StatusOr<int64_t> {
      struct statvfs s {};
      if (::statvfs(dir.c_str(), &s) != 0) {
        return InternalError(std::string("statvfs of the data directory: ") + strerror(errno));
      }
      return static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
    };
  }
  std::unique_ptr<DiskGuard> g(new DiskGuard(dir + "/reserve", opts, std::move(free_bytes)));
  struct stat st {};
  const bool exists = ::stat(g->path_.c_str(), &st) == 0;
  g->held_ = exists && st.st_blocks * 512 >= opts.reserve_bytes;
  TARN_ASSIGN_OR_RETURN(int64_t free, g->FreeBytes(true));
  if (g->held_ && free < (1 << 20)) {
    spdlog::warn("the data disk is full ({} bytes free): releasing the {} MiB reserve so that "
                 "start-up and deletes can commit",
                 free, opts.reserve_bytes >> 20);
    g->ReleaseReserve();
  } else if (!g->held_) {
    g->RestoreReserve();
  }
  return g;
}

StatusOr<int64_t> DiskGuard::FreeBytes(bool fresh) {
  const int64_t now = MonotonicMicros();
  if (!fresh && now - last_check_us_.load(std::memory_order_relaxed) < kRecheckUs) {
    return last_free_.load(std::memory_order_relaxed);
  }
  TARN_ASSIGN_OR_RETURN(int64_t free, free_bytes_());
  last_free_.store(free, std::memory_order_relaxed);
  last_check_us_.store(now, std::memory_order_relaxed);
  return free;
}

Status DiskGuard::AdmitData(std::optional<int64_t> bytes) {
  // While the reserve is released its space still belongs to metadata, not to new data.
  const int64_t owed = held_.load(std::memory_order_relaxed) ? 0 : opts_.reserve_bytes;
  const int64_t want = opts_.min_free_bytes + owed + bytes.value_or(0);
  TARN_ASSIGN_OR_RETURN(int64_t free, FreeBytes(false));
  // Near the limit every call looks afresh; far from it a figure 50 ms old will do.
  if (free < want + (64LL << 20)) {
    TARN_ASSIGN_OR_RETURN(free, FreeBytes(true));
  }
  if (free < want) return DiskFull(free, opts_.min_free_bytes);
  if (!held_.load(std::memory_order_relaxed)) RestoreReserve();
  return Status::Ok();
}

void DiskGuard::BeforeMetadataWrite() {
  if (!held_.load(std::memory_order_relaxed)) return;
  auto free = FreeBytes(false);
  if (free.ok() && *free < opts_.critical_free_bytes + (64LL << 20)) free = FreeBytes(true);
  if (free.ok() && *free < opts_.critical_free_bytes) ReleaseReserve();
}

bool DiskGuard::ReleaseReserve() {
  std::lock_guard<std::mutex> l(mu_);
  if (!held_) return false;
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    spdlog::error("cannot release the disk reserve: {}", strerror(errno));
    return false;
  }
  held_ = false;
  last_check_us_ = 0;
  spdlog::warn("the data disk is full: released the {} MiB reserve for metadata commits; new "
               "data is refused until space is freed",
               opts_.reserve_bytes >> 20);
  return true;
}

void DiskGuard::RestoreReserve() {
  std::lock_guard<std::mutex> l(mu_);
  if (held_ || opts_.reserve_bytes <= 0) return;
  auto free = FreeBytes(true);
  if (!free.ok() || *free < opts_.reserve_bytes + opts_.min_free_bytes) return;
  const std::string tmp = path_ + ".new";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const int rc = ::posix_fallocate(fd, 0, opts_.reserve_bytes);
  const bool ok = rc == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return;
  }
  held_ = true;
  last_check_us_ = 0;
  spdlog::info("holding a {} MiB disk reserve for metadata commits ({})",
               opts_.reserve_bytes >> 20, path_);
}

}  // namespace tarn::space
