#!/usr/bin/python3
"""What people and read-time checks cost (issue 12), on a tarnd it starts, over HTTPS with wrk:

1. Catalog reads by a person with a workspace role (a bearer token for the workspace API) against
   the same reads signed with the account's Shared Key: a version's metadata, and a 1 KiB file.
2. Dataset file reads through a service-principal datastore, whose principal's roles are checked
   again on every read, against the same files through an account-key datastore, checked only
   when it was registered: 1,000 small files (rotating), and one large file.

    /usr/bin/python3 bench/people_bench.py [--seconds 10] [--rounds 3] [--small 1000]
                                           [--large-mib 256] [--out docs/benchmarks-people.md]

Rounds interleave the cases. Each figure is the median of the rounds; each case's spread
(max/min - 1) is the run-to-run noise the ratios are read against.
"""
import argparse
import concurrent.futures
import email.utils
import json
import os
import platform
import re
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
from identity_admin import Directory  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient, sign  # noqa: E402

PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
WS_SCOPE = "https://management.azure.com/.default"


def wrk(url, headers, seconds, targets=None, connections=16, threads=2):
    """One wrk run: requests/s, MiB/s and errors."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    if targets:
        args += ["-s", str(HERE / "wrk_sas_get.lua"), url, "--", targets]
    else:
        args += [url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "mib_s": float(transfer.group(1)) * scale[transfer.group(2)],
            "errors": int(non2xx.group(1)) if non2xx else 0}


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, nproc {os.cpu_count()}, {mem:.1f} GiB, kernel {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000, help="small files (1 KiB each)")
    ap.add_argument("--large-mib", type=int, default=256, help="size of the large file")
    ap.add_argument("--tarnd", default=str(ROOT / "build/release/src/server/tarnd"))
    ap.add_argument("--out", help="write the Markdown report here (default: print JSON)")
    ap.add_argument("--only", nargs="*", help="time only these cases (default: all)")
    args = ap.parse_args()
    import requests
    from azure.storage.filedatalake import DataLakeServiceClient
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        proc, http, https = start_tarnd(args.tarnd, tmp)
        ca = f"{tmp}/tls/cert.pem"
        try:
            # ----- the lake, the directory and the workspace --------------------------------
            svc = DataLakeServiceClient(f"{http}/{ACCOUNT}", credential={
                "account_name": ACCOUNT, "account_key": ACCOUNT_KEY})
            fs = svc.create_file_system("people")
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda i: fs.get_file_client(f"small/{i:05d}.bin").upload_data(
                    os.urandom(1024), overwrite=True), range(args.small)))
            big = fs.get_file_client("big.bin")
            big.create_file()
            chunk = os.urandom(8 << 20)
            for i in range(args.large_mib // 8):
                big.append_data(chunk, offset=i * len(chunk), length=len(chunk))
            big.flush_data(args.large_mib // 8 * len(chunk))
            d = Directory(http)
            tenant = d.tenant()
            sp = d.service_principal(tenant, "datastore")
            d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/people")
            user = d.call("POST", f"/tenants/{tenant}/principals",
                          {"kind": "user", "display_name": "ada", "upn": "ada@bench.example"}, 201)
            d.call("PUT", f"/principals/{user['object_id']}/password",
                   {"password": "a long pass phrase"}, 200)
            d.assign(user["object_id"], "Reader", "/workspaces/bench")
            key = RawClient(http)

            def admin(method, path, body):
                r = key.request(method, "/workspaces" + path, (),
                                {"Content-Type": "application/json"}, json.dumps(body).encode())
                assert r.status in (200, 201), r
            admin("PUT", "/bench", {})
            admin("PUT", "/bench/datastores/keyed",
                  {"account_name": ACCOUNT, "filesystem": "people",
                   "credential": {"type": "account_key", "account_key": ACCOUNT_KEY}})
            admin("PUT", "/bench/datastores/principal",
                  {"account_name": ACCOUNT, "filesystem": "people",
                   "credential": {"type": "service_principal", "tenant_id": tenant,
                                  "client_id": sp["app_id"], "client_secret": sp["secret"]}})
            for store in ("keyed", "principal"):
                for name, glob in (("small", "small/*"), ("big", "big.bin")):
                    admin("POST", f"/bench/datasets/{name}_{store}/versions",
                          {"definition": {"kind": "file",
                                          "paths": [{"datastore": store, "path": glob}]}})
            token = requests.post(f"{https}/{tenant}/oauth2/v2.0/token", verify=ca, timeout=60,
                                  data={"grant_type": "password", "client_id": PUBLIC_CLIENT,
                                        "username": "ada@bench.example",
                                        "password": "a long pass phrase",
                                        "scope": WS_SCOPE}).json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}

            def shared_key(raw_path):
                h = {"x-ms-date": email.utils.formatdate(usegmt=True),
                     "x-ms-version": "2021-10-04"}
                h["Authorization"] = sign("GET", raw_path, [], h)
                return h

            targets = {}
            for store in ("keyed", "principal"):
                path = Path(tmp) / f"targets-{store}.txt"
                path.write_text("".join(
                    f"/workspaces/bench/datasets/small_{store}/versions/1/files/{i}\n"
                    for i in range(args.small)))
                targets[store] = str(path)
            meta = "/workspaces/bench/datasets/small_keyed/versions/1"
            one = meta + "/files/0"
            big_url = "/workspaces/bench/datasets/big_{}/versions/1/files/0"
            cases = {
                # name: (url path, headers, targets file, connections, threads)
                "meta_key": (meta, lambda: shared_key(meta), None, 16, 2),
                "meta_bearer": (meta, lambda: bearer, None, 16, 2),
                "file_key": (one, lambda: shared_key(one), None, 16, 2),
                "file_bearer": (one, lambda: bearer, None, 16, 2),
                "small_keyed": ("", lambda: bearer, targets["keyed"], 16, 2),
                "small_principal": ("", lambda: bearer, targets["principal"], 16, 2),
                "big_keyed": (big_url.format("keyed"), lambda: bearer, None, 1, 1),
                "big_principal": (big_url.format("principal"), lambda: bearer, None, 1, 1),
            }
            if args.only:
                cases = {k: v for k, v in cases.items() if k in args.only}
            for name, (path, headers, tfile, _, _) in cases.items():  # each works, and warms
                url = https + (path or open(tfile).readline().strip())
                r = requests.get(url, headers=headers(), verify=ca, timeout=120)
                assert r.status_code == 200, (name, r.status_code, r.text[:300])
            results = {k: [] for k in cases}
            for _ in range(args.rounds):
                for name, (path, headers, tfile, conns, threads) in cases.items():
                    results[name].append(wrk(https + path, headers(), args.seconds, tfile,
                                             conns, threads))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    summary = {}
    for name, runs in results.items():
        rps = [r["rps"] for r in runs]
        summary[name] = {"rps": statistics.median(rps),
                         "mib_s": statistics.median(r["mib_s"] for r in runs),
                         "spread_pct": round(100 * (max(rps) / min(rps) - 1), 1),
                         "errors": sum(r["errors"] for r in runs), "runs": rps}
    pairs = [("meta_bearer", "meta_key", "catalog metadata read: bearer (workspace Reader) / "
              "Shared Key", "no measurable cost: within the noise"),
             ("file_bearer", "file_key", "1 KiB dataset file read: bearer / Shared Key",
              "no measurable cost: within the noise"),
             ("small_principal", "small_keyed", "1,000 small files: service-principal datastore "
              "(read-time checks) / account-key datastore", ">= 0.90"),
             ("big_principal", "big_keyed", f"one {args.large_mib} MiB file: service-principal "
              "datastore / account-key datastore", ">= 0.90")]
    pairs = [p for p in pairs if p[0] in summary and p[1] in summary]
    report = {"summary": summary, "ratios": {}}
    for a, b, _, _ in pairs:
        report["ratios"][a + "/" + b] = round(summary[a]["rps"] / summary[b]["rps"], 3)
    errors = sum(s["errors"] for s in summary.values())
    if not args.out:
        print(json.dumps(report))
        return 1 if errors else 0
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    lines = [
        "# Benchmarks: people and read-time checks",
        "",
        f"Measured with `/usr/bin/python3 bench/people_bench.py --seconds {args.seconds} "
        f"--rounds {args.rounds} --small {args.small} --large-mib {args.large_mib} --out "
        f"{args.out}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
        f"in {time.time() - started:.0f} s. Machine: {machine()}.",
        "",
        "wrk over HTTPS to one tarnd on 127.0.0.1 (release build, default configuration). Each "
        "figure is the median of the rounds, which interleave the cases; spread is max/min - 1 "
        "of a case's rounds, the noise its ratio is read against.",
        "",
        "| case | requests/s | MiB/s | spread | rounds (requests/s) | errors |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['rps']:,.1f} | {s['mib_s']:,.1f} | {s['spread_pct']}% | "
                     + ", ".join(f"{x:,.1f}" for x in s["runs"]) + f" | {s['errors']} |")
    lines += ["", "| ratio | value | target |", "| --- | --- | --- |"]
    for a, b, label, target in pairs:
        lines.append(f"| {label} | {report['ratios'][a + '/' + b]:.3f} | {target} |")
    lines += [
        "",
        "## The cases",
        "",
        "- `meta_*`: `GET /workspaces/bench/datasets/small_keyed/versions/1`, 16 connections; "
        "`file_*`: its first file (1 KiB). `*_key` is signed with the account's Shared Key (one "
        "signature, valid 15 minutes, replayed); `*_bearer` carries a person's token for "
        "`https://management.azure.com` (password grant), whose workspace role (Reader) is "
        "checked on every request.",
        "- `small_*`: the 1,000 files of a version (1 KiB each), in turn, 16 connections, by the "
        "same person. `*_keyed` reads through a datastore with the account key, validated when "
        "it was registered; `*_principal` through a datastore with a service principal of this "
        "tarnd (Storage Blob Data Reader on the filesystem), whose token (reused up to 60 s) and "
        "roles are checked on every read.",
        "- `big_*`: one file of the size above, whole, one connection.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
