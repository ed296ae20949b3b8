#include "tiles_cmd.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "plumetrace/core/error.hpp"
#include "plumetrace/render/pyramid.hpp"

namespace plumetrace::cli {

const char* const kTilesHelp =
    "usage: plumetrace tiles RASTER OUT_DIR [--zoom MIN-MAX] [--colormap-name NAME] [--rescale LO,HI]\n"
    "                        [--band N] [--threads N]\n"
    "\n"
    "Write an XYZ PNG tile pyramid (Web Mercator, 256 x 256) of one band of a georeferenced raster:\n"
    "OUT_DIR/{z}/{x}/{y}.png for every tile touching the raster, and OUT_DIR/tilejson.json.\n"
    "\n"
    "  --zoom MIN-MAX         zoom levels (or one zoom Z); default: from the raster's resolution,\n"
    "                         as gdal2tiles chooses them\n"
    "  --colormap-name NAME   viridis (default), magma, inferno, plasma, cividis, greys, reds, blues,\n"
    "                         ylorrd, rdylgn, turbo\n"
    "  --rescale LO,HI        values drawn from the first to the last colour (default: band min,max)\n"
    "  --band N               1-based band (default 1)\n"
    "  --threads N            worker threads (default: all cores)\n";

namespace {

int parse_positive(const std::string& option, const std::string& text) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 1)
    throw InvalidInput(option + " needs a positive whole number, got '" + text + "'");
  return v;
}

}  // namespace

int run_tiles(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options) {
  if (positional.size() != 2) throw InvalidInput("tiles needs RASTER and OUT_DIR");
  PyramidOptions o;
  if (auto it = options.find("--zoom"); it != options.end()) {
    const auto [lo, hi] = parse_zoom_range(it->second);
    o.min_zoom = lo;
    o.max_zoom = hi;
  }
  if (auto it = options.find("--colormap-name"); it != options.end()) o.style.colormap_name = it->second;
  if (auto it = options.find("--rescale"); it != options.end()) o.style.rescale = parse_rescale(it->second);
  if (auto it = options.find("--band"); it != options.end()) o.style.band = parse_positive("--band", it->second);
  if (auto it = options.find("--threads"); it != options.end()) o.threads = parse_positive("--threads", it->second);
  const auto start = std::chrono::steady_clock::now();
  const PyramidSummary s = write_tile_pyramid(positional[0], positional[1], o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tiles: zoom %d-%d, %lld tiles (%lld empty) in %.2f s -> %s\n", s.min_zoom, s.max_zoom,
              static_cast<long long>(s.tiles), static_cast<long long>(s.empty_tiles), seconds, positional[1].c_str());
  return 0;
}

}  // namespace plumetrace::cli
