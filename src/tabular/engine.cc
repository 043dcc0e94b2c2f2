// Engine: one in-memory DuckDB database, the lake file system registered in it, and per call a
// connection running the SQL that QueryPlan builds.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <string_view>
#include <thread>
#include <type_traits>

#include "duckdb.hpp"
#include "tabular/call.h"
#include "tabular/lake_file_system.h"
#include "tabular/query.h"
#include "tabular/sql_text.h"
#include "tabular/tabular.h"

namespace tarn::tabular {

struct Engine::Impl {
  // Runs f(call) on a prepared Call; no exception leaves.
  // bind=false: the plan is made but not bound (no detection query); only plan().ScanSql()
  // may be used.
  template <typename T, typename F>
  StatusOr<T> Run(FileOpener& opener, const std::vector<SourceFile>& files, const ReadRequest& req,
                  F&& f, bool bind = true);

  Status init;  // why the database could not start, answered by every call
  std::unique_ptr<duckdb::DuckDB> db;
  LakeFileSystem* fs = nullptr;  // owned by db's virtual file system
};

namespace {

// Files summarised together up to this many bytes are scanned once, streaming.
constexpr int64_t kSmallSummary = 4 << 20;

// Footer statistics are cast to the column's type by name; only plain type names qualify.
bool IsPlainTypeName(const std::string& type) {
  return !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == ',' ||
           c == ' ' || c == '_';
  });
}

bool IsNested(const std::string& type) {
  return type.find('[') != std::string::npos || type.rfind("STRUCT", 0) == 0 ||
         type.rfind("MAP", 0) == 0 || type.rfind("UNION", 0) == 0;
}

// Fills a Column of a result whose row count is known, chunk after chunk, converting DuckDB's
// physical types: every array is allocated once at its final size (no growth, no reallocation:
// on this kind of VM first-touching memory twice costs more than the conversion), fixed-width
// values without nulls are one memcpy per chunk, and `valid` stays empty until a null appears.
class ColumnBuilder {
 public:
  ColumnBuilder(Column* col, const duckdb::LogicalType& type, int64_t rows)
      : col_(col), type_(type), rows_(static_cast<size_t>(rows)) {
    using Id = duckdb::LogicalTypeId;
    switch (type.id()) {
      case Id::BOOLEAN:
        col->type = Column::Type::kBool;
        break;
      case Id::TINYINT:
      case Id::SMALLINT:
      case Id::INTEGER:
      case Id::BIGINT:
      case Id::UTINYINT:
      case Id::USMALLINT:
      case Id::UINTEGER:
        col->type = Column::Type::kInt64;
        break;
      case Id::UBIGINT:
      case Id::HUGEINT:
      case Id::UHUGEINT:
      case Id::FLOAT:
      case Id::DOUBLE:
      case Id::DECIMAL:
        col->type = Column::Type::kDouble;
        break;
      case Id::DATE:
      case Id::TIMESTAMP:
      case Id::TIMESTAMP_SEC:
      case Id::TIMESTAMP_MS:
      case Id::TIMESTAMP_NS:
      case Id::TIMESTAMP_TZ:
        col->type = Column::Type::kTimestampUs;
        break;
      default:
        col->type = Column::Type::kString;
        break;
    }
    switch (col->type) {
      case Column::Type::kBool:
        col->b.resize(rows_);
        break;
      case Column::Type::kInt64:
      case Column::Type::kTimestampUs:
        col->i64.resize(rows_);
        break;
      case Column::Type::kDouble:
        col->f64.resize(rows_);
        break;
      case Column::Type::kString:
        if (type.id() == duckdb::LogicalTypeId::VARCHAR) {
          col->codes.resize(rows_);  // null rows keep code 0, dict[0] = ""
          col->dict.emplace_back();
          dict_hashes_.push_back(std::hash<std::string_view>()(std::string_view()));
          Insert(0);
        } else {
          col->str.resize(rows_);
        }
        break;
    }
  }

