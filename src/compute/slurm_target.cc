#include "compute/slurm_target.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "common/strings.h"
#include "compute/command.h"
#include "compute/job_spec.h"

namespace tarn::compute {
namespace {

std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Observed ParseSlurmJob(const std::string& text) {
  Observed o;
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    size_t eq = word.find('=');
    if (eq != std::string::npos) fields.emplace(word.substr(0, eq), word.substr(eq + 1));
  }
  auto state = fields.find("JobState");
  if (state == fields.end() || !fields.count("JobId")) {
    o.state = Observed::State::kLost;
    return o;
  }
  const std::string& s = state->second;
  if (s == "PENDING" || s == "CONFIGURING" || s == "RUNNING" || s == "COMPLETING" ||
      s == "SUSPENDED" || s == "REQUEUED" || s == "RESIZING" || s == "SIGNALING" ||
      s == "STAGE_OUT") {
    return o;
  }
  // ExitCode=<code>:<signal>
  int64_t code = 0, sig = 0;
  const std::string ec = fields.count("ExitCode") ? fields["ExitCode"] : "";
  size_t colon = ec.find(':');
  if (colon != std::string::npos &&
      (!ParseInt64(ec.substr(0, colon), &code) || !ParseInt64(ec.substr(colon + 1), &sig) ||
       code < 0 || code > 255 || sig < 0 || sig > 127)) {
    o.state = Observed::State::kLost;  // not an exit status a process can have
    return o;
  }
  o.state = Observed::State::kEnded;
  o.reason = s == "CANCELLED" ? "cancelled" : s == "TIMEOUT" || s == "DEADLINE" ? "timeout"
                                                                                   : "done";
  o.signaled = sig > 0;
  o.exit_code = static_cast<int>(sig > 0 ? 128 + sig : code);
  if (s != "COMPLETED" && o.reason == "done" && o.exit_code == 0) o.exit_code = 1;  // NODE_FAIL...
  return o;
}

StatusOr<std::unique_ptr<SlurmTarget>> SlurmTarget::Create(const SlurmTargetOptions& opts) {
  std::unique_ptr<SlurmTarget> t(new SlurmTarget(opts));
  const bool root = ::geteuid() == 0;
  if (!opts.user.empty()) {
    TARN_ASSIGN_OR_RETURN(RunUser found, LookUpRunUser(opts.user, "compute.slurm.user"));
    t->uid_ = found.uid;
    t->gid_ = found.gid;
  } else if (root) {
    t->refusal_ = Error(Reason::kComputeUnavailable,
                        "tarnd runs as root and compute.slurm.user names no user, and jobs "
                        "never run as root: name an unprivileged user in compute.slurm.user");
  }
  if (opts.max_concurrent < 1 || opts.max_run_s < 60) {
    return Error(Reason::kInvalidInput,
                 "compute.slurm: max_concurrent must be at least 1 and max_run_s at least 60");
  }
  return t;
}

std::string SlurmTarget::Bin(const char* tool) const {
  return opts_.bin_dir.empty() ? std::string(tool) : opts_.bin_dir + "/" + tool;
}

std::vector<std::string> SlurmTarget::Env(std::vector<std::string> env) const {
  env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  if (!opts_.slurm_conf.empty()) env.push_back("SLURM_CONF=" + opts_.slurm_conf);
  return env;
}

nlohmann::json SlurmTarget::Describe() const {
  nlohmann::json d = {{"name", opts_.name},
                      {"type", "slurm"},
                      {"available", refusal_.ok()},
                      {"max_concurrent", opts_.max_concurrent},
                      {"max_run_s", opts_.max_run_s}};
  if (!opts_.partition.empty()) d["partition"] = opts_.partition;
  if (!refusal_.ok()) d["why_not"] = refusal_.message();
  return d;
}

StatusOr<std::string> SlurmTarget::Start(const Launch& launch) {
  TARN_RETURN_IF_ERROR(refusal_);
  // The job's script: the launch script, then the outcome file, for when the controller has
  // forgotten the job.
  const std::string job_script = launch.work_dir + "/.tarn/slurm.sh";
  const std::string status = launch.work_dir + "/" + kStatusFile;
  {
    std::ofstream out(job_script, std::ios::trunc);
    out << "#!/bin/sh\n"
        << "/bin/sh " << ShellQuote(launch.script) << "\n"
        << "code=$?\n"
        << "printf 'done exit %s\\n' \"$code\" > " << ShellQuote(status + ".tmp") << " && mv "
        << ShellQuote(status + ".tmp") << " " << ShellQuote(status) << "\n"
        << "exit $code\n";
    if (!out) return InternalError("cannot write the job's script");
  }
  if (uid_ >= 0 && ::chown(job_script.c_str(), uid_, gid_) != 0) {
    return InternalError("cannot give the job's script to its user");
  }
  const int64_t limit = launch.timeout_s > 0 ? std::min(launch.timeout_s, opts_.max_run_s)
                                             : opts_.max_run_s;
  std::vector<std::string> argv = {Bin("sbatch"),
                                   "--parsable",
                                   "--job-name=tarn-" + launch.run_id,
                                   "--chdir=" + launch.src_dir,
                                   "--output=" + launch.work_dir + "/" + kLogFile,
                                   "--open-mode=append",
                                   "--time=" + std::to_string((limit + 59) / 60),
                                   "--export=ALL"};
  if (uid_ >= 0) {
    argv.push_back("--uid=" + std::to_string(uid_));
    argv.push_back("--gid=" + std::to_string(gid_));
  }
  if (!opts_.partition.empty()) argv.push_back("--partition=" + opts_.partition);
  argv.push_back(job_script);
  // The run's environment is the job's (--export=ALL exports sbatch's own, which is exactly
  // it): its tokens travel to the job, never on a command line.
  TARN_ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, Env(launch.env), 60));
  std::string id = r.output;
  id.erase(id.find_last_not_of(" \t\r\n") + 1);
  if (size_t semi = id.find(';'); semi != std::string::npos) id.resize(semi);  // "id;cluster"
  int64_t n = 0;
  if (r.exit_code != 0 || !ParseInt64(id, &n)) {
    return Error(Reason::kComputeUnavailable,
                 "sbatch refused the run: " + r.output.substr(0, 500));
  }
  return "slurm:" + id;
}

