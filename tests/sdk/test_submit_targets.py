"""Runs that outlive tarnd, and runs on a real Slurm cluster (issue 14 §2).

- A run goes on while tarnd is killed (kill -9) and restarted on the same data directory: the
  new tarnd takes it up, its tokens work again, and its end is recorded; a run that ended while
  tarnd was down is ended from the outcome file its supervisor left.
- A single-node Slurm cluster (Debian's slurm-wlm and munge, started here by
  tests/compute/slurm_cluster.py and stopped afterwards) is a second compute target: runs are
  sbatch jobs of the unprivileged run user; they log to their run, fail with their exit code
  and are cancelled with scancel.
"""

import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, unique
from test_submit import (_log, _mlflow_status, _poll, _wait, _write, compute_tarn,  # noqa: F401
                         lab, make_lab, serve_compute)

sys.path.insert(0, str(REPO / "tests" / "compute"))
from slurm_cluster import SlurmCluster  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _metrics(ws, run_id):
    doc = ws._client.tracking("GET", ws.name, "runs/get", None, {"run_id": run_id})["run"]
    return {m["key"]: m["value"] for m in doc["data"].get("metrics", [])}


# ----- restarts ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def restartable(tmp_path_factory):
    """A tarnd whose https port stays the same across restarts, as a real deployment's does:
    runs reach it at the URL they were given."""
    config = {"tls_listen": f"127.0.0.1:{_free_port()}"}
    with serve_compute(tmp_path_factory.mktemp("tarnd-restart"), config) as srv:
        yield srv


def test_a_run_survives_tarnd_being_killed_and_is_taken_up_again(restartable, tmp_path):
    from tarn.core import Experiment, ScriptRunConfig
    lab = make_lab(restartable)
    src = _write(tmp_path / "long", {"long.py": """
        import os, time
        from tarn.core import Run
        run = Run.get_context()
        print("started", flush=True)
        while not os.path.exists("go"):
            time.sleep(0.2)
        run.log("after_restart", 1.0)
        print("done", flush=True)
    """})
    short = _write(tmp_path / "short", {"short.py": """
        import time
        print("short started", flush=True)
        time.sleep(2)
        print("short done", flush=True)
    """})
    exp = Experiment(lab.ws, unique("exp-"))
    long_run = exp.submit(ScriptRunConfig(str(src), "long.py", max_run_duration_seconds=300))
    short_run = exp.submit(ScriptRunConfig(str(short), "short.py"))
    _poll("both scripts running", lambda: "started" in _log(lab.ws, long_run.id) and
          "short started" in _log(lab.ws, short_run.id), 60)

    restartable.kill()  # kill -9: the runs' supervisors are in sessions of their own
    time.sleep(3)       # the short run ends while tarnd is down
    restartable.start()
    # The long run waits for a file in its working directory (<work_dir>/<run id>/src; the
    # tests are root, or the run user themselves).
    (Path(restartable.work_dir) / long_run.id / "src" / "go").write_text("")
    details = _wait(long_run, timeout_s=60)
    assert details["status"] == "Completed"
    assert _metrics(lab.ws, long_run.id) == {"after_restart": 1.0}  # its token works again
    assert "done" in _log(lab.ws, long_run.id)
    short_details = _wait(short_run, timeout_s=30)
    assert short_details["status"] == "Completed"
    assert "short done" in _log(lab.ws, short_run.id)
    assert _mlflow_status(lab.ws, short_run.id) == "FINISHED"


# ----- runs of their own --------------------------------------------------------------------------

def test_each_run_has_a_uid_of_its_own_and_cannot_read_another_runs_tokens(lab, tmp_path):
    """With per-run uids (compute.local.run_uids), a run cannot read another active run's
    environment (its tokens) or files."""
    if os.geteuid() != 0:
        pytest.skip("per-run uids need tarnd to run as root")
    from tarn.core import Experiment, ScriptRunConfig
    src = _write(tmp_path, {"hold.py": """
        import os, time
        print("pid", os.getpid(), "uid", os.getuid(), "cwd", os.getcwd(), flush=True)
        time.sleep(120)
    """, "peek.py": """
        import os, sys
        pid, cwd = sys.argv[1], sys.argv[2]
        print("uid", os.getuid())
        for what in (f"/proc/{pid}/environ", os.path.join(cwd, "hold.py")):
            try:
                open(what).read()
                print("read", what)
            except PermissionError:
                print("denied", what)
    """})
    exp = Experiment(lab.ws, unique("exp-"))
    hold = exp.submit(ScriptRunConfig(str(src), "hold.py", max_run_duration_seconds=120))
    try:
        line = _poll("the first run's pid", lambda: next(
            (ln for ln in _log(lab.ws, hold.id).splitlines() if ln.startswith("pid ")), None), 60)
        _, pid, _, hold_uid, _, cwd = line.split()
        peek = exp.submit(ScriptRunConfig(str(src), "peek.py", arguments=[pid, cwd]))
        assert _wait(peek)["status"] == "Completed"
        log = _log(lab.ws, peek.id)
        peek_uid = next(ln.split()[1] for ln in log.splitlines() if ln.startswith("uid "))
        assert peek_uid != hold_uid and int(peek_uid) >= 200000, log
        assert f"denied /proc/{pid}/environ" in log and "denied " + cwd in log, log
    finally:
        hold.cancel()
    _poll("the first run's end", lambda: hold.get_status() == "Canceled", 30)


