#include "store/extent/packed/packed_extent_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "common/crypto.h"
#include "store/extent/local/local_extent_store.h"

namespace tarn::extent {
namespace {

class PackedExtentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("packed-test-" + NewUuid());
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto local = LocalExtentStore::Open(dir_.string() + "/files");
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    auto s = PackedExtentStore::Open(dir_.string() + "/packed.db", std::move(*local), 1024);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  ExtentInfo Write(const std::string& data, size_t piece = 100) {
    auto w = store_->NewWriter(extent::Hashing::kMd5);
    EXPECT_TRUE(w.ok());
    for (size_t i = 0; i < data.size(); i += piece) {
      EXPECT_TRUE((*w)->Append(std::string_view(data).substr(i, piece)).ok());
    }
    auto info = (*w)->Finish();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return *info;
  }
  std::string Read(uint64_t id) {
    auto r = store_->Open(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out(static_cast<size_t>((*r)->length()), '\0');
    auto n = (*r)->ReadAt(0, out.data(), out.size());
    EXPECT_TRUE(n.ok());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<PackedExtentStore> store_;
};

TEST_F(PackedExtentStoreTest, SmallExtentsArePackedLargeOnesAreFiles) {
  std::string small(1000, 's'), large(5000, 'L');
  ExtentInfo a = Write(small);
  ExtentInfo b = Write(large);
  EXPECT_TRUE(PackedExtentStore::IsPacked(a.id));
  EXPECT_FALSE(PackedExtentStore::IsPacked(b.id));
  EXPECT_EQ(a.length, 1000);
  EXPECT_EQ(a.md5, Md5(small));
  EXPECT_EQ(b.md5, Md5(large));
  EXPECT_EQ(Read(a.id), small);
  EXPECT_EQ(Read(b.id), large);
  // The small one left no file behind; the large one is exactly one file.
  auto files = store_->base()->ListAll();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);
  EXPECT_EQ(files->front(), b.id);
}

TEST_F(PackedExtentStoreTest, SurvivesReopenAndListsEverything) {
  ExtentInfo a = Write("hello");
  ExtentInfo b = Write(std::string(3000, 'x'));
  Reopen();
  EXPECT_EQ(Read(a.id), "hello");
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  std::sort(all->begin(), all->end());
  std::vector<uint64_t> want = {a.id, b.id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*all, want);
}

TEST_F(PackedExtentStoreTest, RemoveManyRemovesBothKinds) {
  ExtentInfo a = Write("a");
  ExtentInfo b = Write(std::string(2000, 'b'));
  ExtentInfo c = Write("c");
  ASSERT_TRUE(store_->RemoveMany({a.id, b.id}).ok());
  EXPECT_EQ(store_->Open(a.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Open(b.id).status().code(), Code::kNotFound);
  EXPECT_EQ(Read(c.id), "c");
  ASSERT_TRUE(store_->Remove(a.id).ok());  // removing a missing extent is fine
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, std::vector<uint64_t>{c.id});
}

TEST_F(PackedExtentStoreTest, AbandonedWritersLeaveNothing) {
  for (size_t size : {10u, 5000u}) {
    auto w = store_->NewWriter(extent::Hashing::kMd5);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::string(size, 'z')).ok());
    (*w)->Abandon();
  }
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(PackedExtentStoreTest, ConcurrentWritersShareCommits) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string data = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto w = store_->NewWriter(extent::Hashing::kMd5);
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE((*w)->Append(data).ok());
        auto info = (*w)->Finish();
        ASSERT_TRUE(info.ok()) << info.status().ToString();
        got[t].emplace_back(info->id, data);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& v : got) {
    ASSERT_EQ(v.size(), static_cast<size_t>(kEach));
    for (const auto& [id, data] : v) EXPECT_EQ(Read(id), data);
  }
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace tarn::extent
