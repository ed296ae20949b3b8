/// Imagery warped onto the analysis grid by GDAL (fusion/imagery.hpp).

#include "plumetrace/fusion/imagery.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <memory>

#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include "imagery_io.hpp"

namespace plumetrace {
namespace {

using fusion_detail::Dataset;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// A MEM dataset of `bands` Float32 bands, nodata NaN, on `gt` in `wkt`.
Dataset mem_dataset(int w, int h, int bands, const double gt[6], const std::string& wkt) {
  GDALDriverH mem = GDALGetDriverByName("MEM");
  if (mem == nullptr) return nullptr;
  Dataset ds(GDALCreate(mem, "", w, h, bands, GDT_Float32, nullptr));
  if (!ds) return nullptr;
  double copy[6];
  std::copy(gt, gt + 6, copy);
  GDALSetGeoTransform(ds.get(), copy);
  GDALSetProjection(ds.get(), wkt.c_str());
  for (int b = 1; b <= bands; ++b) {
    GDALRasterBandH band = GDALGetRasterBand(ds.get(), b);
    GDALSetRasterNoDataValue(band, std::numeric_limits<double>::quiet_NaN());
    GDALFillRaster(band, std::numeric_limits<double>::quiet_NaN(), 0);
  }
  return ds;
}

/// Warp `src` (bands 1 and 2) onto a new dataset shaped like `cells` with resampling `alg`;
/// band `band` of the result into `out`. False with `why` on a GDAL failure.
bool warp_into(GDALDatasetH src, const Grid& cells, const std::string& wkt, const char* alg, int band,
               std::vector<float>& out, std::string& why) {
  double gt[6];
  cells.geotransform(gt);
  Dataset dst = mem_dataset(cells.cols, cells.rows, 2, gt, wkt);
  if (!dst) {
    why = "cannot create the in-memory grid";
    return false;
  }
  const char* argv[] = {"-r", alg, "-srcnodata", "nan", "-dstnodata", "nan", "-wo", "INIT_DEST=NO_DATA", nullptr};
  std::unique_ptr<GDALWarpAppOptions, decltype(&GDALWarpAppOptionsFree)> options(
      GDALWarpAppOptionsNew(const_cast<char**>(argv), nullptr), &GDALWarpAppOptionsFree);
  int usage_error = 0;
  GDALDatasetH sources[] = {src};
  CPLErrorReset();
  if (GDALWarp(nullptr, dst.get(), 1, sources, options.get(), &usage_error) == nullptr || usage_error) {
    why = std::string("GDAL warp (") + alg + ") failed: " + CPLGetLastErrorMsg();
    return false;
  }
  out.assign(cells.size(), kNaN);
  if (GDALRasterIO(GDALGetRasterBand(dst.get(), band), GF_Read, 0, 0, cells.cols, cells.rows, out.data(), cells.cols,
                   cells.rows, GDT_Float32, 0, 0) != CE_None) {
    why = "cannot read the warped grid";
    return false;
  }
  return true;
}

}  // namespace

bool warp_imagery_band(const Imagery& im, const ImageryBand& band, const Grid& grid, const std::string& grid_wkt,
                       std::size_t max_cells, ImageryOnGrid& out, std::string& why) {
  assert(max_cells > 0);
  // the image's footprint in the grid's cells: its edges (pixel space) through its CRS into the grid's
  const std::string src_wkt = im.crs_wkt.empty() ? std::string(SRS_WKT_WGS84_LAT_LONG) : im.crs_wkt;
  double x_min = 1e300, x_max = -1e300, y_min = 1e300, y_max = -1e300;
  {
    OGRSpatialReferenceH from = OSRNewSpatialReference(src_wkt.c_str());
    OGRSpatialReferenceH to = OSRNewSpatialReference(grid_wkt.c_str());
    OSRSetAxisMappingStrategy(from, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(to, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = from && to ? OCTNewCoordinateTransformation(from, to) : nullptr;
    const double* gt = im.geotransform;
    constexpr int kEdgeSteps = 16;  // points per edge: a curved edge's bulge is within a pixel
    for (int i = 0; i <= kEdgeSteps; ++i)
      for (int j = 0; j <= kEdgeSteps; ++j) {
        if (i != 0 && i != kEdgeSteps && j != 0 && j != kEdgeSteps) continue;
        const double col = im.width * static_cast<double>(i) / kEdgeSteps;
        const double row = im.height * static_cast<double>(j) / kEdgeSteps;
        double x = gt[0] + col * gt[1] + row * gt[2], y = gt[3] + col * gt[4] + row * gt[5];
        if (ct == nullptr || !OCTTransform(ct, 1, &x, &y, nullptr)) continue;
        x_min = std::min(x_min, x);
        x_max = std::max(x_max, x);
        y_min = std::min(y_min, y);
        y_max = std::max(y_max, y);
      }
    if (ct != nullptr) OCTDestroyCoordinateTransformation(ct);
    if (from != nullptr) OSRDestroySpatialReference(from);
    if (to != nullptr) OSRDestroySpatialReference(to);
  }
  // (a footprint edge on a cell edge, give or take rounding, stays on it)
  constexpr double kEdgeTolerance = 1e-6;  // of a cell
  const int c0 = std::max(0, static_cast<int>(std::floor((x_min - grid.x0_m) / grid.cell_m + kEdgeTolerance)));
  const int c1 = std::min(grid.cols, static_cast<int>(std::ceil((x_max - grid.x0_m) / grid.cell_m - kEdgeTolerance)));
  const int r0 = std::max(0, static_cast<int>(std::floor((grid.y1_m - y_max) / grid.cell_m + kEdgeTolerance)));
  const int r1 = std::min(grid.rows, static_cast<int>(std::ceil((grid.y1_m - y_min) / grid.cell_m - kEdgeTolerance)));
  if (!(x_min <= x_max) || c1 <= c0 || r1 <= r0) {
    why = "outside the analysis grid";
    return false;
  }
  int k = std::max(1, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(c1 - c0) * (r1 - r0) /
                                                           static_cast<double>(max_cells)))));
  while (static_cast<std::size_t>((c1 - c0 + k - 1) / k) * static_cast<std::size_t>((r1 - r0 + k - 1) / k) > max_cells) ++k;
  out.factor = k;
  out.grid = grid;
  out.grid.cell_m = grid.cell_m * k;
  out.grid.x0_m = grid.x0_m + c0 * grid.cell_m;
  out.grid.y1_m = grid.y1_m - r0 * grid.cell_m;
  out.grid.cols = (c1 - c0 + k - 1) / k;
  out.grid.rows = (r1 - r0 + k - 1) / k;

