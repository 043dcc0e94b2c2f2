"""Microsoft's Python DataLake SDK (azure.storage.filedatalake 12.10, Debian python3-azure)
against tarnd."""

import hashlib
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (HttpResponseError, ResourceExistsError,
                                   ResourceModifiedError, ResourceNotFoundError)
from azure.storage.filedatalake import ContentSettings, DataLakeLeaseClient

from sharedkey import RawClient
from tarn_harness import unique_name

MiB = 1024 * 1024


@pytest.fixture
def fs(dl_service):
    client = dl_service.create_file_system(unique_name("dl"))
    yield client
    try:
        client.delete_file_system()
    except Exception:
        pass


def read(file_client, **kw):
    return file_client.download_file(**kw).readall()


def run_parallel(fn, items, workers=16):
    """Runs fn over items on a thread pool; re-raises the first failure."""
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(fn, items):
            pass


class PerThread:
    """One SDK FileSystemClient per worker thread (requests sessions are not shared)."""

    def __init__(self, tarn, fs_name):
        self.tarn, self.fs_name = tarn, fs_name
        self.local = threading.local()

    def get(self):
        c = getattr(self.local, "fs", None)
        if c is None:
            c = self.tarn.datalake_service().get_file_system_client(self.fs_name)
            self.local.fs = c
        return c


def all_paths(fs_client, path=None):
    return list(fs_client.get_paths(path=path, recursive=True))


def user_metadata(md):
    """Metadata without the hdi_isfolder marker that HNS accounts put on directories."""
    return {k: v for k, v in (md or {}).items() if k.lower() != "hdi_isfolder"}


# ----- filesystems and trees --------------------------------------------------------------------

def test_filesystem_lifecycle(dl_service):
    name = unique_name("life")
    fs_client = dl_service.create_file_system(name, metadata={"zone": "raw"})
    assert fs_client.exists()
    names = [f.name for f in dl_service.list_file_systems(name_starts_with=name)]
    assert names == [name]
    props = fs_client.get_file_system_properties()
    assert props.name == name
    assert props.metadata == {"zone": "raw"}
    fs_client.set_file_system_metadata({"zone": "curated", "owner": "team-a"})
    assert fs_client.get_file_system_properties().metadata == {"zone": "curated",
                                                               "owner": "team-a"}
    with pytest.raises(ResourceExistsError):
        dl_service.create_file_system(name)
    fs_client.delete_file_system()
    assert not fs_client.exists()
    assert [f.name for f in dl_service.list_file_systems(name_starts_with=name)] == []


def test_create_directory_tree(fs):
    dirs = ["raw", "raw/2024", "raw/2024/01", "raw/2024/02", "curated", "curated/sales"]
    for d in dirs:
        fs.create_directory(d)
    files = {"raw/2024/01/a.csv": b"a,b\n1,2\n", "raw/2024/02/b.csv": b"c\n3\n",
             "curated/sales/part-0.parquet": os.urandom(1000), "top.txt": b"top"}
    for p, data in files.items():
        fs.get_file_client(p).upload_data(data, overwrite=True)
    # Creating a file also creates missing parents (ADLS semantics).
    fs.get_file_client("implicit/parent/child.txt").upload_data(b"c", overwrite=True)

    got = {p.name: p for p in all_paths(fs)}
    expected_dirs = set(dirs) | {"implicit", "implicit/parent"}
    expected_files = set(files) | {"implicit/parent/child.txt"}
    assert set(got) == expected_dirs | expected_files
    for d in expected_dirs:
        assert got[d].is_directory, d
    for f, data in files.items():
        assert not got[f].is_directory, f
        assert got[f].content_length == len(data), f
        assert read(fs.get_file_client(f)) == data

    # Non-recursive listing of one directory.
    level = {p.name for p in fs.get_paths(path="raw/2024", recursive=False)}
    assert level == {"raw/2024/01", "raw/2024/02"}

    sub = fs.get_directory_client("raw").create_sub_directory("2025")
    assert sub.exists()
    assert user_metadata(fs.get_directory_client("raw").get_directory_properties().metadata) == {}


# ----- uploads and downloads --------------------------------------------------------------------

