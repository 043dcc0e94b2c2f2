// Registration of tabular datasets: options and transforms checked, partition values taken
// from each path, and schema, row count and column profile computed by the tabular engine,
// which reads the registered bytes (pinned extents or the remote files) without copying them.
#include <cstring>
#include <mutex>

#include "catalog/catalog_internal.h"
#include "tabular/tabular.h"

namespace tarn::catalog::internal {
namespace {

// One manifest file as the tabular engine sees it: random reads of the registered bytes.
class ManifestFileReader final : public tabular::RandomAccessFile {
 public:
  ManifestFileReader(const FileRangeReader& read, size_t index, int64_t size)
      : read_(read), index_(index), size_(size) {}

  int64_t Size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    if (offset >= size_ || n == 0) return size_t{0};
    int64_t want = std::min<int64_t>(static_cast<int64_t>(n), size_ - offset);
    TARN_ASSIGN_OR_RETURN(FileRead r, read_(index_, lake::ByteRange{offset, offset + want - 1}));
    return CopyRead(r, buf, static_cast<size_t>(want));
  }

 private:
  const FileRangeReader& read_;
  size_t index_;
  int64_t size_;
};

class ManifestOpener final : public tabular::FileOpener {
 public:
  ManifestOpener(const FileRangeReader& read, const std::vector<ManifestFile>& files)
      : read_(read), files_(files) {}

  StatusOr<std::unique_ptr<tabular::RandomAccessFile>> Open(const tabular::SourceFile& f) override {
    size_t index = std::stoul(f.key);
    return std::unique_ptr<tabular::RandomAccessFile>(
        new ManifestFileReader(read_, index, files_[index].size));
  }

 private:
  const FileRangeReader& read_;
  const std::vector<ManifestFile>& files_;
};

tabular::Engine& SharedEngine() { return tabular::ProcessEngine(); }

Status Bad(const Status& s) { return Error(Reason::kInvalidDefinition, s.message()); }

}  // namespace

StatusOr<size_t> CopyRead(FileRead& r, char* buf, size_t room) {
  size_t got = 0;
  if (r.local) {
    for (auto& p : r.local->pieces) {
      int64_t off = p.offset, left = std::min<int64_t>(p.length, static_cast<int64_t>(room - got));
      while (left > 0) {
        TARN_ASSIGN_OR_RETURN(size_t k, p.reader->ReadAt(off, buf + got, static_cast<size_t>(left)));
        if (k == 0) return InternalError("an extent is shorter than its metadata says");
        got += k;
        off += static_cast<int64_t>(k);
        left -= static_cast<int64_t>(k);
      }
    }
    return got;
  }
  TARN_RETURN_IF_ERROR(r.remote([&](std::string_view chunk) -> Status {
    const size_t k = std::min(chunk.size(), room - got);
    std::memcpy(buf + got, chunk.data(), k);
    got += k;
    return Status::Ok();
  }));
  return got;
}

