"""Runs on compute targets, as azureml.core's ScriptRunConfig and Environment (SDK v1).

    from tarn.core import Environment, Experiment, ScriptRunConfig
    env = Environment.from_pip_requirements("sklearn-env", "requirements.txt")
    config = ScriptRunConfig(source_directory="src", script="train.py",
                             arguments=["--alpha", 0.5], compute_target="local",
                             environment=env)
    run = Experiment(ws, "diabetes").submit(config)
    run.wait_for_completion(show_output=True)

Submitting sends a snapshot of source_directory (the files the script may read, relative to it)
with the job; tarnd runs the script there with the environment's interpreter. What is left out
of the snapshot: `.git`, `__pycache__` and `.ipynb_checkpoints` folders, and what `.amlignore`
(else `.gitignore`) at the top of source_directory lists.
"""

from __future__ import annotations

import base64
import fnmatch
import os
import re
from typing import Iterable, Optional, Sequence, Union

from tarn.core.exceptions import UserErrorException

# What tarnd takes in one job (src/compute/job_spec.h, SpecLimits).
MAX_SNAPSHOT_FILES = 2000
MAX_SNAPSHOT_BYTES = 64 << 20

_ALWAYS_SKIPPED = (".git", "__pycache__", ".ipynb_checkpoints")


class PythonSection:
    """azureml's Environment.python. With user_managed_dependencies=True nothing is installed
    and the run uses interpreter_path: an absolute path of an interpreter on the compute
    target (the default "python" means the target's default interpreter)."""

    def __init__(self) -> None:
        self.user_managed_dependencies = False
        self.interpreter_path = "python"


class Environment:
    """The Python a run uses: the target's default interpreter, an existing one
    (env.python.user_managed_dependencies = True; env.python.interpreter_path = "/abs/python"),
    or pip requirements that tarnd installs into a virtual environment, built once per set of
    requirements and reused by later runs."""

    def __init__(self, name: str) -> None:
        if not name:
            raise UserErrorException("an Environment needs a name", "InvalidEnvironment")
        self.name = name
        self.version: Optional[str] = None
        self.python = PythonSection()
        self._pip: list[str] = []

    @staticmethod
    def from_pip_requirements(name: str, file_path: str, pip_version: Optional[str] = None
                              ) -> "Environment":
        """An environment of the requirements in a pip requirements file (`-r other.txt` lines
        are read in; other lines go to pip as written; pip options are refused)."""
        env = Environment(name)
        env._pip = _read_requirements(file_path, set())
        if pip_version:
            env._pip.insert(0, "pip==" + pip_version)
        return env

    def _spec(self) -> dict:
        """The job's "environment" member."""
        if self.python.user_managed_dependencies:
            path = self.python.interpreter_path
            if not path or path == "python":
                return {"name": self.name}
            if not os.path.isabs(path):
                raise UserErrorException(
                    f"environment {self.name}: interpreter_path must be an absolute path on the "
                    f"compute target (e.g. /usr/bin/python3), not {path!r}", "InvalidEnvironment")
            return {"name": self.name, "python": path}
        spec: dict = {"name": self.name}
        if self._pip:
            spec["pip"] = list(self._pip)
        return spec

    def __repr__(self) -> str:
        if self.python.user_managed_dependencies:
            return f"Environment(name={self.name!r}, interpreter={self.python.interpreter_path!r})"
        return f"Environment(name={self.name!r}, pip={self._pip!r})"


