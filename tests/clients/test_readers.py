"""adlfs, pyarrow and polars read and write lake paths on tarnd, unchanged, configured as
docs/clients.md shows. Directory-shaped operations are checked on tarnd's side through the
DataLake SDK, so a client that only seemed to succeed is caught."""

import io

import numpy as np
import pandas as pd
import pytest

from conftest import ACCOUNT, ACCOUNT_KEY


def frame(rows=2000):
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "region": np.array(["north", "south", "east", "west"])[np.arange(rows) % 4],
        "store": np.arange(rows, dtype=np.int64),
        "amount": rng.normal(100.0, 15.0, rows).round(2),
        "note": [f"row {i}, with a comma" for i in range(rows)],
    })


def lake_paths(tarnd, fs, directory=None):
    """What tarnd holds under directory: {path: is_directory}, read with the DataLake SDK."""
    client = tarnd.datalake_service().get_file_system_client(fs)
    return {p.name: bool(p.is_directory) for p in client.get_paths(path=directory,
                                                                 recursive=True)}


# ----- adlfs (abfs://, the Blob API), under pandas and dask ----------------------------------

def adlfs_options(tarnd):
    # A connection string with a path-style BlobEndpoint: adlfs's own way to reach an emulator.
    return {"connection_string": tarnd.connection_string}


def test_adlfs_pandas_parquet_and_csv_round_trip(tarnd, filesystem):
    opts = adlfs_options(tarnd)
    df = frame()
    df.to_parquet(f"abfs://{filesystem}/sales/2026/part-0.parquet", storage_options=opts)
    df.to_csv(f"abfs://{filesystem}/raw/sales.csv", index=False, storage_options=opts)

    back = pd.read_parquet(f"abfs://{filesystem}/sales/2026/part-0.parquet",
                           storage_options=opts)
    pd.testing.assert_frame_equal(back, df)
    csv = pd.read_csv(f"abfs://{filesystem}/raw/sales.csv", storage_options=opts)
    pd.testing.assert_frame_equal(csv, df)
    # tarnd made the parent folders real directories (a hierarchical namespace).
    held = lake_paths(tarnd, filesystem)
    assert held["sales"] is True and held["sales/2026"] is True
    assert held["sales/2026/part-0.parquet"] is False


def test_adlfs_filesystem_operations(tarnd, filesystem):
    import adlfs
    fs = adlfs.AzureBlobFileSystem(**adlfs_options(tarnd))
    for i in range(3):
        with fs.open(f"{filesystem}/logs/day={i}/events.json", "wb") as f:
            f.write(b'{"n": %d}\n' % i * 1000)
    assert sorted(fs.ls(f"{filesystem}/logs")) == [
        f"{filesystem}/logs/day={i}" for i in range(3)]
    assert sorted(fs.glob(f"{filesystem}/logs/*/events.json")) == [
        f"{filesystem}/logs/day={i}/events.json" for i in range(3)]
    info = fs.info(f"{filesystem}/logs/day=1/events.json")
    assert info["type"] == "file" and info["size"] == len(b'{"n": 1}\n') * 1000
    assert fs.info(f"{filesystem}/logs/day=1")["type"] == "directory"
    assert fs.cat_file(f"{filesystem}/logs/day=2/events.json", start=0, end=9) == b'{"n": 2}\n'
    fs.rm(f"{filesystem}/logs/day=0", recursive=True)
    assert not fs.exists(f"{filesystem}/logs/day=0/events.json")
    assert "logs/day=0/events.json" not in lake_paths(tarnd, filesystem)
    assert "logs/day=1/events.json" in lake_paths(tarnd, filesystem)


def test_dask_reads_a_partitioned_parquet_folder_through_adlfs(tarnd, filesystem):
    import dask.dataframe as dd
    opts = adlfs_options(tarnd)
    df = frame()
    df.to_parquet(f"abfs://{filesystem}/curated/sales", partition_cols=["region"],
                  storage_options=opts)
    ddf = dd.read_parquet(f"abfs://{filesystem}/curated/sales", storage_options=opts)
    got = ddf.compute()
    assert len(got) == len(df)
    assert sorted(got["store"].tolist()) == df["store"].tolist()
    by_region = got.groupby("region", observed=True)["amount"].sum().round(2)
    want = df.groupby("region")["amount"].sum().round(2)
    for region in want.index:
        assert by_region[region] == pytest.approx(want[region])


# ----- pyarrow.fs.AzureFileSystem (Blob and DFS, HNS detected) -------------------------------

def arrow_fs(tarnd):
    from pyarrow import fs
    authority = tarnd.url.split("://", 1)[1]  # 127.0.0.1:PORT: path-style, account in the path
    return fs.AzureFileSystem(account_name=ACCOUNT, account_key=ACCOUNT_KEY,
                              blob_storage_authority=authority,
                              dfs_storage_authority=authority,
                              blob_storage_scheme="http", dfs_storage_scheme="http")


