"""Registered models (azureml.core's Model) over the workspace's MLflow model registry
(docs/mlflow.md): a Model is one version of a registered model, so a model registered here is
one mlflow's client loads (models:/<name>/<version>), and the other way round.

    from tarn.core import Model
    model = run.register_model("diabetes", "outputs/model")  # the run's artifact folder
    model = Model.register(ws, "model.pkl", "diabetes")        # a local file (or folder)
    model.name, model.version                                  # "diabetes", 2
    Model.get_model_path("diabetes", _workspace=ws)   # ./azureml-models/diabetes/2/model.pkl
    Model(ws, "diabetes", version=1).download("here")          # "here/model"
    Model.list(ws, name="diabetes")                            # every version, newest first

A version's `source` is the URI of its files in the workspace's artifact store: a run's
artifact (mlflow-artifacts:/<experiment>/<run>/artifacts/<path>, as mlflow.register_model keeps
a run's model) or, for Model.register, the files it uploaded
(mlflow-artifacts:/models/<name>/<upload id>/<file or folder name>). Reading a version goes
through model-versions/get-download-uri, which also resolves the runs:/ and models:/ sources
that MLflow's clients register.
"""

from __future__ import annotations

import datetime
import os
import uuid
from typing import Dict, List, Optional

from tarn.core.exceptions import UserErrorException
from tarn.core.run import _ArtifactStore, _artifact_path

_LOCAL_FOLDER = "azureml-models"


def _call(workspace, method, rpc, body=None, query=None):
    return workspace._client.tracking(method, workspace.name, rpc, body, query)


def _tags_body(tags):
    return [{"key": str(k), "value": "" if v is None else str(v)} for k, v in (tags or {}).items()]


def _name_filter(name):
    # The registry's filter has no escapes: quote with whichever quote the name lacks.
    quote = '"' if "'" in name else "'"
    return "name = %s%s%s" % (quote, name, quote)


