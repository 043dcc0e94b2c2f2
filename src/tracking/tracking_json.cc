#include "tracking/tracking_json.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/strings.h"

namespace tarn::tracking::tracking_json {
Status Invalid(const std::string& why) {
  return Error(Reason::kMlflowInvalidParameterValue, why);
}

namespace {

StatusOr<double> DoubleOf(const Json& v, const char* field) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return Invalid(std::string("Got invalid value for '") + field + "': it must be a number.");
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string StringField(const Json& j, const char* field) {
  if (!j.is_object()) return "";
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) return (*it)[0].get<std::string>();
  return "";
}

StatusOr<int64_t> IntField(const Json& j, const char* field, int64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      return static_cast<int64_t>(d);
    }
  }
  const Json* v = &*it;
  if (v->is_array() && v->size() == 1) v = &(*v)[0];
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return n;
  }
  return Invalid(std::string("Invalid value for parameter '") + field + "': it must be an integer.");
}

std::vector<std::string> StringList(const Json& j, const char* field) {
  std::vector<std::string> out;
  if (!j.is_object()) return out;
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const Json& v : *it) {
      if (v.is_string()) out.push_back(v.get<std::string>());
      if (v.is_number_integer()) out.push_back(std::to_string(v.get<int64_t>()));
    }
  }
  return out;
}

StatusOr<std::vector<KeyValue>> KeyValues(const Json& j, const char* field) {
  std::vector<KeyValue> out;
  if (!j.is_object() || !j.contains(field) || j[field].is_null()) return out;
  const Json& list = j[field];
  if (!list.is_array()) return Invalid(std::string(field) + " must be a list of {key, value}.");
  for (const Json& kv : list) {
    if (!kv.is_object() || !kv.contains("key") || !kv["key"].is_string()) {
      return Invalid(std::string("Each of ") + field + " needs a string 'key'.");
    }
    out.emplace_back(kv["key"].get<std::string>(), StringField(kv, "value"));
  }
  return out;
}

StatusOr<Metric> MetricOf(const Json& j) {
  Metric m;
  m.key = StringField(j, "key");
  if (!j.is_object() || !j.contains("value") || j["value"].is_null()) {
    return Invalid("Missing value for required parameter 'value'. A metric needs a value.");
  }
  TARN_ASSIGN_OR_RETURN(double v, DoubleOf(j["value"], "value"));
  m.is_nan = std::isnan(v);
  // As MLflow stores them: the infinities become the largest finite doubles.
  constexpr double kMax = std::numeric_limits<double>::max();
  if (std::isinf(v)) v = v > 0 ? kMax : -kMax;
  m.value = m.is_nan ? 0 : v;
  if (!j.contains("timestamp") || j["timestamp"].is_null()) {
    return Invalid("Missing value for required parameter 'timestamp'.");
  }
  TARN_ASSIGN_OR_RETURN(m.timestamp, IntField(j, "timestamp", 0));
  TARN_ASSIGN_OR_RETURN(m.step, IntField(j, "step", 0));
  return m;
}

StatusOr<RunInput> DatasetInputOf(const Json& j) {
  if (!j.is_object() || !j.contains("dataset") || !j["dataset"].is_object()) {
    return Invalid("Each dataset input needs a 'dataset'.");
  }
  const Json& d = j["dataset"];
  RunInput in;
  in.name = StringField(d, "name");
  in.digest = StringField(d, "digest");
  if (in.name.empty() || in.name.size() > 500) {
    return Invalid("A dataset needs a name of at most 500 characters.");
  }
  if (in.digest.empty() || in.digest.size() > 36) {
    return Invalid("A dataset needs a digest of at most 36 characters.");
  }
  if (StringField(d, "source_type").empty() || StringField(d, "source").size() > 65535 ||
      StringField(d, "schema").size() > 1048575 || StringField(d, "profile").size() > 16777215) {
    return Invalid("A dataset needs a source_type, and its source, schema and profile must "
                   "be within MLflow's limits (64 KiB, 1 MiB, 16 MiB).");
  }
  TARN_ASSIGN_OR_RETURN(auto tags, KeyValues(j, "tags"));
  for (const auto& [k, v] : tags) {
    if (k.size() > 255 || v.size() > 500) {
      return Invalid("Input tag keys are at most 255 and values at most 500 characters.");
    }
    if (k == "mlflow.data.context") in.context = v;
  }
  Json doc = Json::object();
  doc["tags"] = Json::array();
  for (const auto& [k, v] : tags) doc["tags"].push_back(Json{{"key", k}, {"value", v}});
  doc["dataset"] = Json::object();
  for (const char* f : {"name", "digest", "source_type", "source", "schema", "profile"}) {
    if (d.contains(f) && d[f].is_string()) doc["dataset"][f] = d[f];
  }
  in.doc = doc.dump();
  return in;
}

