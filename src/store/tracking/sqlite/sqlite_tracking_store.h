// The SQLite TrackingStore: its own database file (tracking.db beside meta.db), so that metric
// logging never waits on the lake's namespace writes. WAL with synchronous=FULL: a Write that
// returned is on disk. Writes are group-committed: concurrent Writes share one transaction and
// one fsync, each inside a savepoint of its own. Reads use a small pool of read connections.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/group_commit.h"
#include "store/sqlite/sqlite_db.h"
#include "store/tracking/tracking_store.h"

namespace tarn::tracking {

// The tables (CREATE TABLE IF NOT EXISTS ...): also what tests and fuzzers of the run filter's SQL
// (run_filter_sql.h) run it against.
extern const char kTrackingSchema[];

class SqliteTrackingStore final : public TrackingStore {
 public:
  static StatusOr<std::unique_ptr<SqliteTrackingStore>> Open(const std::string& path);
  ~SqliteTrackingStore() override;

  Status Write(const std::function<Status(TrackingTxn&)>& fn) override;
  Status Read(const std::function<Status(TrackingTxn&)>& fn) override;

 private:
  struct Op {
    const std::function<Status(TrackingTxn&)>* fn = nullptr;
    Status result;
  };
  struct Reader {
    std::mutex mu;
    std::unique_ptr<sqlite::Connection> conn;  // guarded by mu
  };

  SqliteTrackingStore(std::string path, std::unique_ptr<sqlite::Connection> writer);
  void RunBatch(std::vector<Op*>& batch);

  const std::string path_;
  std::unique_ptr<sqlite::Connection> writer_;  // used by the group commit's leader only
  GroupCommitter<Op> commits_;
  std::vector<std::unique_ptr<Reader>> readers_;
};

}  // namespace tarn::tracking
