#pragma once
// `plumetrace tiles`: the command's options and handler (src/cli/tiles_cmd.cpp).

#include <map>
#include <string>
#include <vector>

namespace plumetrace::cli {

/// Options of `plumetrace tiles` that take a value.
inline const std::vector<std::string> kTilesOptions{"--zoom", "--colormap-name", "--rescale", "--band", "--threads"};

/// Usage text of `plumetrace tiles --help`.
extern const char* const kTilesHelp;

/// Run `plumetrace tiles RASTER OUT_DIR [options]` from parsed arguments; prints a one-line summary.
/// Returns the exit status (0).
/// @throws InvalidInput for a bad argument or raster (the shell turns it into exit 2).
int run_tiles(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options);

}  // namespace plumetrace::cli
