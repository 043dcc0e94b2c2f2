#include "store/extent/local/local_extent_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "common/crypto.h"

namespace tarn::extent {
namespace {

constexpr mode_t kFileMode = 0640;
constexpr mode_t kDirMode = 0750;
constexpr int kMaxCreateAttempts = 16;

// Works with both the GNU and the XSI flavour of strerror_r.
[[maybe_unused]] const char* StrerrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "unknown error";
}
[[maybe_unused]] const char* StrerrorResult(const char* msg, const char*) { return msg; }

std::string ErrnoText(int err) {
  char buf[128];
  buf[0] = '\0';
  return StrerrorResult(strerror_r(err, buf, sizeof(buf)), buf);
}

Status ErrnoError(std::string_view what, std::string_view path, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return Error(Reason::kDiskFull, "the data disk has no space left for extent bytes");
  }
  std::string msg(what);
  msg += " ";
  msg += path;
  msg += ": ";
  msg += ErrnoText(err);
  return InternalError(std::move(msg));
}

constexpr char kHexDigits[] = "0123456789abcdef";

std::string IdName(uint64_t id) {
  std::string name(16, '0');
  for (int i = 15; i >= 0; --i, id >>= 4) name[i] = kHexDigits[id & 15];
  return name;
}

std::string ShardName(int shard) {
  return std::string{kHexDigits[(shard >> 4) & 15], kHexDigits[shard & 15]};
}

// Parses a file name written by IdName; anything else is not an extent.
bool ParseIdName(const char* name, uint64_t* id) {
  if (std::strlen(name) != 16) return false;
  uint64_t v = 0;
  for (int i = 0; i < 16; ++i) {
    char c = name[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *id = v;
  return true;
}

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);  // Linux releases the descriptor even when close reports an error.
}

class LocalReader final : public Reader {
 public:
  LocalReader(int fd, int64_t length) : fd_(fd), length_(length) {}
  ~LocalReader() override { CloseFd(fd_); }
  LocalReader(const LocalReader&) = delete;
  LocalReader& operator=(const LocalReader&) = delete;

  int64_t length() const override { return length_; }
  int NativeFd() const override { return fd_; }

  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    if (offset < 0) return Status(Code::kInvalidArgument, "negative extent read offset");
    if (offset >= length_ || n == 0) return size_t{0};
    const auto available = static_cast<uint64_t>(length_ - offset);
    if (n > available) n = static_cast<size_t>(available);
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, offset + static_cast<int64_t>(done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("pread", "extent", errno);
      }
      if (r == 0) break;  // the file is shorter than when it was opened; should not happen
      done += static_cast<size_t>(r);
    }
    return done;
  }

 private:
  const int fd_;
  const int64_t length_;
};

}  // namespace

class LocalWriter final : public Writer {
 public:
  LocalWriter(LocalExtentStore* store, uint64_t id, int fd, uint64_t creation, Hashing hashing)
      : store_(store), id_(id), fd_(fd), creation_(creation), hash_(hashing == Hashing::kMd5) {}
  ~LocalWriter() override { Abandon(); }
  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  uint64_t id() const override { return id_; }

  Status Append(std::string_view data) override {
    if (state_ != State::kOpen) return NotWritable("Append");
    // A large piece is hashed on another core while write() copies it into the page cache:
    // the two cost about the same, and one upload stream would otherwise pay both in turn.
    const bool overlap = hash_ && data.size() >= kOverlapMd5Bytes;
    if (overlap) {
      md5_.Begin(data);
    } else if (hash_) {
      md5_.Update(data);
    }
    Status s = WriteAll(data);
    if (overlap) md5_.End();
    if (!s.ok()) {
      state_ = State::kFailed;
      return s;
    }
    length_ += static_cast<int64_t>(data.size());
    StartWriteback();
    return Status::Ok();
  }

  StatusOr<ExtentInfo> Finish() override {
    if (state_ != State::kOpen) return NotWritable("Finish");
    Status s = MakeDurable();
    if (!s.ok()) {
      state_ = State::kFailed;
      Abandon();
      return s;
    }
    state_ = State::kFinished;
    ExtentInfo info;
    info.id = id_;
    info.length = length_;
    if (hash_) info.md5 = md5_.Finish();
    return info;
  }

  void Abandon() override {
    if (state_ == State::kFinished || state_ == State::kAbandoned) return;
    CloseFd(fd_);
    fd_ = -1;
    store_->RemoveFile(id_).IgnoreError();  // a leftover file is reclaimed by recovery
    state_ = State::kAbandoned;
  }

 private:
  enum class State { kOpen, kFailed, kFinished, kAbandoned };

  static constexpr size_t kOverlapMd5Bytes = 128 << 10;

  Status WriteAll(std::string_view rest) {
    while (!rest.empty()) {
      ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("write", store_->PathOf(id_), errno);
      }
      if (n == 0) return InternalError("write " + store_->PathOf(id_) + ": no progress");
      rest.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Status NotWritable(const char* op) const {
    return Status(Code::kFailedPrecondition,
                  std::string(op) + " on an extent writer that is no longer open");
  }

  // Large extents: start writing each full window to disk as soon as it is written, and wait
  // for the window before it, so the disk works while the body is still arriving and Finish's
  // fdatasync has little left to do. Also bounds the dirty pages one upload can pile up.
  void StartWriteback() {
    constexpr int64_t kWindow = 8 << 20;
    while (length_ - started_ >= kWindow) {
      ::sync_file_range(fd_, started_, kWindow, SYNC_FILE_RANGE_WRITE);
      if (started_ >= kWindow) {
        ::sync_file_range(fd_, started_ - kWindow, kWindow,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER);
      }
      started_ += kWindow;
    }
  }

  Status MakeDurable() {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return ErrnoError("fdatasync", store_->PathOf(id_), errno);
    }
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && errno != EINTR) {
      return ErrnoError("close", store_->PathOf(id_), errno);
    }
    return store_->SyncDirectory(id_, creation_);
  }

  LocalExtentStore* const store_;
  const uint64_t id_;
  int fd_;
  const uint64_t creation_;
  const bool hash_;
  State state_ = State::kOpen;
  int64_t length_ = 0;
  int64_t started_ = 0;  // bytes whose writeback has been started
  OverlappedMd5 md5_;
};

