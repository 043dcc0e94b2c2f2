#include "server/config.h"

#include "common/strings.h"
#include "protocol/router.h"

#include <sys/stat.h>

#include <fstream>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/strings.h"

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
  TARN_RETURN_IF_ERROR(str("studio_dir", &cfg->studio_dir));
  TARN_RETURN_IF_ERROR(str("host_suffix", &cfg->host_suffix));
  if (j.contains("container_delete_retention_days")) {
    const auto& d = j["container_delete_retention_days"];
    if (!d.is_number_integer()) {
      return Error(Reason::kInvalidInput,
                   "container_delete_retention_days must be a whole number of days");
    }
    cfg->container_delete_retention_days = d.get<int64_t>();
  }
  if (j.contains("copy_sources")) {
    const auto& cs = j["copy_sources"];
    if (!cs.is_array()) {
      return Error(Reason::kInvalidInput, "copy_sources must be an array of URLs");
    }
    for (const auto& v : cs) {
      if (!v.is_string()) return Error(Reason::kInvalidInput, "copy_sources holds only URLs");
      cfg->copy_sources.push_back(v.get<std::string>());
    }
  }
  if (j.contains("limits")) {
    const auto& l = j["limits"];
    if (!l.is_object()) return Error(Reason::kInvalidInput, "limits must be an object");
    // A whole number within [lo, hi], or a refusal naming the key: 0 seconds would make a socket
    // timeout wait forever, so that a stalled peer would hold a thread.
    auto whole = [&](const char* k, int64_t lo, int64_t hi, const char* unit,
                     auto* out) -> Status {
      if (!l.contains(k)) return Status::Ok();
      if (!l[k].is_number_integer() || l[k].get<int64_t>() < lo || l[k].get<int64_t>() > hi) {
        return Error(Reason::kInvalidInput, std::string("limits.") + k +
                                                " must be a whole number of " + unit + " from " +
                                                std::to_string(lo) + " to " + std::to_string(hi));
      }
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(l[k].get<int64_t>());
      return Status::Ok();
    };
    TARN_RETURN_IF_ERROR(whole("max_connections", 1, 1'000'000, "connections",
                               &cfg->max_connections));
    TARN_RETURN_IF_ERROR(whole("header_limit_bytes", 1024, 16 << 20, "bytes",
                               &cfg->header_limit_bytes));
    TARN_RETURN_IF_ERROR(whole("idle_timeout_s", 1, 86400, "seconds", &cfg->idle_timeout_s));
    TARN_RETURN_IF_ERROR(whole("head_timeout_s", 1, 86400, "seconds", &cfg->head_timeout_s));
    TARN_RETURN_IF_ERROR(whole("body_timeout_s", 1, 86400, "seconds", &cfg->body_timeout_s));
    TARN_RETURN_IF_ERROR(whole("keepalive_linger_ms", 0, 1000, "milliseconds",
                               &cfg->keepalive_linger_ms));
    TARN_RETURN_IF_ERROR(whole("disk_reserve_mb", 0, 1 << 20, "MiB", &cfg->disk_reserve_mb));
    TARN_RETURN_IF_ERROR(whole("disk_min_free_mb", 0, 1 << 20, "MiB", &cfg->disk_min_free_mb));
    TARN_RETURN_IF_ERROR(
        whole("disk_critical_free_mb", 0, 1 << 20, "MiB", &cfg->disk_critical_free_mb));
  }
  if (j.contains("identity")) {
    const auto& id = j["identity"];
    if (!id.is_object()) return Error(Reason::kInvalidInput, "identity must be an object");
    for (auto [name, field] : {std::pair{"token_lifetime_s", &cfg->token_lifetime_s},
                               std::pair{"key_rotation_s", &cfg->key_rotation_s},
                               std::pair{"clock_skew_s", &cfg->clock_skew_s},
                               std::pair{"refresh_lifetime_s", &cfg->refresh_lifetime_s}}) {
      if (!id.contains(name)) continue;
      if (!id[name].is_number_integer() || id[name].get<int64_t>() < 0) {
        return Error(Reason::kInvalidInput,
                     std::string("identity.") + name + " must be a whole number of seconds");
      }
      *field = id[name].get<int64_t>();
    }
    if (cfg->token_lifetime_s < 1 || cfg->key_rotation_s < 1 || cfg->refresh_lifetime_s < 1) {
      return Error(Reason::kInvalidInput,
                   "identity.token_lifetime_s, key_rotation_s and refresh_lifetime_s must be at "
                   "least 1");
    }
  }
  if (j.contains("zones")) {
    const auto& z = j["zones"];
    if (!z.is_object()) return Error(Reason::kInvalidInput, "zones must be an object");
    if (z.contains("retention_interval_s")) {
      if (!z["retention_interval_s"].is_number_integer() ||
          z["retention_interval_s"].get<int64_t>() < 0) {
        return Error(Reason::kInvalidInput,
                     "zones.retention_interval_s must be a whole number of seconds (0: never)");
      }
      cfg->retention_interval_s = z["retention_interval_s"].get<int64_t>();
    }
  }
  if (j.contains("compute")) {
    const auto& cm = j["compute"];
    if (!cm.is_object()) return Error(Reason::kInvalidInput, "compute must be an object");
    for (const auto& [name, v] : cm.items()) {
      if (name != "local" && name != "slurm") {
        return Error(Reason::kInvalidInput, "compute." + name + ": the compute targets are "
                                            "'local' and 'slurm'");
      }
    }
    if (cm.contains("slurm")) {
      const auto& sl = cm["slurm"];
      if (!sl.is_object()) return Error(Reason::kInvalidInput, "compute.slurm must be an object");
      cfg->slurm_enabled = true;
      for (auto [name, field] : {std::pair{"name", &cfg->slurm_name},
                                 std::pair{"user", &cfg->slurm_user},
                                 std::pair{"slurm_conf", &cfg->slurm_conf},
                                 std::pair{"partition", &cfg->slurm_partition},
                                 std::pair{"bin_dir", &cfg->slurm_bin_dir}}) {
        if (!sl.contains(name)) continue;
        if (!sl[name].is_string()) {
          return Error(Reason::kInvalidInput,
                       std::string("compute.slurm.") + name + " must be a string");
        }
        *field = sl[name].get<std::string>();
      }
      if (cfg->slurm_name.empty() || cfg->slurm_name == "local") {
        return Error(Reason::kInvalidInput, "compute.slurm.name must be a name other than local");
      }
      if (sl.contains("max_concurrent")) {
        if (!sl["max_concurrent"].is_number_integer() || sl["max_concurrent"].get<int64_t>() < 1 ||
            sl["max_concurrent"].get<int64_t>() > 100000) {
          return Error(Reason::kInvalidInput, "compute.slurm.max_concurrent must be 1 to 100000");
        }
        cfg->slurm_max_concurrent = sl["max_concurrent"].get<int>();
      }
      if (sl.contains("max_run_s")) {
        if (!sl["max_run_s"].is_number_integer() || sl["max_run_s"].get<int64_t>() < 60) {
          return Error(Reason::kInvalidInput,
                       "compute.slurm.max_run_s must be a whole number of seconds, at least 60");
        }
        cfg->slurm_max_run_s = sl["max_run_s"].get<int64_t>();
      }
    }
    const auto& l = cm.contains("local") ? cm["local"] : nlohmann::json::object();
    if (!l.is_object()) return Error(Reason::kInvalidInput, "compute.local must be an object");
    for (auto [name, field] : {std::pair{"user", &cfg->compute_user},
                               std::pair{"work_dir", &cfg->compute_work_dir},
                               std::pair{"python", &cfg->compute_python}}) {
      if (!l.contains(name)) continue;
      if (!l[name].is_string()) {
        return Error(Reason::kInvalidInput, std::string("compute.local.") + name +
                                                " must be a string");
      }
      *field = l[name].get<std::string>();
    }
    for (auto [name, field] : {std::pair{"max_run_s", &cfg->compute_max_run_s},
                               std::pair{"max_memory_mb", &cfg->compute_max_memory_mb},
                               std::pair{"max_processes", &cfg->compute_max_processes}}) {
      if (!l.contains(name)) continue;
      if (!l[name].is_number_integer() || l[name].get<int64_t>() < 0) {
        return Error(Reason::kInvalidInput,
                     std::string("compute.local.") + name + " must be a whole number");
      }
      *field = l[name].get<int64_t>();
    }
    if (l.contains("max_concurrent")) {
      if (!l["max_concurrent"].is_number_integer() || l["max_concurrent"].get<int64_t>() < 1 ||
          l["max_concurrent"].get<int64_t>() > 1024) {
        return Error(Reason::kInvalidInput, "compute.local.max_concurrent must be 1 to 1024");
      }
      cfg->compute_max_concurrent = l["max_concurrent"].get<int>();
    }
    if (l.contains("run_uids")) {
      const auto& r = l["run_uids"];
      int64_t first = 0, last = 0;
      const std::string text = r.is_string() ? r.get<std::string>() : "";
      const size_t dash = text.find('-');
      if (dash == std::string::npos || !ParseInt64(text.substr(0, dash), &first) ||
          !ParseInt64(text.substr(dash + 1), &last) || first < 1000 || last < first ||
          last > 2000000000) {
        return Error(Reason::kInvalidInput,
                     "compute.local.run_uids must be a range \"first-last\" of unused uids of "
                     "at least 1000, such as \"200000-209999\"");
      }
      cfg->compute_run_uid_first = static_cast<int>(first);
      cfg->compute_run_uid_last = static_cast<int>(last);
    }
    if (l.contains("environment")) {
      if (!l["environment"].is_object()) {
        return Error(Reason::kInvalidInput,
                     "compute.local.environment must be an object of strings");
      }
      for (const auto& [name, v] : l["environment"].items()) {
        if (!v.is_string() || name.empty() || name.find('=') != std::string::npos) {
          return Error(Reason::kInvalidInput, "compute.local.environment." + name +
                                                  " must be a string, its name without '='");
        }
        cfg->compute_env.push_back(name + "=" + v.get<std::string>());
      }
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
      // The first path segment chooses the front: these name the directory and the catalog.
      if (acct.name == "identity" || acct.name == "workspaces") {
        return Error(Reason::kInvalidInput, "the account name '" + acct.name +
                                                "' is reserved (the path /" + acct.name +
                                                " is tarnd's own API); choose another");
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
  cfg->host_suffixes.clear();
  if (cfg->host_suffix != "off") {
    for (auto part : Split(cfg->host_suffix, ',')) {
      std::string suffix = ToLower(Trim(part));
      bool ok = !suffix.empty() && suffix.front() != '.' && suffix.back() != '.' &&
                suffix.find("..") == std::string::npos;
      for (char ch : suffix) {
        ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.');
      }
      if (!ok) {
        return Error(Reason::kInvalidInput,
                     "host_suffix: '" + std::string(part) + "' is not a DNS name (letters, "
                     "digits, '-' and '.'); give e.g. localhost or lake.example.com, or 'off'");
      }
      cfg->host_suffixes.push_back(std::move(suffix));
    }
  }
  if (cfg->container_delete_retention_days < 0 || cfg->container_delete_retention_days > 365) {
    return Error(Reason::kInvalidInput,
                 "container_delete_retention_days must be from 0 (off) to 365, as on Azure");
  }
  for (std::string& source : cfg->copy_sources) {
    std::string_view rest = source;
    if (const size_t s = rest.find("://"); s != std::string_view::npos) rest.remove_prefix(s + 3);
    const std::string_view after = rest.substr(std::min(rest.size(), rest.find_first_of("/?#")));
    const std::optional<std::string> origin = protocol::UrlOrigin(source);
    if (!origin || (!after.empty() && after != "/")) {
      return Error(Reason::kInvalidInput,
                   "copy_sources: '" + source + "' is not the origin of a server: give "
                   "https://host or https://host:port, with no path");
    }
    source = *origin;
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
