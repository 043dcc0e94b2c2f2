#include "identity/identity_service.h"

#include "identity/oauth_internal.h"

#include <sodium.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace tarn::identity {
namespace {

constexpr const char* kRoles[] = {"", "Storage Blob Data Reader", "Storage Blob Data Contributor",
                                  "Storage Blob Data Owner"};
constexpr const char* kWorkspaceRoles[] = {"", "Reader", "AzureML Data Scientist", "Contributor",
                                           "Owner"};

// Role scopes of workspaces: "/workspaces" (all of them) or "/workspaces/<ws>".
bool IsWorkspaceScope(const std::string& scope) {
  return scope == "/workspaces" || scope.rfind("/workspaces/", 0) == 0;
}

int64_t NowSeconds() { return NowMicros() / 1000000; }

Status Bad(const std::string& why) { return Error(Reason::kInvalidDefinition, why); }

StatusOr<std::string> Field(const Json& body, const char* key, bool required) {
  if (!body.is_object() || !body.contains(key) || body[key].is_null()) {
    if (required) return Bad(std::string("the body needs \"") + key + "\"");
    return std::string();
  }
  if (!body[key].is_string()) return Bad(std::string(key) + " must be a string");
  return body[key].get<std::string>();
}

bool IsGuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// Whether a role scope contains a resource ("/acct/fs/dir" contains "/acct/fs/dir/x").
bool ScopeContains(const std::string& scope, const std::string& resource) {
  if (scope.empty() || scope == "/") return true;
  return resource == scope ||
         (resource.size() > scope.size() && resource.compare(0, scope.size(), scope) == 0 &&
          resource[scope.size()] == '/');
}

}  // namespace

