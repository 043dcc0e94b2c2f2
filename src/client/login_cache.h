// The sign-in `tarn login` keeps, for the CLI and the Python SDK: ~/.tarn/login.json (or
// $TARN_HOME/login.json), and the credentials built from it.
//
// Contract
// - The directory is made 0700 and the file 0600, written whole to a temporary file and
//   renamed over the old one, so a crash leaves the old login or the new one, never half.
// - A login file that group or others may read is refused, as ssh refuses such keys: it holds
//   a refresh token, which stands for the user until it expires or the password changes.
// - It never holds a password or an access token.
//
//   TARN_ASSIGN_OR_RETURN(auto login, ReadLogin(LoginDir(env)));
//   if (login) TARN_ASSIGN_OR_RETURN(auto tokens, UserTokens(*login, kWorkspaceScope));
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/http_connection.h"
#include "client/oauth_token.h"
#include "common/status.h"

namespace tarn::client {

struct Login {
  std::string endpoint;   // tarnd's https URL ("https://host:port")
  std::string authority;  // its token service (normally the same URL)
  std::string tenant;
  std::string client_id = kPublicClientId;
  std::string username;
  std::string refresh_token;
  std::string ca_file;  // CA certificates (PEM) to trust for both; "" = the system's
  std::string account;  // the storage account, "" = the server's default
};

using EnvGet = std::function<std::optional<std::string>(const std::string&)>;

// $TARN_HOME, else $HOME/.tarn; "" when neither is set.
std::string LoginDir(const EnvGet& env);
StatusOr<std::optional<Login>> ReadLogin(const std::string& dir);
// The file's text, and back; `path` names the file in errors. ParseLogin needs the endpoint,
// authority, tenant and refresh token (kFailedPrecondition otherwise: sign in again).
StatusOr<Login> ParseLogin(std::string_view text, const std::string& path);
std::string FormatLogin(const Login& login);
Status WriteLogin(const std::string& dir, const Login& login);
// Whether there was a login to remove.
StatusOr<bool> RemoveLogin(const std::string& dir);

// Connection options trusting ca_file ("" = the system's trust store).
StatusOr<ConnectionOptions> TrustingOptions(const std::string& ca_file);
// Tokens for `scope` from the login's refresh token.
StatusOr<std::shared_ptr<TokenSource>> UserTokens(const Login& login, const std::string& scope);

}  // namespace tarn::client
