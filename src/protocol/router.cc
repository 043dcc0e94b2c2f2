#include "protocol/router.h"

#include <spdlog/spdlog.h>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "audit/audit_log.h"
#include "protocol/auth.h"
#include "protocol/catalog/catalog_ops.h"
#include "protocol/identity/identity_ops.h"
#include "protocol/ops.h"
#include "protocol/sas.h"

namespace tarn::protocol {
namespace {

enum class Level { kAccount, kFilesystem, kPath, kAny };  // kAny: routes only
enum class ApiMatch { kBlob, kDfs, kAny };

// One row per operation. A row matches when the API shape, level and method agree, the query
// has `key` (with value `value`, unless value is "*"), and the header, if named, is present.
// The first matching row wins, so more specific rows come first.
struct Route {
  ApiMatch api;
  Level level;
  const char* method;
  const char* key;
  const char* value;
  const char* key2;
  const char* value2;
  const char* header;
  Operation op;
  const char* name;
  const char* sas_permissions;  // SAS letters of which any one allows the operation
};

// clang-format off
constexpr Route kRoutes[] = {
  // Any level: clients ask for account information on account, container and blob URLs.
  {ApiMatch::kAny,  Level::kAny, "GET",  "restype", "account", "comp", "properties", nullptr, account_ops::GetAccountInfo, "GetAccountInfo", "r"},
  {ApiMatch::kAny,  Level::kAny, "HEAD", "restype", "account", "comp", "properties", nullptr, account_ops::GetAccountInfo, "GetAccountInfo", "r"},
  // Account.
  {ApiMatch::kBlob, Level::kAccount, "GET",  "restype", "service", "comp", "properties", nullptr, account_ops::GetServiceProperties, "GetServiceProperties", "r"},
  {ApiMatch::kBlob, Level::kAccount, "PUT",  "restype", "service", "comp", "properties", nullptr, account_ops::SetServiceProperties, "SetServiceProperties", "w"},
  {ApiMatch::kBlob, Level::kAccount, "POST", "restype", "service", "comp", "userdelegationkey", nullptr, account_ops::GetUserDelegationKey, "GetUserDelegationKey", "r"},
  {ApiMatch::kBlob, Level::kAccount, "GET",  "comp", "list", nullptr, nullptr, nullptr, blob::ListContainers, "ListContainers", "l"},
  {ApiMatch::kDfs,  Level::kAccount, "GET",  "resource", "account", nullptr, nullptr, nullptr, dfs::ListFilesystems, "ListFilesystems", "l"},
  // Filesystem (container).
  {ApiMatch::kBlob, Level::kFilesystem, "PUT",  "restype", "container", "comp", "metadata", nullptr, blob::SetContainerMetadata, "SetContainerMetadata", "w"},
  {ApiMatch::kBlob, Level::kFilesystem, "PUT",  "restype", "container", "comp", "acl", nullptr, blob::SetContainerAcl, "SetContainerAcl", "w"},
  {ApiMatch::kBlob, Level::kFilesystem, "GET",  "restype", "container", "comp", "acl", nullptr, blob::GetContainerAcl, "GetContainerAcl", "r"},
  {ApiMatch::kBlob, Level::kFilesystem, "HEAD", "restype", "container", "comp", "acl", nullptr, blob::GetContainerAcl, "GetContainerAcl", "r"},
  {ApiMatch::kBlob, Level::kFilesystem, "PUT",  "restype", "container", "comp", "lease", nullptr, blob::LeaseContainer, "LeaseContainer", "w"},
  {ApiMatch::kBlob, Level::kFilesystem, "GET",  "restype", "container", "comp", "list", nullptr, blob::ListBlobs, "ListBlobs", "l"},
  {ApiMatch::kBlob, Level::kFilesystem, "PUT",  "restype", "container", nullptr, nullptr, nullptr, blob::CreateContainer, "CreateContainer", "cw"},
  {ApiMatch::kBlob, Level::kFilesystem, "GET",  "restype", "container", nullptr, nullptr, nullptr, blob::GetContainerProperties, "GetContainerProperties", "r"},
  {ApiMatch::kBlob, Level::kFilesystem, "HEAD", "restype", "container", nullptr, nullptr, nullptr, blob::GetContainerProperties, "GetContainerProperties", "r"},
  {ApiMatch::kBlob, Level::kFilesystem, "DELETE", "restype", "container", nullptr, nullptr, nullptr, blob::DeleteContainer, "DeleteContainer", "d"},
  {ApiMatch::kDfs,  Level::kFilesystem, "PUT",  "resource", "filesystem", nullptr, nullptr, nullptr, dfs::CreateFilesystem, "CreateFilesystem", "cw"},
  {ApiMatch::kDfs,  Level::kFilesystem, "HEAD", "resource", "filesystem", nullptr, nullptr, nullptr, dfs::GetFilesystemProperties, "GetFilesystemProperties", "r"},
  {ApiMatch::kDfs,  Level::kFilesystem, "PATCH", "resource", "filesystem", nullptr, nullptr, nullptr, dfs::SetFilesystemProperties, "SetFilesystemProperties", "w"},
  {ApiMatch::kDfs,  Level::kFilesystem, "DELETE", "resource", "filesystem", nullptr, nullptr, nullptr, dfs::DeleteFilesystem, "DeleteFilesystem", "d"},
  {ApiMatch::kDfs,  Level::kFilesystem, "GET",  "resource", "filesystem", nullptr, nullptr, nullptr, dfs::ListPaths, "ListPaths", "l"},
  // Paths: Blob.
  {ApiMatch::kBlob, Level::kPath, "PUT",  "comp", "block", nullptr, nullptr, nullptr, blob::PutBlock, "PutBlock", "w"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  "comp", "blocklist", nullptr, nullptr, nullptr, blob::PutBlockList, "PutBlockList", "w"},
  {ApiMatch::kBlob, Level::kPath, "GET",  "comp", "blocklist", nullptr, nullptr, nullptr, blob::GetBlockList, "GetBlockList", "r"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  "comp", "metadata", nullptr, nullptr, nullptr, blob::SetBlobMetadata, "SetBlobMetadata", "w"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  "comp", "properties", nullptr, nullptr, nullptr, blob::SetBlobHttpHeaders, "SetBlobHttpHeaders", "w"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  "comp", "lease", nullptr, nullptr, nullptr, blob::LeaseBlob, "LeaseBlob", "w"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  "comp", "tier", nullptr, nullptr, nullptr, blob::SetBlobTier, "SetBlobTier", "w"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  nullptr, nullptr, nullptr, nullptr, "x-ms-copy-source", blob::CopyBlob, "CopyBlob", "cw"},
  {ApiMatch::kBlob, Level::kPath, "PUT",  nullptr, nullptr, nullptr, nullptr, nullptr, blob::PutBlob, "PutBlob", "cw"},
  {ApiMatch::kBlob, Level::kPath, "GET",  nullptr, nullptr, nullptr, nullptr, nullptr, blob::GetBlob, "GetBlob", "r"},
  {ApiMatch::kBlob, Level::kPath, "HEAD", nullptr, nullptr, nullptr, nullptr, nullptr, blob::GetBlobProperties, "GetBlobProperties", "r"},
  {ApiMatch::kBlob, Level::kPath, "DELETE", nullptr, nullptr, nullptr, nullptr, nullptr, blob::DeleteBlob, "DeleteBlob", "d"},
  // Paths: DFS.
  {ApiMatch::kDfs,  Level::kPath, "PATCH", "action", "append", nullptr, nullptr, nullptr, dfs::AppendData, "AppendData", "aw"},
  {ApiMatch::kDfs,  Level::kPath, "PATCH", "action", "flush", nullptr, nullptr, nullptr, dfs::FlushData, "FlushData", "w"},
  {ApiMatch::kDfs,  Level::kPath, "PATCH", "action", "setProperties", nullptr, nullptr, nullptr, dfs::SetProperties, "SetProperties", "w"},
  {ApiMatch::kDfs,  Level::kPath, "PATCH", "action", "setAccessControl", nullptr, nullptr, nullptr, dfs::SetAccessControl, "SetAccessControl", "p"},
  {ApiMatch::kDfs,  Level::kPath, "PATCH", "action", "setAccessControlRecursive", nullptr, nullptr, nullptr, dfs::SetAccessControlRecursive, "SetAccessControlRecursive", "p"},
  {ApiMatch::kDfs,  Level::kPath, "PUT",  nullptr, nullptr, nullptr, nullptr, nullptr, dfs::CreatePath, "CreatePath", "cwm"},
  {ApiMatch::kDfs,  Level::kPath, "POST", nullptr, nullptr, nullptr, nullptr, "x-ms-lease-action", dfs::LeasePath, "LeasePath", "w"},
  {ApiMatch::kDfs,  Level::kPath, "HEAD", nullptr, nullptr, nullptr, nullptr, nullptr, dfs::GetProperties, "GetPathProperties", "re"},
  {ApiMatch::kDfs,  Level::kPath, "GET",  nullptr, nullptr, nullptr, nullptr, nullptr, dfs::ReadPath, "ReadPath", "r"},
  {ApiMatch::kDfs,  Level::kPath, "DELETE", nullptr, nullptr, nullptr, nullptr, nullptr, dfs::DeletePath, "DeletePath", "d"},
};
// clang-format on

bool QueryMatches(const Ctx& c, const char* key, const char* value) {
  if (!key) return true;
  auto v = c.Query(key);
  if (!v) return false;
  return std::string_view(value) == "*" || EqualsIgnoreCase(*v, value);
}

const Route* FindRoute(const Ctx& c, Level level) {
  for (const auto& r : kRoutes) {
    if ((r.level != Level::kAny && r.level != level) || c.req.method != r.method) continue;
    if (r.api == ApiMatch::kBlob && c.api != Api::kBlob) continue;
    if (r.api == ApiMatch::kDfs && c.api != Api::kDfs) continue;
    if (!QueryMatches(c, r.key, r.value) || !QueryMatches(c, r.key2, r.value2)) continue;
    if (r.header && !c.Header(r.header)) continue;
    return &r;
  }
  return nullptr;
}

// Decides the API shape: DFS markers, then Blob markers, then what the client accepts.
Api DetectApi(const Ctx& c) {
  if (c.HasQuery("resource") || c.HasQuery("action") || c.HasQuery("mode") ||
      c.HasQuery("recursive") || c.HasQuery("upn") || c.Header("x-ms-rename-source") ||
      (c.req.method == "POST" && c.Header("x-ms-lease-action")) || c.req.method == "PATCH") {
    return Api::kDfs;
  }
  if (c.HasQuery("restype") || c.HasQuery("comp")) return Api::kBlob;
  if (const auto* accept = c.Header("accept")) {
    if (accept->find("application/json") != std::string::npos) return Api::kDfs;
  }
  return Api::kBlob;
}

Level LevelOf(const Ctx& c) {
  if (c.fs.empty()) return Level::kAccount;
  // DFS operations on the root directory ("/fs?action=getAccessControl") are path operations.
  if (c.has_path || (c.api == Api::kDfs && !c.HasQuery("resource"))) return Level::kPath;
  return Level::kFilesystem;
}

}  // namespace

Frontend::Frontend(lake::LakeService* lake, std::vector<Account> accounts,
                   catalog::CatalogService* catalog, identity::IdentityService* identity,
                   audit::AuditLog* audit)
    : lake_(lake),
      accounts_(std::move(accounts)),
      catalog_(catalog),
      identity_(identity),
      audit_(audit) {}

Status Frontend::Parse(Ctx& c) {
  // Query first: the API shape depends on it.
  if (!c.req.raw_query.empty()) {
    for (auto part : Split(c.req.raw_query, '&')) {
      if (part.empty()) continue;
      size_t eq = part.find('=');
      auto k = PercentDecode(part.substr(0, eq));
      auto v = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
      if (!k || !v) {
        return Error(Reason::kInvalidQueryParameterValue, "A query parameter is not validly encoded.");
      }
      c.query.emplace(ToLower(*k), *v);
    }
  }
  c.api = DetectApi(c);
  // Everything a request says ends up in XML or JSON sooner or later; refuse bytes that are not
  // text there and then.
  for (const auto& [k, v] : c.query) {
    if (!IsValidUtf8(v)) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "The value of query parameter " + k + " is not valid UTF-8.");
    }
  }
  for (const auto& [k, v] : c.req.headers) {
    if (!IsValidUtf8(v)) {
      return Error(Reason::kInvalidHeaderValue,
                   "The value of header " + k + " is not valid UTF-8.");
    }
  }
  std::string_view p = c.req.raw_path;
  if (p.empty() || p[0] != '/') return Error(Reason::kInvalidUri, "The request URI is invalid.");
  if (IsIdentityAdminPath(p) || IsTokenServicePath(p)) {
    c.api = Api::kDfs;  // JSON errors
    if (!identity_) return Error(Reason::kNotImplemented, "this server has no identity service");
    return Status::Ok();
  }
  if (IsCatalogPath(p)) {
    c.api = Api::kDfs;  // JSON errors
    if (!catalog_) return Error(Reason::kNotImplemented, "this server has no workspace catalog");
    if (!c.Header("authorization")) {
      return Error(Reason::kNoAuthenticationInformation,
                   "the workspace catalog needs a request signed with an account's Shared Key");
    }
    return Status::Ok();
  }
  p.remove_prefix(1);
  size_t s1 = p.find('/');
  auto account = PercentDecode(p.substr(0, s1));
  if (!account || account->empty()) {
    return Error(Reason::kInvalidUri, "The request URI must name an account: /<account>/...");
  }
  for (const auto& a : accounts_) {
    if (a.name == *account) c.account = &a;
  }
  if (!c.account) return Error(Reason::kAccountNotFound, "The account '" + *account + "' does not exist.");
  if (s1 == std::string_view::npos) return Status::Ok();
  p.remove_prefix(s1 + 1);
  size_t s2 = p.find('/');
  auto fs = PercentDecode(p.substr(0, s2));
  if (!fs) return Error(Reason::kInvalidUri, "The filesystem name is not validly encoded.");
  c.fs = *fs;
  if (c.fs.empty() && s2 == std::string_view::npos) return Status::Ok();  // "/<account>/"
  TARN_RETURN_IF_ERROR(lake::ValidateFilesystemName(c.fs));
  if (s2 == std::string_view::npos) return Status::Ok();
  p.remove_prefix(s2 + 1);
  auto path = PercentDecode(p);
  if (!path) return Error(Reason::kInvalidUri, "The path is not validly encoded.");
  TARN_ASSIGN_OR_RETURN(c.path, lake::NormalizePath(*path));
  c.has_path = !c.path.empty();
  return Status::Ok();
}

