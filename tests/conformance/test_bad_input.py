"""Malformed and hostile requests, sent as raw HTTP with our own Shared Key signer.

Every malformed request must get the status and error code a real account returns, must not
crash tarnd, and must not change state. After each bad request these tests check that the
server is still alive and that a listing of the account and the test filesystem is unchanged.

Every response (success or error) must carry x-ms-request-id, x-ms-version and Date; every error
carries x-ms-error-code, and an XML <Error><Code/><Message/></Error> body for Blob-shaped
requests or a JSON {"error":{"code","message"}} body for DFS-shaped ones.
"""

import email.utils
import json
import socket
import struct
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest

from sharedkey import ACCOUNT, RawClient, X_MS_VERSION, build_query, sign
from tarn_harness import unique_name

A = ACCOUNT
WRONG_KEY = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="


# ----- helpers ---------------------------------------------------------------------------------

def assert_common(resp):
    for h in ("x-ms-request-id", "x-ms-version", "Date"):
        assert resp.header(h), f"response lacks {h}: {resp!r}"


def assert_error(resp, status, codes, shape=None):
    """shape: 'xml' (Blob-shaped request), 'json' (DFS-shaped), or None (no body check, e.g.
    HEAD or requests that are neither)."""
    if isinstance(codes, str):
        codes = {codes}
    assert resp.status == status, f"expected {status} {sorted(codes)}, got {resp!r}"
    assert_common(resp)
    code = resp.error_code
    assert code, f"error response lacks x-ms-error-code: {resp!r}"
    assert code in codes, f"expected x-ms-error-code in {sorted(codes)}, got {code}: {resp!r}"
    if shape == "xml":
        try:
            root = ET.fromstring(resp.body)
        except ET.ParseError as e:
            pytest.fail(f"Blob-shaped error body is not XML ({e}): {resp!r}")
        assert root.tag == "Error", resp
        assert root.findtext("Code") == code, f"XML <Code> differs from header: {resp!r}"
        assert root.find("Message") is not None, resp
    elif shape == "json":
        try:
            doc = json.loads(resp.body)
        except ValueError as e:
            pytest.fail(f"DFS-shaped error body is not JSON ({e}): {resp!r}")
        assert doc["error"]["code"] == code, f"JSON code differs from header: {resp!r}"
        assert "message" in doc["error"], resp
    return code


def assert_ok(resp, *statuses):
    assert resp.status in statuses, f"expected {statuses}, got {resp!r}"
    assert_common(resp)
    return resp


def q(path):
    """Percent-encodes a path for the wire (keeps '/')."""
    return urllib.parse.quote(path, safe="/")


def list_paths(raw, fs):
    """Full recursive DFS listing of a filesystem: sorted (name, isDirectory, contentLength)."""
    out = []
    cont = None
    while True:
        query = [("resource", "filesystem"), ("recursive", "true")]
        if cont:
            query.append(("continuation", cont))
        r = raw.request("GET", f"/{A}/{fs}", query)
        assert_ok(r, 200)
        for p in json.loads(r.body).get("paths", []):
            out.append((p["name"], p.get("isDirectory", "false"), p.get("contentLength", "0")))
        cont = r.header("x-ms-continuation")
        if not cont:
            break
    return sorted(out)


def list_containers(raw):
    names = []
    marker = None
    while True:
        query = [("comp", "list")]
        if marker:
            query.append(("marker", marker))
        r = raw.request("GET", f"/{A}", query)
        assert_ok(r, 200)
        root = ET.fromstring(r.body)
        names += [c.findtext("Name") for c in root.iter("Container")]
        marker = root.findtext("NextMarker")
        if not marker:
            break
    return sorted(names)


class State:
    """Snapshot of what a bad request must not change."""

    def __init__(self, tarn, raw, fs):
        self.tarn, self.raw, self.fs = tarn, raw, fs
        self.before = self.take()

    def take(self):
        return (list_containers(self.raw), list_paths(self.raw, self.fs))

    def assert_unchanged(self):
        assert self.tarn.alive(), f"tarnd died\n{self.tarn.describe()}"
        after = self.take()
        assert after == self.before, (f"state changed:\n before={self.before}\n"
                                      f" after={after}")


