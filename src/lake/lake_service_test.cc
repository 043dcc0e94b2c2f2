#include "lake/lake_service.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/time_util.h"
#include "lake/acl.h"
#include "store/extent/local/local_extent_store.h"
#include "store/meta/sqlite/sqlite_namespace_store.h"
#include "store/sqlite/sqlite_db.h"

namespace tarn::lake {
namespace {

namespace stdfs = std::filesystem;
using State = meta::Lease::State;

constexpr char kAcct[] = "acct";
constexpr char kFs[] = "data";
constexpr int64_t kSecond = 1000000;  // in micros

// ----- small helpers ---------------------------------------------------------------------------

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const StatusOr<T>& s) {
  return s.status();
}

std::string DescribeStatus(const Status& s) {
  if (s.ok()) return "OK";
  return "reason " + std::to_string(static_cast<int>(s.reason())) + " (" +
         ::tarn::Describe(s.reason()).dfs_code + "): " + s.ToString();
}

template <typename T>
::testing::AssertionResult IsOk(const char* expr, const T& v) {
  const Status& s = StatusOf(v);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " failed with " << DescribeStatus(s);
}

// Expects a failure with exactly this Reason.
template <typename T>
::testing::AssertionResult HasReason(const char* expr, const char* /*want_expr*/, const T& v,
                                     Reason want) {
  const Status& s = StatusOf(v);
  if (s.reason() == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << expr << ": want reason " << static_cast<int>(want) << " ("
         << ::tarn::Describe(want).http_status << " " << ::tarn::Describe(want).dfs_code
         << "), got " << DescribeStatus(s);
}

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(IsOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(IsOk, expr)
#define EXPECT_REASON(expr, want) EXPECT_PRED_FORMAT2(HasReason, expr, want)

// A request body held in memory, handed out in pieces of at most `chunk` bytes.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data, size_t chunk = 1 << 20)
      : data_(std::move(data)), chunk_(chunk) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, chunk_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
};

// A body that announces a length (as Content-Length does), right or wrong.
class HintedSource : public StringSource {
 public:
  HintedSource(std::string data, int64_t hint) : StringSource(std::move(data)), hint_(hint) {}
  std::optional<int64_t> SizeHint() const override { return hint_; }

 private:
  int64_t hint_;
};

// A body that delivers `fail_after` bytes and then breaks, as a dropped connection does.
class FailingSource : public ByteSource {
 public:
  FailingSource(size_t fail_after, size_t chunk) : fail_after_(fail_after), chunk_(chunk) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= fail_after_) return Status(Code::kUnavailable, "connection reset by peer");
    size_t k = std::min({n, chunk_, fail_after_ - pos_});
    std::memset(buf, 'x', k);
    pos_ += k;
    return k;
  }

 private:
  size_t fail_after_;
  size_t chunk_;
  size_t pos_ = 0;
};

std::string Pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

StatusOr<std::string> Drain(ReadPlan& plan) {
  std::string out;
  for (auto& p : plan.pieces) {
    if (p.length < 0) return InternalError("negative piece length");
    std::string buf(static_cast<size_t>(p.length), '\0');
    size_t got = 0;
    while (got < buf.size()) {
      TARN_ASSIGN_OR_RETURN(size_t n, p.reader->ReadAt(p.offset + static_cast<int64_t>(got),
                                                       buf.data() + got, buf.size() - got));
      if (n == 0) return InternalError("extent shorter than its slice");
      got += n;
    }
    out += buf;
  }
  if (static_cast<int64_t>(out.size()) != plan.length) {
    return InternalError("pieces do not add up to the planned length");
  }
  return out;
}

// ----- the fixture -----------------------------------------------------------------------------

class LakeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (stdfs::temp_directory_path() / "tarn_lake_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    auto store = meta::SqliteNamespaceStore::Open(root_ + "/meta.db");
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto extents = extent::LocalExtentStore::Open(root_ + "/extents");
    ASSERT_OK(extents);
    extents_ = std::move(extents).value();
    lake_ = std::make_unique<LakeService>(store_.get(), extents_.get());
    ASSERT_OK(lake_->CreateFilesystem(kAcct, kFs, {}, ""));
  }

  void TearDown() override {
    lake_.reset();
    extents_.reset();
    store_.reset();
    std::error_code ec;
    if (!root_.empty()) stdfs::remove_all(root_, ec);
  }

  StatusOr<Node> Put(const std::string& path, const std::string& data, const PutOptions& opts = {},
                     const std::string& fs = kFs) {
    StringSource src(data, 64 << 10);
    return lake_->PutFile(kAcct, fs, path, src, opts);
  }
  Node MustPut(const std::string& path, const std::string& data) {
    auto n = Put(path, data);
    EXPECT_OK(n);
    return n.ok() ? *n : Node{};
  }

  StatusOr<std::string> Read(const std::string& path,
                             const std::optional<ByteRange>& range = std::nullopt,
                             const Access& access = {}, const std::string& fs = kFs) {
    TARN_ASSIGN_OR_RETURN(ReadPlan plan, lake_->OpenRead(kAcct, fs, path, range, access));
    return Drain(plan);
  }
  std::string MustRead(const std::string& path, const std::string& fs = kFs) {
    auto s = Read(path, std::nullopt, {}, fs);
    EXPECT_OK(s);
    return s.ok() ? *s : "<error>";
  }

  StatusOr<Node> Get(const std::string& path, const Access& access = {}) {
    return lake_->GetPath(kAcct, kFs, path, access);
  }
  bool Exists(const std::string& path) { return Get(path).ok(); }

  StatusOr<Node> Mkdir(const std::string& path) {
    CreateOptions o;
    o.is_dir = true;
    return lake_->CreatePath(kAcct, kFs, path, o);
  }
  StatusOr<Node> CreateFile(const std::string& path, const CreateOptions& base = {}) {
    CreateOptions o = base;
    o.is_dir = false;
    return lake_->CreatePath(kAcct, kFs, path, o);
  }

  StatusOr<AppendResult> Append(const std::string& path, int64_t pos, const std::string& data,
                                bool flush = false,
                                const std::optional<std::string>& lease = std::nullopt) {
    StringSource src(data);
    return lake_->Append(kAcct, kFs, path, pos, src, std::nullopt, lease, flush);
  }
  StatusOr<Node> Flush(const std::string& path, int64_t pos, bool retain = false) {
    FlushOptions o;
    o.position = pos;
    o.retain_uncommitted = retain;
    return lake_->Flush(kAcct, kFs, path, o);
  }

  Status Stage(const std::string& path, const std::string& id, const std::string& data,
               std::string* md5 = nullptr) {
    StringSource src(data);
    return lake_->StageBlock(kAcct, kFs, path, id, src, std::nullopt, std::nullopt, md5);
  }
  StatusOr<Node> Commit(const std::string& path, const std::vector<BlockRef>& blocks) {
    return lake_->CommitBlockList(kAcct, kFs, path, blocks, PutOptions{});
  }

  StatusOr<LeaseResult> Lease(const std::string& path, LeaseRequest::Action action,
                              std::optional<std::string> id = std::nullopt,
                              std::optional<std::string> proposed = std::nullopt,
                              int32_t duration = -1,
                              std::optional<int32_t> break_period = std::nullopt) {
    LeaseRequest r;
    r.action = action;
    r.lease_id = std::move(id);
    r.proposed_id = std::move(proposed);
    r.duration_s = duration;
    r.break_period_s = break_period;
    return lake_->LeasePath(kAcct, kFs, path, r, Conditions{});
  }

  // Extents whose bytes are kept anywhere: in the extent store or inline in the namespace store.
  std::set<uint64_t> ExtentIds() {
    std::set<uint64_t> ids = StoredExtentIds();
    for (uint64_t id : InlineExtentIds()) ids.insert(id);
    return ids;
  }
  size_t ExtentCount() { return ExtentIds().size(); }
  std::set<uint64_t> StoredExtentIds() {
    auto all = extents_->ListAll();
    EXPECT_OK(all);
    if (!all.ok()) return {};
    return std::set<uint64_t>(all->begin(), all->end());
  }
  // Read from the SQLite file itself, as a check on the store rather than through it.
  std::set<uint64_t> InlineExtentIds() {
    std::set<uint64_t> ids;
    auto conn = sqlite::Connection::Open(root_ + "/meta.db", /*read_only=*/true);
    EXPECT_OK(conn);
    if (!conn.ok()) return ids;
    sqlite::Query q(**conn, "SELECT id FROM extent_data");
    for (;;) {
      auto row = q.Step();
      EXPECT_OK(row);
      if (!row.ok() || !*row) break;
      ids.insert(static_cast<uint64_t>(q.ColInt(0)));
    }
    return ids;
  }
  // A LakeService over the same stores with another inline limit.
  void UseInlineLimit(size_t limit) {
    lake_ = std::make_unique<LakeService>(store_.get(), extents_.get(), limit);
  }

  int64_t Collect() {
    auto n = lake_->CollectGarbage();
    EXPECT_OK(n);
    return n.ok() ? *n : -1;
  }

  std::vector<uint64_t> SliceIds(int64_t node_id) {
    std::vector<uint64_t> out;
    EXPECT_OK(store_->Read([&](meta::ReadTxn& t) -> Status {
      TARN_ASSIGN_OR_RETURN(auto slices, t.GetExtents(node_id));
      for (const auto& s : slices) out.push_back(s.extent_id);
      return Status::Ok();
    }));
    return out;
  }

  extent::ExtentInfo WriteRawExtent(const std::string& data) {
    auto w = extents_->NewWriter(extent::Hashing::kMd5);
    EXPECT_OK(w);
    if (!w.ok()) return {};
    EXPECT_OK((*w)->Append(data));
    auto info = (*w)->Finish();
    EXPECT_OK(info);
    return info.ok() ? *info : extent::ExtentInfo{};
  }

  // Inserts many paths in one metadata transaction (the lake API would cost one commit each).
  // `entries` lists (path, is_dir), every parent before its children; parents that are not
  // listed must already exist. File i gets the content of extents[i % extents.size()].
  void InsertTree(const std::vector<std::pair<std::string, bool>>& entries,
                  const std::vector<extent::ExtentInfo>& extents) {
    auto fs = lake_->GetFilesystem(kAcct, kFs);
    ASSERT_OK(fs);
    std::map<std::string, int64_t> ids;
    ids[""] = fs->root_id;
    ASSERT_OK(store_->Write([&](meta::WriteTxn& t) -> Status {
      for (const auto& e : extents) {
        TARN_RETURN_IF_ERROR(t.InsertExtent(meta::ExtentRecord{e.id, e.length, e.md5, 0}));
      }
      int64_t now = NowMicros();
      size_t file_no = 0;
      for (const auto& [path, is_dir] : entries) {
        size_t slash = path.rfind('/');
        std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
        auto it = ids.find(parent);
        int64_t parent_id;
        if (it != ids.end()) {
          parent_id = it->second;
        } else {
          // An existing directory: walk to it.
          int64_t cur = fs->root_id;
          size_t start = 0;
          while (start < parent.size()) {
            size_t s = parent.find('/', start);
            if (s == std::string::npos) s = parent.size();
            TARN_ASSIGN_OR_RETURN(auto n, t.Lookup(fs->id, cur, parent.substr(start, s - start)));
            if (!n) return InternalError("missing parent " + parent);
            cur = n->id;
            start = s + 1;
          }
          parent_id = cur;
          ids[parent] = cur;
        }
        Node n;
        n.fs_id = fs->id;
        n.parent_id = parent_id;
        n.name = slash == std::string::npos ? path : path.substr(slash + 1);
        n.is_dir = is_dir;
        n.etag = "0x1" + std::to_string(ids.size());
        n.created_us = now;
        n.modified_us = now;
        n.access.permissions = is_dir ? 0750 : 0640;
        const extent::ExtentInfo* content = nullptr;
        if (!is_dir && !extents.empty()) {
          content = &extents[file_no++ % extents.size()];
          n.length = content->length;
        }
        TARN_ASSIGN_OR_RETURN(n, t.InsertNode(n));
        ids[path] = n.id;
        if (content) {
          TARN_RETURN_IF_ERROR(
              t.SetExtents(n.id, {meta::ExtentSlice{content->id, 0, content->length, ""}}));
        }
      }
      return Status::Ok();
    }));
  }

  // Every path of a recursive listing, paging with max_results.
  std::vector<std::string> ListAllPaths(const std::string& dir, bool recursive, int max_results,
                                        int* pages = nullptr) {
    std::vector<std::string> out;
    std::string cont;
    int n = 0;
    do {
      auto page = lake_->ListPaths(kAcct, kFs, dir, recursive, cont, max_results);
      EXPECT_OK(page);
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->entries.size()), max_results);
      for (const auto& e : page->entries) out.push_back(e.path);
      cont = page->continuation;
      if (++n > 100000) {
        ADD_FAILURE() << "listing does not terminate";
        break;
      }
    } while (!cont.empty());
    if (pages) *pages = n;
    return out;
  }

  std::string root_;
  std::unique_ptr<meta::SqliteNamespaceStore> store_;
  std::unique_ptr<extent::LocalExtentStore> extents_;
  std::unique_ptr<LakeService> lake_;
};

// ===== names and paths ==========================================================================

TEST(ValidateFilesystemNameTest, AcceptsAzureNames) {
  for (const char* ok : {"abc", "a-b", "123", "data-lake-01", "$root", "$logs", "$web", "a1b"}) {
    EXPECT_OK(ValidateFilesystemName(ok)) << ok;
  }
  EXPECT_OK(ValidateFilesystemName(std::string(63, 'a')));
}

TEST(ValidateFilesystemNameTest, RejectsInvalidNames) {
  for (const std::string bad : {"", "ab", "Abc", "ABC", "-abc", "abc-", "a--b", "a_b", "a.b", "a b",
                                "a$b", "ab$", "\xC3\xA9tude", "abc/", "$", "$a", "$abc",
                                "$roots", "$logs1", "$web-x", "$ROOT"}) {
    EXPECT_REASON(ValidateFilesystemName(bad), Reason::kInvalidResourceName) << bad;
  }
  EXPECT_REASON(ValidateFilesystemName(std::string(64, 'a')), Reason::kInvalidResourceName);
}

TEST(NormalizePathTest, StripsOuterSlashes) {
  auto expect = [](const std::string& in, const std::string& want) {
    auto got = NormalizePath(in);
    ASSERT_OK(got);
    EXPECT_EQ(*got, want) << "input: " << in;
  };
  expect("", "");
  expect("/", "");
  expect("///", "");
  expect("a", "a");
  expect("/a/b/", "a/b");
  expect("//a/b//", "a/b");
  expect("a/.b/c..d/...", "a/.b/c..d/...");
}

TEST(NormalizePathTest, RejectsBadSegments) {
  std::vector<std::string> bads = {"a//b", "a/./b", "a/../b", ".",    "..",
                                   "a/.",  "a/..",  "./a",    "../a", "/a//b/"};
  bads.push_back(std::string("a\0b", 3));
  for (const auto& bad : bads) {
    EXPECT_REASON(NormalizePath(bad), Reason::kInvalidResourceName) << bad;
  }
}

TEST(NormalizePathTest, LengthLimits) {
  // 1024 characters in segments of at most 255.
  std::string p;
  while (p.size() < 1024) {
    if (!p.empty()) p += '/';
    p += std::string(std::min<size_t>(200, 1024 - p.size()), 'x');
  }
  ASSERT_EQ(p.size(), 1024u);
  auto ok = NormalizePath(p);
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, p);
  // Surrounding slashes do not count.
  EXPECT_OK(NormalizePath("/" + p + "/"));
  EXPECT_REASON(NormalizePath(p + "y"), Reason::kInvalidResourceName);
  EXPECT_OK(NormalizePath(std::string(255, 's')));
  EXPECT_REASON(NormalizePath(std::string(256, 's')), Reason::kInvalidResourceName);
  EXPECT_REASON(NormalizePath("a/" + std::string(256, 's') + "/b"), Reason::kInvalidResourceName);
}

// Names are joined by line breaks in the Shared Key string-to-sign: a name holding "\n" could
// be signed as if it were a query (PUT X?comp=block&blockid=B signs the same string as Put Blob
// on "X\nblockid:B\ncomp:block").
TEST(NormalizePathTest, RejectsControlCharacters) {
  for (const std::string& bad :
       {std::string("X\nblockid:B\ncomp:block"), std::string("a\rb"), std::string("a\x01"),
        std::string("\x1f"), std::string("d/\x7f"), std::string("tab\there"),
        std::string("c1\xC2\x85"), std::string("c1\xC2\x9F/x")}) {
    EXPECT_REASON(NormalizePath(bad), Reason::kInvalidResourceName) << bad;
  }
  EXPECT_OK(NormalizePath("no-break\xC2\xA0space"));  // U+00A0 is not a control
}

// Azure counts characters as UTF-16 does: 1024 of them, 255 per segment, whatever their bytes.
TEST(NormalizePathTest, LengthsCountCharactersNotBytes) {
  const std::string e_acute = "\xC3\xA9";           // 2 bytes, 1 character
  const std::string emoji = "\xF0\x9F\x98\x80";   // 4 bytes, 2 UTF-16 units
  std::string seg;
  for (int i = 0; i < 255; ++i) seg += e_acute;
  EXPECT_OK(NormalizePath(seg));
  EXPECT_REASON(NormalizePath(seg + e_acute), Reason::kInvalidResourceName);
  std::string last;
  for (int i = 0; i < 254; ++i) last += e_acute;
  std::string p = seg + "/" + seg + "/" + seg + "/" + last;  // 1,022 characters, 2,040 bytes
  EXPECT_OK(NormalizePath(p + "/a"));                        // 1,024
  EXPECT_REASON(NormalizePath(p + "/ab"), Reason::kInvalidResourceName);
  std::string emojis;
  for (int i = 0; i < 127; ++i) emojis += emoji;
  EXPECT_OK(NormalizePath(emojis + "a"));  // 255 units
  EXPECT_REASON(NormalizePath(emojis + emoji), Reason::kInvalidResourceName);  // 256
}

