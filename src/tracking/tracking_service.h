// TrackingService: experiment tracking with MLflow's semantics, one store for both faces of a
// run (the MLflow REST API and tarn.core's Experiment/Run). Each method is one MLflow RPC: it
// takes the request message as JSON (a POST body, or a GET's query parameters gathered into an
// object; numbers may come as JSON numbers or strings) and returns the response message as
// JSON in MLflow's shape (int64 as numbers, non-finite doubles as "NaN"/"Infinity"/"-Infinity",
// experiment ids as strings).
//
// Contract
// - Everything is per workspace: an experiment, run or model of another workspace is not found.
// - Errors are MLflow's: kMlflowInvalidParameterValue for bad input (MLflow's limits: 1000
//   metrics, 100 params, 100 tags and 1000 entities per batch; keys of at most 250 characters;
//   param values of at most 6000 and tag values of at most 8000), kMlflowResourceDoesNotExist,
//   kMlflowResourceAlreadyExists, kMlflowInvalidState (a write to a deleted run or experiment).
// - A parameter once logged never changes value (kMlflowInvalidParameterValue).
// - Artifacts live in the lake: under `mlflow-artifacts/` of the filesystem of the workspace's
//   default datastore, written with that datastore's credential (ArtifactTarget).
// - Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "catalog/catalog_service.h"
#include "common/status.h"
#include "store/tracking/tracking_store.h"

namespace tarn::tracking {

using Json = nlohmann::json;

// Who calls: the user_id runs are recorded with, and (for identity-based datastores) the
// caller artifacts are written as.
struct TrackingCaller {
  std::string user;
  catalog::ReadAs as{};
};

class TrackingService {
 public:
  TrackingService(TrackingStore* store, catalog::CatalogService* catalog);

  using Rpc = StatusOr<Json> (TrackingService::*)(const std::string& ws, const Json& req,
                                                 const TrackingCaller& who);