Status Frontend::Authorize(Ctx& c, char level, const char* sas_permissions,
                           const char* route_name) {
  if (c.identity.kind == Identity::Kind::kSharedKey) return Status::Ok();
  if (c.identity.kind == Identity::Kind::kSas) {
    TARN_RETURN_IF_ERROR(AuthorizeSas(c, level, sas_permissions));
    if (!c.identity.delegated) return Status::Ok();
    // A user-delegation SAS never grants more than its principal may do now.
    if (!identity_) return Error(Reason::kAuthorizationFailure, "no identity service");
    auto who = identity_->CallerFor(c.identity.oid, c.identity.tid);
    if (!who.ok()) {
      return Error(Reason::kAuthorizationFailure,
                   "The user delegation key's principal is not valid: " + who.status().message());
    }
    c.identity.groups = who->groups;
    return AuthorizeBearer(c, sas_permissions, route_name);
  }
  if (c.identity.kind == Identity::Kind::kBearer) {
    return AuthorizeBearer(c, sas_permissions, route_name);
  }
  // Anonymous: only reads that the container's public access level allows.
  bool read = c.req.method == "GET" || c.req.method == "HEAD";
  if (read && !c.fs.empty() && c.api == Api::kBlob) {
    auto fs = c.lake.GetFilesystem(c.account->name, c.fs);
    if (fs.ok()) {
      bool blob_read = c.has_path && !c.HasQuery("comp");
      bool container_read = !c.has_path && (c.HasQuery("restype") &&
                                            (!c.HasQuery("comp") || c.Query("comp") == "list"));
      if (fs->public_access == "container" && (blob_read || container_read)) return Status::Ok();
      if (fs->public_access == "blob" && blob_read) return Status::Ok();
    }
    return Error(Reason::kResourceNotFoundForAnonymous, "The specified resource does not exist.");
  }
  return Error(Reason::kNoAuthenticationInformation,
               "Server failed to authenticate the request. Please refer to the information in "
               "the www-authenticate header.");
}

