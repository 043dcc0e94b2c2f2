// CatalogService: workspaces, datastores, and the lifecycle of dataset versions. Registration
// and reads of a version's files are in catalog_datasets.cc.
#include "catalog/catalog_service.h"

#include <algorithm>
#include <cctype>

#include "catalog/catalog_internal.h"
#include "client/lake_client.h"
#include "common/crypto.h"
#include "common/time_util.h"

namespace tarn::catalog {

using internal::NowIso;
using internal::Str;

// ----- names ----------------------------------------------------------------------------------

namespace {

bool AllOf(const std::string& s, const char* extra) {
  return std::all_of(s.begin(), s.end(), [&](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::strchr(extra, ch) != nullptr;
  });
}

}  // namespace

Status ValidateWorkspaceName(const std::string& n) {
  if (n.size() < 2 || n.size() > 32 || !AllOf(n, "-_") ||
      !std::isalnum(static_cast<unsigned char>(n[0]))) {
    return Error(Reason::kInvalidName,
                 "invalid workspace name '" + n +
                     "': use 2-32 letters, digits, '-' or '_', starting with a letter or digit");
  }
  return Status::Ok();
}

Status ValidateDatastoreName(const std::string& n) {
  if (n.empty() || n.size() > 255 || !AllOf(n, "_")) {
    return Error(Reason::kInvalidName,
                 "invalid datastore name '" + n + "': use 1-255 letters, digits or '_'");
  }
  return Status::Ok();
}

Status ValidateDatasetName(const std::string& n) {
  // Azure ML's dataset names, spaces included ('diabetes dataset'), but not at the ends.
  if (n.empty() || n.size() > 250 || !AllOf(n, "-_. ") ||
      !std::isalnum(static_cast<unsigned char>(n[0])) || n.back() == ' ') {
    return Error(Reason::kInvalidName,
                 "invalid dataset name '" + n +
                     "': use 1-250 letters, digits, spaces, '-', '_' or '.', starting with a "
                     "letter or digit and not ending with a space");
  }
  return Status::Ok();
}

// ----- construction ---------------------------------------------------------------------------

CatalogService::CatalogService(CatalogStore* store, lake::LakeService* lake, const SecretBox* box,
                               std::vector<std::string> accounts,
                               identity::IdentityService* identity)
    : store_(store),
      lake_(lake),
      box_(box),
      accounts_(std::move(accounts)),
      identity_(identity) {}

Status CatalogService::ValidateLocalPrincipal(const Datastore& d) {
  Status s = AuthorizeLocalRead(d, "", lake::AccessIntent::kListDir, ReadAs{});
  if (s.ok()) return s;
  return Error(Reason::kDatastoreValidationFailed, s.message());
}

CatalogService::~CatalogService() = default;

void CatalogService::SetCredentialCheck(CredentialCheck check) {
  credential_check_ = std::move(check);
}

void CatalogService::SetSelfUrls(std::vector<std::string> urls) { self_urls_ = std::move(urls); }

void CatalogService::SetTrustedCa(std::shared_ptr<const http::TlsContext> tls) {
  tls_ = std::move(tls);
}

bool CatalogService::IsLocal(const std::string& endpoint, const std::string& account) const {
  bool own = std::find(accounts_.begin(), accounts_.end(), account) != accounts_.end();
  if (!own) return false;
  std::string e = endpoint;
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e.empty() || std::any_of(self_urls_.begin(), self_urls_.end(), [&](const std::string& u) {
           return e == u + "/" + account;
         });
}

StatusOr<int64_t> CatalogService::Recover() {
  TARN_ASSIGN_OR_RETURN(std::vector<std::string> holders,
                        lake_->ListPinHolders(internal::kPinPrefix));
  int64_t released = 0;
  for (const std::string& h : holders) {
    std::string id = h.substr(std::string(internal::kPinPrefix).size());
    bool keep = false;
    TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
      TARN_ASSIGN_OR_RETURN(auto ids, t.ListVersionIds());
      keep = std::binary_search(ids.begin(), ids.end(), id);
      return Status::Ok();
    }));
    if (!keep) {
      TARN_RETURN_IF_ERROR(lake_->Unpin(h));
      ++released;
    }
  }
  return released;
}

