"""Microsoft's JavaScript DataLake SDK (@azure/storage-file-datalake from npm, which
scripts/bootstrap.sh installs in .tools) against tarnd, path-style over http and virtual-host
style (https://devstoreaccount1.dfs.localhost:PORT, the certificate trusted through
NODE_EXTRA_CA_CERTS): files and directories, appends, ranged reads, directory and file renames,
ACLs and permissions, headers, metadata, existence and a recursive delete."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ACCOUNT, ACCOUNT_KEY, REPO, unique

MODULES = REPO / ".tools" / "node_modules"


@pytest.mark.parametrize("style", ["path", "host"])
def test_javascript_datalake_sdk(tarnd, style):
    if not (MODULES / "@azure" / "storage-file-datalake").is_dir() or not shutil.which("node"):
        pytest.fail("the JavaScript SDK is not installed in .tools: run scripts/bootstrap.sh")
    fs = unique("js")
    env = dict(os.environ, NODE_PATH=str(MODULES), NODE_EXTRA_CA_CERTS=tarnd.ca_file)
    url = (tarnd.account_url if style == "path" else
           f"https://{ACCOUNT}.dfs.localhost:{urlsplit(tarnd.https_url).port}")
    out = subprocess.run(["node", str(Path(__file__).with_name("js_datalake.cjs")),
                          url, ACCOUNT, ACCOUNT_KEY, fs],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + tarnd.stderr_tail(2000)
    seen = json.loads(out.stdout)
    try:
        assert seen["bigSize"] == 2 << 20
        assert seen["part1"] == "id,amount\n1,1.5\n"
        assert seen["part2Range"] == "amount"
        assert sorted(seen["paths"]) == sorted(
            [["published", True], ["published/batch-1", True],
             ["published/batch-1/big.bin", False]] +
            [[f"published/batch-1/part-{i}.csv", False] for i in range(3)] +
            [["staging", True]])
        assert seen["owner"] and seen["permissions"]["owner"] == {"read": True, "write": True,
                                                                  "execute": True}
        assert seen["part0Length"] == len("id,amount\n0,0\n")
        assert seen["metadata"] == {"zone": "curated"}
        assert seen["headers"] == ["text/csv", "en"]
        assert seen["dirPermissions"] == {"read": True, "write": False, "execute": True}
        assert seen["renamedExists"] is True and seen["oldExists"] is False
        assert seen["fsMetadata"] == {"owner": "sales"}
        assert seen["readToBuffer"] == "id,amount\n1,1.5\n"
        assert seen["afterDelete"] == ["published", "staging"]
        assert seen["missing"] == 404
        assert seen["filesystems"] == [fs]
        # What tarnd holds, read with the Python SDK.
        client = tarnd.datalake_service().get_file_system_client(fs)
        assert sorted(p.name for p in client.get_paths(recursive=True)) == ["published",
                                                                           "staging"]
    finally:
        tarnd.datalake_service().delete_file_system(fs)


@pytest.mark.parametrize("style", ["path", "host"])
def test_javascript_blob_batch(tarnd, style):
    if not (MODULES / "@azure" / "storage-blob").is_dir() or not shutil.which("node"):
        pytest.fail("the JavaScript SDK is not installed in .tools: run scripts/bootstrap.sh")
    env = dict(os.environ, NODE_PATH=str(MODULES), NODE_EXTRA_CA_CERTS=tarnd.ca_file)
    url = (tarnd.account_url if style == "path" else
           f"https://{ACCOUNT}.blob.localhost:{urlsplit(tarnd.https_url).port}")
    out = subprocess.run(["node", str(Path(__file__).with_name("js_batch.cjs")),
                          url, ACCOUNT, ACCOUNT_KEY, unique("jsb")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + tarnd.stderr_tail(2000)
    seen = json.loads(out.stdout)
    assert seen["containerDelete"] == {"status": 202, "parts": [202] * 20, "codes": [""] * 20,
                                       "failed": 0}
    assert seen["accountTier"] == {"status": 202, "parts": [200] * 10, "codes": [""] * 10,
                                   "failed": 0}
    assert seen["accountDelete"]["parts"] == [202] * 10 + [404]
    assert seen["accountDelete"]["codes"][-1] == "BlobNotFound"
    assert seen["accountDelete"]["failed"] == 1
    assert seen["left"] == ["logs"]
