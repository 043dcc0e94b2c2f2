// tarn pipeline put|run|list|show|runs|status|delete: pipelines stored in a workspace and run by
// tarnd as write, audit, publish (docs/pipelines.md). The file is checked here first, so a bad
// one is reported with its own name, line and column before anything is sent.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "pipeline/pipeline_spec.h"

namespace tarn::cli {
namespace {

using client::Json;

constexpr int64_t kPollMs = 2000;

StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Checks the file locally and stores it; returns the pipeline's name.
StatusOr<std::string> Put(Globals& g, const std::string& file, Json* stored) {
  TARN_ASSIGN_OR_RETURN(std::string text, ReadText(file));
  auto parsed = pipeline::ParsePipeline(text, file);
  if (!parsed.ok()) return Status(Code::kInvalidArgument, parsed.status().message());
  TARN_ASSIGN_OR_RETURN(*stored, g.catalog->PutPipeline(g.conn.workspace, parsed->name, text));
  return parsed->name;
}

std::string Rows(const Json& step) {
  std::string s;
  if (step.contains("rows_in")) s += std::to_string(step.value("rows_in", int64_t{0})) + " rows in";
  if (step.contains("rows_out")) {
    s += ", " + std::to_string(step.value("rows_out", int64_t{0})) + " out";
  }
  if (step.value("rows_quarantined", int64_t{0}) > 0) {
    s += ", " + std::to_string(step.value("rows_quarantined", int64_t{0})) + " quarantined";
  }
  return s;
}

// One line per step that changed since `seen`, as the run goes.
void PrintProgress(const Json& run, std::map<std::string, std::string>* seen) {
  for (const Json& st : run.value("steps", Json::array())) {
    const std::string name = st.value("name", ""), status = st.value("status", "");
    if ((*seen)[name] == status) continue;
    (*seen)[name] = status;
    std::string line = "  step " + name + ": " + status;
    if (status == "succeeded") {
      const Json& out = st.value("output", Json::object());
      line += " in " + Cell(st, "duration_s") + " s (" + Rows(st) + ") -> " +
              out.value("dataset", "") + " version " +
              std::to_string(out.value("version", int64_t{0}));
    } else if (status == "failed") {
      line += ": " + st.value("error", "");
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// The checks and expectations of each step, and the examples of what failed.
void PrintReport(const Json& run) {
  for (const Json& st : run.value("steps", Json::array())) {
    if (!st.contains("checks") && !st.contains("expectations")) continue;
    Print("step " + st.value("name", "") + " (" + Rows(st) + ")\n");
    for (const Json& e : st.value("expectations", Json::array())) {
      Print("  expect " + e.value("name", "") + " [" + e.value("on_fail", "") + "]: " +
            std::to_string(e.value("failed_rows", int64_t{0})) + " rows failed\n");
    }
    for (const Json& c : st.value("checks", Json::array())) {
      std::string line = "  " + c.value("outcome", "") + "  " + c.value("check", "");
      if (c.contains("value")) line += "  (value " + c["value"].dump() + ")";
      if (c.contains("message")) line += "  " + c.value("message", "");
      Print(line + "\n");
      if (c.contains("examples")) {
        const Json& ex = c["examples"];
        std::vector<std::string> header;
        for (const Json& h : ex.value("columns", Json::array())) header.push_back(h.get<std::string>());
        std::vector<std::vector<std::string>> rows;
        for (const Json& r : ex.value("rows", Json::array())) {
          std::vector<std::string> cells;
          for (const Json& v : r) cells.push_back(v.is_null() ? "NULL" : v.get<std::string>());
          rows.push_back(cells);
        }
        std::string table = FormatTable(header, rows);
        std::string indented;
        std::istringstream lines(table);
        for (std::string l; std::getline(lines, l);) indented += "      " + l + "\n";
        Print(indented);
      }
    }
  }
}

Status Finish(Globals& g, const Json& run) {
  if (g.json) {
    PrintJson(run);
  } else {
    PrintReport(run);
    Print("run " + std::to_string(run.value("number", int64_t{0})) + " (" + run.value("id", "") +
          ") " + run.value("status", "") + "\n");
  }
  if (run.value("status", "") == "failed") {
    return Status(Code::kFailedPrecondition, "the run failed: " + run.value("error", ""));
  }
  return Status::Ok();
}

struct RunArgs {
  std::string what;  // a pipeline's name, or a file to store first
  std::string from_step{};
  bool no_wait = false;
  int64_t timeout_s = 3600;
};

Status RunPipeline(Globals& g, const RunArgs& a) {
  TARN_RETURN_IF_ERROR(NeedWorkspace(g));
  std::string name = a.what;
  std::error_code ec;
  if (std::filesystem::is_regular_file(a.what, ec)) {
    Json stored;
    TARN_ASSIGN_OR_RETURN(name, Put(g, a.what, &stored));
  }
  TARN_ASSIGN_OR_RETURN(Json run,
                        g.catalog->StartPipelineRun(g.conn.workspace, name, 0, a.from_step));
  const std::string id = run.value("id", "");
  if (a.no_wait) {
    if (g.json) {
      PrintJson(run);
    } else {
      Print(id + "\n");
    }
    return Status::Ok();
  }
  if (!g.json) {
    std::fprintf(stderr, "run %lld of %s (%s)\n",
                 static_cast<long long>(run.value("number", int64_t{0})), name.c_str(), id.c_str());
  }
  std::map<std::string, std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout_s);
  for (;;) {
    TARN_ASSIGN_OR_RETURN(run, g.catalog->GetPipelineRun(g.conn.workspace, id, kPollMs));
    if (!g.json) PrintProgress(run, &seen);
    const std::string status = run.value("status", "");
    if (status == "succeeded" || status == "failed") break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Code::kUnavailable, "run " + id + " has not ended after " +
                                            std::to_string(a.timeout_s) +
                                            " s; it goes on in tarnd: `tarn pipeline status " +
                                            id + "`");
    }
  }
  return Finish(g, run);
}

void PrintRuns(const Json& runs) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& r : runs) {
    rows.push_back({Cell(r, "number"), Cell(r, "status"), Cell(r, "trigger"),
                    Cell(r, "started_time"), Cell(r, "duration_s"), Cell(r, "id"),
                    r.value("error", "").substr(0, 80)});
  }
  Print(FormatTable({"RUN", "STATUS", "TRIGGER", "STARTED", "SECONDS", "ID", "ERROR"}, rows));
}

