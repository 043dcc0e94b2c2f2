// One accepted HTTP connection and the registry of all of them, shared by the reactor (which
// holds connections that wait for a request head) and the workers (which run requests).
//
// Contract
// - A Connection has exactly one owner at a time (a std::unique_ptr passed between the reactor and
//   a worker); only its owner touches it. Destroying it closes the socket (after TLS is freed)
//   and removes it from its ConnectionSet.
// - ConnectionSet is thread-safe. ShutdownAll wakes every thread blocked on a registered socket,
//   which is how Server::Stop ends requests in flight.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "http/request_head.h"
#include "http/timed_socket.h"

namespace tarn::http {

using Clock = std::chrono::steady_clock;

class ConnectionSet {
 public:
  // Registers fd unless `limit` connections are open already; returns whether it did.
  bool TryAdd(int fd, size_t limit);
  void Remove(int fd);
  size_t size() const;
  void ShutdownAll();

 private:
  mutable std::mutex mu_;
  std::unordered_set<int> fds_;  // GUARDED_BY(mu_)
};

struct Connection {
  // Where the connection is while the reactor holds it.
  enum class Phase {
    kHandshake,  // TLS handshake under way (bounded by the head timeout)
    kIdle,       // no byte of the next request yet (bounded by the idle timeout)
    kHead,       // part of a head has arrived (bounded by the head timeout from its first byte)
  };

  Connection(int fd, std::string remote, int io_timeout_ms, ConnectionSet* set)
      : sock(fd, io_timeout_ms), remote(std::move(remote)), set_(set), fd_(fd) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }

  TimedSocket sock;
  std::string remote;             // "ip:port"
  boost::beast::flat_buffer buf;  // received, not yet parsed
  // The head being parsed (made when its first byte arrives), or the request being run.
  // In place rather than on the heap: one allocation fewer per request.
  std::optional<RequestParser> parser;
  Clock::time_point head_started{};  // when the first byte of the current head arrived
  bool head_begun() const { return head_started != Clock::time_point{}; }

  // Appends bytes received to buf, growing it only by what arrived: a connection that waits
  // holds a few hundred bytes, not a read-sized buffer, even with thousands of them waiting.
  // The caller sets head_started.
  void Received(const char* p, size_t n);
  // Before waiting in the reactor: drops what a request's body left behind in capacity.
  void Trim();

  // The reactor's bookkeeping, meaningful only while the reactor holds the connection.
  Phase phase = Phase::kIdle;
  bool armed_before = false;  // the fd is in the epoll set (ADD once, MOD after)
  bool has_timer = false;
  std::multimap<Clock::time_point, Connection*>::iterator timer;
  bool waiting = false;
  std::list<Connection*>::iterator wait_pos;  // in the reactor's oldest-first list
  Clock::time_point waiting_since{};

 private:
  ConnectionSet* set_;
  int fd_;
};

}  // namespace tarn::http
