#include "store/identity/sqlite/sqlite_identity_store.h"

namespace tarn::identity {
namespace {

using sqlite::Query;

constexpr char kSchema[] = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS id_records(
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  parent TEXT NOT NULL,
  lookup TEXT,
  doc TEXT NOT NULL,
  PRIMARY KEY(kind, id));
CREATE INDEX IF NOT EXISTS id_records_parent ON id_records(kind, parent);
CREATE UNIQUE INDEX IF NOT EXISTS id_records_lookup ON id_records(kind, lookup);
)sql";

IdentityRecord Read(const Query& q) {
  return IdentityRecord{q.ColText(0), q.ColText(1), q.ColText(2), q.ColText(3), q.ColText(4)};
}

class SqliteIdentityTxn final : public IdentityTxn {
 public:
  explicit SqliteIdentityTxn(sqlite::Connection& c) : c_(c) {}

  StatusOr<std::optional<IdentityRecord>> Get(const std::string& kind,
                                              const std::string& id) override {
    Query q(c_, "SELECT kind, id, parent, lookup, doc FROM id_records WHERE kind = ? AND id = ?");
    q.Text(kind).Text(id);
    return One(q);
  }

  StatusOr<std::optional<IdentityRecord>> FindByLookup(const std::string& kind,
                                                       const std::string& lookup) override {
    Query q(c_,
            "SELECT kind, id, parent, lookup, doc FROM id_records WHERE kind = ? AND lookup = ?");
    q.Text(kind).Text(lookup);
    return One(q);
  }

  StatusOr<std::vector<IdentityRecord>> List(const std::string& kind,
                                             const std::string& parent) override {
    Query q(c_,
            "SELECT kind, id, parent, lookup, doc FROM id_records WHERE kind = ?1"
            " AND (?2 = '' OR parent = ?2) ORDER BY id");
    q.Text(kind).Text(parent);
    std::vector<IdentityRecord> out;
    while (true) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(Read(q));
    }
  }

  Status Put(const IdentityRecord& r) override {
    Query q(c_,
            "INSERT OR REPLACE INTO id_records(kind, id, parent, lookup, doc)"
            " VALUES(?, ?, ?, ?, ?)");
    q.Text(r.kind).Text(r.id).Text(r.parent);
    if (r.lookup.empty()) {
      q.Null();
    } else {
      q.Text(r.lookup);
    }
    q.Text(r.doc);
    Status s = q.Run();
    if (!s.ok() && sqlite::IsUniqueViolation(q.error_code())) {
      return Error(Reason::kObjectAlreadyExists, r.kind + " '" + r.lookup + "' already exists");
    }
    return s;
  }

  Status Delete(const std::string& kind, const std::string& id) override {
    Query q(c_, "DELETE FROM id_records WHERE kind = ? AND id = ?");
    q.Text(kind).Text(id);
    return q.Run();
  }

 private:
  static StatusOr<std::optional<IdentityRecord>> One(Query& q) {
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<IdentityRecord>();
    return std::optional<IdentityRecord>(Read(q));
  }
  sqlite::Connection& c_;
};

}  // namespace

StatusOr<std::unique_ptr<SqliteIdentityStore>> SqliteIdentityStore::Open(const std::string& path) {
  TARN_ASSIGN_OR_RETURN(auto conn, sqlite::Connection::Open(path, false));
  TARN_RETURN_IF_ERROR(conn->ExecScript(kSchema));
  return std::unique_ptr<SqliteIdentityStore>(new SqliteIdentityStore(std::move(conn)));
}

Status SqliteIdentityStore::Run(const char* begin, const std::function<Status(IdentityTxn&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteIdentityTxn txn(*conn_);
  return sqlite::InTransaction(*conn_, begin, "identity", [&] { return fn(txn); });
}

Status SqliteIdentityStore::Write(const std::function<Status(IdentityTxn&)>& fn) {
  return Run("BEGIN IMMEDIATE", fn);
}

Status SqliteIdentityStore::Read(const std::function<Status(IdentityTxn&)>& fn) {
  return Run("BEGIN", fn);
}

}  // namespace tarn::identity