  void Append(duckdb::Vector& v, duckdb::idx_t n) {
    using Id = duckdb::LogicalTypeId;
    if (n == 0) return;  // (an empty result's arrays have no storage at all)
    v.Flatten(n);
    const duckdb::ValidityMask& valid = duckdb::FlatVector::Validity(v);
    if (!valid.AllValid()) {
      if (col_->valid.empty()) col_->valid.assign(rows_, 1);
      for (duckdb::idx_t i = 0; i < n; ++i) {
        if (!valid.RowIsValid(i)) col_->valid[at_ + i] = 0;
      }
    }
    switch (type_.id()) {
      case Id::BOOLEAN:
        Copy<bool>(v, n, col_->b.data());
        break;
      case Id::TINYINT:
        Copy<int8_t>(v, n, col_->i64.data());
        break;
      case Id::SMALLINT:
        Copy<int16_t>(v, n, col_->i64.data());
        break;
      case Id::INTEGER:
        Copy<int32_t>(v, n, col_->i64.data());
        break;
      case Id::BIGINT:
        Copy<int64_t>(v, n, col_->i64.data());
        break;
      case Id::UTINYINT:
        Copy<uint8_t>(v, n, col_->i64.data());
        break;
      case Id::USMALLINT:
        Copy<uint16_t>(v, n, col_->i64.data());
        break;
      case Id::UINTEGER:
        Copy<uint32_t>(v, n, col_->i64.data());
        break;
      case Id::FLOAT:
        Copy<float>(v, n, col_->f64.data());
        break;
      case Id::DOUBLE:
        Copy<double>(v, n, col_->f64.data());
        break;
      case Id::DATE:
        Copy<int32_t>(v, n, col_->i64.data(), duckdb::Interval::MICROS_PER_DAY);
        break;
      case Id::TIMESTAMP:
      case Id::TIMESTAMP_TZ:
        Copy<int64_t>(v, n, col_->i64.data());
        break;
      case Id::TIMESTAMP_SEC:
        Copy<int64_t>(v, n, col_->i64.data(), duckdb::Interval::MICROS_PER_SEC);
        break;
      case Id::TIMESTAMP_MS:
        Copy<int64_t>(v, n, col_->i64.data(), duckdb::Interval::MICROS_PER_MSEC);
        break;
      case Id::TIMESTAMP_NS: {
        const int64_t* data = duckdb::FlatVector::GetData<int64_t>(v);
        for (duckdb::idx_t i = 0; i < n; ++i) {
          col_->i64[at_ + i] = valid.RowIsValid(i) ? data[i] / 1000 : 0;
        }
        break;
      }
      case Id::VARCHAR: {
        const duckdb::string_t* data = duckdb::FlatVector::GetData<duckdb::string_t>(v);
        duckdb::idx_t i = 0;
        if (!col_->codes.empty()) {
          for (; i < n; ++i) {
            if (!valid.RowIsValid(i)) continue;
            col_->codes[at_ + i] = Code(std::string_view(data[i].GetData(), data[i].GetSize()));
            if (col_->dict.size() > kMaxDict ||
                (at_ + i >= kDictWindow && col_->dict.size() > (at_ + i) / 2)) {
              ToPlain(at_ + i + 1);  // mostly distinct values: one string per row from here on
              ++i;
              break;
            }
          }
        }
        for (; i < n; ++i) {
          if (valid.RowIsValid(i)) col_->str[at_ + i].assign(data[i].GetData(), data[i].GetSize());
        }
        break;
      }
      default:
        for (duckdb::idx_t i = 0; i < n; ++i) {
          if (!valid.RowIsValid(i)) continue;
          if (col_->type == Column::Type::kDouble) {
            col_->f64[at_ + i] =
                v.GetValue(i).DefaultCastAs(duckdb::LogicalType::DOUBLE).GetValue<double>();
          } else {
            col_->str[at_ + i] = v.GetValue(i).ToString();
          }
        }
        break;
    }
    at_ += n;
  }

