// IdentityService: the directory (tenants, users and service principals, client secrets, security
// groups, role assignments), a token service compatible with the Microsoft identity platform v2
// endpoints that azure-identity uses, and validation of the bearer tokens it issues.
//
// Contract
// - Client secrets are shown once, when added, and stored only as Argon2id hashes
//   (libsodium crypto_pwhash_str). Signing keys are RSA-2048, stored sealed by the SecretBox.
// - Access tokens are RS256 JWTs with oid, tid, appid, aud, iss, iat, nbf, exp, signed by the
//   active key. Keys rotate every key_rotation_s; a retired key stays in the JWKS until the last
//   token it signed has expired.
// - Authenticate() checks signature, exp/nbf (with clock skew), audience, issuer and tenant, and
//   that the principal still exists; results are cached by the token's hash until it expires,
//   and the cache is invalidated by every directory change.
// - Role scopes are "/<account>", "/<account>/<filesystem>" or "/<account>/<filesystem>/<dir>";
//   EffectiveRole() takes the strongest role assigned to the caller or any group it belongs to
//   (transitively) at a scope that contains the resource.
// - Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/secret_box.h"
#include "common/status.h"
#include "identity/jwt.h"
#include "store/identity/identity_store.h"

namespace tarn::identity {

// Who a validated bearer token speaks for.
struct Caller {
  std::string oid, tid, appid;
  std::vector<std::string> groups;  // every group the principal belongs to, transitively
  int64_t exp = 0;                  // Unix seconds
  std::string run;                  // a run's token (IssueRunToken): the run it was issued to
};

enum class Role { kNone = 0, kReader = 1, kContributor = 2, kOwner = 3 };
const char* RoleName(Role r);

// Azure ML's built-in roles on a workspace (scope "/workspaces/<ws>", or "/workspaces" for all):
// Reader reads; AzureML Data Scientist also writes datastores, datasets and runs; Contributor
// also manages the workspace itself; Owner also role assignments.
enum class WorkspaceRole { kNone = 0, kReader = 1, kDataScientist = 2, kContributor = 3, kOwner = 4 };

// What a token is for: its audience. A token for one is refused by the other.
enum class Audience { kStorage, kWorkspace, kTracking };
inline constexpr char kStorageAudience[] = "https://storage.azure.com";
inline constexpr char kWorkspaceAudience[] = "https://management.azure.com";
// Experiment tracking (the MLflow API), Azure ML's own data-plane audience.
inline constexpr char kTrackingAudience[] = "https://ml.azure.com";

// An OAuth answer from the token endpoint: status and the JSON body, and for sign-ins (the
// password grant) what the audit log records of it: {"principal": "upn:<name>", "result",
// "error"} (empty otherwise).
struct OAuthReply {
  int status = 200;
  Json body;
  Json audit;
};

// Sign-in throttling of the password grant: from the `free_failures`-th failed attempt for a
// user (or the `free_failures_per_address`-th from one client address) on, the next attempts
// are refused without checking the password for 1 s, then 2 s, 4 s... after each further
// failure, at most `max_lockout_s`. Failures older than `forget_after_s` are forgotten; a success clears the
// user's count.
struct SignInThrottle {
  int free_failures = 5;
  int free_failures_per_address = 20;
  int64_t max_lockout_s = 900;
  int64_t forget_after_s = 900;
};

// The device code flow (RFC 8628, as on the Microsoft identity platform): codes live
// `lifetime_s`; clients poll every `interval_s`. At most `max_pending` codes wait at once, and
// at most `max_pending_per_address` from one client address.
struct DeviceCodeOptions {
  int64_t lifetime_s = 900;
  int64_t interval_s = 5;
  size_t max_pending = 10000;
  size_t max_pending_per_address = 20;
};

// The client id of the public client every tenant has, for users' sign-ins (the password,
// device code and refresh token grants): the one the Azure CLI and azure-identity's
// DeviceCodeCredential use by default. Confidential clients (client_credentials) must be
// registered service principals.
inline constexpr char kPublicClientId[] = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

struct IdentityOptions {
  int64_t token_lifetime_s = 3600;
  // Refresh tokens (the offline_access scope) of users: sealed by the SecretBox, valid this
  // long, and void once the user's password changes or the user is deleted.
  int64_t refresh_lifetime_s = 90 * 24 * 3600;
  int64_t key_rotation_s = 7 * 24 * 3600;
  int64_t clock_skew_s = 300;
  int64_t max_secret_days = 730;
  SignInThrottle throttle;
  DeviceCodeOptions device_code;
};

// The scope of a token request, taken apart.
struct TokenScope {
  std::string resource;  // the audience: kStorageAudience, kWorkspaceAudience or kTrackingAudience
  bool openid = false, offline = false;
};

// What the device login page shows after a submission.
struct DeviceLoginResult {
  int status = 200;      // 200 signed in (or declined), 400 bad code or credentials, 429 locked
  std::string message;   // for the page: plain text, escaped by the page
  Json audit;            // as OAuthReply::audit
};

class IdentityService {
 public:
  IdentityService(IdentityStore* store, const SecretBox* box, IdentityOptions opts = {});
  ~IdentityService();