// What an operation does to its path, for the POSIX ACL check; none for operations that only a
// role can allow (filesystem and account operations).
static std::optional<lake::AccessIntent> AclIntent(std::string_view op) {
  using I = lake::AccessIntent;
  if (op == "GetBlob" || op == "ReadPath") return I::kReadFile;
  if (op == "ListPaths") return I::kListDir;
  if (op == "GetBlobProperties" || op == "GetPathProperties" || op == "GetBlockList") {
    return I::kStat;
  }
  if (op == "PutBlob" || op == "PutBlockList" || op == "CopyBlob" || op == "CreatePath") {
    return I::kCreate;
  }
  if (op == "PutBlock" || op == "AppendData" || op == "FlushData" || op == "SetProperties" ||
      op == "SetBlobMetadata" || op == "SetBlobHttpHeaders" || op == "LeaseBlob" ||
      op == "LeasePath" || op == "SetBlobTier") {
    return I::kWriteFile;
  }
  if (op == "DeleteBlob" || op == "DeletePath") return I::kDelete;
  if (op == "SetAccessControl") return I::kChangeAccess;
  // Each item is checked for ownership as the change walks the subtree.
  if (op == "SetAccessControlRecursive") return I::kStat;
  return std::nullopt;
}

Status Frontend::AuthorizeBearer(Ctx& c, const char* sas_permissions, const char* route_name) {
  // The operation's SAS letters say what it does: reads and listings need Reader, access-control
  // changes need Owner, everything else needs Contributor.
  std::string_view perms = sas_permissions;
  identity::Role need = identity::Role::kContributor;
  if (perms.find_first_not_of("rle") == std::string_view::npos) need = identity::Role::kReader;
  if (perms == "p") need = identity::Role::kOwner;
  identity::Caller who{c.identity.oid, c.identity.tid, c.identity.appid, c.identity.groups, 0};
  // Any authenticated caller may ask what kind of account this is (clients probe for HNS).
  if (std::string_view(route_name) == "GetAccountInfo" ||
      std::string_view(route_name) == "GetUserDelegationKey") {
    return Status::Ok();
  }
  // RBAC first; where no role covers the request, the POSIX ACLs decide (path operations).
  const lake::AclPrincipal acl_who{c.identity.oid, c.identity.groups};
  const std::optional<lake::AccessIntent> intent = AclIntent(route_name);
  auto check = [&](const std::string& resource, const std::string& fs, const std::string& path,
                   std::optional<lake::AccessIntent> what) -> Status {
    TARN_ASSIGN_OR_RETURN(identity::Role has, identity_->EffectiveRole(who, resource));
    if (has >= need) return Status::Ok();
    c.identity.by_acl = true;
    if (what) return c.lake.CheckAccess(c.account->name, fs, path, acl_who, *what);
    return Error(Reason::kAuthorizationPermissionMismatch,
                 "This request is not authorized to perform this operation using this "
                 "permission. It needs the role '" + std::string(identity::RoleName(need)) +
                     "' (or stronger) at a scope containing " + resource + ".");
  };
  std::string resource = "/" + c.account->name;
  if (!c.fs.empty()) resource += "/" + c.fs;
  if (c.has_path && !c.path.empty()) resource += "/" + c.path;
  std::string target = c.path;
  if (intent == lake::AccessIntent::kListDir) target = c.Query("directory").value_or(c.path);
  TARN_RETURN_IF_ERROR(check(resource, c.fs, target, c.fs.empty() ? std::nullopt : intent));
  // A rename also removes its source: Contributor (or the ACL's delete rights) is needed there.
  if (const std::string* src = c.Header("x-ms-rename-source")) {
    std::string_view raw = *src;
    raw = raw.substr(0, raw.find('?'));
    auto decoded = PercentDecode(raw);
    if (!decoded) return Error(Reason::kInvalidSourceUri, "x-ms-rename-source is not valid");
    std::string source = *decoded;
    while (!source.empty() && source.back() == '/') source.pop_back();
    std::string_view rest = source;
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    size_t slash = rest.find('/');
    std::string src_fs(rest.substr(0, slash));
    std::string src_path(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
    TARN_RETURN_IF_ERROR(check("/" + c.account->name + source, src_fs, src_path,
                               lake::AccessIntent::kDelete));
  }
  return Status::Ok();
}

void Frontend::Handle(http::Request& req, http::ResponseWriter& w) {
  Ctx c(req, w, *lake_, NewRequestId(), "2021-10-04");
  c.ids = identity_;
  if (const auto* v = req.Header("x-ms-version")) c.version = *v;
  int64_t start = MonotonicMicros();
  const char* name = "-";
  Status s = Parse(c);
  if (s.ok() && identity_ && IsTokenServicePath(req.raw_path)) {
    // Anonymous, as on login.microsoftonline.com; answers in OAuth's own error shape.
    ServeTokenService(c, *identity_);
    return;
  }
  if (s.ok()) s = Authenticate(c, accounts_, identity_);
  const Route* route = nullptr;
  if (s.ok() && IsIdentityAdminPath(req.raw_path)) {
    name = "IdentityAdmin";
    s = ServeIdentityAdmin(c, *identity_, audit_);
  } else if (s.ok() && IsCatalogPath(req.raw_path)) {
    name = "Catalog";
    try {
      s = ServeCatalog(c, *catalog_);
    } catch (const std::exception& e) {
      s = InternalError(std::string("unexpected failure: ") + e.what());
    }
  } else if (s.ok()) {
    Level level = LevelOf(c);
    route = FindRoute(c, level);
    if (!route) {
      s = Error(Reason::kUnsupportedHttpVerb,
                "The resource doesn't support the specified HTTP verb or query combination.");
    } else {
      name = route->name;
      s = Authorize(c, level == Level::kAccount ? 's' : level == Level::kFilesystem ? 'c' : 'o',
                    route->sas_permissions, route->name);
    }
  }
  if (s.ok() && route) {
    // Operations report errors as Status; an exception here is a bug, and answering 500 keeps
    // one bad request from taking the server down.
    try {
      s = route->op(c);
    } catch (const std::exception& e) {
      s = InternalError(std::string("unexpected failure: ") + e.what());
    }
  }
  if (!s.ok()) c.ReplyError(s);
  if (audit_) Audit(c, name, route ? route->sas_permissions : nullptr, s);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{} {} {} {} -> {} {} us", req.remote, req.method, req.raw_path, name,
                  s.ok() ? "ok" : s.ToString(), MonotonicMicros() - start);
  }
}

