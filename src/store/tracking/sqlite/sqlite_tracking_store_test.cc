#include "store/tracking/sqlite/sqlite_tracking_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include <unistd.h>

namespace tarn::tracking {
namespace {

class SqliteTrackingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tarn-tracking-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = SqliteTrackingStore::Open((dir_ / "tracking.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void MakeRun(const std::string& id) {
    ASSERT_TRUE(store_->Write([&](TrackingTxn& t) -> Status {
                        Experiment e;
                        e.ws = "ws";
                        e.id = 1;
                        e.name = "exp";
                        TARN_RETURN_IF_ERROR(t.PutExperiment(e));
                        RunInfo r;
                        r.run_id = id;
                        r.ws = "ws";
                        r.experiment_id = 1;
                        return t.PutRun(r);
                      }).ok());
  }
  std::vector<Metric> Latest(const std::string& run) {
    std::vector<Metric> out;
    EXPECT_TRUE(store_->Read([&](TrackingTxn& t) -> Status {
                        TARN_ASSIGN_OR_RETURN(RunData d, t.GetRunData(run));
                        out = d.metrics;
                        return Status::Ok();
                      }).ok());
    return out;
  }
  std::vector<Metric> History(const std::string& run, const std::string& key) {
    std::vector<Metric> out;
    EXPECT_TRUE(store_->Read([&](TrackingTxn& t) -> Status {
                        TARN_ASSIGN_OR_RETURN(out, t.MetricHistory(run, key, 0, 0));
                        return Status::Ok();
                      }).ok());
    return out;
  }
  Status Log(const std::string& run, Metric m) {
    return store_->Write([&](TrackingTxn& t) { return t.LogMetrics(run, {m}); });
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteTrackingStore> store_;
};

TEST_F(SqliteTrackingStoreTest, TheLatestValueIsTheGreatestStepThenTimeThenValue) {
  MakeRun("r");
  ASSERT_TRUE(Log("r", Metric{"loss", 0.5, 100, 2, false}).ok());
  ASSERT_TRUE(Log("r", Metric{"loss", 0.9, 200, 1, false}).ok());  // an older step, later
  auto latest = Latest("r");
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].value, 0.5);
  ASSERT_TRUE(Log("r", Metric{"loss", 0.1, 100, 2, false}).ok());  // same step and time
  EXPECT_EQ(Latest("r")[0].value, 0.5);                             // the greater value stays
  ASSERT_TRUE(Log("r", Metric{"loss", 0.7, 101, 2, false}).ok());
  EXPECT_EQ(Latest("r")[0].value, 0.7);
  EXPECT_EQ(History("r", "loss").size(), 4u);
}

TEST_F(SqliteTrackingStoreTest, NanIsKeptAndIdenticalPointsOnce) {
  MakeRun("r");
  ASSERT_TRUE(Log("r", Metric{"m", 0, 5, 0, true}).ok());
  ASSERT_TRUE(Log("r", Metric{"x", 1.5, 5, 0, false}).ok());
  ASSERT_TRUE(Log("r", Metric{"x", 1.5, 5, 0, false}).ok());  // a retried batch
  auto nan = History("r", "m");
  ASSERT_EQ(nan.size(), 1u);
  EXPECT_TRUE(nan[0].is_nan);
  EXPECT_TRUE(std::isnan(nan[0].value));
  EXPECT_EQ(History("r", "x").size(), 1u);
  // A number after a NaN at the same step and time replaces it as the latest.
  ASSERT_TRUE(Log("r", Metric{"m", 2, 5, 0, false}).ok());
  for (const Metric& m : Latest("r")) {
    if (m.key == "m") {
      EXPECT_FALSE(m.is_nan);
    }
  }
}

TEST_F(SqliteTrackingStoreTest, ABatchMakesItsNewestPointOfEachKeyTheLatest) {
  MakeRun("r");
  ASSERT_TRUE(store_->Write([&](TrackingTxn& t) {
                      return t.LogMetrics("r", {Metric{"a", 3, 10, 5, false},
                                                Metric{"b", 1, 10, 0, true},
                                                Metric{"a", 9, 10, 4, false},  // an older step
                                                Metric{"a", 4, 11, 5, false},  // later, same step
                                                Metric{"b", 0.5, 10, 0, false}});
                    }).ok());
  auto latest = Latest("r");
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].key, "a");
  EXPECT_EQ(latest[0].value, 4);
  EXPECT_EQ(latest[1].key, "b");
  EXPECT_FALSE(latest[1].is_nan);
  EXPECT_EQ(latest[1].value, 0.5);
  EXPECT_EQ(History("r", "a").size(), 3u);
  EXPECT_EQ(History("r", "b").size(), 2u);
}

