// PipelineService: definitions, the run queue and its workers, the scheduler, and recovery.
// Executing a run is pipeline_run.cc.
#include "pipeline/pipeline_service.h"

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/crypto.h"
#include "common/time_util.h"

namespace tarn::pipeline {
namespace {

std::string Key(const std::string& ws, const std::string& name) { return ws + "/" + name; }


bool Ended(const std::string& status) { return status == "succeeded" || status == "failed"; }

Json RunJson(const catalog::PipelineRunRecord& r) {
  Json doc = Json::parse(r.doc, nullptr, false);
  if (doc.is_discarded()) doc = Json::object();
  doc["id"] = r.id;
  doc["pipeline"] = r.pipeline;
  doc["number"] = r.number;
  doc["status"] = r.status;
  return doc;
}

}  // namespace

PipelineService::PipelineService(catalog::CatalogService* catalog, catalog::CatalogStore* store,
                                 lake::LakeService* lake, PipelineOptions options,
                                 identity::IdentityService* identity)
    : catalog_(catalog),
      store_(store),
      lake_(lake),
      options_(std::move(options)),
      engine_(tabular::EngineOptions{options_.engine_threads, options_.memory_limit, ""}),
      identity_(identity) {}

PipelineService::~PipelineService() { Stop(); }

void PipelineService::Start() {
  std::error_code ec;
  std::filesystem::remove_all(options_.work_dir, ec);
  std::filesystem::create_directories(options_.work_dir, ec);
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  threads_.emplace_back([this] { SchedulerLoop(); });
}

void PipelineService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

StatusOr<Json> PipelineService::Put(const std::string& ws, const std::string& name,
                                    const Json& body, const RunAs& as, bool* created) {
  const std::string& who = as.name;
  if (!body.is_object() || !body.value("definition", Json()).is_string()) {
    return Error(Reason::kInvalidPipeline,
                 "the body must be {\"definition\": \"<the text of pipeline.yaml>\"}");
  }
  const std::string text = body["definition"].get<std::string>();
  auto parsed = ParsePipeline(text, name + ".yaml");
  if (!parsed.ok()) return Error(Reason::kInvalidPipeline, parsed.status().message());
  if (parsed->name != name) {
    return Error(Reason::kInvalidPipeline, "the file names pipeline '" + parsed->name +
                                               "', but it is being stored as '" + name + "'");
  }
  // Every dataset and datastore it names must exist now: a typo is an error today, not at 2 am.
  for (const Step& s : parsed->steps) {
    TARN_RETURN_IF_ERROR(catalog_->GetDatastore(ws, s.output.datastore).status());
  }
  Json out;
  TARN_RETURN_IF_ERROR(store_->Write([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto existing, t.GetPipeline(ws, name));
    Json doc = existing ? Json::parse(existing->doc, nullptr, false) : Json::object();
    if (doc.is_discarded()) doc = Json::object();
    const std::string now = FormatIso8601(NowMicros());
    if (!existing) {
      doc["created_time"] = now;
      doc["created_by"] = who;
    }
    doc["modified_time"] = now;
    doc["modified_by"] = who;
    // The owner: whose authority its schedule and arrival runs have.
    doc["owner"] = as.caller ? Json{{"oid", as.caller->oid}, {"tid", as.caller->tid}}
                             : Json{{"key_holder", who}};
    doc["definition"] = text;
    *created = !existing;
    TARN_RETURN_IF_ERROR(t.PutPipeline(catalog::PipelineRecord{ws, name, doc.dump()}));
    out = doc;
    return Status::Ok();
  }));
  triggers_changed_ = true;
  out["name"] = name;
  Json steps = Json::array();
  for (const Step& s : parsed->steps) {
    steps.push_back({{"name", s.name}, {"output", s.output.dataset}});
  }
  out["steps"] = steps;
  if (parsed->schedule) out["schedule"] = parsed->schedule->text;
  return out;
}

