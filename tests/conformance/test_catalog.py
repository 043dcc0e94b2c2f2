"""The workspace catalog's REST API (docs/catalog-api.md) against a real tarnd: workspaces,
datastores validated with their own credentials, and immutable dataset versions that pin the
registered bytes. Lake data is written with Microsoft's azure-storage-file-datalake SDK."""

import base64
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from azure.storage.filedatalake import DataLakeServiceClient

from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient
from tarn_harness import unique_name

WRONG_KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="


class Catalog:
    """JSON calls to /workspaces, signed with the account's Shared Key."""

    def __init__(self, server):
        self.raw = RawClient(server)

    def call(self, method, path, body=None, query=(), headers=None, expect=None):
        data = json.dumps(body).encode() if body is not None else b""
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        r = self.raw.request(method, "/workspaces" + path, query, hdrs, data)
        if expect is not None:
            assert r.status == expect, r
        return r

    def json(self, method, path, body=None, query=(), expect=200):
        r = self.call(method, path, body, query, expect=expect)
        return json.loads(r.body)


def error_code(r):
    return json.loads(r.body)["error"]["code"]


@pytest.fixture(scope="module")
def cat(tarn):
    return Catalog(tarn)


@pytest.fixture
def ws(cat):
    name = unique_name("ws")
    cat.json("PUT", f"/{name}", {"subscription_id": "sub-1", "resource_group": "rg-1"},
             expect=201)
    return name


@pytest.fixture
def lake(dl_service):
    fs = unique_name("product")
    client = dl_service.create_file_system(fs)
    return client


def write(fs_client, path, data):
    fs_client.get_file_client(path).upload_data(data, overwrite=True)


def register_store(cat, ws, name, fs, credential=None, endpoint=None, expect=201, **extra):
    body = {"account_name": ACCOUNT, "filesystem": fs,
            "credential": credential or {"type": "account_key", "account_key": ACCOUNT_KEY}}
    if endpoint:
        body["endpoint"] = endpoint
    body.update(extra)
    return cat.call("PUT", f"/{ws}/datastores/{name}", body, expect=expect)


def read_file(cat, ws, name, version, index, query=(), headers=None):
    return cat.call("GET", f"/{ws}/datasets/{name}/versions/{version}/files/{index}",
                    query=query, headers=headers)


# ----- workspaces ------------------------------------------------------------------------------

def test_workspace_lifecycle(cat):
    name = unique_name("ws")
    created = cat.json("PUT", f"/{name}", {"subscription_id": "s", "resource_group": "r"},
                       expect=201)
    # Each new workspace gets Azure ML's default datastore, over a new filesystem of its own.
    assert created["name"] == name and created["default_datastore"] == "workspaceblobstore"
    blobstore = cat.json("GET", f"/{name}/default-datastore")
    assert blobstore["name"] == "workspaceblobstore" and blobstore["local"] is True
    assert blobstore["filesystem"].startswith("azureml-blobstore-")
    assert blobstore["credential_type"] == "none"
    # The same PUT again is idempotent; a different subscription is a conflict.
    cat.json("PUT", f"/{name}", {"subscription_id": "s", "resource_group": "r"}, expect=200)
    r = cat.call("PUT", f"/{name}", {"subscription_id": "other", "resource_group": "r"},
                 expect=409)
    assert error_code(r) == "WorkspaceAlreadyExists"
    assert name in [w["name"] for w in cat.json("GET", "")["workspaces"]]
    cat.json("DELETE", f"/{name}")
    assert error_code(cat.call("GET", f"/{name}", expect=404)) == "WorkspaceNotFound"


def test_catalog_requires_shared_key(tarn, cat, ws):
    raw = RawClient(tarn)
    r = raw.request("GET", f"/workspaces/{ws}", sign_with=False)
    assert r.status in (401, 403), r
    r = raw.request("GET", f"/workspaces/{ws}", sign_with=WRONG_KEY)
    assert r.status == 403, r
    assert r.header("x-ms-error-code") == "AuthenticationFailed"


@pytest.mark.parametrize("bad", ["a", "-lead", "has space", "x" * 33, "semi;colon"])
def test_invalid_workspace_names(cat, bad):
    import urllib.parse
    r = cat.call("PUT", "/" + urllib.parse.quote(bad, safe=""), {})
    assert r.status == 400 and error_code(r) == "InvalidName", r


def test_bad_json_body(cat, ws):
    r = cat.raw.request("PUT", f"/workspaces/{ws}/datastores/d1", (),
                        {"Content-Type": "application/json"}, b"{not json")
    assert r.status == 400 and error_code(r) == "InvalidDefinition", r


