#pragma once
/// @file http_server.hpp
/// `plumetrace serve`: the HTTP/1.1 service of CONTRACT §4 on Boost.Beast. A fixed set of network
/// threads only parse and write; every handler runs on a bounded worker pool (503 when it is
/// full), trace jobs on their own threads.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace plumetrace::server {

struct ServerOptions {
  std::string host{"127.0.0.1"};             ///< address to listen on
  unsigned short port{8080};                 ///< 0 = any free port (see Server::port)
  std::filesystem::path data_dir{"plumetrace-data"};
  std::string store_url;                     ///< "" = embedded SQLite under data_dir
  std::string cors_origin;                   ///< "" = no CORS; "*" or "https://host"
  int network_threads{2};                    ///< Asio threads (>= 1)
  int request_threads{0};                    ///< handler workers; 0 = hardware threads (at least 2)
  std::size_t max_queued_requests{1024};     ///< waiting handlers beyond which 503 is answered
  int job_threads{1};                        ///< trace jobs at once
  int kernel_threads{0};                     ///< threads per trace job; 0 = all cores
  std::filesystem::path audit_log;           ///< trace jobs' audit log; empty = audit::default_log_path()
  std::size_t header_limit_bytes{8192};      ///< request line + headers; beyond: 431
  std::uint64_t max_upload_bytes{256ull << 20};  ///< one case file; beyond: 413
  std::chrono::milliseconds read_timeout{10000};   ///< a request's headers, then its body, must arrive within this
  std::chrono::milliseconds idle_timeout{30000};   ///< a kept-alive connection waits this long for a new request
  std::chrono::milliseconds write_timeout{60000};  ///< a response must be taken within this
  std::size_t tile_cache_bytes{256ull << 20};  ///< encoded tiles kept in memory (LRU); 0 = no cache
  std::filesystem::path leaflet_dir;         ///< Leaflet's files for the dashboard; "" = Debian's libjs-leaflet
};

/// Parse "HOST:PORT" (HOST may be "[v6]"; PORT 0-65535) into options.
/// @throws InvalidInput with the reason.
void parse_listen(const std::string& text, ServerOptions& options);

class Server {
 public:
  /// Open the store, queue the jobs a previous run left unfinished, bind and listen.
  /// @throws InvalidInput for bad options; Unavailable when the address or the store is unavailable.
  explicit Server(ServerOptions options);
  /// Stops (see stop) and joins every thread.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The port actually bound.
  [[nodiscard]] unsigned short port() const noexcept;

  /// Serve on the network threads until stop() (or SIGINT/SIGTERM when `handle_signals`).
  void run(bool handle_signals = false);

  /// Stop accepting and close connections; run() returns. Thread-safe, idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plumetrace::server
