// The workspace catalog's REST front, /workspaces/... (docs/catalog-api.md), one operation per
// route (the route table in route_table.cc reaches them). JSON in and out; errors in the DFS
// JSON shape. Every operation reads its arguments from c.segments (the decoded path:
// "workspaces", <workspace>, ...) and the catalog from c.catalog, which the pipeline has checked
// is present.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol::catalog_ops {

Status ListWorkspaces(Ctx& c);
Status PutWorkspace(Ctx& c);
Status GetWorkspace(Ctx& c);
Status DeleteWorkspace(Ctx& c);

Status ListDatastores(Ctx& c);
Status PutDatastore(Ctx& c);
Status GetDatastore(Ctx& c);
Status DeleteDatastore(Ctx& c);
Status PutDefaultDatastore(Ctx& c);
Status GetDefaultDatastore(Ctx& c);

Status ListDatasets(Ctx& c);
Status GetDataset(Ctx& c);
Status DeleteDataset(Ctx& c);
Status ListVersions(Ctx& c);
Status RegisterVersion(Ctx& c);
Status GetVersion(Ctx& c);
Status UpdateVersion(Ctx& c);
Status SetVersionState(Ctx& c);
Status DeleteVersion(Ctx& c);
Status ListFiles(Ctx& c);
Status ReadFile(Ctx& c);
// GET .../versions/{v}/histograms?bins=&column=: equal-width histograms of numeric columns.
Status Histograms(Ctx& c);
// GET .../versions/{v}/preview?rows=: the version's first rows, as registered (transforms too).
Status PreviewRows(Ctx& c);
Status GetVersionById(Ctx& c);

}  // namespace tarn::protocol::catalog_ops