TEST(NormalizePathTest, RejectsInvalidUtf8) {
  const std::string bad[] = {
      "\xFF",                  // never valid
      "a/\xFE",                // never valid
      "\x80",                  // lone continuation byte
      "a\277b",                // lone continuation byte (0xBF) inside a name
      "\xC3",                  // truncated 2-byte sequence at the end
      "\xC3/b",                // truncated 2-byte sequence before a slash
      "a\xE2\x82",             // truncated 3-byte sequence
      "\xF0\x9F\x98",          // truncated 4-byte sequence
      "\342\202a",             // 3-byte sequence (E2 82) cut by an ASCII byte
      "\xC0\xAF",              // overlong '/'
      "\xC1\xBF",              // overlong 2-byte
      "\xE0\x80\xAF",          // overlong 3-byte '/'
      "\xE0\x9F\xBF",          // overlong 3-byte
      "\xF0\x80\x80\xAF",      // overlong 4-byte '/'
      "\xF0\x8F\xBF\xBF",      // overlong 4-byte
      "\xED\xA0\x80",          // UTF-16 surrogate U+D800
      "\xED\xBF\xBF",          // UTF-16 surrogate U+DFFF
      "\xF4\x90\x80\x80",      // beyond U+10FFFF
      "\xF5\x80\x80\x80",      // lead byte beyond Unicode
      "\xF8\x88\x80\x80\x80",  // 5-byte form
  };
  for (const auto& b : bad) {
    EXPECT_REASON(NormalizePath(b), Reason::kInvalidResourceName) << "bytes: " << HexEncode(b);
    EXPECT_REASON(NormalizePath("dir/" + b + "/file"), Reason::kInvalidResourceName)
        << "bytes: " << HexEncode(b);
  }
}

TEST(NormalizePathTest, AcceptsMultibyteUtf8) {
  const std::string good[] = {
      "caf\xC3\xA9",                                        // é
      "\xC2\xA0",                                           // U+00A0 (U+0080-9F: controls)
      "\xDF\xBF",                                           // U+07FF
      "\xE0\xA0\x80",                                       // U+0800, smallest 3-byte
      "\xE2\x82\xAC/price",                                 // €
      "\xED\x9F\xBF",                                       // U+D7FF, just below surrogates
      "\xEE\x80\x80",                                       // U+E000, just above
      "\xEF\xBF\xBF",                                       // U+FFFF
      "\xF0\x90\x80\x80",                                   // U+10000, smallest 4-byte
      "\xF0\x9F\x98\x80.txt",                               // emoji
      "\xF4\x8F\xBF\xBF",                                   // U+10FFFF
      "\xE6\x97\xA5\xE6\x9C\xAC/\xE3\x83\x95\xE3\x82\xA1",  // 日本/ファ
  };
  for (const auto& g : good) {
    auto n = NormalizePath("/" + g + "/");
    ASSERT_OK(n) << HexEncode(g);
    EXPECT_EQ(*n, g);
  }
}

TEST(ViewLeaseTest, EvaluatesAgainstTheClock) {
  meta::Lease l;
  EXPECT_EQ(ViewLease(l, 1000).state, State::kAvailable);
  l.state = State::kLeased;
  l.duration_s = 15;
  l.expires_ms = 20000;
  EXPECT_EQ(ViewLease(l, 19999).state, State::kLeased);
  EXPECT_FALSE(ViewLease(l, 19999).infinite);
  EXPECT_EQ(ViewLease(l, 20000).state, State::kExpired);
  l.duration_s = -1;
  l.expires_ms = 0;
  EXPECT_EQ(ViewLease(l, 1LL << 50).state, State::kLeased);
  EXPECT_TRUE(ViewLease(l, 0).infinite);
  l.state = State::kBreaking;
  l.break_ms = 5000;
  EXPECT_EQ(ViewLease(l, 4999).state, State::kBreaking);
  EXPECT_EQ(ViewLease(l, 5000).state, State::kBroken);
}

// ===== filesystems ==============================================================================

TEST_F(LakeServiceTest, FilesystemCreateGetDelete) {
  Metadata md{{"Owner", "team-a"}};
  auto fs = lake_->CreateFilesystem(kAcct, "logs", md, "blob");
  ASSERT_OK(fs);
  EXPECT_EQ(fs->name, "logs");
  EXPECT_FALSE(fs->etag.empty());
  auto got = lake_->GetFilesystem(kAcct, "logs");
  ASSERT_OK(got);
  EXPECT_EQ(got->metadata, md);
  EXPECT_EQ(got->public_access, "blob");
  EXPECT_EQ(got->etag, fs->etag);

  EXPECT_REASON(lake_->CreateFilesystem(kAcct, "logs", {}, ""), Reason::kFilesystemAlreadyExists);
  // Same name, other account: independent.
  EXPECT_OK(lake_->CreateFilesystem("other", "logs", {}, ""));
  EXPECT_REASON(lake_->CreateFilesystem(kAcct, "Bad_Name", {}, ""), Reason::kInvalidResourceName);
  EXPECT_REASON(lake_->GetFilesystem(kAcct, "nope"), Reason::kFilesystemNotFound);

  ASSERT_TRUE(Put("x/y.txt", "hello", {}, "logs").ok());
  EXPECT_OK(lake_->DeleteFilesystem(kAcct, "logs", {}));
  EXPECT_REASON(lake_->GetFilesystem(kAcct, "logs"), Reason::kFilesystemNotFound);
  EXPECT_REASON(lake_->DeleteFilesystem(kAcct, "logs", {}), Reason::kFilesystemNotFound);
  EXPECT_OK(lake_->GetFilesystem("other", "logs"));
  // Its bytes go with it.
  Collect();
  EXPECT_EQ(ExtentCount(), 0u);
  // A recreated filesystem starts empty.
  ASSERT_OK(lake_->CreateFilesystem(kAcct, "logs", {}, ""));
  EXPECT_REASON(Read("x/y.txt", std::nullopt, {}, "logs"), Reason::kPathNotFound);
}

TEST_F(LakeServiceTest, FilesystemListPrefixAndPaging) {
  for (const char* n : {"alpha", "alpine", "beta", "beta-2", "gamma"}) {
    ASSERT_OK(lake_->CreateFilesystem(kAcct, n, {}, ""));
  }
  ASSERT_OK(lake_->CreateFilesystem("other", "alps", {}, ""));

  auto names = [](const FilesystemPage& p) {
    std::vector<std::string> v;
    for (const auto& f : p.items) v.push_back(f.name);
    return v;
  };
  auto al = lake_->ListFilesystems(kAcct, "al", "", 100);
  ASSERT_OK(al);
  EXPECT_EQ(names(*al), (std::vector<std::string>{"alpha", "alpine"}));
  EXPECT_EQ(al->next_marker, "");

  std::vector<std::string> all;
  std::string marker;
  int pages = 0;
  do {
    auto p = lake_->ListFilesystems(kAcct, "", marker, 2);
    ASSERT_OK(p);
    EXPECT_LE(p->items.size(), 2u);
    for (auto& n : names(*p)) all.push_back(n);
    marker = p->next_marker;
    ASSERT_LT(++pages, 10);
  } while (!marker.empty());
  EXPECT_EQ(all, (std::vector<std::string>{"alpha", "alpine", "beta", "beta-2", "data", "gamma"}));
  EXPECT_EQ(pages, 3);

  auto b = lake_->ListFilesystems(kAcct, "beta", "beta", 10);
  ASSERT_OK(b);
  EXPECT_EQ(names(*b), (std::vector<std::string>{"beta-2"}));
  auto none = lake_->ListFilesystems(kAcct, "zzz", "", 10);
  ASSERT_OK(none);
  EXPECT_TRUE(none->items.empty());
}

TEST_F(LakeServiceTest, FilesystemMetadataAndConditions) {
  auto fs = lake_->GetFilesystem(kAcct, kFs);
  ASSERT_OK(fs);
  Access wrong;
  wrong.cond.if_match = "0xDEADBEEF";
  EXPECT_REASON(lake_->SetFilesystemMetadata(kAcct, kFs, {{"a", "1"}}, wrong),
                Reason::kConditionNotMet);
  Access right;
  right.cond.if_match = fs->etag;
  auto upd = lake_->SetFilesystemMetadata(kAcct, kFs, {{"a", "1"}}, right);
  ASSERT_OK(upd);
  EXPECT_NE(upd->etag, fs->etag);
  auto got = lake_->GetFilesystem(kAcct, kFs);
  ASSERT_OK(got);
  EXPECT_EQ(got->metadata, (Metadata{{"a", "1"}}));
  auto pa = lake_->SetFilesystemAcl(kAcct, kFs, "container", "", {});
  ASSERT_OK(pa);
  EXPECT_EQ(lake_->GetFilesystem(kAcct, kFs)->public_access, "container");
  EXPECT_EQ(lake_->GetFilesystem(kAcct, kFs)->metadata, (Metadata{{"a", "1"}}));
  // The old etag no longer matches.
  EXPECT_REASON(lake_->DeleteFilesystem(kAcct, kFs, right), Reason::kConditionNotMet);
  EXPECT_OK(lake_->GetFilesystem(kAcct, kFs));
}

TEST_F(LakeServiceTest, FilesystemLeaseGuardsDelete) {
  LeaseRequest acq;
  acq.action = LeaseRequest::Action::kAcquire;
  acq.proposed_id = "11111111-1111-1111-1111-111111111111";
  auto l = lake_->LeaseFilesystem(kAcct, kFs, acq, {});
  ASSERT_OK(l);
  EXPECT_EQ(l->lease_id, *acq.proposed_id);

  // A second acquire with another ID fails while the lease is held.
  LeaseRequest other = acq;
  other.proposed_id = "22222222-2222-2222-2222-222222222222";
  EXPECT_REASON(lake_->LeaseFilesystem(kAcct, kFs, other, {}), Reason::kLeaseAlreadyPresent);

  EXPECT_REASON(lake_->DeleteFilesystem(kAcct, kFs, {}), Reason::kContainerLeaseIdMissing);
  Access wrong;
  wrong.lease_id = *other.proposed_id;
  EXPECT_REASON(lake_->DeleteFilesystem(kAcct, kFs, wrong),
                Reason::kLeaseIdMismatchWithContainerOperation);
  EXPECT_REASON(lake_->SetFilesystemMetadata(kAcct, kFs, {}, wrong), Reason::kLeaseIdMismatch);
  EXPECT_OK(lake_->GetFilesystem(kAcct, kFs));
  Access right;
  right.lease_id = "11111111-1111-1111-1111-111111111111";
  EXPECT_OK(lake_->SetFilesystemMetadata(kAcct, kFs, {{"k", "v"}}, right));
  EXPECT_OK(lake_->DeleteFilesystem(kAcct, kFs, right));
  EXPECT_REASON(lake_->GetFilesystem(kAcct, kFs), Reason::kFilesystemNotFound);
}

TEST_F(LakeServiceTest, FilesystemLeaseReleaseAndBreak) {
  LeaseRequest acq;
  acq.action = LeaseRequest::Action::kAcquire;
  acq.duration_s = 30;
  auto l = lake_->LeaseFilesystem(kAcct, kFs, acq, {});
  ASSERT_OK(l);
  ASSERT_FALSE(l->lease_id.empty());

  LeaseRequest brk;
  brk.action = LeaseRequest::Action::kBreak;
  brk.break_period_s = 0;
  auto b = lake_->LeaseFilesystem(kAcct, kFs, brk, {});
  ASSERT_OK(b);
  EXPECT_EQ(b->lease_time_s, 0);
  // Broken: no lease ID needed any more.
  EXPECT_OK(lake_->DeleteFilesystem(kAcct, kFs, {}));
}

// ===== writing and reading files ================================================================

TEST_F(LakeServiceTest, PutAndReadRoundTrip) {
  std::string data = Pattern(3 * (1 << 20) + 12345, 1);  // several 1 MiB chunks
  PutOptions o;
  o.headers.content_type = "text/plain";
  o.metadata = {{"k", "v"}};
  auto n = Put("dir/sub/file.bin", data, o);
  ASSERT_OK(n);
  EXPECT_EQ(n->length, static_cast<int64_t>(data.size()));
  EXPECT_EQ(n->headers.content_md5, Md5(data));
  EXPECT_EQ(n->headers.content_type, "text/plain");
  EXPECT_FALSE(n->is_dir);
  EXPECT_EQ(MustRead("dir/sub/file.bin"), data);

  // Parents were created as directories.
  auto d = Get("dir/sub");
  ASSERT_OK(d);
  EXPECT_TRUE(d->is_dir);
  auto g = Get("dir/sub/file.bin");
  ASSERT_OK(g);
  EXPECT_EQ(g->metadata, o.metadata);
  EXPECT_EQ(g->etag, n->etag);
  EXPECT_EQ(ExtentCount(), 1u);

  EXPECT_REASON(Read("dir/sub/nope"), Reason::kPathNotFound);
  EXPECT_REASON(Read("file.bin", std::nullopt, {}, "nofs"), Reason::kFilesystemNotFound);
  EXPECT_REASON(Put("dir/sub", "x"), Reason::kResourceTypeMismatch);
  EXPECT_REASON(Put("dir/sub/file.bin/child", "x"), Reason::kPathConflict);
  // Failed writes leave no bytes behind.
  EXPECT_EQ(ExtentCount(), 1u);
  EXPECT_REASON(Put("a", "x", {}, "nofs"), Reason::kFilesystemNotFound);
  EXPECT_EQ(ExtentCount(), 1u);
}

// ===== inline extents ============================================================================

TEST_F(LakeServiceTest, SmallUploadsAreInlineLargeOnesGoToTheExtentStore) {
  const size_t limit = LakeService::kDefaultInlineLimit;
  std::string small = Pattern(1024, 3), edge = Pattern(limit, 4), big = Pattern(limit + 1, 5);
  MustPut("small", small);
  MustPut("edge", edge);
  EXPECT_EQ(InlineExtentIds().size(), 2u);
  EXPECT_TRUE(StoredExtentIds().empty());
  MustPut("big", big);
  EXPECT_EQ(InlineExtentIds().size(), 2u);
  EXPECT_EQ(StoredExtentIds().size(), 1u);
  EXPECT_EQ(MustRead("small"), small);
  EXPECT_EQ(MustRead("edge"), edge);
  EXPECT_EQ(MustRead("big"), big);
  auto part = Read("edge", ByteRange{100, 4195});
  ASSERT_OK(part);
  EXPECT_EQ(*part, edge.substr(100, 4096));
  for (uint64_t id : InlineExtentIds()) EXPECT_NE(id >> 63, 0u) << id;

  // A body handed over one byte at a time is still whole, and still inline.
  StringSource trickle(small, 1);
  ASSERT_OK(lake_->PutFile(kAcct, kFs, "trickle", trickle, {}));
  EXPECT_EQ(MustRead("trickle"), small);
  EXPECT_EQ(InlineExtentIds().size(), 3u);
}

TEST_F(LakeServiceTest, InlineLimitZeroKeepsEveryUploadInTheExtentStore) {
  UseInlineLimit(0);
  MustPut("a", "x");
  ASSERT_OK(CreateFile("d"));
  ASSERT_OK(Append("d", 0, "hello", true));
  EXPECT_TRUE(InlineExtentIds().empty());
  EXPECT_EQ(StoredExtentIds().size(), 2u);
  EXPECT_EQ(MustRead("a"), "x");
  EXPECT_EQ(MustRead("d"), "hello");
}

TEST_F(LakeServiceTest, InlineAppendsFlushAndStageLikeStoredOnes) {
  ASSERT_OK(CreateFile("f"));
  ASSERT_OK(Append("f", 0, "abc"));
  ASSERT_OK(Append("f", 3, "defg"));
  EXPECT_EQ(InlineExtentIds().size(), 2u);
  EXPECT_EQ(MustRead("f"), "");
  ASSERT_OK(Flush("f", 7));
  EXPECT_EQ(MustRead("f"), "abcdefg");
  auto mid = Read("f", ByteRange{2, 4});
  ASSERT_OK(mid);
  EXPECT_EQ(*mid, "cde");

  std::string md5;
  ASSERT_OK(Stage("b", "YmxrMQ==", "block one", &md5));
  EXPECT_EQ(md5, Md5("block one"));
  ASSERT_OK(Commit("b", {BlockRef{BlockRef::From::kUncommitted, "YmxrMQ=="}}));
  EXPECT_EQ(MustRead("b"), "block one");
  EXPECT_TRUE(StoredExtentIds().empty());
}

TEST_F(LakeServiceTest, InlineBytesAreCollectedWithTheirRecord) {
  MustPut("f", "one");
  MustPut("f", "two");  // the first version is garbage now
  EXPECT_EQ(InlineExtentIds().size(), 2u);
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(InlineExtentIds().size(), 1u);
  EXPECT_EQ(MustRead("f"), "two");
  ASSERT_OK(lake_->Delete(kAcct, kFs, "f", false, {}));
  EXPECT_EQ(Collect(), 1);
  EXPECT_TRUE(InlineExtentIds().empty());
  auto recovered = lake_->Recover();
  ASSERT_OK(recovered);
  EXPECT_EQ(*recovered, 0);
}