def raw_request_bytes(raw, method, raw_path, query=(), headers=None, body=b"",
                      declared_length=None, omit_length=False):
    """A signed request as bytes. declared_length lets the Content-Length lie about the body."""
    hdrs = {
        "x-ms-version": X_MS_VERSION,
        "x-ms-date": email.utils.formatdate(usegmt=True),
        "x-ms-client-request-id": str(uuid.uuid4()),
    }
    if not omit_length:
        hdrs["Content-Length"] = str(len(body) if declared_length is None else declared_length)
    hdrs.update(headers or {})
    hdrs["Authorization"] = sign(method, raw_path, list(query), hdrs)
    target = raw_path
    if query:
        target += "?" + build_query(query)
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{raw.port}"]
    lines += [f"{k}: {v}" for k, v in hdrs.items()]
    # Surrogate escapes (e.g. "\udcff") become the raw byte they stand for (0xFF).
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body


def undo_if_accepted(raw, resp, raw_path, container=False):
    """A bad create that the server wrongly accepted is deleted again, so that one wrong answer
    does not poison the state every later test compares against. The test still fails."""
    if 200 <= resp.status < 300:
        if container:
            raw.request("DELETE", raw_path, [("restype", "container")])
        else:
            raw.request("DELETE", raw_path, [("recursive", "true")])
    return resp


# ----- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def raw(tarn):
    return RawClient(tarn)


@pytest.fixture(scope="module")
def fs(raw):
    name = unique_name("bad")
    r = raw.request("PUT", f"/{A}/{name}", [("resource", "filesystem")])
    assert_ok(r, 201)
    return name


@pytest.fixture
def state(tarn, raw, fs):
    return State(tarn, raw, fs)


@pytest.fixture
def scratch_fs(tarn, raw):
    """A throwaway filesystem for tests whose failure could leave a poisoned entry behind
    (one that breaks every later listing); it is deleted afterwards in any case."""
    name = unique_name("scratch")
    assert_ok(raw.request("PUT", f"/{A}/{name}", [("resource", "filesystem")]), 201)
    yield name
    if tarn.alive():  # (a dead server is reported and restarted by conftest._server_survives)
        raw.request("DELETE", f"/{A}/{name}", [("restype", "container")])


def put_blob(raw, fs, path, data, extra=None):
    h = {"x-ms-blob-type": "BlockBlob"}
    h.update(extra or {})
    return assert_ok(raw.request("PUT", f"/{A}/{fs}/{q(path)}", headers=h, body=data), 201)


def create_path(raw, fs, path, kind="file"):
    return assert_ok(raw.request("PUT", f"/{A}/{fs}/{q(path)}",
                                 [("resource", kind)]), 201)


def delete_path(raw, fs, path, recursive=True):
    query = [("recursive", "true" if recursive else "false")]
    return raw.request("DELETE", f"/{A}/{fs}/{q(path)}", query)


# ----- authentication ---------------------------------------------------------------------------

def test_bad_signature_blob_shaped(raw, state):
    r = raw.request("GET", f"/{A}", [("comp", "list")], sign_with=WRONG_KEY)
    assert_error(r, 403, "AuthenticationFailed", "xml")
    state.assert_unchanged()


def test_bad_signature_dfs_shaped(raw, fs, state):
    r = raw.request("GET", f"/{A}/{fs}", [("resource", "filesystem"), ("recursive", "false")],
                    sign_with=WRONG_KEY)
    assert_error(r, 403, "AuthenticationFailed", "json")
    state.assert_unchanged()


def test_bad_signature_write_changes_nothing(raw, fs, state):
    r = raw.request("PUT", f"/{A}/{fs}/badsig.txt", headers={"x-ms-blob-type": "BlockBlob"},
                    body=b"should not land", sign_with=WRONG_KEY)
    assert_error(r, 403, "AuthenticationFailed")
    r = raw.request("PUT", f"/{A}/{fs}/badsig-dir", [("resource", "directory")],
                    sign_with=WRONG_KEY)
    assert_error(r, 403, "AuthenticationFailed", "json")
    r = raw.request("PUT", f"/{A}/{unique_name('badsig')}", [("restype", "container")],
                    sign_with=WRONG_KEY)
    assert_error(r, 403, "AuthenticationFailed", "xml")
    state.assert_unchanged()


def test_tampered_header_after_signing(raw, fs, state):
    target, hdrs = raw.prepare("PUT", f"/{A}/{fs}/tampered.txt",
                               headers={"x-ms-blob-type": "BlockBlob", "x-ms-meta-a": "1"},
                               body=b"abc")
    hdrs["x-ms-meta-a"] = "2"  # signed with 1, sent with 2
    r = raw.send("PUT", target, hdrs, b"abc")
    assert_error(r, 403, "AuthenticationFailed")
    state.assert_unchanged()


def test_tampered_query_after_signing(raw, fs, state):
    target, hdrs = raw.prepare("PUT", f"/{A}/{fs}/tq", [("resource", "file")])
    r = raw.send("PUT", target.replace("resource=file", "resource=directory"), hdrs)
    assert_error(r, 403, "AuthenticationFailed", "json")
    state.assert_unchanged()


