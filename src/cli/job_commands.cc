// tarn job submit|show|logs|cancel|list and tarn compute list: runs of a script on a compute
// target (docs/cli.md), the CLI's face of tarn.core's exp.submit(ScriptRunConfig). Submitting
// sends the source directory as the run's snapshot; --wait follows the run's log as it grows.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::cli {
namespace {

using client::Json;
namespace fs = std::filesystem;

constexpr size_t kMaxFiles = 2000;
constexpr uintmax_t kMaxBytes = 64u << 20;

// The source directory's files, as the snapshot's JSON: what azureml's ScriptRunConfig sends,
// less version-control and cache folders.
StatusOr<Json> Snapshot(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(Code::kInvalidArgument, "--source-dir " + dir + " is not a directory");
  }
  Json files = Json::array();
  uintmax_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() &&
        (name == ".git" || name == "__pycache__" || name == ".ipynb_checkpoints" ||
         name == ".venv" || name == "outputs")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    bytes += it->file_size();
    if (files.size() + 1 > kMaxFiles || bytes > kMaxBytes) {
      return Status(Code::kInvalidArgument,
                    "the source directory " + dir + " holds more than 2000 files or 64 MiB: "
                    "keep data out of it (read it from datasets)");
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    files.push_back(Json{{"path", fs::relative(it->path(), dir).generic_string()},
                         {"content", Base64Encode(content.str())}});
  }
  if (ec) return Status(Code::kInvalidArgument, "cannot read " + dir + ": " + ec.message());
  return files;
}

// Prints the run's log from *offset as it grows, until the run ends; returns the run.
StatusOr<Json> Follow(Globals& g, const std::string& id, int64_t timeout_s, bool print) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int64_t offset = 0;
  for (;;) {
    if (print) {
      for (;;) {
        TARN_ASSIGN_OR_RETURN(Json part, g.catalog->WorkspaceApi("GET", g.conn.workspace,
                                                                 "jobs/" + id + "/logs",
                                                                 {{"offset",
                                                                   std::to_string(offset)}}));
        const std::string text = part.value("text", "");
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        offset = part.value("next_offset", offset);
        if (text.empty() ||
            part.value("next_offset", int64_t{0}) >= part.value("size", int64_t{0})) {
          break;
        }
      }
    }
    TARN_ASSIGN_OR_RETURN(Json job, g.catalog->WorkspaceApi("GET", g.conn.workspace, "jobs/" + id,
                                                            {{"wait", print ? "2000" : "5000"}}));
    const std::string status = job.value("status", "");
    if (status == "Completed" || status == "Failed" || status == "Canceled") {
      if (print) {  // the log's last lines
        TARN_ASSIGN_OR_RETURN(Json part, g.catalog->WorkspaceApi("GET", g.conn.workspace,
                                                                 "jobs/" + id + "/logs",
                                                                 {{"offset",
                                                                   std::to_string(offset)}}));
        Print(part.value("text", ""));
      }
      return job;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Code::kUnavailable, "run " + id + " is still " + status + " after " +
                                            std::to_string(timeout_s) +
                                            " s: follow it with `tarn job logs " + id + " -f`");
    }
  }
}

