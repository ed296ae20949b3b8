/// @file grid.cpp
/// Choosing the analysis CRS and grid of a case.

#include "plumetrace/geo/grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "plumetrace/core/error.hpp"
#include "plumetrace/geo/crs.hpp"

namespace plumetrace {

namespace {

/// Largest number of cells make_grid accepts (a 7000 x 7000 grid); beyond it the cell size is
/// certainly a mistake (a metre grid over a province).
constexpr double kMaxCells = 50.0e6;

bool valid_lon_lat(double lon, double lat) {
  return std::isfinite(lon) && std::isfinite(lat) && lon >= -180.0 && lon <= 180.0 && lat >= -90.0 &&
         lat <= 90.0;
}

/// Calls f(lon, lat) for every located item of the case: sources, stations, trace samples and a
/// ring of points around each imagery footprint (corners and edge midpoints).
template <typename F>
void for_each_located(const Case& c, F&& f) {
  for (const auto& s : c.sources)
    if (valid_lon_lat(s.lon, s.lat)) f(s.lon, s.lat);
  for (const auto& s : c.stations)
    if (valid_lon_lat(s.lon, s.lat)) f(s.lon, s.lat);
  for (const auto& t : c.traces) {
    const std::size_t n = std::min(t.lon.size(), t.lat.size());
    for (std::size_t i = 0; i < n; ++i)
      if (valid_lon_lat(t.lon[i], t.lat[i])) f(t.lon[i], t.lat[i]);
  }
  for (const auto& im : c.imagery) {
    if (!valid_lon_lat(im.lon_min, im.lat_min) || !valid_lon_lat(im.lon_max, im.lat_max)) continue;
    constexpr int kSteps = 4;
    for (int i = 0; i <= kSteps; ++i) {
      const double fx = static_cast<double>(i) / kSteps;
      const double lon = im.lon_min + fx * (im.lon_max - im.lon_min);
      const double lat = im.lat_min + fx * (im.lat_max - im.lat_min);
      f(lon, im.lat_min);
      f(lon, im.lat_max);
      f(im.lon_min, lat);
      f(im.lon_max, lat);
    }
  }
}

/// The value of the 1-2-5 sequence (..., 0.5, 1, 2, 5, 10, 20, ...) nearest to `v` on a log scale.
/// @pre v > 0
double round_125(double v) {
  const double decade = std::pow(10.0, std::floor(std::log10(v)));
  double best = decade;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (std::fabs(std::log(m * decade / v)) < std::fabs(std::log(best / v))) best = m * decade;
  return best;
}

/// floor(v) as int, saturated to the int range (NaN -> INT_MIN).
int saturating_floor(double v) noexcept {
  if (!(v >= static_cast<double>(std::numeric_limits<int>::min()))) return std::numeric_limits<int>::min();
  if (v >= static_cast<double>(std::numeric_limits<int>::max())) return std::numeric_limits<int>::max();
  return static_cast<int>(std::floor(v));
}

}  // namespace

int Grid::col_of(double x_m) const noexcept { return saturating_floor((x_m - x0_m) / cell_m); }

int Grid::row_of(double y_m) const noexcept { return saturating_floor((y1_m - y_m) / cell_m); }

bool Grid::contains(double x_m, double y_m) const noexcept {
  const int c = col_of(x_m);
  const int r = row_of(y_m);
  return c >= 0 && c < cols && r >= 0 && r < rows;
}

void Grid::geotransform(double gt[6]) const noexcept {
  gt[0] = x0_m;
  gt[1] = cell_m;
  gt[2] = 0.0;
  gt[3] = y1_m;
  gt[4] = 0.0;
  gt[5] = -cell_m;
}

std::string analysis_crs_for(const Case& c) {
  if (!c.settings.crs.empty()) return c.settings.crs;
  double lon_min = std::numeric_limits<double>::infinity(), lon_max = -lon_min;
  double lat_min = lon_min, lat_max = -lon_min;
  for_each_located(c, [&](double lon, double lat) {
    lon_min = std::min(lon_min, lon);
    lon_max = std::max(lon_max, lon);
    lat_min = std::min(lat_min, lat);
    lat_max = std::max(lat_max, lat);
  });
  if (!(lon_min <= lon_max))
    throw InvalidInput("no located data (sources, stations, traces or imagery) to choose a CRS from");
  const double lat_c = std::clamp(0.5 * (lat_min + lat_max), -80.0, 84.0);
  return utm_crs_for(0.5 * (lon_min + lon_max), lat_c);
}

Grid make_grid(const Case& c, const std::string& crs, const GridOptions& options) {
  Transformer tr(crs);
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for_each_located(c, [&](double lon, double lat) {
    double x, y;
    if (!tr.forward(lon, lat, x, y)) return;
    x_min = std::min(x_min, x);
    x_max = std::max(x_max, x);
    y_min = std::min(y_min, y);
    y_max = std::max(y_max, y);
  });
  if (!(x_min <= x_max))
    throw InvalidInput("no located data (sources, stations, traces or imagery) inside CRS '" + crs + "'");

  const double data_long_m = std::max(x_max - x_min, y_max - y_min);
  const double margin_m = std::max(options.min_margin_m, options.margin_fraction * data_long_m);
  double cell_m;
  if (c.settings.grid_m) {
    cell_m = *c.settings.grid_m;
    if (!std::isfinite(cell_m) || cell_m <= 0.0)
      throw InvalidInput("case.json grid_m must be a positive number of metres");
  } else {
    const double basis_m = data_long_m > 0.0 && !options.cells_across_margin ? data_long_m : data_long_m + 2.0 * margin_m;
    const int target = std::max(1, options.target_cells_long_side);
    cell_m = std::max(options.min_cell_m, round_125(basis_m / target));
  }

  Grid g;
  g.crs = crs;
  g.cell_m = cell_m;
  g.x0_m = std::floor((x_min - margin_m) / cell_m) * cell_m;
  g.y1_m = std::ceil((y_max + margin_m) / cell_m) * cell_m;
  const double cols = std::ceil((x_max + margin_m - g.x0_m) / cell_m);
  const double rows = std::ceil((g.y1_m - (y_min - margin_m)) / cell_m);
  if (cols * rows > kMaxCells)
    throw InvalidInput("analysis grid of " + std::to_string(static_cast<long long>(cols)) + " x " +
                       std::to_string(static_cast<long long>(rows)) + " cells of " +
                       std::to_string(cell_m) + " m is too large; raise grid_m");
  g.cols = std::max(1, static_cast<int>(cols));
  g.rows = std::max(1, static_cast<int>(rows));
  return g;
}

}  // namespace plumetrace