namespace internal {

OAuthReply OAuthError(int status, const std::string& error, int code, const std::string& text) {
  std::string trace = NewUuid(), corr = NewUuid(), ts = FormatIso8601(NowMicros());
  return OAuthReply{status,
                    Json{{"error", error},
                         {"error_description",
                          "AADSTS" + std::to_string(code) + ": " + text + "\r\nTrace ID: " + trace +
                              "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts},
                         {"error_codes", {code}},
                         {"timestamp", ts},
                         {"trace_id", trace},
                         {"correlation_id", corr}},
                    Json()};
}

OAuthReply UnknownApplication(const std::string& client_id, const std::string& tenant) {
  return OAuthError(400, "unauthorized_client", 700016,
                    "Application with identifier '" + client_id +
                        "' was not found in the directory '" + tenant + "'.");
}

std::optional<OAuthReply> ParseScope(const std::string& scope, TokenScope* out) {
  // One resource scope ("https://storage.azure.com/.default", or a scope of it such as
  // ".../user_impersonation"), plus any of OpenID Connect's own scopes.
  std::vector<std::string> resources;
  for (auto part : Split(scope, ' ')) {
    if (part.empty()) continue;
    if (part == "openid" || part == "profile" || part == "offline_access") {
      out->openid = out->openid || part == "openid";
      out->offline = out->offline || part == "offline_access";
      continue;
    }
    resources.emplace_back(part);
  }
  std::string resource = resources.size() == 1 ? resources[0] : "";
  if (size_t slash = resource.rfind('/'); slash != std::string::npos && slash > 8) {
    const std::string last = resource.substr(slash + 1);
    if (last == ".default" || last == "user_impersonation") resource.resize(slash);
  }
  while (!resource.empty() && resource.back() == '/') resource.pop_back();
  if (resource != kStorageAudience && resource != kWorkspaceAudience &&
      resource != kTrackingAudience) {
    return OAuthError(400, "invalid_scope", 70011,
                      "The provided value for the input parameter 'scope' is not valid: '" + scope +
                          "'. Use https://storage.azure.com/.default (storage), "
                          "https://management.azure.com/.default (workspaces) or "
                          "https://ml.azure.com/.default (experiment tracking, MLflow).");
  }
  out->resource = resource;
  return std::nullopt;
}

}  // namespace internal

using internal::kDeviceCodeGrant;
using internal::OAuthError;
using internal::ParseScope;
using internal::UnknownApplication;

const char* RoleName(Role r) { return kRoles[static_cast<int>(r)]; }

IdentityService::IdentityService(IdentityStore* store, const SecretBox* box, IdentityOptions opts)
    : store_(store), box_(box), opts_(opts) {}

IdentityService::~IdentityService() = default;

void IdentityService::SetBaseUrl(const std::string& https_url) { base_url_ = https_url; }

std::string IdentityService::Issuer(const std::string& tenant) const {
  return base_url_ + "/" + tenant + "/v2.0";
}

void IdentityService::DirectoryChanged() {
  std::lock_guard<std::shared_mutex> l(mu_);
  ++generation_;
  cache_.clear();
  role_cache_.clear();
}

// ----- signing keys ---------------------------------------------------------------------------

Status IdentityService::Start() {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  return LoadOrRotateKeys(NowSeconds());
}

Status IdentityService::LoadOrRotateKeys(int64_t now) {
  std::vector<KeyEntry> keys;
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    keys.clear();
    TARN_ASSIGN_OR_RETURN(auto recs, t.List("key", ""));
    for (const auto& r : recs) {
      Json d = Json::parse(r.doc);
      int64_t retired = d.value("retired", int64_t{0});
      // Keys retired longer ago than any token they signed can live are dropped for good.
      if (retired > 0 && retired + opts_.token_lifetime_s + opts_.clock_skew_s < now) {
        TARN_RETURN_IF_ERROR(t.Delete("key", r.id));
        continue;
      }
      auto sealed = Base64Decode(d.value("sealed", ""));
      if (!sealed) return InternalError("a stored signing key is corrupt");
      TARN_ASSIGN_OR_RETURN(std::string pem, box_->Open(*sealed));
      TARN_ASSIGN_OR_RETURN(auto key, SigningKey::FromPem(r.id, pem));
      sodium_memzero(pem.data(), pem.size());
      keys.push_back(KeyEntry{std::shared_ptr<SigningKey>(std::move(key)),
                              d.value("created", int64_t{0}), retired});
    }
    std::sort(keys.begin(), keys.end(),
              [](const KeyEntry& a, const KeyEntry& b) { return a.created < b.created; });
    bool need_new = keys.empty() || keys.back().retired != 0 ||
                    keys.back().created + opts_.key_rotation_s <= now;
    if (!need_new) return Status::Ok();
    for (auto& k : keys) {
      if (k.retired == 0) {
        k.retired = now;
        Json d{{"created", k.created}, {"retired", now}};
        TARN_ASSIGN_OR_RETURN(auto old, t.Get("key", k.key->kid()));
        d["sealed"] = Json::parse(old->doc)["sealed"];
        TARN_RETURN_IF_ERROR(t.Put(IdentityRecord{"key", k.key->kid(), "", "", d.dump()}));
      }
    }
    TARN_ASSIGN_OR_RETURN(auto fresh, SigningKey::Generate());
    std::string pem = fresh->PrivatePem();
    Json d{{"created", now}, {"retired", 0}, {"sealed", Base64Encode(box_->Seal(pem))}};
    sodium_memzero(pem.data(), pem.size());
    TARN_RETURN_IF_ERROR(t.Put(IdentityRecord{"key", fresh->kid(), "", "", d.dump()}));
    keys.push_back(KeyEntry{std::shared_ptr<SigningKey>(std::move(fresh)), now, 0});
    return Status::Ok();
  }));
  std::lock_guard<std::shared_mutex> l(mu_);
  keys_ = std::move(keys);
  return Status::Ok();
}

std::shared_ptr<SigningKey> IdentityService::ActiveKey() {
  int64_t now = NowSeconds();
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (!keys_.empty() && keys_.back().created + opts_.key_rotation_s > now) {
      return keys_.back().key;
    }
  }
  LoadOrRotateKeys(now).IgnoreError();  // on failure the newest key keeps signing
  std::shared_lock<std::shared_mutex> l(mu_);
  return keys_.empty() ? nullptr : keys_.back().key;
}

// ----- the directory --------------------------------------------------------------------------

StatusOr<Json> IdentityService::RequireTenant(IdentityTxn& t, const std::string& tenant) {
  TARN_ASSIGN_OR_RETURN(auto r, t.Get("tenant", tenant));
  if (!r) return Error(Reason::kTenantNotFound, "tenant '" + tenant + "' does not exist");
  return Json::parse(r->doc);
}

StatusOr<Json> IdentityService::CreateTenant(const Json& body) {
  TARN_ASSIGN_OR_RETURN(std::string name, Field(body, "display_name", false));
  TARN_ASSIGN_OR_RETURN(std::string id, Field(body, "tenant_id", false));
  if (id.empty()) id = NewUuid();
  if (!IsGuid(id)) return Bad("tenant_id must be a GUID");
  Json doc{{"tenant_id", id}, {"display_name", name}, {"created_time", FormatIso8601(NowMicros())}};
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto existing, t.Get("tenant", id));
    if (existing) return Error(Reason::kObjectAlreadyExists, "tenant " + id + " already exists");
    return t.Put(IdentityRecord{"tenant", id, "", "", doc.dump()});
  }));
  return doc;
}

