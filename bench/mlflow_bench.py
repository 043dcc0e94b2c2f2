#!/usr/bin/env python3
"""MLflow tracking: tarnd's MLflow-compatible API side by side with MLflow's own server, in one run:

  log_batch  MlflowClient.log_batch of 1,000 metrics (100 keys x 10 steps), repeated (50 times),
             batch by batch alternating the servers. Target: tarnd >= 10x.
  load       single log_metric calls from 16 concurrent clients: a raw HTTP load generator, 16
             processes each with one keep-alive connection POSTing runs/log-metric bodies
             ({run_id, key, value, timestamp, step}) to a run of its own for a fixed time;
             requests/s. Target: tarnd >= 10x. Also (no target) the same through the mlflow
             client itself, MlflowClient.log_metric from 16 threads of one process.
  search     MlflowClient.search_runs over 10,000 runs with "metrics.m > 0.5", every page of
             max_results 1000 (the runs are populated first, untimed, over raw HTTP).
             Target: tarnd >= 10x.
  history    MlflowClient.get_metric_history of one key with 100,000 points (populated first with
             log_batch). Target: tarnd >= 10x.
  artifacts  MlflowClient.log_artifact of a 1 GiB file and download_artifacts of it, MB/s each
             way. Target: tarnd >= 2x.

    .venv/bin/python bench/mlflow_bench.py [--only log_batch load search history artifacts]
                                           [--sides tarnd mlflow] [--out FILE | --write-docs]
                                           [--quick]

Run it with the project's virtual environment (scripts/bootstrap.sh makes .venv): it needs the
real mlflow, for the peer server and for the client. Both servers are started here, on 127.0.0.1,
in a temporary directory, and always stopped, with every process this script starts (also on
Ctrl-C, SIGTERM and errors):
  * tarnd, by the conformance harness (tests/conformance/tarn_harness.py) through the MLflow
    tests' fixture (tests/mlflow/conftest.py, TarnWorld): a workspace whose default datastore is
    one of tarnd's own filesystems (artifacts go to the lake), a service principal with the
    workspace role "AzureML Data Scientist" and a bearer token for https://ml.azure.com. The
    client talks HTTPS to https://127.0.0.1:<port>/workspaces/<ws>/mlflow with
    MLFLOW_TRACKING_TOKEN and MLFLOW_TRACKING_SERVER_CERT_PATH, as a user would.
  * `mlflow server` (MLflow's defaults: uvicorn, 4 workers) with a SQLite backend store and local
    artifacts served by the server (--serve-artifacts), plain HTTP, no auth.
log_batch, search, history and artifacts also send the same requests over raw HTTP (http.client,
no mlflow objects made): the servers' share, without targets, and how much of each figure is the
mlflow client's own work. Every phase (a setup, 2,000 of the runs to search, a round on one
server) is bounded by --phase-timeout; a phase that fails or overruns is reported with the exact
error and the other phases go on; the exit status is 1 if any phase failed. Every workload
checks what it got (metric counts, search hits, history length and steps, artifact bytes) on
both servers. --quick runs tiny sizes (under 2 minutes) and asserts only that both servers
answer correctly (for CI); it judges no performance.
"""
import argparse
import contextlib
import datetime
import hashlib
import http.client
import importlib.util
import json
import os
import platform
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "benchmarks-mlflow.md"
WORKLOADS = ["log_batch", "load", "search", "history", "artifacts"]
SIDES = ["tarnd", "mlflow"]
LABEL = {"tarnd": "tarnd", "mlflow": "MLflow server"}
PEER_START_TIMEOUT = 180  # mlflow server imports a lot and migrates its SQLite database
KEYS_PER_BATCH = 100  # log_batch: 100 keys x (batch size / 100) steps
SEARCH_CHUNK = 2000  # runs populated per phase (the peer makes about 20 a second)
HISTORY_PAGE = 25000  # what the mlflow client asks get-history for (GET_METRIC_HISTORY_MAX_RESULTS)

# ----- the load generator's worker (a process of its own; only the standard library) -----------


def load_worker(spec_json):
    """One client of the load workload: a keep-alive connection, one warm-up request, "ready" on
    stdout, then, after "go" on stdin, runs/log-metric POSTs for spec.seconds. Prints one JSON
    line: completed (200) requests, errors, the first failing request and response, latencies."""
    s = json.loads(spec_json)
    if s["tls"]:
        ctx = ssl.create_default_context(cafile=s["ca"])
        conn = http.client.HTTPSConnection(s["host"], s["port"], context=ctx, timeout=60)
    else:
        conn = http.client.HTTPConnection(s["host"], s["port"], timeout=60)
    headers = {"Content-Type": "application/json"}
    if s["token"]:
        headers["Authorization"] = "Bearer " + s["token"]
    path = s["prefix"] + "/api/2.0/mlflow/runs/log-metric"
    out = {"ok": 0, "errors": 0, "first_error": None, "lat_us": [], "reconnects": 0}

    def post(key, step):
        body = json.dumps({"run_id": s["run_id"], "key": key, "value": step * 0.5,
                           "timestamp": int(time.time() * 1000), "step": step})
        if conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            # The server closed the idle keep-alive connection (uvicorn does after 5 s): open a
            # new one, as urllib3 does before reusing a pooled connection.
            conn.close()
            out["reconnects"] += 1
        try:
            conn.request("POST", path, body, headers)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            out["reconnects"] += 1
            return None, f"{type(e).__name__}: {e}", body
        return r.status, data.decode("utf-8", "replace"), body

    status, data, body = post("warmup", 0)
    if status != 200:
        out["first_error"] = {"request": f"POST {path} {body}", "status": status,
                              "response": data[:2000]}
        print(json.dumps(out), flush=True)
        return
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    start = time.monotonic()
    end = start + s["seconds"]
    step = 0
    last = start
    while last < end:
        t = time.monotonic()
        status, data, body = post(s["key"], step)
        last = time.monotonic()
        if status == 200:
            out["ok"] += 1
            out["lat_us"].append(int((last - t) * 1e6))
            step += 1
        else:
            out["errors"] += 1
            if out["first_error"] is None:
                out["first_error"] = {"request": f"POST {path} {body}", "status": status,
                                      "response": data[:2000]}
            if out["errors"] > 1000:
                break
    out["start"], out["end"] = start, last
    conn.close()
    print(json.dumps(out), flush=True)


# ----- bounds, failures, small helpers ---------------------------------------------------------


class PhaseTimeout(Exception):
    pass


class Mismatch(Exception):
    """A server answered, but not what was asked for (counts, bytes)."""


class RequestFailed(Exception):
    """A raw HTTP request that did not get 200: carries the exact request and response."""

    def __init__(self, method, url, body, status, response):
        self.status = status
        super().__init__(f"{method} {url} {body[:1000]} -> {status} {response[:2000]}")


