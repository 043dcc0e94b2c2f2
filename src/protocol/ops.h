// Every REST operation Tarn serves, one function each, all of the same shape. The routing table
// in router.cc is the only place that decides which one a request reaches.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol {

using Operation = Status (*)(Ctx&);

namespace account_ops {
Status GetAccountInfo(Ctx& c);
Status GetServiceProperties(Ctx& c);
Status SetServiceProperties(Ctx& c);
// OPTIONS on any storage URL: a CORS preflight, answered from the account's rules.
Status CorsPreflight(Ctx& c);
Status GetUserDelegationKey(Ctx& c);
}  // namespace account_ops

namespace blob {
Status ListContainers(Ctx& c);
// Blob Batch, of an account or of a container (protocol/batch.h).
Status SubmitBatch(Ctx& c);
// Put Block From URL: a block staged from (a range of) x-ms-copy-source.
Status PutBlockFromUrl(Ctx& c);
// Undelete Blob, and DFS's Path Undelete (x-ms-undelete-source), of a soft-deleted path.
Status UndeleteBlob(Ctx& c);
Status CreateContainer(Ctx& c);
Status GetContainerProperties(Ctx& c);
Status DeleteContainer(Ctx& c);
Status UndeleteContainer(Ctx& c);
Status SetContainerMetadata(Ctx& c);
Status GetContainerAcl(Ctx& c);
Status SetContainerAcl(Ctx& c);
Status LeaseContainer(Ctx& c);
Status ListBlobs(Ctx& c);

Status PutBlob(Ctx& c);
Status CopyBlob(Ctx& c);
Status GetBlob(Ctx& c);
// Query Blob Contents (query_ops.cc).
Status QueryBlob(Ctx& c);
Status GetBlobProperties(Ctx& c);
Status GetBlobMetadata(Ctx& c);
Status DeleteBlob(Ctx& c);
Status SetBlobMetadata(Ctx& c);
Status SetBlobHttpHeaders(Ctx& c);
Status LeaseBlob(Ctx& c);
Status SetBlobTier(Ctx& c);
Status PutBlock(Ctx& c);
Status PutBlockList(Ctx& c);
Status GetBlockList(Ctx& c);
// The body of Put Block List: <BlockList> of <Latest>, <Committed> and <Uncommitted> block IDs.
StatusOr<std::vector<lake::BlockRef>> ParseBlockList(std::string_view body);
}  // namespace blob

namespace website {
// GET/HEAD on <account>.web.<suffix>: the account's static website (website_ops.cc).
Status ServeWebsite(Ctx& c);
}  // namespace website

namespace dfs {
Status ListFilesystems(Ctx& c);
Status CreateFilesystem(Ctx& c);
Status GetFilesystemProperties(Ctx& c);
Status SetFilesystemProperties(Ctx& c);
Status DeleteFilesystem(Ctx& c);
Status ListPaths(Ctx& c);

Status CreatePath(Ctx& c);
Status RenamePath(Ctx& c);  // x-ms-rename-source names the source (c.source)
Status AppendData(Ctx& c);
Status FlushData(Ctx& c);
Status SetProperties(Ctx& c);
Status SetAccessControl(Ctx& c);
Status SetAccessControlRecursive(Ctx& c);
Status GetProperties(Ctx& c);  // HEAD: getStatus, getAccessControl or full properties
Status ReadPath(Ctx& c);
Status DeletePath(Ctx& c);
Status LeasePath(Ctx& c);
}  // namespace dfs

}  // namespace tarn::protocol
