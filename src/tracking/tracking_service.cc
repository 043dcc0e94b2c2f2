#include "tracking/tracking_service.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tracking/tracking_json.h"

namespace tarn::tracking {

using namespace tracking_json;  // NOLINT: the request readers and the response shapes

namespace {

constexpr size_t kMaxMetricsPerBatch = 1000;
constexpr size_t kMaxParamsTagsPerBatch = 100;
constexpr size_t kMaxEntitiesPerBatch = 1000;
constexpr size_t kMaxKeyLength = 250;
constexpr size_t kMaxParamValue = 6000;
constexpr size_t kMaxTagValue = 8000;
constexpr size_t kMaxExperimentName = 500;
constexpr size_t kMaxExperimentTagValue = 20000;
constexpr int64_t kMaxSearchRuns = 50000;
constexpr int64_t kMaxSearchExperiments = 50000;
constexpr int64_t kMaxHistoryPage = 25000000;

Status Missing(const std::string& what) {
  return Error(Reason::kMlflowResourceDoesNotExist, what);
}

// MLflow's rule for metric, param and tag keys: slashes, alphanumerics, underscores, periods,
// dashes, colons and spaces, not resolving to another name as a path.
Status CheckKey(const std::string& kind, const std::string& key) {
  if (key.empty()) return Invalid(kind + " key must not be empty.");
  if (key.size() > kMaxKeyLength) {
    return Invalid(kind + " key '" + key.substr(0, 100) + "...' had length " +
                   std::to_string(key.size()) + ", which exceeded length limit of " +
                   std::to_string(kMaxKeyLength) + ".");
  }
  for (unsigned char ch : key) {
    if (!(std::isalnum(ch) || ch == '/' || ch == '_' || ch == '.' || ch == '-' || ch == ' ' ||
          ch == ':' || ch >= 0x80)) {
      return Invalid("Invalid " + kind + " name: '" + key +
                     "'. Names may only contain alphanumerics, underscores (_), dashes (-), "
                     "periods (.), spaces ( ), colons (:) and slashes (/).");
    }
  }
  // As a path: no "." or ".." parts, no leading or doubled slash.
  if (key[0] == '/' || key.find("//") != std::string::npos || key.back() == '/') {
    return Invalid("Invalid " + kind + " name: '" + key + "': it would resolve to another name.");
  }
  for (auto part : Split(key, '/')) {
    if (part == "." || part == "..") {
      return Invalid("Invalid " + kind + " name: '" + key +
                     "': it would resolve to another name.");
    }
  }
  return Status::Ok();
}

Status CheckTag(const std::string& key, const std::string& value) {
  if (key.size() > kMaxKeyLength) {
    return Invalid("Tag key '" + key.substr(0, 100) + "...' had length " +
                   std::to_string(key.size()) + ", which exceeded length limit of " +
                   std::to_string(kMaxKeyLength) + ".");
  }
  TARN_RETURN_IF_ERROR(CheckKey("tag", key));
  if (value.size() > kMaxTagValue) {
    return Invalid("Tag value of '" + key + "' had length " + std::to_string(value.size()) +
                   ", which exceeded length limit of " + std::to_string(kMaxTagValue) + ".");
  }
  return Status::Ok();
}

Status CheckParam(const std::string& key, const std::string& value) {
  TARN_RETURN_IF_ERROR(CheckKey("param", key));
  if (value.size() > kMaxParamValue) {
    return Invalid("Param value of '" + key + "' had length " + std::to_string(value.size()) +
                   ", which exceeded length limit of " + std::to_string(kMaxParamValue) + ".");
  }
  return Status::Ok();
}

std::string NewRunId() { return HexEncode(RandomBytes(16)); }

// Friendly run names, as MLflow gives runs started without one.
std::string NewRunName() {
  static constexpr const char* kAdjectives[] = {"bold", "calm", "eager", "gentle", "keen",
                                                "lucid", "merry", "quiet", "swift", "wise"};
  static constexpr const char* kNouns[] = {"otter", "heron", "lynx", "crane", "trout",
                                           "moose", "finch", "stoat", "vole", "wren"};
  std::string r = RandomBytes(3);
  auto b = [&](int i) { return static_cast<unsigned char>(r[i]); };
  return std::string(kAdjectives[b(0) % 10]) + "-" + kNouns[b(1) % 10] + "-" +
         std::to_string(b(2) % 1000);
}

bool ValidRunStatus(const std::string& s) {
  return s == "RUNNING" || s == "SCHEDULED" || s == "FINISHED" || s == "FAILED" || s == "KILLED";
}

StatusOr<ViewType> ViewOf(const Json& req, const char* field) {
  if (!req.contains(field)) return ViewType::kActiveOnly;
  const Json& v = req[field];
  std::string s = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
  if (s == "ACTIVE_ONLY" || s == "1") return ViewType::kActiveOnly;
  if (s == "DELETED_ONLY" || s == "2") return ViewType::kDeletedOnly;
  if (s == "ALL" || s == "3") return ViewType::kAll;
  return Invalid(std::string(field) + " must be ACTIVE_ONLY, DELETED_ONLY or ALL.");
}

StatusOr<int64_t> PageOffset(const Json& req) {
  std::string token = StringField(req, "page_token");
  if (token.empty()) return 0;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  if (ec != std::errc() || p != token.data() + token.size() || v < 0) {
    return Invalid("Invalid page token '" + token + "': pass back the next_page_token of the "
                   "previous page.");
  }
  return v;
}

StatusOr<int64_t> ExperimentIdOf(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0) {
    return Missing("No Experiment with id=" + s + " exists");
  }
  return v;
}

}  // namespace

