#include "store/meta/namespace_store_contract_test.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "store/meta/sqlite/sqlite_namespace_store.h"

namespace tarn::meta {
namespace {

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::tarn::Status assert_ok_status_ = (expr);                     \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const ::tarn::Status expect_ok_status_ = (expr);                     \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_.ToString(); \
  } while (0)

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Extent ids use the full uint64 range: the high bit must survive storage.
constexpr uint64_t kExtentBase = 0xF000'0000'0000'0000ull;

Filesystem MakeFs(const std::string& account, const std::string& name) {
  Filesystem fs;
  fs.account = account;
  fs.name = name;
  fs.etag = "\"0x1\"";
  fs.created_us = 1'000'000;
  fs.modified_us = 2'000'000;
  return fs;
}

Node MakeNode(int64_t fs_id, int64_t parent_id, const std::string& name, bool is_dir) {
  Node n;
  n.fs_id = fs_id;
  n.parent_id = parent_id;
  n.name = name;
  n.is_dir = is_dir;
  n.etag = "\"0x" + name + "\"";
  n.created_us = 10;
  n.modified_us = 20;
  return n;
}

Node RootNode() {
  Node root;
  root.is_dir = true;
  root.etag = "\"root\"";
  root.access.owner = "root-owner";
  root.access.group = "root-group";
  root.access.permissions = 01770;
  root.access.acl = "user::rwx,group::rwx,other::---";
  root.access.default_acl = "default:user::rwx";
  return root;
}

void ExpectSameNode(const Node& a, const Node& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.fs_id, b.fs_id);
  EXPECT_EQ(a.parent_id, b.parent_id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.is_dir, b.is_dir);
  EXPECT_EQ(a.etag, b.etag);
  EXPECT_EQ(a.created_us, b.created_us);
  EXPECT_EQ(a.modified_us, b.modified_us);
  EXPECT_EQ(a.length, b.length);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.access, b.access);
  EXPECT_EQ(a.lease, b.lease);
  EXPECT_EQ(a.copy, b.copy);
}

std::vector<std::string> Names(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const Node& n : nodes) out.push_back(n.name);
  return out;
}

std::vector<std::string> Names(const std::vector<Filesystem>& fss) {
  std::vector<std::string> out;
  for (const Filesystem& f : fss) out.push_back(f.name);
  return out;
}

ExtentRecord MakeExtent(uint64_t id) {
  return ExtentRecord{id, 4096,
                      std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"
                                  "\x0c\x0d\x0e\xff",
                                  16),
                      0};
}

ExtentSlice Slice(uint64_t id, int64_t offset = 0, int64_t length = 100, std::string block = "") {
  return ExtentSlice{id, offset, length, std::move(block)};
}

}  // namespace

void NamespaceStoreContractTest::SetUp() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tarn-meta-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  location_ = tmpl;
  Reopen();
}

void NamespaceStoreContractTest::TearDown() {
  store_.reset();
  std::error_code ec;
  if (!location_.empty()) std::filesystem::remove_all(location_, ec);
}

void NamespaceStoreContractTest::Reopen() {
  store_.reset();
  StatusOr<std::unique_ptr<NamespaceStore>> opened = GetParam().open(location_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
}

namespace {

// Helpers that run one read and hand back its value (a failed read fails the test).
template <typename T>
T ReadValue(NamespaceStore& store, const std::function<StatusOr<T>(ReadTxn&)>& f) {
  std::optional<T> out;
  Status s = store.Read([&](ReadTxn& t) -> Status {
    StatusOr<T> v = f(t);
    if (!v.ok()) return v.status();
    out = std::move(v).value();
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out ? std::move(*out) : T{};
}

std::optional<Node> GetNode(NamespaceStore& store, int64_t id) {
  return ReadValue<std::optional<Node>>(store, [&](ReadTxn& t) { return t.GetNode(id); });
}

std::optional<Node> Lookup(NamespaceStore& store, int64_t fs, int64_t parent,
                           const std::string& name) {
  return ReadValue<std::optional<Node>>(store,
                                        [&](ReadTxn& t) { return t.Lookup(fs, parent, name); });
}

std::vector<Node> Children(NamespaceStore& store, int64_t parent, const std::string& prefix = "",
                           const std::string& after = "", int limit = 100000) {
  return ReadValue<std::vector<Node>>(
      store, [&](ReadTxn& t) { return t.ListChildren(parent, prefix, after, limit); });
}

// The refcount of an extent, or -1 when it has no record.
int64_t Refcount(NamespaceStore& store, uint64_t extent) {
  std::optional<ExtentRecord> r = ReadValue<std::optional<ExtentRecord>>(
      store, [&](ReadTxn& t) { return t.GetExtent(extent); });
  return r ? r->refcount : -1;
}

std::vector<uint64_t> Garbage(NamespaceStore& store, int limit = 1'000'000) {
  std::vector<uint64_t> g =
      ReadValue<std::vector<uint64_t>>(store, [&](ReadTxn& t) { return t.ListGarbage(limit); });
  std::sort(g.begin(), g.end());
  return g;
}

bool IsAncestorOrSelf(NamespaceStore& store, int64_t ancestor, int64_t node) {
  return ReadValue<bool>(store, [&](ReadTxn& t) { return t.IsAncestorOrSelf(ancestor, node); });
}

StatusOr<Filesystem> CreateFs(NamespaceStore& store, const std::string& account,
                              const std::string& name) {
  std::optional<Filesystem> out;
  Status s = store.Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, t.CreateFilesystem(MakeFs(account, name), RootNode()));
    out = fs;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return *out;
}

StatusOr<Node> Insert(NamespaceStore& store, const Node& n) {
  std::optional<Node> out;
  Status s = store.Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Node inserted, t.InsertNode(n));
    out = inserted;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return *out;
}

Status InsertExtents(NamespaceStore& store, std::initializer_list<uint64_t> ids) {
  return store.Write([&](WriteTxn& t) -> Status {
    for (uint64_t id : ids) TARN_RETURN_IF_ERROR(t.InsertExtent(MakeExtent(id)));
    return Status::Ok();
  });
}

// ---- Filesystems ------------------------------------------------------------------------

TEST_P(NamespaceStoreContractTest, CreateAndGetFilesystemWithRoot) {
  Filesystem in = MakeFs("acct", "data");
  in.metadata = {{"Owner", "team-a"}, {"empty", ""}};
  in.public_access = "blob";
  in.lease.state = Lease::State::kLeased;
  in.lease.id = "lease-1";
  in.lease.duration_s = 30;
  in.lease.expires_ms = 12345;
  std::optional<Filesystem> created;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, t.CreateFilesystem(in, RootNode()));
    created = fs;
    return Status::Ok();
  }));
  ASSERT_TRUE(created);
  EXPECT_NE(created->id, 0);
  EXPECT_NE(created->root_id, 0);

  std::optional<Filesystem> got = ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("acct", "data"); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->root_id, created->root_id);
  EXPECT_EQ(got->account, "acct");
  EXPECT_EQ(got->name, "data");
  EXPECT_EQ(got->etag, in.etag);
  EXPECT_EQ(got->created_us, in.created_us);
  EXPECT_EQ(got->modified_us, in.modified_us);
  EXPECT_EQ(got->metadata, in.metadata);
  EXPECT_EQ(got->public_access, "blob");
  EXPECT_EQ(got->lease, in.lease);

  std::optional<Node> root = GetNode(store(), created->root_id);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_dir);
  EXPECT_EQ(root->fs_id, created->id);
  EXPECT_EQ(root->parent_id, 0);
  EXPECT_EQ(root->name, "");
  EXPECT_EQ(root->access, RootNode().access);
  EXPECT_EQ(root->etag, RootNode().etag);

  EXPECT_FALSE(ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("other", "data"); }));
  EXPECT_FALSE(ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("acct", "missing"); }));
}