# ----- datastores ------------------------------------------------------------------------------

def test_datastore_register_validates_and_hides_secrets(tarn, cat, ws, lake):
    r = register_store(cat, ws, "Product_Lake", lake.file_system_name)
    store = json.loads(r.body)
    assert store["local"] is True and store["validated"] is True
    assert ACCOUNT_KEY not in r.body.decode()
    # Names are case-insensitive; listing and lookup never show the key.
    got = cat.json("GET", f"/{ws}/datastores/product_lake")
    assert got["name"] == "Product_Lake" and got["credential_type"] == "account_key"
    assert ACCOUNT_KEY not in json.dumps(got) and "\"account_key\":" not in json.dumps(got)
    listing = cat.call("GET", f"/{ws}/datastores", expect=200)
    assert ACCOUNT_KEY not in listing.body.decode()
    # Registering the same name again needs overwrite.
    r = register_store(cat, ws, "PRODUCT_LAKE", lake.file_system_name, expect=409)
    assert error_code(r) == "DatastoreAlreadyExists"
    register_store(cat, ws, "PRODUCT_LAKE", lake.file_system_name, expect=200, overwrite=True)
    # The secret is sealed at rest: not in the metadata database in any form.
    db = (tarn.data_dir / "meta.db").read_bytes() + (tarn.data_dir / "meta.db-wal").read_bytes() \
        if (tarn.data_dir / "meta.db-wal").exists() else (tarn.data_dir / "meta.db").read_bytes()
    import base64
    assert ACCOUNT_KEY.encode() not in db
    assert base64.b64decode(ACCOUNT_KEY) not in db
    assert (tarn.data_dir / "master.key").stat().st_mode & 0o077 == 0


def test_datastore_wrong_credentials_register_nothing(cat, ws, lake):
    r = register_store(cat, ws, "bad", lake.file_system_name,
                       {"type": "account_key", "account_key": WRONG_KEY}, expect=400)
    assert error_code(r) == "DatastoreValidationFailed"
    assert "403" in json.loads(r.body)["error"]["message"]
    cat.call("GET", f"/{ws}/datastores/bad", expect=404)
    r = register_store(cat, ws, "nofs", "no-such-filesystem", expect=400)
    assert error_code(r) == "DatastoreValidationFailed"
    r = register_store(cat, ws, "bad-name!", lake.file_system_name, expect=400)
    assert error_code(r) == "InvalidName"
    r = cat.call("PUT", f"/{ws}/datastores/x", {"filesystem": lake.file_system_name,
                                                "account_name": ACCOUNT,
                                                "credential": {"type": "password"}}, expect=400)
    assert error_code(r) == "InvalidDefinition"


def test_sas_datastore(tarn, cat, ws, lake):
    from azure.storage.filedatalake import (AccountSasPermissions, ResourceTypes,
                                            generate_account_sas)
    write(lake, "d/one.bin", b"one")
    sas = generate_account_sas(ACCOUNT, ACCOUNT_KEY, ResourceTypes(file_system=True, object=True),
                               AccountSasPermissions(read=True, list=True),
                               datetime.now(timezone.utc) + timedelta(hours=1))
    register_store(cat, ws, "sas_store", lake.file_system_name, {"type": "sas", "sas_token": sas},
                   endpoint=tarn.account_url)
    assert sas not in cat.call("GET", f"/{ws}/datastores/sas_store").body.decode()
    v = cat.json("POST", f"/{ws}/datasets/viasas/versions",
                 {"definition": {"kind": "file",
                                 "paths": [{"datastore": "sas_store", "path": "d/*.bin"}]}},
                 expect=201)
    assert v["file_count"] == 1
    assert read_file(cat, ws, "viasas", 1, 0).body == b"one"
    expired = generate_account_sas(ACCOUNT, ACCOUNT_KEY, ResourceTypes(file_system=True),
                                   AccountSasPermissions(read=True, list=True),
                                   datetime.now(timezone.utc) - timedelta(hours=1))
    r = register_store(cat, ws, "old_sas", lake.file_system_name,
                       {"type": "sas", "sas_token": expired}, endpoint=tarn.account_url,
                       expect=400)
    assert error_code(r) == "DatastoreValidationFailed"


