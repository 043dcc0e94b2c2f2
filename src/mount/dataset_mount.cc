#define FUSE_USE_VERSION 31
#include "mount/dataset_mount.h"

#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace tarn::mount {
namespace {

DatasetMount* Self() { return static_cast<DatasetMount*>(fuse_get_context()->private_data); }

void* OnInit(fuse_conn_info* conn, fuse_config* cfg) {
  // A version never changes: names, attributes and pages may be cached for as long as the
  // kernel likes.
  cfg->kernel_cache = 1;
  cfg->entry_timeout = 3600;
  cfg->attr_timeout = 3600;
  cfg->negative_timeout = 3600;
  cfg->use_ino = 0;
  return fuse_get_context()->private_data;
}

void FillStat(const DatasetMount::Entry& e, int64_t when, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  st->st_uid = ::getuid();
  st->st_gid = ::getgid();
  st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = when;
  if (e.dir) {
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
  } else {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = e.size;
    st->st_blksize = 1 << 20;
    st->st_blocks = (e.size + 511) / 512;
  }
}

int OnGetattr(const char* path, struct stat* st, fuse_file_info*) {
  const DatasetMount::Entry* e = Self()->Find(path);
  if (!e) return -ENOENT;
  FillStat(*e, Self()->mounted_at(), st);
  return 0;
}

int OnReaddir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
              fuse_readdir_flags) {
  const DatasetMount::Entry* e = Self()->Find(path);
  if (!e) return -ENOENT;
  if (!e->dir) return -ENOTDIR;
  fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  for (const std::string& name : e->children) {
    if (fill(buf, name.c_str(), nullptr, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  return 0;
}

int OnOpen(const char* path, fuse_file_info* fi) {
  const DatasetMount::Entry* e = Self()->Find(path);
  if (!e) return -ENOENT;
  if (e->dir) return -EISDIR;
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  fi->keep_cache = 1;
  return 0;
}

int OnRead(const char* path, char* buf, size_t n, off_t offset, fuse_file_info*) {
  const DatasetMount::Entry* e = Self()->Find(path);
  if (!e || e->dir) return -ENOENT;
  return Self()->Read(*e, path, buf, n, offset);
}

int OnStatfs(const char*, struct statvfs* st) {
  std::memset(st, 0, sizeof *st);
  st->f_bsize = st->f_frsize = 1 << 20;
  st->f_namemax = 255;
  return 0;
}

fuse_operations Operations() {
  fuse_operations ops{};
  ops.init = OnInit;
  ops.getattr = OnGetattr;
  ops.readdir = OnReaddir;
  ops.open = OnOpen;
  ops.read = OnRead;
  ops.statfs = OnStatfs;
  return ops;
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return parts;
}

}  // namespace

std::vector<std::string> RelativeToCommonDir(const std::vector<std::string>& paths) {
  if (paths.empty()) return {};
  std::vector<std::vector<std::string>> split;
  for (const std::string& p : paths) split.push_back(Split(p));
  // The common directory: the longest run of leading segments every file's directory shares.
  size_t common = split[0].empty() ? 0 : split[0].size() - 1;
  for (const auto& s : split) {
    size_t dirs = s.empty() ? 0 : s.size() - 1;
    size_t n = 0;
    while (n < std::min(common, dirs) && s[n] == split[0][n]) ++n;
    common = n;
  }
  std::vector<std::string> out;
  for (const auto& s : split) {
    std::string rel;
    for (size_t i = common; i < s.size(); ++i) rel += (rel.empty() ? "" : "/") + s[i];
    out.push_back(std::move(rel));
  }
  return out;
}

DatasetMount::DatasetMount(client::CatalogClient& catalog, client::VersionRef v,
                           std::string mount_point, MountOptions opts)
    : catalog_(catalog),
      v_(std::move(v)),
      mount_point_(std::move(mount_point)),
      opts_(std::move(opts)) {}

DatasetMount::~DatasetMount() { Stop().IgnoreError(); }

Status DatasetMount::Build(const std::vector<client::DatasetFile>& files) {
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  std::vector<std::string> rel = RelativeToCommonDir(paths);
  entries_["/"].dir = true;
  for (size_t i = 0; i < files.size(); ++i) {
    std::vector<std::string> parts = Split(rel[i]);
    if (parts.empty()) continue;
    std::string dir = "/";
    for (size_t k = 0; k < parts.size(); ++k) {
      const bool last = k + 1 == parts.size();
      std::string path = (dir == "/" ? "/" : dir + "/") + parts[k];
      auto [it, added] = entries_.try_emplace(path);
      if (added) {
        entries_[dir].children.push_back(parts[k]);
      } else if (last || !it->second.dir) {
        return Status(Code::kFailedPrecondition,
                      "the version holds both a file and a file or directory at '" + path +
                          "'; it cannot be mounted");
      }
      if (last) {
        it->second.size = files[i].size;
        it->second.index = files[i].index;
      } else {
        it->second.dir = true;
      }
      dir = path;
    }
  }
  for (auto& [path, e] : entries_) std::sort(e.children.begin(), e.children.end());
  return Status::Ok();
}

const DatasetMount::Entry* DatasetMount::Find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

int DatasetMount::Read(const Entry& e, const std::string& path, char* buf, size_t n,
                       int64_t offset) {
  if (offset >= e.size || n == 0) return 0;
  n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), e.size - offset));
  auto got = catalog_.ReadFileAt(v_, e.index, e.size, offset, buf, n);
  if (!got.ok()) {
    if (opts_.on_error) opts_.on_error(path, got.status());
    return -EIO;
  }
  return static_cast<int>(*got);
}

