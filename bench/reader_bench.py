#!/usr/bin/env python3
"""Reading partitioned Parquet from the lake with the Python data stack (issue 15, section 6),
each reader beside its peer in one run, on one machine:

- pandas: pd.read_parquet("azureml://datastores/<d>/paths/<p>/") through tarn.fsspec, against
  adlfs's pd.read_parquet("abfs://<fs>/<p>/") on the same tarnd, and against adlfs on Azurite
  (on disk) serving the same files;
- pyarrow: pq.read_table over pyarrow.fs.AzureFileSystem on tarnd, against pq.read_table of
  the same files on local disk.

    .venv/bin/python bench/reader_bench.py [--rows 5000000] [--rounds 5] [--out docs/benchmarks-readers.md] [--quick]

Run it with the project's .venv (the readers are its pinned PyPI packages) after
scripts/build.sh release (tarnd and tarn._native). It starts tarnd (the tests' harness) and
Azurite (scripts/bootstrap.sh installs it in .tools) on 127.0.0.1, in a temporary directory,
and stops both. Every round reads every way once, in turn; figures are medians over the
rounds, and every read is checked to give the same rows.
"""
import argparse
import gc
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
sys.path.insert(0, str(ROOT / "build" / "release" / "python"))
from tarn_harness import TarnServer  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY  # noqa: E402

AZURITE = ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
FILESYSTEM = "product"
FOLDER = "sales"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(rows, out_dir):
    """rows x 10 columns, hive-partitioned by region (8 folders), written with pyarrow."""
    rng = np.random.default_rng(15)
    regions = np.array(["north", "south", "east", "west", "centre", "coast", "hills", "isles"])
    table = pa.table({
        "region": regions[rng.integers(0, len(regions), rows)],
        "store": rng.integers(0, 5000, rows),
        "day": rng.integers(0, 3650, rows),
        "units": rng.integers(1, 50, rows),
        "price": rng.uniform(1, 500, rows).round(2),
        "amount": rng.normal(1000, 250, rows),
        "discount": rng.uniform(0, 0.5, rows),
        "cost": rng.normal(600, 100, rows),
        "margin": rng.normal(0.3, 0.1, rows),
        "channel": np.array(["web", "shop", "phone", "partner"])[rng.integers(0, 4, rows)],
    })
    pads.write_dataset(table, out_dir, format="parquet", partitioning=["region"],
                       partitioning_flavor="hive", max_rows_per_file=1_000_000,
                       max_rows_per_group=250_000)
    return sorted(p for p in Path(out_dir).rglob("*.parquet"))


def upload(files, base, blob_service):
    container = blob_service.get_container_client(FILESYSTEM)
    try:
        container.create_container()
    except Exception as e:  # noqa: BLE001 - an existing container is fine
        if "ContainerAlreadyExists" not in str(e):
            raise
    for f in files:
        rel = f.relative_to(base).as_posix()
        with open(f, "rb") as data:
            container.upload_blob(f"{FOLDER}/{rel}", data, overwrite=True, max_concurrency=2)


