"""Blob Batch (issue 16): ContainerClient.delete_blobs and set_standard_blob_tier_blobs of
Microsoft's Blob SDK against tarnd. Each sub-request is authenticated and authorized on its own,
through the same pipeline as a request of its own: a SAS that may not delete, or a principal with
only a Reader role, gets a 403 in each part. Debian's older SDK writes sub-request paths without
the account (/<container>/<blob>); the current one (.venv) writes /<account>/<container>/<blob>
on a path-style URL. Both run this file (scripts/test.sh)."""

import email.utils
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (BlobServiceClient, ContainerClient, ContainerSasPermissions,
                                generate_container_sas)

from identity_admin import Directory
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient, sign
from tarn_harness import NO_INSTANCE_DISCOVERY, SDK_KWARGS, unique_name

try:
    from azure.storage.blob import PartialBatchErrorException
except ImportError:  # pragma: no cover - every SDK with batches has it
    PartialBatchErrorException = HttpResponseError


def fill(c, names):
    for n in names:
        c.upload_blob(n, n.encode())


def test_delete_blobs_in_one_batch(tarn, container):
    names = [f"dir/part-{i:03}.csv" for i in range(40)] + ["top.txt"]
    fill(container, names)
    responses = list(container.delete_blobs(*names))
    assert [r.status_code for r in responses] == [202] * len(names)
    assert all(r.headers.get("x-ms-request-id") for r in responses)
    assert [b.name for b in container.list_blobs()] == ["dir"]  # the directory stays


def test_a_missing_blob_fails_its_part_only(tarn, container):
    fill(container, ["a", "c"])
    with pytest.raises(PartialBatchErrorException) as e:
        container.delete_blobs("a", "b", "c")
    parts = e.value.parts
    assert [p.status_code for p in parts] == [202, 404, 202]
    assert parts[1].headers["x-ms-error-code"] == "BlobNotFound"
    assert list(container.list_blobs()) == []
    # Without raise_on_any_failure the parts come back as they are.
    fill(container, ["x"])
    got = list(container.delete_blobs("x", "y", raise_on_any_failure=False))
    assert [p.status_code for p in got] == [202, 404]


def test_set_tier_in_a_batch(tarn, container):
    fill(container, ["t1", "t2"])
    responses = list(container.set_standard_blob_tier_blobs("Hot", "t1", "t2"))
    assert [r.status_code for r in responses] == [200, 200]


def test_each_sub_request_is_authorized_with_its_own_sas(tarn, container):
    fill(container, ["s1", "s2"])
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    read_only = generate_container_sas(ACCOUNT, container.container_name, ACCOUNT_KEY,
                                       permission=ContainerSasPermissions(read=True),
                                       expiry=expiry)
    c = ContainerClient(f"{tarn.url}/{ACCOUNT}", container.container_name,
                        credential=read_only, **SDK_KWARGS)
    with pytest.raises(HttpResponseError) as e:
        c.delete_blobs("s1", "s2")
    # The batch itself needs a SAS that may delete or write.
    assert e.value.status_code == 403
    may_delete = generate_container_sas(ACCOUNT, container.container_name, ACCOUNT_KEY,
                                        permission=ContainerSasPermissions(delete=True),
                                        expiry=expiry)
    c = ContainerClient(f"{tarn.url}/{ACCOUNT}", container.container_name,
                        credential=may_delete, **SDK_KWARGS)
    assert [r.status_code for r in c.delete_blobs("s1", "s2")] == [202, 202]


def test_a_reader_principal_gets_403_in_every_part(tarn, container):
    from azure.identity import ClientSecretCredential
    fill(container, ["r1", "r2"])
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "batcher")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}")
    cred = ClientSecretCredential(tenant, sp["app_id"], sp["secret"], authority=tarn.https_url,
                                  **NO_INSTANCE_DISCOVERY, connection_verify=tarn.ca_file)
    svc = BlobServiceClient(f"{tarn.https_url}/{ACCOUNT}", credential=cred,
                            connection_verify=tarn.ca_file, **SDK_KWARGS)
    c = svc.get_container_client(container.container_name)
    with pytest.raises(PartialBatchErrorException) as e:
        c.delete_blobs("r1", "r2")
    assert [p.status_code for p in e.value.parts] == [403, 403]
    assert e.value.parts[0].headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"
    assert sorted(b.name for b in container.list_blobs()) == ["r1", "r2"]
    d.assign(sp["object_id"], "Storage Blob Data Contributor", f"/{ACCOUNT}")
    assert [r.status_code for r in c.delete_blobs("r1", "r2")] == [202, 202]


def test_more_than_256_sub_requests_are_refused(tarn, container):
    with pytest.raises(HttpResponseError) as e:
        container.delete_blobs(*[f"n{i}" for i in range(257)])
    assert e.value.status_code == 400
    assert e.value.error_code == "ExceedsMaxBatchRequestCount"


# ----- the wire format, by hand: what other clients may send ---------------------------------

