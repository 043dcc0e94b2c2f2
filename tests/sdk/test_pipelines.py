"""Pipelines against a real tarnd: raw -> curated -> product as write, audit, publish. The lake is
written and read with Microsoft's azure-storage-file-datalake; the pipelines are stored and run
with the tarn CLI; versions and reports are read back from the catalog."""

import json
import os
import textwrap
import threading
import time

import pytest

from conftest import unique
from test_cli import cli_json, tarn_cli

# The seed's sales: a malformed row (amount 'abc'), a duplicate, and a null amount.
GOOD = ("id,region,day,amount\n"
        "1,north,2024-06-01,10.5\n"
        "2,south,2024-06-01,7\n"
        "2,south,2024-06-01,7\n"
        "3,north,2024-06-01,\n"
        "4,west,2024-06-02,abc\n"
        "5,north,2024-06-02,3\n")
# A bad batch: two different sales under one id.
BAD = GOOD + "5,east,2024-06-02,99\n"
FIXED = GOOD + "6,east,2024-06-02,99\n"

PIPELINE = """\
version: 1
name: {name}
steps:
  - name: curate
    inputs:
      sales: {raw_ds}
    sql: |
      SELECT DISTINCT CAST(id AS BIGINT) AS id, region, CAST(day AS DATE) AS day,
             TRY_CAST(amount AS DOUBLE) AS amount, amount AS amount_text
      FROM sales
    expectations:
      - name: amount_is_a_number
        expect: amount IS NOT NULL OR amount_text IS NULL
        on_fail: drop
      - name: amount_present
        expect: amount IS NOT NULL
        on_fail: warn
    output:
      dataset: {curated_ds}
      datastore: {curated_store}
      path: sales/orders
      partition_by: [region]
    checks:
      - row_count > 0
      - duplicate_count(id) = 0
      - schema:
          fail:
            when required column missing: [id, region, day, amount]
            when wrong column type: {{id: BIGINT, amount: DOUBLE}}
  - name: by_region
    inputs:
      orders: {curated_ds}
    sql: |
      SELECT region, day, count(*) AS orders, sum(amount) AS revenue
      FROM orders WHERE amount IS NOT NULL
      GROUP BY region, day ORDER BY region, day
    output:
      dataset: {product_ds}
      datastore: {product_store}
      path: sales/by_region
    checks:
      - row_count > 0
      - missing_count(revenue) = 0
      - invalid_count(region) = 0:
          valid values: [north, south, east, west]
"""


class Zones:
    """raw, curated and product filesystems on one tarnd, each a datastore of the workspace."""

    def __init__(self, tarn, ws_name):
        self.tarn = tarn
        self.ws = ws_name
        dls = tarn.datalake_service()
        self.fs = {}
        self.store = {}
        for zone in ("raw", "curated", "product"):
            name = unique(zone + "-")
            self.fs[zone] = dls.create_file_system(name)
            store = unique(zone + "_")
            tarn_cli(tarn, ws_name, "datastore", "register", store, "--filesystem", name,
                     "--account-key", tarn.key)
            self.store[zone] = store

    def land(self, path, text):
        self.fs["raw"].get_file_client(path).upload_data(text.encode(), overwrite=True)

    def product_files(self, path="sales/by_region"):
        return sorted(p.name for p in self.fs["product"].get_paths(path=path)
                      if not p.is_directory)


@pytest.fixture
def zones(tarn):
    ws = unique("ws-")
    tarn_cli(tarn, None, "workspace", "create", ws)
    return Zones(tarn, ws)


def register_raw(tarn, zones, ds, path, new_version=False):
    args = ["dataset", "create", ds, "--datastore", zones.store["raw"], "--path", path,
            "--no-infer-types"]
    if new_version:
        args.append("--new-version")
    return cli_json(tarn, zones.ws, *args)