Json DoubleToJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Json ExperimentToJson(const Experiment& e) {
  Json tags = Json::array();
  for (const auto& [k, v] : e.tags) tags.push_back(Json{{"key", k}, {"value", v}});
  return Json{{"experiment_id", std::to_string(e.id)},
              {"name", e.name},
              {"artifact_location", e.artifact_location},
              {"lifecycle_stage", e.lifecycle_stage},
              {"last_update_time", e.last_update_time},
              {"creation_time", e.creation_time},
              {"tags", std::move(tags)}};
}

Json RunInfoToJson(const RunInfo& r) {
  Json j{{"run_id", r.run_id},
         {"run_uuid", r.run_id},
         {"run_name", r.run_name},
         {"experiment_id", std::to_string(r.experiment_id)},
         {"user_id", r.user_id},
         {"status", r.status},
         {"start_time", r.start_time},
         {"artifact_uri", r.artifact_uri},
         {"lifecycle_stage", r.lifecycle_stage}};
  if (r.end_time) j["end_time"] = *r.end_time;
  return j;
}

Json MetricsToJson(const std::vector<Metric>& points) {
  Json out = Json::array();
  for (const Metric& m : points) {
    out.push_back(Json{{"key", m.key},
                       {"value", DoubleToJson(m.is_nan ? std::nan("") : m.value)},
                       {"timestamp", m.timestamp},
                       {"step", m.step}});
  }
  return out;
}

std::string MetricsText(const std::vector<Metric>& points, const std::string& next_page_token) {
  std::string out = "{\"metrics\":[";
  out.reserve(out.size() + points.size() * 64);
  std::string key_json;
  const std::string* last_key = nullptr;
  char buf[64];
  for (size_t i = 0; i < points.size(); ++i) {
    const Metric& m = points[i];
    if (!last_key || *last_key != m.key) {
      key_json = Json(m.key).dump(-1, ' ', false, Json::error_handler_t::replace);
      last_key = &m.key;
    }
    out += i ? ",{\"key\":" : "{\"key\":";
    out += key_json;
    out += ",\"value\":";
    if (m.is_nan) {
      out += "\"NaN\"";
    } else if (std::isinf(m.value)) {
      out += m.value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      auto r = std::to_chars(buf, buf + sizeof buf, m.value);
      out.append(buf, r.ptr);
    }
    out += ",\"timestamp\":";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, m.timestamp).ptr);
    out += ",\"step\":";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, m.step).ptr);
    out += '}';
  }
  out += ']';
  if (!next_page_token.empty()) out += ",\"next_page_token\":" + Json(next_page_token).dump();
  out += '}';
  return out;
}

