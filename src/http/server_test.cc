#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/response.h"
#include "http/timed_socket.h"
#include "http/tls.h"

namespace tarn::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ----- a raw client --------------------------------------------------------------------------

class RawConn {
 public:
  explicit RawConn(uint16_t port, int timeout_ms = 10000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(RawConn&& o) noexcept : fd_(o.fd_), connected_(o.connected_), in_(std::move(o.in_)) {
    o.fd_ = -1;
  }
  RawConn(const RawConn&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool Send(std::string_view s) {
    while (!s.empty()) {
      ssize_t w = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (w <= 0) return false;
      s.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  }

  // One response: its head and (Content-Length) body; "" when the connection ended first.
  std::string ReadResponse() {
    for (;;) {
      size_t end = in_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        std::string head = in_.substr(0, end + 4);
        std::string lower = head;
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t cl = lower.find("\r\ncontent-length:");
        if (cl != std::string::npos) len = std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
        if (head.rfind("HTTP/1.1 100 ", 0) == 0) len = 0;
        if (in_.size() >= end + 4 + len) {
          std::string r = in_.substr(0, end + 4 + len);
          in_.erase(0, end + 4 + len);
          return r;
        }
      }
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "";
      in_.append(buf, static_cast<size_t>(n));
    }
  }

  // Whether the server closes the connection (EOF or reset) within the receive timeout, with
  // nothing more to read first.
  bool ClosedByPeer() {
    if (!in_.empty()) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string in_;
};

int StatusOf(const std::string& response) {
  if (response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string BodyOf(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

bool HasHeader(const std::string& response, std::string_view line) {
  return response.find(std::string("\r\n") + std::string(line) + "\r\n") != std::string::npos;
}

std::string Get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

std::string ReadAll(Request& r) {
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = r.body->Read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

// ----- a server under test -------------------------------------------------------------------

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Hundreds of client and server sockets live in this one process.
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
      r.rlim_cur = r.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &r);
    }
  }

  void StartServer(ServerOptions opts = {}) {
    opts.on_bad_request = [this](int status, const std::string& why, ResponseWriter& w) {
      ++bad_requests_;
      std::string body = "refused: " + why;
      w.Start(status, {{"x-ms-error-code", status == 503 ? "ServerBusy" : "Refused"}},
              static_cast<int64_t>(body.size()))
          .IgnoreError();
      w.Write(body).IgnoreError();
    };
    server_ = std::make_unique<Server>(opts, [this](Request& r, ResponseWriter& w) {
      ++calls_;
      {
        std::lock_guard<std::mutex> l(mu_);
        paths_.push_back(r.raw_path);
      }
      if (handler_) {
        handler_(r, w);
        return;
      }
      std::string body = r.method + " " + r.raw_path + " " + ReadAll(r);
      w.Start(200, {{"X-Test", "1"}}, static_cast<int64_t>(body.size())).IgnoreError();
      w.Write(body).IgnoreError();
    });
    auto url = server_->Start();
    ASSERT_TRUE(url.ok()) << url.status().message();
    port_ = server_->port();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  bool SawPath(const std::string& p) {
    std::lock_guard<std::mutex> l(mu_);
    return std::find(paths_.begin(), paths_.end(), p) != paths_.end();
  }

  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::atomic<int> calls_{0};
  std::atomic<int> bad_requests_{0};
  std::function<void(Request&, ResponseWriter&)> handler_;
  std::mutex mu_;
  std::vector<std::string> paths_;
};

TEST_F(ServerTest, KeepAliveAndPipelining) {
  ServerOptions o;
  o.linger = 1ms;  // the request after the pause below goes through the reactor
  StartServer(o);
  RawConn c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/a") + "PUT /b HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
                     Get("/c")));
  std::string r1 = c.ReadResponse(), r2 = c.ReadResponse(), r3 = c.ReadResponse();
  EXPECT_EQ(BodyOf(r1), "GET /a ");
  EXPECT_EQ(BodyOf(r2), "PUT /b hello");
  EXPECT_EQ(BodyOf(r3), "GET /c ");
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.Send(Get("/d")));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "GET /d ");
  // A pipelined pair split in the middle of the second head.
  std::string two = Get("/e") + Get("/f");
  ASSERT_TRUE(c.Send(two.substr(0, two.size() - 5)));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "GET /e ");
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(c.Send(two.substr(two.size() - 5)));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "GET /f ");
  // The next head stops right after its request line (which the parser takes at once).
  ASSERT_TRUE(c.Send(Get("/g") + "GET /h HTTP/1.1\r\n"));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "GET /g ");
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(c.Send("Host: t\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "GET /h ");
  EXPECT_EQ(calls_, 8);
}

TEST_F(ServerTest, ChunkedUploadAndExpectContinue) {
  StartServer();
  RawConn c(port_);
  ASSERT_TRUE(
      c.Send("PUT /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "PUT /up abcde");
  ASSERT_TRUE(
      c.Send("PUT /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 2\r\n\r\n"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 100);
  ASSERT_TRUE(c.Send("ok"));
  EXPECT_EQ(BodyOf(c.ReadResponse()), "PUT /c ok");
  // No body to come: no 100 Continue, only the answer.
  ASSERT_TRUE(
      c.Send("PUT /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 0\r\n\r\n"));
  auto empty = c.ReadResponse();
  EXPECT_EQ(StatusOf(empty), 200);
  EXPECT_EQ(BodyOf(empty), "PUT /e ");
}

TEST_F(ServerTest, AHeadSentOneByteAtATimeIsServedWithinTheDeadline) {
  ServerOptions o;
  o.head_timeout = 5s;
  StartServer(o);
  RawConn c(port_);
  std::string req = Get("/slow", "X-Pad: 0123456789\r\n");
  for (char ch : req) {
    ASSERT_TRUE(c.Send(std::string(1, ch)));
    std::this_thread::sleep_for(3ms);
  }
  EXPECT_EQ(BodyOf(c.ReadResponse()), "GET /slow ");
}

TEST_F(ServerTest, TheHeadDeadlineFiresWhileBytesKeepTrickling) {
  ServerOptions o;
  o.head_timeout = 300ms;
  StartServer(o);
  RawConn c(port_);
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    std::string req = Get("/never", "X-Pad: " + std::string(1000, 'p') + "\r\n");
    for (size_t i = 0; i < req.size() && !stop; ++i) {
      if (!c.Send(std::string(1, req[i]))) break;
      std::this_thread::sleep_for(20ms);
    }
  });
  auto t0 = Clock::now();
  std::string r = c.ReadResponse();
  auto waited = Clock::now() - t0;
  stop = true;
  trickle.join();
  EXPECT_EQ(StatusOf(r), 408) << r;
  EXPECT_TRUE(HasHeader(r, "Connection: close")) << r;
  EXPECT_LT(waited, 5s);
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, IdleConnectionsAreClosed) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  o.linger = 1ms;
  StartServer(o);
  RawConn fresh(port_), used(port_);
  ASSERT_TRUE(used.Send(Get("/x")));
  EXPECT_EQ(StatusOf(used.ReadResponse()), 200);
  auto t0 = Clock::now();
  EXPECT_TRUE(fresh.ClosedByPeer());
  EXPECT_TRUE(used.ClosedByPeer());
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(bad_requests_, 0);  // closed silently
}

class SmugglingTest : public ServerTest, public ::testing::WithParamInterface<std::string> {};

// The body of a request with a transfer coding the server does not decode must never run as the
// next request.
TEST_P(SmugglingTest, UnsupportedTransferEncodingIs400AndCloses) {
  StartServer();
  RawConn c(port_);
  std::string smuggled = "DELETE /smuggled HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(c.Send("POST /front HTTP/1.1\r\nHost: t\r\n" + GetParam() + "\r\n" + smuggled));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 400) << r;
  EXPECT_TRUE(HasHeader(r, "Connection: close")) << r;
  EXPECT_TRUE(c.ClosedByPeer());
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(SawPath("/smuggled"));
  EXPECT_EQ(calls_, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Codings, SmugglingTest,
    ::testing::Values("Transfer-Encoding: gzip\r\n", "Transfer-Encoding: identity\r\n",
                      "Transfer-Encoding: chunked, identity\r\n",
                      "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                      "Transfer-Encoding: chunked\r\nContent-Length: 60\r\n",
                      "Content-Length: 60\r\nTransfer-Encoding: chunked\r\n",
                      "Transfer-Encoding: gzip\r\nContent-Length: 0\r\n"));

TEST_F(ServerTest, HostIsRequiredInHttp11) {
  StartServer();
  {
    RawConn c(port_);
    ASSERT_TRUE(c.Send("GET /nohost HTTP/1.1\r\n\r\n"));
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 400) << r;
    EXPECT_TRUE(c.ClosedByPeer());
  }
  {
    RawConn c(port_);
    ASSERT_TRUE(c.Send("GET /twohosts HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 400);
  }
  {
    RawConn c(port_);
    ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\n\r\n"));
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 200) << r;
    EXPECT_TRUE(c.ClosedByPeer());  // HTTP/1.0 without keep-alive
  }
  EXPECT_EQ(calls_, 1);
}

// The handler reads the body as an operation does and, like a careless one, answers 500 when the
// read fails: the server answers the malformed body's 4xx instead.
TEST_F(ServerTest, AHugeTrailerIs4xxNever500) {
  ServerOptions o;
  o.header_limit = 8 * 1024;
  StartServer(o);
  handler_ = [](Request& r, ResponseWriter& w) {
    char buf[4096];
    for (;;) {
      auto n = r.body->Read(buf, sizeof buf);
      if (!n.ok()) {
        w.Start(500, {}, 4).IgnoreError();
        w.Write("oops").IgnoreError();  // a body: the head would leave at once
        return;
      }
      if (*n == 0) break;
    }
    w.Start(201, {}, 0).IgnoreError();
  };
  for (const std::string& wire :
       {"5\r\nhello\r\n0\r\nX-Trailer: " + std::string(200 * 1024, 't') + "\r\n\r\n",
        "5;ext=" + std::string(200 * 1024, 'e') + "\r\nhello\r\n0\r\n\r\n"}) {
    RawConn c(port_);
    c.Send("PUT /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + wire);
    std::string r = c.ReadResponse();
    EXPECT_TRUE(StatusOf(r) == 431 || StatusOf(r) == 400) << r.substr(0, 200);
    EXPECT_TRUE(HasHeader(r, "Connection: close")) << r.substr(0, 200);
    EXPECT_TRUE(c.ClosedByPeer());
  }
}

TEST_F(ServerTest, HeadersWithLineBreaksAreNeverSent) {
  StartServer();
  handler_ = [](Request&, ResponseWriter& w) {
    w.Start(200,
            {{"X-Good", "fine"},
             {"X-Evil", "a\r\nInjected: yes"},
             {"X-Nul", std::string("a\0b", 3)},
             {"Bad\nName", "v"}},
            0)
        .IgnoreError();
  };
  RawConn c(port_);
  ASSERT_TRUE(c.Send(Get("/h")));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_TRUE(HasHeader(r, "X-Good: fine")) << r;
  EXPECT_EQ(r.find("Injected"), std::string::npos) << r;
  EXPECT_EQ(r.find("X-Evil"), std::string::npos) << r;
  EXPECT_EQ(r.find("X-Nul"), std::string::npos) << r;
  EXPECT_EQ(r.find("Bad"), std::string::npos) << r;
  // The connection is still usable: nothing split the response.
  ASSERT_TRUE(c.Send(Get("/h2")));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST(FormatHead, LeavesOutHeadersThatWouldSplitTheResponse) {
  std::string h = FormatHead(200, {{"A", "1"}, {"B", "x\ry"}, {"C\n", "2"}, {"D", "3"}}, 5, true,
                             {{"Retry-After", "1"}});
  EXPECT_EQ(h,
            "HTTP/1.1 200 OK\r\nA: 1\r\nD: 3\r\nContent-Length: 5\r\nRetry-After: 1\r\n"
            "Connection: close\r\n\r\n");
  // Every position of a long value, past the eight-byte steps of the fast check; a tab is fine.
  for (size_t at = 0; at < 40; ++at) {
    for (char bad : {'\r', '\n', '\0'}) {
      std::string v(40, 'v');
      v[at] = bad;
      EXPECT_EQ(FormatHead(204, {{"X-Long", v}}, 0, false).find("X-Long"), std::string::npos)
          << at << " " << int(bad);
    }
    std::string tab(40, 'v');
    tab[at] = '\t';
    EXPECT_NE(FormatHead(204, {{"X-Tab", tab}}, 0, false).find("X-Tab"), std::string::npos) << at;
  }
}

// A handler blocked until released, for tests that need busy connections.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void Wait() {
    std::unique_lock<std::mutex> l(mu);
    ++waiting;
    cv.notify_all();
    cv.wait(l, [&] { return open; });
  }
  bool AwaitWaiting(int n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, 10s, [&] { return waiting >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
};

TEST_F(ServerTest, AtTheLimitWithEveryConnectionBusyANewOneGets503) {
  ServerOptions o;
  o.max_connections = 4;
  StartServer(o);
  Gate gate;
  handler_ = [&](Request&, ResponseWriter& w) {
    gate.Wait();
    w.Start(200, {}, 0).IgnoreError();
  };
  std::vector<RawConn> busy;
  for (int i = 0; i < 4; ++i) {
    busy.emplace_back(port_);
    ASSERT_TRUE(busy.back().Send(Get("/busy")));
  }
  ASSERT_TRUE(gate.AwaitWaiting(4));
  RawConn extra(port_);
  std::string r = extra.ReadResponse();
  EXPECT_EQ(StatusOf(r), 503) << r;
  EXPECT_TRUE(HasHeader(r, "Retry-After: 1")) << r;
  EXPECT_TRUE(HasHeader(r, "Connection: close")) << r;
  EXPECT_TRUE(HasHeader(r, "x-ms-error-code: ServerBusy")) << r;
  gate.Open();
  for (auto& b : busy) EXPECT_EQ(StatusOf(b.ReadResponse()), 200);
}

TEST_F(ServerTest, AtTheLimitTheLongestWaitingConnectionMakesRoom) {
  ServerOptions o;
  o.max_connections = 4;
  StartServer(o);
  std::vector<RawConn> idle;
  for (int i = 0; i < 4; ++i) idle.emplace_back(port_);
  std::this_thread::sleep_for(1200ms);  // past Reactor::kEvictAfter
  RawConn probe(port_);
  ASSERT_TRUE(probe.Send(Get("/probe")));
  EXPECT_EQ(BodyOf(probe.ReadResponse()), "GET /probe ");
  EXPECT_TRUE(idle.front().ClosedByPeer());
}

TEST_F(ServerTest, HundredsOfSlowConnectionsDoNotDelayAWellBehavedClient) {
  ServerOptions o;
  o.head_timeout = 20s;
  StartServer(o);
  std::vector<RawConn> slow;
  for (int i = 0; i < 500; ++i) {
    slow.emplace_back(port_);
    ASSERT_TRUE(slow.back().connected());
    if (i % 2 == 0) slow.back().Send("GET /slow HTTP/1.1\r\nHo");  // a head that never ends
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    for (int round = 0; round < 100 && !stop; ++round) {
      for (size_t i = 0; i < slow.size(); i += 2) slow[i].Send("x");
      std::this_thread::sleep_for(50ms);
    }
  });
  RawConn probe(port_);
  for (int i = 0; i < 50; ++i) {
    auto t0 = Clock::now();
    ASSERT_TRUE(probe.Send(Get("/probe")));
    EXPECT_EQ(BodyOf(probe.ReadResponse()), "GET /probe ");
    EXPECT_LT(Clock::now() - t0, 3s);
  }
  for (int i = 0; i < 20; ++i) {
    RawConn fresh(port_);
    ASSERT_TRUE(fresh.Send(Get("/fresh")));
    EXPECT_EQ(BodyOf(fresh.ReadResponse()), "GET /fresh ");
  }
  stop = true;
  trickle.join();
  EXPECT_EQ(calls_, 70);
}

TEST_F(ServerTest, StopWithManyOpenConnectionsReturnsPromptly) {
  StartServer();
  Gate body_started;
  handler_ = [&](Request& r, ResponseWriter& w) {
    body_started.Wait();
    ReadAll(r);  // blocks: the client never sends the body
    w.Start(200, {}, 0).IgnoreError();
  };
  body_started.Open();
  std::vector<RawConn> conns;
  for (int i = 0; i < 300; ++i) {
    conns.emplace_back(port_);
    if (i % 3 == 1) conns.back().Send("GET / HTTP/1.1\r\nHo");
    if (i % 30 == 2) conns.back().Send("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n");
  }
  ASSERT_TRUE(body_started.AwaitWaiting(10));
  auto t0 = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - t0, 5s);
  for (auto& c : conns) EXPECT_TRUE(c.ClosedByPeer());
}

// ----- TLS -----------------------------------------------------------------------------------

class TlsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tarn-http-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(EnsureSelfSigned(dir_).ok());
    auto s = TlsContext::ForServer(dir_ + "/cert.pem", dir_ + "/key.pem");
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ctx_ = std::move(s).value();
    auto c = TlsContext::ForClient(dir_ + "/cert.pem");
    ASSERT_TRUE(c.ok()) << c.status().message();
    client_ctx_ = std::move(c).value();
  }
  void TearDown() override {
    ServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }

  // One request over a new TLS connection; returns the response's body.
  std::string TlsGet(const std::string& path) {
    RawConn c(port_);
    ::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_NONBLOCK);
    TimedSocket s(c.fd(), 10000);
    if (!s.StartTls(client_ctx_->get(), /*server=*/false, "127.0.0.1").ok()) return "<no tls>";
    std::string req = Get(path, "Connection: close\r\n");
    if (!s.SendAll(req.data(), req.size()).ok()) return "<send>";
    std::string in;
    char buf[4096];
    for (;;) {
      auto n = s.Recv(buf, sizeof buf);
      if (!n.ok() || *n == 0) break;
      in.append(buf, *n);
    }
    return BodyOf(in);
  }

  std::string dir_;
  std::unique_ptr<TlsContext> server_ctx_, client_ctx_;
};

