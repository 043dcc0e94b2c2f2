#include "client/catalog_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::client {
namespace {

Status ErrorFromResponse(const std::string& method, const std::string& path, const Response& r) {
  std::string code, message;
  if (const std::string* h = r.Header("x-ms-error-code")) code = *h;
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const Json& e = j["error"];
    if (code.empty() && e.contains("code") && e["code"].is_string()) code = e["code"];
    if (e.contains("message") && e["message"].is_string()) message = e["message"];
  } else if (!j.is_discarded() && j.is_object() && j.contains("error_code") &&
             j["error_code"].is_string()) {
    // MLflow's shape (the tracking API).
    if (code.empty()) code = j["error_code"];
    if (j.contains("message") && j["message"].is_string()) message = j["message"];
  } else if (!r.body.empty()) {
    message = BodyExcerpt(r.body);
  }
  if (code.empty()) code = "HttpStatus" + std::to_string(r.status);
  if (message.empty()) message = method + " " + path + " failed";
  std::string text = code + ": " + message + " (HTTP " + std::to_string(r.status) + ")";
  // A code of the server's own table comes back as its Reason (and its Code), so callers ask
  // the Status what went wrong instead of reading the message.
  const Reason reason = ReasonForDfsCode(code);
  if (reason != Reason::kNone && Describe(reason).http_status == r.status) {
    return Error(reason, std::move(text));
  }
  return Status(CodeForHttp(r.status, code), std::move(text));
}

void PutTags(const std::map<std::string, std::string>& tags, Json* out) {
  *out = Json::object();
  for (const auto& [k, v] : tags) (*out)[k] = v;
}

