#include "zones/retention.h"

#include <spdlog/spdlog.h>

#include "common/strings.h"
#include "common/time_util.h"
#include "zones/zone_metadata.h"

namespace tarn::zones {
namespace {

constexpr char kStaging[] = ".tarn/staging";
constexpr int64_t kDayUs = 86400LL * 1000 * 1000;
constexpr int kPage = 5000;

// Every entry directly in dir (all pages); NotFound when dir does not exist.
StatusOr<std::vector<lake::PathEntry>> Children(lake::LakeService& lake, const std::string& account,
                                                const std::string& fs, const std::string& dir) {
  std::vector<lake::PathEntry> out;
  std::string continuation;
  do {
    TARN_ASSIGN_OR_RETURN(lake::ListPathsPage page,
                          lake.ListPaths(account, fs, dir, false, continuation, kPage));
    for (auto& e : page.entries) out.push_back(std::move(e));
    continuation = page.continuation;
  } while (!continuation.empty());
  return out;
}

bool NotFound(const Status& s) { return s.code() == Code::kNotFound; }

// A metadata value (names compared without case) as whole days >= 1.
std::optional<int64_t> Days(const lake::Metadata& m, const char* key) {
  for (const auto& [k, v] : m) {
    int64_t days = 0;
    if (EqualsIgnoreCase(k, key) && ParseInt64(v, &days) && days >= 1 && days <= 36500) {
      return days;
    }
  }
  return std::nullopt;
}

std::string Text(const lake::Metadata& m, const char* key) {
  for (const auto& [k, v] : m) {
    if (EqualsIgnoreCase(k, key)) return v;
  }
  return "";
}

}  // namespace

Retention::Retention(lake::LakeService* lake, std::vector<std::string> accounts)
    : lake_(lake), accounts_(std::move(accounts)) {}

Retention::~Retention() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::Start(std::chrono::seconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> l(mu_);
    while (!wake_.wait_for(l, interval, [this] { return stopping_; })) {
      l.unlock();
      auto pass = RunOnce(NowMicros());
      if (!pass.ok()) spdlog::warn("retention: {}", pass.status().ToString());
      l.lock();
    }
  });
}

StatusOr<RetentionPass> Retention::RunOnce(int64_t now_us) {
  RetentionPass pass;
  for (const std::string& account : accounts_) {
    std::string marker;
    do {
      TARN_ASSIGN_OR_RETURN(lake::FilesystemPage page,
                            lake_->ListFilesystems(account, "", marker, kPage));
      for (const auto& fs : page.items) {
        Status s = Apply(account, fs, now_us, &pass);
        // One filesystem's trouble (a bad record, a path deleted meanwhile) does not stop the
        // others.
        if (!s.ok()) spdlog::warn("retention: {}/{}: {}", account, fs.name, s.ToString());
      }
      marker = page.next_marker;
    } while (!marker.empty());
  }
  TARN_ASSIGN_OR_RETURN(pass.soft_deleted_purged, lake_->PurgeDeleted(now_us));
  if (pass.soft_deleted_purged > 0) {
    spdlog::info("retention: purged {} soft-deleted paths whose retention ended",
                 pass.soft_deleted_purged);
  }
  TARN_ASSIGN_OR_RETURN(pass.containers_purged,
                        lake_->PurgeDeletedFilesystems(accounts_, now_us));
  if (pass.containers_purged > 0) {
    spdlog::info("retention: purged {} deleted containers whose retention ended",
                 pass.containers_purged);
  }
  return pass;
}

Status Retention::Apply(const std::string& account, const lake::Filesystem& filesystem,
                        int64_t now_us, RetentionPass* pass) {
  const std::string zone = Text(filesystem.metadata, kZoneKey);
  if (zone.empty()) return Status::Ok();
  ++pass->filesystems;
  const std::string& fs = filesystem.name;
  if (auto days = Days(filesystem.metadata, kFailedStagingDaysKey)) {
    const int64_t cutoff = now_us - *days * kDayUs;
    auto staged = Children(*lake_, account, fs, kStaging);
    if (!NotFound(staged.status())) {
      TARN_RETURN_IF_ERROR(staged.status());
      for (const auto& e : *staged) {
        if (e.node.modified_us >= cutoff) continue;
        Status s = lake_->Delete(account, fs, e.path, true, {});
        if (!s.ok() && !NotFound(s)) return s;
        ++pass->staging_deleted;
        spdlog::info("retention: deleted {}/{}/{} (staging untouched for {} days)", account, fs,
                     e.path, *days);
      }
    }
  }

  auto days = Days(filesystem.metadata, kRawBatchesDaysKey);
  if (zone != "raw" || !days) return Status::Ok();
  // Days are compared as text: "2026-12-07" < "2026-12-08".
  const int64_t cutoff_us = now_us - (*days - 1) * kDayUs;
  const std::string cutoff_day = FormatIso8601(cutoff_us).substr(0, 10);
  TARN_ASSIGN_OR_RETURN(auto sources, Children(*lake_, account, fs, ""));
  for (const auto& source : sources) {
    if (!source.node.is_dir || source.path.empty() || source.path[0] == '.') continue;
    TARN_ASSIGN_OR_RETURN(auto dates, Children(*lake_, account, fs, source.path));
    for (const auto& d : dates) {
      const std::string name = d.path.substr(d.path.rfind('/') + 1);
      constexpr std::string_view kKey = "ingest_date=";
      if (!d.node.is_dir || name.size() != kKey.size() + 10 || name.rfind(kKey, 0) != 0) continue;
      if (name.substr(kKey.size()) >= cutoff_day) continue;
      Status s = lake_->Delete(account, fs, d.path, true, {});
      if (!s.ok() && !NotFound(s)) return s;
      ++pass->batch_days_deleted;
      spdlog::info("retention: deleted {}/{}/{} (raw batches are kept {} days)", account, fs,
                   d.path, *days);
    }
    auto markers = Children(*lake_, account, fs, ".tarn/ingest/" + source.path);
    if (NotFound(markers.status())) continue;
    TARN_RETURN_IF_ERROR(markers.status());
    for (const auto& m : *markers) {
      if (m.node.is_dir || m.node.modified_us >= now_us - *days * kDayUs) continue;
      Status s = lake_->Delete(account, fs, m.path, false, {});
      if (!s.ok() && !NotFound(s)) return s;
      ++pass->markers_deleted;
    }
  }
  return Status::Ok();
}

}  // namespace tarn::zones
