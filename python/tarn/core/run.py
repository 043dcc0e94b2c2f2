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

Submitted runs (tarn.core.compute's ScriptRunConfig on a compute target):

    run = exp.submit(ScriptRunConfig(source_directory="src", script="train.py"))
    run.wait_for_completion(show_output=True)   # the log as it grows, then the status
    run.get_status()                            # Queued, Preparing, Running, Completed, ...
    run.cancel()

Inside a script, Run.get_context() gives the run it belongs to: in a submitted run, over plain
HTTPS with the run's own tokens (no native extension needed); else the one named by
MLFLOW_RUN_ID with the workspace of config.json (or TARN_WORKSPACE); else an offline run that
prints what is logged, so a script runs by hand unchanged.
"""

import math
import os
import sys
import time

from tarn.core.exceptions import ActivityFailedException, UserErrorException

_ENDED = ("FINISHED", "FAILED", "KILLED")
_AZURE_STATUS = {"RUNNING": "Running", "SCHEDULED": "Queued", "FINISHED": "Completed",
                 "FAILED": "Failed", "KILLED": "Canceled"}
# A submitted run's (job's) statuses that are final, and those that raise in
# wait_for_completion(raise_on_error=True).
_JOB_ENDED = ("Completed", "Failed", "Canceled")
_JOB_FAILED = ("Failed", "Canceled")
_LOG_TAIL_BYTES = 16384
_LOG_TAIL_LINES = 30


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

    def __init__(self, workspace, name, _create=True, _doc=None):
        self.workspace = workspace
        self.name = name
        if _doc is not None:
            self._doc = _doc
            return
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

    def submit(self, config, tags=None, *, run_name=None):
        """Submits a ScriptRunConfig (tarn.core.compute) to its compute target and returns the
        Run, Queued. It runs as the caller (a signed-in user or service principal: an
        account key is refused, since a run never gets the key). run_name (Tarn's) names the
        run; tags are set on it."""
        from tarn.core.compute import ScriptRunConfig
        if not isinstance(config, ScriptRunConfig):
            raise UserErrorException("Experiment.submit takes a ScriptRunConfig (pipelines: "
                                     "Pipeline.submit)", "InvalidRunConfig")
        body = config._job_body()
        body["experiment_name"] = self.name
        if run_name:
            body["run_name"] = run_name
        if tags:
            body["tags"] = {str(k): "" if v is None else str(v) for k, v in tags.items()}
        ws = self.workspace
        job = ws._client.workspace_api("POST", ws.name, "jobs", body)
        return Run(self, job["run_id"], _job=job)

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

    def __init__(self, experiment, run_id, _doc=None, _job=None):
        self.experiment = experiment
        self.id = run_id
        self._doc = _doc or self._call("GET", "runs/get", query={"run_id": run_id})["run"]
        self._counts = {}
        # The job document of a submitted run; looked up on first need for a Run made by id.
        self._job = _job
        self._job_looked_up = _job is not None
        # True for Run.get_context() inside the submitted run itself.
        self._inside = False

    def _call(self, method, rpc, body=None, query=None):
        return self.experiment._call(method, rpc, body, query)

    def _refresh(self):
        self._doc = self._call("GET", "runs/get", query={"run_id": self.id})["run"]
        return self._doc

    # ----- submitted runs (jobs) ------------------------------------------------------------

    def _job_call(self, method, subpath, body=None, query=None):
        ws = self.experiment.workspace
        return ws._client.workspace_api(method, ws.name, subpath, body, query)

    def _job_doc(self, wait_ms=0):
        """The job document, fresh (waiting up to wait_ms for it to end), or None when this
        run was not submitted to a compute target."""
        if self._job_looked_up and self._job is None:
            return None
        ws = self.experiment.workspace
        if getattr(ws._client, "workspace_api", None) is None:
            self._job_looked_up = True
            return None
        query = {"wait": str(int(wait_ms))} if wait_ms else None
        try:
            self._job = self._job_call("GET", "jobs/" + self.id, None, query)
        except UserErrorException as e:
            # NoRunContext: a run given no workspace token reads its MLflow status instead.
            if self._job_looked_up or e.code not in ("JobNotFound", "NoRunContext"):
                raise
        self._job_looked_up = True
        return self._job

    def _read_log(self, offset, limit=None):
        query = {"offset": str(offset)}
        if limit is not None:
            query["limit"] = str(limit)
        return self._job_call("GET", "jobs/%s/logs" % self.id, None, query)

    def _log_tail(self):
        """The last lines of a submitted run's log."""
        size = int(self._read_log(0, 1).get("size", 0))
        offset = max(0, size - _LOG_TAIL_BYTES)
        text = ""
        while offset < size:
            page = self._read_log(offset)
            text += page.get("text", "")
            if int(page.get("next_offset", offset)) <= offset:
                break
            offset = int(page["next_offset"])
        lines = text.splitlines()
        if size > _LOG_TAIL_BYTES and lines:
            lines = lines[1:]  # the first one is cut
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def wait_for_completion(self, show_output=False, wait_post_processing=False,
                            raise_on_error=True):
        """Waits for the run to end and returns get_details(). With show_output, a submitted
        run's log (its stdout and stderr) is printed as it grows, then an execution summary.
        A Failed or Canceled run raises ActivityFailedException when raise_on_error, with the
        error and the log's last lines. wait_post_processing is accepted for azureml's sake:
        outputs are uploaded before a run ends."""
        job = self._job_doc()
        if job is None:
            while self._refresh()["info"]["status"] not in _ENDED:
                time.sleep(2)
            status = _AZURE_STATUS[self._doc["info"]["status"]]
            if raise_on_error and status in _JOB_FAILED:
                raise ActivityFailedException("run %s ended %s" % (self.id, status),
                                              run_id=self.id, status=status)
            return self.get_details()
        log = _LogPrinter(self) if show_output else None
        if log:
            print("RunId: %s\n\nStreaming user_logs/std_log.txt\n%s\n" % (self.id, "=" * 30),
                  flush=True)
        while job["status"] not in _JOB_ENDED:
            if log:
                log.print_new()
            job = self._job_doc(wait_ms=2000 if log else 5000)
        if log:
            log.print_rest()
            print("\nExecution Summary\n=================\nRunId: %s\nStatus: %s\n"
                  % (self.id, job["status"]), flush=True)
        if raise_on_error and job["status"] in _JOB_FAILED:
            error = (job.get("error") or {}).get("message") or "the run ended %s" % job["status"]
            tail = log.tail() if log else self._log_tail()
            raise ActivityFailedException(
                "run %s ended %s: %s\n\nThe last lines of its log (user_logs/std_log.txt):\n%s"
                % (self.id, job["status"], error, tail or "(empty)"),
                run_id=self.id, status=job["status"])
        return self.get_details()

    @staticmethod
    def get_context(allow_offline=True):
        """The run this script belongs to: inside a submitted run, that run (over HTTPS with
        the run's tokens, no native extension); else MLFLOW_RUN_ID's in the workspace of
        config.json or TARN_WORKSPACE; else an offline run when it is run by hand."""
        if os.environ.get("TARN_RUN_ID") and os.environ.get("MLFLOW_TRACKING_TOKEN"):
            return Run._submitted_context()
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

    @staticmethod
    def _submitted_context():
        from tarn.core._token_client import TokenClient
        from tarn.core.workspace import Workspace
        client = TokenClient.from_run_environment()
        run_id = os.environ["TARN_RUN_ID"]
        name = os.environ.get("TARN_WORKSPACE") or client.workspace_name
        ws = Workspace(None, None, name, _client=client, _doc={"name": name})
        doc = client.tracking("GET", name, "runs/get", None, {"run_id": run_id})["run"]
        exp_doc = client.tracking("GET", name, "experiments/get", None,
                                  {"experiment_id": doc["info"]["experiment_id"]})["experiment"]
        run = Run(Experiment(ws, exp_doc["name"], _doc=exp_doc), run_id, _doc=doc)
        run._inside = True
        return run

    @property
    def input_datasets(self):
        """Inside a submitted run: each named input's folder, where tarnd downloaded exactly
        the pinned version ({"sales": "/.../datasets/inputs/sales"}); {} elsewhere."""
        return _data_folders("TARN_INPUTS") if getattr(self, "_inside", False) else {}

    @property
    def output_datasets(self):
        """Inside a submitted run: each named output's folder, uploaded (and registered) when
        the run completes; {} elsewhere."""
        return _data_folders("TARN_OUTPUTS") if getattr(self, "_inside", False) else {}

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
        """azureml's status: a submitted run's Queued, Starting, Preparing, Running,
        CancelRequested, Completed, Failed or Canceled; an interactive run's Running,
        Completed, Failed or Canceled."""
        job = self._job_doc()
        if job is not None:
            return job["status"]
        return _AZURE_STATUS.get(self._refresh()["info"]["status"], "Running")

    def get_details(self):
        job = self._job_doc()
        info = self._refresh()["info"]

        def utc(ms):
            return None if ms is None else time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(ms) / 1000))
        inputs = self._doc.get("inputs", {}).get("dataset_inputs", [])
        details = {"runId": self.id, "target": "local",
                   "status": _AZURE_STATUS.get(info["status"], "Running"),
                   "startTimeUtc": utc(info.get("start_time")),
                   "endTimeUtc": utc(info.get("end_time")),
                   "properties": {},
                   "inputDatasets": [{"dataset": d.get("dataset", {})} for d in inputs],
                   "outputDatasets": [],
                   "tags": {t["key"]: t["value"] for t in self._doc["data"].get("tags", [])},
                   "experimentId": info["experiment_id"],
                   "runName": info.get("run_name")}
        if job is not None:
            details.update({
                "target": job.get("compute"), "status": job["status"],
                "startTimeUtc": job.get("started_utc") or details["startTimeUtc"],
                "endTimeUtc": job.get("ended_utc") or details["endTimeUtc"],
                "submittedBy": job.get("submitted_by"),
                "runDefinition": {"script": job.get("script"),
                                  "arguments": list(job.get("arguments") or []),
                                  "target": job.get("compute"),
                                  "environment": dict(job.get("environment") or {})},
                "exitCode": job.get("exit_code")})
            if job.get("timeout_s"):
                details["runDefinition"]["maxRunDurationSeconds"] = job["timeout_s"]
            if job.get("error"):
                details["error"] = {"error": dict(job["error"])}
            if job.get("warnings"):
                details["warnings"] = list(job["warnings"])
        return details

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
        """Ends the run, Completed. Inside a submitted run this does nothing: the run ends
        when its script exits, with the script's exit status."""
        if self._inside:
            return
        self._end("FINISHED")

    def fail(self, error_details=None):
        if error_details:
            self.tag("error", str(error_details))
        self._end("FAILED")

    def cancel(self):
        """Cancels the run: a submitted one is stopped on its compute target (CancelRequested,
        then Canceled); an interactive one is ended, Canceled."""
        if self._job_doc() is not None:
            self._job = self._job_call("POST", "jobs/%s/cancel" % self.id, {})
            return
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