// ----- workspaces -----------------------------------------------------------------------------

StatusOr<WorkspaceRecord> CatalogService::RequireWorkspace(CatalogTxn& t, const std::string& ws) {
  TARN_ASSIGN_OR_RETURN(auto w, t.GetWorkspace(ws));
  if (!w) return Error(Reason::kWorkspaceNotFound, "workspace '" + ws + "' does not exist");
  return *w;
}

StatusOr<Json> CatalogService::PutWorkspace(const std::string& name, const Json& body,
                                            bool* created) {
  TARN_RETURN_IF_ERROR(ValidateWorkspaceName(name));
  TARN_ASSIGN_OR_RETURN(std::string sub, Str(body, "subscription_id", ""));
  TARN_ASSIGN_OR_RETURN(std::string rg, Str(body, "resource_group", ""));
  TARN_ASSIGN_OR_RETURN(std::string desc, Str(body, "description", ""));
  // A new workspace gets its default datastore, as Azure ML's workspaceblobstore: a filesystem
  // of its own on this tarnd's first account, read and written as the caller (identity-based).
  std::optional<DatastoreRecord> blobstore;
  bool exists = false;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto w, t.GetWorkspace(name));
    exists = w.has_value();
    return Status::Ok();
  }));
  if (!exists && lake_ != nullptr && !accounts_.empty()) {
    const std::string& account = accounts_[0];
    const std::string fs = "azureml-blobstore-" + NewUuid();
    auto made = lake_->CreateFilesystem(account, fs, {}, "");
    if (!made.ok() && made.status().code() != Code::kAlreadyExists) return made.status();
    Json doc{{"name", kWorkspaceBlobstore},
             {"datastore_type", "AzureDataLakeGen2"},
             {"endpoint", self_urls_.empty() ? std::string() : self_urls_[0] + "/" + account},
             {"account_name", account},
             {"filesystem", fs},
             {"credential_type", "none"},
             {"local", true},
             {"created_time", NowIso()},
             {"validated", false}};
    blobstore = DatastoreRecord{name, kWorkspaceBlobstore, doc.dump(), ""};
  }
  Json out;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto existing, t.GetWorkspace(name));
    if (existing) {
      out = Json::parse(existing->doc);
      if (out.value("subscription_id", "") != sub || out.value("resource_group", "") != rg) {
        return Error(Reason::kWorkspaceAlreadyExists,
                     "workspace '" + name + "' already exists with subscription_id '" +
                         out.value("subscription_id", "") + "' and resource_group '" +
                         out.value("resource_group", "") + "'");
      }
      *created = false;
      return Status::Ok();
    }
    out = Json{{"name", name},        {"subscription_id", sub},   {"resource_group", rg},
               {"description", desc}, {"created_time", NowIso()}, {"default_datastore", nullptr}};
    if (blobstore) {
      TARN_RETURN_IF_ERROR(t.PutDatastore(*blobstore));
      out["default_datastore"] = kWorkspaceBlobstore;
    }
    *created = true;
    return t.PutWorkspace(WorkspaceRecord{name, out.dump()});
  }));
  return out;
}

StatusOr<Json> CatalogService::GetWorkspace(const std::string& name) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(WorkspaceRecord w, RequireWorkspace(t, name));
    out = Json::parse(w.doc);
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> CatalogService::ListWorkspaces() {
  Json list = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto all, t.ListWorkspaces());
    for (const auto& w : all) list.push_back(Json::parse(w.doc));
    return Status::Ok();
  }));
  return Json{{"workspaces", list}};
}