def test_default_datastore_and_unregister(cat, ws, lake):
    register_store(cat, ws, "main", lake.file_system_name)
    assert cat.json("GET", f"/{ws}/default-datastore")["name"] == "workspaceblobstore"
    assert cat.json("PUT", f"/{ws}/default-datastore", {"name": "MAIN"})["default_datastore"] \
        == "main"
    assert cat.json("GET", f"/{ws}/default-datastore")["is_default"] is True
    write(lake, "x.txt", b"x")
    cat.json("POST", f"/{ws}/datasets/uses_main/versions",
             {"definition": {"kind": "file", "paths": [{"datastore": "main", "path": "x.txt"}]}},
             expect=201)
    r = cat.call("DELETE", f"/{ws}/datastores/main", expect=409)
    assert error_code(r) == "DatastoreInUse"
    cat.json("POST", f"/{ws}/datasets/uses_main/versions/1", query=[("action", "archive")])
    cat.json("DELETE", f"/{ws}/datastores/main")
    assert cat.json("GET", f"/{ws}")["default_datastore"] is None
    cat.call("GET", f"/{ws}/default-datastore", expect=404)
    # Unregistering never touches the lake.
    assert lake.get_file_client("x.txt").download_file().readall() == b"x"


# ----- datasets --------------------------------------------------------------------------------

def test_versions_are_immutable_without_copies(tarn, cat, ws, lake):
    write(lake, "sales/2024/01.csv", b"id,amount\n1,10\n2,20\n")
    write(lake, "sales/2024/02.csv", b"id,amount\n3,30\n")
    write(lake, "sales/readme.txt", b"not data")
    register_store(cat, ws, "product", lake.file_system_name)
    body = {"description": "monthly sales", "tags": {"zone": "product"},
            "definition": {"kind": "file",
                           "paths": [{"datastore": "product", "path": "sales/**/*.csv"}]}}
    v1 = cat.json("POST", f"/{ws}/datasets/sales/versions", body, expect=201)
    assert v1["version"] == 1 and v1["pinned"] is True and v1["file_count"] == 2
    assert v1["total_bytes"] == 35 and v1["created_by"] == ACCOUNT
    files = cat.json("GET", f"/{ws}/datasets/sales/versions/1/files")["files"]
    assert [f["path"] for f in files] == ["sales/2024/01.csv", "sales/2024/02.csv"]

    # The same name again needs create_new_version.
    r = cat.call("POST", f"/{ws}/datasets/sales/versions", body, expect=409)
    assert error_code(r) == "DatasetAlreadyExists"

    # Overwrite one file and delete the other: version 1 still reads what it registered.
    write(lake, "sales/2024/01.csv", b"id,amount\n9,99\n")
    lake.get_file_client("sales/2024/02.csv").delete_file()
    assert read_file(cat, ws, "sales", 1, 0).body == b"id,amount\n1,10\n2,20\n"
    assert read_file(cat, ws, "sales", 1, 1).body == b"id,amount\n3,30\n"
    r = read_file(cat, ws, "sales", 1, 0, headers={"Range": "bytes=3-8"})
    assert r.status == 206 and r.body == b"amount"
    assert r.header("Content-Range") == "bytes 3-8/20"

    body["create_new_version"] = True
    v2 = cat.json("POST", f"/{ws}/datasets/sales/versions", body, expect=201)
    assert v2["version"] == 2 and v2["file_count"] == 1
    assert read_file(cat, ws, "sales", 2, 0).body == b"id,amount\n9,99\n"
    assert cat.json("GET", f"/{ws}/datasets/sales")["version"] == 2
    assert cat.json("GET", f"/{ws}/datasets/sales", query=[("version", "1")])["id"] == v1["id"]
    assert cat.json("GET", f"/{ws}/dataset-ids/{v1['id']}")["version"] == 1
    assert [v["version"] for v in cat.json("GET", f"/{ws}/datasets/sales/versions")["versions"]] \
        == [1, 2]

    # Archiving version 1 releases its pins: it can no longer be read as registered, and it
    # cannot come back since the bytes are gone.
    cat.json("POST", f"/{ws}/datasets/sales/versions/1", query=[("action", "archive")])
    r = read_file(cat, ws, "sales", 1, 0)
    assert r.status == 409 and error_code(r) == "DatasetDrift", r
    r = cat.call("POST", f"/{ws}/datasets/sales/versions/1", query=[("action", "reactivate")],
                 expect=409)
    assert error_code(r) == "DatasetDataGone"
    # The latest active version is what "latest" means.
    cat.json("POST", f"/{ws}/datasets/sales/versions/2", query=[("action", "archive")])
    cat.call("GET", f"/{ws}/datasets/sales", expect=404)
    assert cat.json("GET", f"/{ws}/datasets", query=[("include_archived", "true")])[
        "datasets"][0]["version"] == 2
    cat.json("POST", f"/{ws}/datasets/sales/versions/2", query=[("action", "reactivate")])
    assert read_file(cat, ws, "sales", 2, 0).body == b"id,amount\n9,99\n"


