#include "compute/job_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace tarn::compute {
namespace {

namespace fs = std::filesystem;

int64_t NowMs() { return NowMicros() / 1000; }

std::string Iso(const Json& job, const char* field) {
  if (!job.contains(field) || !job[field].is_number_integer()) return "";
  return FormatIso8601(job[field].get<int64_t>() * 1000);
}

// What clients see of a job: not the principal's ids, not the target's handle.
Json View(const Json& job) {
  Json v = {{"run_id", job["run_id"]},
            {"workspace", job["ws"]},
            {"experiment_id", job["experiment_id"]},
            {"experiment_name", job["experiment_name"]},
            {"display_name", job["display_name"]},
            {"compute", job["compute"]},
            {"status", job["status"]},
            {"script", job["script"]},
            {"arguments", job["arguments"]},
            {"environment", job["environment"]},
            {"submitted_by", job["submitted_by"]},
            {"created_utc", Iso(job, "created")},
            {"started_utc", Iso(job, "started")},
            {"ended_utc", Iso(job, "ended")},
            {"exit_code", job.value("exit_code", Json())}};
  if (job.contains("timeout_s")) v["timeout_s"] = job["timeout_s"];
  if (job.contains("error")) v["error"] = {{"message", job["error"]}};
  if (job.contains("warnings")) v["warnings"] = job["warnings"];
  // The datasets it read and where its outputs went (and, once written back, the version each
  // became): what a run's page shows.
  Json inputs = Json::array(), outputs = Json::array();
  for (const Json& i : job.value("inputs", Json::array())) {
    inputs.push_back({{"name", i.value("name", "")},
                      {"dataset", i.value("dataset", "")},
                      {"version", i.value("version", Json())},
                      {"mode", i.value("mode", "download")}});
  }
  for (const Json& o : job.value("outputs", Json::array())) {
    Json out = {{"name", o.value("name", "")},
                {"datastore", o.value("datastore", "")},
                {"path", o.value("path", "")},
                {"register_as", o.value("register_as", "")}};
    if (o.contains("version")) out["version"] = o["version"];
    outputs.push_back(std::move(out));
  }
  if (!inputs.empty()) v["inputs"] = inputs;
  if (!outputs.empty()) v["outputs"] = outputs;
  return v;
}

// Opens a file the run wrote, for tarnd (perhaps root) to read: a regular file, not a link, and
// owned by the run's user when runs have one, so that a run cannot make tarnd read another
// file for it. -1 when it is not such a file.
int OpenRunFile(const std::string& path, int uid) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (uid >= 0 && st.st_uid != static_cast<uid_t>(uid))) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class FdSource final : public lake::ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  ~FdSource() override { ::close(fd_); }
  StatusOr<size_t> Read(char* buf, size_t n) override {
    ssize_t r = ::read(fd_, buf, n);
    if (r < 0) return InternalError("cannot read a run's file");
    return static_cast<size_t>(r);
  }

 private:
  int fd_;
};

// The bytes [offset, offset + limit) of fd, cut back to a whole UTF-8 character unless they
// reach the end.
std::string ReadRange(int fd, int64_t offset, int64_t limit, int64_t size) {
  int64_t n = std::max<int64_t>(0, std::min(limit, size - offset));
  std::string out(static_cast<size_t>(n), '\0');
  ssize_t r = n > 0 ? ::pread(fd, out.data(), out.size(), offset) : 0;
  out.resize(r > 0 ? static_cast<size_t>(r) : 0);
  if (offset + static_cast<int64_t>(out.size()) < size) {
    size_t i = out.size();
    size_t back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(out[i - 1]) & 0xC0) == 0x80) {
      --i;
      ++back;
    }
    if (i > 0) {
      unsigned char lead = static_cast<unsigned char>(out[i - 1]);
      size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (need > back + 1) out.resize(i - 1);
    }
  }
  return out;
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \r\n\t");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end - start + 1);
}

Status WriteFile(const std::string& path, const std::string& bytes, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return InternalError("cannot create " + path);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w <= 0) {
      ::close(fd);
      return InternalError("cannot write " + path);
    }
    done += static_cast<size_t>(w);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace

// The principal a job's run acts as: its submitter.
static identity::Caller SubmitterOf(const Json& job) {
  identity::Caller as;
  const Json& c = job["caller"];
  as.oid = c.value("oid", "");
  as.tid = c.value("tid", "");
  as.appid = c.value("appid", "");
  return as;
}

// The uid and gid the job's run executes as: its own (a target with per-run uids), or the
// target's run user; -1 for tarnd's own.
static int JobUid(const Json& job, const ComputeTarget* target) {
  return job.value("uid", target ? target->RunUid() : -1);
}
static int JobGid(const Json& job, const ComputeTarget* target) {
  return job.value("gid", target ? target->RunGid() : -1);
}

bool IsTerminal(const std::string& status) {
  return std::find(std::begin(kTerminal), std::end(kTerminal), status) != std::end(kTerminal);
}

JobService::JobService(JobOptions opts, tracking::TrackingStore* store,
                       tracking::TrackingService* tracking, identity::IdentityService* identity,
                       lake::LakeService* lake, catalog::CatalogService* catalog,
                       pipeline::PipelineService* pipelines)
    : opts_(std::move(opts)), store_(store), tracking_(tracking), identity_(identity),
      lake_(lake), catalog_(catalog), pipelines_(pipelines) {}

