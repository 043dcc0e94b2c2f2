// A small HTTP/1.1 server: one thread per connection, blocking I/O with timeouts, keep-alive
// and pipelining, streamed request bodies and zero-copy (sendfile) responses.
//
// Contract
// - The handler is called once per request, on the connection's thread, and must answer by
//   calling ResponseWriter::Start exactly once (then Write/SendFile for the body). A handler that
//   returns without starting a response gets a 500.
// - A request body is read through Request::body; whatever the handler leaves unread is
//   drained (small remainders) or the connection is closed after the response.
// - Stop() closes the listener, shuts down every connection and waits for their threads.
//
// Usage:
//   Server s(opts, [](Request& r, ResponseWriter& w) { w.Start(200, {}, 0).IgnoreError(); });
//   auto url = s.Start();   // "http://127.0.0.1:41234"
//   ...; s.Stop();
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
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
  size_t max_connections = 1024;
  size_t header_limit = 64 * 1024;
  int idle_timeout_s = 120;  // a connection silent this long (mid-request or idle) is closed
  // Called with a fully formed error response when a request cannot be parsed (bad syntax,
  // headers too large); returns status, headers and body.
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
  void AcceptLoop();
  void Serve(int fd, std::string remote);

  ServerOptions opts_;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> conns_;  // guarded by mu_
};

}  // namespace tarn::http
