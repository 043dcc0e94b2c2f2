// GET /<account>/<fs>/<path>?action=preview: the first rows of a CSV, Parquet or JSON-lines file
// of the lake, read by the tabular engine (DuckDB) over the file's bytes in place. Authorized as
// a read of the file (the route's policy), so whoever may read the file may preview it. Tarn's
// own extension of the DFS API, for Tarn Studio (docs/api.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/context.h"
#include "tabular/tabular.h"

namespace tarn::protocol::preview_ops {

// The request's format and row count: ?format= (csv, parquet or jsonl; else from the file name's
// extension: .csv, .tsv, .parquet, .jsonl, .ndjson) and ?rows= (1 to 100, default 20).
inline constexpr int64_t kMaxPreviewRows = 100;
// Refuses a row count outside 1..kMaxPreviewRows, saying so.
Status CheckPreviewRows(int64_t rows);

struct PreviewRequest {
  std::string format;
  int64_t rows = 20;
};
StatusOr<PreviewRequest> ParsePreviewRequest(const std::string& path,
                                             const std::optional<std::string>& format,
                                             const std::optional<std::string>& rows);

Status PreviewFile(Ctx& c);

// The planned read of a whole lake file as the tabular engine's files: every file it opens is
// the plan's bytes, read in place. The plan must outlive the opener.
class PlanOpener final : public tabular::FileOpener {
 public:
  explicit PlanOpener(lake::ReadPlan& plan) : plan_(plan) {}
  StatusOr<std::unique_ptr<tabular::RandomAccessFile>> Open(const tabular::SourceFile&) override;

 private:
  lake::ReadPlan& plan_;
};

// A table's columns ({"name", "type"}: int64, double, bool, string or timestamp) and rows as
// JSON values (timestamps as ISO 8601 text in UTC, non-finite doubles as "NaN" or
// "Infinity"): the shape of a preview.
nlohmann::json TableJson(const tabular::Table& table);

}  // namespace tarn::protocol::preview_ops
