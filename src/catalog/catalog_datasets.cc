// CatalogService: registering dataset versions (resolving paths into a manifest, pinning,
// profiling) and reading the files a version registered.
#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "catalog/catalog_internal.h"
#include "catalog/glob.h"
#include "client/lake_client.h"
#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tabular/tabular.h"

namespace tarn::catalog {

// ----- small helpers --------------------------------------------------------------------------

namespace internal {

std::string NowIso() { return FormatIso8601(NowMicros()); }

StatusOr<bool> Bool(const Json& body, const char* key, bool dflt) {
  if (!body.is_object()) return dflt;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return dflt;
  if (!it->is_boolean()) {
    return Error(Reason::kInvalidDefinition, std::string(key) + " must be true or false");
  }
  return it->get<bool>();
}

StatusOr<std::string> Str(const Json& body, const char* key, const std::string& dflt) {
  if (!body.is_object()) return dflt;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return dflt;
  if (!it->is_string()) {
    return Error(Reason::kInvalidDefinition, std::string(key) + " must be a string");
  }
  return it->get<std::string>();
}

bool SameName(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool ParsePositive(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 15) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return v > 0;
}

bool IsStringMap(const Json& j) {
  return j.is_object() &&
         std::all_of(j.begin(), j.end(), [](const Json& v) { return v.is_string(); });
}

bool IsStringList(const Json& j) {
  return j.is_array() &&
         std::all_of(j.begin(), j.end(), [](const Json& v) { return v.is_string(); });
}

}  // namespace internal

using internal::NowIso;
using internal::Str;

namespace {

std::string Quoted(const std::string& etag) {
  return !etag.empty() && etag.front() == '"' ? etag : "\"" + etag + "\"";
}

std::string Unquoted(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

Json ManifestToJson(const std::vector<ManifestFile>& files) {
  Json arr = Json::array();
  for (const auto& f : files) {
    Json ext = Json::array();
    for (const auto& s : f.slices) ext.push_back({s.extent_id, s.offset, s.length});
    arr.push_back({{"path", f.path},
                   {"datastore", f.datastore},
                   {"size", f.size},
                   {"etag", f.etag},
                   {"md5", f.md5},
                   {"partition", f.partition},
                   {"pinned", f.pinned},
                   {"extents", ext}});
  }
  return arr;
}

std::vector<ManifestFile> ManifestFromJson(const Json& arr) {
  std::vector<ManifestFile> out;
  out.reserve(arr.size());
  for (const auto& j : arr) {
    ManifestFile f;
    f.path = j.value("path", "");
    f.datastore = j.value("datastore", "");
    f.size = j.value("size", int64_t{0});
    f.etag = j.value("etag", "");
    f.md5 = j.value("md5", "");
    f.partition = j.value("partition", Json::object());
    f.pinned = j.value("pinned", false);
    for (const auto& s : j.value("extents", Json::array())) {
      f.slices.push_back(
          meta::ExtentSlice{s[0].get<uint64_t>(), s[1].get<int64_t>(), s[2].get<int64_t>(), ""});
    }
    out.push_back(std::move(f));
  }
  return out;
}

// Whether two slice lists name the same bytes (block IDs aside).
bool SameBytes(const std::vector<meta::ExtentSlice>& a, const std::vector<meta::ExtentSlice>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const meta::ExtentSlice& x, const meta::ExtentSlice& y) {
                      return x.extent_id == y.extent_id && x.offset == y.offset &&
                             x.length == y.length;
                    });
}

Json FileView(size_t index, const ManifestFile& f) {
  return Json{{"index", index}, {"path", f.path}, {"datastore", f.datastore}, {"size", f.size},
              {"etag", f.etag}, {"md5", f.md5},   {"partition", f.partition}};
}

// A remote datastore error, turned into what the catalog reports.
Status RemoteError(const std::string& what, const Status& s) {
  const bool refused = s.code() == Code::kPermissionDenied || s.code() == Code::kUnauthenticated;
  return Error(Reason::kDatastoreAccessFailed,
               what + (refused ? ": the datastore's credential was refused: " : ": ") +
                   s.message());
}

}  // namespace

// ----- datastore access -----------------------------------------------------------------------

class CatalogService::LocalAccess final : public CatalogService::Access {
 public:
  // authorize (may be empty): asked before each access, with the path and what is done to it.
  using Authorizer = std::function<Status(const std::string& path, lake::AccessIntent intent)>;
  LocalAccess(lake::LakeService* lake, std::string account, std::string fs,
              Authorizer authorize = {})
      : lake_(lake),
        account_(std::move(account)),
        fs_(std::move(fs)),
        authorize_(std::move(authorize)) {}

  StatusOr<std::optional<Entry>> Stat(const std::string& path) override {
    TARN_RETURN_IF_ERROR(Authorize(path, lake::AccessIntent::kStat));
    auto n = lake_->GetPath(account_, fs_, path, {});
    if (!n.ok()) {
      if (n.status().code() == Code::kNotFound) return std::optional<Entry>();
      return n.status();
    }
    return std::optional<Entry>(ToEntry(path, *n));
  }

