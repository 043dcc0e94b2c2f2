#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/time_util.h"

namespace tarn::audit {
namespace {

constexpr int64_t kWindowUs = 60LL * 1000000;

}  // namespace

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& dir, int64_t max_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InternalError("cannot create the audit directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  std::unique_ptr<AuditLog> log(new AuditLog(dir, max_bytes));
  TARN_RETURN_IF_ERROR(log->OpenCurrent());
  log->window_start_us_ = NowMicros();
  return log;
}

AuditLog::~AuditLog() {
  FlushSummaries();
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::OpenCurrent() {
  const std::string path = dir_ + "/audit.log";
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return InternalError("cannot open the audit log " + path);
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  return Status::Ok();
}

void AuditLog::WriteLine(const std::string& line) {
  if (size_ > 0 && size_ + static_cast<int64_t>(line.size()) > max_bytes_) {
    // Rotate under the lock: the next line starts the new file.
    ::fsync(fd_);
    ::close(fd_);
    std::string stamp = FormatIso8601(NowMicros());
    std::replace(stamp.begin(), stamp.end(), ':', '-');
    std::string rotated = dir_ + "/audit-" + stamp + ".log";
    std::error_code ec;
    std::filesystem::rename(dir_ + "/audit.log", rotated, ec);
    fd_ = -1;
    if (!OpenCurrent().ok()) return;
  }
  if (fd_ < 0) return;
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n > 0) size_ += n;
}

void AuditLog::Append(Json event) {
  int64_t now = NowMicros();
  event["time"] = FormatIso8601(now);
  std::string line = event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> l(mu_);
  FlushSummariesLocked(now);
  WriteLine(line);
}

void AuditLog::CountRead(const std::string& who, const std::string& via) {
  int64_t now = NowMicros();
  std::lock_guard<std::mutex> l(mu_);
  FlushSummariesLocked(now);
  ++reads_[{who, via}];
}

void AuditLog::FlushSummaries() {
  std::lock_guard<std::mutex> l(mu_);
  FlushSummariesLocked(NowMicros() + kWindowUs);
}

void AuditLog::FlushSummariesLocked(int64_t now_us) {
  if (now_us - window_start_us_ < kWindowUs) return;
  for (const auto& [key, count] : reads_) {
    Json e{{"time", FormatIso8601(NowMicros())},
           {"event", "reads"},
           {"principal", key.first},
           {"result", "allowed"},
           {"count", count},
           {"since", FormatIso8601(window_start_us_)}};
    if (!key.second.empty()) e["via"] = key.second;
    WriteLine(e.dump() + "\n");
  }
  reads_.clear();
  window_start_us_ = NowMicros();
}

StatusOr<std::vector<Json>> AuditLog::Read(const std::function<bool(const Json&)>& keep,
                                           size_t limit) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    std::string name = e.path().filename().string();
    if (name.rfind("audit-", 0) == 0) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());  // rotated names sort by time
  files.push_back(dir_ + "/audit.log");
  std::vector<Json> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line) && out.size() < limit) {
      Json j = Json::parse(line, nullptr, false);
      if (!j.is_discarded() && keep(j)) out.push_back(std::move(j));
    }
  }
  return out;
}

}  // namespace tarn::audit
