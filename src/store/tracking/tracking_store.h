// TrackingStore: the metadata interface of experiment tracking (MLflow's model): experiments,
// runs with their parameters, tags and metric histories, run inputs, and documents for logged
// models, registered models and model versions. The tracking service (src/tracking) owns the
// rules (MLflow's limits, what may change when); the store keeps and finds records.
//
// Contract
// - Write(fn) runs fn atomically and durably: all of its changes or none, and once Write
//   returns Ok a crash (kill -9) loses none of them. Concurrent Writes may be committed
//   together in one transaction (group commit); each fn still sees the effects of the fns
//   before it and fails alone (its changes are rolled back, the others' are kept).
// - Read(fn) sees the last committed state; reads run beside writes and beside each other.
// - Thread-safe; fn must not call Write or Read re-entrantly.
// - Lookups report NotFound as std::nullopt. Experiment names compare exactly, per workspace.
//   Run ids are globally unique (UUIDs), and the caller checks a run's workspace.
// - Metrics: LogMetrics appends points to their keys' histories (an identical point is kept
//   once) and makes the newest of each key the latest value when its (step, timestamp, value)
//   is not older than the latest's, as MLflow does (NaN below every number). A NaN value is
//   stored as is_nan with no value.
// - Documents (kind "logged_model", "registered_model", "model_version"): JSON text under
//   (kind, workspace, key); ListDocs finds the keys that start with a prefix, in key order.
// - A `limit` <= 0 means no limit.
//
// Usage:
//   TARN_RETURN_IF_ERROR(store->Write([&](TrackingTxn& t) -> Status {
//     TARN_ASSIGN_OR_RETURN(auto run, t.GetRun(id));
//     if (!run) return Error(Reason::kMlflowResourceDoesNotExist, "no run " + id);
//     return t.LogMetrics(id, {Metric{"loss", 0.5, now, 3, false}});
//   }));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/tracking/run_filter.h"

namespace tarn::tracking {

using KeyValue = std::pair<std::string, std::string>;

struct Experiment {
  std::string ws;
  int64_t id = 0;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage = "active";  // "active" | "deleted"
  int64_t creation_time = 0;               // ms since the epoch
  int64_t last_update_time = 0;
  std::vector<KeyValue> tags{};
};

struct RunInfo {
  std::string run_id;  // 32 hex digits
  std::string ws;
  int64_t experiment_id = 0;
  std::string run_name;
  std::string user_id;
  std::string status = "RUNNING";  // RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
  int64_t start_time = 0;          // ms
  std::optional<int64_t> end_time{};
  std::optional<int64_t> deleted_time{};
  std::string lifecycle_stage = "active";
  std::string artifact_uri;
};

struct Metric {
  std::string key;
  double value = 0;  // meaningless when is_nan
  int64_t timestamp = 0;
  int64_t step = 0;
  bool is_nan = false;
};

struct RunInput {
  std::string name;
  std::string digest;
  std::string context;  // the mlflow.data.context tag, "" if none
  std::string doc;      // the whole DatasetInput as JSON text
};

struct RunData {
  std::vector<Metric> metrics{};  // the latest value of each key, by key
  std::vector<KeyValue> params{};
  std::vector<KeyValue> tags{};
  std::vector<RunInput> inputs{};
};

enum class ViewType { kActiveOnly, kDeletedOnly, kAll };

struct ExperimentQuery {
  std::string ws;
  ViewType view = ViewType::kActiveOnly;
  bool order_by_name = false;  // else by id
  bool descending = false;
  int64_t limit = 0;
  int64_t offset = 0;
};

struct RunQuery {
  std::string ws;
  std::vector<int64_t> experiment_ids{};
  ViewType view = ViewType::kActiveOnly;
  std::vector<Clause> filter{};
  std::vector<OrderBy> order{};
  int64_t limit = 0;
  int64_t offset = 0;
};

class TrackingTxn {
 public:
  virtual ~TrackingTxn() = default;

  // Experiments.
  virtual StatusOr<int64_t> MaxExperimentId() = 0;  // 0 when there are none
  virtual Status PutExperiment(const Experiment& e) = 0;  // insert or replace; tags too
  virtual StatusOr<std::optional<Experiment>> GetExperiment(const std::string& ws, int64_t id) = 0;
  virtual StatusOr<std::optional<Experiment>> GetExperimentByName(const std::string& ws,
                                                                  const std::string& name) = 0;
  virtual StatusOr<std::vector<Experiment>> ListExperiments(const ExperimentQuery& q) = 0;

  // Runs.
  virtual Status PutRun(const RunInfo& r) = 0;  // insert or replace the run's own fields
  virtual StatusOr<std::optional<RunInfo>> GetRun(const std::string& run_id) = 0;
  virtual StatusOr<RunData> GetRunData(const std::string& run_id) = 0;
  virtual StatusOr<std::vector<RunInfo>> SearchRuns(const RunQuery& q) = 0;
  virtual StatusOr<std::optional<std::string>> GetParam(const std::string& run_id,
                                                        const std::string& key) = 0;
  virtual Status PutParam(const std::string& run_id, const std::string& key,
                          const std::string& value) = 0;
  virtual Status SetTag(const std::string& run_id, const std::string& key,
                        const std::string& value) = 0;
  // False when the run has no such tag.
  virtual StatusOr<bool> DeleteTag(const std::string& run_id, const std::string& key) = 0;
  virtual Status LogMetrics(const std::string& run_id, const std::vector<Metric>& points) = 0;
  // The key's points by (step, timestamp), `limit` of them from `offset`.
  virtual StatusOr<std::vector<Metric>> MetricHistory(const std::string& run_id,
                                                      const std::string& key, int64_t limit,
                                                      int64_t offset) = 0;
  virtual Status AddInput(const std::string& run_id, const RunInput& in) = 0;

  // Documents.
  virtual Status PutDoc(const std::string& kind, const std::string& ws, const std::string& key,
                        const std::string& doc) = 0;
  virtual StatusOr<std::optional<std::string>> GetDoc(const std::string& kind,
                                                      const std::string& ws,
                                                      const std::string& key) = 0;
  virtual StatusOr<bool> DeleteDoc(const std::string& kind, const std::string& ws,
                                   const std::string& key) = 0;
  virtual StatusOr<std::vector<KeyValue>> ListDocs(const std::string& kind, const std::string& ws,
                                                   const std::string& key_prefix) = 0;
};

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;
  virtual Status Write(const std::function<Status(TrackingTxn&)>& fn) = 0;
  virtual Status Read(const std::function<Status(TrackingTxn&)>& fn) = 0;
};

}  // namespace tarn::tracking
