#include "store/meta/sqlite/sqlite_namespace_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/sqlite/sqlite_db.h"

namespace tarn::meta {
namespace sqlite_internal {
namespace {

constexpr size_t kMaxIdleReaders = 16;

using sqlite::Connection;
using sqlite::Exec;
using sqlite::IsUniqueViolation;
using sqlite::Query;
using sqlite::SqliteError;

// ---- Schema -------------------------------------------------------------------------------

constexpr int kSchemaVersion = 3;

// Names with `offset`, `length` or `group` are avoided where they are SQL keywords (`slice_*`,
// `group_name`), so that the same column names read well in every SQL dialect.
constexpr char kSchema[] = R"sql(
CREATE TABLE filesystems(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  root_id INTEGER NOT NULL,
  etag TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  modified_us INTEGER NOT NULL,
  metadata BLOB NOT NULL,
  public_access TEXT NOT NULL,
  lease_state INTEGER NOT NULL,
  lease_id TEXT NOT NULL,
  lease_duration_s INTEGER NOT NULL,
  lease_expires_ms INTEGER NOT NULL,
  lease_break_ms INTEGER NOT NULL,
  UNIQUE(account, name));

-- parent_id is NULL for a filesystem root, so that every root may be named "".
CREATE TABLE nodes(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  fs_id INTEGER NOT NULL,
  parent_id INTEGER,
  name TEXT NOT NULL,
  is_dir INTEGER NOT NULL,
  etag TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  modified_us INTEGER NOT NULL,
  length INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  content_encoding TEXT NOT NULL,
  content_language TEXT NOT NULL,
  content_disposition TEXT NOT NULL,
  cache_control TEXT NOT NULL,
  content_md5 BLOB NOT NULL,
  metadata BLOB NOT NULL,
  owner TEXT NOT NULL,
  group_name TEXT NOT NULL,
  permissions INTEGER NOT NULL,
  acl TEXT NOT NULL,
  default_acl TEXT NOT NULL,
  lease_state INTEGER NOT NULL,
  lease_id TEXT NOT NULL,
  lease_duration_s INTEGER NOT NULL,
  lease_expires_ms INTEGER NOT NULL,
  lease_break_ms INTEGER NOT NULL,
  copy_state BLOB NOT NULL,
  UNIQUE(parent_id, name));
CREATE INDEX nodes_fs ON nodes(fs_id);

-- Extent ids are uint64 stored as the int64 with the same bits.
CREATE TABLE extents(
  id INTEGER PRIMARY KEY,
  length INTEGER NOT NULL,
  md5 BLOB NOT NULL,
  refcount INTEGER NOT NULL DEFAULT 0);
CREATE INDEX extents_garbage ON extents(id) WHERE refcount = 0;

CREATE TABLE file_extents(
  node_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  extent_id INTEGER NOT NULL,
  slice_offset INTEGER NOT NULL,
  slice_length INTEGER NOT NULL,
  block_id TEXT NOT NULL,
  PRIMARY KEY(node_id, seq)) WITHOUT ROWID;
CREATE INDEX file_extents_extent ON file_extents(extent_id);

-- seq is the rowid: it grows, so ordering by it is insertion order.
CREATE TABLE staged(
  seq INTEGER PRIMARY KEY,
  fs_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  block_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  extent_id INTEGER NOT NULL,
  slice_offset INTEGER NOT NULL,
  slice_length INTEGER NOT NULL,
  slice_block_id TEXT NOT NULL);
CREATE INDEX staged_key ON staged(fs_id, path, block_id);
CREATE INDEX staged_extent ON staged(extent_id);

CREATE TABLE pins(
  holder TEXT NOT NULL,
  extent_id INTEGER NOT NULL,
  slice_offset INTEGER NOT NULL,
  slice_length INTEGER NOT NULL);
CREATE INDEX pins_holder ON pins(holder);
CREATE INDEX pins_extent ON pins(extent_id);

-- Reference counts follow every row that names an extent, in the same transaction. Naming an
-- extent without a record aborts the statement, so no reference can go uncounted.
CREATE TRIGGER file_extents_ref AFTER INSERT ON file_extents BEGIN
  UPDATE extents SET refcount = refcount + 1 WHERE id = NEW.extent_id;
  SELECT RAISE(ABORT, 'file extent names an extent without a record') WHERE changes() = 0;
END;
CREATE TRIGGER file_extents_unref AFTER DELETE ON file_extents BEGIN
  UPDATE extents SET refcount = refcount - 1 WHERE id = OLD.extent_id;
END;
CREATE TRIGGER staged_ref AFTER INSERT ON staged BEGIN
  UPDATE extents SET refcount = refcount + 1 WHERE id = NEW.extent_id;
  SELECT RAISE(ABORT, 'staged entry names an extent without a record') WHERE changes() = 0;
END;
CREATE TRIGGER staged_unref AFTER DELETE ON staged BEGIN
  UPDATE extents SET refcount = refcount - 1 WHERE id = OLD.extent_id;
END;
CREATE TRIGGER pins_ref AFTER INSERT ON pins BEGIN
  UPDATE extents SET refcount = refcount + 1 WHERE id = NEW.extent_id;
  SELECT RAISE(ABORT, 'pin names an extent without a record') WHERE changes() = 0;
END;
CREATE TRIGGER pins_unref AFTER DELETE ON pins BEGIN
  UPDATE extents SET refcount = refcount - 1 WHERE id = OLD.extent_id;
END;
)sql";

// Version 2: the bytes of inline extents. A table of their own rather than a column of extents,
// because every refcount change rewrites its extents row and would copy the bytes with it.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE extent_data(
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL);
CREATE TRIGGER extents_forget_data AFTER DELETE ON extents BEGIN
  DELETE FROM extent_data WHERE id = OLD.id;
END;
)sql";

