"""Identity against a real tarnd over TLS: a service principal gets a token from tarnd's token
service with Microsoft's azure-identity, then DataLakeServiceClient works with it, and every
request is allowed or denied by role (RBAC) as ADLS Gen2 does."""

import base64
import json
import os
import time

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential
from azure.storage.filedatalake import DataLakeServiceClient

from identity_admin import Directory
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient
from tarn_harness import NO_INSTANCE_DISCOVERY, unique_name

SCOPE = "https://storage.azure.com/.default"


def credential(srv, tenant, sp):
    return ClientSecretCredential(tenant, sp["app_id"], sp["secret"], authority=srv.https_url,
                                  **NO_INSTANCE_DISCOVERY, connection_verify=srv.ca_file)


def service(srv, cred):
    return DataLakeServiceClient(f"{srv.https_url}/{ACCOUNT}", credential=cred,
                                 connection_verify=srv.ca_file, retry_total=0)


def token_request(srv, tenant, form, raw_body=None):
    import requests
    body = raw_body if raw_body is not None else form
    return requests.post(f"{srv.https_url}/{tenant}/oauth2/v2.0/token", data=body,
                         verify=srv.ca_file, timeout=30)


def bearer_get(srv, path, token):
    import requests
    return requests.get(f"{srv.https_url}/{ACCOUNT}{path}", verify=srv.ca_file, timeout=30,
                        headers={"Authorization": f"Bearer {token}", "x-ms-version": "2021-10-04"})


@pytest.fixture(scope="module")
def setup(tarn):
    d = Directory(tarn)
    tenant = d.tenant()
    admin = tarn.datalake_service()
    fs = admin.create_file_system(unique_name("zone"))
    fs.get_file_client("curated/sales/a.csv").upload_data(b"a,b\n1,2\n", overwrite=True)
    fs.get_file_client("raw/b.csv").upload_data(b"x\n", overwrite=True)
    return d, tenant, fs.file_system_name


def test_reader_lists_and_reads_but_cannot_write(tarn, setup):
    d, tenant, fs = setup
    sp = d.service_principal(tenant)
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    cred = credential(tarn, tenant, sp)
    tok = cred.get_token(SCOPE)
    assert tok.expires_on > time.time() + 3000
    fsc = service(tarn, cred).get_file_system_client(fs)
    assert sorted(p.name for p in fsc.get_paths()) == [
        "curated", "curated/sales", "curated/sales/a.csv", "raw", "raw/b.csv"]
    assert fsc.get_file_client("curated/sales/a.csv").download_file().readall() == b"a,b\n1,2\n"
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("curated/new.csv").upload_data(b"no", overwrite=True)
    assert e.value.status_code == 403 and e.value.error_code == "AuthorizationPermissionMismatch"
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("raw/b.csv").delete_file()
    assert e.value.error_code == "AuthorizationPermissionMismatch"
    # Nothing was changed by the refused writes.
    assert not tarn.datalake_service().get_file_system_client(fs).get_file_client(
        "curated/new.csv").exists()


def test_roles_follow_scope_and_nested_groups(tarn, setup):
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "etl")
    outer = d.call("POST", f"/tenants/{tenant}/groups", {"display_name": "curators"}, 201)
    inner = d.call("POST", f"/tenants/{tenant}/groups", {"display_name": "etl-apps"}, 201)
    d.call("PUT", f"/groups/{outer['object_id']}/members/{inner['object_id']}", expect=200)
    d.call("PUT", f"/groups/{inner['object_id']}/members/{sp['object_id']}", expect=200)
    # Contributor on one directory only, through the outer group.
    ra = d.assign(outer["object_id"], "Storage Blob Data Contributor", f"/{ACCOUNT}/{fs}/curated")
    fsc = service(tarn, credential(tarn, tenant, sp)).get_file_system_client(fs)
    fsc.get_file_client("curated/sales/b.csv").upload_data(b"new", overwrite=True)
    fsc.get_directory_client("curated/sales").rename_directory(f"{fs}/curated/sales2")
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("raw/c.csv").upload_data(b"no", overwrite=True)
    assert e.value.error_code == "AuthorizationPermissionMismatch"
    # Moving data out of the granted directory needs rights at the destination too.
    with pytest.raises(HttpResponseError):
        fsc.get_directory_client("curated/sales2").rename_directory(f"{fs}/raw/sales")
    # Removing the assignment takes effect at once, even for a cached token.
    d.call("DELETE", f"/role-assignments/{ra['id']}", expect=200)
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("curated/sales2/c.csv").upload_data(b"no", overwrite=True)
    assert e.value.error_code == "AuthorizationPermissionMismatch"