@contextlib.contextmanager
def bounded(name, seconds):
    """Raises PhaseTimeout in the main thread if the block runs longer than `seconds`."""
    seconds = max(1, int(seconds))

    def on_alarm(signum, frame):
        raise PhaseTimeout(f"{name}: exceeded its bound of {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    return (max(xs) / min(xs) - 1) if xs and min(xs) > 0 else None


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def fmt_pct(x):
    return "n/a" if x is None else f"{x * 100:.0f}%"


def fmt_ms(x):
    return "n/a" if x is None else f"{x:.2f} ms"


def fmt_list(xs, digits=3):
    return ", ".join(f"{x:.{digits}f}" for x in xs) or "n/a"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def import_fixtures():
    """tests/mlflow/conftest.py (TarnWorld: tarnd + workspace + datastore + principals + tokens,
    on the conformance harness). It and the harness import pytest at the top, for pytest.fail
    and fixtures; the project venv need not have pytest, so a stand-in makes fail() an error."""
    try:
        import pytest  # noqa: F401
    except ImportError:
        shim = types.ModuleType("pytest")

        def fail(msg="", pytrace=True):
            raise RuntimeError(msg)

        def skip(msg="", **kwargs):
            raise RuntimeError("skipped: " + msg)

        def fixture(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return args[0]
            return lambda f: f

        shim.fail, shim.skip, shim.fixture = fail, skip, fixture
        sys.modules["pytest"] = shim
    sys.path.insert(0, str(ROOT / "tests" / "conformance"))
    spec = importlib.util.spec_from_file_location("tarn_mlflow_fixtures",
                                                  ROOT / "tests" / "mlflow" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----- the two servers -------------------------------------------------------------------------


class PeerServer:
    """`mlflow server` on 127.0.0.1: SQLite backend store, local artifacts served by the server.
    It runs in a session of its own, so that stop() ends it and every worker it started."""

    def __init__(self, base, workers=None):
        self.base = Path(base)
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.proc = None
        self.log_path = self.base / "mlflow-server.log"
        self.command = None

    def launch(self):
        """Starts the server; wait() for it to answer."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        art = self.base / "art"
        art.mkdir(exist_ok=True)
        cmd = [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1",
               "--port", str(self.port), "--backend-store-uri",
               f"sqlite:///{self.base / 'mlflow.db'}", "--artifacts-destination", str(art),
               "--serve-artifacts"]
        if self.workers:
            cmd += ["--workers", str(self.workers)]
        self.command = cmd
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.base, env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def wait(self):
        import requests
        deadline = time.monotonic() + PEER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited ({self.proc.returncode}):\n"
                                   f"{self.log_tail()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"mlflow server not healthy within {PEER_START_TIMEOUT} s:\n"
                           f"{self.log_tail()}")

    def processes(self):
        """How many processes the server's session holds (the server, uvicorn's workers...)."""
        if self.proc is None:
            return 0
        out = subprocess.run(["pgrep", "-s", str(self.proc.pid)], capture_output=True,
                             text=True).stdout.split()
        return len(out)

    def log_tail(self, limit=4000):
        try:
            return self.log_path.read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    def stop(self):
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: it leads its own process group
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # workers left behind by the leader
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self.proc = None


class Side:
    """One tracking server as the benchmark drives it: the mlflow client (environment variables
    switched per side, read by the client on every request) and raw HTTP connections."""

    def __init__(self, name, uri, ca_file=None, world=None, peer=None):
        self.name = name
        self.uri = uri
        self.ca_file = ca_file
        self.world = world
        self.peer = peer
        u = urllib.parse.urlsplit(uri)
        self.tls = u.scheme == "https"
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")

    @property
    def token(self):
        return self.world.tokens["scientist"] if self.world else None

    def refresh(self):
        if self.world:
            self.world.refresh_tokens()

    def activate(self):
        import mlflow
        for k in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_SERVER_CERT_PATH",
                  "MLFLOW_TRACKING_URI"):
            os.environ.pop(k, None)
        if self.token:
            os.environ["MLFLOW_TRACKING_TOKEN"] = self.token
        if self.ca_file:
            os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"] = self.ca_file
        mlflow.set_tracking_uri(self.uri)

    def client(self):
        import mlflow
        self.activate()
        return mlflow.MlflowClient(self.uri, self.uri)

    def connection(self, blocksize=8192):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(self.host, self.port, context=ctx, timeout=600,
                                               blocksize=blocksize)
        return http.client.HTTPConnection(self.host, self.port, timeout=600, blocksize=blocksize)

    def send(self, conn, method, path, body=None, content_type="application/json", length=None):
        """Sends <method> <uri><path> on a keep-alive connection (reopened first if the server
        closed it while idle, as urllib3 does); returns the response, whose status is 200."""
        if conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            conn.close()
        headers = {"Content-Type": content_type} if body is not None else {}
        if length is not None:
            headers["Content-Length"] = str(length)
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        conn.request(method, self.prefix + path, body, headers)
        r = conn.getresponse()
        if r.status != 200:
            data = r.read().decode("utf-8", "replace")
            shown = body if isinstance(body, str) else f"<{type(body).__name__} body>"
            raise RequestFailed(method, self.uri + path, shown or "", r.status, data)
        return r

    def call(self, conn, method, path, body=None):
        """A JSON API call: the parsed response."""
        data = self.send(conn, method, path, body).read()
        return json.loads(data) if data else {}

    def post(self, conn, api, obj):
        """POST <uri>/api/2.0/mlflow/<api> with a JSON body on a keep-alive connection."""
        return self.call(conn, "POST", f"/api/2.0/mlflow/{api}", json.dumps(obj))

    def describe(self):
        if self.world:
            return self.world.server.describe()[-3000:]
        return self.peer.log_tail(3000)


# ----- running phases on both sides ------------------------------------------------------------


class Runner:
    """Runs each phase (a setup or one round on one side) bounded in time; a failure is kept for
    the report (with its exact error) and that side's later phases of the workload are skipped."""

    def __init__(self, args, deadline):
        self.args = args
        self.deadline = deadline
        self.failures = []  # (workload, side, phase, message)

    def __call__(self, res, workload, side, phase, fn):
        if res[side.name].get("error"):
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            msg = f"not run: the whole benchmark exceeded --max-minutes {self.args.max_minutes}"
            res[side.name]["error"] = msg
            self.failures.append((workload, side.name, phase, msg))
            return None
        try:
            with bounded(f"{workload} {phase} on {side.name}", min(self.args.phase_timeout, left)):
                side.activate()
                return fn()
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a server failed, answered wrongly or took too long
            msg = f"{type(e).__name__}: {e}"
            if not isinstance(e, (PhaseTimeout, Mismatch, RequestFailed)):
                tb = traceback.format_exc(limit=6)
                msg += f"\n{tb[-3000:]}"
            res[side.name]["error"] = msg
            self.failures.append((workload, side.name, phase, msg))
            log(f"FAILED {workload} {phase} on {side.name}: {msg[:3000]}")
            return None


def order(sides, r):
    return sides if r % 2 == 0 else list(reversed(sides))


def new_result(sides):
    return {s.name: {} for s in sides}


# ----- 1. log_batch of 1,000 metrics -----------------------------------------------------------


def bench_log_batch(args, sides, run):
    from mlflow.entities import Metric
    res = new_result(sides)
    per_batch = args.batch_size
    steps_per_batch = per_batch // KEYS_PER_BATCH
    ctx = {}

    def setup(side):
        c = side.client()
        eid = c.create_experiment(f"log-batch-{time.time_ns()}")
        ctx[side.name] = (c, c.create_run(eid, run_name="log-batch").info.run_id,
                          c.create_run(eid, run_name="log-batch-raw").info.run_id,
                          side.connection())
        res[side.name].update(times=[], raw_times=[])

    def points(rep):
        ts = int(time.time() * 1000)
        first = rep * steps_per_batch
        return [(f"m{k}", (first + s) / 7.0, ts, first + s)
                for s in range(steps_per_batch) for k in range(KEYS_PER_BATCH)]

    def one(side, rep, timed):
        """One batch through the mlflow client, then the same over raw HTTP (to another run):
        the client's figure is the target's; the raw one is the server's share."""
        c, rid, raw_rid, conn = ctx[side.name]
        metrics = [Metric(*p) for p in points(rep)]
        t = time.perf_counter()
        c.log_batch(rid, metrics=metrics)
        dt = time.perf_counter() - t
        body = json.dumps({"run_id": raw_rid, "metrics": [
            {"key": k, "value": v, "timestamp": ts, "step": st} for k, v, ts, st in points(rep)]})
        t = time.perf_counter()
        side.call(conn, "POST", "/api/2.0/mlflow/runs/log-batch", body)
        raw = time.perf_counter() - t
        if timed:
            res[side.name]["times"].append(dt)
            res[side.name]["raw_times"].append(raw)

    def check(side):
        c, rid, raw_rid, conn = ctx[side.name]
        conn.close()
        # Every key's history (--quick: three of them), and every key's latest value.
        keys = (0, 37, KEYS_PER_BATCH - 1) if QUICK else range(KEYS_PER_BATCH)
        want = (args.batches + 1) * steps_per_batch * len(keys)
        for r in (rid, raw_rid):
            total = sum(len(c.get_metric_history(r, f"m{k}")) for k in keys)
            latest = c.get_run(r).data.metrics
            if total != want or len(latest) != KEYS_PER_BATCH:
                raise Mismatch(f"run {r}: {total} points in {len(keys)} keys' histories and "
                               f"{len(latest)} keys, want {want} and {KEYS_PER_BATCH}")

    for s in sides:
        run(res, "log_batch", s, "setup", lambda s=s: (setup(s), one(s, 0, False)))
    log(f"log_batch: {args.batches} timed batches of {per_batch} metrics, alternating servers")
    for rep in range(1, args.batches + 1):
        for s in order(sides, rep):
            run(res, "log_batch", s, f"batch {rep}", lambda s=s: one(s, rep, True))
    for s in sides:
        run(res, "log_batch", s, "check", lambda s=s: check(s))
        if not res[s.name].get("error"):
            ts, raw = res[s.name]["times"], res[s.name]["raw_times"]
            log(f"log_batch {s.name}: median {med(ts) * 1000:.1f} ms per batch, "
                f"{per_batch / med(ts):,.0f} metrics/s (raw HTTP {med(raw) * 1000:.1f} ms)")
    return res


# ----- 2. log_metric from 16 concurrent clients ------------------------------------------------


def load_round(args, side, run_ids, key, procs_out, harness):
    """One timed round of the raw load generator against one side: requests/s and latencies."""
    specs = [{"tls": side.tls, "ca": side.ca_file, "host": side.host, "port": side.port,
              "prefix": side.prefix, "token": side.token, "run_id": rid, "key": key,
              "seconds": args.load_seconds} for rid in run_ids]
    procs = []
    try:
        for spec in specs:
            procs.append(subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--load-worker", json.dumps(spec)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, preexec_fn=harness._pdeathsig, close_fds=True))
            procs_out.append(procs[-1])
        for p in procs:  # every client connected and warmed up
            line = p.stdout.readline()
            if line.strip() != "ready":
                err = json.loads(line) if line.strip().startswith("{") else line
                raise RequestFailed("POST", "runs/log-metric (warm-up)", "", "-",
                                    json.dumps(err)[:3000])
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = []
        for p in procs:
            out, _ = p.communicate(timeout=args.load_seconds + 120)
            outs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
    ok = sum(o["ok"] for o in outs)
    errors = sum(o["errors"] for o in outs)
    first = next((o["first_error"] for o in outs if o["first_error"]), None)
    elapsed = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    lat = [x for o in outs for x in o["lat_us"]]
    return {"ok": ok, "errors": errors, "first_error": first, "seconds": elapsed,
            "reconnects": sum(o["reconnects"] for o in outs),
            "rps": ok / elapsed, "per_client": [o["ok"] for o in outs],
            "p50_ms": pct(lat, 0.5) / 1000 if lat else None,
            "p99_ms": pct(lat, 0.99) / 1000 if lat else None}


def client_round(args, side, run_ids, key):
    """The same through the mlflow client: MlflowClient.log_metric from N threads, one run each."""
    c = side.client()
    stop_at = [None]
    counts = [0] * len(run_ids)
    errors = []
    go = threading.Barrier(len(run_ids) + 1)

    def worker(i, rid):
        try:
            go.wait(60)
            step = 0
            while time.monotonic() < stop_at[0]:
                c.log_metric(rid, key, step * 0.5, step=step)
                step += 1
                counts[i] = step
        except Exception as e:  # reported by the round
            errors.append(f"{type(e).__name__}: {str(e)[:2000]}")

    threads = [threading.Thread(target=worker, args=(i, rid), daemon=True)
               for i, rid in enumerate(run_ids)]
    for t in threads:
        t.start()
    start = time.monotonic()
    stop_at[0] = start + args.client_seconds
    go.wait(60)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    if errors:
        raise RuntimeError(f"{len(errors)} client thread(s) failed; the first: {errors[0]}")
    return {"ok": sum(counts), "seconds": elapsed, "rps": sum(counts) / elapsed,
            "per_client": counts}


def bench_load(args, sides, run, harness, procs_out):
    res = new_result(sides)
    ctx = {}

    def setup(side):
        c = side.client()
        eid = c.create_experiment(f"load-{time.time_ns()}")
        ctx[side.name] = {
            "client": c,
            "raw": [c.create_run(eid, run_name=f"client-{i}").info.run_id
                    for i in range(args.clients)],
            "sdk": [c.create_run(eid, run_name=f"sdk-client-{i}").info.run_id
                    for i in range(args.clients)] if args.client_seconds > 0 else []}
        res[side.name].update(rounds=[], client_rounds=[], expect={})

    def raw_round(side, r):
        side.refresh()
        key = f"loss{r}"
        got = load_round(args, side, ctx[side.name]["raw"], key, procs_out, harness)
        res[side.name]["rounds"].append(got)
        res[side.name]["expect"][key] = got["per_client"]
        log(f"load round {r + 1} {side.name}: {got['rps']:,.0f} requests/s ({got['ok']:,} in "
            f"{got['seconds']:.1f} s, {args.clients} clients), p50 {fmt_ms(got['p50_ms'])}, "
            f"p99 {fmt_ms(got['p99_ms'])}, errors {got['errors']}, reconnects "
            f"{got['reconnects']}")
        if got["errors"]:
            raise RequestFailed("POST", f"{side.uri}/api/2.0/mlflow/runs/log-metric", "", "-",
                                f"{got['errors']} failed requests; the first: "
                                f"{json.dumps(got['first_error'])[:3000]}")

    def sdk_round(side, r):
        side.refresh()
        key = f"sdk{r}"
        got = client_round(args, side, ctx[side.name]["sdk"], key)
        res[side.name]["client_rounds"].append(got)
        res[side.name]["expect"][("sdk", key)] = got["per_client"]
        log(f"load (mlflow client, {args.clients} threads) round {r + 1} {side.name}: "
            f"{got['rps']:,.0f} requests/s")

    def check(side):
        c = ctx[side.name]["client"]
        for key, counts in res[side.name]["expect"].items():
            runs, k = (ctx[side.name]["sdk"], key[1]) if isinstance(key, tuple) \
                else (ctx[side.name]["raw"], key)
            for rid, n in zip(runs, counts):
                h = c.get_metric_history(rid, k)
                if sorted(p.step for p in h) != list(range(n)):
                    raise Mismatch(f"run {rid} key {k}: {len(h)} points kept, {n} acknowledged")
        res[side.name]["checked"] = sum(sum(v) for v in res[side.name]["expect"].values())

    for s in sides:
        run(res, "load", s, "setup", lambda s=s: setup(s))
    for r in range(args.load_rounds):
        for s in order(sides, r):
            run(res, "load", s, f"raw round {r + 1}", lambda s=s: raw_round(s, r))
    if args.client_seconds > 0:
        for r in range(args.load_rounds):
            for s in order(sides, r):
                run(res, "load", s, f"mlflow-client round {r + 1}", lambda s=s: sdk_round(s, r))
    for s in sides:
        run(res, "load", s, "check", lambda s=s: check(s))
    return res


# ----- 3. search_runs over 10,000 runs ----------------------------------------------------------


def populate_runs(side, eid, n, lo, hi, threads=8):
    """Runs lo..hi-1 of n in experiment eid, each with metric m = search_value(i, n) and param
    i, over raw HTTP from `threads` keep-alive connections (setup, not timed). The threads stop
    when this returns or raises (a phase that overruns must not leave them loading the server)."""
    errors = []
    made = [0] * threads
    stop = threading.Event()
    ts = int(time.time() * 1000)

    def worker(t):
        conn = side.connection()
        try:
            for i in range(lo + t, hi, threads):
                if stop.is_set():
                    return
                made_run = side.post(conn, "runs/create", {
                    "experiment_id": eid, "start_time": ts + i, "run_name": f"run-{i}"})
                rid = made_run["run"]["info"]["run_id"]
                side.post(conn, "runs/log-batch", {
                    "run_id": rid, "metrics": [{"key": "m", "value": search_value(i, n),
                                                "timestamp": ts, "step": 0}],
                    "params": [{"key": "i", "value": str(i)}]})
                made[t] += 1
        except Exception as e:
            errors.append(e)
        finally:
            conn.close()

    ths = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(threads)]
    try:
        for t in ths:
            t.start()
        for t in ths:
            t.join()
    finally:
        stop.set()
        for t in ths:
            t.join(30)
    if errors:
        raise errors[0]
    return sum(made)


def search_value(i, n):
    """Run i's metric m: (i * 7919 mod n) / n, a permutation of 0, 1/n, ..., (n-1)/n when n is
    not a multiple of 7919, so that exactly the runs with i*7919 mod n > n/2 match m > 0.5."""
    return ((i * 7919) % n) / n


def bench_search(args, sides, run):
    res = new_result(sides)
    n = args.runs
    want = sorted(str(i) for i in range(n) if search_value(i, n) > 0.5)
    flt = "metrics.m > 0.5"
    ctx = {}

    def setup(side):
        c = side.client()
        eid = c.create_experiment(f"search-{time.time_ns()}")
        ctx[side.name] = (c, eid, side.connection())
        res[side.name].update(times=[], raw_times=[], populate_s=0.0, made=0, pages=None)

    def populate(side, lo, hi):
        side.refresh()
        t = time.perf_counter()
        res[side.name]["made"] += populate_runs(side, ctx[side.name][1], n, lo, hi)
        res[side.name]["populate_s"] += time.perf_counter() - t
        if hi == n:
            made, dt = res[side.name]["made"], res[side.name]["populate_s"]
            log(f"search: {made:,} runs populated on {side.name} in {dt:.1f} s "
                f"({2 * made / dt:,.0f} requests/s over 8 connections)")
            search(side, timed=False)

    def search(side, timed):
        c, eid, conn = ctx[side.name]
        side.refresh()
        side.activate()
        hits, token, pages = [], None, 0
        t = time.perf_counter()
        while True:
            page = c.search_runs([eid], flt, max_results=1000, page_token=token)
            hits.extend(page)
            pages += 1
            token = page.token
            if not token:
                break
        dt = time.perf_counter() - t
        got = sorted(r.data.params.get("i") for r in hits)
        if got != want:
            raise Mismatch(f"search_runs({flt!r}) found {len(got)} runs, want {len(want)} "
                           f"(first differences: {sorted(set(got) ^ set(want))[:10]})")
        # The same pages over raw HTTP (JSON parsed, no Run objects): the server's share.
        raw_hits, token = [], None
        t = time.perf_counter()
        while True:
            body = {"experiment_ids": [eid], "filter": flt, "max_results": 1000}
            if token:
                body["page_token"] = token
            page = side.call(conn, "POST", "/api/2.0/mlflow/runs/search", json.dumps(body))
            raw_hits.extend(page.get("runs", []))
            token = page.get("next_page_token")
            if not token:
                break
        raw = time.perf_counter() - t
        got = sorted(next((p["value"] for p in r.get("data", {}).get("params", [])
                           if p["key"] == "i"), None) or "" for r in raw_hits)
        if got != want:
            raise Mismatch(f"runs/search over raw HTTP found {len(got)} runs, want {len(want)}")
        if timed:
            res[side.name]["times"].append(dt)
            res[side.name]["raw_times"].append(raw)
            log(f"search {side.name}: {len(hits):,} hits in {pages} pages in {dt:.3f} s "
                f"(raw HTTP {raw:.3f} s)")
        res[side.name].update(pages=pages, hits=len(hits))

    for s in sides:
        run(res, "search", s, "setup", lambda s=s: setup(s))
        for lo in range(0, n, SEARCH_CHUNK):  # a phase each, each bounded
            hi = min(n, lo + SEARCH_CHUNK)
            run(res, "search", s, f"populating runs {lo}..{hi - 1}",
                lambda s=s: populate(s, lo, hi))
    for r in range(args.search_rounds):
        for s in order(sides, r):
            run(res, "search", s, f"round {r + 1}", lambda s=s: search(s, True))
    res["want"] = len(want)
    return res


# ----- 4. get_metric_history of 100,000 points --------------------------------------------------


def bench_history(args, sides, run):
    from mlflow.entities import Metric
    res = new_result(sides)
    n = args.points
    ctx = {}

    def setup(side):
        c = side.client()
        eid = c.create_experiment(f"history-{time.time_ns()}")
        rid = c.create_run(eid, run_name="history").info.run_id
        ts = int(time.time() * 1000)
        t = time.perf_counter()
        for lo in range(0, n, args.batch_size):
            c.log_batch(rid, metrics=[Metric("loss", 1.0 / (s + 1), ts + s, s)
                                      for s in range(lo, min(n, lo + args.batch_size))])
        dt = time.perf_counter() - t
        ctx[side.name] = (c, rid, side.connection())
        res[side.name].update(times=[], raw_times=[], populate_s=dt)
        log(f"history: {n:,} points logged on {side.name} with log_batch in {dt:.1f} s")
        fetch(side, timed=False)

    def fetch(side, timed):
        c, rid, conn = ctx[side.name]
        side.refresh()
        side.activate()
        t = time.perf_counter()
        h = c.get_metric_history(rid, "loss")
        dt = time.perf_counter() - t
        steps = sorted(p.step for p in h)
        if len(h) != n or steps != list(range(n)):
            raise Mismatch(f"get_metric_history gave {len(h):,} points, want {n:,} (steps "
                           f"0..{n - 1} once each)")
        bad = [p for p in h if p.value != 1.0 / (p.step + 1)][:3]
        if bad:
            raise Mismatch(f"wrong values, e.g. {[(p.step, p.value) for p in bad]}")
        # The same pages over raw HTTP (JSON parsed, no Metric objects): the server's share.
        raw_points, token = [], None
        t = time.perf_counter()
        while True:
            q = {"run_id": rid, "metric_key": "loss", "max_results": HISTORY_PAGE}
            if token:
                q["page_token"] = token
            page = side.call(conn, "GET", "/api/2.0/mlflow/metrics/get-history?"
                             + urllib.parse.urlencode(q))
            raw_points.extend(page.get("metrics", []))
            token = page.get("next_page_token")
            if not token:
                break
        raw = time.perf_counter() - t
        if sorted(int(p["step"]) for p in raw_points) != list(range(n)):
            raise Mismatch(f"metrics/get-history over raw HTTP gave {len(raw_points):,} points, "
                           f"want {n:,}")
        if timed:
            res[side.name]["times"].append(dt)
            res[side.name]["raw_times"].append(raw)
            log(f"history {side.name}: {len(h):,} points in {dt:.3f} s (raw HTTP {raw:.3f} s)")

    for s in sides:
        run(res, "history", s, "setup", lambda s=s: setup(s))
    for r in range(args.history_rounds):
        for s in order(sides, r):
            run(res, "history", s, f"round {r + 1}", lambda s=s: fetch(s, True))
    return res


# ----- 5. a 1 GiB artifact up and down ----------------------------------------------------------


def make_file(path, size):
    h = hashlib.sha256()
    chunk = 64 << 20
    with open(path, "wb") as f:
        left = size
        while left:
            b = os.urandom(min(chunk, left))
            f.write(b)
            h.update(b)
            left -= len(b)
    return h.hexdigest()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(16 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def bench_artifacts(args, sides, run, work):
    res = new_result(sides)
    size = int(args.artifact_mib * 2**20)
    src_dir = work / "artifact-src"
    src_dir.mkdir(exist_ok=True)
    src = src_dir / "blob.bin"
    t = time.perf_counter()
    digest = make_file(src, size)
    log(f"artifacts: {size / 2**20:,.0f} MiB of random bytes written in "
        f"{time.perf_counter() - t:.1f} s")
    ctx = {}

    def setup(side):
        c = side.client()
        ctx[side.name] = (c, c.create_experiment(f"artifacts-{time.time_ns()}"))
        res[side.name].update(up=[], down=[], raw_up=[], raw_down=[], artifact_uri=None)

    def one(side, r):
        c, eid = ctx[side.name]
        side.refresh()
        side.activate()
        rid = c.create_run(eid, run_name=f"artifact-{r}").info.run_id
        res[side.name]["artifact_uri"] = c.get_run(rid).info.artifact_uri
        t = time.perf_counter()
        c.log_artifact(rid, str(src))
        up = time.perf_counter() - t
        listed = {f.path: f.file_size for f in c.list_artifacts(rid)}
        if listed.get("blob.bin") != size:
            raise Mismatch(f"list_artifacts after log_artifact: {listed}, want blob.bin of "
                           f"{size} bytes")
        dst = work / f"download-{side.name}-{r}"
        dst.mkdir()
        try:
            t = time.perf_counter()
            got = Path(c.download_artifacts(rid, "blob.bin", str(dst)))
            down = time.perf_counter() - t
            if got.stat().st_size != size or sha256_of(got) != digest:
                raise Mismatch(f"downloaded {got.stat().st_size} bytes, sha256 differs from "
                               f"what was uploaded")
        finally:
            shutil.rmtree(dst, ignore_errors=True)
        res[side.name]["up"].append(up)
        res[side.name]["down"].append(down)
        mb = size / 1e6
        log(f"artifacts {side.name}: up {mb / up:,.0f} MB/s ({up:.2f} s), down "
            f"{mb / down:,.0f} MB/s ({down:.2f} s)")
        raw_up, raw_down = raw_round(side, rid, r)
        res[side.name]["raw_up"].append(raw_up)
        res[side.name]["raw_down"].append(raw_down)
        log(f"artifacts {side.name} over raw HTTP: up {mb / raw_up:,.0f} MB/s, down "
            f"{mb / raw_down:,.0f} MB/s")

    def raw_round(side, rid, r):
        """The same bytes over raw HTTP, 1 MiB writes and reads: PUT and GET of
        <uri>/api/2.0/mlflow-artifacts/artifacts/<the run's artifact path>/blob-raw.bin."""
        uri = res[side.name]["artifact_uri"]
        if not uri.startswith("mlflow-artifacts:/"):
            raise Mismatch(f"artifact URI {uri}: not mlflow-artifacts:/, no raw figure")
        path = ("/api/2.0/mlflow-artifacts/artifacts/" + uri[len("mlflow-artifacts:/"):]
                .strip("/") + "/blob-raw.bin")
        conn = side.connection(blocksize=1 << 20)
        dst = work / f"raw-download-{side.name}-{r}.bin"
        try:
            with open(src, "rb") as f:
                t = time.perf_counter()
                side.send(conn, "PUT", path, f, "application/octet-stream", size).read()
                up = time.perf_counter() - t
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            with open(dst, "wb") as out:
                t = time.perf_counter()
                resp = side.send(conn, "GET", path)
                while True:
                    k = resp.readinto(view)
                    if not k:
                        break
                    out.write(view[:k])
                down = time.perf_counter() - t
            if dst.stat().st_size != size or sha256_of(dst) != digest:
                raise Mismatch(f"raw GET {path}: {dst.stat().st_size} bytes, sha256 differs "
                               f"from what was PUT")
        finally:
            conn.close()
            with contextlib.suppress(OSError):
                dst.unlink()
        listed = {f.path: f.file_size for f in ctx[side.name][0].list_artifacts(rid)}
        if listed.get("blob-raw.bin") != size:
            raise Mismatch(f"list_artifacts after the raw PUT: {listed}")
        return up, down

    for s in sides:
        run(res, "artifacts", s, "setup", lambda s=s: setup(s))
    for r in range(args.artifact_rounds):
        for s in order(sides, r):
            run(res, "artifacts", s, f"round {r + 1}", lambda s=s: one(s, r))
    shutil.rmtree(src_dir, ignore_errors=True)
    res["bytes"] = size
    return res


# ----- the report -------------------------------------------------------------------------------

QUICK = False


def verdict(ratio, target):
    if ratio is None:
        return "n/a"
    if QUICK:
        return "not judged (--quick)"
    return "**met**" if ratio >= target else "**missed**"


def ok(res, side):
    return side in res and not res[side].get("error")


def failures_text(res):
    out = []
    for side in SIDES:
        if side in res and res[side].get("error"):
            out.append(f"**{LABEL[side]} failed**: ```{res[side]['error'][:3000]}```")
    return out


def machine(work):
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    disk = shutil.disk_usage(work)
    return (f"{cpu}, nproc {os.cpu_count()}, {mem:.1f} GiB memory, {disk.free / 2**30:.0f} GiB "
            f"free of {disk.total / 2**30:.0f} GiB on the temporary directory's disk, kernel "
            f"{platform.release()}, Python {platform.python_version()}")


def times_of(r, side, key):
    """The list r[side][key] when that side completed the workload, else []."""
    return (r[side].get(key) or []) if ok(r, side) else []


def time_ratio(r, key):
    """MLflow's median time over tarnd's (higher: tarnd faster), or None."""
    t, m = med(times_of(r, "tarnd", key)), med(times_of(r, "mlflow", key))
    return m / t if t and m else None


def time_cell(r, side, key, unit="s"):
    xs = times_of(r, side, key)
    if side not in r:
        return "not run"
    if r[side].get("error"):
        return "**failed**"
    if not xs:
        return "n/a"
    return f"{med(xs) * 1000:.1f} ms" if unit == "ms" else f"{med(xs):.3f} s"


def rounds_table(r, cols):
    """Rows `| server | way | median | spread | every round |` for each (key, label, unit)."""
    out = [f"| server | measured with | median | spread | rounds ({cols[0][2]}) |",
           "|---|---|---|---|---|"]
    for side in SIDES:
        for key, label, unit in cols:
            xs = times_of(r, side, key)
            if not xs:
                continue
            scale, digits = (1000, 1) if unit == "ms" else (1, 3)
            if len(xs) > 10:  # many calls: their distribution rather than every one
                every = (f"{len(xs)} calls: min {min(xs) * scale:.{digits}f}, "
                         f"p10 {pct(xs, 0.1) * scale:.{digits}f}, "
                         f"p90 {pct(xs, 0.9) * scale:.{digits}f}, "
                         f"max {max(xs) * scale:.{digits}f}")
            else:
                every = ", ".join(f"{x * scale:.{digits}f}" for x in xs)
            cells = (f"{med(xs) * scale:.{digits}f} {unit}", every)
            out.append(f"| {LABEL[side]} | {label} | {cells[0]} | {fmt_pct(spread(xs))} | "
                       f"{cells[1]} |")
    return out


def client_ceiling(r, unit="s"):
    """What the mlflow client's own work leaves for any server: tarnd's median through the client
    less its median over raw HTTP, and the best ratio a server taking no time could reach."""
    tc, tr = med(times_of(r, "tarnd", "times")), med(times_of(r, "tarnd", "raw_times"))
    mc = med(times_of(r, "mlflow", "times"))
    if not (tc and tr and mc) or tc <= tr:
        return []
    own = tc - tr
    shown = f"{own * 1000:.1f} ms" if unit == "ms" else f"{own:.3f} s"
    return ["", f"The mlflow client's own work here (tarnd's median through the client less its "
            f"median over raw HTTP: building the request and the mlflow objects of the answer) "
            f"is about {shown}: through this client on this machine, even a server that took no "
            f"time at all would be at most {mc / own:.1f}x MLflow's server."]


def report(args, results, meta):
    sum_rows = []  # (what, tarnd, mlflow, ratio, target)
    raw_rows = []  # (what, tarnd, mlflow, ratio): the server's share, no target
    L = []

    if "log_batch" in results:
        r = results["log_batch"]
        what = f"log_batch of {args.batch_size:,} metrics (median per call)"
        sum_rows.append((what, time_cell(r, "tarnd", "times", "ms"),
                         time_cell(r, "mlflow", "times", "ms"), time_ratio(r, "times"), 10))
        raw_rows.append((what, time_cell(r, "tarnd", "raw_times", "ms"),
                         time_cell(r, "mlflow", "raw_times", "ms"), time_ratio(r, "raw_times")))
        L += [f"## log_batch of {args.batch_size:,} metrics", "",
              f"`MlflowClient.log_batch(run_id, metrics=[...])` with {args.batch_size:,} metrics "
              f"({KEYS_PER_BATCH} keys x {args.batch_size // KEYS_PER_BATCH} steps, new steps "
              f"every batch) to one run, {args.batches} timed calls after one untimed, batch by "
              f"batch alternating the servers (which goes first alternates too). After each "
              f"client call the same batch goes over raw HTTP to a second run (`POST "
              f"runs/log-batch`, the JSON body made before the clock starts): the server's "
              f"share. Checked: every key's history, in both runs, holds every point logged.", ""]
        L += rounds_table(r, [("times", "mlflow client", "ms"), ("raw_times", "raw HTTP", "ms")])
        L += client_ceiling(r, "ms")
        L += ["", "Metrics/s through the client: " + ", ".join(
            f"{LABEL[s]} {args.batch_size / med(times_of(r, s, 'times')):,.0f}"
            for s in SIDES if times_of(r, s, "times")) + "."]
        L += [""] + failures_text(r) + [""]

    if "load" in results:
        r = results["load"]

        def rps(side, key="rounds"):
            rs = times_of(r, side, key)
            return med([x["rps"] for x in rs]) if rs else None

        def rps_cell(side, key="rounds"):
            if side not in r:
                return "not run"
            if r[side].get("error"):
                return "**failed**"
            v = rps(side, key)
            return "n/a" if v is None else f"{v:,.0f} requests/s"

        t, m = rps("tarnd"), rps("mlflow")
        sum_rows.append((f"log_metric, {args.clients} concurrent raw HTTP clients",
                         rps_cell("tarnd"), rps_cell("mlflow"), t / m if t and m else None, 10))
        L += [f"## log_metric from {args.clients} concurrent clients", "",
              f"A raw HTTP load generator: {args.clients} processes (Python, http.client), each "
              f"with one keep-alive connection (HTTPS for tarnd, HTTP for MLflow), POST "
              f"`runs/log-metric` with `{{run_id, key, value, timestamp, step}}` to a run of its "
              f"own, one request at a time, for {args.load_seconds:g} s after a common start "
              f"(each connection made and warmed up with one request first; a connection the "
              f"server closed while idle is reopened before the next request, as urllib3 does, "
              f"and counted as a reconnect). Requests/s: completed 200 responses over the "
              f"round's wall time. {args.load_rounds} round(s), alternating; the figure is the "
              f"median. Checked: every run's history holds exactly the steps acknowledged. The "
              f"generator runs on the same {os.cpu_count()} cores as the server.", "",
              "| server | round | requests/s | requests | errors | reconnects | p50 | p99 |",
              "|---|---|---|---|---|---|---|---|"]
        for side in SIDES:
            for i, x in enumerate(r[side].get("rounds", []) if side in r else []):
                L.append(f"| {LABEL[side]} | {i + 1} | {x['rps']:,.0f} | {x['ok']:,} | "
                         f"{x['errors']} | {x['reconnects']} | {fmt_ms(x['p50_ms'])} | "
                         f"{fmt_ms(x['p99_ms'])} |")
        if args.client_seconds > 0:
            tc, mc = rps("tarnd", "client_rounds"), rps("mlflow", "client_rounds")
            sum_rows.append((f"log_metric through the mlflow client, {args.clients} threads",
                             rps_cell("tarnd", "client_rounds"),
                             rps_cell("mlflow", "client_rounds"),
                             tc / mc if tc and mc else None, None))
            L += ["", f"The same through the mlflow client: `MlflowClient.log_metric` from "
                  f"{args.clients} threads of one process (one run each; the client's "
                  f"connection pool sized {os.environ.get('MLFLOW_HTTP_POOL_MAXSIZE')}), "
                  f"{args.client_seconds:g} s per round. The client (the GIL, requests) bounds "
                  f"this figure on both sides; it has no target.", "",
                  "| server | round | requests/s | requests |", "|---|---|---|---|"]
            for side in SIDES:
                for i, x in enumerate(r[side].get("client_rounds", []) if side in r else []):
                    L.append(f"| {LABEL[side]} | {i + 1} | {x['rps']:,.0f} | {x['ok']:,} |")
        L += [""] + failures_text(r) + [""]

    if "search" in results:
        r = results["search"]
        what = (f"search_runs over {args.runs:,} runs, `metrics.m > 0.5` "
                f"({r.get('want', 0):,} hits)")
        sum_rows.append((what, time_cell(r, "tarnd", "times"), time_cell(r, "mlflow", "times"),
                         time_ratio(r, "times"), 10))
        raw_rows.append((what, time_cell(r, "tarnd", "raw_times"),
                         time_cell(r, "mlflow", "raw_times"), time_ratio(r, "raw_times")))
        L += [f"## search_runs over {args.runs:,} runs", "",
              f"{args.runs:,} runs in one experiment, each with metric m (values k/{args.runs} "
              f"for k = 0..{args.runs - 1}, one each) and param i, made untimed over raw HTTP "
              f"(runs/create + runs/log-batch from 8 keep-alive connections). Timed: "
              f"`MlflowClient.search_runs([experiment], \"metrics.m > 0.5\", max_results=1000, "
              f"page_token=...)` until no page token: all {r.get('want', 0):,} hits, full runs; "
              f"then the same pages over raw HTTP (`POST runs/search`, the JSON parsed, no Run "
              f"objects made): the server's share. One untimed search first, then "
              f"{args.search_rounds} round(s), alternating. Checked: every search, both ways, "
              f"returns exactly the expected runs (by param i) on both servers.", ""]
        L += rounds_table(r, [("times", "mlflow client", "s"), ("raw_times", "raw HTTP", "s")])
        L += client_ceiling(r)
        L += ["", "Populating the runs (2 requests a run, 8 connections): " + ", ".join(
            f"{LABEL[s]} {r[s]['populate_s']:.1f} s" for s in SIDES
            if ok(r, s) and "populate_s" in r[s]) + "."]
        L += [""] + failures_text(r) + [""]

    if "history" in results:
        r = results["history"]
        what = f"get_metric_history of {args.points:,} points"
        sum_rows.append((what, time_cell(r, "tarnd", "times"), time_cell(r, "mlflow", "times"),
                         time_ratio(r, "times"), 10))
        raw_rows.append((what, time_cell(r, "tarnd", "raw_times"),
                         time_cell(r, "mlflow", "raw_times"), time_ratio(r, "raw_times")))
        L += [f"## get_metric_history of {args.points:,} points", "",
              f"One run, one key, {args.points:,} points logged untimed with `log_batch` "
              f"({args.batch_size:,} per call). Timed: `MlflowClient.get_metric_history(run, "
              f"key)` (the client pages through the history itself, {HISTORY_PAGE:,} points a "
              f"page), then the same pages over raw HTTP (`GET metrics/get-history?run_id=&"
              f"metric_key=&max_results={HISTORY_PAGE}&page_token=`, the JSON parsed, no Metric "
              f"objects made): the server's share. One untimed call first, then "
              f"{args.history_rounds} round(s), alternating. Checked: {args.points:,} points, "
              f"every step once (both ways), every value (through the client).", ""]
        L += rounds_table(r, [("times", "mlflow client", "s"), ("raw_times", "raw HTTP", "s")])
        L += client_ceiling(r)
        L += ["", f"Logging the {args.points:,} points with log_batch: " + ", ".join(
            f"{LABEL[s]} {r[s]['populate_s']:.1f} s" for s in SIDES
            if ok(r, s) and "populate_s" in r[s]) + "."]
        L += [""] + failures_text(r) + [""]

    if "artifacts" in results:
        r = results["artifacts"]
        mb = r["bytes"] / 1e6
        mib = f"{r['bytes'] / 2**20:,.0f} MiB"

        def mbps(side, key):
            xs = times_of(r, side, key)
            return mb / med(xs) if xs else None

        def mbps_cell(side, key):
            if side not in r:
                return "not run"
            if r[side].get("error"):
                return "**failed**"
            v = mbps(side, key)
            return "n/a" if v is None else f"{v:,.0f} MB/s"

        for key, word in (("up", "upload (log_artifact)"),
                          ("down", "download (download_artifacts)")):
            t, m = mbps("tarnd", key), mbps("mlflow", key)
            sum_rows.append((f"{mib} artifact {word}", mbps_cell("tarnd", key),
                             mbps_cell("mlflow", key), t / m if t and m else None, 2))
            t, m = mbps("tarnd", "raw_" + key), mbps("mlflow", "raw_" + key)
            raw_rows.append((f"{mib} artifact {'PUT' if key == 'up' else 'GET'}",
                             mbps_cell("tarnd", "raw_" + key), mbps_cell("mlflow", "raw_" + key),
                             t / m if t and m else None))
        L += [f"## A {mib} artifact up and down", "",
              f"A file of {r['bytes']:,} random bytes. Timed: `MlflowClient.log_artifact(run, "
              f"file)` and `MlflowClient.download_artifacts(run, \"blob.bin\", dir)` (the mlflow "
              f"client's HTTP artifact repository, through the tracking server: to the lake "
              f"under the workspace's default datastore for tarnd, to a local directory for "
              f"MLflow); then the same bytes over raw HTTP, `PUT` and `GET` of "
              f"`api/2.0/mlflow-artifacts/artifacts/<run's artifact path>/blob-raw.bin` with "
              f"1 MiB writes and reads (the download written to a file, as the client does): "
              f"the server's share. MB = 10^6 bytes. {args.artifact_rounds} round(s), "
              f"alternating, a new run each. Checked: list_artifacts gives the size, every "
              f"download's sha256 is the file's.", "",
              "| server | measured with | upload | download | upload rounds (s) | "
              "download rounds (s) |", "|---|---|---|---|---|---|"]
        for side in SIDES:
            for pre, label in (("", "mlflow client"), ("raw_", "raw HTTP")):
                up, down = times_of(r, side, pre + "up"), times_of(r, side, pre + "down")
                if up and down:
                    L.append(f"| {LABEL[side]} | {label} | {mb / med(up):,.0f} MB/s | "
                             f"{mb / med(down):,.0f} MB/s | {fmt_list(up, 2)} | "
                             f"{fmt_list(down, 2)} |")
        uris = [f"{LABEL[s]} `{r[s]['artifact_uri']}`" for s in SIDES
                if ok(r, s) and r[s].get("artifact_uri")]
        if uris:
            L += ["", "Artifact URIs of the last run: " + ", ".join(uris) + "."]
        L += [""] + failures_text(r) + [""]

    L += ["## Not measured yet", "",
          "Submit-to-first-log-line latency (a submitted job's first line of output, as the "
          "client streams it) is pending the runs compute targets: tarnd has no way to submit a "
          "job yet, so there is nothing to time on its side.", ""]

    def ratio_text(x):
        return "n/a" if x is None else f"{x:.2f}x"

    head = ["# Benchmarks: MLflow tracking, tarnd against MLflow's own server", "",
            "| workload (through the mlflow client, but the load generator) | tarnd | "
            "MLflow server | tarnd vs MLflow | target | |",
            "|---|---|---|---|---|---|"]
    for what, t, m, ratio, target in sum_rows:
        head.append(f"| {what} | {t} | {m} | {ratio_text(ratio)} | "
                    f"{'no target' if target is None else f'>= {target}x'} | "
                    f"{'' if target is None else verdict(ratio, target)} |")
    head += ["",
             "tarnd vs MLflow: how many times faster tarnd is (MLflow's time over tarnd's, or "
             "tarnd's throughput over MLflow's); higher is better for tarnd."]
    if raw_rows:
        head += ["",
                 "The same requests over raw HTTP (http.client, one keep-alive connection, the "
                 "JSON parsed but no mlflow objects made): the servers' share of the figures "
                 "above, what the mlflow client's own work leaves out. No targets.", "",
                 "| workload (raw HTTP) | tarnd | MLflow server | tarnd vs MLflow |",
                 "|---|---|---|---|"]
        head += [f"| {what} | {t} | {m} | {ratio_text(ratio)} |"
                 for what, t, m, ratio in raw_rows]
    head += ["",
             f"Machine: {meta['machine']}. Run {meta['when']}, commit {meta['commit']}, in "
             f"{meta['elapsed'] / 60:.1f} min. mlflow {meta['mlflow']} (the client for both, and "
             f"the peer).",
             "",
             f"Rerun: `{meta['command']}`",
             "",
             f"The servers: tarnd (`{meta['tarnd']}`) over HTTPS with a bearer token on every "
             f"request (the client's MLFLOW_TRACKING_TOKEN, a service principal with the "
             f"workspace role AzureML Data Scientist; MLFLOW_TRACKING_SERVER_CERT_PATH names "
             f"tarnd's certificate), tracking URI `https://127.0.0.1:<port>/workspaces/<ws>/"
             f"mlflow`, artifacts in the lake under the workspace's default datastore. MLflow: "
             f"`{meta['peer_command']}` ({meta['peer_workers']}; {meta['peer_processes']} "
             f"processes in its session, with MLflow's job consumers), plain HTTP, no auth, "
             f"SQLite backend store, artifacts in a local directory. Both on 127.0.0.1, their "
             f"data in one temporary directory, started fresh by the benchmark; the clients run "
             f"on the same cores. The mlflow client runs with MLFLOW_HTTP_REQUEST_MAX_RETRIES=0 "
             f"(a failed request fails the benchmark instead of being sent again) and "
             f"MLFLOW_HTTP_REQUEST_TIMEOUT={os.environ.get('MLFLOW_HTTP_REQUEST_TIMEOUT')}.",
             "",
             f"Other work on the machine: {meta['busy_before']} at the start, "
             f"{meta['busy_after']} at the end; during the benchmarks "
             f"{meta.get('busy_during', 'not sampled')}.", ""]
    if meta["failures"]:
        head += [f"**{len(meta['failures'])} phase(s) failed**; each workload's section has "
                 "the error.", ""]
    return "\n".join(head + L)


# ----- main -------------------------------------------------------------------------------------


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--load-worker":
        return load_worker(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=WORKLOADS,
                    help="run only these workloads (default: all)")
    ap.add_argument("--sides", nargs="*", choices=SIDES, default=SIDES,
                    help="servers to run (default: both; one alone gives no ratios)")
    ap.add_argument("--batches", type=int, default=50, help="timed log_batch calls")
    ap.add_argument("--batch-size", type=int, default=1000, help="metrics per log_batch")
    ap.add_argument("--clients", type=int, default=16, help="concurrent log_metric clients")
    ap.add_argument("--load-seconds", type=float, default=15, help="per load round")
    ap.add_argument("--load-rounds", type=int, default=2)
    ap.add_argument("--client-seconds", type=float, default=10,
                    help="per round of the mlflow-client variant of the load (0: skip it)")
    ap.add_argument("--runs", type=int, default=10000, help="runs to search")
    ap.add_argument("--search-rounds", type=int, default=3)
    ap.add_argument("--points", type=int, default=100000, help="points of the metric history")
    ap.add_argument("--history-rounds", type=int, default=3)
    ap.add_argument("--artifact-mib", type=float, default=1024)
    ap.add_argument("--artifact-rounds", type=int, default=1)
    ap.add_argument("--peer-workers", type=int,
                    help="mlflow server --workers (default: MLflow's default, 4)")
    ap.add_argument("--phase-timeout", type=int, default=600,
                    help="seconds any one phase (a setup, a round on one server) may take")
    ap.add_argument("--max-minutes", type=float, default=40,
                    help="phases not started by then are reported as not run")
    ap.add_argument("--tarnd", default=str(ROOT / "build/release/src/server/tarnd"))
    ap.add_argument("--tmp", help="directory for the temporary files (default: $TMPDIR)")
    ap.add_argument("--out", help="write the Markdown report here too")
    ap.add_argument("--write-docs", action="store_true",
                    help=f"write the report to {DOCS.relative_to(ROOT)} (not with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, one round, asserts only correct answers (CI, < 2 min)")
    args = ap.parse_args()
    argv, skip = [], False  # the command to rerun: as given, without --out FILE
    for a in sys.argv[1:]:
        if skip or a == "--out" or a.startswith("--out="):
            skip = a == "--out"
            continue
        argv.append(a)
    if args.quick:
        global QUICK
        QUICK = True
        args.batches, args.load_seconds, args.load_rounds, args.client_seconds = 2, 2, 1, 1
        args.runs, args.search_rounds, args.points, args.history_rounds = 100, 1, 3000, 1
        args.artifact_mib, args.artifact_rounds = 8, 1
        args.phase_timeout, args.max_minutes = min(args.phase_timeout, 120), 5
    if args.batch_size % KEYS_PER_BATCH or not 0 < args.batch_size <= 1000:
        sys.exit(f"--batch-size must be a multiple of {KEYS_PER_BATCH} up to 1000")
    if args.runs % 7919 == 0:
        sys.exit("--runs must not be a multiple of 7919")
    only = [w for w in WORKLOADS if not args.only or w in args.only]
    if "tarnd" in args.sides and not Path(args.tarnd).exists():
        sys.exit(f"{args.tarnd} is missing: bash scripts/build.sh release tarnd")
    if "mlflow" in args.sides and not (Path(sys.executable).parent / "mlflow").exists():
        sys.exit("no mlflow next to this python: run with .venv/bin/python (scripts/bootstrap.sh)")
    os.environ["TARND_BIN"] = args.tarnd
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(args.phase_timeout)
    os.environ["MLFLOW_HTTP_POOL_MAXSIZE"] = str(max(10, args.clients))
    sys.path.insert(0, str(HERE))
    from pipeline_bench import BusySampler, busy_note

    def on_term(signum, frame):
        raise SystemExit(f"signal {signum}: stopping")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    started = time.monotonic()
    meta = {"when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "busy_before": busy_note(),
            "command": ".venv/bin/python bench/mlflow_bench.py " + " ".join(argv),
            "tarnd": os.path.relpath(args.tarnd, ROOT)}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                            "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    meta["commit"] = commit + (" with uncommitted changes in the working tree" if dirty else "")
    work = Path(tempfile.mkdtemp(prefix="tarn-mlflow-bench-", dir=args.tmp))
    meta["machine"] = machine(work)
    world = peer = None
    load_procs = []
    results = {}
    runner = Runner(args, started + args.max_minutes * 60)
    try:
        sides = []
        if "mlflow" in args.sides:  # it takes a while to start: in the background
            peer = PeerServer(work / "mlflow", args.peer_workers)
            peer.launch()
        try:
            import mlflow
        except ImportError:
            sys.exit("mlflow is not importable: run with .venv/bin/python (scripts/bootstrap.sh)")
        meta["mlflow"] = mlflow.__version__
        fixtures = import_fixtures()
        import tarn_harness
        if "tarnd" in args.sides:
            with bounded("starting tarnd", 120):
                world = fixtures.TarnWorld(work / "tarnd")
                world.start()
            sides.append(Side("tarnd", world.tracking_uri, world.server.ca_file, world=world))
            log(f"tarnd: {world.tracking_uri}")
        if "mlflow" in args.sides:
            with bounded("starting mlflow server", PEER_START_TIMEOUT + 30):
                peer.wait()
            sides.append(Side("mlflow", peer.url, peer=peer))
            log(f"mlflow server: {peer.url} ({peer.processes()} processes)")
            meta["peer_command"] = " ".join(
                ["mlflow"] + peer.command[1:]).replace(str(work), "$TMP")
            meta["peer_workers"] = (f"{args.peer_workers} workers" if args.peer_workers else
                                    "MLflow's defaults: uvicorn, 4 workers")
            meta["peer_processes"] = peer.processes()
        else:
            meta.update(peer_command="(not run)", peer_workers="not run", peer_processes=0)
        with BusySampler() as sampler:
            for w in only:
                log(f"--- {w} (at {time.monotonic() - started:.0f} s)")
                if w == "log_batch":
                    results[w] = bench_log_batch(args, sides, runner)
                elif w == "load":
                    results[w] = bench_load(args, sides, runner, tarn_harness, load_procs)
                elif w == "search":
                    results[w] = bench_search(args, sides, runner)
                elif w == "history":
                    results[w] = bench_history(args, sides, runner)
                elif w == "artifacts":
                    results[w] = bench_artifacts(args, sides, runner, work)
        meta["busy_during"] = sampler.note()
        if world and not world.server.alive():
            runner.failures.append(("-", "tarnd", "end", "tarnd is no longer running:\n"
                                    + world.server.describe()[-3000:]))
    finally:
        for p in load_procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        if peer:
            peer.stop()
        if world:
            world.stop()
        shutil.rmtree(work, ignore_errors=True)
    meta["busy_after"] = busy_note()
    meta["elapsed"] = time.monotonic() - started
    meta["failures"] = runner.failures
    text = report(args, results, meta)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.write_docs:
        if args.quick:
            log("--quick: not writing " + str(DOCS))
        else:
            DOCS.write_text(text + "\n")
            log("wrote " + str(DOCS))
    if runner.failures:
        log(f"{len(runner.failures)} phase(s) failed:")
        for w, side, phase, msg in runner.failures:
            log(f"  {w} {phase} on {side}: {msg[:3000]}")
        sys.exit(1)
    if args.quick:
        log("quick: every workload answered correctly on " + " and ".join(args.sides))


if __name__ == "__main__":
    main()