TEST_P(NamespaceStoreContractTest, FilesystemNamesAreUniquePerAccount) {
  ASSERT_TRUE(CreateFs(store(), "acct", "data").ok());
  StatusOr<Filesystem> dup = CreateFs(store(), "acct", "data");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().reason(), Reason::kFilesystemAlreadyExists);
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);

  StatusOr<Filesystem> other = CreateFs(store(), "acct2", "data");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  StatusOr<Filesystem> second = CreateFs(store(), "acct", "data2");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(other->root_id, second->root_id);
  EXPECT_EQ(ReadValue<std::vector<Filesystem>>(
                store(), [](ReadTxn& t) { return t.ListFilesystems("acct", "", "", 100); })
                .size(),
            2u);
}

TEST_P(NamespaceStoreContractTest, UpdateFilesystem) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  Filesystem changed = *fs;
  changed.etag = "\"0x2\"";
  changed.modified_us = 99;
  changed.metadata = {{"k", "v"}};
  changed.public_access = "container";
  changed.lease.state = Lease::State::kBreaking;
  changed.lease.id = "L";
  changed.lease.break_ms = 777;
  changed.created_us = 1;  // not replaced
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.UpdateFilesystem(changed); }));
  std::optional<Filesystem> got = ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("acct", "data"); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->etag, "\"0x2\"");
  EXPECT_EQ(got->modified_us, 99);
  EXPECT_EQ(got->metadata, changed.metadata);
  EXPECT_EQ(got->public_access, "container");
  EXPECT_EQ(got->lease, changed.lease);
  EXPECT_EQ(got->created_us, fs->created_us);
  EXPECT_EQ(got->root_id, fs->root_id);

  Filesystem missing = changed;
  missing.id = fs->id + 1000;
  Status s = store().Write([&](WriteTxn& t) { return t.UpdateFilesystem(missing); });
  EXPECT_EQ(s.reason(), Reason::kFilesystemNotFound);
}

TEST_P(NamespaceStoreContractTest, ListFilesystemsPrefixAfterLimit) {
  for (const char* name : {"logs", "data", "data2", "datalake", "dat", "zeta", "alpha"}) {
    ASSERT_TRUE(CreateFs(store(), "acct", name).ok());
  }
  ASSERT_TRUE(CreateFs(store(), "other", "data1").ok());
  auto list = [&](const std::string& prefix, const std::string& after, int limit) {
    return Names(ReadValue<std::vector<Filesystem>>(
        store(), [&](ReadTxn& t) { return t.ListFilesystems("acct", prefix, after, limit); }));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list("", "", 100), (V{"alpha", "dat", "data", "data2", "datalake", "logs", "zeta"}));
  EXPECT_EQ(list("data", "", 100), (V{"data", "data2", "datalake"}));
  EXPECT_EQ(list("data", "data", 100), (V{"data2", "datalake"}));
  EXPECT_EQ(list("data", "", 2), (V{"data", "data2"}));
  EXPECT_EQ(list("", "data2", 2), (V{"datalake", "logs"}));
  EXPECT_EQ(list("d", "a", 100), (V{"dat", "data", "data2", "datalake"}));
  EXPECT_EQ(list("d", "e", 100), V{});
  EXPECT_EQ(list("q", "", 100), V{});
  EXPECT_EQ(list("", "", 0), V{});
}

TEST_P(NamespaceStoreContractTest, DeleteFilesystemRemovesEverythingOfIt) {
  StatusOr<Filesystem> doomed = CreateFs(store(), "acct", "doomed");
  StatusOr<Filesystem> kept = CreateFs(store(), "acct", "kept");
  ASSERT_TRUE(doomed.ok() && kept.ok());
  const uint64_t e1 = kExtentBase + 1, e2 = kExtentBase + 2, e3 = kExtentBase + 3;
  ASSERT_OK(InsertExtents(store(), {e1, e2, e3}));
  int64_t doomed_file = 0, doomed_dir = 0, kept_file = 0;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Node d, t.InsertNode(MakeNode(doomed->id, doomed->root_id, "d", true)));
    TARN_ASSIGN_OR_RETURN(Node f, t.InsertNode(MakeNode(doomed->id, d.id, "f", false)));
    TARN_ASSIGN_OR_RETURN(Node k, t.InsertNode(MakeNode(kept->id, kept->root_id, "f", false)));
    doomed_dir = d.id;
    doomed_file = f.id;
    kept_file = k.id;
    TARN_RETURN_IF_ERROR(t.SetExtents(f.id, {Slice(e1), Slice(e2)}));
    TARN_RETURN_IF_ERROR(t.SetExtents(k.id, {Slice(e2)}));
    TARN_RETURN_IF_ERROR(t.PutStaged(doomed->id, "d/f", StagedExtent{"b1", 0, Slice(e3)}));
    return t.PutStaged(kept->id, "f", StagedExtent{"", 0, Slice(e3)});
  }));
  EXPECT_EQ(Refcount(store(), e2), 2);
  EXPECT_EQ(Refcount(store(), e3), 2);

  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.DeleteFilesystem(doomed->id); }));

  EXPECT_FALSE(ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("acct", "doomed"); }));
  EXPECT_FALSE(GetNode(store(), doomed->root_id));
  EXPECT_FALSE(GetNode(store(), doomed_dir));
  EXPECT_FALSE(GetNode(store(), doomed_file));
  EXPECT_TRUE(ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) {
                return t.GetExtents(doomed_file);
              }).empty());
  EXPECT_TRUE(ReadValue<std::vector<StagedExtent>>(store(), [&](ReadTxn& t) {
                return t.ListStaged(doomed->id, "d/f");
              }).empty());
  EXPECT_EQ(Refcount(store(), e1), 0);
  EXPECT_EQ(Refcount(store(), e2), 1);
  EXPECT_EQ(Refcount(store(), e3), 1);
  EXPECT_EQ(Garbage(store()), std::vector<uint64_t>{e1});

  EXPECT_TRUE(GetNode(store(), kept_file));
  EXPECT_EQ(ReadValue<std::vector<StagedExtent>>(
                store(), [&](ReadTxn& t) { return t.ListStaged(kept->id, "f"); })
                .size(),
            1u);

  Status again = store().Write([&](WriteTxn& t) { return t.DeleteFilesystem(doomed->id); });
  EXPECT_EQ(again.reason(), Reason::kFilesystemNotFound);
  // The name is free again.
  EXPECT_TRUE(CreateFs(store(), "acct", "doomed").ok());
}

// ---- Nodes ------------------------------------------------------------------------------