def test_no_role_means_no_access(tarn, setup):
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "nobody")
    fsc = service(tarn, credential(tarn, tenant, sp)).get_file_system_client(fs)
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("raw/b.csv").download_file().readall()
    assert e.value.status_code == 403


def test_bad_tokens_get_401(tarn, tarn_factory, setup):
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "owner")
    d.assign(sp["object_id"], "Storage Blob Data Owner", f"/{ACCOUNT}")
    token = credential(tarn, tenant, sp).get_token(SCOPE).token
    assert bearer_get(tarn, f"/{fs}/raw/b.csv", token).status_code == 200
    head, claims, sig = token.split(".")
    forged_sig = base64.urlsafe_b64encode(bytes(48)).decode().rstrip("=")
    body = json.loads(base64.urlsafe_b64decode(claims + "=="))
    body["tid"] = "00000000-0000-0000-0000-000000000000"
    forged_claims = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    for bad in [f"{head}.{claims}.{forged_sig}",          # forged signature
                f"{head}.{forged_claims}.{sig}",          # claims changed after signing
                "not-a-jwt", "a.b.c", "", "x" * 20000]:
        r = bearer_get(tarn, f"/{fs}/raw/b.csv", bad)
        assert r.status_code == 401, (bad[:40], r.status_code, r.text)
        assert r.headers.get("x-ms-error-code") == "InvalidAuthenticationInfo"
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer ")
    # A token from another tarnd's tenant: its key is unknown here.
    other = tarn_factory()
    od = Directory(other)
    ot = od.tenant()
    osp = od.service_principal(ot)
    foreign = credential(other, ot, osp).get_token(SCOPE).token
    r = bearer_get(tarn, f"/{fs}/raw/b.csv", foreign)
    assert r.status_code == 401 and "unknown" in r.text
    # Bearer tokens are refused over plain http.
    import requests
    r = requests.get(f"{tarn.url}/{ACCOUNT}/{fs}/raw/b.csv", timeout=30,
                     headers={"Authorization": f"Bearer {token}", "x-ms-version": "2021-10-04"})
    assert r.status_code == 403 and r.headers.get("x-ms-error-code") == "AuthenticationFailed"


def test_expired_token_gets_401(tarn_factory, tmp_path):
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"identity": {"token_lifetime_s": 1, "clock_skew_s": 0}}))
    srv = tarn_factory(extra_args=["--config", str(cfg)])
    d = Directory(srv)
    tenant = d.tenant()
    sp = d.service_principal(tenant)
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}")
    srv.datalake_service().create_file_system("expiry")
    token = credential(srv, tenant, sp).get_token(SCOPE).token
    time.sleep(2.2)
    r = bearer_get(srv, "/expiry?resource=filesystem&recursive=false", token)
    assert r.status_code == 401 and "expired" in r.text, r.text


def test_token_endpoint_errors(tarn, setup):
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "errs")
    good = {"grant_type": "client_credentials", "client_id": sp["app_id"],
            "client_secret": sp["secret"], "scope": SCOPE}
    assert token_request(tarn, tenant, good).status_code == 200
    cases = [
        (dict(good, client_secret="wrong"), 401, "invalid_client", 7000215),
        (dict(good, client_id="11111111-1111-1111-1111-111111111111"), 400,
         "unauthorized_client", 700016),
        (dict(good, grant_type="authorization_code"), 400, "unsupported_grant_type", 70003),
        (dict(good, grant_type="password"), 400, "invalid_request", 900144),  # no username
        ({k: v for k, v in good.items() if k != "grant_type"}, 400, "invalid_request", 900144),
        (dict(good, scope="https://graph.microsoft.com/.default"), 400, "invalid_scope", 70011),
    ]
    for form, status, error, code in cases:
        r = token_request(tarn, tenant, form)
        assert r.status_code == status, (form, r.text)
        j = r.json()
        assert j["error"] == error and j["error_codes"] == [code], j
        assert j["error_description"].startswith(f"AADSTS{code}:")
        assert "trace_id" in j and "correlation_id" in j and "access_token" not in j
    r = token_request(tarn, "22222222-2222-2222-2222-222222222222", good)
    assert r.status_code == 400 and r.json()["error_codes"] == [90002]
    r = token_request(tarn, tenant, None, raw_body=b"x=" + b"a" * (70 * 1024))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # azure-identity turns a wrong secret into its own error, with the AADSTS text.
    bad = ClientSecretCredential(tenant, sp["app_id"], "wrong", authority=tarn.https_url,
                                 **NO_INSTANCE_DISCOVERY, connection_verify=tarn.ca_file)
    with pytest.raises(ClientAuthenticationError) as e:
        bad.get_token(SCOPE)
    assert "AADSTS7000215" in str(e.value)


