// The lake's layout as code: lake.yaml names the zones (each a filesystem of the account) and
// their domain folders, the groups, who may read or write what, and retention. `tarn lake plan`
// shows what applying it would change, `tarn lake apply` changes it (idempotently), and
// `tarn lake check` reports drift: what was changed by hand since.
//
//   version: 1
//   tenant: 8d0c...               # the directory tenant holding the groups
//   zones:
//     raw:     {filesystem: raw, domains: [pos, crm]}
//     curated: {filesystem: curated, domains: [sales, finance]}
//     product: {filesystem: product, domains: [churn]}
//   groups: [data-engineering, sales-analysts, data-science]
//   access:
//     - {group: data-engineering, zone: raw, write: true}
//     - {group: sales-analysts, zone: curated, domain: sales, read: true}
//   retention: {raw_batches_days: 365, failed_staging_days: 14}
//
// What applying means (docs/lake-layout.md):
// - each zone's filesystem and domain folders exist;
// - each group exists in the tenant (by display name);
// - each access entry is a role assignment (read: Storage Blob Data Reader, write: Storage Blob
//   Data Contributor) at /<account>/<filesystem>[/<domain>], plus ACL entries for the group on
//   that folder, access and default (read r-x, write rwx), so that files created later inherit
//   them; a domain grant also gives the group --x on the zone's root, to traverse it;
// - each zone's filesystem carries its zone name and retention as metadata
//   (zones/zone_metadata.h), which tarnd acts on;
// - the layout owns, at the zone roots and domain folders, the role assignments and the named
//   group ACL entries of the groups it names: one it does not list is removed. Other principals'
//   assignments and entries are left alone;
// - `.tarn/layout.json` in each zone's filesystem records the applied layout.
//
// Errors. A file that does not parse, has an unknown key, names an unknown group or zone, gives
// two zones one filesystem, or a grant neither read nor write, is kInvalidArgument with
// "FILE:LINE:COLUMN: what is wrong", and nothing changes.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tarn::layout {

using Json = nlohmann::json;

inline constexpr char kReaderRole[] = "Storage Blob Data Reader";
inline constexpr char kContributorRole[] = "Storage Blob Data Contributor";
inline constexpr char kAppliedPath[] = ".tarn/layout.json";

struct Zone {
  std::string name;  // raw, curated, product, or any other
  std::string filesystem;
  std::vector<std::string> domains;
};

struct Grant {
  std::string group;
  std::string zone;
  std::string domain;  // "" = the whole zone
  bool write = false;  // false: read
};

struct Retention {
  std::optional<int64_t> raw_batches_days;
  std::optional<int64_t> failed_staging_days;
};

struct Layout {
  std::string tenant;
  std::string account;  // "" = the connection's
  std::vector<Zone> zones;
  std::vector<std::string> groups;
  std::vector<Grant> access;
  Retention retention;
  std::string digest;  // of the file's text: what `.tarn/layout.json` records
};

// Parses lake.yaml. `file` names it in error messages.
StatusOr<Layout> ParseLayout(std::string_view text, const std::string& file);

// One named ACL entry: "group:<oid>:r-x" or, with is_default, "default:group:<oid>:r-x".
struct AclEntry {
  bool is_default = false;
  std::string type;       // user, group, mask, other
  std::string qualifier;  // an object id, or ""
  std::string perms;      // "rwx", "r-x", ...
  friend auto operator<=>(const AclEntry&, const AclEntry&) = default;
};
StatusOr<std::vector<AclEntry>> ParseAcl(std::string_view acl);
std::string FormatAcl(const std::vector<AclEntry>& acl);

struct RoleAssignment {
  std::string id;  // "" for one to create
  std::string principal_id;
  std::string role;
  std::string scope;
};

// What the layout governs, as it is now.
struct Live {
  std::set<std::string> filesystems;
  std::set<std::string> directories;              // "<fs>/<domain>"
  std::map<std::string, std::string> group_ids;   // display name -> object id, in the tenant
  std::vector<RoleAssignment> roles;              // every assignment (only some are governed)
  std::map<std::string, std::string> acls;        // "<fs>" or "<fs>/<domain>" -> ACL text
  std::map<std::string, std::string> applied;     // "<fs>" -> digest of the last applied layout
  // "<fs>" -> its metadata (names lowercase); the layout owns the tarn_* entries.
  std::map<std::string, std::map<std::string, std::string>> metadata;
};

// One change applying the layout makes.
struct Change {
  enum class Kind {
    kCreateFilesystem,
    kCreateDirectory,
    kCreateGroup,
    kAssignRole,
    kRemoveRole,
    kSetAcl,
    kSetRetention,
    kRecordLayout
  };
  Kind kind;
  std::string target;  // filesystem, "<fs>/<dir>", group name, scope
  std::string detail;  // for people: "Storage Blob Data Reader for sales-analysts", the new ACL
  // What carrying it out needs.
  std::string group;       // kCreateGroup, kAssignRole
  RoleAssignment role;     // kAssignRole (principal_id may be "" until the group exists), kRemoveRole
  std::string acl;         // kSetAcl: the whole new ACL
  std::map<std::string, std::string> metadata{};  // kSetRetention: the whole new metadata
};
std::string KindName(Change::Kind k);

// The changes that bring `live` to the layout, in the order they must be made. Changes that
// need a group created first name it and come after its kCreateGroup; Plan them again once
// the group exists to get its object id. `account` is the account the scopes name.
std::vector<Change> Diff(const Layout& layout, const std::string& account, const Live& live);

// Drift: the changes of Diff except creating things and recording the layout, i.e. roles,
// ACLs and retention that differ from what was applied.
std::vector<Change> Drift(const std::vector<Change>& diff);

}  // namespace tarn::layout
