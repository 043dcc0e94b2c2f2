"""Metric values MLflow cannot put in plain JSON (NaN, +/-infinity), and MLflow's limits on what
one request may log. Errors are checked by error_code, not by message."""

import math
import sys

from mlflow.entities import Metric, Param, RunTag
from mlflow.utils import validation as v

from conftest import mlflow_error

DBL_MAX = sys.float_info.max


def _is_pos_inf(x):
    # MLflow's SQL store keeps +inf as the largest double (SQL has no infinity), its file store
    # as inf: both are MLflow.
    return x == math.inf or x == DBL_MAX


def _is_neg_inf(x):
    return x == -math.inf or x == -DBL_MAX


def test_nan_and_infinities_round_trip(client, experiment):
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    client.log_metric(rid, "nan", float("nan"), step=0)
    client.log_metric(rid, "pinf", float("inf"), step=0)
    client.log_metric(rid, "ninf", float("-inf"), step=0)
    # A history mixing them with finite values, one per step.
    series = [1.5, float("nan"), float("inf"), float("-inf"), -0.25, 0.0]
    for step, x in enumerate(series):
        client.log_metric(rid, "mixed", x, step=step)
    client.log_batch(rid, metrics=[Metric("batched", float("nan"), 7, 0),
                                   Metric("batched", float("inf"), 8, 1)])
    m = client.get_run(rid).data.metrics
    assert math.isnan(m["nan"])
    assert _is_pos_inf(m["pinf"]) and _is_neg_inf(m["ninf"])
    assert m["mixed"] == 0.0  # the latest step's value
    hist = sorted(client.get_metric_history(rid, "mixed"), key=lambda p: p.step)
    assert [p.step for p in hist] == list(range(len(series)))
    vals = [p.value for p in hist]
    assert vals[0] == 1.5 and math.isnan(vals[1]) and _is_pos_inf(vals[2])
    assert _is_neg_inf(vals[3]) and vals[4] == -0.25 and vals[5] == 0.0
    b = sorted(client.get_metric_history(rid, "batched"), key=lambda p: p.step)
    assert math.isnan(b[0].value) and _is_pos_inf(b[1].value)
    assert [p.timestamp for p in b] == [7, 8]
    for key, check in (("nan", math.isnan), ("pinf", _is_pos_inf), ("ninf", _is_neg_inf)):
        (p,) = client.get_metric_history(rid, key)
        assert check(p.value), (key, p.value)
    # A search that compares a metric sees the NaN run's other metrics just the same.
    assert [r.info.run_id for r in client.search_runs([eid], "metrics.mixed = 0")] == [rid]


def _store(client):
    """The REST store behind MlflowClient: MlflowClient.log_batch splits big batches itself, so
    the server's own limits are reached through the store, one request per call."""
    return client._tracking_client.store


def test_batch_limits(client, experiment):
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    store = _store(client)
    assert (v.MAX_METRICS_PER_BATCH, v.MAX_PARAMS_TAGS_PER_BATCH, v.MAX_ENTITIES_PER_BATCH) == \
        (1000, 100, 1000)
    over = [
        dict(metrics=[Metric("m_over", float(i), 1, i) for i in range(1001)], params=[], tags=[]),
        dict(metrics=[], params=[Param(f"p_over{i}", "x") for i in range(101)], tags=[]),
        dict(metrics=[], params=[], tags=[RunTag(f"t_over{i}", "x") for i in range(101)]),
        dict(metrics=[], params=[], tags=[RunTag(f"t_way_over{i}", "x") for i in range(1001)]),
        # Each within its own limit, 1001 together.
        dict(metrics=[Metric("m_total", float(i), 1, i) for i in range(901)],
             params=[Param(f"p_total{i}", "x") for i in range(50)],
             tags=[RunTag(f"t_total{i}", "x") for i in range(50)]),
    ]
    for batch in over:
        with mlflow_error("INVALID_PARAMETER_VALUE", 400):
            store.log_batch(rid, **batch)
    data = client.get_run(rid).data
    assert data.metrics == {} and data.params == {}, "a refused batch logged something"
    assert not [k for k in data.tags if "_over" in k or "_total" in k]
    # Exactly at the limits is fine.
    store.log_batch(rid, metrics=[Metric("m_max", float(i), 1, i) for i in range(1000)],
                    params=[], tags=[])
    store.log_batch(rid, metrics=[], params=[Param(f"p{i}", str(i)) for i in range(100)],
                    tags=[])
    store.log_batch(rid, metrics=[], params=[], tags=[RunTag(f"t{i}", str(i)) for i in range(100)])
    data = client.get_run(rid).data
    assert len(data.params) == 100 and data.params["p99"] == "99"
    assert sum(1 for k in data.tags if k.startswith("t") and k[1:].isdigit()) == 100
    assert len(client.get_metric_history(rid, "m_max")) == 1000
    # MlflowClient itself splits a big batch into requests within the limits.
    client.log_batch(rid, metrics=[Metric("m_split", float(i), 1, i) for i in range(2500)],
                     params=[Param(f"q{i}", "v") for i in range(250)])
    assert len(client.get_metric_history(rid, "m_split")) == 2500
    assert len(client.get_run(rid).data.params) == 350


def test_value_and_key_lengths(client, experiment):
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    assert (v.MAX_PARAM_VAL_LENGTH, v.MAX_ENTITY_KEY_LENGTH) == (6000, 250)
    client.log_param(rid, "long_ok", "x" * 6000)
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.log_param(rid, "too_long", "x" * 6001)
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        _store(client).log_batch(rid, metrics=[], params=[Param("too_long_b", "y" * 6001)],
                                 tags=[])
    client.set_tag(rid, "k" * 250, "ok")
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.set_tag(rid, "k" * 251, "no")
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.log_param(rid, "p" * 251, "no")
    data = client.get_run(rid).data
    assert data.params["long_ok"] == "x" * 6000
    assert "too_long" not in data.params and "too_long_b" not in data.params
    assert data.tags["k" * 250] == "ok" and "k" * 251 not in data.tags


def test_params_are_write_once(client, experiment):
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    client.log_param(rid, "lr", "0.1")
    client.log_param(rid, "lr", "0.1")  # the same value again is fine
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.log_param(rid, "lr", "0.2")
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.log_batch(rid, params=[Param("lr", "0.3")])
    assert client.get_run(rid).data.params == {"lr": "0.1"}