JobService::~JobService() { Stop(); }

void JobService::AddTarget(std::unique_ptr<ComputeTarget> target) {
  targets_.push_back(std::move(target));
}

void JobService::SetServer(const std::string& https_url, const std::string& ca_file) {
  std::lock_guard<std::mutex> l(mu_);
  https_url_ = https_url;
  ca_file_ = ca_file;
}

ComputeTarget* JobService::Target(const std::string& name) const {
  for (const auto& t : targets_) {
    if (t->Name() == name) return t.get();
  }
  return nullptr;
}

Json JobService::Computes() const {
  Json out = Json::array();
  for (const auto& t : targets_) out.push_back(t->Describe());
  return Json{{"value", out}};
}

bool JobService::IsActive(const std::string& run_id) const {
  std::lock_guard<std::mutex> l(mu_);
  return active_.count(run_id) > 0;
}

std::string JobService::WorkDir(const std::string& run_id) const {
  return opts_.work_root + "/" + run_id;
}

Status JobService::Save(const std::string& ws, const Json& job, bool active) {
  const std::string id = job["run_id"].get<std::string>();
  return store_->Write([&](tracking::TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.PutDoc("job", ws, id, job.dump()));
    if (active) return t.PutDoc("active_job", "", id, ws);
    return t.DeleteDoc("active_job", "", id).status();
  });
}

StatusOr<Json> JobService::Load(const std::string& ws, const std::string& run_id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(run_id);
    if (it != active_.end()) {
      if (it->second.ws != ws) return Error(Reason::kJobNotFound, "no job " + run_id);
      return it->second.job;
    }
  }
  std::optional<std::string> doc;
  TARN_RETURN_IF_ERROR(store_->Read([&](tracking::TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(doc, t.GetDoc("job", ws, run_id));
    return Status::Ok();
  }));
  if (!doc) {
    return Error(Reason::kJobNotFound, "workspace '" + ws + "' has no submitted run '" + run_id +
                                           "' (runs logged without submitting have no job)");
  }
  return Json::parse(*doc);
}

Status JobService::PrepareWorkDir(const std::string& run_id, const JobSpec& spec, int uid,
                                  int gid) {
  const std::string dir = WorkDir(run_id);
  std::error_code ec;
  for (const char* sub : {"", "/src", "/logs", "/tmp", "/.tarn"}) {
    if (!fs::create_directory(dir + sub, ec) || ec) {
      return InternalError("cannot make the run's directory " + dir + sub + ": " + ec.message());
    }
    ::chmod((dir + sub).c_str(), 0700);
  }
  for (const char* sub : {"/datasets", "/datasets/inputs", "/datasets/outputs"}) {
    fs::create_directory(dir + sub, ec);
  }
  for (const InputSpec& in : spec.inputs) {
    fs::create_directory(dir + "/datasets/inputs/" + in.name, ec);
  }
  for (const OutputSpec& o : spec.outputs) {
    fs::create_directory(dir + "/datasets/outputs/" + o.name, ec);
  }
  if (ec) return InternalError("cannot make the run's data folders: " + ec.message());
  for (const SnapshotFile& f : spec.snapshot) {
    const fs::path p = fs::path(dir + "/src") / f.path;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return InternalError("cannot write the snapshot: " + ec.message());
    TARN_RETURN_IF_ERROR(WriteFile(p.string(), f.content, 0600));
  }
  std::string base_python = spec.environment.python.empty() ? opts_.python
                                                            : spec.environment.python;
  LaunchPaths paths{dir + "/src", base_python, opts_.work_root + "/envs"};
  TARN_RETURN_IF_ERROR(WriteFile(dir + "/.tarn/launch.sh", LaunchScript(spec, paths), 0700));
  std::string ca;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!ca_file_.empty()) {
      std::ifstream in(ca_file_, std::ios::binary);
      ca.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  TARN_RETURN_IF_ERROR(WriteFile(dir + "/.tarn/ca.pem", ca, 0600));
  TARN_RETURN_IF_ERROR(WriteFile(dir + "/" + kLogFile,
                                 "[tarn] run " + run_id + " submitted to compute '" +
                                     spec.compute + "' at " + FormatIso8601(NowMicros()) + "\n",
                                 0640));
  if (uid >= 0) {
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (::lchown(it->path().c_str(), uid, gid) != 0) {
        return InternalError("cannot give the run's files to its user");
      }
    }
    if (ec || ::lchown(dir.c_str(), uid, gid) != 0) {
      return InternalError("cannot give the run's directory to its user");
    }
  }
  return Status::Ok();
}

