#pragma once
// Reading imagery for the fusion room (observations.cpp, hotspots.cpp): open a case raster with
// the drivers imagery may use, and map its pixels to WGS 84. Internal to src/fusion.

#include <memory>
#include <string>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "plumetrace/ingest/case.hpp"

namespace plumetrace::fusion_detail {

struct DatasetCloser {
  void operator()(void* h) const { GDALClose(h); }
};
using Dataset = std::unique_ptr<void, DatasetCloser>;

/// Open an imagery raster read-only with the drivers imagery may use; null when it cannot be.
inline Dataset open_imagery(const Imagery& im) {
  const char* const allowed[] = {"GTiff", "COG", "PNG", "JPEG", "HFA", "netCDF", nullptr};
  return Dataset(GDALOpenEx(im.path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, allowed, nullptr, nullptr));
}

/// Full-resolution pixel coordinates (column, row; pixel corners at integers) of an image ->
/// WGS 84 lon/lat, through its geotransform and its own CRS (none: already lon/lat).
class PixelToLonLat {
 public:
  explicit PixelToLonLat(const Imagery& im) : gt_(im.geotransform) {
    if (im.crs_wkt.empty()) return;
    src_ = OSRNewSpatialReference(nullptr);
    wgs_ = OSRNewSpatialReference(nullptr);
    OSRSetAxisMappingStrategy(src_, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs_, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetWellKnownGeogCS(wgs_, "WGS84");
    std::string wkt_copy = im.crs_wkt;  // WKT from the raster itself, never a user string
    char* wkt = wkt_copy.data();
    OSRImportFromWkt(src_, &wkt);
    ct_ = OCTNewCoordinateTransformation(src_, wgs_);
  }
  ~PixelToLonLat() {
    if (ct_ != nullptr) OCTDestroyCoordinateTransformation(ct_);
    if (src_ != nullptr) OSRDestroySpatialReference(src_);
    if (wgs_ != nullptr) OSRDestroySpatialReference(wgs_);
  }
  PixelToLonLat(const PixelToLonLat&) = delete;
  PixelToLonLat& operator=(const PixelToLonLat&) = delete;
  /// False when the CRS transformation fails for this point.
  bool operator()(double col, double row, double& lon, double& lat) const {
    lon = gt_[0] + col * gt_[1] + row * gt_[2];
    lat = gt_[3] + col * gt_[4] + row * gt_[5];
    return ct_ == nullptr || OCTTransform(ct_, 1, &lon, &lat, nullptr);
  }

 private:
  const double* gt_;
  OGRSpatialReferenceH src_{}, wgs_{};
  OGRCoordinateTransformationH ct_{};
};

}  // namespace plumetrace::fusion_detail
