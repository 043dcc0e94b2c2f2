#include "protocol/studio/preview_ops.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "tabular/tabular.h"

namespace tarn::protocol::preview_ops {
namespace {

using Json = nlohmann::json;

// The planned read of a whole file as the engine's random-access file: pieces in order.
class PlanFile final : public tabular::RandomAccessFile {
 public:
  explicit PlanFile(lake::ReadPlan& plan) : plan_(plan) {
    int64_t at = 0;
    for (const auto& p : plan_.pieces) {
      starts_.push_back(at);
      at += p.length;
    }
  }
  int64_t Size() const override { return plan_.length; }
  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    size_t got = 0;
    if (offset < 0 || starts_.empty()) return got;
    size_t i = std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin() - 1;
    while (got < n && i < plan_.pieces.size()) {
      auto& p = plan_.pieces[i];
      const int64_t within = offset + static_cast<int64_t>(got) - starts_[i];
      const int64_t left = p.length - within;
      if (left <= 0) {
        ++i;
        continue;
      }
      const size_t want = static_cast<size_t>(std::min<int64_t>(left, n - got));
      TARN_ASSIGN_OR_RETURN(size_t k, p.reader->ReadAt(p.offset + within, buf + got, want));
      if (k == 0) return InternalError("an extent is shorter than its metadata says");
      got += k;
    }
    return got;
  }

 private:
  lake::ReadPlan& plan_;
  std::vector<int64_t> starts_;
};

const char* TypeName(tabular::Column::Type t) {
  switch (t) {
    case tabular::Column::Type::kInt64: return "int64";
    case tabular::Column::Type::kDouble: return "double";
    case tabular::Column::Type::kBool: return "bool";
    case tabular::Column::Type::kTimestampUs: return "timestamp";
    case tabular::Column::Type::kString: break;
  }
  return "string";
}

Json Cell(const tabular::Column& col, size_t row) {
  if (!col.valid.empty() && !col.valid[row]) return nullptr;
  switch (col.type) {
    case tabular::Column::Type::kInt64: return col.i64[row];
    case tabular::Column::Type::kDouble: {
      const double v = col.f64[row];
      if (std::isfinite(v)) return v;
      return std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    }
    case tabular::Column::Type::kBool: return col.b[row] != 0;
    case tabular::Column::Type::kTimestampUs: {
      const int64_t us = col.i64[row];
      std::time_t s = static_cast<std::time_t>(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
      std::tm tm{};
      gmtime_r(&s, &tm);
      char out[40];
      std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
      const int64_t frac = us - static_cast<int64_t>(s) * 1000000;
      std::string text(out);
      if (frac) {
        char f[8];
        std::snprintf(f, sizeof f, ".%06lld", static_cast<long long>(frac));
        text += f;
      }
      return text + "Z";
    }
    case tabular::Column::Type::kString: break;
  }
  return std::string(col.String(row));
}

}  // namespace

StatusOr<std::unique_ptr<tabular::RandomAccessFile>> PlanOpener::Open(const tabular::SourceFile&) {
  return std::unique_ptr<tabular::RandomAccessFile>(new PlanFile(plan_));
}

Json TableJson(const tabular::Table& table) {
  Json columns = Json::array(), rows = Json::array();
  for (const auto& col : table.columns) {
    columns.push_back({{"name", col.name}, {"type", TypeName(col.type)}});
  }
  for (int64_t r = 0; r < table.rows; ++r) {
    Json row = Json::array();
    for (const auto& col : table.columns) row.push_back(Cell(col, static_cast<size_t>(r)));
    rows.push_back(std::move(row));
  }
  return Json{{"columns", columns}, {"rows", rows}};
}

Status CheckPreviewRows(int64_t rows) {
  if (rows >= 1 && rows <= kMaxPreviewRows) return Status::Ok();
  return Error(Reason::kInvalidQueryParameterValue,
               "rows must be a number from 1 to " + std::to_string(kMaxPreviewRows) + ".");
}

StatusOr<PreviewRequest> ParsePreviewRequest(const std::string& path,
                                             const std::optional<std::string>& format,
                                             const std::optional<std::string>& rows) {
  PreviewRequest r;
  if (format && !format->empty()) {
    if (*format != "csv" && *format != "parquet" && *format != "jsonl") {
      return Error(Reason::kInvalidQueryParameterValue,
                   "format must be csv, parquet or jsonl, not '" + *format + "'.");
    }
    r.format = *format;
  } else {
    std::string lower = path;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (auto [ext, f] : {std::pair{".csv", "csv"}, std::pair{".tsv", "csv"},
                          std::pair{".parquet", "parquet"}, std::pair{".jsonl", "jsonl"},
                          std::pair{".ndjson", "jsonl"}}) {
      if (EndsWith(lower, ext)) r.format = f;
    }
    if (r.format.empty()) {
      return Error(Reason::kInvalidQueryParameterValue,
                   "This file's name does not say its format: add format=csv, parquet or "
                   "jsonl.");
    }
  }
  if (rows && !rows->empty()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(rows->data(), rows->data() + rows->size(), n);
    if (ec != std::errc() || end != rows->data() + rows->size()) return CheckPreviewRows(0);
    TARN_RETURN_IF_ERROR(CheckPreviewRows(n));
    r.rows = n;
  }
  return r;
}

Status PreviewFile(Ctx& c) {
  TARN_ASSIGN_OR_RETURN(lake::Conditions cond, ParseConditions(c));
  TARN_ASSIGN_OR_RETURN(lake::ReadPlan plan, c.lake.OpenRead(c.account->name, c.fs, c.path,
                                                             std::nullopt, ParseAccess(c, cond)));
  if (plan.node.is_dir) {
    return Error(Reason::kResourceTypeMismatch, "A directory has no preview: name a file.");
  }
  TARN_ASSIGN_OR_RETURN(PreviewRequest pr,
                        ParsePreviewRequest(c.path, c.Query("format"), c.Query("rows")));
  tabular::ReadRequest req;
  TARN_ASSIGN_OR_RETURN(req.format, tabular::ParseFormat(pr.format));
  if (EndsWith(c.path, ".tsv") || EndsWith(c.path, ".TSV")) req.options.separator = "\t";
  req.options.invalid_lines = "drop";
  req.limit = pr.rows;
  PlanOpener opener(plan);
  const std::vector<tabular::SourceFile> files{{"0", c.path, plan.length}};
  auto table = tabular::ProcessEngine().Read(opener, files, req);
  if (!table.ok()) {
    return Error(Reason::kInvalidInput, "This file does not read as " + pr.format + ": " +
                                            table.status().message());
  }
  Json out = TableJson(*table);
  out["format"] = pr.format;
  out["size"] = plan.length;
  out["etag"] = "\"" + plan.node.etag + "\"";
  return c.Reply(200, {{"Cache-Control", "no-store"}}, out.dump(-1, ' ', false,
                                                                  Json::error_handler_t::replace),
                 "application/json");
}

}  // namespace tarn::protocol::preview_ops
