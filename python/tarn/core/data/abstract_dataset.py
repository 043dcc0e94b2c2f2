"""What tabular and file datasets share: the definition, registration, lookup and reading the
registered bytes.

A dataset object is a definition (kind, format, paths, options, transforms: the body of
docs/catalog-api.md) plus, once registered, the version it came from. Reading always goes to a
registered version's files (pinned extents on a local datastore, etag-checked remote files on an
external one). An unregistered dataset is read through a short-lived registration
(tarn-tmp-<uuid>, deleted right after): tarnd resolves the globs and serves the files; see
docs/sdk.md.
"""

import contextlib
import copy
import datetime
import json
import uuid
import warnings

from tarn.core.exceptions import UserErrorException


def _time(text):
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _warn_rejected(doc):
    """A CSV version registered without lines its files could not be read at says so."""
    n = doc.get("rejected_lines") or 0
    if not n:
        return
    shown = "; ".join("%s line %s (%s)" % (r.get("path"), r.get("line"), r.get("error"))
                      for r in (doc.get("rejected") or [])[:3])
    warnings.warn(
        "dataset %s version %s was registered without %d line(s) its CSV files could not be "
        "read at, and reads without them: %s%s. The dataset's rejected_lines lists them. "
        "Fix those lines and register again to keep them. For a line "
        "left out because a value does not convert to its column's detected type, give that "
        "column's type in set_column_types instead: such values then read as nulls "
        "(on_error='null'), or fail the read naming the file (on_error='fail')." % (doc.get("name"), doc.get("version"), n, shown, "; ..." if n > 3 else ""),
        UserWarning, stacklevel=3)