  StatusOr<std::vector<Entry>> ListFiles(const std::string& dir, bool recursive) override {
    TARN_RETURN_IF_ERROR(Authorize(dir, lake::AccessIntent::kListDir));
    std::vector<Entry> out;
    std::string cont;
    do {
      auto page = lake_->ListPaths(account_, fs_, dir, recursive, cont, 5000);
      if (!page.ok()) {
        if (page.status().reason() == Reason::kPathNotFound) return out;
        return page.status();
      }
      for (const auto& e : page->entries) {
        if (!e.node.is_dir) {
          out.push_back(ToEntry(e.path, e.node));
        } else if (recursive) {
          // Listing below a directory is listing that directory, as on the storage API.
          TARN_RETURN_IF_ERROR(Authorize(e.path, lake::AccessIntent::kListDir));
        }
      }
      cont = page->continuation;
    } while (!cont.empty());
    return out;
  }

 private:
  Status Authorize(const std::string& path, lake::AccessIntent intent) {
    return authorize_ ? authorize_(path, intent) : Status::Ok();
  }

  static Entry ToEntry(const std::string& path, const lake::Node& n) {
    Entry e;
    e.path = path;
    e.is_dir = n.is_dir;
    e.size = n.length;
    e.etag = n.etag;
    e.md5 = n.headers.content_md5.empty() ? "" : Base64Encode(n.headers.content_md5);
    e.modified_us = n.modified_us;
    return e;
  }

  lake::LakeService* lake_;
  std::string account_, fs_;
  Authorizer authorize_;
};

class CatalogService::RemoteAccess final : public CatalogService::Access {
 public:
  explicit RemoteAccess(std::unique_ptr<client::LakeClient> c, std::string fs)
      : client_(std::move(c)), fs_(std::move(fs)) {}

  StatusOr<std::optional<Entry>> Stat(const std::string& path) override {
    auto p = client_->GetPathProperties(fs_, path);
    if (!p.ok()) {
      if (p.status().code() == Code::kNotFound) return std::optional<Entry>();
      return RemoteError("reading the properties of '" + path + "'", p.status());
    }
    return std::optional<Entry>(
        Entry{path, p->is_directory, p->content_length, Unquoted(p->etag), "", 0});
  }

  StatusOr<std::vector<Entry>> ListFiles(const std::string& dir, bool recursive) override {
    std::vector<Entry> out;
    std::string cont;
    do {
      auto page = client_->ListPaths(fs_, dir, recursive, cont);
      if (!page.ok()) {
        if (page.status().code() == Code::kNotFound && !dir.empty()) return out;
        return RemoteError("listing '" + fs_ + "/" + dir + "'", page.status());
      }
      for (const auto& p : page->paths) {
        if (!p.is_directory) {
          out.push_back(Entry{p.name, false, p.content_length, Unquoted(p.etag), "", 0});
        }
      }
      cont = page->continuation;
    } while (!cont.empty());
    return out;
  }

 private:
  std::unique_ptr<client::LakeClient> client_;
  std::string fs_;
};

namespace {

// True for Azure Storage's own hosts, whose tokens come from Microsoft's identity platform.
bool IsAzureStorageHost(const std::string& host) {
  for (const char* suffix : {".core.windows.net", ".core.chinacloudapi.cn",
                             ".core.usgovcloudapi.net", ".core.cloudapi.de"}) {
    if (EndsWith(host, suffix)) return true;
  }
  return false;
}

}  // namespace

StatusOr<std::shared_ptr<client::TokenSource>> CatalogService::TokensFor(const Datastore& d) {
  TARN_ASSIGN_OR_RETURN(client::Endpoint ep, client::ParseEndpoint(d.endpoint));
  // azureml's default authority is Microsoft's; an ADLS-compatible server that is not Azure
  // (another tarnd) issues its own tokens at its own origin, where the SDK's default points
  // nowhere useful.
  std::string authority = d.doc.value("authority_url", "");
  while (!authority.empty() && authority.back() == '/') authority.pop_back();
  if (authority.empty() ||
      (authority == "https://login.microsoftonline.com" && !IsAzureStorageHost(ep.host))) {
    authority = ep.Origin();
  }
  std::string resource = d.doc.value("resource_url", "");
  while (!resource.empty() && resource.back() == '/') resource.pop_back();
  if (resource.empty()) resource = "https://storage.azure.com";
  client::ClientCredentials creds{authority, d.doc.value("tenant_id", ""),
                                  d.doc.value("client_id", ""), d.secret,
                                  resource + "/.default"};
  std::string key = HexEncode(Sha256(creds.authority + '\n' + creds.tenant + '\n' +
                                     creds.client_id + '\n' + creds.client_secret + '\n' +
                                     creds.scope));
  std::lock_guard<std::shared_mutex> lock(tokens_mu_);
  auto it = tokens_.find(key);
  if (it != tokens_.end()) return it->second;
  client::ConnectionOptions o;
  o.io_timeout_ms = 30000;
  o.tls = tls_;
  auto source = client::TokenSource::Create(std::move(creds), o);
  if (!source.ok()) {
    return Error(Reason::kDatastoreAccessFailed,
                 "cannot use the service principal of datastore '" + d.name +
                     "': " + source.status().message());
  }
  std::shared_ptr<client::TokenSource> shared = std::move(source).value();
  tokens_.emplace(key, shared);
  return shared;
}

