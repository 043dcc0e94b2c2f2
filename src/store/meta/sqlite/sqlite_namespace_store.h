// SqliteNamespaceStore: the embedded NamespaceStore, one SQLite database file in WAL mode.
//
// Writes: one writer connection, used by one caller at a time, the leader. Write(fn) queues fn;
// a caller that finds no transaction running becomes the leader and drains every queued fn into
// one transaction (BEGIN IMMEDIATE) on its own thread, running each inside its own
// SAVEPOINT (an fn that fails is rolled back to its savepoint alone), then COMMITs once, so one
// fsync (synchronous=FULL) covers the whole group. If that COMMIT fails, every caller whose fn
// succeeded gets an Internal error (callers whose fn failed keep their own error).
//
// Checkpoints: the writer does not checkpoint the WAL itself (SQLite's automatic checkpoint
// would run inside the leader's COMMIT, stalling every caller queued behind it). A commit that
// leaves the WAL at kCheckpointPages or more wakes a background thread, which runs a PASSIVE
// checkpoint on its own connection while the leader goes on committing. Those cannot finish
// the WAL while commits race them, so at kRestartPages the leader checkpoints the rest itself
// (only the frames since the last background pass) and the WAL starts over.
//
// Reads: a pool of read-only connections, opened on demand and reused. Each Read runs in one
// read transaction, a WAL snapshot of the last commit.
//
// Behaviour the interface leaves open, decided here (and checked by the contract tests):
// - A file extent list, staged entry or pin naming an extent that has no record fails (Internal);
//   reference counts can therefore never miss a reference.
// - UpdateNode / MoveNode of a missing node: kPathNotFound; UpdateFilesystem / DeleteFilesystem
//   of a missing filesystem: kFilesystemNotFound. DeleteSubtree of a missing node returns 0.
// - InsertExtent of an id that already has a record: Internal. InsertInlineExtent whose data
//   size differs from the record's length: Internal.
// - Inline bytes live in their own table, extent_data (schema version 2; a version 1 database
//   is upgraded when opened), and go with their extents row.
// - ClearStagedUnder(fs, "") clears every staged entry of the filesystem.
// - limit < 0 in listings means "no limit".
//
// Usage:
//   TARN_ASSIGN_OR_RETURN(auto store, SqliteNamespaceStore::Open(dir + "/meta.db"));
//   TARN_RETURN_IF_ERROR(store->Write([&](WriteTxn& t) { return t.InsertNode(n).status(); }));
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/group_commit.h"
#include "common/status.h"
#include "store/meta/namespace_store.h"

struct sqlite3;

namespace tarn::sqlite {
class Connection;
}  // namespace tarn::sqlite

namespace tarn::meta {

class SqliteNamespaceStore final : public NamespaceStore {
 public:
  // Opens (creating if needed) the database at db_path. The directory must exist.
  static StatusOr<std::unique_ptr<SqliteNamespaceStore>> Open(const std::string& db_path);

  ~SqliteNamespaceStore() override;
  SqliteNamespaceStore(const SqliteNamespaceStore&) = delete;
  SqliteNamespaceStore& operator=(const SqliteNamespaceStore&) = delete;

  Status Write(const std::function<Status(WriteTxn&)>& fn) override;
  Status Read(const std::function<Status(ReadTxn&)>& fn) override;

 private:
  struct PendingWrite;

  SqliteNamespaceStore(std::string db_path, std::unique_ptr<sqlite::Connection> writer,
                       std::unique_ptr<sqlite::Connection> checkpointer, int wal_fd);

  // The committer's two steps. RunBatch runs the batch's fns in one transaction and commits it
  // to the WAL unsynced (synchronous = NORMAL); SettleBatch, run after the next batch has
  // started, returns once that commit is durable. Readers may see a commit before it is durable:
  // what acts outside the store on what it reads must read inside a Write (as the GC does).
  void RunBatch(const std::vector<PendingWrite*>& batch);
  void SettleBatch(const std::vector<PendingWrite*>& batch);
  // Makes commit seq durable, with one fdatasync of the WAL for every commit made before it.
  Status SyncWal(uint64_t seq);
  // The error of a failed fdatasync, after which every write is refused; OK before one.
  Status SyncFailure();
  // sqlite3_wal_hook of the writer: called after each commit with the WAL's size in pages.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void CheckpointLoop();
  StatusOr<std::unique_ptr<sqlite::Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<sqlite::Connection> conn);

  const std::string db_path_;
  // Used only by the current leader.
  std::unique_ptr<sqlite::Connection> writer_;

  const int wal_fd_;  // the WAL, opened again for fdatasync; owned

  std::atomic<uint64_t> committed_seq_{0};  // commits so far; written only by the leader
  std::mutex sync_mu_;                      // one fdatasync at a time
  uint64_t synced_seq_ = 0;                 // GUARDED_BY(sync_mu_) commits known durable
  Status sync_error_;                       // GUARDED_BY(sync_mu_) sticky, after a failed sync
  std::atomic<bool> sync_failed_{false};    // sync_error_ is set

  std::atomic<bool> stopping_{false};
  GroupCommitter<PendingWrite> committer_;  // after the members above: its batches use them

  std::mutex read_mu_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_;  // GUARDED_BY(read_mu_)

  static constexpr int kCheckpointPages = 1000;       // SQLite's own default threshold
  static constexpr int kRestartPages = 4000;          // about 16 MB of WAL
  int wal_pages_ = 0;                                 // used only in OnWalCommit, by the leader
  int next_checkpoint_at_ = kCheckpointPages;         // used only in OnWalCommit, by the leader
  std::unique_ptr<sqlite::Connection> checkpointer_;  // used only by checkpoint_thread_
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;    // GUARDED_BY(checkpoint_mu_)
  bool checkpoint_stop_ = false;   // GUARDED_BY(checkpoint_mu_)
  std::thread checkpoint_thread_;  // last: it uses the members above
};

}  // namespace tarn::meta
