#pragma once
/// @file run_command.hpp
/// Test helper shared by the CLI tests: run a shell command as a user would.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace plumetrace::testing_support {

/// Runs `cmd` with /bin/sh; returns its exit status (-1 when it did not exit), its standard output
/// in `out` and its standard error in `err`.
inline int run_command(const std::string& cmd, std::string& out, std::string& err) {
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() / ("plumetrace_cmd_err_" + std::to_string(::getpid()));
  FILE* p = ::popen((cmd + " 2>'" + err_file.string() + "'").c_str(), "r");
  out.clear();
  char buf[4096];
  for (std::size_t n; p != nullptr && (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = p != nullptr ? ::pclose(p) : -1;
  std::ifstream f(err_file);
  err.assign(std::istreambuf_iterator<char>(f), {});
  std::filesystem::remove(err_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace plumetrace::testing_support