StatusOr<std::unique_ptr<DatasetMount>> DatasetMount::Start(
    client::CatalogClient& catalog, client::VersionRef v,
    const std::vector<client::DatasetFile>& files, const std::string& mount_point,
    MountOptions opts) {
  std::error_code ec;
  if (!std::filesystem::is_directory(mount_point, ec)) {
    return Status(Code::kInvalidArgument, "the mount point " + mount_point +
                                              " is not an existing directory");
  }
  if (!std::filesystem::is_empty(mount_point, ec)) {
    return Status(Code::kInvalidArgument,
                  "the mount point " + mount_point + " is not empty (or not readable)");
  }
  std::unique_ptr<DatasetMount> m(
      new DatasetMount(catalog, std::move(v), std::filesystem::absolute(mount_point), opts));
  TARN_RETURN_IF_ERROR(m->Build(files));
  m->mounted_at_ = static_cast<int64_t>(std::time(nullptr));

  std::string fsname = "tarn:" + m->v_.workspace + "/" + m->v_.name + "/" +
                       std::to_string(m->v_.version);
  for (char& c : fsname) {
    if (c == ',' || c == '\\') c = '_';  // option separators
  }
  std::string options = "ro,default_permissions,subtype=tarn,fsname=" + fsname;
  if (m->opts_.allow_other) options += ",allow_other";
  fuse_args args = FUSE_ARGS_INIT(0, nullptr);
  fuse_opt_add_arg(&args, "tarn");
  fuse_opt_add_arg(&args, "-o");
  fuse_opt_add_arg(&args, options.c_str());
  fuse_operations ops = Operations();
  struct fuse* f = fuse_new(&args, &ops, sizeof ops, m.get());
  fuse_opt_free_args(&args);
  if (!f) return Status(Code::kInternal, "FUSE refused the mount options '" + options + "'");
  if (fuse_mount(f, m->mount_point_.c_str()) != 0) {
    fuse_destroy(f);
    return Status(Code::kUnavailable,
                  "cannot mount at " + m->mount_point_ +
                      ": FUSE needs /dev/fuse and the right to mount (root, or fusermount3 from "
                      "the fuse3 package)");
  }
  m->fuse_ = f;
  DatasetMount* self = m.get();
  m->loop_ = std::thread([self, f] {
    fuse_loop_mt(f, /*clone_fd=*/0);
    self->loop_done_ = true;
  });
  struct stat st {};
  if (::stat(m->mount_point_.c_str(), &st) == 0) m->connection_ = st.st_dev;
  return m;
}

Status DatasetMount::Stop() {
  if (!fuse_) return Status::Ok();
  fuse_exit(fuse_);
  fuse_unmount(fuse_);
  // The loop ends when the kernel drops the connection. A process that still holds a file open
  // keeps a lazily unmounted filesystem alive; after a grace period the connection is aborted
  // (its readers get ENOTCONN) so that Stop cannot hang.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!loop_done_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!loop_done_ && connection_ != 0) {
    std::ofstream abort("/sys/fs/fuse/connections/" + std::to_string(minor(connection_)) +
                        "/abort");
    abort << "1";
  }
  loop_.join();
  fuse_destroy(fuse_);
  fuse_ = nullptr;
  return Status::Ok();
}

}  // namespace tarn::mount
