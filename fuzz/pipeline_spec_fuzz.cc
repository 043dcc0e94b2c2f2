// pipeline.yaml (pipeline::ParsePipeline) from untrusted text; the input's first line also goes to
// ParseCron, and as a check's text (the rest as its settings) to ParseCheck. Checks the parser's
// promises: errors name the file; steps come back in run order (a step's inputs that other steps
// write come from earlier steps), with distinct names and output datasets; checks have text, and
// their SQL can be made; and a schedule's NextFire is a later whole minute that matches the
// schedule, with no matching minute in between (checked when the gap is short).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "pipeline/pipeline_spec.h"

namespace {

using tarn::pipeline::Check;
using tarn::pipeline::Cron;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "pipeline_spec_fuzz: %s\n", what);
  std::abort();
}

// Whether the schedule fires at t, worked out with the C library's calendar.
bool Matches(const Cron& c, int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) Fail("gmtime_r failed");
  if (tm.tm_sec != 0) return false;
  const bool dom = (c.days >> tm.tm_mday) & 1, dow = (c.weekdays >> tm.tm_wday) & 1;
  const bool day = (c.any_day || c.any_weekday) ? (dom && dow) : (dom || dow);
  return ((c.minutes >> tm.tm_min) & 1) && ((c.hours >> tm.tm_hour) & 1) &&
         ((c.months >> (tm.tm_mon + 1)) & 1) && day;
}

void CheckCron(const Cron& c, int64_t after) {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  const int64_t next = tarn::pipeline::NextFire(c, after);
  if (next == kNever) return;
  if (next <= after) Fail("NextFire is not after the given time");
  if (next % 60 != 0) Fail("NextFire is not a whole minute");
  if (next - after > 3100LL * 86400) Fail("NextFire is further than its horizon");
  if (!Matches(c, next)) Fail("NextFire does not match the schedule");
  if (next - after <= 2 * 86400) {
    for (int64_t t = (after / 60 + 1) * 60; t < next; t += 60) {
      if (t > after && Matches(c, t)) Fail("NextFire skipped a matching minute");
    }
  }
}

void CheckOneCheck(const Check& c) {
  if (c.text.empty()) Fail("a check without text");
  const std::string metric = tarn::pipeline::MetricSql(c);
  const std::string rows = tarn::pipeline::FailingRowsSql(c, 10);
  const bool measured = c.kind != Check::Kind::kSchema && c.kind != Check::Kind::kChange;
  if (measured == metric.empty()) Fail("MetricSql is missing, or given where it should not be");
  (void)tarn::pipeline::Passes(c, 0);
  (void)rows;
  if (c.kind == Check::Kind::kInvalidCount && c.valid_values.empty() && !c.valid_min &&
      !c.valid_max && c.valid_regex.empty()) {
    Fail("invalid_count without a rule");
  }
  if ((c.op == tarn::pipeline::Op::kBetween || c.op == tarn::pipeline::Op::kNotBetween) &&
      c.threshold > c.threshold_hi) {
    Fail("between with its bounds the wrong way round");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Times to ask the schedules about: fixed ones and one taken from the input.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : text) h = (h ^ ch) * 1099511628211ULL;
  const int64_t times[] = {0, 1709164800 /* 2024-02-29 */, 4107542399 /* 2100-02-28 23:59:59 */,
                           static_cast<int64_t>(h % 8000000000ULL) - 2000000000};

  const size_t eol = text.find('\n');
  const std::string first = text.substr(0, eol);
  const std::string rest = eol == std::string::npos ? "" : text.substr(eol + 1);
  if (auto cron = tarn::pipeline::ParseCron(first); cron.ok()) {
    for (int64_t t : times) CheckCron(*cron, t);
  }
  if (auto check = tarn::pipeline::ParseCheck(first, rest); check.ok()) CheckOneCheck(*check);

  auto parsed = tarn::pipeline::ParsePipeline(text, "pipeline.yaml");
  if (!parsed.ok()) {
    if (parsed.status().message().rfind("pipeline.yaml", 0) != 0) Fail("an error without the file");
    if (parsed.status().code() != tarn::Code::kInvalidArgument) Fail("not InvalidArgument");
    return 0;
  }
  const auto& p = *parsed;
  if (p.steps.empty()) Fail("a pipeline without steps");
  std::set<std::string> names;
  std::map<std::string, size_t> writer;  // output dataset -> step index
  for (size_t i = 0; i < p.steps.size(); ++i) {
    if (!names.insert(p.steps[i].name).second) Fail("two steps share a name");
    if (!writer.emplace(p.steps[i].output.dataset, i).second) Fail("two steps share an output");
  }
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const auto& s = p.steps[i];
    for (const auto& in : s.inputs) {
      auto w = writer.find(in.dataset);
      if (w != writer.end() && w->second >= i) Fail("a step runs before a step it reads");
      if (in.alias.empty() || in.version.empty()) Fail("an input without alias or version");
    }
    const auto& o = s.output;
    if (o.path.empty() || o.path.front() == '/' || o.path.back() == '/') Fail("a bad output path");
    if (o.target_file_bytes < (1LL << 20) || o.target_file_bytes > (16LL << 30)) {
      Fail("target_file_bytes out of range");
    }
    for (const Check& c : s.checks) {
      CheckOneCheck(c);
      if (c.line < 1) Fail("a check without its line");
    }
  }
  if (p.schedule) {
    for (int64_t t : times) CheckCron(*p.schedule, t);
  }
  return 0;
}
