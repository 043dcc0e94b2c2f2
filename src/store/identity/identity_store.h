// IdentityStore: the directory's metadata (tenants, principals, client-secret hashes, groups and
// memberships, role assignments, token-signing keys), in the same metadata database as the lake.
//
// Contract
// - Every object is a record of a kind ("tenant", "principal", "secret", "group", "member",
//   "role", "key"), an id unique within the kind, an optional parent id it belongs to (a
//   principal's tenant, a secret's principal, a membership's group...), an optional lookup key
//   unique within the kind (a service principal's application id), and a JSON document that the
//   identity service builds and reads.
// - Write(fn) is atomic and durable; Read(fn) sees the last commit. Thread-safe.
// - Lookups report NotFound as std::nullopt. Put replaces a record with the same (kind, id);
//   AlreadyExists if another record of the kind holds the same lookup key.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace tarn::identity {

struct IdentityRecord {
  std::string kind;
  std::string id;
  std::string parent;  // "" when none
  std::string lookup;  // "" when none
  std::string doc;     // JSON
};

class IdentityTxn {
 public:
  virtual ~IdentityTxn() = default;
  virtual StatusOr<std::optional<IdentityRecord>> Get(const std::string& kind,
                                                      const std::string& id) = 0;
  virtual StatusOr<std::optional<IdentityRecord>> FindByLookup(const std::string& kind,
                                                               const std::string& lookup) = 0;
  // Records of a kind, all of them (parent "") or those of one parent, in id order.
  virtual StatusOr<std::vector<IdentityRecord>> List(const std::string& kind,
                                                     const std::string& parent) = 0;
  virtual Status Put(const IdentityRecord& r) = 0;
  // Deletes the record (not its children: the service deletes those explicitly).
  virtual Status Delete(const std::string& kind, const std::string& id) = 0;
};

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;
  virtual Status Write(const std::function<Status(IdentityTxn&)>& fn) = 0;
  virtual Status Read(const std::function<Status(IdentityTxn&)>& fn) = 0;
};

}  // namespace tarn::identity