StatusOr<std::unique_ptr<client::LakeClient>> CatalogService::RemoteClient(const Datastore& d) {
  client::LakeClientOptions o;
  if (d.credential_type == "account_key") {
    o.key_base64 = d.secret;
  } else if (d.credential_type == "sas") {
    o.sas_token = d.secret;
  } else if (d.credential_type == "service_principal") {
    TARN_ASSIGN_OR_RETURN(o.bearer, TokensFor(d));
  } else {
    return Error(Reason::kDatastoreAccessFailed,
                 "this datastore has no saved credential, so tarnd cannot read it on the "
                 "caller's behalf; re-register it with an account key, a SAS or a service "
                 "principal");
  }
  o.connection.io_timeout_ms = 30000;
  o.connection.tls = tls_;
  auto c = client::LakeClient::Create(d.endpoint, o);
  if (!c.ok()) {
    return Error(Reason::kDatastoreAccessFailed,
                 "cannot reach datastore endpoint " + d.endpoint + ": " + c.status().message());
  }
  return std::move(c).value();
}

StatusOr<identity::Caller> CatalogService::LocalPrincipal(const Datastore& d) {
  if (!identity_) {
    return Error(Reason::kDatastoreAccessFailed,
                 "this tarnd has no token service, so it cannot read datastore '" + d.name +
                     "' as its service principal");
  }
  const std::string tenant = d.doc.value("tenant_id", ""), client = d.doc.value("client_id", "");
  const std::string key = HexEncode(Sha256(tenant + '\n' + client + '\n' + d.secret));
  std::string token;
  // Read first: a Caller authenticated under this generation is exact for it.
  const uint64_t generation = identity_->DirectoryGeneration();
  {
    std::shared_lock<std::shared_mutex> lock(tokens_mu_);
    auto it = local_tokens_.find(key);
    if (it != local_tokens_.end() &&
        MonotonicMicros() - it->second.fetched_us < kLocalTokenReuseUs) {
      // Unchanged directory: the principal still exists with the same groups, so its token
      // need not be verified and looked up again (roles and ACLs are still checked per read).
      if (it->second.caller && it->second.generation == generation) return *it->second.caller;
      token = it->second.token;
    }
  }
  if (token.empty()) {
    // The client secret is checked (Argon2id) outside the lock.
    identity::OAuthReply r = identity_->Token(tenant, {{"grant_type", "client_credentials"},
                                                       {"client_id", client},
                                                       {"client_secret", d.secret},
                                                       {"scope", "https://storage.azure.com/.default"}});
    if (r.status != 200 || !r.body.contains("access_token") ||
        !r.body["access_token"].is_string()) {
      return Error(Reason::kDatastoreAccessFailed,
                   "the service principal of datastore '" + d.name +
                       "' could not get a token from this tarnd: " +
                       r.body.value("error_description", r.body.value("error", "")) +
                       "; check the datastore's credential");
    }
    token = r.body["access_token"].get<std::string>();
    std::lock_guard<std::shared_mutex> lock(tokens_mu_);
    local_tokens_[key] = LocalToken{token, MonotonicMicros()};
  }
  auto who = identity_->Authenticate(token);
  std::lock_guard<std::shared_mutex> lock(tokens_mu_);
  if (!who.ok()) {
    local_tokens_.erase(key);
    return Error(Reason::kDatastoreAccessFailed, "the service principal of datastore '" + d.name +
                                                     "' is no longer valid: " +
                                                     who.status().message());
  }
  if (auto it = local_tokens_.find(key); it != local_tokens_.end() && it->second.token == token) {
    it->second.caller = *who;
    it->second.generation = generation;
  }
  return who;
}

Status CatalogService::AuthorizeLocalRead(const Datastore& d, const std::string& path,
                                          lake::AccessIntent intent, const ReadAs& as) {
  if (!d.local) return Status::Ok();
  if (d.credential_type == "account_key" || d.credential_type == "sas") {
    if (!credential_check_) return Status::Ok();
    Status s = credential_check_(StoredCredential{d.credential_type, d.account, d.secret,
                                                  d.filesystem, path,
                                                  intent == lake::AccessIntent::kListDir});
    if (s.ok()) return s;
    return Error(Reason::kAuthorizationPermissionMismatch,
                 "the " + std::string(d.credential_type == "sas" ? "SAS" : "account key") +
                     " of datastore '" + d.name + "' no longer grants reading " +
                     (path.empty() ? "the root" : "'" + path + "'") + " of filesystem '" +
                     d.filesystem + "': " + s.message() +
                     " Register the datastore again with a current credential.");
  }
  identity::Caller who;
  std::string whom;
  if (d.credential_type == "service_principal") {
    TARN_ASSIGN_OR_RETURN(who, LocalPrincipal(d));
    whom = "the service principal of datastore '" + d.name + "'";
  } else if (d.credential_type == "none" && as.caller) {
    if (!identity_) return Error(Reason::kDatastoreAccessFailed, "no identity service");
    who = *as.caller;
    whom = "'" + who.oid + "' (datastore '" + d.name + "' reads as its caller)";
  } else {
    return Status::Ok();
  }
  const std::string scope =
      "/" + d.account + "/" + d.filesystem + (path.empty() ? "" : "/" + path);
  TARN_ASSIGN_OR_RETURN(identity::Role role, identity_->EffectiveRole(who, scope));
  if (role >= identity::Role::kReader) return Status::Ok();
  auto refuse = [&](const std::string& why) {
    return Error(Reason::kAuthorizationPermissionMismatch,
                 whom + " may not read " + (path.empty() ? "the root" : "'" + path + "'") +
                     " of filesystem '" + d.filesystem +
                     "': it has no Storage Blob Data Reader role there, and " + why);
  };
  if (intent == lake::AccessIntent::kReadFile) {
    // A pinned version outlives its files; without a role, only a file's ACL grants its bytes.
    auto node = lake_->GetPath(d.account, d.filesystem, path, {});
    if (!node.ok() && node.status().code() == Code::kNotFound) {
      return refuse("the file is gone, so no ACL grants it");
    }
    TARN_RETURN_IF_ERROR(node.status());
  }
  Status acl =
      lake_->CheckAccess(d.account, d.filesystem, path, lake::AclPrincipal{who.oid, who.groups},
                         intent);
  if (acl.ok() || acl.code() != Code::kPermissionDenied) return acl;
  return refuse("the ACLs do not grant it (" + acl.message() + ")");
}

