// Blob Batch bodies (POST ?comp=batch): the multipart/mixed request, split into the sub-requests
// it embeds, and the multipart/mixed response made of their answers.
//
// A batch body is a MIME multipart (RFC 2046) of "application/http" parts, each holding one HTTP/1.1
// request without a body (Delete Blob, or Set Blob Tier); Azure's SDKs write them with CRLF line
// ends, and a bare LF is accepted too. The embedded request's head is parsed with Beast, as the
// server parses a request's head.
//
// Contract
// - ParseBatch accepts at most kMaxBatchParts parts (else kExceedsMaxBatchRequestCount) and at
//   least one; a part whose Content-Type is not application/http, or whose request does not parse,
//   has a body, or holds a control character, refuses the whole batch (kInvalidInput), as Azure
//   does. Nothing runs before the whole body has parsed.
// - The boundary comes from the Content-Type header's boundary parameter (quoted or not, 1 to 70
//   characters, RFC 2046 §5.1.1).
// - FormatBatchResponse frames each answer (an HTTP/1.1 response, as the server would send it) in
//   one part with the Content-ID of its request, in order.
//
//   TARN_ASSIGN_OR_RETURN(std::string boundary, BatchBoundary(*c.Header("content-type")));
//   TARN_ASSIGN_OR_RETURN(std::vector<BatchPart> parts, ParseBatch(body, boundary));
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/server.h"

namespace tarn::protocol {

inline constexpr size_t kMaxBatchParts = 256;
inline constexpr size_t kMaxBatchBody = 4 * 1024 * 1024;  // Azure's limit for a batch body

struct BatchPart {
  std::string content_id;  // "" when the part has none
  std::string method;
  std::string target;  // as sent: "/<container>/<blob>?..." or "/<account>/<container>/<blob>"
  http::Headers headers;
};

// The boundary of a "multipart/mixed; boundary=..." Content-Type.
StatusOr<std::string> BatchBoundary(std::string_view content_type);

StatusOr<std::vector<BatchPart>> ParseBatch(std::string_view body, std::string_view boundary);

struct BatchAnswer {
  std::string content_id;
  std::string http;  // "HTTP/1.1 202 Accepted\r\n...\r\n\r\n<body>"
};
std::string FormatBatchResponse(std::string_view boundary, const std::vector<BatchAnswer>& answers);

}  // namespace tarn::protocol
