"""People signing in to tarnd's token service (issue 12): the device code flow with its
verification page, proven with azure-identity's DeviceCodeCredential; refresh tokens; the public
client every tenant has. The password grant's own tests are in test_identity.py."""

import base64
import json
import re

import pytest
import requests
from azure.identity import DeviceCodeCredential
from azure.storage.filedatalake import DataLakeServiceClient

from identity_admin import Directory
from sharedkey import ACCOUNT
from tarn_harness import NO_INSTANCE_DISCOVERY, unique_name

STORAGE = "https://storage.azure.com/.default"
WORKSPACES = "https://management.azure.com/.default"
PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
PASSWORD = "correct horse battery"


def claims_of(token):
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def user(d, tenant, upn, password=PASSWORD):
    u = d.call("POST", f"/tenants/{tenant}/principals",
               {"kind": "user", "display_name": upn.split("@")[0], "upn": upn}, 201)
    d.call("PUT", f"/principals/{u['object_id']}/password", {"password": password}, 200)
    return u


def post(srv, tenant, tail, form):
    return requests.post(f"{srv.https_url}/{tenant}/oauth2/v2.0/{tail}", data=form,
                         verify=srv.ca_file, timeout=30)


def complete_page(srv, uri, code, username, password=PASSWORD, action="sign-in"):
    """What a person does on the verification page: open it, fill in the form, submit."""
    page = requests.get(uri, verify=srv.ca_file, timeout=30)
    assert page.status_code == 200 and '<form method="post"' in page.text, page.text
    return requests.post(uri, verify=srv.ca_file, timeout=30,
                         data={"code": code, "username": username, "password": password,
                               "action": action})


@pytest.fixture(scope="module")
def setup(tarn):
    d = Directory(tarn)
    tenant = d.tenant()
    fs = tarn.datalake_service().create_file_system(unique_name("people"))
    fs.get_file_client("shared/a.csv").upload_data(b"a\n1\n", overwrite=True)
    return d, tenant, fs.file_system_name


