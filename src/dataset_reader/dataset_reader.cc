#include "dataset_reader/dataset_reader.h"

#include "common/strings.h"

namespace tarn::dataset_reader {
namespace {

class CatalogFile final : public tabular::RandomAccessFile {
 public:
  CatalogFile(CatalogFileOpener& opener, client::CatalogClient& catalog, client::VersionRef v,
              int64_t index, int64_t size)
      : opener_(opener), reader_(catalog, std::move(v), index, size) {}
  int64_t Size() const override { return reader_.Size(); }
  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    StatusOr<size_t> r = reader_.ReadAt(offset, buf, n);
    if (!r.ok()) opener_.RecordError(r.status());
    return r;
  }

 private:
  CatalogFileOpener& opener_;
  client::DatasetFileReader reader_;
};

}  // namespace

StatusOr<std::unique_ptr<tabular::RandomAccessFile>> CatalogFileOpener::Open(
    const tabular::SourceFile& f) {
  int64_t index = -1;
  if (!ParseInt64(f.key, &index) || index < 0) {
    return Status(Code::kInvalidArgument, "not a manifest index: " + f.key);
  }
  return std::unique_ptr<tabular::RandomAccessFile>(
      std::make_unique<CatalogFile>(*this, catalog_, v_, index, f.size));
}

void CatalogFileOpener::RecordError(const Status& s) {
  std::lock_guard<std::mutex> l(mu_);
  if (first_error_.ok()) first_error_ = s;
}

Status CatalogFileOpener::Explain(const Status& s) {
  std::lock_guard<std::mutex> l(mu_);
  std::string code = client::ServerErrorCode(first_error_);
  if (code.empty() || client::ServerErrorCode(s) == code) return s;
  return Status(first_error_.code(), code + ": " + s.message());
}

StatusOr<tabular::ReadRequest> RequestFor(const nlohmann::json& definition, const ReadOptions& o) {
  if (!definition.is_object()) {
    return Status(Code::kInvalidArgument, "a dataset definition must be a JSON object");
  }
  tabular::ReadRequest req;
  TARN_ASSIGN_OR_RETURN(req.format, tabular::ParseFormat(definition.value("format", "")));
  auto opts = definition.find("options");
  TARN_ASSIGN_OR_RETURN(req.options, tabular::ParseOptions(opts == definition.end()
                                                               ? nlohmann::json::object()
                                                               : *opts));
  auto tr = definition.find("transforms");
  TARN_ASSIGN_OR_RETURN(req.transforms, tabular::ParseTransforms(tr == definition.end()
                                                                     ? nlohmann::json::array()
                                                                     : *tr));
  req.fail_on_error = o.fail_on_error;
  req.limit = o.limit;
  return req;
}

DatasetReader::DatasetReader(tabular::Engine& engine, client::CatalogClient& catalog,
                             client::VersionRef v, const std::vector<client::DatasetFile>& files)
    : engine_(engine), opener_(catalog, std::move(v)) {
  sources_.reserve(files.size());
  for (const auto& f : files) {
    sources_.push_back(tabular::SourceFile{std::to_string(f.index), f.path, f.size});
  }
}

StatusOr<tabular::Table> DatasetReader::Read(const nlohmann::json& definition,
                                             const ReadOptions& o) {
  TARN_ASSIGN_OR_RETURN(tabular::ReadRequest req, RequestFor(definition, o));
  auto t = engine_.Read(opener_, sources_, req);
  if (!t.ok()) return opener_.Explain(t.status());
  return t;
}

StatusOr<tabular::Profile> DatasetReader::Profile(const nlohmann::json& definition) {
  TARN_ASSIGN_OR_RETURN(tabular::ReadRequest req, RequestFor(definition));
  auto p = engine_.ProfileFiles(opener_, sources_, req);
  if (!p.ok()) return opener_.Explain(p.status());
  return p;
}

StatusOr<std::vector<std::string>> DatasetReader::Write(const nlohmann::json& definition,
                                                        tabular::Format out,
                                                        const std::string& local_dir,
                                                        const std::string& separator) {
  TARN_ASSIGN_OR_RETURN(tabular::ReadRequest req, RequestFor(definition));
  auto names = engine_.Write(opener_, sources_, req, out, local_dir, separator);
  if (!names.ok()) return opener_.Explain(names.status());
  return names;
}

}  // namespace tarn::dataset_reader