def part(i, method, target, key=ACCOUNT_KEY, extra=None):
    headers = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-10-04"}
    headers.update(extra or {})
    path, _, query = target.partition("?")
    pairs = [tuple(q.split("=", 1)) for q in query.split("&")] if query else []
    headers["Authorization"] = sign(method, path, pairs, {**headers, "Content-Length": "0"},
                                    ACCOUNT, key)
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: {i}\r\n\r\n" + "\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")


def send(tarn, path, query, parts):
    body = ("".join(parts) + "--batch_x--\r\n").encode()
    return RawClient(tarn).request("POST", path, query,
                                   {"Content-Type": "multipart/mixed; boundary=batch_x"}, body)


def answers(r):
    boundary = r.header("Content-Type").split("boundary=")[1]
    chunks = r.body.decode().split("--" + boundary)[1:-1]
    return [int(c.split("HTTP/1.1 ")[1][:3]) for c in chunks]


def test_account_batch_and_account_less_paths(tarn, container):
    fill(container, ["w1", "w2", "w3"])
    name = container.container_name
    r = send(tarn, f"/{ACCOUNT}/", [("comp", "batch")],
             [part(0, "DELETE", f"/{name}/w1"), part(1, "DELETE", f"/{ACCOUNT}/{name}/w2"),
              part(2, "DELETE", f"/{name}/w3", key="c2lnbmVkIHdpdGggYW5vdGhlciBrZXk=")])
    assert r.status == 202, r
    assert r.header("Content-Type").startswith("multipart/mixed; boundary=batchresponse_")
    assert answers(r) == [202, 202, 403]
    assert [b.name for b in container.list_blobs()] == ["w3"]


def test_sub_requests_stay_in_the_batch_container_and_operation(tarn, container):
    fill(container, ["k1"])
    other = unique_name("other")
    tarn.blob_service().create_container(other).upload_blob("k2", b"x")
    try:
        name = container.container_name
        r = send(tarn, f"/{ACCOUNT}/{name}", [("restype", "container"), ("comp", "batch")],
                 [part(0, "DELETE", f"/{other}/k2"), part(1, "DELETE", f"/{name}/k1")])
        assert answers(r) == [400, 202]
        assert [b.name for b in tarn.blob_service().get_container_client(other).list_blobs()] \
            == ["k2"]
        # Only Delete Blob and Set Blob Tier, and not both in one batch.
        r = send(tarn, f"/{ACCOUNT}/{name}", [("restype", "container"), ("comp", "batch")],
                 [part(0, "GET", f"/{name}/k1")])
        assert r.status == 400 and r.error_code == "InvalidInput"
        r = send(tarn, f"/{ACCOUNT}/{name}", [("restype", "container"), ("comp", "batch")],
                 [part(0, "DELETE", f"/{name}/k1"),
                  part(1, "PUT", f"/{name}/k1?comp=tier", extra={"x-ms-access-tier": "Hot"})])
        assert r.status == 400 and b"mixes DELETE with PUT" in r.body
        # PUT without comp=tier would be Put Blob: refused in its part.
        r = send(tarn, f"/{ACCOUNT}/{name}", [("restype", "container"), ("comp", "batch")],
                 [part(0, "PUT", f"/{name}/k9")])
        assert answers(r) == [400]
        assert [b.name for b in container.list_blobs()] == []
    finally:
        tarn.blob_service().delete_container(other)


def test_malformed_batches_are_refused_whole(tarn, container):
    name = container.container_name
    path, query = f"/{ACCOUNT}/{name}", [("restype", "container"), ("comp", "batch")]
    raw = RawClient(tarn)
    for content_type, body in [
        ("application/xml", b"x"),
        ("multipart/mixed", b"--x\r\n"),
        ("multipart/mixed; boundary=batch_x", b"no parts at all"),
        ("multipart/mixed; boundary=batch_x",
         b"--batch_x\r\nContent-Type: text/plain\r\n\r\nDELETE /a HTTP/1.1\r\n\r\n--batch_x--"),
        ("multipart/mixed; boundary=batch_x",
         b"--batch_x\r\nContent-Type: application/http\r\n\r\nnot http\r\n\r\n--batch_x--"),
        ("multipart/mixed; boundary=batch_x",
         b"--batch_x\r\nContent-Type: application/http\r\n\r\nDELETE /a HTTP/1.1\r\n"),
    ]:
        r = raw.request("POST", path, query, {"Content-Type": content_type}, body)
        assert r.status == 400 and r.error_code == "InvalidInput", (body, r)
    # Anonymous callers cannot send a batch at all.
    r = raw.request("POST", path, query, {"Content-Type": "multipart/mixed; boundary=b"},
                    b"--b\r\n", sign_with=False)
    assert r.status in (401, 403)


def test_batches_do_not_nest(tarn, container):
    name = container.container_name
    inner = part(0, "POST", f"/{ACCOUNT}/{name}?restype=container&comp=batch")
    r = send(tarn, f"/{ACCOUNT}/{name}", [("restype", "container"), ("comp", "batch")], [inner])
    assert r.status == 400