  // Experiments.
  StatusOr<Json> CreateExperiment(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> GetExperiment(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> GetExperimentByName(const std::string& ws, const Json& req,
                                     const TrackingCaller& who);
  StatusOr<Json> SearchExperiments(const std::string& ws, const Json& req,
                                   const TrackingCaller& who);
  StatusOr<Json> UpdateExperiment(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> DeleteExperiment(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> RestoreExperiment(const std::string& ws, const Json& req,
                                   const TrackingCaller& who);
  StatusOr<Json> SetExperimentTag(const std::string& ws, const Json& req, const TrackingCaller& who);

  // Runs.
  StatusOr<Json> CreateRun(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> GetRun(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> UpdateRun(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> DeleteRun(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> RestoreRun(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> SearchRuns(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> LogMetric(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> LogParam(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> SetTag(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> DeleteTag(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> LogBatch(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> LogInputs(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> LogOutputs(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> GetMetricHistory(const std::string& ws, const Json& req, const TrackingCaller& who);
  // The same response as JSON text, written directly: a history of 100,000 points answers
  // without building 100,000 JSON objects.
  StatusOr<std::string> GetMetricHistoryText(const std::string& ws, const Json& req,
                                             const TrackingCaller& who);

  // Logged models (MLflow 3).
  StatusOr<Json> CreateLoggedModel(const std::string& ws, const Json& req,
                                   const TrackingCaller& who);
  StatusOr<Json> GetLoggedModel(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> FinalizeLoggedModel(const std::string& ws, const Json& req,
                                     const TrackingCaller& who);
  StatusOr<Json> SetLoggedModelTags(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);
  StatusOr<Json> DeleteLoggedModel(const std::string& ws, const Json& req,
                                   const TrackingCaller& who);
  StatusOr<Json> SearchLoggedModels(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);

  // The model registry.
  StatusOr<Json> CreateRegisteredModel(const std::string& ws, const Json& req,
                                       const TrackingCaller& who);
  StatusOr<Json> GetRegisteredModel(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);
  StatusOr<Json> UpdateRegisteredModel(const std::string& ws, const Json& req,
                                       const TrackingCaller& who);
  StatusOr<Json> RenameRegisteredModel(const std::string& ws, const Json& req,
                                       const TrackingCaller& who);
  StatusOr<Json> DeleteRegisteredModel(const std::string& ws, const Json& req,
                                       const TrackingCaller& who);
  StatusOr<Json> SearchRegisteredModels(const std::string& ws, const Json& req,
                                        const TrackingCaller& who);
  StatusOr<Json> GetLatestVersions(const std::string& ws, const Json& req,
                                   const TrackingCaller& who);
  StatusOr<Json> SetRegisteredModelTag(const std::string& ws, const Json& req,
                                       const TrackingCaller& who);
  StatusOr<Json> DeleteRegisteredModelTag(const std::string& ws, const Json& req,
                                          const TrackingCaller& who);
  StatusOr<Json> SetRegisteredModelAlias(const std::string& ws, const Json& req,
                                         const TrackingCaller& who);
  StatusOr<Json> DeleteRegisteredModelAlias(const std::string& ws, const Json& req,
                                            const TrackingCaller& who);
  StatusOr<Json> GetModelVersionByAlias(const std::string& ws, const Json& req,
                                        const TrackingCaller& who);
  StatusOr<Json> CreateModelVersion(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);
  StatusOr<Json> GetModelVersion(const std::string& ws, const Json& req, const TrackingCaller& who);
  StatusOr<Json> UpdateModelVersion(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);
  StatusOr<Json> DeleteModelVersion(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);
  StatusOr<Json> SearchModelVersions(const std::string& ws, const Json& req,
                                     const TrackingCaller& who);
  StatusOr<Json> GetModelVersionDownloadUri(const std::string& ws, const Json& req,
                                            const TrackingCaller& who);
  StatusOr<Json> SetModelVersionTag(const std::string& ws, const Json& req,
                                    const TrackingCaller& who);
  StatusOr<Json> DeleteModelVersionTag(const std::string& ws, const Json& req,
                                       const TrackingCaller& who);

  // Where the workspace's artifacts are: the default datastore's account and filesystem on this
  // tarnd, whose credential must be allowed to write there (for a read, as the datastore's own
  // credential; for a write, as the caller too where the datastore is identity-based). The
  // lake path of artifact `path` (an mlflow-artifacts path, "<experiment>/<run>/artifacts/...")
  // is "mlflow-artifacts/" + path. kMlflowInvalidState when the workspace has no default
  // datastore.
  StatusOr<catalog::WriteTarget> ArtifactTarget(const std::string& ws, const TrackingCaller& who,
                                                bool for_write);
  static constexpr char kArtifactFolder[] = "mlflow-artifacts";

 private:
  StatusOr<Experiment> RequireExperiment(TrackingTxn& t, const std::string& ws,
                                         const std::string& id);
  Status EnsureDefaultExperiment(TrackingTxn& t, const std::string& ws);
  StatusOr<RunInfo> RequireRun(TrackingTxn& t, const std::string& ws, const std::string& id);
  StatusOr<RunInfo> RequireActiveRun(TrackingTxn& t, const std::string& ws, const std::string& id);
  StatusOr<Json> RunJson(TrackingTxn& t, const RunInfo& r);
  StatusOr<Json> ModelVersionJson(TrackingTxn& t, const std::string& ws, Json mv);
  StatusOr<Json> RegisteredModelJson(TrackingTxn& t, const std::string& ws, Json rm);
  Status SetExperimentStage(const std::string& ws, const Json& req, const std::string& stage);
  Status SetRunStage(const std::string& ws, const Json& req, const std::string& stage);

  TrackingStore* store_;
  catalog::CatalogService* catalog_;
};

}  // namespace tarn::tracking
