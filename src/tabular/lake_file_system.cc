#include "tabular/lake_file_system.h"

#include <cstring>

#include "common/encoding.h"
#include "common/strings.h"
#include "duckdb.hpp"

namespace tarn::tabular {
namespace {

// The opener's Status, same code and reason, its message prefixed with the file's path.
Status Prefixed(const Status& e, const std::string& path) {
  const std::string msg = path + ": " + e.message();
  return e.reason() != Reason::kNone ? Status(e.reason(), msg) : Status(e.code(), msg);
}

class LakeFileHandle : public duckdb::FileHandle {
 public:
  LakeFileHandle(duckdb::FileSystem& fs, const std::string& name, duckdb::FileOpenFlags flags,
                 std::shared_ptr<CallFiles> call, size_t index,
                 std::unique_ptr<RandomAccessFile> file)
      : duckdb::FileHandle(fs, name, flags),
        call(std::move(call)),
        index(index),
        file(std::move(file)),
        size(this->file->Size()) {}
  void Close() override {}

  const std::string& source_path() const { return call->files()[index].path; }

  // Reads up to n bytes at offset; fewer only at the end of the file. Throws duckdb::IOException
  // (what DuckDB's readers expect) after recording the opener's Status.
  size_t ReadSome(char* buf, size_t n, int64_t offset) {
    size_t done = 0;
    while (done < n && offset + static_cast<int64_t>(done) < size) {
      StatusOr<size_t> got =
          file->ReadAt(offset + static_cast<int64_t>(done), buf + done, n - done);
      if (!got.ok()) {
        Status s = Prefixed(got.status(), source_path());
        call->RecordError(s);
        throw duckdb::IOException(s.message());
      }
      if (*got == 0) break;
      done += *got;
    }
    return done;
  }

  std::shared_ptr<CallFiles> call;
  size_t index;
  std::unique_ptr<RandomAccessFile> file;
  int64_t size;
  duckdb::idx_t position = 0;
};

LakeFileHandle& Lake(duckdb::FileHandle& h) { return h.Cast<LakeFileHandle>(); }

}  // namespace

StatusOr<std::unique_ptr<RandomAccessFile>> CallFiles::Open(size_t index) {
  std::lock_guard<std::mutex> lock(open_mu_);
  return opener_.Open(files_[index]);
}

void CallFiles::RecordError(const Status& s) {
  std::lock_guard<std::mutex> lock(error_mu_);
  if (!first_error_) first_error_ = s;
}

std::optional<Status> CallFiles::first_error() const {
  std::lock_guard<std::mutex> lock(error_mu_);
  return first_error_;
}

uint64_t LakeFileSystem::Register(std::shared_ptr<CallFiles> call) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_id_++;
  calls_.emplace(id, std::move(call));
  return id;
}

void LakeFileSystem::Unregister(uint64_t call_id) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.erase(call_id);
}

std::string LakeFileSystem::FileName(uint64_t call_id, size_t index, const std::string& path) {
  return std::string(kScheme) + std::to_string(call_id) + "/" + std::to_string(index) + "/" +
         PercentEncode(path, /*keep_slash=*/true);
}

std::optional<LakeFileSystem::Resolved> LakeFileSystem::Resolve(const std::string& name) {
  if (!StartsWith(name, kScheme)) return std::nullopt;
  const std::vector<std::string_view> parts =
      Split(std::string_view(name).substr(std::strlen(kScheme)), '/');
  int64_t call_id = 0, index = 0;
  if (parts.size() < 3 || !ParseInt64(parts[0], &call_id) || !ParseInt64(parts[1], &index)) {
    return std::nullopt;
  }
  std::shared_ptr<CallFiles> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = calls_.find(static_cast<uint64_t>(call_id));
    if (it == calls_.end()) return std::nullopt;
    call = it->second;
  }
  if (index < 0 || static_cast<size_t>(index) >= call->files().size() ||
      FileName(call_id, index, call->files()[index].path) != name) {
    return std::nullopt;
  }
  return Resolved{std::move(call), static_cast<size_t>(index)};
}

std::optional<std::string> LakeFileSystem::PathOf(const std::string& name) {
  std::optional<Resolved> r = Resolve(name);
  if (!r) return std::nullopt;
  return r->call->files()[r->index].path;
}

std::optional<std::string> LakeFileSystem::FileValue(const std::string& name, int64_t column) {
  std::optional<Resolved> r = Resolve(name);
  if (!r || column < 0) return std::nullopt;
  const std::optional<std::string>* v = r->call->FileValue(static_cast<size_t>(column), r->index);
  return v ? *v : std::nullopt;
}

