"""A submitted run's data (issue 14 §1): a registered dataset version as a named input
(as_download), and an OutputFileDatasetConfig written back to the lake and registered as a new
dataset version with lineage to the run and its inputs, the seed's batch inference. A run that
fails writes and registers nothing.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import unique
from test_submit import _log, _wait, _write, compute_tarn, lab  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"

SCORE = """
    import csv, glob, os, sys
    from tarn.core import Run
    run = Run.get_context()
    src, out = sys.argv[1], sys.argv[2]
    print("inputs", run.input_datasets, "outputs", run.output_datasets)
    print("argv matches", src == run.input_datasets["scores"],
          out == run.output_datasets["predictions"])
    rows = []
    for path in sorted(glob.glob(os.path.join(src, "**", "*.csv"), recursive=True)):
        with open(path) as f:
            rows += list(csv.DictReader(f))
    with open(os.path.join(out, "predictions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "score", "prediction"])
        for r in rows:
            w.writerow([r["id"], r["score"], float(r["score"]) * 2])
    run.log("rows", len(rows))
    if os.environ.get("FAIL_AFTER_WRITING") or "--fail" in sys.argv:
        raise SystemExit("failing after writing the predictions")
"""


@pytest.fixture(scope="module")
def scores(lab):
    """A registered tabular version: the run's input."""
    from tarn.core import Dataset
    lab.lake.write("in/scores.csv", "id,score\n1,0.5\n2,1.5\n3,2.5\n")
    ds = Dataset.Tabular.from_delimited_files(path=(lab.store, "in/scores.csv"))
    return ds.register(lab.admin, unique("scores_"))


def _predictions_config(lab, name):
    from tarn.core import OutputFileDatasetConfig
    return (OutputFileDatasetConfig(name="predictions",
                                    destination=(lab.store, f"{name}/{{run-id}}"))
            .read_delimited_files().register_on_complete(name))


def test_a_run_reads_its_pinned_input_and_registers_its_predictions(lab, scores, tmp_path):
    from tarn.core import Dataset, Experiment, ScriptRunConfig
    name = unique("predictions_")
    src = _write(tmp_path, {"score.py": SCORE})
    run = Experiment(lab.ws, unique("exp-")).submit(ScriptRunConfig(
        str(src), "score.py",
        arguments=[Dataset.get_by_name(lab.ws, scores.name).as_named_input("scores")
                   .as_download(), _predictions_config(lab, name)]))
    details = _wait(run)
    assert details["status"] == "Completed", details
    log = _log(lab.ws, run.id)
    assert "argv matches True True" in log, log
    assert run.get_metrics()["rows"] == 3

    # The predictions are a new dataset version, in the lake under the run's id.
    version = Dataset.get_by_name(lab.ws, name)
    assert version.version == 1
    df = version.to_pandas_dataframe()
    assert sorted(df["prediction"].tolist()) == [1.0, 3.0, 5.0]
    files = lab.lake.fs.get_paths(path=f"{name}/{run.id}")
    assert [p.name for p in files] == [f"{name}/{run.id}/predictions.csv"]

    # Lineage: predictions <- the run <- the input version it read, pinned.
    graph = lab.ws._client.workspace_api("GET", lab.ws.name, "lineage", None, {"dataset": name})
    root = graph["root"]
    inputs = [c for c in root["children"] if c.get("kind") == "dataset"]
    assert [(c["dataset"], c["version"]) for c in inputs] == [(scores.name, scores.version)]
    assert inputs[0]["via"]["run_id"] == run.id

    # The run records the input it read, as MLflow records dataset inputs.
    doc = lab.ws._client.tracking("GET", lab.ws.name, "runs/get", None, {"run_id": run.id})
    names = [d["dataset"]["name"] for d in doc["run"]["inputs"]["dataset_inputs"]]
    assert names == [scores.name]
    # Tarn Studio's page of the run shows its log and the datasets it read and wrote, to the
    # service principal that submitted it (issue 17).
    if Path(CHROMIUM).exists() and shutil.which("node"):
        exp = doc["run"]["info"]["experiment_id"]
        cfg = {"url": lab.server.https_url, "tenant": lab.tenant, "app_id": lab.sp["app_id"],
               "secret": lab.sp["secret"], "ws": lab.ws.name, "experiment": exp, "run": run.id}
        r = subprocess.run(["node", str(REPO / "tests" / "studio" / "drive.mjs"), "runpage"],
                           env={**os.environ, "STUDIO_TEST": json.dumps(cfg)},
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr[-3000:]
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert "argv matches True True" in out["log"], out
        assert f"read scores {scores.name}:{scores.version}" in out["datasets"], out
        assert f"wrote predictions {name}:1" in out["datasets"], out


def test_a_failed_run_writes_back_and_registers_nothing(lab, scores, tmp_path):
    from tarn.core import Dataset, Experiment, ScriptRunConfig, UserErrorException
    name = unique("predictions_")
    src = _write(tmp_path, {"score.py": SCORE})
    run = Experiment(lab.ws, unique("exp-")).submit(ScriptRunConfig(
        str(src), "score.py",
        arguments=[scores.as_named_input("scores").as_download(),
                   _predictions_config(lab, name), "--fail"]))
    details = _wait(run, raise_on_error=False)
    assert details["status"] == "Failed"
    with pytest.raises(UserErrorException):
        Dataset.get_by_name(lab.ws, name)
    assert not lab.lake.fs.get_directory_client(name).exists()


def test_a_mounted_input_is_refused_with_what_to_use(lab, scores, tmp_path):
    from tarn.core import Experiment, ScriptRunConfig, UserErrorException
    src = _write(tmp_path, {"score.py": SCORE})
    with pytest.raises(UserErrorException) as e:
        Experiment(lab.ws, unique("exp-")).submit(ScriptRunConfig(
            str(src), "score.py", arguments=[scores.as_named_input("scores").as_mount()]))
    assert "as_download()" in str(e.value)


def test_an_output_the_submitter_may_not_write_is_refused_at_submit(lab, scores, tmp_path):
    from tarn.core import Experiment, OutputFileDatasetConfig, ScriptRunConfig, UserErrorException
    src = _write(tmp_path, {"score.py": SCORE})
    out = OutputFileDatasetConfig(name="predictions", destination=("no_such_store", "p"))
    with pytest.raises(UserErrorException) as e:
        Experiment(lab.ws, unique("exp-")).submit(ScriptRunConfig(
            str(src), "score.py", arguments=[scores.as_named_input("scores").as_download(),
                                             out]))
    assert "output 'predictions'" in str(e.value)
