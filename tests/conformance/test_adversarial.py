"""The adversarial suite (issue 11): the attacks an anonymous or lightly privileged caller tried
against tarnd, each answered with the status and Azure error code a real account gives, and each
followed by a check that the server is alive and that nothing the attack aimed at changed.

Connection-level attacks (smuggling, slowloris, missing Host, limits) are in
test_connections.py. Every hostile request sent here is counted (`hostile`), and the totals are
printed at the end of the run (conftest.py) for docs/security.md.
"""

import base64
import datetime
import hashlib
import hmac
import json
import urllib.parse

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from identity_admin import Directory
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient, X_MS_VERSION, sign
from tarn_harness import NO_INSTANCE_DISCOVERY, unique_name

A = ACCOUNT


@pytest.fixture(scope="module")
def raw(tarn):
    return RawClient(tarn)


@pytest.fixture(scope="module")
def hostile(request):
    """Counts hostile inputs sent by this module's tests."""
    counter = {"sent": 0}
    yield counter
    request.config.tarn_figures["hostile inputs (test_adversarial.py)"] = counter["sent"]


def attack(hostile, fn, *args, **kwargs):
    hostile["sent"] += 1
    return fn(*args, **kwargs)


def alive(tarn):
    assert tarn.alive(), f"tarnd died\n{tarn.describe()}"


def b64(data):
    return base64.b64encode(data).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def future(hours=1):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def read_bytes(raw, fs, path):
    r = raw.request("GET", f"/{A}/{fs}/{urllib.parse.quote(path)}")
    return r.status, r.body


@pytest.fixture(scope="module")
def lake(tarn, raw):
    """A private filesystem with a secret, and a drop filesystem others may write."""
    dl = tarn.datalake_service()
    private = dl.create_file_system(unique_name("private"))
    private.get_file_client("hr/salaries.csv").upload_data(b"name,pay\nada,100\n", overwrite=True)
    drop = dl.create_file_system(unique_name("drop"))
    drop.get_directory_client("inbox").create_directory()
    drop.get_file_client("other/x.txt").upload_data(b"x", overwrite=True)
    return private.file_system_name, drop.file_system_name


# ----- 0: routing is exact ----------------------------------------------------------------------

def test_unknown_comp_neither_writes_nor_serves_the_blob(tarn, raw, lake, hostile):
    _, drop = lake
    path = f"/{A}/{drop}/keep.txt"
    assert raw.request("PUT", path, headers={"x-ms-blob-type": "BlockBlob"},
                       body=b"precious").status == 201
    # Snapshots are refused on HNS accounts as Azure refuses them; an unknown comp is a bad
    # query value; neither may run as Put Blob and truncate the blob.
    expect = {"snapshot": (409, "FeatureNotYetSupportedForHierarchicalNamespaceAccounts"),
              "SNAPSHOT": (409, "FeatureNotYetSupportedForHierarchicalNamespaceAccounts"),
              "page": (409, "FeatureNotYetSupportedForHierarchicalNamespaceAccounts"),
              "appendblock": (409, "FeatureNotYetSupportedForHierarchicalNamespaceAccounts"),
              "tags": (400, "InvalidQueryParameterValue"),
              "bogus": (400, "InvalidQueryParameterValue"),
              "copy": (501, "NotImplemented")}
    for comp, (status, code) in expect.items():
        r = attack(hostile, raw.request, "PUT", path, [("comp", comp)],
                   {"x-ms-blob-type": "BlockBlob"}, b"")
        assert (r.status, r.error_code) == (status, code), (comp, r)
        assert read_bytes(raw, drop, "keep.txt") == (200, b"precious"), comp
    for method in ("GET", "HEAD", "DELETE"):
        for comp in ("tags", "bogus", "blobs"):
            r = attack(hostile, raw.request, method, path, [("comp", comp)])
            assert r.status == 400, (method, comp, r)
            if method != "HEAD":
                assert r.error_code == "InvalidQueryParameterValue", r
    assert read_bytes(raw, drop, "keep.txt") == (200, b"precious")
    # Other discriminators are exact too.
    r = attack(hostile, raw.request, "GET", f"/{A}/{drop}", [("restype", "bogus")])
    assert (r.status, r.error_code) == (400, "InvalidQueryParameterValue"), r
    r = attack(hostile, raw.request, "PATCH", path, [("action", "bogus")])
    assert (r.status, r.error_code) == (400, "InvalidQueryParameterValue"), r
    r = attack(hostile, raw.request, "PUT", path, [("restype", "container")])
    assert (r.status, r.error_code) == (405, "UnsupportedHttpVerb"), r
    assert read_bytes(raw, drop, "keep.txt") == (200, b"precious")
    alive(tarn)


