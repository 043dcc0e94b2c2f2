#include "tabular/column_lineage.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "duckdb/main/query_result.hpp"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/cte_node.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "duckdb/parser/tableref/joinref.hpp"
#include "duckdb/parser/tableref/subqueryref.hpp"
#include "tabular/call.h"

namespace tarn::tabular {
namespace {

// Ordered so that combining two is taking the larger.
enum class Kind { kIdentity = 0, kTransformation = 1, kAggregation = 2 };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kIdentity:
      return "IDENTITY";
    case Kind::kTransformation:
      return "TRANSFORMATION";
    case Kind::kAggregation:
      return "AGGREGATION";
  }
  return "TRANSFORMATION";
}

// DuckDB's parser does not know which functions aggregate; these are the common ones.
constexpr std::string_view kAggregates[] = {
    "any_value", "approx_count_distinct", "approx_quantile", "arbitrary", "arg_max", "arg_min",
    "argmax", "argmin", "array_agg", "avg", "bit_and", "bit_or", "bit_xor", "bitstring_agg",
    "bool_and", "bool_or", "corr", "count", "count_if", "count_star", "covar_pop", "covar_samp",
    "entropy", "favg", "first", "fsum", "geomean", "group_concat", "histogram", "kurtosis",
    "last", "list", "listagg", "mad", "max", "max_by", "mean", "median", "min", "min_by", "mode",
    "product", "quantile", "quantile_cont", "quantile_disc", "regr_avgx", "regr_avgy",
    "regr_count", "regr_slope", "skewness", "stddev", "stddev_pop", "stddev_samp", "string_agg",
    "sum", "sumkahan", "var_pop", "var_samp", "variance", "kahan_sum"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

// Where a value comes from: the input columns and the strongest transformation on the way.
struct Lineage {
  std::set<ColumnOrigin> from{};
  Kind kind = Kind::kIdentity;

  void Add(const Lineage& other) {
    from.insert(other.from.begin(), other.from.end());
    kind = std::max(kind, other.kind);
  }
};

// A column of a table in FROM; no lineage when it cannot be followed.
struct Field {
  std::string name{};
  std::optional<Lineage> lineage{};
};

// The columns of a table in FROM. When not complete, more columns may follow the known ones.
struct Relation {
  std::vector<Field> columns{};
  bool complete = true;
};

// A column as an unqualified * shows it. After USING / NATURAL, the right-hand join column is
// hidden and its left-hand twin carries both lineages.
struct StarColumn {
  bool hidden = false;
  std::optional<Lineage> lineage{};
};

// A table as FROM names it.
struct Binding {
  std::string name{};
  bool named = true;  // false: a table whose binding name is unknown (a table function)
  Relation table{};
  std::vector<StarColumn> star{};  // one per table.columns
};

struct Scope {
  std::vector<Binding> bindings{};
  bool star_safe = true;  // false: an unqualified * cannot be expanded (NATURAL over the unknown)

  bool complete() const {
    return std::all_of(bindings.begin(), bindings.end(),
                       [](const Binding& b) { return b.table.complete && b.named; });
  }
};

// The CTEs visible at a point, innermost last.
using CteEnv = std::vector<std::pair<std::string, std::shared_ptr<const Relation>>>;

// One select-list entry as the step's output will have it.
struct Item {
  std::string name{};
  std::string alias{};  // the user's alias, for later references to it
  std::optional<Lineage> lineage{};
};

constexpr int kMaxDepth = 500;

class Analyzer {
 public:
  explicit Analyzer(const std::map<std::string, std::vector<std::string>>& inputs)
      : inputs_(inputs) {}

  // The output of a query node: its columns, the known prefix when not complete. DuckDB's parser
  // gives WITH both as a chain of CTENodes and as the final node's cte_map; ctes_bound says the
  // chain has been followed.
  Relation Query(const duckdb::QueryNode& node, const CteEnv& env, int depth,
                 bool ctes_bound = false) {
    if (depth > kMaxDepth) return Unknown();
    if (node.type == duckdb::QueryNodeType::CTE_NODE) {
      const auto& cte = node.Cast<duckdb::CTENode>();
      if (!cte.query || !cte.child) return Unknown();
      Relation body = Query(*cte.query, env, depth + 1);
      CteEnv inner = env;
      inner.emplace_back(cte.ctename,
                         std::make_shared<const Relation>(Renamed(body, cte.aliases)));
      return Query(*cte.child, inner, depth + 1, /*ctes_bound=*/true);
    }
    if (node.type != duckdb::QueryNodeType::SELECT_NODE) return Unknown();
    CteEnv inner = env;
    if (!ctes_bound) {
      for (const auto& [name, info] : node.cte_map.map) {
        if (!info || !info->query || !info->query->node) return Unknown();
        Relation body = Query(*info->query->node, inner, depth + 1);
        inner.emplace_back(name, std::make_shared<const Relation>(Renamed(body, info->aliases)));
      }
    }
    return Select(node.Cast<duckdb::SelectNode>(), inner, depth + 1);
  }

 private:
  static Relation Unknown() { return Relation{.columns = {}, .complete = false}; }

  // CTE or subquery column aliases rename the first columns.
  static Relation Renamed(Relation t, const std::vector<std::string>& aliases) {
    for (size_t i = 0; i < aliases.size() && i < t.columns.size(); ++i) {
      t.columns[i].name = aliases[i];
    }
    return t;
  }

  // WHERE, GROUP BY, HAVING, QUALIFY, DISTINCT, ORDER BY and LIMIT choose rows, not values.
  Relation Select(const duckdb::SelectNode& select, const CteEnv& env, int depth) {
    Scope scope;
    if (select.from_table) From(*select.from_table, env, depth + 1, scope);
    std::vector<Item> items;
    Relation t;
    for (const auto& expr : select.select_list) {
      if (!Entry(*expr, scope, depth + 1, items)) {
        t.complete = false;
        break;
      }
    }
    // Repeated names as the step's output gets them: id, id_1.
    duckdb::vector<std::string> names;
    for (const Item& i : items) names.push_back(i.name);
    duckdb::QueryResult::DeduplicateColumns(names);
    for (size_t i = 0; i < items.size(); ++i) {
      t.columns.push_back(Field{.name = names[i], .lineage = std::move(items[i].lineage)});
    }
    return t;
  }

  // The input named `name`: an exact match, else the one case-insensitive match.
  const std::pair<const std::string, std::vector<std::string>>* Input(const std::string& name) {
    auto exact = inputs_.find(name);
    if (exact != inputs_.end()) return &*exact;
    const std::pair<const std::string, std::vector<std::string>>* found = nullptr;
    for (const auto& entry : inputs_) {
      if (!SameName(entry.first, name)) continue;
      if (found != nullptr) return nullptr;
      found = &entry;
    }
    return found;
  }

  Relation BaseTable(const duckdb::BaseTableRef& ref, const CteEnv& env) {
    const bool unqualified = ref.schema_name.empty() && ref.catalog_name.empty();
    if (unqualified) {
      for (auto it = env.rbegin(); it != env.rend(); ++it) {
        if (SameName(it->first, ref.table_name)) return *it->second;
      }
    }
    const bool main_schema = (ref.schema_name.empty() || SameName(ref.schema_name, "main")) &&
                             (ref.catalog_name.empty() || SameName(ref.catalog_name, "memory"));
    if (!main_schema || ref.at_clause) return Unknown();
    const auto* input = Input(ref.table_name);
    if (input == nullptr) return Unknown();
    Relation t;
    for (const std::string& c : input->second) {
      Lineage l;
      l.from.insert(ColumnOrigin{.input = input->first, .column = c});
      t.columns.push_back(Field{.name = c, .lineage = std::move(l)});
    }
    return t;
  }

  static void AddBinding(Scope& scope, std::string name, bool named, Relation table) {
    Binding b{.name = std::move(name), .named = named, .table = std::move(table)};
    for (const Field& c : b.table.columns) {
      b.star.push_back(StarColumn{.hidden = false, .lineage = c.lineage});
    }
    scope.bindings.push_back(std::move(b));
  }

  void From(const duckdb::TableRef& ref, const CteEnv& env, int depth, Scope& scope) {
    if (depth > kMaxDepth) {
      AddBinding(scope, "", false, Unknown());
      return;
    }
    switch (ref.type) {
      case duckdb::TableReferenceType::BASE_TABLE: {
        const auto& base = ref.Cast<duckdb::BaseTableRef>();
        AddBinding(scope, ref.alias.empty() ? base.table_name : ref.alias, true,
                   Renamed(BaseTable(base, env), ref.column_name_alias));
        return;
      }
      case duckdb::TableReferenceType::SUBQUERY: {
        const auto& sub = ref.Cast<duckdb::SubqueryRef>();
        Relation t = Unknown();
        if (sub.subquery && sub.subquery->node) t = Query(*sub.subquery->node, env, depth + 1);
        // Without an alias DuckDB makes one up (unnamed_subquery): no qualified reference.
        AddBinding(scope, ref.alias, !ref.alias.empty(),
                   Renamed(std::move(t), ref.column_name_alias));
        return;
      }
      case duckdb::TableReferenceType::JOIN:
        Join(ref.Cast<duckdb::JoinRef>(), env, depth, scope);
        return;
      case duckdb::TableReferenceType::EMPTY_FROM:
        return;
      default:
        // Table functions, VALUES, PIVOT, SHOW: columns this cannot know.
        AddBinding(scope, ref.alias, !ref.alias.empty(), Unknown());
        return;
    }
  }

  void Join(const duckdb::JoinRef& join, const CteEnv& env, int depth, Scope& scope) {
    if (!join.left || !join.right || !join.alias.empty() || !join.column_name_alias.empty()) {
      AddBinding(scope, join.alias, !join.alias.empty(), Unknown());
      return;
    }
    Scope left, right;
    From(*join.left, env, depth + 1, left);
    From(*join.right, env, depth + 1, right);
    switch (join.type) {
      case duckdb::JoinType::SEMI:
      case duckdb::JoinType::ANTI:
        right.bindings.clear();
        break;
      case duckdb::JoinType::RIGHT_SEMI:
      case duckdb::JoinType::RIGHT_ANTI:
        left.bindings.clear();
        break;
      default:
        break;
    }
    std::vector<std::string> using_columns = join.using_columns;
    bool star_safe = left.star_safe && right.star_safe;
    if (join.ref_type == duckdb::JoinRefType::NATURAL) {
      if (left.complete() && right.complete()) {
        for (const Binding& l : left.bindings) {
          for (size_t i = 0; i < l.table.columns.size(); ++i) {
            if (l.star[i].hidden) continue;
            if (Visible(right, l.table.columns[i].name)) {
              using_columns.push_back(l.table.columns[i].name);
            }
          }
        }
      } else {
        star_safe = false;
      }
    }
    if (!left.bindings.empty() && !right.bindings.empty()) {
      for (const std::string& name : using_columns) Merge(left, right, name);
    }
    for (Binding& b : left.bindings) scope.bindings.push_back(std::move(b));
    for (Binding& b : right.bindings) scope.bindings.push_back(std::move(b));
    scope.star_safe = scope.star_safe && star_safe;
  }

  // The visible column `name` of a side of a join, as {binding, column} indexes.
  static std::optional<std::pair<size_t, size_t>> Visible(const Scope& side,
                                                          const std::string& name) {
    for (size_t b = 0; b < side.bindings.size(); ++b) {
      const Binding& binding = side.bindings[b];
      for (size_t c = 0; c < binding.table.columns.size(); ++c) {
        if (!binding.star[c].hidden && SameName(binding.table.columns[c].name, name)) {
          return std::make_pair(b, c);
        }
      }
    }
    return std::nullopt;
  }

  // USING (name): the right's column is hidden from *, the left's carries both lineages.
  static void Merge(Scope& left, Scope& right, const std::string& name) {
    auto l = Visible(left, name);
    auto r = Visible(right, name);
    if (!l || !r) return;
    StarColumn& lc = left.bindings[l->first].star[l->second];
    StarColumn& rc = right.bindings[r->first].star[r->second];
    if (lc.lineage && rc.lineage) {
      lc.lineage->Add(*rc.lineage);
    } else {
      lc.lineage = std::nullopt;
    }
    rc.hidden = true;
  }

  // Appends the output columns of one select-list entry; false when the columns after it (and
  // maybe some of its own) cannot be known.
  bool Entry(const duckdb::ParsedExpression& expr, const Scope& scope, int depth,
             std::vector<Item>& items) {
    if (expr.GetExpressionClass() == duckdb::ExpressionClass::STAR) {
      return Star(expr.Cast<duckdb::StarExpression>(), scope, depth, items);
    }
    Item item{.name = expr.GetName(), .alias = expr.alias, .lineage = std::nullopt};
    if (expr.GetExpressionClass() == duckdb::ExpressionClass::COLUMN_REF) {
      std::string column_name;
      item.lineage = ColumnRef(expr.Cast<duckdb::ColumnRefExpression>(), scope, &items,
                               &column_name);
      if (expr.alias.empty() && !column_name.empty()) item.name = column_name;
    } else {
      item.lineage = Expr(expr, scope, &items, depth + 1);
    }
    items.push_back(std::move(item));
    return true;
  }

  bool Star(const duckdb::StarExpression& star, const Scope& scope, int depth,
            std::vector<Item>& items) {
    if (star.columns || star.expr) return false;
    auto excluded = [&](const Binding& b, const std::string& column) {
      for (const auto& q : star.exclude_list) {
        if (!SameName(q.column, column)) continue;
        if (q.table.empty() || SameName(q.table, b.name)) return true;
      }
      return false;
    };
    auto emit = [&](const Binding& b, size_t c, bool merged) {
      const Field& col = b.table.columns[c];
      if (excluded(b, col.name)) return;
      Item item{.name = col.name, .alias = "", .lineage = merged ? b.star[c].lineage : col.lineage};
      for (const auto& [from, to] : star.rename_list) {
        if (SameName(from.column, col.name) &&
            (from.table.empty() || SameName(from.table, b.name))) {
          item.name = to;
        }
      }
      for (const auto& [name, replacement] : star.replace_list) {
        if (SameName(name, col.name)) {
          item.lineage = replacement ? Expr(*replacement, scope, nullptr, depth + 1) : std::nullopt;
        }
      }
      items.push_back(std::move(item));
    };
    if (!star.relation_name.empty()) {
      for (const Binding& b : scope.bindings) {
        if (!b.named || !SameName(b.name, star.relation_name)) continue;
        for (size_t c = 0; c < b.table.columns.size(); ++c) emit(b, c, false);
        return b.table.complete;
      }
      return false;
    }
    if (!scope.star_safe || scope.bindings.empty()) return false;
    // Which twin of a USING column a qualified EXCLUDE or RENAME names is DuckDB's own business.
    bool joined = false;
    for (const Binding& b : scope.bindings) {
      for (const StarColumn& c : b.star) joined = joined || c.hidden;
    }
    if (joined) {
      for (const auto& q : star.exclude_list) {
        if (!q.table.empty()) return false;
      }
      for (const auto& r : star.rename_list) {
        if (!r.first.table.empty()) return false;
      }
    }
    for (const Binding& b : scope.bindings) {
      for (size_t c = 0; c < b.table.columns.size(); ++c) {
        if (!b.star[c].hidden) emit(b, c, true);
      }
      if (!b.table.complete) return false;
    }
    return true;
  }

  // A column reference: a column of a table in FROM, a struct field of one, or an earlier
  // select-list alias. *column_name: the referenced column's own name, when it is one.
  std::optional<Lineage> ColumnRef(const duckdb::ColumnRefExpression& ref, const Scope& scope,
                                   const std::vector<Item>* earlier, std::string* column_name) {
    const auto& parts = ref.column_names;
    if (parts.empty()) return std::nullopt;
    if (parts.size() == 1) return Unqualified(parts[0], scope, earlier, column_name);
    // table.column[.field...], then main.table.column[.field...], then column.field...
    for (size_t table_at : {size_t{0}, size_t{1}}) {
      if (table_at == 1 && (parts.size() < 3 || !SameName(parts[0], "main"))) break;
      for (const Binding& b : scope.bindings) {
        if (!b.named || !SameName(b.name, parts[table_at])) continue;
        for (const Field& c : b.table.columns) {
          if (!SameName(c.name, parts[table_at + 1])) continue;
          if (!c.lineage) return std::nullopt;
          Lineage l = *c.lineage;
          if (parts.size() > table_at + 2) {
            l.kind = std::max(l.kind, Kind::kTransformation);
          } else if (column_name != nullptr) {
            *column_name = c.name;
          }
          return l;
        }
        if (!b.table.complete) return std::nullopt;
      }
    }
    // A binding whose name is unknown could be the one meant.
    if (!scope.complete()) return std::nullopt;
    std::optional<Lineage> l = Unqualified(parts[0], scope, nullptr, nullptr);
    if (l) l->kind = std::max(l->kind, Kind::kTransformation);
    return l;
  }

  std::optional<Lineage> Unqualified(const std::string& name, const Scope& scope,
                                     const std::vector<Item>* earlier, std::string* column_name) {
    std::optional<Lineage> out;
    bool found = false;
    for (const Binding& b : scope.bindings) {
      for (const Field& c : b.table.columns) {
        if (!SameName(c.name, name)) continue;
        if (!c.lineage) return std::nullopt;
        if (!found && column_name != nullptr) *column_name = c.name;
        found = true;
        if (!out) out = Lineage{};
        out->Add(*c.lineage);
      }
    }
    if (found) return out;
    // Not a column of FROM: DuckDB then tries the aliases of the select list before it.
    if (earlier == nullptr || !scope.complete()) return std::nullopt;
    for (auto it = earlier->rbegin(); it != earlier->rend(); ++it) {
      if (!it->alias.empty() && SameName(it->alias, name)) return it->lineage;
    }
    return std::nullopt;
  }

  static bool IsAggregate(const duckdb::FunctionExpression& f) {
    if (f.distinct || f.filter || (f.order_bys && !f.order_bys->orders.empty())) return true;
    const std::string name = Lower(f.function_name);
    return std::find(std::begin(kAggregates), std::end(kAggregates), name) != std::end(kAggregates);
  }

  // An expression's lineage: every column it reads, the strongest transformation on the way.
  std::optional<Lineage> Expr(const duckdb::ParsedExpression& expr, const Scope& scope,
                              const std::vector<Item>* earlier, int depth) {
    if (depth > kMaxDepth) return std::nullopt;
    Lineage out;
    out.kind = Kind::kTransformation;
    bool ok = true;
    auto add = [&](const duckdb::ParsedExpression& child) {
      if (!ok) return;
      std::optional<Lineage> l = Expr(child, scope, earlier, depth + 1);
      if (l) {
        out.Add(*l);
      } else {
        ok = false;
      }
    };
    switch (expr.GetExpressionClass()) {
      case duckdb::ExpressionClass::COLUMN_REF:
        return ColumnRef(expr.Cast<duckdb::ColumnRefExpression>(), scope, earlier, nullptr);
      case duckdb::ExpressionClass::CONSTANT:
      case duckdb::ExpressionClass::PARAMETER:
        return out;
      case duckdb::ExpressionClass::FUNCTION: {
        const auto& f = expr.Cast<duckdb::FunctionExpression>();
        if (IsAggregate(f)) out.kind = Kind::kAggregation;
        // FILTER and ORDER BY choose and order rows, like WHERE: not origins.
        for (const auto& child : f.children) {
          if (child) add(*child);
        }
        break;
      }
      case duckdb::ExpressionClass::WINDOW: {
        const auto& w = expr.Cast<duckdb::WindowExpression>();
        if (w.GetExpressionType() == duckdb::ExpressionType::WINDOW_AGGREGATE) {
          out.kind = Kind::kAggregation;
        }
        for (const auto& child : w.children) {
          if (child) add(*child);
        }
        if (w.default_expr) add(*w.default_expr);
        break;
      }
      case duckdb::ExpressionClass::CASE:
      case duckdb::ExpressionClass::CAST:
      case duckdb::ExpressionClass::COLLATE:
      case duckdb::ExpressionClass::COMPARISON:
      case duckdb::ExpressionClass::CONJUNCTION:
      case duckdb::ExpressionClass::OPERATOR:
      case duckdb::ExpressionClass::BETWEEN:
        duckdb::ParsedExpressionIterator::EnumerateChildren(expr, add);
        break;
      default:
        // Subqueries, lambdas, COLUMNS(*), positional references: not followed.
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  const std::map<std::string, std::vector<std::string>>& inputs_;
};

}  // namespace

StatusOr<std::vector<OutputColumn>> ColumnLineage(
    const std::string& sql, const std::map<std::string, std::vector<std::string>>& inputs) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(sql);
  } catch (const std::exception& e) {
    return Error(Reason::kInvalidInput,
                 "the SQL does not parse: " + FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  }
  if (parser.statements.size() != 1) {
    return Error(Reason::kInvalidInput, "the SQL must be exactly one statement, not " +
                                            std::to_string(parser.statements.size()));
  }
  const duckdb::SQLStatement& statement = *parser.statements[0];
  if (statement.type != duckdb::StatementType::SELECT_STATEMENT) {
    return Error(Reason::kInvalidInput, "the SQL must be a SELECT statement");
  }
  const auto& select = statement.Cast<duckdb::SelectStatement>();
  std::vector<OutputColumn> out;
  if (!select.node) return out;
  try {
    Analyzer analyzer(inputs);
    Relation table = analyzer.Query(*select.node, CteEnv{}, 0);
    for (const Field& c : table.columns) {
      if (!c.lineage) continue;
      out.push_back(OutputColumn{.name = c.name,
                                 .from = {c.lineage->from.begin(), c.lineage->from.end()},
                                 .transformation = KindName(c.lineage->kind)});
    }
  } catch (const std::exception& e) {
    return InternalError("column lineage: " + FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  }
  return out;
}

}  // namespace tarn::tabular
