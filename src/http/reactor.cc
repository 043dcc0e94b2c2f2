#include "http/reactor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http/exchange.h"
#include "http/response.h"

namespace tarn::http {
namespace {

// Tags that tell the listener's and the wake-up's events from connections'.
char kListenTag, kWakeTag;

constexpr int kAcceptBurst = 64;  // accepts per wake-up, so that reads are not starved
constexpr int kMaxEvents = 256;

std::string ErrnoText(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

std::string RemoteOf(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  }
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace

Reactor::Reactor(const ServerOptions& opts, size_t max_connections, ConnectionSet* conns,
                 Ready ready)
    : opts_(opts), max_connections_(max_connections), conns_(conns), ready_(std::move(ready)) {}

Reactor::~Reactor() {
  Stop();
  for (int fd : {epoll_fd_, wake_fd_, reserve_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

Status Reactor::Start(int listen_fd) {
  listen_fd_ = listen_fd;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return InternalError("epoll_create1: " + ErrnoText(errno));
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return InternalError("eventfd: " + ErrnoText(errno));
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &kWakeTag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return InternalError("epoll_ctl: " + ErrnoText(errno));
  }
  ev.data.ptr = &kListenTag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
    return InternalError("epoll_ctl: " + ErrnoText(errno));
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Reactor::Adopt(std::unique_ptr<Connection> c) {
  std::unique_lock<std::mutex> l(mu_);
  if (stopped_) {
    l.unlock();
    return;  // c closes here
  }
  bool wake = adopted_.empty();
  adopted_.push_back(std::move(c));
  l.unlock();
  if (wake) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

void Reactor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  timers_.clear();
  waiting_.clear();
  held_.clear();
  std::vector<std::unique_ptr<Connection>> adopted;
  {
    std::lock_guard<std::mutex> l(mu_);
    adopted.swap(adopted_);
  }
}

void Reactor::Loop() {
  epoll_event events[kMaxEvents];
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, NextTimeoutMs(Clock::now()));
    if (n < 0 && errno != EINTR) {
      spdlog::error("http reactor: epoll_wait: {}", ErrnoText(errno));
      return;
    }
    bool accept = false, wake = false;
    // Connections first: accepting may close (evict) a connection whose event is in this batch.
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &kListenTag) {
        accept = true;
      } else if (tag == &kWakeTag) {
        wake = true;
      } else {
        OnEvent(static_cast<Connection*>(tag));
      }
    }
    if (wake) {
      uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof count);
      std::vector<std::unique_ptr<Connection>> adopted;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopped_) return;
        adopted.swap(adopted_);
      }
      for (auto& c : adopted) Hold(std::move(c), /*fresh=*/false);
    }
    const auto now = Clock::now();
    if (accept_paused_ && now >= accept_resume_) {
      accept_paused_ = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &kListenTag;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
    }
    if (accept) AcceptSome();
    Expire(Clock::now());
  }
}

int Reactor::NextTimeoutMs(Clock::time_point now) const {
  Clock::time_point next = Clock::time_point::max();
  if (!timers_.empty()) next = timers_.begin()->first;
  if (accept_paused_) next = std::min(next, accept_resume_);
  if (next == Clock::time_point::max()) return -1;
  if (next <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 3'600'000));
}

void Reactor::PauseAccepting(Clock::time_point until) {
  accept_paused_ = true;
  accept_resume_ = until;
  epoll_event ev{};
  ev.events = 0;
  ev.data.ptr = &kListenTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

void Reactor::AcceptSome() {
  const int flags = SOCK_CLOEXEC | (opts_.tls ? SOCK_NONBLOCK : 0);
  for (int i = 0; i < kAcceptBurst; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, flags);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: spend the reserve on this one connection so that it is told
        // rather than left in the backlog, and pause accepting briefly if even that fails.
        if (reserve_fd_ >= 0) {
          ::close(reserve_fd_);
          reserve_fd_ = -1;
          int spare = ::accept4(listen_fd_, nullptr, nullptr, flags);
          if (spare >= 0) Reject(spare);
          reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        if (reserve_fd_ < 0) PauseAccepting(Clock::now() + std::chrono::milliseconds(100));
        if (Clock::now() - last_limit_log_ > std::chrono::seconds(10)) {
          last_limit_log_ = Clock::now();
          spdlog::warn("http: out of file descriptors ({}); new connections are refused",
                       ErrnoText(errno));
        }
      }
      return;  // EAGAIN, or an error that the next readiness retries
    }
    Admit(fd, RemoteOf(ss));
  }
}

