// Column-level lineage of a pipeline step's SQL, for OpenLineage's columnLineage facet: which input
// columns each output column is computed from. Derived by parsing (not binding) the SELECT, so it
// needs no database and no data; DuckDB stays out of this header.
//
//   StatusOr<std::vector<OutputColumn>> lineage = ColumnLineage(
//       "SELECT s.region, sum(s.amount) AS revenue FROM sales s GROUP BY 1",
//       {{"sales", {"id", "region", "amount"}}});
//   // region  <- sales.region  IDENTITY
//   // revenue <- sales.amount  AGGREGATION
//
// What it follows: projections and renames, casts, scalar expressions, CASE (its conditions count
// as origins too), aggregates and window functions (their arguments; FILTER, PARTITION BY and
// ORDER BY are ignored like WHERE and GROUP BY), DISTINCT, joins (ON, USING, NATURAL, aliases,
// qualified and unqualified references), SELECT * and t.* with EXCLUDE / REPLACE / RENAME, CTEs
// and subqueries in FROM, and references to an earlier select-list alias.
//
// What it does not follow gives fewer OutputColumns, never a wrong origin: a set operation (UNION,
// INTERSECT, EXCEPT: no columns at all), a recursive CTE, a table function, VALUES, PIVOT, a
// table that is not one of the inputs, a scalar subquery, a lambda, COLUMNS(...), a positional
// reference (#1), or a column it cannot resolve. Once a * expands over a table whose columns are
// not all known, the columns after it are left out too: their names could have been changed by
// DuckDB's deduplication.
//
// Output names are the ones the step's output gets: the alias, else a column reference's column
// (as the input spells it), else DuckDB's text of the expression ("sum(amount)",
// "CAST(id AS BIGINT)", "count_star()"); repeated names deduplicated as DuckDB does (id, id_1).
// Matching of table and column names is case-insensitive, as in DuckDB.
//
// Thread-safe; nothing throws.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::tabular {

struct ColumnOrigin {
  std::string input{};   // the input's name, as a key of `inputs`
  std::string column{};  // the input's column, as its column list spells it
  friend bool operator==(const ColumnOrigin&, const ColumnOrigin&) = default;
  friend auto operator<=>(const ColumnOrigin&, const ColumnOrigin&) = default;
};

struct OutputColumn {
  std::string name{};
  // Sorted, unique; empty when the column comes from no input column (a literal, count(*)).
  std::vector<ColumnOrigin> from{};
  // OpenLineage's transformation type: "IDENTITY" (an input column as it is, maybe renamed),
  // "TRANSFORMATION" (an expression, a cast, a literal), "AGGREGATION" (an aggregate or window
  // aggregate takes part). The strongest one along the way, through CTEs and subqueries too.
  std::string transformation{};
  friend bool operator==(const OutputColumn&, const OutputColumn&) = default;
};

// The lineage of the output columns of `sql`, in output order, leaving out those it cannot follow.
// inputs: each input table's name (as the step's SQL reads it) -> its columns, in order.
// kInvalidInput when sql does not parse or is not exactly one SELECT statement.
StatusOr<std::vector<OutputColumn>> ColumnLineage(
    const std::string& sql, const std::map<std::string, std::vector<std::string>>& inputs);

}  // namespace tarn::tabular
