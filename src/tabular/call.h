// One Engine call (internal to src/tabular): its files served under their own tarn:// names on
// a DuckDB database, its own connection to it, and its QueryPlan; DuckDB's errors turned into
// Status with the files' paths in place of tarn:// names.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duckdb.hpp"
#include "tabular/lake_file_system.h"
#include "tabular/query.h"
#include "tabular/tabular.h"

namespace tarn::tabular {

inline constexpr size_t kMaxMessage = 2000;

// The first paragraph of a DuckDB message, on one line: its later paragraphs repeat our SQL
// ("LINE 1: SELECT ...") or list the CSV dialect.
inline std::string FirstParagraph(const std::string& msg) {
  std::string out = msg.substr(0, msg.find("\n\n"));
  std::replace(out.begin(), out.end(), '\n', ' ');
  if (out.size() > kMaxMessage) out = out.substr(0, kMaxMessage) + "...";
  return out;
}

inline bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_.~/%", c) != nullptr;
}

// msg with each registered tarn:// name replaced by its file's path; the first such path in
// *first_path (when empty).
inline std::string NamesToPaths(LakeFileSystem& fs, const std::string& msg,
                                std::string* first_path) {
  std::string out;
  size_t i = 0;
  for (size_t at = msg.find(LakeFileSystem::kScheme); at != std::string::npos;
       at = msg.find(LakeFileSystem::kScheme, i)) {
    size_t end = at + std::strlen(LakeFileSystem::kScheme);
    while (end < msg.size() && IsNameChar(msg[end])) ++end;
    out += msg.substr(i, at - i);
    const std::string name = msg.substr(at, end - at);
    std::optional<std::string> path = fs.PathOf(name);
    out += path ? *path : name;
    if (path && first_path->empty()) *first_path = *path;
    i = end;
  }
  return out + msg.substr(i);
}

