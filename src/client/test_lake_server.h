// For tests: a tarnd frontend in the test's own process (SQLite metadata and local extents in a
// directory the test gives, HTTP on 127.0.0.1 port 0) serving the development account, for
// clients to talk to. Needs tarn_protocol, tarn_lake, tarn_meta, tarn_extent and tarn_http.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/dev_account.h"
#include "common/encoding.h"
#include "http/server.h"
#include "lake/lake_service.h"
#include "protocol/router.h"
#include "store/extent/local/local_extent_store.h"
#include "store/meta/sqlite/sqlite_namespace_store.h"

namespace tarn::testing {

class InProcessLake {
 public:
  // Opens the stores under dir and starts serving; the Status says what failed.
  Status Start(const std::string& dir) {
    auto meta = meta::SqliteNamespaceStore::Open(dir + "/meta.db");
    if (!meta.ok()) return meta.status();
    meta_ = std::move(*meta);
    auto ext = extent::LocalExtentStore::Open(dir + "/extents");
    if (!ext.ok()) return ext.status();
    extents_ = std::move(*ext);
    lake_ = std::make_unique<lake::LakeService>(meta_.get(), extents_.get());
    frontend_ = std::make_unique<protocol::Frontend>(
        lake_.get(), std::vector<protocol::Account>{
                         {tarn::kDevAccount, {*Base64Decode(tarn::kDevKey)}}});
    server_ = std::make_unique<http::Server>(
        http::ServerOptions{},
        [this](http::Request& r, http::ResponseWriter& w) { frontend_->Handle(r, w); });
    auto url = server_->Start();
    if (!url.ok()) return url.status();
    url_ = *url;
    return Status::Ok();
  }
  ~InProcessLake() { Stop(); }
  void Stop() {
    if (server_) server_->Stop();
    server_.reset();
    frontend_.reset();
    lake_.reset();
    extents_.reset();
    meta_.reset();
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::unique_ptr<meta::SqliteNamespaceStore> meta_;
  std::unique_ptr<extent::LocalExtentStore> extents_;
  std::unique_ptr<lake::LakeService> lake_;
  std::unique_ptr<protocol::Frontend> frontend_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace tarn::testing
