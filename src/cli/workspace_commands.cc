// tarn workspace ... and tarn datastore ...: workspaces and their datastores (docs/cli.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "client/catalog_client.h"

namespace tarn::cli {
namespace {

using client::Json;

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

// ----- datastores --------------------------------------------------------------------------

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

}  // namespace

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

}  // namespace tarn::cli