class _LogPrinter:
    """Prints a submitted run's log to stdout as it grows, keeping its last bytes."""

    def __init__(self, run):
        self._run = run
        self._offset = 0
        self._tail = ""
        self._cut = False  # whether _tail starts mid-line

    def print_new(self):
        """What was written since the last call; returns the last page read."""
        while True:
            page = self._run._read_log(self._offset)
            text = page.get("text", "")
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
                self._tail += text
                if len(self._tail) > _LOG_TAIL_BYTES:
                    self._tail, self._cut = self._tail[-_LOG_TAIL_BYTES:], True
            offset = int(page.get("next_offset", self._offset))
            advanced, self._offset = offset > self._offset, max(offset, self._offset)
            if not advanced or self._offset >= int(page.get("size", 0)):
                return page

    def print_rest(self, timeout_s=30):
        """After the run ended: up to the log's end."""
        deadline = time.monotonic() + timeout_s
        while True:
            page = self.print_new()
            if page.get("complete") or time.monotonic() > deadline:
                return
            time.sleep(0.2)

    def tail(self):
        lines = self._tail.splitlines()
        if self._cut and lines:
            lines = lines[1:]
        return "\n".join(lines[-_LOG_TAIL_LINES:])


def _data_folders(variable):
    import json
    try:
        folders = json.loads(os.environ.get(variable) or "{}")
    except ValueError:
        return {}
    return dict(folders) if isinstance(folders, dict) else {}


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
