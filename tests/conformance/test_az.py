"""The Azure CLI (Debian azure-cli 2.45, /usr/bin/az) against tarnd, with --connection-string.

az is slow to start (a few seconds per command), so one test walks the whole scenario.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tarn_harness import unique_name

AZ = "/usr/bin/az"
AZ_TIMEOUT = 120

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def az_env(tmp_path_factory):
    if not Path(AZ).exists():
        pytest.skip(f"{AZ} is not installed (Debian package azure-cli)")
    cfg = tmp_path_factory.mktemp("azconfig")
    env = dict(os.environ)
    env.update(AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CONFIG_DIR=str(cfg),
               AZURE_CORE_NO_COLOR="true", AZURE_CORE_ONLY_SHOW_ERRORS="true")
    # Never let az pick up storage credentials from the caller's environment.
    for k in list(env):
        if k.startswith("AZURE_STORAGE_"):
            del env[k]
    return env


def az(tarn, env, *args, expect_ok=True):
    cmd = [AZ, *args, "--connection-string", tarn.connection_string, "--only-show-errors",
           "-o", "json"]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, timeout=AZ_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"az timed out after {AZ_TIMEOUT}s: {' '.join(args)}\n"
                    f"stderr: {(e.stderr or b'')[-3000:].decode('utf-8', 'replace')}")
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    if expect_ok:
        assert p.returncode == 0, (f"az {' '.join(args)} failed ({p.returncode})\n"
                                   f"stdout: {out[-3000:]}\nstderr: {err[-3000:]}")
        text = out.strip()
        return json.loads(text) if text else None
    return p


def test_az_storage_fs_scenario(tarn, az_env, tmp_path):
    fs = unique_name("az")
    env = az_env

    # Local files to upload.
    src = tmp_path / "src"
    src.mkdir()
    payloads = {
        "small.txt": b"hello from az\n",
        "binary.bin": os.urandom(3 * 1024 * 1024 + 17),  # several chunks for the SDK
        "empty.dat": b"",
    }
    for name, data in payloads.items():
        (src / name).write_bytes(data)

    created = az(tarn, env, "storage", "fs", "create", "-n", fs)
    assert created is None or created.get("created", True) is not False
    listed = az(tarn, env, "storage", "fs", "list")
    assert fs in [f["name"] for f in listed]

    az(tarn, env, "storage", "fs", "directory", "create", "-n", "landing/2024", "-f", fs)
    exists = az(tarn, env, "storage", "fs", "directory", "exists", "-n", "landing/2024", "-f", fs)
    assert exists == {"exists": True}

    for name in payloads:
        az(tarn, env, "storage", "fs", "file", "upload", "-s", str(src / name),
           "-p", f"landing/2024/{name}", "-f", fs)

    az(tarn, env, "storage", "fs", "directory", "move", "-n", "landing", "-f", fs,
       "--new-directory", f"{fs}/curated")
    gone = az(tarn, env, "storage", "fs", "directory", "exists", "-n", "landing", "-f", fs)
    assert gone == {"exists": False}

    files = az(tarn, env, "storage", "fs", "file", "list", "-f", fs, "--path", "curated",
               "--exclude-dir")
    by_name = {f["name"]: f for f in files}
    expected = {f"curated/2024/{n}" for n in payloads}
    assert set(by_name) == expected, by_name
    for n, data in payloads.items():
        entry = by_name[f"curated/2024/{n}"]
        assert int(entry["contentLength"]) == len(data), entry
        assert not entry.get("isDirectory"), entry

    with_dirs = az(tarn, env, "storage", "fs", "file", "list", "-f", fs, "--path", "curated")
    assert {f["name"] for f in with_dirs} == expected | {"curated/2024"}
    everything = az(tarn, env, "storage", "fs", "file", "list", "-f", fs)
    assert {f["name"] for f in everything} == expected | {"curated", "curated/2024"}
    assert [f["isDirectory"] for f in everything if f["name"] == "curated"] == [True]

    out = tmp_path / "out"
    out.mkdir()
    for n, data in payloads.items():
        dest = out / n
        az(tarn, env, "storage", "fs", "file", "download", "-p", f"curated/2024/{n}", "-f", fs,
           "-d", str(dest))
        assert dest.read_bytes() == data, n

    shown = az(tarn, env, "storage", "fs", "file", "show", "-p", "curated/2024/small.txt",
               "-f", fs)
    assert int(shown["size"]) == len(payloads["small.txt"])
    assert shown["permissions"] and shown["owner"]

    az(tarn, env, "storage", "fs", "directory", "delete", "-n", "curated", "-f", fs, "--yes")
    assert az(tarn, env, "storage", "fs", "file", "list", "-f", fs) == []
    az(tarn, env, "storage", "fs", "delete", "-n", fs, "--yes")
    assert fs not in [f["name"] for f in az(tarn, env, "storage", "fs", "list")]
