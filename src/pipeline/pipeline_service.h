// PipelineService: tarnd's pipelines. A workspace stores pipeline definitions (pipeline.yaml,
// pipeline_spec.h); a run executes their steps on tarnd itself, each as write, audit, publish:
//
//   1. read the inputs: dataset versions, pinned (the version a run starts with is the version
//      it reads, whatever is registered meanwhile), through the catalog exactly as the caller's
//      reads would go (the datastore's credential, or the caller, checked on every read);
//   2. run the step's SQL in a confined DuckDB (tabular::Engine::RunStep), apply its row
//      expectations, write Parquet (zstd, Hive-partitioned) to a local work directory, and
//      measure the checks on those files (the gate, src/pipeline/gate.h) and the version's
//      profile;
//   3. upload the same files to staging in the output's filesystem
//      (.tarn/staging/pipeline-<run>-<step>/), which no dataset and no reader names;
//   4. judge the gate. A failing check fails the run: nothing is published, the staging stays
//      for inspection until the zone's retention (failed_staging_days), and the run's report
//      says which check failed, its value, and example rows;
//   5. publish: one namespace transaction swaps the staged folder into the output path
//      (LakeService::SwapDirectory), so a reader of the path through any client sees the old
//      output or the new one, never a mix; then the output is registered as the next version
//      of its dataset, with schema, profile and lineage. Rows a `drop` expectation removed go
//      to the dataset <output>_quarantine at <path>_quarantine, with their reason.
//
// A step whose input is an earlier step's output reads the version that step just published;
// each step publishes on its own gate (a later step's failure leaves earlier outputs published).
//
// Concurrency: runs are queued and executed by worker threads; one run per pipeline at a time
// (a second waits, "queued"). A crash: at start-up Recover() marks runs that were queued or
// running as failed (their staging is kept), and finishes a publish a crash interrupted after
// its swap (the swap is the commit point: before it nothing changed, after it the run registers
// the version it published).
//
// Triggers: runs start by hand (StartRun), at a cron schedule, or after writes under an
// on_arrival folder (OnWrite); a triggered run acts as the pipeline's owner.
//
// Lineage (lineage.cc): each run records its inputs (dataset versions) and outputs (the versions
// it registered) in its report, each version it registers names the run and its inputs, and
// each step's OpenLineage RunEvent is kept in the catalog and POSTed to OPENLINEAGE_URL.
//
// Thread-safe. JSON in and out, in the shapes of docs/pipelines.md; errors as Status.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_service.h"
#include "common/status.h"
#include "lake/lake_service.h"
#include "pipeline/pipeline_spec.h"
#include "store/catalog/catalog_store.h"
#include "tabular/tabular.h"

namespace tarn::pipeline {

using Json = nlohmann::json;

// Who a run acts as: the caller that started it (nullopt: an account key holder), and the
// name its versions are registered by.
struct RunAs {
  std::optional<identity::Caller> caller{};
  std::string name;
};

struct PipelineOptions {
  std::string work_dir;         // local scratch for step outputs; emptied at start-up
  int workers = 1;              // runs executed at once (different pipelines)
  int engine_threads = 0;       // DuckDB threads per step; 0 = one per core
  std::string memory_limit{};   // per step; "" = DuckDB's default
  // Where each step's OpenLineage RunEvent is also POSTed ("" = nowhere; they are always kept
  // in the catalog): OPENLINEAGE_URL, and the path OPENLINEAGE_ENDPOINT (default, as the
  // OpenLineage Python client's: /api/v1/lineage).
  std::string openlineage_url{};
  std::string openlineage_endpoint = "/api/v1/lineage";
  // The longest WaitRun waits (a long poll holds a request thread); the fuzz fixture, whose runs
  // never start, answers at once.
  int64_t max_wait_ms = 10000;
};

// The lineage graph's key of a dataset version: "dataset:<name>:<version>".
std::string DatasetKey(const std::string& name, int64_t version);

// An OpenLineage RunEvent (spec 2-0-2) from a client, checked, as the catalog keeps it: its
// datasets keyed by their tarn_dataset facet (a dataset version), else "path:<namespace>/<name>".
// kInvalidInput naming what is wrong: not an object, a missing or mistyped required field
// (eventTime, producer, schemaURL, run.runId, job.namespace, job.name), an unknown eventType, a
// dataset without namespace and name, too many datasets (kMaxEventDatasets) or too long a name.
inline constexpr size_t kMaxEventDatasets = 10000;
StatusOr<catalog::LineageRecord> LineageRecordOf(const std::string& ws, const Json& event);

// What Tarn's OpenLineage events name as their producer and schema (pipelines' and runs').
inline constexpr char kLineageProducer[] =
    "https://github.com/tarn-lake/tarn/tree/main/src/pipeline";
inline constexpr char kLineageRunEventSchema[] =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

class PipelineService {
 public:
  // identity (may be null): who the owner of a pipeline is when a trigger runs it.
  PipelineService(catalog::CatalogService* catalog, catalog::CatalogStore* store,
                  lake::LakeService* lake, PipelineOptions options,
                  identity::IdentityService* identity = nullptr);
  ~PipelineService();
  PipelineService(const PipelineService&) = delete;
  PipelineService& operator=(const PipelineService&) = delete;

  // Before Start: runs a crash left queued or running become failed; interrupted publishes are
  // finished. Returns how many runs it changed.
  StatusOr<int64_t> Recover();
  // Starts the workers and the scheduler (cron schedules).
  void Start();
  void Stop();

