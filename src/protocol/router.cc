#include "protocol/router.h"

#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "identity/identity_service.h"
#include "protocol/auth.h"
#include "protocol/sas.h"
#include "protocol/service_properties.h"

namespace tarn::protocol {
namespace {

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

char SasLevel(Level level) {
  return level == Level::kAccount ? 's' : level == Level::kFilesystem ? 'c' : 'o';
}

bool ValidQueryName(std::string_view k) {
  for (char ch : k) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7F || ch == ':') return false;
  }
  return true;
}

Status KeyHolderOnly(Front front) {
  if (front == Front::kTracking) {
    return Error(Reason::kNoAuthenticationInformation,
                 "experiment tracking needs a signed-in caller: set MLFLOW_TRACKING_TOKEN to a "
                 "bearer token for https://ml.azure.com (scope https://ml.azure.com/.default, "
                 "from this server's token service) and use the https tracking URI");
  }
  return Error(Reason::kNoAuthenticationInformation,
               front == Front::kCatalog
                   ? "the workspace catalog needs a signed-in caller: a bearer token for "
                     "https://management.azure.com over HTTPS (sign in with azure-identity, "
                     "scope https://management.azure.com/.default), or a request signed with "
                     "an account's Shared Key"
                   : "the identity admin API needs an account Owner: a bearer token for "
                     "https://management.azure.com over HTTPS of a principal with Storage Blob "
                     "Data Owner on the account, or a request signed with the account's Shared "
                     "Key");
}

const char* WorkspaceRoleName(identity::WorkspaceRole r) {
  switch (r) {
    case identity::WorkspaceRole::kReader: return "Reader";
    case identity::WorkspaceRole::kDataScientist: return "AzureML Data Scientist";
    case identity::WorkspaceRole::kContributor: return "Contributor";
    case identity::WorkspaceRole::kOwner: return "Owner";
    case identity::WorkspaceRole::kNone: break;
  }
  return "no";
}

// The request's path segments after the first '/', decoded; empty segments are skipped.
StatusOr<std::vector<std::string>> DecodedSegments(std::string_view raw_path) {
  std::vector<std::string> out;
  for (auto part : Split(raw_path.substr(1), '/')) {
    if (part.empty()) continue;
    auto d = PercentDecode(part);
    if (!d || HasControlChar(*d)) {
      return Error(Reason::kInvalidUri, "The request path is not validly encoded.");
    }
    out.push_back(std::move(*d));
  }
  return out;
}

// "host[:port]" of an absolute http(s) URL, and what follows it.
struct UrlParts {
  std::string_view authority;
  std::string_view path;   // from the '/' after the authority, before '?'
  std::string_view query;  // after '?'
};

std::optional<UrlParts> SplitUrl(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  std::string_view s = url.substr(0, scheme);
  if (!EqualsIgnoreCase(s, "http") && !EqualsIgnoreCase(s, "https")) return std::nullopt;
  std::string_view rest = url.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  UrlParts p;
  p.authority = rest.substr(0, slash);
  rest.remove_prefix(slash);
  size_t q = rest.find('?');
  p.path = rest.substr(0, q);
  if (q != std::string_view::npos) p.query = rest.substr(q + 1);
  return p;
}

}  // namespace

std::optional<std::string> UrlOrigin(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string scheme = ToLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority, port;
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  for (char ch : host) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7F || ch == '%' || ch == '\\') {
      return std::nullopt;
    }
  }
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  return scheme + "://" + ToLower(host) + ":" + std::string(port);
}

namespace {

StatusOr<std::multimap<std::string, std::string>> DecodeQuery(std::string_view raw) {
  std::multimap<std::string, std::string> out;
  for (auto part : Split(raw, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto k = PercentDecode(part.substr(0, eq));
    auto v = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!k || !v) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "A query parameter is not validly encoded.");
    }
    out.emplace(ToLower(*k), std::move(*v));
  }
  return out;
}

// Names are tokens and values are text: a ':' or a line break would let two different queries
// share one Shared Key string-to-sign ("\nname:value" lines), and everything ends up in XML or
// JSON sooner or later.
Status CheckQuery(const std::multimap<std::string, std::string>& query) {
  for (const auto& [k, v] : query) {
    if (!ValidQueryName(k)) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "A query parameter name holds a character that is not allowed.");
    }
    if (!IsValidUtf8(v)) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "The value of query parameter " + k + " is not valid UTF-8.");
    }
    if (HasControlChar(v)) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "The value of query parameter " + k + " holds a control character.");
    }
  }
  return Status::Ok();
}

