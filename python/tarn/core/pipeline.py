"""Pipelines (docs/pipelines.md): stored in a workspace, run by tarnd as write, audit, publish.

    from tarn.core import Pipeline, Workspace
    ws = Workspace.from_config()
    p = Pipeline.from_yaml(ws, "sales.yaml")      # checks it and stores it
    run = p.submit()                              # a PipelineRun, queued on tarnd
    run.wait_for_completion(show_output=True)     # progress per step, then the report
    run.status, run.steps, run.error
    p.get_runs()                                  # the history, newest first

A failed run (a gate, an expectation with on_fail: fail, refused SQL) is not an exception:
`run.status` is "failed" and `run.error` says which step and why; wait_for_completion(
raise_on_error=True) raises it instead.
"""

import sys
import time

from tarn.core.exceptions import TarnError, UserErrorException

_ENDED = ("succeeded", "failed")


class Pipeline:
    """A pipeline stored in a workspace."""

    def __init__(self, workspace, name, _doc=None):
        self.workspace = workspace
        self.name = name
        self._doc = _doc if _doc is not None else workspace._client.get_pipeline(
            workspace.name, name)

    @staticmethod
    def from_yaml(workspace, path_or_text):
        """Stores pipeline.yaml (a path, or the text itself) in the workspace; the name is the
        file's `name:`. Errors carry the file's line and column."""
        text = path_or_text
        if "\n" not in path_or_text:
            with open(path_or_text, encoding="utf-8") as f:
                text = f.read()
        name = None
        for line in text.splitlines():
            if line.startswith("name:"):
                name = line.split(":", 1)[1].strip().strip("'\"")
                break
        if not name:
            raise UserErrorException("the pipeline file has no top-level `name:`",
                                     "InvalidPipeline")
        doc = workspace._client.put_pipeline(workspace.name, name, text)
        return Pipeline(workspace, name, _doc=doc)

    @staticmethod
    def get(workspace, name):
        return Pipeline(workspace, name)

    @staticmethod
    def list(workspace):
        docs = workspace._client.list_pipelines(workspace.name).get("pipelines", [])
        return [Pipeline(workspace, d["name"], _doc=d) for d in docs]

    @property
    def definition(self):
        return self._doc.get("definition", "")

    @property
    def steps(self):
        return self._doc.get("steps", [])

    def submit(self, wait_ms=0):
        """Queues a run on tarnd and returns it."""
        doc = self.workspace._client.start_pipeline_run(self.workspace.name, self.name, wait_ms)
        return PipelineRun(self.workspace, doc)

    def get_runs(self, limit=20):
        docs = self.workspace._client.list_pipeline_runs(self.workspace.name, self.name, limit)
        return [PipelineRun(self.workspace, d) for d in docs.get("runs", [])]

    def delete(self):
        self.workspace._client.delete_pipeline(self.workspace.name, self.name)

    def __repr__(self):
        return "Pipeline(workspace=%r, name=%r)" % (self.workspace.name, self.name)


class PipelineRun:
    """One run: its status, steps (rows, expectations, checks with example rows) and lineage."""

    def __init__(self, workspace, doc):
        self.workspace = workspace
        self._doc = doc

    @staticmethod
    def get(workspace, run_id):
        return PipelineRun(workspace, workspace._client.get_pipeline_run(workspace.name, run_id, 0))

    id = property(lambda self: self._doc.get("id"))
    number = property(lambda self: self._doc.get("number"))
    status = property(lambda self: self._doc.get("status"))
    steps = property(lambda self: self._doc.get("steps", []))
    error = property(lambda self: self._doc.get("error"))
    lineage = property(lambda self: self._doc.get("lineage", {}))

    def get_details(self):
        return dict(self._doc)

    def refresh(self, wait_ms=0):
        self._doc = self.workspace._client.get_pipeline_run(self.workspace.name, self.id, wait_ms)
        return self

    def wait_for_completion(self, show_output=False, timeout=3600, raise_on_error=False):
        """Waits for the run to end, printing each step's progress when show_output."""
        deadline = time.monotonic() + timeout
        seen = {}
        while True:
            if show_output:
                for st in self.steps:
                    status = st.get("status")
                    if seen.get(st.get("name")) != status:
                        seen[st.get("name")] = status
                        line = "  step %s: %s" % (st.get("name"), status)
                        if status == "succeeded":
                            out = st.get("output", {})
                            line += " (%s rows in, %s out) -> %s version %s" % (
                                st.get("rows_in"), st.get("rows_out"), out.get("dataset"),
                                out.get("version"))
                        elif status == "failed":
                            line += ": " + st.get("error", "")
                        print(line, file=sys.stderr)
            if self.status in _ENDED:
                break
            if time.monotonic() > deadline:
                raise TarnError("pipeline run %s has not ended after %s s" % (self.id, timeout),
                                "Timeout")
            self.refresh(wait_ms=2000)
        if raise_on_error and self.status == "failed":
            raise TarnError(self.error or "the run failed", "PipelineRunFailed")
        return self.get_details()

    def __repr__(self):
        return "PipelineRun(id=%r, number=%r, status=%r)" % (self.id, self.number, self.status)