StatusOr<Json> JobService::Submit(const std::string& ws, const Json& body, const Submitter& who) {
  if (who.caller.oid.empty()) {
    return Error(Reason::kRunIdentityRequired,
                 "submitting a run needs a signed-in identity for the run to act as: sign in "
                 "as a user (tarn login) or a service principal (Workspace.from_config(auth="
                 "ServicePrincipalAuthentication(...))). The account key cannot submit runs: a "
                 "run never gets the account key, only short-lived tokens of its submitter.");
  }
  TARN_ASSIGN_OR_RETURN(JobSpec spec, ParseJobSpec(body));
  ComputeTarget* target = Target(spec.compute);
  if (!target) {
    std::string names;
    for (const auto& t : targets_) names += (names.empty() ? "'" : ", '") + t->Name() + "'";
    return Error(Reason::kComputeNotFound,
                 "there is no compute target '" + spec.compute + "'; this tarnd has " +
                     (names.empty() ? std::string("none") : names) + " (GET computes)");
  }
  TARN_RETURN_IF_ERROR(target->Available());
  {
    std::lock_guard<std::mutex> l(mu_);
    if (https_url_.empty()) {
      return Error(Reason::kComputeUnavailable,
                   "runs need tarnd's HTTPS endpoint, which is off (tls_listen): a run logs "
                   "over https with its tokens");
    }
  }
  const catalog::ReadAs as{who.caller};
  Json inputs = Json::array();
  for (const InputSpec& in : spec.inputs) {
    auto v = catalog_->GetVersion(ws, in.dataset, in.version);
    if (!v.ok()) {
      return Status(v.status().reason(), "input '" + in.name + "': " + v.status().message());
    }
    inputs.push_back({{"name", in.name},
                      {"dataset", in.dataset},
                      {"version", v->value("version", int64_t{0})},
                      {"id", v->value("id", "")}});
  }
  for (const OutputSpec& o : spec.outputs) {
    auto w = catalog_->AuthorizeWrite(ws, o.datastore, WithRunId(o.path, "run"), as);
    if (!w.ok()) {
      return Status(w.status().reason(), "output '" + o.name + "': " + w.status().message());
    }
  }
  tracking::TrackingCaller tc{who.name, as};
  std::string exp_id;
  for (int attempt = 0; exp_id.empty() && attempt < 2; ++attempt) {
    auto got = tracking_->GetExperimentByName(ws, Json{{"experiment_name", spec.experiment_name}},
                                              tc);
    if (got.ok()) {
      exp_id = (*got)["experiment"].value("experiment_id", "");
      break;
    }
    if (got.status().reason() != Reason::kMlflowResourceDoesNotExist) return got.status();
    auto made = tracking_->CreateExperiment(ws, Json{{"name", spec.experiment_name}}, tc);
    if (made.ok()) exp_id = made->value("experiment_id", "");
    else if (made.status().reason() != Reason::kMlflowResourceAlreadyExists) return made.status();
  }
  Json tags = Json::array({Json{{"key", "mlflow.source.name"}, {"value", spec.script}},
                           Json{{"key", "mlflow.source.type"}, {"value", "JOB"}},
                           Json{{"key", "mlflow.user"}, {"value", who.name}},
                           Json{{"key", "tarn.compute"}, {"value", spec.compute}}});
  for (const auto& [k, v] : spec.tags) tags.push_back(Json{{"key", k}, {"value", v}});
  Json req = {{"experiment_id", exp_id}, {"start_time", NowMs()}, {"tags", tags}};
  if (!spec.run_name.empty()) req["run_name"] = spec.run_name;
  TARN_ASSIGN_OR_RETURN(Json run, tracking_->CreateRun(ws, req, tc));
  const Json info = run["run"]["info"];
  const std::string run_id = info.value("run_id", "");
  (void)tracking_->UpdateRun(ws, Json{{"run_id", run_id}, {"status", "SCHEDULED"}}, tc);

  const std::string base_python = spec.environment.python.empty() ? opts_.python
                                                                  : spec.environment.python;
  Json env = {{"name", spec.environment.name},
              {"hash", EnvironmentHash(spec.environment, base_python)},
              {"pip", spec.environment.pip},
              {"python", base_python}};
  Json job = {{"run_id", run_id},
              {"ws", ws},
              {"experiment_id", exp_id},
              {"experiment_name", spec.experiment_name},
              {"display_name", info.value("run_name", "")},
              {"artifact_uri", info.value("artifact_uri", "")},
              {"compute", spec.compute},
              {"status", "Queued"},
              {"script", spec.script},
              {"arguments", spec.arguments},
              {"environment", env},
              {"submitted_by", who.name},
              {"caller", {{"oid", who.caller.oid}, {"tid", who.caller.tid},
                          {"appid", who.caller.appid}}},
              {"created", NowMs()}};
  if (spec.timeout_s > 0) job["timeout_s"] = spec.timeout_s;
  if (!inputs.empty()) job["inputs"] = inputs;
  if (!spec.outputs.empty()) {
    Json outputs = Json::array();
    for (const OutputSpec& o : spec.outputs) {
      outputs.push_back({{"name", o.name},
                         {"datastore", o.datastore},
                         {"path", WithRunId(o.path, run_id)},
                         {"register_as", o.register_as},
                         {"format", o.format}});
    }
    job["outputs"] = outputs;
  }
  if (!inputs.empty()) {
    Json datasets = Json::array();
    for (const Json& in : inputs) {
      datasets.push_back(
          {{"dataset",
            {{"name", in["dataset"]},
             {"digest", in.value("id", "").substr(0, 8)},
             {"source_type", "tarn_dataset"},
             {"source", Json{{"dataset", in["dataset"]}, {"version", in["version"]}}.dump()}}},
           {"tags", Json::array({{{"key", "mlflow.data.context"}, {"value", "input"}}})}});
    }
    (void)tracking_->LogInputs(ws, Json{{"run_id", run_id}, {"datasets", datasets}}, tc);
  }
  ResolveDataArguments(spec, WorkDir(run_id));
  job["arguments"] = spec.arguments;
  if (auto range = target->UidRange()) {
    // A uid of its own, not held by an active run, taken round-robin so that a uid comes back
    // as late as possible.
    std::lock_guard<std::mutex> l(mu_);
    std::set<int> used;
    for (const auto& [id, a] : active_) used.insert(a.job.value("uid", -1));
    const int64_t size = int64_t{range->second} - range->first + 1;
    if (static_cast<int64_t>(used.size()) >= size) {
      return Error(Reason::kComputeUnavailable, "every uid of compute.local.run_uids is held "
                                                "by an active run: widen the range");
    }
    if (next_uid_ < range->first || next_uid_ > range->second) {
      next_uid_ = range->first + static_cast<int>(RandomU64() % static_cast<uint64_t>(size));
    }
    while (used.count(next_uid_)) {
      next_uid_ = next_uid_ >= range->second ? range->first : next_uid_ + 1;
    }
    job["uid"] = next_uid_;
    job["gid"] = target->RunGid();
    next_uid_ = next_uid_ >= range->second ? range->first : next_uid_ + 1;
  }
  Status prepared = PrepareWorkDir(run_id, spec, JobUid(job, target), JobGid(job, target));
  if (prepared.ok()) prepared = Save(ws, job, true);
  if (!prepared.ok()) {
    std::error_code ec;
    fs::remove_all(WorkDir(run_id), ec);
    (void)tracking_->UpdateRun(ws, Json{{"run_id", run_id}, {"status", "FAILED"},
                                        {"end_time", NowMs()}}, tc);
    return prepared;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    active_[run_id] = Active{ws, job, false};
  }
  wake_.notify_all();
  spdlog::info("run {} of workspace {} queued on compute {}", run_id, ws, spec.compute);
  return View(job);
}