// Splits [0, n) into chunks of `chunk` bytes and runs `work(offset, length)` on up to `workers`
// threads (this one included); the first error wins and stops the others picking up more.
Status RunChunks(int64_t n, int64_t chunk, int workers,
                 const std::function<Status(int64_t, int64_t)>& work) {
  const int64_t count = (n + chunk - 1) / chunk;
  workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(workers, count)));
  std::atomic<int64_t> next{0};
  std::mutex mu;
  Status first;
  auto loop = [&] {
    for (;;) {
      int64_t i = next.fetch_add(1);
      if (i >= count) return;
      int64_t off = i * chunk;
      Status s = work(off, std::min(chunk, n - off));
      if (!s.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = s;
        next.store(count);
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace

Json WorkspaceBody(const WorkspaceSpec& s) {
  Json j = Json::object();
  if (!s.subscription_id.empty()) j["subscription_id"] = s.subscription_id;
  if (!s.resource_group.empty()) j["resource_group"] = s.resource_group;
  if (!s.description.empty()) j["description"] = s.description;
  return j;
}

Json DatastoreBody(const DatastoreSpec& s) {
  Json j = {{"account_name", s.account_name},
            {"filesystem", s.filesystem},
            {"credential", s.credential},
            {"overwrite", s.overwrite},
            {"skip_validation", s.skip_validation}};
  if (!s.endpoint.empty()) j["endpoint"] = s.endpoint;
  return j;
}

Json VersionBody(const VersionSpec& s) {
  Json j = {{"create_new_version", s.create_new_version}, {"definition", s.definition}};
  if (!s.description.empty()) j["description"] = s.description;
  PutTags(s.tags, &j["tags"]);
  return j;
}

Json UpdateBody(const VersionUpdate& u) {
  Json j = Json::object();
  if (u.description) j["description"] = *u.description;
  if (u.tags) PutTags(*u.tags, &j["tags"]);
  if (!u.add_tags.empty()) PutTags(u.add_tags, &j["add_tags"]);
  if (!u.remove_tags.empty()) j["remove_tags"] = u.remove_tags;
  return j;
}

StatusOr<DatasetFile> ParseDatasetFile(const Json& j) {
  if (!j.is_object() || !j.contains("index") || !j["index"].is_number_integer() ||
      !j.contains("path") || !j["path"].is_string()) {
    return Status(Code::kInternal, "a manifest entry lacks index or path: " + j.dump());
  }
  DatasetFile f;
  f.index = j["index"];
  f.path = j["path"];
  if (auto it = j.find("size"); it != j.end() && it->is_number_integer()) f.size = *it;
  if (auto it = j.find("etag"); it != j.end() && it->is_string()) f.etag = *it;
  if (auto it = j.find("md5"); it != j.end() && it->is_string()) f.md5 = *it;
  if (auto it = j.find("partition"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) f.partition[k] = v.is_string() ? v.get<std::string>()
                                                                         : v.dump();
  }
  return f;
}

std::string ServerErrorCode(const Status& s) {
  if (s.ok()) return "";
  if (s.reason() != Reason::kNone) return Describe(s.reason()).dfs_code;
  // A code outside the table (another server's, or "HttpStatus<n>"): the message's prefix.
  const std::string& m = s.message();
  size_t colon = m.find(": ");
  if (colon == std::string::npos || colon == 0) return "";
  for (size_t i = 0; i < colon; ++i) {
    if (!std::isalnum(static_cast<unsigned char>(m[i]))) return "";
  }
  return m.substr(0, colon);
}

StatusOr<std::unique_ptr<CatalogClient>> CatalogClient::Create(const std::string& url,
                                                               CatalogClientOptions opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(url));
  TARN_RETURN_IF_ERROR(TakeAccountFromPath(&ep, &opts.account));
  if (opts.account.empty()) return Status(Code::kInvalidArgument, "no account given");
  std::optional<std::string> key = std::string();
  if (opts.bearer) {
    if (!ep.tls) {
      return Status(Code::kInvalidArgument, "the endpoint " + url +
                                                " is not https; bearer tokens are sent only "
                                                "over TLS");
    }
  } else {
    key = Base64Decode(opts.key_base64);
    if (!key || key->empty()) {
      return Status(Code::kInvalidArgument, "the account key is not valid base64");
    }
  }
  opts.max_connections = std::max(1, opts.max_connections);
  opts.parallel_reads = std::max(1, opts.parallel_reads);
  opts.read_chunk = std::max<int64_t>(64 << 10, opts.read_chunk);
  return std::unique_ptr<CatalogClient>(new CatalogClient(std::move(ep), std::move(opts), *key));
}

CatalogClient::CatalogClient(Endpoint ep, CatalogClientOptions opts, std::string key)
    : ep_(std::move(ep)), opts_(std::move(opts)), key_(std::move(key)) {}

CatalogClient::~CatalogClient() = default;

std::string CatalogClient::AccountUrl() const {
  return ep_.Origin() + "/" + PercentEncode(opts_.account);
}

std::unique_ptr<HttpClient> CatalogClient::Acquire() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<HttpClient>(ep_, opts_.connection);
}

void CatalogClient::Release(std::unique_ptr<HttpClient> c) {
  std::lock_guard<std::mutex> l(mu_);
  if (static_cast<int>(idle_.size()) < opts_.max_connections) idle_.push_back(std::move(c));
}

StatusOr<Response> CatalogClient::Call(const std::string& method,
                                       const std::vector<std::string>& segments,
                                       const Query& query, const Json* body, Headers headers,
                                       const BodySink* sink, const char* root) {
  std::string text;
  if (body) {
    text = body->dump();
    headers.emplace_back("Content-Type", "application/json");
  }
  return Send(method, segments, query, text, std::move(headers), sink, root);
}

StatusOr<Response> CatalogClient::Send(const std::string& method,
                                       const std::vector<std::string>& segments,
                                       const Query& query, std::string_view body,
                                       Headers headers, const BodySink* sink, const char* root) {
  std::string raw_path = root;
  for (const auto& s : segments) raw_path += "/" + PercentEncode(s);
  std::string target =
      SignSharedKey(method, raw_path, query, static_cast<int64_t>(body.size()), opts_.account,
                    key_, opts_.api_version, &headers);
  if (opts_.bearer) {
    TARN_ASSIGN_OR_RETURN(std::string token, opts_.bearer->Token());
    headers.emplace_back("Authorization", "Bearer " + token);
  }
  Request req;
  req.method = method;
  req.target = std::move(target);
  req.headers = std::move(headers);
  req.body = body;
  std::unique_ptr<HttpClient> http = Acquire();
  StatusOr<Response> r = http->Send(req, sink ? *sink : BodySink());
  Release(std::move(http));
  if (!r.ok()) {
    return Status(r.status().code(), "cannot reach tarnd at " + ep_.Origin() + ": " +
                                         r.status().message());
  }
  if (r->status >= 200 && r->status < 300) return r;
  return ErrorFromResponse(method, raw_path, *r);
}

StatusOr<Json> CatalogClient::CallJson(const std::string& method,
                                       const std::vector<std::string>& segments,
                                       const Query& query, const Json* body, const char* root) {
  TARN_ASSIGN_OR_RETURN(Response r, Call(method, segments, query, body, {}, nullptr, root));
  if (r.body.empty()) return Json::object();
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status(Code::kInternal, "tarnd answered " + method + " with a body that is not JSON: " +
                                       BodyExcerpt(r.body));
  }
  return j;
}