def write_pipeline(tmp_path, zones, name, raw_ds, curated_ds, product_ds, text=PIPELINE):
    f = tmp_path / f"{name}.yaml"
    f.write_text(text.format(name=name, raw_ds=raw_ds, curated_ds=curated_ds,
                             product_ds=product_ds, curated_store=zones.store["curated"],
                             product_store=zones.store["product"]))
    return f


def write_busy_pipeline(f, name, raw_ds, out_ds, store, path, rows, header=""):
    """A one-step pipeline that keeps its step busy in proportion to `rows` (md5 of each),
    reading raw_ds so that it has an input; `header` adds top-level lines (a schedule)."""
    f.write_text(textwrap.dedent(f"""\
        version: 1
        name: {name}
        {header}
        steps:
          - name: big
            inputs: {{s: {raw_ds}}}
            sql: |
              SELECT i, md5(CAST(i AS VARCHAR)) AS h, n
              FROM range({rows}) t(i), (SELECT count(*) AS n FROM s)
            output: {{dataset: {out_ds}, datastore: {store}, path: {path}}}
        """))


def run(tarn, ws, what, expect=0):
    r = tarn_cli(tarn, ws, "--json", "pipeline", "run", str(what), expect=expect)
    return json.loads(r.stdout)


def test_seed_flow_gate_blocks_a_bad_batch_and_publishes_the_fix(tarn, zones, tmp_path):
    """Sales CSVs land in raw; curate types them, drops duplicates, quarantines the malformed row
    and writes zstd Parquet partitioned by region; product aggregates per region and day. A bad
    batch fails curate's gate: nothing is published and the Azure SDK still reads the previous
    product. The corrected batch publishes, and each version names the versions it came from."""
    raw_ds, cur_ds, prod_ds = unique("sales_raw_"), unique("sales_cur_"), unique("sales_prod_")
    zones.land("pos/day1/sales.csv", GOOD)
    register_raw(tarn, zones, raw_ds, "pos/day1/*.csv")
    f = write_pipeline(tmp_path, zones, unique("sales-"), raw_ds, cur_ds, prod_ds)
    # The curated domain folder grants a group by its default ACL (as `tarn lake apply` does).
    analysts = "7c1f3a52-0f0e-4d53-9d2a-5f0b2c3d4e5f"
    zones.fs["curated"].create_directory("sales").set_access_control(
        acl="user::rwx,group::r-x,other::---,"
            f"default:user::rwx,default:group::r-x,default:other::---,"
            f"default:group:{analysts}:r-x,default:mask::r-x")

    first = run(tarn, zones.ws, f)
    assert first["status"] == "succeeded", first
    curate, by_region = first["steps"]
    assert curate["rows_in"] == 6
    assert curate["rows_out"] == 4 and curate["rows_quarantined"] == 1
    exp = {e["name"]: e for e in curate["expectations"]}
    assert exp["amount_is_a_number"]["failed_rows"] == 1
    assert exp["amount_present"]["failed_rows"] == 2  # warn: counted, kept
    assert all(c["outcome"] == "pass" for c in curate["checks"])
    # Partitioned zstd Parquet in curated, read back with Microsoft's SDK.
    cur_files = [p.name for p in zones.fs["curated"].get_paths(path="sales/orders")
                 if not p.is_directory]
    assert cur_files and all("/region=" in p and p.endswith(".parquet") for p in cur_files)
    # Published with the ACLs its destination gives new paths, not those of the staging.
    acl = zones.fs["curated"].get_file_client(cur_files[0]).get_access_control()["acl"]
    assert f"group:{analysts}:r-x" in acl, acl
    head = zones.fs["curated"].get_file_client(cur_files[0]).download_file().readall()
    assert head[:4] == b"PAR1" and head[-4:] == b"PAR1"  # zstd: src/tabular/step_test.cc
    # The quarantine dataset holds the malformed row with its reason.
    q = cli_json(tarn, zones.ws, "dataset", "preview", cur_ds + "_quarantine")
    assert [r["_reason"] for r in q] == ["amount_is_a_number"] and q[0]["id"] == 4
    prod_v1 = cli_json(tarn, zones.ws, "dataset", "show", prod_ds)
    assert prod_v1["version"] == 1 and prod_v1["row_count"] == by_region["rows_out"] == 3
    before = {p: zones.fs["product"].get_file_client(p).download_file().readall()
              for p in zones.product_files()}

    # A bad batch: the gate fails, nothing is published anywhere.
    zones.land("pos/day2/sales.csv", BAD)
    register_raw(tarn, zones, raw_ds, "pos/day2/*.csv", new_version=True)
    failed = run(tarn, zones.ws, f.stem, expect=4)
    assert failed["status"] == "failed"
    curate = failed["steps"][0]
    dup = [c for c in curate["checks"] if c["check"] == "duplicate_count(id) = 0"][0]
    assert dup["outcome"] == "fail" and dup["value"] == 1
    assert sorted(r[0] for r in dup["examples"]["rows"]) == ["5", "5"]
    assert "the gate failed: duplicate_count(id) = 0" in failed["error"]
    assert failed["steps"][1]["status"] == "skipped"
    assert cli_json(tarn, zones.ws, "dataset", "show", cur_ds)["version"] == 1
    assert cli_json(tarn, zones.ws, "dataset", "show", prod_ds)["version"] == 1
    after = {p: zones.fs["product"].get_file_client(p).download_file().readall()
             for p in zones.product_files()}
    assert after == before
    # The staged output is kept for inspection, where no dataset points.
    staging = curate["staging"].split("/", 1)[1]
    assert [p for p in zones.fs["curated"].get_paths(path=staging) if not p.is_directory]

    # The fix publishes; the product's lineage leads back to the raw version.
    zones.land("pos/day2/sales.csv", FIXED)
    raw_v3 = register_raw(tarn, zones, raw_ds, "pos/day2/*.csv", new_version=True)
    fixed = run(tarn, zones.ws, f.stem)
    assert fixed["status"] == "succeeded", fixed
    prod_v2 = cli_json(tarn, zones.ws, "dataset", "show", prod_ds)
    assert prod_v2["version"] == 2
    # Readers of the lake now get the new product: east is in it.
    published = {p: zones.fs["product"].get_file_client(p).download_file().readall()
                 for p in zones.product_files()}
    assert published != before and b"east" in b"".join(published.values())
    cur_v2 = cli_json(tarn, zones.ws, "dataset", "show", cur_ds)
    assert prod_v2["lineage"]["run_id"] == fixed["id"]
    assert prod_v2["lineage"]["inputs"] == [
        {"dataset": cur_ds, "version": cur_v2["version"], "id": cur_v2["id"]}]
    assert cur_v2["lineage"]["inputs"] == [
        {"dataset": raw_ds, "version": raw_v3["version"], "id": raw_v3["id"]}]
    runs = cli_json(tarn, zones.ws, "pipeline", "runs", f.stem)["runs"]
    assert [r["status"] for r in runs] == ["succeeded", "failed", "succeeded"]
    assert [r["number"] for r in runs] == [3, 2, 1]

    # `tarn lineage` traces the product back to the raw files, and raw forward to the product.
    up = cli_json(tarn, zones.ws, "lineage", prod_ds)["root"]
    assert (up["dataset"], up["version"]) == (prod_ds, 2)
    assert up["namespace"] == "abfss://%s@%s.dfs.core.windows.net" % (
        zones.fs["product"].file_system_name, tarn.account) and up["name"] == "sales/by_region"
    # Down to columns: the tree carries the column lineage of each version a step made.
    by_col = {c["column"]: c["from"] for c in up["columns"]}
    assert by_col["revenue"] == [{"dataset": f"{cur_ds}:2", "field": "amount",
                                  "transformation": "AGGREGATION"}], up["columns"]
    assert by_col["region"][0]["transformation"] == "IDENTITY"
    cur = up["children"][0]
    assert (cur["dataset"], cur["version"], cur["via"]["job"]) == (
        cur_ds, 2, f.stem + ".by_region")
    raw = cur["children"][0]
    assert (raw["dataset"], raw["version"]) == (raw_ds, 3)
    files = raw["children"]
    raw_fs = zones.fs["raw"]
    etag = raw_fs.get_file_client("pos/day2/sales.csv").get_file_properties().etag
    assert [(x["kind"], x["path"]) for x in files] == [("file", "pos/day2/sales.csv")]
    assert files[0]["uri"] == "abfss://%s@%s.dfs.core.windows.net/pos/day2/sales.csv" % (
        raw_fs.file_system_name, tarn.account)
    assert files[0]["etag"].strip('"') == etag.strip('"')
    tree = tarn_cli(tarn, zones.ws, "lineage", f"{prod_ds}:2").stdout
    assert "file abfss://" in tree and f"{cur_ds}:2" in tree and f"{raw_ds}:3" in tree, tree
    down = cli_json(tarn, zones.ws, "lineage", f"{raw_ds}:3", "--downstream")["root"]
    assert [(c["dataset"], c["version"]) for c in down["children"]] == [
        (cur_ds, 2), (cur_ds + "_quarantine", 2)]
    assert down["children"][0]["children"][0]["dataset"] == prod_ds
    # The OpenLineage RunEvents, with the column lineage the SQL makes plain.
    events = tarn_cli(tarn, zones.ws, "--json", "pipeline", "events").stdout
    events = json.loads(events)["events"]
    done = [e for e in events if e["eventType"] == "COMPLETE" and
            e["job"]["name"] == f.stem + ".by_region"]
    assert len(done) == 2
    out = done[0]["outputs"][0]
    cols = out["facets"]["columnLineage"]["fields"]
    assert cols["revenue"]["inputFields"][0]["field"] == "amount"
    assert cols["revenue"]["inputFields"][0]["transformations"][0]["subtype"] == "AGGREGATION"
    assert cols["region"]["inputFields"][0]["transformations"][0]["subtype"] == "IDENTITY"
    assert {e["eventType"] for e in events} == {"COMPLETE", "FAIL"}
    for e in events:
        assert e["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/")
        assert all(d["namespace"].startswith("abfss://") for d in e["inputs"] + e["outputs"])


