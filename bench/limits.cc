#include "bench/limits.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "common/crypto.h"
#include "common/encoding.h"

namespace tarn::bench {
namespace {

using nlohmann::json;

std::string ErrnoText(const char* what) {
  char buf[128];
  return std::string(what) + ": " + strerror_r(errno, buf, sizeof buf);
}

// Bounds every blocking call on a socket, so the pump cannot hang.
void SetSocketTimeouts(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

int RunMemcpy(const MemcpyOptions& o) {
  json j = {{"bench", "memcpy"}, {"buffer_bytes", o.bytes}, {"repeat", o.repeat}};
  ErrorLog errors;
  if (o.bytes < 4096 || o.bytes > (int64_t{8} << 30) || o.repeat < 1 || o.repeat > 1000) {
    errors.Add(Status(Code::kInvalidArgument, "need 4 KiB <= bytes <= 8 GiB, 1 <= repeat <= 1000"));
    return Report(j, errors, false);
  }
  const size_t n = static_cast<size_t>(o.bytes);
  std::unique_ptr<char[]> src(new char[n]), dst(new char[n]);
  std::memset(src.get(), 0x5a, n);  // touch every page before timing
  std::memset(dst.get(), 0, n);
  std::vector<double> runs;
  for (int r = 0; r < o.repeat; ++r) {
    int64_t start = NowUs();
    std::memcpy(dst.get(), src.get(), n);
    runs.push_back(Seconds(start, NowUs()));
    src[static_cast<size_t>(r) % n] = static_cast<char>(dst[n - 1] + r);  // keep the copies live
  }
  double seconds = Median(runs);
  j["seconds"] = seconds;
  j["gb_s"] = static_cast<double>(o.bytes) / seconds / 1e9;
  j["mb_s"] = static_cast<double>(o.bytes) / seconds / 1e6;
  return Report(j, errors, true);
}

int RunLoopback(const LoopbackOptions& o) {
  json j = {{"bench", "loopback"}, {"bytes", o.bytes}, {"chunk", o.chunk}};
  ErrorLog errors;
  if (o.bytes < 1 || o.bytes > (int64_t{64} << 30) || o.chunk < 1 || o.chunk > (64 << 20)) {
    errors.Add(Status(Code::kInvalidArgument, "need 1 <= bytes <= 64 GiB, 1 <= chunk <= 64 MiB"));
    return Report(j, errors, false);
  }
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, 1) != 0 ||
      ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    errors.Add(Status(Code::kInternal, ErrnoText("listen on 127.0.0.1")));
    if (lfd >= 0) ::close(lfd);
    return Report(j, errors, false);
  }
  SetSocketTimeouts(lfd, 30);  // bounds accept as well
  std::atomic<int64_t> received{0};
  int64_t start = 0, end = 0;
  std::thread receiver([&] {
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return errors.Add(Status(Code::kInternal, ErrnoText("accept")));
    SetSocketTimeouts(fd, 30);
    std::unique_ptr<char[]> buf(new char[static_cast<size_t>(o.chunk)]);
    for (;;) {
      ssize_t n = ::recv(fd, buf.get(), static_cast<size_t>(o.chunk), 0);
      if (n > 0) {
        received.fetch_add(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) errors.Add(Status(Code::kInternal, ErrnoText("recv")));
      break;
    }
    end = NowUs();
    ::close(fd);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SetSocketTimeouts(fd, 30);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    errors.Add(Status(Code::kInternal, ErrnoText("connect to 127.0.0.1")));
  } else {
    std::unique_ptr<char[]> buf(new char[static_cast<size_t>(o.chunk)]);
    std::memset(buf.get(), 0x3c, static_cast<size_t>(o.chunk));
    start = NowUs();
    int64_t left = o.bytes;
    while (left > 0) {
      ssize_t n = ::send(fd, buf.get(), static_cast<size_t>(std::min(left, o.chunk)), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        errors.Add(Status(Code::kInternal, ErrnoText("send")));
        break;
      }
      left -= n;
    }
  }
  if (fd >= 0) ::close(fd);  // the receiver sees the end of the stream
  receiver.join();
  ::close(lfd);
  double seconds = Seconds(start, end);
  if (received.load() != o.bytes && errors.count() == 0) {
    errors.Add(Status(Code::kInternal, "received " + std::to_string(received.load()) + " bytes"));
  }
  j["seconds"] = seconds;
  j["mb_s"] = seconds > 0 ? static_cast<double>(received.load()) / seconds / 1e6 : 0;
  return Report(j, errors, true);
}

int RunFsyncLatency(const FsyncOptions& o) {
  json j = {{"bench", "fsync-latency"}, {"dir", o.dir}, {"count", o.count}, {"write_bytes", 4096}};
  ErrorLog errors;
  if (o.count < 1 || o.count > 1'000'000) {
    errors.Add(Status(Code::kInvalidArgument, "need 1 <= count <= 1e6"));
    return Report(j, errors, false);
  }
  const std::string path = o.dir + "/.tarn-bench-fsync-" + HexEncode(RandomBytes(6));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    errors.Add(Status(Code::kInternal, ErrnoText(("create " + path).c_str())));
    return Report(j, errors, false);
  }
  char block[4096];
  std::memset(block, 0x42, sizeof block);
  Deadline deadline(o.max_seconds);
  // "append": every write extends the file (size and block allocation reach the journal), as
  // tarnd's new extents do. "overwrite": the same 4 KiB rewritten in place, data only.
  std::vector<int64_t> append_us, overwrite_us;
  for (int i = 0; i < o.count && !deadline.passed(); ++i) {
    int64_t t0 = NowUs();
    if (::pwrite(fd, block, sizeof block, static_cast<off_t>(i) * 4096) != 4096 ||
        ::fdatasync(fd) != 0) {
      errors.Add(Status(Code::kInternal, ErrnoText("append write+fdatasync")));
      break;
    }
    append_us.push_back(NowUs() - t0);
  }
  for (int i = 0; i < o.count && !deadline.passed() && errors.count() == 0; ++i) {
    int64_t t0 = NowUs();
    if (::pwrite(fd, block, sizeof block, 0) != 4096 || ::fdatasync(fd) != 0) {
      errors.Add(Status(Code::kInternal, ErrnoText("overwrite write+fdatasync")));
      break;
    }
    overwrite_us.push_back(NowUs() - t0);
  }
  ::close(fd);
  ::unlink(path.c_str());
  bool complete = static_cast<int>(append_us.size()) == o.count &&
                  static_cast<int>(overwrite_us.size()) == o.count;
  Percentiles a = Summarize(append_us);
  Percentiles w = Summarize(overwrite_us);
  j["p50_ms"] = a.p50_ms;
  j["p99_ms"] = a.p99_ms;
  j["overwrite_p50_ms"] = w.p50_ms;
  j["overwrite_p99_ms"] = w.p99_ms;
  return Report(j, errors, complete);
}

}  // namespace tarn::bench
