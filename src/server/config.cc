#include "server/config.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace tarn::server {

Status LoadConfigFile(const std::string& path, Config* cfg) {
  std::ifstream in(path);
  if (!in) return Error(Reason::kInvalidInput, "cannot read config file " + path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Reason::kInvalidInput, "config file " + path + " is not a JSON object");
  }
  auto str = [&](const char* k, std::string* out) -> Status {
    if (!j.contains(k)) return Status::Ok();
    if (!j[k].is_string()) return Error(Reason::kInvalidInput, std::string(k) + " must be a string");
    *out = j[k].get<std::string>();
    return Status::Ok();
  };
  TARN_RETURN_IF_ERROR(str("listen", &cfg->listen));
  TARN_RETURN_IF_ERROR(str("data_dir", &cfg->data_dir));
  TARN_RETURN_IF_ERROR(str("log_level", &cfg->log_level));
  TARN_RETURN_IF_ERROR(str("tls_listen", &cfg->tls_listen));
  TARN_RETURN_IF_ERROR(str("tls_cert", &cfg->tls_cert));
  TARN_RETURN_IF_ERROR(str("tls_key", &cfg->tls_key));
  TARN_RETURN_IF_ERROR(str("ca_file", &cfg->ca_file));
  if (j.contains("limits")) {
    const auto& l = j["limits"];
    if (!l.is_object()) return Error(Reason::kInvalidInput, "limits must be an object");
    if (l.contains("max_connections")) cfg->max_connections = l["max_connections"].get<size_t>();
    if (l.contains("header_limit_bytes")) {
      cfg->header_limit_bytes = l["header_limit_bytes"].get<size_t>();
    }
    if (l.contains("idle_timeout_s")) {
      // 0 would mean "wait forever" to the socket timeouts: a stalled peer would hold a thread.
      if (!l["idle_timeout_s"].is_number_integer() || l["idle_timeout_s"].get<int64_t>() < 1 ||
          l["idle_timeout_s"].get<int64_t>() > 86400) {
        return Error(Reason::kInvalidInput,
                     "limits.idle_timeout_s must be a whole number of seconds from 1 to 86400");
      }
      cfg->idle_timeout_s = l["idle_timeout_s"].get<int>();
    }
  }
  if (j.contains("identity")) {
    const auto& id = j["identity"];
    if (!id.is_object()) return Error(Reason::kInvalidInput, "identity must be an object");
    for (auto [name, field] : {std::pair{"token_lifetime_s", &cfg->token_lifetime_s},
                               std::pair{"key_rotation_s", &cfg->key_rotation_s},
                               std::pair{"clock_skew_s", &cfg->clock_skew_s}}) {
      if (!id.contains(name)) continue;
      if (!id[name].is_number_integer() || id[name].get<int64_t>() < 0) {
        return Error(Reason::kInvalidInput,
                     std::string("identity.") + name + " must be a whole number of seconds");
      }
      *field = id[name].get<int64_t>();
    }
    if (cfg->token_lifetime_s < 1 || cfg->key_rotation_s < 1) {
      return Error(Reason::kInvalidInput,
                   "identity.token_lifetime_s and key_rotation_s must be at least 1");
    }
  }
  if (j.contains("accounts")) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      return Error(Reason::kInvalidInput,
                   "config file " + path + " holds account keys but is readable by group or "
                   "others; chmod 600 it");
    }
    if (!j["accounts"].is_array()) return Error(Reason::kInvalidInput, "accounts must be a list");
    for (const auto& a : j["accounts"]) {
      protocol::Account acct;
      if (!a.contains("name") || !a["name"].is_string()) {
        return Error(Reason::kInvalidInput, "every account needs a name");
      }
      acct.name = a["name"].get<std::string>();
      if (acct.name == "workspaces") {
        return Error(Reason::kInvalidInput,
                     "'workspaces' cannot be an account name: /workspaces is the catalog's path");
      }
      if (!a.contains("keys") || !a["keys"].is_array() || a["keys"].empty() ||
          a["keys"].size() > 2) {
        return Error(Reason::kInvalidInput, "account " + acct.name + " needs one or two keys");
      }
      for (const auto& k : a["keys"]) {
        auto d = k.is_string() ? Base64Decode(k.get<std::string>()) : std::nullopt;
        if (!d || d->size() < 16) {
          return Error(Reason::kInvalidInput,
                       "account " + acct.name + " has a key that is not base64 of 16+ bytes");
        }
        acct.keys.push_back(*d);
      }
      cfg->accounts.push_back(std::move(acct));
    }
  }
  return Status::Ok();
}

bool IsLoopbackListen(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host.rfind("127.", 0) == 0 || host == "localhost" ||
         host == "[::1]";
}

Status FinishConfig(Config* cfg) {
  if (cfg->tls_cert.empty() != cfg->tls_key.empty()) {
    return Error(Reason::kInvalidInput, "tls_cert and tls_key must be given together");
  }
  if (cfg->accounts.empty()) {
    cfg->accounts.push_back(protocol::Account{kDevAccount, {*Base64Decode(kDevKey)}});
  }
  const std::string dev = *Base64Decode(kDevKey);
  for (const auto& a : cfg->accounts) {
    for (const auto& k : a.keys) {
      for (const std::string& l : {cfg->listen, cfg->tls_listen}) {
        if (k == dev && l != "off" && !IsLoopbackListen(l)) {
          return Error(Reason::kInvalidInput,
                       "refusing to listen on " + l + " with the well-known development "
                       "key configured (account " + a.name + "); configure your own account "
                       "keys or listen on loopback");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace tarn::server
