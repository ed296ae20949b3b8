#pragma once
/// @file geotiff_fixture.hpp
/// Test helper shared by the fusion tests: write a one-band Float32 GeoTIFF through GDAL.

#include <filesystem>
#include <vector>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

namespace plumetrace::testing_support {

/// Write `values` (row-major, w × h) as a GeoTIFF with geotransform `gt`, CRS EPSG:`epsg` and
/// nodata `nodata`. Returns false when GDAL cannot write it.
inline bool write_float_geotiff(const std::filesystem::path& file, int w, int h, const double gt[6], int epsg,
                                double nodata, const std::vector<float>& values) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), file.string().c_str(), w, h, 1, GDT_Float32, nullptr);
  if (ds == nullptr) return false;
  double copy[6];
  for (int i = 0; i < 6; ++i) copy[i] = gt[i];
  GDALSetGeoTransform(ds, copy);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, epsg);
  char* wkt = nullptr;
  OSRExportToWkt(srs, &wkt);
  GDALSetProjection(ds, wkt);
  CPLFree(wkt);
  OSRDestroySpatialReference(srs);
  GDALRasterBandH b = GDALGetRasterBand(ds, 1);
  GDALSetRasterNoDataValue(b, nodata);
  const bool ok = GDALRasterIO(b, GF_Write, 0, 0, w, h, const_cast<float*>(values.data()), w, h, GDT_Float32, 0, 0) == CE_None;
  GDALClose(ds);
  return ok;
}

}  // namespace plumetrace::testing_support
