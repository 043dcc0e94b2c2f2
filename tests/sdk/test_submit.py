"""Runs submitted to a compute target (issue 14): tarn.core's ScriptRunConfig and Environment,
Experiment.submit and Run.wait_for_completion against a real tarnd whose "local" target runs
scripts as an unprivileged user, in a snapshot of their source directory, with short-lived
tokens of their submitter. The SDK signs in as a service principal with the AzureML Data
Scientist role, as a person or a service would.

The first tests need no tarnd: the snapshot collector, environments, and Run.get_context()
inside a run, which must work without the native extension (a fake tracking server stands in).
"""

import base64
import contextlib
import http.server
import io
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from conftest import PYTHON_DIR, Lake, unique
from tarn_harness import TarnServer

RUN_USER = "tarnrun"
RUN_UIDS = "200000-200999"
TRACKING_SCOPE = "https://ml.azure.com/.default"
BUILDING = "[tarn] building environment"


def _write(root, files):
    for rel, text in files.items():
        p = Path(root) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text) if isinstance(text, str) else text)
    return root


# ----- without tarnd: the snapshot, environments ------------------------------------------------

def test_the_snapshot_leaves_out_tooling_folders_and_what_amlignore_lists(tmp_path):
    from tarn.core.compute import collect_snapshot
    _write(tmp_path, {
        "train.py": "", "lib/util.py": "", "keep.ckpt": "", "top_only.txt": "",
        "sub/top_only.txt": "", "models/m.ckpt": "", "data/big.csv": "", "sub/data/x.csv": "",
        ".git/HEAD": "", "__pycache__/a.pyc": "", "lib/__pycache__/u.pyc": "",
        ".ipynb_checkpoints/n.ipynb": "", ".gitignore": "lib/\n",
        ".amlignore": "# what runs do not need\ndata/\n*.ckpt\n!keep.ckpt\n/top_only.txt\n"})
    got = [rel for rel, _ in collect_snapshot(str(tmp_path))]
    assert got == [".amlignore", ".gitignore", "keep.ckpt", "lib/util.py", "sub/top_only.txt",
                   "train.py"]
    (tmp_path / ".amlignore").unlink()  # .gitignore is read only without .amlignore
    got = [rel for rel, _ in collect_snapshot(str(tmp_path))]
    assert "lib/util.py" not in got and "data/big.csv" in got and "keep.ckpt" in got


def test_the_snapshot_refuses_more_than_a_run_takes_and_says_how_to_fix_it(tmp_path):
    from tarn.core import UserErrorException
    from tarn.core.compute import collect_snapshot
    _write(tmp_path, {"train.py": "x" * 10, "data/a.bin": "y" * 3000, "b.txt": "z"})
    with pytest.raises(UserErrorException) as e:
        collect_snapshot(str(tmp_path), max_files=2)
    assert e.value.code == "SnapshotTooLarge"
    assert "more than 2 files" in str(e.value) and ".amlignore" in str(e.value)
    with pytest.raises(UserErrorException) as e:
        collect_snapshot(str(tmp_path), max_bytes=1000)
    assert e.value.code == "SnapshotTooLarge"
    assert "data/a.bin" in str(e.value) and ".amlignore" in str(e.value)


