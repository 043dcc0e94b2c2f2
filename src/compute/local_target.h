// LocalTarget: tarnd's own runner. Each run is a process tree on this machine:
//
//   tarnd ── supervisor (new session, the run's user) ── /bin/sh launch script ── python ...
//
// The supervisor drops to the configured unprivileged user before anything of the run executes,
// applies the limits, starts the script in a process group of its own, and waits. It stops the
// group (SIGTERM, then SIGKILL after a grace period) when the run is cancelled (tarnd sends it
// SIGTERM) or its time is up, then writes the outcome file. It is in a session of its own, so
// the run continues when tarnd stops; a later tarnd polls it by pid and start time.
//
// Contract
// - Runs never execute as root. Create refuses an unknown or root `user`, and a `user` other
//   than tarnd's own when tarnd is not root. When tarnd runs as root without a `user`, or the
//   user cannot reach work_root, the target is not Available and says what to configure.
// - Create makes work_root (searchable, not listable, by the run user) and its envs/ (built
//   environments): owned by the run user, or with per-run uids (run_uid_first..last) by root
//   and the run user's group, group-writable, so that runs share environments read-only.
// - With per-run uids, a run's end kills every process of its uid, also those that left its
//   process group.
// - Limits: address space (max_memory_mb; 0: none), processes of the run's user
//   (max_processes), open files, no core files, and wall time (the run's timeout, at most
//   max_run_s).
// - Start forks only async-signal-safe code: everything is prepared before fork.
// - Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "compute/compute_target.h"

namespace tarn::compute {

struct LocalTargetOptions {
  std::string name = "local";
  std::string user;             // the OS user runs execute as
  std::string work_root;        // runs' directories (JobOptions::work_root)
  // Each run's own uid, from this range (tarnd as root, with `user` naming their group); 0, 0:
  // every run is `user`.
  int run_uid_first = 0, run_uid_last = 0;
  int max_concurrent = 2;
  int64_t max_run_s = 24 * 3600;
  int64_t max_memory_mb = 16384;
  int64_t max_processes = 1024;
  int64_t stop_grace_s = 10;    // between SIGTERM and SIGKILL
};

class LocalTarget final : public ComputeTarget {
 public:
  static StatusOr<std::unique_ptr<LocalTarget>> Create(const LocalTargetOptions& opts);

  const std::string& Name() const override { return opts_.name; }
  nlohmann::json Describe() const override;
  Status Available() const override { return refusal_; }
  int Capacity() const override { return opts_.max_concurrent; }
  int RunUid() const override { return uid_; }
  int RunGid() const override { return gid_; }
  std::optional<std::pair<int, int>> UidRange() const override {
    if (opts_.run_uid_last <= 0 || uid_ < 0) return std::nullopt;
    return std::pair<int, int>{opts_.run_uid_first, opts_.run_uid_last};
  }
  StatusOr<std::string> Start(const Launch& launch) override;
  Observed Poll(const std::string& handle, const std::string& work_dir) override;
  Status Cancel(const std::string& handle) override;

 private:
  explicit LocalTarget(LocalTargetOptions opts) : opts_(std::move(opts)) {}

  LocalTargetOptions opts_;
  int uid_ = -1, gid_ = -1;  // -1: tarnd's own
  Status refusal_;
};

}  // namespace tarn::compute
