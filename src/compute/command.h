// RunCommand: runs a program (posix_spawn, safe from tarnd's many threads) with exactly the
// given arguments and environment, no shell, and collects what it prints. For the cluster
// scheduler's commands (sbatch, scontrol, scancel).
//
// Contract
// - argv[0] is the program: an absolute path, or a name looked up in PATH of `env` (or of
//   tarnd's environment when env is empty).
// - Output (stdout and stderr together) is kept up to 1 MiB. The command is killed after
//   timeout_s and the result says so.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::compute {

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal (or the timeout)
  bool timed_out = false;
  std::string output;
};

StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env, int timeout_s = 30);

}  // namespace tarn::compute
