"""GET /<account>/<fs>/<path>?action=preview (docs/api.md): the first rows of a CSV, Parquet or
JSON-lines file, read by tarnd's tabular engine, authorized exactly as a read of the file: the
account key, a SAS with read, a bearer with a role or the ACLs. Files are written with the
DataLake SDK; Parquet with pyarrow where the interpreter has it."""

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from azure.storage.filedatalake import FileSasPermissions, generate_file_sas

from identity_admin import Directory
from sharedkey import ACCOUNT, ACCOUNT_KEY, RawClient
from tarn_harness import unique_name

CSV = b"region,amount,day\nnorth,10.5,2024-01-02\n\"so,uth\",7,2024-01-03\n" + b"".join(
    b"east,%d,2024-02-01\n" % i for i in range(50))


@pytest.fixture(scope="module")
def lake(tarn):
    fsc = tarn.datalake_service().create_file_system(unique_name("preview"))
    fsc.get_file_client("sales/s.csv").upload_data(CSV, overwrite=True)
    fsc.get_file_client("events/e.jsonl").upload_data(
        b'{"id":1,"tags":["a"],"ok":true}\n{"id":2,"tags":[],"ok":false}\n', overwrite=True)
    fsc.get_file_client("notes/readme").upload_data(b"a,b\n1,2\n", overwrite=True)
    fsc.get_file_client("bad/broken.parquet").upload_data(b"PAR1 not really", overwrite=True)
    return fsc


def preview(tarn, fs, path, **query):
    q = [("action", "preview")] + list(query.items())
    return RawClient(tarn).request("GET", f"/{ACCOUNT}/{fs}/{path}", q)


def test_csv_first_rows_typed(tarn, lake):
    r = preview(tarn, lake.file_system_name, "sales/s.csv", rows="5")
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    body = json.loads(r.body)
    assert body["format"] == "csv"
    assert [c["name"] for c in body["columns"]] == ["region", "amount", "day"]
    assert [c["type"] for c in body["columns"]][:2] == ["string", "double"]
    assert len(body["rows"]) == 5
    assert body["rows"][0][:2] == ["north", 10.5]
    assert body["rows"][1][0] == "so,uth"
    props = lake.get_file_client("sales/s.csv").get_file_properties()
    assert body["etag"] == props.etag and body["size"] == len(CSV)


def test_json_lines_and_the_default_row_count(tarn, lake):
    body = json.loads(preview(tarn, lake.file_system_name, "events/e.jsonl").body)
    assert body["format"] == "jsonl"
    assert [c["name"] for c in body["columns"]] == ["id", "tags", "ok"]
    assert body["rows"][0][0] == 1 and body["rows"][1][2] is False
    body = json.loads(preview(tarn, lake.file_system_name, "sales/s.csv").body)
    assert len(body["rows"]) == 20  # the default


def test_parquet(tarn, lake):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(100)), "name": [f"n{i}" for i in range(100)]}), buf)
    lake.get_file_client("p/t.parquet").upload_data(buf.getvalue(), overwrite=True)
    body = json.loads(preview(tarn, lake.file_system_name, "p/t.parquet", rows="3").body)
    assert body["format"] == "parquet"
    assert body["rows"] == [[0, "n0"], [1, "n1"], [2, "n2"]]


def test_what_it_refuses_says_why(tarn, lake):
    fs = lake.file_system_name
    r = preview(tarn, fs, "notes/readme")
    assert r.status == 400 and r.error_code == "InvalidQueryParameterValue", r
    assert b"format=csv" in r.body
    assert json.loads(preview(tarn, fs, "notes/readme", format="csv").body)["rows"] == [[1, 2]]
    for rows in ("0", "101", "x", "-1"):
        r = preview(tarn, fs, "sales/s.csv", rows=rows)
        assert r.status == 400 and r.error_code == "InvalidQueryParameterValue", (rows, r)
    r = preview(tarn, fs, "sales/s.csv", format="xlsx")
    assert r.status == 400, r
    r = preview(tarn, fs, "sales")
    assert r.status == 409, r
    r = preview(tarn, fs, "bad/broken.parquet")
    assert r.status == 400 and b"does not read as parquet" in r.body, r
    r = preview(tarn, fs, "nothing/here.csv")
    assert r.status == 404, r


def test_authorized_as_a_read_of_the_file(tarn, lake):
    fs = lake.file_system_name
    # Anonymous: nothing (a private filesystem).
    r = requests.get(f"{tarn.url}/{ACCOUNT}/{fs}/sales/s.csv?action=preview", timeout=10)
    assert r.status_code in (401, 403, 404), r.status_code
    # A SAS with read may preview; one without read may not.
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    for perms, ok in ((FileSasPermissions(read=True), True),
                      (FileSasPermissions(write=True), False)):
        sas = generate_file_sas(ACCOUNT, fs, "sales", "s.csv", ACCOUNT_KEY, perms, expiry=expiry)
        r = requests.get(f"{tarn.url}/{ACCOUNT}/{fs}/sales/s.csv?action=preview&{sas}",
                         timeout=10)
        assert (r.status_code == 200) == ok, (perms, r.status_code, r.text)
    # A person: a role decides, then the ACLs.
    d = Directory(tarn)
    tenant = d.tenant()
    sp = d.service_principal(tenant, "viewer")
    tok = requests.post(f"{tarn.https_url}/{tenant}/oauth2/v2.0/token",
                        data={"grant_type": "client_credentials", "client_id": sp["app_id"],
                              "client_secret": sp["secret"],
                              "scope": "https://storage.azure.com/.default"},
                        verify=tarn.ca_file, timeout=30).json()["access_token"]

    def as_sp():
        return requests.get(f"{tarn.https_url}/{ACCOUNT}/{fs}/sales/s.csv?action=preview",
                            headers={"Authorization": f"Bearer {tok}",
                                     "x-ms-version": "2021-10-04"},
                            verify=tarn.ca_file, timeout=10)

    r = as_sp()
    assert r.status_code == 403 and r.headers["x-ms-error-code"] == \
        "AuthorizationPermissionMismatch", r.text
    d.assign(sp["object_id"], "Storage Blob Data Reader", f"/{ACCOUNT}/{fs}")
    assert as_sp().status_code == 200
