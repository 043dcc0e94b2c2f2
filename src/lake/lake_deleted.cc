// Soft delete: paths parked out of the tree under a delete retention policy, listed, restored
// and purged.
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "lake/lake_internal.h"

namespace tarn::lake {

using internal::RequireFilesystem;
using internal::RequirePath;
using internal::Resolve;
using meta::ReadTxn;
using meta::WriteTxn;

namespace {

std::string ParkedName(int64_t deletion_id) { return "deleted-" + std::to_string(deletion_id); }

// The marker after an item: its path (base64, so that any name is safe in XML) and its id.
std::string MarkerAfter(const meta::DeletedPath& d) {
  return Base64Encode(d.path) + "." + std::to_string(d.id);
}

}  // namespace

StatusOr<meta::DeletedPath> LakeService::SoftDelete(const std::string& account,
                                                    const std::string& fs_name,
                                                    const std::string& path, bool recursive,
                                                    const Access& access, int64_t retain_us) {
  if (path.empty()) {
    return Error(Reason::kInvalidInput, "The root directory of a filesystem cannot be deleted.");
  }
  meta::DeletedPath out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(internal::CheckDeletable(t, *n, recursive, access));
    meta::DeletedPath d;
    d.fs_id = fs.id;
    d.node_id = n->id;
    d.path = path;
    d.is_dir = n->is_dir;
    d.deleted_us = NowMicros();
    d.expires_us = d.deleted_us + retain_us;
    TARN_ASSIGN_OR_RETURN(out, t.InsertDeleted(d));
    // The node keeps its subtree, its extents and its etag; only its place changes.
    TARN_RETURN_IF_ERROR(
        t.MoveNode(n->id, meta::kParkedParent, ParkedName(out.id), n->etag, n->modified_us));
    return t.ClearStagedUnder(fs.id, path);
  }));
  return out;
}

StatusOr<Node> LakeService::Undelete(const std::string& account, const std::string& fs_name,
                                     const std::string& path,
                                     std::optional<int64_t> deletion_id) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    std::optional<meta::DeletedPath> d;
    if (deletion_id) {
      TARN_ASSIGN_OR_RETURN(d, t.GetDeleted(fs.id, *deletion_id));
      if (d && d->path != path) d.reset();
    } else {
      TARN_ASSIGN_OR_RETURN(d, t.LatestDeleted(fs.id, path));
    }
    if (!d) {
      return Error(Reason::kPathNotFound,
                   "There is no soft-deleted path '" + path + "'" +
                       (deletion_id ? " with deletion id " + std::to_string(*deletion_id) : "") +
                       " in this filesystem (it may have been restored, or purged when its "
                       "retention ended).");
    }
    const size_t slash = path.rfind('/');
    const std::string parent_path = slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    TARN_ASSIGN_OR_RETURN(std::optional<Node> parent, Resolve(t, fs, parent_path));
    if (!parent || !parent->is_dir) {
      return Error(Reason::kParentNotFound,
                   "The parent directory '" + parent_path + "' of the deleted path no longer "
                   "exists: create it, then restore the path.");
    }
    TARN_ASSIGN_OR_RETURN(std::optional<Node> taken, t.Lookup(fs.id, parent->id, name));
    if (taken) {
      return Error(Reason::kPathAlreadyExists,
                   "'" + path + "' exists again: delete or rename it, then restore the deleted "
                   "one.");
    }
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, t.GetNode(d->node_id));
    if (!n) return InternalError("the soft-deleted node of '" + path + "' is missing");
    TARN_RETURN_IF_ERROR(t.MoveNode(n->id, parent->id, name, n->etag, n->modified_us));
    TARN_RETURN_IF_ERROR(t.RemoveDeleted(d->id));
    out = std::move(*n);
    out.parent_id = parent->id;
    out.name = name;
    return Status::Ok();
  }));
  return out;
}

StatusOr<DeletedPage> LakeService::ListDeleted(const std::string& account,
                                               const std::string& fs_name,
                                               const std::string& prefix,
                                               const std::string& marker, int max_results) {
  std::string after_path;
  int64_t after_id = 0;
  if (!marker.empty()) {
    const size_t dot = marker.rfind('.');
    auto decoded = dot == std::string::npos ? std::nullopt : Base64Decode(marker.substr(0, dot));
    if (!decoded || !ParseInt64(marker.substr(dot + 1), &after_id)) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "The marker is not one this server gave: list again from the start.");
    }
    after_path = *decoded;
  } else {
    after_id = -1;  // (after_path "", -1): everything
  }
  DeletedPage page;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(page.items,
                          t.ListDeleted(fs.id, prefix, after_path, after_id, max_results + 1));
    return Status::Ok();
  }));
  if (static_cast<int>(page.items.size()) > max_results) {
    page.items.resize(static_cast<size_t>(max_results));
    page.next_marker = MarkerAfter(page.items.back());
  }
  return page;
}

