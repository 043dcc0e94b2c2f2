"""tarn.fsspec: azureml:// datastore paths under pandas, pyarrow and dask, in both of Azure ML
v2's forms, acting as the caller (whose roles decide what it reaches)."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import ACCOUNT, ACCOUNT_KEY, unique


@pytest.fixture(scope="module")
def lake(tarnd):
    """A workspace with a datastore over a new filesystem of tarnd's own account."""
    from tarn.core import Datastore, Workspace
    fs = unique("product")
    tarnd.datalake_service().create_file_system(fs)
    ws = Workspace.create(unique("ws"), subscription_id="00000000-0000-4000-8000-000000000015",
                          resource_group="rg-lake", tarn_endpoint=tarnd.url,
                          account_key=ACCOUNT_KEY)
    Datastore.register_azure_data_lake_gen2(ws, "product", fs, ACCOUNT)
    return ws, fs


@pytest.fixture
def in_project(tmp_path, monkeypatch, lake):
    """A project directory holding config.json for the workspace, as the current directory."""
    ws, _ = lake
    (tmp_path / "config.json").write_text(json.dumps({
        "subscription_id": ws.subscription_id, "resource_group": ws.resource_group,
        "workspace_name": ws.name, "tarn_endpoint": ws._client.endpoint}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TARN_ENDPOINT", raising=False)
    return tmp_path


def sales(rows=3000):
    rng = np.random.default_rng(3)
    return pd.DataFrame({"region": np.array(["north", "south", "east"])[np.arange(rows) % 3],
                         "store": np.arange(rows, dtype=np.int64),
                         "amount": rng.normal(50, 5, rows).round(3)})


def held(tarnd, fs):
    client = tarnd.datalake_service().get_file_system_client(fs)
    return {p.name: bool(p.is_directory) for p in client.get_paths(recursive=True)}


def test_pandas_reads_and_writes_the_short_form_with_config_json(tarnd, lake, in_project):
    import tarn.fsspec  # noqa: F401 - registers azureml://
    _, fs = lake
    folder = unique("sales")
    df = sales()
    df.to_parquet(f"azureml://datastores/product/paths/{folder}/all.parquet")
    df.to_csv(f"azureml://datastores/product/paths/{folder}/all.csv", index=False)
    assert held(tarnd, fs)[f"{folder}/all.parquet"] is False
    pd.testing.assert_frame_equal(
        pd.read_parquet(f"azureml://datastores/product/paths/{folder}/all.parquet"), df)
    pd.testing.assert_frame_equal(
        pd.read_csv(f"azureml://datastores/product/paths/{folder}/all.csv"), df)


def test_a_partitioned_folder_with_the_long_form(tarnd, lake, in_project):
    import tarn.fsspec  # noqa: F401
    ws, fs = lake
    folder = unique("curated")
    base = (f"azureml://subscriptions/{ws.subscription_id}/resourcegroups/{ws.resource_group}/"
            f"workspaces/{ws.name}/datastores/product/paths/{folder}")
    df = sales()
    df.to_parquet(base, partition_cols=["region"])
    assert held(tarnd, fs)[f"{folder}/region=north"] is True
    got = pd.read_parquet(base + "/")
    assert len(got) == len(df)
    assert sorted(got["store"].tolist()) == df["store"].tolist()
    north = pd.read_parquet(base, filters=[("region", "==", "north")])
    assert sorted(north["store"].tolist()) == df.query("region == 'north'")["store"].tolist()

    import dask.dataframe as dd
    assert len(dd.read_parquet(base).compute()) == len(df)


def test_listing_globbing_moving_and_deleting(tarnd, lake, in_project):
    import fsspec
    import tarn.fsspec  # noqa: F401
    _, fs = lake
    folder = unique("files")
    afs = fsspec.filesystem("azureml")
    root = f"datastores/product/paths/{folder}"
    for day in range(3):
        with afs.open(f"azureml://{root}/day={day}/events.json", "wb") as f:
            for i in range(2000):
                f.write(b'{"day": %d, "i": %d}\n' % (day, i))
    assert afs.ls(f"azureml://{root}", detail=False) == [f"{root}/day={d}" for d in range(3)]
    assert afs.glob(f"azureml://{root}/*/events.json") == [
        f"{root}/day={d}/events.json" for d in range(3)]
    info = afs.info(f"azureml://{root}/day=1/events.json")
    size = sum(len(b'{"day": 1, "i": %d}\n' % i) for i in range(2000))
    assert info["type"] == "file" and info["size"] == size
    assert afs.info(f"azureml://{root}/day=1")["type"] == "directory"
    with afs.open(f"azureml://{root}/day=2/events.json", "rb") as f:
        f.seek(size - 22)
        assert f.read().endswith(b'"i": 1999}\n')
    assert afs.cat_file(f"azureml://{root}/day=0/events.json", 0, 20) == b'{"day": 0, "i": 0}\n{'

    afs.mv(f"azureml://{root}/day=2", f"azureml://{root}/archived")
    lake_now = held(tarnd, fs)
    assert f"{folder}/day=2" not in lake_now and lake_now[f"{folder}/archived"] is True
    assert lake_now[f"{folder}/archived/events.json"] is False
    afs.rm(f"azureml://{root}/day=0", recursive=True)
    assert not afs.exists(f"azureml://{root}/day=0/events.json")
    assert f"{folder}/day=0/events.json" not in held(tarnd, fs)
    with pytest.raises(FileNotFoundError):
        afs.info(f"azureml://{root}/nothing-here")
    with pytest.raises(FileNotFoundError):
        pd.read_csv(f"azureml://{root}/nothing-here.csv")


def test_paths_act_as_the_caller_whose_roles_decide(tarnd, lake, monkeypatch):
    """A service principal that may only read the filesystem reads through azureml:// and is
    refused a write, with PermissionError naming the lake's refusal; nothing is written."""
    import fsspec
    import tarn.fsspec
    from identity_admin import Directory
    from tarn.core import ServicePrincipalAuthentication, Workspace
    ws, fs = lake
    folder = unique("shared")
    df = sales(100)
    df.to_parquet(f"abfs://{fs}/{folder}/t.parquet",
                  storage_options={"connection_string": tarnd.connection_string})
    d = Directory(tarnd)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "reader")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    d.assign(sp["object_id"], "Reader", f"/workspaces/{ws.name}")
    monkeypatch.setenv("TARN_CA_FILE", tarnd.ca_file)
    auth = ServicePrincipalAuthentication(tenant, sp["app_id"], sp["secret"])
    as_reader = Workspace.get(ws.name, auth=auth, tarn_endpoint=tarnd.https_url)
    opts = {"workspace": as_reader, "skip_instance_cache": True}
    url = f"azureml://datastores/product/paths/{folder}/t.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=opts), df)
    with pytest.raises(PermissionError, match="AuthorizationPermissionMismatch"):
        df.to_parquet(f"azureml://datastores/product/paths/{folder}/new.parquet",
                      storage_options=opts)
    assert f"{folder}/new.parquet" not in held(tarnd, fs)
    afs = fsspec.filesystem("azureml", **opts)
    assert isinstance(afs, tarn.fsspec.AzureMLFileSystem)
    with pytest.raises(PermissionError):
        afs.rm(f"azureml://datastores/product/paths/{folder}/t.parquet")


def test_unusable_paths_say_what_to_write(tarnd, lake, in_project):
    import fsspec
    import tarn.fsspec  # noqa: F401
    from tarn.core.exceptions import UserErrorException
    afs = fsspec.filesystem("azureml")
    with pytest.raises(ValueError, match="azureml://datastores/<datastore>/paths/<path>"):
        afs.info("azureml://product/sales.csv")
    with pytest.raises(ValueError, match=r"'\.\.'"):
        afs.info("azureml://datastores/product/paths/a/../b")
    with pytest.raises(UserErrorException, match="DatastoreNotFound|not found"):
        afs.info("azureml://datastores/no_such_store/paths/x.csv")