def test_discovery_documents_and_secret_storage(tarn, setup):
    import requests
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "docs")
    conf = requests.get(f"{tarn.https_url}/{tenant}/v2.0/.well-known/openid-configuration",
                        verify=tarn.ca_file, timeout=30).json()
    assert conf["token_endpoint"] == f"{tarn.https_url}/{tenant}/oauth2/v2.0/token"
    assert conf["issuer"] == f"{tarn.https_url}/{tenant}/v2.0"
    jwks = requests.get(conf["jwks_uri"], verify=tarn.ca_file, timeout=30).json()
    assert jwks["keys"] and all(k["kty"] == "RSA" and k["alg"] == "RS256" for k in jwks["keys"])
    token = credential(tarn, tenant, sp).get_token(SCOPE).token
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert header["kid"] in [k["kid"] for k in jwks["keys"]]
    for claim in ("oid", "tid", "appid", "aud", "iss", "iat", "nbf", "exp"):
        assert claim in claims
    assert claims["oid"] == sp["object_id"] and claims["appid"] == sp["app_id"]
    # The secret is shown once; the directory keeps only an Argon2id hash.
    shown = d.call("GET", f"/principals/{sp['object_id']}", expect=200)
    assert sp["secret"] not in json.dumps(shown) and "hash" not in json.dumps(shown)
    db = b"".join(p.read_bytes() for p in tarn.data_dir.glob("meta.db*"))
    assert sp["secret"].encode() not in db and b"$argon2id$" in db


def test_admin_api_requires_the_account_key(tarn):
    raw = RawClient(tarn)
    r = raw.request("POST", "/identity/tenants", (), {"Content-Type": "application/json"}, b"{}",
                    sign_with=False)
    assert r.status in (401, 403)
    d = Directory(tarn)
    r = d.raw.request("POST", "/identity/tenants/not-a-tenant/principals", (),
                      {"Content-Type": "application/json"},
                      b'{"kind":"service_principal","display_name":"x"}')
    assert r.status == 404 and r.error_code == "TenantNotFound"
    r = d.raw.request("POST", "/identity/role-assignments", (),
                      {"Content-Type": "application/json"},
                      b'{"principal_id":"x","role":"Root","scope":"/a"}')
    assert r.status == 400


# ----- POSIX ACLs, for principals that no role covers ----------------------------------------

@pytest.fixture
def acl_setup(tarn):
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "acl-user")
    admin = tarn.datalake_service()
    fs = admin.create_file_system(unique_name("acl"))
    fsc = service(tarn, credential(tarn, tenant, sp)).get_file_system_client(fs.file_system_name)
    return sp["object_id"], fs, fsc


def test_acl_read_needs_execute_along_the_chain(acl_setup):
    oid, admin_fs, fsc = acl_setup
    admin_fs.get_file_client("a/b/f.txt").upload_data(b"secret rows", overwrite=True)
    for d in ("/", "a", "a/b"):
        admin_fs.get_directory_client(d).set_access_control(
            acl=f"user::rwx,group::r-x,other::---,user:{oid}:--x")
    admin_fs.get_file_client("a/b/f.txt").set_access_control(
        acl=f"user::rw-,group::r--,other::---,user:{oid}:r--")
    assert fsc.get_file_client("a/b/f.txt").download_file().readall() == b"secret rows"
    # Listing a directory needs read and execute on it: only execute is granted.
    with pytest.raises(HttpResponseError) as e:
        list(fsc.get_paths(path="a/b"))
    assert e.value.error_code == "AuthorizationPermissionMismatch"
    # Take execute away from one ancestor: the same read is denied.
    admin_fs.get_directory_client("a").set_access_control(acl="user::rwx,group::r-x,other::---")
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("a/b/f.txt").download_file().readall()
    assert e.value.status_code == 403 and e.value.error_code == "AuthorizationPermissionMismatch"


