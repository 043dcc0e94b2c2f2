// MLflow's search_runs grammar: the filter string and the order_by items, parsed into a small
// AST that a store translates to its own query language (sqlite/run_filter_sql.h). The grammar
// and its error cases follow MLflow's SearchUtils (mlflow/utils/search_utils.py).
//
// Filter: empty, or clauses joined by AND (any case). No OR, no parentheses (except around the
// value list of IN / NOT IN). A clause is `<entity>.<key> <comparator> <value>`:
//   entity      metrics|metric, params|param|parameters|parameter, tags|tag,
//               attributes|attribute|attr|run, datasets|dataset (case-sensitive, as MLflow).
//               An identifier without an entity is an attribute key ("start_time > 0").
//   key         a bare word (letters, digits, non-ASCII bytes, _ - . /) or quoted with
//               backticks or double quotes (any characters; a doubled quote stands for one):
//               tags.`mlflow.runName`, params."my key". The entity may be backtick-quoted.
//   metrics     = != > >= < <=  with a number (123, -1.5, 2e-3; no NaN or infinity).
//   params      = != LIKE ILIKE with a quoted string ('...' or "...").
//   tags        = != LIKE ILIKE with a quoted string; also IS NULL / IS NOT NULL (an extension
//               to MLflow's run search: the run has no such tag / has it).
//   attributes  run_id: = != LIKE ILIKE IN NOT IN; run_name ("run name" is an alias), status,
//               user_id, artifact_uri: = != LIKE ILIKE; start_time ("created" is an alias),
//               end_time: = != > >= < <= with a number. lifecycle_stage is not searchable.
//   datasets    name, digest, context: = != LIKE ILIKE IN NOT IN.
//   IN / NOT IN take a non-empty list of quoted strings: ('a', "b").
// Strings: a doubled quote inside stands for one ('it''s'); a backslash is kept as written and
// does not end the string ('a\'b' is the value a\'b, as MLflow keeps it). LIKE patterns use %
// and _ with no escape character, as MLflow on SQLite.
//
// Order-by item: `<entity>.<key> [ASC|DESC]` with the same entities and quoting (no datasets);
// attribute keys: run_id, run_name, status, user_id, artifact_uri, start_time, end_time,
// created. Default ASC.
//
// Every error is Reason::kMlflowInvalidParameterValue with a message naming the bad token and
// what is allowed. Filters longer than kMaxFilterBytes or with more than kMaxFilterClauses
// clauses are refused.
//
//   TARN_ASSIGN_OR_RETURN(std::vector<Clause> where,
//                         ParseRunFilter("metrics.acc > 0.9 AND tags.team = 'nlp'"));
//   TARN_ASSIGN_OR_RETURN(OrderBy order, ParseRunOrderBy("metrics.acc DESC"));
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tarn::tracking {

inline constexpr size_t kMaxFilterBytes = 4096;
inline constexpr size_t kMaxFilterClauses = 100;

enum class Entity { kMetric, kParam, kTag, kAttribute, kDataset };

// "metric", "param", "tag", "attribute", "dataset".
const char* EntityName(Entity e);

// A piece of the caller's text as these messages show it: in single quotes, cut after 64
// bytes, with control characters and bytes that are not UTF-8 shown as '?' (printable, valid
// UTF-8, safe to put in JSON).
std::string QuoteForMessage(std::string_view s);

struct Clause {
  Entity entity = Entity::kMetric;
  // Attributes are normalized: run_id, run_name, status, user_id, artifact_uri, start_time,
  // end_time. Datasets: name, digest, context. Others as written (quotes removed).
  std::string key{};
  // Upper-case: "=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL",
  // "IS NOT NULL".
  std::string op{};
  // Numeric comparisons (metrics, start_time, end_time): the value, and in `text` the literal as
  // written (so that an integer can be compared exactly).
  std::optional<double> number{};
  std::string text{};              // string comparisons: the unquoted value
  std::vector<std::string> list{};  // IN / NOT IN: the unquoted values, at least one
};

struct OrderBy {
  Entity entity = Entity::kAttribute;  // never kDataset
  std::string key{};                   // attribute keys normalized as in Clause
  bool ascending = true;
};

StatusOr<std::vector<Clause>> ParseRunFilter(std::string_view filter);
StatusOr<OrderBy> ParseRunOrderBy(std::string_view item);

}  // namespace tarn::tracking
