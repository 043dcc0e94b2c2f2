// Parsing and serialising the dataset definition's "options" and "transforms"
// (docs/catalog-api.md).
#include <set>

#include "tabular/filter.h"
#include "tabular/partition.h"
#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

using nlohmann::json;

Status Invalid(const std::string& msg) { return Error(Reason::kInvalidInput, msg); }

// Typed field readers: absent or null keeps *out; a value of another type is an error naming
// `what`.
Status ReadBool(const json& v, const std::string& what, bool* out) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_boolean()) return Invalid(what + " must be true or false");
  *out = v.get<bool>();
  return Status::Ok();
}

Status ReadString(const json& v, const std::string& what, std::string* out) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_string()) return Invalid(what + " must be a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

Status ReadInt(const json& v, const std::string& what, int64_t* out) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_number_integer()) return Invalid(what + " must be an integer");
  *out = v.get<int64_t>();
  return Status::Ok();
}

Status ReadFraction(const json& v, const std::string& what, double* out) {
  if (!v.is_number()) return Invalid(what + " must be a number between 0 and 1");
  const double d = v.get<double>();
  if (!(d >= 0.0 && d <= 1.0)) return Invalid(what + " must be between 0 and 1");
  *out = d;
  return Status::Ok();
}

Status CheckColumnType(const std::string& column, const std::string& type) {
  static const std::set<std::string> kPlain = {"string", "long", "float", "bool", "datetime"};
  if (kPlain.count(type)) return Status::Ok();
  if (type.rfind("datetime:", 0) == 0 && type.size() > 9) {
    if (!StrptimeFormat(type.substr(9)).ok()) {
      return Invalid("set_column_types." + column + ": bad datetime format '" + type.substr(9) +
                     "'");
    }
    return Status::Ok();
  }
  return Invalid("set_column_types." + column + ": unknown type '" + type +
                 "' (string, long, float, bool, datetime, datetime:<format>)");
}

bool KnownEncoding(const std::string& e) {
  static const std::set<std::string> kKnown = {"utf8",    "utf-8",     "ascii", "utf8bom",
                                               "latin1",  "iso88591",  "utf16", "utf-16",
                                               "latin-1", "iso-8859-1"};
  return kKnown.count(e) > 0;
}

StatusOr<std::vector<std::string>> ReadColumns(const json& v, const std::string& what) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const json& c : v) {
      if (!c.is_string()) return Invalid(what + " must be an array of strings");
      out.push_back(c.get<std::string>());
    }
  } else {
    return Invalid(what + " must be an array of column names");
  }
  if (out.empty()) return Invalid(what + " must name at least one column");
  return out;
}

StatusOr<Transform> ParseTransform(const json& j, const std::string& at) {
  if (!j.is_object()) return Invalid(at + " must be an object");
  Transform t;
  if (!j.contains("op") || !j["op"].is_string()) return Invalid(at + ".op must be a string");
  t.op = j["op"].get<std::string>();
  std::set<std::string> allowed;
  auto field = [&](const char* name) -> const json& {
    static const json kNull;
    allowed.insert(name);
    return j.contains(name) ? j[name] : kNull;
  };
  auto required = [&](const char* name) -> Status {
    if (!j.contains(name) || j[name].is_null()) return Invalid(at + "." + name + " is required");
    return Status::Ok();
  };
  auto seed = [&]() -> Status {
    const json& s = field("seed");
    if (s.is_null()) return Status::Ok();
    int64_t v = 0;
    TARN_RETURN_IF_ERROR(ReadInt(s, at + ".seed", &v));
    t.seed = v;
    return Status::Ok();
  };
  if (t.op == "take" || t.op == "skip") {
    TARN_RETURN_IF_ERROR(required("count"));
    TARN_RETURN_IF_ERROR(ReadInt(field("count"), at + ".count", &t.count));
    if (t.count < 0) return Invalid(at + ".count must not be negative");
  } else if (t.op == "take_sample") {
    TARN_RETURN_IF_ERROR(required("probability"));
    TARN_RETURN_IF_ERROR(ReadFraction(field("probability"), at + ".probability", &t.probability));
    TARN_RETURN_IF_ERROR(seed());
  } else if (t.op == "keep_columns" || t.op == "drop_columns") {
    TARN_RETURN_IF_ERROR(required("columns"));
    TARN_ASSIGN_OR_RETURN(t.columns, ReadColumns(field("columns"), at + ".columns"));
  } else if (t.op == "filter") {
    TARN_RETURN_IF_ERROR(required("expression"));
    TARN_RETURN_IF_ERROR(ReadString(field("expression"), at + ".expression", &t.expression));
    StatusOr<FilterSql> f = CompileFilter(t.expression);
    if (!f.ok()) return Invalid(at + ": " + f.status().message());
  } else if (t.op == "random_split") {
    TARN_RETURN_IF_ERROR(required("percentage"));
    TARN_RETURN_IF_ERROR(ReadFraction(field("percentage"), at + ".percentage", &t.percentage));
    TARN_RETURN_IF_ERROR(seed());
    int64_t part = 0;
    TARN_RETURN_IF_ERROR(ReadInt(field("part"), at + ".part", &part));
    if (part != 0 && part != 1) return Invalid(at + ".part must be 0 or 1");
    t.part = static_cast<int>(part);
  } else {
    return Invalid(at + ".op: unknown transform '" + t.op +
                   "' (take, skip, take_sample, keep_columns, drop_columns, filter, random_split)");
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "op" && !allowed.count(key)) {
      return Invalid(at + ": unknown field '" + key + "' for " + t.op);
    }
  }
  return t;
}

}  // namespace

