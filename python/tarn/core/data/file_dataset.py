"""FileDataset, as azureml.data.FileDataset: references to files, downloaded as registered."""

import os
import posixpath
import tempfile

from tarn.core.data._expression import Column, Expression
from tarn.core.data.abstract_dataset import AbstractDataset
from tarn.core.exceptions import UserErrorException

_NOT_FOUND = {"PathNotFound", "BlobNotFound", "DatasetDataGone", "NotFound"}


def _common_dir(paths):
    dirs = [posixpath.dirname(p).split("/") for p in paths]
    if not dirs:
        return ""
    common = dirs[0]
    for d in dirs[1:]:
        n = 0
        while n < min(len(common), len(d)) and common[n] == d[n]:
            n += 1
        common = common[:n]
    return "/".join(x for x in common if x)


def _relative(paths):
    base = _common_dir(paths)
    return [p[len(base):].lstrip("/") if base else p for p in paths]


def _literal_glob(path):
    """A file's path as a glob that matches only it: wildcard characters in a class."""
    return "".join("[%s]" % c if c in "*?[" else c for c in path)


class _FileMetadata:
    """file_dataset.file_metadata['Size']: the file facts filter() tests."""

    _KNOWN = ("Size", "CanSeek")

    def __getitem__(self, name):
        if name in ("CreatedTime", "ModifiedTime", "StreamInfo"):
            raise UserErrorException(
                "Tarn's dataset manifests do not record %s; filter on file_metadata['Size'] "
                "or on partition keys (partition_format) instead" % name, "InvalidColumns")
        if name not in self._KNOWN:
            raise UserErrorException("file_metadata has %s, not %r" % (
                ", ".join(self._KNOWN), name), "InvalidColumns")
        return Column(name)


class FileDataset(AbstractDataset):
    # ----- filtering (file metadata and partition keys) --------------------------------------
    @property
    def file_metadata(self):
        return _FileMetadata()

    def __getitem__(self, name):
        """A partition key (partition_format), for filter()."""
        return Column(name)

    def filter(self, expression):
        """The files for which the expression holds, over file_metadata['Size'] and
        ['CanSeek'] and the partition keys: ds.filter(ds.file_metadata['Size'] < 100000),
        ds.filter(ds['userid'] == 'user1'). Returns an unregistered dataset naming the
        matching files (register it to pin their bytes)."""
        if not isinstance(expression, Expression):
            raise UserErrorException("filter takes an expression such as "
                                     "ds.file_metadata['Size'] < 100000", "InvalidArgument")
        stores = {p.get("datastore") for p in self._definition.get("paths") or []}
        if len(stores) != 1 or None in stores:
            raise UserErrorException("FileDataset.filter needs a dataset over one datastore "
                                     "(not URLs, not several datastores)", "InvalidArgument")
        keep = []
        with self._read_source() as source:
            for f in self._files(source):
                row = dict(f.get("partition") or {}, Size=f["size"], CanSeek=True)
                try:
                    if expression.test(row):
                        keep.append(f["path"])
                except KeyError as e:
                    raise UserErrorException(
                        "%s is neither file metadata (Size, CanSeek) nor a partition key of "
                        "this dataset" % e.args[0], "InvalidColumns") from None
        if not keep:
            raise UserErrorException("no file of the dataset matches the filter",
                                     "EmptyDataset")
        definition = dict(self._definition, paths=[
            {"datastore": next(iter(stores)), "path": _literal_glob(p)} for p in keep])
        return type(self)._new(self._workspace, definition)

    def to_path(self):
        """The files' paths relative to their common directory, each with a leading '/'."""
        with self._read_source() as source:
            paths = [f["path"] for f in self._files(source)]
        return ["/" + p for p in _relative(paths)]

    def download(self, target_path=None, overwrite=False, ignore_not_found=False, *,
                 ignore_drift=False):
        """Downloads the registered bytes of every file under target_path (a new temporary
        directory when None), keeping paths relative to the files' common directory. Each file
        is written to a temporary name and renamed into place. Returns the local paths."""
        target = target_path or tempfile.mkdtemp(prefix="tarn-download-")
        ws = self._need_workspace()
        out = []
        with self._read_source() as source:
            files = self._files(source)
            rels = _relative([f["path"] for f in files])
            for f, rel in zip(files, rels):
                dest = os.path.join(target, *rel.split("/"))
                if os.path.exists(dest) and not overwrite:
                    raise UserErrorException("%s already exists; pass overwrite=True to replace "
                                             "it" % dest, "FileExists")
                try:
                    ws._client.download_file(ws.name, source[0], source[1], f["index"],
                                             f["path"], f["size"], dest, bool(ignore_drift))
                except UserErrorException as e:
                    if ignore_not_found and e.code in _NOT_FOUND:
                        continue
                    raise
                out.append(dest)
        return out

    def mount(self, mount_point=None, **kwargs):
        """A MountContext that mounts the registered files read-only (FUSE) at mount_point (a
        new temporary directory when None), at their paths relative to their common directory,
        as download() lays them out. Use it as a context manager, or call start() and stop().
        Nothing is copied: reads fetch the registered bytes on demand. Keyword: ignore_drift."""
        return MountContext(self, mount_point, bool(kwargs.pop("ignore_drift", False)))


class MountContext:
    """azureml.data.dataset_mount.MountContext: start() mounts, stop() unmounts; `with`
    does both. mount_point is the directory the files appear under."""

    def __init__(self, dataset, mount_point, ignore_drift):
        self._dataset = dataset
        self._own_dir = mount_point is None
        self.mount_point = mount_point or tempfile.mkdtemp(prefix="tarn-mount-")
        self._ignore_drift = ignore_drift
        self._mount = None
        self._source = None

    def start(self):
        if self._mount is not None:
            return self
        ws = self._dataset._need_workspace()
        source = self._dataset._read_source()
        name, version, _ = source.__enter__()
        try:
            os.makedirs(self.mount_point, exist_ok=True)
            self._mount = ws._client.mount(ws.name, name, version, self.mount_point,
                                           self._ignore_drift)
        except BaseException:
            source.__exit__(None, None, None)
            raise
        self._source = source
        return self

    def stop(self):
        if self._mount is None:
            return
        try:
            self._mount.stop()
        finally:
            self._mount = None
            source, self._source = self._source, None
            source.__exit__(None, None, None)
            if self._own_dir:
                try:
                    os.rmdir(self.mount_point)
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass
