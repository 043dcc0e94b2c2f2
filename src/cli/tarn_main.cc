// tarn: the command line for a tarnd's workspace catalog (docs/cli.md).
//
//   tarn [--endpoint URL] [--account NAME] [--workspace WS] [--json] <group> <command> ...
//   groups: workspace, datastore, dataset
//
// Exit codes: 0 success, 1 failure, 2 bad usage, 3 not found, 4 conflict (exists, in use,
// drift), 5 refused (credentials).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <tuple>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/output.h"
#include "client/catalog_client.h"
#include "mount/dataset_mount.h"
#ifdef TARN_WITH_TABULAR
#include "dataset_reader/dataset_reader.h"
#endif

namespace tarn::cli {
namespace {

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

// ----- workspaces --------------------------------------------------------------------------

void PrintWorkspaces(const Json& list) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : list) {
    rows.push_back({Cell(w, "name"), Cell(w, "subscription_id"), Cell(w, "resource_group"),
                    Cell(w, "default_datastore"), Cell(w, "created_time")});
  }
  Print(FormatTable({"NAME", "SUBSCRIPTION", "RESOURCE_GROUP", "DEFAULT_DATASTORE", "CREATED"},
                    rows));
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

void AddWorkspaceCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* grp = app.add_subcommand("workspace", "Create, list, show and delete workspaces");
  grp->require_subcommand(1);

  auto* create = grp->add_subcommand("create", "Create a workspace (no-op if it exists alike)");
  auto name = std::make_shared<std::string>();
  auto spec = std::make_shared<client::WorkspaceSpec>();
  create->add_option("name", *name, "Workspace name: 2-32 letters, digits, '-' or '_'")->required();
  create->add_option("--subscription-id", spec->subscription_id, "Subscription id to record");
  create->add_option("--resource-group", spec->resource_group, "Resource group to record");
  create->add_option("--description", spec->description, "Free text");
  OnRun(create, run, [&, name, spec]() -> Status {
    TARN_ASSIGN_OR_RETURN(Json w, g.catalog->CreateWorkspace(*name, *spec));
    if (g.json)
      PrintJson(w);
    else
      PrintWorkspaces(Json::array({w}));
    return Status::Ok();
  });

  OnRun(grp->add_subcommand("list", "List the workspaces"), run, [&]() -> Status {
    TARN_ASSIGN_OR_RETURN(Json j, g.catalog->ListWorkspaces());
    if (g.json)
      PrintJson(j);
    else
      PrintWorkspaces(j.value("workspaces", Json::array()));
    return Status::Ok();
  });

  auto* show = grp->add_subcommand("show", "Show a workspace (default: the current one)");
  auto show_name = std::make_shared<std::string>();
  show->add_option("name", *show_name, "Workspace name (default: --workspace)");
  OnRun(show, run, [&, show_name]() -> Status {
    std::string n = show_name->empty() ? g.conn.workspace : *show_name;
    if (n.empty()) return Status(Code::kInvalidArgument, "name a workspace");
    TARN_ASSIGN_OR_RETURN(Json w, g.catalog->GetWorkspace(n));
    if (g.json) {
      PrintJson(w);
    } else {
      PrintFields(w, {"name", "subscription_id", "resource_group", "description",
                      "default_datastore", "created_time"});
    }
    return Status::Ok();
  });

  auto* del = grp->add_subcommand(
      "delete", "Delete a workspace, its datastores and datasets (lake data is kept)");
  auto del_name = std::make_shared<std::string>();
  del->add_option("name", *del_name, "Workspace name")->required();
  OnRun(del, run, [&, del_name]() -> Status {
    TARN_RETURN_IF_ERROR(g.catalog->DeleteWorkspace(*del_name));
    if (g.json)
      PrintJson({{"deleted", *del_name}});
    else
      Print("deleted workspace " + *del_name + "\n");
    return Status::Ok();
  });
}

// ----- datastores --------------------------------------------------------------------------

Status NeedWorkspace(const Globals& g) {
  if (g.conn.workspace.empty()) {
    return Status(Code::kInvalidArgument,
                  "no workspace: give --workspace, set TARN_WORKSPACE, or run where a "
                  "config.json names one");
  }
  return Status::Ok();
}

void PrintDatastores(const Json& list) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : list) {
    rows.push_back({Cell(d, "name"), Cell(d, "account_name"), Cell(d, "filesystem"),
                    Cell(d, "credential_type"), d.value("is_default", false) ? "yes" : "",
                    d.value("local", false) ? "local" : Cell(d, "endpoint")});
  }
  Print(FormatTable({"NAME", "ACCOUNT", "FILESYSTEM", "CREDENTIAL", "DEFAULT", "WHERE"}, rows));
}

struct DatastoreFlags {
  std::string name;
  client::DatastoreSpec spec;
  std::string account_key, sas_token, tenant_id, client_id, client_secret, authority_url,
      resource_url;
};

