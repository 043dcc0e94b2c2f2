#include "compute/job_spec.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "common/crypto.h"
#include "common/encoding.h"

namespace tarn::compute {
namespace {

using Json = nlohmann::json;

Status Invalid(const std::string& why) { return Error(Reason::kInvalidJob, why); }

// A user's text: bounded, valid UTF-8, no control characters.
StatusOr<std::string> Text(const Json& j, const char* field, size_t max, bool required) {
  if (!j.contains(field) || j[field].is_null()) {
    if (required) return Invalid(std::string(field) + " is required");
    return std::string();
  }
  if (!j[field].is_string()) return Invalid(std::string(field) + " must be a string");
  std::string s = j[field].get<std::string>();
  if (required && s.empty()) return Invalid(std::string(field) + " must not be empty");
  if (s.size() > max) {
    return Invalid(std::string(field) + " is longer than " + std::to_string(max) + " bytes");
  }
  if (!IsValidUtf8(s) || HasControlChar(s)) {
    return Invalid(std::string(field) + " holds control characters or is not UTF-8");
  }
  return s;
}

Status CheckSnapshotPath(const std::string& p) {
  if (IsSafeRelativePath(p)) return Status::Ok();
  return Invalid("snapshot path '" + p.substr(0, 200) + "' is not a relative path of the source "
                 "directory: '/'-separated, without empty, '.' or '..' segments, backslashes or "
                 "control characters, at most 1024 bytes");
}

bool IsDataName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  });
}

StatusOr<std::vector<InputSpec>> ParseInputs(const Json& j, const SpecLimits& limits) {
  std::vector<InputSpec> out;
  if (j.is_null()) return out;
  if (!j.is_array() || j.size() > limits.max_data) {
    return Invalid("inputs must be a list of at most " + std::to_string(limits.max_data) +
                   " datasets: [{\"name\", \"dataset\", \"version\", \"mode\"}]");
  }
  for (const Json& i : j) {
    if (!i.is_object()) return Invalid("each input is {\"name\", \"dataset\", \"version\"}");
    InputSpec in;
    TARN_ASSIGN_OR_RETURN(in.name, Text(i, "name", 64, true));
    if (!IsDataName(in.name)) {
      return Invalid("input name '" + in.name + "' must be letters, digits and '_'");
    }
    TARN_ASSIGN_OR_RETURN(in.dataset, Text(i, "dataset", 256, true));
    if (i.contains("version") && i["version"].is_number_integer()) {
      in.version = std::to_string(i["version"].get<int64_t>());
    } else {
      TARN_ASSIGN_OR_RETURN(in.version, Text(i, "version", 32, false));
      if (in.version.empty()) in.version = "latest";
    }
    TARN_ASSIGN_OR_RETURN(std::string mode, Text(i, "mode", 16, false));
    if (!mode.empty() && mode != "download") {
      return Invalid("input '" + in.name + "': mode '" + mode + "' is not served on compute "
                     "targets; use as_download() (the version's files are copied into the run's "
                     "directory)");
    }
    for (const auto& o : out) {
      if (o.name == in.name) return Invalid("input name '" + in.name + "' is used twice");
    }
    out.push_back(std::move(in));
  }
  return out;
}

