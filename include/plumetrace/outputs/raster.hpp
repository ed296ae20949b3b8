#pragma once
/// @file raster.hpp
/// Cloud-Optimised GeoTIFF output of a grid field.

#include <filesystem>
#include <string>
#include <vector>

#include "plumetrace/geo/grid.hpp"

namespace plumetrace {

/// Write `values` (row-major, grid.size(), NaN = nodata) as a single-band Float32 COG (DEFLATE,
/// internal overviews) in the grid's CRS (`crs_wkt`), with the band description and unit set.
/// @throws Internal when GDAL cannot write the file.
void write_cog(const std::filesystem::path& file, const Grid& grid, const std::string& crs_wkt,
               const std::vector<float>& values, const std::string& description,
               const std::string& unit);

}  // namespace plumetrace
