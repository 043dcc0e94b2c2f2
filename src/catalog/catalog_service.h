// CatalogService: the workspace catalog. Workspaces hold datastores (a lake location plus a
// sealed credential) and datasets: named, immutable versions that reference lake files without
// copying them. The REST shapes it takes and returns are those of docs/catalog-api.md.
//
// Contract
// - Knows nothing of HTTP; takes and returns JSON documents (the catalog's own format), and
//   reports errors as Status with the catalog's reasons (kDatasetNotFound, kDatasetDrift...).
// - Secrets are sealed with the SecretBox before they reach the store and never appear in a
//   returned document or a log line.
// - Registering a version is all-or-nothing: on a local datastore (this tarnd's own account)
//   the version pins the exact extents of its files in one namespace transaction, then the
//   version is stored; a failure in between releases the pins, and Recover() releases pins
//   whose version a crash left unstored.
// - Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/lake_client.h"
#include "common/secret_box.h"
#include "common/status.h"
#include "identity/identity_service.h"
#include "lake/lake_service.h"
#include "store/catalog/catalog_store.h"
#include "tabular/tabular.h"

namespace tarn::catalog {

using Json = nlohmann::json;

// One file of a version, as its manifest records it.
struct ManifestFile {
  std::string path;  // relative to the datastore's filesystem
  std::string datastore;
  int64_t size = 0;
  std::string etag;
  std::string md5;  // base64, "" when unknown
  Json partition = Json::object();
  bool pinned = false;                    // from a local datastore: slices hold its bytes
  std::vector<meta::ExtentSlice> slices;  // the pinned content
};

// A read of one registered file (or a range of it). Exactly one of local/remote is set.
struct FileRead {
  int64_t size = 0;    // the whole file
  int64_t start = 0;   // first byte of the range
  int64_t length = 0;  // bytes in the range
  std::optional<lake::ReadPlan> local;
  // Streams the range from the remote datastore into the sink.
  std::function<Status(const std::function<Status(std::string_view)>& sink)> remote;
  // Which datastore and credential the bytes were reached through, for the audit log:
  // "datastore ws/name as service_principal <client id>", "... as account_key", "... as the
  // caller" (an identity-based datastore).
  std::string via;
};

// Who reads through a datastore on this tarnd that was registered without a credential (an
// identity-based one, as in Azure ML): the signed-in caller, whose roles and ACLs decide what
// it reaches, on every read. No caller: an account key holder, who reaches everything.
struct ReadAs {
  std::optional<identity::Caller> caller;
};

// A key or SAS a datastore on this tarnd holds, and what a read through it asks for: checked
// again on every read (see CatalogService::SetCredentialCheck).
struct StoredCredential {
  const std::string& type;  // "account_key" or "sas"
  const std::string& account;
  const std::string& secret;  // the key (base64) or the SAS token
  const std::string& filesystem;
  const std::string& path;  // "" for the root
  bool list;                // a listing (SAS "l" at the container); otherwise a read ("r")
};
using CredentialCheck = std::function<Status(const StoredCredential&)>;

// A tabular version as the tabular engine reads it (pipelines): its files, its reading request,
// and an opener serving the registered bytes exactly as OpenFile does (pinned or remote, with
// the datastore's credential or the caller checked on every read). The opener refers to the
// catalog and must not outlive it.
struct TabularSource {
  Json version;  // the version's document (number, id, row_count, schema...)
  std::vector<tabular::SourceFile> files;
  tabular::ReadRequest request;
  std::unique_ptr<tabular::FileOpener> opener;
};

// Where a pipeline writes: a folder of a datastore on this tarnd.
struct WriteTarget {
  std::string datastore;  // its registered spelling
  std::string account, filesystem;
};

// The datastore every new workspace gets, and makes its default (Azure ML's name).
inline constexpr char kWorkspaceBlobstore[] = "workspaceblobstore";

class CatalogService {
 public:
  // accounts: the names of this tarnd's own accounts.
  // identity (may be null): validates service-principal datastores on this tarnd with its own
  // token service.
  CatalogService(CatalogStore* store, lake::LakeService* lake, const SecretBox* box,
                 std::vector<std::string> accounts,
                 identity::IdentityService* identity = nullptr);
  ~CatalogService();

  // The URLs this tarnd serves ("http://127.0.0.1:PORT", then any https one), known once it
  // listens. Datastores whose endpoint is one of them plus an own account are local; the first
  // is the endpoint of datastores registered without one.
  void SetSelfUrls(std::vector<std::string> urls);
  // The CAs trusted when reaching datastores (and their token endpoints) over https; unset:
  // the system's trust store.
  void SetTrustedCa(std::shared_ptr<const http::TlsContext> tls);
  // How a local datastore's key or SAS is checked on every read: whether it still grants the
  // read (a rotated-out key, an expired or narrower SAS do not). tarnd sets it from its
  // accounts; unset, such datastores are checked only when they are registered.
  void SetCredentialCheck(CredentialCheck check);
  // Start-up reconciliation: releases pins held for versions the catalog does not have.
  StatusOr<int64_t> Recover();