def test_upload_small(fs):
    fc = fs.get_file_client("small/hello.txt")
    fc.upload_data(b"hello, lake", overwrite=True)
    assert read(fc) == b"hello, lake"
    assert fc.get_file_properties().size == 11
    # Overwrite with different content.
    fc.upload_data(b"bye", overwrite=True)
    assert read(fc) == b"bye"
    # Empty file.
    empty = fs.get_file_client("small/empty.txt")
    empty.create_file()
    assert read(empty) == b""
    assert empty.get_file_properties().size == 0


@pytest.mark.slow
def test_upload_64mib_multichunk(tarn, fs):
    requests_seen = []

    def hook(request):
        requests_seen.append((request.http_request.method, request.http_request.url))

    svc = tarn.datalake_service(raw_request_hook=hook)
    fc = svc.get_file_system_client(fs.file_system_name).get_file_client("big/64mib.bin")
    data = os.urandom(64 * MiB)
    fc.upload_data(data, overwrite=True, chunk_size=4 * MiB, max_concurrency=4)

    appends = [u for m, u in requests_seen if m == "PATCH" and "action=append" in u]
    flushes = [u for m, u in requests_seen if m == "PATCH" and "action=flush" in u]
    assert len(appends) == 16, f"expected 16 appends of 4 MiB, saw {len(appends)}"
    assert len(flushes) == 1
    assert fc.get_file_properties().size == len(data)

    got = fs.get_file_client("big/64mib.bin").download_file(max_concurrency=4).readall()
    assert len(got) == len(data)
    assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest()


def test_append_flush_in_pieces(fs):
    fc = fs.get_file_client("pieces/log.txt")
    fc.create_file()
    pieces = [b"first line\n", b"second line, a bit longer\n", os.urandom(70000), b"end\n"]
    pos = 0
    for p in pieces:
        fc.append_data(p, offset=pos, length=len(p))
        pos += len(p)
    # Appended but not flushed: invisible.
    assert fc.get_file_properties().size == 0
    assert read(fc) == b""
    fc.flush_data(pos)
    whole = b"".join(pieces)
    assert fc.get_file_properties().size == len(whole)
    assert read(fc) == whole

    # Appending to an existing file, with flush=true on the last append.
    more = [b"more-1\n", b"more-2\n"]
    fc.append_data(more[0], offset=pos, length=len(more[0]))
    fc.append_data(more[1], offset=pos + len(more[0]), length=len(more[1]), flush=True)
    assert read(fc) == whole + b"".join(more)


def test_append_content_md5_checked_only_when_sent(tarn, fs):
    """An append hashes its bytes only to check a Content-MD5 the client sent (validate_content),
    and answers with Content-MD5 only then, which the SDK compares with its own."""
    import base64
    fc = fs.get_file_client("md5/a.bin")
    fc.create_file()
    small, big = b"checked", os.urandom(300 * 1024)  # inline, and past the inline limit
    fc.append_data(small, offset=0, length=len(small), validate_content=True)
    fc.append_data(big, offset=len(small), length=len(big), validate_content=True)
    fc.flush_data(len(small) + len(big))
    assert read(fc) == small + big

    raw = RawClient(tarn)
    path = f"/devstoreaccount1/{fs.file_system_name}/md5/raw.bin"
    assert raw.request("PUT", path, [("resource", "file")]).status == 201
    r = raw.request("PATCH", path, [("action", "append"), ("position", "0")], body=b"abc")
    assert r.status == 202 and r.header("Content-MD5") is None, r.headers
    md5 = base64.b64encode(hashlib.md5(b"def").digest()).decode()
    r = raw.request("PATCH", path, [("action", "append"), ("position", "3")],
                    headers={"Content-MD5": md5}, body=b"def")
    assert r.status == 202 and r.header("Content-MD5") == md5, r.headers
    wrong = base64.b64encode(hashlib.md5(b"xyz").digest()).decode()
    r = raw.request("PATCH", path, [("action", "append"), ("position", "6")],
                    headers={"Content-MD5": wrong}, body=b"ghi")
    assert r.status == 400 and r.header("x-ms-error-code") == "Md5Mismatch", r.body
    r = raw.request("PATCH", path, [("action", "flush"), ("position", "6")])
    assert r.status == 200, r.body
    assert read(fs.get_file_client("md5/raw.bin")) == b"abcdef"