StatusOr<Json> IdentityService::ListTenants() {
  Json out = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto recs, t.List("tenant", ""));
    for (const auto& r : recs) out.push_back(Json::parse(r.doc));
    return Status::Ok();
  }));
  return Json{{"tenants", out}};
}

StatusOr<Json> IdentityService::CreatePrincipal(const std::string& tenant, const Json& body) {
  TARN_ASSIGN_OR_RETURN(std::string kind, Field(body, "kind", true));
  TARN_ASSIGN_OR_RETURN(std::string name, Field(body, "display_name", true));
  if (kind != "service_principal" && kind != "user") {
    return Bad("kind must be 'service_principal' or 'user'");
  }
  TARN_ASSIGN_OR_RETURN(std::string upn, Field(body, "upn", kind == "user"));
  Json doc{{"object_id", NewUuid()},
           {"tenant_id", tenant},
           {"kind", kind},
           {"display_name", name},
           {"created_time", FormatIso8601(NowMicros())}};
  std::string lookup;
  if (kind == "service_principal") {
    doc["app_id"] = NewUuid();
    lookup = doc["app_id"];
  } else {
    doc["upn"] = upn;
    lookup = "upn:" + upn;
  }
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireTenant(t, tenant).status());
    return t.Put(IdentityRecord{"principal", doc["object_id"], tenant, lookup, doc.dump()});
  }));
  return doc;
}

StatusOr<Json> IdentityService::ListPrincipals(const std::string& tenant) {
  Json out = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireTenant(t, tenant).status());
    TARN_ASSIGN_OR_RETURN(auto recs, t.List("principal", tenant));
    for (const auto& r : recs) out.push_back(Json::parse(r.doc));
    return Status::Ok();
  }));
  return Json{{"principals", out}};
}

StatusOr<Json> IdentityService::GetPrincipal(const std::string& oid) {
  Json out;
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto r, t.Get("principal", oid));
    if (!r) return Error(Reason::kPrincipalNotFound, "principal '" + oid + "' does not exist");
    out = Json::parse(r->doc);
    Json secrets = Json::array();
    TARN_ASSIGN_OR_RETURN(auto recs, t.List("secret", oid));
    for (const auto& s : recs) {
      Json d = Json::parse(s.doc);
      d.erase("hash");
      secrets.push_back(d);
    }
    out["secrets"] = secrets;
    return Status::Ok();
  }));
  return out;
}

Status IdentityService::DeletePrincipal(const std::string& oid) {
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto r, t.Get("principal", oid));
    if (!r) return Error(Reason::kPrincipalNotFound, "principal '" + oid + "' does not exist");
    TARN_ASSIGN_OR_RETURN(auto secrets, t.List("secret", oid));
    for (const auto& s : secrets) TARN_RETURN_IF_ERROR(t.Delete("secret", s.id));
    TARN_ASSIGN_OR_RETURN(auto pw, t.Get("password", oid));
    if (pw) TARN_RETURN_IF_ERROR(t.Delete("password", oid));
    TARN_ASSIGN_OR_RETURN(auto members, t.List("member", ""));
    for (const auto& m : members) {
      if (Json::parse(m.doc).value("member", "") == oid) {
        TARN_RETURN_IF_ERROR(t.Delete("member", m.id));
      }
    }
    TARN_ASSIGN_OR_RETURN(auto roles, t.List("role", oid));
    for (const auto& ra : roles) TARN_RETURN_IF_ERROR(t.Delete("role", ra.id));
    return t.Delete("principal", oid);
  }));
  DirectoryChanged();
  return Status::Ok();
}