Status CatalogService::DeleteWorkspace(const std::string& name) {
  std::vector<VersionRecord> versions;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, name).status());
    TARN_ASSIGN_OR_RETURN(auto names, t.ListDatasets(name, true));
    for (const auto& d : names) {
      TARN_ASSIGN_OR_RETURN(auto vs, t.ListVersions(name, d.name));
      versions.insert(versions.end(), vs.begin(), vs.end());
    }
    return t.DeleteWorkspace(name);
  }));
  // The catalog no longer names these versions; a failure here leaves pins Recover() releases.
  for (const auto& v : versions) TARN_RETURN_IF_ERROR(Release(v));
  return Status::Ok();
}

// ----- datastores -----------------------------------------------------------------------------

namespace {

constexpr const char* kCredentialTypes[] = {"account_key", "sas", "service_principal", "none"};

}  // namespace

StatusOr<Json> CatalogService::RegisterDatastore(const std::string& ws, const std::string& name,
                                                 const Json& body, bool* created) {
  TARN_RETURN_IF_ERROR(ValidateDatastoreName(name));
  if (!body.is_object()) return Error(Reason::kInvalidDefinition, "the body must be a JSON object");
  TARN_ASSIGN_OR_RETURN(std::string endpoint, Str(body, "endpoint", ""));
  TARN_ASSIGN_OR_RETURN(std::string account, Str(body, "account_name", ""));
  TARN_ASSIGN_OR_RETURN(std::string fs, Str(body, "filesystem", ""));
  TARN_ASSIGN_OR_RETURN(bool overwrite, internal::Bool(body, "overwrite", false));
  TARN_ASSIGN_OR_RETURN(bool skip_validation, internal::Bool(body, "skip_validation", false));
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (account.empty() && !endpoint.empty()) {
    // The path-style endpoint names the account: http://host:port/<account>.
    size_t scheme = endpoint.find("://");
    size_t slash = endpoint.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash != std::string::npos) account = endpoint.substr(slash + 1);
  }
  if (account.empty()) {
    return Error(Reason::kInvalidDefinition,
                 "a datastore needs account_name (or an endpoint "
                 "that ends with /<account>)");
  }
  if (Status s = lake::ValidateFilesystemName(fs); !s.ok()) {
    return Error(Reason::kInvalidDefinition,
                 "invalid filesystem '" + fs + "' for the datastore: " + s.message());
  }
  const Json cred = body.contains("credential") ? body["credential"] : Json{{"type", "none"}};
  if (!cred.is_object()) return Error(Reason::kInvalidDefinition, "credential must be an object");
  TARN_ASSIGN_OR_RETURN(std::string type, Str(cred, "type", ""));
  if (std::find(std::begin(kCredentialTypes), std::end(kCredentialTypes), type) ==
      std::end(kCredentialTypes)) {
    return Error(
        Reason::kInvalidDefinition,
        "credential.type must be account_key, sas, service_principal or none, not '" + type + "'");
  }
  Datastore d;
  d.name = name;
  d.account = account;
  d.filesystem = fs;
  d.credential_type = type;
  d.local = IsLocal(endpoint, account);
  d.endpoint = endpoint.empty() && !self_urls_.empty() ? self_urls_[0] + "/" + account : endpoint;
  Json doc{{"name", name},           {"datastore_type", "AzureDataLakeGen2"},
           {"endpoint", d.endpoint}, {"account_name", account},
           {"filesystem", fs},       {"credential_type", type},
           {"local", d.local},       {"created_time", NowIso()}};
  if (type == "account_key") {
    TARN_ASSIGN_OR_RETURN(d.secret, Str(cred, "account_key", ""));
    if (d.secret.empty())
      return Error(Reason::kInvalidDefinition, "credential.account_key is empty");
  } else if (type == "sas") {
    TARN_ASSIGN_OR_RETURN(d.secret, Str(cred, "sas_token", ""));
    if (!d.secret.empty() && d.secret[0] == '?') d.secret.erase(0, 1);
    if (d.secret.empty()) return Error(Reason::kInvalidDefinition, "credential.sas_token is empty");
  } else if (type == "service_principal") {
    for (const char* k : {"tenant_id", "client_id", "authority_url", "resource_url"}) {
      TARN_ASSIGN_OR_RETURN(std::string v, Str(cred, k, ""));
      doc[k] = v;
    }
    TARN_ASSIGN_OR_RETURN(d.secret, Str(cred, "client_secret", ""));
    if (doc["tenant_id"] == "" || doc["client_id"] == "" || d.secret.empty()) {
      return Error(Reason::kInvalidDefinition,
                   "a service principal needs tenant_id, client_id and client_secret");
    }
  }
  d.doc = doc;
  bool validated = false;
  if (!skip_validation && type != "none") {
    if (type == "service_principal" && d.local) {
      if (!identity_) {
        return Error(Reason::kDatastoreValidationFailed,
                     "this tarnd has no token service to validate the service principal with");
      }
      TARN_RETURN_IF_ERROR(ValidateLocalPrincipal(d));
      validated = true;
    }
  }
  if (!skip_validation && type != "none" && !validated) {
    TARN_ASSIGN_OR_RETURN(auto access, Connect(d, ReadAs{}));
    Status s = access->ListFiles("", false).status();
    if (!s.ok()) {
      return Error(Reason::kDatastoreValidationFailed,
                   "could not list the root of filesystem '" + fs + "' at " + d.endpoint +
                       " with the given " + type + ": " + s.message());
    }
    validated = true;
  }
  d.doc["validated"] = validated;
  Json out;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(WorkspaceRecord w, RequireWorkspace(t, ws));
    TARN_ASSIGN_OR_RETURN(auto existing, t.GetDatastore(ws, name));
    if (existing && !overwrite) {
      return Error(Reason::kDatastoreAlreadyExists, "datastore '" + existing->name +
                                                        "' already exists in workspace '" + ws +
                                                        "'; pass overwrite=true to replace it");
    }
    *created = !existing;
    std::string sealed = d.secret.empty() ? "" : box_->Seal(d.secret);
    TARN_RETURN_IF_ERROR(t.PutDatastore(DatastoreRecord{ws, name, d.doc.dump(), sealed}));
    Json wdoc = Json::parse(w.doc);
    out = d.doc;
    std::string def = wdoc.value("default_datastore", Json()).is_string()
                          ? wdoc["default_datastore"].get<std::string>()
                          : "";
    out["is_default"] = internal::SameName(def, name);
    return Status::Ok();
  }));
  return out;
}