def test_a_script_config_is_checked_and_becomes_the_job_body(tmp_path):
    from tarn.core import ScriptRunConfig, UserErrorException
    src = _write(tmp_path / "src", {"train.py": "print(1)\n", "lib/u.py": "V = 2\n",
                                    ".amlignore": "skipped.py\n", "skipped.py": ""})
    _write(tmp_path, {"outside.py": ""})
    body = ScriptRunConfig(str(src), "train.py", arguments=["--alpha", 0.5],
                           max_run_duration_seconds=30)._job_body()
    assert body["script"] == "train.py" and body["compute"] == "local"
    assert body["arguments"] == ["--alpha", "0.5"] and body["timeout_s"] == 30
    assert "environment" not in body
    files = {f["path"]: base64.b64decode(f["content"]) for f in body["snapshot"]}
    assert files == {".amlignore": b"skipped.py\n", "lib/u.py": b"V = 2\n",
                     "train.py": b"print(1)\n"}
    # The script given as an absolute path inside the directory is the same script.
    assert ScriptRunConfig(str(src), str(src / "lib" / "u.py"))._job_body()["script"] == "lib/u.py"
    for script, words in (("../outside.py", "not inside"), (str(tmp_path / "outside.py"),
                                                            "not inside"),
                          ("missing.py", "not a file"), ("skipped.py", "left out")):
        with pytest.raises(UserErrorException) as e:
            ScriptRunConfig(str(src), script)._job_body()
        assert words in str(e.value), (script, str(e.value))
    with pytest.raises(UserErrorException):
        ScriptRunConfig(str(src), "train.py", arguments="--alpha 0.5")
    with pytest.raises(UserErrorException):
        ScriptRunConfig(str(src), "train.py", environment="sklearn-env")


def test_environments_say_which_python_a_run_uses(tmp_path):
    from tarn.core import Environment, UserErrorException
    _write(tmp_path, {"requirements.txt": "# pinned\nsix==1.17.0  # tiny\n\n-r more.txt\n",
                      "more.txt": "idna>=3\n", "options.txt": "--index-url https://x/simple\n"})
    env = Environment.from_pip_requirements("six-env", str(tmp_path / "requirements.txt"))
    assert env._spec() == {"name": "six-env", "pip": ["six==1.17.0", "idna>=3"]}
    # pip options are not requirements: refused here, as tarnd refuses them.
    with pytest.raises(UserErrorException) as e:
        Environment.from_pip_requirements("opt", str(tmp_path / "options.txt"))
    assert "pip option" in str(e.value)
    assert Environment("plain")._spec() == {"name": "plain"}
    mine = Environment("mine")
    mine.python.user_managed_dependencies = True
    assert mine._spec() == {"name": "mine"}  # "python": the target's default interpreter
    mine.python.interpreter_path = "/usr/bin/python3"
    assert mine._spec() == {"name": "mine", "python": "/usr/bin/python3"}
    mine.python.interpreter_path = "bin/python"
    with pytest.raises(UserErrorException) as e:
        mine._spec()
    assert "absolute path" in str(e.value)
    with pytest.raises(UserErrorException):
        Environment.from_pip_requirements("x", str(tmp_path / "nope.txt"))


class _FakeJobs:
    """A workspace client with one job, j1, whose status and log move on at each poll of the
    job; the log is served in pages of 5 bytes."""

    def __init__(self, statuses, chunks, error):
        self.statuses, self.chunks, self.error = list(statuses), list(chunks), error
        self.log, self.status = b"", None

    def tracking(self, method, ws, rpc, body=None, query=None):
        assert rpc == "runs/get", rpc
        return {"run": {"info": {"run_id": "j1", "experiment_id": "1", "status": "RUNNING"},
                        "data": {"tags": []}}}

    def workspace_api(self, method, ws, subpath, body=None, query=None):
        if subpath == "jobs/j1":
            if self.chunks:
                self.log += self.chunks.pop(0).encode()
            self.status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            doc = {"run_id": "j1", "status": self.status, "compute": "local",
                   "script": "train.py", "arguments": ["--a", "1"], "exit_code": None,
                   "environment": {"name": "env", "hash": "h"}}
            if self.status == "Failed":
                doc.update(exit_code=1, error={"message": self.error})
            return doc
        assert subpath == "jobs/j1/logs", subpath
        offset = int(query["offset"])
        part = self.log[offset:offset + int(query.get("limit", 5))]
        end = offset + len(part)
        return {"offset": offset, "next_offset": end, "size": len(self.log),
                "text": part.decode(), "complete": self.status == "Failed" and end == len(self.log)}