def test_update_tags_and_delete(cat, ws, lake):
    write(lake, "a.bin", b"a")
    register_store(cat, ws, "s", lake.file_system_name)
    cat.json("POST", f"/{ws}/datasets/tagged/versions",
             {"tags": {"a": "1", "b": "2"},
              "definition": {"kind": "file", "paths": [{"datastore": "s", "path": "a.bin"}]}},
             expect=201)
    v = cat.json("PATCH", f"/{ws}/datasets/tagged/versions/1",
                 {"description": "new", "add_tags": {"c": "3"}, "remove_tags": ["a"]})
    assert v["description"] == "new" and v["tags"] == {"b": "2", "c": "3"}
    cat.json("DELETE", f"/{ws}/datasets/tagged/versions/1")
    cat.call("GET", f"/{ws}/datasets/tagged/versions", expect=404)


@pytest.mark.parametrize("paths,code", [
    ([{"datastore": "s", "path": "nothing/*.csv"}], "EmptyDataset"),
    ([{"datastore": "s", "path": ""}], "InvalidPaths"),
    ([{"datastore": "s", "path": "a//b"}], "InvalidPaths"),
    ([{"datastore": "s", "path": "a/[bc"}], "InvalidPaths"),
    ([{"datastore": "nope", "path": "*.bin"}], "DatastoreNotFound"),
    ([{"datastore": "s", "path": "*.bin"}, {"url": "http://elsewhere/x"}], "InvalidPaths"),
    ([], "InvalidPaths"),
    (None, "InvalidPaths"),  # no paths at all (a fuzz finding: read after free)
])
def test_bad_paths_register_nothing(tarn, cat, ws, lake, paths, code):
    write(lake, "f.bin", b"f")
    register_store(cat, ws, "s", lake.file_system_name)
    definition = {"kind": "file"} if paths is None else {"kind": "file", "paths": paths}
    r = cat.call("POST", f"/{ws}/datasets/bad/versions", {"definition": definition})
    assert r.status in (400, 404) and error_code(r) == code, r
    cat.call("GET", f"/{ws}/datasets/bad/versions", expect=404)


def test_invalid_definitions(cat, ws, lake):
    register_store(cat, ws, "s", lake.file_system_name)
    for body, code in [({"definition": {"kind": "table"}}, "InvalidDefinition"),
                       ({"definition": {"kind": "tabular", "format": "xls",
                                        "paths": [{"datastore": "s", "path": "*"}]}},
                        "InvalidDefinition"),
                       ({"tags": {"a": 1}, "definition": {"kind": "file"}}, "InvalidDefinition")]:
        r = cat.call("POST", f"/{ws}/datasets/d/versions", body)
        assert r.status == 400 and error_code(r) == code, (body, r)
    for bad in ("bad%21name", "%20leading", "trailing%20", "a%2Fb"):
        r = cat.call("POST", f"/{ws}/datasets/{bad}/versions", {"definition": {"kind": "file"}})
        assert r.status == 400 and error_code(r) == "InvalidName", bad


def test_url_paths(tarn, cat, ws, lake):
    write(lake, "u/1.bin", b"1")
    register_store(cat, ws, "s", lake.file_system_name)
    url = f"{tarn.account_url}/{lake.file_system_name}/u/*.bin"
    v = cat.json("POST", f"/{ws}/datasets/byurl/versions",
                 {"definition": {"kind": "file", "paths": [{"url": url}]}}, expect=201)
    assert v["file_count"] == 1
    v = cat.json("POST", f"/{ws}/datasets/byuri/versions",
                 {"definition": {"kind": "file",
                                 "paths": [{"url": "azureml://datastores/s/paths/u/**"}]}},
                 expect=201)
    assert v["file_count"] == 1


