// Blob Batch bodies (protocol/batch.h): a Content-Type's boundary, then the multipart body split
// into sub-requests. What is accepted has between 1 and 256 parts, each an HTTP request whose
// target is a path and whose header names and values hold no line break; a response framed from
// answers has one delimiter line per answer and ends with the close delimiter.
//
// Input: the Content-Type header's value up to the first '\n', then the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/batch.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "batch_fuzz: %s: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

bool HasLineBreak(std::string_view s) {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const std::string_view type = input.substr(0, eol);
  const std::string_view body =
      eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
  auto boundary = tarn::protocol::BatchBoundary(type);
  if (!boundary.ok()) return 0;
  if (boundary->empty() || boundary->size() > 70 || HasLineBreak(*boundary)) {
    Fail("a boundary Azure's grammar does not allow", input);
  }
  auto parts = tarn::protocol::ParseBatch(body, *boundary);
  if (!parts.ok()) return 0;
  if (parts->empty() || parts->size() > tarn::protocol::kMaxBatchParts) {
    Fail("a batch of no part or more than 256", input);
  }
  std::vector<tarn::protocol::BatchAnswer> answers;
  for (const auto& p : *parts) {
    if (p.target.empty() || p.target[0] != '/' || HasLineBreak(p.target)) {
      Fail("a sub-request target that is not a path", input);
    }
    if (p.method.empty() || HasLineBreak(p.method) || HasLineBreak(p.content_id)) {
      Fail("a method or Content-ID with a line break", input);
    }
    for (const auto& [k, v] : p.headers) {
      if (HasLineBreak(k) || HasLineBreak(v)) Fail("a header with a line break", input);
    }
    answers.push_back({p.content_id, "HTTP/1.1 202 Accepted\r\n\r\n"});
  }
  const std::string out = tarn::protocol::FormatBatchResponse("batchresponse_x", answers);
  size_t delimiters = 0;
  for (size_t at = out.find("--batchresponse_x\r\n"); at != std::string::npos;
       at = out.find("--batchresponse_x\r\n", at + 1)) {
    ++delimiters;
  }
  if (delimiters != answers.size() || out.find("--batchresponse_x--\r\n") == std::string::npos) {
    Fail("the response does not frame each answer", input);
  }
  return 0;
}
