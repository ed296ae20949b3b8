// What the Store's backends share: job status names, durable blob files under --data,
// and the choice of backend from the --store URL.

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "plumetrace/core/error.hpp"
#include "store_backends.hpp"

namespace plumetrace::server {

const char* to_string(JobStatus s) noexcept {
  switch (s) {
    case JobStatus::accepted: return "accepted";
    case JobStatus::running: return "running";
    case JobStatus::successful: return "successful";
    case JobStatus::failed: return "failed";
    case JobStatus::dismissed: return "dismissed";
  }
  return "failed";
}

std::optional<JobStatus> job_status_from(std::string_view text) noexcept {
  for (JobStatus s : {JobStatus::accepted, JobStatus::running, JobStatus::successful, JobStatus::failed,
                      JobStatus::dismissed})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const double s = std::chrono::duration<double>(now.time_since_epoch()).count();
  return format_iso8601(std::floor(s * 1000.0) / 1000.0, 0);
}

namespace {

namespace fs = std::filesystem;

/// Write `bytes` to `path` durably: a temporary file in the same folder, fsync, rename, fsync of
/// the folder. @throws Unavailable when the disk refuses.
void write_file_durably(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid()) + "_" +
                       std::to_string(std::hash<std::string>{}(bytes) ^ static_cast<std::size_t>(::gettid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Unavailable("cannot write to the store");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Unavailable("cannot write to the store");
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Unavailable("cannot write to the store");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw Unavailable("cannot write to the store");
  }
  const int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

std::int64_t to_time_ms(EpochSeconds t) noexcept { return static_cast<std::int64_t>(std::llround(t * 1000.0)); }

StoreBase::StoreBase(fs::path data_dir) : dir_(std::move(data_dir)) {
  std::error_code ec;
  fs::create_directories(dir_ / "blobs", ec);
  if (ec) throw Unavailable("cannot create the data folder");
}

fs::path StoreBase::blob_path(const std::string& sha) const {
  assert(sha.size() == 64);
  return dir_ / "blobs" / sha.substr(0, 2) / sha;
}

std::pair<StoredFile, bool> StoreBase::put_file(const std::string& case_name, const std::string& path,
                                                const std::string& bytes) {
  StoredFile f{path, sha256_hex(bytes), bytes.size()};
  const fs::path blob = blob_path(f.sha256);
  std::error_code ec;
  if (!fs::exists(blob, ec)) {
    fs::create_directories(blob.parent_path(), ec);
    write_file_durably(blob, bytes);
  }
  const bool created = put_file_row(case_name, f);
  return {f, created};
}

std::unique_ptr<Store> open_store(const std::string& url, const fs::path& data_dir) {
  if (url.empty() || url == "sqlite" || url.rfind("sqlite:", 0) == 0) return open_sqlite_store(data_dir);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return open_postgres_store(url, data_dir);
  throw InvalidInput("--store: unknown store URL scheme (use sqlite or postgresql://...)");
}

}  // namespace plumetrace::server
