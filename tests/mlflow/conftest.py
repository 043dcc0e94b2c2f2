"""MLflow tracking on tarnd, proven with the real mlflow client (the project venv's mlflow 3.17).

Run with the project's virtual environment (scripts/bootstrap.sh makes it):

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/mlflow

Two back ends, one suite:
  * tarnd (the default): a tarnd started by the conformance harness (tests/conformance/
    tarn_harness.py, reused, not copied) with a workspace, a datastore over one of its own
    filesystems made the workspace's default (experiment artifacts live there), a tenant and
    service principals with workspace roles, and bearer tokens for the tracking audience
    (https://ml.azure.com). Tracking URI: https://127.0.0.1:<port>/workspaces/<ws>/mlflow, with
    MLFLOW_TRACKING_TOKEN and MLFLOW_TRACKING_SERVER_CERT_PATH set as a user would set them.
  * TARN_MLFLOW_PEER=1: a real `mlflow server` (SQLite, local artifacts, --serve-artifacts) on
    127.0.0.1 instead, to check that the suite itself expects what MLflow does. Tests of what only
    tarnd has (auth and roles, kill -9, artifact bytes in the lake) skip there, saying why.

Environment:
    TARN_MLFLOW_PEER  1: run against a real MLflow server instead of tarnd
    TARND_BIN         tarnd binary (default build/release/src/server/tarnd)
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "tests" / "conformance"))

PEER = os.environ.get("TARN_MLFLOW_PEER") == "1"
VENV_BIN = Path(sys.executable).parent

TRACKING_SCOPE = "https://ml.azure.com/.default"
STORAGE_SCOPE = "https://storage.azure.com/.default"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"

# TODO(tarnd mlflow): where tarnd keeps experiment artifacts inside the default datastore's
# filesystem. Agreed layout: <filesystem>/mlflow-artifacts/<experiment_id>/<run_id>/artifacts/...
# i.e. this prefix + the path after /api/2.0/mlflow-artifacts/artifacts/. Change it here if the
# server settles on another one.
LAKE_ARTIFACT_PREFIX = "mlflow-artifacts/"

PEER_START_TIMEOUT = 180.0  # mlflow server imports a lot; its first start compiles .pyc files
SUBPROCESS_ENV_DROP = (
    "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD", "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT",
    "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID")


def pytest_configure(config):
    config.addinivalue_line("markers", "tarnd_only: needs tarnd (skipped with TARN_MLFLOW_PEER=1)")


def pytest_report_header(config):
    return ("mlflow back end: " + ("a real mlflow server (TARN_MLFLOW_PEER=1)" if PEER
                                   else "tarnd"))


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tarnd_only(why):
    """Skips the calling test in peer mode, naming what only tarnd has."""
    if PEER:
        pytest.skip(f"tarnd only ({why}); TARN_MLFLOW_PEER=1 runs a plain MLflow server")


@contextlib.contextmanager
def mlflow_error(code, http_status=None):
    """Expects an MlflowException with this error_code (and HTTP status, when given)."""
    from mlflow.exceptions import MlflowException
    with pytest.raises(MlflowException) as info:
        yield info
    assert info.value.error_code == code, (info.value.error_code, str(info.value)[:500])
    if http_status is not None:
        assert info.value.get_http_status_code() == http_status, str(info.value)[:500]


# ----- the peer: a real MLflow server ---------------------------------------------------------

class PeerServer:
    """`mlflow server` on 127.0.0.1 with a SQLite store and local artifacts in a tmp dir. It runs
    in a session of its own so that stop() ends it and every worker it started."""

    def __init__(self, base):
        self.base = Path(base)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = self.base / "mlflow-server.log"

    def start(self):
        import requests
        env = dict(os.environ)
        for k in SUBPROCESS_ENV_DROP:
            env.pop(k, None)
        # MLflow's server truncates a param value over 6000 characters by default; with this
        # off it refuses it with INVALID_PARAMETER_VALUE, which is what tarnd does.
        env["MLFLOW_TRUNCATE_LONG_VALUES"] = "false"
        # Its background job runner (seven huey consumers) serves no tracking call here.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        art = self.base / "art"
        art.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", "2",
                 "--backend-store-uri", f"sqlite:///{self.base / 'm.db'}",
                 "--artifacts-destination", str(art), "--serve-artifacts"],
                cwd=self.base, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + PEER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"mlflow server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"mlflow server not healthy within {PEER_START_TIMEOUT:.0f} s:\n"
                    f"{self.log_tail()}")

    def log_tail(self, limit=6000):
        try:
            return self.log_path.read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    def stop(self):
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group is the one this process leads
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure its workers are too.
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        self.proc = None


# ----- tarnd: a workspace with a default datastore, principals and tokens ----------------------

class TarnWorld:
    """A tarnd with what MLflow tracking needs: a workspace, a datastore over one of tarnd's own
    filesystems (account key) made its default, a tenant, service principals with workspace
    roles, and tokens from tarnd's token endpoint."""

    ROLES = {"scientist": "AzureML Data Scientist", "reader": "Reader", "owner": "Owner"}

    def __init__(self, base):
        from tarn_harness import TarnServer
        self.server = TarnServer(Path(base) / "data", Path(base) / "logs")
        self.ws = unique("ws-")
        self.filesystem = unique("mlflow-")
        self.datastore = unique("mlflow_")
        self.tenant = None
        self.principals = {}
        self.tokens = {}

    def start(self):
        self.server.start()
        if not self.server.https_url:
            pytest.fail(f"tarnd printed no https URL\n{self.server.describe()}")
        self._setup()
        self.refresh_tokens()
        return self

    def stop(self):
        self.server.stop()

    # -- account-key calls ------------------------------------------------------------------
    def raw(self):
        from sharedkey import RawClient
        return RawClient(self.server)

    def admin(self, method, path, body=None, expect=None):
        data = json.dumps(body).encode() if body is not None else b""
        r = self.raw().request(method, path, (), {"Content-Type": "application/json"}, data)
        if expect is not None:
            assert r.status == expect, f"{method} {path}: {r}"
        return r

    def _setup(self):
        from identity_admin import Directory
        from sharedkey import ACCOUNT, ACCOUNT_KEY
        s = self.server
        self.admin("PUT", f"/workspaces/{self.ws}", {}, 201)
        r = self.raw().request("PUT", f"/{ACCOUNT}/{self.filesystem}", [("resource", "filesystem")])
        assert r.status == 201, r
        self.admin("PUT", f"/workspaces/{self.ws}/datastores/{self.datastore}",
                   {"account_name": ACCOUNT, "filesystem": self.filesystem,
                    "credential": {"type": "account_key", "account_key": ACCOUNT_KEY}}, 201)
        self.admin("PUT", f"/workspaces/{self.ws}/default-datastore", {"name": self.datastore},
                   200)
        got = json.loads(self.admin("GET", f"/workspaces/{self.ws}/default-datastore",
                                    expect=200).body)
        assert got["name"] == self.datastore and got["filesystem"] == self.filesystem, got
        d = Directory(s)
        self.tenant = d.tenant()
        for who, role in self.ROLES.items():
            sp = d.service_principal(self.tenant, who)
            d.assign(sp["object_id"], role, f"/workspaces/{self.ws}")
            self.principals[who] = sp
        self.principals["outsider"] = d.service_principal(self.tenant, "outsider")  # no role

    # -- tokens -----------------------------------------------------------------------------
    def token_response(self, who, scope=TRACKING_SCOPE):
        import requests
        sp = self.principals[who]
        return requests.post(
            f"{self.server.https_url}/{self.tenant}/oauth2/v2.0/token",
            verify=self.server.ca_file, timeout=30,
            data={"grant_type": "client_credentials", "client_id": sp["app_id"],
                  "client_secret": sp["secret"], "scope": scope})

    def token(self, who, scope=TRACKING_SCOPE):
        r = self.token_response(who, scope)
        assert r.status_code == 200, f"token for {who} ({scope}): {r.status_code} {r.text}"
        return r.json()["access_token"]

    def refresh_tokens(self):
        """Tokens name their issuer with tarnd's URL, whose port changes on every restart."""
        self.tokens = {who: self.token(who) for who in self.ROLES}

    @property
    def tracking_uri(self):
        return f"{self.server.https_url}/workspaces/{self.ws}/mlflow"

    def crash_restart(self):
        """SIGKILL tarnd, start it again on the same data directory, and get new tokens."""
        self.server.restart(crash=True)
        self.refresh_tokens()

    # -- the lake under the default datastore -------------------------------------------------
    def lake_paths(self, directory):
        """Files (not directories) under `directory` of the default datastore's filesystem."""
        from sharedkey import ACCOUNT
        out, cont = [], None
        for _ in range(100):
            q = [("resource", "filesystem"), ("recursive", "true"), ("directory", directory)]
            if cont:
                q.append(("continuation", cont))
            r = self.raw().request("GET", f"/{ACCOUNT}/{self.filesystem}", q)
            if r.status == 404:
                return []
            assert r.status == 200, r
            for p in json.loads(r.body)["paths"]:
                if str(p.get("isDirectory", "false")).lower() != "true":
                    out.append(p["name"])
            cont = r.header("x-ms-continuation")
            if not cont:
                break
        return sorted(out)

    def lake_read(self, path):
        from sharedkey import ACCOUNT
        r = self.raw().request("GET", f"/{ACCOUNT}/{self.filesystem}/"
                               + urllib.parse.quote(path))
        assert r.status == 200, r
        return r.body


