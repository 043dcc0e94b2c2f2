#include "client/http_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>
#include <cstring>
#include <limits>

#include "common/strings.h"
#include "http/timed_socket.h"
#include "http/tls.h"

namespace tarn::client {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

constexpr size_t kInlineBodyLimit = 64 * 1024;  // bodies up to this go out with the header
constexpr size_t kScratchSize = 1 << 20;        // receive buffer for streamed bodies

std::string ErrnoText(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

Status IoError(const std::string& what) { return Status(Code::kUnavailable, what); }

using http::TimedSocket;

Status ConnectWithTimeout(int fd, const sockaddr* addr, socklen_t len, int timeout_ms) {
  if (::connect(fd, addr, len) == 0) return Status::Ok();
  if (errno != EINPROGRESS && errno != EINTR) return IoError("connect: " + ErrnoText(errno));
  pollfd p{fd, POLLOUT, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) break;
    if (r == 0) return IoError("connect timed out after " + std::to_string(timeout_ms) + " ms");
    if (errno != EINTR) return IoError("poll: " + ErrnoText(errno));
  }
  int err = 0;
  socklen_t elen = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
    return IoError("getsockopt: " + ErrnoText(errno));
  }
  if (err != 0) return IoError("connect: " + ErrnoText(err));
  return Status::Ok();
}

bool MethodHasBody(std::string_view m) { return m == "PUT" || m == "POST" || m == "PATCH"; }

// One client context over the system's trust store, made on first use and kept.
StatusOr<const http::TlsContext*> SystemTrust() {
  static const StatusOr<std::unique_ptr<http::TlsContext>> ctx = http::TlsContext::ForClient("");
  if (!ctx.ok()) return ctx.status();
  return ctx.value().get();
}

}  // namespace

std::string Endpoint::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Endpoint::Origin() const { return (tls ? "https://" : "http://") + HostHeader(); }