 private:
  // A null's slot is zero (or "", as allocated) so the arrays are deterministic.
  template <typename From, typename To>
  void Copy(duckdb::Vector& v, duckdb::idx_t n, To* base, int64_t scale = 1) {
    const From* data = duckdb::FlatVector::GetData<From>(v);
    const duckdb::ValidityMask& valid = duckdb::FlatVector::Validity(v);
    To* out = base + at_;
    if (valid.AllValid()) {
      if constexpr (std::is_same_v<From, To>) {
        if (scale == 1) {
          std::memcpy(out, data, n * sizeof(To));
          return;
        }
      }
      for (duckdb::idx_t i = 0; i < n; ++i) out[i] = static_cast<To>(static_cast<To>(data[i]) * scale);
      return;
    }
    for (duckdb::idx_t i = 0; i < n; ++i) {
      out[i] = valid.RowIsValid(i) ? static_cast<To>(static_cast<To>(data[i]) * scale) : To{};
    }
  }

  // The dictionary's code of s, added when new. Open addressing over codes + 1 (0 = empty slot),
  // the table at most half full.
  uint32_t Code(std::string_view s) {
    const size_t h = std::hash<std::string_view>()(s);
    const size_t mask = slots_.size() - 1;
    for (size_t at = h & mask;; at = (at + 1) & mask) {
      const uint32_t slot = slots_[at];
      if (slot == 0) break;
      if (dict_hashes_[slot - 1] == h && col_->dict[slot - 1] == s) return slot - 1;
    }
    const auto code = static_cast<uint32_t>(col_->dict.size());
    col_->dict.emplace_back(s);
    dict_hashes_.push_back(h);
    Insert(code);
    return code;
  }
  void Insert(uint32_t code) {
    if (2 * (col_->dict.size()) > slots_.size()) {
      size_t size = 1024;
      while (size < 4 * col_->dict.size()) size *= 2;  // a power of two: probes use a mask
      std::vector<uint32_t>(size, 0).swap(slots_);
      for (uint32_t c = 0; c < col_->dict.size(); ++c) Place(c);
    } else {
      Place(code);
    }
  }
  void Place(uint32_t code) {
    const size_t mask = slots_.size() - 1;
    size_t at = dict_hashes_[code] & mask;
    while (slots_[at] != 0) at = (at + 1) & mask;
    slots_[at] = code + 1;
  }
  // Switches the column to one string per row; rows before `upto` are decoded from the codes.
  void ToPlain(size_t upto) {
    col_->str.resize(rows_);
    for (size_t r = 0; r < upto; ++r) col_->str[r] = col_->dict[col_->codes[r]];
    std::vector<uint32_t>().swap(col_->codes);
    std::vector<std::string>().swap(col_->dict);
    std::vector<uint32_t>().swap(slots_);
    std::vector<size_t>().swap(dict_hashes_);
  }

  static constexpr size_t kMaxDict = 1 << 20;     // distinct values kept as a dictionary
  static constexpr size_t kDictWindow = 1 << 18;  // rows seen before judging the distinct share

  Column* col_;
  duckdb::LogicalType type_;
  size_t rows_;
  size_t at_ = 0;
  std::vector<uint32_t> slots_;     // the dictionary's hash table
  std::vector<size_t> dict_hashes_;  // hash of each dictionary entry
};