TEST_P(NamespaceStoreContractTest, InsertGetLookupUpdateNode) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  StatusOr<Node> dir = Insert(store(), MakeNode(fs->id, fs->root_id, "dir", true));
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_NE(dir->id, 0);

  Node file = MakeNode(fs->id, dir->id, "file.parquet", false);
  file.length = 1 << 20;
  file.headers = ContentHeaders{"application/octet-stream",
                                "gzip",
                                "en-US",
                                "attachment; filename=x",
                                "no-cache",
                                std::string("\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0"
                                            "\xd0\xe0\xf0",
                                            16)};
  file.metadata = {{"Abc", "1"}, {"abc", "2"}, {"empty", ""}, {"unicode", "\xc3\xbc\xe2\x82\xac"}};
  file.access = Access{"oid-1", "gid-2", 0640, "user:oid-3:r-x", ""};
  file.lease = Lease{Lease::State::kLeased, "lease-id", 60, 1700000000000, 0};
  StatusOr<Node> inserted = Insert(store(), file);
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  file.id = inserted->id;
  ExpectSameNode(*inserted, file);

  std::optional<Node> got = GetNode(store(), file.id);
  ASSERT_TRUE(got);
  ExpectSameNode(*got, file);
  std::optional<Node> looked = Lookup(store(), fs->id, dir->id, "file.parquet");
  ASSERT_TRUE(looked);
  ExpectSameNode(*looked, file);
  EXPECT_FALSE(Lookup(store(), fs->id, dir->id, "file.parque"));
  EXPECT_FALSE(Lookup(store(), fs->id, fs->root_id, "file.parquet"));
  EXPECT_FALSE(Lookup(store(), fs->id + 1000, dir->id, "file.parquet"));

  Node changed = *got;
  changed.etag = "\"new\"";
  changed.created_us = 111;
  changed.modified_us = 222;
  changed.length = 5;
  changed.headers = ContentHeaders{"text/plain", "", "", "", "", ""};
  changed.metadata = {{"x", "y"}};
  changed.access = Access{"o", "g", 01755, "", "default:user::rwx"};
  changed.lease = Lease{};
  changed.copy = {{"id", "copy-1"}, {"status", "success"}, {"source", "http://h/a/fs/src"}};
  Node attempt = changed;
  attempt.name = "renamed";         // not replaced by UpdateNode
  attempt.parent_id = fs->root_id;  // not replaced by UpdateNode
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.UpdateNode(attempt); }));
  got = GetNode(store(), file.id);
  ASSERT_TRUE(got);
  ExpectSameNode(*got, changed);

  Node missing = changed;
  missing.id = file.id + 1000;
  Status s = store().Write([&](WriteTxn& t) { return t.UpdateNode(missing); });
  EXPECT_EQ(s.reason(), Reason::kPathNotFound);
  EXPECT_EQ(s.code(), Code::kNotFound);
}

TEST_P(NamespaceStoreContractTest, MissingThingsAreNulloptNotErrors) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  ASSERT_OK(store().Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, t.GetNode(fs->root_id + 12345));
    EXPECT_FALSE(n);
    TARN_ASSIGN_OR_RETURN(n, t.Lookup(fs->id, fs->root_id, "nope"));
    EXPECT_FALSE(n);
    TARN_ASSIGN_OR_RETURN(std::optional<Filesystem> f, t.GetFilesystem("x", "y"));
    EXPECT_FALSE(f);
    TARN_ASSIGN_OR_RETURN(std::optional<ExtentRecord> e, t.GetExtent(42));
    EXPECT_FALSE(e);
    TARN_ASSIGN_OR_RETURN(bool known, t.ExtentKnown(42));
    EXPECT_FALSE(known);
    TARN_ASSIGN_OR_RETURN(std::vector<ExtentSlice> ex, t.GetExtents(fs->root_id + 12345));
    EXPECT_TRUE(ex.empty());
    TARN_ASSIGN_OR_RETURN(std::vector<Node> kids, t.ListChildren(fs->root_id, "", "", 10));
    EXPECT_TRUE(kids.empty());
    TARN_ASSIGN_OR_RETURN(bool has, t.HasChildren(fs->root_id));
    EXPECT_FALSE(has);
    TARN_ASSIGN_OR_RETURN(std::vector<uint64_t> garbage, t.ListGarbage(10));
    EXPECT_TRUE(garbage.empty());
    return Status::Ok();
  }));
  StatusOr<int64_t> deleted = 0;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    deleted = t.DeleteSubtree(fs->root_id + 12345);
    return deleted.status();
  }));
  EXPECT_EQ(*deleted, 0);
}

TEST_P(NamespaceStoreContractTest, DuplicateNamesUnderOneParentAreRejected) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  StatusOr<Filesystem> fs2 = CreateFs(store(), "acct", "data2");
  ASSERT_TRUE(fs.ok() && fs2.ok());
  StatusOr<Node> a = Insert(store(), MakeNode(fs->id, fs->root_id, "a", true));
  ASSERT_TRUE(a.ok());
  StatusOr<Node> dup = Insert(store(), MakeNode(fs->id, fs->root_id, "a", false));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().reason(), Reason::kPathAlreadyExists);
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);
  // Case matters; other parents and other filesystems are separate namespaces.
  EXPECT_TRUE(Insert(store(), MakeNode(fs->id, fs->root_id, "A", false)).ok());
  EXPECT_TRUE(Insert(store(), MakeNode(fs->id, a->id, "a", false)).ok());
  EXPECT_TRUE(Insert(store(), MakeNode(fs2->id, fs2->root_id, "a", false)).ok());
  EXPECT_EQ(Names(Children(store(), fs->root_id)), (std::vector<std::string>{"A", "a"}));
}

TEST_P(NamespaceStoreContractTest, ListChildrenByteOrderPrefixAfterLimit) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  std::vector<std::string> names = {
      "beta", "alpha", "Zeta", "alphabet", "alph", "alpha2", "\xc3\xa9t\xc3\xa9",
      "e",    "f",     "a b",  "a-b",      "a.b",  "~"};
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    for (const std::string& n : names) {
      TARN_RETURN_IF_ERROR(t.InsertNode(MakeNode(fs->id, fs->root_id, n, n == "beta")).status());
    }
    return Status::Ok();
  }));
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());  // std::string order is byte order
  using V = std::vector<std::string>;
  const int64_t root = fs->root_id;
  EXPECT_EQ(Names(Children(store(), root)), sorted);
  EXPECT_EQ(Names(Children(store(), root, "alph")), (V{"alph", "alpha", "alpha2", "alphabet"}));
  EXPECT_EQ(Names(Children(store(), root, "alph", "alpha")), (V{"alpha2", "alphabet"}));
  EXPECT_EQ(Names(Children(store(), root, "alpha", "", 2)), (V{"alpha", "alpha2"}));
  EXPECT_EQ(Names(Children(store(), root, "", "f")), (V{"~", "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(Names(Children(store(), root, "\xc3")), (V{"\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(Names(Children(store(), root, "a", "a.b", 3)), (V{"alph", "alpha", "alpha2"}));
  EXPECT_EQ(Names(Children(store(), root, "b", "alpha")), (V{"beta"}));
  EXPECT_EQ(Names(Children(store(), root, "b", "c")), V{});
  EXPECT_EQ(Names(Children(store(), root, "zz")), V{});
  EXPECT_EQ(Names(Children(store(), root, "", "", 0)), V{});
  std::vector<Node> beta = Children(store(), root, "beta");
  ASSERT_EQ(beta.size(), 1u);
  EXPECT_TRUE(beta[0].is_dir);
  EXPECT_EQ(beta[0].parent_id, root);
}

TEST_P(NamespaceStoreContractTest, ListChildrenPagination) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  constexpr int kCount = 1500;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    for (int i = kCount - 1; i >= 0; --i) {
      char name[16];
      snprintf(name, sizeof name, "n%05d", i);
      TARN_RETURN_IF_ERROR(t.InsertNode(MakeNode(fs->id, fs->root_id, name, false)).status());
    }
    return Status::Ok();
  }));
  std::vector<std::string> all;
  std::string after;
  for (int pages = 0; pages < 100; ++pages) {
    std::vector<Node> page = Children(store(), fs->root_id, "n", after, 100);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 100u);
    for (const Node& n : page) all.push_back(n.name);
    after = page.back().name;
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kCount));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
}

