"""azureml:// lake paths for the Python data stack: an fsspec file system over tarnd.

Importing this module registers the scheme of Azure ML v2's data URIs with fsspec, in both of
its forms:

    azureml://subscriptions/<s>/resourcegroups/<g>/workspaces/<w>/datastores/<d>/paths/<p>
    azureml://datastores/<d>/paths/<p>      (the workspace of config.json)

so that pandas, pyarrow, dask and anything else built on fsspec read and write them:

    import tarn.fsspec  # noqa: F401
    df = pd.read_parquet("azureml://datastores/product/paths/sales/")
    df.to_parquet("azureml://datastores/product/paths/sales/2026.parquet")

Who it acts as: the caller, as tarn.core's Workspace calls tarnd (the sign-in `tarn login`
kept, `auth=`, or an account key given explicitly). Every request goes to the datastore's
filesystem on tarnd's storage API, where the caller's roles and ACLs decide, on each call, what
it may read, list and write: an identity-based datastore, as Azure ML's. A datastore on another
endpoint is refused with a message saying how to reach it.

storage_options: workspace (a tarn.core Workspace to use instead of config.json's), and
fsspec's own (skip_instance_cache...).
"""

import re

import fsspec
from fsspec.caching import ReadAheadCache
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from tarn.core.exceptions import UserErrorException

PROTOCOL = "azureml"
_PATH = re.compile(
    r"^(?P<ws>subscriptions/(?P<sub>[^/]+)/resource[gG]roups/(?P<rg>[^/]+)/"
    r"(?:providers/Microsoft\.MachineLearningServices/)?workspaces/(?P<name>[^/]+)/)?"
    r"datastores/(?P<store>[^/]+)/paths(?:/(?P<rel>.*))?$")


def _not_found(path, err=None):
    e = FileNotFoundError(2, "No such file or directory in the lake", path)
    if err is not None:
        e.__cause__ = err
    return e