def test_wait_for_completion_streams_the_log_and_raises_with_its_last_lines(capsys):
    from tarn.core import ActivityFailedException, Experiment, Run, Workspace
    chunks = ["line 1\n", "line 2\n", "Traceback (most recent call last):\n",
              "ValueError: bad\n"]
    fake = _FakeJobs(["Queued", "Running", "Running", "Failed"], chunks, "exit code 1")
    ws = Workspace(None, None, "w", _client=fake, _doc={"name": "w"})
    run = Run(Experiment(ws, "e", _doc={"experiment_id": "1", "name": "e"}), "j1")
    with pytest.raises(ActivityFailedException) as e:
        run.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert "".join(chunks) in out and out.count("line 1") == 1
    assert out.index("".join(chunks)) < out.index("Execution Summary")
    assert "Status: Failed" in out
    assert e.value.status == "Failed" and e.value.run_id == "j1"
    assert "exit code 1" in str(e.value) and str(e.value).endswith("ValueError: bad")
    # Without show_output the error still ends with the log's last lines.
    with pytest.raises(ActivityFailedException) as e:
        run.wait_for_completion()
    assert str(e.value).endswith("ValueError: bad") and capsys.readouterr().out == ""
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed" and details["exitCode"] == 1
    assert details["error"] == {"error": {"message": "exit code 1"}}
    assert details["runDefinition"] == {"script": "train.py", "arguments": ["--a", "1"],
                                        "target": "local",
                                        "environment": {"name": "env", "hash": "h"}}


class _FakeTracking(http.server.BaseHTTPRequestHandler):
    """Just enough of tarnd for Run.get_context() inside a run: MLflow's runs/get,
    experiments/get, metrics/get-history, log-metric, set-tag, and the job's document."""

    calls = []

    def log_message(self, *args):
        pass

    def _answer(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        path, _, query = self.path.partition("?")
        self.calls.append((method, path, query, body, self.headers.get("Authorization")))
        mlflow = "/workspaces/w1/mlflow/api/2.0/mlflow/"
        run = {"info": {"run_id": "r1", "experiment_id": "7", "status": "RUNNING"},
               "data": {"tags": []}}
        if path == mlflow + "runs/get" and "run_id=r1" in query:
            return self._answer(200, {"run": run})
        if path == mlflow + "runs/get":
            return self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                                      "message": "Run 'nope' not found"})
        if path == mlflow + "experiments/get":
            return self._answer(200, {"experiment": {"experiment_id": "7", "name": "exp"}})
        if path == mlflow + "metrics/get-history":
            return self._answer(200, {})
        if path in (mlflow + "runs/log-metric", mlflow + "runs/set-tag"):
            return self._answer(200, {})
        if path == "/workspaces/w1/jobs/r1":
            return self._answer(200, {"run_id": "r1", "status": "Running"})
        return self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