TEST_P(NamespaceStoreContractTest, HasChildrenAndIsAncestorOrSelf) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  int64_t a = 0, b = 0, c = 0, x = 0;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Node na, t.InsertNode(MakeNode(fs->id, fs->root_id, "a", true)));
    TARN_ASSIGN_OR_RETURN(Node nb, t.InsertNode(MakeNode(fs->id, na.id, "b", true)));
    TARN_ASSIGN_OR_RETURN(Node nc, t.InsertNode(MakeNode(fs->id, nb.id, "c", false)));
    TARN_ASSIGN_OR_RETURN(Node nx, t.InsertNode(MakeNode(fs->id, fs->root_id, "x", true)));
    a = na.id, b = nb.id, c = nc.id, x = nx.id;
    return Status::Ok();
  }));
  EXPECT_TRUE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.HasChildren(a); }));
  EXPECT_FALSE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.HasChildren(c); }));
  EXPECT_FALSE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.HasChildren(x); }));

  EXPECT_TRUE(IsAncestorOrSelf(store(), c, c));
  EXPECT_TRUE(IsAncestorOrSelf(store(), b, c));
  EXPECT_TRUE(IsAncestorOrSelf(store(), a, c));
  EXPECT_TRUE(IsAncestorOrSelf(store(), fs->root_id, c));
  EXPECT_FALSE(IsAncestorOrSelf(store(), c, a));
  EXPECT_FALSE(IsAncestorOrSelf(store(), x, c));
  EXPECT_FALSE(IsAncestorOrSelf(store(), b, x));

  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.MoveNode(b, x, "b2", "\"m\"", 5); }));
  EXPECT_TRUE(IsAncestorOrSelf(store(), x, c));
  EXPECT_FALSE(IsAncestorOrSelf(store(), a, c));
  EXPECT_FALSE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.HasChildren(a); }));
  EXPECT_TRUE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.HasChildren(x); }));
}

TEST_P(NamespaceStoreContractTest, MoveNodeRenamesAndKeepsDescendants) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  int64_t src = 0, dst = 0, leaf = 0, taken = 0;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Node s, t.InsertNode(MakeNode(fs->id, fs->root_id, "src", true)));
    TARN_ASSIGN_OR_RETURN(Node d, t.InsertNode(MakeNode(fs->id, fs->root_id, "dst", true)));
    TARN_ASSIGN_OR_RETURN(Node sub, t.InsertNode(MakeNode(fs->id, s.id, "sub", true)));
    TARN_ASSIGN_OR_RETURN(Node l, t.InsertNode(MakeNode(fs->id, sub.id, "leaf", false)));
    TARN_ASSIGN_OR_RETURN(Node k, t.InsertNode(MakeNode(fs->id, d.id, "taken", false)));
    src = s.id, dst = d.id, leaf = l.id, taken = k.id;
    return Status::Ok();
  }));
  std::optional<Node> leaf_before = GetNode(store(), leaf);
  ASSERT_TRUE(leaf_before);

  // Destination name taken: nothing changes.
  Status s = store().Write([&](WriteTxn& t) { return t.MoveNode(src, dst, "taken", "\"e\"", 7); });
  EXPECT_EQ(s.reason(), Reason::kPathAlreadyExists);
  EXPECT_TRUE(Lookup(store(), fs->id, fs->root_id, "src"));
  EXPECT_EQ(GetNode(store(), taken)->parent_id, dst);

  // Rename in place.
  ASSERT_OK(store().Write(
      [&](WriteTxn& t) { return t.MoveNode(src, fs->root_id, "src2", "\"e1\"", 8); }));
  EXPECT_FALSE(Lookup(store(), fs->id, fs->root_id, "src"));
  std::optional<Node> moved = Lookup(store(), fs->id, fs->root_id, "src2");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->id, src);
  EXPECT_EQ(moved->etag, "\"e1\"");
  EXPECT_EQ(moved->modified_us, 8);

  // Move under another parent.
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.MoveNode(src, dst, "inner", "\"e2\"", 9); }));
  EXPECT_FALSE(Lookup(store(), fs->id, fs->root_id, "src2"));
  moved = Lookup(store(), fs->id, dst, "inner");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->id, src);
  EXPECT_EQ(moved->parent_id, dst);
  EXPECT_EQ(moved->name, "inner");
  EXPECT_EQ(moved->created_us, 10);  // untouched
  std::optional<Node> sub = Lookup(store(), fs->id, src, "sub");
  ASSERT_TRUE(sub);
  std::optional<Node> leaf_after = Lookup(store(), fs->id, sub->id, "leaf");
  ASSERT_TRUE(leaf_after);
  ExpectSameNode(*leaf_after, *leaf_before);
  EXPECT_EQ(Names(Children(store(), dst)), (std::vector<std::string>{"inner", "taken"}));

  Status missing =
      store().Write([&](WriteTxn& t) { return t.MoveNode(leaf + 1000, dst, "zz", "\"e\"", 1); });
  EXPECT_EQ(missing.reason(), Reason::kPathNotFound);
}

TEST_P(NamespaceStoreContractTest, DeleteSubtreeSmall) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t e1 = kExtentBase + 11, e2 = kExtentBase + 12;
  ASSERT_OK(InsertExtents(store(), {e1, e2}));
  int64_t dir = 0, f1 = 0, keep = 0;
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Node d, t.InsertNode(MakeNode(fs->id, fs->root_id, "d", true)));
    TARN_ASSIGN_OR_RETURN(Node s, t.InsertNode(MakeNode(fs->id, d.id, "s", true)));
    TARN_ASSIGN_OR_RETURN(Node a, t.InsertNode(MakeNode(fs->id, s.id, "a", false)));
    TARN_ASSIGN_OR_RETURN(Node k, t.InsertNode(MakeNode(fs->id, fs->root_id, "d2", false)));
    TARN_RETURN_IF_ERROR(t.SetExtents(a.id, {Slice(e1), Slice(e2)}));
    TARN_RETURN_IF_ERROR(t.SetExtents(k.id, {Slice(e2)}));
    dir = d.id, f1 = a.id, keep = k.id;
    return Status::Ok();
  }));
  // A leaf first.
  StatusOr<int64_t> n = 0;
  ASSERT_OK(store().Write([&](WriteTxn& t) { return (n = t.DeleteSubtree(keep)).status(); }));
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Refcount(store(), e2), 1);
  ASSERT_OK(store().Write([&](WriteTxn& t) { return (n = t.DeleteSubtree(dir)).status(); }));
  EXPECT_EQ(*n, 3);
  EXPECT_FALSE(GetNode(store(), f1));
  EXPECT_TRUE(Children(store(), fs->root_id).empty());
  EXPECT_TRUE(GetNode(store(), fs->root_id));
  EXPECT_EQ(Garbage(store()), (std::vector<uint64_t>{e1, e2}));
}

// ---- Extents, staged data, pins and refcounts ---------------------------------------------

TEST_P(NamespaceStoreContractTest, ExtentRecords) {
  const uint64_t e = kExtentBase + 77;
  ASSERT_OK(InsertExtents(store(), {e, 5}));
  std::optional<ExtentRecord> r =
      ReadValue<std::optional<ExtentRecord>>(store(), [&](ReadTxn& t) { return t.GetExtent(e); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, e);
  EXPECT_EQ(r->length, 4096);
  EXPECT_EQ(r->md5, MakeExtent(e).md5);
  EXPECT_EQ(r->refcount, 0);
  EXPECT_TRUE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.ExtentKnown(e); }));
  EXPECT_EQ(Garbage(store()), (std::vector<uint64_t>{5, e}));
  EXPECT_EQ(Garbage(store(), 1).size(), 1u);
  // Recording the same extent twice is an error and changes nothing.
  EXPECT_FALSE(InsertExtents(store(), {e}).ok());
  EXPECT_EQ(Refcount(store(), e), 0);
}

