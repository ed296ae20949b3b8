#pragma once
/// @file imagery.hpp
/// Imagery on the analysis grid (issue #9 item 2): one band of a georeferenced raster warped by
/// GDAL onto the analysis grid's cells (or cells an integer number of times larger, so that the
/// image's footprint holds at most a given number of them), with area-weighted averaging
/// (`gdalwarp -r average`), the largest pixel (`-r max`) and the number of pixels (`-r sum` of
/// a band of ones), nodata respected. The fusion room turns each cell into one observation.

#include <cstddef>
#include <string>
#include <vector>

#include "plumetrace/geo/grid.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

struct ImageryOnGrid {
  /// The cells: the analysis grid's origin and CRS, cell = factor × the analysis cell, covering
  /// the image's footprint (clipped to the analysis grid).
  Grid grid;
  int factor{1};
  std::vector<float> mean;   ///< area-weighted mean of the valid pixels; NaN where none
  std::vector<float> max;    ///< largest valid pixel touching the cell; NaN where none
  std::vector<float> count;  ///< valid pixels in the cell (area-weighted: partial pixels count in part)
};

/// Warp band `band` of `im` onto `grid` (its CRS as WKT: `grid_wkt`), coarsened by the smallest
/// integer factor that leaves at most `max_cells` cells over the image's footprint.
/// Returns false with `why` set when the band cannot be read or warped (the caller reports it),
/// or when the image does not overlap the grid ("outside the analysis grid").
/// @pre max_cells > 0
bool warp_imagery_band(const Imagery& im, const ImageryBand& band, const Grid& grid, const std::string& grid_wkt,
                       std::size_t max_cells, ImageryOnGrid& out, std::string& why);

}  // namespace plumetrace
