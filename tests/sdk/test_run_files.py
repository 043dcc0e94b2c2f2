"""The rest of azureml.core's Run against a real tarnd: tables and images (log_row, log_table,
log_image), the run's files (upload_file, upload_folder, get_file_names, download_file,
download_files), child runs, and models (run.register_model, tarn.core.Model), all on MLflow's
tracking, artifact and registry APIs. Each is tried from an interactive run (the native
client, signed in as a service principal) and from inside a submitted run (Run.get_context()
over plain HTTPS with the run's tokens); what one logs, the other reads, and a registered model
reads back byte for byte, also through the real mlflow client."""

import io
import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, unique
from test_submit import _log, _wait, _write, make_lab, serve_compute

VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PNG = b"\x89PNG\r\n\x1a\n"
# Bytes no text transfer keeps: every byte value, a NUL, CR LF and invalid UTF-8.
BINARY = bytes(range(256)) * 40 + b"\x00\r\n\xff\xfe"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with serve_compute(tmp_path_factory.mktemp("tarnd-run-files")) as srv:
        yield make_lab(srv)


@pytest.fixture
def exp(lab):
    from tarn.core import Experiment
    return Experiment(lab.ws, unique("exp-"))


class _Figure:
    """What log_image needs of a matplotlib figure (the suite's interpreter has no matplotlib):
    savefig(file, format="png")."""

    def __init__(self):
        self.formats = []

    def savefig(self, f, format=None):
        self.formats.append(format)
        f.write(PNG + b"a figure")


