#!/usr/bin/env python3
"""Query Blob Contents over a large CSV blob (issue 16), beside DuckDB reading the same file from
local disk, in one run on one machine.

    /usr/bin/python3 bench/query_bench.py [--mib 1024] [--rounds 3] [--out docs/benchmarks-query.md] [--quick]

It writes a CSV of --mib MiB (untimed; four columns, no header row), uploads it to a tarnd it
starts on 127.0.0.1 in a temporary directory (untimed), then times each query, round after
round, both ways, alternating which goes first:
  - tarnd: BlobClient.query_blob of Microsoft's Python SDK, the whole answer read (readall);
  - DuckDB: the same SQL over read_csv of the local file with the options tarnd gives DuckDB
    (every field a string, fields named _1.._4), through bench/duckdb_ref.cc: the libduckdb
    Tarn links, with DuckDB's own local file system and none of Tarn's code.
Both answers must agree (rows, and the aggregate's values). Figures are medians; the ratio is
tarnd's time over DuckDB's. --quick uses 8 MiB and one round: it checks that everything works
and times nothing.
"""
import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
sys.path.insert(0, str(ROOT / "build" / "release" / "bench" / "python"))  # _duckdb_ref
from tarn_harness import TarnServer  # noqa: E402

QUERIES = {
    "filter": "SELECT * FROM BlobStorage WHERE _4 = 'note-424242'",
    "aggregate": ("SELECT count(*), sum(CAST(_3 AS DOUBLE)) FROM BlobStorage "
                  "WHERE _2 = 'north'"),
    "project": "SELECT _1 FROM BlobStorage WHERE _3 LIKE '99%.5%'",
}


def local_sql(sql, path):
    scan = ("(SELECT #1 AS _1, #2 AS _2, #3 AS _3, #4 AS _4 FROM read_csv('%s', delim = ',', "
            "quote = '\"', escape = '', header = false, comment = '', all_varchar = true, "
            "null_padding = true, strict_mode = false))" % path)
    return sql.replace("BlobStorage", scan)


def make_csv(ref, path, mib):
    rows = max(1000, mib * (1 << 20) // 32)
    ref.execute(
        "COPY (SELECT i AS id, ['north','south','east','west'][i %% 4 + 1] AS region, "
        "round((i * 7919 %% 100003) / 100.0, 2) AS amount, 'note-' || (i * 104729 %% 1000003) "
        "AS note FROM range(%d) t(i)) TO '%s' (FORMAT csv, HEADER false)" % (rows, path))
    return rows


def run_tarnd(blob, sql):
    t = time.perf_counter()
    data = blob.query_blob(sql).readall()
    return time.perf_counter() - t, data


def run_duckdb(ref, sql, path):
    t = time.perf_counter()
    cols = ref.read(local_sql(sql, path))
    return time.perf_counter() - t, cols


def agree(name, answer, cols):
    """tarnd's CSV answer and DuckDB's columns say the same."""
    lines = answer.decode().splitlines()
    n = len(cols[0][1]) if cols else 0
    if len(lines) != n:
        raise SystemExit(f"{name}: tarnd gave {len(lines)} rows, DuckDB {n}")
    if name == "aggregate":
        count, total = lines[0].split(",")
        if int(count) != int(cols[0][1][0]) or abs(float(total) - float(cols[1][1][0])) > 1e-6 * \
                max(1.0, abs(float(total))):
            raise SystemExit(f"aggregate: tarnd {lines[0]}, DuckDB {cols[0][1][0]},{cols[1][1][0]}")


def machine():
    cpus = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    return f"{platform.system()} {platform.machine()}, {cpus} cores, {mem:.0f} GiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="8 MiB and one round: checks that it works, times nothing")
    ap.add_argument("--out", help="write the Markdown page here")
    args = ap.parse_args()
    mib = 8 if args.quick else args.mib
    rounds = 1 if args.quick else args.rounds
    import _duckdb_ref as ref
    from azure.storage.blob import BlobServiceClient

    times = {q: {"tarnd": [], "duckdb": []} for q in QUERIES}
    with tempfile.TemporaryDirectory(prefix="tarn-query-bench-") as work:
        path = str(Path(work) / "sales.csv")
        rows = make_csv(ref, path, mib)
        size = os.path.getsize(path)
        server = TarnServer(Path(work) / "tarnd", Path(work) / "logs")
        try:
            server.start()
            svc = BlobServiceClient.from_connection_string(server.connection_string,
                                                           read_timeout=600)
            blob = svc.create_container("bench").get_blob_client("raw/sales.csv")
            with open(path, "rb") as f:
                blob.upload_blob(f, length=size, max_concurrency=4)
            for r in range(rounds):
                for name, sql in QUERIES.items():
                    order = ("tarnd", "duckdb") if r % 2 == 0 else ("duckdb", "tarnd")
                    got = {}
                    for who in order:
                        if who == "tarnd":
                            seconds, got[who] = run_tarnd(blob, sql)
                        else:
                            seconds, got[who] = run_duckdb(ref, sql, path)
                        times[name][who].append(seconds)
                    agree(name, got["tarnd"], got["duckdb"])
        finally:
            server.stop()
    if args.quick:
        print(f"query_bench: ok ({rows} rows, {len(QUERIES)} queries agree)")
        return
    lines = [
        "# Benchmark: Query Blob Contents over a large CSV",
        "",
        f"Machine: {machine()}. File: {size / (1 << 20):.0f} MiB of CSV, {rows:,} rows of four "
        f"fields. {rounds} rounds, medians, the two sides alternating which runs first. "
        f"DuckDB {ref.version} on both sides.",
        "",
        "| query | tarnd (query_blob, Python SDK) | DuckDB, local file | ratio |",
        "|---|---|---|---|",
    ]
    for name, sql in QUERIES.items():
        t = statistics.median(times[name]["tarnd"])
        d = statistics.median(times[name]["duckdb"])
        lines.append(f"| {name}: `{sql}` | {t:.2f} s | {d:.2f} s | {t / d:.2f}x |")
    lines += [
        "",
        "tarnd's side is the whole request: the SDK's request, tarnd reading the blob's extents "
        "through DuckDB, the answer framed as Avro and read back by the SDK. DuckDB's side reads "
        "the same bytes from the local file system with the same read_csv options (every field "
        "a string), through bench/duckdb_ref.cc.",
        "",
        "Rerun: `/usr/bin/python3 bench/query_bench.py --mib 1024 --rounds 3 --out "
        "docs/benchmarks-query.md` (after `bash scripts/build.sh release`).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