TEST_F(LakeServiceTest, PinnedInlineBytesOutliveTheirFile) {
  MustPut("p", "pinned bytes");
  auto pinned = lake_->PinFiles("ds:1", kAcct, kFs, {"p"});
  ASSERT_OK(pinned);
  ASSERT_EQ(pinned->size(), 1u);
  ASSERT_OK(lake_->Delete(kAcct, kFs, "p", false, {}));
  EXPECT_EQ(Collect(), 0);
  auto plan = lake_->OpenSlices((*pinned)[0].slices, 12, ByteRange{7, std::nullopt});
  ASSERT_OK(plan);
  auto got = Drain(*plan);
  ASSERT_OK(got);
  EXPECT_EQ(*got, "bytes");
  ASSERT_OK(lake_->Unpin("ds:1"));
  EXPECT_EQ(Collect(), 1);
  EXPECT_TRUE(InlineExtentIds().empty());
}

TEST_F(LakeServiceTest, InlineMd5MismatchRecordsNothing) {
  PutOptions o;
  o.expected_md5 = Md5("something else");
  EXPECT_REASON(Put("f", "data", o), Reason::kMd5Mismatch);
  EXPECT_FALSE(Exists("f"));
  EXPECT_EQ(ExtentCount(), 0u);
}

TEST_F(LakeServiceTest, RangedReads) {
  std::string data = Pattern(1000, 2);
  MustPut("f", data);
  auto range = [&](int64_t start, std::optional<int64_t> end) {
    return Read("f", ByteRange{start, end});
  };
  auto r = range(100, 199);
  ASSERT_OK(r);
  EXPECT_EQ(*r, data.substr(100, 100));
  r = range(0, 0);
  ASSERT_OK(r);
  EXPECT_EQ(*r, data.substr(0, 1));
  r = range(900, 5000);  // end past the size clamps
  ASSERT_OK(r);
  EXPECT_EQ(*r, data.substr(900));
  r = range(999, std::nullopt);
  ASSERT_OK(r);
  EXPECT_EQ(*r, data.substr(999));
  r = range(0, 999);
  ASSERT_OK(r);
  EXPECT_EQ(*r, data);
  EXPECT_REASON(range(1000, std::nullopt), Reason::kInvalidRange);
  EXPECT_REASON(range(1000, 2000), Reason::kInvalidRange);
  EXPECT_REASON(range(5000, std::nullopt), Reason::kInvalidRange);

  auto plan = lake_->OpenRead(kAcct, kFs, "f", ByteRange{10, 19}, {});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->start, 10);
  EXPECT_EQ(plan->length, 10);
  EXPECT_EQ(plan->node.length, 1000);
}

TEST_F(LakeServiceTest, RangedReadsAcrossSlices) {
  // Three blocks make a file of three slices; ranges that span their boundaries.
  std::string a = Pattern(300, 3), b = Pattern(500, 4), c = Pattern(200, 5);
  ASSERT_OK(Stage("f", "QQ==", a));
  ASSERT_OK(Stage("f", "Qg==", b));
  ASSERT_OK(Stage("f", "Qw==", c));
  ASSERT_OK(Commit("f", {{BlockRef::From::kLatest, "QQ=="},
                         {BlockRef::From::kLatest, "Qg=="},
                         {BlockRef::From::kLatest, "Qw=="}}));
  std::string all = a + b + c;
  EXPECT_EQ(MustRead("f"), all);
  for (auto [s, e] : std::vector<std::pair<int64_t, int64_t>>{{0, 299},
                                                              {299, 300},
                                                              {250, 850},
                                                              {300, 799},
                                                              {799, 800},
                                                              {10, 999},
                                                              {800, 5000},
                                                              {0, 0},
                                                              {999, 999},
                                                              {450, 451}}) {
    auto r = Read("f", ByteRange{s, e});
    ASSERT_OK(r);
    int64_t last = std::min<int64_t>(e, 999);
    EXPECT_EQ(*r, all.substr(s, last - s + 1)) << s << "-" << e;
    auto plan = lake_->OpenRead(kAcct, kFs, "f", ByteRange{s, e}, {});
    ASSERT_OK(plan);
    for (const auto& p : plan->pieces) EXPECT_GT(p.length, 0) << "empty piece in " << s;
  }
}

TEST_F(LakeServiceTest, ZeroLengthFiles) {
  size_t before = ExtentCount();
  auto n = Put("empty", "");
  ASSERT_OK(n);
  EXPECT_EQ(n->length, 0);
  EXPECT_EQ(n->headers.content_md5, Md5(""));
  EXPECT_EQ(ExtentCount(), before);  // no extent for no bytes
  auto plan = lake_->OpenRead(kAcct, kFs, "empty", std::nullopt, {});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->length, 0);
  EXPECT_TRUE(plan->pieces.empty());
  EXPECT_EQ(MustRead("empty"), "");
  EXPECT_REASON(Read("empty", ByteRange{0, std::nullopt}), Reason::kInvalidRange);

  // DFS create gives an empty file too; overwriting content with nothing frees the old bytes.
  MustPut("was-full", "some bytes");
  EXPECT_EQ(ExtentCount(), 1u);
  ASSERT_OK(Put("was-full", ""));
  EXPECT_EQ(MustRead("was-full"), "");
  Collect();
  EXPECT_EQ(ExtentCount(), 0u);
  ASSERT_OK(CreateFile("created"));
  EXPECT_EQ(MustRead("created"), "");
}

TEST_F(LakeServiceTest, OverwriteReleasesOldExtents) {
  MustPut("f", "version one");
  auto first = ExtentIds();
  ASSERT_EQ(first.size(), 1u);
  auto n2 = Put("f", "version two, longer");
  ASSERT_OK(n2);
  EXPECT_EQ(MustRead("f"), "version two, longer");
  EXPECT_EQ(ExtentCount(), 2u);  // the old bytes linger until collected
  EXPECT_EQ(Collect(), 1);
  auto left = ExtentIds();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(first.count(*left.begin()), 0u);
  EXPECT_EQ(SliceIds(n2->id), std::vector<uint64_t>(left.begin(), left.end()));
  EXPECT_EQ(Collect(), 0);
  EXPECT_EQ(MustRead("f"), "version two, longer");
}

TEST_F(LakeServiceTest, OpenReaderSurvivesOverwriteAndCollection) {
  std::string v1 = Pattern(100000, 6);
  MustPut("f", v1);
  auto plan = lake_->OpenRead(kAcct, kFs, "f", std::nullopt, {});
  ASSERT_OK(plan);
  MustPut("f", "v2");
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(ExtentCount(), 1u);
  auto bytes = Drain(*plan);
  ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, v1);
}

TEST_F(LakeServiceTest, BodyFailingMidwayCommitsNothing) {
  // Fails after 1.5 MiB: the extent writer already holds bytes by then.
  FailingSource src(3 << 19, 100000);
  auto n = lake_->PutFile(kAcct, kFs, "partial", src, {});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Code::kUnavailable) << n.status().ToString();
  EXPECT_REASON(Get("partial"), Reason::kPathNotFound);
  EXPECT_EQ(ExtentCount(), 0u);

  // Failing before the first byte.
  FailingSource none(0, 100);
  EXPECT_FALSE(lake_->PutFile(kAcct, kFs, "partial", none, {}).ok());
  EXPECT_EQ(ExtentCount(), 0u);

  // A failed overwrite keeps the old content.
  MustPut("keep", "old content");
  FailingSource again(5000, 1000);
  EXPECT_FALSE(lake_->PutFile(kAcct, kFs, "keep", again, {}).ok());
  EXPECT_EQ(MustRead("keep"), "old content");
  EXPECT_EQ(ExtentCount(), 1u);

  // The same for staged blocks and appends.
  FailingSource blk(4096, 1000);
  EXPECT_FALSE(
      lake_->StageBlock(kAcct, kFs, "b", "QQ==", blk, std::nullopt, std::nullopt, nullptr).ok());
  EXPECT_REASON(lake_->GetBlockList(kAcct, kFs, "b", {}), Reason::kPathNotFound);
  ASSERT_OK(CreateFile("app"));
  FailingSource app(4096, 1000);
  EXPECT_FALSE(lake_->Append(kAcct, kFs, "app", 0, app, std::nullopt, std::nullopt, false).ok());
  EXPECT_REASON(Flush("app", 4096), Reason::kInvalidFlushPosition);
  EXPECT_EQ(ExtentCount(), 1u);
}

TEST_F(LakeServiceTest, SizeHintSizesBuffersButNeverDecidesWhatIsStored) {
  // Right hints, small and large; then hints that are too small or too large: every byte the
  // source yields is stored, whatever it announced.
  const std::vector<std::pair<size_t, int64_t>> cases = {
      {1024, 1024}, {0, 0}, {200000, 200000}, {5000, 10}, {70000, 3}, {10, 100000}};
  int i = 0;
  for (const auto& [size, hint] : cases) {
    const std::string path = "hinted/" + std::to_string(i++);
    const std::string data = Pattern(size, static_cast<uint32_t>(size));
    HintedSource src(data, hint);
    ASSERT_OK(lake_->PutFile(kAcct, kFs, path, src, {}));
    EXPECT_EQ(MustRead(path), data) << "size " << size << ", hint " << hint;
  }
}

TEST_F(LakeServiceTest, Md5MismatchCommitsNothing) {
  std::string data = Pattern(5000, 7);
  PutOptions bad;
  bad.expected_md5 = Md5("something else");
  EXPECT_REASON(Put("f", data, bad), Reason::kMd5Mismatch);
  EXPECT_REASON(Get("f"), Reason::kPathNotFound);
  EXPECT_EQ(ExtentCount(), 0u);
  EXPECT_REASON(Put("f", "", bad), Reason::kMd5Mismatch);
  EXPECT_REASON(Get("f"), Reason::kPathNotFound);

  PutOptions good;
  good.expected_md5 = Md5(data);
  ASSERT_OK(Put("f", data, good));
  EXPECT_EQ(MustRead("f"), data);
  EXPECT_EQ(ExtentCount(), 1u);

  // A mismatching overwrite keeps the committed version.
  EXPECT_REASON(Put("f", "new", bad), Reason::kMd5Mismatch);
  EXPECT_EQ(MustRead("f"), data);
  EXPECT_EQ(ExtentCount(), 1u);

  // Blocks and appends check their MD5 too.
  StringSource blk("block");
  std::string md5;
  EXPECT_REASON(lake_->StageBlock(kAcct, kFs, "b", "QQ==", blk, Md5("nope"), std::nullopt, &md5),
                Reason::kMd5Mismatch);
  EXPECT_REASON(lake_->GetBlockList(kAcct, kFs, "b", {}), Reason::kPathNotFound);
  ASSERT_OK(CreateFile("app"));
  StringSource app("appended");
  EXPECT_REASON(lake_->Append(kAcct, kFs, "app", 0, app, Md5("nope"), std::nullopt, true),
                Reason::kMd5Mismatch);
  EXPECT_EQ(MustRead("app"), "");
  EXPECT_EQ(ExtentCount(), 1u);
}

// ===== blocks ===================================================================================

TEST_F(LakeServiceTest, StageAndCommitBlocks) {
  std::string md5;
  ASSERT_OK(Stage("b", "YQ==", "aaa", &md5));
  EXPECT_EQ(md5, Md5("aaa"));
  ASSERT_OK(Stage("b", "Yg==", "bbbb"));
  // Staged blocks are invisible to readers: the blob does not exist yet.
  EXPECT_REASON(Read("b"), Reason::kPathNotFound);
  auto bl = lake_->GetBlockList(kAcct, kFs, "b", {});
  ASSERT_OK(bl);
  EXPECT_FALSE(bl->node.has_value());
  EXPECT_TRUE(bl->committed.empty());
  ASSERT_EQ(bl->uncommitted.size(), 2u);
  EXPECT_EQ(bl->uncommitted[0].id, "YQ==");
  EXPECT_EQ(bl->uncommitted[0].size, 3);
  EXPECT_EQ(bl->uncommitted[1].id, "Yg==");
  EXPECT_EQ(bl->uncommitted[1].size, 4);

  auto n = Commit("b", {{BlockRef::From::kUncommitted, "Yg=="}, {BlockRef::From::kLatest, "YQ=="}});
  ASSERT_OK(n);
  EXPECT_EQ(n->length, 7);
  EXPECT_EQ(MustRead("b"), "bbbbaaa");
  bl = lake_->GetBlockList(kAcct, kFs, "b", {});
  ASSERT_OK(bl);
  ASSERT_TRUE(bl->node.has_value());
  EXPECT_EQ(bl->node->etag, n->etag);
  ASSERT_EQ(bl->committed.size(), 2u);
  EXPECT_EQ(bl->committed[0].id, "Yg==");
  EXPECT_EQ(bl->committed[0].size, 4);
  EXPECT_EQ(bl->committed[1].id, "YQ==");
  EXPECT_TRUE(bl->uncommitted.empty());

  // New staged data is invisible until its commit.
  ASSERT_OK(Stage("b", "Yw==", "cc"));
  ASSERT_OK(Stage("b", "YQ==", "AAAAA"));  // same ID as a committed block, new content
  EXPECT_EQ(MustRead("b"), "bbbbaaa");
  bl = lake_->GetBlockList(kAcct, kFs, "b", {});
  ASSERT_OK(bl);
  EXPECT_EQ(bl->committed.size(), 2u);
  ASSERT_EQ(bl->uncommitted.size(), 2u);

  // Latest prefers the uncommitted block; Committed takes the committed one.
  n = Commit("b", {{BlockRef::From::kLatest, "YQ=="},
                   {BlockRef::From::kCommitted, "YQ=="},
                   {BlockRef::From::kLatest, "Yw=="},
                   {BlockRef::From::kLatest, "Yg=="}});
  ASSERT_OK(n);
  EXPECT_EQ(MustRead("b"), "AAAAAaaaccbbbb");
  bl = lake_->GetBlockList(kAcct, kFs, "b", {});
  ASSERT_OK(bl);
  ASSERT_EQ(bl->committed.size(), 4u);
  EXPECT_EQ(bl->committed[0].size, 5);
  EXPECT_EQ(bl->committed[1].size, 3);
  EXPECT_TRUE(bl->uncommitted.empty());
}

TEST_F(LakeServiceTest, RecommitReusesExtentsAndDropsUncommitted) {
  ASSERT_OK(Stage("b", "MQ==", "one-"));
  ASSERT_OK(Stage("b", "Mg==", "two-"));
  ASSERT_OK(Stage("b", "Mw==", "three"));
  ASSERT_OK(Commit("b", {{BlockRef::From::kLatest, "MQ=="}, {BlockRef::From::kLatest, "Mg=="}}));
  EXPECT_EQ(MustRead("b"), "one-two-");
  // The block left out of the commit is garbage now.
  EXPECT_EQ(Collect(), 1);
  auto ids = ExtentIds();
  EXPECT_EQ(ids.size(), 2u);

  // Re-commit committed blocks only, in another order: no new bytes are written.
  auto n = Commit("b", {{BlockRef::From::kCommitted, "Mg=="},
                        {BlockRef::From::kLatest, "MQ=="},
                        {BlockRef::From::kCommitted, "Mg=="}});
  ASSERT_OK(n);
  EXPECT_EQ(MustRead("b"), "two-one-two-");
  EXPECT_EQ(ExtentIds(), ids);
  EXPECT_EQ(Collect(), 0);
  auto slices = SliceIds(n->id);
  EXPECT_EQ(std::set<uint64_t>(slices.begin(), slices.end()), ids);

  // Dropping a block from the list frees its extent once nothing else uses it.
  ASSERT_OK(Commit("b", {{BlockRef::From::kCommitted, "MQ=="}}));
  EXPECT_EQ(MustRead("b"), "one-");
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(ExtentCount(), 1u);
}

TEST_F(LakeServiceTest, InvalidBlockLists) {
  ASSERT_OK(Stage("b", "MQ==", "one"));
  ASSERT_OK(Commit("b", {{BlockRef::From::kLatest, "MQ=="}}));
  ASSERT_OK(Stage("b", "Mg==", "two"));
  auto etag = Get("b")->etag;
  EXPECT_REASON(Commit("b", {{BlockRef::From::kLatest, "bm9wZQ=="}}), Reason::kInvalidBlockList);
  // Committed-only and uncommitted-only lookups do not cross over.
  EXPECT_REASON(Commit("b", {{BlockRef::From::kUncommitted, "MQ=="}}), Reason::kInvalidBlockList);
  EXPECT_REASON(Commit("b", {{BlockRef::From::kCommitted, "Mg=="}}), Reason::kInvalidBlockList);
  // Nothing changed, and the staged block is still there.
  EXPECT_EQ(Get("b")->etag, etag);
  EXPECT_EQ(MustRead("b"), "one");
  EXPECT_OK(Commit("b", {{BlockRef::From::kUncommitted, "Mg=="}}));
  EXPECT_EQ(MustRead("b"), "two");
}

TEST_F(LakeServiceTest, RestagingABlockReplacesIt) {
  ASSERT_OK(Stage("b", "MQ==", "first"));
  ASSERT_OK(Stage("b", "MQ==", "second!"));
  auto bl = lake_->GetBlockList(kAcct, kFs, "b", {});
  ASSERT_OK(bl);
  ASSERT_EQ(bl->uncommitted.size(), 1u);
  EXPECT_EQ(bl->uncommitted[0].size, 7);
  EXPECT_EQ(Collect(), 1);
  ASSERT_OK(Commit("b", {{BlockRef::From::kLatest, "MQ=="}}));
  EXPECT_EQ(MustRead("b"), "second!");
  EXPECT_EQ(ExtentCount(), 1u);
}

// ===== DFS create / append / flush ==============================================================

