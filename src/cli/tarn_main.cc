// tarn: the command line for a tarnd's workspace catalog (docs/cli.md).
//
//   tarn [--endpoint URL] [--account NAME] [--workspace WS] [--json] <group> <command> ...
//   groups: workspace, datastore (workspace_commands.cc), dataset (dataset_commands.cc),
//   tenant, principal, secret, group, role, audit (identity_commands.cc), login, logout
//   (login_commands.cc), lake (lake_commands.cc), ingest (ingest_commands.cc). This file: what they share, and Main.
//
// Exit codes: 0 success, 1 failure, 2 bad usage, 3 not found, 4 conflict (exists, in use,
// drift), 5 refused (credentials).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/output.h"
#include "client/catalog_client.h"
#include "client/login_cache.h"

namespace tarn::cli {

using client::CatalogClient;
using client::Json;

// "k=v" pairs into a map; a pair without '=' is a usage error.
StatusOr<std::map<std::string, std::string>> Pairs(const std::vector<std::string>& items,
                                                   const char* what) {
  std::map<std::string, std::string> out;
  for (const auto& i : items) {
    size_t eq = i.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status(Code::kInvalidArgument, std::string(what) + " '" + i + "' is not KEY=VALUE");
    }
    out[i.substr(0, eq)] = i.substr(eq + 1);
  }
  return out;
}

std::string Tags(const Json& v) {
  std::string out;
  if (!v.contains("tags") || !v["tags"].is_object()) return out;
  for (const auto& [k, val] : v["tags"].items()) {
    if (!out.empty()) out += ",";
    out += k + "=" + (val.is_string() ? val.get<std::string>() : val.dump());
  }
  return out;
}

void PrintFields(const Json& j, const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    if (k == "tags") {
      rows.push_back({k + ":", Tags(j)});
    } else if (j.contains(k)) {
      rows.push_back({k + ":", Cell(j, k.c_str())});
    }
  }
  std::string t = FormatTable({"", ""}, rows);
  Print(t.substr(t.find('\n') + 1));
}

void WarnRejectedLines(const Json& v) {
  const int64_t n = v.value("rejected_lines", int64_t{0});
  if (n <= 0) return;
  std::string shown;
  int count = 0;
  for (const auto& r : v.value("rejected", Json::array())) {
    if (count++ == 3) break;
    shown += "\n  " + r.value("path", "") + " line " + std::to_string(r.value("line", 0)) +
             ": " + r.value("error", "");
  }
  std::fprintf(stderr,
               "tarn: warning: dataset %s version %lld was registered without %lld line(s) its "
               "CSV files could not be read at; every read of it leaves them out:%s%s\n"
               "tarn: hint: fix those lines and register again to keep them (`tarn dataset "
               "show` lists them). For a line left out because a value does not convert to its "
               "column's detected type, give that column's type instead (--set-type; "
               "set_column_types in the SDK): such values then read as nulls, or fail the read "
               "with on_error fail\n",
               v.value("name", "").c_str(), static_cast<long long>(v.value("version", 0)),
               static_cast<long long>(n), shown.c_str(), n > 3 ? "\n  ..." : "");
}

Status NeedWorkspace(const Globals& g) {
  if (g.conn.workspace.empty()) {
    return Status(Code::kInvalidArgument,
                  "no workspace: give --workspace, set TARN_WORKSPACE, or run where a "
                  "config.json names one");
  }
  return Status::Ok();
}

namespace {

int Main(int argc, char** argv) {
  CLI::App app{
      "tarn: the workspace catalog of a tarnd (workspaces, datastores, datasets), its\n"
      "directory (tenants, principals, secrets, groups, roles, audit), the lake's layout\n"
      "(lake plan|apply|check) and ingestion into the raw zone (ingest).\n"
      "Connection: --endpoint/TARN_ENDPOINT, --account/TARN_ACCOUNT, --workspace/TARN_WORKSPACE\n"
      "or a config.json found in the current directory, its .azureml/ or a parent.\n"
      "As whom: the sign-in of `tarn login` (kept in ~/.tarn/login.json); an account key only\n"
      "when TARN_ACCOUNT_KEY is set; the development key for loopback endpoints only."};
  app.require_subcommand(1);
  // Global options (--json, --endpoint, ...) may also follow the subcommand.
  app.fallthrough();
  Globals g;
  app.add_option("--endpoint", g.flags.endpoint, "tarnd URL, e.g. http://127.0.0.1:10000");
  app.add_option("--account", g.flags.account, "Storage account to sign as");
  app.add_option("--workspace,-w", g.flags.workspace, "Workspace name");
  app.add_option("--config", g.flags.config, "config.json to use instead of searching");
  app.add_flag("--json", g.json, "Machine-readable JSON output");
  std::function<Status()> run;
  AddWorkspaceCommands(app, g, run);
  AddDatastoreCommands(app, g, run);
  AddDatasetCommands(app, g, run);
  AddIdentityCommands(app, g, run);
  AddLoginCommands(app, g, run);
  AddLakeCommands(app, g, run);
  AddPipelineCommands(app, g, run);
  AddLineageCommands(app, g, run);
  AddJobCommands(app, g, run);
#ifdef TARN_WITH_TABULAR
  AddIngestCommands(app, g, run);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "tarn: error: %s\n", s.message().c_str());
    if (client::ServerErrorCode(s) == "WorkspaceNotFound") {
      const std::string ws = g.conn.workspace.empty() ? "<name>" : g.conn.workspace;
      std::fprintf(stderr,
                   "tarn: hint: create it with `tarn workspace create %s` (Workspace.create in "
                   "the SDK), or name another with --workspace; `tarn workspace list` shows "
                   "those you may use\n",
                   ws.c_str());
    }
    return ExitCode(s);
  };
  if (!run) return 2;
  if (g.standalone) {
    Status s = run();
    return s.ok() ? 0 : fail(s);
  }
  std::error_code ec;
  auto conn = ResolveConnection(
      g.flags,
      [](const std::string& k) -> std::optional<std::string> {
        const char* v = std::getenv(k.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
      },
      std::filesystem::current_path(ec).string());
  if (!conn.ok()) return fail(conn.status());
  g.conn = *conn;
  client::CatalogClientOptions o;
  o.account = g.conn.account;
  o.key_base64 = g.conn.key;
  if (g.conn.login) {
    auto trust = client::TrustingOptions(g.conn.login->ca_file);
    if (!trust.ok()) return fail(trust.status());
    o.connection = *trust;
    auto tokens = client::UserTokens(*g.conn.login, client::kWorkspaceScope);
    if (!tokens.ok()) return fail(tokens.status());
    o.bearer = *tokens;
  }
  auto catalog = CatalogClient::Create(g.conn.endpoint, o);
  if (!catalog.ok()) return fail(catalog.status());
  g.catalog = std::move(*catalog);
  Status s = run();
  return s.ok() ? 0 : fail(s);
}

}  // namespace
}  // namespace tarn::cli

int main(int argc, char** argv) { return tarn::cli::Main(argc, argv); }
