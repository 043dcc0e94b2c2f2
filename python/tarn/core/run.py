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

Tables, images, files, child runs and models (Run's docstring says how each is kept):

    run.log_row("roc", fpr=0.1, tpr=0.6)
    run.log_table("per_class", {"precision": [0.9, 0.7], "recall": [0.8, 0.6]})
    run.log_image("confusion", plot=fig)        # a matplotlib figure, as PNG
    run.get_metrics()    # {..., "roc": {"fpr": [0.1], "tpr": [0.6]}, "confusion": "images/..."}
    run.upload_file("outputs/model.pkl", "model.pkl")
    run.upload_folder("outputs/model", "model")
    run.get_file_names()                        # ["outputs/model.pkl", "outputs/model/...", ...]
    run.download_file("outputs/model.pkl", "here.pkl")
    run.download_files(prefix="outputs/", output_directory="out")
    child = run.child_run("fold-1")             # child.parent.id == run.id
    run.get_children()
    run.register_model("diabetes", "outputs/model")     # a tarn.core.Model

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

import io
import json
import math
import os
import posixpath
import sys
import time
import urllib.parse

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
# A table's columns are metrics "<table>/<column>" (step = row); this tag names the table and
# lists its columns, in order, as JSON.
_TABLE_TAG = "tarn.table."
# An image is an artifact; this tag names it and gives its artifact path.
_IMAGE_TAG = "tarn.image."
_PARENT_TAG = "mlflow.parentRunId"
_ARTIFACT_ROUTE = "mlflow-artifacts/artifacts"
_BATCH_METRICS = 1000


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


def _cell(table, column, value):
    try:
        return _number(value)
    except UserErrorException:
        raise UserErrorException(
            "a table's cells are numbers (they are MLflow metrics): %s[%r] is %r"
            % (table, column, value), "InvalidMetric") from None


def _artifact_name(name):
    """An artifact's name as given ("outputs/model.pkl"), as a path below a run's root."""
    clean = str(name).replace("\\", "/").strip("/")
    while clean.startswith("./"):
        clean = clean[2:]
    if not clean:
        raise UserErrorException("an artifact needs a name", "InvalidArtifactPath")
    return clean


def _artifact_path(uri):
    """The path below mlflow-artifacts:/ that an artifact URI names ("mlflow-artifacts:/1/<run>/
    artifacts", also with a host: "mlflow-artifacts://host:port/1/...")."""
    if not uri.startswith("mlflow-artifacts:"):
        raise UserErrorException("the artifact URI %r is not in the workspace's artifact store "
                                 "(mlflow-artifacts:/...)" % uri, "UnsupportedArtifactUri")
    return urllib.parse.urlparse(uri).path.strip("/")


class _ArtifactStore:
    """A workspace's artifact store (docs/mlflow.md) over MLflow's proxied artifact routes.
    Paths are below mlflow-artifacts:/ ("1/<run>/artifacts/outputs/model.pkl"); a run's files
    are below its artifact URI, a model registered from local files below "models/"."""

    def __init__(self, workspace):
        self._ws = workspace

    def _send(self, method, path, body=None, query=None):
        ws = self._ws
        route = _ARTIFACT_ROUTE + ("/" + path if path else "")
        return ws._client.tracking_bytes(method, ws.name, route, body, query)

    def put(self, path, data):
        self._send("PUT", path, bytes(data))

    def get(self, path):
        return self._send("GET", path)

    def list(self, folder):
        """[(name, is_dir)] of one folder; [] when nothing is there."""
        doc = json.loads(self._send("GET", "", None, {"path": folder}) or b"{}")
        return [(f["path"].rsplit("/", 1)[-1], bool(f.get("is_dir")))
                for f in doc.get("files", [])]

    def walk(self, folder):
        """The files below folder, as paths relative to it, sorted."""
        out = []
        for name, is_dir in self.list(folder):
            if is_dir:
                out.extend(name + "/" + p for p in self.walk(folder + "/" + name))
            else:
                out.append(name)
        return sorted(out)

    def kind(self, path):
        """"file", "dir", or None when nothing is at path."""
        parent, _, name = path.rpartition("/")
        for entry, is_dir in self.list(parent):
            if entry == name:
                return "dir" if is_dir else "file"
        return None

    def upload(self, local_path, path):
        """A local file, or a folder's files, to path; the artifact paths written."""
        if os.path.isfile(local_path):
            with open(local_path, "rb") as f:
                self.put(path, f.read())
            return [path]
        if not os.path.isdir(local_path):
            raise UserErrorException("no file or folder at %r" % local_path, "FileNotFound")
        written = []
        for root, dirs, files in os.walk(local_path):
            dirs.sort()
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(root, name), local_path)
                written.extend(self.upload(os.path.join(root, name),
                                           path + "/" + rel.replace(os.sep, "/")))
        return written

    def download(self, path, local_path):
        """The file or folder at path to local_path (a folder's files below it)."""
        kind = self.kind(path)
        if kind is None:
            raise UserErrorException("no artifact at %r" % path, "RESOURCE_DOES_NOT_EXIST")
        if kind == "file":
            _write_file(local_path, self.get(path))
            return
        for rel in self.walk(path):
            _write_file(os.path.join(local_path, *rel.split("/")), self.get(path + "/" + rel))