def test_newer_x_ms_version_is_accepted(raw, fs):
    r = raw.request("GET", f"/{A}/{fs}", [("resource", "filesystem"), ("recursive", "false")],
                    headers={"x-ms-version": "2026-06-06"})
    assert_ok(r, 200)


# ----- names -----------------------------------------------------------------------------------

BAD_FS_NAMES = [
    ("UPPERCASE", {"InvalidResourceName"}),
    ("Abc", {"InvalidResourceName"}),
    ("a--b", {"InvalidResourceName"}),
    ("-abc", {"InvalidResourceName"}),
    ("abc-", {"InvalidResourceName"}),
    ("ab_c", {"InvalidResourceName"}),
    # Length violations: Azure's Blob endpoint (as mirrored by Azurite) answers OutOfRangeInput
    # for container names outside 3..63; InvalidResourceName is accepted too.
    ("ab", {"InvalidResourceName", "OutOfRangeInput"}),
    ("a" * 64, {"InvalidResourceName", "OutOfRangeInput"}),
]


@pytest.mark.parametrize("name,codes", BAD_FS_NAMES, ids=[n[:12] for n, _ in BAD_FS_NAMES])
def test_invalid_filesystem_name_blob_create(raw, state, name, codes):
    r = raw.request("PUT", f"/{A}/{name}", [("restype", "container")])
    undo_if_accepted(raw, r, f"/{A}/{name}", container=True)
    assert_error(r, 400, codes, "xml")
    state.assert_unchanged()


@pytest.mark.parametrize("name,codes", BAD_FS_NAMES, ids=[n[:12] for n, _ in BAD_FS_NAMES])
def test_invalid_filesystem_name_dfs_create(raw, state, name, codes):
    r = raw.request("PUT", f"/{A}/{name}", [("resource", "filesystem")])
    undo_if_accepted(raw, r, f"/{A}/{name}", container=True)
    assert_error(r, 400, codes, "json")
    state.assert_unchanged()


DOT_PATHS = [
    "dots/./x",           # literal '.' segment
    "dots/../x",          # literal '..' segment
    "dots%2F..%2Fx",      # DFS style, '/' encoded
    "dots%2F.%2Fx",
    "dots/%2E%2E/x",      # '..' percent-encoded
    "..",
    ".",
    "dots/..",
]


@pytest.mark.parametrize("raw_path", DOT_PATHS)
def test_dot_segments_rejected_dfs_create(raw, fs, state, raw_path):
    for kind in ("file", "directory"):
        r = raw.request("PUT", f"/{A}/{fs}/{raw_path}", [("resource", kind)])
        undo_if_accepted(raw, r, f"/{A}/{fs}/{raw_path}")
        assert_error(r, 400, _any_code(r), "json")
    state.assert_unchanged()


@pytest.mark.parametrize("raw_path", DOT_PATHS)
def test_dot_segments_rejected_blob_put(raw, fs, state, raw_path):
    r = raw.request("PUT", f"/{A}/{fs}/{raw_path}", headers={"x-ms-blob-type": "BlockBlob"},
                    body=b"x")
    undo_if_accepted(raw, r, f"/{A}/{fs}/{raw_path}")
    assert_error(r, 400, _any_code(r))
    state.assert_unchanged()


def test_dot_segment_in_rename_source_rejected(raw, fs, state):
    r = raw.request("PUT", f"/{A}/{fs}/renamed-dots", [("mode", "legacy")],
                    headers={"x-ms-rename-source": f"/{fs}/a/../b"})
    assert_error(r, 400, _any_code(r), "json")
    state.assert_unchanged()


def _any_code(resp):
    """For cases where the exact Azure code is unverified: any code, as long as there is one."""
    return {resp.error_code} if resp.error_code else {"<missing x-ms-error-code>"}


def _long_path(n):
    """An ASCII path of exactly n characters made of 200-character segments."""
    segs = []
    remaining = n
    i = 0
    while remaining > 0:
        if segs:
            remaining -= 1  # the '/'
        take = min(200, remaining)
        segs.append((chr(ord("a") + i % 26) * take))
        remaining -= take
        i += 1
    p = "/".join(segs)
    assert len(p) == n
    return p


def test_name_of_1024_chars_is_accepted(raw, fs):
    p = _long_path(1024)
    create_path(raw, fs, p)
    r = raw.request("HEAD", f"/{A}/{fs}/{q(p)}")
    assert_ok(r, 200)
    top = p.split("/")[0]
    assert_ok(delete_path(raw, fs, top), 200)