def test_default_acl_inherited_and_umask_only_without_one(acl_setup):
    oid, admin_fs, fsc = acl_setup
    admin_fs.get_directory_client("/").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{oid}:--x")
    admin_fs.create_directory("inherit")
    admin_fs.get_directory_client("inherit").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{oid}:rwx,"
            f"default:user::rwx,default:group::r-x,default:other::---,default:user:{oid}:rwx")
    admin_fs.create_directory("plain")
    admin_fs.get_directory_client("plain").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{oid}:rwx")
    # The principal creates files in both; it owns what it creates.
    fsc.get_file_client("inherit/new.txt").upload_data(b"x", overwrite=True)
    fsc.get_file_client("plain/new.txt").upload_data(b"x", overwrite=True)
    inherited = admin_fs.get_file_client("inherit/new.txt").get_access_control()
    assert inherited["owner"] == oid
    assert f"user:{oid}:rwx" in inherited["acl"], inherited
    assert inherited["permissions"].startswith("rw")  # no umask over a default ACL
    plain = admin_fs.get_file_client("plain/new.txt").get_access_control()
    assert plain["owner"] == oid and plain["permissions"] == "rw-r-----", plain  # 0666 & ~027
    assert f"user:{oid}" not in plain["acl"]
    # A subdirectory inherits the default ACL itself.
    fsc.create_directory("inherit/sub")
    sub = admin_fs.get_directory_client("inherit/sub").get_access_control()
    assert f"default:user:{oid}:rwx" in sub["acl"], sub


def test_sticky_bit_limits_delete_to_owners(acl_setup):
    oid, admin_fs, fsc = acl_setup
    admin_fs.get_directory_client("/").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{oid}:--x")
    admin_fs.create_directory("shared")
    admin_fs.get_directory_client("shared").set_access_control(permissions="rwxrwxrwt")
    admin_fs.get_file_client("shared/theirs.txt").upload_data(b"t", overwrite=True)
    admin_fs.get_file_client("shared/theirs.txt").set_access_control(permissions="rw-rw-rw-")
    fsc.get_file_client("shared/mine.txt").upload_data(b"m", overwrite=True)
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("shared/theirs.txt").delete_file()
    assert e.value.error_code == "AuthorizationPermissionMismatch"
    assert "sticky" in str(e.value)
    fsc.get_file_client("shared/mine.txt").delete_file()
    # Without the sticky bit, write and execute on the directory are enough.
    admin_fs.get_directory_client("shared").set_access_control(permissions="rwxrwxrwx")
    fsc.get_file_client("shared/theirs.txt").delete_file()


# ----- setAccessControlRecursive ---------------------------------------------------------------

@pytest.mark.slow
def test_set_access_control_recursive_over_5000_paths_with_continuation(tarn):
    import concurrent.futures
    admin = tarn.datalake_service()
    fs = admin.create_file_system(unique_name("rec"))
    for d in range(50):
        fs.create_directory(f"tree/d{d:02d}")

    def make(i):
        fs.get_file_client(f"tree/d{i % 50:02d}/f{i:04d}").create_file()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(make, range(4949)))
    tree = fs.get_directory_client("tree")
    oid = "11111111-2222-3333-4444-555555555555"
    acl = f"user::rwx,group::r-x,other::---,user:{oid}:r-x"
    # One batch of 1,000, then resume from its continuation token.
    first = tree.set_access_control_recursive(acl=acl, batch_size=1000, max_batches=1)
    assert first.continuation
    assert first.counters.directories_successful + first.counters.files_successful == 1000
    rest = tree.set_access_control_recursive(acl=acl, batch_size=1000,
                                             continuation_token=first.continuation)
    assert rest.continuation is None
    total = (first.counters.directories_successful + first.counters.files_successful +
             rest.counters.directories_successful + rest.counters.files_successful)
    assert total == 5000 and rest.counters.failure_count == 0
    for p in ("tree", "tree/d07", "tree/d48/f4948", "tree/d00/f0000"):
        got = fs.get_file_client(p).get_access_control()
        assert f"user:{oid}:r-x" in got["acl"], (p, got)
    # modify adds to what is there; remove takes an entry away.
    tree.update_access_control_recursive(acl="user:99999999-0000-0000-0000-000000000000:rwx")
    got = fs.get_file_client("tree/d03/f0003").get_access_control()["acl"]
    assert f"user:{oid}:r-x" in got and "user:99999999-0000-0000-0000-000000000000:rwx" in got
    tree.remove_access_control_recursive(acl=f"user:{oid}")
    got = fs.get_file_client("tree/d03/f0003").get_access_control()["acl"]
    assert f"user:{oid}" not in got and "user:99999999" in got


