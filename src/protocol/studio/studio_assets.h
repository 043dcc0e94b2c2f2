// Tarn Studio's files (the browser application built from studio/ with Vite), held in memory and
// served at /studio/ by studio_ops. Loaded once at start from a directory; nothing under it is
// read again, so a request can name no file outside what was loaded.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tarn::protocol {

struct StudioAsset {
  std::string bytes;
  std::string content_type;
  std::string etag;  // "\"<sha-256 prefix>\""
  bool immutable;    // under assets/: content-hashed names, cached for a year
};

class StudioAssets {
 public:
  // Every regular file under dir (index.html at its root), or why not. Symbolic links, and files
  // over 16 MiB, are refused: the build makes neither.
  static StatusOr<StudioAssets> Load(const std::string& dir);
  // The file at a path relative to the root ("index.html", "assets/app-1a2b.js"), or null.
  const StudioAsset* Find(std::string_view path) const;
  const std::string& dir() const { return dir_; }
  size_t size() const { return files_.size(); }

 private:
  std::string dir_;
  std::map<std::string, StudioAsset, std::less<>> files_;
};

// Where the studio's files are when the configuration does not say: beside the executable
// (<exe>/../share/tarn/studio, then the build tree's <build>/studio), or "" when nowhere.
std::string DefaultStudioDir(const std::string& executable);

}  // namespace tarn::protocol
