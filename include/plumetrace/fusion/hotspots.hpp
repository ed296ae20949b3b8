#pragma once
/// @file hotspots.hpp
/// Hotspots of imagery (CONTRACT §3 `hotspots`): connected regions of an image that stand above
/// their local background by kHotspotSigmas robust standard deviations.
///
/// Per image band of the pollutant (taken within the use window, as the fusion takes imagery):
/// the band is read whole up to kHotspotMaxPixels pixels (larger images are averaged down by
/// GDAL, nodata respected); the local background of a pixel is the median of the valid pixels of
/// its tile of kHotspotTilePx × kHotspotTilePx; the noise is 1.4826 × the median absolute
/// deviation of every valid pixel from its tile's median; pixels above background + k·noise
/// form regions by 8-connectivity, and regions of at least kHotspotMinPixels pixels are
/// hotspots. A hotspot is placed at its highest pixel (for a ground-level source the plume is
/// most concentrated at the source) and matched to the nearest registered facility within
/// kHotspotMatchM of it; an unmatched hotspot is evidence of a source missing from the registry.

#include <optional>
#include <string>
#include <vector>

#include "plumetrace/core/diagnostics.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

/// A pixel is hot when it exceeds its local background by this many robust standard deviations
/// (5: a false pixel once in ~3.5 million under Gaussian noise, a few per image under the heavier
/// tails of real sensors, which kHotspotMinPixels then removes).
inline constexpr double kHotspotSigmas = 5.0;
/// A hotspot has at least this many connected hot pixels (an isolated hot pixel is noise).
inline constexpr int kHotspotMinPixels = 4;
/// Tile of the local background, pixels per side: at 8 m pixels a 512 m tile, wider than a
/// plume near its source, so the plume does not raise its own background.
inline constexpr int kHotspotTilePx = 64;
/// Images are read at full resolution up to this many pixels (64 MB of float).
inline constexpr double kHotspotMaxPixels = 16e6;
/// A hotspot is matched to a registered facility within this distance of its peak (metres): a
/// few pixels of a drone survey plus the position error of a registry entry.
inline constexpr double kHotspotMatchM = 150.0;
/// At most this many hotspots per image, the highest first.
inline constexpr std::size_t kMaxHotspotsPerImage = 20;

struct Hotspot {
  std::string image;          ///< imagery/NAME
  int band{};
  double lon{}, lat{};        ///< the highest pixel, WGS 84
  double x_m{}, y_m{};        ///< the same in the analysis CRS
  double centroid_lon{}, centroid_lat{};  ///< excess-weighted centroid
  double area_m2{};
  double peak{};              ///< highest pixel value, the image's unit
  double background{};        ///< local background at the peak
  std::string unit;
  int pixels{};
  std::optional<std::string> matched;  ///< registry id within kHotspotMatchM, else nullopt
  double matched_distance_m{};
};

/// Detect the hotspots of every imagery band of `pollutant` dated within [use_start, use_end]
/// (undated bands included). Bands that cannot be read are reported in `diag` and skipped.
[[nodiscard]] std::vector<Hotspot> detect_hotspots(const Case& c, const Transformer& tr, const std::string& pollutant,
                                                   EpochSeconds use_start, EpochSeconds use_end, Diagnostics& diag);

}  // namespace plumetrace
