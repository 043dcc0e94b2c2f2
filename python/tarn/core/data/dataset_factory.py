"""Dataset factories, as azureml.data.dataset_factory (Dataset.Tabular / Dataset.File), and
DataType for set_column_types."""

import os

from tarn.core.exceptions import UserErrorException


class DataType:
    """A column type for set_column_types."""

    def __init__(self, spec):
        self._spec = spec

    @staticmethod
    def to_string():
        return DataType("string")

    @staticmethod
    def to_long():
        return DataType("long")

    @staticmethod
    def to_float(decimal_mark="."):
        return DataType("float")

    @staticmethod
    def to_bool():
        return DataType("bool")

    @staticmethod
    def to_datetime(formats=None):
        if isinstance(formats, (list, tuple)):
            formats = formats[0] if formats else None
        return DataType("datetime:" + formats if formats else "datetime")

    def __repr__(self):
        return "DataType(%r)" % self._spec


def _types(set_column_types):
    if not set_column_types:
        return {}
    out = {}
    for k, v in set_column_types.items():
        out[k] = v._spec if isinstance(v, DataType) else str(v)
    return out


def _paths(path):
    """azureml path forms -> (workspace or None, [{"datastore","path"} | {"url"}])."""
    from tarn.core.datastore import Datastore
    items = path if isinstance(path, list) else [path]
    if not items:
        raise UserErrorException("no path given", "InvalidPaths")
    out, ws, kinds = [], None, set()
    for p in items:
        if hasattr(p, "_as_tuple"):  # a DataPath or DataReference
            p = p._as_tuple()
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], Datastore):
            store, rel = p
            rels = rel if isinstance(rel, list) else [rel]
            for r in rels:
                if not isinstance(r, str):
                    raise UserErrorException("a datastore path must be a string, not %r" % (r,),
                                             "InvalidPaths")
                out.append({"datastore": store.name, "path": r})
            ws = ws or store.workspace
            kinds.add("datastore")
        elif isinstance(p, str):
            if "://" not in p:
                raise UserErrorException(
                    "'%s' is neither a URL nor a (datastore, 'path') tuple" % p, "InvalidPaths")
            out.append({"url": p})
            kinds.add("url")
        else:
            raise UserErrorException("unsupported path %r: use (datastore, 'glob') or a URL"
                                     % (p,), "InvalidPaths")
    if len(kinds) > 1:
        raise UserErrorException("datastore paths and URLs cannot be mixed in one dataset",
                                 "InvalidPaths")
    return ws, out


def _join_rel(*parts):
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def _validate(ws, paths):
    """Client-side checks at creation: the datastores exist. The globs are resolved, and the
    data read, when the dataset is registered or read."""
    if ws is None:
        return
    for name in {p["datastore"] for p in paths if "datastore" in p}:
        ws._client.get_datastore(ws.name, name)
    for p in paths:
        if "path" in p and not p["path"].strip("/ "):
            raise UserErrorException("an empty glob names no file", "InvalidPaths")


