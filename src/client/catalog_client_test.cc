// CatalogClient against an in-process fake of the catalog's REST front: the fake checks every
// request's Shared Key signature (canonical resource /<account>/workspaces/...) and answers
// canned documents, so the request shapes, error mapping, paging and ranged reads are checked
// hermetically (port 0, temporary directory).
#include "client/catalog_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "auth/shared_key.h"
#include "common/dev_account.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "http/server.h"

namespace tarn::client {
namespace {

constexpr char kAccount[] = "devstoreaccount1";

std::string FileBytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return s;
}

std::string ReadBody(http::Request& r) {
  std::string body;
  char buf[65536];
  while (r.body) {
    auto n = r.body->Read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    body.append(buf, *n);
  }
  return body;
}

struct Seen {
  std::string method, path, query, body;
};

class FakeCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = FileBytes(3'000'001);
    server_ = std::make_unique<http::Server>(
        http::ServerOptions{}, [this](http::Request& r, http::ResponseWriter& w) { Handle(r, w); });
    auto url = server_->Start();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
    CatalogClientOptions o;
    o.account = kAccount;
    o.key_base64 = kDevKey;
    o.read_chunk = 256 << 10;  // many chunks, so reads really split
    auto c = CatalogClient::Create(url_, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }
  void TearDown() override { server_->Stop(); }

  bool SignatureOk(const http::Request& r) {
    auth::SignableRequest s;
    s.method = r.method;
    s.raw_path = r.raw_path;
    for (const auto& h : r.headers) s.headers.push_back(h);
    if (!r.raw_query.empty()) {
      for (auto kv : Split(r.raw_query, '&')) {
        size_t eq = kv.find('=');
        auto k = PercentDecode(kv.substr(0, eq));
        auto v = PercentDecode(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
        s.query.emplace(ToLower(*k), *v);
      }
    }
    const std::string* auth = r.Header("authorization");
    return auth && *auth == auth::SharedKeyAuthorization(s, kAccount, *Base64Decode(kDevKey));
  }

  void Reply(http::ResponseWriter& w, int status, const std::string& body,
             http::Headers h = {}) {
    w.Start(status, h, static_cast<int64_t>(body.size())).IgnoreError();
    w.Write(body).IgnoreError();
  }

  void Handle(http::Request& r, http::ResponseWriter& w) {
    Seen s{r.method, r.raw_path, r.raw_query, ReadBody(r)};
    {
      std::lock_guard<std::mutex> l(mu_);
      seen_.push_back(s);
    }
    if (!SignatureOk(r)) {
      Reply(w, 403, R"({"error":{"code":"AuthenticationFailed","message":"bad signature"}})",
            {{"x-ms-error-code", "AuthenticationFailed"}});
      return;
    }
    const std::string files = "/workspaces/ws1/datasets/sales/versions/2/files";
    if (r.raw_path == files) {
      if (r.raw_query.find("marker=2") == std::string::npos) {
        Reply(w, 200, R"({"files":[{"index":0,"path":"a.csv","size":3000001,"etag":"\"e0\"",
          "partition":{"region":"eu"}},{"index":1,"path":"b.csv","size":5}],"next_marker":"2"})");
      } else {
        Reply(w, 200, R"({"files":[{"index":2,"path":"c d.csv","size":0}],"next_marker":null})");
      }
    } else if (r.raw_path == files + "/0") {
      const std::string* range = r.Header("x-ms-range");
      int64_t a = 0, b = static_cast<int64_t>(file_.size()) - 1;
      if (range) {
        auto spec = std::string_view(*range).substr(6);
        size_t dash = spec.find('-');
        ParseInt64(spec.substr(0, dash), &a);
        ParseInt64(spec.substr(dash + 1), &b);
        ranges_++;
      }
      Reply(w, range ? 206 : 200, file_.substr(a, b - a + 1));
    } else if (r.raw_path == "/workspaces/ws1/datasets/drifted/versions/1/files/0") {
      if (r.raw_query == "drift=ignore") {
        Reply(w, 200, "old");
      } else {
        Reply(w, 409, R"({"error":{"code":"DatasetDrift","message":"a.csv changed"}})",
              {{"x-ms-error-code", "DatasetDrift"}});
      }
    } else if (r.raw_path == "/workspaces/nope") {
      Reply(w, 404, R"({"error":{"code":"WorkspaceNotFound","message":"no workspace nope"}})",
            {{"x-ms-error-code", "WorkspaceNotFound"}});
    } else {
      Reply(w, 200, R"({"ok":true})");
    }
  }

  Seen Last() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_.back();
  }

  std::string file_;
  std::unique_ptr<http::Server> server_;
  std::string url_;
  std::unique_ptr<CatalogClient> client_;
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::atomic<int> ranges_{0};
};

