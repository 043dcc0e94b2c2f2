// HttpConnection over TLS and TokenSource against an in-process HTTPS server with a
// self-signed certificate. Hermetic: port 0, a temporary directory.
#include "client/oauth_token.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "client/http_connection.h"
#include "http/server.h"
#include "http/tls.h"

namespace tarn::client {
namespace {

std::string ReadAll(http::Request& r) {
  std::string body;
  char buf[4096];
  for (;;) {
    auto n = r.body->Read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    body.append(buf, *n);
  }
  return body;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tarn_oauth_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(http::EnsureSelfSigned(dir_ + "/tls").ok());
    ASSERT_TRUE(http::EnsureSelfSigned(dir_ + "/other").ok());
    auto ctx = http::TlsContext::ForServer(dir_ + "/tls/cert.pem", dir_ + "/tls/key.pem");
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    server_ctx_ = std::move(ctx).value();
    http::ServerOptions opts;
    opts.tls = server_ctx_->get();
    server_ = std::make_unique<http::Server>(opts, [this](http::Request& r,
                                                          http::ResponseWriter& w) {
      std::string body = ReadAll(r);
      if (r.raw_path == "/t1/oauth2/v2.0/token") {
        ++token_requests_;
        last_form_ = body;
        bool good = body.find("client_secret=s%2Fecret%20x") != std::string::npos;
        nlohmann::json reply =
            good ? nlohmann::json{{"token_type", "Bearer"},
                                  {"expires_in", lifetime_s_.load()},
                                  {"access_token", "tok-" + std::to_string(token_requests_)}}
                 : nlohmann::json{{"error", "invalid_client"},
                                  {"error_description", "AADSTS7000215: Invalid client secret"}};
        std::string text = reply.dump();
        w.Start(good ? 200 : 401, {{"Content-Type", "application/json"}},
                static_cast<int64_t>(text.size()))
            .IgnoreError();
        w.Write(text).IgnoreError();
        return;
      }
      w.Start(200, {}, static_cast<int64_t>(body.size())).IgnoreError();
      w.Write(body).IgnoreError();
    });
    auto url = server_->Start();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    ASSERT_EQ(url->rfind("https://", 0), 0u) << *url;
    url_ = *url;
    auto trust = http::TlsContext::ForClient(dir_ + "/tls/cert.pem");
    ASSERT_TRUE(trust.ok());
    trust_ = std::move(trust).value();
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  ClientCredentials Creds(std::string secret = "s/ecret x") {
    return ClientCredentials{url_, "t1", "app-1", std::move(secret),
                             "https://storage.azure.com/.default"};
  }
  ConnectionOptions Trusting() {
    ConnectionOptions o;
    o.tls = trust_;
    return o;
  }

  std::string dir_, url_;
  std::unique_ptr<http::TlsContext> server_ctx_;
  std::shared_ptr<const http::TlsContext> trust_;
  std::unique_ptr<http::Server> server_;
  std::atomic<int> token_requests_{0};
  std::atomic<int64_t> lifetime_s_{3600};
  std::string last_form_;
};

TEST_F(TlsServerTest, HttpsWithATrustedCertificate) {
  auto ep = ParseEndpoint(url_);
  ASSERT_TRUE(ep.ok());
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->Origin(), url_);
  HttpClient http(*ep, Trusting());
  Request req;
  req.method = "PUT";
  req.target = "/echo";
  req.body = "over tls";
  for (int i = 0; i < 3; ++i) {  // kept alive across requests
    auto r = http.Send(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "over tls");
  }
  EXPECT_EQ(http.connects(), 1);
  // "localhost" is checked against the certificate's DNS name.
  Endpoint by_name = *ep;
  by_name.host = "localhost";
  auto r = HttpClient(by_name, Trusting()).Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(TlsServerTest, UntrustedCertificateIsRefusedWithAReason) {
  auto ep = ParseEndpoint(url_);
  ASSERT_TRUE(ep.ok());
  ConnectionOptions o;
  auto other = http::TlsContext::ForClient(dir_ + "/other/cert.pem");
  ASSERT_TRUE(other.ok());
  o.tls = std::move(other).value();
  auto c = HttpConnection::Connect(*ep, o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  EXPECT_NE(c.status().message().find("certificate is not trusted"), std::string::npos)
      << c.status().message();
  // The system's store does not hold a self-signed certificate either.
  c = HttpConnection::Connect(*ep, ConnectionOptions{});
  ASSERT_FALSE(c.ok());
}

TEST_F(TlsServerTest, TokenIsFetchedOnceAndCached) {
  auto src = TokenSource::Create(Creds(), Trusting());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->token_url(), url_ + "/t1/oauth2/v2.0/token");
  auto a = (*src)->Token();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, "tok-1");
  auto b = (*src)->Token();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "tok-1");
  EXPECT_EQ(token_requests_, 1);
  EXPECT_NE(last_form_.find("grant_type=client_credentials"), std::string::npos);
  EXPECT_NE(last_form_.find("scope=https%3A%2F%2Fstorage.azure.com%2F.default"),
            std::string::npos);
}

TEST_F(TlsServerTest, ShortLivedTokensAreRefetched) {
  lifetime_s_ = 60;  // inside the refresh margin: never reused
  auto src = TokenSource::Create(Creds(), Trusting());
  ASSERT_TRUE(src.ok());
  ASSERT_EQ(*(*src)->Token(), "tok-1");
  ASSERT_EQ(*(*src)->Token(), "tok-2");
}

TEST_F(TlsServerTest, RefusalNamesTheEndpointAndReasonButNotTheSecret) {
  auto src = TokenSource::Create(Creds("wrong-secret"), Trusting());
  ASSERT_TRUE(src.ok());
  auto t = (*src)->Token();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kPermissionDenied);
  const std::string& m = t.status().message();
  EXPECT_NE(m.find("AADSTS7000215"), std::string::npos) << m;
  EXPECT_NE(m.find(url_), std::string::npos) << m;
  EXPECT_NE(m.find("app-1"), std::string::npos) << m;
  EXPECT_EQ(m.find("wrong-secret"), std::string::npos) << m;
}

TEST(TokenSourceTest, RefusesPlainHttpAndMissingFields) {
  ClientCredentials c{"http://127.0.0.1:1", "t", "c", "s", "https://storage.azure.com/.default"};
  auto s = TokenSource::Create(c, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not https"), std::string::npos);
  c.authority = "https://127.0.0.1:1";
  c.client_secret.clear();
  EXPECT_FALSE(TokenSource::Create(c, {}).ok());
}

}  // namespace
}  // namespace tarn::client
