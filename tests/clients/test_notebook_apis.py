"""The data calls azureml v1 notebooks make first, with only their imports changed
(azureml.core -> tarn.core, azureml.data.datapath -> tarn.data.datapath): the calls that
Microsoft's "Create Azure Machine Learning datasets" (articles/machine-learning/v1/
how-to-create-register-datasets.md) and "train-with-datasets" notebook use, written here in
our own words against a real tarnd."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import ACCOUNT, ACCOUNT_KEY, unique


@pytest.fixture
def ws(tarnd, tmp_path, monkeypatch):
    """A workspace whose default datastore is a filesystem of this tarnd; config.json for it in
    the current directory, as a notebook's folder has."""
    from tarn.core import Datastore, Workspace
    fs = unique("nb")
    tarnd.datalake_service().create_file_system(fs)
    w = Workspace.create(unique("ws"), tarn_endpoint=tarnd.url, account_key=ACCOUNT_KEY)
    Datastore.register_azure_data_lake_gen2(w, "lake", fs, ACCOUNT).set_as_default()
    (tmp_path / "config.json").write_text(json.dumps({"workspace_name": w.name,
                                                      "tarn_endpoint": tarnd.url}))
    monkeypatch.chdir(tmp_path)
    return w, fs


def iris_like(rows=150):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "sepal_length": rng.normal(5.8, 0.8, rows).round(1),
        "sepal_width": rng.normal(3.0, 0.4, rows).round(1),
        "species": np.array(["setosa", "versicolor", "virginica"])[np.arange(rows) % 3]})


def test_upload_files_then_a_tabular_dataset_from_them(tarnd, ws, tmp_path, capsys):
    from tarn.core import Dataset, Workspace
    w, fs = ws
    (tmp_path / "data").mkdir()
    iris_like().to_csv(tmp_path / "data" / "iris.csv", index=False)

    workspace = Workspace.from_config()
    datastore = workspace.get_default_datastore()
    datastore.upload_files(files=["./data/iris.csv"], target_path="train-dataset/tabular/",
                           overwrite=True, show_progress=True)
    assert "uploading" in capsys.readouterr().err
    dataset = Dataset.Tabular.from_delimited_files(
        path=[(datastore, "train-dataset/tabular/iris.csv")])
    df = dataset.to_pandas_dataframe()
    pd.testing.assert_frame_equal(df[["sepal_length", "sepal_width", "species"]], iris_like())

    # overwrite=False keeps what is there; overwrite=True replaces it in one step.
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "data" / "iris.csv", index=False)
    datastore.upload_files(files=["./data/iris.csv"], target_path="train-dataset/tabular/",
                           overwrite=False, show_progress=False)
    assert len(Dataset.Tabular.from_delimited_files(
        path=[(datastore, "train-dataset/tabular/iris.csv")]).to_pandas_dataframe()) == 150
    datastore.upload_files(files=["./data/iris.csv"], target_path="train-dataset/tabular/",
                           overwrite=True, show_progress=False)
    assert len(Dataset.Tabular.from_delimited_files(
        path=[(datastore, "train-dataset/tabular/iris.csv")]).to_pandas_dataframe()) == 1
    names = {p.name for p in tarnd.datalake_service().get_file_system_client(fs).get_paths()}
    assert not [n for n in names if ".tarn-upload-" in n]


def test_upload_a_folder_and_download_it(tarnd, ws, tmp_path):
    from tarn.core import Workspace
    src = tmp_path / "animals"
    for kind in ("cats", "dogs"):
        (src / kind).mkdir(parents=True)
        for i in range(3):
            (src / kind / f"{i}.txt").write_bytes(f"{kind} {i}\n".encode() * 1000)
    datastore = Workspace.from_config().get_default_datastore()
    ref = datastore.upload(src_dir=str(src), target_path="animals", overwrite=True,
                           show_progress=False)
    assert ref.path_on_datastore == "animals"
    out = tmp_path / "back"
    assert datastore.download(target_path=str(out), prefix="animals/dogs",
                              show_progress=False) == 3
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == [
        f"animals/dogs/{i}.txt" for i in range(3)]
    assert (out / "animals" / "dogs" / "2.txt").read_bytes() == b"dogs 2\n" * 1000
    # Nothing already there is overwritten without overwrite=True.
    (out / "animals" / "dogs" / "0.txt").write_bytes(b"mine")
    assert datastore.download(target_path=str(out), prefix="animals/", show_progress=False) == 3
    assert (out / "animals" / "dogs" / "0.txt").read_bytes() == b"mine"