def test_get_context_inside_a_run_needs_no_native_extension(tmp_path):
    """With the run's environment, Run.get_context() calls tarnd over HTTPS with the run's
    tokens (here over http, to a stand-in): logging, tags, the job's status, errors in
    MLflow's shape; complete() leaves ending the run to the script's exit."""
    import tarn
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeTracking)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _FakeTracking.calls = []
    script = textwrap.dedent("""
        import sys
        sys.modules["tarn._native"] = None          # an interpreter that cannot load it
        from tarn.core import Run, UserErrorException
        run = Run.get_context()
        run.log("alpha", 0.5)
        run.tag("team", "ml")
        print(type(run).__name__, run.id, run.experiment.name, run.get_status())
        run.complete()
        try:
            Run(run.experiment, "nope")
        except UserErrorException as e:
            print("refused", e.code)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "TARN_"))}
    env.update({"PYTHONPATH": str(Path(tarn.__file__).resolve().parents[1]),
                "TARN_RUN_ID": "r1", "MLFLOW_RUN_ID": "r1", "TARN_WORKSPACE": "w1",
                "MLFLOW_TRACKING_URI": f"{base}/workspaces/w1/mlflow",
                "MLFLOW_TRACKING_TOKEN": "tracking-token", "TARN_ENDPOINT": base,
                "TARN_WORKSPACE_TOKEN": "workspace-token", "TARN_HOME": str(tmp_path)})
    try:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Run r1 exp Running", "refused RESOURCE_DOES_NOT_EXIST"]
    calls = {(m, p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1]): (b, a)
             for m, p, _, b, a in _FakeTracking.calls}
    body, auth = calls[("POST", "runs/log-metric")]
    assert auth == "Bearer tracking-token"
    assert (body["run_id"], body["key"], body["value"], body["step"]) == ("r1", "alpha", 0.5, 0)
    assert calls[("POST", "runs/set-tag")][0] == {"run_id": "r1", "key": "team", "value": "ml"}
    assert calls[("GET", "jobs/r1")][1] == "Bearer workspace-token"
    assert ("POST", "runs/update") not in calls  # complete() inside a run: its exit decides


# ----- against tarnd ----------------------------------------------------------------------------

def _run_user():
    """The account the local target runs scripts as when the tests run as root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", RUN_USER], check=True, capture_output=True)
    return RUN_USER


@contextlib.contextmanager
def serve_compute(base, config=None, slurm_conf=None):
    """A tarnd with a "local" compute target (and a "slurm" one on the cluster of slurm_conf):
    runs go under a work directory of their own, as RUN_USER when the tests are root, with the
    build tree's tarn package on PYTHONPATH. `config`: more of tarnd's configuration."""
    work_dir = tempfile.mkdtemp(prefix="tarn-runs-")
    os.chmod(work_dir, 0o755)
    local = {"work_dir": work_dir, "environment": {"PYTHONPATH": str(PYTHON_DIR)}}
    user = _run_user()
    if user:
        local["user"] = user
        local["run_uids"] = RUN_UIDS  # each run a uid of its own, in RUN_USER's group
    doc = dict(config or {})
    doc["compute"] = {"local": local}
    if slurm_conf:
        doc["compute"]["slurm"] = {"slurm_conf": str(slurm_conf), **({"user": user} if user
                                                                       else {})}
    path = Path(base) / "tarnd.json"
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    srv = TarnServer(Path(base) / "data", Path(base) / "logs", ("--config", str(path)))
    try:
        srv.start()
        srv.run_user = user
        srv.work_dir = work_dir
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def compute_tarn(tmp_path_factory):
    with serve_compute(tmp_path_factory.mktemp("tarnd-compute")) as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(compute_tarn):
    return make_lab(compute_tarn)


def make_lab(srv):
    """A workspace with a default datastore (where artifacts go), and the same workspace as
    a service principal with the AzureML Data Scientist role sees it (`ws`)."""
    from identity_admin import Directory
    from tarn.core import Datastore, ServicePrincipalAuthentication, Workspace
    admin = Workspace.create(unique("ws-"), subscription_id="sub-1", resource_group="rg-1",
                             tarn_endpoint=srv.url)
    lake = Lake(srv)
    store = Datastore.register_azure_data_lake_gen2(admin, unique("store_"), lake.name,
                                                    srv.account, account_key=srv.key)
    store.set_as_default()
    d = Directory(srv)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "submitter")
    d.assign(sp["object_id"], "AzureML Data Scientist", f"/workspaces/{admin.name}")
    ws = Workspace.get(admin.name, auth=ServicePrincipalAuthentication(
        tenant, sp["app_id"], sp["secret"], ca_file=srv.ca_file), tarn_endpoint=srv.https_url)
    r = requests.post(f"{srv.https_url}/{tenant}/oauth2/v2.0/token",
                      data={"grant_type": "client_credentials", "client_id": sp["app_id"],
                            "client_secret": sp["secret"], "scope": TRACKING_SCOPE},
                      verify=srv.ca_file, timeout=30)
    assert r.status_code == 200, r.text
    return SimpleNamespace(server=srv, admin=admin, ws=ws, lake=lake, store=store,
                           tracking_token=r.json()["access_token"], tenant=tenant, sp=sp)


def _wait(run, timeout_s=120, **kwargs):
    """run.wait_for_completion(**kwargs), failing the test when the run has not ended in
    timeout_s (the call itself has no limit, as azureml's)."""
    out = {}

    def target():
        try:
            out["details"] = run.wait_for_completion(**kwargs)
        except BaseException as e:  # handed to the test's thread
            out["error"] = e
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        pytest.fail(f"run {run.id} did not end within {timeout_s} s")
    if "error" in out:
        raise out["error"]
    return out["details"]