StatusOr<Json> CatalogClient::CreateWorkspace(const std::string& ws, const WorkspaceSpec& spec) {
  Json body = WorkspaceBody(spec);
  return CallJson("PUT", {ws}, {}, &body);
}

StatusOr<Json> CatalogClient::ListWorkspaces() { return CallJson("GET", {}); }

StatusOr<Json> CatalogClient::Identity(const std::string& method,
                                       const std::vector<std::string>& segments,
                                       const Query& query, const Json* body) {
  return CallJson(method, segments, query, body, "/identity");
}

StatusOr<Json> CatalogClient::GetWorkspace(const std::string& ws) { return CallJson("GET", {ws}); }

StatusOr<Json> CatalogClient::Tracking(const std::string& method, const std::string& ws,
                                       const std::string& rpc, const Query& query,
                                       const Json* body) {
  std::vector<std::string> segments{ws, "mlflow", "api", "2.0", "mlflow"};
  for (auto part : Split(rpc, '/')) segments.emplace_back(part);
  return CallJson(method, segments, query, body);
}

StatusOr<std::string> CatalogClient::TrackingBytes(const std::string& method,
                                                   const std::string& ws,
                                                   const std::string& path, const Query& query,
                                                   const std::string* body) {
  std::vector<std::string> segments{ws, "mlflow", "api", "2.0"};
  for (auto part : Split(path, '/')) segments.emplace_back(part);
  Headers headers;
  if (body) headers.emplace_back("Content-Type", "application/octet-stream");
  TARN_ASSIGN_OR_RETURN(Response r, Send(method, segments, query,
                                         body ? std::string_view(*body) : std::string_view(),
                                         std::move(headers), nullptr, "/workspaces"));
  return std::move(r.body);
}

StatusOr<Json> CatalogClient::WorkspaceApi(const std::string& method, const std::string& ws,
                                           const std::string& subpath,
                                           const std::vector<std::pair<std::string, std::string>>& query,
                                           const Json* body) {
  std::vector<std::string> segments{ws};
  for (auto part : Split(subpath, '/')) segments.emplace_back(part);
  return CallJson(method, segments, query, body);
}

StatusOr<Json> CatalogClient::PutPipeline(const std::string& ws, const std::string& name,
                                          const std::string& definition) {
  Json body{{"definition", definition}};
  return CallJson("PUT", {ws, "pipelines", name}, {}, &body);
}

