#pragma once
/// @file temp_dir.hpp
/// Test helper shared by every test room: temporary folders and files under
/// temp_directory_path() that are removed when the test program exits normally, unless the
/// environment variable PLUMETRACE_KEEP_TEST_DIRS is set (to look at them after a failure).

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace plumetrace::testing_support {

/// The paths to remove at exit; removed by its destructor, in the process that created it only
/// (not in a forked child that exits), ignoring what cannot be removed (a server may still
/// hold a file).
class CleanupRegistry {
 public:
  CleanupRegistry() = default;
  CleanupRegistry(const CleanupRegistry&) = delete;
  CleanupRegistry& operator=(const CleanupRegistry&) = delete;
  ~CleanupRegistry() {
    if (::getpid() != owner_ || std::getenv("PLUMETRACE_KEEP_TEST_DIRS") != nullptr) return;
    for (const std::filesystem::path& p : paths_) {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  }
  void add(const std::filesystem::path& p) {
    const std::lock_guard<std::mutex> lock(mutex_);
    paths_.insert(p);
  }

 private:
  pid_t owner_ = ::getpid();
  std::mutex mutex_;
  std::set<std::filesystem::path> paths_;
};

/// Removes `p` (a file or a folder, which need not exist yet) when the program exits normally.
inline void register_for_cleanup(const std::filesystem::path& p) {
  static CleanupRegistry registry;
  registry.add(p);
}

/// An empty folder temp_directory_path()/NAME_PID (any old one removed first), removed at exit;
/// `name` is a file name (no '/'), e.g. "plumetrace_server_trace".
inline std::filesystem::path fresh_temp_dir(std::string_view name) {
  const std::filesystem::path d =
      std::filesystem::temp_directory_path() / (std::string(name) + "_" + std::to_string(::getpid()));
  register_for_cleanup(d);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace plumetrace::testing_support