def test_set_access_control_recursive_reports_failures(tarn, acl_setup):
    oid, admin_fs, fsc = acl_setup
    admin_fs.get_directory_client("/").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{oid}:--x")
    admin_fs.create_directory("mixed")
    admin_fs.get_directory_client("mixed").set_access_control(
        acl=f"user::rwx,group::r-x,other::---,user:{oid}:rwx")
    admin_fs.get_file_client("mixed/admins.txt").upload_data(b"a", overwrite=True)
    fsc.get_file_client("mixed/mine1.txt").upload_data(b"1", overwrite=True)
    fsc.get_file_client("mixed/mine2.txt").upload_data(b"2", overwrite=True)
    r = fsc.get_directory_client("mixed").set_access_control_recursive(
        acl="user::rw-,group::r--,other::---", continue_on_failure=True)
    assert r.counters.files_successful == 2
    assert r.counters.failure_count == 2  # the directory and admins.txt belong to $superuser
    # Bad ACL text is refused before anything changes.
    with pytest.raises(HttpResponseError) as e:
        admin_fs.get_directory_client("mixed").set_access_control_recursive(acl="user::rwz")
    assert e.value.status_code == 400
    entries = ",".join(f"user:{i:08d}-0000-0000-0000-000000000000:r--" for i in range(33))
    with pytest.raises(HttpResponseError):
        admin_fs.get_directory_client("mixed").set_access_control_recursive(
            acl="user::rwx,group::r-x,other::---," + entries)


# ----- the audit log ---------------------------------------------------------------------------

def test_audit_log_records_decisions(tarn, setup):
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "audited")
    ra = d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    fsc = service(tarn, credential(tarn, tenant, sp)).get_file_system_client(fs)
    fsc.get_file_client("raw/b.csv").download_file().readall()
    with pytest.raises(HttpResponseError):
        fsc.get_file_client("raw/audit.csv").upload_data(b"no", overwrite=True)
    tarn.datalake_service().get_file_system_client(fs).get_directory_client("raw") \
        .set_access_control(acl="user::rwx,group::r-x,other::---")
    r = bearer_get(tarn, f"/{fs}/raw/b.csv", "not-a-jwt")
    assert r.status_code == 401

    def events(**filters):
        q = [(k, v) for k, v in filters.items()]
        resp = d.raw.request("GET", "/identity/audit", q)
        assert resp.status == 200, resp
        return json.loads(resp.body)["events"]

    who = f"oid:{sp['object_id']}"
    denied = events(principal=who, result="denied")
    assert any(e["action"] == "PutBlob" or e["action"] == "CreatePath" for e in denied), denied
    assert all(e["error"] == "AuthorizationPermissionMismatch" and e["request_id"]
               for e in denied)
    reads = events(principal=who, action="")  # summaries carry no action
    assert any(e.get("event") == "reads" and e["count"] >= 1 for e in reads), reads
    acl = events(action="SetAccessControl")
    assert acl and acl[-1]["acl"] == "user::rwx,group::r-x,other::---"
    assert acl[-1]["principal"] == f"sharedkey:{ACCOUNT}"
    roles = events(action="AssignRole")  # each route is audited under its own name
    assert any(e["resource"] == "/identity/role-assignments" and e["method"] == "POST"
               for e in roles)
    bad = events(result="denied", principal="anonymous")
    assert any(e.get("error") == "InvalidAuthenticationInfo" for e in bad)
    # Only account owners read the log.
    assert RawClient(tarn).request("GET", "/identity/audit", sign_with=False).status in (401, 403)
    # Secrets never reach the log.
    log_text = "".join(p.read_text() for p in (tarn.data_dir / "audit").glob("audit*.log"))
    assert sp["secret"] not in log_text
    assert ra["id"]


