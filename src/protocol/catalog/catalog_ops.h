// The workspace catalog's REST front: /workspaces/... (docs/catalog-api.md). JSON in and out;
// errors in the DFS JSON shape. Authentication has already run; callers are Shared Key
// holders of one of this tarnd's accounts.
#pragma once

#include "catalog/catalog_service.h"
#include "protocol/context.h"

namespace tarn::protocol {

// True for request paths this front serves.
bool IsCatalogPath(std::string_view raw_path);
// Routes and executes one catalog request.
Status ServeCatalog(Ctx& c, catalog::CatalogService& svc);

}  // namespace tarn::protocol
