#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>
#include <cstring>
#include <limits>

#include "common/strings.h"
#include "http/timed_socket.h"

namespace tarn::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

std::string ErrnoText(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

using Parser = bhttp::request_parser<bhttp::buffer_body>;

// The request body. A chunked body goes through Beast's parser; a Content-Length body (nearly
// every upload) is read straight from the socket into the caller's buffer, without the
// parser's intermediate buffer and its small reads.
class ParserBody : public Body {
 public:
  ParserBody(TimedSocket& s, beast::flat_buffer& buf, Parser& p) : s_(s), buf_(buf), p_(p) {
    if (!p_.chunked() && p_.content_length()) {
      direct_ = true;
      remaining_ = *p_.content_length();
    }
  }

  StatusOr<size_t> Read(char* out, size_t n) override {
    if (failed_) return Error(Reason::kInvalidInput, "the request body was cut short");
    return direct_ ? ReadDirect(out, n) : ReadParsed(out, n);
  }
  bool done() const override { return direct_ ? remaining_ == 0 : p_.is_done(); }
  bool failed() const { return failed_; }

 private:
  StatusOr<size_t> ReadDirect(char* out, size_t n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
    size_t total = 0;
    // Bytes that arrived with the header are in the parser's buffer.
    if (buf_.size() > 0 && want > 0) {
      size_t k = std::min(want, buf_.size());
      std::memcpy(out, buf_.data().data(), k);
      buf_.consume(k);
      total = k;
    }
    while (total < want) {
      auto got = s_.Recv(out + total, want - total);
      if (!got.ok() || *got == 0) {
        failed_ = true;
        return Error(Reason::kInvalidInput,
                     "the request body was cut short: " +
                         (got.ok() ? std::string("the client closed the connection")
                                   : got.status().message()));
      }
      total += *got;
    }
    remaining_ -= total;
    return total;
  }

  StatusOr<size_t> ReadParsed(char* out, size_t n) {
    size_t total = 0;
    while (total < n && !p_.is_done()) {
      p_.get().body().data = out + total;
      p_.get().body().size = n - total;
      boost::system::error_code ec;
      bhttp::read(s_, buf_, p_, ec);
      size_t got = (n - total) - p_.get().body().size;
      total += got;
      if (ec == bhttp::error::need_buffer) continue;
      if (ec) {
        failed_ = true;
        return Error(Reason::kInvalidInput, "the request body was cut short: " + ec.message());
      }
    }
    return total;
  }

  TimedSocket& s_;
  beast::flat_buffer& buf_;
  Parser& p_;
  bool direct_ = false;
  uint64_t remaining_ = 0;
  bool failed_ = false;
};

class Writer : public ResponseWriter {
 public:
  explicit Writer(TimedSocket& s) : s_(s) {}

  Status Start(int status, const Headers& headers, int64_t content_length) override {
    if (started_) return InternalError("response already started");
    started_ = true;
    std::string h;
    h.reserve(512);
    h += "HTTP/1.1 ";
    h += std::to_string(status);
    h += ' ';
    h += StatusText(status);
    h += "\r\n";
    for (const auto& [k, v] : headers) {
      h += k;
      h += ": ";
      h += v;
      h += "\r\n";
    }
    if (status != 304 && status != 204 && !(status >= 100 && status < 200)) {
      h += "Content-Length: ";
      h += std::to_string(content_length);
      h += "\r\n";
    }
    if (close_) h += "Connection: close\r\n";
    h += "\r\n";
    // Held back so that a small body leaves in the same send as its header.
    pending_ = std::move(h);
    return Status::Ok();
  }
  Status Write(std::string_view data) override {
    if (!pending_.empty() && data.size() <= kCoalesce) {
      pending_.append(data);
      return Flush();
    }
    TARN_RETURN_IF_ERROR(Flush());
    return s_.SendAll(data.data(), data.size());
  }
  Status SendFile(int fd, int64_t offset, int64_t len) override {
    TARN_RETURN_IF_ERROR(Flush());
    return s_.SendFile(fd, offset, len);
  }
  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    Status st = s_.SendAll(pending_.data(), pending_.size());
    pending_.clear();
    return st;
  }
  bool started() const override { return started_; }
  void CloseAfter() override { close_ = true; }
  bool close() const { return close_; }

 private:
  static constexpr size_t kCoalesce = 64 * 1024;
  TimedSocket& s_;
  std::string pending_;
  bool started_ = false;
  bool close_ = false;
};

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
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

Server::Server(ServerOptions opts, Handler handler)
    : opts_(std::move(opts)), handler_(std::move(handler)) {}

Server::~Server() { Stop(); }

