#pragma once
/// @file diagnostics.hpp
/// Rejected rows and warnings collected while reading a case. A rejected row is never silently
/// dropped: it is recorded here with file, 1-based line and reason, and counted.

#include <cstddef>
#include <string>
#include <vector>

namespace plumetrace {

/// One input row (or feature, or file) that was not accepted.
struct Rejection {
  std::string file;    ///< path as given to the reader (relative to the case folder when read from one)
  std::size_t line{};  ///< 1-based physical line (CSV), feature index + 1 (OGR), 0 for the whole file
  std::string reason;  ///< human-readable, e.g. "lat 95.2 outside [-90, 90]"
};

/// A warning that did not reject data (unknown file, ignored column, inferred setting).
struct Warning {
  std::string file;
  std::string message;
};

/// Collects rejections and warnings. Not thread-safe: one per reader, merged afterwards.
class Diagnostics {
 public:
  void reject(std::string file, std::size_t line, std::string reason) {
    rejected_.push_back({std::move(file), line, std::move(reason)});
  }
  void warn(std::string file, std::string message) {
    warnings_.push_back({std::move(file), std::move(message)});
  }
  void merge(const Diagnostics& other) {
    rejected_.insert(rejected_.end(), other.rejected_.begin(), other.rejected_.end());
    warnings_.insert(warnings_.end(), other.warnings_.begin(), other.warnings_.end());
  }
  [[nodiscard]] const std::vector<Rejection>& rejected() const noexcept { return rejected_; }
  [[nodiscard]] const std::vector<Warning>& warnings() const noexcept { return warnings_; }

 private:
  std::vector<Rejection> rejected_;
  std::vector<Warning> warnings_;
};

}  // namespace plumetrace