  // the band and a band of ones (NaN where the band has no value), in memory
  const Dataset ds = fusion_detail::open_imagery(im);
  GDALRasterBandH in = ds ? GDALGetRasterBand(ds.get(), band.band) : nullptr;
  if (in == nullptr) {
    why = "cannot read band " + std::to_string(band.band);
    return false;
  }
  std::vector<float> px(static_cast<std::size_t>(im.width) * im.height);
  if (GDALRasterIO(in, GF_Read, 0, 0, im.width, im.height, px.data(), im.width, im.height, GDT_Float32, 0, 0) != CE_None) {
    why = "cannot read band " + std::to_string(band.band);
    return false;
  }
  std::vector<float> ones(px.size(), 1.0F);
  for (std::size_t i = 0; i < px.size(); ++i)
    if (!std::isfinite(px[i]) || (band.nodata && px[i] == static_cast<float>(*band.nodata))) px[i] = ones[i] = kNaN;
  Dataset src = mem_dataset(im.width, im.height, 2, im.geotransform, src_wkt);
  if (!src ||
      GDALRasterIO(GDALGetRasterBand(src.get(), 1), GF_Write, 0, 0, im.width, im.height, px.data(), im.width,
                   im.height, GDT_Float32, 0, 0) != CE_None ||
      GDALRasterIO(GDALGetRasterBand(src.get(), 2), GF_Write, 0, 0, im.width, im.height, ones.data(), im.width,
                   im.height, GDT_Float32, 0, 0) != CE_None) {
    why = "cannot copy the band into memory";
    return false;
  }
  return warp_into(src.get(), out.grid, grid_wkt, "average", 1, out.mean, why) &&
         warp_into(src.get(), out.grid, grid_wkt, "max", 1, out.max, why) &&
         warp_into(src.get(), out.grid, grid_wkt, "sum", 2, out.count, why);
}

}  // namespace plumetrace