StatusOr<Json> JobService::Get(const std::string& ws, const std::string& run_id,
                               int64_t wait_ms) {
  if (wait_ms > 0) {
    std::unique_lock<std::mutex> l(mu_);
    changed_.wait_for(l, std::chrono::milliseconds(wait_ms),
                      [&] { return stopping_ || active_.count(run_id) == 0; });
  }
  TARN_ASSIGN_OR_RETURN(Json job, Load(ws, run_id));
  return View(job);
}

StatusOr<Json> JobService::List(const std::string& ws, const std::string& experiment_name,
                                int64_t limit) {
  std::vector<tracking::KeyValue> docs;
  TARN_RETURN_IF_ERROR(store_->Read([&](tracking::TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(docs, t.ListDocs("job", ws, ""));
    return Status::Ok();
  }));
  std::vector<Json> jobs;
  for (const auto& [id, doc] : docs) {
    Json j = Json::parse(doc, nullptr, false);
    if (j.is_discarded()) continue;
    if (!experiment_name.empty() && j.value("experiment_name", "") != experiment_name) continue;
    jobs.push_back(std::move(j));
  }
  std::sort(jobs.begin(), jobs.end(), [](const Json& a, const Json& b) {
    return a.value("created", int64_t{0}) > b.value("created", int64_t{0});
  });
  Json out = Json::array();
  for (const Json& j : jobs) {
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
    out.push_back(View(j));
  }
  return Json{{"value", out}};
}

StatusOr<Json> JobService::Logs(const std::string& ws, const std::string& run_id, int64_t offset,
                                int64_t limit) {
  TARN_ASSIGN_OR_RETURN(Json job, Load(ws, run_id));
  if (offset < 0) return Error(Reason::kInvalidInput, "offset must be at least 0");
  limit = std::clamp<int64_t>(limit <= 0 ? (1 << 20) : limit, 1, 1 << 20);
  const int uid = JobUid(job, Target(job.value("compute", "")));
  const bool ended = IsTerminal(job.value("status", ""));
  int fd = OpenRunFile(WorkDir(run_id) + "/" + kLogFile, uid);
  std::string text;
  int64_t size = 0;
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) size = st.st_size;
    text = ReadRange(fd, std::min(offset, size), limit, size);
    ::close(fd);
  }
  const int64_t from = std::min(offset, size);
  const int64_t next = from + static_cast<int64_t>(text.size());
  // Invalid UTF-8 (a script's binary output) is shown as U+FFFD, never refused.
  Json clean = Json::parse(Json(text).dump(-1, ' ', false, Json::error_handler_t::replace));
  return Json{{"offset", from},
              {"next_offset", next},
              {"size", size},
              {"text", clean},
              {"complete", ended && next >= size}};
}

StatusOr<Json> JobService::Cancel(const std::string& ws, const std::string& run_id) {
  {
    // Only the monitor thread writes an active job's record: it carries the request out
    // (stops the process, or ends a queued run) on its next round, which this wakes.
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(run_id);
    if (it != active_.end() && it->second.ws == ws) {
      Json& job = it->second.job;
      job["cancel_requested"] = true;
      if (job.value("status", "") != "Queued") job["status"] = "CancelRequested";
      Json copy = job;
      wake_.notify_all();
      return View(copy);
    }
  }
  // Not active: it has ended (cancelling it changes nothing) or does not exist.
  TARN_ASSIGN_OR_RETURN(Json job, Load(ws, run_id));
  return View(job);
}