TrackingService::TrackingService(TrackingStore* store, catalog::CatalogService* catalog)
    : store_(store), catalog_(catalog) {}

StatusOr<Experiment> TrackingService::RequireExperiment(TrackingTxn& t, const std::string& ws,
                                                        const std::string& id) {
  TARN_ASSIGN_OR_RETURN(int64_t n, ExperimentIdOf(id));
  TARN_ASSIGN_OR_RETURN(auto e, t.GetExperiment(ws, n));
  if (!e) return Missing("No Experiment with id=" + id + " exists");
  return std::move(*e);
}

// MLflow's experiment 0, "Default", where runs go that name no experiment: made on first use.
Status TrackingService::EnsureDefaultExperiment(TrackingTxn& t, const std::string& ws) {
  TARN_ASSIGN_OR_RETURN(auto e, t.GetExperiment(ws, 0));
  if (e) return Status::Ok();
  Experiment d;
  d.ws = ws;
  d.id = 0;
  d.name = "Default";
  d.artifact_location = "mlflow-artifacts:/0";
  d.creation_time = d.last_update_time = NowMillis();
  return t.PutExperiment(d);
}

StatusOr<RunInfo> TrackingService::RequireRun(TrackingTxn& t, const std::string& ws,
                                              const std::string& id) {
  if (id.empty()) return Invalid("Missing value for required parameter 'run_id'.");
  TARN_ASSIGN_OR_RETURN(auto r, t.GetRun(id));
  if (!r || r->ws != ws) return Missing("Run with id=" + id + " not found");
  return std::move(*r);
}

StatusOr<RunInfo> TrackingService::RequireActiveRun(TrackingTxn& t, const std::string& ws,
                                                    const std::string& id) {
  TARN_ASSIGN_OR_RETURN(RunInfo r, RequireRun(t, ws, id));
  if (r.lifecycle_stage != "active") {
    return Invalid("The run " + id + " must be in the 'active' state. Current state is " +
                   r.lifecycle_stage + ".");
  }
  return r;
}

StatusOr<Json> TrackingService::RunJson(TrackingTxn& t, const RunInfo& r) {
  TARN_ASSIGN_OR_RETURN(RunData d, t.GetRunData(r.run_id));
  TARN_ASSIGN_OR_RETURN(auto outputs, t.GetDoc("run_outputs", r.ws, r.run_id));
  return RunToJson(r, d, outputs ? Json::parse(*outputs) : Json::array());
}

// ----- experiments ------------------------------------------------------------------------

