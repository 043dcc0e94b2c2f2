#include "compute/local_target.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/strings.h"

namespace tarn::compute {
namespace {

// Everything the forked supervisor needs, made before fork: after fork only async-signal-safe
// calls are made, since tarnd's other threads may hold locks (malloc's among them).
struct Prepared {
  std::string sh = "/bin/sh";
  std::string script, src_dir, log_path, status_path, status_tmp;
  std::vector<std::string> env_strings;
  std::vector<char*> argv, envp;
  int uid = -1, gid = -1;
  bool own_uid = false;  // the uid is this run's alone: its end may kill all of the uid's
  int64_t timeout_s = 0, grace_s = 10;
  rlim_t memory = RLIM_INFINITY, processes = RLIM_INFINITY;
};

// Writes s (a literal) to fd; for the supervisor's own messages.
void Say(int fd, const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// Decimal text of v into buf (at least 24 bytes), async-signal-safe.
const char* Decimal(long v, char* buf) {
  char tmp[24];
  int i = 0;
  bool neg = v < 0;
  unsigned long u = neg ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
  do {
    tmp[i++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0 && i < 22);
  int j = 0;
  if (neg) buf[j++] = '-';
  while (i > 0) buf[j++] = tmp[--i];
  buf[j] = '\0';
  return buf;
}

[[noreturn]] void Supervise(const Prepared& p) {
  sigset_t none;
  sigemptyset(&none);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);
  // Signals the supervisor takes synchronously: SIGCHLD (the script ended), SIGTERM and friends
  // (cancel), SIGALRM (the time limit, then the grace period).
  sigset_t waited;
  sigemptyset(&waited);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGALRM}) sigaddset(&waited, s);
  sigprocmask(SIG_SETMASK, &waited, nullptr);
  ::setsid();
  // The run's user, before anything of the run: the script, its files, even the log.
  if (p.uid >= 0) {
    gid_t g = static_cast<gid_t>(p.gid);
    if (::setgroups(1, &g) != 0 || ::setgid(g) != 0 || ::setuid(static_cast<uid_t>(p.uid)) != 0 ||
        ::getuid() != static_cast<uid_t>(p.uid) || ::setuid(0) == 0) {
      _exit(125);
    }
  }
  ::umask(027);  // the run's files: its group (other runs) may read them, no one else
  if (::chdir(p.src_dir.c_str()) != 0) _exit(126);
  int log = ::open(p.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0640);
  int null = ::open("/dev/null", O_RDONLY);
  if (log < 0 || null < 0) _exit(126);
  ::dup2(null, 0);
  ::dup2(log, 1);
  ::dup2(log, 2);
  ::close_range(3, ~0U, 0);
  struct rlimit no_core {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);

  pid_t child = ::fork();
  if (child < 0) {
    Say(2, "[tarn] cannot start the run: fork failed\n");
    _exit(126);
  }
  if (child == 0) {
    ::setpgid(0, 0);
    struct rlimit mem {p.memory, p.memory};
    struct rlimit procs {p.processes, p.processes};
    if (p.memory != RLIM_INFINITY) ::setrlimit(RLIMIT_AS, &mem);
    if (p.processes != RLIM_INFINITY) ::setrlimit(RLIMIT_NPROC, &procs);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(p.sh.c_str(), const_cast<char* const*>(p.argv.data()),
             const_cast<char* const*>(p.envp.data()));
    Say(2, "[tarn] cannot run /bin/sh\n");
    _exit(127);
  }
  ::setpgid(child, child);  // both sides set it: no race with the kill below
  if (p.timeout_s > 0) ::alarm(static_cast<unsigned>(p.timeout_s));
  const char* reason = "done";
  bool stopping = false;
  int status = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&waited, &info);
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      if (::waitpid(child, &status, WNOHANG) == child) break;
      continue;
    }
    if (!stopping) {
      reason = sig == SIGALRM ? "timeout" : "cancelled";
      Say(2, sig == SIGALRM ? "\n[tarn] the run's time limit is up: stopping it\n"
                            : "\n[tarn] the run was cancelled: stopping it\n");
      ::kill(-child, SIGTERM);
      stopping = true;
      ::alarm(static_cast<unsigned>(p.grace_s));
    } else if (sig == SIGALRM) {
      ::kill(-child, SIGKILL);
    }
  }
  ::kill(-child, SIGKILL);  // what the script left running in its group
  if (p.own_uid) ::kill(-1, SIGKILL);  // and anywhere else: every process of its uid but this
  char num[24];
  int out = ::open(p.status_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
  if (out >= 0) {
    Say(out, reason);
    if (WIFSIGNALED(status)) {
      Say(out, " signal ");
      Say(out, Decimal(WTERMSIG(status), num));
    } else {
      Say(out, " exit ");
      Say(out, Decimal(WEXITSTATUS(status), num));
    }
    Say(out, "\n");
    ::fsync(out);
    ::close(out);
    ::rename(p.status_tmp.c_str(), p.status_path.c_str());
  }
  _exit(0);
}