class AzureMLFileSystem(AbstractFileSystem):
    """fsspec's file system for azureml:// paths on tarnd (see the module's documentation)."""

    protocol = (PROTOCOL,)
    root_marker = ""

    def __init__(self, workspace=None, **kwargs):
        super().__init__(**kwargs)
        self._workspace = workspace
        self._workspaces = {}  # the prefix of a path -> Workspace
        self._stores = {}  # (prefix, datastore) -> (LakePaths, filesystem)

    # ----- paths --------------------------------------------------------------------------------
    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        if path.startswith(PROTOCOL + "://"):
            path = path[len(PROTOCOL) + 3:]
        elif path.startswith(PROTOCOL + ":"):
            path = path[len(PROTOCOL) + 1:]
        return path.lstrip("/").rstrip("/")

    @staticmethod
    def _get_kwargs_from_urls(path):
        return {}

    def unstrip_protocol(self, name):
        return PROTOCOL + "://" + name

    def _split(self, path):
        """(prefix, datastore, path inside the datastore) of a stripped or full path."""
        p = self._strip_protocol(path)
        m = _PATH.match(p)
        if not m:
            raise ValueError(
                "%r is not an azureml:// datastore path: write azureml://datastores/<datastore>/"
                "paths/<path> (the workspace of config.json), or azureml://subscriptions/<s>/"
                "resourcegroups/<g>/workspaces/<w>/datastores/<datastore>/paths/<path>" % path)
        rel = (m.group("rel") or "").strip("/")
        if any(part in ("", ".", "..") for part in rel.split("/")) and rel:
            raise ValueError("%r: a lake path has no empty, '.' or '..' segments" % path)
        return (m.group("ws") or ""), m.group("store"), rel

    @staticmethod
    def _join(prefix, store, rel):
        return "%sdatastores/%s/paths/%s" % (prefix, store, rel) if rel else \
            "%sdatastores/%s/paths" % (prefix, store)

    # ----- workspaces and datastores --------------------------------------------------------------
    def _workspace_for(self, prefix):
        ws = self._workspaces.get(prefix)
        if ws is not None:
            return ws
        from tarn.core.workspace import Workspace
        if not prefix:
            ws = self._workspace or Workspace.from_config()
        else:
            m = _PATH.match(prefix + "datastores/x/paths")
            sub, rg, name = m.group("sub"), m.group("rg"), m.group("name")
            given = self._workspace
            if given is not None and given.name.lower() == name.lower():
                ws = given
            else:
                client = given._client if given is not None else None
                if client is None:
                    try:
                        client = Workspace.from_config()._client
                    except UserErrorException:
                        client = None  # no config.json: TARN_ENDPOINT and the login decide
                ws = Workspace(sub, rg, name, _client=client)
        self._workspaces[prefix] = ws
        return ws

    def _store(self, prefix, store):
        key = (prefix, store)
        found = self._stores.get(key)
        if found is not None:
            return found
        ws = self._workspace_for(prefix)
        doc = ws._client.get_datastore(ws.name, store)
        if not doc.get("local"):
            raise UserErrorException(
                "datastore %s of workspace %s is on another endpoint (%s): azureml:// paths reach "
                "datastores on this tarnd only. Read its data through a registered dataset, or "
                "with adlfs or pyarrow against that endpoint (docs/clients.md)"
                % (store, ws.name, doc.get("endpoint")), "DatastoreNotLocal")
        found = (ws._client.lake_paths(doc.get("account_name") or ""), doc["filesystem"])
        self._stores[key] = found
        return found

    def _target(self, path):
        prefix, store, rel = self._split(path)
        lake, fs = self._store(prefix, store)
        return prefix, store, rel, lake, fs

    @staticmethod
    def _call(path, fn, *args):
        """fn(*args), with the lake's refusals as the OSErrors fsspec's callers expect."""
        from tarn import _native
        try:
            return fn(*args)
        except _native.CatalogError as e:
            status = (list(e.args) + ["", "", ""])[2]
            if status == "NotFound":
                raise _not_found(path, e) from None
            if status in ("PermissionDenied", "Unauthenticated"):
                raise PermissionError(13, "The lake refused this: %s" % e.args[1], path) from None
            if status in ("AlreadyExists", "Conflict"):
                raise FileExistsError(17, e.args[1], path) from None
            raise OSError(5, e.args[1], path) from None

    # ----- reading ------------------------------------------------------------------------------------
    def info(self, path, **kwargs):
        prefix, store, rel, lake, fs = self._target(path)
        name = self._join(prefix, store, rel)
        if not rel:
            return {"name": name, "size": 0, "type": "directory"}
        st = self._call(path, lake.stat, fs, rel)
        if st is None:
            raise _not_found(path)
        is_dir, size, etag = st
        return {"name": name, "size": 0 if is_dir else size,
                "type": "directory" if is_dir else "file", "etag": etag}

    def _entries(self, path, recursive):
        prefix, store, rel, lake, fs = self._target(path)
        items = self._call(path, lake.list, fs, rel, recursive)
        return [{"name": self._join(prefix, store, name), "size": 0 if is_dir else size,
                 "type": "directory" if is_dir else "file", "etag": etag}
                for name, is_dir, size, etag in items]

    def ls(self, path, detail=True, **kwargs):
        info = self.info(path)
        out = [info] if info["type"] == "file" else self._entries(path, False)
        return out if detail else [o["name"] for o in out]

    def find(self, path, maxdepth=None, withdirs=False, detail=False, **kwargs):
        path = self._strip_protocol(path)
        try:
            info = self.info(path)
        except FileNotFoundError:
            return {} if detail else []
        if info["type"] == "file":
            out = {info["name"]: info}
        else:
            out = {}
            if withdirs and self._split(path)[2]:
                out[info["name"]] = info
            depth0 = path.count("/")
            for e in self._entries(path, True):
                if maxdepth is not None and e["name"].count("/") - depth0 > maxdepth:
                    continue
                if e["type"] == "file" or withdirs:
                    out[e["name"]] = e
        out = dict(sorted(out.items()))
        return out if detail else list(out)

    def cat_file(self, path, start=None, end=None, **kwargs):
        _, _, rel, lake, fs = self._target(path)
        size = None
        if start is None or start < 0 or end is None or end < 0:
            size = self.info(path)["size"]
        start = 0 if start is None else (max(size + start, 0) if start < 0 else start)
        end = size if end is None else (max(size + end, 0) if end < 0 else end)
        if end <= start:
            return b""
        return self._call(path, lake.read, fs, rel, start, end - start)

    def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_options=None,
              **kwargs):
        return _LakeFile(self, path, mode, block_size=block_size or "default",
                         autocommit=autocommit, cache_options=cache_options, **kwargs)

    # ----- writing ------------------------------------------------------------------------------------
    def pipe_file(self, path, value, mode="overwrite", **kwargs):
        _, _, rel, lake, fs = self._target(path)
        if not rel:
            raise IsADirectoryError(21, "a datastore's root is not a file", path)
        if mode == "create" and self.exists(path):
            raise FileExistsError(17, "exists", path)
        self._call(path, lake.put, fs, rel, bytes(value))

    def mkdir(self, path, create_parents=True, **kwargs):
        _, _, rel, lake, fs = self._target(path)
        if rel:
            self._call(path, lake.mkdir, fs, rel)

    def makedirs(self, path, exist_ok=False):
        if not exist_ok and self.exists(path):
            raise FileExistsError(17, "exists", path)
        self.mkdir(path)

    def rm_file(self, path):
        _, _, rel, lake, fs = self._target(path)
        self._call(path, lake.remove, fs, rel, False)

    def _rm(self, path):
        self.rm_file(path)

    def rm(self, path, recursive=False, maxdepth=None):
        for p in ([path] if isinstance(path, str) else path):
            _, _, rel, lake, fs = self._target(p)
            if not rel:
                raise PermissionError(1, "refusing to delete a datastore's whole root", p)
            self._call(p, lake.remove, fs, rel, bool(recursive))
        self.invalidate_cache()

    def rmdir(self, path):
        self.rm(path, recursive=False)

    def mv(self, path1, path2, recursive=False, maxdepth=None, **kwargs):
        """A rename, in one step, within one datastore; a copy then a delete across two."""
        p1, s1, r1, lake1, fs1 = self._target(path1)
        p2, s2, r2, lake2, fs2 = self._target(path2)
        if lake1.account == lake2.account and fs1 == fs2:
            self._call(path1, lake1.rename, fs1, r1, r2)
        else:
            super().mv(path1, path2, recursive=True)
        self.invalidate_cache()

    def cp_file(self, path1, path2, **kwargs):
        self.pipe_file(path2, self.cat_file(path1))