TEST_F(LakeServiceTest, CreatePathMakesParentsAndHonoursIfNoneMatch) {
  auto f = CreateFile("a/b/c/file.txt");
  ASSERT_OK(f);
  EXPECT_FALSE(f->is_dir);
  EXPECT_EQ(f->length, 0);
  for (const char* d : {"a", "a/b", "a/b/c"}) {
    auto n = Get(d);
    ASSERT_OK(n) << d;
    EXPECT_TRUE(n->is_dir) << d;
  }
  auto dir = Mkdir("x/y");
  ASSERT_OK(dir);
  EXPECT_TRUE(dir->is_dir);
  // The default umask 027 applies to 0777 / 0666.
  EXPECT_EQ(dir->access.permissions, 0750u);
  EXPECT_EQ(f->access.permissions, 0640u);

  CreateOptions none_match;
  none_match.access.cond.if_none_match = "*";
  EXPECT_REASON(CreateFile("a/b/c/file.txt", none_match), Reason::kPathAlreadyExists);
  none_match.is_dir = true;
  EXPECT_REASON(lake_->CreatePath(kAcct, kFs, "x/y", none_match), Reason::kPathAlreadyExists);
  EXPECT_OK(CreateFile("a/new.txt", none_match));
  CreateOptions no_overwrite;
  no_overwrite.overwrite = false;
  EXPECT_REASON(CreateFile("a/b/c/file.txt", no_overwrite), Reason::kPathAlreadyExists);

  // Creating a directory that exists succeeds; a type clash does not.
  EXPECT_OK(Mkdir("x/y"));
  EXPECT_REASON(CreateFile("x/y"), Reason::kResourceTypeMismatch);
  EXPECT_REASON(Mkdir("a/b/c/file.txt"), Reason::kResourceTypeMismatch);
  EXPECT_REASON(CreateFile("a/b/c/file.txt/under"), Reason::kPathConflict);
  EXPECT_REASON(Get("a/b/c/file.txt/under"), Reason::kPathNotFound);

  // If-Match against the current etag.
  CreateOptions match;
  match.access.cond.if_match = "0x0";
  EXPECT_REASON(CreateFile("a/b/c/file.txt", match), Reason::kConditionNotMet);
  match.access.cond.if_match = Get("a/b/c/file.txt")->etag;
  EXPECT_OK(CreateFile("a/b/c/file.txt", match));
  match.access.cond.if_match = "0x0";
  EXPECT_REASON(CreateFile("not/there", match), Reason::kConditionNotMet);
  EXPECT_FALSE(Exists("not"));
}

TEST_F(LakeServiceTest, CreateOverExistingFileTruncates) {
  MustPut("f", "content");
  auto old = Get("f");
  ASSERT_OK(old);
  auto n = CreateFile("f");
  ASSERT_OK(n);
  EXPECT_EQ(n->length, 0);
  EXPECT_NE(n->etag, old->etag);
  EXPECT_EQ(MustRead("f"), "");
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(ExtentCount(), 0u);
}

TEST_F(LakeServiceTest, CreatePathPermissionsUmaskOwnerAcl) {
  CreateOptions o;
  o.is_dir = true;
  o.permissions = 0777;
  o.umask = 027;
  auto d = lake_->CreatePath(kAcct, kFs, "perm/d", o);
  ASSERT_OK(d);
  EXPECT_EQ(d->access.permissions, 0750u);  // p & ~umask, as Azure documents it

  CreateOptions f;
  f.permissions = 0666;
  f.umask = 022;
  auto file = lake_->CreatePath(kAcct, kFs, "perm/f", f);
  ASSERT_OK(file);
  EXPECT_EQ(file->access.permissions, 0644u);

  CreateOptions sticky;
  sticky.is_dir = true;
  sticky.permissions = 01777;
  sticky.umask = 0;
  auto s = lake_->CreatePath(kAcct, kFs, "perm/tmp", sticky);
  ASSERT_OK(s);
  EXPECT_EQ(s->access.permissions, 01777u);

  CreateOptions plain;
  plain.umask = 022;
  auto p = lake_->CreatePath(kAcct, kFs, "perm/plain", plain);
  ASSERT_OK(p);
  EXPECT_EQ(p->access.permissions, 0644u);

  CreateOptions owned;
  owned.owner = "alice";
  owned.group = "staff";
  owned.acl = "user::rwx,user:bob:r--,group::r-x,mask::r-x,other::---";
  auto a = lake_->CreatePath(kAcct, kFs, "perm/acl", owned);
  ASSERT_OK(a);
  auto got = Get("perm/acl");
  ASSERT_OK(got);
  EXPECT_EQ(got->access.owner, "alice");
  EXPECT_EQ(got->access.group, "staff");
  EXPECT_EQ(FormatAcl(got->access, false), *owned.acl);
  EXPECT_EQ(got->access.permissions, 0750u);

  CreateOptions bad_acl;
  bad_acl.acl = "user::rwx,bogus";
  EXPECT_REASON(lake_->CreatePath(kAcct, kFs, "perm/bad", bad_acl), Reason::kInvalidHeaderValue);
  EXPECT_FALSE(Exists("perm/bad"));
}

// An append hashes its bytes only to check a Content-MD5 the request carried, in memory
// (inline) and in the extent store alike; a wrong one fails and stages nothing.
TEST_F(LakeServiceTest, AppendChecksAGivenMd5AndReturnsIt) {
  ASSERT_OK(CreateFile("m"));
  const std::string big(200 << 10, 'b');  // past the inline limit: an extent store writer
  int64_t at = 0;
  for (const std::string& data : {std::string("small"), big}) {
    StringSource src(data);
    auto r = lake_->Append(kAcct, kFs, "m", at, src, Md5(data), std::nullopt, false);
    ASSERT_OK(r);
    EXPECT_EQ(r->md5, Md5(data));
    StringSource wrong(data);
    EXPECT_REASON(lake_->Append(kAcct, kFs, "m", at + static_cast<int64_t>(data.size()), wrong,
                                Md5("other"), std::nullopt, false),
                  Reason::kMd5Mismatch);
    at += static_cast<int64_t>(data.size());
  }
  auto n = Flush("m", at);
  ASSERT_OK(n);
  EXPECT_EQ(MustRead("m"), "small" + big);
  EXPECT_TRUE(n->headers.content_md5.empty());  // as Azure: a flush sets none unless told
}

TEST_F(LakeServiceTest, AppendOutOfOrderThenFlush) {
  ASSERT_OK(CreateFile("f"));
  auto r2 = Append("f", 5, "world");
  ASSERT_OK(r2);
  EXPECT_EQ(r2->md5, "");  // no Content-MD5 to check: none computed
  EXPECT_FALSE(r2->flushed.has_value());
  ASSERT_OK(Append("f", 10, "!"));
  ASSERT_OK(Append("f", 0, "hello"));
  // Not visible before the flush.
  EXPECT_EQ(MustRead("f"), "");
  EXPECT_EQ(Get("f")->length, 0);
  auto n = Flush("f", 11);
  ASSERT_OK(n);
  EXPECT_EQ(n->length, 11);
  EXPECT_EQ(MustRead("f"), "helloworld!");

  // More appends after the committed end.
  ASSERT_OK(Append("f", 11, " more"));
  EXPECT_EQ(MustRead("f"), "helloworld!");
  EXPECT_REASON(Append("f", 3, "x"), Reason::kInvalidAppendPosition);
  ASSERT_OK(Flush("f", 16));
  EXPECT_EQ(MustRead("f"), "helloworld! more");
  EXPECT_EQ(ExtentCount(), 4u);

  EXPECT_REASON(Append("missing", 0, "x"), Reason::kPathNotFound);
  ASSERT_OK(Mkdir("d"));
  EXPECT_REASON(Append("d", 0, "x"), Reason::kResourceTypeMismatch);
  EXPECT_EQ(ExtentCount(), 4u);  // rejected appends leave no bytes
}

TEST_F(LakeServiceTest, FlushAtTheWrongPosition) {
  ASSERT_OK(CreateFile("f"));
  ASSERT_OK(Append("f", 0, "ab"));
  ASSERT_OK(Append("f", 5, "xy"));  // a gap at 2..4
  EXPECT_REASON(Flush("f", 7), Reason::kInvalidFlushPosition);
  EXPECT_REASON(Flush("f", 4), Reason::kInvalidFlushPosition);
  EXPECT_REASON(Flush("f", 3), Reason::kInvalidFlushPosition);
  EXPECT_EQ(MustRead("f"), "");
  // Failed flushes discarded nothing: fill the gap and flush everything.
  ASSERT_OK(Append("f", 2, "cde"));
  ASSERT_OK(Flush("f", 7));
  EXPECT_EQ(MustRead("f"), "abcdexy");
  EXPECT_REASON(Flush("f", 6), Reason::kInvalidFlushPosition);  // before the end
  EXPECT_REASON(Flush("f", 8), Reason::kInvalidFlushPosition);  // nothing staged there
  auto same = Flush("f", 7);  // a flush at the end is a no-op on the content
  ASSERT_OK(same);
  EXPECT_EQ(MustRead("f"), "abcdexy");
}

TEST_F(LakeServiceTest, RetriedAppendAtSamePositionWins) {
  ASSERT_OK(CreateFile("f"));
  ASSERT_OK(Append("f", 0, "first"));
  ASSERT_OK(Append("f", 0, "again"));
  ASSERT_OK(Flush("f", 5));
  EXPECT_EQ(MustRead("f"), "again");
  Collect();
  EXPECT_EQ(ExtentCount(), 1u);
}

TEST_F(LakeServiceTest, RetainUncommittedData) {
  ASSERT_OK(CreateFile("keep"));
  ASSERT_OK(Append("keep", 0, "aaaa"));
  ASSERT_OK(Append("keep", 4, "bbbb"));
  ASSERT_OK(Flush("keep", 4, /*retain=*/true));
  EXPECT_EQ(MustRead("keep"), "aaaa");
  ASSERT_OK(Flush("keep", 8));
  EXPECT_EQ(MustRead("keep"), "aaaabbbb");

  ASSERT_OK(CreateFile("drop"));
  ASSERT_OK(Append("drop", 0, "aaaa"));
  ASSERT_OK(Append("drop", 4, "bbbb"));
  ASSERT_OK(Flush("drop", 4, /*retain=*/false));
  EXPECT_EQ(MustRead("drop"), "aaaa");
  EXPECT_REASON(Flush("drop", 8), Reason::kInvalidFlushPosition);
  EXPECT_EQ(MustRead("drop"), "aaaa");
  // The discarded append is garbage.
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(ExtentCount(), 3u);
}

TEST_F(LakeServiceTest, AppendPastTheLargestFileIsRefusedAndKeepsNothing) {
  // Found by request_pipeline_fuzz: position 2^63-1 plus 4 bytes overflowed (UBSan).
  ASSERT_OK(CreateFile("f"));
  size_t before = ExtentCount();
  const int64_t max = std::numeric_limits<int64_t>::max();
  for (int64_t pos : {max, max - 3, kMaxFileBytes - 3, kMaxFileBytes + 1}) {
    EXPECT_REASON(Append("f", pos, "abcd", true), Reason::kInvalidAppendPosition);
    EXPECT_REASON(Append("f", pos, "abcd", false), Reason::kInvalidAppendPosition);
  }
  EXPECT_EQ(ExtentCount(), before);
  ASSERT_OK(Append("f", kMaxFileBytes - 4, "abcd"));  // up to the limit is fine
}

TEST_F(LakeServiceTest, AppendWithFlush) {
  ASSERT_OK(CreateFile("f"));
  auto r = Append("f", 0, "abc", /*flush=*/true);
  ASSERT_OK(r);
  ASSERT_TRUE(r->flushed.has_value());
  EXPECT_EQ(r->flushed->length, 3);
  EXPECT_EQ(MustRead("f"), "abc");
  // Appends staged earlier join a flushing append when contiguous.
  ASSERT_OK(Append("f", 3, "def"));
  r = Append("f", 6, "ghi", true);
  ASSERT_OK(r);
  EXPECT_EQ(r->flushed->length, 9);
  EXPECT_EQ(MustRead("f"), "abcdefghi");
  // A flushing append that leaves a gap fails whole: its bytes are not kept.
  size_t before = ExtentCount();
  EXPECT_REASON(Append("f", 20, "zzz", true), Reason::kInvalidFlushPosition);
  EXPECT_EQ(ExtentCount(), before);
  EXPECT_EQ(MustRead("f"), "abcdefghi");
}

TEST_F(LakeServiceTest, FlushReplacesHeadersAndChecksConditions) {
  ASSERT_OK(CreateFile("f"));
  ASSERT_OK(Append("f", 0, "data"));
  FlushOptions o;
  o.position = 4;
  o.access.cond.if_match = "0x0";
  EXPECT_REASON(lake_->Flush(kAcct, kFs, "f", o), Reason::kConditionNotMet);
  o.access.cond.if_match = Get("f")->etag;
  ContentHeaders h;
  h.content_type = "application/json";
  o.headers = h;
  auto n = lake_->Flush(kAcct, kFs, "f", o);
  ASSERT_OK(n);
  EXPECT_EQ(n->headers.content_type, "application/json");
  EXPECT_EQ(Get("f")->headers.content_type, "application/json");
  EXPECT_EQ(MustRead("f"), "data");
}

// ===== rename ===================================================================================

TEST_F(LakeServiceTest, RenameFile) {
  MustPut("a/f.txt", "payload");
  auto before = Get("a/f.txt");
  ASSERT_OK(before);
  auto n = lake_->Rename(kAcct, kFs, "a/f.txt", kFs, "a/g.txt", {});
  ASSERT_OK(n);
  EXPECT_EQ(n->name, "g.txt");
  EXPECT_EQ(n->id, before->id);
  EXPECT_NE(n->etag, before->etag);
  EXPECT_REASON(Get("a/f.txt"), Reason::kPathNotFound);
  EXPECT_EQ(MustRead("a/g.txt"), "payload");
  EXPECT_EQ(Get("a/g.txt")->etag, n->etag);
  // Into another existing directory.
  ASSERT_OK(Mkdir("b"));
  ASSERT_OK(lake_->Rename(kAcct, kFs, "a/g.txt", kFs, "b/h.txt", {}));
  EXPECT_EQ(MustRead("b/h.txt"), "payload");
  EXPECT_EQ(ExtentCount(), 1u);
  // Onto itself: nothing happens.
  EXPECT_OK(lake_->Rename(kAcct, kFs, "b/h.txt", kFs, "b/h.txt", {}));
  EXPECT_EQ(MustRead("b/h.txt"), "payload");
}

TEST_F(LakeServiceTest, RenameOverwritesExistingFile) {
  MustPut("src", "new content");
  MustPut("dst", "old content");
  ASSERT_EQ(ExtentCount(), 2u);
  RenameOptions keep;
  keep.overwrite = false;
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "src", kFs, "dst", keep), Reason::kPathAlreadyExists);
  RenameOptions nm;
  nm.dest.cond.if_none_match = "*";
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "src", kFs, "dst", nm), Reason::kPathAlreadyExists);
  RenameOptions dm;
  dm.dest.cond.if_match = "0x0";
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "src", kFs, "dst", dm), Reason::kConditionNotMet);
  EXPECT_EQ(MustRead("dst"), "old content");
  EXPECT_EQ(MustRead("src"), "new content");

  dm.dest.cond.if_match = Get("dst")->etag;
  ASSERT_OK(lake_->Rename(kAcct, kFs, "src", kFs, "dst", dm));
  EXPECT_EQ(MustRead("dst"), "new content");
  EXPECT_FALSE(Exists("src"));
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(ExtentCount(), 1u);

  // A file may not replace a directory, nor a directory a file.
  ASSERT_OK(Mkdir("dir"));
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "dst", kFs, "dir", {}), Reason::kResourceTypeMismatch);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "dir", kFs, "dst", {}), Reason::kResourceTypeMismatch);
}

TEST_F(LakeServiceTest, RenameErrors) {
  ASSERT_OK(Mkdir("d/sub"));
  MustPut("d/sub/f", "x");
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d", kFs, "d/sub/inner", {}),
                Reason::kDirectoryIsParentOfDestination);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d", kFs, "d/x", {}),
                Reason::kDirectoryIsParentOfDestination);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d", kFs, "nowhere/d", {}),
                Reason::kRenameDestinationParentPathNotFound);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "missing", kFs, "d2", {}), Reason::kSourcePathNotFound);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d/missing", kFs, "d2", {}), Reason::kSourcePathNotFound);

  RenameOptions src_cond;
  src_cond.source.if_match = "0x0";
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d", kFs, "e", src_cond), Reason::kSourceConditionNotMet);
  src_cond.source = {};
  src_cond.source.if_unmodified_since = Get("d")->modified_us - 10 * kSecond;
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d", kFs, "e", src_cond), Reason::kSourceConditionNotMet);
  src_cond.source = {};
  src_cond.source.if_none_match = Get("d")->etag;
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "d", kFs, "e", src_cond), Reason::kSourceConditionNotMet);
  // None of that moved anything.
  EXPECT_EQ(MustRead("d/sub/f"), "x");
  EXPECT_FALSE(Exists("e"));

  src_cond.source = {};
  src_cond.source.if_match = Get("d")->etag;
  ASSERT_OK(lake_->Rename(kAcct, kFs, "d", kFs, "e", src_cond));
  EXPECT_EQ(MustRead("e/sub/f"), "x");
  EXPECT_FALSE(Exists("d"));

  ASSERT_OK(lake_->CreateFilesystem(kAcct, "other", {}, ""));
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "e", "other", "e", {}), Reason::kInvalidRenameSourcePath);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "", kFs, "x", {}), Reason::kInvalidRenameSourcePath);
}

