// What tarnd reads back from a run: the outcome file its supervisor (or, on Slurm, its job
// script) leaves in the run's directory, which the run's own user can rewrite
// (compute::ParseOutcome), and `scontrol show job -o` records (compute::ParseSlurmJob). Checks
// that whatever they hold, the parsers answer without crashing, an ended outcome has a reason
// tarnd knows and an exit code a process can have (0..255, or 128 + a signal), and a record
// without a job id or state is never taken for a job.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compute/compute_target.h"
#include "compute/slurm_target.h"

namespace {

namespace compute = tarn::compute;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "run_outcome_fuzz: %s\n", what);
  std::abort();
}

void Check(const compute::Observed& o) {
  if (o.state != compute::Observed::State::kEnded) return;
  if (o.reason != "done" && o.reason != "cancelled" && o.reason != "timeout") {
    Fail("an ended run has an unknown reason");
  }
  if (o.exit_code < 0 || o.exit_code > 128 + 255) Fail("an exit code no process can have");
  if (o.signaled && o.exit_code < 128) Fail("a signal's exit code below 128");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Check(compute::ParseOutcome(text));
  compute::Observed job = compute::ParseSlurmJob(text);
  Check(job);
  if (job.state != compute::Observed::State::kLost &&
      (text.find("JobId=") == std::string::npos || text.find("JobState=") == std::string::npos)) {
    Fail("a record without JobId or JobState was taken for a job");
  }
  return 0;
}
