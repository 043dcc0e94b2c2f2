#include "http/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/connection.h"

namespace tarn::http {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Connection> NewJob(ConnectionSet* set) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ::close(fds[1]);
  EXPECT_TRUE(set->TryAdd(fds[0], 100));
  return std::make_unique<Connection>(fds[0], "test", 1000, set);
}

TEST(WorkerPool, RunsJobsConcurrentlyAndIdleWorkersEnd) {
  ConnectionSet set;
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  bool release = false;
  std::atomic<int> done{0};
  WorkerPool pool(
      [&](std::unique_ptr<Connection>) {
        std::unique_lock<std::mutex> l(mu);
        ++running;
        cv.notify_all();
        cv.wait(l, [&] { return release; });
        ++done;
      },
      /*keep_idle=*/1, /*idle_exit=*/50ms);
  for (int i = 0; i < 8; ++i) pool.Submit(NewJob(&set));
  {
    // Eight jobs run at once: none waits behind another.
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 10s, [&] { return running == 8; }));
    release = true;
    cv.notify_all();
  }
  EXPECT_EQ(pool.threads(), 8u);
  for (int i = 0; i < 200 && (done < 8 || pool.threads() > 1); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(done, 8);
  EXPECT_EQ(pool.threads(), 1u);  // down to keep_idle
  EXPECT_EQ(set.size(), 0u);      // every job's connection was closed
  pool.Submit(NewJob(&set));      // reuses the idle worker or starts one; joins the ended ones
  pool.Stop();
  EXPECT_EQ(done, 9);
  pool.Submit(NewJob(&set));  // after Stop: closed without running
  EXPECT_EQ(done, 9);
  EXPECT_EQ(set.size(), 0u);
}

}  // namespace
}  // namespace tarn::http
