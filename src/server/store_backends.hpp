#pragma once
// The Store's backends (private to the server room): what they share (blobs under --data, named
// by SHA-256) in StoreBase, and their factories. store.cpp holds the shared logic; sqlite_store.cpp
// and pg_store.cpp hold one backend each.

#include <filesystem>
#include <memory>
#include <string>

#include "plumetrace/server/store.hpp"

namespace plumetrace::server {

/// What both backends share: the data folder and its content-addressed blobs.
class StoreBase : public Store {
 public:
  /// Creates `data_dir`/blobs. @throws Unavailable when it cannot.
  explicit StoreBase(std::filesystem::path data_dir);

  const std::filesystem::path& data_dir() const noexcept final { return dir_; }
  std::filesystem::path blob_path(const std::string& sha256) const final;

  /// Writes the blob durably (when new), then calls put_file_row.
  std::pair<StoredFile, bool> put_file(const std::string& case_name, const std::string& path,
                                       const std::string& bytes) final;

 protected:
  /// Upsert the file's row (creating the case) in one transaction; true when the path is new.
  virtual bool put_file_row(const std::string& case_name, const StoredFile& file) = 0;

 private:
  std::filesystem::path dir_;
};

/// Readings are stored to the millisecond: time in ms since the epoch, UTC.
[[nodiscard]] std::int64_t to_time_ms(EpochSeconds t) noexcept;

/// The embedded backend: DATA_DIR/plumetrace.sqlite.
[[nodiscard]] std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& data_dir);
/// The PostgreSQL/PostGIS backend at libpq URI `url`.
[[nodiscard]] std::unique_ptr<Store> open_postgres_store(const std::string& url, const std::filesystem::path& data_dir);

}  // namespace plumetrace::server
