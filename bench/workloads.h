// The lake workloads of tarn_bench. Each runs against a tarnd (or any Azure-compatible endpoint
// reached with --allow-remote), prints one JSON line and returns the process exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace tarn::bench {

struct UploadOptions {
  int64_t size = 1 << 30;  // bytes per stream
  int streams = 1;
  int64_t block = 0;  // 0: one Put Blob per stream; else DFS create + appends of this size + flush
};
int RunUpload(const Target& t, const UploadOptions& o);

struct DownloadOptions {
  // Paths within the filesystem. One path and streams > 1: the streams read equal ranges of it.
  // Several paths: one stream per path.
  std::vector<std::string> paths;
  int streams = 1;
  int repeat = 1;       // timed runs; the median is reported
  bool verify = false;  // compare every byte with the upload pattern
};
int RunDownload(const Target& t, const DownloadOptions& o);

struct SmallOptions {
  enum class Mode { kDfsWrite, kBlobWrite, kRead };
  Mode mode = Mode::kDfsWrite;
  int clients = 16;
  int64_t ops = 20000;  // in total, over all clients
  int64_t size = 1024;
  int64_t read_files = 2000;  // read mode: files seeded (untimed) and read round-robin
  double duration = 0;  // > 0: stop after this many seconds (complete), or after `ops`
};
int RunSmall(const Target& t, const SmallOptions& o);

struct RenameOptions {
  int64_t descendants = 10;
  int clients = 16;
  int repeats = 3;  // renames back and forth; the first and the median are reported
};
// On a flat target the rename lists the directory's blobs and copies and deletes each one, with
// `clients` parallel clients, as a client of a flat namespace has to.
int RunRename(const Target& t, const RenameOptions& o);

struct ListOptions {
  int64_t paths = 100000;
  int clients = 16;
  int repeats = 3;
  int page_size = 5000;
};
int RunList(const Target& t, const ListOptions& o);

// A mixed soak: `clients` clients for `duration` seconds over `objects` objects of `size` bytes
// (seeded first, untimed), each operation a Get Blob (read_percent) or a Put Blob overwriting a
// random object. Every read is checked. Reports throughput, errors and latencies.
struct SoakOptions {
  int clients = 32;
  double duration = 60;
  int read_percent = 80;
  int64_t objects = 1000;
  int64_t size = 16 << 10;
  int64_t max_ops = 10'000'000;  // a bound in requests as well as in time
};
int RunSoak(const Target& t, const SoakOptions& o);

// Deletes the target's filesystem (container) with everything in it, so that the next workload
// starts from the same state on every server. One that does not exist is fine.
int RunDrop(const Target& t);

}  // namespace tarn::bench
