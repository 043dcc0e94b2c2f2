#include "store/extent/packed/packed_extent_store.h"

#include <cstring>

#include "common/crypto.h"
#include "store/sqlite/sqlite_db.h"

namespace tarn::extent {
namespace {

constexpr uint64_t kPackedBit = 1ULL << 63;

// Buffers up to the threshold; past it, moves everything to a base-store writer.
class PackedWriter final : public Writer {
 public:
  PackedWriter(PackedExtentStore* store, uint64_t id, Hashing hashing)
      : store_(store), id_(id), hashing_(hashing) {}

  uint64_t id() const override { return base_ ? base_->id() : id_; }

  Status Append(std::string_view data) override {
    if (done_) return Status(Code::kFailedPrecondition, "Append on a finished extent writer");
    if (base_) return base_->Append(data);
    buf_.append(data);
    if (buf_.size() <= store_->threshold()) return Status::Ok();
    TARN_ASSIGN_OR_RETURN(base_, store_->base()->NewWriter(hashing_));
    Status s = base_->Append(buf_);
    buf_.clear();
    buf_.shrink_to_fit();
    return s;
  }

  StatusOr<ExtentInfo> Finish() override {
    if (done_) return Status(Code::kFailedPrecondition, "Finish on a finished extent writer");
    done_ = true;
    if (base_) return base_->Finish();
    TARN_RETURN_IF_ERROR(store_->Put(id_, buf_));
    return ExtentInfo{id_, static_cast<int64_t>(buf_.size()),
                      hashing_ == Hashing::kMd5 ? Md5(buf_) : std::string()};
  }

  void Abandon() override {
    done_ = true;
    if (base_) base_->Abandon();
    buf_.clear();
  }

 private:
  PackedExtentStore* const store_;
  const uint64_t id_;
  const Hashing hashing_;
  std::string buf_;
  std::unique_ptr<Writer> base_;
  bool done_ = false;
};

int64_t ToDb(uint64_t id) { return static_cast<int64_t>(id); }

}  // namespace

struct PackedExtentStore::Op {
  uint64_t put_id = 0;
  const std::string* put_data = nullptr;
  std::vector<uint64_t> remove;
  Status result;
};

PackedExtentStore::PackedExtentStore(std::unique_ptr<ExtentStore> base, size_t threshold,
                                     std::unique_ptr<sqlite::Connection> writer,
                                     std::unique_ptr<sqlite::Connection> reader)
    : base_(std::move(base)),
      threshold_(threshold),
      writer_(std::move(writer)),
      committer_([this](std::vector<Op*>& batch) { RunBatch(batch); }),
      reader_(std::move(reader)) {}

PackedExtentStore::~PackedExtentStore() { committer_.Drain(); }

StatusOr<std::unique_ptr<PackedExtentStore>> PackedExtentStore::Open(
    const std::string& db_path, std::unique_ptr<ExtentStore> base, size_t threshold) {
  TARN_ASSIGN_OR_RETURN(auto writer, sqlite::Connection::Open(db_path, false));
  TARN_RETURN_IF_ERROR(writer->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS packed(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"));
  TARN_ASSIGN_OR_RETURN(auto reader, sqlite::Connection::Open(db_path, true));
  return std::unique_ptr<PackedExtentStore>(new PackedExtentStore(
      std::move(base), threshold, std::move(writer), std::move(reader)));
}

StatusOr<std::unique_ptr<Writer>> PackedExtentStore::NewWriter(Hashing hashing) {
  uint64_t id = RandomU64() | kPackedBit;
  return std::unique_ptr<Writer>(std::make_unique<PackedWriter>(this, id, hashing));
}

StatusOr<std::unique_ptr<Reader>> PackedExtentStore::Open(uint64_t id) {
  if (!IsPacked(id)) return base_->Open(id);
  std::lock_guard<std::mutex> l(read_mu_);
  sqlite::Query q(*reader_, "SELECT data FROM packed WHERE id = ?");
  q.Int(ToDb(id));
  TARN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status(Code::kNotFound, "packed extent not found");
  return std::unique_ptr<Reader>(std::make_unique<MemoryReader>(q.ColBlob(0)));
}

Status PackedExtentStore::Put(uint64_t id, const std::string& data) {
  Op op;
  op.put_id = id;
  op.put_data = &data;
  return Submit(&op);
}

Status PackedExtentStore::Remove(uint64_t id) { return RemoveMany({id}); }

Status PackedExtentStore::RemoveMany(const std::vector<uint64_t>& ids) {
  Op op;
  std::vector<uint64_t> base_ids;
  for (uint64_t id : ids) (IsPacked(id) ? op.remove : base_ids).push_back(id);
  TARN_RETURN_IF_ERROR(base_->RemoveMany(base_ids));
  if (op.remove.empty()) return Status::Ok();
  return Submit(&op);
}

StatusOr<std::vector<uint64_t>> PackedExtentStore::ListAll() {
  TARN_ASSIGN_OR_RETURN(auto ids, base_->ListAll());
  std::lock_guard<std::mutex> l(read_mu_);
  sqlite::Query q(*reader_, "SELECT id FROM packed");
  for (;;) {
    TARN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ids.push_back(static_cast<uint64_t>(q.ColInt(0)));
  }
  return ids;
}

Status PackedExtentStore::Submit(Op* op) {
  committer_.Submit(op);
  return op->result;
}

void PackedExtentStore::RunBatch(std::vector<Op*>& batch) {
  Status s = CommitBatch(batch);
  for (Op* o : batch) o->result = s;
}

// One transaction for the whole batch: all of it commits (one fsync) or none of it does.
Status PackedExtentStore::CommitBatch(const std::vector<Op*>& batch) {
  TARN_RETURN_IF_ERROR(sqlite::Exec(*writer_, "BEGIN IMMEDIATE"));
  Status s;
  for (const Op* o : batch) {
    if (o->put_data) {
      sqlite::Query q(*writer_, "INSERT INTO packed(id, data) VALUES(?, ?)");
      q.Int(ToDb(o->put_id)).Blob(*o->put_data);
      s = q.Run();
    }
    for (uint64_t id : o->remove) {
      if (!s.ok()) break;
      sqlite::Query q(*writer_, "DELETE FROM packed WHERE id = ?");
      q.Int(ToDb(id));
      s = q.Run();
    }
    if (!s.ok()) break;
  }
  if (!s.ok()) {
    sqlite::Exec(*writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  return sqlite::Exec(*writer_, "COMMIT");
}

}  // namespace tarn::extent
