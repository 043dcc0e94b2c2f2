"""FileDataset, as azureml.data.FileDataset: references to files, downloaded as registered."""

import os
import posixpath
import tempfile

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


class FileDataset(AbstractDataset):
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
        raise NotImplementedError("Tarn has no FUSE mount yet; use download() (or read the "
                                  "lake through ABFS)")