StatusOr<std::vector<OutputSpec>> ParseOutputs(const Json& j, const SpecLimits& limits) {
  std::vector<OutputSpec> out;
  if (j.is_null()) return out;
  if (!j.is_array() || j.size() > limits.max_data) {
    return Invalid("outputs must be a list of at most " + std::to_string(limits.max_data) +
                   " folders: [{\"name\", \"datastore\", \"path\", \"register_as\"}]");
  }
  for (const Json& o : j) {
    if (!o.is_object()) return Invalid("each output is {\"name\", \"datastore\", \"path\"}");
    OutputSpec spec;
    TARN_ASSIGN_OR_RETURN(spec.name, Text(o, "name", 64, true));
    if (!IsDataName(spec.name)) {
      return Invalid("output name '" + spec.name + "' must be letters, digits and '_'");
    }
    TARN_ASSIGN_OR_RETURN(spec.datastore, Text(o, "datastore", 256, true));
    TARN_ASSIGN_OR_RETURN(spec.path, Text(o, "path", 1024, true));
    if (!IsSafeRelativePath(WithRunId(spec.path, "0123456789abcdef0123456789abcdef"))) {
      return Invalid("output '" + spec.name + "': path '" + spec.path + "' must be a relative "
                     "folder of the datastore, without '.' or '..' segments");
    }
    TARN_ASSIGN_OR_RETURN(spec.register_as, Text(o, "register_as", 256, false));
    TARN_ASSIGN_OR_RETURN(spec.format, Text(o, "format", 16, false));
    if (!spec.format.empty() && spec.format != "csv" && spec.format != "parquet") {
      return Invalid("output '" + spec.name + "': format must be csv or parquet");
    }
    for (const auto& other : out) {
      if (other.name == spec.name) return Invalid("output name '" + spec.name + "' is used twice");
    }
    out.push_back(std::move(spec));
  }
  return out;
}

bool IsComputeName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
  });
}

StatusOr<EnvironmentSpec> ParseEnvironment(const Json& j, const SpecLimits& limits) {
  EnvironmentSpec env;
  if (j.is_null()) return env;
  if (!j.is_object()) {
    return Invalid("environment must be an object: {\"name\", \"pip\": [...]} or "
                   "{\"name\", \"python\": \"/path/to/python\"}");
  }
  TARN_ASSIGN_OR_RETURN(env.name, Text(j, "name", 256, false));
  TARN_ASSIGN_OR_RETURN(env.python, Text(j, "python", 4096, false));
  if (!env.python.empty() && env.python.front() != '/') {
    return Invalid("environment.python must be an absolute path to an interpreter on the "
                   "compute target, not '" + env.python + "'");
  }
  if (j.contains("pip") && !j["pip"].is_null()) {
    if (!j["pip"].is_array()) return Invalid("environment.pip must be a list of requirements");
    if (j["pip"].size() > limits.max_requirements) {
      return Invalid("environment.pip holds more than " + std::to_string(limits.max_requirements) +
                     " requirements");
    }
    for (const Json& r : j["pip"]) {
      if (!r.is_string()) return Invalid("environment.pip must hold strings");
      std::string req = r.get<std::string>();
      if (req.empty() || req.size() > 1000 || !IsValidUtf8(req) || HasControlChar(req) ||
          req.front() == '-' || req.front() == ' ') {
        return Invalid("environment.pip: '" + req.substr(0, 100) +
                       "' is not a requirement specifier (such as 'scikit-learn==1.9.1'); pip "
                       "options are not taken");
      }
      env.pip.push_back(std::move(req));
    }
  }
  if (!env.python.empty() && !env.pip.empty()) {
    return Invalid("environment names either pip requirements (built into a new virtual "
                   "environment) or an existing interpreter (python), not both");
  }
  return env;
}

}  // namespace

