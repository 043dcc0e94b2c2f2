// TokenSource: OAuth 2.0 access tokens from a token endpoint shaped like the Microsoft identity
// platform's v2 one (tarnd's own, or login.microsoftonline.com), for clients that call tarnd
// with a bearer token: a service principal's (client credentials) or a signed-in user's (a
// refresh token, from `tarn login`). And the sign-ins that give a user a refresh token: the
// device code flow and the password grant.
//
// Contract
// - Token() returns a cached token while it has more than kRefreshMargin of life left, and
//   otherwise POSTs grant_type=client_credentials (or refresh_token) to
//   <authority>/<tenant>/oauth2/v2.0/token over https (http is refused: secrets travel).
// - Thread-safe: one request at a time refreshes; callers meanwhile wait for it.
// - A refusal becomes kPermissionDenied (400/401: bad secret, unknown client or tenant, bad
//   scope) naming the endpoint, the client id and the service's error_description; transport
//   failures are kUnavailable. The secret appears in no message.
//
//   ClientCredentials c{"https://127.0.0.1:10001", tenant, client_id, secret,
//                       "https://storage.azure.com/.default"};
//   TARN_ASSIGN_OR_RETURN(auto tokens, TokenSource::Create(c, {}));
//   TARN_ASSIGN_OR_RETURN(std::string bearer, tokens->Token());
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "client/http_connection.h"
#include "common/status.h"

namespace tarn::client {

struct ClientCredentials {
  std::string authority;  // "https://host[:port][/prefix]"; the tenant follows it in the path
  std::string tenant;
  std::string client_id;
  std::string client_secret;
  std::string scope = "https://storage.azure.com/.default";
};

// The public client users sign in with (tarnd knows it in every tenant; so does Azure).
inline constexpr char kPublicClientId[] = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
inline constexpr char kStorageScope[] = "https://storage.azure.com/.default";
inline constexpr char kWorkspaceScope[] = "https://management.azure.com/.default";
// Experiment tracking (tarnd's MLflow API, /workspaces/<ws>/mlflow).
inline constexpr char kTrackingScope[] = "https://ml.azure.com/.default";

// A signed-in user: a refresh token, good for access tokens to any of tarnd's APIs.
struct UserRefresh {
  std::string authority;
  std::string tenant;
  std::string client_id = kPublicClientId;
  std::string refresh_token;
  std::string scope = kStorageScope;  // what the access tokens are for
};

// The answer to a sign-in.
struct TokenSet {
  std::string access_token, refresh_token;
  int64_t expires_in = 0;
  std::string username;  // the id_token's preferred_username, when there is one
};

// The first half of the device code flow: what to show the user.
struct DeviceCodeFlow {
  std::string device_code, user_code, verification_uri, message;
  int64_t expires_in = 900, interval = 5;  // seconds
};

class TokenSource {
 public:
  static constexpr std::chrono::seconds kRefreshMargin{300};

  static StatusOr<std::unique_ptr<TokenSource>> Create(ClientCredentials creds,
                                                       ConnectionOptions opts);
  static StatusOr<std::unique_ptr<TokenSource>> Create(UserRefresh user, ConnectionOptions opts);
  StatusOr<std::string> Token();

  // The token endpoint's URL, for messages.
  const std::string& token_url() const { return token_url_; }

 private:
  TokenSource(ClientCredentials creds, Endpoint ep, ConnectionOptions opts);
  StatusOr<std::string> Fetch();

  bool user_ = false;  // creds_.client_secret holds a user's refresh token
  ClientCredentials creds_;
  Endpoint ep_;
  ConnectionOptions opts_;
  std::string token_path_;  // origin-form: the request target
  std::string token_url_;   // the same, with the origin, for messages
  std::mutex mu_;
  std::string token_;                                // guarded by mu_
  std::chrono::steady_clock::time_point refresh_at_;  // guarded by mu_
};

// Sign-ins of users (public client; the authority must be https). Each asks for
// `scope` plus openid and offline_access, so that the answer carries a refresh token.
StatusOr<DeviceCodeFlow> StartDeviceCode(const std::string& authority, const std::string& tenant,
                                         const std::string& client_id, const std::string& scope,
                                         const ConnectionOptions& opts);
// Polls until the user has completed (or declined) the sign-in on the verification page, the
// code expires, or keep_waiting() returns false (kFailedPrecondition).
StatusOr<TokenSet> FinishDeviceCode(const std::string& authority, const std::string& tenant,
                                    const std::string& client_id, const DeviceCodeFlow& flow,
                                    const ConnectionOptions& opts,
                                    const std::function<bool()>& keep_waiting);
StatusOr<TokenSet> SignInWithPassword(const std::string& authority, const std::string& tenant,
                                      const std::string& client_id, const std::string& username,
                                      const std::string& password, const std::string& scope,
                                      const ConnectionOptions& opts);

}  // namespace tarn::client
