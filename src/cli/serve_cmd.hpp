#pragma once
// `plumetrace serve`: the command's options and handler (src/cli/serve_cmd.cpp).

#include <map>
#include <string>
#include <vector>

namespace plumetrace::cli {

/// Options of `plumetrace serve` that take a value.
inline const std::vector<std::string> kServeOptions{"--data",      "--listen",        "--store",      "--cors",
                                                   "--threads",   "--tile-cache-mb", "--leaflet-dir", "--audit-log"};

/// Usage text of `plumetrace serve --help`.
extern const char* const kServeHelp;

/// Run the HTTP service until SIGINT/SIGTERM. Prints `plumetrace serve: listening on http://HOST:PORT`
/// (the port actually bound) on standard output once it accepts connections. Returns 0.
/// @throws InvalidInput for a bad option; Unavailable when the address or the store is unavailable.
int run_serve(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options);

}  // namespace plumetrace::cli