StatusOr<std::unique_ptr<CatalogService::Access>> CatalogService::Connect(const Datastore& d,
                                                                           const ReadAs& as) {
  // A datastore on this tarnd is read directly from the lake, with its credential checked on
  // every access: a service principal's roles and ACLs, the caller's for an identity-based
  // one, and a key or SAS against the account's keys. One whose key or SAS was not validated
  // when it was registered is read over HTTP, as another endpoint's would be.
  const bool validated = d.doc.value("validated", false);
  if (d.local && (d.credential_type == "service_principal" || d.credential_type == "none" ||
                  validated)) {
    Datastore copy = d;
    return std::unique_ptr<Access>(new LocalAccess(
        lake_, d.account, d.filesystem,
        [this, copy = std::move(copy), as](const std::string& path, lake::AccessIntent intent) {
          return AuthorizeLocalRead(copy, path, intent, as);
        }));
  }
  TARN_ASSIGN_OR_RETURN(auto c, RemoteClient(d));
  return std::unique_ptr<Access>(new RemoteAccess(std::move(c), d.filesystem));
}

// ----- resolving paths ------------------------------------------------------------------------

namespace {

struct PathSpec {
  std::string datastore;  // as given
  std::string pattern;
};

// "azureml://datastores/<name>/paths/<glob>" or "http(s)://host[:port]/<account>/<fs>/<glob>"
// matched against the registered datastores' endpoints and filesystems.
StatusOr<PathSpec> ParseUrl(const std::string& url, const Json& datastores) {
  const std::string am = "azureml://datastores/";
  if (url.rfind(am, 0) == 0) {
    std::string rest = url.substr(am.size());
    size_t p = rest.find("/paths/");
    if (p == std::string::npos) {
      return Error(Reason::kInvalidPaths,
                   "'" + url + "' is not of the form azureml://datastores/<name>/paths/<path>");
    }
    return PathSpec{rest.substr(0, p), rest.substr(p + 7)};
  }
  for (const auto& d : datastores) {
    std::string prefix = d.value("endpoint", "") + "/" + d.value("filesystem", "") + "/";
    if (url.rfind(prefix, 0) == 0) {
      auto decoded = PercentDecode(url.substr(prefix.size()));
      if (!decoded) return Error(Reason::kInvalidPaths, "'" + url + "' is not validly encoded");
      return PathSpec{d.value("name", ""), *decoded};
    }
  }
  return Error(Reason::kInvalidPaths, "no registered datastore serves the URL '" + url +
                                          "'; register its filesystem as a datastore first");
}

}  // namespace

StatusOr<std::vector<ManifestFile>> CatalogService::Resolve(const std::string& ws,
                                                            const Json& paths,
                                                            std::vector<Datastore>* stores,
                                                            const ReadAs& as) {
  if (!paths.is_array() || paths.empty()) {
    return Error(Reason::kInvalidPaths, "definition.paths must be a non-empty list");
  }
  std::vector<PathSpec> specs;
  bool urls = false, tuples = false;
  Json registered;
  for (const auto& p : paths) {
    if (p.is_object() && p.contains("url")) {
      urls = true;
      if (registered.is_null()) {
        TARN_ASSIGN_OR_RETURN(Json l, ListDatastores(ws));
        registered = l["datastores"];
      }
      TARN_ASSIGN_OR_RETURN(std::string url, Str(p, "url", ""));
      TARN_ASSIGN_OR_RETURN(PathSpec s, ParseUrl(url, registered));
      specs.push_back(std::move(s));
    } else if (p.is_object() && p.contains("datastore")) {
      tuples = true;
      TARN_ASSIGN_OR_RETURN(std::string ds, Str(p, "datastore", ""));
      TARN_ASSIGN_OR_RETURN(std::string pattern, Str(p, "path", ""));
      specs.push_back(PathSpec{ds, pattern});
    } else {
      return Error(Reason::kInvalidPaths,
                   "each path must be {\"datastore\", \"path\"} or {\"url\"}, not " + p.dump());
    }
  }
  if (urls && tuples) {
    return Error(Reason::kInvalidPaths, "datastore paths and URLs cannot be mixed in one list");
  }
  std::map<std::string, size_t> store_index;  // lowercased name -> index in *stores
  std::vector<std::unique_ptr<Access>> access;
  std::vector<ManifestFile> files;
  std::set<std::pair<std::string, std::string>> seen;
  for (const PathSpec& s : specs) {
    TARN_ASSIGN_OR_RETURN(Glob glob, Glob::Parse(s.pattern));
    std::string key = s.datastore;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    auto it = store_index.find(key);
    if (it == store_index.end()) {
      TARN_ASSIGN_OR_RETURN(Datastore d, LoadDatastore(ws, s.datastore));
      TARN_ASSIGN_OR_RETURN(auto a, Connect(d, as));
      stores->push_back(std::move(d));
      access.push_back(std::move(a));
      it = store_index.emplace(key, stores->size() - 1).first;
    }
    const Datastore& d = (*stores)[it->second];
    Access& a = *access[it->second];
    std::vector<Access::Entry> found;
    if (!glob.has_wildcards()) {
      TARN_ASSIGN_OR_RETURN(auto e, a.Stat(glob.pattern()));
      if (e && !e->is_dir) {
        found.push_back(*e);
      } else if (e) {
        TARN_ASSIGN_OR_RETURN(found, a.ListFiles(glob.pattern(), true));
      }
    } else {
      TARN_ASSIGN_OR_RETURN(auto listed, a.ListFiles(glob.base_dir(), glob.recursive()));
      for (auto& e : listed) {
        if (glob.Matches(e.path)) found.push_back(std::move(e));
      }
    }
    if (found.empty()) {
      return Error(Reason::kEmptyDataset, "no file matches '" + glob.pattern() +
                                              "' in datastore '" + d.name + "' (filesystem '" +
                                              d.filesystem + "')");
    }
    for (auto& e : found) {
      if (!seen.emplace(d.name, e.path).second) continue;
      ManifestFile f;
      f.path = e.path;
      f.datastore = d.name;
      f.size = e.size;
      f.etag = e.etag;
      f.md5 = e.md5;
      files.push_back(std::move(f));
    }
  }
  std::stable_sort(files.begin(), files.end(), [](const ManifestFile& x, const ManifestFile& y) {
    return std::tie(x.datastore, x.path) < std::tie(y.datastore, y.path);
  });
  return files;
}