StatusOr<Json> IdentityService::AddSecret(const std::string& oid, const Json& body) {
  int64_t days = 180;
  if (body.is_object() && body.contains("expires_in_days")) {
    if (!body["expires_in_days"].is_number_integer()) {
      return Bad("expires_in_days must be a whole number");
    }
    days = body["expires_in_days"].get<int64_t>();
  }
  if (days < 1 || days > opts_.max_secret_days) {
    return Bad("expires_in_days must be between 1 and " + std::to_string(opts_.max_secret_days));
  }
  std::string value = Base64UrlEncode(RandomBytes(30));
  value = value.substr(0, 3) + "8Q~" + value.substr(3);  // the shape of Azure's secrets
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, value.data(), value.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return InternalError("out of memory while hashing the secret");
  }
  int64_t expires = NowSeconds() + days * 86400;
  Json doc{{"secret_id", NewUuid()},
           {"hint", value.substr(0, 3)},
           {"expires", FormatIso8601(expires * 1000000)},
           {"expires_unix", expires},
           {"hash", std::string(hash)}};
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto r, t.Get("principal", oid));
    if (!r) return Error(Reason::kPrincipalNotFound, "principal '" + oid + "' does not exist");
    if (Json::parse(r->doc).value("kind", "") != "service_principal") {
      return Bad("only service principals have client secrets");
    }
    return t.Put(IdentityRecord{"secret", doc["secret_id"], oid, "", doc.dump()});
  }));
  doc.erase("hash");
  doc["secret"] = value;
  return doc;
}

Status IdentityService::SetPassword(const std::string& oid, const Json& body) {
  TARN_ASSIGN_OR_RETURN(std::string password, Field(body, "password", true));
  if (!IsValidUtf8(password)) return Bad("password must be valid UTF-8");
  size_t chars = 0;
  for (unsigned char ch : password) chars += (ch & 0xC0) != 0x80;
  if (chars < 12 || chars > 256) return Bad("password must have 12 to 256 characters");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return InternalError("out of memory while hashing the password");
  }
  Json doc{{"hash", std::string(hash)}, {"set_time", FormatIso8601(NowMicros())}};
  return store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto r, t.Get("principal", oid));
    if (!r) return Error(Reason::kPrincipalNotFound, "principal '" + oid + "' does not exist");
    if (Json::parse(r->doc).value("kind", "") != "user") {
      return Bad("only users have passwords; service principals use client secrets");
    }
    return t.Put(IdentityRecord{"password", oid, oid, "", doc.dump()});
  });
}

Status IdentityService::RemoveSecret(const std::string& oid, const std::string& secret_id) {
  return store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto r, t.Get("secret", secret_id));
    if (!r || r->parent != oid) {
      return Error(Reason::kPrincipalNotFound,
                   "principal '" + oid + "' has no secret '" + secret_id + "'");
    }
    return t.Delete("secret", secret_id);
  });
}

StatusOr<Json> IdentityService::CreateGroup(const std::string& tenant, const Json& body) {
  TARN_ASSIGN_OR_RETURN(std::string name, Field(body, "display_name", true));
  Json doc{{"object_id", NewUuid()}, {"tenant_id", tenant}, {"display_name", name}};
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_RETURN_IF_ERROR(RequireTenant(t, tenant).status());
    return t.Put(IdentityRecord{"group", doc["object_id"], tenant, "", doc.dump()});
  }));
  return doc;
}

StatusOr<Json> IdentityService::ListGroups(const std::string& tenant) {
  Json out = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto recs, t.List("group", tenant));
    for (const auto& r : recs) {
      Json d = Json::parse(r.doc);
      Json members = Json::array();
      TARN_ASSIGN_OR_RETURN(auto ms, t.List("member", r.id));
      for (const auto& m : ms) members.push_back(Json::parse(m.doc)["member"]);
      d["members"] = members;
      out.push_back(d);
    }
    return Status::Ok();
  }));
  return Json{{"groups", out}};
}

Status IdentityService::AddMember(const std::string& group, const std::string& member) {
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto g, t.Get("group", group));
    if (!g) return Error(Reason::kGroupNotFound, "group '" + group + "' does not exist");
    TARN_ASSIGN_OR_RETURN(auto p, t.Get("principal", member));
    TARN_ASSIGN_OR_RETURN(auto sub, t.Get("group", member));
    if (!p && !sub) {
      return Error(Reason::kPrincipalNotFound, "no principal or group '" + member + "' exists");
    }
    if (member == group) return Bad("a group cannot contain itself");
    Json d{{"group", group}, {"member", member}};
    return t.Put(IdentityRecord{"member", group + "/" + member, group, "", d.dump()});
  }));
  DirectoryChanged();
  return Status::Ok();
}

Status IdentityService::RemoveMember(const std::string& group, const std::string& member) {
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto m, t.Get("member", group + "/" + member));
    if (!m) {
      return Error(Reason::kGroupNotFound, "'" + member + "' is not a member of '" + group + "'");
    }
    return t.Delete("member", group + "/" + member);
  }));
  DirectoryChanged();
  return Status::Ok();
}

