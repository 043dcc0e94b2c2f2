"""A user's whole flow: a scikit-learn training script logs to the server, then the run is found,
read back, its artifacts downloaded, its model registered, aliased and loaded by models:/ URIs."""

import json

import numpy as np
import pytest

from conftest import run_script, unique


@pytest.fixture(scope="module")
def trained(tracking, tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    exp_name = unique("train-")
    run_script(tracking, "train_sklearn.py", exp_name, out)
    info = json.loads((out / "run.json").read_text())
    info["experiment_name"] = exp_name
    info["X"] = np.load(out / "X.npy")
    info["expected"] = np.load(out / "expected.npy")
    return info


def test_search_runs_gives_a_dataframe_with_metrics_and_params(client, trained):
    import mlflow
    df = mlflow.search_runs(experiment_names=[trained["experiment_name"]])
    assert len(df) == 1, df
    row = df.iloc[0]
    assert row["run_id"] == trained["run_id"]
    assert row["experiment_id"] == trained["experiment_id"]
    assert row["status"] == "FINISHED"
    assert row["tags.mlflow.runName"] == "sgd-baseline"
    assert row["tags.team"] == "forecasting"
    for k, v in trained["params"].items():
        assert row[f"params.{k}"] == str(v), k
    assert row["metrics.accuracy"] == pytest.approx(trained["history"]["accuracy"][-1])
    assert row["metrics.train_loss"] == pytest.approx(trained["history"]["train_loss"][-1])
    # The same through a filter on what was logged.
    best = mlflow.search_runs(experiment_names=[trained["experiment_name"]],
                              filter_string="params.loss = 'log_loss' and metrics.accuracy > 0")
    assert list(best["run_id"]) == [trained["run_id"]]


def test_metric_history_has_every_step(client, trained):
    for key in ("accuracy", "train_loss"):
        hist = sorted(client.get_metric_history(trained["run_id"], key), key=lambda m: m.step)
        assert [m.step for m in hist] == list(range(len(trained["history"][key])))
        assert [m.value for m in hist] == pytest.approx(trained["history"][key])
        assert all(m.timestamp > 0 for m in hist)


def test_artifacts_list_and_download_the_same_bytes(client, trained, tmp_path):
    import mlflow
    rid = trained["run_id"]
    root = {a.path: a for a in client.list_artifacts(rid)}
    assert {"notes", "report.json"} <= set(root), root
    assert root["notes"].is_dir and not root["report.json"].is_dir
    notes = client.list_artifacts(rid, "notes")
    assert [(a.path, a.is_dir) for a in notes] == [("notes/summary.txt", False)]
    assert notes[0].file_size == len(trained["notes"].encode())
    local = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="notes/summary.txt",
                                                dst_path=str(tmp_path / "a"))
    with open(local, "rb") as f:
        assert f.read() == trained["notes"].encode()
    local = client.download_artifacts(rid, "report.json", str(tmp_path))
    with open(local) as f:
        assert json.load(f) == trained["report"]
    assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/summary.txt") == trained["notes"]


def test_logged_model_is_the_runs_output(client, trained):
    run = client.get_run(trained["run_id"])
    assert [o.model_id for o in run.outputs.model_outputs] == [trained["model_id"]]
    lm = client.get_logged_model(trained["model_id"])
    assert lm.name == "model" and lm.source_run_id == trained["run_id"]
    assert str(lm.status) == "READY", lm.status
    files = {a.path for a in client.list_logged_model_artifacts(trained["model_id"])}
    assert {"MLmodel", "input_example.json"} <= files, files


def test_register_alias_and_load_by_models_uri(client, trained):
    import mlflow
    name = unique("clf-")
    mv = mlflow.register_model(f"runs:/{trained['run_id']}/model", name,
                               await_registration_for=60)
    assert str(mv.version) == "1"
    assert mv.run_id == trained["run_id"]
    # MLflow 3 keeps the model under the logged model, not the run: the client finds it with
    # logged-models/search and registers its models:/<model_id>.
    got = client.get_model_version(name, "1")
    assert got.source == f"models:/{trained['model_id']}", got.source
    client.set_registered_model_alias(name, "champion", "1")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    X, expected = trained["X"], trained["expected"]
    for uri in (f"models:/{name}/1", f"models:/{name}@champion"):
        model = mlflow.pyfunc.load_model(uri)
        got = np.asarray(model.predict(X))
        assert got.shape == expected.shape, uri
        assert (got == expected).all(), uri
    # The sklearn flavour of the same version gives the same answers.
    sk = mlflow.sklearn.load_model(f"models:/{name}/1")
    assert (sk.predict(X) == expected).all()
