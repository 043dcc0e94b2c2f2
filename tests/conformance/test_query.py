"""Query Blob Contents (issue 16): BlobClient.query_blob and DataLakeFileClient.query_file of
Microsoft's SDKs against tarnd. The SDK writes the QueryRequest document and reads tarnd's Avro
answer with its own reader: data, progress, errors through on_error, the end. Debian's older SDK
and the current one (.venv) both run this file (scripts/test.sh)."""

import io
from datetime import datetime, timedelta, timezone

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError
from azure.storage.blob import (BlobClient, BlobSasPermissions, DelimitedJsonDialect,
                                DelimitedTextDialect, generate_blob_sas)

from sharedkey import ACCOUNT, ACCOUNT_KEY
from tarn_harness import SDK_KWARGS, unique_name

SALES = ("id,region,amount,note\n"
         "1,north,10.5,first\n"
         "2,south,20,\"quoted, with a comma\"\n"
         "3,north,7,\n"
         "4,east,31.25,last\n")
CSV_IN = DelimitedTextDialect(delimiter=",", quotechar='"', lineterminator="\n", escapechar="",
                              has_header=True)


@pytest.fixture
def sales(container):
    return container.upload_blob("raw/sales/2024.csv", SALES.encode())


def test_select_where_with_a_header_row(sales):
    reader = sales.query_blob("SELECT region, amount FROM BlobStorage WHERE amount > 10",
                              blob_format=CSV_IN, output_format=CSV_IN)
    assert reader.readall() == b"region,amount\nnorth,10.5\nsouth,20\neast,31.25\n"
    assert len(reader) == len(SALES)


def test_default_dialect_gives_the_rows_back_as_written(sales):
    # No formats: delimited text without a header row, fields named _1, _2...
    assert sales.query_blob("SELECT * from BlobStorage").readall() == SALES.encode()
    reader = sales.query_blob("SELECT _2 FROM BlobStorage WHERE _1 = '3'")
    assert list(reader.records()) == [b"north", b""]


def test_output_dialect_and_quoting(sales):
    out = DelimitedTextDialect(delimiter=";", quotechar="'", lineterminator=".", escapechar="\\",
                               has_header=False)
    got = sales.query_blob("SELECT id, amount, note FROM BlobStorage WHERE id < 3",
                           blob_format=CSV_IN, output_format=out).readall()
    # Fields holding the record separator are quoted, as Azure quotes them.
    assert got == b"1;'10.5';first.2;20;quoted, with a comma."


def test_csv_to_json_and_json_lines(container, sales):
    got = sales.query_blob("SELECT id, region FROM BlobStorage WHERE region = 'north'",
                           blob_format=CSV_IN,
                           output_format=DelimitedJsonDialect(delimiter="\n")).readall()
    assert got == b'{"id":"1","region":"north"}\n{"id":"3","region":"north"}\n'
    events = container.upload_blob(
        "events.json", b'{"name":"owner","n":1}\n{"name":"b","n":2.5}\n{"name":"c","n":4}\n')
    reader = events.query_blob("SELECT name, n FROM BlobStorage[*] WHERE n > 2",
                               blob_format=DelimitedJsonDialect(delimiter="\n"),
                               output_format=DelimitedJsonDialect(delimiter=";"))
    # DuckDB reads the column as DOUBLE (it holds 2.5): 4 comes back as 4.0.
    assert reader.readall() == b'{"name":"b","n":2.5};{"name":"c","n":4.0};'


def test_fields_used_as_numbers_are_read_as_numbers(sales):
    got = sales.query_blob("SELECT count(*), sum(amount), max(CAST(amount AS DOUBLE)) "
                           "FROM BlobStorage WHERE amount BETWEEN 5 AND 25",
                           blob_format=CSV_IN, output_format=DelimitedTextDialect()).readall()
    assert got == b"3,37.5,20.0\n"
    # Without has_header the header row is data: it is no number, so it drops out.
    assert sales.query_blob("SELECT _1 FROM BlobStorage WHERE _3 > 30").readall() == b"4\n"


@pytest.mark.parametrize("sql,says", [
    ("SELECT nope FROM BlobStorage", "nope"),
    ("SELECT lower(region, note) FROM BlobStorage", "lower"),
    ("SELECT * FROM BlobStorage WHERE", "does not parse"),
    ("SELECT * FROM read_csv('/etc/passwd')", "FROM BlobStorage"),
    ("SELECT * FROM BlobStorage WHERE id IN (SELECT 1)", "subquery"),
    ("SELECT * FROM BlobStorage; DROP TABLE x", "one SELECT"),
])
def test_bad_expressions_are_refused_saying_why(sales, sql, says):
    with pytest.raises(HttpResponseError) as e:
        sales.query_blob(sql, blob_format=CSV_IN)
    assert e.value.status_code == 400
    assert e.value.error_code == "ErrorProcessingQueryExpression"
    assert says in e.value.message