// The start time of process pid (field 22 of /proc/<pid>/stat, in clock ticks since boot);
// -1 when there is no such process.
long long StartTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return -1;
  size_t close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return -1;
  }
  int64_t v = 0;
  return ParseInt64(field, &v) ? v : -1;
}

bool ParseHandle(const std::string& handle, pid_t* pid, long long* start) {
  size_t colon = handle.find(':');
  int64_t p = 0, s = 0;
  if (colon == std::string::npos || !ParseInt64(handle.substr(0, colon), &p) ||
      !ParseInt64(handle.substr(colon + 1), &s) || p <= 1) {
    return false;
  }
  *pid = static_cast<pid_t>(p);
  *start = s;
  return true;
}

}  // namespace

StatusOr<RunUser> LookUpRunUser(const std::string& user, const std::string& setting) {
  std::vector<char> buf(16384);
  struct passwd pw {}, *found = nullptr;
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return Error(Reason::kInvalidInput,
                 setting + ": there is no OS user '" + user +
                     "' (create one, e.g. useradd --system --no-create-home tarnrun)");
  }
  if (found->pw_uid == 0) {
    return Error(Reason::kInvalidInput,
                 setting + " must not be root: runs execute as an unprivileged user");
  }
  return RunUser{static_cast<int>(found->pw_uid), static_cast<int>(found->pw_gid)};
}

Observed ParseOutcome(const std::string& text) {
  Observed o;
  std::istringstream in(text);
  std::string reason, kind;
  int64_t n = 0;
  std::string num;
  if (!(in >> reason >> kind >> num) || !ParseInt64(num, &n) ||
      (reason != "done" && reason != "cancelled" && reason != "timeout") ||
      (kind != "exit" && kind != "signal") || n < 0 || n > 255) {
    o.state = Observed::State::kLost;
    return o;
  }
  o.state = Observed::State::kEnded;
  o.reason = reason;
  o.signaled = kind == "signal";
  o.exit_code = static_cast<int>(o.signaled ? 128 + n : n);
  return o;
}

StatusOr<std::unique_ptr<LocalTarget>> LocalTarget::Create(const LocalTargetOptions& opts) {
  std::unique_ptr<LocalTarget> t(new LocalTarget(opts));
  const bool root = ::geteuid() == 0;
  if (!opts.user.empty()) {
    TARN_ASSIGN_OR_RETURN(RunUser found, LookUpRunUser(opts.user, "compute.local.user"));
    if (!root && static_cast<uid_t>(found.uid) != ::geteuid()) {
      return Error(Reason::kInvalidInput,
                   "compute.local.user '" + opts.user + "' needs tarnd to start as root (it "
                   "switches to that user for each run); leave it out to run as tarnd's user");
    }
    if (root) {
      t->uid_ = found.uid;
      t->gid_ = found.gid;
    }
  }
  if (root && t->uid_ < 0) {
    t->refusal_ = Error(Reason::kComputeUnavailable,
                        "tarnd runs as root and compute.local.user names no user, and runs never "
                        "execute as root: create an unprivileged user (useradd --system "
                        "--no-create-home tarnrun) and name it in compute.local.user");
  }
  if (!opts.work_root.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.work_root, ec);
    if (ec) {
      return Error(Reason::kInvalidInput, "cannot make the runs' directory " + opts.work_root +
                                              ": " + ec.message());
    }
    ::chmod(opts.work_root.c_str(), t->uid_ >= 0 ? 0711 : 0700);
    const std::string envs = opts.work_root + "/envs";
    std::filesystem::create_directories(envs, ec);
    const bool shared = t->UidRange().has_value();
    if (t->uid_ >= 0 && ::chown(envs.c_str(), shared ? 0 : t->uid_, t->gid_) != 0) {
      return Error(Reason::kInvalidInput, "cannot give " + envs + " to compute.local.user");
    }
    ::chmod(envs.c_str(), shared ? 02770 : 0700);
    // Every directory above work_root must be searchable by the run user.
    if (t->uid_ >= 0) {
      std::filesystem::path p = std::filesystem::weakly_canonical(opts.work_root, ec);
      for (p = p.parent_path(); !p.empty(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH) &&
            !(st.st_uid == static_cast<uid_t>(t->uid_) && (st.st_mode & S_IXUSR)) &&
            !(st.st_gid == static_cast<gid_t>(t->gid_) && (st.st_mode & S_IXGRP))) {
          t->refusal_ = Error(Reason::kComputeUnavailable,
                              "the runs' directory " + opts.work_root + " is out of reach of "
                              "compute.local.user '" + opts.user + "': " + p.string() +
                              " is not searchable by it. Set compute.local.work_dir to a "
                              "directory such as /var/lib/tarn-runs");
          break;
        }
        if (p == p.root_path()) break;
      }
    }
  }
  if (opts.run_uid_last > 0 &&
      (opts.run_uid_first < 1000 || opts.run_uid_last < opts.run_uid_first)) {
    return Error(Reason::kInvalidInput,
                 "compute.local.run_uids must be a range first-last of unused uids, at least "
                 "1000, such as 200000-209999");
  }
  if (opts.run_uid_last > 0 && t->uid_ < 0 && root) {
    return Error(Reason::kInvalidInput,
                 "compute.local.run_uids needs compute.local.user: its group is the runs' group");
  }
  if (opts.max_concurrent < 1 || opts.max_run_s < 1 || opts.max_memory_mb < 0 ||
      opts.max_processes < 1 || opts.stop_grace_s < 1) {
    return Error(Reason::kInvalidInput,
                 "compute.local: max_concurrent, max_run_s, max_processes and stop_grace_s must "
                 "be at least 1, max_memory_mb at least 0");
  }
  return t;
}