def test_bad_pipelines_are_refused_and_change_nothing(tarn, zones, tmp_path):
    raw_ds = unique("sales_raw_")
    zones.land("pos/sales.csv", GOOD)
    register_raw(tarn, zones, raw_ds, "pos/*.csv")

    def put(text, expect):
        f = tmp_path / "p.yaml"
        f.write_text(textwrap.dedent(text))
        return tarn_cli(tarn, zones.ws, "pipeline", "put", str(f), expect=expect)

    # Malformed file: its own name, line and column.
    r = put("version: 1\nname: p\nsteps:\n  - name: a\n    sqll: SELECT 1\n", 1)
    assert "p.yaml:5:5" in r.stderr, r.stderr
    # A cycle names its steps.
    r = put(f"""\
        version: 1
        name: cyc
        steps:
          - name: a
            inputs: {{x: b_out}}
            sql: SELECT * FROM x
            output: {{dataset: a_out, datastore: {zones.store['curated']}, path: a}}
          - name: b
            inputs: {{x: a_out}}
            sql: SELECT * FROM x
            output: {{dataset: b_out, datastore: {zones.store['curated']}, path: b}}
        """, 1)
    assert "cycle" in r.stderr and "a" in r.stderr and "b" in r.stderr, r.stderr
    # An unknown output datastore is refused when stored.
    r = put("""\
        version: 1
        name: nods
        steps:
          - name: a
            inputs: {x: whatever}
            sql: SELECT * FROM x
            output: {dataset: out, datastore: no_such_store, path: a}
        """, 3)
    assert "no_such_store" in r.stderr

    def failing_run(step_text, fragment):
        name = unique("bad-")
        f = tmp_path / f"{name}.yaml"
        f.write_text(f"version: 1\nname: {name}\nsteps:\n" + textwrap.indent(
            textwrap.dedent(step_text), "  "))
        out = run(tarn, zones.ws, f, expect=4)
        assert out["status"] == "failed" and fragment in out["error"], out
        return out

    store = zones.store["curated"]
    # A missing input dataset.
    failing_run(f"""\
        - name: a
          inputs: {{x: no_such_dataset}}
          sql: SELECT * FROM x
          output: {{dataset: o1, datastore: {store}, path: o1}}
        """, "no_such_dataset")
    # A check on an unknown column.
    failing_run(f"""\
        - name: a
          inputs: {{x: {raw_ds}}}
          sql: SELECT id FROM x
          output: {{dataset: o2, datastore: {store}, path: o2}}
          checks: [missing_count(nope) = 0]
        """, "nope")
    # SQL that tries to escape the lake: a local file, a URL, a second statement.
    for sql in ("SELECT * FROM read_csv('/etc/passwd')",
                "SELECT * FROM read_text('/etc/hostname')",
                "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')"):
        failing_run(f"""\
            - name: a
              inputs: {{x: {raw_ds}}}
              sql: "{sql}"
              output: {{dataset: o3, datastore: {store}, path: o3}}
            """, "may read only its inputs")
    failing_run(f"""\
        - name: a
          inputs: {{x: {raw_ds}}}
          sql: "SELECT 1 AS a; COPY x TO '/tmp/stolen.csv'"
          output: {{dataset: o4, datastore: {store}, path: o4}}
        """, "exactly one statement")
    assert not os.path.exists("/tmp/stolen.csv")
    # Nothing was published by any of them.
    for ds in ("o1", "o2", "o3", "o4"):
        tarn_cli(tarn, zones.ws, "dataset", "show", ds, expect=3)
    assert [p.name for p in zones.fs["curated"].get_paths() if not p.name.startswith(".tarn")] == []