Status CatalogService::Write(const std::function<Status(CatalogTxn&)>& fn) {
  Status s = store_->Write(fn);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

StatusOr<CatalogService::Datastore> CatalogService::LoadDatastore(const std::string& ws,
                                                                  const std::string& name) {
  const std::string key = ws + '\n' + name;
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  {
    std::shared_lock<std::shared_mutex> l(read_cache_mu_);
    auto it = datastores_.find(key);
    if (it != datastores_.end() && it->second.first == generation) return *it->second.second;
  }
  Datastore d;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(auto rec, t.GetDatastore(ws, name));
    if (!rec) {
      return Error(Reason::kDatastoreNotFound,
                   "datastore '" + name + "' is not registered in workspace '" + ws + "'");
    }
    d.name = rec->name;
    d.doc = Json::parse(rec->doc);
    if (!rec->sealed_secret.empty()) {
      TARN_ASSIGN_OR_RETURN(d.secret, box_->Open(rec->sealed_secret));
    }
    return Status::Ok();
  }));
  d.account = d.doc.value("account_name", "");
  d.filesystem = d.doc.value("filesystem", "");
  d.endpoint = d.doc.value("endpoint", "");
  d.credential_type = d.doc.value("credential_type", "none");
  d.local = d.doc.value("local", false);
  std::lock_guard<std::shared_mutex> l(read_cache_mu_);
  if (datastores_.size() >= kReadCacheEntries) datastores_.clear();
  datastores_[key] = {generation, std::make_shared<const Datastore>(d)};
  return d;
}

StatusOr<Json> CatalogService::GetDatastore(const std::string& ws, const std::string& name) {
  TARN_ASSIGN_OR_RETURN(Json list, ListDatastores(ws));
  for (const auto& d : list["datastores"]) {
    if (internal::SameName(d["name"].get<std::string>(), name)) return d;
  }
  return Error(Reason::kDatastoreNotFound,
               "datastore '" + name + "' is not registered in workspace '" + ws + "'");
}