  // Loads the signing keys, making (or rotating to) a new one when needed.
  Status Start();
  // The https base URL ("https://127.0.0.1:PORT"): issuer and endpoints are built from it.
  void SetBaseUrl(const std::string& https_url);
  const std::string& base_url() const { return base_url_; }

  // ----- the directory (admin API, JSON in and out) -----
  StatusOr<Json> CreateTenant(const Json& body);
  StatusOr<Json> ListTenants();
  StatusOr<Json> CreatePrincipal(const std::string& tenant, const Json& body);
  StatusOr<Json> ListPrincipals(const std::string& tenant);
  StatusOr<Json> GetPrincipal(const std::string& oid);
  Status DeletePrincipal(const std::string& oid);
  // Returns the new secret's value once ("secret"); only its hash is kept.
  StatusOr<Json> AddSecret(const std::string& oid, const Json& body);
  Status RemoveSecret(const std::string& oid, const std::string& secret_id);
  // A user's password ({"password": "..."}, 12 to 256 characters), kept only as its Argon2id
  // hash; replaces any earlier one.
  Status SetPassword(const std::string& oid, const Json& body);
  StatusOr<Json> CreateGroup(const std::string& tenant, const Json& body);
  StatusOr<Json> ListGroups(const std::string& tenant);
  Status AddMember(const std::string& group, const std::string& member);
  Status RemoveMember(const std::string& group, const std::string& member);
  StatusOr<Json> AssignRole(const Json& body);
  StatusOr<Json> ListRoles();
  Status RemoveRole(const std::string& id);

  // ----- the token service -----
  StatusOr<Json> OpenIdConfiguration(const std::string& tenant);
  StatusOr<Json> Jwks(const std::string& tenant);
  // POST /{tenant}/oauth2/v2.0/token with the form fields, from the client address `remote`:
  // client_credentials (service principals) and password (users; with the openid scope the
  // answer carries an id_token and client_info, as MSAL expects).
  // Also the device code grant (urn:ietf:params:oauth:grant-type:device_code) and
  // refresh_token; with offline_access in the scope, users' answers carry a refresh_token.
  OAuthReply Token(const std::string& tenant, const std::map<std::string, std::string>& form,
                   const std::string& remote = "");
  // POST /{tenant}/oauth2/v2.0/devicecode (client_id, scope): a new device code, its user code
  // and the verification page's URL.
  OAuthReply StartDeviceCode(const std::string& tenant,
                             const std::map<std::string, std::string>& form,
                             const std::string& remote);
  // The verification page's submission: the user code and the user's credentials (throttled
  // and audited as the password grant), or `decline` to refuse the code.
  DeviceLoginResult CompleteDeviceCode(const std::string& tenant, const std::string& user_code,
                                       const std::string& username, const std::string& password,
                                       bool decline, const std::string& remote);
  // The URL of tenant's device login page.
  std::string VerificationUri(const std::string& tenant) const;

  // ----- bearer tokens -----
  StatusOr<Caller> Authenticate(std::string_view token, Audience audience = Audience::kStorage);
  StatusOr<Role> EffectiveRole(const Caller& caller, const std::string& resource);
  // The strongest workspace role of the caller or its groups on workspace ws.
  StatusOr<WorkspaceRole> EffectiveWorkspaceRole(const Caller& caller, const std::string& ws);
  // UPN translation (getAccessControl?upn=true, and UPNs in x-ms-acl / x-ms-owner): a user's
  // object ID to its UPN (other IDs are returned as they are), and a UPN to its object ID
  // (names without '@' are returned as they are; an unknown UPN is kInvalidHeaderValue).
  std::string UpnOf(const std::string& oid);
  StatusOr<std::string> OidOf(const std::string& name);
  // Changes whenever the directory does (principals, secrets, groups, roles): a Caller
  // Authenticate gave stays exact while this is unchanged.
  uint64_t DirectoryGeneration() const { return generation_.load(std::memory_order_acquire); }
  // The principal a user-delegation key was issued to, with its groups, if it still exists.
  StatusOr<Caller> CallerFor(const std::string& oid, const std::string& tid);

  // A token for a submitted run (compute/job_service.h): it speaks for `as`, the principal that
  // submitted the run, for audience, until expires_at (Unix seconds), and only while the run
  // is active: Authenticate refuses it once SetRunCheck's function says the run has ended.
  StatusOr<std::string> IssueRunToken(const Caller& as, const std::string& run_id,
                                      Audience audience, int64_t expires_at);
  // Whether a run is still active; set once at start-up, before the server takes requests.
  void SetRunCheck(std::function<bool(const std::string& run_id)> active) {
    run_active_ = std::move(active);
  }

