#!/usr/bin/python3
"""A throw-away single-node Slurm cluster for tests (Debian 12: slurm-wlm 22.05 + munge).

Usage (as root, no systemd, no cgroups needed)::

    with SlurmCluster(base_dir) as c:          # base_dir: an empty temp dir you made
        out = subprocess.run(["sbatch", "--parsable", "--uid=tarnrun", "--gid=tarnrun",
                              "--wrap", "id -u"], env=c.env, ...)

Everything (munge key/socket, slurm.conf, state, spool, logs, pid files) lives in
``base_dir``; munged/slurmctld/slurmd run in the foreground as children of this
process and are all stopped by ``__exit__`` (SIGTERM, then SIGKILL), together with
any slurmstepd/job process they left behind.

Notes found while building this (slurm-wlm 22.05.8, munge 0.5.15):
* There is no ``accounting_storage/filetxt`` in 22.05 (only none/mysql/slurmdbd), so
  ``sacct`` cannot work without slurmdbd+MySQL.  Use ``scontrol show job <id>``
  (ended jobs are kept for ``MinJobAge`` = 3600 s here) -> ``JobState=``/``ExitCode=``,
  or the ``jobcomp/filetxt`` log this cluster writes (``c.job_completion(id)``).
* ``base_dir`` is chmod'ed 0711 so an unprivileged job user can reach a work
  directory below it (munged accepts that: not writable by others).
* Run it as root: ``sbatch --uid=<user> --gid=<group>`` then runs the job as that
  user (``runuser -u <user> -- sbatch ...`` with ``c.env`` works too).  Give the
  job a ``--chdir``/``--output`` directory that user can write (e.g. a dir under
  base_dir chowned to it).
* Start-up takes ~3 s: node is idle after ~0.7 s, but slurmctld only runs its
  first scheduling pass ~3 s after it starts, so start() waits for that;
  afterwards submit->RUNNING is ~0.7-1 s (``batch_sched_delay=0``; the
  controller's background loop ticks once per second).
* ``JobState=CANCELLED`` shows up at once after scancel; the job's processes
  die a moment later (SIGTERM, SIGKILL after KillWait=5 s).
* slurmd logs harmless "mpi/pmix ... can not load PMIx library" errors at start.
* Each instance has a unique ClusterName; job processes carry
  SLURM_CLUSTER_NAME/SLURM_CONF, which stop() uses to kill escaped (setsid)
  job processes after cancelling all jobs and stopping the daemons.

Run ``/usr/bin/python3 tests/compute/slurm_cluster.py`` for a self-test.
"""

import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

__all__ = ["SlurmCluster", "SlurmClusterError"]

DEBIAN_PACKAGES = "slurm-wlm munge"
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
_FINISHED_STATES = {
    "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
    "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT", "REVOKED", "SPECIAL_EXIT",
}


class SlurmClusterError(RuntimeError):
    pass