def test_external_datastore_drift(tarn_factory, cat, ws):
    """A datastore on another tarnd: nothing is pinned there, so a change is detected by etag."""
    other = tarn_factory()
    fs = unique_name("ext")
    fsc = other.datalake_service().create_file_system(fs)
    write(fsc, "e/data.csv", b"a,b\n1,2\n")
    register_store(cat, ws, "external", fs, endpoint=other.account_url)
    assert cat.json("GET", f"/{ws}/datastores/external")["local"] is False
    v = cat.json("POST", f"/{ws}/datasets/ext/versions",
                 {"definition": {"kind": "file",
                                 "paths": [{"datastore": "external", "path": "e/*.csv"}]}},
                 expect=201)
    assert v["pinned"] is False
    assert read_file(cat, ws, "ext", 1, 0).body == b"a,b\n1,2\n"
    write(fsc, "e/data.csv", b"a,b\n5,6\n")
    r = read_file(cat, ws, "ext", 1, 0)
    assert r.status == 409 and error_code(r) == "DatasetDrift", r
    assert "e/data.csv" in json.loads(r.body)["error"]["message"]
    assert read_file(cat, ws, "ext", 1, 0, query=[("drift", "ignore")]).body == b"a,b\n5,6\n"
    fsc.get_file_client("e/data.csv").delete_file()
    r = read_file(cat, ws, "ext", 1, 0)
    assert r.status == 409 and error_code(r) == "DatasetDrift", r


def test_service_principal_datastore_over_https(tarn_factory, cat, ws):
    """A datastore on another tarnd, reached over https with a service principal of that
    tarnd's directory. The module tarnd does not trust the other's self-signed certificate, so
    it refuses, naming the problem; a tarnd started with --ca-file <other>/tls/cert.pem gets a
    token from the other's token service, lists, registers and reads with it, and detects drift
    there by etag."""
    from identity_admin import Directory
    other = tarn_factory()
    d = Directory(other)
    tenant = d.tenant()
    sp = d.service_principal(tenant)
    fs = unique_name("ext")
    fsc = other.datalake_service().create_file_system(fs)
    write(fsc, "e/data.csv", b"a,b\n1,2\n")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    cred = {"type": "service_principal", "tenant_id": tenant, "client_id": sp["app_id"],
            "client_secret": sp["secret"]}
    endpoint = f"{other.https_url}/{ACCOUNT}"
    r = register_store(cat, ws, "untrusted", fs, cred, endpoint=endpoint, expect=400)
    assert error_code(r) == "DatastoreValidationFailed", r
    assert "certificate is not trusted" in json.loads(r.body)["error"]["message"]
    cat.call("GET", f"/{ws}/datastores/untrusted", expect=404)

    here = tarn_factory(extra_args=("--ca-file", other.ca_file))
    cat2 = Catalog(here)
    ws2 = unique_name("ws")
    cat2.json("PUT", f"/{ws2}", {}, expect=201)
    doc = json.loads(register_store(cat2, ws2, "sp", fs, cred, endpoint=endpoint).body)
    assert doc["local"] is False and doc["validated"] is True
    assert sp["secret"] not in json.dumps(doc)
    assert sp["secret"].encode() not in (here.data_dir / "meta.db").read_bytes()
    v = cat2.json("POST", f"/{ws2}/datasets/t/versions",
                  {"definition": {"kind": "tabular", "format": "csv",
                                  "paths": [{"datastore": "sp", "path": "e/*.csv"}]}},
                  expect=201)
    assert v["row_count"] == 1 and v["pinned"] is False
    assert read_file(cat2, ws2, "t", 1, 0).body == b"a,b\n1,2\n"
    write(fsc, "e/data.csv", b"a,b\n5,6\n")
    r = read_file(cat2, ws2, "t", 1, 0)
    assert r.status == 409 and error_code(r) == "DatasetDrift", r
    # The other tarnd saw the principal's bearer token, not a key.
    r = d.raw.request("GET", "/identity/audit", [("principal", f"oid:{sp['object_id']}")])
    assert r.status == 200 and json.loads(r.body)["events"], r


