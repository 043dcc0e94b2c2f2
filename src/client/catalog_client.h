// CatalogClient: Tarn's client for the workspace catalog REST API (docs/catalog-api.md):
// workspaces, datastores, dataset versions and the registered bytes of their files.
//
// Contract
// - Requests go to <endpoint>/workspaces/..., signed with the account's Shared Key (the
//   canonicalized resource is /<account>/workspaces/...; the account is not in the URL), or
//   carrying a bearer token for the workspace API (https endpoints only).
// - Documents are returned as the server sends them (nlohmann::json), shapes as in
//   docs/catalog-api.md; the typed DatasetFile is parsed because readers need it.
// - A non-2xx answer becomes an error Status whose message starts with the server's error code
//   ("DatasetDrift: sales/a.csv changed"). A code of the server's own table (common/status.h)
//   comes back as that Reason, with its Code; others get a Code that follows the HTTP status (as
//   LakeClient's). ServerErrorCode() gives the code back. Transport failures keep HttpClient's
//   codes.
// - Thread-safe: every call takes a kept-alive connection from a small pool, so several threads
//   (DuckDB's, a parallel download's) may call at once.
//
// Usage:
//   CatalogClientOptions o;
//   o.account = "devstoreaccount1";
//   o.key_base64 = "...";
//   TARN_ASSIGN_OR_RETURN(auto c, CatalogClient::Create("http://127.0.0.1:10000", o));
//   TARN_ASSIGN_OR_RETURN(Json ws, c->CreateWorkspace("ws1", {}));
//   TARN_ASSIGN_OR_RETURN(Json v, c->GetDataset("ws1", "sales", "latest"));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/http_connection.h"
#include "client/lake_client.h"
#include "common/status.h"

namespace tarn::client {

using Json = nlohmann::json;

struct CatalogClientOptions {
  std::string account = "devstoreaccount1";
  std::string key_base64;
  // Instead of a key: tokens for the workspace API (scope kWorkspaceScope), a service
  // principal's or a signed-in user's. The endpoint must be https.
  std::shared_ptr<TokenSource> bearer;
  std::string api_version = kDefaultApiVersion;
  ConnectionOptions connection;
  int max_connections = 8;           // pooled connections kept for concurrent calls
  int parallel_reads = 4;            // range requests one large read may run at once
  int64_t read_chunk = 8 << 20;      // bytes per range request of a split read
};

// PUT /workspaces/{ws}
struct WorkspaceSpec {
  std::string subscription_id, resource_group, description;  // "" = not sent
};

// PUT /workspaces/{ws}/datastores/{name}. `credential` is one of the documented objects, e.g.
// {"type":"account_key","account_key":...}; it is sent, never logged.
struct DatastoreSpec {
  std::string endpoint;  // "" = this tarnd's own account `account_name`
  std::string account_name;
  std::string filesystem;
  Json credential = Json{{"type", "none"}};
  bool overwrite = false;
  bool skip_validation = false;
};

// POST /workspaces/{ws}/datasets/{name}/versions
struct VersionSpec {
  Json definition;  // {"kind","format","paths","options","transforms"}
  std::string description;
  std::map<std::string, std::string> tags;
  bool create_new_version = false;
};

// PATCH /workspaces/{ws}/datasets/{name}/versions/{v}; absent fields are not sent.
struct VersionUpdate {
  std::optional<std::string> description;
  std::optional<std::map<std::string, std::string>> tags;  // replaces every tag
  std::map<std::string, std::string> add_tags;
  std::vector<std::string> remove_tags;
};

// One file of a version's manifest.
struct DatasetFile {
  int64_t index = 0;
  std::string path;  // datastore-relative
  int64_t size = 0;
  std::string etag, md5;
  std::map<std::string, std::string> partition;
};

// Names a dataset version whose files are read.
struct VersionRef {
  std::string workspace, name;
  int64_t version = 0;
  bool ignore_drift = false;  // ?drift=ignore: read an external file even if it changed
};

// The body the catalog's REST requests carry (exposed for tests).
Json WorkspaceBody(const WorkspaceSpec& s);
Json DatastoreBody(const DatastoreSpec& s);
Json VersionBody(const VersionSpec& s);
Json UpdateBody(const VersionUpdate& u);
StatusOr<DatasetFile> ParseDatasetFile(const Json& j);

// The server's error code at the start of an error Status's message ("" when there is none).
std::string ServerErrorCode(const Status& s);

class CatalogClient {
 public:
  // url: "http://host:port" (opts.account is used) or "http://host:port/<account>".
  static StatusOr<std::unique_ptr<CatalogClient>> Create(const std::string& url,
                                                         CatalogClientOptions opts);
  ~CatalogClient();