StatusOr<Endpoint> ParseEndpoint(std::string_view url) {
  auto bad = [&](const char* why) {
    return Status(Code::kInvalidArgument, "bad URL '" + std::string(url) + "': " + why);
  };
  Endpoint ep;
  std::string_view rest;
  if (StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else if (StartsWith(url, "https://")) {
    rest = url.substr(8);
    ep.tls = true;
    ep.port = 443;
  } else {
    return bad("only http:// and https:// URLs are supported");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) return bad("credentials in URLs are refused");
  std::string_view port;
  if (StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after ']'");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return bad("no host");
  if (!port.empty()) {
    int64_t p = 0;
    if (!ParseInt64(port, &p) || p < 1 || p > 65535) return bad("bad port");
    ep.port = static_cast<uint16_t>(p);
  }
  ep.path_prefix = std::string(path);
  return ep;
}

bool IsLoopbackHost(std::string_view host) {
  if (EqualsIgnoreCase(host, "localhost") || host == "::1") return true;
  in_addr a{};
  std::string h(host);
  if (::inet_pton(AF_INET, h.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

const std::string* Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

struct HttpConnection::Impl {
  Impl(int fd, const Endpoint& ep, const ConnectionOptions& opts)
      : fd(fd), host_header(ep.HostHeader()), opts(opts), sock(fd, opts.io_timeout_ms) {}
  ~Impl() { ::close(fd); }

  int fd;
  std::string host_header;
  ConnectionOptions opts;
  TimedSocket sock;
  beast::flat_buffer buf;
  std::unique_ptr<char[]> scratch;

  char* Scratch() {
    if (!scratch) scratch.reset(new char[kScratchSize]);
    return scratch.get();
  }
};

StatusOr<std::unique_ptr<HttpConnection>> HttpConnection::Connect(const Endpoint& ep,
                                                                  const ConnectionOptions& opts) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(ep.port);
  int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return IoError("cannot resolve " + ep.host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  Status last = IoError("no address for " + ep.host);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = IoError("socket: " + ErrnoText(errno));
      continue;
    }
    last = ConnectWithTimeout(fd, ai->ai_addr, ai->ai_addrlen, opts.connect_timeout_ms);
    if (!last.ok()) {
      ::close(fd);
      last = IoError("cannot connect to " + ep.HostHeader() + ": " + last.message());
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::unique_ptr<HttpConnection> c(new HttpConnection(fd, ep, opts));
    if (ep.tls) {
      const http::TlsContext* ctx = opts.tls.get();
      if (!ctx) {
        TARN_ASSIGN_OR_RETURN(ctx, SystemTrust());
      }
      Status s = c->impl_->sock.StartTls(ctx->get(), /*server=*/false, ep.host);
      if (!s.ok()) return IoError("TLS with " + ep.HostHeader() + ": " + s.message());
    } else {
      TARN_RETURN_IF_ERROR(c->impl_->sock.WaitInKernel());
    }
    return c;
  }
  return last;
}

HttpConnection::HttpConnection(int fd, const Endpoint& ep, const ConnectionOptions& opts)
    : impl_(std::make_unique<Impl>(fd, ep, opts)) {}

HttpConnection::~HttpConnection() = default;

StatusOr<Response> HttpConnection::Send(const Request& req, const BodySink& sink) {
  if (!reusable_) return Status(Code::kFailedPrecondition, "the connection is no longer usable");
  failed_before_response_ = false;
  int64_t mark = impl_->sock.received();
  Status s = SendRequest(req);
  if (!s.ok()) {
    reusable_ = false;
    failed_before_response_ = impl_->sock.received() == mark;
    return s;
  }
  auto r = ReadResponse(req.method == "HEAD", sink);
  if (!r.ok()) {
    reusable_ = false;
    failed_before_response_ = impl_->sock.received() == mark && impl_->buf.size() == 0;
    return r.status();
  }
  ++requests_;
  return r;
}

Status HttpConnection::SendRequest(const Request& req) {
  const bool streamed = static_cast<bool>(req.body_source);
  const int64_t length = streamed ? req.body_length : static_cast<int64_t>(req.body.size());
  std::string head;
  head.reserve(256 + req.target.size());
  head += req.method;
  head += ' ';
  head += req.target;
  head += " HTTP/1.1\r\nHost: ";
  head += impl_->host_header;
  head += "\r\n";
  for (const auto& [k, v] : req.headers) {
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  if (length > 0 || MethodHasBody(req.method)) {
    head += "Content-Length: ";
    head += std::to_string(length);
    head += "\r\n";
  }
  head += "\r\n";
  TimedSocket& sock = impl_->sock;
  if (!streamed) {
    if (req.body.size() <= kInlineBodyLimit) {
      head.append(req.body);
      return sock.SendAll(head.data(), head.size(), false);
    }
    TARN_RETURN_IF_ERROR(sock.SendAll(head.data(), head.size(), true));
    return sock.SendAll(req.body.data(), req.body.size(), false);
  }
  TARN_RETURN_IF_ERROR(sock.SendAll(head.data(), head.size(), length > 0));
  int64_t left = length;
  while (left > 0) {
    TARN_ASSIGN_OR_RETURN(std::string_view piece, req.body_source());
    if (piece.empty()) {
      return Status(Code::kInvalidArgument, "the request body source ended " +
                                                std::to_string(left) + " bytes early");
    }
    if (static_cast<int64_t>(piece.size()) > left) {
      return Status(Code::kInvalidArgument, "the request body source gave more than body_length");
    }
    left -= static_cast<int64_t>(piece.size());
    TARN_RETURN_IF_ERROR(sock.SendAll(piece.data(), piece.size(), left > 0));
  }
  return Status::Ok();
}

StatusOr<Response> HttpConnection::ReadResponse(bool head, const BodySink& sink) {
  TimedSocket& sock = impl_->sock;
  beast::flat_buffer& buf = impl_->buf;
  auto parse_error = [&](const boost::system::error_code& ec) -> Status {
    if (!sock.last_error().ok()) return sock.last_error();
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof) {
      return IoError("the server closed the connection before a complete response");
    }
    return Status(Code::kInternal, "malformed HTTP response: " + ec.message());
  };

  for (;;) {
    bhttp::response_parser<bhttp::buffer_body> p;
    p.header_limit(static_cast<uint32_t>(impl_->opts.header_limit));
    p.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (head) p.skip(true);
    boost::system::error_code ec;
    bhttp::read_header(sock, buf, p, ec);
    if (ec) return parse_error(ec);
    Response r;
    r.status = static_cast<int>(p.get().result_int());
    if (r.status >= 100 && r.status < 200) continue;  // interim response: the real one follows
    for (const auto& f : p.get()) {
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    const bool to_sink = sink && r.status >= 200 && r.status < 300;
    auto deliver = [&](const char* data, size_t n) -> Status {
      r.body_bytes += static_cast<int64_t>(n);
      if (to_sink) return sink(std::string_view(data, n));
      r.body.append(data, n);
      return Status::Ok();
    };
    bool complete = true;
    if (p.is_done()) {
      // No body: HEAD, 204, 304 or Content-Length: 0.
    } else if (auto len = p.content_length(); len && !p.chunked()) {
      // The common case, read without the parser: straight from the socket into the caller's
      // string or the sink's buffer, with no copy through the parser.
      uint64_t left = *len;
      size_t have = std::min<uint64_t>(buf.size(), left);
      if (have > 0) {
        TARN_RETURN_IF_ERROR(deliver(static_cast<const char*>(buf.data().data()), have));
        buf.consume(have);
        left -= have;
      }
      if (!to_sink && left > 0) {
        size_t at = r.body.size();
        r.body.resize(at + left);
        while (left > 0) {
          TARN_ASSIGN_OR_RETURN(size_t n, sock.Recv(r.body.data() + at, left));
          if (n == 0) return IoError("the server closed the connection mid-body");
          at += n;
          left -= n;
          r.body_bytes += static_cast<int64_t>(n);
        }
      }
      while (left > 0) {
        char* scratch = impl_->Scratch();
        TARN_ASSIGN_OR_RETURN(size_t n,
                              sock.Recv(scratch, static_cast<size_t>(std::min<uint64_t>(
                                                     left, kScratchSize))));
        if (n == 0) return IoError("the server closed the connection mid-body");
        left -= n;
        TARN_RETURN_IF_ERROR(deliver(scratch, n));
      }
    } else {
      // Chunked, or delimited by the end of the connection: let the parser frame it.
      char* scratch = impl_->Scratch();
      while (!p.is_done()) {
        p.get().body().data = scratch;
        p.get().body().size = kScratchSize;
        bhttp::read(sock, buf, p, ec);
        size_t got = kScratchSize - p.get().body().size;
        if (got > 0) TARN_RETURN_IF_ERROR(deliver(scratch, got));
        if (ec == bhttp::error::need_buffer) continue;
        if (ec) return parse_error(ec);
      }
      complete = !p.need_eof();
    }
    reusable_ = complete && p.keep_alive();
    return r;
  }
}

HttpClient::HttpClient(Endpoint ep, ConnectionOptions opts)
    : ep_(std::move(ep)), opts_(opts) {}

HttpClient::~HttpClient() = default;

StatusOr<Response> HttpClient::Send(const Request& req, const BodySink& sink) {
  for (int attempt = 0;; ++attempt) {
    if (!conn_ || !conn_->reusable()) {
      conn_.reset();
      TARN_ASSIGN_OR_RETURN(conn_, HttpConnection::Connect(ep_, opts_));
      ++connects_;
    }
    const bool reused = conn_->requests() > 0;
    auto r = conn_->Send(req, sink);
    if (r.ok()) return r;
    // A kept-alive connection the server had already closed: the request never reached it.
    const bool replayable = !req.body_source;
    if (attempt == 0 && reused && replayable && conn_->last_failure_before_response()) continue;
    return r.status();
  }
}

}  // namespace tarn::client