@pytest.mark.parametrize("n", [1025, 2000, 8192])
def test_name_over_1024_chars_rejected(raw, fs, state, n):
    p = _long_path(n)
    r = raw.request("PUT", f"/{A}/{fs}/{q(p)}", [("resource", "file")])
    undo_if_accepted(raw, r, f"/{A}/{fs}/{q(p.split('/')[0])}")
    assert_error(r, 400, _any_code(r), "json")
    r = raw.request("PUT", f"/{A}/{fs}/{q(p)}", headers={"x-ms-blob-type": "BlockBlob"},
                    body=b"x")
    undo_if_accepted(raw, r, f"/{A}/{fs}/{q(p.split('/')[0])}")
    assert_error(r, 400, _any_code(r))
    state.assert_unchanged()


BAD_UTF8 = ["bad%FFname", "bad%C3%28", "bad%C0%AFname", "bad%ED%A0%80", "%80", "bad%F8%88%80%80%80"]


@pytest.mark.parametrize("raw_name", BAD_UTF8)
def test_invalid_utf8_path_rejected(raw, fs, state, raw_name):
    r1 = raw.request("PUT", f"/{A}/{fs}/{raw_name}", [("resource", "file")])
    undo_if_accepted(raw, r1, f"/{A}/{fs}/{raw_name}")
    r2 = raw.request("PUT", f"/{A}/{fs}/dir%2F{raw_name}", [("resource", "directory")])
    undo_if_accepted(raw, r2, f"/{A}/{fs}/dir")
    r3 = raw.request("PUT", f"/{A}/{fs}/{raw_name}", headers={"x-ms-blob-type": "BlockBlob"},
                     body=b"x")
    undo_if_accepted(raw, r3, f"/{A}/{fs}/{raw_name}")
    assert_error(r1, 400, _any_code(r1), "json")
    assert_error(r2, 400, _any_code(r2), "json")
    assert_error(r3, 400, _any_code(r3))
    state.assert_unchanged()


def test_invalid_utf8_in_rename_source_rejected(raw, fs, state):
    r = raw.request("PUT", f"/{A}/{fs}/rn-target", [("mode", "legacy")],
                    headers={"x-ms-rename-source": f"/{fs}/bad%FFsrc"})
    assert_error(r, 400, _any_code(r), "json")
    state.assert_unchanged()


@pytest.mark.parametrize("query", [
    [("resource", "filesystem"), ("recursive", "false"), ("directory", "bad\udcffdir")],
    [("resource", "filesystem"), ("recursive", "true"), ("continuation", "\udcff\udcfe")],
    [("restype", "container"), ("comp", "list"), ("prefix", "p\udcff")],
    [("restype", "container"), ("comp", "list"), ("marker", "\udcff")],
])
def test_invalid_utf8_in_query_values(raw, fs, state, query):
    """Percent-encoded bytes that are not UTF-8 (here 0xFF, 0xFE) in query values: rejected
    with a 4xx and an error code, or (if the server treats them as merely matching nothing) a
    2xx whose body is still well-formed JSON/XML. Never raw invalid bytes in the body."""
    r = raw.request("GET", f"/{A}/{fs}", query)
    shape = "json" if query[0][0] == "resource" else "xml"
    if 200 <= r.status < 300:
        assert_common(r)
        try:
            json.loads(r.body) if shape == "json" else ET.fromstring(r.body)
        except (ValueError, ET.ParseError) as e:
            pytest.fail(f"malformed {shape} body ({e}): {r!r}")
    else:
        assert 400 <= r.status < 500, r
        assert_error(r, r.status, _any_code(r), shape)
    state.assert_unchanged()