  const std::string& account() const { return opts_.account; }
  const Endpoint& endpoint() const { return ep_; }
  // "http[s]://host:port/<account>": the URL of this account's lake.
  std::string AccountUrl() const;

  // Workspaces.
  StatusOr<Json> CreateWorkspace(const std::string& ws, const WorkspaceSpec& spec);
  StatusOr<Json> ListWorkspaces();  // {"workspaces":[...]}
  StatusOr<Json> GetWorkspace(const std::string& ws);
  Status DeleteWorkspace(const std::string& ws);

  // Datastores.
  StatusOr<Json> RegisterDatastore(const std::string& ws, const std::string& name,
                                   const DatastoreSpec& spec);
  StatusOr<Json> ListDatastores(const std::string& ws);  // {"datastores":[...]}
  StatusOr<Json> GetDatastore(const std::string& ws, const std::string& name);
  Status UnregisterDatastore(const std::string& ws, const std::string& name);
  StatusOr<Json> SetDefaultDatastore(const std::string& ws, const std::string& name);
  StatusOr<Json> GetDefaultDatastore(const std::string& ws);

  // Datasets.
  StatusOr<Json> RegisterVersion(const std::string& ws, const std::string& name,
                                 const VersionSpec& spec);
  StatusOr<Json> ListDatasets(const std::string& ws, bool include_archived = false);
  // version: "latest" or a number.
  StatusOr<Json> GetDataset(const std::string& ws, const std::string& name,
                            const std::string& version = "latest");
  StatusOr<Json> ListVersions(const std::string& ws, const std::string& name);
  StatusOr<Json> GetDatasetById(const std::string& ws, const std::string& id);
  StatusOr<Json> UpdateVersion(const std::string& ws, const std::string& name, int64_t version,
                               const VersionUpdate& update);
  StatusOr<Json> ArchiveVersion(const std::string& ws, const std::string& name, int64_t version);
  StatusOr<Json> ReactivateVersion(const std::string& ws, const std::string& name,
                                   int64_t version);
  Status DeleteVersion(const std::string& ws, const std::string& name, int64_t version);
  Status DeleteDataset(const std::string& ws, const std::string& name);

  // The whole manifest, every page.
  StatusOr<std::vector<DatasetFile>> ListFiles(const VersionRef& v);
  // Streams the registered bytes of file `index` (all, or `range`) into sink; returns the bytes
  // received.
  StatusOr<int64_t> ReadFile(const VersionRef& v, int64_t index,
                             const std::optional<ByteRange>& range, const BodySink& sink);
  // Reads [offset, offset+n) of file `index` straight into buf, split into parallel range
  // requests when n is large; returns the bytes read (fewer only at the end of the file).
  StatusOr<size_t> ReadFileAt(const VersionRef& v, int64_t index, int64_t size, int64_t offset,
                              char* buf, size_t n);

  // Downloads file `index` of `size` bytes to local_path atomically (a temporary file beside it,
  // renamed into place), with parallel range reads. progress(bytes) is called, from any thread,
  // with the bytes received since its last call.
  Status DownloadFile(const VersionRef& v, const DatasetFile& f, const std::string& local_path,
                      const std::function<void(int64_t)>& progress = nullptr);

