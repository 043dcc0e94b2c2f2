#include "ingest/ingest.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace tarn::ingest {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBuffer = 1 << 20;
constexpr char kManifestName[] = "_manifest.json";
constexpr char kFormat[] = "tarn.ingest.batch/1";

// A name the lake holds as one path segment.
Status CheckSegment(const std::string& s, const std::string& what) {
  if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos ||
      s.find('\\') != std::string::npos || !IsValidUtf8(s) || HasControlChar(s) || s.size() > 255) {
    return Status(Code::kInvalidArgument,
                  what + " '" + s + "' cannot be a lake path segment: use 1 to 255 bytes of "
                         "UTF-8 without '/', '\\' or control characters, and not '.' or '..'");
  }
  return Status::Ok();
}

Status CheckDate(const std::string& d) {
  bool ok = d.size() == 10 && d[4] == '-' && d[7] == '-';
  for (size_t i = 0; ok && i < d.size(); ++i) {
    if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(d[i]))) ok = false;
  }
  if (!ok) return Status(Code::kInvalidArgument, "--date '" + d + "' is not YYYY-MM-DD");
  return Status::Ok();
}

// The tabular format of a file, by its extension; nullopt for any other file.
std::optional<tabular::ReadRequest> TabularRequest(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  tabular::ReadRequest r;
  if (ext == ".csv") {
    r.format = tabular::Format::kCsv;
  } else if (ext == ".tsv") {
    r.format = tabular::Format::kCsv;
    r.options.separator = "\t";
  } else if (ext == ".parquet") {
    r.format = tabular::Format::kParquet;
  } else if (ext == ".jsonl" || ext == ".ndjson") {
    r.format = tabular::Format::kJsonLines;
  } else {
    return std::nullopt;
  }
  return r;
}

// Reads a local file in kBuffer pieces.
class LocalReader {
 public:
  explicit LocalReader(const std::string& path) : f_(std::fopen(path.c_str(), "rb")) {}
  ~LocalReader() {
    if (f_) std::fclose(f_);
  }
  LocalReader(const LocalReader&) = delete;
  LocalReader& operator=(const LocalReader&) = delete;
  bool ok() const { return f_ != nullptr; }
  // An empty view at the end of the file.
  StatusOr<std::string_view> Next() {
    size_t n = std::fread(buf_.data(), 1, buf_.size(), f_);
    if (n == 0 && std::ferror(f_)) return Status(Code::kInternal, "read error");
    return std::string_view(buf_.data(), n);
  }

 private:
  std::FILE* f_;
  std::vector<char> buf_ = std::vector<char>(kBuffer);
};

Status CannotOpen(const LocalFile& f) {
  return Status(Code::kNotFound, f.local_path + ": cannot open for reading");
}

// Serialises progress reports and keeps the phase's running total.
class Reporter {
 public:
  Reporter(const std::function<void(const Progress&)>& fn, std::string phase, int64_t total)
      : fn_(fn), p_{std::move(phase), 0, total} {
    if (fn_) fn_(p_);
  }
  void Add(int64_t n) {
    if (!fn_) return;
    std::lock_guard<std::mutex> l(mu_);
    p_.done += n;
    fn_(p_);
  }

 private:
  const std::function<void(const Progress&)>& fn_;
  std::mutex mu_;
  Progress p_;  // guarded by mu_
};

// Runs work(i, client) for every i in [0, n) on up to `threads` threads; connect (may be null)
// gives each thread its own connection. After the first failure no new item starts; that
// failure is returned.
Status ForEach(size_t n, int threads, const ClientFactory* connect,
               const std::function<Status(size_t, client::LakeClient*)>& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first = Status::Ok();
  auto fail = [&](Status s) {
    std::lock_guard<std::mutex> l(mu);
    if (first.ok()) first = std::move(s);
    failed = true;
  };
  auto loop = [&] {
    std::unique_ptr<client::LakeClient> c;
    if (connect) {
      auto made = (*connect)();
      if (!made.ok()) return fail(made.status());
      c = std::move(*made);
    }
    for (size_t i; !failed && (i = next++) < n;) {
      Status s = work(i, c.get());
      if (!s.ok()) return fail(std::move(s));
    }
  };
  size_t k = std::max<size_t>(1, std::min<size_t>(n, static_cast<size_t>(std::max(threads, 1))));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < k; ++t) pool.emplace_back(loop);
  loop();
  for (auto& t : pool) t.join();
  return first;
}

