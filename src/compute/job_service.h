// JobService: runs submitted to compute targets (azureml's exp.submit(ScriptRunConfig)), each
// the same run as in experiment tracking: its metrics, tags, artifacts and status are the MLflow
// run's, so tarn.core, the mlflow client and `tarn` all see one run.
//
// Contract
// - Submit checks the job (job_spec.h), creates the MLflow run (SCHEDULED), writes the snapshot
//   and launch script into <work_root>/<run id>/ (owned by the target's run user), and queues
//   the run; it answers at once. The monitor thread starts queued runs as targets have capacity
//   and follows running ones; clients poll (Get with wait, Logs).
// - A run acts as the principal that submitted it: it gets tokens for the tracking and
//   workspace audiences in its environment (MLFLOW_TRACKING_TOKEN, TARN_WORKSPACE_TOKEN), valid
//   only while the run is active (IsActive), never the account key. So submitting needs a
//   signed-in principal: kRunIdentityRequired for the account key.
// - Inputs (job_spec.h's InputSpec) are pinned to a version number at submit and downloaded
//   into the run's directory, as the submitter reads them, before the script starts. Outputs
//   are checked writable by the submitter at submit; when (and only when) the run completes,
//   they are uploaded, registered as dataset versions whose lineage names the run and its
//   inputs, and an OpenLineage COMPLETE event joins them in `tarn lineage`. A write-back that
//   fails fails the run.
// - When a run ends: its log is uploaded as the artifact user_logs/std_log.txt, and the files it
//   wrote under ./outputs as outputs/...; the MLflow run becomes FINISHED (exit 0), FAILED or
//   KILLED (cancelled), with the exit code as tag tarn.exit_code and the reason in the job's
//   error. Its snapshot and data folders are then removed; its log stays for the logs
//   endpoint.
// - Jobs are kept as tracking-store documents (kind "job"), the active ones indexed (kind
//   "active_job"): Recover, at start-up, takes up the runs a stopped tarnd left behind, polling
//   the targets for what became of them while it was down.
// - Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_service.h"
#include "common/status.h"
#include "compute/compute_target.h"
#include "compute/job_spec.h"
#include "identity/identity_service.h"
#include "lake/lake_service.h"
#include "pipeline/pipeline_service.h"
#include "store/tracking/tracking_store.h"
#include "tracking/tracking_service.h"

namespace tarn::compute {

using Json = nlohmann::json;

struct JobOptions {
  std::string work_root;       // runs' directories and the environment cache
  std::string python;          // the default interpreter (absolute)
  std::vector<std::string> env;  // "NAME=value" given to every run
  int64_t poll_ms = 250;
  int64_t max_outputs_bytes = int64_t{1} << 30;  // what ./outputs may upload, in all
};

// Who submits: the principal the run acts as, and its name for the record.
struct Submitter {
  identity::Caller caller;
  std::string name;
};

class JobService {
 public:
  // catalog: datasets a run reads and registers; pipelines (may be null): where its lineage
  // events are kept, beside the pipelines'.
  JobService(JobOptions opts, tracking::TrackingStore* store, tracking::TrackingService* tracking,
             identity::IdentityService* identity, lake::LakeService* lake,
             catalog::CatalogService* catalog, pipeline::PipelineService* pipelines);
  ~JobService();

  void AddTarget(std::unique_ptr<ComputeTarget> target);
  // The server's https URL and the CA file runs trust it with; known once it listens.
  void SetServer(const std::string& https_url, const std::string& ca_file);

  // Takes up the jobs a stopped tarnd left (before Start and before requests are served).
  StatusOr<int> Recover();
  void Start();
  void Stop();  // runs go on; the next tarnd takes them up

  StatusOr<Json> Submit(const std::string& ws, const Json& body, const Submitter& who);
  // With wait_ms > 0: answers when the job has ended or the wait is over.
  StatusOr<Json> Get(const std::string& ws, const std::string& run_id, int64_t wait_ms);
  StatusOr<Json> List(const std::string& ws, const std::string& experiment_name, int64_t limit);
  StatusOr<Json> Logs(const std::string& ws, const std::string& run_id, int64_t offset,
                      int64_t limit);
  StatusOr<Json> Cancel(const std::string& ws, const std::string& run_id);
  Json Computes() const;
  bool IsActive(const std::string& run_id) const;

 private:
  struct Active {
    std::string ws;
    Json job;               // the stored document
    bool signaled = false;  // a cancel was passed to the target
  };

  std::string WorkDir(const std::string& run_id) const;
  Status PrepareWorkDir(const std::string& run_id, const JobSpec& spec, int uid, int gid);
  Status Save(const std::string& ws, const Json& job, bool active);
  StatusOr<Json> Load(const std::string& ws, const std::string& run_id);
  void Monitor();
  void StartRun(const std::string& run_id, ComputeTarget& target);
  void OnEnded(const std::string& run_id, const Observed& o);
  // Ends the job: uploads, the MLflow run's status, the record.
  void Finish(const std::string& run_id, const std::string& status, int exit_code,
              const std::string& error);
  void UploadArtifacts(Json& job);
  // Copies each input's pinned version into <run dir>/datasets/inputs/<name>.
  Status DownloadInputs(const Json& job, ComputeTarget& target);
  // Uploads each output folder to its datastore and registers it; records the lineage.
  Status WriteBack(Json& job);
  void SetRunStatus(const Json& job, const std::string& mlflow_status, int exit_code);
  ComputeTarget* Target(const std::string& name) const;

  JobOptions opts_;
  tracking::TrackingStore* store_;
  tracking::TrackingService* tracking_;
  identity::IdentityService* identity_;
  lake::LakeService* lake_;
  catalog::CatalogService* catalog_;
  pipeline::PipelineService* pipelines_;
  std::vector<std::unique_ptr<ComputeTarget>> targets_;
  std::string https_url_, ca_file_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // a job changed status
  std::condition_variable wake_;     // the monitor has work
  std::map<std::string, Active> active_;  // by run id: queued and running jobs
  bool stopping_ = false;
  int next_uid_ = -1;  // the next per-run uid to try (UidRange)
  std::thread monitor_;
};

// The job's status in Azure ML's words, for a stored job document.
inline constexpr const char* kTerminal[] = {"Completed", "Failed", "Canceled"};
bool IsTerminal(const std::string& status);

}  // namespace tarn::compute