def _read_requirements(file_path: str, seen: set) -> list[str]:
    path = os.path.abspath(file_path)
    if path in seen:
        return []
    seen.add(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise UserErrorException(f"cannot read the requirements file {file_path}: {e}",
                                 "InvalidEnvironment") from None
    out = []
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for flag in ("-r ", "--requirement ", "--requirement="):
            if line.startswith(flag):
                nested = line[len(flag):].strip()
                out.extend(_read_requirements(os.path.join(os.path.dirname(path), nested), seen))
                break
        else:
            if line.startswith("-"):
                raise UserErrorException(
                    f"{file_path}: '{line}' is a pip option; an environment takes requirement "
                    "specifiers only (such as 'scikit-learn==1.9.1'), installed from the index "
                    "the compute target's pip is configured with", "InvalidEnvironment")
            out.append(line)
    return out


def _data_name(name, what):
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
        raise UserErrorException(f"{what} name {name!r} must be 1 to 64 letters, digits and "
                                 "'_'", "InvalidRunConfig")
    return name


class DatasetConsumptionConfig:
    """A registered dataset version as a run's named input (dataset.as_named_input(name)).
    As an argument of ScriptRunConfig it becomes the folder holding the version's files."""

    def __init__(self, name: str, dataset, mode: str = "download") -> None:
        self.name = _data_name(name, "an input's")
        self.dataset = dataset
        self.mode = mode

    def as_download(self, path_on_compute: Optional[str] = None) -> "DatasetConsumptionConfig":
        """tarnd copies exactly this version into the run's directory before it starts."""
        if path_on_compute:
            raise UserErrorException("path_on_compute is not taken: the input's folder is in "
                                     "the run's directory (Run.get_context().input_datasets)",
                                     "InvalidRunConfig")
        return DatasetConsumptionConfig(self.name, self.dataset, "download")

    def as_mount(self, path_on_compute: Optional[str] = None) -> "DatasetConsumptionConfig":
        """Not served on compute targets yet: tarnd refuses the run and says to use
        as_download()."""
        return DatasetConsumptionConfig(self.name, self.dataset, "mount")

    def _spec(self) -> dict:
        return {"name": self.name, "dataset": self.dataset.name,
                "version": self.dataset.version, "mode": self.mode}

    def __repr__(self) -> str:
        return (f"DatasetConsumptionConfig(name={self.name!r}, dataset={self.dataset.name!r}, "
                f"version={self.dataset.version!r}, mode={self.mode!r})")


class OutputFileDatasetConfig:
    """A folder the run writes for the lake (azureml's OutputFileDatasetConfig). As an
    argument of ScriptRunConfig it becomes that folder; when the run completes, tarnd uploads
    it to `destination` (a (datastore, path) pair; "{run-id}" in the path is the run's id) and,
    after register_on_complete(name), registers it as that dataset's next version, with
    lineage to the run's inputs. A run that does not complete writes nothing back."""

    def __init__(self, name: Optional[str] = None, destination=None) -> None:
        if not destination or len(destination) != 2:
            raise UserErrorException("destination is (datastore, path), e.g. (datastore, "
                                     "'predictions/{run-id}')", "InvalidRunConfig")
        store, path = destination
        self.datastore = store if isinstance(store, str) else getattr(store, "name", None)
        if not self.datastore or not isinstance(path, str) or not path.strip("/"):
            raise UserErrorException("destination is (datastore, path) with a folder path",
                                     "InvalidRunConfig")
        self.path = path.strip("/")
        self.name = _data_name(name or "output", "an output's")
        self._register_as: Optional[str] = None
        self._format: Optional[str] = None

    def register_on_complete(self, name: str, description: Optional[str] = None,
                             tags: Optional[dict] = None) -> "OutputFileDatasetConfig":
        """Registers the uploaded folder as the next version of dataset `name`."""
        self._register_as = name
        return self

    def read_delimited_files(self, **kwargs) -> "OutputFileDatasetConfig":
        """Registers it as a tabular dataset of CSV files."""
        self._format = "csv"
        return self

    def read_parquet_files(self, **kwargs) -> "OutputFileDatasetConfig":
        """Registers it as a tabular dataset of Parquet files."""
        self._format = "parquet"
        return self

    def as_upload(self, overwrite: bool = False) -> "OutputFileDatasetConfig":
        return self

    def _spec(self) -> dict:
        spec = {"name": self.name, "datastore": self.datastore, "path": self.path}
        if self._register_as:
            spec["register_as"] = self._register_as
        if self._format:
            spec["format"] = self._format
        return spec

    def __repr__(self) -> str:
        return (f"OutputFileDatasetConfig(name={self.name!r}, destination=({self.datastore!r}, "
                f"{self.path!r}), register_on_complete={self._register_as!r})")


class ScriptRunConfig:
    """What to run: `script` (a path inside source_directory) with `arguments`, on
    `compute_target` (a name, or an object with .name), in `environment`.
    max_run_duration_seconds ends the run, Failed, when it runs longer."""

    def __init__(self, source_directory: str, script: Optional[str] = None,
                 arguments: Optional[Sequence[Union[str, int, float]]] = None,
                 compute_target: Union[str, object, None] = "local",
                 environment: Optional[Environment] = None,
                 max_run_duration_seconds: Optional[int] = None) -> None:
        if not script:
            raise UserErrorException("ScriptRunConfig needs script=, a Python file inside "
                                     "source_directory", "InvalidRunConfig")
        if arguments is not None and isinstance(arguments, (str, bytes)):
            raise UserErrorException("arguments is a list, e.g. ['--alpha', 0.5], not one "
                                     "string", "InvalidRunConfig")
        if environment is not None and not isinstance(environment, Environment):
            raise UserErrorException("environment is a tarn.core.Environment",
                                     "InvalidRunConfig")
        self.source_directory = source_directory or "."
        self.script = script
        self.arguments = list(arguments or [])
        self.environment = environment
        self.max_run_duration_seconds = max_run_duration_seconds
        if compute_target is None:
            compute_target = "local"
        self.compute_target = (compute_target if isinstance(compute_target, str)
                               else getattr(compute_target, "name", None))
        if not self.compute_target:
            raise UserErrorException("compute_target is a compute target's name, e.g. "
                                     "\"local\"", "InvalidRunConfig")

    def _job_body(self) -> dict:
        """The body of POST /workspaces/<ws>/jobs, less the experiment's name."""
        root = os.path.abspath(self.source_directory)
        if not os.path.isdir(root):
            raise UserErrorException(f"source_directory {self.source_directory} is not a "
                                     "directory", "InvalidRunConfig")
        script = _relative_script(root, self.script)
        files = collect_snapshot(root)
        if script not in {rel for rel, _ in files}:
            raise UserErrorException(
                f"the script {script} is left out of the snapshot by .amlignore or .gitignore "
                f"in {root}: remove the pattern that matches it", "InvalidRunConfig")
        arguments, inputs, outputs = [], [], []
        for a in self.arguments:
            if isinstance(a, DatasetConsumptionConfig):
                inputs.append(a._spec())
                arguments.append("{inputs.%s}" % a.name)
            elif isinstance(a, OutputFileDatasetConfig):
                outputs.append(a._spec())
                arguments.append("{outputs.%s}" % a.name)
            else:
                arguments.append(str(a))
        body: dict = {
            "compute": self.compute_target, "script": script,
            "arguments": arguments,
            "snapshot": [{"path": rel, "content": base64.b64encode(_read(full)).decode("ascii")}
                         for rel, full in files]}
        if inputs:
            body["inputs"] = inputs
        if outputs:
            body["outputs"] = outputs
        if self.environment is not None:
            body["environment"] = self.environment._spec()
        if self.max_run_duration_seconds:
            body["timeout_s"] = int(self.max_run_duration_seconds)
        return body

    def __repr__(self) -> str:
        return (f"ScriptRunConfig(source_directory={self.source_directory!r}, "
                f"script={self.script!r}, arguments={self.arguments!r}, "
                f"compute_target={self.compute_target!r}, environment={self.environment!r})")


def _relative_script(root: str, script: str) -> str:
    full = os.path.abspath(os.path.join(root, script))
    rel = os.path.relpath(full, root)
    if rel == os.curdir or rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        raise UserErrorException(
            f"the script {script} is not inside source_directory {root}: the run sees only "
            "that directory, so move the script into it or point source_directory at a folder "
            "that holds it", "InvalidRunConfig")
    if not os.path.isfile(full):
        raise UserErrorException(f"the script {script} is not a file in {root}",
                                 "InvalidRunConfig")
    return rel.replace(os.sep, "/")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _ignore_patterns(root: str) -> list[str]:
    for name in (".amlignore", ".gitignore"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                return [line.strip() for line in f
                        if line.strip() and not line.lstrip().startswith("#")]
    return []


def _ignored(rel: str, is_dir: bool, patterns: Iterable[str]) -> bool:
    """gitignore's rules, simply: the last pattern that matches decides; "!" re-includes; a
    trailing "/" matches folders only; a pattern with a "/" matches the path from the top,
    else the name at any depth."""
    ignored = False
    name = rel.rsplit("/", 1)[-1]
    for pattern in patterns:
        negate = pattern.startswith("!")
        p = pattern[1:] if negate else pattern
        if p.endswith("/"):
            if not is_dir:
                continue
            p = p.rstrip("/")
        if not p:
            continue
        if "/" in p:
            hit = fnmatch.fnmatchcase(rel, p.lstrip("/"))
        else:
            hit = fnmatch.fnmatchcase(name, p)
        if hit:
            ignored = not negate
    return ignored


def collect_snapshot(root: str, max_files: int = MAX_SNAPSHOT_FILES,
                     max_bytes: int = MAX_SNAPSHOT_BYTES) -> list[tuple[str, str]]:
    """[(relative '/'-separated path, full path)] of the files a run's snapshot holds, sorted;
    UserErrorException when they are more than tarnd takes."""
    root = os.path.abspath(root)
    patterns = _ignore_patterns(root)
    files: list[tuple[str, str, int]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if here == "." else here + "/"
        dirnames[:] = sorted(d for d in dirnames if d not in _ALWAYS_SKIPPED
                             and not _ignored(prefix + d, True, patterns))
        for name in sorted(filenames):
            rel = prefix + name
            full = os.path.join(dirpath, name)
            if _ignored(rel, False, patterns) or not os.path.isfile(full):
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                raise UserErrorException(
                    f"the file name {rel!r} in {root} is not UTF-8: rename it or list it in "
                    ".amlignore", "SnapshotInvalid") from None
            files.append((rel, full, os.path.getsize(full)))
            if len(files) > max_files:
                raise UserErrorException(
                    f"the snapshot of {root} has more than {max_files} files, the most a run "
                    "takes: list what the script does not need (data, checkpoints, virtual "
                    "environments) in .amlignore there, or point source_directory at a smaller "
                    "folder", "SnapshotTooLarge")
    total = sum(size for _, _, size in files)
    if total > max_bytes:
        largest = sorted(files, key=lambda f: -f[2])[:5]
        names = ", ".join(f"{rel} ({size / (1 << 20):.1f} MiB)" for rel, _, size in largest)
        raise UserErrorException(
            f"the snapshot of {root} is {total / (1 << 20):.1f} MiB, more than the "
            f"{max_bytes / (1 << 20):.0f} MiB a run takes; the largest files: {names}. List "
            "data and models in .amlignore and read them from a datastore or dataset instead",
            "SnapshotTooLarge")
    return sorted((rel, full) for rel, full, _ in files)
