// HttpConnection against an in-process tarn HTTP server, and LakeClient against an in-process
// tarnd frontend (SQLite + local extents in a temporary directory). Hermetic: port 0, temp dir.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "client/http_connection.h"
#include "client/lake_client.h"
#include "client/test_lake_server.h"
#include "common/encoding.h"
#include "http/server.h"
#include "lake/lake_service.h"
#include "protocol/router.h"
#include "store/extent/local/local_extent_store.h"
#include "store/meta/sqlite/sqlite_namespace_store.h"

namespace tarn::client {
namespace {

constexpr char kDevKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 4099) & 0xff);
  return s;
}

Request Req(std::string method, std::string target, std::string_view body = {}) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = body;
  return r;
}

std::string ReadAll(http::Request& r) {
  std::string body;
  char buf[65536];
  for (;;) {
    auto n = r.body->Read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    body.append(buf, *n);
  }
  return body;
}

class EchoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, [](http::Request& r,
                                                                       http::ResponseWriter& w) {
      if (r.raw_path == "/echo") {
        std::string body = ReadAll(r);
        w.Start(200, {{"X-Method", r.method}}, static_cast<int64_t>(body.size())).IgnoreError();
        w.Write(body).IgnoreError();
      } else if (r.raw_path == "/big") {
        std::string body = Pattern(3 << 20);
        w.Start(200, {}, static_cast<int64_t>(body.size())).IgnoreError();
        for (size_t at = 0; at < body.size(); at += 100000) {
          w.Write(std::string_view(body).substr(at, 100000)).IgnoreError();
        }
      } else if (r.raw_path == "/error") {
        w.Start(404, {{"x-ms-error-code", "BlobNotFound"}}, 4).IgnoreError();
        w.Write("nope").IgnoreError();
      } else if (r.raw_path == "/slow") {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        w.Start(200, {}, 0).IgnoreError();
      } else if (r.raw_path == "/close") {
        w.CloseAfter();
        w.Start(200, {}, 3).IgnoreError();
        w.Write("bye").IgnoreError();
      } else if (r.raw_path == "/head") {
        w.Start(200, {}, 12345).IgnoreError();
      } else {
        w.Start(400, {}, 0).IgnoreError();
      }
    });
    auto url = server_->Start();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    auto ep = ParseEndpoint(*url);
    ASSERT_TRUE(ep.ok());
    ep_ = *ep;
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<http::Server> server_;
  Endpoint ep_;
};

TEST(EndpointTest, Parses) {
  auto ep = ParseEndpoint("http://127.0.0.1:10000/devstoreaccount1/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 10000);
  EXPECT_EQ(ep->path_prefix, "/devstoreaccount1");
  ep = ParseEndpoint("http://[::1]:8080");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->HostHeader(), "[::1]:8080");
  ep = ParseEndpoint("https://127.0.0.1:10001/acct");
  ASSERT_TRUE(ep.ok());
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->Origin(), "https://127.0.0.1:10001");
  ep = ParseEndpoint("https://storage.example");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, 443);
  EXPECT_FALSE(ParseEndpoint("ftp://127.0.0.1:1").ok());
  EXPECT_FALSE(ParseEndpoint("http://127.0.0.1:99999").ok());
  EXPECT_FALSE(ParseEndpoint("http://u:p@127.0.0.1:1").ok());
}

TEST(EndpointTest, Loopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.8.9.10"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
}