TEST_F(LakeServiceTest, RenameDirectoryWithManyDescendants) {
  constexpr int kDirs = 20, kFilesPerDir = 99;  // 20 + 1980 = 2000 descendants
  ASSERT_OK(Mkdir("src"));
  std::vector<extent::ExtentInfo> content;
  for (int i = 0; i < 4; ++i) content.push_back(WriteRawExtent("content-" + std::to_string(i)));
  std::vector<std::pair<std::string, bool>> entries;
  for (int d = 0; d < kDirs; ++d) {
    std::string dir = "src/d" + std::to_string(100 + d);
    entries.emplace_back(dir, true);
    for (int f = 0; f < kFilesPerDir; ++f) {
      entries.emplace_back(dir + "/f" + std::to_string(1000 + f), false);
    }
  }
  ASSERT_NO_FATAL_FAILURE(InsertTree(entries, content));
  ASSERT_EQ(entries.size(), 2000u);

  ASSERT_OK(Mkdir("moved"));
  ASSERT_OK(lake_->Rename(kAcct, kFs, "src", kFs, "moved/inner", {}));
  EXPECT_FALSE(Exists("src"));

  std::set<std::string> want;
  for (const auto& e : entries) want.insert("moved/inner" + e.first.substr(3));
  auto listed = ListAllPaths("moved/inner", true, 777);
  EXPECT_EQ(listed.size(), 2000u);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), want);
  size_t i = 0;
  for (const auto& [p, is_dir] : entries) {
    std::string now = "moved/inner" + p.substr(3);
    auto n = Get(now);
    ASSERT_OK(n) << now;
    EXPECT_EQ(n->is_dir, is_dir);
    EXPECT_REASON(Get(p), Reason::kPathNotFound);
    if (!is_dir && i++ % 97 == 0) {
      EXPECT_EQ(MustRead(now).rfind("content-", 0), 0u) << now;
    }
  }
  EXPECT_EQ(ListAllPaths("", false, 100), (std::vector<std::string>{"moved"}));
}

TEST_F(LakeServiceTest, RenameDirectoryOntoDirectory) {
  MustPut("src/f", "x");
  ASSERT_OK(Mkdir("empty"));
  MustPut("full/g", "y");
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "src", kFs, "full", {}), Reason::kPathAlreadyExists);
  EXPECT_EQ(MustRead("full/g"), "y");
  EXPECT_EQ(MustRead("src/f"), "x");
  ASSERT_OK(lake_->Rename(kAcct, kFs, "src", kFs, "empty", {}));
  EXPECT_EQ(MustRead("empty/f"), "x");
  EXPECT_FALSE(Exists("src"));
}

TEST_F(LakeServiceTest, RenameOfLeasedSourceNeedsItsLease) {
  MustPut("f", "x");
  auto l = Lease("f", LeaseRequest::Action::kAcquire);
  ASSERT_OK(l);
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "f", kFs, "g", {}), Reason::kLeaseIdMissing);
  RenameOptions o;
  o.source_lease_id = "00000000-0000-0000-0000-000000000000";
  EXPECT_REASON(lake_->Rename(kAcct, kFs, "f", kFs, "g", o), Reason::kLeaseIdMismatch);
  o.source_lease_id = l->lease_id;
  EXPECT_OK(lake_->Rename(kAcct, kFs, "f", kFs, "g", o));
  EXPECT_EQ(MustRead("g"), "x");
}

// ===== publishing a staged directory (SwapDirectory) ============================================

// Every path of the filesystem with its etag: equal snapshots mean nothing changed.
std::map<std::string, std::string> Snapshot(LakeService& lake) {
  std::map<std::string, std::string> out;
  std::string cont;
  do {
    auto page = lake.ListPaths(kAcct, kFs, "", true, cont, 1000);
    EXPECT_OK(page);
    if (!page.ok()) break;
    for (const auto& e : page->entries) out[e.path] = e.node.etag;
    cont = page->continuation;
  } while (!cont.empty());
  return out;
}

TEST_F(LakeServiceTest, SwapDirectoryIntoAnAbsentTarget) {
  MustPut("_staging/v1/a.csv", "a one");
  MustPut("_staging/v1/part/b.csv", "b one");
  auto staged = Get("_staging/v1");
  ASSERT_OK(staged);
  auto n = lake_->SwapDirectory(kAcct, kFs, "_staging/v1", "pub/sales", "_retired/sales/v0");
  ASSERT_OK(n);
  EXPECT_EQ(n->id, staged->id);
  EXPECT_EQ(n->name, "sales");
  EXPECT_TRUE(n->is_dir);
  EXPECT_NE(n->etag, staged->etag);
  EXPECT_EQ(Get("pub/sales")->etag, n->etag);
  EXPECT_EQ(Get("pub/sales")->parent_id, Get("pub")->id);  // the missing parent was created
  EXPECT_EQ(MustRead("pub/sales/a.csv"), "a one");
  EXPECT_EQ(MustRead("pub/sales/part/b.csv"), "b one");
  EXPECT_FALSE(Exists("_staging/v1"));
  EXPECT_TRUE(Exists("_staging"));
  // Nothing was retired, so nothing was made for it.
  EXPECT_FALSE(Exists("_retired"));
  EXPECT_EQ(ListAllPaths("pub/sales", true, 100),
            (std::vector<std::string>{"pub/sales/a.csv", "pub/sales/part", "pub/sales/part/b.csv"}));
}

TEST_F(LakeServiceTest, StagedDirectoryInheritsItsDestinationsDefaultAcl) {
  ASSERT_OK(Mkdir("domain"));
  SetAccessOptions grant;
  grant.acl =
      "user::rwx,group::r-x,other::---,default:user::rwx,default:group::r-x,"
      "default:other::---,default:group:analysts:r-x,default:mask::r-x";
  ASSERT_OK(lake_->SetAccessControl(kAcct, kFs, "domain", grant));
  CreateOptions dir;
  dir.is_dir = true;
  dir.inherit_from = "domain/out/v";  // not there yet: its nearest existing ancestor counts
  ASSERT_OK(lake_->CreatePath(kAcct, kFs, "_staging/run/data", dir));
  MustPut("_staging/run/data/part=1/a.parquet", "rows");
  ASSERT_OK(lake_->SwapDirectory(kAcct, kFs, "_staging/run/data", "domain/out/v", "_old/v"));
  EXPECT_EQ(FormatAcl(Get("domain/out/v")->access, true),
            "user::rwx,group::r-x,group:analysts:r-x,mask::r-x,other::---,default:user::rwx,"
            "default:group::r-x,default:other::---,default:group:analysts:r-x,"
            "default:mask::r-x");
  EXPECT_EQ(FormatAcl(Get("domain/out/v/part=1/a.parquet")->access, false),
            "user::rwx,group::r-x,group:analysts:r-x,mask::r-x,other::---");
  // Without it, the staging's own parent decides: no grant.
  dir.inherit_from.reset();
  ASSERT_OK(lake_->CreatePath(kAcct, kFs, "_staging/run2/data", dir));
  EXPECT_EQ(FormatAcl(Get("_staging/run2/data")->access, true).find("analysts"),
            std::string::npos);
}

TEST_F(LakeServiceTest, SwapDirectoryRetiresTheExistingTarget) {
  MustPut("sales/a.csv", "a old");
  MustPut("sales/old.csv", "only in the old version");
  MustPut("_staging/v2/a.csv", "a new");
  MustPut("_staging/v2/new.csv", "only in the new version");
  auto old_target = Get("sales");
  auto staged = Get("_staging/v2");
  ASSERT_OK(old_target);
  ASSERT_OK(staged);
  size_t extents = ExtentCount();

  auto n = lake_->SwapDirectory(kAcct, kFs, "_staging/v2", "sales", "_retired/sales/v1");
  ASSERT_OK(n);
  EXPECT_EQ(n->id, staged->id);
  EXPECT_NE(n->etag, staged->etag);
  EXPECT_NE(n->etag, old_target->etag);
  auto target = Get("sales");
  ASSERT_OK(target);
  EXPECT_EQ(target->id, staged->id);
  EXPECT_EQ(target->etag, n->etag);
  auto retired = Get("_retired/sales/v1");
  ASSERT_OK(retired);
  EXPECT_EQ(retired->id, old_target->id);
  EXPECT_NE(retired->etag, old_target->etag);
  EXPECT_NE(retired->etag, n->etag);

  EXPECT_EQ(ListAllPaths("sales", true, 100),
            (std::vector<std::string>{"sales/a.csv", "sales/new.csv"}));
  EXPECT_EQ(MustRead("sales/a.csv"), "a new");
  EXPECT_EQ(MustRead("sales/new.csv"), "only in the new version");
  EXPECT_EQ(ListAllPaths("_retired", true, 100),
            (std::vector<std::string>{"_retired/sales", "_retired/sales/v1",
                                      "_retired/sales/v1/a.csv", "_retired/sales/v1/old.csv"}));
  EXPECT_EQ(MustRead("_retired/sales/v1/a.csv"), "a old");
  EXPECT_EQ(MustRead("_retired/sales/v1/old.csv"), "only in the old version");
  EXPECT_FALSE(Exists("_staging/v2"));
  // Moving frees and copies nothing.
  EXPECT_EQ(Collect(), 0);
  EXPECT_EQ(ExtentCount(), extents);

  // The next version retires this one beside the first.
  MustPut("_staging/v3/a.csv", "a newest");
  ASSERT_OK(lake_->SwapDirectory(kAcct, kFs, "_staging/v3", "sales", "_retired/sales/v2"));
  EXPECT_EQ(MustRead("sales/a.csv"), "a newest");
  EXPECT_EQ(MustRead("_retired/sales/v2/a.csv"), "a new");
  EXPECT_EQ(MustRead("_retired/sales/v1/a.csv"), "a old");
}

TEST_F(LakeServiceTest, SwapDirectoryDropsUncommittedDataOfBothTrees) {
  ASSERT_OK(CreateFile("sales/f"));
  ASSERT_OK(Append("sales/f", 0, "pending old"));
  ASSERT_OK(CreateFile("_staging/v1/f"));
  ASSERT_OK(Append("_staging/v1/f", 0, "pending new"));
  ASSERT_OK(lake_->SwapDirectory(kAcct, kFs, "_staging/v1", "sales", "_retired/v0"));
  // Neither the new sales/f nor the retired one can commit appends made under another path.
  EXPECT_REASON(Flush("sales/f", 11), Reason::kInvalidFlushPosition);
  EXPECT_REASON(Flush("_retired/v0/f", 11), Reason::kInvalidFlushPosition);
  EXPECT_EQ(Collect(), 2);
}

TEST_F(LakeServiceTest, SwapDirectoryErrorsChangeNothing) {
  MustPut("sales/a.csv", "old");
  MustPut("_staging/v1/a.csv", "new");
  MustPut("plain", "a file");
  ASSERT_OK(Mkdir("_retired/taken"));
  const auto before = Snapshot(*lake_);
  auto swap = [&](const std::string& staged, const std::string& target,
                  const std::string& retired) {
    return lake_->SwapDirectory(kAcct, kFs, staged, target, retired);
  };

  EXPECT_REASON(swap("_staging/none", "sales", "_retired/v0"), Reason::kSourcePathNotFound);
  EXPECT_REASON(swap("plain", "sales", "_retired/v0"), Reason::kResourceTypeMismatch);
  EXPECT_REASON(swap("_staging/v1", "plain", "_retired/v0"), Reason::kResourceTypeMismatch);
  EXPECT_REASON(swap("_staging/v1", "sales", "_retired/taken"), Reason::kPathAlreadyExists);
  EXPECT_REASON(swap("_staging/v1", "sales", "plain"), Reason::kPathAlreadyExists);
  // A file where retired's parent would go.
  EXPECT_REASON(swap("_staging/v1", "sales", "plain/v0"), Reason::kPathConflict);
  // None inside another, nor the same, nor the root.
  for (const auto& [s, t, r] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"_staging/v1", "_staging/v1/x", "_retired/v0"},
           {"sales/x", "sales", "_retired/v0"},
           {"_staging/v1", "sales", "sales/old"},
           {"_staging/v1", "sales", "_staging/v1/old"},
           {"_staging/v1", "_retired/v0/sales", "_retired/v0"},
           {"_staging/v1", "sales", "_staging"},
           {"_staging/v1", "_staging/v1", "_retired/v0"},
           {"_staging/v1", "sales", "sales"},
           {"", "sales", "_retired/v0"},
           {"_staging/v1", "", "_retired/v0"},
           {"_staging/v1", "sales", ""}}) {
    EXPECT_REASON(swap(s, t, r), Reason::kInvalidDestinationPath) << s << " " << t << " " << r;
  }
  // A path that merely shares a prefix is not inside.
  MustPut("sales2/z", "z");
  MustPut("_staging/v1x/z", "z");

  // A lease on the target or on the staged directory refuses the swap.
  auto lease = Lease("sales", LeaseRequest::Action::kAcquire);
  ASSERT_OK(lease);
  EXPECT_REASON(swap("_staging/v1", "sales", "_retired/v0"), Reason::kLeaseIdMissing);
  ASSERT_OK(Lease("sales", LeaseRequest::Action::kRelease, lease->lease_id));
  lease = Lease("_staging/v1", LeaseRequest::Action::kAcquire);
  ASSERT_OK(lease);
  EXPECT_REASON(swap("_staging/v1", "sales", "_retired/v0"), Reason::kLeaseIdMissing);
  ASSERT_OK(Lease("_staging/v1", LeaseRequest::Action::kRelease, lease->lease_id));

  auto after = Snapshot(*lake_);
  after.erase("sales2");
  after.erase("sales2/z");
  after.erase("_staging/v1x");
  after.erase("_staging/v1x/z");
  // Acquiring and releasing the leases changed no etag; everything else is as it was.
  EXPECT_EQ(after, before);
  EXPECT_EQ(MustRead("sales/a.csv"), "old");
  EXPECT_EQ(MustRead("_staging/v1/a.csv"), "new");

  // With the leases gone, the same swap goes through; prefixes of other paths were no bar.
  ASSERT_OK(swap("_staging/v1", "sales", "_retired/v0"));
  EXPECT_EQ(MustRead("sales/a.csv"), "new");
  EXPECT_EQ(MustRead("_retired/v0/a.csv"), "old");
  EXPECT_EQ(MustRead("sales2/z"), "z");
  EXPECT_EQ(MustRead("_staging/v1x/z"), "z");
}

TEST_F(LakeServiceTest, SwapDirectoryKeepsPinsOnTheRetiredVersion) {
  MustPut("sales/a.csv", "version one of a");            // inline
  MustPut("sales/b.csv", std::string(200000, 'b'));      // in the extent store
  auto pinned = lake_->PinFiles("ds:sales:v1", kAcct, kFs, {"sales/a.csv", "sales/b.csv"});
  ASSERT_OK(pinned);
  ASSERT_EQ(pinned->size(), 2u);
  MustPut("_staging/v2/a.csv", "version two of a");
  ASSERT_OK(lake_->SwapDirectory(kAcct, kFs, "_staging/v2", "sales", "_retired/sales/v1"));
  auto read_pins = [&] {
    for (const auto& f : *pinned) {
      auto plan = lake_->OpenSlices(f.slices, f.node.length, std::nullopt);
      ASSERT_OK(plan) << f.path;
      auto bytes = Drain(*plan);
      ASSERT_OK(bytes) << f.path;
      EXPECT_EQ(*bytes,
                f.path == "sales/a.csv" ? "version one of a" : std::string(200000, 'b'));
    }
  };
  ASSERT_NO_FATAL_FAILURE(read_pins());
  ASSERT_OK(lake_->Delete(kAcct, kFs, "_retired/sales/v1", true, {}));
  EXPECT_EQ(Collect(), 0);  // the pins hold both old files' bytes
  ASSERT_NO_FATAL_FAILURE(read_pins());
  EXPECT_EQ(MustRead("sales/a.csv"), "version two of a");
  ASSERT_OK(lake_->Unpin("ds:sales:v1"));
  EXPECT_EQ(Collect(), 2);
  EXPECT_EQ(MustRead("sales/a.csv"), "version two of a");
}

// ===== delete ===================================================================================

TEST_F(LakeServiceTest, DeleteFilesAndDirectories) {
  MustPut("d/f", "x");
  ASSERT_OK(Mkdir("d/empty"));
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "d", false, {}), Reason::kDirectoryNotEmpty);
  EXPECT_EQ(MustRead("d/f"), "x");
  EXPECT_OK(lake_->Delete(kAcct, kFs, "d/empty", false, {}));
  EXPECT_FALSE(Exists("d/empty"));
  Access wrong;
  wrong.cond.if_match = "0x0";
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "d/f", false, wrong), Reason::kConditionNotMet);
  EXPECT_OK(lake_->Delete(kAcct, kFs, "d/f", false, {}));
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "d/f", false, {}), Reason::kPathNotFound);
  EXPECT_OK(lake_->Delete(kAcct, kFs, "d", false, {}));
  EXPECT_FALSE(Exists("d"));
  EXPECT_EQ(Collect(), 1);

  // Deleting the root empties the filesystem but keeps it.
  MustPut("a/b", "1");
  MustPut("c", "2");
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "", false, {}), Reason::kDirectoryNotEmpty);
  EXPECT_OK(lake_->Delete(kAcct, kFs, "", true, {}));
  EXPECT_TRUE(ListAllPaths("", true, 10).empty());
  EXPECT_OK(Get(""));
  EXPECT_EQ(Collect(), 2);
  EXPECT_EQ(ExtentCount(), 0u);
}