  // Pipelines (docs/pipelines.md). definition: the text of pipeline.yaml.
  StatusOr<Json> PutPipeline(const std::string& ws, const std::string& name,
                             const std::string& definition);
  StatusOr<Json> GetPipeline(const std::string& ws, const std::string& name);
  StatusOr<Json> ListPipelines(const std::string& ws);  // {"pipelines":[...]}
  Status DeletePipeline(const std::string& ws, const std::string& name);
  // Queues a run; answers once it has ended or wait_ms passed (0: at once).
  // from_step: a retry from that step (the earlier steps are not run again).
  StatusOr<Json> StartPipelineRun(const std::string& ws, const std::string& name,
                                  int64_t wait_ms = 0, const std::string& from_step = "");
  // A run; with wait_ms, once it has ended or wait_ms passed (a long poll, at most 10 s).
  StatusOr<Json> GetPipelineRun(const std::string& ws, const std::string& id, int64_t wait_ms = 0);
  StatusOr<Json> ListPipelineRuns(const std::string& ws, const std::string& name,
                                  int64_t limit = 20);  // {"runs":[...]}, newest first
  // Keeps an OpenLineage RunEvent in the workspace (ingestion's, for one).
  Status PostLineageEvent(const std::string& ws, const Json& event);
  // The workspace's OpenLineage RunEvents, newest first: {"events":[...]}.
  StatusOr<Json> ListLineageEvents(const std::string& ws, int64_t limit = 100);
  // The lineage graph of a dataset version (version "latest" or a number), as a tree.
  StatusOr<Json> GetLineage(const std::string& ws, const std::string& dataset,
                            const std::string& version, bool upstream, int depth = 10);

  // One RPC of a workspace's MLflow tracking API (docs/mlflow.md): `rpc` is the path after
  // /api/2.0/mlflow/ ("runs/log-batch"). A bearer client must hold tokens for the tracking
  // audience (kTrackingScope). MLflow's error codes come back as their Reasons
  // (kMlflowResourceDoesNotExist...).
  StatusOr<Json> Tracking(const std::string& method, const std::string& ws, const std::string& rpc,
                          const std::vector<std::pair<std::string, std::string>>& query = {},
                          const Json* body = nullptr);

  // A call of a workspace's MLflow API that carries bytes, not JSON: `path` is below
  // /api/2.0/ ("mlflow-artifacts/artifacts/1/<run>/artifacts/model.pkl"), its segments escaped.
  // body (nullptr: none) is sent as application/octet-stream; the answer's body comes back
  // as it is. Errors as Tracking's.
  StatusOr<std::string> TrackingBytes(
      const std::string& method, const std::string& ws, const std::string& path,
      const std::vector<std::pair<std::string, std::string>>& query, const std::string* body);

  // Any other call of workspace ws's API: `subpath` below /workspaces/<ws>/ ("jobs",
  // "jobs/<id>/logs", "computes"), its segments escaped.
  StatusOr<Json> WorkspaceApi(const std::string& method, const std::string& ws,
                              const std::string& subpath,
                              const std::vector<std::pair<std::string, std::string>>& query = {},
                              const Json* body = nullptr);

  // The directory admin API (/identity/..., docs/identity-api.md), for account owners.
  StatusOr<Json> Identity(const std::string& method, const std::vector<std::string>& segments,
                          const std::vector<std::pair<std::string, std::string>>& query = {},
                          const Json* body = nullptr);

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;
  CatalogClient(Endpoint ep, CatalogClientOptions opts, std::string key);
  StatusOr<Response> Call(const std::string& method, const std::vector<std::string>& segments,
                          const Query& query, const Json* body, Headers headers = {},
                          const BodySink* sink = nullptr, const char* root = "/workspaces");
  // Call's work, with the body as bytes (its Content-Type, if any, in headers).
  StatusOr<Response> Send(const std::string& method, const std::vector<std::string>& segments,
                          const Query& query, std::string_view body, Headers headers,
                          const BodySink* sink, const char* root);
  StatusOr<Json> CallJson(const std::string& method, const std::vector<std::string>& segments,
                          const Query& query = {}, const Json* body = nullptr,
                          const char* root = "/workspaces");
  std::unique_ptr<HttpClient> Acquire();
  void Release(std::unique_ptr<HttpClient> c);

  Endpoint ep_;
  CatalogClientOptions opts_;
  std::string key_;  // raw key bytes
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_;  // guarded by mu_
};

// The registered bytes of one file of a version, for random reads (tabular engines).
// Thread-safe; holds a reference to the client, which must outlive it.
class DatasetFileReader {
 public:
  DatasetFileReader(CatalogClient& client, VersionRef v, int64_t index, int64_t size)
      : client_(client), v_(std::move(v)), index_(index), size_(size) {}
  int64_t Size() const { return size_; }
  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) {
    return client_.ReadFileAt(v_, index_, size_, offset, buf, n);
  }

 private:
  CatalogClient& client_;
  VersionRef v_;
  int64_t index_;
  int64_t size_;
};

}  // namespace tarn::client
