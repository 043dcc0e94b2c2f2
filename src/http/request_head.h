// Request framing without sockets: the incremental parse of a request head, the rules a head must
// pass before any handler sees it, and the decoding of a chunked body. The connection layer feeds
// these with whatever bytes have arrived; the fuzz target (fuzz/http_request_fuzz.cc) feeds them
// arbitrary bytes.
//
// Contract
// - FeedHead consumes from `buf` the bytes of the head it has parsed (Beast takes the request line
//   as soon as it is whole, the fields only once all of them are there) and never a byte past the
//   head. The caller appends what arrives next and calls it again with the same parser; Beast
//   remembers how far it has looked for the head's end, so the work stays linear in its size.
// - A Refusal always ends the connection: after a framing error, the server cannot know where the
//   next request would start (RFC 9112 §6.3), so it answers `status` and closes.
// - CheckHead's rules (RFC 9112 §3.2, §6.1, §6.3): an HTTP/1.1 request has exactly one Host; a
//   request has at most one Host; a Transfer-Encoding, if any, is exactly `chunked` (the only
//   coding Tarn decodes), comes once, in HTTP/1.1, and without Content-Length.
// - DecodeChunked bounds what it buffers of chunk metadata (a chunk-size line with its extensions,
//   or the trailer) by `meta_limit`: a longer line is 400, a longer trailer 431.
//
//   RequestParser p;
//   p.header_limit(64 * 1024);
//   Refusal why;
//   switch (FeedHead(p, buf, &why)) { case HeadState::kComplete: ... }
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace tarn::http {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

// Why a request is not run, and the status to answer before the connection is closed.
struct Refusal {
  int status = 400;
  std::string why;
};

// A parser ready for a new head: header_limit bounds the whole head, no body limit (bodies are
// streamed, and their size is checked by the operations).
std::unique_ptr<RequestParser> NewRequestParser(size_t header_limit);
// The same, made in place (a Beast parser cannot be reset or moved).
void ResetRequestParser(std::optional<RequestParser>& p, size_t header_limit);

enum class HeadState { kNeedMore, kComplete, kRefused };

// Parses the head from buf; on kComplete the head has passed CheckHead and buf holds what follows
// it (body bytes, or the next pipelined request).
HeadState FeedHead(RequestParser& p, boost::beast::flat_buffer& buf, Refusal* refusal);

// The rules above, for a head Beast has parsed.
std::optional<Refusal> CheckHead(const RequestParser& p);

// One step of decoding a chunked body: moves decoded body bytes from buf into out[0, n).
struct ChunkStep {
  size_t out = 0;          // body bytes written to out
  bool need_more = false;  // the parser needs more input before it can go on
  std::optional<Refusal> refused;
};
ChunkStep DecodeChunked(RequestParser& p, boost::beast::flat_buffer& buf, char* out, size_t n,
                        size_t meta_limit);

}  // namespace tarn::http
