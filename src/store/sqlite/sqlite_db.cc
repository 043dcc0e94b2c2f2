#include "store/sqlite/sqlite_db.h"

namespace tarn::sqlite {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  if ((rc & 0xff) == SQLITE_FULL) {
    return Error(Reason::kDiskFull, "the metadata database has no space left on its disk");
  }
  std::string msg = "sqlite: ";
  msg += what;
  msg += ": ";
  msg += sqlite3_errstr(rc);
  if (db != nullptr) {
    msg += " (";
    msg += sqlite3_errmsg(db);
    msg += ")";
  }
  return InternalError(std::move(msg));
}

bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

Status Exec(Connection& conn, std::string_view sql) { return Query(conn, sql).Run(); }

Status InTransaction(Connection& conn, const char* begin, const char* what,
                     const std::function<Status()>& fn) {
  TARN_RETURN_IF_ERROR(conn.ExecScript(begin));
  Status s;
  try {
    s = fn();
  } catch (const std::exception& e) {
    s = InternalError(std::string(what) + " transaction failed: " + e.what());
  }
  if (!s.ok()) {
    conn.ExecScript("ROLLBACK").IgnoreError();
    return s;
  }
  Status c = conn.ExecScript("COMMIT");
  if (!c.ok()) conn.ExecScript("ROLLBACK").IgnoreError();
  return c;
}

}  // namespace tarn::sqlite
