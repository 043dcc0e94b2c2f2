// Reading a YAML file (lake.yaml, pipeline.yaml) into Tarn's types with errors that point at the
// place, as compilers do. A Reader knows the file's name; every error it makes is
// kInvalidArgument with "FILE:LINE:COLUMN: what is wrong" (1-based), or "FILE: what is wrong" when
// yaml-cpp gives no position. Load parses the text, turning yaml-cpp's exceptions into the same
// errors ("FILE:LINE:COLUMN: not valid YAML: ..."), so that a parser built on it throws nothing
// on bad input except what yaml-cpp's conversions may (catch YAML::Exception around them and
// report it with At).
//
//   yaml::Reader r("lake.yaml");
//   TARN_ASSIGN_OR_RETURN(YAML::Node root, yaml::Load(text, r));
//   TARN_RETURN_IF_ERROR(r.Mapping(root, "the layout", {"version", "tenant"}));
//   if (!root["tenant"]) return r.At(root.Mark(), "'tenant' is required");
//   TARN_ASSIGN_OR_RETURN(std::string tenant, r.Text(root["tenant"], "tenant"));
//   // "lake.yaml:3:1: unknown key 'tennat' in the layout (known: version, tenant)"
//
// Mapping is strict: every key is a plain string, given once, and one of the known keys.
//
// A file's parser adds its own checks (names, sizes, ...) by deriving from Reader. At is virtual
// so that a derived reader may report differently (pipeline's bare reader, for text that is not a
// file, gives the message alone and remembers the place); every check here reports through it.
// A Reader is a value: cheap to copy, and safe to use from several threads as long as a derived
// At keeps no state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tarn::yaml {

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  Reader(const Reader&) = default;
  Reader& operator=(const Reader&) = default;
  Reader(Reader&&) = default;
  Reader& operator=(Reader&&) = default;
  virtual ~Reader() = default;

  const std::string& file() const { return file_; }

  // kInvalidArgument: "FILE:LINE:COLUMN: what", or "FILE: what" for a null mark.
  virtual Status At(const YAML::Mark& m, const std::string& what) const;

  // A mapping whose keys are plain, distinct and all in `known`; an unknown key's error lists
  // the known ones.
  Status Mapping(const YAML::Node& n, const std::string& what,
                 const std::vector<std::string>& known) const;

  // A non-empty scalar.
  StatusOr<std::string> Text(const YAML::Node& n, const std::string& what) const;

  // A boolean as yaml-cpp reads one (true/false, and the YAML 1.1 spellings it also takes).
  StatusOr<bool> Bool(const YAML::Node& n, const std::string& what) const;

 private:
  std::string file_;
};

// The YAML document in `text`; a syntax error is r.At(its place, "not valid YAML: ...").
StatusOr<YAML::Node> Load(std::string_view text, const Reader& r);

}  // namespace tarn::yaml