StatusOr<Json> IdentityService::AssignRole(const Json& body) {
  TARN_ASSIGN_OR_RETURN(std::string principal, Field(body, "principal_id", true));
  TARN_ASSIGN_OR_RETURN(std::string role, Field(body, "role", true));
  TARN_ASSIGN_OR_RETURN(std::string scope, Field(body, "scope", true));
  while (scope.size() > 1 && scope.back() == '/') scope.pop_back();
  if (scope.empty() || scope[0] != '/') {
    return Bad(
        "scope must be /<account>, /<account>/<filesystem>, "
        "/<account>/<filesystem>/<directory>, /workspaces or /workspaces/<workspace>");
  }
  if (IsWorkspaceScope(scope)) {
    if (std::find(std::begin(kWorkspaceRoles) + 1, std::end(kWorkspaceRoles), role) ==
        std::end(kWorkspaceRoles)) {
      return Bad("a workspace role must be 'Owner', 'Contributor', 'AzureML Data Scientist' or "
                 "'Reader', not '" + role + "'");
    }
    if (std::count(scope.begin(), scope.end(), '/') > 2) {
      return Bad("a workspace scope is /workspaces or /workspaces/<workspace>, not '" + scope + "'");
    }
  } else if (std::find(std::begin(kRoles) + 1, std::end(kRoles), role) == std::end(kRoles)) {
    return Bad(
        "role must be 'Storage Blob Data Owner', 'Storage Blob Data Contributor' or "
        "'Storage Blob Data Reader', not '" +
        role + "' (workspace roles are assigned at /workspaces/<workspace>)");
  }
  Json doc{{"id", NewUuid()}, {"principal_id", principal}, {"role", role}, {"scope", scope}};
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto p, t.Get("principal", principal));
    TARN_ASSIGN_OR_RETURN(auto g, t.Get("group", principal));
    if (!p && !g) {
      return Error(Reason::kPrincipalNotFound, "no principal or group '" + principal + "' exists");
    }
    return t.Put(IdentityRecord{"role", doc["id"], principal, "", doc.dump()});
  }));
  DirectoryChanged();
  return doc;
}

StatusOr<Json> IdentityService::ListRoles() {
  Json out = Json::array();
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto recs, t.List("role", ""));
    for (const auto& r : recs) out.push_back(Json::parse(r.doc));
    return Status::Ok();
  }));
  return Json{{"role_assignments", out}};
}

Status IdentityService::RemoveRole(const std::string& id) {
  TARN_RETURN_IF_ERROR(store_->Write([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto r, t.Get("role", id));
    if (!r) return Error(Reason::kRoleAssignmentNotFound, "no role assignment '" + id + "'");
    return t.Delete("role", id);
  }));
  DirectoryChanged();
  return Status::Ok();
}

// ----- the token service ----------------------------------------------------------------------

