// LakeService: the lake engine. Filesystems, the hierarchical namespace and file content, with
// Azure's semantics for conditions, leases, staged data and commits, built on the two store
// interfaces (NamespaceStore for metadata, ExtentStore for bytes).
//
// Contract
// - Knows nothing of HTTP or wire formats; protocol code translates to and from these calls.
// - Every mutation is one NamespaceStore transaction: it either happens whole or not at all.
// - Content bytes are written to new extents and made durable before the transaction that
//   references them commits. A failed or interrupted upload leaves no visible change.
// - Paths are relative to the filesystem root, components separated by '/', without leading or
//   trailing '/'; "" is the root. Callers validate names with ValidatePath first.
// - Thread-safe. Extents whose reference count drops to zero are removed by a background
//   collector; readers that already opened a file keep their bytes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "lake/acl.h"
#include "store/extent/extent_store.h"
#include "store/meta/namespace_store.h"
#include "store/space/disk_guard.h"

namespace tarn::lake {

using meta::ContentHeaders;
using meta::Filesystem;
using meta::Metadata;
using meta::Node;

// HTTP-style preconditions, already parsed. Dates are Unix micros.
struct Conditions {
  std::optional<std::string> if_match;       // an etag or "*"
  std::optional<std::string> if_none_match;  // an etag or "*"
  std::optional<int64_t> if_modified_since;
  std::optional<int64_t> if_unmodified_since;
  bool empty() const {
    return !if_match && !if_none_match && !if_modified_since && !if_unmodified_since;
  }
};

// Conditions plus the caller's lease ID, as most writes take them.
struct Access {
  Conditions cond;
  std::optional<std::string> lease_id;
};

// A source of request body bytes. Read returns 0 only at the end of the body; an error means the
// body was cut short (the caller's upload must not be committed).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // The number of bytes Read will yield in all, when known in advance (an HTTP body's
  // Content-Length); a hint for buffer sizes, never trusted for correctness.
  virtual std::optional<int64_t> SizeHint() const { return std::nullopt; }
};

struct LeaseRequest {
  enum class Action { kAcquire, kRenew, kChange, kRelease, kBreak };
  Action action = Action::kAcquire;
  std::optional<std::string> lease_id;     // current lease (renew, change, release)
  std::optional<std::string> proposed_id;  // acquire, change
  int32_t duration_s = -1;                 // acquire: -1 or 15..60
  std::optional<int32_t> break_period_s;   // break: 0..60
};

struct LeaseResult {
  std::string lease_id;
  int32_t lease_time_s = 0;  // break: seconds until broken
  std::string etag;
  int64_t modified_us = 0;
};

// The lease of a node or filesystem as the clock sees it now.
struct LeaseView {
  meta::Lease::State state;  // kAvailable, kLeased, kBreaking, kBroken or kExpired
  bool infinite = false;
};
LeaseView ViewLease(const meta::Lease& lease, int64_t now_ms);

struct CreateOptions {
  bool is_dir = false;
  bool overwrite = true;  // false: AlreadyExists if the path exists (If-None-Match: *)
  Access access;          // conditions on the existing destination
  ContentHeaders headers;
  Metadata metadata;
  std::optional<std::string> owner, group, acl;
  std::optional<uint32_t> permissions;
  uint32_t umask = 027;
  // Blob Put Blob / Put Block List semantics when creating a file over a directory.
  bool blob_api = false;
  // The principal creating the path (an OAuth caller's object ID): it owns what it creates,
  // with the parent's owning group. Unset: "$superuser", as for Shared Key.
  std::optional<std::string> creator;
  // tarnd's own (pipelines' staging, no REST request sets it): a new path inherits the default
  // ACL of the directory at this path (or of its nearest existing ancestor) instead of its
  // parent's, as if it were created there. A staged output is then published with the ACLs
  // its destination folder gives new paths.
  std::optional<std::string> inherit_from{};
};

struct PutOptions {
  Access access;
  ContentHeaders headers;
  Metadata metadata;
  std::optional<std::string> expected_md5;  // Content-MD5 of the whole body (raw bytes)
  std::optional<std::string> creator;       // as CreateOptions::creator, for a new file
};

struct BlockRef {
  enum class From { kCommitted, kUncommitted, kLatest };
  From from = From::kLatest;
  std::string id;
};

