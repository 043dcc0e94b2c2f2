"""Who may track (tarnd): a bearer token for the tracking audience (https://ml.azure.com) from
tarnd's token endpoint, and the workspace's roles. No token, or a token for another audience, is
401 UNAUTHENTICATED; a Reader reads and may not write (403 PERMISSION_DENIED); an AzureML Data
Scientist writes; a principal with no role on the workspace gets nothing. The ajax-api prefix
that MLflow's UI uses serves the same API (both back ends)."""

import pytest

from conftest import MANAGEMENT_SCOPE, STORAGE_SCOPE, mlflow_error, tarnd_only, unique

SEARCH = "/api/2.0/mlflow/experiments/search"


def _error(r):
    body = r.json()
    assert set(body) >= {"error_code", "message"}, body
    return body["error_code"]


@pytest.fixture
def shared_run(client, experiment):
    """An experiment and a run made by the Data Scientist, for others to read."""
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    client.log_metric(rid, "acc", 0.5)
    client.log_text(rid, "hello", "hello.txt")
    return eid, rid


def test_ajax_api_prefix_serves_the_same(tracking, shared_run):
    eid, rid = shared_run
    for prefix in ("/api/2.0", "/ajax-api/2.0"):
        r = tracking.http("GET", f"{prefix}/mlflow/runs/get", params={"run_id": rid})
        assert r.status_code == 200, (prefix, r.text)
        assert r.json()["run"]["info"]["run_id"] == rid
        r = tracking.http("POST", f"{prefix}/mlflow/runs/search",
                          json={"experiment_ids": [eid], "max_results": 5})
        assert r.status_code == 200 and [x["info"]["run_id"] for x in r.json()["runs"]] == [rid]


def test_no_token_is_unauthenticated(tracking, shared_run):
    tarnd_only("tokens and workspace roles")
    eid, rid = shared_run
    for method, path, kw in (
            ("POST", SEARCH, {"json": {"max_results": 1}}),
            ("GET", "/api/2.0/mlflow/runs/get", {"params": {"run_id": rid}}),
            ("POST", "/api/2.0/mlflow/runs/create", {"json": {"experiment_id": eid}}),
            ("GET", "/ajax-api/2.0/mlflow/runs/get", {"params": {"run_id": rid}}),
            ("GET", f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts/hello.txt", {}),
            ("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts/x.txt",
             {"data": b"x"})):
        r = tracking.http(method, path, token=None, **kw)
        assert r.status_code == 401 and _error(r) == "UNAUTHENTICATED", (method, path, r.text)
    r = tracking.http("POST", SEARCH, token="not-a-jwt", json={"max_results": 1})
    assert r.status_code == 401 and _error(r) == "UNAUTHENTICATED", r.text


def test_the_client_without_a_token(tracking, shared_run, monkeypatch):
    tarnd_only("tokens and workspace roles")
    _, rid = shared_run
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    with mlflow_error("UNAUTHENTICATED", 401):
        tracking.client().get_run(rid)


def test_tokens_for_other_audiences_are_refused(tracking, shared_run):
    tarnd_only("tokens and workspace roles")
    world = tracking.world
    for scope in (STORAGE_SCOPE, MANAGEMENT_SCOPE):
        tok = world.token("scientist", scope)
        r = tracking.http("POST", SEARCH, token=tok, json={"max_results": 1})
        assert r.status_code == 401 and _error(r) == "UNAUTHENTICATED", (scope, r.text)
        with mlflow_error("UNAUTHENTICATED", 401):
            tracking.client(token=tok).search_experiments()
    # The tracking token itself is for https://ml.azure.com, and no other API takes it.
    r = tracking.http("POST", SEARCH, json={"max_results": 1})
    assert r.status_code == 200, r.text


def test_a_reader_reads_and_cannot_write(tracking, shared_run, tmp_path):
    tarnd_only("tokens and workspace roles")
    eid, rid = shared_run
    reader = tracking.client(token=tracking.world.tokens["reader"])
    assert [r.info.run_id for r in reader.search_runs([eid])] == [rid]
    assert reader.get_run(rid).data.metrics == {"acc": 0.5}
    assert reader.get_experiment(eid).experiment_id == eid
    assert [m.value for m in reader.get_metric_history(rid, "acc")] == [0.5]
    assert [a.path for a in reader.list_artifacts(rid)] == ["hello.txt"]
    with open(reader.download_artifacts(rid, "hello.txt", str(tmp_path))) as f:
        assert f.read() == "hello"
    for write in (lambda: reader.create_run(eid),
                  lambda: reader.create_experiment(unique("nope-")),
                  lambda: reader.log_metric(rid, "acc", 0.9),
                  lambda: reader.set_tag(rid, "k", "v"),
                  lambda: reader.delete_run(rid),
                  lambda: reader.create_registered_model(unique("nope-"))):
        with mlflow_error("PERMISSION_DENIED", 403):
            write()
    r = tracking.http("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts/r.txt",
                      token=tracking.world.tokens["reader"], data=b"reader")
    assert r.status_code == 403 and _error(r) == "PERMISSION_DENIED", r.text
    r = tracking.http("POST", "/api/2.0/mlflow/runs/create",
                      token=tracking.world.tokens["reader"], json={"experiment_id": eid})
    assert r.status_code == 403 and _error(r) == "PERMISSION_DENIED", r.text
    # Nothing changed.
    assert len(tracking.client().search_runs([eid])) == 1
    assert tracking.client().get_run(rid).data.metrics == {"acc": 0.5}


def test_a_data_scientist_and_an_owner_write(tracking, experiment):
    tarnd_only("tokens and workspace roles")
    eid, _ = experiment
    for who in ("scientist", "owner"):
        c = tracking.client(token=tracking.world.tokens[who])
        rid = c.create_run(eid, run_name=who).info.run_id
        c.log_metric(rid, "m", 1.0)
        assert c.get_run(rid).info.run_name == who


def test_no_role_on_the_workspace_means_no_access(tracking, shared_run):
    tarnd_only("tokens and workspace roles")
    eid, rid = shared_run
    tok = tracking.world.token("outsider")
    r = tracking.http("GET", "/api/2.0/mlflow/runs/get", token=tok, params={"run_id": rid})
    assert r.status_code == 403 and _error(r) == "PERMISSION_DENIED", r.text
    with mlflow_error("PERMISSION_DENIED", 403):
        tracking.client(token=tok).create_run(eid)
