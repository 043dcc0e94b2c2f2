// SQLite-specific behaviour of SqliteNamespaceStore that the contract suite cannot see: the
// schema upgrade of a database written by an earlier version.
#include "store/meta/sqlite/sqlite_namespace_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "store/sqlite/sqlite_db.h"

namespace tarn::meta {
namespace {

class SqliteNamespaceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "tarn_sqlite_meta_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(SqliteNamespaceStoreTest, UpgradesVersionOneDatabaseForInlineExtents) {
  const std::string db = dir_ + "/meta.db";
  const uint64_t stored = 0x8000'0000'0000'0001ull, in = 0x8000'0000'0000'0002ull;
  {
    auto store = SqliteNamespaceStore::Open(db);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)
                    ->Write([&](WriteTxn& t) {
                      return t.InsertExtent(ExtentRecord{stored, 4, std::string(16, 'm'), 0});
                    })
                    .ok());
  }
  // Turn it back into what version 1 wrote: no inline table.
  {
    auto c = sqlite::Connection::Open(db, /*read_only=*/false);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->ExecScript("DROP TRIGGER extents_forget_data; DROP TABLE extent_data;"
                                 "ALTER TABLE filesystems DROP COLUMN signed_identifiers;"
                                 "ALTER TABLE nodes DROP COLUMN access_tier;"
                                 "ALTER TABLE nodes DROP COLUMN tier_changed_us;"
                                 "DROP TABLE deleted_paths;"
                                 "PRAGMA user_version = 1;")
                    .ok());
  }
  auto store = SqliteNamespaceStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status s = (*store)->Write([&](WriteTxn& t) {
    return t.InsertInlineExtent(ExtentRecord{in, 3, std::string(16, 'n'), 0}, "abc");
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::optional<std::string> data;
  bool old_known = false;
  ASSERT_TRUE((*store)
                  ->Read([&](ReadTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(data, t.GetInlineData(in));
                    TARN_ASSIGN_OR_RETURN(old_known, t.ExtentKnown(stored));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(data, "abc");
  EXPECT_TRUE(old_known);
  // Forgetting the record takes the bytes with it in an upgraded database too.
  ASSERT_TRUE((*store)->Write([&](WriteTxn& t) { return t.DeleteExtentRecords({in}); }).ok());
  ASSERT_TRUE((*store)
                  ->Read([&](ReadTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(data, t.GetInlineData(in));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(data, std::nullopt);
}

// Version 2 databases gain stored access policies and access tiers; what they hold stays.
TEST_F(SqliteNamespaceStoreTest, UpgradesVersionTwoDatabaseForPoliciesAndTiers) {
  const std::string db = dir_ + "/meta.db";
  {
    auto store = SqliteNamespaceStore::Open(db);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Filesystem fs;
    fs.account = "acct";
    fs.name = "fs";
    fs.etag = "e";
    ASSERT_TRUE((*store)
                    ->Write([&](WriteTxn& t) { return t.CreateFilesystem(fs, Node{}).status(); })
                    .ok());
  }
  {
    auto c = sqlite::Connection::Open(db, /*read_only=*/false);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->ExecScript("ALTER TABLE filesystems DROP COLUMN signed_identifiers;"
                                 "ALTER TABLE nodes DROP COLUMN access_tier;"
                                 "ALTER TABLE nodes DROP COLUMN tier_changed_us;"
                                 "DROP TABLE deleted_paths;"
                                 "PRAGMA user_version = 2;")
                    .ok());
  }
  auto store = SqliteNamespaceStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status s = (*store)->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto fs, t.GetFilesystem("acct", "fs"));
    if (!fs) return InternalError("the filesystem is gone");
    EXPECT_EQ(fs->signed_identifiers, "");
    fs->signed_identifiers = "<SignedIdentifiers/>";
    TARN_RETURN_IF_ERROR(t.UpdateFilesystem(*fs));
    TARN_ASSIGN_OR_RETURN(auto root, t.GetNode(fs->root_id));
    if (!root) return InternalError("the root is gone");
    EXPECT_EQ(root->access_tier, "");
    root->access_tier = "Cool";
    root->tier_changed_us = 7;
    return t.UpdateNode(*root);
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE((*store)
                  ->Read([&](ReadTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto fs, t.GetFilesystem("acct", "fs"));
                    EXPECT_EQ(fs->signed_identifiers, "<SignedIdentifiers/>");
                    TARN_ASSIGN_OR_RETURN(auto root, t.GetNode(fs->root_id));
                    EXPECT_EQ(root->access_tier, "Cool");
                    EXPECT_EQ(root->tier_changed_us, 7);
                    return Status::Ok();
                  })
                  .ok());
}

// The writer leaves checkpoints to a background thread; they must still happen, or the WAL
// grows without bound and the database file never receives the pages.
TEST_F(SqliteNamespaceStoreTest, BackgroundCheckpointsKeepTheWalBounded) {
  const std::string db = dir_ + "/meta.db";
  auto store = SqliteNamespaceStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string bytes(3000, 'x');  // about one page per write
  for (uint64_t i = 0; i < 6000; ++i) {
    Status s = (*store)->Write([&](WriteTxn& t) {
      return t.InsertInlineExtent(ExtentRecord{i + 1, 3000, std::string(16, 'm'), 0}, bytes);
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // 6000 pages were written; without checkpoints the WAL would hold them all (24 MB).
  EXPECT_GT(std::filesystem::file_size(db), 4u << 20);
  EXPECT_LT(std::filesystem::file_size(db + "-wal"), 16u << 20);
}

}  // namespace
}  // namespace tarn::meta