def _poll(what, fn, timeout_s):
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout_s} s")
        time.sleep(0.3)


def _log(ws, run_id):
    """The run's whole log, through the job API."""
    text, offset = "", 0
    while True:
        page = ws._client.workspace_api("GET", ws.name, f"jobs/{run_id}/logs", None,
                                        {"offset": str(offset)})
        text += page["text"]
        if page["next_offset"] <= offset or page["next_offset"] >= page["size"]:
            return text
        offset = page["next_offset"]


def _mlflow_status(ws, run_id):
    return ws._client.tracking("GET", ws.name, "runs/get", None,
                               {"run_id": run_id})["run"]["info"]["status"]


def _artifact_url(lab, run, path=""):
    exp_id = run._doc["info"]["experiment_id"]
    base = (f"{lab.server.https_url}/workspaces/{lab.ws.name}/mlflow/api/2.0/"
            f"mlflow-artifacts/artifacts")
    return base, f"{exp_id}/{run.id}/artifacts/{path}".rstrip("/")


def _artifact_names(lab, run, folder):
    """The names in one artifact folder (MLflow's list, as mlflow's client calls it)."""
    base, path = _artifact_url(lab, run, folder)
    r = requests.get(base, params={"path": path}, verify=lab.server.ca_file, timeout=30,
                     headers={"Authorization": "Bearer " + lab.tracking_token})
    assert r.status_code == 200, r.text
    return sorted(f["path"].rsplit("/", 1)[-1] for f in r.json().get("files", []))


def _artifact(lab, run, path):
    base, rel = _artifact_url(lab, run, path)
    r = requests.get(f"{base}/{rel}", verify=lab.server.ca_file, timeout=30,
                     headers={"Authorization": "Bearer " + lab.tracking_token})
    assert r.status_code == 200, r.text
    return r.text


TRAIN = """
    import json, os, sys
    from tarn.core import Run
    from lib.helper import GREETING
    run = Run.get_context()
    print(GREETING, run.id)
    print("uid", os.getuid())
    print("snapshot", os.path.isfile("train.py"), os.path.isfile("lib/helper.py"),
          os.path.exists("data"))
    print("argv", json.dumps(sys.argv[1:]))
    print("native extension loaded:", "tarn._native" in sys.modules)
    run.log("alpha", float(sys.argv[2]))
    run.log_list("loss", [0.9, 0.5, 0.25])
    run.tag("team", "ml")
    print("status inside:", run.get_status())
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.txt", "w") as f:
        f.write("weights")
    with open("outputs/token", "w") as f:
        f.write(os.environ["MLFLOW_TRACKING_TOKEN"])
    with open("outputs/workspace_token", "w") as f:
        f.write(os.environ["TARN_WORKSPACE_TOKEN"])
    run.complete()
"""


@pytest.fixture(scope="module")
def trained(lab, tmp_path_factory):
    """One run of TRAIN, waited for with show_output=True: (run, details, what it printed)."""
    from tarn.core import Experiment, ScriptRunConfig
    src = _write(tmp_path_factory.mktemp("train-src"), {
        "train.py": TRAIN, "lib/helper.py": "GREETING = 'hello from the run'\n",
        "data/big.csv": "a,b\n", ".amlignore": "data/\n"})
    config = ScriptRunConfig(str(src), "train.py", arguments=["--alpha", 0.5, "two words"],
                             compute_target="local")
    run = Experiment(lab.ws, unique("exp-")).submit(config, tags={"purpose": "test"})
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        details = _wait(run, show_output=True)
    return SimpleNamespace(run=run, details=details, printed=printed.getvalue())


