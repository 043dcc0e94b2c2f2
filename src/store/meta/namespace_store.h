// NamespaceStore: the metadata interface of the lake (filesystems, the hierarchical namespace,
// file extent lists, staged data and extent reference counts).
//
// Contract
// - Every mutation runs inside Write(fn). fn receives a WriteTxn and runs atomically: if it
//   returns an error, none of its changes are visible; if it returns OK, all of them are
//   committed and durable (fsynced) before Write returns. Implementations may group the
//   transactions of concurrent callers into one physical commit (group commit); each caller
//   still gets all-or-nothing semantics for its own fn.
// - fn may run on another thread than the caller's. It must not block on I/O other than the
//   store's own, and must not call Write or Read re-entrantly.
// - Read(fn) runs fn against a consistent snapshot of the last committed state, which may
//   include a commit whose Write has not returned yet (committed, not yet durable). What acts
//   outside the store on what it reads (frees extent bytes) must read inside a Write.
// - All methods are thread-safe.
// - NotFound is reported as std::nullopt by lookups, never as an error. Errors are for
//   constraint violations (AlreadyExists on a duplicate (parent, name)) and for store failures
//   (Internal).
//
// Reference counts: an extent's refcount is the number of ExtentSlices that name it in file
// extent lists, staged entries, and pins. The store maintains it: inserting or removing any of
// those adjusts it in the same transaction. An extent whose count drops to zero is "garbage";
// ListGarbage finds them and DeleteExtentRecords forgets them once their bytes are gone.
//
// Usage:
//   Status s = store->Write([&](WriteTxn& t) -> Status {
//     auto parent = t.Lookup(fs, root, "dir");
//     if (!parent) return Error(Reason::kPathNotFound, "dir");
//     return t.InsertNode(node).status();
//   });
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/meta/types.h"

namespace tarn::meta {

class ReadTxn {
 public:
  virtual ~ReadTxn() = default;

  virtual StatusOr<std::optional<Filesystem>> GetFilesystem(const std::string& account,
                                                            const std::string& name) = 0;
  // Filesystems of an account with name > after (lexicographic), name starting with prefix,
  // at most limit of them, in name order.
  virtual StatusOr<std::vector<Filesystem>> ListFilesystems(const std::string& account,
                                                            const std::string& prefix,
                                                            const std::string& after,
                                                            int limit) = 0;

  virtual StatusOr<std::optional<Node>> GetNode(int64_t node_id) = 0;
  virtual StatusOr<std::optional<Node>> Lookup(int64_t fs_id, int64_t parent_id,
                                               const std::string& name) = 0;
  // Children of parent with name > after and starting with prefix, in byte order of name,
  // at most limit.
  virtual StatusOr<std::vector<Node>> ListChildren(int64_t parent_id, const std::string& prefix,
                                                   const std::string& after, int limit) = 0;
  virtual StatusOr<bool> HasChildren(int64_t parent_id) = 0;
  // True if `ancestor` is `node` or one of its ancestors.
  virtual StatusOr<bool> IsAncestorOrSelf(int64_t ancestor, int64_t node) = 0;

  // The committed content of a file, in order.
  virtual StatusOr<std::vector<ExtentSlice>> GetExtents(int64_t node_id) = 0;
  // Staged data keyed by (fs, path), in insertion order.
  virtual StatusOr<std::vector<StagedExtent>> ListStaged(int64_t fs_id,
                                                         const std::string& path) = 0;

