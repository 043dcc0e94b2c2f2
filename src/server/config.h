// tarnd's configuration: command-line flags over an optional JSON config file over defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dev_account.h"
#include "common/status.h"
#include "protocol/context.h"

namespace tarn::server {

struct Config {
  std::string listen = "127.0.0.1:10000";
  std::string data_dir = "./tarn-data";
  std::vector<protocol::Account> accounts;  // empty: the development account
  // Connection limits and deadlines (http::ServerOptions; docs/configuration.md says what each
  // one bounds).
  size_t max_connections = 10000;
  size_t header_limit_bytes = 64 * 1024;
  int idle_timeout_s = 120;
  int head_timeout_s = 30;
  int body_timeout_s = 60;
  int keepalive_linger_ms = 20;
  // The full-disk guard (space::DiskGuard): a reserve file kept for metadata commits, the free
  // space below which new data is refused, and below which metadata writes release the reserve.
  int64_t disk_reserve_mb = 32;
  int64_t disk_min_free_mb = 64;
  int64_t disk_critical_free_mb = 8;
  std::string log_level = "info";
  // HTTPS beside plain HTTP: "off" disables it. The certificate and key default to a
  // self-signed pair made on first start in <data_dir>/tls.
  std::string tls_listen = "127.0.0.1:0";
  std::string tls_cert, tls_key;
  // PEM CAs trusted when tarnd itself reaches other endpoints over https (datastores on another
  // ADLS Gen2 server and their token endpoints); "" trusts the system's store.
  std::string ca_file;
  // Tarn Studio's built files, served at /studio/: "" finds them beside the executable (an
  // install's share/tarn/studio, or the build tree's); "off" serves none.
  std::string studio_dir;
  // Virtual-host addressing, as Azure's endpoints: a request whose Host is
  // <account>.blob.<suffix> or <account>.dfs.<suffix> is for that account, and its path starts
  // with the filesystem. Comma-separated suffixes; "off" serves path-style URLs only.
  std::string host_suffix = "localhost";
  std::vector<std::string> host_suffixes;  // host_suffix parsed by FinishConfig
  // Other servers a copy (Copy Blob, Put Blob/Block From URL) may read its source from, as
  // "https://host[:port]" origins; none by default (copies only within this server). FinishConfig
  // writes each as protocol::UrlOrigin gives it.
  std::vector<std::string> copy_sources;
  // Container soft delete: days a deleted container (filesystem) is kept, restorable with
  // Restore Container, before the retention pass purges it; 0 deletes at once. On Azure the
  // account's management plane sets it; here it holds for every account.
  int64_t container_delete_retention_days = 0;
  // The token service: access-token lifetime, signing-key rotation period, allowed clock skew,
  // and the lifetime of users' refresh tokens.
  int64_t token_lifetime_s = 3600;
  int64_t key_rotation_s = 7 * 24 * 3600;
  int64_t clock_skew_s = 300;
  int64_t refresh_lifetime_s = 90 * 24 * 3600;
  // How often tarnd carries out the zones' retention (zones/retention.h); 0 = never.
  int64_t retention_interval_s = 3600;
  // The local compute target (compute/local_target.h): the OS user runs execute as (required
  // when tarnd runs as root), where their directories and built environments live ("":
  // <data_dir>/runs), the default interpreter, limits, and environment variables every run gets.
  std::string compute_user;
  std::string compute_work_dir;
  std::string compute_python = "/usr/bin/python3";
  int compute_max_concurrent = 2;
  int64_t compute_max_run_s = 24 * 3600;
  int64_t compute_max_memory_mb = 16384;
  int64_t compute_max_processes = 1024;
  std::vector<std::string> compute_env;  // "NAME=value"
  int compute_run_uid_first = 0, compute_run_uid_last = 0;  // "run_uids": "first-last"
  // A Slurm cluster as a compute target (compute/slurm_target.h), when slurm_enabled.
  bool slurm_enabled = false;
  std::string slurm_name = "slurm", slurm_user, slurm_conf, slurm_partition, slurm_bin_dir;
  int slurm_max_concurrent = 64;
  int64_t slurm_max_run_s = 24 * 3600;
};

// Reads a JSON config file:
//   {"listen": "...", "data_dir": "...", "log_level": "info",
//    "tls_listen": "127.0.0.1:0" | "off", "tls_cert": "cert.pem", "tls_key": "key.pem",
//    "ca_file": "trusted-cas.pem", "studio_dir": "/usr/share/tarn/studio" | "off",
//    "host_suffix": "localhost" | "lake.example.com,localhost" | "off",
//    "copy_sources": ["https://lake2.example.com", "https://127.0.0.1:10001"],
//    "container_delete_retention_days": 7,
//    "accounts": [{"name": "acct", "keys": ["<base64>", "<base64>"]}],
//    "limits": {"max_connections": 10000, "header_limit_bytes": 65536, "idle_timeout_s": 120,
//               "head_timeout_s": 30, "body_timeout_s": 60, "keepalive_linger_ms": 20,
//               "disk_reserve_mb": 32, "disk_min_free_mb": 64, "disk_critical_free_mb": 8},
//    "identity": {"token_lifetime_s": 3600, "key_rotation_s": 604800, "clock_skew_s": 300,
//                 "refresh_lifetime_s": 7776000},
//    "zones": {"retention_interval_s": 3600},
//    "compute": {"local": {"user": "tarnrun", "work_dir": "/var/lib/tarn-runs",
//                          "python": "/usr/bin/python3", "max_concurrent": 2,
//                          "max_run_s": 86400, "max_memory_mb": 16384, "max_processes": 1024,
//                          "environment": {"PYTHONPATH": "/opt/tarn/python"}},
//                "slurm": {"name": "slurm", "user": "tarnrun", "slurm_conf": "/etc/slurm/slurm.conf",
//                          "partition": "debug", "bin_dir": "/usr/bin", "max_concurrent": 64,
//                          "max_run_s": 86400}}}
// A file that holds account keys must not be readable by group or others.
Status LoadConfigFile(const std::string& path, Config* cfg);

// Fills in the development account when none is configured, and refuses unsafe settings: the
// well-known development key on a listen address other than loopback.
Status FinishConfig(Config* cfg);

bool IsLoopbackListen(const std::string& listen);

}  // namespace tarn::server