struct Entry {
  LocalFile file;
  std::string md5;  // raw
  Json tabular;     // null unless tabular
};

Status Hash(Entry& e, Reporter& r) {
  LocalReader in(e.file.local_path);
  if (!in.ok()) return CannotOpen(e.file);
  Md5Stream md5;
  int64_t total = 0;
  for (;;) {
    TARN_ASSIGN_OR_RETURN(std::string_view piece, in.Next());
    if (piece.empty()) break;
    md5.Update(piece);
    total += static_cast<int64_t>(piece.size());
    r.Add(static_cast<int64_t>(piece.size()));
  }
  if (total != e.file.size) {
    return Status(Code::kFailedPrecondition,
                  e.file.local_path + ": changed while being ingested (size)");
  }
  e.md5 = md5.Finish();
  return Status::Ok();
}

Json Describe(tabular::Engine& engine, const Entry& e) {
  auto req = TabularRequest(e.file.batch_path);
  if (!req) return nullptr;
  Json t = {{"format", tabular::FormatName(req->format)}};
  tabular::LocalFileOpener opener;
  auto s = engine.Summarize(opener, {{e.file.local_path, e.file.batch_path, e.file.size}}, *req);
  if (!s.ok()) {
    // Raw keeps native formats as they come: an unreadable file still lands, with the reason.
    t["error"] = s.status().message();
    return t;
  }
  t["rows"] = s->row_count;
  Json cols = Json::array();
  for (const auto& c : s->schema) cols.push_back({{"name", c.name}, {"type", c.type}});
  t["schema"] = std::move(cols);
  return t;
}

// Streams the file to dest, hashing it again on the way: bytes that differ from those hashed
// before fail the upload.
Status Upload(client::LakeClient& c, const std::string& filesystem, const std::string& dest,
              const Entry& e, Reporter& r) {
  LocalReader in(e.file.local_path);
  if (!in.ok()) return CannotOpen(e.file);
  Md5Stream md5;
  int64_t sent = 0;
  Status read_error = Status::Ok();
  client::BodySource source = [&]() -> StatusOr<std::string_view> {
    auto piece = in.Next();
    if (!piece.ok()) {
      read_error = piece.status();
      return piece.status();
    }
    md5.Update(*piece);
    sent += static_cast<int64_t>(piece->size());
    r.Add(static_cast<int64_t>(piece->size()));
    return *piece;
  };
  const std::string md5_b64 = Base64Encode(e.md5);
  Status s = Status::Ok();
  if (e.file.size <= kPutBlobLimit) {
    s = c.PutBlob(filesystem, dest, e.file.size, source, md5_b64);
  } else {
    s = c.CreateFile(filesystem, dest);
    for (int64_t at = 0; s.ok() && at < e.file.size; at += kAppendChunk) {
      s = c.Append(filesystem, dest, at, std::min(kAppendChunk, e.file.size - at), source);
    }
    if (s.ok()) s = c.Flush(filesystem, dest, e.file.size, /*close=*/true);
  }
  if (!read_error.ok()) {
    return Status(read_error.code(), e.file.local_path + ": " + read_error.message());
  }
  const bool changed =
      sent != e.file.size || (s.ok() && md5.Finish() != e.md5) ||
      (!s.ok() && s.message().find("Md5Mismatch") != std::string::npos);
  if (changed) {
    return Status(Code::kFailedPrecondition,
                  e.file.local_path + ": changed while being ingested; nothing was landed");
  }
  if (!s.ok()) return Status(s.code(), e.file.batch_path + ": upload failed: " + s.message());
  return Status::Ok();
}

// The existing batch a marker points at, if it is still there.
StatusOr<std::optional<Result>> FindDuplicate(client::LakeClient& c, const std::string& filesystem,
                                              const std::string& marker) {
  auto body = c.GetBlob(filesystem, marker);
  if (body.status().code() == Code::kNotFound) return std::optional<Result>();
  TARN_RETURN_IF_ERROR(body.status());
  Json m = Json::parse(*body, nullptr, false);
  if (!m.is_object() || !m["path"].is_string()) return std::optional<Result>();
  Result r;
  r.duplicate = true;
  r.path = m["path"].get<std::string>();
  auto manifest = c.GetBlob(filesystem, r.path + "/" + kManifestName);
  if (manifest.status().code() == Code::kNotFound) return std::optional<Result>();
  TARN_RETURN_IF_ERROR(manifest.status());
  r.manifest = Json::parse(*manifest, nullptr, false);
  return std::optional<Result>(std::move(r));
}

}  // namespace

