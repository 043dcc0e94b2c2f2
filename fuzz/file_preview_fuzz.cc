// The studio's file preview (GET ...?action=preview): its query (format, rows, the file name's
// extension) and the tabular engine reading the first rows of hostile bytes as CSV, Parquet or
// JSON lines, as preview_ops does over a lake file. A read may fail; it must not crash, and it
// never answers more rows than asked.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "protocol/studio/preview_ops.h"
#include "tabular/tabular.h"

namespace {

class Bytes final : public tarn::tabular::RandomAccessFile {
 public:
  explicit Bytes(const std::string& b) : b_(b) {}
  int64_t Size() const override { return static_cast<int64_t>(b_.size()); }
  tarn::StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    if (offset < 0 || static_cast<size_t>(offset) >= b_.size()) return size_t{0};
    size_t k = std::min(n, b_.size() - static_cast<size_t>(offset));
    std::memcpy(buf, b_.data() + offset, k);
    return k;
  }

 private:
  const std::string& b_;
};

class Opener final : public tarn::tabular::FileOpener {
 public:
  explicit Opener(const std::string& b) : b_(b) {}
  tarn::StatusOr<std::unique_ptr<tarn::tabular::RandomAccessFile>> Open(
      const tarn::tabular::SourceFile&) override {
    return std::unique_ptr<tarn::tabular::RandomAccessFile>(new Bytes(b_));
  }

 private:
  const std::string& b_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string name = in.ConsumeRandomLengthString(64);
  std::optional<std::string> format, rows;
  if (in.ConsumeBool()) format = in.ConsumeRandomLengthString(16);
  if (in.ConsumeBool()) rows = in.ConsumeRandomLengthString(8);
  const std::string file = in.ConsumeRemainingBytesAsString();
  auto req = tarn::protocol::preview_ops::ParsePreviewRequest(name, format, rows);
  if (!req.ok()) return 0;
  if (req->rows < 1 || req->rows > 100) std::abort();
  tarn::tabular::ReadRequest r;
  auto f = tarn::tabular::ParseFormat(req->format);
  if (!f.ok()) std::abort();  // ParsePreviewRequest names only formats the engine reads
  r.format = *f;
  r.options.invalid_lines = "drop";
  r.limit = req->rows;
  Opener opener(file);
  auto table = tarn::tabular::ProcessEngine().Read(
      opener, {tarn::tabular::SourceFile{"0", name, static_cast<int64_t>(file.size())}}, r);
  if (table.ok() && table->rows > req->rows) {
    std::fprintf(stderr, "file_preview_fuzz: %lld rows for a limit of %lld\n",
                 static_cast<long long>(table->rows), static_cast<long long>(req->rows));
    std::abort();
  }
  return 0;
}
