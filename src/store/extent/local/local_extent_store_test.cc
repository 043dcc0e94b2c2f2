#include "store/extent/local/local_extent_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"

namespace tarn::extent {
namespace {

namespace fs = std::filesystem;

std::string MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "tarn_extent_test.XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return pattern;
}

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

class LocalExtentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    dir_ = root_ + "/extents";  // Open must create it
    auto store = LocalExtentStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Writes data in pieces of at most `piece` bytes and finishes the extent.
  ExtentInfo WriteExtent(std::string_view data, size_t piece = 1 << 20) {
    auto w = store_->NewWriter(extent::Hashing::kMd5);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    if (!w.ok()) return {};
    for (size_t pos = 0; pos < data.size(); pos += piece) {
      Status s = (*w)->Append(data.substr(pos, piece));
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    auto info = (*w)->Finish();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : ExtentInfo{};
  }

  static std::string ReadAll(Reader& r, size_t chunk = 1 << 20) {
    std::string out;
    std::string buf(chunk, '\0');
    while (true) {
      auto n = r.ReadAt(static_cast<int64_t>(out.size()), buf.data(), buf.size());
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok() || *n == 0) break;
      out.append(buf.data(), *n);
    }
    return out;
  }

  std::string ReadExtent(uint64_t id) {
    auto r = store_->Open(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? ReadAll(**r) : std::string();
  }

  std::set<uint64_t> Listed() {
    auto ids = store_->ListAll();
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    if (!ids.ok()) return {};
    std::set<uint64_t> set(ids->begin(), ids->end());
    EXPECT_EQ(set.size(), ids->size()) << "ListAll returned duplicates";
    return set;
  }

  std::string root_;
  std::string dir_;
  std::unique_ptr<LocalExtentStore> store_;
};

TEST_F(LocalExtentStoreTest, OpenCreatesFanOutDirectories) {
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_TRUE(e.is_directory()) << e.path();
    EXPECT_EQ(e.path().filename().string().size(), 2u) << e.path();
    ++dirs;
  }
  EXPECT_EQ(dirs, 256);
  EXPECT_TRUE(fs::is_directory(dir_ + "/00"));
  EXPECT_TRUE(fs::is_directory(dir_ + "/ff"));
}

