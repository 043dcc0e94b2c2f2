"""Microsoft's AzCopy (npm @azure-tools/azcopy-linux, installed by scripts/bootstrap.sh into
.tools/node_modules) against tarnd: a local tree of 1,000 files up with --from-to LocalBlobFS and
back down with --from-to BlobFSLocal, then compared.

Authentication: AzCopy 10.32 has no Shared Key login for Blob, but for Data Lake (BlobFS)
transfers it still signs with Shared Key when ACCOUNT_NAME and ACCOUNT_KEY are set in its
environment (it warns that this is deprecated). It only sends such credentials to hosts on its
trusted list, so the test adds 127.0.0.1:PORT with --trusted-microsoft-suffixes. (A SAS appended
to the URL would also work, without the trusted-suffix flag, once tarnd verifies SAS.)

Env: AZCOPY_BIN overrides the binary.
"""

import glob
import hashlib
import os
import random
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tarn_harness import REPO_ROOT, unique_name

pytestmark = pytest.mark.slow

AZCOPY_TIMEOUT = 300
N_FILES = 1000


def _find_azcopy():
    if os.environ.get("AZCOPY_BIN"):
        return Path(os.environ["AZCOPY_BIN"])
    pattern = str(REPO_ROOT / ".tools" / "node_modules" / "@azure-tools" / "azcopy-linux*" /
                  "dist" / "bin" / "azcopy*")
    found = sorted(glob.glob(pattern))
    return Path(found[0]) if found else None


@pytest.fixture(scope="module")
def azcopy(tmp_path_factory):
    src = _find_azcopy()
    if src is None or not src.exists():
        pytest.fail("AzCopy not found: run scripts/bootstrap.sh (npm @azure-tools/azcopy-linux "
                    "into .tools/node_modules) or set AZCOPY_BIN")
    binary = src
    if not os.access(src, os.X_OK):
        # npm does not always keep the executable bit of the packaged binary: use a copy.
        d = tmp_path_factory.mktemp("azcopy-bin")
        binary = d / "azcopy"
        shutil.copyfile(src, binary)
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    home = tmp_path_factory.mktemp("azcopy-home")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AZCOPY_") or k in ("ACCOUNT_NAME", "ACCOUNT_KEY"):
            del env[k]
    env.update(HOME=str(home), AZCOPY_LOG_LOCATION=str(home / "logs"),
               AZCOPY_JOB_PLAN_LOCATION=str(home / "plans"), AZCOPY_DISABLE_SYSLOG="true",
               AZCOPY_CONCURRENCY_VALUE="16")
    try:
        p = subprocess.run([str(binary), "--version"], env=env, capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail("azcopy --version timed out")
    if p.returncode != 0:
        pytest.fail(f"AzCopy at {binary} does not run (rc={p.returncode}): "
                    f"{p.stderr.decode(errors='replace')[-2000:]}"
                    "\n(AzCopy 10.32 links libsecret-1.so.0: Debian package libsecret-1-0)")
    return binary, env, home


def _log_errors(home, limit=40):
    """Failed requests from AzCopy's job logs (the part worth reading when a transfer fails):
    the request line of every RESPONSE STATUS CODE ERROR block (404s from AzCopy's existence
    checks excluded) and every ERR: line, deduplicated."""
    seen, out = set(), []
    for log in sorted(Path(home, "logs").glob("*.log")):
        text = log.read_text(errors="replace").splitlines()
        for i, line in enumerate(text):
            item = None
            if "RESPONSE STATUS CODE ERROR" in line and i + 1 < len(text):
                block = " ".join(t.strip() for t in text[i + 1:i + 12])
                if "404" in block and ("BlobNotFound" in block or "PathNotFound" in block):
                    continue
                item = "request: " + text[i + 1].strip()
                for t in text[i + 2:i + 40]:
                    if "ERROR CODE:" in t or "Status:" in t or "X-Ms-Error-Code" in t:
                        item += " | " + t.strip()
                        break
            elif "ERR:" in line:
                item = line.split("ERR:", 1)[1].strip()
            if item:
                key = item.split(" : ")[-1][:120] if "FAILED" in item else item
                if key not in seen:
                    seen.add(key)
                    out.append(item)
    return "\n".join(out[:limit]) or "<no errors in AzCopy logs>"


def run_azcopy(azcopy, tarn, *args, sas=False):
    """Runs AzCopy signing with Shared Key (ACCOUNT_NAME/ACCOUNT_KEY for a trusted host), or,
    with sas=True, with only the SAS already in the URLs: no key and no trusted-host flag."""
    binary, env, home = azcopy
    cmd = [str(binary), *args, "--skip-version-check", "--log-level=INFO"]
    if not sas:
        env = dict(env, ACCOUNT_NAME=tarn.account, ACCOUNT_KEY=tarn.key)
        host = tarn.url.split("//", 1)[1]
        cmd.append(f"--trusted-microsoft-suffixes={host}")
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, timeout=AZCOPY_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"azcopy timed out after {AZCOPY_TIMEOUT}s: {' '.join(args)}\n"
                    f"{(e.stdout or b'')[-3000:].decode(errors='replace')}\n{_log_errors(home)}")
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, (f"azcopy {' '.join(args)} failed (rc={p.returncode})\n"
                               f"{out[-4000:]}\n{p.stderr.decode(errors='replace')[-2000:]}\n"
                               f"--- failed requests ---\n{_log_errors(home)}")
    return out