def test_upload_directory_with_a_datapath(tarnd, ws, tmp_path):
    from tarn.core import Dataset, Datastore, Workspace
    from tarn.data.datapath import DataPath
    src = tmp_path / "csv"
    src.mkdir()
    iris_like().to_csv(src / "iris.csv", index=False)
    (src / "notes.md").write_text("not data")
    ws_ = Workspace.from_config()
    datastore = Datastore.get(ws_, "lake")
    ds = Dataset.File.upload_directory(src_dir=str(src), target=DataPath(datastore,
                                                                       "datasets/iris/1"),
                                       show_progress=False)
    assert sorted(ds.to_path()) == ["/iris.csv", "/notes.md"]
    only_csv = Dataset.File.upload_directory(src_dir=str(src),
                                             target=DataPath(datastore, "datasets/iris/2"),
                                             pattern="*.csv", show_progress=False)
    assert only_csv.to_path() == ["/iris.csv"]
    tab = Dataset.Tabular.from_delimited_files(path=DataPath(datastore,
                                                             "datasets/iris/1/iris.csv"))
    assert len(tab.to_pandas_dataframe()) == 150


def test_register_pandas_dataframe(tarnd, ws):
    from tarn.core import Dataset, Datastore, Workspace
    w = Workspace.from_config()
    datastore = Datastore.get(w, "lake")
    df = iris_like()
    dataset = Dataset.Tabular.register_pandas_dataframe(df, datastore, "dataset_from_pandas_df",
                                                        show_progress=False)
    assert dataset.name == "dataset_from_pandas_df" and dataset.version == 1
    back = Dataset.get_by_name(w, "dataset_from_pandas_df").to_pandas_dataframe()
    pd.testing.assert_frame_equal(back, df)
    again = Dataset.Tabular.register_pandas_dataframe(df.head(10), (datastore, "frames"),
                                                      "dataset_from_pandas_df",
                                                      show_progress=False)
    assert again.version == 2 and len(again.to_pandas_dataframe()) == 10


def test_version_and_attribute_access(tarnd, ws):
    import tarn.core
    from tarn.core import Dataset, Workspace
    assert tarn.core.VERSION and tarn.core.VERSION.count(".") == 2
    datastore = Workspace.from_config().get_default_datastore()
    Dataset.Tabular.register_pandas_dataframe(iris_like(), datastore, "iris",
                                              show_progress=False)
    iris = Dataset.get_by_name(Workspace.from_config(), "iris")
    setosa = iris.filter(iris.species == "setosa").to_pandas_dataframe()
    assert len(setosa) == 50
    assert not hasattr(iris, "to_pandas")
    with pytest.raises(AttributeError, match="neither a method nor a column"):
        iris.to_spark_frame()


def test_filter_with_text_operators_and_isin(tarnd, ws):
    """The doc's filter calls: contains, startswith, endswith and isin, combined with & | ~."""
    from tarn.core import Dataset, Workspace
    datastore = Workspace.from_config().get_default_datastore()
    people = pd.DataFrame({"name": ["Bridget", "Brian", "Abril", "Carla", "Bob"],
                           "age": [22, 14, 30, 41, 16],
                           "city": ["Oslo", "Bergen", "Oslo", "Tromso", "Bergen"]})
    ds = Dataset.Tabular.register_pandas_dataframe(people, datastore, "people",
                                                   show_progress=False)

    def names(expr):
        return sorted(ds.filter(expr).to_pandas_dataframe()["name"])

    assert names((ds["name"].contains("Bri")) & (ds["age"] > 15)) == ["Bridget"]
    assert names(ds["name"].contains("bri")) == ["Abril"]  # case matters, as in azureml
    assert names(ds["name"].startswith("B")) == ["Bob", "Brian", "Bridget"]
    assert names(ds["city"].endswith("en")) == ["Bob", "Brian"]
    assert names(ds["city"].isin(["Oslo", "Tromso"]) & ~ds["age"].isin([22])) == [
        "Abril", "Carla"]
    assert names(ds.age.isin([14, 41]) | ds["name"].contains("'")) == ["Brian", "Carla"]
    with pytest.raises(TypeError):
        ds["name"].contains(5)


def test_a_new_workspace_has_workspaceblobstore_and_names_may_have_spaces(tarnd, tmp_path):
    """A notebook's first cells on a brand-new workspace: the default datastore is there, and
    'diabetes dataset' is a name Azure ML allows."""
    from tarn.core import Dataset, Workspace
    ws = Workspace.create(unique("fresh"), tarn_endpoint=tarnd.url, account_key=ACCOUNT_KEY)
    datastore = ws.get_default_datastore()
    assert datastore.name == "workspaceblobstore"
    (tmp_path / "diabetes.csv").write_text("age,bmi,target\n59,32.1,151\n48,21.6,75\n")
    datastore.upload_files([str(tmp_path / "diabetes.csv")], target_path="diabetes-data/",
                           overwrite=True, show_progress=False)
    tab = Dataset.Tabular.from_delimited_files(path=(datastore, "diabetes-data/*.csv"))
    tab = tab.register(workspace=ws, name="diabetes dataset", description="diabetes data",
                       tags={"format": "CSV"}, create_new_version=True)
    got = Dataset.get_by_name(ws, name="diabetes dataset").to_pandas_dataframe()
    assert got["target"].tolist() == [151, 75]
    assert "diabetes dataset" in Dataset.get_all(ws)


