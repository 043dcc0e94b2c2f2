// Lineage: each pipeline step's OpenLineage RunEvent (spec 2-0-2) kept in the catalog and POSTed
// to OPENLINEAGE_URL when set, and the graph of dataset versions those events make.
#include <algorithm>
#include <chrono>
#include <functional>
#include <set>

#include <spdlog/spdlog.h>

#include "client/http_connection.h"
#include "common/encoding.h"
#include "common/time_util.h"
#include "pipeline/pipeline_service.h"
#include "tabular/column_lineage.h"

namespace tarn::pipeline {
namespace {

constexpr const char* kProducer = kLineageProducer;
constexpr const char* kRunEventSchema = kLineageRunEventSchema;
constexpr char kFacetBase[] = "https://openlineage.io/spec/facets/";
constexpr int kMaxDepth = 25;
constexpr int64_t kLeafFiles = 20;

Json Facet(const std::string& schema) {
  return {{"_producer", kProducer}, {"_schemaURL", std::string(kFacetBase) + schema}};
}

std::string Namespace(const std::string& fs, const std::string& account) {
  return "abfss://" + fs + "@" + account + ".dfs.core.windows.net";
}


}  // namespace

std::string DatasetKey(const std::string& name, int64_t version) {
  return "dataset:" + name + ":" + std::to_string(version);
}

namespace {

constexpr size_t kMaxEventText = 4096;

Status BadEvent(const std::string& what) {
  return Error(Reason::kInvalidInput, "not an OpenLineage RunEvent: " + what);
}

// obj[key], a string of 1 to kMaxEventText characters of text: `tarn lineage` prints these
// names on terminals, so no control characters (no escape sequences).
StatusOr<std::string> EventText(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().size() > kMaxEventText) {
    return BadEvent(where + key + " must be a string of 1 to " + std::to_string(kMaxEventText) +
                    " characters");
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (!IsValidUtf8(text) || HasControlChar(text)) {
    return BadEvent(where + key + " must be text, without control characters");
  }
  return text;
}

StatusOr<std::vector<std::string>> EventKeys(const Json& event, const char* side) {
  std::vector<std::string> keys;
  auto it = event.find(side);
  if (it == event.end() || it->is_null()) return keys;
  if (!it->is_array()) return BadEvent(std::string(side) + " must be an array");
  if (it->size() > kMaxEventDatasets) {
    return BadEvent(std::string(side) + " holds more than " + std::to_string(kMaxEventDatasets) +
                    " datasets");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& d = (*it)[i];
    const std::string where = std::string(side) + "[" + std::to_string(i) + "].";
    if (!d.is_object()) return BadEvent(where + " must be an object");
    TARN_ASSIGN_OR_RETURN(std::string ns, EventText(d, "namespace", where));
    TARN_ASSIGN_OR_RETURN(std::string name, EventText(d, "name", where));
    const Json facets = d.value("facets", Json::object());
    if (!facets.is_object()) return BadEvent(where + "facets must be an object");
    if (facets.contains("tarn_dataset")) {
      const Json& t = facets["tarn_dataset"];
      if (!t.is_object()) return BadEvent(where + "facets.tarn_dataset must be an object");
      TARN_ASSIGN_OR_RETURN(std::string dataset, EventText(t, "name", where + "tarn_dataset."));
      const Json v = t.value("version", Json());
      if (!v.is_number_integer() || v.get<int64_t>() < 1) {
        return BadEvent(where + "facets.tarn_dataset.version must be a positive integer");
      }
      keys.push_back(DatasetKey(dataset, v.get<int64_t>()));
    } else {
      keys.push_back("path:" + ns + "/" + name);
    }
  }
  return keys;
}

}  // namespace

StatusOr<catalog::LineageRecord> LineageRecordOf(const std::string& ws, const Json& event) {
  if (!event.is_object()) return BadEvent("the body must be a JSON object");
  TARN_ASSIGN_OR_RETURN(std::string type, EventText(event, "eventType", ""));
  static const std::set<std::string> kTypes = {"START", "RUNNING", "COMPLETE",
                                               "ABORT", "FAIL",    "OTHER"};
  if (!kTypes.count(type)) {
    return BadEvent("eventType must be START, RUNNING, COMPLETE, ABORT, FAIL or OTHER");
  }
  TARN_ASSIGN_OR_RETURN(std::string time, EventText(event, "eventTime", ""));
  const std::optional<int64_t> at = ParseIso8601(time);
  if (!at) return BadEvent("eventTime must be an ISO 8601 time, as 2026-12-07T05:00:00Z");
  TARN_RETURN_IF_ERROR(EventText(event, "producer", "").status());
  TARN_RETURN_IF_ERROR(EventText(event, "schemaURL", "").status());
  const Json run = event.value("run", Json());
  const Json job = event.value("job", Json());
  if (!run.is_object() || !job.is_object()) return BadEvent("run and job must be objects");
  TARN_ASSIGN_OR_RETURN(std::string run_id, EventText(run, "runId", "run."));
  TARN_RETURN_IF_ERROR(EventText(job, "namespace", "job.").status());
  TARN_RETURN_IF_ERROR(EventText(job, "name", "job.").status());
  TARN_ASSIGN_OR_RETURN(auto inputs, EventKeys(event, "inputs"));
  TARN_ASSIGN_OR_RETURN(auto outputs, EventKeys(event, "outputs"));
  return catalog::LineageRecord{run_id + ":" + type, ws, *at, std::move(inputs),
                                std::move(outputs), event.dump()};
}

Status PipelineService::RecordEvent(const std::string& ws, const Json& event) {
  TARN_RETURN_IF_ERROR(catalog_->GetWorkspace(ws).status());
  TARN_ASSIGN_OR_RETURN(catalog::LineageRecord rec, LineageRecordOf(ws, event));
  TARN_RETURN_IF_ERROR(store_->Write([&](catalog::CatalogTxn& t) { return t.PutLineage(rec); }));
  PostLineage(event);
  return Status::Ok();
}

StatusOr<Json> PipelineService::LineageDataset(const std::string& ws, const std::string& name,
                                               int64_t version) {
  TARN_ASSIGN_OR_RETURN(Json v, catalog_->GetVersion(ws, name, std::to_string(version)));
  const Json paths = v["definition"].value("paths", Json::array());
  std::string ns = "tarn:" + ws, path = name;
  if (!paths.empty() && paths[0].is_object() && paths[0].contains("datastore")) {
    auto d = catalog_->GetDatastore(ws, paths[0].value("datastore", ""));
    if (d.ok()) {
      ns = Namespace(d->value("filesystem", ""), d->value("account_name", ""));
      path = paths[0].value("path", "");
    }
  } else if (!paths.empty() && paths[0].is_object()) {
    path = paths[0].value("url", name);
  }
  Json fields = Json::array();
  for (const Json& c : v.value("schema", Json::array())) {
    fields.push_back({{"name", c.value("name", "")}, {"type", c.value("type", "")}});
  }
  Json facets{{"schema", Facet("1-1-1/SchemaDatasetFacet.json")},
              {"dataSource", Facet("1-0-1/DatasourceDatasetFacet.json")},
              {"version", Facet("1-0-1/DatasetVersionDatasetFacet.json")},
              {"tarn_dataset",
               {{"_producer", kProducer},
                {"_schemaURL", std::string(kProducer) + "#tarn_dataset"},
                {"name", name},
                {"version", version},
                {"id", v.value("id", "")}}}};
  facets["schema"]["fields"] = fields;
  facets["dataSource"]["name"] = ns;
  facets["dataSource"]["uri"] = ns;
  facets["version"]["datasetVersion"] = std::to_string(version);
  if (v.contains("row_count")) {
    facets["dataQualityMetrics"] = Facet("1-0-2/DataQualityMetricsInputDatasetFacet.json");
    facets["dataQualityMetrics"]["rowCount"] = v.value("row_count", int64_t{0});
    facets["dataQualityMetrics"]["columnMetrics"] = Json::object();
  }
  return Json{{"namespace", ns}, {"name", path}, {"facets", facets}};
}

void PipelineService::RecordStepLineage(const std::string& ws, const std::string& pipeline,
                                        const std::string& run_id, const Step& step,
                                        const Json& sd) {
  const bool ok = sd.value("status", "") == "succeeded";
  Json event{{"eventType", ok ? "COMPLETE" : "FAIL"},
             {"eventTime", FormatIso8601(NowMicros())},
             {"producer", kProducer},
             {"schemaURL", kRunEventSchema}};
  const std::string step_run = sd.value("lineage_run_id", run_id);
  event["run"] = {{"runId", step_run},
                  {"facets",
                   {{"parent",
                     {{"_producer", kProducer},
                      {"_schemaURL", std::string(kFacetBase) + "1-1-0/ParentRunFacet.json"},
                      {"run", {{"runId", run_id}}},
                      {"job", {{"namespace", "tarn/" + ws}, {"name", pipeline}}}}}}}};
  event["job"] = {{"namespace", "tarn/" + ws}, {"name", pipeline + "." + step.name}};
  if (!ok) {
    event["run"]["facets"]["errorMessage"] = Facet("1-0-1/ErrorMessageRunFacet.json");
    event["run"]["facets"]["errorMessage"]["message"] = sd.value("error", "");
    event["run"]["facets"]["errorMessage"]["programmingLanguage"] = "SQL";
  }
  std::vector<std::string> in_keys, out_keys;
  Json inputs = Json::array();
  std::map<std::string, Json> by_alias;  // input alias -> its OpenLineage dataset
  std::map<std::string, std::vector<std::string>> columns;
  for (const Json& in : sd.value("inputs", Json::array())) {
    const std::string name = in.value("dataset", "");
    const int64_t version = in.value("version", int64_t{0});
    auto d = LineageDataset(ws, name, version);
    if (!d.ok()) continue;
    in_keys.push_back(DatasetKey(name, version));
    by_alias[in.value("alias", "")] = *d;
    for (const Json& f : (*d)["facets"]["schema"]["fields"]) {
      columns[in.value("alias", "")].push_back(f.value("name", ""));
    }
    inputs.push_back(*d);
  }
  event["inputs"] = inputs;
  Json outputs = Json::array();
  const Json out = sd.value("output", Json::object());
  if (ok && out.contains("version")) {
    const std::string name = out.value("dataset", "");
    const int64_t version = out.value("version", int64_t{0});
    auto d = LineageDataset(ws, name, version);
    if (d.ok()) {
      out_keys.push_back(DatasetKey(name, version));
      // Column lineage where the SQL makes it plain.
      auto lineage = tabular::ColumnLineage(step.sql, columns);
      if (lineage.ok() && !lineage->empty()) {
        Json fields = Json::object();
        for (const tabular::OutputColumn& c : *lineage) {
          Json from = Json::array();
          for (const tabular::ColumnOrigin& o : c.from) {
            const Json& src = by_alias[o.input];
            from.push_back({{"namespace", src.value("namespace", "")},
                            {"name", src.value("name", "")},
                            {"field", o.column},
                            {"transformations",
                             Json::array({{{"type", "DIRECT"}, {"subtype", c.transformation}}})}});
          }
          fields[c.name] = {{"inputFields", from}};
        }
        (*d)["facets"]["columnLineage"] = Facet("1-2-0/ColumnLineageDatasetFacet.json");
        (*d)["facets"]["columnLineage"]["fields"] = fields;
      }
      Json assertions = Json::array();
      for (const Json& c : sd.value("checks", Json::array())) {
        assertions.push_back(
            {{"assertion", c.value("check", "")}, {"success", c.value("outcome", "") == "pass"}});
      }
      (*d)["facets"]["dataQualityAssertions"] =
          Facet("1-0-1/DataQualityAssertionsDatasetFacet.json");
      (*d)["facets"]["dataQualityAssertions"]["assertions"] = assertions;
      outputs.push_back(*d);
    }
    if (out.contains("quarantine")) {
      const Json& q = out["quarantine"];
      auto qd = LineageDataset(ws, q.value("dataset", ""), q.value("version", int64_t{0}));
      if (qd.ok()) {
        out_keys.push_back(DatasetKey(q.value("dataset", ""), q.value("version", int64_t{0})));
        outputs.push_back(*qd);
      }
    }
  }
  event["outputs"] = outputs;
  catalog::LineageRecord rec{step_run + ":" + event["eventType"].get<std::string>(), ws, NowMicros(),
                             in_keys, out_keys, event.dump()};
  Status s = store_->Write([&](catalog::CatalogTxn& t) { return t.PutLineage(rec); });
  if (!s.ok()) spdlog::warn("pipeline {}: could not keep its lineage: {}", pipeline, s.message());
  PostLineage(event);
}

void PipelineService::PostLineage(const Json& event) {
  if (options_.openlineage_url.empty()) return;
  auto ep = client::ParseEndpoint(options_.openlineage_url);
  if (!ep.ok()) {
    spdlog::warn("OPENLINEAGE_URL: {}", ep.status().message());
    return;
  }
  client::ConnectionOptions o;
  o.connect_timeout_ms = 2000;
  o.io_timeout_ms = 5000;
  auto con = client::HttpConnection::Connect(*ep, o);
  if (!con.ok()) {
    spdlog::warn("OpenLineage endpoint {}: {}", options_.openlineage_url, con.status().message());
    return;
  }
  const std::string body = event.dump();
  client::Request req;
  req.method = "POST";
  req.target = ep->path_prefix + options_.openlineage_endpoint;
  req.headers = {{"Content-Type", "application/json"},
                 {"Content-Length", std::to_string(body.size())}};
  req.body = body;
  auto r = (*con)->Send(req);
  if (!r.ok()) {
    spdlog::warn("OpenLineage endpoint {}: {}", options_.openlineage_url, r.status().message());
  } else if (r->status / 100 != 2) {
    spdlog::warn("OpenLineage endpoint {} answered {}", options_.openlineage_url, r->status);
  }
}

namespace {

// The column lineage an event records for the output that is dataset `name` version `number`:
// [{"column", "from": [{"dataset" ("name:version" when the input is a catalog version, else
// its namespace and name), "field", "transformation"}]}], or an empty array.
Json ColumnsOf(const Json& event, const std::string& name, int64_t number) {
  Json out = Json::array();
  auto label = [&](const std::string& ns, const std::string& dn) -> std::string {
    for (const Json& in : event.value("inputs", Json::array())) {
      if (!in.is_object() || in.value("namespace", "") != ns || in.value("name", "") != dn) {
        continue;
      }
      const Json t = in.value("facets", Json::object()).value("tarn_dataset", Json::object());
      if (t.is_object() && t.value("name", Json()).is_string() &&
          t.value("version", Json()).is_number_integer()) {
        return t["name"].get<std::string>() + ":" + std::to_string(t["version"].get<int64_t>());
      }
    }
    return ns + "/" + dn;
  };
  for (const Json& o : event.value("outputs", Json::array())) {
    if (!o.is_object()) continue;
    const Json facets = o.value("facets", Json::object());
    const Json t = facets.is_object() ? facets.value("tarn_dataset", Json::object()) : Json();
    if (!t.is_object() || t.value("name", "") != name ||
        t.value("version", Json()) != Json(number)) {
      continue;
    }
    const Json fields = facets.value("columnLineage", Json::object()).value("fields", Json());
    if (!fields.is_object()) continue;
    for (const auto& [column, f] : fields.items()) {
      Json from = Json::array();
      for (const Json& i : f.is_object() ? f.value("inputFields", Json::array()) : Json::array()) {
        if (!i.is_object()) continue;
        std::string how;
        const Json ts = i.value("transformations", Json::array());
        if (ts.is_array() && !ts.empty() && ts[0].is_object()) how = ts[0].value("subtype", "");
        from.push_back({{"dataset", label(i.value("namespace", ""), i.value("name", ""))},
                        {"field", i.value("field", "")},
                        {"transformation", how}});
      }
      out.push_back({{"column", column}, {"from", from}});
    }
  }
  return out;
}

}  // namespace

StatusOr<Json> PipelineService::Lineage(const std::string& ws, const std::string& dataset,
                                        const std::string& version, bool upstream, int depth) {
  TARN_ASSIGN_OR_RETURN(Json v, catalog_->GetVersion(ws, dataset, version));
  depth = std::clamp(depth, 1, kMaxDepth);
  std::set<std::string> visited;
  std::function<StatusOr<Json>(const std::string&, int64_t, int)> node =
      [&](const std::string& name, int64_t number, int left) -> StatusOr<Json> {
    const std::string key = DatasetKey(name, number);
    Json n{{"kind", "dataset"}, {"dataset", name}, {"version", number}, {"key", key}};
    if (auto d = LineageDataset(ws, name, number); d.ok()) {
      n["namespace"] = (*d)["namespace"];
      n["name"] = (*d)["name"];
    } else {
      n["missing"] = d.status().message();
    }
    Json children = Json::array();
    if (!visited.insert(key).second) {
      n["repeated"] = true;
      return n;
    }
    if (left == 0) {
      n["truncated"] = true;
      return n;
    }
    std::vector<catalog::LineageRecord> events;
    TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
      TARN_ASSIGN_OR_RETURN(events, upstream ? t.LineageWithOutput(ws, key)
                                             : t.LineageWithInput(ws, key));
      return Status::Ok();
    }));
    for (const catalog::LineageRecord& e : events) {
      Json doc = Json::parse(e.doc, nullptr, false);
      if (doc.is_discarded() || doc.value("eventType", "") != "COMPLETE") continue;
      if (upstream && !n.contains("columns")) {
        if (Json cols = ColumnsOf(doc, name, number); !cols.empty()) n["columns"] = cols;
      }
      // A pipeline step's run names its pipeline run as parent; another's is its own.
      using Pointer = Json::json_pointer;
      const std::string own = doc.value(Pointer("/run/runId"), std::string());
      Json via{{"job", doc.value(Pointer("/job/name"), std::string())},
               {"run_id", doc.value(Pointer("/run/facets/parent/run/runId"), own)},
               {"event_time", doc.value("eventTime", "")}};
      for (const std::string& k : upstream ? e.inputs : e.outputs) {
        if (k.rfind("path:", 0) == 0) {  // a file outside the catalog (a local landing file)
          children.push_back({{"kind", "path"}, {"uri", k.substr(5)}, {"via", via}});
          continue;
        }
        // "dataset:<name>:<version>"
        const size_t colon = k.rfind(':');
        if (k.rfind("dataset:", 0) != 0 || colon <= 8) continue;
        int64_t child_version = std::strtoll(k.c_str() + colon + 1, nullptr, 10);
        TARN_ASSIGN_OR_RETURN(Json child, node(k.substr(8, colon - 8), child_version, left - 1));
        child["via"] = via;
        children.push_back(child);
      }
    }
    // Upstream, a version made from no other version (ingested, registered by hand) ends at
    // its files in the lake.
    const bool from_datasets = std::any_of(children.begin(), children.end(), [](const Json& c) {
      return c.value("kind", "") == "dataset";
    });
    if (upstream && !from_datasets && !n.contains("missing")) {
      auto files = catalog_->ListFiles(ws, name, std::to_string(number), 0, kLeafFiles);
      if (files.ok()) {
        for (const Json& f : (*files)["files"]) {
          Json leaf{{"kind", "file"},
                    {"path", f.value("path", "")},
                    {"etag", f.value("etag", "")},
                    {"size", f.value("size", int64_t{0})}};
          if (n.contains("namespace")) {
            leaf["uri"] = n["namespace"].get<std::string>() + "/" + f.value("path", "");
          }
          children.push_back(leaf);
        }
        if (!(*files).value("next_marker", "").empty()) n["more_files"] = true;
      }
    }
    n["children"] = children;
    return n;
  };
  TARN_ASSIGN_OR_RETURN(Json root, node(dataset, v.value("version", int64_t{0}), depth));
  return Json{{"direction", upstream ? "upstream" : "downstream"}, {"root", root}};
}

StatusOr<Json> PipelineService::ListLineageEvents(const std::string& ws, int64_t limit) {
  std::vector<catalog::LineageRecord> events;
  TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(events, t.ListLineage(ws, std::clamp<int64_t>(limit, 1, 1000)));
    return Status::Ok();
  }));
  Json out = Json::array();
  for (const auto& e : events) {
    Json doc = Json::parse(e.doc, nullptr, false);
    if (!doc.is_discarded()) out.push_back(doc);
  }
  return Json{{"events", out}};
}

}  // namespace tarn::pipeline
