// tarn._native.LakePaths: file operations on one account of a tarnd, as the caller (its key or
// its storage tokens), for tarn.fsspec's azureml:// paths.
//
// - Each call borrows a LakeClient (one kept-alive connection) from a small pool and gives it
//   back, so concurrent readers (pyarrow's threads) each reuse a connection instead of opening
//   one per request. A client whose call failed in transport is dropped, not reused.
// - Every call releases the GIL. Failures raise CatalogError with the storage API's status
//   (NotFound for a missing path, PermissionDenied for a refused one).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/lake_client.h"

namespace tarn::python {

class LakePaths {
 public:
  LakePaths(std::string origin, client::LakeClientOptions opts)
      : pool_(std::make_shared<Pool>(std::move(origin), std::move(opts))) {}

  std::string account() const { return pool_->opts.account; }
  // [(name, is_directory, size, etag)] under directory ("" = the root), every page.
  pybind11::list list(const std::string& fs, const std::string& directory, bool recursive);
  // (is_directory, size, etag), or None when nothing is at path.
  pybind11::object stat(const std::string& fs, const std::string& path);
  // length bytes from offset (fewer at the end of the file).
  pybind11::bytes read(const std::string& fs, const std::string& path, int64_t offset,
                       int64_t length);
  void put(const std::string& fs, const std::string& path, const pybind11::bytes& data);
  void create(const std::string& fs, const std::string& path);
  void append(const std::string& fs, const std::string& path, int64_t position,
              const pybind11::bytes& data);
  void flush(const std::string& fs, const std::string& path, int64_t position);
  void mkdir(const std::string& fs, const std::string& path);
  void remove(const std::string& fs, const std::string& path, bool recursive);
  void rename(const std::string& fs, const std::string& source, const std::string& dest);

 private:
  struct Pool {
    Pool(std::string o, client::LakeClientOptions p) : origin(std::move(o)), opts(std::move(p)) {}
    std::string origin;
    client::LakeClientOptions opts;
    std::mutex mu;
    std::vector<std::unique_ptr<client::LakeClient>> idle;
  };
  // Runs fn(LakeClient&) with a pooled client, without the GIL.
  template <typename F>
  auto With(F&& fn);

  std::shared_ptr<Pool> pool_;
};

void BindLakePaths(pybind11::module_& m);

}  // namespace tarn::python