TEST_F(LakeServiceTest, DeleteDropsStagedData) {
  ASSERT_OK(CreateFile("d/f"));
  ASSERT_OK(Append("d/f", 0, "pending"));
  ASSERT_OK(lake_->Delete(kAcct, kFs, "d", true, {}));
  EXPECT_EQ(Collect(), 1);
  // A new file at the same path does not inherit the old appends.
  ASSERT_OK(CreateFile("d/f"));
  EXPECT_REASON(Flush("d/f", 7), Reason::kInvalidFlushPosition);
}

TEST_F(LakeServiceTest, RecursiveDeleteOfLargeTreeIsAtomic) {
  constexpr int kDirs = 50, kFilesPerDir = 99;  // 50 + 4950 = 5000 descendants
  ASSERT_OK(Mkdir("big"));
  std::vector<extent::ExtentInfo> content;
  for (int i = 0; i < 10; ++i) content.push_back(WriteRawExtent(Pattern(100 + i, 20 + i)));
  std::vector<std::pair<std::string, bool>> entries;
  for (int d = 0; d < kDirs; ++d) {
    std::string dir = "big/dir" + std::to_string(d);
    entries.emplace_back(dir, true);
    for (int f = 0; f < kFilesPerDir; ++f)
      entries.emplace_back(dir + "/" + std::to_string(f), false);
  }
  ASSERT_NO_FATAL_FAILURE(InsertTree(entries, content));
  MustPut("keep.txt", "survivor");
  ASSERT_EQ(ExtentCount(), 11u);

  // A failing delete changes nothing.
  Access wrong;
  wrong.cond.if_match = "0x0";
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "big", true, wrong), Reason::kConditionNotMet);
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "big", false, {}), Reason::kDirectoryNotEmpty);
  EXPECT_EQ(ListAllPaths("big", true, 5000).size(), 5000u);

  // Readers see the whole tree or none of it.
  std::atomic<bool> done{false};
  std::atomic<int> saw_all{0}, saw_none{0}, saw_other{0};
  std::thread reader([&] {
    bool last = false;
    while (!last) {
      last = done.load();
      auto page = lake_->ListPaths(kAcct, kFs, "big", true, "", 5000);
      if (page.ok() && page->entries.size() == 5000 && page->continuation.empty()) {
        ++saw_all;
      } else if (!page.ok() && page.status().reason() == Reason::kPathNotFound) {
        ++saw_none;
      } else {
        ++saw_other;
      }
    }
  });
  while (saw_all.load() == 0 && saw_other.load() == 0) std::this_thread::yield();
  Status deleted = lake_->Delete(kAcct, kFs, "big", true, {});
  done = true;
  reader.join();
  ASSERT_OK(deleted);
  EXPECT_EQ(saw_other.load(), 0);
  EXPECT_GE(saw_all.load(), 1);
  EXPECT_GE(saw_none.load(), 1);

  EXPECT_FALSE(Exists("big"));
  EXPECT_FALSE(Exists("big/dir7"));
  EXPECT_FALSE(Exists("big/dir7/3"));
  EXPECT_EQ(ListAllPaths("", true, 100), (std::vector<std::string>{"keep.txt"}));
  EXPECT_EQ(Collect(), 10);
  EXPECT_EQ(ExtentCount(), 1u);
  EXPECT_EQ(MustRead("keep.txt"), "survivor");
}

// ===== conditions ===============================================================================

TEST_F(LakeServiceTest, WriteConditions) {
  auto n = Put("f", "v1");
  ASSERT_OK(n);
  PutOptions o;
  o.access.cond.if_match = "0x0";
  EXPECT_REASON(Put("f", "v2", o), Reason::kConditionNotMet);
  o.access.cond.if_match = "\"" + n->etag + "\"";  // quoted, as on the wire
  auto n2 = Put("f", "v2", o);
  ASSERT_OK(n2);
  o.access.cond.if_match = "0x1, " + n2->etag;  // a list
  auto n3 = Put("f", "v3", o);
  ASSERT_OK(n3);
  o.access.cond.if_match = "*";
  ASSERT_OK(Put("f", "v4", o));
  EXPECT_REASON(Put("new", "x", o), Reason::kConditionNotMet);  // If-Match * needs a resource
  EXPECT_FALSE(Exists("new"));

  auto cur = Get("f");
  ASSERT_OK(cur);
  o.access.cond = {};
  o.access.cond.if_none_match = cur->etag;
  EXPECT_REASON(Put("f", "v5", o), Reason::kConditionNotMet);
  o.access.cond.if_none_match = "0x0";
  ASSERT_OK(Put("f", "v5", o));
  o.access.cond.if_none_match = "*";
  EXPECT_REASON(Put("f", "v6", o), Reason::kPathAlreadyExists);
  ASSERT_OK(Put("other", "x", o));

  cur = Get("f");
  ASSERT_OK(cur);
  o.access.cond = {};
  o.access.cond.if_modified_since = cur->modified_us;
  EXPECT_REASON(Put("f", "v6", o), Reason::kConditionNotMet);
  o.access.cond.if_modified_since = cur->modified_us - 10 * kSecond;
  ASSERT_OK(Put("f", "v6", o));

  cur = Get("f");
  ASSERT_OK(cur);
  o.access.cond = {};
  o.access.cond.if_unmodified_since = cur->modified_us - 10 * kSecond;
  EXPECT_REASON(Put("f", "v7", o), Reason::kConditionNotMet);
  o.access.cond.if_unmodified_since = cur->modified_us + 10 * kSecond;
  ASSERT_OK(Put("f", "v7", o));
  EXPECT_EQ(MustRead("f"), "v7");

  // The same conditions guard metadata updates and deletes.
  cur = Get("f");
  Access a;
  a.cond.if_match = "0x0";
  EXPECT_REASON(lake_->SetProperties(kAcct, kFs, "f", Metadata{{"a", "b"}}, std::nullopt, a),
                Reason::kConditionNotMet);
  a.cond.if_match.reset();
  a.cond.if_unmodified_since = cur->modified_us - 10 * kSecond;
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "f", false, a), Reason::kConditionNotMet);
  EXPECT_TRUE(Exists("f"));
}

TEST_F(LakeServiceTest, ReadConditions) {
  auto n = Put("f", "content");
  ASSERT_OK(n);
  auto read = [&](const Conditions& c) {
    Access a;
    a.cond = c;
    return Read("f", std::nullopt, a);
  };
  Conditions c;
  c.if_none_match = n->etag;
  EXPECT_REASON(read(c), Reason::kNotModified);
  EXPECT_REASON(Get("f", Access{c, std::nullopt}), Reason::kNotModified);
  c.if_none_match = "\"" + n->etag + "\"";
  EXPECT_REASON(read(c), Reason::kNotModified);
  c.if_none_match = "*";
  EXPECT_REASON(read(c), Reason::kNotModified);
  c.if_none_match = "0x0";
  EXPECT_OK(read(c));

  c = {};
  c.if_modified_since = n->modified_us;
  EXPECT_REASON(read(c), Reason::kNotModified);
  EXPECT_REASON(Get("f", Access{c, std::nullopt}), Reason::kNotModified);
  c.if_modified_since = n->modified_us + 10 * kSecond;
  EXPECT_REASON(read(c), Reason::kNotModified);
  c.if_modified_since = n->modified_us - 10 * kSecond;
  auto ok = read(c);
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, "content");

  c = {};
  c.if_match = "0x0";
  EXPECT_REASON(read(c), Reason::kConditionNotMet);
  EXPECT_REASON(Get("f", Access{c, std::nullopt}), Reason::kConditionNotMet);
  c.if_match = n->etag;
  EXPECT_OK(read(c));

  c = {};
  c.if_unmodified_since = n->modified_us - 10 * kSecond;
  EXPECT_REASON(read(c), Reason::kConditionNotMet);
  c.if_unmodified_since = n->modified_us;
  EXPECT_OK(read(c));
}

// ===== leases ===================================================================================

TEST_F(LakeServiceTest, LeaseAcquireDurations) {
  MustPut("f", "x");
  EXPECT_REASON(Lease("f", LeaseRequest::Action::kAcquire, {}, {}, 5), Reason::kInvalidHeaderValue);
  EXPECT_REASON(Lease("f", LeaseRequest::Action::kAcquire, {}, {}, 14),
                Reason::kInvalidHeaderValue);
  EXPECT_REASON(Lease("f", LeaseRequest::Action::kAcquire, {}, {}, 61),
                Reason::kInvalidHeaderValue);
  EXPECT_REASON(Lease("f", LeaseRequest::Action::kAcquire, {}, {}, 0), Reason::kInvalidHeaderValue);
  EXPECT_EQ(Get("f")->lease.state, State::kAvailable);

  int64_t before = NowMillis();
  auto l = Lease("f", LeaseRequest::Action::kAcquire, {}, {}, 15);
  ASSERT_OK(l);
  EXPECT_FALSE(l->lease_id.empty());
  auto n = Get("f");
  ASSERT_OK(n);
  EXPECT_EQ(n->lease.state, State::kLeased);
  EXPECT_EQ(n->lease.duration_s, 15);
  EXPECT_GE(n->lease.expires_ms, before + 15000);
  EXPECT_LE(n->lease.expires_ms, NowMillis() + 15000);
  EXPECT_EQ(ViewLease(n->lease, NowMillis()).state, State::kLeased);
  EXPECT_EQ(ViewLease(n->lease, n->lease.expires_ms).state, State::kExpired);
  ASSERT_OK(Lease("f", LeaseRequest::Action::kRelease, l->lease_id));

  auto l60 = Lease("f", LeaseRequest::Action::kAcquire, {}, {}, 60);
  ASSERT_OK(l60);
  ASSERT_OK(Lease("f", LeaseRequest::Action::kRelease, l60->lease_id));
  auto inf = Lease("f", LeaseRequest::Action::kAcquire, {},
                   std::string("ABCDEF01-0000-0000-0000-000000000000"), -1);
  ASSERT_OK(inf);
  EXPECT_EQ(inf->lease_id, "ABCDEF01-0000-0000-0000-000000000000");
  EXPECT_TRUE(ViewLease(Get("f")->lease, NowMillis() + 1000000000).infinite);
  EXPECT_EQ(ViewLease(Get("f")->lease, NowMillis() + 1000000000).state, State::kLeased);
  // Lease IDs compare without regard to case.
  EXPECT_OK(Put(
      "f", "y",
      PutOptions{
          Access{{}, std::string("abcdef01-0000-0000-0000-000000000000")}, {}, {}, std::nullopt, std::nullopt}));

  EXPECT_REASON(Lease("missing", LeaseRequest::Action::kAcquire), Reason::kPathNotFound);
}

TEST_F(LakeServiceTest, LeaseGuardsWrites) {
  MustPut("f", "v1");
  auto l = Lease("f", LeaseRequest::Action::kAcquire);
  ASSERT_OK(l);
  const std::string id = l->lease_id;
  const std::string wrong = "00000000-0000-0000-0000-000000000000";
  auto with = [](const std::optional<std::string>& lease) {
    PutOptions o;
    o.access.lease_id = lease;
    return o;
  };
  EXPECT_REASON(Put("f", "v2", with(std::nullopt)), Reason::kLeaseIdMissing);
  EXPECT_REASON(Put("f", "v2", with(wrong)), Reason::kLeaseIdMismatch);
  Access none, bad, good;
  bad.lease_id = wrong;
  good.lease_id = id;
  EXPECT_REASON(lake_->SetProperties(kAcct, kFs, "f", Metadata{}, std::nullopt, none),
                Reason::kLeaseIdMissing);
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "f", false, none), Reason::kLeaseIdMissing);
  EXPECT_REASON(lake_->Delete(kAcct, kFs, "f", false, bad), Reason::kLeaseIdMismatch);
  EXPECT_REASON(Append("f", 2, "more"), Reason::kLeaseIdMissing);
  EXPECT_REASON(Stage("f", "QQ==", "blk"), Reason::kLeaseIdMissing);
  EXPECT_REASON(CreateFile("f"), Reason::kLeaseIdMissing);
  SetAccessOptions sa;
  sa.permissions = 0600;
  EXPECT_REASON(lake_->SetAccessControl(kAcct, kFs, "f", sa), Reason::kLeaseIdMissing);
  EXPECT_EQ(MustRead("f"), "v1");
  // Reads need no lease, but a wrong one is refused.
  EXPECT_REASON(Read("f", std::nullopt, bad), Reason::kLeaseIdMismatch);
  EXPECT_EQ(ExtentCount(), 1u);

  auto n = Put("f", "v2", with(id));
  ASSERT_OK(n);
  EXPECT_EQ(n->lease.state, State::kLeased);  // a write keeps the lease
  EXPECT_EQ(MustRead("f"), "v2");
  ASSERT_OK(Append("f", 2, "+", true, id));
  EXPECT_EQ(MustRead("f"), "v2+");
  EXPECT_OK(lake_->SetProperties(kAcct, kFs, "f", Metadata{{"a", "b"}}, std::nullopt, good));
  EXPECT_EQ(Get("f")->lease.state, State::kLeased);

  // A lease ID on an unleased file is an error too.
  MustPut("plain", "x");
  EXPECT_REASON(Put("plain", "y", with(id)), Reason::kLeaseNotPresent);
  EXPECT_REASON(Put("brand-new", "y", with(id)), Reason::kLeaseNotPresent);

  EXPECT_OK(lake_->Delete(kAcct, kFs, "f", false, good));
}

TEST_F(LakeServiceTest, LeaseRenewChangeRelease) {
  MustPut("f", "x");
  const std::string a = "aaaaaaaa-0000-0000-0000-000000000000";
  const std::string b = "bbbbbbbb-0000-0000-0000-000000000000";
  using A = LeaseRequest::Action;
  EXPECT_REASON(Lease("f", A::kRenew, a), Reason::kLeaseNotPresentWithLeaseOperation);
  EXPECT_REASON(Lease("f", A::kRelease, a), Reason::kLeaseNotPresentWithLeaseOperation);
  EXPECT_REASON(Lease("f", A::kChange, a, b), Reason::kLeaseNotPresentWithLeaseOperation);
  EXPECT_REASON(Lease("f", A::kBreak), Reason::kLeaseNotPresentWithLeaseOperation);

  ASSERT_OK(Lease("f", A::kAcquire, {}, a, 20));
  EXPECT_REASON(Lease("f", A::kAcquire, {}, b, 20), Reason::kLeaseAlreadyPresent);
  EXPECT_OK(Lease("f", A::kAcquire, {}, a, 30));  // the holder may acquire again
  EXPECT_EQ(Get("f")->lease.duration_s, 30);

  EXPECT_REASON(Lease("f", A::kRenew, b), Reason::kLeaseIdMismatchWithLeaseOperation);
  int64_t before = NowMillis();
  auto r = Lease("f", A::kRenew, a);
  ASSERT_OK(r);
  EXPECT_EQ(r->lease_id, a);
  EXPECT_GE(Get("f")->lease.expires_ms, before + 30000);

  EXPECT_REASON(Lease("f", A::kChange, std::string("cccccccc-0000-0000-0000-000000000000"), b),
                Reason::kLeaseIdMismatchWithLeaseOperation);
  EXPECT_REASON(Lease("f", A::kChange, a), Reason::kMissingRequiredHeader);
  auto c = Lease("f", A::kChange, a, b);
  ASSERT_OK(c);
  EXPECT_EQ(c->lease_id, b);
  // The old ID no longer works; the new one does.
  PutOptions old_id;
  old_id.access.lease_id = a;
  EXPECT_REASON(Put("f", "y", old_id), Reason::kLeaseIdMismatch);
  PutOptions new_id;
  new_id.access.lease_id = b;
  EXPECT_OK(Put("f", "y", new_id));
  // Changing to the ID already held is allowed (idempotent retries).
  EXPECT_OK(Lease("f", A::kChange, a, b));

  EXPECT_REASON(Lease("f", A::kRelease, a), Reason::kLeaseIdMismatchWithLeaseOperation);
  ASSERT_OK(Lease("f", A::kRelease, b));
  EXPECT_EQ(Get("f")->lease.state, State::kAvailable);
  EXPECT_OK(Put("f", "z"));
  EXPECT_REASON(Put("f", "z", new_id), Reason::kLeaseNotPresent);
}

