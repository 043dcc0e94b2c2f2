"""TabularDataset, as azureml.data.TabularDataset: lazy and immutable; every transform returns a
new dataset, applied by the tabular engine when the data is read.

to_pandas_dataframe reads the registered bytes with DuckDB inside tarn._native (parallel range
reads, no temporary copy) and builds numpy arrays straight from the engine's column vectors.
Null handling, as azureml: float NaN; an integer column with nulls becomes float64 with NaN; a
datetime NaT; a bool column with nulls and string columns are object arrays holding None.
"""

import copy
import datetime
import os
import random
import shutil
import tempfile
import uuid

from tarn.core.data._expression import Column, Expression
from tarn.core.data.abstract_dataset import AbstractDataset
from tarn.core.exceptions import DataReadError, TarnError, UserErrorException

_ON_ERROR = ("null", "fail")


def _columns(columns):
    if isinstance(columns, str):
        return [columns]
    cols = list(columns)
    if not all(isinstance(c, str) for c in cols):
        raise UserErrorException("columns must be names (strings)", "InvalidColumns")
    return cols


def _count(count, what):
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise UserErrorException("%s needs a non-negative integer count, not %r" % (what, count),
                                 "InvalidArgument")
    return count


class TabularDataset(AbstractDataset):
    # ----- column references for filter() --------------------------------------------------
    def __getitem__(self, name):
        return Column(name)

    def __getattr__(self, name):
        """A column by attribute (ds.age > 30): only for the dataset's columns; any other name
        is an AttributeError, so hasattr() and typos behave as in Python."""
        if not name.startswith("_"):
            try:
                columns = self._column_names()
            except TarnError:
                columns = []
            if name in columns:
                return Column(name)
        raise AttributeError("'%s' object has no attribute '%s' (neither a method nor a column "
                             "of the dataset)" % (type(self).__name__, name))

    # ----- subsetting -----------------------------------------------------------------------
    def take(self, count):
        return self._derive({"op": "take", "count": _count(count, "take")})

    def skip(self, count):
        return self._derive({"op": "skip", "count": _count(count, "skip")})

    def take_sample(self, probability, seed=None):
        if not 0 <= probability <= 1:
            raise UserErrorException("probability must be within [0, 1]", "InvalidArgument")
        t = {"op": "take_sample", "probability": float(probability)}
        if seed is not None:
            t["seed"] = int(seed)
        return self._derive(t)

    def random_split(self, percentage, seed=None):
        """(first, second): a `percentage` share of the rows and the rest, disjoint."""
        if not 0 < percentage < 1:
            raise UserErrorException("percentage must be between 0.0 and 1.0", "InvalidArgument")
        seed = random.randrange(2 ** 31) if seed is None else int(seed)
        return tuple(self._derive({"op": "random_split", "percentage": float(percentage),
                                   "seed": seed, "part": part}) for part in (0, 1))

    def keep_columns(self, columns, validate=False):
        return self._derive({"op": "keep_columns", "columns": _columns(columns)})

    def drop_columns(self, columns):
        return self._derive({"op": "drop_columns", "columns": _columns(columns)})

    def filter(self, expression):
        """Rows where the expression holds: ds.filter(ds['age'] > 15), combine with & | ~.
        A string in the engine's language ("age > 15 and region == 'eu'") is taken as is."""
        if isinstance(expression, Expression):
            text = expression.text
        elif isinstance(expression, str):
            text = expression
        else:
            raise UserErrorException("filter takes an expression such as ds['age'] > 15",
                                     "InvalidArgument")
        return self._derive({"op": "filter", "expression": text})

    # ----- time series (azureml's) ----------------------------------------------------------
    @property
    def timestamp_columns(self):
        """(timestamp, partition_timestamp), as with_timestamp_columns set them."""
        t = self._definition.get("timestamp_columns") or {}
        return (t.get("timestamp"), t.get("partition_timestamp"))

    def with_timestamp_columns(self, timestamp=None, partition_timestamp=None, validate=False,
                               **kwargs):
        """A new dataset whose time filters (time_before, time_after, time_between,
        time_recent) use these columns; None clears them. azureml's older names
        fine_grain_timestamp and coarse_grain_timestamp are accepted. Registration checks that
        the columns exist; validate=True checks now."""
        timestamp = timestamp or kwargs.pop("fine_grain_timestamp", None)
        partition_timestamp = partition_timestamp or kwargs.pop("coarse_grain_timestamp", None)
        if kwargs:
            raise UserErrorException("unexpected arguments: %s" % ", ".join(sorted(kwargs)),
                                     "InvalidArgument")
        for v in (timestamp, partition_timestamp):
            if v is not None and not isinstance(v, str):
                raise UserErrorException("timestamp columns are column names", "InvalidColumns")
        if partition_timestamp and not timestamp:
            raise UserErrorException("partition_timestamp needs timestamp too",
                                     "InvalidArgument")
        if timestamp and timestamp == partition_timestamp:
            raise UserErrorException("timestamp and partition_timestamp must be different "
                                     "columns", "InvalidArgument")
        definition = copy.deepcopy(self._definition)
        if timestamp:
            definition["timestamp_columns"] = {"timestamp": timestamp,
                                               "partition_timestamp": partition_timestamp}
        else:
            definition.pop("timestamp_columns", None)
        ds = self._with_definition(definition)
        if validate:
            for col in (timestamp, partition_timestamp):
                ds._require_column(col)
        return ds

    def time_before(self, end_time, include_boundary=True, validate=True):
        """Rows whose timestamp is before end_time (at it too, with include_boundary)."""
        return self._time_filter(None, end_time, include_boundary, validate, "time_before")

    def time_after(self, start_time, include_boundary=True, validate=True):
        """Rows whose timestamp is after start_time (at it too, with include_boundary)."""
        return self._time_filter(start_time, None, include_boundary, validate, "time_after")

    def time_between(self, start_time, end_time, include_boundary=True, validate=True):
        """Rows whose timestamp lies between start_time and end_time."""
        return self._time_filter(start_time, end_time, include_boundary, validate,
                                 "time_between")

    def time_recent(self, time_delta, include_boundary=True, validate=True):
        """Rows of the last time_delta (a datetime.timedelta) up to now."""
        if not isinstance(time_delta, datetime.timedelta):
            raise UserErrorException("time_recent takes a datetime.timedelta", "InvalidArgument")
        return self._time_filter(datetime.datetime.now() - time_delta, None, include_boundary,
                                 validate, "time_recent")

    def _time_filter(self, start, end, include_boundary, validate, what):
        timestamp, partition = self.timestamp_columns
        if not timestamp:
            raise UserErrorException(
                "%s needs a timestamp column: call with_timestamp_columns(timestamp=...) first"
                % what, "NoTimestampColumns")
        for t in (start, end):
            if t is not None and not isinstance(t, (datetime.datetime, datetime.date)):
                raise UserErrorException("%s takes datetime values, not %r" % (what, t),
                                         "InvalidArgument")
        if start is not None and end is not None and start > end:
            raise UserErrorException("%s: start_time is after end_time" % what,
                                     "InvalidArgument")
        if validate:
            self._require_column(timestamp)
        col = Column(timestamp)
        expr = None
        if start is not None:
            expr = col >= start if include_boundary else col > start
        if end is not None:
            upper = col <= end if include_boundary else col < end
            expr = upper if expr is None else expr & upper
            if partition:
                # A partition's timestamp is the start of its span: one that starts after the
                # end holds no row before it (this prunes whole partitions).
                p = Column(partition)
                expr = expr & (p <= end if include_boundary else p < end)
        return self.filter(expr)

    def _require_column(self, name):
        if name is None:
            return
        cols = self._column_names()
        if name not in cols:
            raise UserErrorException("'%s' is not a column of the dataset (columns: %s)"
                                     % (name, ", ".join(cols)), "InvalidColumns")

    def _column_names(self):
        if self._doc and self._doc.get("schema") is not None and \
                not self._definition.get("transforms"):
            return [c["name"] for c in self._doc["schema"]]
        return [name for name, _, _ in self._read_columns("null", limit=0)]

    # ----- output ---------------------------------------------------------------------------
    def _read_columns(self, on_error, limit=None, ignore_drift=False):
        if on_error not in _ON_ERROR:
            raise UserErrorException("on_error is 'null' or 'fail', not %r" % (on_error,),
                                     "InvalidArgument")
        ws = self._need_workspace()
        with self._read_source() as (name, version, definition):
            return ws._client.read_table(ws.name, name, version, definition, on_error == "fail",
                                         limit, bool(ignore_drift))

    def to_pandas_dataframe(self, on_error="null", out_of_range_datetime="null", *,
                            ignore_drift=False):
        """Loads every row into a pandas DataFrame.

        on_error='null' turns values set_column_types cannot convert into nulls; 'fail' raises
        DataReadError. out_of_range_datetime='null' turns datetimes pandas cannot hold (outside
        1677-2262) into NaT; 'fail' raises. ignore_drift=True reads files of an external
        datastore that changed since registration instead of raising DatasetDriftError.
        """
        import pandas as pd
        if out_of_range_datetime not in _ON_ERROR:
            raise UserErrorException("out_of_range_datetime is 'null' or 'fail'",
                                     "InvalidArgument")
        cols = self._read_columns(on_error, None, ignore_drift)
        data = {}
        for name, kind, values in cols:
            # The extension hands datetimes over as datetime64[ns], those pandas cannot hold
            # (outside 1677-2262) already NaT, and says when there were any.
            if kind == "datetime_out_of_range" and out_of_range_datetime == "fail":
                raise DataReadError("column %s holds a datetime pandas cannot represent"
                                    % name, "OutOfRangeDatetime")
            data[name] = values
        return pd.DataFrame(data, copy=False)

    def _write(self, fmt, separator=","):
        ws = self._need_workspace()
        store = ws.get_default_datastore()
        if not store.local:
            raise UserErrorException(
                "to_%s_files writes to the workspace's default datastore, which must be on this "
                "tarnd (%s is external)" % (fmt, store.name), "ExternalDefaultDatastore")
        prefix = "tarn-output/%s" % uuid.uuid4().hex
        tmp = tempfile.mkdtemp(prefix="tarn-write-")
        try:
            with self._read_source() as (name, version, definition):
                names = ws._client.write_table(ws.name, name, version, definition, fmt, tmp,
                                               separator, False)
            for n in names:
                ws._client.upload_file(store.filesystem, prefix + "/" + n, os.path.join(tmp, n))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        from tarn.core.data.dataset_factory import FileDatasetFactory
        return FileDatasetFactory.from_files((store, prefix + "/**"), validate=False)

    def to_dask_dataframe(self, sample_size=10000, dtypes=None, on_error="null",
                          out_of_range_datetime="null"):
        """The rows as a dask DataFrame. Tarn reads them when this is called (its reader is
        already parallel, over pinned bytes), then dask splits them into partitions of at most
        a million rows. sample_size and dtypes are accepted for azureml's signature."""
        try:
            import dask.dataframe as dd
        except ImportError as e:
            raise UserErrorException("to_dask_dataframe needs dask[dataframe]: pip install "
                                     "'dask[dataframe]' (%s)" % e, "MissingDependency") from None
        df = self.to_pandas_dataframe(on_error, out_of_range_datetime)
        return dd.from_pandas(df, npartitions=max(1, -(-len(df) // 1_000_000)))

    def partition_by(self, partition_keys, target, name=None, show_progress=True,
                     partition_as_file_dataset=False):
        """Copies the rows to target as Parquet, in one Hive folder (key=value) per value of
        partition_keys, under a new folder of its own, and returns the dataset of the copy
        (a FileDataset with partition_as_file_dataset). With `name` the copy is registered as
        that dataset's next version. Its partition_keys are the given keys."""
        from tarn.core import _transfer
        from tarn.core.data.dataset_factory import (FileDatasetFactory, TabularDatasetFactory,
                                                    _join_rel, _target)
        keys = _columns(partition_keys)
        if not keys:
            raise UserErrorException("partition_by needs at least one key", "InvalidColumns")
        for k in keys:
            self._require_column(k)
        store, path = _target(target, "partition_by")
        path = _join_rel(path, uuid.uuid4().hex)
        df = self.to_pandas_dataframe()
        with tempfile.TemporaryDirectory(prefix="tarn-partition-") as tmp:
            df.to_parquet(tmp, partition_cols=keys, index=False)
            _transfer.upload_files(store, _transfer.local_files(tmp), relative_root=tmp,
                                   target_path=path, overwrite=True,
                                   show_progress=show_progress)
        if partition_as_file_dataset:
            out = FileDatasetFactory.from_files((store, path), validate=False)
        else:
            out = TabularDatasetFactory.from_parquet_files((store, path + "/**/*.parquet"),
                                                           validate=False)
        if name:
            out = out.register(store.workspace, name, create_new_version=True)
        return out

    def to_csv_files(self, separator=","):
        """Writes the data as CSV files to the default datastore (tarn-output/<uuid>/) and
        returns a FileDataset over them."""
        return self._write("csv", separator)

    def to_parquet_files(self):
        """As to_csv_files, in Parquet."""
        return self._write("parquet")

    # ----- profile --------------------------------------------------------------------------
    def get_profile(self, arguments=None, generate_if_not_exist=True, workspace=None,
                    compute_target=None):
        """The column profile tarnd computed at registration (for a derived or unregistered
        dataset, through a short-lived registration)."""
        if self._doc:
            return DatasetProfile(self._doc)
        ws = self._need_workspace()
        name = "tarn-tmp-" + uuid.uuid4().hex
        doc = ws._client.register_version(ws.name, name, self._definition, "temporary profile",
                                          {"tarn.temporary": "true"}, False)
        try:
            return DatasetProfile(doc)
        finally:
            ws._client.delete_dataset(ws.name, name)


class ColumnProfile:
    def __init__(self, doc):
        self.column_name = doc.get("name")
        self.type = doc.get("type")
        self.min = doc.get("min")
        self.max = doc.get("max")
        self.missing_count = doc.get("nulls")
        self.unique_values = doc.get("distinct")

    def __repr__(self):
        return ("ColumnProfile(column_name=%r, type=%r, min=%r, max=%r, missing_count=%r, "
                "unique_values=%r)" % (self.column_name, self.type, self.min, self.max,
                                       self.missing_count, self.unique_values))


class DatasetProfile:
    """row_count and columns {name: ColumnProfile}."""

    def __init__(self, doc):
        self.row_count = doc.get("row_count")
        self.columns = {c["name"]: ColumnProfile(c) for c in doc.get("profile") or []}

    def to_pandas_dataframe(self):
        import pandas as pd
        return pd.DataFrame([vars(c) for c in self.columns.values()])

    def __repr__(self):
        return "DatasetProfile(row_count=%r, columns=%r)" % (self.row_count,
                                                             list(self.columns.values()))
