// LakeService: pins held by dataset versions and snapshots, and reads of pinned
// content.
#include <mutex>
#include <shared_mutex>

#include "lake/lake_internal.h"
#include "lake/lake_service.h"

namespace tarn::lake {

using internal::RequireFilesystem;
using internal::Resolve;
using meta::ExtentSlice;
using meta::ReadTxn;
using meta::WriteTxn;

StatusOr<std::vector<PinnedFile>> LakeService::PinFiles(const std::string &holder,
                                                        const std::string &account,
                                                        const std::string &fs_name,
                                                        const std::vector<std::string> &paths) {
  std::vector<PinnedFile> out;
  // The file's own reference keeps every slice's count above zero inside this
  // transaction, so the collector cannot be removing any of them while they are
  // pinned.
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn &t) -> Status {
    out.clear();
    out.reserve(paths.size());
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    for (const std::string &p : paths) {
      TARN_ASSIGN_OR_RETURN(std::optional<Node> n, Resolve(t, fs, p));
      if (!n || n->is_dir) {
        return Error(Reason::kPathNotFound, "The file '" + p + "' does not exist in '" + fs_name +
                                                "' (it may have been deleted).");
      }
      TARN_ASSIGN_OR_RETURN(std::vector<ExtentSlice> slices, t.GetExtents(n->id));
      TARN_RETURN_IF_ERROR(t.Pin(holder, slices));
      out.push_back(PinnedFile{p, std::move(*n), std::move(slices)});
    }
    return Status::Ok();
  }));
  return out;
}

Status LakeService::Unpin(const std::string &holder) {
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn &t) { return t.UnpinAll(holder); }));
  WakeCollector();
  return Status::Ok();
}

StatusOr<std::vector<std::string>> LakeService::ListPinHolders(const std::string &prefix) {
  std::vector<std::string> out;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn &t) -> Status {
    TARN_ASSIGN_OR_RETURN(out, t.ListPinHolders(prefix));
    return Status::Ok();
  }));
  return out;
}

StatusOr<ReadPlan> LakeService::OpenSlices(const std::vector<ExtentSlice> &slices, int64_t size,
                                           const std::optional<ByteRange> &range) {
  ReadPlan plan;
  plan.node.length = size;
  std::shared_lock<std::shared_mutex> gc(gc_mu_);
  TARN_RETURN_IF_ERROR(store_->Read(
      [&](ReadTxn &t) -> Status { return PlanPieces(t, slices, size, range, &plan); }));
  return plan;
}

}  // namespace tarn::lake