// One Engine call: the files served under its own tarn:// names, its own connection, its plan.
class Call {
 public:
  Call(duckdb::DuckDB& db, LakeFileSystem& fs, FileOpener& opener,
       const std::vector<SourceFile>& files, const ReadRequest& req)
      : fs_(fs), files_(std::make_shared<CallFiles>(opener, files)), req_(req) {
    con_ = std::make_unique<duckdb::Connection>(db);
    id_ = fs_.Register(files_);
  }
  ~Call() {
    con_.reset();
    fs_.Unregister(id_);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Builds and (if bind) binds the plan: detects the files' columns first.
  Status Prepare(bool bind = true) {
    std::vector<std::string> names;
    for (size_t i = 0; i < files_->files().size(); ++i) {
      names.push_back(LakeFileSystem::FileName(id_, i, files_->files()[i].path));
    }
    StatusOr<QueryPlan> plan = QueryPlan::Make(req_, files_->files(), std::move(names));
    if (!plan.ok()) return plan.status();
    plan_.emplace(std::move(*plan));
    files_->SetFileValues(plan_->FileValues());
    if (!bind) return Status::Ok();
    TARN_ASSIGN_OR_RETURN(std::vector<ColumnInfo> columns, Describe(plan_->ScanSql()));
    for (const ColumnInfo& c : columns) {
      if (c.name != kFileColumn) scan_columns_.push_back(c);
    }
    TARN_RETURN_IF_ERROR(plan_->Bind(std::move(columns)));
    bound_ = true;
    return Status::Ok();
  }

  const QueryPlan& plan() const { return *plan_; }
  // What the opener or a file reported while reading, if anything.
  std::optional<Status> first_error() const { return files_->first_error(); }
  // The files' columns as DuckDB detected them, before transforms and added columns.
  const std::vector<ColumnInfo>& scan_columns() const { return scan_columns_; }

  StatusOr<std::vector<ColumnInfo>> Describe(const std::string& sql) {
    TARN_ASSIGN_OR_RETURN(auto result, Query("DESCRIBE " + sql));
    std::vector<ColumnInfo> out;
    for (duckdb::idx_t r = 0; r < result->RowCount(); ++r) {
      out.push_back({result->GetValue(0, r).ToString(), result->GetValue(1, r).ToString()});
    }
    return out;
  }

  // Runs sql streaming: its columns, and how many rows it gives, without keeping them.
  StatusOr<Summary> CountStreaming(const std::string& sql) {
    duckdb::unique_ptr<duckdb::QueryResult> result = con_->SendQuery(sql);
    if (result->HasError()) return Failure(result->GetErrorObject());
    Summary s;
    for (size_t c = 0; c < result->names.size(); ++c) {
      if (result->names[c] != kFileColumn) {
        s.schema.push_back({result->names[c], result->types[c].ToString()});
      }
    }
    for (;;) {
      duckdb::ErrorData error;
      duckdb::unique_ptr<duckdb::DataChunk> chunk;
      if (!result->TryFetch(chunk, error)) return Failure(error);
      if (!chunk || chunk->size() == 0) break;
      s.row_count += static_cast<int64_t>(chunk->size());
    }
    return s;
  }

  StatusOr<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> Query(const std::string& sql) {
    duckdb::unique_ptr<duckdb::MaterializedQueryResult> result = con_->Query(sql);
    if (result->HasError()) return Failure(result->GetErrorObject());
    return result;
  }

  // The Status for a DuckDB error: the opener's own when it failed, else the message with tarn://
  // names turned back into paths and led by the file's path.
  Status Failure(const duckdb::ErrorData& error) {
    if (std::optional<Status> first = files_->first_error()) return *first;
    std::string path;
    std::string msg = NamesToPaths(error.RawMessage(), &path);
    const duckdb::ExceptionType type = error.Type();
    if (type == duckdb::ExceptionType::INTERNAL || type == duckdb::ExceptionType::FATAL ||
        type == duckdb::ExceptionType::PARSER) {
      return InternalError("tabular engine: " + FirstParagraph(msg));
    }
    if (req_.fail_on_error && bound_ && !diagnosing_ &&
        (type == duckdb::ExceptionType::CONVERSION ||
         type == duckdb::ExceptionType::INVALID_INPUT)) {
      if (std::optional<Status> bad = BadValue()) return *bad;
    }
    msg = FirstParagraph(msg);
    if (type == duckdb::ExceptionType::BINDER) return Error(Reason::kInvalidInput, msg);
    if (path.empty() && files_->files().size() == 1) path = files_->files()[0].path;
    if (!path.empty() && msg.rfind(path + ": ", 0) != 0) msg = path + ": " + msg;
    return Status(Code::kFailedPrecondition, msg);
  }

 private:
  std::string NamesToPaths(const std::string& msg, std::string* first_path) {
    return tabular::NamesToPaths(fs_, msg, first_path);
  }

  // Which file and value a failed set_column_types conversion came from.
  std::optional<Status> BadValue() {
    diagnosing_ = true;
    std::optional<Status> out;
    for (const ColumnCast& c : plan_->casts()) {
      duckdb::unique_ptr<duckdb::MaterializedQueryResult> r = con_->Query(plan_->BadValueSql(c));
      if (r->HasError() || r->RowCount() == 0) continue;
      std::string path;
      NamesToPaths(r->GetValue(0, 0).ToString(), &path);
      out = Status(Code::kFailedPrecondition, path + ": could not convert '" +
                                                  r->GetValue(1, 0).ToString() + "' to " + c.type +
                                                  " in column " + c.column);
      break;
    }
    diagnosing_ = false;
    return out;
  }

  LakeFileSystem& fs_;
  std::shared_ptr<CallFiles> files_;
  const ReadRequest& req_;
  uint64_t id_ = 0;
  std::unique_ptr<duckdb::Connection> con_;
  std::optional<QueryPlan> plan_;
  std::vector<ColumnInfo> scan_columns_;
  bool bound_ = false;
  bool diagnosing_ = false;
};

// A database of its own that reaches only the lake files of its calls and, when `dir` is not
// empty, that local directory (where it may also spill): set after start-up (DuckDB refuses
// allowed_directories before), then locked, so that no statement can undo it. `settings` are
// SET statements run before the lock.
struct Confinement {
  std::string dir;
  int threads = 0;
  std::string memory_limit{};
  std::vector<std::string> settings{};
};
StatusOr<std::unique_ptr<duckdb::DuckDB>> ConfinedDatabase(const Confinement& c,
                                                           LakeFileSystem** lake);

}  // namespace tarn::tabular
