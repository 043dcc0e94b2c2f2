// A pipeline as code: pipeline.yaml names a graph of steps, each of which reads input datasets,
// runs one SQL SELECT on the DuckDB engine, applies row expectations, writes one output dataset
// (Parquet with zstd, Hive-partitioned) into staging, and publishes it only when its checks pass.
//
//   version: 1
//   name: sales_curated
//   schedule: "0 2 * * *"                  # optional: cron, five fields, UTC
//   on_arrival: [{datastore: raw, path: pos}]   # optional: run when a batch lands there
//   steps:
//     - name: clean
//       inputs:
//         sales: pos_raw                    # alias: dataset, at its latest version
//         regions: {dataset: regions, version: 3}
//       sql: |
//         SELECT CAST(id AS BIGINT) AS id, region, TRY_CAST(amount AS DOUBLE) AS amount
//         FROM sales
//       expectations:                       # Delta Live Tables' row expectations
//         - {name: amount_present, expect: amount IS NOT NULL, on_fail: drop}
//       output:
//         dataset: sales_clean
//         datastore: curated                # a datastore of the workspace
//         path: sales/orders                # folder in it; replaced as a whole on publish
//         partition_by: [region]
//         target_file_size: 64MB
//       checks:                             # SodaCL-like
//         - row_count > 0
//         - missing_count(amount) = 0
//         - duplicate_count(id) = 0
//         - invalid_count(region) = 0:
//             valid values: [north, south]
//         - freshness(sold_at) < 1d
//         - schema:
//             fail:
//               when required column missing: [id, amount]
//               when wrong column type: {id: BIGINT}
//         - failed rows:
//             name: no negative amounts
//             fail query: SELECT * FROM output WHERE amount < 0
//         - change percent for row_count between -20 and +20
//
// A step whose input is another step's output dataset runs after it and reads what it just
// published. Steps come back in run order.
//
// Errors. A file that does not parse, has an unknown key, a missing or empty required field, a
// bad name, a duplicate step or output, an input alias that is not a plain identifier, a check
// that does not parse, a bad cron expression, or a cycle between steps, is kInvalidArgument with
// "FILE:LINE:COLUMN: what is wrong" (a cycle names its steps), and nothing changes.
//
// What the SQL may do is not checked here: the runner confines it (one SELECT over the inputs).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tarn::pipeline {

// What a failing row expectation does.
enum class OnFail {
  kWarn,  // counts the rows, keeps them
  kDrop,  // moves them to the quarantine dataset (<output>_quarantine), with the reason
  kFail,  // stops the run
};
std::string_view OnFailName(OnFail a);  // "warn" | "drop" | "fail"

struct Expectation {
  std::string name;       // [A-Za-z0-9_-]+, unique within the step
  std::string condition;  // a SQL boolean expression over the step's result columns
  OnFail on_fail = OnFail::kWarn;
};

struct Input {
  std::string alias;    // the table name the SQL uses: [A-Za-z_][A-Za-z0-9_]*, not "output"
  std::string dataset;  // a dataset of the workspace
  std::string version = "latest";  // "latest" or a positive number
};

struct Output {
  std::string dataset;
  std::string datastore;
  std::string path;  // relative to the datastore's filesystem; no "..", ".", empty segment
  std::vector<std::string> partition_by{};
  int64_t target_file_bytes = 128LL << 20;  // "64MB", "1GB", "500KB" or a byte count; >= 1 MB
};

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kBetween, kNotBetween };

struct Check {
  enum class Kind {
    kRowCount,        // row_count
    kMissingCount,    // missing_count(col): nulls
    kDuplicateCount,  // duplicate_count(col[, col...]): rows beyond the first of each key
    kInvalidCount,    // invalid_count(col): non-null values outside the valid set
    kFreshness,       // freshness(col): seconds from max(col) to now; thresholds like 1d, 12h
    kSchema,          // schema: required columns and their types
    kFailedRows,      // failed rows: a SELECT over `output` whose rows are failures
    kChange,          // change [percent] for row_count: against the last published version
  };
  Kind kind = Kind::kRowCount;
  std::string text;  // as written, for reports: "missing_count(amount) = 0"
  int line = 0;      // 1-based, in the pipeline file
  std::vector<std::string> columns{};
  Op op = Op::kEq;
  double threshold = 0;     // freshness: seconds
  double threshold_hi = 0;  // kBetween / kNotBetween: [threshold, threshold_hi]
  bool percent = false;     // kChange: percent change rather than absolute
  // kInvalidCount: a value is valid when it meets every one given (at least one is).
  std::vector<std::string> valid_values{};
  std::optional<double> valid_min{}, valid_max{};
  std::string valid_regex{};  // RE2 syntax, checked to compile
  // kSchema.
  std::vector<std::string> required_columns{};
  std::map<std::string, std::string> column_types{};  // column -> DuckDB type name, upper case
  // kFailedRows.
  std::string name{};
  std::string query{};
};

// Whether a measured value passes the check's comparison (kSchema has none: always false).
bool Passes(const Check& c, double value);

// SQL over the table `output` (quoted names, literals escaped) giving one row with one DOUBLE
// column: the check's value. kSchema and kChange have none (""): the runner measures them.
std::string MetricSql(const Check& c);
// The check's value as one aggregate expression over `output`, for the checks one scan can
// measure together (row_count, missing_count, invalid_count, freshness); "" for the others.
// MetricSql of such a check is "SELECT (<aggregate>)::DOUBLE FROM output".
std::string MetricAggregate(const Check& c);
// SQL over `output` giving the rows that make the value (nulls, duplicates, invalid values, the
// failed rows), at most `limit`; "" for checks without rows (row_count, freshness, schema,
// change).
std::string FailingRowsSql(const Check& c, int limit);

struct Step {
  std::string name;  // [A-Za-z0-9_-]+, unique
  std::vector<Input> inputs;
  std::string sql;
  std::vector<Expectation> expectations{};
  Output output;
  std::vector<Check> checks{};
  int line = 0;
};

struct Arrival {
  std::string datastore;
  std::string path;  // a folder of the datastore; "" = anywhere in it
};

// A cron schedule: minute hour day-of-month month day-of-week, UTC. Each field is *, a number,
// a list (1,15), a range (1-5), or a step (*/15, 0-30/10). Day-of-week 0 and 7 are Sunday. When
// both day fields are restricted, either matching is enough (as cron does).
struct Cron {
  std::string text;
  uint64_t minutes = 0;  // bit n: minute n
  uint32_t hours = 0;
  uint32_t days = 0;    // bit 1..31
  uint32_t months = 0;  // bit 1..12
  uint32_t weekdays = 0;  // bit 0..6
  bool any_day = true, any_weekday = true;
};
StatusOr<Cron> ParseCron(std::string_view text);
// The first minute strictly after `after_unix_s` that the schedule fires at, in unix seconds.
int64_t NextFire(const Cron& c, int64_t after_unix_s);

struct Pipeline {
  int version = 1;
  std::string name;  // [A-Za-z0-9_-]+, at most 255
  std::vector<Step> steps;  // in run order
  std::optional<Cron> schedule{};
  std::vector<Arrival> on_arrival{};
};

// Parses and validates a pipeline file; `file` names it in errors.
StatusOr<Pipeline> ParsePipeline(std::string_view text, const std::string& file);

// Parses one check as written in a checks list: `text` is the entry's key (or its whole scalar),
// `config` the YAML of its block ("" when none). Used by ParsePipeline; exposed for tests.
StatusOr<Check> ParseCheck(std::string_view text, std::string_view config_yaml);

}  // namespace tarn::pipeline