TEST_F(LocalExtentStoreTest, SmallRoundTrip) {
  auto w = store_->NewWriter(extent::Hashing::kMd5);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  uint64_t id = (*w)->id();
  EXPECT_NE(id, 0u);
  ASSERT_TRUE((*w)->Append("hello ").ok());
  ASSERT_TRUE((*w)->Append("").ok());
  ASSERT_TRUE((*w)->Append("world").ok());
  auto info = (*w)->Finish();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->id, id);
  EXPECT_EQ(info->length, 11);
  EXPECT_EQ(info->md5, Md5("hello world"));

  // The file sits at <dir>/<first two hex digits>/<16 hex digits>.
  char name[17];
  std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(id));
  std::string expected_path = dir_ + "/" + std::string(name, 2) + "/" + name;
  EXPECT_EQ(store_->PathOf(id), expected_path);
  EXPECT_TRUE(fs::is_regular_file(expected_path));
  EXPECT_EQ(fs::file_size(expected_path), 11u);

  auto r = store_->Open(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->length(), 11);
  EXPECT_GE((*r)->NativeFd(), 0);
  char buf[64];
  auto n = (*r)->ReadAt(0, buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "hello world");
  n = (*r)->ReadAt(6, buf, 3);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "wor");
  n = (*r)->ReadAt(6, buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "world");
  n = (*r)->ReadAt(11, buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = (*r)->ReadAt(1000, buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE((*r)->ReadAt(-1, buf, sizeof(buf)).ok());
}

TEST_F(LocalExtentStoreTest, MultiMebibyteExtentInManyAppends) {
  const std::string data = Pattern((5 << 20) + 123, 7);
  std::mt19937 rng(11);
  auto w = store_->NewWriter(extent::Hashing::kMd5);
  ASSERT_TRUE(w.ok());
  size_t pos = 0;
  int appends = 0;
  while (pos < data.size()) {
    size_t piece = std::min<size_t>(data.size() - pos, 1 + rng() % (64 << 10));
    ASSERT_TRUE((*w)->Append(std::string_view(data).substr(pos, piece)).ok());
    pos += piece;
    ++appends;
  }
  EXPECT_GT(appends, 100);
  auto info = (*w)->Finish();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->length, static_cast<int64_t>(data.size()));
  EXPECT_EQ(info->md5, Md5(data));

  auto r = store_->Open(info->id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->length(), static_cast<int64_t>(data.size()));
  std::string back = ReadAll(**r, 300'001);  // odd chunk size: reads straddle boundaries
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
  EXPECT_EQ(Md5(back), info->md5);
}

TEST_F(LocalExtentStoreTest, EmptyExtent) {
  ExtentInfo info = WriteExtent("");
  EXPECT_NE(info.id, 0u);
  EXPECT_EQ(info.length, 0);
  EXPECT_EQ(info.md5, Md5(""));
  auto r = store_->Open(info.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->length(), 0);
  char c;
  auto n = (*r)->ReadAt(0, &c, 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_F(LocalExtentStoreTest, OpenReaderSurvivesRemove) {
  const std::string data = Pattern(100'000, 3);
  ExtentInfo info = WriteExtent(data);
  auto r = store_->Open(info.id);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(store_->Remove(info.id).ok());

  EXPECT_FALSE(fs::exists(store_->PathOf(info.id)));
  auto again = store_->Open(info.id);
  EXPECT_EQ(again.status().code(), Code::kNotFound);
  EXPECT_EQ(Listed().count(info.id), 0u);

  EXPECT_EQ((*r)->length(), 100'000);
  EXPECT_TRUE(ReadAll(**r) == data);
}

TEST_F(LocalExtentStoreTest, AbandonedWriterLeavesNoFile) {
  auto w = store_->NewWriter(extent::Hashing::kMd5);
  ASSERT_TRUE(w.ok());
  uint64_t id = (*w)->id();
  ASSERT_TRUE((*w)->Append("partial data").ok());
  EXPECT_TRUE(fs::exists(store_->PathOf(id)));
  EXPECT_EQ(Listed().count(id), 1u);  // unfinished extents are listed too

  (*w)->Abandon();
  EXPECT_FALSE(fs::exists(store_->PathOf(id)));
  EXPECT_EQ(store_->Open(id).status().code(), Code::kNotFound);
  EXPECT_EQ(Listed().count(id), 0u);
  EXPECT_EQ((*w)->Append("more").code(), Code::kFailedPrecondition);
  EXPECT_FALSE((*w)->Finish().ok());
  (*w)->Abandon();  // idempotent
}

TEST_F(LocalExtentStoreTest, DestroyedUnfinishedWriterLeavesNoFile) {
  uint64_t id = 0;
  {
    auto w = store_->NewWriter(extent::Hashing::kMd5);
    ASSERT_TRUE(w.ok());
    id = (*w)->id();
    ASSERT_TRUE((*w)->Append(Pattern(4096, 1)).ok());
  }
  EXPECT_FALSE(fs::exists(store_->PathOf(id)));
  EXPECT_TRUE(Listed().empty());
}

TEST_F(LocalExtentStoreTest, FinishedExtentOutlivesItsWriter) {
  uint64_t id = 0;
  {
    auto w = store_->NewWriter(extent::Hashing::kMd5);
    ASSERT_TRUE(w.ok());
    id = (*w)->id();
    ASSERT_TRUE((*w)->Append("kept").ok());
    ASSERT_TRUE((*w)->Finish().ok());
    EXPECT_EQ((*w)->Append("late").code(), Code::kFailedPrecondition);
    EXPECT_EQ((*w)->Finish().status().code(), Code::kFailedPrecondition);
    (*w)->Abandon();  // no effect on a finished extent
  }
  EXPECT_EQ(ReadExtent(id), "kept");
}

TEST_F(LocalExtentStoreTest, ListAllFindsExactlyTheExtents) {
  EXPECT_TRUE(Listed().empty());
  std::set<uint64_t> written;
  for (int i = 0; i < 40; ++i) written.insert(WriteExtent(Pattern(i * 10, i)).id);
  EXPECT_EQ(written.size(), 40u);

  // Files that are not extents are ignored.
  std::ofstream(dir_ + "/README") << "not an extent";
  std::ofstream(dir_ + "/00/not-an-extent") << "x";
  std::ofstream(dir_ + "/00/00000000000000AB") << "x";  // uppercase: not ours
  std::ofstream(dir_ + "/00/ab00000000000001") << "x";  // wrong fan-out directory
  std::ofstream(dir_ + "/00/0000000000000000") << "x";  // id 0 is never used
  std::ofstream(dir_ + "/00/00000000000000ab.tmp") << "x";

  EXPECT_EQ(Listed(), written);

  uint64_t removed = *written.begin();
  ASSERT_TRUE(store_->Remove(removed).ok());
  written.erase(removed);
  EXPECT_EQ(Listed(), written);
}

TEST_F(LocalExtentStoreTest, RemoveMissingIsOk) {
  EXPECT_TRUE(store_->Remove(0x0123456789abcdefULL).ok());
  ExtentInfo info = WriteExtent("x");
  EXPECT_TRUE(store_->Remove(info.id).ok());
  EXPECT_TRUE(store_->Remove(info.id).ok());
}

TEST_F(LocalExtentStoreTest, OpenMissingIsNotFound) {
  auto r = store_->Open(0xfedcba9876543210ULL);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_F(LocalExtentStoreTest, ReopenSeesPreviousExtents) {
  ExtentInfo a = WriteExtent("first");
  ExtentInfo b = WriteExtent(Pattern(70'000, 5));
  store_.reset();
  auto reopened = LocalExtentStore::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();
  EXPECT_EQ(Listed(), (std::set<uint64_t>{a.id, b.id}));
  EXPECT_EQ(ReadExtent(a.id), "first");
  EXPECT_EQ(Md5(ReadExtent(b.id)), b.md5);
}

TEST_F(LocalExtentStoreTest, OpenFailsOnAFile) {
  std::string file = root_ + "/plain-file";
  std::ofstream(file) << "x";
  auto s = LocalExtentStore::Open(file);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kInternal);
  EXPECT_FALSE(LocalExtentStore::Open("").ok());
}

TEST_F(LocalExtentStoreTest, ConcurrentWriters) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<ExtentInfo>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &results] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string data = Pattern(1000 + 997 * static_cast<size_t>(i), t * 1000 + i);
        auto w = store_->NewWriter(extent::Hashing::kMd5);
        if (!w.ok()) return;
        for (size_t pos = 0; pos < data.size(); pos += 4096) {
          if (!(*w)->Append(std::string_view(data).substr(pos, 4096)).ok()) return;
        }
        auto info = (*w)->Finish();
        if (!info.ok()) return;
        results[t].push_back(*info);
        // Abandoned writers run concurrently with everything else too.
        auto junk = store_->NewWriter(extent::Hashing::kMd5);
        if (junk.ok() && (*junk)->Append("junk").ok()) (*junk)->Abandon();
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<uint64_t> ids;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<size_t>(kPerThread)) << "thread " << t;
    for (int i = 0; i < kPerThread; ++i) {
      const ExtentInfo& info = results[t][i];
      std::string expected = Pattern(1000 + 997 * static_cast<size_t>(i), t * 1000 + i);
      EXPECT_EQ(info.length, static_cast<int64_t>(expected.size()));
      EXPECT_EQ(info.md5, Md5(expected));
      EXPECT_TRUE(ReadExtent(info.id) == expected) << "thread " << t << " extent " << i;
      ids.insert(info.id);
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(Listed(), ids);
}

}  // namespace
}  // namespace tarn::extent
