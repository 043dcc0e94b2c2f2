// SlurmTarget: a Slurm cluster attached as a compute target. A run is one batch job:
//
//   sbatch --uid <run user> --chdir <snapshot> --output <run's log> --time <limit> slurm.sh
//
// where slurm.sh runs the launch script and leaves the outcome file. The run's directory must be
// on a filesystem the cluster's nodes share with tarnd (one node: the same disk).
//
// Contract
// - Start submits with `sbatch --parsable` and returns "slurm:<job id>". Jobs run as the
//   configured run user (never root: Create refuses root, and a missing user when tarnd runs
//   as root), with the run's environment exported to the job and nothing else.
// - Poll asks `scontrol show job` (the controller keeps ended jobs for MinJobAge); a job the
//   controller no longer knows is ended from the outcome file the job left, and lost without
//   one. Slurm's accounting (`sacct`) needs slurmdbd; it is not required.
// - Cancel runs `scancel`. The time limit is Slurm's own (--time, in whole minutes).
// - Commands run with SLURM_CONF set to `slurm_conf` when given.
// - Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "compute/compute_target.h"

namespace tarn::compute {

struct SlurmTargetOptions {
  std::string name = "slurm";
  std::string user;        // the OS user jobs run as
  std::string slurm_conf;  // "" : Slurm's default (/etc/slurm/slurm.conf)
  std::string partition;   // "" : the cluster's default partition
  std::string bin_dir;     // where sbatch, scontrol and scancel are ("" : PATH)
  int max_concurrent = 64;
  int64_t max_run_s = 24 * 3600;
};

class SlurmTarget final : public ComputeTarget {
 public:
  static StatusOr<std::unique_ptr<SlurmTarget>> Create(const SlurmTargetOptions& opts);

  const std::string& Name() const override { return opts_.name; }
  nlohmann::json Describe() const override;
  Status Available() const override { return refusal_; }
  int Capacity() const override { return opts_.max_concurrent; }
  int RunUid() const override { return uid_; }
  int RunGid() const override { return gid_; }
  StatusOr<std::string> Start(const Launch& launch) override;
  Observed Poll(const std::string& handle, const std::string& work_dir) override;
  Status Cancel(const std::string& handle) override;

 private:
  explicit SlurmTarget(SlurmTargetOptions opts) : opts_(std::move(opts)) {}
  std::string Bin(const char* tool) const;
  std::vector<std::string> Env(std::vector<std::string> env) const;

  SlurmTargetOptions opts_;
  int uid_ = -1, gid_ = -1;
  Status refusal_;
};

// The state and exit code of `scontrol show job -o` output ("JobState=FAILED ... ExitCode=3:0"):
// kRunning for a job not yet ended, kLost for text that is not one job's record.
Observed ParseSlurmJob(const std::string& text);

}  // namespace tarn::compute
