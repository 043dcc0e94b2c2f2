"""A full data disk (issue 11): tarnd on a small tmpfs filled to the last byte keeps serving
reads and deletes, restarts cleanly, answers Azure's code without local paths, and takes new
data again once space is freed.

The test mounts its own tmpfs (it runs as root, as the test command does) and unmounts it.
"""

import json
import os
import socket
import subprocess
import threading
import time

import pytest

from sharedkey import ACCOUNT, RawClient

A = ACCOUNT
MiB = 1 << 20
FS = "full"
# What a 1 MiB upload needs free under the test's limits: disk_min_free_mb (8), the reserve while
# it is given back (8), the upload, and 2 MiB for its metadata.
ROOM = (8 + 8 + 1 + 2) * MiB


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"cannot mount a tmpfs for the test (run as root): {r.stderr}"
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def free_bytes(path):
    s = os.statvfs(path)
    return s.f_bavail * s.f_frsize


def fill(path, name="filler"):
    """Writes zeros until the filesystem has no byte left."""
    block = b"\0" * MiB
    with open(path / name, "wb", buffering=0) as f:
        for size in (MiB, 64 << 10, 4096, 512, 1):
            chunk = block[:size]
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
    return free_bytes(path)


def wait_for_room(path, need=ROOM, timeout=20):
    """Waits until the filesystem has `need` bytes free: what tarnd's deletes free is given back
    by its collector, after the answer (and later when the machine is busy), and SQLite's WAL
    is checkpointed in the background. Fails if the room never comes: space would be leaked."""
    deadline = time.monotonic() + timeout
    while free_bytes(path) < need:
        assert time.monotonic() < deadline, (
            f"{free_bytes(path)} bytes free after {timeout} s, {need} needed: space leaked?")
        time.sleep(0.05)


def chunked_upload(srv, raw, path, mib):
    """Put Blob with a chunked body of `mib` MiB, sent while another thread reads the answer
    (the server answers as soon as the disk is full, before the body ends)."""
    target, hdrs = raw.prepare("PUT", path, headers={"x-ms-blob-type": "BlockBlob",
                                                     "Transfer-Encoding": "chunked"},
                               content_length=False)
    head = f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    got = bytearray()
    done = threading.Event()

    def reader():
        try:
            while True:
                b = sock.recv(65536)
                if not b:
                    break
                got.extend(b)
        except OSError:
            pass
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    chunk = b"%x\r\n" % MiB + b"c" * MiB + b"\r\n"
    try:
        sock.sendall(head.encode())
        for _ in range(mib):
            if done.is_set() or b"\r\n\r\n" in got:
                break
            sock.sendall(chunk)
        else:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    done.wait(60)
    sock.close()
    t.join(5)
    text = got.decode("utf-8", "replace")
    head_text, _, body = text.partition("\r\n\r\n")
    status = int(head_text.split(" ", 2)[1]) if head_text.startswith("HTTP/1.1 ") else None
    return status, head_text, body


def put(raw, name, data):
    return raw.request("PUT", f"/{A}/{FS}/{name}", headers={"x-ms-blob-type": "BlockBlob"},
                       body=data)


def assert_no_local_path(resp, disk):
    body = resp.body.decode("utf-8", "replace")
    assert str(disk) not in body and "/extents" not in body and "meta.db" not in body, body


def test_full_disk_keeps_reads_deletes_and_restart_working(tarn_factory, small_disk, request):
    config = small_disk / "tarnd.json"
    config.write_text(json.dumps({"limits": {"disk_reserve_mb": 8, "disk_min_free_mb": 8,
                                             "disk_critical_free_mb": 2}}))
    os.chmod(config, 0o600)
    srv = tarn_factory(data_dir=small_disk / "data",
                       extra_args=["--config", str(config), "--tls-listen", "off"])
    raw = RawClient(srv)
    assert raw.request("PUT", f"/{A}/{FS}", [("restype", "container")]).status == 201
    assert (small_disk / "data" / "reserve").exists(), "the reserve is held on a roomy disk"
    tried = 0

    # A chunked upload of unknown size runs into the end of the disk: a clean 503, no path.
    status, head, body = chunked_upload(srv, raw, f"/{A}/{FS}/too-big", 80)
    tried += 1
    assert status == 503 and "x-ms-error-code: ServerBusy" in head, (status, head, body)
    assert str(small_disk) not in body
    assert raw.request("HEAD", f"/{A}/{FS}/too-big").status == 404

    # Uploads of known size are refused before the disk is too full for metadata.
    stored = []
    for i in range(100):
        resp = put(raw, f"b{i:03d}", bytes([i]) * (2 * MiB))
        tried += 1
        if resp.status == 503:
            assert resp.error_code == "ServerBusy", resp
            assert "full" in resp.body.decode(), resp
            assert_no_local_path(resp, small_disk)
            break
        assert resp.status == 201, resp
        stored.append(f"b{i:03d}")
    else:
        pytest.fail("64 MiB of tmpfs took 200 MiB of uploads")
    assert len(stored) >= 5, stored

    # tarnd stops; another program fills the disk to the last byte; tarnd starts again: the
    # reserve gives its space to start-up, and reads and deletes work.
    srv.stop()
    assert (small_disk / "data" / "reserve").exists()
    assert fill(small_disk) == 0
    srv.start()
    assert not (small_disk / "data" / "reserve").exists(), "the reserve was released at start"
    for name in stored[:2]:
        assert raw.request("GET", f"/{A}/{FS}/{name}").status == 200
        resp = raw.request("DELETE", f"/{A}/{FS}/{name}")
        tried += 1
        assert resp.status == 202, resp
    resp = put(raw, "late", b"x" * MiB)
    tried += 1
    assert resp.status == 503 and resp.error_code == "ServerBusy", resp
    assert_no_local_path(resp, small_disk)

    # Space freed outside: new data is taken again, and the reserve is held again.
    os.unlink(small_disk / "filler")
    wait_for_room(small_disk)
    resp = put(raw, "after", b"a" * MiB)
    assert resp.status == 201, resp
    assert (small_disk / "data" / "reserve").exists(), "the reserve is held again"

    # While tarnd runs, another program fills the disk to the last byte: reads still work, and
    # deletes (the reserve gives its space to their metadata commits) and metadata changes too.
    assert fill(small_disk) == 0
    for name in stored[2:4]:
        assert raw.request("GET", f"/{A}/{FS}/{name}").status == 200
        resp = raw.request("DELETE", f"/{A}/{FS}/{name}")
        tried += 1
        assert resp.status == 202, resp
    assert not (small_disk / "data" / "reserve").exists(), "the reserve was released"
    assert raw.request("PUT", f"/{A}/{FS}/dir", [("resource", "directory")]).status == 201
    resp = put(raw, "later", b"x" * MiB)
    tried += 1
    assert resp.status == 503 and resp.error_code == "ServerBusy", resp
    assert_no_local_path(resp, small_disk)
    listing = raw.request("GET", f"/{A}/{FS}", [("restype", "container"), ("comp", "list")])
    assert listing.status == 200
    for name in stored[4:] + ["after"]:
        assert f"<Name>{name}</Name>".encode() in listing.body, name
    for name in stored[:4]:
        assert f"<Name>{name}</Name>".encode() not in listing.body, name
    os.unlink(small_disk / "filler")
    wait_for_room(small_disk)
    resp = put(raw, "last", b"l" * MiB)
    assert resp.status == 201, resp
    assert srv.alive()
    request.config.tarn_figures["full-disk test requests refused cleanly (no 500)"] = tried
