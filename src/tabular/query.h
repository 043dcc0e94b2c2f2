// The SQL of one Engine call, built without DuckDB: the scan of the files, the partition and Path
// columns, the set_column_types casts, the transforms and the profile aggregate. Every name and
// value is quoted (sql_text.h), so nothing from a request or a path can alter the query's shape.
//
// Built in two steps because the CSV options and the transforms depend on the files' columns:
//   QueryPlan plan = QueryPlan::Make(req, files, names);  // names: the tarn:// name of each file
//   DESCRIBE plan.ScanSql()                               // the data columns DuckDB detects
//   plan.Bind(data_columns);                              // validates names; fixes the SQL
//   run plan.FinalSql()
// Columns whose names start with "__tarn_" are reserved.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tabular/partition.h"
#include "tabular/tabular.h"

namespace tarn::tabular {

inline constexpr char kFileColumn[] = "__tarn_file";  // the tarn:// name of a row's file

// One set_column_types entry, as SQL.
struct ColumnCast {
  std::string column;
  std::string type;     // DuckDB type of the result, e.g. BIGINT
  std::string strict;   // fails on a bad value
  std::string lenient;  // null on a bad value
};

// What the profile aggregate computes for a column. Footer statistics spare the rest.
struct ProfileNeeds {
  std::string name;
  std::string type;
  bool nulls = true;
  bool min_max = true;
};

class QueryPlan {
 public:
  static StatusOr<QueryPlan> Make(const ReadRequest& req, const std::vector<SourceFile>& files,
                                  std::vector<std::string> names);

  // The files' data columns plus kFileColumn. Before Bind, with DuckDB's detection alone.
  std::string ScanSql() const;
  // Validates set_column_types and the transforms against the columns; kInvalidInput naming an
  // unknown column.
  Status Bind(std::vector<ColumnInfo> data_columns);

  // After Bind. The scan with partition columns and Path, still with kFileColumn.
  std::string PartitionedSql() const { return partitioned_sql_; }
  // Every step, req.limit included; the columns users see.
  std::string FinalSql() const { return final_sql_; }
  const std::vector<ColumnCast>& casts() const { return casts_; }
  // Rows of PartitionedSql whose value `c` cannot convert: (kFileColumn, value as text), at most
  // one.
  std::string BadValueSql(const ColumnCast& c) const;
  // One row: count(*), then per column (nulls?, min?, max?, distinct) as the needs say.
  static std::string ProfileSql(const std::string& from_sql, const std::vector<ProfileNeeds>& cols);

  const std::vector<PartitionKey>& partition_keys() const { return keys_; }
  // What tarn_file_value(kFileColumn, c) answers: values[c][file], the partition keys in order,
  // then the paths.
  std::vector<std::vector<std::optional<std::string>>> FileValues() const;
  // The files' tarn:// names as a DuckDB list literal.
  std::string FileListSql() const;
  // The datastore-relative path of the file DuckDB knows as `name` ("" for none).
  std::string PathOfName(const std::string& name) const;
  // Data columns straight from the files (not partition, Path or cast columns): the ones whose
  // Parquet footer statistics describe the result, when there are no transforms.
  std::vector<std::string> FooterColumns() const;

 private:
  QueryPlan() = default;
  std::string ScanSqlWith(bool bound) const;
  StatusOr<std::string> TransformSql(const Transform& t, const std::string& from,
                                     std::vector<std::string>* columns) const;

  ReadRequest req_;
  std::vector<std::string> names_;
  std::vector<PartitionKey> keys_;
  // values_[k][i]: key k of file i; nullopt when a Hive path lacks the key.
  std::vector<std::vector<std::optional<std::string>>> values_;
  std::vector<std::string> paths_;
  std::vector<ColumnInfo> data_columns_;
  std::vector<ColumnCast> casts_;
  std::string partitioned_sql_;
  std::string final_sql_;
};

}  // namespace tarn::tabular