def _which(name):
    return shutil.which(name, path=_SEARCH_PATH)


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _tail(path, n=30):
    try:
        with open(path, "r", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return "<no %s>" % path
    return "".join(lines[-n:])


def _proc_environ_has(pid, needle):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return needle in f.read().split(b"\0")
    except OSError:
        return False


def _machine_resources():
    """CPUs/topology/RealMemory: prefer `slurmd -C`, fall back to os/proc."""
    info = {}
    try:
        out = subprocess.run([_which("slurmd"), "-C"], capture_output=True,
                             text=True, timeout=20).stdout
        m = re.search(r"^NodeName=.*$", out, re.M)
        if m:
            for k, v in re.findall(r"(\w+)=(\S+)", m.group(0)):
                info[k] = v
    except (OSError, subprocess.SubprocessError):
        pass
    cpus = int(info.get("CPUs") or os.cpu_count() or 1)
    res = {"CPUs": cpus}
    if all(k in info for k in ("SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")):
        res["Boards"] = info.get("Boards", "1")
        res["SocketsPerBoard"] = info["SocketsPerBoard"]
        res["CoresPerSocket"] = info["CoresPerSocket"]
        res["ThreadsPerCore"] = info["ThreadsPerCore"]
    mem_mb = int(info.get("RealMemory") or 0)
    if not mem_mb:
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        mem_mb = int(line.split()[1]) // 1024
        except OSError:
            pass
    # A little below what slurmd detects, so the node is never drained for
    # "Low RealMemory".
    res["RealMemory"] = max(1, int(mem_mb * 0.9))
    return res


class SlurmCluster:
    """Single-node Slurm (slurmctld + slurmd + munged) rooted in base_dir."""

    def __init__(self, base_dir, start_timeout=60.0, stop_timeout=5.0,
                 partition="debug", node_name="tarn-node", min_job_age=3600,
                 extra_conf="", wait_scheduler=True):
        self.base_dir = os.path.abspath(base_dir)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.partition = partition
        self.node_name = node_name
        self.min_job_age = min_job_age
        self.extra_conf = extra_conf
        self.wait_scheduler = wait_scheduler
        # Unique per instance: every job process gets SLURM_CLUSTER_NAME=<it>,
        # which lets stop() find escaped job processes of *this* cluster.
        self.cluster_name = "tarn" + os.urandom(4).hex()
        self.conf_path = os.path.join(self.base_dir, "slurm.conf")
        self.munge_socket = os.path.join(self.base_dir, "munge.socket")
        self.log_dir = os.path.join(self.base_dir, "log")
        self.jobcomp_path = os.path.join(self.log_dir, "jobcomp.txt")
        self.env = None
        self.ctld_port = self.slurmd_port = None
        self.start_seconds = None
        self._procs = []  # (name, Popen) in start order
        self._bins = {}

    # ------------------------------------------------------------------ helpers
    def path(self, *parts):
        return os.path.join(self.base_dir, *parts)

    def run(self, args, check=True, timeout=30, **kw):
        """Run a Slurm client command (sbatch, squeue, ...) against this cluster."""
        r = subprocess.run(args, env=self.env, capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise SlurmClusterError("%s failed (rc=%d): %s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def job_info(self, job_id):
        """`scontrol show job -o <id>` parsed into a dict ({} if unknown)."""
        r = self.run(["scontrol", "show", "job", "-o", str(job_id)], check=False)
        if r.returncode != 0:
            return {}
        return dict(re.findall(r"(\w+)=(\S*)", r.stdout))

    def job_state(self, job_id):
        return self.job_info(job_id).get("JobState")

    def job_completion(self, job_id):
        """The jobcomp/filetxt record of a finished job, as a dict (or None)."""
        try:
            with open(self.jobcomp_path) as f:
                lines = f.readlines()
        except OSError:
            return None
        for line in reversed(lines):
            rec = dict(re.findall(r"(\w+)=(\S*)", line))
            if rec.get("JobId") == str(job_id):
                return rec
        return None

    def wait_job(self, job_id, timeout=60.0, poll=0.2):
        """Wait until the job reaches a final state; return its scontrol info."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.job_info(job_id)
            if info.get("JobState") in _FINISHED_STATES:
                return info
            time.sleep(poll)
        raise SlurmClusterError("job %s not finished after %ss" % (job_id, timeout))

    def logs(self):
        return "\n".join("==> %s <==\n%s" % (n, _tail(os.path.join(self.log_dir, n)))
                         for n in sorted(os.listdir(self.log_dir))) \
            if os.path.isdir(self.log_dir) else ""

    # -------------------------------------------------------------- lifecycle
    def _check_binaries(self):
        missing = []
        for name in ("munged", "slurmctld", "slurmd", "sbatch", "sinfo",
                     "squeue", "scontrol", "scancel"):
            p = _which(name)
            if p is None:
                missing.append(name)
            self._bins[name] = p
        if missing:
            raise SlurmClusterError(
                "missing %s; install the Debian packages: apt-get install -y %s"
                % (", ".join(missing), DEBIAN_PACKAGES))
        if os.geteuid() != 0:
            raise SlurmClusterError("SlurmCluster must run as root (SlurmUser=root)")

    def _write_files(self):
        if not os.path.isdir(self.base_dir):
            raise SlurmClusterError("base_dir %s does not exist" % self.base_dir)
        # Reachable (not listable/writable) by job users; munged wants its socket
        # directory not writable by others.
        os.chmod(self.base_dir, 0o711)
        for d in ("state", "spool", "log", "run"):
            os.makedirs(self.path(d), exist_ok=True)
            os.chmod(self.path(d), 0o755)
        key = self.path("munge.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)

        self.ctld_port = _free_port()
        self.slurmd_port = _free_port()
        while self.slurmd_port == self.ctld_port:
            self.slurmd_port = _free_port()
        res = _machine_resources()
        node = " ".join("%s=%s" % kv for kv in res.items())
        host = socket.gethostname().split(".")[0]
        b = self.base_dir
        conf = f"""\
# Generated by tests/compute/slurm_cluster.py
ClusterName={self.cluster_name}
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={b}/state
SlurmdSpoolDir={b}/spool
SlurmctldPidFile={b}/run/slurmctld.pid
SlurmdPidFile={b}/run/slurmd.pid
SlurmctldLogFile={b}/log/slurmctld.log
SlurmdLogFile={b}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig={b}/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp_path}
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge={self.min_job_age}
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
Waittime=0
NodeName={self.node_name} NodeAddr=127.0.0.1 NodeHostname=localhost {node} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node_name} Default=YES MaxTime=INFINITE State=UP
{self.extra_conf}
"""
        with open(self.conf_path, "w") as f:
            f.write(conf)
        os.chmod(self.conf_path, 0o644)
        # Empty plugstack so /etc/slurm/plugstack.conf(.d) does not leak in.
        with open(self.path("plugstack.conf"), "w") as f:
            f.write("")
        os.chmod(self.path("plugstack.conf"), 0o644)

        env = dict(os.environ)
        env["SLURM_CONF"] = self.conf_path
        env["PATH"] = _SEARCH_PATH
        for k in list(env):  # don't let a surrounding Slurm job/config leak in
            if k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_")) \
                    and k != "SLURM_CONF":
                del env[k]
        self.env = env

    def _spawn(self, name, args):
        out = open(os.path.join(self.log_dir, name + ".out"), "ab")
        # The marker is inherited by slurmstepd, so stop() can find leftovers
        # even of jobs submitted with --export=NONE.
        env = dict(self.env, TARN_SLURM_CLUSTER=self.base_dir)
        try:
            p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
        finally:
            out.close()
        self._procs.append((name, p))
        return p

    def _wait_for(self, what, pred, deadline):
        while True:
            for name, p in self._procs:
                if p.poll() is not None:
                    raise SlurmClusterError("%s exited (rc=%s) while waiting for %s\n%s"
                                            % (name, p.returncode, what, self.logs()))
            if pred():
                return
            if time.monotonic() > deadline:
                raise SlurmClusterError("timed out waiting for %s\n%s" % (what, self.logs()))
            time.sleep(0.2)

    def start(self):
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        self._check_binaries()
        self._write_files()
        b = self.base_dir
        self._spawn("munged", [
            self._bins["munged"], "--foreground", "--force",
            "--key-file=" + self.path("munge.key"),
            "--socket=" + self.munge_socket,
            "--pid-file=" + self.path("run", "munged.pid"),
            "--log-file=" + self.path("log", "munged.log"),
            "--seed-file=" + self.path("run", "munged.seed"),
            "--num-threads=4"])
        self._wait_for("munge socket", lambda: os.path.exists(self.munge_socket), deadline)
        # -D foreground, -i ignore state errors, -c clean start (no old state).
        self._spawn("slurmctld", [self._bins["slurmctld"], "-D", "-c", "-i",
                                  "-f", self.conf_path])

        def ctld_up():
            r = self.run(["scontrol", "ping"], check=False)
            return r.returncode == 0 and "UP" in r.stdout
        self._wait_for("slurmctld", ctld_up, deadline)
        self._spawn("slurmd", [self._bins["slurmd"], "-D", "-N", self.node_name,
                               "-f", self.conf_path])

        def node_idle():
            r = self.run(["sinfo", "-h", "-N", "-n", self.node_name, "-o", "%t"],
                         check=False)
            return r.returncode == 0 and r.stdout.strip() == "idle"
        self._wait_for("node %s idle" % self.node_name, node_idle, deadline)
        if self.wait_scheduler:
            # slurmctld runs its first scheduling pass ~3 s after start; a job
            # submitted before then waits for it.  Its first pass logs the
            # SchedulerParameters line; wait for that (bounded, best effort).
            log = os.path.join(self.log_dir, "slurmctld.log")

            def sched_ready():
                try:
                    with open(log, errors="replace") as f:
                        return "SchedulerParameters=" in f.read()
                except OSError:
                    return False
            self._wait_for("first scheduling pass", lambda: sched_ready() or
                           time.monotonic() > t0 + 10, deadline)
        self.start_seconds = time.monotonic() - t0
        return self

    def _cancel_all_jobs(self):
        r = self.run(["squeue", "-h", "-o", "%i"], check=False, timeout=10)
        ids = r.stdout.split() if r.returncode == 0 else []
        if not ids:
            return
        self.run(["scancel"] + ids, check=False, timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = self.run(["squeue", "-h", "-o", "%i"], check=False, timeout=10)
            if r.returncode != 0 or not r.stdout.strip():
                return
            time.sleep(0.2)

    def _stragglers(self):
        """slurmstepd / job processes carrying our SLURM_CONF or marker in their env."""
        needles = (("SLURM_CONF=" + self.conf_path).encode(),
                   ("TARN_SLURM_CLUSTER=" + self.base_dir).encode(),
                   ("SLURM_CLUSTER_NAME=" + self.cluster_name).encode())
        me = os.getpid()
        found = []
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) != me and any(
                    _proc_environ_has(int(d), n) for n in needles):
                found.append(int(d))
        return found

    def stop(self):
        try:
            if self.env and any(n == "slurmctld" and p.poll() is None
                                for n, p in self._procs):
                self._cancel_all_jobs()
        except Exception:
            pass
        # slurmd, slurmctld first (reverse start order), munged last.
        for name, p in reversed(self._procs):
            if p.poll() is None:
                try:
                    p.terminate()
                except ProcessLookupError:
                    pass
            try:
                p.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        self._procs = []
        if self.env:
            for _ in range(3):
                pids = self._stragglers()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.3)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False


# ---------------------------------------------------------------- self-test
def _ensure_user(name="tarnrun"):
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", name], check=True)
        pw = pwd.getpwnam(name)
    return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid


def _job_pids(job_id):
    """Live (non-zombie) processes whose environment has SLURM_JOB_ID=<job_id>."""
    needle = ("SLURM_JOB_ID=%s" % job_id).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or not _proc_environ_has(int(d), needle):
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        pids.append(int(d))
    return pids


def _self_test():
    failures = []

    def check(cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            failures.append(msg)

    user, group, uid = _ensure_user()
    base = tempfile.mkdtemp(prefix="tarn-slurm-")
    try:
        with SlurmCluster(base) as c:
            print("cluster started in %.2fs (ctld port %d, slurmd port %d)"
                  % (c.start_seconds, c.ctld_port, c.slurmd_port))
            print(c.run(["sinfo"]).stdout.rstrip())
            work = c.path("work")
            os.makedirs(work)
            os.chown(work, uid, -1)
            out = os.path.join(work, "job-%j.out")

            # 1. tiny job as the unprivileged user
            t0 = time.monotonic()
            r = c.run(["sbatch", "--parsable", "--uid=" + user, "--gid=" + group,
                       "--chdir=" + work, "--output=" + out, "--job-name=idjob",
                       "--wrap", "id -u; pwd; exit 3"])
            jid = r.stdout.strip().split(";")[0]
            t_running = None
            while True:
                st = c.run(["squeue", "-h", "-j", jid, "-o", "%T"], check=False).stdout.strip()
                if st == "RUNNING" and t_running is None:
                    t_running = time.monotonic() - t0
                if not st:
                    break
                if time.monotonic() - t0 > 60:
                    check(False, "job %s finished within 60s" % jid)
                    break
                time.sleep(0.05)
            t_done = time.monotonic() - t0
            info = c.wait_job(jid, timeout=30)
            print("job %s: submit->running %s, submit->gone %.2fs" % (
                jid, "%.2fs" % t_running if t_running is not None else "n/a (too fast)",
                t_done))
            print(c.run(["scontrol", "show", "job", jid]).stdout.rstrip())
            check(info.get("JobState") == "FAILED", "JobState=FAILED (script exit 3): %s"
                  % info.get("JobState"))
            check(info.get("ExitCode") == "3:0", "ExitCode=3:0: %s" % info.get("ExitCode"))
            check(info.get("UserId", "").startswith(user + "("), "UserId=%s" % info.get("UserId"))
            outfile = out.replace("%j", jid)
            text = open(outfile).read() if os.path.exists(outfile) else ""
            print("output file:", repr(text))
            check(text.split() == [str(uid), work], "job ran as uid %d in %s" % (uid, work))
            check(os.stat(outfile).st_uid == uid if text else False, "output owned by %s" % user)
            comp = c.job_completion(jid)
            print("jobcomp/filetxt:", comp)
            check(comp is not None and comp.get("ExitCode") == "3:0" and comp.get("JobState") == "FAILED",
                  "jobcomp record has ExitCode=3")
            sa = c.run(["sacct", "-n", "-P", "-j", jid, "-o", "JobID,State,ExitCode"],
                       check=False)
            print("sacct rc=%d: %s%s" % (sa.returncode, sa.stdout.strip(), sa.stderr.strip()))

            # 2. successful job
            r = c.run(["sbatch", "--parsable", "--uid=" + user, "--gid=" + group,
                       "--chdir=" + work, "--output=/dev/null", "--wrap", "true"])
            jid_ok = r.stdout.strip()
            info = c.wait_job(jid_ok, timeout=30)
            check(info.get("JobState") == "COMPLETED" and info.get("ExitCode") == "0:0",
                  "job %s COMPLETED 0:0: %s %s" % (jid_ok, info.get("JobState"),
                                                   info.get("ExitCode")))

            # 3. sleep 300 + scancel
            t0 = time.monotonic()
            r = c.run(["sbatch", "--parsable", "--uid=" + user, "--gid=" + group,
                       "--chdir=" + work, "--output=/dev/null", "--wrap", "sleep 300"])
            jid2 = r.stdout.strip()
            while c.job_state(jid2) != "RUNNING" and time.monotonic() - t0 < 30:
                time.sleep(0.05)
            lat = time.monotonic() - t0
            check(c.job_state(jid2) == "RUNNING", "job %s RUNNING after %.2fs" % (jid2, lat))
            c.run(["scancel", jid2])
            info = c.wait_job(jid2, timeout=30)
            check(info.get("JobState") == "CANCELLED", "job %s CANCELLED: %s" % (
                jid2, info.get("JobState")))
            print("scancel: state=%s ExitCode=%s" % (info.get("JobState"), info.get("ExitCode")))
            t0 = time.monotonic()
            while _job_pids(jid2) and time.monotonic() - t0 < 15:
                time.sleep(0.1)
            sleepers = _job_pids(jid2)
            check(not sleepers, "no process of cancelled job left after %.2fs: %s"
                  % (time.monotonic() - t0, sleepers))

            # 4. a job still running at exit, with an escaped (setsid) child and
            #    --export=NONE; __exit__ must kill all of it.
            r = c.run(["sbatch", "--parsable", "--uid=" + user, "--gid=" + group,
                       "--export=NONE", "--chdir=" + work,
                       "--output=" + os.path.join(work, "left-%j.out"), "--wrap",
                       "env | grep -E '^SLURM_(CONF|CLUSTER_NAME)=' ; "
                       "setsid sleep 301 </dev/null >/dev/null 2>&1 & sleep 302"])
            jid3 = r.stdout.strip()
            t0 = time.monotonic()
            while c.job_state(jid3) != "RUNNING" and time.monotonic() - t0 < 30:
                time.sleep(0.05)
            left_out = os.path.join(work, "left-%s.out" % jid3)
            while time.monotonic() - t0 < 30:
                if os.path.exists(left_out) and "SLURM_CLUSTER_NAME" in open(left_out).read():
                    break
                time.sleep(0.1)
            time.sleep(0.5)
            env_lines = open(left_out).read().split() if os.path.exists(left_out) else []
            print("job %s env:" % jid3, env_lines)
            check("SLURM_CLUSTER_NAME=" + c.cluster_name in env_lines,
                  "job env carries SLURM_CLUSTER_NAME (even with --export=NONE)")
            left_job = _job_pids(jid3)
            check(len(left_job) >= 3, "job %s processes running before exit: %s" % (jid3, left_job))
            procs = [p.pid for _, p in c._procs]
            t_stop = time.monotonic()
        print("cluster stopped in %.2fs" % (time.monotonic() - t_stop))
        gone = [p for p in _job_pids(jid3) if p in left_job]
        check(not gone, "job %s processes gone after exit: %s" % (jid3, gone))
        alive = [p for p in procs if os.path.exists("/proc/%d" % p)]
        check(not alive, "all daemons stopped: %s" % alive)
        left = [d for d in os.listdir("/proc") if d.isdigit() and
                _proc_environ_has(int(d), ("SLURM_CONF=%s/slurm.conf" % base).encode())]
        check(not left, "no stragglers: %s" % left)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        check(False, "exception: %r" % e)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("PASSED" if not failures else "FAILED: %d check(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(_self_test())