@pytest.mark.parametrize("header,value", [
    ("x-ms-meta-note", "caf\udce9"),            # latin-1 e-acute: not UTF-8
    ("x-ms-meta-bin", "\udcff\udcfe"),
    ("x-ms-content-type", "text/\udcff"),
    ("x-ms-properties", "k=\udcff"),            # not even base64
])
def test_non_utf8_header_values_do_not_break_anything(raw, scratch_fs, tarn, header, value):
    """A header value with raw non-UTF-8 bytes must be rejected (400) or stored in a way that
    keeps every later response well-formed: listings (JSON and XML) and HEAD still work."""
    fs = scratch_fs
    before = State(tarn, raw, fs)
    if header.startswith("x-ms-meta-"):
        req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/hdr8/blob.bin",
                                headers={"x-ms-blob-type": "BlockBlob", header: value},
                                body=b"x")
        target = f"/{A}/{fs}/hdr8/blob.bin"
    else:
        req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/hdr8/path.bin", [("resource", "file")],
                                headers={header: value})
        target = f"/{A}/{fs}/hdr8/path.bin"
    try:
        r = raw.raw_exchange(req)
    except ConnectionError as e:
        pytest.fail(f"no response to a request with {header}: {value!r} ({e})")
    assert_common(r)
    if r.status >= 400:
        assert r.status == 400, r
        assert r.error_code, r
        before.assert_unchanged()
        return
    # Accepted: everything that shows the stored value must still work.
    lst = raw.request("GET", f"/{A}/{fs}", [("resource", "filesystem"), ("recursive", "true")])
    assert_ok(lst, 200)
    json.loads(lst.body)
    lst = raw.request("GET", f"/{A}/{fs}", [("restype", "container"), ("comp", "list"),
                                             ("include", "metadata")])
    assert_ok(lst, 200)
    try:
        ET.fromstring(lst.body)
    except ET.ParseError as e:
        pytest.fail(f"{header} with non-UTF-8 bytes was accepted and now the Blob listing is "
                    f"not well-formed XML ({e}): {lst.body[:1500]!r}")
    assert_ok(raw.request("HEAD", target), 200)
    assert_ok(raw.request("HEAD", target, [("action", "getAccessControl")]), 200)
    assert tarn.alive()


def test_non_utf8_owner_in_set_access_control(raw, scratch_fs, tarn):
    fs = scratch_fs
    create_path(raw, fs, "acl8/f.txt")
    before = State(tarn, raw, fs)
    req = raw_request_bytes(raw, "PATCH", f"/{A}/{fs}/acl8/f.txt", [("action", "setAccessControl")],
                            headers={"x-ms-owner": "own\udcffer", "x-ms-group": "\udcfe"})
    r = raw.raw_exchange(req)
    assert_common(r)
    if r.status >= 400:
        assert_error(r, 400, _any_code(r), "json")
    # Either way the listing (which shows owner and group) must stay valid JSON.
    try:
        lst = raw.request("GET", f"/{A}/{fs}", [("resource", "filesystem"),
                                                 ("recursive", "true")])
    except (ConnectionError, OSError) as e:
        pytest.fail(f"setAccessControl with a non-UTF-8 owner answered {r.status}; the listing "
                    f"that follows got no response ({e})")
    assert_ok(lst, 200)
    json.loads(lst.body)
    assert tarn.alive()
    if r.status >= 400:
        before.assert_unchanged()


# ----- ranges ----------------------------------------------------------------------------------

def test_unsatisfiable_range_416(raw, fs, tarn):
    data = bytes(range(100))
    put_blob(raw, fs, "range/r100.bin", data)
    state = State(tarn, raw, fs)
    path = f"/{A}/{fs}/range/r100.bin"
    for hdr in ({"Range": "bytes=100-200"}, {"x-ms-range": "bytes=100-200"},
                {"x-ms-range": "bytes=500-"}, {"Range": "bytes=100-"}):
        r = raw.request("GET", path, headers=hdr)
        assert_error(r, 416, "InvalidRange")
    # Satisfiable neighbours still work, and the bytes are intact.
    r = assert_ok(raw.request("GET", path, headers={"x-ms-range": "bytes=99-200"}), 206)
    assert r.body == data[99:]
    r = assert_ok(raw.request("GET", path, headers={"Range": "bytes=10-19"}), 206)
    assert r.body == data[10:20]
    r = assert_ok(raw.request("GET", path), 200)
    assert r.body == data
    state.assert_unchanged()


# ----- DFS append / flush ----------------------------------------------------------------------

def test_flush_at_wrong_position(raw, fs, tarn):
    create_path(raw, fs, "flush/f.bin")
    path = f"/{A}/{fs}/flush/f.bin"
    body = b"0123456789"
    assert_ok(raw.request("PATCH", path, [("action", "append"), ("position", "0")], body=body),
              202)
    state = State(tarn, raw, fs)
    for pos in ("5", "20", "11"):
        r = raw.request("PATCH", path, [("action", "flush"), ("position", pos)])
        assert_error(r, 400, "InvalidFlushPosition", "json")
    state.assert_unchanged()
    r = assert_ok(raw.request("HEAD", path), 200)
    assert r.header("Content-Length") == "0", r
    # The right position commits the appended bytes.
    assert_ok(raw.request("PATCH", path, [("action", "flush"), ("position", "10")]), 200)
    r = assert_ok(raw.request("GET", path), 200)
    assert r.body == body


