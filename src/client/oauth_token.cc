#include "client/oauth_token.h"

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "client/lake_client.h"
#include "common/encoding.h"

namespace tarn::client {
namespace {

using Json = nlohmann::json;

StatusOr<Endpoint> HttpsAuthority(const std::string& authority, const char* what) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(authority));
  if (!ep.tls) {
    return Status(Code::kInvalidArgument,
                  "the authority " + authority + " is not https; " + what + " only over TLS");
  }
  return ep;
}

std::string TenantPath(const Endpoint& ep, const std::string& tenant, const char* tail) {
  return ep.path_prefix + "/" + PercentEncode(tenant) + tail;
}

int64_t IntField(const Json& body, const char* key, int64_t otherwise) {
  auto it = body.find(key);
  if (it == body.end()) return otherwise;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return std::atoll(it->get<std::string>().c_str());
  return otherwise;
}

std::string TextField(const Json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An answer of the token service: its HTTP status and JSON body.
struct Answer {
  int status = 0;
  Json body;
};

StatusOr<Answer> PostForm(const Endpoint& ep, const std::string& path, const std::string& form,
                          const ConnectionOptions& opts) {
  Request req;
  req.method = "POST";
  req.target = path;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = form;
  HttpClient http(ep, opts);
  auto r = http.Send(req);
  if (!r.ok()) {
    return Status(r.status().code(), "cannot reach the token service at " + ep.Origin() + path +
                                         ": " + r.status().message());
  }
  Json body = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    if (r->status == 200) {
      return Status(Code::kInternal, "the token service at " + ep.Origin() + path +
                                         " answered with a body that is not JSON");
    }
    body = Json{{"error", "http_" + std::to_string(r->status)},
                {"error_description", BodyExcerpt(r->body)}};
  }
  return Answer{r->status, std::move(body)};
}

// The service's own words for a refusal: the description without the trace lines.
std::string Why(const Json& body) {
  std::string why = TextField(body, "error_description");
  if (why.empty()) why = TextField(body, "error");
  if (size_t cut = why.find("\r\n"); cut != std::string::npos) why.resize(cut);
  return why;
}

Status Refusal(const Answer& a, const std::string& what) {
  Code code = a.status == 400 || a.status == 401 ? Code::kPermissionDenied
                                                  : CodeForHttp(a.status, "");
  return Status(code, what + " was refused (HTTP " + std::to_string(a.status) + "): " + Why(a.body));
}

StatusOr<TokenSet> Tokens(const Answer& a, const std::string& what) {
  if (a.status != 200) return Refusal(a, what);
  TokenSet t;
  t.access_token = TextField(a.body, "access_token");
  if (t.access_token.empty()) {
    return Status(Code::kInternal, what + ": the answer has no access_token");
  }
  t.refresh_token = TextField(a.body, "refresh_token");
  t.expires_in = IntField(a.body, "expires_in", 0);
  // The id_token's payload names the user (it was received over TLS from the authority).
  const std::string id = TextField(a.body, "id_token");
  size_t dot1 = id.find('.'), dot2 = id.find('.', dot1 + 1);
  if (dot1 != std::string::npos && dot2 != std::string::npos) {
    if (auto payload = Base64UrlDecode(std::string_view(id).substr(dot1 + 1, dot2 - dot1 - 1))) {
      Json claims = Json::parse(*payload, nullptr, false);
      if (claims.is_object()) t.username = TextField(claims, "preferred_username");
    }
  }
  return t;
}

std::string UserScope(const std::string& scope) { return scope + " openid offline_access"; }

}  // namespace

StatusOr<std::unique_ptr<TokenSource>> TokenSource::Create(ClientCredentials creds,
                                                           ConnectionOptions opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, HttpsAuthority(creds.authority, "a client secret is sent"));
  if (creds.tenant.empty() || creds.client_id.empty() || creds.client_secret.empty()) {
    return Status(Code::kInvalidArgument,
                  "a service principal needs a tenant, a client id and a client secret");
  }
  return std::unique_ptr<TokenSource>(new TokenSource(std::move(creds), std::move(ep), opts));
}

StatusOr<std::unique_ptr<TokenSource>> TokenSource::Create(UserRefresh user,
                                                           ConnectionOptions opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, HttpsAuthority(user.authority, "a refresh token is sent"));
  if (user.tenant.empty() || user.refresh_token.empty()) {
    return Status(Code::kInvalidArgument, "a signed-in user needs a tenant and a refresh token");
  }
  ClientCredentials c{user.authority, user.tenant, user.client_id, user.refresh_token, user.scope};
  std::unique_ptr<TokenSource> s(new TokenSource(std::move(c), std::move(ep), opts));
  s->user_ = true;
  return s;
}

TokenSource::TokenSource(ClientCredentials creds, Endpoint ep, ConnectionOptions opts)
    : creds_(std::move(creds)), ep_(std::move(ep)), opts_(std::move(opts)) {
  token_path_ = TenantPath(ep_, creds_.tenant, "/oauth2/v2.0/token");
  token_url_ = ep_.Origin() + token_path_;
}

StatusOr<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.empty() && std::chrono::steady_clock::now() < refresh_at_) return token_;
  return Fetch();
}

