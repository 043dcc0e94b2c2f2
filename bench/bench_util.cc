#include "bench/bench_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tarn::bench {

Status CheckTarget(const Target& t) {
  TARN_ASSIGN_OR_RETURN(client::Endpoint ep, client::ParseEndpoint(t.url));
  if (!t.allow_remote && !client::IsLoopbackHost(ep.host)) {
    return Status(Code::kInvalidArgument,
                  "refusing to load " + ep.host +
                      ": only loopback targets (127.0.0.0/8, ::1, localhost) are allowed "
                      "without --allow-remote");
  }
  if (t.max_seconds <= 0) return Status(Code::kInvalidArgument, "--max-seconds must be > 0");
  return Status::Ok();
}

StatusOr<std::unique_ptr<client::LakeClient>> NewClient(const Target& t) {
  client::LakeClientOptions o;
  o.account = t.account;
  o.key_base64 = t.key;
  o.connection.io_timeout_ms = t.io_timeout_s * 1000;
  return client::LakeClient::Create(t.url, o);
}

Status EnsureFilesystem(const Target& t) {
  TARN_ASSIGN_OR_RETURN(auto c, NewClient(t));
  Status s = c->CreateFilesystem(t.filesystem);
  if (s.code() == Code::kAlreadyExists) return Status::Ok();
  return s;
}

std::string RunPrefix(const std::string& what) {
  return what + "-" + HexEncode(RandomBytes(6));
}

StatusOr<int64_t> ParseBytes(std::string_view s) {
  std::string_view digits = s;
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  digits = s.substr(0, i);
  std::string unit = ToLower(s.substr(i));
  int64_t v = 0;
  if (digits.empty() || !ParseInt64(digits, &v)) {
    return Status(Code::kInvalidArgument, "not a byte count: '" + std::string(s) + "'");
  }
  int64_t mult = 1;
  if (unit.empty() || unit == "b") {
    mult = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    mult = 1LL << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    mult = 1LL << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    mult = 1LL << 30;
  } else {
    return Status(Code::kInvalidArgument, "unknown unit in '" + std::string(s) + "'");
  }
  if (v > (int64_t{1} << 50) / mult) return Status(Code::kInvalidArgument, "byte count too large");
  return v * mult;
}

const std::string& Pattern() {
  static const std::string* p = [] {
    auto* s = new std::string(kPatternSize, '\0');
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < kPatternSize; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(s->data() + i, &x, 8);
    }
    return s;
  }();
  return *p;
}

client::BodySource PatternSource(int64_t offset, int64_t length, size_t max_piece) {
  const std::string& p = Pattern();
  auto at = std::make_shared<int64_t>(offset);
  int64_t end = offset + length;
  return [&p, at, end, max_piece]() -> StatusOr<std::string_view> {
    if (*at >= end) return std::string_view();
    size_t in = static_cast<size_t>(*at % static_cast<int64_t>(kPatternSize));
    size_t n = std::min<size_t>({max_piece, kPatternSize - in, static_cast<size_t>(end - *at)});
    *at += static_cast<int64_t>(n);
    return std::string_view(p.data() + in, n);
  };
}

Status PatternChecker::Check(std::string_view piece) {
  const std::string& p = Pattern();
  while (!piece.empty()) {
    size_t in = static_cast<size_t>(at_ % static_cast<int64_t>(kPatternSize));
    size_t n = std::min(piece.size(), kPatternSize - in);
    if (std::memcmp(piece.data(), p.data() + in, n) != 0) {
      return Status(Code::kInternal,
                    "downloaded bytes differ from what was uploaded near offset " +
                        std::to_string(at_));
    }
    piece.remove_prefix(n);
    at_ += static_cast<int64_t>(n);
  }
  return Status::Ok();
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Seconds(int64_t from_us, int64_t to_us) { return static_cast<double>(to_us - from_us) / 1e6; }

Deadline::Deadline(double seconds) : end_us_(NowUs() + static_cast<int64_t>(seconds * 1e6)) {}

bool Deadline::passed() const { return NowUs() >= end_us_; }

void RunParallel(int n, const std::function<void(int worker)>& fn) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(fn, i);
  for (auto& t : threads) t.join();
}