StatusOr<Json> TrackingService::CreateExperiment(const std::string& ws, const Json& req,
                                                 const TrackingCaller&) {
  const std::string name = StringField(req, "name");
  if (name.empty()) return Invalid("Missing value for required parameter 'name'.");
  if (name.size() > kMaxExperimentName) {
    return Invalid("Experiment name exceeds the maximum length of " +
                   std::to_string(kMaxExperimentName) + " characters.");
  }
  std::string location = StringField(req, "artifact_location");
  if (!location.empty() && !StartsWith(location, "mlflow-artifacts:/")) {
    return Invalid("artifact_location '" + location +
                   "' is not served here: Tarn keeps artifacts in the lake, under the "
                   "workspace's default datastore. Leave artifact_location unset.");
  }
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags"));
  for (const auto& [k, v] : tags) {
    TARN_RETURN_IF_ERROR(CheckKey("experiment tag", k));
    if (v.size() > kMaxExperimentTagValue) return Invalid("Experiment tag value too long.");
  }
  Experiment e;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto existing, t.GetExperimentByName(ws, name));
    if (existing) {
      return Error(Reason::kMlflowResourceAlreadyExists,
                   "Experiment(name=" + name + ") already exists. Error: a " +
                       (existing->lifecycle_stage == "deleted" ? "deleted " : "") +
                       "experiment of this workspace has this name" +
                       (existing->lifecycle_stage == "deleted"
                            ? ": restore it, or choose another name."
                            : "."));
    }
    TARN_ASSIGN_OR_RETURN(int64_t max, t.MaxExperimentId());
    e.ws = ws;
    e.id = max + 1;
    e.name = name;
    e.artifact_location =
        location.empty() ? "mlflow-artifacts:/" + std::to_string(e.id) : location;
    e.creation_time = e.last_update_time = NowMillis();
    e.tags = tags;
    return t.PutExperiment(e);
  }));
  return Json{{"experiment_id", std::to_string(e.id)}};
}