def test_publishing_is_atomic_for_azure_sdk_readers(tarn, zones, tmp_path):
    """A reader that lists the product through Microsoft's SDK during repeated publishes always
    sees one whole version: the publishes alternate between two sets of partitions (0-39 and
    100-124), and every listing holds exactly one of the two sets."""
    flip_ds, prod_ds = unique("flip_raw_"), unique("flips_")
    sets = {"a": list(range(40)), "b": list(range(100, 125))}
    for key, values in sets.items():
        zones.land(f"flip/{key}/v.csv", "i\n" + "".join(f"{v}\n" for v in values))
    register_raw(tarn, zones, flip_ds, "flip/a/*.csv")
    name = unique("flip-")
    f = tmp_path / f"{name}.yaml"
    f.write_text(textwrap.dedent(f"""\
        version: 1
        name: {name}
        steps:
          - name: spread
            inputs: {{s: {flip_ds}}}
            sql: SELECT CAST(i AS BIGINT) AS i, 1 AS one FROM s
            output:
              dataset: {prod_ds}
              datastore: {zones.store['product']}
              path: flips
              partition_by: [i]
        """))
    assert run(tarn, zones.ws, f)["status"] == "succeeded"
    publishes = int(os.environ.get("TARN_PUBLISHES", "50"))
    stop = threading.Event()
    seen, errors = [], []

    def reader():
        fs = zones.fs["product"]
        while not stop.is_set():
            try:
                parts = frozenset(int(p.name.split("/i=")[1].split("/")[0])
                                  for p in fs.get_paths(path="flips") if not p.is_directory)
            except Exception as e:  # noqa: BLE001 - any failure is a finding
                errors.append(repr(e))
                continue
            seen.append(parts)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for n in range(publishes):
            register_raw(tarn, zones, flip_ds, "flip/%s/*.csv" % ("b" if n % 2 == 0 else "a"),
                         new_version=True)
            assert run(tarn, zones.ws, name)["status"] == "succeeded"
    finally:
        stop.set()
        t.join()
    assert errors == []
    whole = {frozenset(v) for v in sets.values()}
    assert len(seen) > publishes
    assert {s for s in seen if s not in whole} == set()
    assert {s for s in seen} == whole
    versions = cli_json(tarn, zones.ws, "dataset", "versions", prod_ds)["versions"]
    assert len(versions) == publishes + 1


