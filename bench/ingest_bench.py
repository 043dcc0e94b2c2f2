#!/usr/bin/python3
"""Ingesting many small files into the raw zone (issue 13, section 8): `tarn ingest`, which also
hashes every file twice, describes every CSV (row count and schema, by DuckDB) and writes the
batch's manifest before publishing it with one rename, against Microsoft's AzCopy copying the
same files into the same tarnd (--from-to LocalBlobFS --put-md5), both signed with Shared Key.

    /usr/bin/python3 bench/ingest_bench.py [--files 10000] [--rounds 3] [--out FILE]

Each round runs both tools, in alternating order, on a tarnd it starts (127.0.0.1, a temporary
directory), into fresh filesystems; every round lands under a new source name, so tarn's
duplicate detection never skips the work. The figure is whole-command wall time, the median of
the rounds; each tool's spread (max/min - 1) is the noise the ratio is read against. Each tool
runs with its default concurrency (tarn: 8 connections; AzCopy: its own default).
"""
import argparse
import glob
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
from auth_overhead import start_tarnd  # noqa: E402
from people_bench import machine  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY  # noqa: E402


def find_azcopy():
    found = sorted(glob.glob(str(ROOT / ".tools/node_modules/@azure-tools/azcopy-linux*/dist/bin/"
                                 "azcopy*")))
    if not found:
        sys.exit("AzCopy not found: run scripts/bootstrap.sh")
    return found[0]


def make_files(root, n, seed=7):
    """n small CSV files (200 B to 4 KiB), 100 per folder."""
    rnd = random.Random(seed)
    total = 0
    for i in range(n):
        d = root / f"d{i // 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        rows = rnd.randint(4, 120)
        text = "id,region,amount\n" + "".join(
            f"{i * 1000 + r},{rnd.choice(('north', 'south', 'east', 'west'))},{rnd.random() * 100:.2f}\n"
            for r in range(rows))
        (d / f"part-{i:05d}.csv").write_text(text)
        total += len(text)
    return total


def timed(cmd, env):
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800,
                       stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tarnd", default=str(ROOT / "build/release/src/server/tarnd"))
    ap.add_argument("--tarn", default=str(ROOT / "build/release/src/cli/tarn"))
    ap.add_argument("--out", help="write the Markdown table here too")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tarn-ingest-bench-"))
    proc = None
    try:
        src = work / "landing"
        total = make_files(src, args.files)
        proc, http, _ = start_tarnd(args.tarnd, str(work / "data"))
        azcopy = find_azcopy()
        home = work / "azcopy-home"
        az_env = dict(os.environ, HOME=str(home), AZCOPY_LOG_LOCATION=str(home / "logs"),
                      AZCOPY_JOB_PLAN_LOCATION=str(home / "plans"), AZCOPY_DISABLE_SYSLOG="true",
                      ACCOUNT_NAME=ACCOUNT, ACCOUNT_KEY=ACCOUNT_KEY)
        for k in [k for k in az_env if k.startswith("AZCOPY_CONCURRENCY")]:
            del az_env[k]
        tarn_env = dict(os.environ, TARN_ENDPOINT=http, TARN_ACCOUNT_KEY=ACCOUNT_KEY)
        host = http.split("//", 1)[1]
        # The filesystem, made once with Microsoft's DataLake SDK.
        from azure.storage.filedatalake import DataLakeServiceClient
        DataLakeServiceClient(f"{http}/{ACCOUNT}", credential={
            "account_name": ACCOUNT, "account_key": ACCOUNT_KEY}).create_file_system("raw")
        times = {"tarn ingest": [], "AzCopy": []}
        for r in range(args.rounds):
            runs = [
                ("AzCopy", [azcopy, "copy", str(src), f"{http}/{ACCOUNT}/raw/azcopy-r{r}",
                            "--from-to", "LocalBlobFS", "--recursive", "--put-md5",
                            "--skip-version-check", "--log-level=ERROR",
                            f"--trusted-microsoft-suffixes={host}"], az_env),
                ("tarn ingest", [args.tarn, "ingest", str(src), "--source", f"bench-r{r}",
                                 "-f", "raw"], tarn_env),
            ]
            if r % 2:
                runs.reverse()
            for name, cmd, env in runs:
                times[name].append(timed(cmd, env))
                print(f"round {r + 1}: {name} {times[name][-1]:.2f} s", flush=True)

        med = {k: statistics.median(v) for k, v in times.items()}
        rate = {k: args.files / v for k, v in med.items()}
        spread = {k: max(v) / min(v) - 1 for k, v in times.items()}
        ratio = rate["tarn ingest"] / rate["AzCopy"]
        lines = [
            f"Machine: {machine()}. {args.files:,} CSV files, {total / 2**20:.1f} MiB in all, "
            f"{args.rounds} rounds (`/usr/bin/python3 bench/ingest_bench.py --files {args.files} "
            f"--rounds {args.rounds}`).",
            "",
            "| tool | median wall time | files/s | spread | vs AzCopy |",
            "|---|---|---|---|---|",
        ]
        for k in ("tarn ingest", "AzCopy"):
            lines.append(f"| {k} | {med[k]:.2f} s | {rate[k]:,.0f} | {spread[k] * 100:.0f}% | "
                         f"{rate[k] / rate['AzCopy']:.2f}x |")
        lines += ["", f"Target: tarn ingest >= 1.0x AzCopy's rate, manifests included. "
                      f"Measured: {ratio:.2f}x."]
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            Path(args.out).write_text(text)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