StatusOr<Json> IdentityService::OpenIdConfiguration(const std::string& tenant) {
  TARN_RETURN_IF_ERROR(
      store_->Read([&](IdentityTxn& t) { return RequireTenant(t, tenant).status(); }));
  std::string base = base_url_ + "/" + tenant;
  return Json{{"issuer", Issuer(tenant)},
              {"token_endpoint", base + "/oauth2/v2.0/token"},
              {"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
              {"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
              {"jwks_uri", base + "/discovery/v2.0/keys"},
              {"token_endpoint_auth_methods_supported", {"client_secret_post"}},
              {"grant_types_supported",
               {"client_credentials", "password", "refresh_token", kDeviceCodeGrant}},
              {"response_types_supported", {"token"}},
              {"id_token_signing_alg_values_supported", {"RS256"}},
              {"subject_types_supported", {"pairwise"}},
              {"scopes_supported",
               {"https://storage.azure.com/.default", "https://management.azure.com/.default",
                "openid", "profile", "offline_access"}},
              {"tenant_region_scope", "self-hosted"}};
}

StatusOr<Json> IdentityService::Jwks(const std::string& tenant) {
  TARN_RETURN_IF_ERROR(
      store_->Read([&](IdentityTxn& t) { return RequireTenant(t, tenant).status(); }));
  ActiveKey();  // rotates if due
  Json keys = Json::array();
  std::shared_lock<std::shared_mutex> l(mu_);
  for (const auto& k : keys_) keys.push_back(k.key->Jwk());
  return Json{{"keys", keys}};
}

std::optional<OAuthReply> IdentityService::UnknownTenant(const std::string& tenant) {
  bool tenant_ok = false;
  store_
      ->Read([&](IdentityTxn& t) -> Status {
        tenant_ok = RequireTenant(t, tenant).ok();
        return Status::Ok();
      })
      .IgnoreError();
  if (tenant_ok) return std::nullopt;
  return OAuthError(400, "invalid_request", 90002,
                    "Tenant '" + tenant + "' not found. Check the tenant ID.");
}

OAuthReply IdentityService::Token(const std::string& tenant,
                                  const std::map<std::string, std::string>& form,
                                  const std::string& remote) {
  auto get = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  if (auto refused = UnknownTenant(tenant)) return *refused;
  std::string grant = get("grant_type");
  if (grant.empty()) {
    return OAuthError(400, "invalid_request", 900144,
                      "The request body must contain the following parameter: 'grant_type'.");
  }
  if (grant != "client_credentials" && grant != "password" && grant != kDeviceCodeGrant &&
      grant != "refresh_token") {
    return OAuthError(400, "unsupported_grant_type", 70003,
                      "The app requested an unsupported grant type '" + grant +
                          "'; this token service supports client_credentials, password, "
                          "refresh_token and " + kDeviceCodeGrant + ".");
  }
  std::string client_id = get("client_id"), secret = get("client_secret");
  if (client_id.empty()) {
    return OAuthError(400, "invalid_request", 900144,
                      "The request body must contain the following parameter: 'client_id'.");
  }
  if (grant == kDeviceCodeGrant) return DeviceCodeGrant(tenant, form, client_id);
  TokenScope scope;
  if (auto refused = ParseScope(get("scope"), &scope)) return *refused;
  if (grant == "password") return PasswordGrant(tenant, form, client_id, scope, remote);
  if (grant == "refresh_token") return RefreshGrant(tenant, form, client_id, scope);
  const std::string& resource = scope.resource;
  std::optional<IdentityRecord> principal;
  std::vector<IdentityRecord> secrets;
  store_
      ->Read([&](IdentityTxn& t) -> Status {
        TARN_ASSIGN_OR_RETURN(principal, t.FindByLookup("principal", client_id));
        if (principal) {
          TARN_ASSIGN_OR_RETURN(secrets, t.List("secret", principal->id));
        }
        return Status::Ok();
      })
      .IgnoreError();
  if (!principal || principal->parent != tenant) {
    return UnknownApplication(client_id, tenant);
  }
  if (secret.empty()) {
    return OAuthError(401, "invalid_client", 7000218,
                      "The request body must contain the following parameter: "
                      "'client_assertion' or 'client_secret'.");
  }
  int64_t now = NowSeconds();
  bool expired_match = false, match = false;
  for (const auto& s : secrets) {
    Json d = Json::parse(s.doc);
    std::string hash = d.value("hash", "");
    if (crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) != 0) continue;
    if (d.value("expires_unix", int64_t{0}) <= now) {
      expired_match = true;
    } else {
      match = true;
    }
    break;
  }
  if (!match) {
    if (expired_match) {
      return OAuthError(401, "invalid_client", 7000222,
                        "The provided client secret keys for app '" + client_id + "' are expired.");
    }
    return OAuthError(401, "invalid_client", 7000215,
                      "Invalid client secret provided. Ensure the secret being sent in the "
                      "request is the client secret value, not the client secret ID, for a "
                      "secret added to app '" +
                          client_id + "'.");
  }
  auto key = ActiveKey();
  if (!key) return OAuthError(500, "temporarily_unavailable", 50000, "No signing key.");
  return OAuthReply{200, Json{{"token_type", "Bearer"},
                              {"expires_in", opts_.token_lifetime_s},
                              {"ext_expires_in", opts_.token_lifetime_s},
                              {"access_token", key->Sign(AccessClaims(tenant, principal->id,
                                                                      client_id, resource, now))}},
                    Json()};
}

Json IdentityService::AccessClaims(const std::string& tenant, const std::string& oid,
                                  const std::string& client_id, const std::string& audience,
                                  int64_t now) const {
  return Json{{"aud", audience},
              {"iss", Issuer(tenant)},
              {"iat", now},
              {"nbf", now},
              {"exp", now + opts_.token_lifetime_s},
              {"oid", oid},
              {"sub", oid},
              {"tid", tenant},
              {"appid", client_id},
              {"azp", client_id},
              {"ver", "2.0"},
              {"uti", Base64UrlEncode(RandomBytes(16))}};
}

std::string IdentityService::SignForTest(const Json& claims) {
  auto key = ActiveKey();
  return key ? key->Sign(claims) : "";
}

// ----- bearer tokens --------------------------------------------------------------------------

StatusOr<std::vector<std::string>> IdentityService::GroupsOf(IdentityTxn& t,
                                                             const std::string& oid) {
  TARN_ASSIGN_OR_RETURN(auto members, t.List("member", ""));
  std::set<std::string> groups;
  std::vector<std::string> frontier{oid};
  while (!frontier.empty()) {
    std::string who = frontier.back();
    frontier.pop_back();
    for (const auto& m : members) {
      Json d = Json::parse(m.doc);
      if (d.value("member", "") == who && groups.insert(d.value("group", "")).second) {
        frontier.push_back(d.value("group", ""));
      }
    }
  }
  return std::vector<std::string>(groups.begin(), groups.end());
}

StatusOr<Caller> IdentityService::Authenticate(std::string_view token, Audience audience) {
  const char* want = audience == Audience::kStorage     ? kStorageAudience
                     : audience == Audience::kWorkspace ? kWorkspaceAudience
                                                        : kTrackingAudience;
  const std::string digest = Sha256(token);
  const int64_t now = NowSeconds();
  uint64_t generation;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    generation = generation_;
    auto it = cache_.find(digest);
    if (it != cache_.end() && it->second.generation == generation_ &&
        it->second.audience == audience && it->second.caller.exp > now - opts_.clock_skew_s) {
      if (!it->second.caller.run.empty()) return CheckRun(it->second.caller);
      return it->second.caller;
    }
  }
  auto lookup = [&](const std::string& kid) -> EVP_PKEY* {
    std::shared_lock<std::shared_mutex> l(mu_);
    for (const auto& k : keys_) {
      if (k.key->kid() == kid) return k.key->pkey();
    }
    return nullptr;
  };
  TARN_ASSIGN_OR_RETURN(Json claims, VerifyRs256(token, lookup));
  auto invalid = [](const std::string& why) {
    return Error(Reason::kInvalidAuthenticationInfo, why);
  };
  auto num = [&](const char* k) -> std::optional<int64_t> {
    if (!claims.contains(k) || !claims[k].is_number_integer()) return std::nullopt;
    return claims[k].get<int64_t>();
  };
  auto str = [&](const char* k) {
    return claims.contains(k) && claims[k].is_string() ? claims[k].get<std::string>() : "";
  };
  auto exp = num("exp"), nbf = num("nbf");
  if (!exp || !nbf) return invalid("the token has no exp or nbf claim");
  // Claims may hold any int64: the arithmetic is on the server's own clock, never on them.
  if (*exp <= now - opts_.clock_skew_s) {
    return invalid("Lifetime validation failed, the token is expired.");
  }
  if (*nbf > now + opts_.clock_skew_s) return invalid("the token is not valid yet (nbf)");
  std::string aud = str("aud");
  while (!aud.empty() && aud.back() == '/') aud.pop_back();
  if (aud != want) {
    return invalid("Audience validation failed: the token is for '" + str("aud") +
                   "', and this API takes tokens for " + want + " (scope " + want +
                   "/.default).");
  }
  std::string tid = str("tid");
  if (str("iss") != Issuer(tid)) return invalid("Issuer validation failed.");
  Caller c{str("oid"), tid, str("appid"), {}, *exp, str("tarn_run")};
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto tenant, t.Get("tenant", tid));
    if (!tenant) return invalid("the token's tenant is unknown to this server");
    TARN_ASSIGN_OR_RETURN(auto p, t.Get("principal", c.oid));
    if (!p || p->parent != tid) return invalid("the token's principal no longer exists");
    TARN_ASSIGN_OR_RETURN(c.groups, GroupsOf(t, c.oid));
    return Status::Ok();
  }));
  std::lock_guard<std::shared_mutex> l(mu_);
  if (generation == generation_) {
    if (cache_.size() > 100000) cache_.clear();
    cache_[digest] = Cached{c, generation, audience};
  }
  if (!c.run.empty()) return CheckRun(c);
  return c;
}