TEST_P(NamespaceStoreContractTest, SetExtentsReplacesListAndRefcounts) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t e1 = kExtentBase + 1, e2 = kExtentBase + 2, e3 = 3;
  ASSERT_OK(InsertExtents(store(), {e1, e2, e3}));
  StatusOr<Node> f = Insert(store(), MakeNode(fs->id, fs->root_id, "f", false));
  StatusOr<Node> g = Insert(store(), MakeNode(fs->id, fs->root_id, "g", false));
  ASSERT_TRUE(f.ok() && g.ok());
  std::vector<ExtentSlice> list = {Slice(e1, 0, 10, "YmxrMQ=="), Slice(e2, 5, 5, "YmxrMg=="),
                                   Slice(e1, 10, 10, "YmxrMw==")};
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.SetExtents(f->id, list); }));
  EXPECT_EQ(
      ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) { return t.GetExtents(f->id); }),
      list);
  EXPECT_EQ(Refcount(store(), e1), 2);
  EXPECT_EQ(Refcount(store(), e2), 1);
  EXPECT_EQ(Refcount(store(), e3), 0);

  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.SetExtents(f->id, {Slice(e2), Slice(e3)}));
    return t.SetExtents(g->id, {Slice(e3)});
  }));
  EXPECT_EQ(Refcount(store(), e1), 0);
  EXPECT_EQ(Refcount(store(), e2), 1);
  EXPECT_EQ(Refcount(store(), e3), 2);
  EXPECT_EQ(Garbage(store()), std::vector<uint64_t>{e1});
  EXPECT_EQ(
      ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) { return t.GetExtents(f->id); }),
      (std::vector<ExtentSlice>{Slice(e2), Slice(e3)}));

  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.SetExtents(f->id, {}); }));
  EXPECT_EQ(Refcount(store(), e2), 0);
  EXPECT_EQ(Refcount(store(), e3), 1);
  EXPECT_TRUE(ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) {
                return t.GetExtents(f->id);
              }).empty());
}

TEST_P(NamespaceStoreContractTest, ReferencingAnUnrecordedExtentFails) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  StatusOr<Node> f = Insert(store(), MakeNode(fs->id, fs->root_id, "f", false));
  ASSERT_TRUE(f.ok());
  ASSERT_OK(InsertExtents(store(), {1}));
  EXPECT_FALSE(store()
                   .Write([&](WriteTxn& t) {
                     return t.SetExtents(f->id, {Slice(1), Slice(2)});
                   })
                   .ok());
  EXPECT_FALSE(store()
                   .Write([&](WriteTxn& t) {
                     return t.PutStaged(fs->id, "f", StagedExtent{"b", 0, Slice(2)});
                   })
                   .ok());
  EXPECT_FALSE(store().Write([&](WriteTxn& t) { return t.Pin("v1", {Slice(2)}); }).ok());
  EXPECT_EQ(Refcount(store(), 1), 0);
  EXPECT_FALSE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.ExtentKnown(2); }));
}

TEST_P(NamespaceStoreContractTest, StagedReplaceByBlockIdAndClear) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t e1 = kExtentBase + 1, e2 = kExtentBase + 2, e3 = kExtentBase + 3;
  ASSERT_OK(InsertExtents(store(), {e1, e2, e3}));
  const std::string path = "dir/file.bin";
  auto staged = [&](const std::string& p) {
    return ReadValue<std::vector<StagedExtent>>(
        store(), [&](ReadTxn& t) { return t.ListStaged(fs->id, p); });
  };
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, path, StagedExtent{"b1", 0, Slice(e1, 0, 10, "b1")}));
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, path, StagedExtent{"b2", 0, Slice(e2, 0, 20, "b2")}));
    return Status::Ok();
  }));
  EXPECT_EQ(Refcount(store(), e1), 1);
  // Same block ID again replaces the earlier one.
  ASSERT_OK(store().Write([&](WriteTxn& t) {
    return t.PutStaged(fs->id, path, StagedExtent{"b1", 0, Slice(e3, 4, 30, "b1")});
  }));
  std::vector<StagedExtent> list = staged(path);
  ASSERT_EQ(list.size(), 2u);
  std::set<std::string> blocks;
  for (const StagedExtent& s : list) blocks.insert(s.block_id);
  EXPECT_EQ(blocks, (std::set<std::string>{"b1", "b2"}));
  for (const StagedExtent& s : list) {
    if (s.block_id == "b1") {
      EXPECT_EQ(s.slice, Slice(e3, 4, 30, "b1"));
    }
  }
  EXPECT_EQ(Refcount(store(), e1), 0);
  EXPECT_EQ(Refcount(store(), e2), 1);
  EXPECT_EQ(Refcount(store(), e3), 1);

  // DFS appends (no block ID) accumulate in insertion order, positions kept.
  const std::string log = "logs/app.log";
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, log, StagedExtent{"", 0, Slice(e2, 0, 100)}));
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, log, StagedExtent{"", 100, Slice(e2, 100, 50)}));
    return t.PutStaged(fs->id, log, StagedExtent{"", 150, Slice(e1, 0, 7)});
  }));
  list = staged(log);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].position, 0);
  EXPECT_EQ(list[1].position, 100);
  EXPECT_EQ(list[1].slice, Slice(e2, 100, 50));
  EXPECT_EQ(list[2].position, 150);
  EXPECT_EQ(list[2].slice.extent_id, e1);
  EXPECT_EQ(Refcount(store(), e2), 3);

  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.ClearStaged(fs->id, path); }));
  EXPECT_TRUE(staged(path).empty());
  EXPECT_EQ(staged(log).size(), 3u);
  EXPECT_EQ(Refcount(store(), e3), 0);
  EXPECT_EQ(Refcount(store(), e2), 2);
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.ClearStaged(fs->id, log); }));
  EXPECT_EQ(Garbage(store()), (std::vector<uint64_t>{e1, e2, e3}));
}

TEST_P(NamespaceStoreContractTest, ClearStagedUnderMatchesPathAndDescendantsOnly) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  StatusOr<Filesystem> other = CreateFs(store(), "acct", "other");
  ASSERT_TRUE(fs.ok() && other.ok());
  ASSERT_OK(InsertExtents(store(), {1}));
  const std::vector<std::string> paths = {"a",   "a/b", "a/b/c", "ab",  "a.b", "a0",
                                          "a-x", "b",   "a%",    "a_b", "A/b", "b/a"};
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    for (const std::string& p : paths) {
      TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, p, StagedExtent{"", 0, Slice(1)}));
    }
    return t.PutStaged(other->id, "a/b", StagedExtent{"", 0, Slice(1)});
  }));
  EXPECT_EQ(Refcount(store(), 1), static_cast<int64_t>(paths.size()) + 1);
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.ClearStagedUnder(fs->id, "a"); }));
  std::vector<std::string> left;
  for (const std::string& p : paths) {
    if (!ReadValue<std::vector<StagedExtent>>(store(), [&](ReadTxn& t) {
           return t.ListStaged(fs->id, p);
         }).empty()) {
      left.push_back(p);
    }
  }
  EXPECT_EQ(left,
            (std::vector<std::string>{"ab", "a.b", "a0", "a-x", "b", "a%", "a_b", "A/b", "b/a"}));
  EXPECT_EQ(Refcount(store(), 1), 10);
  // The root ("") clears the whole filesystem, and only it.
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.ClearStagedUnder(fs->id, ""); }));
  EXPECT_EQ(Refcount(store(), 1), 1);
  EXPECT_EQ(ReadValue<std::vector<StagedExtent>>(
                store(), [&](ReadTxn& t) { return t.ListStaged(other->id, "a/b"); })
                .size(),
            1u);
}

TEST_P(NamespaceStoreContractTest, PinsHoldExtents) {
  const uint64_t e1 = kExtentBase + 1, e2 = kExtentBase + 2;
  ASSERT_OK(InsertExtents(store(), {e1, e2}));
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.Pin("dataset/v1", {Slice(e1), Slice(e2), Slice(e1, 100, 5)}));
    return t.Pin("dataset/v2", {Slice(e1)});
  }));
  EXPECT_EQ(Refcount(store(), e1), 3);
  EXPECT_EQ(Refcount(store(), e2), 1);
  EXPECT_TRUE(Garbage(store()).empty());
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.UnpinAll("dataset/v1"); }));
  EXPECT_EQ(Refcount(store(), e1), 1);
  EXPECT_EQ(Refcount(store(), e2), 0);
  EXPECT_EQ(Garbage(store()), std::vector<uint64_t>{e2});
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.Pin("datasetx", {Slice(e1)}); }));
  auto holders = [&](const std::string& prefix) {
    return ReadValue<std::vector<std::string>>(
        store(), [&](ReadTxn& t) { return t.ListPinHolders(prefix); });
  };
  EXPECT_EQ(holders("dataset/"), std::vector<std::string>{"dataset/v2"});
  EXPECT_EQ(holders(""), (std::vector<std::string>{"dataset/v2", "datasetx"}));
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.UnpinAll("datasetx"); }));
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.UnpinAll("never-pinned"); }));
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.UnpinAll("dataset/v2"); }));
  EXPECT_TRUE(holders("").empty());
  EXPECT_EQ(Garbage(store()), (std::vector<uint64_t>{e1, e2}));
}