# ----- people: users with passwords (issue 12) ---------------------------------------------------

def user_with_password(d, tenant, upn, password="correct horse battery"):
    user = d.call("POST", f"/tenants/{tenant}/principals",
                  {"kind": "user", "display_name": upn.split("@")[0], "upn": upn}, 201)
    d.call("PUT", f"/principals/{user['object_id']}/password", {"password": password}, 200)
    return user


def test_a_user_signs_in_with_username_and_password(tarn, setup):
    """azure-identity's UsernamePasswordCredential (MSAL's resource-owner password grant) gets
    a token for a user of tarnd's directory, and the DataLake SDK reads with it as that user."""
    import msal
    import requests
    from azure.identity import UsernamePasswordCredential
    d, tenant, fs = setup
    # MSAL first asks https://<host>/common/userrealm/<user> whether the user is federated, and
    # goes on with the password grant on a 404, which tarnd answers. It builds that URL from
    # the authority's host name without its port, so with tarnd on a port other than 443 it
    # would ask port 443: checked here by hand instead, then skipped as MSAL itself skips hosts
    # it has seen answer 404.
    r = requests.get(f"{tarn.https_url}/common/userrealm/ada@contoso.example?api-version=1.0",
                     verify=tarn.ca_file, timeout=30)
    assert r.status_code == 404, r.text
    msal.authority.Authority._domains_without_user_realm_discovery.add("127.0.0.1")
    app = d.service_principal(tenant, "notebooks")  # the (public) client application
    user = user_with_password(d, tenant, "ada@contoso.example")
    d.assign(user["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    cred = UsernamePasswordCredential(app["app_id"], "ada@contoso.example",
                                      "correct horse battery", tenant_id=tenant,
                                      authority=tarn.https_url, **NO_INSTANCE_DISCOVERY,
                                      connection_verify=tarn.ca_file)
    token = cred.get_token(SCOPE)
    claims = json.loads(base64.urlsafe_b64decode(token.token.split(".")[1] + "=="))
    assert claims["oid"] == user["object_id"] and claims["upn"] == "ada@contoso.example"
    fsc = service(tarn, cred).get_file_system_client(fs)
    assert fsc.get_file_client("raw/b.csv").download_file().readall() == b"x\n"
    with pytest.raises(HttpResponseError) as e:
        fsc.get_file_client("raw/ada.csv").upload_data(b"no", overwrite=True)
    assert e.value.status_code == 403
    # A wrong password, and passwords too short to set.
    bad = UsernamePasswordCredential(app["app_id"], "ada@contoso.example", "wrong password!",
                                     tenant_id=tenant, authority=tarn.https_url,
                                     **NO_INSTANCE_DISCOVERY, connection_verify=tarn.ca_file)
    with pytest.raises(ClientAuthenticationError) as e:
        bad.get_token(SCOPE)
    assert "AADSTS50126" in str(e.value)
    r = d.raw.request("PUT", f"/identity/principals/{user['object_id']}/password", (),
                      {"Content-Type": "application/json"}, b'{"password":"short"}')
    assert r.status == 400 and b"12 to 256" in r.body, r
    r = d.raw.request("PUT", f"/identity/principals/{app['object_id']}/password", (),
                      {"Content-Type": "application/json"}, b'{"password":"long enough for it"}')
    assert r.status == 400, r
    log_text = "".join(p.read_text() for p in (tarn.data_dir / "audit").glob("audit*.log"))
    assert "correct horse battery" not in log_text and "wrong password!" not in log_text


def test_password_guessing_is_throttled_and_audited(tarn_factory):
    """After 5 failed sign-ins for a user, each further attempt is refused without checking the
    password (AADSTS50053) for a time that doubles; after 20 from one address, every user's
    sign-in from there waits too. Every failure is in the audit log under the user's name."""
    srv = tarn_factory()
    d = Directory(srv)
    tenant = d.tenant()
    app = d.service_principal(tenant, "cli")
    user_with_password(d, tenant, "bob@contoso.example")
    user_with_password(d, tenant, "eve@contoso.example")

    def sign_in(username, password):
        r = token_request(srv, tenant, {"grant_type": "password", "client_id": app["app_id"],
                                        "username": username, "password": password,
                                        "scope": SCOPE + " openid profile offline_access"})
        return r.status_code, r.json()

    for _ in range(5):
        status, body = sign_in("bob@contoso.example", "guess guess guess")
        assert status == 400 and body["error"] == "invalid_grant"
        assert body["error_codes"] == [50126], body
    status, body = sign_in("bob@contoso.example", "correct horse battery")
    assert status == 400 and body["error_codes"] == [50053], body  # locked, even when right
    time.sleep(1.2)
    status, body = sign_in("bob@contoso.example", "correct horse battery")
    assert status == 200 and body["id_token"] and body["client_info"], body
    # Many users from one address: after 20 failures the address waits, whoever signs in.
    for i in range(15):
        status, body = sign_in(f"nobody{i}@contoso.example", "guess guess guess")
        assert body["error_codes"] == [50126], (i, body)
    status, body = sign_in("eve@contoso.example", "correct horse battery")
    assert status == 400 and body["error_codes"] == [50053], body
    time.sleep(1.2)
    assert sign_in("eve@contoso.example", "correct horse battery")[0] == 200

    resp = d.raw.request("GET", "/identity/audit", [("principal", "upn:bob@contoso.example")])
    events = json.loads(resp.body)["events"]
    # A request is audited after its answer is sent, so lines of back-to-back requests may
    # swap places: the counts are what is certain.
    assert sorted(e["error"] for e in events if e["result"] == "denied") == \
        ["invalid_grant"] * 5 + ["locked"], events
    assert [e["result"] for e in events].count("allowed") == 1, events
    assert all(e["action"] == "Token" and e["client_id"] == app["app_id"] for e in events)
    assert srv.alive()


# ----- user-delegation SAS ---------------------------------------------------------------------

def test_user_delegation_sas(tarn, setup):
    import requests
    from datetime import datetime, timedelta, timezone
    from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas
    d, tenant, fs = setup
    sp = d.service_principal(tenant, "delegator")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    bsc = BlobServiceClient(f"{tarn.https_url}/{ACCOUNT}", credential=credential(tarn, tenant, sp),
                            connection_verify=tarn.ca_file)
    now = datetime.now(timezone.utc)
    udk = bsc.get_user_delegation_key(now - timedelta(minutes=5), now + timedelta(hours=1))
    assert udk.signed_oid == sp["object_id"] and udk.signed_tid == tenant and udk.value
    sas = generate_blob_sas(ACCOUNT, fs, "raw/b.csv", user_delegation_key=udk,
                            permission=BlobSasPermissions(read=True, write=True),
                            expiry=now + timedelta(minutes=30))
    url = f"{tarn.url}/{ACCOUNT}/{fs}/raw/b.csv"
    r = requests.get(f"{url}?{sas}", timeout=30)
    assert r.status_code == 200 and r.content == b"x\n", r.text
    # The SAS says write, but its principal is only a Reader: the write is refused.
    r = requests.put(f"{url}?{sas}", data=b"w", headers={"x-ms-blob-type": "BlockBlob"},
                     timeout=30)
    assert r.status_code == 403 and r.headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"
    # A forged signature, or a SAS for another blob, is refused.
    forged = sas.replace("sig=", "sig=AAAA")
    assert requests.get(f"{url}?{forged}", timeout=30).status_code == 403
    other = f"{tarn.url}/{ACCOUNT}/{fs}/curated/sales/a.csv?{sas}"
    assert requests.get(other, timeout=30).status_code == 403
    # Binding the SAS to a second user or to request headers (newer versions' sduoid, srh) is
    # refused rather than ignored.
    for extra in ("sduoid=00000000-0000-0000-0000-000000000001", "srh=x-ms-meta-a"):
        r = requests.get(f"{url}?{sas}&{extra}", timeout=30)
        assert r.status_code == 403 and "not supported" in r.text, r.text
    # Only OAuth callers get delegation keys.
    with pytest.raises(HttpResponseError):
        tarn.blob_service().get_user_delegation_key(now, now + timedelta(hours=1))


def test_signing_keys_rotate_and_old_tokens_stay_valid(tarn_factory, tmp_path):
    import requests
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"identity": {"key_rotation_s": 2}}))
    srv = tarn_factory(extra_args=["--config", str(cfg)])
    d = Directory(srv)
    tenant = d.tenant()
    sp = d.service_principal(tenant)
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}")
    srv.datalake_service().create_file_system("rotation")

    def token():
        r = requests.post(f"{srv.https_url}/{tenant}/oauth2/v2.0/token", verify=srv.ca_file,
                          timeout=30, data={"grant_type": "client_credentials",
                                            "client_id": sp["app_id"],
                                            "client_secret": sp["secret"], "scope": SCOPE})
        assert r.status_code == 200, r.text
        t = r.json()["access_token"]
        return t, json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "=="))["kid"]

    first, kid1 = token()
    time.sleep(2.5)
    second, kid2 = token()
    assert kid1 != kid2
    jwks = requests.get(f"{srv.https_url}/{tenant}/discovery/v2.0/keys", verify=srv.ca_file,
                        timeout=30).json()
    assert {kid1, kid2} <= {k["kid"] for k in jwks["keys"]}
    for t in (first, second):  # a token of the retired key lives until it expires
        r = bearer_get(srv, "/rotation?resource=filesystem&recursive=false", t)
        assert r.status_code == 200, r.text


