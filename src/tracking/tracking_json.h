// The JSON of MLflow's messages, both ways: readers of request fields that accept what MLflow's
// clients send (numbers as numbers or strings, NaN and the infinities as strings), and the
// response shapes of experiments, runs and metrics. Internal to src/tracking.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/status.h"
#include "store/tracking/tracking_store.h"

namespace tarn::tracking::tracking_json {

using Json = nlohmann::json;

// A string field; numbers are given as their text, anything else (or absent) as "".
std::string StringField(const Json& j, const char* field);
// An int64 field, as a number or a decimal string; `fallback` when absent or null.
StatusOr<int64_t> IntField(const Json& j, const char* field, int64_t fallback);
// A list of strings (or a single string, as a GET with one value gives).
std::vector<std::string> StringList(const Json& j, const char* field);
// [{"key","value"}, ...] as pairs; kMlflowInvalidParameterValue when malformed.
StatusOr<std::vector<KeyValue>> KeyValues(const Json& j, const char* field);
// {"key","value","timestamp","step"}: a metric point. value may be "NaN", "Infinity",
// "-Infinity".
StatusOr<Metric> MetricOf(const Json& j);
// A DatasetInput {"tags":[{"key","value"}], "dataset":{name, digest, source_type, source,
// schema, profile}} with MLflow's size limits.
StatusOr<RunInput> DatasetInputOf(const Json& j);

Json ExperimentToJson(const Experiment& e);
Json RunInfoToJson(const RunInfo& r);
Json MetricsToJson(const std::vector<Metric>& points);
// {"metrics":[...]} (and "next_page_token" unless empty) as JSON text, as MetricsToJson would
// give it, written directly.
std::string MetricsText(const std::vector<Metric>& points, const std::string& next_page_token);
Json RunToJson(const RunInfo& r, const RunData& d, const Json& model_outputs);
// A double as MLflow writes it: a number, or "NaN" / "Infinity" / "-Infinity".
Json DoubleToJson(double v);

// A filter of `key op 'value'` clauses joined by AND, as MLflow's clients send for experiments
// and models: op is =, !=, LIKE or ILIKE; a key is a word ("name", "run_id";
// "attributes.name" is "name") or a tag, "tags.<word>" or tags.`any text` (key "tags.<text>").
// `what` names the filter in errors. The caller checks which keys it serves.
struct FieldClause {
  std::string key, op, value;
};
StatusOr<std::vector<FieldClause>> ParseFieldFilter(const std::string& filter,
                                                    const std::string& what);
// SQL LIKE: % any run, _ one character, \ escapes; fold: ASCII case-insensitive (ILIKE).
bool SqlLike(std::string_view s, std::string_view pattern, bool fold);
bool ClauseHolds(const FieldClause& c, const std::string& value);
// One order_by item, "<key> [ASC|DESC]" (an attributes./attribute./attr. prefix dropped), as the
// clients send for experiments and models; the caller checks which keys it serves.
struct OrderItem {
  std::string key;
  bool ascending = true;
};
StatusOr<OrderItem> ParseOrderItem(const std::string& item);

// kMlflowInvalidParameterValue with `why`: bad input, as MLflow says it.
Status Invalid(const std::string& why);

}  // namespace tarn::tracking::tracking_json
