// Frontend: the fixed request pipeline of the lake protocols.
//   parse -> authenticate -> authorize -> route -> execute -> respond
// Parsing splits the path-style URL (/<account>/<filesystem>/<path>), decodes the query and
// decides whether the request is Blob- or DFS-shaped, which fixes the error format.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "lake/lake_service.h"
#include "protocol/context.h"

namespace tarn::catalog {
class CatalogService;
}
namespace tarn::identity {
class IdentityService;
}
namespace tarn::audit {
class AuditLog;
}

namespace tarn::protocol {

class Frontend {
 public:
  // catalog: serves /workspaces/... when given (docs/catalog-api.md).
  // identity: serves the token service and /identity, and accepts bearer tokens, when given.
  // audit: records writes, access-control changes, denials and directory changes, and
  // summarises reads, when given.
  Frontend(lake::LakeService* lake, std::vector<Account> accounts,
           catalog::CatalogService* catalog = nullptr,
           identity::IdentityService* identity = nullptr, audit::AuditLog* audit = nullptr);
  void Handle(http::Request& req, http::ResponseWriter& w);
  // Answers a request the HTTP layer could not parse (too-large headers, bad syntax).
  void HandleBadRequest(int status, const std::string& why, http::ResponseWriter& w);

 private:
  Status Parse(Ctx& c);
  // level: 's' account, 'c' filesystem, 'o' path (the SAS resource types).
  Status Authorize(Ctx& c, char level, const char* sas_permissions, const char* route_name);
  // Bearer callers: the role the operation needs at the resource it touches (RBAC), else the
  // POSIX ACLs along the path.
  Status AuthorizeBearer(Ctx& c, const char* sas_permissions, const char* route_name);

  lake::LakeService* lake_;
  std::vector<Account> accounts_;
  catalog::CatalogService* catalog_;
  identity::IdentityService* identity_;
  audit::AuditLog* audit_;
  void Audit(const Ctx& c, const char* op, const char* sas_permissions, const Status& s);
};

}  // namespace tarn::protocol