class Model:
    """One version of a registered model. Model(ws, name) is its latest version;
    Model(ws, name, version=2) or Model(ws, id="name:2") a given one."""

    def __init__(self, workspace, name: Optional[str] = None, id: Optional[str] = None,
                 version: Optional[int] = None, _doc: Optional[dict] = None) -> None:
        self.workspace = workspace
        if _doc is None:
            if id:
                name, _, version = id.rpartition(":")
            if not name:
                raise UserErrorException("a Model needs a name (or an id, name:version)",
                                         "InvalidModel")
            if version is None:
                _doc = _latest_version(workspace, name)
            else:
                _doc = _call(workspace, "GET", "model-versions/get",
                             query={"name": name, "version": str(version)})["model_version"]
        self._doc = _doc

    @property
    def name(self) -> str:
        return self._doc["name"]

    @property
    def version(self) -> int:
        return int(self._doc["version"])

    @property
    def id(self) -> str:
        return "%s:%d" % (self.name, self.version)

    @property
    def description(self) -> str:
        return self._doc.get("description", "")

    @property
    def tags(self) -> Dict[str, str]:
        return {t["key"]: t["value"] for t in self._doc.get("tags", [])}

    @property
    def run_id(self) -> Optional[str]:
        return self._doc.get("run_id") or None

    @property
    def url(self) -> str:
        """The source the version was registered with."""
        return self._doc.get("source", "")

    @property
    def created_time(self) -> Optional[datetime.datetime]:
        ms = self._doc.get("creation_timestamp")
        if ms is None:
            return None
        return datetime.datetime.fromtimestamp(int(ms) / 1000, tz=datetime.timezone.utc)

    # ----- registering ---------------------------------------------------------------------

    @staticmethod
    def register(workspace, model_path: str, model_name: str,
                 tags: Optional[Dict[str, str]] = None,
                 description: Optional[str] = None) -> "Model":
        """Uploads a local file or folder to the workspace's artifact store and registers it
        as a new version of model_name (made if missing)."""
        local = os.path.abspath(model_path)
        if not os.path.exists(local):
            raise UserErrorException("no file or folder at %r to register" % model_path,
                                     "ModelPathNotFound")
        _ensure_registered(workspace, model_name)  # the registry checks the name first
        path = "models/%s/%s/%s" % (model_name, uuid.uuid4().hex, os.path.basename(local))
        _ArtifactStore(workspace).upload(local, path)
        return Model._register_source(workspace, model_name, "mlflow-artifacts:/" + path, None,
                                      tags, description)

    @staticmethod
    def _register_source(workspace, model_name, source, run_id, tags, description):
        """A new version of model_name (which exists) whose files are at source."""
        body = {"name": model_name, "source": source, "tags": _tags_body(tags)}
        if run_id:
            body["run_id"] = run_id
        if description:
            body["description"] = description
        doc = _call(workspace, "POST", "model-versions/create", body)["model_version"]
        return Model(workspace, _doc=doc)

    # ----- reading -------------------------------------------------------------------------

    def _source_path(self) -> str:
        uri = _call(self.workspace, "GET", "model-versions/get-download-uri",
                    query={"name": self.name, "version": str(self.version)})["artifact_uri"]
        return _artifact_path(uri)

    def download(self, target_dir: str = ".", exist_ok: bool = False) -> str:
        """The version's file or folder into target_dir, under its registered name; returns
        its local path ("target_dir/model.pkl")."""
        path = self._source_path()
        local = os.path.abspath(os.path.join(target_dir, path.rsplit("/", 1)[-1]))
        if os.path.exists(local) and not exist_ok:
            raise UserErrorException("%s exists (exist_ok=True overwrites its files)" % local,
                                     "FileExists")
        _ArtifactStore(self.workspace).download(path, local)
        return local

    @staticmethod
    def get_model_path(model_name: str, version: Optional[int] = None,
                       _workspace=None) -> str:
        """The local path of a model version's file or folder, as azureml gives it: with
        _workspace, downloaded into ./azureml-models/<name>/<version>/; without, the copy
        already there (the highest version when none is given), else downloaded from the
        workspace of the run this script is part of."""
        if _workspace is None:
            local = _local_copy(model_name, version)
            if local:
                return local
            from tarn.core.run import Run, _OfflineRun
            context = Run.get_context()
            if isinstance(context, _OfflineRun):
                raise UserErrorException(
                    "model %s is not in ./%s and this script is not part of a run: pass "
                    "_workspace=ws" % (model_name, _LOCAL_FOLDER), "ModelNotFound")
            _workspace = context.experiment.workspace
        model = Model(_workspace, model_name, version=version)
        folder = os.path.join(_LOCAL_FOLDER, model.name, str(model.version))
        return model.download(folder, exist_ok=True)

    @staticmethod
    def list(workspace, name: Optional[str] = None, latest: bool = False) -> List["Model"]:
        """The workspace's model versions (of one model, or all), newest first; with latest,
        each model's latest version only."""
        docs, token = [], None
        while True:
            query = {"max_results": "1000"}
            if name:
                query["filter"] = _name_filter(name)
            if token:
                query["page_token"] = token
            page = _call(workspace, "GET", "model-versions/search", query=query)
            docs.extend(page.get("model_versions", []))
            token = page.get("next_page_token")
            if not token:
                break
        docs.sort(key=lambda d: (-int(d.get("creation_timestamp", 0)), -int(d["version"])))
        if latest:
            newest = {}
            for d in docs:
                if d["name"] not in newest or int(d["version"]) > int(newest[d["name"]]["version"]):
                    newest[d["name"]] = d
            docs = [d for d in docs if newest[d["name"]] is d]
        return [Model(workspace, _doc=d) for d in docs]

    def __repr__(self):
        return "Model(workspace=%s, name=%s, id=%s, version=%d, tags=%s)" % (
            self.workspace.name, self.name, self.id, self.version, self.tags)


def _ensure_registered(workspace, name):
    try:
        _call(workspace, "POST", "registered-models/create", {"name": name})
    except UserErrorException as e:
        if e.code != "RESOURCE_ALREADY_EXISTS":
            raise


def _latest_version(workspace, name):
    versions = Model.list(workspace, name=name)
    if not versions:
        raise UserErrorException("the workspace has no model %r (or none of its versions)"
                                 % name, "ModelNotFound")
    return max(versions, key=lambda m: m.version)._doc


def _local_copy(name, version):
    """./azureml-models/<name>/<version>/<its file or folder>, if there."""
    folder = os.path.join(_LOCAL_FOLDER, name)
    if version is None:
        found = [v for v in os.listdir(folder) if v.isdigit()] if os.path.isdir(folder) else []
        if not found:
            return None
        version = max(found, key=int)
    folder = os.path.join(folder, str(version))
    entries = os.listdir(folder) if os.path.isdir(folder) else []
    return os.path.abspath(os.path.join(folder, entries[0])) if len(entries) == 1 else None
