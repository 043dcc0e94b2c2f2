#include "http/timed_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "http/tls.h"

namespace tarn::http {
namespace {

std::string ErrnoText(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

Status IoError(const std::string& what) { return Status(Code::kUnavailable, what); }

// OpenSSL writes with write(2), which raises SIGPIPE when the peer has gone (and it writes from
// SSL_read as well as SSL_write). tarnd ignores the
// signal, but the library's other users (the CLI, tests, the Python extension's host) may not,
// and plain sends avoid it with MSG_NOSIGNAL. So a TLS write holds SIGPIPE blocked on its thread
// and discards one that it raised itself.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    const int saved_errno = errno;  // the caller reads the write's errno after this
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      timespec none{0, 0};
      sigtimedwait(&pipe_, nullptr, &none);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

}  // namespace

TimedSocket::~TimedSocket() {
  if (ssl_) SSL_free(ssl_);
}

Status TimedSocket::WaitInKernel() {
  if (ssl_) return Status(Code::kFailedPrecondition, "TLS sockets keep non-blocking waits");
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return IoError("socket timeouts: " + ErrnoText(errno));
  }
  blocking_ = true;
  kernel_recv_ms_ = timeout_ms_;
  return Status::Ok();
}

bool TimedSocket::SetKernelRecvTimeout(int ms) {
  if (ms == kernel_recv_ms_) return true;
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return false;
  kernel_recv_ms_ = ms;
  return true;
}

StatusOr<size_t> TimedSocket::RecvWithin(char* p, size_t n, int wait_ms, Want* want) {
  if (wait_ms <= 0 || HasPending()) return TryRecv(p, n, want);
  if (!blocking_) {
    pollfd pf{fd_, POLLIN, 0};
    int r = ::poll(&pf, 1, wait_ms);
    if (r < 0 && errno != EINTR) return IoError("poll: " + ErrnoText(errno));
    if (r <= 0) {
      *want = Want::kRead;
      return size_t{0};
    }
    return TryRecv(p, n, want);
  }
  *want = Want::kNothing;
  if (!SetKernelRecvTimeout(wait_ms)) return IoError("SO_RCVTIMEO: " + ErrnoText(errno));
  TARN_ASSIGN_OR_RETURN(std::optional<size_t> got, RecvOnce(p, n, 0));
  if (got) return *got;
  *want = Want::kRead;
  return size_t{0};
}

StatusOr<std::optional<size_t>> TimedSocket::RecvOnce(char* p, size_t n, int flags) {
  for (;;) {
    ssize_t r = ::recv(fd_, p, n, flags);
    if (r >= 0) {
      received_ += r;
      return std::optional<size_t>(static_cast<size_t>(r));
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoError("recv: " + ErrnoText(errno));
    return std::optional<size_t>();
  }
}

Status TimedSocket::TimedOut(short events) const {
  return IoError("timed out after " + std::to_string(timeout_ms_) + " ms waiting for the peer " +
                 (events == POLLIN ? "to send" : "to read"));
}

Status TimedSocket::BeginTls(SSL_CTX* ctx, bool server, const std::string& host_name) {
  if (blocking_) return Status(Code::kFailedPrecondition, "TLS needs non-blocking waits");
  if (ssl_) return Status(Code::kFailedPrecondition, "TLS was started already");
  ssl_ = SSL_new(ctx);
  if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return IoError("TLS: " + OpenSslErrors());
  if (server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
  if (!server && !host_name.empty()) {
    // An IP literal is checked against the certificate's IP addresses and is never sent as SNI.
    unsigned char ip[16];
    const bool is_ip = inet_pton(AF_INET, host_name.c_str(), ip) == 1 ||
                       inet_pton(AF_INET6, host_name.c_str(), ip) == 1;
    if (is_ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host_name.c_str()) != 1) {
        return IoError("TLS: " + OpenSslErrors());
      }
    } else {
      SSL_set_tlsext_host_name(ssl_, host_name.c_str());
      if (SSL_set1_host(ssl_, host_name.c_str()) != 1) return IoError("TLS: " + OpenSslErrors());
    }
  }
  return Status::Ok();
}

StatusOr<TimedSocket::Want> TimedSocket::TryHandshake() {
  if (!ssl_) return Status(Code::kFailedPrecondition, "BeginTls first");
  ERR_clear_error();
  int r;
  {
    SigpipeGuard guard;
    r = SSL_do_handshake(ssl_);
  }
  if (r == 1) return Want::kNothing;
  auto want = TlsWant(r, "TLS handshake");
  if (!want.ok() && !SSL_is_server(ssl_)) {
    long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK) {
      return IoError("the server's certificate is not trusted: " +
                     std::string(X509_verify_cert_error_string(v)) +
                     " (name a CA that signed it, e.g. the other tarnd's tls/cert.pem)");
    }
  }
  return want;
}

Status TimedSocket::StartTls(SSL_CTX* ctx, bool server, const std::string& host_name) {
  TARN_RETURN_IF_ERROR(BeginTls(ctx, server, host_name));
  for (;;) {
    TARN_ASSIGN_OR_RETURN(Want want, TryHandshake());
    if (want == Want::kNothing) return Status::Ok();
    TARN_RETURN_IF_ERROR(Wait(want == Want::kRead ? POLLIN : POLLOUT));
  }
}

StatusOr<TimedSocket::Want> TimedSocket::TlsWant(int r, const char* what) {
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) return Want::kRead;
  if (e == SSL_ERROR_WANT_WRITE) return Want::kWrite;
  if (e == SSL_ERROR_SYSCALL && errno == EINTR) return Want::kRead;
  if (e == SSL_ERROR_ZERO_RETURN) return IoError(std::string(what) + ": the peer closed TLS");
  return IoError(std::string(what) + " failed: " + OpenSslErrors());
}

