"""Ingestion into the raw zone (`tarn ingest`, tarn.core.ingest) against a real tarnd; what it
landed is read back with Microsoft's azure-storage-file-datalake."""

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import threading

import pytest

from conftest import CLI_BIN, sdk_env, unique
from test_cli import cli_json, tarn_cli

# The seed's sales landing: a malformed row, a duplicate and a null.
DAY1 = "id,region,day,amount\n1,north,2024-06-01,10.5\n2,south,2024-06-01,7\n2,south,2024-06-01,7\n" \
       "3,north,2024-06-01,\n4,west,2024-06-01,abc,extra\n"
DAY2 = "id,region,day,amount\n5,north,2024-06-02,3\n6,east,2024-06-02,4.25\n"
EVENTS = '{"id": 1, "kind": "refund"}\n{"id": 2, "kind": "sale"}\n'


@pytest.fixture
def landing(tmp_path):
    d = tmp_path / "landing"
    (d / "2024-06").mkdir(parents=True)
    (d / "2024-06" / "day1.csv").write_text(DAY1)
    (d / "2024-06" / "day2.csv").write_text(DAY2)
    (d / "events.jsonl").write_text(EVENTS)
    (d / "README.txt").write_text("exported by the till system\n")
    return d


@pytest.fixture
def raw(tarn):
    name = unique("raw-")
    return name, tarn.datalake_service().create_file_system(name)


def _md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_cli_ingest_lands_one_batch_the_azure_sdk_reads(tarn, landing, raw):
    """One batch, partitioned by source and day, with a manifest whose sizes, MD5s, row counts
    and schemas match what Microsoft's SDK reads back; tarnd keeps each file's Content-MD5.
    The same content again is reported and not landed twice."""
    name, fs = raw
    got = cli_json(tarn, None, "ingest", str(landing), "--source", "pos", "-f", name,
                   "--date", "2026-12-07")
    assert not got["duplicate"]
    path = got["path"]
    assert path.startswith("pos/ingest_date=2026-12-07/batch=")
    listed = sorted(p.name for p in fs.get_paths(path=path) if not p.is_directory)
    want = ["2024-06/day1.csv", "2024-06/day2.csv", "README.txt", "_manifest.json", "events.jsonl"]
    assert listed == sorted(f"{path}/{w}" for w in want)
    manifest = json.loads(fs.get_file_client(path + "/_manifest.json").download_file().readall())
    assert manifest == got["manifest"]
    assert manifest["source"] == "pos" and manifest["digest"].startswith("sha256:")
    files = {f["path"]: f for f in manifest["files"]}
    for rel, f in files.items():
        client = fs.get_file_client(f"{path}/{rel}")
        data = client.download_file().readall()
        assert f["size"] == len(data) and f["md5"] == _md5(data)
        stored = client.get_file_properties().content_settings.content_md5
        assert base64.b64encode(bytes(stored)).decode() == f["md5"]
    assert files["2024-06/day2.csv"]["tabular"]["rows"] == 2
    schema = files["2024-06/day2.csv"]["tabular"]["schema"]
    assert [c["name"] for c in schema] == ["id", "region", "day", "amount"]
    assert schema[2]["type"] == "DATE" and schema[3]["type"] == "DOUBLE"
    assert files["events.jsonl"]["tabular"]["rows"] == 2
    assert "tabular" not in files["README.txt"]
    # The malformed landing file still lands (raw keeps native formats), with the reason.
    day1 = files["2024-06/day1.csv"]["tabular"]
    assert "rows" in day1 or "error" in day1
    assert manifest["totals"]["files"] == 4
    # Nothing stays in staging.
    assert [p.name for p in fs.get_paths(path=".tarn/staging")] == []

    r = tarn_cli(tarn, None, "ingest", str(landing), "--source", "pos", "-f", name)
    assert "identical content was already ingested as %s/%s" % (name, path) in r.stdout
    batches = [p.name for p in fs.get_paths(path="pos", recursive=True)
               if p.name.rsplit("/", 1)[-1].startswith("batch=")]
    assert batches == [path]
    # A changed landing is a new batch; the human output names it and counts rows.
    (landing / "2024-06" / "day3.csv").write_text("id,region,day,amount\n7,north,2024-06-03,1\n")
    r = tarn_cli(tarn, None, "ingest", str(landing), "--source", "pos", "-f", name)
    assert "ingested 5 files" in r.stdout and "day3.csv" in r.stdout