StatusOr<int> JobService::Recover() {
  std::vector<tracking::KeyValue> index;
  std::vector<std::pair<std::string, Json>> jobs;
  TARN_RETURN_IF_ERROR(store_->Read([&](tracking::TrackingTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(index, t.ListDocs("active_job", "", ""));
    for (const auto& [id, ws] : index) {
      TARN_ASSIGN_OR_RETURN(auto doc, t.GetDoc("job", ws, id));
      if (!doc) continue;
      Json j = Json::parse(*doc, nullptr, false);
      if (!j.is_discarded()) jobs.emplace_back(ws, std::move(j));
    }
    return Status::Ok();
  }));
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [ws, job] : jobs) {
    const std::string id = job.value("run_id", "");
    active_[id] = Active{ws, std::move(job), false};
  }
  return static_cast<int>(jobs.size());
}

void JobService::Start() { monitor_ = std::thread(&JobService::Monitor, this); }

void JobService::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  changed_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

void JobService::Monitor() {
  struct Item {
    std::string id, compute, handle, status;
    int64_t created = 0;
    bool cancel = false, signaled = false;
  };
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    wake_.wait_for(l, std::chrono::milliseconds(opts_.poll_ms));
    if (stopping_) break;
    std::vector<Item> items;
    for (const auto& [id, a] : active_) {
      items.push_back(Item{id, a.job.value("compute", ""), a.job.value("handle", ""),
                           a.job.value("status", ""), a.job.value("created", int64_t{0}),
                           a.job.value("cancel_requested", false), a.signaled});
    }
    l.unlock();
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.created < b.created; });
    std::map<std::string, int> busy;
    for (const Item& it : items) {
      if (it.status != "Queued") ++busy[it.compute];
    }
    for (const Item& it : items) {
      ComputeTarget* target = Target(it.compute);
      if (it.status == "Queued") {
        if (it.cancel) {
          Finish(it.id, "Canceled", -1, "the run was cancelled before it started");
        } else if (!target) {
          Finish(it.id, "Failed", -1, "compute target '" + it.compute + "' no longer exists");
        } else if (busy[it.compute] < target->Capacity()) {
          ++busy[it.compute];
          StartRun(it.id, *target);
        }
        continue;
      }
      if (it.handle.empty() || !target) {
        Finish(it.id, "Failed", -1, "tarnd stopped while it was starting the run");
        continue;
      }
      if (it.cancel && !it.signaled) {
        (void)target->Cancel(it.handle);
        Json copy;
        {
          std::lock_guard<std::mutex> g(mu_);
          auto a = active_.find(it.id);
          if (a != active_.end()) {
            a->second.signaled = true;
            copy = a->second.job;
          }
        }
        if (!copy.is_null()) (void)Save(copy.value("ws", ""), copy, true);
      }
      Observed o = target->Poll(it.handle, WorkDir(it.id));
      if (o.state == Observed::State::kRunning) continue;
      if (o.state == Observed::State::kLost) {
        Finish(it.id, "Failed", -1,
               "the run's supervisor ended without leaving an outcome (was the machine "
               "restarted?)");
        continue;
      }
      OnEnded(it.id, o);
    }
    l.lock();
  }
}

void JobService::OnEnded(const std::string& run_id, const Observed& o) {
  std::string tail;
  int uid = -1;
  int64_t timeout = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(run_id);
    if (it == active_.end()) return;
    uid = JobUid(it->second.job, Target(it->second.job.value("compute", "")));
    timeout = it->second.job.value("timeout_s", int64_t{0});
  }
  int fd = OpenRunFile(WorkDir(run_id) + "/" + kLogFile, uid);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      tail = LastLine(ReadRange(fd, std::max<int64_t>(0, st.st_size - 4096), 4096, st.st_size));
    }
    ::close(fd);
  }
  auto with_tail = [&](std::string msg) {
    if (!tail.empty() && tail.rfind("[tarn]", 0) != 0) msg += ": " + tail;
    return msg;
  };
  if (o.reason == "cancelled") {
    Finish(run_id, "Canceled", o.exit_code, "the run was cancelled");
  } else if (o.reason == "timeout") {
    Finish(run_id, "Failed", o.exit_code,
           "the run exceeded its time limit" +
               (timeout > 0 ? " of " + std::to_string(timeout) + " s" : std::string()) +
               " and was stopped");
  } else if (o.exit_code == 0 && !o.signaled) {
    Finish(run_id, "Completed", 0, "");
  } else if (o.exit_code == kEnvironmentBuildFailed && !o.signaled) {
    Finish(run_id, "Failed", o.exit_code,
           "the environment could not be built: see pip's output in the run's log");
  } else if ((o.exit_code == 125 || o.exit_code == 126) && !o.signaled) {
    Finish(run_id, "Failed", o.exit_code,
           "the run could not start as its user or in its directory (compute.local in "
           "tarnd's configuration)");
  } else if (o.signaled) {
    Finish(run_id, "Failed", o.exit_code,
           with_tail("the script was killed by signal " + std::to_string(o.exit_code - 128)));
  } else {
    Finish(run_id, "Failed", o.exit_code,
           with_tail("the script exited with code " + std::to_string(o.exit_code)));
  }
}