// ----- registering ----------------------------------------------------------------------------

namespace {

Status ValidateDefinition(const Json& def) {
  if (!def.is_object()) return Error(Reason::kInvalidDefinition, "definition must be an object");
  TARN_ASSIGN_OR_RETURN(std::string kind, Str(def, "kind", ""));
  if (kind != "tabular" && kind != "file") {
    return Error(Reason::kInvalidDefinition,
                 "definition.kind must be 'tabular' or 'file', not '" + kind + "'");
  }
  TARN_ASSIGN_OR_RETURN(std::string format, Str(def, "format", ""));
  if (kind == "tabular" && format != "csv" && format != "parquet" && format != "jsonl") {
    return Error(Reason::kInvalidDefinition,
                 "a tabular dataset's format must be csv, parquet or jsonl, not '" + format + "'");
  }
  for (const auto& [k, v] : def.items()) {
    if (k != "kind" && k != "format" && k != "paths" && k != "options" && k != "transforms" &&
        k != "timestamp_columns") {
      return Error(Reason::kInvalidDefinition, "unknown definition field '" + k + "'");
    }
  }
  // Checked here, not only where the paths are resolved: callers index def["paths"].
  if (!def.contains("paths") || !def["paths"].is_array() || def["paths"].empty()) {
    return Error(Reason::kInvalidPaths, "definition.paths must be a non-empty list");
  }
  if (def.contains("timestamp_columns")) {
    const Json& t = def["timestamp_columns"];
    if (kind != "tabular" || !t.is_object()) {
      return Error(Reason::kInvalidDefinition,
                   "timestamp_columns is an object {timestamp, partition_timestamp} of a tabular "
                   "dataset");
    }
    for (const auto& [k, v] : t.items()) {
      if ((k != "timestamp" && k != "partition_timestamp") || !(v.is_string() || v.is_null())) {
        return Error(Reason::kInvalidDefinition,
                     "timestamp_columns holds 'timestamp' and 'partition_timestamp', column names "
                     "or null; not '" + k + "'");
      }
    }
    if (t.value("partition_timestamp", Json()).is_string() &&
        !t.value("timestamp", Json()).is_string()) {
      return Error(Reason::kInvalidDefinition,
                   "timestamp_columns.partition_timestamp needs timestamp too");
    }
  }
  return Status::Ok();
}

// The timestamp columns a definition names must be columns of the registered data.
Status CheckTimestampColumns(const Json& def, const Json& schema) {
  if (!def.contains("timestamp_columns")) return Status::Ok();
  for (const char* key : {"timestamp", "partition_timestamp"}) {
    const Json col = def["timestamp_columns"].value(key, Json());
    if (!col.is_string()) continue;
    std::string names;
    bool found = false;
    for (const auto& c : schema) {
      found = found || c.value("name", "") == col.get<std::string>();
      names += (names.empty() ? "" : ", ") + c.value("name", "");
    }
    if (found) continue;
    return Error(Reason::kInvalidDefinition, std::string("timestamp_columns.") + key + " '" +
                                                 col.get<std::string>() +
                                                 "' is not a column of the dataset (columns: " +
                                                 names + ")");
  }
  return Status::Ok();
}

}  // namespace

namespace {

// A file dataset with options.partition_format ("{userid}/*.wav"): each file's partition values
// and the version's partition_keys, as azureml's FileDataset has them.
Status FilePartitions(const Json& def, std::vector<ManifestFile>* files, Json* doc) {
  const Json options = def.value("options", Json::object());
  if (!options.is_object() || !options.value("partition_format", Json()).is_string()) {
    return Status::Ok();
  }
  const std::string format = options["partition_format"].get<std::string>();
  if (format.empty()) return Status::Ok();
  auto keys = tabular::PartitionKeys(format);
  if (!keys.ok()) {
    return Error(Reason::kInvalidDefinition,
                 "partition_format '" + format + "': " + keys.status().message());
  }
  for (ManifestFile& f : *files) {
    auto values = tabular::PartitionValues(format, f.path);
    if (!values.ok()) {
      return Error(Reason::kInvalidPaths, "partition_format '" + format + "' does not fit '" +
                                              f.path + "': " + values.status().message());
    }
    f.partition = Json(*values);
  }
  (*doc)["partition_keys"] = *keys;
  return Status::Ok();
}

}  // namespace

