// ComputeTarget: where a submitted run executes. tarnd's own runner (LocalTarget) is the first;
// a cluster scheduler (Slurm) follows behind the same interface, and Kubernetes or Ray after it.
//
// Contract
// - Start launches the run prepared in Launch::work_dir and returns the handle the target knows
//   it by. The JobService keeps the handle in the run's record, so a tarnd that restarts finds
//   its runs again: Poll and Cancel work on a handle from before a restart.
// - A run outlives the client that submitted it, and tarnd too: stopping tarnd does not stop
//   runs; the next tarnd reconciles them (Poll).
// - The run leaves its outcome in <work_dir>/status (Outcome, written by the target's
//   supervisor) and its output in <work_dir>/logs/std_log.txt.
// - Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::compute {

struct Launch {
  std::string run_id;
  std::string work_dir;          // the run's directory, made and owned for the run
  std::string src_dir;           // its working directory (the snapshot)
  std::string script;            // the launch script (job_spec.h's LaunchScript)
  std::vector<std::string> env;  // "NAME=value": all the environment the run gets
  int64_t timeout_s = 0;         // after this the run is stopped (0: the target's limit)
  int uid = -1, gid = -1;        // the run's own user (UidRange), or -1: the target's
};

// What became of a run.
struct Observed {
  enum class State { kRunning, kEnded, kLost };
  State state = State::kRunning;
  // kEnded: why ("done", "cancelled", "timeout") and how the script ended: its exit code, or
  // 128 + the signal that ended it.
  std::string reason;
  int exit_code = -1;
  bool signaled = false;
};

// The run's outcome file, as the supervisor writes it ("done exit 0", "timeout signal 15").
inline constexpr char kStatusFile[] = "status";
inline constexpr char kLogFile[] = "logs/std_log.txt";
// Parses an outcome file's text; kLost when it is not one.
Observed ParseOutcome(const std::string& text);

// The uid and gid of OS user `user`, who runs execute as: kInvalidInput naming `setting` (the
// configuration key) for an unknown user or root.
struct RunUser {
  int uid = -1, gid = -1;
};
StatusOr<RunUser> LookUpRunUser(const std::string& user, const std::string& setting);

class ComputeTarget {
 public:
  virtual ~ComputeTarget() = default;
  virtual const std::string& Name() const = 0;
  // {"name", "type", and the target's limits}: what GET /workspaces/<ws>/computes shows.
  virtual nlohmann::json Describe() const = 0;
  // Ok when the target can take runs; otherwise why not and what to change.
  virtual Status Available() const = 0;
  // How many runs may run at once; the JobService queues the rest.
  virtual int Capacity() const = 0;
  // The OS user runs execute as (uid, gid), to own what is made for them; -1 when runs execute
  // as tarnd's own user.
  virtual int RunUid() const = 0;
  virtual int RunGid() const = 0;
  // When set, each run gets a uid of its own from [first, last] (with RunGid as its group), so
  // that runs of different submitters cannot read each other's processes, tokens or files.
  virtual std::optional<std::pair<int, int>> UidRange() const { return std::nullopt; }
  virtual StatusOr<std::string> Start(const Launch& launch) = 0;
  virtual Observed Poll(const std::string& handle, const std::string& work_dir) = 0;
  virtual Status Cancel(const std::string& handle) = 0;
};

}  // namespace tarn::compute
