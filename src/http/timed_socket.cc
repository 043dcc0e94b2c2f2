#include "http/timed_socket.h"

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace tarn::http {
namespace {

std::string ErrnoText(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

Status IoError(const std::string& what) { return Status(Code::kUnavailable, what); }

}  // namespace

StatusOr<size_t> TimedSocket::Recv(char* p, size_t n) {
  for (;;) {
    ssize_t r = ::recv(fd_, p, n, 0);
    if (r >= 0) {
      received_ += r;
      return static_cast<size_t>(r);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoError("recv: " + ErrnoText(errno));
    TARN_RETURN_IF_ERROR(Wait(POLLIN));
  }
}

Status TimedSocket::SendAll(const char* p, size_t n, bool more) {
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
  pollfd p{fd_, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms_);
    if (r > 0) return Status::Ok();
    if (r == 0) {
      return IoError("timed out after " + std::to_string(timeout_ms_) + " ms waiting for the peer " +
                     (events == POLLIN ? "to send" : "to read"));
    }
    if (errno != EINTR) return IoError("poll: " + ErrnoText(errno));
  }
}

}  // namespace tarn::http