  // Workspaces.
  // A new workspace also gets kWorkspaceBlobstore, its default datastore: a new filesystem
  // "azureml-blobstore-<uuid>" on the first account, with no credential (read as the caller).
  StatusOr<Json> PutWorkspace(const std::string& name, const Json& body, bool* created);
  StatusOr<Json> GetWorkspace(const std::string& name);
  StatusOr<Json> ListWorkspaces();
  Status DeleteWorkspace(const std::string& name);

  // Datastores.
  StatusOr<Json> RegisterDatastore(const std::string& ws, const std::string& name, const Json& body,
                                   bool* created);
  StatusOr<Json> GetDatastore(const std::string& ws, const std::string& name);
  StatusOr<Json> ListDatastores(const std::string& ws);
  Status UnregisterDatastore(const std::string& ws, const std::string& name);
  StatusOr<Json> SetDefaultDatastore(const std::string& ws, const std::string& name);
  StatusOr<Json> GetDefaultDatastore(const std::string& ws);

  // Datasets.
  // known (tarnd's own pipelines only, never a request's body): the tabular profile of exactly
  // these files, computed by the caller from the same bytes ({"files","bytes","schema",
  // "row_count","profile","partition_keys"}). Used when the registered files match its count
  // and bytes; otherwise the version is profiled as usual.
  StatusOr<Json> RegisterVersion(const std::string& ws, const std::string& name, const Json& body,
                                 const std::string& creator, const ReadAs& as = {},
                                 const Json* known = nullptr);
  // version: "latest" or a number.
  StatusOr<Json> GetVersion(const std::string& ws, const std::string& name,
                            const std::string& version);
  StatusOr<Json> GetVersionById(const std::string& ws, const std::string& id);
  StatusOr<Json> ListVersions(const std::string& ws, const std::string& name);
  StatusOr<Json> ListDatasets(const std::string& ws, bool include_archived);
  StatusOr<Json> UpdateVersion(const std::string& ws, const std::string& name,
                               const std::string& version, const Json& body);
  // action: "archive" or "reactivate".
  StatusOr<Json> SetVersionState(const std::string& ws, const std::string& name,
                                 const std::string& version, const std::string& action);
  Status DeleteVersion(const std::string& ws, const std::string& name, const std::string& version);
  Status DeleteDataset(const std::string& ws, const std::string& name);

  // A version's files.
  StatusOr<Json> ListFiles(const std::string& ws, const std::string& name,
                           const std::string& version, int64_t marker, int64_t max_results);
  StatusOr<FileRead> OpenFile(const std::string& ws, const std::string& name,
                              const std::string& version, int64_t index,
                              const std::optional<lake::ByteRange>& range, bool ignore_drift,
                              const ReadAs& as = {});

  // Pipelines (catalog_pipeline_io.cc). A tabular version to read, at "latest" or a number.
  StatusOr<TabularSource> OpenTabular(const std::string& ws, const std::string& name,
                                      const std::string& version, const ReadAs& as = {});
  // Whether the datastore may have `path` (a folder) written: it must be on this tarnd, and its
  // credential (a service principal's roles and ACLs; for an identity-based datastore, the
  // caller's) must allow creating there: Storage Blob Data Contributor at the path or above, or
  // write and execute on the nearest existing folder. An account key or SAS datastore may.
  // kAuthorizationPermissionMismatch saying who lacks what, kDatastoreNotFound, or
  // kInvalidDefinition for a remote datastore.
  StatusOr<WriteTarget> AuthorizeWrite(const std::string& ws, const std::string& datastore,
                                       const std::string& path, const ReadAs& as = {});

 private:
  struct Datastore;
  class Access;
  class LocalAccess;
  class RemoteAccess;