def test_append_flush_requires_existing_file(raw, fs, state):
    path = f"/{A}/{fs}/flush/never-created.bin"
    r = raw.request("PATCH", path, [("action", "append"), ("position", "0")], body=b"abc")
    assert_error(r, 404, "PathNotFound", "json")
    r = raw.request("PATCH", path, [("action", "flush"), ("position", "3")])
    assert_error(r, 404, "PathNotFound", "json")
    state.assert_unchanged()


def test_flush_with_body_rejected(raw, fs, tarn):
    create_path(raw, fs, "flush/g.bin")
    path = f"/{A}/{fs}/flush/g.bin"
    state = State(tarn, raw, fs)
    r = raw.request("PATCH", path, [("action", "flush"), ("position", "3")], body=b"abc")
    assert_error(r, 400, {"ContentLengthMustBeZero", "InvalidFlushPosition"}, "json")
    state.assert_unchanged()


# ----- rename / delete ---------------------------------------------------------------------------

def test_rename_directory_into_own_subtree(raw, fs, tarn):
    create_path(raw, fs, "tree/sub/leaf", "directory")
    create_path(raw, fs, "tree/sub/file.txt")
    state = State(tarn, raw, fs)
    for dest in ("tree/sub/inner", "tree/moved", "tree/sub/leaf/deeper", "tree"):
        r = raw.request("PUT", f"/{A}/{fs}/{q(dest)}", [("mode", "legacy")],
                        headers={"x-ms-rename-source": f"/{fs}/tree"})
        # Azure's DFS error table: 409 InvalidRenameSourcePath, "The source directory cannot be
        # the same as the destination directory, nor can the destination be a subdirectory of
        # the source directory." (Hadoop ABFS maps the same code to 409.)
        assert_error(r, 409, "InvalidRenameSourcePath", "json")
    state.assert_unchanged()


def test_rename_missing_source(raw, fs, state):
    r = raw.request("PUT", f"/{A}/{fs}/rn-dest", [("mode", "legacy")],
                    headers={"x-ms-rename-source": f"/{fs}/does-not-exist"})
    assert_error(r, 404, "SourcePathNotFound", "json")
    state.assert_unchanged()


def test_delete_non_empty_directory_without_recursive(raw, fs, tarn):
    create_path(raw, fs, "nonempty/child.txt")
    state = State(tarn, raw, fs)
    r = delete_path(raw, fs, "nonempty", recursive=False)
    assert_error(r, 409, "DirectoryNotEmpty", "json")
    state.assert_unchanged()


def test_create_existing_with_if_none_match_star(raw, fs, tarn):
    create_path(raw, fs, "exists/here.txt")
    state = State(tarn, raw, fs)
    r = raw.request("PUT", f"/{A}/{fs}/exists/here.txt", [("resource", "file")],
                    headers={"If-None-Match": "*"})
    assert_error(r, 409, "PathAlreadyExists", "json")
    state.assert_unchanged()


# ----- framing: Content-Length, dropped connections, oversized headers -------------------------

def test_missing_content_length_on_put_blob(raw, fs, state):
    req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/nolength.txt",
                            headers={"x-ms-blob-type": "BlockBlob", "Connection": "close"},
                            omit_length=True) + b"hello world"
    r = raw.raw_exchange(req)
    assert_error(r, 411, "MissingContentLengthHeader")
    time.sleep(0.2)
    state.assert_unchanged()


def _send_and_drop(raw, request_bytes):
    s = socket.create_connection(("127.0.0.1", raw.port), timeout=10)
    try:
        s.sendall(request_bytes)
        time.sleep(0.2)
    finally:
        s.close()


def test_short_body_then_disconnect_put_blob(raw, fs, state):
    body = b"x" * 1000
    req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/short-body.bin",
                            headers={"x-ms-blob-type": "BlockBlob"}, body=body,
                            declared_length=1024 * 1024)
    _send_and_drop(raw, req)
    time.sleep(0.5)
    r = raw.request("HEAD", f"/{A}/{fs}/short-body.bin")
    assert r.status == 404, f"a truncated Put Blob left something behind: {r!r}"
    state.assert_unchanged()


def test_short_body_then_disconnect_put_block(raw, fs, state):
    body = b"y" * 1000
    block_id = "YmxvY2stMDAwMQ=="
    req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/short-block.bin",
                            [("comp", "block"), ("blockid", block_id)], body=body,
                            declared_length=4 * 1024 * 1024)
    _send_and_drop(raw, req)
    time.sleep(0.5)
    # Committing that block must fail: it never arrived completely.
    xml = (f'<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>{block_id}</Latest>'
           f'</BlockList>').encode()
    r = raw.request("PUT", f"/{A}/{fs}/short-block.bin", [("comp", "blocklist")], body=xml)
    assert_error(r, 400, "InvalidBlockList", "xml")
    state.assert_unchanged()