StatusOr<Json> Credential(const DatastoreFlags& f) {
  int kinds = !f.account_key.empty() + !f.sas_token.empty() + !f.client_secret.empty();
  if (kinds > 1) {
    return Status(Code::kInvalidArgument,
                  "give one credential: --account-key, --sas-token or a service principal");
  }
  if (!f.account_key.empty()) return Json{{"type", "account_key"}, {"account_key", f.account_key}};
  if (!f.sas_token.empty()) return Json{{"type", "sas"}, {"sas_token", f.sas_token}};
  if (!f.client_secret.empty() || !f.client_id.empty() || !f.tenant_id.empty()) {
    if (f.client_secret.empty() || f.client_id.empty() || f.tenant_id.empty()) {
      return Status(Code::kInvalidArgument,
                    "a service principal needs --tenant-id, --client-id and --client-secret");
    }
    Json c = {{"type", "service_principal"},
              {"tenant_id", f.tenant_id},
              {"client_id", f.client_id},
              {"client_secret", f.client_secret}};
    if (!f.authority_url.empty()) c["authority_url"] = f.authority_url;
    if (!f.resource_url.empty()) c["resource_url"] = f.resource_url;
    return c;
  }
  return Json{{"type", "none"}};
}

void AddDatastoreCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* grp = app.add_subcommand("datastore", "Register, list, show and unregister datastores");
  grp->require_subcommand(1);

  auto* reg = grp->add_subcommand(
      "register",
      "Register an ADLS Gen2 datastore (validated by listing its root with the credential)");
  auto f = std::make_shared<DatastoreFlags>();
  reg->add_option("name", f->name, "Datastore name: letters, digits and '_'")->required();
  reg->add_option("--filesystem", f->spec.filesystem, "Filesystem (container) name")->required();
  reg->add_option("--account-name", f->spec.account_name,
                  "Storage account (default: the connection's account)");
  reg->add_option("--store-endpoint", f->spec.endpoint,
                  "Account URL of another ADLS Gen2 endpoint (default: this tarnd)");
  reg->add_option("--account-key", f->account_key, "Account key credential (base64)");
  reg->add_option("--sas-token", f->sas_token, "SAS token credential");
  reg->add_option("--tenant-id", f->tenant_id, "Service principal: tenant");
  reg->add_option("--client-id", f->client_id, "Service principal: application id");
  reg->add_option("--client-secret", f->client_secret, "Service principal: secret");
  reg->add_option("--authority-url", f->authority_url, "Service principal: token authority");
  reg->add_option("--resource-url", f->resource_url, "Service principal: resource");
  reg->add_flag("--overwrite", f->spec.overwrite, "Replace a datastore of that name");
  reg->add_flag("--skip-validation", f->spec.skip_validation, "Do not list the root first");
  OnRun(reg, run, [&, f]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    client::DatastoreSpec s = f->spec;
    if (s.account_name.empty()) s.account_name = g.conn.account;
    TARN_ASSIGN_OR_RETURN(s.credential, Credential(*f));
    TARN_ASSIGN_OR_RETURN(Json d, g.catalog->RegisterDatastore(g.conn.workspace, f->name, s));
    if (g.json)
      PrintJson(d);
    else
      PrintDatastores(Json::array({d}));
    return Status::Ok();
  });

  OnRun(grp->add_subcommand("list", "List the workspace's datastores"), run, [&]() -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    TARN_ASSIGN_OR_RETURN(Json j, g.catalog->ListDatastores(g.conn.workspace));
    if (g.json)
      PrintJson(j);
    else
      PrintDatastores(j.value("datastores", Json::array()));
    return Status::Ok();
  });

  auto one = [&](const char* cmd, const char* help, std::function<Status(const std::string&)> fn,
                 bool name_required) {
    auto* sub = grp->add_subcommand(cmd, help);
    auto name = std::make_shared<std::string>();
    auto* opt = sub->add_option("name", *name, "Datastore name");
    if (name_required) opt->required();
    OnRun(sub, run, [&, name, fn]() -> Status {
      TARN_RETURN_IF_ERROR(NeedWorkspace(g));
      return fn(*name);
    });
  };
  one(
      "show", "Show a datastore (default: the workspace's default datastore)",
      [&](const std::string& n) -> Status {
        StatusOr<Json> d = n.empty() ? g.catalog->GetDefaultDatastore(g.conn.workspace)
                                     : g.catalog->GetDatastore(g.conn.workspace, n);
        TARN_RETURN_IF_ERROR(d.status());
        if (g.json) {
          PrintJson(*d);
        } else {
          PrintFields(*d, {"name", "datastore_type", "endpoint", "account_name", "filesystem",
                           "credential_type", "tenant_id", "client_id", "is_default", "local",
                           "created_time"});
        }
        return Status::Ok();
      },
      false);
  one(
      "unregister", "Unregister a datastore (its lake data is untouched)",
      [&](const std::string& n) -> Status {
        TARN_RETURN_IF_ERROR(g.catalog->UnregisterDatastore(g.conn.workspace, n));
        if (g.json)
          PrintJson({{"unregistered", n}});
        else
          Print("unregistered datastore " + n + "\n");
        return Status::Ok();
      },
      true);
  one(
      "set-default", "Make a datastore the workspace's default",
      [&](const std::string& n) -> Status {
        TARN_ASSIGN_OR_RETURN(Json w, g.catalog->SetDefaultDatastore(g.conn.workspace, n));
        if (g.json)
          PrintJson(w);
        else
          Print("default datastore of " + g.conn.workspace + ": " + n + "\n");
        return Status::Ok();
      },
      true);
}

