// Reading a registered dataset version on the client: the tabular engine (DuckDB) reads the
// version's registered bytes through CatalogClient's ranged, parallel file reads; nothing is
// copied to a temporary file. Used by the tarn CLI (preview) and the Python SDK (read_table).
//
//   client::VersionRef v{"ws1", "sales", 2};
//   TARN_ASSIGN_OR_RETURN(auto files, catalog.ListFiles(v));
//   DatasetReader reader(engine, catalog, v, files);
//   TARN_ASSIGN_OR_RETURN(tabular::Table t, reader.Read(definition, {.limit = 10}));
//
// `definition` is a version's definition ({"format","options","transforms"}), possibly with more
// transforms appended by the caller (take, filter, ...). Thread-safety: as the Engine's.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/catalog_client.h"
#include "common/status.h"
#include "tabular/tabular.h"

namespace tarn::dataset_reader {

// Files of a version as the engine sees them: SourceFile::key is the manifest index. The first
// failed read is kept, so that a caller can tell the server's error (DatasetDrift, ...) from the
// engine's message, which wraps it.
class CatalogFileOpener final : public tabular::FileOpener {
 public:
  CatalogFileOpener(client::CatalogClient& catalog, client::VersionRef v)
      : catalog_(catalog), v_(std::move(v)) {}
  StatusOr<std::unique_ptr<tabular::RandomAccessFile>> Open(const tabular::SourceFile& f) override;

  void RecordError(const Status& s);
  // The engine's failure `s`, led by the server's error code of the first failed read, if any.
  Status Explain(const Status& s);

 private:
  client::CatalogClient& catalog_;
  client::VersionRef v_;
  std::mutex mu_;
  Status first_error_;  // guarded by mu_
};

struct ReadOptions {
  bool fail_on_error = false;  // azureml on_error='fail'
  std::optional<int64_t> limit;
};

// The engine's request for a definition; kInvalidArgument names the bad field.
StatusOr<tabular::ReadRequest> RequestFor(const nlohmann::json& definition,
                                          const ReadOptions& o = {});

class DatasetReader {
 public:
  DatasetReader(tabular::Engine& engine, client::CatalogClient& catalog, client::VersionRef v,
                const std::vector<client::DatasetFile>& files);

  StatusOr<tabular::Table> Read(const nlohmann::json& definition, const ReadOptions& o = {});
  StatusOr<tabular::Profile> Profile(const nlohmann::json& definition);
  // Writes the result into the existing local_dir as CSV or Parquet; returns the names written.
  StatusOr<std::vector<std::string>> Write(const nlohmann::json& definition, tabular::Format out,
                                           const std::string& local_dir,
                                           const std::string& separator = ",");

 private:
  tabular::Engine& engine_;
  CatalogFileOpener opener_;
  std::vector<tabular::SourceFile> sources_;
};

}  // namespace tarn::dataset_reader