void JobService::StartRun(const std::string& run_id, ComputeTarget& target) {
  Json job;
  std::string url, ca;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(run_id);
    if (it == active_.end()) return;
    it->second.job["status"] = "Starting";
    job = it->second.job;
    url = https_url_;
  }
  // Recorded before the process exists: a tarnd that stops in between finds a run that was
  // starting, and fails it rather than starting it twice.
  (void)Save(job.value("ws", ""), job, true);
  const std::string ws = job.value("ws", "");
  const std::string dir = WorkDir(run_id);
  const int64_t max_run = target.Describe().value("max_run_s", int64_t{86400});
  const int64_t timeout = job.value("timeout_s", int64_t{0});
  const int64_t lifetime = (timeout > 0 ? std::min(timeout, max_run) : max_run) + 600;
  const identity::Caller as = SubmitterOf(job);
  auto tracking_token = identity_->IssueRunToken(as, run_id, identity::Audience::kTracking,
                                                 NowMicros() / 1000000 + lifetime);
  auto workspace_token = identity_->IssueRunToken(as, run_id, identity::Audience::kWorkspace,
                                                  NowMicros() / 1000000 + lifetime);
  if (!tracking_token.ok() || !workspace_token.ok()) {
    Finish(run_id, "Failed", -1, "no token could be issued for the run: " +
                                     (tracking_token.ok() ? workspace_token.status()
                                                          : tracking_token.status())
                                         .message());
    return;
  }
  if (job.contains("inputs")) {
    if (Status s = DownloadInputs(job, target); !s.ok()) {
      Finish(run_id, "Failed", -1, s.message());
      return;
    }
  }
  const std::string ws_url = url + "/workspaces/" + PercentEncode(ws);
  std::vector<std::string> env = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "HOME=" + dir,
      "TMPDIR=" + dir + "/tmp",
      "LANG=C.UTF-8",
      "PYTHONUNBUFFERED=1",
      "MLFLOW_TRACKING_URI=" + ws_url + "/mlflow",
      "MLFLOW_TRACKING_TOKEN=" + *tracking_token,
      "MLFLOW_TRACKING_SERVER_CERT_PATH=" + dir + "/.tarn/ca.pem",
      "MLFLOW_RUN_ID=" + run_id,
      "MLFLOW_EXPERIMENT_ID=" + job.value("experiment_id", ""),
      "TARN_RUN_ID=" + run_id,
      "AZUREML_RUN_ID=" + run_id,
      "TARN_WORKSPACE=" + ws,
      "TARN_ENDPOINT=" + url,
      "TARN_WORKSPACE_TOKEN=" + *workspace_token,
      "TARN_CA_FILE=" + dir + "/.tarn/ca.pem",
  };
  // Where each input and output is: TARN_INPUTS / TARN_OUTPUTS (JSON), and azureml's
  // AZUREML_DATAREFERENCE_<name>.
  Json data_in = Json::object(), data_out = Json::object();
  for (const Json& in : job.value("inputs", Json::array())) {
    data_in[in.value("name", "")] = dir + "/datasets/inputs/" + in.value("name", "");
  }
  for (const Json& o : job.value("outputs", Json::array())) {
    data_out[o.value("name", "")] = dir + "/datasets/outputs/" + o.value("name", "");
  }
  for (const Json* side : {&data_in, &data_out}) {
    for (const auto& [name, path] : side->items()) {
      env.push_back("AZUREML_DATAREFERENCE_" + name + "=" + path.get<std::string>());
    }
  }
  env.push_back("TARN_INPUTS=" + data_in.dump());
  env.push_back("TARN_OUTPUTS=" + data_out.dump());
  env.insert(env.end(), opts_.env.begin(), opts_.env.end());
  Launch launch{run_id, dir, dir + "/src", dir + "/.tarn/launch.sh", std::move(env), timeout,
                job.value("uid", -1), job.value("gid", -1)};
  auto handle = target.Start(launch);
  if (!handle.ok()) {
    Finish(run_id, "Failed", -1, handle.status().message());
    return;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(run_id);
    if (it == active_.end()) return;
    Json& j = it->second.job;
    j["handle"] = *handle;
    j["status"] = j.value("cancel_requested", false) ? "CancelRequested" : "Running";
    j["started"] = NowMs();
    job = j;
  }
  (void)Save(ws, job, true);
  SetRunStatus(job, "RUNNING", -1);
  changed_.notify_all();
  spdlog::info("run {} started on compute {} ({})", run_id, target.Name(), *handle);
}

void JobService::Finish(const std::string& run_id, const std::string& status, int exit_code,
                        const std::string& error) {
  Json job;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(run_id);
    if (it == active_.end()) return;
    job = it->second.job;
  }
  job["status"] = status;
  job["ended"] = NowMs();
  if (exit_code >= 0) job["exit_code"] = exit_code;
  if (!error.empty()) job["error"] = error;
  job.erase("cancel_requested");
  if (status == "Completed" && job.contains("outputs")) {
    if (Status s = WriteBack(job); !s.ok()) {
      job["status"] = "Failed";
      job["error"] = "the run's outputs could not be written back: " + s.message();
    }
  }
  UploadArtifacts(job);
  const std::string ended = job.value("status", status);
  SetRunStatus(job, ended == "Completed" ? "FINISHED" : ended == "Canceled" ? "KILLED" : "FAILED",
               exit_code);
  if (Status s = Save(job.value("ws", ""), job, false); !s.ok()) {
    spdlog::error("run {}: cannot record its end: {}", run_id, s.ToString());
  }
  std::error_code ec;
  // The log and the outcome stay; the snapshot, the inputs' copies and the written-back outputs
  // (now in the lake) go.
  for (const char* sub : {"/src", "/tmp", "/.tarn", "/datasets"}) {
    fs::remove_all(WorkDir(run_id) + sub, ec);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    active_.erase(run_id);
  }
  changed_.notify_all();
  spdlog::info("run {} ended: {}{}", run_id, ended,
               job.contains("error") ? " (" + job.value("error", "") + ")" : "");
}