struct BlockInfo {
  std::string id;
  int64_t size = 0;
};
struct BlockList {
  std::vector<BlockInfo> committed;
  std::vector<BlockInfo> uncommitted;
  std::optional<Node> node;  // absent when the blob has no committed version
};

struct AppendResult {
  // Raw MD5 of the appended bytes, computed only to check a Content-MD5 the request carried
  // (Azure answers an append with Content-MD5 only then); empty otherwise.
  std::string md5;
  std::optional<Node> flushed;  // set when flush=true committed the file
};

struct FlushOptions {
  int64_t position = 0;
  bool retain_uncommitted = false;
  bool close = false;
  Access access;
  std::optional<ContentHeaders> headers;  // replaces the stored headers when given
};

struct RenameOptions {
  Access dest;                     // conditions and lease on the destination
  Conditions source;               // x-ms-source-if-*
  std::optional<std::string> source_lease_id;
  bool overwrite = true;           // If-None-Match: * on the destination clears this
};

struct SetAccessOptions {
  std::optional<std::string> owner, group, acl;
  std::optional<uint32_t> permissions;
  Access access;
};

// One page of setAccessControlRecursive.
struct AclChangeResult {
  int64_t directories = 0, files = 0, failures = 0;
  struct Failure {
    std::string path;
    bool is_dir = false;
    std::string message;
  };
  std::vector<Failure> failed;  // the first 100
  std::string continuation;     // empty when the subtree is done
};

// What a caller means to do to a path, for POSIX ACL checks (CheckAccess).
enum class AccessIntent {
  kStat,         // properties: execute on every ancestor
  kReadFile,     // read on the file
  kListDir,      // read and execute on the directory
  kWriteFile,    // write on the file (append, flush, properties, leases)
  kCreate,       // write and execute on the parent; write on the file if it exists
  kDelete,       // write and execute on the parent, and the sticky-bit rule
  kChangeAccess  // only the owner
};

// A planned read: the node and open readers for the byte range, in order.
struct ReadPlan {
  Node node;
  int64_t start = 0;  // first byte of the range
  int64_t length = 0;  // bytes in the range
  struct Piece {
    std::unique_ptr<extent::Reader> reader;
    int64_t offset = 0;  // within the extent
    int64_t length = 0;
  };
  std::vector<Piece> pieces;
};

struct ByteRange {
  int64_t start = 0;
  std::optional<int64_t> end;  // inclusive; absent = to the end
};

// The largest file the lake holds: Azure's limit for an ADLS Gen2 file (190.7 TiB, 50,000
// blocks of 4,000 MiB), rounded up. Appends reaching past it are refused.
inline constexpr int64_t kMaxFileBytes = 200LL << 40;

struct PathEntry {
  std::string path;  // relative to the filesystem root
  Node node;
};

struct ListPathsPage {
  std::vector<PathEntry> entries;
  std::string continuation;  // empty when done
};

// A file whose committed content a holder pinned: the node as it was and its slices.
struct PinnedFile {
  std::string path;
  Node node;
  std::vector<meta::ExtentSlice> slices;
};

struct ListBlobsPage {
  std::vector<PathEntry> blobs;
  std::vector<std::string> prefixes;  // with the trailing delimiter
  std::string next_marker;
};

struct FilesystemPage {
  std::vector<Filesystem> items;
  std::string next_marker;
};

// A soft-deleted filesystem (container soft delete): as it was, under its own name, with the
// version that tells its deletions apart.
struct DeletedFilesystem {
  Filesystem fs;
  std::string version;
  int64_t deleted_us = 0;
  int64_t expires_us = 0;
};

// Soft-deleted paths of a filesystem (List Deleted Paths), in path order.
struct DeletedPage {
  std::vector<meta::DeletedPath> items;
  std::string next_marker;
};

// Validates a filesystem name as Azure does (3-63 chars of [a-z0-9-], no "--", ...).
Status ValidateFilesystemName(const std::string& name);
// Validates a decoded path and returns it normalised (no leading/trailing '/').
StatusOr<std::string> NormalizePath(const std::string& path);

class LakeService {
 public:
  // Uploads of at most inline_limit bytes are kept inline, in the namespace store, written in
  // the same transaction as the record that references them: a small append or Put Blob then
  // costs one durable commit, not two (extent bytes, then metadata). 0 keeps every upload in
  // the extent store. Inline extents have ids with bit 63 set, as packed ones do.
  static constexpr size_t kDefaultInlineLimit = 64 * 1024;

