#include "store/catalog/sqlite/sqlite_catalog_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace tarn::catalog {
namespace {

class SqliteCatalogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tarn_catalog_store.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto s = SqliteCatalogStore::Open(dir_ + "/meta.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  VersionRecord Version(const std::string& id, const std::string& name, int64_t v,
                        const std::string& state = "active") {
    return VersionRecord{id, "ws", name, v, state, {"Lake"}, "{\"v\":" + std::to_string(v) + "}"};
  }

  std::string dir_;
  std::unique_ptr<SqliteCatalogStore> store_;
};

TEST_F(SqliteCatalogStoreTest, DatastoreNamesAreCaseInsensitive) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutWorkspace({"ws", "{}"}));
                    return t.PutDatastore({"ws", "Lake", "{}", "sealed"});
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto d, t.GetDatastore("ws", "LAKE"));
                    EXPECT_TRUE(d.has_value());
                    if (d) {
                      EXPECT_EQ(d->name, "Lake");
                      EXPECT_EQ(d->sealed_secret, "sealed");
                    }
                    TARN_ASSIGN_OR_RETURN(auto none, t.GetDatastore("other", "lake"));
                    EXPECT_FALSE(none.has_value());
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, VersionsLatestAndArchived) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    std::string m = "[1,2,3]";
                    TARN_RETURN_IF_ERROR(t.PutVersion(Version("a", "sales", 1), &m));
                    TARN_RETURN_IF_ERROR(
                        t.PutVersion(Version("b", "sales", 2, "archived"), nullptr));
                    return t.PutVersion(Version("c", "other", 1), nullptr);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(int64_t max, t.MaxVersion("ws", "sales"));
                    EXPECT_EQ(max, 2);
                    TARN_ASSIGN_OR_RETURN(auto latest, t.LatestVersion("ws", "sales", true));
                    EXPECT_EQ(latest->id, "a");
                    TARN_ASSIGN_OR_RETURN(auto any, t.LatestVersion("ws", "sales", false));
                    EXPECT_EQ(any->id, "b");
                    TARN_ASSIGN_OR_RETURN(auto active, t.ListDatasets("ws", false));
                    EXPECT_EQ(active.size(), 2u);
                    EXPECT_EQ(active[1].id, "a");
                    TARN_ASSIGN_OR_RETURN(auto all, t.ListDatasets("ws", true));
                    EXPECT_EQ(all[1].id, "b");
                    TARN_ASSIGN_OR_RETURN(std::string m, t.GetManifest("a"));
                    EXPECT_EQ(m, "[1,2,3]");
                    TARN_ASSIGN_OR_RETURN(int64_t users, t.CountActiveVersionsUsing("ws", "lake"));
                    EXPECT_EQ(users, 2);  // a and c; b is archived
                    TARN_ASSIGN_OR_RETURN(auto ids, t.ListVersionIds());
                    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, VersionNumberIsUniqueAndFailedWritesLeaveNothing) {
  ASSERT_TRUE(
      store_->Write([&](CatalogTxn& t) { return t.PutVersion(Version("a", "s", 1), nullptr); })
          .ok());
  Status s = store_->Write([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.PutWorkspace({"ws2", "{}"}));
    return t.PutVersion(Version("z", "s", 1), nullptr);
  });
  EXPECT_EQ(s.reason(), Reason::kDatasetAlreadyExists);
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto w, t.GetWorkspace("ws2"));
                    EXPECT_FALSE(w.has_value());  // rolled back with the failed version
                    return Status::Ok();
                  })
                  .ok());
  // Replacing by id keeps the manifest unless a new one is given.
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    std::string m = "M";
                    TARN_RETURN_IF_ERROR(t.PutVersion(Version("a", "s", 1), &m));
                    return t.PutVersion(Version("a", "s", 1, "archived"), nullptr);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(std::string m, t.GetManifest("a"));
                    EXPECT_EQ(m, "M");
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, DeleteWorkspaceCascades) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutWorkspace({"ws", "{}"}));
                    TARN_RETURN_IF_ERROR(t.PutDatastore({"ws", "d", "{}", ""}));
                    TARN_RETURN_IF_ERROR(t.PutVersion(Version("a", "s", 1), nullptr));
                    return t.DeleteWorkspace("ws");
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto ds, t.ListDatastores("ws"));
                    EXPECT_TRUE(ds.empty());
                    TARN_ASSIGN_OR_RETURN(auto ids, t.ListVersionIds());
                    EXPECT_TRUE(ids.empty());
                    return Status::Ok();
                  })
                  .ok());
}

}  // namespace
}  // namespace tarn::catalog