StatusOr<std::vector<LocalFile>> CollectFiles(const std::vector<std::string>& inputs) {
  if (inputs.empty()) return Status(Code::kInvalidArgument, "name at least one file or directory");
  std::vector<LocalFile> out;
  std::map<std::string, std::string> seen;  // batch path -> local path
  auto add = [&](const fs::path& p, const std::string& batch_path) -> Status {
    for (const auto& seg : Split(batch_path, '/')) {
      TARN_RETURN_IF_ERROR(CheckSegment(std::string(seg), "file name"));
    }
    if (batch_path == kManifestName) {
      return Status(Code::kInvalidArgument,
                    p.string() + ": '_manifest.json' at the top of a batch is the batch's own");
    }
    auto [it, fresh] = seen.emplace(batch_path, p.string());
    if (!fresh) {
      return Status(Code::kInvalidArgument, "two files would land as '" + batch_path +
                                                "': " + it->second + " and " + p.string());
    }
    std::error_code ec;
    int64_t size = static_cast<int64_t>(fs::file_size(p, ec));
    if (ec) return Status(Code::kNotFound, p.string() + ": " + ec.message());
    out.push_back({p.string(), batch_path, size});
    return Status::Ok();
  };
  for (const std::string& in : inputs) {
    std::error_code ec;
    fs::path p(in);
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return Status(Code::kNotFound, in + ": no such file or directory");
    if (fs::is_regular_file(st)) {
      TARN_RETURN_IF_ERROR(add(p, p.filename().string()));
    } else if (fs::is_directory(st)) {
      std::vector<fs::path> files;
      for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file()) files.push_back(it->path());
      }
      if (ec) return Status(Code::kInternal, in + ": cannot list: " + ec.message());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        TARN_RETURN_IF_ERROR(add(f, f.lexically_relative(p).generic_string()));
      }
    } else {
      return Status(Code::kInvalidArgument, in + ": neither a regular file nor a directory");
    }
  }
  if (out.empty()) return Status(Code::kInvalidArgument, "no files to ingest in the inputs given");
  return out;
}

