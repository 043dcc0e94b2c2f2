"""The tarnd process harness shared by the conformance tests (and their fixtures).

A TarnServer starts `tarnd --listen 127.0.0.1:0 --data-dir DIR`, waits for the line naming its
URL, and can be stopped (SIGTERM, then SIGKILL after 10 s), killed (SIGKILL) and restarted on the
same data directory.

Environment:
    TARND_BIN   path of the tarnd binary (default: <repo>/build/release/src/server/tarnd)
"""

import ctypes
import itertools
import os
import re
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from sharedkey import ACCOUNT, ACCOUNT_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "build" / "release" / "src" / "server" / "tarnd"

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
URL_RE = re.compile(r"http://127\.0\.0\.1:\d+")
HTTPS_RE = re.compile(r"https://127\.0\.0\.1:\d+")

# Client-side knobs shared by every SDK client the tests build. Retries are off so that a
# server error (500, 503, a dropped connection) fails the test instead of being papered over.
SDK_KWARGS = dict(retry_total=0, connection_timeout=30, read_timeout=120)


def _no_instance_discovery():
    """The keyword that keeps azure-identity from asking login.microsoftonline.com about tarnd's
    authority: `instance_discovery=False` up to Debian's 1.13.0b2, `disable_instance_discovery=
    True` in the released versions since (which ignore the old name)."""
    try:
        import inspect
        from azure.identity._internal.msal_credentials import MsalCredential
        params = inspect.signature(MsalCredential.__init__).parameters
    except (ImportError, AttributeError, ValueError):
        return {"disable_instance_discovery": True}
    if "disable_instance_discovery" in params:
        return {"disable_instance_discovery": True}
    return {"instance_discovery": False}


# Pass as **NO_INSTANCE_DISCOVERY to azure-identity's credentials, whichever version is installed.
NO_INSTANCE_DISCOVERY = _no_instance_discovery()


def tarnd_bin():
    return Path(os.environ.get("TARND_BIN") or DEFAULT_BIN)


