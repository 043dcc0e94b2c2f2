// Human-readable output of the tarn CLI: aligned tables, byte sizes, and a progress bar for long
// transfers (drawn on a terminal only).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tarn::cli {

// Columns padded to their widest cell, two spaces apart, a header line first; no trailing spaces.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "0 B", "1.5 KiB", "12.0 MiB", ...
std::string FormatBytes(int64_t n);

// A JSON value as one table cell: strings bare, null as "", objects compactly.
std::string Cell(const nlohmann::json& j, const char* key);

// "[#####.....]  12.0 MiB / 40.0 MiB  8.1 MiB/s", after the label if one is given. Add() is
// thread-safe and redraws at most every 100 ms; nothing is drawn unless `enabled` (a terminal).
class ProgressBar {
 public:
  ProgressBar(std::FILE* out, int64_t total, bool enabled, std::string label = "");
  void Add(int64_t bytes);
  void Finish();
  static std::string Render(int64_t done, int64_t total, double seconds);

 private:
  std::FILE* out_;
  int64_t total_;
  std::string label_;
  bool enabled_;
  std::mutex mu_;
  int64_t done_ = 0;  // guarded by mu_
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace tarn::cli
