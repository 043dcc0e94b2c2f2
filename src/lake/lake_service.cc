#include "lake/lake_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/time_util.h"
#include "lake/acl.h"
#include "lake/lake_internal.h"

namespace tarn::lake {

using meta::ExtentRecord;
using meta::ExtentSlice;
using meta::ReadTxn;
using meta::StagedExtent;
using meta::WriteTxn;
using State = meta::Lease::State;

namespace internal {

std::string NewEtag() {
  // Unique and increasing across restarts: seeded from the clock in 100 ns ticks.
  static std::atomic<uint64_t> counter{static_cast<uint64_t>(NowMicros()) * 10 +
                                       116444736000000000ULL};
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIX64, counter.fetch_add(1) + 1);
  return buf;
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

StatusOr<Filesystem> RequireFilesystem(ReadTxn& t, const std::string& account,
                                       const std::string& name) {
  TARN_ASSIGN_OR_RETURN(auto fs, t.GetFilesystem(account, name));
  if (!fs) return Error(Reason::kFilesystemNotFound, "The specified filesystem does not exist.");
  return *fs;
}

StatusOr<Node> RequirePath(ReadTxn& t, const Filesystem& fs, const std::string& path) {
  TARN_ASSIGN_OR_RETURN(auto n, Resolve(t, fs, path));
  if (!n) return Error(Reason::kPathNotFound, "The specified path does not exist.");
  return std::move(*n);
}

StatusOr<std::optional<Node>> Resolve(ReadTxn& t, const Filesystem& fs,
                                      const std::string& path) {
  TARN_ASSIGN_OR_RETURN(auto node, t.GetNode(fs.root_id));
  if (!node) return InternalError("filesystem root missing");
  for (const auto& c : Components(path)) {
    if (!node->is_dir) return std::optional<Node>();
    TARN_ASSIGN_OR_RETURN(node, t.Lookup(fs.id, node->id, c));
    if (!node) return std::optional<Node>();
  }
  return node;
}

}  // namespace internal

using namespace internal;  // NOLINT: this file is the implementation of internal's users

// ---------------------------------------------------------------------------------------------

Status ValidateFilesystemName(const std::string& name) {
  auto bad = [&] {
    return Error(Reason::kInvalidResourceName,
                 "The specified resource name contains invalid characters: '" + name + "'.");
  };
  // '$' begins only the names Azure reserves for its own containers.
  if (name == "$root" || name == "$logs" || name == "$web") return Status::Ok();
  if (name.size() < 3 || name.size() > 63) return bad();
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) return bad();
    if (c == '-' && name[i - 1] == '-') return bad();
  }
  if (name.back() == '-') return bad();
  return Status::Ok();
}

StatusOr<std::string> NormalizePath(const std::string& path) {
  size_t b = 0, e = path.size();
  while (b < e && path[b] == '/') ++b;
  while (e > b && path[e - 1] == '/') --e;
  std::string p = path.substr(b, e - b);
  auto bad = [&](const std::string& why) {
    return Error(Reason::kInvalidResourceName, "The specified path is invalid: " + why + ".");
  };
  // Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
  if (!IsValidUtf8(p)) return bad("it is not valid UTF-8");
  // Control characters would make names ambiguous wherever names are joined by line breaks (the
  // Shared Key string-to-sign, logs) and are never part of a real file name.
  if (HasControlChar(p)) return bad("it holds a control character");
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    // U+0080-U+009F (C1 controls) are encoded C2 80 .. C2 9F.
    if (static_cast<unsigned char>(p[i]) == 0xC2 && static_cast<unsigned char>(p[i + 1]) < 0xA0) {
      return bad("it holds a control character");
    }
  }
  // Azure counts characters, not bytes.
  if (Utf16Length(p) > 1024) {
    return Error(Reason::kInvalidResourceName,
                 "The specified path is longer than 1024 characters.");
  }
  for (const auto& c : Components(p)) {
    if (c.empty()) return bad("it has an empty segment");
    if (c == "." || c == "..") return bad("segments '.' and '..' are not allowed");
    if (Utf16Length(c) > 255) return bad("a segment is longer than 255 characters");
  }
  return p;
}

// ---------------------------------------------------------------------------------------------

namespace {

Node NewNode(const Filesystem& fs, int64_t parent, const std::string& name, bool is_dir,
             int64_t now) {
  Node n;
  n.fs_id = fs.id;
  n.parent_id = parent;
  n.name = name;
  n.is_dir = is_dir;
  n.etag = NewEtag();
  n.created_us = now;
  n.modified_us = now;
  n.access.permissions = is_dir ? 0750 : 0640;
  return n;
}

// Access of a new node under parent: the parent's default ACL if it has one, else the
// requested (or default) permissions less the umask. A creator owns the node, with the parent's
// owning group.
void InheritAccess(const Node& parent, std::optional<uint32_t> requested, uint32_t umask,
                   const std::optional<std::string>& creator, Node* n) {
  if (!InheritDefaultAcl(parent.access, n->is_dir, &n->access)) {
    // Azure: the result is p & ~umask, whether p is given or the default 0777 / 0666.
    uint32_t base = requested.value_or(n->is_dir ? 0777 : 0666);
    n->access.permissions = base & ~(umask & 0777);
  }
  if (creator) {
    n->access.owner = *creator;
    n->access.group = parent.access.group;
  }
}

// The directory at path, or its nearest existing ancestor (the root at least).
StatusOr<Node> NearestDirectory(ReadTxn& t, const Filesystem& fs, const std::string& path) {
  TARN_ASSIGN_OR_RETURN(auto cur, t.GetNode(fs.root_id));
  if (!cur) return InternalError("filesystem root missing");
  for (const std::string& part : Components(path)) {
    TARN_ASSIGN_OR_RETURN(auto next, t.Lookup(fs.id, cur->id, part));
    if (!next || !next->is_dir) break;
    cur = next;
  }
  return *cur;
}

// Finds the parent directory of path, creating missing ancestors when create is set.
StatusOr<Node> ParentFor(WriteTxn& t, const Filesystem& fs, const std::vector<std::string>& parts,
                         bool create, int64_t now, Reason missing) {
  TARN_ASSIGN_OR_RETURN(auto cur, t.GetNode(fs.root_id));
  if (!cur) return InternalError("filesystem root missing");
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    TARN_ASSIGN_OR_RETURN(auto next, t.Lookup(fs.id, cur->id, parts[i]));
    if (!next) {
      if (!create) return Error(missing, "The parent directory of the path does not exist.");
      Node d = NewNode(fs, cur->id, parts[i], true, now);
      InheritAccess(*cur, std::nullopt, 027, std::nullopt, &d);
      TARN_ASSIGN_OR_RETURN(next, t.InsertNode(d));
    } else if (!next->is_dir) {
      return Error(Reason::kPathConflict,
                   "An element of the path exists and is not a directory: " + parts[i] + ".");
    }
    cur = next;
  }
  return *cur;
}