  virtual StatusOr<std::optional<ExtentRecord>> GetExtent(uint64_t extent_id) = 0;
  // Extents with refcount 0, at most limit.
  virtual StatusOr<std::vector<uint64_t>> ListGarbage(int limit) = 0;
  // Whether an extent record exists at all (any refcount).
  virtual StatusOr<bool> ExtentKnown(uint64_t extent_id) = 0;
  // The bytes of an inline extent (see InsertInlineExtent); nullopt if the extent has no record
  // or its bytes live in the extent store.
  virtual StatusOr<std::optional<std::string>> GetInlineData(uint64_t extent_id) = 0;
  // Soft-deleted paths of a filesystem whose path starts with prefix, in (path, id) order after
  // (after_path, after_id), at most limit.
  virtual StatusOr<std::vector<DeletedPath>> ListDeleted(int64_t fs_id, const std::string& prefix,
                                                         const std::string& after_path,
                                                         int64_t after_id, int limit) = 0;
  virtual StatusOr<std::optional<DeletedPath>> GetDeleted(int64_t fs_id, int64_t id) = 0;
  // The most recent deletion of `path`, if any.
  virtual StatusOr<std::optional<DeletedPath>> LatestDeleted(int64_t fs_id,
                                                             const std::string& path) = 0;
  // Deletions (of any filesystem) whose retention ended at or before now_us, at most limit.
  virtual StatusOr<std::vector<DeletedPath>> ExpiredDeleted(int64_t now_us, int limit) = 0;
  // Distinct pin holders whose name starts with prefix, in byte order.
  virtual StatusOr<std::vector<std::string>> ListPinHolders(const std::string& prefix) = 0;
};

class WriteTxn : public ReadTxn {
 public:
  // Creates the filesystem and its root directory node (root_access applied to it).
  // AlreadyExists (Reason::kFilesystemAlreadyExists) if the name is taken in the account.
  virtual StatusOr<Filesystem> CreateFilesystem(Filesystem fs, const Node& root) = 0;
  // Replaces account, name (a container's soft delete and restore move it), etag, modified_us,
  // metadata, public_access, lease and signed identifiers. The caller keeps (account, name)
  // unique.
  virtual Status UpdateFilesystem(const Filesystem& fs) = 0;
  // Deletes the filesystem, every node in it (soft-deleted ones too), their extent lists and
  // staged data, in this txn.
  virtual Status DeleteFilesystem(int64_t fs_id) = 0;

  // Inserts a node (id assigned and returned). AlreadyExists (kPathAlreadyExists) if
  // (parent_id, name) is taken.
  virtual StatusOr<Node> InsertNode(Node node) = 0;
  // Replaces every stored field of an existing node except id, fs_id, parent_id, name.
  virtual Status UpdateNode(const Node& node) = 0;
  // Moves a node (and so its whole subtree) under a new parent with a new name: one row.
  // AlreadyExists (kPathAlreadyExists) if the destination name is taken.
  virtual Status MoveNode(int64_t node_id, int64_t new_parent_id, const std::string& new_name,
                          const std::string& etag, int64_t modified_us) = 0;
  // Deletes a node and all of its descendants with their extent lists. Returns how many nodes
  // were deleted.
  virtual StatusOr<int64_t> DeleteSubtree(int64_t node_id) = 0;

  // Records a soft deletion (id assigned and returned); RemoveDeleted forgets one.
  virtual StatusOr<DeletedPath> InsertDeleted(DeletedPath d) = 0;
  virtual Status RemoveDeleted(int64_t id) = 0;

  // Replaces the committed extent list of a file (refcounts adjusted).
  virtual Status SetExtents(int64_t node_id, const std::vector<ExtentSlice>& slices) = 0;

  // Records the bytes of a freshly written extent (refcount 0 until referenced).
  virtual Status InsertExtent(const ExtentRecord& extent) = 0;
  // As InsertExtent, and keeps the extent's bytes (data.size() == extent.length) in this store:
  // they are durable when the transaction commits, with no extent store write and no separate
  // commit of their own. For small extents, whose cost is all commits and no bytes. The bytes go
  // when DeleteExtentRecords forgets the record.
  virtual Status InsertInlineExtent(const ExtentRecord& extent, std::string_view data) = 0;
  // Adds a staged entry (refcount + 1). A Put Block with the same non-empty block_id replaces
  // the earlier one under the same key.
  virtual Status PutStaged(int64_t fs_id, const std::string& path, const StagedExtent& s) = 0;
  // Drops every staged entry under (fs, path) (refcounts - 1).
  virtual Status ClearStaged(int64_t fs_id, const std::string& path) = 0;
  // Drops every staged entry of a filesystem whose path is path or under path + "/".
  virtual Status ClearStagedUnder(int64_t fs_id, const std::string& path) = 0;

  // Pins: a named holder (a dataset version, a snapshot) keeps slices alive (refcount + 1 each).
  virtual Status Pin(const std::string& holder, const std::vector<ExtentSlice>& slices) = 0;
  // Releases every pin of a holder (refcount - 1 each).
  virtual Status UnpinAll(const std::string& holder) = 0;

  // Forgets extent records (only those with refcount 0 are removed), with their inline bytes.
  virtual Status DeleteExtentRecords(const std::vector<uint64_t>& extent_ids) = 0;
};

class NamespaceStore {
 public:
  virtual ~NamespaceStore() = default;

  virtual Status Write(const std::function<Status(WriteTxn&)>& fn) = 0;
  virtual Status Read(const std::function<Status(ReadTxn&)>& fn) = 0;
};

}  // namespace tarn::meta
