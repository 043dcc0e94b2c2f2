"""Files between a local disk and a datastore on this tarnd, as the workspace's caller: what
Datastore.upload, upload_files and download, and Dataset.File.upload_directory do.

Transfers run on `threads` connections at once (tarn._native.LakePaths releases the GIL). A file
is uploaded beside its destination under a temporary name (a DFS create, 8 MiB appends and a
flush), then renamed over it in one step, so an interrupted upload never leaves a partial or
emptied file under the destination's name. A download writes a temporary file and renames it
the same way. Progress goes to stderr as one bar."""

import concurrent.futures
import os
import sys
import threading
import uuid

from tarn.core.exceptions import UserErrorException

CHUNK = 8 << 20


def lake_of(datastore, what):
    """The LakePaths and filesystem of a datastore on this tarnd."""
    if not datastore.local:
        raise UserErrorException(
            "%s reaches datastores on this tarnd only; datastore %r is on %s: use "
            "azcopy or the Azure SDKs against that endpoint" % (what, datastore.name,
                                                                 datastore.endpoint),
            "DatastoreNotLocal")
    return datastore.workspace._client.lake_paths(datastore.account_name or ""), \
        datastore.filesystem


def _native_error(e, path):
    """A native error as the SDK's exception, its message naming the lake path."""
    from tarn.core._client import convert
    err = convert(e)
    return type(err)("%s: %s" % (path, err.message), err.code)


class _Bar:
    """Bytes moved so far, counted from many threads, drawn with ingest's progress bar."""

    def __init__(self, show, phase, total_bytes):
        from tarn.core.ingest import _Progress
        self.draw = _Progress(sys.stderr) if show else None
        self.phase, self.total, self.done = phase, total_bytes, 0
        self.lock = threading.Lock()

    def add(self, n):
        with self.lock:
            self.done += n
            if self.draw:
                self.draw(self.phase, self.done, self.total)

    def close(self):
        if self.draw:
            self.draw.close()


def _join(*parts):
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def upload_files(datastore, files, relative_root=None, target_path=None, overwrite=False,
                 show_progress=True, threads=8):
    """Uploads local files to target_path, each at its path relative to relative_root (its
    name alone without one). Existing files are kept unless overwrite. Returns the paths
    written."""
    from tarn import _native
    lake, fs = lake_of(datastore, "upload")
    jobs = []
    for f in files:
        f = os.fspath(f)
        if not os.path.isfile(f):
            raise UserErrorException("%s is not a file" % f, "InvalidInput")
        rel = os.path.relpath(f, relative_root) if relative_root else os.path.basename(f)
        if rel.startswith(".." + os.sep) or rel == "..":
            raise UserErrorException("%s is not under relative_root %s" % (f, relative_root),
                                     "InvalidInput")
        jobs.append((f, _join(target_path or "", rel.replace(os.sep, "/"))))
    bar = _Bar(show_progress, "uploading", sum(os.path.getsize(f) for f, _ in jobs))
    skipped = []

    def one(job):
        local, dest = job
        try:
            if not overwrite and lake.stat(fs, dest) is not None:
                skipped.append(dest)
                return None
            head, _, name = dest.rpartition("/")
            tmp = _join(head, ".tarn-upload-%s-%s" % (uuid.uuid4().hex[:12], name))
            lake.create(fs, tmp)
            try:
                pos = 0
                with open(local, "rb") as src:
                    while True:
                        chunk = src.read(CHUNK)
                        if not chunk:
                            break
                        lake.append(fs, tmp, pos, chunk)
                        pos += len(chunk)
                        bar.add(len(chunk))
                lake.flush(fs, tmp, pos)
                lake.rename(fs, tmp, dest)
            except BaseException:
                try:
                    lake.remove(fs, tmp, False)
                except _native.CatalogError:
                    pass
                raise
            return dest
        except _native.CatalogError as e:
            raise _native_error(e, dest) from None

    with concurrent.futures.ThreadPoolExecutor(max(1, threads)) as pool:
        written = [d for d in pool.map(one, jobs) if d]
    bar.close()
    if skipped and show_progress:
        sys.stderr.write("kept %d existing file(s) (pass overwrite=True to replace them), "
                         "e.g. %s\n" % (len(skipped), skipped[0]))
    return written


def local_files(src_dir, pattern=None):
    """The files under src_dir, recursively, those matching pattern (a glob of the path
    relative to src_dir, or of the name) when given."""
    import fnmatch
    if not os.path.isdir(src_dir):
        raise UserErrorException("%s is not a directory" % src_dir, "InvalidInput")
    out = []
    for root, dirs, names in os.walk(src_dir):
        dirs.sort()
        for n in sorted(names):
            full = os.path.join(root, n)
            rel = os.path.relpath(full, src_dir).replace(os.sep, "/")
            if pattern is None or fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(n, pattern):
                out.append(full)
    return out


def download(datastore, target_path, prefix=None, overwrite=False, show_progress=True,
             threads=8):
    """Downloads the files whose path starts with prefix into target_path, keeping their
    paths. Existing local files are kept unless overwrite. Returns how many were written."""
    from tarn import _native
    lake, fs = lake_of(datastore, "download")
    prefix = (prefix or "").lstrip("/")
    folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
    try:
        listed = lake.list(fs, folder, True)
    except _native.CatalogError as e:
        if (list(e.args) + ["", "", ""])[2] == "NotFound":
            listed = []
        else:
            raise _native_error(e, prefix or "/") from None
    files = [(name, size) for name, is_dir, size, _ in listed
             if not is_dir and name.startswith(prefix)]
    root = os.path.realpath(target_path)
    bar = _Bar(show_progress, "downloading", sum(s for _, s in files))

    def one(item):
        name, size = item
        dest = os.path.realpath(os.path.join(root, *name.split("/")))
        if not dest.startswith(root + os.sep):
            raise UserErrorException("%s would land outside %s" % (name, target_path),
                                     "InvalidInput")
        if os.path.exists(dest) and not overwrite:
            return 0
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = dest + ".tarn-partial"
        try:
            with open(tmp, "wb") as out:
                pos = 0
                while pos < size:
                    chunk = lake.read(fs, name, pos, min(CHUNK, size - pos))
                    if not chunk:
                        break
                    out.write(chunk)
                    pos += len(chunk)
                    bar.add(len(chunk))
            os.replace(tmp, dest)
        except _native.CatalogError as e:
            raise _native_error(e, name) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return 1

    with concurrent.futures.ThreadPoolExecutor(max(1, threads)) as pool:
        count = sum(pool.map(one, files))
    bar.close()
    return count
