// LakeService: setAccessControlRecursive, applied page by page over a subtree.
#include <algorithm>

#include "common/time_util.h"
#include "lake/lake_internal.h"
#include "lake/lake_service.h"

namespace tarn::lake {

using internal::RequireFilesystem;
using internal::Resolve;
using meta::WriteTxn;

StatusOr<AclChangeResult> LakeService::ChangeAclRecursive(
    const std::string& account, const std::string& fs_name, const std::string& path,
    AclChangeMode mode, const std::vector<AclEntry>& change, const std::string& continuation,
    int max_records, const std::optional<AclPrincipal>& who) {
  if (max_records <= 0 || max_records > 2000) max_records = 2000;
  // The first page holds the path itself and at least one of its descendants.
  if (continuation.empty()) max_records = std::max(max_records, 2);
  AclChangeResult out;
  // The subtree's paths in listing order: the path itself first, then its descendants.
  std::vector<std::string> batch;
  if (continuation.empty()) batch.push_back(path);
  TARN_ASSIGN_OR_RETURN(Node top, GetPath(account, fs_name, path, {}));
  if (top.is_dir) {
    int room = max_records - static_cast<int>(batch.size());
    TARN_ASSIGN_OR_RETURN(ListPathsPage page,
                          ListPaths(account, fs_name, path, true, continuation, room));
    for (auto& e : page.entries) batch.push_back(std::move(e.path));
    out.continuation = page.continuation;
  }
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    out.directories = out.files = out.failures = 0;
    out.failed.clear();
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    const int64_t now = NowMicros();
    for (const std::string& p : batch) {
      TARN_ASSIGN_OR_RETURN(std::optional<Node> n, Resolve(t, fs, p));
      if (!n) continue;  // deleted since it was listed
      auto fail = [&](const std::string& why) {
        ++out.failures;
        if (out.failed.size() < 100) out.failed.push_back({p, n->is_dir, why});
      };
      if (who && who->oid != n->access.owner) {
        fail("This request is not authorized to perform this operation using this permission: "
             "only the owner may change access control.");
        continue;
      }
      Status s = ChangeAcl(mode, change, n->is_dir, &n->access);
      if (!s.ok()) {
        fail(s.message());
        continue;
      }
      n->etag = internal::NewEtag();
      n->modified_us = now;
      TARN_RETURN_IF_ERROR(t.UpdateNode(*n));
      ++(n->is_dir ? out.directories : out.files);
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace tarn::lake