StatusOr<Result> Ingest(const std::vector<std::string>& inputs, const Options& options,
                        const ClientFactory& connect, tabular::Engine& engine) {
  TARN_RETURN_IF_ERROR(CheckSegment(options.source, "--source"));
  if (options.source[0] == '.') {
    return Status(Code::kInvalidArgument, "--source may not start with '.' (tarn's own folders do)");
  }
  const int64_t now = NowMicros();
  const std::string stamp = FormatIso8601(now);  // 2026-12-07T01:33:00.0000000Z
  const std::string date = options.date.empty() ? stamp.substr(0, 10) : options.date;
  TARN_RETURN_IF_ERROR(CheckDate(date));
  TARN_ASSIGN_OR_RETURN(std::vector<LocalFile> files, CollectFiles(inputs));

  std::vector<Entry> entries;
  int64_t bytes = 0;
  for (auto& f : files) {
    bytes += f.size;
    entries.push_back({std::move(f), "", nullptr});
  }
  {
    Reporter r(options.progress, "hashing", bytes);
    TARN_RETURN_IF_ERROR(ForEach(entries.size(), options.threads, nullptr,
                                 [&](size_t i, client::LakeClient*) { return Hash(entries[i], r); }));
  }
  // The digest names the content: every path with its size and MD5, in path order.
  std::vector<const Entry*> sorted;
  for (const auto& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const Entry* a, const Entry* b) { return a->file.batch_path < b->file.batch_path; });
  std::string listing;
  for (const Entry* e : sorted) {
    listing += e->file.batch_path + '\0' + std::to_string(e->file.size) + '\0' + HexEncode(e->md5) +
               '\n';
  }
  const std::string digest = HexEncode(Sha256(listing));
  const std::string marker = ".tarn/ingest/" + options.source + "/" + digest + ".json";

  TARN_ASSIGN_OR_RETURN(std::unique_ptr<client::LakeClient> lake, connect());
  if (auto probe = lake->ListPaths(options.filesystem, "", false, "", 1);
      probe.status().code() == Code::kNotFound) {
    return Status(Code::kNotFound, "filesystem '" + options.filesystem +
                                       "' does not exist: create it (az storage fs create, or the "
                                       "lake's zones) or name another with --filesystem");
  } else if (!probe.ok()) {
    return probe.status();
  }
  TARN_ASSIGN_OR_RETURN(auto dup, FindDuplicate(*lake, options.filesystem, marker));
  if (dup) return std::move(*dup);

  {
    int64_t tabular_bytes = 0;
    for (const auto& e : entries) {
      if (TabularRequest(e.file.batch_path)) tabular_bytes += e.file.size;
    }
    Reporter r(options.progress, "describing", tabular_bytes);
    // CPU work: one describer per core (more only contend; measured with bench/ingest_bench.py).
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    TARN_RETURN_IF_ERROR(ForEach(entries.size(), cores, nullptr,
                                 [&](size_t i, client::LakeClient*) {
                                   entries[i].tabular = Describe(engine, entries[i]);
                                   if (!entries[i].tabular.is_null()) r.Add(entries[i].file.size);
                                   return Status::Ok();
                                 }));
  }

  std::string compact;  // 20261207T013300Z
  for (char ch : stamp.substr(0, 19)) {
    if (ch != '-' && ch != ':') compact += ch;
  }
  compact += 'Z';
  const std::string batch = "batch=" + compact + "-" + digest.substr(0, 8);
  const std::string parent = options.source + "/ingest_date=" + date;
  const std::string path = parent + "/" + batch;
  const std::string staging = ".tarn/staging/ingest-" + NewUuid();

  Json listed = Json::array();
  int64_t rows = 0;
  for (const Entry* e : sorted) {
    Json f = {{"path", e->file.batch_path}, {"size", e->file.size}, {"md5", Base64Encode(e->md5)}};
    if (!e->tabular.is_null()) {
      f["tabular"] = e->tabular;
      if (e->tabular.contains("rows")) rows += e->tabular["rows"].get<int64_t>();
    }
    listed.push_back(std::move(f));
  }
  Result result;
  result.path = path;
  for (const Entry* e : sorted) result.local_paths.push_back(e->file.local_path);
  result.manifest = {{"format", kFormat},
                     {"source", options.source},
                     {"filesystem", options.filesystem},
                     {"path", path},
                     {"ingested_at", stamp},
                     {"digest", "sha256:" + digest},
                     {"totals", {{"files", entries.size()}, {"bytes", bytes}, {"rows", rows}}},
                     {"files", std::move(listed)}};

  auto land = [&]() -> Status {
    {
      Reporter r(options.progress, "uploading", bytes);
      TARN_RETURN_IF_ERROR(ForEach(entries.size(), options.threads, &connect,
                                   [&](size_t i, client::LakeClient* c) {
                                     return Upload(*c, options.filesystem,
                                                   staging + "/" + entries[i].file.batch_path,
                                                   entries[i], r);
                                   }));
    }
    // Describing and uploading may have taken longer than tarnd keeps an idle connection.
    TARN_ASSIGN_OR_RETURN(lake, connect());
    TARN_RETURN_IF_ERROR(lake->PutBlob(options.filesystem, staging + "/" + kManifestName,
                                       result.manifest.dump(2) + "\n"));
    TARN_RETURN_IF_ERROR(lake->CreateDirectory(options.filesystem, parent));
    TARN_RETURN_IF_ERROR(
        lake->PutBlob(options.filesystem, marker, Json({{"path", path}}).dump() + "\n"));
    Status moved = lake->Rename(options.filesystem, staging, path, /*overwrite=*/false);
    if (!moved.ok()) {
      (void)lake->DeleteBlob(options.filesystem, marker);
      return Status(moved.code(), "cannot publish the batch at " + path + ": " + moved.message());
    }
    return Status::Ok();
  };
  Status s = land();
  if (!s.ok()) {
    if (auto fresh = connect(); fresh.ok()) lake = std::move(*fresh);
    // Nothing half-landed stays behind: the staging directory goes (best effort; a crash leaves
    // it to retention).
    (void)lake->Delete(options.filesystem, staging, /*recursive=*/true);
    return s;
  }
  return result;
}

