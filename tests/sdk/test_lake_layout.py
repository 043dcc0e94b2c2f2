"""`tarn lake plan|apply|check`: the lake's layout as code, against a real tarnd, with its
effects proven through Microsoft's DataLake SDK and azure-identity."""

import textwrap

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.storage.filedatalake import DataLakeServiceClient

from conftest import unique
from tarn_harness import NO_INSTANCE_DISCOVERY
from test_cli import cli_json, tarn_cli


@pytest.fixture
def world(tarn, tmp_path):
    from identity_admin import Directory
    d = Directory(tarn)
    tenant = d.tenant()
    tag = unique("")[:6]
    names = {"raw": f"raw-{tag}", "curated": f"curated-{tag}", "product": f"product-{tag}",
             "eng": f"eng-{tag}", "analysts": f"analysts-{tag}"}
    text = textwrap.dedent(f"""\
        version: 1
        tenant: {tenant}
        zones:
          raw: {{filesystem: {names['raw']}, domains: [pos]}}
          curated:
            filesystem: {names['curated']}
            domains: [sales, finance]
          product: {{filesystem: {names['product']}, domains: [churn]}}
        groups: [{names['eng']}, {names['analysts']}]
        access:
          - {{group: {names['eng']}, zone: raw, write: true}}
          - {{group: {names['analysts']}, zone: curated, domain: sales, read: true}}
        retention: {{raw_batches_days: 365, failed_staging_days: 14}}
        """)
    path = tmp_path / "lake.yaml"
    path.write_text(text)
    return {"d": d, "tenant": tenant, "names": names, "file": str(path), "text": text}


def _group_id(d, tenant, name):
    return [g for g in d.call("GET", f"/tenants/{tenant}/groups")["groups"]
            if g["display_name"] == name][0]["object_id"]


def test_plan_apply_check_and_drift(tarn, world):
    d, names, f = world["d"], world["names"], world["file"]
    svc = tarn.datalake_service()
    plan = cli_json(tarn, None, "lake", "plan", f)["changes"]
    kinds = [c["change"] for c in plan]
    assert kinds.count("create filesystem") == 3 and kinds.count("create group") == 2
    assert "create folder" in kinds
    # A plan changes nothing.
    assert names["raw"] not in [fs.name for fs in svc.list_file_systems()]

    r = tarn_cli(tarn, None, "lake", "apply", f)
    assert "Applied" in r.stdout
    curated = svc.get_file_system_client(names["curated"])
    assert curated.get_directory_client("sales").exists()
    analysts = _group_id(d, world["tenant"], names["analysts"])
    eng = _group_id(d, world["tenant"], names["eng"])
    acl = curated.get_directory_client("sales").get_access_control()["acl"]
    assert f"group:{analysts}:r-x" in acl and f"default:group:{analysts}:r-x" in acl
    assert f"group:{analysts}:--x" in curated.get_directory_client("/").get_access_control()["acl"]
    roles = d.call("GET", "/role-assignments")["role_assignments"]
    assert {"principal_id": eng, "role": "Storage Blob Data Contributor",
            "scope": f"/{tarn.account}/{names['raw']}"} in [
        {k: r[k] for k in ("principal_id", "role", "scope")} for r in roles]

    # Each zone's filesystem says which zone it is and its retention, for tarnd to act on.
    meta = svc.get_file_system_client(names["raw"]).get_file_system_properties().metadata
    assert meta == {"tarn_zone": "raw", "tarn_raw_batches_days": "365",
                    "tarn_failed_staging_days": "14"}, meta

    # Idempotent: nothing left to do, nothing drifted.
    assert "No changes" in tarn_cli(tarn, None, "lake", "plan", f).stdout
    assert "No changes" in tarn_cli(tarn, None, "lake", "apply", f).stdout
    assert "No drift" in tarn_cli(tarn, None, "lake", "check", f).stdout

    # Files created later inherit the group's entries.
    curated.get_file_client("sales/2024.csv").upload_data(b"a\n1\n", overwrite=True)
    acl = curated.get_file_client("sales/2024.csv").get_access_control()["acl"]
    assert f"group:{analysts}:r-x" in acl

    # Drift: a role removed and an ACL entry changed by hand.
    rid = [r["id"] for r in d.call("GET", "/role-assignments")["role_assignments"]
           if r["principal_id"] == eng][0]
    d.call("DELETE", f"/role-assignments/{rid}", expect=200)
    sales = curated.get_directory_client("sales")
    sales.set_access_control(acl=sales.get_access_control()["acl"].replace(
        f"group:{analysts}:r-x", f"group:{analysts}:rwx", 1))
    svc.get_file_system_client(names["raw"]).set_file_system_metadata(
        {"tarn_zone": "raw", "tarn_raw_batches_days": "1", "team": "pos"})
    r = tarn_cli(tarn, None, "lake", "check", f, expect=4)
    assert "Drift" in r.stdout and "assign role" in r.stdout and "set ACL" in r.stdout
    assert "set retention" in r.stdout
    assert f"{names['analysts']}:rwx" in r.stdout
    assert "tarn lake apply" in r.stderr
    tarn_cli(tarn, None, "lake", "apply", f)
    assert "No drift" in tarn_cli(tarn, None, "lake", "check", f).stdout
    meta = svc.get_file_system_client(names["raw"]).get_file_system_properties().metadata
    assert meta["tarn_raw_batches_days"] == "365" and meta["team"] == "pos"