StatusOr<Json> TrackingService::GetExperiment(const std::string& ws, const Json& req,
                                              const TrackingCaller&) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Experiment e, RequireExperiment(t, ws, StringField(req, "experiment_id")));
    out = Json{{"experiment", ExperimentToJson(e)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetExperimentByName(const std::string& ws, const Json& req,
                                                    const TrackingCaller&) {
  const std::string name = StringField(req, "experiment_name");
  if (name.empty()) return Invalid("Missing value for required parameter 'experiment_name'.");
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto e, t.GetExperimentByName(ws, name));
    if (!e) return Missing("Could not find experiment with name '" + name + "'");
    out = Json{{"experiment", ExperimentToJson(*e)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::SearchExperiments(const std::string& ws, const Json& req,
                                                  const TrackingCaller&) {
  ExperimentQuery q;
  q.ws = ws;
  TARN_ASSIGN_OR_RETURN(q.view, ViewOf(req, "view_type"));
  TARN_ASSIGN_OR_RETURN(int64_t max, IntField(req, "max_results", 1000));
  if (max <= 0 || max > kMaxSearchExperiments) {
    return Invalid("max_results must be between 1 and " + std::to_string(kMaxSearchExperiments) +
                   ".");
  }
  TARN_ASSIGN_OR_RETURN(q.offset, PageOffset(req));
  q.descending = true;
  TARN_ASSIGN_OR_RETURN(auto clauses,
                        ParseFieldFilter(StringField(req, "filter"), "experiment filter"));
  for (const auto& c : clauses) {
    if (c.key != "name" && !StartsWith(c.key, "tags.")) {
      return Invalid("Invalid experiment filter: Tarn filters experiments on name and tags, "
                     "not '" + c.key + "'.");
    }
  }
  for (const std::string& o : StringList(req, "order_by")) {
    TARN_ASSIGN_OR_RETURN(OrderItem item, ParseOrderItem(o));
    if (item.key != "name" && item.key != "experiment_id" && item.key != "creation_time" &&
        item.key != "last_update_time") {
      return Invalid("Invalid order_by clause '" + o +
                     "': order experiments by name, experiment_id or creation_time.");
    }
    q.order_by_name = item.key == "name";
    q.descending = !item.ascending;
  }
  // A workspace holds few experiments: filter and page in memory.
  const int64_t offset = q.offset;
  q.offset = 0;
  Json out = Json::object();
  out["experiments"] = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto list, t.ListExperiments(q));
    int64_t seen = 0;
    for (const Experiment& e : list) {
      bool holds = true;
      for (const auto& c : clauses) {
        if (c.key == "name") {
          holds = holds && ClauseHolds(c, e.name);
          continue;
        }
        const std::string key = c.key.substr(5);
        auto it = std::find_if(e.tags.begin(), e.tags.end(),
                               [&](const KeyValue& kv) { return kv.first == key; });
        holds = holds && it != e.tags.end() && ClauseHolds(c, it->second);
      }
      if (!holds || seen++ < offset) continue;
      if (static_cast<int64_t>(out["experiments"].size()) == max) {
        out["next_page_token"] = std::to_string(offset + max);
        break;
      }
      out["experiments"].push_back(ExperimentToJson(e));
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::UpdateExperiment(const std::string& ws, const Json& req,
                                                 const TrackingCaller&) {
  const std::string new_name = StringField(req, "new_name");
  if (new_name.empty()) return Invalid("Missing value for required parameter 'new_name'.");
  if (new_name.size() > kMaxExperimentName) return Invalid("Experiment name too long.");
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Experiment e,
                          RequireExperiment(t, ws, StringField(req, "experiment_id")));
    if (e.lifecycle_stage != "active") {
      return Error(Reason::kMlflowInvalidState,
                   "Cannot rename a non-active experiment: restore it first.");
    }
    e.name = new_name;
    e.last_update_time = NowMillis();
    return t.PutExperiment(e);
  }));
  return Json::object();
}

Status TrackingService::SetExperimentStage(const std::string& ws, const Json& req,
                                           const std::string& stage) {
  return store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Experiment e,
                          RequireExperiment(t, ws, StringField(req, "experiment_id")));
    if (e.lifecycle_stage == stage) {
      return stage == "active" ? Error(Reason::kMlflowInvalidState,
                                       "Cannot restore an experiment that is not deleted.")
                               : Error(Reason::kMlflowInvalidState,
                                       "The experiment is already deleted.");
    }
    const int64_t now = NowMillis();
    e.lifecycle_stage = stage;
    e.last_update_time = now;
    TARN_RETURN_IF_ERROR(t.PutExperiment(e));
    // Its runs follow it, as in MLflow.
    RunQuery rq;
    rq.ws = ws;
    rq.experiment_ids = {e.id};
    rq.view = stage == "active" ? ViewType::kDeletedOnly : ViewType::kActiveOnly;
    TARN_ASSIGN_OR_RETURN(auto runs, t.SearchRuns(rq));
    for (RunInfo& r : runs) {
      r.lifecycle_stage = stage;
      r.deleted_time = stage == "deleted" ? std::optional<int64_t>(now) : std::nullopt;
      TARN_RETURN_IF_ERROR(t.PutRun(r));
    }
    return Status::Ok();
  });
}

StatusOr<Json> TrackingService::DeleteExperiment(const std::string& ws, const Json& req,
                                                 const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(SetExperimentStage(ws, req, "deleted"));
  return Json::object();
}

StatusOr<Json> TrackingService::RestoreExperiment(const std::string& ws, const Json& req,
                                                  const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(SetExperimentStage(ws, req, "active"));
  return Json::object();
}

StatusOr<Json> TrackingService::SetExperimentTag(const std::string& ws, const Json& req,
                                                 const TrackingCaller&) {
  const std::string key = StringField(req, "key");
  const std::string value = StringField(req, "value");
  TARN_RETURN_IF_ERROR(CheckKey("experiment tag", key));
  if (value.size() > kMaxExperimentTagValue) return Invalid("Experiment tag value too long.");
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Experiment e,
                          RequireExperiment(t, ws, StringField(req, "experiment_id")));
    if (e.lifecycle_stage != "active") {
      return Error(Reason::kMlflowInvalidState, "The experiment is deleted: restore it first.");
    }
    auto it = std::find_if(e.tags.begin(), e.tags.end(), [&](auto& kv) { return kv.first == key; });
    if (it != e.tags.end()) {
      it->second = value;
    } else {
      e.tags.emplace_back(key, value);
    }
    return t.PutExperiment(e);
  }));
  return Json::object();
}

// ----- runs -------------------------------------------------------------------------------