def test_a_submitted_script_logs_to_its_run_and_its_outputs_become_artifacts(lab, trained):
    from tarn.core import Run
    run, details = trained.run, trained.details
    assert details["status"] == "Completed", trained.printed
    assert "hello from the run " + run.id in trained.printed
    assert "Execution Summary" in trained.printed and "Status: Completed" in trained.printed
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"alpha": 0.5, "loss": [0.9, 0.5, 0.25]}
    assert run.get_tags()["team"] == "ml" and run.get_tags()["purpose"] == "test"
    assert details["runDefinition"]["script"] == "train.py"
    assert details["runDefinition"]["arguments"] == ["--alpha", "0.5", "two words"]
    assert details["runDefinition"]["target"] == "local" and details["target"] == "local"
    assert _mlflow_status(lab.ws, run.id) == "FINISHED"
    assert "model.txt" in _artifact_names(lab, run, "outputs")
    assert _artifact(lab, run, "outputs/model.txt") == "weights"
    assert _artifact_names(lab, run, "user_logs") == ["std_log.txt"]
    assert "hello from the run" in _artifact(lab, run, "user_logs/std_log.txt")
    # Inside, the run was the job (its status Running) and needed no native extension.
    assert "status inside: Running" in trained.printed
    assert "native extension loaded: False" in trained.printed
    # A Run made by id knows it was submitted.
    again = Run(run.experiment, run.id)
    assert again.get_status() == "Completed"
    assert again.get_details()["runDefinition"]["script"] == "train.py"


def test_the_script_runs_unprivileged_in_its_snapshot_with_its_arguments(lab, trained):
    log = _log(lab.ws, trained.run.id)
    uid = int(re.search(r"^uid (\d+)$", log, re.M).group(1))
    if lab.server.run_user:
        # Each run is a uid of its own, from compute.local.run_uids (never root).
        first, last = (int(x) for x in RUN_UIDS.split("-"))
        assert uid != 0 and first <= uid <= last
    else:
        assert uid == os.getuid()
    # cwd is the snapshot: its files, less what .amlignore lists.
    assert "snapshot True True False" in log
    assert 'argv ["--alpha", "0.5", "two words"]' in log


def test_the_run_tokens_die_with_the_run(lab, trained):
    """The script logged with MLFLOW_TRACKING_TOKEN (its metrics are there); once the run has
    ended, that token and the workspace token are refused."""
    run = trained.run
    assert run.get_metrics()["alpha"] == 0.5
    srv, ws = lab.server, lab.ws
    token = _artifact(lab, run, "outputs/token")
    r = requests.get(f"{srv.https_url}/workspaces/{ws.name}/mlflow/api/2.0/mlflow/runs/get",
                     params={"run_id": run.id}, headers={"Authorization": "Bearer " + token},
                     verify=srv.ca_file, timeout=30)
    assert r.status_code == 401, r.text
    token = _artifact(lab, run, "outputs/workspace_token")
    r = requests.get(f"{srv.https_url}/workspaces/{ws.name}/jobs/{run.id}",
                     headers={"Authorization": "Bearer " + token}, verify=srv.ca_file,
                     timeout=30)
    assert r.status_code == 401, r.text


def test_a_failing_script_fails_its_run_with_its_traceback(lab, tmp_path):
    from tarn.core import (ActivityFailedException, Experiment, ScriptRunConfig,
                           UserErrorException)
    src = _write(tmp_path, {"fail.py": """
        print("about to fail")
        raise ValueError("the data is bad: 42")
    """})
    run = Experiment(lab.ws, unique("exp-")).submit(ScriptRunConfig(str(src), "fail.py"))
    with pytest.raises(ActivityFailedException) as e:
        _wait(run)
    assert isinstance(e.value, UserErrorException) and e.value.status == "Failed"
    assert "ValueError: the data is bad: 42" in str(e.value)
    details = _wait(run, raise_on_error=False)
    assert details["status"] == "Failed" and details["exitCode"] not in (0, None)
    assert details["error"]["error"]["message"]
    assert run.get_status() == "Failed"
    assert _mlflow_status(lab.ws, run.id) == "FAILED"