TEST_F(EchoServerTest, KeepsTheConnectionAlive) {
  HttpClient c(ep_, {});
  for (int i = 0; i < 10; ++i) {
    std::string body = "request " + std::to_string(i);
    Request req = Req("PUT", "/echo", body);
    auto r = c.Send(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, body);
    ASSERT_NE(r->Header("x-method"), nullptr);
    EXPECT_EQ(*r->Header("X-METHOD"), "PUT");
  }
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(EchoServerTest, StreamsBodiesBothWays) {
  HttpClient c(ep_, {});
  const std::string data = Pattern(5 << 20);
  size_t at = 0;
  Request req;
  req.method = "PUT";
  req.target = "/echo";
  req.body_length = static_cast<int64_t>(data.size());
  req.body_source = [&]() -> StatusOr<std::string_view> {
    size_t n = std::min<size_t>(777777, data.size() - at);
    std::string_view piece(data.data() + at, n);
    at += n;
    return piece;
  };
  std::string got;
  int pieces = 0;
  auto r = c.Send(req, [&](std::string_view p) {
    got.append(p);
    ++pieces;
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->body_bytes, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(got == data);
  EXPECT_GT(pieces, 1);

  // A large inline body and a response read into the string.
  Request big = Req("POST", "/echo", data);
  r = c.Send(big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->body == data);
  r = c.Send(Req("GET", "/big"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->body == Pattern(3 << 20));
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(EchoServerTest, ErrorBodiesAreKeptEvenWithASink) {
  HttpClient c(ep_, {});
  bool sunk = false;
  auto r = c.Send(Req("GET", "/error"), [&](std::string_view) {
    sunk = true;
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "nope");
  EXPECT_FALSE(sunk);
}

TEST_F(EchoServerTest, SinkErrorAbortsAndTheNextRequestReconnects) {
  HttpClient c(ep_, {});
  auto r = c.Send(Req("GET", "/big"),
                  [](std::string_view) { return Status(Code::kInternal, "stop"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "stop");
  r = c.Send(Req("GET", "/echo"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(c.connects(), 2);
}

TEST_F(EchoServerTest, HeadHasNoBody) {
  HttpClient c(ep_, {});
  auto r = c.Send(Req("HEAD", "/head"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->Header("content-length"), "12345");
  EXPECT_TRUE(r->body.empty());
  r = c.Send(Req("PUT", "/echo", "x"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "x");
  EXPECT_EQ(c.connects(), 1);
}

TEST_F(EchoServerTest, ConnectionCloseReconnects) {
  HttpClient c(ep_, {});
  auto r = c.Send(Req("GET", "/close"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "bye");
  r = c.Send(Req("GET", "/close"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(c.connects(), 2);
}

TEST_F(EchoServerTest, TimesOut) {
  ConnectionOptions o;
  o.io_timeout_ms = 200;
  HttpClient c(ep_, o);
  auto r = c.Send(Req("GET", "/slow"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

TEST_F(EchoServerTest, RefusedConnectionIsUnavailable) {
  Endpoint ep = ep_;
  server_->Stop();
  HttpClient c(ep, {});
  auto r = c.Send(Req("GET", "/echo"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

// LakeClient against the real request pipeline.
class LakeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "tarn_client_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Status started = server_.Start(dir_);
    ASSERT_TRUE(started.ok()) << started.ToString();
    url_ = server_.url();
    LakeClientOptions o;
    o.key_base64 = kDevKey;
    auto c = LakeClient::Create(url_, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
    ASSERT_TRUE(client_->CreateFilesystem("data").ok());
  }
  void TearDown() override {
    client_.reset();
    server_.Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_, url_;
  testing::InProcessLake server_;
  std::unique_ptr<LakeClient> client_;
};

TEST_F(LakeClientTest, FilesystemExistsTwice) {
  Status s = client_->CreateFilesystem("data");
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
}

TEST_F(LakeClientTest, BlobRoundTripWithRanges) {
  const std::string data = Pattern(3 << 20);
  ASSERT_TRUE(client_->PutBlob("data", "dir/blob one.bin", data).ok());
  auto all = client_->GetBlob("data", "dir/blob one.bin");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(*all == data);
  auto part = client_->GetBlob("data", "dir/blob one.bin", ByteRange{1000, 5000});
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(*part, data.substr(1000, 5000));

  size_t at = 0;
  BodySource src = [&]() -> StatusOr<std::string_view> {
    size_t n = std::min<size_t>(1 << 20, data.size() - at);
    std::string_view p(data.data() + at, n);
    at += n;
    return p;
  };
  ASSERT_TRUE(client_->PutBlob("data", "streamed", static_cast<int64_t>(data.size()), src).ok());
  std::string got;
  auto n = client_->GetBlob("data", "streamed", std::nullopt, [&](std::string_view p) {
    got.append(p);
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(got == data);
  EXPECT_EQ(client_->http().connects(), 1);
}

TEST_F(LakeClientTest, DfsCreateAppendFlush) {
  const std::string path = "a dir/ünïcode & more+plus.txt";
  ASSERT_TRUE(client_->CreateFile("data", path).ok());
  ASSERT_TRUE(client_->Append("data", path, 0, "hello ").ok());
  std::string world = "world";
  size_t at = 0;
  BodySource src = [&]() -> StatusOr<std::string_view> {
    std::string_view p = std::string_view(world).substr(at);
    at = world.size();
    return p;
  };
  ASSERT_TRUE(client_->Append("data", path, 6, 5, src).ok());
  ASSERT_TRUE(client_->Flush("data", path, 11, true).ok());
  auto body = client_->GetBlob("data", path);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "hello world");
  auto props = client_->GetPathProperties("data", path);
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  EXPECT_FALSE(props->is_directory);
  EXPECT_EQ(props->content_length, 11);
  // A flush at the wrong position is refused by the server.
  Status s = client_->Flush("data", path, 3);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
}

TEST_F(LakeClientTest, RenameListDelete) {
  ASSERT_TRUE(client_->CreateDirectory("data", "src").ok());
  for (int i = 0; i < 5; ++i) {
    std::string p = "src/sub/f" + std::to_string(i);
    ASSERT_TRUE(client_->CreateFile("data", p).ok());
  }
  ASSERT_TRUE(client_->Rename("data", "src", "moved dir").ok());
  auto props = client_->GetPathProperties("data", "moved dir/sub/f3");
  ASSERT_TRUE(props.ok()) << props.status().ToString();
  EXPECT_EQ(client_->GetPathProperties("data", "src/sub/f3").status().code(), Code::kNotFound);
  auto d = client_->GetPathProperties("data", "moved dir");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->is_directory);

  std::vector<std::string> names;
  std::string cont;
  int pages = 0;
  do {
    auto page = client_->ListPaths("data", "moved dir", true, cont, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& p : page->paths) names.push_back(p.name + (p.is_directory ? "/" : ""));
    cont = page->continuation;
    ++pages;
  } while (!cont.empty() && pages < 100);
  EXPECT_EQ(names.size(), 6u);
  EXPECT_GE(pages, 3);
  EXPECT_NE(std::find(names.begin(), names.end(), "moved dir/sub/"), names.end());

  EXPECT_FALSE(client_->Delete("data", "moved dir").ok());  // not empty
  ASSERT_TRUE(client_->Delete("data", "moved dir", true).ok());
  EXPECT_EQ(client_->GetPathProperties("data", "moved dir").status().code(), Code::kNotFound);
  ASSERT_TRUE(client_->DeleteFilesystem("data").ok());
}

// The flat-namespace rename tarn_bench does against Azurite: list the prefix, copy, delete.
TEST_F(LakeClientTest, ListCopyDeleteBlobs) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->PutBlob("data", "flat/d" + std::to_string(i % 2) + "/b" +
                                             std::to_string(i), "x" + std::to_string(i))
                    .ok());
  }
  ASSERT_TRUE(client_->PutBlob("data", "flatter", "not under the prefix").ok());
  std::vector<std::string> names;
  std::string marker;
  int pages = 0;
  do {
    auto page = client_->ListBlobs("data", "flat/", marker, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    names.insert(names.end(), page->names.begin(), page->names.end());
    marker = page->next_marker;
    ++pages;
  } while (!marker.empty() && pages < 100);
  // Five blobs, and the two directories the hierarchical namespace made for them (Azure's
  // flat listing of an HNS account shows directories as blobs too).
  EXPECT_EQ(names.size(), 7u);
  EXPECT_EQ(pages, 4);
  EXPECT_NE(std::find(names.begin(), names.end(), "flat/d0"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "flat/d1/b3"), names.end());

  ASSERT_TRUE(client_->CopyBlob("data", "flat/d1/b3", "moved/d1/b3").ok());
  ASSERT_TRUE(client_->DeleteBlob("data", "flat/d1/b3").ok());
  auto body = client_->GetBlob("data", "moved/d1/b3");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "x3");
  EXPECT_EQ(client_->GetBlob("data", "flat/d1/b3").status().code(), Code::kNotFound);
  EXPECT_EQ(client_->CopyBlob("data", "no such blob", "y").code(), Code::kNotFound);
}

TEST_F(LakeClientTest, WrongKeyIsRefused) {
  LakeClientOptions o;
  o.key_base64 = Base64Encode(std::string(64, 'k'));
  auto c = LakeClient::Create(url_ + "/devstoreaccount1", o);
  ASSERT_TRUE(c.ok());
  Status s = (*c)->CreateFile("data", "x");
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("AuthenticationFailed"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tarn::client
