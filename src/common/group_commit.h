// GroupCommitter: leader-based group commit for stores whose commits are expensive (an fsync).
//
// Submit(op) queues op. A caller that finds no batch running becomes the leader: it takes every
// queued op and runs them as one batch on its own thread (run_ writes each op's result). Ops
// queued while batch N runs make up batch N+1, whoever leads it, so a waiter knows its batch and
// sleeps on that batch's condition variable (two of them, by batch parity). When a batch ends,
// its leader wakes that batch's callers and one caller of the next batch to lead it, nobody
// else, and only after releasing the mutex: woken callers do not queue up behind a leader still
// holding it, which cost each of them a second sleep and context switch.
//
// Thread-safe. run_ is called by one leader at a time and must not call Submit.
//
//   GroupCommitter<Op> gc([&](std::vector<Op*>& batch) { CommitAll(batch); });
//   Op op{...};
//   gc.Submit(&op);  // returns once a batch holding op has run
#pragma once

#include <condition_variable>
#include <cstdint>
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
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(op);
    if (!leader_active_) {
      Lead(lock);
      return;
    }
    const uint64_t mine = started_ + 1;
    batch_cv_[mine % 2].wait(lock, [&] { return finished_ >= mine || !leader_active_; });
    if (finished_ >= mine) return;
    // Woken to lead: batch `mine` has not begun, so op is still queued and goes into it.
    Lead(lock);
  }

  // Waits until no batch is running and nothing is queued.
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return !leader_active_ && queue_.empty(); });
  }

 private:
  // With lock held: runs every queued op as one batch; returns with lock released.
  void Lead(std::unique_lock<std::mutex>& lock) {
    leader_active_ = true;
    const uint64_t batch_no = ++started_;
    std::vector<Op*> batch;
    batch.swap(queue_);
    lock.unlock();
    run_(batch);
    lock.lock();
    leader_active_ = false;
    finished_ = batch_no;
    const bool more = !queue_.empty();
    lock.unlock();
    // The condition variables outlive every caller, so notifying without the mutex is safe. A
    // caller of batch_no + 2 that sleeps on the same one by then rechecks and sleeps again.
    batch_cv_[batch_no % 2].notify_all();
    if (more) batch_cv_[(batch_no + 1) % 2].notify_one();  // the next leader
    idle_cv_.notify_all();
  }

  const std::function<void(std::vector<Op*>&)> run_;
  std::mutex mu_;
  std::condition_variable batch_cv_[2];  // callers of odd and even batches
  std::condition_variable idle_cv_;
  std::vector<Op*> queue_;      // GUARDED_BY(mu_)
  bool leader_active_ = false;  // GUARDED_BY(mu_)
  uint64_t started_ = 0;        // GUARDED_BY(mu_) batches begun
  uint64_t finished_ = 0;       // GUARDED_BY(mu_) the last batch that ended (they end in order)
};

}  // namespace tarn
