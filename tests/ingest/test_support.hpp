#pragma once
/// Helpers for the ingest tests: a temporary folder removed at the end, file writing, and
/// lookups in Diagnostics.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "plumetrace/core/diagnostics.hpp"

namespace plumetrace::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plumetrace_ingest_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Write `text` to `rel` (creating folders), returning the absolute path.
  std::filesystem::path write(const std::string& rel, const std::string& text) const {
    const auto p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

/// True when a rejection of `file` at `line` has a reason containing `part`.
inline bool has_rejection(const Diagnostics& d, const std::string& file, std::size_t line,
                          const std::string& part) {
  for (const auto& r : d.rejected())
    if (r.file == file && r.line == line && r.reason.find(part) != std::string::npos) return true;
  return false;
}

/// True when a warning of `file` contains `part`.
inline bool has_warning(const Diagnostics& d, const std::string& file, const std::string& part) {
  for (const auto& w : d.warnings())
    if (w.file == file && w.message.find(part) != std::string::npos) return true;
  return false;
}

/// All rejections as text, for failure messages.
inline std::string dump(const Diagnostics& d) {
  std::string s;
  for (const auto& r : d.rejected()) s += "  R " + r.file + ":" + std::to_string(r.line) + " " + r.reason + "\n";
  for (const auto& w : d.warnings()) s += "  W " + w.file + " " + w.message + "\n";
  return s;
}

}  // namespace plumetrace::test
