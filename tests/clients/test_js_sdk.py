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


def run_js(tarnd, style, script, package, endpoint, name):
    """Runs one of this folder's node scripts against tarnd's account URL, path-style or on the
    virtual host <account>.<endpoint>.localhost; returns the JSON object it printed."""
    if not (MODULES / "@azure" / package).is_dir() or not shutil.which("node"):
        pytest.fail("the JavaScript SDK is not installed in .tools: run scripts/bootstrap.sh")
    env = dict(os.environ, NODE_PATH=str(MODULES), NODE_EXTRA_CA_CERTS=tarnd.ca_file)
    url = (tarnd.account_url if style == "path" else
           f"https://{ACCOUNT}.{endpoint}.localhost:{urlsplit(tarnd.https_url).port}")
    out = subprocess.run(["node", str(Path(__file__).with_name(script)),
                          url, ACCOUNT, ACCOUNT_KEY, name],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + tarnd.stderr_tail(2000)
    return json.loads(out.stdout)


@pytest.mark.parametrize("style", ["path", "host"])
def test_javascript_datalake_sdk(tarnd, style):
    fs = unique("js")
    seen = run_js(tarnd, style, "js_datalake.cjs", "storage-file-datalake", "dfs", fs)
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
    seen = run_js(tarnd, style, "js_batch.cjs", "storage-blob", "blob", unique("jsb"))
    assert seen["containerDelete"] == {"status": 202, "parts": [202] * 20, "codes": [""] * 20,
                                       "failed": 0}
    assert seen["accountTier"] == {"status": 202, "parts": [200] * 10, "codes": [""] * 10,
                                   "failed": 0}
    assert seen["accountDelete"]["parts"] == [202] * 10 + [404]
    assert seen["accountDelete"]["codes"][-1] == "BlobNotFound"
    assert seen["accountDelete"]["failed"] == 1
    assert seen["left"] == ["logs"]


@pytest.mark.parametrize("style", ["path", "host"])
def test_javascript_query_blob_contents(tarnd, style):
    """BlockBlobClient.query: the SDK's own request document and Avro reader (its codec, sync
    and record-name checks), and its onError and onProgress callbacks."""
    seen = run_js(tarnd, style, "js_query.cjs", "storage-blob", "blob", unique("jsq"))
    assert seen["csv"] == "north;10.5\nsouth;20\n"
    assert seen["contentType"] == "avro/binary"
    assert seen["progress"][-1] == len("id,region,amount\n1,north,10.5\n2,south,20\n3,north,7\n")
    assert seen["json"] == '{"id":"1"}\n{"id":"3"}\n'
    assert seen["jsonIn"] == '{"name":"b"}\n'
    assert seen["errors"] == [{"name": "InvalidTypeConversion", "fatal": True}]
    assert seen["failingText"] == ""
    assert seen["bad"] == {"status": 400, "code": "ErrorProcessingQueryExpression"}
