#pragma once
/// @file grid.hpp
/// The analysis grid: a north-up raster in the analysis CRS. Row 0 is the northern edge
/// (GDAL convention); cell (r, c) has centre x = x0 + (c + 0.5) * cell, y = y1 - (r + 0.5) * cell.

#include <cstddef>
#include <string>
#include <vector>

#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

struct Grid {
  std::string crs;        ///< analysis CRS ("EPSG:32650")
  double x0_m{};          ///< western edge (easting)
  double y1_m{};          ///< northern edge (northing)
  double cell_m{};        ///< square cell size
  int cols{};
  int rows{};

  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(rows) * cols; }
  [[nodiscard]] double x_center(int c) const noexcept { return x0_m + (c + 0.5) * cell_m; }
  [[nodiscard]] double y_center(int r) const noexcept { return y1_m - (r + 0.5) * cell_m; }
  [[nodiscard]] double x1_m() const noexcept { return x0_m + cols * cell_m; }
  [[nodiscard]] double y0_m() const noexcept { return y1_m - rows * cell_m; }
  /// Column/row containing (x, y); may be outside [0, cols) x [0, rows).
  [[nodiscard]] int col_of(double x_m) const noexcept;
  [[nodiscard]] int row_of(double y_m) const noexcept;
  [[nodiscard]] bool contains(double x_m, double y_m) const noexcept;
  /// GDAL geotransform {x0, cell, 0, y1, 0, -cell}.
  void geotransform(double gt[6]) const noexcept;
};

/// Options for choosing a grid.
struct GridOptions {
  double margin_fraction{0.25};  ///< margin on every side, as a fraction of the larger extent
  double min_margin_m{200.0};
  int target_cells_long_side{200};  ///< when cell_m is not given: extent/target rounded to 1-2-5
  /// false: the extent above is the data's (the margin adds cells); true: the data's plus the
  /// margins (a grid that is mostly margin, as the regions grid, keeps about target cells a side)
  bool cells_across_margin{false};
  double min_cell_m{1.0};
};

/// The analysis CRS for a case: settings.crs when set, else utm_crs_for the centre of all
/// located data (sources, stations, traces, imagery). @throws InvalidInput when nothing is located.
std::string analysis_crs_for(const Case& c);

/// A grid covering every located item of the case (sources, stations, trace points, imagery
/// footprints) plus a margin, in `crs`. Cell size: settings.grid_m, else chosen from the extent so
/// that the long side has about `target_cells_long_side` cells (1-2-5 rounding), so metre-scale
/// experiments and 50 km regions both work. @throws InvalidInput when nothing is located.
Grid make_grid(const Case& c, const std::string& crs, const GridOptions& options = {});

}  // namespace plumetrace
