#include "cli/output.h"

#include <algorithm>
#include <cstdio>

namespace tarn::cli {

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < r.size() ? r[i] : "";
      l += cell;
      if (i + 1 < width.size()) l += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string FormatBytes(int64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string Cell(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

ProgressBar::ProgressBar(std::FILE* out, int64_t total, bool enabled, std::string label)
    : out_(out), total_(total), label_(label.empty() ? "" : label + "  "), enabled_(enabled), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string ProgressBar::Render(int64_t done, int64_t total, double seconds) {
  constexpr int kWidth = 30;
  int filled = total > 0 ? static_cast<int>(kWidth * std::min<double>(1.0, double(done) / total))
                         : kWidth;
  std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
  double rate = seconds > 0 ? done / seconds : 0;
  return bar + "  " + FormatBytes(done) + " / " + FormatBytes(total) + "  " +
         FormatBytes(static_cast<int64_t>(rate)) + "/s";
}

void ProgressBar::Add(int64_t bytes) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> l(mu_);
  done_ += bytes;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(out_, "\r%s%s", label_.c_str(), Render(done_, total_, secs).c_str());
  std::fflush(out_);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> l(mu_);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(out_, "\r%s%s\n", label_.c_str(), Render(done_, total_, secs).c_str());
  std::fflush(out_);
}

}  // namespace tarn::cli
