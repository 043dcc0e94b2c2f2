// Responses on the wire: the head's bytes, a ResponseWriter over a socket (the handler's), and one
// over a string (for the short answers the server sends without blocking: 400, 408, 431, 503).
//
// Contract
// - FormatHead never emits a header whose name or value holds CR, LF or NUL (they could end the
//   head early and let a stored value forge a response); it leaves such a header out and logs
//   its name once per response.
// - SocketWriter holds a head back until the first body write (or Flush), so that a small body
//   leaves in the same send as its head. It is not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/request_head.h"
#include "http/server.h"
#include "http/timed_socket.h"

namespace tarn::http {

// Status line and headers, then Content-Length (except for 1xx, 204 and 304), then `extra`
// (headers the server adds), then `Connection: close` when close is set.
std::string FormatHead(int status, const Headers& headers, int64_t content_length, bool close,
                       const Headers& extra = {});

class SocketWriter : public ResponseWriter {
 public:
  explicit SocketWriter(TimedSocket& s) : s_(s) {}

  Status Start(int status, const Headers& headers, int64_t content_length) override;
  Status Write(std::string_view data) override;
  Status SendFile(int fd, int64_t offset, int64_t len) override;
  bool started() const override { return started_; }
  void CloseAfter() override { close_ = true; }

  Status Flush();
  bool close() const { return close_; }
  int status() const { return status_; }

  // Replaces what the handler answers: used when the request itself turns out malformed while
  // the handler runs (a bad chunked body). `form` writes the replacement through this writer;
  // afterwards the handler's own Start, Write and SendFile send nothing. Too late once bytes of
  // the handler's response have left.
  void Replace(const std::function<void(ResponseWriter&)>& form);
  bool replaced() const { return replaced_; }
  // From now on, a Start with a status other than 4xx after *refusal is set is replaced by
  // on_bad_request's answer for the refusal: the handler's answer to a request whose body broke
  // the framing rules (typically a 500 for the failed read) never goes out.
  void ReplaceWhen(const std::optional<Refusal>* refusal, const ServerOptions* opts) {
    refusal_ = refusal;
    opts_ = opts;
  }
  // Replaces the response by the refusal's, if there is one and the status is not already 4xx.
  void ReplaceIfRefused(int status);

 private:
  static constexpr size_t kCoalesce = 64 * 1024;
  TimedSocket& s_;
  std::string pending_;
  int status_ = 0;
  bool started_ = false;
  bool close_ = false;
  bool replaced_ = false;
  bool replacing_ = false;
  const std::optional<Refusal>* refusal_ = nullptr;
  const ServerOptions* opts_ = nullptr;
};

// Collects a whole response in memory.
class StringWriter : public ResponseWriter {
 public:
  // close: the head says Connection: close (the server's own refusals); a response embedded in
  // another (a batch's sub-response) leaves it out.
  explicit StringWriter(Headers extra = {}, bool close = true)
      : extra_(std::move(extra)), close_(close) {}
  Status Start(int status, const Headers& headers, int64_t content_length) override;
  Status Write(std::string_view data) override;
  Status SendFile(int fd, int64_t offset, int64_t len) override;
  bool started() const override { return started_; }
  void CloseAfter() override {}  // always closes

  std::string& bytes() { return out_; }

 private:
  Headers extra_;
  bool close_;
  std::string out_;
  bool started_ = false;
};

// The whole response the server makes itself for `status`, formed by on_bad_request (or a bare
// one without it), always with Connection: close; 503 also gets Retry-After: 1.
std::string RefusalResponse(const ServerOptions& opts, int status, const std::string& why);

}  // namespace tarn::http
