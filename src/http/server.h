// A small HTTP/1.1 server: an event-driven connection layer in front of synchronous handlers.
// Keep-alive and pipelining, streamed request bodies and zero-copy (sendfile) responses, over
// plain TCP or TLS.
//
// How connections wait
// - One reactor thread (epoll) holds every connection that is waiting for a request head: new
//   ones, kept-alive idle ones, and ones whose head arrives slowly. It reads what arrives without
//   blocking and parses the head incrementally; it also runs TLS handshakes. A connection that
//   is only waiting, or sending its head a byte at a time, holds no thread.
// - When a head is complete and valid, a worker thread (WorkerPool: grows on demand, idle ones
//   end) runs the handler with blocking reads and writes bounded by body_timeout. After the
//   response the worker waits up to `linger` for the next request on the same connection (a
//   client that sends it at once is served without a hand-off) and otherwise gives the
//   connection, with any part of a head it holds, back to the reactor.
// - Deadlines: a head must be complete within head_timeout of its first byte (else 408 and close,
//   however slowly bytes keep coming); a connection with no byte of a request for idle_timeout
//   is closed; a TLS handshake must finish within head_timeout.
// - At max_connections, the connection that has waited longest in the reactor is closed to make
//   room; when every connection is running a request, a new plain-HTTP connection is answered
//   503 with Retry-After (through on_bad_request) and closed. A new TLS connection is closed
//   instead: there is no TLS session to answer on, and handshaking only to refuse would spend
//   the CPU an attacker wants spent.
//
// Contract
// - The handler is called once per request, on a worker thread, and must answer by calling
//   ResponseWriter::Start exactly once (then Write/SendFile for the body). A handler that
//   returns without starting a response gets a 500.
// - A request reaches the handler only when its head obeys RFC 9112's framing rules: Host present
//   (once) in HTTP/1.1, no Transfer-Encoding but exactly `chunked`, never with Content-Length.
//   Otherwise on_bad_request answers 400 (431 for a head over header_limit) and the connection
//   is closed. Every response the server makes itself (400, 408, 431, 503, and the 400/431 that
//   replaces a handler's answer when the chunked body itself turns out malformed) is formed by
//   on_bad_request, with `Connection: close` (and `Retry-After` for 503) added by the server.
// - A request body is read through Request::body; whatever the handler leaves unread is
//   drained (small remainders) or the connection is closed after the response.
// - Header names and values that contain CR, LF or NUL are never sent: Start drops them (and logs
//   the header's name), so no stored value can split a response.
// - Stop() closes the listener and every connection, waits for running handlers to return and
//   joins every thread.
//
// Usage:
//   Server s(opts, [](Request& r, ResponseWriter& w) { w.Start(200, {}, 0).IgnoreError(); });
//   auto url = s.Start();   // "http://127.0.0.1:41234"
//   ...; s.Stop();
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tarn::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

class Body {
 public:
  virtual ~Body() = default;
  // Reads up to n body bytes; 0 at the end of the body. An error means the body was cut short.
  virtual StatusOr<size_t> Read(char* buf, size_t n) = 0;
  virtual bool done() const = 0;
};

struct Request {
  std::string method;
  std::string target;     // raw request-target
  std::string raw_path;   // before '?', still percent-encoded
  std::string raw_query;  // after '?', still percent-encoded
  Headers headers;        // names as sent (case kept), in arrival order
  std::optional<int64_t> content_length;
  bool chunked = false;
  std::string remote;  // "ip:port"
  bool secure = false;  // arrived over TLS
  Body* body = nullptr;

  // First value of a header (name compared case-insensitively), or null.
  const std::string* Header(std::string_view lower_name) const;
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends the status line and headers. content_length is required (no chunked responses).
  virtual Status Start(int status, const Headers& headers, int64_t content_length) = 0;
  virtual Status Write(std::string_view data) = 0;
  // Sends len bytes of fd from offset without copying through user space where possible.
  virtual Status SendFile(int fd, int64_t offset, int64_t len) = 0;
  virtual bool started() const = 0;
  // Asks the server to close the connection after this response.
  virtual void CloseAfter() = 0;
};

using Handler = std::function<void(Request&, ResponseWriter&)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port, host may be [v6]
  // Open connections at most. Start lowers it to what RLIMIT_NOFILE leaves room for.
  size_t max_connections = 10000;
  size_t header_limit = 64 * 1024;  // the whole head; also bounds a chunked body's trailer
  // A connection with no byte of a request (new, or kept alive between requests) is closed.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(120);
  // From the first byte of a head to its end (and for a TLS handshake); then 408 and close.
  std::chrono::milliseconds head_timeout = std::chrono::seconds(30);
  // Each wait of a running request: for body bytes, or for the client to take the response.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(60);
  // How long a worker waits for the next request on a kept-alive connection before giving the
  // connection back to the reactor. Zero hands it back at once.
  std::chrono::microseconds linger = std::chrono::milliseconds(20);
  // Forms every response the server makes itself: status, headers and body, through the writer.
  // Called for unparseable or refused requests (400, 431), head timeouts (408) and refused
  // connections (503); `why` is for the message. May run on the reactor thread: keep it quick.
  std::function<void(int status, const std::string& why, ResponseWriter&)> on_bad_request;
  // When set, every connection starts with a TLS handshake and the URL is https://. Not owned;
  // must outlive the server.
  SSL_CTX* tls = nullptr;
};

const char* StatusText(int status);

class Server {
 public:
  Server(ServerOptions opts, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Returns the base URL ("http://host:port").
  StatusOr<std::string> Start();
  void Stop();
  uint16_t port() const { return port_; }

 private:
  class Impl;
  ServerOptions opts_;
  Handler handler_;
  uint16_t port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tarn::http
