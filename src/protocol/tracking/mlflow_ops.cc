#include "protocol/tracking/mlflow_ops.h"

#include <nlohmann/json.hpp>

#include <string>

#include "common/encoding.h"
#include "common/strings.h"
#include "tracking/tracking_service.h"

namespace tarn::protocol::mlflow_ops {
namespace {

using tracking::Json;
using tracking::TrackingService;

// MLflow's own cap on a log-batch body is 1 MB; dataset inputs may carry profiles and schemas
// of up to 16 MiB.
constexpr size_t kMaxBody = 24u << 20;
// Segments before an artifact's path: workspaces <ws> mlflow api 2.0 mlflow-artifacts artifacts.
constexpr size_t kArtifactPathAt = 7;
// Segments before a logged model's id: workspaces <ws> mlflow api 2.0 mlflow logged-models.
constexpr size_t kModelIdAt = 7;

const std::string& Workspace(const Ctx& c) { return c.segments.at(1); }

tracking::TrackingCaller Caller(const Ctx& c) {
  tracking::TrackingCaller who;
  who.user = PrincipalName(c.identity);
  if (c.identity.kind == Identity::Kind::kBearer) who.as.caller = CallerOf(c.identity);
  return who;
}

bool IsListField(const std::string& key) {
  return key == "experiment_ids" || key == "order_by" || key == "stages";
}

// A GET's query as MLflow's clients write it: form-encoded, so '+' is a space (the pipeline's
// own decoding, Azure's, keeps '+' as it is).
StatusOr<std::multimap<std::string, std::string>> FormQuery(const Ctx& c) {
  std::multimap<std::string, std::string> out;
  for (auto part : Split(c.req.raw_query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto k = PercentDecode(part.substr(0, eq), /*plus_as_space=*/true);
    auto v = PercentDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1),
                           /*plus_as_space=*/true);
    if (!k || !v) {
      return Error(Reason::kMlflowInvalidParameterValue, "A query parameter is not validly encoded.");
    }
    out.emplace(std::move(*k), std::move(*v));
  }
  return out;
}

// The request message: a GET's (or DELETE's) query parameters, else the JSON body.
StatusOr<Json> RequestOf(Ctx& c) {
  Json req = Json::object();
  if (c.req.method == "GET" || c.req.method == "HEAD") {
    TARN_ASSIGN_OR_RETURN(auto query, FormQuery(c));
    for (const auto& [k, v] : query) {
      if (IsListField(k)) {
        req[k].push_back(v);
      } else if (req.contains(k)) {
        if (!req[k].is_array()) req[k] = Json::array({req[k]});
        req[k].push_back(v);
      } else {
        req[k] = v;
      }
    }
    return req;
  }
  TARN_ASSIGN_OR_RETURN(Json body, ReadJsonBody(c, kMaxBody));
  if (!body.is_object()) {
    return Error(Reason::kMlflowInvalidParameterValue, "The request body must be a JSON object.");
  }
  for (const auto& [k, v] : c.query) {
    if (!body.contains(k)) body[k] = v;
  }
  return body;
}

Status Call(Ctx& c, TrackingService::Rpc rpc) {
  TARN_ASSIGN_OR_RETURN(Json req, RequestOf(c));
  // /logged-models/<id>[/tags]: the id is in the path.
  if (c.segments.size() > kModelIdAt && c.segments[kModelIdAt - 1] == "logged-models" &&
      c.segments[kModelIdAt] != "search") {
    req["model_id"] = c.segments[kModelIdAt];
  }
  StatusOr<Json> out = (c.tracking->*rpc)(Workspace(c), req, Caller(c));
  if (!out.ok()) return out.status();
  return c.Reply(200, {}, JsonText(*out), "application/json");
}

// "<experiment>/<run>/artifacts/..." from the URL, checked to name a path below the folder.
StatusOr<std::string> ArtifactPath(const Ctx& c, bool allow_root) {
  std::string path;
  // Each piece is split again: a segment's %2F decodes to '/', and must not smuggle a "..".
  auto add = [&](std::string_view piece) -> Status {
    for (auto part : Split(piece, '/')) {
      if (part.empty()) continue;
      if (part == "." || part == "..") {
        return Error(Reason::kMlflowInvalidParameterValue,
                     "Invalid artifact path: '.' and '..' are not allowed.");
      }
      if (!path.empty()) path += '/';
      path += std::string(part);
    }
    return Status::Ok();
  };
  for (size_t i = kArtifactPathAt; i < c.segments.size(); ++i) {
    TARN_RETURN_IF_ERROR(add(c.segments[i]));
  }
  if (auto q = c.Query("path")) TARN_RETURN_IF_ERROR(add(*q));
  if (path.empty() && !allow_root) {
    return Error(Reason::kMlflowInvalidParameterValue, "An artifact path is required.");
  }
  return path;
}

std::string LakePath(const std::string& artifact) {
  std::string p = TrackingService::kArtifactFolder;
  if (!artifact.empty()) p += "/" + artifact;
  return p;
}

Status ArtifactNotFound(const std::string& path) {
  return Error(Reason::kMlflowResourceDoesNotExist, "Artifact '" + path + "' does not exist.");
}

}  // namespace