  // Every write of the catalog store goes through here: it also ends the cached reads below,
  // whether or not it committed.
  Status Write(const std::function<Status(CatalogTxn&)>& fn);
  StatusOr<WorkspaceRecord> RequireWorkspace(CatalogTxn& t, const std::string& ws);
  StatusOr<Datastore> LoadDatastore(const std::string& ws, const std::string& name);
  StatusOr<std::unique_ptr<Access>> Connect(const Datastore& d, const ReadAs& as);
  StatusOr<VersionRecord> RequireVersion(CatalogTxn& t, const std::string& ws,
                                         const std::string& name, const std::string& version);
  StatusOr<VersionRecord> ReadVersion(const std::string& ws, const std::string& name,
                                      const std::string& version);
  // A version's manifest, parsed. Manifests never change once written, so the parsed ones are
  // kept (at most kManifestCacheFiles files in all, the oldest dropped first): a read of one
  // file of a 10,000-file version does not parse the other 9,999.
  using Manifest = std::shared_ptr<const std::vector<ManifestFile>>;
  StatusOr<Manifest> LoadManifest(const std::string& id);
  static constexpr size_t kManifestCacheFiles = 250000;
  StatusOr<std::vector<ManifestFile>> Resolve(const std::string& ws, const Json& paths,
                                              std::vector<Datastore>* stores, const ReadAs& as);
  Status Release(const VersionRecord& v);
  // The registered bytes of f: from its pinned slices, or from the datastore with the
  // registered etag checked (kDatasetDrift) unless ignore_drift.
  StatusOr<FileRead> ReadFile(const Datastore& d, const ManifestFile& f, bool pinned,
                              const std::optional<lake::ByteRange>& range, bool ignore_drift,
                              const ReadAs& as);
  bool IsLocal(const std::string& endpoint, const std::string& account) const;
  // A service principal on this tarnd: gets a token from the token service and checks that the
  // principal may list the filesystem's root (a role, or the ACLs).
  Status ValidateLocalPrincipal(const Datastore& d);
  // A service-principal datastore on this tarnd is read as that principal, exactly as its
  // token would be on the storage API: on every read its roles, then the ACLs (intent at path),
  // are evaluated again, so a removed role or principal stops the next read. The principal's
  // token comes from this tarnd's token service and is reused for at most kLocalTokenReuseUs.
  // An identity-based datastore on this tarnd is read the same way as the caller of `as`, and
  // one with a key or SAS has it checked again (credential_check_). Other datastores: Ok.
  Status AuthorizeLocalRead(const Datastore& d, const std::string& path,
                            lake::AccessIntent intent, const ReadAs& as);
  StatusOr<identity::Caller> LocalPrincipal(const Datastore& d);
  static constexpr int64_t kLocalTokenReuseUs = 60LL * 1000 * 1000;
  // A client for a datastore on another endpoint, signed with its credential.
  StatusOr<std::unique_ptr<client::LakeClient>> RemoteClient(const Datastore& d);
  // The token source of a service-principal datastore on another endpoint, shared by every
  // request that uses the same principal, so that its token is fetched once per lifetime.
  StatusOr<std::shared_ptr<client::TokenSource>> TokensFor(const Datastore& d);

  CatalogStore* store_;
  lake::LakeService* lake_;
  const SecretBox* box_;
  std::vector<std::string> accounts_;
  identity::IdentityService* identity_;
  std::vector<std::string> self_urls_;
  std::shared_ptr<const http::TlsContext> tls_;
  std::shared_mutex tokens_mu_;  // shared for the lookup every read through a datastore makes
  std::map<std::string, std::shared_ptr<client::TokenSource>> tokens_;  // guarded by tokens_mu_
  struct LocalToken {
    std::string token;
    int64_t fetched_us = 0;  // MonotonicMicros
    // Who the token authenticated as, exact while the directory's generation is this one.
    std::optional<identity::Caller> caller{};
    uint64_t generation = 0;
  };
  std::map<std::string, LocalToken> local_tokens_;  // guarded by tokens_mu_
  CredentialCheck credential_check_;
  // Datastores and versions as the last reads found them, valid while generation_ is what it
  // was then: a file read would otherwise take two store transactions (most of its cost) to
  // find what changes only with a catalog write. At most kReadCacheEntries of each.
  static constexpr size_t kReadCacheEntries = 10000;
  std::atomic<uint64_t> generation_{0};
  std::shared_mutex read_cache_mu_;
  std::unordered_map<std::string, std::pair<uint64_t, std::shared_ptr<const Datastore>>>
      datastores_;  // guarded by read_cache_mu_
  std::unordered_map<std::string, std::pair<uint64_t, VersionRecord>>
      versions_;  // guarded by read_cache_mu_
  std::mutex manifests_mu_;
  std::unordered_map<std::string, Manifest> manifests_;  // by version id; guarded by manifests_mu_
  std::deque<std::string> manifest_order_;               // oldest first; guarded by manifests_mu_
  size_t manifest_files_ = 0;                            // guarded by manifests_mu_
};

// A tabular profile as a version records it: {"schema","row_count","profile","partition_keys"}.
Json ProfileToJson(const tabular::Profile& p);

// Name rules (Azure ML's): kInvalidName errors that say what is allowed.
Status ValidateWorkspaceName(const std::string& name);
Status ValidateDatastoreName(const std::string& name);
Status ValidateDatasetName(const std::string& name);

}  // namespace tarn::catalog
