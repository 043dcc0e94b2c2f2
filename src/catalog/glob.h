// Glob patterns over datastore-relative paths, as azureml dataset paths use them:
//   '*' any run of characters within one path segment, '?' one character, '[abc]' a class,
//   '**' as a whole segment: any number of segments, including none.
//   "sales/**/*.csv" matches "sales/a.csv" and "sales/2024/01/b.csv".
// A pattern without wildcards names one file, or every file under a directory of that name.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::catalog {

class Glob {
 public:
  // Normalises leading/trailing '/' away. Empty, "." or ".." segments, or an unclosed '[' are
  // kInvalidPaths errors that name the pattern.
  static StatusOr<Glob> Parse(const std::string& pattern);

  const std::string& pattern() const { return pattern_; }
  bool has_wildcards() const { return wild_; }
  // The longest directory prefix without wildcards: where a listing must start ("" = root).
  const std::string& base_dir() const { return base_; }
  // Whether the listing under base_dir must descend into subdirectories.
  bool recursive() const { return recursive_; }
  bool Matches(const std::string& path) const;

 private:
  std::string pattern_;
  std::vector<std::string> segments_;
  std::string base_;
  bool wild_ = false;
  bool recursive_ = false;
};

}  // namespace tarn::catalog
