#include "http/timed_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace tarn::http {
namespace {

// A connected pair of stream sockets, both non-blocking as the server and client create them.
class SocketPair : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_), 0);
  }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fds_[2] = {-1, -1};
};

int64_t MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

TEST_F(SocketPair, WaitInKernelMakesTheSocketBlockingAndReadsWhatArrives) {
  TimedSocket a(fds_[0], 2000), b(fds_[1], 2000);
  ASSERT_TRUE(a.WaitInKernel().ok());
  EXPECT_EQ(::fcntl(fds_[0], F_GETFL) & O_NONBLOCK, 0);
  ASSERT_TRUE(b.SendAll("hello", 5).ok());
  char buf[16];
  auto n = a.Recv(buf, sizeof buf);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(std::string(buf, *n), "hello");
  ::shutdown(fds_[1], SHUT_WR);
  n = a.Recv(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);  // the peer closed
}

// A silent peer: the read gives up after the timeout, as with poll, instead of blocking forever.
TEST_F(SocketPair, ABlockingReadTimesOut) {
  TimedSocket a(fds_[0], 150);
  ASSERT_TRUE(a.WaitInKernel().ok());
  char buf[16];
  auto t0 = std::chrono::steady_clock::now();
  auto n = a.Recv(buf, sizeof buf);
  const int64_t waited = MillisSince(t0);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("timed out after 150 ms waiting for the peer to send"),
            std::string::npos)
      << n.status().message();
  EXPECT_GE(waited, 140);
  EXPECT_LT(waited, 1500);
}

// A peer that stops reading: the send gives up after the timeout once the buffers are full.
TEST_F(SocketPair, ABlockingSendTimesOut) {
  TimedSocket a(fds_[0], 150);
  ASSERT_TRUE(a.WaitInKernel().ok());
  std::string big(8 << 20, 'x');  // more than both socket buffers hold
  auto t0 = std::chrono::steady_clock::now();
  Status s = a.SendAll(big.data(), big.size());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("waiting for the peer to read"), std::string::npos) << s.message();
  EXPECT_LT(MillisSince(t0), 5000);
}

TEST_F(SocketPair, NonBlockingWaitsTimeOutToo) {
  TimedSocket a(fds_[0], 150);
  char buf[16];
  auto n = a.Recv(buf, sizeof buf);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("timed out after 150 ms"), std::string::npos);
}

// A short wait for the next request, then a body read: the read still gets the full timeout,
// not the short one RecvWithin left in the kernel.
TEST_F(SocketPair, RecvWithinWaitsBrieflyAndLaterReadsGetTheFullTimeout) {
  TimedSocket a(fds_[0], 400), b(fds_[1], 2000);
  ASSERT_TRUE(a.WaitInKernel().ok());
  char buf[16];
  TimedSocket::Want want;
  auto t0 = std::chrono::steady_clock::now();
  auto n = a.RecvWithin(buf, sizeof buf, 20, &want);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(want, TimedSocket::Want::kRead);
  EXPECT_LT(MillisSince(t0), 350);
  ASSERT_TRUE(b.SendAll("hi", 2).ok());
  n = a.RecvWithin(buf, sizeof buf, 20, &want);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(want, TimedSocket::Want::kNothing);
  EXPECT_EQ(std::string(buf, *n), "hi");
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    b.SendAll("body", 4).IgnoreError();
  });
  n = a.Recv(buf, sizeof buf);  // arrives after 150 ms: more than 20, less than 400
  late.join();
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(std::string(buf, *n), "body");
  t0 = std::chrono::steady_clock::now();
  n = a.Recv(buf, sizeof buf);
  EXPECT_FALSE(n.ok());
  EXPECT_GE(MillisSince(t0), 380);
}

}  // namespace
}  // namespace tarn::http