  // Definitions. body: {"definition": "<pipeline.yaml text>"}; the name in the file must be
  // `name`. kInvalidPipeline with FILE:LINE:COLUMN for a bad file. Whoever stores it becomes its
  // owner: runs its schedule or an arrival starts act as the owner (its roles, as they are
  // then), never with more.
  StatusOr<Json> Put(const std::string& ws, const std::string& name, const Json& body,
                     const RunAs& as, bool* created);
  StatusOr<Json> Get(const std::string& ws, const std::string& name);
  StatusOr<Json> List(const std::string& ws);
  Status Delete(const std::string& ws, const std::string& name);

  // Queues a run; returns it (status "queued"). trigger: "manual", "schedule" or "arrival".
  // from_step: retry from that step (a failed run's): the steps before it are skipped, and the
  // steps from it on read their inputs' latest versions, the earlier steps' last published ones.
  StatusOr<Json> StartRun(const std::string& ws, const std::string& name, const RunAs& as,
                          const std::string& trigger, const std::string& from_step = "");
  StatusOr<Json> GetRun(const std::string& ws, const std::string& id);
  StatusOr<Json> ListRuns(const std::string& ws, const std::string& name, int64_t limit);
  // Arrival triggers: tarnd reports each storage write that succeeded
  // (protocol::Frontend::SetWriteObserver). A write under a pipeline's on_arrival folder starts
  // a run once writes there have been quiet for kArrivalQuietUs (a batch lands in several
  // requests). Quick: a lookup in the watched folders.
  void OnWrite(const std::string& account, const std::string& fs, const std::string& path);
  static constexpr int64_t kArrivalQuietUs = 2'000'000;

  // For tests and the CLI's --wait: blocks until the run ends or timeout_ms passes.
  StatusOr<Json> WaitRun(const std::string& ws, const std::string& id, int64_t timeout_ms);

  // Lineage (lineage.cc). The graph from a dataset version ("latest" or a number), upstream
  // (what it was made from, down to the files of versions no run made) or downstream (what was
  // made from it), at most `depth` levels:
  //   {"direction", "root": {"kind":"dataset","dataset","version","namespace","name",
  //    "via":{"job","run_id","event_time"}, "children":[...]}} (files: {"kind":"file","path",
  //    "uri","etag","size"}).
  StatusOr<Json> Lineage(const std::string& ws, const std::string& dataset,
                         const std::string& version, bool upstream, int depth);
  // Keeps a client's RunEvent (LineageRecordOf says what is accepted).
  Status RecordEvent(const std::string& ws, const Json& event);
  // A dataset version as an OpenLineage dataset: ADLS naming (namespace
  // abfss://<fs>@<account>.dfs.core.windows.net, the path as name) and its facets.
  StatusOr<Json> LineageDataset(const std::string& ws, const std::string& name, int64_t version);
  // The workspace's OpenLineage RunEvents, newest first: {"events":[...]}.
  StatusOr<Json> ListLineageEvents(const std::string& ws, int64_t limit);

 private:
  struct Queued {
    std::string ws, pipeline, id;
    RunAs as;
  };
  struct Run;  // one run in progress (pipeline_run.cc)

  void WorkerLoop();
  void SchedulerLoop();
  // Re-reads every pipeline's schedule and arrival folders (the scheduler, every 10 s).
  void RefreshTriggers(int64_t now_s);
  // Who a triggered run acts as: the pipeline's owner (nullopt: the owner was a key holder);
  // an error when the owner no longer exists.
  StatusOr<RunAs> OwnerOf(const Json& pipeline_doc);
  void StartTriggered(const std::string& ws, const std::string& name, const std::string& trigger);
  // Keeps a step's RunEvent (COMPLETE or FAIL) in the catalog and POSTs it to OPENLINEAGE_URL.
  void RecordStepLineage(const std::string& ws, const std::string& pipeline,
                         const std::string& run_id, const Step& step, const Json& step_doc);
  void PostLineage(const Json& event);
  // Executes a queued run to its end; every outcome is recorded in its run record.
  void Execute(const Queued& q);
  Status SaveRun(const catalog::PipelineRunRecord& r);
  StatusOr<catalog::PipelineRunRecord> LoadRun(const std::string& ws, const std::string& id);
  // Finishes a publish whose swap happened (recovery), from the plan in the run's report.
  // known: the output's profile, computed from the same files (none after a crash).
  Status FinishPublish(const std::string& ws, const std::string& run_id, Json& step,
                       const RunAs& as, const Json* known = nullptr);

  catalog::CatalogService* catalog_;
  catalog::CatalogStore* store_;
  lake::LakeService* lake_;
  PipelineOptions options_;
  tabular::Engine engine_;

  std::mutex mu_;
  std::condition_variable wake_;    // workers: a run queued, or stopping
  std::condition_variable done_;    // WaitRun: a run ended
  std::deque<Queued> queue_;        // guarded by mu_
  std::set<std::string> busy_;      // "ws/pipeline" being run; guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  std::vector<std::thread> threads_;
  identity::IdentityService* identity_;
  struct Scheduled {
    std::string ws, name;
    Cron cron;
    int64_t next = 0;  // unix s
  };
  std::map<std::string, Scheduled> scheduled_;  // by "ws/pipeline"; scheduler thread only
  std::atomic<bool> triggers_changed_{true};     // a definition changed: refresh at once
  struct Watch {
    std::string ws, pipeline, account, fs, prefix;
  };
  std::mutex watch_mu_;
  std::vector<Watch> watches_;                 // guarded by watch_mu_
  std::map<std::string, int64_t> arrivals_;    // "ws/pipeline" -> last write (us); watch_mu_
};

}  // namespace tarn::pipeline