def test_local_service_principal_is_checked_on_every_read(tarn, cat, ws, lake):
    """A datastore on this tarnd with one of its service principals is read as that principal
    every time (issue 12): removing its role stops the next read of a registered dataset, pinned
    bytes and new registrations included, with the storage API's 403 code; giving it read in the
    ACLs instead lets it read what they grant, and only that. Registering with
    skip_validation works too (it used to fail later with "authority ... is not https")."""
    from identity_admin import Directory
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "reader")
    fs = lake.file_system_name
    write(lake, "p/a.csv", b"a\n1\n")
    write(lake, "q/b.csv", b"b\n2\n")
    role = d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    cred = {"type": "service_principal", "tenant_id": tenant, "client_id": sp["app_id"],
            "client_secret": sp["secret"]}
    register_store(cat, ws, "sp", fs, cred)
    register_store(cat, ws, "sp_unchecked", fs, cred, skip_validation=True)
    for store, name in (("sp", "files"), ("sp_unchecked", "files2")):
        cat.json("POST", f"/{ws}/datasets/{name}/versions",
                 {"definition": {"kind": "file",
                                 "paths": [{"datastore": store, "path": "p/a.csv"}]}},
                 expect=201)
        assert read_file(cat, ws, name, 1, 0).body == b"a\n1\n"

    d.call("DELETE", f"/role-assignments/{role['id']}", expect=200)
    for name in ("files", "files2"):
        r = read_file(cat, ws, name, 1, 0)
        assert r.status == 403 and error_code(r) == "AuthorizationPermissionMismatch", r
        assert "Storage Blob Data Reader" in json.loads(r.body)["error"]["message"]
    r = cat.call("POST", f"/{ws}/datasets/fresh/versions",
                 {"definition": {"kind": "file", "paths": [{"datastore": "sp", "path": "q/*"}]}})
    assert r.status == 403 and error_code(r) == "AuthorizationPermissionMismatch", r

    # Read and execute on the way to p/a.csv only: that file reads again, q/ does not.
    dl = lake.get_directory_client("/")
    dl.update_access_control_recursive(acl=f"user:{sp['object_id']}:--x")
    lake.get_directory_client("p").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{sp['object_id']}:r-x")
    lake.get_file_client("p/a.csv").set_access_control(
        acl=f"user::rw-,group::r--,other::---,user:{sp['object_id']}:r--")
    assert read_file(cat, ws, "files", 1, 0).body == b"a\n1\n"
    r = cat.call("POST", f"/{ws}/datasets/fresh/versions",
                 {"definition": {"kind": "file", "paths": [{"datastore": "sp", "path": "q/*"}]}})
    assert r.status == 403 and error_code(r) == "AuthorizationPermissionMismatch", r
    # A pinned file that is gone is read only with a role: no ACL is left to grant it.
    lake.get_file_client("p/a.csv").delete_file()
    r = read_file(cat, ws, "files", 1, 0)
    assert r.status == 403 and "gone" in json.loads(r.body)["error"]["message"], r
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}/p")
    assert read_file(cat, ws, "files", 1, 0).body == b"a\n1\n"
    # A deleted principal reads nothing, whatever it was granted.
    d.call("DELETE", f"/principals/{sp['object_id']}", expect=200)
    r = read_file(cat, ws, "files", 1, 0)
    assert r.status == 400 and error_code(r) == "DatastoreAccessFailed", r


def test_pins_survive_kill_and_restart(tarn_factory):
    srv = tarn_factory()
    cat = Catalog(srv)
    ws = unique_name("ws")
    cat.json("PUT", f"/{ws}", {}, expect=201)
    fsc = srv.datalake_service().create_file_system(unique_name("fs"))
    write(fsc, "p.bin", b"pinned bytes")
    register_store(cat, ws, "s", fsc.file_system_name)
    cat.json("POST", f"/{ws}/datasets/keep/versions",
             {"definition": {"kind": "file", "paths": [{"datastore": "s", "path": "p.bin"}]}},
             expect=201)
    fsc.get_file_client("p.bin").delete_file()
    srv.kill()
    srv.start()
    assert read_file(Catalog(srv), ws, "keep", 1, 0).body == b"pinned bytes"


# ----- tabular datasets (schema, row count and profile from the tabular engine) ---------------

def test_tabular_csv_profile_with_hive_partitions(cat, ws, lake):
    write(lake, "sales/region=eu/part1.csv", b"id,amount,day\n1,10.5,2024-01-02\n2,,2024-01-03\n")
    write(lake, "sales/region=us/part1.csv", b"id,amount,day\n3,99,2024-02-01\n")
    register_store(cat, ws, "product", lake.file_system_name)
    v = cat.json("POST", f"/{ws}/datasets/sales_tab/versions",
                 {"definition": {"kind": "tabular", "format": "csv",
                                 "paths": [{"datastore": "product", "path": "sales/**/*.csv"}],
                                 "options": {"header": True}}}, expect=201)
    assert v["row_count"] == 3 and v["file_count"] == 2 and v["pinned"] is True
    names = [c["name"] for c in v["schema"]]
    assert names[:3] == ["id", "amount", "day"] and "region" in names
    assert v["partition_keys"] == ["region"]
    prof = {c["name"]: c for c in v["profile"]}
    assert prof["amount"]["nulls"] == 1 and float(prof["amount"]["max"]) == 99
    assert prof["id"]["min"] == "1" and prof["id"]["distinct"] == 3
    files = cat.json("GET", f"/{ws}/datasets/sales_tab/versions/1/files")["files"]
    assert [f["partition"] for f in files] == [{"region": "eu"}, {"region": "us"}]
    # The stored definition carries every option, normalised.
    assert v["definition"]["options"]["separator"] == ","


