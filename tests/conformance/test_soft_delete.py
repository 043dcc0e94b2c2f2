"""Soft delete (issue 16): with a delete retention policy set through Set Blob Service
Properties, Microsoft's SDKs delete paths that can be listed (List Deleted Paths) and restored
(Path Undelete with a deletion id, or Undelete Blob) until their retention ends. A directory
comes back whole: its deletion and its restore are each one metadata change, as a rename is."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import RetentionPolicy

from sharedkey import ACCOUNT, RawClient
from tarn_harness import unique_name


@pytest.fixture
def retention(tarn):
    """Soft delete on for the test (7 days), off again after it."""
    blob = tarn.blob_service()
    blob.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True, days=7))
    yield blob
    tarn.blob_service().set_service_properties(
        delete_retention_policy=RetentionPolicy(enabled=False))


@pytest.fixture
def fs(tarn, container):
    """The test's container, as the DataLake SDK's filesystem."""
    return tarn.datalake_service().get_file_system_client(container.container_name)


def test_a_deleted_directory_lists_and_comes_back_whole(tarn, retention, fs):
    assert retention.get_service_properties()["delete_retention_policy"].days == 7
    fs.create_directory("raw/2026")
    for i in range(20):
        fs.get_file_client(f"raw/2026/part-{i:02}.csv").upload_data(f"id\n{i}\n".encode(),
                                                                     overwrite=True)
    fs.get_directory_client("raw").delete_directory()
    assert [p.name for p in fs.get_paths()] == []
    deleted = list(fs.list_deleted_paths())
    assert [d.name for d in deleted] == ["raw"]
    assert deleted[0].deletion_id and deleted[0].remaining_retention_days == 7
    assert deleted[0].deleted_time is not None
    restored = fs._undelete_path("raw", deleted[0].deletion_id)
    assert restored.path_name == "raw"
    assert len([p for p in fs.get_paths(recursive=True) if not p.is_directory]) == 20
    assert fs.get_file_client("raw/2026/part-07.csv").download_file().readall() == b"id\n7\n"
    assert list(fs.list_deleted_paths()) == []


def test_each_deletion_of_a_path_has_its_own_id(tarn, retention, fs):
    f = fs.get_file_client("model.pkl")
    f.upload_data(b"v1", overwrite=True)
    f.delete_file()
    f.upload_data(b"v2", overwrite=True)
    f.delete_file()
    deleted = list(fs.list_deleted_paths(path_prefix="model"))
    assert [d.name for d in deleted] == ["model.pkl", "model.pkl"]
    first, second = deleted[0].deletion_id, deleted[1].deletion_id
    assert first != second
    fs._undelete_path("model.pkl", first)
    assert f.download_file().readall() == b"v1"
    # The other deletion cannot come back over it.
    with pytest.raises(ResourceExistsError):
        fs._undelete_path("model.pkl", second)
    f.delete_file()
    fs._undelete_path("model.pkl", second)
    assert f.download_file().readall() == b"v2"
    with pytest.raises(ResourceNotFoundError):
        fs._undelete_path("model.pkl", "999999999")


def test_blob_api_delete_and_undelete(tarn, retention, fs):
    container = tarn.blob_service().get_container_client(fs.file_system_name)
    b = container.upload_blob("logs/a.txt", b"hello")
    b.delete_blob()
    with pytest.raises(ResourceNotFoundError):
        b.download_blob()
    b.undelete_blob()
    assert b.download_blob().readall() == b"hello"


def test_a_file_whose_parent_is_gone_waits_for_it(tarn, retention, fs):
    fs.create_directory("a/b")
    fs.get_file_client("a/b/c.txt").upload_data(b"c", overwrite=True)
    fs.get_file_client("a/b/c.txt").delete_file()
    fs.get_directory_client("a").delete_directory()  # soft-deleted too
    (c_deleted,) = [d for d in fs.list_deleted_paths() if d.name == "a/b/c.txt"]
    with pytest.raises(ResourceNotFoundError) as e:
        fs._undelete_path("a/b/c.txt", c_deleted.deletion_id)
    assert "parent directory" in str(e.value)
    (a_deleted,) = [d for d in fs.list_deleted_paths() if d.name == "a"]
    fs._undelete_path("a", a_deleted.deletion_id)
    fs._undelete_path("a/b/c.txt", c_deleted.deletion_id)
    assert fs.get_file_client("a/b/c.txt").download_file().readall() == b"c"


def test_without_a_policy_deletes_are_permanent(tarn, fs):
    fs.get_file_client("gone.txt").upload_data(b"x", overwrite=True)
    r = RawClient(tarn).request("DELETE", f"/{ACCOUNT}/{fs.file_system_name}/gone.txt")
    assert r.status == 202 and r.header("x-ms-delete-type-permanent") == "true"
    assert list(fs.list_deleted_paths()) == []
    with pytest.raises(HttpResponseError):
        tarn.blob_service().get_container_client(fs.file_system_name) \
            .get_blob_client("gone.txt").undelete_blob()


def test_deleting_the_filesystem_takes_its_deleted_paths(tarn, retention):
    name = unique_name("sdfs")
    fs = tarn.datalake_service().create_file_system(name)
    fs.get_file_client("x.txt").upload_data(b"x", overwrite=True)
    fs.get_file_client("x.txt").delete_file()
    assert len(list(fs.list_deleted_paths())) == 1
    tarn.datalake_service().delete_file_system(name)
    fs = tarn.datalake_service().create_file_system(name)
    try:
        assert list(fs.list_deleted_paths()) == []
    finally:
        tarn.datalake_service().delete_file_system(name)
