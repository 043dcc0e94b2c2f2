// PackedExtentStore: keeps small extents packed in one SQLite database and passes larger ones
// to a base store (a decorator, in the manner of ClickHouse's object-storage decorators).
//
// Why: a file per extent costs an inode allocation, a file fsync and a directory fsync. For the
// many small files of a data lake (1 KiB appends, manifests, _SUCCESS markers) that dominates.
// Packed extents are written by group commit: concurrent writers share one transaction and one
// fsync, and nothing is created in the file system.
//
// Contract (on top of ExtentStore's):
// - Extents of at most `threshold` bytes are packed; a writer buffers up to that much in memory
//   and moves to the base store the moment it grows past it.
// - Packed ids have bit 63 set; the base store must hand out ids with bit 63 clear.
// - Finish of a packed extent returns only after its transaction is durable (synchronous=FULL).
// - Removal need not be durable: an extent whose removal is lost in a crash is unreferenced and
//   start-up recovery removes it again.
//
//   TARN_ASSIGN_OR_RETURN(auto local, LocalExtentStore::Open(dir));
//   TARN_ASSIGN_OR_RETURN(auto store, PackedExtentStore::Open(dir + "/packed.db",
//                                                            std::move(local)));
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/group_commit.h"
#include "store/extent/extent_store.h"

namespace tarn::sqlite {
class Connection;
}  // namespace tarn::sqlite

namespace tarn::extent {

class PackedExtentStore final : public ExtentStore {
 public:
  static constexpr size_t kDefaultThreshold = 64 * 1024;

  static StatusOr<std::unique_ptr<PackedExtentStore>> Open(const std::string& db_path,
                                                          std::unique_ptr<ExtentStore> base,
                                                          size_t threshold = kDefaultThreshold);
  ~PackedExtentStore() override;
  PackedExtentStore(const PackedExtentStore&) = delete;
  PackedExtentStore& operator=(const PackedExtentStore&) = delete;

  StatusOr<std::unique_ptr<Writer>> NewWriter(Hashing hashing) override;
  StatusOr<std::unique_ptr<Reader>> Open(uint64_t id) override;
  Status Remove(uint64_t id) override;
  Status RemoveMany(const std::vector<uint64_t>& ids) override;
  StatusOr<std::vector<uint64_t>> ListAll() override;

  static bool IsPacked(uint64_t id) { return (id >> 63) != 0; }
  ExtentStore* base() { return base_.get(); }
  size_t threshold() const { return threshold_; }

  // Stores one packed extent durably (group commit). Used by the writer.
  Status Put(uint64_t id, const std::string& data);

 private:
  struct Op;
  PackedExtentStore(std::unique_ptr<ExtentStore> base, size_t threshold,
                    std::unique_ptr<sqlite::Connection> writer,
                    std::unique_ptr<sqlite::Connection> reader);
  // Queues op and waits until a transaction holding it has committed.
  Status Submit(Op* op);
  void RunBatch(std::vector<Op*>& batch);
  Status CommitBatch(const std::vector<Op*>& batch);

  std::unique_ptr<ExtentStore> base_;
  const size_t threshold_;

  std::unique_ptr<sqlite::Connection> writer_;  // used only by the current leader
  GroupCommitter<Op> committer_;                // after writer_: its batches use it

  std::mutex read_mu_;
  std::unique_ptr<sqlite::Connection> reader_;  // GUARDED_BY(read_mu_)
};

}  // namespace tarn::extent