def test_histograms_and_preview_of_a_version(cat, ws, lake):
    rows = "".join(f"{i},{i * 0.5},n{i}\n" for i in range(100))
    write(lake, "h/a.csv", ("id,x,name\n" + rows).encode())
    register_store(cat, ws, "product", lake.file_system_name)
    cat.json("POST", f"/{ws}/datasets/hist/versions",
             {"definition": {"kind": "tabular", "format": "csv",
                             "paths": [{"datastore": "product", "path": "h/a.csv"}]}}, expect=201)
    # The version's bytes are pinned: overwriting the file changes no histogram.
    write(lake, "h/a.csv", b"id,x,name\n1,1,a\n")
    h = cat.json("GET", f"/{ws}/datasets/hist/versions/1/histograms", query=[("bins", "4")])
    assert h["bins"] == 4 and h["row_count"] == 100
    cols = {c["name"]: c for c in h["columns"]}
    assert set(cols) == {"id", "x"}  # not the text column
    assert cols["id"]["low"] == 0 and cols["id"]["high"] == 99
    assert cols["id"]["counts"] == [25, 25, 25, 25] and cols["x"]["counts"] == [25, 25, 25, 25]
    one = cat.json("GET", f"/{ws}/datasets/hist/versions/1/histograms",
                   query=[("column", "x"), ("bins", "2")])
    assert [c["name"] for c in one["columns"]] == ["x"] and one["columns"][0]["counts"] == [50, 50]
    for query, status in (([("bins", "0")], 400), ([("bins", "101")], 400),
                          ([("column", "name")], 400), ([("column", "nope")], 400)):
        r = cat.call("GET", f"/{ws}/datasets/hist/versions/1/histograms", query=query)
        assert r.status == status, (query, r)
    r = cat.call("GET", f"/{ws}/datasets/nothing/versions/1/histograms")
    assert r.status == 404, r
    # The version's first rows, as registered (the file was overwritten since).
    p = cat.json("GET", f"/{ws}/datasets/hist/versions/1/preview", query=[("rows", "3")])
    assert [c["name"] for c in p["columns"]] == ["id", "x", "name"]
    assert p["rows"] == [[0, 0.0, "n0"], [1, 0.5, "n1"], [2, 1.0, "n2"]] and p["row_count"] == 100
    for rows in ("0", "101", "x"):
        r = cat.call("GET", f"/{ws}/datasets/hist/versions/1/preview", query=[("rows", rows)])
        assert r.status == 400, (rows, r)


def test_tabular_partition_format_and_json_lines(cat, ws, lake):
    write(lake, "events/eu/2024/01/31/a.jsonl", b'{"k": 1, "v": "x"}\n{"k": 2, "v": "y"}\n')
    register_store(cat, ws, "product", lake.file_system_name)
    v = cat.json("POST", f"/{ws}/datasets/events/versions",
                 {"definition": {"kind": "tabular", "format": "jsonl",
                                 "paths": [{"datastore": "product", "path": "events/**"}],
                                 "options": {"partition_format":
                                             "{region}/{day:yyyy/MM/dd}/a.jsonl"}}},
                 expect=201)
    assert v["row_count"] == 2
    assert set(v["partition_keys"]) == {"region", "day"}
    types = {c["name"]: c["type"] for c in v["schema"]}
    assert types["day"].startswith("TIMESTAMP") and types["region"] == "VARCHAR"