// A batch holds Delete Blob or Set Blob Tier sub-requests, in the batch's account (and its
// container, for a container's batch).
Status CheckSubRequest(const Ctx& c, const Route& r) {
  const std::string_view name = r.name;
  if (c.front != Front::kStorage || (name != "DeleteBlob" && name != "SetBlobTier")) {
    return Error(Reason::kInvalidInput,
                 "A batch sub-request must be Delete Blob or Set Blob Tier; this one is " +
                     std::string(name) + ".");
  }
  if (c.account != c.batch_of->account ||
      (!c.batch_of->fs.empty() && c.fs != c.batch_of->fs)) {
    return Error(Reason::kInvalidInput,
                 "A batch sub-request must name a blob in the batch's " +
                     std::string(c.batch_of->fs.empty() ? "account" : "container") + ".");
  }
  return Status::Ok();
}

Status CannotVerifySource(const std::string& why) {
  return Error(Reason::kCannotVerifyCopySource, "The copy source could not be verified: " + why);
}

// The port of "host[:port]" ("" for none; an IPv6 literal's colons are not a port's).
std::string_view PortOf(std::string_view authority) {
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(']', colon) != std::string_view::npos) {
    return {};
  }
  return authority.substr(colon + 1);
}

}  // namespace

std::optional<VirtualHost> MatchVirtualHost(std::string_view authority,
                                            const std::vector<std::string>& suffixes) {
  if (suffixes.empty() || authority.empty() || authority[0] == '[') return std::nullopt;
  VirtualHost vh;
  vh.port = PortOf(authority);
  std::string host = ToLower(authority.substr(0, authority.size() - vh.port.size() -
                                                     (vh.port.empty() ? 0 : 1)));
  if (!host.empty() && host.back() == '.') host.pop_back();  // a fully qualified name
  for (const std::string& suffix : suffixes) {
    if (host.size() <= suffix.size() + 1 || !EndsWith(host, suffix) ||
        host[host.size() - suffix.size() - 1] != '.') {
      continue;
    }
    std::string_view name(host);
    name.remove_suffix(suffix.size() + 1);  // "<account>.blob"
    size_t dot = name.find('.');
    if (dot == 0 || dot == std::string_view::npos) continue;
    std::string_view endpoint = name.substr(dot + 1);
    if (endpoint != "blob" && endpoint != "dfs" && endpoint != "web") continue;
    vh.account = std::string(name.substr(0, dot));
    vh.dfs = endpoint == "dfs";
    vh.web = endpoint == "web";
    return vh;
  }
  return std::nullopt;
}

StatusOr<std::multimap<std::string, std::string>> ParseQuery(std::string_view raw) {
  TARN_ASSIGN_OR_RETURN(auto query, DecodeQuery(raw));
  TARN_RETURN_IF_ERROR(CheckQuery(query));
  return query;
}

Frontend::Frontend(lake::LakeService* lake, std::vector<Account> accounts,
                   catalog::CatalogService* catalog, identity::IdentityService* identity,
                   audit::AuditLog* audit)
    : lake_(lake),
      accounts_(std::move(accounts)),
      catalog_(catalog),
      identity_(identity),
      audit_(audit) {}

