// WorkerPool: threads that run connections' requests, started on demand and never queued behind
// each other. A job goes to an idle worker if there is one (the one idle the shortest time, whose
// stack and caches are warm), else to a new thread; so a slow request never delays another.
// Workers idle longer than `idle_exit` end, down to `keep_idle` of them.
//
// Contract
// - Thread-safe. Run is called on a worker thread, once per submitted job, with the job.
// - Stop waits for running jobs to return (the caller makes them return, e.g. by shutting their
//   sockets down) and joins every thread; a job submitted during or after Stop is destroyed
//   without running. Submit and Stop must not race with the pool's destruction.
//
//   WorkerPool pool([](std::unique_ptr<Connection> c) { Serve(std::move(c)); });
//   pool.Submit(std::move(conn));
//   ...
//   pool.Stop();
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tarn::http {

struct Connection;

class WorkerPool {
 public:
  using Job = std::unique_ptr<Connection>;
  using Run = std::function<void(Job)>;

  explicit WorkerPool(Run run, size_t keep_idle = 4,
                      std::chrono::milliseconds idle_exit = std::chrono::seconds(30));
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(Job job);
  void Stop();

  size_t threads() const;  // alive, idle or busy
  size_t idle() const;

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable cv;
    Job job;  // GUARDED_BY(mu_)
    std::list<std::unique_ptr<Worker>>::iterator self;
  };
  void Loop(Worker* w);
  void JoinRetired(std::unique_lock<std::mutex>& l);

  const Run run_;
  const size_t keep_idle_;
  const std::chrono::milliseconds idle_exit_;

  mutable std::mutex mu_;
  bool stopping_ = false;                         // GUARDED_BY(mu_)
  std::list<std::unique_ptr<Worker>> workers_;    // GUARDED_BY(mu_) alive threads
  std::vector<Worker*> idle_;                     // GUARDED_BY(mu_) most recently idle last
  std::vector<std::unique_ptr<Worker>> retired_;  // GUARDED_BY(mu_) ended, not yet joined
};

}  // namespace tarn::http
