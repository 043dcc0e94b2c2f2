#!/usr/bin/python3
"""What OAuth authorization costs: 1 KiB reads at 16 connections with wrk over HTTPS, signed with
Shared Key against the same reads with a bearer token (validated from the token cache, then RBAC),
and with a bearer token of a principal that only the POSIX ACLs admit, interleaved.

    /usr/bin/python3 bench/auth_overhead.py [--seconds 10] [--rounds 2] [--json]

Shared Key requests are valid for 15 minutes with one x-ms-date, so wrk can replay one signed
header; the bearer token is fetched from tarnd's own token service.
"""
import argparse
import base64
import email.utils
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "conformance"))
from identity_admin import Directory  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY, sign  # noqa: E402


def start_tarnd(binary, data_dir):
    proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data-dir", data_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    http = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
    https = re.search(r"https://127\.0\.0\.1:\d+", line).group(0)
    return proc, http, https


def wrk(url, headers, seconds):
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"rps": rps, "errors": errors,
            "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tarnd", default=str(HERE.parent / "build/release/src/server/tarnd"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import requests
    from azure.storage.filedatalake import DataLakeServiceClient
    with tempfile.TemporaryDirectory() as tmp:
        proc, http, https = start_tarnd(args.tarnd, tmp)
        ca = f"{tmp}/tls/cert.pem"
        try:
            svc = DataLakeServiceClient(f"{http}/{ACCOUNT}", credential={
                "account_name": ACCOUNT, "account_key": ACCOUNT_KEY})
            fs = svc.create_file_system("authbench")
            path = "a/b/c/d/e/f/g/h/blob.bin"
            fs.get_file_client(path).upload_data(b"x" * 1024, overwrite=True)
            directory = Directory(http)
            tenant = directory.tenant()

            def principal(role):
                sp = directory.service_principal(tenant, "bench")
                if role:
                    directory.assign(sp["object_id"], role, f"/{ACCOUNT}")
                tok = requests.post(f"{https}/{tenant}/oauth2/v2.0/token", verify=ca, timeout=30,
                                    data={"grant_type": "client_credentials",
                                          "client_id": sp["app_id"], "client_secret": sp["secret"],
                                          "scope": "https://storage.azure.com/.default"})
                return sp["object_id"], tok.json()["access_token"]

            _, role_token = principal("Storage Blob Data Reader")
            acl_oid, acl_token = principal(None)
            # The ACL-only principal needs execute on 9 directories and read on the file.
            dirs = ["/"] + ["/".join("abcdefgh"[:i + 1]) for i in range(8)]
            for d in dirs:
                fs.get_directory_client(d).set_access_control(
                    acl=f"user::rwx,group::r-x,other::---,user:{acl_oid}:--x")
            fs.get_file_client(path).set_access_control(
                acl=f"user::rw-,group::r--,other::---,user:{acl_oid}:r--")

            raw_path = f"/{ACCOUNT}/authbench/{path}"
            date = email.utils.formatdate(usegmt=True)
            sk_headers = {"x-ms-date": date, "x-ms-version": "2021-10-04"}
            sk_headers["Authorization"] = sign("GET", raw_path, [], sk_headers)
            cases = {
                "shared_key": sk_headers,
                "bearer_role": {"Authorization": f"Bearer {role_token}",
                                "x-ms-version": "2021-10-04"},
                "bearer_acl": {"Authorization": f"Bearer {acl_token}",
                               "x-ms-version": "2021-10-04"},
            }
            url = https + raw_path
            for name, h in cases.items():  # warm the token cache and check each case works
                r = requests.get(url, headers=h, verify=ca, timeout=30)
                assert r.status_code == 200 and len(r.content) == 1024, (name, r.status_code)
            results = {k: [] for k in cases}
            for _ in range(args.rounds):
                for name, h in cases.items():
                    results[name].append(wrk(url, h, args.seconds))
            summary = {}
            for name, runs in results.items():
                summary[name] = {"rps": round(sum(r["rps"] for r in runs) / len(runs)),
                                 "p50_ms": runs[-1]["p50_ms"],
                                 "errors": sum(r["errors"] for r in runs)}
            base = summary["shared_key"]["rps"]
            for name in ("bearer_role", "bearer_acl"):
                summary[name]["overhead_pct"] = round(100.0 * (base - summary[name]["rps"]) / base, 1)
            if args.json:
                print(json.dumps(summary))
            else:
                for name, s in summary.items():
                    print(f"{name:12s} {s['rps']:7d} req/s  p50 {s['p50_ms']} ms  errors "
                          f"{s['errors']}" + (f"  overhead {s['overhead_pct']}%"
                                              if "overhead_pct" in s else ""))
            if any(s["errors"] for s in summary.values()):
                return 1
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