def test_pyarrow_dataset_over_partitioned_parquet(tarnd, filesystem):
    import pyarrow as pa
    import pyarrow.dataset as ds
    afs = arrow_fs(tarnd)
    table = pa.Table.from_pandas(frame(), preserve_index=False)
    ds.write_dataset(table, f"{filesystem}/curated/sales", filesystem=afs, format="parquet",
                     partitioning=["region"], partitioning_flavor="hive")
    held = lake_paths(tarnd, filesystem, "curated/sales")
    assert held["curated/sales/region=north"] is True

    dataset = ds.dataset(f"{filesystem}/curated/sales", filesystem=afs, format="parquet",
                         partitioning="hive")
    assert dataset.count_rows() == table.num_rows
    north = dataset.to_table(filter=ds.field("region") == "north").to_pandas()
    want = frame().query("region == 'north'")
    assert sorted(north["store"].tolist()) == want["store"].tolist()


def test_pyarrow_detects_the_hierarchical_namespace_and_renames_directories(tarnd, filesystem):
    from pyarrow import fs
    afs = arrow_fs(tarnd)
    afs.create_dir(f"{filesystem}/staging/batch-1")
    for i in range(5):
        with afs.open_output_stream(f"{filesystem}/staging/batch-1/f{i}.csv") as out:
            out.write(b"a,b\n1,2\n")
    # A directory move is served only with HNS (over DFS); on a flat account pyarrow refuses it.
    # As on Azure, the destination's parent must exist; and the Azure C++ SDK addresses the
    # rename without the account in a path-style URL, which tarnd serves.
    afs.create_dir(f"{filesystem}/published")
    afs.move(f"{filesystem}/staging/batch-1", f"{filesystem}/published/batch-1")
    held = lake_paths(tarnd, filesystem)
    assert held["published/batch-1"] is True
    assert sorted(p for p in held if p.startswith("published/batch-1/")) == [
        f"published/batch-1/f{i}.csv" for i in range(5)]
    assert "staging/batch-1" not in held
    infos = afs.get_file_info(fs.FileSelector(f"{filesystem}/published", recursive=True))
    assert sorted((i.path, i.type) for i in infos) == sorted(
        [(f"{filesystem}/published/batch-1", fs.FileType.Directory)] +
        [(f"{filesystem}/published/batch-1/f{i}.csv", fs.FileType.File) for i in range(5)])
    afs.delete_dir(f"{filesystem}/published")
    assert not any(p.startswith("published") for p in lake_paths(tarnd, filesystem))
    with pytest.raises(FileNotFoundError):
        with afs.open_input_file(f"{filesystem}/published/batch-1/f0.csv") as f:
            f.read()


# ----- polars (object_store: az://, the Blob API) --------------------------------------------

def polars_options(tarnd):
    # object_store's account URL override, with http allowed: path-style, account included.
    return {"account_name": ACCOUNT, "account_key": ACCOUNT_KEY,
            "azure_storage_endpoint": f"{tarnd.url}/{ACCOUNT}", "allow_http": "true"}


def test_polars_read_scan_and_write_parquet(tarnd, filesystem):
    import polars as pl
    opts = polars_options(tarnd)
    df = frame()
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    tarnd.blob_service().get_blob_client(filesystem, "sales/all.parquet").upload_blob(
        buf.getvalue())

    got = pl.read_parquet(f"az://{filesystem}/sales/all.parquet", storage_options=opts)
    assert got.height == len(df) and got["store"].to_list() == df["store"].to_list()

    pl.from_pandas(df).write_parquet(f"az://{filesystem}/sales/copy.parquet",
                                     storage_options=opts)
    assert lake_paths(tarnd, filesystem)["sales/copy.parquet"] is False
    back = pl.read_parquet(f"az://{filesystem}/sales/copy.parquet", storage_options=opts)
    assert back.equals(got)


def test_polars_scans_a_hive_partitioned_folder(tarnd, filesystem):
    import polars as pl
    df = frame()
    df.to_parquet(f"abfs://{filesystem}/curated/sales", partition_cols=["region"],
                  storage_options={"connection_string": tarnd.connection_string})
    lazy = pl.scan_parquet(f"az://{filesystem}/curated/sales/**/*.parquet",
                           storage_options=polars_options(tarnd), hive_partitioning=True)
    north = lazy.filter(pl.col("region") == "north").select("store").collect()
    assert sorted(north["store"].to_list()) == df.query("region == 'north'")["store"].tolist()
    assert lazy.select(pl.len()).collect().item() == len(df)


def test_polars_emulator_setting(tarnd, filesystem, monkeypatch):
    """object_store's emulator switch, with AZURITE_BLOB_STORAGE_URL naming tarnd."""
    import polars as pl
    monkeypatch.setenv("AZURITE_BLOB_STORAGE_URL", tarnd.url)
    df = pl.DataFrame({"x": list(range(10))})
    opts = {"use_emulator": "true"}
    df.write_parquet(f"az://{filesystem}/emulated.parquet", storage_options=opts)
    assert pl.read_parquet(f"az://{filesystem}/emulated.parquet",
                           storage_options=opts).equals(df)
