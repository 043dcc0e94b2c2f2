"""Ingestion into the raw zone: local files or directories land as one batch, with a manifest.

    from tarn.core import Workspace, ingest
    ws = Workspace.from_config()
    batch = ingest(ws, "./exports/2024-06", source="pos")       # filesystem "raw"
    print(batch.path, batch.rows, batch.duplicate)

or, through a datastore on this tarnd: Datastore.get(ws, "raw").ingest("./exports", source="pos").

The batch lands whole or not at all, at <source>/ingest_date=<day>/batch=<time>-<digest>/ with a
_manifest.json (each file's size and MD5; each CSV/TSV/Parquet/JSON-lines file's row count and
schema). Content already ingested is reported (duplicate=True) and not landed again. The same
code as `tarn ingest` (docs/cli.md) does the work, on `threads` connections at once.
"""

import os
import sys

from tarn.core.exceptions import UserErrorException


class IngestedBatch:
    """What ingest() landed: path (in the filesystem), duplicate, manifest (the dict stored as
    _manifest.json), files / bytes / rows from its totals, and dataset (the registered version,
    when ingest() was given one; else None)."""

    def __init__(self, filesystem, result):
        self.filesystem = filesystem
        self.path = result["path"]
        self.duplicate = bool(result["duplicate"])
        self.manifest = result["manifest"]
        totals = self.manifest.get("totals", {})
        self.files = totals.get("files", 0)
        self.bytes = totals.get("bytes", 0)
        self.rows = totals.get("rows", 0)
        self.dataset = None

    def __repr__(self):
        return "IngestedBatch(%r, files=%d, rows=%d%s)" % (
            "%s/%s" % (self.filesystem, self.path), self.files, self.rows,
            ", duplicate=True" if self.duplicate else "")


class _Progress:
    """Draws 'uploading  [#####.....]  12.0 MiB / 40.0 MiB' on stderr, one line per phase."""

    def __init__(self, stream):
        self.stream = stream
        self.phase = None

    def __call__(self, phase, done, total):
        if phase != self.phase:
            if self.phase is not None:
                self.stream.write("\n")
            self.phase = phase
        filled = 30 if total <= 0 else int(30 * min(1.0, done / total))
        self.stream.write("\r%-10s [%s%s]  %s / %s" % (phase, "#" * filled, "." * (30 - filled),
                                                      _size(done), _size(total)))
        self.stream.flush()

    def close(self):
        if self.phase is not None:
            self.stream.write("\n")
            self.stream.flush()


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def ingest(workspace, path, source, filesystem="raw", date=None, threads=8, show_progress=True,
           dataset=None, datastore=None, format=None):
    """Lands `path` (a file, a directory, or a list of them) as one batch of `source` in
    `filesystem` of the workspace's tarnd account, as the workspace's caller. date: the
    ingestion day "YYYY-MM-DD" (default today, UTC). With `dataset`, the batch also becomes a
    new version of that dataset (a file dataset, or with format "csv", "parquet" or "jsonl" a
    tabular one), through `datastore` (default: the workspace's datastore for the filesystem);
    IngestedBatch.dataset is then that Dataset. Returns an IngestedBatch."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise UserErrorException("name at least one file or directory to ingest", "InvalidInput")
    progress = _Progress(sys.stderr) if show_progress else None
    try:
        result = workspace._client.ingest(filesystem, [os.fspath(p) for p in paths], source,
                                          date or "", int(threads), progress, workspace.name,
                                          dataset or "", datastore or "", format or "")
    finally:
        if progress is not None:
            progress.close()
    batch = IngestedBatch(filesystem, result)
    if result.get("dataset"):
        from tarn.core.data.abstract_dataset import AbstractDataset
        batch.dataset = AbstractDataset._from_version(workspace, result["dataset"])
    return batch
