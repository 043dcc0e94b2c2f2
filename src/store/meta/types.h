// Plain records stored by a NamespaceStore. No behaviour, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tarn::meta {

using Metadata = std::map<std::string, std::string>;  // user metadata, keys as given (case kept)

// Content headers stored with a file (Blob "HTTP headers", DFS x-ms-content-*).
struct ContentHeaders {
  std::string content_type;
  std::string content_encoding;
  std::string content_language;
  std::string content_disposition;
  std::string cache_control;
  std::string content_md5;  // raw 16 bytes, or empty when unknown
  friend bool operator==(const ContentHeaders&, const ContentHeaders&) = default;
};

// Lease state as stored. Times are milliseconds since the Unix epoch; 0 means "not set".
// The state is evaluated against the clock by the lake service (an expired lease reads as expired).
struct Lease {
  enum class State { kAvailable = 0, kLeased = 1, kBreaking = 2, kBroken = 3, kExpired = 4 };
  State state = State::kAvailable;
  std::string id;            // current lease ID when leased/breaking
  int32_t duration_s = -1;   // -1 infinite
  int64_t expires_ms = 0;    // for a finite lease
  int64_t break_ms = 0;      // when a breaking lease becomes broken
  friend bool operator==(const Lease&, const Lease&) = default;
};

// Access-control fields, stored now and enforced by the identity layer.
struct Access {
  std::string owner = "$superuser";
  std::string group = "$superuser";
  uint32_t permissions = 0750;  // POSIX bits incl. sticky (01000)
  std::string acl;              // extended access entries, canonical text ("user:oid:r-x,...")
  std::string default_acl;      // default entries (directories only), canonical text
  friend bool operator==(const Access&, const Access&) = default;
};

struct Filesystem {
  int64_t id = 0;
  std::string account;
  std::string name;
  int64_t root_id = 0;  // node id of "/"
  std::string etag;
  int64_t created_us = 0;
  int64_t modified_us = 0;
  Metadata metadata;
  std::string public_access;  // "", "blob" or "container"
  Lease lease;
  // Stored access policies (Set Container ACL): the <SignedIdentifiers> document as stored,
  // "" for none.
  std::string signed_identifiers;
};

// One extent of file content. Extents are immutable; `offset` and `length` select the bytes
// of the extent that belong to the file, so a file is the concatenation of its extent slices.
struct ExtentSlice {
  uint64_t extent_id = 0;
  int64_t offset = 0;
  int64_t length = 0;
  std::string block_id;  // Blob block ID this slice was committed as ("" for DFS appends)
  friend bool operator==(const ExtentSlice&, const ExtentSlice&) = default;
};

struct Node {
  int64_t id = 0;
  int64_t fs_id = 0;
  int64_t parent_id = 0;  // 0 for the root
  std::string name;       // "" for the root
  bool is_dir = false;
  std::string etag;
  int64_t created_us = 0;
  int64_t modified_us = 0;
  int64_t length = 0;  // committed content length (files)
  ContentHeaders headers;
  Metadata metadata;  // user metadata; DFS properties are the same set
  Access access;
  Lease lease;
  // The last Copy Blob that produced this file: keys id, source, status, progress and
  // completion_us. Empty when the file was never a copy destination.
  std::map<std::string, std::string> copy;
  // The access tier set with Set Blob Tier ("Hot", "Cool", "Cold", "Archive"); "" when never
  // set (the account's default, Hot, inferred). Tarn keeps every tier's bytes the same way.
  std::string access_tier;
  int64_t tier_changed_us = 0;  // when access_tier was last set
};

// Data staged but not committed: a Put Block or a DFS append. Invisible to readers.
struct StagedExtent {
  std::string block_id;  // Put Block: the block ID; DFS append: ""
  int64_t position = 0;  // DFS append: the file offset it was written at; Put Block: 0
  ExtentSlice slice;
};

// A path deleted under a delete retention policy (soft delete): its node, with its whole subtree
// and extents, is parked out of the tree under kParkedParent until it is restored or purged.
struct DeletedPath {
  int64_t id = 0;  // the deletion id
  int64_t fs_id = 0;
  int64_t node_id = 0;
  std::string path;  // where it was
  bool is_dir = false;
  int64_t deleted_us = 0;
  int64_t expires_us = 0;  // purged after this
};
inline constexpr int64_t kParkedParent = -1;

struct ExtentRecord {
  uint64_t id = 0;
  int64_t length = 0;
  std::string md5;  // raw 16 bytes
  int64_t refcount = 0;
};

}  // namespace tarn::meta
