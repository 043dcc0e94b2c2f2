// CatalogStore: the metadata interface of the workspace catalog (workspaces, datastores and
// dataset versions). Its tables live in the same metadata database as the lake's namespace.
//
// Contract
// - Records carry their fields as JSON documents (`doc`), built and read by the catalog
//   service; the store indexes only what it must look up by (names, versions, state).
// - Write(fn) runs fn atomically and durably: all of its changes or none. Read(fn) sees the last
//   committed state. Both are thread-safe; fn must not call Write or Read re-entrantly.
// - Lookups report NotFound as std::nullopt. Datastore names compare case-insensitively
//   (ASCII); `name` keeps the spelling given at registration.
// - Manifests (a version's file list) are stored beside the version and read separately, so
//   listing versions never loads them.
//
// Usage:
//   TARN_RETURN_IF_ERROR(store->Write([&](CatalogTxn& t) -> Status {
//     TARN_ASSIGN_OR_RETURN(int64_t last, t.MaxVersion("ws", "sales"));
//     rec.version = last + 1;
//     return t.PutVersion(rec, &manifest);
//   }));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::catalog {

struct WorkspaceRecord {
  std::string name;
  std::string doc;  // JSON
};

struct DatastoreRecord {
  std::string workspace;
  std::string name;
  std::string doc;            // JSON, without secrets
  std::string sealed_secret;  // the credential's secret, sealed by the catalog's master key
};

struct VersionRecord {
  std::string id;  // a UUID
  std::string workspace;
  std::string name;
  int64_t version = 0;
  std::string state;                    // "active" or "archived"
  std::vector<std::string> datastores;  // names of the datastores it reads
  std::string doc;                      // JSON
};

class CatalogTxn {
 public:
  virtual ~CatalogTxn() = default;

  virtual StatusOr<std::optional<WorkspaceRecord>> GetWorkspace(const std::string& name) = 0;
  virtual StatusOr<std::vector<WorkspaceRecord>> ListWorkspaces() = 0;
  // Inserts or replaces.
  virtual Status PutWorkspace(const WorkspaceRecord& w) = 0;
  // Deletes the workspace with its datastores and versions.
  virtual Status DeleteWorkspace(const std::string& name) = 0;

  virtual StatusOr<std::optional<DatastoreRecord>> GetDatastore(const std::string& ws,
                                                                const std::string& name) = 0;
  virtual StatusOr<std::vector<DatastoreRecord>> ListDatastores(const std::string& ws) = 0;
  // Inserts or replaces (by case-insensitive name).
  virtual Status PutDatastore(const DatastoreRecord& d) = 0;
  virtual Status DeleteDatastore(const std::string& ws, const std::string& name) = 0;
  // Active versions in ws that read the datastore.
  virtual StatusOr<int64_t> CountActiveVersionsUsing(const std::string& ws,
                                                     const std::string& datastore) = 0;

  virtual StatusOr<std::optional<VersionRecord>> GetVersion(const std::string& ws,
                                                            const std::string& name,
                                                            int64_t version) = 0;
  // The highest-numbered version; with active_only, the highest active one.
  virtual StatusOr<std::optional<VersionRecord>> LatestVersion(const std::string& ws,
                                                               const std::string& name,
                                                               bool active_only) = 0;
  virtual StatusOr<std::optional<VersionRecord>> GetVersionById(const std::string& ws,
                                                                const std::string& id) = 0;
  // Oldest first.
  virtual StatusOr<std::vector<VersionRecord>> ListVersions(const std::string& ws,
                                                            const std::string& name) = 0;
  // The latest version of each dataset name (the latest active one unless include_archived),
  // in name order.
  virtual StatusOr<std::vector<VersionRecord>> ListDatasets(const std::string& ws,
                                                            bool include_archived) = 0;
  // 0 when the name has no version.
  virtual StatusOr<int64_t> MaxVersion(const std::string& ws, const std::string& name) = 0;
  // Every version ID in the catalog (for start-up reconciliation of pins).
  virtual StatusOr<std::vector<std::string>> ListVersionIds() = 0;
  // Inserts or replaces a version (by id). A manifest, when given, replaces the stored one.
  // AlreadyExists if (workspace, name, version) is taken by another id.
  virtual Status PutVersion(const VersionRecord& v, const std::string* manifest) = 0;
  virtual StatusOr<std::string> GetManifest(const std::string& id) = 0;
  virtual Status DeleteVersion(const std::string& id) = 0;
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  virtual Status Write(const std::function<Status(CatalogTxn&)>& fn) = 0;
  virtual Status Read(const std::function<Status(CatalogTxn&)>& fn) = 0;
};

}  // namespace tarn::catalog