class _RangeCache(ReadAheadCache):
    """Reads of a block or more go to the lake exactly as asked, uncached: pyarrow's coalesced
    column-chunk reads, which a read-ahead would stretch by a block each. Smaller reads read a
    block ahead, as fsspec's readahead cache does (the CSV and JSON readers)."""

    def _fetch(self, start, end):
        start = 0 if start is None else start
        end = self.size if end is None or end > self.size else end
        if end - start >= self.blocksize and not (self.start <= start and end <= self.end):
            self.total_requested_bytes += end - start
            return self.fetcher(start, end)
        return super()._fetch(start, end)


class _LakeFile(AbstractBufferedFile):
    """A file of the lake: ranged reads; writes as one DFS create, appends and a final flush."""

    def __init__(self, fs, path, mode="rb", cache_type=None, **kwargs):
        super().__init__(fs, path, mode, cache_type=cache_type or "readahead", **kwargs)
        if mode == "rb" and cache_type is None:
            self.cache = _RangeCache(self.blocksize, self._fetch_range, self.size)

    def _fetch_range(self, start, end):
        _, _, rel, lake, fs = self.fs._target(self.path)
        end = min(end, self.size)
        if end <= start:
            return b""
        return self.fs._call(self.path, lake.read, fs, rel, start, end - start)

    def _initiate_upload(self):
        _, _, rel, lake, fs = self.fs._target(self.path)
        if not rel:
            raise IsADirectoryError(21, "a datastore's root is not a file", self.path)
        self.fs._call(self.path, lake.create, fs, rel)
        self._written = 0

    def _upload_chunk(self, final=False):
        _, _, rel, lake, fs = self.fs._target(self.path)
        data = self.buffer.getvalue()
        if data:
            self.fs._call(self.path, lake.append, fs, rel, self._written, data)
            self._written += len(data)
        if final:
            self.fs._call(self.path, lake.flush, fs, rel, self._written)
            self.fs.invalidate_cache()
        return True


fsspec.register_implementation(PROTOCOL, AzureMLFileSystem, clobber=True)
