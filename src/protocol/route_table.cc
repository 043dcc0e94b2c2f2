#include "protocol/route_table.h"

#include <array>
#include <string_view>

#include "common/strings.h"
#include "protocol/catalog/catalog_ops.h"
#include "protocol/catalog/job_ops.h"
#include "protocol/catalog/pipeline_ops.h"
#include "protocol/identity/identity_ops.h"
#include "protocol/ops.h"
#include "protocol/studio/preview_ops.h"
#include "protocol/studio/studio_ops.h"
#include "protocol/tracking/mlflow_ops.h"

namespace tarn::protocol {
namespace {

using I = lake::AccessIntent;

// ----- policies --------------------------------------------------------------------------------

constexpr Policy Read(const char* sas, std::optional<I> acl = std::nullopt,
                      PublicRead anonymous = PublicRead::kNo) {
  return {Need::kReader, sas, acl, anonymous, Second::kNone, AuditAs::kRead};
}
constexpr Policy Write(const char* sas, std::optional<I> acl = std::nullopt,
                       Second second = Second::kNone) {
  return {Need::kContributor, sas, acl, PublicRead::kNo, second, AuditAs::kWrite};
}
constexpr Policy Own(const char* sas, I acl) {
  return {Need::kOwner, sas, acl, PublicRead::kNo, Second::kNone, AuditAs::kWrite};
}
// Any caller of the account may ask what kind of account it is (clients probe for HNS).
constexpr Policy Probe(const char* sas) {
  return {Need::kAnyCaller, sas, std::nullopt, PublicRead::kNo, Second::kNone, AuditAs::kRead};
}
constexpr Policy KeyRead() {
  return {Need::kAccountKey, "", std::nullopt, PublicRead::kNo, Second::kNone, AuditAs::kRead};
}
constexpr Policy KeyWrite() {
  return {Need::kAccountKey, "", std::nullopt, PublicRead::kNo, Second::kNone, AuditAs::kWrite};
}
// The workspace catalog: an account key holder, or a bearer with a workspace role (Azure ML's).
constexpr Policy Ws(Need need, AuditAs audit) {
  return {need, "", std::nullopt, PublicRead::kNo, Second::kNone, audit};
}
constexpr Policy WsRead() { return Ws(Need::kReader, AuditAs::kRead); }
constexpr Policy WsWrite() { return Ws(Need::kDataScientist, AuditAs::kWrite); }
constexpr Policy WsManage() { return Ws(Need::kContributor, AuditAs::kWrite); }
// A batch: any caller who authenticates; each sub-request is authorized on its own (a SAS needs
// delete or write, what its sub-requests do). Counted as a read: its sub-requests are listed.
constexpr Policy Batch() {
  return {Need::kAnyCaller, "dw", std::nullopt, PublicRead::kNo, Second::kNone, AuditAs::kRead};
}
constexpr Policy Anonymous() {
  return {Need::kNobody, "", std::nullopt, PublicRead::kNo, Second::kNone, AuditAs::kRead};
}

// ----- rows ------------------------------------------------------------------------------------

constexpr Param kNone{};
constexpr Param Q(const char* key, const char* value) { return Param{key, value}; }

constexpr Route Blob(Level level, const char* method, Param p1, Param p2, Operation op,
                     const char* name, Policy policy, const char* header = nullptr) {
  return Route{Front::kStorage, method, ApiMatch::kBlob, level, p1, p2, header, nullptr, op, name,
               policy};
}
constexpr Route Dfs(Level level, const char* method, Param p1, Operation op, const char* name,
                    Policy policy, const char* header = nullptr) {
  return Route{Front::kStorage, method, ApiMatch::kDfs, level, p1, kNone, header, nullptr, op, name,
               policy};
}
constexpr Route Either(Level level, const char* method, Param p1, Param p2, Operation op,
                       const char* name, Policy policy) {
  return Route{Front::kStorage, method, ApiMatch::kAny, level, p1, p2, nullptr, nullptr, op, name,
               policy};
}
constexpr Route At(Front front, const char* method, const char* pattern, Operation op,
                   const char* name, Policy policy) {
  return Route{front, method, ApiMatch::kAny, Level::kAny, kNone, kNone, nullptr, pattern, op,
               name, policy};
}

constexpr Level kAcct = Level::kAccount, kFs = Level::kFilesystem, kPath = Level::kPath;
constexpr Front kToken = Front::kTokenService, kIdentity = Front::kIdentityAdmin,
                kCatalog = Front::kCatalog, kTracking = Front::kTracking,
                kStudio = Front::kStudio, kWebsite = Front::kWebsite;
namespace b = blob;
namespace d = dfs;
namespace a = account_ops;
namespace id = identity_ops;
namespace cat = catalog_ops;
namespace pipe = pipeline_ops;
namespace ml = mlflow_ops;

// The first matching row wins, so more specific rows come first.
// clang-format off
constexpr Route kRoutes[] = {
  // ----- storage, any level: a browser's CORS preflight, for anyone, whatever the URL's query.
  Either(Level::kAny, "OPTIONS", kNone, kNone, a::CorsPreflight, "CorsPreflight", Anonymous()),
  // ----- storage, any level: clients ask for account information on any URL.
  Either(Level::kAny, "GET",  Q("restype", "account"), Q("comp", "properties"), a::GetAccountInfo, "GetAccountInfo", Probe("r")),
  Either(Level::kAny, "HEAD", Q("restype", "account"), Q("comp", "properties"), a::GetAccountInfo, "GetAccountInfo", Probe("r")),
  // ----- storage, account.
  Blob(kAcct, "GET",  Q("restype", "service"), Q("comp", "properties"), a::GetServiceProperties, "GetServiceProperties", Read("r")),
  Blob(kAcct, "PUT",  Q("restype", "service"), Q("comp", "properties"), a::SetServiceProperties, "SetServiceProperties", Write("w")),
  Blob(kAcct, "POST", Q("restype", "service"), Q("comp", "userdelegationkey"), a::GetUserDelegationKey, "GetUserDelegationKey", Probe("r")),
  Blob(kAcct, "GET",  Q("comp", "list"), kNone, b::ListContainers, "ListContainers", Read("l")),
  Blob(kAcct, "POST", Q("comp", "batch"), kNone, b::SubmitBatch, "SubmitBatch", Batch()),
  // The JavaScript SDK's account batch on a path-style URL takes the account for a container.
  Blob(kAcct, "POST", Q("restype", "container"), Q("comp", "batch"), b::SubmitBatch, "SubmitBatch", Batch()),
  Dfs(kAcct, "GET", Q("resource", "account"), d::ListFilesystems, "ListFilesystems", Read("l")),
  // ----- storage, filesystem (container).
  Blob(kFs, "PUT",    Q("restype", "container"), Q("comp", "metadata"), b::SetContainerMetadata, "SetContainerMetadata", Write("w")),
  Blob(kFs, "GET",    Q("restype", "container"), Q("comp", "metadata"), b::GetContainerProperties, "GetContainerMetadata", Read("r", std::nullopt, PublicRead::kContainer)),
  Blob(kFs, "HEAD",   Q("restype", "container"), Q("comp", "metadata"), b::GetContainerProperties, "GetContainerMetadata", Read("r", std::nullopt, PublicRead::kContainer)),
  Blob(kFs, "PUT",    Q("restype", "container"), Q("comp", "acl"), b::SetContainerAcl, "SetContainerAcl", Write("w")),
  Blob(kFs, "GET",    Q("restype", "container"), Q("comp", "acl"), b::GetContainerAcl, "GetContainerAcl", Read("r")),
  Blob(kFs, "HEAD",   Q("restype", "container"), Q("comp", "acl"), b::GetContainerAcl, "GetContainerAcl", Read("r")),
  Blob(kFs, "PUT",    Q("restype", "container"), Q("comp", "lease"), b::LeaseContainer, "LeaseContainer", Write("w")),
  Blob(kFs, "GET",    Q("restype", "container"), Q("comp", "list"), b::ListBlobs, "ListBlobs", Read("l", std::nullopt, PublicRead::kContainer)),
  Blob(kFs, "POST",   Q("restype", "container"), Q("comp", "batch"), b::SubmitBatch, "SubmitBatch", Batch()),
  Blob(kFs, "PUT",    Q("restype", "container"), kNone, b::CreateContainer, "CreateContainer", Write("cw")),
  Blob(kFs, "GET",    Q("restype", "container"), kNone, b::GetContainerProperties, "GetContainerProperties", Read("r", std::nullopt, PublicRead::kContainer)),
  Blob(kFs, "HEAD",   Q("restype", "container"), kNone, b::GetContainerProperties, "GetContainerProperties", Read("r", std::nullopt, PublicRead::kContainer)),
  Blob(kFs, "DELETE", Q("restype", "container"), kNone, b::DeleteContainer, "DeleteContainer", Write("d")),
  // Restore Container: the deleted container comes back under the URL's name (its own).
  Blob(kFs, "PUT",    Q("restype", "container"), Q("comp", "undelete"), b::UndeleteContainer, "RestoreContainer", Write("cw")),
  Dfs(kFs, "PUT",    Q("resource", "filesystem"), d::CreateFilesystem, "CreateFilesystem", Write("cw")),
  Dfs(kFs, "HEAD",   Q("resource", "filesystem"), d::GetFilesystemProperties, "GetFilesystemProperties", Read("r")),
  Dfs(kFs, "PATCH",  Q("resource", "filesystem"), d::SetFilesystemProperties, "SetFilesystemProperties", Write("w")),
  Dfs(kFs, "DELETE", Q("resource", "filesystem"), d::DeleteFilesystem, "DeleteFilesystem", Write("d")),
  Dfs(kFs, "GET",    Q("resource", "filesystem"), d::ListPaths, "ListPaths", Read("l", I::kListDir)),
  // ----- storage, paths: Blob.
  Blob(kPath, "PUT",  Q("comp", "block"), kNone, b::PutBlockFromUrl, "PutBlockFromUrl", Write("w", I::kWriteFile, Second::kCopySource), "x-ms-copy-source"),
  Blob(kPath, "PUT",  Q("comp", "block"), kNone, b::PutBlock, "PutBlock", Write("w", I::kWriteFile)),
  Blob(kPath, "PUT",  Q("comp", "blocklist"), kNone, b::PutBlockList, "PutBlockList", Write("w", I::kCreate)),
  Blob(kPath, "GET",  Q("comp", "blocklist"), kNone, b::GetBlockList, "GetBlockList", Read("r", I::kStat)),
  Blob(kPath, "PUT",  Q("comp", "metadata"), kNone, b::SetBlobMetadata, "SetBlobMetadata", Write("w", I::kWriteFile)),
  Blob(kPath, "GET",  Q("comp", "metadata"), kNone, b::GetBlobMetadata, "GetBlobMetadata", Read("r", I::kStat, PublicRead::kBlob)),
  Blob(kPath, "HEAD", Q("comp", "metadata"), kNone, b::GetBlobMetadata, "GetBlobMetadata", Read("r", I::kStat, PublicRead::kBlob)),
  Blob(kPath, "PUT",  Q("comp", "properties"), kNone, b::SetBlobHttpHeaders, "SetBlobHttpHeaders", Write("w", I::kWriteFile)),
  Blob(kPath, "PUT",  Q("comp", "lease"), kNone, b::LeaseBlob, "LeaseBlob", Write("w", I::kWriteFile)),
  Blob(kPath, "PUT",  Q("comp", "tier"), kNone, b::SetBlobTier, "SetBlobTier", Write("w", I::kWriteFile)),
  // Restoring a soft-deleted path creates it again where it was.
  Blob(kPath, "PUT",  Q("comp", "undelete"), kNone, b::UndeleteBlob, "UndeleteBlob", Write("cw", I::kCreate)),
  Blob(kPath, "PUT",  kNone, kNone, b::CopyBlob, "CopyBlob", Write("cw", I::kCreate, Second::kCopySource), "x-ms-copy-source"),
  Blob(kPath, "PUT",  kNone, kNone, b::PutBlob, "PutBlob", Write("cw", I::kCreate)),
  // Query Blob Contents: a read of the blob (the DataLake SDKs send it to the Blob endpoint too).
  Blob(kPath, "POST", Q("comp", "query"), kNone, b::QueryBlob, "QueryBlob", Read("r", I::kReadFile, PublicRead::kBlob)),
  Blob(kPath, "GET",  kNone, kNone, b::GetBlob, "GetBlob", Read("r", I::kReadFile, PublicRead::kBlob)),
  Blob(kPath, "HEAD", kNone, kNone, b::GetBlobProperties, "GetBlobProperties", Read("r", I::kStat, PublicRead::kBlob)),
  Blob(kPath, "DELETE", kNone, kNone, b::DeleteBlob, "DeleteBlob", Write("d", I::kDelete)),
  // ----- storage, paths: DFS.
  Dfs(kPath, "PATCH", Q("action", "append"), d::AppendData, "AppendData", Write("aw", I::kWriteFile)),
  Dfs(kPath, "PATCH", Q("action", "flush"), d::FlushData, "FlushData", Write("w", I::kWriteFile)),
  Dfs(kPath, "PATCH", Q("action", "setProperties"), d::SetProperties, "SetProperties", Write("w", I::kWriteFile)),
  Dfs(kPath, "PATCH", Q("action", "setAccessControl"), d::SetAccessControl, "SetAccessControl", Own("p", I::kChangeAccess)),
  // Each item is checked for ownership as the change walks the subtree.
  Dfs(kPath, "PATCH", Q("action", "setAccessControlRecursive"), d::SetAccessControlRecursive, "SetAccessControlRecursive", Own("p", I::kStat)),
  Dfs(kPath, "PUT",   Q("resource", "*"), d::RenamePath, "RenamePath", Write("cwm", I::kCreate, Second::kRenameSource), "x-ms-rename-source"),
  Dfs(kPath, "PUT",   kNone, d::RenamePath, "RenamePath", Write("cwm", I::kCreate, Second::kRenameSource), "x-ms-rename-source"),
  Dfs(kPath, "PUT",   Q("resource", "*"), d::CreatePath, "CreatePath", Write("cwm", I::kCreate)),
  Dfs(kPath, "PUT",   kNone, d::CreatePath, "CreatePath", Write("cwm", I::kCreate)),  // says resource is missing
  Dfs(kPath, "POST",  kNone, d::LeasePath, "LeasePath", Write("w", I::kWriteFile), "x-ms-lease-action"),
  Dfs(kPath, "HEAD",  Q("action", "getAccessControl"), d::GetProperties, "GetPathProperties", Read("re", I::kStat)),
  Dfs(kPath, "HEAD",  Q("action", "getStatus"), d::GetProperties, "GetPathProperties", Read("re", I::kStat)),
  Dfs(kPath, "HEAD",  kNone, d::GetProperties, "GetPathProperties", Read("re", I::kStat)),
  // Tarn's own: the first rows of a tabular file, for the studio (a read of the file).
  Dfs(kPath, "GET",   Q("action", "preview"), preview_ops::PreviewFile, "PreviewFile", Read("r", I::kReadFile)),
  Dfs(kPath, "GET",   kNone, d::ReadPath, "ReadPath", Read("r", I::kReadFile)),
  Dfs(kPath, "DELETE", kNone, d::DeletePath, "DeletePath", Write("d", I::kDelete)),

  // ----- the token service: anonymous, as on login.microsoftonline.com.
  At(kToken, "GET",  "/*/v2.0/.well-known/openid-configuration", id::OpenIdConfiguration, "OpenIdConfiguration", Anonymous()),
  At(kToken, "GET",  "/*/discovery/v2.0/keys", id::Jwks, "Jwks", Anonymous()),
  At(kToken, "POST", "/*/oauth2/v2.0/token", id::Token, "Token", Anonymous()),
  At(kToken, "*",    "/*/oauth2/v2.0/token", id::TokenMethodNotAllowed, "Token", Anonymous()),
  At(kToken, "POST", "/*/oauth2/v2.0/devicecode", id::DeviceCode, "DeviceCode", Anonymous()),
  At(kToken, "*",    "/*/oauth2/v2.0/devicecode", id::TokenMethodNotAllowed, "DeviceCode", Anonymous()),
  // The verification page of the device code flow: a form, whose submission is a sign-in.
  At(kToken, "GET",  "/*/oauth2/v2.0/devicelogin", id::DeviceLoginPage, "DeviceLoginPage", Anonymous()),
  At(kToken, "POST", "/*/oauth2/v2.0/devicelogin", id::DeviceLogin, "DeviceLogin", Anonymous()),

  // ----- Tarn Studio's files: anonymous; what it shows comes from the APIs, with a token.
  // ----- an account's static website, on its own host name: anonymous, as on Azure ("" is its
  // root).
  At(kWebsite, "GET",  "", website::ServeWebsite, "WebsiteFile", Anonymous()),
  At(kWebsite, "HEAD", "", website::ServeWebsite, "WebsiteFile", Anonymous()),
  At(kWebsite, "GET",  "/**", website::ServeWebsite, "WebsiteFile", Anonymous()),
  At(kWebsite, "HEAD", "/**", website::ServeWebsite, "WebsiteFile", Anonymous()),
  At(kStudio, "GET",  "/studio", studio_ops::ServeStudio, "StudioFile", Anonymous()),
  At(kStudio, "HEAD", "/studio", studio_ops::ServeStudio, "StudioFile", Anonymous()),
  At(kStudio, "GET",  "/studio/**", studio_ops::ServeStudio, "StudioFile", Anonymous()),
  At(kStudio, "HEAD", "/studio/**", studio_ops::ServeStudio, "StudioFile", Anonymous()),

  // ----- the directory (/identity): account key holders.
  At(kIdentity, "POST",   "/identity/tenants", id::CreateTenant, "CreateTenant", KeyWrite()),
  At(kIdentity, "GET",    "/identity/tenants", id::ListTenants, "ListTenants", KeyRead()),
  At(kIdentity, "POST",   "/identity/tenants/*/principals", id::CreatePrincipal, "CreatePrincipal", KeyWrite()),
  At(kIdentity, "GET",    "/identity/tenants/*/principals", id::ListPrincipals, "ListPrincipals", KeyRead()),
  At(kIdentity, "POST",   "/identity/tenants/*/groups", id::CreateGroup, "CreateGroup", KeyWrite()),
  At(kIdentity, "GET",    "/identity/tenants/*/groups", id::ListGroups, "ListGroups", KeyRead()),
  At(kIdentity, "GET",    "/identity/principals/*", id::GetPrincipal, "GetPrincipal", KeyRead()),
  At(kIdentity, "DELETE", "/identity/principals/*", id::DeletePrincipal, "DeletePrincipal", KeyWrite()),
  At(kIdentity, "POST",   "/identity/principals/*/secrets", id::AddSecret, "AddSecret", KeyWrite()),
  At(kIdentity, "DELETE", "/identity/principals/*/secrets/*", id::RemoveSecret, "RemoveSecret", KeyWrite()),
  At(kIdentity, "PUT",    "/identity/principals/*/password", id::SetPassword, "SetPassword", KeyWrite()),
  At(kIdentity, "PUT",    "/identity/groups/*/members/*", id::AddMember, "AddMember", KeyWrite()),
  At(kIdentity, "DELETE", "/identity/groups/*/members/*", id::RemoveMember, "RemoveMember", KeyWrite()),
  At(kIdentity, "POST",   "/identity/role-assignments", id::AssignRole, "AssignRole", KeyWrite()),
  At(kIdentity, "GET",    "/identity/role-assignments", id::ListRoles, "ListRoles", KeyRead()),
  At(kIdentity, "DELETE", "/identity/role-assignments/*", id::RemoveRole, "RemoveRole", KeyWrite()),
  At(kIdentity, "GET",    "/identity/audit", id::ReadAudit, "ReadAudit", KeyRead()),

  // ----- the workspace catalog (/workspaces): account key holders, or workspace roles.
  At(kCatalog, "GET",    "/workspaces", cat::ListWorkspaces, "ListWorkspaces", Ws(Need::kAnyCaller, AuditAs::kRead)),
  At(kCatalog, "PUT",    "/workspaces/*", cat::PutWorkspace, "PutWorkspace", WsManage()),
  At(kCatalog, "GET",    "/workspaces/*", cat::GetWorkspace, "GetWorkspace", WsRead()),
  At(kCatalog, "DELETE", "/workspaces/*", cat::DeleteWorkspace, "DeleteWorkspace", WsManage()),
  At(kCatalog, "GET",    "/workspaces/*/datastores", cat::ListDatastores, "ListDatastores", WsRead()),
  At(kCatalog, "PUT",    "/workspaces/*/datastores/*", cat::PutDatastore, "RegisterDatastore", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/datastores/*", cat::GetDatastore, "GetDatastore", WsRead()),
  At(kCatalog, "DELETE", "/workspaces/*/datastores/*", cat::DeleteDatastore, "UnregisterDatastore", WsWrite()),
  At(kCatalog, "PUT",    "/workspaces/*/default-datastore", cat::PutDefaultDatastore, "SetDefaultDatastore", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/default-datastore", cat::GetDefaultDatastore, "GetDefaultDatastore", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/datasets", cat::ListDatasets, "ListDatasets", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*", cat::GetDataset, "GetDataset", WsRead()),
  At(kCatalog, "DELETE", "/workspaces/*/datasets/*", cat::DeleteDataset, "DeleteDataset", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*/versions", cat::ListVersions, "ListVersions", WsRead()),
  At(kCatalog, "POST",   "/workspaces/*/datasets/*/versions", cat::RegisterVersion, "RegisterVersion", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*/versions/*", cat::GetVersion, "GetVersion", WsRead()),
  At(kCatalog, "PATCH",  "/workspaces/*/datasets/*/versions/*", cat::UpdateVersion, "UpdateVersion", WsWrite()),
  At(kCatalog, "POST",   "/workspaces/*/datasets/*/versions/*", cat::SetVersionState, "SetVersionState", WsWrite()),
  At(kCatalog, "DELETE", "/workspaces/*/datasets/*/versions/*", cat::DeleteVersion, "DeleteVersion", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*/versions/*/files", cat::ListFiles, "ListFiles", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*/versions/*/histograms", cat::Histograms, "DatasetHistograms", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*/versions/*/preview", cat::PreviewRows, "DatasetPreview", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/datasets/*/versions/*/files/*", cat::ReadFile, "ReadFile", WsRead()),
  At(kCatalog, "HEAD",   "/workspaces/*/datasets/*/versions/*/files/*", cat::ReadFile, "ReadFile", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/dataset-ids/*", cat::GetVersionById, "GetVersionById", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/pipelines", pipe::ListPipelines, "ListPipelines", WsRead()),
  At(kCatalog, "PUT",    "/workspaces/*/pipelines/*", pipe::PutPipeline, "PutPipeline", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/pipelines/*", pipe::GetPipeline, "GetPipeline", WsRead()),
  At(kCatalog, "DELETE", "/workspaces/*/pipelines/*", pipe::DeletePipeline, "DeletePipeline", WsWrite()),
  At(kCatalog, "POST",   "/workspaces/*/pipelines/*/runs", pipe::StartRun, "StartPipelineRun", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/pipelines/*/runs", pipe::ListRuns, "ListPipelineRuns", WsRead()),
  At(kCatalog, "POST",   "/workspaces/*/jobs", job_ops::SubmitJob, "SubmitJob", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/jobs", job_ops::ListJobs, "ListJobs", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/jobs/*", job_ops::GetJob, "GetJob", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/jobs/*/logs", job_ops::GetJobLogs, "GetJobLogs", WsRead()),
  At(kCatalog, "POST",   "/workspaces/*/jobs/*/cancel", job_ops::CancelJob, "CancelJob", WsWrite()),
  At(kCatalog, "GET",    "/workspaces/*/computes", job_ops::ListComputes, "ListComputes", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/pipeline-runs/*", pipe::GetRun, "GetPipelineRun", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/lineage", pipe::GetLineage, "GetLineage", WsRead()),
  At(kCatalog, "GET",    "/workspaces/*/lineage-events", pipe::ListLineageEvents, "ListLineageEvents", WsRead()),
  At(kCatalog, "POST",   "/workspaces/*/lineage-events", pipe::PostLineageEvent, "PostLineageEvent", WsWrite()),

  // ----- experiment tracking (/workspaces/<ws>/mlflow): MLflow's REST API, with workspace roles.
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/experiments/create", ml::CreateExperiment, "MlflowCreateExperiment", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/experiments/get", ml::GetExperiment, "MlflowGetExperiment", WsRead()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/experiments/get-by-name", ml::GetExperimentByName, "MlflowGetExperimentByName", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/experiments/search", ml::SearchExperiments, "MlflowSearchExperiments", WsRead()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/experiments/search", ml::SearchExperiments, "MlflowSearchExperiments", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/experiments/update", ml::UpdateExperiment, "MlflowUpdateExperiment", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/experiments/delete", ml::DeleteExperiment, "MlflowDeleteExperiment", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/experiments/restore", ml::RestoreExperiment, "MlflowRestoreExperiment", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/experiments/set-experiment-tag", ml::SetExperimentTag, "MlflowSetExperimentTag", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/create", ml::CreateRun, "MlflowCreateRun", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/runs/get", ml::GetRun, "MlflowGetRun", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/update", ml::UpdateRun, "MlflowUpdateRun", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/delete", ml::DeleteRun, "MlflowDeleteRun", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/restore", ml::RestoreRun, "MlflowRestoreRun", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/search", ml::SearchRuns, "MlflowSearchRuns", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/log-metric", ml::LogMetric, "MlflowLogMetric", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/log-parameter", ml::LogParam, "MlflowLogParam", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/set-tag", ml::SetTag, "MlflowSetTag", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/delete-tag", ml::DeleteTag, "MlflowDeleteTag", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/log-batch", ml::LogBatch, "MlflowLogBatch", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/log-inputs", ml::LogInputs, "MlflowLogInputs", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/runs/outputs", ml::LogOutputs, "MlflowLogOutputs", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/metrics/get-history", ml::GetMetricHistory, "MlflowGetMetricHistory", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/logged-models/search", ml::SearchLoggedModels, "MlflowSearchLoggedModels", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/logged-models", ml::CreateLoggedModel, "MlflowCreateLoggedModel", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/logged-models/*", ml::GetLoggedModel, "MlflowGetLoggedModel", WsRead()),
  At(kTracking, "PATCH", "/workspaces/*/mlflow/api/2.0/mlflow/logged-models/*", ml::FinalizeLoggedModel, "MlflowFinalizeLoggedModel", WsWrite()),
  At(kTracking, "DELETE","/workspaces/*/mlflow/api/2.0/mlflow/logged-models/*", ml::DeleteLoggedModel, "MlflowDeleteLoggedModel", WsWrite()),
  At(kTracking, "PATCH", "/workspaces/*/mlflow/api/2.0/mlflow/logged-models/*/tags", ml::SetLoggedModelTags, "MlflowSetLoggedModelTags", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/create", ml::CreateRegisteredModel, "MlflowCreateRegisteredModel", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/get", ml::GetRegisteredModel, "MlflowGetRegisteredModel", WsRead()),
  At(kTracking, "PATCH", "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/update", ml::UpdateRegisteredModel, "MlflowUpdateRegisteredModel", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/rename", ml::RenameRegisteredModel, "MlflowRenameRegisteredModel", WsWrite()),
  At(kTracking, "DELETE","/workspaces/*/mlflow/api/2.0/mlflow/registered-models/delete", ml::DeleteRegisteredModel, "MlflowDeleteRegisteredModel", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/search", ml::SearchRegisteredModels, "MlflowSearchRegisteredModels", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/get-latest-versions", ml::GetLatestVersions, "MlflowGetLatestVersions", WsRead()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/get-latest-versions", ml::GetLatestVersions, "MlflowGetLatestVersions", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/set-tag", ml::SetRegisteredModelTag, "MlflowSetRegisteredModelTag", WsWrite()),
  At(kTracking, "DELETE","/workspaces/*/mlflow/api/2.0/mlflow/registered-models/delete-tag", ml::DeleteRegisteredModelTag, "MlflowDeleteRegisteredModelTag", WsWrite()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/alias", ml::SetRegisteredModelAlias, "MlflowSetRegisteredModelAlias", WsWrite()),
  At(kTracking, "DELETE","/workspaces/*/mlflow/api/2.0/mlflow/registered-models/alias", ml::DeleteRegisteredModelAlias, "MlflowDeleteRegisteredModelAlias", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/registered-models/alias", ml::GetModelVersionByAlias, "MlflowGetModelVersionByAlias", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/model-versions/create", ml::CreateModelVersion, "MlflowCreateModelVersion", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/model-versions/get", ml::GetModelVersion, "MlflowGetModelVersion", WsRead()),
  At(kTracking, "PATCH", "/workspaces/*/mlflow/api/2.0/mlflow/model-versions/update", ml::UpdateModelVersion, "MlflowUpdateModelVersion", WsWrite()),
  At(kTracking, "DELETE","/workspaces/*/mlflow/api/2.0/mlflow/model-versions/delete", ml::DeleteModelVersion, "MlflowDeleteModelVersion", WsWrite()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/model-versions/search", ml::SearchModelVersions, "MlflowSearchModelVersions", WsRead()),
  At(kTracking, "GET",   "/workspaces/*/mlflow/api/2.0/mlflow/model-versions/get-download-uri", ml::GetModelVersionDownloadUri, "MlflowGetModelVersionDownloadUri", WsRead()),
  At(kTracking, "POST",  "/workspaces/*/mlflow/api/2.0/mlflow/model-versions/set-tag", ml::SetModelVersionTag, "MlflowSetModelVersionTag", WsWrite()),
  At(kTracking, "DELETE","/workspaces/*/mlflow/api/2.0/mlflow/model-versions/delete-tag", ml::DeleteModelVersionTag, "MlflowDeleteModelVersionTag", WsWrite()),
  At(kTracking, "GET",    "/workspaces/*/mlflow/api/2.0/mlflow-artifacts/artifacts", ml::ListArtifacts, "MlflowListArtifacts", WsRead()),
  At(kTracking, "PUT",    "/workspaces/*/mlflow/api/2.0/mlflow-artifacts/artifacts/**", ml::PutArtifact, "MlflowPutArtifact", WsWrite()),
  At(kTracking, "GET",    "/workspaces/*/mlflow/api/2.0/mlflow-artifacts/artifacts/**", ml::GetArtifact, "MlflowGetArtifact", WsRead()),
  At(kTracking, "DELETE", "/workspaces/*/mlflow/api/2.0/mlflow-artifacts/artifacts/**", ml::DeleteArtifact, "MlflowDeleteArtifact", WsWrite()),
};
// clang-format on

// The query parameters that choose an operation. A request carrying one matches only the rows
// that name it.
constexpr std::array<const char*, 4> kDiscriminators = {"restype", "comp", "resource", "action"};

bool Names(const Route& r, std::string_view key) {
  return (r.p1.key && key == r.p1.key) || (r.p2.key && key == r.p2.key);
}

bool ParamMatches(const Ctx& c, const Param& p) {
  if (!p.key) return true;
  auto v = c.Query(p.key);
  if (!v) return false;
  return std::string_view(p.value) == "*" || EqualsIgnoreCase(*v, p.value);
}

bool StorageRowMatches(const Route& r, const Ctx& c, Level level) {
  // A preflight is sent to the URL of the request it asks about, query and all.
  if (std::string_view(r.method) == "OPTIONS") return true;
  if (r.level != Level::kAny && r.level != level) return false;
  if (r.api == ApiMatch::kBlob && c.api != Api::kBlob) return false;
  if (r.api == ApiMatch::kDfs && c.api != Api::kDfs) return false;
  if (!ParamMatches(c, r.p1) || !ParamMatches(c, r.p2)) return false;
  for (const char* key : kDiscriminators) {
    if (c.HasQuery(key) && !Names(r, key)) return false;
  }
  return !r.header || c.Header(r.header);
}

bool PatternMatches(const Route& r, const Ctx& c) {
  std::string_view pattern = r.pattern;
  size_t i = 0;
  while (!pattern.empty()) {
    pattern.remove_prefix(1);  // '/'
    size_t slash = pattern.find('/');
    std::string_view part = pattern.substr(0, slash);
    if (part == "**") return i < c.segments.size();  // one or more segments to the end
    if (i >= c.segments.size() || (part != "*" && part != c.segments[i])) return false;
    ++i;
    pattern = slash == std::string_view::npos ? std::string_view() : pattern.substr(slash);
  }
  return i == c.segments.size();
}

// Blob comp values of the REST API that accounts with a hierarchical namespace do not serve:
// Azure answers 409 FeatureNotYetSupportedForHierarchicalNamespaceAccounts (snapshots, page and
// append blobs). Blob index tags (tags, blobs) are refused there as an unknown comp value is.
constexpr std::array<const char*, 6> kNotOnHnsComps = {"snapshot", "page",     "pagelist",
                                                       "appendblock", "seal", "incrementalcopy"};
// Blob comp values Azure serves on such accounts that Tarn does not serve yet.
constexpr std::array<const char*, 7> kNotYetServedComps = {
    "copy", "stats", "undelete", "expiry", "immutabilityPolicies", "legalhold", "rename"};

bool OneOf(std::string_view v, const auto& set) {
  for (const char* s : set) {
    if (EqualsIgnoreCase(v, s)) return true;
  }
  return false;
}

Status NoRoute(const Ctx& c) {
  if (auto comp = c.Query("comp")) {
    if (OneOf(*comp, kNotOnHnsComps)) {
      return Error(Reason::kFeatureNotYetSupportedForHierarchicalNamespaceAccounts,
                   "This operation (comp=" + *comp +
                       ") is not yet supported for hierarchical namespace accounts.");
    }
    if (OneOf(*comp, kNotYetServedComps)) {
      return Error(Reason::kNotImplemented,
                   "Tarn does not serve this operation (comp=" + *comp + ") yet.");
    }
  }
  // A discriminator whose value no row serves at this level is a bad value.
  for (const char* key : kDiscriminators) {
    auto v = c.Query(key);
    if (!v) continue;
    bool served = false;
    for (const Route& r : kRoutes) {
      if (r.front != Front::kStorage) continue;
      for (const Param* p : {&r.p1, &r.p2}) {
        if (p->key && std::string_view(p->key) == key &&
            (std::string_view(p->value) == "*" || EqualsIgnoreCase(*v, p->value))) {
          served = true;
        }
      }
    }
    if (!served) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "Value for one of the query parameters specified in the request URI is "
                   "invalid: " + std::string(key) + "=" + *v + ".");
    }
  }
  return Error(Reason::kUnsupportedHttpVerb,
               "The resource doesn't support the specified HTTP verb or query combination.");
}

}  // namespace

StatusOr<const Route*> FindRoute(Ctx& c, Level level) {
  for (const Route& r : kRoutes) {
    if (r.front != c.front) continue;
    if (std::string_view(r.method) != "*" && c.req.method != r.method) continue;
    if (r.front == Front::kStorage ? StorageRowMatches(r, c, level) : PatternMatches(r, c)) {
      return &r;
    }
  }
  if (c.front == Front::kTokenService) {
    // The first segment is neither an account nor another front: say so as storage does.
    return Error(Reason::kAccountNotFound,
                 "The account '" + (c.segments.empty() ? std::string() : c.segments[0]) +
                     "' does not exist.");
  }
  if (c.front == Front::kTracking) {
    return Error(Reason::kMlflowEndpointNotFound,
                 "No MLflow endpoint " + c.req.method + " " + c.req.raw_path +
                     " on this server (docs/mlflow.md lists those it serves).");
  }
  if (c.front != Front::kStorage) {
    return Error(Reason::kUnsupportedHttpVerb,
                 "unsupported request: " + c.req.method + " " + c.req.raw_path);
  }
  return NoRoute(c);
}

}  // namespace tarn::protocol
