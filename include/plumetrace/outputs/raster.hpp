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

/// One band of write_cog_bands.
struct CogBand {
  const std::vector<float>* values;  ///< row-major, grid.size(), NaN = nodata
  std::string description;
  std::string unit;
};

/// As write_cog, with several Float32 bands (in order). @throws Internal when GDAL cannot write
/// the file or a band's size does not match the grid.
void write_cog_bands(const std::filesystem::path& file, const Grid& grid, const std::string& crs_wkt,
                     const std::vector<CogBand>& bands);

}  // namespace plumetrace