int64_t SlicesLength(const std::vector<meta::ExtentSlice>& s) {
  int64_t n = 0;
  for (const auto& x : s) n += x.length;
  return n;
}

}  // namespace

LakeService::LakeService(meta::NamespaceStore* store, extent::ExtentStore* extents,
                         size_t inline_limit)
    : store_(store),
      extents_(extents),
      inline_limit_(inline_limit),
      // Bit 62 clear leaves 2^62 ids before the sequence could leave the inline range. Another
      // process's sequence overlapping this one is as unlikely as two random ids colliding,
      // and would fail the write (the extent record exists), never mix up bytes.
      next_inline_id_(kInlineIdBit | (RandomU64() >> 2)) {}

LakeService::~LakeService() {
  {
    std::lock_guard<std::mutex> l(collector_mu_);
    stopping_ = true;
  }
  collector_cv_.notify_all();
  if (collector_.joinable()) collector_.join();
}

// ----- filesystems ---------------------------------------------------------------------------

StatusOr<Filesystem> LakeService::CreateFilesystem(const std::string& account,
                                                   const std::string& name,
                                                   const Metadata& metadata,
                                                   const std::string& public_access) {
  TARN_RETURN_IF_ERROR(ValidateFilesystemName(name));
  int64_t now = NowMicros();
  Filesystem fs;
  fs.account = account;
  fs.name = name;
  fs.etag = NewEtag();
  fs.created_us = now;
  fs.modified_us = now;
  fs.metadata = metadata;
  fs.public_access = public_access;
  Node root;
  root.is_dir = true;
  root.etag = NewEtag();
  root.created_us = now;
  root.modified_us = now;
  root.access.permissions = 0750;
  Filesystem out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(out, t.CreateFilesystem(fs, root));
    return Status::Ok();
  }));
  return out;
}

StatusOr<Filesystem> LakeService::GetFilesystem(const std::string& account,
                                                const std::string& name) {
  Filesystem out;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(out, RequireFilesystem(t, account, name));
    return Status::Ok();
  }));
  return out;
}

Status LakeService::DeleteFilesystem(const std::string& account, const std::string& name,
                                     const Access& access) {
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, name));
    TARN_RETURN_IF_ERROR(internal::CheckFilesystemDeletable(fs, access));
    return t.DeleteFilesystem(fs.id);
  }));
  WakeCollector();
  return Status::Ok();
}

StatusOr<Filesystem> LakeService::SetFilesystemMetadata(const std::string& account,
                                                        const std::string& name,
                                                        const Metadata& metadata,
                                                        const Access& access) {
  Filesystem out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(out, RequireFilesystem(t, account, name));
    TARN_RETURN_IF_ERROR(CheckConditions(access.cond, &out.etag, out.modified_us, false));
    if (access.lease_id) TARN_RETURN_IF_ERROR(CheckWriteLease(out.lease, access.lease_id));
    out.metadata = metadata;
    out.etag = NewEtag();
    out.modified_us = NowMicros();
    return t.UpdateFilesystem(out);
  }));
  return out;
}

StatusOr<Filesystem> LakeService::SetFilesystemAcl(const std::string& account,
                                                   const std::string& name,
                                                   const std::string& public_access,
                                                   const std::string& signed_identifiers,
                                                   const Access& access) {
  Filesystem out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(out, RequireFilesystem(t, account, name));
    TARN_RETURN_IF_ERROR(CheckConditions(access.cond, &out.etag, out.modified_us, false));
    if (access.lease_id) TARN_RETURN_IF_ERROR(CheckWriteLease(out.lease, access.lease_id));
    out.public_access = public_access;
    out.signed_identifiers = signed_identifiers;
    out.etag = NewEtag();
    out.modified_us = NowMicros();
    return t.UpdateFilesystem(out);
  }));
  return out;
}

StatusOr<FilesystemPage> LakeService::ListFilesystems(const std::string& account,
                                                      const std::string& prefix,
                                                      const std::string& marker,
                                                      int max_results) {
  FilesystemPage page;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    // Markers are opaque to clients; ours is the name of the last filesystem returned.
    TARN_ASSIGN_OR_RETURN(auto items, t.ListFilesystems(account, prefix, marker, max_results + 1));
    if (static_cast<int>(items.size()) > max_results) {
      items.resize(max_results);
      page.next_marker = items.back().name;
    }
    page.items = std::move(items);
    return Status::Ok();
  }));
  return page;
}

