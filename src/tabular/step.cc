// Engine::RunStep: one pipeline step in a DuckDB database of its own, confined to its inputs and
// its output directory.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "duckdb/parser/parser.hpp"
#include "common/time_util.h"
#include "tabular/call.h"
#include "tabular/sql_text.h"
#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

namespace fs = std::filesystem;

constexpr char kResult[] = "__tarn_result";
constexpr char kReason[] = "_reason";
constexpr int kMaxQueryRounds = 8;

}  // namespace

StatusOr<std::unique_ptr<duckdb::DuckDB>> ConfinedDatabase(const Confinement& c,
                                                           LakeFileSystem** lake) {
  duckdb::DBConfig config;
  config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
  config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
  config.SetOptionByName("enable_external_file_cache", duckdb::Value::BOOLEAN(false));
  config.SetOptionByName("temp_directory",
                         duckdb::Value(c.dir.empty() ? std::string() : c.dir + "/.spill"));
  if (c.threads > 0) config.SetOptionByName("threads", duckdb::Value::BIGINT(c.threads));
  if (!c.memory_limit.empty()) {
    config.SetOptionByName("memory_limit", duckdb::Value(c.memory_limit));
  }
  auto db = std::make_unique<duckdb::DuckDB>(nullptr, &config);
  auto lake_fs = duckdb::make_uniq<LakeFileSystem>();
  *lake = lake_fs.get();
  db->GetFileSystem().RegisterSubSystem(std::move(lake_fs));
  duckdb::Connection con(*db);
  (*lake)->RegisterFileValueFunction(con);
  std::string allowed = QuoteLiteral(LakeFileSystem::kScheme);
  if (!c.dir.empty()) allowed = QuoteLiteral(c.dir + "/") + ", " + allowed;
  std::vector<std::string> statements = c.settings;
  statements.push_back("SET allowed_directories = [" + allowed + "]");
  statements.push_back("SET enable_external_access = false");
  statements.push_back("SET lock_configuration = true");
  for (const std::string& sql : statements) {
    auto r = con.Query(sql);
    if (r->HasError()) {
      return InternalError("tabular engine: cannot confine a query: " + r->GetError());
    }
  }
  return db;
}

