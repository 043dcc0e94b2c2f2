// POSIX permissions and ACL text as ADLS Gen2 accepts and returns them.
//
// Permissions: symbolic "rwxr-x---" (optionally with sticky "t"/"T" in the last slot and a
// trailing "+" marking an extended ACL) or octal "0750" / "1777".
// ACL: comma-separated entries "[default:]user|group|mask|other:[id]:rwx".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/meta/types.h"

namespace tarn::lake {

StatusOr<uint32_t> ParsePermissions(const std::string& text);
std::string FormatPermissions(uint32_t bits, bool extended);

struct AclEntry {
  bool is_default = false;
  std::string type;  // user, group, mask, other
  std::string id;    // empty for the owning user/group, mask and other
  uint32_t perms = 0;  // rwx as 3 bits
};

StatusOr<std::vector<AclEntry>> ParseAcl(const std::string& text);
std::string FormatAclEntries(const std::vector<AclEntry>& entries);

// Applies a full ACL (as setAccessControl with x-ms-acl does) to the stored access fields:
// the owner/group/other (and mask) entries become permission bits, named entries go to acl,
// default entries to default_acl. At most 32 access and 32 default entries.
Status ApplyAcl(const std::vector<AclEntry>& entries, bool is_dir, meta::Access* access);
// The full ACL text of a node, as getAccessControl returns it in x-ms-acl.
std::string FormatAcl(const meta::Access& access, bool is_dir);

// setAccessControlRecursive's modes: replace the ACL, merge entries into it, or remove entries.
enum class AclChangeMode { kSet, kModify, kRemove };
// Parses the x-ms-acl of a change. For kRemove, entries may omit permissions ("user:oid").
StatusOr<std::vector<AclEntry>> ParseAclChange(const std::string& text, AclChangeMode mode);
// Applies a change to a node's access fields: a file ignores default entries; the base entries
// (user::, group::, other::) cannot be removed.
Status ChangeAcl(AclChangeMode mode, const std::vector<AclEntry>& change, bool is_dir,
                 meta::Access* access);

// A caller as POSIX ACLs see it: an object ID and the groups it belongs to.
struct AclPrincipal {
  std::string oid;
  std::vector<std::string> groups;
};

// POSIX ACL evaluation as ADLS Gen2 documents it: the owner's bits; else a named user entry
// (through the mask); else, if the caller is in the owning group or any named group, the union
// of those entries through the mask (and no fall-through to other when none grants); else other.
// want is rwx as 3 bits (4 read, 2 write, 1 execute).
bool AclPermits(const meta::Access& access, const AclPrincipal& who, uint32_t want);

// Applies a parent directory's default ACL to a new child: its access entries become the
// child's ACL, and a child directory inherits the default ACL itself. Returns false (and changes
// nothing) when the parent has no default ACL, in which case the caller applies the umask.
bool InheritDefaultAcl(const meta::Access& parent, bool child_is_dir, meta::Access* child);

}  // namespace tarn::lake
