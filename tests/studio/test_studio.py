"""Tarn Studio in a real browser (Debian's Chromium, headless, driven by playwright-core) against
a real tarnd, with data made by the SDKs: the DataLake SDK (files, the ACL check), tarn.core
(workspace, datastore, dataset versions) and the MLflow client (runs). Each test runs one
scenario of drive.mjs and checks what the browser saw, or what it changed, with the SDKs.

    .venv/bin/python -m pytest -q -p no:cacheprovider tests/studio

Screenshots of the main pages go to $STUDIO_SCREENSHOTS when set (docs/studio/ keeps them).
"""

import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "conformance"))
sys.path.insert(0, str(REPO / "build" / "release" / "python"))

from identity_admin import Directory  # noqa: E402
from sharedkey import ACCOUNT, ACCOUNT_KEY  # noqa: E402
from tarn_harness import TarnServer  # noqa: E402

PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
PASSWORD = "correct horse battery"
HOSTILE = "<img src=x onerror=alert(1)>.csv"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium (scripts/bootstrap.sh --browser)")


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def user(d, tenant, upn):
    u = d.call("POST", f"/tenants/{tenant}/principals",
               {"kind": "user", "display_name": upn.split("@")[0], "upn": upn}, 201)
    d.call("PUT", f"/principals/{u['object_id']}/password", {"password": PASSWORD}, 200)
    return u


def token_for(srv, tenant, scope):
    r = requests.post(f"{srv.https_url}/{tenant}/oauth2/v2.0/token",
                      data={"grant_type": "password", "client_id": PUBLIC_CLIENT,
                            "username": "ada@contoso.example", "password": PASSWORD,
                            "scope": scope}, verify=srv.ca_file, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def make_lake(srv, d, tenant):
    """A person with roles; a filesystem with folders, a CSV, a folder of 1,200 files and a
    file named like markup; a workspace with two versions of a dataset and two MLflow runs."""
    ada = user(d, tenant, "ada@contoso.example")
    bob = user(d, tenant, "bob@contoso.example")
    d.assign(ada["object_id"], "Storage Blob Data Owner", f"/{ACCOUNT}")
    fs = unique("studio")
    svc = srv.datalake_service()
    fsc = svc.create_file_system(fs)
    csv = "region,amount\nnorth,10.5\nsouth,7\n" + "".join(f"east,{i}\n" for i in range(30))
    fsc.get_file_client("raw/sales/sales.csv").upload_data(csv.encode(), overwrite=True)
    fsc.get_directory_client("uploads").create_directory()
    fsc.get_file_client(f"hostile/{HOSTILE}").upload_data(b"a,b\n1,2\n", overwrite=True)

    def put(i):
        fsc.get_file_client(f"many/f{i:05d}.txt").upload_data(b"x", overwrite=True)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(1200)))

    from tarn.core import Dataset, Datastore, Workspace
    ws = Workspace.create(unique("ws"), tarn_endpoint=srv.url, account_key=ACCOUNT_KEY)
    d.assign(ada["object_id"], "Contributor", f"/workspaces/{ws.name}")
    store = Datastore.register_azure_data_lake_gen2(ws, "lake", fs, ACCOUNT)
    store.set_as_default()
    Dataset.Tabular.from_delimited_files(path=[(store, "raw/sales/sales.csv")]).register(
        ws, "sales")
    fsc.get_file_client("raw/sales/sales.csv").upload_data(
        (csv + "west,99\n").encode(), overwrite=True)
    Dataset.Tabular.from_delimited_files(path=[(store, "raw/sales/sales.csv")]).register(
        ws, "sales", create_new_version=True)

    pipeline = textwrap.dedent("""\
        version: 1
        name: regions
        steps:
          - name: by_region
            inputs: {sales: sales}
            sql: SELECT region, sum(amount) AS amount FROM sales GROUP BY region
            output: {dataset: sales_by_region, datastore: lake, path: curated/by_region}
            checks:
              - row_count > 0
              - failed rows:
                  name: no_west
                  fail query: SELECT * FROM output WHERE region = 'west'
        """)
    from sharedkey import RawClient
    r = RawClient(srv).request("PUT", f"/workspaces/{ws.name}/pipelines/regions", (),
                               {"Content-Type": "application/json"},
                               json.dumps({"definition": pipeline}).encode())
    assert r.status in (200, 201), r
    totals = textwrap.dedent("""\
        version: 1
        name: totals
        steps:
          - name: totals
            inputs: {sales: sales}
            sql: SELECT region, sum(amount) AS revenue FROM sales GROUP BY region
            output: {dataset: sales_totals, datastore: lake, path: product/totals}
            checks: [row_count > 0]
        """)
    raw = RawClient(srv)
    r = raw.request("PUT", f"/workspaces/{ws.name}/pipelines/totals", (),
                    {"Content-Type": "application/json"},
                    json.dumps({"definition": totals}).encode())
    assert r.status in (200, 201), r
    r = raw.request("POST", f"/workspaces/{ws.name}/pipelines/totals/runs", [("wait", "10000")],
                    {"Content-Type": "application/json"}, b"{}")
    assert r.status == 201 and json.loads(r.body)["status"] == "succeeded", r

    script = textwrap.dedent("""
        import mlflow
        mlflow.set_experiment("churn")
        for name, lr in (("run-a", 0.1), ("run-b", 0.3)):
            with mlflow.start_run(run_name=name):
                mlflow.log_param("lr", lr)
                mlflow.log_text(f"notes of {name}", "notes/hello.txt")
                for step in range(20):
                    mlflow.log_metric("loss", 1.0 / (1 + lr * step), step=step)
    """)
    env = {**os.environ,
           "MLFLOW_TRACKING_URI": f"{srv.https_url}/workspaces/{ws.name}/mlflow",
           "MLFLOW_TRACKING_TOKEN": token_for(srv, tenant, "https://ml.azure.com/.default"),
           "MLFLOW_TRACKING_SERVER_CERT_PATH": srv.ca_file}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    return {"account": ACCOUNT, "fs": fs, "ws": ws.name, "bob": bob}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    base = tmp_path_factory.mktemp("studio")
    srv = TarnServer(base / "data", base / "logs").start()
    try:
        d = Directory(srv)
        tenant = d.tenant()
        lake = make_lake(srv, d, tenant)
        yield srv, tenant, lake
    finally:
        srv.stop()


