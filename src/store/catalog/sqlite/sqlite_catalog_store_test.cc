#include "store/catalog/sqlite/sqlite_catalog_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "store/sqlite/sqlite_db.h"

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

  PipelineRunRecord Run(const std::string& id, const std::string& ws, const std::string& pipeline,
                        int64_t number, const std::string& status = "succeeded") {
    return PipelineRunRecord{id, ws, pipeline, number, status, number * 1000, "{}"};
  }

  LineageRecord Event(const std::string& id, int64_t time_us, std::vector<std::string> inputs,
                      std::vector<std::string> outputs) {
    return LineageRecord{id,
                         "ws",
                         time_us,
                         std::move(inputs),
                         std::move(outputs),
                         "{\"t\":" + std::to_string(time_us) + "}"};
  }

  static std::vector<std::string> Ids(const std::vector<PipelineRunRecord>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.id);
    return out;
  }
  static std::vector<std::string> Ids(const std::vector<LineageRecord>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.id);
    return out;
  }

  void Reopen() {
    store_.reset();
    auto s = SqliteCatalogStore::Open(dir_ + "/meta.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
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

TEST_F(SqliteCatalogStoreTest, PipelinesPutGetListDelete) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "nightly", "{\"v\":1}"}));
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "Daily", "{}"}));
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"other", "hourly", "{}"}));
                    return t.PutPipeline({"ws", "nightly", "{\"v\":2}"});  // replaces
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto p, t.GetPipeline("ws", "nightly"));
                    EXPECT_TRUE(p.has_value());
                    if (p) {
                      EXPECT_EQ(p->doc, "{\"v\":2}");
                    }
                    TARN_ASSIGN_OR_RETURN(auto upper, t.GetPipeline("ws", "NIGHTLY"));
                    EXPECT_FALSE(upper.has_value());  // names compare exactly
                    TARN_ASSIGN_OR_RETURN(auto elsewhere, t.GetPipeline("other", "nightly"));
                    EXPECT_FALSE(elsewhere.has_value());
                    TARN_ASSIGN_OR_RETURN(auto list, t.ListPipelines("ws"));
                    EXPECT_EQ(list.size(), 2u);
                    if (list.size() == 2) {
                      EXPECT_EQ(list[0].name, "Daily");
                      EXPECT_EQ(list[1].name, "nightly");
                    }
                    TARN_ASSIGN_OR_RETURN(auto all, t.ListAllPipelines());
                    EXPECT_EQ(all.size(), 3u);
                    if (all.size() == 3) {
                      EXPECT_EQ(all[0].workspace, "other");
                      EXPECT_EQ(all[2].name, "nightly");
                    }
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.DeletePipeline("ws", "nightly"));
                    return t.DeletePipeline("ws", "missing");  // Ok
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto p, t.GetPipeline("ws", "nightly"));
                    EXPECT_FALSE(p.has_value());
                    TARN_ASSIGN_OR_RETURN(auto list, t.ListPipelines("ws"));
                    EXPECT_EQ(list.size(), 1u);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, RunsAreNumberedAndListedNewestFirst) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(int64_t none, t.MaxRunNumber("ws", "p"));
                    EXPECT_EQ(none, 0);
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "p", "{}"}));
                    for (const char* id : {"r1", "r2", "r3"}) {
                      TARN_ASSIGN_OR_RETURN(int64_t last, t.MaxRunNumber("ws", "p"));
                      TARN_RETURN_IF_ERROR(t.PutRun(Run(id, "ws", "p", last + 1, "queued")));
                    }
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("q1", "ws", "q", 1)));
                    // Replacing by id updates the run in place.
                    PipelineRunRecord r2 = Run("r2", "ws", "p", 2, "failed");
                    r2.doc = "{\"error\":\"boom\"}";
                    return t.PutRun(r2);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(int64_t max, t.MaxRunNumber("ws", "p"));
                    EXPECT_EQ(max, 3);
                    TARN_ASSIGN_OR_RETURN(auto runs, t.ListRuns("ws", "p", 0));
                    EXPECT_EQ(Ids(runs), (std::vector<std::string>{"r3", "r2", "r1"}));
                    TARN_ASSIGN_OR_RETURN(auto top2, t.ListRuns("ws", "p", 2));
                    EXPECT_EQ(Ids(top2), (std::vector<std::string>{"r3", "r2"}));
                    TARN_ASSIGN_OR_RETURN(auto r2, t.GetRun("ws", "r2"));
                    EXPECT_TRUE(r2.has_value());
                    if (r2) {
                      EXPECT_EQ(r2->pipeline, "p");
                      EXPECT_EQ(r2->number, 2);
                      EXPECT_EQ(r2->status, "failed");
                      EXPECT_EQ(r2->started_us, 2000);
                      EXPECT_EQ(r2->doc, "{\"error\":\"boom\"}");
                    }
                    TARN_ASSIGN_OR_RETURN(auto elsewhere, t.GetRun("other", "r2"));
                    EXPECT_FALSE(elsewhere.has_value());
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, RunsWithStatusAcrossWorkspaces) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("a1", "a", "p", 1, "succeeded")));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("a2", "a", "p", 2, "running")));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("b1", "b", "p", 1, "running")));
                    return t.PutRun(Run("b2", "b", "p", 2, "queued"));
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto running, t.ListRunsWithStatus("running"));
                    EXPECT_EQ(Ids(running), (std::vector<std::string>{"a2", "b1"}));
                    TARN_ASSIGN_OR_RETURN(auto queued, t.ListRunsWithStatus("queued"));
                    EXPECT_EQ(Ids(queued), (std::vector<std::string>{"b2"}));
                    TARN_ASSIGN_OR_RETURN(auto none, t.ListRunsWithStatus("publishing"));
                    EXPECT_TRUE(none.empty());
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, DeletePipelineDeletesItsRuns) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "p", "{}"}));
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "q", "{}"}));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("p1", "ws", "p", 1, "running")));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("p2", "ws", "p", 2)));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("q1", "ws", "q", 1, "running")));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("o1", "other", "p", 1)));
                    return t.DeletePipeline("ws", "p");
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto runs, t.ListRuns("ws", "p", 0));
                    EXPECT_TRUE(runs.empty());
                    TARN_ASSIGN_OR_RETURN(auto p1, t.GetRun("ws", "p1"));
                    EXPECT_FALSE(p1.has_value());
                    TARN_ASSIGN_OR_RETURN(int64_t max, t.MaxRunNumber("ws", "p"));
                    EXPECT_EQ(max, 0);
                    TARN_ASSIGN_OR_RETURN(auto running, t.ListRunsWithStatus("running"));
                    EXPECT_EQ(Ids(running), (std::vector<std::string>{"q1"}));
                    TARN_ASSIGN_OR_RETURN(auto other, t.ListRuns("other", "p", 0));
                    EXPECT_EQ(Ids(other), (std::vector<std::string>{"o1"}));
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, LineageByInputAndOutputKeys) {
  const std::string raw = "path:abfss://raw@acct.dfs.core.windows.net/pos/x.csv";
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(
                        t.PutLineage(Event("run1:COMPLETE", 100, {raw}, {"dataset:sales:1"})));
                    TARN_RETURN_IF_ERROR(t.PutLineage(Event(
                        "run2:COMPLETE", 200, {"dataset:sales:1", raw}, {"dataset:report:1"})));
                    // Same key in another workspace: not part of ws's graph.
                    LineageRecord other = Event("run3:COMPLETE", 150, {raw}, {"dataset:sales:1"});
                    other.workspace = "other";
                    return t.PutLineage(other);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto from_raw, t.LineageWithInput("ws", raw));
                    EXPECT_EQ(Ids(from_raw),
                              (std::vector<std::string>{"run1:COMPLETE", "run2:COMPLETE"}));
                    TARN_ASSIGN_OR_RETURN(auto made_sales,
                                          t.LineageWithOutput("ws", "dataset:sales:1"));
                    EXPECT_EQ(Ids(made_sales), (std::vector<std::string>{"run1:COMPLETE"}));
                    TARN_ASSIGN_OR_RETURN(auto read_sales,
                                          t.LineageWithInput("ws", "dataset:sales:1"));
                    EXPECT_EQ(Ids(read_sales), (std::vector<std::string>{"run2:COMPLETE"}));
                    if (read_sales.size() == 1) {
                      const LineageRecord& e = read_sales[0];
                      EXPECT_EQ(e.workspace, "ws");
                      EXPECT_EQ(e.time_us, 200);
                      EXPECT_EQ(e.inputs, (std::vector<std::string>{"dataset:sales:1", raw}));
                      EXPECT_EQ(e.outputs, (std::vector<std::string>{"dataset:report:1"}));
                      EXPECT_EQ(e.doc, "{\"t\":200}");
                    }
                    TARN_ASSIGN_OR_RETURN(auto none, t.LineageWithOutput("ws", raw));
                    EXPECT_TRUE(none.empty());
                    TARN_ASSIGN_OR_RETURN(auto all, t.ListLineage("ws", 0));
                    EXPECT_EQ(Ids(all),
                              (std::vector<std::string>{"run2:COMPLETE", "run1:COMPLETE"}));
                    TARN_ASSIGN_OR_RETURN(auto newest, t.ListLineage("ws", 1));
                    EXPECT_EQ(Ids(newest), (std::vector<std::string>{"run2:COMPLETE"}));
                    return Status::Ok();
                  })
                  .ok());
  // Replacing an event replaces its edges.
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) {
                    return t.PutLineage(
                        Event("run2:COMPLETE", 300, {"dataset:sales:2"}, {"dataset:report:2"}));
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto read_sales1,
                                          t.LineageWithInput("ws", "dataset:sales:1"));
                    EXPECT_TRUE(read_sales1.empty());
                    TARN_ASSIGN_OR_RETURN(auto from_raw, t.LineageWithInput("ws", raw));
                    EXPECT_EQ(Ids(from_raw), (std::vector<std::string>{"run1:COMPLETE"}));
                    TARN_ASSIGN_OR_RETURN(auto made_report1,
                                          t.LineageWithOutput("ws", "dataset:report:1"));
                    EXPECT_TRUE(made_report1.empty());
                    TARN_ASSIGN_OR_RETURN(auto read_sales2,
                                          t.LineageWithInput("ws", "dataset:sales:2"));
                    EXPECT_EQ(Ids(read_sales2), (std::vector<std::string>{"run2:COMPLETE"}));
                    if (read_sales2.size() == 1) {
                      EXPECT_EQ(read_sales2[0].time_us, 300);
                      EXPECT_EQ(read_sales2[0].outputs,
                                (std::vector<std::string>{"dataset:report:2"}));
                    }
                    TARN_ASSIGN_OR_RETURN(auto all, t.ListLineage("ws", 0));
                    EXPECT_EQ(all.size(), 2u);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, PipelinesRunsAndLineageSurviveReopen) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "p", "{\"cron\":\"@daily\"}"}));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("r1", "ws", "p", 1, "running")));
                    return t.PutLineage(Event("r1:START", 10, {"dataset:a:1"}, {"dataset:b:1"}));
                  })
                  .ok());
  Reopen();
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto p, t.GetPipeline("ws", "p"));
                    EXPECT_TRUE(p.has_value());
                    if (p) {
                      EXPECT_EQ(p->doc, "{\"cron\":\"@daily\"}");
                    }
                    TARN_ASSIGN_OR_RETURN(auto running, t.ListRunsWithStatus("running"));
                    EXPECT_EQ(Ids(running), (std::vector<std::string>{"r1"}));
                    TARN_ASSIGN_OR_RETURN(int64_t max, t.MaxRunNumber("ws", "p"));
                    EXPECT_EQ(max, 1);
                    TARN_ASSIGN_OR_RETURN(auto made_b, t.LineageWithOutput("ws", "dataset:b:1"));
                    EXPECT_EQ(Ids(made_b), (std::vector<std::string>{"r1:START"}));
                    if (made_b.size() == 1) {
                      EXPECT_EQ(made_b[0].inputs, (std::vector<std::string>{"dataset:a:1"}));
                    }
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, DeleteWorkspaceRemovesPipelinesRunsAndLineage) {
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_RETURN_IF_ERROR(t.PutWorkspace({"ws", "{}"}));
                    TARN_RETURN_IF_ERROR(t.PutWorkspace({"keep", "{}"}));
                    for (const char* ws : {"ws", "keep"}) {
                      TARN_RETURN_IF_ERROR(t.PutPipeline({ws, "p", "{}"}));
                      TARN_RETURN_IF_ERROR(
                          t.PutRun(Run(std::string(ws) + "-r1", ws, "p", 1, "running")));
                      LineageRecord e = Event(std::string(ws) + ":COMPLETE", 1, {"dataset:a:1"},
                                              {"dataset:b:1"});
                      e.workspace = ws;
                      TARN_RETURN_IF_ERROR(t.PutLineage(e));
                    }
                    return t.DeleteWorkspace("ws");
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto pipelines, t.ListAllPipelines());
                    EXPECT_EQ(pipelines.size(), 1u);
                    if (pipelines.size() == 1) {
                      EXPECT_EQ(pipelines[0].workspace, "keep");
                    }
                    TARN_ASSIGN_OR_RETURN(auto runs, t.ListRuns("ws", "p", 0));
                    EXPECT_TRUE(runs.empty());
                    TARN_ASSIGN_OR_RETURN(auto running, t.ListRunsWithStatus("running"));
                    EXPECT_EQ(Ids(running), (std::vector<std::string>{"keep-r1"}));
                    TARN_ASSIGN_OR_RETURN(auto events, t.ListLineage("ws", 0));
                    EXPECT_TRUE(events.empty());
                    TARN_ASSIGN_OR_RETURN(auto by_key, t.LineageWithInput("ws", "dataset:a:1"));
                    EXPECT_TRUE(by_key.empty());
                    TARN_ASSIGN_OR_RETURN(auto kept, t.LineageWithInput("keep", "dataset:a:1"));
                    EXPECT_EQ(Ids(kept), (std::vector<std::string>{"keep:COMPLETE"}));
                    return Status::Ok();
                  })
                  .ok());
}

TEST_F(SqliteCatalogStoreTest, DatabaseFromBeforePipelinesGainsTheirTables) {
  store_.reset();
  const std::string path = dir_ + "/old.db";
  {
    auto conn = sqlite::Connection::Open(path, false);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)
                    ->ExecScript("CREATE TABLE cat_workspaces(name TEXT PRIMARY KEY,"
                                 " doc TEXT NOT NULL);"
                                 "INSERT INTO cat_workspaces VALUES('ws', '{}');")
                    .ok());
  }
  auto s = SqliteCatalogStore::Open(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(s).value();
  ASSERT_TRUE(store_
                  ->Write([&](CatalogTxn& t) -> Status {
                    TARN_ASSIGN_OR_RETURN(auto w, t.GetWorkspace("ws"));
                    EXPECT_TRUE(w.has_value());
                    TARN_RETURN_IF_ERROR(t.PutPipeline({"ws", "p", "{}"}));
                    TARN_RETURN_IF_ERROR(t.PutRun(Run("r1", "ws", "p", 1)));
                    return t.PutLineage(Event("r1:COMPLETE", 1, {"dataset:a:1"}, {}));
                  })
                  .ok());
}

}  // namespace
}  // namespace tarn::catalog
