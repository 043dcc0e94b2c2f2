// A submitted job's JSON (compute::ParseJobSpec) and the launch script made from it
// (LaunchScript). Checks what the runner relies on: whatever the parser accepts has only safe
// snapshot paths (relative, no '.', '..' or empty segments, no backslash or control
// characters), names a script that is in the snapshot, and stays within the limits; every
// refusal is kInvalidJob; and the script's exec line, read back as sh reads single-quoted words,
// gives exactly the script and the arguments that were submitted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compute/job_spec.h"

namespace {

using tarn::Reason;
namespace compute = tarn::compute;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "job_spec_fuzz: %s\n", what);
  std::abort();
}

// The words of an sh line made only of single-quoted pieces ('...') and escaped quotes (\')
// separated by spaces; false when the line holds anything else.
bool QuotedWords(const std::string& line, std::vector<std::string>* words) {
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    std::string word;
    bool any = false;
    while (i < line.size() && line[i] != ' ') {
      if (line.compare(i, 2, "\\'") == 0) {  // a quote outside quotes, as ShellQuote writes it
        word += '\'';
        i += 2;
      } else if (line[i] == '\'') {
        size_t end = line.find('\'', i + 1);
        if (end == std::string::npos) return false;
        word += line.substr(i + 1, end - i - 1);
        i = end + 1;
      } else {
        return false;
      }
      any = true;
    }
    if (!any) return false;
    words->push_back(word);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json body = nlohmann::json::parse(data, data + size, nullptr, false);
  if (body.is_discarded()) return 0;
  compute::SpecLimits limits;
  limits.max_snapshot_bytes = 4096;
  auto spec = compute::ParseJobSpec(body, limits);
  if (!spec.ok()) {
    if (spec.status().reason() != Reason::kInvalidJob) Fail("a refusal is not kInvalidJob");
    return 0;
  }
  bool script_found = false;
  size_t bytes = 0;
  for (const auto& f : spec->snapshot) {
    const std::string& p = f.path;
    if (p.empty() || p[0] == '/' || p.back() == '/' || p.find("//") != std::string::npos ||
        p.find('\\') != std::string::npos || p == "." || p == ".." || p.rfind("./", 0) == 0 ||
        p.rfind("../", 0) == 0 || p.find("/./") != std::string::npos ||
        p.find("/../") != std::string::npos ||
        (p.size() >= 2 && p.compare(p.size() - 2, 2, "/.") == 0) ||
        (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0)) {
      Fail("an unsafe snapshot path was accepted");
    }
    for (unsigned char ch : p) {
      if (ch < 0x20 || ch == 0x7f) Fail("a snapshot path with a control character was accepted");
    }
    bytes += f.content.size();
    script_found = script_found || p == spec->script;
  }
  if (!script_found) Fail("the script is not in the snapshot");
  if (bytes > limits.max_snapshot_bytes) Fail("the snapshot limit was not kept");

  const std::string sh = compute::LaunchScript(
      *spec, compute::LaunchPaths{"/runs/r/src", "/usr/bin/python3", "/runs/envs"});
  const std::string prefix = "exec \"$python\" -u ";
  size_t at = sh.rfind(prefix);
  if (at == std::string::npos) Fail("the launch script has no exec line");
  // An argument may hold newlines, inside its quotes: the exec line runs to the script's end.
  std::string rest = sh.substr(at + prefix.size());
  if (!rest.empty() && rest.back() == '\n') rest.pop_back();
  std::vector<std::string> words;
  if (!QuotedWords(rest, &words)) Fail("the exec line holds unquoted text");
  std::vector<std::string> want{"./" + spec->script};
  want.insert(want.end(), spec->arguments.begin(), spec->arguments.end());
  if (words != want) Fail("the exec line does not give back the script and its arguments");
  return 0;
}