namespace {

// Exactly one statement of the given type, or kInvalidInput saying what was found.
Status OneStatement(duckdb::Connection& con, const std::string& sql,
                    duckdb::StatementType type, const std::string& what) {
  std::vector<duckdb::unique_ptr<duckdb::SQLStatement>> statements;
  try {
    statements = con.ExtractStatements(sql);
  } catch (const std::exception& e) {
    return Error(Reason::kInvalidInput,
                 what + " does not parse: " + FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  }
  if (statements.size() != 1) {
    return Error(Reason::kInvalidInput, what + " must be exactly one statement, not " +
                                            std::to_string(statements.size()));
  }
  if (statements[0]->type != type) {
    return Error(Reason::kInvalidInput, what + " must be a SELECT statement");
  }
  return Status::Ok();
}

Status ValidCondition(const RowExpectation& e) {
  try {
    auto list = duckdb::Parser::ParseExpressionList(e.condition);
    if (list.size() == 1) return Status::Ok();
  } catch (const std::exception& ex) {
    return Error(Reason::kInvalidInput,
                 "expectation " + e.name + ": the condition does not parse: " +
                     FirstParagraph(duckdb::ErrorData(ex).RawMessage()));
  }
  return Error(Reason::kInvalidInput,
               "expectation " + e.name + ": the condition must be one boolean expression");
}

// The files under dir/sub, relative to dir, sorted.
std::vector<std::string> FilesUnder(const std::string& dir, const std::string& sub) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir + "/" + sub, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir + "/" + sub, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The step's own connection: runs the SQL that binds its inputs and the user's text, with
// DuckDB's errors as Status (tarn:// names turned back into paths by the inputs' calls).
class StepRunner {
 public:
  StepRunner(duckdb::DuckDB& db, LakeFileSystem& lake, const StepRequest& req)
      : db_(db), lake_(lake), req_(req), con_(db) {}

  Status BindInputs() {
    for (const StepInput& in : req_.inputs) {
      if (in.opener == nullptr) return InternalError("step input without an opener");
      auto call = std::make_unique<Call>(db_, lake_, *in.opener, in.files, in.req);
      Status prepared = call->Prepare();
      if (!prepared.ok()) {
        return Status(prepared.code(), "input " + in.name + ": " + prepared.message());
      }
      // A view of the database, not of a connection: the step's connection sees it.
      TARN_RETURN_IF_ERROR(Run("CREATE VIEW " + QuoteIdent(in.name) + " AS " +
                               call->plan().FinalSql())
                               .status());
      calls_.push_back(std::move(call));
    }
    return Status::Ok();
  }

  StatusOr<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> Run(const std::string& sql) {
    duckdb::unique_ptr<duckdb::MaterializedQueryResult> r = con_.Query(sql);
    if (!r->HasError()) return r;
    return Failure(r->GetErrorObject());
  }

  Status Failure(const duckdb::ErrorData& error) {
    for (auto& call : calls_) {
      if (std::optional<Status> first = call->first_error()) return *first;
    }
    std::string path;
    std::string msg = FirstParagraph(NamesToPaths(lake_, error.RawMessage(), &path));
    switch (error.Type()) {
      case duckdb::ExceptionType::PERMISSION:
        return Status(Code::kPermissionDenied, "the step's SQL may read only its inputs: " + msg);
      case duckdb::ExceptionType::PARSER:
      case duckdb::ExceptionType::BINDER:
      case duckdb::ExceptionType::CATALOG:
        return Error(Reason::kInvalidInput, msg);
      case duckdb::ExceptionType::INTERNAL:
      case duckdb::ExceptionType::FATAL:
        return InternalError("tabular engine: " + msg);
      default:
        if (!path.empty() && msg.rfind(path + ": ", 0) != 0) msg = path + ": " + msg;
        return Status(Code::kFailedPrecondition, msg);
    }
  }

  duckdb::Connection& con() { return con_; }

 private:
  duckdb::DuckDB& db_;
  LakeFileSystem& lake_;
  const StepRequest& req_;
  duckdb::Connection con_;
  std::vector<std::unique_ptr<Call>> calls_;
};

std::string CopyOptions(const StepRequest& req, bool partitioned) {
  std::string o = "FORMAT parquet, COMPRESSION zstd, FILENAME_PATTERN 'part-{i}'";
  if (partitioned && !req.partition_by.empty()) {
    o += ", PARTITION_BY (";
    for (size_t i = 0; i < req.partition_by.size(); ++i) {
      o += (i ? ", " : "") + QuoteIdent(req.partition_by[i]);
    }
    o += ")";
  } else {
    o += ", FILE_SIZE_BYTES " + std::to_string(std::max<int64_t>(req.target_file_bytes, 1 << 20));
  }
  return o;
}

QueryAnswer Answer(StepRunner& run, const std::string& sql) {
  QueryAnswer a;
  a.status = OneStatement(run.con(), sql, duckdb::StatementType::SELECT_STATEMENT, "a check's query");
  if (!a.status.ok()) return a;
  auto r = run.Run(sql);
  if (!r.ok()) {
    a.status = r.status();
    return a;
  }
  auto& result = **r;
  a.columns.assign(result.names.begin(), result.names.end());
  for (duckdb::idx_t row = 0; row < result.RowCount() && row < kMaxAnswerRows; ++row) {
    std::vector<std::optional<std::string>> values;
    for (duckdb::idx_t c = 0; c < result.ColumnCount(); ++c) {
      duckdb::Value v = result.GetValue(c, row);
      values.push_back(v.IsNull() ? std::nullopt : std::optional<std::string>(v.ToString()));
    }
    a.rows.push_back(std::move(values));
  }
  return a;
}

// The result's columns and types, for reading back what was written: partition columns come
// back from the folder names with the type the result gave them.
StatusOr<std::string> HiveTypes(StepRunner& run, const std::string& from,
                                const std::vector<std::string>& partition_by) {
  if (partition_by.empty()) return std::string();
  TARN_ASSIGN_OR_RETURN(auto d, run.Run("DESCRIBE SELECT * FROM " + from));
  std::string types;
  for (duckdb::idx_t row = 0; row < d->RowCount(); ++row) {
    const std::string name = d->GetValue(0, row).ToString();
    if (std::find(partition_by.begin(), partition_by.end(), name) == partition_by.end()) continue;
    types += (types.empty() ? "" : ", ") + QuoteLiteral(name) + ": " +
             QuoteLiteral(d->GetValue(1, row).ToString());
  }
  return ", hive_types = {" + types + "}";
}

StatusOr<StepResult> Step(StepRunner& run, const StepRequest& req) {
  StepResult out;
  const int64_t start = MonotonicMicros();
  TARN_RETURN_IF_ERROR(OneStatement(run.con(), req.sql, duckdb::StatementType::SELECT_STATEMENT,
                                    "the step's SQL"));
  for (const RowExpectation& e : req.expectations) TARN_RETURN_IF_ERROR(ValidCondition(e));
  TARN_RETURN_IF_ERROR(run.BindInputs());
  // The user's text sits alone between newlines, so a trailing comment cannot swallow ours.
  const std::string query = "(\n" + req.sql + "\n)";
  const std::string data = QuoteLiteral(req.out_dir + "/data");
  std::string kept = "SELECT * FROM " + std::string(kResult);
  if (req.expectations.empty()) {
    std::string copy = "COPY " + query + " TO " + data + " (" + CopyOptions(req, true) + ")";
    TARN_RETURN_IF_ERROR(
        OneStatement(run.con(), copy, duckdb::StatementType::COPY_STATEMENT, "the step's SQL"));
    TARN_ASSIGN_OR_RETURN(auto r, run.Run(copy));
    out.rows_out = r->GetValue(0, 0).GetValue<int64_t>();
  } else {
    std::string create = "CREATE TEMP TABLE " + std::string(kResult) + " AS " + query;
    TARN_RETURN_IF_ERROR(
        OneStatement(run.con(), create, duckdb::StatementType::CREATE_STATEMENT, "the step's SQL"));
    TARN_ASSIGN_OR_RETURN(auto created, run.Run(create));
    (void)created;
    // A row fails an expectation when its condition is false or null.
    std::vector<std::string> fails;
    std::string counts = "SELECT ";
    for (size_t i = 0; i < req.expectations.size(); ++i) {
      fails.push_back("NOT coalesce((" + req.expectations[i].condition + "), false)");
      counts += (i ? ", " : "") + std::string("count(*) FILTER (WHERE ") + fails.back() + ")";
    }
    counts += " FROM " + std::string(kResult);
    TARN_ASSIGN_OR_RETURN(auto r, run.Run(counts));
    std::string dropped, reason;
    for (size_t i = 0; i < req.expectations.size(); ++i) {
      const RowExpectation& e = req.expectations[i];
      out.expectation_failures.push_back(r->GetValue(i, 0).GetValue<int64_t>());
      if (e.action == RowExpectation::Action::kFail && out.expectation_failures.back() > 0 &&
          !out.failed_expectation) {
        out.failed_expectation = e.name;
      }
      if (e.action == RowExpectation::Action::kDrop) {
        dropped += (dropped.empty() ? "" : " OR ") + fails[i];
        reason += ", CASE WHEN " + fails[i] + " THEN " + QuoteLiteral(e.name) + " END";
      }
    }
    if (out.failed_expectation) return out;
    if (!dropped.empty()) {
      kept += " WHERE NOT (" + dropped + ")";
      std::string quarantine = "COPY (SELECT *, concat_ws(', '" + reason + ") AS " +
                               QuoteIdent(kReason) + " FROM " + kResult + " WHERE " + dropped +
                               ") TO " + QuoteLiteral(req.out_dir + "/quarantine") + " (" +
                               CopyOptions(req, false) + ")";
      TARN_ASSIGN_OR_RETURN(auto q, run.Run(quarantine));
      out.rows_quarantined = q->GetValue(0, 0).GetValue<int64_t>();
    }
    TARN_ASSIGN_OR_RETURN(
        auto w, run.Run("COPY (" + kept + ") TO " + data + " (" + CopyOptions(req, true) + ")"));
    out.rows_out = w->GetValue(0, 0).GetValue<int64_t>();
  }
  out.write_us = MonotonicMicros() - start;
  out.data_files = FilesUnder(req.out_dir, "data");
  out.quarantine_files = FilesUnder(req.out_dir, "quarantine");
  if (out.rows_quarantined == 0 && !out.quarantine_files.empty()) {
    std::error_code ec;
    fs::remove_all(req.out_dir + "/quarantine", ec);
    out.quarantine_files.clear();
  }
  // `output` is what was written, read back; with no rows (no file), the result's shape.
  const std::string result = req.expectations.empty() ? query : "(" + kept + ")";
  std::string output;
  if (out.data_files.empty()) {
    output = "SELECT * FROM " + result + " LIMIT 0";
  } else {
    TARN_ASSIGN_OR_RETURN(std::string hive, HiveTypes(run, result, req.partition_by));
    output = "SELECT * FROM read_parquet(" + QuoteLiteral(req.out_dir + "/data/**/*.parquet") +
             (req.partition_by.empty() ? ")" : ", hive_partitioning = true" + hive + ")");
  }
  TARN_ASSIGN_OR_RETURN(auto v, run.Run("CREATE TEMP VIEW output AS " + output));
  (void)v;
  TARN_ASSIGN_OR_RETURN(auto d, run.Run("DESCRIBE output"));
  for (duckdb::idx_t row = 0; row < d->RowCount(); ++row) {
    out.schema.push_back({d->GetValue(0, row).ToString(), d->GetValue(1, row).ToString()});
  }
  const int64_t queries = MonotonicMicros();
  for (const std::string& q : req.output_queries) out.answers.push_back(Answer(run, q));
  for (int round = 0; req.next_queries && round < kMaxQueryRounds; ++round) {
    const std::vector<std::string> more = req.next_queries(out.schema, out.answers);
    if (more.empty()) break;
    for (const std::string& q : more) out.answers.push_back(Answer(run, q));
  }
  out.queries_us = MonotonicMicros() - queries;
  return out;
}

}  // namespace

StatusOr<StepResult> Engine::RunStep(const StepRequest& req) {
  std::error_code ec;
  if (!fs::is_directory(req.out_dir, ec)) {
    return InternalError("step output directory " + req.out_dir + " does not exist");
  }
  try {
    LakeFileSystem* lake = nullptr;
    TARN_ASSIGN_OR_RETURN(auto db,
                          ConfinedDatabase({req.out_dir, req.threads, req.memory_limit}, &lake));
    StatusOr<StepResult> out = [&] {
      StepRunner run(*db, *lake, req);
      return Step(run, req);
    }();
    fs::remove_all(req.out_dir + "/.spill", ec);
    return out;
  } catch (const std::exception& e) {
    return InternalError("tabular engine: " + FirstParagraph(duckdb::ErrorData(e).RawMessage()));
  } catch (...) {
    return InternalError("tabular engine: unknown exception");
  }
}

}  // namespace tarn::tabular