TEST_P(NamespaceStoreContractTest, DeleteExtentRecordsOnlyRemovesUnreferenced) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t used = kExtentBase + 1, staged = kExtentBase + 2, pinned = 3, free1 = 4, free2 = 5;
  ASSERT_OK(InsertExtents(store(), {used, staged, pinned, free1, free2}));
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Node f, t.InsertNode(MakeNode(fs->id, fs->root_id, "f", false)));
    TARN_RETURN_IF_ERROR(t.SetExtents(f.id, {Slice(used)}));
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, "g", StagedExtent{"", 0, Slice(staged)}));
    return t.Pin("snap", {Slice(pinned)});
  }));
  EXPECT_EQ(Garbage(store()), (std::vector<uint64_t>{free1, free2}));
  ASSERT_OK(store().Write([&](WriteTxn& t) {
    return t.DeleteExtentRecords({used, staged, pinned, free1, free2, 999});
  }));
  auto known = [&](uint64_t e) {
    return ReadValue<bool>(store(), [&](ReadTxn& t) { return t.ExtentKnown(e); });
  };
  EXPECT_TRUE(known(used));
  EXPECT_TRUE(known(staged));
  EXPECT_TRUE(known(pinned));
  EXPECT_FALSE(known(free1));
  EXPECT_FALSE(known(free2));
  EXPECT_EQ(Refcount(store(), used), 1);
  EXPECT_TRUE(Garbage(store()).empty());
}

TEST_P(NamespaceStoreContractTest, InlineExtentsKeepTheirBytesUntilForgotten) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t in = kExtentBase + 10, empty = kExtentBase + 11, stored = kExtentBase + 12;
  const std::string bytes("inline\0bytes", 12);  // binary, with a NUL inside
  auto inline_data = [&](uint64_t e) {
    return ReadValue<std::optional<std::string>>(store(),
                                                 [&](ReadTxn& t) { return t.GetInlineData(e); });
  };
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    ExtentRecord r = MakeExtent(in);
    r.length = static_cast<int64_t>(bytes.size());
    TARN_RETURN_IF_ERROR(t.InsertInlineExtent(r, bytes));
    ExtentRecord z = MakeExtent(empty);
    z.length = 0;
    TARN_RETURN_IF_ERROR(t.InsertInlineExtent(z, ""));
    TARN_RETURN_IF_ERROR(t.InsertExtent(MakeExtent(stored)));
    TARN_ASSIGN_OR_RETURN(Node f, t.InsertNode(MakeNode(fs->id, fs->root_id, "f", false)));
    return t.SetExtents(f.id, {ExtentSlice{in, 0, 12, ""}});
  }));
  EXPECT_EQ(inline_data(in), bytes);
  EXPECT_EQ(inline_data(empty), std::string());
  EXPECT_EQ(inline_data(stored), std::nullopt);  // its bytes are in the extent store
  EXPECT_EQ(inline_data(kExtentBase + 99), std::nullopt);
  std::optional<ExtentRecord> r =
      ReadValue<std::optional<ExtentRecord>>(store(), [&](ReadTxn& t) { return t.GetExtent(in); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 12);
  EXPECT_EQ(r->refcount, 1);

  // Bytes that disagree with the record's length are refused, and the transaction with them.
  const uint64_t bad = kExtentBase + 13;
  EXPECT_FALSE(store()
                   .Write([&](WriteTxn& t) -> Status {
                     ExtentRecord b = MakeExtent(bad);
                     b.length = 3;
                     return t.InsertInlineExtent(b, "four");
                   })
                   .ok());
  EXPECT_FALSE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.ExtentKnown(bad); }));
  // A failed transaction keeps neither the record nor the bytes.
  const uint64_t rolled_back = kExtentBase + 14;
  EXPECT_FALSE(store()
                   .Write([&](WriteTxn& t) -> Status {
                     ExtentRecord b = MakeExtent(rolled_back);
                     b.length = 1;
                     TARN_RETURN_IF_ERROR(t.InsertInlineExtent(b, "x"));
                     return Error(Reason::kPathNotFound, "caller gives up");
                   })
                   .ok());
  EXPECT_EQ(inline_data(rolled_back), std::nullopt);

  Reopen();
  EXPECT_EQ(inline_data(in), bytes);
  // Referenced bytes stay; unreferenced ones go with their record.
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.DeleteExtentRecords({in, empty}); }));
  EXPECT_EQ(inline_data(in), bytes);
  EXPECT_EQ(inline_data(empty), std::nullopt);
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto f, t.Lookup(fs->id, fs->root_id, "f"));
    if (!f) return InternalError("f missing");
    return t.SetExtents(f->id, {});
  }));
  EXPECT_EQ(Garbage(store()), (std::vector<uint64_t>{in, stored}));
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.DeleteExtentRecords({in, stored}); }));
  EXPECT_EQ(inline_data(in), std::nullopt);
  EXPECT_TRUE(Garbage(store()).empty());
}

// ---- Transactions -----------------------------------------------------------------------

TEST_P(NamespaceStoreContractTest, FailedWriteLeavesNoChanges) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t e1 = kExtentBase + 1, e2 = kExtentBase + 2;
  ASSERT_OK(InsertExtents(store(), {e1}));
  StatusOr<Node> f = Insert(store(), MakeNode(fs->id, fs->root_id, "f", false));
  StatusOr<Node> d = Insert(store(), MakeNode(fs->id, fs->root_id, "d", true));
  ASSERT_TRUE(f.ok() && d.ok());
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.SetExtents(f->id, {Slice(e1)}); }));

  Status s = store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.InsertNode(MakeNode(fs->id, fs->root_id, "new", false)).status());
    TARN_RETURN_IF_ERROR(t.InsertExtent(MakeExtent(e2)));
    TARN_RETURN_IF_ERROR(t.SetExtents(f->id, {Slice(e2)}));
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, "f", StagedExtent{"b", 0, Slice(e1)}));
    TARN_RETURN_IF_ERROR(t.Pin("h", {Slice(e1)}));
    Node changed = *f;
    changed.length = 999;
    TARN_RETURN_IF_ERROR(t.UpdateNode(changed));
    TARN_RETURN_IF_ERROR(t.MoveNode(d->id, fs->root_id, "d-moved", "\"x\"", 1));
    TARN_RETURN_IF_ERROR(t.DeleteSubtree(f->id).status());
    TARN_RETURN_IF_ERROR(t.CreateFilesystem(MakeFs("acct", "brand-new"), RootNode()).status());
    return Error(Reason::kConditionNotMet, "deliberate");
  });
  EXPECT_EQ(s.reason(), Reason::kConditionNotMet);
  EXPECT_EQ(s.message(), "deliberate");

  EXPECT_EQ(Names(Children(store(), fs->root_id)), (std::vector<std::string>{"d", "f"}));
  std::optional<Node> f_now = GetNode(store(), f->id);
  ASSERT_TRUE(f_now);
  EXPECT_EQ(f_now->length, 0);
  EXPECT_EQ(
      ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) { return t.GetExtents(f->id); }),
      std::vector<ExtentSlice>{Slice(e1)});
  EXPECT_EQ(Refcount(store(), e1), 1);
  EXPECT_EQ(Refcount(store(), e2), -1);
  EXPECT_TRUE(ReadValue<std::vector<StagedExtent>>(store(), [&](ReadTxn& t) {
                return t.ListStaged(fs->id, "f");
              }).empty());
  EXPECT_FALSE(ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("acct", "brand-new"); }));
  // The store still works after a rollback.
  EXPECT_TRUE(Insert(store(), MakeNode(fs->id, fs->root_id, "new", false)).ok());
}