def test_flush_retain_uncommitted_and_close(fs):
    fc = fs.get_file_client("pieces/retain.bin")
    fc.create_file()
    fc.append_data(b"abc", offset=0, length=3)
    fc.append_data(b"def", offset=3, length=3)
    fc.flush_data(3, retain_uncommitted_data=True)
    assert read(fc) == b"abc"
    fc.flush_data(6, close=True)
    assert read(fc) == b"abcdef"


def test_download_ranges(fs):
    data = os.urandom(3 * MiB + 12345)
    fc = fs.get_file_client("ranges/data.bin")
    fc.upload_data(data, overwrite=True)
    n = len(data)
    cases = [(0, 1), (0, 100), (1, 1), (100, 4096), (MiB - 1, 2), (n - 1, 1), (n - 1000, 1000),
             (123456, 2 * MiB), (0, n)]
    for off, ln in cases:
        assert read(fc, offset=off, length=ln) == data[off:off + ln], (off, ln)
    # Offset only: to the end.
    assert read(fc, offset=n - 5000) == data[n - 5000:]
    # Length beyond the end is clipped.
    assert read(fc, offset=n - 10, length=100) == data[n - 10:]
    # Chunked parallel download with small chunks.
    svc_fc = fc  # same client; the chunking is set per call below
    got = svc_fc.download_file(max_concurrency=3).readall()
    assert got == data


def test_download_ranges_small_chunks(tarn, fs):
    data = os.urandom(2 * MiB + 7)
    fs.get_file_client("ranges/chunks.bin").upload_data(data, overwrite=True)
    svc = tarn.datalake_service(max_single_get_size=256 * 1024, max_chunk_get_size=128 * 1024)
    fc = svc.get_file_system_client(fs.file_system_name).get_file_client("ranges/chunks.bin")
    assert fc.download_file(max_concurrency=4).readall() == data
    assert fc.download_file(offset=1000, length=600000, max_concurrency=2).readall() == \
        data[1000:601000]


# ----- listing at scale --------------------------------------------------------------------------

@pytest.mark.slow
def test_get_paths_recursive_12000_paged(tarn, fs):
    n_dirs, per_dir = 40, 299  # 40 directories + 11,960 files = 12,000 paths
    dirs = [f"list/d{i:02d}" for i in range(n_dirs)]
    files = [f"{d}/f{j:04d}.txt" for d in dirs for j in range(per_dir)]
    expected = set(dirs) | set(files) | {"list"}
    assert len(expected) == 12001  # 'list' itself is listed too, under the root

    fs.create_directory("list")
    pt = PerThread(tarn, fs.file_system_name)
    run_parallel(lambda d: pt.get().create_directory(d), dirs)
    run_parallel(lambda f: pt.get().create_file(f), files)

    pages = list(fs.get_paths(path="list", recursive=True, max_results=1000).by_page())
    names = []
    page_sizes = []
    for page in pages:
        items = list(page)
        page_sizes.append(len(items))
        names += [p.name for p in items]
    assert len(names) == 12000, f"listed {len(names)} paths in {len(page_sizes)} pages"
    assert len(set(names)) == len(names), "a path was listed twice"
    assert set(names) == expected - {"list"}
    assert len(page_sizes) >= 12, page_sizes
    assert max(page_sizes) <= 1000, page_sizes

    # From the root, unpaged by the caller (the SDK follows continuations; server max 5000).
    root_names = [p.name for p in fs.get_paths(recursive=True)]
    assert len(root_names) == 12001
    assert set(root_names) == expected


# ----- rename ------------------------------------------------------------------------------------

def _content(name):
    return (f"content of {name}\n" * (1 + len(name) % 4)).encode()