const Account* Frontend::FindAccount(const std::string& name) const {
  for (const auto& a : accounts_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

void Frontend::SetSelfAuthorities(std::vector<std::string> authorities) {
  self_authorities_ = std::move(authorities);
}

Status Frontend::Parse(Ctx& c) {
  // Query first: the API shape depends on it.
  TARN_ASSIGN_OR_RETURN(c.query, DecodeQuery(c.req.raw_query));
  c.api = DetectApi(c);
  TARN_RETURN_IF_ERROR(CheckQuery(c.query));
  // Everything a request says ends up in XML or JSON sooner or later; refuse bytes that are not
  // text there and then.
  for (const auto& [k, v] : c.req.headers) {
    if (!IsValidUtf8(v)) {
      return Error(Reason::kInvalidHeaderValue,
                   "The value of header " + k + " is not valid UTF-8.");
    }
  }
  std::string_view p = c.req.raw_path;
  if (p.empty() || p[0] != '/') return Error(Reason::kInvalidUri, "The request URI is invalid.");
  // Virtual-host style: the account is in the Host header and the path starts with the
  // filesystem, whatever its name ("studio" or "identity" included).
  if (const std::string* host = c.batch_of ? nullptr : c.Header("host")) {
    if (auto vh = MatchVirtualHost(*host, host_suffixes_)) {
      c.account = FindAccount(vh->account);
      if (!c.account) {
        return Error(Reason::kAccountNotFound,
                     "The account '" + vh->account + "' (from the host name " + *host +
                         ") does not exist on this server.");
      }
      c.virtual_host = true;
      if (vh->web) {
        // The static website: the whole path names a file of $web.
        c.front = Front::kWebsite;
        TARN_ASSIGN_OR_RETURN(c.segments, DecodedSegments(p));
        for (const std::string& s : c.segments) {
          if (s == "." || s == "..") {
            return Error(Reason::kInvalidUri, "The request URI holds a '.' or '..' segment.");
          }
        }
        return Status::Ok();
      }
      c.front = Front::kStorage;
      // The DFS endpoint's name: a request without Blob markers is a DFS one (JSON errors,
      // DFS path operations), as on Azure's <account>.dfs endpoint.
      if (vh->dfs && !c.HasQuery("restype") && !c.HasQuery("comp")) c.api = Api::kDfs;
      return ParseStoragePath(c, p);
    }
  }
  std::string_view first_raw = p.substr(1, p.find('/', 1) == std::string_view::npos
                                               ? std::string_view::npos
                                               : p.find('/', 1) - 1);
  auto first = PercentDecode(first_raw);
  if (!first) return Error(Reason::kInvalidUri, "The request URI is not validly encoded.");
  if (c.batch_of) {
    // A batch's sub-request: /<account>/<container>/<blob>, or /<container>/<blob> in the
    // batch's account (older SDKs, and every SDK on a virtual host).
    c.front = Front::kStorage;
    c.account = c.batch_of->virtual_host ? nullptr : FindAccount(*first);
    if (c.account) {
      p.remove_prefix(1 + first_raw.size());
    } else {
      c.account = c.batch_of->account;
    }
    return ParseStoragePath(c, p);
  }
  if (*first == "studio") {
    c.front = Front::kStudio;
    c.api = Api::kDfs;  // JSON errors
    TARN_ASSIGN_OR_RETURN(c.segments, DecodedSegments(p));
    return Status::Ok();
  }
  if (*first == "identity" || *first == "workspaces") {
    c.front = *first == "identity" ? Front::kIdentityAdmin : Front::kCatalog;
    c.api = Api::kDfs;  // JSON errors
    if (c.front == Front::kIdentityAdmin && !identity_) {
      return Error(Reason::kNotImplemented, "this server has no identity service");
    }
    if (c.front == Front::kCatalog && !catalog_) {
      return Error(Reason::kNotImplemented, "this server has no workspace catalog");
    }
    TARN_ASSIGN_OR_RETURN(c.segments, DecodedSegments(p));
    // /workspaces/<ws>/mlflow/{api,ajax-api}/...: the tracking URI of a workspace is
    // https://<host>/workspaces/<ws>/mlflow, and MLflow's clients append their paths to it.
    if (c.front == Front::kCatalog && c.segments.size() >= 3 && c.segments[2] == "mlflow") {
      c.front = Front::kTracking;
      if (!tracking_) return Error(Reason::kNotImplemented, "this server does not track runs");
      if (c.segments.size() >= 4 && c.segments[3] == "ajax-api") c.segments[3] = "api";
    }
    return Status::Ok();
  }
  if (first->empty()) {
    return Error(Reason::kInvalidUri, "The request URI must name an account: /<account>/...");
  }
  c.account = FindAccount(*first);
  if (c.account) {
    c.front = Front::kStorage;
    p.remove_prefix(1 + first_raw.size());
    return ParseStoragePath(c, p);
  }
  if ((c.account = RenameAccount(c))) {
    c.front = Front::kStorage;
    c.account_implied = true;
    return ParseStoragePath(c, p);
  }
  if (identity_) {
    // Not an account: the token service's paths begin with a tenant.
    c.front = Front::kTokenService;
    c.api = Api::kDfs;
    TARN_ASSIGN_OR_RETURN(c.segments, DecodedSegments(p));
    return Status::Ok();
  }
  return Error(Reason::kAccountNotFound, "The account '" + *first + "' does not exist.");
}

const Account* Frontend::RenameAccount(const Ctx& c) const {
  const std::string* source = c.Header("x-ms-rename-source");
  if (c.api != Api::kDfs || c.req.method != "PUT" || !source) return nullptr;
  std::string_view raw(*source);
  if (StartsWith(raw, "/")) {
    raw.remove_prefix(1);
    auto first = PercentDecode(raw.substr(0, raw.find('/')));
    if (first && raw.find('/') != std::string_view::npos) {
      if (const Account* a = FindAccount(*first)) return a;
    }
  }
  if (const std::string* auth = c.Header("authorization")) {
    std::string_view a = Trim(*auth);
    if (StartsWith(a, "SharedKey ")) {
      a.remove_prefix(10);
      return FindAccount(std::string(Trim(a.substr(0, a.rfind(':')))));
    }
  }
  return accounts_.size() == 1 ? &accounts_[0] : nullptr;
}

// rest: what follows "/<account>": "", "/", "/<fs>", "/<fs>/", "/<fs>/<path>".
Status Frontend::ParseStoragePath(Ctx& c, std::string_view rest) {
  if (rest.empty()) return Status::Ok();
  rest.remove_prefix(1);
  size_t s2 = rest.find('/');
  auto fs = PercentDecode(rest.substr(0, s2));
  if (!fs) return Error(Reason::kInvalidUri, "The filesystem name is not validly encoded.");
  c.fs = *fs;
  if (c.fs.empty() && s2 == std::string_view::npos) return Status::Ok();  // "/<account>/"
  TARN_RETURN_IF_ERROR(lake::ValidateFilesystemName(c.fs));
  if (s2 == std::string_view::npos) return Status::Ok();
  rest.remove_prefix(s2 + 1);
  auto path = PercentDecode(rest);
  if (!path) return Error(Reason::kInvalidUri, "The path is not validly encoded.");
  TARN_ASSIGN_OR_RETURN(c.path, lake::NormalizePath(*path));
  c.has_path = !c.path.empty();
  return Status::Ok();
}

Status Frontend::CheckBearer(Ctx& c, const Identity& id, const Account& account,
                             const std::string& fs, const std::string& path, const Want& want,
                             bool own) {
  if (!identity_) return Error(Reason::kAuthorizationFailure, "no identity service");
  if (want.need == Need::kAnyCaller) return Status::Ok();
  identity::Role need = want.need == Need::kReader  ? identity::Role::kReader
                        : want.need == Need::kOwner ? identity::Role::kOwner
                                                    : identity::Role::kContributor;
  const identity::Caller who = CallerOf(id);
  std::string resource = "/" + account.name;
  if (!fs.empty()) resource += "/" + fs;
  if (!path.empty()) resource += "/" + path;
  // RBAC first; where no role covers the request, the POSIX ACLs decide (path operations).
  TARN_ASSIGN_OR_RETURN(identity::Role has, identity_->EffectiveRole(who, resource));
  if (has >= need) return Status::Ok();
  if (own) c.identity.by_acl = true;
  if (want.acl && !fs.empty()) {
    return lake_->CheckAccess(account.name, fs, path, lake::AclPrincipal{id.oid, id.groups},
                              *want.acl);
  }
  return Error(Reason::kAuthorizationPermissionMismatch,
               "This request is not authorized to perform this operation using this "
               "permission. It needs the role '" + std::string(identity::RoleName(need)) +
                   "' (or stronger) at a scope containing " + resource + ".");
}

Status Frontend::CheckAccess(Ctx& c, const Identity& id, const Account& account,
                             const std::string& fs, const std::string& path, char level,
                             const Want& want, bool own) {
  switch (id.kind) {
    case Identity::Kind::kSharedKey:
      if (id.account == account.name) return Status::Ok();
      return Error(Reason::kAuthorizationFailure,
                   "The request is signed for account '" + id.account + "', not '" +
                       account.name + "'.");
    case Identity::Kind::kSas: {
      if (id.account != account.name) {
        return Error(Reason::kAuthorizationFailure,
                     "The SAS was issued for account '" + id.account + "', not '" +
                         account.name + "'.");
      }
      TARN_RETURN_IF_ERROR(AuthorizeSas(id, fs, path, level, want.sas));
      if (!id.delegated) return Status::Ok();
      // A user-delegation SAS never grants more than its principal may do now.
      if (!identity_) return Error(Reason::kAuthorizationFailure, "no identity service");
      auto who = identity_->CallerFor(id.oid, id.tid);
      if (!who.ok()) {
        return Error(Reason::kAuthorizationFailure,
                     "The user delegation key's principal is not valid: " +
                         who.status().message());
      }
      Identity principal = id;
      principal.groups = who->groups;
      if (own) c.identity.groups = who->groups;
      return CheckBearer(c, principal, account, fs, path, want, own);
    }
    case Identity::Kind::kBearer:
      return CheckBearer(c, id, account, fs, path, want, own);
    case Identity::Kind::kAnonymous:
      break;
  }
  // Anonymous: only reads that the container's public access level allows.
  if (want.anonymous != PublicRead::kNo && !fs.empty()) {
    auto f = lake_->GetFilesystem(account.name, fs);
    if (f.ok() && (f->public_access == "container" ||
                   (f->public_access == "blob" && want.anonymous == PublicRead::kBlob))) {
      return Status::Ok();
    }
  }
  const bool read = c.req.method == "GET" || c.req.method == "HEAD";
  if (read && !fs.empty() && c.api == Api::kBlob) {
    return Error(Reason::kResourceNotFoundForAnonymous, "The specified resource does not exist.");
  }
  return Error(Reason::kNoAuthenticationInformation,
               "Server failed to authenticate the request. Please refer to the information in "
               "the www-authenticate header.");
}

Status Frontend::Authorize(Ctx& c, const Route& r, Level level) {
  const Policy& p = r.policy;
  if (p.need == Need::kNobody) return Status::Ok();
  if (c.front == Front::kCatalog || c.front == Front::kTracking) return AuthorizeWorkspace(c, r);
  if (p.need == Need::kAccountKey) {
    if (c.identity.kind == Identity::Kind::kSharedKey) return Status::Ok();
    if (c.front == Front::kIdentityAdmin && c.identity.kind == Identity::Kind::kBearer &&
        identity_) {
      return AuthorizeAccountOwner(c);
    }
    return KeyHolderOnly(c.front);
  }
  std::string path = c.path;
  if (p.acl == lake::AccessIntent::kListDir) {
    // Listing a directory is authorized at the directory listed.
    if (auto dir = c.Query("directory")) {
      TARN_ASSIGN_OR_RETURN(path, lake::NormalizePath(*dir));
    }
  }
  const Want own{p.need, p.sas, c.fs.empty() ? std::nullopt : p.acl, p.anonymous};
  TARN_RETURN_IF_ERROR(
      CheckAccess(c, c.identity, *c.account, c.fs, path, SasLevel(level), own, /*own=*/true));
  switch (p.second) {
    case Second::kNone: return Status::Ok();
    case Second::kCopySource: return AuthorizeCopySource(c);
    case Second::kRenameSource: return AuthorizeRenameSource(c);
  }
  return InternalError("unknown second resource");
}

Status Frontend::AuthorizeWorkspace(Ctx& c, const Route& r) {
  if (c.identity.kind == Identity::Kind::kSharedKey) return Status::Ok();
  if (c.identity.kind != Identity::Kind::kBearer || !identity_) return KeyHolderOnly(c.front);
  const Need need = r.policy.need;
  if (need == Need::kAnyCaller) return Status::Ok();
  using identity::WorkspaceRole;
  const WorkspaceRole want = need == Need::kReader          ? WorkspaceRole::kReader
                             : need == Need::kDataScientist ? WorkspaceRole::kDataScientist
                             : need == Need::kContributor   ? WorkspaceRole::kContributor
                                                            : WorkspaceRole::kOwner;
  const std::string& ws = c.segments.at(1);
  const identity::Caller who = CallerOf(c.identity);
  TARN_ASSIGN_OR_RETURN(WorkspaceRole role, identity_->EffectiveWorkspaceRole(who, ws));
  if (role >= want) return Status::Ok();
  return Error(Reason::kWorkspaceAuthorizationFailed,
               "The client '" + c.identity.oid + "' does not have authorization to perform '" +
                   r.name + "' on workspace '" + ws + "': it needs the " +
                   WorkspaceRoleName(want) + " role there (or a stronger one), and has " +
                   WorkspaceRoleName(role) + " role. An Owner of the account assigns it: POST " +
                   "/identity/role-assignments with scope /workspaces/" + ws + ".");
}

Status Frontend::AuthorizeAccountOwner(Ctx& c) {
  // The directory serves every account of this server, so its admins own them all.
  const identity::Caller who = CallerOf(c.identity);
  for (const Account& a : accounts_) {
    TARN_ASSIGN_OR_RETURN(identity::Role role, identity_->EffectiveRole(who, "/" + a.name));
    if (role != identity::Role::kOwner) {
      return Error(Reason::kAuthorizationPermissionMismatch,
                   "The identity admin API is for account Owners: '" + c.identity.oid +
                       "' needs the role 'Storage Blob Data Owner' at scope /" + a.name +
                       " (or the account key).");
    }
  }
  return Status::Ok();
}

// x-ms-copy-source: http(s)://<this server>/<account>/<fs>/<path>[?sas]. The source is read as
// the caller would read it (or by the SAS its URL carries), and only from this server's own
// accounts: a URL naming another host or port is not served from local data.
Status Frontend::AuthorizeCopySource(Ctx& c) {
  const std::string& url = *c.Header("x-ms-copy-source");
  auto parts = SplitUrl(url);
  if (!parts) {
    return Error(Reason::kInvalidHeaderValue,
                 "x-ms-copy-source must be an http or https URL of a blob.");
  }
  const std::string* host = c.Header("host");
  // A virtual host on one of this server's ports (<account>.blob.<suffix>:<port>) is ours too.
  const auto vh = MatchVirtualHost(parts->authority, host_suffixes_);
  auto same = [&](std::string_view ours) {
    return EqualsIgnoreCase(parts->authority, ours) || (vh && vh->port == PortOf(ours));
  };
  bool ours = host && same(*host);
  for (const auto& a : self_authorities_) ours = ours || same(a);
  if (!ours) {
    const std::optional<std::string> origin = UrlOrigin(url);
    if (origin && std::find(copy_sources_.begin(), copy_sources_.end(), *origin) !=
                      copy_sources_.end()) {
      // Another server the configuration names: it authorizes its own read (the SAS or the
      // x-ms-copy-source-authorization the request carries); the copy is fetched from it.
      c.source = SourceRef{nullptr, "", "", url, /*remote=*/true, copy_trust_};
      return Status::Ok();
    }
    return CannotVerifySource("it names another server (" + std::string(parts->authority) +
                              ") that the configuration's copy_sources does not list.");
  }
  // Path-style: /<account>/<fs>/<path>; virtual-host style: /<fs>/<path>.
  std::string_view rest = parts->path.substr(1);
  std::optional<std::string> account = vh ? std::optional(vh->account) : std::nullopt;
  if (!vh) {
    const size_t slash = rest.find('/');
    account = PercentDecode(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  const size_t slash = rest.find('/');
  if (rest.empty() || slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Error(Reason::kInvalidHeaderValue, "x-ms-copy-source must name a blob in an account.");
  }
  auto fs = PercentDecode(rest.substr(0, slash));
  auto path = PercentDecode(rest.substr(slash + 1));
  if (!account || !fs || !path) {
    return Error(Reason::kInvalidHeaderValue, "x-ms-copy-source is not validly encoded.");
  }
  const Account* acct = FindAccount(*account);
  if (!acct) return CannotVerifySource("the account '" + *account + "' does not exist here.");
  TARN_RETURN_IF_ERROR(lake::ValidateFilesystemName(*fs));
  TARN_ASSIGN_OR_RETURN(std::string src_path, lake::NormalizePath(*path));
  if (src_path.empty()) {
    return Error(Reason::kInvalidHeaderValue, "x-ms-copy-source must name a blob.");
  }
  const Want read{Need::kReader, "r", lake::AccessIntent::kReadFile, PublicRead::kBlob};
  TARN_ASSIGN_OR_RETURN(auto source_query, ParseQuery(parts->query));
  Status allowed;
  if (source_query.count("sig")) {
    SasRequest sr{source_query, *fs, src_path, c.req.remote, c.req.secure};
    sr.stored_policies = StoredPolicies(*lake_, acct->name);
    auto sas = ValidateSas(sr, *acct);
    allowed = sas.ok() ? AuthorizeSas(*sas, *fs, src_path, 'o', read.sas) : sas.status();
  } else {
    allowed = CheckAccess(c, c.identity, *acct, *fs, src_path, 'o', read, /*own=*/false);
  }
  if (!allowed.ok()) return CannotVerifySource(allowed.message());
  c.source = SourceRef{acct, *fs, src_path, url};
  return Status::Ok();
}

// x-ms-rename-source: /<filesystem>/<path>[?sas], percent-encoded, in the request's account. A
// rename removes its source: the caller must be allowed to delete it.
Status Frontend::AuthorizeRenameSource(Ctx& c) {
  std::string_view raw = *c.Header("x-ms-rename-source");
  raw = raw.substr(0, raw.find('?'));
  auto decoded = PercentDecode(raw);
  if (!decoded || decoded->size() < 2 || (*decoded)[0] != '/') {
    return Error(Reason::kInvalidRenameSourcePath,
                 "x-ms-rename-source must be /<filesystem>/<path>.");
  }
  std::string_view rest = std::string_view(*decoded).substr(1);
  size_t slash = rest.find('/');
  // A rename whose URL left out the account may name it first here (/<account>/<fs>/<path>).
  if (c.account_implied && slash != std::string_view::npos &&
      rest.substr(0, slash) == c.account->name) {
    rest.remove_prefix(slash + 1);
    slash = rest.find('/');
  }
  std::string fs(rest.substr(0, slash));
  TARN_RETURN_IF_ERROR(lake::ValidateFilesystemName(fs));
  std::string path;
  if (slash != std::string_view::npos) {
    TARN_ASSIGN_OR_RETURN(path, lake::NormalizePath(std::string(rest.substr(slash + 1))));
  }
  const Want remove{Need::kContributor, "dm", lake::AccessIntent::kDelete, PublicRead::kNo};
  TARN_RETURN_IF_ERROR(
      CheckAccess(c, c.identity, *c.account, fs, path, 'o', remove, /*own=*/false));
  c.source = SourceRef{c.account, fs, path, *c.Header("x-ms-rename-source")};
  return Status::Ok();
}

Status Frontend::Run(Ctx& c, const Route** route) {
  TARN_RETURN_IF_ERROR(Parse(c));
  // CORS: a request from an origin a rule of the account allows gets the Access-Control-*
  // headers on whatever it is answered, errors included, so that the page can read them.
  if (c.front == Front::kStorage && c.account && service_ && c.req.method != "OPTIONS") {
    if (const std::string* origin = c.Header("origin")) {
      c.cors = service_->ForRequest(c.account->name, *origin, c.req.method);
    }
  }
  const Level level = c.front == Front::kStorage ? LevelOf(c) : Level::kAny;
  // The token service and the studio's files are for anyone; a credential there is not read.
  if (c.front != Front::kTokenService && c.front != Front::kStudio &&
      c.front != Front::kWebsite) {
    TARN_RETURN_IF_ERROR(Authenticate(c, accounts_, identity_));
  }
  auto found = FindRoute(c, level);
  if (!found.ok()) {
    // Whoever may not use a key-holder front learns nothing of its routes.
    if ((c.front == Front::kIdentityAdmin && c.identity.kind != Identity::Kind::kSharedKey) ||
        ((c.front == Front::kCatalog || c.front == Front::kTracking) &&
         c.identity.kind == Identity::Kind::kAnonymous)) {
      return KeyHolderOnly(c.front);
    }
    return found.status();
  }
  *route = *found;
  if (c.batch_of) TARN_RETURN_IF_ERROR(CheckSubRequest(c, **found));
  TARN_RETURN_IF_ERROR(Authorize(c, **found, level));
  return (*found)->op(c);
}

void Frontend::Handle(http::Request& req, http::ResponseWriter& w) { Serve(req, w, nullptr); }

void Frontend::Serve(http::Request& req, http::ResponseWriter& w, const Ctx* batch) {
  Ctx c(req, w, *lake_, NewRequestId(), batch ? batch->version : "2021-10-04");
  c.batch_of = batch;
  if (!batch) {
    c.run_sub_request = [this, &c](http::Request& sub, http::ResponseWriter& sw) {
      Serve(sub, sw, &c);
    };
  }
  c.ids = identity_;
  c.catalog = catalog_;
  c.pipelines = pipelines_;
  c.tracking = tracking_;
  c.studio = studio_;
  c.service = service_;
  c.scratch_dir = scratch_dir_;
  c.jobs = jobs_;
  c.audit = audit_;
  if (const auto* v = req.Header("x-ms-version")) c.version = *v;
  const int64_t start = MonotonicMicros();
  const Route* route = nullptr;
  Status s;
  // Operations report errors as Status; an exception anywhere in the pipeline is a bug, and
  // answering 500 keeps one bad request from taking the server down.
  try {
    s = Run(c, &route);
  } catch (const std::exception& e) {
    spdlog::error("request {}: unexpected exception: {}", c.request_id, e.what());
    s = InternalError("unexpected failure; the server logged it with this request id");
  } catch (...) {
    spdlog::error("request {}: unexpected exception", c.request_id);
    s = InternalError("unexpected failure; the server logged it with this request id");
  }
  try {
    if (!s.ok()) c.ReplyError(s);
    if (audit_) Audit(c, route, s);
    if (s.ok() && write_observer_ && route && route->policy.audit == AuditAs::kWrite &&
        c.front == Front::kStorage && c.account) {
      write_observer_(c.account->name, c.fs, c.path);
    }
  } catch (const std::exception& e) {
    spdlog::error("request {}: answering failed: {}", c.request_id, e.what());
    w.CloseAfter();
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{} {} {} {} -> {} {} us", req.remote, req.method, req.raw_path,
                  route ? route->name : "-", s.ok() ? "ok" : s.ToString(),
                  MonotonicMicros() - start);
  }
}

void Frontend::Audit(const Ctx& c, const Route* route, const Status& s) {
  std::string who;
  switch (c.identity.kind) {
    case Identity::Kind::kSharedKey: who = "sharedkey:" + c.identity.account; break;
    case Identity::Kind::kSas: who = "sas:" + c.identity.account; break;
    case Identity::Kind::kBearer: who = "oid:" + c.identity.oid; break;
    case Identity::Kind::kAnonymous: who = "anonymous"; break;
  }
  const int status = s.ok() ? 200 : Describe(s.reason()).http_status;
  const bool denied = status == 401 || status == 403;
  // Unrouted requests are audited as writes unless they only read.
  const bool write = route ? route->policy.audit == AuditAs::kWrite
                           : c.req.method != "GET" && c.req.method != "HEAD";
  // Reads are counted, not listed; sign-ins (the password grant) are always listed.
  if (!denied && !write && !c.signin) {
    if (s.ok()) audit_->CountRead(who, c.read_via);
    return;
  }
  audit::Json e{{"event", "request"},
                {"request_id", c.request_id},
                {"principal", who},
                {"action", route ? route->name : "-"},
                {"method", c.req.method},
                {"resource", c.req.raw_path},
                {"result", denied ? "denied" : s.ok() ? "allowed" : "failed"},
                {"status", status},
                {"remote", c.req.remote}};
  if (c.source && c.source->remote) {
    // Another server's URL: its origin and path, never its query (a SAS's signature).
    e["source"] = c.source->url.substr(0, c.source->url.find('?'));
  } else if (c.source) {
    e["source"] = "/" + c.source->account->name + "/" + c.source->fs + "/" + c.source->path;
  }
  if (c.identity.kind == Identity::Kind::kBearer) {
    e["tid"] = c.identity.tid;
    e["appid"] = c.identity.appid;
    e["via"] = c.identity.by_acl ? "acl" : "role";
  }
  if (!s.ok()) e["error"] = Describe(s.reason()).dfs_code;
  if (c.signin) {
    e["principal"] = c.signin->principal;
    e["result"] = c.signin->result;
    e["status"] = c.signin->status;
    e["client_id"] = c.signin->client_id;
    if (!c.signin->error.empty()) e["error"] = c.signin->error;
  }
  if (const std::string* acl = c.Header("x-ms-acl")) e["acl"] = *acl;
  audit_->Append(std::move(e));
}

void Frontend::HandleBadRequest(int status, const std::string& why, http::ResponseWriter& w) {
  http::Request req;
  req.method = "GET";
  Ctx c(req, w, *lake_, NewRequestId(), "2021-10-04");
  Reason reason = Reason::kInvalidInput;
  switch (status) {
    case 408: reason = Reason::kRequestTimeout; break;
    case 431: reason = Reason::kHeaderTooLarge; break;
    case 503: reason = Reason::kServerBusy; break;
    default: break;
  }
  c.ReplyError(Error(reason, status == 503 ? why : "The request could not be parsed: " + why));
}

}  // namespace tarn::protocol