class Azurite:
    """Azurite's Blob service on 127.0.0.1, on disk in `work` (or in memory), until stop()."""

    def __init__(self, work, in_memory=False):
        self.port = free_port()
        self.dir = Path(work) / "azurite"
        self.dir.mkdir()
        self.log = open(self.dir / "log.txt", "wb")
        store = ["--inMemoryPersistence"] if in_memory else ["--location", str(self.dir / "data")]
        self.proc = subprocess.Popen(
            [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
             "--skipApiVersionCheck", "--loose", *store],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Azurite did not listen within 60 s")

    @property
    def connection_string(self):
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def digest(table):
    """Row count plus column sums: the same rows whichever reader read them."""
    if isinstance(table, pd.DataFrame):
        return (len(table), round(float(table["amount"].sum()), 3), int(table["units"].sum()))
    return (table.num_rows, round(float(pc.sum(table["amount"]).as_py()), 3),
            int(pc.sum(table["units"]).as_py()))


def machine():
    from people_bench import machine as described  # the CPU, cores, memory and kernel
    return {"described": described(), "python": platform.python_version()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="50,000 rows, one round: checks that every reader works, times nothing")
    ap.add_argument("--out", help="write the Markdown page here (e.g. docs/benchmarks-readers.md)")
    ap.add_argument("--tmp", help="parent of the temporary directory (default: the system's)")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.rounds = 50_000, 1
    if not AZURITE.exists():
        sys.exit(f"Azurite is not installed at {AZURITE}: run scripts/bootstrap.sh")

    import adlfs  # noqa: F401 - fail early when the venv lacks the readers
    from pyarrow import fs as pafs
    import tarn.fsspec  # noqa: F401 - registers azureml://
    from tarn.core import Datastore, Workspace

    work = Path(tempfile.mkdtemp(prefix="tarn-reader-bench-", dir=args.tmp))
    server = azurite = None
    try:
        local = work / "local"
        t0 = time.time()
        files = generate(args.rows, local)
        size = sum(f.stat().st_size for f in files)
        print(f"generated {args.rows:,} rows x 10 columns: {len(files)} files, "
              f"{size / 2**20:.1f} MiB, in {time.time() - t0:.1f} s", flush=True)

        server = TarnServer(work / "tarnd", work / "logs").start()
        azurite = Azurite(work)
        upload(files, local, server.blob_service())
        upload(files, local, _blob_service(azurite.connection_string))

        ws = Workspace.create("bench", tarn_endpoint=server.url, account_key=ACCOUNT_KEY,
                              exist_ok=True)
        Datastore.register_azure_data_lake_gen2(ws, "product", FILESYSTEM,
                                                account_name=ACCOUNT, overwrite=True)
        tarnd_opts = {"connection_string": server.connection_string}
        azurite_opts = {"connection_string": azurite.connection_string}
        authority = server.url.split("://", 1)[1]
        arrow_tarnd = pafs.AzureFileSystem(account_name=ACCOUNT, account_key=ACCOUNT_KEY,
                                           blob_storage_authority=authority,
                                           dfs_storage_authority=authority,
                                           blob_storage_scheme="http", dfs_storage_scheme="http")

        readers = {
            "azureml (tarn.fsspec) on tarnd": lambda: pd.read_parquet(
                f"azureml://datastores/product/paths/{FOLDER}/",
                storage_options={"workspace": ws}),
            "adlfs on tarnd": lambda: pd.read_parquet(f"abfs://{FILESYSTEM}/{FOLDER}/",
                                                      storage_options=tarnd_opts),
            "adlfs on Azurite": lambda: pd.read_parquet(f"abfs://{FILESYSTEM}/{FOLDER}/",
                                                        storage_options=azurite_opts),
            "pyarrow AzureFileSystem on tarnd": lambda: pq.read_table(
                f"{FILESYSTEM}/{FOLDER}", filesystem=arrow_tarnd),
            "pyarrow on local disk": lambda: pq.read_table(str(local)),
        }
        times = {k: [] for k in readers}
        want = None
        for name, read in readers.items():  # one untimed round: connections, imports, caches
            got = read()
            want = want or digest(got)
            if digest(got) != want:
                raise SystemExit(f"{name} read other rows: {digest(got)} != {want}")
            del got
        for r in range(args.rounds):
            for name, read in readers.items():
                gc.collect()
                t = time.perf_counter()
                got = read()
                times[name].append(time.perf_counter() - t)
                d = digest(got)
                del got
                if d != want:
                    raise SystemExit(f"{name} read other rows: {d} != {want}")
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                  flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        result = {
            "rows": args.rows, "files": len(files), "mib": round(size / 2**20, 1),
            "rounds": args.rounds, "median_s": med, "machine": machine(),
            "date": time.strftime("%Y-%m-%d"), "commit": _commit(),
            "ratios": {
                "azureml vs adlfs on tarnd": med["adlfs on tarnd"] / med[
                    "azureml (tarn.fsspec) on tarnd"],
                "azureml vs adlfs on Azurite": med["adlfs on Azurite"] / med[
                    "azureml (tarn.fsspec) on tarnd"],
                "pyarrow on tarnd vs local disk": med["pyarrow AzureFileSystem on tarnd"] / med[
                    "pyarrow on local disk"],
            },
        }
        print(json.dumps(result, indent=1))
        if args.out and not args.quick:
            Path(args.out).write_text(markdown(result))
    finally:
        if azurite:
            azurite.stop()
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _blob_service(cs):
    from azure.storage.blob import BlobServiceClient
    return BlobServiceClient.from_connection_string(cs)


def _commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def markdown(r):
    m, q = r["machine"], r["ratios"]
    rows = "\n".join(f"| {k} | {v:.2f} s |" for k, v in r["median_s"].items())
    return f"""# Benchmark: reading partitioned Parquet with the Python data stack

{r['rows']:,} rows x 10 columns, hive-partitioned by region: {r['files']} Parquet files,
{r['mib']} MiB. After one untimed round, each reader read the whole folder into memory
{r['rounds']} times, in turn with the others; the figures are medians. Every read gave the same
rows and column sums. The pandas readers include building the DataFrame; the pyarrow ones stop
at the Arrow table.

Machine: {m['described']}; Python {m['python']}.
Date {r['date']}, commit {r['commit']}.

| reader | median |
|---|---|
{rows}

| comparison | target | measured |
|---|---|---|
| `pd.read_parquet("azureml://...")` vs adlfs on the same tarnd | >= 1.0x | {q['azureml vs adlfs on tarnd']:.2f}x |
| `pd.read_parquet("azureml://...")` vs adlfs on Azurite | >= 2x | {q['azureml vs adlfs on Azurite']:.2f}x |
| pyarrow `AzureFileSystem` on tarnd vs pyarrow on local disk | within 1.5x | {q['pyarrow on tarnd vs local disk']:.2f}x the time |

A ratio "vs" a peer is the peer's time over Tarn's (higher is faster); the last row is Tarn's
time over local disk's (lower is better).

Rerun: `.venv/bin/python bench/reader_bench.py --out docs/benchmarks-readers.md` (after
`scripts/build.sh release`; `--quick` checks every reader in seconds).
"""


if __name__ == "__main__":
    main()
