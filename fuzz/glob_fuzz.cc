// Dataset path globs ("data/**/*.csv", "sales/202[34]/?.parquet"): catalog::Glob::Parse, then
// Matches against paths taken from the input. Checks what the catalog relies on when it lists:
// every match lies under base_dir(), a non-recursive listing finds every match directly in
// base_dir(), and a pattern without wildcards matches the path it names.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "catalog/glob.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& pattern, const std::string& path) {
  std::fprintf(stderr, "glob_fuzz: %s: pattern '%s', path '%s'\n", what, pattern.c_str(),
               path.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string pattern = in.ConsumeRandomLengthString(256);
  auto glob = tarn::catalog::Glob::Parse(pattern);
  if (!glob.ok()) return 0;
  const std::string& base = glob->base_dir();
  if (!glob->has_wildcards() && !glob->Matches(glob->pattern())) {
    Fail("a literal pattern does not match itself", pattern, glob->pattern());
  }
  for (int i = 0; i < 4 && in.remaining_bytes() > 0; ++i) {
    std::string path = in.ConsumeRandomLengthString(256);
    if (!glob->Matches(path)) continue;
    if (!base.empty() && path != base && path.compare(0, base.size() + 1, base + "/") != 0) {
      Fail("a match lies outside base_dir", pattern, path);
    }
    if (!glob->recursive()) {
      std::string rest = base.empty() ? path : path.substr(base.size() + 1);
      if (rest.find('/') != std::string::npos) {
        Fail("a non-recursive glob matches below base_dir", pattern, path);
      }
    }
  }
  return 0;
}
