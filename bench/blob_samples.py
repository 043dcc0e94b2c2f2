#!/usr/bin/env python3
"""Microsoft's published Python Blob samples (the `samples/` of the azure-storage-blob sdist on
PyPI, at the version the project's .venv pins) run unchanged against tarnd and against Azurite,
side by side: how many of them each one passes (issue 16).

    .venv/bin/python bench/blob_samples.py [--out docs/compat-blob-samples.md]

It downloads the sdist with the .venv's pip, gives the samples the files their repository has
beside them (SampleSource.txt, sample-blobs/), starts tarnd (the tests' harness) and Azurite (in
memory) on 127.0.0.1, runs every sample in a fresh copy of the folder with the connection
string of each server (90 s at most each), stops both, and prints one line per sample.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "conformance"))
from tarn_harness import TarnServer  # noqa: E402
from reader_bench import AZURITE, Azurite  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY  # noqa: E402


def fetch_samples(work):
    v = version("azure-storage-blob")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                    ":all:", f"azure-storage-blob=={v}", "-d", str(work)], check=True)
    (sdist,) = Path(work).glob("azure_storage_blob-*.tar.gz")
    with tarfile.open(sdist) as t:
        t.extractall(work)  # the sdist from PyPI, into a directory of our own
    samples = Path(work) / f"azure_storage_blob-{v}" / "samples"
    (samples / "SampleSource.txt").write_text("A source file for the blob samples.\n")
    (samples / "sample-blobs").mkdir(exist_ok=True)
    for i in range(3):
        (samples / "sample-blobs" / f"blob{i}.txt").write_text(f"sample blob {i}\n")
    (samples / "sample-blobs" / "quick_query.csv").write_text("Name,Age\nAda,36\nGrace,45\n")
    return v, samples


def run_all(samples, connection_string):
    env = dict(os.environ, STORAGE_CONNECTION_STRING=connection_string,
               STORAGE_CONNECTION_STRING_SOFT=connection_string, STORAGE_ACCOUNT_NAME=ACCOUNT,
               STORAGE_ACCOUNT_KEY=ACCOUNT_KEY, OAUTH_STORAGE_ACCOUNT_NAME=ACCOUNT)
    out = {}
    for f in sorted(p.name for p in samples.glob("*.py")):
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(samples, d, dirs_exist_ok=True)
            try:
                r = subprocess.run([sys.executable, f], cwd=d, env=env, capture_output=True,
                                   text=True, timeout=90)
                lines = [x for x in r.stderr.splitlines() if "ErrorCode:" in x or "Error:" in x]
                out[f] = (r.returncode == 0, (lines or [""])[-1].strip()[:120])
            except subprocess.TimeoutExpired:
                out[f] = (False, "timeout")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the Markdown page here")
    args = ap.parse_args()
    if not AZURITE.exists():
        sys.exit(f"Azurite is not installed at {AZURITE}: run scripts/bootstrap.sh")
    with tempfile.TemporaryDirectory(prefix="tarn-blob-samples-") as work:
        v, samples = fetch_samples(work)
        server = TarnServer(Path(work) / "tarnd", Path(work) / "logs")
        azurite = None
        try:
            server.start()
            azurite = Azurite(work, in_memory=True)
            tarn = run_all(samples, server.connection_string)
            peer = run_all(samples, azurite.connection_string)
        finally:
            if azurite:
                azurite.stop()
            server.stop()
    rows = []
    for f in tarn:
        print(f"{f}: tarnd {'pass' if tarn[f][0] else 'FAIL'}, Azurite "
              f"{'pass' if peer[f][0] else 'FAIL'}  {'' if tarn[f][0] else tarn[f][1]}")
        rows.append(f"| `{f}` | {'pass' if tarn[f][0] else 'fail'} | "
                    f"{'pass' if peer[f][0] else 'fail'} | {'' if tarn[f][0] else tarn[f][1]} |")
    n_t, n_p = sum(ok for ok, _ in tarn.values()), sum(ok for ok, _ in peer.values())
    only_peer = ", ".join(f"`{f}` ({tarn[f][1] or 'failed'})" for f in tarn
                          if peer[f][0] and not tarn[f][0]) or "none"
    only_tarn = ", ".join(f"`{f}`" for f in tarn if tarn[f][0] and not peer[f][0]) or "none"
    print(f"azure-storage-blob {v} samples: tarnd {n_t}/{len(tarn)}, Azurite {n_p}/{len(peer)}")
    if args.out:
        Path(args.out).write_text(f"""# Microsoft's Python Blob samples against tarnd and Azurite

`.venv/bin/python bench/blob_samples.py --out {args.out}` runs the `samples/` of the
azure-storage-blob {v} sdist unchanged against tarnd and Azurite (in memory), side by side:
**tarnd {n_t} of {len(tarn)}, Azurite {n_p} of {len(peer)}**. Samples that need Azure itself
(Microsoft Entra sign-in, Key Vault, a proxy, the secondary endpoint's statistics, a copy from
a web site) fail on both. Passing on Azurite only: {only_peer}. Passing on tarnd only:
{only_tarn}.

| sample | tarnd | Azurite | tarnd's error |
|---|---|---|---|
""" + "\n".join(rows) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
