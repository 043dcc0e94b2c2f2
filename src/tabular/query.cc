#include "tabular/query.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "tabular/filter.h"
#include "tabular/sql_text.h"

namespace tarn::tabular {
namespace {

constexpr char kRowNumber[] = "__tarn_rn";

Status Invalid(const std::string& msg) { return Error(Reason::kInvalidInput, msg); }

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string ColumnList(const std::vector<std::string>& columns) {
  std::vector<std::string> quoted;
  for (const std::string& c : columns) quoted.push_back(QuoteIdent(c));
  return quoted.empty() ? "*" : Join(quoted, ", ");
}

std::string DoubleLiteral(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// DuckDB's encoding names for ours; "" = UTF-8, its default.
std::string DuckdbEncoding(const std::string& e) {
  if (e == "latin1" || e == "latin-1" || e == "iso88591" || e == "iso-8859-1") return "latin-1";
  if (e == "utf16" || e == "utf-16") return "utf-16";
  return "";
}

// json_transform's structure argument: {"column": "DUCKDB TYPE", ...}.
std::string JsonStructure(const std::vector<ColumnInfo>& columns) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const ColumnInfo& c : columns) j[c.name] = c.type;
  return j.dump();
}

StatusOr<ColumnCast> MakeCast(const std::string& column, const std::string& type) {
  const std::string col = QuoteIdent(column);
  auto plain = [&](const char* duck) {
    return ColumnCast{column, duck, "CAST(" + col + " AS " + duck + ")",
                      "TRY_CAST(" + col + " AS " + duck + ")"};
  };
  if (type == "string") return plain("VARCHAR");
  if (type == "long") return plain("BIGINT");
  if (type == "float") return plain("DOUBLE");
  if (type == "bool") return plain("BOOLEAN");
  if (type == "datetime") return plain("TIMESTAMP");
  TARN_ASSIGN_OR_RETURN(std::string fmt, StrptimeFormat(type.substr(9)));
  const std::string args = "(CAST(" + col + " AS VARCHAR), " + QuoteLiteral(fmt) + ")";
  return ColumnCast{column, "TIMESTAMP", "strptime" + args, "try_strptime" + args};
}

// A uniform value in [0, 1) from the row number and the seed: the same row gets the same value in
// every run, so sampling and splitting are repeatable.
std::string RowFraction(const Transform& t) {
  return "(CAST(hash(" + std::string(kRowNumber) + ", CAST(" + std::to_string(t.seed.value_or(0)) +
         " AS BIGINT)) >> 11 AS DOUBLE) / 9007199254740992.0)";
}

}  // namespace

StatusOr<QueryPlan> QueryPlan::Make(const ReadRequest& req, const std::vector<SourceFile>& files,
                                    std::vector<std::string> names) {
  if (files.empty()) return Invalid("no files to read");
  if (req.format == Format::kJsonLines && !DuckdbEncoding(req.options.encoding).empty()) {
    return Invalid("jsonl files are read as UTF-8 only, not " + req.options.encoding);
  }
  if (req.limit && *req.limit < 0) return Invalid("limit must not be negative");
  QueryPlan p;
  p.req_ = req;
  p.names_ = std::move(names);
  for (const SourceFile& f : files) p.paths_.push_back(f.path);

  if (!req.options.partition_format.empty()) {
    TARN_ASSIGN_OR_RETURN(PartitionPattern pattern,
                          PartitionPattern::Compile(req.options.partition_format));
    p.keys_ = pattern.keys();
    p.values_.assign(p.keys_.size(), {});
    for (const SourceFile& f : files) {
      TARN_ASSIGN_OR_RETURN(std::vector<std::string> values, pattern.Match(f.path));
      for (size_t k = 0; k < values.size(); ++k) p.values_[k].push_back(std::move(values[k]));
    }
  } else {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < files.size(); ++i) {
      for (auto& [key, value] : HivePartitions(files[i].path)) {
        auto [it, added] = index.emplace(key, p.keys_.size());
        if (added) {
          p.keys_.push_back(PartitionKey{key, false});
          p.values_.emplace_back(files.size());
        }
        p.values_[it->second][i] = std::move(value);
      }
    }
  }
  return p;
}

std::string QueryPlan::ScanSql() const { return ScanSqlWith(false); }

std::vector<std::vector<std::optional<std::string>>> QueryPlan::FileValues() const {
  std::vector<std::vector<std::optional<std::string>>> out = values_;
  out.emplace_back(paths_.begin(), paths_.end());
  return out;
}

std::string QueryPlan::FileListSql() const {
  std::vector<std::string> files;
  for (const std::string& n : names_) files.push_back(QuoteLiteral(n));
  return "[" + Join(files, ", ") + "]";
}

