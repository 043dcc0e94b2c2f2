// Translates a parsed search_runs filter and order_by list (store/tracking/run_filter.h) to
// SQLite SQL over the tracking schema, with MLflow's SqlAlchemyStore semantics. Every value and
// key is a bound parameter; the SQL text holds only fixed table and column names.
//
// The fragments fit a query over `runs r`:
//   SELECT ... FROM runs r WHERE r.ws = ? AND r.experiment_id IN (...) AND
//     r.lifecycle_stage IN (...) AND (<where>) ORDER BY <order_by>, r.start_time DESC, r.run_uuid
// so the parameters are bound in text order: the query's own, then where_binds, then
// order_binds (then any LIMIT / OFFSET). When order_by is empty, leave out "<order_by>, ".
//
// Tables read: runs (r), latest_metrics, params, tags, run_inputs.
// Semantics:
// - metrics compare the latest value; a NaN latest value matches no comparison.
// - params, tags and datasets: the run has a row for the key whose value compares true; so
//   `!=` needs the key present with another value. tags IS NULL: the run has no such tag.
//   An input whose context is "" has no context (MLflow's missing context tag).
// - `=`, `!=`, IN compare exactly; LIKE is case-sensitive (run as GLOB), ILIKE is LIKE, which
//   folds ASCII case only. Neither has an escape character: % and _ are always wildcards.
// - attributes compare r's columns (run_id is r.run_uuid, run_name is r.run_name); a NULL
//   end_time matches no comparison.
// - order: metrics by latest value, then NaN, then missing, in both directions; params and tags
//   by value with missing last; attributes by column, NULL last. A field may appear once.
//
//   TARN_ASSIGN_OR_RETURN(RunFilterSql f, BuildRunFilterSql(query.filter, query.order));
//   std::string sql = "SELECT r.run_uuid FROM runs r WHERE (" + f.where + ")";
//   if (!f.order_by.empty()) sql += " ORDER BY " + f.order_by;
//   ... bind f.where_binds, then f.order_binds (BindSqlValue).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "store/tracking/run_filter.h"

namespace tarn::tracking {

inline constexpr size_t kMaxOrderByItems = 100;

using SqlValue = std::variant<int64_t, double, std::string>;

struct RunFilterSql {
  std::string where{};  // "1" when there are no clauses; else ANDed conditions on r
  std::vector<SqlValue> where_binds{};
  std::string order_by{};  // comma-separated terms; empty when there is no order
  std::vector<SqlValue> order_binds{};
};

// Fails with kMlflowInvalidParameterValue on a clause the parser would not produce (an unknown
// attribute, a comparator the entity does not take, a missing value), on a field ordered twice,
// and on more than kMaxOrderByItems order items.
StatusOr<RunFilterSql> BuildRunFilterSql(const std::vector<Clause>& clauses,
                                         const std::vector<OrderBy>& order);

// Binds one value to parameter `index` (1-based) of stmt: int64, double or text. Returns the
// SQLite result code.
int BindSqlValue(sqlite3_stmt* stmt, int index, const SqlValue& value);

}  // namespace tarn::tracking
