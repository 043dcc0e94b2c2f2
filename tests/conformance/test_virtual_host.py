"""Virtual-host addressing (issue 16): Microsoft's Python SDKs against
https://devstoreaccount1.dfs.localhost:PORT and https://devstoreaccount1.blob.localhost:PORT, as
they address Azure's own endpoints, beside path-style URLs on the same server.

*.localhost resolves to loopback through libnss-myhostname (scripts/bootstrap.sh installs it);
the self-signed certificate names *.blob.localhost and *.dfs.localhost, so the SDKs verify it.
"""

import email.utils
import http.client
import socket
import ssl
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import (BlobSasPermissions, BlobServiceClient, ContainerClient,
                                generate_blob_sas)
from azure.storage.filedatalake import DataLakeServiceClient

from sharedkey import ACCOUNT, ACCOUNT_KEY, X_MS_VERSION, sign
from tarn_harness import SDK_KWARGS, tarnd_bin, unique_name


@pytest.fixture(scope="module", autouse=True)
def resolvable():
    try:
        socket.getaddrinfo(f"{ACCOUNT}.blob.localhost", 80)
    except socket.gaierror:
        pytest.fail("*.localhost does not resolve on this machine: scripts/bootstrap.sh installs "
                    "libnss-myhostname for it")


# With a host name other than <account>.<endpoint>.core.windows.net the SDKs cannot tell the
# account from the URL; a Shared Key credential names it.
KEY = {"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}


def vhost_url(tarn, endpoint, secure=True):
    base = tarn.https_url if secure else tarn.url
    port = urlsplit(base).port
    return f"{'https' if secure else 'http'}://{ACCOUNT}.{endpoint}.localhost:{port}"


def datalake(tarn, secure=True):
    return DataLakeServiceClient(vhost_url(tarn, "dfs", secure), credential=KEY,
                                 connection_verify=tarn.ca_file, **SDK_KWARGS)


def blobs(tarn, secure=True):
    return BlobServiceClient(vhost_url(tarn, "blob", secure), credential=KEY,
                             connection_verify=tarn.ca_file, **SDK_KWARGS)


def test_datalake_sdk_on_the_dfs_host(tarn):
    svc = datalake(tarn)
    assert svc.url.startswith(f"https://{ACCOUNT}.dfs.localhost:")
    name = unique_name("vh")
    fs = svc.create_file_system(name)
    try:
        fs.create_directory("raw/2026")
        f = fs.get_file_client("raw/2026/a.csv")
        f.upload_data(b"id,v\n1,2\n", overwrite=True, metadata={"zone": "raw"})
        # Properties and reads go to the blob host (the SDK swaps .dfs. for .blob.).
        props = f.get_file_properties()
        assert props.size == 9 and props.metadata == {"zone": "raw"}
        assert f.download_file().readall() == b"id,v\n1,2\n"
        fs.create_directory("curated")
        fs.get_directory_client("raw/2026").rename_directory(f"{name}/curated/2026")
        assert sorted(p.name for p in fs.get_paths(recursive=True)) == [
            "curated", "curated/2026", "curated/2026/a.csv", "raw"]
        acl = fs.get_file_client("curated/2026/a.csv").get_access_control()
        assert acl["permissions"].startswith("rw")
        assert name in [f.name for f in svc.list_file_systems()]
        fs.get_directory_client("curated").delete_directory()
        assert [p.name for p in fs.get_paths(recursive=True)] == ["raw"]
        # Path-style URLs on the same server see the same lake.
        assert [p.name for p in tarn.datalake_service().get_file_system_client(name)
                .get_paths()] == ["raw"]
    finally:
        svc.delete_file_system(name)


def test_blob_sdk_on_the_blob_host_over_http_and_https(tarn):
    for secure in (True, False):
        svc = blobs(tarn, secure)
        name = unique_name("vb")
        c = svc.create_container(name)
        try:
            c.upload_blob("dir/one.txt", b"one")
            src = c.get_blob_client("dir/one.txt")
            assert src.url == f"{vhost_url(tarn, 'blob', secure)}/{name}/dir/one.txt"
            # Copy Blob with a virtual-host source URL: this server's own data.
            copy = c.get_blob_client("dir/two.txt")
            copy.start_copy_from_url(src.url, requires_sync=True)
            assert copy.download_blob().readall() == b"one"
            listed = list(c.list_blobs(name_starts_with="dir/"))
            assert [b.name for b in listed] == ["dir/one.txt", "dir/two.txt"]
            assert name in [x.name for x in svc.list_containers()]
        finally:
            svc.delete_container(name)


def test_list_answers_name_the_virtual_host(tarn):
    svc = blobs(tarn)
    name = unique_name("ve")
    svc.create_container(name)
    try:
        status, _, body = raw(tarn, "GET", f"/{name}", [("restype", "container"),
                                                        ("comp", "list")])
        assert status == 200
        port = urlsplit(tarn.https_url).port
        assert (f'ServiceEndpoint="https://{ACCOUNT}.blob.localhost:{port}/"'.encode()
                in body), body[:300]
    finally:
        svc.delete_container(name)


def test_a_sas_works_on_the_virtual_host(tarn):
    name = unique_name("vs")
    blobs(tarn).create_container(name).upload_blob("f.bin", b"x" * 10)
    try:
        sas = generate_blob_sas(ACCOUNT, name, "f.bin", account_key=ACCOUNT_KEY,
                                permission=BlobSasPermissions(read=True),
                                expiry=datetime.now(timezone.utc) + timedelta(hours=1))
        c = ContainerClient(vhost_url(tarn, "blob"), name, credential=sas,
                            connection_verify=tarn.ca_file, **SDK_KWARGS)
        assert c.get_blob_client("f.bin").download_blob().readall() == b"x" * 10
    finally:
        blobs(tarn).delete_container(name)


def test_an_unknown_account_in_the_host_is_not_found(tarn):
    port = urlsplit(tarn.https_url).port
    svc = BlobServiceClient(f"https://nobody.blob.localhost:{port}",
                            credential={"account_name": "nobody", "account_key": ACCOUNT_KEY},
                            connection_verify=tarn.ca_file, **SDK_KWARGS)
    with pytest.raises(ResourceNotFoundError) as e:
        svc.create_container(unique_name("nx"))
    assert e.value.error_code == "ResourceNotFound"
    assert "nobody" in str(e.value)


def raw(tarn, method, path, query=(), host=None, secure=True, signed=True):
    """One request with the Host header given (a virtual host by default), Shared Key signed;
    the connection goes to 127.0.0.1, so that any host name can be tried."""
    base = urlsplit(tarn.https_url if secure else tarn.url)
    host = host or f"{ACCOUNT}.blob.localhost:{base.port}"
    headers = {"x-ms-version": X_MS_VERSION, "x-ms-date": email.utils.formatdate(usegmt=True),
               "x-ms-client-request-id": str(uuid.uuid4())}
    if signed:
        headers["Authorization"] = sign(method, path, list(query), headers, ACCOUNT, ACCOUNT_KEY)
    target = path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
    if secure:
        ctx = ssl.create_default_context(cafile=tarn.ca_file)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", base.port, context=ctx, timeout=30)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", base.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def test_host_names_are_matched_exactly(tarn):
    port = urlsplit(tarn.https_url).port
    name = unique_name("vm")
    blobs(tarn).create_container(name)
    try:
        ok = [f"{ACCOUNT}.blob.localhost:{port}", f"{ACCOUNT.upper()}.DFS.LOCALHOST:{port}",
              f"{ACCOUNT}.blob.localhost.:{port}"]
        for host in ok:
            status, _, body = raw(tarn, "GET", f"/{name}", [("restype", "container")], host=host)
            assert status == 200, (host, body)
        # Not this server's form of a virtual host: a path-style request, whose first segment
        # is no account here.
        for host in [f"{ACCOUNT}.queue.localhost:{port}", f"x.{ACCOUNT}.blob.localhost",
                     f"{ACCOUNT}.blob.example.com", f".blob.localhost:{port}"]:
            status, _, _ = raw(tarn, "GET", f"/{name}", [("restype", "container")], host=host)
            assert status in (400, 401, 403, 404), host
    finally:
        blobs(tarn).delete_container(name)


def san_names(srv, server_name):
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    with socket.create_connection(("127.0.0.1", urlsplit(srv.https_url).port)) as s:
        with ctx.wrap_socket(s, server_hostname=server_name) as tls:
            return [v for k, v in tls.getpeercert()["subjectAltName"] if k == "DNS"]


def test_another_suffix_and_off(tarn_factory, tmp_path):
    data = tmp_path / "suffixes"
    srv = tarn_factory(data_dir=data, extra_args=["--host-suffix", "lake.test,localhost"])
    status, _, body = raw(srv, "GET", "/", [("comp", "list")],
                          host=f"{ACCOUNT}.blob.lake.test")
    assert status == 200 and b"<EnumerationResults" in body
    # The self-signed certificate names both suffixes; verified as a client would.
    names = san_names(srv, f"{ACCOUNT}.dfs.lake.test")
    assert "*.dfs.lake.test" in names and "*.blob.localhost" in names
    srv.stop()
    # Another suffix on the same data directory: the certificate is made again to cover it.
    again = tarn_factory(data_dir=data, extra_args=["--host-suffix", "data.internal"])
    assert "*.blob.data.internal" in san_names(again, f"{ACCOUNT}.blob.data.internal")
    again.stop()

    off = tarn_factory(extra_args=["--host-suffix", "off"])
    status, _, _ = raw(off, "GET", "/", [("comp", "list")], host=f"{ACCOUNT}.blob.localhost")
    assert status == 400
    # Path-style is served whatever the setting.
    assert off.blob_service().get_service_properties() is not None


def test_a_bad_suffix_is_refused_at_start(tmp_path):
    p = subprocess.run([str(tarnd_bin()), "--listen", "127.0.0.1:0", "--data-dir",
                        str(tmp_path / "d"), "--host-suffix", "bad_suffix!"],
                       capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert b"host_suffix: 'bad_suffix!' is not a DNS name" in p.stderr