// ----- paths ---------------------------------------------------------------------------------

StatusOr<Node> LakeService::GetPath(const std::string& account, const std::string& fs_name,
                                    const std::string& path, const Access& access) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(access.cond, n, true));
    if (access.lease_id) TARN_RETURN_IF_ERROR(CheckWriteLease(n->lease, access.lease_id));
    out = std::move(*n);
    return Status::Ok();
  }));
  return out;
}

namespace {

// The shared tail of every whole-file commit (Put Blob, Put Block List, Copy, create of a file):
// checks conditions and the lease on the existing path, then installs the new content.
StatusOr<Node> CommitFile(WriteTxn& t, const Filesystem& fs, const std::string& path,
                          const std::vector<ExtentSlice>& slices, const PutOptions& opts,
                          bool create_parents, bool overwrite) {
  int64_t now = NowMicros();
  auto parts = Components(path);
  if (parts.empty()) {
    return Error(Reason::kResourceTypeMismatch, "The root directory cannot be written as a file.");
  }
  TARN_ASSIGN_OR_RETURN(Node parent, ParentFor(t, fs, parts, create_parents, now,
                                               Reason::kPathNotFound));
  TARN_ASSIGN_OR_RETURN(auto existing, t.Lookup(fs.id, parent.id, parts.back()));
  TARN_RETURN_IF_ERROR(CheckNodeConditions(opts.access.cond, existing, false));
  Node n;
  if (existing) {
    if (!overwrite) return Error(Reason::kPathAlreadyExists, "The specified path already exists.");
    if (existing->is_dir) {
      return Error(Reason::kResourceTypeMismatch,
                   "The specified path is a directory and cannot be written as a file.");
    }
    TARN_RETURN_IF_ERROR(CheckWriteLease(existing->lease, opts.access.lease_id));
    n = std::move(*existing);
    n.etag = NewEtag();
    n.modified_us = now;
    // A write keeps the lease but not an expired or broken one's leftovers.
    LeaseView v = ViewLease(n.lease, now / 1000);
    if (v.state == State::kExpired || v.state == State::kBroken) n.lease = meta::Lease{};
  } else {
    if (opts.access.lease_id && !opts.access.lease_id->empty()) {
      return Error(Reason::kLeaseNotPresent, "There is currently no lease on the resource.");
    }
    n = NewNode(fs, parent.id, parts.back(), false, now);
    InheritAccess(parent, std::nullopt, 027, opts.creator, &n);
  }
  n.headers = opts.headers;
  n.metadata = opts.metadata;
  n.length = SlicesLength(slices);
  n.copy.clear();  // a new body ends what an earlier copy said about this file
  if (existing) {
    TARN_RETURN_IF_ERROR(t.UpdateNode(n));
  } else {
    TARN_ASSIGN_OR_RETURN(n, t.InsertNode(n));
  }
  TARN_RETURN_IF_ERROR(t.SetExtents(n.id, slices));
  TARN_RETURN_IF_ERROR(t.ClearStaged(fs.id, path));
  return n;
}

}  // namespace

StatusOr<Node> LakeService::CreatePath(const std::string& account, const std::string& fs_name,
                                       const std::string& path, const CreateOptions& opts) {
  std::optional<std::vector<AclEntry>> acl;
  if (opts.acl) {
    TARN_ASSIGN_OR_RETURN(acl, ParseAcl(*opts.acl));
  }
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    int64_t now = NowMicros();
    auto parts = Components(path);
    if (parts.empty()) {
      if (!opts.is_dir) {
        return Error(Reason::kResourceTypeMismatch, "The root directory cannot become a file.");
      }
      TARN_ASSIGN_OR_RETURN(auto root, t.GetNode(fs.root_id));
      if (!root) return InternalError("filesystem root missing");
      out = *root;
      return Status::Ok();
    }
    TARN_ASSIGN_OR_RETURN(Node parent,
                          ParentFor(t, fs, parts, true, now, Reason::kPathNotFound));
    TARN_ASSIGN_OR_RETURN(auto existing, t.Lookup(fs.id, parent.id, parts.back()));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(opts.access.cond, existing, false));
    if (existing && !opts.overwrite) {
      return Error(Reason::kPathAlreadyExists, "The specified path already exists.");
    }
    if (existing && existing->is_dir != opts.is_dir) {
      return Error(Reason::kResourceTypeMismatch,
                   existing->is_dir ? "The specified path is an existing directory."
                                    : "The specified path is an existing file.");
    }
    Node n;
    if (existing) {
      TARN_RETURN_IF_ERROR(CheckWriteLease(existing->lease, opts.access.lease_id));
      n = std::move(*existing);
      n.etag = NewEtag();
      n.modified_us = now;
    } else {
      n = NewNode(fs, parent.id, parts.back(), opts.is_dir, now);
      Node from = parent;
      if (opts.inherit_from) {
        TARN_ASSIGN_OR_RETURN(from, NearestDirectory(t, fs, *opts.inherit_from));
      }
      InheritAccess(from, opts.permissions, opts.umask, opts.creator, &n);
    }
    if (opts.owner) n.access.owner = *opts.owner;
    if (opts.group) n.access.group = *opts.group;
    if (existing && opts.permissions) n.access.permissions = *opts.permissions;
    if (acl) TARN_RETURN_IF_ERROR(ApplyAcl(*acl, n.is_dir, &n.access));
    n.metadata = opts.metadata;
    if (!opts.is_dir) {
      n.headers = opts.headers;
      n.length = 0;
    }
    if (existing) {
      TARN_RETURN_IF_ERROR(t.UpdateNode(n));
      if (!n.is_dir) {
        TARN_RETURN_IF_ERROR(t.SetExtents(n.id, {}));
        TARN_RETURN_IF_ERROR(t.ClearStaged(fs.id, path));
      }
    } else {
      TARN_ASSIGN_OR_RETURN(n, t.InsertNode(n));
    }
    out = std::move(n);
    return Status::Ok();
  }));
  WakeCollector();
  return out;
}

