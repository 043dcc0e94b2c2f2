// The model side of TrackingService: MLflow 3's logged models, registered models and their
// versions, kept as documents in the tracking store.
#include <algorithm>
#include <cstdio>
#include <map>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tracking/tracking_json.h"
#include "tracking/tracking_service.h"

namespace tarn::tracking {

using namespace tracking_json;  // NOLINT

namespace {

constexpr char kLoggedModel[] = "logged_model";
constexpr char kRegisteredModel[] = "registered_model";
constexpr char kModelVersion[] = "model_version";
constexpr size_t kMaxModelTagKey = 250;
constexpr size_t kMaxModelTagValue = 100000;
constexpr size_t kMaxAlias = 255;

// A logged model's id: "m-" and 32 hex digits.
std::string NewModelId() { return "m-" + HexEncode(RandomBytes(16)); }


// A version's key sorts in version order under its model's name.
std::string VersionKey(const std::string& name, int64_t version) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%012lld", static_cast<long long>(version));
  return name + '\x1f' + buf;
}
std::string VersionPrefix(const std::string& name) { return name + '\x1f'; }

StatusOr<int64_t> VersionOf(const Json& req) {
  std::string v = StringField(req, "version");
  int64_t n = 0;
  if (!ParseInt64(v, &n) || n <= 0) {
    return Invalid("Model version must be a positive integer, got '" + v + "'.");
  }
  return n;
}

Status CheckModelName(const std::string& name) {
  if (name.empty()) return Invalid("Registered model name cannot be empty.");
  if (name.size() > 256 || name.find('/') != std::string::npos ||
      name.find('\x1f') != std::string::npos) {
    return Invalid("Invalid registered model name '" + name +
                   "': at most 256 characters, without '/'.");
  }
  return Status::Ok();
}

Status CheckModelTag(const std::string& key, const std::string& value) {
  if (key.empty() || key.size() > kMaxModelTagKey) {
    return Invalid("Tag key must be 1 to " + std::to_string(kMaxModelTagKey) + " characters.");
  }
  if (value.size() > kMaxModelTagValue) {
    return Invalid("Tag value exceeds the maximum length of " +
                   std::to_string(kMaxModelTagValue) + " characters.");
  }
  return Status::Ok();
}

Json TagsJson(const std::vector<KeyValue>& tags) {
  Json out = Json::array();
  for (const auto& [k, v] : tags) out.push_back(Json{{"key", k}, {"value", v}});
  return out;
}

void SetTagIn(Json& doc, const std::string& key, const std::string& value) {
  Json& tags = doc["tags"];
  if (!tags.is_array()) tags = Json::array();
  for (Json& t : tags) {
    if (t.value("key", "") == key) {
      t["value"] = value;
      return;
    }
  }
  tags.push_back(Json{{"key", key}, {"value", value}});
}

bool RemoveTagIn(Json& doc, const std::string& key) {
  Json& tags = doc["tags"];
  if (!tags.is_array()) return false;
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    if (it->value("key", "") == key) {
      tags.erase(it);
      return true;
    }
  }
  return false;
}

