// tarn dataset ...: dataset versions, their files, previews, downloads and mounts (docs/cli.md).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/output.h"
#include "client/catalog_client.h"
#include "mount/dataset_mount.h"
#ifdef TARN_WITH_TABULAR
#include "dataset_reader/dataset_reader.h"
#endif

namespace tarn::cli {
namespace {

using client::Json;

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
  if (v.value("rejected_lines", int64_t{0}) > 0) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : v.value("rejected", Json::array())) {
      rows.push_back({Cell(r, "path"), std::to_string(r.value("line", 0)), Cell(r, "error")});
    }
    Print("\nleft out: " + std::to_string(v["rejected_lines"].get<int64_t>()) +
          " line(s) that could not be read\n" + FormatTable({"FILE", "LINE", "ERROR"}, rows));
  }
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

}  // namespace

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
    WarnRejectedLines(v);
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

}  // namespace tarn::cli
