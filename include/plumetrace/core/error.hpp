#pragma once
/// @file error.hpp
/// The one error hierarchy of plumetrace. Every failure that reaches a user is one of these;
/// exit codes (CLI) and HTTP statuses are mapped from them in exactly one place each
/// (`exit_code_for`, and the server's problem mapper).

#include <stdexcept>
#include <string>

namespace plumetrace {

/// Root of all plumetrace errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Input that a user can fix: unreadable file, bad column, unusable setting. CLI exit 2, HTTP 400/422.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

/// Something named does not exist (a case, a job, a station). CLI exit 2, HTTP 404.
class NotFound : public Error {
 public:
  using Error::Error;
};

/// A resource is temporarily unavailable (busy, limit reached). CLI exit 3, HTTP 503.
class Unavailable : public Error {
 public:
  using Error::Error;
};

/// A bug or an environment failure (GDAL/PROJ refused something they should not). CLI exit 1, HTTP 500.
class Internal : public Error {
 public:
  using Error::Error;
};

/// The process exit status for an error: 2 for InvalidInput/NotFound, 3 for Unavailable, 1 otherwise.
int exit_code_for(const std::exception& e) noexcept;

}  // namespace plumetrace
