// Thin RAII wrappers over SQLite shared by Tarn's SQLite-backed stores: a connection with a
// prepared-statement cache, and a Query that binds, steps and reads one use of a statement.
// A Connection is used by one thread at a time. No exceptions; every failure is a Status.
//
//   sqlite::Query q(conn, "SELECT data FROM t WHERE id = ?");
//   q.Int(id);
//   TARN_ASSIGN_OR_RETURN(bool row, q.Step());
//   if (row) Use(q.ColBlob(0));
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace tarn::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Status SqliteError(sqlite3* db, int rc, std::string_view what);
bool IsUniqueViolation(int rc);

// One sqlite3 handle with its prepared-statement cache. Used by one thread at a time.
class Connection {
 public:
  explicit Connection(DbPtr db) : db_(std::move(db)) {}

  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only) {
    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) return SqliteError(raw, rc, "open " + path);
    sqlite3_extended_result_codes(raw, 1);
    rc = sqlite3_busy_timeout(raw, 10000);
    if (rc != SQLITE_OK) return SqliteError(raw, rc, "busy_timeout");
    return std::make_unique<Connection>(std::move(db));
  }

  sqlite3* db() const { return db_.get(); }

  // Runs SQL text that may hold several statements and binds nothing (schema, pragmas).
  Status ExecScript(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = std::string("sqlite: ") + sqlite3_errstr(rc) + " (" +
                      (err != nullptr ? err : sqlite3_errmsg(db_.get())) + ") in: " + sql;
    sqlite3_free(err);
    return InternalError(std::move(msg));
  }

  StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, "prepare " + std::string(sql));
    if (raw == nullptr) return InternalError("sqlite: empty statement: " + std::string(sql));
    return stmts_.emplace(std::string(sql), std::move(stmt)).first->second.get();
  }

 private:
  // Lets the cache be searched with a string_view, without building a std::string per query.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  DbPtr db_;  // declared first: statements are finalized before the handle closes
  std::unordered_map<std::string, StmtPtr, SqlHash, std::equal_to<>> stmts_;
};


// One use of a cached statement: binds parameters in order, steps, reads columns, and resets
// the statement when it goes out of scope.
class Query {
 public:
  Query(Connection& conn, std::string_view sql) : db_(conn.db()) {
    StatusOr<sqlite3_stmt*> stmt = conn.Prepare(sql);
    if (!stmt.ok()) {
      status_ = stmt.status();
    } else if (sqlite3_stmt_busy(*stmt)) {
      status_ = InternalError("sqlite: statement used re-entrantly: " + std::string(sql));
    } else {
      stmt_ = *stmt;
    }
  }
  ~Query() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Int(int64_t v) {
    if (Ready()) Check(sqlite3_bind_int64(stmt_, next_++, v));
    return *this;
  }
  Query& Real(double v) {
    if (Ready()) Check(sqlite3_bind_double(stmt_, next_++, v));
    return *this;
  }
  Query& Text(std::string_view v) {
    if (Ready()) {
      Check(sqlite3_bind_text64(stmt_, next_++, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    return *this;
  }
  Query& Blob(std::string_view v) {
    // A non-null pointer keeps an empty value a zero-length blob rather than NULL.
    if (Ready()) {
      Check(sqlite3_bind_blob64(stmt_, next_++, v.empty() ? "" : v.data(), v.size(),
                                SQLITE_TRANSIENT));
    }
    return *this;
  }
  Query& Null() {
    if (Ready()) Check(sqlite3_bind_null(stmt_, next_++));
    return *this;
  }

  // True with a row to read, false when done.
  StatusOr<bool> Step() {
    if (!status_.ok()) return status_;
    if (done_) return false;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    done_ = true;
    if (rc == SQLITE_DONE) return false;
    rc_ = sqlite3_extended_errcode(db_);
    status_ = SqliteError(db_, rc, sqlite3_sql(stmt_));
    return status_;
  }
  // Steps to the end, ignoring rows.
  Status Run() {
    for (;;) {
      StatusOr<bool> row = Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();
    }
  }

  // Extended result code of the failure, SQLITE_OK if none.
  int error_code() const { return rc_; }
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

  int64_t ColInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  double ColReal(int col) const { return sqlite3_column_double(stmt_, col); }
  bool ColIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string ColText(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string ColBlob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
  }

 private:
  bool Ready() const { return status_.ok(); }
  void Check(int rc) {
    if (rc != SQLITE_OK) {
      rc_ = rc;
      status_ = SqliteError(db_, rc, "bind");
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
  bool done_ = false;
};


// Runs one statement to the end, ignoring rows.
Status Exec(Connection& conn, std::string_view sql);

// Runs fn inside a transaction opened with `begin` ("BEGIN" or "BEGIN IMMEDIATE"): commits if
// it succeeds, rolls back if it fails or throws. `what` names the store in error messages.
Status InTransaction(Connection& conn, const char* begin, const char* what,
                     const std::function<Status()>& fn);

}  // namespace tarn::sqlite