def make_tree(root, n_files, seed=1234):
    """n_files files of mixed sizes in nested directories. Returns {relative path: md5}."""
    rnd = random.Random(seed)
    dirs = [""]
    for i in range(12):
        parent = rnd.choice(dirs)
        dirs.append(f"{parent}dir{i:02d}/" if parent == "" else f"{parent}sub{i:02d}/")
    dirs += ["with space/", "ünïcödé/", "deep/a/b/c/d/"]
    sizes = []
    for i in range(n_files):
        r = rnd.random()
        if i < 4:
            sizes.append([0, 1, 8 * 1024 * 1024, 8 * 1024 * 1024 + 1][i])  # edges, block size
        elif r < 0.90:
            sizes.append(rnd.randint(0, 32 * 1024))
        elif r < 0.99:
            sizes.append(rnd.randint(64 * 1024, 1024 * 1024))
        else:
            sizes.append(rnd.randint(2 * 1024 * 1024, 12 * 1024 * 1024))
    out = {}
    for i, size in enumerate(sizes):
        rel = f"{rnd.choice(dirs)}file{i:04d}{rnd.choice(['.txt', '.bin', '.csv', ''])}"
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rnd.randbytes(size)
        p.write_bytes(data)
        out[rel] = hashlib.md5(data).hexdigest()
    (root / "empty-dir").mkdir()
    return out


def tree_md5s(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = hashlib.md5(p.read_bytes()).hexdigest()
    return out


def test_azcopy_tree_up_and_down(tarn, azcopy, tmp_path):
    fs_name = unique_name("azcopy")
    dl = tarn.datalake_service()
    fs = dl.create_file_system(fs_name)

    local = tmp_path / "tree"
    local.mkdir()
    expected = make_tree(local, N_FILES)
    assert len(expected) == N_FILES

    dest = f"{tarn.account_url}/{fs_name}"
    run_azcopy(azcopy, tarn, "copy", str(local), dest, "--from-to", "LocalBlobFS",
               "--recursive", "--put-md5")

    # Server-side check, independent of AzCopy: every file, with its size and stored MD5.
    remote = {p.name: p for p in fs.get_paths(path="tree", recursive=True)}
    remote_files = {n[len("tree/"):]: p for n, p in remote.items() if not p.is_directory}
    assert set(remote_files) == set(expected), (
        f"missing={sorted(set(expected) - set(remote_files))[:10]} "
        f"extra={sorted(set(remote_files) - set(expected))[:10]}")
    for rel, md5 in expected.items():
        assert remote_files[rel].content_length == (local / rel).stat().st_size, rel
    assert "tree/empty-dir" in remote and remote["tree/empty-dir"].is_directory
    for rel in sorted(expected)[:: max(1, N_FILES // 100)]:
        props = fs.get_file_client(f"tree/{rel}").get_file_properties()
        stored = props.content_settings.content_md5
        assert stored is not None and bytes(stored).hex() == expected[rel], rel

    down = tmp_path / "down"
    down.mkdir()
    run_azcopy(azcopy, tarn, "copy", f"{dest}/tree", str(down), "--from-to", "BlobFSLocal",
               "--recursive")
    got = tree_md5s(down / "tree")
    assert set(got) == set(expected), (
        f"missing={sorted(set(expected) - set(got))[:10]} "
        f"extra={sorted(set(got) - set(expected))[:10]}")
    bad = [rel for rel in expected if got[rel] != expected[rel]]
    assert not bad, f"{len(bad)} files differ after the round trip, e.g. {bad[:10]}"

    fs.delete_file_system()


def test_azcopy_with_account_sas(tarn, azcopy, tmp_path):
    """The way AzCopy is usually pointed at a storage account: an account SAS on the URL."""
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
    import datetime

    fs_name = unique_name("azsas")
    fs = tarn.datalake_service().create_file_system(fs_name)
    sas = generate_account_sas(
        tarn.account, tarn.key, ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True,
                              create=True),
        expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=1))
    local = tmp_path / "tree"
    local.mkdir()
    expected = make_tree(local, 100, seed=99)
    dest = f"{tarn.account_url}/{fs_name}"
    run_azcopy(azcopy, tarn, "copy", str(local), f"{dest}?{sas}", "--from-to", "LocalBlobFS",
               "--recursive", sas=True)
    down = tmp_path / "down"
    down.mkdir()
    run_azcopy(azcopy, tarn, "copy", f"{dest}/tree?{sas}", str(down), "--from-to", "BlobFSLocal",
               "--recursive", sas=True)
    got = tree_md5s(down / "tree")
    assert got == expected

    # A SAS without write permission cannot upload.
    ro = generate_account_sas(
        tarn.account, tarn.key, ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, list=True),
        expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=1))
    binary, env, home = azcopy
    one = tmp_path / "one.txt"
    one.write_bytes(b"read-only SAS must not write this")
    p = subprocess.run([str(binary), "copy", str(one), f"{dest}/ro.txt?{ro}",
                        "--from-to", "LocalBlobFS", "--skip-version-check"],
                       env=env, capture_output=True, timeout=AZCOPY_TIMEOUT,
                       stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert not any(x.name.startswith("ro") for x in fs.get_paths(recursive=False))
    fs.delete_file_system()
