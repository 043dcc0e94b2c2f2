// tarn tenant|principal|secret|group|role|audit: the directory admin API (account owners).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <tuple>

#include "cli/commands.h"
#include "cli/output.h"
#include "client/catalog_client.h"

namespace tarn::cli {

using client::Json;

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

}  // namespace tarn::cli
