// The tabular engine: reads the files of a tabular dataset (CSV, Parquet, JSON lines) with the
// azureml semantics of from_delimited_files / from_parquet_files / from_json_lines_files, applies
// the dataset's transforms, and profiles, materialises or rewrites the result. Built on DuckDB,
// which never appears in this header: consumers do not pay for duckdb.hpp.
//
// Files reach DuckDB only through a FileOpener: DuckDB reads byte ranges (CSV in blocks, Parquet
// footer plus column chunks, JSON lines in blocks), never a temporary full copy.
//
//   tarn::tabular::Engine engine;                     // one per process is enough
//   MyOpener opener(...);                             // maps SourceFile::key to the bytes
//   ReadRequest req{.format = Format::kCsv};
//   req.options.set_column_types = {{"amount", "float"}};
//   StatusOr<Profile> p = engine.ProfileFiles(opener, files, req);
//
// Errors. Nothing throws. A failing call answers
//   - Reason::kInvalidInput for a bad request: unknown option, bad transform, filter syntax (with
//   the
//     position), unknown column in set_column_types / keep_columns / drop_columns / filter;
//   - Code::kFailedPrecondition for unreadable or ill-typed data (the catalog's DataReadFailed),
//   the
//     message starting with the file's path, e.g.
//     "sales/2024/x.csv: could not convert 'abc' to BIGINT in column amount";
//   - the opener's own Status (path prefixed to its message) when FileOpener::Open or
//     RandomAccessFile::ReadAt failed;
//   - InternalError for anything else DuckDB reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tarn::tabular {

enum class Format { kCsv, kParquet, kJsonLines };

// "csv" | "parquet" | "jsonl"; anything else is kInvalidInput.
StatusOr<Format> ParseFormat(const std::string& s);
std::string FormatName(Format f);

// The reading options of a tabular dataset (docs/catalog-api.md, "definition.options"). Options a
// format does not use are accepted and ignored (azureml's factories share the names).
struct Options {
  std::string separator = ",";
  bool header = true;
  // false: every CSV column is a string (DuckDB all_varchar). Parquet keeps its types.
  bool infer_column_types = true;
  // column -> "string" | "long" | "float" | "bool" | "datetime" | "datetime:<format>". <format> is
  // a strptime format ("%Y-%m-%d %H:%M") or a .NET-style one as azureml writes them ("yyyy-MM-dd").
  // Partition columns and Path may be named too.
  std::map<std::string, std::string> set_column_types;
  // "" = none, then Hive-style key=value folders, if any, give the partition columns (strings).
  // "{region}/{day:yyyy/MM/dd}/*.csv": string key region, datetime key day. The pattern matches the
  // end of the path from the first key on; a leading '/' is optional.
  std::string partition_format;
  bool include_path = false;  // adds a "Path" column: the file's datastore-relative path
  // DuckDB always reads quoted fields spanning lines; the flag is kept for azureml compatibility.
  bool support_multi_line = false;
  // utf8 (also utf-8, ascii, utf8bom), latin1 (also iso88591), utf16.
  std::string encoding = "utf8";
  // true: an empty CSV field of a string column is "" rather than null.
  bool empty_as_string = false;
  // "error" | "drop": a JSON line that does not parse, or a CSV line the reader cannot read (the
  // wrong number of fields, a broken quote), fails the read or is left out of it.
  std::string invalid_lines = "error";

  friend bool operator==(const Options&, const Options&) = default;
};

// The "options" object; null or absent keys keep their default. An unknown key or a value of the
// wrong type is kInvalidInput naming the key.
StatusOr<Options> ParseOptions(const nlohmann::json& j);
nlohmann::json OptionsToJson(const Options& o);

// One step of the dataset's transforms, applied in order when reading.
//   take{count} skip{count} take_sample{probability,seed} keep_columns{columns}
//   drop_columns{columns} filter{expression} random_split{percentage,seed,part}
// take_sample and random_split are deterministic for a given seed (absent seed = 0) and input:
// random_split parts 0 (a `percentage` share of the rows) and 1 are disjoint and together give
// every row. filter's language:
//   expr := term (("and"|"or") term)*      ("and" binds tighter than "or")
//   term := "(" expr ")" | "not" term | ident op literal
//   op := == != < <= > >=       literal := number | 'str' | "str" | true | false | null
//   ident := [A-Za-z_][A-Za-z0-9_]* | `any name` (`` for a backquote)
// A comparison with null means "is null" (==) or "is not null" (!=).
struct Transform {
  std::string op;
  int64_t count = 0;
  double probability = 0;
  std::optional<int64_t> seed{};
  std::vector<std::string> columns{};
  std::string expression{};
  double percentage = 0;
  int part = 0;