StatusOr<Node> LakeService::PutFile(const std::string& account, const std::string& fs_name,
                                    const std::string& path, ByteSource& body,
                                    const PutOptions& opts) {
  TARN_ASSIGN_OR_RETURN(auto written,
                        WriteExtent(body, opts.expected_md5, extent::Hashing::kMd5));
  Node out;
  Status s = store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    std::vector<ExtentSlice> slices;
    PutOptions o = opts;
    if (written) {
      TARN_RETURN_IF_ERROR(RecordExtent(t, *written));
      slices.push_back(ExtentSlice{written->record.id, 0, written->record.length, ""});
      if (o.headers.content_md5.empty()) o.headers.content_md5 = written->record.md5;
    } else if (o.headers.content_md5.empty()) {
      o.headers.content_md5 = Md5("");
    }
    TARN_ASSIGN_OR_RETURN(out, CommitFile(t, fs, path, slices, o, true, true));
    return Status::Ok();
  });
  if (!s.ok()) {
    Discard(written);
    return s;
  }
  WakeCollector();
  return out;
}

Status LakeService::StageBlock(const std::string& account, const std::string& fs_name,
                               const std::string& path, const std::string& block_id,
                               ByteSource& body, const std::optional<std::string>& expected_md5,
                               const std::optional<std::string>& lease_id,
                               std::string* md5_out) {
  TARN_ASSIGN_OR_RETURN(auto written, WriteExtent(body, expected_md5, extent::Hashing::kMd5));
  Status s = store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(auto existing, Resolve(t, fs, path));
    if (existing) {
      if (existing->is_dir) {
        return Error(Reason::kResourceTypeMismatch, "The specified path is a directory.");
      }
      TARN_RETURN_IF_ERROR(CheckWriteLease(existing->lease, lease_id));
    }
    StagedExtent st;
    st.block_id = block_id;
    if (written) {
      TARN_RETURN_IF_ERROR(RecordExtent(t, *written));
      st.slice = ExtentSlice{written->record.id, 0, written->record.length, block_id};
    } else {
      return Error(Reason::kInvalidBlockList, "A block must hold at least one byte.");
    }
    return t.PutStaged(fs.id, path, st);
  });
  if (!s.ok()) {
    Discard(written);
    return s;
  }
  if (md5_out) *md5_out = written ? written->record.md5 : Md5("");
  WakeCollector();  // a replaced block of the same ID is garbage now
  return Status::Ok();
}

StatusOr<Node> LakeService::CommitBlockList(const std::string& account,
                                            const std::string& fs_name, const std::string& path,
                                            const std::vector<BlockRef>& blocks,
                                            const PutOptions& opts) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(auto staged, t.ListStaged(fs.id, path));
    TARN_ASSIGN_OR_RETURN(auto existing, Resolve(t, fs, path));
    std::vector<ExtentSlice> committed;
    if (existing && !existing->is_dir) {
      TARN_ASSIGN_OR_RETURN(committed, t.GetExtents(existing->id));
    }
    auto find_staged = [&](const std::string& id) -> const ExtentSlice* {
      for (auto it = staged.rbegin(); it != staged.rend(); ++it) {
        if (it->block_id == id) return &it->slice;
      }
      return nullptr;
    };
    auto find_committed = [&](const std::string& id) -> const ExtentSlice* {
      for (const auto& c : committed) {
        if (c.block_id == id) return &c;
      }
      return nullptr;
    };
    std::vector<ExtentSlice> slices;
    for (const auto& b : blocks) {
      const ExtentSlice* s = nullptr;
      if (b.from != BlockRef::From::kCommitted) s = find_staged(b.id);
      if (!s && b.from != BlockRef::From::kUncommitted) s = find_committed(b.id);
      if (!s) return Error(Reason::kInvalidBlockList, "The specified block list is invalid.");
      ExtentSlice x = *s;
      x.block_id = b.id;
      slices.push_back(x);
    }
    TARN_ASSIGN_OR_RETURN(out, CommitFile(t, fs, path, slices, opts, true, true));
    return Status::Ok();
  }));
  WakeCollector();
  return out;
}

StatusOr<BlockList> LakeService::GetBlockList(const std::string& account,
                                              const std::string& fs_name,
                                              const std::string& path, const Access& access) {
  BlockList out;
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(auto existing, Resolve(t, fs, path));
    TARN_ASSIGN_OR_RETURN(auto staged, t.ListStaged(fs.id, path));
    if (existing && existing->is_dir) {
      return Error(Reason::kResourceTypeMismatch, "The specified path is a directory.");
    }
    if (!existing && staged.empty()) {
      return Error(Reason::kPathNotFound, "The specified blob does not exist.");
    }
    if (existing) {
      TARN_RETURN_IF_ERROR(CheckNodeConditions(access.cond, existing, false));
      if (access.lease_id) TARN_RETURN_IF_ERROR(CheckWriteLease(existing->lease, access.lease_id));
      TARN_ASSIGN_OR_RETURN(auto slices, t.GetExtents(existing->id));
      for (const auto& s : slices) out.committed.push_back({s.block_id, s.length});
      out.node = existing;
    }
    for (const auto& s : staged) {
      if (!s.block_id.empty()) out.uncommitted.push_back({s.block_id, s.slice.length});
    }
    return Status::Ok();
  }));
  return out;
}

