"""tarn.core's Experiment and Run over the tracking store that MLflow's API serves: a run logged
with the real mlflow client (the project's .venv) is the same run in tarn.core, with the same
metrics, and a run logged with tarn.core reads back the same through mlflow."""

import json
import math
import os
import subprocess
import sys

import pytest
import requests

from conftest import REPO, sdk_env, unique, write_config

VENV_PYTHON = REPO / ".venv" / "bin" / "python"
TRACKING_SCOPE = "https://ml.azure.com/.default"


def _mlflow_env(tarn, ws):
    """A Data Scientist service principal's tracking token, as MLflow's client takes it."""
    assert VENV_PYTHON.exists(), "no .venv: scripts/bootstrap.sh makes it (python/venv)"
    from identity_admin import Directory
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant)
    d.assign(sp["object_id"], "AzureML Data Scientist", f"/workspaces/{ws.name}")
    r = requests.post(f"{tarn.https_url}/{tenant}/oauth2/v2.0/token",
                      data={"grant_type": "client_credentials", "client_id": sp["app_id"],
                            "client_secret": sp["secret"], "scope": TRACKING_SCOPE},
                      verify=tarn.ca_file, timeout=30)
    assert r.status_code == 200, r.text
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update({"MLFLOW_TRACKING_URI": f"{tarn.https_url}/workspaces/{ws.name}/mlflow",
                "MLFLOW_TRACKING_TOKEN": r.json()["access_token"],
                "MLFLOW_TRACKING_SERVER_CERT_PATH": tarn.ca_file})
    return env


def _mlflow(env, code, *args):
    r = subprocess.run([str(VENV_PYTHON), "-c", code, *args], env=env, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


LOG_WITH_MLFLOW = """
import json, sys, mlflow
mlflow.set_experiment(sys.argv[1])
with mlflow.start_run(run_name="by-mlflow") as run:
    mlflow.log_param("alpha", 0.5)
    for step, v in enumerate([0.9, 0.5, 0.25]):
        mlflow.log_metric("loss", v, step=step)
    mlflow.log_metrics({"acc": 0.75, "bad": float("nan")})
    mlflow.set_tag("team", "ml")
print(json.dumps({"run_id": run.info.run_id}))
"""

READ_WITH_MLFLOW = """
import json, sys, math
from mlflow import MlflowClient
c = MlflowClient()
run = c.get_run(sys.argv[1])
hist = [m.value for m in c.get_metric_history(sys.argv[1], "loss")]
print(json.dumps({"status": run.info.status, "tags": run.data.tags,
                  "metrics": {k: (None if math.isnan(v) else v) for k, v in run.data.metrics.items()},
                  "loss": hist, "name": run.info.run_name}))
"""


def test_a_run_logged_with_mlflow_is_the_same_run_in_tarn_core(tarn, ws, store):
    from tarn.core import Experiment, Run
    env = _mlflow_env(tarn, ws)
    name = unique("exp-")
    run_id = _mlflow(env, LOG_WITH_MLFLOW, name)["run_id"]
    exp = Experiment(ws, name)
    run = Run(exp, run_id)
    m = run.get_metrics()
    assert m["loss"] == [0.9, 0.5, 0.25]
    assert m["acc"] == 0.75
    assert math.isnan(m["bad"])
    assert run.get_tags()["team"] == "ml"
    assert run.get_status() == "Completed"
    assert run.name == "by-mlflow"
    assert [r.id for r in exp.get_runs()] == [run_id]
    assert [e.name for e in Experiment.list(ws, experiment_name=name)] == [name]


def test_a_run_logged_with_tarn_core_reads_back_through_mlflow(tarn, ws, store):
    from tarn.core import Experiment
    env = _mlflow_env(tarn, ws)
    exp = Experiment(ws, unique("exp-"))
    with exp.start_logging(run_name="by-tarn") as run:
        run.log("loss", 0.9)
        run.log("loss", 0.4)
        run.log_list("loss", [0.2, 0.1])
        run.log("acc", 1)
        run.tag("team", "data")
    got = _mlflow(env, READ_WITH_MLFLOW, run.id)
    assert got["status"] == "FINISHED"
    assert got["loss"] == [0.9, 0.4, 0.2, 0.1]
    assert got["metrics"] == {"loss": 0.1, "acc": 1.0}
    assert got["tags"]["team"] == "data"
    assert got["name"] == "by-tarn"
    assert run.get_metrics() == {"loss": [0.9, 0.4, 0.2, 0.1], "acc": 1.0}
    with pytest.raises(Exception) as e:
        run.log("loss", "high")
    assert "number" in str(e.value)


def test_get_context_is_the_run_inside_a_run_and_offline_by_hand(tarn, ws, store, tmp_path):
    from tarn.core import Experiment
    write_config(tmp_path, ws, tarn)
    run = Experiment(ws, unique("exp-")).start_logging()
    script = ("from tarn.core import Run\n"
              "r = Run.get_context()\n"
              "r.log('rows', 42)\n"
              "print(type(r).__name__, r.id)\n")
    env = sdk_env()
    env["TARN_ACCOUNT_KEY"] = tarn.key
    online = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=dict(env, MLFLOW_RUN_ID=run.id))
    assert online.returncode == 0, online.stderr
    assert online.stdout.split() == ["Run", run.id]
    assert run.get_metrics() == {"rows": 42.0}
    env.pop("MLFLOW_RUN_ID", None)
    offline = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120, env=env)
    assert offline.returncode == 0, offline.stderr
    assert "Attempted to log scalar metric rows" in offline.stdout
    assert offline.stdout.split()[-2] == "_OfflineRun"
