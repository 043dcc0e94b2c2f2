#!/usr/bin/env python3
"""Writes the seed corpus of every target into fuzz/corpus/<target>/.

    /usr/bin/python3 fuzz/make_seeds.py

The text targets (range, properties, block list) take protocol text as it is. The others read
their input through FuzzedDataProvider; their seeds are encoded here in its format, choice by
choice in the order each target consumes them (strings from the front, each ended by a backslash
and one other byte; integers and booleans from the back), so that a seed is a realistic request
or document: a signed Put Blob, a SAS-authorized create, a catalog registration. When a target's
order of choices changes, the matching seeder below changes with it (seeds that drift still run;
they only reach less at first). Files named crash-* are kept inputs of past crashes: this script
never touches them.
"""

import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


class Fdp:
    """Builds bytes that FuzzedDataProvider hands back as the given sequence of choices."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in consumption order: the last byte of the input comes first

    def string(self, s):
        b = s.encode() if isinstance(s, str) else bytes(s)
        self.front += b.replace(b"\\", b"\\\\") + b"\\|"
        return self

    def remaining(self, s):
        self.front += s.encode() if isinstance(s, str) else bytes(s)
        return self

    def int(self, lo, hi, v):
        assert lo <= v <= hi, (lo, hi, v)
        span, x, n = hi - lo, v - lo, 0
        while n < 8 and (span >> (8 * n)) > 0:
            n += 1
        self.back += x.to_bytes(n, "big") if n else b""
        return self

    def bool(self, v):
        self.back.append(1 if v else 0)
        return self

    def pick(self, array, value):
        return self.int(0, len(array) - 1, array.index(value))

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def reset(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for n in os.listdir(d):
            if not n.startswith("crash-"):
                os.remove(os.path.join(d, n))


# ----- text targets -------------------------------------------------------------------------

def range_seeds():
    for i, v in enumerate(["bytes=0-99", "bytes=5-", "bytes=-5", "bytes=100-0", "bytes=0-0",
                           "bytes=0-9223372036854775807", "items=0-1", " bytes=1-2 "]):
        write("range_fuzz", f"seed-{i}", v)


def properties_seeds():
    for i, v in enumerate(["n1=dmFsdWU=,n2=", "a=", "x=eHl6, y = YWJj ", "",
                           "dup=YQ==,dup=Yg==", "bad", "n=!!!", "_x1=MTIz"]):
        write("properties_fuzz", f"seed-{i}", v)


def block_list_seeds():
    docs = [
        '<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>QUFBQQ==</Latest>'
        "<Committed>YmxvY2sx</Committed><Uncommitted>YmxvY2sy</Uncommitted></BlockList>",
        "<BlockList><Latest> QUFBQQ== </Latest></BlockList>",
        "<BlockList></BlockList>",
        "<BlockList><Other>QUFBQQ==</Other></BlockList>",
        "<BlockList><Latest>not base64</Latest></BlockList>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><BlockList>"
        "<Latest>&a;</Latest></BlockList>",
    ]
    for i, v in enumerate(docs):
        write("block_list_fuzz", f"seed-{i}", v)


# ----- FuzzedDataProvider targets -----------------------------------------------------------

def acl_seeds():
    cases = [
        (True, "user::rwx,group::r-x,other::---",
         "user::rwx,group::r-x,other::---,default:user:abc:r-x,mask::rwx"),
        (False, "rwxr-x---+", "user:abc:r-x,group:g1:rwx"),
        (True, "0750", "default:user:abc,mask"),
        (True, "1777", "user::rwx,user:a:r--,group::r--,mask::r-x,other::--x"),
        (False, "rwxrwxrwT", "user::rw-,group::r--,other::r--,default:user::rwx"),
        (True, "user::rwx,group::rwx,other::rwx,user:0b0f0f0f-1111-2222-3333-444455556666:rwx",
         "default:default:user::rwx"),
    ]
    for i, (is_dir, base, change) in enumerate(cases):
        write("acl_fuzz", f"seed-{i}", Fdp().bool(is_dir).string(base).remaining(change).bytes())


def lake_layout_seeds():
    good = (
        "version: 1\ntenant: t-1\nzones:\n  raw: {filesystem: raw, domains: [pos]}\n"
        "  curated:\n    filesystem: curated\n    domains: [sales, finance]\n"
        "groups: [eng, analysts]\naccess:\n  - {group: eng, zone: raw, write: true}\n"
        "  - {group: analysts, zone: curated, domain: sales, read: true}\n"
        "retention: {raw_batches_days: 365, failed_staging_days: 14}\n")
    for i, text in enumerate([
            good,
            good.replace("filesystem: curated", "filesystem: raw"),
            good.replace("group: analysts", "group: nobody"),
            "version: 1\ntenant: t\nzones: {a: {filesystem: abc}}\n",
            "version: 1\ntenant: [\n",
            "- a\n- b\n",
            "version: 1\ntenant: t\nzones:\n  z: &x {filesystem: aaa}\n  y: *x\n"]):
        write("lake_layout_fuzz", f"seed-{i}", text.encode())


def lineage_event_seeds():
    event = {
        "eventType": "COMPLETE", "eventTime": "2026-12-07T05:00:00Z",
        "producer": "https://example.com/ingest",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0193a6c4-3b1e-7a5e-9a41-2f5c8e1d2b3a"},
        "job": {"namespace": "tarn/ws", "name": "ingest.pos"},
        "inputs": [{"namespace": "file://host", "name": "/landing/day1.csv", "facets": {}}],
        "outputs": [{"namespace": "abfss://raw@devstoreaccount1.dfs.core.windows.net",
                     "name": "pos/ingest_date=2026-12-07/batch=x",
                     "facets": {"tarn_dataset": {"name": "pos_raw", "version": 3, "id": "x"}}}]}
    write("lineage_event_fuzz", "ingest", json.dumps(event))
    bad = dict(event, eventType="DONE")
    write("lineage_event_fuzz", "bad-type", json.dumps(bad))
    write("lineage_event_fuzz", "version-zero", json.dumps(dict(event, outputs=[
        {"namespace": "n", "name": "x", "facets": {"tarn_dataset": {"name": "d", "version": 0}}}])))


def pipeline_spec_seeds():
    # The target reads the whole input as pipeline.yaml, and its first line as a cron schedule
    # and as a check's text (the lines after it as the check's settings).
    full = (
        "version: 1\nname: sales_curated\nschedule: \"0 2 * * *\"\n"
        "on_arrival: [{datastore: raw, path: pos/}]\nsteps:\n"
        "  - name: publish\n    inputs: {clean: sales_clean:2}\n    sql: SELECT * FROM clean\n"
        "    output: {dataset: sales_published, datastore: product, path: sales}\n"
        "  - name: clean\n    inputs:\n      sales: pos_raw\n"
        "      regions: {dataset: regions, version: 3}\n"
        "    sql: |\n      SELECT id, region, TRY_CAST(amount AS DOUBLE) AS amount FROM sales\n"
        "    expectations:\n"
        "      - {name: amount_present, expect: amount IS NOT NULL, on_fail: drop}\n"
        "    output:\n      dataset: sales_clean\n      datastore: curated\n"
        "      path: sales/orders\n      partition_by: [region]\n      target_file_size: 64MB\n"
        "    checks:\n      - row_count > 0\n      - missing_count(amount) = 0\n"
        "      - duplicate_count(id, \"my col\") = 0\n      - invalid_count(region) = 0:\n"
        "          valid values: [north, south]\n      - freshness(sold_at) < 1d\n"
        "      - schema:\n          fail:\n            when required column missing: [id]\n"
        "            when wrong column type: {id: bigint}\n      - failed rows:\n"
        "          name: negative\n          fail query: SELECT * FROM output WHERE amount < 0\n"
        "      - change percent for row_count between -20 and +20\n")
    cycle = (
        "version: 1\nname: p\nsteps:\n"
        "  - {name: a, inputs: {y: y}, sql: SELECT 1, output: {dataset: x, datastore: s, path: a}}\n"
        "  - {name: b, inputs: {x: x}, sql: SELECT 1, output: {dataset: y, datastore: s, path: b}}\n")
    chain = (
        "version: 1\nname: chain\nschedule: \"*/15 9-17 * * mon-fri\"\nsteps:\n"
        "  - {name: c, inputs: {b: bb:latest}, sql: SELECT 1, output: {dataset: cc, datastore: s,"
        " path: c, target_file_size: 1GiB}, checks: [\"change for row_count >= 0\"]}\n"
        "  - {name: b, inputs: {a: aa}, sql: SELECT 1, output: {dataset: bb, datastore: s, path: b}}\n"
        "  - {name: a, sql: SELECT 1, output: {dataset: aa, datastore: s, path: a/}}\n")
    for i, text in enumerate([
            full,
            cycle,
            chain,
            "0 0 29 2 1,5-7\n",
            "invalid_count(\"my col\") not between 0 and 5\nvalid values: [a, b]\n"
            "valid min: -1.5\nvalid regex: '[a-z]+\\d'\n",
            "version: 1\nname: p\nsteps: [\n"]):
        write("pipeline_spec_fuzz", f"seed-{i}", text.encode())


def login_seeds():
    good = ('{"endpoint": "https://127.0.0.1:10443", "authority": "https://127.0.0.1:10443", '
            '"tenant": "t-1", "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", '
            '"username": "ada@contoso.example", "refresh_token": "tarn.rt.abc", '
            '"ca_file": "/tmp/cert.pem", "account": "devstoreaccount1"}')
    for i, text in enumerate([good, good.replace('"client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", ', ""),
                              '{"endpoint": 1}', "[]", '{"endpoint": "x", "tenant": "\\u0000"}',
                              ""]):
        write("login_fuzz", f"seed-{i}", text.encode())


def glob_seeds():
    cases = [
        ("data/**/*.csv", ["data/a.csv", "data/2024/01/b.csv", "other/a.csv"]),
        ("sales/202[34]/?.parquet", ["sales/2023/a.parquet", "sales/2025/a.parquet"]),
        ("dir", ["dir", "dir/a.csv", "dirx/a.csv"]),
        ("/a/*/c/", ["a/b/c", "a/b/b/c"]),
        ("**", ["x", "x/y/z"]),
        ("logs/[!a-c]*.txt", ["logs/d.txt", "logs/a.txt"]),
        ("a/**/b/**/c", ["a/b/c", "a/x/b/y/c", "a/b/x"]),
    ]
    for i, (pattern, paths) in enumerate(cases):
        f = Fdp().string(pattern)
        for p in paths:
            f.string(p)
        write("glob_fuzz", f"seed-{i}", f.bytes())


def partition_seeds():
    cases = [
        ("{country}/{date:yyyy/MM/dd}/", "nl/2024/01/02/x.csv"),
        ("{region}/{day:yyyy/MM/dd}/*.csv", "data/eu/2023/12/31/a.csv"),
        ("/{a}/{b}/**", "x/y/z/w"),
        ("{t:yyyy-MM-dd HH:mm:ss}/?.parquet", "2024-02-29 23:59:59/a.parquet"),
        ("{k:yyyyMMdd}.fff", "20240101.fff"),
        ("{x}/{x}", "a/b"),
        ("%Y/%m", "country=nl/year=2024/a%20b=c/file.csv"),
    ]
    for i, (fmt, path) in enumerate(cases):
        write("partition_fuzz", f"seed-{i}", Fdp().string(fmt).string(path).bytes())


SK_METHODS = ["GET", "PUT", "HEAD", "DELETE", "POST", "PATCH", "OPTIONS"]
SK_HEADERS = ["Content-Encoding", "content-language", "Content-Length", "content-md5",
              "Content-Type", "Date", "If-Modified-Since", "If-Match", "If-None-Match",
              "If-Unmodified-Since", "Range", "x-ms-date", "x-ms-version", "X-MS-Meta-Name",
              "x-ms-meta-a-b", "x-ms-blob-type", "x-ms-client-request-id", "x-ms-properties",
              "x-ms-acl", "x-ms--"]


def shared_key_seeds():
    cases = [
        ("PUT", "/devstoreaccount1/fuzz/dir/a%20b.csv",
         [("Content-Length", "11"), ("Content-Type", "text/csv"),
          ("x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("x-ms-version", "2021-10-04"),
          ("x-ms-blob-type", "BlockBlob"), ("X-MS-Meta-Name", "  folded \r\n value ")],
         [("timeout", "30")]),
        ("GET", "/devstoreaccount1/fuzz",
         [("x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("x-ms-version", "2021-10-04")],
         [("restype", "container"), ("comp", "list"), ("include", "metadata"),
          ("include", "copy")]),
        ("PATCH", "/devstoreaccount1/fuzz/dir",
         [("x-ms-acl", "user::rwx,group::r-x,other::---"), ("x-ms-date", "x"),
          ("x-ms--", "")],
         [("action", "setAccessControl")]),
        ("HEAD", "/devstoreaccount1/workspaces/ws1/datasets", [("Range", "bytes=0-9"),
                                                              ("Date", "Mon, 01 Jan 2024")], []),
    ]
    for i, (method, path, headers, query) in enumerate(cases):
        f = Fdp().bool(True).pick(SK_METHODS, method).string(path).int(0, 12, len(headers))
        for k, v in headers:
            if k in SK_HEADERS:
                f.bool(True).pick(SK_HEADERS, k)
            else:
                f.bool(False).string(k[len("x-ms-"):])
            f.string(v)
        f.int(0, 8, len(query))
        for k, v in query:
            f.string(k).string(v)
        f.bool(True)
        write("shared_key_fuzz", f"seed-{i}", f.bytes())


def jwt_seeds():
    b64 = lambda b: __import__("base64").urlsafe_b64encode(b).rstrip(b"=").decode()
    header = b64(b'{"alg":"RS256","typ":"JWT","kid":"k1"}')
    claims = b64(json.dumps({"aud": "https://storage.azure.com", "iss": "https://127.0.0.1:10443/"
                             "72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "exp": 1900000000,
                             "nbf": 1700000000, "oid": "o", "tid": "t"}).encode())
    write("jwt_fuzz", "seed-0", Fdp().int(0, 2, 0).bool(False)
          .remaining(f"{header}.{claims}.{b64(b'x' * 256)}").bytes())
    write("jwt_fuzz", "seed-1", Fdp().int(0, 2, 1).bool(False).string('{"alg":1}')
          .string('{"oid":"x"}').remaining("sig").bytes())
    write("jwt_fuzz", "seed-2", Fdp().int(0, 2, 1).bool(True).string('{"alg":null,"kid":[]}')
          .string('{}').remaining("").bytes())
    # Typed header fields: alg and kid as they should be, signed: verification succeeds.
    write("jwt_fuzz", "seed-3", Fdp().int(0, 2, 2).bool(False).bool(True).int(0, 8, 0)
          .bool(True).int(0, 8, 0).bool(False).bool(True)
          .remaining(json.dumps({"exp": 1, "aud": ["a"], "x": {"y": None}})).bytes())
    # alg as a number, kid as an object.
    write("jwt_fuzz", "seed-4", Fdp().int(0, 2, 2).bool(True).bool(True).int(0, 8, 3)
          .int(-(2**63), 2**63 - 1, 1).bool(True).int(0, 8, 6).bool(True).int(0, 8, 2)
          .bool(False).remaining("{}").bytes())


def catalog_json_seeds():
    ds = {"endpoint": "http://127.0.0.1:10000/devstoreaccount1", "account_name": "devstoreaccount1",
          "filesystem": "fuzz", "credential": {"type": "account_key", "account_key": "a2V5"},
          "overwrite": False, "skip_validation": True}
    version = {"create_new_version": True, "description": "sales", "tags": {"k": "v"},
               "definition": {
                   "kind": "tabular", "format": "csv",
                   "paths": [{"datastore": "local", "path": "sales/**/*.csv"}],
                   "options": {"separator": ",", "header": True, "infer_column_types": True,
                               "set_column_types": {"amount": "float"},
                               "partition_format": "{country}/{date:yyyy/MM/dd}/*.csv",
                               "include_path": False, "support_multi_line": False,
                               "encoding": "utf8", "empty_as_string": False},
                   "transforms": [{"op": "take", "count": 10},
                                  {"op": "filter", "expression": "amount > 2 and item = 'pen'"}]}}
    files = {"create_new_version": True,
             "definition": {"kind": "file", "paths": [{"datastore": "local", "path": "dir/*.csv"}]}}
    cases = [
        (0, 2, 0, 0, {"subscription_id": "s", "resource_group": "rg", "description": "d"}),
        (1, 0, 2, 0, ds),
        (1, 0, 2, 0, {"account_name": "devstoreaccount1", "filesystem": "fuzz",
                      "credential": {"type": "sas", "sas_token": "?sv=2021-10-04&sig=x"},
                      "skip_validation": True}),
        (1, 0, 2, 0, {"account_name": "devstoreaccount1", "filesystem": "fuzz",
                      "credential": {"type": "service_principal", "tenant_id": "t",
                                     "client_id": "c", "client_secret": "s"}}),
        (2, 0, 2, 0, version),
        (2, 0, 0, 0, files),
        (2, 0, 2, 0, {"definition": {"kind": "file", "paths": [
            {"url": "http://127.0.0.1:10000/devstoreaccount1/fuzz/dir/"}]}}),
        (3, 0, 0, 0, {"description": "new", "tags": {"a": "b"}, "add_tags": {"c": "d"},
                      "remove_tags": ["a"]}),
    ]
    for i, (op, ws, name, version_choice, body) in enumerate(cases):
        write("catalog_json_fuzz", f"seed-{i}",
              Fdp().int(0, 3, op).int(0, 3, ws).int(0, 3, name).int(0, 3, version_choice)
              .remaining(json.dumps(body)).bytes())


def identity_json_seeds():
    cases = [
        (0, True, 0, False, {"display_name": "Contoso", "tenant_id":
                             "0b0f0f0f-1111-2222-3333-444455556666"}),
        (1, True, 0, False, {"kind": "service_principal", "display_name": "app"}),
        (1, True, 0, False, {"kind": "user", "display_name": "Ann", "upn": "ann@contoso.example"}),
        (2, True, 1, False, {"display_name": "readers"}),
        (3, True, 0, False, {"expires_in_days": "30"}),
        (4, True, 0, False, {"principal_id": "x", "role": "Storage Blob Data Reader",
                             "scope": "/devstoreaccount1/fuzz"}),
        (5, True, 1, False, {"password": "short"}),
        (7, True, 0, True, {"grant_type": "client_credentials", "client_secret": "s",
                            "scope": "https://storage.azure.com/.default"}),
        (7, True, 0, True, {"grant_type": "password", "username": "ann@contoso.example",
                            "password": "not the password",
                            "scope": "https://storage.azure.com/.default openid profile"}),
        (7, True, 0, False, {"grant_type": "refresh_token",
                             "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                             "refresh_token": "tarn.rt.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                             "scope": "https://management.azure.com/.default"}),
        (7, True, 0, False, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                             "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                             "device_code": "abc"}),
        (6, True, 0, True, {"scope": "https://storage.azure.com/.default offline_access",
                            "code": "bcdf ghjk", "username": "ann@contoso.example",
                            "password": "x"}),
        (6, True, 0, True, {"scope": "https://storage.azure.com/.default", "decline": "1"}),
    ]
    for i, (op, seeded_tenant, oid, seeded_client, body) in enumerate(cases):
        write("identity_json_fuzz", f"seed-{i}",
              Fdp().int(0, 7, op).bool(seeded_tenant).int(0, 3, oid).bool(seeded_client)
              .remaining(json.dumps(body)).bytes())


# The request pipeline: mirrors request_pipeline_fuzz.cc.
P_METHODS = ["GET", "PUT", "HEAD", "DELETE", "POST", "PATCH", "OPTIONS", "MERGE"]
P_SEEDED = ["hello.txt", "dir", "dir/a.csv", "dir/b.csv", "sales/country=nl/2024/01/02/s.csv"]
P_IDENTITY = ["tenants", "tenants/{tenant}/principals", "tenants/{tenant}/groups",
              "principals/{principal}", "principals/{user}", "principals/{principal}/secrets",
              "principals/{principal}/secrets/00000000-0000-0000-0000-000000000000",
              "groups/{group}/members/{user}", "groups/{group}/members/{principal}",
              "role-assignments", "role-assignments/x", "audit"]
P_CATALOG = ["", "ws", "ws/datastores", "ws/datastores/local", "ws/datastores/other",
             "ws/default-datastore", "ws/datasets", "ws/datasets/files",
             "ws/datasets/files/versions", "ws/datasets/files/versions/1",
             "ws/datasets/files/versions/latest/files", "ws/datasets/files/versions/1/files/0",
             "ws/datasets/sales/versions/1/files/0", "ws/datasets/new/versions",
             "ws/dataset-ids/x", "ws2", "ws/pipelines", "ws/pipelines/p1",
             "ws/pipelines/p1/runs", "ws/pipeline-runs/x", "ws/lineage", "ws/lineage-events"]
P_TOKEN = ["oauth2/v2.0/token", "v2.0/.well-known/openid-configuration", "discovery/v2.0/keys",
           "oauth2/v2.0/devicecode", "oauth2/v2.0/devicelogin"]
P_QUERY_NAMES = ["restype", "comp", "resource", "action", "mode", "recursive", "position",
                 "close", "flush", "retainUncommittedData", "maxResults", "maxRecords",
                 "directory", "prefix", "delimiter", "marker", "continuation", "upn", "blockid",
                 "blocklisttype", "include", "timeout", "version", "include_archived", "drift",
                 "principal", "result", "action", "since", "limit", "dataset", "direction",
                 "depth", "wait"]
P_HEADER_NAMES = ["x-ms-blob-type", "x-ms-acl", "x-ms-permissions", "x-ms-umask", "x-ms-owner",
                  "x-ms-group", "x-ms-properties", "x-ms-range", "range",
                  "x-ms-range-get-content-md5", "x-ms-copy-source", "x-ms-rename-source",
                  "x-ms-lease-action", "x-ms-lease-duration", "x-ms-lease-id",
                  "x-ms-proposed-lease-id", "x-ms-lease-break-period", "x-ms-source-lease-id",
                  "x-ms-meta-name", "x-ms-blob-public-access", "x-ms-content-md5", "content-md5",
                  "x-ms-blob-content-type", "x-ms-content-type", "if-match", "if-none-match",
                  "if-modified-since", "if-unmodified-since", "x-ms-version", "x-ms-access-tier",
                  "accept", "content-type", "x-ms-client-request-id", "x-ms-date", "expect"]
SAS_FIELDS = ["sv", "sp", "se", "st", "sr", "sdd", "ss", "srt", "sip", "spr", "skoid", "sktid",
              "skt", "ske", "skv", "si"]
NO_AUTH, SHARED_KEY, BAD_SHARED_KEY, BEARER, BAD_BEARER, SAS = 0, 1, 2, 3, 4, 5


def pipeline(method, front, query=(), headers=(), auth=NO_AUTH, body="", seeded=None,
             extend=False, tail="", pick=None, tenant=True, sas=None, bearer=0, secure=False,
             chunked=False, step=0):
    """query: (name, value index or string); headers: (name, value index or string)."""
    f = Fdp()
    f.bool(True).pick(P_METHODS, method)
    f.int(0, 5, front).bool(extend).string(tail)
    if front == 0:
        f.bool(seeded is not None)
        if seeded is not None:
            f.pick(P_SEEDED, seeded)
    elif front == 2:
        f.pick(P_IDENTITY, pick)
    elif front == 3:
        f.pick(P_CATALOG, pick)
    elif front == 4:
        f.bool(tenant).pick(P_TOKEN, pick)
    f.int(0, 6, len(query))
    for name, value in query:
        f.bool(True).int(0, len(P_QUERY_NAMES) - 1, P_QUERY_NAMES.index(name))
        if isinstance(value, int):
            f.bool(True).int(0, QUERY_SIZES[name] - 1, value)
        else:
            f.bool(False).string(value)
    f.int(0, 8, len(headers))
    for name, value in headers:
        f.int(0, 3, 0).int(0, len(P_HEADER_NAMES) - 1, P_HEADER_NAMES.index(name))
        if isinstance(value, int):
            f.bool(True).int(0, HEADER_SIZES[name] - 1, value)
        else:
            f.bool(False).string(value)
    f.int(0, 6, auth)
    if auth == SAS:
        for field in SAS_FIELDS:
            choice = (sas or {}).get(field)
            f.bool(choice is not None)
            if choice is not None:
                f.bool(True).int(0, SAS_SIZES[field] - 1, choice)
        f.bool(True)  # signed
    f.bool(chunked).int(0, 3, step).bool(secure)
    if auth == BEARER:
        f.int(0, 3, bearer).bool(False)
    f.bool(auth in (BAD_SHARED_KEY, BAD_BEARER))
    if auth in (BAD_SHARED_KEY, BAD_BEARER):
        f.string("bm90IGEgc2lnbmF0dXJl")
    f.remaining(body)
    return f.bytes()


# How many known values each choice has (request_pipeline_fuzz.cc).
QUERY_SIZES = {"restype": 4, "comp": 13, "resource": 4, "action": 7, "mode": 5, "recursive": 4,
               "position": 5, "close": 1, "flush": 1, "retainUncommittedData": 1,
               "maxResults": 5, "maxRecords": 3, "directory": 3, "prefix": 3, "delimiter": 1,
               "marker": 3, "continuation": 2, "upn": 2, "blockid": 4, "blocklisttype": 3,
               "include": 5, "timeout": 1, "version": 5, "include_archived": 1, "drift": 1,
               "principal": 1, "result": 3, "since": 1, "limit": 4, "dataset": 3,
               "direction": 3, "depth": 3, "wait": 4}
HEADER_SIZES = {"x-ms-blob-type": 3, "x-ms-acl": 5, "x-ms-permissions": 5, "x-ms-umask": 3,
                "x-ms-owner": 3, "x-ms-group": 2, "x-ms-properties": 3, "x-ms-range": 5,
                "range": 2, "x-ms-range-get-content-md5": 1, "x-ms-copy-source": 3,
                "x-ms-rename-source": 4, "x-ms-lease-action": 5, "x-ms-lease-duration": 4,
                "x-ms-lease-id": 1, "x-ms-proposed-lease-id": 1, "x-ms-lease-break-period": 2,
                "x-ms-source-lease-id": 1, "x-ms-meta-name": 2, "x-ms-blob-public-access": 2,
                "x-ms-content-md5": 1, "content-md5": 1, "x-ms-blob-content-type": 1,
                "x-ms-content-type": 1, "if-match": 2, "if-none-match": 1,
                "if-modified-since": 1, "if-unmodified-since": 1, "x-ms-version": 3,
                "x-ms-access-tier": 2, "accept": 1, "content-type": 3,
                "x-ms-client-request-id": 1, "x-ms-date": 1, "expect": 1}
SAS_SIZES = {"sv": 5, "sp": 9, "se": 2, "st": 2, "sr": 3, "sdd": 4, "ss": 3, "srt": 4, "sip": 3,
             "spr": 2, "skoid": 2, "sktid": 1, "skt": 1, "ske": 1, "skv": 1, "si": 1}


def request_pipeline_seeds():
    block_list = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QUFBQQ==</Latest>"
                  "</BlockList>")
    seeds = {
        "get-blob": pipeline("GET", 0, seeded="hello.txt", auth=SHARED_KEY),
        "put-blob": pipeline("PUT", 0, tail="new.txt", headers=[("x-ms-blob-type", 0),
                                                                ("x-ms-meta-name", 0)],
                             auth=SHARED_KEY, body="hello, lake"),
        "list-blobs": pipeline("GET", 1, tail="fuzz", query=[("restype", 0), ("comp", 0),
                                                           ("include", 0)], auth=SHARED_KEY),
        "list-paths": pipeline("GET", 1, tail="fuzz", query=[("resource", 0), ("recursive", 0),
                                                           ("directory", 0)], auth=SHARED_KEY),
        "set-acl": pipeline("PATCH", 0, seeded="dir", query=[("action", 3)],
                            headers=[("x-ms-acl", 1)], auth=SHARED_KEY),
        "set-acl-recursive": pipeline("PATCH", 0, seeded="dir", query=[("action", 4),
                                                                       ("mode", 1)],
                                      headers=[("x-ms-acl", 2)], auth=SHARED_KEY),
        "get-acl-upn": pipeline("HEAD", 0, seeded="dir", query=[("action", 2), ("upn", 0)],
                                auth=SHARED_KEY),
        "ranged-read-bearer": pipeline("GET", 0, seeded="dir/a.csv", headers=[("x-ms-range", 0)],
                                       auth=BEARER, bearer=0),
        "acl-read-user": pipeline("GET", 0, seeded="dir/b.csv", auth=BEARER, bearer=1),
        "create-file-sas": pipeline("PUT", 0, tail="dir/c.txt", query=[("resource", 1)],
                                    auth=SAS, sas={"sv": 0, "sp": 1, "se": 0, "sr": 0}),
        "append-flush": pipeline("PATCH", 0, seeded="dir/a.csv", query=[("action", 0),
                                                                        ("position", 0),
                                                                        ("flush", 0)],
                                 auth=SHARED_KEY, body="3,w\n", chunked=True, step=2),
        "put-block": pipeline("PUT", 0, tail="bl.bin", query=[("comp", 5), ("blockid", 0)],
                              auth=SHARED_KEY, body="block bytes"),
        "put-block-list": pipeline("PUT", 0, tail="bl.bin", query=[("comp", 6)],
                                   auth=SHARED_KEY, body=block_list),
        "copy-blob": pipeline("PUT", 0, tail="copy.txt", headers=[("x-ms-copy-source", 0)],
                              auth=SHARED_KEY),
        "rename": pipeline("PUT", 0, tail="dir/renamed.csv", headers=[("x-ms-rename-source", 0)],
                           auth=SHARED_KEY),
        # Path-style renames whose URL leaves the account out (Azure's C++ and JS SDKs).
        "rename-no-account": pipeline("PUT", 5, tail="fuzz/moved.txt",
                                      headers=[("x-ms-rename-source", 0)], auth=SHARED_KEY),
        "rename-account-in-source": pipeline("PUT", 5, tail="fuzz/moved.csv",
                                             headers=[("x-ms-rename-source", 3)], auth=BEARER,
                                             secure=True),
        "lease": pipeline("PUT", 0, seeded="hello.txt", query=[("comp", 4)],
                          headers=[("x-ms-lease-action", 0), ("x-ms-lease-duration", 1)],
                          auth=SHARED_KEY),
        "set-properties": pipeline("PATCH", 0, seeded="hello.txt", query=[("action", 6)],
                                   headers=[("x-ms-properties", 0)], auth=SHARED_KEY),
        "create-tenant": pipeline("POST", 2, pick="tenants", auth=SHARED_KEY,
                                  body='{"display_name":"t2"}'),
        "get-principal": pipeline("GET", 2, pick="principals/{principal}", auth=SHARED_KEY),
        "assign-role": pipeline("POST", 2, pick="role-assignments", auth=SHARED_KEY,
                                body='{"principal_id":"x","role":"Storage Blob Data Owner",'
                                     '"scope":"/devstoreaccount1/fuzz/dir"}'),
        "put-workspace": pipeline("PUT", 3, pick="ws2", auth=SHARED_KEY,
                                  body='{"description":"x","subscription_id":"s"}'),
        "register-version": pipeline(
            "POST", 3, pick="ws/datasets/new/versions", auth=SHARED_KEY,
            body='{"create_new_version":true,"definition":{"kind":"tabular","format":"csv",'
                 '"paths":[{"datastore":"local","path":"sales/**/*.csv"}],"options":'
                 '{"partition_format":"{country}/{date:yyyy/MM/dd}/*.csv"},"transforms":'
                 '[{"op":"take","count":1}]}}'),
        "read-dataset-file": pipeline("GET", 3, pick="ws/datasets/files/versions/1/files/0",
                                      headers=[("range", 1)], auth=SHARED_KEY),
        "put-pipeline": pipeline(
            "PUT", 3, pick="ws/pipelines/p1", auth=SHARED_KEY,
            body='{"definition":"version: 1\\nname: p1\\nsteps:\\n  - name: a\\n'
                 '    inputs: {x: files}\\n    sql: SELECT * FROM x\\n'
                 '    output: {dataset: o, datastore: local, path: o}\\n'
                 '    checks: [row_count > 0]\\n"}'),
        "start-pipeline-run": pipeline("POST", 3, pick="ws/pipelines/p1/runs", auth=SHARED_KEY,
                                       query=[("wait", 0)], body="{}"),
        "lineage": pipeline("GET", 3, pick="ws/lineage", auth=SHARED_KEY,
                            query=[("dataset", 0), ("direction", 1), ("depth", 0)]),
        "token": pipeline("POST", 4, pick="oauth2/v2.0/token",
                          headers=[("content-type", 2)],
                          body="grant_type=client_credentials&client_id=x&client_secret=y&"
                               "scope=https%3A%2F%2Fstorage.azure.com%2F.default"),
        "openid": pipeline("GET", 4, pick="v2.0/.well-known/openid-configuration"),
        "device-code": pipeline("POST", 4, pick="oauth2/v2.0/devicecode",
                                headers=[("content-type", 2)],
                                body="client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&"
                                     "scope=https%3A%2F%2Fmanagement.azure.com%2F.default"),
        "device-login": pipeline("POST", 4, pick="oauth2/v2.0/devicelogin",
                                 headers=[("content-type", 2)], secure=True,
                                 body="code=BCDF-GHJK&username=ann%40contoso.example&"
                                      "password=x&action=sign-in"),
        "anonymous-root": pipeline("GET", 5, tail=""),
        "bad-signature": pipeline("DELETE", 0, seeded="hello.txt", auth=BAD_SHARED_KEY),
        "bad-bearer": pipeline("GET", 1, tail="fuzz", query=[("resource", 0)], auth=BAD_BEARER,
                               secure=True),
    }
    for name, data in seeds.items():
        write("request_pipeline_fuzz", name, data)


# SAS through the pipeline: mirrors sas_fuzz.cc.
S_METHODS = ["GET", "PUT", "HEAD", "DELETE", "PATCH", "POST"]
S_FRONTS = ["/identity/tenants", "/workspaces/ws", "/workspaces", "/identity/role-assignments"]
S_FIELDS = [("sv", 7), ("sp", 11), ("st", 4), ("se", 4), ("sr", 5), ("sdd", 6), ("sip", 6),
            ("spr", 3), ("ss", 4), ("srt", 5), ("ses", 1), ("skoid", 3), ("sktid", 1),
            ("skt", 2), ("ske", 2), ("skv", 1), ("sks", 1), ("si", 1), ("snapshot", 1),
            ("rscc", 1), ("rsct", 1)]
S_OPS = ["restype=container&comp=list", "resource=filesystem", "comp=metadata",
         "action=getAccessControl", "resource=file", "action=getStatus", "comp=blocklist",
         "resource=directory", "action=append&position=0"]


def sas(method, fields, seeded=None, path=None, front=None, secure=False, sign=True, op=None,
        blob_type=False, body=""):
    f = Fdp().pick(S_METHODS, method)
    f.bool(True)  # fs = fuzz
    f.bool(seeded is not None)
    if seeded is not None:
        f.pick(P_SEEDED, seeded)
    else:
        f.string(path)
    f.int(0, 7, 0 if front is not None else 1).pick(S_FRONTS, front or S_FRONTS[0])
    f.bool(secure).int(0, 3, 1 if sign else 0)
    for name, size in S_FIELDS:
        f.bool(name in fields)
        if name in fields:
            f.bool(False).int(0, size - 1, fields[name])
    if not sign:
        f.string("AAAA")
    f.bool(op is not None)
    if op is not None:
        f.pick(S_OPS, op)
    if method == "PUT":
        f.bool(blob_type)
    f.remaining(body)
    return f.bytes()


def sas_seeds():
    seeds = {
        "service-container-read": sas("GET", {"sv": 0, "sp": 1, "se": 0, "sr": 0},
                                      seeded="dir/a.csv"),
        "service-blob-put": sas("PUT", {"sv": 0, "sp": 2, "se": 0, "sr": 1, "spr": 1},
                                path="dir/new.bin", blob_type=True, body="bytes"),
        "directory-sdd": sas("GET", {"sv": 0, "sp": 1, "se": 0, "sr": 2, "sdd": 1},
                             seeded="dir/b.csv", op="action=getAccessControl"),
        "account-list": sas("GET", {"sv": 0, "sp": 1, "se": 0, "ss": 0, "srt": 0},
                            seeded="dir", op="restype=container&comp=list"),
        "user-delegation": sas("GET", {"sv": 0, "sp": 0, "se": 0, "sr": 0, "skoid": 0,
                                       "sktid": 0, "skt": 0, "ske": 0, "skv": 0},
                               seeded="hello.txt"),
        "expired": sas("GET", {"sv": 0, "sp": 0, "se": 1, "sr": 1}, seeded="hello.txt"),
        "ip-range": sas("HEAD", {"sv": 0, "sp": 0, "se": 0, "sr": 1, "sip": 1},
                        seeded="hello.txt"),
        "https-only": sas("DELETE", {"sv": 0, "sp": 1, "se": 0, "sr": 1, "spr": 0},
                          seeded="dir/b.csv", secure=True),
        "stored-policy": sas("GET", {"sv": 0, "sp": 0, "se": 0, "sr": 0, "si": 0},
                             seeded="hello.txt"),
        "identity-front": sas("POST", {"sv": 0, "sp": 1, "se": 0, "ss": 0, "srt": 0},
                              seeded="hello.txt", front="/identity/tenants",
                              body='{"display_name":"x"}'),
        "unsigned": sas("GET", {"sv": 0, "sp": 0, "se": 0, "sr": 0}, seeded="hello.txt",
                        sign=False),
    }
    for name, data in seeds.items():
        write("sas_fuzz", name, data)


def mlflow_filter_seeds():
    # The target reads a filter, then order_by items while a boolean from the back says so.
    cases = [
        ("metrics.acc > 0.9 AND params.model = 'cnn' AND tags.team = 'nlp'",
         ["metrics.acc DESC", "params.lr"]),
        ("attributes.run_id IN ('a1', \"b2\") AND attributes.status != 'FAILED'",
         ["start_time DESC"]),
        ("tags.`mlflow.runName` LIKE 'be%' AND tags.team IS NULL", ["tags.`mlflow.runName` ASC"]),
        ("params.\"my key\" ILIKE '%R*N?V[1]%' AND datasets.name = 'train'",
         ["attributes.end_time", "run_name desc"]),
        ("datasets.context NOT IN ('eval') AND datasets.digest LIKE 'd_'", []),
        ("created >= 1000 AND end_time < 1e4 AND metric.loss != -2.5E-3", ["created"]),
        ("run.artifact_uri LIKE 's3://%' and user_id = 'ann' And tags.x is not null",
         ["metric.acc", "metrics.acc"]),
        ("params.p = 'it''s' AND params.q = \"say \"\"hi\"\"\" AND params.r = 'C:\\temp'",
         ["params.p DESC"]),
        ("metrics.a > 1 OR (params.b = 'x')", ["datasets.name"]),
        ("foo.bar = 'x", ["metrics.acc DOWN"]),
    ]
    for i, (flt, order) in enumerate(cases):
        f = Fdp().string(flt)
        for item in order:
            f.bool(True).string(item)
        f.bool(False)
        write("mlflow_filter_fuzz", f"seed-{i}", f.bytes())


def job_spec_seeds():
    import base64
    import json

    def b64(text):
        return base64.b64encode(text.encode()).decode()
    jobs = {
        "simple": {"experiment_name": "exp", "script": "train.py",
                   "snapshot": [{"path": "train.py", "content": b64("print(1)")}]},
        "full": {"experiment_name": "diabetes", "run_name": "r1", "compute": "local",
                 "script": "src/train.py", "arguments": ["--alpha", 0.5, "it's", "$(id)", ""],
                 "environment": {"name": "sk", "pip": ["scikit-learn==1.9.1", "six"]},
                 "tags": {"team": "ml"}, "timeout_s": 60,
                 "snapshot": [{"path": "src/train.py", "content": b64("import six")},
                              {"path": "src/lib/util.py", "content": ""}]},
        "interpreter": {"experiment_name": "e", "script": "a.py",
                        "environment": {"python": "/usr/bin/python3"},
                        "snapshot": [{"path": "a.py", "content": ""}]},
        "traversal": {"experiment_name": "e", "script": "../a.py",
                      "snapshot": [{"path": "../a.py", "content": ""}]},
        "newline-arg": {"experiment_name": "e", "script": "a.py", "arguments": ["a\nb", "c d"],
                        "snapshot": [{"path": "a.py", "content": ""}]},
        "data": {"experiment_name": "e", "script": "a.py",
                 "arguments": ["{inputs.sales}", "{outputs.predictions}"],
                 "inputs": [{"name": "sales", "dataset": "sales_by_region", "version": 2}],
                 "outputs": [{"name": "predictions", "datastore": "product",
                              "path": "predictions/{run-id}", "register_as": "predictions",
                              "format": "csv"}],
                 "snapshot": [{"path": "a.py", "content": ""}]},
    }
    for name, job in jobs.items():
        write("job_spec_fuzz", name, json.dumps(job).encode())


def run_outcome_seeds():
    seeds = {
        "done": "done exit 0\n", "failed": "done exit 3\n", "timeout": "timeout signal 9\n",
        "cancelled": "cancelled exit 143\n", "garbage": "done exit 99999999999999999999\n",
        "slurm-failed": "JobId=8 JobName=tarn-x UserId=tarnrun(999) JobState=FAILED "
                        "Reason=NonZeroExitCode ExitCode=3:0\n",
        "slurm-cancelled": "JobId=10 JobState=CANCELLED Reason=None ExitCode=0:15\n",
        "slurm-running": "JobId=7 JobState=RUNNING ExitCode=0:0\n",
        "slurm-signal": "JobId=9 JobState=FAILED ExitCode=0:999999\n",
    }
    for name, text in seeds.items():
        write("run_outcome_fuzz", name, text)


def dataset_filter_seeds():
    seeds = {
        "compare": "age > 15 and region == 'eu'",
        "text": "name contains 'Bri' or name startswith \"B\" or file endswith '.csv'",
        "in": "not (region in ('eu', 'us', 3, -1.5e2, true))",
        "quoted": "`odd \"name` != null and s contains 'x\\'); --'",
        "nested": "((a == 1) or (b in (2)))",
    }
    for name, text in seeds.items():
        write("dataset_filter_fuzz", name, text)


def file_preview_seeds():
    """The preview's query, then a file's bytes: CSV, JSON lines, and a Parquet file when
    pyarrow is at hand (the project's .venv has it)."""
    files = {
        "csv": ("sales.csv", None, "5", b"region,amount,day\nnorth,10.5,2024-01-02\n\"s,\"\"q\",7,\n"),
        "tsv": ("a.TSV", "csv", None, b"a\tb\n1\t2\n"),
        "jsonl": ("e.jsonl", None, "100", b'{"a":1,"b":[1,2],"c":{"d":null}}\n{"a":"x"}\nnot json\n'),
        "bad-rows": ("x.csv", None, "0", b"a\n1\n"),
    }
    try:
        import io
        import pyarrow as pa
        import pyarrow.parquet as pq
        buf = io.BytesIO()
        pq.write_table(pa.table({"id": [1, 2, 3], "name": ["a", None, "c"],
                                 "t": pa.array([0, 1, 2], pa.timestamp("us"))}), buf)
        files["parquet"] = ("p.parquet", "parquet", "2", buf.getvalue())
    except ImportError:
        pass
    for seed, (name, fmt, rows, body) in files.items():
        f = Fdp().string(name)
        f.bool(fmt is not None)
        if fmt is not None:
            f.string(fmt)
        f.bool(rows is not None)
        if rows is not None:
            f.string(rows)
        write("file_preview_fuzz", seed, f.remaining(body).bytes())


def service_properties_seeds():
    rule = ("<CorsRule><AllowedOrigins>http://app.example,https://b.example</AllowedOrigins>"
            "<AllowedMethods>GET,put</AllowedMethods><MaxAgeInSeconds>600</MaxAgeInSeconds>"
            "<ExposedHeaders>x-ms-meta-*,ETag</ExposedHeaders>"
            "<AllowedHeaders>x-ms-meta-*,x-ms-version</AllowedHeaders></CorsRule>")
    seeds = {
        "cors": f"<StorageServiceProperties><Cors>{rule}</Cors></StorageServiceProperties>",
        "all": ("<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Logging>"
                "<Version>1.0</Version><Read>true</Read><Write>true</Write><Delete>false</Delete>"
                "<RetentionPolicy><Enabled>true</Enabled><Days>7</Days></RetentionPolicy>"
                "</Logging><HourMetrics><Version>1.0</Version><Enabled>false</Enabled>"
                "</HourMetrics><Cors /><DefaultServiceVersion>2021-10-04</DefaultServiceVersion>"
                "<DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy>"
                "</StorageServiceProperties>"),
        "soft-delete": ("<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled>"
                        "<Days>3</Days></DeleteRetentionPolicy></StorageServiceProperties>"),
        "website": ("<StorageServiceProperties><StaticWebsite><Enabled>true</Enabled>"
                    "<IndexDocument>index.html</IndexDocument><ErrorDocument404Path>errors/"
                    "404.html</ErrorDocument404Path></StaticWebsite></StorageServiceProperties>"),
        "website-default": ("<StorageServiceProperties><StaticWebsite><Enabled>true</Enabled>"
                            "<DefaultIndexDocumentPath>app/index.html</DefaultIndexDocumentPath>"
                            "</StaticWebsite></StorageServiceProperties>"),
        "escaped": ("<StorageServiceProperties><Cors><CorsRule><AllowedOrigins>a&amp;b,&lt;x&gt;"
                    "</AllowedOrigins><AllowedMethods>GET</AllowedMethods><MaxAgeInSeconds>0"
                    "</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>"),
    }
    for name, text in seeds.items():
        write("service_properties_fuzz", name, text)


def access_policy_seeds():
    seeds = {
        "two": ("<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers><SignedIdentifier>"
                "<Id>read-week</Id><AccessPolicy><Start>2026-01-01T00:00:00Z</Start>"
                "<Expiry>2026-01-08T00:00:00.0000000Z</Expiry><Permission>rl</Permission>"
                "</AccessPolicy></SignedIdentifier><SignedIdentifier><Id>open</Id>"
                "</SignedIdentifier></SignedIdentifiers>"),
        "empty": "<SignedIdentifiers />",
        "escaped": ("<SignedIdentifiers><SignedIdentifier><Id>a&amp;b &lt;c&gt;</Id><AccessPolicy>"
                    "<Permission>racwdl</Permission></AccessPolicy></SignedIdentifier>"
                    "</SignedIdentifiers>"),
    }
    for name, text in seeds.items():
        write("access_policy_fuzz", name, text)


def query_request_seeds():
    head = "<?xml version='1.0' encoding='utf-8'?>\n<QueryRequest><QueryType>SQL</QueryType>"
    csv = ("<Format><Type>delimited</Type><DelimitedTextConfiguration><ColumnSeparator>,"
           "</ColumnSeparator><FieldQuote>\"</FieldQuote><RecordSeparator>\n</RecordSeparator>"
           "<EscapeChar /><HasHeaders>true</HasHeaders></DelimitedTextConfiguration></Format>")
    seeds = {
        "default": head + "<Expression>SELECT * from BlobStorage</Expression></QueryRequest>",
        "csv": (head + "<Expression>SELECT name, amount FROM BlobStorage WHERE id &gt; 1"
                "</Expression><InputSerialization>" + csv + "</InputSerialization>"
                "<OutputSerialization>" + csv.replace(",</Col", ";</Col") +
                "</OutputSerialization></QueryRequest>"),
        "json_out": (head + "<Expression>SELECT _2 FROM BlobStorage[*] WHERE _1 = '2'"
                     "</Expression><OutputSerialization><Format><Type>json</Type>"
                     "<JsonTextConfiguration><RecordSeparator>;</RecordSeparator>"
                     "</JsonTextConfiguration></Format></OutputSerialization></QueryRequest>"),
        "js": ("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><QueryRequest>"
               "<QueryType>SQL</QueryType><Expression>select count(*) from BlobStorage"
               "</Expression><InputSerialization><Format><Type>delimited</Type>"
               "<DelimitedTextConfiguration><ColumnSeparator>,</ColumnSeparator><FieldQuote/>"
               "<RecordSeparator></RecordSeparator><EscapeChar/><HasHeaders>false</HasHeaders>"
               "</DelimitedTextConfiguration></Format></InputSerialization></QueryRequest>"),
        "arrow": (head + "<Expression>SELECT 1 FROM BlobStorage</Expression><OutputSerialization>"
                  "<Format><Type>arrow</Type><ArrowConfiguration><Schema><Field><Type>int64"
                  "</Type><Name>n</Name></Field></Schema></ArrowConfiguration></Format>"
                  "</OutputSerialization></QueryRequest>"),
    }
    for name, text in seeds.items():
        write("query_request_fuzz", name, text)


def batch_seeds():
    def part(i, line, extra=""):
        return ("--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary"
                f"\r\nContent-ID: {i}\r\n\r\n{line}\r\nx-ms-date: Mon, 01 Jan 2024 00:00:00 GMT"
                f"\r\nAuthorization: SharedKey devstoreaccount1:AAAA\r\n{extra}Content-Length: 0"
                "\r\n\r\n\r\n")
    head = "multipart/mixed; boundary=batch_1\n"
    seeds = {
        "delete": head + part(0, "DELETE /c/a.txt HTTP/1.1") +
        part(1, "DELETE /devstoreaccount1/c/dir/b.txt?timeout=30 HTTP/1.1") + "--batch_1--\r\n",
        "tier": head + part(0, "PUT /c/a.txt?comp=tier HTTP/1.1", "x-ms-access-tier: Cool\r\n") +
        "--batch_1--\r\n",
        "lf": ("multipart/mixed; boundary=\"b q\"\n--b q\nContent-Type: application/http\n\n"
               "DELETE /c/x HTTP/1.1\nx-ms-version: 2021-10-04\n\n--b q--\n"),
    }
    for name, text in seeds.items():
        write("batch_fuzz", name, text)


def main():
    seeders = {
        "batch_fuzz": batch_seeds, "access_policy_fuzz": access_policy_seeds,
        "query_request_fuzz": query_request_seeds,
        "range_fuzz": range_seeds, "properties_fuzz": properties_seeds,
        "block_list_fuzz": block_list_seeds, "acl_fuzz": acl_seeds, "glob_fuzz": glob_seeds,
        "partition_fuzz": partition_seeds, "shared_key_fuzz": shared_key_seeds,
        "jwt_fuzz": jwt_seeds, "catalog_json_fuzz": catalog_json_seeds,
        "identity_json_fuzz": identity_json_seeds,
        "request_pipeline_fuzz": request_pipeline_seeds, "sas_fuzz": sas_seeds,
        "lake_layout_fuzz": lake_layout_seeds, "login_fuzz": login_seeds,
        "pipeline_spec_fuzz": pipeline_spec_seeds, "lineage_event_fuzz": lineage_event_seeds,
        "mlflow_filter_fuzz": mlflow_filter_seeds, "job_spec_fuzz": job_spec_seeds,
        "run_outcome_fuzz": run_outcome_seeds, "dataset_filter_fuzz": dataset_filter_seeds,
        "file_preview_fuzz": file_preview_seeds,
        "service_properties_fuzz": service_properties_seeds,
    }
    for target, seed in seeders.items():
        reset(target)
        seed()


if __name__ == "__main__":
    main()
