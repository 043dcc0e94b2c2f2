"""docs/quickstart.md, run as written: the blocks marked `<!-- quickstart: server -->` start
tarnd, and those marked `<!-- quickstart: run -->` run in order in one bash session (Python
blocks with /usr/bin/python3 and PYTHONPATH=build/release/python, as the page says), from an
empty data directory to a dataset read into pandas through the CLI and the SDK. The only change
is a free port in place of 10000 and a temporary data directory. All of it runs twice: a
newcomer who runs the steps again must not fail."""

import re
import signal
import subprocess

from conftest import PYTHON_DIR, REPO
from tarn_harness import _pdeathsig

PAGE = REPO / "docs" / "quickstart.md"
BLOCK = re.compile(r"<!-- quickstart: (server|run) -->\n```(sh|python)\n(.*?)```", re.S)


def blocks():
    found = BLOCK.findall(PAGE.read_text())
    assert found, "docs/quickstart.md has no marked blocks"
    return found


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_quickstart_runs_as_written_and_again(tmp_path):
    port = free_port()
    data = tmp_path / "tarn-data"

    def local(text):
        return text.replace("127.0.0.1:10000", f"127.0.0.1:{port}").replace("/var/lib/tarn",
                                                                             str(data))

    server_lines, script = [], ["set -euo pipefail"]
    for kind, lang, body in blocks():
        body = local(body)
        if kind == "server":
            server_lines += [ln for ln in body.splitlines() if ln and not ln.startswith("#")]
        elif lang == "sh":
            script.append(body)
        else:
            script.append(f"PYTHONPATH={PYTHON_DIR} /usr/bin/python3 - <<'QUICKSTART_PY'\n"
                          f"{body}QUICKSTART_PY")
    start = [ln for ln in server_lines if "/tarnd " in ln]
    assert len(start) == 1, server_lines
    for ln in server_lines:
        if ln is not start[0]:
            subprocess.run(["bash", "-c", ln], cwd=REPO, check=True, timeout=1200)
    log = open(tmp_path / "tarnd.log", "wb")
    tarnd = subprocess.Popen(["bash", "-c", "exec " + start[0]], cwd=REPO, stdout=log,
                             stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)
    try:
        import time
        deadline = time.time() + 30
        while b"listening on" not in (tmp_path / "tarnd.log").read_bytes():
            assert tarnd.poll() is None, (tmp_path / "tarnd.log").read_text()
            assert time.time() < deadline, "tarnd did not start"
            time.sleep(0.1)
        text = "\n".join(script)
        for attempt in ("first", "second"):
            out = subprocess.run(["bash", "-c", text], cwd=REPO, capture_output=True, text=True,
                                 timeout=600)
            assert out.returncode == 0, f"{attempt} run:\n{out.stdout}\n{out.stderr}"
            # The dataset reached pandas: both rows of the uploaded CSV.
            assert re.search(r"0\s+1\s+9\.5", out.stdout), out.stdout
            assert re.search(r"1\s+2\s+3\.25", out.stdout), out.stdout
            assert "'sales-archive/2024/01.csv'" in out.stdout, out.stdout
    finally:
        tarnd.send_signal(signal.SIGTERM)
        try:
            tarnd.wait(15)
        except subprocess.TimeoutExpired:
            tarnd.kill()
            tarnd.wait(15)
        log.close()