@pytest.mark.slow
def test_rename_directory_with_10000_files(tarn, fs):
    n_sub, per_sub = 10, 1000
    subdirs = [f"src/part{i}" for i in range(n_sub)]
    rel = [f"part{i}/file{j:04d}.txt" for i in range(n_sub) for j in range(per_sub)]
    fs.create_directory("src")
    for d in subdirs:
        fs.create_directory(d)
    pt = PerThread(tarn, fs.file_system_name)

    def make(r):
        fc = pt.get().get_file_client("src/" + r)
        fc.create_file()
        data = _content(r)
        if r.endswith(("0.txt", "5.txt")):  # one in five: a separate flush request
            fc.append_data(data, offset=0, length=len(data))
            fc.flush_data(len(data))
        else:  # append with flush=true
            fc.append_data(data, offset=0, length=len(data), flush=True)

    run_parallel(make, rel)

    moved = fs.get_directory_client("src").rename_directory(f"{fs.file_system_name}/dst")
    assert moved.path_name == "dst"
    assert not fs.get_directory_client("src").exists()
    assert fs.get_directory_client("dst").exists()

    listed = {p.name: p for p in fs.get_paths(path="dst", recursive=True, max_results=5000)}
    expected = {"dst/" + r for r in rel} | {d.replace("src/", "dst/", 1) for d in subdirs}
    assert set(listed) == expected
    for r in rel:
        assert listed["dst/" + r].content_length == len(_content(r)), r
    assert [p.name for p in fs.get_paths(recursive=True) if p.name.startswith("src")] == []

    # Every file's bytes at its new path. (Plain keep-alive GETs signed by our own Shared Key
    # signer: the SDK's per-request overhead would double this test's time on two cores.)
    raw = RawClient(tarn)
    conns = threading.local()

    def check(r):
        if getattr(conns, "c", None) is None:
            conns.c = raw.connection()
        resp = raw.get(f"/{tarn.account}/{fs.file_system_name}/dst/{quote(r)}", conn=conns.c)
        assert resp.status == 200, (r, resp)
        assert resp.body == _content(r), r

    run_parallel(check, rel)
    # And a sample through the SDK's own download path.
    for r in rel[::500]:
        assert fs.get_file_client("dst/" + r).download_file().readall() == _content(r), r


def test_rename_file_across_directories(fs):
    fs.create_directory("a")
    fs.create_directory("b")
    fc = fs.get_file_client("a/x.txt")
    fc.upload_data(b"moving", overwrite=True)
    new = fc.rename_file(f"{fs.file_system_name}/b/y.txt")
    assert read(new) == b"moving"
    assert not fs.get_file_client("a/x.txt").exists()
    # Rename to a missing parent fails.
    with pytest.raises(ResourceNotFoundError):
        new.rename_file(f"{fs.file_system_name}/no/such/parent/z.txt")
    assert read(fs.get_file_client("b/y.txt")) == b"moving"


def test_rename_with_conditions(fs):
    fc = fs.get_file_client("cond/src.txt")
    fc.upload_data(b"v1", overwrite=True)
    etag = fc.get_file_properties().etag
    with pytest.raises(HttpResponseError) as ei:
        fc.rename_file(f"{fs.file_system_name}/cond/dst.txt", source_etag='"0xDEADBEEF"',
                       source_match_condition=MatchConditions.IfNotModified)
    assert ei.value.status_code == 412
    assert fc.exists()
    new = fc.rename_file(f"{fs.file_system_name}/cond/dst.txt", source_etag=etag,
                         source_match_condition=MatchConditions.IfNotModified)
    assert read(new) == b"v1"
    # Destination condition: must not exist.
    other = fs.get_file_client("cond/other.txt")
    other.upload_data(b"other", overwrite=True)
    with pytest.raises(HttpResponseError) as ei:
        other.rename_file(f"{fs.file_system_name}/cond/dst.txt",
                          match_condition=MatchConditions.IfMissing)
    assert ei.value.status_code in (409, 412)
    assert read(fs.get_file_client("cond/dst.txt")) == b"v1"
    assert read(other) == b"other"


# ----- delete ------------------------------------------------------------------------------------

def test_recursive_delete(fs):
    for p in ["del/a/1.txt", "del/a/b/2.txt", "del/a/b/c/3.txt", "del/d/4.txt", "keep/5.txt"]:
        fs.get_file_client(p).upload_data(p.encode(), overwrite=True)
    fs.get_directory_client("del").delete_directory()
    assert not fs.get_directory_client("del").exists()
    for p in ["del/a/1.txt", "del/a/b/c/3.txt"]:
        assert not fs.get_file_client(p).exists()
    assert sorted(p.name for p in all_paths(fs)) == ["keep", "keep/5.txt"]
    fs.get_file_client("keep/5.txt").delete_file()
    assert sorted(p.name for p in all_paths(fs)) == ["keep"]
    with pytest.raises(ResourceNotFoundError):
        fs.get_file_client("keep/5.txt").delete_file()


# ----- properties, metadata, exists ---------------------------------------------------------------

