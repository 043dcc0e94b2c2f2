// tarn._native: the C++ catalog client and tabular reader for the Python SDK (python/tarn).
//
// - Client wraps client::CatalogClient (and a LakeClient for uploads to this tarnd's own
//   account). Documents come back as Python dicts; every network call releases the GIL.
// - Failures raise CatalogError(server_code, message, status_name); the pure-Python layer turns
//   the server codes into its exception classes (DatasetDriftError, ...).
// - read_table() returns [(name, kind, ndarray)] built straight from the engine's column vectors:
//   numeric, bool and timestamp columns without nulls are the C++ vectors themselves, handed to
//   numpy with a capsule that owns them (no copy, no Python object per row). Nulls: float NaN,
//   int64 with nulls -> float64 with NaN (as azureml), timestamp NaT, bool with nulls and strings
//   -> object arrays with None.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "client/catalog_client.h"
#include "client/discovery.h"
#include "client/lake_client.h"
#include "client/login_cache.h"
#include "client/oauth_token.h"
#include "mount/dataset_mount.h"
#include "python/lake_paths.h"
#include "python/native_common.h"
#ifdef TARN_WITH_TABULAR
#include "dataset_reader/dataset_reader.h"
#include "ingest/ingest.h"
#endif

namespace py = pybind11;

namespace tarn::python {
namespace {

using client::Json;

py::object ToPython(const Json& j) {
  py::object loads = py::module_::import("json").attr("loads");
  return loads(j.dump());
}

Json FromPython(const py::object& o) {
  py::object dumps = py::module_::import("json").attr("dumps");
  return Json::parse(dumps(o).cast<std::string>());
}

std::map<std::string, std::string> Tags(const py::object& o) {
  std::map<std::string, std::string> out;
  if (o.is_none()) return out;
  for (auto item : o.cast<py::dict>()) {
    out[py::str(item.first)] = py::str(item.second);
  }
  return out;
}

#ifdef TARN_WITH_TABULAR
tabular::Engine& SharedEngine() { return tabular::ProcessEngine(); }

// A numpy array over a vector it takes ownership of.
template <typename T>
py::array Adopt(std::vector<T>&& v, const py::dtype& dtype) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule holder(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array(dtype, {static_cast<py::ssize_t>(owned->size())},
                   {static_cast<py::ssize_t>(sizeof(T))}, owned->data(), holder);
}

PyObject* DecodeUtf8(std::string_view s) {
  PyObject* v = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!v) throw py::error_already_set();
  return v;
}

py::tuple ConvertColumn(tabular::Column& c, int64_t rows) {
  using T = tabular::Column::Type;
  bool has_nulls = false;
  for (uint8_t v : c.valid) has_nulls |= v == 0;
  auto valid = [&](size_t i) { return c.valid.empty() || c.valid[i] != 0; };
  switch (c.type) {
    case T::kDouble:
      if (has_nulls) {
        for (size_t i = 0; i < c.f64.size(); ++i) {
          if (!valid(i)) c.f64[i] = std::numeric_limits<double>::quiet_NaN();
        }
      }
      return py::make_tuple(c.name, "float", Adopt(std::move(c.f64), py::dtype("float64")));
    case T::kInt64:
      if (has_nulls) {
        std::vector<double> f(c.i64.size());
        for (size_t i = 0; i < f.size(); ++i) {
          f[i] = valid(i) ? static_cast<double>(c.i64[i])
                          : std::numeric_limits<double>::quiet_NaN();
        }
        return py::make_tuple(c.name, "int_with_nulls", Adopt(std::move(f), py::dtype("float64")));
      }
      return py::make_tuple(c.name, "int", Adopt(std::move(c.i64), py::dtype("int64")));
    case T::kTimestampUs: {
      // datetime64[ns], what pandas holds, converted here in one pass (numpy's own us -> ns cast
      // goes through a calendar struct per value). Values pandas cannot hold (outside
      // 1677-09-22 .. 2262-04-11) become NaT and the kind says so: to_pandas_dataframe raises for
      // out_of_range_datetime='fail'.
      constexpr int64_t kNaT = std::numeric_limits<int64_t>::min();
      constexpr int64_t kLo = kNaT / 1000, kHi = std::numeric_limits<int64_t>::max() / 1000;
      int64_t out_of_range = 0;
      for (size_t i = 0; i < c.i64.size(); ++i) {
        const int64_t us = c.i64[i];
        if (!valid(i)) {
          c.i64[i] = kNaT;
        } else if (us < kLo || us > kHi) {
          c.i64[i] = kNaT;
          ++out_of_range;
        } else {
          c.i64[i] = us * 1000;
        }
      }
      return py::make_tuple(c.name, out_of_range ? "datetime_out_of_range" : "datetime",
                            Adopt(std::move(c.i64), py::dtype("datetime64[ns]")));
    }
    case T::kBool:
      if (!has_nulls) {
        return py::make_tuple(c.name, "bool", Adopt(std::move(c.b), py::dtype("bool")));
      } else {
        py::array out(py::dtype("object"), std::vector<py::ssize_t>{rows});
        auto** cells = static_cast<PyObject**>(out.mutable_data());
        for (int64_t i = 0; i < rows; ++i) {
          PyObject* v = !valid(i) ? Py_None : (c.b[i] ? Py_True : Py_False);
          Py_INCREF(v);
          Py_XDECREF(cells[i]);
          cells[i] = v;
        }
        return py::make_tuple(c.name, "bool_with_nulls", out);
      }
    case T::kString: {
      // A dictionary column (the engine's usual form) is one str per distinct value, shared by
      // the rows that hold it (as pandas' own CSV parser shares them): an INCREF per row, no
      // decode. A plain column is one decode per row.
      py::array out(py::dtype("object"), std::vector<py::ssize_t>{rows});
      auto** cells = static_cast<PyObject**>(out.mutable_data());
      std::vector<PyObject*> dict;
      struct Release {
        std::vector<PyObject*>& d;
        ~Release() {
          for (PyObject* o : d) Py_XDECREF(o);
        }
      } release{dict};
      dict.reserve(c.dict.size());
      for (const std::string& s : c.dict) dict.push_back(DecodeUtf8(s));
      for (int64_t i = 0; i < rows; ++i) {
        PyObject* v;
        if (!valid(i)) {
          v = Py_None;
        } else if (!c.codes.empty()) {
          v = dict[c.codes[i]];
        } else {
          v = DecodeUtf8(c.str[i]);
          Py_XDECREF(cells[i]);
          cells[i] = v;
          continue;
        }
        Py_INCREF(v);
        Py_XDECREF(cells[i]);
        cells[i] = v;
      }
      std::vector<std::string>().swap(c.str);
      std::vector<std::string>().swap(c.dict);
      std::vector<uint32_t>().swap(c.codes);
      return py::make_tuple(c.name, "string", out);
    }
  }
  throw std::runtime_error("unknown column type");
}
#endif

// A mounted dataset version (FileDataset.mount): served on C++ threads, without the GIL.
class Mount {
 public:
  explicit Mount(std::unique_ptr<mount::DatasetMount> m) : m_(std::move(m)) {}
  std::string mount_point() const { return m_->mount_point(); }
  bool mounted() const { return m_->mounted(); }
  void stop() {
    py::gil_scoped_release nogil;
    Check(m_->Stop());
  }