def test_sdk_sees_the_codes_it_expects(tarn, lake, hostile):
    _, drop = lake
    blob = tarn.blob_service().get_blob_client(drop, "sdk.txt")
    blob.upload_blob(b"data", overwrite=True)
    hostile["sent"] += 2
    with pytest.raises(HttpResponseError) as e:
        blob.create_snapshot()
    assert e.value.error_code == "FeatureNotYetSupportedForHierarchicalNamespaceAccounts"
    with pytest.raises(HttpResponseError) as e:
        blob.get_blob_tags()
    assert e.value.error_code == "InvalidQueryParameterValue"
    assert blob.download_blob().readall() == b"data"
    # Get Blob Metadata is a real operation now, not a download.
    blob.set_blob_metadata({"k": "v"})
    r = RawClient(tarn).request("GET", f"/{A}/{drop}/sdk.txt", [("comp", "metadata")])
    assert r.status == 200 and r.body == b"" and r.header("x-ms-meta-k") == "v", r


# ----- 1, 2: crashes without credentials ------------------------------------------------------

def test_sas_on_paths_without_an_account_is_refused(tarn, hostile):
    sas = "sv=2020-12-06&sp=r&se=2099-01-01T00:00:00Z&sr=c&sig=AAAA"
    for path in ("/identity/tenants", "/identity", "/workspaces", "/workspaces/ws/datasets"):
        r = attack(hostile, requests.get, f"{tarn.url}{path}?{sas}", timeout=30)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert r.headers["x-ms-error-code"] == "AuthenticationFailed"
        alive(tarn)
    r = attack(hostile, requests.get, f"{tarn.url}/some-tenant/oauth2/v2.0/token?{sas}",
               timeout=30)
    assert r.status_code == 405 and r.json()["error"] == "invalid_request", r.text
    alive(tarn)


def test_bearer_tokens_with_hostile_jose_headers(tarn, lake, hostile):
    _, drop = lake
    for header in ({"alg": 1}, {"alg": None}, {"alg": []}, {"alg": {"x": 1}},
                   {"alg": "RS256", "kid": 5}, {"alg": "RS256", "kid": None},
                   {"alg": "none", "kid": "x"}):
        token = f"{b64url(json.dumps(header).encode())}.{b64url(b'{}')}.AAAA"
        r = attack(hostile, requests.get, f"{tarn.https_url}/{A}/{drop}?restype=container",
                   headers={"Authorization": f"Bearer {token}", "x-ms-version": X_MS_VERSION},
                   verify=tarn.ca_file, timeout=30)
        assert r.status_code == 401, (header, r.status_code, r.text)
        assert r.headers["x-ms-error-code"] == "InvalidAuthenticationInfo"
        alive(tarn)
    # Claims of the wrong types too (they are read only after the signature verifies, so these
    # never get that far, but the parser sees them).
    header = b64url(json.dumps({"alg": "RS256", "kid": "k"}).encode())
    token = f"{header}.{b64url(b'[1,2]')}.AAAA"
    r = attack(hostile, requests.get, f"{tarn.https_url}/{A}/{drop}?restype=container",
               headers={"Authorization": f"Bearer {token}"}, verify=tarn.ca_file, timeout=30)
    assert r.status_code == 401
    alive(tarn)