def test_properties_and_metadata_round_trip(fs):
    settings = ContentSettings(content_type="text/csv", content_language="en-GB",
                               content_disposition="attachment; filename=x.csv",
                               cache_control="max-age=60", content_encoding="identity")
    fc = fs.get_file_client("props/x.csv")
    fc.create_file(content_settings=settings, metadata={"source": "sensor-7", "rows": "2"})
    fc.append_data(b"a,b\n1,2\n", 0, 8)
    fc.flush_data(8, content_settings=settings)
    p = fc.get_file_properties()
    assert {k.lower(): v for k, v in p.metadata.items()} == {"source": "sensor-7", "rows": "2"}
    cs = p.content_settings
    assert cs.content_type == "text/csv"
    assert cs.content_language == "en-GB"
    assert cs.content_disposition == "attachment; filename=x.csv"
    assert cs.cache_control == "max-age=60"
    assert cs.content_encoding == "identity"
    assert p.size == 8
    assert p.etag and p.last_modified and p.creation_time

    fc.set_metadata({"quality": "checked"})
    assert fc.get_file_properties().metadata == {"quality": "checked"}
    fc.set_http_headers(ContentSettings(content_type="application/octet-stream"))
    p2 = fc.get_file_properties()
    assert p2.content_settings.content_type == "application/octet-stream"
    assert p2.etag != p.etag
    assert read(fc) == b"a,b\n1,2\n"

    dc = fs.get_directory_client("props/dir")
    dc.create_directory(metadata={"zone": "curated"})
    assert user_metadata(dc.get_directory_properties().metadata) == {"zone": "curated"}
    dc.set_metadata({"zone": "product", "pii": "no"})
    assert user_metadata(dc.get_directory_properties().metadata) == {"zone": "product",
                                                                     "pii": "no"}
    # Still a directory after a Blob-side metadata update.
    assert [p.is_directory for p in fs.get_paths(path="props", recursive=False)
            if p.name == "props/dir"] == [True]


def test_exists(dl_service, fs):
    assert fs.exists()
    assert not dl_service.get_file_system_client(unique_name("none")).exists()
    fc = fs.get_file_client("ex/file.txt")
    assert not fc.exists()
    fc.upload_data(b"1", overwrite=True)
    assert fc.exists()
    assert fs.get_directory_client("ex").exists()
    assert not fs.get_directory_client("ex/nope").exists()
    assert not fs.get_file_client("ex/file.txt/below").exists()


def test_create_conflicts(fs):
    fc = fs.get_file_client("conflict/f.txt")
    fc.upload_data(b"original", overwrite=True)
    with pytest.raises(ResourceExistsError):
        fc.create_file(match_condition=MatchConditions.IfMissing)
    assert read(fc) == b"original"
    with pytest.raises(ResourceExistsError):
        fs.create_directory("conflict", match_condition=MatchConditions.IfMissing)
    # upload_data without overwrite must not clobber an existing file (the SDK appends and then
    # flushes with If-None-Match: *, which must fail).
    with pytest.raises(HttpResponseError):
        fc.upload_data(b"clobber")
    assert read(fc) == b"original"
    # Creating a file where a directory is: conflict, directory untouched.
    with pytest.raises(HttpResponseError) as ei:
        fs.get_file_client("conflict").create_file(match_condition=MatchConditions.IfMissing)
    assert ei.value.status_code == 409
    assert fs.get_directory_client("conflict").get_directory_properties().name == "conflict"