 private:
  std::unique_ptr<mount::DatasetMount> m_;
};

std::optional<std::string> GetEnv(const std::string& k) {
  const char* v = std::getenv(k.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string Text(const py::dict& d, const char* key) {
  return d.contains(key) && !d[key].is_none() ? py::str(d[key]).cast<std::string>() : "";
}

// Tokens for `scope` as `auth` says: {"kind": "service_principal", "authority", "tenant",
// "client_id", "secret", "ca_file"} or {"kind": "login", "dir"} (the sign-in `tarn login` kept).
std::shared_ptr<client::TokenSource> Tokens(const py::dict& auth, const std::string& scope) {
  const std::string kind = Text(auth, "kind");
  if (kind == "service_principal") {
    client::ConnectionOptions o = Take(client::TrustingOptions(Text(auth, "ca_file")));
    client::ClientCredentials c{Text(auth, "authority"), Text(auth, "tenant"),
                                Text(auth, "client_id"), Text(auth, "secret"), scope};
    return Take(client::TokenSource::Create(std::move(c), o));
  }
  if (kind == "login") {
    std::string dir = Text(auth, "dir");
    if (dir.empty()) dir = client::LoginDir(GetEnv);
    auto login = Take(client::ReadLogin(dir));
    if (!login) {
      Raise(Status(Code::kUnauthenticated,
                   "not signed in: run `tarn login`, or use InteractiveLoginAuthentication"));
    }
    return Take(client::UserTokens(*login, scope));
  }
  Raise(Status(Code::kInvalidArgument, "unknown kind of authentication '" + kind + "'"));
}

py::object LoginInfo(const client::Login& l, const std::string& dir) {
  py::dict d;
  d["endpoint"] = l.endpoint;
  d["authority"] = l.authority;
  d["tenant"] = l.tenant;
  d["username"] = l.username;
  d["account"] = l.account;
  d["ca_file"] = l.ca_file;
  d["path"] = dir + "/login.json";
  return d;
}

// The sign-in `tarn login` kept, without its token (None when there is none).
py::object ReadLogin(const std::string& dir_arg) {
  const std::string dir = dir_arg.empty() ? client::LoginDir(GetEnv) : dir_arg;
  auto login = Take(client::ReadLogin(dir));
  if (!login) return py::none();
  return LoginInfo(*login, dir);
}

// The device code flow: prompt(message) shows the user what to do; then waits for the sign-in
// and keeps it as `tarn login` does. Returns the login's description.
py::object DeviceLogin(const std::string& endpoint, const std::string& tenant,
                       const py::object& prompt, const std::string& client_id,
                       const std::string& ca_file, const std::string& account,
                       const std::string& dir_arg) {
  const std::string dir = dir_arg.empty() ? client::LoginDir(GetEnv) : dir_arg;
  client::Endpoint ep = Take(client::ParseEndpoint(endpoint));
  client::Login l;
  l.endpoint = l.authority = ep.Origin();
  l.tenant = tenant;
  l.client_id = client_id.empty() ? client::kPublicClientId : client_id;
  l.ca_file = ca_file;
  l.account = account;
  client::ConnectionOptions o = Take(client::TrustingOptions(ca_file));
  client::DeviceCodeFlow flow;
  {
    py::gil_scoped_release nogil;
    auto f = client::StartDeviceCode(l.authority, tenant, l.client_id, client::kWorkspaceScope, o);
    if (!f.ok()) {
      py::gil_scoped_acquire gil;
      Raise(f.status());
    }
    flow = *f;
  }
  prompt(flow.message);
  StatusOr<client::TokenSet> t = Status(Code::kInternal, "not called");
  {
    py::gil_scoped_release nogil;
    t = client::FinishDeviceCode(l.authority, tenant, l.client_id, flow, o, [] {
      py::gil_scoped_acquire gil;
      return PyErr_CheckSignals() == 0;  // Ctrl-C stops the wait
    });
  }
  if (PyErr_Occurred()) throw py::error_already_set();
  client::TokenSet tokens = Take(std::move(t));
  l.username = tokens.username;
  l.refresh_token = tokens.refresh_token;
  Check(client::WriteLogin(dir, l));
  return LoginInfo(l, dir);
}

class Client {
 public:
  Client(const std::string& endpoint, const std::string& account, const std::string& key,
         int parallel_reads, const py::object& auth) {
    client::CatalogClientOptions o;
    if (!account.empty()) o.account = account;
    o.key_base64 = key;
    o.parallel_reads = parallel_reads;
    if (!auth.is_none()) {
      auth_ = auth.cast<py::dict>();
      o.bearer = Tokens(*auth_, client::kWorkspaceScope);
      o.connection = Take(client::TrustingOptions(TrustedCa()));
    }
    catalog_ = Take(client::CatalogClient::Create(endpoint, o));
    key_ = key;
    // Tracking calls carry tokens for their own audience.
    if (auth_) o.bearer = Tokens(*auth_, client::kTrackingScope);
    tracking_ = Take(client::CatalogClient::Create(endpoint, o));
  }

  // A query given as a dict of str (None: no query).
  static std::vector<std::pair<std::string, std::string>> QueryOf(const py::object& query) {
    std::vector<std::pair<std::string, std::string>> q;
    if (query.is_none()) return q;
    for (auto item : query.cast<py::dict>()) {
      q.emplace_back(py::str(item.first).cast<std::string>(),
                     py::str(item.second).cast<std::string>());
    }
    return q;
  }

  // One MLflow RPC of workspace ws (tarn.core's runs): body None for a GET, whose query is
  // `query` (a dict of str).
  py::object tracking(const std::string& method, const std::string& ws, const std::string& rpc,
                      const py::object& body, const py::object& query) {
    const auto q = QueryOf(query);
    std::optional<Json> b;
    if (!body.is_none()) b = FromPython(body);
    return Json_([&] { return tracking_->Tracking(method, ws, rpc, q, b ? &*b : nullptr); });
  }

  // A call of workspace ws's MLflow API that carries bytes (tarn.core's artifacts): `path`
  // below /api/2.0/ ("mlflow-artifacts/artifacts/..."), body bytes or None; the answer's bytes.
  py::bytes tracking_bytes(const std::string& method, const std::string& ws,
                           const std::string& path, const py::object& body,
                           const py::object& query) {
    const auto q = QueryOf(query);
    std::optional<std::string> b;
    if (!body.is_none()) b = body.cast<std::string>();
    StatusOr<std::string> r = Status(Code::kInternal, "not called");
    {
      py::gil_scoped_release nogil;
      r = tracking_->TrackingBytes(method, ws, path, q, b ? &*b : nullptr);
    }
    return py::bytes(Take(std::move(r)));
  }

  // Any other call of workspace ws's API (tarn.core's submitted runs: "jobs", "jobs/<id>/logs",
  // "computes"): body None for a GET, whose query is `query` (a dict of str).
  py::object workspace_api(const std::string& method, const std::string& ws,
                           const std::string& subpath, const py::object& body,
                           const py::object& query) {
    const auto q = QueryOf(query);
    std::optional<Json> b;
    if (!body.is_none()) b = FromPython(body);
    return Json_([&] { return catalog_->WorkspaceApi(method, ws, subpath, q, b ? &*b : nullptr); });
  }

  std::string account() const { return catalog_->account(); }
  std::string account_url() const { return catalog_->AccountUrl(); }

  py::object create_workspace(const std::string& ws, const std::string& sub,
                              const std::string& rg, const std::string& description) {
    return Json_(
        [&] { return catalog_->CreateWorkspace(ws, client::WorkspaceSpec{sub, rg, description}); });
  }
  py::object list_workspaces() { return Json_([&] { return catalog_->ListWorkspaces(); }); }
  py::object get_workspace(const std::string& ws) {
    return Json_([&] { return catalog_->GetWorkspace(ws); });
  }
  void delete_workspace(const std::string& ws) {
    Status_([&] { return catalog_->DeleteWorkspace(ws); });
  }

  py::object register_datastore(const std::string& ws, const std::string& name,
                                const std::string& endpoint, const std::string& account_name,
                                const std::string& filesystem, const py::object& credential,
                                bool overwrite, bool skip_validation) {
    client::DatastoreSpec s;
    s.endpoint = endpoint;
    s.account_name = account_name;
    s.filesystem = filesystem;
    s.credential = FromPython(credential);
    s.overwrite = overwrite;
    s.skip_validation = skip_validation;
    return Json_([&] { return catalog_->RegisterDatastore(ws, name, s); });
  }
  py::object list_datastores(const std::string& ws) {
    return Json_([&] { return catalog_->ListDatastores(ws); });
  }

  py::object put_pipeline(const std::string& ws, const std::string& name,
                          const std::string& definition) {
    return Json_([&] { return catalog_->PutPipeline(ws, name, definition); });
  }
  py::object get_pipeline(const std::string& ws, const std::string& name) {
    return Json_([&] { return catalog_->GetPipeline(ws, name); });
  }
  py::object list_pipelines(const std::string& ws) {
    return Json_([&] { return catalog_->ListPipelines(ws); });
  }
  void delete_pipeline(const std::string& ws, const std::string& name) {
    Status_([&] { return catalog_->DeletePipeline(ws, name); });
  }
  py::object start_pipeline_run(const std::string& ws, const std::string& name, int64_t wait_ms) {
    return Json_([&] { return catalog_->StartPipelineRun(ws, name, wait_ms); });
  }
  py::object get_pipeline_run(const std::string& ws, const std::string& id, int64_t wait_ms) {
    return Json_([&] { return catalog_->GetPipelineRun(ws, id, wait_ms); });
  }
  py::object list_pipeline_runs(const std::string& ws, const std::string& name, int64_t limit) {
    return Json_([&] { return catalog_->ListPipelineRuns(ws, name, limit); });
  }
  py::object get_datastore(const std::string& ws, const std::string& name) {
    return Json_([&] { return catalog_->GetDatastore(ws, name); });
  }
  void unregister_datastore(const std::string& ws, const std::string& name) {
    Status_([&] { return catalog_->UnregisterDatastore(ws, name); });
  }
  py::object set_default_datastore(const std::string& ws, const std::string& name) {
    return Json_([&] { return catalog_->SetDefaultDatastore(ws, name); });
  }
  py::object get_default_datastore(const std::string& ws) {
    return Json_([&] { return catalog_->GetDefaultDatastore(ws); });
  }

  py::object register_version(const std::string& ws, const std::string& name,
                              const py::object& definition, const std::string& description,
                              const py::object& tags, bool create_new_version) {
    client::VersionSpec s;
    s.definition = FromPython(definition);
    s.description = description;
    s.tags = Tags(tags);
    s.create_new_version = create_new_version;
    return Json_([&] { return catalog_->RegisterVersion(ws, name, s); });
  }
  py::object list_datasets(const std::string& ws, bool include_archived) {
    return Json_([&] { return catalog_->ListDatasets(ws, include_archived); });
  }
  py::object get_dataset(const std::string& ws, const std::string& name,
                         const std::string& version) {
    return Json_([&] { return catalog_->GetDataset(ws, name, version); });
  }
  py::object list_versions(const std::string& ws, const std::string& name) {
    return Json_([&] { return catalog_->ListVersions(ws, name); });
  }
  py::object get_dataset_by_id(const std::string& ws, const std::string& id) {
    return Json_([&] { return catalog_->GetDatasetById(ws, id); });
  }
  py::object update_version(const std::string& ws, const std::string& name, int64_t version,
                            const py::object& description, const py::object& tags,
                            const py::object& add_tags, const py::object& remove_tags) {
    client::VersionUpdate u;
    if (!description.is_none()) u.description = description.cast<std::string>();
    if (!tags.is_none()) u.tags = Tags(tags);
    u.add_tags = Tags(add_tags);
    if (!remove_tags.is_none()) u.remove_tags = remove_tags.cast<std::vector<std::string>>();
    return Json_([&] { return catalog_->UpdateVersion(ws, name, version, u); });
  }
  py::object set_version_state(const std::string& ws, const std::string& name, int64_t version,
                               bool archive) {
    return Json_([&] {
      return archive ? catalog_->ArchiveVersion(ws, name, version)
                     : catalog_->ReactivateVersion(ws, name, version);
    });
  }
  void delete_version(const std::string& ws, const std::string& name, int64_t version) {
    Status_([&] { return catalog_->DeleteVersion(ws, name, version); });
  }
  void delete_dataset(const std::string& ws, const std::string& name) {
    Status_([&] { return catalog_->DeleteDataset(ws, name); });
  }

  py::list list_files(const std::string& ws, const std::string& name, int64_t version) {
    std::vector<client::DatasetFile> files;
    {
      py::gil_scoped_release nogil;
      files = Take(catalog_->ListFiles(client::VersionRef{ws, name, version}));
    }
    py::list out;
    for (const auto& f : files) {
      py::dict d;
      d["index"] = f.index;
      d["path"] = f.path;
      d["size"] = f.size;
      d["etag"] = f.etag;
      d["md5"] = f.md5;
      d["partition"] = f.partition;
      out.append(d);
    }
    return out;
  }

  void download_file(const std::string& ws, const std::string& name, int64_t version,
                     int64_t index, const std::string& path, int64_t size,
                     const std::string& local_path, bool ignore_drift) {
    client::DatasetFile f{index, path, size, "", "", {}};
    py::gil_scoped_release nogil;
    Check(catalog_->DownloadFile(client::VersionRef{ws, name, version, ignore_drift}, f,
                                 local_path));
  }

  Mount mount(const std::string& ws, const std::string& name, int64_t version,
              const std::string& mount_point, bool ignore_drift) {
    py::gil_scoped_release nogil;
    client::VersionRef v{ws, name, version, ignore_drift};
    std::vector<client::DatasetFile> files = Take(catalog_->ListFiles(v));
    mount::MountOptions o;
    o.on_error = [](const std::string& path, const Status& why) {
      std::fprintf(stderr, "tarn mount: reading %s failed: %s\n", path.c_str(),
                   why.message().c_str());
    };
    return Mount(Take(mount::DatasetMount::Start(*catalog_, v, files, mount_point, o)));
  }

  py::bytes read_file(const std::string& ws, const std::string& name, int64_t version,
                      int64_t index, bool ignore_drift) {
    std::string out;
    {
      py::gil_scoped_release nogil;
      client::BodySink sink = [&](std::string_view p) {
        out.append(p);
        return Status::Ok();
      };
      Take(catalog_->ReadFile(client::VersionRef{ws, name, version, ignore_drift}, index,
                              std::nullopt, sink));
    }
    return py::bytes(out);
  }

  // File operations on `account` (this tarnd's own account when "") as this client's caller:
  // tarn.fsspec's azureml:// paths.
  LakePaths lake_paths(const std::string& account) {
    client::LakeClientOptions opts = LakeOptions();  // reads auth_: with the GIL
    if (!account.empty()) opts.account = account;
    return LakePaths(catalog_->endpoint().Origin(), std::move(opts));
  }

  // Creates a filesystem on this tarnd's own account; one that exists is fine.
  void create_filesystem(const std::string& filesystem) {
    client::LakeClientOptions opts = LakeOptions();  // reads auth_: with the GIL
    py::gil_scoped_release nogil;
    Status s = Lake(opts)->CreateFilesystem(filesystem);
    if (s.code() != Code::kAlreadyExists) Check(s);
  }

  // Uploads a local file to <filesystem>/<path> on this tarnd's own account (Put Blob).
  void upload_file(const std::string& filesystem, const std::string& path,
                   const std::string& local_path) {
    client::LakeClientOptions opts = LakeOptions();  // reads auth_: with the GIL
    py::gil_scoped_release nogil;
    auto lake = Lake(opts);
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(local_path.c_str(), "rb"), &std::fclose);
    if (!f) Raise(Status(Code::kNotFound, "cannot open " + local_path));
    std::fseek(f.get(), 0, SEEK_END);
    int64_t size = std::ftell(f.get());
    std::fseek(f.get(), 0, SEEK_SET);
    std::vector<char> buf(1 << 20);
    client::BodySource src = [&]() -> StatusOr<std::string_view> {
      size_t k = std::fread(buf.data(), 1, buf.size(), f.get());
      return std::string_view(buf.data(), k);
    };
    Check(lake->PutBlob(filesystem, path, size, src));
  }

  py::list read_table(const std::string& ws, const std::string& name, int64_t version,
                      const py::object& definition, bool fail_on_error,
                      const py::object& limit, bool ignore_drift) {
#ifdef TARN_WITH_TABULAR
    Json def = FromPython(definition);
    dataset_reader::ReadOptions o;
    o.fail_on_error = fail_on_error;
    if (!limit.is_none()) o.limit = limit.cast<int64_t>();
    tabular::Table t;
    {
      py::gil_scoped_release nogil;
      client::VersionRef v{ws, name, version, ignore_drift};
      auto files = Take(catalog_->ListFiles(v));
      dataset_reader::DatasetReader reader(SharedEngine(), *catalog_, v, files);
      t = Take(reader.Read(def, o));
    }
    py::list out;
    for (auto& c : t.columns) out.append(ConvertColumn(c, t.rows));
    return out;
#else
    Raise(Status(Code::kUnimplemented,
                 "this build of tarn._native lacks the tabular engine (DuckDB)"));
#endif
  }

  py::list write_table(const std::string& ws, const std::string& name, int64_t version,
                       const py::object& definition, const std::string& format,
                       const std::string& local_dir, const std::string& separator,
                       bool ignore_drift) {
#ifdef TARN_WITH_TABULAR
    Json def = FromPython(definition);
    std::vector<std::string> names;
    {
      py::gil_scoped_release nogil;
      auto out = Take(tabular::ParseFormat(format));
      client::VersionRef v{ws, name, version, ignore_drift};
      auto files = Take(catalog_->ListFiles(v));
      dataset_reader::DatasetReader reader(SharedEngine(), *catalog_, v, files);
      names = Take(reader.Write(def, out, local_dir, separator));
    }
    py::list l;
    for (auto& n : names) l.append(n);
    return l;
#else
    Raise(Status(Code::kUnimplemented,
                 "this build of tarn._native lacks the tabular engine (DuckDB)"));
#endif
  }

  // Lands local files or directories as one batch of `source` in `filesystem` (ingest/ingest.h).
  // progress: None or a callable(phase, done, total), called at most every 100 ms per phase
  // and at each phase's end.
  py::dict ingest(const std::string& filesystem, const std::vector<std::string>& inputs,
                  const std::string& source, const std::string& date, int threads,
                  const py::object& progress, const std::string& workspace,
                  const std::string& dataset, const std::string& datastore,
                  const std::string& format) {
#ifdef TARN_WITH_TABULAR
    ingest::Options o;
    o.filesystem = filesystem;
    o.source = source;
    o.date = date;
    o.threads = threads;
    std::string phase;
    auto last = std::chrono::steady_clock::time_point{};
    if (!progress.is_none()) {
      // Called from the transfer threads, one at a time.
      o.progress = [&](const ingest::Progress& p) {
        auto now = std::chrono::steady_clock::now();
        if (p.phase == phase && p.done < p.total && now - last < std::chrono::milliseconds(100)) {
          return;
        }
        phase = p.phase;
        last = now;
        py::gil_scoped_acquire gil;
        try {
          progress(p.phase, p.done, p.total);
        } catch (py::error_already_set& e) {
          e.discard_as_unraisable("tarn ingest progress callback");
        }
      };
    }
    ingest::Result r;
    Json version;
    ingest::Registration reg{workspace, dataset, datastore, format};
    client::LakeClientOptions lake = LakeOptions();  // reads auth_: with the GIL
    {
      py::gil_scoped_release nogil;
      if (!dataset.empty()) {
        reg.datastore = Take(ingest::DatastoreFor(*catalog_, reg, filesystem, catalog_->account()));
      }
      ingest::ClientFactory connect = [url = catalog_->endpoint().Origin(), lake] {
        return client::LakeClient::Create(url, lake);
      };
      r = Take(ingest::Ingest(inputs, o, connect, SharedEngine()));
      if (!dataset.empty()) version = Take(ingest::RegisterBatch(*catalog_, reg, filesystem, r));
    }
    py::dict out;
    out["dataset"] = ToPython(version);
    out["duplicate"] = r.duplicate;
    out["path"] = r.path;
    out["manifest"] = ToPython(r.manifest);
    return out;
#else
    Raise(Status(Code::kUnimplemented,
                 "this build of tarn._native lacks the tabular engine (DuckDB)"));
#endif
  }

 private:
  // How this client reaches the lake: its key, or its auth's storage tokens. Reads auth_, a
  // Python object: call it with the GIL held.
  client::LakeClientOptions LakeOptions() {
    client::LakeClientOptions o;
    o.account = catalog_->account();
    o.key_base64 = key_;
    if (auth_) {
      o.bearer = Tokens(*auth_, client::kStorageScope);
      o.connection = Take(client::TrustingOptions(TrustedCa()));
    }
    return o;
  }
  std::unique_ptr<client::LakeClient> Lake(const client::LakeClientOptions& opts) {
    return Take(client::LakeClient::Create(catalog_->endpoint().Origin(), opts));
  }

  // The CAs to trust for tarnd itself: the auth's, or the login's.
  std::string TrustedCa() const {
    if (!auth_) return "";
    if (Text(*auth_, "kind") == "login") {
      std::string dir = Text(*auth_, "dir");
      if (dir.empty()) dir = client::LoginDir(GetEnv);
      auto login = client::ReadLogin(dir);
      return login.ok() && *login ? (*login)->ca_file : "";
    }
    return Text(*auth_, "ca_file");
  }

  template <typename F>
  py::object Json_(F&& f) {
    StatusOr<Json> r = Status(Code::kInternal, "not called");
    {
      py::gil_scoped_release nogil;
      r = f();
    }
    return ToPython(Take(std::move(r)));
  }
  template <typename F>
  void Status_(F&& f) {
    Status s;
    {
      py::gil_scoped_release nogil;
      s = f();
    }
    Check(s);
  }

  std::unique_ptr<client::CatalogClient> catalog_;
  std::unique_ptr<client::CatalogClient> tracking_;
  std::string key_;
  std::optional<py::dict> auth_;
};

}  // namespace
}  // namespace tarn::python