StatusOr<int64_t> LakeService::PurgeDeleted(int64_t now_us) {
  int64_t purged = 0;
  for (;;) {
    int64_t batch = 0;
    TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
      TARN_ASSIGN_OR_RETURN(auto expired, t.ExpiredDeleted(now_us, 256));
      for (const meta::DeletedPath& d : expired) {
        TARN_RETURN_IF_ERROR(t.DeleteSubtree(d.node_id).status());
        TARN_RETURN_IF_ERROR(t.RemoveDeleted(d.id));
      }
      batch = static_cast<int64_t>(expired.size());
      return Status::Ok();
    }));
    purged += batch;
    if (batch < 256) break;
  }
  if (purged > 0) WakeCollector();
  return purged;
}

// ----- containers ------------------------------------------------------------------------------
// A soft-deleted filesystem stays whole in the store, moved out of its account: its account
// becomes "$deleted/<account>" (no account has a '/'), its name "<name>/<deleted_us>/<expires_us>"
// (no filesystem name has a '/'), so that nothing that looks a filesystem up by account and
// name, or lists an account's, finds it. Its version is <deleted_us>.

namespace {

std::string DeletedAccount(const std::string& account) { return "$deleted/" + account; }

std::optional<DeletedFilesystem> FromParked(const Filesystem& parked, const std::string& account) {
  const auto parts = Split(parked.name, '/');
  int64_t deleted = 0, expires = 0;
  if (parts.size() != 3 || !ParseInt64(parts[1], &deleted) || !ParseInt64(parts[2], &expires)) {
    return std::nullopt;
  }
  DeletedFilesystem d;
  d.fs = parked;
  d.fs.account = account;
  d.fs.name = std::string(parts[0]);
  d.version = std::string(parts[1]);
  d.deleted_us = deleted;
  d.expires_us = expires;
  return d;
}

}  // namespace

StatusOr<DeletedFilesystem> LakeService::SoftDeleteFilesystem(const std::string& account,
                                                              const std::string& name,
                                                              const Access& access,
                                                              int64_t retain_us) {
  DeletedFilesystem out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, name));
    TARN_RETURN_IF_ERROR(internal::CheckFilesystemDeletable(fs, access));
    out.fs = fs;
    out.deleted_us = NowMicros();
    out.expires_us = out.deleted_us + retain_us;
    out.version = std::to_string(out.deleted_us);
    fs.lease = meta::Lease{};
    fs.account = DeletedAccount(account);
    fs.name = name + "/" + out.version + "/" + std::to_string(out.expires_us);
    return t.UpdateFilesystem(fs);
  }));
  return out;
}

StatusOr<std::vector<DeletedFilesystem>> LakeService::ListDeletedFilesystems(
    const std::string& account, const std::string& prefix) {
  std::vector<DeletedFilesystem> out;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    std::string after;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(auto page, t.ListFilesystems(DeletedAccount(account), prefix, after,
                                                         1000));
      for (const Filesystem& parked : page) {
        if (auto d = FromParked(parked, account)) out.push_back(std::move(*d));
      }
      if (page.size() < 1000) return Status::Ok();
      after = page.back().name;
    }
  }));
  return out;
}

StatusOr<Filesystem> LakeService::RestoreFilesystem(const std::string& account,
                                                    const std::string& name,
                                                    const std::string& version) {
  Filesystem out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto page, t.ListFilesystems(DeletedAccount(account),
                                                       name + "/" + version + "/", "", 2));
    if (page.empty()) {
      return Error(Reason::kFilesystemNotFound,
                   "No deleted container '" + name + "' of version '" + version +
                       "' is kept: list them with include=deleted.");
    }
    TARN_ASSIGN_OR_RETURN(std::optional<Filesystem> taken, t.GetFilesystem(account, name));
    if (taken) {
      return Error(Reason::kFilesystemAlreadyExists,
                   "The container '" + name + "' exists: delete it, or restore elsewhere.");
    }
    out = page[0];
    out.account = account;
    out.name = name;
    out.modified_us = NowMicros();
    return t.UpdateFilesystem(out);
  }));
  return out;
}

StatusOr<int64_t> LakeService::PurgeDeletedFilesystems(const std::vector<std::string>& accounts,
                                                       int64_t now_us) {
  int64_t purged = 0;
  for (const std::string& account : accounts) {
    TARN_ASSIGN_OR_RETURN(auto deleted, ListDeletedFilesystems(account, ""));
    for (const DeletedFilesystem& d : deleted) {
      if (d.expires_us > now_us) continue;
      TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) { return t.DeleteFilesystem(d.fs.id); }));
      ++purged;
    }
  }
  if (purged > 0) WakeCollector();
  return purged;
}

}  // namespace tarn::lake