def _write_file(local_path, data):
    folder = os.path.dirname(os.path.abspath(local_path))
    os.makedirs(folder, exist_ok=True)
    with open(local_path, "wb") as f:
        f.write(data)


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
        """The experiment's runs, newest first: the top-level ones, or with include_children
        their child runs too."""
        for doc in self._search_runs():
            if include_children or not _tag(doc, _PARENT_TAG):
                yield Run(self, doc["info"]["run_id"], _doc=doc)

    def _search_runs(self, filter_string=None):
        token = None
        while True:
            body = {"experiment_ids": [self.id], "max_results": 1000}
            if filter_string:
                body["filter"] = filter_string
            if token:
                body["page_token"] = token
            page = self._call("POST", "runs/search", body)
            yield from page.get("runs", [])
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


def _tag(doc, key):
    for t in doc.get("data", {}).get("tags", []):
        if t["key"] == key:
            return t["value"]
    return None


class Run:
    """A run of an experiment.

    What a run logs is kept on MLflow's primitives, so that the mlflow client reads it too:
    - log/log_list: metric `name`, one step per value.
    - log_row/log_table: table `name` is the metrics `name/<column>`, the row number as the
      step, and the tag `tarn.table.<name>` listing the columns (JSON), which marks `name` as a
      table. Cells are numbers. get_metrics() gives {name: {column: [values...]}}, a row a
      column has no value for as None.
    - log_image: the PNG (or the file given) is the artifact `images/<name><ext>`, and the tag
      `tarn.image.<name>` gives its path; get_metrics() gives {name: that path}.
    - upload_file/upload_folder/download_file(s)/get_file_names: the run's artifacts (MLflow's
      proxied artifact store: the lake under the workspace's default datastore).
    - child_run: a run of the same experiment tagged mlflow.parentRunId, as mlflow's nested
      runs are.
    - register_model: a model version (tarn.core.Model) whose source is the run's artifact.
    """

    def __init__(self, experiment, run_id, _doc=None, _job=None):
        self.experiment = experiment
        self.id = run_id
        self._doc = _doc or self._call("GET", "runs/get", query={"run_id": run_id})["run"]
        self._counts = {}
        self._tables = {}   # table name -> its columns, in order
        self._rows = {}     # table name -> the next row's number
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

    def log_row(self, name, description=None, **kwargs):
        """One row of table `name`: log_row("roc", fpr=0.1, tpr=0.6). A column a row leaves
        out reads back as None."""
        self._log_columns(name, {column: [value] for column, value in kwargs.items()})

    def log_table(self, name, value, description=""):
        """Rows of table `name`, given as columns of the same length:
        log_table("roc", {"fpr": [0.0, 0.1], "tpr": [0.0, 0.6]}). Logging the table again
        appends its rows."""
        if not isinstance(value, dict):
            raise UserErrorException("a table is a dict of columns (lists of numbers)",
                                     "InvalidTable")
        self._log_columns(name, {column: list(cells) for column, cells in value.items()})

    def _table_columns(self, name):
        if name not in self._tables:
            listed = self.get_tags().get(_TABLE_TAG + name)
            self._tables[name] = json.loads(listed) if listed else []
        return self._tables[name]

    def _next_row(self, name):
        if name not in self._rows:
            steps = [int(p.get("step", 0)) for c in self._table_columns(name)
                     for p in self._history("%s/%s" % (name, c))]
            self._rows[name] = max(steps) + 1 if steps else 0
        return self._rows[name]

    def _log_columns(self, name, columns):
        if not columns:
            raise UserErrorException("table %r: no columns given" % name, "InvalidTable")
        lengths = {len(cells) for cells in columns.values()}
        if len(lengths) != 1:
            raise UserErrorException("table %r: its columns are not of the same length" % name,
                                     "InvalidTable")
        cells = {c: [_cell(name, c, v) for v in values] for c, values in columns.items()}
        known = self._table_columns(name)
        added = [c for c in columns if c not in known]
        tags = []
        if added or not known:
            tags = [{"key": _TABLE_TAG + name, "value": json.dumps(known + added)}]
        rows, first, now = lengths.pop(), self._next_row(name), _now_ms()
        metrics = [{"key": "%s/%s" % (name, c), "value": _wire(values[row]), "timestamp": now,
                    "step": first + row}
                   for row in range(rows) for c, values in cells.items()]
        # The tag goes with the first batch: a reader never sees columns of no table.
        for start in range(0, max(len(metrics), 1), _BATCH_METRICS):
            body = {"run_id": self.id, "metrics": metrics[start:start + _BATCH_METRICS]}
            if start == 0 and tags:
                body["tags"] = tags
            self._call("POST", "runs/log-batch", body)
        known.extend(added)
        self._rows[name] = first + rows

    def log_image(self, name, path=None, plot=None, description=""):
        """An image: the file at `path`, or `plot` (a matplotlib figure, or pyplot itself)
        saved as PNG. It is the artifact images/<name><ext>; get_metrics() gives that path."""
        if (path is None) == (plot is None):
            raise UserErrorException("log_image takes a path or a plot, one of them",
                                     "InvalidImage")
        if plot is not None:
            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")
            data, ext = buffer.getvalue(), ".png"
        else:
            with open(path, "rb") as f:
                data = f.read()
            ext = os.path.splitext(path)[1] or ".png"
        artifact = "images/" + _artifact_name(name) + ext
        self._artifacts().put(self._artifact_root() + "/" + artifact, data)
        self.tag(_IMAGE_TAG + name, artifact)

    # ----- files (the run's artifacts) -----------------------------------------------------

    def _artifacts(self):
        return _ArtifactStore(self.experiment.workspace)

    def _artifact_uri(self):
        return self._doc["info"].get("artifact_uri") or self._refresh()["info"]["artifact_uri"]

    def _artifact_root(self):
        return _artifact_path(self._artifact_uri())

    def upload_file(self, name, path_or_stream):
        """The file at a local path, or what a stream (an open binary file, io.BytesIO)
        reads, as the run's artifact `name` ("outputs/model.pkl")."""
        if hasattr(path_or_stream, "read"):
            data = path_or_stream.read()
            data = data.encode("utf-8") if isinstance(data, str) else data
        else:
            if not os.path.isfile(path_or_stream):
                raise UserErrorException("no file at %r" % (path_or_stream,), "FileNotFound")
            with open(path_or_stream, "rb") as f:
                data = f.read()
        self._artifacts().put(self._artifact_root() + "/" + _artifact_name(name), data)

    def upload_folder(self, name, path):
        """The files below local folder `path` as the run's artifacts below `name`."""
        if not os.path.isdir(path):
            raise UserErrorException("no folder at %r" % (path,), "FileNotFound")
        self._artifacts().upload(path, self._artifact_root() + "/" + _artifact_name(name))

    def get_file_names(self):
        """The paths of the run's artifacts ("outputs/model.pkl", ...), sorted."""
        return self._artifacts().walk(self._artifact_root())

    def download_file(self, name, output_file_path=None):
        """The run's artifact `name` to output_file_path (a file, or a folder to put it in;
        by default the artifact's file name in the current folder). Returns the local path."""
        name = _artifact_name(name)
        target = output_file_path or posixpath.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, posixpath.basename(name))
        _write_file(target, self._artifacts().get(self._artifact_root() + "/" + name))
        return target

    def download_files(self, prefix=None, output_directory=None, append_prefix=True):
        """The run's artifacts whose paths start with prefix (all of them by default) to
        output_directory (the current folder by default), keeping their paths, less the
        prefix when append_prefix is False. Returns the local paths."""
        prefix = (prefix or "").replace("\\", "/").lstrip("/")
        root = self._artifact_root()
        folder = prefix.rpartition("/")[0]
        names = [(folder + "/" + n if folder else n)
                 for n in self._artifacts().walk(root + ("/" + folder if folder else ""))]
        out = []
        for name in names:
            if not name.startswith(prefix):
                continue
            rel = name if append_prefix else name[len(prefix):].lstrip("/")
            target = os.path.join(output_directory or ".", *rel.split("/"))
            _write_file(target, self._artifacts().get(root + "/" + name))
            out.append(target)
        return out

    # ----- child runs ----------------------------------------------------------------------

    def child_run(self, name=None):
        """A new run of the same experiment, RUNNING, whose parent is this run (the tag
        mlflow.parentRunId, as mlflow's nested runs). It is ended with its complete()."""
        body = {"experiment_id": self.experiment.id, "start_time": _now_ms(),
                "tags": [{"key": _PARENT_TAG, "value": self.id}]}
        if name:
            body["run_name"] = name
        doc = self._call("POST", "runs/create", body)["run"]
        return Run(self.experiment, doc["info"]["run_id"], _doc=doc)

    def get_children(self, recursive=False):
        """This run's child runs (with recursive, theirs too), newest first."""
        flt = "tags.`%s` = '%s'" % (_PARENT_TAG, self.id)
        for doc in self.experiment._search_runs(flt):
            child = Run(self.experiment, doc["info"]["run_id"], _doc=doc)
            yield child
            if recursive:
                yield from child.get_children(recursive=True)

    @property
    def parent(self):
        """The run this one is a child of, or None."""
        parent_id = _tag(self._doc, _PARENT_TAG)
        return Run(self.experiment, parent_id) if parent_id else None

    # ----- models --------------------------------------------------------------------------

    def register_model(self, model_name, model_path=None, tags=None, description=None):
        """Registers the run's artifact model_path (a file or folder, "outputs/model"; by
        default model_name) as a new version of model model_name, made if missing, and
        returns it (tarn.core.Model). Its source is the artifact's URI
        (mlflow-artifacts:/<experiment>/<run>/artifacts/<model_path>) and its run this run, as
        mlflow.register_model("runs:/<run>/<path>") keeps it."""
        from tarn.core.model import Model, _ensure_registered
        path = _artifact_name(model_path or model_name)
        if self._artifacts().kind(self._artifact_root() + "/" + path) is None:
            raise UserErrorException("run %s has no artifact %r to register (its files: "
                                     "run.get_file_names())" % (self.id, path),
                                     "ModelPathNotFound")
        _ensure_registered(self.experiment.workspace, model_name)
        return Model._register_source(self.experiment.workspace, model_name,
                                      self._artifact_uri().rstrip("/") + "/" + path, self.id,
                                      tags, description)

    # ----- reading ------------------------------------------------------------------------

    def _history(self, key):
        """Every point of metric `key`, in step order."""
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
        return points

    def get_metrics(self, name=None):
        """As azureml.core answers: {name: value} for a metric logged once, {name: [values...]}
        for a series, in step order; {name: {column: [values...]}} for a table; {name: its
        artifact path} for an image."""
        doc = self._refresh()
        tags = {t["key"]: t["value"] for t in doc["data"].get("tags", [])}
        tables = {k[len(_TABLE_TAG):]: json.loads(v) for k, v in tags.items()
                  if k.startswith(_TABLE_TAG)}
        images = {k[len(_IMAGE_TAG):]: v for k, v in tags.items() if k.startswith(_IMAGE_TAG)}
        columns = {"%s/%s" % (t, c) for t, cols in tables.items() for c in cols}
        out = {}
        for m in doc["data"].get("metrics", []):
            key = m["key"]
            if key in columns or (name is not None and key != name):
                continue
            values = [_value(p["value"]) for p in self._history(key)]
            out[key] = values[0] if len(values) == 1 else values
        for table, cols in tables.items():
            if name is not None and table != name:
                continue
            cells = {c: {int(p.get("step", 0)): _value(p["value"])
                         for p in self._history("%s/%s" % (table, c))} for c in cols}
            rows = max((max(v) + 1 for v in cells.values() if v), default=0)
            out[table] = {c: [cells[c].get(i) for i in range(rows)] for c in cols}
        for image, path in images.items():
            if name is None or image == name:
                out[image] = path
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

    def log_row(self, name, description=None, **kwargs):
        table = self._metrics.setdefault(name, {})
        for column, value in kwargs.items():
            table.setdefault(column, []).append(value)
        print("Attempted to log row %s:\n%s" % (name, kwargs), file=sys.stdout)

    def log_table(self, name, value, description=""):
        table = self._metrics.setdefault(name, {})
        for column, cells in value.items():
            table.setdefault(column, []).extend(cells)
        print("Attempted to log table %s:\n%s" % (name, value), file=sys.stdout)

    def log_image(self, name, path=None, plot=None, description=""):
        print("Attempted to log image %s" % name, file=sys.stdout)

    def upload_file(self, name, path_or_stream):
        print("Attempted to upload file %s" % name, file=sys.stdout)

    def upload_folder(self, name, path):
        print("Attempted to upload folder %s from %s" % (name, path), file=sys.stdout)

    def child_run(self, name=None):
        return _OfflineRun()

    def tag(self, key, value=None):
        self._tags[key] = value

    def set_tags(self, tags):
        self._tags.update(tags)

    def get_tags(self):
        return dict(self._tags)

    def get_metrics(self, name=None):
        out = {k: (v if isinstance(v, dict) else v[0] if len(v) == 1 else list(v))
               for k, v in self._metrics.items()}
        return {name: out[name]} if name is not None and name in out else (
            {} if name is not None else out)

    def complete(self):
        pass

    def fail(self, error_details=None):
        pass

    def get_status(self):
        return "Running"
