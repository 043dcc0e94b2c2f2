#!/usr/bin/python3
"""Submit-to-first-log-line latency of runs (issue 14, section 5), on the `local` target and on
a real single-node Slurm cluster, each beside its peer run the same way without Tarn:

- local: tarn.core's exp.submit of a script that prints one line, until that line is in the
  run's log (GET jobs/<id>/logs, polled every 20 ms); the peer starts the same interpreter on
  the same script directly (subprocess) and reads its first line.
- slurm: the same submission to the `slurm` target; the peer is `sbatch` of the same script
  with --output to a file, polled every 20 ms.

    /usr/bin/python3 bench/run_bench.py [--runs 10] [--out docs/benchmarks-runs.md] [--quick]

It starts its own Slurm cluster (tests/compute/slurm_cluster.py) and tarnd (the tests'
harness), and stops both. Figures are medians and 90th percentiles of --runs submissions.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests' harness: tests/sdk's conftest puts tests/conformance on the path itself.
sys.path.insert(0, str(ROOT / "tests" / "compute"))
sys.path.insert(0, str(ROOT / "tests" / "sdk"))
from slurm_cluster import SlurmCluster  # noqa: E402
from test_submit import make_lab, serve_compute  # noqa: E402

SCRIPT = "print('first line', flush=True)\n"
POLL_S = 0.02


def first_line_via_tarn(lab, exp, src, compute):
    from tarn.core import ScriptRunConfig
    ws = lab.ws
    t0 = time.monotonic()
    run = exp.submit(ScriptRunConfig(src, "first.py", compute_target=compute))
    while True:
        page = ws._client.workspace_api("GET", ws.name, f"jobs/{run.id}/logs", None,
                                        {"offset": "0"})
        if "first line" in page["text"]:
            took = time.monotonic() - t0
            break
        if time.monotonic() - t0 > 120:
            raise RuntimeError(f"run {run.id} printed nothing in 120 s")
        time.sleep(POLL_S)
    run.wait_for_completion()
    return took


def first_line_direct(src):
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/python3", "-u", "first.py"], cwd=src, stdout=subprocess.PIPE,
                         text=True)
    p.stdout.readline()
    took = time.monotonic() - t0
    p.wait()
    return took


def first_line_sbatch(cluster, src, user):
    out = Path(src) / f"sbatch-{time.monotonic_ns()}.out"
    args = ["sbatch", "--parsable", f"--chdir={src}", f"--output={out}", "--time=5"]
    if user:
        args += [f"--uid={user}", f"--gid={user}"]
    t0 = time.monotonic()
    subprocess.run(args + ["--wrap", "/usr/bin/python3 -u first.py"], env=cluster.env,
                   check=True, capture_output=True, timeout=60)
    while not (out.exists() and "first line" in out.read_text()):
        if time.monotonic() - t0 > 120:
            raise RuntimeError("sbatch printed nothing in 120 s")
        time.sleep(POLL_S)
    return time.monotonic() - t0


def summary(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, nproc {os.cpu_count()}, {mem:.1f} GiB, kernel {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="2 runs each: completion only")
    ap.add_argument("--out", help="write the results as markdown here")
    args = ap.parse_args()
    runs = 2 if args.quick else args.runs
    from tarn.core import Experiment
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tarnd").mkdir()
        cluster_dir = tempfile.mkdtemp(prefix="tarn-slurm-bench-")
        try:
            with SlurmCluster(cluster_dir) as cluster, \
                    serve_compute(Path(tmp) / "tarnd",
                                  slurm_conf=cluster.path("slurm.conf")) as srv:
                lab = make_lab(srv)
                exp = Experiment(lab.ws, "latency")
                # A directory the run user can read, for the peers as for the runs.
                src = tempfile.mkdtemp(prefix="tarn-bench-src-", dir=cluster_dir)
                os.chmod(src, 0o777)
                Path(src, "first.py").write_text(SCRIPT)
                for name, tarn, peer in (
                        ("local", lambda: first_line_via_tarn(lab, exp, src, "local"),
                         lambda: first_line_direct(src)),
                        ("slurm", lambda: first_line_via_tarn(lab, exp, src, "slurm"),
                         lambda: first_line_sbatch(cluster, src, srv.run_user))):
                    t, p = [], []
                    for _ in range(runs):  # interleaved, so both see the same machine
                        t.append(tarn())
                        p.append(peer())
                    results[name] = (summary(t), summary(p))
        finally:
            subprocess.run(["rm", "-rf", cluster_dir], check=False)
    lines = [
        "| target | Tarn: submit to first log line, median (p90) | peer, median (p90) | "
        "Tarn / peer |",
        "|---|---|---|---|"]
    peers = {"local": "the interpreter started directly", "slurm": "`sbatch` directly"}
    for name, ((tm, tp), (pm, pp)) in results.items():
        lines.append(f"| {name} | {tm * 1000:.0f} ms ({tp * 1000:.0f} ms) | {peers[name]}: "
                     f"{pm * 1000:.0f} ms ({pp * 1000:.0f} ms) | {tm / pm:.1f}x |")
    table = "\n".join(lines)
    print(table)
    if args.out and not args.quick:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        Path(args.out).write_text(
            "# Runs: submit to first log line\n\n"
            f"`/usr/bin/python3 bench/run_bench.py --runs {runs} --out {args.out}` at commit "
            f"{commit}, on {machine()}. {runs} submissions per target, interleaved with the "
            "peer's; the script prints one line. Tarn's figure includes sending the snapshot, "
            "creating the MLflow run, writing the run's directory, starting its supervisor as "
            "the run's own uid, and the client's log poll (every 20 ms).\n\n" + table + "\n")


if __name__ == "__main__":
    main()