@pytest.fixture
def crashy(tmp_path_factory):
    from conftest import _serve
    yield from _serve(tmp_path_factory, "crashy")


def test_kill_during_a_run_leaves_the_product_untouched(crashy, tmp_path):
    """kill -9 while a step writes: after the restart the run is marked failed, the product and
    its dataset are what they were, and the next run publishes."""
    tarn = crashy
    ws = unique("ws-")
    tarn_cli(tarn, None, "workspace", "create", ws)
    zones = Zones(tarn, ws)
    raw_ds, prod_ds = unique("sales_raw_"), unique("big_")
    zones.land("pos/sales.csv", GOOD)
    register_raw(tarn, zones, raw_ds, "pos/*.csv")
    name = unique("big-")
    f = tmp_path / f"{name}.yaml"

    def define(rows):
        write_busy_pipeline(f, name, raw_ds, prod_ds, zones.store["product"], "big", rows)

    define(1000)
    assert run(tarn, ws, f)["status"] == "succeeded"
    before = {p.name: p.etag for p in zones.fs["product"].get_paths(path="big")}
    define(60_000_000)
    tarn_cli(tarn, ws, "pipeline", "put", str(f))
    run_id = tarn_cli(tarn, ws, "pipeline", "run", name, "--no-wait").stdout.strip()
    deadline = time.monotonic() + 60
    while True:
        state = cli_json(tarn, ws, "pipeline", "status", run_id)
        if state["steps"] and state["steps"][0]["status"] == "running":
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    time.sleep(0.5)
    tarn.kill()
    tarn.start()
    r = tarn_cli(tarn, ws, "--json", "pipeline", "status", run_id, expect=4)
    after = json.loads(r.stdout)
    assert after["status"] == "failed" and "tarnd stopped" in after["error"], after
    zones.fs["product"] = tarn.datalake_service().get_file_system_client(
        zones.fs["product"].file_system_name)
    assert {p.name: p.etag for p in zones.fs["product"].get_paths(path="big")} == before
    assert cli_json(tarn, ws, "dataset", "show", prod_ds)["version"] == 1
    define(2000)
    assert run(tarn, ws, f)["status"] == "succeeded"
    assert cli_json(tarn, ws, "dataset", "show", prod_ds)["version"] == 2


