// Pieces shared by the catalog service's translation units. Not part of the public interface.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog_service.h"

namespace tarn::catalog {

// A datastore as the service uses it: its document plus the opened secret (memory only).
struct CatalogService::Datastore {
  std::string name;
  Json doc;
  std::string secret;
  std::string account, filesystem, endpoint, credential_type;
  bool local = false;
};

// Reaches the files of one datastore's filesystem.
class CatalogService::Access {
 public:
  struct Entry {
    std::string path;
    bool is_dir = false;
    int64_t size = 0;
    std::string etag;  // unquoted
    std::string md5;   // base64, "" when unknown
    int64_t modified_us = 0;
  };
  virtual ~Access() = default;
  // nullopt if nothing is at path.
  virtual StatusOr<std::optional<Entry>> Stat(const std::string& path) = 0;
  // The files (not directories) under dir ("" = root), recursively or one level. A missing
  // directory lists nothing.
  virtual StatusOr<std::vector<Entry>> ListFiles(const std::string& dir, bool recursive) = 0;
};

namespace internal {

// Pin holder names: the prefix plus the version's id.
inline constexpr char kPinPrefix[] = "dsv:";

std::string NowIso();
// body[key] as a string; `dflt` when absent or null; kInvalidDefinition when another type.
StatusOr<std::string> Str(const Json& body, const char* key, const std::string& dflt);
// body[key] as a bool: dflt when absent or null, kInvalidDefinition when not a bool.
StatusOr<bool> Bool(const Json& body, const char* key, bool dflt);
bool SameName(const std::string& a, const std::string& b);  // ASCII case-insensitive
bool ParsePositive(const std::string& s, int64_t* out);
bool IsStringMap(const Json& j);
bool IsStringList(const Json& j);

// Reads a range of manifest file i (catalog_tabular.cc reads through it).
using FileRangeReader =
    std::function<StatusOr<FileRead>(size_t i, const std::optional<lake::ByteRange>& range)>;

// Copies the bytes of a range read (local pieces or the remote stream) into buf, at most
// `room` of them; returns how many arrived.
StatusOr<size_t> CopyRead(FileRead& r, char* buf, size_t room);

// catalog_tabular.cc: checks the tabular options and transforms of a definition, fills each
// file's partition values, and adds schema, row_count, profile and partition_keys to doc.
// Data that cannot be read or typed is kDataReadFailed naming the file.
// known: a profile of these files computed elsewhere (CatalogService::RegisterVersion); then
// the files are not read.
Status ProfileTabular(const Json& definition, std::vector<ManifestFile>* files,
                      const FileRangeReader& read, Json* doc, const Json* known = nullptr);

}  // namespace internal
}  // namespace tarn::catalog