void LakeFileSystem::RegisterFileValueFunction(duckdb::Connection& con) {
  con.CreateVectorizedFunction(
      "tarn_file_value", {duckdb::LogicalType::VARCHAR, duckdb::LogicalType::BIGINT},
      duckdb::LogicalType::VARCHAR,
      [this](duckdb::DataChunk& args, duckdb::ExpressionState&, duckdb::Vector& result) {
        const duckdb::idx_t n = args.size();
        duckdb::UnifiedVectorFormat names, columns;
        args.data[0].ToUnifiedFormat(n, names);
        args.data[1].ToUnifiedFormat(n, columns);
        const auto* name_data = duckdb::UnifiedVectorFormat::GetData<duckdb::string_t>(names);
        const auto* column_data = duckdb::UnifiedVectorFormat::GetData<int64_t>(columns);
        result.SetVectorType(duckdb::VectorType::FLAT_VECTOR);
        auto* out = duckdb::FlatVector::GetData<duckdb::string_t>(result);
        duckdb::ValidityMask& valid = duckdb::FlatVector::Validity(result);
        // Rows come file by file: look a name up once per run of equal names.
        std::string last_name;
        int64_t last_column = -1;
        std::optional<std::string> last;
        for (duckdb::idx_t i = 0; i < n; ++i) {
          const duckdb::idx_t ni = names.sel->get_index(i), ci = columns.sel->get_index(i);
          if (!names.validity.RowIsValid(ni) || !columns.validity.RowIsValid(ci)) {
            valid.SetInvalid(i);
            continue;
          }
          const duckdb::string_t& name = name_data[ni];
          if (i == 0 || column_data[ci] != last_column ||
              std::string_view(name.GetData(), name.GetSize()) != last_name) {
            last_name.assign(name.GetData(), name.GetSize());
            last_column = column_data[ci];
            last = FileValue(last_name, last_column);
          }
          if (last) {
            out[i] = duckdb::StringVector::AddString(result, *last);
          } else {
            valid.SetInvalid(i);
          }
        }
        if (args.AllConstant()) result.SetVectorType(duckdb::VectorType::CONSTANT_VECTOR);
      });
}

duckdb::unique_ptr<duckdb::FileHandle> LakeFileSystem::OpenFile(
    const std::string& path, duckdb::FileOpenFlags flags,
    duckdb::optional_ptr<duckdb::FileOpener> opener) {
  if (flags.OpenForWriting()) throw duckdb::IOException("%s: the lake files are read-only", path);
  std::optional<Resolved> r = Resolve(path);
  if (!r) {
    if (flags.ReturnNullIfNotExists()) return nullptr;
    throw duckdb::IOException("%s: no such file in this call", path);
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> file = r->call->Open(r->index);
  if (!file.ok()) {
    Status s = Prefixed(file.status(), r->call->files()[r->index].path);
    r->call->RecordError(s);
    throw duckdb::IOException(s.message());
  }
  return duckdb::make_uniq<LakeFileHandle>(*this, path, flags, std::move(r->call), r->index,
                                           std::move(*file));
}

void LakeFileSystem::Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
                          duckdb::idx_t location) {
  LakeFileHandle& h = Lake(handle);
  const size_t n = static_cast<size_t>(nr_bytes);
  if (h.ReadSome(static_cast<char*>(buffer), n, static_cast<int64_t>(location)) != n) {
    throw duckdb::IOException("%s: could not read %lld bytes at offset %llu (file size %lld)",
                              h.source_path(), static_cast<long long>(nr_bytes),
                              static_cast<unsigned long long>(location),
                              static_cast<long long>(h.size));
  }
}

int64_t LakeFileSystem::Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) {
  LakeFileHandle& h = Lake(handle);
  const size_t got = h.ReadSome(static_cast<char*>(buffer), static_cast<size_t>(nr_bytes),
                                static_cast<int64_t>(h.position));
  h.position += got;
  return static_cast<int64_t>(got);
}

int64_t LakeFileSystem::GetFileSize(duckdb::FileHandle& handle) { return Lake(handle).size; }

duckdb::timestamp_t LakeFileSystem::GetLastModifiedTime(duckdb::FileHandle& handle) {
  return duckdb::timestamp_t(0);
}

duckdb::FileType LakeFileSystem::GetFileType(duckdb::FileHandle& handle) {
  return duckdb::FileType::FILE_TYPE_REGULAR;
}

void LakeFileSystem::Seek(duckdb::FileHandle& handle, duckdb::idx_t location) {
  Lake(handle).position = location;
}

void LakeFileSystem::Reset(duckdb::FileHandle& handle) { Lake(handle).position = 0; }

duckdb::idx_t LakeFileSystem::SeekPosition(duckdb::FileHandle& handle) {
  return Lake(handle).position;
}

bool LakeFileSystem::FileExists(const std::string& filename,
                                duckdb::optional_ptr<duckdb::FileOpener> opener) {
  return Resolve(filename).has_value();
}

duckdb::vector<duckdb::OpenFileInfo> LakeFileSystem::Glob(const std::string& path,
                                                          duckdb::FileOpener* opener) {
  duckdb::vector<duckdb::OpenFileInfo> out;
  if (Resolve(path)) out.emplace_back(path);
  return out;
}

bool LakeFileSystem::CanHandleFile(const std::string& fpath) { return StartsWith(fpath, kScheme); }

}  // namespace tarn::tabular