void Frontend::Audit(const Ctx& c, const char* op, const char* sas_permissions,
                     const Status& s) {
  std::string who;
  switch (c.identity.kind) {
    case Identity::Kind::kSharedKey: who = "sharedkey:" + c.identity.account; break;
    case Identity::Kind::kSas: who = "sas:" + c.identity.account; break;
    case Identity::Kind::kBearer: who = "oid:" + c.identity.oid; break;
    case Identity::Kind::kAnonymous: who = "anonymous"; break;
  }
  const int status = s.ok() ? 200 : Describe(s.reason()).http_status;
  const bool denied = status == 401 || status == 403;
  // Route letters tell reads from writes; the JSON APIs write with anything but GET and HEAD.
  bool write = sas_permissions
                   ? std::string_view(sas_permissions).find_first_not_of("rle") !=
                         std::string_view::npos
                   : c.req.method != "GET" && c.req.method != "HEAD";
  if (!denied && !write) {
    if (s.ok()) audit_->CountRead(who);
    return;
  }
  std::string resource = c.req.raw_path;
  audit::Json e{{"event", "request"},
                {"request_id", c.request_id},
                {"principal", who},
                {"action", op},
                {"method", c.req.method},
                {"resource", resource},
                {"result", denied ? "denied" : s.ok() ? "allowed" : "failed"},
                {"status", status},
                {"remote", c.req.remote}};
  if (c.identity.kind == Identity::Kind::kBearer) {
    e["tid"] = c.identity.tid;
    e["appid"] = c.identity.appid;
    e["via"] = c.identity.by_acl ? "acl" : "role";
  }
  if (!s.ok()) e["error"] = Describe(s.reason()).dfs_code;
  if (const std::string* acl = c.Header("x-ms-acl")) e["acl"] = *acl;
  audit_->Append(std::move(e));
}

void Frontend::HandleBadRequest(int status, const std::string& why, http::ResponseWriter& w) {
  http::Request req;
  req.method = "GET";
  Ctx c(req, w, *lake_, NewRequestId(), "2021-10-04");
  c.ReplyError(Error(status == 431 ? Reason::kHeaderTooLarge : Reason::kInvalidInput,
                     "The request could not be parsed: " + why));
}

}  // namespace tarn::protocol