StatusOr<size_t> TimedSocket::TryRecv(char* p, size_t n, Want* want) {
  *want = Want::kNothing;
  if (ssl_) {
    ERR_clear_error();
    size_t got = 0;
    int r;
    {
      SigpipeGuard guard;  // a read may write too: session tickets, alerts, key updates
      r = SSL_read_ex(ssl_, p, n, &got);
    }
    if (r == 1) {
      received_ += static_cast<int64_t>(got);
      return got;
    }
    int e = SSL_get_error(ssl_, r);
    // A clean close_notify, or a peer that just closed the TCP connection: the end.
    if (e == SSL_ERROR_ZERO_RETURN) return size_t{0};
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) return size_t{0};
    TARN_ASSIGN_OR_RETURN(*want, TlsWant(r, "TLS read"));
    return size_t{0};
  }
  TARN_ASSIGN_OR_RETURN(std::optional<size_t> got, RecvOnce(p, n, MSG_DONTWAIT));
  if (got) return *got;
  *want = Want::kRead;
  return size_t{0};
}

StatusOr<size_t> TimedSocket::TrySend(const char* p, size_t n, Want* want) {
  *want = Want::kNothing;
  size_t sent = 0;
  while (sent < n) {
    if (ssl_) {
      ERR_clear_error();
      size_t w = 0;
      int r;
      {
        SigpipeGuard guard;
        r = SSL_write_ex(ssl_, p + sent, n - sent, &w);
      }
      if (r == 1) {
        sent += w;
        continue;
      }
      TARN_ASSIGN_OR_RETURN(*want, TlsWant(r, "TLS write"));
      return sent;
    }
    ssize_t w = ::send(fd_, p + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return IoError("send: " + ErrnoText(errno));
      *want = Want::kWrite;
      return sent;
    }
    sent += static_cast<size_t>(w);
  }
  return sent;
}

bool TimedSocket::HasPending() const { return ssl_ != nullptr && SSL_has_pending(ssl_) == 1; }

StatusOr<size_t> TimedSocket::TlsRecv(char* p, size_t n) {
  for (;;) {
    Want want;
    TARN_ASSIGN_OR_RETURN(size_t got, TryRecv(p, n, &want));
    if (want == Want::kNothing) return got;  // bytes, or the peer's close (0)
    TARN_RETURN_IF_ERROR(Wait(want == Want::kRead ? POLLIN : POLLOUT));
  }
}

Status TimedSocket::TlsSend(const char* p, size_t n) {
  while (n > 0) {
    Want want;
    TARN_ASSIGN_OR_RETURN(size_t sent, TrySend(p, n, &want));
    p += sent;
    n -= sent;
    if (want != Want::kNothing) TARN_RETURN_IF_ERROR(Wait(want == Want::kRead ? POLLIN : POLLOUT));
  }
  return Status::Ok();
}

StatusOr<size_t> TimedSocket::Recv(char* p, size_t n) {
  if (ssl_) return TlsRecv(p, n);
  for (;;) {
    TARN_ASSIGN_OR_RETURN(std::optional<size_t> got, RecvOnce(p, n, 0));
    if (got) return *got;
    // RecvWithin left a short receive timeout in place: wait the full timeout from here.
    if (blocking_ && kernel_recv_ms_ != timeout_ms_) {
      if (!SetKernelRecvTimeout(timeout_ms_)) return IoError("SO_RCVTIMEO: " + ErrnoText(errno));
      continue;
    }
    TARN_RETURN_IF_ERROR(Wait(POLLIN));
  }
}

Status TimedSocket::SendAll(const char* p, size_t n, bool more) {
  if (ssl_) return TlsSend(p, n);
  while (n > 0) {
    ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return IoError("send: " + ErrnoText(errno));
      TARN_RETURN_IF_ERROR(Wait(POLLOUT));
      continue;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status TimedSocket::SendFile(int in_fd, int64_t offset, int64_t len) {
  if (ssl_) {
    constexpr size_t kChunk = 256 << 10;
    std::unique_ptr<char[]> buf(new char[kChunk]);
    while (len > 0) {
      ssize_t r =
          ::pread(in_fd, buf.get(), static_cast<size_t>(std::min<int64_t>(len, kChunk)), offset);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return IoError("read for TLS send: the file is shorter than expected");
      TARN_RETURN_IF_ERROR(TlsSend(buf.get(), static_cast<size_t>(r)));
      offset += r;
      len -= r;
    }
    return Status::Ok();
  }
  off_t off = offset;
  while (len > 0) {
    ssize_t w = ::sendfile(fd_, in_fd, &off, static_cast<size_t>(std::min<int64_t>(len, 1 << 30)));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return IoError("sendfile: " + ErrnoText(errno));
      TARN_RETURN_IF_ERROR(Wait(POLLOUT));
      continue;
    }
    if (w == 0) return IoError("sendfile: the file is shorter than expected");
    len -= w;
  }
  return Status::Ok();
}

Status TimedSocket::Wait(short events) {
  // A blocking call that would block again has already waited its timeout in the kernel.
  if (blocking_) return TimedOut(events);
  pollfd p{fd_, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms_);
    if (r > 0) return Status::Ok();
    if (r == 0) return TimedOut(events);
    if (errno != EINTR) return IoError("poll: " + ErrnoText(errno));
  }
}

}  // namespace tarn::http
