"""The Python SDK (tarn.core) against real tarnds: issue 4's proofs (section 6) and bad input
(section 7)."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from conftest import sdk_env, unique, write_config

SALES_V1 = "region,amount,units,day\neu,10.5,1,2024-01-02\nus,20.25,2,2024-01-03\n"
SALES_V1B = "region,amount,units,day\neu,1.0,,2024-02-01\n"
SALES_V2 = "region,amount,units,day\nap,99.0,9,2024-03-04\n"


def test_imports_and_extension():
    import tarn._native as native
    from tarn.core import Datastore, Dataset, Workspace  # noqa: F401
    from tarn.core.data import FileDataset, TabularDataset  # noqa: F401
    from tarn.core.dataset import Dataset as D2
    assert D2 is Dataset
    assert native.HAVE_TABULAR in (True, False)


def _service_principal(tarn, fs_name, role="Storage Blob Data Reader"):
    """A tenant and a service principal in tarnd's directory, with a role on the filesystem."""
    from identity_admin import Directory
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant)
    if role:
        d.assign(sp["object_id"], role, f"/{tarn.account}/{fs_name}")
    return tenant, sp["app_id"], sp["secret"]


def test_issue_snippet_runs_with_only_the_imports_changed(tarn, ws, lake, tmp_path,
                                                          monkeypatch):
    write_config(tmp_path, ws, tarn)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    tenant_id, app_id, secret = _service_principal(tarn, lake.name)
    datastore_name = "product_lake"
    # --- the issue's snippet, imports changed, placeholders filled ---
    from tarn.core.workspace import Workspace
    from tarn.core.datastore import Datastore
    from tarn.core.dataset import Dataset  # noqa: F401
    workspace = Workspace.from_config()      # config.json: subscription_id, resource_group, workspace_name
    Datastore.register_azure_data_lake(workspace, datastore_name, lake.name,
        tenant_id, app_id, secret, overwrite=False)
    # --- end of snippet ---
    got = Datastore.get(workspace, "PRODUCT_LAKE")  # names are case-insensitive
    assert got.name == datastore_name
    assert got.credential_type == "service_principal"
    assert got.tenant_id == tenant_id and got.client_id == app_id
    assert secret not in repr(got._doc)
    assert datastore_name in workspace.datastores
    # Registration checked the principal with tarnd's token service: a wrong secret, or a
    # principal without a role or ACL on the filesystem, registers nothing.
    from tarn.core import UserErrorException
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake(workspace, "wrong_secret", lake.name,
                                           tenant_id, app_id, "not-the-secret")
    assert e.value.code == "DatastoreValidationFailed" and "AADSTS7000215" in str(e.value)
    t2, a2, s2 = _service_principal(tarn, lake.name, role=None)
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake(workspace, "no_role", lake.name, t2, a2, s2)
    assert e.value.code == "DatastoreValidationFailed"
    assert "no_role" not in workspace.datastores
    # The account-key form validates and reads too.
    key_store = Datastore.register_azure_data_lake(workspace, "product_key", lake.name,
                                                   account_key=tarn.key)
    assert key_store.credential_type == "account_key" and key_store.local


def test_config_search_and_errors(tarn, ws, tmp_path, monkeypatch):
    from tarn.core import Workspace, UserErrorException
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserErrorException, match="config.json"):
        Workspace.from_config()
    cfg = write_config(tmp_path / "a", ws, tarn)
    w = Workspace.from_config(path=str(cfg))
    assert (w.name, w.subscription_id, w.resource_group) == (ws.name, "sub-1", "rg-1")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert Workspace.from_config(path=str(deep)).name == ws.name
    missing = unique("nope-")
    with pytest.raises(UserErrorException) as e:
        Workspace.get(missing, tarn_endpoint=tarn.url)
    assert e.value.code == "WorkspaceNotFound"
    # It says what to do next.
    assert "Workspace.create(%r" % missing in str(e.value)
    assert "tarn workspace create %s" % missing in str(e.value)
    with pytest.raises(UserErrorException) as e:
        Workspace.create(ws.name, subscription_id="sub-1", resource_group="rg-1",
                         tarn_endpoint=tarn.url)
    assert Workspace.create(ws.name, subscription_id="sub-1", resource_group="rg-1",
                            exist_ok=True, tarn_endpoint=tarn.url).name == ws.name
    assert ws.name in Workspace.list(tarn_endpoint=tarn.url)


