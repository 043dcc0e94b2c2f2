#include "http/worker_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>
#include <utility>

#include "http/connection.h"

namespace tarn::http {

WorkerPool::WorkerPool(Run run, size_t keep_idle, std::chrono::milliseconds idle_exit)
    : run_(std::move(run)), keep_idle_(keep_idle), idle_exit_(idle_exit) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Submit(Job job) {
  std::unique_lock<std::mutex> l(mu_);
  if (stopping_) return;  // job destroyed (closed) here
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->job = std::move(job);
    l.unlock();
    // After the unlock, so that the woken worker does not block on mu_ at once. Safe: w cannot
    // end before it has run its job, and Stop does not race with Submit.
    w->cv.notify_one();
    return;
  }
  JoinRetired(l);
  workers_.push_back(std::make_unique<Worker>());
  Worker* w = workers_.back().get();
  w->self = std::prev(workers_.end());
  w->job = std::move(job);
  try {
    w->thread = std::thread([this, w] { Loop(w); });
  } catch (const std::system_error& e) {
    // Out of threads (or memory for a stack): this one connection is closed, the server goes on.
    Job dropped = std::move(w->job);
    workers_.erase(w->self);
    l.unlock();
    spdlog::warn("http: cannot start a worker thread ({}); a connection is closed", e.what());
  }
}

void WorkerPool::Loop(Worker* w) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    while (!w->job && !stopping_) {
      if (w->cv.wait_for(l, idle_exit_) == std::cv_status::timeout && !w->job && !stopping_ &&
          idle_.size() > keep_idle_) {
        idle_.erase(std::find(idle_.begin(), idle_.end(), w));
        retired_.push_back(std::move(*w->self));
        workers_.erase(w->self);
        return;  // joined by a later Submit or by Stop
      }
    }
    if (!w->job) return;  // stopping
    Job job = std::move(w->job);
    l.unlock();
    run_(std::move(job));
    l.lock();
    if (stopping_) return;
    idle_.push_back(w);
  }
}

void WorkerPool::JoinRetired(std::unique_lock<std::mutex>& l) {
  // A retired worker released mu_ for the last time before it was joinable here, so joining under
  // the lock waits only for its thread to finish exiting.
  for (auto& w : retired_) w->thread.join();
  retired_.clear();
}

void WorkerPool::Stop() {
  std::unique_lock<std::mutex> l(mu_);
  stopping_ = true;
  for (Worker* w : idle_) w->cv.notify_one();
  idle_.clear();
  std::list<std::unique_ptr<Worker>> alive;
  alive.swap(workers_);
  std::vector<std::unique_ptr<Worker>> retired;
  retired.swap(retired_);
  l.unlock();
  for (auto& w : alive) w->thread.join();
  for (auto& w : retired) w->thread.join();
}

size_t WorkerPool::threads() const {
  std::lock_guard<std::mutex> l(mu_);
  return workers_.size();
}

size_t WorkerPool::idle() const {
  std::lock_guard<std::mutex> l(mu_);
  return idle_.size();
}

}  // namespace tarn::http