StatusOr<Format> ParseFormat(const std::string& s) {
  if (s == "csv") return Format::kCsv;
  if (s == "parquet") return Format::kParquet;
  if (s == "jsonl") return Format::kJsonLines;
  return Invalid("unknown tabular format '" + s + "' (csv, parquet, jsonl)");
}

std::string FormatName(Format f) {
  switch (f) {
    case Format::kCsv:
      return "csv";
    case Format::kParquet:
      return "parquet";
    case Format::kJsonLines:
      return "jsonl";
  }
  return "csv";
}

StatusOr<Options> ParseOptions(const json& j) {
  Options o;
  if (j.is_null()) return o;
  if (!j.is_object()) return Invalid("options must be an object");
  for (const auto& [key, v] : j.items()) {
    const std::string what = "options." + key;
    if (key == "separator") {
      TARN_RETURN_IF_ERROR(ReadString(v, what, &o.separator));
      if (o.separator.empty() || o.separator.size() > 4) {
        return Invalid(what + " must be 1 to 4 characters");
      }
    } else if (key == "header") {
      TARN_RETURN_IF_ERROR(ReadBool(v, what, &o.header));
    } else if (key == "infer_column_types") {
      TARN_RETURN_IF_ERROR(ReadBool(v, what, &o.infer_column_types));
    } else if (key == "set_column_types") {
      if (v.is_null()) continue;
      if (!v.is_object()) return Invalid(what + " must be an object of column: type");
      for (const auto& [col, type] : v.items()) {
        if (!type.is_string()) return Invalid(what + "." + col + " must be a string");
        TARN_RETURN_IF_ERROR(CheckColumnType(col, type.get<std::string>()));
        o.set_column_types[col] = type.get<std::string>();
      }
    } else if (key == "partition_format") {
      TARN_RETURN_IF_ERROR(ReadString(v, what, &o.partition_format));
      if (!o.partition_format.empty()) {
        StatusOr<std::vector<std::string>> keys = PartitionKeys(o.partition_format);
        if (!keys.ok()) return keys.status();
      }
    } else if (key == "include_path") {
      TARN_RETURN_IF_ERROR(ReadBool(v, what, &o.include_path));
    } else if (key == "support_multi_line") {
      TARN_RETURN_IF_ERROR(ReadBool(v, what, &o.support_multi_line));
    } else if (key == "encoding") {
      TARN_RETURN_IF_ERROR(ReadString(v, what, &o.encoding));
      if (!KnownEncoding(o.encoding)) {
        return Invalid(what + ": unsupported encoding '" + o.encoding + "' (utf8, latin1, utf16)");
      }
    } else if (key == "empty_as_string") {
      TARN_RETURN_IF_ERROR(ReadBool(v, what, &o.empty_as_string));
    } else if (key == "invalid_lines") {
      TARN_RETURN_IF_ERROR(ReadString(v, what, &o.invalid_lines));
      if (o.invalid_lines != "error" && o.invalid_lines != "drop") {
        return Invalid(what + " must be 'error' or 'drop'");
      }
    } else {
      return Invalid("unknown option '" + key + "'");
    }
  }
  return o;
}

json OptionsToJson(const Options& o) {
  json types = json::object();
  for (const auto& [col, type] : o.set_column_types) types[col] = type;
  return json{{"separator", o.separator},
              {"header", o.header},
              {"infer_column_types", o.infer_column_types},
              {"set_column_types", types},
              {"partition_format", o.partition_format.empty() ? json() : json(o.partition_format)},
              {"include_path", o.include_path},
              {"support_multi_line", o.support_multi_line},
              {"encoding", o.encoding},
              {"empty_as_string", o.empty_as_string},
              {"invalid_lines", o.invalid_lines}};
}

StatusOr<std::vector<Transform>> ParseTransforms(const json& j) {
  std::vector<Transform> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return Invalid("transforms must be an array");
  for (size_t i = 0; i < j.size(); ++i) {
    TARN_ASSIGN_OR_RETURN(Transform t,
                          ParseTransform(j[i], "transforms[" + std::to_string(i) + "]"));
    out.push_back(std::move(t));
  }
  return out;
}

json TransformsToJson(const std::vector<Transform>& ts) {
  json out = json::array();
  for (const Transform& t : ts) {
    json o{{"op", t.op}};
    const json seed = t.seed ? json(*t.seed) : json();
    if (t.op == "take" || t.op == "skip") {
      o["count"] = t.count;
    } else if (t.op == "take_sample") {
      o["probability"] = t.probability;
      o["seed"] = seed;
    } else if (t.op == "keep_columns" || t.op == "drop_columns") {
      o["columns"] = t.columns;
    } else if (t.op == "filter") {
      o["expression"] = t.expression;
    } else if (t.op == "random_split") {
      o["percentage"] = t.percentage;
      o["seed"] = seed;
      o["part"] = t.part;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace tarn::tabular
