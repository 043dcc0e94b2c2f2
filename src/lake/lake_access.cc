// LakeService: POSIX ACL checks for callers that no role covers, as ADLS Gen2 documents them.
#include "lake/lake_internal.h"
#include "lake/lake_service.h"

namespace tarn::lake {

using internal::Components;
using internal::RequireFilesystem;
using meta::ReadTxn;

namespace {

std::string Rwx(uint32_t want) {
  std::string s = "---";
  if (want & 4) s[0] = 'r';
  if (want & 2) s[1] = 'w';
  if (want & 1) s[2] = 'x';
  return s;
}

}  // namespace

Status LakeService::CheckAccess(const std::string& account, const std::string& fs_name,
                                const std::string& path, const AclPrincipal& who,
                                AccessIntent intent) {
  auto deny = [&](const std::string& what, uint32_t want, const std::string& where) {
    return Error(Reason::kAuthorizationPermissionMismatch,
                 "This request is not authorized to perform this operation using this "
                 "permission: it needs " + what + (want ? " " + Rwx(want) : "") + " on '/" +
                     where + "', and neither a role nor the ACL grants it.");
  };
  return store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(auto cur, t.GetNode(fs.root_id));
    if (!cur) return InternalError("filesystem root missing");
    const std::vector<std::string> parts = Components(path);
    // Walk down: execute on every directory above the target. The deepest existing directory
    // above the target is its parent (or, for a create with missing parents, the nearest one).
    Node parent = *cur;
    std::string where;
    std::optional<Node> target = parts.empty() ? std::optional<Node>(*cur) : std::nullopt;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!AclPermits(cur->access, who, 1)) return deny("execute", 1, where);
      TARN_ASSIGN_OR_RETURN(auto next, t.Lookup(fs.id, cur->id, parts[i]));
      if (!next) break;  // the operation reports the missing path itself
      where += (where.empty() ? "" : "/") + parts[i];
      if (i + 1 == parts.size()) {
        target = next;
      } else if (!next->is_dir) {
        break;
      } else {
        parent = *next;
        cur = next;
      }
    }
    switch (intent) {
      case AccessIntent::kStat:
        return Status::Ok();
      case AccessIntent::kReadFile:
        if (target && !AclPermits(target->access, who, 4)) return deny("read", 4, where);
        return Status::Ok();
      case AccessIntent::kListDir:
        if (target && !AclPermits(target->access, who, 5)) return deny("read and execute", 5, where);
        return Status::Ok();
      case AccessIntent::kWriteFile:
        if (target && !AclPermits(target->access, who, 2)) return deny("write", 2, where);
        return Status::Ok();
      case AccessIntent::kCreate:
        if (target && !target->is_dir) {
          if (!AclPermits(target->access, who, 2)) return deny("write", 2, where);
          return Status::Ok();
        }
        if (!AclPermits(parent.access, who, 3)) return deny("write and execute", 3, "parent of " + path);
        return Status::Ok();
      case AccessIntent::kDelete: {
        if (!AclPermits(parent.access, who, 3)) return deny("write and execute", 3, "parent of " + path);
        // Sticky bit: only the owner of the item or of its directory may delete or move it.
        bool sticky = (parent.access.permissions & 01000) != 0;
        if (sticky && target && who.oid != target->access.owner &&
            who.oid != parent.access.owner) {
          return deny("ownership of the item or its directory (sticky bit)", 0, path);
        }
        return Status::Ok();
      }
      case AccessIntent::kChangeAccess:
        if (target && who.oid != target->access.owner) {
          return deny("ownership (only the owner may change access control)", 0, where);
        }
        return Status::Ok();
    }
    return Status::Ok();
  });
}

}  // namespace tarn::lake
