// TokenSource: OAuth 2.0 client-credentials access tokens from a token endpoint shaped like the
// Microsoft identity platform's v2 one (tarnd's own, or login.microsoftonline.com), for clients
// that call storage with a service principal's bearer token.
//
// Contract
// - Token() returns a cached token while it has more than kRefreshMargin of life left, and
//   otherwise POSTs grant_type=client_credentials to
//   <authority>/<tenant>/oauth2/v2.0/token over https (http is refused: the secret travels).
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

class TokenSource {
 public:
  static constexpr std::chrono::seconds kRefreshMargin{300};

  static StatusOr<std::unique_ptr<TokenSource>> Create(ClientCredentials creds,
                                                       ConnectionOptions opts);
  StatusOr<std::string> Token();

  // The token endpoint's URL, for messages.
  const std::string& token_url() const { return token_url_; }

 private:
  TokenSource(ClientCredentials creds, Endpoint ep, ConnectionOptions opts);
  StatusOr<std::string> Fetch();

  ClientCredentials creds_;
  Endpoint ep_;
  ConnectionOptions opts_;
  std::string token_path_;  // origin-form: the request target
  std::string token_url_;   // the same, with the origin, for messages
  std::mutex mu_;
  std::string token_;                                // guarded by mu_
  std::chrono::steady_clock::time_point refresh_at_;  // guarded by mu_
};

}  // namespace tarn::client