def test_tabular_bad_data_and_bad_definitions_register_nothing(cat, ws, lake):
    write(lake, "bad/x.csv", b"a,b\n1,2\n")
    write(lake, "bad/y.csv", b"a,b\nnot-a-number,2\n")
    register_store(cat, ws, "product", lake.file_system_name)
    base = {"kind": "tabular", "format": "csv",
            "paths": [{"datastore": "product", "path": "bad/*.csv"}]}
    for extra, code in [({"options": {"separator": ",", "colour": "red"}}, "InvalidDefinition"),
                        ({"transforms": [{"op": "keep_columns", "columns": ["nope"]}]},
                         "InvalidDefinition"),
                        ({"transforms": [{"op": "filter", "expression": "a >"}]},
                         "InvalidDefinition")]:
        r = cat.call("POST", f"/{ws}/datasets/bad/versions", {"definition": dict(base, **extra)})
        assert r.status == 400 and error_code(r) == code, (extra, r)
    # A conversion that fails with on_error = fail names the file and the column.
    write(lake, "bad/x.csv", b"a,b\n1,2\n")
    r = cat.call("POST", f"/{ws}/datasets/bad/versions",
                 {"definition": dict(base, options={"set_column_types": {"a": "long"}},
                                     transforms=[{"op": "take", "count": 10}])})
    assert r.status == 201, r  # default on_error: bad values become nulls
    assert json.loads(r.body)["profile"][0]["nulls"] == 1
    write(lake, "bad/z.csv", b"a,b,c\n\"unterminated,2\n")
    r = cat.call("POST", f"/{ws}/datasets/bad2/versions",
                 {"definition": dict(base, paths=[{"datastore": "product", "path": "bad/z.csv"}])})
    assert r.status == 400 and error_code(r) == "DataReadFailed", r
    assert "bad/z.csv" in json.loads(r.body)["error"]["message"]
    cat.call("GET", f"/{ws}/datasets/bad2/versions", expect=404)


def test_local_key_and_sas_datastores_are_checked_on_every_read(tmp_path):
    """A datastore on this tarnd with an account key or a SAS is read with that credential
    every time (issue 12): once the key is rotated out of the account, or the SAS expires,
    reads of registered datasets stop, pinned bytes included, and registering no longer works;
    a datastore with a current key goes on reading."""
    import time
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas
    from tarn_harness import TarnServer
    k1 = base64.b64encode(os.urandom(64)).decode()
    k2 = base64.b64encode(os.urandom(64)).decode()
    cfg = tmp_path / "tarnd.json"

    def configure(keys):
        cfg.write_text(json.dumps({"accounts": [{"name": "productlake", "keys": keys}]}))
        cfg.chmod(0o600)

    configure([k1, k2])
    srv = TarnServer(tmp_path / "data", tmp_path / "logs", extra_args=["--config", str(cfg)])
    srv.start()
    try:
        admin = Catalog(srv)
        admin.raw = RawClient(srv, "productlake", k1)
        cs = (f"DefaultEndpointsProtocol=http;AccountName=productlake;AccountKey={k1};"
              f"BlobEndpoint={srv.url}/productlake;")
        fs = DataLakeServiceClient.from_connection_string(cs).create_file_system("zone")
        write(fs, "a.csv", b"a\n1\n")
        sas = generate_container_sas("productlake", "zone", account_key=k1,
                                     permission=ContainerSasPermissions(read=True, list=True),
                                     expiry=datetime.now(timezone.utc) + timedelta(seconds=4))
        admin.json("PUT", "/ws", {}, expect=201)
        for store, key in (("old_key", k1), ("new_key", k2)):
            admin.call("PUT", f"/ws/datastores/{store}",
                       {"account_name": "productlake", "filesystem": "zone",
                        "credential": {"type": "account_key", "account_key": key}}, expect=201)
        admin.call("PUT", "/ws/datastores/by_sas",
                   {"account_name": "productlake", "filesystem": "zone",
                    "credential": {"type": "sas", "sas_token": sas}}, expect=201)
        for store in ("old_key", "new_key", "by_sas"):
            admin.json("POST", f"/ws/datasets/{store}_ds/versions",
                       {"definition": {"kind": "file",
                                       "paths": [{"datastore": store, "path": "a.csv"}]}},
                       expect=201)
            assert read_file(admin, "ws", f"{store}_ds", 1, 0).body == b"a\n1\n"
        # The SAS expires: its datastore stops reading.
        time.sleep(4.5)
        r = read_file(admin, "ws", "by_sas_ds", 1, 0)
        assert r.status == 403 and "SAS of datastore 'by_sas' no longer grants" in \
            json.loads(r.body)["error"]["message"], r
        # Key 1 is rotated out of the account: its datastore stops, key 2's goes on.
        srv.stop()
        configure([k2])
        srv.start()
        admin.raw = RawClient(srv, "productlake", k2)
        r = read_file(admin, "ws", "old_key_ds", 1, 0)
        assert r.status == 403 and "rotated" in json.loads(r.body)["error"]["message"], r
        r = admin.call("POST", "/ws/datasets/again/versions",
                       {"definition": {"kind": "file",
                                       "paths": [{"datastore": "old_key", "path": "a.csv"}]}})
        assert r.status == 403, r
        assert read_file(admin, "ws", "new_key_ds", 1, 0).body == b"a\n1\n"
    finally:
        srv.stop()