def test_sdk_stores_runs_and_reports_a_pipeline(tarn, zones, tmp_path, capsys):
    """tarn.core.Pipeline: from a YAML file to a finished run with its report and history."""
    from tarn.core import Pipeline, PipelineRun, Workspace
    ws = Workspace.get(zones.ws, tarn_endpoint=tarn.url)
    raw_ds, cur_ds, prod_ds = unique("sales_raw_"), unique("sales_cur_"), unique("sales_prod_")
    zones.land("pos/sales.csv", GOOD)
    register_raw(tarn, zones, raw_ds, "pos/*.csv")
    f = write_pipeline(tmp_path, zones, unique("sdk-"), raw_ds, cur_ds, prod_ds)
    p = Pipeline.from_yaml(ws, str(f))
    assert [s["name"] for s in p.steps] == ["curate", "by_region"]
    run = p.submit()
    assert run.status in ("queued", "running", "succeeded")
    details = run.wait_for_completion(show_output=True)
    assert run.status == "succeeded" and details["steps"][1]["output"]["dataset"] == prod_ds
    assert "step by_region: succeeded" in capsys.readouterr().err
    assert [r.id for r in p.get_runs()] == [run.id]
    assert PipelineRun.get(ws, run.id).number == 1
    assert [x.name for x in Pipeline.list(ws)] == [f.stem]


