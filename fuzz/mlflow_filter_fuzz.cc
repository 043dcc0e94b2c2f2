// MLflow search_runs filters and order_by items (tracking::ParseRunFilter, ParseRunOrderBy),
// translated to SQL (BuildRunFilterSql) and run against an in-memory SQLite database with the
// tracking schema. Checks what the tracking store relies on: whatever the parsers accept turns
// into SQL that prepares and runs, with every bound parameter supplied; BuildRunFilterSql
// refuses nothing the parsers made but an order_by that names a field twice; and every refusal
// is an invalid-parameter error whose message is printable.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/tracking/run_filter.h"
#include "store/tracking/sqlite/run_filter_sql.h"
#include "store/tracking/sqlite/sqlite_tracking_store.h"

namespace {

using tarn::Reason;
using tarn::Status;
namespace tracking = tarn::tracking;

constexpr const char* kRows = R"sql(
INSERT INTO runs VALUES
  ('a1', 'ws', 1, 'alpha', 'ann', 'FINISHED', 1000, 2000, NULL, 'active', 's3://b/a1'),
  ('b2', 'ws', 1, 'beta', 'bob', 'RUNNING', 2000, NULL, NULL, 'active', 'file:///b2');
INSERT INTO latest_metrics VALUES ('a1', 'acc', 0.9, 1, 0, 0), ('b2', 'acc', NULL, 1, 0, 1);
INSERT INTO params VALUES ('a1', 'lr', '0.01'), ('b2', 'model', 'r*n?v[1]');
INSERT INTO tags VALUES ('a1', 'team', 'nlp'), ('b2', 'mlflow.runName', 'beta');
INSERT INTO run_inputs VALUES ('a1', 'train', 'd1', 'training', '{}');
)sql";

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "mlflow_filter_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

sqlite3* Db() {
  static sqlite3* db = [] {
    sqlite3* d = nullptr;
    if (sqlite3_open(":memory:", &d) != SQLITE_OK) Fail("open", sqlite3_errmsg(d));
    char* err = nullptr;
    if (sqlite3_exec(d, tracking::kTrackingSchema, nullptr, nullptr, &err) != SQLITE_OK) {
      Fail("schema", err);
    }
    if (sqlite3_exec(d, kRows, nullptr, nullptr, &err) != SQLITE_OK) Fail("rows", err);
    return d;
  }();
  return db;
}

void CheckRefusal(const Status& s, const std::string& input) {
  if (s.reason() != Reason::kMlflowInvalidParameterValue) {
    Fail("a refusal that is not an invalid parameter", s.ToString() + " for: " + input);
  }
  for (char c : s.message()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      Fail("a control character in a message", s.message());
    }
  }
}

void RunSql(const tracking::RunFilterSql& f, const std::string& input) {
  std::string sql =
      "SELECT r.run_uuid FROM runs r WHERE r.ws = ? AND r.experiment_id IN (1) AND "
      "r.lifecycle_stage IN ('active') AND (" + f.where + ") ORDER BY ";
  if (!f.order_by.empty()) sql += f.order_by + ", ";
  sql += "r.start_time DESC, r.run_uuid";
  sqlite3* db = Db();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    Fail("the SQL does not prepare", std::string(sqlite3_errmsg(db)) + "\n  sql: " + sql +
                                         "\n  input: " + input);
  }
  int index = 1;
  int rc = sqlite3_bind_text(stmt, index++, "ws", 2, SQLITE_STATIC);
  for (const auto* binds : {&f.where_binds, &f.order_binds}) {
    for (const tracking::SqlValue& v : *binds) {
      if (rc == SQLITE_OK) rc = tracking::BindSqlValue(stmt, index++, v);
    }
  }
  if (rc != SQLITE_OK) Fail("a bind fails", sqlite3_errmsg(db));
  if (index - 1 != sqlite3_bind_parameter_count(stmt)) {
    Fail("the binds do not match the parameters", sql);
  }
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    Fail("the SQL does not run", std::string(sqlite3_errmsg(db)) + "\n  sql: " + sql);
  }
  sqlite3_finalize(stmt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string filter = in.ConsumeRandomLengthString(tracking::kMaxFilterBytes + 64);
  std::vector<std::string> items;
  while (items.size() < 4 && in.remaining_bytes() > 0 && in.ConsumeBool()) {
    items.push_back(in.ConsumeRandomLengthString(256));
  }

  auto clauses = tracking::ParseRunFilter(filter);
  if (!clauses.ok()) CheckRefusal(clauses.status(), filter);
  std::vector<tracking::OrderBy> order;
  std::set<std::pair<tracking::Entity, std::string>> fields;
  bool duplicate = false;
  for (const std::string& item : items) {
    auto o = tracking::ParseRunOrderBy(item);
    if (!o.ok()) {
      CheckRefusal(o.status(), item);
      continue;
    }
    duplicate = !fields.emplace(o->entity, o->key).second || duplicate;
    order.push_back(std::move(*o));
  }
  if (!clauses.ok()) return 0;

  auto sql = tracking::BuildRunFilterSql(*clauses, order);
  if (!sql.ok()) {
    CheckRefusal(sql.status(), filter);
    if (!duplicate) Fail("a parsed filter is refused", sql.status().message() + ": " + filter);
    return 0;
  }
  if (duplicate) Fail("a duplicate order field is accepted", filter);
  RunSql(*sql, filter);
  return 0;
}