  friend bool operator==(const Transform&, const Transform&) = default;
};

// An array of transform objects, each validated (op known, fields present and in range, filter
// parses). kInvalidInput naming the index and field otherwise.
StatusOr<std::vector<Transform>> ParseTransforms(const nlohmann::json& j);
nlohmann::json TransformsToJson(const std::vector<Transform>& t);

// A file of the dataset. `key` is opaque and handed back to the opener; `path` is the
// datastore-relative path (partition values, the Path column, error messages).
struct SourceFile {
  std::string key;
  std::string path;
  int64_t size = -1;  // informational; RandomAccessFile::Size() is authoritative
};

// Random access to one file's bytes. ReadAt must be thread-safe: DuckDB reads from several threads.
// It returns fewer than n bytes only at the end of the file.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual int64_t Size() const = 0;
  virtual StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) = 0;
};

// Opens the files of a call. The engine serialises the calls to Open made for one Engine call (they
// come from DuckDB's threads), may open a file several times (schema sniffing, then the scan) and
// may hold several files open at once. The opener must outlive the Engine call.
class FileOpener {
 public:
  virtual ~FileOpener() = default;
  virtual StatusOr<std::unique_ptr<RandomAccessFile>> Open(const SourceFile& f) = 0;
};

// Reads local files: SourceFile::key is a path relative to `root` (or absolute when root is empty).
class LocalFileOpener : public FileOpener {
 public:
  explicit LocalFileOpener(std::string root = "") : root_(std::move(root)) {}
  StatusOr<std::unique_ptr<RandomAccessFile>> Open(const SourceFile& f) override;

 private:
  std::string root_;
};

// The keys of a partition_format, in order ("{region}/{day:yyyy/MM/dd}/*.csv" -> region, day).
// kInvalidInput for an unbalanced brace, an empty or repeated key, or an unknown datetime token.
StatusOr<std::vector<std::string>> PartitionKeys(const std::string& partition_format);
// The partition values of one path: from partition_format if given, else from Hive-style key=value
// folders. Datetime keys give "2024-01-31 00:00:00". A path the format does not match is
// kInvalidInput naming the path.
StatusOr<std::map<std::string, std::string>> PartitionValues(const std::string& partition_format,
                                                             const std::string& path);

struct ColumnInfo {
  std::string name;
  std::string type;  // DuckDB type name: BIGINT, DOUBLE, VARCHAR, BOOLEAN, TIMESTAMP, ...
  friend bool operator==(const ColumnInfo&, const ColumnInfo&) = default;
};
// What ingestion records of a tabular file: its columns and rows, without profiling them.
struct Summary {
  std::vector<ColumnInfo> schema;
  int64_t row_count = 0;
};
struct ColumnProfile {
  std::string name, type;
  int64_t nulls = 0;
  std::optional<std::string> min, max;  // absent when every value is null or the type has no order
  int64_t distinct = 0;                 // approximate (HyperLogLog)
};
// A CSV line left out of a read with invalid_lines "drop": its file, its 1-based line number
// (the header is line 1) and why.
struct RejectedLine {
  std::string path;
  int64_t line = 0;
  std::string error;
};
struct Profile {
  std::vector<ColumnInfo> schema;
  int64_t row_count = 0;
  std::vector<ColumnProfile> columns;
  std::vector<std::string> partition_keys;
  // CSV with invalid_lines "drop": how many lines were left out, and the first kMaxRejected.
  int64_t rejected_lines = 0;
  std::vector<RejectedLine> rejected;
  // A file with rejected lines none of whose lines read (a file of another shape), if any.
  std::string unreadable_file;
};
inline constexpr int kMaxRejected = 100;

// An equal-width histogram of one numeric column: `counts[i]` values fall in the i-th of
// counts.size() equal parts of [low, high] (the last part includes high). Nulls are not counted;
// a column of one distinct value has one bin; a column with no value has none.
struct Histogram {
  std::string name, type;
  double low = 0, high = 0;
  std::vector<int64_t> counts;
};
inline constexpr int kMaxHistogramBins = 100;
inline constexpr size_t kMaxHistogramColumns = 32;

// A materialised result, columnar, for conversion to numpy without per-value Python objects. A
// column fills exactly one of i64 (kInt64, kTimestampUs: microseconds since the epoch), f64, b or
// the strings, with one entry per row (a null's entry is 0 / ""), and `valid`.
//
// Strings (kString) come in one of two forms; read them with String(row):
//   - dictionary: `dict` holds each distinct value once (dict[0] is always ""), `codes` one index
//     into it per row, `str` is empty. Columns of categories, codes, names: most string columns;
//   - plain: `str` holds one entry per row, `dict` and `codes` are empty. A column whose values
//     turn out mostly distinct (ids, free text) switches to it while being read.
struct Column {
  enum class Type { kInt64, kDouble, kBool, kString, kTimestampUs };
  std::string name;
  Type type = Type::kString;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<uint8_t> b;
  std::vector<std::string> str;
  std::vector<std::string> dict;
  std::vector<uint32_t> codes;
  std::vector<uint8_t> valid;  // 1 = value, 0 = null; one per row, or empty when no row is null