def test_cli_ingest_errors_say_what_to_do(tarn, landing, raw):
    name, fs = raw
    r = tarn_cli(tarn, None, "ingest", str(landing), "--source", "pos", "-f", "no-such-fs",
                 expect=3)
    assert "filesystem 'no-such-fs' does not exist" in r.stderr
    r = tarn_cli(tarn, None, "ingest", str(landing / "missing"), "--source", "pos", "-f", name,
                 expect=3)
    assert "no such file or directory" in r.stderr
    r = tarn_cli(tarn, None, "ingest", str(landing), "--source", "a/b", "-f", name, expect=1)
    assert "cannot be a lake path segment" in r.stderr
    r = tarn_cli(tarn, None, "ingest", str(landing), "--source", "pos", "-f", name,
                 "--date", "7 Dec", expect=1)
    assert "YYYY-MM-DD" in r.stderr
    r = tarn_cli(tarn, None, "ingest", "--help")
    assert "--source" in r.stdout and "_manifest.json" in r.stdout
    assert list(fs.get_paths(recursive=True)) == []


def test_readers_never_see_half_a_batch(tarn, raw, tmp_path):
    """A reader listing the source through Microsoft's SDK while a 300-file batch lands sees
    either no batch or the whole batch with its manifest, never part of it."""
    name, fs = raw
    src = tmp_path / "many"
    src.mkdir()
    for i in range(300):
        (src / f"part-{i:04d}.csv").write_text("n\n%d\n" % i)
    seen_partial, looks = [], [0]
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                paths = [p.name for p in fs.get_paths(path="pos", recursive=True)
                         if not p.is_directory]
            except Exception:  # the source folder does not exist yet
                continue
            looks[0] += 1
            batches = {}
            for p in paths:
                batches.setdefault(p.split("/")[2], []).append(p)
            for b, files in batches.items():
                if len(files) != 301:
                    seen_partial.append((b, len(files)))

    t = threading.Thread(target=reader)
    t.start()
    try:
        got = cli_json(tarn, None, "ingest", str(src), "--source", "pos", "-f", name,
                       "--threads", "4")
    finally:
        done.set()
        t.join(timeout=60)
    assert looks[0] > 0 and not seen_partial, seen_partial
    assert len([p for p in fs.get_paths(path=got["path"])]) == 301


