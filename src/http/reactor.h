// Reactor: the one thread that holds every connection waiting for a request head, so that
// waiting costs no thread. It owns the listening socket, accepts, runs TLS handshakes, reads heads
// without blocking, enforces the head and idle deadlines, and hands each connection with a
// complete, checked head to `ready` (a worker pool).
//
// Why its own epoll loop rather than Asio's: every connection is registered level-triggered with
// EPOLLONESHOT and re-armed explicitly after each read. Level-triggered means bytes that arrived
// before (re-)arming are reported at once, so a connection handed back by a worker cannot miss
// data that came in between; ONESHOT means one event per arming, so a connection is never seen
// by two threads. Asio's reactor is edge-triggered and leaves that race to the caller.
//
// Contract
// - Start once, Stop once; Stop joins the thread and closes every connection the reactor holds,
//   including those handed back during or after it.
// - Adopt is thread-safe (workers call it). `ready` runs on the reactor thread and must not block.
// - Deadlines (O(log n) each, in one ordered map): kHandshake and kHead end at head_timeout (a
//   head gets 408 via on_bad_request first), kIdle at idle_timeout (closed silently).
// - At the connection limit, the connection waiting longest (at least kEvictAfter) is closed to
//   admit the new one; failing that, the new one gets a 503 (plain HTTP) or is closed (TLS).
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "http/connection.h"
#include "http/server.h"

namespace tarn::http {

class Reactor {
 public:
  using Ready = std::function<void(std::unique_ptr<Connection>)>;
  static constexpr std::chrono::milliseconds kEvictAfter{1000};

  Reactor(const ServerOptions& opts, size_t max_connections, ConnectionSet* conns, Ready ready);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Starts the thread, which accepts on listen_fd (not owned; must be non-blocking).
  Status Start(int listen_fd);
  // Takes a connection back from a worker: its parser and buffer hold any part of the next head.
  void Adopt(std::unique_ptr<Connection> c);
  void Stop();

 private:
  void Loop();
  void AcceptSome();
  void Admit(int fd, std::string remote);
  void Reject(int fd);
  bool EvictOldest();
  // Takes ownership and starts waiting: a new connection (handshake or idle) or one handed back.
  void Hold(std::unique_ptr<Connection> c, bool fresh);
  void OnEvent(Connection* c);
  void ReadHead(Connection* c);
  void Arm(Connection* c, TimedSocket::Want want);
  void SetDeadline(Connection* c, Clock::time_point at);
  std::unique_ptr<Connection> Release(Connection* c);
  void Close(Connection* c) { Release(c); }
  void Refuse(Connection* c, int status, const std::string& why);
  void Expire(Clock::time_point now);
  int NextTimeoutMs(Clock::time_point now) const;
  void PauseAccepting(Clock::time_point until);

  const ServerOptions& opts_;
  const size_t max_connections_;
  ConnectionSet* const conns_;
  const Ready ready_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;     // eventfd: Adopt and Stop
  int listen_fd_ = -1;   // not owned
  int reserve_fd_ = -1;  // closed to accept (and refuse) one connection when out of descriptors
  std::thread thread_;

  std::mutex mu_;
  bool stopped_ = false;                              // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Connection>> adopted_;  // GUARDED_BY(mu_)

  // The reactor thread's own state.
  std::unordered_map<Connection*, std::unique_ptr<Connection>> held_;
  std::multimap<Clock::time_point, Connection*> timers_;
  std::list<Connection*> waiting_;  // oldest first: who is closed at the connection limit
  bool accept_paused_ = false;
  Clock::time_point accept_resume_{};
  Clock::time_point last_limit_log_{};
  char scratch_[16 * 1024];  // what one read of a head takes; copied into the connection's buffer
};

}  // namespace tarn::http