void JobService::UploadArtifacts(Json& job) {
  const std::string ws = job.value("ws", ""), id = job.value("run_id", "");
  const std::string uri = job.value("artifact_uri", "");
  const std::string scheme = "mlflow-artifacts:/";
  Json warnings = Json::array();
  auto warn = [&](const std::string& w) {
    warnings.push_back(w);
    spdlog::warn("run {}: {}", id, w);
  };
  const identity::Caller as = SubmitterOf(job);
  tracking::TrackingCaller tc{job.value("submitted_by", ""), catalog::ReadAs{as}};
  auto at = tracking_->ArtifactTarget(ws, tc, /*for_write=*/true);
  if (uri.rfind(scheme, 0) != 0 || !at.ok()) {
    warn("the run's log and outputs were not kept as artifacts: " +
         (at.ok() ? "its artifact location " + uri + " is not in the lake"
                  : at.status().message()));
    job["warnings"] = warnings;
    return;
  }
  const std::string base = std::string(tracking::TrackingService::kArtifactFolder) + "/" +
                           uri.substr(scheme.size()) + "/";
  const int uid = JobUid(job, Target(job.value("compute", "")));
  auto put = [&](const std::string& file, const std::string& name) {
    int fd = OpenRunFile(file, uid);
    if (fd < 0) {
      warn("'" + name + "' was not kept: it is not a regular file of the run");
      return int64_t{-1};
    }
    struct stat st {};
    ::fstat(fd, &st);
    FdSource src(fd);
    lake::PutOptions o;
    o.creator = as.oid;
    auto r = lake_->PutFile(at->account, at->filesystem, base + name, src, o);
    if (!r.ok()) warn("'" + name + "' was not kept: " + r.status().message());
    return static_cast<int64_t>(st.st_size);
  };
  put(WorkDir(id) + "/" + kLogFile, "user_logs/std_log.txt");
  const fs::path src = WorkDir(id) + "/src";
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(src / "outputs", ec))) {
    int64_t total = 0;
    int files = 0;
    for (auto it = fs::recursive_directory_iterator(src / "outputs", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!fs::is_regular_file(it->symlink_status())) continue;
      const std::string name = fs::relative(it->path(), src, ec).generic_string();
      if (ec || ++files > 10000 || total > opts_.max_outputs_bytes) {
        warn("./outputs holds more than 10,000 files or " +
             std::to_string(opts_.max_outputs_bytes >> 20) +
             " MiB: the rest was not kept (write large outputs to a datastore)");
        break;
      }
      int64_t n = put(it->path().string(), name);
      if (n > 0) total += n;
    }
  }
  if (!warnings.empty()) job["warnings"] = warnings;
}

Status JobService::DownloadInputs(const Json& job, ComputeTarget& target) {
  const std::string ws = job.value("ws", ""), dir = WorkDir(job.value("run_id", ""));
  const identity::Caller as = SubmitterOf(job);
  const catalog::ReadAs read_as{as};
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  for (const Json& in : job["inputs"]) {
    const std::string name = in.value("name", ""), dataset = in.value("dataset", "");
    const std::string version = std::to_string(in.value("version", int64_t{0}));
    const std::string where = "input '" + name + "' (dataset " + dataset + " version " + version +
                              ")";
    const std::string root = dir + "/datasets/inputs/" + name;
    for (int64_t marker = 0;;) {
      auto page = catalog_->ListFiles(ws, dataset, version, marker, 1000);
      if (!page.ok()) return Status(page.status().reason(), where + ": " + page.status().message());
      for (const Json& f : (*page)["files"]) {
        const std::string rel = f.value("path", "");
        if (!IsSafeRelativePath(rel)) return InternalError(where + ": a file has an unsafe path");
        auto r = catalog_->OpenFile(ws, dataset, version, f.value("index", int64_t{0}),
                                    std::nullopt, false, read_as);
        if (!r.ok()) return Status(r.status().reason(), where + ": " + r.status().message());
        const fs::path target_path = fs::path(root) / rel;
        std::error_code ec;
        fs::create_directories(target_path.parent_path(), ec);
        int out = ::open(target_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0640);
        if (out < 0) return InternalError(where + ": cannot write " + target_path.string());
        auto write_all = [&](std::string_view chunk) -> Status {
          while (!chunk.empty()) {
            ssize_t w = ::write(out, chunk.data(), chunk.size());
            if (w <= 0) return InternalError(where + ": cannot write its files (disk full?)");
            chunk.remove_prefix(static_cast<size_t>(w));
          }
          return Status::Ok();
        };
        Status copied = Status::Ok();
        if (r->local) {
          for (auto& piece : r->local->pieces) {
            for (int64_t off = piece.offset, left = piece.length; copied.ok() && left > 0;) {
              auto n = piece.reader->ReadAt(
                  off, buf.get(), static_cast<size_t>(std::min<int64_t>(left, 1 << 20)));
              if (!n.ok() || *n == 0) {
                copied = InternalError(where + ": a file is shorter than its metadata says");
                break;
              }
              copied = write_all(std::string_view(buf.get(), *n));
              off += static_cast<int64_t>(*n);
              left -= static_cast<int64_t>(*n);
            }
          }
        } else {
          copied = r->remote(write_all);
        }
        ::close(out);
        TARN_RETURN_IF_ERROR(copied);
      }
      const std::string next = (*page).value("next_marker", "");
      if (next.empty() || !ParseInt64(next, &marker)) break;
    }
  }
  if (const int uid = JobUid(job, &target); uid >= 0) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir + "/datasets/inputs", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (::lchown(it->path().c_str(), uid, JobGid(job, &target)) != 0) {
        return InternalError("cannot give the inputs to the run's user");
      }
    }
  }
  return Status::Ok();
}