StatusOr<Json> CatalogService::RegisterVersion(const std::string& ws, const std::string& name,
                                               const Json& body, const std::string& creator,
                                               const ReadAs& as, const Json* known) {
  TARN_RETURN_IF_ERROR(ValidateDatasetName(name));
  if (!body.is_object()) return Error(Reason::kInvalidDefinition, "the body must be a JSON object");
  TARN_ASSIGN_OR_RETURN(const bool new_version, internal::Bool(body, "create_new_version", false));
  TARN_ASSIGN_OR_RETURN(std::string description, Str(body, "description", ""));
  Json tags = body.value("tags", Json::object());
  if (tags.is_null()) tags = Json::object();
  if (!internal::IsStringMap(tags)) {
    return Error(Reason::kInvalidDefinition, "tags must be an object of string values");
  }
  const Json def = body.value("definition", Json());
  TARN_RETURN_IF_ERROR(ValidateDefinition(def));
  // Who made it: a pipeline run and the versions it read (pipeline_service.h).
  Json lineage = body.value("lineage", Json());
  if (!lineage.is_null()) {
    if (!lineage.is_object() || !lineage.value("run_id", Json()).is_string() ||
        !lineage.value("inputs", Json::array()).is_array()) {
      return Error(Reason::kInvalidDefinition,
                   "lineage must be {\"run_id\": string, \"inputs\": [...]}");
    }
    lineage = {{"run_id", lineage["run_id"]}, {"inputs", lineage.value("inputs", Json::array())}};
  }
  const bool tabular = def["kind"] == "tabular";

  // Fail fast on a collision; the store checks again when it inserts.
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(int64_t last, t.MaxVersion(ws, name));
    if (last > 0 && !new_version) {
      return Error(Reason::kDatasetAlreadyExists,
                   "dataset '" + name + "' already exists (latest version " + std::to_string(last) +
                       "); pass create_new_version=true to add a version");
    }
    return Status::Ok();
  }));

  std::vector<Datastore> stores;
  TARN_ASSIGN_OR_RETURN(std::vector<ManifestFile> files, Resolve(ws, def["paths"], &stores, as));

  const std::string id = NewUuid();
  const std::string holder = internal::kPinPrefix + id;
  bool pinned = false;
  auto unpin = [&]() {
    if (pinned) lake_->Unpin(holder).IgnoreError();
  };
  // Local datastores: pin each one's files in one transaction, and take the pinned state
  // (size, etag) as the truth, since a file may have changed since it was listed.
  int64_t changed_us = 0;
  for (const Datastore& d : stores) {
    if (!d.local) continue;
    std::vector<std::string> paths;
    std::vector<size_t> where;
    for (size_t i = 0; i < files.size(); ++i) {
      if (files[i].datastore == d.name) {
        paths.push_back(files[i].path);
        where.push_back(i);
      }
    }
    pinned = true;
    auto got = lake_->PinFiles(holder, d.account, d.filesystem, paths);
    if (!got.ok()) {
      unpin();
      return got.status();
    }
    for (size_t k = 0; k < where.size(); ++k) {
      ManifestFile& f = files[where[k]];
      lake::PinnedFile& p = (*got)[k];
      f.size = p.node.length;
      f.etag = p.node.etag;
      f.md5 = p.node.headers.content_md5.empty() ? "" : Base64Encode(p.node.headers.content_md5);
      f.slices = std::move(p.slices);
      f.pinned = true;
      changed_us = std::max(changed_us, p.node.modified_us);
    }
  }

  int64_t total = 0;
  for (const auto& f : files) total += f.size;
  Json doc{{"id", id},
           {"name", name},
           {"description", description},
           {"tags", tags},
           {"state", "active"},
           {"created_time", NowIso()},
           {"created_by", creator},
           {"data_changed_time", changed_us > 0 ? FormatIso8601(changed_us) : NowIso()},
           {"kind", def["kind"]},
           {"definition", def},
           {"pinned", pinned},
           {"file_count", files.size()},
           {"total_bytes", total},
           {"lineage", {{"run_id", nullptr}, {"inputs", Json::array()}}}};
  if (!lineage.is_null()) doc["lineage"] = lineage;
  Json ds_names = Json::array();
  std::vector<std::string> used;
  for (const auto& d : stores) {
    ds_names.push_back(d.name);
    used.push_back(d.name);
  }
  doc["datastores"] = ds_names;
  if (tabular) {
    auto read = [&](size_t i, const std::optional<lake::ByteRange>& range) {
      const ManifestFile& f = files[i];
      const Datastore* d = nullptr;
      for (const auto& s : stores) {
        if (s.name == f.datastore) d = &s;
      }
      return ReadFile(*d, f, f.pinned, range, false, as);
    };
    const bool matches = known && known->value("files", int64_t{-1}) ==
                                      static_cast<int64_t>(files.size()) &&
                         known->value("bytes", int64_t{-1}) == total;
    Status s = internal::ProfileTabular(def, &files, read, &doc, matches ? known : nullptr);
    if (s.ok()) s = CheckTimestampColumns(def, doc.value("schema", Json::array()));
    if (!s.ok()) {
      unpin();
      return s;
    }
  } else if (Status s = FilePartitions(def, &files, &doc); !s.ok()) {
    unpin();
    return s;
  }

  VersionRecord rec{id, ws, name, 0, "active", used, ""};
  const std::string manifest = ManifestToJson(files).dump();
  Status s = Write([&](CatalogTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireWorkspace(t, ws).status());
    TARN_ASSIGN_OR_RETURN(int64_t last, t.MaxVersion(ws, name));
    if (last > 0 && !new_version) {
      return Error(Reason::kDatasetAlreadyExists,
                   "dataset '" + name + "' already exists; pass create_new_version=true");
    }
    rec.version = last + 1;
    doc["version"] = rec.version;
    rec.doc = doc.dump();
    return t.PutVersion(rec, &manifest);
  });
  if (!s.ok()) {
    unpin();
    return s;
  }
  return doc;
}