namespace {

// Commits staged appends up to `position` (DFS flush). Returns the updated node.
StatusOr<Node> FlushTxn(WriteTxn& t, const Filesystem& fs, const std::string& path, Node n,
                        const FlushOptions& opts) {
  TARN_ASSIGN_OR_RETURN(auto staged, t.ListStaged(fs.id, path));
  TARN_ASSIGN_OR_RETURN(auto slices, t.GetExtents(n.id));
  if (opts.position < n.length) {
    return Error(Reason::kInvalidFlushPosition,
                 "The uploaded data is not contiguous or the position query parameter value is "
                 "not equal to the length of the file after appending the uploaded data.");
  }
  // Appends may arrive out of order (parallel uploads); order them by position, and let a
  // retried append at the same position replace the earlier one.
  std::vector<const StagedExtent*> appends;
  for (const auto& s : staged) {
    if (s.block_id.empty()) appends.push_back(&s);
  }
  std::stable_sort(appends.begin(), appends.end(),
                   [](const StagedExtent* a, const StagedExtent* b) {
                     return a->position < b->position;
                   });
  std::vector<const StagedExtent*> used, kept;
  int64_t cur = n.length;
  for (size_t i = 0; i < appends.size(); ++i) {
    const StagedExtent* s = appends[i];
    if (i + 1 < appends.size() && appends[i + 1]->position == s->position) continue;
    if (cur < opts.position && s->position == cur) {
      used.push_back(s);
      cur += s->slice.length;
    } else {
      kept.push_back(s);
    }
  }
  if (cur != opts.position) {
    return Error(Reason::kInvalidFlushPosition,
                 "The uploaded data is not contiguous or the position query parameter value is "
                 "not equal to the length of the file after appending the uploaded data.");
  }
  for (const auto* s : used) slices.push_back(s->slice);
  TARN_RETURN_IF_ERROR(t.SetExtents(n.id, slices));
  // Staged entries not consumed survive only with retainUncommittedData (and blocks always).
  std::vector<StagedExtent> keep;
  for (const auto& s : staged) {
    if (!s.block_id.empty()) keep.push_back(s);
  }
  if (opts.retain_uncommitted) {
    for (const auto* s : kept) {
      if (s->position >= cur) keep.push_back(*s);
    }
  }
  TARN_RETURN_IF_ERROR(t.ClearStaged(fs.id, path));
  for (const auto& s : keep) TARN_RETURN_IF_ERROR(t.PutStaged(fs.id, path, s));
  n.length = cur;
  n.etag = NewEtag();
  n.modified_us = NowMicros();
  if (opts.headers) n.headers = *opts.headers;
  TARN_RETURN_IF_ERROR(t.UpdateNode(n));
  return n;
}

StatusOr<Node> RequireFile(ReadTxn& t, const Filesystem& fs, const std::string& path) {
  TARN_ASSIGN_OR_RETURN(Node n, RequirePath(t, fs, path));
  if (n.is_dir) {
    return Error(Reason::kResourceTypeMismatch,
                 "The resource type of the path is a directory; a file is required.");
  }
  return n;
}

}  // namespace

namespace {

Status AppendPastMaxFile() {
  return Error(Reason::kInvalidAppendPosition,
               "The value for one of the HTTP headers or query parameters is not in the correct "
               "format: position plus the data's length is past the largest file size (" +
                   std::to_string(kMaxFileBytes) + " bytes).");
}

}  // namespace

StatusOr<AppendResult> LakeService::Append(const std::string& account,
                                           const std::string& fs_name, const std::string& path,
                                           int64_t position, ByteSource& body,
                                           const std::optional<std::string>& expected_md5,
                                           const std::optional<std::string>& lease_id,
                                           bool flush) {
  // Positions are client input: data may not reach past the largest file (nor overflow).
  if (position < 0 || position > kMaxFileBytes) return AppendPastMaxFile();
  TARN_ASSIGN_OR_RETURN(auto written, WriteExtent(body, expected_md5, extent::Hashing::kNone));
  if (written && written->record.length > kMaxFileBytes - position) {
    Discard(written);
    return AppendPastMaxFile();
  }
  AppendResult out;
  Status s = store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(Node n, RequireFile(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckWriteLease(n.lease, lease_id));
    if (position < n.length) {
      return Error(Reason::kInvalidAppendPosition,
                   "The value for one of the HTTP headers or query parameters is not in the "
                   "correct format: position is before the end of the committed data.");
    }
    int64_t len = 0;
    if (written) {
      TARN_RETURN_IF_ERROR(RecordExtent(t, *written));
      StagedExtent st;
      st.position = position;
      st.slice = ExtentSlice{written->record.id, 0, written->record.length, ""};
      len = written->record.length;
      TARN_RETURN_IF_ERROR(t.PutStaged(fs.id, path, st));
    }
    if (flush) {
      FlushOptions fo;
      fo.position = position + len;
      fo.access.lease_id = lease_id;
      TARN_ASSIGN_OR_RETURN(Node f, FlushTxn(t, fs, path, n, fo));
      out.flushed = f;
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    Discard(written);
    return s;
  }
  if (expected_md5) out.md5 = written ? written->record.md5 : Md5("");
  return out;
}

StatusOr<Node> LakeService::Flush(const std::string& account, const std::string& fs_name,
                                  const std::string& path, const FlushOptions& opts) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(Node n, RequireFile(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(opts.access.cond, n, false));
    TARN_RETURN_IF_ERROR(CheckWriteLease(n.lease, opts.access.lease_id));
    TARN_ASSIGN_OR_RETURN(out, FlushTxn(t, fs, path, std::move(n), opts));
    return Status::Ok();
  }));
  WakeCollector();
  return out;
}

