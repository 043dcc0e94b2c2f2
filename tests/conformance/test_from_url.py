"""Put Blob From URL, Put Block From URL and copies between this server's accounts (issue 16),
with Microsoft's Blob SDK. The source is read as the caller would read it (or with the SAS its
URL carries), from this server only; within an account the copy shares the source's bytes,
from another account it reads and writes them again."""

import base64
import json
import os
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (BlobBlock, BlobSasPermissions, BlobServiceClient,
                                generate_blob_sas)

from sharedkey import ACCOUNT, ACCOUNT_KEY
from tarn_harness import SDK_KWARGS, unique_name


def read_sas(account, key, container, blob):
    return generate_blob_sas(account, container, blob, account_key=key,
                             permission=BlobSasPermissions(read=True),
                             expiry=datetime.now(timezone.utc) + timedelta(hours=1))


def test_put_blob_from_url(tarn, container):
    src = container.upload_blob("src/data.csv", b"id,v\n1,2\n")
    dst = container.get_blob_client("copies/data.csv")
    r = dst.upload_blob_from_url(src.url)
    assert r["etag"]
    assert dst.download_blob().readall() == b"id,v\n1,2\n"
    # A source this caller may not read, through a SAS that may.
    private = unique_name("private")
    p = tarn.blob_service().create_container(private).upload_blob("k.bin", b"secret-ish")
    try:
        url = p.url + "?" + read_sas(ACCOUNT, ACCOUNT_KEY, private, "k.bin")
        dst.upload_blob_from_url(url, overwrite=True)
        assert dst.download_blob().readall() == b"secret-ish"
    finally:
        tarn.blob_service().delete_container(private)
    # Another server's URL is not fetched.
    with pytest.raises(HttpResponseError) as e:
        dst.upload_blob_from_url("https://example.com/c/x", overwrite=True)
    assert e.value.error_code == "CannotVerifyCopySource"


def test_put_block_from_url_ranges(tarn, container):
    src = container.upload_blob("big.bin", bytes(range(256)) * 40)  # 10,240 bytes
    dst = container.get_blob_client("assembled.bin")
    ids = []
    for i, (offset, length) in enumerate([(0, 4096), (4096, 4096), (8192, 2048)]):
        block = base64.b64encode(f"block-{i:03}".encode()).decode()
        dst.stage_block_from_url(block, src.url, source_offset=offset, source_length=length)
        ids.append(BlobBlock(block_id=block))
    dst.commit_block_list(ids)
    assert dst.download_blob().readall() == bytes(range(256)) * 40
    # Without a range, the whole source is one block.
    whole = container.get_blob_client("whole.bin")
    block = base64.b64encode(b"only").decode()
    whole.stage_block_from_url(block, src.url)
    whole.commit_block_list([BlobBlock(block_id=block)])
    assert whole.get_blob_properties().size == 10240


def test_copies_between_accounts_of_this_server(tarn_factory, tmp_path):
    second_key = base64.b64encode(secrets.token_bytes(32)).decode()
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"accounts": [
        {"name": ACCOUNT, "keys": [ACCOUNT_KEY]}, {"name": "second", "keys": [second_key]}]}))
    os.chmod(cfg, 0o600)
    srv = tarn_factory(extra_args=["--config", str(cfg)])
    first = srv.blob_service()
    second = BlobServiceClient(f"{srv.url}/second", credential={"account_name": "second",
                                                                 "account_key": second_key},
                               **SDK_KWARGS)
    src = first.create_container("source").upload_blob("model.pkl", b"weights" * 1000)
    dst = second.create_container("dest")
    # The second account's key reads nothing of the first: without a SAS the copy is refused.
    with pytest.raises(HttpResponseError) as e:
        dst.get_blob_client("m1.pkl").start_copy_from_url(src.url)
    assert e.value.error_code == "CannotVerifyCopySource"
    url = src.url + "?" + read_sas(ACCOUNT, ACCOUNT_KEY, "source", "model.pkl")
    copy = dst.get_blob_client("m1.pkl").start_copy_from_url(url)
    assert copy["copy_status"] == "success"
    assert dst.get_blob_client("m1.pkl").download_blob().readall() == b"weights" * 1000
    dst.get_blob_client("m2.pkl").upload_blob_from_url(url)
    assert dst.get_blob_client("m2.pkl").download_blob().readall() == b"weights" * 1000


def test_copies_from_a_server_the_configuration_allows(tarn_factory):
    """copy_sources: tarnd fetches a source on another server it names (here another tarnd over
    https, its certificate trusted with --ca-file), with the SAS the source URL carries; any
    other server stays refused, and so does the allowed one when it refuses the read."""
    other = tarn_factory()
    lake = tarn_factory(extra_args=["--copy-source", other.https_url,
                                    "--ca-file", other.ca_file])
    from azure.storage.blob import ContentSettings
    src = other.blob_service().create_container("exports").upload_blob(
        "scores/2024.csv", b"id,score\n" + b"".join(b"%d,%d\n" % (i, i * 7) for i in range(5000)),
        content_settings=ContentSettings(content_type="text/csv"), metadata={"origin": "other"})
    sas = read_sas(ACCOUNT, ACCOUNT_KEY, "exports", "scores/2024.csv")
    https_src = f"{other.https_url}/{ACCOUNT}/exports/scores/2024.csv"
    data = src.download_blob().readall()
    dst = lake.blob_service().create_container("imports")

    got = dst.get_blob_client("scores.csv")
    got.upload_blob_from_url(f"{https_src}?{sas}")
    assert got.download_blob().readall() == data
    props = got.get_blob_properties()
    assert props.content_settings.content_type == "text/csv"
    assert props.metadata == {"origin": "other"}

    copy = dst.get_blob_client("copy.csv").start_copy_from_url(f"{https_src}?{sas}")
    assert copy["copy_status"] == "success"
    assert dst.get_blob_client("copy.csv").download_blob().readall() == data

    blocks = dst.get_blob_client("staged.csv")
    blocks.stage_block_from_url("YmxvY2stMQ==", f"{https_src}?{sas}", source_offset=0,
                                source_length=100)
    blocks.commit_block_list([BlobBlock("YmxvY2stMQ==")])
    assert blocks.download_blob().readall() == data[:100]

    # The allowed server refuses a read without credentials: so does the copy, saying why.
    with pytest.raises(HttpResponseError) as e:
        dst.get_blob_client("denied.csv").upload_blob_from_url(https_src)
    assert e.value.error_code == "CannotVerifyCopySource"
    assert "answered 40" in e.value.message
    # The same server on a port the configuration does not list is another server.
    with pytest.raises(HttpResponseError) as e:
        dst.get_blob_client("plain.csv").upload_blob_from_url(
            f"{other.url}/{ACCOUNT}/exports/scores/2024.csv?{sas}")
    assert e.value.error_code == "CannotVerifyCopySource"
    assert "copy_sources" in e.value.message
    assert not list(dst.list_blobs(name_starts_with="denied"))


def test_copy_sources_must_be_origins(tmp_path):
    import subprocess
    for bad in ["ftp://x", "https://host/path", "https://user@host", "https://"]:
        out = subprocess.run([os.environ["TARND_BIN"], "--data-dir", str(tmp_path / "d"),
                              "--listen", "127.0.0.1:0", "--copy-source", bad],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0, bad
        assert "copy_sources" in out.stderr, out.stderr
