#!/usr/bin/python3
"""The end user's view for scripts/bench_lake.sh: Microsoft's Python SDK (azure-storage-blob)
against one Blob endpoint (tarnd or Azurite), and the SAS-signed URLs that wrk reads.

  sdk_bench.py run --endpoint http://127.0.0.1:PORT/devstoreaccount1 [--size 64MiB] [--seconds 5]
      upload then download of one file of --size (one stream), then 1 KiB Put Blob and Get Blob
      ops/s at one client for --seconds each; prints one JSON line
  sdk_bench.py sas --endpoint ... --count 100 --out FILE
      uploads --count 1 KiB blobs and writes one SAS-signed request target per line
      ("/devstoreaccount1/wrk-.../b7?sv=...&sig=..."), for bench/wrk_sas_get.lua

Every loop is bounded by --seconds or --count; the exit code is 0 when nothing failed.
"""
import argparse
import datetime
import json
import os
import sys
import time
import uuid

from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def parse_bytes(text):
    units = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}
    digits = text.rstrip("kKmMgGiIbB")
    return int(digits) * units[text[len(digits):].lower()]


def service(endpoint):
    conn = "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;" % (
        ACCOUNT, DEV_KEY, endpoint)
    return BlobServiceClient.from_connection_string(conn, max_single_put_size=8 << 20,
                                                    max_block_size=8 << 20)


def new_container(svc, what):
    c = svc.get_container_client("%s-%s" % (what, uuid.uuid4().hex[:12]))
    c.create_container()
    return c


def timed_ops(seconds, op):
    """Runs op(i) until `seconds` pass; returns (ops, elapsed, sorted latencies in ms)."""
    lat = []
    start = time.perf_counter()
    end = start + seconds
    i = 0
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        op(i)
        lat.append((time.perf_counter() - t0) * 1000)
        i += 1
    return i, time.perf_counter() - start, sorted(lat)


def pct(sorted_ms, q):
    return sorted_ms[min(len(sorted_ms) - 1, max(0, int(q * len(sorted_ms) + 0.999999) - 1))] if sorted_ms else 0


def run(args):
    out = {"bench": "python-sdk", "size": args.size, "ok": False, "errors": 0}
    try:
        svc = service(args.endpoint)
        c = new_container(svc, "sdk")
        data = os.urandom(args.size)
        blob = c.get_blob_client("big.bin")
        t0 = time.perf_counter()
        blob.upload_blob(data, max_concurrency=1)
        out["upload_mb_s"] = args.size / (time.perf_counter() - t0) / 1e6
        t0 = time.perf_counter()
        back = blob.download_blob(max_concurrency=1).readall()
        out["download_mb_s"] = args.size / (time.perf_counter() - t0) / 1e6
        if back != data:
            raise RuntimeError("the download differs from the upload")
        small = os.urandom(1024)
        n, secs, lat = timed_ops(args.seconds, lambda i: c.upload_blob("s/%d" % i, small, overwrite=True))
        out.update(put_ops=n, put_ops_s=n / secs, put_p50_ms=pct(lat, 0.5), put_p99_ms=pct(lat, 0.99))
        written = n

        def get(i):
            if c.download_blob("s/%d" % (i % written)).readall() != small:
                raise RuntimeError("a 1 KiB blob reads back different bytes")

        n, secs, lat = timed_ops(args.seconds, get)
        out.update(get_ops=n, get_ops_s=n / secs, get_p50_ms=pct(lat, 0.5), get_p99_ms=pct(lat, 0.99))
        out["ok"] = written > 0 and n > 0
    except Exception as e:  # reported, never hidden: the harness counts the failure
        out["errors"] = 1
        out["first_error"] = "%s: %s" % (type(e).__name__, str(e)[:300])
    print(json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


def sas(args):
    svc = service(args.endpoint)
    c = new_container(svc, "wrk")
    body = os.urandom(1024)
    for i in range(args.count):
        c.upload_blob("b%d" % i, body)
    token = generate_container_sas(ACCOUNT, c.container_name, account_key=DEV_KEY,
                                   permission=ContainerSasPermissions(read=True),
                                   expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=2))
    with open(args.out, "w") as f:
        for i in range(args.count):
            f.write("/%s/%s/b%d?%s\n" % (ACCOUNT, c.container_name, i, token))
    print(json.dumps({"bench": "wrk-seed", "blobs": args.count, "container": c.container_name,
                      "ok": True, "errors": 0}), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--endpoint", required=True)
    r.add_argument("--size", type=parse_bytes, default=64 << 20)
    r.add_argument("--seconds", type=float, default=5)
    s = sub.add_parser("sas")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--count", type=int, default=100)
    s.add_argument("--out", required=True)
    args = p.parse_args()
    if not args.endpoint.startswith(("http://127.", "http://localhost")):
        sys.exit("sdk_bench: only loopback endpoints")
    return run(args) if args.cmd == "run" else sas(args)


if __name__ == "__main__":
    sys.exit(main())