StatusOr<Json> TrackingService::CreateRun(const std::string& ws, const Json& req,
                                          const TrackingCaller& who) {
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags"));
  for (const auto& [k, v] : tags) TARN_RETURN_IF_ERROR(CheckTag(k, v));
  RunInfo r;
  r.ws = ws;
  r.run_id = NewRunId();
  r.user_id = StringField(req, "user_id");
  if (r.user_id.empty()) r.user_id = who.user;
  TARN_ASSIGN_OR_RETURN(r.start_time, IntField(req, "start_time", NowMillis()));
  r.run_name = StringField(req, "run_name");
  for (const auto& [k, v] : tags) {
    if (k == "mlflow.runName" && r.run_name.empty()) r.run_name = v;
  }
  if (r.run_name.empty()) r.run_name = NewRunName();
  std::string exp_id = StringField(req, "experiment_id");
  if (exp_id.empty()) exp_id = "0";
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    if (exp_id == "0") TARN_RETURN_IF_ERROR(EnsureDefaultExperiment(t, ws));
    TARN_ASSIGN_OR_RETURN(Experiment e, RequireExperiment(t, ws, exp_id));
    if (e.lifecycle_stage != "active") {
      return Invalid("The experiment " + exp_id + " must be in the 'active' state. Current "
                     "state is deleted.");
    }
    r.experiment_id = e.id;
    r.artifact_uri = e.artifact_location + "/" + r.run_id + "/artifacts";
    TARN_RETURN_IF_ERROR(t.PutRun(r));
    bool named = false;
    for (const auto& [k, v] : tags) {
      named = named || k == "mlflow.runName";
      TARN_RETURN_IF_ERROR(t.SetTag(r.run_id, k, k == "mlflow.runName" ? r.run_name : v));
    }
    if (!named) TARN_RETURN_IF_ERROR(t.SetTag(r.run_id, "mlflow.runName", r.run_name));
    if (!r.user_id.empty()) TARN_RETURN_IF_ERROR(t.SetTag(r.run_id, "mlflow.user", r.user_id));
    TARN_ASSIGN_OR_RETURN(Json run, RunJson(t, r));
    out = Json{{"run", std::move(run)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetRun(const std::string& ws, const Json& req,
                                       const TrackingCaller&) {
  std::string id = StringField(req, "run_id");
  if (id.empty()) id = StringField(req, "run_uuid");
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(RunInfo r, RequireRun(t, ws, id));
    TARN_ASSIGN_OR_RETURN(Json run, RunJson(t, r));
    out = Json{{"run", std::move(run)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::UpdateRun(const std::string& ws, const Json& req,
                                          const TrackingCaller&) {
  std::string id = StringField(req, "run_id");
  if (id.empty()) id = StringField(req, "run_uuid");
  const std::string status = StringField(req, "status");
  if (!status.empty() && !ValidRunStatus(status)) {
    return Invalid("Invalid run status '" + status +
                   "': use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.");
  }
  const std::string name = StringField(req, "run_name");
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(RunInfo r, RequireActiveRun(t, ws, id));
    if (!status.empty()) r.status = status;
    if (req.contains("end_time")) {
      TARN_ASSIGN_OR_RETURN(int64_t end, IntField(req, "end_time", 0));
      r.end_time = end;
    }
    if (!name.empty()) {
      r.run_name = name;
      TARN_RETURN_IF_ERROR(t.SetTag(r.run_id, "mlflow.runName", name));
    }
    TARN_RETURN_IF_ERROR(t.PutRun(r));
    out = Json{{"run_info", RunInfoToJson(r)}};
    return Status::Ok();
  }));
  return out;
}

Status TrackingService::SetRunStage(const std::string& ws, const Json& req,
                                    const std::string& stage) {
  return store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(RunInfo r, RequireRun(t, ws, StringField(req, "run_id")));
    if (stage == "active") {
      TARN_ASSIGN_OR_RETURN(auto e, t.GetExperiment(ws, r.experiment_id));
      if (e && e->lifecycle_stage != "active") {
        return Error(Reason::kMlflowInvalidState,
                     "The run's experiment is deleted: restore the experiment first.");
      }
    }
    r.lifecycle_stage = stage;
    r.deleted_time = stage == "deleted" ? std::optional<int64_t>(NowMillis()) : std::nullopt;
    return t.PutRun(r);
  });
}

StatusOr<Json> TrackingService::DeleteRun(const std::string& ws, const Json& req,
                                          const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(SetRunStage(ws, req, "deleted"));
  return Json::object();
}

StatusOr<Json> TrackingService::RestoreRun(const std::string& ws, const Json& req,
                                           const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(SetRunStage(ws, req, "active"));
  return Json::object();
}

StatusOr<Json> TrackingService::SearchRuns(const std::string& ws, const Json& req,
                                           const TrackingCaller&) {
  RunQuery q;
  q.ws = ws;
  for (const std::string& id : StringList(req, "experiment_ids")) {
    TARN_ASSIGN_OR_RETURN(int64_t n, ExperimentIdOf(id));
    q.experiment_ids.push_back(n);
  }
  TARN_ASSIGN_OR_RETURN(q.view, ViewOf(req, "run_view_type"));
  TARN_ASSIGN_OR_RETURN(int64_t max, IntField(req, "max_results", 1000));
  if (max <= 0 || max > kMaxSearchRuns) {
    return Invalid("Invalid value " + std::to_string(max) +
                   " for parameter 'max_results' supplied: it must be at most " +
                   std::to_string(kMaxSearchRuns) + ".");
  }
  TARN_ASSIGN_OR_RETURN(q.offset, PageOffset(req));
  TARN_ASSIGN_OR_RETURN(q.filter, ParseRunFilter(StringField(req, "filter")));
  for (const std::string& o : StringList(req, "order_by")) {
    TARN_ASSIGN_OR_RETURN(OrderBy ob, ParseRunOrderBy(o));
    q.order.push_back(std::move(ob));
  }
  q.limit = max + 1;
  Json out = Json::object();
  out["runs"] = Json::array();
  if (q.experiment_ids.empty()) return out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto runs, t.SearchRuns(q));
    for (size_t i = 0; i < runs.size() && static_cast<int64_t>(i) < max; ++i) {
      TARN_ASSIGN_OR_RETURN(Json run, RunJson(t, runs[i]));
      out["runs"].push_back(std::move(run));
    }
    if (static_cast<int64_t>(runs.size()) > max) {
      out["next_page_token"] = std::to_string(q.offset + max);
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::LogMetric(const std::string& ws, const Json& req,
                                          const TrackingCaller&) {
  std::string id = StringField(req, "run_id");
  if (id.empty()) id = StringField(req, "run_uuid");
  TARN_ASSIGN_OR_RETURN(Metric m, MetricOf(req));
  TARN_RETURN_IF_ERROR(CheckKey("metric", m.key));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireActiveRun(t, ws, id).status());
    return t.LogMetrics(id, {m});
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::LogParam(const std::string& ws, const Json& req,
                                         const TrackingCaller&) {
  std::string id = StringField(req, "run_id");
  if (id.empty()) id = StringField(req, "run_uuid");
  const std::string key = StringField(req, "key");
  const std::string value = StringField(req, "value");
  TARN_RETURN_IF_ERROR(CheckParam(key, value));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireActiveRun(t, ws, id).status());
    TARN_ASSIGN_OR_RETURN(auto old, t.GetParam(id, key));
    if (old && *old != value) {
      return Invalid("Changing param values is not allowed. Param with key='" + key +
                     "' was already logged with value='" + *old +
                     "' for run ID='" + id + "'. Attempted logging new value '" + value + "'.");
    }
    return old ? Status::Ok() : t.PutParam(id, key, value);
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::SetTag(const std::string& ws, const Json& req,
                                       const TrackingCaller&) {
  std::string id = StringField(req, "run_id");
  if (id.empty()) id = StringField(req, "run_uuid");
  const std::string key = StringField(req, "key");
  const std::string value = StringField(req, "value");
  TARN_RETURN_IF_ERROR(CheckTag(key, value));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(RunInfo r, RequireActiveRun(t, ws, id));
    if (key == "mlflow.runName" && r.run_name != value) {
      r.run_name = value;
      TARN_RETURN_IF_ERROR(t.PutRun(r));
    }
    return t.SetTag(id, key, value);
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::DeleteTag(const std::string& ws, const Json& req,
                                          const TrackingCaller&) {
  const std::string id = StringField(req, "run_id");
  const std::string key = StringField(req, "key");
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireActiveRun(t, ws, id).status());
    TARN_ASSIGN_OR_RETURN(bool gone, t.DeleteTag(id, key));
    if (!gone) {
      return Missing("No tag with name: " + key + " in run with id " + id);
    }
    return Status::Ok();
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::LogBatch(const std::string& ws, const Json& req,
                                         const TrackingCaller&) {
  const std::string id = StringField(req, "run_id");
  const Json empty = Json::array();
  const Json& metrics = req.contains("metrics") ? req["metrics"] : empty;
  const Json& params = req.contains("params") ? req["params"] : empty;
  const Json& tags = req.contains("tags") ? req["tags"] : empty;
  if (!metrics.is_array() || !params.is_array() || !tags.is_array()) {
    return Invalid("metrics, params and tags must be lists.");
  }
  if (metrics.size() > kMaxMetricsPerBatch) {
    return Invalid("A batch logging request can contain at most " +
                   std::to_string(kMaxMetricsPerBatch) + " metrics. Got " +
                   std::to_string(metrics.size()) + " metrics. Please split up metrics across "
                   "multiple requests and try again.");
  }
  if (params.size() > kMaxParamsTagsPerBatch) {
    return Invalid("A batch logging request can contain at most " +
                   std::to_string(kMaxParamsTagsPerBatch) + " params. Got " +
                   std::to_string(params.size()) + " params.");
  }
  if (tags.size() > kMaxParamsTagsPerBatch) {
    return Invalid("A batch logging request can contain at most " +
                   std::to_string(kMaxParamsTagsPerBatch) + " tags. Got " +
                   std::to_string(tags.size()) + " tags.");
  }
  if (metrics.size() + params.size() + tags.size() > kMaxEntitiesPerBatch) {
    return Invalid("A batch logging request can contain at most " +
                   std::to_string(kMaxEntitiesPerBatch) + " metrics, params and tags in total.");
  }
  std::vector<Metric> ms;
  ms.reserve(metrics.size());
  for (const Json& m : metrics) {
    TARN_ASSIGN_OR_RETURN(Metric metric, MetricOf(m));
    TARN_RETURN_IF_ERROR(CheckKey("metric", metric.key));
    ms.push_back(std::move(metric));
  }
  TARN_ASSIGN_OR_RETURN(auto ps, KeyValues(req, "params"));
  std::set<std::string> seen;
  for (const auto& [k, v] : ps) {
    TARN_RETURN_IF_ERROR(CheckParam(k, v));
    if (!seen.insert(k).second) {
      return Invalid("Duplicate parameter keys have been submitted: ['" + k +
                     "']. Please ensure the request contains only one param value per param "
                     "key.");
    }
  }
  TARN_ASSIGN_OR_RETURN(auto ts, KeyValues(req, "tags"));
  for (const auto& [k, v] : ts) TARN_RETURN_IF_ERROR(CheckTag(k, v));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(RunInfo r, RequireActiveRun(t, ws, id));
    for (const auto& [k, v] : ps) {
      TARN_ASSIGN_OR_RETURN(auto old, t.GetParam(id, k));
      if (old && *old != v) {
        return Invalid("Changing param values is not allowed. Param with key='" + k +
                       "' was already logged with value='" + *old + "' for run ID='" + id +
                       "'. Attempted logging new value '" + v + "'.");
      }
      if (!old) TARN_RETURN_IF_ERROR(t.PutParam(id, k, v));
    }
    TARN_RETURN_IF_ERROR(t.LogMetrics(id, ms));
    for (const auto& [k, v] : ts) {
      if (k == "mlflow.runName" && r.run_name != v) {
        r.run_name = v;
        TARN_RETURN_IF_ERROR(t.PutRun(r));
      }
      TARN_RETURN_IF_ERROR(t.SetTag(id, k, v));
    }
    return Status::Ok();
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::LogInputs(const std::string& ws, const Json& req,
                                          const TrackingCaller&) {
  const std::string id = StringField(req, "run_id");
  std::vector<RunInput> inputs;
  if (req.contains("datasets")) {
    if (!req["datasets"].is_array()) return Invalid("datasets must be a list.");
    if (req["datasets"].size() > 1000) {
      return Invalid("A request can contain at most 1000 dataset inputs.");
    }
    for (const Json& d : req["datasets"]) {
      TARN_ASSIGN_OR_RETURN(RunInput in, DatasetInputOf(d));
      inputs.push_back(std::move(in));
    }
  }
  std::vector<std::string> models;
  if (req.contains("models") && req["models"].is_array()) {
    for (const Json& m : req["models"]) models.push_back(StringField(m, "model_id"));
  }
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireActiveRun(t, ws, id).status());
    TARN_ASSIGN_OR_RETURN(RunData d, t.GetRunData(id));
    for (const RunInput& in : inputs) {
      bool known = std::any_of(d.inputs.begin(), d.inputs.end(), [&](const RunInput& o) {
        return o.name == in.name && o.digest == in.digest && o.context == in.context;
      });
      if (!known) TARN_RETURN_IF_ERROR(t.AddInput(id, in));
    }
    for (const std::string& m : models) {
      TARN_RETURN_IF_ERROR(t.AddInput(id, RunInput{"", "", "model", Json{{"model_id", m}}.dump()}));
    }
    return Status::Ok();
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::LogOutputs(const std::string& ws, const Json& req,
                                           const TrackingCaller&) {
  const std::string id = StringField(req, "run_id");
  Json models = Json::array();
  if (req.contains("models") && req["models"].is_array()) {
    for (const Json& m : req["models"]) {
      TARN_ASSIGN_OR_RETURN(int64_t step, IntField(m, "step", 0));
      models.push_back(Json{{"model_id", StringField(m, "model_id")}, {"step", step}});
    }
  }
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireActiveRun(t, ws, id).status());
    TARN_ASSIGN_OR_RETURN(auto old, t.GetDoc("run_outputs", ws, id));
    Json all = old ? Json::parse(*old) : Json::array();
    for (auto& m : models) all.push_back(m);
    return t.PutDoc("run_outputs", ws, id, all.dump());
  }));
  return Json::object();
}

