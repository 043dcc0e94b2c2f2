#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

namespace tarn::audit {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "tarn_audit.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(AuditLogTest, RotatesWithoutLosingLines) {
  auto log = AuditLog::Open(dir_, 4096);
  ASSERT_TRUE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) (*log)->Append(Json{{"t", t}, {"i", i}, {"pad", "x"}});
    });
  }
  for (auto& th : threads) th.join();
  auto all = (*log)->Read([](const Json&) { return true; }, 100000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1000u);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_GT(files, 5u);
  std::set<std::pair<int, int>> seen;
  for (const auto& j : *all) seen.emplace(j["t"].get<int>(), j["i"].get<int>());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST_F(AuditLogTest, SummarisesReadsAndFilters) {
  auto log = AuditLog::Open(dir_, 1 << 20);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 500; ++i) (*log)->CountRead("sp-1");
  (*log)->CountRead("sp-2");
  (*log)->Append(Json{{"event", "request"}, {"result", "denied"}, {"principal", "sp-1"}});
  (*log)->FlushSummaries();
  auto reads = (*log)->Read([](const Json& j) { return j.value("event", "") == "reads"; }, 10);
  ASSERT_TRUE(reads.ok());
  ASSERT_EQ(reads->size(), 2u);
  EXPECT_EQ((*reads)[0]["count"], 500);
  auto denied = (*log)->Read([](const Json& j) { return j.value("result", "") == "denied"; }, 10);
  EXPECT_EQ(denied->size(), 1u);
}

TEST_F(AuditLogTest, ReadsThroughADatastoreNameItsCredential) {
  auto log = AuditLog::Open(dir_, 1 << 20);
  ASSERT_TRUE(log.ok());
  const std::string via = "datastore ws/sales as service_principal app-1";
  for (int i = 0; i < 3; ++i) (*log)->CountRead("oid:ada", via);
  (*log)->CountRead("oid:ada");
  (*log)->FlushSummaries();
  auto reads = (*log)->Read([](const Json& j) { return j.value("event", "") == "reads"; }, 10);
  ASSERT_TRUE(reads.ok());
  ASSERT_EQ(reads->size(), 2u);
  EXPECT_FALSE((*reads)[0].contains("via"));
  EXPECT_EQ((*reads)[0]["count"], 1);
  EXPECT_EQ((*reads)[1]["via"], via);
  EXPECT_EQ((*reads)[1]["count"], 3);
}

}  // namespace
}  // namespace tarn::audit