StatusOr<JobSpec> ParseJobSpec(const Json& body, const SpecLimits& limits) {
  if (!body.is_object()) return Invalid("the job must be a JSON object");
  JobSpec spec;
  TARN_ASSIGN_OR_RETURN(spec.experiment_name, Text(body, "experiment_name", 256, true));
  TARN_ASSIGN_OR_RETURN(spec.run_name, Text(body, "run_name", 256, false));
  TARN_ASSIGN_OR_RETURN(std::string compute, Text(body, "compute", 64, false));
  if (!compute.empty()) spec.compute = compute;
  if (!IsComputeName(spec.compute)) {
    return Invalid("compute '" + spec.compute + "' is not a compute target's name");
  }
  TARN_ASSIGN_OR_RETURN(spec.script, Text(body, "script", 1024, true));
  if (body.contains("arguments") && !body["arguments"].is_null()) {
    const Json& args = body["arguments"];
    if (!args.is_array()) return Invalid("arguments must be a list of strings");
    if (args.size() > limits.max_arguments) {
      return Invalid("more than " + std::to_string(limits.max_arguments) + " arguments");
    }
    size_t total = 0;
    for (const Json& a : args) {
      // Numbers are taken as azureml takes them: written as text.
      std::string s;
      if (a.is_string()) {
        s = a.get<std::string>();
      } else if (a.is_number() || a.is_boolean()) {
        s = a.dump();
      } else {
        return Invalid("arguments must be strings or numbers");
      }
      if (!IsValidUtf8(s) || s.find('\0') != std::string::npos) {
        return Invalid("an argument is not UTF-8 text");
      }
      total += s.size();
      spec.arguments.push_back(std::move(s));
    }
    if (total > limits.max_argument_bytes) {
      return Invalid("the arguments are longer than " + std::to_string(limits.max_argument_bytes) +
                     " bytes together: pass large inputs as files of the source directory");
    }
  }
  TARN_ASSIGN_OR_RETURN(spec.environment,
                        ParseEnvironment(body.contains("environment") ? body["environment"]
                                                                       : Json(),
                                         limits));
  if (body.contains("timeout_s") && !body["timeout_s"].is_null()) {
    if (!body["timeout_s"].is_number_integer() || body["timeout_s"].get<int64_t>() < 1) {
      return Invalid("timeout_s must be a whole number of seconds, at least 1");
    }
    spec.timeout_s = body["timeout_s"].get<int64_t>();
  }
  if (body.contains("tags") && !body["tags"].is_null()) {
    if (!body["tags"].is_object()) return Invalid("tags must be an object of strings");
    if (body["tags"].size() > limits.max_tags) {
      return Invalid("more than " + std::to_string(limits.max_tags) + " tags");
    }
    for (const auto& [k, v] : body["tags"].items()) {
      if (!v.is_string()) return Invalid("tag '" + k.substr(0, 100) + "' must be a string");
      spec.tags.emplace_back(k, v.get<std::string>());
    }
  }
  if (!body.contains("snapshot") || !body["snapshot"].is_array() || body["snapshot"].empty()) {
    return Invalid("snapshot must list the source directory's files: [{\"path\", \"content\" "
                   "(base64)}]");
  }
  const Json& files = body["snapshot"];
  if (files.size() > limits.max_files) {
    return Invalid("the snapshot holds more than " + std::to_string(limits.max_files) +
                   " files: keep data out of the source directory (read it from datasets) or "
                   "list it in .amlignore");
  }
  std::set<std::string> seen;
  size_t bytes = 0;
  for (const Json& f : files) {
    if (!f.is_object()) return Invalid("each snapshot entry is {\"path\", \"content\"}");
    TARN_ASSIGN_OR_RETURN(std::string path, Text(f, "path", 1024, true));
    TARN_RETURN_IF_ERROR(CheckSnapshotPath(path));
    if (!seen.insert(path).second) return Invalid("snapshot path '" + path + "' is listed twice");
    if (!f.contains("content") || !f["content"].is_string()) {
      return Invalid("snapshot file '" + path + "' has no base64 content");
    }
    auto content = Base64Decode(f["content"].get<std::string>());
    if (!content) return Invalid("the content of snapshot file '" + path + "' is not base64");
    bytes += content->size();
    if (bytes > limits.max_snapshot_bytes) {
      return Invalid("the snapshot is larger than " +
                     std::to_string(limits.max_snapshot_bytes >> 20) +
                     " MiB: keep data out of the source directory (read it from datasets) or "
                     "list it in .amlignore");
    }
    spec.snapshot.push_back(SnapshotFile{std::move(path), std::move(*content)});
  }
  TARN_ASSIGN_OR_RETURN(spec.inputs,
                        ParseInputs(body.contains("inputs") ? body["inputs"] : Json(), limits));
  TARN_ASSIGN_OR_RETURN(spec.outputs,
                        ParseOutputs(body.contains("outputs") ? body["outputs"] : Json(), limits));
  for (const auto& in : spec.inputs) {
    for (const auto& o : spec.outputs) {
      if (in.name == o.name) return Invalid("'" + in.name + "' names an input and an output");
    }
  }
  if (!seen.count(spec.script)) {
    return Invalid("the script '" + spec.script + "' is not in the snapshot: name it relative to "
                   "the source directory");
  }
  return spec;
}

