// tarn ingest: lands local files or directories in the raw zone as one batch with a manifest
// (ingest/ingest.h), as the signed-in user (or the account key, when TARN_ACCOUNT_KEY is set).
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "client/lake_client.h"
#include "ingest/ingest.h"
#include "tabular/tabular.h"

namespace tarn::cli {
namespace {

// Connections to the lake as the CLI's caller, one per transfer thread.
StatusOr<ingest::ClientFactory> LakeConnections(const Connection& conn) {
  TARN_ASSIGN_OR_RETURN(client::LakeClientOptions o, LakeOptionsFor(conn));
  return ingest::ClientFactory(
      [endpoint = conn.endpoint, o] { return client::LakeClient::Create(endpoint, o); });
}

struct IngestArgs {
  std::vector<std::string> inputs;
  ingest::Options options;
  ingest::Registration registration;  // dataset "" = none
};

Status RunIngest(Globals& g, IngestArgs& a) {
  TARN_ASSIGN_OR_RETURN(ingest::ClientFactory connect, LakeConnections(g.conn));
  ingest::Registration& reg = a.registration;
  if (!reg.dataset.empty()) {
    // Before landing anything: a datastore that cannot be found changes nothing.
    reg.workspace = g.conn.workspace;
    TARN_ASSIGN_OR_RETURN(reg.datastore, ingest::DatastoreFor(*g.catalog, reg,
                                                              a.options.filesystem,
                                                              g.conn.account));
  } else if (!reg.datastore.empty() || !reg.format.empty()) {
    return Status(Code::kInvalidArgument, "--datastore and --format go with --dataset");
  }
  const bool draw = !g.json && ::isatty(STDERR_FILENO);
  std::unique_ptr<ProgressBar> bar;
  std::string phase;
  int64_t shown = 0;
  a.options.progress = [&](const ingest::Progress& p) {
    if (p.phase != phase) {
      if (bar) bar->Finish();
      phase = p.phase;
      shown = 0;
      bar = std::make_unique<ProgressBar>(stderr, p.total, draw, p.phase);
    }
    bar->Add(p.done - shown);
    shown = p.done;
  };
  tabular::Engine engine;
  TARN_ASSIGN_OR_RETURN(ingest::Result r,
                        ingest::Ingest(a.inputs, a.options, connect, engine));
  if (bar) bar->Finish();
  client::Json version;
  if (!reg.dataset.empty()) {
    TARN_ASSIGN_OR_RETURN(version, ingest::RegisterBatch(*g.catalog, reg, a.options.filesystem, r));
  }
  if (g.json) {
    client::Json out = {{"duplicate", r.duplicate}, {"path", r.path}, {"manifest", r.manifest}};
    if (!version.is_null()) out["dataset"] = version;
    PrintJson(out);
    return Status::Ok();
  }
  if (!version.is_null()) WarnRejectedLines(version);
  std::string registered;
  if (!version.is_null()) {
    registered = "dataset " + version.value("name", "") + " version " +
                 std::to_string(version.value("version", int64_t{0})) + " is this batch\n";
  }
  const std::string where = a.options.filesystem + "/" + r.path;
  const auto& totals = r.manifest.value("totals", client::Json::object());
  if (r.duplicate) {
    Print("identical content was already ingested as " + where + " (at " +
          r.manifest.value("ingested_at", "") + "); nothing was uploaded\n" + registered);
    return Status::Ok();
  }
  Print("ingested " + std::to_string(totals.value("files", 0)) + " files (" +
        FormatBytes(totals.value("bytes", int64_t{0})) + ", " +
        std::to_string(totals.value("rows", int64_t{0})) + " rows) as " + where + "\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : r.manifest["files"]) {
    std::string fmt, count, note;
    if (f.contains("tabular")) {
      fmt = f["tabular"].value("format", "");
      if (f["tabular"].contains("rows")) count = std::to_string(f["tabular"]["rows"].get<int64_t>());
      if (f["tabular"].contains("error")) note = "unreadable: " + f["tabular"]["error"].get<std::string>();
      if (f["tabular"].contains("schema")) note = std::to_string(f["tabular"]["schema"].size()) + " columns";
    }
    rows.push_back({f.value("path", ""), FormatBytes(f.value("size", int64_t{0})), fmt, count, note});
  }
  Print(FormatTable({"FILE", "SIZE", "FORMAT", "ROWS", "SCHEMA"}, rows));
  Print(registered);
  return Status::Ok();
}

}  // namespace

void AddIngestCommands(CLI::App& app, Globals& g, std::function<Status()>& run) {
  auto a = std::make_shared<IngestArgs>();
  auto* sub = app.add_subcommand(
      "ingest",
      "Land local files or directories in the raw zone as one batch.\n"
      "The batch appears whole or not at all, at\n"
      "  <filesystem>/<source>/ingest_date=<day>/batch=<time>-<digest>/\n"
      "with a _manifest.json: each file's size and MD5, and each CSV/TSV/Parquet/JSON-lines\n"
      "file's row count and schema. Content already ingested is reported, not landed again.\n"
      "With --dataset the batch also becomes a new version of a dataset of the workspace.\n"
      "Example: tarn ingest ./exports/2024-06 --source pos --dataset pos_raw --format csv");
  sub->add_option("inputs", a->inputs, "Files or directories (a directory's files keep their paths)")
      ->required();
  sub->add_option("--source,-s", a->options.source, "Where the data comes from: one folder name")
      ->required();
  sub->add_option("--filesystem,-f", a->options.filesystem, "The raw zone's filesystem")
      ->capture_default_str();
  sub->add_option("--date", a->options.date, "Ingestion day, YYYY-MM-DD (default: today, UTC)");
  sub->add_option("--threads", a->options.threads, "Files transferred at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub->add_option("--dataset", a->registration.dataset,
                  "Also register the batch as a new version of this dataset of the workspace");
  sub->add_option("--datastore", a->registration.datastore,
                  "The workspace's datastore for the filesystem (default: the one whose "
                  "filesystem it is)");
  sub->add_option("--format", a->registration.format,
                  "With --dataset: a tabular dataset of the batch's csv, parquet or jsonl files "
                  "(default: a file dataset of the whole batch)")
      ->check(CLI::IsMember({"csv", "parquet", "jsonl"}));
  OnRun(sub, run, [&g, a] { return RunIngest(g, *a); });
}

}  // namespace tarn::cli