StatusOr<Json> PipelineService::Get(const std::string& ws, const std::string& name) {
  std::optional<catalog::PipelineRecord> rec;
  TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(rec, t.GetPipeline(ws, name));
    return Status::Ok();
  }));
  if (!rec) {
    return Error(Reason::kPipelineNotFound, "pipeline '" + name + "' is not in workspace '" + ws +
                                                "'; store it with `tarn pipeline put FILE`");
  }
  Json doc = Json::parse(rec->doc, nullptr, false);
  if (doc.is_discarded()) return InternalError("pipeline '" + name + "' has a broken record");
  doc["name"] = name;
  auto parsed = ParsePipeline(doc.value("definition", ""), name + ".yaml");
  if (parsed.ok()) {
    Json steps = Json::array();
    for (const Step& s : parsed->steps) {
      Json inputs = Json::array();
      for (const Input& in : s.inputs) {
        inputs.push_back({{"alias", in.alias}, {"dataset", in.dataset}, {"version", in.version}});
      }
      steps.push_back({{"name", s.name},
                       {"inputs", inputs},
                       {"output",
                        {{"dataset", s.output.dataset},
                         {"datastore", s.output.datastore},
                         {"path", s.output.path}}},
                       {"checks", s.checks.size()},
                       {"expectations", s.expectations.size()}});
    }
    doc["steps"] = steps;
    if (parsed->schedule) doc["schedule"] = parsed->schedule->text;
  }
  return doc;
}

StatusOr<Json> PipelineService::List(const std::string& ws) {
  std::vector<catalog::PipelineRecord> recs;
  TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(recs, t.ListPipelines(ws));
    return Status::Ok();
  }));
  Json out = Json::array();
  for (const auto& r : recs) {
    Json doc = Json::parse(r.doc, nullptr, false);
    if (doc.is_discarded()) doc = Json::object();
    doc.erase("definition");
    doc["name"] = r.name;
    out.push_back(doc);
  }
  return Json{{"pipelines", out}};
}

Status PipelineService::Delete(const std::string& ws, const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_.count(Key(ws, name))) {
      return Error(Reason::kPipelineBusy,
                   "pipeline '" + name + "' is running; delete it when the run has ended");
    }
  }
  TARN_RETURN_IF_ERROR(Get(ws, name).status());
  triggers_changed_ = true;
  return store_->Write([&](catalog::CatalogTxn& t) { return t.DeletePipeline(ws, name); });
}

StatusOr<Json> PipelineService::StartRun(const std::string& ws, const std::string& name,
                                         const RunAs& as, const std::string& trigger,
                                         const std::string& from_step) {
  TARN_ASSIGN_OR_RETURN(Json def, Get(ws, name));
  if (!from_step.empty()) {
    bool found = false;
    std::string names;
    for (const Json& st : def.value("steps", Json::array())) {
      found = found || st.value("name", "") == from_step;
      names += (names.empty() ? "" : ", ") + st.value("name", "");
    }
    if (!found) {
      return Error(Reason::kInvalidPipeline, "pipeline '" + name + "' has no step '" +
                                                 from_step + "' (its steps: " + names + ")");
    }
  }
  catalog::PipelineRunRecord rec;
  rec.id = NewUuid();
  rec.workspace = ws;
  rec.pipeline = name;
  rec.status = "queued";
  rec.started_us = NowMicros();
  Json doc{{"trigger", trigger},
           {"created_by", as.name},
           {"queued_time", FormatIso8601(rec.started_us)},
           {"steps", Json::array()}};
  if (as.caller) doc["caller"] = {{"oid", as.caller->oid}, {"tid", as.caller->tid}};
  if (!from_step.empty()) doc["from_step"] = from_step;
  rec.doc = doc.dump();
  TARN_RETURN_IF_ERROR(store_->Write([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(int64_t last, t.MaxRunNumber(ws, name));
    rec.number = last + 1;
    return t.PutRun(rec);
  }));
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Queued{ws, name, rec.id, as});
  }
  wake_.notify_all();
  return RunJson(rec);
}

StatusOr<catalog::PipelineRunRecord> PipelineService::LoadRun(const std::string& ws,
                                                              const std::string& id) {
  std::optional<catalog::PipelineRunRecord> rec;
  TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(rec, t.GetRun(ws, id));
    return Status::Ok();
  }));
  if (!rec) {
    return Error(Reason::kPipelineRunNotFound,
                 "no pipeline run '" + id + "' in workspace '" + ws + "'");
  }
  return *rec;
}