std::string WithRunId(std::string path, const std::string& run_id) {
  for (const char* token : {"{run-id}", "{run_id}"}) {
    for (size_t at; (at = path.find(token)) != std::string::npos;) {
      path.replace(at, std::strlen(token), run_id);
    }
  }
  return path;
}

bool IsSafeRelativePath(const std::string& p) {
  if (p.empty() || p.size() > 1024 || !IsValidUtf8(p) || HasControlChar(p)) return false;
  if (p.front() == '/' || p.back() == '/' || p.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view seg(p.data() + start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

void ResolveDataArguments(JobSpec& spec, const std::string& run_dir) {
  for (std::string& a : spec.arguments) {
    for (const auto& in : spec.inputs) {
      if (a == "{inputs." + in.name + "}") a = run_dir + "/datasets/inputs/" + in.name;
    }
    for (const auto& o : spec.outputs) {
      if (a == "{outputs." + o.name + "}") a = run_dir + "/datasets/outputs/" + o.name;
    }
  }
}

std::string EnvironmentHash(const EnvironmentSpec& env, const std::string& base_python) {
  if (env.pip.empty()) return "";
  std::vector<std::string> reqs = env.pip;
  std::sort(reqs.begin(), reqs.end());
  reqs.erase(std::unique(reqs.begin(), reqs.end()), reqs.end());
  std::string text = base_python;
  for (const auto& r : reqs) text += "\n" + r;
  return HexEncode(Sha256(text));
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') {
      out += "'\\''";
    } else {
      out += ch;
    }
  }
  return out + "'";
}

std::string LaunchScript(const JobSpec& spec, const LaunchPaths& paths) {
  const std::string hash = EnvironmentHash(spec.environment, paths.python);
  const std::string label = ShellQuote(
      (spec.environment.name.empty() ? std::string("(unnamed)") : spec.environment.name) + " (" +
      hash.substr(0, 12) + ")");
  std::string sh =
      "#!/bin/sh\n"
      "# Written by tarnd for one run. Every value from the request is single-quoted.\n"
      "set -u\n"
      "cd " + ShellQuote(paths.src_dir) + " || exit 126\n"
      "python=" + ShellQuote(paths.python) + "\n";
  if (!hash.empty()) {
    std::string pip;
    for (const auto& r : spec.environment.pip) pip += " " + ShellQuote(r);
    const std::string fail = std::to_string(kEnvironmentBuildFailed);
    sh += "env_dir=" + ShellQuote(paths.env_root + "/" + hash) + "\n"
          "if [ ! -f \"$env_dir/.tarn-ready\" ]; then\n"
          "  [ -e \"$env_dir.lock\" ] || : > \"$env_dir.lock\" 2>/dev/null\n"
          "  exec 9<\"$env_dir.lock\" && flock 9 || exit " + fail + "\n"
          "  if [ ! -f \"$env_dir/.tarn-ready\" ]; then\n"
          "    printf '%s\\n' '[tarn] building environment '" + label + "\n"
          "    rm -rf \"$env_dir\"\n"
          "    if \"$python\" -m venv \"$env_dir\" && \"$env_dir/bin/python\" -m pip install "
          "--disable-pip-version-check --no-input --progress-bar off" + pip + "; then\n"
          "      touch \"$env_dir/.tarn-ready\"\n"
          "    else\n"
          "      rm -rf \"$env_dir\"\n"
          "      printf '%s\\n' '[tarn] the environment could not be built: see the output of "
          "pip above' >&2\n"
          "      exit " + fail + "\n"
          "    fi\n"
          "  fi\n"
          "  exec 9>&-\n"
          "fi\n"
          "printf '%s\\n' '[tarn] environment '" + label + "' is ready'\n"
          "python=\"$env_dir/bin/python\"\n";
  }
  std::string args;
  for (const auto& a : spec.arguments) args += " " + ShellQuote(a);
  sh += "exec \"$python\" -u " + ShellQuote("./" + spec.script) + args + "\n";
  return sh;
}

}  // namespace tarn::compute
