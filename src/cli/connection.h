// Where the tarn CLI connects, and as whom: flags over environment over config.json.
//
//   endpoint   --endpoint, TARN_ENDPOINT, config.json "tarn_endpoint" ("http://host:port" or
//              "http://host:port/<account>")
//   account    --account, TARN_ACCOUNT, config.json "account", the endpoint's path, or
//              devstoreaccount1
//   as whom    TARN_ACCOUNT_KEY (an administrator's path, used only when given); else the
//              sign-in `tarn login` keeps ($TARN_HOME or ~/.tarn/login.json), whose https
//              endpoint is used unless an https one is given; else, for a loopback endpoint
//              only, the development key
//   workspace  --workspace, TARN_WORKSPACE, config.json "workspace_name"
//
// config.json is looked up as the Python SDK's Workspace.from_config does, by the same code
// (client/discovery.h): in the directory, its .azureml/ and aml_config/, then each parent.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "client/lake_client.h"
#include "client/login_cache.h"
#include "common/status.h"

namespace tarn::cli {

struct ConnectionFlags {
  std::string endpoint, account, workspace, config;  // "" = not given
};

struct Connection {
  std::string endpoint;
  std::string account;
  std::string key;                    // "" when signed in
  std::optional<client::Login> login;  // the sign-in used, when no key is
  std::string workspace;    // "" when none was found
  std::string config_path;  // the config.json used, if any
};

// How the CLI reaches the lake as the connection's caller: the account key, or the sign-in's
// storage tokens over its trusted https endpoint.
StatusOr<client::LakeClientOptions> LakeOptionsFor(const Connection& conn);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
StatusOr<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env,
                                       const std::string& cwd);

}  // namespace tarn::cli