# ----- 3: Copy Blob authorizes its source ------------------------------------------------------

def copy_client(tarn, drop, name, credential, https=False):
    from azure.storage.blob import BlobClient
    base = tarn.https_url if https else tarn.url
    kwargs = {"connection_verify": tarn.ca_file} if https else {}
    return BlobClient(f"{base}/{A}", drop, name, credential=credential, retry_total=0, **kwargs)


def test_copy_blob_needs_read_access_to_its_source(tarn, raw, lake, hostile):
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas
    from azure.storage.filedatalake import DirectorySasPermissions, generate_directory_sas
    private, drop = lake
    source = f"{tarn.url}/{A}/{private}/hr/salaries.csv"
    # A container SAS for drop that may read, create and write there.
    drop_sas = generate_container_sas(A, drop, account_key=ACCOUNT_KEY,
                                      permission=ContainerSasPermissions(read=True, create=True,
                                                                         write=True),
                                      expiry=future())
    # A directory SAS for drop/inbox.
    dir_sas = generate_directory_sas(A, drop, "inbox", ACCOUNT_KEY,
                                     permission=DirectorySasPermissions(read=True, create=True,
                                                                        write=True),
                                     expiry=future())
    for name, cred in (("stolen1.csv", drop_sas), ("inbox/stolen2.csv", dir_sas)):
        hostile["sent"] += 1
        with pytest.raises(HttpResponseError) as e:
            copy_client(tarn, drop, name, cred).start_copy_from_url(source)
        assert e.value.status_code == 403, e.value
        assert e.value.error_code == "CannotVerifyCopySource", e.value
        assert read_bytes(raw, drop, name)[0] == 404
    # A source URL with a SAS of its own that may read it is a real grant.
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas
    read_sas = generate_blob_sas(A, private, "hr/salaries.csv", account_key=ACCOUNT_KEY,
                                 permission=BlobSasPermissions(read=True), expiry=future())
    copy_client(tarn, drop, "granted.csv", drop_sas).start_copy_from_url(f"{source}?{read_sas}")
    assert read_bytes(raw, drop, "granted.csv") == (200, b"name,pay\nada,100\n")
    # ... but not one that may only write.
    write_sas = generate_blob_sas(A, private, "hr/salaries.csv", account_key=ACCOUNT_KEY,
                                  permission=BlobSasPermissions(write=True), expiry=future())
    hostile["sent"] += 1
    with pytest.raises(HttpResponseError) as e:
        copy_client(tarn, drop, "stolen3.csv", drop_sas).start_copy_from_url(
            f"{source}?{write_sas}")
    assert e.value.error_code == "CannotVerifyCopySource"
    alive(tarn)


def test_copy_blob_source_on_another_server_is_not_served_locally(tarn, raw, lake, hostile):
    private, drop = lake
    port = int(tarn.url.rsplit(":", 1)[1])
    for other in (f"http://127.0.0.2:{port}", f"http://127.0.0.1:{port + 1}",
                  f"http://localhost.example:{port}", "ftp://127.0.0.1"):
        r = attack(hostile, raw.request, "PUT", f"/{A}/{drop}/far.csv",
                   headers={"x-ms-copy-source": f"{other}/{A}/{private}/hr/salaries.csv"})
        assert r.status in (400, 403), (other, r)
        assert r.error_code in ("CannotVerifyCopySource", "InvalidHeaderValue"), r
        assert read_bytes(raw, drop, "far.csv")[0] == 404
    # The account key's own copy within the server still works.
    r = raw.request("PUT", f"/{A}/{drop}/mine.csv",
                    headers={"x-ms-copy-source": f"{tarn.url}/{A}/{private}/hr/salaries.csv"})
    assert r.status == 202, r
    alive(tarn)


