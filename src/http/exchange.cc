#include "http/exchange.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "common/strings.h"
#include "http/response.h"

namespace tarn::http {
namespace {

// Bytes read from the socket at a time while a chunked body or a head is parsed.
constexpr size_t kReadChunk = 64 * 1024;
// Unread body bytes drained after a response so that the connection can be reused; more than
// this and the connection is closed instead.
constexpr size_t kDrainLimit = 1 << 20;
// How long a connection closed with its request body unread keeps reading (and dropping) what
// the client still sends, so that the client reads the answer instead of a reset.
constexpr int kLingeringCloseMs = 2000;

// A lingering close: closing a socket with unread data sends a reset, and a client still sending
// its body (an upload refused for space, say) then never sees the answer. So stop writing, and
// drop what arrives until the client closes too, for a bounded time.
void DiscardUntilClosed(TimedSocket& sock) {
  ::shutdown(sock.fd(), SHUT_WR);
  char sink[64 * 1024];
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kLingeringCloseMs);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{sock.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    const ssize_t n = ::recv(sock.fd(), sink, sizeof sink, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

// The request body. A chunked body goes through Beast's parser (DecodeChunked, which bounds chunk
// lines and trailers); a Content-Length body (nearly every upload) is read straight from the
// socket into the caller's buffer, without the parser's intermediate buffer and its small reads.
class ParserBody : public Body {
 public:
  ParserBody(TimedSocket& s, boost::beast::flat_buffer& buf, RequestParser& p, size_t meta_limit)
      : s_(s), buf_(buf), p_(p), meta_limit_(meta_limit) {
    if (!p_.chunked() && p_.content_length()) {
      direct_ = true;
      remaining_ = *p_.content_length();
    }
    p_.eager(true);
  }

  StatusOr<size_t> Read(char* out, size_t n) override {
    if (failed_) return Error(Reason::kInvalidInput, "the request body was cut short");
    return direct_ ? ReadDirect(out, n) : ReadChunked(out, n);
  }
  bool done() const override { return direct_ ? remaining_ == 0 : p_.is_done(); }
  bool failed() const { return failed_; }
  // Set when the body broke the framing rules (as opposed to the client going away).
  const std::optional<Refusal>& refusal() const { return refusal_; }

 private:
  StatusOr<size_t> Fail(const std::string& why) {
    failed_ = true;
    return Error(Reason::kInvalidInput, "the request body was cut short: " + why);
  }

  StatusOr<size_t> ReadDirect(char* out, size_t n) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
    size_t total = 0;
    // Bytes that arrived with the head are in the buffer.
    if (buf_.size() > 0 && want > 0) {
      size_t k = std::min(want, buf_.size());
      std::memcpy(out, buf_.data().data(), k);
      buf_.consume(k);
      total = k;
    }
    while (total < want) {
      auto got = s_.Recv(out + total, want - total);
      if (!got.ok()) return Fail(got.status().message());
      if (*got == 0) return Fail("the client closed the connection");
      total += *got;
    }
    remaining_ -= total;
    return total;
  }

  StatusOr<size_t> ReadChunked(char* out, size_t n) {
    size_t total = 0;
    while (total < n && !p_.is_done()) {
      ChunkStep step = DecodeChunked(p_, buf_, out + total, n - total, meta_limit_);
      total += step.out;
      if (step.refused) {
        refusal_ = std::move(step.refused);
        failed_ = true;
        return Error(refusal_->status == 431 ? Reason::kHeaderTooLarge : Reason::kInvalidInput,
                     "the chunked request body is malformed: " + refusal_->why);
      }
      if (!step.need_more) continue;
      // Return what is decoded rather than wait for more: the caller may be able to use it.
      if (total > 0) break;
      auto space = buf_.prepare(kReadChunk);
      auto got = s_.Recv(static_cast<char*>(space.data()), space.size());
      if (!got.ok()) return Fail(got.status().message());
      if (*got == 0) return Fail("the client closed the connection");
      buf_.commit(*got);
    }
    return total;
  }

  TimedSocket& s_;
  boost::beast::flat_buffer& buf_;
  RequestParser& p_;
  const size_t meta_limit_;
  bool direct_ = false;
  uint64_t remaining_ = 0;
  bool failed_ = false;
  std::optional<Refusal> refusal_;
};

Request MakeRequest(const RequestParser& parser, const Connection& c) {
  const auto& h = parser.get();
  Request req;
  req.method = std::string(h.method_string());
  req.target = std::string(h.target());
  size_t q = req.target.find('?');
  req.raw_path = req.target.substr(0, q);
  if (q != std::string::npos) req.raw_query = req.target.substr(q + 1);
  req.remote = c.remote;
  req.secure = c.sock.tls();
  for (const auto& f : h) {
    req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  if (auto cl = parser.content_length()) req.content_length = static_cast<int64_t>(*cl);
  req.chunked = parser.chunked();
  return req;
}

// Runs the request whose head c.parser holds. Returns whether the connection may carry another.
bool RunOne(Connection& c, const ServerOptions& opts, const Handler& handler) {
  RequestParser& parser = *c.parser;
  Request req = MakeRequest(parser, c);
  const bool keep_alive = parser.keep_alive();
  ParserBody body(c.sock, c.buf, parser, opts.header_limit);
  req.body = &body;
  // 100 Continue only when a body is to come (RFC 9110 15.2.1 lets a server omit it when the
  // framing says there is none). Sent ahead of the final answer to a request without a body, it
  // raced the Azure C++ SDK's own response parser (pyarrow's AzureFileSystem), which then read
  // the next response's head as a body and aborted.
  const bool body_expected = req.chunked || req.content_length.value_or(0) > 0;
  if (const auto* e = req.Header("expect");
      e && EqualsIgnoreCase(*e, "100-continue") && body_expected) {
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!c.sock.SendAll(kContinue, sizeof kContinue - 1).ok()) return false;
  }
  SocketWriter w(c.sock);
  w.ReplaceWhen(&body.refusal(), &opts);
  handler(req, w);
  // A handler that answered before its body read failed: replace the answer if it has not left.
  if (w.started()) w.ReplaceIfRefused(w.status());
  if (!w.started()) {
    w.CloseAfter();
    w.Start(500, {}, 0).IgnoreError();
    w.Flush().IgnoreError();
    return false;
  }
  if (!w.Flush().ok() || body.failed()) return false;
  if (w.close() || !keep_alive) {
    if (!body.done()) DiscardUntilClosed(c.sock);
    return false;
  }
  // Drain a small unread remainder so the connection can be reused; close on a large one.
  if (!body.done()) {
    char sink[8192];
    size_t drained = 0;
    while (!body.done() && drained < kDrainLimit) {
      auto n = body.Read(sink, sizeof sink);
      if (!n.ok() || *n == 0) return false;
      drained += *n;
    }
    if (!body.done()) return false;
  }
  return true;
}

enum class Lingered { kHead, kHandBack, kClose };

// Waits up to opts.linger for the rest of the next head (the buffer may hold its start already).
// The clock is read only once a head arrives in pieces: the common case, a whole head in one
// read, costs no clock reads at all.
Lingered Linger(Connection& c, const ServerOptions& opts) {
  const int wait_ms =
      static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(opts.linger).count());
  Clock::time_point deadline{};
  Refusal refusal;
  for (;;) {
    switch (FeedHead(*c.parser, c.buf, &refusal)) {
      case HeadState::kComplete:
        return Lingered::kHead;
      case HeadState::kRefused:
        SendRefusalAndDrain(c.sock, RefusalResponse(opts, refusal.status, refusal.why));
        return Lingered::kClose;
      case HeadState::kNeedMore:
        break;
    }
    // Beast takes the request line before the rest of the head is here, so part of a head may
    // sit in the parser rather than in the buffer.
    const bool partial = c.buf.size() > 0 || c.parser->got_some();
    if (partial) {
      // Part of a head is here. Each wait is the whole linger, so the rest may take up to about
      // twice the linger before the reactor takes over: still a short, bounded time.
      const auto now = Clock::now();
      if (!c.head_begun()) c.head_started = now;
      if (deadline == Clock::time_point{}) deadline = now + opts.linger;
      if (now >= deadline && !c.sock.HasPending()) return Lingered::kHandBack;
    }
    TimedSocket::Want want;
    char scratch[16 * 1024];
    auto got = c.sock.RecvWithin(scratch, sizeof scratch, wait_ms, &want);
    if (!got.ok()) return Lingered::kClose;
    if (want != TimedSocket::Want::kNothing) {
      if ((c.buf.size() > 0 || c.parser->got_some()) && !c.head_begun()) {
        c.head_started = Clock::now();
      }
      return Lingered::kHandBack;  // the reactor waits
    }
    if (*got == 0) return Lingered::kClose;
    c.Received(scratch, *got);
  }
}

}  // namespace

void SendRefusalAndDrain(TimedSocket& sock, const std::string& response) {
  char sink[16 * 1024];
  TimedSocket::Want want;
  for (int i = 0; i < 4; ++i) {
    auto got = sock.TryRecv(sink, sizeof sink, &want);
    if (!got.ok() || want != TimedSocket::Want::kNothing || *got == 0) break;
  }
  (void)sock.TrySend(response.data(), response.size(), &want);
  ::shutdown(sock.fd(), SHUT_WR);
}

AfterServe ServeConnection(Connection& c, const ServerOptions& opts, const Handler& handler,
                           const std::atomic<bool>& stopping) {
  for (;;) {
    if (!RunOne(c, opts, handler) || stopping.load(std::memory_order_relaxed)) {
      return AfterServe::kClose;
    }
    ResetRequestParser(c.parser, opts.header_limit);
    c.head_started = {};  // Linger stamps it when part of a next head is here
    switch (Linger(c, opts)) {
      case Lingered::kHead:
        continue;
      case Lingered::kHandBack:
        c.Trim();
        return AfterServe::kHandBack;
      case Lingered::kClose:
        return AfterServe::kClose;
    }
  }
}

}  // namespace tarn::http