  LakeService(meta::NamespaceStore* store, extent::ExtentStore* extents,
              size_t inline_limit = kDefaultInlineLimit);
  ~LakeService();
  LakeService(const LakeService&) = delete;
  LakeService& operator=(const LakeService&) = delete;

  // Uploads, appends and blocks then ask `disk` for room before they take new bytes (not owned;
  // must outlive the service). Without one nothing is refused for space.
  void SetDiskGuard(space::DiskGuard* disk) { disk_ = disk; }

  // Start-up recovery: removes extent bytes the metadata does not know and collects garbage.
  // Returns how many extents were reclaimed.
  StatusOr<int64_t> Recover();
  // Starts the background garbage collector.
  void StartCollector();
  // Runs one collection pass now; returns how many extents were freed.
  StatusOr<int64_t> CollectGarbage();

  // Filesystems.
  StatusOr<Filesystem> CreateFilesystem(const std::string& account, const std::string& name,
                                        const Metadata& metadata,
                                        const std::string& public_access);
  StatusOr<Filesystem> GetFilesystem(const std::string& account, const std::string& name);
  Status DeleteFilesystem(const std::string& account, const std::string& name,
                          const Access& access);
  StatusOr<Filesystem> SetFilesystemMetadata(const std::string& account, const std::string& name,
                                             const Metadata& metadata, const Access& access);
  // Set Container ACL's stored access policies ("" for none) with its public access level, in
  // one change (new etag).
  StatusOr<Filesystem> SetFilesystemAcl(const std::string& account, const std::string& name,
                                        const std::string& public_access,
                                        const std::string& signed_identifiers,
                                        const Access& access);
  StatusOr<FilesystemPage> ListFilesystems(const std::string& account, const std::string& prefix,
                                           const std::string& marker, int max_results);
  StatusOr<LeaseResult> LeaseFilesystem(const std::string& account, const std::string& name,
                                        const LeaseRequest& req, const Conditions& cond);

