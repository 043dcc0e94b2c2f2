#!/usr/bin/python3
"""Server-side pipelines (issue 13, section 8), each side by side with a peer in one run:

  curate   ~1 GiB of raw CSV (16 files, columns id,region,day,amount,note) typed and written as
           zstd Parquet partitioned by region: the whole `tarn pipeline run` (inputs read from the
           lake, SQL, staging upload, gate, publish, registration), against plain DuckDB's
           COPY (SELECT ...) TO dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (region)) over
           the same files on local disk. Target: tarn >= 80% of DuckDB's throughput.
  publish  the publish stage (steps[0].timings.publish_s) of a step writing 10 files against one
           writing 10,000 (partition_by over a column of N distinct values). Target: within 2x.
  checks   the gate (steps[0].timings.checks_s: row_count > 0, missing_count(amount) = 0,
           invalid_count(region) = 0 with valid values) over 10 million rows, against one DuckDB
           aggregate query over the same rows as Parquet on local disk. Target: within 2x.

    /usr/bin/python3 bench/pipeline_bench.py [--gib 1.0] [--rounds 3] [--only curate publish checks]
                                             [--out FILE | --write-docs] [--quick]

tarnd is started here (127.0.0.1, a temporary directory) and always stopped. The CSV files are
generated locally by DuckDB, uploaded once with Microsoft's azure-storage-file-datalake into a raw
filesystem and registered as a tabular CSV dataset (--no-infer-types: every column a string, so
the step's SQL does the typing; the DuckDB side reads them with all_varchar=true, the same work).
The peer is bench/duckdb_ref.cc (_duckdb_ref: the libduckdb tarnd links, DuckDB's own local file
system, none of Tarn's code), built into build/release/bench/python. Both sides use one DuckDB
thread per core. Rounds alternate which side goes first; each figure is the median of the rounds,
with its spread (max/min - 1); each pipeline runs once, untimed, before
its rounds. The stage timings come from the run report when it has them
(steps[].timings); without them the publish and checks figures cannot be measured and say so.
--quick runs tiny sizes, one round, and asserts only that everything completes (for CI).
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
sys.path.insert(0, str(HERE))
from auth_overhead import start_tarnd  # noqa: E402
from people_bench import machine  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY  # noqa: E402

REF_DIR = Path(os.environ.get("TARN_BENCH_PYTHON_DIR") or ROOT / "build/release/bench/python")
DOCS = ROOT / "docs" / "benchmarks-pipelines.md"
REGIONS = ["north", "south", "east", "west", "central", "islands"]
CHECK_REGIONS = ["north", "south", "east", "west", "central"]
CSV_FILES = 16

# The typing SELECT, the same on both sides: over read_csv(...) for DuckDB, over the input for tarn.
CURATE_SELECT = ("SELECT CAST(id AS BIGINT) AS id, region, CAST(day AS DATE) AS day, "
                 "TRY_CAST(amount AS DOUBLE) AS amount FROM {src}")
# The raw rows, as DuckDB writes them to CSV: a few regions, about 1 amount in 1000 not a number
# and 1 in 997 empty, a note of about 40 characters that the curated output drops.
RAW_SELECT = (
    "SELECT i AS id, "
    "(" + repr(REGIONS).replace('"', "'") + ")[i % " + str(len(REGIONS)) + " + 1] AS region, "
    "DATE '2024-01-01' + (i % 366)::INTEGER AS day, "
    "CASE WHEN i % 1000 = 7 THEN 'n/a' WHEN i % 997 = 3 THEN NULL "
    "ELSE printf('%.2f', ((i * 7919) % 100000) / 100.0) END AS amount, "
    "'order ' || ((i * 2654435761) % 1000000007)::VARCHAR || ' of customer ' || "
    "((i * 40503) % 99991)::VARCHAR AS note "
    "FROM range({lo}, {hi}) t(i)")
# The gate's rows: 10 million by default, from range(), no null amount, every region valid.
CHECK_SELECT = (
    "SELECT i AS id, (" + repr(CHECK_REGIONS).replace('"', "'") + ")[i % " +
    str(len(CHECK_REGIONS)) + " + 1] AS region, round(((i * 7919) % 100000) / 100.0, 2) AS amount "
    "FROM range({rows}) t(i)")


def sql_list(values):
    return ", ".join("'" + v + "'" for v in values)


class Tarn:
    """The tarn CLI against one tarnd and workspace, every command bounded by a timeout."""

    def __init__(self, binary, endpoint, workspace):
        self.binary = binary
        self.env = dict(os.environ, TARN_ENDPOINT=endpoint, TARN_ACCOUNT_KEY=ACCOUNT_KEY,
                        TARN_WORKSPACE=workspace)

    def __call__(self, *args, timeout=600, ok=(0,)):
        p = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if p.returncode not in ok:
            sys.exit(f"tarn {' '.join(args)} failed ({p.returncode}):\n{p.stdout[-4000:]}\n"
                     f"{p.stderr[-4000:]}")
        return p

    def run_pipeline(self, name, timeout):
        """`tarn --json pipeline run NAME`: (wall seconds, the run report)."""
        t = time.perf_counter()
        p = self("--json", "pipeline", "run", name, "--timeout", str(int(timeout)),
                 timeout=timeout + 60, ok=(0, 4))
        wall = time.perf_counter() - t
        run = json.loads(p.stdout) if p.stdout.strip() else {}
        if p.returncode != 0 or run.get("status") != "succeeded":
            sys.exit(f"pipeline {name} did not succeed ({p.returncode}):\n"
                     f"{json.dumps(run, indent=1)[-4000:]}\n{p.stderr[-2000:]}")
        return wall, run


def timings(run):
    """steps[0].timings of a run report, or {} when tarnd does not report them."""
    steps = run.get("steps") or [{}]
    t = steps[0].get("timings")
    return t if isinstance(t, dict) else {}


def rounds(n):
    return f"{n} round" + ("" if n == 1 else "s")


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    return (max(xs) / min(xs) - 1) if xs and min(xs) > 0 else None


def fmt_s(x, digits=2):
    return "n/a" if x is None else f"{x:.{digits}f} s"


def fmt_pct(x):
    return "n/a" if x is None else f"{x * 100:.0f}%"


QUICK = False  # --quick: sizes too small for the targets to mean anything


def verdict(met):
    if met is None:
        return "n/a"
    if QUICK:
        return "not judged (--quick)"
    return "**met**" if met else "**missed**"


def busy_note():
    """Other work on the machine: load average and whether a compiler is running."""
    load = os.getloadavg()
    cc = subprocess.run(["pgrep", "-c", "cc1plus"], capture_output=True, text=True).stdout.strip()
    return f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, cc1plus processes {cc or '0'}"


class BusySampler:
    """Samples, every 2 s while the benchmarks run, whether a compiler is running and the load."""

    def __init__(self):
        self.samples = []  # (cc1plus processes, 1-minute load)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop.wait(2.0):
            cc = subprocess.run(["pgrep", "-c", "cc1plus"], capture_output=True,
                                text=True).stdout.strip()
            self.samples.append((int(cc or 0), os.getloadavg()[0]))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)

    def note(self):
        if not self.samples:
            return "no samples"
        busy = sum(1 for cc, _ in self.samples if cc > 0)
        loads = sorted(load for _, load in self.samples)
        return (f"a compiler (cc1plus) was running in {busy} of {len(self.samples)} samples "
                f"taken every 2 s ({busy * 100 // len(self.samples)}%), 1-minute load median "
                f"{statistics.median(loads):.2f}, max {loads[-1]:.2f}")


def write_pipeline(path, name, step):
    """A one-step pipeline file; `step` holds inputs, sql, output and checks as YAML text."""
    path.write_text(f"version: 1\nname: {name}\nsteps:\n  - name: {name}\n{step}")
    return path


# ----- curate: raw CSV into partitioned zstd Parquet ------------------------------------------

def make_csv(ref, src, total_bytes, files=CSV_FILES):
    """`files` CSV files of about total_bytes/files each, by DuckDB; returns (bytes, rows)."""
    src.mkdir(parents=True, exist_ok=True)
    sample = src / "sample.csv"
    ref.execute(f"COPY ({RAW_SELECT.format(lo=10**7, hi=10**7 + 100000)}) TO '{sample}' (HEADER)")
    per_row = sample.stat().st_size / 100000
    sample.unlink()
    rows_per_file = max(100, int(total_bytes / files / per_row))
    for k in range(files):
        lo = 10**7 + k * rows_per_file
        ref.execute(f"COPY ({RAW_SELECT.format(lo=lo, hi=lo + rows_per_file)}) TO "
                    f"'{src / f'sales-{k:02d}.csv'}' (HEADER)")
    size = sum(f.stat().st_size for f in src.glob("*.csv"))
    return size, rows_per_file * files


def upload_dir(fs, local, prefix):
    for f in sorted(local.glob("*.csv")):
        with open(f, "rb") as data:
            fs.get_file_client(f"{prefix}/{f.name}").upload_data(
                data, overwrite=True, length=f.stat().st_size, max_concurrency=4,
                chunk_size=8 << 20)


def bench_curate(args, ref, tarn, dls, work, stores, log):
    src = work / "csv"
    t0 = time.monotonic()
    size, rows = make_csv(ref, src, args.gib * 2**30)
    log(f"curate: {CSV_FILES} CSV files, {size / 2**20:.1f} MiB, {rows:,} rows generated in "
        f"{time.monotonic() - t0:.1f} s")
    t0 = time.monotonic()
    upload_dir(dls.get_file_system_client("raw"), src, "sales/batch1")
    tarn("dataset", "create", "sales_raw", "--datastore", stores["raw"], "--path",
         "sales/batch1/*.csv", "--no-infer-types", timeout=1200)
    log(f"curate: uploaded with the DataLake SDK and registered in {time.monotonic() - t0:.1f} s")
    step = (
        "    inputs: {sales: sales_raw}\n"
        "    sql: |\n"
        f"      {CURATE_SELECT.format(src='sales')}\n"
        "    output:\n"
        "      dataset: sales_curated\n"
        f"      datastore: {stores['curated']}\n"
        "      path: sales/orders\n"
        "      partition_by: [region]\n"
        "    checks:\n"
        "      - row_count > 0\n")
    tarn("pipeline", "put", str(write_pipeline(work / "curate.yaml", "curate", step)))
    tarn.run_pipeline("curate", args.timeout)  # untimed: every timed run replaces an output
    duck_sql = CURATE_SELECT.format(src=f"read_csv('{src}/*.csv', all_varchar = true)")
    res = {"tarn": [], "duckdb": [], "timings": [], "bytes": size, "rows": rows,
           "files_out": None, "rows_out": None, "duck_rows": None, "duck_files": None}
    for r in range(args.rounds):
        order = ["duckdb", "tarn"] if r % 2 else ["tarn", "duckdb"]
        for side in order:
            if side == "tarn":
                wall, run = tarn.run_pipeline("curate", args.timeout)
                st = run["steps"][0]
                res["tarn"].append(wall)
                res["timings"].append(dict(timings(run), duration_s=st.get("duration_s"),
                                           run_duration_s=run.get("duration_s")))
                res["rows_out"], res["files_out"] = st.get("rows_out"), st.get("files")
                log(f"round {r + 1}: tarn pipeline run {wall:.2f} s (step {st.get('duration_s')} "
                    f"s, timings {timings(run) or 'not reported'})")
            else:
                out = work / f"duck-curated-{r}"
                t = time.perf_counter()
                ref.execute(f"COPY ({duck_sql}) TO '{out}' (FORMAT parquet, COMPRESSION zstd, "
                            f"PARTITION_BY (region))")
                res["duckdb"].append(time.perf_counter() - t)
                log(f"round {r + 1}: DuckDB COPY {res['duckdb'][-1]:.2f} s")
                if res["duck_rows"] is None:
                    res["duck_rows"] = int(ref.read(
                        f"SELECT count(*) AS n FROM read_parquet('{out}/**/*.parquet')")[0][1][0])
                    res["duck_files"] = sum(1 for _ in out.rglob("*.parquet"))
                shutil.rmtree(out, ignore_errors=True)
    if res["rows_out"] != res["duck_rows"]:
        sys.exit(f"curate: tarn wrote {res['rows_out']} rows, DuckDB {res['duck_rows']}")
    shutil.rmtree(src, ignore_errors=True)
    return res


# ----- publish: 10 files against 10,000 -------------------------------------------------------

def bench_publish(args, tarn, work, stores, log):
    sizes = [args.files_few, args.files_many]
    for n in sizes:
        step = (
            "    inputs: {seed: seed}\n"
            "    sql: |\n"
            f"      SELECT t.i % {n} AS part, t.i AS i FROM range({n}) t(i), "
            "(SELECT count(*) AS n FROM seed) s\n"
            "    output:\n"
            f"      dataset: published_{n}\n"
            f"      datastore: {stores['product']}\n"
            f"      path: publish/n{n}\n"
            "      partition_by: [part]\n"
            "    checks:\n"
            "      - row_count > 0\n")
        tarn("pipeline", "put", str(write_pipeline(work / f"publish{n}.yaml", f"publish{n}",
                                                   step)))
        tarn.run_pipeline(f"publish{n}", args.timeout)  # untimed, as for curate
    res = {n: {"wall": [], "publish": [], "timings": [], "files": None} for n in sizes}
    for r in range(args.publish_rounds):
        for n in (sizes if r % 2 == 0 else list(reversed(sizes))):
            wall, run = tarn.run_pipeline(f"publish{n}", args.timeout)
            st, tm = run["steps"][0], timings(run)
            res[n]["wall"].append(wall)
            res[n]["timings"].append(dict(tm, duration_s=st.get("duration_s")))
            if "publish_s" in tm:
                res[n]["publish"].append(float(tm["publish_s"]))
            res[n]["files"] = st.get("files")
            log(f"round {r + 1}: {n} partitions, {st.get('files')} files: run {wall:.2f} s, "
                f"publish {tm.get('publish_s', 'not reported')}")
    return res


# ----- checks: the gate over 10 million rows --------------------------------------------------

def bench_checks(args, ref, tarn, work, stores, log):
    rows = args.check_rows
    values = "[" + ", ".join(CHECK_REGIONS) + "]"
    step = (
        "    inputs: {seed: seed}\n"
        "    sql: |\n"
        f"      {CHECK_SELECT.format(rows=rows)}, (SELECT count(*) AS n FROM seed) s\n"
        "    output:\n"
        "      dataset: gated\n"
        f"      datastore: {stores['product']}\n"
        "      path: gate/rows\n"
        "    checks:\n"
        "      - row_count > 0\n"
        "      - missing_count(amount) = 0\n"
        "      - invalid_count(region) = 0:\n"
        f"          valid values: {values}\n")
    tarn("pipeline", "put", str(write_pipeline(work / "gate.yaml", "gate", step)))
    tarn.run_pipeline("gate", args.timeout)  # untimed, as for curate
    # The same rows as Parquet on local disk, written by DuckDB as the step writes them.
    local = work / "gate-parquet"
    ref.execute(f"COPY ({CHECK_SELECT.format(rows=rows)}) TO '{local}' (FORMAT parquet, "
                f"COMPRESSION zstd, FILENAME_PATTERN 'part-{{i}}', FILE_SIZE_BYTES {128 << 20})")
    query = (f"SELECT count(*) AS row_count, count(*) FILTER (WHERE amount IS NULL) AS missing, "
             f"count(*) FILTER (WHERE region IS NOT NULL AND region NOT IN "
             f"({sql_list(CHECK_REGIONS)})) AS invalid "
             f"FROM read_parquet('{local}/**/*.parquet')")
    res = {"tarn": [], "duckdb": [], "timings": [], "rows": rows, "wall": [],
           "parquet_bytes": sum(f.stat().st_size for f in local.rglob("*.parquet")),
           "parquet_files": sum(1 for _ in local.rglob("*.parquet"))}
    for r in range(args.check_rounds):
        for side in (["duckdb", "tarn"] if r % 2 else ["tarn", "duckdb"]):
            if side == "tarn":
                wall, run = tarn.run_pipeline("gate", args.timeout)
                st, tm = run["steps"][0], timings(run)
                bad = [c for c in st.get("checks", []) if c.get("outcome") != "pass"]
                if st.get("rows_out") != rows or bad:
                    sys.exit(f"checks: the step wrote {st.get('rows_out')} rows; checks {bad}")
                res["wall"].append(wall)
                res["timings"].append(dict(tm, duration_s=st.get("duration_s")))
                if "checks_s" in tm:
                    res["tarn"].append(float(tm["checks_s"]))
                log(f"round {r + 1}: tarn gate checks {tm.get('checks_s', 'not reported')} "
                    f"(run {wall:.2f} s)")
            else:
                t = time.perf_counter()
                cols = dict(ref.read(query))
                res["duckdb"].append(time.perf_counter() - t)
                got = (int(cols["row_count"][0]), int(cols["missing"][0]), int(cols["invalid"][0]))
                if got != (rows, 0, 0):
                    sys.exit(f"checks: DuckDB's aggregate gave {got}")
                log(f"round {r + 1}: DuckDB one scan {res['duckdb'][-1]:.3f} s")
    shutil.rmtree(local, ignore_errors=True)
    return res


# ----- the report -----------------------------------------------------------------------------

def stage_medians(tlist, keys=("sql_s", "checks_s", "profile_s", "upload_s", "publish_s",
                                "swap_s", "register_s", "cleanup_s", "duration_s")):
    out = {}
    for k in keys:
        xs = [float(t[k]) for t in tlist if t.get(k) is not None]
        if xs:
            out[k] = statistics.median(xs)
    return out


def stages_text(tlist):
    m = stage_medians(tlist)
    if not m:
        return "not reported"
    return ", ".join(f"{k[:-2]} {v:.3f} s" for k, v in m.items())


def report(args, results, meta):
    L = [
        f"Machine: {machine()}. Run {meta['when']}, commit {meta['commit']}; "
        f"DuckDB {meta['duckdb']} on both sides, one thread per core. Other work on the machine: "
        f"{meta['busy_before']} at the start, {meta['busy_after']} at the end; during the "
        f"benchmarks {meta.get('busy_during', 'not sampled')}. "
        f"Total {meta['elapsed'] / 60:.1f} min.",
        "",
        f"Rerun: `{meta['command']}`",
        "",
        "Each pipeline runs once, untimed, before its timed rounds, so that every timed run "
        "replaces a published output (as a scheduled run does) and the first round is not the "
        "only one without an old output to retire.",
        "",
    ]
    summary = []
    if "curate" in results:
        c = results["curate"]
        mib = c["bytes"] / 2**20
        t, d = med(c["tarn"]), med(c["duckdb"])
        ratio = d / t
        summary.append(("Curating CSV into partitioned zstd Parquet (throughput)",
                        f"{mib / t:.0f} MiB/s", f"{mib / d:.0f} MiB/s", f"{ratio:.2f}x",
                        ">= 0.80x", verdict(ratio >= 0.8)))
        L += [
            "## Curating raw CSV into partitioned zstd Parquet",
            "",
            f"{CSV_FILES} CSV files, {mib:,.1f} MiB, {c['rows']:,} rows (id, region, day, amount, "
            f"note; {len(REGIONS)} regions), landed once in a raw filesystem with the DataLake SDK "
            f"and registered with `--no-infer-types`. Both sides run `{CURATE_SELECT.format(src='…')}` "
            f"and write zstd Parquet partitioned by region ({c['rows_out']:,} rows; tarn "
            f"{c['files_out']} files, DuckDB {c['duck_files']}). tarn: the whole `tarn pipeline "
            "run` wall time (inputs read through the lake, SQL, upload to staging, the gate "
            "`row_count > 0`, publish, registration of the version). DuckDB: "
            "`COPY (SELECT ... FROM read_csv('dir/*.csv', all_varchar = true)) TO dir "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (region))` on local disk. "
            f"{rounds(len(c['tarn']))}, alternating.",
            "",
            "| side | median | MiB/s | spread | rounds | vs DuckDB |",
            "|---|---|---|---|---|---|",
            f"| tarn pipeline run | {t:.2f} s | {mib / t:,.0f} | {fmt_pct(spread(c['tarn']))} | "
            f"{', '.join(f'{x:.2f}' for x in c['tarn'])} | {ratio:.2f}x |",
            f"| DuckDB COPY | {d:.2f} s | {mib / d:,.0f} | {fmt_pct(spread(c['duckdb']))} | "
            f"{', '.join(f'{x:.2f}' for x in c['duckdb'])} | 1.00x |",
            "",
            f"tarn's step, from the run report (medians): {stages_text(c['timings'])}.",
            "",
            f"Target: tarn >= 80% of DuckDB's throughput. Measured: {ratio * 100:.0f}% "
            f"({verdict(ratio >= 0.8)}).",
            "",
        ]
    if "publish" in results:
        p = results["publish"]
        few, many = args.files_few, args.files_many
        pf, pm = med(p[few]["publish"]), med(p[many]["publish"])
        ratio = pm / pf if pf and pm is not None else None
        summary.append((f"Publishing {many:,} files against {few}",
                        fmt_s(pm, 3), fmt_s(pf, 3) + f" ({few} files)",
                        "n/a" if ratio is None else f"{ratio:.2f}x", "<= 2x",
                        verdict(None if ratio is None else ratio <= 2)))
        L += [
            f"## Publishing: {few} output files against {many:,}",
            "",
            f"A step `SELECT t.i % N AS part, t.i FROM range(N) ...` over a one-row input, "
            f"partition_by [part]: N partitions, one row and one Parquet file each, into the "
            f"product datastore. The figure is the publish stage, `steps[0].timings.publish_s` "
            f"(the swap of the staged folder into the output path and the registration of the "
            f"version; its profile is taken before, in profile_s), split in the stages column "
            f"into swap (the one namespace transaction that makes the new output visible to "
            f"every reader), register (listing, pinning and recording every file of the "
            f"version: proportional to the files) and cleanup. "
            f"{rounds(args.publish_rounds)}, alternating N.",
            "",
            "| N | files | publish (median) | spread | rounds | whole run (median) | stages (medians) |",
            "|---|---|---|---|---|---|---|",
        ]
        for n in (few, many):
            q = p[n]
            L.append(f"| {n:,} | {q['files']} | {fmt_s(med(q['publish']), 3)} | "
                     f"{fmt_pct(spread(q['publish']))} | "
                     f"{', '.join(f'{x:.3f}' for x in q['publish']) or 'n/a'} | "
                     f"{fmt_s(med(q['wall']))} | {stages_text(q['timings'])} |")
        L += ["",
              f"Target: publish({many:,}) within 2x of publish({few}). Measured: "
              + ("n/a: the run report has no `timings.publish_s`" if ratio is None
                 else f"{ratio:.2f}x ({verdict(ratio <= 2)})") + ".", ""]
    if "checks" in results:
        c = results["checks"]
        t, d = med(c["tarn"]), med(c["duckdb"])
        ratio = t / d if t is not None else None
        summary.append((f"The gate's checks over {c['rows']:,} rows", fmt_s(t, 3), fmt_s(d, 3),
                        "n/a" if ratio is None else f"{ratio:.2f}x", "<= 2x",
                        verdict(None if ratio is None else ratio <= 2)))
        L += [
            f"## The gate's checks over {c['rows']:,} rows",
            "",
            f"A step writes {c['rows']:,} rows (id, region, amount) generated from range() "
            f"over a one-row input, unpartitioned; its gate: `row_count > 0`, "
            f"`missing_count(amount) = 0`, `invalid_count(region) = 0` with valid values "
            f"{', '.join(CHECK_REGIONS)}. tarn: `steps[0].timings.checks_s`. DuckDB: one "
            "query, `SELECT count(*), count(*) FILTER (WHERE amount IS NULL), count(*) FILTER "
            "(WHERE region IS NOT NULL AND region NOT IN (...)) FROM read_parquet(...)`, over the "
            f"same rows written locally by DuckDB as zstd Parquet ({c['parquet_files']} file(s), "
            f"{c['parquet_bytes'] / 2**20:.1f} MiB). {rounds(len(c['duckdb']))}, alternating.",
            "",
            "| side | median | spread | rounds |",
            "|---|---|---|---|",
            f"| tarn gate (checks_s) | {fmt_s(t, 3)} | {fmt_pct(spread(c['tarn']))} | "
            f"{', '.join(f'{x:.3f}' for x in c['tarn']) or 'n/a'} |",
            f"| DuckDB, one scan | {fmt_s(d, 3)} | {fmt_pct(spread(c['duckdb']))} | "
            f"{', '.join(f'{x:.3f}' for x in c['duckdb'])} |",
            "",
            f"tarn's step, from the run report (medians): {stages_text(c['timings'])}; whole run "
            f"{fmt_s(med(c['wall']))}.",
            "",
            "Target: the checks within 2x of one DuckDB scan. Measured: "
            + ("n/a: the run report has no `timings.checks_s`" if ratio is None
               else f"{ratio:.2f}x ({verdict(ratio <= 2)})") + ".",
            "",
        ]
    head = ["# Benchmarks: pipelines (issue 13, section 8)", "",
            "| what | tarn | peer | ratio | target | |", "|---|---|---|---|---|---|"]
    head += [f"| {' | '.join(row)} |" for row in summary]
    return "\n".join(head + [""] + L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gib", type=float, default=1.0, help="raw CSV to curate, GiB")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of curate and checks")
    ap.add_argument("--publish-rounds", type=int, default=5)
    ap.add_argument("--check-rounds", type=int, default=5)
    ap.add_argument("--files-few", type=int, default=10)
    ap.add_argument("--files-many", type=int, default=10000)
    ap.add_argument("--check-rows", type=int, default=10_000_000)
    ap.add_argument("--only", nargs="*", choices=["curate", "publish", "checks"],
                    help="run only these benchmarks (default: all)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per pipeline run")
    ap.add_argument("--tarnd", default=str(ROOT / "build/release/src/server/tarnd"))
    ap.add_argument("--tarn", default=str(ROOT / "build/release/src/cli/tarn"))
    ap.add_argument("--tmp", help="directory for the temporary files (default: $TMPDIR)")
    ap.add_argument("--out", help="write the Markdown report here too")
    ap.add_argument("--write-docs", action="store_true",
                    help=f"write the report to {DOCS.relative_to(ROOT)} (not with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, one round, asserts only completion (CI)")
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
        args.gib, args.rounds, args.publish_rounds, args.check_rounds = 4 / 1024, 1, 1, 1
        args.files_many, args.check_rows, args.timeout = 100, 100_000, min(args.timeout, 300)
    only = args.only or ["curate", "publish", "checks"]
    for b in (args.tarnd, args.tarn):
        if not Path(b).exists():
            sys.exit(f"{b} is missing: bash scripts/build.sh release tarn tarnd duckdb_ref")
    sys.path.insert(0, str(REF_DIR))
    try:
        import _duckdb_ref as ref
    except ImportError:
        sys.exit(f"_duckdb_ref not found in {REF_DIR}: bash scripts/build.sh release duckdb_ref")
    from azure.storage.filedatalake import DataLakeServiceClient

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.monotonic()
    meta = {"when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "busy_before": busy_note(), "duckdb": ref.version,
            "command": "/usr/bin/python3 bench/pipeline_bench.py " + " ".join(argv)}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    meta["commit"] = commit + (" with uncommitted changes in the working tree" if dirty else "")
    work = Path(tempfile.mkdtemp(prefix="tarn-pipeline-bench-", dir=args.tmp))
    proc = None
    results = {}
    try:
        proc, http, _ = start_tarnd(args.tarnd, str(work / "data"))
        dls = DataLakeServiceClient(f"{http}/{ACCOUNT}", credential={
            "account_name": ACCOUNT, "account_key": ACCOUNT_KEY})
        ws = "pipebench"
        tarn = Tarn(args.tarn, http, ws)
        tarn("workspace", "create", ws)
        stores = {}
        for zone in ("raw", "curated", "product"):
            dls.create_file_system(zone)
            stores[zone] = f"{zone}_zone"
            tarn("datastore", "register", stores[zone], "--filesystem", zone, "--account-key",
                 ACCOUNT_KEY)
        # The tiny input of the publish and checks steps.
        dls.get_file_system_client("raw").get_file_client("seed/seed.csv").upload_data(
            b"x\n1\n", overwrite=True)
        tarn("dataset", "create", "seed", "--datastore", stores["raw"], "--path", "seed/*.csv")
        with BusySampler() as sampler:
            if "curate" in only:
                results["curate"] = bench_curate(args, ref, tarn, dls, work, stores, log)
            if "publish" in only:
                results["publish"] = bench_publish(args, tarn, work, stores, log)
            if "checks" in only:
                results["checks"] = bench_checks(args, ref, tarn, work, stores, log)
        meta["busy_during"] = sampler.note()
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    meta["busy_after"] = busy_note()
    meta["elapsed"] = time.monotonic() - started
    text = report(args, results, meta)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    if args.write_docs:
        if args.quick:
            log("--quick: not writing " + str(DOCS))
        else:
            DOCS.write_text(text)
            log("wrote " + str(DOCS))
    if args.quick:
        log("quick: every pipeline completed")


if __name__ == "__main__":
    main()
