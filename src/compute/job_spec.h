// JobSpec: a run submitted to a compute target (POST /workspaces/<ws>/jobs, azureml's
// ScriptRunConfig), checked, and the shell script that carries it out on the target.
//
// Contract
// - ParseJobSpec takes the request's JSON, which is untrusted: every field is type-checked and
//   bounded (SpecLimits), snapshot paths are relative, '/'-separated, without '.', '..' or empty
//   segments or control characters, and unique; the script must be one of them. Errors are
//   kInvalidJob with a message that names the field and what to do.
// - EnvironmentHash is the environment's identity: the same interpreter and the same set of
//   pip requirements (in any order) give the same hash, so each distinct environment is built
//   once.
// - LaunchScript writes a POSIX sh script in which every value from the request is single-quoted
//   (ShellQuote): nothing a user names is ever parsed by the shell.
//
// Usage:
//   TARN_ASSIGN_OR_RETURN(JobSpec spec, ParseJobSpec(body));
//   std::string sh = LaunchScript(spec, LaunchPaths{...});
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tarn::compute {

struct SnapshotFile {
  std::string path;     // relative, '/'-separated
  std::string content;  // the bytes
};

// azureml's Environment: pip requirements built into a cached virtual environment, or an
// existing interpreter (`python`, an absolute path); neither: the target's default interpreter.
struct EnvironmentSpec {
  std::string name;
  std::vector<std::string> pip;
  std::string python;
};

// A dataset version the run reads (azureml's dataset.as_named_input(name).as_download()):
// tarnd downloads exactly that version into the run's directory before the script starts.
struct InputSpec {
  std::string name;     // [A-Za-z0-9_]{1,64}: the script finds it by this name
  std::string dataset;
  std::string version;  // "latest" or a number; pinned to a number at submit
};

// What the run writes for the lake (azureml's OutputFileDatasetConfig): the script writes into
// a folder of its directory; when the run completes, tarnd uploads it to `path` of `datastore`
// ("{run-id}" replaced by the run's id) and, with register_as, registers it as the next version
// of that dataset, with lineage to the run's inputs. A run that does not complete writes and
// registers nothing.
struct OutputSpec {
  std::string name;
  std::string datastore;
  std::string path;
  std::string register_as;  // "" : not registered
  std::string format;       // "" (a file dataset), "csv" or "parquet" (a tabular one)
};

struct JobSpec {
  std::string experiment_name;
  std::string run_name;
  std::string compute = "local";
  std::string script;
  std::vector<std::string> arguments;
  EnvironmentSpec environment;
  std::vector<SnapshotFile> snapshot;
  std::vector<std::pair<std::string, std::string>> tags;
  int64_t timeout_s = 0;  // 0: the target's own limit
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;
};

// An argument "{inputs.<name>}" or "{outputs.<name>}" (what the SDK sends for a dataset
// argument) becomes that input's or output's folder in the run's directory:
// <run dir>/datasets/inputs/<name> and <run dir>/datasets/outputs/<name>.
void ResolveDataArguments(JobSpec& spec, const std::string& run_dir);

// path with each "{run-id}" (or "{run_id}") replaced by run_id: an output's destination.
std::string WithRunId(std::string path, const std::string& run_id);

// A relative, '/'-separated path without '.', '..' or empty segments, backslashes or control
// characters (snapshot files, input files, output destinations).
bool IsSafeRelativePath(const std::string& p);

struct SpecLimits {
  size_t max_files = 2000;
  size_t max_snapshot_bytes = 64u << 20;
  size_t max_arguments = 1000;
  size_t max_argument_bytes = 64u << 10;  // all arguments together
  size_t max_requirements = 200;
  size_t max_tags = 100;
  size_t max_data = 16;  // inputs, and outputs
};

StatusOr<JobSpec> ParseJobSpec(const nlohmann::json& body, const SpecLimits& limits = {});

// Hex SHA-256 of the interpreter and the sorted requirements ("" for an environment with no
// requirements: it is not built).
std::string EnvironmentHash(const EnvironmentSpec& env, const std::string& base_python);

// s in single quotes for sh, its own single quotes written '\''.
std::string ShellQuote(std::string_view s);

// Where the launch script finds things on the target.
struct LaunchPaths {
  std::string src_dir;      // the snapshot, the script's working directory
  std::string python;       // the interpreter (an existing one, or the base of a built env)
  std::string env_root;     // where built environments are cached
};

// The script the target runs: builds the environment once (under a lock, shared by concurrent
// runs; a failed build leaves nothing behind and fails the run with exit status 97), then
// execs the interpreter on the script with the arguments.
std::string LaunchScript(const JobSpec& spec, const LaunchPaths& paths);

inline constexpr int kEnvironmentBuildFailed = 97;

}  // namespace tarn::compute
