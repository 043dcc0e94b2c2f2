#!/usr/bin/env python3
"""Tarn Studio in Chromium (issue 17's performance section): a directory of 1,000, 10,000 and
100,000 files, and the profile of a 10,000,000-row dataset, each measured from navigation:
first paint, the first rows on screen, the JavaScript heap then, and for a directory the time to
page through all of it by scrolling and the heap after that.

    .venv/bin/python bench/studio_bench.py [--files 1000,10000,100000] [--rows 10000000]
                                           [--rounds 3] [--out docs/benchmarks-studio.md] [--quick]

Run it with the project's .venv after scripts/build.sh release (tarnd, the studio, tarn.core)
and scripts/bootstrap.sh --browser (Debian's chromium). It starts tarnd (the tests' harness) on
127.0.0.1 in a temporary directory, makes the files with the Blob SDK and the dataset with
pyarrow and tarn.core, drives bench/studio_bench.mjs, and stops tarnd. Figures are medians over
the rounds. No peer runs here: Azure Storage Explorer is not in Debian or npm, and the MLflow UI
has no lake explorer or dataset profile; the targets are the issue's defaults (first rows within
1 s, a heap at first rows that does not grow with the directory).
"""
import argparse
import concurrent.futures
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
sys.path.insert(0, str(ROOT / "build" / "release" / "python"))

from identity_admin import Directory  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient  # noqa: E402
from tarn_harness import TarnServer  # noqa: E402

PASSWORD = "correct horse battery"


def make_files(srv, fs, name, count):
    """Put Blob of a small CSV per file over keep-alive connections, 8 threads (the Blob SDK's
    own overhead would make 100,000 files take minutes)."""
    raw = RawClient(srv)
    t0 = time.perf_counter()

    def put_range(start):
        conn = raw.connection()
        for i in range(start, min(count, start + 2000)):
            target, hdrs = raw.prepare("PUT", f"/{ACCOUNT}/{fs}/{name}/f{i:06d}.csv",
                                       headers={"x-ms-blob-type": "BlockBlob"}, body=b"a,b\n1,2\n")
            r = raw.send("PUT", target, hdrs, b"a,b\n1,2\n", conn=conn)
            if r.status != 201:
                raise RuntimeError(f"Put Blob answered {r.status}")
        conn.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put_range, range(0, count, 2000)))
    print(f"  {count} files in {name}/ made in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def make_dataset(srv, ws, fs, rows):
    rng = np.random.default_rng(7)
    table = pa.table({"id": np.arange(rows, dtype=np.int64),
                      "amount": rng.gamma(2.0, 30.0, rows),
                      "score": rng.normal(0, 1, rows),
                      "region": pa.array(np.array(["north", "south", "east", "west"])[
                          rng.integers(0, 4, rows)])})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=1 << 20)
    fsc = srv.datalake_service().get_file_system_client(fs)
    fsc.get_file_client("big/rows.parquet").upload_data(buf.getvalue(), overwrite=True)
    from tarn.core import Dataset, Datastore
    store = Datastore.get(ws, "lake")
    t0 = time.perf_counter()
    Dataset.Tabular.from_parquet_files(path=[(store, "big/rows.parquet")]).register(ws, "big")
    print(f"  a dataset of {rows} rows ({len(buf.getvalue()) >> 20} MiB Parquet) registered in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(result, args, machine):
    lines = [
        "# Benchmark: Tarn Studio in Chromium",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/studio_bench.py'] + sys.argv[1:])}`, "
        f"on {machine}; "
        f"{result['chromium']} headless, 1280x800; medians of {args.rounds} rounds. Times are "
        "from the navigation's start (a full load of the studio, signed in); the heap is "
        "Chromium's used JavaScript heap after a garbage collection.",
        "",
        "| directory | first paint | first rows | heap at first rows | DOM rows "
        "| page through all | heap after |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in args.files:
        rs = [r for r in result["dirs"] if r["files"] == n]
        lines.append(
            f"| {n:,} files | {median([r['first_paint_ms'] for r in rs]):.0f} ms "
            f"| {median([r['first_rows_ms'] for r in rs]):.0f} ms "
            f"| {median([r['heap_first_mib'] for r in rs]):.1f} MiB "
            f"| {median([r['rows_in_dom'] for r in rs]):.0f} "
            f"| {median([r['all_rows_ms'] for r in rs]) / 1000:.1f} s "
            f"| {median([r['heap_all_mib'] for r in rs]):.1f} MiB |")
    lines += ["", "| dataset | first paint | profile rows | histograms drawn | heap |",
              "|---:|---:|---:|---:|---:|"]
    for r0 in result["datasets"][:1]:
        rs = result["datasets"]
        lines.append(
            f"| {r0['rows']:,} rows | {median([r['first_paint_ms'] for r in rs]):.0f} ms "
            f"| {median([r['first_rows_ms'] for r in rs]):.0f} ms "
            f"| {median([r['histograms_ms'] for r in rs]):.0f} ms "
            f"| {median([r['heap_mib'] for r in rs]):.1f} MiB |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", default="1000,10000,100000",
                    help="directory sizes, comma-separated")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, one round: that it runs, not a measurement")
    ap.add_argument("--out", help="write the Markdown page here (e.g. docs/benchmarks-studio.md)")
    args = ap.parse_args()
    if args.quick:
        args.files, args.rows, args.rounds = "200,2000", 100_000, 1
    args.files = [int(x) for x in args.files.split(",")]
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()})"
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        srv = TarnServer(Path(tmp) / "data", Path(tmp) / "logs").start()
        try:
            d = Directory(srv)
            tenant = d.tenant()
            ada = d.call("POST", f"/tenants/{tenant}/principals",
                         {"kind": "user", "display_name": "ada",
                          "upn": "ada@contoso.example"}, 201)
            d.call("PUT", f"/principals/{ada['object_id']}/password", {"password": PASSWORD}, 200)
            d.assign(ada["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}")
            fs = "bench"
            srv.datalake_service().create_file_system(fs)
            for n in args.files:
                make_files(srv, fs, f"d{n}", n)
            from tarn.core import Datastore, Workspace
            ws = Workspace.create("studiobench", tarn_endpoint=srv.url, account_key=ACCOUNT_KEY)
            d.assign(ada["object_id"], "Reader", f"/workspaces/{ws.name}")
            Datastore.register_azure_data_lake_gen2(ws, "lake", fs, ACCOUNT)
            make_dataset(srv, ws, fs, args.rows)
            cfg = {"url": srv.https_url, "tenant": tenant, "user": "ada@contoso.example",
                   "password": PASSWORD, "account": ACCOUNT, "fs": fs, "ws": ws.name,
                   "rounds": args.rounds,
                   "dirs": [{"name": f"d{n}", "files": n} for n in args.files],
                   "datasets": [{"name": "big", "rows": args.rows}]}
            r = subprocess.run(["node", str(ROOT / "bench" / "studio_bench.mjs")],
                               env={**os.environ, "STUDIO_BENCH": json.dumps(cfg)},
                               capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                sys.exit(f"studio_bench.mjs failed:\n{r.stderr[-4000:]}")
            result = json.loads(r.stdout.strip().splitlines()[-1])
        finally:
            srv.stop()
    for row in result["dirs"]:
        want = f"{row['files']} items"
        if row["listed"] != want:
            sys.exit(f"directory {row['name']}: listed '{row['listed']}', expected '{want}'")
    page = report(result, args, machine)
    print(page)
    if args.out:
        Path(args.out).write_text(page)


if __name__ == "__main__":
    main()
