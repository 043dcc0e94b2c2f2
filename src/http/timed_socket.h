// TimedSocket: a socket used as if it were blocking, with every wait bounded by a timeout, so
// that a peer that stops reading or writing cannot hold a thread forever. Both sides
// of Tarn's HTTP (the server and Tarn's own client) read and write through it, and Beast's parser
// reads through it too (it models SyncReadStream).
//
// Errors and timeouts are Code::kUnavailable: the connection is unusable afterwards.
//
//   TimedSocket s(fd, 30'000);
//   TARN_RETURN_IF_ERROR(s.SendAll(request.data(), request.size()));
//   TARN_ASSIGN_OR_RETURN(size_t n, s.Recv(buf, sizeof buf));  // 0: the peer closed
//
// An event loop uses the Try* forms instead, which never wait: they say what the socket must
// become (readable or writable) before the call can make progress, and the loop waits for that
// itself. A TLS socket must stay non-blocking for them; a plain one may be blocking (WaitInKernel)
// since they pass MSG_DONTWAIT. With TLS, bytes may wait inside OpenSSL without the socket being
// readable: check HasPending() before waiting for readability.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <optional>

#include "common/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace tarn::http {

class TimedSocket {
 public:
  // fd must be non-blocking. timeout_ms bounds each wait for the socket to become ready.
  TimedSocket(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}

  // For a plain (not TLS) socket: waits in the kernel from now on, the socket made blocking with
  // SO_RCVTIMEO and SO_SNDTIMEO set to the timeout. A read that must wait is then one system call
  // instead of three (recv, poll, recv): 1 KiB DFS writes at 16 clients spent 6% of tarnd's
  // time in poll. TLS sockets keep non-blocking waits, so it fails after StartTls.
  Status WaitInKernel();
  ~TimedSocket();
  TimedSocket(const TimedSocket&) = delete;
  TimedSocket& operator=(const TimedSocket&) = delete;

  // Runs a TLS handshake (as the server, or as the client verifying host_name) over the socket;
  // every later read and write is encrypted. SendFile then copies through user space.
  Status StartTls(SSL_CTX* ctx, bool server, const std::string& host_name = "");
  bool tls() const { return ssl_ != nullptr; }
  int fd() const { return fd_; }

  // What a non-blocking call needs before it can go on.
  enum class Want { kNothing, kRead, kWrite };
  // The non-blocking handshake, in steps: BeginTls once, then TryHandshake until it says
  // kNothing (done), waiting for what it wants in between.
  Status BeginTls(SSL_CTX* ctx, bool server, const std::string& host_name = "");
  StatusOr<Want> TryHandshake();
  // Reads what has arrived without waiting. With *want == kNothing, the result is the bytes
  // read, and 0 means the peer closed; otherwise nothing was read yet.
  StatusOr<size_t> TryRecv(char* p, size_t n, Want* want);
  // Sends what the socket takes now; *want says why it stopped short.
  StatusOr<size_t> TrySend(const char* p, size_t n, Want* want);
  // TLS: bytes already received (decrypted or not) that a read would return without waiting.
  bool HasPending() const;
  // Reads, waiting at most wait_ms (0: not at all) for bytes to arrive; *want is kRead when none
  // did. On a WaitInKernel socket the wait is one blocking recv under a receive timeout of
  // wait_ms, kept for the next call, so that a server waiting briefly for a kept-alive client's
  // next request spends one system call per request, as a plain blocking read would; a later
  // Recv that finds the short timeout too short extends it to the full timeout once.
  StatusOr<size_t> RecvWithin(char* p, size_t n, int wait_ms, Want* want);

  // Receives up to n bytes; 0 means the peer closed the connection.
  StatusOr<size_t> Recv(char* p, size_t n);
  // Sends everything; more=true hints that more data follows at once (MSG_MORE).
  Status SendAll(const char* p, size_t n, bool more = false);
  // Sends len bytes of in_fd from offset without copying them through user space.
  Status SendFile(int in_fd, int64_t offset, int64_t len);

  // Bytes received so far, and the error behind the last failed read_some.
  int64_t received() const { return received_; }
  const Status& last_error() const { return last_error_; }

  // SyncReadStream, for Beast.
  template <class Buffers>
  size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      auto n = Recv(static_cast<char*>(b.data()), b.size());
      if (!n.ok()) {
        last_error_ = n.status();
        ec = boost::asio::error::connection_aborted;
        return 0;
      }
      if (*n == 0) ec = boost::asio::error::eof;
      return *n;
    }
    return 0;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  // Waits for the socket to become ready; after WaitInKernel, reports the timeout that a blocking
  // call's EAGAIN means.
  Status Wait(short events);
  // What OpenSSL asks for after a non-blocking call returned r, or the error that ends it.
  StatusOr<Want> TlsWant(int r, const char* what);
  // One recv with `flags`, retried on EINTR: the bytes (0: the peer closed), or nullopt when it
  // would block or a kernel receive timeout passed.
  StatusOr<std::optional<size_t>> RecvOnce(char* p, size_t n, int flags);
  // Blocking TLS reads and writes: TryRecv and TrySend, waiting as OpenSSL asks in between.
  StatusOr<size_t> TlsRecv(char* p, size_t n);
  Status TlsSend(const char* p, size_t n);

  // The error of a wait that timed out, in the poll or in the kernel.
  Status TimedOut(short events) const;
  // Sets SO_RCVTIMEO (blocking sockets) unless it has that value already.
  bool SetKernelRecvTimeout(int ms);

  int fd_;
  int timeout_ms_;
  bool blocking_ = false;  // WaitInKernel was called
  int kernel_recv_ms_ = 0;  // SO_RCVTIMEO now: timeout_ms_, or RecvWithin's shorter wait
  int64_t received_ = 0;
  Status last_error_;
  SSL* ssl_ = nullptr;  // owned
};

}  // namespace tarn::http
