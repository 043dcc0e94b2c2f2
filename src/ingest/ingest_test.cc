// Ingest against an in-process tarnd frontend (SQLite + local extents in a temporary
// directory, port 0): batches land whole with their manifest, identical content is reported,
// and bad inputs change nothing.
#include "ingest/ingest.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "client/test_lake_server.h"
#include "common/crypto.h"
#include "common/encoding.h"

namespace tarn::ingest {
namespace {

void Write(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "tarn_ingest_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Status started = server_.Start(dir_);
    ASSERT_TRUE(started.ok()) << started.ToString();
    url_ = server_.url();
    connect_ = [this]() {
      client::LakeClientOptions o;
      o.key_base64 = kDevKey;
      return client::LakeClient::Create(url_, o);
    };
    auto c = connect_();
    ASSERT_TRUE(c.ok());
    client_ = std::move(*c);
    ASSERT_TRUE(client_->CreateFilesystem("raw").ok());
    in_ = dir_ + "/in";
    Write(in_ + "/sales/jan.csv", "id,region,amount\n1,north,10.5\n2,south,7\n3,north,\n");
    Write(in_ + "/sales/notes/readme.txt", "landed by hand\n");
    Write(in_ + "/sales/bad.csv", "id,amount\n1,2\n\"unterminated\n");
  }
  void TearDown() override {
    client_.reset();
    server_.Stop();
    std::filesystem::remove_all(dir_);
  }

  Options Opts() {
    Options o;
    o.source = "pos";
    o.date = "2026-12-07";
    o.threads = 3;
    return o;
  }

  // Every path under dir of the raw filesystem, recursively.
  std::vector<std::string> Paths(const std::string& dir) {
    auto page = client_->ListPaths("raw", dir, true, "", 5000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& p : page->paths) out.push_back(p.name);
    }
    return out;
  }

  std::string dir_, url_, in_;
  testing::InProcessLake server_;
  ClientFactory connect_;
  std::unique_ptr<client::LakeClient> client_;
  tabular::Engine engine_;
};

TEST_F(IngestTest, LandsOneBatchWithItsManifest) {
  std::vector<Progress> seen;
  Options o = Opts();
  o.progress = [&](const Progress& p) { seen.push_back(p); };
  auto r = Ingest({in_ + "/sales"}, o, connect_, engine_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->path.rfind("pos/ingest_date=2026-12-07/batch=", 0), 0u) << r->path;

  auto body = client_->GetBlob("raw", r->path + "/jan.csv");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "id,region,amount\n1,north,10.5\n2,south,7\n3,north,\n");
  auto stored = client_->GetBlob("raw", r->path + "/_manifest.json");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(Json::parse(*stored), r->manifest);

  const Json& m = r->manifest;
  EXPECT_EQ(m["format"], "tarn.ingest.batch/1");
  EXPECT_EQ(m["source"], "pos");
  EXPECT_EQ(m["totals"]["files"], 3);
  ASSERT_EQ(m["files"].size(), 3u);
  // Files in path order; the CSV described, the text file not, the malformed CSV with why.
  EXPECT_EQ(m["files"][0]["path"], "bad.csv");
  EXPECT_TRUE(m["files"][0]["tabular"].contains("error"));
  const Json& jan = m["files"][1];
  EXPECT_EQ(jan["path"], "jan.csv");
  EXPECT_EQ(jan["md5"], Base64Encode(Md5("id,region,amount\n1,north,10.5\n2,south,7\n3,north,\n")));
  EXPECT_EQ(jan["tabular"]["rows"], 3);
  EXPECT_EQ(jan["tabular"]["schema"][2], Json({{"name", "amount"}, {"type", "DOUBLE"}}));
  EXPECT_EQ(m["files"][2]["path"], "notes/readme.txt");
  EXPECT_FALSE(m["files"][2].contains("tabular"));
  EXPECT_EQ(m["totals"]["rows"], 3);

  // Nothing is left in staging, and progress reached every phase's total.
  EXPECT_TRUE(Paths(".tarn/staging").empty());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().phase, "uploading");
  EXPECT_EQ(seen.back().done, seen.back().total);
}