Status PipelineService::SaveRun(const catalog::PipelineRunRecord& r) {
  return store_->Write([&](catalog::CatalogTxn& t) { return t.PutRun(r); });
}

StatusOr<Json> PipelineService::GetRun(const std::string& ws, const std::string& id) {
  TARN_ASSIGN_OR_RETURN(catalog::PipelineRunRecord r, LoadRun(ws, id));
  return RunJson(r);
}

StatusOr<Json> PipelineService::ListRuns(const std::string& ws, const std::string& name,
                                         int64_t limit) {
  TARN_RETURN_IF_ERROR(Get(ws, name).status());
  std::vector<catalog::PipelineRunRecord> recs;
  TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(recs, t.ListRuns(ws, name, std::clamp<int64_t>(limit, 1, 1000)));
    return Status::Ok();
  }));
  Json out = Json::array();
  for (const auto& r : recs) out.push_back(RunJson(r));
  return Json{{"runs", out}};
}

StatusOr<Json> PipelineService::WaitRun(const std::string& ws, const std::string& id,
                                        int64_t timeout_ms) {
  timeout_ms = std::min(timeout_ms, options_.max_wait_ms);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    TARN_ASSIGN_OR_RETURN(catalog::PipelineRunRecord r, LoadRun(ws, id));
    if (Ended(r.status) || std::chrono::steady_clock::now() >= deadline) return RunJson(r);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                  std::chrono::milliseconds(200)));
  }
}

void PipelineService::WorkerLoop() {
  for (;;) {
    Queued q;
    {
      std::unique_lock<std::mutex> lock(mu_);
      std::deque<Queued>::iterator it;
      wake_.wait(lock, [&] {
        if (stopping_) return true;
        it = std::find_if(queue_.begin(), queue_.end(), [&](const Queued& e) {
          return busy_.count(Key(e.ws, e.pipeline)) == 0;
        });
        return it != queue_.end();
      });
      if (stopping_) return;
      q = *it;
      queue_.erase(it);
      busy_.insert(Key(q.ws, q.pipeline));
    }
    Execute(q);
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_.erase(Key(q.ws, q.pipeline));
    }
    wake_.notify_all();
    done_.notify_all();
  }
}

void PipelineService::SchedulerLoop() {
  int64_t last_scan = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (stopping_) return;
    }
    const int64_t now_us = NowMicros();
    const int64_t now = now_us / 1000000;
    if (now - last_scan >= 10 || triggers_changed_.exchange(false)) {
      last_scan = now;
      RefreshTriggers(now);
    }
    for (auto& [key, s] : scheduled_) {
      if (now < s.next) continue;
      s.next = NextFire(s.cron, now);
      StartTriggered(s.ws, s.name, "schedule");
    }
    std::vector<std::pair<std::string, std::string>> arrived;
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      for (auto it = arrivals_.begin(); it != arrivals_.end();) {
        if (now_us - it->second < kArrivalQuietUs) {
          ++it;
          continue;
        }
        const size_t slash = it->first.find('/');
        arrived.emplace_back(it->first.substr(0, slash), it->first.substr(slash + 1));
        it = arrivals_.erase(it);
      }
    }
    for (const auto& [ws, name] : arrived) StartTriggered(ws, name, "arrival");
  }
}

void PipelineService::RefreshTriggers(int64_t now_s) {
  std::vector<catalog::PipelineRecord> all;
  Status s = store_->Read([&](catalog::CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(all, t.ListAllPipelines());
    return Status::Ok();
  });
  if (!s.ok()) return;
  std::map<std::string, Scheduled> scheduled;
  std::vector<Watch> watches;
  for (const auto& rec : all) {
    Json doc = Json::parse(rec.doc, nullptr, false);
    if (doc.is_discarded()) continue;
    auto p = ParsePipeline(doc.value("definition", ""), rec.name + ".yaml");
    if (!p.ok()) continue;
    const std::string key = Key(rec.workspace, rec.name);
    if (p->schedule) {
      auto old = scheduled_.find(key);
      const bool same = old != scheduled_.end() && old->second.cron.text == p->schedule->text;
      scheduled[key] = Scheduled{rec.workspace, rec.name, *p->schedule,
                                 same ? old->second.next : NextFire(*p->schedule, now_s)};
    }
    for (const Arrival& a : p->on_arrival) {
      auto d = catalog_->GetDatastore(rec.workspace, a.datastore);
      if (!d.ok()) continue;
      watches.push_back(Watch{rec.workspace, rec.name, d->value("account_name", ""),
                              d->value("filesystem", ""), a.path});
    }
  }
  scheduled_ = std::move(scheduled);
  std::lock_guard<std::mutex> lock(watch_mu_);
  watches_ = std::move(watches);
}

