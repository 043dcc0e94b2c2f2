// The one route table: every request of every front (Blob, DFS, the token service, /identity,
// /workspaces) reaches its operation through a row of kRoutes (route_table.cc), and each row says
// what the operation needs before it may run. The pipeline (router.cc) reads nothing else:
//   parse -> find the row -> authenticate -> authorize (the row's policy, for the request's
//   resource and for the second resource the row names) -> execute -> respond -> audit
//
// Matching is exact. A storage row names the discriminating query parameters it serves
// (restype, comp, resource, action) with their values; a request carrying a discriminator that
// no row names with that value matches no row and is refused (FindRoute says how). A row of the
// other fronts is a path template whose '*' segments are captured into Ctx::segments.
#pragma once

#include <optional>

#include "common/status.h"
#include "lake/lake_service.h"
#include "protocol/context.h"

namespace tarn::protocol {

using Operation = Status (*)(Ctx&);

enum class Level : uint8_t { kAccount, kFilesystem, kPath, kAny };  // kAny: rows only
enum class ApiMatch : uint8_t { kBlob, kDfs, kAny };

// Who may run a route at all. Storage rows are further narrowed by their SAS letters and ACL
// intent; the directory and catalog fronts have no finer rule yet.
enum class Need : uint8_t {
  kNobody,       // anonymous: the token service
  kAnyCaller,    // any authenticated caller of the account (clients probe account kind)
  kReader,       // RBAC Reader at the resource (or the ACL intent)
  kContributor,  // RBAC Contributor at the resource (or the ACL intent)
  kOwner,        // RBAC Owner at the resource (or the ACL intent, for the item's owner)
  kDataScientist,  // workspaces: AzureML Data Scientist (catalog rows take Reader, Contributor
                   // and Owner as Azure ML's workspace roles)
  kAccountKey,   // a Shared Key holder of one of the accounts; on the identity admin API also
                 // an account Owner's bearer token (Storage Blob Data Owner at every account)
};

// What anonymous callers may do by a container's public access level.
enum class PublicRead : uint8_t { kNo, kBlob, kContainer };

// The second resource a route names, authorized for the same caller before the operation runs.
enum class Second : uint8_t {
  kNone,
  kCopySource,    // x-ms-copy-source: read, by the caller (or by the SAS the source URL carries)
  kRenameSource,  // x-ms-rename-source: delete at the source, by the caller
};

enum class AuditAs : uint8_t { kRead, kWrite };

struct Policy {
  Need need;
  const char* sas;  // storage: SAS permission letters of which any one allows the operation
  std::optional<lake::AccessIntent> acl;  // storage paths: the POSIX ACL check for bearer callers
  PublicRead anonymous;
  Second second;
  AuditAs audit;
};

struct Param {
  const char* key = nullptr;
  const char* value = nullptr;  // "*": any value
};

struct Route {
  Front front;
  const char* method;  // exact, or "*" for any method
  // Storage rows.
  ApiMatch api;
  Level level;
  Param p1, p2;
  const char* header;  // a header that must be present
  // Rows of the other fronts: "/identity/tenants/*/principals".
  const char* pattern;
  Operation op;
  const char* name;
  Policy policy;
};

// The row for a parsed request (c.front, c.api, level, method, query, headers and segments), or
// the error to answer when none matches: an unknown comp or restype is
// InvalidQueryParameterValue; a Blob feature that hierarchical-namespace accounts lack is
// FeatureNotYetSupportedForHierarchicalNamespaceAccounts; a known one Tarn does not serve yet is
// NotImplemented; anything else UnsupportedHttpVerb.
StatusOr<const Route*> FindRoute(Ctx& c, Level level);

}  // namespace tarn::protocol