Status JobService::WriteBack(Json& job) {
  const std::string ws = job.value("ws", ""), id = job.value("run_id", "");
  const identity::Caller as = SubmitterOf(job);
  const catalog::ReadAs read_as{as};
  const int uid = JobUid(job, Target(job.value("compute", "")));
  Json lineage_inputs = Json::array();
  for (const Json& in : job.value("inputs", Json::array())) {
    lineage_inputs.push_back(
        {{"dataset", in["dataset"]}, {"version", in["version"]}, {"id", in["id"]}});
  }
  for (Json& o : job["outputs"]) {
    const std::string name = o.value("name", ""), path = o.value("path", "");
    TARN_ASSIGN_OR_RETURN(catalog::WriteTarget at,
                          catalog_->AuthorizeWrite(ws, o.value("datastore", ""), path, read_as));
    const fs::path root = WorkDir(id) + "/datasets/outputs/" + name;
    std::error_code ec;
    int64_t files = 0;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!fs::is_regular_file(it->symlink_status())) continue;
      const std::string rel = fs::relative(it->path(), root, ec).generic_string();
      if (ec || !IsSafeRelativePath(rel)) continue;
      int fd = OpenRunFile(it->path().string(), uid);
      if (fd < 0) continue;
      FdSource src(fd);
      lake::PutOptions put;
      put.creator = as.oid;
      auto r = lake_->PutFile(at.account, at.filesystem, path + "/" + rel, src, put);
      if (!r.ok()) {
        return Status(r.status().reason(),
                      "output '" + name + "': " + rel + ": " + r.status().message());
      }
      ++files;
    }
    o["files"] = files;
    if (files == 0) {
      return Error(Reason::kEmptyDataset, "output '" + name + "' is empty: the script wrote no "
                                          "files into its folder");
    }
    const std::string dataset = o.value("register_as", "");
    if (dataset.empty()) continue;
    const std::string format = o.value("format", "");
    Json definition = {{"kind", format.empty() ? "file" : "tabular"},
                       {"paths", Json::array({{{"datastore", o["datastore"]}, {"path", path}}})}};
    if (!format.empty()) definition["format"] = format;
    Json body = {{"create_new_version", true},
                 {"description", "written by run " + id + " of experiment " +
                                     job.value("experiment_name", "")},
                 {"tags", {{"run_id", id}, {"experiment", job.value("experiment_name", "")}}},
                 {"lineage", {{"run_id", id}, {"inputs", lineage_inputs}}},
                 {"definition", definition}};
    auto v = catalog_->RegisterVersion(ws, dataset, body, job.value("submitted_by", ""), read_as);
    if (!v.ok()) {
      return Status(v.status().reason(), "output '" + name + "' was written to " + path +
                                             " but not registered as " + dataset + ": " +
                                             v.status().message());
    }
    o["dataset"] = dataset;
    o["version"] = v->value("version", int64_t{0});
  }
  // One OpenLineage event: the run read its inputs and wrote its registered outputs.
  if (pipelines_) {
    Json in = Json::array(), out = Json::array();
    for (const Json& i : job.value("inputs", Json::array())) {
      auto d = pipelines_->LineageDataset(ws, i.value("dataset", ""), i.value("version", 0));
      if (d.ok()) in.push_back(*d);
    }
    for (const Json& o : job["outputs"]) {
      if (!o.contains("version")) continue;
      auto d = pipelines_->LineageDataset(ws, o.value("dataset", ""), o.value("version", 0));
      if (d.ok()) out.push_back(*d);
    }
    if (!out.empty()) {
      Json event = {{"eventType", "COMPLETE"},
                    {"eventTime", FormatIso8601(NowMicros())},
                    {"producer", pipeline::kLineageProducer},
                    {"schemaURL", pipeline::kLineageRunEventSchema},
                    {"run", {{"runId", id}}},
                    {"job", {{"namespace", "tarn:" + ws},
                             {"name", job.value("experiment_name", "") + "." +
                                          job.value("script", "")}}},
                    {"inputs", in},
                    {"outputs", out}};
      if (Status s = pipelines_->RecordEvent(ws, event); !s.ok()) {
        spdlog::warn("run {}: its lineage was not recorded: {}", id, s.message());
      }
    }
  }
  return Status::Ok();
}

void JobService::SetRunStatus(const Json& job, const std::string& mlflow_status, int exit_code) {
  const std::string ws = job.value("ws", ""), id = job.value("run_id", "");
  tracking::TrackingCaller tc{job.value("submitted_by", ""), {}};
  Json req = {{"run_id", id}, {"status", mlflow_status}};
  if (mlflow_status != "RUNNING") req["end_time"] = NowMs();
  (void)tracking_->UpdateRun(ws, req, tc);
  if (exit_code >= 0) {
    (void)tracking_->SetTag(
        ws, Json{{"run_id", id}, {"key", "tarn.exit_code"}, {"value", std::to_string(exit_code)}},
        tc);
  }
}

}  // namespace tarn::compute