// The model filters MLflow's clients send: name, run_id, source_path, version_number.
Status CheckKeys(const std::vector<FieldClause>& clauses, const std::string& filter) {
  for (const auto& c : clauses) {
    if (c.key != "name" && c.key != "run_id" && c.key != "source_path" &&
        c.key != "version_number" && !StartsWith(c.key, "tags.")) {
      return Invalid("Invalid model filter '" + filter + "': unknown key '" + c.key +
                     "'. Use name, run_id, source_path, version_number or tags.<key>.");
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<FieldClause>> ParseVersionFilter(const std::string& filter) {
  TARN_ASSIGN_OR_RETURN(auto clauses, ParseFieldFilter(filter, "model filter"));
  TARN_RETURN_IF_ERROR(CheckKeys(clauses, filter));
  return clauses;
}

bool Matches(const std::vector<FieldClause>& clauses, const Json& mv) {
  for (const auto& c : clauses) {
    if (StartsWith(c.key, "tags.")) {
      // A missing tag is "": it matches `!=` (the client adds tags.x != 'true' to every
      // registered-model search, to leave prompts out).
      std::string v;
      for (const Json& t : mv.value("tags", Json::array())) {
        if (t.value("key", "") == c.key.substr(5)) v = t.value("value", "");
      }
      if (!ClauseHolds(c, v)) return false;
      continue;
    }
    std::string v = c.key == "name"             ? mv.value("name", "")
                    : c.key == "run_id"         ? mv.value("run_id", "")
                    : c.key == "version_number" ? mv.value("version", "")
                                                : mv.value("source", "");
    if (!ClauseHolds(c, v)) return false;
  }
  return true;
}

StatusOr<Json> LoadDoc(TrackingTxn& t, const char* kind, const std::string& ws,
                       const std::string& key, const std::string& missing) {
  TARN_ASSIGN_OR_RETURN(auto doc, t.GetDoc(kind, ws, key));
  if (!doc) return Error(Reason::kMlflowResourceDoesNotExist, missing);
  return Json::parse(*doc);
}

StatusOr<Json> LoadRegisteredModel(TrackingTxn& t, const std::string& ws, const std::string& name) {
  return LoadDoc(t, kRegisteredModel, ws, name, "Registered Model with name=" + name + " not found");
}

StatusOr<Json> LoadVersion(TrackingTxn& t, const std::string& ws, const std::string& name,
                           int64_t version) {
  return LoadDoc(t, kModelVersion, ws, VersionKey(name, version),
                 "Model Version (name=" + name + ", version=" + std::to_string(version) +
                     ") not found");
}

StatusOr<Json> LoadLoggedModel(TrackingTxn& t, const std::string& ws, const std::string& id) {
  return LoadDoc(t, kLoggedModel, ws, id, "Logged model with ID '" + id + "' not found.");
}

std::string ModelIdOf(const Json& req) {
  std::string id = StringField(req, "model_id");
  return id;
}

}  // namespace

// ----- logged models ----------------------------------------------------------------------

StatusOr<Json> TrackingService::CreateLoggedModel(const std::string& ws, const Json& req,
                                                  const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags"));
  TARN_ASSIGN_OR_RETURN(auto params, KeyValues(req, "params"));
  for (const auto& [k, v] : tags) TARN_RETURN_IF_ERROR(CheckModelTag(k, v));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Experiment e,
                          RequireExperiment(t, ws, StringField(req, "experiment_id")));
    const std::string run = StringField(req, "source_run_id");
    if (!run.empty()) TARN_RETURN_IF_ERROR(RequireRun(t, ws, run).status());
    const std::string id = NewModelId();
    const int64_t now = NowMillis();
    std::string name = StringField(req, "name");
    if (name.empty()) name = "model";
    Json info{{"model_id", id},
              {"experiment_id", std::to_string(e.id)},
              {"name", name},
              {"creation_timestamp_ms", now},
              {"last_updated_timestamp_ms", now},
              {"artifact_uri", e.artifact_location + "/models/" + id + "/artifacts"},
              {"status", "LOGGED_MODEL_PENDING"},
              {"model_type", StringField(req, "model_type")},
              {"source_run_id", run},
              {"tags", TagsJson(tags)},
              {"registrations", Json::array()}};
    Json data{{"params", TagsJson(params)}, {"metrics", Json::array()}};
    Json model{{"info", std::move(info)}, {"data", std::move(data)}};
    TARN_RETURN_IF_ERROR(t.PutDoc(kLoggedModel, ws, id, model.dump()));
    out = Json{{"model", std::move(model)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetLoggedModel(const std::string& ws, const Json& req,
                                               const TrackingCaller&) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Json m, LoadLoggedModel(t, ws, ModelIdOf(req)));
    out = Json{{"model", std::move(m)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::FinalizeLoggedModel(const std::string& ws, const Json& req,
                                                    const TrackingCaller&) {
  std::string status = StringField(req, "status");
  if (status == "2") status = "LOGGED_MODEL_READY";
  if (status == "3") status = "LOGGED_MODEL_UPLOAD_FAILED";
  if (status != "LOGGED_MODEL_READY" && status != "LOGGED_MODEL_UPLOAD_FAILED") {
    return Invalid("A logged model is finalized as LOGGED_MODEL_READY or "
                   "LOGGED_MODEL_UPLOAD_FAILED, not '" + status + "'.");
  }
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string id = ModelIdOf(req);
    TARN_ASSIGN_OR_RETURN(Json m, LoadLoggedModel(t, ws, id));
    m["info"]["status"] = status;
    m["info"]["last_updated_timestamp_ms"] = NowMillis();
    TARN_RETURN_IF_ERROR(t.PutDoc(kLoggedModel, ws, id, m.dump()));
    out = Json{{"model", std::move(m)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::SetLoggedModelTags(const std::string& ws, const Json& req,
                                                   const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags"));
  for (const auto& [k, v] : tags) TARN_RETURN_IF_ERROR(CheckModelTag(k, v));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string id = ModelIdOf(req);
    TARN_ASSIGN_OR_RETURN(Json m, LoadLoggedModel(t, ws, id));
    for (const auto& [k, v] : tags) SetTagIn(m["info"], k, v);
    m["info"]["last_updated_timestamp_ms"] = NowMillis();
    TARN_RETURN_IF_ERROR(t.PutDoc(kLoggedModel, ws, id, m.dump()));
    out = Json{{"model", std::move(m)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::DeleteLoggedModel(const std::string& ws, const Json& req,
                                                  const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(bool gone, t.DeleteDoc(kLoggedModel, ws, ModelIdOf(req)));
    if (!gone) {
      return Error(Reason::kMlflowResourceDoesNotExist,
                   "Logged model with ID '" + ModelIdOf(req) + "' not found.");
    }
    return Status::Ok();
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::SearchLoggedModels(const std::string& ws, const Json& req,
                                                   const TrackingCaller&) {
  const std::vector<std::string> experiments = StringList(req, "experiment_ids");
  const std::string filter = std::string(Trim(StringField(req, "filter")));
  std::vector<FieldClause> clauses;
  // Logged-model filters name the model's own fields; Tarn serves name and source_run_id.
  if (!filter.empty()) {
    std::string f = filter;
    for (const char* from : {"source_run_id"}) {
      for (size_t at = f.find(from); at != std::string::npos; at = f.find(from, at + 6)) {
        f.replace(at, std::string(from).size(), "run_id");
      }
    }
    TARN_ASSIGN_OR_RETURN(clauses, ParseVersionFilter(f));
  }
  TARN_ASSIGN_OR_RETURN(int64_t max, IntField(req, "max_results", 100));
  TARN_ASSIGN_OR_RETURN(int64_t offset, IntField(req, "page_token", 0));
  Json out = Json::object();
  out["models"] = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto docs, t.ListDocs(kLoggedModel, ws, ""));
    std::vector<Json> hits;
    for (const auto& [id, text] : docs) {
      Json m = Json::parse(text);
      const Json& info = m["info"];
      if (!experiments.empty() &&
          std::find(experiments.begin(), experiments.end(), info.value("experiment_id", "")) ==
              experiments.end()) {
        continue;
      }
      Json probe{{"name", info.value("name", "")}, {"run_id", info.value("source_run_id", "")}};
      if (!Matches(clauses, probe)) continue;
      hits.push_back(std::move(m));
    }
    std::sort(hits.begin(), hits.end(), [](const Json& a, const Json& b) {
      return a["info"].value("creation_timestamp_ms", 0) > b["info"].value("creation_timestamp_ms", 0);
    });
    for (int64_t i = offset; i < static_cast<int64_t>(hits.size()) && i < offset + max; ++i) {
      out["models"].push_back(hits[i]);
    }
    if (offset + max < static_cast<int64_t>(hits.size())) {
      out["next_page_token"] = std::to_string(offset + max);
    }
    return Status::Ok();
  }));
  return out;
}

// ----- registered models ------------------------------------------------------------------

StatusOr<Json> TrackingService::ModelVersionJson(TrackingTxn& t, const std::string& ws, Json mv) {
  TARN_ASSIGN_OR_RETURN(auto rm, t.GetDoc(kRegisteredModel, ws, mv.value("name", "")));
  Json aliases = Json::array();
  if (rm) {
    Json r = Json::parse(*rm);
    for (const Json& a : r.value("aliases", Json::array())) {
      if (a.value("version", "") == mv.value("version", "")) aliases.push_back(a["alias"]);
    }
  }
  mv["aliases"] = std::move(aliases);
  return mv;
}

StatusOr<Json> TrackingService::RegisteredModelJson(TrackingTxn& t, const std::string& ws,
                                                    Json rm) {
  TARN_ASSIGN_OR_RETURN(auto versions,
                        t.ListDocs(kModelVersion, ws, VersionPrefix(rm.value("name", ""))));
  Json latest = Json::array();
  if (!versions.empty()) {
    TARN_ASSIGN_OR_RETURN(Json mv, ModelVersionJson(t, ws, Json::parse(versions.back().second)));
    latest.push_back(std::move(mv));
  }
  rm["latest_versions"] = std::move(latest);
  return rm;
}

StatusOr<Json> TrackingService::CreateRegisteredModel(const std::string& ws, const Json& req,
                                                      const TrackingCaller& who) {
  const std::string name = StringField(req, "name");
  TARN_RETURN_IF_ERROR(CheckModelName(name));
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags"));
  for (const auto& [k, v] : tags) TARN_RETURN_IF_ERROR(CheckModelTag(k, v));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto old, t.GetDoc(kRegisteredModel, ws, name));
    if (old) {
      return Error(Reason::kMlflowResourceAlreadyExists,
                   "Registered Model (name=" + name + ") already exists.");
    }
    const int64_t now = NowMillis();
    Json rm{{"name", name},
            {"creation_timestamp", now},
            {"last_updated_timestamp", now},
            {"user_id", who.user},
            {"description", StringField(req, "description")},
            {"tags", TagsJson(tags)},
            {"aliases", Json::array()}};
    TARN_RETURN_IF_ERROR(t.PutDoc(kRegisteredModel, ws, name, rm.dump()));
    TARN_ASSIGN_OR_RETURN(Json shown, RegisteredModelJson(t, ws, rm));
    out = Json{{"registered_model", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetRegisteredModel(const std::string& ws, const Json& req,
                                                   const TrackingCaller&) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, StringField(req, "name")));
    TARN_ASSIGN_OR_RETURN(Json shown, RegisteredModelJson(t, ws, rm));
    out = Json{{"registered_model", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::UpdateRegisteredModel(const std::string& ws, const Json& req,
                                                      const TrackingCaller&) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    if (req.contains("description")) rm["description"] = StringField(req, "description");
    rm["last_updated_timestamp"] = NowMillis();
    TARN_RETURN_IF_ERROR(t.PutDoc(kRegisteredModel, ws, name, rm.dump()));
    TARN_ASSIGN_OR_RETURN(Json shown, RegisteredModelJson(t, ws, rm));
    out = Json{{"registered_model", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::RenameRegisteredModel(const std::string& ws, const Json& req,
                                                      const TrackingCaller&) {
  const std::string name = StringField(req, "name");
  const std::string new_name = StringField(req, "new_name");
  TARN_RETURN_IF_ERROR(CheckModelName(new_name));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    TARN_ASSIGN_OR_RETURN(auto taken, t.GetDoc(kRegisteredModel, ws, new_name));
    if (taken) {
      return Error(Reason::kMlflowResourceAlreadyExists,
                   "Registered Model (name=" + new_name + ") already exists.");
    }
    TARN_ASSIGN_OR_RETURN(auto versions, t.ListDocs(kModelVersion, ws, VersionPrefix(name)));
    for (const auto& [key, text] : versions) {
      Json mv = Json::parse(text);
      mv["name"] = new_name;
      int64_t v = 0;
      ParseInt64(mv.value("version", "0"), &v);
      TARN_RETURN_IF_ERROR(t.DeleteDoc(kModelVersion, ws, key).status());
      TARN_RETURN_IF_ERROR(t.PutDoc(kModelVersion, ws, VersionKey(new_name, v), mv.dump()));
    }
    TARN_RETURN_IF_ERROR(t.DeleteDoc(kRegisteredModel, ws, name).status());
    rm["name"] = new_name;
    rm["last_updated_timestamp"] = NowMillis();
    TARN_RETURN_IF_ERROR(t.PutDoc(kRegisteredModel, ws, new_name, rm.dump()));
    TARN_ASSIGN_OR_RETURN(Json shown, RegisteredModelJson(t, ws, rm));
    out = Json{{"registered_model", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::DeleteRegisteredModel(const std::string& ws, const Json& req,
                                                      const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_RETURN_IF_ERROR(LoadRegisteredModel(t, ws, name).status());
    TARN_ASSIGN_OR_RETURN(auto versions, t.ListDocs(kModelVersion, ws, VersionPrefix(name)));
    for (const auto& kv : versions) {
      TARN_RETURN_IF_ERROR(t.DeleteDoc(kModelVersion, ws, kv.first).status());
    }
    return t.DeleteDoc(kRegisteredModel, ws, name).status();
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::SearchRegisteredModels(const std::string& ws, const Json& req,
                                                       const TrackingCaller&) {
  const std::string filter = std::string(Trim(StringField(req, "filter")));
  std::vector<FieldClause> clauses;
  if (!filter.empty()) {
    TARN_ASSIGN_OR_RETURN(clauses, ParseVersionFilter(filter));
  }
  TARN_ASSIGN_OR_RETURN(int64_t max, IntField(req, "max_results", 100));
  TARN_ASSIGN_OR_RETURN(int64_t offset, IntField(req, "page_token", 0));
  if (max <= 0 || max > 1000) return Invalid("max_results must be between 1 and 1000.");
  // order_by: name or last_updated_timestamp (alias timestamp), ASC or DESC; by name otherwise.
  std::string order_key = "name";
  bool descending = false;
  for (const std::string& o : StringList(req, "order_by")) {
    TARN_ASSIGN_OR_RETURN(OrderItem item, ParseOrderItem(o));
    if (item.key == "timestamp") item.key = "last_updated_timestamp";
    if (item.key != "name" && item.key != "last_updated_timestamp") {
      return Invalid("Invalid order_by clause '" + o +
                     "': order registered models by name or last_updated_timestamp.");
    }
    order_key = item.key;
    descending = !item.ascending;
  }
  Json out = Json::object();
  out["registered_models"] = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto docs, t.ListDocs(kRegisteredModel, ws, ""));
    std::vector<Json> hits;
    for (const auto& kv : docs) {
      Json rm = Json::parse(kv.second);
      if (Matches(clauses, rm)) hits.push_back(std::move(rm));
    }
    std::stable_sort(hits.begin(), hits.end(), [&](const Json& a, const Json& b) {
      bool less = order_key == "name"
                      ? a.value("name", "") < b.value("name", "")
                      : a.value("last_updated_timestamp", int64_t{0}) <
                            b.value("last_updated_timestamp", int64_t{0});
      bool more = order_key == "name"
                      ? b.value("name", "") < a.value("name", "")
                      : b.value("last_updated_timestamp", int64_t{0}) <
                            a.value("last_updated_timestamp", int64_t{0});
      return descending ? more : less;
    });
    for (int64_t i = offset; i < static_cast<int64_t>(hits.size()) && i < offset + max; ++i) {
      TARN_ASSIGN_OR_RETURN(Json shown, RegisteredModelJson(t, ws, std::move(hits[i])));
      out["registered_models"].push_back(std::move(shown));
    }
    if (offset + max < static_cast<int64_t>(hits.size())) {
      out["next_page_token"] = std::to_string(offset + max);
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetLatestVersions(const std::string& ws, const Json& req,
                                                  const TrackingCaller&) {
  Json out = Json::object();
  out["model_versions"] = Json::array();
  const std::vector<std::string> stages = StringList(req, "stages");
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_RETURN_IF_ERROR(LoadRegisteredModel(t, ws, name).status());
    TARN_ASSIGN_OR_RETURN(auto versions, t.ListDocs(kModelVersion, ws, VersionPrefix(name)));
    // The newest version of each stage asked for (all stages when none is named).
    std::map<std::string, Json> newest;
    for (const auto& kv : versions) {
      Json mv = Json::parse(kv.second);
      const std::string stage = mv.value("current_stage", "None");
      bool wanted = stages.empty();
      for (const auto& s : stages) wanted = wanted || EqualsIgnoreCase(s, stage);
      if (wanted) newest[stage] = std::move(mv);
    }
    for (auto& [stage, mv] : newest) {
      TARN_ASSIGN_OR_RETURN(Json shown, ModelVersionJson(t, ws, mv));
      out["model_versions"].push_back(std::move(shown));
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::SetRegisteredModelTag(const std::string& ws, const Json& req,
                                                      const TrackingCaller&) {
  const std::string key = StringField(req, "key");
  const std::string value = StringField(req, "value");
  TARN_RETURN_IF_ERROR(CheckModelTag(key, value));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    SetTagIn(rm, key, value);
    return t.PutDoc(kRegisteredModel, ws, name, rm.dump());
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::DeleteRegisteredModelTag(const std::string& ws, const Json& req,
                                                         const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    RemoveTagIn(rm, StringField(req, "key"));
    return t.PutDoc(kRegisteredModel, ws, name, rm.dump());
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::SetRegisteredModelAlias(const std::string& ws, const Json& req,
                                                        const TrackingCaller&) {
  const std::string alias = StringField(req, "alias");
  if (alias.empty() || alias.size() > kMaxAlias || EqualsIgnoreCase(alias, "latest") ||
      (alias.size() > 1 && (alias[0] == 'v' || alias[0] == 'V') &&
       std::all_of(alias.begin() + 1, alias.end(), [](char c) { return std::isdigit(c); })) ||
      !std::all_of(alias.begin(), alias.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      })) {
    return Invalid("Invalid alias name '" + alias + "': letters, digits, '_' and '-', at most " +
                   std::to_string(kMaxAlias) + " characters; not 'latest' nor v<number>.");
  }
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    TARN_RETURN_IF_ERROR(LoadVersion(t, ws, name, version).status());
    Json aliases = Json::array();
    for (const Json& a : rm.value("aliases", Json::array())) {
      if (a.value("alias", "") != alias) aliases.push_back(a);
    }
    aliases.push_back(Json{{"alias", alias}, {"version", std::to_string(version)}});
    rm["aliases"] = std::move(aliases);
    return t.PutDoc(kRegisteredModel, ws, name, rm.dump());
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::DeleteRegisteredModelAlias(const std::string& ws, const Json& req,
                                                           const TrackingCaller&) {
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    const std::string alias = StringField(req, "alias");
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    Json aliases = Json::array();
    for (const Json& a : rm.value("aliases", Json::array())) {
      if (a.value("alias", "") != alias) aliases.push_back(a);
    }
    rm["aliases"] = std::move(aliases);
    return t.PutDoc(kRegisteredModel, ws, name, rm.dump());
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::GetModelVersionByAlias(const std::string& ws, const Json& req,
                                                       const TrackingCaller&) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    const std::string alias = StringField(req, "alias");
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    for (const Json& a : rm.value("aliases", Json::array())) {
      if (a.value("alias", "") != alias) continue;
      int64_t v = 0;
      ParseInt64(a.value("version", "0"), &v);
      TARN_ASSIGN_OR_RETURN(Json mv, LoadVersion(t, ws, name, v));
      TARN_ASSIGN_OR_RETURN(Json shown, ModelVersionJson(t, ws, mv));
      out = Json{{"model_version", std::move(shown)}};
      return Status::Ok();
    }
    return Invalid("Registered model alias " + alias + " not found.");
  }));
  return out;
}

StatusOr<Json> TrackingService::CreateModelVersion(const std::string& ws, const Json& req,
                                                   const TrackingCaller& who) {
  const std::string name = StringField(req, "name");
  const std::string source = StringField(req, "source");
  if (source.empty()) return Invalid("Missing value for required parameter 'source'.");
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(req, "tags"));
  for (const auto& [k, v] : tags) TARN_RETURN_IF_ERROR(CheckModelTag(k, v));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    const std::string run = StringField(req, "run_id");
    if (!run.empty()) TARN_RETURN_IF_ERROR(RequireRun(t, ws, run).status());
    const std::string model_id = StringField(req, "model_id");
    TARN_ASSIGN_OR_RETURN(auto versions, t.ListDocs(kModelVersion, ws, VersionPrefix(name)));
    int64_t version = 1;
    if (!versions.empty()) {
      int64_t last = 0;
      ParseInt64(Json::parse(versions.back().second).value("version", "0"), &last);
      version = last + 1;
    }
    const int64_t now = NowMillis();
    Json mv{{"name", name},
            {"version", std::to_string(version)},
            {"creation_timestamp", now},
            {"last_updated_timestamp", now},
            {"user_id", who.user},
            {"current_stage", "None"},
            {"description", StringField(req, "description")},
            {"source", source},
            {"run_id", run},
            {"status", "READY"},
            {"tags", TagsJson(tags)},
            {"run_link", StringField(req, "run_link")}};
    if (!model_id.empty()) {
      TARN_ASSIGN_OR_RETURN(Json m, LoadLoggedModel(t, ws, model_id));
      mv["model_id"] = model_id;
      m["info"]["registrations"].push_back(
          Json{{"name", name}, {"version", std::to_string(version)}});
      TARN_RETURN_IF_ERROR(t.PutDoc(kLoggedModel, ws, model_id, m.dump()));
    }
    TARN_RETURN_IF_ERROR(t.PutDoc(kModelVersion, ws, VersionKey(name, version), mv.dump()));
    rm["last_updated_timestamp"] = now;
    TARN_RETURN_IF_ERROR(t.PutDoc(kRegisteredModel, ws, name, rm.dump()));
    TARN_ASSIGN_OR_RETURN(Json shown, ModelVersionJson(t, ws, mv));
    out = Json{{"model_version", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetModelVersion(const std::string& ws, const Json& req,
                                                const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Json mv, LoadVersion(t, ws, StringField(req, "name"), version));
    TARN_ASSIGN_OR_RETURN(Json shown, ModelVersionJson(t, ws, mv));
    out = Json{{"model_version", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::UpdateModelVersion(const std::string& ws, const Json& req,
                                                   const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json mv, LoadVersion(t, ws, name, version));
    if (req.contains("description")) mv["description"] = StringField(req, "description");
    mv["last_updated_timestamp"] = NowMillis();
    TARN_RETURN_IF_ERROR(t.PutDoc(kModelVersion, ws, VersionKey(name, version), mv.dump()));
    TARN_ASSIGN_OR_RETURN(Json shown, ModelVersionJson(t, ws, mv));
    out = Json{{"model_version", std::move(shown)}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::DeleteModelVersion(const std::string& ws, const Json& req,
                                                   const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_RETURN_IF_ERROR(LoadVersion(t, ws, name, version).status());
    TARN_RETURN_IF_ERROR(t.DeleteDoc(kModelVersion, ws, VersionKey(name, version)).status());
    // Aliases of the version go with it.
    TARN_ASSIGN_OR_RETURN(Json rm, LoadRegisteredModel(t, ws, name));
    Json aliases = Json::array();
    for (const Json& a : rm.value("aliases", Json::array())) {
      if (a.value("version", "") != std::to_string(version)) aliases.push_back(a);
    }
    rm["aliases"] = std::move(aliases);
    return t.PutDoc(kRegisteredModel, ws, name, rm.dump());
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::SearchModelVersions(const std::string& ws, const Json& req,
                                                    const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(auto clauses, ParseVersionFilter(StringField(req, "filter")));
  TARN_ASSIGN_OR_RETURN(int64_t max, IntField(req, "max_results", 10000));
  TARN_ASSIGN_OR_RETURN(int64_t offset, IntField(req, "page_token", 0));
  // A name = 'x' clause narrows the scan to that model's versions.
  std::string prefix;
  for (const auto& c : clauses) {
    if (c.key == "name" && c.op == "=") prefix = VersionPrefix(c.value);
  }
  Json out = Json::object();
  out["model_versions"] = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto docs, t.ListDocs(kModelVersion, ws, prefix));
    // Newest first, as MLflow orders them by default.
    std::reverse(docs.begin(), docs.end());
    int64_t seen = 0;
    for (const auto& kv : docs) {
      Json mv = Json::parse(kv.second);
      if (!Matches(clauses, mv)) continue;
      if (seen++ < offset) continue;
      if (static_cast<int64_t>(out["model_versions"].size()) == max) {
        out["next_page_token"] = std::to_string(offset + max);
        break;
      }
      TARN_ASSIGN_OR_RETURN(Json shown, ModelVersionJson(t, ws, mv));
      out["model_versions"].push_back(std::move(shown));
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::GetModelVersionDownloadUri(const std::string& ws, const Json& req,
                                                           const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Json mv, LoadVersion(t, ws, StringField(req, "name"), version));
    std::string source = mv.value("source", "");
    // models:/<model id> names a logged model: its artifacts are where it was logged.
    if (StartsWith(source, "models:/m-") && source.find('/', 8) == std::string::npos) {
      auto m = LoadLoggedModel(t, ws, source.substr(8));
      if (m.ok()) source = (*m)["info"].value("artifact_uri", source);
    } else if (StartsWith(source, "runs:/")) {
      std::string rest = source.substr(6);
      size_t slash = rest.find('/');
      auto run = t.GetRun(rest.substr(0, slash));
      if (run.ok() && *run && (*run)->ws == ws) {
        source = (*run)->artifact_uri + (slash == std::string::npos ? "" : rest.substr(slash));
      }
    }
    out = Json{{"artifact_uri", source}};
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> TrackingService::SetModelVersionTag(const std::string& ws, const Json& req,
                                                   const TrackingCaller&) {
  const std::string key = StringField(req, "key");
  const std::string value = StringField(req, "value");
  TARN_RETURN_IF_ERROR(CheckModelTag(key, value));
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json mv, LoadVersion(t, ws, name, version));
    SetTagIn(mv, key, value);
    return t.PutDoc(kModelVersion, ws, VersionKey(name, version), mv.dump());
  }));
  return Json::object();
}

StatusOr<Json> TrackingService::DeleteModelVersionTag(const std::string& ws, const Json& req,
                                                      const TrackingCaller&) {
  TARN_ASSIGN_OR_RETURN(int64_t version, VersionOf(req));
  TARN_RETURN_IF_ERROR(store_->Write([&](TrackingTxn& t) -> Status {
    const std::string name = StringField(req, "name");
    TARN_ASSIGN_OR_RETURN(Json mv, LoadVersion(t, ws, name, version));
    RemoveTagIn(mv, StringField(req, "key"));
    return t.PutDoc(kModelVersion, ws, VersionKey(name, version), mv.dump());
  }));
  return Json::object();
}

}  // namespace tarn::tracking