void ErrorLog::Add(const Status& s) {
  if (s.ok()) return;
  if (count_.fetch_add(1) == 0) {
    std::lock_guard<std::mutex> l(mu_);
    first_ = s.ToString();
  }
}

std::string ErrorLog::first() const {
  std::lock_guard<std::mutex> l(mu_);
  return first_;
}

Percentiles Summarize(std::vector<int64_t> us) {
  Percentiles p;
  if (us.empty()) return p;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size()))) - 1;
    return static_cast<double>(us[std::min(i, us.size() - 1)]) / 1000.0;
  };
  p.p50_ms = at(0.50);
  p.p90_ms = at(0.90);
  p.p99_ms = at(0.99);
  p.max_ms = static_cast<double>(us.back()) / 1000.0;
  double sum = 0;
  for (int64_t v : us) sum += static_cast<double>(v);
  p.mean_ms = sum / static_cast<double>(us.size()) / 1000.0;
  return p;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int Report(nlohmann::json j, const ErrorLog& errors, bool complete) {
  j["errors"] = errors.count();
  if (errors.count() > 0) j["first_error"] = errors.first();
  j["complete"] = complete;
  j["ok"] = complete && errors.count() == 0;
  std::cout << j.dump() << std::endl;
  return complete && errors.count() == 0 ? 0 : 1;
}

StatusOr<Populated> Populate(const Target& t, const std::string& dir, int64_t n, int clients,
                             const Deadline& deadline, ErrorLog* errors) {
  if (n < 1) return Status(Code::kInvalidArgument, "need at least one descendant");
  if (clients < 1) return Status(Code::kInvalidArgument, "need at least one client");
  int64_t start = NowUs();
  const int64_t subdirs = n > 1000 ? n / 1000 : 0;
  const int64_t files = t.flat ? n : n - subdirs;
  if (!t.flat) {
    TARN_ASSIGN_OR_RETURN(auto c, NewClient(t));
    TARN_RETURN_IF_ERROR(c->CreateDirectory(t.filesystem, dir));
    for (int64_t d = 0; d < subdirs && !deadline.passed(); ++d) {
      TARN_RETURN_IF_ERROR(c->CreateDirectory(t.filesystem, dir + "/d" + std::to_string(d)));
    }
  }
  auto file_name = [&](int64_t i) {
    std::string name = "f" + std::to_string(i);
    return subdirs ? "d" + std::to_string(i % subdirs) + "/" + name : name;
  };
  std::atomic<int64_t> next{0}, created{t.flat ? 0 : subdirs};
  RunParallel(clients, [&](int) {
    auto c = NewClient(t);
    if (!c.ok()) {
      errors->Add(c.status());
      return;
    }
    for (;;) {
      int64_t i = next.fetch_add(1);
      if (i >= files || deadline.passed()) return;
      const std::string path = dir + "/" + file_name(i);
      Status s = t.flat ? (*c)->PutBlob(t.filesystem, path, std::string_view())
                        : (*c)->CreateFile(t.filesystem, path);
      if (!s.ok()) {
        errors->Add(s);
        if (errors->count() > 100) return;
        continue;
      }
      created.fetch_add(1);
    }
  });
  if (created.load() != n) {
    return Status(Code::kUnavailable, "built only " + std::to_string(created.load()) + " of " +
                                          std::to_string(n) + " descendants (" +
                                          (deadline.passed() ? "time limit" : errors->first()) +
                                          ")");
  }
  Populated p;
  p.seconds = Seconds(start, NowUs());
  p.created = created.load();
  p.sample_file = file_name(files - 1);
  return p;
}

}  // namespace tarn::bench
