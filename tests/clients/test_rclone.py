"""rclone (Debian's, 1.60) with its Azure Blob backend against tarnd: a container SAS URL is
the setting that reaches a path-style, plain-http endpoint (its `endpoint` option makes
https://<account>.<endpoint>). Copy, list, check, sync with deletions, and the bytes read back
through the Azure SDK."""

import datetime
import os
import shutil
import subprocess

import pytest

from conftest import ACCOUNT, ACCOUNT_KEY


def rclone(env, *args):
    out = subprocess.run(["rclone", "--config", "/dev/null", *args], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"rclone {' '.join(args)}: {out.stderr[-2000:]}"
    return out.stdout


def test_rclone_copy_check_and_sync(tarnd, filesystem, tmp_path):
    if not shutil.which("rclone"):
        pytest.fail("rclone is not installed: run scripts/bootstrap.sh")
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas
    sas = generate_container_sas(
        ACCOUNT, filesystem, account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, add=True, create=True, write=True,
                                           delete=True, list=True),
        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    env = dict(os.environ, RCLONE_CONFIG_LAKE_TYPE="azureblob",
               RCLONE_CONFIG_LAKE_SAS_URL=f"{tarnd.account_url}/{filesystem}?{sas}")
    src = tmp_path / "backup"
    (src / "db" / "2026").mkdir(parents=True)
    for i in range(4):
        (src / "db" / "2026" / f"dump-{i}.sql").write_bytes(b"insert %d;\n" % i * 5000)
    (src / "README").write_text("nightly backup\n")
    # Bigger than rclone's default chunk: Put Block and Put Block List.
    (src / "db" / "big.bin").write_bytes(os.urandom(5 << 20))

    remote = f"lake:{filesystem}"
    rclone(env, "copy", str(src), remote)
    listed = rclone(env, "lsf", "-R", "--files-only", remote).split()
    assert sorted(listed) == sorted(["README", "db/big.bin"] +
                                    [f"db/2026/dump-{i}.sql" for i in range(4)])
    rclone(env, "check", str(src), remote)  # sizes and MD5s match
    blob = tarnd.blob_service().get_blob_client(filesystem, "db/big.bin")
    assert blob.download_blob().readall() == (src / "db" / "big.bin").read_bytes()

    (src / "db" / "2026" / "dump-0.sql").unlink()
    (src / "README").write_text("changed\n")
    rclone(env, "sync", str(src), remote)
    after = rclone(env, "lsf", "-R", "--files-only", remote).split()
    assert "db/2026/dump-0.sql" not in after and len(after) == 5
    back = tmp_path / "restore"
    rclone(env, "copy", remote, str(back))
    assert (back / "README").read_text() == "changed\n"
    assert (back / "db" / "big.bin").read_bytes() == (src / "db" / "big.bin").read_bytes()