TEST_P(NamespaceStoreContractTest, ConcurrentWritesFailIndependently) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t shared = kExtentBase + 9;
  ASSERT_OK(InsertExtents(store(), {shared}));
  constexpr int kThreads = 16, kWrites = 30, kContended = 6;
  enum Kind { kCommits, kFnFails, kStoreFails };
  auto kind_of = [](int i) {
    if (i % 3 == 1) return kFnFails;
    if (i == kContended) return kStoreFails;  // all but one thread lose the name race
    return kCommits;
  };
  std::vector<std::vector<Status>> results(kThreads, std::vector<Status>(kWrites));
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string name = "t" + std::to_string(th) + "-" + std::to_string(i);
        Kind kind = kind_of(i);
        results[th][i] = store().Write([&](WriteTxn& t) -> Status {
          TARN_RETURN_IF_ERROR(t.InsertNode(MakeNode(fs->id, fs->root_id, name, false)).status());
          TARN_RETURN_IF_ERROR(t.Pin(name, {Slice(shared)}));
          TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, name, StagedExtent{"", 0, Slice(shared)}));
          if (kind == kFnFails) return Error(Reason::kConditionNotMet, name);
          if (kind == kStoreFails) {
            return t.InsertNode(MakeNode(fs->id, fs->root_id, "contended", false)).status();
          }
          return Status::Ok();
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();

  int committed = 0, contended_winners = 0;
  for (int th = 0; th < kThreads; ++th) {
    for (int i = 0; i < kWrites; ++i) {
      const std::string name = "t" + std::to_string(th) + "-" + std::to_string(i);
      const Status& s = results[th][i];
      bool expect_visible = false;
      switch (kind_of(i)) {
        case kCommits:
          EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
          expect_visible = true;
          break;
        case kFnFails:
          EXPECT_EQ(s.reason(), Reason::kConditionNotMet) << name;
          EXPECT_EQ(s.message(), name);
          break;
        case kStoreFails:
          if (s.ok()) {
            ++contended_winners;
            expect_visible = true;
          } else {
            EXPECT_EQ(s.reason(), Reason::kPathAlreadyExists) << name;
          }
          break;
      }
      committed += expect_visible ? 1 : 0;
      EXPECT_EQ(Lookup(store(), fs->id, fs->root_id, name).has_value(), expect_visible) << name;
      EXPECT_EQ(ReadValue<std::vector<StagedExtent>>(
                    store(), [&](ReadTxn& t) { return t.ListStaged(fs->id, name); })
                    .size(),
                expect_visible ? 1u : 0u)
          << name;
    }
  }
  EXPECT_EQ(contended_winners, 1);
  EXPECT_TRUE(Lookup(store(), fs->id, fs->root_id, "contended"));
  // One pin and one staged entry per committed write.
  EXPECT_EQ(Refcount(store(), shared), 2 * committed);
  EXPECT_EQ(static_cast<int>(Children(store(), fs->root_id).size()), committed + 1);
}

TEST_P(NamespaceStoreContractTest, ReadsSeeConsistentSnapshotsDuringWrites) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  Node a = MakeNode(fs->id, fs->root_id, "a", false);
  Node b = MakeNode(fs->id, fs->root_id, "b", false);
  a.length = 1000;
  StatusOr<Node> ia = Insert(store(), a);
  StatusOr<Node> ib = Insert(store(), b);
  ASSERT_TRUE(ia.ok() && ib.ok());
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0}, torn{0}, errors{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (writing.load()) {
        Status s = store().Read([&](ReadTxn& t) -> Status {
          TARN_ASSIGN_OR_RETURN(std::optional<Node> na, t.GetNode(ia->id));
          TARN_ASSIGN_OR_RETURN(std::vector<Node> kids, t.ListChildren(fs->root_id, "", "", 10));
          TARN_ASSIGN_OR_RETURN(std::optional<Node> nb, t.GetNode(ib->id));
          if (!na || !nb || kids.size() != 2) return InternalError("missing nodes");
          if (na->length + nb->length != 1000) ++torn;
          if (kids[0].length + kids[1].length != 1000) ++torn;
          return Status::Ok();
        });
        if (!s.ok()) ++errors;
        ++reads;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) {
        Status s = store().Write([&](WriteTxn& t) -> Status {
          TARN_ASSIGN_OR_RETURN(std::optional<Node> na, t.GetNode(ia->id));
          TARN_ASSIGN_OR_RETURN(std::optional<Node> nb, t.GetNode(ib->id));
          if (!na || !nb) return InternalError("missing nodes");
          int64_t amount = (w == 0 ? 7 : -5);
          if (na->length - amount < 0 || nb->length + amount < 0) amount = -amount;
          na->length -= amount;
          TARN_RETURN_IF_ERROR(t.UpdateNode(*na));
          nb->length += amount;
          return t.UpdateNode(*nb);
        });
        if (!s.ok()) ++errors;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  writing = false;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  std::optional<Node> fa = GetNode(store(), ia->id), fb = GetNode(store(), ib->id);
  ASSERT_TRUE(fa && fb);
  EXPECT_EQ(fa->length + fb->length, 1000);
}

TEST_P(NamespaceStoreContractTest, CommittedStateSurvivesReopen) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t e1 = kExtentBase + 1, e2 = kExtentBase + 2, e3 = kExtentBase + 3;
  ASSERT_OK(InsertExtents(store(), {e1, e2, e3}));
  Node file = MakeNode(fs->id, fs->root_id, "f", false);
  file.metadata = {{"k", "v"}};
  file.headers.content_md5 = std::string(16, '\0');
  file.length = 300;
  StatusOr<Node> f = Insert(store(), file);
  ASSERT_TRUE(f.ok());
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.SetExtents(f->id, {Slice(e1), Slice(e2)}));
    TARN_RETURN_IF_ERROR(t.PutStaged(fs->id, "f", StagedExtent{"blk", 0, Slice(e2, 0, 1, "blk")}));
    return t.Pin("v1", {Slice(e1)});
  }));

  Reopen();
  ASSERT_TRUE(store_);

  std::optional<Filesystem> got_fs = ReadValue<std::optional<Filesystem>>(
      store(), [](ReadTxn& t) { return t.GetFilesystem("acct", "data"); });
  ASSERT_TRUE(got_fs);
  EXPECT_EQ(got_fs->root_id, fs->root_id);
  std::optional<Node> got = Lookup(store(), fs->id, fs->root_id, "f");
  ASSERT_TRUE(got);
  ExpectSameNode(*got, *f);
  EXPECT_EQ(
      ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) { return t.GetExtents(f->id); }),
      (std::vector<ExtentSlice>{Slice(e1), Slice(e2)}));
  std::vector<StagedExtent> staged = ReadValue<std::vector<StagedExtent>>(
      store(), [&](ReadTxn& t) { return t.ListStaged(fs->id, "f"); });
  ASSERT_EQ(staged.size(), 1u);
  EXPECT_EQ(staged[0].block_id, "blk");
  EXPECT_EQ(staged[0].slice, Slice(e2, 0, 1, "blk"));
  EXPECT_EQ(Refcount(store(), e1), 2);
  EXPECT_EQ(Refcount(store(), e2), 2);
  EXPECT_EQ(Garbage(store()), std::vector<uint64_t>{e3});

  // Writes keep working after reopening, and reference counting continues from the stored counts.
  StatusOr<Node> g = Insert(store(), MakeNode(fs->id, fs->root_id, "g", false));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_NE(g->id, f->id);
  ASSERT_OK(store().Write([&](WriteTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.UnpinAll("v1"));
    return t.SetExtents(f->id, {});
  }));
  EXPECT_EQ(Refcount(store(), e1), 0);
  EXPECT_EQ(Refcount(store(), e2), 1);
}