def drive(srv, scenario, **cfg):
    conf = {"url": srv.https_url, "user": "ada@contoso.example", "password": PASSWORD,
            "screenshots": os.environ.get("STUDIO_SCREENSHOTS", ""), **cfg}
    r = subprocess.run(["node", str(REPO / "tests" / "studio" / "drive.mjs"), scenario],
                       env={**os.environ, "STUDIO_TEST": json.dumps(conf), "CHROMIUM": CHROMIUM},
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"{scenario}: {r.stderr[-4000:]}\n{srv.stderr_tail(2000)}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["csp_violations"] == [], out
    assert out["page_errors"] == [], out
    return out


def cfg_of(studio):
    srv, tenant, lake = studio
    return srv, {"tenant": tenant, "account": lake["account"], "fs": lake["fs"],
                 "ws": lake["ws"]}


def test_the_studio_is_served_with_a_strict_policy(studio):
    srv, _, _ = studio
    r = requests.get(f"{srv.https_url}/studio/", verify=srv.ca_file, timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"]
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["Cache-Control"] == "no-cache"
    asset = r.text.split('src="/studio/')[1].split('"')[0]
    a = requests.get(f"{srv.https_url}/studio/{asset}", verify=srv.ca_file, timeout=10)
    assert a.status_code == 200 and "immutable" in a.headers["Cache-Control"]
    again = requests.get(f"{srv.https_url}/studio/{asset}", verify=srv.ca_file, timeout=10,
                         headers={"If-None-Match": a.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    # Plain http sends the browser to https, where bearer tokens may travel.
    r = requests.get(f"{srv.url}/studio/", allow_redirects=False, timeout=10)
    assert r.status_code == 307 and r.headers["Location"] == f"{srv.https_url}/studio/"
    r = requests.get(f"{srv.url}/studio/", allow_redirects=False, timeout=10,
                     headers={"Host": "localhost:1"})
    assert r.headers["Location"] == f"https://localhost:{srv.https_url.rsplit(':', 1)[1]}/studio/"
    r = requests.get(f"{srv.url}/studio/", allow_redirects=False, timeout=10,
                     headers={"Host": "me@evil.example"})
    assert r.headers["Location"] == f"{srv.https_url}/studio/", r.headers
    r = requests.get(f"{srv.https_url}/studio/../identity/tenants", verify=srv.ca_file,
                     timeout=10)
    assert r.status_code in (401, 403, 404)
    r = requests.get(f"{srv.https_url}/studio/nothing-here.js", verify=srv.ca_file, timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"


def test_sign_in(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "signin", **cfg)
    assert "AADSTS50126" in out["wrong"], out
    assert out["signed_in_as"] == "ada@contoso.example"
    # No password or account key is kept in the browser's storage.
    assert PASSWORD not in out["stored"] and ACCOUNT_KEY not in out["stored"]


def test_sign_in_with_a_device_code(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "device", **cfg)
    assert out["signed_in_as"] == "ada@contoso.example", out
    assert len(out["code"].replace("-", "")) == 8, out


def test_a_service_principal_signs_in_and_its_role_decides(studio):
    srv, cfg = cfg_of(studio)
    d = Directory(srv)
    sp = d.service_principal(cfg["tenant"], "viewer")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{cfg['fs']}")
    out = drive(srv, "app", app_id=sp["app_id"], secret=sp["secret"], **cfg)
    assert sp["secret"] not in out["stored"], "a service principal's secret is kept in memory only"
    assert "AuthorizationPermissionMismatch" in out["refused"], out


def test_browse_to_a_file_and_preview_it(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "browse", **cfg)
    assert out["focus_outline"] == "solid", out  # keyboard focus is visible
    assert out["preview_header"] == ["region", "amount"]
    assert out["preview_rows"] == 20
    props = srv.datalake_service().get_file_system_client(cfg["fs"]) \
        .get_file_client("raw/sales/sales.csv").get_file_properties()
    assert out["etag"] == props.etag
    assert out["hash"] == f"#/lake/{ACCOUNT}/{cfg['fs']}/raw/sales"


def test_a_large_folder_pages_and_stays_virtual(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "paging", **cfg)
    assert out["first"].startswith("1000 items so far"), out
    assert out["last"] == "1200 items", out
    assert out["last_row"].endswith("f01199.txt"), out
    assert out["rows_in_dom"] < 100, out


def test_upload_shows_progress_and_lands_whole(studio):
    srv, cfg = cfg_of(studio)
    size = 12 * 1024 * 1024
    out = drive(srv, "upload", upload_size=size, **cfg)
    assert out["partway"] >= 2, out
    data = srv.datalake_service().get_file_system_client(cfg["fs"]) \
        .get_file_client("uploads/big.bin").download_file().readall()
    want = bytes(((i * 131 + (i >> 9)) & 0xFF) for i in range(size))
    assert hashlib.sha256(data).digest() == hashlib.sha256(want).digest()
    dropped = srv.datalake_service().get_file_system_client(cfg["fs"]) \
        .get_file_client("uploads/dropped.csv")
    assert dropped.download_file().readall() == b"dropped,bytes\n1,2\n"


def test_an_acl_edited_in_the_browser_is_what_the_sdk_reads(studio):
    srv, cfg = cfg_of(studio)
    bob = studio[2]["bob"]
    out = drive(srv, "acl", grantee="bob@contoso.example", **cfg)
    acl = srv.datalake_service().get_file_system_client(cfg["fs"]) \
        .get_file_client("raw/sales/sales.csv").get_access_control()["acl"]
    assert f"user:{bob['object_id']}:r--" in acl.split(","), acl
    assert "mask::" in acl, acl
    # The folder's default entry went to everything below it: raw/sales and its file.
    assert out["applied"].startswith("Applied to 2 folders and 1 file"), out
    fsc = srv.datalake_service().get_file_system_client(cfg["fs"])
    for d in ("raw", "raw/sales"):
        acl = fsc.get_directory_client(d).get_access_control()["acl"]
        assert f"default:user:{bob['object_id']}:r-x" in acl.split(","), (d, acl)


def test_a_dataset_profile_lineage_and_diff(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "dataset", dataset="sales", **cfg)
    assert out["searched"] == ["sales_totals"], out
    assert out["profile"] == ["region", "amount"]
    assert out["histograms"] == ["Histogram of amount: 20 bins from 0 to 99, 33 values"], out
    assert out["rows"] == 20 and out["first_row"] == ["north", "10.5"], out
    assert "sales:2" in out["lineage"] and "raw/sales/sales.csv" in out["lineage"], out
    assert "Rows" in out["diff_rows"], out


def test_lineage_down_to_columns(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "columns", **cfg)
    assert sorted(out["columns"]) == ["region ← sales:2.region (identity)",
                                      "revenue ← sales:2.amount (aggregation)"], out
    # The graph: the version, the version it was made from, and that one's file, in a chain.
    assert out["graph"] == "Lineage graph, upstream: sales_totals:1, sales:2, sales.csv", out
    assert (out["graph_nodes"], out["graph_edges"]) == (3, 2), out


def test_a_runs_artifact_downloads(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "artifacts", experiment="churn", **cfg)
    assert out["name"] == "hello.txt" and out["text"] == "notes of run-a", out


def test_two_runs_compared(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "runs", experiment="churn", runs=["run-a", "run-b"], metric="loss", **cfg)
    assert any(c.startswith("lr") for c in out["columns"]) and any(
        c.startswith("loss") for c in out["columns"]), out
    assert out["legend"][1:] == ["run-b", "run-a"] or out["legend"][1:] == ["run-a", "run-b"], out
    assert out["compared"][1:] in (["run-a", "run-b"], ["run-b", "run-a"]), out
    # run-b (lr 0.3) ends with the lower loss.
    assert out["by_loss_up"] == ["run-b", "run-a"] and out["by_loss_down"] == ["run-a", "run-b"], out
    assert out["filtered"] == ["run-b"], out


def test_a_pipeline_run_from_the_studio_shows_its_gate(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "pipeline", pipeline="regions", **cfg)
    assert "failed" in out["heading"], out
    assert any("row_count > 0" in c for c in out["checks"]), out
    assert any("no_west" in c or "west" in c for c in out["checks"]), out
    assert any("west" in e for e in out["examples"]), out


def test_administration_assigns_a_role_and_reads_the_audit_log(studio):
    srv, cfg = cfg_of(studio)
    bob = studio[2]["bob"]["object_id"]
    scope = f"/{ACCOUNT}/{cfg['fs']}"
    out = drive(srv, "admin", bob=bob, scope=scope, **cfg)
    roles = Directory(srv).call("GET", "/role-assignments", expect=200)["role_assignments"]
    assert {"principal_id": bob, "role": "Storage Blob Data Reader", "scope": scope}.items() <= \
        next(r for r in roles if r["principal_id"] == bob).items(), roles
    assert out["audit"] and all("AssignRole" in row for row in out["audit"]), out
    groups = Directory(srv).call("GET", f"/tenants/{cfg['tenant']}/groups", expect=200)["groups"]
    assert [(g["display_name"], g["members"]) for g in groups] == [("analysts", [bob])], groups


def test_new_folder_download_rename_and_delete(studio):
    srv, cfg = cfg_of(studio)
    fsc = srv.datalake_service().get_file_system_client(cfg["fs"])
    fsc.get_file_client("work/keep.txt").upload_data(b"kept bytes", overwrite=True)
    fsc.get_file_client("work/gone.txt").upload_data(b"x", overwrite=True)
    out = drive(srv, "manage", answers=["made", "work/renamed.txt"], **cfg)
    assert out["dialogs"] == ["prompt", "prompt", "confirm"], out
    assert out["downloaded_name"] == "keep.txt" and out["downloaded"] == "kept bytes", out
    names = {p.name: p.is_directory for p in fsc.get_paths("work")}
    assert names == {"work/made": True, "work/renamed.txt": False}, names
    assert fsc.get_file_client("work/renamed.txt").download_file().readall() == b"kept bytes"


def test_a_file_named_like_markup_is_shown_as_text(studio):
    srv, cfg = cfg_of(studio)
    out = drive(srv, "xss", hostile=HOSTILE, **cfg)
    assert out["shown"].endswith(HOSTILE) and out["heading"] == HOSTILE, out
    assert out["injected"] == 0 and "dialog" not in out and not out["alerted"], out


def test_an_expired_session_asks_to_sign_in_again(tmp_path):
    """Access tokens of 2 s and refresh tokens of 4 s: after 6 s the studio's next call finds
    both dead, shows why, and signing in again goes back to the same place."""
    config = tmp_path / "tarnd.json"
    config.write_text(json.dumps({"identity": {"token_lifetime_s": 2, "clock_skew_s": 0,
                                               "refresh_lifetime_s": 4}}))
    os.chmod(config, 0o600)
    srv = TarnServer(tmp_path / "data", tmp_path / "logs",
                     extra_args=["--config", str(config)]).start()
    try:
        d = Directory(srv)
        tenant = d.tenant()
        ada = user(d, tenant, "ada@contoso.example")
        d.assign(ada["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}")
        fs = unique("exp")
        srv.datalake_service().create_file_system(fs).get_directory_client(
            "raw/sales").create_directory()
        started = time.monotonic()
        out = drive(srv, "expired", tenant=tenant, account=ACCOUNT, fs=fs, wait_ms=6000)
        assert time.monotonic() - started < 120
        assert "session has ended" in out["notice"], out
        assert out["hash"] == f"#/lake/{ACCOUNT}/{fs}/raw", out
    finally:
        srv.stop()


def test_without_a_studio_it_says_so(tmp_path):
    """--studio-dir off serves none and says how to have one; a directory without a built studio
    stops tarnd at start, naming it."""
    srv = TarnServer(tmp_path / "data", tmp_path / "logs", extra_args=["--studio-dir", "off"])
    srv.start()
    try:
        r = requests.get(f"{srv.https_url}/studio/", verify=srv.ca_file, timeout=10)
        assert r.status_code == 404 and "has no studio" in r.json()["error"]["message"], r.text
    finally:
        srv.stop()
    from tarn_harness import tarnd_bin
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([str(tarnd_bin()), "--listen", "127.0.0.1:0", "--data-dir",
                        str(tmp_path / "data2"), "--studio-dir", str(empty)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "index.html is missing" in r.stderr, r.stderr