def test_copy_blob_by_a_contributor_of_the_destination_only(tarn, raw, lake, hostile):
    from azure.identity import ClientSecretCredential
    private, drop = lake
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "dropper")
    d.assign(sp["object_id"], "Storage Blob Data Contributor", f"/{A}/{drop}")
    cred = ClientSecretCredential(tenant, sp["app_id"], sp["secret"], authority=tarn.https_url,
                                  **NO_INSTANCE_DISCOVERY, connection_verify=tarn.ca_file)
    dest = copy_client(tarn, drop, "stolen4.csv", cred, https=True)
    hostile["sent"] += 1
    with pytest.raises(HttpResponseError) as e:
        dest.start_copy_from_url(f"{tarn.https_url}/{A}/{private}/hr/salaries.csv")
    assert e.value.status_code == 403 and e.value.error_code == "CannotVerifyCopySource"
    assert read_bytes(raw, drop, "stolen4.csv")[0] == 404
    # With Reader on the source, the same caller may copy it.
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{A}/{private}/hr")
    dest.start_copy_from_url(f"{tarn.https_url}/{A}/{private}/hr/salaries.csv")
    assert read_bytes(raw, drop, "stolen4.csv") == (200, b"name,pay\nada,100\n")
    alive(tarn)


# ----- 4: response splitting -------------------------------------------------------------------

def test_properties_that_would_split_a_response_are_refused(tarn, raw, hostile):
    fs = unique_name("public")
    assert raw.request("PUT", f"/{A}/{fs}", [("restype", "container")],
                       {"x-ms-blob-public-access": "blob"}).status == 201
    assert raw.request("PUT", f"/{A}/{fs}/f.txt", headers={"x-ms-blob-type": "BlockBlob"},
                       body=b"hi").status == 201
    evil = b64(b"x\r\nSet-Cookie: session=stolen\r\n\r\n<script>")
    for props in (f"evil={evil}", f"ok=,evil={evil}", f"nul={b64(b'a' + bytes([0]))}",
                  f"bad-name={b64(b'v')}", f"1st={b64(b'v')}", f"big={b64(b'v' * 9000)}",
                  f"utf={b64('é'.encode())}"):
        for method, path, query in (("PATCH", "f.txt", [("action", "setProperties")]),
                                    ("PUT", "new.txt", [("resource", "file")])):
            r = attack(hostile, raw.request, method, f"/{A}/{fs}/{path}", query,
                       {"x-ms-properties": props})
            assert (r.status, r.error_code) == (400, "InvalidHeaderValue"), (props, r)
    assert read_bytes(raw, fs, "new.txt")[0] == 404
    anon = requests.get(f"{tarn.url}/{A}/{fs}/f.txt", timeout=30)
    assert anon.status_code == 200 and anon.content == b"hi"
    assert "Set-Cookie" not in anon.headers
    good = raw.request("PATCH", f"/{A}/{fs}/f.txt", [("action", "setProperties")],
                       {"x-ms-properties": f"owner={b64(b'ada lovelace')}"})
    assert good.status == 200, good
    assert requests.get(f"{tarn.url}/{A}/{fs}/f.txt", timeout=30).headers[
        "x-ms-meta-owner"] == "ada lovelace"
    alive(tarn)


# ----- 5: SAS scope ----------------------------------------------------------------------------

