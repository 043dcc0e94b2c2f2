"""Experiments through MlflowClient: create, get, get by name, search, rename, tags, delete and
restore, and MLflow's error codes for a missing or duplicate one."""

from mlflow.entities import ViewType

from conftest import mlflow_error, unique


def test_create_get_and_get_by_name(client):
    name = unique("exp-")
    eid = client.create_experiment(name, tags={"owner": "ada", "stage": "dev"})
    assert isinstance(eid, str) and eid
    exp = client.get_experiment(eid)
    assert exp.experiment_id == eid and exp.name == name
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == f"mlflow-artifacts:/{eid}"
    assert exp.tags["owner"] == "ada" and exp.tags["stage"] == "dev"
    assert exp.creation_time > 0 and exp.last_update_time >= exp.creation_time
    by_name = client.get_experiment_by_name(name)
    assert by_name.experiment_id == eid
    assert client.get_experiment_by_name(unique("nope-")) is None


def test_missing_and_duplicate(client):
    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_experiment("987654321")
    name = unique("dup-")
    client.create_experiment(name)
    with mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)
    with mlflow_error("INVALID_PARAMETER_VALUE", 400):
        client.create_experiment("")


def test_search_with_a_name_filter(client):
    prefix = unique("srch")
    ids = {client.create_experiment(f"{prefix}-{i}") for i in range(3)}
    other = client.create_experiment(unique("other-"))
    found = client.search_experiments(filter_string=f"name LIKE '{prefix}%'")
    assert {e.experiment_id for e in found} == ids
    assert other not in {e.experiment_id for e in found}
    ordered = client.search_experiments(filter_string=f"name LIKE '{prefix}%'",
                                        order_by=["name DESC"])
    assert [e.name for e in ordered] == [f"{prefix}-{i}" for i in (2, 1, 0)]
    # Paged: one at a time, every one exactly once.
    seen, token = [], None
    for _ in range(10):
        page = client.search_experiments(filter_string=f"name LIKE '{prefix}%'",
                                         max_results=1, page_token=token)
        seen += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(ids)


def test_rename_and_tags(client):
    name = unique("old-")
    eid = client.create_experiment(name)
    new = unique("new-")
    client.rename_experiment(eid, new)
    assert client.get_experiment(eid).name == new
    assert client.get_experiment_by_name(name) is None
    assert client.get_experiment_by_name(new).experiment_id == eid
    client.set_experiment_tag(eid, "purpose", "churn model")
    client.set_experiment_tag(eid, "purpose", "churn model v2")  # overwrite
    client.set_experiment_tag(eid, "note", "")
    tags = client.get_experiment(eid).tags
    assert tags["purpose"] == "churn model v2" and tags["note"] == ""
    found = client.search_experiments(filter_string="tags.purpose = 'churn model v2'")
    assert eid in [e.experiment_id for e in found]
    with mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.set_experiment_tag("987654321", "k", "v")


def test_delete_and_restore(tracking, client):
    name = unique("del-")
    eid = client.create_experiment(name)
    client.delete_experiment(eid)
    exp = client.get_experiment(eid)
    assert exp.lifecycle_stage == "deleted"
    flt = f"name = '{name}'"
    assert client.search_experiments(filter_string=flt) == []
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=flt)
    assert [e.experiment_id for e in deleted] == [eid]
    both = client.search_experiments(view_type=ViewType.ALL, filter_string=flt)
    assert [e.experiment_id for e in both] == [eid]
    # A deleted experiment takes no new runs nor a new name, and its name is still taken.
    with mlflow_error("INVALID_PARAMETER_VALUE"):
        client.create_run(eid)
    # Renaming it is INVALID_STATE, which MLflow maps to HTTP 500: its client retries that for
    # minutes, so this one is sent once, raw.
    r = tracking.http("POST", "/api/2.0/mlflow/experiments/update",
                      json={"experiment_id": eid, "new_name": unique("renamed-")})
    assert r.json()["error_code"] == "INVALID_STATE", r.text
    assert client.get_experiment(eid).name == name
    with mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)
    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"
    assert [e.experiment_id for e in client.search_experiments(filter_string=flt)] == [eid]
    assert client.create_run(eid).info.experiment_id == eid
