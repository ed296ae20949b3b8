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
  write_cog_bands(file, grid, crs_wkt, {{&values, description, unit}});
}

void write_cog_bands(const std::filesystem::path& file, const Grid& grid, const std::string& crs_wkt,
                     const std::vector<CogBand>& bands) {
  for (const CogBand& b : bands)
    if (b.values == nullptr || b.values->size() != grid.size()) throw Internal("write_cog: value count does not match the grid");
  GDALAllRegister();
  GDALDriverH mem = GDALGetDriverByName("MEM");
  GDALDriverH cog = GDALGetDriverByName("COG");
  if (mem == nullptr || cog == nullptr) throw Internal("GDAL has no MEM or COG driver");
  GDALDatasetH ds = GDALCreate(mem, "", grid.cols, grid.rows, static_cast<int>(bands.size()), GDT_Float32, nullptr);
  if (ds == nullptr) throw Internal("cannot create an in-memory raster");
  double gt[6];
  grid.geotransform(gt);
  GDALSetGeoTransform(ds, gt);
  GDALSetProjection(ds, crs_wkt.c_str());
  for (std::size_t i = 0; i < bands.size(); ++i) {
    GDALRasterBandH band = GDALGetRasterBand(ds, static_cast<int>(i) + 1);
    GDALSetRasterNoDataValue(band, std::numeric_limits<float>::quiet_NaN());
    GDALSetDescription(band, bands[i].description.c_str());
    GDALSetRasterUnitType(band, bands[i].unit.c_str());
    std::vector<float> copy(*bands[i].values);
    if (GDALRasterIO(band, GF_Write, 0, 0, grid.cols, grid.rows, copy.data(), grid.cols, grid.rows, GDT_Float32, 0, 0) !=
        CE_None) {
      GDALClose(ds);
      throw Internal("cannot fill the in-memory raster");
    }
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