StatusOr<Caller> IdentityService::CheckRun(const Caller& c) const {
  if (!run_active_ || !run_active_(c.run)) {
    return Error(Reason::kInvalidAuthenticationInfo,
                 "the run this token was issued to has ended: its tokens end with it");
  }
  return c;
}

StatusOr<std::string> IdentityService::IssueRunToken(const Caller& as, const std::string& run_id,
                                                     Audience audience, int64_t expires_at) {
  auto key = ActiveKey();
  if (!key) return InternalError("the token service has no signing key");
  if (as.oid.empty() || as.tid.empty() || run_id.empty()) {
    return Error(Reason::kInvalidInput, "a run token needs the submitting principal and the run");
  }
  const char* aud = audience == Audience::kStorage     ? kStorageAudience
                    : audience == Audience::kWorkspace ? kWorkspaceAudience
                                                       : kTrackingAudience;
  Json claims = AccessClaims(as.tid, as.oid, as.appid, aud, NowSeconds());
  claims["exp"] = expires_at;
  claims["tarn_run"] = run_id;
  return key->Sign(claims);
}

std::string IdentityService::UpnOf(const std::string& oid) {
  std::string out = oid;
  store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto p, t.Get("principal", oid));
    if (p) {
      Json d = Json::parse(p->doc);
      if (d.value("kind", "") == "user" && !d.value("upn", "").empty()) out = d["upn"];
    }
    return Status::Ok();
  }).IgnoreError();
  return out;
}