def test_arrival_starts_a_run_and_a_failed_step_is_retried(tarn, zones, tmp_path):
    """A file landing under on_arrival's folder starts a run (trigger "arrival") once writes
    there are quiet; a run whose second step failed is retried from that step alone."""
    raw_ds, cur_ds, prod_ds = unique("sales_raw_"), unique("cur_"), unique("prod_")
    zones.land("pos/a/sales.csv", GOOD)
    register_raw(tarn, zones, raw_ds, "pos/a/*.csv")
    name = unique("arrive-")
    f = tmp_path / f"{name}.yaml"

    def define(threshold):
        f.write_text(textwrap.dedent(f"""\
            version: 1
            name: {name}
            on_arrival: [{{datastore: {zones.store['raw']}, path: pos}}]
            steps:
              - name: first
                inputs: {{s: {raw_ds}}}
                sql: SELECT CAST(id AS BIGINT) AS id, region FROM s
                output: {{dataset: {cur_ds}, datastore: {zones.store['curated']}, path: c}}
              - name: second
                inputs: {{c: {cur_ds}}}
                sql: SELECT region, count(*) AS n FROM c GROUP BY region
                output: {{dataset: {prod_ds}, datastore: {zones.store['product']}, path: p}}
                checks: [row_count > {threshold}]
            """))
        tarn_cli(tarn, zones.ws, "pipeline", "put", str(f))

    define(100)
    time.sleep(1.5)  # the scheduler picks the new folder to watch up within a second
    zones.land("pos/b/more.csv", GOOD)
    deadline = time.monotonic() + 30
    while True:
        runs = cli_json(tarn, zones.ws, "pipeline", "runs", name)["runs"]
        if runs and runs[0]["status"] in ("succeeded", "failed"):
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.3)
    assert len(runs) == 1 and runs[0]["trigger"] == "arrival"
    r = tarn_cli(tarn, zones.ws, "--json", "pipeline", "status", runs[0]["id"], expect=4)
    failed = json.loads(r.stdout)
    assert [s["status"] for s in failed["steps"]] == ["succeeded", "failed"]
    assert cli_json(tarn, zones.ws, "dataset", "show", cur_ds)["version"] == 1
    # Fixed, and retried from the failed step: the first step is not run again.
    define(0)
    retried = json.loads(tarn_cli(tarn, zones.ws, "--json", "pipeline", "retry",
                                  failed["id"]).stdout)
    assert retried["status"] == "succeeded", retried
    assert [s["status"] for s in retried["steps"]] == ["skipped", "succeeded"]
    assert retried["steps"][1]["inputs"][0]["version"] == 1
    assert cli_json(tarn, zones.ws, "dataset", "show", cur_ds)["version"] == 1
    assert cli_json(tarn, zones.ws, "dataset", "show", prod_ds)["version"] == 1
    # Writes under .tarn/ (staging, markers) and outside the folder start nothing.
    zones.land("elsewhere/x.csv", GOOD)
    time.sleep(3)
    assert len(cli_json(tarn, zones.ws, "pipeline", "runs", name)["runs"]) == 2


