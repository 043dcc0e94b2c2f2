"""Container soft delete (issue 16): with --container-delete-retention-days, a deleted container
(or DFS filesystem) is kept whole, listed with include_deleted and restored by its version
through Microsoft's Blob and DataLake SDKs; without it a delete is for good. Debian's older SDK
and the current one (.venv) both run this file."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tarn_harness import unique_name


@pytest.fixture
def kept(tarn_factory):
    return tarn_factory(extra_args=["--container-delete-retention-days", "7"])


def deleted_of(svc, name):
    return [c for c in svc.list_containers(name_starts_with=name, include_deleted=True)
            if c.name == name and c.deleted]


def test_a_deleted_container_is_listed_and_restored_whole(kept):
    svc = kept.blob_service()
    name = unique_name("models")
    c = svc.create_container(name, metadata={"team": "ml"})
    for i in range(20):
        c.upload_blob(f"v1/part-{i:02}.bin", bytes([i]) * 1000)
    svc.delete_container(name)
    assert name not in [x.name for x in svc.list_containers()]
    with pytest.raises(HttpResponseError) as e:
        c.get_container_properties()
    assert e.value.status_code == 404
    (gone,) = deleted_of(svc, name)
    assert gone.version and gone.deleted
    back = svc.undelete_container(name, gone.version)
    assert back.get_container_properties().metadata == {"team": "ml"}
    assert sorted(b.name for b in back.list_blobs()) == \
        ["v1"] + [f"v1/part-{i:02}.bin" for i in range(20)]
    assert back.download_blob("v1/part-07.bin").readall() == bytes([7]) * 1000
    assert deleted_of(svc, name) == []


def test_versions_and_a_name_taken_again(kept):
    svc = kept.blob_service()
    name = unique_name("daily")
    svc.create_container(name).upload_blob("a.txt", b"first")
    svc.delete_container(name)
    svc.create_container(name).upload_blob("a.txt", b"second")
    # The name is taken again: its deleted version cannot come back over it.
    (first,) = deleted_of(svc, name)
    with pytest.raises(ResourceExistsError):
        svc.undelete_container(name, first.version)
    svc.delete_container(name)
    versions = [c.version for c in deleted_of(svc, name)]
    assert len(versions) == 2 and first.version in versions
    back = svc.undelete_container(name, first.version)
    assert back.download_blob("a.txt").readall() == b"first"
    with pytest.raises(HttpResponseError) as e:
        svc.undelete_container(name, "12345")
    assert e.value.status_code in (404, 409)


def test_datalake_filesystems_too(kept):
    dl = kept.datalake_service()
    name = unique_name("curated")
    fs = dl.create_file_system(name)
    fs.get_file_client("sales/2024.csv").upload_data(b"id\n1\n", overwrite=True)
    dl.delete_file_system(name)
    gone = [f for f in dl.list_file_systems(include_deleted=True)
            if f.name == name and f.deleted]
    assert len(gone) == 1
    back = dl.undelete_file_system(name, gone[0].deleted_version)
    assert back.get_file_client("sales/2024.csv").download_file().readall() == b"id\n1\n"


def test_without_retention_a_delete_is_for_good(tarn):
    svc = tarn.blob_service()
    name = unique_name("temp")
    svc.create_container(name).upload_blob("x", b"x")
    svc.delete_container(name)
    assert deleted_of(svc, name) == []