std::string QueryPlan::PathOfName(const std::string& name) const {
  for (size_t i = 0; i < names_.size() && i < paths_.size(); ++i) {
    if (names_[i] == name) return paths_[i];
  }
  return "";
}

std::string QueryPlan::ScanSqlWith(bool bound) const {
  std::string args =
      FileListSql() + ", filename=" + QuoteLiteral(kFileColumn) + ", hive_partitioning=false";
  const Options& o = req_.options;
  switch (req_.format) {
    case Format::kParquet:
      return "SELECT * FROM read_parquet(" + args + ")";
    case Format::kJsonLines:
      if (o.invalid_lines != "drop") {
        return "SELECT * FROM read_json(" + args + ", format='newline_delimited')";
      }
      if (!bound) {  // detection only: a bad line reads as nulls
        return "SELECT * FROM read_json(" + args +
               ", format='newline_delimited', ignore_errors=true)";
      }
      // A bad line is a null object here, so it can be dropped; the good ones get the detected
      // columns.
      return "SELECT unnest(json_transform(json, " + QuoteLiteral(JsonStructure(data_columns_)) +
             ")), " + QuoteIdent(kFileColumn) + " FROM read_ndjson_objects(" + args +
             ", ignore_errors=true) WHERE json IS NOT NULL";
    case Format::kCsv:
      break;
  }
  args += ", delim=" + QuoteLiteral(o.separator) + ", header=" + (o.header ? "true" : "false");
  // Lines the reader cannot read are skipped, and recorded in the connection's reject tables.
  if (o.invalid_lines == "drop") args += ", store_rejects=true";
  if (!o.infer_column_types) args += ", all_varchar=true";
  const std::string encoding = DuckdbEncoding(o.encoding);
  if (!encoding.empty()) args += ", encoding=" + QuoteLiteral(encoding);
  if (bound) {
    // Columns set_column_types converts are read as text, so the conversion sees the file's own
    // characters (not DuckDB's guess reformatted) and can report the offending value.
    std::vector<std::string> types, not_null;
    for (const ColumnInfo& c : data_columns_) {
      auto it = o.set_column_types.find(c.name);
      if (it != o.set_column_types.end()) {
        types.push_back(QuoteLiteral(c.name) + ": 'VARCHAR'");
      }
      const bool text =
          it != o.set_column_types.end() ? it->second == "string" : c.type == "VARCHAR";
      if (text) not_null.push_back(QuoteLiteral(c.name));
    }
    if (!types.empty()) args += ", types={" + Join(types, ", ") + "}";
    if (o.empty_as_string && !not_null.empty()) {
      args += ", force_not_null=[" + Join(not_null, ", ") + "], allow_quoted_nulls=false";
    }
  }
  return "SELECT * FROM read_csv(" + args + ")";
}

Status QueryPlan::Bind(std::vector<ColumnInfo> data_columns) {
  data_columns_ = std::move(data_columns);
  data_columns_.erase(std::remove_if(data_columns_.begin(), data_columns_.end(),
                                     [](const ColumnInfo& c) { return c.name == kFileColumn; }),
                      data_columns_.end());
  const Options& o = req_.options;

  // Partition columns and Path replace data columns of the same name.
  std::vector<std::string> added;
  for (const PartitionKey& k : keys_) added.push_back(k.name);
  if (o.include_path) added.push_back("Path");
  std::vector<std::string> select, columns;
  for (const ColumnInfo& c : data_columns_) {
    if (Contains(added, c.name)) continue;
    select.push_back(QuoteIdent(c.name));
    columns.push_back(c.name);
  }
  auto file_value = [](size_t column) {
    return "tarn_file_value(" + QuoteIdent(kFileColumn) + ", " + std::to_string(column) + ")";
  };
  for (size_t k = 0; k < keys_.size(); ++k) {
    std::string value = file_value(k);
    if (keys_[k].datetime) value = "CAST(" + value + " AS TIMESTAMP)";
    select.push_back(value + " AS " + QuoteIdent(keys_[k].name));
    columns.push_back(keys_[k].name);
  }
  if (o.include_path) {
    select.push_back(file_value(keys_.size()) + " AS " + QuoteIdent("Path"));
    columns.push_back("Path");
  }
  select.push_back(QuoteIdent(kFileColumn));
  partitioned_sql_ = "SELECT " + Join(select, ", ") + " FROM (" + ScanSqlWith(true) + ") AS __scan";

  casts_.clear();
  for (const auto& [column, type] : o.set_column_types) {
    if (!Contains(columns, column)) {
      return Invalid("set_column_types: unknown column '" + column + "'");
    }
    TARN_ASSIGN_OR_RETURN(ColumnCast cast, MakeCast(column, type));
    casts_.push_back(std::move(cast));
  }
  std::vector<std::string> typed;
  for (const std::string& c : columns) {
    auto it = std::find_if(casts_.begin(), casts_.end(),
                           [&](const ColumnCast& cc) { return cc.column == c; });
    if (it == casts_.end()) {
      typed.push_back(QuoteIdent(c));
    } else {
      typed.push_back((req_.fail_on_error ? it->strict : it->lenient) + " AS " + QuoteIdent(c));
    }
  }
  std::string sql = "SELECT " + Join(typed, ", ") + " FROM (" + partitioned_sql_ + ") AS __part";
  for (const Transform& t : req_.transforms) {
    TARN_ASSIGN_OR_RETURN(sql, TransformSql(t, sql, &columns));
  }
  if (req_.limit)
    sql = "SELECT * FROM (" + sql + ") AS __limit LIMIT " + std::to_string(*req_.limit);
  final_sql_ = std::move(sql);
  return Status::Ok();
}