  // Paths.
  StatusOr<Node> GetPath(const std::string& account, const std::string& fs,
                         const std::string& path, const Access& access);
  StatusOr<Node> CreatePath(const std::string& account, const std::string& fs,
                            const std::string& path, const CreateOptions& opts);
  StatusOr<Node> PutFile(const std::string& account, const std::string& fs,
                         const std::string& path, ByteSource& body, const PutOptions& opts);
  Status StageBlock(const std::string& account, const std::string& fs, const std::string& path,
                    const std::string& block_id, ByteSource& body,
                    const std::optional<std::string>& expected_md5,
                    const std::optional<std::string>& lease_id, std::string* md5_out);
  StatusOr<Node> CommitBlockList(const std::string& account, const std::string& fs,
                                 const std::string& path, const std::vector<BlockRef>& blocks,
                                 const PutOptions& opts);
  StatusOr<BlockList> GetBlockList(const std::string& account, const std::string& fs,
                                   const std::string& path, const Access& access);
  StatusOr<AppendResult> Append(const std::string& account, const std::string& fs,
                                const std::string& path, int64_t position, ByteSource& body,
                                const std::optional<std::string>& expected_md5,
                                const std::optional<std::string>& lease_id, bool flush);
  StatusOr<Node> Flush(const std::string& account, const std::string& fs,
                       const std::string& path, const FlushOptions& opts);
  StatusOr<Node> Rename(const std::string& account, const std::string& src_fs,
                        const std::string& src_path, const std::string& dst_fs,
                        const std::string& dst_path, const RenameOptions& opts);
  // Publishes a staged directory in ONE namespace transaction: `target`, if it exists, moves to
  // `retired`, then `staged` moves to `target`. Readers (listings, reads by path) see the old
  // target or the new one, never a mix, and a crash leaves one or the other. The parents of
  // `target` and `retired` are created as needed (as CreatePath creates missing parents). Errors:
  // staged missing (kSourcePathNotFound) or not a directory; target existing but not a directory
  // (kResourceTypeMismatch); retired existing (kPathAlreadyExists); any of the three inside
  // another (kInvalidDestinationPath); a lease on target or staged. Returns the new target node.
  //
  // Like Rename, the moved nodes keep their ids and content (extents, and so pins on them, are
  // untouched) and get new etags; staged (uncommitted) data under `staged` and `target` is
  // dropped, so no pending append or block of the old tree attaches to a file of the new one.
  // Staged being a file is kResourceTypeMismatch too; a file in the way of a parent to create is
  // kPathConflict; a lease is kLeaseIdMissing (no lease ID is taken). Retired's parents are only
  // created when there is a target to retire. Leases on files inside the directories are not
  // checked (as Rename does not). Example, publishing version 7:
  //   lake.SwapDirectory(acct, "lake", "_staging/sales/v7", "sales", "_retired/sales/v6");
  StatusOr<Node> SwapDirectory(const std::string& account, const std::string& fs,
                               const std::string& staged, const std::string& target,
                               const std::string& retired);
  // recursive=false refuses a non-empty directory (DirectoryNotEmpty).
  Status Delete(const std::string& account, const std::string& fs, const std::string& path,
                bool recursive, const Access& access);
  StatusOr<Node> SetProperties(const std::string& account, const std::string& fs,
                               const std::string& path, const std::optional<Metadata>& metadata,
                               const std::optional<ContentHeaders>& headers,
                               const Access& access);
  StatusOr<Node> SetAccessControl(const std::string& account, const std::string& fs,
                                  const std::string& path, const SetAccessOptions& opts);
  // Soft delete, under a delete retention policy (lake_deleted.cc). SoftDelete takes the path (a
  // file, or a directory with everything below it) out of the tree in one metadata change, as a
  // rename does, and keeps its bytes for retain_us: it lists with ListDeleted and comes back
  // with Undelete (to where it was; its parent must exist and its name be free, else
  // kParentNotFound or kPathAlreadyExists). The same checks as Delete apply first. The
  // deletion's id is its handle. PurgeDeleted deletes, for good, what has outlived its
  // retention (the retention pass calls it), and returns how many deletions it purged.
  StatusOr<meta::DeletedPath> SoftDelete(const std::string& account, const std::string& fs,
                                         const std::string& path, bool recursive,
                                         const Access& access, int64_t retain_us);
  // deletion_id nullopt: the most recent deletion of the path.
  StatusOr<Node> Undelete(const std::string& account, const std::string& fs,
                          const std::string& path, std::optional<int64_t> deletion_id);
  StatusOr<DeletedPage> ListDeleted(const std::string& account, const std::string& fs,
                                    const std::string& prefix, const std::string& marker,
                                    int max_results);
  StatusOr<int64_t> PurgeDeleted(int64_t now_us);
  // Container soft delete (lake_deleted.cc). SoftDeleteFilesystem takes the filesystem, whole,
  // out of its account (the same checks as DeleteFilesystem first) in one metadata change and
  // keeps it for retain_us; ListDeletedFilesystems lists an account's, in name order;
  // RestoreFilesystem brings one back under its name (kFilesystemAlreadyExists when the name is
  // taken again); PurgeDeletedFilesystems deletes, for good, those of these accounts whose
  // retention ended, and returns how many.
  StatusOr<DeletedFilesystem> SoftDeleteFilesystem(const std::string& account,
                                                   const std::string& name,
                                                   const Access& access, int64_t retain_us);
  StatusOr<std::vector<DeletedFilesystem>> ListDeletedFilesystems(const std::string& account,
                                                                  const std::string& prefix);
  StatusOr<Filesystem> RestoreFilesystem(const std::string& account, const std::string& name,
                                         const std::string& version);
  StatusOr<int64_t> PurgeDeletedFilesystems(const std::vector<std::string>& accounts,
                                            int64_t now_us);
  // Set Blob Tier: records the file's access tier ("Hot", "Cool", "Cold", "Archive") and when
  // it changed; the bytes, etag and modification time stay as they are. A directory,
  // which holds no bytes to tier, is kPathNotFound (BlobNotFound).
  StatusOr<Node> SetAccessTier(const std::string& account, const std::string& fs,
                               const std::string& path, const std::string& tier,
                               const Access& access);
  StatusOr<LeaseResult> LeasePath(const std::string& account, const std::string& fs,
                                  const std::string& path, const LeaseRequest& req,
                                  const Conditions& cond);
  // Synchronous copy within an account: the destination shares the source's extents and
  // records the copy (id, source_url, status, progress, completion time) in Node::copy.
  StatusOr<Node> CopyFile(const std::string& account, const std::string& src_fs,
                          const std::string& src_path, const std::string& dst_fs,
                          const std::string& dst_path, const std::optional<Metadata>& metadata,
                          const Conditions& source_cond, const Access& dest_access,
                          const std::string& source_url);

