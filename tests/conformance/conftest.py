"""Fixtures for Tarn's protocol conformance tests.

Every test here talks to a real `tarnd` process that the fixtures start on 127.0.0.1 with
port 0 (the server picks the port and prints it). Run with Debian's interpreter:

    /usr/bin/python3 -m pytest tests/conformance

Environment:
    TARND_BIN   path of the tarnd binary (default: <repo>/build/release/src/server/tarnd)
"""

from pathlib import Path

import pytest

from tarn_harness import TarnServer, unique_name

# ----- pytest wiring -------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds (still runs in CI)")
    config.addinivalue_line("markers", "crash: kills tarnd with SIGKILL and restarts it")
    # Reliability figures that tests record (hostile inputs tried, latencies under attack, writes
    # lost over kill -9 rounds); printed at the end of the run for docs/security.md.
    config.tarn_figures = {}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    figures = getattr(config, "tarn_figures", {})
    if figures:
        terminalreporter.section("tarn reliability figures")
        for name, value in figures.items():
            terminalreporter.write_line(f"{name}: {value}")


class ServerFactory:
    """Starts servers for one test and guarantees they are all stopped afterwards."""

    def __init__(self, base):
        self.base = Path(base)
        self.servers = []

    def __call__(self, data_dir=None, extra_args=()):
        n = len(self.servers)
        data_dir = Path(data_dir) if data_dir else self.base / f"data{n}"
        srv = TarnServer(data_dir, self.base / "logs", extra_args)
        self.servers.append(srv)
        return srv.start()

    def stop_all(self):
        for srv in self.servers:
            try:
                srv.stop()
            except Exception:  # pragma: no cover - keep stopping the rest
                pass


@pytest.fixture
def tarn_factory(tmp_path):
    """Function-scoped: start any number of servers (crash tests); all are stopped at the end."""
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def tarn(tmp_path_factory):
    """Module-scoped tarnd on a fresh data directory."""
    base = tmp_path_factory.mktemp("tarnd")
    srv = TarnServer(base / "data", base / "logs")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(autouse=True)
def _server_survives(request):
    """After every test that used the module server:
    * every response the SDK clients received carried x-ms-request-id, x-ms-version and Date
      (and x-ms-error-code on errors);
    * the server is still running. If it died, the test fails with its stderr, and the server
      is restarted on the same data directory so that the rest of the module still runs (and
      reports its own results)."""
    yield
    if "tarn" not in request.fixturenames:
        return
    srv = request.getfixturevalue("tarn")
    problems = []
    if srv.header_violations:
        problems.append("responses without the headers every response must carry:\n" +
                        "\n".join(srv.header_violations[:20]))
        srv.header_violations.clear()
    if srv.proc is not None and not srv.alive():
        report = srv.describe()
        srv.stop()
        try:
            srv.start()
            note = f"(restarted on the same data dir at {srv.url})"
        except BaseException as e:  # pytest.fail inside start()
            note = f"(restart failed: {e})"
        problems.append(f"tarnd died during {request.node.nodeid} {note}\n{report}")
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture
def dl_service(tarn):
    return tarn.datalake_service()


@pytest.fixture
def blob_service(tarn):
    return tarn.blob_service()


@pytest.fixture
def container(tarn):
    """A new container on the module's tarnd, deleted after the test."""
    name = unique_name("c")
    client = tarn.blob_service().create_container(name)
    yield client
    tarn.blob_service().delete_container(name)