  std::string_view String(size_t row) const {
    return codes.empty() ? std::string_view(str[row]) : std::string_view(dict[codes[row]]);
  }
};
struct Table {
  int64_t rows = 0;
  std::vector<Column> columns;
};

struct ReadRequest {
  Format format = Format::kCsv;
  Options options;
  std::vector<Transform> transforms;
  // azureml on_error='fail': a value set_column_types cannot convert fails the call. The default
  // ('null') turns it into a null.
  bool fail_on_error = false;
  std::optional<int64_t> limit;  // at most this many rows, after the transforms
};

// One step of a pipeline (src/pipeline): its inputs as named tables, one SELECT over them, row
// expectations, the result written as Parquet (zstd) into a local directory, Hive-partitioned by
// the columns named, then queries over what was written (the pipeline's checks).
//
// Confinement. The step runs in a DuckDB database of its own whose only reach is its inputs'
// files (through their openers) and out_dir: reading any other local file (/etc/passwd), a URL,
// attaching a database, loading an extension or changing a setting is refused
// (kPermissionDenied), and the SQL must be exactly one SELECT statement (kInvalidInput).
struct StepInput {
  std::string name;  // the table's name in the SQL
  FileOpener* opener = nullptr;
  std::vector<SourceFile> files{};
  ReadRequest req{};
};
struct RowExpectation {
  enum class Action { kWarn, kDrop, kFail };
  std::string name;
  std::string condition;  // one SQL boolean expression over the result's columns
  Action action = Action::kWarn;
};
struct QueryAnswer {
  Status status;
  std::vector<std::string> columns{};
  std::vector<std::vector<std::optional<std::string>>> rows{};  // at most kMaxAnswerRows
};
struct StepRequest {
  std::vector<StepInput> inputs;
  std::string sql;
  std::vector<RowExpectation> expectations{};
  std::vector<std::string> partition_by{};
  // Unpartitioned output is split into files of about this size; partitioned output has one
  // file per partition and writer thread (DuckDB cannot combine the two).
  int64_t target_file_bytes = 128LL << 20;
  std::string out_dir;  // an existing, empty local directory: data/ and quarantine/ go there
  // Each a SELECT over the table `output` (the rows written to data/), answered in order.
  std::vector<std::string> output_queries{};
  // More such queries, asked in rounds after output_queries: called with the output's columns
  // and every answer so far, its queries are answered in order (appended to answers); then it
  // is called again, until it returns none.
  std::function<std::vector<std::string>(const std::vector<ColumnInfo>& schema,
                                         const std::vector<QueryAnswer>& answers)>
      next_queries{};
  int threads = 0;            // 0: DuckDB's default
  std::string memory_limit{};  // "" = DuckDB's default
};
struct StepResult {
  int64_t rows_out = 0;
  int64_t rows_quarantined = 0;  // failing a kDrop expectation, in quarantine/ with _reason
  std::vector<int64_t> expectation_failures{};  // rows failing each expectation, in order
  // The first kFail expectation that rows failed: then nothing is written or queried.
  std::optional<std::string> failed_expectation{};
  std::vector<ColumnInfo> schema{};  // of the output
  std::vector<std::string> data_files{}, quarantine_files{};  // relative to out_dir, sorted
  std::vector<QueryAnswer> answers{};
  int64_t write_us = 0;    // the SQL, the expectations and the write
  int64_t queries_us = 0;  // output_queries
};
inline constexpr size_t kMaxAnswerRows = 100;

struct EngineOptions {
  int threads = 0;             // DuckDB worker threads; 0 = one per core
  std::string memory_limit;    // e.g. "2GB"; "" = DuckDB's default (80% of RAM)
  std::string temp_directory;  // where DuckDB may spill; "" = never spill
};

