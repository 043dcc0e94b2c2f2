#!/usr/bin/env python3
"""Soft delete and undelete of a directory (issue 16), beside a rename of the same directory, in
one run on one machine: both are one metadata change in tarnd, whatever the directory holds.

    .venv/bin/python bench/soft_delete_bench.py [--files 1000,100000] [--rounds 5] [--out docs/benchmarks-soft-delete.md] [--quick]

For each size it fills a directory with that many small files (untimed, eight uploads at a time,
with Microsoft's Python DataLake SDK), turns on a delete retention policy, then times, round after
round: renaming the directory away and back (two renames), and deleting it (soft) then restoring
it by its deletion id. Every restore must bring back every file. Figures are medians per
operation; it starts tarnd (the tests' harness) on 127.0.0.1 in a temporary directory and stops it.
"""
import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
from tarn_harness import TarnServer  # noqa: E402


def fill(fs, folder, n):
    fs.create_directory(folder)
    names = [f"{folder}/part-{i // 1000:03}/f-{i:06}.json" for i in range(n)]
    for d in sorted({x.rsplit("/", 1)[0] for x in names}):
        fs.create_directory(d)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: fs.get_file_client(p).upload_data(b"{}", overwrite=True), names))


def count_files(fs, folder):
    return sum(1 for p in fs.get_paths(path=folder, recursive=True) if not p.is_directory)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", default="1000,100000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="200 files, one round: checks that it works, times nothing")
    ap.add_argument("--out", help="write the Markdown page here")
    args = ap.parse_args()
    sizes = [200] if args.quick else [int(x) for x in args.files.split(",")]
    rounds = 1 if args.quick else args.rounds
    from azure.storage.blob import BlobServiceClient, RetentionPolicy
    from azure.storage.filedatalake import DataLakeServiceClient

    results = {}
    with tempfile.TemporaryDirectory(prefix="tarn-undelete-bench-") as work:
        server = TarnServer(Path(work) / "tarnd", Path(work) / "logs")
        try:
            server.start()
            BlobServiceClient.from_connection_string(server.connection_string) \
                .set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True,
                                                                                days=7))
            svc = DataLakeServiceClient.from_connection_string(server.connection_string)
            for n in sizes:
                fs = svc.create_file_system(f"undelete-{n}")
                fill(fs, "data", n)
                fs.create_directory("moved")
                renames, deletes, restores = [], [], []
                for _ in range(rounds):
                    d = fs.get_directory_client("data")
                    t = time.perf_counter()
                    d.rename_directory(f"{fs.file_system_name}/moved/data")
                    fs.get_directory_client("moved/data").rename_directory(
                        f"{fs.file_system_name}/data")
                    renames.append((time.perf_counter() - t) / 2)
                    t = time.perf_counter()
                    d.delete_directory()
                    deletes.append(time.perf_counter() - t)
                    (gone,) = [x for x in fs.list_deleted_paths() if x.name == "data"]
                    t = time.perf_counter()
                    fs._undelete_path("data", gone.deletion_id)
                    restores.append(time.perf_counter() - t)
                assert count_files(fs, "data") == n, "a restore lost files"
                results[n] = {k: statistics.median(v) * 1000 for k, v in
                              [("rename", renames), ("delete", deletes), ("undelete", restores)]}
                r = results[n]
                print(f"{n} files: rename {r['rename']:.2f} ms, soft delete {r['delete']:.2f} ms, "
                      f"undelete {r['undelete']:.2f} ms ({r['undelete'] / r['rename']:.2f}x the "
                      f"rename)", flush=True)
        finally:
            server.stop()
    if args.out and not args.quick:
        from people_bench import machine
        rows = "\n".join(
            f"| {n:,} | {r['rename']:.2f} ms | {r['delete']:.2f} ms | {r['undelete']:.2f} ms | "
            f"{r['undelete'] / r['rename']:.2f}x |" for n, r in results.items())
        Path(args.out).write_text(f"""# Benchmark: soft delete and undelete of a directory

Measured with `.venv/bin/python bench/soft_delete_bench.py --files {args.files} --rounds {rounds} --out {args.out}`
on {machine()} (Python's DataLake SDK, one client). A directory of N small files in a tree of
1,000-file folders; a delete retention policy of 7 days. Per size, medians over {rounds} rounds
of: one rename of the directory (the mean of a rename away and back), a soft delete of it, and
its undelete by deletion id (every file back, checked once at the end).

| files in the directory | rename | soft delete | undelete | undelete / rename (target: within 2x, O(1)) |
|---|---|---|---|---|
{rows}

Each of the three is one metadata change in tarnd: the directory's node moves, out of the tree
and back, with its subtree and extents untouched.
""")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
