// Query Blob Contents (POST ?comp=query): Azure's query acceleration, answered by the tabular
// engine (DuckDB) reading the blob's bytes in place, framed as Azure frames it (Avro records:
// the data, progress, any error, the end).
#include <algorithm>

#include "common/strings.h"
#include "common/time_util.h"
#include "protocol/ops.h"
#include "protocol/query_request.h"
#include "protocol/query_response.h"
#include "protocol/studio/preview_ops.h"

namespace tarn::protocol::blob {
namespace {

// Output past this multiple of the blob's size (plus a floor) stops the query: a SELECT of
// one blob cannot legitimately say more, and the answer is spooled before it is sent.
constexpr int64_t kOutputPerInputByte = 8;
constexpr int64_t kOutputFloor = 64LL << 20;

}  // namespace

Status QueryBlob(Ctx& c) {
  std::string body;
  TARN_RETURN_IF_ERROR(ReadSmallBody(c, kMaxQueryBody, &body));
  TARN_ASSIGN_OR_RETURN(QueryRequest q, ParseQueryRequest(body));
  if (q.arrow_output) {
    return Error(Reason::kNotImplemented,
                 "Tarn does not write Arrow query output yet: ask for delimited or json output.");
  }
  TARN_ASSIGN_OR_RETURN(lake::Conditions cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(lake::ReadPlan plan, c.lake.OpenRead(c.account->name, c.fs, c.path,
                                                             std::nullopt, ParseAccess(c, cond)));
  if (plan.node.is_dir) {
    return Error(Reason::kResourceTypeMismatch,
                 "A directory has no contents to query: name a file.");
  }
  const int64_t total = plan.length;
  QueryResponse answer(std::string(c.scratch_dir));
  bool any_data = false;
  preview_ops::PlanOpener opener(plan);
  tabular::BlobQueryRequest req;
  req.opener = &opener;
  req.file = {"0", c.path, total};
  req.expression = q.expression;
  req.input = q.input;
  req.in = q.in;
  req.output = q.output;
  req.out = q.out;
  req.max_output_bytes = std::max(kOutputFloor, total * kOutputPerInputByte);
  req.sink = [&](std::string_view data, int64_t scanned) {
    any_data = true;
    TARN_RETURN_IF_ERROR(answer.Data(data));
    return answer.Progress(std::min(scanned, total), total);
  };
  StatusOr<tabular::BlobQueryResult> result = tabular::QueryBlob(req);
  std::optional<tabular::BlobQueryError> failure;
  int64_t scanned = total;
  if (result.ok()) {
    failure = result->error;
    if (failure) scanned = std::min(result->scanned, total);
  } else if (result.status().reason() == Reason::kInvalidInput) {
    return Error(Reason::kErrorProcessingQueryExpression, result.status().message());
  } else if (result.status().code() == Code::kFailedPrecondition) {
    // The blob does not read as the input format says: Azure reports that in the answer.
    failure = tabular::BlobQueryError{"ParseError", result.status().message()};
    scanned = 0;
  } else {
    return result.status();
  }
  // The SDKs read the first record before they can take an error: it is always data.
  if (!any_data) TARN_RETURN_IF_ERROR(answer.Data({}));
  if (failure) {
    TARN_RETURN_IF_ERROR(answer.Failure(true, failure->name, failure->description, scanned));
  }
  TARN_RETURN_IF_ERROR(answer.Progress(scanned, total));
  TARN_RETURN_IF_ERROR(answer.End(total));

  http::Headers h = c.StdHeaders();
  h.emplace_back("Last-Modified", FormatHttpDate(plan.node.modified_us));
  h.emplace_back("ETag", QuoteEtag(plan.node.etag));
  h.emplace_back("x-ms-creation-time", FormatHttpDate(plan.node.created_us));
  h.emplace_back("x-ms-blob-type", "BlockBlob");
  h.emplace_back("x-ms-server-encrypted", "false");
  h.emplace_back("Content-Type", "avro/binary");
  AddLeaseHeaders(plan.node.lease, &h);
  TARN_RETURN_IF_ERROR(c.w.Start(200, h, answer.size()));
  if (answer.fd() < 0) return c.w.Write(answer.memory());
  return c.w.SendFile(answer.fd(), 0, answer.size());
}

}  // namespace tarn::protocol::blob
