// The body of a Query Blob Contents answer: an Avro object container holding Azure's four
// records (resultData, error, progress, end), one record per block, as Azure frames it. The
// schema travels as Azure writes it, every record named by its full dotted name: Microsoft's
// JavaScript SDK matches records by that name alone.
//
// The answer is spooled (in memory, then in an unlinked file under `dir`) because tarnd's
// responses carry a Content-Length: the query runs to its end before the first byte is sent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/temp_file.h"

namespace tarn::protocol {

class QueryResponse {
 public:
  // dir: where a large answer spills ("" = the system's temporary directory).
  explicit QueryResponse(std::string dir);
  ~QueryResponse();
  QueryResponse(const QueryResponse&) = delete;
  QueryResponse& operator=(const QueryResponse&) = delete;

  Status Data(std::string_view data);
  Status Progress(int64_t scanned, int64_t total);
  Status Failure(bool fatal, const std::string& name, const std::string& description,
                 int64_t position);
  Status End(int64_t total);

  int64_t size() const { return size_; }
  // The answer so far, for tests.
  StatusOr<std::string> Bytes() const;
  // The spill file (or -1 while the answer is in memory) and the in-memory answer.
  int fd() const { return file_ ? file_->fd() : -1; }
  const std::string& memory() const { return memory_; }

 private:
  struct Avro;
  Status Block(int branch, const std::function<Status(void* record)>& fill);
  Status Append(std::string_view bytes);

  std::string dir_;
  std::unique_ptr<Avro> avro_;
  std::string memory_;
  std::optional<TempFile> file_;
  int64_t size_ = 0;
};

}  // namespace tarn::protocol