StatusOr<Json> CatalogClient::GetPipeline(const std::string& ws, const std::string& name) {
  return CallJson("GET", {ws, "pipelines", name});
}

StatusOr<Json> CatalogClient::ListPipelines(const std::string& ws) {
  return CallJson("GET", {ws, "pipelines"});
}

Status CatalogClient::DeletePipeline(const std::string& ws, const std::string& name) {
  return CallJson("DELETE", {ws, "pipelines", name}).status();
}

StatusOr<Json> CatalogClient::StartPipelineRun(const std::string& ws, const std::string& name,
                                               int64_t wait_ms, const std::string& from_step) {
  Json body = Json::object();
  if (!from_step.empty()) body["from_step"] = from_step;
  Query q;
  if (wait_ms > 0) q.emplace_back("wait", std::to_string(wait_ms));
  return CallJson("POST", {ws, "pipelines", name, "runs"}, q, &body);
}

StatusOr<Json> CatalogClient::GetPipelineRun(const std::string& ws, const std::string& id,
                                             int64_t wait_ms) {
  Query q;
  if (wait_ms > 0) q.emplace_back("wait", std::to_string(wait_ms));
  return CallJson("GET", {ws, "pipeline-runs", id}, q);
}

Status CatalogClient::PostLineageEvent(const std::string& ws, const Json& event) {
  return CallJson("POST", {ws, "lineage-events"}, {}, &event).status();
}

StatusOr<Json> CatalogClient::ListLineageEvents(const std::string& ws, int64_t limit) {
  return CallJson("GET", {ws, "lineage-events"}, {{"limit", std::to_string(limit)}});
}

StatusOr<Json> CatalogClient::GetLineage(const std::string& ws, const std::string& dataset,
                                         const std::string& version, bool upstream, int depth) {
  return CallJson("GET", {ws, "lineage"},
                  {{"dataset", dataset},
                   {"version", version},
                   {"direction", upstream ? "upstream" : "downstream"},
                   {"depth", std::to_string(depth)}});
}

StatusOr<Json> CatalogClient::ListPipelineRuns(const std::string& ws, const std::string& name,
                                               int64_t limit) {
  return CallJson("GET", {ws, "pipelines", name, "runs"}, {{"limit", std::to_string(limit)}});
}

Status CatalogClient::DeleteWorkspace(const std::string& ws) {
  return CallJson("DELETE", {ws}).status();
}

StatusOr<Json> CatalogClient::RegisterDatastore(const std::string& ws, const std::string& name,
                                                const DatastoreSpec& spec) {
  Json body = DatastoreBody(spec);
  return CallJson("PUT", {ws, "datastores", name}, {}, &body);
}

StatusOr<Json> CatalogClient::ListDatastores(const std::string& ws) {
  return CallJson("GET", {ws, "datastores"});
}

StatusOr<Json> CatalogClient::GetDatastore(const std::string& ws, const std::string& name) {
  return CallJson("GET", {ws, "datastores", name});
}

Status CatalogClient::UnregisterDatastore(const std::string& ws, const std::string& name) {
  return CallJson("DELETE", {ws, "datastores", name}).status();
}

StatusOr<Json> CatalogClient::SetDefaultDatastore(const std::string& ws, const std::string& name) {
  Json body = {{"name", name}};
  return CallJson("PUT", {ws, "default-datastore"}, {}, &body);
}

StatusOr<Json> CatalogClient::GetDefaultDatastore(const std::string& ws) {
  return CallJson("GET", {ws, "default-datastore"});
}

StatusOr<Json> CatalogClient::RegisterVersion(const std::string& ws, const std::string& name,
                                              const VersionSpec& spec) {
  Json body = VersionBody(spec);
  return CallJson("POST", {ws, "datasets", name, "versions"}, {}, &body);
}

StatusOr<Json> CatalogClient::ListDatasets(const std::string& ws, bool include_archived) {
  Query q;
  if (include_archived) q.emplace_back("include_archived", "true");
  return CallJson("GET", {ws, "datasets"}, q);
}