TEST_F(IngestTest, IdenticalContentIsReportedNotLandedTwice) {
  auto first = Ingest({in_ + "/sales"}, Opts(), connect_, engine_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Options later = Opts();
  later.date = "2026-12-08";
  auto again = Ingest({in_ + "/sales"}, later, connect_, engine_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->path, first->path);
  EXPECT_EQ(again->manifest, first->manifest);
  EXPECT_TRUE(Paths("pos").size() == Paths(first->path).size() + 2);  // date dir + batch dir

  // Changed content is a new batch; a deleted batch no longer counts as landed.
  Write(in_ + "/sales/notes/readme.txt", "edited\n");
  auto changed = Ingest({in_ + "/sales"}, later, connect_, engine_);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(changed->duplicate);
  ASSERT_TRUE(client_->Delete("raw", first->path, true).ok());
  Write(in_ + "/sales/notes/readme.txt", "landed by hand\n");
  auto back = Ingest({in_ + "/sales"}, later, connect_, engine_);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->duplicate);
}

TEST_F(IngestTest, BadInputsChangeNothing) {
  Options o = Opts();
  auto missing = Ingest({in_ + "/nope"}, o, connect_, engine_);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  o.source = "a/b";
  EXPECT_EQ(Ingest({in_ + "/sales"}, o, connect_, engine_).status().code(), Code::kInvalidArgument);
  o.source = ".tarn";
  EXPECT_EQ(Ingest({in_ + "/sales"}, o, connect_, engine_).status().code(), Code::kInvalidArgument);
  o = Opts();
  o.date = "07/12/2026";
  EXPECT_EQ(Ingest({in_ + "/sales"}, o, connect_, engine_).status().code(), Code::kInvalidArgument);
  // Two inputs whose files would land on one path.
  Write(in_ + "/other/jan.csv", "x\n1\n");
  auto clash = Ingest({in_ + "/sales/jan.csv", in_ + "/other/jan.csv"}, Opts(), connect_, engine_);
  EXPECT_EQ(clash.status().code(), Code::kInvalidArgument);
  EXPECT_NE(clash.status().message().find("two files would land as 'jan.csv'"), std::string::npos);
  // A filesystem that does not exist.
  o = Opts();
  o.filesystem = "landing";
  auto nofs = Ingest({in_ + "/sales"}, o, connect_, engine_);
  EXPECT_EQ(nofs.status().code(), Code::kNotFound);
  EXPECT_NE(nofs.status().message().find("filesystem 'landing' does not exist"), std::string::npos);
  EXPECT_TRUE(Paths("").empty());
}

TEST_F(IngestTest, AFileChangedMidwayFailsTheBatchAndLeavesNothing) {
  // The last file changes once uploading has begun: the files before it are already staged,
  // and the failure must take them away again.
  Options o = Opts();
  o.threads = 1;
  bool changed = false;
  o.progress = [&](const Progress& p) {
    if (p.phase == "uploading" && p.done > 0 && !changed) {
      changed = true;
      Write(in_ + "/sales/notes/readme.txt", "landed by a different hand\n");
    }
  };
  auto r = Ingest({in_ + "/sales"}, o, connect_, engine_);
  ASSERT_TRUE(changed);
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("changed while being ingested"), std::string::npos);
  EXPECT_TRUE(Paths(".tarn/staging").empty());
  EXPECT_EQ(client_->ListPaths("raw", "pos", false, "", 10).status().code(), Code::kNotFound);
}

TEST_F(IngestTest, ACallerWhoCannotWriteLandsNothing) {
  ClientFactory broken = [this]() {
    client::LakeClientOptions o;
    o.key_base64 = Base64Encode(std::string(64, 'x'));
    return client::LakeClient::Create(url_, o);
  };
  auto r = Ingest({in_ + "/sales"}, Opts(), broken, engine_);
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << r.status().ToString();
  EXPECT_TRUE(Paths("").empty());
}

TEST(CollectFilesTest, RefusesNamesTheLakeCannotHold) {
  std::string tmpl = ::testing::TempDir() + "tarn_collect_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  Write(tmpl + "/d/_manifest.json", "{}");
  EXPECT_EQ(CollectFiles({tmpl + "/d"}).status().code(), Code::kInvalidArgument);
  Write(tmpl + "/e/a\x01.csv", "x");
  EXPECT_EQ(CollectFiles({tmpl + "/e"}).status().code(), Code::kInvalidArgument);
  Write(tmpl + "/f/sub/_manifest.json", "{}");  // only the batch's top is reserved
  auto ok = CollectFiles({tmpl + "/f"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].batch_path, "sub/_manifest.json");
  std::filesystem::create_directories(tmpl + "/empty");
  EXPECT_EQ(CollectFiles({tmpl + "/empty"}).status().code(), Code::kInvalidArgument);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace tarn::ingest