class AbstractDataset:
    def __init__(self):
        raise UserErrorException("create datasets with Dataset.Tabular / Dataset.File factories "
                                 "or Dataset.get_by_name", "NotConstructible")

    @classmethod
    def _new(cls, workspace, definition, version_doc=None, source=None):
        ds = object.__new__(cls)
        ds._workspace = workspace
        ds._definition = definition
        ds._doc = version_doc        # the registered version this object is, if any
        ds._source = source          # (name, version, definition) whose files are read
        return ds

    @classmethod
    def _from_version(cls, workspace, doc):
        from tarn.core.data.file_dataset import FileDataset
        from tarn.core.data.tabular_dataset import TabularDataset
        kind = TabularDataset if doc.get("kind") == "tabular" else FileDataset
        definition = copy.deepcopy(doc.get("definition") or {})
        definition.setdefault("kind", doc.get("kind"))
        return kind._new(workspace, definition, doc, (doc["name"], doc["version"], definition))

    def _derive(self, transform):
        """A new, unregistered dataset: this one plus one more transform."""
        definition = copy.deepcopy(self._definition)
        definition.setdefault("transforms", []).append(transform)
        return self._with_definition(definition)

    def _with_definition(self, definition):
        """A new, unregistered dataset over the same files with another definition."""
        source = None
        if self._source:
            source = (self._source[0], self._source[1], definition)
        return type(self)._new(self._workspace, definition, None, source)

    # ----- attributes (azureml's) -----------------------------------------------------------
    @property
    def name(self):
        return self._doc.get("name") if self._doc else None

    @property
    def version(self):
        return self._doc.get("version") if self._doc else None

    @property
    def id(self):
        return self._doc.get("id") if self._doc else None

    @property
    def description(self):
        return self._doc.get("description") if self._doc else None

    @property
    def tags(self):
        return dict(self._doc.get("tags") or {}) if self._doc else {}

    @property
    def data_changed_time(self):
        return _time(self._doc.get("data_changed_time")) if self._doc else None

    @property
    def is_archived(self):
        return bool(self._doc) and self._doc.get("state") == "archived"

    @property
    def workspace(self):
        return self._workspace

    def as_named_input(self, name):
        """This registered version as the input `name` of a submitted run (azureml's
        DatasetConsumptionConfig): pass `.as_download()` among ScriptRunConfig's arguments, and
        the script gets the folder where tarnd put exactly this version's files (also
        Run.get_context().input_datasets[name])."""
        self._need_registered("as_named_input")
        from tarn.core.compute import DatasetConsumptionConfig
        return DatasetConsumptionConfig(name, self)

    def _need_registered(self, what):
        if not self._doc:
            raise UserErrorException("%s needs a registered dataset; register() it first" % what,
                                     "NotRegistered")

    def _need_workspace(self):
        if self._workspace is None:
            raise UserErrorException("this dataset is defined by URLs only; pass workspace= to "
                                     "its factory or register() it first", "NoWorkspace")
        return self._workspace

    def __repr__(self):
        info = {"source": self._definition.get("paths"),
                "definition": self._definition.get("transforms", [])}
        if self._doc:
            info["registration"] = {k: self._doc.get(k) for k in (
                "id", "name", "version", "description", "tags")}
            info["registration"]["workspace"] = self._workspace.name
        return "%s\n%s" % (type(self).__name__, json.dumps(info, indent=2, default=str))

    @property
    def rejected_lines(self):
        """The CSV lines a registered version left out because they could not be read: [{path,
        line, error}], the first 100 (the version's 'rejected_lines' counts them all)."""
        return list((self._doc or {}).get("rejected") or [])

    # ----- partitions -----------------------------------------------------------------------
    @property
    def partition_keys(self):
        """The partition keys of a registered version (partition_format, or Hive folders of a
        tabular dataset); [] for an unregistered dataset."""
        return list((self._doc or {}).get("partition_keys") or [])

    def get_partition_key_values(self, partition_keys=None):
        keys = list(partition_keys or self.partition_keys)
        seen, out = set(), []
        with self._read_source() as source:
            for f in self._files(source):
                row = tuple((k, f["partition"].get(k)) for k in keys)
                if row not in seen:
                    seen.add(row)
                    out.append(dict(row))
        return out

    # ----- registration ---------------------------------------------------------------------
    def register(self, workspace, name, description=None, tags=None, create_new_version=False):
        """Stores a new version: tarnd resolves the paths into a manifest, pins the files on a
        local datastore and profiles tabular data. Nothing is stored on any failure."""
        doc = workspace._client.register_version(workspace.name, name, self._definition,
                                                 description or "", tags or {},
                                                 bool(create_new_version))
        _warn_rejected(doc)
        return AbstractDataset._from_version(workspace, doc)

    def _update(self, description=None, tags=None, add_tags=None, remove_tags=None):
        self._need_registered("update")
        doc = self._workspace._client.update_version(self._workspace.name, self.name,
                                                     self.version, description, tags, add_tags,
                                                     remove_tags)
        self._doc = doc
        return self

    def update(self, description=None, tags=None):
        """Updates this version's description and/or replaces its tags."""
        return self._update(description=description, tags=tags)

    def add_tags(self, tags=None):
        return self._update(add_tags=tags or {})

    def remove_tags(self, tags=None):
        return self._update(remove_tags=list(tags or []))

    def archive(self):
        """Archives this version; on a local datastore its pins are released."""
        self._need_registered("archive")
        self._doc = self._workspace._client.set_version_state(self._workspace.name, self.name,
                                                              self.version, True)

    def reactivate(self):
        self._need_registered("reactivate")
        self._doc = self._workspace._client.set_version_state(self._workspace.name, self.name,
                                                              self.version, False)

    def unregister_all_versions(self):
        """Deletes every version of this dataset's name (lake data stays)."""
        self._need_registered("unregister_all_versions")
        self._workspace._client.delete_dataset(self._workspace.name, self.name)

    # ----- reading --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _read_source(self):
        """(name, version, definition) whose registered files hold this dataset's data."""
        if self._source:
            yield self._source
            return
        ws = self._need_workspace()
        client = ws._client
        name = "tarn-tmp-" + uuid.uuid4().hex
        base = dict(self._definition, transforms=[])
        doc = client.register_version(ws.name, name, base, "temporary registration for a read",
                                      {"tarn.temporary": "true"}, False)
        try:
            yield (name, doc["version"], self._definition)
        finally:
            try:
                client.delete_dataset(ws.name, name)
            except Exception:  # pragma: no cover - the read's own error matters more
                pass

    def _files(self, source):
        ws = self._need_workspace()
        return ws._client.list_files(ws.name, source[0], source[1])

    @staticmethod
    def get_by_name(workspace, name, version="latest"):
        doc = workspace._client.get_dataset(workspace.name, name, str(version))
        return AbstractDataset._from_version(workspace, doc)

    @staticmethod
    def get_by_id(workspace, id, **kwargs):
        return AbstractDataset._from_version(workspace,
                                             workspace._client.get_dataset_by_id(workspace.name,
                                                                                 id))

    @staticmethod
    def get_all(workspace):
        docs = workspace._client.list_datasets(workspace.name, False).get("datasets", [])
        return {d["name"]: AbstractDataset._from_version(workspace, d) for d in docs}
