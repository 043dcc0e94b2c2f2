// Query Blob Contents (POST ?comp=query): the QueryRequest document, Azure's SQL rewritten for
// DuckDB, the query run over a small blob as query_ops runs it, and the answer's Avro framing.
// What parses keeps Azure's limits; a query may be refused or fail, never crash, and its output
// stays under the cap it was given.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/query_request.h"
#include "protocol/query_response.h"
#include "tabular/tabular.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "query_request_fuzz: %s: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

constexpr char kBlob[] = "id,name,amount\n1,north,10.5\n2,\"south, far\",20\n3,,x\n";

class Blob final : public tarn::tabular::RandomAccessFile {
 public:
  int64_t Size() const override { return sizeof kBlob - 1; }
  tarn::StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    if (offset < 0 || offset >= Size()) return size_t{0};
    const size_t k = std::min(n, static_cast<size_t>(Size() - offset));
    std::memcpy(buf, kBlob + offset, k);
    return k;
  }
};

class Opener final : public tarn::tabular::FileOpener {
 public:
  tarn::StatusOr<std::unique_ptr<tarn::tabular::RandomAccessFile>> Open(
      const tarn::tabular::SourceFile&) override {
    return std::unique_ptr<tarn::tabular::RandomAccessFile>(new Blob);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto q = tarn::protocol::ParseQueryRequest(body);
  if (!q.ok()) return 0;
  if (q->expression.empty() || q->expression.size() > tarn::protocol::kMaxQueryExpression) {
    Fail("an expression outside 1 byte to 256 KiB", body);
  }
  for (const auto* d : {&q->in, &q->out}) {
    if (d->record_separator.empty()) Fail("an empty record separator", body);
    if (d->column_separator.empty()) Fail("an empty column separator", body);
  }
  auto sql = tarn::tabular::BlobQuerySql(q->expression);
  if (sql.ok() && sql->size() > q->expression.size()) Fail("the rewrite grew the SQL", body);

  Opener opener;
  tarn::tabular::BlobQueryRequest req;
  req.opener = &opener;
  req.file = {"0", "fuzz/blob.csv", sizeof kBlob - 1};
  req.expression = q->expression;
  req.input = q->input;
  req.in = q->in;
  req.output = q->output;
  req.out = q->out;
  req.max_output_bytes = 4096;
  req.threads = 1;
  int64_t out = 0;
  req.sink = [&](std::string_view piece, int64_t) {
    out += static_cast<int64_t>(piece.size());
    return tarn::Status::Ok();
  };
  auto r = tarn::tabular::QueryBlob(req);
  if (out > req.max_output_bytes) Fail("the output passed its cap", body);
  if (r.ok() && r->bytes_out != out) Fail("bytes_out differs from what the sink took", body);

  tarn::protocol::QueryResponse answer("");
  if (!answer.Data(q->expression).ok() || !answer.Failure(true, q->expression, "", 0).ok() ||
      !answer.End(out).ok()) {
    Fail("the answer does not encode", body);
  }
  auto bytes = answer.Bytes();
  if (!bytes.ok() || static_cast<int64_t>(bytes->size()) != answer.size() ||
      bytes->compare(0, 4, "Obj\x01", 4) != 0) {
    Fail("the answer is not an Avro object container", body);
  }
  return 0;
}