namespace {

// A node as MoveNode left it: under `parent` as `name`, with a new etag.
Node MovedNode(Node n, int64_t parent, const std::string& name, const std::string& etag,
               int64_t now) {
  n.parent_id = parent;
  n.name = name;
  n.etag = etag;
  n.modified_us = now;
  return n;
}

}  // namespace

StatusOr<Node> LakeService::Rename(const std::string& account, const std::string& src_fs_name,
                                   const std::string& src_path, const std::string& dst_fs_name,
                                   const std::string& dst_path, const RenameOptions& opts) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, dst_fs_name));
    if (src_fs_name != dst_fs_name) {
      TARN_ASSIGN_OR_RETURN(auto sfs, t.GetFilesystem(account, src_fs_name));
      if (!sfs) return Error(Reason::kSourcePathNotFound, "The source filesystem does not exist.");
      return Error(Reason::kInvalidRenameSourcePath,
                   "A path cannot be renamed across filesystems.");
    }
    if (src_path.empty()) {
      return Error(Reason::kInvalidRenameSourcePath, "The root directory cannot be renamed.");
    }
    if (dst_path.empty()) {
      return Error(Reason::kInvalidDestinationPath, "The destination cannot be the root.");
    }
    TARN_ASSIGN_OR_RETURN(auto src, Resolve(t, fs, src_path));
    if (!src) return Error(Reason::kSourcePathNotFound, "The source path does not exist.");
    TARN_RETURN_IF_ERROR(
        CheckNodeConditions(opts.source, src, false, Reason::kSourceConditionNotMet));
    TARN_RETURN_IF_ERROR(CheckWriteLease(src->lease, opts.source_lease_id));
    int64_t now = NowMicros();
    auto parts = Components(dst_path);
    TARN_ASSIGN_OR_RETURN(Node parent, ParentFor(t, fs, parts, false, now,
                                                 Reason::kRenameDestinationParentPathNotFound));
    TARN_ASSIGN_OR_RETURN(bool inside, t.IsAncestorOrSelf(src->id, parent.id));
    if (inside) {
      return Error(Reason::kDirectoryIsParentOfDestination,
                   "The source directory cannot be the same as the destination directory, nor can "
                   "the destination be a subdirectory of the source directory.");
    }
    TARN_ASSIGN_OR_RETURN(auto existing, t.Lookup(fs.id, parent.id, parts.back()));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(opts.dest.cond, existing, false));
    if (existing) {
      if (existing->id == src->id) {
        // A file renamed onto itself is a no-op; a directory is refused, as Azure does.
        if (src->is_dir) {
          return Error(Reason::kDirectoryIsParentOfDestination,
                       "The source directory cannot be the same as the destination directory.");
        }
        out = *src;
        return Status::Ok();
      }
      if (!opts.overwrite) {
        return Error(Reason::kPathAlreadyExists, "The destination path already exists.");
      }
      TARN_RETURN_IF_ERROR(CheckWriteLease(existing->lease, opts.dest.lease_id));
      if (existing->is_dir || src->is_dir) {
        if (existing->is_dir != src->is_dir) {
          return Error(Reason::kResourceTypeMismatch,
                       "The source and destination resource types differ.");
        }
        TARN_ASSIGN_OR_RETURN(bool busy, t.HasChildren(existing->id));
        if (busy) {
          return Error(Reason::kPathAlreadyExists,
                       "The destination directory already exists and is not empty.");
        }
      }
      TARN_ASSIGN_OR_RETURN(int64_t gone, t.DeleteSubtree(existing->id));
      (void)gone;
      TARN_RETURN_IF_ERROR(t.ClearStaged(fs.id, dst_path));
    } else if (opts.dest.lease_id && !opts.dest.lease_id->empty()) {
      return Error(Reason::kLeaseNotPresent, "There is currently no lease on the destination.");
    }
    // One row moves; the subtree follows its root.
    std::string etag = NewEtag();
    TARN_RETURN_IF_ERROR(t.MoveNode(src->id, parent.id, parts.back(), etag, now));
    TARN_RETURN_IF_ERROR(t.ClearStagedUnder(fs.id, src_path));
    out = MovedNode(*src, parent.id, parts.back(), etag, now);
    return Status::Ok();
  }));
  WakeCollector();
  return out;
}

namespace {

// Whether normalised path `inner` is `outer` or lies under it ("" is the root, above all).
bool WithinPath(const std::string& inner, const std::string& outer) {
  if (outer.empty() || inner == outer) return true;
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         inner[outer.size()] == '/';
}

}  // namespace