StatusOr<Json> CatalogService::SetVersionState(const std::string& ws, const std::string& name,
                                               const std::string& version,
                                               const std::string& action) {
  if (action != "archive" && action != "reactivate") {
    return Error(Reason::kInvalidDefinition,
                 "action must be 'archive' or 'reactivate', not '" + action + "'");
  }
  TARN_ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(ws, name, version));
  Json doc = Json::parse(v.doc);
  const std::string target = action == "archive" ? "archived" : "active";
  if (v.state == target) return doc;
  const std::string holder = internal::kPinPrefix + v.id;
  if (action == "reactivate" && doc.value("pinned", false)) {
    // The pins went with the archive. The version can be pinned again only if every file still
    // holds exactly the registered bytes.
    TARN_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(v.id));
    const std::vector<ManifestFile>& files = *manifest;
    std::map<std::string, std::vector<size_t>> by_store;
    for (size_t i = 0; i < files.size(); ++i) by_store[files[i].datastore].push_back(i);
    for (const auto& [ds, idx] : by_store) {
      TARN_ASSIGN_OR_RETURN(Datastore d, LoadDatastore(ws, ds));
      std::vector<std::string> paths;
      for (size_t i : idx) paths.push_back(files[i].path);
      auto got = lake_->PinFiles(holder, d.account, d.filesystem, paths);
      Status gone;
      if (got.ok()) {
        for (size_t k = 0; k < idx.size() && gone.ok(); ++k) {
          if (!SameBytes((*got)[k].slices, files[idx[k]].slices)) {
            gone = Error(Reason::kDatasetDataGone, "'" + files[idx[k]].path + "' has changed");
          }
        }
      } else {
        gone = Error(Reason::kDatasetDataGone, got.status().message());
      }
      if (!gone.ok()) {
        lake_->Unpin(holder).IgnoreError();
        return Error(Reason::kDatasetDataGone,
                     "version " + std::to_string(v.version) + " of '" + name +
                         "' cannot be reactivated: its bytes were released when it was archived "
                         "and the files no longer hold them (" +
                         gone.message() + ")");
      }
    }
  }
  doc["state"] = target;
  v.state = target;
  v.doc = doc.dump();
  Status s = Write([&](CatalogTxn& t) { return t.PutVersion(v, nullptr); });
  if (!s.ok()) {
    if (action == "reactivate") lake_->Unpin(holder).IgnoreError();
    return s;
  }
  if (action == "archive") TARN_RETURN_IF_ERROR(Release(v));
  return doc;
}

StatusOr<VersionRecord> CatalogService::ReadVersion(const std::string& ws,
                                                    const std::string& name,
                                                    const std::string& version) {
  const std::string key = ws + '\n' + name + '\n' + version;
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  {
    std::shared_lock<std::shared_mutex> l(read_cache_mu_);
    auto it = versions_.find(key);
    if (it != versions_.end() && it->second.first == generation) return it->second.second;
  }
  VersionRecord v;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(v, RequireVersion(t, ws, name, version));
    return Status::Ok();
  }));
  std::lock_guard<std::shared_mutex> l(read_cache_mu_);
  if (versions_.size() >= kReadCacheEntries) versions_.clear();
  versions_[key] = {generation, v};
  return v;
}

// ----- reading --------------------------------------------------------------------------------

StatusOr<CatalogService::Manifest> CatalogService::LoadManifest(const std::string& id) {
  {
    std::lock_guard<std::mutex> l(manifests_mu_);
    if (auto it = manifests_.find(id); it != manifests_.end()) return it->second;
  }
  std::string text;
  TARN_RETURN_IF_ERROR(store_->Read([&](CatalogTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(text, t.GetManifest(id));
    return Status::Ok();
  }));
  Manifest m =
      std::make_shared<const std::vector<ManifestFile>>(ManifestFromJson(Json::parse(text)));
  if (m->size() > kManifestCacheFiles) return m;
  std::lock_guard<std::mutex> l(manifests_mu_);
  if (manifests_.emplace(id, m).second) {
    manifest_order_.push_back(id);
    manifest_files_ += m->size();
    while (manifest_files_ > kManifestCacheFiles && !manifest_order_.empty()) {
      auto old = manifests_.find(manifest_order_.front());
      manifest_files_ -= old->second->size();
      manifests_.erase(old);
      manifest_order_.pop_front();
    }
  }
  return m;
}