// Fills the builders from the collection, the columns shared out over up to `threads` threads
// (each scans only its own columns): copying out is memory-bound, and so is first touching the
// arrays it writes.
void BuildColumns(const duckdb::ColumnDataCollection& collection,
                  std::vector<ColumnBuilder>& builders, const std::vector<Column>& columns,
                  unsigned threads) {
  const size_t n = builders.size();
  threads = static_cast<unsigned>(std::min<size_t>(std::max(1u, threads), n));
  if (collection.Count() < 100000) threads = 1;
  // Greedy split by weight: a string column costs about four fixed-width ones.
  std::vector<duckdb::vector<duckdb::column_t>> parts(std::max(1u, threads));
  std::vector<size_t> load(parts.size(), 0);
  for (size_t c = 0; c < n; ++c) {
    const size_t least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    parts[least].push_back(c);
    load[least] += columns[c].type == Column::Type::kString ? 4 : 1;
  }
  auto run = [&](const duckdb::vector<duckdb::column_t>& ids) {
    if (ids.empty()) return;
    for (duckdb::DataChunk& chunk : collection.Chunks(ids)) {
      for (size_t k = 0; k < ids.size(); ++k) builders[ids[k]].Append(chunk.data[k], chunk.size());
    }
  };
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(parts.size());
  for (size_t p = 1; p < parts.size(); ++p) {
    pool.emplace_back([&, p] {
      try {
        run(parts[p]);
      } catch (...) {
        errors[p] = std::current_exception();
      }
    });
  }
  try {
    run(parts[0]);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// Parquet footer statistics for the profile: row count, and per column nulls/min/max when every
// row group of every file has them. Marks in `needs` what the scan no longer has to compute.
Status FooterStats(Call& call, std::vector<ProfileNeeds>* needs, std::vector<ColumnProfile>* cols,
                   std::optional<int64_t>* rows) {
  const std::vector<std::string> footer = call.plan().FooterColumns();
  TARN_ASSIGN_OR_RETURN(
      auto created,
      call.Query("CREATE TEMP TABLE __tarn_meta AS SELECT file_name, row_group_id, "
                 "row_group_num_rows, path_in_schema, stats_null_count, stats_min_value, "
                 "stats_max_value, min_is_exact, max_is_exact FROM parquet_metadata(" +
                 call.plan().FileListSql() + ")"));
  (void)created;
  TARN_ASSIGN_OR_RETURN(auto groups,
                        call.Query("SELECT count(*), CAST(coalesce(sum(row_group_num_rows), 0) AS "
                                   "BIGINT) FROM (SELECT DISTINCT file_name, row_group_id, "
                                   "row_group_num_rows FROM __tarn_meta)"));
  const int64_t row_groups = groups->GetValue(0, 0).GetValue<int64_t>();
  *rows = groups->GetValue(1, 0).GetValue<int64_t>();
  for (size_t i = 0; i < needs->size(); ++i) {
    ProfileNeeds& need = (*needs)[i];
    if (IsNested(need.type) || !IsPlainTypeName(need.type) ||
        std::find(footer.begin(), footer.end(), need.name) == footer.end()) {
      continue;
    }
    const std::string min = "TRY_CAST(stats_min_value AS " + need.type + ")";
    const std::string max = "TRY_CAST(stats_max_value AS " + need.type + ")";
    const std::string all_null = "stats_null_count = row_group_num_rows";
    TARN_ASSIGN_OR_RETURN(
        auto s,
        call.Query(
            "SELECT count(*), count(stats_null_count), CAST(sum(stats_null_count) AS "
            "BIGINT), bool_and(((" +
            min + " IS NOT NULL AND min_is_exact) OR " + all_null + ") AND ((" + max +
            " IS NOT NULL AND max_is_exact) OR " + all_null + ")), CAST(min(" + min +
            ") AS VARCHAR), CAST(max(" + max +
            ") AS VARCHAR) FROM __tarn_meta WHERE path_in_schema = " + QuoteLiteral(need.name)));
    if (s->GetValue(0, 0).GetValue<int64_t>() != row_groups || row_groups == 0) continue;
    ColumnProfile& col = (*cols)[i];
    if (s->GetValue(1, 0).GetValue<int64_t>() == row_groups) {
      col.nulls = s->GetValue(2, 0).GetValue<int64_t>();
      need.nulls = false;
    }
    const duckdb::Value exact = s->GetValue(3, 0);
    if (!exact.IsNull() && exact.GetValue<bool>()) {
      if (!s->GetValue(4, 0).IsNull()) col.min = s->GetValue(4, 0).ToString();
      if (!s->GetValue(5, 0).IsNull()) col.max = s->GetValue(5, 0).ToString();
      need.min_max = false;
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// The lines the profile query's CSV scan left out (store_rejects): one entry per line, however
// many errors DuckDB found on it.
Status RejectedLines(Call& call, Profile* p) {
  const std::string lines =
      "SELECT s.file_path AS file, e.line AS line, "
      "string_agg(DISTINCT e.error_type || ': ' || e.error_message, '; ') AS error "
      "FROM reject_errors e JOIN reject_scans s "
      "ON e.scan_id = s.scan_id AND e.file_id = s.file_id "
      "WHERE e.scan_id = (SELECT max(scan_id) FROM reject_errors) GROUP BY ALL";
  // Per file: how many of its lines were left out.
  TARN_ASSIGN_OR_RETURN(auto per_file,
                        call.Query("SELECT file, count(*) FROM (" + lines + ") GROUP BY file"));
  for (duckdb::idx_t i = 0; i < per_file->RowCount(); ++i) {
    p->rejected_lines += per_file->GetValue(1, i).GetValue<int64_t>();
  }
  if (p->rejected_lines == 0) return Status::Ok();
  TARN_ASSIGN_OR_RETURN(auto r, call.Query(lines + " ORDER BY file, line LIMIT " +
                                           std::to_string(kMaxRejected)));
  for (duckdb::idx_t i = 0; i < r->RowCount(); ++i) {
    RejectedLine l;
    l.path = call.plan().PathOfName(r->GetValue(0, i).ToString());
    l.line = r->GetValue(1, i).GetValue<int64_t>();
    l.error = r->GetValue(2, i).ToString();
    p->rejected.push_back(std::move(l));
  }
  // A file with rejected lines and not one line read is of another shape, not a file with a bad
  // line. (This scan records its rejects again, after the ones read above.)
  const std::string file = QuoteIdent(kFileColumn);
  TARN_ASSIGN_OR_RETURN(auto read, call.Query("SELECT " + file + " FROM (" +
                                              call.plan().PartitionedSql() + ") GROUP BY 1"));
  for (duckdb::idx_t i = 0; i < per_file->RowCount() && p->unreadable_file.empty(); ++i) {
    const std::string name = per_file->GetValue(0, i).ToString();
    bool any = false;
    for (duckdb::idx_t j = 0; j < read->RowCount() && !any; ++j) {
      any = read->GetValue(0, j).ToString() == name;
    }
    if (!any) p->unreadable_file = call.plan().PathOfName(name);
  }
  return Status::Ok();
}

}  // namespace

template <typename T, typename F>
StatusOr<T> Engine::Impl::Run(FileOpener& opener, const std::vector<SourceFile>& files,
                              const ReadRequest& req, F&& f, bool bind) {
  if (!init.ok()) return init;
  try {
    Call call(*db, *fs, opener, files, req);
    TARN_RETURN_IF_ERROR(call.Prepare(bind));
    return f(call);
  } catch (const std::exception& e) {
    return InternalError("tabular engine: " + FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  } catch (...) {
    return InternalError("tabular engine: unknown exception");
  }
}

Engine::Engine() : Engine(EngineOptions{}) {}

Engine::Engine(const EngineOptions& options) : impl_(std::make_unique<Impl>()) {
  try {
    duckdb::DBConfig config;
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
    // Each call has its own names: cached ranges would never be read again.
    config.SetOptionByName("enable_external_file_cache", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("temp_directory", duckdb::Value(options.temp_directory));
    if (options.threads > 0) {
      config.SetOptionByName("threads", duckdb::Value::BIGINT(options.threads));
    }
    if (!options.memory_limit.empty()) {
      config.SetOptionByName("memory_limit", duckdb::Value(options.memory_limit));
    }
    impl_->db = std::make_unique<duckdb::DuckDB>(nullptr, &config);
    auto fs = duckdb::make_uniq<LakeFileSystem>();
    impl_->fs = fs.get();
    impl_->db->GetFileSystem().RegisterSubSystem(std::move(fs));
    duckdb::Connection con(*impl_->db);
    impl_->fs->RegisterFileValueFunction(con);
  } catch (const std::exception& e) {
    impl_->init = InternalError("tabular engine: cannot start DuckDB: " +
                                FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  }
}

Engine::~Engine() = default;

StatusOr<std::vector<ColumnInfo>> Engine::Schema(FileOpener& opener,
                                                 const std::vector<SourceFile>& files,
                                                 const ReadRequest& req) {
  return impl_->Run<std::vector<ColumnInfo>>(
      opener, files, req, [](Call& call) { return call.Describe(call.plan().FinalSql()); });
}

StatusOr<Summary> Engine::Summarize(FileOpener& opener, const std::vector<SourceFile>& files,
                                    const ReadRequest& req) {
  // Without transforms, types or added columns the result's columns are the files' own, which
  // binding the plan already detected: one detection less per call (most of a small file's cost).
  const bool plain = req.transforms.empty() && req.options.set_column_types.empty() &&
                     req.options.partition_format.empty() && !req.options.include_path;
  // Small text files: one streaming scan gives both columns and rows, so the files are
  // detected once rather than twice (the cost of a small file is mostly detection).
  int64_t bytes = 0;
  bool hive = false;
  for (const SourceFile& f : files) {
    bytes += f.size < 0 ? kSmallSummary : f.size;
    hive = hive || f.path.find('=') != std::string::npos;
  }
  if (plain && !hive && req.format != Format::kParquet && bytes < kSmallSummary &&
      !req.options.empty_as_string && req.options.invalid_lines != "drop") {
    return impl_->Run<Summary>(
        opener, files, req,
        [](Call& call) { return call.CountStreaming(call.plan().ScanSql()); }, /*bind=*/false);
  }
  return impl_->Run<Summary>(opener, files, req, [plain](Call& call) -> StatusOr<Summary> {
    Summary s;
    if (plain && call.plan().partition_keys().empty()) {
      s.schema = call.scan_columns();
    } else {
      TARN_ASSIGN_OR_RETURN(s.schema, call.Describe(call.plan().FinalSql()));
    }
    TARN_ASSIGN_OR_RETURN(auto r, call.Query("SELECT count(*) FROM (" + call.plan().FinalSql() + ")"));
    s.row_count = r->GetValue(0, 0).GetValue<int64_t>();
    return s;
  });
}

StatusOr<Profile> Engine::ProfileFiles(FileOpener& opener, const std::vector<SourceFile>& files,
                                       const ReadRequest& req) {
  return impl_->Run<Profile>(opener, files, req, [&](Call& call) -> StatusOr<Profile> {
    Profile p;
    TARN_ASSIGN_OR_RETURN(p.schema, call.Describe(call.plan().FinalSql()));
    for (const PartitionKey& k : call.plan().partition_keys()) p.partition_keys.push_back(k.name);
    std::vector<ProfileNeeds> needs;
    for (const ColumnInfo& c : p.schema) {
      needs.push_back({c.name, c.type, true, !IsNested(c.type)});
      p.columns.push_back({c.name, c.type, 0, std::nullopt, std::nullopt, 0});
    }
    std::optional<int64_t> rows;
    if (req.format == Format::kParquet && !call.plan().FooterColumns().empty()) {
      TARN_RETURN_IF_ERROR(FooterStats(call, &needs, &p.columns, &rows));
    }
    TARN_ASSIGN_OR_RETURN(auto r, call.Query(QueryPlan::ProfileSql(call.plan().FinalSql(), needs)));
    duckdb::idx_t at = 0;
    p.row_count = rows ? *rows : r->GetValue(at, 0).GetValue<int64_t>();
    ++at;
    for (size_t i = 0; i < needs.size(); ++i) {
      ColumnProfile& c = p.columns[i];
      if (needs[i].nulls) c.nulls = r->GetValue(at++, 0).GetValue<int64_t>();
      if (needs[i].min_max) {
        const duckdb::Value min = r->GetValue(at++, 0), max = r->GetValue(at++, 0);
        if (!min.IsNull()) c.min = min.ToString();
        if (!max.IsNull()) c.max = max.ToString();
      }
      // HyperLogLog may overshoot on small columns; never more than the values counted.
      c.distinct = std::min(r->GetValue(at++, 0).GetValue<int64_t>(), p.row_count - c.nulls);
    }
    if (req.format == Format::kCsv && req.options.invalid_lines == "drop") {
      TARN_RETURN_IF_ERROR(RejectedLines(call, &p));
    }
    return p;
  });
}

StatusOr<Table> Engine::Read(FileOpener& opener, const std::vector<SourceFile>& files,
                             const ReadRequest& req) {
  return impl_->Run<Table>(opener, files, req, [&](Call& call) -> StatusOr<Table> {
    // Materialised, not streamed: DuckDB collects the result in parallel (in order), and the
    // row count is known before a single array is allocated.
    TARN_ASSIGN_OR_RETURN(auto result, call.Query(call.plan().FinalSql()));
    Table t;
    t.rows = static_cast<int64_t>(result->RowCount());
    t.columns.resize(result->names.size());
    std::vector<ColumnBuilder> builders;
    for (size_t c = 0; c < result->names.size(); ++c) {
      t.columns[c].name = result->names[c];
      builders.emplace_back(&t.columns[c], result->types[c], t.rows);
    }
    BuildColumns(result->Collection(), builders, t.columns, std::thread::hardware_concurrency());
    return t;
  });
}

namespace {

bool IsNumeric(const std::string& type) {
  static const char* const kNumeric[] = {"TINYINT",  "SMALLINT", "INTEGER",  "BIGINT",
                                         "HUGEINT",  "UTINYINT", "USMALLINT", "UINTEGER",
                                         "UBIGINT",  "UHUGEINT", "FLOAT",    "DOUBLE"};
  for (const char* t : kNumeric) {
    if (type == t) return true;
  }
  return type.rfind("DECIMAL", 0) == 0;
}

}  // namespace

StatusOr<std::vector<Histogram>> Engine::Histograms(
    FileOpener& opener, const std::vector<SourceFile>& files, const ReadRequest& req, int bins,
    const std::vector<std::string>& columns,
    const std::map<std::string, std::pair<double, double>>& bounds) {
  if (bins < 1 || bins > kMaxHistogramBins) {
    return Error(Reason::kInvalidInput,
                 "bins must be from 1 to " + std::to_string(kMaxHistogramBins));
  }
  return impl_->Run<std::vector<Histogram>>(
      opener, files, req, [&](Call& call) -> StatusOr<std::vector<Histogram>> {
        TARN_ASSIGN_OR_RETURN(std::vector<ColumnInfo> schema,
                              call.Describe(call.plan().FinalSql()));
        std::vector<ColumnInfo> chosen;
        if (columns.empty()) {
          for (const ColumnInfo& c : schema) {
            if (IsNumeric(c.type) && chosen.size() < kMaxHistogramColumns) chosen.push_back(c);
          }
        } else {
          if (columns.size() > kMaxHistogramColumns) {
            return Error(Reason::kInvalidInput, "at most " +
                                                    std::to_string(kMaxHistogramColumns) +
                                                    " columns at once");
          }
          for (const std::string& name : columns) {
            auto it = std::find_if(schema.begin(), schema.end(),
                                   [&](const ColumnInfo& c) { return c.name == name; });
            if (it == schema.end()) {
              return Error(Reason::kInvalidInput, "no column '" + name + "'");
            }
            if (!IsNumeric(it->type)) {
              return Error(Reason::kInvalidInput, "column '" + name + "' is " + it->type +
                                                      ", not a number: it has no histogram");
            }
            chosen.push_back(*it);
          }
        }
        std::vector<Histogram> out;
        if (chosen.empty()) return out;
        // At most two scans whatever the number of columns: every column's finite bounds (unless
        // all are given), then every column's bin counts at once (DuckDB's histogram aggregate
        // over each bin number).
        auto finite = [](const std::string& col) {
          return "CASE WHEN isfinite(" + col + "::DOUBLE) THEN " + col + "::DOUBLE END";
        };
        const bool given = std::all_of(chosen.begin(), chosen.end(), [&](const ColumnInfo& c) {
          return bounds.count(c.name) > 0;
        });
        std::vector<std::optional<std::pair<double, double>>> range(chosen.size());
        if (given) {
          for (size_t i = 0; i < chosen.size(); ++i) range[i] = bounds.at(chosen[i].name);
        } else {
          std::string sql = "SELECT ";
          for (size_t i = 0; i < chosen.size(); ++i) {
            const std::string v = finite(QuoteIdent(chosen[i].name));
            sql += (i ? ", min(" : "min(") + v + "), max(" + v + ")";
          }
          TARN_ASSIGN_OR_RETURN(auto b,
                                call.Query(sql + " FROM (" + call.plan().FinalSql() + ")"));
          for (size_t i = 0; i < chosen.size(); ++i) {
            const duckdb::Value lo = b->GetValue(2 * i, 0), hi = b->GetValue(2 * i + 1, 0);
            if (!lo.IsNull() && !hi.IsNull()) {
              range[i] = {lo.GetValue<double>(), hi.GetValue<double>()};
            }
          }
        }
        std::vector<std::string> keys;  // "<bin expression> AS k<i>"
        std::vector<size_t> of;         // the column of each key
        for (size_t i = 0; i < chosen.size(); ++i) {
          Histogram h{chosen[i].name, chosen[i].type, 0, 0, {}};
          if (range[i]) {
            h.low = range[i]->first;
            h.high = range[i]->second;
            h.counts.assign(h.low == h.high ? 1 : bins, 0);
          }
          out.push_back(std::move(h));
          const Histogram& oh = out.back();
          if (oh.counts.empty()) continue;
          // floor((v - lo) / (hi - lo) * bins), the top value in the last bin.
          char lo_text[40], span_text[40];
          std::snprintf(lo_text, sizeof lo_text, "%.17g", oh.low);
          std::snprintf(span_text, sizeof span_text, "%.17g", oh.high - oh.low);
          const std::string v = finite(QuoteIdent(oh.name));
          const std::string key =
              oh.low == oh.high
                  ? "CASE WHEN (" + v + ") IS NOT NULL THEN 0 END"
                  : "least(" + std::to_string(bins - 1) + ", greatest(0, floor(((" + v +
                        ") - CAST('" + lo_text + "' AS DOUBLE)) / CAST('" + span_text +
                        "' AS DOUBLE) * " + std::to_string(bins) + ")))::BIGINT";
          keys.push_back(key + " AS k" + std::to_string(i));
          of.push_back(i);
        }
        if (keys.empty()) return out;
        std::string select, inner;
        for (size_t j = 0; j < keys.size(); ++j) {
          select += (j ? ", histogram(k" : "histogram(k") + std::to_string(of[j]) + ")";
          inner += (j ? ", " : "") + keys[j];
        }
        TARN_ASSIGN_OR_RETURN(auto r, call.Query("SELECT " + select + " FROM (SELECT " + inner +
                                                 " FROM (" + call.plan().FinalSql() + "))"));
        for (size_t j = 0; j < keys.size(); ++j) {
          const duckdb::Value m = r->GetValue(j, 0);  // MAP(bin, count); null when no value
          if (m.IsNull()) continue;
          Histogram& h = out[of[j]];
          for (const duckdb::Value& entry : duckdb::MapValue::GetChildren(m)) {
            const auto& kv = duckdb::StructValue::GetChildren(entry);
            if (kv.size() != 2 || kv[0].IsNull()) continue;
            const int64_t bin = kv[0].GetValue<int64_t>();
            if (bin >= 0 && bin < static_cast<int64_t>(h.counts.size())) {
              h.counts[static_cast<size_t>(bin)] += kv[1].GetValue<int64_t>();
            }
          }
        }
        return out;
      });
}

StatusOr<std::vector<std::string>> Engine::Write(FileOpener& opener,
                                                 const std::vector<SourceFile>& files,
                                                 const ReadRequest& req, Format out,
                                                 const std::string& local_dir,
                                                 const std::string& separator) {
  if (out == Format::kJsonLines) return Error(Reason::kInvalidInput, "Write: csv or parquet only");
  if (separator.empty()) return Error(Reason::kInvalidInput, "Write: empty separator");
  return impl_->Run<std::vector<std::string>>(
      opener, files, req, [&](Call& call) -> StatusOr<std::vector<std::string>> {
        const std::string name = out == Format::kCsv ? "part-00000.csv" : "part-00000.parquet";
        const std::string options =
            out == Format::kCsv ? "FORMAT csv, HEADER true, DELIMITER " + QuoteLiteral(separator)
                                : "FORMAT parquet";
        TARN_ASSIGN_OR_RETURN(
            auto r, call.Query("COPY (" + call.plan().FinalSql() + ") TO " +
                               QuoteLiteral(local_dir + "/" + name) + " (" + options + ")"));
        (void)r;
        return std::vector<std::string>{name};
      });
}

Engine& ProcessEngine() {
  static Engine engine;
  return engine;
}

}  // namespace tarn::tabular
