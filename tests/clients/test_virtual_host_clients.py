"""Clients that only know Azure's virtual-host URLs (https://<account>.<endpoint>.<suffix>),
against tarnd's virtual hosts under .localhost (issue 16): adlfs with account_host, and
mlflow's abfss:// artifact repository. Each runs in its own interpreter, trusting tarnd's
self-signed certificate as a client machine would (SSL_CERT_FILE, REQUESTS_CA_BUNDLE)."""

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
from azure.storage.filedatalake import FileSystemSasPermissions, generate_file_system_sas

from conftest import ACCOUNT, ACCOUNT_KEY


def run(script, tarnd, **env):
    full = dict(os.environ, SSL_CERT_FILE=tarnd.ca_file, REQUESTS_CA_BUNDLE=tarnd.ca_file, **env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=full,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr + tarnd.stderr_tail(2000)
    return out.stdout


def test_adlfs_with_account_host(tarnd, filesystem):
    port = urlsplit(tarnd.https_url).port
    # On a host name other than Azure's the SDK cannot tell the account from the URL, so adlfs
    # takes a SAS there (an account key needs the name in the host).
    sas = generate_account_sas(ACCOUNT, ACCOUNT_KEY, ResourceTypes(container=True, object=True),
                               AccountSasPermissions(read=True, write=True, list=True,
                                                     create=True, delete=True),
                               expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    out = run(f"""
        import adlfs, pandas as pd
        opts = dict(account_name={ACCOUNT!r}, sas_token={sas!r},
                    account_host="{ACCOUNT}.blob.localhost:{port}")
        fs = adlfs.AzureBlobFileSystem(**opts)
        pd.DataFrame({{"id": [1, 2], "v": [0.5, 1.5]}}).to_parquet(
            "abfs://{filesystem}/curated/t.parquet", storage_options=opts)
        fs.pipe("{filesystem}/raw/a.txt", b"hello")
        print(sorted(fs.find("{filesystem}")))
        print(fs.cat("{filesystem}/raw/a.txt").decode())
        print(pd.read_parquet(fs.open("{filesystem}/curated/t.parquet", "rb"))["v"].sum())
    """, tarnd)
    lines = out.strip().splitlines()
    assert lines[0] == str([f"{filesystem}/curated/t.parquet", f"{filesystem}/raw/a.txt"])
    assert lines[1:] == ["hello", "2.0"]
    # The same bytes, path-style.
    got = (tarnd.datalake_service().get_file_system_client(filesystem)
           .get_file_client("raw/a.txt").download_file().readall())
    assert got == b"hello"


def test_mlflow_abfss_artifact_repository(tarnd, filesystem, tmp_path):
    port = urlsplit(tarnd.https_url).port
    sas = generate_file_system_sas(ACCOUNT, filesystem, ACCOUNT_KEY,
                                   FileSystemSasPermissions(read=True, write=True, list=True,
                                                            delete=True),
                                   expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    (tmp_path / "model.txt").write_text("weights")
    (tmp_path / "plots").mkdir()
    (tmp_path / "dl").mkdir()
    (tmp_path / "plots" / "loss.csv").write_text("step,loss\n1,0.5\n")
    uri = f"abfss://{filesystem}@{ACCOUNT}.dfs.localhost:{port}/experiments/1/run-a/artifacts"
    out = run(f"""
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
        repo = get_artifact_repository({uri!r})
        print(type(repo).__name__)
        repo.log_artifact({str(tmp_path / "model.txt")!r})
        repo.log_artifacts({str(tmp_path / "plots")!r}, "plots")
        print(sorted((f.path, f.is_dir) for f in repo.list_artifacts()))
        print([f.path for f in repo.list_artifacts("plots")])
        local = repo.download_artifacts("plots/loss.csv", dst_path={str(tmp_path / "dl")!r})
        print(open(local).read().splitlines()[1])
    """, tarnd, AZURE_STORAGE_SAS_TOKEN=sas)
    lines = out.strip().splitlines()
    assert lines[0] == "AzureDataLakeArtifactRepository"
    assert lines[1] == str([("model.txt", False), ("plots", True)])
    assert lines[2] == str(["plots/loss.csv"])
    assert lines[3] == "1,0.5"
    paths = sorted(p.name for p in tarnd.datalake_service().get_file_system_client(filesystem)
                   .get_paths(path="experiments/1/run-a/artifacts"))
    assert paths == ["experiments/1/run-a/artifacts/model.txt",
                     "experiments/1/run-a/artifacts/plots",
                     "experiments/1/run-a/artifacts/plots/loss.csv"]