// Version 3: stored access policies of a filesystem, and the access tier of a file.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE filesystems ADD COLUMN signed_identifiers TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN access_tier TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN tier_changed_us INTEGER NOT NULL DEFAULT 0;
CREATE TABLE deleted_paths(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  fs_id INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  is_dir INTEGER NOT NULL,
  deleted_us INTEGER NOT NULL,
  expires_us INTEGER NOT NULL);
CREATE INDEX deleted_paths_by_path ON deleted_paths(fs_id, path, id);
CREATE INDEX deleted_paths_by_expiry ON deleted_paths(expires_us);
)sql";

// ---- Metadata encoding: (varint key length, key, varint value length, value)* ---------------

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetString(std::string_view& in, std::string& out) {
  uint64_t n = 0;
  if (!GetVarint(in, n) || n > in.size()) return false;
  out.assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

std::string EncodeMetadata(const Metadata& m) {
  std::string out;
  for (const auto& [key, value] : m) {
    PutVarint(out, key.size());
    out += key;
    PutVarint(out, value.size());
    out += value;
  }
  return out;
}

StatusOr<Metadata> DecodeMetadata(std::string_view in) {
  Metadata m;
  while (!in.empty()) {
    std::string key, value;
    if (!GetString(in, key) || !GetString(in, value)) {
      return InternalError("corrupt metadata column in the namespace store");
    }
    m.insert_or_assign(std::move(key), std::move(value));
  }
  return m;
}

// ---- Row mapping -------------------------------------------------------------------------

constexpr char kFsColumns[] =
    "id, account, name, root_id, etag, created_us, modified_us, metadata, public_access, "
    "lease_state, lease_id, lease_duration_s, lease_expires_ms, lease_break_ms, "
    "signed_identifiers";

constexpr char kDeletedColumns[] = "id, fs_id, node_id, path, is_dir, deleted_us, expires_us";

constexpr char kNodeColumns[] =
    "id, fs_id, parent_id, name, is_dir, etag, created_us, modified_us, length, "
    "content_type, content_encoding, content_language, content_disposition, cache_control, "
    "content_md5, metadata, owner, group_name, permissions, acl, default_acl, "
    "lease_state, lease_id, lease_duration_s, lease_expires_ms, lease_break_ms, copy_state, "
    "access_tier, tier_changed_us";

Lease ReadLease(const Query& q, int col) {
  Lease l;
  l.state = static_cast<Lease::State>(q.ColInt(col));
  l.id = q.ColText(col + 1);
  l.duration_s = static_cast<int32_t>(q.ColInt(col + 2));
  l.expires_ms = q.ColInt(col + 3);
  l.break_ms = q.ColInt(col + 4);
  return l;
}

void BindLease(Query& q, const Lease& l) {
  q.Int(static_cast<int64_t>(l.state))
      .Text(l.id)
      .Int(l.duration_s)
      .Int(l.expires_ms)
      .Int(l.break_ms);
}

StatusOr<Filesystem> ReadFilesystem(const Query& q) {
  Filesystem fs;
  fs.id = q.ColInt(0);
  fs.account = q.ColText(1);
  fs.name = q.ColText(2);
  fs.root_id = q.ColInt(3);
  fs.etag = q.ColText(4);
  fs.created_us = q.ColInt(5);
  fs.modified_us = q.ColInt(6);
  TARN_ASSIGN_OR_RETURN(fs.metadata, DecodeMetadata(q.ColBlob(7)));
  fs.public_access = q.ColText(8);
  fs.lease = ReadLease(q, 9);
  fs.signed_identifiers = q.ColText(14);
  return fs;
}

StatusOr<Node> ReadNode(const Query& q) {
  Node n;
  n.id = q.ColInt(0);
  n.fs_id = q.ColInt(1);
  n.parent_id = q.ColIsNull(2) ? 0 : q.ColInt(2);
  n.name = q.ColText(3);
  n.is_dir = q.ColInt(4) != 0;
  n.etag = q.ColText(5);
  n.created_us = q.ColInt(6);
  n.modified_us = q.ColInt(7);
  n.length = q.ColInt(8);
  n.headers.content_type = q.ColText(9);
  n.headers.content_encoding = q.ColText(10);
  n.headers.content_language = q.ColText(11);
  n.headers.content_disposition = q.ColText(12);
  n.headers.cache_control = q.ColText(13);
  n.headers.content_md5 = q.ColBlob(14);
  TARN_ASSIGN_OR_RETURN(n.metadata, DecodeMetadata(q.ColBlob(15)));
  n.access.owner = q.ColText(16);
  n.access.group = q.ColText(17);
  n.access.permissions = static_cast<uint32_t>(q.ColInt(18));
  n.access.acl = q.ColText(19);
  n.access.default_acl = q.ColText(20);
  n.lease = ReadLease(q, 21);
  TARN_ASSIGN_OR_RETURN(n.copy, DecodeMetadata(q.ColBlob(26)));
  n.access_tier = q.ColText(27);
  n.tier_changed_us = q.ColInt(28);
  return n;
}

// Binds every node column after (fs_id, parent_id, name), in kNodeColumns order.
void BindNodeBody(Query& q, const Node& n) {
  q.Int(n.is_dir ? 1 : 0)
      .Text(n.etag)
      .Int(n.created_us)
      .Int(n.modified_us)
      .Int(n.length)
      .Text(n.headers.content_type)
      .Text(n.headers.content_encoding)
      .Text(n.headers.content_language)
      .Text(n.headers.content_disposition)
      .Text(n.headers.cache_control)
      .Blob(n.headers.content_md5)
      .Blob(EncodeMetadata(n.metadata))
      .Text(n.access.owner)
      .Text(n.access.group)
      .Int(n.access.permissions)
      .Text(n.access.acl)
      .Text(n.access.default_acl);
  BindLease(q, n.lease);
  q.Blob(EncodeMetadata(n.copy));
  q.Text(n.access_tier).Int(n.tier_changed_us);
}

int64_t ToDb(uint64_t extent_id) { return static_cast<int64_t>(extent_id); }
uint64_t FromDb(int64_t extent_id) { return static_cast<uint64_t>(extent_id); }

// Smallest string greater than every string starting with prefix; nullopt if there is none.
std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// Appends "AND name >= ?|> ? [AND name < ?]" for (prefix, after) and returns the values to bind.
std::vector<std::string> NameRange(const std::string& prefix, const std::string& after,
                                   std::string& sql) {
  std::vector<std::string> binds;
  if (after.empty() || after < prefix) {
    sql += " AND name >= ?";
    binds.push_back(prefix);
  } else {
    sql += " AND name > ?";
    binds.push_back(after);
  }
  if (std::optional<std::string> hi = PrefixSuccessor(prefix)) {
    sql += " AND name < ?";
    binds.push_back(std::move(*hi));
  }
  sql += " ORDER BY name LIMIT ?";
  return binds;
}

// ---- Transactions ------------------------------------------------------------------------

class SqliteTxn final : public WriteTxn {
 public:
  explicit SqliteTxn(Connection& conn) : c_(conn) {}

  StatusOr<std::optional<Filesystem>> GetFilesystem(const std::string& account,
                                                    const std::string& name) override {
    static const std::string kSql =
        std::string("SELECT ") + kFsColumns + " FROM filesystems WHERE account = ? AND name = ?";
    Query q(c_, kSql);
    q.Text(account).Text(name);
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<Filesystem>();
    TARN_ASSIGN_OR_RETURN(Filesystem fs, ReadFilesystem(q));
    return std::optional<Filesystem>(std::move(fs));
  }

  StatusOr<std::vector<Filesystem>> ListFilesystems(const std::string& account,
                                                    const std::string& prefix,
                                                    const std::string& after, int limit) override {
    std::string sql = std::string("SELECT ") + kFsColumns + " FROM filesystems WHERE account = ?";
    std::vector<std::string> range = NameRange(prefix, after, sql);
    Query q(c_, sql);
    q.Text(account);
    for (const std::string& b : range) q.Text(b);
    q.Int(limit);
    std::vector<Filesystem> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      TARN_ASSIGN_OR_RETURN(Filesystem fs, ReadFilesystem(q));
      out.push_back(std::move(fs));
    }
  }

  StatusOr<std::optional<Node>> GetNode(int64_t node_id) override {
    static const std::string kSql =
        std::string("SELECT ") + kNodeColumns + " FROM nodes WHERE id = ?";
    Query q(c_, kSql);
    q.Int(node_id);
    return OneNode(q);
  }

  StatusOr<std::optional<Node>> Lookup(int64_t fs_id, int64_t parent_id,
                                       const std::string& name) override {
    static const std::string kSql = std::string("SELECT ") + kNodeColumns +
                                    " FROM nodes WHERE parent_id = ? AND name = ? AND fs_id = ?";
    Query q(c_, kSql);
    q.Int(parent_id).Text(name).Int(fs_id);
    return OneNode(q);
  }

  StatusOr<std::vector<Node>> ListChildren(int64_t parent_id, const std::string& prefix,
                                           const std::string& after, int limit) override {
    std::string sql = std::string("SELECT ") + kNodeColumns + " FROM nodes WHERE parent_id = ?";
    std::vector<std::string> range = NameRange(prefix, after, sql);
    Query q(c_, sql);
    q.Int(parent_id);
    for (const std::string& b : range) q.Text(b);
    q.Int(limit);
    std::vector<Node> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      TARN_ASSIGN_OR_RETURN(Node n, ReadNode(q));
      out.push_back(std::move(n));
    }
  }

  StatusOr<bool> HasChildren(int64_t parent_id) override {
    Query q(c_, "SELECT 1 FROM nodes WHERE parent_id = ? LIMIT 1");
    q.Int(parent_id);
    return q.Step();
  }

  StatusOr<bool> IsAncestorOrSelf(int64_t ancestor, int64_t node) override {
    if (ancestor == node) return true;
    // UNION (not UNION ALL) ends the walk even if a cycle were ever stored.
    Query q(c_,
            "WITH RECURSIVE up(id) AS ("
            "  SELECT parent_id FROM nodes WHERE id = ?1 AND parent_id IS NOT NULL"
            "  UNION"
            "  SELECT n.parent_id FROM nodes n JOIN up ON n.id = up.id"
            "  WHERE n.parent_id IS NOT NULL)"
            " SELECT 1 FROM up WHERE id = ?2 LIMIT 1");
    q.Int(node).Int(ancestor);
    return q.Step();
  }

  StatusOr<std::vector<ExtentSlice>> GetExtents(int64_t node_id) override {
    Query q(c_,
            "SELECT extent_id, slice_offset, slice_length, block_id FROM file_extents"
            " WHERE node_id = ? ORDER BY seq");
    q.Int(node_id);
    std::vector<ExtentSlice> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(ExtentSlice{FromDb(q.ColInt(0)), q.ColInt(1), q.ColInt(2), q.ColText(3)});
    }
  }

  StatusOr<std::vector<StagedExtent>> ListStaged(int64_t fs_id, const std::string& path) override {
    Query q(c_,
            "SELECT block_id, position, extent_id, slice_offset, slice_length, slice_block_id"
            " FROM staged WHERE fs_id = ? AND path = ? ORDER BY seq");
    q.Int(fs_id).Text(path);
    std::vector<StagedExtent> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      StagedExtent s;
      s.block_id = q.ColText(0);
      s.position = q.ColInt(1);
      s.slice = ExtentSlice{FromDb(q.ColInt(2)), q.ColInt(3), q.ColInt(4), q.ColText(5)};
      out.push_back(std::move(s));
    }
  }

  StatusOr<std::optional<ExtentRecord>> GetExtent(uint64_t extent_id) override {
    Query q(c_, "SELECT length, md5, refcount FROM extents WHERE id = ?");
    q.Int(ToDb(extent_id));
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<ExtentRecord>();
    return std::optional<ExtentRecord>(
        ExtentRecord{extent_id, q.ColInt(0), q.ColBlob(1), q.ColInt(2)});
  }

  StatusOr<std::vector<uint64_t>> ListGarbage(int limit) override {
    Query q(c_, "SELECT id FROM extents WHERE refcount = 0 ORDER BY id LIMIT ?");
    q.Int(limit);
    std::vector<uint64_t> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(FromDb(q.ColInt(0)));
    }
  }

  StatusOr<bool> ExtentKnown(uint64_t extent_id) override {
    Query q(c_, "SELECT 1 FROM extents WHERE id = ?");
    q.Int(ToDb(extent_id));
    return q.Step();
  }

  StatusOr<std::optional<std::string>> GetInlineData(uint64_t extent_id) override {
    Query q(c_, "SELECT data FROM extent_data WHERE id = ?");
    q.Int(ToDb(extent_id));
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.ColBlob(0));
  }

  StatusOr<std::vector<std::string>> ListPinHolders(const std::string& prefix) override {
    Query q(c_,
            "SELECT DISTINCT holder FROM pins WHERE holder >= ? AND substr(holder, 1, ?) = ?"
            " ORDER BY holder");
    q.Text(prefix).Int(static_cast<int64_t>(prefix.size())).Text(prefix);
    std::vector<std::string> out;
    while (true) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(q.ColText(0));
    }
    return out;
  }

  // ---- Writes ----

  StatusOr<Filesystem> CreateFilesystem(Filesystem fs, const Node& root) override {
    {
      Query q(c_,
              "INSERT INTO filesystems(account, name, root_id, etag, created_us, modified_us,"
              " metadata, public_access, lease_state, lease_id, lease_duration_s,"
              " lease_expires_ms, lease_break_ms, signed_identifiers)"
              " VALUES(?,?,0,?,?,?,?,?,?,?,?,?,?,?)");
      q.Text(fs.account).Text(fs.name).Text(fs.etag).Int(fs.created_us).Int(fs.modified_us);
      q.Blob(EncodeMetadata(fs.metadata)).Text(fs.public_access);
      BindLease(q, fs.lease);
      q.Text(fs.signed_identifiers);
      Status s = q.Run();
      if (!s.ok()) {
        if (IsUniqueViolation(q.error_code())) {
          return Error(Reason::kFilesystemAlreadyExists,
                       "filesystem already exists: " + fs.account + "/" + fs.name);
        }
        return s;
      }
      fs.id = q.last_insert_id();
    }
    Node r = root;
    r.fs_id = fs.id;
    r.parent_id = 0;
    r.name.clear();
    r.is_dir = true;
    TARN_ASSIGN_OR_RETURN(Node inserted, InsertNode(std::move(r)));
    fs.root_id = inserted.id;
    Query q(c_, "UPDATE filesystems SET root_id = ? WHERE id = ?");
    q.Int(fs.root_id).Int(fs.id);
    TARN_RETURN_IF_ERROR(q.Run());
    return fs;
  }

  Status UpdateFilesystem(const Filesystem& fs) override {
    Query q(c_,
            "UPDATE filesystems SET account = ?, name = ?, etag = ?, modified_us = ?, metadata = ?,"
            " public_access = ?, lease_state = ?, lease_id = ?, lease_duration_s = ?,"
            " lease_expires_ms = ?, lease_break_ms = ?, signed_identifiers = ? WHERE id = ?");
    q.Text(fs.account).Text(fs.name).Text(fs.etag).Int(fs.modified_us);
    q.Blob(EncodeMetadata(fs.metadata)).Text(fs.public_access);
    BindLease(q, fs.lease);
    q.Text(fs.signed_identifiers).Int(fs.id);
    TARN_RETURN_IF_ERROR(q.Run());
    if (q.changes() == 0) {
      return Error(Reason::kFilesystemNotFound, "no filesystem with id " + std::to_string(fs.id));
    }
    return Status::Ok();
  }

  Status DeleteFilesystem(int64_t fs_id) override {
    {
      Query q(c_, "DELETE FROM filesystems WHERE id = ?");
      q.Int(fs_id);
      TARN_RETURN_IF_ERROR(q.Run());
      if (q.changes() == 0) {
        return Error(Reason::kFilesystemNotFound, "no filesystem with id " + std::to_string(fs_id));
      }
    }
    TARN_RETURN_IF_ERROR(Exec1(
        "DELETE FROM file_extents WHERE node_id IN (SELECT id FROM nodes WHERE fs_id = ?)", fs_id));
    TARN_RETURN_IF_ERROR(Exec1("DELETE FROM nodes WHERE fs_id = ?", fs_id));
    TARN_RETURN_IF_ERROR(Exec1("DELETE FROM deleted_paths WHERE fs_id = ?", fs_id));
    return Exec1("DELETE FROM staged WHERE fs_id = ?", fs_id);
  }

  StatusOr<Node> InsertNode(Node node) override {
    // kNodeColumns without its leading "id, ".
    static const std::string kSql = std::string("INSERT INTO nodes(") + (kNodeColumns + 4) +
                                    ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    Query q(c_, kSql);
    q.Int(node.fs_id);
    if (node.parent_id == 0) {
      q.Null();
    } else {
      q.Int(node.parent_id);
    }
    q.Text(node.name);
    BindNodeBody(q, node);
    Status s = q.Run();
    if (!s.ok()) {
      if (IsUniqueViolation(q.error_code())) {
        return Error(
            Reason::kPathAlreadyExists,
            "name taken under parent " + std::to_string(node.parent_id) + ": " + node.name);
      }
      return s;
    }
    node.id = q.last_insert_id();
    return node;
  }

  Status UpdateNode(const Node& node) override {
    Query q(c_,
            "UPDATE nodes SET is_dir = ?, etag = ?, created_us = ?, modified_us = ?, length = ?,"
            " content_type = ?, content_encoding = ?, content_language = ?,"
            " content_disposition = ?, cache_control = ?, content_md5 = ?, metadata = ?,"
            " owner = ?, group_name = ?, permissions = ?, acl = ?, default_acl = ?,"
            " lease_state = ?, lease_id = ?, lease_duration_s = ?, lease_expires_ms = ?,"
            " lease_break_ms = ?, copy_state = ?, access_tier = ?, tier_changed_us = ?"
            " WHERE id = ?");
    BindNodeBody(q, node);
    q.Int(node.id);
    TARN_RETURN_IF_ERROR(q.Run());
    if (q.changes() == 0) {
      return Error(Reason::kPathNotFound, "no node with id " + std::to_string(node.id));
    }
    return Status::Ok();
  }

  Status MoveNode(int64_t node_id, int64_t new_parent_id, const std::string& new_name,
                  const std::string& etag, int64_t modified_us) override {
    Query q(c_, "UPDATE nodes SET parent_id = ?, name = ?, etag = ?, modified_us = ? WHERE id = ?");
    q.Int(new_parent_id).Text(new_name).Text(etag).Int(modified_us).Int(node_id);
    Status s = q.Run();
    if (!s.ok()) {
      if (IsUniqueViolation(q.error_code())) {
        return Error(Reason::kPathAlreadyExists,
                     "name taken under parent " + std::to_string(new_parent_id) + ": " + new_name);
      }
      return s;
    }
    if (q.changes() == 0) {
      return Error(Reason::kPathNotFound, "no node with id " + std::to_string(node_id));
    }
    return Status::Ok();
  }

  // ---- Soft-deleted paths ----

  StatusOr<std::vector<DeletedPath>> ListDeleted(int64_t fs_id, const std::string& prefix,
                                                 const std::string& after_path, int64_t after_id,
                                                 int limit) override {
    Query q(c_, std::string("SELECT ") + kDeletedColumns +
                    " FROM deleted_paths WHERE fs_id = ?"
                    " AND substr(CAST(path AS BLOB), 1, ?) = CAST(? AS BLOB)"
                    " AND (path > ? OR (path = ? AND id > ?)) ORDER BY path, id LIMIT ?");
    q.Int(fs_id).Int(static_cast<int64_t>(prefix.size())).Text(prefix);
    q.Text(after_path).Text(after_path).Int(after_id).Int(limit);
    return DeletedRows(q);
  }

  StatusOr<std::optional<DeletedPath>> GetDeleted(int64_t fs_id, int64_t id) override {
    Query q(c_, std::string("SELECT ") + kDeletedColumns +
                    " FROM deleted_paths WHERE fs_id = ? AND id = ?");
    q.Int(fs_id).Int(id);
    TARN_ASSIGN_OR_RETURN(auto rows, DeletedRows(q));
    if (rows.empty()) return std::optional<DeletedPath>();
    return std::optional<DeletedPath>(std::move(rows[0]));
  }

  StatusOr<std::optional<DeletedPath>> LatestDeleted(int64_t fs_id,
                                                     const std::string& path) override {
    Query q(c_, std::string("SELECT ") + kDeletedColumns +
                    " FROM deleted_paths WHERE fs_id = ? AND path = ? ORDER BY id DESC LIMIT 1");
    q.Int(fs_id).Text(path);
    TARN_ASSIGN_OR_RETURN(auto rows, DeletedRows(q));
    if (rows.empty()) return std::optional<DeletedPath>();
    return std::optional<DeletedPath>(std::move(rows[0]));
  }

  StatusOr<std::vector<DeletedPath>> ExpiredDeleted(int64_t now_us, int limit) override {
    Query q(c_, std::string("SELECT ") + kDeletedColumns +
                    " FROM deleted_paths WHERE expires_us <= ? ORDER BY expires_us LIMIT ?");
    q.Int(now_us).Int(limit);
    return DeletedRows(q);
  }

  StatusOr<DeletedPath> InsertDeleted(DeletedPath d) override {
    Query q(c_,
            "INSERT INTO deleted_paths(fs_id, node_id, path, is_dir, deleted_us, expires_us)"
            " VALUES(?,?,?,?,?,?)");
    q.Int(d.fs_id).Int(d.node_id).Text(d.path).Int(d.is_dir ? 1 : 0).Int(d.deleted_us);
    q.Int(d.expires_us);
    TARN_RETURN_IF_ERROR(q.Run());
    d.id = q.last_insert_id();
    return d;
  }

  Status RemoveDeleted(int64_t id) override {
    return Exec1("DELETE FROM deleted_paths WHERE id = ?", id);
  }

  StatusOr<int64_t> DeleteSubtree(int64_t node_id) override {
    TARN_RETURN_IF_ERROR(Exec(c_, "DELETE FROM temp.subtree"));
    TARN_RETURN_IF_ERROR(
        Exec1("WITH RECURSIVE t(id) AS ("
              "  SELECT id FROM nodes WHERE id = ?"
              "  UNION"
              "  SELECT n.id FROM nodes n JOIN t ON n.parent_id = t.id)"
              " INSERT INTO temp.subtree(id) SELECT id FROM t",
              node_id));
    TARN_RETURN_IF_ERROR(
        Exec(c_, "DELETE FROM file_extents WHERE node_id IN (SELECT id FROM temp.subtree)"));
    int64_t deleted = 0;
    {
      Query q(c_, "DELETE FROM nodes WHERE id IN (SELECT id FROM temp.subtree)");
      TARN_RETURN_IF_ERROR(q.Run());
      deleted = q.changes();
    }
    TARN_RETURN_IF_ERROR(Exec(c_, "DELETE FROM temp.subtree"));
    return deleted;
  }

  Status SetExtents(int64_t node_id, const std::vector<ExtentSlice>& slices) override {
    TARN_RETURN_IF_ERROR(Exec1("DELETE FROM file_extents WHERE node_id = ?", node_id));
    int64_t seq = 0;
    for (const ExtentSlice& s : slices) {
      Query q(c_,
              "INSERT INTO file_extents(node_id, seq, extent_id, slice_offset, slice_length,"
              " block_id) VALUES(?,?,?,?,?,?)");
      q.Int(node_id).Int(seq++).Int(ToDb(s.extent_id)).Int(s.offset).Int(s.length).Text(s.block_id);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  Status InsertExtent(const ExtentRecord& extent) override {
    Query q(c_, "INSERT INTO extents(id, length, md5, refcount) VALUES(?,?,?,0)");
    q.Int(ToDb(extent.id)).Int(extent.length).Blob(extent.md5);
    Status s = q.Run();
    if (!s.ok() && IsUniqueViolation(q.error_code())) {
      return InternalError("extent " + std::to_string(extent.id) + " is already recorded");
    }
    return s;
  }

  Status InsertInlineExtent(const ExtentRecord& extent, std::string_view data) override {
    if (static_cast<int64_t>(data.size()) != extent.length) {
      return InternalError("inline extent " + std::to_string(extent.id) + " has " +
                           std::to_string(data.size()) + " bytes, its record says " +
                           std::to_string(extent.length));
    }
    TARN_RETURN_IF_ERROR(InsertExtent(extent));
    Query q(c_, "INSERT INTO extent_data(id, data) VALUES(?,?)");
    q.Int(ToDb(extent.id)).Blob(data);
    return q.Run();
  }

  Status PutStaged(int64_t fs_id, const std::string& path, const StagedExtent& s) override {
    if (!s.block_id.empty()) {
      Query q(c_, "DELETE FROM staged WHERE fs_id = ? AND path = ? AND block_id = ?");
      q.Int(fs_id).Text(path).Text(s.block_id);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    Query q(c_,
            "INSERT INTO staged(fs_id, path, block_id, position, extent_id, slice_offset,"
            " slice_length, slice_block_id) VALUES(?,?,?,?,?,?,?,?)");
    q.Int(fs_id).Text(path).Text(s.block_id).Int(s.position).Int(ToDb(s.slice.extent_id));
    q.Int(s.slice.offset).Int(s.slice.length).Text(s.slice.block_id);
    return q.Run();
  }

  Status ClearStaged(int64_t fs_id, const std::string& path) override {
    Query q(c_, "DELETE FROM staged WHERE fs_id = ? AND path = ?");
    q.Int(fs_id).Text(path);
    return q.Run();
  }

  Status ClearStagedUnder(int64_t fs_id, const std::string& path) override {
    if (path.empty()) return Exec1("DELETE FROM staged WHERE fs_id = ?", fs_id);
    TARN_RETURN_IF_ERROR(ClearStaged(fs_id, path));
    // Everything under "p/" sorts in ["p/", "p0"): '0' is the byte after '/'. Two statements,
    // each a range on the (fs_id, path) index.
    Query q(c_, "DELETE FROM staged WHERE fs_id = ? AND path >= ? AND path < ?");
    q.Int(fs_id).Text(path + "/").Text(path + "0");
    return q.Run();
  }

  Status Pin(const std::string& holder, const std::vector<ExtentSlice>& slices) override {
    for (const ExtentSlice& s : slices) {
      Query q(c_,
              "INSERT INTO pins(holder, extent_id, slice_offset, slice_length) VALUES(?,?,?,?)");
      q.Text(holder).Int(ToDb(s.extent_id)).Int(s.offset).Int(s.length);
      TARN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

  Status UnpinAll(const std::string& holder) override {
    Query q(c_, "DELETE FROM pins WHERE holder = ?");
    q.Text(holder);
    return q.Run();
  }

  Status DeleteExtentRecords(const std::vector<uint64_t>& extent_ids) override {
    for (uint64_t id : extent_ids) {
      Query q(c_, "DELETE FROM extents WHERE id = ? AND refcount = 0");
      q.Int(ToDb(id));
      TARN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }

 private:
  StatusOr<std::optional<Node>> OneNode(Query& q) {
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<Node>();
    TARN_ASSIGN_OR_RETURN(Node n, ReadNode(q));
    return std::optional<Node>(std::move(n));
  }

  StatusOr<std::vector<DeletedPath>> DeletedRows(Query& q) {
    std::vector<DeletedPath> out;
    for (;;) {
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      DeletedPath d;
      d.id = q.ColInt(0);
      d.fs_id = q.ColInt(1);
      d.node_id = q.ColInt(2);
      d.path = q.ColText(3);
      d.is_dir = q.ColInt(4) != 0;
      d.deleted_us = q.ColInt(5);
      d.expires_us = q.ColInt(6);
      out.push_back(std::move(d));
    }
  }

  Status Exec1(const char* sql, int64_t arg) {
    Query q(c_, sql);
    q.Int(arg);
    return q.Run();
  }

  Connection& c_;
};

// Runs a caller's fn; an exception escaping it becomes an error instead of ending the thread.
template <typename Txn>
Status RunFn(const std::function<Status(Txn&)>& fn, Txn& txn) {
  try {
    return fn(txn);
  } catch (const std::exception& e) {
    return InternalError(std::string("exception in namespace store transaction: ") + e.what());
  } catch (...) {
    return InternalError("exception in namespace store transaction");
  }
}

Status OpenSchema(Connection& c) {
  TARN_RETURN_IF_ERROR(
      // NORMAL: a commit writes the WAL without syncing it (SyncWal does that, overlapped with
      // the next batch); checkpoints still sync the WAL and the database file.
      c.ExecScript("PRAGMA journal_mode = WAL;"
                   "PRAGMA synchronous = NORMAL;"
                   "PRAGMA foreign_keys = OFF;"
                   "PRAGMA temp_store = MEMORY;"
                   "PRAGMA cache_size = -65536;"));
  {
    Query q(c, "PRAGMA journal_mode");
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.ColText(0) != "wal") {
      return InternalError("sqlite: could not enable WAL mode on the namespace database");
    }
  }
  TARN_RETURN_IF_ERROR(c.ExecScript("BEGIN IMMEDIATE"));
  int64_t version = 0;
  Status s = [&]() -> Status {
    {
      Query q(c, "PRAGMA user_version");
      TARN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) version = q.ColInt(0);
    }
    if (version == 0) {
      TARN_RETURN_IF_ERROR(c.ExecScript(kSchema));
      version = 1;
    }
    if (version == 1) {
      TARN_RETURN_IF_ERROR(c.ExecScript(kSchemaV2));
      version = 2;
    }
    if (version == 2) {
      TARN_RETURN_IF_ERROR(c.ExecScript(kSchemaV3));
      return c.ExecScript("PRAGMA user_version = 3");
    }
    if (version != kSchemaVersion) {
      return InternalError("namespace database has schema version " + std::to_string(version) +
                           ", this build knows " + std::to_string(kSchemaVersion));
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    c.ExecScript("ROLLBACK").IgnoreError();
    return s;
  }
  TARN_RETURN_IF_ERROR(c.ExecScript("COMMIT"));
  return c.ExecScript("CREATE TEMP TABLE IF NOT EXISTS subtree(id INTEGER PRIMARY KEY)");
}

}  // namespace
}  // namespace sqlite_internal

using sqlite_internal::Connection;
using sqlite_internal::Exec;
using sqlite_internal::RunFn;
using sqlite_internal::SqliteTxn;

struct SqliteNamespaceStore::PendingWrite {
  const std::function<Status(WriteTxn&)>* fn;
  Status result;            // written by the batch's leader
  uint64_t commit_seq = 0;  // the batch's commit (committed_seq_), 0 if it did not commit
};

namespace {

Status SyncError(const std::string& what) {
  return InternalError("namespace store: " + what + " failed (" + std::strerror(errno) +
                       "); writes are refused until tarnd restarts");
}

// Opens the WAL (SQLite has created it by now; O_CREAT only guards a race with nothing) and
// makes it and its directory entry durable, with whatever earlier runs left unsynced in it.
StatusOr<int> OpenWalForSync(const std::string& db_path) {
  const std::string wal = db_path + "-wal";
  int fd = ::open(wal.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return SyncError("opening " + wal);
  std::string dir = db_path.substr(0, db_path.find_last_of('/') + 1);
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool ok = dfd >= 0 && ::fsync(dfd) == 0 && ::fdatasync(fd) == 0;
  Status err = ok ? Status::Ok() : SyncError("syncing " + wal);
  if (dfd >= 0) ::close(dfd);
  if (!ok) {
    ::close(fd);
    return err;
  }
  return fd;
}

}  // namespace

StatusOr<std::unique_ptr<SqliteNamespaceStore>> SqliteNamespaceStore::Open(
    const std::string& db_path) {
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                        Connection::Open(db_path, /*read_only=*/false));
  TARN_RETURN_IF_ERROR(sqlite_internal::OpenSchema(*writer));
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpointer,
                        Connection::Open(db_path, /*read_only=*/false));
  // A connection that has not read the database yet does not know it is in WAL mode, and its
  // checkpoints silently do nothing: have it read the header now.
  TARN_RETURN_IF_ERROR(checkpointer->ExecScript("PRAGMA journal_mode = WAL;"));
  // Also makes durable what a killed tarnd committed but had not synced: nothing acts on a
  // state a power cut could still take back.
  TARN_ASSIGN_OR_RETURN(int wal_fd, OpenWalForSync(db_path));
  return std::unique_ptr<SqliteNamespaceStore>(
      new SqliteNamespaceStore(db_path, std::move(writer), std::move(checkpointer), wal_fd));
}

SqliteNamespaceStore::SqliteNamespaceStore(std::string db_path, std::unique_ptr<Connection> writer,
                                           std::unique_ptr<Connection> checkpointer, int wal_fd)
    : db_path_(std::move(db_path)),
      writer_(std::move(writer)),
      wal_fd_(wal_fd),
      committer_([this](std::vector<PendingWrite*>& batch) { RunBatch(batch); },
                 [this](std::vector<PendingWrite*>& batch) { SettleBatch(batch); }),
      checkpointer_(std::move(checkpointer)) {
  // Replaces the writer's automatic checkpoint (itself a WAL hook).
  sqlite3_wal_hook(writer_->db(), &SqliteNamespaceStore::OnWalCommit, this);
  checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
}

SqliteNamespaceStore::~SqliteNamespaceStore() {
  stopping_ = true;
  committer_.Drain();
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_one();
  checkpoint_thread_.join();
  checkpointer_.reset();
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    idle_readers_.clear();
  }
  writer_.reset();  // last: closing the last connection checkpoints the WAL (synced)
  ::close(wal_fd_);
}

