// A blocking HTTP/1.1 client connection over TCP, or TLS for https:// endpoints: keep-alive,
// bounded waits, request bodies streamed from a source and response bodies streamed into a sink.
//
// Contract
// - One HttpConnection is one socket. It is not thread-safe: one request at a time, from one
//   thread. Use one connection per thread.
// - Every wait on the socket (connect, each send, each receive) is bounded by the options'
//   timeouts; a timeout fails the request with Code::kUnavailable and leaves the connection
//   unusable.
// - Send() returns a Response for every HTTP status, 4xx and 5xx included. An error Status
//   means the exchange itself failed (connection refused or reset, timeout, malformed
//   response); the connection is then unusable (reusable() is false).
// - The connection adds Host and Content-Length; callers must not set them.
// - An https:// endpoint is reached over TLS 1.2+, and the server's certificate must chain to a
//   trusted CA (ConnectionOptions::tls, or the system's trust store) and name the host (a DNS
//   name, or an IP address in its subjectAltName). A failed check fails Connect().
// - A 2xx body goes to the sink when one is given; any other body (an error document) is
//   always kept in Response::body, so errors can be read.
//
// HttpClient wraps a connection that it (re)opens on demand, and resends a request whose body
// it can replay once when a kept-alive connection turns out to have been closed by the server.
//
// Usage:
//   TARN_ASSIGN_OR_RETURN(auto ep, ParseEndpoint("http://127.0.0.1:10000/devstoreaccount1"));
//   HttpClient http(ep, {});
//   Request req{"GET", "/devstoreaccount1/fs/file.bin"};
//   TARN_ASSIGN_OR_RETURN(Response r, http.Send(req, [](std::string_view piece) {
//     return Consume(piece);
//   }));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tarn::http {
class TlsContext;
}

namespace tarn::client {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Produces the request body piece by piece. Each call returns the next piece, valid until the
// next call; an empty piece before body_length bytes were produced is an error.
using BodySource = std::function<StatusOr<std::string_view>()>;
// Receives a 2xx response body piece by piece, in order. An error aborts the request.
using BodySink = std::function<Status(std::string_view)>;

struct Endpoint {
  std::string host;         // "127.0.0.1", "localhost", "::1" (no brackets)
  uint16_t port = 80;
  std::string path_prefix;  // "" or "/devstoreaccount1", without a trailing '/'
  bool tls = false;         // https

  std::string HostHeader() const;  // "127.0.0.1:10000", "[::1]:10000"
  std::string Origin() const;      // "https://127.0.0.1:10001"
};

// Parses "http[s]://host[:port][/prefix]" (ports 80 and 443 by default).
StatusOr<Endpoint> ParseEndpoint(std::string_view url);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

struct ConnectionOptions {
  int connect_timeout_ms = 5000;
  int io_timeout_ms = 120000;  // the longest any one send or receive may wait
  size_t header_limit = 64 * 1024;
  // The CAs trusted for https endpoints (http::TlsContext::ForClient); null: the system's.
  std::shared_ptr<const http::TlsContext> tls;
};

struct Request {
  std::string method;
  std::string target;  // origin-form, already percent-encoded: "/acct/fs/a%20b?comp=list"
  Headers headers;
  // The body: `body` unless `body_source` is set, in which case exactly body_length bytes are
  // taken from it.
  std::string_view body;
  BodySource body_source;
  int64_t body_length = 0;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;        // the body, unless a sink took it (see above)
  int64_t body_bytes = 0;  // body bytes received, whether kept or sunk

  // First value of a header, name compared case-insensitively; null when absent.
  const std::string* Header(std::string_view name) const;
};

class HttpConnection {
 public:
  static StatusOr<std::unique_ptr<HttpConnection>> Connect(const Endpoint& ep,
                                                           const ConnectionOptions& opts);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  StatusOr<Response> Send(const Request& req, const BodySink& sink = nullptr);

  // False after a failed exchange or a response that closes the connection.
  bool reusable() const { return reusable_; }
  // Requests completed on this connection.
  int64_t requests() const { return requests_; }
  // True when the last failed Send received no byte of a response (so the server cannot have
  // answered it; it may still have acted on it).
  bool last_failure_before_response() const { return failed_before_response_; }

 private:
  struct Impl;
  HttpConnection(int fd, const Endpoint& ep, const ConnectionOptions& opts);
  Status SendRequest(const Request& req);
  StatusOr<Response> ReadResponse(bool head, const BodySink& sink);

  std::unique_ptr<Impl> impl_;
  bool reusable_ = true;
  bool failed_before_response_ = false;
  int64_t requests_ = 0;
};

class HttpClient {
 public:
  HttpClient(Endpoint ep, ConnectionOptions opts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  StatusOr<Response> Send(const Request& req, const BodySink& sink = nullptr);
  const Endpoint& endpoint() const { return ep_; }
  // Connections opened so far (a figure for keep-alive checks).
  int64_t connects() const { return connects_; }

 private:
  Endpoint ep_;
  ConnectionOptions opts_;
  std::unique_ptr<HttpConnection> conn_;
  int64_t connects_ = 0;
};

}  // namespace tarn::client