StatusOr<std::string> IdentityService::OidOf(const std::string& name) {
  if (name.find('@') == std::string::npos) return name;
  std::string out;
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto p, t.FindByLookup("principal", "upn:" + name));
    if (!p) {
      return Error(Reason::kInvalidHeaderValue,
                   "The user principal name '" + name + "' is not in this server's directory.");
    }
    out = p->id;
    return Status::Ok();
  }));
  return out;
}

StatusOr<Caller> IdentityService::CallerFor(const std::string& oid, const std::string& tid) {
  Caller c{oid, tid, "", {}, 0, ""};
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(auto p, t.Get("principal", oid));
    if (!p || p->parent != tid) {
      return Error(Reason::kPrincipalNotFound, "principal '" + oid + "' does not exist");
    }
    TARN_ASSIGN_OR_RETURN(c.groups, GroupsOf(t, oid));
    return Status::Ok();
  }));
  return c;
}

StatusOr<int> IdentityService::StrongestRole(const Caller& caller, const std::string& resource,
                                             const char* const* names, int count,
                                             bool workspace) {
  std::string key = std::string(workspace ? "w\n" : "s\n") + caller.oid + '\n' + resource;
  for (const auto& g : caller.groups) key += '\n' + g;
  uint64_t generation;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    generation = generation_;
    auto it = role_cache_.find(key);
    if (it != role_cache_.end()) return it->second;
  }
  int best = 0;
  TARN_RETURN_IF_ERROR(store_->Read([&](IdentityTxn& t) -> Status {
    std::vector<std::string> who = caller.groups;
    who.push_back(caller.oid);
    for (const auto& id : who) {
      TARN_ASSIGN_OR_RETURN(auto roles, t.List("role", id));
      for (const auto& r : roles) {
        Json d = Json::parse(r.doc);
        const std::string scope =
            workspace ? ToLower(d.value("scope", "")) : d.value("scope", "");
        if (IsWorkspaceScope(scope) != workspace || !ScopeContains(scope, resource)) continue;
        for (int i = 1; i < count; ++i) {
          if (d.value("role", "") == names[i]) best = std::max(best, i);
        }
      }
    }
    return Status::Ok();
  }));
  std::lock_guard<std::shared_mutex> l(mu_);
  if (generation == generation_) {
    if (role_cache_.size() > 100000) role_cache_.clear();
    role_cache_[key] = best;
  }
  return best;
}

StatusOr<WorkspaceRole> IdentityService::EffectiveWorkspaceRole(const Caller& caller,
                                                                 const std::string& ws) {
  TARN_ASSIGN_OR_RETURN(int best, StrongestRole(caller, "/workspaces/" + ToLower(ws),
                                                kWorkspaceRoles, std::size(kWorkspaceRoles),
                                                /*workspace=*/true));
  return static_cast<WorkspaceRole>(best);
}

StatusOr<Role> IdentityService::EffectiveRole(const Caller& caller, const std::string& resource) {
  TARN_ASSIGN_OR_RETURN(int strongest, StrongestRole(caller, resource, kRoles, std::size(kRoles),
                                                     /*workspace=*/false));
  return static_cast<Role>(strongest);
}

}  // namespace tarn::identity