StatusOr<Node> LakeService::SwapDirectory(const std::string& account, const std::string& fs_name,
                                          const std::string& staged_path,
                                          const std::string& target_path,
                                          const std::string& retired_path) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    const std::string* paths[] = {&staged_path, &target_path, &retired_path};
    for (const std::string* a : paths) {
      for (const std::string* b : paths) {
        if (a != b && WithinPath(*a, *b)) {
          return Error(Reason::kInvalidDestinationPath,
                       "The staged, target and retired paths must be distinct and none may lie "
                       "inside another: '" + *a + "' is within '" + *b + "'.");
        }
      }
    }
    TARN_ASSIGN_OR_RETURN(auto staged, Resolve(t, fs, staged_path));
    if (!staged) return Error(Reason::kSourcePathNotFound, "The staged directory does not exist.");
    if (!staged->is_dir) {
      return Error(Reason::kResourceTypeMismatch, "The staged path is not a directory.");
    }
    TARN_ASSIGN_OR_RETURN(auto target, Resolve(t, fs, target_path));
    if (target && !target->is_dir) {
      return Error(Reason::kResourceTypeMismatch, "The target path is a file, not a directory.");
    }
    TARN_ASSIGN_OR_RETURN(auto retired, Resolve(t, fs, retired_path));
    if (retired) return Error(Reason::kPathAlreadyExists, "The retired path already exists.");
    // No lease ID is taken: a lease on either directory means someone else owns it.
    TARN_RETURN_IF_ERROR(CheckWriteLease(staged->lease, std::nullopt));
    if (target) TARN_RETURN_IF_ERROR(CheckWriteLease(target->lease, std::nullopt));

    int64_t now = NowMicros();
    if (target) {
      auto parts = Components(retired_path);
      TARN_ASSIGN_OR_RETURN(Node parent, ParentFor(t, fs, parts, true, now,
                                                   Reason::kPathNotFound));
      TARN_RETURN_IF_ERROR(t.MoveNode(target->id, parent.id, parts.back(), NewEtag(), now));
    }
    auto parts = Components(target_path);
    TARN_ASSIGN_OR_RETURN(Node parent, ParentFor(t, fs, parts, true, now, Reason::kPathNotFound));
    std::string etag = NewEtag();
    TARN_RETURN_IF_ERROR(t.MoveNode(staged->id, parent.id, parts.back(), etag, now));
    // Staged data is keyed by path: what was pending under either old tree must not attach to
    // the files now at those paths.
    TARN_RETURN_IF_ERROR(t.ClearStagedUnder(fs.id, target_path));
    TARN_RETURN_IF_ERROR(t.ClearStagedUnder(fs.id, staged_path));
    out = MovedNode(std::move(*staged), parent.id, parts.back(), etag, now);
    return Status::Ok();
  }));
  WakeCollector();
  return out;
}

namespace internal {

Status CheckDeletable(meta::ReadTxn& t, const Node& n, bool recursive, const Access& access) {
  TARN_RETURN_IF_ERROR(CheckNodeConditions(access.cond, n, false));
  TARN_RETURN_IF_ERROR(CheckWriteLease(n.lease, access.lease_id));
  if (n.is_dir && !recursive) {
    TARN_ASSIGN_OR_RETURN(bool busy, t.HasChildren(n.id));
    if (busy) {
      return Error(Reason::kDirectoryNotEmpty,
                   "The recursive query parameter value must be true to delete a non-empty "
                   "directory.");
    }
  }
  return Status::Ok();
}

Status CheckFilesystemDeletable(const Filesystem& fs, const Access& access) {
  TARN_RETURN_IF_ERROR(CheckConditions(access.cond, &fs.etag, fs.modified_us, false));
  LeaseView v = ViewLease(fs.lease, NowMillis());
  if ((v.state == State::kLeased || v.state == State::kBreaking) &&
      (!access.lease_id || !EqualsLeaseId(*access.lease_id, fs.lease.id))) {
    return access.lease_id
               ? Error(Reason::kLeaseIdMismatchWithContainerOperation,
                       "The lease ID specified did not match the lease ID for the container.")
               : Error(Reason::kContainerLeaseIdMissing,
                       "There is currently a lease on the container and no lease ID was "
                       "specified in the request.");
  }
  return Status::Ok();
}

}  // namespace internal

Status LakeService::Delete(const std::string& account, const std::string& fs_name,
                           const std::string& path, bool recursive, const Access& access) {
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(internal::CheckDeletable(t, *n, recursive, access));
    if (path.empty()) {
      // The root stays; its contents go.
      TARN_ASSIGN_OR_RETURN(auto kids, t.ListChildren(n->id, "", "", 1 << 30));
      for (const auto& k : kids) TARN_RETURN_IF_ERROR(t.DeleteSubtree(k.id).status());
    } else {
      TARN_RETURN_IF_ERROR(t.DeleteSubtree(n->id).status());
    }
    return t.ClearStagedUnder(fs.id, path);
  }));
  WakeCollector();
  return Status::Ok();
}

StatusOr<Node> LakeService::SetProperties(const std::string& account, const std::string& fs_name,
                                          const std::string& path,
                                          const std::optional<Metadata>& metadata,
                                          const std::optional<ContentHeaders>& headers,
                                          const Access& access) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(access.cond, n, false));
    TARN_RETURN_IF_ERROR(CheckWriteLease(n->lease, access.lease_id));
    if (metadata) n->metadata = *metadata;
    if (headers) n->headers = *headers;
    n->etag = NewEtag();
    n->modified_us = NowMicros();
    TARN_RETURN_IF_ERROR(t.UpdateNode(*n));
    out = std::move(*n);
    return Status::Ok();
  }));
  return out;
}

StatusOr<Node> LakeService::SetAccessTier(const std::string& account, const std::string& fs_name,
                                          const std::string& path, const std::string& tier,
                                          const Access& access) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    if (n->is_dir) {
      return Error(Reason::kPathNotFound,
                   "The specified blob does not exist: " + path + " is a directory, which has "
                   "no access tier.");
    }
    TARN_RETURN_IF_ERROR(CheckNodeConditions(access.cond, n, false));
    TARN_RETURN_IF_ERROR(CheckWriteLease(n->lease, access.lease_id));
    if (n->access_tier != tier) {
      n->access_tier = tier;
      n->tier_changed_us = NowMicros();
      TARN_RETURN_IF_ERROR(t.UpdateNode(*n));
    }
    out = std::move(*n);
    return Status::Ok();
  }));
  return out;
}