StatusOr<std::string> TrackingService::GetMetricHistoryText(const std::string& ws,
                                                            const Json& req,
                                                            const TrackingCaller&) {
  std::string id = StringField(req, "run_id");
  if (id.empty()) id = StringField(req, "run_uuid");
  const std::string key = StringField(req, "metric_key");
  if (key.empty()) return Invalid("Missing value for required parameter 'metric_key'.");
  TARN_ASSIGN_OR_RETURN(int64_t max, IntField(req, "max_results", 0));
  if (max < 0 || max > kMaxHistoryPage) return Invalid("max_results is out of range.");
  TARN_ASSIGN_OR_RETURN(int64_t offset, PageOffset(req));
  std::string out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireRun(t, ws, id).status());
    TARN_ASSIGN_OR_RETURN(auto points, t.MetricHistory(id, key, max > 0 ? max + 1 : 0, offset));
    const bool more = max > 0 && static_cast<int64_t>(points.size()) > max;
    if (more) points.pop_back();
    out = MetricsText(points, more ? std::to_string(offset + max) : "");
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetMetricHistory(const std::string& ws, const Json& req,
                                                 const TrackingCaller& who) {
  TARN_ASSIGN_OR_RETURN(std::string text, GetMetricHistoryText(ws, req, who));
  return Json::parse(text);
}

// ----- artifacts --------------------------------------------------------------------------

StatusOr<catalog::WriteTarget> TrackingService::ArtifactTarget(const std::string& ws,
                                                               const TrackingCaller& who,
                                                               bool for_write) {
  if (!catalog_) return Error(Reason::kNotImplemented, "this server has no workspace catalog");
  auto def = catalog_->GetDefaultDatastore(ws);
  if (!def.ok() || !def->is_object() || StringField(*def, "name").empty()) {
    return Error(Reason::kMlflowInvalidState,
                 "workspace '" + ws + "' has no default datastore, where run artifacts are "
                 "kept: register one (tarn datastore register) and make it the default "
                 "(tarn datastore set-default).");
  }
  return catalog_->AuthorizeWrite(ws, StringField(*def, "name"), kArtifactFolder,
                                  for_write ? who.as : catalog::ReadAs{});
}

}  // namespace tarn::tracking