StatusOr<Json> CatalogService::ListDatastores(const std::string& ws) {
  Json list = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(WorkspaceRecord w, RequireWorkspace(t, ws));
    Json wdoc = Json::parse(w.doc);
    std::string def =
        wdoc["default_datastore"].is_string() ? wdoc["default_datastore"].get<std::string>() : "";
    TARN_ASSIGN_OR_RETURN(auto all, t.ListDatastores(ws));
    for (const auto& d : all) {
      Json doc = Json::parse(d.doc);
      doc["is_default"] = internal::SameName(def, d.name);
      list.push_back(std::move(doc));
    }
    return Status::Ok();
  }));
  return Json{{"datastores", list}};
}

Status CatalogService::UnregisterDatastore(const std::string& ws, const std::string& name) {
  return Write([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(WorkspaceRecord w, RequireWorkspace(t, ws));
    TARN_ASSIGN_OR_RETURN(auto rec, t.GetDatastore(ws, name));
    if (!rec) {
      return Error(Reason::kDatastoreNotFound,
                   "datastore '" + name + "' is not registered in workspace '" + ws + "'");
    }
    TARN_ASSIGN_OR_RETURN(int64_t users, t.CountActiveVersionsUsing(ws, name));
    if (users > 0) {
      return Error(Reason::kDatastoreInUse,
                   "datastore '" + rec->name + "' is used by " + std::to_string(users) +
                       " active dataset version(s); archive or delete them first");
    }
    Json wdoc = Json::parse(w.doc);
    if (wdoc["default_datastore"].is_string() &&
        internal::SameName(wdoc["default_datastore"].get<std::string>(), name)) {
      wdoc["default_datastore"] = nullptr;
      TARN_RETURN_IF_ERROR(t.PutWorkspace(WorkspaceRecord{ws, wdoc.dump()}));
    }
    return t.DeleteDatastore(ws, name);
  });
}

StatusOr<Json> CatalogService::SetDefaultDatastore(const std::string& ws, const std::string& name) {
  Json out;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(WorkspaceRecord w, RequireWorkspace(t, ws));
    TARN_ASSIGN_OR_RETURN(auto rec, t.GetDatastore(ws, name));
    if (!rec) {
      return Error(Reason::kDatastoreNotFound,
                   "datastore '" + name + "' is not registered in workspace '" + ws + "'");
    }
    out = Json::parse(w.doc);
    out["default_datastore"] = rec->name;
    return t.PutWorkspace(WorkspaceRecord{ws, out.dump()});
  }));
  return out;
}

StatusOr<Json> CatalogService::GetDefaultDatastore(const std::string& ws) {
  TARN_ASSIGN_OR_RETURN(Json w, GetWorkspace(ws));
  if (!w["default_datastore"].is_string()) {
    return Error(Reason::kDatastoreNotFound, "workspace '" + ws + "' has no default datastore");
  }
  return GetDatastore(ws, w["default_datastore"].get<std::string>());
}

// ----- versions: lookup and lifecycle -----------------------------------------------------------

StatusOr<VersionRecord> CatalogService::RequireVersion(CatalogTxn& t, const std::string& ws,
                                                       const std::string& name,
                                                       const std::string& version) {
  TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
  std::optional<VersionRecord> v;
  if (version.empty() || version == "latest") {
    TARN_ASSIGN_OR_RETURN(v, t.LatestVersion(ws, name, true));
    if (!v) {
      return Error(Reason::kDatasetNotFound,
                   "dataset '" + name + "' has no active version in workspace '" + ws + "'");
    }
    return *v;
  }
  int64_t n = 0;
  if (!internal::ParsePositive(version, &n)) {
    return Error(Reason::kInvalidDefinition,
                 "version must be 'latest' or a positive number, not '" + version + "'");
  }
  TARN_ASSIGN_OR_RETURN(v, t.GetVersion(ws, name, n));
  if (!v) {
    return Error(Reason::kDatasetNotFound,
                 "dataset '" + name + "' has no version " + version + " in workspace '" + ws + "'");
  }
  return *v;
}

