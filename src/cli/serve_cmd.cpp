#include "serve_cmd.hpp"

#include <iostream>

#include "plumetrace/audit/log.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/server/http_server.hpp"

namespace plumetrace::cli {

const char* const kServeHelp =
    "usage: plumetrace serve [--data DIR] [--listen HOST:PORT] [--store URL] [--cors ORIGIN] [--threads N]\n"
    "                        [--tile-cache-mb N] [--leaflet-dir DIR] [--audit-log FILE]\n"
    "\n"
    "Serve cases, trace jobs (OGC API - Processes) and map tiles over HTTP (docs/http.md).\n"
    "\n"
    "  --data DIR          where the store keeps its database, files and job outputs\n"
    "                      (default ./plumetrace-data)\n"
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0 = any free port)\n"
    "  --store URL         sqlite (default: embedded under --data) or postgresql://USER@HOST:PORT/DB\n"
    "                      (PostgreSQL 15 + PostGIS 3; uploaded files still stay under --data)\n"
    "  --cors ORIGIN       send CORS headers allowing ORIGIN ('*' or https://host)\n"
    "  --threads N         threads per trace job (default: all cores)\n"
    "  --tile-cache-mb N   memory for encoded tiles, least recently used dropped (default 256; 0 = none)\n"
    "  --leaflet-dir DIR   Leaflet's files for the dashboard at / (default /usr/share/javascript/leaflet,\n"
    "                      Debian's libjs-leaflet)\n"
    "  --audit-log FILE    append each trace job's audit record here (default $PLUMETRACE_AUDIT_LOG,\n"
    "                      else $XDG_DATA_HOME/plumetrace/audit.log, else ~/.local/share/plumetrace/audit.log)\n";

int run_serve(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options) {
  if (!positional.empty()) throw InvalidInput("serve takes no positional argument");
  server::ServerOptions o;
  if (auto it = options.find("--data"); it != options.end()) o.data_dir = it->second;
  if (auto it = options.find("--listen"); it != options.end()) server::parse_listen(it->second, o);
  if (auto it = options.find("--store"); it != options.end()) o.store_url = it->second;
  if (auto it = options.find("--cors"); it != options.end()) o.cors_origin = it->second;
  if (auto it = options.find("--threads"); it != options.end()) {
    try {
      o.kernel_threads = std::stoi(it->second);
    } catch (const std::exception&) {
      throw InvalidInput("--threads needs a number, got '" + it->second + "'");
    }
  }
  o.audit_log = audit::resolve_log_path(options.count("--audit-log") ? options.at("--audit-log") : "");
  if (auto it = options.find("--tile-cache-mb"); it != options.end()) {
    std::size_t used = 0;
    long long mb = -1;
    try {
      mb = std::stoll(it->second, &used);
    } catch (const std::exception&) {
    }
    if (mb < 0 || mb > (1ll << 20) || used != it->second.size())
      throw InvalidInput("--tile-cache-mb needs a number of MiB (0 = no cache), got '" + it->second + "'");
    o.tile_cache_bytes = static_cast<std::size_t>(mb) << 20;
  }
  if (auto it = options.find("--leaflet-dir"); it != options.end()) o.leaflet_dir = it->second;
  server::Server srv(o);
  const std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  std::cout << "plumetrace serve: listening on http://" << host << ":" << srv.port() << std::endl;
  srv.run(true);
  return 0;
}

}  // namespace plumetrace::cli
