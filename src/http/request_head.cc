#include "http/request_head.h"

#include <boost/beast/http/error.hpp>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "common/strings.h"

namespace tarn::http {
namespace bhttp = boost::beast::http;

namespace {

void SetLimits(RequestParser& p, size_t header_limit) {
  p.header_limit(static_cast<uint32_t>(std::min<size_t>(header_limit, UINT32_MAX)));
  // Not boost::none: Boost 1.74 compares a Content-Length with an empty limit as "too large".
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
}

}  // namespace

std::unique_ptr<RequestParser> NewRequestParser(size_t header_limit) {
  auto p = std::make_unique<RequestParser>();
  SetLimits(*p, header_limit);
  return p;
}

void ResetRequestParser(std::optional<RequestParser>& p, size_t header_limit) {
  p.reset();
  p.emplace();
  SetLimits(*p, header_limit);
}

HeadState FeedHead(RequestParser& p, boost::beast::flat_buffer& buf, Refusal* refusal) {
  if (p.is_header_done()) return HeadState::kComplete;
  if (buf.size() == 0) return HeadState::kNeedMore;
  boost::system::error_code ec;
  size_t used = p.put(buf.data(), ec);
  buf.consume(used);
  if (ec == bhttp::error::need_more) return HeadState::kNeedMore;
  if (ec) {
    refusal->status = ec == bhttp::error::header_limit ? 431 : 400;
    refusal->why = ec.message();
    return HeadState::kRefused;
  }
  if (!p.is_header_done()) return HeadState::kNeedMore;
  if (auto r = CheckHead(p)) {
    *refusal = std::move(*r);
    return HeadState::kRefused;
  }
  return HeadState::kComplete;
}

std::optional<Refusal> CheckHead(const RequestParser& p) {
  const auto& h = p.get();
  int hosts = 0, codings = 0;
  bool length = false;
  std::string_view coding;
  for (const auto& f : h) {
    switch (f.name()) {
      case bhttp::field::host:
        ++hosts;
        break;
      case bhttp::field::content_length:
        length = true;
        break;
      case bhttp::field::transfer_encoding:
        ++codings;
        coding = std::string_view(f.value().data(), f.value().size());
        break;
      default:
        break;
    }
  }
  if (hosts > 1) return Refusal{400, "more than one Host header"};
  if (hosts == 0 && h.version() >= 11)
    return Refusal{400, "an HTTP/1.1 request needs a Host header"};
  if (codings > 0) {
    // Anything but a lone `chunked` would leave the body's end to guesswork, and a guess that
    // differs from a proxy's in front of us lets a body run as a request (smuggling).
    if (h.version() < 11) return Refusal{400, "Transfer-Encoding is not allowed in HTTP/1.0"};
    if (length) return Refusal{400, "both Content-Length and Transfer-Encoding"};
    if (codings > 1 || !EqualsIgnoreCase(Trim(coding), "chunked")) {
      return Refusal{400, "unsupported Transfer-Encoding (only chunked is accepted)"};
    }
  }
  return std::nullopt;
}

ChunkStep DecodeChunked(RequestParser& p, boost::beast::flat_buffer& buf, char* out, size_t n,
                        size_t meta_limit) {
  ChunkStep s;
  while (s.out < n && !p.is_done()) {
    if (buf.size() == 0) {
      s.need_more = true;
      break;
    }
    auto& body = p.get().body();
    body.data = out + s.out;
    body.size = n - s.out;
    const size_t room = body.size;
    boost::system::error_code ec;
    size_t used = p.put(buf.data(), ec);
    buf.consume(used);
    const size_t wrote = room - body.size;
    body.data = nullptr;  // never left pointing into the caller's buffer
    body.size = 0;
    s.out += wrote;
    if (ec == bhttp::error::need_buffer && (used > 0 || wrote > 0)) continue;  // out is full
    if (ec == bhttp::error::need_more) {
      if (buf.size() >= meta_limit) {
        // What is buffered is one unfinished chunk-size line or the trailer: a line break in it
        // means the size line ended and the trailer is what has grown.
        std::string_view held(static_cast<const char*>(buf.data().data()), buf.size());
        bool trailer = held.find("\r\n") != std::string_view::npos;
        s.refused = trailer ? Refusal{431, "the chunked body's trailer is too large"}
                            : Refusal{400, "a chunk-size line (with its extensions) is too long"};
        return s;
      }
      s.need_more = true;
      break;
    }
    if (ec && ec != bhttp::error::need_buffer) {
      s.refused = Refusal{400, "bad chunked body: " + ec.message()};
      return s;
    }
    if (used == 0 && wrote == 0) {
      s.need_more = true;  // no progress possible with what is buffered
      break;
    }
  }
  return s;
}

}  // namespace tarn::http
