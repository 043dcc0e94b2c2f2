"""Static websites (issue 16): an account's $web container served for anyone at
http(s)://<account>.web.localhost:PORT/, turned on with Set Blob Service Properties through
Microsoft's Blob SDK (as `az storage blob service-properties update --static-website` does).
Folders serve their index document, missing files the 404 page; nothing else of the account is
reachable there. Debian's older SDK and the current one (.venv) both run this file."""

import http.client
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContentSettings, StaticWebsite

from sharedkey import ACCOUNT

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT = REPO / "studio" / "node_modules" / "playwright-core"

PAGES = {
    "index.html": (b"<h1>lake</h1>", "text/html"),
    "docs/index.html": (b"<h1>docs</h1>", "text/html"),
    "app.js": (b"console.log('hi')", "application/javascript"),
    "errors/404.html": (b"<h1>no such page</h1>", "text/html"),
    "data/figures.json": (b'{"rows": 3}', "application/json"),
}


def get(tarn, path, method="GET", headers=None):
    port = urlsplit(tarn.url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers={"Host": f"{ACCOUNT}.web.localhost:{port}",
                                            **(headers or {})})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


@pytest.fixture
def website(tarn):
    svc = tarn.blob_service()
    svc.set_service_properties(static_website=StaticWebsite(
        enabled=True, index_document="index.html", error_document404_path="errors/404.html"))
    web = svc.get_container_client("$web")
    for name, (body, ctype) in PAGES.items():
        web.upload_blob(name, body, overwrite=True,
                        content_settings=ContentSettings(content_type=ctype))
    yield svc
    svc.set_service_properties(static_website=StaticWebsite(enabled=False))


def test_turning_it_on_makes_web_and_is_returned(website):
    site = website.get_service_properties()["static_website"]
    assert site.enabled and site.index_document == "index.html"
    assert site.error_document404_path == "errors/404.html"
    assert "$web" in [c.name for c in website.list_containers()]


def test_files_folders_and_the_404_page(tarn, website):
    status, h, body = get(tarn, "/")
    assert (status, body, h["content-type"]) == (200, b"<h1>lake</h1>", "text/html")
    assert h["x-content-type-options"] == "nosniff"
    assert get(tarn, "/app.js")[1]["content-type"] == "application/javascript"
    assert get(tarn, "/data/figures.json")[2] == b'{"rows": 3}'
    # A folder without its '/' moves there, then serves its index document.
    status, h, _ = get(tarn, "/docs")
    assert (status, h["location"]) == (301, "/docs/")
    # Never to another site: the Location is the folder's own path.
    status, h, _ = get(tarn, "//docs")
    assert (status, h["location"]) == (301, "/docs/")
    assert get(tarn, "/docs/")[2] == b"<h1>docs</h1>"
    # A folder with no index document, and a missing file: the 404 page, with status 404.
    assert get(tarn, "/data/")[:3:2] == (404, b"<h1>no such page</h1>")
    assert get(tarn, "/nothing/here.html")[:3:2] == (404, b"<h1>no such page</h1>")
    status, h, body = get(tarn, "/index.html", method="HEAD")
    assert status == 200 and body == b"" and h["content-length"] == str(len(b"<h1>lake</h1>"))
    assert get(tarn, "/index.html", headers={"If-None-Match": h["etag"]})[0] == 304


def test_only_web_is_reachable_and_only_to_read(tarn, website, container):
    container.upload_blob("secret.txt", b"not for the web")
    assert get(tarn, f"/{container.container_name}/secret.txt")[0] == 404
    assert get(tarn, f"/{ACCOUNT}/{container.container_name}/secret.txt")[0] == 404
    assert get(tarn, "/%2e%2e/secret.txt")[0] == 400
    status, _, _ = get(tarn, "/index.html", method="PUT", headers={"Content-Length": "0"})
    assert status in (400, 405)
    assert get(tarn, "/index.html")[2] == b"<h1>lake</h1>"


def test_a_website_that_is_off_says_so(tarn, website):
    website.set_service_properties(static_website=StaticWebsite(enabled=False))
    status, h, body = get(tarn, "/")
    assert status == 404 and h["x-ms-error-code"] == "WebsiteDisabled"
    assert b"not enabled" in body


def test_without_a_404_page_a_plain_one(tarn, website):
    website.set_service_properties(static_website=StaticWebsite(enabled=True,
                                                                index_document="index.html"))
    status, h, body = get(tarn, "/missing")
    assert status == 404 and h["x-ms-error-code"] == "WebContentNotFound"
    assert b"does not exist" in body


APP = b"""<!doctype html><meta charset="utf-8"><title>figures</title>
<p id="rows">loading</p><script src="app.js"></script>"""
APP_JS = b"""fetch("data/figures.json").then((r) => r.json())
  .then((f) => { document.getElementById("rows").textContent = "rows: " + f.rows; });"""


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and PLAYWRIGHT.exists() and shutil.which("node")),
                    reason="needs Debian's chromium and the studio's playwright-core")
def test_a_browser_opens_the_site_and_its_script_reads_the_lake(tarn, website):
    web = website.get_container_client("$web")
    web.upload_blob("index.html", APP, overwrite=True,
                    content_settings=ContentSettings(content_type="text/html; charset=utf-8"))
    web.upload_blob("app.js", APP_JS, overwrite=True,
                    content_settings=ContentSettings(content_type="text/javascript"))
    site = f"http://{ACCOUNT}.web.localhost:{urlsplit(tarn.url).port}"
    script = """
        const { chromium } = require(process.env.PLAYWRIGHT);
        (async () => {
          const b = await chromium.launch({ executablePath: process.env.CHROMIUM,
                                            args: ["--no-sandbox"] });
          const p = await b.newPage();
          await p.goto(process.env.SITE + "/");
          await p.waitForFunction(() => document.getElementById("rows").textContent !== "loading");
          const rows = await p.locator("#rows").innerText();
          const missing = await p.goto(process.env.SITE + "/no/such/page");
          console.log(JSON.stringify({ rows, missing: missing.status(),
                                       text: await p.locator("h1").innerText() }));
          await b.close();
        })();
    """
    r = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PLAYWRIGHT": str(PLAYWRIGHT), "CHROMIUM": CHROMIUM,
                            "SITE": site})
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == {"rows": "rows: 3", "missing": 404, "text": "no such page"}, got
