#include "store/space/disk_guard.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>

namespace tarn::space {
namespace {

constexpr int64_t kMiB = 1 << 20;

class DiskGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/disk_guard_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The free space the guard sees: what the test sets, less the reserve while it exists.
  DiskGuard::FreeBytesFn Free() {
    return [this]() -> StatusOr<int64_t> {
      struct stat st {};
      const bool reserve = ::stat((dir_ + "/reserve").c_str(), &st) == 0;
      return free_.load() - (reserve ? st.st_size : 0);
    };
  }
  bool ReserveExists() { return std::filesystem::exists(dir_ + "/reserve"); }

  std::string dir_;
  std::atomic<int64_t> free_{1024 * kMiB};
  DiskGuardOptions opts_{8 * kMiB, 32 * kMiB, 4 * kMiB};
};

TEST_F(DiskGuardTest, HoldsAReserveAndAdmitsDataWhileThereIsRoom) {
  auto g = DiskGuard::Open(dir_, opts_, Free());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE((*g)->reserve_held());
  EXPECT_TRUE(ReserveExists());
  EXPECT_EQ(std::filesystem::file_size(dir_ + "/reserve"), static_cast<uintmax_t>(8 * kMiB));
  EXPECT_TRUE((*g)->AdmitData(100 * kMiB).ok());
  EXPECT_TRUE((*g)->AdmitData(std::nullopt).ok());
}

TEST_F(DiskGuardTest, RefusesNewDataBelowTheLimitWithItsOwnReason) {
  auto g = DiskGuard::Open(dir_, opts_, Free());
  ASSERT_TRUE(g.ok());
  free_ = 40 * kMiB + 8 * kMiB;  // 40 MiB seen besides the reserve
  EXPECT_TRUE((*g)->AdmitData(4 * kMiB).ok());
  Status s = (*g)->AdmitData(16 * kMiB);  // would leave 24 MiB < 32
  EXPECT_EQ(s.reason(), Reason::kDiskFull);
  EXPECT_EQ(s.message().find(dir_), std::string::npos) << "no local paths: " << s.message();
  free_ = 20 * kMiB;
  EXPECT_EQ((*g)->AdmitData(std::nullopt).reason(), Reason::kDiskFull);
  EXPECT_TRUE((*g)->reserve_held()) << "refusing data does not touch the reserve";
}

TEST_F(DiskGuardTest, MetadataWritesReleaseTheReserveOnlyWhenCriticallyFull) {
  auto g = DiskGuard::Open(dir_, opts_, Free());
  ASSERT_TRUE(g.ok());
  free_ = 8 * kMiB + 10 * kMiB;  // 10 MiB free: low, not critical
  (*g)->BeforeMetadataWrite();
  EXPECT_TRUE((*g)->reserve_held());
  free_ = 8 * kMiB;  // nothing free but the reserve
  (*g)->BeforeMetadataWrite();
  EXPECT_FALSE((*g)->reserve_held());
  EXPECT_FALSE(ReserveExists());
  EXPECT_FALSE((*g)->ReleaseReserve()) << "released once";
  // The released space belongs to metadata: it does not admit new data.
  free_ = 8 * kMiB + 32 * kMiB;
  EXPECT_EQ((*g)->AdmitData(kMiB).reason(), Reason::kDiskFull);
  EXPECT_FALSE((*g)->reserve_held());
  // Space freed (deletes): the next admission takes the reserve back.
  free_ = 200 * kMiB;
  EXPECT_TRUE((*g)->AdmitData(kMiB).ok());
  EXPECT_TRUE((*g)->reserve_held());
  EXPECT_TRUE(ReserveExists());
}

TEST_F(DiskGuardTest, StartsOnAFullDiskWithTheReserveReleased) {
  {
    auto g = DiskGuard::Open(dir_, opts_, Free());
    ASSERT_TRUE(g.ok());
    ASSERT_TRUE(ReserveExists());
  }
  free_ = 8 * kMiB;  // after a restart, only the reserve is left
  auto g = DiskGuard::Open(dir_, opts_, Free());
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE((*g)->reserve_held());
  EXPECT_FALSE(ReserveExists());
  // ... and does not take it back until there is room for it and new data besides.
  free_ = 30 * kMiB;
  (*g)->RestoreReserve();
  EXPECT_FALSE((*g)->reserve_held());
}

TEST_F(DiskGuardTest, NoReserveOnADiskTooSmallForOne) {
  free_ = 20 * kMiB;
  auto g = DiskGuard::Open(dir_, opts_, Free());
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE((*g)->reserve_held());
  EXPECT_FALSE(ReserveExists());
}

}  // namespace
}  // namespace tarn::space
