"""Runs through MlflowClient: lifecycle (update, delete, restore), tags, dataset inputs, and
search_runs with MLflow's filter grammar, ordering and pagination."""

import os

import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType

from conftest import mlflow_error, unique


def test_update_delete_and_restore(client, experiment):
    eid, _ = experiment
    run = client.create_run(eid, run_name="first", tags={"team": "nlp"})
    rid = run.info.run_id
    assert run.info.status == "RUNNING" and run.info.lifecycle_stage == "active"
    assert run.info.artifact_uri == f"mlflow-artifacts:/{eid}/{rid}/artifacts"
    assert run.data.tags["mlflow.runName"] == "first" and run.data.tags["team"] == "nlp"
    client.update_run(rid, name="renamed")
    assert client.get_run(rid).info.run_name == "renamed"
    assert client.get_run(rid).data.tags["mlflow.runName"] == "renamed"
    client.set_terminated(rid, status="FAILED")
    got = client.get_run(rid).info
    assert got.status == "FAILED" and got.end_time >= got.start_time

    client.delete_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "deleted"
    ids = lambda vt: [r.info.run_id for r in client.search_runs([eid], run_view_type=vt)]
    assert ids(ViewType.ACTIVE_ONLY) == []
    assert ids(ViewType.DELETED_ONLY) == [rid]
    assert ids(ViewType.ALL) == [rid]
    with mlflow_error("INVALID_PARAMETER_VALUE"):  # a deleted run takes no more data
        client.log_metric(rid, "m", 1.0)
    client.restore_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "active"
    assert ids(ViewType.ACTIVE_ONLY) == [rid] and ids(ViewType.DELETED_ONLY) == []
    client.log_metric(rid, "m", 1.0)

    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_run("0" * 32)
    with mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.delete_run("f" * 32)


def test_set_and_delete_tags(client, experiment):
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    client.set_tag(rid, "stage", "dev")
    client.set_tag(rid, "stage", "prod")  # tags are overwritten, unlike params
    client.set_tag(rid, "empty", "")
    client.set_tag(rid, "unicode ключ", "значение ✓")
    tags = client.get_run(rid).data.tags
    assert tags["stage"] == "prod" and tags["empty"] == "" and tags["unicode ключ"] == "значение ✓"
    client.delete_tag(rid, "stage")
    tags = client.get_run(rid).data.tags
    assert "stage" not in tags and "empty" in tags
    with mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.delete_tag(rid, "stage")
    found = client.search_runs([eid], "tags.stage = 'prod'")
    assert found == []


def test_dataset_inputs(client, experiment):
    import mlflow
    import pandas as pd
    eid, _ = experiment
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    ds = mlflow.data.from_pandas(df, name="train-set", targets="y")
    with mlflow.start_run(experiment_id=eid) as run:
        mlflow.log_input(ds, context="training", tags={"split": "train"})
    got = client.get_run(run.info.run_id)
    inputs = got.inputs.dataset_inputs
    assert len(inputs) == 1
    d = inputs[0].dataset
    assert d.name == "train-set" and d.digest == ds.digest and d.source_type == ds.source.\
        _get_source_type()
    tags = {t.key: t.value for t in inputs[0].tags}
    assert tags["mlflow.data.context"] == "training" and tags["split"] == "train"
    found = client.search_runs([eid], "datasets.name = 'train-set' and "
                                      "datasets.context = 'training'")
    assert [r.info.run_id for r in found] == [run.info.run_id]


@pytest.fixture(scope="module")
def zoo(tracking):
    """Four runs with different params, metrics, tags, statuses and start times."""
    import mlflow
    tracking.apply()
    c = mlflow.MlflowClient()
    eid = c.create_experiment(unique("zoo-"))
    spec = {
        "alpha": dict(t=1000, params={"lr": "0.1", "opt": "adam"},
                      metrics={"acc": 0.9, "loss": 0.2}, tags={"team": "nlp"},
                      status="FINISHED"),
        "beta": dict(t=2000, params={"lr": "0.01", "opt": "sgd"},
                     metrics={"acc": 0.7, "loss": 0.5}, tags={"team": "vision"},
                     status="FAILED"),
        "gamma": dict(t=3000, params={"lr": "0.001", "opt": "adam"}, metrics={"acc": 0.8},
                      tags={"team": "NLP-core"}, status=None),
        "delta": dict(t=4000, params={"opt": "sgd"}, metrics={}, tags={}, status="KILLED"),
    }
    ids = {}
    for name, s in spec.items():
        rid = c.create_run(eid, start_time=s["t"], run_name=name).info.run_id
        c.log_batch(rid, metrics=[Metric(k, v, 5000, 0) for k, v in s["metrics"].items()],
                    params=[Param(k, v) for k, v in s["params"].items()],
                    tags=[RunTag(k, v) for k, v in s["tags"].items()])
        if s["status"]:
            c.set_terminated(rid, status=s["status"], end_time=s["t"] + 500)
        ids[name] = rid
    return eid, ids


