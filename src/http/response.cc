#include "http/response.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>

namespace tarn::http {
namespace {

// Whether any byte of s is below 14 ('\r' + 1), eight bytes at a time (the last eight overlap
// the ones before rather than go byte by byte): CR, LF and NUL all are.
bool HasLowByte(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  auto low_in = [&](size_t at) {
    uint64_t x;
    std::memcpy(&x, s.data() + at, 8);
    return ((x - kOnes * 14) & ~x & kHighs) != 0;
  };
  const size_t n = s.size();
  if (n < 8) {
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 14) return true;
    }
    return false;
  }
  for (size_t i = 0; i + 8 <= n; i += 8) {
    if (low_in(i)) return true;
  }
  return low_in(n - 8);
}

bool Splits(std::string_view s) {
  // Every response passes its headers through here: the common case is the word-at-a-time test
  // above; only a header with a low byte (a tab, say) is looked at closely.
  if (!HasLowByte(s)) return false;
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

void AppendHeader(std::string& h, std::string_view k, std::string_view v) {
  h += k;
  h += ": ";
  h += v;
  h += "\r\n";
}

}  // namespace

std::string FormatHead(int status, const Headers& headers, int64_t content_length, bool close,
                       const Headers& extra) {
  std::string h;
  h.reserve(512);
  h += "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += StatusText(status);
  h += "\r\n";
  bool warned = false;
  for (const auto& [k, v] : headers) {
    if (Splits(k) || Splits(v)) {
      if (!warned) {
        // The name only: the value is what must not travel, in a log line either.
        spdlog::warn("response {}: header '{}' left out: its name or value holds CR, LF or NUL",
                     status, Splits(k) ? std::string("(unprintable name)") : k);
        warned = true;
      }
      continue;
    }
    AppendHeader(h, k, v);
  }
  if (status != 304 && status != 204 && !(status >= 100 && status < 200)) {
    AppendHeader(h, "Content-Length", std::to_string(content_length));
  }
  for (const auto& [k, v] : extra) AppendHeader(h, k, v);
  if (close) h += "Connection: close\r\n";
  h += "\r\n";
  return h;
}

Status SocketWriter::Start(int status, const Headers& headers, int64_t content_length) {
  if (replaced_ && !replacing_) return Status::Ok();  // the replacement stands
  if (!replacing_ && refusal_ && *refusal_ && !(status >= 400 && status < 500)) {
    ReplaceIfRefused(status);
    return Status::Ok();
  }
  if (started_) return InternalError("response already started");
  started_ = true;
  status_ = status;
  pending_ = FormatHead(status, headers, content_length, close_);
  return Status::Ok();
}

Status SocketWriter::Write(std::string_view data) {
  if (replaced_ && !replacing_) return Status::Ok();
  if (!pending_.empty() && data.size() <= kCoalesce) {
    pending_.append(data);
    return Flush();
  }
  TARN_RETURN_IF_ERROR(Flush());
  return s_.SendAll(data.data(), data.size());
}

Status SocketWriter::SendFile(int fd, int64_t offset, int64_t len) {
  if (replaced_ && !replacing_) return Status::Ok();
  TARN_RETURN_IF_ERROR(Flush());
  return s_.SendFile(fd, offset, len);
}

Status SocketWriter::Flush() {
  if (pending_.empty()) return Status::Ok();
  Status st = s_.SendAll(pending_.data(), pending_.size());
  pending_.clear();
  return st;
}

void SocketWriter::Replace(const std::function<void(ResponseWriter&)>& form) {
  if (replaced_ || (started_ && pending_.empty())) return;  // too late: bytes already left
  pending_.clear();
  started_ = false;
  close_ = true;
  replaced_ = replacing_ = true;
  form(*this);
  replacing_ = false;
}

void SocketWriter::ReplaceIfRefused(int status) {
  if (!refusal_ || !*refusal_ || (status >= 400 && status < 500)) return;
  const Refusal& r = **refusal_;
  const ServerOptions* opts = opts_;
  Replace([&](ResponseWriter& w) {
    if (opts && opts->on_bad_request) opts->on_bad_request(r.status, r.why, w);
    if (!w.started()) w.Start(r.status, {}, 0).IgnoreError();
  });
}

Status StringWriter::Start(int status, const Headers& headers, int64_t content_length) {
  if (started_) return InternalError("response already started");
  started_ = true;
  out_ = FormatHead(status, headers, content_length, close_, extra_);
  return Status::Ok();
}

Status StringWriter::Write(std::string_view data) {
  out_.append(data);
  return Status::Ok();
}

Status StringWriter::SendFile(int fd, int64_t offset, int64_t len) {
  if (len < 0 || len > (1 << 20)) return InternalError("a refusal's body is small");
  size_t at = out_.size();
  out_.resize(at + static_cast<size_t>(len));
  ssize_t r = ::pread(fd, out_.data() + at, static_cast<size_t>(len), offset);
  if (r != len) return InternalError("short read for a refusal's body");
  return Status::Ok();
}

std::string RefusalResponse(const ServerOptions& opts, int status, const std::string& why) {
  Headers extra;
  if (status == 503) extra.emplace_back("Retry-After", "1");
  StringWriter w(std::move(extra));
  if (opts.on_bad_request) opts.on_bad_request(status, why, w);
  if (!w.started()) w.Start(status, {}, 0).IgnoreError();
  return std::move(w.bytes());
}

}  // namespace tarn::http