def test_sdk_ingest_as_the_workspace_caller(tarn, ws, landing, raw, tmp_path):
    """tarn.core.ingest and Datastore.ingest land the same batch once; a service principal
    that may only read the zone is refused, and nothing of its attempt stays."""
    from tarn.core import Datastore, ingest
    name, fs = raw
    batch = ingest(ws, str(landing / "2024-06" / "day2.csv"), source="pos", filesystem=name,
                   show_progress=False)
    assert not batch.duplicate and batch.files == 1 and batch.rows == 2
    ds = Datastore.register_azure_data_lake_gen2(ws, unique("raw_"), name, tarn.account,
                                                 account_key=tarn.key)
    again = ds.ingest(str(landing / "2024-06" / "day2.csv"), source="pos", show_progress=False)
    assert again.duplicate and again.path == batch.path

    from identity_admin import Directory
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "lander")
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{tarn.account}/{name}")
    d.assign(sp["object_id"], "AzureML Data Scientist", f"/workspaces/{ws.name}")
    script = textwrap.dedent("""
        import sys
        from tarn.core import Workspace, ingest, ServicePrincipalAuthentication
        from tarn.core.exceptions import TarnError
        tenant, app_id, secret, endpoint, ws, fs, src = sys.argv[1:8]
        auth = ServicePrincipalAuthentication(tenant, app_id, secret)
        w = Workspace.get(ws, auth=auth, tarn_endpoint=endpoint)
        try:
            ingest(w, src, source="pos", filesystem=fs, show_progress=False)
        except TarnError as e:
            print("refused:", e)
    """)
    env = sdk_env()
    env["TARN_CA_FILE"] = tarn.ca_file
    out = subprocess.run([sys.executable, "-c", script, tenant, sp["app_id"], sp["secret"],
                          tarn.https_url, ws.name, name, str(landing)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "AuthorizationPermissionMismatch" in out.stdout, out.stdout
    batches = [p.name for p in fs.get_paths(path="pos", recursive=True)
               if p.name.rsplit("/", 1)[-1].startswith("batch=")]
    assert batches == [batch.path]
    assert [p.name for p in fs.get_paths(path=".tarn/staging")] == []


def test_ingest_registers_the_batch_as_a_dataset_version(tarn, ws, landing, raw):
    """--dataset makes the batch the workspace's next version of a dataset, through the
    workspace's datastore for the filesystem; the same content again keeps that version; a
    workspace without such a datastore is told how to make one, before anything lands."""
    from tarn.core import Dataset, Datastore, ingest
    name, fs = raw
    r = tarn_cli(tarn, ws.name, "ingest", str(landing / "2024-06" / "day2.csv"), "--source", "pos",
                 "-f", name, "--dataset", "pos_raw", expect=3)
    assert "no datastore for filesystem" in r.stderr and "tarn datastore register" in r.stderr
    assert list(fs.get_paths(recursive=True)) == []
    Datastore.register_azure_data_lake_gen2(ws, "raw_zone", name, tarn.account,
                                            account_key=tarn.key)
    # A landing with a file of another shape (no line of it reads as the others) lands (raw
    # keeps what came), but is no tabular dataset: said so. (One unreadable line among readable
    # ones does not fail a registration: test_one_unreadable_line_is_left_out_and_reported.)
    (landing / "2024-06" / "day1.csv").write_text("id,region,day,amount\n1,north\n2,south\n")
    r = tarn_cli(tarn, ws.name, "ingest", str(landing / "2024-06"), "--source", "pos",
                 "-f", name, "--dataset", "pos_raw", "--format", "csv", expect=1)
    assert "the batch landed at %s/pos/ingest_date=" % name in r.stderr
    assert "registering it as dataset 'pos_raw' failed" in r.stderr and "day1.csv" in r.stderr
    (landing / "2024-06" / "day1.csv").unlink()
    got = cli_json(tarn, ws.name, "ingest", str(landing / "2024-06"), "--source", "pos",
                   "-f", name, "--dataset", "pos_raw", "--format", "csv")
    v = got["dataset"]
    assert v["version"] == 1 and v["kind"] == "tabular" and v["row_count"] == 2
    assert v["tags"]["batch"] == got["path"] and v["tags"]["source"] == "pos"
    again = cli_json(tarn, ws.name, "ingest", str(landing / "2024-06"), "--source", "pos",
                     "-f", name, "--dataset", "pos_raw", "--format", "csv")
    assert again["duplicate"] and again["dataset"]["version"] == 1
    # The ingestion's lineage: the local files it landed, then the batch's files in the lake.
    tree = cli_json(tarn, ws.name, "lineage", "pos_raw:1")["root"]
    local = [c for c in tree["children"] if c["kind"] == "path"]
    lake = [c for c in tree["children"] if c["kind"] == "file"]
    assert [c["uri"].rsplit("/", 1)[-1] for c in local] == ["day2.csv"]
    assert local[0]["uri"].startswith("file://") and local[0]["via"]["job"] == "ingest.pos"
    assert str((landing / "2024-06" / "day2.csv").resolve()) in local[0]["uri"]
    assert [c["path"] for c in lake] == [got["path"] + "/day2.csv"]
    events = cli_json(tarn, ws.name, "pipeline", "events")["events"]
    assert [e["job"]["name"] for e in events] == ["ingest.pos"]
    assert events[0]["outputs"][0]["namespace"] == "abfss://%s@%s.dfs.core.windows.net" % (
        name, tarn.account)

    batch = ingest(ws, str(landing / "events.jsonl"), source="events", filesystem=name,
                   dataset="events_raw", format="jsonl", show_progress=False)
    assert batch.dataset.version == 1
    df = batch.dataset.to_pandas_dataframe()
    assert sorted(df["kind"]) == ["refund", "sale"]
    whole = Datastore.get(ws, "raw_zone").ingest(str(landing / "README.txt"), source="notes",
                                                 dataset="notes_raw", show_progress=False)
    files = sorted(Dataset.get_by_name(ws, "notes_raw").to_path())
    assert [f.rsplit("/", 1)[-1] for f in files] == ["README.txt", "_manifest.json"], files
    assert whole.dataset.tags["digest"] == whole.manifest["digest"]


def test_one_unreadable_line_is_left_out_and_reported(tarn, ws, landing, raw):
    """day1.csv holds one line with a field too many among readable ones: the batch lands whole,
    and its dataset version leaves that line out, records it, and the CLI says which it was."""
    from tarn.core import Datastore
    name, _ = raw
    Datastore.register_azure_data_lake_gen2(ws, "raw_zone", name, tarn.account,
                                            account_key=tarn.key)
    r = tarn_cli(tarn, ws.name, "ingest", str(landing / "2024-06"), "--source", "pos",
                 "-f", name, "--dataset", "pos_raw", "--format", "csv")
    assert "day1.csv line 6" in r.stderr and "TOO MANY COLUMNS" in r.stderr, r.stderr
    assert "--set-type" in r.stderr and "version 1" in r.stderr
    v = cli_json(tarn, ws.name, "dataset", "show", "pos_raw")
    assert v["row_count"] == 6 and v["rejected_lines"] == 1
    assert [(x["path"].rsplit("/", 1)[-1], x["line"]) for x in v["rejected"]] == [("day1.csv", 6)]
    shown = tarn_cli(tarn, ws.name, "dataset", "show", "pos_raw").stdout
    assert "left out: 1 line(s)" in shown and "day1.csv" in shown
    rows = tarn_cli(tarn, ws.name, "dataset", "preview", "pos_raw", "--rows", "10").stdout
    assert "west" not in rows and "east" in rows