def test_short_body_then_disconnect_dfs_append(raw, fs, tarn):
    create_path(raw, fs, "short/append.bin")
    path = f"/{A}/{fs}/short/append.bin"
    state = State(tarn, raw, fs)
    req = raw_request_bytes(raw, "PATCH", path, [("action", "append"), ("position", "0")],
                            body=b"z" * 500, declared_length=100000)
    _send_and_drop(raw, req)
    time.sleep(0.5)
    for pos in ("500", "100000"):
        r = raw.request("PATCH", path, [("action", "flush"), ("position", pos)])
        assert_error(r, 400, "InvalidFlushPosition", "json")
    r = assert_ok(raw.request("HEAD", path), 200)
    assert r.header("Content-Length") == "0", r
    state.assert_unchanged()


def test_body_longer_than_content_length_does_not_leak(raw, fs, state):
    """Extra bytes after the declared body are the next request on the connection; junk there
    must be rejected, and the first request must store exactly its declared bytes."""
    req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/exact.txt",
                            headers={"x-ms-blob-type": "BlockBlob"},
                            body=b"exactly!", declared_length=5)
    r = raw.raw_exchange(req)
    assert_ok(r, 201)
    r = assert_ok(raw.request("GET", f"/{A}/{fs}/exact.txt"), 200)
    assert r.body == b"exact"
    assert_ok(raw.request("DELETE", f"/{A}/{fs}/exact.txt"), 202)
    state.assert_unchanged()


@pytest.mark.parametrize("size", [100 * 1024, 1024 * 1024])
def test_oversized_header(raw, fs, state, size):
    req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/bighdr.txt",
                            headers={"x-ms-blob-type": "BlockBlob", "x-ms-meta-big": "a" * size},
                            body=b"x")
    try:
        r = raw.raw_exchange(req, read_timeout=15)
    except ConnectionError as e:
        pytest.fail(f"no HTTP response to a {size}-byte header ({e}); expected 431 or 400")
    assert r.status in (431, 400), r
    state.assert_unchanged()


def test_many_headers(raw, fs, state):
    extra = {f"x-ms-meta-h{i}": "v" * 100 for i in range(2000)}
    extra["x-ms-blob-type"] = "BlockBlob"
    req = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/manyhdr.txt", headers=extra, body=b"x")
    try:
        r = raw.raw_exchange(req, read_timeout=15)
    except ConnectionError as e:
        pytest.fail(f"no HTTP response to 2000 headers ({e}); expected 431 or 400")
    assert r.status in (431, 400), r
    state.assert_unchanged()


def test_oversized_url(raw, fs, state):
    long_query = "x" * (200 * 1024)
    req = (f"GET /{A}/{fs}?comp=list&restype=container&prefix={long_query} HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{raw.port}\r\nx-ms-version: {X_MS_VERSION}\r\n\r\n").encode()
    try:
        r = raw.raw_exchange(req, read_timeout=15)
    except ConnectionError as e:
        pytest.fail(f"no HTTP response to a 200 KB URL ({e}); expected 414, 431 or 400")
    assert r.status in (414, 431, 400), r
    state.assert_unchanged()


@pytest.mark.parametrize("junk", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"PUT /x HTTP/9.9\r\n\r\n",
    b"GET / HTTP/1.1\r\nNoColonHeader\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
    b"\x00\x01\x02\xff\xfe\r\n\r\n",
])
def test_malformed_http_gets_400(raw, state, junk):
    try:
        r = raw.raw_exchange(junk, read_timeout=10, shutdown_write=True)
    except ConnectionError as e:
        pytest.fail(f"no HTTP response to malformed request {junk[:30]!r} ({e})")
    assert 400 <= r.status < 500 or r.status == 505, r
    state.assert_unchanged()


def test_server_survives_abrupt_disconnects(raw, fs, state):
    # Connections that die in every phase of a request.
    prefixes = [b"", b"PU", b"PUT /" + A.encode(), b"PUT /devstoreaccount1/x HTTP/1.1\r\nHo"]
    for p in prefixes:
        s = socket.create_connection(("127.0.0.1", raw.port), timeout=5)
        if p:
            s.sendall(p)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    time.sleep(0.3)
    state.assert_unchanged()


# ----- response shapes -------------------------------------------------------------------------

