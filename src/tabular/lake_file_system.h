// A DuckDB file system serving the files of Engine calls under tarn://<call>/<index>/<path>, read
// through each call's FileOpener: DuckDB's CSV, Parquet and JSON readers make positional reads that
// become RandomAccessFile::ReadAt calls, with no copy of a whole file.
//
// Each call registers its files and gets its own id, so concurrent calls never see each other's
// names. <path> is the percent-encoded datastore path: the name holds no quote, glob character or
// '=' (no Hive detection by DuckDB) and keeps the path's extension (DuckDB detects .gz by it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "duckdb/common/file_system.hpp"
#include "duckdb/main/connection.hpp"
#include "tabular/tabular.h"

namespace tarn::tabular {

// The files of one Engine call and what went wrong while reading them.
class CallFiles {
 public:
  CallFiles(FileOpener& opener, const std::vector<SourceFile>& files)
      : opener_(opener), files_(files) {}

  const std::vector<SourceFile>& files() const { return files_; }
  // Per-file values served to SQL by tarn_file_value(name, column): values[column][file].
  // Set once before any query of the call runs.
  void SetFileValues(std::vector<std::vector<std::optional<std::string>>> values) {
    values_ = std::move(values);
  }
  const std::optional<std::string>* FileValue(size_t column, size_t index) const {
    return column < values_.size() ? &values_[column][index] : nullptr;
  }
  // Opens file `index`; the calls of one CallFiles are serialised.
  StatusOr<std::unique_ptr<RandomAccessFile>> Open(size_t index);
  // Keeps the first error the opener or a file reported, for the call's answer.
  void RecordError(const Status& s);
  std::optional<Status> first_error() const;

 private:
  FileOpener& opener_;
  const std::vector<SourceFile>& files_;
  std::mutex open_mu_;
  mutable std::mutex error_mu_;
  std::optional<Status> first_error_;  // guarded by error_mu_
  std::vector<std::vector<std::optional<std::string>>> values_;
};

class LakeFileSystem : public duckdb::FileSystem {
 public:
  static constexpr char kScheme[] = "tarn://";

  // Returns the call id under which the files are served until Unregister.
  uint64_t Register(std::shared_ptr<CallFiles> call);
  void Unregister(uint64_t call_id);
  static std::string FileName(uint64_t call_id, size_t index, const std::string& path);
  // The file a tarn:// name stands for, if it is registered.
  std::optional<std::string> PathOf(const std::string& name);
  // CallFiles::FileValue of the file a tarn:// name stands for; nullopt when there is none.
  std::optional<std::string> FileValue(const std::string& name, int64_t column);
  // Registers the SQL function tarn_file_value(name VARCHAR, column BIGINT) -> VARCHAR on the
  // database of `con`: the partition values and Path of each row's file, O(1) per row.
  void RegisterFileValueFunction(duckdb::Connection& con);

  duckdb::unique_ptr<duckdb::FileHandle> OpenFile(
      const std::string& path, duckdb::FileOpenFlags flags,
      duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
  void Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes,
            duckdb::idx_t location) override;
  int64_t Read(duckdb::FileHandle& handle, void* buffer, int64_t nr_bytes) override;
  int64_t GetFileSize(duckdb::FileHandle& handle) override;
  duckdb::timestamp_t GetLastModifiedTime(duckdb::FileHandle& handle) override;
  duckdb::FileType GetFileType(duckdb::FileHandle& handle) override;
  void Seek(duckdb::FileHandle& handle, duckdb::idx_t location) override;
  void Reset(duckdb::FileHandle& handle) override;
  duckdb::idx_t SeekPosition(duckdb::FileHandle& handle) override;
  bool CanSeek() override { return true; }
  bool OnDiskFile(duckdb::FileHandle& handle) override { return false; }
  bool FileExists(const std::string& filename,
                  duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override;
  bool DirectoryExists(const std::string& directory,
                       duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override {
    return false;
  }
  bool IsPipe(const std::string& filename,
              duckdb::optional_ptr<duckdb::FileOpener> opener = nullptr) override {
    return false;
  }
  duckdb::vector<duckdb::OpenFileInfo> Glob(const std::string& path,
                                            duckdb::FileOpener* opener = nullptr) override;
  bool CanHandleFile(const std::string& fpath) override;
  std::string GetName() const override { return "TarnLakeFileSystem"; }

 private:
  struct Resolved {
    std::shared_ptr<CallFiles> call;
    size_t index = 0;
  };
  std::optional<Resolved> Resolve(const std::string& name);

  std::mutex mu_;
  uint64_t next_id_ = 1;                                  // guarded by mu_
  std::map<uint64_t, std::shared_ptr<CallFiles>> calls_;  // guarded by mu_
};

}  // namespace tarn::tabular