def test_datastore_lifecycle(tarn, ws, lake):
    from tarn.core import Datastore, UserErrorException
    a = Datastore.register_azure_data_lake_gen2(ws, "store_a", lake.name, tarn.account,
                                                account_key=tarn.key)
    assert a.datastore_type == "AzureDataLakeGen2" and a.local
    # A new workspace's default is Azure ML's workspaceblobstore, a filesystem of its own.
    blobstore = Datastore.get_default(ws)
    assert blobstore.name == "workspaceblobstore" and blobstore.local
    assert blobstore.filesystem.startswith("azureml-blobstore-")
    a.set_as_default()
    assert Datastore.get_default(ws).name == "store_a"
    assert Datastore(ws).name == "store_a"
    assert ws.get_default_datastore().name == "store_a"
    b = Datastore.register_azure_blob_container(ws, "store_b", lake.name, tarn.account,
                                                account_key=tarn.key)
    ws.set_default_datastore("store_b")
    assert ws.get_default_datastore().name == "store_b"
    assert set(ws.datastores) == {"workspaceblobstore", "store_a", "store_b"}
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake_gen2(ws, "store_a", lake.name, tarn.account,
                                                account_key=tarn.key)
    assert e.value.code == "DatastoreAlreadyExists"
    Datastore.register_azure_data_lake_gen2(ws, "store_a", lake.name, tarn.account,
                                            account_key=tarn.key, overwrite=True)
    b.unregister()
    assert set(ws.datastores) == {"workspaceblobstore", "store_a"}
    assert lake.fs.exists()  # the data is untouched


def _register_sales(ws, store, name, create_new_version=False):
    from tarn.core import Dataset
    ds = Dataset.Tabular.from_delimited_files(path=[(store, "sales/**/*.csv")])
    return ds.register(ws, name, description="product zone sales", tags={"zone": "product"},
                       create_new_version=create_new_version)


@pytest.fixture
def tabular():
    import tarn._native as native
    if not native.HAVE_TABULAR:
        pytest.skip("this build has no tabular engine (DuckDB)")