StatusOr<std::string> DatastoreFor(client::CatalogClient& catalog, const Registration& r,
                                   const std::string& filesystem, const std::string& account) {
  if (r.workspace.empty()) {
    return Status(Code::kInvalidArgument,
                  "registering a dataset needs a workspace: give --workspace, set TARN_WORKSPACE, "
                  "or run where a config.json names one");
  }
  if (r.format != "" && r.format != "csv" && r.format != "parquet" && r.format != "jsonl") {
    return Status(Code::kInvalidArgument, "format '" + r.format + "': use csv, parquet or jsonl");
  }
  if (!r.datastore.empty()) {
    TARN_ASSIGN_OR_RETURN(Json d, catalog.GetDatastore(r.workspace, r.datastore));
    if (d.value("filesystem", "") != filesystem || !d.value("local", false)) {
      return Status(Code::kInvalidArgument,
                    "datastore '" + r.datastore + "' is not filesystem '" + filesystem +
                        "' on this tarnd: the batch could not be read through it");
    }
    return r.datastore;
  }
  TARN_ASSIGN_OR_RETURN(Json list, catalog.ListDatastores(r.workspace));
  for (const auto& d : list.value("datastores", Json::array())) {
    if (d.value("filesystem", "") == filesystem && d.value("local", false) &&
        d.value("account_name", account) == account) {
      return d.value("name", "");
    }
  }
  return Status(Code::kNotFound,
                "workspace '" + r.workspace + "' has no datastore for filesystem '" + filesystem +
                    "': register one (tarn datastore register NAME --filesystem " + filesystem +
                    ") or name one with --datastore");
}

StatusOr<Json> RegisterBatch(client::CatalogClient& catalog, const Registration& r,
                             const std::string& filesystem, const Result& batch) {
  if (batch.duplicate) {
    auto latest = catalog.GetDataset(r.workspace, r.dataset, "latest");
    if (latest.ok() && latest->value("tags", Json::object()).value("batch", "") == batch.path &&
        latest->value("tags", Json::object()).value("filesystem", "") == filesystem) {
      return *latest;
    }
  }
  client::VersionSpec spec;
  std::string path = batch.path;
  if (!r.format.empty()) path += "/**/*." + r.format;
  spec.definition = {{"kind", r.format.empty() ? "file" : "tabular"},
                     {"paths", Json::array({{{"datastore", r.datastore}, {"path", path}}})}};
  if (!r.format.empty()) spec.definition["format"] = r.format;
  spec.description = "raw batch " + filesystem + "/" + batch.path + ", landed by tarn ingest";
  spec.tags = {{"source", batch.manifest.value("source", "")},
               {"filesystem", filesystem},
               {"batch", batch.path},
               {"digest", batch.manifest.value("digest", "")},
               {"ingested_at", batch.manifest.value("ingested_at", "")}};
  spec.create_new_version = true;
  auto v = catalog.RegisterVersion(r.workspace, r.dataset, spec);
  if (!v.ok()) {
    return Status(v.status().code(),
                  "the batch landed at " + filesystem + "/" + batch.path +
                      ", but registering it as dataset '" + r.dataset +
                      "' failed: " + v.status().message());
  }
  Status kept = catalog.PostLineageEvent(
      r.workspace, IngestEvent(r, catalog.account(), filesystem, batch, *v));
  if (!kept.ok()) {
    return Status(kept.code(), "the batch landed at " + filesystem + "/" + batch.path +
                                   " as dataset '" + r.dataset + "' version " +
                                   std::to_string(v->value("version", int64_t{0})) +
                                   ", but its lineage was not kept: " + kept.message());
  }
  return v;
}

Json IngestEvent(const Registration& r, const std::string& account, const std::string& filesystem,
                 const Result& batch, const Json& version) {
  constexpr char kProducer[] = "https://github.com/tarn-lake/tarn/tree/main/src/ingest";
  char host[256] = "localhost";
  (void)::gethostname(host, sizeof host - 1);
  Json inputs = Json::array();
  for (const std::string& p : batch.local_paths) {
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(p, ec).lexically_normal().string();
    inputs.push_back({{"namespace", std::string("file://") + host},
                      {"name", ec ? p : abs},
                      {"facets", Json::object()}});
  }
  Json tarn_dataset{{"_producer", kProducer},
                    {"_schemaURL", std::string(kProducer) + "#tarn_dataset"},
                    {"name", r.dataset},
                    {"version", version.value("version", int64_t{0})},
                    {"id", version.value("id", "")}};
  Json output{{"namespace", "abfss://" + filesystem + "@" + account + ".dfs.core.windows.net"},
              {"name", batch.path},
              {"facets", {{"tarn_dataset", tarn_dataset}}}};
  return Json{{"eventType", "COMPLETE"},
              {"eventTime", batch.manifest.value("ingested_at", "")},
              {"producer", kProducer},
              {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"},
              {"run", {{"runId", NewUuid()}}},
              {"job", {{"namespace", "tarn/" + r.workspace},
                       {"name", "ingest." + batch.manifest.value("source", "")}}},
              {"inputs", inputs},
              {"outputs", Json::array({output})}};
}

}  // namespace tarn::ingest
