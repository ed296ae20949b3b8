#include "plumetrace/outputs/raster.hpp"

#include <cpl_string.h>
#include <gdal.h>

#include <cmath>
#include <limits>

#include "plumetrace/core/error.hpp"

namespace plumetrace {

void write_cog(const std::filesystem::path& file, const Grid& grid, const std::string& crs_wkt,
               const std::vector<float>& values, const std::string& description,
               const std::string& unit) {
  if (values.size() != grid.size()) throw Internal("write_cog: value count does not match the grid");
  GDALAllRegister();
  GDALDriverH mem = GDALGetDriverByName("MEM");
  GDALDriverH cog = GDALGetDriverByName("COG");
  if (mem == nullptr || cog == nullptr) throw Internal("GDAL has no MEM or COG driver");
  GDALDatasetH ds = GDALCreate(mem, "", grid.cols, grid.rows, 1, GDT_Float32, nullptr);
  if (ds == nullptr) throw Internal("cannot create an in-memory raster");
  double gt[6];
  grid.geotransform(gt);
  GDALSetGeoTransform(ds, gt);
  GDALSetProjection(ds, crs_wkt.c_str());
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  GDALSetRasterNoDataValue(band, std::numeric_limits<float>::quiet_NaN());
  GDALSetDescription(band, description.c_str());
  GDALSetRasterUnitType(band, unit.c_str());
  std::vector<float> copy(values);
  const CPLErr err = GDALRasterIO(band, GF_Write, 0, 0, grid.cols, grid.rows, copy.data(), grid.cols,
                                  grid.rows, GDT_Float32, 0, 0);
  if (err != CE_None) {
    GDALClose(ds);
    throw Internal("cannot fill the in-memory raster");
  }
  char** opts = nullptr;
  opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
  opts = CSLSetNameValue(opts, "PREDICTOR", "YES");
  opts = CSLSetNameValue(opts, "OVERVIEWS", "AUTO");
  GDALDatasetH out = GDALCreateCopy(cog, file.c_str(), ds, FALSE, opts, nullptr, nullptr);
  CSLDestroy(opts);
  GDALClose(ds);
  if (out == nullptr) throw Internal("cannot write " + file.filename().string() + ": " + CPLGetLastErrorMsg());
  GDALClose(out);
}

}  // namespace plumetrace