TEST_F(SqliteTrackingStoreTest, AFailedWriteLeavesNothingBehind) {
  MakeRun("r");
  Status s = store_->Write([&](TrackingTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(t.PutParam("r", "a", "1"));
    return Error(Reason::kMlflowInvalidParameterValue, "refused");
  });
  EXPECT_EQ(s.reason(), Reason::kMlflowInvalidParameterValue);
  ASSERT_TRUE(store_->Read([&](TrackingTxn& t) -> Status {
                      TARN_ASSIGN_OR_RETURN(auto p, t.GetParam("r", "a"));
                      EXPECT_FALSE(p.has_value());
                      return Status::Ok();
                    }).ok());
}

TEST_F(SqliteTrackingStoreTest, ConcurrentWritersShareCommitsAndEachFailsAlone) {
  MakeRun("r");
  constexpr int kThreads = 16, kEach = 50;
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Status s = store_->Write([&](TrackingTxn& txn) -> Status {
          TARN_RETURN_IF_ERROR(
              txn.LogMetrics("r", {Metric{"k" + std::to_string(t), 1.0 * i, i, i, false}}));
          // Every tenth write fails after writing: its point must not survive.
          if (i % 10 == 9) return Error(Reason::kMlflowInvalidParameterValue, "no");
          return Status::Ok();
        });
        if (!s.ok()) ++refused;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), kThreads * kEach / 10);
  Reopen();  // and it is all on disk
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(History("r", "k" + std::to_string(t)).size(), static_cast<size_t>(kEach * 9 / 10));
  }
}

TEST_F(SqliteTrackingStoreTest, DocsAreFoundByPrefixInKeyOrder) {
  ASSERT_TRUE(store_->Write([&](TrackingTxn& t) -> Status {
                      TARN_RETURN_IF_ERROR(t.PutDoc("k", "ws", "m\x1f" "2", "two"));
                      TARN_RETURN_IF_ERROR(t.PutDoc("k", "ws", "m\x1f" "1", "one"));
                      TARN_RETURN_IF_ERROR(t.PutDoc("k", "ws", "mx\x1f" "1", "other"));
                      return t.PutDoc("k", "ws2", "m\x1f" "3", "elsewhere");
                    }).ok());
  ASSERT_TRUE(store_->Read([&](TrackingTxn& t) -> Status {
                      TARN_ASSIGN_OR_RETURN(auto docs, t.ListDocs("k", "ws", "m\x1f"));
                      EXPECT_EQ(docs.size(), 2u);
                      EXPECT_EQ(docs[0].second, "one");
                      EXPECT_EQ(docs[1].second, "two");
                      return Status::Ok();
                    }).ok());
  ASSERT_TRUE(store_->Write([&](TrackingTxn& t) -> Status {
                      TARN_ASSIGN_OR_RETURN(bool gone, t.DeleteDoc("k", "ws", "nope"));
                      EXPECT_FALSE(gone);
                      TARN_ASSIGN_OR_RETURN(gone, t.DeleteDoc("k", "ws", "m\x1f" "1"));
                      EXPECT_TRUE(gone);
                      return Status::Ok();
                    }).ok());
}

TEST_F(SqliteTrackingStoreTest, ExperimentNamesAreUniquePerWorkspace) {
  Experiment a;
  a.ws = "ws";
  a.id = 1;
  a.name = "same";
  ASSERT_TRUE(store_->Write([&](TrackingTxn& t) { return t.PutExperiment(a); }).ok());
  Experiment b = a;
  b.id = 2;
  EXPECT_EQ(store_->Write([&](TrackingTxn& t) { return t.PutExperiment(b); }).reason(),
            Reason::kMlflowResourceAlreadyExists);
  b.ws = "other";
  EXPECT_TRUE(store_->Write([&](TrackingTxn& t) { return t.PutExperiment(b); }).ok());
}

}  // namespace
}  // namespace tarn::tracking