#define TARN_MLFLOW_DEFINE(name) \
  Status name(Ctx& c) { return Call(c, &TrackingService::name); }
TARN_MLFLOW_RPCS(TARN_MLFLOW_DEFINE)
#undef TARN_MLFLOW_DEFINE

Status GetMetricHistory(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(Json req, RequestOf(c));
  TARN_ASSIGN_OR_RETURN(std::string text,
                        c.tracking->GetMetricHistoryText(Workspace(c), req, Caller(c)));
  return c.Reply(200, {}, text, "application/json");
}

Status PutArtifact(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(std::string path, ArtifactPath(c, false));
  TARN_ASSIGN_OR_RETURN(catalog::WriteTarget at,
                        c.tracking->ArtifactTarget(Workspace(c), Caller(c), /*for_write=*/true));
  BodySource body(c.req);
  lake::PutOptions o;
  o.creator = Creator(c);
  TARN_RETURN_IF_ERROR(c.lake.PutFile(at.account, at.filesystem, LakePath(path), body, o).status());
  return c.Reply(200, {}, "{}", "application/json");
}

Status GetArtifact(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(std::string path, ArtifactPath(c, false));
  TARN_ASSIGN_OR_RETURN(catalog::WriteTarget at,
                        c.tracking->ArtifactTarget(Workspace(c), Caller(c), /*for_write=*/false));
  auto plan = c.lake.OpenRead(at.account, at.filesystem, LakePath(path), std::nullopt, {});
  if (!plan.ok()) {
    if (plan.status().code() == Code::kNotFound) return ArtifactNotFound(path);
    return plan.status();
  }
  if (plan->node.is_dir) return ArtifactNotFound(path);
  http::Headers h = c.StdHeaders();
  h.emplace_back("Content-Type", "application/octet-stream");
  TARN_RETURN_IF_ERROR(c.w.Start(200, h, plan->length));
  return StreamPlan(c, *plan);
}

Status DeleteArtifact(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(std::string path, ArtifactPath(c, false));
  TARN_ASSIGN_OR_RETURN(catalog::WriteTarget at,
                        c.tracking->ArtifactTarget(Workspace(c), Caller(c), /*for_write=*/true));
  Status s = c.lake.Delete(at.account, at.filesystem, LakePath(path), /*recursive=*/true, {});
  if (!s.ok() && s.code() == Code::kNotFound) return ArtifactNotFound(path);
  TARN_RETURN_IF_ERROR(s);
  return c.Reply(200, {}, "{}", "application/json");
}

Status ListArtifacts(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(std::string path, ArtifactPath(c, true));
  TARN_ASSIGN_OR_RETURN(catalog::WriteTarget at,
                        c.tracking->ArtifactTarget(Workspace(c), Caller(c), /*for_write=*/false));
  const std::string dir = LakePath(path);
  Json files = Json::array();
  std::string continuation;
  do {
    auto page = c.lake.ListPaths(at.account, at.filesystem, dir, /*recursive=*/false,
                                 continuation, 5000);
    if (!page.ok()) {
      // A folder nothing was logged to yet lists as empty, as in MLflow.
      if (page.status().code() == Code::kNotFound) break;
      return page.status();
    }
    for (const auto& e : page->entries) {
      // Listing a file's own path lists nothing, as in MLflow (clients probe files this way).
      if (e.path == dir) continue;
      std::string name = e.path.substr(e.path.rfind('/') + 1);
      Json f{{"path", name}, {"is_dir", e.node.is_dir}};
      if (!e.node.is_dir) f["file_size"] = e.node.length;
      files.push_back(std::move(f));
    }
    continuation = page->continuation;
  } while (!continuation.empty());
  Json out = Json::object();
  out["files"] = std::move(files);
  return c.Reply(200, {}, JsonText(out), "application/json");
}

}  // namespace tarn::protocol::mlflow_ops
