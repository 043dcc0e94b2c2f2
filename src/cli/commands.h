// What the tarn CLI's command groups share: the parsed global options and the connection,
// how a command is registered, exit codes and printing. Each group adds its subcommands with
// an Add...Commands(app, g, run) function; tarn_main.cc wires them up.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/connection.h"
#include "client/catalog_client.h"
#include "common/status.h"

namespace tarn::cli {

struct Globals {
  ConnectionFlags flags;
  bool json = false;
  // Set by commands that do not talk to the catalog with a resolved connection (login,
  // logout): Main then leaves `catalog` and `conn` empty.
  bool standalone = false;
  std::unique_ptr<client::CatalogClient> catalog;
  Connection conn;
};

// Makes `fn` the command to run when the subcommand is chosen.
inline void OnRun(CLI::App* sub, std::function<Status()>& run, std::function<Status()> fn) {
  sub->callback([&run, fn = std::move(fn)] { run = fn; });
}

// 0 success, 1 failure, 2 bad usage, 3 not found, 4 conflict, 5 refused (credentials).
inline int ExitCode(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound:
      return 3;
    case Code::kAlreadyExists:
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return 4;
    case Code::kPermissionDenied:
    case Code::kUnauthenticated:
      return 5;
    default:
      return 1;
  }
}

inline void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }
inline void PrintJson(const client::Json& j) { Print(j.dump(2) + "\n"); }

// "k=v" pairs into a map; a pair without '=' is a usage error naming `what`.
StatusOr<std::map<std::string, std::string>> Pairs(const std::vector<std::string>& items,
                                                   const char* what);
// A document's tags as "k=v,k2=v2".
std::string Tags(const client::Json& v);
// Prints "key:  value" lines for the keys the document has.
void PrintFields(const client::Json& j, const std::vector<std::string>& keys);
// A registered version that left out CSV lines its files could not be read at says so on
// stderr: how many, the first few with file and line, and what to do.
void WarnRejectedLines(const client::Json& version);
// kInvalidArgument when no workspace was named.
Status NeedWorkspace(const Globals& g);

// The command groups.
void AddWorkspaceCommands(CLI::App& app, Globals& g, std::function<Status()>& run);
void AddDatastoreCommands(CLI::App& app, Globals& g, std::function<Status()>& run);
void AddDatasetCommands(CLI::App& app, Globals& g, std::function<Status()>& run);
void AddIdentityCommands(CLI::App& app, Globals& g, std::function<Status()>& run);

// A password: one line from stdin (from_stdin), or typed unechoed at the terminal after the
// prompt "Password for <whose>: " (login_commands.cc).
StatusOr<std::string> ReadPassword(bool from_stdin, const std::string& whose);

// tarn lake plan|apply|check (lake_commands.cc).
void AddLakeCommands(CLI::App& app, Globals& g, std::function<Status()>& run);

// tarn ingest (ingest_commands.cc).
void AddIngestCommands(CLI::App& app, Globals& g, std::function<Status()>& run);

// tarn pipeline ... (pipeline_commands.cc).
void AddPipelineCommands(CLI::App& app, Globals& g, std::function<Status()>& run);
// tarn lineage (pipeline_commands.cc).
void AddLineageCommands(CLI::App& app, Globals& g, std::function<Status()>& run);
void AddJobCommands(CLI::App& app, Globals& g, std::function<Status()>& run);

// tarn login / tarn logout (login_commands.cc).
void AddLoginCommands(CLI::App& app, Globals& g, std::function<Status()>& run);

}  // namespace tarn::cli