StatusOr<Json> CatalogService::GetVersion(const std::string& ws, const std::string& name,
                                          const std::string& version) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(VersionRecord v, RequireVersion(t, ws, name, version));
    out = Json::parse(v.doc);
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> CatalogService::GetVersionById(const std::string& ws, const std::string& id) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(auto v, t.GetVersionById(ws, id));
    if (!v) return Error(Reason::kDatasetNotFound, "no dataset version has id '" + id + "'");
    out = Json::parse(v->doc);
    return Status::Ok();
  }));
  return out;
}

StatusOr<Json> CatalogService::ListVersions(const std::string& ws, const std::string& name) {
  Json list = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(auto all, t.ListVersions(ws, name));
    if (all.empty()) {
      return Error(Reason::kDatasetNotFound,
                   "dataset '" + name + "' does not exist in workspace '" + ws + "'");
    }
    for (const auto& v : all) list.push_back(Json::parse(v.doc));
    return Status::Ok();
  }));
  return Json{{"versions", list}};
}

StatusOr<Json> CatalogService::ListDatasets(const std::string& ws, bool include_archived) {
  Json list = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(auto all, t.ListDatasets(ws, include_archived));
    for (const auto& v : all) list.push_back(Json::parse(v.doc));
    return Status::Ok();
  }));
  return Json{{"datasets", list}};
}

StatusOr<Json> CatalogService::UpdateVersion(const std::string& ws, const std::string& name,
                                             const std::string& version, const Json& body) {
  if (!body.is_object()) return Error(Reason::kInvalidDefinition, "the body must be a JSON object");
  for (const char* k : {"tags", "add_tags"}) {
    if (body.contains(k) && !internal::IsStringMap(body[k])) {
      return Error(Reason::kInvalidDefinition,
                   std::string(k) + " must be an object of string values");
    }
  }
  if (body.contains("remove_tags") && !internal::IsStringList(body["remove_tags"])) {
    return Error(Reason::kInvalidDefinition, "remove_tags must be a list of strings");
  }
  Json out;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(VersionRecord v, RequireVersion(t, ws, name, version));
    out = Json::parse(v.doc);
    if (body.contains("description")) {
      TARN_ASSIGN_OR_RETURN(std::string d, Str(body, "description", ""));
      out["description"] = d;
    }
    if (body.contains("tags")) out["tags"] = body["tags"];
    if (body.contains("add_tags")) out["tags"].update(body["add_tags"]);
    if (body.contains("remove_tags")) {
      for (const auto& k : body["remove_tags"]) out["tags"].erase(k.get<std::string>());
    }
    v.doc = out.dump();
    return t.PutVersion(v, nullptr);
  }));
  return out;
}

Status CatalogService::Release(const VersionRecord& v) {
  Json doc = Json::parse(v.doc);
  if (!doc.value("pinned", false)) return Status::Ok();
  return lake_->Unpin(internal::kPinPrefix + v.id);
}

Status CatalogService::DeleteVersion(const std::string& ws, const std::string& name,
                                     const std::string& version) {
  VersionRecord gone;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(gone, RequireVersion(t, ws, name, version));
    return t.DeleteVersion(gone.id);
  }));
  return Release(gone);
}

Status CatalogService::DeleteDataset(const std::string& ws, const std::string& name) {
  std::vector<VersionRecord> gone;
  TARN_RETURN_IF_ERROR(Write([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(gone, t.ListVersions(ws, name));
    if (gone.empty()) {
      return Error(Reason::kDatasetNotFound,
                   "dataset '" + name + "' does not exist in workspace '" + ws + "'");
    }
    for (const auto& v : gone) TARN_RETURN_IF_ERROR(t.DeleteVersion(v.id));
    return Status::Ok();
  }));
  for (const auto& v : gone) TARN_RETURN_IF_ERROR(Release(v));
  return Status::Ok();
}

}  // namespace tarn::catalog
