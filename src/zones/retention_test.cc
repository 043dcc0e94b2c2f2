#include "zones/retention.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "common/time_util.h"
#include "store/extent/local/local_extent_store.h"
#include "store/meta/sqlite/sqlite_namespace_store.h"

namespace tarn::zones {
namespace {

constexpr char kAcct[] = "acct";
constexpr int64_t kDayUs = 86400LL * 1000 * 1000;

class Bytes : public lake::ByteSource {
 public:
  explicit Bytes(std::string data) : data_(std::move(data)) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "tarn_retention_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto meta = meta::SqliteNamespaceStore::Open(dir_ + "/meta.db");
    ASSERT_TRUE(meta.ok());
    meta_ = std::move(*meta);
    auto ext = extent::LocalExtentStore::Open(dir_ + "/extents");
    ASSERT_TRUE(ext.ok());
    extents_ = std::move(*ext);
    lake_ = std::make_unique<lake::LakeService>(meta_.get(), extents_.get());
    // raw and curated are zones keeping raw batches 30 days and staging 14; plain is no zone.
    const lake::Metadata retention = {{"tarn_raw_batches_days", "30"},
                                      {"tarn_failed_staging_days", "14"}};
    lake::Metadata raw = retention, curated = retention;
    raw["tarn_zone"] = "raw";
    curated["TARN_ZONE"] = "curated";  // names are compared without case, as Azure does
    ASSERT_TRUE(lake_->CreateFilesystem(kAcct, "raw", raw, "").ok());
    ASSERT_TRUE(lake_->CreateFilesystem(kAcct, "curated", curated, "").ok());
    ASSERT_TRUE(lake_->CreateFilesystem(kAcct, "plain", retention, "").ok());
  }
  void TearDown() override {
    lake_.reset();
    extents_.reset();
    meta_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(const std::string& fs, const std::string& path, const std::string& data = "x") {
    Bytes src(data);
    auto n = lake_->PutFile(kAcct, fs, path, src, {});
    ASSERT_TRUE(n.ok()) << path << ": " << n.status().ToString();
  }
  bool Exists(const std::string& fs, const std::string& path) {
    return lake_->GetPath(kAcct, fs, path, {}).ok();
  }

  std::string dir_;
  std::unique_ptr<meta::SqliteNamespaceStore> meta_;
  std::unique_ptr<extent::LocalExtentStore> extents_;
  std::unique_ptr<lake::LakeService> lake_;
};

TEST_F(RetentionTest, DeletesOldRawDaysAndStaleStagingOnly) {
  const int64_t now = NowMicros();
  const std::string today = FormatIso8601(now).substr(0, 10);
  const std::string old_day = FormatIso8601(now - 40 * kDayUs).substr(0, 10);
  const std::string edge_day = FormatIso8601(now - 29 * kDayUs).substr(0, 10);
  for (const char* fs : {"raw", "curated", "plain"}) {
    Put(fs, "pos/ingest_date=" + old_day + "/batch=a/f.csv");
    Put(fs, "pos/ingest_date=" + edge_day + "/batch=b/f.csv");
    Put(fs, "pos/ingest_date=" + today + "/batch=c/f.csv");
    Put(fs, "pos/notes/ingest_date=" + old_day + "/f.csv");  // not a batch day of a source
    Put(fs, ".tarn/staging/ingest-1/f.csv");
    Put(fs, ".tarn/ingest/pos/abc.json", "{}");
  }
  Retention r(lake_.get(), {kAcct});

  // Today nothing in staging is stale, and only the raw zone's 40-day-old day goes.
  auto pass = r.RunOnce(now);
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->filesystems, 2);  // raw and curated
  EXPECT_EQ(pass->batch_days_deleted, 1);
  EXPECT_EQ(pass->staging_deleted, 0);
  EXPECT_FALSE(Exists("raw", "pos/ingest_date=" + old_day));
  EXPECT_TRUE(Exists("raw", "pos/ingest_date=" + edge_day + "/batch=b/f.csv"));
  EXPECT_TRUE(Exists("raw", "pos/notes/ingest_date=" + old_day + "/f.csv"));
  EXPECT_TRUE(Exists("curated", "pos/ingest_date=" + old_day + "/batch=a/f.csv"));
  EXPECT_TRUE(Exists("raw", ".tarn/ingest/pos/abc.json"));

  // Fifteen days on: staging is stale in both zones with a record, never in "plain"; the
  // marker and the edge day go too.
  pass = r.RunOnce(now + 15 * kDayUs);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->staging_deleted, 2);
  EXPECT_FALSE(Exists("raw", ".tarn/staging/ingest-1"));
  EXPECT_FALSE(Exists("curated", ".tarn/staging/ingest-1"));
  EXPECT_TRUE(Exists("plain", ".tarn/staging/ingest-1/f.csv"));
  EXPECT_FALSE(Exists("raw", "pos/ingest_date=" + edge_day));
  EXPECT_TRUE(Exists("raw", "pos/ingest_date=" + today + "/batch=c/f.csv"));
  EXPECT_EQ(pass->markers_deleted, 0);  // 15 days old, kept 30
  pass = r.RunOnce(now + 31 * kDayUs);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->markers_deleted, 1);
  EXPECT_FALSE(Exists("raw", "pos/ingest_date=" + today));
}

TEST_F(RetentionTest, UnreadableDaysAreIgnored) {
  lake::Metadata odd = {{"tarn_zone", "raw"}, {"tarn_raw_batches_days", "soon"},
                        {"tarn_failed_staging_days", "0"}};
  ASSERT_TRUE(lake_->CreateFilesystem(kAcct, "odd", odd, "").ok());
  Put("odd", "pos/ingest_date=2000-01-01/batch=a/f.csv");
  Put("raw", "pos/ingest_date=2000-01-01/batch=a/f.csv");
  Retention r(lake_.get(), {kAcct});
  auto pass = r.RunOnce(NowMicros() + 100 * kDayUs);
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(Exists("odd", "pos/ingest_date=2000-01-01/batch=a/f.csv"));
  EXPECT_FALSE(Exists("raw", "pos/ingest_date=2000-01-01"));
}

TEST_F(RetentionTest, StartsAndStops) {
  Put("raw", "pos/ingest_date=2000-01-01/batch=a/f.csv");
  {
    Retention r(lake_.get(), {kAcct});
    r.Start(std::chrono::seconds(1));
    for (int i = 0; i < 50 && Exists("raw", "pos/ingest_date=2000-01-01"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_FALSE(Exists("raw", "pos/ingest_date=2000-01-01"));
}

}  // namespace
}  // namespace tarn::zones
