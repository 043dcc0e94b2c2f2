#include "cli/connection.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "client/discovery.h"
#include "client/http_connection.h"
#include "common/dev_account.h"
#include "common/encoding.h"

namespace tarn::cli {

StatusOr<client::LakeClientOptions> LakeOptionsFor(const Connection& conn) {
  client::LakeClientOptions o;
  o.account = conn.account;
  o.key_base64 = conn.key;
  if (conn.login) {
    TARN_ASSIGN_OR_RETURN(o.connection, client::TrustingOptions(conn.login->ca_file));
    TARN_ASSIGN_OR_RETURN(o.bearer, client::UserTokens(*conn.login, client::kStorageScope));
  }
  return o;
}

StatusOr<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env,
                                       const std::string& cwd) {
  nlohmann::json config = nlohmann::json::object();
  Connection c;
  std::optional<std::string> path =
      flags.config.empty() ? client::FindConfig(cwd) : std::optional<std::string>(flags.config);
  if (path) {
    std::ifstream in(*path);
    if (!in) return Status(Code::kNotFound, "cannot read " + *path);
    config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object()) {
      return Status(Code::kInvalidArgument, *path + " is not a JSON object");
    }
    c.config_path = *path;
  }
  auto pick = [&](const std::string& flag, const char* var, const char* key) -> std::string {
    if (!flag.empty()) return flag;
    if (auto v = env(var); v && !v->empty()) return *v;
    if (auto it = config.find(key); it != config.end() && it->is_string()) return *it;
    return "";
  };
  c.endpoint = pick(flags.endpoint, "TARN_ENDPOINT", "tarn_endpoint");
  c.account = pick(flags.account, "TARN_ACCOUNT", "account");
  c.workspace = pick(flags.workspace, "TARN_WORKSPACE", "workspace_name");
  std::optional<client::Login> login;
  if (auto k = env("TARN_ACCOUNT_KEY"); k && !k->empty()) {
    c.key = *k;
  } else {
    TARN_ASSIGN_OR_RETURN(login, client::ReadLogin(client::LoginDir(env)));
  }
  if (login && c.endpoint.rfind("https://", 0) != 0) {
    // The kept sign-in's https endpoint stands in for a plain-http one of the same host.
    if (!c.endpoint.empty()) {
      TARN_ASSIGN_OR_RETURN(client::Endpoint given, client::ParseEndpoint(c.endpoint));
      TARN_ASSIGN_OR_RETURN(client::Endpoint kept, client::ParseEndpoint(login->endpoint));
      if (given.host != kept.host) {
        return Status(Code::kUnauthenticated,
                      "the kept sign-in is for " + login->endpoint + ", and the endpoint given "
                      "is " + c.endpoint + ": run `tarn login --endpoint https://" + given.host +
                      ":PORT`, or give that https endpoint");
      }
    }
    c.endpoint = login->endpoint;
  }
  if (c.endpoint.empty()) {
    return Status(Code::kInvalidArgument,
                  "no tarnd endpoint: give --endpoint, set TARN_ENDPOINT, or put \"tarn_endpoint\""
                  " in config.json");
  }
  TARN_ASSIGN_OR_RETURN(client::Endpoint ep, client::ParseEndpoint(c.endpoint));
  if (c.account.empty() && ep.path_prefix.size() > 1) {
    auto a = PercentDecode(std::string_view(ep.path_prefix).substr(1));
    if (a) c.account = *a;
  }
  if (c.account.empty() && login) c.account = login->account;
  if (c.account.empty()) c.account = kDevAccount;
  if (login) {
    c.login = std::move(login);
  } else if (c.key.empty()) {
    auto dev = client::DevelopmentKeyFor(c.endpoint);
    if (!dev) {
      return Status(Code::kUnauthenticated,
                    "not signed in: run `tarn login --endpoint https://HOST:PORT --tenant "
                    "TENANT` (or, as an administrator, set TARN_ACCOUNT_KEY); the development "
                    "key is used only for loopback endpoints, and " + ep.host + " is not one");
    }
    c.key = *dev;
  }
  return c;
}

}  // namespace tarn::cli