StatusOr<Json> CatalogClient::GetDataset(const std::string& ws, const std::string& name,
                                         const std::string& version) {
  return CallJson("GET", {ws, "datasets", name}, {{"version", version}});
}

StatusOr<Json> CatalogClient::ListVersions(const std::string& ws, const std::string& name) {
  return CallJson("GET", {ws, "datasets", name, "versions"});
}

StatusOr<Json> CatalogClient::GetDatasetById(const std::string& ws, const std::string& id) {
  return CallJson("GET", {ws, "dataset-ids", id});
}

StatusOr<Json> CatalogClient::UpdateVersion(const std::string& ws, const std::string& name,
                                            int64_t version, const VersionUpdate& update) {
  Json body = UpdateBody(update);
  return CallJson("PATCH", {ws, "datasets", name, "versions", std::to_string(version)}, {}, &body);
}

StatusOr<Json> CatalogClient::ArchiveVersion(const std::string& ws, const std::string& name,
                                             int64_t version) {
  return CallJson("POST", {ws, "datasets", name, "versions", std::to_string(version)},
                  {{"action", "archive"}});
}

StatusOr<Json> CatalogClient::ReactivateVersion(const std::string& ws, const std::string& name,
                                                int64_t version) {
  return CallJson("POST", {ws, "datasets", name, "versions", std::to_string(version)},
                  {{"action", "reactivate"}});
}

Status CatalogClient::DeleteVersion(const std::string& ws, const std::string& name,
                                    int64_t version) {
  return CallJson("DELETE", {ws, "datasets", name, "versions", std::to_string(version)}).status();
}

Status CatalogClient::DeleteDataset(const std::string& ws, const std::string& name) {
  return CallJson("DELETE", {ws, "datasets", name}).status();
}

StatusOr<std::vector<DatasetFile>> CatalogClient::ListFiles(const VersionRef& v) {
  std::vector<DatasetFile> out;
  std::string marker;
  for (;;) {
    Query q;
    if (!marker.empty()) q.emplace_back("marker", marker);
    TARN_ASSIGN_OR_RETURN(Json j, CallJson("GET", {v.workspace, "datasets", v.name, "versions",
                                                   std::to_string(v.version), "files"},
                                           q));
    if (!j.contains("files") || !j["files"].is_array()) {
      return Status(Code::kInternal,
                    "the file listing lacks \"files\": " + BodyExcerpt(j.dump()));
    }
    for (const auto& e : j["files"]) {
      TARN_ASSIGN_OR_RETURN(DatasetFile f, ParseDatasetFile(e));
      out.push_back(std::move(f));
    }
    auto it = j.find("next_marker");
    if (it == j.end() || it->is_null()) break;
    std::string next = it->is_string() ? it->get<std::string>() : it->dump();
    if (next.empty() || next == marker) break;
    marker = next;
  }
  return out;
}

StatusOr<int64_t> CatalogClient::ReadFile(const VersionRef& v, int64_t index,
                                          const std::optional<ByteRange>& range,
                                          const BodySink& sink) {
  Headers h;
  if (range) {
    if (range->length <= 0 || range->offset < 0) {
      return Status(Code::kInvalidArgument, "a range needs offset >= 0 and length > 0");
    }
    h.emplace_back("x-ms-range", "bytes=" + std::to_string(range->offset) + "-" +
                                     std::to_string(range->offset + range->length - 1));
  }
  Query q;
  if (v.ignore_drift) q.emplace_back("drift", "ignore");
  TARN_ASSIGN_OR_RETURN(Response r, Call("GET",
                                         {v.workspace, "datasets", v.name, "versions",
                                          std::to_string(v.version), "files",
                                          std::to_string(index)},
                                         q, nullptr, std::move(h), &sink));
  return r.body_bytes;
}

