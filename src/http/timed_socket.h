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
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <cstdint>

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
  // Waits as OpenSSL asks after a non-blocking call returned r; other errors end the connection.
  Status TlsWait(int r, const char* what);
  StatusOr<size_t> TlsRecv(char* p, size_t n);
  Status TlsSend(const char* p, size_t n);

  // The error of a wait that timed out, in the poll or in the kernel.
  Status TimedOut(short events) const;

  int fd_;
  int timeout_ms_;
  bool blocking_ = false;  // WaitInKernel was called
  int64_t received_ = 0;
  Status last_error_;
  SSL* ssl_ = nullptr;  // owned
};

}  // namespace tarn::http