Json RunToJson(const RunInfo& r, const RunData& d, const Json& model_outputs) {
  Json data = Json::object();
  data["metrics"] = MetricsToJson(d.metrics);
  data["params"] = Json::array();
  for (const auto& [k, v] : d.params) data["params"].push_back(Json{{"key", k}, {"value", v}});
  data["tags"] = Json::array();
  for (const auto& [k, v] : d.tags) data["tags"].push_back(Json{{"key", k}, {"value", v}});
  Json inputs = Json::object();
  inputs["dataset_inputs"] = Json::array();
  inputs["model_inputs"] = Json::array();
  for (const RunInput& in : d.inputs) {
    Json doc = Json::parse(in.doc, nullptr, false);
    if (in.context == "model" && in.name.empty()) {
      inputs["model_inputs"].push_back(doc);
    } else {
      inputs["dataset_inputs"].push_back(doc);
    }
  }
  Json outputs = Json::object();
  outputs["model_outputs"] = model_outputs.is_array() ? model_outputs : Json::array();
  return Json{{"info", RunInfoToJson(r)},
              {"data", std::move(data)},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
}

bool SqlLike(std::string_view s, std::string_view p, bool fold) {
  auto eq = [&](char a, char b) {
    return fold ? std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b))
                : a == b;
  };
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star_p = pi++;
      star_s = si;
    } else if (pi + 1 < p.size() && p[pi] == '\\' && eq(s[si], p[pi + 1])) {
      pi += 2;
      ++si;
    } else if (pi < p.size() && p[pi] != '\\' && (p[pi] == '_' || eq(s[si], p[pi]))) {
      ++pi;
      ++si;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

bool ClauseHolds(const FieldClause& c, const std::string& value) {
  if (c.op == "=") return value == c.value;
  if (c.op == "!=") return value != c.value;
  return SqlLike(value, c.value, c.op == "ILIKE");
}

StatusOr<std::vector<FieldClause>> ParseFieldFilter(const std::string& filter,
                                                    const std::string& what) {
  std::vector<FieldClause> out;
  std::string_view rest = Trim(filter);
  auto bad = [&](const std::string& why) {
    return Invalid("Invalid " + what + " '" + filter + "': " + why +
                   ". Write clauses like name = 'x', name LIKE 'x%' or tags.team = 'ml', "
                   "joined by AND.");
  };
  auto quoted = [&](char quote, std::string* value) -> bool {
    size_t end = rest.find(quote, 1);
    if (end == std::string_view::npos) return false;
    *value = std::string(rest.substr(1, end - 1));
    rest = rest.substr(end + 1);
    return true;
  };
  while (!rest.empty()) {
    if (out.size() >= 100) return bad("more than 100 clauses");
    FieldClause c;
    size_t k = 0;
    while (k < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[k])) ||
                               rest[k] == '_' || rest[k] == '.')) {
      ++k;
    }
    c.key = std::string(rest.substr(0, k));
    rest = rest.substr(k);
    for (std::string_view prefix : {"attributes.", "attribute.", "attr."}) {
      if (StartsWithIgnoreCase(c.key, prefix)) c.key = c.key.substr(prefix.size());
    }
    if (c.key == "tags." || c.key == "tag.") {
      // tags.`key with spaces` or tags."key"
      std::string key;
      if (rest.empty() || (rest[0] != '`' && rest[0] != '"') || !quoted(rest[0], &key)) {
        return bad("a tag key after 'tags.' is a word or quoted in backticks");
      }
      c.key = "tags." + key;
    } else if (StartsWith(c.key, "tag.")) {
      c.key = "tags." + c.key.substr(4);
    }
    if (c.key.empty()) return bad("expected a key");
    rest = Trim(rest);
    for (const char* op : {"!=", "=", "ILIKE", "LIKE"}) {
      std::string_view o(op);
      if (rest.size() >= o.size() && EqualsIgnoreCase(rest.substr(0, o.size()), o)) {
        c.op = op;
        rest = Trim(rest.substr(o.size()));
        break;
      }
    }
    if (c.op.empty()) return bad("expected =, !=, LIKE or ILIKE after '" + c.key + "'");
    if (rest.empty() || (rest[0] != '\'' && rest[0] != '"') || !quoted(rest[0], &c.value)) {
      return bad("expected a quoted value after '" + c.key + " " + c.op + "'");
    }
    rest = Trim(rest);
    out.push_back(std::move(c));
    if (rest.empty()) break;
    if (rest.size() < 4 || !EqualsIgnoreCase(rest.substr(0, 4), "AND ")) {
      return bad("clauses are joined by AND");
    }
    rest = Trim(rest.substr(4));
  }
  return out;
}

StatusOr<OrderItem> ParseOrderItem(const std::string& item) {
  std::string_view s = Trim(item);
  for (std::string_view prefix : {"attributes.", "attribute.", "attr."}) {
    if (StartsWithIgnoreCase(s, prefix)) s.remove_prefix(prefix.size());
  }
  size_t space = s.find(' ');
  std::string_view dir = space == std::string_view::npos ? "" : Trim(s.substr(space));
  OrderItem out;
  out.key = std::string(s.substr(0, space));
  if (EqualsIgnoreCase(dir, "DESC")) {
    out.ascending = false;
  } else if (!dir.empty() && !EqualsIgnoreCase(dir, "ASC")) {
    return Invalid("Invalid order_by clause '" + item + "': the direction is ASC or DESC.");
  }
  return out;
}

}  // namespace tarn::tracking::tracking_json
