"""HTTPS beside plain HTTP: a self-signed certificate made on first start, which Microsoft's
clients verify when told to trust it (connection_verify / REQUESTS_CA_BUNDLE)."""

import os
import ssl
import stat
import urllib.error
import urllib.request

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.filedatalake import DataLakeServiceClient

from sharedkey import ACCOUNT, ACCOUNT_KEY
from tarn_harness import unique_name

CRED = {"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}


def test_sdk_over_https_with_the_self_signed_certificate(tarn):
    assert tarn.https_url and tarn.https_url.startswith("https://127.0.0.1:")
    key = os.stat(tarn.data_dir / "tls" / "key.pem")
    assert stat.S_IMODE(key.st_mode) == 0o600
    svc = DataLakeServiceClient(f"{tarn.https_url}/{ACCOUNT}", credential=CRED,
                                connection_verify=tarn.ca_file)
    fs = svc.create_file_system(unique_name("tls"))
    data = os.urandom(3 * 1024 * 1024 + 17)  # several TLS records, a multi-chunk read
    fs.get_file_client("dir/big.bin").upload_data(data, overwrite=True)
    assert fs.get_file_client("dir/big.bin").download_file().readall() == data
    assert [p.name for p in fs.get_paths()] == ["dir", "dir/big.bin"]
    # Plain http on loopback still serves the same data.
    plain = DataLakeServiceClient(tarn.account_url, credential=CRED)
    got = plain.get_file_system_client(fs.file_system_name).get_file_client("dir/big.bin")
    assert got.download_file().readall() == data


def test_untrusted_certificate_is_refused_by_the_client(tarn):
    svc = DataLakeServiceClient(f"{tarn.https_url}/{ACCOUNT}", credential=CRED,
                                retry_total=0)
    with pytest.raises(ServiceRequestError):
        svc.create_file_system(unique_name("tls"))


def test_certificate_names_loopback(tarn):
    """Python's own TLS stack, with host name checks, accepts the certificate for 127.0.0.1 and
    localhost; the request then reaches tarnd, which refuses an anonymous account listing."""
    ctx = ssl.create_default_context(cafile=tarn.ca_file)
    for host in ("127.0.0.1", "localhost"):
        url = tarn.https_url.replace("127.0.0.1", host) + f"/{ACCOUNT}?comp=list"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url, context=ctx, timeout=10)
        assert e.value.code in (401, 403, 404)


def test_tls_off_and_configured_certificates(tarn_factory, tmp_path):
    srv = tarn_factory(extra_args=["--tls-listen", "off"])
    assert srv.https_url is None
    # A configured certificate and key are used instead of a generated pair.
    first = tarn_factory()
    cert, key = first.data_dir / "tls" / "cert.pem", first.data_dir / "tls" / "key.pem"
    srv = tarn_factory(extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    assert not (srv.data_dir / "tls").exists()
    svc = DataLakeServiceClient(f"{srv.https_url}/{ACCOUNT}", credential=CRED,
                                connection_verify=str(cert))
    svc.create_file_system(unique_name("cfg"))