def test_success_responses_carry_common_headers(raw, fs):
    assert_ok(raw.request("GET", f"/{A}", [("comp", "list")]), 200)
    assert_ok(raw.request("GET", f"/{A}", [("resource", "account")]), 200)
    assert_ok(raw.request("HEAD", f"/{A}/{fs}", [("restype", "container")]), 200)
    r = assert_ok(raw.request("HEAD", f"/{A}/{fs}", [("resource", "filesystem")]), 200)
    assert (r.header("x-ms-namespace-enabled") or "").lower() == "true", r
    assert_ok(raw.request("GET", f"/{A}/{fs}", [("resource", "filesystem"),
                                                   ("recursive", "false")]), 200)
    r = assert_ok(raw.request("GET", f"/{A}/", [("restype", "account"),
                                                   ("comp", "properties")]), 200)
    assert (r.header("x-ms-is-hns-enabled") or "").lower() == "true", r
    create_path(raw, fs, "shape/ok.txt")
    assert_ok(raw.request("HEAD", f"/{A}/{fs}/shape/ok.txt"), 200)
    assert_ok(raw.request("HEAD", f"/{A}/{fs}/shape/ok.txt",
                          [("action", "getAccessControl")]), 200)
    # The filesystem root: the Python SDK sends /fs/%2F, others /fs/.
    assert_ok(raw.request("HEAD", f"/{A}/{fs}/%2F", [("action", "getAccessControl"),
                                                     ("upn", "false")]), 200)
    assert_ok(raw.request("HEAD", f"/{A}/{fs}/", [("action", "getAccessControl")]), 200)


def test_not_found_error_shapes(raw, fs, state):
    # Blob-shaped: XML.
    r = raw.request("GET", f"/{A}/{fs}/nope.txt", [("comp", "metadata")])
    assert_error(r, 404, "BlobNotFound", "xml")
    r = raw.request("GET", f"/{A}/{unique_name('nofs')}", [("restype", "container"),
                                                           ("comp", "list")])
    assert_error(r, 404, "ContainerNotFound", "xml")
    # DFS-shaped: JSON.
    r = raw.request("GET", f"/{A}/{fs}", [("resource", "filesystem"), ("recursive", "false"),
                                           ("directory", "nope")])
    assert_error(r, 404, "PathNotFound", "json")
    r = raw.request("GET", f"/{A}/{unique_name('nofs')}", [("resource", "filesystem"),
                                                           ("recursive", "false")])
    assert_error(r, 404, "FilesystemNotFound", "json")
    r = raw.request("PATCH", f"/{A}/{fs}/nope.txt", [("action", "setAccessControl")],
                    headers={"x-ms-permissions": "rwxr-x---"})
    assert_error(r, 404, "PathNotFound", "json")
    # HEAD errors have no body but still carry the code.
    r = raw.request("HEAD", f"/{A}/{fs}/nope.txt")
    assert_error(r, 404, {"BlobNotFound", "PathNotFound"})
    state.assert_unchanged()


def test_unknown_query_action_rejected(raw, fs, state):
    r = raw.request("PATCH", f"/{A}/{fs}/x.txt", [("action", "explode")])
    # Unverified against Azure: an unknown enum value suggests 400 InvalidQueryParameterValue;
    # 405 UnsupportedHttpVerb ("verb or query combination") is in Azure's DFS table too.
    if r.status == 405:
        assert_error(r, 405, "UnsupportedHttpVerb", "json")
    else:
        assert_error(r, 400, {"InvalidQueryParameterValue"}, "json")
    state.assert_unchanged()


def test_pipelined_requests_on_one_connection(raw, fs, tarn):
    """HTTP/1.1 pipelining: three requests written back to back before any response is read
    get three responses, in order, on the same connection."""
    put = raw_request_bytes(raw, "PUT", f"/{A}/{fs}/pipe.txt",
                            headers={"x-ms-blob-type": "BlockBlob"}, body=b"pipelined body")
    get = raw_request_bytes(raw, "GET", f"/{A}/{fs}/pipe.txt", omit_length=True)
    missing = raw_request_bytes(raw, "HEAD", f"/{A}/{fs}/pipe-missing.txt", omit_length=True)
    s = socket.create_connection((raw.host, raw.port), timeout=30)
    try:
        s.sendall(put + get + missing)
        f = s.makefile("rb")
        statuses, bodies = [], []
        for method in ("PUT", "GET", "HEAD"):
            status_line = f.readline()
            assert status_line.startswith(b"HTTP/1.1 "), status_line
            statuses.append(int(status_line.split()[1]))
            length = 0
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            bodies.append(f.read(length) if method != "HEAD" else b"")
    finally:
        s.close()
    assert statuses == [201, 200, 404]
    assert bodies[1] == b"pipelined body"
    raw.request("DELETE", f"/{A}/{fs}/pipe.txt")