def test_directory_sas_cannot_rename_from_outside_its_directory(tarn, raw, lake, hostile):
    from azure.storage.filedatalake import (DataLakeFileClient, DirectorySasPermissions,
                                            generate_directory_sas)
    _, drop = lake
    sas = generate_directory_sas(A, drop, "inbox", ACCOUNT_KEY,
                                 permission=DirectorySasPermissions(read=True, write=True,
                                                                    create=True, delete=True,
                                                                    move=True),
                                 expiry=future())
    outside = DataLakeFileClient(f"{tarn.url}/{A}", drop, "other/x.txt", credential=sas,
                                 retry_total=0)
    hostile["sent"] += 1
    with pytest.raises(HttpResponseError) as e:
        outside.rename_file(f"{drop}/inbox/pulled.txt")
    assert e.value.status_code == 403, e.value
    assert read_bytes(raw, drop, "other/x.txt") == (200, b"x")
    assert read_bytes(raw, drop, "inbox/pulled.txt")[0] == 404
    # Inside the directory it works.
    inside = DataLakeFileClient(f"{tarn.url}/{A}", drop, "inbox/a.txt", credential=sas,
                                retry_total=0)
    inside.upload_data(b"a", overwrite=True)
    inside.rename_file(f"{drop}/inbox/b.txt")
    assert read_bytes(raw, drop, "inbox/b.txt") == (200, b"a")
    alive(tarn)


def service_sas(fs, signed_path, sr, sv, sp="r"):
    """A service SAS signed by hand: before 2018-11-09 sr is not part of what is signed."""
    se = future()
    resource = f"/blob/{A}/{fs}" + (f"/{signed_path}" if signed_path else "")
    fields = [sp, "", se, resource, "", "", "", sv]
    if sv >= "2018-11-09":
        fields += [sr, ""]
    fields += ["", "", "", "", ""]
    sig = hmac.new(base64.b64decode(ACCOUNT_KEY), "\n".join(fields).encode(),
                   hashlib.sha256).digest()
    return {"sv": sv, "sp": sp, "se": se, "sr": sr, "sig": b64(sig)}


def test_old_blob_sas_cannot_become_a_directory_sas(tarn, raw, lake, hostile):
    private, _ = lake
    # A read SAS for the blob-shaped name "hr" (a directory here), version 2018-03-28.
    sas = service_sas(private, "hr", "b", "2018-03-28")
    r = requests.head(f"{tarn.url}/{A}/{private}/hr", params=sas, timeout=30)
    assert r.status_code == 200  # what it was issued for
    # Rewritten as sr=d with sdd=1, it would sign the same string and reach everything below.
    forged = dict(sas, sr="d", sdd="1")
    r = attack(hostile, requests.get, f"{tarn.url}/{A}/{private}/hr/salaries.csv",
               params=forged, timeout=30)
    assert r.status_code == 403 and r.headers["x-ms-error-code"] == "AuthenticationFailed", r.text
    # A real directory SAS (2020-02-10 or later) works.
    good = service_sas(private, "hr", "d", "2020-02-10")
    good["sdd"] = "1"
    r = requests.get(f"{tarn.url}/{A}/{private}/hr/salaries.csv", params=good, timeout=30)
    assert r.status_code == 200 and r.content == b"name,pay\nada,100\n", r.text
    # sr=d below 2020-02-10 is refused even when signed with sr.
    mid = service_sas(private, "hr", "d", "2019-12-12")
    mid["sdd"] = "1"
    r = attack(hostile, requests.get, f"{tarn.url}/{A}/{private}/hr/salaries.csv", params=mid,
               timeout=30)
    assert r.status_code == 403
    alive(tarn)


# Each signed field of a SAS, changed the way an attacker would want it (more permissions, a
# later expiry, a wider scope, another protocol or address range, another version) or removed,
# and fields added that would change what the signature covers. Every variant must be refused.
TAMPERED = {
    "sv": ["2019-02-02", "2021-10-04", ""],
    "sp": ["racwdl", "rw", "rwdlacup"],
    "se": ["2099-01-01T00:00:00Z"],
    "st": ["2000-01-01T00:00:00Z"],
    "sr": ["c", "d"],
    "spr": ["http"],
    "sip": ["0.0.0.0-255.255.255.255"],
    "ss": ["bfqt"],
    "srt": ["sco"],
    "sig": ["flip", ""],
}
ADDED = [("sr", "c"), ("rscd", "attachment"), ("skoid", "00000000-0000-0000-0000-000000000000")]


