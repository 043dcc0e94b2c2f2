"""Run artifacts through the mlflow-artifacts API: a nested folder logged, listed at the root
and in a subfolder, downloaded byte for byte, one file deleted with a raw HTTP DELETE, and (on
tarnd) the same bytes in the lake under the workspace's default datastore."""

import hashlib
import os
from pathlib import Path

import pytest

from conftest import LAKE_ARTIFACT_PREFIX, tarnd_only

FILES = {
    "README.md": b"# outputs\n",
    "data/train.csv": b"x,y\n1,2\n3,4\n",
    "data/blob.bin": bytes(range(256)) * 4096 + b"tail",  # 1 MiB and a bit, every byte value
    "data/empty.txt": b"",
    "plots/2024/loss curve.txt": "épocas ✓\n".encode(),
}


@pytest.fixture
def logged(client, experiment, tmp_path):
    eid, _ = experiment
    src = tmp_path / "outputs"
    for rel, data in FILES.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    rid = client.create_run(eid).info.run_id
    client.log_artifacts(rid, str(src), artifact_path="outputs")
    client.log_artifact(rid, str(src / "README.md"))  # at the root too
    return eid, rid


def _listing(client, rid, path=None):
    # An empty file's size comes back as None: proto3 JSON leaves out a 0.
    return {(a.path, a.is_dir, None if a.is_dir else (a.file_size or 0))
            for a in client.list_artifacts(rid, path)}


def test_list_at_the_root_and_in_subfolders(client, logged):
    _, rid = logged
    assert _listing(client, rid) == {("README.md", False, len(FILES["README.md"])),
                                     ("outputs", True, None)}
    assert _listing(client, rid, "outputs") == {
        ("outputs/README.md", False, len(FILES["README.md"])),
        ("outputs/data", True, None), ("outputs/plots", True, None)}
    assert _listing(client, rid, "outputs/data") == {
        (f"outputs/{k}", False, len(v)) for k, v in FILES.items() if k.startswith("data/")}
    assert _listing(client, rid, "outputs/plots/2024") == {
        ("outputs/plots/2024/loss curve.txt", False, len(FILES["plots/2024/loss curve.txt"]))}
    assert client.list_artifacts(rid, "no/such/folder") == []


def test_download_gives_the_same_bytes(client, logged, tmp_path):
    import mlflow
    _, rid = logged
    dst = Path(client.download_artifacts(rid, "outputs", str(tmp_path / "dl")))
    got = {str(p.relative_to(dst)): p.read_bytes() for p in dst.rglob("*") if p.is_file()}
    assert got == FILES
    one = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="outputs/data/blob.bin",
                                              dst_path=str(tmp_path / "one"))
    assert hashlib.sha256(Path(one).read_bytes()).digest() == \
        hashlib.sha256(FILES["data/blob.bin"]).digest()
    whole = Path(mlflow.artifacts.download_artifacts(run_id=rid, dst_path=str(tmp_path / "all")))
    assert sorted(os.listdir(whole)) == ["README.md", "outputs"]


def test_raw_delete_removes_one_file(tracking, client, logged, tmp_path):
    eid, rid = logged
    path = f"{eid}/{rid}/artifacts/outputs/data/train.csv"
    r = tracking.http("GET", f"/api/2.0/mlflow-artifacts/artifacts/{path}")
    assert r.status_code == 200 and r.content == FILES["data/train.csv"]
    r = tracking.http("DELETE", f"/api/2.0/mlflow-artifacts/artifacts/{path}")
    assert r.status_code == 200, r.text
    assert _listing(client, rid, "outputs/data") == {
        (f"outputs/{k}", False, len(v)) for k, v in FILES.items()
        if k.startswith("data/") and k != "data/train.csv"}
    r = tracking.http("GET", f"/api/2.0/mlflow-artifacts/artifacts/{path}")
    assert r.status_code == 404, r.text
    # The rest is untouched.
    dst = Path(client.download_artifacts(rid, "outputs/data", str(tmp_path)))
    assert (dst / "blob.bin").read_bytes() == FILES["data/blob.bin"]


def test_raw_listing_api(tracking, logged):
    eid, rid = logged
    r = tracking.http("GET", "/api/2.0/mlflow-artifacts/artifacts",
                      params={"path": f"{eid}/{rid}/artifacts/outputs/data"})
    assert r.status_code == 200, r.text
    files = {f["path"]: f for f in r.json()["files"]}
    assert set(files) == {"blob.bin", "empty.txt", "train.csv"}
    assert files["blob.bin"]["is_dir"] is False
    assert int(files["blob.bin"]["file_size"]) == len(FILES["data/blob.bin"])
    assert int(files["empty.txt"].get("file_size", 0)) == 0


def test_artifact_bytes_are_in_the_lake(tracking, logged):
    tarnd_only("artifact bytes in the lake under the default datastore")
    eid, rid = logged
    prefix = f"{eid}/{rid}/artifacts"
    names = tracking.lake_artifacts(prefix)
    base = LAKE_ARTIFACT_PREFIX + prefix + "/"
    assert sorted(n[len(base):] for n in names if n.startswith(base)) == \
        sorted(["README.md"] + [f"outputs/{k}" for k in FILES]), names
    for rel, data in FILES.items():
        assert tracking.world.lake_read(f"{base}outputs/{rel}") == data, rel


def test_artifact_paths_cannot_climb_out(tracking, logged):
    """'..' is refused wherever it hides: a path segment, an encoded slash inside a segment, or
    the listing's ?path=; nothing lands outside the run's folder."""
    tarnd_only("tarnd's own path checks (MLflow's server refuses differently)")
    eid, rid = logged
    base = f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts"
    for method, path, kw in (
            ("PUT", f"{base}/a%2F..%2F..%2F..%2Fescape.txt", {"data": b"x"}),
            ("PUT", f"{base}/%2E%2E/%2E%2E/escape.txt", {"data": b"x"}),
            ("GET", f"{base}/outputs%2F..%2F..%2F..%2Foutputs%2FREADME.md", {}),
            ("GET", "/api/2.0/mlflow-artifacts/artifacts", {"params": {"path": f"{eid}/../.."}}),
            ("DELETE", f"{base}/x%2F..%2F..%2F..", {})):
        r = tracking.http(method, path, **kw)
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text
    everything = tracking.world.lake_paths("")
    assert everything and not [p for p in everything if p.endswith("escape.txt")], everything
