#pragma once
/// @file audit_test_support.hpp
/// Helpers of the audit tests (tests/audit, tests/cli): files in and out, and a log of the test's own.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace plumetrace::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void spit(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

/// build/<preset>/test-audit/<name>.log (the folder of the PLUMETRACE_AUDIT_LOG that ctest sets;
/// ./test-audit when run by hand), removed first: never the user's log.
inline std::filesystem::path test_log(const std::string& name) {
  namespace fs = std::filesystem;
  const char* env = std::getenv("PLUMETRACE_AUDIT_LOG");
  const fs::path dir = env != nullptr && *env != '\0' ? fs::path(env).parent_path() : fs::current_path() / "test-audit";
  fs::create_directories(dir);
  const fs::path p = dir / (name + ".log");
  fs::remove(p);
  return p;
}

}  // namespace plumetrace::test