Status ProfileTabular(const Json& definition, std::vector<ManifestFile>* files,
                      const FileRangeReader& read, Json* doc, const Json* known) {
  tabular::ReadRequest req;
  auto format = tabular::ParseFormat(definition.value("format", ""));
  if (!format.ok()) return Bad(format.status());
  req.format = *format;
  auto options = tabular::ParseOptions(definition.value("options", Json::object()));
  if (!options.ok()) return Bad(options.status());
  req.options = *options;
  auto transforms = tabular::ParseTransforms(definition.value("transforms", Json::array()));
  if (!transforms.ok()) return Bad(transforms.status());
  req.transforms = *transforms;

  std::vector<tabular::SourceFile> sources;
  sources.reserve(files->size());
  for (size_t i = 0; i < files->size(); ++i) {
    ManifestFile& f = (*files)[i];
    auto values = tabular::PartitionValues(req.options.partition_format, f.path);
    if (!values.ok()) {
      return Error(Reason::kInvalidPaths, "partition_format '" + req.options.partition_format +
                                              "' does not fit '" + f.path +
                                              "': " + values.status().message());
    }
    f.partition = Json(*values);
    sources.push_back(tabular::SourceFile{std::to_string(i), f.path, f.size});
  }
  if (known) {
    for (const char* key : {"schema", "row_count", "profile", "partition_keys"}) {
      (*doc)[key] = known->value(key, Json());
    }
    (*doc)["definition"]["options"] = tabular::OptionsToJson(req.options);
    (*doc)["definition"]["transforms"] = tabular::TransformsToJson(req.transforms);
    return Status::Ok();
  }
  ManifestOpener opener(read, *files);
  auto profile = SharedEngine().ProfileFiles(opener, sources, req);
  // A CSV line the reader cannot read (the wrong number of fields, a broken quote) in one file
  // among many does not fail the registration: unless the definition asks for invalid_lines
  // "error" itself, the files are profiled again without such lines, which the version records
  // (file and line) and every reader of it leaves out too.
  const Json given = definition.value("options", Json::object());
  const bool strict = given.is_object() && given.contains("invalid_lines") &&
                      given["invalid_lines"] == "error";
  if (!profile.ok() && req.format == tabular::Format::kCsv && !strict &&
      profile.status().reason() != Reason::kDatasetDrift &&
      profile.status().reason() != Reason::kDatastoreAccessFailed &&
      profile.status().reason() != Reason::kInvalidInput) {
    tabular::ReadRequest lenient = req;
    lenient.options.invalid_lines = "drop";
    ManifestOpener again(read, *files);
    auto retried = SharedEngine().ProfileFiles(again, sources, lenient);
    // A file none of whose lines read is of another shape: that still fails, as it did.
    if (retried.ok() && retried->rejected_lines > 0 && retried->row_count > 0 &&
        retried->unreadable_file.empty()) {
      req = lenient;
      profile = std::move(retried);
    }
  }
  if (!profile.ok()) {
    const Status& s = profile.status();
    if (s.reason() == Reason::kDatasetDrift || s.reason() == Reason::kDatastoreAccessFailed) {
      return s;
    }
    // A request the data cannot answer (an unknown column in a transform, a bad filter) is the
    // definition's fault; anything else is the data's.
    if (s.reason() == Reason::kInvalidInput) return Bad(s);
    return Error(Reason::kDataReadFailed, s.message());
  }
  const Json computed = ProfileToJson(*profile);
  for (const auto& [key, value] : computed.items()) (*doc)[key] = value;
  // The definition as stored is the normalised one, so every reader applies the same options.
  (*doc)["definition"]["options"] = tabular::OptionsToJson(req.options);
  (*doc)["definition"]["transforms"] = tabular::TransformsToJson(req.transforms);
  return Status::Ok();
}

}  // namespace tarn::catalog::internal

namespace tarn::catalog {

Json ProfileToJson(const tabular::Profile& p) {
  Json schema = Json::array();
  for (const auto& c : p.schema) schema.push_back({{"name", c.name}, {"type", c.type}});
  Json columns = Json::array();
  for (const auto& c : p.columns) {
    columns.push_back({{"name", c.name},
                       {"type", c.type},
                       {"nulls", c.nulls},
                       {"min", c.min ? Json(*c.min) : Json()},
                       {"max", c.max ? Json(*c.max) : Json()},
                       {"distinct", c.distinct}});
  }
  Json out{{"schema", schema},
           {"row_count", p.row_count},
           {"profile", columns},
           {"partition_keys", p.partition_keys}};
  if (p.rejected_lines > 0) {
    Json lines = Json::array();
    for (const auto& l : p.rejected) {
      lines.push_back({{"path", l.path}, {"line", l.line}, {"error", l.error}});
    }
    out["rejected_lines"] = p.rejected_lines;
    out["rejected"] = lines;
  }
  return out;
}

}  // namespace tarn::catalog