def tampered_variants(sas, added):
    fields = dict(urllib.parse.parse_qsl(sas, keep_blank_values=True))
    for name, value in fields.items():
        for other in TAMPERED.get(name, ["x"]):
            if other == "flip":
                other = ("A" if value[0] != "A" else "B") + value[1:]
            if other != value:
                yield f"{name}={other!r}", dict(fields, **{name: other})
        yield f"no {name}", {k: v for k, v in fields.items() if k != name}
    for name, value in added:
        if name not in fields:
            yield f"added {name}", dict(fields, **{name: value})
    # The same field twice: the first as signed, the second as wanted.
    yield "sp twice", list(fields.items()) + [("sp", "racwdl")]


def test_every_sas_field_tampered_is_refused(tarn, raw, lake, hostile):
    from azure.storage.blob import (AccountSasPermissions, BlobSasPermissions, ResourceTypes,
                                    generate_account_sas, generate_blob_sas)
    private, _ = lake
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    secret = b"name,pay\nada,100\n"
    sases = {
        "service": generate_blob_sas(A, private, "hr/salaries.csv", account_key=ACCOUNT_KEY,
                                     permission=BlobSasPermissions(read=True), start=start,
                                     expiry=expiry, ip="127.0.0.1", protocol="https,http"),
        "account": generate_account_sas(A, ACCOUNT_KEY, ResourceTypes(object=True),
                                        AccountSasPermissions(read=True), expiry, start=start,
                                        ip="127.0.0.1", protocol="https,http"),
    }
    url = f"{tarn.url}/{A}/{private}/hr/salaries.csv"
    tried = 0
    for kind, sas in sases.items():
        r = requests.get(url, params=sas, timeout=30)
        assert r.status_code == 200 and r.content == secret, (kind, r.text)  # as issued
        # An account SAS has no resource or response-header fields to add: Azure ignores them.
        for what, params in tampered_variants(sas, ADDED if kind == "service" else []):
            tried += 1
            r = attack(hostile, requests.get, url, params=params, timeout=30)
            assert r.status_code in (400, 403, 404), (kind, what, r.status_code, r.text)
            assert secret not in r.content, (kind, what)
            assert r.headers.get("x-ms-error-code"), (kind, what, r.headers)
            # The same tampering on a write: a read SAS turned into a write one overwrites
            # nothing (without sig the request is anonymous: 401 for a write).
            w = attack(hostile, requests.put, url, params=params, data=b"planted",
                       headers={"x-ms-blob-type": "BlockBlob"}, timeout=30)
            assert w.status_code in (400, 401, 403, 404), (kind, what, w.status_code, w.text)
            assert read_bytes(raw, private, "hr/salaries.csv") == (200, secret), (kind, what)
    assert tried > 40
    alive(tarn)


# ----- 9, 10: names ----------------------------------------------------------------------------

def test_names_with_control_characters_are_refused(tarn, raw, lake, hostile):
    _, drop = lake
    for name in ("a\nb", "a\rb", "tab\there", "bell\x07", "del\x7f", "c1\u0085", "\x00x"):
        for method, query, headers in (("PUT", [], {"x-ms-blob-type": "BlockBlob"}),
                                       ("PUT", [("resource", "file")], {}),
                                       ("PUT", [("resource", "directory")], {})):
            r = attack(hostile, raw.request, method,
                       f"/{A}/{drop}/{urllib.parse.quote(name, errors='surrogateescape')}",
                       query, headers)
            assert r.status == 400, (name, r)
            assert r.error_code in ("InvalidResourceName", "InvalidUri"), r
    alive(tarn)


