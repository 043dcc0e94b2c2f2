// What pipelines need of the catalog: a tabular version as the engine reads it, and whether a
// datastore may have a folder written.
#include <cstring>

#include "catalog/catalog_internal.h"

namespace tarn::catalog {
namespace {

// Random reads of one file of a version, each through CatalogService::OpenFile: the pinned
// bytes, the datastore's credential (or the caller) checked again on every read.
class VersionFile final : public tabular::RandomAccessFile {
 public:
  VersionFile(std::function<StatusOr<FileRead>(const lake::ByteRange&)> read, int64_t size)
      : read_(std::move(read)), size_(size) {}

  int64_t Size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    if (offset >= size_ || n == 0) return size_t{0};
    const int64_t want = std::min<int64_t>(static_cast<int64_t>(n), size_ - offset);
    TARN_ASSIGN_OR_RETURN(FileRead r, read_(lake::ByteRange{offset, offset + want - 1}));
    return internal::CopyRead(r, buf, static_cast<size_t>(want));
  }

 private:
  std::function<StatusOr<FileRead>(const lake::ByteRange&)> read_;
  int64_t size_;
};

class VersionOpener final : public tabular::FileOpener {
 public:
  VersionOpener(CatalogService* catalog, std::string ws, std::string name, std::string version,
                ReadAs as, std::vector<int64_t> sizes)
      : catalog_(catalog),
        ws_(std::move(ws)),
        name_(std::move(name)),
        version_(std::move(version)),
        as_(std::move(as)),
        sizes_(std::move(sizes)) {}

  StatusOr<std::unique_ptr<tabular::RandomAccessFile>> Open(const tabular::SourceFile& f) override {
    int64_t index = 0;
    if (!internal::ParsePositive(f.key, &index) && f.key != "0") {
      return InternalError("bad file key " + f.key);
    }
    if (index < 0 || static_cast<size_t>(index) >= sizes_.size()) {
      return InternalError("bad file key " + f.key);
    }
    auto read = [this, index](const lake::ByteRange& range) {
      return catalog_->OpenFile(ws_, name_, version_, index, range, /*ignore_drift=*/false, as_);
    };
    return std::unique_ptr<tabular::RandomAccessFile>(
        std::make_unique<VersionFile>(read, sizes_[static_cast<size_t>(index)]));
  }

 private:
  CatalogService* catalog_;
  std::string ws_, name_, version_;
  ReadAs as_;
  std::vector<int64_t> sizes_;
};

}  // namespace

StatusOr<TabularSource> CatalogService::OpenTabular(const std::string& ws, const std::string& name,
                                                    const std::string& version,
                                                    const ReadAs& as) {
  TARN_ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(ws, name, version));
  TARN_ASSIGN_OR_RETURN(Json doc, GetVersion(ws, name, std::to_string(v.version)));
  if (doc.value("kind", "") != "tabular") {
    return Error(Reason::kInvalidDefinition,
                 "dataset '" + name + "' version " + std::to_string(v.version) +
                     " is a file dataset; a pipeline reads tabular datasets (register it with a "
                     "format: csv, parquet or jsonl)");
  }
  if (v.state != "active") {
    return Error(Reason::kInvalidDefinition, "dataset '" + name + "' version " +
                                                 std::to_string(v.version) +
                                                 " is archived; reactivate it or pick another");
  }
  const Json& def = doc["definition"];
  TabularSource out;
  TARN_ASSIGN_OR_RETURN(out.request.format, tabular::ParseFormat(def.value("format", "")));
  TARN_ASSIGN_OR_RETURN(out.request.options,
                        tabular::ParseOptions(def.value("options", Json::object())));
  TARN_ASSIGN_OR_RETURN(out.request.transforms,
                        tabular::ParseTransforms(def.value("transforms", Json::array())));
  TARN_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(v.id));
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < manifest->size(); ++i) {
    const ManifestFile& f = (*manifest)[i];
    out.files.push_back(tabular::SourceFile{std::to_string(i), f.path, f.size});
    sizes.push_back(f.size);
  }
  out.opener = std::make_unique<VersionOpener>(this, ws, name, std::to_string(v.version), as,
                                               std::move(sizes));
  out.version = std::move(doc);
  return out;
}

StatusOr<WriteTarget> CatalogService::AuthorizeWrite(const std::string& ws,
                                                     const std::string& datastore,
                                                     const std::string& path, const ReadAs& as) {
  TARN_ASSIGN_OR_RETURN(Datastore d, LoadDatastore(ws, datastore));
  if (!d.local) {
    return Error(Reason::kInvalidDefinition,
                 "datastore '" + d.name + "' is on " + d.endpoint +
                     ", not this tarnd: a pipeline writes only to this tarnd's own accounts");
  }
  WriteTarget out{d.name, d.account, d.filesystem};
  const std::string where = "'" + path + "' of filesystem '" + d.filesystem + "'";
  if (d.credential_type == "sas") {
    return Error(Reason::kAuthorizationPermissionMismatch,
                 "datastore '" + d.name + "' holds a SAS, which a pipeline does not write with; " +
                     "register it with a service principal, an account key or no credential");
  }
  if (d.credential_type == "account_key") {
    if (!credential_check_) return out;
    Status s = credential_check_(
        StoredCredential{d.credential_type, d.account, d.secret, d.filesystem, "", true});
    if (s.ok()) return out;
    return Error(Reason::kAuthorizationPermissionMismatch,
                 "the account key of datastore '" + d.name + "' is no longer valid: " +
                     s.message() + " Register the datastore again with a current key.");
  }
  identity::Caller who;
  std::string whom;
  if (d.credential_type == "service_principal") {
    TARN_ASSIGN_OR_RETURN(who, LocalPrincipal(d));
    whom = "the service principal of datastore '" + d.name + "'";
  } else if (as.caller) {
    if (!identity_) return Error(Reason::kDatastoreAccessFailed, "no identity service");
    who = *as.caller;
    whom = "'" + who.oid + "' (datastore '" + d.name + "' writes as its caller)";
  } else {
    return out;  // an account key holder
  }
  const std::string scope = "/" + d.account + "/" + d.filesystem + "/" + path;
  TARN_ASSIGN_OR_RETURN(identity::Role role, identity_->EffectiveRole(who, scope));
  if (role >= identity::Role::kContributor) return out;
  // Without the role, the ACLs of the nearest existing folder must let it create below.
  std::string at = path;
  for (;;) {
    auto node = lake_->GetPath(d.account, d.filesystem, at, {});
    if (node.ok()) break;
    if (node.status().code() != Code::kNotFound) return node.status();
    const size_t slash = at.rfind('/');
    at = slash == std::string::npos ? "" : at.substr(0, slash);
    if (at.empty()) break;
  }
  Status s = lake_->CheckAccess(d.account, d.filesystem, at + (at.empty() ? "x" : "/x"),
                                lake::AclPrincipal{who.oid, who.groups},
                                lake::AccessIntent::kCreate);
  if (s.ok()) return out;
  return Error(Reason::kAuthorizationPermissionMismatch,
               whom + " may not write " + where +
                   ": it has no Storage Blob Data Contributor role there, and " + s.message());
}

}  // namespace tarn::catalog