TEST_F(LakeServiceTest, LeaseBreak) {
  MustPut("f", "x");
  using A = LeaseRequest::Action;
  const std::string a = "aaaaaaaa-0000-0000-0000-000000000000";

  // An infinite lease breaks at once without a period.
  ASSERT_OK(Lease("f", A::kAcquire, {}, a));
  auto b = Lease("f", A::kBreak);
  ASSERT_OK(b);
  EXPECT_EQ(b->lease_time_s, 0);
  EXPECT_EQ(ViewLease(Get("f")->lease, NowMillis()).state, State::kBroken);
  EXPECT_OK(Put("f", "after break"));  // no ID needed once broken
  EXPECT_REASON(Lease("f", A::kRenew, a), Reason::kLeaseNotPresentWithLeaseOperation);

  // A finite lease with break period 0 is broken immediately.
  ASSERT_OK(Lease("f", A::kAcquire, {}, a, 60));
  b = Lease("f", A::kBreak, {}, {}, -1, 0);
  ASSERT_OK(b);
  EXPECT_EQ(b->lease_time_s, 0);
  auto n = Get("f");
  ASSERT_OK(n);
  EXPECT_EQ(ViewLease(n->lease, NowMillis()).state, State::kBroken);
  EXPECT_REASON(Lease("f", A::kRenew, a), Reason::kLeaseIsBrokenAndCannotBeRenewed);
  EXPECT_OK(lake_->SetProperties(kAcct, kFs, "f", Metadata{{"k", "v"}}, std::nullopt, {}));
  EXPECT_OK(Lease("f", A::kBreak));  // breaking a broken lease succeeds
  // A broken lease may be released by its holder, or taken over by a new acquire.
  ASSERT_OK(Lease("f", A::kAcquire, {}, std::string("bbbbbbbb-0000-0000-0000-000000000000")));
  ASSERT_OK(Lease("f", A::kBreak, {}, {}, -1, 0));
  EXPECT_OK(Lease("f", A::kRelease, std::string("bbbbbbbb-0000-0000-0000-000000000000")));
  EXPECT_EQ(Get("f")->lease.state, State::kAvailable);

  // A finite lease breaks when it would have expired, or after a shorter period.
  ASSERT_OK(Lease("f", A::kAcquire, {}, a, 60));
  b = Lease("f", A::kBreak, {}, {}, -1, 10);
  ASSERT_OK(b);
  EXPECT_GE(b->lease_time_s, 9);
  EXPECT_LE(b->lease_time_s, 10);
  n = Get("f");
  ASSERT_OK(n);
  EXPECT_EQ(ViewLease(n->lease, NowMillis()).state, State::kBreaking);
  EXPECT_EQ(ViewLease(n->lease, n->lease.break_ms).state, State::kBroken);
  // While breaking, the lease still guards writes and cannot be acquired or changed.
  EXPECT_REASON(Put("f", "w"), Reason::kLeaseIdMissing);
  PutOptions with_id;
  with_id.access.lease_id = a;
  EXPECT_OK(Put("f", "w", with_id));
  EXPECT_REASON(Lease("f", A::kAcquire, {}, a), Reason::kLeaseIsBreakingAndCannotBeAcquired);
  EXPECT_REASON(Lease("f", A::kChange, a, std::string("cccccccc-0000-0000-0000-000000000000")),
                Reason::kLeaseIsBreakingAndCannotBeChanged);
  EXPECT_REASON(Lease("f", A::kRenew, a), Reason::kLeaseIsBrokenAndCannotBeRenewed);
  // A shorter period shortens the break; a longer one does not lengthen it.
  b = Lease("f", A::kBreak, {}, {}, -1, 30);
  ASSERT_OK(b);
  EXPECT_LE(b->lease_time_s, 10);
  b = Lease("f", A::kBreak, {}, {}, -1, 0);
  ASSERT_OK(b);
  EXPECT_EQ(b->lease_time_s, 0);
  EXPECT_OK(Put("f", "free"));
  // The write cleared the broken lease.
  EXPECT_EQ(Get("f")->lease.state, State::kAvailable);
  EXPECT_REASON(Lease("f", A::kBreak, {}, {}, -1, 10), Reason::kLeaseNotPresentWithLeaseOperation);

  // A finite lease without a period breaks at its expiry.
  ASSERT_OK(Lease("f", A::kAcquire, {}, a, 20));
  b = Lease("f", A::kBreak);
  ASSERT_OK(b);
  EXPECT_GE(b->lease_time_s, 19);
  EXPECT_LE(b->lease_time_s, 20);
  EXPECT_REASON(Lease("f", A::kBreak, {}, {}, -1, 61), Reason::kInvalidHeaderValue);
}

// ===== listing ==================================================================================

TEST_F(LakeServiceTest, ListPathsOrderAndPaging) {
  ASSERT_OK(Mkdir("a/b/d"));
  MustPut("a/b/c.txt", "1");
  MustPut("a/e.txt", "2");
  MustPut("a-x.txt", "3");
  MustPut("b.txt", "4");
  ASSERT_OK(Mkdir("z/y"));
  MustPut("z/y/x.txt", "5");
  const std::vector<std::string> want = {"a",       "a/b",   "a/b/c.txt", "a/b/d", "a/e.txt",
                                         "a-x.txt", "b.txt", "z",         "z/y",   "z/y/x.txt"};
  for (int max : {1, 2, 3, 4, 7, 10, 11, 5000}) {
    int pages = 0;
    EXPECT_EQ(ListAllPaths("", true, max, &pages), want) << "max_results " << max;
    EXPECT_EQ(pages, std::max<int>(1, (static_cast<int>(want.size()) + max - 1) / max))
        << "max_results " << max;
  }
  EXPECT_EQ(ListAllPaths("a", true, 2),
            (std::vector<std::string>{"a/b", "a/b/c.txt", "a/b/d", "a/e.txt"}));
  EXPECT_EQ(ListAllPaths("", false, 1), (std::vector<std::string>{"a", "a-x.txt", "b.txt", "z"}));
  EXPECT_EQ(ListAllPaths("a", false, 1), (std::vector<std::string>{"a/b", "a/e.txt"}));
  EXPECT_TRUE(ListAllPaths("a/b/d", true, 10).empty());

  auto page = lake_->ListPaths(kAcct, kFs, "", true, "", 3);
  ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 3u);
  EXPECT_TRUE(page->entries[0].node.is_dir);
  EXPECT_FALSE(page->entries[2].node.is_dir);
  EXPECT_EQ(page->entries[2].node.length, 1);

  EXPECT_REASON(lake_->ListPaths(kAcct, kFs, "nope", true, "", 10), Reason::kPathNotFound);
  EXPECT_REASON(lake_->ListPaths(kAcct, "nofs", "", true, "", 10), Reason::kFilesystemNotFound);
  EXPECT_REASON(lake_->ListPaths(kAcct, kFs, "", true, "!!not base64!!", 10),
                Reason::kInvalidQueryParameterValue);
  EXPECT_REASON(lake_->ListPaths(kAcct, kFs, "a", true, Base64Encode("z/y"), 10),
                Reason::kInvalidQueryParameterValue);
  EXPECT_REASON(lake_->ListPaths(kAcct, kFs, "a", true, Base64Encode("a"), 10),
                Reason::kInvalidQueryParameterValue);
}

TEST_F(LakeServiceTest, ListPathsContinuationSurvivesDeletes) {
  for (const char* p : {"a/1", "a/2", "b/1", "b/2", "c/1"}) MustPut(p, "x");
  auto page = lake_->ListPaths(kAcct, kFs, "", true, "", 4);  // a a/1 a/2 b
  ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 4u);
  EXPECT_EQ(page->entries.back().path, "b");
  ASSERT_OK(lake_->Delete(kAcct, kFs, "b", true, {}));
  auto rest = lake_->ListPaths(kAcct, kFs, "", true, page->continuation, 100);
  ASSERT_OK(rest);
  std::vector<std::string> got;
  for (const auto& e : rest->entries) got.push_back(e.path);
  EXPECT_EQ(got, (std::vector<std::string>{"c", "c/1"}));
}

TEST_F(LakeServiceTest, ListPathsRandomTreeMatchesDepthFirstModel) {
  std::mt19937 rng(42);
  const std::string alphabet = "ab-.Z_0";
  std::map<std::string, std::vector<std::string>> children;  // dir -> child names
  std::vector<std::pair<std::string, bool>> entries;
  std::set<std::string> taken;
  std::vector<std::string> dirs = {""};
  for (int i = 0; i < 400; ++i) {
    const std::string parent = dirs[rng() % dirs.size()];
    std::string name;
    int len = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < len; ++k) name += alphabet[rng() % alphabet.size()];
    if (name == "." || name == "..") continue;
    std::string path = parent.empty() ? name : parent + "/" + name;
    if (!taken.insert(path).second) continue;
    bool is_dir = rng() % 3 == 0;
    entries.emplace_back(path, is_dir);
    children[parent].push_back(name);
    if (is_dir) dirs.push_back(path);
  }
  auto content = WriteRawExtent("leaf");
  ASSERT_NO_FATAL_FAILURE(InsertTree(entries, {content}));
  std::vector<std::string> want;
  std::function<void(const std::string&)> dfs = [&](const std::string& dir) {
    auto kids = children[dir];
    std::sort(kids.begin(), kids.end());
    for (const auto& k : kids) {
      std::string p = dir.empty() ? k : dir + "/" + k;
      want.push_back(p);
      if (children.count(p)) dfs(p);
    }
  };
  dfs("");
  ASSERT_EQ(want.size(), entries.size());
  for (int max : {1, 7, 64, 5000}) {
    EXPECT_EQ(ListAllPaths("", true, max), want) << "max_results " << max;
  }
}

TEST_F(LakeServiceTest, ListBlobsFlatAndByDelimiter) {
  for (const char* p :
       {"dir/file1", "dir/file2", "dir/fizz/x", "dir/other", "dir2/y", "top.txt", "dira.txt"}) {
    MustPut(p, p);
  }
  auto list = [&](const std::string& prefix, const std::string& delim, const std::string& marker,
                  int max) {
    auto p = lake_->ListBlobs(kAcct, kFs, prefix, delim, marker, max);
    EXPECT_OK(p);
    return p.ok() ? *p : ListBlobsPage{};
  };
  auto paths = [](const ListBlobsPage& p) {
    std::vector<std::string> v;
    for (const auto& b : p.blobs) v.push_back(b.path);
    return v;
  };

  // Flat, with a prefix that ends inside a name: directories are listed as entries too.
  auto p = list("dir/fi", "", "", 100);
  EXPECT_EQ(paths(p),
            (std::vector<std::string>{"dir/file1", "dir/file2", "dir/fizz", "dir/fizz/x"}));
  EXPECT_TRUE(p.prefixes.empty());
  EXPECT_EQ(p.next_marker, "");
  p = list("dir", "", "", 100);
  EXPECT_EQ(paths(p),
            (std::vector<std::string>{"dir", "dir/file1", "dir/file2", "dir/fizz", "dir/fizz/x",
                                      "dir/other", "dir2", "dir2/y", "dira.txt"}));
  EXPECT_TRUE(paths(list("nothing", "", "", 100)).empty());
  EXPECT_TRUE(paths(list("top.txt/", "", "", 100)).empty());
  EXPECT_TRUE(paths(list("missing/dir/", "", "", 100)).empty());

  // By '/'.
  p = list("", "/", "", 100);
  EXPECT_EQ(paths(p), (std::vector<std::string>{"dira.txt", "top.txt"}));
  EXPECT_EQ(p.prefixes, (std::vector<std::string>{"dir/", "dir2/"}));
  p = list("di", "/", "", 100);
  EXPECT_EQ(paths(p), (std::vector<std::string>{"dira.txt"}));
  EXPECT_EQ(p.prefixes, (std::vector<std::string>{"dir/", "dir2/"}));
  p = list("dir/", "/", "", 100);
  EXPECT_EQ(paths(p), (std::vector<std::string>{"dir/file1", "dir/file2", "dir/other"}));
  EXPECT_EQ(p.prefixes, (std::vector<std::string>{"dir/fizz/"}));
  p = list("dir/f", "/", "", 100);
  EXPECT_EQ(paths(p), (std::vector<std::string>{"dir/file1", "dir/file2"}));
  EXPECT_EQ(p.prefixes, (std::vector<std::string>{"dir/fizz/"}));
  EXPECT_EQ(p.blobs[0].node.length, 9);
}

TEST_F(LakeServiceTest, ListBlobsMarkerPaging) {
  for (const char* p :
       {"dir/file1", "dir/file2", "dir/fizz/x", "dir/other", "dir2/y", "top.txt", "dira.txt"}) {
    MustPut(p, "x");
  }
  // Each page item is a blob or a prefix; paging yields every item once, in order.
  auto page_all = [&](const std::string& prefix, const std::string& delim, int max) {
    std::vector<std::string> items;
    std::string marker;
    int pages = 0;
    do {
      auto p = lake_->ListBlobs(kAcct, kFs, prefix, delim, marker, max);
      EXPECT_OK(p);
      if (!p.ok()) break;
      EXPECT_LE(static_cast<int>(p->blobs.size() + p->prefixes.size()), max);
      // Within a page, prefixes and blobs interleave in name order; merge them back.
      std::vector<std::string> page;
      for (const auto& b : p->blobs) page.push_back(b.path);
      for (const auto& pre : p->prefixes) page.push_back(pre);
      if (!delim.empty()) std::sort(page.begin(), page.end());
      items.insert(items.end(), page.begin(), page.end());
      marker = p->next_marker;
      if (++pages > 1000) {
        ADD_FAILURE() << "paging does not terminate";
        break;
      }
    } while (!marker.empty());
    return items;
  };
  const std::vector<std::string> by_dir = {"dir/", "dir2/", "dira.txt", "top.txt"};
  for (int max : {1, 2, 3, 100}) EXPECT_EQ(page_all("", "/", max), by_dir) << max;
  const std::vector<std::string> in_dir = {"dir/file1", "dir/file2", "dir/fizz/", "dir/other"};
  for (int max : {1, 2, 3, 100}) EXPECT_EQ(page_all("dir/", "/", max), in_dir) << max;
  const std::vector<std::string> flat = {"dir",        "dir/file1", "dir/file2", "dir/fizz",
                                         "dir/fizz/x", "dir/other", "dir2",      "dir2/y",
                                         "dira.txt",   "top.txt"};
  for (int max : {1, 2, 3, 4, 100}) EXPECT_EQ(page_all("", "", max), flat) << max;
  const std::vector<std::string> flat_fi = {"dir/file1", "dir/file2", "dir/fizz", "dir/fizz/x"};
  for (int max : {1, 3}) EXPECT_EQ(page_all("dir/fi", "", max), flat_fi) << max;
}

TEST_F(LakeServiceTest, ListBlobsMarkerNamingTheDirectoryItself) {
  for (const char* p : {"dir/a", "dir/b/c"}) MustPut(p, "x");
  // A marker equal to the prefix's directory (a client's marker is any string) must not break
  // the listing; every name below "dir/" sorts after "dir".
  auto flat = lake_->ListBlobs(kAcct, kFs, "dir/", "", "dir", 100);
  ASSERT_OK(flat);
  std::vector<std::string> got;
  for (const auto& b : flat->blobs) got.push_back(b.path);
  EXPECT_EQ(got, (std::vector<std::string>{"dir/a", "dir/b", "dir/b/c"}));
  auto by_dir = lake_->ListBlobs(kAcct, kFs, "dir/", "/", "dir", 100);
  ASSERT_OK(by_dir);
  ASSERT_EQ(by_dir->blobs.size(), 1u);
  EXPECT_EQ(by_dir->blobs[0].path, "dir/a");
  EXPECT_EQ(by_dir->prefixes, (std::vector<std::string>{"dir/b/"}));
  // The same with the prefix itself (trailing '/') as the marker.
  for (const std::string delim : {"", "/"}) {
    auto self = lake_->ListBlobs(kAcct, kFs, "dir/", delim, "dir/", 100);
    ASSERT_OK(self) << "delimiter '" << delim << "'";
    ASSERT_FALSE(self->blobs.empty());
    EXPECT_EQ(self->blobs[0].path, "dir/a");
  }
  auto deeper = lake_->ListBlobs(kAcct, kFs, "dir/b/", "", "dir/b", 100);
  ASSERT_OK(deeper);
  ASSERT_EQ(deeper->blobs.size(), 1u);
  EXPECT_EQ(deeper->blobs[0].path, "dir/b/c");
}

// ===== copy, properties, access control ==========================================================

TEST_F(LakeServiceTest, CopySharesExtentsAndOutlivesSource) {
  std::string data = Pattern(200000, 8);
  PutOptions o;
  o.metadata = {{"m", "1"}};
  o.headers.content_type = "image/png";
  ASSERT_OK(Put("src/file", data, o));
  ASSERT_EQ(ExtentCount(), 1u);
  auto c = lake_->CopyFile(kAcct, kFs, "src/file", kFs, "dst/copy", std::nullopt, {}, {},
                           "http://src");
  ASSERT_OK(c);
  EXPECT_EQ(c->length, static_cast<int64_t>(data.size()));
  EXPECT_EQ(c->copy["status"], "success");
  EXPECT_EQ(c->copy["source"], "http://src");
  EXPECT_EQ(c->copy["progress"], std::to_string(data.size()) + "/" + std::to_string(data.size()));
  auto got = lake_->GetPath(kAcct, kFs, "dst/copy", {});
  ASSERT_OK(got);
  EXPECT_EQ(got->copy, c->copy);
  EXPECT_EQ(c->metadata, o.metadata);
  EXPECT_EQ(c->headers.content_type, "image/png");
  EXPECT_EQ(ExtentCount(), 1u);  // no new bytes
  EXPECT_EQ(MustRead("dst/copy"), data);

  ASSERT_OK(lake_->Delete(kAcct, kFs, "src", true, {}));
  EXPECT_EQ(Collect(), 0);
  EXPECT_EQ(ExtentCount(), 1u);
  EXPECT_EQ(MustRead("dst/copy"), data);

  // Copy across filesystems, with new metadata.
  ASSERT_OK(lake_->CreateFilesystem(kAcct, "other", {}, ""));
  auto c2 = lake_->CopyFile(kAcct, kFs, "dst/copy", "other", "x", Metadata{{"n", "2"}}, {}, {},
                            "http://src");
  ASSERT_OK(c2);
  EXPECT_EQ(c2->metadata, (Metadata{{"n", "2"}}));
  EXPECT_EQ(MustRead("x", "other"), data);
  EXPECT_EQ(ExtentCount(), 1u);

  ASSERT_OK(lake_->Delete(kAcct, kFs, "dst/copy", false, {}));
  EXPECT_EQ(Collect(), 0);
  ASSERT_OK(lake_->DeleteFilesystem(kAcct, "other", {}));
  EXPECT_EQ(Collect(), 1);
  EXPECT_EQ(ExtentCount(), 0u);
}

