// Pieces every tarn_bench workload shares: target checks, clients, deterministic data, bounded
// parallel loops and latency statistics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/lake_client.h"
#include "common/status.h"

namespace tarn::bench {

inline constexpr char kDevKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// Options every lake workload takes.
struct Target {
  std::string url;
  std::string account = "devstoreaccount1";
  std::string key = kDevKey;
  std::string filesystem = "bench";
  bool allow_remote = false;
  // Blob API only, for a flat-namespace store such as Azurite: no DFS request is sent; a
  // directory is a name prefix, a rename is a copy and a delete per blob.
  bool flat = false;
  double max_seconds = 900;  // every workload stops by itself after this long
  int io_timeout_s = 120;
};

// Refuses a URL that is not on loopback unless allow_remote is set.
Status CheckTarget(const Target& t);
StatusOr<std::unique_ptr<client::LakeClient>> NewClient(const Target& t);
// Creates the target's filesystem; one that already exists is fine.
Status EnsureFilesystem(const Target& t);
// A fresh name for this run's paths ("<what>-<12 hex digits>"), so runs never collide.
std::string RunPrefix(const std::string& what);

// Parses "1073741824", "1GiB", "64MiB", "4KiB", "1G", "500M", "10k" (binary multiples).
StatusOr<int64_t> ParseBytes(std::string_view s);

// A fixed pseudo-random byte pattern; the byte at file offset o is Pattern()[o % kPatternSize].
inline constexpr size_t kPatternSize = 4 << 20;
const std::string& Pattern();
// A body source that yields `length` pattern bytes starting at file offset `offset`, in pieces of
// at most max_piece bytes, without copying.
client::BodySource PatternSource(int64_t offset, int64_t length, size_t max_piece = 1 << 20);
// Checks downloaded bytes against the pattern. Call with consecutive pieces.
class PatternChecker {
 public:
  explicit PatternChecker(int64_t offset) : at_(offset) {}
  Status Check(std::string_view piece);

 private:
  int64_t at_;
};

int64_t NowUs();  // monotonic
double Seconds(int64_t from_us, int64_t to_us);

// A time bound shared by the workers of one workload.
class Deadline {
 public:
  explicit Deadline(double seconds);
  bool passed() const;

 private:
  int64_t end_us_;
};

// Runs fn(worker) on n threads and waits for all of them.
void RunParallel(int n, const std::function<void(int worker)>& fn);

// Counts errors across workers and keeps the first message.
class ErrorLog {
 public:
  void Add(const Status& s);
  int64_t count() const { return count_.load(); }
  std::string first() const;

 private:
  std::atomic<int64_t> count_{0};
  mutable std::mutex mu_;
  std::string first_;  // guarded by mu_
};

// Latency samples in microseconds.
struct Percentiles {
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};
Percentiles Summarize(std::vector<int64_t> samples_us);
double Median(std::vector<double> v);

// Prints one JSON line to stdout and returns the process exit code: 0 when "errors" is 0 and
// the workload completed, 1 otherwise.
int Report(nlohmann::json j, const ErrorLog& errors, bool complete);

// Builds a directory of n descendants quickly with parallel clients: files directly inside it
// when n <= 1000, otherwise n/1000 subdirectories plus files spread over them (every created
// path counts). On a flat target every descendant is an empty blob (Put Blob) and the
// subdirectories are only name prefixes. Returns one file that was created.
struct Populated {
  double seconds = 0;
  int64_t created = 0;
  std::string sample_file;  // relative to the directory
};
StatusOr<Populated> Populate(const Target& t, const std::string& dir, int64_t n, int clients,
                             const Deadline& deadline, ErrorLog* errors);

}  // namespace tarn::bench