def test_a_signature_for_put_block_cannot_authorize_put_blob(tarn, raw, lake, hostile):
    _, drop = lake
    block_id = b64(b"block-0001")
    query = [("comp", "block"), ("blockid", block_id)]
    _, hdrs = raw.prepare("PUT", f"/{A}/{drop}/X", query, {"x-ms-blob-type": "BlockBlob"},
                          body=b"data")
    # The same string-to-sign, were a name allowed to hold line breaks.
    forged_path = f"/{A}/{drop}/" + urllib.parse.quote(f"X\nblockid:{block_id}\ncomp:block")
    r = attack(hostile, raw.send, "PUT", forged_path, hdrs, b"data")
    assert r.status in (400, 403), r
    listing = raw.request("GET", f"/{A}/{drop}", [("restype", "container"), ("comp", "list"),
                                                  ("prefix", "X")])
    assert b"<Name>X" not in listing.body, listing.body
    alive(tarn)


def test_name_lengths_are_counted_in_characters(tarn, raw, lake):
    _, drop = lake
    seg = "é" * 255
    ok = "/".join([seg] * 3 + ["é" * 254]) + "/a"  # 1,024 characters, 2,042 bytes
    r = raw.request("PUT", f"/{A}/{drop}/{urllib.parse.quote(ok)}", [("resource", "file")])
    assert r.status == 201, r
    r = raw.request("PUT", f"/{A}/{drop}/{urllib.parse.quote(ok + 'b')}", [("resource", "file")])
    assert (r.status, r.error_code) == (400, "InvalidResourceName"), r


def test_container_names(tarn, raw, hostile):
    for bad in ("$foo", "$rooot", "a$b", "$"):
        r = attack(hostile, raw.request, "PUT", f"/{A}/{urllib.parse.quote(bad)}",
                   [("restype", "container")])
        assert r.status == 400, (bad, r)
    # Containers may be named like the token service's path segments.
    blob = tarn.blob_service()
    for name in ("oauth2", "discovery", "v2-0"):
        c = blob.get_container_client(name)
        c.create_container()
        try:
            c.upload_blob("v2.0/token", b"not a token", overwrite=True)
            # (An HNS account lists the directory v2.0 as well.)
            assert [b.name for b in c.list_blobs()] == ["v2.0", "v2.0/token"]
            assert c.download_blob("v2.0/token").readall() == b"not a token"
        finally:
            c.delete_container()
    alive(tarn)


def test_put_blob_marked_as_folder_makes_a_directory(tarn, raw, lake):
    _, drop = lake
    r = raw.request("PUT", f"/{A}/{drop}/made-by-blob", headers={
        "x-ms-blob-type": "BlockBlob", "x-ms-meta-hdi_isfolder": "true", "x-ms-meta-team": "ml"})
    assert r.status == 201, r
    d = tarn.datalake_service().get_file_system_client(drop).get_directory_client("made-by-blob")
    props = d.get_directory_properties()
    assert props["metadata"].get("hdi_isfolder") == "true"
    assert props["metadata"].get("team") == "ml"
    d.get_file_client("child.txt").upload_data(b"c", overwrite=True)
    r = raw.request("PUT", f"/{A}/{drop}/with-body", headers={
        "x-ms-blob-type": "BlockBlob", "x-ms-meta-hdi_isfolder": "true"}, body=b"x")
    assert (r.status, r.error_code) == (400, "InvalidHeaderValue"), r
    assert read_bytes(raw, drop, "with-body")[0] == 404


def test_deleting_the_root_directory_is_refused(tarn, raw, hostile):
    fs = unique_name("root")
    dl = tarn.datalake_service()
    dl.create_file_system(fs).get_file_client("d/keep.txt").upload_data(b"k", overwrite=True)
    for path in (f"/{A}/{fs}/", f"/{A}/{fs}"):
        for recursive in ("true", "false"):
            r = attack(hostile, raw.request, "DELETE", path, [("recursive", recursive)])
            assert (r.status, r.error_code) == (400, "MissingRequiredQueryParameter"), (path, r)
    assert read_bytes(raw, fs, "d/keep.txt") == (200, b"k")
    dl.delete_file_system(fs)
    alive(tarn)
