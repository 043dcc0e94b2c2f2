// The filter transform's expression language (see Transform in tabular.h), parsed here and turned
// into a DuckDB WHERE clause: `column op literal` with op one of == != < <= > >=, `column
// contains|startswith|endswith 'text'` (on the column as text), `column in (v, ...)`, combined
// with and, or, not and parentheses. Identifiers become quoted identifiers and literals escaped
// literals, so no expression can change the shape of the query around it.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::tabular {

struct FilterSql {
  std::string sql;                       // a boolean SQL expression
  std::vector<std::string> identifiers;  // the columns it names, in order of appearance
};

// kInvalidInput with the 0-based character position of the problem, e.g.
// "filter expression: expected a comparison operator at position 4".
StatusOr<FilterSql> CompileFilter(const std::string& expression);

}  // namespace tarn::tabular