def _files(root):
    """{relative path: bytes} of every file below root."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ----- tables and images ------------------------------------------------------------------------

def test_rows_and_tables_read_back_as_azureml_gives_them(exp):
    from tarn.core import Run, UserErrorException
    run = exp.start_logging()
    run.log("alpha", 0.5)
    run.log_row("roc", fpr=0.0, tpr=0.0)
    run.log_row("roc", fpr=0.5, tpr=0.8)
    run.log_table("per_class", {"precision": [0.9, 0.7, float("nan")],
                                "recall": [0.8, 0.6, 1]})
    m = run.get_metrics()
    assert m["alpha"] == 0.5
    assert m["roc"] == {"fpr": [0.0, 0.5], "tpr": [0.0, 0.8]}
    assert m["per_class"]["recall"] == [0.8, 0.6, 1.0]
    assert m["per_class"]["precision"][:2] == [0.9, 0.7]
    assert math.isnan(m["per_class"]["precision"][2])
    assert set(m) == {"alpha", "roc", "per_class"}  # the columns are not metrics of their own
    # Another Run object of the same run appends rows after the last one; a new column is
    # None in the rows before it, and a row may leave a column out.
    again = Run(exp, run.id)
    again.log_row("roc", fpr=1.0, tpr=1.0, threshold=0.1)
    again.log_row("roc", fpr=1.0)
    again.log_table("per_class", {"precision": [0.5], "recall": [0.4]})
    assert run.get_metrics("roc") == {"roc": {"fpr": [0.0, 0.5, 1.0, 1.0],
                                              "tpr": [0.0, 0.8, 1.0, None],
                                              "threshold": [None, None, 0.1, None]}}
    assert run.get_metrics("per_class")["per_class"]["recall"] == [0.8, 0.6, 1.0, 0.4]
    # The scheme on MLflow's primitives: metrics <table>/<column> by row, a tag lists columns.
    assert run.get_tags()["tarn.table.roc"] == '["fpr", "tpr", "threshold"]'
    history = run._history("roc/tpr")
    assert [(p["step"], p["value"]) for p in history] == [(0, 0.0), (1, 0.8), (2, 1.0)]
    with pytest.raises(UserErrorException) as e:
        run.log_row("roc", fpr="high")
    assert e.value.code == "InvalidMetric" and "number" in str(e.value)
    with pytest.raises(UserErrorException) as e:
        run.log_table("bad", {"a": [1, 2], "b": [1]})
    assert e.value.code == "InvalidTable"
    run.complete()


def test_images_are_artifacts_named_by_get_metrics(exp, tmp_path):
    from tarn.core import UserErrorException
    run = exp.start_logging()
    figure = _Figure()
    run.log_image("confusion", plot=figure)
    assert figure.formats == ["png"]
    (tmp_path / "curve.jpg").write_bytes(b"\xff\xd8\xff a jpeg")
    run.log_image("curves/roc", path=str(tmp_path / "curve.jpg"))
    m = run.get_metrics()
    assert m == {"confusion": "images/confusion.png", "curves/roc": "images/curves/roc.jpg"}
    assert run.get_file_names() == ["images/confusion.png", "images/curves/roc.jpg"]
    out = run.download_file(m["confusion"], str(tmp_path / "got.png"))
    assert Path(out).read_bytes() == PNG + b"a figure"
    with pytest.raises(UserErrorException):
        run.log_image("neither")
    run.complete()


# ----- files --------------------------------------------------------------------------------------

def test_files_and_folders_go_up_and_come_back_byte_for_byte(lab, exp, tmp_path, monkeypatch):
    from tarn.core import UserErrorException
    run = exp.start_logging()
    src = tmp_path / "src"
    _write(src, {"data.bin": "", "folder/a.txt": "alpha\n", "folder/sub dir/b c.bin": "",
                 "folder/empty.txt": ""})
    (src / "data.bin").write_bytes(BINARY)
    (src / "folder" / "sub dir" / "b c.bin").write_bytes(BINARY[::-1])
    run.upload_file("outputs/data.bin", str(src / "data.bin"))
    run.upload_file("notes/stream.txt", io.BytesIO(b"from a stream"))
    with open(src / "data.bin", "rb") as f:
        run.upload_file("./notes/open file.bin", f)
    run.upload_folder("outputs/folder", str(src / "folder"))
    expected = {"notes/open file.bin": BINARY, "notes/stream.txt": b"from a stream",
                "outputs/data.bin": BINARY, "outputs/folder/a.txt": b"alpha\n",
                "outputs/folder/empty.txt": b"", "outputs/folder/sub dir/b c.bin": BINARY[::-1]}
    assert run.get_file_names() == sorted(expected)

    # One file: to a path, into a folder, and by default into the current folder.
    got = run.download_file("outputs/data.bin", str(tmp_path / "x" / "renamed.bin"))
    assert Path(got).read_bytes() == BINARY
    (tmp_path / "into").mkdir()
    got = run.download_file("outputs/folder/sub dir/b c.bin", str(tmp_path / "into"))
    assert Path(got) == tmp_path / "into" / "b c.bin" and Path(got).read_bytes() == BINARY[::-1]
    monkeypatch.chdir(tmp_path / "into")
    run.download_file("notes/stream.txt")
    assert (tmp_path / "into" / "stream.txt").read_bytes() == b"from a stream"

    # Every file, then those below a prefix, with and without the prefix in their paths.
    run.download_files(output_directory=str(tmp_path / "all"))
    assert _files(tmp_path / "all") == expected
    run.download_files(prefix="outputs/folder", output_directory=str(tmp_path / "some"))
    assert _files(tmp_path / "some") == {k: v for k, v in expected.items()
                                         if k.startswith("outputs/folder")}
    run.download_files(prefix="outputs/folder/", output_directory=str(tmp_path / "bare"),
                       append_prefix=False)
    assert _files(tmp_path / "bare") == {"a.txt": b"alpha\n", "empty.txt": b"",
                                         "sub dir/b c.bin": BINARY[::-1]}

    with pytest.raises(UserErrorException) as e:
        run.download_file("outputs/missing.bin", str(tmp_path / "missing.bin"))
    assert e.value.code == "RESOURCE_DOES_NOT_EXIST"
    assert not (tmp_path / "missing.bin").exists()
    with pytest.raises(UserErrorException):
        run.upload_file("outputs/nothing", str(tmp_path / "no-such-file"))
    # The account key's client (Shared Key signs the bytes' length and type) reads and writes
    # the same files.
    from tarn.core import Experiment, Run
    as_admin = Run(Experiment(lab.admin, exp.name, _create=False), run.id)
    as_admin.upload_file("by_key.bin", io.BytesIO(BINARY))
    assert run.download_file("by_key.bin", str(tmp_path / "by_key.bin")) and \
        (tmp_path / "by_key.bin").read_bytes() == BINARY
    assert as_admin.get_file_names() == sorted(list(expected) + ["by_key.bin"])
    run.complete()
    # Another run of the experiment has files of its own.
    assert exp.start_logging().get_file_names() == []


# ----- child runs ---------------------------------------------------------------------------------

def test_child_runs_are_mlflow_nested_runs(exp):
    parent = exp.start_logging(run_name="sweep")
    first = parent.child_run("trial-1")
    second = parent.child_run()
    nested = first.child_run("trial-1a")
    first.log("loss", 0.3)
    for r in (nested, first, second):
        r.complete()
    assert first.name == "trial-1"
    assert first.get_tags()["mlflow.parentRunId"] == parent.id
    assert first.parent.id == parent.id and nested.parent.id == first.id
    assert parent.parent is None
    assert sorted(r.id for r in parent.get_children()) == sorted([first.id, second.id])
    assert sorted(r.id for r in parent.get_children(recursive=True)) == \
        sorted([first.id, second.id, nested.id])
    assert [r.id for r in second.get_children()] == []
    assert first.get_status() == "Completed" and parent.get_status() == "Running"
    # get_runs gives the top-level runs unless asked for the children too.
    assert [r.id for r in exp.get_runs()] == [parent.id]
    assert sorted(r.id for r in exp.get_runs(include_children=True)) == \
        sorted([parent.id, first.id, second.id, nested.id])
    parent.complete()


# ----- models -------------------------------------------------------------------------------------

def test_registered_models_load_back_byte_for_byte(lab, exp, tmp_path, monkeypatch):
    from tarn.core import Model, UserErrorException
    ws = lab.ws
    name = unique("model-")
    model_dir = _write(tmp_path / "model", {"MLmodel": "artifact_path: model\nflavors: {}\n",
                                            "weights/w.bin": ""})
    (model_dir / "weights" / "w.bin").write_bytes(BINARY)
    run = exp.start_logging()
    run.upload_folder("outputs/model", str(model_dir))
    with pytest.raises(UserErrorException) as e:
        run.register_model(name, "outputs/nope")
    assert e.value.code == "ModelPathNotFound"
    v1 = run.register_model(name, "outputs/model", tags={"stage": "test"},
                            description="from a run")
    run.complete()
    assert (v1.name, v1.version, v1.id) == (name, 1, f"{name}:1")
    assert v1.tags == {"stage": "test"} and v1.description == "from a run"
    assert v1.run_id == run.id
    exp_id = run._doc["info"]["experiment_id"]
    assert v1.url.startswith("mlflow-artifacts:/") and \
        v1.url.endswith(f"{exp_id}/{run.id}/artifacts/outputs/model")

    (tmp_path / "model.pkl").write_bytes(BINARY[7:])
    v2 = Model.register(ws, str(tmp_path / "model.pkl"), name, tags={"kind": "pickle"})
    assert v2.version == 2 and v2.run_id is None and v2.url.endswith("/model.pkl")
    assert Model(ws, name).version == 2
    assert Model(ws, id=f"{name}:1").run_id == run.id
    assert [m.version for m in Model.list(ws, name=name)] == [2, 1]
    assert name in [m.name for m in Model.list(ws, latest=True)]

    # azureml's get_model_path: downloaded into ./azureml-models/<name>/<version>/.
    monkeypatch.chdir(tmp_path)
    path = Model.get_model_path(name, version=1, _workspace=ws)
    assert Path(path) == tmp_path / "azureml-models" / name / "1" / "model"
    assert _files(path) == _files(model_dir)
    path = Model.get_model_path(name, _workspace=ws)
    assert Path(path) == tmp_path / "azureml-models" / name / "2" / "model.pkl"
    assert Path(path).read_bytes() == BINARY[7:]
    # Without a workspace (and outside any run): the copy already there.
    assert Model.get_model_path(name) == path
    assert Model.get_model_path(name, version=1) == str(tmp_path / "azureml-models" / name /
                                                        "1" / "model")
    with pytest.raises(UserErrorException) as e:
        Model.get_model_path(unique("never-"))
    assert e.value.code == "ModelNotFound"
    target = v1.download(str(tmp_path / "dl"))
    assert _files(target) == _files(model_dir)
    with pytest.raises(UserErrorException):
        v1.download(str(tmp_path / "dl"))
    with pytest.raises(UserErrorException) as e:
        Model(ws, unique("never-"))
    assert e.value.code == "ModelNotFound"

    # The real mlflow client loads the version a run registered, the same bytes.
    got = _mlflow_download(lab, name, "1", tmp_path / "by-mlflow")
    assert got["source"] == v1.url
    assert got["files"] == {"MLmodel": (model_dir / "MLmodel").read_bytes().hex(),
                            "w.bin": BINARY.hex()}


def test_listing_a_files_path_lists_nothing_as_mlflows_server_does(lab, tmp_path):
    """mlflow's client tells files from folders by listing them: MLflow's server lists a file's
    own path as empty (LocalArtifactRepository.list_artifacts), and so does tarnd."""
    import requests
    from tarn.core import Model
    (tmp_path / "model.pkl").write_bytes(BINARY)
    v1 = Model.register(lab.ws, str(tmp_path / "model.pkl"), unique("file-model-"))
    assert v1.url.startswith("mlflow-artifacts:/") and v1.url.endswith("/model.pkl")
    base = f"{lab.server.https_url}/workspaces/{lab.ws.name}/mlflow/api/2.0/mlflow-artifacts"
    headers = {"Authorization": "Bearer " + lab.tracking_token}
    path = v1.url[len("mlflow-artifacts:/"):]
    r = requests.get(f"{base}/artifacts", params={"path": path}, headers=headers,
                     verify=lab.server.ca_file, timeout=30)
    assert r.status_code == 200 and r.json().get("files", []) == [], r.text
    folder = requests.get(f"{base}/artifacts", params={"path": path.rsplit("/", 1)[0]},
                          headers=headers, verify=lab.server.ca_file, timeout=30).json()
    assert [f["path"] for f in folder["files"]] == ["model.pkl"]
    r = requests.get(f"{base}/artifacts/{path}", headers=headers, verify=lab.server.ca_file,
                     timeout=30)
    assert r.status_code == 200 and r.content == BINARY


MLFLOW_REGISTER = """
import json, sys
import mlflow
mlflow.set_experiment(sys.argv[2])
with mlflow.start_run() as run:
    mlflow.log_text("artifact_path: model\\nflavors: {}\\n", "model/MLmodel")
    mlflow.log_text("weights", "model/data/w.txt")
mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", sys.argv[1])
print(json.dumps({"run_id": run.info.run_id, "version": mv.version}))
"""


def test_a_version_mlflow_registered_reads_back_here(lab, tmp_path, monkeypatch):
    from tarn.core import Model
    name = unique("by-mlflow-")
    got = _mlflow_run(lab, MLFLOW_REGISTER, name, unique("exp-"))
    model = Model(lab.ws, name)
    assert str(model.version) == got["version"] and model.run_id == got["run_id"]
    monkeypatch.chdir(tmp_path)
    path = Model.get_model_path(name, _workspace=lab.ws)
    assert Path(path).name == "model"
    assert _files(path) == {"MLmodel": b"artifact_path: model\nflavors: {}\n",
                            "data/w.txt": b"weights"}


MLFLOW_DOWNLOAD = """
import json, pathlib, sys
import mlflow
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
local = pathlib.Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}",
                                                         dst_path=out))
files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
# What mlflow adds to a downloaded registered model: not one of its files.
files = [p for p in files if p.name != "registered_model_meta"]
print(json.dumps({"source": mlflow.MlflowClient().get_model_version(name, version).source,
                  "files": {p.name: p.read_bytes().hex() for p in files}}))
"""


def _mlflow_download(lab, name, version, out):
    """models:/<name>/<version> downloaded by the real mlflow client (the project's .venv):
    {"source": the version's source, "files": {file name: hex of its bytes}}."""
    return _mlflow_run(lab, MLFLOW_DOWNLOAD, name, version, str(out))


def _mlflow_run(lab, code, *args):
    """Runs code with the real mlflow client (the project's .venv) pointed at the workspace,
    as the lab's service principal; the JSON its last line prints."""
    if not VENV_PYTHON.exists():
        pytest.skip("no .venv with mlflow: scripts/bootstrap.sh makes it")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update({"MLFLOW_TRACKING_URI": f"{lab.server.https_url}/workspaces/{lab.ws.name}/mlflow",
                "MLFLOW_TRACKING_TOKEN": lab.tracking_token,
                "MLFLOW_TRACKING_SERVER_CERT_PATH": lab.server.ca_file,
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    r = subprocess.run([str(VENV_PYTHON), "-c", code, *args], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


# ----- inside a submitted run ---------------------------------------------------------------------

IN_A_RUN = """
    import io, json, os, sys
    from tarn.core import Model, Run
    name = sys.argv[1]
    run = Run.get_context()
    run.log_row("roc", fpr=0.0, tpr=0.0)
    run.log_row("roc", fpr=0.5, tpr=0.9)
    run.log_table("scores", {"k": [1, 2, 3], "score": [0.5, 0.25, 0.125]})
    os.makedirs("model", exist_ok=True)
    with open("model/weights.bin", "wb") as f:
        f.write(bytes(range(256)) * 4)
    with open("model/config.json", "w") as f:
        f.write('{"layers": 2}')
    run.upload_folder("trained/model", "model")
    run.upload_file("notes/stream.txt", io.BytesIO(b"written inside"))
    run.download_file("notes/stream.txt", "copy.txt")
    child = run.child_run("inner")
    child.log("loss", 0.25)
    child.upload_file("child.txt", io.BytesIO(b"the child's"))
    child.complete()
    model = run.register_model(name, "trained/model")
    print("RESULT " + json.dumps({
        "files": run.get_file_names(), "copy": open("copy.txt").read(),
        "metrics": run.get_metrics(), "children": [c.id for c in run.get_children()],
        "child_parent": child.parent.id, "model": [model.name, model.version],
        "model_path": Model.get_model_path(name),
        "native": "tarn._native" in sys.modules}))
"""


def test_inside_a_submitted_run_over_the_runs_tokens(lab, tmp_path, monkeypatch):
    from tarn.core import Experiment, Model, Run, ScriptRunConfig
    name = unique("in-run-")
    src = _write(tmp_path / "src", {"train.py": IN_A_RUN})
    exp = Experiment(lab.ws, unique("exp-"))
    run = exp.submit(ScriptRunConfig(str(src), "train.py", arguments=[name]))
    details = _wait(run, timeout_s=180, raise_on_error=False)
    log = _log(lab.ws, run.id)
    assert details["status"] == "Completed", log
    inside = json.loads(log.split("RESULT ", 1)[1].splitlines()[0])
    assert inside["native"] is False  # all of it over the run's tokens
    assert inside["copy"] == "written inside"
    assert {"notes/stream.txt", "trained/model/config.json",
            "trained/model/weights.bin"} <= set(inside["files"])
    assert inside["metrics"] == {"roc": {"fpr": [0.0, 0.5], "tpr": [0.0, 0.9]},
                                 "scores": {"k": [1.0, 2.0, 3.0],
                                            "score": [0.5, 0.25, 0.125]}}
    assert inside["model"] == [name, 1]
    assert Path(inside["model_path"]).name == "model"
    assert len(inside["children"]) == 1 and inside["child_parent"] == run.id

    # What the run logged, read from outside.
    again = Run(exp, run.id)
    assert again.get_metrics() == inside["metrics"]
    assert {"notes/stream.txt", "trained/model/weights.bin"} <= set(again.get_file_names())
    [child] = list(again.get_children())
    assert child.id == inside["children"][0] and child.get_metrics() == {"loss": 0.25}
    assert child.get_file_names() == ["child.txt"]
    model = Model(lab.ws, name)
    assert model.run_id == run.id
    monkeypatch.chdir(tmp_path)
    path = Model.get_model_path(name, _workspace=lab.ws)
    assert _files(path) == {"config.json": b'{"layers": 2}',
                            "weights.bin": bytes(range(256)) * 4}