StatusOr<Node> LakeService::SetAccessControl(const std::string& account,
                                             const std::string& fs_name, const std::string& path,
                                             const SetAccessOptions& opts) {
  std::optional<std::vector<AclEntry>> acl;
  if (opts.acl) {
    TARN_ASSIGN_OR_RETURN(acl, ParseAcl(*opts.acl));
  }
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(opts.access.cond, n, false));
    TARN_RETURN_IF_ERROR(CheckWriteLease(n->lease, opts.access.lease_id));
    if (opts.owner) n->access.owner = *opts.owner;
    if (opts.group) n->access.group = *opts.group;
    if (opts.permissions) {
      n->access.permissions = *opts.permissions;
      n->access.acl.clear();
    }
    if (acl) TARN_RETURN_IF_ERROR(ApplyAcl(*acl, n->is_dir, &n->access));
    n->etag = NewEtag();
    n->modified_us = NowMicros();
    TARN_RETURN_IF_ERROR(t.UpdateNode(*n));
    out = std::move(*n);
    return Status::Ok();
  }));
  return out;
}

StatusOr<Node> LakeService::CopyFile(const std::string& account, const std::string& src_fs_name,
                                     const std::string& src_path, const std::string& dst_fs_name,
                                     const std::string& dst_path,
                                     const std::optional<Metadata>& metadata,
                                     const Conditions& source_cond, const Access& dest_access,
                                     const std::string& source_url) {
  Node out;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto sfs, t.GetFilesystem(account, src_fs_name));
    if (!sfs) return Error(Reason::kSourcePathNotFound, "The copy source does not exist.");
    TARN_ASSIGN_OR_RETURN(auto src, Resolve(t, *sfs, src_path));
    if (!src || src->is_dir) {
      return Error(Reason::kSourcePathNotFound, "The copy source does not exist.");
    }
    TARN_RETURN_IF_ERROR(
        CheckNodeConditions(source_cond, src, false, Reason::kSourceConditionNotMet));
    TARN_ASSIGN_OR_RETURN(Filesystem dfs, RequireFilesystem(t, account, dst_fs_name));
    if (dfs.id == sfs->id && src_path == dst_path) {
      return Error(Reason::kCannotCopyOntoSelf, "A blob cannot be copied onto itself.");
    }
    TARN_ASSIGN_OR_RETURN(auto slices, t.GetExtents(src->id));
    PutOptions o;
    o.access = dest_access;
    o.headers = src->headers;
    o.metadata = metadata ? *metadata : src->metadata;
    TARN_ASSIGN_OR_RETURN(out, CommitFile(t, dfs, dst_path, slices, o, true, true));
    std::string size = std::to_string(out.length);
    out.copy = {{"id", NewUuid()},
                {"source", source_url},
                {"status", "success"},
                {"progress", size + "/" + size},
                {"completion_us", std::to_string(out.modified_us)}};
    return t.UpdateNode(out);
  }));
  WakeCollector();
  return out;
}

StatusOr<ReadPlan> LakeService::OpenRead(const std::string& account, const std::string& fs_name,
                                         const std::string& path,
                                         const std::optional<ByteRange>& range,
                                         const Access& access) {
  ReadPlan plan;
  std::vector<ExtentSlice> slices;
  std::shared_lock<std::shared_mutex> gc(gc_mu_);
  TARN_RETURN_IF_ERROR(store_->Read([&](ReadTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(access.cond, n, true));
    if (access.lease_id) TARN_RETURN_IF_ERROR(CheckWriteLease(n->lease, access.lease_id));
    if (!n->is_dir) {
      TARN_ASSIGN_OR_RETURN(slices, t.GetExtents(n->id));
    }
    plan.node = std::move(*n);
    // In this transaction: its snapshot still holds the inline bytes of these slices.
    return PlanPieces(t, slices, plan.node.length, range, &plan);
  }));
  return plan;
}

Status LakeService::PlanPieces(ReadTxn& t, const std::vector<ExtentSlice>& slices, int64_t size,
                               const std::optional<ByteRange>& range, ReadPlan* plan) {
  int64_t start = 0, end = size - 1;
  if (range) {
    if (range->start >= size) {
      return Error(Reason::kInvalidRange, "The range specified is invalid for the current size of the resource.");
    }
    start = range->start;
    if (range->end && *range->end < end) end = *range->end;
  }
  plan->start = start;
  plan->length = size == 0 ? 0 : end - start + 1;
  int64_t pos = 0;
  for (const auto& s : slices) {
    int64_t s_begin = pos, s_end = pos + s.length;  // [s_begin, s_end)
    pos = s_end;
    if (s_end <= start || s_begin > end) continue;
    int64_t from = std::max(start, s_begin), to = std::min(end + 1, s_end);
    std::unique_ptr<extent::Reader> reader;
    if (MaybeInline(s.extent_id)) {
      TARN_ASSIGN_OR_RETURN(std::optional<std::string> data, t.GetInlineData(s.extent_id));
      if (data) reader = std::make_unique<extent::MemoryReader>(std::move(*data));
    }
    if (!reader) {
      TARN_ASSIGN_OR_RETURN(reader, extents_->Open(s.extent_id));
    }
    plan->pieces.push_back(
        ReadPlan::Piece{std::move(reader), s.offset + (from - s_begin), to - from});
  }
  return Status::Ok();
}

}  // namespace tarn::lake
