// Executing a pipeline run: each step's inputs, SQL, expectations, staging, gate and publish
// (pipeline_service.h says what each stage promises).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <filesystem>
#include <fstream>

#include "common/crypto.h"
#include "common/time_util.h"
#include "pipeline/gate.h"
#include "pipeline/pipeline_service.h"

namespace tarn::pipeline {
namespace {

namespace fs = std::filesystem;


double Seconds(int64_t from_us, int64_t to_us) {
  return std::round(static_cast<double>(to_us - from_us) / 1e3) / 1e3;
}

// A local file as an upload body.
class FileSource final : public lake::ByteSource {
 public:
  explicit FileSource(const std::string& path) : in_(path, std::ios::binary) {
    std::error_code ec;
    size_ = static_cast<int64_t>(fs::file_size(path, ec));
  }
  bool ok() const { return static_cast<bool>(in_); }
  StatusOr<size_t> Read(char* buf, size_t n) override {
    in_.read(buf, static_cast<std::streamsize>(n));
    if (in_.bad()) return InternalError("cannot read a staged output file");
    return static_cast<size_t>(in_.gcount());
  }
  std::optional<int64_t> SizeHint() const override { return size_; }

 private:
  std::ifstream in_;
  int64_t size_ = 0;
};

tabular::RowExpectation::Action ActionOf(OnFail a) {
  switch (a) {
    case OnFail::kDrop:
      return tabular::RowExpectation::Action::kDrop;
    case OnFail::kFail:
      return tabular::RowExpectation::Action::kFail;
    case OnFail::kWarn:
      break;
  }
  return tabular::RowExpectation::Action::kWarn;
}

// How a registered version reads a partition column back from its folder names: with the type
// the step gave it (set_column_types), so that readers see the step's types.
std::optional<std::string> ColumnTypeFor(const std::string& duckdb_type) {
  static const std::map<std::string, std::string> kTypes = {
      {"BIGINT", "long"},   {"INTEGER", "long"},  {"SMALLINT", "long"}, {"TINYINT", "long"},
      {"UBIGINT", "long"},  {"UINTEGER", "long"}, {"USMALLINT", "long"}, {"UTINYINT", "long"},
      {"DOUBLE", "float"},  {"FLOAT", "float"},   {"BOOLEAN", "bool"},  {"DATE", "datetime"},
      {"TIMESTAMP", "datetime"}};
  auto it = kTypes.find(duckdb_type);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

// Where a step's staging and publish happen, recorded in the run before the swap so that
// recovery can finish it.
struct PublishPlan {
  std::string account, filesystem, datastore;
  std::string staged;   // .tarn/staging/pipeline-<run>-<step>
  std::string target;   // the output path
  std::string retired;  // where the old output goes, deleted after the publish
  bool quarantine = false;
};

Json PlanJson(const PublishPlan& p) {
  return {{"account", p.account},   {"filesystem", p.filesystem}, {"datastore", p.datastore},
          {"staged", p.staged},     {"target", p.target},         {"retired", p.retired},
          {"quarantine", p.quarantine}};
}

PublishPlan PlanFrom(const Json& j) {
  PublishPlan p;
  p.account = j.value("account", "");
  p.filesystem = j.value("filesystem", "");
  p.datastore = j.value("datastore", "");
  p.staged = j.value("staged", "");
  p.target = j.value("target", "");
  p.retired = j.value("retired", "");
  p.quarantine = j.value("quarantine", false);
  return p;
}

}  // namespace

// One run in progress: its record, written back as it goes, so that `tarn pipeline run`
// shows each step's progress.
struct PipelineService::Run {
  catalog::PipelineRunRecord rec;
  Json doc;
  Status Save(PipelineService* svc) {
    rec.doc = doc.dump();
    return svc->SaveRun(rec);
  }
};

void PipelineService::Execute(const Queued& q) {
  auto loaded = LoadRun(q.ws, q.id);
  if (!loaded.ok()) return;
  Run run{*loaded, Json::parse(loaded->doc, nullptr, false)};
  if (run.doc.is_discarded()) run.doc = Json::object();
  const int64_t started = NowMicros();
  run.rec.status = "running";
  run.doc["started_time"] = FormatIso8601(started);

  auto fail = [&](const std::string& error) {
    run.rec.status = "failed";
    run.doc["error"] = error;
  };
  auto def = Get(q.ws, q.pipeline);
  std::optional<Pipeline> p;
  if (!def.ok()) {
    fail(def.status().message());
  } else if (auto parsed = ParsePipeline(def->value("definition", ""), q.pipeline + ".yaml");
             !parsed.ok()) {
    fail(parsed.status().message());
  } else {
    p = std::move(*parsed);
    Json steps = Json::array();
    for (const Step& s : p->steps) steps.push_back({{"name", s.name}, {"status", "pending"}});
    run.doc["steps"] = steps;
  }
  (void)run.Save(this);

  // What earlier steps of this run published: a later step reads exactly that version.
  std::map<std::string, int64_t> published;
  Json lineage_inputs = Json::array(), lineage_outputs = Json::array();
  const std::string from_step = run.doc.value("from_step", "");
  bool reached = from_step.empty();
  for (size_t i = 0; p && i < p->steps.size() && run.rec.status == "running"; ++i) {
    const Step& step = p->steps[i];
    Json& sd = run.doc["steps"][i];
    reached = reached || step.name == from_step;
    if (!reached) {
      sd["status"] = "skipped";
      sd["message"] = "not run: this run starts at step " + from_step;
      continue;
    }
    const int64_t step_start = NowMicros();
    sd["status"] = "running";
    sd["dataset"] = step.output.dataset;
    sd["lineage_run_id"] = NewUuid();
    sd["started_time"] = FormatIso8601(step_start);
    (void)run.Save(this);
    const catalog::ReadAs as{q.as.caller};
    const std::string work = options_.work_dir + "/" + run.rec.id + "/" + step.name;

    Status s = [&]() -> Status {
      // 1. Inputs, each at one version for the whole step.
      std::vector<catalog::TabularSource> sources;
      Json inputs = Json::array();
      tabular::StepRequest req;
      int64_t rows_in = 0;
      for (const Input& in : step.inputs) {
        auto pub = published.find(in.dataset);
        const std::string version =
            pub != published.end() ? std::to_string(pub->second) : in.version;
        auto src = catalog_->OpenTabular(q.ws, in.dataset, version, as);
        if (!src.ok()) {
          return Status(src.status().code(), "input '" + in.alias + "' (dataset '" + in.dataset +
                                                 "' version " + version +
                                                 "): " + src.status().message());
        }
        const int64_t rows = src->version.value("row_count", int64_t{0});
        rows_in += rows;
        inputs.push_back({{"alias", in.alias},
                          {"dataset", in.dataset},
                          {"version", src->version.value("version", int64_t{0})},
                          {"id", src->version.value("id", "")},
                          {"rows", rows}});
        sources.push_back(std::move(*src));
      }
      for (size_t k = 0; k < sources.size(); ++k) {
        req.inputs.push_back(tabular::StepInput{step.inputs[k].alias, sources[k].opener.get(),
                                                sources[k].files, sources[k].request});
      }
      sd["inputs"] = inputs;
      sd["rows_in"] = rows_in;
      // 2. Where the output goes, and that the datastore may write there.
      TARN_ASSIGN_OR_RETURN(catalog::WriteTarget target,
                            catalog_->AuthorizeWrite(q.ws, step.output.datastore,
                                                     step.output.path, as));
      // 3. The SQL, expectations and the checks' queries, in the confined engine.
      std::error_code ec;
      fs::remove_all(work, ec);
      fs::create_directories(work, ec);
      if (ec) return InternalError("cannot create the work directory " + work);
      req.sql = step.sql;
      for (const Expectation& e : step.expectations) {
        req.expectations.push_back({e.name, e.condition, ActionOf(e.on_fail)});
      }
      req.partition_by = step.output.partition_by;
      req.target_file_bytes = step.output.target_file_bytes;
      req.out_dir = work;
      req.threads = options_.engine_threads;
      req.memory_limit = options_.memory_limit;
      std::optional<int64_t> previous_rows;
      if (auto prev = catalog_->GetVersion(q.ws, step.output.dataset, "latest"); prev.ok()) {
        previous_rows = prev->value("row_count", int64_t{0});
      }
      Gate gate(step.checks, previous_rows);
      req.next_queries = [&gate](const std::vector<tabular::ColumnInfo>& schema,
                                 const std::vector<tabular::QueryAnswer>& answers) {
        return gate.NextQueries(schema, answers);
      };
      auto result = engine_.RunStep(req);
      if (!result.ok()) return result.status();
      Json timings{{"sql_s", result->write_us / 1e6}, {"checks_s", result->queries_us / 1e6}};
      Json expectations = Json::array();
      for (size_t k = 0; k < step.expectations.size(); ++k) {
        expectations.push_back({{"name", step.expectations[k].name},
                                {"on_fail", OnFailName(step.expectations[k].on_fail)},
                                {"failed_rows", result->expectation_failures[k]}});
      }
      sd["expectations"] = expectations;
      if (result->failed_expectation) {
        return Error(Reason::kInvalidPipeline,
                     "expectation '" + *result->failed_expectation +
                         "' (on_fail: fail) failed; the step stopped and wrote nothing");
      }
      sd["rows_out"] = result->rows_out;
      sd["rows_quarantined"] = result->rows_quarantined;
      Json schema = Json::array();
      for (const auto& c : result->schema) schema.push_back({{"name", c.name}, {"type", c.type}});
      sd["schema"] = schema;

      // The version's profile, from the written files exactly as the registered version will
      // read them (its partition columns typed as the step typed them): publishing then does not
      // read them again.
      const int64_t profile_start = NowMicros();
      Json read_options = Json::object();
      for (const auto& c : result->schema) {
        if (std::find(step.output.partition_by.begin(), step.output.partition_by.end(), c.name) ==
            step.output.partition_by.end()) {
          continue;
        }
        if (auto t = ColumnTypeFor(c.type)) read_options["set_column_types"][c.name] = *t;
      }
      std::optional<Json> known;
      if (!result->data_files.empty()) {
        tabular::ReadRequest reread;
        reread.format = tabular::Format::kParquet;
        TARN_ASSIGN_OR_RETURN(reread.options, tabular::ParseOptions(read_options));
        std::vector<tabular::SourceFile> local;
        int64_t local_bytes = 0;
        for (const std::string& f : result->data_files) {
          std::error_code size_ec;
          const int64_t size = static_cast<int64_t>(fs::file_size(work + "/" + f, size_ec));
          local.push_back(tabular::SourceFile{f, f, size});
          local_bytes += size;
        }
        tabular::LocalFileOpener opener(work);
        TARN_ASSIGN_OR_RETURN(tabular::Profile profile, engine_.ProfileFiles(opener, local, reread));
        known = catalog::ProfileToJson(profile);
        (*known)["files"] = static_cast<int64_t>(local.size());
        (*known)["bytes"] = local_bytes;
      }
      timings["profile_s"] = Seconds(profile_start, NowMicros());

      // 4. Staging in the output's filesystem: nothing names it, no reader sees it.
      const int64_t upload_start = NowMicros();
      PublishPlan plan{target.account,
                       target.filesystem,
                       target.datastore,
                       ".tarn/staging/pipeline-" + run.rec.id + "-" + step.name,
                       step.output.path,
                       ".tarn/retired/pipeline-" + run.rec.id + "-" + step.name,
                       result->rows_quarantined > 0};
      sd["staging"] = plan.filesystem + "/" + plan.staged;
      // Staged as if created at the output path: its files get the ACLs that folder's default
      // ACL gives new paths (a domain's grants), not those of .tarn/staging.
      lake::CreateOptions dir;
      dir.is_dir = true;
      dir.inherit_from = plan.target;
      TARN_RETURN_IF_ERROR(
          lake_->CreatePath(plan.account, plan.filesystem, plan.staged + "/data", dir).status());
      if (!result->quarantine_files.empty()) {
        dir.inherit_from = plan.target + "_quarantine";
        TARN_RETURN_IF_ERROR(
            lake_->CreatePath(plan.account, plan.filesystem, plan.staged + "/quarantine", dir)
                .status());
      }
      std::vector<std::string> files = result->data_files;
      files.insert(files.end(), result->quarantine_files.begin(), result->quarantine_files.end());
      int64_t bytes = 0;
      for (const std::string& f : files) {
        FileSource body(work + "/" + f);
        if (!body.ok()) return InternalError("cannot open the staged output file " + f);
        bytes += body.SizeHint().value_or(0);
        TARN_RETURN_IF_ERROR(
            lake_->PutFile(plan.account, plan.filesystem, plan.staged + "/" + f, body, {})
                .status());
      }
      sd["files"] = result->data_files.size();
      sd["bytes"] = bytes;
      fs::remove_all(work, ec);
      timings["upload_s"] = Seconds(upload_start, NowMicros());
      sd["timings"] = timings;

      // 5. The gate.
      std::string first_failure;
      Json checks = gate.Report(*result, &first_failure);
      sd["checks"] = checks;
      if (!first_failure.empty()) {
        return Error(Reason::kInvalidPipeline,
                     "the gate failed: " + first_failure +
                         ". Nothing was published; the staged output stays at " +
                         sd["staging"].get<std::string>() + " for inspection");
      }
      if (result->data_files.empty()) {
        return Error(Reason::kInvalidPipeline,
                     "the step wrote no file (no rows): nothing to publish. Add a check "
                     "`row_count > 0` to say so in the gate");
      }

      // 6. Publish: the swap is the commit point; recorded first so recovery can finish it.
      sd["publish"] = PlanJson(plan);
      sd["publish"]["read_options"] = read_options;
      sd["status"] = "publishing";
      run.rec.status = "publishing";
      TARN_RETURN_IF_ERROR(run.Save(this));
      const int64_t publish_start = NowMicros();
      TARN_RETURN_IF_ERROR(FinishPublish(q.ws, run.rec.id, sd, q.as, known ? &*known : nullptr));
      sd["timings"]["publish_s"] = Seconds(publish_start, NowMicros());
      run.rec.status = "running";
      published[step.output.dataset] = sd["output"].value("version", int64_t{0});
      for (const Json& in : sd["inputs"]) {
        lineage_inputs.push_back("dataset:" + in.value("dataset", "") + ":" +
                                 std::to_string(in.value("version", int64_t{0})));
      }
      lineage_outputs.push_back("dataset:" + step.output.dataset + ":" +
                                std::to_string(sd["output"].value("version", int64_t{0})));
      return Status::Ok();
    }();
    std::error_code ec;
    fs::remove_all(work, ec);
    sd["duration_s"] = Seconds(step_start, NowMicros());
    if (s.ok()) {
      sd["status"] = "succeeded";
    } else {
      sd["status"] = "failed";
      sd["error"] = s.message();
      fail("step '" + step.name + "' failed: " + s.message());
    }
    RecordStepLineage(q.ws, q.pipeline, run.rec.id, step, sd);
    (void)run.Save(this);
  }
  if (p) {
    for (Json& sd : run.doc["steps"]) {
      if (sd.value("status", "") == "pending") sd["status"] = "skipped";
    }
  }
  if (run.rec.status == "running") run.rec.status = "succeeded";
  const int64_t ended = NowMicros();
  run.doc["ended_time"] = FormatIso8601(ended);
  run.doc["duration_s"] = Seconds(started, ended);
  run.doc["lineage"] = {{"inputs", lineage_inputs}, {"outputs", lineage_outputs}};
  (void)run.Save(this);
  std::error_code ec;
  fs::remove_all(options_.work_dir + "/" + run.rec.id, ec);
}

Status PipelineService::FinishPublish(const std::string& ws, const std::string& run_id, Json& step,
                                      const RunAs& as, const Json* known) {
  const PublishPlan plan = PlanFrom(step.value("publish", Json::object()));
  const Json read_options =
      step.value("publish", Json::object()).value("read_options", Json::object());
  auto exists = [&](const std::string& path) {
    return lake_->GetPath(plan.account, plan.filesystem, path, {}).ok();
  };
  const int64_t start = NowMicros();
  // The swap, unless a crash came after it: then the staged data is already the output.
  if (exists(plan.staged + "/data")) {
    TARN_RETURN_IF_ERROR(lake_->SwapDirectory(plan.account, plan.filesystem, plan.staged + "/data",
                                              plan.target, plan.retired + "/data")
                             .status());
  }
  if (plan.quarantine && exists(plan.staged + "/quarantine")) {
    TARN_RETURN_IF_ERROR(lake_->SwapDirectory(plan.account, plan.filesystem,
                                              plan.staged + "/quarantine",
                                              plan.target + "_quarantine",
                                              plan.retired + "/quarantine")
                             .status());
  }
  const int64_t swapped = NowMicros();
  // Register what was published, with the versions it was made from.
  Json inputs = Json::array();
  for (const Json& in : step.value("inputs", Json::array())) {
    inputs.push_back({{"dataset", in.value("dataset", "")},
                      {"version", in.value("version", int64_t{0})},
                      {"id", in.value("id", "")}});
  }
  const std::string dataset = step.value("dataset", "");
  auto body = [&](const std::string& path, const Json& options) {
    return Json{{"create_new_version", true},
                {"description", "published by pipeline run " + run_id + ", step " +
                                    step.value("name", "")},
                {"tags", {{"pipeline_run", run_id}, {"step", step.value("name", "")}}},
                {"lineage", {{"run_id", run_id}, {"inputs", inputs}}},
                {"definition",
                 {{"kind", "tabular"},
                  {"format", "parquet"},
                  {"options", options},
                  {"paths", Json::array({{{"datastore", plan.datastore}, {"path", path}}})}}}};
  };
  const catalog::ReadAs read_as{as.caller};
  TARN_ASSIGN_OR_RETURN(Json v, catalog_->RegisterVersion(ws, dataset,
                                                          body(plan.target, read_options),
                                                          as.name.empty() ? "pipeline" : as.name,
                                                          read_as, known));
  step["output"] = {{"dataset", dataset},
                    {"version", v.value("version", int64_t{0})},
                    {"id", v.value("id", "")},
                    {"datastore", plan.datastore},
                    {"path", plan.target}};
  if (plan.quarantine) {
    TARN_ASSIGN_OR_RETURN(
        Json qv, catalog_->RegisterVersion(ws, dataset + "_quarantine",
                                           body(plan.target + "_quarantine", Json::object()),
                                           as.name.empty() ? "pipeline" : as.name, read_as));
    step["output"]["quarantine"] = {{"dataset", dataset + "_quarantine"},
                                    {"version", qv.value("version", int64_t{0})}};
  }
  const int64_t registered = NowMicros();
  // The old output's files stay readable through the versions that pinned them.
  for (const std::string& path : {plan.retired, plan.staged}) {
    if (exists(path)) (void)lake_->Delete(plan.account, plan.filesystem, path, true, {});
  }
  step.erase("publish");
  step["timings"]["swap_s"] = Seconds(start, swapped);
  step["timings"]["register_s"] = Seconds(swapped, registered);
  step["timings"]["cleanup_s"] = Seconds(registered, NowMicros());
  return Status::Ok();
}

}  // namespace tarn::pipeline
