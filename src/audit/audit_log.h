// AuditLog: an append-only log of JSON lines, one per security-relevant event: every write and
// access-control change (allowed or not), every denied request, every change to the directory.
// Allowed reads would swamp it, so they are summarised: one "reads" line per caller per minute
// with their count (and, for reads through a datastore's credential, which one), written when
// the minute is over (or at shutdown).
//
// Contract
// - Append is thread-safe; each line is written with one write(2) to a file opened O_APPEND, so
//   lines never interleave. A crash loses at most the lines of the moment.
// - When the file passes max_bytes it is renamed to audit-<UTC time>.log and a new one begins,
//   under the same lock as appends: no line is lost or split across files.
// - Read returns the lines of every file, oldest first, that match a filter.
//
//   AuditLog log(data_dir + "/audit", 64 << 20);
//   log.Append({{"action", "PutBlob"}, {"result", "allowed"}, ...});
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::audit {

using Json = nlohmann::json;

class AuditLog {
 public:
  static StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& dir, int64_t max_bytes);
  ~AuditLog();

  // Adds "time" (RFC 3339) to the event and writes it.
  void Append(Json event);
  // Counts an allowed read by who; summarised once a minute, per who and via. via: what the
  // read went through for who, when not who's own access (a dataset file read through a
  // datastore's credential: "datastore ws/name as service_principal <client id>").
  void CountRead(const std::string& who, const std::string& via = "");
  // Writes pending read summaries now.
  void FlushSummaries();

  // Lines (parsed) for which keep() is true, oldest first, at most limit.
  StatusOr<std::vector<Json>> Read(const std::function<bool(const Json&)>& keep, size_t limit);

 private:
  AuditLog(std::string dir, int64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}
  Status OpenCurrent();
  void WriteLine(const std::string& line);  // mu_ held
  void FlushSummariesLocked(int64_t now_us);

  std::string dir_;
  int64_t max_bytes_;
  std::mutex mu_;
  int fd_ = -1;
  int64_t size_ = 0;
  int64_t window_start_us_ = 0;
  std::map<std::pair<std::string, std::string>, int64_t> reads_;  // (who, via) -> count
};

}  // namespace tarn::audit