FILTERS = [
    ("metrics.acc > 0.75", {"alpha", "gamma"}),
    ("metrics.acc >= 0.7 and metrics.loss < 0.3", {"alpha"}),
    ("metrics.acc != 0.8", {"alpha", "beta"}),
    ("metrics.acc <= 0.8", {"beta", "gamma"}),
    ("metrics.loss = 0.5", {"beta"}),
    ("params.opt = 'adam'", {"alpha", "gamma"}),
    ("params.lr != '0.1'", {"beta", "gamma"}),
    ("params.opt LIKE 'sg%'", {"beta", "delta"}),
    ("params.opt ILIKE 'ADA%'", {"alpha", "gamma"}),
    ("params.lr IS NULL", {"delta"}),
    ("tags.team = 'nlp'", {"alpha"}),
    ("tags.team LIKE 'nlp%'", {"alpha"}),
    ("tags.team ILIKE 'nlp%'", {"alpha", "gamma"}),
    ("tags.team IS NULL", {"delta"}),
    ("tags.team IS NOT NULL", {"alpha", "beta", "gamma"}),
    ("tags.`mlflow.runName` = 'beta'", {"beta"}),
    ("attributes.status = 'FAILED'", {"beta"}),
    ("attributes.status != 'FINISHED'", {"beta", "gamma", "delta"}),
    ("status = 'RUNNING'", {"gamma"}),
    ("attributes.run_name = 'gamma'", {"gamma"}),
    ("run_name LIKE '%ta'", {"beta", "delta"}),
    ("attributes.start_time > 2500", {"gamma", "delta"}),
    ("attributes.start_time >= 2000 and attributes.start_time < 4000", {"beta", "gamma"}),
    ("attributes.end_time > 0 and attributes.end_time <= 2500", {"alpha", "beta"}),
    ("params.opt = 'adam' and metrics.acc > 0.85 and tags.team = 'nlp' "
     "and attributes.status = 'FINISHED'", {"alpha"}),
    ("params.opt = 'nothing'", set()),
    ("", {"alpha", "beta", "gamma", "delta"}),
]


@pytest.mark.parametrize("flt,expected", FILTERS, ids=[f for f, _ in FILTERS])
def test_filter_grammar(client, zoo, flt, expected):
    eid, ids = zoo
    names = {v: k for k, v in ids.items()}
    got = {names[r.info.run_id] for r in client.search_runs([eid], flt)}
    assert got == expected


def test_filter_on_run_ids(client, zoo):
    eid, ids = zoo
    flt = f"attributes.run_id IN ('{ids['alpha']}', '{ids['delta']}')"
    assert {r.info.run_id for r in client.search_runs([eid], flt)} == {ids["alpha"], ids["delta"]}
    flt = f"attributes.run_id NOT IN ('{ids['alpha']}')"
    assert {r.info.run_id for r in client.search_runs([eid], flt)} == \
        {ids["beta"], ids["gamma"], ids["delta"]}


@pytest.mark.parametrize("flt", ["metrics.acc >> 1", "params.opt > 'a'", "metrics.acc = 'x'",
                                 "nonsense.key = 'a'", "metrics.acc > 0.5 or metrics.acc < 0.1",
                                 "attributes.start_time = 'yesterday'"])
def test_bad_filters_are_invalid_parameter_values(client, zoo, flt):
    eid, _ = zoo
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.search_runs([eid], flt)


def test_order_by(client, zoo):
    eid, ids = zoo
    names = {v: k for k, v in ids.items()}
    order = lambda ob: [names[r.info.run_id] for r in client.search_runs([eid], order_by=[ob])]
    # Runs without the metric or param come last, whichever the direction.
    assert order("metrics.acc DESC") == ["alpha", "gamma", "beta", "delta"]
    assert order("metrics.acc ASC") == ["beta", "gamma", "alpha", "delta"]
    assert order("params.lr ASC") == ["gamma", "beta", "alpha", "delta"]  # as strings
    assert order("params.lr DESC") == ["alpha", "beta", "gamma", "delta"]
    assert order("attributes.start_time ASC") == ["alpha", "beta", "gamma", "delta"]
    assert order("attributes.run_name DESC") == ["gamma", "delta", "beta", "alpha"]
    # The default: newest start first.
    assert [names[r.info.run_id] for r in client.search_runs([eid])] == \
        ["delta", "gamma", "beta", "alpha"]
    got = [names[r.info.run_id] for r in client.search_runs([eid], order_by=["params.opt ASC",
                                                                            "metrics.acc DESC"])]
    assert got == ["alpha", "gamma", "beta", "delta"]


def test_pagination_covers_every_run_once(client, experiment):
    eid, _ = experiment
    n, per_page = 25, 7
    ids = []
    for i in range(n):
        rid = client.create_run(eid, start_time=10_000 + i).info.run_id
        client.log_metric(rid, "rank", float(i), timestamp=1, step=0)
        ids.append(rid)
    for order in (None, ["metrics.rank ASC"]):
        seen, token, pages = [], None, 0
        while True:
            page = client.search_runs([eid], max_results=per_page, page_token=token,
                                      order_by=order)
            pages += 1
            assert len(page) <= per_page
            seen += [r.info.run_id for r in page]
            token = page.token
            if not token or pages > 10:
                break
        assert len(seen) == n and set(seen) == set(ids), (order, pages)
        assert pages in (4, 5)  # 7+7+7+4, and maybe an empty last page
        if order is None:
            assert seen == list(reversed(ids))  # start_time DESC
        else:
            assert seen == ids
    # The pandas flavour pages for itself.
    import mlflow
    df = mlflow.search_runs([eid], max_results=n)
    assert len(df) == n and set(df["run_id"]) == set(ids)
    with mlflow_error("INVALID_PARAMETER_VALUE"):
        client.search_runs([eid], max_results=50001)


def test_a_run_without_an_experiment_goes_to_default(tracking, client):
    """mlflow.start_run() with no experiment set logs to experiment 0, "Default", as MLflow's
    server keeps it; it is made on first use."""
    import mlflow
    import mlflow.tracking.fluent as fluent
    tracking.apply()
    for k in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        os.environ.pop(k, None)
    fluent._active_experiment_id = None  # no experiment set earlier in this process
    with mlflow.start_run() as run:
        mlflow.log_metric("x", 1.0)
    got = client.get_run(run.info.run_id)
    assert got.info.experiment_id == "0"
    assert client.get_experiment("0").name == "Default"
    assert got.data.metrics == {"x": 1.0}
