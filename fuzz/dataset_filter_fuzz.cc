// A dataset's filter transform (TabularDataset.filter: `age > 15 and name contains 'Bri'`,
// `region in ('eu', 'us')`): tabular::CompileFilter, then the SQL it becomes. Checks what the
// engine relies on when it puts that SQL in a WHERE clause: outside its quoted literals and
// identifiers the SQL holds no statement separator, comment or unbalanced parenthesis, and each
// column the expression names appears as a quoted identifier.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tabular/filter.h"
#include "tabular/sql_text.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& expr, const std::string& sql) {
  std::fprintf(stderr, "dataset_filter_fuzz: %s\nexpression: %s\nsql: %s\n", what, expr.c_str(),
               sql.c_str());
  std::abort();
}

// Walks the SQL, skipping '...' literals and "..." identifiers (a doubled quote stays inside).
void CheckShape(const std::string& expr, const std::string& sql) {
  int depth = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t j = i + 1;
      for (;; ++j) {
        if (j >= sql.size()) Fail("an unterminated quote", expr, sql);
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            ++j;
            continue;
          }
          break;
        }
      }
      i = j;
      continue;
    }
    if (c == ';') Fail("a statement separator outside quotes", expr, sql);
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') Fail("a comment", expr, sql);
    if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') Fail("a comment", expr, sql);
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) Fail("a ')' without its '('", expr, sql);
  }
  if (depth != 0) Fail("unbalanced parentheses", expr, sql);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string expr(reinterpret_cast<const char*>(data), size);
  auto f = tarn::tabular::CompileFilter(expr);
  if (!f.ok()) return 0;
  CheckShape(expr, f->sql);
  for (const std::string& id : f->identifiers) {
    if (id.empty()) Fail("an empty column name", expr, f->sql);
    if (f->sql.find(tarn::tabular::QuoteIdent(id)) == std::string::npos) {
      Fail("a column not quoted in the SQL", expr, f->sql);
    }
  }
  return 0;
}
