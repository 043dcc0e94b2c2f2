#include "python/lake_paths.h"

#include <string_view>
#include <utility>

#include "python/native_common.h"

namespace py = pybind11;

namespace tarn::python {
namespace {

constexpr size_t kMaxIdle = 16;

std::string_view View(const py::bytes& b) {
  char* data = nullptr;
  Py_ssize_t n = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &data, &n) != 0) throw py::error_already_set();
  return {data, static_cast<size_t>(n)};
}

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const StatusOr<T>& r) {
  return r.status();
}

}  // namespace

template <typename F>
auto LakePaths::With(F&& fn) {
  std::unique_ptr<client::LakeClient> c;
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    if (!pool_->idle.empty()) {
      c = std::move(pool_->idle.back());
      pool_->idle.pop_back();
    }
  }
  if (!c) c = Take(client::LakeClient::Create(pool_->origin, pool_->opts));
  auto r = fn(*c);
  // A transport failure may leave the connection half-used: drop it rather than reuse it.
  if (StatusOf(r).code() != Code::kUnavailable) {
    std::lock_guard<std::mutex> lock(pool_->mu);
    if (pool_->idle.size() < kMaxIdle) pool_->idle.push_back(std::move(c));
  }
  return r;
}

py::list LakePaths::list(const std::string& fs, const std::string& directory, bool recursive) {
  std::vector<client::PathItem> items;
  {
    py::gil_scoped_release nogil;
    Check(With([&](client::LakeClient& c) -> Status {
      std::string next;
      do {
        TARN_ASSIGN_OR_RETURN(client::PathPage page, c.ListPaths(fs, directory, recursive, next));
        for (auto& p : page.paths) items.push_back(std::move(p));
        next = std::move(page.continuation);
      } while (!next.empty());
      return Status::Ok();
    }));
  }
  py::list out;
  for (const auto& p : items) {
    out.append(py::make_tuple(p.name, p.is_directory, p.content_length, p.etag));
  }
  return out;
}

py::object LakePaths::stat(const std::string& fs, const std::string& path) {
  StatusOr<client::PathProperties> r = Status(Code::kInternal, "not called");
  {
    py::gil_scoped_release nogil;
    r = With([&](client::LakeClient& c) { return c.GetPathProperties(fs, path); });
  }
  if (r.status().code() == Code::kNotFound) return py::none();
  client::PathProperties p = Take(std::move(r));
  return py::make_tuple(p.is_directory, p.content_length, p.etag);
}

py::bytes LakePaths::read(const std::string& fs, const std::string& path, int64_t offset,
                          int64_t length) {
  if (offset < 0 || length < 0) {
    Raise(Status(Code::kInvalidArgument, "a read needs a non-negative offset and length"));
  }
  if (length == 0) return py::bytes("");
  std::string out;
  {
    py::gil_scoped_release nogil;
    out = Take(With([&](client::LakeClient& c) {
      return c.GetBlob(fs, path, client::ByteRange{offset, length});
    }));
  }
  return py::bytes(out);
}

void LakePaths::put(const std::string& fs, const std::string& path, const py::bytes& data) {
  std::string_view body = View(data);
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.PutBlob(fs, path, body); }));
}

void LakePaths::create(const std::string& fs, const std::string& path) {
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.CreateFile(fs, path); }));
}

void LakePaths::append(const std::string& fs, const std::string& path, int64_t position,
                       const py::bytes& data) {
  std::string_view body = View(data);
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.Append(fs, path, position, body); }));
}

void LakePaths::flush(const std::string& fs, const std::string& path, int64_t position) {
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.Flush(fs, path, position, true); }));
}

void LakePaths::mkdir(const std::string& fs, const std::string& path) {
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.CreateDirectory(fs, path); }));
}

void LakePaths::remove(const std::string& fs, const std::string& path, bool recursive) {
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.Delete(fs, path, recursive); }));
}

void LakePaths::rename(const std::string& fs, const std::string& source,
                       const std::string& dest) {
  py::gil_scoped_release nogil;
  Check(With([&](client::LakeClient& c) { return c.Rename(fs, source, dest, true); }));
}

void BindLakePaths(py::module_& m) {
  py::class_<LakePaths>(m, "LakePaths")
      .def_property_readonly("account", &LakePaths::account)
      .def("list", &LakePaths::list, py::arg("filesystem"), py::arg("directory"),
           py::arg("recursive"))
      .def("stat", &LakePaths::stat)
      .def("read", &LakePaths::read)
      .def("put", &LakePaths::put)
      .def("create", &LakePaths::create)
      .def("append", &LakePaths::append)
      .def("flush", &LakePaths::flush)
      .def("mkdir", &LakePaths::mkdir)
      .def("remove", &LakePaths::remove)
      .def("rename", &LakePaths::rename);
}

}  // namespace tarn::python