def test_registered_csv_read_in_a_fresh_process(tarn, ws, store, lake, tmp_path, tabular):
    lake.write("sales/2024/01/a.csv", SALES_V1)
    lake.write("sales/2024/02/b.csv", SALES_V1B)
    v1 = _register_sales(ws, store, "sales")
    assert (v1.name, v1.version) == ("sales", 1)
    assert v1.tags == {"zone": "product"} and v1.description == "product zone sales"
    assert v1.data_changed_time is not None and v1.id

    write_config(tmp_path, ws, tarn)
    script = textwrap.dedent("""
        import json
        from tarn.core import Workspace, Dataset
        ws = Workspace.from_config()
        ds = Dataset.get_by_name(ws, "sales")
        df = ds.to_pandas_dataframe()
        print(json.dumps({"version": ds.version, "rows": len(df), "cols": list(df.columns),
                          "dtypes": [str(t) for t in df.dtypes],
                          "amount": df["amount"].tolist(), "region": df["region"].tolist()}))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=sdk_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["version"] == 1 and got["rows"] == 3
    assert got["cols"] == ["region", "amount", "units", "day"]
    assert got["region"] == ["eu", "us", "eu"]
    assert got["amount"] == [10.5, 20.25, 1.0]
    # an int column with a null becomes float with NaN, as azureml; day is a datetime
    assert got["dtypes"][2] == "float64" and got["dtypes"][3].startswith("datetime64")


def test_numpy_columns_come_without_python_objects(ws, store, lake, tabular):
    lake.write("n/a.csv", "i,f,b,s\n1,1.5,true,x\n2,,false,\n3,2.5,true,z\n")
    from tarn.core import Dataset
    ds = Dataset.Tabular.from_delimited_files(path=(store, "n/a.csv")).register(ws, "nums")
    cols = ws._client.read_table(ws.name, "nums", ds.version, ds._definition, False, None,
                                 False)
    kinds = {name: (kind, arr.dtype) for name, kind, arr in cols}
    assert kinds["i"] == ("int", np.dtype("int64"))
    assert kinds["f"][1] == np.dtype("float64")
    assert kinds["b"] == ("bool", np.dtype("bool"))
    assert kinds["s"][1] == np.dtype("O")
    arr = dict((n, a) for n, _, a in cols)["i"]
    assert arr.base is not None  # a view over the C++ vector, owned by a capsule
    df = ds.to_pandas_dataframe()
    assert np.isnan(df["f"][1]) and df["s"][1] is None


def test_versions_are_immutable_without_copies(ws, store, lake, tabular):
    lake.write("sales/2024/01/a.csv", SALES_V1)
    lake.write("sales/2024/02/b.csv", SALES_V1B)
    from tarn.core import Dataset, UserErrorException
    v1 = _register_sales(ws, store, "immut")
    lake.write("sales/2024/01/a.csv", SALES_V2)  # overwrite
    lake.delete("sales/2024/02/b.csv")           # delete
    with pytest.raises(UserErrorException) as e:
        _register_sales(ws, store, "immut")
    assert e.value.code == "DatasetAlreadyExists"
    v2 = _register_sales(ws, store, "immut", create_new_version=True)
    assert v2.version == 2
    old = Dataset.get_by_name(ws, "immut", version=1).to_pandas_dataframe()
    new = Dataset.get_by_name(ws, "immut").to_pandas_dataframe()
    assert old["region"].tolist() == ["eu", "us", "eu"]
    assert new["region"].tolist() == ["ap"]
    assert Dataset.get_by_id(ws, v1.id).version == 1
    assert set(Dataset.get_all(ws)) >= {"immut"}


def test_transforms_filter_and_profile(ws, store, lake, tabular):
    rows = "".join(f"{'eu' if i % 2 else 'us'},{i},{i * 10}\n" for i in range(20))
    lake.write("t/data.csv", "region,age,score\n" + rows)
    from tarn.core import Dataset
    ds = Dataset.Tabular.from_delimited_files(path=[(store, "t/*.csv")]).register(ws, "people")
    assert len(ds.take(5).to_pandas_dataframe()) == 5
    assert ds.skip(15).to_pandas_dataframe()["age"].tolist() == [15, 16, 17, 18, 19]
    f = ds.filter((ds["age"] > 15) & (ds.region == "eu")).to_pandas_dataframe()
    assert f["age"].tolist() == [17, 19]
    f = ds.filter(~(ds["age"] >= 2) | (ds["age"] == 19)).to_pandas_dataframe()
    assert f["age"].tolist() == [0, 1, 19]
    assert list(ds.keep_columns(["age"]).to_pandas_dataframe().columns) == ["age"]
    assert list(ds.drop_columns("score").to_pandas_dataframe().columns) == ["region", "age"]
    a, b = ds.random_split(0.3, seed=7)
    ra, rb = a.to_pandas_dataframe(), b.to_pandas_dataframe()
    assert len(ra) + len(rb) == 20 and not set(ra["age"]) & set(rb["age"])
    sample = ds.take_sample(0.5, seed=1).to_pandas_dataframe()
    assert 0 < len(sample) < 20
    p = ds.get_profile()
    assert p.row_count == 20
    assert p.columns["age"].min in ("0", 0) and p.columns["age"].max in ("19", 19)
    derived = ds.take(3)
    assert derived.name is None
    small = derived.register(ws, "people_small")
    assert len(small.to_pandas_dataframe()) == 3


def test_unregistered_dataset_reads_and_leaves_no_registration(ws, store, lake, tabular):
    lake.write("u/a.csv", "x\n1\n2\n")
    from tarn.core import Dataset
    before = set(Dataset.get_all(ws))
    df = Dataset.Tabular.from_delimited_files(path=(store, "u/*.csv")).to_pandas_dataframe()
    assert df["x"].tolist() == [1, 2]
    assert set(Dataset.get_all(ws)) == before


def test_file_dataset_download_and_to_path(ws, store, lake, tmp_path):
    lake.write("files/a.txt", "alpha")
    lake.write("files/sub/b.txt", "beta" * 100000)
    from tarn.core import Dataset, UserErrorException
    fds = Dataset.File.from_files(path=[(store, "files/**")]).register(ws, "docs")
    assert sorted(fds.to_path()) == ["/a.txt", "/sub/b.txt"]
    lake.write("files/a.txt", "changed")  # the version keeps the registered bytes
    got = fds.download(target_path=str(tmp_path / "out"))
    assert sorted(p.replace(str(tmp_path / "out"), "") for p in got) == ["/a.txt", "/sub/b.txt"]
    assert (tmp_path / "out" / "a.txt").read_text() == "alpha"
    assert (tmp_path / "out" / "sub" / "b.txt").read_text() == "beta" * 100000
    with pytest.raises(UserErrorException, match="overwrite"):
        fds.download(target_path=str(tmp_path / "out"))
    fds.download(target_path=str(tmp_path / "out"), overwrite=True)


@pytest.mark.skipif(not __import__("os").path.exists("/dev/fuse"), reason="needs /dev/fuse")
def test_file_dataset_mount(ws, store, lake, tmp_path):
    """FileDataset.mount as in azureml: a MountContext, as a context manager or with
    start()/stop(); the registered bytes, read-only, laid out as download() lays them out;
    pandas reads a mounted CSV; an unregistered dataset mounts too and leaves no registration."""
    import os
    lake.write("m/train/a.csv", "x,y\n1,2\n3,4\n")
    lake.write("m/train/deep/b.bin", bytes(range(256)) * 4096)
    from tarn.core import Dataset
    fds = Dataset.File.from_files(path=(store, "m/**")).register(ws, "mounted")
    lake.write("m/train/a.csv", "x,y\n9,9\n")  # the version keeps its bytes
    with fds.mount() as ctx:
        point = ctx.mount_point
        assert os.path.ismount(point)
        got = sorted(os.path.relpath(os.path.join(d, f), point)
                     for d, _, fs in os.walk(point) for f in fs)
        assert got == ["a.csv", "deep/b.bin"]
        assert pd.read_csv(os.path.join(point, "a.csv"))["y"].tolist() == [2, 4]
        with open(os.path.join(point, "deep", "b.bin"), "rb") as f:
            f.seek(256 * 4000 + 7)
            assert f.read(3) == bytes([7, 8, 9])
        with pytest.raises(OSError):
            open(os.path.join(point, "new.txt"), "w")
    assert not os.path.exists(point)  # its own temporary directory is removed
    target = tmp_path / "mnt"
    ctx = Dataset.File.from_files(path=(store, "m/train/*.csv")).mount(str(target))
    ctx.start()
    try:
        assert (target / "a.csv").read_text() == "x,y\n9,9\n"
    finally:
        ctx.stop()
    assert not os.path.ismount(target) and target.exists()
    assert not any(n.startswith("tarn-tmp-") for n in ws.datasets)


def test_tags_update_archive_unregister(ws, store, lake):
    lake.write("g/a.bin", "x")
    from tarn.core import Dataset, UserErrorException
    ds = Dataset.File.from_files(path=(store, "g/a.bin")).register(ws, "tagged", tags={"a": "1"})
    ds.add_tags({"b": "2"})
    assert ds.tags == {"a": "1", "b": "2"}
    ds.remove_tags(["a"])
    assert ds.tags == {"b": "2"}
    ds.update(description="new words")
    assert Dataset.get_by_name(ws, "tagged").description == "new words"
    ds.archive()
    assert ds.is_archived
    ds.reactivate()
    ds.unregister_all_versions()
    with pytest.raises(UserErrorException) as e:
        Dataset.get_by_name(ws, "tagged")
    assert e.value.code == "DatasetNotFound"


def test_external_datastore_drift(tarn2, ws):
    from conftest import Lake
    from tarn.core import Dataset, Datastore, DatasetDriftError
    remote = Lake(tarn2)
    remote.write("ext/a.csv", "k,v\na,1\n")
    ext = Datastore.register_azure_data_lake_gen2(ws, "external", remote.name, tarn2.account,
                                                  endpoint=tarn2.account_url,
                                                  account_key=tarn2.key)
    assert not ext.local
    fds = Dataset.File.from_files(path=(ext, "ext/a.csv")).register(ws, "ext_files")
    import tarn._native as native
    tds = None
    if native.HAVE_TABULAR:
        tds = Dataset.Tabular.from_delimited_files(path=(ext, "ext/*.csv")).register(ws, "ext_t")
        assert tds.to_pandas_dataframe()["k"].tolist() == ["a"]
    remote.write("ext/a.csv", "k,v\nb,2\n")
    with pytest.raises(DatasetDriftError) as e:
        fds.download(target_path=None)
    assert e.value.code == "DatasetDrift" and "ext/a.csv" in str(e.value)
    got = fds.download(ignore_drift=True)
    assert open(got[0]).read() == "k,v\nb,2\n"
    if tds is not None:
        with pytest.raises(DatasetDriftError):
            tds.to_pandas_dataframe()
        assert tds.to_pandas_dataframe(ignore_drift=True)["k"].tolist() == ["b"]


def test_service_principal_datastore_on_another_tarnd(tarn, tarn2, ws):
    """register_azure_data_lake_gen2 with a service principal of another endpoint's directory:
    the workspace's tarnd gets tokens from tarn2's token service over https (trusting tarn2's
    certificate through --ca-file) and reads tarn2's files with them."""
    from conftest import Lake
    from tarn.core import Dataset, Datastore, UserErrorException
    remote = Lake(tarn2)
    remote.write("sp/a.csv", "k,v\na,1\nb,2\n")
    endpoint = f"{tarn2.https_url}/{tarn2.account}"
    tenant, app_id, secret = _service_principal(tarn2, remote.name)
    ext = Datastore.register_azure_data_lake_gen2(ws, "ext_sp", remote.name, tarn2.account,
                                                  tenant, app_id, secret, endpoint=endpoint)
    assert not ext.local and ext.credential_type == "service_principal"
    assert secret not in repr(ext._doc)
    fds = Dataset.File.from_files(path=(ext, "sp/a.csv")).register(ws, "ext_sp_files")
    assert open(fds.download()[0]).read() == "k,v\na,1\nb,2\n"
    import tarn._native as native
    if native.HAVE_TABULAR:
        Dataset.Tabular.from_delimited_files(path=(ext, "sp/*.csv")).register(ws, "ext_sp_t")
        df = Dataset.get_by_name(ws, "ext_sp_t").to_pandas_dataframe()
        assert df["k"].tolist() == ["a", "b"] and df["v"].tolist() == [1, 2]
    # A wrong secret, a principal without a role there, or an authority that is not https
    # registers nothing, and says why.
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake_gen2(ws, "ext_wrong", remote.name, tarn2.account,
                                                tenant, app_id, "not-the-secret",
                                                endpoint=endpoint)
    assert e.value.code == "DatastoreValidationFailed" and "AADSTS7000215" in str(e.value)
    assert "not-the-secret" not in str(e.value)
    t2, a2, s2 = _service_principal(tarn2, remote.name, role=None)
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake_gen2(ws, "ext_no_role", remote.name, tarn2.account,
                                                t2, a2, s2, endpoint=endpoint)
    assert e.value.code == "DatastoreValidationFailed" and "403" in str(e.value)
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake_gen2(ws, "ext_http", remote.name, tarn2.account,
                                                tenant, app_id, secret,
                                                endpoint=tarn2.account_url)
    assert "https" in str(e.value)
    assert not {"ext_wrong", "ext_no_role", "ext_http"} & set(ws.datastores)


# ----- issue 4, section 7: bad input gets a clear error and registers nothing -------------------

def _names(ws):
    from tarn.core import Dataset
    return set(Dataset.get_all(ws))


def test_bad_globs(ws, store, lake):
    from tarn.core import Dataset, UserErrorException
    lake.write("present/a.csv", "x\n1\n")
    before = _names(ws)
    with pytest.raises(UserErrorException) as e:
        Dataset.File.from_files(path=(store, "absent/**/*.csv")).register(ws, "empty")
    assert e.value.code == "EmptyDataset"
    with pytest.raises(UserErrorException) as e:
        Dataset.File.from_files(path=(store, "present/[abc.csv")).register(ws, "badglob")
    assert e.value.code == "InvalidPaths"
    with pytest.raises(UserErrorException, match="empty glob"):
        Dataset.File.from_files(path=(store, ""))
    with pytest.raises(UserErrorException, match="mixed"):
        Dataset.File.from_files(path=[(store, "present/*"), "http://127.0.0.1:1/x/y"])
    assert _names(ws) == before


def test_unknown_datastore_and_wrong_credentials(tarn, ws, lake):
    from tarn.core import Dataset, Datastore, UserErrorException
    gone = Datastore.register_azure_data_lake_gen2(ws, "gone", lake.name, tarn.account,
                                                   account_key=tarn.key)
    gone.unregister()
    with pytest.raises(UserErrorException) as e:
        Dataset.Tabular.from_delimited_files(path=(gone, "*.csv"))
    assert e.value.code == "DatastoreNotFound"
    with pytest.raises(UserErrorException) as e:
        Dataset.File.from_files(path=(gone, "*.csv"), validate=False).register(ws, "orphan")
    assert e.value.code == "DatastoreNotFound"
    wrong = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake_gen2(ws, "badkey", lake.name, tarn.account,
                                                account_key=wrong)
    assert e.value.code == "DatastoreValidationFailed"
    assert "badkey" not in ws.datastores
    assert "orphan" not in _names(ws)


def test_invalid_names(tarn, ws, store, lake):
    from tarn.core import Dataset, Datastore, UserErrorException
    lake.write("n/a.csv", "x\n1\n")
    with pytest.raises(UserErrorException) as e:
        Dataset.File.from_files(path=(store, "n/a.csv")).register(ws, "bad name!")
    assert "name" in str(e.value).lower()
    with pytest.raises(UserErrorException) as e:
        Datastore.register_azure_data_lake_gen2(ws, "bad-store", lake.name, tarn.account,
                                                account_key=tarn.key)
    assert "name" in str(e.value).lower()
    with pytest.raises(UserErrorException):
        from tarn.core import Workspace
        Workspace.create("x", tarn_endpoint=tarn.url)  # too short
    assert "bad name!" not in _names(ws)


def test_type_conversion_on_error(ws, store, lake, tabular):
    from tarn.core import Dataset
    from tarn.core.data import DataType
    from tarn.core.exceptions import DataReadError
    lake.write("conv/a.csv", "id,amount\n1,10\n2,abc\n3,30\n")
    ds = Dataset.Tabular.from_delimited_files(
        path=(store, "conv/a.csv"), set_column_types={"amount": DataType.to_long()}
    ).register(ws, "conv")
    df = ds.to_pandas_dataframe()  # on_error='null': the bad value is a null
    assert df["amount"].isna().tolist() == [False, True, False]
    with pytest.raises(DataReadError) as e:
        ds.to_pandas_dataframe(on_error="fail")
    assert "abc" in str(e.value)


def test_filter_expressions_render_the_engine_language():
    from tarn.core.data._expression import Column
    e = (Column("age") > 15) & ~(Column("region") == "eu") | (Column("odd name") != None)  # noqa
    assert e.text == "((age > 15) and (not (region == 'eu'))) or (`odd name` != null)"
    assert (Column("q") == "it's").text == 'q == "it\'s"'
    with pytest.raises(TypeError):
        bool(Column("a") > 1)


def test_write_back_and_parquet_round_trip(ws, store, lake, tabular):
    lake.write("w/a.csv", "id,name,score\n1,ann,1.5\n2,bob,\n3,cy,3.5\n")
    from tarn.core import Dataset
    from tarn.core.data import FileDataset
    ds = Dataset.Tabular.from_delimited_files(path=(store, "w/a.csv")).register(ws, "w")
    pq = ds.filter(ds["id"] >= 2).to_parquet_files()  # ds.id is the dataset id
    assert isinstance(pq, FileDataset)
    assert all(p.endswith(".parquet") for p in pq.to_path())
    back = Dataset.Tabular.from_parquet_files(path=(store, pq._definition["paths"][0]["path"]))
    df = back.to_pandas_dataframe()
    assert df["id"].tolist() == [2, 3] and df["name"].tolist() == ["bob", "cy"]
    assert np.isnan(df["score"][0])
    csv = ds.take(1).to_csv_files(separator=";")
    files = csv.download()
    assert open(files[0]).read().splitlines()[0] == "id;name;score"


def test_partitions_json_lines_and_datetimes(ws, store, lake, tabular):
    lake.write("p/eu/2024/01/02/a.jsonl", '{"v": 1, "t": "2024-01-02 10:00:00"}\n')
    lake.write("p/us/2024/01/03/b.jsonl", '{"v": 2, "t": "2024-01-03 11:30:00"}\n')
    from tarn.core import Dataset
    ds = Dataset.Tabular.from_json_lines_files(
        path=(store, "p/**/*.jsonl"),
        partition_format="{region}/{day:yyyy/MM/dd}/*.jsonl").register(ws, "parts")
    assert ds.partition_keys == ["region", "day"]
    assert {v["region"] for v in ds.get_partition_key_values(["region"])} == {"eu", "us"}
    df = ds.to_pandas_dataframe()
    assert df["v"].tolist() == [1, 2]
    assert str(df["day"].dtype).startswith("datetime64")
    assert df["day"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    eu = ds.filter(ds.region == "eu").to_pandas_dataframe()
    assert eu["v"].tolist() == [1]


def test_time_series_filters(ws, store, lake, tabular):
    """with_timestamp_columns and time_before / time_after / time_between / time_recent, as in
    azureml: boundaries included by default; a partition timestamp prunes partitions; the
    timestamp columns survive registration, and unknown columns are refused."""
    import datetime as dt
    lake.write("ts/2024/01/01/a.csv", "t,v\n2024-01-01 08:00:00,1\n2024-01-01 20:00:00,2\n")
    lake.write("ts/2024/01/02/b.csv", "t,v\n2024-01-02 09:00:00,3\n")
    now = dt.datetime.now().replace(microsecond=0)
    lake.write("ts/2024/01/03/c.csv", "t,v\n%s,4\n" % (now - dt.timedelta(minutes=5)))
    from tarn.core import Dataset, UserErrorException
    base = Dataset.Tabular.from_delimited_files(
        path=(store, "ts/**/*.csv"), partition_format="{day:yyyy/MM/dd}/*.csv")
    with pytest.raises(UserErrorException) as e:
        base.time_after(dt.datetime(2024, 1, 1))
    assert e.value.code == "NoTimestampColumns"
    ds = base.with_timestamp_columns(timestamp="t", partition_timestamp="day")
    assert ds.timestamp_columns == ("t", "day")
    v = lambda d: sorted(d.to_pandas_dataframe()["v"].tolist())  # noqa: E731
    at = dt.datetime(2024, 1, 1, 20, 0, 0)
    assert v(ds.time_before(at)) == [1, 2]
    assert v(ds.time_before(at, include_boundary=False)) == [1]
    assert v(ds.time_after(at)) == [2, 3, 4]
    assert v(ds.time_after(at, include_boundary=False)) == [3, 4]
    assert v(ds.time_between(dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 2, 9))) == [2, 3]
    assert v(ds.time_recent(dt.timedelta(hours=1))) == [4]
    reg = ds.register(ws, "series")
    again = Dataset.get_by_name(ws, "series")
    assert again.timestamp_columns == ("t", "day")
    assert v(again.time_before(dt.datetime(2024, 1, 1, 12))) == [1]
    assert reg.with_timestamp_columns(None).timestamp_columns == (None, None)
    with pytest.raises(UserErrorException) as e:
        base.with_timestamp_columns(timestamp="nope", validate=True)
    assert "nope" in str(e.value)
    with pytest.raises(UserErrorException) as e:
        base.with_timestamp_columns(timestamp="nope").register(ws, "bad_series")
    assert e.value.code == "InvalidDefinition" and "nope" in str(e.value)
    with pytest.raises(UserErrorException):
        base.with_timestamp_columns(partition_timestamp="day")
    with pytest.raises(UserErrorException):
        ds.time_between(dt.datetime(2024, 2, 1), dt.datetime(2024, 1, 1))
    assert "bad_series" not in _names(ws)


def test_out_of_range_datetime(ws, store, lake, tabular):
    lake.write("dt/a.csv", "t\n2024-01-01 00:00:00\n3000-01-01 00:00:00\n")
    from tarn.core import Dataset
    from tarn.core.exceptions import DataReadError
    ds = Dataset.Tabular.from_delimited_files(path=(store, "dt/a.csv")).register(ws, "dt")
    df = ds.to_pandas_dataframe()
    assert df["t"][0] == pd.Timestamp("2024-01-01") and pd.isna(df["t"][1])
    with pytest.raises(DataReadError):
        ds.to_pandas_dataframe(out_of_range_datetime="fail")


# ----- people and services, not account keys (issue 12) ----------------------------------------

def test_seed_flow_with_service_principal_auth_and_no_account_key(tarn, ws, lake, tmp_path,
                                                                  tabular):
    """The seed's snippet, with auth=ServicePrincipalAuthentication(...), in a process that has
    no account key anywhere: the workspace calls and the datastore's reads are the service
    principal's, decided by its workspace role and its storage role."""
    from identity_admin import Directory
    lake.write("sales/2024/01/a.csv", SALES_V1)
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "seed")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{tarn.account}/{lake.name}")
    d.assign(sp["object_id"], "AzureML Data Scientist", f"/workspaces/{ws.name}")
    cfg = tmp_path / ".azureml"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({
        "subscription_id": ws.subscription_id, "resource_group": ws.resource_group,
        "workspace_name": ws.name, "tarn_endpoint": tarn.https_url}))
    script = textwrap.dedent("""
        import json, os, sys
        assert not [k for k in os.environ if "KEY" in k and k.startswith("TARN")]
        from tarn.core.workspace import Workspace
        from tarn.core.datastore import Datastore
        from tarn.core.dataset import Dataset
        from tarn.core.authentication import ServicePrincipalAuthentication
        tenant, app_id, secret, lake = sys.argv[1:5]
        auth = ServicePrincipalAuthentication(tenant, app_id, secret)
        workspace = Workspace.from_config(auth=auth)
        Datastore.register_azure_data_lake(workspace, "adlsg1", lake, tenant, app_id, secret,
                                           overwrite=False)
        store = Datastore.get(workspace, "adlsg1")
        ds = Dataset.Tabular.from_delimited_files(path=[(store, "sales/**/*.csv")])
        ds = ds.register(workspace, "sales_by_sp")
        df = Dataset.get_by_name(workspace, "sales_by_sp").to_pandas_dataframe()
        print(json.dumps({"rows": len(df), "regions": df["region"].tolist(),
                          "auth": repr(auth)}))
    """)
    env = sdk_env()
    env["TARN_CA_FILE"] = tarn.ca_file
    out = subprocess.run([sys.executable, "-c", script, tenant, sp["app_id"], sp["secret"],
                          lake.name], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["rows"] == 2 and got["regions"] == ["eu", "us"]
    assert sp["secret"] not in got["auth"]
    # The workspace's audit log names the service principal, not a key.
    r = d.raw.request("GET", "/identity/audit", [("action", "RegisterVersion")])
    events = [e for e in json.loads(r.body)["events"] if "sales_by_sp" in e["resource"]]
    assert [e["principal"] for e in events] == ["oid:" + sp["object_id"]], events
    # Its reads of the dataset's files are summarised with the credential they went through.
    r = d.raw.request("GET", "/identity/audit", [("principal", "oid:" + sp["object_id"])])
    vias = {e.get("via") for e in json.loads(r.body)["events"] if e["event"] == "reads"}
    assert f"datastore {ws.name}/adlsg1 as service_principal {sp['app_id']}" in vias, vias


def test_auth_errors_say_how_to_sign_in(tarn, ws, tmp_path, monkeypatch):
    from tarn.core import (InteractiveLoginAuthentication, ServicePrincipalAuthentication,
                           UserErrorException, Workspace)
    monkeypatch.delenv("TARN_ACCOUNT_KEY", raising=False)
    # Tokens travel only over TLS.
    with pytest.raises(UserErrorException) as e:
        Workspace.get(ws.name, auth=ServicePrincipalAuthentication("t", "a", "s"),
                      tarn_endpoint=tarn.url)
    assert e.value.code == "HttpsRequired" and "https://HOST:PORT" in str(e.value)
    # No credential, off loopback: how to sign in.
    with pytest.raises(UserErrorException) as e:
        Workspace.get(ws.name, tarn_endpoint="https://10.255.255.1:1")
    assert e.value.code == "NotSignedIn" and "tarn login" in str(e.value)
    with pytest.raises(UserErrorException) as e:
        Workspace.get(ws.name, auth=InteractiveLoginAuthentication(), tarn_endpoint=tarn.https_url)
    assert e.value.code == "NotSignedIn" and "tenant" in str(e.value)
    # A wrong secret is the token service's refusal, named.
    from identity_admin import Directory
    tenant = Directory(tarn).tenant()
    with pytest.raises(UserErrorException) as e:
        Workspace.get(ws.name, auth=ServicePrincipalAuthentication(
            tenant, "11111111-1111-1111-1111-111111111111", "nope", ca_file=tarn.ca_file),
            tarn_endpoint=tarn.https_url)
    assert "AADSTS700016" in str(e.value)


def test_interactive_login_runs_the_device_code_flow_once(tarn, ws, tmp_path, monkeypatch):
    """InteractiveLoginAuthentication: the first use shows the device code message; completing
    tarnd's page signs the person in, and the sign-in is kept for the next Workspace (and the
    CLI) without a prompt. The person sees what its workspace role allows."""
    import re
    import requests
    from identity_admin import Directory
    from tarn.core import InteractiveLoginAuthentication, UserErrorException, Workspace
    monkeypatch.delenv("TARN_ACCOUNT_KEY", raising=False)
    monkeypatch.setenv("TARN_HOME", str(tmp_path / "home"))
    d = Directory(tarn)
    tenant = d.tenant()
    u = d.call("POST", f"/tenants/{tenant}/principals",
               {"kind": "user", "display_name": "cy", "upn": "cy.sdk@contoso.example"}, 201)
    d.call("PUT", f"/principals/{u['object_id']}/password", {"password": "a long pass phrase"},
           200)
    d.assign(u["object_id"], "Reader", f"/workspaces/{ws.name}")
    prompts = []

    def prompt(message):
        prompts.append(message)
        uri, code = re.search(r"open the page (\S+) and enter the code (\S+) ", message).groups()
        r = requests.post(uri, verify=tarn.ca_file, timeout=30,
                          data={"code": code, "username": "cy.sdk@contoso.example",
                                "password": "a long pass phrase"})
        assert r.status_code == 200, r.text

    auth = InteractiveLoginAuthentication(tenant_id=tenant, ca_file=tarn.ca_file, _prompt=prompt)
    w = Workspace.get(ws.name, auth=auth, tarn_endpoint=tarn.https_url)
    assert w.name == ws.name and len(prompts) == 1 and auth.username == "cy.sdk@contoso.example"
    kept = tmp_path / "home" / "login.json"
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    # Next time, no prompt: the kept sign-in is the default, even with an http endpoint given.
    again = Workspace.get(ws.name, tarn_endpoint=tarn.url)
    assert again.name == ws.name and len(prompts) == 1
    assert again._client.endpoint == tarn.https_url
    with pytest.raises(UserErrorException) as e:
        Workspace.create("cy-own-" + unique("w"), tarn_endpoint=tarn.url)
    assert e.value.code == "AuthorizationFailed"