StatusOr<Json> CatalogService::ListFiles(const std::string& ws, const std::string& name,
                                         const std::string& version, int64_t marker,
                                         int64_t max_results) {
  TARN_ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(ws, name, version));
  TARN_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(v.id));
  const std::vector<ManifestFile>& files = *manifest;
  if (max_results <= 0 || max_results > 5000) max_results = 5000;
  Json arr = Json::array();
  size_t i = static_cast<size_t>(std::max<int64_t>(marker, 0));
  for (; i < files.size() && static_cast<int64_t>(arr.size()) < max_results; ++i) {
    arr.push_back(FileView(i, files[i]));
  }
  Json out{{"files", arr}, {"next_marker", i < files.size() ? std::to_string(i) : ""}};
  return out;
}

StatusOr<FileRead> CatalogService::ReadFile(const Datastore& d, const ManifestFile& f, bool pinned,
                                            const std::optional<lake::ByteRange>& range,
                                            bool ignore_drift, const ReadAs& as) {
  FileRead r;
  r.size = f.size;
  TARN_RETURN_IF_ERROR(AuthorizeLocalRead(d, f.path, lake::AccessIntent::kReadFile, as));
  if (pinned) {
    TARN_ASSIGN_OR_RETURN(lake::ReadPlan plan, lake_->OpenSlices(f.slices, f.size, range));
    r.start = plan.start;
    r.length = plan.length;
    r.local = std::move(plan);
    return r;
  }
  auto drift = [&](const std::string& why) {
    return Error(Reason::kDatasetDrift,
                 "'" + f.path + "' in datastore '" + d.name + "' " + why +
                     " since the version was registered (etag " + f.etag +
                     "); read with drift checks off to use the current bytes");
  };
  if (d.local) {
    lake::Access access;
    if (!ignore_drift) access.cond.if_match = f.etag;
    auto plan = lake_->OpenRead(d.account, d.filesystem, f.path, range, access);
    if (!plan.ok()) {
      if (plan.status().reason() == Reason::kConditionNotMet) return drift("has changed");
      if (plan.status().code() == Code::kNotFound) return drift("was deleted");
      return plan.status();
    }
    r.size = plan->node.length;
    r.start = plan->start;
    r.length = plan->length;
    r.local = std::move(*plan);
    return r;
  }
  TARN_ASSIGN_OR_RETURN(auto c, RemoteClient(d));
  auto props = c->GetPathProperties(d.filesystem, f.path);
  if (!props.ok()) {
    if (props.status().code() == Code::kNotFound) {
      if (!ignore_drift) return drift("was deleted");
      return Error(Reason::kPathNotFound, "'" + f.path + "' no longer exists");
    }
    return RemoteError("reading '" + f.path + "'", props.status());
  }
  if (!ignore_drift && Unquoted(props->etag) != f.etag) return drift("has changed");
  r.size = props->content_length;
  int64_t start = range ? range->start : 0;
  int64_t end = r.size - 1;
  if (range && range->end && *range->end < end) end = *range->end;
  if (r.size > 0 && start >= r.size) {
    return Error(Reason::kInvalidRange, "the range starts beyond the end of '" + f.path + "'");
  }
  r.start = start;
  r.length = r.size == 0 ? 0 : end - start + 1;
  std::string if_match = ignore_drift ? "" : Quoted(f.etag);
  auto shared = std::make_shared<std::unique_ptr<client::LakeClient>>(std::move(c));
  std::string fs = d.filesystem, path = f.path;
  int64_t len = r.length;
  r.remote = [shared, fs, path, start, len,
              if_match](const std::function<Status(std::string_view)>& sink) -> Status {
    if (len == 0) return Status::Ok();
    client::BodySink body = [&](std::string_view chunk) { return sink(chunk); };
    auto got = (*shared)->GetBlob(fs, path, client::ByteRange{start, len}, body, if_match);
    if (!got.ok()) return got.status();
    if (*got != len) return InternalError("the remote file ended early");
    return Status::Ok();
  };
  return r;
}

StatusOr<FileRead> CatalogService::OpenFile(const std::string& ws, const std::string& name,
                                            const std::string& version, int64_t index,
                                            const std::optional<lake::ByteRange>& range,
                                            bool ignore_drift, const ReadAs& as) {
  TARN_ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(ws, name, version));
  TARN_ASSIGN_OR_RETURN(Manifest manifest, LoadManifest(v.id));
  const std::vector<ManifestFile>& files = *manifest;
  if (index < 0 || static_cast<size_t>(index) >= files.size()) {
    return Error(Reason::kInvalidDefinition, "version " + std::to_string(v.version) + " of '" +
                                                 name + "' has " + std::to_string(files.size()) +
                                                 " files; there is no file " +
                                                 std::to_string(index));
  }
  const ManifestFile& f = files[static_cast<size_t>(index)];
  TARN_ASSIGN_OR_RETURN(Datastore d, LoadDatastore(ws, f.datastore));
  TARN_ASSIGN_OR_RETURN(FileRead read,
                        ReadFile(d, f, v.state == "active" && f.pinned, range, ignore_drift, as));
  read.via = "datastore " + ws + "/" + d.name + " as ";
  if (d.credential_type == "none") {
    read.via += "the caller";
  } else if (d.credential_type == "service_principal") {
    read.via += "service_principal " + d.doc.value("client_id", std::string());
  } else {
    read.via += d.credential_type;
  }
  return read;
}

}  // namespace tarn::catalog
