// _duckdb_ref: plain DuckDB for Python, for the benchmarks only (bench/pandas_bench.py).
//
// There is no Python duckdb module on this machine (Debian does not package it, and there is no
// PyPI), so the "DuckDB reading local Parquet into pandas" reference is this: the same libduckdb the
// tabular engine links, with DuckDB's own local file system and none of Tarn's code (no FileOpener,
// no tabular::Engine, no tarn._native conversion). The straightforward conversion: materialise the
// result (DuckDB's parallel scan), then fill one numpy array per column, memcpy for fixed-width
// types, datetimes as datetime64[ns], one str object decoded per string value.
// (Values outside pandas' datetime range are not handled: the benchmark's data are in range.)
//
//   import _duckdb_ref
//   _duckdb_ref.execute("COPY (SELECT ...) TO '/tmp/x.parquet' (FORMAT parquet)")
//   cols = _duckdb_ref.read("SELECT * FROM read_parquet('/tmp/x.parquet')")  # [(name, ndarray)]
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "duckdb.hpp"

namespace py = pybind11;

namespace {

duckdb::DuckDB& Db(int threads) {
  static std::unique_ptr<duckdb::DuckDB> db;
  if (!db) {
    duckdb::DBConfig config;
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
    if (threads > 0) config.SetOptionByName("threads", duckdb::Value::BIGINT(threads));
    db = std::make_unique<duckdb::DuckDB>(nullptr, &config);
  }
  return *db;
}

void Execute(const std::string& sql, int threads) {
  std::string error;
  {
    py::gil_scoped_release nogil;
    duckdb::Connection con(Db(threads));
    auto r = con.Query(sql);
    if (r->HasError()) error = r->GetError();
  }
  if (!error.empty()) throw std::runtime_error(error);
}

// Fills out[0..n) from a flat vector of From, nulls as `null`, values times `scale`.
template <typename From, typename To>
void Fill(duckdb::Vector& v, duckdb::idx_t n, To* out, To null, int64_t scale = 1) {
  const From* d = duckdb::FlatVector::GetData<From>(v);
  const auto& valid = duckdb::FlatVector::Validity(v);
  auto conv = [scale](From x) -> To {
    if constexpr (std::is_same_v<To, bool>) {
      return x;
    } else {
      return static_cast<To>(x) * static_cast<To>(scale);
    }
  };
  if (valid.AllValid()) {
    if constexpr (std::is_same_v<From, To>) {
      if (scale == 1) {
        std::memcpy(out, d, n * sizeof(To));
        return;
      }
    }
    for (duckdb::idx_t i = 0; i < n; ++i) out[i] = conv(d[i]);
    return;
  }
  for (duckdb::idx_t i = 0; i < n; ++i) out[i] = valid.RowIsValid(i) ? conv(d[i]) : null;
}

py::list Read(const std::string& sql, int threads) {
  using Id = duckdb::LogicalTypeId;
  duckdb::unique_ptr<duckdb::MaterializedQueryResult> r;
  std::unique_ptr<duckdb::Connection> con;
  {
    py::gil_scoped_release nogil;
    con = std::make_unique<duckdb::Connection>(Db(threads));
    r = con->Query(sql);
  }
  if (r->HasError()) throw std::runtime_error(r->GetError());
  const auto rows = static_cast<py::ssize_t>(r->RowCount());
  const size_t ncols = r->types.size();
  auto& collection = r->Collection();

  // Which columns have nulls decides int64 vs float64 (as the SDK does); one pass over validity.
  std::vector<bool> has_null(ncols, false);
  for (auto& chunk : collection.Chunks()) {
    for (size_t c = 0; c < ncols; ++c) {
      chunk.data[c].Flatten(chunk.size());
      if (!duckdb::FlatVector::Validity(chunk.data[c]).AllValid()) has_null[c] = true;
    }
  }
  std::vector<py::array> out;
  for (size_t c = 0; c < ncols; ++c) {
    const Id id = r->types[c].id();
    std::string dtype;
    switch (id) {
      case Id::TINYINT: case Id::SMALLINT: case Id::INTEGER: case Id::BIGINT:
        dtype = has_null[c] ? "float64" : "int64";
        break;
      case Id::FLOAT: case Id::DOUBLE:
        dtype = "float64";
        break;
      case Id::DATE: case Id::TIMESTAMP:
        dtype = "datetime64[ns]";  // what pandas holds (and duckdb's own .df() returns)
        break;
      case Id::BOOLEAN:
        dtype = has_null[c] ? "object" : "bool";
        break;
      default:
        dtype = "object";
    }
    out.emplace_back(py::dtype(dtype), std::vector<py::ssize_t>{rows});
  }
  // One pass over the chunks: fixed-width columns by memcpy (or a converting loop), object
  // columns one str per value (the GIL is held: DuckDB's part, the scan, is done).
  std::vector<void*> ptr(ncols);
  for (size_t c = 0; c < ncols; ++c) ptr[c] = out[c].mutable_data();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int64_t nat = std::numeric_limits<int64_t>::min();
  py::ssize_t at = 0;
  for (auto& chunk : collection.Chunks()) {
    const duckdb::idx_t n = chunk.size();
    for (size_t c = 0; c < ncols; ++c) {
      duckdb::Vector& v = chunk.data[c];
      v.Flatten(n);
      const Id id = r->types[c].id();
      auto* f64 = static_cast<double*>(ptr[c]) + at;
      auto* i64 = static_cast<int64_t*>(ptr[c]) + at;
      if (out[c].dtype().kind() != 'O') {
        switch (id) {
          case Id::TINYINT: has_null[c] ? Fill<int8_t>(v, n, f64, nan) : Fill<int8_t>(v, n, i64, int64_t{0}); break;
          case Id::SMALLINT: has_null[c] ? Fill<int16_t>(v, n, f64, nan) : Fill<int16_t>(v, n, i64, int64_t{0}); break;
          case Id::INTEGER: has_null[c] ? Fill<int32_t>(v, n, f64, nan) : Fill<int32_t>(v, n, i64, int64_t{0}); break;
          case Id::BIGINT: has_null[c] ? Fill<int64_t>(v, n, f64, nan) : Fill<int64_t>(v, n, i64, int64_t{0}); break;
          case Id::FLOAT: Fill<float>(v, n, f64, nan); break;
          case Id::DOUBLE: Fill<double>(v, n, f64, nan); break;
          case Id::DATE: Fill<int32_t>(v, n, i64, nat, duckdb::Interval::NANOS_PER_DAY); break;
          case Id::TIMESTAMP: Fill<int64_t>(v, n, i64, nat, duckdb::Interval::NANOS_PER_MICRO); break;
          case Id::BOOLEAN: Fill<bool>(v, n, static_cast<bool*>(ptr[c]) + at, false); break;
          default: break;
        }
        continue;
      }
      auto** cells = static_cast<PyObject**>(ptr[c]) + at;
      const auto& valid = duckdb::FlatVector::Validity(v);
      for (duckdb::idx_t i = 0; i < n; ++i) {
        PyObject* o;
        if (!valid.RowIsValid(i)) {
          o = Py_None;
          Py_INCREF(o);
        } else if (id == Id::VARCHAR) {
          const duckdb::string_t s = duckdb::FlatVector::GetData<duckdb::string_t>(v)[i];
          o = PyUnicode_DecodeUTF8(s.GetData(), static_cast<Py_ssize_t>(s.GetSize()), "replace");
        } else if (id == Id::BOOLEAN) {
          o = duckdb::FlatVector::GetData<bool>(v)[i] ? Py_True : Py_False;
          Py_INCREF(o);
        } else {
          const std::string s = v.GetValue(i).ToString();
          o = PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
        }
        if (!o) throw py::error_already_set();
        Py_XDECREF(cells[i]);
        cells[i] = o;
      }
    }
    at += static_cast<py::ssize_t>(n);
  }
  py::list result;
  for (size_t c = 0; c < ncols; ++c) result.append(py::make_tuple(r->names[c], out[c]));
  {
    py::gil_scoped_release nogil;
    r.reset();
    con.reset();
  }
  return result;
}

}  // namespace

PYBIND11_MODULE(_duckdb_ref, m) {
  m.doc() = "Plain DuckDB (the libduckdb Tarn links) for the benchmarks: local files into numpy";
  m.def("execute", &Execute, py::arg("sql"), py::arg("threads") = 0);
  m.def("read", &Read, py::arg("sql"), py::arg("threads") = 0);
  m.attr("version") = std::string(duckdb::DuckDB::LibraryVersion());
}
