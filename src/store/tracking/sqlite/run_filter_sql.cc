#include "store/tracking/sqlite/run_filter_sql.h"

#include <set>
#include <string_view>
#include <utility>

#include "common/strings.h"

namespace tarn::tracking {
namespace {

Status Invalid(std::string message) {
  return Error(Reason::kMlflowInvalidParameterValue, std::move(message));
}

struct Column {
  std::string_view key;
  const char* sql;
  bool numeric;
  bool nullable;
};
constexpr Column kRunColumns[] = {
    {"run_id", "r.run_uuid", false, false},     {"run_name", "r.run_name", false, false},
    {"status", "r.status", false, false},       {"user_id", "r.user_id", false, false},
    {"artifact_uri", "r.artifact_uri", false, false},
    {"start_time", "r.start_time", true, true}, {"end_time", "r.end_time", true, true},
};
constexpr Column kDatasetColumns[] = {
    {"name", "d.name", false, false},
    {"digest", "d.digest", false, false},
    {"context", "d.context", false, false},
};

template <size_t N>
const Column* FindColumn(const Column (&columns)[N], std::string_view key) {
  for (const Column& c : columns) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

// A LIKE pattern (% and _, no escape character) as the GLOB pattern that matches the same
// strings case-sensitively: GLOB's own wildcards are bracketed to stand for themselves.
std::string LikeToGlob(std::string_view like) {
  std::string glob;
  glob.reserve(like.size());
  for (char c : like) {
    switch (c) {
      case '%':
        glob += '*';
        break;
      case '_':
        glob += '?';
        break;
      case '*':
        glob += "[*]";
        break;
      case '?':
        glob += "[?]";
        break;
      case '[':
        glob += "[[]";
        break;
      default:
        glob += c;
    }
  }
  return glob;
}

// "metric 'acc'", for messages.
std::string Describe(const Clause& c) {
  return std::string(EntityName(c.entity)) + " " + QuoteForMessage(c.key);
}

bool IsComparison(std::string_view op) {
  return op == "=" || op == "!=" || op == ">" || op == ">=" || op == "<" || op == "<=";
}

// Appends `<column> <op> <value>` for a string comparison, binding the value(s).
Status StringCondition(const Clause& c, const char* column, bool lists_allowed, std::string& sql,
                       std::vector<SqlValue>& binds) {
  sql += column;
  if (c.op == "=" || c.op == "!=") {
    sql += c.op == "=" ? " = ?" : " != ?";
    binds.emplace_back(c.text);
  } else if (c.op == "LIKE") {
    sql += " GLOB ?";
    binds.emplace_back(LikeToGlob(c.text));
  } else if (c.op == "ILIKE") {
    sql += " LIKE ?";
    binds.emplace_back(c.text);
  } else if (lists_allowed && (c.op == "IN" || c.op == "NOT IN")) {
    if (c.list.empty()) return Invalid("Empty list for " + c.op + " on " + Describe(c));
    sql += c.op == "IN" ? " IN (" : " NOT IN (";
    for (size_t i = 0; i < c.list.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      binds.emplace_back(c.list[i]);
    }
    sql += ")";
  } else {
    return Invalid("Invalid comparator " + QuoteForMessage(c.op) + " for " + Describe(c));
  }
  return Status::Ok();
}

// The bound value of a numeric comparison: an integer literal exactly, anything else as double.
StatusOr<SqlValue> NumberValue(const Clause& c, bool prefer_integer) {
  if (!c.number.has_value()) {
    return Invalid("Missing numeric value for " + Describe(c));
  }
  if (prefer_integer) {
    std::string_view text = c.text;
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    int64_t v = 0;
    if (ParseInt64(text, &v)) return SqlValue(v);
  }
  return SqlValue(*c.number);
}

Status AppendCondition(const Clause& c, std::string& sql, std::vector<SqlValue>& binds) {
  switch (c.entity) {
    case Entity::kMetric: {
      if (!IsComparison(c.op)) {
        return Invalid("Invalid comparator " + QuoteForMessage(c.op) + " for " + Describe(c));
      }
      TARN_ASSIGN_OR_RETURN(SqlValue v, NumberValue(c, /*prefer_integer=*/false));
      sql += "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?"
             " AND m.is_nan = 0 AND m.value " + c.op + " ?)";
      binds.emplace_back(c.key);
      binds.push_back(std::move(v));
      return Status::Ok();
    }
    case Entity::kParam:
    case Entity::kTag: {
      bool tag = c.entity == Entity::kTag;
      if (c.op == "IS NULL" || c.op == "IS NOT NULL") {
        sql += c.op == "IS NULL" ? "NOT EXISTS" : "EXISTS";
        sql += tag ? " (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = ?)"
                   : " (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid AND p.key = ?)";
        binds.emplace_back(c.key);
        return Status::Ok();
      }
      sql += tag ? "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = ? AND "
                 : "EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid AND p.key = ? "
                   "AND ";
      binds.emplace_back(c.key);
      TARN_RETURN_IF_ERROR(
          StringCondition(c, tag ? "t.value" : "p.value", /*lists_allowed=*/false, sql, binds));
      sql += ")";
      return Status::Ok();
    }
    case Entity::kAttribute: {
      const Column* col = FindColumn(kRunColumns, c.key);
      if (col == nullptr) return Invalid("Invalid " + Describe(c));
      if (!col->numeric) {
        return StringCondition(c, col->sql, /*lists_allowed=*/c.key == "run_id", sql, binds);
      }
      if (!IsComparison(c.op)) {
        return Invalid("Invalid comparator " + QuoteForMessage(c.op) + " for " + Describe(c));
      }
      TARN_ASSIGN_OR_RETURN(SqlValue v, NumberValue(c, /*prefer_integer=*/true));
      sql += std::string(col->sql) + " " + c.op + " ?";
      binds.push_back(std::move(v));
      return Status::Ok();
    }
    case Entity::kDataset: {
      const Column* col = FindColumn(kDatasetColumns, c.key);
      if (col == nullptr) return Invalid("Invalid " + Describe(c));
      sql += "EXISTS (SELECT 1 FROM run_inputs d WHERE d.run_uuid = r.run_uuid AND ";
      // MLflow keeps the context as an input tag: an input without one matches no condition.
      if (c.key == "context") sql += "d.context != '' AND ";
      TARN_RETURN_IF_ERROR(StringCondition(c, col->sql, /*lists_allowed=*/true, sql, binds));
      sql += ")";
      return Status::Ok();
    }
  }
  return Invalid("Invalid clause entity");
}

Status AppendOrder(const OrderBy& o, std::string& sql, std::vector<SqlValue>& binds) {
  const char* dir = o.ascending ? " ASC" : " DESC";
  switch (o.entity) {
    case Entity::kMetric: {
      // MLflow's order: values, then NaN, then runs without the metric, in either direction.
      const char* from = " FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?)";
      sql += "COALESCE((SELECT CASE WHEN m.is_nan != 0 OR m.value IS NULL THEN 1 ELSE 0 END";
      sql += from;
      sql += ", 2), (SELECT m.value";
      sql += from;
      sql += dir;
      binds.emplace_back(o.key);
      binds.emplace_back(o.key);
      return Status::Ok();
    }
    case Entity::kParam:
    case Entity::kTag: {
      std::string value = o.entity == Entity::kTag
                              ? "(SELECT t.value FROM tags t WHERE t.run_uuid = r.run_uuid AND "
                                "t.key = ?)"
                              : "(SELECT p.value FROM params p WHERE p.run_uuid = r.run_uuid AND "
                                "p.key = ?)";
      sql += "(" + value + " IS NULL), " + value + dir;
      binds.emplace_back(o.key);
      binds.emplace_back(o.key);
      return Status::Ok();
    }
    case Entity::kAttribute: {
      const Column* col = FindColumn(kRunColumns, o.key);
      if (col == nullptr) return Invalid("Invalid order_by attribute " + QuoteForMessage(o.key));
      if (col->nullable) sql += "(" + std::string(col->sql) + " IS NULL), ";
      sql += col->sql;
      sql += dir;
      return Status::Ok();
    }
    case Entity::kDataset:
      return Invalid("Invalid order_by entity 'dataset': expected metrics, params, tags or "
                     "attributes");
  }
  return Invalid("Invalid order_by entity");
}

}  // namespace

StatusOr<RunFilterSql> BuildRunFilterSql(const std::vector<Clause>& clauses,
                                         const std::vector<OrderBy>& order) {
  if (order.size() > kMaxOrderByItems) {
    return Invalid("order_by has " + std::to_string(order.size()) + " items: at most " +
                   std::to_string(kMaxOrderByItems) + " are allowed");
  }
  RunFilterSql out;
  for (const Clause& c : clauses) {
    if (!out.where.empty()) out.where += " AND ";
    TARN_RETURN_IF_ERROR(AppendCondition(c, out.where, out.where_binds));
  }
  if (out.where.empty()) out.where = "1";
  std::set<std::pair<Entity, std::string>> seen;
  for (const OrderBy& o : order) {
    if (!seen.emplace(o.entity, o.key).second) {
      return Invalid("order_by contains a duplicate field: " + std::string(EntityName(o.entity)) +
                     " " + QuoteForMessage(o.key) + " (each field may be ordered by once)");
    }
    if (!out.order_by.empty()) out.order_by += ", ";
    TARN_RETURN_IF_ERROR(AppendOrder(o, out.order_by, out.order_binds));
  }
  return out;
}

int BindSqlValue(sqlite3_stmt* stmt, int index, const SqlValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return sqlite3_bind_int64(stmt, index, *i);
  if (const auto* d = std::get_if<double>(&value)) return sqlite3_bind_double(stmt, index, *d);
  const std::string& s = std::get<std::string>(value);
  return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace tarn::tracking