# ----- Slurm -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def slurm_lab(tmp_path_factory):
    base = tempfile.mkdtemp(prefix="tarn-slurm-")
    try:
        with SlurmCluster(base) as cluster:
            with serve_compute(tmp_path_factory.mktemp("tarnd-slurm"),
                               slurm_conf=cluster.path("slurm.conf")) as srv:
                yield make_lab(srv)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_slurm_is_a_compute_target(slurm_lab):
    computes = slurm_lab.ws._client.workspace_api("GET", slurm_lab.ws.name, "computes")
    by_name = {c["name"]: c for c in computes["value"]}
    assert by_name["slurm"]["type"] == "slurm" and by_name["slurm"]["available"], by_name


def test_a_run_on_slurm_logs_to_its_run(slurm_lab, tmp_path):
    from tarn.core import Experiment, ScriptRunConfig
    src = _write(tmp_path, {"train.py": """
        import os, sys
        from tarn.core import Run
        run = Run.get_context()
        print("slurm job", os.environ.get("SLURM_JOB_ID"), "uid", os.getuid(), flush=True)
        run.log("alpha", float(sys.argv[1]))
        run.log_list("loss", [0.5, 0.25])
    """})
    submitted = time.monotonic()
    run = Experiment(slurm_lab.ws, unique("exp-")).submit(
        ScriptRunConfig(str(src), "train.py", arguments=["0.5"], compute_target="slurm"))
    details = _wait(run, timeout_s=120)
    assert details["status"] == "Completed", details
    log = _log(slurm_lab.ws, run.id)
    assert "slurm job " in log and "slurm job None" not in log, log
    if os.geteuid() == 0:
        assert " uid 0" not in log, log
    metrics = run.get_metrics()
    assert metrics["alpha"] == 0.5 and metrics["loss"] == [0.5, 0.25]
    assert _mlflow_status(slurm_lab.ws, run.id) == "FINISHED"
    print(f"slurm: submit to completed {time.monotonic() - submitted:.1f} s")


def test_a_failing_slurm_job_fails_its_run_with_its_exit_code(slurm_lab, tmp_path):
    from tarn.core import Experiment, ScriptRunConfig
    src = _write(tmp_path, {"fail.py": "import sys\nprint('failing')\nsys.exit(3)\n"})
    run = Experiment(slurm_lab.ws, unique("exp-")).submit(
        ScriptRunConfig(str(src), "fail.py", compute_target="slurm"))
    details = _wait(run, timeout_s=120, raise_on_error=False)
    assert details["status"] == "Failed" and details["exitCode"] == 3, details
    assert "failing" in _log(slurm_lab.ws, run.id)
    assert _mlflow_status(slurm_lab.ws, run.id) == "FAILED"


def test_a_slurm_job_is_cancelled_with_scancel(slurm_lab, tmp_path):
    from tarn.core import Experiment, ScriptRunConfig
    src = _write(tmp_path, {"sleep.py": "import time\nprint('sleeping', flush=True)\n"
                                        "time.sleep(300)\n"})
    run = Experiment(slurm_lab.ws, unique("exp-")).submit(
        ScriptRunConfig(str(src), "sleep.py", compute_target="slurm"))
    _poll("the job's first line", lambda: "sleeping" in _log(slurm_lab.ws, run.id), 90)
    run.cancel()
    _poll("Canceled", lambda: run.get_status() == "Canceled", 60)
    assert _mlflow_status(slurm_lab.ws, run.id) == "KILLED"


def test_a_slurm_run_reads_a_pinned_version_and_writes_back_its_predictions(slurm_lab, tmp_path):
    """The seed's training and batch inference on the cluster: the job reads a pinned dataset
    version and its output is registered as a new version with lineage to it."""
    from tarn.core import Dataset, Experiment, OutputFileDatasetConfig, ScriptRunConfig
    from test_submit_data import SCORE
    slurm_lab.lake.write("in/scores.csv", "id,score\n1,0.5\n2,1.5\n")
    scores = Dataset.Tabular.from_delimited_files(path=(slurm_lab.store, "in/scores.csv")) \
        .register(slurm_lab.admin, unique("scores_"))
    name = unique("predictions_")
    out = OutputFileDatasetConfig(name="predictions",
                                  destination=(slurm_lab.store, name + "/{run-id}"))
    out.read_delimited_files().register_on_complete(name)
    src = _write(tmp_path, {"score.py": SCORE})
    run = Experiment(slurm_lab.ws, unique("exp-")).submit(ScriptRunConfig(
        str(src), "score.py", compute_target="slurm",
        arguments=[scores.as_named_input("scores").as_download(), out]))
    assert _wait(run, timeout_s=120)["status"] == "Completed"
    predictions = Dataset.get_by_name(slurm_lab.ws, name)
    assert sorted(predictions.to_pandas_dataframe()["prediction"].tolist()) == [1.0, 3.0]
    graph = slurm_lab.ws._client.workspace_api("GET", slurm_lab.ws.name, "lineage", None,
                                               {"dataset": name})
    children = [c for c in graph["root"]["children"] if c.get("kind") == "dataset"]
    assert [(c["dataset"], c["via"]["run_id"]) for c in children] == [(scores.name, run.id)]
