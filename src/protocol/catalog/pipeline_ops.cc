#include "protocol/catalog/pipeline_ops.h"

#include <algorithm>
#include <string>

#include "pipeline/pipeline_service.h"

namespace tarn::protocol::pipeline_ops {
namespace {

using pipeline::Json;

constexpr size_t kMaxDefinition = 1 << 20;
constexpr size_t kMaxEvent = 8 << 20;
// A long poll holds one of the server's request threads: kept short.
constexpr int64_t kMaxWaitMs = 10000;

const std::string& Workspace(const Ctx& c) { return c.segments.at(1); }
const std::string& Name(const Ctx& c) { return c.segments.at(3); }

StatusOr<pipeline::PipelineService*> Service(const Ctx& c) {
  if (!c.pipelines) {
    return Error(Reason::kNotImplemented, "this server does not run pipelines");
  }
  return c.pipelines;
}

// Who acts: a signed-in caller as itself (its datastores read and write as it where they are
// identity-based); an account key holder as an administrator.
pipeline::RunAs As(const Ctx& c) {
  pipeline::RunAs as;
  if (c.identity.kind == Identity::Kind::kBearer) as.caller = CallerOf(c.identity);
  as.name = PrincipalName(c.identity);
  return as;
}

}  // namespace

Status ListPipelines(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  return ReplyJson(c, 200, svc->List(Workspace(c)));
}

Status PutPipeline(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(Json body, ReadJsonBody(c, kMaxDefinition));
  bool created = false;
  auto out = svc->Put(Workspace(c), Name(c), body, As(c), &created);
  return ReplyJson(c, created ? 201 : 200, out);
}

Status GetPipeline(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  return ReplyJson(c, 200, svc->Get(Workspace(c), Name(c)));
}

Status DeletePipeline(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  return ReplyDone(c, svc->Delete(Workspace(c), Name(c)));
}

// POST .../runs[?wait=<ms>] body {} or {"from_step": "<step>"}: queues a run (from_step: a
// retry from that step); with wait, answers when it ends or the wait is over.
Status StartRun(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t wait, ParseIntQuery(c, "wait", 0));
  TARN_ASSIGN_OR_RETURN(Json body, ReadJsonBody(c, kMaxDefinition));
  std::string from_step;
  if (body.is_object() && body.contains("from_step")) {
    if (!body["from_step"].is_string()) {
      return Error(Reason::kInvalidPipeline, "from_step must be a step's name");
    }
    from_step = body["from_step"].get<std::string>();
  }
  TARN_ASSIGN_OR_RETURN(Json run,
                        svc->StartRun(Workspace(c), Name(c), As(c), "manual", from_step));
  if (wait > 0) {
    TARN_ASSIGN_OR_RETURN(run, svc->WaitRun(Workspace(c), run.value("id", ""),
                                            std::min(wait, kMaxWaitMs)));
  }
  return ReplyJson(c, 201, run);
}

Status ListRuns(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t limit, ParseIntQuery(c, "limit", 50));
  return ReplyJson(c, 200, svc->ListRuns(Workspace(c), Name(c), limit));
}

// GET /workspaces/<ws>/pipeline-runs/<id>[?wait=<ms>]: with wait, answers when the run ends or
// the wait is over (a long poll, for progress).
Status GetRun(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t wait, ParseIntQuery(c, "wait", 0));
  const std::string& id = c.segments.at(3);
  if (wait > 0) {
    return ReplyJson(c, 200, svc->WaitRun(Workspace(c), id, std::min(wait, kMaxWaitMs)));
  }
  return ReplyJson(c, 200, svc->GetRun(Workspace(c), id));
}

// GET /workspaces/<ws>/lineage?dataset=<name>[&version=latest|N][&direction=upstream|downstream]
// [&depth=N]: the lineage graph of a dataset version, as a tree.
Status GetLineage(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  const std::string dataset = c.Query("dataset").value_or("");
  if (dataset.empty()) {
    return Error(Reason::kMissingRequiredQueryParameter,
                 "name the dataset: ?dataset=<name>[&version=N][&direction=upstream|downstream]");
  }
  const std::string direction = c.Query("direction").value_or("upstream");
  if (direction != "upstream" && direction != "downstream") {
    return Error(Reason::kInvalidQueryParameterValue,
                 "direction must be upstream or downstream, not '" + direction + "'");
  }
  TARN_ASSIGN_OR_RETURN(int64_t depth, ParseIntQuery(c, "depth", 10));
  return ReplyJson(c, 200, svc->Lineage(Workspace(c), dataset,
                                        c.Query("version").value_or("latest"),
                                        direction == "upstream", static_cast<int>(depth)));
}

// GET /workspaces/<ws>/lineage-events[?limit=N]: the OpenLineage RunEvents, newest first.
Status ListLineageEvents(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(int64_t limit, ParseIntQuery(c, "limit", 100));
  return ReplyJson(c, 200, svc->ListLineageEvents(Workspace(c), limit));
}

// POST /workspaces/<ws>/lineage-events, an OpenLineage RunEvent (2-0-2) from a client (tarn
// ingest's): validated, then kept beside the pipelines' own.
Status PostLineageEvent(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(auto* svc, Service(c));
  TARN_ASSIGN_OR_RETURN(Json body, ReadJsonBody(c, kMaxEvent));
  TARN_RETURN_IF_ERROR(svc->RecordEvent(Workspace(c), body));
  return ReplyJson(c, 201, Json::object());
}

}  // namespace tarn::protocol::pipeline_ops