def test_partition_by_and_to_dask_dataframe(tarnd, ws):
    from tarn.core import Dataset, Workspace
    from tarn.data.datapath import DataPath
    w = Workspace.from_config()
    datastore = w.get_default_datastore()
    sales = pd.DataFrame({"country": ["nl", "de", "nl", "fr", "de", "nl"],
                          "amount": [1.0, 2.5, 3.0, 4.5, 5.0, 6.5]})
    ds = Dataset.Tabular.register_pandas_dataframe(sales, datastore, "sales",
                                                   show_progress=False)
    by_country = ds.partition_by(name="sales_by_country", partition_keys=["country"],
                                 target=DataPath(datastore, "repartition"), show_progress=False)
    assert by_country.name == "sales_by_country" and by_country.partition_keys == ["country"]
    assert sorted(v["country"] for v in by_country.get_partition_key_values()) == [
        "de", "fr", "nl"]
    back = by_country.to_pandas_dataframe()
    assert sorted(zip(back["country"], back["amount"])) == sorted(
        zip(sales["country"], sales["amount"]))
    nl = by_country.filter(by_country["country"] == "nl").to_pandas_dataframe()
    assert sorted(nl["amount"]) == [1.0, 3.0, 6.5]

    ddf = ds.to_dask_dataframe()
    assert float(ddf["amount"].sum().compute()) == pytest.approx(22.5)
    assert len(ddf) == 6


def test_file_dataset_filter_on_metadata_and_partitions(tarnd, ws, tmp_path):
    from tarn.core import Dataset, Workspace
    datastore = Workspace.from_config().get_default_datastore()
    src = tmp_path / "speech"
    for user, sizes in (("user1", (10, 200_000)), ("user2", (30, 50))):
        (src / user).mkdir(parents=True)
        for i, n in enumerate(sizes):
            (src / user / f"take[{i}].wav").write_bytes(b"w" * n)
    datastore.upload(str(src), target_path="speech", show_progress=False)
    files = Dataset.File.from_files(path=[(datastore, "speech")],
                                    partition_format="{userid}/*.wav")
    small = files.filter(files.file_metadata["Size"] < 100000)
    assert sorted(small.to_path()) == ["/user1/take[0].wav", "/user2/take[0].wav",
                                       "/user2/take[1].wav"]
    user1 = files.filter(files["userid"] == "user1")
    assert sorted(user1.to_path()) == ["/take[0].wav", "/take[1].wav"]
    both = files.filter((files["userid"] == "user2") & (files.file_metadata["Size"] > 40))
    assert both.to_path() == ["/take[1].wav"]
    registered = both.register(Workspace.from_config(), "user2_long")
    assert registered.to_path() == ["/take[1].wav"]
    speech = files.register(Workspace.from_config(), "speech")
    assert speech.partition_keys == ["userid"]
    assert sorted(v["userid"] for v in speech.get_partition_key_values()) == ["user1", "user2"]
    assert speech.filter(speech["userid"] == "user2").to_path() == ["/take[0].wav",
                                                                    "/take[1].wav"]
    with pytest.raises(Exception, match="ModifiedTime"):
        files.filter(files.file_metadata["ModifiedTime"] > 0)
    with pytest.raises(Exception, match="neither file metadata"):
        files.filter(files["speaker"] == "x")


def test_one_unreadable_line_does_not_fail_a_registration(tarnd, ws):
    """A line with too many fields in one file among many: the version is registered without
    it, says which file and line, and names set_column_types and on_error for typing."""
    from tarn.core import Dataset, Workspace
    w = Workspace.from_config()
    datastore = w.get_default_datastore()
    _, fs = ws
    client = tarnd.datalake_service().get_file_system_client(datastore.filesystem)
    body = "id,amount\n" + "".join(f"{i},{i}.5\n" for i in range(100))
    for i in range(4):
        extra = "100,1.0,stray,fields\n101,7.5\n" if i == 2 else ""
        client.get_file_client(f"exports/day-{i}.csv").upload_data(body + extra, overwrite=True)
    ds = Dataset.Tabular.from_delimited_files(path=(datastore, "exports/*.csv"))
    with pytest.warns(UserWarning, match="set_column_types") as caught:
        v = ds.register(w, "exports")
    assert "exports/day-2.csv line 102" in str(caught[0].message)
    assert v.rejected_lines == [{"path": "exports/day-2.csv", "line": 102,
                                 "error": v.rejected_lines[0]["error"]}]
    assert "TOO MANY COLUMNS" in v.rejected_lines[0]["error"]
    df = Dataset.get_by_name(w, "exports").to_pandas_dataframe()
    assert len(df) == 401 and 101 in df["id"].tolist() and 100 not in df["id"].tolist()
