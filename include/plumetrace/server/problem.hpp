#pragma once
/// @file problem.hpp
/// Errors as HTTP answers: RFC 9457 `application/problem+json`, with the one mapping from the
/// plumetrace::Error hierarchy to HTTP statuses (http_status_for).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plumetrace/core/error.hpp"

namespace plumetrace::server {

/// A request body over the route's limit (HTTP 413).
class PayloadTooLarge : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

/// Request headers over the server's limit (HTTP 431).
class HeadersTooLarge : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

/// A known path asked with a method it does not answer (HTTP 405).
class MethodNotAllowed : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

/// Well-formed input that cannot be used: a case that does not support a trace, a CSV with no
/// usable row (HTTP 422).
class UnusableData : public InvalidInput {
 public:
  using InvalidInput::InvalidInput;
};

/// The HTTP status for an exception: 413, 431, 405, 422 for the classes above; 400 for other
/// InvalidInput; 404 NotFound; 503 Unavailable; 500 for Internal and anything else.
[[nodiscard]] int http_status_for(const std::exception& e) noexcept;

/// The standard reason phrase of an HTTP status ("Not Found"); "Error" for unknown ones.
[[nodiscard]] std::string_view status_title(int status) noexcept;

/// The problem document of RFC 9457: `type` "about:blank", `title` (status_title), `status`, and
/// `detail` when not empty.
[[nodiscard]] nlohmann::json problem_document(int status, std::string_view detail);

/// `text` with every absolute path under `root` (the server's data folder) cut to its last
/// component, so that error details never show where the server keeps its files.
[[nodiscard]] std::string scrub_paths(std::string text, const std::string& root);

}  // namespace plumetrace::server