  // Reads. For a GET with conditions, a failed If-None-Match/If-Modified-Since gives
  // Reason::kNotModified.
  StatusOr<ReadPlan> OpenRead(const std::string& account, const std::string& fs,
                              const std::string& path, const std::optional<ByteRange>& range,
                              const Access& access);
  StatusOr<ListPathsPage> ListPaths(const std::string& account, const std::string& fs,
                                    const std::string& directory, bool recursive,
                                    const std::string& continuation, int max_results);
  StatusOr<ListBlobsPage> ListBlobs(const std::string& account, const std::string& fs,
                                    const std::string& prefix, const std::string& delimiter,
                                    const std::string& marker, int max_results);

  // POSIX ACL check (lake_access.cc) for callers that no role covers. OK, or
  // kAuthorizationPermissionMismatch naming what is missing. A missing path is left to the
  // operation itself (it answers 404).
  Status CheckAccess(const std::string& account, const std::string& fs, const std::string& path,
                     const AclPrincipal& who, AccessIntent intent);

  // setAccessControlRecursive (lake_acl_recursive.cc): applies a change to path and up to
  // max_records - 1 of its descendants (then max_records per page, resuming at continuation),
  // one transaction per page. With who set, only paths it owns change; the others are reported
  // as failures, and the walk goes on.
  StatusOr<AclChangeResult> ChangeAclRecursive(const std::string& account, const std::string& fs,
                                               const std::string& path, AclChangeMode mode,
                                               const std::vector<AclEntry>& change,
                                               const std::string& continuation, int max_records,
                                               const std::optional<AclPrincipal>& who);

  // Pins (lake_pins.cc). A holder (a dataset version) keeps the exact bytes of files alive,
  // whatever later happens to their paths.
  // Pins the committed content of every path under holder, in one transaction: all or none.
  // A missing path or a directory is kPathNotFound naming the path.
  StatusOr<std::vector<PinnedFile>> PinFiles(const std::string& holder,
                                             const std::string& account, const std::string& fs,
                                             const std::vector<std::string>& paths);
  // Releases every pin of holder; bytes nothing else holds are collected in the background.
  Status Unpin(const std::string& holder);
  StatusOr<std::vector<std::string>> ListPinHolders(const std::string& prefix);
  // Reads content made of slices (a pinned file of `size` bytes), or a range of it. The plan's
  // node is empty apart from its length.
  StatusOr<ReadPlan> OpenSlices(const std::vector<meta::ExtentSlice>& slices, int64_t size,
                                const std::optional<ByteRange>& range);

 private:
  space::DiskGuard* disk_ = nullptr;
  // Fills plan->start, length and pieces for a range of content made of slices, with gc_mu_
  // held shared by the caller. t is a read transaction in which the slices are live: inline
  // extents are read from it.
  Status PlanPieces(meta::ReadTxn& t, const std::vector<meta::ExtentSlice>& slices, int64_t size,
                    const std::optional<ByteRange>& range, ReadPlan* plan);
  struct WrittenExtent;
  // Reads a whole body: up to inline_limit_ bytes into memory (an inline extent), more into a
  // new, finished extent of the extent store. nullopt for an empty body. The extent's MD5 is
  // computed as hashing asks, and always when md5 (the MD5 the body must have) is given.
  StatusOr<std::optional<WrittenExtent>> WriteExtent(ByteSource& body,
                                                     const std::optional<std::string>& md5,
                                                     extent::Hashing hashing);
  // Records a written extent in t: inline extents with their bytes.
  static Status RecordExtent(meta::WriteTxn& t, const WrittenExtent& e);
  void Discard(const std::optional<WrittenExtent>& e);
  void WakeCollector();
  void CollectorLoop();

  meta::NamespaceStore* store_;
  extent::ExtentStore* extents_;
  const size_t inline_limit_;
  // Ids of new inline extents: consecutive from a random start, so that a batch of small
  // writes inserts next to each other in every table and index keyed by extent id (one dirty
  // page to log per commit, not one per write, as random ids gave).
  std::atomic<uint64_t> next_inline_id_;

  // Readers open extent files under a shared lock; the collector removes files under an
  // exclusive one, so a read plan never names a file that is already gone.
  std::shared_mutex gc_mu_;

  std::mutex collector_mu_;
  std::condition_variable collector_cv_;
  bool collector_wake_ = false;
  bool stopping_ = false;
  std::thread collector_;
};

}  // namespace tarn::lake
