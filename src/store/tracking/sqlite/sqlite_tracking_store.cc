#include "store/tracking/sqlite/sqlite_tracking_store.h"

#include <cmath>
#include <map>
#include <string_view>
#include <thread>
#include <variant>

#include "store/tracking/sqlite/run_filter_sql.h"

namespace tarn::tracking {
namespace {

using sqlite::Query;

constexpr char kPragmas[] = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
)sql";

}  // namespace

const char kTrackingSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS experiments(
  ws TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  PRIMARY KEY(ws, experiment_id),
  UNIQUE(ws, name));
CREATE TABLE IF NOT EXISTS experiment_tags(
  ws TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(ws, experiment_id, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(
  run_uuid TEXT PRIMARY KEY,
  ws TEXT NOT NULL,
  experiment_id INTEGER NOT NULL,
  run_name TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  start_time INTEGER,
  end_time INTEGER,
  deleted_time INTEGER,
  lifecycle_stage TEXT NOT NULL,
  artifact_uri TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs(ws, experiment_id, start_time);
CREATE TABLE IF NOT EXISTS params(
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(run_uuid, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags(
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(run_uuid, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest_metrics(
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  value REAL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(run_uuid, key)) WITHOUT ROWID;
-- Every point once, in history order: one B-tree (a NaN point's value is 0, with is_nan).
CREATE TABLE IF NOT EXISTS metrics(
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  value REAL NOT NULL,
  PRIMARY KEY(run_uuid, key, step, timestamp, is_nan, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_inputs(
  run_uuid TEXT NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  context TEXT NOT NULL DEFAULT '',
  doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS run_inputs_by_run ON run_inputs(run_uuid);
CREATE TABLE IF NOT EXISTS docs(
  kind TEXT NOT NULL,
  ws TEXT NOT NULL,
  key TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY(kind, ws, key)) WITHOUT ROWID;
)sql";

namespace {

constexpr int kReaders = 4;

const char* Stages(ViewType v) {
  switch (v) {
    case ViewType::kActiveOnly: return "('active')";
    case ViewType::kDeletedOnly: return "('deleted')";
    case ViewType::kAll: return "('active','deleted')";
  }
  return "('active')";
}

void BindValue(Query& q, const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    q.Int(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    q.Real(*d);
  } else {
    q.Text(std::get<std::string>(v));
  }
}

class Txn final : public TrackingTxn {
 public:
  explicit Txn(sqlite::Connection& c) : c_(c) {}

  StatusOr<int64_t> MaxExperimentId() override {
    Query q(c_, "SELECT IFNULL(MAX(experiment_id), 0) FROM experiments");
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
  }

  Status PutExperiment(const Experiment& e) override {
    {
      Query q(c_,
              "INSERT INTO experiments(ws, experiment_id, name, artifact_location, "
              "lifecycle_stage, creation_time, last_update_time) VALUES(?,?,?,?,?,?,?) "
              "ON CONFLICT(ws, experiment_id) DO UPDATE SET name = excluded.name, "
              "artifact_location = excluded.artifact_location, lifecycle_stage = "
              "excluded.lifecycle_stage, last_update_time = excluded.last_update_time");
      q.Text(e.ws).Int(e.id).Text(e.name).Text(e.artifact_location).Text(e.lifecycle_stage);
      q.Int(e.creation_time).Int(e.last_update_time);
      Status s = q.Run();
      if (!s.ok() && sqlite::IsUniqueViolation(q.error_code())) {
        return Error(Reason::kMlflowResourceAlreadyExists,
                     "Experiment(name=" + e.name + ") already exists.");
      }
      TARN_RETURN_IF_ERROR(s);
    }
    {
      Query d(c_, "DELETE FROM experiment_tags WHERE ws = ? AND experiment_id = ?");
      d.Text(e.ws).Int(e.id);
      TARN_RETURN_IF_ERROR(d.Run());
    }
    for (const auto& [k, v] : e.tags) {
      Query t(c_, "INSERT OR REPLACE INTO experiment_tags(ws, experiment_id, key, value) "
                  "VALUES(?,?,?,?)");
      t.Text(e.ws).Int(e.id).Text(k).Text(v);
      TARN_RETURN_IF_ERROR(t.Run());
    }
    return Status::Ok();
  }

  StatusOr<std::optional<Experiment>> GetExperiment(const std::string& ws, int64_t id) override {
    Query q(c_, "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                "last_update_time FROM experiments WHERE ws = ? AND experiment_id = ?");
    q.Text(ws).Int(id);
    return OneExperiment(q, ws);
  }

  StatusOr<std::optional<Experiment>> GetExperimentByName(const std::string& ws,
                                                          const std::string& name) override {
    Query q(c_, "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                "last_update_time FROM experiments WHERE ws = ? AND name = ?");
    q.Text(ws).Text(name);
    return OneExperiment(q, ws);
  }

  StatusOr<std::vector<Experiment>> ListExperiments(const ExperimentQuery& eq) override {
    std::string sql =
        "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
        "last_update_time FROM experiments WHERE ws = ? AND lifecycle_stage IN ";
    sql += Stages(eq.view);
    sql += eq.order_by_name ? " ORDER BY name" : " ORDER BY experiment_id";
    sql += eq.descending ? " DESC" : " ASC";
    sql += " LIMIT ? OFFSET ?";
    Query q(c_, sql);
    q.Text(eq.ws);
    q.Int(eq.limit > 0 ? eq.limit : -1).Int(eq.offset);
    std::vector<Experiment> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(ExperimentOf(q, eq.ws));
    }
    for (auto& e : out) TARN_RETURN_IF_ERROR(LoadExperimentTags(e));
    return out;
  }

  Status PutRun(const RunInfo& r) override {
    Query q(c_,
            "INSERT OR REPLACE INTO runs(run_uuid, ws, experiment_id, run_name, user_id, status, "
            "start_time, end_time, deleted_time, lifecycle_stage, artifact_uri) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    q.Text(r.run_id).Text(r.ws).Int(r.experiment_id).Text(r.run_name).Text(r.user_id);
    q.Text(r.status).Int(r.start_time);
    if (r.end_time) q.Int(*r.end_time); else q.Null();
    if (r.deleted_time) q.Int(*r.deleted_time); else q.Null();
    q.Text(r.lifecycle_stage).Text(r.artifact_uri);
    return q.Run();
  }

  StatusOr<std::optional<RunInfo>> GetRun(const std::string& run_id) override {
    Query q(c_, std::string(kRunColumns) + " FROM runs r WHERE r.run_uuid = ?");
    q.Text(run_id);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<RunInfo>();
    return std::optional<RunInfo>(RunOf(q));
  }

  StatusOr<RunData> GetRunData(const std::string& run_id) override {
    RunData d;
    {
      Query q(c_, "SELECT key, value, timestamp, step, is_nan FROM latest_metrics "
                  "WHERE run_uuid = ? ORDER BY key");
      q.Text(run_id);
      for (;;) {
        TARN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        d.metrics.push_back(MetricOf(q, 0));
      }
    }
    TARN_RETURN_IF_ERROR(Pairs("SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key",
                               run_id, &d.params));
    TARN_RETURN_IF_ERROR(Pairs("SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key",
                               run_id, &d.tags));
    Query q(c_, "SELECT name, digest, context, doc FROM run_inputs WHERE run_uuid = ? "
                "ORDER BY rowid");
    q.Text(run_id);
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.inputs.push_back(RunInput{q.ColText(0), q.ColText(1), q.ColText(2), q.ColText(3)});
    }
    return d;
  }

  StatusOr<std::vector<RunInfo>> SearchRuns(const RunQuery& rq) override {
    TARN_ASSIGN_OR_RETURN(RunFilterSql f, BuildRunFilterSql(rq.filter, rq.order));
    std::string sql = std::string(kRunColumns) + " FROM runs r WHERE r.ws = ? AND r.experiment_id IN (";
    for (size_t i = 0; i < rq.experiment_ids.size(); ++i) sql += i ? ",?" : "?";
    sql += ") AND r.lifecycle_stage IN ";
    sql += Stages(rq.view);
    sql += " AND (" + f.where + ") ORDER BY ";
    if (!f.order_by.empty()) sql += f.order_by + ", ";
    sql += "r.start_time DESC, r.run_uuid LIMIT ? OFFSET ?";
    Query q(c_, sql);
    q.Text(rq.ws);
    for (int64_t id : rq.experiment_ids) q.Int(id);
    for (const auto& v : f.where_binds) BindValue(q, v);
    for (const auto& v : f.order_binds) BindValue(q, v);
    q.Int(rq.limit > 0 ? rq.limit : -1).Int(rq.offset);
    std::vector<RunInfo> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(RunOf(q));
    }
    return out;
  }

  StatusOr<std::optional<std::string>> GetParam(const std::string& run_id,
                                                const std::string& key) override {
    Query q(c_, "SELECT value FROM params WHERE run_uuid = ? AND key = ?");
    q.Text(run_id).Text(key);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.ColText(0));
  }

  Status PutParam(const std::string& run_id, const std::string& key,
                  const std::string& value) override {
    Query q(c_, "INSERT OR REPLACE INTO params(run_uuid, key, value) VALUES(?,?,?)");
    q.Text(run_id).Text(key).Text(value);
    return q.Run();
  }

  Status SetTag(const std::string& run_id, const std::string& key,
                const std::string& value) override {
    Query q(c_, "INSERT OR REPLACE INTO tags(run_uuid, key, value) VALUES(?,?,?)");
    q.Text(run_id).Text(key).Text(value);
    return q.Run();
  }

  StatusOr<bool> DeleteTag(const std::string& run_id, const std::string& key) override {
    Query q(c_, "DELETE FROM tags WHERE run_uuid = ? AND key = ?");
    q.Text(run_id).Text(key);
    TARN_RETURN_IF_ERROR(q.Run());
    return q.changes() > 0;
  }

  Status LogMetrics(const std::string& run_id, const std::vector<Metric>& points) override {
    // The newest point of each key: one latest-value update per key, not per point.
    std::map<std::string_view, const Metric*> newest;
    for (const Metric& m : points) {
      Query q(c_, "INSERT OR IGNORE INTO metrics(run_uuid, key, step, timestamp, is_nan, value) "
                  "VALUES(?,?,?,?,?,?)");
      q.Text(run_id).Text(m.key).Int(m.step).Int(m.timestamp).Int(m.is_nan ? 1 : 0);
      q.Real(m.is_nan ? 0 : m.value);
      TARN_RETURN_IF_ERROR(q.Run());
      auto [it, fresh] = newest.emplace(m.key, &m);
      if (!fresh && Newer(m, *it->second)) it->second = &m;
    }
    for (const auto& [key, m] : newest) {
      // The store's latest value: replaced by a point whose (step, timestamp, value) is not
      // older; NaN below every number.
      Query q(c_,
              "INSERT INTO latest_metrics(run_uuid, key, value, timestamp, step, is_nan) "
              "VALUES(?,?,?,?,?,?) ON CONFLICT(run_uuid, key) DO UPDATE SET value = "
              "excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = "
              "excluded.is_nan WHERE excluded.step > step OR (excluded.step = step AND "
              "(excluded.timestamp > timestamp OR (excluded.timestamp = timestamp AND (is_nan = 1 "
              "OR (excluded.is_nan = 0 AND excluded.value >= value)))))");
      q.Text(run_id).Text(m->key);
      if (m->is_nan) q.Null(); else q.Real(m->value);
      q.Int(m->timestamp).Int(m->step).Int(m->is_nan ? 1 : 0);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  StatusOr<std::vector<Metric>> MetricHistory(const std::string& run_id, const std::string& key,
                                              int64_t limit, int64_t offset) override {
    Query q(c_, "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND "
                "key = ? ORDER BY step, timestamp, is_nan, value LIMIT ? OFFSET ?");
    q.Text(run_id).Text(key).Int(limit > 0 ? limit : -1).Int(offset);
    std::vector<Metric> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(MetricOf(q, 0));
    }
    return out;
  }

  Status AddInput(const std::string& run_id, const RunInput& in) override {
    Query q(c_, "INSERT INTO run_inputs(run_uuid, name, digest, context, doc) VALUES(?,?,?,?,?)");
    q.Text(run_id).Text(in.name).Text(in.digest).Text(in.context).Text(in.doc);
    return q.Run();
  }

  Status PutDoc(const std::string& kind, const std::string& ws, const std::string& key,
                const std::string& doc) override {
    Query q(c_, "INSERT OR REPLACE INTO docs(kind, ws, key, doc) VALUES(?,?,?,?)");
    q.Text(kind).Text(ws).Text(key).Text(doc);
    return q.Run();
  }

  StatusOr<std::optional<std::string>> GetDoc(const std::string& kind, const std::string& ws,
                                              const std::string& key) override {
    Query q(c_, "SELECT doc FROM docs WHERE kind = ? AND ws = ? AND key = ?");
    q.Text(kind).Text(ws).Text(key);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.ColText(0));
  }

  StatusOr<bool> DeleteDoc(const std::string& kind, const std::string& ws,
                           const std::string& key) override {
    Query q(c_, "DELETE FROM docs WHERE kind = ? AND ws = ? AND key = ?");
    q.Text(kind).Text(ws).Text(key);
    TARN_RETURN_IF_ERROR(q.Run());
    return q.changes() > 0;
  }

  StatusOr<std::vector<KeyValue>> ListDocs(const std::string& kind, const std::string& ws,
                                           const std::string& prefix) override {
    Query q(c_, "SELECT key, doc FROM docs WHERE kind = ? AND ws = ? AND "
                "substr(key, 1, length(?)) = ? ORDER BY key");
    q.Text(kind).Text(ws).Text(prefix).Text(prefix);
    std::vector<KeyValue> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.emplace_back(q.ColText(0), q.ColText(1));
    }
    return out;
  }

 private:
  static constexpr char kRunColumns[] =
      "SELECT r.run_uuid, r.ws, r.experiment_id, r.run_name, r.user_id, r.status, r.start_time, "
      "r.end_time, r.deleted_time, r.lifecycle_stage, r.artifact_uri";

  // Whether a is newer than b by (step, timestamp, value), NaN below every number.
  static bool Newer(const Metric& a, const Metric& b) {
    if (a.step != b.step) return a.step > b.step;
    if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
    if (a.is_nan || b.is_nan) return !a.is_nan;
    return a.value >= b.value;
  }

  static Experiment ExperimentOf(const Query& q, const std::string& ws) {
    Experiment e;
    e.ws = ws;
    e.id = q.ColInt(0);
    e.name = q.ColText(1);
    e.artifact_location = q.ColText(2);
    e.lifecycle_stage = q.ColText(3);
    e.creation_time = q.ColInt(4);
    e.last_update_time = q.ColInt(5);
    return e;
  }

  StatusOr<std::optional<Experiment>> OneExperiment(Query& q, const std::string& ws) {
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<Experiment>();
    Experiment e = ExperimentOf(q, ws);
    TARN_RETURN_IF_ERROR(LoadExperimentTags(e));
    return std::optional<Experiment>(std::move(e));
  }

  Status LoadExperimentTags(Experiment& e) {
    Query q(c_, "SELECT key, value FROM experiment_tags WHERE ws = ? AND experiment_id = ? "
                "ORDER BY key");
    q.Text(e.ws).Int(e.id);
    e.tags.clear();
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      e.tags.emplace_back(q.ColText(0), q.ColText(1));
    }
    return Status::Ok();
  }

  static RunInfo RunOf(const Query& q) {
    RunInfo r;
    r.run_id = q.ColText(0);
    r.ws = q.ColText(1);
    r.experiment_id = q.ColInt(2);
    r.run_name = q.ColText(3);
    r.user_id = q.ColText(4);
    r.status = q.ColText(5);
    r.start_time = q.ColInt(6);
    if (!q.ColIsNull(7)) r.end_time = q.ColInt(7);
    if (!q.ColIsNull(8)) r.deleted_time = q.ColInt(8);
    r.lifecycle_stage = q.ColText(9);
    r.artifact_uri = q.ColText(10);
    return r;
  }

  static Metric MetricOf(const Query& q, int col) {
    Metric m;
    m.key = q.ColText(col);
    m.is_nan = q.ColInt(col + 4) != 0;
    m.value = m.is_nan ? std::nan("") : q.ColReal(col + 1);
    m.timestamp = q.ColInt(col + 2);
    m.step = q.ColInt(col + 3);
    return m;
  }

  Status Pairs(const char* sql, const std::string& run_id, std::vector<KeyValue>* out) {
    Query q(c_, sql);
    q.Text(run_id);
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::Ok();
      out->emplace_back(q.ColText(0), q.ColText(1));
    }
  }

  sqlite::Connection& c_;
};

}  // namespace

SqliteTrackingStore::SqliteTrackingStore(std::string path,
                                         std::unique_ptr<sqlite::Connection> writer)
    : path_(std::move(path)),
      writer_(std::move(writer)),
      commits_([this](std::vector<Op*>& batch) { RunBatch(batch); }) {}

SqliteTrackingStore::~SqliteTrackingStore() { commits_.Drain(); }

StatusOr<std::unique_ptr<SqliteTrackingStore>> SqliteTrackingStore::Open(const std::string& path) {
  TARN_ASSIGN_OR_RETURN(auto writer, sqlite::Connection::Open(path, /*read_only=*/false));
  TARN_RETURN_IF_ERROR(writer->ExecScript(kPragmas));
  TARN_RETURN_IF_ERROR(writer->ExecScript(kTrackingSchema));
  std::unique_ptr<SqliteTrackingStore> store(
      new SqliteTrackingStore(path, std::move(writer)));
  for (int i = 0; i < kReaders; ++i) {
    auto r = std::make_unique<Reader>();
    TARN_ASSIGN_OR_RETURN(r->conn, sqlite::Connection::Open(path, /*read_only=*/true));
    store->readers_.push_back(std::move(r));
  }
  return store;
}

void SqliteTrackingStore::RunBatch(std::vector<Op*>& batch) {
  sqlite::Connection& c = *writer_;
  Status begin = c.ExecScript("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    for (Op* op : batch) op->result = begin;
    return;
  }
  Txn txn(c);
  for (Op* op : batch) {
    Status s = c.ExecScript("SAVEPOINT op");
    if (s.ok()) {
      try {
        s = (*op->fn)(txn);
      } catch (const std::exception& e) {
        s = InternalError(std::string("tracking write failed: ") + e.what());
      }
      if (!s.ok()) c.ExecScript("ROLLBACK TO op").IgnoreError();
      Status released = c.ExecScript("RELEASE op");
      if (s.ok()) s = released;
    }
    op->result = s;
  }
  Status commit = c.ExecScript("COMMIT");
  if (!commit.ok()) {
    c.ExecScript("ROLLBACK").IgnoreError();
    for (Op* op : batch) {
      if (op->result.ok()) op->result = commit;
    }
  }
}

Status SqliteTrackingStore::Write(const std::function<Status(TrackingTxn&)>& fn) {
  Op op;
  op.fn = &fn;
  commits_.Submit(&op);
  return op.result;
}

Status SqliteTrackingStore::Read(const std::function<Status(TrackingTxn&)>& fn) {
  // A reader that is free, else the one this thread hashes to.
  for (auto& r : readers_) {
    std::unique_lock<std::mutex> lock(r->mu, std::try_to_lock);
    if (!lock.owns_lock()) continue;
    Txn txn(*r->conn);
    return sqlite::InTransaction(*r->conn, "BEGIN", "tracking", [&] { return fn(txn); });
  }
  Reader& r = *readers_[std::hash<std::thread::id>()(std::this_thread::get_id()) % readers_.size()];
  std::lock_guard<std::mutex> lock(r.mu);
  Txn txn(*r.conn);
  return sqlite::InTransaction(*r.conn, "BEGIN", "tracking", [&] { return fn(txn); });
}

}  // namespace tarn::tracking