def _pdeathsig():
    """Runs in the child before exec: die with the test process (no orphaned servers)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - best effort only
        pass


_server_ids = itertools.count(1)


class TarnServer:
    """One tarnd process on a data directory. Restartable on the same data directory."""

    def __init__(self, data_dir, log_dir, extra_args=()):
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir)
        self.extra_args = list(extra_args)
        self.account = ACCOUNT
        self.key = ACCOUNT_KEY
        self.proc = None
        self.url = None  # http://127.0.0.1:PORT
        self.https_url = None  # https://127.0.0.1:PORT, unless started with --tls-listen off
        self.generation = 0
        self.header_violations = []  # filled by the SDK response hook (see _sdk_options)
        self._stdout_thread = None
        self._stdout_lines = []
        self._id = next(_server_ids)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    # ----- addresses -----------------------------------------------------------------------
    @property
    def port(self):
        return int(self.url.rsplit(":", 1)[1])

    @property
    def ca_file(self):
        """The self-signed certificate clients trust for https_url."""
        return str(self.data_dir / "tls" / "cert.pem")

    @property
    def account_url(self):
        return f"{self.url}/{self.account}"

    @property
    def connection_string(self):
        return (f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
                f"BlobEndpoint={self.account_url};")

    # ----- logs ----------------------------------------------------------------------------
    @property
    def stderr_path(self):
        return self.log_dir / f"tarnd-{self._id}-{self.generation}.stderr"

    @property
    def stdout_path(self):
        return self.log_dir / f"tarnd-{self._id}-{self.generation}.stdout"

    def stderr_tail(self, limit=8000):
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return "<no stderr>"
        return data[-limit:].decode("utf-8", "replace")

    def describe(self):
        rc = None if self.proc is None else self.proc.poll()
        return (f"tarnd {self.url} data_dir={self.data_dir} returncode={rc}\n"
                f"--- stdout (first lines) ---\n{''.join(self._stdout_lines[:20])}"
                f"--- stderr (tail) ---\n{self.stderr_tail()}")

    # ----- lifecycle -----------------------------------------------------------------------
    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        binary = tarnd_bin()
        if not binary.exists():
            pytest.fail(f"tarnd binary not found at {binary} (build it, or set TARND_BIN)")
        self.generation += 1
        self._stdout_lines = []
        stderr_f = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [str(binary), "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
                 *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr_f,
                preexec_fn=_pdeathsig, close_fds=True)
        finally:
            stderr_f.close()

        ready = threading.Event()
        found = []
        proc = self.proc
        lines = self._stdout_lines
        out_path = self.stdout_path

        def pump():
            # Reads stdout for the whole life of the process so the pipe never fills up.
            with open(out_path, "wb") as log:
                for raw in iter(proc.stdout.readline, b""):
                    log.write(raw)
                    log.flush()
                    line = raw.decode("utf-8", "replace")
                    if len(lines) < 200:
                        lines.append(line)
                    if not found:
                        m = URL_RE.search(line)
                        if m:
                            found.append(m.group(0))
                            tls = HTTPS_RE.search(line)
                            found.append(tls.group(0) if tls else None)
                            ready.set()
            ready.set()  # EOF: the process is gone

        self._stdout_thread = threading.Thread(target=pump, daemon=True)
        self._stdout_thread.start()
        ready.wait(READY_TIMEOUT)
        if not found:
            rc = self.proc.poll()
            self.stop()
            pytest.fail(f"tarnd did not print its URL within {READY_TIMEOUT:.0f} s "
                        f"(returncode={rc})\n{self.describe()}")
        self.url, self.https_url = found[0], found[1]
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        self._join_pump()
        return self.proc.returncode

    def kill(self):
        """SIGKILL (crash simulation)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)
        self._join_pump()
        return self.proc.returncode

    def restart(self, crash=False):
        """Stops (SIGTERM, or SIGKILL with crash=True) and starts again on the same data dir.
        The port changes; use .url / .connection_string afterwards."""
        if crash:
            self.kill()
        else:
            self.stop()
        return self.start()

    def _join_pump(self):
        if self._stdout_thread is not None:
            self._stdout_thread.join(5)
            self._stdout_thread = None
        if self.proc is not None and self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass

    # ----- SDK clients -----------------------------------------------------------------------
    def _sdk_options(self, kwargs):
        """Client options, plus a response hook that checks every response the SDK receives:
        x-ms-request-id, x-ms-version and Date always; x-ms-error-code on every error."""
        opts = dict(SDK_KWARGS)
        opts.update(kwargs)
        user_hook = opts.pop("raw_response_hook", None)
        violations = self.header_violations

        def check(pipeline_response):
            resp = pipeline_response.http_response
            req = pipeline_response.http_request
            missing = [h for h in ("x-ms-request-id", "x-ms-version", "Date")
                       if not resp.headers.get(h)]
            if resp.status_code >= 400 and not resp.headers.get("x-ms-error-code"):
                missing.append("x-ms-error-code")
            if missing and len(violations) < 50:
                violations.append(f"{req.method} {req.url} -> {resp.status_code}: "
                                  f"missing {', '.join(missing)}")
            if user_hook:
                user_hook(pipeline_response)

        opts["raw_response_hook"] = check
        return opts

    def datalake_service(self, **kwargs):
        from azure.storage.filedatalake import DataLakeServiceClient
        return DataLakeServiceClient.from_connection_string(self.connection_string,
                                                            **self._sdk_options(kwargs))

    def blob_service(self, **kwargs):
        from azure.storage.blob import BlobServiceClient
        return BlobServiceClient.from_connection_string(self.connection_string,
                                                        **self._sdk_options(kwargs))


def unique_name(prefix="fs"):
    """A valid filesystem/container name, unique per call."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
