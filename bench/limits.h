// The machine's own limits, measured by tarn_bench beside the lake workloads so that every lake
// figure can be read as a fraction of what the hardware allows. (The disk's sequential write
// rate with fsync is measured with dd by scripts/bench_lake.sh.)
#pragma once

#include <cstdint>
#include <string>

namespace tarn::bench {

struct MemcpyOptions {
  int64_t bytes = 256 << 20;  // buffer size
  int repeat = 8;
};
// Copies one buffer into another `repeat` times; reports bytes copied per second.
int RunMemcpy(const MemcpyOptions& o);

struct LoopbackOptions {
  int64_t bytes = int64_t{4} << 30;  // total sent
  int64_t chunk = 1 << 20;           // bytes per send/recv call
};
// A trivial socket pump between two threads over 127.0.0.1: one sends, one receives and
// discards. Reports the receive rate.
int RunLoopback(const LoopbackOptions& o);

struct FsyncOptions {
  std::string dir = ".";  // a directory on the disk to measure
  int count = 1000;
  double max_seconds = 60;
};
// Appends 4 KiB and calls fdatasync, `count` times; reports the median and p99 latency.
int RunFsyncLatency(const FsyncOptions& o);

}  // namespace tarn::bench