// ---- Scale: 100,000 descendants -----------------------------------------------------------

constexpr int kBigDirs = 100;
constexpr int kBigFilesPerDir = 1000;
constexpr int64_t kBigNodes = 1 + kBigDirs + int64_t{kBigDirs} * kBigFilesPerDir;

struct BigTree {
  int64_t top = 0;
  int64_t sample_dir = 0;   // d042
  int64_t sample_file = 0;  // d042/f00999
};

// top/dNNN/fNNNNN: 100 directories of 1,000 files, each file holding [its own extent, shared].
Status BuildBigTree(WriteTxn& t, int64_t fs_id, int64_t parent, uint64_t shared, BigTree& out) {
  TARN_ASSIGN_OR_RETURN(Node top, t.InsertNode(MakeNode(fs_id, parent, "big", true)));
  out.top = top.id;
  uint64_t next_extent = kExtentBase + 1'000'000;
  for (int d = 0; d < kBigDirs; ++d) {
    char dname[16];
    snprintf(dname, sizeof dname, "d%03d", d);
    TARN_ASSIGN_OR_RETURN(Node dir, t.InsertNode(MakeNode(fs_id, top.id, dname, true)));
    if (d == 42) out.sample_dir = dir.id;
    for (int f = 0; f < kBigFilesPerDir; ++f) {
      char fname[16];
      snprintf(fname, sizeof fname, "f%05d", f);
      Node file = MakeNode(fs_id, dir.id, fname, false);
      file.length = 200;
      TARN_ASSIGN_OR_RETURN(Node inserted, t.InsertNode(std::move(file)));
      if (d == 42 && f == kBigFilesPerDir - 1) out.sample_file = inserted.id;
      const uint64_t own = next_extent++;
      TARN_RETURN_IF_ERROR(t.InsertExtent(ExtentRecord{own, 100, "", 0}));
      TARN_RETURN_IF_ERROR(t.SetExtents(inserted.id, {Slice(own), Slice(shared)}));
    }
  }
  return Status::Ok();
}

TEST_P(NamespaceStoreContractTest, DeleteSubtreeWith100kDescendants) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  const uint64_t shared = 1;
  ASSERT_OK(InsertExtents(store(), {shared}));
  StatusOr<Node> keep = Insert(store(), MakeNode(fs->id, fs->root_id, "keep", false));
  ASSERT_TRUE(keep.ok());
  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.SetExtents(keep->id, {Slice(shared)}); }));
  BigTree tree;
  Clock::time_point start = Clock::now();
  ASSERT_OK(store().Write(
      [&](WriteTxn& t) { return BuildBigTree(t, fs->id, fs->root_id, shared, tree); }));
  const double build_s = SecondsSince(start);
  EXPECT_EQ(Refcount(store(), shared), kBigDirs * kBigFilesPerDir + 1);
  EXPECT_TRUE(Garbage(store()).empty());
  EXPECT_EQ(Children(store(), tree.sample_dir).size(), static_cast<size_t>(kBigFilesPerDir));

  StatusOr<int64_t> deleted = 0;
  start = Clock::now();
  ASSERT_OK(
      store().Write([&](WriteTxn& t) { return (deleted = t.DeleteSubtree(tree.top)).status(); }));
  const double delete_s = SecondsSince(start);
  RecordProperty("build_seconds", std::to_string(build_s));
  RecordProperty("delete_seconds", std::to_string(delete_s));
  std::printf("[ timing   ] build %.3fs, delete %.3fs\n", build_s, delete_s);

  EXPECT_EQ(*deleted, kBigNodes);
  EXPECT_FALSE(GetNode(store(), tree.top));
  EXPECT_FALSE(GetNode(store(), tree.sample_dir));
  EXPECT_FALSE(GetNode(store(), tree.sample_file));
  EXPECT_TRUE(ReadValue<std::vector<ExtentSlice>>(store(), [&](ReadTxn& t) {
                return t.GetExtents(tree.sample_file);
              }).empty());
  EXPECT_EQ(Names(Children(store(), fs->root_id)), std::vector<std::string>{"keep"});
  EXPECT_EQ(Refcount(store(), shared), 1);
  std::vector<uint64_t> garbage = Garbage(store());
  ASSERT_EQ(garbage.size(), static_cast<size_t>(kBigDirs * kBigFilesPerDir));
  EXPECT_EQ(garbage.front(), kExtentBase + 1'000'000);
  EXPECT_EQ(garbage.back(), kExtentBase + 1'000'000 + kBigDirs * kBigFilesPerDir - 1);

  ASSERT_OK(store().Write([&](WriteTxn& t) { return t.DeleteExtentRecords(garbage); }));
  EXPECT_TRUE(Garbage(store()).empty());
  EXPECT_TRUE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.ExtentKnown(shared); }));
}

TEST_P(NamespaceStoreContractTest, MoveDirectoryWith100kDescendants) {
  StatusOr<Filesystem> fs = CreateFs(store(), "acct", "data");
  ASSERT_TRUE(fs.ok());
  ASSERT_OK(InsertExtents(store(), {1}));
  StatusOr<Node> a = Insert(store(), MakeNode(fs->id, fs->root_id, "a", true));
  StatusOr<Node> b = Insert(store(), MakeNode(fs->id, fs->root_id, "b", true));
  ASSERT_TRUE(a.ok() && b.ok());
  BigTree tree;
  ASSERT_OK(store().Write([&](WriteTxn& t) { return BuildBigTree(t, fs->id, a->id, 1, tree); }));
  std::optional<Node> sample_before = GetNode(store(), tree.sample_file);
  ASSERT_TRUE(sample_before);

  // A rename touches one row: the subtree follows its root and no descendant is rewritten (the
  // sample below is compared field by field). How long it takes is the benchmark's business.
  const std::vector<std::tuple<int64_t, std::string>> hops = {
      {b->id, "moved"}, {a->id, "back"}, {b->id, "moved"}};
  for (const auto& [parent, name] : hops) {
    ASSERT_OK(store().Write([&, parent = parent, name = name](WriteTxn& t) {
      return t.MoveNode(tree.top, parent, name, "\"moved\"", 42);
    }));
  }

  EXPECT_FALSE(ReadValue<bool>(store(), [&](ReadTxn& t) { return t.HasChildren(a->id); }));
  std::optional<Node> top = Lookup(store(), fs->id, b->id, "moved");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->id, tree.top);
  EXPECT_EQ(top->etag, "\"moved\"");
  EXPECT_EQ(Children(store(), top->id).size(), static_cast<size_t>(kBigDirs));
  std::optional<Node> dir = Lookup(store(), fs->id, top->id, "d042");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->id, tree.sample_dir);
  std::optional<Node> file = Lookup(store(), fs->id, dir->id, "f00999");
  ASSERT_TRUE(file);
  ExpectSameNode(*file, *sample_before);  // descendants are not rewritten
  EXPECT_TRUE(IsAncestorOrSelf(store(), b->id, tree.sample_file));
  EXPECT_FALSE(IsAncestorOrSelf(store(), a->id, tree.sample_file));
  EXPECT_EQ(Refcount(store(), 1), kBigDirs * kBigFilesPerDir);
}

}  // namespace

// ---- Implementations ----------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    Sqlite, NamespaceStoreContractTest,
    ::testing::Values(NamespaceStoreFactory{
        "sqlite",
        [](const std::string& location) -> StatusOr<std::unique_ptr<NamespaceStore>> {
          TARN_ASSIGN_OR_RETURN(std::unique_ptr<SqliteNamespaceStore> s,
                                SqliteNamespaceStore::Open(location + "/meta.db"));
          return std::unique_ptr<NamespaceStore>(std::move(s));
        }}),
    NamespaceStoreFactoryName);

}  // namespace tarn::meta