PYBIND11_MODULE(_native, m) {
  using tarn::python::CatalogException;
  using tarn::python::Client;
  m.doc() = "Tarn's C++ catalog client and tabular reader (see docs/sdk.md)";
  tarn::python::BindLakePaths(m);
  static py::exception<CatalogException> error(m, "CatalogError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CatalogException& e) {
      PyErr_SetObject(error.ptr(), py::make_tuple(e.server_code, e.what(), e.status).ptr());
    }
  });
#ifdef TARN_WITH_TABULAR
  m.attr("HAVE_TABULAR") = true;
#else
  m.attr("HAVE_TABULAR") = false;
#endif
  m.def("read_login", &tarn::python::ReadLogin, py::arg("dir") = "");
  // What the CLI decides alike (client/discovery.h): config.json's place, the development key.
  m.def(
      "find_config",
      [](const std::string& start, const std::string& name) -> py::object {
        auto found = tarn::client::FindConfig(start, name.empty() ? "config.json" : name);
        if (!found) return py::none();
        return py::str(*found);
      },
      py::arg("start"), py::arg("name") = "");
  m.def(
      "development_key",
      [](const std::string& endpoint) -> py::object {
        auto key = tarn::client::DevelopmentKeyFor(endpoint);
        if (!key) return py::none();
        return py::str(*key);
      },
      py::arg("endpoint"));
  m.def("device_login", &tarn::python::DeviceLogin, py::arg("endpoint"), py::arg("tenant"),
        py::arg("prompt"), py::arg("client_id") = "", py::arg("ca_file") = "",
        py::arg("account") = "", py::arg("dir") = "");
  py::class_<tarn::python::Mount>(m, "Mount")
      .def_property_readonly("mount_point", &tarn::python::Mount::mount_point)
      .def_property_readonly("mounted", &tarn::python::Mount::mounted)
      .def("stop", &tarn::python::Mount::stop);
  py::class_<Client>(m, "Client")
      .def(py::init<const std::string&, const std::string&, const std::string&, int,
                    const py::object&>(),
           py::arg("endpoint"), py::arg("account"), py::arg("key"), py::arg("parallel_reads") = 4,
           py::arg("auth") = py::none())
      .def_property_readonly("account", &Client::account)
      .def_property_readonly("account_url", &Client::account_url)
      .def("create_workspace", &Client::create_workspace)
      .def("list_workspaces", &Client::list_workspaces)
      .def("get_workspace", &Client::get_workspace)
      .def("delete_workspace", &Client::delete_workspace)
      .def("register_datastore", &Client::register_datastore)
      .def("list_datastores", &Client::list_datastores)
      .def("get_datastore", &Client::get_datastore)
      .def("unregister_datastore", &Client::unregister_datastore)
      .def("set_default_datastore", &Client::set_default_datastore)
      .def("get_default_datastore", &Client::get_default_datastore)
      .def("put_pipeline", &Client::put_pipeline)
      .def("get_pipeline", &Client::get_pipeline)
      .def("list_pipelines", &Client::list_pipelines)
      .def("delete_pipeline", &Client::delete_pipeline)
      .def("start_pipeline_run", &Client::start_pipeline_run)
      .def("get_pipeline_run", &Client::get_pipeline_run)
      .def("list_pipeline_runs", &Client::list_pipeline_runs)
      .def("register_version", &Client::register_version)
      .def("list_datasets", &Client::list_datasets)
      .def("get_dataset", &Client::get_dataset)
      .def("list_versions", &Client::list_versions)
      .def("get_dataset_by_id", &Client::get_dataset_by_id)
      .def("update_version", &Client::update_version)
      .def("set_version_state", &Client::set_version_state)
      .def("delete_version", &Client::delete_version)
      .def("delete_dataset", &Client::delete_dataset)
      .def("list_files", &Client::list_files)
      .def("download_file", &Client::download_file)
      .def("read_file", &Client::read_file)
      .def("mount", &Client::mount, py::keep_alive<0, 1>())
      .def("upload_file", &Client::upload_file)
      .def("lake_paths", &Client::lake_paths, py::arg("account") = "")
      .def("create_filesystem", &Client::create_filesystem)
      .def("read_table", &Client::read_table)
      .def("write_table", &Client::write_table)
      .def("ingest", &Client::ingest)
      .def("workspace_api", &Client::workspace_api, py::arg("method"), py::arg("ws"),
           py::arg("subpath"), py::arg("body") = py::none(), py::arg("query") = py::none())
      .def("tracking", &Client::tracking, py::arg("method"), py::arg("ws"), py::arg("rpc"),
           py::arg("body") = py::none(), py::arg("query") = py::none())
      .def("tracking_bytes", &Client::tracking_bytes, py::arg("method"), py::arg("ws"),
           py::arg("path"), py::arg("body") = py::none(), py::arg("query") = py::none());
}