Observed SlurmTarget::Poll(const std::string& handle, const std::string& work_dir) {
  const std::string id = handle.rfind("slurm:", 0) == 0 ? handle.substr(6) : "";
  int64_t n = 0;
  if (ParseInt64(id, &n)) {
    auto r = RunCommand({Bin("scontrol"), "show", "job", "-o", id}, Env({}), 30);
    if (r.ok() && r->exit_code == 0) {
      Observed o = ParseSlurmJob(r->output);
      if (o.state != Observed::State::kLost) return o;
    } else if (!r.ok() || r->timed_out ||
               r->output.find("Invalid job id") == std::string::npos) {
      return Observed{};  // the controller did not answer: ask again later
    }
  }
  return ParseOutcome(ReadSmall(work_dir + "/" + kStatusFile));
}

Status SlurmTarget::Cancel(const std::string& handle) {
  const std::string id = handle.rfind("slurm:", 0) == 0 ? handle.substr(6) : "";
  int64_t n = 0;
  if (!ParseInt64(id, &n)) return Status::Ok();
  TARN_ASSIGN_OR_RETURN(CommandResult r, RunCommand({Bin("scancel"), id}, Env({}), 30));
  if (r.exit_code != 0) {
    return Error(Reason::kComputeUnavailable, "scancel failed: " + r.output.substr(0, 500));
  }
  return Status::Ok();
}

}  // namespace tarn::compute