// Thread-safe: any number of calls may run at once, each on its own DuckDB connection of the
// Engine's one in-memory database. Every call takes the files in the order given, and results keep
// that order (file by file, row by row), so take/skip/limit are deterministic.
class Engine {
 public:
  Engine();
  explicit Engine(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Schema, row count and per-column profile in one scan. For Parquet without transforms, row
  // counts and null counts/min/max come from the footers where they have them.
  StatusOr<Profile> ProfileFiles(FileOpener& opener, const std::vector<SourceFile>& files,
                                 const ReadRequest& req);
  StatusOr<std::vector<ColumnInfo>> Schema(FileOpener& opener, const std::vector<SourceFile>& files,
                                           const ReadRequest& req);
  // Schema and row count only: a count(*) that DuckDB answers from Parquet footers.
  StatusOr<Summary> Summarize(FileOpener& opener, const std::vector<SourceFile>& files,
                              const ReadRequest& req);
  StatusOr<Table> Read(FileOpener& opener, const std::vector<SourceFile>& files,
                       const ReadRequest& req);
  // Histograms of the numeric columns (integers, decimals and floating point) named, or of the
  // first kMaxHistogramColumns numeric columns when none are; `bins` from 1 to
  // kMaxHistogramBins. A named column that is missing or not numeric is kInvalidInput.
  // `bounds` (column -> finite min and max, as a profile has them) spares the scan that finds
  // them when every chosen column has its own.
  StatusOr<std::vector<Histogram>> Histograms(
      FileOpener& opener, const std::vector<SourceFile>& files, const ReadRequest& req, int bins,
      const std::vector<std::string>& columns = {},
      const std::map<std::string, std::pair<double, double>>& bounds = {});
  // Writes the result as CSV (with a header) or Parquet files into the existing local directory
  // (azureml to_csv_files / to_parquet_files); returns the file names written, relative to it.
  StatusOr<std::vector<std::string>> Write(FileOpener& opener, const std::vector<SourceFile>& files,
                                           const ReadRequest& req, Format out,
                                           const std::string& local_dir,
                                           const std::string& separator = ",");
  // Runs one pipeline step (StepRequest). A failing query of output_queries is reported in its
  // QueryAnswer; the call fails for bad SQL, an unknown column, unreadable input or a write
  // error.
  StatusOr<StepResult> RunStep(const StepRequest& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Query Blob Contents (Azure's query acceleration, docs/api.md): one SELECT in Azure's dialect
// over one file, "SELECT ... FROM BlobStorage", run in a DuckDB database of its own whose only
// table is that file and that reaches nothing else (as a step is confined). Delimited text is
// read as strings, as Azure reads it: `_1`, `_2`... name the fields of a file without a header
// row; comparisons with numbers convert the string (`WHERE _3 > 10`); aggregates need a CAST.
struct DelimitedDialect {
  std::string column_separator = ",";
  std::string field_quote = "\"";  // "" = no quoting
  std::string record_separator = "\n";
  std::string escape;  // "" = none
  bool headers = false;
  friend bool operator==(const DelimitedDialect&, const DelimitedDialect&) = default;
};
struct BlobQueryRequest {
  enum class Input { kDelimited, kJson, kParquet };
  enum class Output { kDelimited, kJson };
  FileOpener* opener = nullptr;
  SourceFile file{};
  std::string expression;
  Input input = Input::kDelimited;
  DelimitedDialect in{};
  Output output = Output::kDelimited;
  // kDelimited: the whole dialect; kJson: record_separator ends each JSON object.
  DelimitedDialect out{};
  int64_t max_output_bytes = 0;  // past this the query stops with an error; 0 = no cap
  size_t piece_bytes = 4 << 20;
  // Takes the output in pieces of about piece_bytes (none when there is no output), each ending
  // with a whole record, and how many bytes of the file had been read by then.
  std::function<Status(std::string_view data, int64_t scanned)> sink;
  int threads = 0;
  std::string memory_limit{};
};
// What stopped a query after it began giving rows (a value that does not convert, a line that
// does not parse): Azure reports it inside the answer, after the rows before it.
struct BlobQueryError {
  std::string name;  // InvalidTypeConversion, ParseError, OutputTooLarge, InternalError
  std::string description;
};
struct BlobQueryResult {
  int64_t rows = 0;
  int64_t bytes_out = 0;
  int64_t scanned = 0;  // bytes of the file read
  std::optional<BlobQueryError> error;
};
// The expression as DuckDB SQL: "BlobStorage[*]" is "BlobStorage"; kInvalidInput for a JSON path
// after it, which is not served. Exposed for tests and the fuzz target.
StatusOr<std::string> BlobQuerySql(std::string_view expression);
// kInvalidInput: the expression does not parse, is not one SELECT from BlobStorage alone (no
// joins, subqueries, set operations or common table expressions), or names an unknown column
// or function; the message says which. The sink's own error ends the call with that Status.
StatusOr<BlobQueryResult> QueryBlob(const BlobQueryRequest& req);

// One Engine for the whole process (DuckDB's defaults), made on first use: the catalog's
// registrations and tarnd's file previews share it.
Engine& ProcessEngine();

}  // namespace tarn::tabular
