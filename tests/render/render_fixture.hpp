#pragma once
/// Helpers for the render tests: real GeoTIFFs written with GDAL (UTM zone
/// 50N, Float32, NaN nodata) whose pixel values are known.

#include <gdal.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../ingest/test_support.hpp"  // TempDir

namespace plumetrace::test {

/// The fixtures' grid: UTM 50N (EPSG:32650), 100 m pixels, north-west corner at (700 km E, 3200 km N),
/// i.e. around 119.1 E, 28.9 N.
inline constexpr double kOriginEastM = 700000.0, kOriginNorthM = 3200000.0, kPixelM = 100.0;

/// Write a single-band Float32 GeoTIFF of `cols` x `rows` pixels with value(col, row) (NaN = nodata,
/// declared as the band's nodata) on the fixtures' grid. With `overviews`, also build internal
/// AVERAGE overviews 2, 4, 8, 16.
inline std::filesystem::path write_utm_tiff(const std::filesystem::path& file, int cols, int rows,
                                            const std::function<float(int, int)>& value, bool overviews = false) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), file.c_str(), cols, rows, 1, GDT_Float32, nullptr);
  if (ds == nullptr) throw std::runtime_error("cannot create " + file.string());
  double gt[6] = {kOriginEastM, kPixelM, 0, kOriginNorthM, 0, -kPixelM};
  GDALSetGeoTransform(ds, gt);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, 32650);
  GDALSetSpatialRef(ds, srs);
  OSRDestroySpatialReference(srs);
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  GDALSetRasterNoDataValue(band, std::numeric_limits<double>::quiet_NaN());
  std::vector<float> data(static_cast<std::size_t>(cols) * rows);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) data[static_cast<std::size_t>(r) * cols + c] = value(c, r);
  if (GDALRasterIO(band, GF_Write, 0, 0, cols, rows, data.data(), cols, rows, GDT_Float32, 0, 0) != CE_None)
    throw std::runtime_error("cannot write " + file.string());
  if (overviews) {
    int levels[] = {2, 4, 8, 16};
    if (GDALBuildOverviews(ds, "AVERAGE", 4, levels, 0, nullptr, nullptr, nullptr) != CE_None)
      throw std::runtime_error("cannot build overviews in " + file.string());
  }
  GDALClose(ds);
  return file;
}

/// Left half (columns < cols/2) = `left_value`, right half NaN.
inline std::filesystem::path write_half_tiff(const std::filesystem::path& file, int cols, int rows, float left_value) {
  return write_utm_tiff(file, cols, rows, [&](int c, int) {
    return c < cols / 2 ? left_value : std::numeric_limits<float>::quiet_NaN();
  });
}

}  // namespace plumetrace::test
