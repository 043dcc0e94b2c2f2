"""Experiments and runs (azureml.core's Experiment and Run) over tarnd's tracking store: the same
store MLflow's API serves (docs/mlflow.md), so a run logged with the mlflow client is the same
run here, with the same metrics, and the other way round.

    from tarn.core import Experiment, Run, Workspace
    ws = Workspace.from_config()
    exp = Experiment(ws, "diabetes")            # found, or created
    run = exp.start_logging()                   # an interactive run (a notebook's)
    run.log("alpha", 0.5)
    run.log_list("loss", [0.9, 0.5, 0.3])
    run.tag("team", "ml")
    run.complete()
    run.get_metrics()    # {"alpha": 0.5, "loss": [0.9, 0.5, 0.3]}
    Run(exp, run.id)     # any run by id, also one an mlflow script logged

Inside a script, Run.get_context() gives the run it belongs to: the one named by MLFLOW_RUN_ID
with the workspace of config.json (or TARN_WORKSPACE), else an offline run that prints what is
logged, so a script runs by hand unchanged.
"""

import math
import os
import sys
import time

from tarn.core.exceptions import UserErrorException

_ENDED = ("FINISHED", "FAILED", "KILLED")
_AZURE_STATUS = {"RUNNING": "Running", "SCHEDULED": "Queued", "FINISHED": "Completed",
                 "FAILED": "Failed", "KILLED": "Canceled"}


def _now_ms():
    return int(time.time() * 1000)


def _number(value):
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    raise UserErrorException("a metric is a number, not %r: log text with run.tag" % (value,),
                             "InvalidMetric")