def test_device_code_credential_signs_a_user_in(tarn, setup):
    """azure-identity's DeviceCodeCredential, with its default (public) client id: the prompt
    callback completes tarnd's verification page over https, as a person would in a browser,
    and the credential's token then reads the lake as that user."""
    d, tenant, fs = setup
    ada = user(d, tenant, "ada.device@contoso.example")
    d.assign(ada["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    shown = {}

    def prompt(verification_uri, user_code, expires_on):
        shown.update(uri=verification_uri, code=user_code)
        r = complete_page(tarn, verification_uri, user_code, "ada.device@contoso.example")
        assert r.status_code == 200 and "You are signed in" in r.text, r.text

    cred = DeviceCodeCredential(tenant_id=tenant, authority=tarn.https_url,
                                prompt_callback=prompt, connection_verify=tarn.ca_file,
                                **NO_INSTANCE_DISCOVERY)
    token = cred.get_token(STORAGE)
    assert shown["uri"] == f"{tarn.https_url}/{tenant}/oauth2/v2.0/devicelogin"
    assert re.fullmatch(r"[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}", shown["code"])
    claims = claims_of(token.token)
    assert claims["oid"] == ada["object_id"] and claims["aud"] == "https://storage.azure.com"
    assert claims["appid"] == PUBLIC_CLIENT
    svc = DataLakeServiceClient(f"{tarn.https_url}/{ACCOUNT}", credential=cred,
                                connection_verify=tarn.ca_file, retry_total=0)
    got = svc.get_file_system_client(fs).get_file_client("shared/a.csv").download_file()
    assert got.readall() == b"a\n1\n"
    # The sign-in is audited under the user's name, as the verification page's action.
    r = d.raw.request("GET", "/identity/audit",
                      [("principal", "upn:ada.device@contoso.example")])
    events = json.loads(r.body)["events"]
    assert [(e["action"], e["result"]) for e in events] == [("DeviceLogin", "allowed")], events


def test_device_code_polling_pending_declined_and_one_use(tarn, setup):
    d, tenant, _ = setup
    user(d, tenant, "bo.device@contoso.example")
    start = post(tarn, tenant, "devicecode", {"client_id": PUBLIC_CLIENT,
                                              "scope": WORKSPACES + " offline_access"})
    assert start.status_code == 200, start.text
    flow = start.json()
    assert flow["interval"] == 5 and flow["expires_in"] == 900
    assert flow["user_code"] in flow["message"] and flow["verification_uri"] in flow["message"]
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": PUBLIC_CLIENT, "device_code": flow["device_code"]}
    r = post(tarn, tenant, "token", poll)
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending", r.text
    # Wrong password: the page says so, the code stays usable. Codes are read loosely.
    r = complete_page(tarn, flow["verification_uri"], flow["user_code"].lower().replace("-", ""),
                      "bo.device@contoso.example", "not the password")
    assert r.status_code == 400 and "incorrect" in r.text
    assert post(tarn, tenant, "token", poll).json()["error"] == "authorization_pending"
    r = complete_page(tarn, flow["verification_uri"], flow["user_code"],
                      "bo.device@contoso.example")
    assert r.status_code == 200
    r = post(tarn, tenant, "token", poll)
    assert r.status_code == 200, r.text
    body = r.json()
    assert claims_of(body["access_token"])["aud"] == "https://management.azure.com"
    assert body["refresh_token"].startswith("tarn.rt.")
    # One use: the same device code gives nothing more.
    r = post(tarn, tenant, "token", poll)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    # A code the user declines ends the flow for the device.
    flow = post(tarn, tenant, "devicecode", {"client_id": PUBLIC_CLIENT, "scope": STORAGE}).json()
    r = complete_page(tarn, flow["verification_uri"], flow["user_code"], "", "",
                      action="decline")
    assert r.status_code == 200 and "declined" in r.text
    r = post(tarn, tenant, "token", dict(poll, device_code=flow["device_code"]))
    assert r.json()["error"] == "authorization_declined", r.text
    # Unknown clients and scopes are refused when the flow starts.
    r = post(tarn, tenant, "devicecode", {"client_id": "11111111-1111-1111-1111-111111111111",
                                          "scope": STORAGE})
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    r = post(tarn, tenant, "devicecode", {"client_id": PUBLIC_CLIENT, "scope": "https://x/.default"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_verification_page_is_hardened(tarn, setup):
    """The page takes passwords: https only, no framing, no scripts, every value escaped, wrong
    codes throttled per address like wrong passwords."""
    d, tenant, _ = setup
    uri = f"{tarn.https_url}/{tenant}/oauth2/v2.0/devicelogin"
    r = requests.get(uri, params={"code": '"><script>alert(1)</script>'}, verify=tarn.ca_file,
                     timeout=30)
    assert r.status_code == 200
    assert "<script>" not in r.text and "&lt;script&gt;" not in r.text  # too long: dropped
    r = requests.get(uri, params={"code": '"><b>x'}, verify=tarn.ca_file, timeout=30)
    assert 'value="&quot;&gt;&lt;b&gt;x"' in r.text, r.text
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    # Over plain http the page sends people to https and shows no form.
    r = requests.get(f"{tarn.url}/{tenant}/oauth2/v2.0/devicelogin", timeout=30)
    assert r.status_code == 400 and "<form" not in r.text and uri in r.text
    r = requests.post(f"{tarn.url}/{tenant}/oauth2/v2.0/devicelogin", timeout=30,
                      data={"code": "BCDF-GHJK", "username": "x@y", "password": PASSWORD})
    assert r.status_code == 400 and "https only" in r.text
    # A user name sent back in a message is escaped.
    r = requests.post(uri, verify=tarn.ca_file, timeout=30,
                      data={"code": "ZZZZ-ZZZZ", "username": "<i>eve</i>", "password": "x"})
    assert r.status_code == 400 and "<i>" not in r.text


def test_guessing_user_codes_is_throttled(tarn_factory):
    srv = tarn_factory()
    d = Directory(srv)
    tenant = d.tenant()
    user(d, tenant, "cy@contoso.example")
    uri = f"{srv.https_url}/{tenant}/oauth2/v2.0/devicelogin"
    for i in range(20):
        r = requests.post(uri, verify=srv.ca_file, timeout=30,
                          data={"code": f"BCDF-GH{'JKLMNPQRSTVWXZBCDFGH'[i]}K",
                                "username": "cy@contoso.example", "password": PASSWORD})
        assert r.status_code == 400, (i, r.text)
    r = requests.post(uri, verify=srv.ca_file, timeout=30,
                      data={"code": "BCDF-GHJK", "username": "cy@contoso.example",
                            "password": PASSWORD})
    assert r.status_code == 429 and "Try again in" in r.text
    r = d.raw.request("GET", "/identity/audit", [("action", "DeviceLogin")])
    events = json.loads(r.body)["events"]
    assert sorted(e["error"] for e in events) == ["invalid_user_code"] * 20 + ["locked"], events


def test_refresh_tokens_renew_and_die_with_the_password(tarn, setup):
    d, tenant, _ = setup
    dee = user(d, tenant, "dee@contoso.example")
    r = post(tarn, tenant, "token", {"grant_type": "password", "client_id": PUBLIC_CLIENT,
                                     "username": "dee@contoso.example", "password": PASSWORD,
                                     "scope": STORAGE + " offline_access"})
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": PUBLIC_CLIENT, "refresh_token": refresh,
            "scope": WORKSPACES}
    r = post(tarn, tenant, "token", form)
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["aud"] == "https://management.azure.com"
    assert claims_of(r.json()["access_token"])["oid"] == dee["object_id"]
    # Another client may not use it; a tampered one is not this server's.
    r = post(tarn, tenant, "token", dict(form, client_id=d.service_principal(tenant)["app_id"]))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    tampered = refresh[:-6] + ("AAAAAA" if not refresh.endswith("AAAAAA") else "BBBBBB")
    r = post(tarn, tenant, "token", dict(form, refresh_token=tampered))
    assert r.status_code == 400 and "not issued by this server" in r.json()["error_description"]
    # A new password voids the refresh tokens issued before it.
    d.call("PUT", f"/principals/{dee['object_id']}/password", {"password": "a brand new one"}, 200)
    r = post(tarn, tenant, "token", form)
    assert r.status_code == 400 and r.json()["error_codes"] == [50173], r.text
    # The sign-in is audited; the renewals are not sign-ins.
    r = d.raw.request("GET", "/identity/audit", [("principal", "upn:dee@contoso.example")])
    assert [e["action"] for e in json.loads(r.body)["events"]] == ["Token"]


def test_discovery_names_the_device_code_endpoint(tarn, setup):
    _, tenant, _ = setup
    doc = requests.get(f"{tarn.https_url}/{tenant}/v2.0/.well-known/openid-configuration",
                       verify=tarn.ca_file, timeout=30).json()
    assert doc["device_authorization_endpoint"] == \
        f"{tarn.https_url}/{tenant}/oauth2/v2.0/devicecode"
    assert "urn:ietf:params:oauth:grant-type:device_code" in doc["grant_types_supported"]


def test_refresh_tokens_expire_as_configured(tarn_factory, tmp_path):
    """identity.refresh_lifetime_s bounds a refresh token's life (AADSTS700082 after it)."""
    import time
    cfg = tmp_path / "tarnd.json"
    cfg.write_text(json.dumps({"identity": {"refresh_lifetime_s": 2}}))
    srv = tarn_factory(extra_args=("--config", str(cfg)))
    d = Directory(srv)
    tenant = d.tenant()
    user(d, tenant, "eli@contoso.example")
    r = post(srv, tenant, "token", {"grant_type": "password", "client_id": PUBLIC_CLIENT,
                                    "username": "eli@contoso.example", "password": PASSWORD,
                                    "scope": STORAGE + " offline_access"})
    assert r.status_code == 200 and r.json()["refresh_token_expires_in"] == 2, r.text
    form = {"grant_type": "refresh_token", "client_id": PUBLIC_CLIENT, "scope": STORAGE,
            "refresh_token": r.json()["refresh_token"]}
    assert post(srv, tenant, "token", form).status_code == 200
    time.sleep(3.1)
    r = post(srv, tenant, "token", form)
    assert r.status_code == 400 and r.json()["error_codes"] == [700082], r.text