nlohmann::json LocalTarget::Describe() const {
  nlohmann::json d = {{"name", opts_.name},
          {"type", "local"},
          {"available", refusal_.ok()},
          {"max_concurrent", opts_.max_concurrent},
          {"max_run_s", opts_.max_run_s},
          {"max_memory_mb", opts_.max_memory_mb},
          {"max_processes", opts_.max_processes},
          {"run_user", UidRange() ? "a uid of its own per run" : opts_.user}};
  if (!refusal_.ok()) d["why_not"] = refusal_.message();
  return d;
}

StatusOr<std::string> LocalTarget::Start(const Launch& launch) {
  TARN_RETURN_IF_ERROR(refusal_);
  Prepared p;
  p.script = launch.script;
  p.src_dir = launch.src_dir;
  p.log_path = launch.work_dir + "/" + kLogFile;
  p.status_path = launch.work_dir + "/" + kStatusFile;
  p.status_tmp = p.status_path + ".tmp";
  p.env_strings = launch.env;
  p.argv = {p.sh.data(), p.script.data(), nullptr};
  for (auto& e : p.env_strings) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  p.uid = launch.uid >= 0 ? launch.uid : uid_;
  p.gid = launch.gid >= 0 ? launch.gid : gid_;
  p.own_uid = launch.uid >= 0 && UidRange() && launch.uid >= opts_.run_uid_first &&
              launch.uid <= opts_.run_uid_last;
  if (p.uid == 0) return Error(Reason::kComputeUnavailable, "a run never executes as root");
  p.timeout_s = launch.timeout_s > 0 ? std::min(launch.timeout_s, opts_.max_run_s)
                                     : opts_.max_run_s;
  p.grace_s = opts_.stop_grace_s;
  if (opts_.max_memory_mb > 0) p.memory = static_cast<rlim_t>(opts_.max_memory_mb) << 20;
  p.processes = static_cast<rlim_t>(opts_.max_processes);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Error(Reason::kComputeUnavailable,
                 std::string("cannot start the run: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) Supervise(p);
  long long start = -1;
  for (int i = 0; i < 100 && start < 0; ++i) {
    start = StartTime(pid);
    if (start < 0) ::usleep(1000);
  }
  return std::to_string(pid) + ":" + std::to_string(start);
}

Observed LocalTarget::Poll(const std::string& handle, const std::string& work_dir) {
  Observed running;
  pid_t pid = 0;
  long long start = 0;
  auto outcome = [&]() {
    std::ifstream in(work_dir + "/" + kStatusFile);
    std::stringstream text;
    text << in.rdbuf();
    return ParseOutcome(text.str());
  };
  if (!ParseHandle(handle, &pid, &start)) return outcome();
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == 0) return running;     // our child, still supervising
  if (r == pid) return outcome();  // our child, ended
  // Not our child: a run a previous tarnd started.
  if (StartTime(pid) == start && start >= 0) return running;
  return outcome();
}

Status LocalTarget::Cancel(const std::string& handle) {
  pid_t pid = 0;
  long long start = 0;
  if (!ParseHandle(handle, &pid, &start) || StartTime(pid) != start) return Status::Ok();
  ::kill(pid, SIGTERM);  // the supervisor stops the run's process group
  return Status::Ok();
}

}  // namespace tarn::compute