def test_openlineage_events_are_posted_to_openlineage_url(tmp_path_factory, tmp_path):
    """With OPENLINEAGE_URL set, each step's RunEvent is POSTed to <url>/api/v1/lineage as JSON,
    as an OpenLineage consumer (Marquez) receives it."""
    import http.server
    from conftest import _serve
    received = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], json.loads(body)))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    t = threading.Thread(target=receiver.serve_forever, daemon=True)
    t.start()
    os.environ["OPENLINEAGE_URL"] = "http://127.0.0.1:%d" % receiver.server_address[1]
    served = _serve(tmp_path_factory, "lineage")
    try:
        tarn = next(served)
        os.environ.pop("OPENLINEAGE_URL")
        ws = unique("ws-")
        tarn_cli(tarn, None, "workspace", "create", ws)
        zones = Zones(tarn, ws)
        raw_ds, cur_ds, prod_ds = unique("raw_"), unique("cur_"), unique("prod_")
        zones.land("pos/sales.csv", GOOD)
        register_raw(tarn, zones, raw_ds, "pos/*.csv")
        f = write_pipeline(tmp_path, zones, unique("ol-"), raw_ds, cur_ds, prod_ds)
        assert run(tarn, ws, f)["status"] == "succeeded"
    finally:
        os.environ.pop("OPENLINEAGE_URL", None)
        for _ in served:
            pass
        receiver.shutdown()
        receiver.server_close()
    assert [(p, ct) for p, ct, _ in received] == [("/api/v1/lineage", "application/json")] * 2
    events = [e for _, _, e in received]
    assert [e["job"]["name"] for e in events] == [f.stem + ".curate", f.stem + ".by_region"]
    assert all(e["eventType"] == "COMPLETE" for e in events)
    assert events[1]["inputs"][0]["facets"]["tarn_dataset"]["name"] == cur_ds
    assert events[1]["run"]["facets"]["parent"]["run"]["runId"] == events[0]["run"]["facets"][
        "parent"]["run"]["runId"]


def test_one_run_per_pipeline_at_a_time_and_the_schedule(tarn, zones, tmp_path):
    """Two runs of one pipeline: the second waits (queued) until the first has ended. A
    pipeline with a cron schedule is started by tarnd at the next minute (trigger "schedule")."""
    raw_ds, out_ds = unique("sales_raw_"), unique("slow_")
    zones.land("pos/sales.csv", GOOD)
    register_raw(tarn, zones, raw_ds, "pos/*.csv")
    name = unique("slow-")
    f = tmp_path / f"{name}.yaml"

    def define(schedule=""):
        write_busy_pipeline(f, name, raw_ds, out_ds, zones.store["product"], "slow", 3000000,
                            schedule)
        tarn_cli(tarn, zones.ws, "pipeline", "put", str(f))

    define()
    first = tarn_cli(tarn, zones.ws, "pipeline", "run", name, "--no-wait").stdout.strip()
    second = tarn_cli(tarn, zones.ws, "pipeline", "run", name, "--no-wait").stdout.strip()
    seen_waiting = False
    deadline = time.monotonic() + 120
    while True:
        # The second before the first: once the second runs, the first has ended for good.
        b = cli_json(tarn, zones.ws, "pipeline", "status", second)
        a = cli_json(tarn, zones.ws, "pipeline", "status", first)
        assert not (a["status"] in ("running", "publishing") and
                    b["status"] in ("running", "publishing")), (a["status"], b["status"])
        seen_waiting = seen_waiting or (a["status"] == "running" and b["status"] == "queued")
        if b["status"] == "succeeded":
            break
        assert time.monotonic() < deadline and b["status"] != "failed", b
        time.sleep(0.05)
    assert a["status"] == "succeeded" and seen_waiting
    assert b["started_time"] >= a["ended_time"]

    define('schedule: "* * * * *"')
    deadline = time.monotonic() + 75
    while True:
        runs = cli_json(tarn, zones.ws, "pipeline", "runs", name)["runs"]
        if runs[0]["trigger"] == "schedule" and runs[0]["status"] == "succeeded":
            break
        assert time.monotonic() < deadline, runs[0]
        time.sleep(1)
    assert runs[0]["created_by"] == tarn.account  # the owner: the key holder that stored it
    define()  # no schedule: no more runs