Status Ended(Globals& g, const Json& job) {
  if (g.json) {
    PrintJson(job);
  } else {
    std::string line = "run " + job.value("run_id", "") + " " + job.value("status", "");
    if (job.contains("exit_code") && !job["exit_code"].is_null()) {
      line += " (exit code " + Cell(job, "exit_code") + ")";
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  const std::string status = job.value("status", "");
  if (status == "Failed" || status == "Canceled") {
    std::string why = job.contains("error") ? job["error"].value("message", "") : status;
    return Status(Code::kFailedPrecondition, "the run " + ToLower(status) + ": " + why);
  }
  return Status::Ok();
}

struct SubmitArgs {
  std::string script, source_dir = ".", experiment, compute = "local", env_name, python,
                      run_name;
  std::vector<std::string> pip, arguments;
  int64_t timeout_s = 0, wait_s = 24 * 3600;
  bool no_wait = false;
};

Status Submit(Globals& g, const SubmitArgs& a) {
  TARN_RETURN_IF_ERROR(NeedWorkspace(g));
  TARN_ASSIGN_OR_RETURN(Json snapshot, Snapshot(a.source_dir));
  Json body = {{"experiment_name", a.experiment},
               {"script", a.script},
               {"compute", a.compute},
               {"arguments", a.arguments},
               {"snapshot", snapshot}};
  if (!a.run_name.empty()) body["run_name"] = a.run_name;
  if (a.timeout_s > 0) body["timeout_s"] = a.timeout_s;
  if (!a.pip.empty() || !a.python.empty() || !a.env_name.empty()) {
    body["environment"] = {{"name", a.env_name}};
    if (!a.pip.empty()) body["environment"]["pip"] = a.pip;
    if (!a.python.empty()) body["environment"]["python"] = a.python;
  }
  TARN_ASSIGN_OR_RETURN(Json job, g.catalog->WorkspaceApi("POST", g.conn.workspace, "jobs", {},
                                                          &body));
  const std::string id = job.value("run_id", "");
  if (a.no_wait) {
    if (g.json) {
      PrintJson(job);
    } else {
      Print(id + "\n");
    }
    return Status::Ok();
  }
  std::fprintf(stderr, "run %s queued on %s; its log follows\n", id.c_str(), a.compute.c_str());
  TARN_ASSIGN_OR_RETURN(Json ended, Follow(g, id, a.wait_s, !g.json));
  return Ended(g, ended);
}

}  // namespace

void AddJobCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* grp = app.add_subcommand(
      "job", "Runs of a script on a compute target: submit, follow, cancel (docs/cli.md)");
  grp->require_subcommand(1);

  auto* submit = grp->add_subcommand(
      "submit", "Run a script of a source directory on a compute target, as a run of an "
                "experiment; follows its log until it ends (exit status 4 when it fails)");
  auto a = std::make_shared<SubmitArgs>();
  submit->add_option("script", a->script, "The script, relative to --source-dir")->required();
  submit->add_option("arguments", a->arguments, "The script's arguments (after --)");
  submit->add_option("--source-dir", a->source_dir,
                     "The directory sent as the run's snapshot (its working directory)")
      ->default_val(".");
  submit->add_option("-e,--experiment", a->experiment, "The experiment the run belongs to")
      ->required();
  submit->add_option("--compute", a->compute, "The compute target (tarn compute list)")
      ->default_val("local");
  submit->add_option("--pip", a->pip,
                     "A pip requirement of the run's environment (repeat it); the environment "
                     "is built once and reused");
  submit->add_option("--python", a->python,
                     "An existing interpreter on the compute target, instead of --pip");
  submit->add_option("--env-name", a->env_name, "The environment's name");
  submit->add_option("--run-name", a->run_name, "The run's display name");
  submit->add_option("--timeout", a->timeout_s,
                     "Seconds after which the run is stopped (default: the target's limit)");
  submit->add_option("--wait", a->wait_s, "Seconds to follow the run before returning")
      ->default_val(24 * 3600);
  submit->add_flag("--no-wait", a->no_wait, "Print the run's id and return at once");
  OnRun(submit, run, [&g, a] { return Submit(g, *a); });

  auto* show = grp->add_subcommand("show", "A submitted run's status, times and exit code");
  auto show_id = std::make_shared<std::string>();
  show->add_option("run_id", *show_id, "The run's id")->required();
  OnRun(show, run, [&g, show_id]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json job,
                          g.catalog->WorkspaceApi("GET", g.conn.workspace, "jobs/" + *show_id));
    if (g.json) {
      PrintJson(job);
      return Status::Ok();
    }
    if (job.contains("error")) job["error_message"] = job["error"].value("message", "");
    PrintFields(job, {"run_id", "experiment_name", "display_name", "status", "compute", "script",
                      "submitted_by", "created_utc", "started_utc", "ended_utc", "exit_code",
                      "error_message"});
    return Status::Ok();
  });

  auto* logs = grp->add_subcommand("logs", "A submitted run's output (stdout and stderr)");
  auto logs_id = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  logs->add_option("run_id", *logs_id, "The run's id")->required();
  logs->add_flag("-f,--follow", *follow, "Keep printing as the run writes, until it ends");
  OnRun(logs, run, [&g, logs_id, follow]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    if (*follow) return Follow(g, *logs_id, 24 * 3600, true).status();
    int64_t offset = 0;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(Json part,
                            g.catalog->WorkspaceApi("GET", g.conn.workspace,
                                                    "jobs/" + *logs_id + "/logs",
                                                    {{"offset", std::to_string(offset)}}));
      Print(part.value("text", ""));
      if (part.value("next_offset", int64_t{0}) >= part.value("size", int64_t{0})) break;
      offset = part.value("next_offset", int64_t{0});
    }
    return Status::Ok();
  });

  auto* cancel = grp->add_subcommand("cancel", "Stop a queued or running run");
  auto cancel_id = std::make_shared<std::string>();
  cancel->add_option("run_id", *cancel_id, "The run's id")->required();
  OnRun(cancel, run, [&g, cancel_id]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    Json empty = Json::object();
    TARN_RETURN_IF_ERROR(g.catalog
                             ->WorkspaceApi("POST", g.conn.workspace,
                                            "jobs/" + *cancel_id + "/cancel", {}, &empty)
                             .status());
    TARN_ASSIGN_OR_RETURN(Json ended, Follow(g, *cancel_id, 120, false));
    if (g.json) {
      PrintJson(ended);
    } else {
      Print("run " + *cancel_id + " " + ended.value("status", "") + "\n");
    }
    return Status::Ok();
  });

  auto* list = grp->add_subcommand("list", "The workspace's submitted runs, newest first");
  auto exp = std::make_shared<std::string>();
  list->add_option("-e,--experiment", *exp, "Only this experiment's runs");
  OnRun(list, run, [&g, exp]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    std::vector<std::pair<std::string, std::string>> q;
    if (!exp->empty()) q.emplace_back("experiment_name", *exp);
    TARN_ASSIGN_OR_RETURN(Json jobs, g.catalog->WorkspaceApi("GET", g.conn.workspace, "jobs", q));
    if (g.json) {
      PrintJson(jobs);
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const Json& j : jobs.value("value", Json::array())) {
      rows.push_back({j.value("run_id", ""), j.value("experiment_name", ""),
                      j.value("status", ""), j.value("compute", ""), j.value("script", ""),
                      j.value("created_utc", "")});
    }
    Print(FormatTable({"RUN", "EXPERIMENT", "STATUS", "COMPUTE", "SCRIPT", "CREATED"}, rows));
    return Status::Ok();
  });

  auto* compute = app.add_subcommand("compute", "The workspace's compute targets");
  compute->require_subcommand(1);
  auto* clist = compute->add_subcommand("list", "The compute targets runs can be submitted to");
  OnRun(clist, run, [&g]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json c, g.catalog->WorkspaceApi("GET", g.conn.workspace, "computes"));
    if (g.json) {
      PrintJson(c);
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const Json& t : c.value("value", Json::array())) {
      rows.push_back({t.value("name", ""), t.value("type", ""),
                      t.value("available", false) ? "yes" : "no: " + t.value("why_not", ""),
                      Cell(t, "max_concurrent"), Cell(t, "max_run_s")});
    }
    Print(FormatTable({"NAME", "TYPE", "AVAILABLE", "MAX_CONCURRENT", "MAX_RUN_S"}, rows));
    return Status::Ok();
  });
}

}  // namespace tarn::cli
