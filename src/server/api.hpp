#pragma once
// The service's routes (CONTRACT §4): one request in, one response out, on a worker thread.
// Private to the server room: it speaks Boost.Beast's message types.

#include <boost/beast/http.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "plumetrace/server/job_runner.hpp"
#include "plumetrace/server/store.hpp"

namespace plumetrace::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
/// Receives the response to send; may be called from any thread, exactly once.
using Reply = std::function<void(std::shared_ptr<Response>)>;

/// Settings the routes read.
struct ApiOptions {
  std::string cors_origin;                            ///< "" = no CORS headers; "*" or one origin
  std::uint64_t max_upload_bytes{256ull << 20};       ///< PUT .../files/{path}
  std::uint64_t max_readings_bytes{32ull << 20};      ///< POST .../readings
  std::uint64_t max_execute_bytes{64ull << 10};       ///< POST /processes/trace/execution
  std::uint64_t max_alert_rules_bytes{64ull << 10};   ///< PUT .../alert-rules
  std::size_t tile_cache_bytes{256ull << 20};         ///< encoded tiles kept in memory; 0 = no cache
  std::filesystem::path leaflet_dir{"/usr/share/javascript/leaflet"};  ///< served under /static/leaflet/
};

class Api {
 public:
  Api(Store& store, JobRunner& jobs, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  /// The largest body (bytes) the route of `method target` accepts: 0 for routes without a body.
  [[nodiscard]] std::uint64_t body_limit(boost::beast::http::verb method, std::string_view target) const noexcept;

  /// Answer `req` through `reply` (at once, or later for a synchronous job execution). Never
  /// throws: errors become problem+json responses. May block (SQLite, GDAL): call on a worker.
  void handle(const Request& req, const Reply& reply) noexcept;

  /// The answer to a GET/HEAD of a tile held in the tile cache (200, or 304 on a matching
  /// If-None-Match), headers final; nullptr for anything else. Never blocks on the store or GDAL:
  /// the network threads call it before handing a request to a worker.
  [[nodiscard]] std::shared_ptr<Response> cached(const Request& req) const noexcept;

  /// A problem+json response for HTTP `status` with `detail`, CORS headers included.
  [[nodiscard]] std::shared_ptr<Response> problem(int status, std::string_view detail, unsigned version,
                                                  bool keep_alive) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plumetrace::server