LocalExtentStore::LocalExtentStore(std::string dir) : dir_(std::move(dir)) {}

LocalExtentStore::~LocalExtentStore() {
  for (Shard& s : shards_) CloseFd(s.fd);
}

StatusOr<std::unique_ptr<LocalExtentStore>> LocalExtentStore::Open(const std::string& dir) {
  if (dir.empty()) return Status(Code::kInvalidArgument, "empty extent store directory");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InternalError("create " + dir + ": " + ec.message());

  int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return ErrnoError("open", dir, errno);
  std::unique_ptr<LocalExtentStore> store(new LocalExtentStore(dir));
  bool created_any = false;
  Status status;
  for (int i = 0; i < kFanOut && status.ok(); ++i) {
    std::string name = ShardName(i);
    if (::mkdirat(root, name.c_str(), kDirMode) == 0) {
      created_any = true;
    } else if (errno != EEXIST) {
      status = ErrnoError("mkdir", dir + "/" + name, errno);
      break;
    }
    int fd = ::openat(root, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      status = ErrnoError("open", dir + "/" + name, errno);
      break;
    }
    store->shards_[i].fd = fd;
  }
  if (status.ok() && created_any && ::fsync(root) != 0) status = ErrnoError("fsync", dir, errno);
  CloseFd(root);
  if (!status.ok()) return status;
  return store;
}

std::string LocalExtentStore::PathOf(uint64_t id) const {
  return dir_ + "/" + ShardName(ShardOf(id)) + "/" + IdName(id);
}

StatusOr<std::unique_ptr<Writer>> LocalExtentStore::NewWriter(Hashing hashing) {
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    // Bit 63 stays clear: decorators such as PackedExtentStore use it for their own ids.
    uint64_t id = RandomU64() & ~(1ULL << 63);
    if (id == 0) continue;
    Shard& shard = ShardFor(id);
    int fd =
        ::openat(shard.fd, IdName(id).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd < 0) {
      if (errno == EEXIST || errno == EINTR) continue;
      return ErrnoError("create", PathOf(id), errno);
    }
    // Numbered only after the name exists: a directory fsync that reads a count covering this
    // creation is guaranteed to include the new entry.
    uint64_t creation = shard.created.fetch_add(1) + 1;
    return std::unique_ptr<Writer>(std::make_unique<LocalWriter>(this, id, fd, creation, hashing));
  }
  return InternalError("could not allocate an unused extent id in " + dir_);
}

StatusOr<std::unique_ptr<Reader>> LocalExtentStore::Open(uint64_t id) {
  int fd = ::openat(ShardFor(id).fd, IdName(id).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status(Code::kNotFound, "extent " + IdName(id) + " not found");
    return ErrnoError("open", PathOf(id), errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    CloseFd(fd);
    return ErrnoError("fstat", PathOf(id), err);
  }
  return std::unique_ptr<Reader>(
      std::make_unique<LocalReader>(fd, static_cast<int64_t>(st.st_size)));
}

Status LocalExtentStore::Remove(uint64_t id) { return RemoveFile(id); }

Status LocalExtentStore::RemoveFile(uint64_t id) {
  if (::unlinkat(ShardFor(id).fd, IdName(id).c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoError("unlink", PathOf(id), errno);
  }
  return Status::Ok();
}

Status LocalExtentStore::SyncDirectory(uint64_t id, uint64_t creation) {
  Shard& shard = ShardFor(id);
  if (shard.synced.load() >= creation) return Status::Ok();
  uint64_t covered = shard.created.load();
  while (::fsync(shard.fd) != 0) {
    if (errno != EINTR) return ErrnoError("fsync", dir_ + "/" + ShardName(ShardOf(id)), errno);
  }
  uint64_t prev = shard.synced.load();
  while (prev < covered && !shard.synced.compare_exchange_weak(prev, covered)) {
  }
  return Status::Ok();
}

StatusOr<std::vector<uint64_t>> LocalExtentStore::ListAll() {
  std::vector<uint64_t> ids;
  for (int i = 0; i < kFanOut; ++i) {
    // A fresh open file description, so concurrent listings do not share a directory offset.
    int fd = ::openat(shards_[i].fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open", dir_ + "/" + ShardName(i), errno);
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      int err = errno;
      CloseFd(fd);
      return ErrnoError("opendir", dir_ + "/" + ShardName(i), err);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
    while (true) {
      errno = 0;
      struct dirent* e = ::readdir(d);
      if (e == nullptr) {
        if (errno != 0) return ErrnoError("readdir", dir_ + "/" + ShardName(i), errno);
        break;
      }
      uint64_t id;
      if (ParseIdName(e->d_name, &id) && id != 0 && ShardOf(id) == i) ids.push_back(id);
    }
  }
  return ids;
}

}  // namespace tarn::extent
