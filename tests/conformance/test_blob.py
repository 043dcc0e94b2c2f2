"""Microsoft's Python Blob SDK (azure.storage.blob 12.15, Debian python3-azure) against tarnd.

tarnd is a hierarchical-namespace account: a blob named a/b/c implies directories a and a/b.
Like a real ADLS Gen2 account, a flat Blob listing may show those directories as zero-length
entries (metadata hdi_isfolder=true). The listing checks accept them, but only for names that
really are directories.
"""

import datetime
import hashlib
import os
import uuid

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (HttpResponseError, ResourceExistsError,
                                   ResourceModifiedError, ResourceNotFoundError)
from azure.storage.blob import BlobBlock, BlobPrefix, ContentSettings

from sharedkey import ACCOUNT, RawClient
from tarn_harness import unique_name

MiB = 1024 * 1024


@pytest.fixture
def container(blob_service):
    c = blob_service.create_container(unique_name("blob"))
    yield c
    try:
        c.delete_container()
    except Exception:
        pass


def put(container, name, data, **kw):
    container.get_blob_client(name).upload_blob(data, overwrite=True, **kw)


def get(container, name, **kw):
    return container.get_blob_client(name).download_blob(**kw).readall()


def dirs_of(names):
    out = set()
    for n in names:
        parts = n.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


def is_folder(blob):
    md = blob.metadata or {}
    return any(k.lower() == "hdi_isfolder" and v.lower() == "true" for k, v in md.items())


def assert_listing(listed, files, allowed_dirs):
    """listed: names from a flat listing. Exactly `files`, plus optionally directory entries."""
    listed = list(listed)
    assert len(listed) == len(set(listed)), f"duplicates in listing: {listed}"
    extra = set(listed) - set(files)
    missing = set(files) - set(listed)
    assert not missing, f"missing from listing: {sorted(missing)}"
    assert extra <= set(allowed_dirs), f"unexpected entries: {sorted(extra - set(allowed_dirs))}"


# ----- containers ---------------------------------------------------------------------------------

def test_container_lifecycle(blob_service):
    prefix = "ctr-" + uuid.uuid4().hex[:8]
    names = [f"{prefix}-{i}" for i in range(3)]
    for i, n in enumerate(names):
        blob_service.create_container(n, metadata={"idx": str(i)})
    listed = list(blob_service.list_containers(name_starts_with=prefix, include_metadata=True))
    assert [c.name for c in listed] == sorted(names)
    assert [c.metadata for c in listed] == [{"idx": str(i)} for i in range(3)]

    # Paged listing.
    pages = list(blob_service.list_containers(name_starts_with=prefix,
                                              results_per_page=2).by_page())
    assert [len(list(p)) for p in pages] == [2, 1]

    c = blob_service.get_container_client(names[0])
    props = c.get_container_properties()
    assert props.name == names[0]
    assert props.metadata == {"idx": "0"}
    assert props.etag and props.last_modified
    c.set_container_metadata({"zone": "raw", "k": "v"})
    props2 = c.get_container_properties()
    assert props2.metadata == {"zone": "raw", "k": "v"}

    with pytest.raises(ResourceExistsError):
        blob_service.create_container(names[0])
    for n in names:
        blob_service.delete_container(n)
    assert list(blob_service.list_containers(name_starts_with=prefix)) == []
    with pytest.raises(ResourceNotFoundError):
        blob_service.get_container_client(names[0]).get_container_properties()
    with pytest.raises(ResourceNotFoundError):
        blob_service.delete_container(names[0])


def test_account_information_reports_hns(blob_service):
    info = blob_service.get_account_information()
    assert info.get("is_hns_enabled") is True, info


# ----- upload / download ---------------------------------------------------------------------------

def test_upload_single_shot(container):
    data = os.urandom(100 * 1024)
    bc = container.get_blob_client("single/one.bin")
    bc.upload_blob(data)
    assert bc.download_blob().readall() == data
    p = bc.get_blob_properties()
    assert p.size == len(data)
    assert p.blob_type == "BlockBlob"
    # Without overwrite, a second upload conflicts; with it, it replaces.
    with pytest.raises(ResourceExistsError):
        bc.upload_blob(b"again")
    bc.upload_blob(b"again", overwrite=True)
    assert bc.download_blob().readall() == b"again"
    # Zero-length blob.
    put(container, "single/empty", b"")
    assert get(container, "single/empty") == b""


