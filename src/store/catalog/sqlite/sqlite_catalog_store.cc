#include "store/catalog/sqlite/sqlite_catalog_store.h"

#include <cctype>
#include <optional>
#include <string>
#include <vector>

namespace tarn::catalog {
namespace {

using sqlite::Query;

constexpr char kSchema[] = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS cat_workspaces(
  name TEXT PRIMARY KEY,
  doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cat_datastores(
  workspace TEXT NOT NULL,
  name_key TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  secret BLOB,
  PRIMARY KEY(workspace, name_key));
CREATE TABLE IF NOT EXISTS cat_versions(
  id TEXT PRIMARY KEY,
  workspace TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  datastores TEXT NOT NULL,
  doc TEXT NOT NULL,
  manifest BLOB,
  UNIQUE(workspace, name, version));
CREATE TABLE IF NOT EXISTS cat_pipelines(
  workspace TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY(workspace, name));
CREATE TABLE IF NOT EXISTS cat_runs(
  id TEXT PRIMARY KEY,
  workspace TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  number INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_us INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cat_runs_by_pipeline ON cat_runs(workspace, pipeline, number);
CREATE INDEX IF NOT EXISTS cat_runs_by_status ON cat_runs(status);
CREATE TABLE IF NOT EXISTS cat_lineage(
  id TEXT PRIMARY KEY,
  workspace TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cat_lineage_by_time ON cat_lineage(workspace, time_us);
CREATE TABLE IF NOT EXISTS cat_lineage_edges(
  event_id TEXT NOT NULL,
  workspace TEXT NOT NULL,
  direction TEXT NOT NULL,
  pos INTEGER NOT NULL,
  key TEXT NOT NULL,
  PRIMARY KEY(event_id, direction, pos));
CREATE INDEX IF NOT EXISTS cat_lineage_edges_by_key
  ON cat_lineage_edges(workspace, key, direction);
)sql";

// The two directions of a lineage edge (cat_lineage_edges.direction).
constexpr char kInput[] = "in";
constexpr char kOutput[] = "out";

std::string Key(const std::string& name) {
  std::string k = name;
  for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return k;
}

// "|a|b|": lets one LIKE find the versions that read a datastore.
std::string JoinDatastores(const std::vector<std::string>& names) {
  std::string out = "|";
  for (const auto& n : names) out += Key(n) + "|";
  return out;
}

std::vector<std::string> SplitDatastores(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start < joined.size()) {
    size_t bar = joined.find('|', start);
    if (bar == std::string::npos) break;
    out.push_back(joined.substr(start, bar - start));
    start = bar + 1;
  }
  return out;
}

constexpr char kVersionColumns[] = "id, workspace, name, version, state, datastores, doc";

VersionRecord ReadVersion(const Query& q) {
  return VersionRecord{q.ColText(0), q.ColText(1), q.ColText(2),
                       q.ColInt(3),  q.ColText(4), SplitDatastores(q.ColText(5)),
                       q.ColText(6)};
}

constexpr char kRunColumns[] = "id, workspace, pipeline, number, status, started_us, doc";

PipelineRunRecord ReadRun(const Query& q) {
  return PipelineRunRecord{q.ColText(0), q.ColText(1), q.ColText(2), q.ColInt(3),
                           q.ColText(4), q.ColInt(5),  q.ColText(6)};
}

PipelineRecord ReadPipeline(const Query& q) {
  return PipelineRecord{q.ColText(0), q.ColText(1), q.ColText(2)};
}

constexpr char kLineageColumns[] = "id, workspace, time_us, doc";

// Without its keys, which ReadLineage's caller fills in from cat_lineage_edges.
LineageRecord ReadLineage(const Query& q) {
  return LineageRecord{q.ColText(0), q.ColText(1), q.ColInt(2), {}, {}, q.ColText(3)};
}

// SQLite reads a negative LIMIT as no limit.
int64_t SqlLimit(int64_t limit) { return limit > 0 ? limit : -1; }

template <typename T, typename ReadRow>
StatusOr<std::vector<T>> AllRows(Query& q, ReadRow read) {
  std::vector<T> out;
  while (true) {
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(read(q));
  }
}

class SqliteCatalogTxn final : public CatalogTxn {
 public:
  explicit SqliteCatalogTxn(sqlite::Connection& c) : c_(c) {}

  StatusOr<std::optional<WorkspaceRecord>> GetWorkspace(const std::string& name) override {
    Query q(c_, "SELECT name, doc FROM cat_workspaces WHERE name = ?");
    q.Text(name);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<WorkspaceRecord>();
    return std::optional<WorkspaceRecord>(WorkspaceRecord{q.ColText(0), q.ColText(1)});
  }

  StatusOr<std::vector<WorkspaceRecord>> ListWorkspaces() override {
    Query q(c_, "SELECT name, doc FROM cat_workspaces ORDER BY name");
    std::vector<WorkspaceRecord> out;
    while (true) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(WorkspaceRecord{q.ColText(0), q.ColText(1)});
    }
  }

  Status PutWorkspace(const WorkspaceRecord& w) override {
    Query q(c_, "INSERT OR REPLACE INTO cat_workspaces(name, doc) VALUES(?, ?)");
    q.Text(w.name).Text(w.doc);
    return q.Run();
  }

  Status DeleteWorkspace(const std::string& name) override {
    for (const char* sql : {"DELETE FROM cat_lineage_edges WHERE workspace = ?",
                            "DELETE FROM cat_lineage WHERE workspace = ?",
                            "DELETE FROM cat_runs WHERE workspace = ?",
                            "DELETE FROM cat_pipelines WHERE workspace = ?",
                            "DELETE FROM cat_versions WHERE workspace = ?",
                            "DELETE FROM cat_datastores WHERE workspace = ?",
                            "DELETE FROM cat_workspaces WHERE name = ?"}) {
      Query q(c_, sql);
      q.Text(name);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  StatusOr<std::optional<DatastoreRecord>> GetDatastore(const std::string& ws,
                                                        const std::string& name) override {
    Query q(c_,
            "SELECT workspace, name, doc, secret FROM cat_datastores"
            " WHERE workspace = ? AND name_key = ?");
    q.Text(ws).Text(Key(name));
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<DatastoreRecord>();
    return std::optional<DatastoreRecord>(
        DatastoreRecord{q.ColText(0), q.ColText(1), q.ColText(2), q.ColBlob(3)});
  }

  StatusOr<std::vector<DatastoreRecord>> ListDatastores(const std::string& ws) override {
    Query q(c_,
            "SELECT workspace, name, doc, secret FROM cat_datastores WHERE workspace = ?"
            " ORDER BY name_key");
    q.Text(ws);
    std::vector<DatastoreRecord> out;
    while (true) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(DatastoreRecord{q.ColText(0), q.ColText(1), q.ColText(2), q.ColBlob(3)});
    }
  }

  Status PutDatastore(const DatastoreRecord& d) override {
    Query q(c_,
            "INSERT OR REPLACE INTO cat_datastores(workspace, name_key, name, doc, secret)"
            " VALUES(?, ?, ?, ?, ?)");
    q.Text(d.workspace).Text(Key(d.name)).Text(d.name).Text(d.doc).Blob(d.sealed_secret);
    return q.Run();
  }

  Status DeleteDatastore(const std::string& ws, const std::string& name) override {
    Query q(c_, "DELETE FROM cat_datastores WHERE workspace = ? AND name_key = ?");
    q.Text(ws).Text(Key(name));
    return q.Run();
  }

  StatusOr<int64_t> CountActiveVersionsUsing(const std::string& ws,
                                             const std::string& datastore) override {
    Query q(c_,
            "SELECT COUNT(*) FROM cat_versions WHERE workspace = ? AND state = 'active'"
            " AND instr(datastores, ?) > 0");
    q.Text(ws).Text("|" + Key(datastore) + "|");
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
  }

  StatusOr<std::optional<VersionRecord>> GetVersion(const std::string& ws, const std::string& name,
                                                    int64_t version) override {
    Query q(c_, std::string("SELECT ") + kVersionColumns +
                    " FROM cat_versions WHERE workspace = ? AND name = ? AND version = ?");
    q.Text(ws).Text(name).Int(version);
    return One(q);
  }

  StatusOr<std::optional<VersionRecord>> LatestVersion(const std::string& ws,
                                                       const std::string& name,
                                                       bool active_only) override {
    Query q(c_, std::string("SELECT ") + kVersionColumns +
                    " FROM cat_versions WHERE workspace = ? AND name = ?"
                    " AND (? = 0 OR state = 'active') ORDER BY version DESC LIMIT 1");
    q.Text(ws).Text(name).Int(active_only ? 1 : 0);
    return One(q);
  }

  StatusOr<std::optional<VersionRecord>> GetVersionById(const std::string& ws,
                                                        const std::string& id) override {
    Query q(c_, std::string("SELECT ") + kVersionColumns +
                    " FROM cat_versions WHERE workspace = ? AND id = ?");
    q.Text(ws).Text(id);
    return One(q);
  }

  StatusOr<std::vector<VersionRecord>> ListVersions(const std::string& ws,
                                                    const std::string& name) override {
    Query q(c_, std::string("SELECT ") + kVersionColumns +
                    " FROM cat_versions WHERE workspace = ? AND name = ? ORDER BY version");
    q.Text(ws).Text(name);
    return All(q);
  }

  StatusOr<std::vector<VersionRecord>> ListDatasets(const std::string& ws,
                                                    bool include_archived) override {
    Query q(c_, std::string("SELECT ") + kVersionColumns +
                    " FROM cat_versions v WHERE workspace = ?1 AND (?2 OR state = 'active')"
                    " AND version = (SELECT MAX(version) FROM cat_versions w"
                    "   WHERE w.workspace = v.workspace AND w.name = v.name"
                    "   AND (?2 OR w.state = 'active'))"
                    " ORDER BY name");
    q.Text(ws).Int(include_archived ? 1 : 0);
    return All(q);
  }

  StatusOr<int64_t> MaxVersion(const std::string& ws, const std::string& name) override {
    Query q(c_,
            "SELECT COALESCE(MAX(version), 0) FROM cat_versions WHERE workspace = ? AND name = ?");
    q.Text(ws).Text(name);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
  }

  StatusOr<std::vector<std::string>> ListVersionIds() override {
    Query q(c_, "SELECT id FROM cat_versions ORDER BY id");
    std::vector<std::string> out;
    while (true) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(q.ColText(0));
    }
  }

  Status PutVersion(const VersionRecord& v, const std::string* manifest) override {
    {
      Query q(c_,
              "SELECT id FROM cat_versions WHERE workspace = ? AND name = ? AND version = ?"
              " AND id != ?");
      q.Text(v.workspace).Text(v.name).Int(v.version).Text(v.id);
      TARN_ASSIGN_OR_RETURN(bool taken, q.Step());
      if (taken) {
        return Error(
            Reason::kDatasetAlreadyExists,
            "dataset " + v.name + " version " + std::to_string(v.version) + " already exists");
      }
    }
    Query q(c_,
            "INSERT INTO cat_versions(id, workspace, name, version, state, datastores, doc,"
            " manifest) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            " ON CONFLICT(id) DO UPDATE SET workspace = ?2, name = ?3, version = ?4, state = ?5,"
            " datastores = ?6, doc = ?7, manifest = COALESCE(?8, manifest)");
    q.Text(v.id).Text(v.workspace).Text(v.name).Int(v.version).Text(v.state);
    q.Text(JoinDatastores(v.datastores)).Text(v.doc);
    if (manifest) {
      q.Blob(*manifest);
    } else {
      q.Null();
    }
    return q.Run();
  }

  StatusOr<std::string> GetManifest(const std::string& id) override {
    Query q(c_, "SELECT manifest FROM cat_versions WHERE id = ?");
    q.Text(id);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Error(Reason::kDatasetNotFound, "no dataset version " + id);
    return q.ColBlob(0);
  }

  Status DeleteVersion(const std::string& id) override {
    Query q(c_, "DELETE FROM cat_versions WHERE id = ?");
    q.Text(id);
    return q.Run();
  }

  StatusOr<std::optional<PipelineRecord>> GetPipeline(const std::string& ws,
                                                      const std::string& name) override {
    Query q(c_, "SELECT workspace, name, doc FROM cat_pipelines WHERE workspace = ? AND name = ?");
    q.Text(ws).Text(name);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<PipelineRecord>();
    return std::optional<PipelineRecord>(ReadPipeline(q));
  }

  StatusOr<std::vector<PipelineRecord>> ListPipelines(const std::string& ws) override {
    Query q(c_, "SELECT workspace, name, doc FROM cat_pipelines WHERE workspace = ? ORDER BY name");
    q.Text(ws);
    return AllRows<PipelineRecord>(q, ReadPipeline);
  }

  StatusOr<std::vector<PipelineRecord>> ListAllPipelines() override {
    Query q(c_, "SELECT workspace, name, doc FROM cat_pipelines ORDER BY workspace, name");
    return AllRows<PipelineRecord>(q, ReadPipeline);
  }

  Status PutPipeline(const PipelineRecord& p) override {
    Query q(c_, "INSERT OR REPLACE INTO cat_pipelines(workspace, name, doc) VALUES(?, ?, ?)");
    q.Text(p.workspace).Text(p.name).Text(p.doc);
    return q.Run();
  }

  Status DeletePipeline(const std::string& ws, const std::string& name) override {
    for (const char* sql : {"DELETE FROM cat_runs WHERE workspace = ? AND pipeline = ?",
                            "DELETE FROM cat_pipelines WHERE workspace = ? AND name = ?"}) {
      Query q(c_, sql);
      q.Text(ws).Text(name);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  Status PutRun(const PipelineRunRecord& r) override {
    Query q(c_,
            "INSERT OR REPLACE INTO cat_runs(id, workspace, pipeline, number, status, started_us,"
            " doc) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.Text(r.id).Text(r.workspace).Text(r.pipeline).Int(r.number).Text(r.status);
    q.Int(r.started_us).Text(r.doc);
    return q.Run();
  }

  StatusOr<std::optional<PipelineRunRecord>> GetRun(const std::string& ws,
                                                    const std::string& id) override {
    Query q(c_, std::string("SELECT ") + kRunColumns +
                    " FROM cat_runs WHERE workspace = ? AND id = ?");
    q.Text(ws).Text(id);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<PipelineRunRecord>();
    return std::optional<PipelineRunRecord>(ReadRun(q));
  }

  StatusOr<std::vector<PipelineRunRecord>> ListRuns(const std::string& ws,
                                                    const std::string& pipeline,
                                                    int64_t limit) override {
    Query q(c_, std::string("SELECT ") + kRunColumns +
                    " FROM cat_runs WHERE workspace = ? AND pipeline = ?"
                    " ORDER BY number DESC, id DESC LIMIT ?");
    q.Text(ws).Text(pipeline).Int(SqlLimit(limit));
    return AllRows<PipelineRunRecord>(q, ReadRun);
  }

  StatusOr<std::vector<PipelineRunRecord>> ListRunsWithStatus(const std::string& status) override {
    Query q(c_, std::string("SELECT ") + kRunColumns +
                    " FROM cat_runs WHERE status = ? ORDER BY workspace, pipeline, number, id");
    q.Text(status);
    return AllRows<PipelineRunRecord>(q, ReadRun);
  }

  StatusOr<int64_t> MaxRunNumber(const std::string& ws, const std::string& pipeline) override {
    Query q(c_,
            "SELECT COALESCE(MAX(number), 0) FROM cat_runs WHERE workspace = ? AND pipeline = ?");
    q.Text(ws).Text(pipeline);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
  }

  Status PutLineage(const LineageRecord& e) override {
    {
      Query q(c_, "DELETE FROM cat_lineage_edges WHERE event_id = ?");
      q.Text(e.id);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    {
      Query q(c_,
              "INSERT OR REPLACE INTO cat_lineage(id, workspace, time_us, doc) VALUES(?, ?, ?, ?)");
      q.Text(e.id).Text(e.workspace).Int(e.time_us).Text(e.doc);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    auto put_edges = [&](const char* direction, const std::vector<std::string>& keys) -> Status {
      for (size_t i = 0; i < keys.size(); ++i) {
        Query q(c_,
                "INSERT INTO cat_lineage_edges(event_id, workspace, direction, pos, key)"
                " VALUES(?, ?, ?, ?, ?)");
        q.Text(e.id).Text(e.workspace).Text(direction).Int(static_cast<int64_t>(i)).Text(keys[i]);
        TARN_RETURN_IF_ERROR(q.Run());
      }
      return Status::Ok();
    };
    TARN_RETURN_IF_ERROR(put_edges(kInput, e.inputs));
    return put_edges(kOutput, e.outputs);
  }

  StatusOr<std::vector<LineageRecord>> LineageWithOutput(const std::string& ws,
                                                         const std::string& key) override {
    return LineageWithKey(ws, key, kOutput);
  }

  StatusOr<std::vector<LineageRecord>> LineageWithInput(const std::string& ws,
                                                        const std::string& key) override {
    return LineageWithKey(ws, key, kInput);
  }

  StatusOr<std::vector<LineageRecord>> ListLineage(const std::string& ws, int64_t limit) override {
    Query q(c_, std::string("SELECT ") + kLineageColumns +
                    " FROM cat_lineage WHERE workspace = ? ORDER BY time_us DESC, id DESC LIMIT ?");
    q.Text(ws).Int(SqlLimit(limit));
    TARN_ASSIGN_OR_RETURN(auto events, AllRows<LineageRecord>(q, ReadLineage));
    TARN_RETURN_IF_ERROR(FillLineageKeys(events));
    return events;
  }

 private:
  static StatusOr<std::optional<VersionRecord>> One(Query& q) {
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<VersionRecord>();
    return std::optional<VersionRecord>(ReadVersion(q));
  }
  static StatusOr<std::vector<VersionRecord>> All(Query& q) {
    return AllRows<VersionRecord>(q, ReadVersion);
  }

  StatusOr<std::vector<LineageRecord>> LineageWithKey(const std::string& ws,
                                                      const std::string& key,
                                                      const char* direction) {
    // IN, not a join: an event that lists the key twice is still returned once.
    Query q(c_, std::string("SELECT ") + kLineageColumns +
                    " FROM cat_lineage WHERE id IN (SELECT event_id FROM cat_lineage_edges"
                    "   WHERE workspace = ? AND key = ? AND direction = ?)"
                    " ORDER BY time_us, id");
    q.Text(ws).Text(key).Text(direction);
    TARN_ASSIGN_OR_RETURN(auto events, AllRows<LineageRecord>(q, ReadLineage));
    TARN_RETURN_IF_ERROR(FillLineageKeys(events));
    return events;
  }

  Status FillLineageKeys(std::vector<LineageRecord>& events) {
    for (LineageRecord& e : events) {
      Query q(c_,
              "SELECT direction, key FROM cat_lineage_edges WHERE event_id = ?"
              " ORDER BY direction, pos");
      q.Text(e.id);
      while (true) {
        TARN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        (q.ColText(0) == kOutput ? e.outputs : e.inputs).push_back(q.ColText(1));
      }
    }
    return Status::Ok();
  }

  sqlite::Connection& c_;
};

}  // namespace

StatusOr<std::unique_ptr<SqliteCatalogStore>> SqliteCatalogStore::Open(const std::string& path) {
  TARN_ASSIGN_OR_RETURN(auto conn, sqlite::Connection::Open(path, false));
  TARN_RETURN_IF_ERROR(conn->ExecScript(kSchema));
  return std::unique_ptr<SqliteCatalogStore>(new SqliteCatalogStore(std::move(conn)));
}

Status SqliteCatalogStore::Run(const char* begin, const std::function<Status(CatalogTxn&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteCatalogTxn txn(*conn_);
  return sqlite::InTransaction(*conn_, begin, "catalog", [&] { return fn(txn); });
}

Status SqliteCatalogStore::Write(const std::function<Status(CatalogTxn&)>& fn) {
  return Run("BEGIN IMMEDIATE", fn);
}

Status SqliteCatalogStore::Read(const std::function<Status(CatalogTxn&)>& fn) {
  return Run("BEGIN", fn);
}

}  // namespace tarn::catalog