def test_conditional_writes(fs):
    fc = fs.get_file_client("cond2/f.txt")
    fc.upload_data(b"v1", overwrite=True)
    etag = fc.get_file_properties().etag
    with pytest.raises(ResourceModifiedError):
        fc.upload_data(b"v2", overwrite=True, etag='"0x1"',
                       match_condition=MatchConditions.IfNotModified)
    assert read(fc) == b"v1"
    fc.upload_data(b"v2", overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
    assert read(fc) == b"v2"
    with pytest.raises(ResourceModifiedError):
        fc.set_metadata({"a": "b"}, etag=etag, match_condition=MatchConditions.IfNotModified)


# ----- access control -------------------------------------------------------------------------------

OWNER = "6f2e0c4a-1b2c-4d5e-8f90-0123456789ab"
GROUP = "0a1b2c3d-4e5f-4607-8899-aabbccddeeff"
NAMED = "11111111-2222-4333-8444-555555555555"


def _acl_set(acl):
    return set(acl.split(","))


def test_access_control_round_trip(fs):
    fc = fs.get_file_client("acl/f.txt")
    fc.upload_data(b"secret", overwrite=True)

    before = fc.get_access_control()
    assert set(before) >= {"owner", "group", "permissions", "acl"}

    fc.set_access_control(owner=OWNER, group=GROUP, permissions="rwxr-----")
    got = fc.get_access_control()
    assert got["owner"] == OWNER
    assert got["group"] == GROUP
    assert got["permissions"] == "rwxr-----"
    assert _acl_set(got["acl"]) == {"user::rwx", "group::r--", "other::---"}

    fc.set_access_control(permissions="0640")
    assert fc.get_access_control()["permissions"] == "rw-r-----"

    acl = f"user::rw-,user:{NAMED}:r--,group::r--,mask::r--,other::---"
    fc.set_access_control(acl=acl)
    got = fc.get_access_control()
    assert _acl_set(got["acl"]) == _acl_set(acl)
    assert got["permissions"] == "rw-r-----+"
    assert got["owner"] == OWNER  # unchanged by an ACL-only update

    dc = fs.get_directory_client("acl/dir")
    dc.create_directory()
    dacl = ("user::rwx,group::r-x,other::---,"
            "default:user::rwx,default:group::r-x,default:other::---")
    dc.set_access_control(acl=dacl)
    got = dc.get_access_control()
    assert _acl_set(got["acl"]) == _acl_set(dacl)
    assert got["permissions"].startswith("rwxr-x---")

    # Properties survive an ACL change, and the data is untouched.
    assert read(fc) == b"secret"


def test_get_access_control_on_filesystem_root(fs):
    root = fs._get_root_directory_client()
    got = root.get_access_control()
    assert set(got) >= {"owner", "group", "permissions", "acl"}
    assert got["owner"]
    assert len(got["permissions"].rstrip("+")) == 9, got


def test_create_with_permissions_and_umask(fs):
    dc = fs.get_directory_client("perm/d")
    dc.create_directory(permissions="0777", umask="0027")
    assert dc.get_access_control()["permissions"] == "rwxr-x---"
    fc = fs.get_file_client("perm/f")
    fc.create_file(permissions="0666", umask="0022")
    assert fc.get_access_control()["permissions"] == "rw-r--r--"


# ----- leases ---------------------------------------------------------------------------------------

def test_file_lease(fs):
    fc = fs.get_file_client("lease/f.txt")
    fc.upload_data(b"v1", overwrite=True)
    lease = DataLakeLeaseClient(fc)
    lease.acquire(lease_duration=15)
    assert fc.get_file_properties().lease.state == "leased"

    # Another lease cannot be taken.
    with pytest.raises(HttpResponseError) as ei:
        DataLakeLeaseClient(fc, lease_id=str(uuid.uuid4())).acquire(lease_duration=15)
    assert ei.value.status_code == 409

    # Writes without the lease id fail with 412; with it they work.
    with pytest.raises(HttpResponseError) as ei:
        fc.set_metadata({"a": "1"})
    assert ei.value.status_code == 412
    with pytest.raises(HttpResponseError) as ei:
        fc.upload_data(b"v2", overwrite=True)
    assert ei.value.status_code == 412
    with pytest.raises(HttpResponseError) as ei:
        fc.delete_file()
    assert ei.value.status_code == 412
    assert read(fc) == b"v1"

    fc.set_metadata({"a": "1"}, lease=lease)
    fc.append_data(b"+more", offset=2, length=5, lease=lease)
    fc.flush_data(7, lease=lease)
    assert read(fc) == b"v1+more"

    # A wrong lease id is rejected too.
    with pytest.raises(HttpResponseError) as ei:
        fc.set_metadata({"a": "2"}, lease=str(uuid.uuid4()))
    assert ei.value.status_code == 412

    lease.renew()
    lease.release()
    assert fc.get_file_properties().lease.state == "available"
    fc.set_metadata({"a": "3"})
    assert fc.get_file_properties().metadata == {"a": "3"}

    # Break: an infinite lease broken with period 0 frees the file at once.
    lease2 = DataLakeLeaseClient(fc)
    lease2.acquire()
    lease2.break_lease(lease_break_period=0)
    fc.upload_data(b"after break", overwrite=True)
    assert read(fc) == b"after break"