def _value(v):
    """A metric value as the tracking API returned it (NaN and the infinities as strings)."""
    if isinstance(v, str):
        return float({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get(v, v))
    return float(v)


def _wire(v):
    """A float as MLflow's JSON writes it."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class Experiment:
    """A named experiment of a workspace: found by name, or created."""

    def __init__(self, workspace, name, _create=True):
        self.workspace = workspace
        self.name = name
        try:
            doc = self._call("GET", "experiments/get-by-name", query={"experiment_name": name})
            self._doc = doc["experiment"]
        except UserErrorException as e:
            if e.code != "RESOURCE_DOES_NOT_EXIST" or not _create:
                raise
            created = self._call("POST", "experiments/create", {"name": name})
            self._doc = self._call("GET", "experiments/get",
                                   query={"experiment_id": created["experiment_id"]})["experiment"]

    def _call(self, method, rpc, body=None, query=None):
        return self.workspace._client.tracking(method, self.workspace.name, rpc, body, query)

    @property
    def id(self):
        return self._doc["experiment_id"]

    @property
    def archived(self):
        return self._doc.get("lifecycle_stage") == "deleted"

    @staticmethod
    def list(workspace, experiment_name=None):
        """The workspace's experiments (one name, or all)."""
        body = {"max_results": 1000}
        if experiment_name:
            body["filter"] = "name = '%s'" % experiment_name.replace("'", "''")
        docs = workspace._client.tracking("POST", workspace.name, "experiments/search", body)
        return [Experiment(workspace, d["name"], _create=False)
                for d in docs.get("experiments", [])]

    def start_logging(self, run_name=None, tags=None):
        """A new run, RUNNING, that this process logs to (azureml's interactive run)."""
        body = {"experiment_id": self.id, "start_time": _now_ms(),
                "tags": [{"key": k, "value": str(v)} for k, v in (tags or {}).items()]}
        if run_name:
            body["run_name"] = run_name
        doc = self._call("POST", "runs/create", body)["run"]
        return Run(self, doc["info"]["run_id"], _doc=doc)

    def get_runs(self, include_children=False):
        """The experiment's runs, newest first."""
        token = None
        while True:
            body = {"experiment_ids": [self.id], "max_results": 1000}
            if token:
                body["page_token"] = token
            page = self._call("POST", "runs/search", body)
            for doc in page.get("runs", []):
                yield Run(self, doc["info"]["run_id"], _doc=doc)
            token = page.get("next_page_token")
            if not token:
                return

    def archive(self):
        self._call("POST", "experiments/delete", {"experiment_id": self.id})
        self._doc["lifecycle_stage"] = "deleted"

    def reactivate(self):
        self._call("POST", "experiments/restore", {"experiment_id": self.id})
        self._doc["lifecycle_stage"] = "active"

    def __repr__(self):
        return "Experiment(Name: %s, Workspace: %s)" % (self.name, self.workspace.name)


class Run:
    """A run of an experiment."""

    def __init__(self, experiment, run_id, _doc=None):
        self.experiment = experiment
        self.id = run_id
        self._doc = _doc or self._call("GET", "runs/get", query={"run_id": run_id})["run"]
        self._counts = {}

    def _call(self, method, rpc, body=None, query=None):
        return self.experiment._call(method, rpc, body, query)

    def _refresh(self):
        self._doc = self._call("GET", "runs/get", query={"run_id": self.id})["run"]
        return self._doc

    @staticmethod
    def get_context(allow_offline=True):
        """The run this script belongs to (MLFLOW_RUN_ID, the workspace of config.json or
        TARN_WORKSPACE), or an offline run when it is run by hand."""
        run_id = os.environ.get("MLFLOW_RUN_ID") or os.environ.get("TARN_RUN_ID")
        if not run_id:
            if not allow_offline:
                raise UserErrorException("this script is not running as part of a run "
                                         "(MLFLOW_RUN_ID is not set)", "NoRunContext")
            return _OfflineRun()
        from tarn.core.workspace import Workspace
        name = os.environ.get("TARN_WORKSPACE")
        ws = Workspace.get(name) if name else Workspace.from_config()
        doc = ws._client.tracking("GET", ws.name, "runs/get", None, {"run_id": run_id})["run"]
        exp_doc = ws._client.tracking("GET", ws.name, "experiments/get", None,
                                      {"experiment_id": doc["info"]["experiment_id"]})
        exp = Experiment(ws, exp_doc["experiment"]["name"], _create=False)
        return Run(exp, run_id, _doc=doc)

    # ----- logging ------------------------------------------------------------------------

    def _next_step(self, name):
        if name not in self._counts:
            history = self._call("GET", "metrics/get-history",
                                 query={"run_id": self.id, "metric_key": name})
            self._counts[name] = len(history.get("metrics", []))
        step = self._counts[name]
        self._counts[name] += 1
        return step

    def log(self, name, value, description=""):
        """A metric value; logging a name again appends to its series."""
        v = _number(value)
        self._call("POST", "runs/log-metric", {"run_id": self.id, "key": name, "value": _wire(v),
                                               "timestamp": _now_ms(),
                                               "step": self._next_step(name)})

    def log_list(self, name, value, description=""):
        """A series of values under one name, in order."""
        values = [_number(v) for v in value]
        first = self._next_step(name)
        self._counts[name] = first + len(values)
        now = _now_ms()
        for start in range(0, len(values), 1000):
            chunk = values[start:start + 1000]
            self._call("POST", "runs/log-batch", {"run_id": self.id, "metrics": [
                {"key": name, "value": _wire(v), "timestamp": now, "step": first + start + i}
                for i, v in enumerate(chunk)]})

    def tag(self, key, value=None):
        self._call("POST", "runs/set-tag", {"run_id": self.id, "key": key,
                                            "value": "" if value is None else str(value)})

    def set_tags(self, tags):
        items = [{"key": k, "value": "" if v is None else str(v)} for k, v in tags.items()]
        for start in range(0, len(items), 100):
            self._call("POST", "runs/log-batch", {"run_id": self.id,
                                                  "tags": items[start:start + 100]})

    def get_tags(self):
        return {t["key"]: t["value"] for t in self._refresh()["data"].get("tags", [])}

    # ----- reading ------------------------------------------------------------------------

    def get_metrics(self, name=None):
        """{name: value} for a metric logged once, {name: [values...]} for a series, in step
        order, as azureml.core answers."""
        keys = [m["key"] for m in self._refresh()["data"].get("metrics", [])]
        if name is not None:
            keys = [k for k in keys if k == name]
        out = {}
        for key in keys:
            points, token = [], None
            while True:
                q = {"run_id": self.id, "metric_key": key, "max_results": "25000"}
                if token:
                    q["page_token"] = token
                page = self._call("GET", "metrics/get-history", query=q)
                points.extend(page.get("metrics", []))
                token = page.get("next_page_token")
                if not token:
                    break
            points.sort(key=lambda m: (int(m.get("step", 0)), int(m.get("timestamp", 0))))
            values = [_value(m["value"]) for m in points]
            out[key] = values[0] if len(values) == 1 else values
        return out

    def get_status(self):
        return _AZURE_STATUS.get(self._refresh()["info"]["status"], "Running")

    def get_details(self):
        info = self._refresh()["info"]

        def utc(ms):
            return None if ms is None else time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(ms) / 1000))
        inputs = self._doc.get("inputs", {}).get("dataset_inputs", [])
        return {"runId": self.id, "target": "local",
                "status": _AZURE_STATUS.get(info["status"], "Running"),
                "startTimeUtc": utc(info.get("start_time")),
                "endTimeUtc": utc(info.get("end_time")),
                "properties": {},
                "inputDatasets": [{"dataset": d.get("dataset", {})} for d in inputs],
                "outputDatasets": [],
                "tags": self.get_tags(),
                "experimentId": info["experiment_id"],
                "runName": info.get("run_name")}

    @property
    def status(self):
        return self.get_status()

    @property
    def name(self):
        return self._doc["info"].get("run_name")

    # ----- lifecycle ----------------------------------------------------------------------

    def _end(self, status):
        self._call("POST", "runs/update", {"run_id": self.id, "status": status,
                                           "end_time": _now_ms()})

    def complete(self):
        self._end("FINISHED")

    def fail(self, error_details=None):
        if error_details:
            self.tag("error", str(error_details))
        self._end("FAILED")

    def cancel(self):
        self._end("KILLED")

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.complete()
        else:
            self.fail(value)
        return False

    def __repr__(self):
        return "Run(Experiment: %s, Id: %s, Status: %s)" % (
            self.experiment.name, self.id, _AZURE_STATUS.get(self._doc["info"]["status"]))


class _OfflineRun:
    """What Run.get_context() gives a script run by hand: logging goes to stdout."""

    id = "OfflineRun_%d" % os.getpid()

    def __init__(self):
        self._metrics = {}
        self._tags = {}

    def log(self, name, value, description=""):
        self._metrics.setdefault(name, []).append(value)
        print("Attempted to log scalar metric %s:\n%s" % (name, value), file=sys.stdout)

    def log_list(self, name, value, description=""):
        self._metrics.setdefault(name, []).extend(value)
        print("Attempted to log list metric %s:\n%s" % (name, list(value)), file=sys.stdout)

    def tag(self, key, value=None):
        self._tags[key] = value

    def set_tags(self, tags):
        self._tags.update(tags)

    def get_tags(self):
        return dict(self._tags)

    def get_metrics(self, name=None):
        out = {k: (v[0] if len(v) == 1 else list(v)) for k, v in self._metrics.items()}
        return {name: out[name]} if name is not None and name in out else (
            {} if name is not None else out)

    def complete(self):
        pass

    def fail(self, error_details=None):
        pass

    def get_status(self):
        return "Running"