# ----- what the tests use ---------------------------------------------------------------------

class Tracking:
    """The tracking server under test: its URI, the credentials the mlflow client uses, raw
    HTTP for what the client does not expose, and the environment for user scripts."""

    def __init__(self, kind, peer=None, world=None):
        self.kind = kind
        self.peer = peer
        self.world = world

    @property
    def uri(self):
        return self.peer.url if self.peer else self.world.tracking_uri

    @property
    def token(self):
        """The default user's token (a Data Scientist), None in peer mode."""
        return self.world.tokens["scientist"] if self.world else None

    @property
    def ca_file(self):
        return self.world.server.ca_file if self.world else None

    def env_vars(self, token=None):
        # No retries, as in the conformance harness: mlflow retries 429 and 5xx answers seven
        # times with backoff (minutes), which would hide a server error and stall the test.
        env = {"MLFLOW_TRACKING_URI": self.uri, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
               "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}
        tok = token or self.token
        if tok:
            env["MLFLOW_TRACKING_TOKEN"] = tok
        if self.ca_file:
            env["MLFLOW_TRACKING_SERVER_CERT_PATH"] = self.ca_file
        return env

    def subprocess_env(self, **extra):
        """What a user's shell would have: the venv's mlflow on PATH and the tracking vars."""
        env = dict(os.environ)
        for k in SUBPROCESS_ENV_DROP:
            env.pop(k, None)
        env.update(self.env_vars())
        env["PATH"] = str(VENV_BIN) + os.pathsep + env.get("PATH", "")
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def apply(self):
        """Points this process's mlflow client at the server (env vars + set_tracking_uri)."""
        import mlflow
        for k in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_SERVER_CERT_PATH"):
            os.environ.pop(k, None)
        os.environ.update(self.env_vars())
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_registry_uri(self.uri)

    def http(self, method, path, token="default", **kwargs):
        """A raw request to <tracking uri><path>. token: "default" (the scientist's), None (no
        Authorization header) or a token string."""
        import requests
        headers = dict(kwargs.pop("headers", {}) or {})
        if token == "default":
            token = self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.uri + path, headers=headers,
                                verify=self.ca_file or True, timeout=60, **kwargs)

    def client(self, token=None):
        """An MlflowClient; with a token, one whose requests carry that token instead."""
        import mlflow
        if token is None:
            return mlflow.MlflowClient(self.uri, self.uri)
        return _TokenClient(self, token)

    def lake_artifacts(self, artifact_path):
        """(tarnd) the lake files under LAKE_ARTIFACT_PREFIX + artifact_path."""
        return self.world.lake_paths(LAKE_ARTIFACT_PREFIX + artifact_path.strip("/"))


