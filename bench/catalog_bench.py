#!/usr/bin/python3
"""Catalog benchmark: registering a dataset version over N files, on a tarnd it starts.

    /usr/bin/python3 bench/catalog_bench.py [--files 10000] [--tarnd build/release/src/server/tarnd]

Uploads N small CSV files with Microsoft's DataLake SDK (parallel), then times one file-dataset
and one tabular (CSV) registration through the REST API, and prints one JSON line per figure.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "conformance"))
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient  # noqa: E402


def start_tarnd(binary, data_dir):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data-dir", data_dir,
                             "--tls-listen", "off"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    url = line.split()[3]
    return proc, url


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--tarnd", default=str(HERE.parent / "build/release/src/server/tarnd"))
    args = ap.parse_args()
    from azure.storage.filedatalake import DataLakeServiceClient
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_tarnd(args.tarnd, tmp)
        try:
            svc = DataLakeServiceClient(f"{url}/{ACCOUNT}",
                                        credential={"account_name": ACCOUNT,
                                                    "account_key": ACCOUNT_KEY})
            fs = svc.create_file_system("bench")
            t0 = time.monotonic()

            def up(i):
                fs.get_file_client(f"data/p{i % 100:02d}/f{i:05d}.csv").upload_data(
                    f"id,v\n{i},{i * 0.5}\n".encode(), overwrite=True)

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                list(pool.map(up, range(args.files)))
            upload_s = time.monotonic() - t0
            raw = RawClient(url)

            def call(method, path, body):
                r = raw.request(method, path, (), {"Content-Type": "application/json"},
                                json.dumps(body).encode())
                assert r.status in (200, 201), r
                return json.loads(r.body)

            call("PUT", "/workspaces/bench", {})
            call("PUT", "/workspaces/bench/datastores/lake",
                 {"account_name": ACCOUNT, "filesystem": "bench",
                  "credential": {"type": "account_key", "account_key": ACCOUNT_KEY}})
            results = {"files": args.files, "upload_s": round(upload_s, 2)}
            for kind, extra in [("file", {}), ("tabular", {"format": "csv"})]:
                t0 = time.monotonic()
                v = call("POST", f"/workspaces/bench/datasets/{kind}/versions",
                         {"definition": dict({"kind": kind, "paths": [
                             {"datastore": "lake", "path": "data/**/*.csv"}]}, **extra)})
                results[f"register_{kind}_s"] = round(time.monotonic() - t0, 3)
                assert v["file_count"] == args.files, v["file_count"]
                if kind == "tabular":
                    assert v["row_count"] == args.files, v["row_count"]
            print(json.dumps(results))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
