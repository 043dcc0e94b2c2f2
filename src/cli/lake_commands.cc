// tarn lake plan|apply|check FILE: the lake's layout as code (layout/lake_layout.h), applied by
// an account Owner (signed in, or with the key).
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "client/lake_client.h"
#include "layout/apply.h"

namespace tarn::cli {
namespace {

StatusOr<layout::Layout> Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, path + ": cannot read the layout file");
  std::stringstream text;
  text << in.rdbuf();
  return layout::ParseLayout(text.str(), path);
}

StatusOr<std::unique_ptr<client::LakeClient>> LakeAs(const Connection& conn) {
  TARN_ASSIGN_OR_RETURN(client::LakeClientOptions o, LakeOptionsFor(conn));
  return client::LakeClient::Create(conn.endpoint, o);
}

const char* Sign(layout::Change::Kind k) {
  using K = layout::Change::Kind;
  switch (k) {
    case K::kRemoveRole:
      return "-";
    case K::kSetAcl:
    case K::kRecordLayout:
      return "~";
    default:
      return "+";
  }
}

client::Json ToJson(const std::vector<layout::Change>& changes) {
  client::Json a = client::Json::array();
  for (const auto& c : changes) {
    a.push_back({{"change", layout::KindName(c.kind)}, {"target", c.target}, {"detail", c.detail}});
  }
  return a;
}

void PrintChanges(const std::vector<layout::Change>& changes) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : changes) {
    rows.push_back({Sign(c.kind), layout::KindName(c.kind), c.target, c.detail});
  }
  std::string t = FormatTable({"", "CHANGE", "WHERE", "WHAT"}, rows);
  Print(t);
}

enum class Mode { kPlan, kApply, kCheck };

Status Run(Globals& g, const std::string& file, Mode mode) {
  TARN_ASSIGN_OR_RETURN(layout::Layout l, Load(file));
  const std::string account = l.account.empty() ? g.conn.account : l.account;
  if (!l.account.empty() && l.account != g.conn.account) {
    g.conn.account = l.account;
  }
  TARN_ASSIGN_OR_RETURN(auto lake, LakeAs(g.conn));
  layout::Connections c{g.catalog.get(), lake.get(), account};
  if (mode == Mode::kApply) {
    std::vector<layout::Change> made;
    auto done = layout::Apply(l, c, [&](const layout::Change& ch) {
      made.push_back(ch);
      if (!g.json) {
        Print(std::string(Sign(ch.kind)) + " " + layout::KindName(ch.kind) + "  " + ch.target +
              (ch.detail.empty() ? "" : "  " + ch.detail) + "\n");
      }
    });
    if (!done.ok()) {
      return Status(done.status().code(), done.status().message() + " (" +
                                              std::to_string(made.size()) +
                                              " changes were made before it; apply again once "
                                              "it is fixed)");
    }
    if (g.json) {
      PrintJson({{"applied", ToJson(*done)}, {"digest", l.digest}});
    } else {
      Print(done->empty() ? "No changes: the lake matches " + file + ".\n"
                          : "Applied " + std::to_string(done->size()) + " changes.\n");
    }
    return Status::Ok();
  }
  TARN_ASSIGN_OR_RETURN(layout::Live live, layout::ReadLive(l, c));
  std::vector<layout::Change> diff = layout::Diff(l, account, live);
  if (mode == Mode::kPlan) {
    if (g.json) {
      PrintJson({{"changes", ToJson(diff)}, {"digest", l.digest}});
    } else if (diff.empty()) {
      Print("No changes: the lake matches " + file + ".\n");
    } else {
      PrintChanges(diff);
      Print(std::to_string(diff.size()) + " changes; `tarn lake apply " + file +
            "` makes them.\n");
    }
    return Status::Ok();
  }
  // check: the layout must have been applied as it is; then any difference is drift.
  std::vector<std::string> stale;
  for (const auto& z : l.zones) {
    auto it = live.applied.find(z.filesystem);
    if (it == live.applied.end() || it->second != l.digest) stale.push_back(z.filesystem);
  }
  std::vector<layout::Change> drift = layout::Drift(diff);
  if (g.json) {
    PrintJson({{"drift", ToJson(drift)}, {"not_applied", stale}, {"digest", l.digest}});
  } else {
    for (const auto& fs : stale) {
      Print("filesystem " + fs + ": " + file +
            " as it is now was never applied here (`tarn lake plan` shows what applying "
            "changes)\n");
    }
    if (!drift.empty()) {
      Print("Drift: changed by hand since the layout was applied\n");
      PrintChanges(drift);
    }
  }
  if (!stale.empty() || !drift.empty()) {
    return Status(Code::kFailedPrecondition,
                  std::to_string(drift.size()) + " differences from " + file +
                      (stale.empty() ? "" : ", and zones where it is not applied") +
                      "; `tarn lake apply " + file + "` restores it");
  }
  if (!g.json) Print("No drift: the lake matches " + file + ".\n");
  return Status::Ok();
}

}  // namespace

void AddLakeCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto* lake = app.add_subcommand(
      "lake",
      "The lake's layout as code (account owners): zones, domain folders, groups, grants and\n"
      "retention in a lake.yaml (see docs/lake-layout.md).");
  lake->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* plan = lake->add_subcommand(
      "plan", "Show what applying the layout would change, and change nothing");
  plan->add_option("file", *file, "The layout, e.g. lake.yaml")->required();
  OnRun(plan, run, [&g, file] { return Run(g, *file, Mode::kPlan); });
  auto* apply = lake->add_subcommand(
      "apply",
      "Make the lake match the layout: filesystems, folders, groups, role assignments and\n"
      "default ACLs. Idempotent: applying it again changes nothing.");
  apply->add_option("file", *file, "The layout, e.g. lake.yaml")->required();
  OnRun(apply, run, [&g, file] { return Run(g, *file, Mode::kApply); });
  auto* check = lake->add_subcommand(
      "check",
      "Report drift: role assignments and ACLs changed by hand since the layout was applied\n"
      "(exit 4 when there is any).");
  check->add_option("file", *file, "The layout, e.g. lake.yaml")->required();
  OnRun(check, run, [&g, file] { return Run(g, *file, Mode::kCheck); });
}

}  // namespace tarn::cli