class TabularDatasetFactory:
    @staticmethod
    def _make(fmt, path, validate, options, workspace=None):
        from tarn.core.data.tabular_dataset import TabularDataset
        ws, paths = _paths(path)
        ws = ws or workspace
        if validate:
            _validate(ws, paths)
        definition = {"kind": "tabular", "format": fmt, "paths": paths, "options": options,
                      "transforms": []}
        return TabularDataset._new(ws, definition)

    @staticmethod
    def from_delimited_files(path, validate=True, include_path=False, infer_column_types=True,
                             set_column_types=None, separator=",", header=True,
                             partition_format=None, support_multi_line=False,
                             empty_as_string=False, encoding="utf8", *, workspace=None):
        if header not in (True, False):
            # azureml's PromoteHeadersBehavior values: 0 = no header, anything else = header.
            header = bool(getattr(header, "value", header))
        return TabularDatasetFactory._make("csv", path, validate, {
            "separator": separator, "header": bool(header),
            "infer_column_types": bool(infer_column_types),
            "set_column_types": _types(set_column_types), "partition_format": partition_format,
            "include_path": bool(include_path), "support_multi_line": bool(support_multi_line),
            "encoding": encoding, "empty_as_string": bool(empty_as_string)}, workspace)

    @staticmethod
    def from_parquet_files(path, validate=True, include_path=False, set_column_types=None,
                           partition_format=None, *, workspace=None):
        return TabularDatasetFactory._make("parquet", path, validate, {
            "set_column_types": _types(set_column_types), "partition_format": partition_format,
            "include_path": bool(include_path)}, workspace)

    @staticmethod
    def register_pandas_dataframe(dataframe, target, name, description=None, tags=None,
                                  show_progress=True, row_group_size=None,
                                  make_target_path_unique=True):
        """Writes the DataFrame as Parquet under target (in a new folder of its own when
        make_target_path_unique) and registers it as the next version of the tabular dataset
        `name`. Returns the registered TabularDataset."""
        import tempfile
        import uuid
        from tarn.core import _transfer
        store, path = _target(target, "register_pandas_dataframe")
        if make_target_path_unique:
            path = _join_rel(path, uuid.uuid4().hex)
        with tempfile.TemporaryDirectory(prefix="tarn-df-") as tmp:
            local = os.path.join(tmp, "part-00000.parquet")
            try:
                dataframe.to_parquet(local, index=False, row_group_size=row_group_size)
            except ImportError as e:
                raise UserErrorException("writing the DataFrame needs pyarrow: %s" % e,
                                         "MissingDependency") from None
            _transfer.upload_files(store, [local], relative_root=tmp, target_path=path,
                                   overwrite=True, show_progress=show_progress)
        ds = TabularDatasetFactory.from_parquet_files((store, path), validate=False)
        return ds.register(store.workspace, name, description=description, tags=tags,
                           create_new_version=True)

    @staticmethod
    def from_json_lines_files(path, validate=True, include_path=False, set_column_types=None,
                              partition_format=None, invalid_lines="error", encoding="utf8", *,
                              workspace=None):
        return TabularDatasetFactory._make("jsonl", path, validate, {
            "set_column_types": _types(set_column_types), "partition_format": partition_format,
            "include_path": bool(include_path), "invalid_lines": invalid_lines,
            "encoding": encoding}, workspace)


def _target(target, what):
    """A (datastore, path) tuple, DataPath or DataReference -> (datastore, path)."""
    from tarn.core.datastore import Datastore
    if hasattr(target, "_as_tuple"):
        target = target._as_tuple()
    if isinstance(target, Datastore):
        target = (target, "")
    if not (isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], Datastore)
            and isinstance(target[1] or "", str)):
        raise UserErrorException(
            "%s needs its target as (datastore, 'path') or DataPath(datastore, 'path'), not %r"
            % (what, target), "InvalidPaths")
    return target[0], (target[1] or "").strip("/")


class FileDatasetFactory:
    @staticmethod
    def upload_directory(src_dir, target, pattern=None, overwrite=False, show_progress=True):
        """Uploads the files under the local src_dir (those matching the glob `pattern`, when
        given) to target, keeping their relative paths, and returns a FileDataset of them."""
        from tarn.core import _transfer
        store, path = _target(target, "upload_directory")
        files = _transfer.local_files(src_dir, pattern)
        if not files:
            raise UserErrorException("no file under %s%s to upload" % (
                src_dir, " matches %r" % pattern if pattern else ""), "EmptyDataset")
        _transfer.upload_files(store, files, relative_root=src_dir, target_path=path,
                               overwrite=overwrite, show_progress=show_progress)
        if pattern is None:
            return FileDatasetFactory.from_files((store, path or "**"), validate=False)
        rels = [_join_rel(path, os.path.relpath(f, src_dir).replace(os.sep, "/"))
                for f in files]
        return FileDatasetFactory.from_files((store, rels), validate=False)

    @staticmethod
    def from_files(path, validate=True, partition_format=None, is_file=False, *, workspace=None):
        from tarn.core.data.file_dataset import FileDataset
        ws, paths = _paths(path)
        ws = ws or workspace
        if validate:
            _validate(ws, paths)
        definition = {"kind": "file", "paths": paths}
        if partition_format:
            definition["options"] = {"partition_format": partition_format}
        return FileDataset._new(ws, definition)