int SqliteNamespaceStore::OnWalCommit(void* self, sqlite3* db, const char* /*name*/, int pages) {
  auto* store = static_cast<SqliteNamespaceStore*>(self);
  // The WAL's page count only falls when the WAL starts over; until then a background pass
  // is due each time it has grown by kCheckpointPages, not after every commit past the mark.
  if (pages < store->wal_pages_) store->next_checkpoint_at_ = kCheckpointPages;
  store->wal_pages_ = pages;
  if (pages < store->next_checkpoint_at_) return SQLITE_OK;
  if (pages >= kRestartPages) {
    // The WAL starts over only after a checkpoint has copied all of it, which the background
    // one, racing the leader's commits, rarely manages. Here no commit can race: the leader
    // copies what the background passes left (frames since the last one) and the next write
    // begins the WAL again, as SQLite's automatic checkpoint would, a quarter as often.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  store->next_checkpoint_at_ = std::min(pages + kCheckpointPages, kRestartPages);
  std::lock_guard<std::mutex> lock(store->checkpoint_mu_);
  if (!store->checkpoint_due_) {
    store->checkpoint_due_ = true;
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteNamespaceStore::CheckpointLoop() {
  std::unique_lock<std::mutex> lock(checkpoint_mu_);
  for (;;) {
    checkpoint_cv_.wait(lock, [&] { return checkpoint_due_ || checkpoint_stop_; });
    if (checkpoint_stop_) return;
    checkpoint_due_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs and never waits for the writer or readers.
    // A checkpoint that fails or stops short is retried after a later commit.
    sqlite3_wal_checkpoint_v2(checkpointer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    lock.lock();
  }
}

Status SqliteNamespaceStore::Write(const std::function<Status(WriteTxn&)>& fn) {
  if (stopping_) return InternalError("namespace store is closing");
  TARN_RETURN_IF_ERROR(SyncFailure());
  PendingWrite w{&fn, Status::Ok()};
  committer_.Submit(&w);
  return std::move(w.result);
}

void SqliteNamespaceStore::RunBatch(const std::vector<PendingWrite*>& batch) {
  Connection& c = *writer_;
  // On a store failure every caller not already failed by its own fn gets the store's error.
  auto fail_batch = [&](const Status& cause) {
    if (!sqlite3_get_autocommit(c.db())) Exec(c, "ROLLBACK").IgnoreError();
    Status err = cause.reason() == Reason::kDiskFull
                     ? cause
                     : InternalError("namespace store transaction not committed: " +
                                     cause.message());
    for (PendingWrite* w : batch) {
      if (w->result.ok()) w->result = err;
    }
  };

  if (Status failed = SyncFailure(); !failed.ok()) return fail_batch(failed);
  Status begin = Exec(c, "BEGIN IMMEDIATE");
  if (!begin.ok()) return fail_batch(begin);
  SqliteTxn txn(c);
  for (PendingWrite* w : batch) {
    Status s = Exec(c, "SAVEPOINT write_fn");
    if (!s.ok()) return fail_batch(s);
    Status result = RunFn<WriteTxn>(*w->fn, txn);
    if (sqlite3_get_autocommit(c.db())) {
      // SQLite rolled the whole transaction back (e.g. I/O error, disk full): the work of the
      // earlier fns in the batch is gone as well.
      w->result = result;
      return fail_batch(result.reason() == Reason::kDiskFull
                            ? result
                            : InternalError("transaction rolled back by SQLite"));
    }
    if (result.ok()) {
      s = Exec(c, "RELEASE write_fn");
    } else {
      w->result = std::move(result);
      s = Exec(c, "ROLLBACK TO write_fn");
      if (s.ok()) s = Exec(c, "RELEASE write_fn");
    }
    if (!s.ok()) return fail_batch(s);
  }
  Status commit = Exec(c, "COMMIT");
  if (!commit.ok()) return fail_batch(commit);
  const uint64_t seq = committed_seq_.load(std::memory_order_relaxed) + 1;
  committed_seq_.store(seq, std::memory_order_release);  // only the leader writes it
  for (PendingWrite* w : batch) w->commit_seq = seq;
}

void SqliteNamespaceStore::SettleBatch(const std::vector<PendingWrite*>& batch) {
  const uint64_t seq = batch.empty() ? 0 : batch.front()->commit_seq;
  if (seq == 0) return;  // not committed: every op already has its error
  Status s = SyncWal(seq);
  if (s.ok()) return;
  for (PendingWrite* w : batch) {
    if (w->result.ok()) w->result = s;
  }
}

Status SqliteNamespaceStore::SyncFailure() {
  if (!sync_failed_.load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard<std::mutex> lock(sync_mu_);
  return sync_error_;
}

Status SqliteNamespaceStore::SyncWal(uint64_t seq) {
  std::lock_guard<std::mutex> lock(sync_mu_);
  if (synced_seq_ >= seq) return Status::Ok();  // a sync begun after this commit covered it
  if (!sync_error_.ok()) return sync_error_;
  // Every commit up to here has written its frames: one fdatasync makes them all durable.
  const uint64_t upto = committed_seq_.load(std::memory_order_acquire);
  if (::fdatasync(wal_fd_) != 0) {
    // After a failed fsync the kernel may have dropped the dirty pages: nothing committed since
    // the last good sync can be called durable, nor can anything built on it.
    sync_error_ = SyncError("fdatasync of " + db_path_ + "-wal");
    sync_failed_.store(true, std::memory_order_release);
    return sync_error_;
  }
  synced_seq_ = upto;
  return Status::Ok();
}

StatusOr<std::unique_ptr<Connection>> SqliteNamespaceStore::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                        Connection::Open(db_path_, /*read_only=*/true));
  TARN_RETURN_IF_ERROR(conn->ExecScript("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;"));
  return conn;
}

void SqliteNamespaceStore::ReleaseReader(std::unique_ptr<Connection> conn) {
  if (!sqlite3_get_autocommit(conn->db())) return;  // left inside a transaction: drop it
  std::lock_guard<std::mutex> lock(read_mu_);
  if (idle_readers_.size() < sqlite_internal::kMaxIdleReaders) {
    idle_readers_.push_back(std::move(conn));
  }
}

Status SqliteNamespaceStore::Read(const std::function<Status(ReadTxn&)>& fn) {
  TARN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, AcquireReader());
  TARN_RETURN_IF_ERROR(Exec(*conn, "BEGIN"));
  SqliteTxn txn(*conn);
  Status result = RunFn<ReadTxn>(fn, txn);
  Status end = Exec(*conn, "COMMIT");
  if (!end.ok()) Exec(*conn, "ROLLBACK").IgnoreError();
  ReleaseReader(std::move(conn));
  return result.ok() ? end : result;
}

}  // namespace tarn::meta