StatusOr<std::string> QueryPlan::TransformSql(const Transform& t, const std::string& from,
                                              std::vector<std::string>* columns) const {
  const std::string sub = "(" + from + ") AS __t";
  auto check = [&](const std::vector<std::string>& names) -> Status {
    for (const std::string& n : names) {
      if (!Contains(*columns, n)) return Invalid(t.op + ": unknown column '" + n + "'");
    }
    return Status::Ok();
  };
  auto sample = [&](const std::string& keep) {
    return "SELECT " + ColumnList(*columns) + " FROM (SELECT *, row_number() OVER () AS " +
           kRowNumber + " FROM " + sub + ") AS __n WHERE " + keep;
  };
  if (t.op == "take") return "SELECT * FROM " + sub + " LIMIT " + std::to_string(t.count);
  if (t.op == "skip") return "SELECT * FROM " + sub + " OFFSET " + std::to_string(t.count);
  if (t.op == "take_sample") {
    return sample(RowFraction(t) + " < " + DoubleLiteral(t.probability));
  }
  if (t.op == "random_split") {
    return sample(RowFraction(t) + (t.part == 0 ? " < " : " >= ") + DoubleLiteral(t.percentage));
  }
  if (t.op == "keep_columns" || t.op == "drop_columns") {
    TARN_RETURN_IF_ERROR(check(t.columns));
    std::vector<std::string> kept;
    for (const std::string& c : *columns) {
      if (Contains(t.columns, c) == (t.op == "keep_columns")) kept.push_back(c);
    }
    if (kept.empty()) return Invalid(t.op + ": no column would remain");
    *columns = kept;
    return "SELECT " + ColumnList(kept) + " FROM " + sub;
  }
  if (t.op == "filter") {
    TARN_ASSIGN_OR_RETURN(FilterSql f, CompileFilter(t.expression));
    TARN_RETURN_IF_ERROR(check(f.identifiers));
    return "SELECT * FROM " + sub + " WHERE " + f.sql;
  }
  return Invalid("unknown transform '" + t.op + "'");
}

std::string QueryPlan::BadValueSql(const ColumnCast& c) const {
  const std::string col = QuoteIdent(c.column);
  return "SELECT " + QuoteIdent(kFileColumn) + ", CAST(" + col + " AS VARCHAR) FROM (" +
         partitioned_sql_ + ") AS __part WHERE " + col + " IS NOT NULL AND " + c.lenient +
         " IS NULL LIMIT 1";
}

std::string QueryPlan::ProfileSql(const std::string& from_sql,
                                  const std::vector<ProfileNeeds>& cols) {
  std::vector<std::string> aggs = {"count(*)"};
  for (const ProfileNeeds& c : cols) {
    const std::string col = QuoteIdent(c.name);
    if (c.nulls) aggs.push_back("count(*) - count(" + col + ")");
    if (c.min_max) {
      aggs.push_back("CAST(min(" + col + ") AS VARCHAR)");
      aggs.push_back("CAST(max(" + col + ") AS VARCHAR)");
    }
    aggs.push_back("approx_count_distinct(" + col + ")");
  }
  return "SELECT " + Join(aggs, ", ") + " FROM (" + from_sql + ") AS __p";
}

std::vector<std::string> QueryPlan::FooterColumns() const {
  std::vector<std::string> out;
  if (!req_.transforms.empty() || req_.limit) return out;
  for (const ColumnInfo& c : data_columns_) {
    const bool replaced = std::any_of(keys_.begin(), keys_.end(),
                                      [&](const PartitionKey& k) { return k.name == c.name; }) ||
                          (req_.options.include_path && c.name == "Path");
    if (!replaced && !req_.options.set_column_types.count(c.name)) out.push_back(c.name);
  }
  return out;
}

}  // namespace tarn::tabular