def test_cancel_stops_a_running_script(lab, tmp_path):
    from tarn.core import ActivityFailedException, Experiment, ScriptRunConfig
    src = _write(tmp_path, {"sleep.py": """
        import time
        print("sleeping", flush=True)
        time.sleep(300)
    """})
    run = Experiment(lab.ws, unique("exp-")).submit(
        ScriptRunConfig(str(src), "sleep.py", max_run_duration_seconds=120))
    _poll("the script's first line", lambda: "sleeping" in _log(lab.ws, run.id), 60)
    assert run.get_status() == "Running"
    started = time.monotonic()
    run.cancel()
    assert run.get_status() in ("CancelRequested", "Canceled")
    _poll("Canceled", lambda: run.get_status() == "Canceled", 30)
    assert time.monotonic() - started < 30
    assert _mlflow_status(lab.ws, run.id) == "KILLED"
    with pytest.raises(ActivityFailedException) as e:
        _wait(run, timeout_s=30)
    assert e.value.status == "Canceled"


def test_a_run_past_its_time_limit_fails(lab, tmp_path):
    from tarn.core import Experiment, ScriptRunConfig
    src = _write(tmp_path, {"slow.py": "import time\ntime.sleep(60)\n"})
    run = Experiment(lab.ws, unique("exp-")).submit(
        ScriptRunConfig(str(src), "slow.py", max_run_duration_seconds=3))
    details = _wait(run, timeout_s=55, raise_on_error=False)
    assert details["status"] == "Failed"
    message = details["error"]["error"]["message"]
    assert re.search(r"time limit|timed out|timeout", message, re.I), message


def test_submitting_with_an_account_key_is_refused(lab, tmp_path):
    """A run acts as its submitter with short-lived tokens; a Shared Key caller has no
    identity to lend it, and is told to sign in."""
    from tarn.core import Experiment, ScriptRunConfig, UserErrorException
    src = _write(tmp_path, {"train.py": "print(1)\n"})
    with pytest.raises(UserErrorException) as e:
        Experiment(lab.admin, unique("exp-")).submit(ScriptRunConfig(str(src), "train.py"))
    assert e.value.code == "RunIdentityRequired"
    assert "sign" in str(e.value).lower(), str(e.value)


def test_an_interactive_run_is_no_job(lab):
    from tarn.core import Experiment
    with Experiment(lab.ws, unique("exp-")).start_logging() as run:
        run.log("x", 1)
    assert run.get_status() == "Completed"
    assert "runDefinition" not in run.get_details()
    assert run.wait_for_completion()["status"] == "Completed"


def test_an_existing_interpreter_runs_the_script(lab, tmp_path):
    from tarn.core import Environment, Experiment, ScriptRunConfig
    env = Environment("system-python")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/usr/bin/python3"
    src = _write(tmp_path, {"which.py": "import sys\nprint('python', sys.executable)\n"})
    run = Experiment(lab.ws, unique("exp-")).submit(
        ScriptRunConfig(str(src), "which.py", environment=env))
    details = _wait(run)
    assert details["status"] == "Completed"
    assert details["runDefinition"]["environment"]["name"] == "system-python"
    assert "python /usr/bin/python3" in _log(lab.ws, run.id)


def test_a_pip_environment_is_built_once_and_reused(lab, tmp_path):
    from tarn.core import Environment, Experiment, ScriptRunConfig
    _write(tmp_path, {"requirements.txt": "# tiny and pure Python\nsix==1.17.0\n",
                      "src/use_six.py": "import six\nprint('six', six.__version__)\n"})
    env = Environment.from_pip_requirements("six-env",
                                            str(tmp_path / "requirements.txt"))
    exp = Experiment(lab.ws, unique("exp-"))
    logs, hashes = [], []
    for _ in range(2):
        run = exp.submit(ScriptRunConfig(str(tmp_path / "src"), "use_six.py", environment=env))
        details = _wait(run, timeout_s=150)
        log = _log(lab.ws, run.id)
        assert details["status"] == "Completed", log
        assert "six 1.17.0" in log
        logs.append(log)
        hashes.append(details["runDefinition"]["environment"]["hash"])
    built = [line for line in logs[0].splitlines() if line.startswith(BUILDING)]
    assert built, logs[0]
    assert not [line for line in logs[1].splitlines() if line.startswith(BUILDING)], logs[1]
    assert hashes[0] and hashes[0] == hashes[1]
