// Blob Batch (POST ?comp=batch, of an account or a container): the sub-requests a batch body
// holds each go through the whole request pipeline on their own (their own credentials,
// authorization and audit), a few at a time, and their answers come back in one multipart
// response, in the order of the requests.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "http/response.h"
#include "protocol/batch.h"
#include "protocol/ops.h"

namespace tarn::protocol::blob {
namespace {

// Sub-requests of one batch in flight at once.
constexpr size_t kBatchConcurrency = 8;

}  // namespace

Status SubmitBatch(Ctx& c) {
  if (!c.run_sub_request) {
    return Error(Reason::kInvalidInput, "A batch sub-request cannot be a batch itself.");
  }
  const std::string* type = c.Header("content-type");
  if (!type) {
    return Error(Reason::kMissingRequiredHeader,
                 "Content-Type is required: multipart/mixed; boundary=batch_<guid>.");
  }
  TARN_ASSIGN_OR_RETURN(std::string boundary, BatchBoundary(*type));
  std::string body;
  TARN_RETURN_IF_ERROR(ReadSmallBody(c, kMaxBatchBody, &body));
  TARN_ASSIGN_OR_RETURN(std::vector<BatchPart> parts, ParseBatch(body, boundary));
  for (const BatchPart& p : parts) {
    if (p.method != parts[0].method || (p.method != "DELETE" && p.method != "PUT")) {
      return Error(Reason::kInvalidInput,
                   "The sub-requests of a batch must all be Delete Blob (DELETE) or all Set Blob "
                   "Tier (PUT ?comp=tier); this batch mixes " + parts[0].method + " with " +
                       p.method + ".");
    }
  }
  // The sub-requests run a few at a time, as separate requests to tarnd would: their commits
  // then share the metadata store's group commit (one WAL sync for several deletes) instead of
  // waiting for one sync each. The answers keep the request order.
  std::vector<BatchAnswer> answers(parts.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < parts.size(); i = next++) {
      BatchPart& p = parts[i];
      http::Request sub;
      sub.method = std::move(p.method);
      sub.target = p.target;
      const size_t q = p.target.find('?');
      sub.raw_path = p.target.substr(0, q);
      if (q != std::string::npos) sub.raw_query = p.target.substr(q + 1);
      sub.headers = std::move(p.headers);
      sub.content_length = 0;
      sub.remote = c.req.remote;
      sub.secure = c.req.secure;
      http::StringWriter w({}, /*close=*/false);
      c.run_sub_request(sub, w);
      answers[i] = BatchAnswer{std::move(p.content_id), std::move(w.bytes())};
    }
  };
  {
    std::vector<std::jthread> helpers;
    const size_t n = std::min(parts.size(), kBatchConcurrency) - 1;
    for (size_t i = 0; i < n; ++i) helpers.emplace_back(work);
    work();
  }
  const std::string out_boundary = "batchresponse_" + NewUuid();
  return c.Reply(202, {}, FormatBatchResponse(out_boundary, answers),
                 "multipart/mixed; boundary=" + out_boundary);
}

}  // namespace tarn::protocol::blob
