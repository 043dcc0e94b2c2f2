"""Blob service properties and CORS (issue 16): Set and Get Blob Service Properties with the Blob
SDK, stored per account and merged as Azure merges them; CORS preflights answered from the
rules, and Access-Control-* headers on the answers to an allowed origin. The properties Tarn
does not act on yet (a static website) are refused when enabled.
With Debian's chromium at hand, a page of another origin reads a blob through fetch() only
once a rule allows its origin."""

import http.server
import os
import shutil
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (BlobSasPermissions, CorsRule, RetentionPolicy, StaticWebsite,
                                generate_blob_sas)
from azure.storage.blob import BlobAnalyticsLogging

from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient
from tarn_harness import unique_name

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "http://app.example"


@pytest.fixture
def blob(tarn):
    """A Blob service client of the module's tarnd (its port changes when a test restarts it);
    no CORS rule is left behind."""
    yield tarn.blob_service()
    tarn.blob_service().set_service_properties(cors=[])


def preflight(tarn, path, origin, method, headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(f"{tarn.url}/{ACCOUNT}/{path}", headers=h, timeout=10)


def test_properties_are_stored_merged_and_returned(tarn, blob):
    before = blob.get_service_properties()
    assert before["cors"] == [] and not before["delete_retention_policy"].enabled
    rule = CorsRule([ORIGIN, "https://studio.example"], ["GET", "PUT", "HEAD"],
                    allowed_headers=["x-ms-meta-*", "x-ms-version", "Content-Type"],
                    exposed_headers=["x-ms-meta-*", "ETag"], max_age_in_seconds=600)
    blob.set_service_properties(cors=[rule])
    got = blob.get_service_properties()
    assert len(got["cors"]) == 1
    r = got["cors"][0]
    assert r.allowed_origins == f"{ORIGIN},https://studio.example"
    assert r.allowed_methods == "GET,PUT,HEAD" and r.max_age_in_seconds == 600
    assert r.exposed_headers == "x-ms-meta-*,ETag"
    # An element left out keeps its value: logging changes, CORS stays.
    blob.set_service_properties(analytics_logging=BlobAnalyticsLogging(
        read=True, write=True, delete=False, retention_policy=RetentionPolicy(enabled=True,
                                                                              days=7)))
    got = blob.get_service_properties()
    assert got["analytics_logging"].read and got["analytics_logging"].retention_policy.days == 7
    assert len(got["cors"]) == 1
    # It survives a restart.
    tarn.restart()
    assert len(tarn.blob_service().get_service_properties()["cors"]) == 1


def test_settings_out_of_range_are_refused_not_stored(tarn, blob):
    # A delete retention policy is served (test_soft_delete.py); out of range, it is refused.
    with pytest.raises(HttpResponseError) as e:
        blob.set_service_properties(delete_retention_policy=RetentionPolicy(enabled=True,
                                                                            days=400))
    assert e.value.status_code == 400 and "Days from 1 to 365" in str(e.value)
    # A static website is served (test_website.py); an index document with a '/' is refused.
    with pytest.raises(HttpResponseError) as e:
        blob.set_service_properties(static_website=StaticWebsite(enabled=True,
                                                                 index_document="a/index.html"))
    assert e.value.status_code == 400 and "IndexDocument" in str(e.value)
    got = blob.get_service_properties()
    assert not got["delete_retention_policy"].enabled and not got["static_website"].enabled


@pytest.mark.parametrize("body,why", [
    ("<StorageServiceProperties><Cors>" + "<CorsRule><AllowedOrigins>*</AllowedOrigins>"
     "<AllowedMethods>GET</AllowedMethods><MaxAgeInSeconds>1</MaxAgeInSeconds></CorsRule>" * 6 +
     "</Cors></StorageServiceProperties>", "at most 5"),
    ("<StorageServiceProperties><Cors><CorsRule><AllowedOrigins>*</AllowedOrigins>"
     "<AllowedMethods>FETCH</AllowedMethods><MaxAgeInSeconds>1</MaxAgeInSeconds></CorsRule>"
     "</Cors></StorageServiceProperties>", "FETCH"),
    ("<StorageServiceProperties><Cors><CorsRule><AllowedOrigins>*</AllowedOrigins>"
     "<AllowedMethods>GET</AllowedMethods></CorsRule></Cors></StorageServiceProperties>",
     "MaxAgeInSeconds"),
    ("<StorageServiceProperties><Nonsense/></StorageServiceProperties>", "Nonsense"),
    ("not xml", "not an XML document"),
])
def test_bad_documents_are_refused_and_change_nothing(tarn, blob, body, why):
    before = blob.get_service_properties()["cors"]
    r = RawClient(tarn).request("PUT", f"/{ACCOUNT}", [("restype", "service"),
                                                     ("comp", "properties")],
                                {"Content-Type": "application/xml"}, body.encode())
    assert r.status == 400 and r.error_code == "InvalidXmlDocument", r
    assert why.encode() in r.body, r
    assert len(blob.get_service_properties()["cors"]) == len(before)


def test_preflight_and_response_headers(tarn, blob):
    fs = unique_name("cors")
    container = blob.create_container(fs)
    container.upload_blob("a.txt", b"hello", metadata={"who": "me"})
    blob.set_service_properties(cors=[CorsRule(
        [ORIGIN], ["GET", "PUT"], allowed_headers=["x-ms-meta-*", "x-ms-version"],
        exposed_headers=["x-ms-meta-*"], max_age_in_seconds=300)])
    r = preflight(tarn, f"{fs}/a.txt?comp=metadata", ORIGIN, "PUT",
                  "x-ms-version,x-ms-meta-colour")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Max-Age"] == "300"
    assert "PUT" in r.headers["Access-Control-Allow-Methods"]
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    for origin, method, headers in ((ORIGIN, "DELETE", None), ("http://evil.example", "GET", None),
                                    (ORIGIN, "PUT", "x-ms-blob-type")):
        r = preflight(tarn, f"{fs}/a.txt", origin, method, headers)
        assert r.status_code == 403, (origin, method, headers, r.status_code)
        assert r.headers["x-ms-error-code"] == "CorsPreflightFailure"
    r = requests.options(f"{tarn.url}/{ACCOUNT}/{fs}/a.txt", timeout=10)
    assert r.status_code == 400 and r.headers["x-ms-error-code"] == "MissingRequiredHeader"
    # An allowed origin's request gets the headers, its errors too; another origin's none.
    sas = generate_blob_sas(ACCOUNT, fs, "a.txt", account_key=ACCOUNT_KEY,
                            permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    r = requests.get(f"{tarn.url}/{ACCOUNT}/{fs}/a.txt?{sas}", headers={"Origin": ORIGIN},
                     timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Expose-Headers"] == "x-ms-meta-*"
    r = requests.get(f"{tarn.url}/{ACCOUNT}/{fs}/missing.txt", headers={"Origin": ORIGIN},
                     timeout=10)
    assert r.status_code == 404 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = requests.get(f"{tarn.url}/{ACCOUNT}/{fs}/a.txt?{sas}",
                     headers={"Origin": "http://evil.example"}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    # A wildcard rule answers "*", without credentials.
    blob.set_service_properties(cors=[CorsRule(["*"], ["GET"], max_age_in_seconds=5)])
    r = preflight(tarn, f"{fs}/a.txt", "http://anyone.example", "GET")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    blob.delete_container(fs)


CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT = REPO / "studio" / "node_modules" / "playwright-core"


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and PLAYWRIGHT.exists() and shutil.which("node")),
                    reason="needs Debian's chromium and the studio's playwright-core")
def test_a_page_of_another_origin_reads_a_blob_once_cors_allows_it(tarn, blob, tmp_path):
    fs = unique_name("corsweb")
    blob.create_container(fs).upload_blob("data.csv", b"a,b\n1,2\n", metadata={"rows": "1"})
    sas = generate_blob_sas(ACCOUNT, fs, "data.csv", account_key=ACCOUNT_KEY,
                            permission=BlobSasPermissions(read=True),
                            expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path), **k)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    page = f"http://127.0.0.1:{web.server_address[1]}"
    script = """
        const { chromium } = require(process.env.PLAYWRIGHT);
        (async () => {
          const b = await chromium.launch({ executablePath: process.env.CHROMIUM,
                                            args: ["--no-sandbox"] });
          const p = await b.newPage();
          await p.goto(process.env.PAGE + "/index.html");
          const out = await p.evaluate(async (url) => {
            try {
              const r = await fetch(url, { headers: { "x-ms-version": "2021-10-04" } });
              return { status: r.status, text: await r.text(),
                       rows: r.headers.get("x-ms-meta-rows") };
            } catch (e) { return { error: String(e) }; }
          }, process.env.URL);
          console.log(JSON.stringify(out));
          await b.close();
        })();
    """

    def fetch_from_page():
        r = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PLAYWRIGHT": str(PLAYWRIGHT), "CHROMIUM": CHROMIUM,
                                "PAGE": page, "URL": f"{tarn.url}/{ACCOUNT}/{fs}/data.csv?{sas}"})
        assert r.returncode == 0, r.stderr
        import json
        return json.loads(r.stdout.strip().splitlines()[-1])

    try:
        blob.set_service_properties(cors=[])
        assert "error" in fetch_from_page()  # the browser refuses: no rule for this origin
        blob.set_service_properties(cors=[CorsRule([page], ["GET"], allowed_headers=["x-ms-*"],
                                                   exposed_headers=["x-ms-meta-rows"],
                                                   max_age_in_seconds=60)])
        got = fetch_from_page()
        assert got == {"status": 200, "text": "a,b\n1,2\n", "rows": "1"}, got
    finally:
        web.shutdown()
        web.server_close()
        blob.delete_container(fs)
