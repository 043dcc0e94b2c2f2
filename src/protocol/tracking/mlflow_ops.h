// MLflow's REST front, /workspaces/<ws>/mlflow/api/2.0/mlflow/... (and ajax-api), one operation
// per route of the route table (docs/mlflow.md). Each RPC reads its request message (a GET's
// query parameters, or a JSON body) and answers the TrackingService's response message; errors
// are MLflow's {"error_code","message"} (Ctx::ReplyError for Front::kTracking). The proxied
// artifact routes (mlflow-artifacts) keep the bytes in the lake, under the workspace's default
// datastore.
#pragma once

#include "common/status.h"
#include "protocol/context.h"

namespace tarn::protocol::mlflow_ops {

// One operation per MLflow RPC; X(name) lists them. The route table names each with its role.
#define TARN_MLFLOW_RPCS(X)                                                                  \
  X(CreateExperiment) X(GetExperiment) X(GetExperimentByName) X(SearchExperiments)           \
  X(UpdateExperiment) X(DeleteExperiment) X(RestoreExperiment) X(SetExperimentTag)           \
  X(CreateRun) X(GetRun) X(UpdateRun) X(DeleteRun) X(RestoreRun) X(SearchRuns) X(LogMetric)   \
  X(LogParam) X(SetTag) X(DeleteTag) X(LogBatch) X(LogInputs) X(LogOutputs)                  \
  X(CreateLoggedModel) X(GetLoggedModel) X(FinalizeLoggedModel)          \
  X(SetLoggedModelTags) X(DeleteLoggedModel) X(SearchLoggedModels) X(CreateRegisteredModel)  \
  X(GetRegisteredModel) X(UpdateRegisteredModel) X(RenameRegisteredModel)                    \
  X(DeleteRegisteredModel) X(SearchRegisteredModels) X(GetLatestVersions)                    \
  X(SetRegisteredModelTag) X(DeleteRegisteredModelTag) X(SetRegisteredModelAlias)            \
  X(DeleteRegisteredModelAlias) X(GetModelVersionByAlias) X(CreateModelVersion)              \
  X(GetModelVersion) X(UpdateModelVersion) X(DeleteModelVersion) X(SearchModelVersions)      \
  X(GetModelVersionDownloadUri) X(SetModelVersionTag) X(DeleteModelVersionTag)

#define TARN_MLFLOW_DECLARE(name) Status name(Ctx& c);
TARN_MLFLOW_RPCS(TARN_MLFLOW_DECLARE)
#undef TARN_MLFLOW_DECLARE

// metrics/get-history, written as text directly (histories run to millions of points).
Status GetMetricHistory(Ctx& c);

// mlflow-artifacts: PUT uploads the body, GET downloads, DELETE removes (a folder with what it
// holds); GET of .../artifacts?path=<folder> lists a folder.
Status PutArtifact(Ctx& c);
Status GetArtifact(Ctx& c);
Status DeleteArtifact(Ctx& c);
Status ListArtifacts(Ctx& c);

}  // namespace tarn::protocol::mlflow_ops
