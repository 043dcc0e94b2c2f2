#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "common/strings.h"
#include "http/connection.h"
#include "http/exchange.h"
#include "http/reactor.h"
#include "http/worker_pool.h"

namespace tarn::http {
namespace {

std::string ErrnoText(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

StatusOr<std::pair<std::string, std::string>> SplitHostPort(const std::string& listen) {
  std::string host, port;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Error(Reason::kInvalidInput, "bad listen address: " + listen);
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return Error(Reason::kInvalidInput, "listen needs host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  return std::make_pair(host, port);
}


// The connections the descriptor limit leaves room for: the rest of the process (databases,
// extent files, the other listener) keeps a margin.
size_t ConnectionsTheFdLimitAllows(size_t wanted) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return wanted;
  const size_t soft = static_cast<size_t>(r.rlim_cur);
  const size_t margin = 64 + soft / 8;
  const size_t room = soft > margin ? soft - margin : 1;
  return std::min(wanted, room);
}

}  // namespace

const std::string* Request::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, lower_name)) return &v;
  }
  return nullptr;
}

const char* StatusText(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

class Server::Impl {
 public:
  Impl(const ServerOptions& opts, const Handler& handler, size_t max_connections)
      : opts_(opts),
        handler_(handler),
        pool_([this](std::unique_ptr<Connection> c) { Serve(std::move(c)); }),
        reactor_(opts_, max_connections, &conns_,
                 [this](std::unique_ptr<Connection> c) { pool_.Submit(std::move(c)); }) {}
  ~Impl() { Stop(); }

  Status Start(int listen_fd) {
    listen_fd_ = listen_fd;
    return reactor_.Start(listen_fd);
  }

  void Stop() {
    if (stopping_.exchange(true)) return;
    // The reactor first (nothing new reaches a worker), then every socket a worker holds is shut
    // down so that its blocked read or write returns, then the workers are joined.
    reactor_.Stop();
    conns_.ShutdownAll();
    pool_.Stop();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

 private:
  void Serve(std::unique_ptr<Connection> c) {
    if (ServeConnection(*c, opts_, handler_, stopping_) == AfterServe::kHandBack &&
        !stopping_.load(std::memory_order_relaxed)) {
      reactor_.Adopt(std::move(c));
    }
  }

  const ServerOptions& opts_;
  const Handler& handler_;
  std::atomic<bool> stopping_{false};
  int listen_fd_ = -1;
  ConnectionSet conns_;
  WorkerPool pool_;
  Reactor reactor_;
};

Server::Server(ServerOptions opts, Handler handler)
    : opts_(std::move(opts)), handler_(std::move(handler)) {}

Server::~Server() { Stop(); }

StatusOr<std::string> Server::Start() {
  if (impl_) return Status(Code::kFailedPrecondition, "the server was started already");
  TARN_ASSIGN_OR_RETURN(auto hp, SplitHostPort(opts_.listen));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(hp.first.c_str(), hp.second.c_str(), &hints, &res);
  if (rc != 0) {
    return Error(Reason::kInvalidInput,
                 "cannot resolve " + opts_.listen + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return InternalError("socket: " + ErrnoText(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    int e = errno;
    ::close(fd);
    return Error(Reason::kInvalidInput, "cannot listen on " + opts_.listen + ": " + ErrnoText(e));
  }
  if (::listen(fd, 4096) != 0) {
    int e = errno;
    ::close(fd);
    return InternalError("listen: " + ErrnoText(e));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  const size_t cap = ConnectionsTheFdLimitAllows(std::max<size_t>(opts_.max_connections, 1));
  if (cap < opts_.max_connections) {
    spdlog::info("http: serving at most {} connections on {} (max_connections {} does not fit "
                 "the open-file limit; raise ulimit -n)", cap, opts_.listen,
                 opts_.max_connections);
  }
  impl_ = std::make_unique<Impl>(opts_, handler_, cap);
  if (Status st = impl_->Start(fd); !st.ok()) {
    impl_.reset();  // closes fd
    return st;
  }
  std::string host = ss.ss_family == AF_INET6 ? "[" + hp.first + "]" : hp.first;
  return std::string(opts_.tls ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

void Server::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace tarn::http