// ----- datasets ----------------------------------------------------------------------------

void PrintVersions(const Json& list, bool with_name) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : list) {
    std::vector<std::string> r;
    if (with_name) r.push_back(Cell(v, "name"));
    r.insert(r.end(), {Cell(v, "version"), Cell(v, "kind"), Cell(v, "state"), Cell(v, "row_count"),
                       Cell(v, "file_count"),
                       v.contains("total_bytes") ? FormatBytes(v.value("total_bytes", 0)) : "",
                       Cell(v, "created_time"), Cell(v, "description")});
    rows.push_back(std::move(r));
  }
  std::vector<std::string> h;
  if (with_name) h.push_back("NAME");
  h.insert(h.end(),
           {"VERSION", "KIND", "STATE", "ROWS", "FILES", "SIZE", "CREATED", "DESCRIPTION"});
  Print(FormatTable(h, rows));
}

void PrintVersion(const Json& v) {
  PrintFields(
      v, {"name", "version", "id", "kind", "state", "description", "tags", "created_time",
          "created_by", "data_changed_time", "pinned", "file_count", "total_bytes", "row_count"});
  if (v.contains("definition")) Print("definition:  " + v["definition"].dump() + "\n");
  if (v.contains("schema") && v["schema"].is_array()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : v["schema"]) rows.push_back({Cell(c, "name"), Cell(c, "type")});
    Print("\n" + FormatTable({"COLUMN", "TYPE"}, rows));
  }
}

struct DefinitionFlags {
  std::string kind = "tabular", format = "csv", datastore;
  std::vector<std::string> paths, urls, set_types, tags;
  std::string separator = ",", partition_format, encoding = "utf8", description;
  bool no_header = false, no_infer = false, include_path = false, multi_line = false,
       empty_as_string = false, new_version = false;
};

StatusOr<Json> DefinitionFromFlags(const DefinitionFlags& f) {
  if (f.kind != "tabular" && f.kind != "file") {
    return Status(Code::kInvalidArgument, "--kind is tabular or file, not '" + f.kind + "'");
  }
  if (f.paths.empty() == f.urls.empty()) {
    return Status(Code::kInvalidArgument,
                  "give either --path GLOB (with --datastore) or --url URL, one or more times");
  }
  Json paths = Json::array();
  for (const auto& p : f.paths) {
    if (f.datastore.empty()) return Status(Code::kInvalidArgument, "--path needs --datastore");
    paths.push_back({{"datastore", f.datastore}, {"path", p}});
  }
  for (const auto& u : f.urls) paths.push_back({{"url", u}});
  Json def = {{"kind", f.kind}, {"paths", paths}, {"transforms", Json::array()}};
  if (f.kind == "tabular") {
    def["format"] = f.format;
    TARN_ASSIGN_OR_RETURN(auto types, Pairs(f.set_types, "--set-type"));
    Json opts = {{"separator", f.separator},
                 {"header", !f.no_header},
                 {"infer_column_types", !f.no_infer},
                 {"include_path", f.include_path},
                 {"support_multi_line", f.multi_line},
                 {"encoding", f.encoding},
                 {"empty_as_string", f.empty_as_string},
                 {"set_column_types", types.empty() ? Json::object() : Json(types)}};
    opts["partition_format"] = f.partition_format.empty() ? Json() : Json(f.partition_format);
    def["options"] = opts;
  } else if (!f.partition_format.empty()) {
    def["options"] = {{"partition_format", f.partition_format}};
  }
  return def;
}

// NAME plus --version: the version a command acts on.
struct VersionArg {
  std::string name;
  std::string version = "latest";
};

StatusOr<Json> ResolveVersion(Globals& g, const VersionArg& a) {
  TARN_RETURN_IF_ERROR(NeedWorkspace(g));
  return g.catalog->GetDataset(g.conn.workspace, a.name, a.version);
}

CLI::App* VersionCommand(CLI::App* grp, const char* cmd, const char* help,
                         std::shared_ptr<VersionArg> a) {
  auto* sub = grp->add_subcommand(cmd, help);
  sub->add_option("name", a->name, "Dataset name")->required();
  sub->add_option("--version,-v", a->version, "Version number, or 'latest' (default)");
  return sub;
}