  // For tests: signs arbitrary claims with the active key (expired, foreign-tenant tokens...).
  std::string SignForTest(const Json& claims);

 private:
  struct KeyEntry {
    std::shared_ptr<SigningKey> key;
    int64_t created = 0;  // Unix seconds
    int64_t retired = 0;  // 0 while active
  };

  Status LoadOrRotateKeys(int64_t now);
  std::shared_ptr<SigningKey> ActiveKey();
  StatusOr<Json> RequireTenant(IdentityTxn& t, const std::string& tenant);
  StatusOr<std::vector<std::string>> GroupsOf(IdentityTxn& t, const std::string& oid);
  std::string Issuer(const std::string& tenant) const;
  // The rank (index in names, 1..count-1; 0: none) of the strongest role of `names` assigned
  // to the caller or its groups at a scope holding resource: workspace scopes when `workspace`,
  // the others otherwise.
  StatusOr<int> StrongestRole(const Caller& caller, const std::string& resource,
                              const char* const* names, int count, bool workspace);
  // An access token's claims for principal oid of tenant, issued now to client_id.
  Json AccessClaims(const std::string& tenant, const std::string& oid,
                    const std::string& client_id, const std::string& audience, int64_t now) const;
  // A user's sign-in checked: the user's record when `password` is theirs (failures throttled,
  // counted per user and per address); otherwise the OAuth error to answer.
  struct Checked {
    std::optional<IdentityRecord> user;
    OAuthReply refusal;
  };
  Checked CheckPassword(const std::string& tenant, const std::string& username,
                        const std::string& password, const std::string& remote);
  // The tokens for a signed-in user: access token, and id_token/client_info (openid) and a
  // refresh token (offline_access) when asked for.
  OAuthReply UserTokens(const std::string& tenant, const IdentityRecord& user,
                        const std::string& client_id, const TokenScope& scope);
  // AADSTS90002 for a tenant this directory does not have; nullopt for one it has.
  std::optional<OAuthReply> UnknownTenant(const std::string& tenant);
  // Whether client_id may sign users of tenant in: the public client, or a registered one.
  bool IsUserClient(const std::string& tenant, const std::string& client_id);
  OAuthReply PasswordGrant(const std::string& tenant, const std::map<std::string, std::string>& form,
                           const std::string& client_id, const TokenScope& scope,
                           const std::string& remote);
  OAuthReply DeviceCodeGrant(const std::string& tenant,
                             const std::map<std::string, std::string>& form,
                             const std::string& client_id);
  OAuthReply RefreshGrant(const std::string& tenant, const std::map<std::string, std::string>& form,
                          const std::string& client_id, const TokenScope& scope);
  // A fingerprint of the user's password hash: a refresh token names it, so that changing the
  // password voids the tokens issued before ("" when the user has none).
  static std::string PasswordVersion(const std::optional<IdentityRecord>& pw);
  // Seconds a sign-in must still wait for key ("user:..." or "addr:..."), 0 when it may go on.
  int64_t LockedFor(const std::string& key);
  void SignInFailed(const std::string& key, int free_failures);
  void DirectoryChanged();
  // c, when its run (a run token's) is still active.
  StatusOr<Caller> CheckRun(const Caller& c) const;

  IdentityStore* store_;
  const SecretBox* box_;
  std::function<bool(const std::string&)> run_active_;
  IdentityOptions opts_;
  std::string base_url_;

  // Guards keys_, cache_, role_cache_ and generation_: shared by the lookups every request
  // makes, exclusive for changes.
  std::shared_mutex mu_;
  std::vector<KeyEntry> keys_;
  struct Cached {
    Caller caller;
    uint64_t generation;
    Audience audience;
  };
  std::unordered_map<std::string, Cached> cache_;  // by SHA-256 of the token
  // StrongestRole's answers (storage and workspace roles) by caller and resource, valid while
  // generation_ is unchanged.
  std::unordered_map<std::string, int> role_cache_;
  std::atomic<uint64_t> generation_{0};  // changed under mu_ held exclusively

  struct Failures {
    int count = 0;
    int64_t last_us = 0;          // MonotonicMicros of the last failure
    int64_t locked_until_us = 0;  // MonotonicMicros
  };
  std::mutex signin_mu_;
  std::unordered_map<std::string, Failures> failures_;  // guarded by signin_mu_

  // Device codes waiting for their user, in memory only: a restart asks users to sign in again.
  struct PendingDevice {
    std::string tenant, client_id, user_code, address;
    TokenScope scope;
    int64_t expires_us = 0;  // MonotonicMicros
    std::string approved_oid;  // set by the verification page
    bool declined = false;
  };
  void ForgetExpiredDevices(int64_t now_us);  // with device_mu_ held
  std::mutex device_mu_;
  std::unordered_map<std::string, PendingDevice> devices_;  // by SHA-256 of the device code
  std::unordered_map<std::string, std::string> user_codes_;  // user code -> device key
};

}  // namespace tarn::identity
