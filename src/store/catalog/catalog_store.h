// CatalogStore: the metadata interface of the workspace catalog (workspaces, datastores, dataset
// versions, pipelines with their runs, and lineage events). Its tables live in the same metadata
// database as the lake's namespace.
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
// - Pipeline names compare exactly. A pipeline's runs are numbered 1, 2, ... by the caller
//   (MaxRunNumber + 1 inside the Write that adds the run); the store does not enforce that
//   numbers are unique. Deleting a pipeline deletes its runs, not the lineage they reported.
// - Lineage events are indexed by the node keys of their inputs and outputs ("dataset:sales:3",
//   "path:abfss://..."), so the graph around a node is found without reading every event.
//   Replacing an event replaces its keys.
// - A `limit` <= 0 means no limit.
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

struct PipelineRecord {
  std::string workspace;
  std::string name;  // compared exactly
  std::string doc;   // JSON (definition text, times, ...)
};

struct PipelineRunRecord {
  std::string id;  // a UUID
  std::string workspace;
  std::string pipeline;
  int64_t number = 0;  // 1, 2, ... per pipeline
  std::string status;  // "queued" | "running" | "publishing" | "succeeded" | "failed"
  int64_t started_us = 0;
  std::string doc;  // JSON: steps, timings, checks, errors
};

struct LineageRecord {
  std::string id;  // the event's run id (OpenLineage runId) + ":" + event type; unique
  std::string workspace;
  int64_t time_us = 0;
  // Node keys, e.g. "dataset:sales:3" or "path:abfss://raw@acct.dfs.core.windows.net/pos/x.csv".
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string doc;  // the OpenLineage RunEvent JSON
};

class CatalogTxn {
 public:
  virtual ~CatalogTxn() = default;

  virtual StatusOr<std::optional<WorkspaceRecord>> GetWorkspace(const std::string& name) = 0;
  virtual StatusOr<std::vector<WorkspaceRecord>> ListWorkspaces() = 0;
  // Inserts or replaces.
  virtual Status PutWorkspace(const WorkspaceRecord& w) = 0;
  // Deletes the workspace with its datastores, versions, pipelines, runs and lineage events.
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

  virtual StatusOr<std::optional<PipelineRecord>> GetPipeline(const std::string& ws,
                                                               const std::string& name) = 0;
  // In name order.
  virtual StatusOr<std::vector<PipelineRecord>> ListPipelines(const std::string& ws) = 0;
  // Every workspace's pipelines, by workspace then name (for tarnd's scheduler).
  virtual StatusOr<std::vector<PipelineRecord>> ListAllPipelines() = 0;
  // Inserts or replaces (by workspace and name).
  virtual Status PutPipeline(const PipelineRecord& p) = 0;
  // Deletes the pipeline and its runs. Deleting a missing pipeline is Ok.
  virtual Status DeletePipeline(const std::string& ws, const std::string& name) = 0;

  // Inserts or replaces a run (by id).
  virtual Status PutRun(const PipelineRunRecord& r) = 0;
  virtual StatusOr<std::optional<PipelineRunRecord>> GetRun(const std::string& ws,
                                                            const std::string& id) = 0;
  // The pipeline's runs, newest (highest number) first, at most `limit` of them.
  virtual StatusOr<std::vector<PipelineRunRecord>> ListRuns(const std::string& ws,
                                                            const std::string& pipeline,
                                                            int64_t limit) = 0;
  // Every workspace's runs in `status`, by workspace, pipeline and number (tarnd's restart
  // recovery finds the runs it left "running" with it).
  virtual StatusOr<std::vector<PipelineRunRecord>> ListRunsWithStatus(
      const std::string& status) = 0;
  // 0 when the pipeline has no run.
  virtual StatusOr<int64_t> MaxRunNumber(const std::string& ws, const std::string& pipeline) = 0;

  // Inserts or replaces an event (by id), with its input and output keys.
  virtual Status PutLineage(const LineageRecord& e) = 0;
  // The events in ws whose outputs (inputs) contain `key`, oldest first.
  virtual StatusOr<std::vector<LineageRecord>> LineageWithOutput(const std::string& ws,
                                                                 const std::string& key) = 0;
  virtual StatusOr<std::vector<LineageRecord>> LineageWithInput(const std::string& ws,
                                                                const std::string& key) = 0;
  // The events in ws, newest first, at most `limit` of them.
  virtual StatusOr<std::vector<LineageRecord>> ListLineage(const std::string& ws,
                                                           int64_t limit) = 0;
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  virtual Status Write(const std::function<Status(CatalogTxn&)>& fn) = 0;
  virtual Status Read(const std::function<Status(CatalogTxn&)>& fn) = 0;
};

}  // namespace tarn::catalog
