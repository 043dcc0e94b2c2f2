// Partition columns from file paths: azureml's partition_format ("{region}/{day:yyyy/MM/dd}/*.csv")
// or, without one, Hive-style key=value folders. The public entry points (PartitionKeys,
// PartitionValues) are declared in tabular.h; the engine uses the compiled form below.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace tarn::tabular {

struct PartitionKey {
  std::string name;
  bool datetime = false;  // {name:yyyy/MM/dd}: the value is "YYYY-MM-DD HH:MM:SS"
};

class PartitionPattern {
 public:
  // kInvalidInput for a malformed format.
  static StatusOr<PartitionPattern> Compile(const std::string& partition_format);

  const std::vector<PartitionKey>& keys() const { return keys_; }
  // The values of keys(), in order; kInvalidInput naming the path when it does not match.
  StatusOr<std::vector<std::string>> Match(const std::string& path) const;

 private:
  // For a datetime key: which capture group holds each of year, month, day, hour, minute, second
  // (0 = absent).
  struct Capture {
    int group = 0;
    int datetime_groups[6] = {0, 0, 0, 0, 0, 0};
  };
  std::string format_;
  std::vector<PartitionKey> keys_;
  std::vector<Capture> captures_;
  // RE2, not std::regex: matching is linear in the path, where std::regex backtracked
  // exponentially on formats with many '*' (a hang found by fuzzing partition_format).
  std::shared_ptr<const re2::RE2> re_;
};

// The key=value folders of a path (the file name excluded), in path order, values percent-decoded.
std::vector<std::pair<std::string, std::string>> HivePartitions(const std::string& path);

// A datetime format for DuckDB's strptime: one holding '%' is taken as given, else a .NET-style one
// (yyyy MM dd HH mm ss fff, other non-letters literal) is translated. kInvalidInput otherwise.
StatusOr<std::string> StrptimeFormat(const std::string& format);

}  // namespace tarn::tabular