def test_upload_staged_blocks_concurrently(tarn, container):
    seen = []

    def hook(request):
        seen.append((request.http_request.method, request.http_request.url))

    svc = tarn.blob_service(max_single_put_size=1 * MiB, max_block_size=1 * MiB,
                            raw_request_hook=hook)
    bc = svc.get_blob_client(container.container_name, "staged/big.bin")
    data = os.urandom(9 * MiB + MiB // 2)
    bc.upload_blob(data, max_concurrency=4, overwrite=True)

    blocks = [u for m, u in seen if m == "PUT" and "comp=block&" in u + "&"]
    commits = [u for m, u in seen if m == "PUT" and "comp=blocklist" in u]
    assert len(blocks) == 10, f"expected 10 Put Block, saw {len(blocks)}"
    assert len(commits) == 1
    committed, uncommitted = bc.get_block_list("all")
    assert len(committed) == 10
    assert sum(b.size for b in committed) == len(data)
    assert uncommitted == []

    got = container.get_blob_client("staged/big.bin").download_blob(max_concurrency=4).readall()
    assert hashlib.md5(got).digest() == hashlib.md5(data).digest()


def test_manual_blocks_commit_order_and_visibility(container):
    bc = container.get_blob_client("staged/manual.txt")
    bc.stage_block("block-1", b"one-")
    bc.stage_block("block-2", b"two-")
    bc.stage_block("block-3", b"three-")
    # Nothing committed yet: the blob does not exist.
    assert not bc.exists()
    committed, uncommitted = bc.get_block_list("all")
    assert committed == []
    assert sorted(b.id for b in uncommitted) == ["block-1", "block-2", "block-3"]
    bc.commit_block_list([BlobBlock("block-3"), BlobBlock("block-1")])
    assert bc.download_blob().readall() == b"three-one-"
    committed, uncommitted = bc.get_block_list("all")
    assert [b.id for b in committed] == ["block-3", "block-1"]
    assert uncommitted == []  # block-2 was discarded by the commit

    # Re-commit reusing a committed block plus a new one; old content visible until commit.
    bc.stage_block("block-4", b"four")
    assert bc.download_blob().readall() == b"three-one-"
    bc.commit_block_list([BlobBlock("block-1"), BlobBlock("block-4")])
    assert bc.download_blob().readall() == b"one-four"

    # Committing an unknown block fails and changes nothing.
    with pytest.raises(HttpResponseError) as ei:
        bc.commit_block_list([BlobBlock("block-9")])
    assert ei.value.status_code == 400
    assert bc.download_blob().readall() == b"one-four"


def test_ranged_download(tarn, container):
    data = os.urandom(5 * MiB + 333)
    put(container, "ranged/r.bin", data)
    n = len(data)
    for off, ln in [(0, 1), (1, 10), (4095, 2), (MiB, MiB), (n - 1, 1), (n - 100, 100),
                    (0, n), (777, 3 * MiB)]:
        assert get(container, "ranged/r.bin", offset=off, length=ln) == data[off:off + ln]
    assert get(container, "ranged/r.bin", offset=n - 7) == data[n - 7:]
    # Small chunks, in parallel.
    svc = tarn.blob_service(max_single_get_size=512 * 1024, max_chunk_get_size=256 * 1024)
    bc = svc.get_blob_client(container.container_name, "ranged/r.bin")
    assert bc.download_blob(max_concurrency=4).readall() == data
    assert bc.download_blob(offset=100, length=2 * MiB, max_concurrency=4).readall() == \
        data[100:100 + 2 * MiB]
    # readinto / chunks API.
    assert b"".join(bc.download_blob().chunks()) == data


# ----- listing -----------------------------------------------------------------------------------

def test_walk_blobs_with_delimiter(container):
    files = ["a/1.txt", "a/b/2.txt", "a/b/3.txt", "c.txt", "d/4.txt", "e/f/g/5.txt"]
    for f in files:
        put(container, f, f.encode())
    top = list(container.walk_blobs(delimiter="/"))
    prefixes = sorted(i.name for i in top if isinstance(i, BlobPrefix))
    blobs = [i.name for i in top if not isinstance(i, BlobPrefix)]
    assert prefixes == ["a/", "d/", "e/"]
    assert_listing(blobs, ["c.txt"], allowed_dirs={"a", "d", "e"})

    # One level down.
    inner = list(container.walk_blobs(name_starts_with="a/", delimiter="/"))
    assert sorted(i.name for i in inner if isinstance(i, BlobPrefix)) == ["a/b/"]
    assert_listing([i.name for i in inner if not isinstance(i, BlobPrefix)], ["a/1.txt"],
                   allowed_dirs={"a/b"})

    # Recursing through the prefixes finds every file exactly once.
    found = []

    def walk(prefix):
        for item in container.walk_blobs(name_starts_with=prefix, delimiter="/"):
            if isinstance(item, BlobPrefix):
                walk(item.name)
            else:
                found.append(item.name)

    walk(None)
    assert_listing(found, files, allowed_dirs=dirs_of(files))


def test_list_blobs_prefix_and_metadata(container):
    files = {f"logs/2024/{i:02d}.log": {"n": str(i)} for i in range(7)}
    files["logs/readme"] = {}
    files["other/x"] = {"n": "x"}
    for name, md in files.items():
        put(container, name, name.encode(), metadata=md)

    listed = list(container.list_blobs(name_starts_with="logs/", include=["metadata"]))
    names = [b.name for b in listed]
    want = [n for n in files if n.startswith("logs/")]
    assert_listing(names, want, allowed_dirs={"logs", "logs/2024"})
    for b in listed:
        if b.name in files:
            # The SDK turns an empty <Metadata/> (what Azure sends for a blob without metadata)
            # into None, so compare with `or {}`.
            assert (b.metadata or {}) == files[b.name], b.name
            assert b.size == len(b.name.encode())
        else:
            assert b.size == 0
    # Here depth-first and lexicographic order agree (see the next test for where they do not).
    assert names == sorted(names), "List Blobs must return these names in name order"

    # Paging with markers.
    pages = list(container.list_blobs(name_starts_with="logs/2024/",
                                      results_per_page=3).by_page())
    paged = [b.name for p in pages for b in p]
    assert_listing(paged, [n for n in files if n.startswith("logs/2024/")], allowed_dirs=set())
    assert len(pages) == 3


def test_flat_listing_order_is_that_of_hns_accounts(container):
    """An account with a hierarchical namespace lists blobs depth first, each directory followed
    by what it holds, siblings in name order; a flat account sorts whole names instead. These are
    the paths of Azure/azure-sdk-for-go#24210, where both orders were observed on real accounts:
    "A-B" sorts before "A/dat1" as a name ('-' < '/'), but comes after directory A's contents."""
    for name in ["A/dat1", "A-B/dat2", "A-B-C", "A-C", "A.C/dat3", "AB/AB", "AB/dat4", "AB.txt",
                 "ABC"]:
        put(container, name, b"x")
    hns = ["A", "A/dat1", "A-B", "A-B/dat2", "A-B-C", "A-C", "A.C", "A.C/dat3", "AB", "AB/AB",
           "AB/dat4", "AB.txt", "ABC"]
    names = [b.name for b in container.list_blobs()]
    assert names == hns
    assert names != sorted(names)
    # Paging keeps the order: markers resume depth first, one name at a time.
    paged = [b.name for page in container.list_blobs(results_per_page=1).by_page() for b in page]
    assert paged == hns


def test_metadata_round_trip(container):
    bc = container.get_blob_client("meta/m.txt")
    bc.upload_blob(b"m", metadata={"origin": "sensor", "rows": "42"})
    assert bc.get_blob_properties().metadata == {"origin": "sensor", "rows": "42"}
    etag = bc.get_blob_properties().etag
    bc.set_blob_metadata({"origin": "replayed"})
    p = bc.get_blob_properties()
    assert p.metadata == {"origin": "replayed"}
    assert p.etag != etag
    bc.set_blob_metadata({})
    assert bc.get_blob_properties().metadata == {}
    assert bc.download_blob().readall() == b"m"


def test_set_http_headers(container):
    data = b"<html></html>"
    bc = container.get_blob_client("hdr/page.html")
    bc.upload_blob(data)
    md5 = bytearray(hashlib.md5(data).digest())
    bc.set_http_headers(ContentSettings(content_type="text/html; charset=utf-8",
                                        content_encoding="identity", content_language="de-DE",
                                        content_disposition="inline", cache_control="no-store",
                                        content_md5=md5))
    cs = bc.get_blob_properties().content_settings
    assert cs.content_type == "text/html; charset=utf-8"
    assert cs.content_encoding == "identity"
    assert cs.content_language == "de-DE"
    assert cs.content_disposition == "inline"
    assert cs.cache_control == "no-store"
    assert bytes(cs.content_md5) == bytes(md5)
    dl = bc.download_blob()
    assert dl.properties.content_settings.content_type == "text/html; charset=utf-8"
    assert dl.readall() == data


def test_upload_with_content_settings_and_md5(container):
    data = os.urandom(4096)
    bc = container.get_blob_client("hdr/with-md5.bin")
    bc.upload_blob(data, content_settings=ContentSettings(content_type="application/x-test"),
                   validate_content=True)
    p = bc.get_blob_properties()
    assert p.content_settings.content_type == "application/x-test"
    assert bc.download_blob(validate_content=True).readall() == data


# ----- leases ------------------------------------------------------------------------------------

def test_blob_lease(container):
    bc = container.get_blob_client("lease/b.txt")
    bc.upload_blob(b"v1")
    lease = bc.acquire_lease(lease_duration=15)
    assert bc.get_blob_properties().lease.state == "leased"

    with pytest.raises(HttpResponseError) as ei:
        bc.upload_blob(b"v2", overwrite=True)
    assert ei.value.status_code == 412
    with pytest.raises(HttpResponseError) as ei:
        bc.set_blob_metadata({"x": "1"})
    assert ei.value.status_code == 412
    with pytest.raises(HttpResponseError) as ei:
        bc.delete_blob()
    assert ei.value.status_code == 412
    assert bc.download_blob().readall() == b"v1"

    bc.upload_blob(b"v2", overwrite=True, lease=lease)
    bc.set_blob_metadata({"x": "1"}, lease=lease)
    assert bc.download_blob().readall() == b"v2"

    with pytest.raises(HttpResponseError) as ei:
        bc.acquire_lease(lease_duration=15, lease_id=str(uuid.uuid4()))
    assert ei.value.status_code == 409

    new_id = str(uuid.uuid4())
    lease.change(new_id)
    assert lease.id == new_id
    lease.renew()
    lease.release()
    assert bc.get_blob_properties().lease.state == "available"
    bc.upload_blob(b"v3", overwrite=True)
    assert bc.download_blob().readall() == b"v3"
    bc.delete_blob()


def test_container_lease(blob_service):
    c = blob_service.create_container(unique_name("clease"))
    lease = c.acquire_lease(lease_duration=-1)
    with pytest.raises(HttpResponseError) as ei:
        c.delete_container()
    assert ei.value.status_code == 412
    assert c.get_container_properties().lease.state == "leased"
    c.delete_container(lease=lease)
    with pytest.raises(ResourceNotFoundError):
        c.get_container_properties()


# ----- delete ------------------------------------------------------------------------------------

def test_delete_blob(container):
    bc = container.get_blob_client("del/x.bin")
    bc.upload_blob(b"bye")
    assert bc.exists()
    bc.delete_blob()
    assert not bc.exists()
    with pytest.raises(ResourceNotFoundError):
        bc.get_blob_properties()
    with pytest.raises(ResourceNotFoundError):
        bc.download_blob()
    with pytest.raises(ResourceNotFoundError):
        bc.delete_blob()


# ----- copy --------------------------------------------------------------------------------------

def test_synchronous_copy_within_account(blob_service, container):
    data = os.urandom(300 * 1024)
    src = container.get_blob_client("copy/src.bin")
    src.upload_blob(data, metadata={"from": "src"})

    other = blob_service.create_container(unique_name("copydst"))
    try:
        for dest in (container.get_blob_client("copy/dst.bin"),
                     other.get_blob_client("deep/dir/dst.bin")):
            result = dest.start_copy_from_url(src.url)
            assert result["copy_status"] == "success", result
            assert dest.download_blob().readall() == data
            p = dest.get_blob_properties()
            assert p.copy.status == "success"
            assert p.metadata == {"from": "src"}
        # The copy is independent of its source.
        src.upload_blob(b"changed", overwrite=True)
        assert container.get_blob_client("copy/dst.bin").download_blob().readall() == data
        # A missing source fails.
        with pytest.raises(HttpResponseError) as ei:
            container.get_blob_client("copy/dst2.bin").start_copy_from_url(
                container.get_blob_client("copy/missing.bin").url)
        assert ei.value.status_code == 404
        assert not container.get_blob_client("copy/dst2.bin").exists()
    finally:
        other.delete_container()


# ----- conditional requests ---------------------------------------------------------------------

def test_conditional_requests(container):
    bc = container.get_blob_client("cond/c.txt")
    bc.upload_blob(b"v1")
    etag = bc.get_blob_properties().etag

    with pytest.raises(ResourceModifiedError):
        bc.upload_blob(b"v2", overwrite=True, etag='"0x8D000000BADBAD0"',
                       match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceModifiedError):
        bc.set_blob_metadata({"a": "b"}, etag='"0x8D000000BADBAD0"',
                             match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceModifiedError):
        bc.download_blob(etag='"0x8D000000BADBAD0"', match_condition=MatchConditions.IfNotModified)
    assert bc.download_blob().readall() == b"v1"

    # If-None-Match with the current etag: 304 on reads. (Azure also sends x-ms-error-code
    # ConditionNotMet with the 304, so the SDK may raise ResourceModifiedError: check the status.)
    for op in (bc.download_blob, bc.get_blob_properties):
        with pytest.raises(HttpResponseError) as ei:
            op(etag=etag, match_condition=MatchConditions.IfModified)
        assert ei.value.status_code == 304

    # Dates.
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    with pytest.raises(ResourceModifiedError):
        bc.upload_blob(b"v2", overwrite=True, if_unmodified_since=past)
    with pytest.raises(HttpResponseError) as ei:
        bc.download_blob(if_modified_since=future)
    assert ei.value.status_code == 304
    assert bc.download_blob(if_modified_since=past).readall() == b"v1"

    # Matching etag: the write goes through and the etag changes.
    bc.upload_blob(b"v2", overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
    assert bc.download_blob().readall() == b"v2"
    assert bc.get_blob_properties().etag != etag
    # IfMissing on an existing blob.
    with pytest.raises(ResourceExistsError):
        bc.upload_blob(b"v3", overwrite=True, match_condition=MatchConditions.IfMissing)
    assert bc.download_blob().readall() == b"v2"


def test_anonymous_reads_follow_public_access(tarn, blob_service):
    """Anonymous clients may read what a container's public access level allows, and nothing
    else; they can never write."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
    from azure.storage.blob import BlobServiceClient

    anon = BlobServiceClient(tarn.account_url)  # no credential at all
    name = unique_name("anon")
    owner = blob_service.create_container(name, public_access="container")
    try:
        owner.upload_blob("open/data.txt", b"public bytes")
        c = anon.get_container_client(name)
        assert c.download_blob("open/data.txt").readall() == b"public bytes"
        assert [b.name for b in c.list_blobs(name_starts_with="open/")] == ["open/data.txt"]
        with pytest.raises((ClientAuthenticationError, HttpResponseError)):
            c.upload_blob("open/evil.txt", b"no")
        assert not owner.get_blob_client("open/evil.txt").exists()

        # "blob" level: blobs can be read, the container cannot be listed.
        owner.set_container_access_policy(signed_identifiers={}, public_access="blob")
        assert c.download_blob("open/data.txt").readall() == b"public bytes"
        with pytest.raises(HttpResponseError) as e:
            list(c.list_blobs())
        assert e.value.status_code == 404

        # Private: nothing is visible anonymously.
        owner.set_container_access_policy(signed_identifiers={}, public_access=None)
        with pytest.raises(HttpResponseError) as e:
            c.download_blob("open/data.txt").readall()
        assert e.value.status_code == 404
        assert e.value.response.headers.get("x-ms-error-code") == "ResourceNotFound"
    finally:
        owner.delete_container()


def test_errors_say_container_on_blob_and_filesystem_on_dfs(tarn):
    """The same missing filesystem, named in each API's own word."""
    name = unique_name("nowhere")
    with pytest.raises(ResourceNotFoundError) as e:
        tarn.blob_service().get_container_client(name).get_container_properties()
    assert e.value.error_code == "ContainerNotFound"
    r = RawClient(tarn).request("GET", f"/{ACCOUNT}/{name}", [("restype", "container")])
    assert r.status == 404 and b"container does not exist" in r.body
    assert b"filesystem" not in r.body
    with pytest.raises(ResourceNotFoundError) as e:
        tarn.datalake_service().get_file_system_client(name).get_file_system_properties()
    r = RawClient(tarn).request("HEAD", f"/{ACCOUNT}/{name}", [("resource", "filesystem")])
    assert r.status == 404
    r = RawClient(tarn).request("GET", f"/{ACCOUNT}/{name}",
                                [("resource", "filesystem"), ("recursive", "false")])
    assert r.status == 404 and b"filesystem does not exist" in r.body
