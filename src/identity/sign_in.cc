// Users' sign-ins: the password grant, the device code flow with its verification page's
// submission, and refresh tokens; throttling of failed attempts. See identity_service.h.
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "identity/identity_service.h"
#include "identity/oauth_internal.h"

namespace tarn::identity {
namespace {

using internal::OAuthError;
using internal::UnknownApplication;

int64_t NowSeconds() { return NowMicros() / 1000000; }

std::string FormValue(const std::map<std::string, std::string>& form, const char* key) {
  auto it = form.find(key);
  return it == form.end() ? std::string() : it->second;
}

OAuthReply MissingField(const char* key) {
  return OAuthError(400, "invalid_request", 900144,
                    std::string("The request body must contain the following parameter: '") + key +
                        "'.");
}

// User codes: consonants only (no words, no 0/O or 1/I confusion), as RFC 8628 §6.1 suggests.
constexpr char kUserCodeAlphabet[] = "BCDFGHJKLMNPQRSTVWXZ";
constexpr size_t kUserCodeLength = 8;

std::string NewUserCode() {
  const std::string bytes = RandomBytes(kUserCodeLength);
  std::string code;
  for (unsigned char b : bytes) code += kUserCodeAlphabet[b % (sizeof(kUserCodeAlphabet) - 1)];
  return code;  // 256 % 20 leaves a bias of under 2% per character: harmless for a throttled code
}

// What a person typed: case, dashes and spaces do not matter.
std::string NormalizeUserCode(const std::string& typed) {
  std::string out;
  for (unsigned char ch : typed) {
    if (ch == '-' || std::isspace(ch)) continue;
    out += static_cast<char>(std::toupper(ch));
  }
  return out;
}

std::string DisplayUserCode(const std::string& code) {
  return code.substr(0, 4) + "-" + code.substr(4);
}

constexpr char kRefreshPrefix[] = "tarn.rt.";

}  // namespace

// ----- throttling -----------------------------------------------------------------------------

int64_t IdentityService::LockedFor(const std::string& key) {
  const int64_t now = MonotonicMicros();
  std::lock_guard<std::mutex> l(signin_mu_);
  auto it = failures_.find(key);
  if (it == failures_.end() || it->second.locked_until_us <= now) return 0;
  return (it->second.locked_until_us - now + 999999) / 1000000;  // whole seconds, rounded up
}

void IdentityService::SignInFailed(const std::string& key, int free_failures) {
  const SignInThrottle& o = opts_.throttle;
  const int64_t now = MonotonicMicros(), forget_us = o.forget_after_s * 1000000;
  std::lock_guard<std::mutex> l(signin_mu_);
  if (failures_.size() > 100000) {
    // Forget what no longer counts; if that is not enough (failures from very many users or
    // addresses at once), forget every count that is not a lockout in force.
    for (int pass = 0; pass < 2 && failures_.size() > 100000; ++pass) {
      for (auto it = failures_.begin(); it != failures_.end();) {
        const bool drop = it->second.locked_until_us <= now &&
                          (pass == 1 || now - it->second.last_us > forget_us);
        it = drop ? failures_.erase(it) : std::next(it);
      }
    }
  }
  Failures& f = failures_[key];
  if (f.count > 0 && now - f.last_us > forget_us) f.count = 0;
  ++f.count;
  f.last_us = now;
  if (f.count >= free_failures) {
    const int beyond = std::min(f.count - free_failures, 30);
    f.locked_until_us = now + std::min<int64_t>(o.max_lockout_s, int64_t{1} << beyond) * 1000000;
  }
}

// ----- checking a password and issuing a user's tokens ----------------------------------------

bool IdentityService::IsUserClient(const std::string& tenant, const std::string& client_id) {
  if (client_id == kPublicClientId) return true;
  std::optional<IdentityRecord> app;
  store_
      ->Read([&](IdentityTxn& t) -> Status {
        TARN_ASSIGN_OR_RETURN(app, t.FindByLookup("principal", client_id));
        return Status::Ok();
      })
      .IgnoreError();
  return app && app->parent == tenant;
}

std::string IdentityService::PasswordVersion(const std::optional<IdentityRecord>& pw) {
  if (!pw) return "";
  const Json doc = Json::parse(pw->doc, nullptr, false);
  const std::string hash = doc.is_object() ? doc.value("hash", "") : "";
  return Base64UrlEncode(Sha256(hash).substr(0, 12));
}

IdentityService::Checked IdentityService::CheckPassword(const std::string& tenant,
                                                        const std::string& username,
                                                        const std::string& password,
                                                        const std::string& remote) {
  // Fixed-size keys: what callers send cannot grow the table's entries.
  const std::string user_key = "user:" + Sha256(tenant + "/" + ToLower(username));
  const std::string addr_key = "addr:" + remote;
  auto refused = [&](OAuthReply r, const char* error) {
    r.audit = Json{{"principal", "upn:" + username}, {"result", "denied"}, {"error", error}};
    return Checked{std::nullopt, std::move(r)};
  };
  // A locked sign-in is refused before its password is hashed: guessing costs no CPU either.
  const int64_t wait = std::max(LockedFor(user_key), remote.empty() ? 0 : LockedFor(addr_key));
  if (wait > 0) {
    return refused(OAuthError(400, "invalid_grant", 50053,
                              "The account is locked: too many failed sign-in attempts for this "
                              "user or from this address. Try again in " +
                                  std::to_string(wait) + " seconds."),
                   "locked");
  }
  std::optional<IdentityRecord> user, pw;
  store_
      ->Read([&](IdentityTxn& t) -> Status {
        TARN_ASSIGN_OR_RETURN(user, t.FindByLookup("principal", "upn:" + username));
        if (user) {
          TARN_ASSIGN_OR_RETURN(pw, t.Get("password", user->id));
        }
        return Status::Ok();
      })
      .IgnoreError();
  // The same work whether or not the user exists, so that timing tells nothing.
  static const std::string kNoSuchHash = [] {
    char h[crypto_pwhash_STRBYTES] = {};
    const std::string filler = Base64UrlEncode(RandomBytes(24));
    if (crypto_pwhash_str(h, filler.data(), filler.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return std::string();
    }
    return std::string(h);
  }();
  const bool known = user && user->parent == tenant && pw;
  const std::string hash = known ? Json::parse(pw->doc).value("hash", "") : kNoSuchHash;
  const bool match =
      !hash.empty() &&
      crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 && known;
  if (!match) {
    // Counted when the check has ended: a lockout runs from the failure, however slow the hash.
    SignInFailed(user_key, opts_.throttle.free_failures);
    if (!remote.empty()) SignInFailed(addr_key, opts_.throttle.free_failures_per_address);
    return refused(OAuthError(400, "invalid_grant", 50126,
                              "Error validating credentials due to invalid username or password."),
                   "invalid_grant");
  }
  {
    std::lock_guard<std::mutex> l(signin_mu_);
    failures_.erase(user_key);
  }
  return Checked{user, OAuthReply{}};
}

OAuthReply IdentityService::UserTokens(const std::string& tenant, const IdentityRecord& user,
                                       const std::string& client_id, const TokenScope& scope) {
  auto key = ActiveKey();
  if (!key) return OAuthError(500, "temporarily_unavailable", 50000, "No signing key.");
  const int64_t now = NowSeconds();
  const Json doc = Json::parse(user.doc);
  const std::string upn = doc.value("upn", "");
  Json claims = AccessClaims(tenant, user.id, client_id, scope.resource, now);
  claims["upn"] = upn;
  claims["name"] = doc.value("display_name", "");
  claims["scp"] = "user_impersonation";
  Json body{{"token_type", "Bearer"},
            {"scope", scope.resource + "/user_impersonation"},
            {"expires_in", opts_.token_lifetime_s},
            {"ext_expires_in", opts_.token_lifetime_s},
            {"access_token", key->Sign(claims)}};
  if (scope.openid) {
    body["id_token"] = key->Sign(Json{{"aud", client_id},
                                      {"iss", Issuer(tenant)},
                                      {"iat", now},
                                      {"nbf", now},
                                      {"exp", now + opts_.token_lifetime_s},
                                      {"sub", user.id},
                                      {"oid", user.id},
                                      {"tid", tenant},
                                      {"preferred_username", upn},
                                      {"name", doc.value("display_name", "")},
                                      {"ver", "2.0"}});
    body["client_info"] = Base64UrlEncode(Json{{"uid", user.id}, {"utid", tenant}}.dump());
  }
  if (scope.offline) {
    std::optional<IdentityRecord> pw;
    store_
        ->Read([&](IdentityTxn& t) -> Status {
          TARN_ASSIGN_OR_RETURN(pw, t.Get("password", user.id));
          return Status::Ok();
        })
        .IgnoreError();
    const Json sealed{{"oid", user.id},
                      {"tid", tenant},
                      {"cid", client_id},
                      {"pwv", PasswordVersion(pw)},
                      {"exp", now + opts_.refresh_lifetime_s}};
    body["refresh_token"] = kRefreshPrefix + Base64UrlEncode(box_->Seal(sealed.dump()));
    body["refresh_token_expires_in"] = opts_.refresh_lifetime_s;
    body["scope"] = body["scope"].get<std::string>() + " offline_access";
  }
  OAuthReply r{200, std::move(body), Json()};
  r.audit = Json{{"principal", "upn:" + upn}, {"result", "allowed"}, {"client_id", client_id}};
  return r;
}

// ----- the password grant ---------------------------------------------------------------------

OAuthReply IdentityService::PasswordGrant(const std::string& tenant,
                                          const std::map<std::string, std::string>& form,
                                          const std::string& client_id, const TokenScope& scope,
                                          const std::string& remote) {
  const std::string username = FormValue(form, "username"), password = FormValue(form, "password");
  for (const char* k : {"username", "password"}) {
    if (FormValue(form, k).empty()) return MissingField(k);
  }
  if (username.size() > 256) {
    return OAuthError(400, "invalid_request", 900144,
                      "The username is longer than 256 characters.");
  }
  if (!IsUserClient(tenant, client_id)) return UnknownApplication(client_id, tenant);
  Checked checked = CheckPassword(tenant, username, password, remote);
  if (!checked.user) {
    checked.refusal.audit["client_id"] = client_id;
    return checked.refusal;
  }
  return UserTokens(tenant, *checked.user, client_id, scope);
}

// ----- refresh tokens -------------------------------------------------------------------------

OAuthReply IdentityService::RefreshGrant(const std::string& tenant,
                                         const std::map<std::string, std::string>& form,
                                         const std::string& client_id, const TokenScope& scope) {
  const std::string token = FormValue(form, "refresh_token");
  if (token.empty()) return MissingField("refresh_token");
  auto invalid = [](const std::string& why) {
    return OAuthError(400, "invalid_grant", 9002313, "Invalid request: " + why);
  };
  if (token.size() > 4096 || token.rfind(kRefreshPrefix, 0) != 0) {
    return invalid("the refresh token is malformed.");
  }
  auto sealed = Base64UrlDecode(std::string_view(token).substr(sizeof(kRefreshPrefix) - 1));
  if (!sealed) return invalid("the refresh token is malformed.");
  auto plain = box_->Open(*sealed);
  if (!plain.ok()) return invalid("the refresh token was not issued by this server.");
  const Json d = Json::parse(*plain, nullptr, false);
  if (!d.is_object()) return invalid("the refresh token is malformed.");
  if (d.value("tid", "") != tenant) return invalid("the refresh token is for another tenant.");
  if (d.value("cid", "") != client_id) {
    return OAuthError(400, "invalid_grant", 70000,
                      "The refresh token was issued to another client than '" + client_id + "'.");
  }
  if (d.value("exp", int64_t{0}) <= NowSeconds()) {
    return OAuthError(400, "invalid_grant", 700082,
                      "The refresh token has expired. Sign in again.");
  }
  std::optional<IdentityRecord> user, pw;
  store_
      ->Read([&](IdentityTxn& t) -> Status {
        TARN_ASSIGN_OR_RETURN(user, t.Get("principal", d.value("oid", "")));
        if (user) {
          TARN_ASSIGN_OR_RETURN(pw, t.Get("password", user->id));
        }
        return Status::Ok();
      })
      .IgnoreError();
  if (!user || user->parent != tenant) {
    return OAuthError(400, "invalid_grant", 50034, "The user account no longer exists.");
  }
  if (PasswordVersion(pw) != d.value("pwv", "")) {
    return OAuthError(400, "invalid_grant", 50173,
                      "The refresh token is no longer valid: the user's password has changed "
                      "since it was issued. Sign in again.");
  }
  TokenScope renewed = scope;
  renewed.offline = true;  // a refresh answers with the next refresh token
  OAuthReply r = UserTokens(tenant, *user, client_id, renewed);
  r.audit = Json();  // renewals are not sign-ins
  return r;
}

// ----- the device code flow -------------------------------------------------------------------

std::string IdentityService::VerificationUri(const std::string& tenant) const {
  return base_url_ + "/" + tenant + "/oauth2/v2.0/devicelogin";
}

void IdentityService::ForgetExpiredDevices(int64_t now_us) {
  for (auto it = devices_.begin(); it != devices_.end();) {
    if (it->second.expires_us <= now_us) {
      user_codes_.erase(it->second.user_code);
      it = devices_.erase(it);
    } else {
      ++it;
    }
  }
}

OAuthReply IdentityService::StartDeviceCode(const std::string& tenant,
                                            const std::map<std::string, std::string>& form,
                                            const std::string& remote) {
  if (auto refused = UnknownTenant(tenant)) return *refused;
  const std::string client_id = FormValue(form, "client_id");
  if (client_id.empty()) return MissingField("client_id");
  if (!IsUserClient(tenant, client_id)) return UnknownApplication(client_id, tenant);
  TokenScope scope;
  if (auto refused = internal::ParseScope(FormValue(form, "scope"), &scope)) return *refused;
  const DeviceCodeOptions& o = opts_.device_code;
  const int64_t now = MonotonicMicros();
  const std::string device_code = Base64UrlEncode(RandomBytes(32));
  std::string user_code;
  {
    std::lock_guard<std::mutex> l(device_mu_);
    ForgetExpiredDevices(now);
    size_t from_here = 0;
    for (const auto& [k, d] : devices_) from_here += d.address == remote;
    if (devices_.size() >= o.max_pending || from_here >= o.max_pending_per_address) {
      return OAuthError(429, "slow_down", 50196,
                        "Too many device sign-ins are waiting" +
                            std::string(from_here >= o.max_pending_per_address
                                            ? " from this address"
                                            : "") +
                            ". Finish or let expire the ones started, then try again.");
    }
    do {
      user_code = NewUserCode();
    } while (user_codes_.count(user_code));
    const std::string key = Sha256(device_code);
    devices_[key] = PendingDevice{tenant, client_id, user_code, remote, scope,
                                  now + o.lifetime_s * 1000000, "", false};
    user_codes_[user_code] = key;
  }
  const std::string uri = VerificationUri(tenant);
  return OAuthReply{200,
                    Json{{"user_code", DisplayUserCode(user_code)},
                         {"device_code", device_code},
                         {"verification_uri", uri},
                         {"expires_in", o.lifetime_s},
                         {"interval", o.interval_s},
                         {"message", "To sign in, use a web browser to open the page " + uri +
                                         " and enter the code " + DisplayUserCode(user_code) +
                                         " to authenticate."}},
                    Json()};
}

OAuthReply IdentityService::DeviceCodeGrant(const std::string& tenant,
                                            const std::map<std::string, std::string>& form,
                                            const std::string& client_id) {
  const std::string device_code = FormValue(form, "device_code");
  if (device_code.empty()) return MissingField("device_code");
  const int64_t now = MonotonicMicros();
  PendingDevice d;
  {
    std::lock_guard<std::mutex> l(device_mu_);
    auto it = devices_.find(Sha256(device_code));
    if (it == devices_.end() || it->second.tenant != tenant ||
        it->second.client_id != client_id) {
      return OAuthError(400, "invalid_grant", 70000,
                        "The provided value for the input parameter 'device_code' is not valid.");
    }
    if (it->second.expires_us <= now) {
      user_codes_.erase(it->second.user_code);
      devices_.erase(it);
      return OAuthError(400, "expired_token", 70020,
                        "The provided authorization code or refresh token has expired due to "
                        "inactivity. Send a new interactive authorization request.");
    }
    if (it->second.declined) {
      user_codes_.erase(it->second.user_code);
      devices_.erase(it);
      return OAuthError(400, "authorization_declined", 70000,
                        "The user declined the sign-in on the verification page.");
    }
    if (it->second.approved_oid.empty()) {
      return OAuthError(400, "authorization_pending", 70016,
                        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
    }
    d = it->second;  // one use: the tokens are issued once
    user_codes_.erase(it->second.user_code);
    devices_.erase(it);
  }
  std::optional<IdentityRecord> user;
  store_
      ->Read([&](IdentityTxn& t) -> Status {
        TARN_ASSIGN_OR_RETURN(user, t.Get("principal", d.approved_oid));
        return Status::Ok();
      })
      .IgnoreError();
  if (!user || user->parent != tenant) {
    return OAuthError(400, "invalid_grant", 50034, "The user account no longer exists.");
  }
  OAuthReply r = UserTokens(tenant, *user, client_id, d.scope);
  r.audit = Json();  // the sign-in itself was audited on the verification page
  return r;
}

DeviceLoginResult IdentityService::CompleteDeviceCode(const std::string& tenant,
                                                      const std::string& typed_code,
                                                      const std::string& username,
                                                      const std::string& password, bool decline,
                                                      const std::string& remote) {
  const std::string user_code = NormalizeUserCode(typed_code);
  const std::string addr_key = "addr:" + remote;
  // Guessing codes counts against the address, as guessing passwords does.
  if (const int64_t wait = LockedFor(addr_key); wait > 0) {
    return {429,
            "Too many failed attempts from this address. Try again in " + std::to_string(wait) +
                " seconds.",
            Json{{"principal", "upn:" + username}, {"result", "denied"}, {"error", "locked"}}};
  }
  auto find = [&]() -> PendingDevice* {
    auto code = user_codes_.find(user_code);
    if (code == user_codes_.end()) return nullptr;
    auto it = devices_.find(code->second);
    if (it == devices_.end() || it->second.tenant != tenant ||
        it->second.expires_us <= MonotonicMicros() || !it->second.approved_oid.empty() ||
        it->second.declined) {
      return nullptr;
    }
    return &it->second;
  };
  {
    std::lock_guard<std::mutex> l(device_mu_);
    PendingDevice* d = user_code.size() == kUserCodeLength ? find() : nullptr;
    if (!d) {
      SignInFailed(addr_key, opts_.throttle.free_failures_per_address);
      return {400,
              "That code is not valid, has expired or has been used. Check it, or start the "
              "sign-in on your device again for a new one.",
              Json{{"principal", "upn:" + username},
                   {"result", "denied"},
                   {"error", "invalid_user_code"}}};
    }
    if (decline) {
      d->declined = true;
      return {200, "The sign-in was declined. Nothing was signed in.",
              Json{{"principal", "upn:" + username},
                   {"result", "denied"},
                   {"error", "declined"},
                   {"client_id", d->client_id}}};
    }
  }
  if (username.empty() || password.empty() || username.size() > 256 || password.size() > 1024) {
    return {400, "Enter your user name and password.", Json()};
  }
  Checked checked = CheckPassword(tenant, username, password, remote);
  if (!checked.user) {
    const std::string error = checked.refusal.audit.value("error", "invalid_grant");
    return {error == "locked" ? 429 : 400,
            error == "locked" ? "Too many failed sign-in attempts. Wait a while and try again."
                              : "The user name or password is incorrect.",
            checked.refusal.audit};
  }
  std::lock_guard<std::mutex> l(device_mu_);
  PendingDevice* d = find();  // it may have expired or been declined while the hash ran
  if (!d) {
    return {400, "That code is no longer valid. Start the sign-in on your device again.",
            Json{{"principal", "upn:" + username},
                 {"result", "denied"},
                 {"error", "invalid_user_code"}}};
  }
  d->approved_oid = checked.user->id;
  return {200, "You are signed in as " + username + ". You may close this page and return to "
                                                    "your device.",
          Json{{"principal", "upn:" + username},
               {"result", "allowed"},
               {"client_id", d->client_id}}};
}

}  // namespace tarn::identity
