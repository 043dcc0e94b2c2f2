// SQL text for DuckDB built from untrusted names and values: quoting that leaves no way out of an
// identifier or a string literal.
#pragma once

#include <string>
#include <string_view>

namespace tarn::tabular {

// "name" with every '"' doubled. DuckDB identifiers take any character inside double quotes.
std::string QuoteIdent(std::string_view name);
// 'text' with every '\'' doubled (DuckDB string literals have no backslash escapes).
std::string QuoteLiteral(std::string_view text);

}  // namespace tarn::tabular