TEST_F(TlsServerTest, SlowHandshakesDoNotBlockOtherClients) {
  ServerOptions o;
  o.tls = server_ctx_->get();
  o.head_timeout = 500ms;
  StartServer(o);
  std::vector<RawConn> stalled;
  for (int i = 0; i < 100; ++i) {
    stalled.emplace_back(port_);
    if (i % 2)
      stalled.back().Send(std::string("\x16\x03\x01\x02\x00\x01", 6));  // a ClientHello's start
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(TlsGet("/tls"), "GET /tls ");
  // The handshakes that never finish are cut off at the head deadline.
  auto t0 = Clock::now();
  for (auto& c : stalled) EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_LT(Clock::now() - t0, 5s);
}

TEST_F(TlsServerTest, KeepAliveOverTlsGoesThroughTheReactor) {
  ServerOptions o;
  o.tls = server_ctx_->get();
  o.linger = 1ms;
  StartServer(o);
  RawConn c(port_);
  ::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_NONBLOCK);
  TimedSocket s(c.fd(), 10000);
  ASSERT_TRUE(s.StartTls(client_ctx_->get(), false, "127.0.0.1").ok());
  for (int i = 0; i < 3; ++i) {
    std::string req = Get("/k" + std::to_string(i)) + Get("/p" + std::to_string(i));
    ASSERT_TRUE(s.SendAll(req.data(), req.size()).ok());
    std::string in;
    char buf[4096];
    while (in.find("GET /p" + std::to_string(i)) == std::string::npos) {
      auto n = s.Recv(buf, sizeof buf);
      ASSERT_TRUE(n.ok() && *n > 0);
      in.append(buf, *n);
    }
    EXPECT_NE(in.find("GET /k" + std::to_string(i)), std::string::npos);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(calls_, 6);
}

}  // namespace
}  // namespace tarn::http