// One node of a lineage tree and its children, drawn with box characters.
void PrintLineage(const Json& n, const std::string& indent, bool last, bool root,
                  std::string* out) {
  std::string line;
  if (n.value("kind", "") == "file") {
    line = "file " + n.value("uri", n.value("path", "")) + "  (etag " + n.value("etag", "") + ")";
  } else if (n.value("kind", "") == "path") {
    line = "from " + n.value("uri", "") + "  <- " + n.value("via", Json::object()).value("job", "");
  } else {
    line = n.value("dataset", "") + ":" + std::to_string(n.value("version", int64_t{0}));
    if (n.contains("namespace")) {
      line += "  " + n.value("namespace", "") + "/" + n.value("name", "");
    }
    if (n.contains("via")) line += "  <- " + n["via"].value("job", "");
    if (n.value("repeated", false)) line += "  (shown above)";
    if (n.value("truncated", false)) line += "  (deeper levels not shown)";
  }
  *out += (root ? "" : indent + (last ? "└─ " : "├─ ")) + line + "\n";
  const Json children = n.value("children", Json::array());
  const std::string next = root ? "" : indent + (last ? "   " : "│  ");
  for (size_t i = 0; i < children.size(); ++i) {
    PrintLineage(children[i], next, i + 1 == children.size(), false, out);
  }
  if (n.value("more_files", false)) *out += next + "└─ ...\n";
}

}  // namespace

void AddLineageCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* cmd = app.add_subcommand(
      "lineage", "Where a dataset version came from (--upstream, down to raw files) or what was "
                 "made from it (--downstream)");
  auto what = std::make_shared<std::string>();
  auto downstream = std::make_shared<bool>(false);
  auto upstream = std::make_shared<bool>(false);
  auto depth = std::make_shared<int>(10);
  cmd->add_option("dataset", *what, "DATASET or DATASET:VERSION (default: the latest)")
      ->required();
  cmd->add_flag("--upstream", *upstream, "What it was made from (the default)");
  cmd->add_flag("--downstream", *downstream, "What was made from it");
  cmd->add_option("--depth", *depth, "Levels to follow")->default_val(10);
  OnRun(cmd, run, [&g, what, upstream, downstream, depth]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    if (*upstream && *downstream) {
      return Status(Code::kInvalidArgument, "give --upstream or --downstream, not both");
    }
    std::string name = *what, version = "latest";
    if (size_t colon = what->rfind(':'); colon != std::string::npos) {
      name = what->substr(0, colon);
      version = what->substr(colon + 1);
    }
    TARN_ASSIGN_OR_RETURN(Json graph, g.catalog->GetLineage(g.conn.workspace, name, version,
                                                            !*downstream, *depth));
    if (g.json) {
      PrintJson(graph);
      return Status::Ok();
    }
    std::string out;
    PrintLineage(graph.value("root", Json::object()), "", true, true, &out);
    Print(out);
    return Status::Ok();
  });
}

void AddPipelineCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* grp = app.add_subcommand(
      "pipeline",
      "Pipelines: SQL steps from raw to curated to product, gated by checks (docs/pipelines.md)");
  grp->require_subcommand(1);

  auto* put = grp->add_subcommand("put", "Check a pipeline file and store it in the workspace");
  auto file = std::make_shared<std::string>();
  put->add_option("file", *file, "pipeline.yaml")->required();
  OnRun(put, run, [&g, file]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    Json stored;
    TARN_ASSIGN_OR_RETURN(std::string name, Put(g, *file, &stored));
    if (g.json) {
      PrintJson(stored);
    } else {
      Print("pipeline " + name + " stored (" + std::to_string(stored.value("steps", Json::array()).size()) +
            " steps)\n");
    }
    return Status::Ok();
  });

  auto* start = grp->add_subcommand(
      "run", "Run a pipeline (by name, or a file: stored first) and show each step's progress");
  auto args = std::make_shared<RunArgs>();
  start->add_option("pipeline", args->what, "A stored pipeline's name, or a pipeline.yaml")
      ->required();
  start->add_flag("--no-wait", args->no_wait, "Print the run's id and return at once");
  start->add_option("--from-step", args->from_step,
                    "Start at this step; the steps before it are not run again");
  start->add_option("--timeout", args->timeout_s, "Seconds to wait for the run to end")
      ->default_val(3600);
  OnRun(start, run, [&g, args] { return RunPipeline(g, *args); });

  auto* retry = grp->add_subcommand(
      "retry", "Run a failed run again from its failed step (the steps before it stay as they "
               "published)");
  auto retry_args = std::make_shared<RunArgs>();
  auto retry_id = std::make_shared<std::string>();
  retry->add_option("run_id", *retry_id, "The failed run's id")->required();
  retry->add_option("--timeout", retry_args->timeout_s, "Seconds to wait for the run to end")
      ->default_val(3600);
  OnRun(retry, run, [&g, retry_args, retry_id]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json old, g.catalog->GetPipelineRun(g.conn.workspace, *retry_id));
    if (old.value("status", "") != "failed") {
      return Status(Code::kFailedPrecondition, "run " + *retry_id + " is " +
                                                   old.value("status", "") +
                                                   "; only a failed run is retried");
    }
    RunArgs a = *retry_args;
    a.what = old.value("pipeline", "");
    for (const Json& st : old.value("steps", Json::array())) {
      if (st.value("status", "") == "failed") {
        a.from_step = st.value("name", "");
        break;
      }
    }
    return RunPipeline(g, a);
  });

  auto* list = grp->add_subcommand("list", "List the workspace's pipelines");
  OnRun(list, run, [&g]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json all, g.catalog->ListPipelines(g.conn.workspace));
    if (g.json) {
      PrintJson(all);
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const Json& p : all.value("pipelines", Json::array())) {
      rows.push_back({Cell(p, "name"), Cell(p, "modified_time"), Cell(p, "modified_by")});
    }
    Print(FormatTable({"NAME", "MODIFIED", "BY"}, rows));
    return Status::Ok();
  });

  auto* show = grp->add_subcommand("show", "Show a pipeline's steps and definition");
  auto name = std::make_shared<std::string>();
  show->add_option("name", *name, "Pipeline name")->required();
  OnRun(show, run, [&g, name]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json p, g.catalog->GetPipeline(g.conn.workspace, *name));
    if (g.json) {
      PrintJson(p);
    } else {
      Print(p.value("definition", ""));
    }
    return Status::Ok();
  });

  auto* runs = grp->add_subcommand("runs", "A pipeline's run history, newest first");
  auto runs_name = std::make_shared<std::string>();
  auto limit = std::make_shared<int64_t>(20);
  runs->add_option("name", *runs_name, "Pipeline name")->required();
  runs->add_option("--limit", *limit, "How many runs")->default_val(20);
  OnRun(runs, run, [&g, runs_name, limit]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json all,
                          g.catalog->ListPipelineRuns(g.conn.workspace, *runs_name, *limit));
    if (g.json) {
      PrintJson(all);
    } else {
      PrintRuns(all.value("runs", Json::array()));
    }
    return Status::Ok();
  });

  auto* status = grp->add_subcommand("status", "A run's report: steps, rows, checks, examples");
  auto id = std::make_shared<std::string>();
  status->add_option("run_id", *id, "The run's id")->required();
  OnRun(status, run, [&g, id]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json r, g.catalog->GetPipelineRun(g.conn.workspace, *id));
    return Finish(g, r);
  });

  auto* events = grp->add_subcommand(
      "events", "The workspace's OpenLineage RunEvents, newest first (as JSON lines)");
  auto events_limit = std::make_shared<int64_t>(100);
  events->add_option("--limit", *events_limit, "How many events")->default_val(100);
  OnRun(events, run, [&g, events_limit]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json all, g.catalog->ListLineageEvents(g.conn.workspace, *events_limit));
    if (g.json) {
      PrintJson(all);
    } else {
      for (const Json& e : all.value("events", Json::array())) Print(e.dump() + "\n");
    }
    return Status::Ok();
  });

  auto* del = grp->add_subcommand("delete", "Delete a pipeline and its run history");
  auto del_name = std::make_shared<std::string>();
  del->add_option("name", *del_name, "Pipeline name")->required();
  OnRun(del, run, [&g, del_name]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_RETURN_IF_ERROR(g.catalog->DeletePipeline(g.conn.workspace, *del_name));
    if (!g.json) Print("pipeline " + *del_name + " deleted\n");
    return Status::Ok();
  });
}

}  // namespace tarn::cli
