"""Fixtures for the Python SDK and tarn CLI tests: real tarnd processes started by the
conformance suite's harness (tests/conformance/tarn_harness.py, reused, not copied), lake files
written with Microsoft's azure-storage-file-datalake, and the SDK imported from the build tree.

    /usr/bin/python3 -m pytest tests/sdk

Environment:
    TARND_BIN        tarnd binary (default build/release/src/server/tarnd)
    TARN_PYTHON_DIR  directory holding the tarn package and its extension
                     (default build/release/python)
    TARN_CLI_BIN     tarn CLI (default build/release/src/cli/tarn)
"""

import json
import os
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "conformance"))
PYTHON_DIR = Path(os.environ.get("TARN_PYTHON_DIR") or REPO / "build" / "release" / "python")
sys.path.insert(0, str(PYTHON_DIR))
CLI_BIN = Path(os.environ.get("TARN_CLI_BIN") or REPO / "build" / "release" / "src" / "cli" / "tarn")

from tarn_harness import TarnServer  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _no_kept_sign_in(tmp_path_factory):
    """`tarn login` keeps its sign-in in $TARN_HOME (else ~/.tarn): the tests use an empty one
    of their own, so that a developer's sign-in never changes what they do."""
    old = os.environ.get("TARN_HOME")
    os.environ["TARN_HOME"] = str(tmp_path_factory.mktemp("tarn_home"))
    yield
    if old is None:
        os.environ.pop("TARN_HOME", None)
    else:
        os.environ["TARN_HOME"] = old


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _serve(tmp_path_factory, name, extra_args=()):
    base = tmp_path_factory.mktemp(name)
    srv = TarnServer(base / "data", base / "logs", extra_args).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tarn(tmp_path_factory, tarn2):
    """The workspace's tarnd. It trusts tarn2's certificate, so that its datastores can reach
    tarn2 over https with a service principal of tarn2's directory."""
    yield from _serve(tmp_path_factory, "tarnd", ("--ca-file", tarn2.ca_file))


@pytest.fixture(scope="module")
def tarn2(tmp_path_factory):
    """A second tarnd: an external ADLS Gen2 endpoint for the first one's datastores."""
    yield from _serve(tmp_path_factory, "tarnd2")


class Lake:
    """One filesystem on a tarnd, written through Microsoft's SDK."""

    def __init__(self, server):
        self.server = server
        self.name = unique("product-")
        self.fs = server.datalake_service().create_file_system(self.name)

    def write(self, path, data):
        if isinstance(data, str):
            data = data.encode()
        self.fs.get_file_client(path).upload_data(data, overwrite=True)

    def delete(self, path):
        self.fs.get_file_client(path).delete_file()


@pytest.fixture
def lake(tarn):
    return Lake(tarn)


@pytest.fixture
def ws(tarn):
    from tarn.core import Workspace
    return Workspace.create(unique("ws-"), subscription_id="sub-1", resource_group="rg-1",
                            tarn_endpoint=tarn.url)


@pytest.fixture
def store(ws, lake, tarn):
    """An account-key datastore over `lake`, the workspace's default."""
    from tarn.core import Datastore
    ds = Datastore.register_azure_data_lake_gen2(ws, unique("store_"), lake.name, tarn.account,
                                                 account_key=tarn.key)
    ds.set_as_default()
    return ds


def write_config(directory, ws, tarn):
    d = Path(directory) / ".azureml"
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps({
        "subscription_id": ws.subscription_id, "resource_group": ws.resource_group,
        "workspace_name": ws.name, "tarn_endpoint": tarn.url}))
    return d / "config.json"


def sdk_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("TARN_ACCOUNT_KEY", None)
    return env