void Reactor::Admit(int fd, std::string remote) {
  if (!conns_->TryAdd(fd, max_connections_) &&
      !(EvictOldest() && conns_->TryAdd(fd, max_connections_))) {
    if (Clock::now() - last_limit_log_ > std::chrono::seconds(10)) {
      last_limit_log_ = Clock::now();
      spdlog::warn(
          "http: {} connections open, all busy: new connections get 503 (limit "
          "max_connections)",
          conns_->size());
    }
    Reject(fd);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int io_ms = static_cast<int>(
      std::clamp<int64_t>(opts_.body_timeout.count(), 1, std::numeric_limits<int>::max()));
  auto c = std::make_unique<Connection>(fd, std::move(remote), io_ms, conns_);
  Status st = opts_.tls ? c->sock.BeginTls(opts_.tls, /*server=*/true) : c->sock.WaitInKernel();
  if (!st.ok()) return;  // c closes
  Hold(std::move(c), /*fresh=*/true);
}

void Reactor::Reject(int fd) {
  if (!opts_.tls) {
    TimedSocket s(fd, 0);
    SendRefusalAndDrain(
        s, RefusalResponse(opts_, 503, "The server has too many open connections; retry."));
  }
  ::close(fd);
}

bool Reactor::EvictOldest() {
  if (waiting_.empty()) return false;
  Connection* oldest = waiting_.front();
  if (Clock::now() - oldest->waiting_since < kEvictAfter) return false;
  Close(oldest);
  return true;
}

void Reactor::Hold(std::unique_ptr<Connection> c, bool fresh) {
  Connection* p = c.get();
  held_.emplace(p, std::move(c));
  const auto now = Clock::now();
  p->waiting_since = now;
  p->wait_pos = waiting_.insert(waiting_.end(), p);
  p->waiting = true;
  if (fresh && p->sock.tls()) {
    p->phase = Connection::Phase::kHandshake;
    SetDeadline(p, now + opts_.head_timeout);
  } else if (p->head_begun()) {
    p->phase = Connection::Phase::kHead;
    SetDeadline(p, p->head_started + opts_.head_timeout);
  } else {
    p->phase = Connection::Phase::kIdle;
    SetDeadline(p, now + opts_.idle_timeout);
  }
  if (p->sock.HasPending()) {
    OnEvent(p);  // bytes inside OpenSSL do not make the socket readable
  } else {
    Arm(p, TimedSocket::Want::kRead);
  }
}

void Reactor::Arm(Connection* c, TimedSocket::Want want) {
  epoll_event ev{};
  ev.events = EPOLLONESHOT | (want == TimedSocket::Want::kWrite ? EPOLLOUT : EPOLLIN);
  ev.data.ptr = c;
  if (::epoll_ctl(epoll_fd_, c->armed_before ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd(), &ev) != 0) {
    Close(c);
    return;
  }
  c->armed_before = true;
}

void Reactor::SetDeadline(Connection* c, Clock::time_point at) {
  if (c->has_timer) timers_.erase(c->timer);
  c->timer = timers_.emplace(at, c);
  c->has_timer = true;
}

std::unique_ptr<Connection> Reactor::Release(Connection* c) {
  if (c->has_timer) timers_.erase(c->timer);
  c->has_timer = false;
  if (c->waiting) waiting_.erase(c->wait_pos);
  c->waiting = false;
  auto it = held_.find(c);
  std::unique_ptr<Connection> owned = std::move(it->second);
  held_.erase(it);
  return owned;
}

void Reactor::Refuse(Connection* c, int status, const std::string& why) {
  SendRefusalAndDrain(c->sock, RefusalResponse(opts_, status, why));
  Close(c);
}

void Reactor::OnEvent(Connection* c) {
  if (c->phase == Connection::Phase::kHandshake) {
    auto want = c->sock.TryHandshake();
    if (!want.ok()) {
      spdlog::debug("http: TLS handshake with {} failed: {}", c->remote, want.status().message());
      Close(c);
      return;
    }
    if (*want != TimedSocket::Want::kNothing) {
      Arm(c, *want);
      return;
    }
    c->phase = Connection::Phase::kIdle;
    SetDeadline(c, Clock::now() + opts_.idle_timeout);
  }
  ReadHead(c);
}

void Reactor::ReadHead(Connection* c) {
  Refusal refusal;
  for (;;) {
    TimedSocket::Want want;
    auto got = c->sock.TryRecv(scratch_, sizeof scratch_, &want);
    if (!got.ok()) {
      Close(c);
      return;
    }
    if (want != TimedSocket::Want::kNothing) {
      Arm(c, want);
      return;
    }
    if (*got == 0) {
      Close(c);  // the peer closed
      return;
    }
    if (c->phase == Connection::Phase::kIdle) {
      c->phase = Connection::Phase::kHead;
      c->head_started = Clock::now();
      SetDeadline(c, c->head_started + opts_.head_timeout);
    }
    c->Received(scratch_, *got);
    if (!c->parser) ResetRequestParser(c->parser, opts_.header_limit);
    switch (FeedHead(*c->parser, c->buf, &refusal)) {
      case HeadState::kComplete:
        ready_(Release(c));
        return;
      case HeadState::kRefused:
        Refuse(c, refusal.status, refusal.why);
        return;
      case HeadState::kNeedMore:
        break;
    }
    // A short read emptied the socket: wait for more rather than ask again. OpenSSL may hold
    // more than one read returned, so TLS reads on until it says it wants more.
    if (*got < sizeof scratch_ && !c->sock.HasPending()) {
      Arm(c, TimedSocket::Want::kRead);
      return;
    }
  }
}

void Reactor::Expire(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    Connection* c = timers_.begin()->second;
    if (c->phase == Connection::Phase::kHead) {
      Refuse(c, 408, "the request head did not arrive in time");
    } else {
      Close(c);
    }
  }
}

}  // namespace tarn::http
