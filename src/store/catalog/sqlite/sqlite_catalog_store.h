// The SQLite CatalogStore. It opens the lake's metadata database (meta.db) with its own
// connection and keeps its tables (cat_*) beside the namespace's; WAL lets both connections
// work at once. Catalog writes are rare, so transactions run one at a time under a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/catalog/catalog_store.h"
#include "store/sqlite/sqlite_db.h"

namespace tarn::catalog {

class SqliteCatalogStore final : public CatalogStore {
 public:
  static StatusOr<std::unique_ptr<SqliteCatalogStore>> Open(const std::string& path);

  Status Write(const std::function<Status(CatalogTxn&)>& fn) override;
  Status Read(const std::function<Status(CatalogTxn&)>& fn) override;

 private:
  explicit SqliteCatalogStore(std::unique_ptr<sqlite::Connection> conn) : conn_(std::move(conn)) {}
  Status Run(const char* begin, const std::function<Status(CatalogTxn&)>& fn);

  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> conn_;  // guarded by mu_
};

}  // namespace tarn::catalog
