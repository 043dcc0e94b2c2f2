#include "yaml/yaml_reader.h"

#include <algorithm>
#include <set>

namespace tarn::yaml {
namespace {

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

}  // namespace

Status Reader::At(const YAML::Mark& m, const std::string& what) const {
  if (m.is_null()) return Status(Code::kInvalidArgument, file_ + ": " + what);
  return Status(Code::kInvalidArgument, file_ + ":" + std::to_string(m.line + 1) + ":" +
                                            std::to_string(m.column + 1) + ": " + what);
}

Status Reader::Mapping(const YAML::Node& n, const std::string& what,
                       const std::vector<std::string>& known) const {
  if (!n.IsMap()) return At(n.Mark(), what + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) return At(kv.first.Mark(), "a key in " + what + " must be text");
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return At(kv.first.Mark(),
                "unknown key '" + key + "' in " + what + " (known: " + Join(known, ", ") + ")");
    }
    if (!seen.insert(key).second) {
      return At(kv.first.Mark(), "'" + key + "' is given twice in " + what);
    }
  }
  return Status::Ok();
}

StatusOr<std::string> Reader::Text(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar() || n.Scalar().empty()) return At(n.Mark(), what + " must be a non-empty string");
  return n.Scalar();
}

StatusOr<bool> Reader::Bool(const YAML::Node& n, const std::string& what) const {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
    return At(n.Mark(), what + " must be true or false");
  }
  return b;
}

StatusOr<YAML::Node> Load(std::string_view text, const Reader& r) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return r.At(e.mark, "not valid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    return r.At(e.mark, e.msg);
  }
}

}  // namespace tarn::yaml
