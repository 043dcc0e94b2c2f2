"""The Python data stack against a real tarnd: adlfs (under pandas and dask), pyarrow's
AzureFileSystem (with pyarrow.dataset), polars (object_store), and tarn.fsspec's azureml://
paths. Each test drives the real client from PyPI, unchanged, with the settings docs/clients.md
shows.

Run with the project's virtual environment (scripts/bootstrap.sh makes it):

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/clients

Environment:
    TARND_BIN   tarnd binary (default build/release/src/server/tarnd)
"""

import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "conformance"))
# tarn.core and tarn.fsspec as the build makes them (tarn._native beside the pure Python).
sys.path.insert(0, str(REPO / "build" / "release" / "python"))

from tarn_harness import TarnServer  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY  # noqa: E402


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def tarnd(tmp_path_factory):
    """One tarnd on 127.0.0.1 (http and https) in a temporary directory, stopped at the end."""
    base = tmp_path_factory.mktemp("tarnd")
    server = TarnServer(base / "data", base / "logs").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def filesystem(tarnd):
    """A new filesystem (container) on tarnd, deleted after the test."""
    name = unique("fs")
    svc = tarnd.datalake_service()
    svc.create_file_system(name)
    try:
        yield name
    finally:
        svc.delete_file_system(name)


@pytest.fixture(scope="session")
def account():
    return ACCOUNT, ACCOUNT_KEY