def test_access_control_by_user_principal_name(tarn, setup):
    d, tenant, fs = setup
    user = d.call("POST", f"/tenants/{tenant}/principals",
                  {"kind": "user", "display_name": "Ana", "upn": "ana@contoso.example"}, 201)
    f = tarn.datalake_service().get_file_system_client(fs).get_file_client("raw/b.csv")
    f.set_access_control(acl="user::rw-,group::r--,other::---,user:ana@contoso.example:r--")
    by_oid = f.get_access_control()
    assert f"user:{user['object_id']}:r--" in by_oid["acl"]
    by_upn = f.get_access_control(upn=True)
    assert "user:ana@contoso.example:r--" in by_upn["acl"]
    f.set_access_control(owner="ana@contoso.example")
    assert f.get_access_control()["owner"] == user["object_id"]
    assert f.get_access_control(upn=True)["owner"] == "ana@contoso.example"
    with pytest.raises(HttpResponseError) as e:
        f.set_access_control(acl="user::rw-,group::r--,other::---,user:nobody@contoso.example:r--")
    assert e.value.status_code == 400


def test_sas_expired_malformed_and_read_only(tarn, setup):
    import requests
    from datetime import datetime, timedelta, timezone
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
    d, tenant, fs = setup
    url = f"{tarn.url}/{ACCOUNT}/{fs}/raw/b.csv"
    now = datetime.now(timezone.utc)
    rt = ResourceTypes(container=True, object=True)
    good = generate_account_sas(ACCOUNT, ACCOUNT_KEY, rt, AccountSasPermissions(read=True),
                                now + timedelta(hours=1))
    assert requests.get(f"{url}?{good}", timeout=30).status_code == 200
    expired = generate_account_sas(ACCOUNT, ACCOUNT_KEY, rt, AccountSasPermissions(read=True),
                                   now - timedelta(minutes=1), start=now - timedelta(hours=1))
    r = requests.get(f"{url}?{expired}", timeout=30)
    assert r.status_code == 403 and r.headers["x-ms-error-code"] == "AuthenticationFailed"
    # Truncated, malformed, or missing parts: refused with an Azure error, never a crash.
    for bad in (good[: len(good) // 2], good.replace("sig=", "sig=%%%"),
                "&".join(p for p in good.split("&") if not p.startswith("sv=")),
                good.replace("se=", "se=not-a-date"), "sig=", "sv=2021-08-06&sig=AAAA"):
        r = requests.get(f"{url}?{bad}", timeout=30)
        # Without sig the request is anonymous, and a private container answers 404 as Azure's.
        assert r.status_code in (400, 403, 404), (bad, r.status_code)
        assert r.headers.get("x-ms-error-code"), bad
    # A read-only SAS cannot write; nothing changes.
    r = requests.put(f"{url}?{good}", data=b"w", headers={"x-ms-blob-type": "BlockBlob"},
                     timeout=30)
    assert r.status_code == 403
    assert requests.get(f"{url}?{good}", timeout=30).content == b"x\n"
    # ACL text with an unknown scope or type, or bad permissions, is refused.
    f = tarn.datalake_service().get_file_system_client(fs).get_file_client("raw/b.csv")
    for acl in ("user::rw-,group::r--,other::---,robot:x:r--",
                "user::rw-,group::r--,other::---,user:x:rwz", "everyone::r--"):
        with pytest.raises(HttpResponseError) as e:
            f.set_access_control(acl=acl)
        assert e.value.status_code == 400, acl