def test_grants_decide_what_a_member_may_do(tarn, world):
    """A service principal in the analysts group reads curated/sales through Microsoft's SDK
    with its own token, and may not write there or read finance."""
    d, names, tenant = world["d"], world["names"], world["tenant"]
    tarn_cli(tarn, None, "lake", "apply", world["file"])
    sp = d.service_principal(tenant, "analyst")
    d.call("PUT", f"/groups/{_group_id(d, tenant, names['analysts'])}/members/{sp['object_id']}",
           expect=200)
    admin = tarn.datalake_service().get_file_system_client(names["curated"])
    admin.get_file_client("sales/q1.csv").upload_data(b"x\n1\n", overwrite=True)
    admin.get_file_client("finance/pay.csv").upload_data(b"x\n2\n", overwrite=True)
    cred = ClientSecretCredential(tenant, sp["app_id"], sp["secret"], authority=tarn.https_url,
                                  **NO_INSTANCE_DISCOVERY, connection_verify=tarn.ca_file)
    svc = DataLakeServiceClient(f"{tarn.https_url}/{tarn.account}", credential=cred,
                                connection_verify=tarn.ca_file, retry_total=0)
    fs = svc.get_file_system_client(names["curated"])
    assert fs.get_file_client("sales/q1.csv").download_file().readall() == b"x\n1\n"
    with pytest.raises(HttpResponseError) as e:
        fs.get_file_client("sales/new.csv").upload_data(b"no", overwrite=True)
    assert e.value.status_code == 403
    with pytest.raises(HttpResponseError) as e:
        fs.get_file_client("finance/pay.csv").download_file().readall()
    assert e.value.status_code == 403


def test_a_bad_layout_is_refused_with_its_line_and_changes_nothing(tarn, world, tmp_path):
    svc = tarn.datalake_service()
    before = sorted(fs.name for fs in svc.list_file_systems())
    bad = tmp_path / "bad.yaml"
    cases = [
        (world["text"].replace("- {group: " + world["names"]["analysts"],
                               "- {group: nobody", 1), ":12:13: unknown group 'nobody'"),
        (world["text"].replace("filesystem: " + world["names"]["curated"],
                               "filesystem: " + world["names"]["raw"], 1), "overlap"),
        (world["text"] + "  - [unclosed\n", "not valid YAML"),
    ]
    for text, want in cases:
        bad.write_text(text)
        for verb in ("plan", "apply"):
            r = tarn_cli(tarn, None, "lake", verb, str(bad), expect=1)
            assert want in r.stderr, r.stderr
            assert str(bad) in r.stderr
    assert sorted(fs.name for fs in svc.list_file_systems()) == before
    r = tarn_cli(tarn, None, "lake", "plan", str(tmp_path / "missing.yaml"), expect=3)
    assert "cannot read" in r.stderr


@pytest.fixture(scope="module")
def quick_retention(tmp_path_factory):
    """A tarnd that carries out the zones' retention every second."""
    from conftest import _serve
    yield from _serve(tmp_path_factory, "tarnd-retention", ("--retention-interval", "1"))


def test_tarnd_deletes_raw_batches_past_retention(quick_retention, tmp_path):
    """lake.yaml keeps raw batches 30 days: a batch ingested for a day 40 days ago is deleted by
    tarnd itself within seconds, today's stays, and Microsoft's SDK sees exactly that."""
    import datetime
    from identity_admin import Directory
    tarn = quick_retention
    tenant = Directory(tarn).tenant()
    name = unique("raw-")
    layout = tmp_path / "lake.yaml"
    layout.write_text(f"version: 1\ntenant: {tenant}\nzones:\n  raw: {{filesystem: {name}}}\n"
                      "retention: {raw_batches_days: 30, failed_staging_days: 14}\n")
    tarn_cli(tarn, None, "lake", "apply", str(layout))
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text("x\n1\n")
    old = (datetime.date.today() - datetime.timedelta(days=40)).isoformat()
    kept = cli_json(tarn, None, "ingest", str(landing), "--source", "pos", "-f", name)["path"]
    (landing / "a.csv").write_text("x\n2\n")
    gone = cli_json(tarn, None, "ingest", str(landing), "--source", "pos", "-f", name,
                    "--date", old)["path"]
    fs = tarn.datalake_service().get_file_system_client(name)
    import time
    deadline = time.monotonic() + 20
    while fs.get_directory_client(gone).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not fs.get_directory_client(gone).exists()
    assert fs.get_file_client(kept + "/a.csv").download_file().readall() == b"x\n1\n"
