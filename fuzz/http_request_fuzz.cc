// Fuzzes the request framing the reactor and the workers run on untrusted bytes: the incremental
// head parser with its checks (FeedHead, CheckHead) and the chunked body decoder (DecodeChunked),
// fed in pieces whose sizes come from the input itself, as a slow or hostile client would send
// them, and then pipelined requests one after another as a kept-alive connection carries them.
// It asserts that nothing crashes, that no request is accepted past a refusal, that a refusal is
// a 4xx, and that the decoder never writes outside the buffer it is given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "http/request_head.h"

namespace {

using tarn::http::ChunkStep;
using tarn::http::HeadState;
using tarn::http::Refusal;

constexpr size_t kHeaderLimit = 4096;  // small, so that the limits are reached often
constexpr size_t kMetaLimit = 1024;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the piece size (1..16, or everything at once) and the output size.
  const size_t piece = data[0] % 17 == 0 ? size : data[0] % 17;
  const size_t out_size = 1 + (data[0] >> 4) * 37;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  boost::beast::flat_buffer buf;
  size_t at = 0;
  auto more = [&]() -> bool {
    if (at >= in.size()) return false;
    size_t n = std::min(piece, in.size() - at);
    auto space = buf.prepare(n);
    std::memcpy(space.data(), in.data() + at, n);
    buf.commit(n);
    at += n;
    return true;
  };

  char out[1024];
  for (int request = 0; request < 64; ++request) {
    auto parser = tarn::http::NewRequestParser(kHeaderLimit);
    Refusal refusal;
    HeadState state = HeadState::kNeedMore;
    for (;;) {
      state = tarn::http::FeedHead(*parser, buf, &refusal);
      if (state != HeadState::kNeedMore || !more()) break;
    }
    if (state == HeadState::kRefused) {
      Check(refusal.status >= 400 && refusal.status < 500);
      return 0;  // the connection would close here
    }
    if (state != HeadState::kComplete) return 0;
    Check(!tarn::http::CheckHead(*parser).has_value());
    if (!parser->chunked()) {
      // A Content-Length body is copied raw by the server; skip it as the worker does.
      uint64_t len = parser->content_length().value_or(0);
      while (len > 0) {
        size_t k = static_cast<size_t>(std::min<uint64_t>(len, buf.size()));
        buf.consume(k);
        len -= k;
        if (len > 0 && !more()) return 0;
      }
      continue;
    }
    parser->eager(true);
    std::memset(out, 0x5a, sizeof out);
    for (int guard = 0; guard < 1 << 16 && !parser->is_done(); ++guard) {
      const size_t n = std::min(out_size, sizeof out - 1);
      ChunkStep step = tarn::http::DecodeChunked(*parser, buf, out, n, kMetaLimit);
      Check(step.out <= n);
      Check(out[sizeof out - 1] == 0x5a);  // nothing past the buffer it was given
      if (step.refused) {
        Check(step.refused->status == 400 || step.refused->status == 431);
        return 0;
      }
      // Waiting for more input means what is buffered is less than the chunk-line limit.
      if (step.need_more && step.out == 0) Check(buf.size() < kMetaLimit);
      if (step.need_more && !more()) return 0;
    }
    if (!parser->is_done()) return 0;
  }
  return 0;
}