void PipelineService::OnWrite(const std::string& account, const std::string& fs,
                              const std::string& path) {
  // tarn's own bookkeeping (ingestion's staging and markers) is not an arrival.
  if (path.rfind(".tarn/", 0) == 0 || path == ".tarn") return;
  std::lock_guard<std::mutex> lock(watch_mu_);
  for (const Watch& w : watches_) {
    if (w.account != account || w.fs != fs) continue;
    const bool under = w.prefix.empty() || path == w.prefix ||
                       (path.size() > w.prefix.size() && path.rfind(w.prefix, 0) == 0 &&
                        path[w.prefix.size()] == '/');
    if (under) arrivals_[Key(w.ws, w.pipeline)] = NowMicros();
  }
}

StatusOr<RunAs> PipelineService::OwnerOf(const Json& doc) {
  const Json owner = doc.value("owner", Json::object());
  if (!owner.contains("oid")) return RunAs{std::nullopt, owner.value("key_holder", "")};
  if (!identity_) return Error(Reason::kPrincipalNotFound, "no directory to find the owner in");
  TARN_ASSIGN_OR_RETURN(identity::Caller caller,
                        identity_->CallerFor(owner.value("oid", ""), owner.value("tid", "")));
  return RunAs{caller, "oid:" + caller.oid};
}

void PipelineService::StartTriggered(const std::string& ws, const std::string& name,
                                     const std::string& trigger) {
  auto doc = Get(ws, name);
  if (!doc.ok()) return;
  auto as = OwnerOf(*doc);
  if (!as.ok()) {
    spdlog::warn("pipeline {}/{}: its {} run did not start: its owner: {}", ws, name, trigger,
                 as.status().message());
    return;
  }
  auto run = StartRun(ws, name, *as, trigger);
  if (!run.ok()) {
    spdlog::warn("pipeline {}/{}: its {} run did not start: {}", ws, name, trigger,
                 run.status().message());
  }
}

StatusOr<int64_t> PipelineService::Recover() {
  int64_t changed = 0;
  for (const char* status : {"queued", "running", "publishing"}) {
    std::vector<catalog::PipelineRunRecord> runs;
    TARN_RETURN_IF_ERROR(store_->Read([&](catalog::CatalogTxn& t) -> Status {
      TARN_ASSIGN_OR_RETURN(runs, t.ListRunsWithStatus(status));
      return Status::Ok();
    }));
    for (catalog::PipelineRunRecord& r : runs) {
      Json doc = Json::parse(r.doc, nullptr, false);
      if (doc.is_discarded()) doc = Json::object();
      std::string error = r.status == "queued"
                              ? "tarnd stopped before the run started; start it again"
                              : "tarnd stopped during the run; nothing it had not published "
                                "was published, and its staging is kept for inspection";
      bool all_done = true;
      for (Json& step : doc["steps"]) {
        const std::string st = step.value("status", "");
        if (st == "publishing") {
          Status s = FinishPublish(r.workspace, r.id, step, RunAs{std::nullopt, "recovery"});
          step["status"] = s.ok() ? "succeeded" : "failed";
          if (!s.ok()) step["error"] = s.message();
        } else if (st == "running" || st == "pending") {
          step["status"] = st == "running" ? "failed" : "skipped";
          if (st == "running") step["error"] = "tarnd stopped during this step";
        }
        all_done = all_done && step.value("status", "") == "succeeded";
      }
      r.status = all_done && !doc["steps"].empty() && r.status == "publishing" ? "succeeded"
                                                                              : "failed";
      if (r.status == "failed") doc["error"] = error;
      doc["ended_time"] = FormatIso8601(NowMicros());
      r.doc = doc.dump();
      TARN_RETURN_IF_ERROR(SaveRun(r));
      ++changed;
    }
  }
  return changed;
}

}  // namespace tarn::pipeline
