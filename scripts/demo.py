#!/usr/bin/python3
"""Tarn's main-job demo: Microsoft's own Python DataLake SDK against a running tarnd.

    /usr/bin/python3 scripts/demo.py http://127.0.0.1:PORT      (or set TARN_URL)

It creates a filesystem, uploads a tree of files laid out as raw / curated / product zones,
renames a directory, lists the tree, downloads every file and verifies its bytes, and prints
what it did. It exits non-zero on any mismatch or error.

Then the seed's flow as a team runs it: the workspace catalog (tarn.core, azureml.core's API)
with a versioned dataset that pins its bytes; the raw / curated / product zones applied from a
lake.yaml (`tarn lake apply`) and a landing ingested into raw as one batch (`tarn ingest`); and, when tarnd's https endpoint is given, the
seed's own snippet run as a service principal rather than with the account key: the `tarn` CLI
makes the principal and its roles, the snippet registers the lake as a datastore and reads a
dataset with auth=ServicePrincipalAuthentication(...), and revoking the role stops the next read.

Options: --keep leaves the demo filesystem in place (it is deleted at the end otherwise).
Env: TARN_ACCOUNT, TARN_KEY override the development account and its well-known key;
TARN_HTTPS_URL, TARN_CA_FILE (tarnd's https URL and DIR/tls/cert.pem) and TARN_CLI (the tarn
binary) enable the service principal part.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time

ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
       "K1SZFPTOtr/KBHBeksoGMGw==")


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def rate(nbytes, seconds):
    return f"{human(nbytes / seconds)}/s" if seconds > 0 else "-"


def build_tree(rng):
    """A few dozen files in nested zone directories: {path: bytes}."""
    files = {}
    for month in ("01", "02", "03"):
        for day in ("01", "15"):
            rows = "\n".join(f"{month}-{day},{i},{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
                             for i in range(rng.randint(50, 400)))
            files[f"raw/sales/2024/{month}/sales-{day}.csv"] = \
                ("date,order,amount\n" + rows + "\n").encode()
    for s in range(6):
        files[f"raw/sensors/device-{s:02d}.jsonl"] = "".join(
            f'{{"device": {s}, "t": {t}, "v": {rng.random():.5f}}}\n'
            for t in range(rng.randint(100, 2000))).encode()
    for i in range(8):
        files[f"raw/images/batch-{i // 4}/img-{i:03d}.bin"] = rng.randbytes(
            rng.randint(20_000, 600_000))
    files["raw/images/README.md"] = b"# camera dumps\nBinary frames, one file per frame.\n"
    for part in range(4):
        files[f"curated/customers/part-{part:05d}.parquet"] = rng.randbytes(
            rng.randint(100_000, 2_500_000))
    files["curated/customers/_SUCCESS"] = b""
    for m in ("model-a", "model-b"):
        files[f"product/scores/{m}/scores.csv"] = "".join(
            f"{i},{rng.random():.6f}\n" for i in range(1000)).encode()
        files[f"product/scores/{m}/metrics.json"] = \
            f'{{"auc": {rng.random():.4f}, "rows": 1000}}'.encode()
    return files


def dataset_demo(base, account, fs, failures):
    """The workspace catalog with tarn.core (azureml.core's API): a versioned dataset that pins
    the bytes it was registered with, loaded into pandas."""
    try:
        from tarn.core import Dataset, Datastore, Workspace
    except ImportError as e:
        failures.append(f"tarn.core is not importable ({e}); build tarn_native and set "
                        "PYTHONPATH=build/release/python")
        return
    fs.get_file_client("product/sales/eu.csv").upload_data(
        b"region,amount\neu,10.5\neu,20\n", overwrite=True)
    fs.get_file_client("product/sales/us.csv").upload_data(b"region,amount\nus,7\n",
                                                           overwrite=True)
    ws = Workspace.create("demo-ws", subscription_id="demo", resource_group="demo",
                          exist_ok=True, tarn_endpoint=base, account=account)
    store = Datastore.register_azure_data_lake_gen2(ws, "product", fs.file_system_name, account,
                                                    account_key=KEY, overwrite=True)
    ds = Dataset.Tabular.from_delimited_files(path=[(store, "product/sales/*.csv")])
    ds = ds.register(ws, "sales", description="demo sales", create_new_version=True)
    v1 = ds.version
    df = Dataset.get_by_name(ws, "sales", version=v1).to_pandas_dataframe()
    print(f"6. registered dataset 'sales' version {v1} over 2 CSV files; pandas sees "
          f"{len(df)} rows, total amount {df['amount'].sum():g}")
    fs.get_file_client("product/sales/eu.csv").upload_data(b"region,amount\neu,999\n",
                                                           overwrite=True)
    again = Dataset.get_by_name(ws, "sales", version=v1).to_pandas_dataframe()
    print(f"7. overwrote eu.csv in the lake; version {v1} still reads {len(again)} rows, total "
          f"{again['amount'].sum():g} (its bytes are pinned, nothing was copied)")
    if len(again) != 3 or abs(again["amount"].sum() - 37.5) > 1e-9:
        failures.append(f"dataset version {v1} changed after the overwrite: {again}")
    ds.unregister_all_versions()


def tarn_cli(*args):
    """The tarn CLI's JSON answer (as the administrator: the account key, loopback only)."""
    import json
    import subprocess
    out = subprocess.run([os.environ["TARN_CLI"], "--json", *args], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"tarn {' '.join(args)}: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip() else {}


SALES_DAY1 = ("id,region,day,amount\n1,north,2024-06-01,10.5\n2,south,2024-06-01,7\n"
              "2,south,2024-06-01,7\n3,north,2024-06-01,\n")
SALES_DAY2 = "id,region,day,amount\n5,north,2024-06-02,3\n6,east,2024-06-02,4.25\n"


SALES_PIPELINE = """\
version: 1
name: sales
steps:
  - name: curate
    inputs: {sales: pos_raw}
    sql: |
      SELECT DISTINCT CAST(id AS BIGINT) AS id, region, CAST(day AS DATE) AS day,
             TRY_CAST(amount AS DOUBLE) AS amount
      FROM sales
    expectations:
      - {name: amount_present, expect: amount IS NOT NULL, on_fail: drop}
    output: {dataset: sales_curated, datastore: curated_zone, path: sales/orders,
             partition_by: [region]}
    checks: [row_count > 0, duplicate_count(id) = 0]
  - name: by_region
    inputs: {orders: sales_curated}
    sql: |
      SELECT region, day, count(*) AS orders, sum(amount) AS revenue
      FROM orders GROUP BY region, day
    output: {dataset: sales_by_region, datastore: product_zone, path: forecasting/sales_by_region}
    checks: [row_count > 0, missing_count(revenue) = 0]
"""


def pipelines_demo(tmp, zones, service, failures):
    """raw -> curated -> product with `tarn pipeline run`: a bad batch fails the gate and the
    product stays as it was; the fixed batch publishes; `tarn lineage` traces it back."""
    ws = ("--workspace", "demo-ws")
    for zone in ("curated", "product"):
        tarn_cli(*ws, "datastore", "register", f"{zone}_zone", "--filesystem", zones[zone],
                 "--account-key", KEY)
    spec = tmp / "sales.yaml"
    spec.write_text(SALES_PIPELINE)

    def run():
        out = subprocess.run([os.environ["TARN_CLI"], "--json", *ws, "pipeline", "run",
                              str(spec)], capture_output=True, text=True, timeout=300)
        return json.loads(out.stdout)

    def product():
        fs = service.get_file_system_client(zones["product"])
        return {p.name: p.etag for p in fs.get_paths(path="forecasting/sales_by_region")}

    first = run()
    cur, prod = first["steps"]
    print(f"10a. tarn pipeline run sales: {first['status']}; curate read {cur['rows_in']} rows, "
          f"wrote {cur['rows_out']} (zstd Parquet by region, {cur['rows_quarantined']} "
          f"quarantined with the reason), checks passed; by_region published "
          f"{prod['output']['dataset']} version {prod['output']['version']}")
    if first["status"] != "succeeded":
        failures.append(f"the sales pipeline failed: {first.get('error')}")
        return
    def land_day3(folder, second_id):
        d = tmp / folder
        d.mkdir()
        (d / "day3.csv").write_text("id,region,day,amount\n7,west,2024-06-03,5\n"
                                    f"{second_id},east,2024-06-03,6\n")
        tarn_cli(*ws, "ingest", str(d), "--source", "pos", "-f", zones["raw"], "--dataset",
                 "pos_raw", "--format", "csv")

    before = product()
    land_day3("bad", 7)
    gated = run()
    failed_check = [c for c in gated["steps"][0].get("checks", []) if c["outcome"] == "fail"]
    print(f"10b. a bad batch (id 7 twice): the run {gated['status']}, gate "
          f"'{failed_check[0]['check'] if failed_check else '?'}' = "
          f"{failed_check[0].get('value') if failed_check else '?'}; nothing published, the "
          f"Azure SDK still lists the same product files")
    if gated["status"] != "failed" or product() != before:
        failures.append("a failing gate changed the product")
    land_day3("fixed", 8)
    good = run()
    version = good["steps"][1].get("output", {}).get("version")
    tree = subprocess.run([os.environ["TARN_CLI"], *ws, "lineage", "sales_by_region"],
                          capture_output=True, text=True, timeout=60).stdout
    print(f"10c. the fixed batch: {good['status']}, sales_by_region version {version}; "
          f"tarn lineage sales_by_region:")
    print("\n".join("       " + line for line in tree.splitlines()))
    if good["status"] != "succeeded" or "file abfss://" not in tree:
        failures.append(f"the fixed batch did not publish with lineage: {good.get('error')}")
        return
    training_demo(version, failures)


TRAIN = """
import json, os, sys
import mlflow
import pandas as pd
from sklearn.linear_model import LinearRegression
version = int(sys.argv[1])
df = pd.read_json(sys.argv[2], orient="records")
mlflow.set_experiment("sales-forecast")
with mlflow.start_run() as run:  # the submitted run (MLFLOW_RUN_ID)
    mlflow.log_input(mlflow.data.from_pandas(df, name=f"sales_by_region:{version}"),
                     context="training")
    model = LinearRegression().fit(df[["orders"]], df["revenue"])
    mlflow.log_params({"dataset": "sales_by_region", "version": version, "rows": len(df)})
    for step, n in enumerate(range(1, 4)):
        mlflow.log_metric("predicted_revenue", float(model.predict([[n]])[0]), step=step)
    mlflow.log_metric("r2", float(model.score(df[["orders"]], df["revenue"])))
    mlflow.sklearn.log_model(model, name="model")
mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", "sales-forecast")
loaded = mlflow.pyfunc.load_model(f"models:/sales-forecast/{mv.version}")
print(json.dumps({"run_id": run.info.run_id, "model_version": mv.version,
                  "prediction": float(loaded.predict(df[["orders"]].head(1))[0])}))
"""


def training_demo(version, failures):
    """A training run on the product dataset's pinned version, submitted to the workspace's
    local compute target as a service principal with the AzureML Data Scientist role: tarnd
    runs it as an unprivileged user, in the project's .venv (the real mlflow client), with a
    short-lived token of its submitter; tarn.core sees the same run."""
    from pathlib import Path
    import tempfile
    venv = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python"
    https, ca = os.environ.get("TARN_HTTPS_URL"), os.environ.get("TARN_CA_FILE")
    if not (venv.exists() and https and ca):
        print("10d. (training part skipped: no .venv, TARN_HTTPS_URL or TARN_CA_FILE)")
        return
    ws = ("--workspace", "demo-ws")
    tarn_cli(*ws, "datastore", "set-default", "product_zone")
    tenant = tarn_cli("tenant", "create", "--name", "training")["tenant_id"]
    sp = tarn_cli("principal", "create", "--tenant", tenant, "--name", "trainer")
    secret = tarn_cli("secret", "add", sp["object_id"], "--days", "1")["secret"]
    tarn_cli("role", "assign", "--principal", sp["object_id"], "--role",
             "AzureML Data Scientist", "--scope", "/workspaces/demo-ws")
    from tarn.core import (Dataset, Environment, Experiment, ScriptRunConfig,
                           ServicePrincipalAuthentication, Workspace)
    trainer = Workspace.get("demo-ws", tarn_endpoint=https, auth=ServicePrincipalAuthentication(
        tenant, sp["app_id"], secret, ca_file=ca))
    # The pinned version's rows go with the script, in its source directory.
    df = Dataset.get_by_name(trainer, "sales_by_region", version=version).to_pandas_dataframe()
    env = Environment("mlflow-venv")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = str(venv)
    with tempfile.TemporaryDirectory() as src:
        Path(src, "train.py").write_text(TRAIN)
        df[["region", "orders", "revenue"]].to_json(Path(src, "rows.json"), orient="records")
        run = Experiment(trainer, "sales-forecast").submit(
            ScriptRunConfig(src, "train.py", arguments=[version, "rows.json"], environment=env,
                            max_run_duration_seconds=600), run_name="by-region")
    details = run.wait_for_completion(raise_on_error=False)
    log, offset = "", 0
    while True:
        page = trainer._client.workspace_api("GET", "demo-ws", f"jobs/{run.id}/logs", None,
                                             {"offset": str(offset)})
        log += page["text"]
        if page["next_offset"] >= page["size"]:
            break
        offset = page["next_offset"]
    if details["status"] != "Completed":
        failures.append(f"the training run ended {details['status']}: " + log[-3000:])
        return
    got = json.loads([line for line in log.splitlines() if line.startswith("{")][-1])
    metrics = run.get_metrics()
    print(f"10d. a training run on sales_by_region version {version}, submitted to the local "
          f"compute target (run as an unprivileged user, in the .venv, logging with the real "
          f"mlflow client to https://.../workspaces/demo-ws/mlflow): run {run.id[:8]} "
          f"{details['status']}, r2 {metrics.get('r2', float('nan')):.3f}, model registered as "
          f"sales-forecast version {got['model_version']} and loaded back to predict "
          f"{got['prediction']:.2f}; tarn.core's Run shows the same metrics "
          f"({sorted(metrics)})")
    if got["run_id"] != run.id:
        failures.append(f"mlflow logged to run {got['run_id']}, not the submitted {run.id}")
    if sorted(metrics) != ["predicted_revenue", "r2"] or len(metrics["predicted_revenue"]) != 3:
        failures.append(f"tarn.core saw other metrics than mlflow logged: {metrics}")
        return
    batch_inference_demo(trainer, env, version, got["model_version"], failures)


SCORE = """
import glob, os, sys
import mlflow
import pandas as pd
sales, out, model_version = sys.argv[1], sys.argv[2], sys.argv[3]
df = pd.concat(pd.read_parquet(p) for p in
               sorted(glob.glob(os.path.join(sales, "**", "*.parquet"), recursive=True)))
model = mlflow.pyfunc.load_model(f"models:/sales-forecast/{model_version}")
df["predicted_revenue"] = model.predict(df[["orders"]])
df[["region", "day", "orders", "predicted_revenue"]].to_csv(
    os.path.join(out, "predictions.csv"), index=False)
mlflow.log_metric("rows_scored", len(df))
"""


def batch_inference_demo(trainer, env, version, model_version, failures):
    """Batch inference: a run reads the product's pinned version (downloaded into the run's
    directory), scores it with the registered model, and its predictions go back to the
    product zone as a registered dataset version with lineage, when the run completes."""
    from pathlib import Path
    import tempfile
    from tarn.core import (Dataset, Datastore, Experiment, OutputFileDatasetConfig,
                           ScriptRunConfig)
    sales = Dataset.get_by_name(trainer, "sales_by_region", version=version)
    product = Datastore.get(trainer, "product_zone")
    predictions = OutputFileDatasetConfig(
        name="predictions",
        destination=(product, "forecasting/predictions/{run-id}"))
    predictions.read_delimited_files().register_on_complete("sales_predictions")
    with tempfile.TemporaryDirectory() as src:
        Path(src, "score.py").write_text(SCORE)
        run = Experiment(trainer, "sales-forecast").submit(ScriptRunConfig(
            src, "score.py", environment=env, max_run_duration_seconds=600,
            arguments=[sales.as_named_input("sales").as_download(), predictions,
                       model_version]), run_name="batch-inference")
    details = run.wait_for_completion(raise_on_error=False)
    if details["status"] != "Completed":
        failures.append(f"the batch-inference run ended {details['status']}: "
                        f"{details.get('error')}")
        return
    out = Dataset.get_by_name(trainer, "sales_predictions")
    rows = len(out.to_pandas_dataframe())
    tree = subprocess.run([os.environ["TARN_CLI"], "--workspace", "demo-ws", "lineage",
                           "sales_predictions"], capture_output=True, text=True,
                          timeout=60).stdout
    print(f"10e. batch inference: run {run.id[:8]} read sales_by_region version {version} and "
          f"scored it with sales-forecast version {model_version}; its {rows} predictions went "
          f"back to the product zone as sales_predictions version {out.version} "
          f"(forecasting/predictions/{run.id[:8]}...); tarn lineage sales_predictions:")
    print("\n".join("       " + line for line in tree.splitlines()))
    if rows == 0 or "sales_by_region" not in tree or "pos_raw" not in tree:
        failures.append("the predictions were not registered with lineage back to raw")


def zones_demo(base, service, failures):
    """The raw / curated / product zones as code (`tarn lake apply lake.yaml`), then a landing
    of sales files ingested into raw as one batch with its manifest (`tarn ingest`)."""
    if not os.environ.get("TARN_CLI"):
        print("8. (zones part skipped: TARN_CLI is not set)")
        return
    import tempfile
    from pathlib import Path
    os.environ["TARN_ENDPOINT"] = base
    tenant = tarn_cli("tenant", "create", "--name", "zones")["tenant_id"]
    tag = f"{int(time.time()) % 1000000}"
    zones = {z: f"{z}-{tag}" for z in ("raw", "curated", "product")}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            layout = Path(tmp) / "lake.yaml"
            layout.write_text(
                f"version: 1\ntenant: {tenant}\nzones:\n"
                f"  raw: {{filesystem: {zones['raw']}, domains: [pos]}}\n"
                f"  curated: {{filesystem: {zones['curated']}, domains: [sales, finance]}}\n"
                f"  product: {{filesystem: {zones['product']}, domains: [forecasting]}}\n"
                "groups: [data-engineering, sales-analysts]\naccess:\n"
                "  - {group: data-engineering, zone: raw, write: true}\n"
                "  - {group: data-engineering, zone: curated, write: true}\n"
                "  - {group: sales-analysts, zone: curated, domain: sales, read: true}\n"
                "retention: {raw_batches_days: 365, failed_staging_days: 14}\n")
            applied = tarn_cli("lake", "apply", str(layout))["applied"]
            again = tarn_cli("lake", "apply", str(layout))["applied"]
            drift = tarn_cli("lake", "check", str(layout))["drift"]
            print(f"8. tarn lake apply lake.yaml: {len(applied)} changes (zone filesystems "
                  f"{', '.join(zones.values())}, domain folders, 2 groups, role assignments, "
                  f"default ACLs); applied again: {len(again)} changes; drift: {len(drift)}")
            if again or drift:
                failures.append(f"lake apply is not idempotent: {again} {drift}")
            landing = Path(tmp) / "landing"
            landing.mkdir()
            (landing / "day1.csv").write_text(SALES_DAY1)
            (landing / "day2.csv").write_text(SALES_DAY2)
            tarn_cli("--workspace", "demo-ws", "datastore", "register", "raw_zone",
                     "--filesystem", zones["raw"], "--account-key", KEY)
            batch = tarn_cli("--workspace", "demo-ws", "ingest", str(landing), "--source", "pos",
                             "-f", zones["raw"], "--dataset", "pos_raw", "--format", "csv")
            m, v = batch["manifest"], batch["dataset"]
            print(f"9. tarn ingest: {m['totals']['files']} files, {m['totals']['rows']} rows "
                  f"landed as one batch at {zones['raw']}/{batch['path']}, with a manifest of "
                  f"sizes, MD5s, row counts and schemas; registered as dataset "
                  f"'{v['name']}' version {v['version']} ({v['row_count']} rows)")
            seen = [p.name for p in service.get_file_system_client(zones["raw"]).get_paths(
                path=batch["path"])]
            if len(seen) != 3:
                failures.append(f"the batch holds {seen}, not 2 files and the manifest")
            dup = tarn_cli("--workspace", "demo-ws", "ingest", str(landing), "--source", "pos",
                           "-f", zones["raw"], "--dataset", "pos_raw", "--format", "csv")
            print(f"10. the same files again: reported as already landed "
                  f"(duplicate={dup['duplicate']}), nothing uploaded, still version "
                  f"{dup['dataset']['version']}")
            if not dup["duplicate"] or dup["path"] != batch["path"] or \
                    dup["dataset"]["version"] != v["version"]:
                failures.append("re-ingesting identical content was not detected")
            pipelines_demo(Path(tmp), zones, service, failures)
    finally:
        for fs_name in zones.values():
            try:
                service.delete_file_system(fs_name)
            except Exception:  # not created
                pass


def service_principal_demo(base, account, fs, failures):
    """The seed's snippet as a data scientist's service would run it: no account key anywhere,
    a service principal whose workspace role and storage role decide what it may do."""
    https, ca = os.environ.get("TARN_HTTPS_URL"), os.environ.get("TARN_CA_FILE")
    if not (https and ca and os.environ.get("TARN_CLI")):
        print("11. (service principal part skipped: TARN_HTTPS_URL, TARN_CA_FILE and TARN_CLI "
              "are not set)")
        return
    from tarn.core import UserErrorException
    from tarn.core.authentication import ServicePrincipalAuthentication
    from tarn.core.dataset import Dataset
    from tarn.core.datastore import Datastore
    from tarn.core.workspace import Workspace
    os.environ["TARN_ENDPOINT"] = base
    tenant = tarn_cli("tenant", "create", "--name", "demo")["tenant_id"]
    sp = tarn_cli("principal", "create", "--tenant", tenant, "--name", "seed-trainer")
    secret = tarn_cli("secret", "add", sp["object_id"], "--days", "1")["secret"]
    storage_role = tarn_cli("role", "assign", "--principal", sp["object_id"], "--role",
                            "Storage Blob Data Reader", "--scope",
                            f"/{account}/{fs.file_system_name}")
    tarn_cli("role", "assign", "--principal", sp["object_id"], "--role",
             "AzureML Data Scientist", "--scope", "/workspaces/demo-ws")
    print(f"11. tarn CLI: tenant {tenant}, service principal 'seed-trainer' with Storage Blob "
          f"Data Reader on the filesystem and AzureML Data Scientist on demo-ws")
    # --- the seed's snippet, its imports changed, signed in as the service principal ---
    datastore_name = "adlsg1"
    auth = ServicePrincipalAuthentication(tenant, sp["app_id"], secret, ca_file=ca)
    workspace = Workspace.get("demo-ws", auth=auth, tarn_endpoint=https)
    Datastore.register_azure_data_lake(workspace, datastore_name, fs.file_system_name,
                                       tenant, sp["app_id"], secret, overwrite=True)
    # --- end of snippet ---
    store = Datastore.get(workspace, datastore_name)
    ds = Dataset.Tabular.from_delimited_files(path=[(store, "product/sales/*.csv")])
    ds = ds.register(workspace, "sales_by_service", create_new_version=True)
    df = Dataset.get_by_name(workspace, "sales_by_service",
                             version=ds.version).to_pandas_dataframe()
    print(f"12. the seed's snippet ran with ServicePrincipalAuthentication over {https}, no key: "
          f"datastore '{datastore_name}' registered, dataset read into pandas ({len(df)} rows)")
    tarn_cli("role", "remove", storage_role["id"])
    try:
        Dataset.get_by_name(workspace, "sales_by_service").to_pandas_dataframe()
        failures.append("a read through the datastore still worked after its principal's role "
                        "was removed")
    except UserErrorException as e:
        print(f"13. removed the principal's storage role: the next read is refused "
              f"({e.code})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", nargs="?", default=os.environ.get("TARN_URL"),
                    help="tarnd URL, e.g. http://127.0.0.1:41234 (default: $TARN_URL)")
    ap.add_argument("--keep", action="store_true", help="keep the demo filesystem")
    args = ap.parse_args()
    if not args.url:
        ap.error("give the tarnd URL as the first argument or in TARN_URL")

    try:
        from azure.core.exceptions import AzureError
        from azure.storage.filedatalake import DataLakeServiceClient
    except ImportError as e:
        print(f"demo: the Azure SDK is missing ({e}); run with /usr/bin/python3 "
              "(Debian python3-azure)", file=sys.stderr)
        return 2

    account = os.environ.get("TARN_ACCOUNT", ACCOUNT)
    key = os.environ.get("TARN_KEY", KEY)
    base = args.url.rstrip("/")
    if base.endswith("/" + account):
        base = base[: -len(account) - 1]
    conn = (f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
            f"BlobEndpoint={base}/{account};")

    rng = random.Random(20240607)
    files = build_tree(rng)
    total_bytes = sum(len(v) for v in files.values())
    fs_name = f"demo-{int(time.time())}-{os.getpid()}"
    failures = []
    timings = {}

    print(f"Tarn demo against {base}/{account}")
    print("  client: Microsoft azure-storage-file-datalake (Python), Shared Key auth")
    service = DataLakeServiceClient.from_connection_string(conn, retry_total=0,
                                                           connection_timeout=10,
                                                           read_timeout=120)
    fs = None
    try:
        t0 = time.perf_counter()
        fs = service.create_file_system(fs_name)
        timings["create filesystem"] = time.perf_counter() - t0
        print(f"\n1. created filesystem '{fs_name}' "
              f"({timings['create filesystem'] * 1000:.1f} ms)")

        t0 = time.perf_counter()
        for path, data in files.items():
            fc = fs.get_file_client(path)
            if data:
                fc.upload_data(data, overwrite=True, chunk_size=1024 * 1024)
            else:
                fc.create_file()  # upload_data() skips empty payloads entirely
        timings["upload"] = time.perf_counter() - t0
        dirs = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
        print(f"2. uploaded {len(files)} files, {human(total_bytes)}, into {len(dirs)} "
              f"directories in {timings['upload']:.2f} s "
              f"({rate(total_bytes, timings['upload'])}, "
              f"{len(files) / timings['upload']:.0f} files/s)")

        src_dir, dst_dir = "raw/sales", "curated/sales"
        moved = [p for p in files if p.startswith(src_dir + "/")]
        t0 = time.perf_counter()
        fs.get_directory_client(src_dir).rename_directory(f"{fs_name}/{dst_dir}")
        timings["rename"] = time.perf_counter() - t0
        expected = {(dst_dir + p[len(src_dir):] if p.startswith(src_dir + "/") else p): d
                    for p, d in files.items()}
        print(f"3. renamed directory '{src_dir}' -> '{dst_dir}' ({len(moved)} files inside) "
              f"in {timings['rename'] * 1000:.1f} ms, one atomic operation")
        if fs.get_directory_client(src_dir).exists():
            failures.append(f"'{src_dir}' still exists after the rename")

        t0 = time.perf_counter()
        listing = list(fs.get_paths(recursive=True))
        timings["list"] = time.perf_counter() - t0
        listed_files = {p.name: p.content_length for p in listing if not p.is_directory}
        listed_dirs = [p.name for p in listing if p.is_directory]
        print(f"4. listed {len(listing)} paths ({len(listed_files)} files, {len(listed_dirs)} "
              f"directories) in {timings['list'] * 1000:.1f} ms:")
        for zone in ("raw", "curated", "product"):
            zf = [n for n in listed_files if n.startswith(zone + "/")]
            print(f"     {zone + '/':9s} {len(zf):3d} files  "
                  f"{human(sum(listed_files[n] for n in zf)):>10s}")
        if set(listed_files) != set(expected):
            failures.append(f"listing differs: missing {sorted(set(expected) - set(listed_files))}"
                            f", unexpected {sorted(set(listed_files) - set(expected))}")
        for name, size in listed_files.items():
            if name in expected and size != len(expected[name]):
                failures.append(f"{name}: listed size {size}, expected {len(expected[name])}")

        t0 = time.perf_counter()
        verified = 0
        for path, data in sorted(expected.items()):
            got = fs.get_file_client(path).download_file().readall()
            if got != data:
                failures.append(f"{path}: downloaded {len(got)} bytes "
                                f"(md5 {hashlib.md5(got).hexdigest()}), expected {len(data)} "
                                f"bytes (md5 {hashlib.md5(data).hexdigest()})")
            else:
                verified += 1
        timings["download"] = time.perf_counter() - t0
        print(f"5. downloaded and verified {verified}/{len(expected)} files, "
              f"{human(total_bytes)} in {timings['download']:.2f} s "
              f"({rate(total_bytes, timings['download'])})")
        dataset_demo(base, account, fs, failures)
        zones_demo(base, service, failures)
        service_principal_demo(base, account, fs, failures)
    except AzureError as e:
        failures.append(f"request failed: {type(e).__name__}: {e}")
    finally:
        if fs is not None and not args.keep:
            try:
                fs.delete_file_system()
                print(f"14. deleted filesystem '{fs_name}'")
            except AzureError as e:
                failures.append(f"cleanup failed: {e}")
        elif fs is not None:
            print(f"14. kept filesystem '{fs_name}'")

    print()
    if failures:
        print(f"DEMO FAILED: {len(failures)} problem(s)")
        for f in failures[:30]:
            print("  -", f)
        return 1
    print(f"DEMO OK: {len(files)} files, {human(total_bytes)} uploaded, renamed, listed, "
          f"downloaded and verified byte for byte; a dataset version kept its registered rows; "
          f"the zones were applied from lake.yaml, a landing ingested into raw once, and a "
          f"pipeline published curated and product only past its gate, with lineage; a "
          f"training run on the product, submitted to the local compute target and logged "
          f"with the real mlflow client, registered a model that tarn.core's Run sees too; a "
          f"batch-inference run wrote its predictions back to product as a registered version "
          f"with lineage to raw; the seed's snippet ran as a service principal, and revoking "
          f"its role stopped reads.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
