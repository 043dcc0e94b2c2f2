// The SQLite IdentityStore: one table (id_records) in the lake's metadata database, opened with
// its own connection. Directory changes are rare; transactions run one at a time.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/identity/identity_store.h"
#include "store/sqlite/sqlite_db.h"

namespace tarn::identity {

class SqliteIdentityStore final : public IdentityStore {
 public:
  static StatusOr<std::unique_ptr<SqliteIdentityStore>> Open(const std::string& path);
  Status Write(const std::function<Status(IdentityTxn&)>& fn) override;
  Status Read(const std::function<Status(IdentityTxn&)>& fn) override;

 private:
  explicit SqliteIdentityStore(std::unique_ptr<sqlite::Connection> c) : conn_(std::move(c)) {}
  Status Run(const char* begin, const std::function<Status(IdentityTxn&)>& fn);

  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> conn_;  // guarded by mu_
};

}  // namespace tarn::identity