def test_a_value_that_does_not_convert_is_reported_through_on_error(sales):
    errors = []
    reader = sales.query_blob("SELECT CAST(region AS DOUBLE) FROM BlobStorage",
                              blob_format=CSV_IN, on_error=errors.append)
    assert reader.readall() == b""
    assert [(e.error, e.is_fatal) for e in errors] == [("InvalidTypeConversion", True)]
    assert "north" in errors[0].description


def test_a_blob_that_is_not_its_format_is_a_parse_error(sales):
    errors = []
    reader = sales.query_blob("SELECT * FROM BlobStorage",
                              blob_format=DelimitedJsonDialect(delimiter="\n"),
                              on_error=errors.append)
    assert reader.readall() == b""
    assert [(e.error, e.is_fatal) for e in errors] == [("ParseError", True)]


def test_a_large_answer_streams_whole(container):
    rows = "".join(f"{i},name-{i},{i * 1.5}\n" for i in range(400_000))
    big = container.upload_blob("big.csv", rows.encode())
    reader = big.query_blob("SELECT * FROM BlobStorage")
    assert reader.readall() == rows.encode()
    assert len(reader) == len(rows)
    odd = big.query_blob("SELECT _1 FROM BlobStorage WHERE CAST(_1 AS BIGINT) % 100000 = 7")
    assert odd.readall() == b"7\n100007\n200007\n300007\n"


def test_conditions_and_missing_blobs(container, sales):
    etag = sales.get_blob_properties().etag
    assert sales.query_blob("SELECT count(*) FROM BlobStorage", etag=etag,
                            match_condition=MatchConditions.IfNotModified).readall() == b"5\n"
    with pytest.raises(ResourceModifiedError):
        sales.query_blob("SELECT * FROM BlobStorage", etag='"0x1"',
                         match_condition=MatchConditions.IfNotModified)
    with pytest.raises(HttpResponseError) as e:
        container.get_blob_client("nothing.csv").query_blob("SELECT * FROM BlobStorage")
    assert e.value.status_code == 404
    with pytest.raises(HttpResponseError) as e:
        container.get_blob_client("raw/sales").query_blob("SELECT * FROM BlobStorage")
    assert e.value.status_code == 409  # a directory has no contents to query


def test_a_query_is_a_read(tarn, container, sales):
    now = datetime.now(timezone.utc)

    def client(permission):
        sas = generate_blob_sas(ACCOUNT, container.container_name, "raw/sales/2024.csv",
                                account_key=ACCOUNT_KEY, permission=permission,
                                expiry=now + timedelta(hours=1), start=now - timedelta(minutes=5))
        return BlobClient.from_blob_url(f"{sales.url}?{sas}", **SDK_KWARGS)

    got = client(BlobSasPermissions(read=True)).query_blob("SELECT count(*) FROM BlobStorage")
    assert got.readall() == b"5\n"
    with pytest.raises(HttpResponseError) as e:
        client(BlobSasPermissions(write=True)).query_blob("SELECT * FROM BlobStorage")
    assert e.value.status_code == 403


def test_arrow_output_is_refused_as_not_served_yet(sales):
    from azure.storage.blob import ArrowDialect, ArrowType
    with pytest.raises(HttpResponseError) as e:
        sales.query_blob("SELECT id FROM BlobStorage", blob_format=CSV_IN,
                         output_format=[ArrowDialect(ArrowType.INT64, name="id")])
    assert e.value.status_code == 501


def test_datalake_query_file(tarn, dl_service):
    fs = dl_service.create_file_system(unique_name("q"))
    try:
        f = fs.get_file_client("curated/sales.csv")
        f.upload_data(SALES.encode(), overwrite=True)
        from azure.storage.filedatalake import DelimitedTextDialect as DlDialect
        dialect = DlDialect(delimiter=",", quotechar='"', lineterminator="\n", escapechar="",
                            has_header=True)
        reader = f.query_file("SELECT region FROM DataLakeStorage WHERE id = '4'",
                              file_format=dialect)
        # The SDK asks for the input's dialect as output: a header row comes first.
        assert reader.readall() == b"region\neast\n"
    finally:
        dl_service.delete_file_system(fs.file_system_name)


def test_parquet_input(container):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from azure.storage.blob import QuickQueryDialect
    table = pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"], "score": [0.5, 1.5, 2.5]})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    blob = container.upload_blob("t.parquet", buf.getvalue())
    got = blob.query_blob("SELECT id, name FROM BlobStorage WHERE score > 1",
                          blob_format=QuickQueryDialect.Parquet,
                          output_format=DelimitedTextDialect(has_header=True)).readall()
    assert got == b"id,name\n2,b\n3,c\n"