class _TokenClient:
    """MlflowClient calls made with MLFLOW_TRACKING_TOKEN set to another principal's token for
    the duration of each call (the client reads the variable on every request)."""

    def __init__(self, tracking, token):
        import mlflow
        self._client = mlflow.MlflowClient(tracking.uri, tracking.uri)
        self._token = token

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*a, **k):
            old = os.environ.get("MLFLOW_TRACKING_TOKEN")
            os.environ["MLFLOW_TRACKING_TOKEN"] = self._token
            try:
                return attr(*a, **k)
            finally:
                if old is None:
                    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
                else:
                    os.environ["MLFLOW_TRACKING_TOKEN"] = old
        return call


def start_backend(base):
    if PEER:
        peer = PeerServer(base)
        peer.start()
        return Tracking("peer", peer=peer)
    world = TarnWorld(base)
    try:
        world.start()
    except BaseException:
        world.stop()
        raise
    return Tracking("tarnd", world=world)


def stop_backend(tracking):
    if tracking.peer:
        tracking.peer.stop()
    if tracking.world:
        tracking.world.stop()


@pytest.fixture(scope="session")
def tracking(tmp_path_factory):
    """The server every test shares, with this process's mlflow client pointed at it."""
    saved = {k: os.environ.get(k) for k in SUBPROCESS_ENV_DROP}
    t = start_backend(tmp_path_factory.mktemp("mlflow-backend"))
    try:
        t.apply()
        yield t
    finally:
        stop_backend(t)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def client(tracking):
    tracking.apply()
    return tracking.client()


@pytest.fixture
def experiment(client):
    """A fresh experiment: (id, name)."""
    name = unique("exp-")
    return client.create_experiment(name), name


def run_script(tracking, script, *args, timeout=300, **env):
    """Runs a file of tests/mlflow as a user would: the venv's python with the tracking vars."""
    r = subprocess.run([sys.executable, str(HERE / script), *map(str, args)],
                       env=tracking.subprocess_env(**env), capture_output=True, text=True,
                       timeout=timeout, cwd=HERE)
    assert r.returncode == 0, (f"{script} exited {r.returncode}\n--- stdout ---\n"
                               f"{r.stdout[-4000:]}\n--- stderr ---\n{r.stderr[-8000:]}")
    return r
