// partition_format ("{country}/{date:yyyy/MM/dd}/*.csv"), Hive key=value folders and datetime
// formats: tabular::PartitionPattern::Compile and Match, HivePartitions, StrptimeFormat. A match
// yields one value per key, and a datetime key's value has the "YYYY-MM-DD HH:MM:SS" shape.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tabular/partition.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& format, const std::string& path) {
  std::fprintf(stderr, "partition_fuzz: %s: format '%s', path '%s'\n", what, format.c_str(),
               path.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string format = in.ConsumeRandomLengthString(128);
  std::string path = in.ConsumeRandomLengthString(256);
  tarn::tabular::HivePartitions(path);
  tarn::tabular::StrptimeFormat(format).status().IgnoreError();
  auto pattern = tarn::tabular::PartitionPattern::Compile(format);
  if (!pattern.ok()) return 0;
  auto values = pattern->Match(path);
  if (!values.ok()) return 0;
  if (values->size() != pattern->keys().size()) Fail("a value per key", format, path);
  for (size_t i = 0; i < values->size(); ++i) {
    if (pattern->keys()[i].datetime && (*values)[i].size() != 19) {
      Fail("a datetime value is not YYYY-MM-DD HH:MM:SS", format, path);
    }
  }
  return 0;
}
