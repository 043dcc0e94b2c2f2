// Garbage collection: extents no file, staged block or pin references are freed, after the
// commit that dropped them is durable; Recover reclaims what a crash left unreferenced.
#include "lake/lake_service.h"

#include <chrono>

#include "lake/lake_internal.h"

namespace tarn::lake {

using meta::ReadTxn;
using meta::WriteTxn;
using namespace internal;  // NOLINT: this file is the implementation of internal's users

StatusOr<int64_t> LakeService::CollectGarbage() {
  int64_t freed = 0;
  for (;;) {
    std::vector<uint64_t> ids, stored;  // stored: those with bytes in the extent store
    // Listed inside a write, not a read: a read may see a commit not yet durable, and bytes
    // freed on the word of a commit that a power cut takes back would be lost. A write returns
    // once what it saw is durable.
    TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
      TARN_ASSIGN_OR_RETURN(ids, t.ListGarbage(1000));
      stored.clear();
      for (uint64_t id : ids) {
        if (MaybeInline(id)) {
          TARN_ASSIGN_OR_RETURN(std::optional<std::string> data, t.GetInlineData(id));
          if (data) continue;
        }
        stored.push_back(id);
      }
      return Status::Ok();
    }));
    if (ids.empty()) return freed;
    if (!stored.empty()) {
      std::unique_lock<std::shared_mutex> l(gc_mu_);
      TARN_RETURN_IF_ERROR(extents_->RemoveMany(stored));
    }
    TARN_RETURN_IF_ERROR(
        store_->Write([&](WriteTxn& t) { return t.DeleteExtentRecords(ids); }));
    freed += static_cast<int64_t>(ids.size());
  }
}

StatusOr<int64_t> LakeService::Recover() {
  TARN_ASSIGN_OR_RETURN(auto all, extents_->ListAll());
  int64_t reclaimed = 0;
  std::vector<uint64_t> orphans;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    for (uint64_t id : all) {
      TARN_ASSIGN_OR_RETURN(bool known, t.ExtentKnown(id));
      if (!known) orphans.push_back(id);
    }
    return Status::Ok();
  }));
  TARN_RETURN_IF_ERROR(extents_->RemoveMany(orphans));
  reclaimed += static_cast<int64_t>(orphans.size());
  TARN_ASSIGN_OR_RETURN(int64_t freed, CollectGarbage());
  return reclaimed + freed;
}

void LakeService::StartCollector() {
  collector_ = std::thread([this] { CollectorLoop(); });
}

void LakeService::WakeCollector() {
  std::lock_guard<std::mutex> l(collector_mu_);
  if (collector_wake_) return;  // a pass is already due; it will see this write's garbage
  collector_wake_ = true;
  collector_cv_.notify_one();
}

void LakeService::CollectorLoop() {
  // A pass waits this long after the write that woke it, so that a stream of writes (most of
  // which leave no garbage at all) costs a few passes a second, not a read transaction and two
  // context switches each.
  constexpr auto kCoalesce = std::chrono::milliseconds(20);
  std::unique_lock<std::mutex> l(collector_mu_);
  while (!stopping_) {
    collector_cv_.wait(l, [&] { return collector_wake_ || stopping_; });
    if (stopping_) break;
    collector_cv_.wait_for(l, kCoalesce, [&] { return stopping_; });
    if (stopping_) break;
    collector_wake_ = false;
    l.unlock();
    CollectGarbage().status().IgnoreError();
    l.lock();
  }
}

}  // namespace tarn::lake
