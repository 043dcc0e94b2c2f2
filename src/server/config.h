// tarnd's configuration: command-line flags over an optional JSON config file over defaults.
#pragma once

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
  size_t max_connections = 1024;
  size_t header_limit_bytes = 64 * 1024;
  int idle_timeout_s = 120;
  std::string log_level = "info";
};

// Reads a JSON config file:
//   {"listen": "...", "data_dir": "...", "log_level": "info",
//    "accounts": [{"name": "acct", "keys": ["<base64>", "<base64>"]}],
//    "limits": {"max_connections": 1024, "header_limit_bytes": 65536, "idle_timeout_s": 120}}
// A file that holds account keys must not be readable by group or others.
Status LoadConfigFile(const std::string& path, Config* cfg);

// Fills in the development account when none is configured, and refuses unsafe settings: the
// well-known development key on a listen address other than loopback.
Status FinishConfig(Config* cfg);

bool IsLoopbackListen(const std::string& listen);

}  // namespace tarn::server