StatusOr<std::string> TokenSource::Fetch() {
  const auto asked = std::chrono::steady_clock::now();
  // A user's refresh token stays the one the login cache holds: tarnd's refresh tokens are
  // not single-use, so the renewed one in the answer need not be kept.
  std::string form = user_ ? "grant_type=refresh_token&refresh_token="
                           : "grant_type=client_credentials&client_secret=";
  form += PercentEncode(creds_.client_secret) + "&client_id=" + PercentEncode(creds_.client_id) +
          "&scope=" + PercentEncode(creds_.scope);
  TARN_ASSIGN_OR_RETURN(Answer a, PostForm(ep_, token_path_, form, opts_));
  if (a.status != 200) {
    if (user_) {
      return Status(Code::kUnauthenticated,
                    "the sign-in kept by `tarn login` is no longer accepted by " + token_url_ +
                        " (" + Why(a.body) + "); sign in again with `tarn login`");
    }
    return Refusal(a, "the token endpoint " + token_url_ + ": client '" + creds_.client_id + "'");
  }
  TARN_ASSIGN_OR_RETURN(TokenSet t, Tokens(a, "the token endpoint " + token_url_));
  token_ = t.access_token;
  // A token shorter-lived than the margin is used once and fetched again next time.
  refresh_at_ = asked + std::chrono::seconds(t.expires_in) - kRefreshMargin;
  return token_;
}

StatusOr<DeviceCodeFlow> StartDeviceCode(const std::string& authority, const std::string& tenant,
                                         const std::string& client_id, const std::string& scope,
                                         const ConnectionOptions& opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, HttpsAuthority(authority, "sign-ins go"));
  const std::string path = TenantPath(ep, tenant, "/oauth2/v2.0/devicecode");
  TARN_ASSIGN_OR_RETURN(
      Answer a, PostForm(ep, path,
                         "client_id=" + PercentEncode(client_id) +
                             "&scope=" + PercentEncode(UserScope(scope)),
                         opts));
  if (a.status != 200) return Refusal(a, "starting a device sign-in at " + ep.Origin() + path);
  DeviceCodeFlow f;
  f.device_code = TextField(a.body, "device_code");
  f.user_code = TextField(a.body, "user_code");
  f.verification_uri = TextField(a.body, "verification_uri");
  f.message = TextField(a.body, "message");
  f.expires_in = IntField(a.body, "expires_in", 900);
  f.interval = std::max<int64_t>(1, IntField(a.body, "interval", 5));
  if (f.device_code.empty() || f.user_code.empty() || f.verification_uri.empty()) {
    return Status(Code::kInternal, "the device code answer from " + ep.Origin() + path +
                                       " lacks device_code, user_code or verification_uri");
  }
  return f;
}

StatusOr<TokenSet> FinishDeviceCode(const std::string& authority, const std::string& tenant,
                                    const std::string& client_id, const DeviceCodeFlow& flow,
                                    const ConnectionOptions& opts,
                                    const std::function<bool()>& keep_waiting) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, HttpsAuthority(authority, "sign-ins go"));
  const std::string path = TenantPath(ep, tenant, "/oauth2/v2.0/token");
  const std::string form =
      "grant_type=" + PercentEncode("urn:ietf:params:oauth:grant-type:device_code") +
      "&client_id=" + PercentEncode(client_id) + "&device_code=" + PercentEncode(flow.device_code);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flow.expires_in);
  int64_t interval = flow.interval;
  for (;;) {
    TARN_ASSIGN_OR_RETURN(Answer a, PostForm(ep, path, form, opts));
    const std::string error = TextField(a.body, "error");
    if (a.status == 200 || (error != "authorization_pending" && error != "slow_down")) {
      return Tokens(a, "the device sign-in");
    }
    if (error == "slow_down") interval += 5;
    for (int64_t i = 0; i < interval * 10; ++i) {  // wait, answering a cancel within 0.1 s
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status(Code::kPermissionDenied,
                      "the code expired before the sign-in was completed; run it again");
      }
      if (keep_waiting && !keep_waiting()) {
        return Status(Code::kFailedPrecondition, "the device sign-in was cancelled");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

StatusOr<TokenSet> SignInWithPassword(const std::string& authority, const std::string& tenant,
                                      const std::string& client_id, const std::string& username,
                                      const std::string& password, const std::string& scope,
                                      const ConnectionOptions& opts) {
  TARN_ASSIGN_OR_RETURN(Endpoint ep, HttpsAuthority(authority, "passwords are sent"));
  const std::string path = TenantPath(ep, tenant, "/oauth2/v2.0/token");
  TARN_ASSIGN_OR_RETURN(
      Answer a, PostForm(ep, path,
                         "grant_type=password&client_id=" + PercentEncode(client_id) +
                             "&username=" + PercentEncode(username) +
                             "&password=" + PercentEncode(password) +
                             "&scope=" + PercentEncode(UserScope(scope)),
                         opts));
  TARN_ASSIGN_OR_RETURN(TokenSet t, Tokens(a, "signing in as " + username));
  if (t.username.empty()) t.username = username;
  return t;
}

}  // namespace tarn::client
