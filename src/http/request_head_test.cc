#include "http/request_head.h"

#include <gtest/gtest.h>

#include <string>

namespace tarn::http {
namespace {

namespace beast = boost::beast;

void Append(beast::flat_buffer& b, std::string_view s) {
  auto space = b.prepare(s.size());
  std::memcpy(space.data(), s.data(), s.size());
  b.commit(s.size());
}

struct Parsed {
  HeadState state;
  Refusal refusal;
  std::unique_ptr<RequestParser> parser;
  beast::flat_buffer rest;
};

// Feeds `text` in pieces of `step` bytes, as a slow client would send it.
Parsed Parse(std::string_view text, size_t step = 1 << 20, size_t limit = 64 * 1024) {
  Parsed r;
  r.parser = NewRequestParser(limit);
  r.state = HeadState::kNeedMore;
  for (size_t at = 0; at < text.size() && r.state == HeadState::kNeedMore; at += step) {
    Append(r.rest, text.substr(at, step));
    r.state = FeedHead(*r.parser, r.rest, &r.refusal);
  }
  return r;
}

std::string Rest(const beast::flat_buffer& b) {
  return std::string(static_cast<const char*>(b.data().data()), b.size());
}

TEST(FeedHead, ParsesAHeadFedOneByteAtATimeAndLeavesWhatFollows) {
  std::string req = "PUT /a/b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET";
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, req.size()}) {
    Parsed p = Parse(req, step);
    ASSERT_EQ(p.state, HeadState::kComplete) << step;
    EXPECT_EQ(p.parser->get().target(), "/a/b?x=1");
    EXPECT_EQ(*p.parser->content_length(), 3u);
    // Only what arrived with the head's last piece is left over.
    std::string rest = Rest(p.rest);
    EXPECT_EQ(rest, std::string("abcGET").substr(0, rest.size()));
  }
}

TEST(FeedHead, AnIncompleteHeadKeepsItsFieldsBuffered) {
  Parsed p = Parse("GET / HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(p.state, HeadState::kNeedMore);
  EXPECT_EQ(Rest(p.rest), "Host: x\r\n");  // the request line is parsed already
  Append(p.rest, "\r\n");
  EXPECT_EQ(FeedHead(*p.parser, p.rest, &p.refusal), HeadState::kComplete);
  EXPECT_EQ(p.rest.size(), 0u);
}

TEST(FeedHead, TooLargeHeadIs431) {
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n";
  Parsed p = Parse(req, 100, 1024);
  EXPECT_EQ(p.state, HeadState::kRefused);
  EXPECT_EQ(p.refusal.status, 431);
}

TEST(FeedHead, GarbageIs400) {
  Parsed p = Parse("\x01\x02 nonsense\r\n\r\n");
  EXPECT_EQ(p.state, HeadState::kRefused);
  EXPECT_EQ(p.refusal.status, 400);
}

TEST(CheckHead, HostIsRequiredOnceInHttp11) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\n\r\n").state, HeadState::kRefused);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").state, HeadState::kRefused);
  EXPECT_EQ(Parse("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n").state, HeadState::kRefused);
  EXPECT_EQ(Parse("GET / HTTP/1.0\r\n\r\n").state, HeadState::kComplete);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nhOsT: \r\n\r\n").state, HeadState::kComplete);
}

TEST(CheckHead, OnlyALoneChunkedTransferEncodingIsAccepted) {
  for (const char* te : {"gzip", "identity", "chunked, identity", "gzip, chunked",
                         "chunked,chunked", "x-custom", "chunked;q=1"}) {
    Parsed p =
        Parse(std::string("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ") + te + "\r\n\r\n");
    EXPECT_EQ(p.state, HeadState::kRefused) << te;
    EXPECT_EQ(p.refusal.status, 400) << te;
  }
  for (const char* te : {"chunked", "Chunked", "CHUNKED", " chunked "}) {
    Parsed p =
        Parse(std::string("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ") + te + "\r\n\r\n");
    EXPECT_EQ(p.state, HeadState::kComplete) << te;
    EXPECT_TRUE(p.parser->chunked());
  }
  // Two headers, one coding each: the list is "gzip, chunked".
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n")
                .state,
            HeadState::kRefused);
  EXPECT_EQ(Parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").state,
            HeadState::kRefused);
}

TEST(CheckHead, ContentLengthWithTransferEncodingIs400) {
  for (const char* h : {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                        "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n",
                        "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n"}) {
    Parsed p = Parse(std::string("POST / HTTP/1.1\r\nHost: h\r\n") + h + "\r\n");
    EXPECT_EQ(p.state, HeadState::kRefused) << h;
    EXPECT_EQ(p.refusal.status, 400) << h;
  }
}

// Decodes a whole chunked body from `wire` (fed in `step`-byte pieces) into a string.
struct Decoded {
  std::string body;
  std::optional<Refusal> refused;
  bool done = false;
};
Decoded Decode(std::string_view wire, size_t step, size_t meta_limit = 1024, size_t out = 7) {
  Parsed p = Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(p.state, HeadState::kComplete);
  p.parser->eager(true);
  Decoded d;
  size_t at = 0;
  std::string chunk(out, '\0');
  for (int guard = 0; guard < 100000 && !p.parser->is_done(); ++guard) {
    ChunkStep s = DecodeChunked(*p.parser, p.rest, chunk.data(), chunk.size(), meta_limit);
    d.body.append(chunk.data(), s.out);
    if (s.refused) {
      d.refused = s.refused;
      return d;
    }
    if (s.need_more) {
      if (at >= wire.size()) break;
      Append(p.rest, wire.substr(at, step));
      at += step;
    }
  }
  d.done = p.parser->is_done();
  return d;
}

TEST(DecodeChunked, DecodesInAnyPieces) {
  std::string wire = "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{3}, size_t{100}}) {
    Decoded d = Decode(wire, step);
    EXPECT_FALSE(d.refused) << step;
    EXPECT_TRUE(d.done) << step;
    EXPECT_EQ(d.body, "hello world!") << step;
  }
}

TEST(DecodeChunked, OversizedTrailerIs431) {
  std::string wire = "2\r\nhi\r\n0\r\nX-T: " + std::string(200 * 1024, 'a') + "\r\n\r\n";
  Decoded d = Decode(wire, 4096, 64 * 1024);
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(d.refused->status, 431);
}

TEST(DecodeChunked, OversizedChunkExtensionIs400) {
  std::string wire = "2;x=" + std::string(200 * 1024, 'a') + "\r\nhi\r\n0\r\n\r\n";
  Decoded d = Decode(wire, 4096, 64 * 1024);
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(d.refused->status, 400);
}

TEST(DecodeChunked, BadChunkSyntaxIs400) {
  Decoded d = Decode("zz\r\nhello\r\n0\r\n\r\n", 100);
  ASSERT_TRUE(d.refused);
  EXPECT_EQ(d.refused->status, 400);
}

}  // namespace
}  // namespace tarn::http
