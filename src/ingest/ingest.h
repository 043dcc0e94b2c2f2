// Ingestion into the raw zone: local files or directories land in a filesystem of the lake as
// one batch, with a manifest, all at once or not at all. The tarn CLI (`tarn ingest`) and the
// Python SDK (`tarn.core.ingest`) both call Ingest.
//
// A batch of source S ingested on day D (UTC) lands at
//   S/ingest_date=D/batch=<YYYYMMDDTHHMMSSZ>-<digest prefix>/<the files>
//   S/ingest_date=D/batch=.../_manifest.json
// The manifest (format "tarn.ingest.batch/1") records the source, the time, the batch's content
// digest, and for each file its path, size and MD5 (base64, as Azure's Content-MD5); for each
// tabular file (.csv .tsv .parquet .jsonl .ndjson) also its format, row count and detected
// schema. Totals: files, bytes, rows.
//
// How it is safe
// - Staged, then one rename: files are uploaded under `.tarn/staging/ingest-<uuid>/` of the same
//   filesystem, the manifest last, and the directory is renamed into place. Readers of S/ see the
//   whole batch or nothing. A failure deletes the staging directory; a crash leaves it for the
//   zone's retention to remove.
// - Every file is hashed before the upload and again while it streams; a file that changes in
//   between fails the batch ("changed while being ingested"), and Put Blob carries Content-MD5,
//   so tarnd refuses bytes that do not match the manifest.
// - Identical content is not landed twice: the batch's digest (SHA-256 over the sorted paths,
//   sizes and MD5s) names a marker `.tarn/ingest/<S>/<digest>.json` that points at the batch.
//   A marker whose batch no longer exists (a crash between marker and rename, or a deleted batch)
//   does not count.
//
// Transfers run on `threads` connections at once and stream (1 MiB buffers); files larger than
// kPutBlobLimit go up as DFS appends of kAppendChunk bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/catalog_client.h"
#include "client/lake_client.h"
#include "common/status.h"
#include "tabular/tabular.h"

namespace tarn::ingest {

using Json = nlohmann::json;

inline constexpr int64_t kPutBlobLimit = 256LL << 20;
inline constexpr int64_t kAppendChunk = 64LL << 20;

// What the caller sees while a batch lands: the phase ("hashing", "describing", "uploading"),
// and bytes done of the phase's total. Called from worker threads, serialised.
struct Progress {
  std::string phase;
  int64_t done = 0;
  int64_t total = 0;
};

struct Options {
  std::string filesystem = "raw";
  std::string source;  // required: one folder name
  std::string date;    // "YYYY-MM-DD"; "" = today (UTC)
  int threads = 8;
  std::function<void(const Progress&)> progress;  // may be empty
};

struct Result {
  bool duplicate = false;  // identical content was already landed: nothing was uploaded
  std::string path;        // the batch's directory in the filesystem (the existing one if duplicate)
  Json manifest;           // the manifest written (or the existing batch's, if duplicate)
  // Each landed file's local path, in the manifest's order (empty if duplicate).
  std::vector<std::string> local_paths{};
};

// Makes one connection to the lake; Ingest calls it once per worker thread.
using ClientFactory = std::function<StatusOr<std::unique_ptr<client::LakeClient>>()>;

// A local file to land and its path inside the batch ("2024/jan.csv").
struct LocalFile {
  std::string local_path;
  std::string batch_path;
  int64_t size = 0;
};

// The files named by `inputs`: a file lands under its own name, a directory's regular files
// (recursively) under their path relative to it. kInvalidArgument for a missing input, an input
// that is neither, two files with one batch path, or a name the lake cannot hold.
StatusOr<std::vector<LocalFile>> CollectFiles(const std::vector<std::string>& inputs);

// Lands `inputs` as one batch. `engine` describes the tabular files.
StatusOr<Result> Ingest(const std::vector<std::string>& inputs, const Options& options,
                        const ClientFactory& connect, tabular::Engine& engine);

// Registering a batch as a dataset version of a workspace, the ingestion's output in the
// catalog: a file dataset over the whole batch (its manifest included), or, with `format`
// ("csv", "parquet", "jsonl"), a tabular one over the batch's files of that format. The
// version's tags name the source, the batch's path and filesystem, its digest and time.
struct Registration {
  std::string workspace;
  std::string dataset;
  std::string datastore;  // "" = the workspace's datastore for the filesystem on this account
  std::string format;     // "" = a file dataset
};

// The datastore to register through: the one named (checked to be the filesystem), or the
// workspace's datastore for `filesystem` on `account` of this tarnd. kNotFound says how to
// register one. Called before landing anything, so that a bad name changes nothing.
StatusOr<std::string> DatastoreFor(client::CatalogClient& catalog, const Registration& r,
                                   const std::string& filesystem, const std::string& account);

// Registers the batch as a new version of r.dataset (resolved datastore in r.datastore). For a
// duplicate batch whose latest version already is that batch, returns that version instead.
StatusOr<Json> RegisterBatch(client::CatalogClient& catalog, const Registration& r,
                             const std::string& filesystem, const Result& batch);

// The ingestion's OpenLineage RunEvent (job "ingest.<source>"): the local files as inputs
// (namespace file://<host>), the batch as output (the lake's ADLS naming) with the dataset
// version it was registered as. RegisterBatch keeps it in the workspace (best effort: a failure
// is returned, the batch and the version stay).
Json IngestEvent(const Registration& r, const std::string& account, const std::string& filesystem,
                 const Result& batch, const Json& version);

}  // namespace tarn::ingest