TEST_F(LakeServiceTest, CopyErrors) {
  MustPut("f", "x");
  EXPECT_REASON(lake_->CopyFile(kAcct, kFs, "f", kFs, "f", std::nullopt, {}, {}, "u"),
                Reason::kCannotCopyOntoSelf);
  EXPECT_REASON(lake_->CopyFile(kAcct, kFs, "nope", kFs, "g", std::nullopt, {}, {}, "u"),
                Reason::kSourcePathNotFound);
  EXPECT_REASON(lake_->CopyFile(kAcct, "nofs", "f", kFs, "g", std::nullopt, {}, {}, "u"),
                Reason::kSourcePathNotFound);
  Conditions sc;
  sc.if_match = "0x0";
  EXPECT_REASON(lake_->CopyFile(kAcct, kFs, "f", kFs, "g", std::nullopt, sc, {}, "http://src"),
                Reason::kSourceConditionNotMet);
  Access dc;
  dc.cond.if_none_match = "*";
  MustPut("g", "existing");
  EXPECT_REASON(lake_->CopyFile(kAcct, kFs, "f", kFs, "g", std::nullopt, {}, dc, "http://src"),
                Reason::kPathAlreadyExists);
  EXPECT_EQ(MustRead("g"), "existing");
}

TEST_F(LakeServiceTest, RecoverRemovesUnknownExtents) {
  MustPut("kept", "committed bytes");
  MustPut("replaced", "old");
  MustPut("replaced", "new");  // one garbage extent, not yet collected
  auto orphan = WriteRawExtent("written but never committed");
  ASSERT_NE(orphan.id, 0u);
  // A writer that never finished leaves a file behind too.
  auto w = extents_->NewWriter(extent::Hashing::kMd5);
  ASSERT_OK(w);
  ASSERT_OK((*w)->Append("half"));
  uint64_t unfinished = (*w)->id();
  ASSERT_EQ(ExtentCount(), 5u);

  auto r = lake_->Recover();
  ASSERT_OK(r);
  EXPECT_EQ(*r, 3);
  auto left = ExtentIds();
  EXPECT_EQ(left.size(), 2u);
  EXPECT_EQ(left.count(orphan.id), 0u);
  EXPECT_EQ(left.count(unfinished), 0u);
  EXPECT_EQ(MustRead("kept"), "committed bytes");
  EXPECT_EQ(MustRead("replaced"), "new");
  (*w)->Abandon();
  auto again = lake_->Recover();
  ASSERT_OK(again);
  EXPECT_EQ(*again, 0);
}

TEST_F(LakeServiceTest, SetPropertiesRoundTrip) {
  MustPut("f", "x");
  auto before = Get("f");
  ASSERT_OK(before);
  ContentHeaders h;
  h.content_type = "text/csv";
  h.content_encoding = "gzip";
  h.content_language = "en";
  h.content_disposition = "attachment";
  h.cache_control = "no-cache";
  h.content_md5 = Md5("x");
  auto n = lake_->SetProperties(kAcct, kFs, "f", Metadata{{"Key", "Value"}}, h, {});
  ASSERT_OK(n);
  EXPECT_NE(n->etag, before->etag);
  auto got = Get("f");
  ASSERT_OK(got);
  EXPECT_EQ(got->headers, h);
  EXPECT_EQ(got->metadata, (Metadata{{"Key", "Value"}}));
  EXPECT_EQ(got->etag, n->etag);
  // Leaving a part out keeps it.
  ASSERT_OK(lake_->SetProperties(kAcct, kFs, "f", std::nullopt, std::nullopt, {}));
  EXPECT_EQ(Get("f")->headers, h);
  ASSERT_OK(lake_->SetProperties(kAcct, kFs, "f", Metadata{}, std::nullopt, {}));
  EXPECT_TRUE(Get("f")->metadata.empty());
  EXPECT_EQ(Get("f")->headers, h);
  EXPECT_EQ(MustRead("f"), "x");
  // Directories carry properties too.
  ASSERT_OK(Mkdir("d"));
  ASSERT_OK(lake_->SetProperties(kAcct, kFs, "d", Metadata{{"hdi", "1"}}, std::nullopt, {}));
  EXPECT_EQ(Get("d")->metadata, (Metadata{{"hdi", "1"}}));
  EXPECT_REASON(lake_->SetProperties(kAcct, kFs, "nope", Metadata{}, std::nullopt, {}),
                Reason::kPathNotFound);
}

TEST_F(LakeServiceTest, SetAccessControlRoundTrip) {
  MustPut("f", "x");
  SetAccessOptions o;
  o.owner = "alice";
  o.group = "staff";
  o.permissions = 0640;
  auto n = lake_->SetAccessControl(kAcct, kFs, "f", o);
  ASSERT_OK(n);
  auto got = Get("f");
  ASSERT_OK(got);
  EXPECT_EQ(got->access.owner, "alice");
  EXPECT_EQ(got->access.group, "staff");
  EXPECT_EQ(got->access.permissions, 0640u);
  EXPECT_EQ(FormatAcl(got->access, false), "user::rw-,group::r--,other::---");

  SetAccessOptions acl;
  acl.acl = "user::rwx,user:bob:r-x,group::r--,group:devs:rw-,mask::rwx,other::--x";
  ASSERT_OK(lake_->SetAccessControl(kAcct, kFs, "f", acl));
  got = Get("f");
  ASSERT_OK(got);
  EXPECT_EQ(got->access.owner, "alice");  // an ACL-only update keeps the owner
  EXPECT_EQ(FormatAcl(got->access, false), *acl.acl);
  EXPECT_EQ(got->access.permissions, 0771u);
  EXPECT_EQ(FormatPermissions(got->access.permissions, !got->access.acl.empty()), "rwxrwx--x+");

  // Setting permissions drops the extended entries.
  SetAccessOptions perms;
  perms.permissions = 0600;
  ASSERT_OK(lake_->SetAccessControl(kAcct, kFs, "f", perms));
  got = Get("f");
  EXPECT_EQ(FormatAcl(got->access, false), "user::rw-,group::---,other::---");

  // Default entries only on directories.
  SetAccessOptions defaults;
  defaults.acl =
      "user::rwx,group::r-x,other::---,default:user::rwx,default:group::r-x,"
      "default:other::---";
  EXPECT_REASON(lake_->SetAccessControl(kAcct, kFs, "f", defaults), Reason::kInvalidHeaderValue);
  ASSERT_OK(Mkdir("d"));
  ASSERT_OK(lake_->SetAccessControl(kAcct, kFs, "d", defaults));
  got = Get("d");
  ASSERT_OK(got);
  EXPECT_EQ(FormatAcl(got->access, true), *defaults.acl);
  EXPECT_EQ(got->access.permissions, 0750u);

  SetAccessOptions bad;
  bad.acl = "user::rwx,group::r-x";  // no other:: entry
  EXPECT_REASON(lake_->SetAccessControl(kAcct, kFs, "d", bad), Reason::kInvalidHeaderValue);
  bad.acl = "user:rwx";
  EXPECT_REASON(lake_->SetAccessControl(kAcct, kFs, "d", bad), Reason::kInvalidHeaderValue);
  EXPECT_EQ(FormatAcl(Get("d")->access, true), *defaults.acl);
  // The root directory takes an ACL as well.
  EXPECT_OK(lake_->SetAccessControl(kAcct, kFs, "", defaults));
}

// ===== concurrency ==============================================================================

TEST_F(LakeServiceTest, ReadersSeeWholeVersionsWhileTheCollectorRuns) {
  lake_->StartCollector();
  constexpr int kVersions = 40;
  // Inline versions, then versions whose bytes are extent files.
  for (size_t size : {LakeService::kDefaultInlineLimit, LakeService::kDefaultInlineLimit + 1}) {
    const std::string name = "hot" + std::to_string(size);
    MustPut(name, std::string(size, 'A'));
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, bad{0};
    std::thread reader([&] {
      while (!done.load()) {
        auto s = Read(name);
        if (!s.ok() || s->size() != size ||
            s->find_first_not_of((*s)[0]) != std::string::npos) {
          ++bad;
        }
        ++reads;
      }
    });
    for (int v = 1; v < kVersions; ++v) {
      MustPut(name, std::string(size, static_cast<char>('A' + v % 26)));
    }
    done = true;
    reader.join();
    EXPECT_EQ(bad.load(), 0) << size;
    EXPECT_GT(reads.load(), 0) << size;
    ASSERT_OK(lake_->Delete(kAcct, kFs, name, false, {}));
  }
  lake_->CollectGarbage().status().IgnoreError();
  EXPECT_EQ(ExtentCount(), 0u);
}

TEST_F(LakeServiceTest, ConcurrentWritersToDistinctFiles) {
  constexpr int kThreads = 4, kFiles = 15;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFiles; ++i) {
        std::string p = "t" + std::to_string(t) + "/f" + std::to_string(i);
        if (!Put(p, p).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kFiles; ++i) {
      std::string p = "t" + std::to_string(t) + "/f" + std::to_string(i);
      EXPECT_EQ(MustRead(p), p);
    }
  }
  EXPECT_EQ(ExtentCount(), static_cast<size_t>(kThreads * kFiles));
}

// ----- pins ---------------------------------------------------------------------------------

TEST_F(LakeServiceTest, PinnedBytesOutliveOverwriteAndDelete) {
  MustPut("d/a.csv", "version one of a");
  MustPut("d/b.csv", std::string(200000, 'b'));
  auto pinned = lake_->PinFiles("ds:v1", kAcct, kFs, {"d/a.csv", "d/b.csv"});
  ASSERT_OK(pinned);
  ASSERT_EQ(pinned->size(), 2u);
  EXPECT_EQ((*pinned)[0].node.length, 16);
  MustPut("d/a.csv", "overwritten");
  ASSERT_OK(lake_->Delete(kAcct, kFs, "d/b.csv", false, {}));
  EXPECT_EQ(Collect(), 0);
  for (const auto& f : *pinned) {
    auto plan = lake_->OpenSlices(f.slices, f.node.length, std::nullopt);
    ASSERT_OK(plan);
    auto bytes = Drain(*plan);
    ASSERT_OK(bytes);
    EXPECT_EQ(*bytes, f.path == "d/a.csv" ? "version one of a" : std::string(200000, 'b'));
  }
  auto part = lake_->OpenSlices((*pinned)[0].slices, 16, ByteRange{8, 10});
  ASSERT_OK(part);
  EXPECT_EQ(*Drain(*part), "one");
  EXPECT_EQ(*lake_->ListPinHolders("ds:"), std::vector<std::string>{"ds:v1"});
  ASSERT_OK(lake_->Unpin("ds:v1"));
  EXPECT_TRUE(lake_->ListPinHolders("ds:")->empty());
  EXPECT_EQ(Collect(), 2);  // the first a.csv and b.csv; the new a.csv stays
  EXPECT_EQ(*Read("d/a.csv"), "overwritten");
}

TEST_F(LakeServiceTest, PinFilesIsAllOrNothing) {
  MustPut("x.txt", "x");
  auto r = lake_->PinFiles("ds:v2", kAcct, kFs, {"x.txt", "missing.txt"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kPathNotFound);
  EXPECT_NE(r.status().message().find("missing.txt"), std::string::npos);
  EXPECT_TRUE(lake_->ListPinHolders("")->empty());
  CreateOptions dir;
  dir.is_dir = true;
  ASSERT_OK(lake_->CreatePath(kAcct, kFs, "dir", dir));
  EXPECT_FALSE(lake_->PinFiles("ds:v2", kAcct, kFs, {"dir"}).ok());
}

TEST_F(LakeServiceTest, SoftDeleteParksATreeUntilRestoredOrPurged) {
  ASSERT_OK(Mkdir("raw"));
  MustPut("raw/a.csv", "a,b\n1,2\n");
  MustPut("raw/sub/b.csv", "b");
  const Node before = *Get("raw/a.csv");
  constexpr int64_t kDay = 86400LL * 1000000;
  // A non-empty directory needs recursive, as Delete does.
  EXPECT_EQ(lake_->SoftDelete(kAcct, kFs, "raw", false, {}, kDay).status().reason(),
            Reason::kDirectoryNotEmpty);
  auto d = lake_->SoftDelete(kAcct, kFs, "raw", true, {}, kDay);
  ASSERT_OK(d);
  EXPECT_TRUE(d->is_dir);
  EXPECT_FALSE(Exists("raw"));
  EXPECT_FALSE(Exists("raw/a.csv"));
  // Nothing is garbage: the parked tree holds its extents.
  EXPECT_EQ(Collect(), 0);
  auto listed = lake_->ListDeleted(kAcct, kFs, "", "", 10);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].path, "raw");
  EXPECT_EQ(listed->items[0].id, d->id);
  // The same name again, deleted again: two deletions of "raw", listed in id order.
  ASSERT_OK(Mkdir("raw"));
  auto d2 = lake_->SoftDelete(kAcct, kFs, "raw", true, {}, kDay);
  ASSERT_OK(d2);
  auto page = lake_->ListDeleted(kAcct, kFs, "r", "", 1);
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 1u);
  ASSERT_FALSE(page->next_marker.empty());
  auto rest = lake_->ListDeleted(kAcct, kFs, "r", page->next_marker, 10);
  ASSERT_OK(rest);
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].id, d2->id);
  // Restoring the first: everything is back, with its etag.
  auto back = lake_->Undelete(kAcct, kFs, "raw", d->id);
  ASSERT_OK(back);
  EXPECT_TRUE(back->is_dir);
  EXPECT_EQ(MustRead("raw/a.csv"), "a,b\n1,2\n");
  EXPECT_EQ(MustRead("raw/sub/b.csv"), "b");
  EXPECT_EQ(Get("raw/a.csv")->etag, before.etag);
  // The second cannot come back over it, nor a deletion id of another path.
  EXPECT_EQ(lake_->Undelete(kAcct, kFs, "raw", d2->id).status().reason(),
            Reason::kPathAlreadyExists);
  EXPECT_EQ(lake_->Undelete(kAcct, kFs, "other", d2->id).status().reason(),
            Reason::kPathNotFound);
  // A file whose parent is gone waits for the parent.
  auto f = lake_->SoftDelete(kAcct, kFs, "raw/sub/b.csv", false, {}, kDay);
  ASSERT_OK(f);
  ASSERT_OK(lake_->Delete(kAcct, kFs, "raw/sub", true, {}));
  EXPECT_EQ(lake_->Undelete(kAcct, kFs, "raw/sub/b.csv", std::nullopt).status().reason(),
            Reason::kParentNotFound);
  // Purging what outlived its retention frees it for good; a younger deletion stays.
  auto purged = lake_->PurgeDeleted(NowMicros() + 2 * kDay);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 2);
  EXPECT_GT(Collect(), 0);
  auto none = lake_->ListDeleted(kAcct, kFs, "", "", 10);
  ASSERT_OK(none);
  EXPECT_TRUE(none->items.empty());
  EXPECT_EQ(MustRead("raw/a.csv"), "a,b\n1,2\n");
  EXPECT_EQ(lake_->SoftDelete(kAcct, kFs, "", true, {}, kDay).status().reason(),
            Reason::kInvalidInput);
}

TEST_F(LakeServiceTest, SoftDeletedFilesystemIsKeptWholeUntilRestoredOrPurged) {
  ASSERT_OK(lake_->CreateFilesystem(kAcct, "models", {{"team", "ml"}}, ""));
  ASSERT_OK(Put("v1/w.bin", "weights", {}, "models"));
  constexpr int64_t kDay = 86400LL * 1000000;
  auto d = lake_->SoftDeleteFilesystem(kAcct, "models", {}, kDay);
  ASSERT_OK(d);
  EXPECT_EQ(d->fs.name, "models");
  EXPECT_EQ(lake_->GetFilesystem(kAcct, "models").status().reason(), Reason::kFilesystemNotFound);
  auto live = lake_->ListFilesystems(kAcct, "", "", 100);
  ASSERT_OK(live);
  for (const auto& fs : live->items) EXPECT_NE(fs.name.find('/'), 0u) << fs.name;
  EXPECT_EQ(Collect(), 0);  // its bytes are kept
  // The name is free again; a second deletion is a second version.
  ASSERT_OK(lake_->CreateFilesystem(kAcct, "models", {}, ""));
  auto d2 = lake_->SoftDeleteFilesystem(kAcct, "models", {}, 3 * kDay);
  ASSERT_OK(d2);
  auto listed = lake_->ListDeletedFilesystems(kAcct, "mod");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_NE((*listed)[0].version, (*listed)[1].version);
  EXPECT_EQ((*listed)[0].fs.metadata.at("team"), "ml");
  // Restoring the first brings its tree back; the second cannot come back over it.
  ASSERT_OK(lake_->RestoreFilesystem(kAcct, "models", d->version));
  auto got = Read("v1/w.bin", std::nullopt, {}, "models");
  ASSERT_OK(got);
  EXPECT_EQ(*got, "weights");
  EXPECT_EQ(lake_->RestoreFilesystem(kAcct, "models", d2->version).status().reason(),
            Reason::kFilesystemAlreadyExists);
  EXPECT_EQ(lake_->RestoreFilesystem(kAcct, "models", "123").status().reason(),
            Reason::kFilesystemNotFound);
  // Purged once its retention ends: the younger one first stays, then goes.
  auto none = lake_->PurgeDeletedFilesystems({kAcct}, NowMicros() + 2 * kDay);
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0);
  auto one = lake_->PurgeDeletedFilesystems({kAcct}, NowMicros() + 4 * kDay);
  ASSERT_OK(one);
  EXPECT_EQ(*one, 1);
  EXPECT_TRUE(lake_->ListDeletedFilesystems(kAcct, "")->empty());
}

}  // namespace
}  // namespace tarn::lake