#ifdef TARN_WITH_TABULAR
std::string FormatValue(const tabular::Column& c, size_t i) {
  using T = tabular::Column::Type;
  if (!c.valid.empty() && !c.valid[i]) return "";
  char buf[64];
  switch (c.type) {
    case T::kInt64:
      return std::to_string(c.i64[i]);
    case T::kDouble:
      std::snprintf(buf, sizeof buf, "%.15g", c.f64[i]);
      return buf;
    case T::kBool:
      return c.b[i] ? "true" : "false";
    case T::kString:
      return std::string(c.String(i));
    case T::kTimestampUs: {
      int64_t us = c.i64[i];
      std::time_t secs = static_cast<std::time_t>(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
      std::tm tm{};
      gmtime_r(&secs, &tm);
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
      int64_t frac = us - static_cast<int64_t>(secs) * 1000000;
      std::string s = buf;
      if (frac) {
        std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
        s += buf;
      }
      return s;
    }
  }
  return "";
}

Json CellJson(const tabular::Column& c, size_t i) {
  using T = tabular::Column::Type;
  if (!c.valid.empty() && !c.valid[i]) return nullptr;
  switch (c.type) {
    case T::kInt64:
      return c.i64[i];
    case T::kDouble:
      return c.f64[i];
    case T::kBool:
      return c.b[i] != 0;
    default:
      return FormatValue(c, i);
  }
}
#endif

Status Preview(Globals& g, const Json& v, int64_t rows, bool ignore_drift) {
#ifdef TARN_WITH_TABULAR
  if (v.value("kind", "") != "tabular") {
    return Status(Code::kInvalidArgument, "preview needs a tabular dataset; this one is " +
                                              v.value("kind", std::string("?")));
  }
  static tabular::Engine engine;
  client::VersionRef ref{g.conn.workspace, v.value("name", ""), v.value("version", int64_t{0}),
                         ignore_drift};
  TARN_ASSIGN_OR_RETURN(auto files, g.catalog->ListFiles(ref));
  dataset_reader::DatasetReader reader(engine, *g.catalog, ref, files);
  dataset_reader::ReadOptions o;
  o.limit = rows;
  TARN_ASSIGN_OR_RETURN(tabular::Table t, reader.Read(v["definition"], o));
  if (g.json) {
    Json out = Json::array();
    for (int64_t r = 0; r < t.rows; ++r) {
      Json row = Json::object();
      for (const auto& c : t.columns) row[c.name] = CellJson(c, static_cast<size_t>(r));
      out.push_back(std::move(row));
    }
    PrintJson(out);
    return Status::Ok();
  }
  std::vector<std::string> header;
  for (const auto& c : t.columns) header.push_back(c.name);
  std::vector<std::vector<std::string>> cells;
  for (int64_t r = 0; r < t.rows; ++r) {
    std::vector<std::string> row;
    for (const auto& c : t.columns) row.push_back(FormatValue(c, static_cast<size_t>(r)));
    cells.push_back(std::move(row));
  }
  Print(FormatTable(header, cells));
  return Status::Ok();
#else
  return Status(Code::kUnimplemented, "this build of tarn lacks the tabular engine (DuckDB)");
#endif
}

Status Download(Globals& g, const Json& v, const std::string& target, bool overwrite,
                bool ignore_drift) {
  namespace fs = std::filesystem;
  client::VersionRef ref{g.conn.workspace, v.value("name", ""), v.value("version", int64_t{0}),
                         ignore_drift};
  TARN_ASSIGN_OR_RETURN(auto files, g.catalog->ListFiles(ref));
  int64_t total = 0;
  std::vector<std::string> dests;
  for (const auto& f : files) {
    fs::path rel(f.path);
    if (rel.is_absolute() || f.path.find("..") != std::string::npos) {
      return Status(Code::kInvalidArgument, "refusing the manifest path " + f.path);
    }
    std::string dest = (fs::path(target) / rel).string();
    std::error_code ec;
    if (!overwrite && fs::exists(dest, ec)) {
      return Status(Code::kAlreadyExists, dest + " exists; pass --overwrite to replace it");
    }
    dests.push_back(dest);
    total += f.size;
  }
  ProgressBar bar(stderr, total, !g.json && ::isatty(STDERR_FILENO));
  for (size_t i = 0; i < files.size(); ++i) {
    TARN_RETURN_IF_ERROR(
        g.catalog->DownloadFile(ref, files[i], dests[i], [&](int64_t n) { bar.Add(n); }));
  }
  bar.Finish();
  if (g.json) {
    PrintJson({{"files", dests}, {"bytes", total}});
  } else {
    Print("downloaded " + std::to_string(files.size()) + " files (" + FormatBytes(total) + ") to " +
          target + "\n");
  }
  return Status::Ok();
}

// Mounts a version read-only at mount_point and serves it until SIGINT or SIGTERM.
Status Mount(Globals& g, const Json& v, const std::string& mount_point, bool ignore_drift,
             bool allow_other) {
  client::VersionRef ref{g.conn.workspace, v.value("name", ""), v.value("version", int64_t{0}),
                         ignore_drift};
  TARN_ASSIGN_OR_RETURN(auto files, g.catalog->ListFiles(ref));
  // The signals are taken by sigwait below, never by a serving thread.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  mount::MountOptions o;
  o.allow_other = allow_other;
  o.on_error = [](const std::string& path, const Status& why) {
    std::fprintf(stderr, "tarn: reading %s failed: %s\n", path.c_str(), why.message().c_str());
  };
  TARN_ASSIGN_OR_RETURN(auto m, mount::DatasetMount::Start(*g.catalog, ref, files, mount_point, o));
  int64_t total = 0;
  for (const auto& f : files) total += f.size;
  if (g.json) {
    PrintJson({{"mount_point", m->mount_point()}, {"files", files.size()}, {"bytes", total},
               {"name", ref.name}, {"version", ref.version}});
  } else {
    Print("mounted " + ref.name + " version " + std::to_string(ref.version) + " (" +
          std::to_string(files.size()) + " files, " + FormatBytes(total) + ") read-only at " +
          m->mount_point() + "; Ctrl-C or SIGTERM unmounts\n");
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  return m->Stop();
}

void AddDatasetCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* grp = app.add_subcommand(
      "dataset",
      "Create, register, list, show, preview, profile, download, mount and archive datasets");
  grp->require_subcommand(1);

  auto register_common = [](CLI::App* sub, DefinitionFlags& f) {
    sub->add_option("--description", f.description, "Free text");
    sub->add_option("--tag", f.tags, "KEY=VALUE (repeatable)");
    sub->add_flag("--new-version", f.new_version,
                  "Add a version when the name exists (else that is an error)");
  };
  auto submit = [&g](const std::string& name, const Json& def, const DefinitionFlags& f) -> Status {
    TARN_RETURN_IF_ERROR(NeedWorkspace(g));
    client::VersionSpec s;
    s.definition = def;
    s.description = f.description;
    TARN_ASSIGN_OR_RETURN(s.tags, Pairs(f.tags, "--tag"));
    s.create_new_version = f.new_version;
    TARN_ASSIGN_OR_RETURN(Json v, g.catalog->RegisterVersion(g.conn.workspace, name, s));
    if (g.json)
      PrintJson(v);
    else
      PrintVersion(v);
    return Status::Ok();
  };

  {
    auto* sub = grp->add_subcommand(
        "create", "Define a dataset from paths on a datastore (or URLs) and register it");
    auto f = std::make_shared<DefinitionFlags>();
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "Dataset name")->required();
    sub->add_option("--kind", f->kind, "tabular (default) or file");
    sub->add_option("--format", f->format, "Tabular format: csv (default), parquet or jsonl");
    sub->add_option("--datastore", f->datastore, "Datastore the --path globs are relative to");
    sub->add_option("--path", f->paths, "Glob on the datastore, '**' for any depth (repeatable)");
    sub->add_option("--url", f->urls, "File or directory URL on a datastore (repeatable)");
    sub->add_option("--separator", f->separator, "CSV field separator (default ',')");
    sub->add_flag("--no-header", f->no_header, "CSV files have no header line");
    sub->add_flag("--no-infer-types", f->no_infer, "Read every CSV column as a string");
    sub->add_option("--set-type", f->set_types,
                    "COLUMN=TYPE: string, long, float, bool, datetime[:format] (repeatable)");
    sub->add_option("--partition-format", f->partition_format,
                    "e.g. '{region}/{day:yyyy/MM/dd}/*.csv'");
    sub->add_flag("--include-path", f->include_path, "Add a Path column");
    sub->add_flag("--support-multi-line", f->multi_line, "Quoted CSV fields may span lines");
    sub->add_flag("--empty-as-string", f->empty_as_string, "Empty CSV fields are '' not null");
    sub->add_option("--encoding", f->encoding, "utf8 (default), latin1, utf16, ...");
    register_common(sub, *f);
    OnRun(sub, run, [&, f, name, submit]() -> Status {
      TARN_ASSIGN_OR_RETURN(Json def, DefinitionFromFlags(*f));
      return submit(*name, def, *f);
    });
  }
  {
    auto* sub = grp->add_subcommand(
        "register", "Register a version from a JSON definition file (docs/catalog-api.md)");
    auto f = std::make_shared<DefinitionFlags>();
    auto name = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    sub->add_option("name", *name, "Dataset name")->required();
    sub->add_option("--definition,-f", *file,
                    "JSON file with {kind, format, paths, options, transforms}; '-' for stdin")
        ->required();
    register_common(sub, *f);
    OnRun(sub, run, [&, f, name, file, submit]() -> Status {
      std::stringstream text;
      if (*file == "-") {
        text << std::cin.rdbuf();
      } else {
        std::ifstream in(*file);
        if (!in) return Status(Code::kNotFound, "cannot read " + *file);
        text << in.rdbuf();
      }
      Json def = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
      if (def.is_discarded() || !def.is_object()) {
        return Status(Code::kInvalidArgument, *file + " is not a JSON object");
      }
      if (def.contains("definition")) def = def["definition"];
      return submit(*name, def, *f);
    });
  }
  {
    auto* sub = grp->add_subcommand("list", "List the latest active version of each dataset");
    auto archived = std::make_shared<bool>(false);
    sub->add_flag("--include-archived", *archived, "Also list archived versions");
    OnRun(sub, run, [&, archived]() -> Status {
      TARN_RETURN_IF_ERROR(NeedWorkspace(g));
      TARN_ASSIGN_OR_RETURN(Json j, g.catalog->ListDatasets(g.conn.workspace, *archived));
      if (g.json)
        PrintJson(j);
      else
        PrintVersions(j.value("datasets", Json::array()), true);
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<VersionArg>();
    OnRun(VersionCommand(grp, "show", "Show a dataset version: metadata, definition and schema", a),
          run, [&, a]() -> Status {
            TARN_ASSIGN_OR_RETURN(Json v, ResolveVersion(g, *a));
            if (g.json)
              PrintJson(v);
            else
              PrintVersion(v);
            return Status::Ok();
          });
  }
  {
    auto* sub = grp->add_subcommand("versions", "List every version of a dataset, oldest first");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "Dataset name")->required();
    OnRun(sub, run, [&, name]() -> Status {
      TARN_RETURN_IF_ERROR(NeedWorkspace(g));
      TARN_ASSIGN_OR_RETURN(Json j, g.catalog->ListVersions(g.conn.workspace, *name));
      if (g.json)
        PrintJson(j);
      else
        PrintVersions(j.value("versions", Json::array()), false);
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<VersionArg>();
    auto rows = std::make_shared<int64_t>(10);
    auto ignore = std::make_shared<bool>(false);
    auto* sub = VersionCommand(grp, "preview", "Show the first rows of a tabular dataset", a);
    sub->add_option("--rows,-n", *rows, "Rows to show (default 10)")->check(CLI::PositiveNumber);
    sub->add_flag("--ignore-drift", *ignore, "Read changed files of an external datastore");
    OnRun(sub, run, [&, a, rows, ignore]() -> Status {
      TARN_ASSIGN_OR_RETURN(Json v, ResolveVersion(g, *a));
      return Preview(g, v, *rows, *ignore);
    });
  }
  {
    auto a = std::make_shared<VersionArg>();
    OnRun(
        VersionCommand(grp, "profile",
                       "Column statistics computed at registration: nulls, min, max, distinct", a),
        run, [&, a]() -> Status {
          TARN_ASSIGN_OR_RETURN(Json v, ResolveVersion(g, *a));
          if (!v.contains("profile")) {
            return Status(Code::kInvalidArgument, "a file dataset has no profile");
          }
          if (g.json) {
            PrintJson({{"row_count", v["row_count"]}, {"profile", v["profile"]}});
            return Status::Ok();
          }
          std::vector<std::vector<std::string>> rows;
          for (const auto& c : v["profile"]) {
            rows.push_back({Cell(c, "name"), Cell(c, "type"), Cell(c, "nulls"), Cell(c, "min"),
                            Cell(c, "max"), Cell(c, "distinct")});
          }
          Print("rows: " + Cell(v, "row_count") + "\n" +
                FormatTable({"COLUMN", "TYPE", "NULLS", "MIN", "MAX", "DISTINCT"}, rows));
          return Status::Ok();
        });
  }
  {
    auto a = std::make_shared<VersionArg>();
    auto target = std::make_shared<std::string>(".");
    auto overwrite = std::make_shared<bool>(false);
    auto ignore = std::make_shared<bool>(false);
    auto* sub = VersionCommand(grp, "download",
                               "Download a version's files as registered, under their paths", a);
    sub->add_option("--target,-o", *target, "Directory to write into (default '.')");
    sub->add_flag("--overwrite", *overwrite, "Replace files that exist");
    sub->add_flag("--ignore-drift", *ignore, "Read changed files of an external datastore");
    OnRun(sub, run, [&, a, target, overwrite, ignore]() -> Status {
      TARN_ASSIGN_OR_RETURN(Json v, ResolveVersion(g, *a));
      return Download(g, v, *target, *overwrite, *ignore);
    });
  }
  {
    auto a = std::make_shared<VersionArg>();
    auto point = std::make_shared<std::string>();
    auto ignore = std::make_shared<bool>(false);
    auto allow_other = std::make_shared<bool>(false);
    auto* sub = VersionCommand(
        grp, "mount",
        "Mount a version read-only (FUSE) and serve it until Ctrl-C: its registered bytes, "
        "under paths relative to the files' common directory",
        a);
    sub->add_option("mount_point", *point, "An existing, empty directory")->required();
    sub->add_flag("--ignore-drift", *ignore, "Read changed files of an external datastore");
    sub->add_flag("--allow-other", *allow_other, "Let other users read the mount");
    OnRun(sub, run, [&, a, point, ignore, allow_other]() -> Status {
      TARN_ASSIGN_OR_RETURN(Json v, ResolveVersion(g, *a));
      return Mount(g, v, *point, *ignore, *allow_other);
    });
  }
  {
    auto a = std::make_shared<VersionArg>();
    auto reactivate = std::make_shared<bool>(false);
    auto* sub = VersionCommand(grp, "archive",
                               "Archive a version (releases its pins), or --reactivate it", a);
    sub->add_flag("--reactivate", *reactivate, "Make an archived version active again");
    OnRun(sub, run, [&, a, reactivate]() -> Status {
      TARN_ASSIGN_OR_RETURN(Json cur, ResolveVersion(g, *a));
      int64_t n = cur.value("version", int64_t{0});
      StatusOr<Json> v = *reactivate ? g.catalog->ReactivateVersion(g.conn.workspace, a->name, n)
                                     : g.catalog->ArchiveVersion(g.conn.workspace, a->name, n);
      TARN_RETURN_IF_ERROR(v.status());
      if (g.json)
        PrintJson(*v);
      else
        PrintVersions(Json::array({*v}), true);
      return Status::Ok();
    });
  }
}

// ----- identity (the directory admin API; account owners) ------------------------------------

void AddIdentityCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto show = [&](StatusOr<Json> j) -> Status {
    if (!j.ok()) return j.status();
    PrintJson(*j);
    return Status::Ok();
  };
  auto list = [&](StatusOr<Json> j, const char* key, const std::vector<std::string>& cols) -> Status {
    if (!j.ok()) return j.status();
    if (g.json) {
      PrintJson(*j);
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : (*j)[key]) {
      std::vector<std::string> row;
      for (const auto& c : cols) row.push_back(Cell(e, c.c_str()));
      rows.push_back(std::move(row));
    }
    std::vector<std::string> header;
    for (auto c : cols) {
      std::transform(c.begin(), c.end(), c.begin(), ::toupper);
      header.push_back(c);
    }
    Print(FormatTable(header, rows));
    return Status::Ok();
  };

  auto* tenant = app.add_subcommand("tenant", "Create and list tenants of tarnd's directory");
  tenant->require_subcommand(1);
  auto tname = std::make_shared<std::string>();
  auto* tc = tenant->add_subcommand("create", "Create a tenant (a GUID is generated)");
  tc->add_option("--name", *tname, "Display name");
  OnRun(tc, run, [&, tname, show]() {
    Json body{{"display_name", *tname}};
    return show(g.catalog->Identity("POST", {"tenants"}, {}, &body));
  });
  OnRun(tenant->add_subcommand("list", "List tenants"), run, [&, list]() {
    return list(g.catalog->Identity("GET", {"tenants"}), "tenants", {"tenant_id", "display_name"});
  });

  auto* pr = app.add_subcommand("principal", "Users and service principals");
  pr->require_subcommand(1);
  struct PrincipalFlags {
    std::string tenant, name, upn;
    bool user = false;
  };
  auto pf = std::make_shared<PrincipalFlags>();
  auto* pc = pr->add_subcommand("create", "Create a service principal (or a user with --user)");
  pc->add_option("--tenant", pf->tenant, "Tenant ID")->required();
  pc->add_option("--name", pf->name, "Display name")->required();
  pc->add_flag("--user", pf->user, "Create a user instead of a service principal");
  pc->add_option("--upn", pf->upn, "User principal name (users)");
  OnRun(pc, run, [&, pf, show]() {
    Json body{{"kind", pf->user ? "user" : "service_principal"}, {"display_name", pf->name}};
    if (!pf->upn.empty()) body["upn"] = pf->upn;
    return show(g.catalog->Identity("POST", {"tenants", pf->tenant, "principals"}, {}, &body));
  });
  auto plist_tenant = std::make_shared<std::string>();
  auto* pl = pr->add_subcommand("list", "List a tenant's principals");
  pl->add_option("--tenant", *plist_tenant, "Tenant ID")->required();
  OnRun(pl, run, [&, plist_tenant, list]() {
    return list(g.catalog->Identity("GET", {"tenants", *plist_tenant, "principals"}),
                "principals", {"object_id", "kind", "display_name", "app_id"});
  });
  for (auto [cmd, method, help] : {std::tuple{"show", "GET", "Show a principal and its secrets"},
                                   std::tuple{"delete", "DELETE", "Delete a principal"}}) {
    auto oid = std::make_shared<std::string>();
    auto* sub = pr->add_subcommand(cmd, help);
    sub->add_option("object_id", *oid, "Object ID")->required();
    std::string m = method;
    OnRun(sub, run, [&, oid, m, show]() {
      return show(g.catalog->Identity(m, {"principals", *oid}));
    });
  }

  struct PasswordFlags {
    std::string oid;
    bool from_stdin = false;
  };
  auto pw = std::make_shared<PasswordFlags>();
  auto* ppw = pr->add_subcommand(
      "password", "Set a user's password (12 to 256 characters), asked for on the terminal");
  ppw->add_option("object_id", pw->oid, "The user's object ID")->required();
  ppw->add_flag("--password-stdin", pw->from_stdin,
                "Read the password from the first line of stdin (for scripts)");
  OnRun(ppw, run, [&, pw]() -> Status {
    TARN_ASSIGN_OR_RETURN(std::string password, ReadPassword(pw->from_stdin, pw->oid));
    Json body{{"password", password}};
    TARN_RETURN_IF_ERROR(g.catalog->Identity("PUT", {"principals", pw->oid, "password"}, {},
                                             &body).status());
    if (g.json) {
      PrintJson({{"password_set", pw->oid}});
    } else {
      Print("Set the password of " + pw->oid + ".\n");
    }
    return Status::Ok();
  });

  auto* sec = app.add_subcommand("secret", "Client secrets of service principals");
  sec->require_subcommand(1);
  auto soid = std::make_shared<std::string>();
  auto days = std::make_shared<int>(180);
  auto* sa = sec->add_subcommand("add", "Add a client secret: its value is shown this once");
  sa->add_option("object_id", *soid, "Service principal object ID")->required();
  sa->add_option("--days", *days, "Days until it expires (1-730)")->default_val(180);
  OnRun(sa, run, [&, soid, days, show]() {
    Json body{{"expires_in_days", *days}};
    return show(g.catalog->Identity("POST", {"principals", *soid, "secrets"}, {}, &body));
  });
  auto roid = std::make_shared<std::string>(), rsid = std::make_shared<std::string>();
  auto* sr = sec->add_subcommand("remove", "Remove a client secret");
  sr->add_option("object_id", *roid, "Service principal object ID")->required();
  sr->add_option("secret_id", *rsid, "Secret ID")->required();
  OnRun(sr, run, [&, roid, rsid, show]() {
    return show(g.catalog->Identity("DELETE", {"principals", *roid, "secrets", *rsid}));
  });

  auto* grp = app.add_subcommand("group", "Security groups (groups may contain groups)");
  grp->require_subcommand(1);
  auto gt = std::make_shared<std::string>(), gn = std::make_shared<std::string>();
  auto* gc = grp->add_subcommand("create", "Create a group");
  gc->add_option("--tenant", *gt, "Tenant ID")->required();
  gc->add_option("--name", *gn, "Display name")->required();
  OnRun(gc, run, [&, gt, gn, show]() {
    Json body{{"display_name", *gn}};
    return show(g.catalog->Identity("POST", {"tenants", *gt, "groups"}, {}, &body));
  });
  for (auto [cmd, method] : {std::pair{"add-member", "PUT"}, std::pair{"remove-member", "DELETE"}}) {
    auto gid = std::make_shared<std::string>(), mid = std::make_shared<std::string>();
    auto* sub = grp->add_subcommand(cmd, std::string(cmd) == "add-member"
                                             ? "Add a principal or group to a group"
                                             : "Remove a member from a group");
    sub->add_option("group", *gid, "Group object ID")->required();
    sub->add_option("member", *mid, "Member object ID")->required();
    std::string m = method;
    OnRun(sub, run, [&, gid, mid, m, show]() {
      return show(g.catalog->Identity(m, {"groups", *gid, "members", *mid}));
    });
  }

  auto* role = app.add_subcommand("role", "Role assignments (RBAC)");
  role->require_subcommand(1);
  struct RoleFlags {
    std::string principal, role, scope;
  };
  auto rf = std::make_shared<RoleFlags>();
  auto* ra = role->add_subcommand("assign", "Assign a data role at a scope");
  ra->add_option("--principal", rf->principal, "Principal or group object ID")->required();
  ra->add_option("--role", rf->role,
                 "'Storage Blob Data Owner', 'Storage Blob Data Contributor' or "
                 "'Storage Blob Data Reader'")
      ->required();
  ra->add_option("--scope", rf->scope,
                 "/<account>, /<account>/<filesystem> or /<account>/<filesystem>/<directory>")
      ->required();
  OnRun(ra, run, [&, rf, show]() {
    Json body{{"principal_id", rf->principal}, {"role", rf->role}, {"scope", rf->scope}};
    return show(g.catalog->Identity("POST", {"role-assignments"}, {}, &body));
  });
  OnRun(role->add_subcommand("list", "List role assignments"), run, [&, list]() {
    return list(g.catalog->Identity("GET", {"role-assignments"}), "role_assignments",
                {"id", "principal_id", "role", "scope"});
  });
  auto rid = std::make_shared<std::string>();
  auto* rr = role->add_subcommand("remove", "Remove a role assignment");
  rr->add_option("id", *rid, "Assignment ID")->required();
  OnRun(rr, run, [&, rid, show]() {
    return show(g.catalog->Identity("DELETE", {"role-assignments", *rid}));
  });

  struct AuditFlags {
    std::string principal, result, action, since;
    int limit = 100;
  };
  auto af = std::make_shared<AuditFlags>();
  auto* audit = app.add_subcommand("audit", "Read the audit log (account owners only)");
  audit->add_option("--principal", af->principal, "e.g. oid:<object id> or sharedkey:<account>");
  audit->add_option("--result", af->result, "allowed, failed or denied");
  audit->add_option("--action", af->action, "Operation name, e.g. PutBlob or SetAccessControl");
  audit->add_option("--since", af->since, "RFC 3339 time, e.g. 2026-11-23T00:00:00Z");
  audit->add_option("--limit", af->limit, "At most this many lines")->default_val(100);
  OnRun(audit, run, [&, af, list]() {
    std::vector<std::pair<std::string, std::string>> q{{"limit", std::to_string(af->limit)}};
    if (!af->principal.empty()) q.emplace_back("principal", af->principal);
    if (!af->result.empty()) q.emplace_back("result", af->result);
    if (!af->action.empty()) q.emplace_back("action", af->action);
    if (!af->since.empty()) q.emplace_back("since", af->since);
    return list(g.catalog->Identity("GET", {"audit"}, q), "events",
                {"time", "principal", "action", "resource", "result", "status"});
  });
}

int Main(int argc, char** argv) {
  CLI::App app{
      "tarn: the workspace catalog of a tarnd (workspaces, datastores, datasets) and its\n"
      "directory (tenants, principals, secrets, groups, roles, audit).\n"
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "tarn: error: %s\n", s.message().c_str());
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
