// GroupCommitter: leader-based group commit for stores whose commits are expensive (an fsync).
//
// Submit(op) queues op. A caller that finds no batch running becomes the leader: it takes every
// queued op and runs them as one batch on its own thread (run_ writes each op's result), then
// wakes exactly the callers of that batch, and one queued caller to lead the next batch. Nobody
// else is woken, so a busy store pays one fsync and no spurious context switches per batch.
//
// Thread-safe. run_ is called by one leader at a time and must not call Submit.
//
//   GroupCommitter<Op> gc([&](std::vector<Op*>& batch) { CommitAll(batch); });
//   Op op{...};
//   gc.Submit(&op);  // returns once a batch holding op has run
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace tarn {

template <typename Op>
class GroupCommitter {
 public:
  explicit GroupCommitter(std::function<void(std::vector<Op*>&)> run) : run_(std::move(run)) {}

  void Submit(Op* op) {
    Waiter w(op);
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&w);
    while (!w.done) {
      if (leader_active_) {
        w.cv.wait(lock);
        continue;
      }
      leader_active_ = true;
      std::vector<Waiter*> batch(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      std::vector<Op*> ops;
      ops.reserve(batch.size());
      for (Waiter* b : batch) ops.push_back(b->op);
      run_(ops);
      lock.lock();
      leader_active_ = false;
      for (Waiter* b : batch) {
        b->done = true;
        if (b != &w) b->cv.notify_one();
      }
      if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next leader
      idle_cv_.notify_all();
    }
  }

  // Waits until no batch is running and nothing is queued.
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return !leader_active_ && queue_.empty(); });
  }

 private:
  struct Waiter {
    explicit Waiter(Op* o) : op(o) {}
    Op* op;
    bool done = false;
    std::condition_variable cv;
  };

  const std::function<void(std::vector<Op*>&)> run_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::deque<Waiter*> queue_;   // GUARDED_BY(mu_)
  bool leader_active_ = false;  // GUARDED_BY(mu_)
};

}  // namespace tarn