StatusOr<size_t> CatalogClient::ReadFileAt(const VersionRef& v, int64_t index, int64_t size,
                                           int64_t offset, char* buf, size_t n) {
  if (offset < 0) return Status(Code::kInvalidArgument, "negative read offset");
  if (offset >= size || n == 0) return size_t{0};
  const int64_t want = std::min<int64_t>(static_cast<int64_t>(n), size - offset);
  Status s = RunChunks(want, opts_.read_chunk, opts_.parallel_reads,
                       [&](int64_t off, int64_t len) -> Status {
                         int64_t got = 0;
                         char* dst = buf + off;
                         BodySink sink = [&](std::string_view piece) -> Status {
                           if (got + static_cast<int64_t>(piece.size()) > len) {
                             return Status(Code::kInternal, "tarnd sent more than the range");
                           }
                           std::memcpy(dst + got, piece.data(), piece.size());
                           got += static_cast<int64_t>(piece.size());
                           return Status::Ok();
                         };
                         TARN_RETURN_IF_ERROR(
                             ReadFile(v, index, ByteRange{offset + off, len}, sink).status());
                         if (got != len) {
                           return Status(Code::kInternal,
                                         "tarnd sent " + std::to_string(got) + " of " +
                                             std::to_string(len) + " bytes of a range");
                         }
                         return Status::Ok();
                       });
  TARN_RETURN_IF_ERROR(s);
  return static_cast<size_t>(want);
}

Status CatalogClient::DownloadFile(const VersionRef& v, const DatasetFile& f,
                                   const std::string& local_path,
                                   const std::function<void(int64_t)>& progress) {
  namespace fs = std::filesystem;
  fs::path dest(local_path);
  std::error_code ec;
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path(), ec);
  if (ec) {
    return Status(Code::kInternal,
                  "cannot create " + dest.parent_path().string() + ": " + ec.message());
  }
  std::string tmpl = (dest.parent_path() / ("." + dest.filename().string() + ".tarn-XXXXXX"));
  int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    return Status(Code::kInternal, "cannot create a temporary file beside " + local_path + ": " +
                                       std::strerror(errno));
  }
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return s;
  };
  if (f.size > 0 && ::ftruncate(fd, f.size) != 0) {
    return fail(Status(Code::kInternal, "cannot size " + tmpl + ": " + std::strerror(errno)));
  }
  Status s = RunChunks(f.size, opts_.read_chunk, opts_.parallel_reads,
                       [&](int64_t off, int64_t len) -> Status {
                         int64_t pos = off;
                         BodySink sink = [&](std::string_view piece) -> Status {
                           if (pos + static_cast<int64_t>(piece.size()) > off + len) {
                             return Status(Code::kInternal, "tarnd sent more than the range");
                           }
                           size_t done = 0;
                           while (done < piece.size()) {
                             ssize_t k = ::pwrite(fd, piece.data() + done, piece.size() - done,
                                                  pos + static_cast<int64_t>(done));
                             if (k < 0) {
                               if (errno == EINTR) continue;
                               return Status(Code::kInternal, "cannot write " + local_path +
                                                                  ": " + std::strerror(errno));
                             }
                             done += static_cast<size_t>(k);
                           }
                           pos += static_cast<int64_t>(piece.size());
                           if (progress) progress(static_cast<int64_t>(piece.size()));
                           return Status::Ok();
                         };
                         TARN_RETURN_IF_ERROR(
                             ReadFile(v, f.index, ByteRange{off, len}, sink).status());
                         if (pos != off + len) {
                           return Status(Code::kInternal, f.path + ": the transfer ended early");
                         }
                         return Status::Ok();
                       });
  if (!s.ok()) return fail(s);
  if (::fchmod(fd, 0644) != 0 || ::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return Status(Code::kInternal, "cannot finish " + tmpl + ": " + std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), local_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return Status(Code::kInternal, "cannot rename into " + local_path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace tarn::client
