"""The model registry through MlflowClient: registered models (create, get, search, rename,
describe, tag, delete) and their versions (create, tags, aliases, latest, search, delete)."""

import pytest

from conftest import mlflow_error, unique


@pytest.fixture
def source(client, experiment):
    """A run with a model-shaped folder of artifacts to register versions from."""
    eid, _ = experiment
    rid = client.create_run(eid).info.run_id
    client.log_text(rid, "artifact_path: model\nflavors: {}\n", "model/MLmodel")
    return rid


def test_registered_model_lifecycle(client):
    name = unique("rm-")
    rm = client.create_registered_model(name, tags={"domain": "churn"}, description="first")
    assert rm.name == name and rm.description == "first" and rm.tags == {"domain": "churn"}
    assert rm.creation_timestamp > 0
    with mlflow_error("RESOURCE_ALREADY_EXISTS"):
        client.create_registered_model(name)
    got = client.get_registered_model(name)
    assert got.name == name and got.tags["domain"] == "churn"
    client.update_registered_model(name, description="second")
    assert client.get_registered_model(name).description == "second"
    client.set_registered_model_tag(name, "owner", "ada")
    client.delete_registered_model_tag(name, "domain")
    assert client.get_registered_model(name).tags == {"owner": "ada"}
    new = unique("rm-renamed-")
    client.rename_registered_model(name, new)  # MlflowClient returns None, despite its doc
    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_registered_model(name)
    assert client.get_registered_model(new).description == "second"
    client.delete_registered_model(new)
    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_registered_model(new)


def test_search_registered_models(client):
    prefix = unique("srm")
    names = [f"{prefix}-{i}" for i in range(3)]
    for n in names:
        client.create_registered_model(n)
    client.create_registered_model(unique("other-"))
    found = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    assert sorted(m.name for m in found) == names
    found = client.search_registered_models(filter_string=f"name = '{names[1]}'")
    assert [m.name for m in found] == [names[1]]
    ordered = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                              order_by=["name DESC"])
    assert [m.name for m in ordered] == names[::-1]
    page1 = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                            max_results=2, order_by=["name ASC"])
    assert [m.name for m in page1] == names[:2] and page1.token
    page2 = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'",
                                            max_results=2, order_by=["name ASC"],
                                            page_token=page1.token)
    assert [m.name for m in page2] == names[2:]


def test_versions_tags_aliases_and_latest(client, source):
    name = unique("mv-")
    client.create_registered_model(name)
    uri = f"runs:/{source}/model"
    v1 = client.create_model_version(name, uri, run_id=source, description="v one",
                                     tags={"quality": "ok"})
    v2 = client.create_model_version(name, uri, run_id=source)
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.run_id == source and v1.status == "READY" and v1.description == "v one"
    assert client.get_model_version(name, "1").tags == {"quality": "ok"}
    client.set_model_version_tag(name, "2", "validated", "yes")
    client.delete_model_version_tag(name, "1", "quality")
    assert client.get_model_version(name, "1").tags == {}
    assert client.get_model_version(name, "2").tags == {"validated": "yes"}
    client.update_model_version(name, "2", description="second")
    assert client.get_model_version(name, "2").description == "second"

    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_registered_model(name).aliases == {"champion": "1", "challenger": "2"}
    assert client.get_model_version(name, "2").aliases == ["challenger"]
    client.set_registered_model_alias(name, "champion", "2")  # moves
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert sorted(client.get_model_version(name, "2").aliases) == ["challenger", "champion"]
    client.delete_registered_model_alias(name, "challenger")
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    with mlflow_error("INVALID_PARAMETER_VALUE"):
        client.get_model_version_by_alias(name, "challenger")

    latest = client.get_latest_versions(name)
    assert [v.version for v in latest] == ["2"]
    uri_out = client.get_model_version_download_uri(name, "1")
    assert uri_out.endswith("/model") and source in uri_out

    found = client.search_model_versions(f"name='{name}'")
    assert sorted(v.version for v in found) == ["1", "2"]
    found = client.search_model_versions(f"name='{name}' and run_id='{source}'")
    assert sorted(v.version for v in found) == ["1", "2"]
    assert client.search_model_versions(f"name='{name}' and tags.validated = 'yes'")[0] \
        .version == "2"

    client.delete_model_version(name, "1")
    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_model_version(name, "1")
    assert [v.version for v in client.search_model_versions(f"name='{name}'")] == ["2"]
    v3 = client.create_model_version(name, uri, run_id=source)
    assert v3.version == "3"  # numbers are never reused
    client.delete_registered_model(name)
    assert client.search_model_versions(f"name='{name}'") == []


def test_registry_errors(client):
    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_model_version(unique("none-"), "1")
    name = unique("err-")
    client.create_registered_model(name)
    with mlflow_error("RESOURCE_DOES_NOT_EXIST", 404):
        client.get_model_version(name, "7")
    with mlflow_error("INVALID_PARAMETER_VALUE"):
        client.create_registered_model("")
    with mlflow_error("RESOURCE_DOES_NOT_EXIST"):
        client.set_registered_model_alias(name, "prod", "9")