StatusOr<std::string> Server::Start() {
  TARN_ASSIGN_OR_RETURN(auto hp, SplitHostPort(opts_.listen));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(hp.first.c_str(), hp.second.c_str(), &hints, &res);
  if (rc != 0) return Error(Reason::kInvalidInput, "cannot resolve " + opts_.listen + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return InternalError("socket: " + ErrnoText(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    int e = errno;
    ::close(fd);
    return Error(Reason::kInvalidInput, "cannot listen on " + opts_.listen + ": " + ErrnoText(e));
  }
  if (::listen(fd, 1024) != 0) {
    int e = errno;
    ::close(fd);
    return InternalError("listen: " + ErrnoText(e));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    ::close(fd);
    return InternalError("pipe: " + ErrnoText(errno));
  }
  listen_fd_ = fd;
  acceptor_ = std::thread([this] { AcceptLoop(); });
  std::string host = ss.ss_family == AF_INET6 ? "[" + hp.first + "]" : hp.first;
  return std::string(opts_.tls ? "https://" : "http://") + host + ":" + std::to_string(port_);
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  if (wake_pipe_[1] >= 0) {
    char c = 0;
    (void)!::write(wake_pipe_[1], &c, 1);
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock<std::mutex> l(mu_);
  for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
  cv_.wait(l, [&] { return conns_.empty(); });
  l.unlock();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int& p : wake_pipe_) {
    if (p >= 0) ::close(p);
    p = -1;
  }
  listen_fd_ = -1;
}

void Server::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
  while (!stopping_) {
    int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) ::usleep(10000);
      continue;
    }
    char ip[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (ss.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      ::inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      ::inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
      port = ntohs(a->sin6_port);
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (conns_.size() >= opts_.max_connections) {
        ::close(fd);
        continue;
      }
      conns_.insert(fd);
    }
    std::thread([this, fd, remote = std::string(ip) + ":" + std::to_string(port)] {
      Serve(fd, remote);
      std::lock_guard<std::mutex> l(mu_);
      conns_.erase(fd);
      ::close(fd);
      cv_.notify_all();
    }).detach();
  }
}

void Server::Serve(int fd, std::string remote) {
  TimedSocket stream(fd, opts_.idle_timeout_s * 1000);
  if (opts_.tls ? !stream.StartTls(opts_.tls, /*server=*/true).ok()
                : !stream.WaitInKernel().ok()) {
    return;
  }
  beast::flat_buffer buf;
  for (;;) {
    Parser parser;
    parser.header_limit(static_cast<uint32_t>(opts_.header_limit));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    boost::system::error_code ec;
    bhttp::read_header(stream, buf, parser, ec);
    if (ec) {
      if (ec == bhttp::error::header_limit || ec == bhttp::error::bad_field ||
          ec == bhttp::error::bad_method || ec == bhttp::error::bad_target ||
          ec == bhttp::error::bad_version || ec == bhttp::error::bad_line_ending ||
          ec == bhttp::error::bad_value || ec == bhttp::error::bad_content_length ||
          ec == bhttp::error::bad_transfer_encoding) {
        Writer w(stream);
        w.CloseAfter();
        int status = ec == bhttp::error::header_limit ? 431 : 400;
        if (opts_.on_bad_request) {
          opts_.on_bad_request(status, ec.message(), w);
        } else {
          w.Start(status, {}, 0).IgnoreError();
        }
        w.Flush().IgnoreError();
      }
      return;
    }
    auto& h = parser.get();
    Request req;
    req.method = std::string(h.method_string());
    req.target = std::string(h.target());
    size_t q = req.target.find('?');
    req.raw_path = req.target.substr(0, q);
    if (q != std::string::npos) req.raw_query = req.target.substr(q + 1);
    req.remote = remote;
    req.secure = stream.tls();
    for (const auto& f : h) {
      req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    if (auto cl = parser.content_length()) req.content_length = static_cast<int64_t>(*cl);
    req.chunked = parser.chunked();
    bool keep_alive = parser.keep_alive();
    ParserBody body(stream, buf, parser);
    req.body = &body;
    if (const auto* e = req.Header("expect"); e && EqualsIgnoreCase(*e, "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!stream.SendAll(kContinue, sizeof kContinue - 1).ok()) return;
    }
    Writer w(stream);
    handler_(req, w);
    if (!w.started()) {
      w.CloseAfter();
      w.Start(500, {}, 0).IgnoreError();
      w.Flush().IgnoreError();
      return;
    }
    if (!w.Flush().ok()) return;
    if (w.close() || !keep_alive || body.failed()) return;
    // Drain a small unread remainder so the connection can be reused; close on a large one.
    if (!body.done()) {
      char sink[8192];
      size_t drained = 0;
      while (!body.done() && drained < (1 << 20)) {
        auto n = body.Read(sink, sizeof sink);
        if (!n.ok() || *n == 0) return;
        drained += *n;
      }
      if (!body.done()) return;
    }
  }
}

}  // namespace tarn::http