TEST_F(FakeCatalogTest, SignsWithTheAccountBeforeWorkspacesAndSendsTheDocumentedBodies) {
  WorkspaceSpec ws{"sub", "rg", ""};
  auto j = client_->CreateWorkspace("ws1", ws);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["ok"], true);
  EXPECT_EQ(Last().method, "PUT");
  EXPECT_EQ(Last().path, "/workspaces/ws1");
  EXPECT_EQ(Json::parse(Last().body), Json({{"subscription_id", "sub"}, {"resource_group", "rg"}}));

  DatastoreSpec ds;
  ds.account_name = kAccount;
  ds.filesystem = "product";
  ds.credential = {{"type", "sas"}, {"sas_token", "sv=1&sig=x"}};
  ASSERT_TRUE(client_->RegisterDatastore("ws1", "Store_1", ds).ok());
  Json body = Json::parse(Last().body);
  EXPECT_EQ(Last().path, "/workspaces/ws1/datastores/Store_1");
  EXPECT_EQ(body["credential"]["type"], "sas");
  EXPECT_FALSE(body.contains("endpoint"));
  EXPECT_EQ(body["overwrite"], false);

  VersionUpdate u;
  u.add_tags = {{"k", "v"}};
  u.remove_tags = {"old"};
  ASSERT_TRUE(client_->UpdateVersion("ws1", "sales", 3, u).ok());
  EXPECT_EQ(Last().method, "PATCH");
  EXPECT_EQ(Last().path, "/workspaces/ws1/datasets/sales/versions/3");
  EXPECT_EQ(Json::parse(Last().body),
            Json({{"add_tags", {{"k", "v"}}}, {"remove_tags", {"old"}}}));

  ASSERT_TRUE(client_->ArchiveVersion("ws1", "sales", 3).ok());
  EXPECT_EQ(Last().query, "action=archive");
  ASSERT_TRUE(client_->GetDataset("ws1", "my data.v2", "latest").ok());
  EXPECT_EQ(Last().path, "/workspaces/ws1/datasets/my%20data.v2");
  EXPECT_EQ(Last().query, "version=latest");
  ASSERT_TRUE(client_->ListDatasets("ws1", true).ok());
  EXPECT_EQ(Last().query, "include_archived=true");
}

TEST_F(FakeCatalogTest, ErrorsCarryTheServersCodeAndMessage) {
  auto j = client_->GetWorkspace("nope");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), Code::kNotFound);
  EXPECT_EQ(ServerErrorCode(j.status()), "WorkspaceNotFound");
  EXPECT_EQ(j.status().reason(), Reason::kWorkspaceNotFound);  // the server's table, read back
  EXPECT_NE(j.status().message().find("no workspace nope"), std::string::npos);

  CatalogClientOptions o;
  o.key_base64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";  // not the account's key
  auto wrong = CatalogClient::Create(url_ + "/" + kAccount, o);
  ASSERT_TRUE(wrong.ok());
  auto denied = (*wrong)->ListWorkspaces();
  EXPECT_EQ(denied.status().code(), Code::kUnauthenticated);  // the table's, both ways
  EXPECT_EQ(ServerErrorCode(denied.status()), "AuthenticationFailed");

  EXPECT_FALSE(CatalogClient::Create(url_ + "/a/b", o).ok());
  o.key_base64 = "not base64!";
  EXPECT_FALSE(CatalogClient::Create(url_, o).ok());
  EXPECT_EQ(ServerErrorCode(Status(Code::kInternal, "plain message")), "");
  // A code outside the table is still read from the message.
  EXPECT_EQ(ServerErrorCode(Status(Code::kUnavailable, "HttpStatus503: busy (HTTP 503)")),
            "HttpStatus503");
  EXPECT_EQ(ReasonForDfsCode("DatasetDrift"), Reason::kDatasetDrift);
  EXPECT_EQ(ReasonForDfsCode("NoSuchCode"), Reason::kNone);
}

TEST_F(FakeCatalogTest, DriftIsRefusedUnlessIgnored) {
  VersionRef v{"ws1", "drifted", 1, false};
  std::string got;
  BodySink sink = [&](std::string_view p) {
    got.append(p);
    return Status::Ok();
  };
  auto r = client_->ReadFile(v, 0, std::nullopt, sink);
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);  // the table's, both ways
  EXPECT_EQ(r.status().reason(), Reason::kDatasetDrift);
  EXPECT_EQ(ServerErrorCode(r.status()), "DatasetDrift");
  v.ignore_drift = true;
  ASSERT_TRUE(client_->ReadFile(v, 0, std::nullopt, sink).ok());
  EXPECT_EQ(got, "old");
}

TEST_F(FakeCatalogTest, ListsEveryPageOfTheManifest) {
  auto files = client_->ListFiles(VersionRef{"ws1", "sales", 2});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].etag, "\"e0\"");
  EXPECT_EQ((*files)[0].partition.at("region"), "eu");
  EXPECT_EQ((*files)[2].path, "c d.csv");
}

TEST_F(FakeCatalogTest, LargeReadsSplitIntoParallelRangesStraightIntoTheBuffer) {
  DatasetFileReader f(*client_, VersionRef{"ws1", "sales", 2}, 0,
                      static_cast<int64_t>(file_.size()));
  std::string buf(file_.size() + 10, 'x');
  auto n = f.ReadAt(0, buf.data(), buf.size());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, file_.size());
  EXPECT_EQ(buf.substr(0, file_.size()), file_);
  EXPECT_GE(ranges_.load(), 12);

  auto tail = f.ReadAt(2'999'990, buf.data(), 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 11u);
  EXPECT_EQ(buf.substr(0, 11), file_.substr(2'999'990));
  EXPECT_EQ(*f.ReadAt(3'000'001, buf.data(), 10), 0u);
}

TEST_F(FakeCatalogTest, DownloadWritesAtomicallyWithProgress) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tarn_catalog_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::atomic<int64_t> seen{0};
  DatasetFile f{0, "a.csv", static_cast<int64_t>(file_.size()), "", "", {}};
  auto dest = (dir / "sub" / "a.csv").string();
  Status s = client_->DownloadFile(VersionRef{"ws1", "sales", 2}, f, dest,
                                   [&](int64_t n) { seen += n; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen.load(), static_cast<int64_t>(file_.size()));
  std::ifstream in(dest, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, file_);
  // A failed download leaves neither the file nor its temporary.
  Status bad = client_->DownloadFile(VersionRef{"ws1", "drifted", 1}, {0, "x", 3, "", "", {}},
                                     (dir / "x").string());
  EXPECT_EQ(ServerErrorCode(bad), "DatasetDrift");
  size_t entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u);  // only "sub"
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tarn::client
