// Safe opening of user-named rasters (ENGINEERING.md §5): allow-listed drivers, no /vsi*, no VRT,
// size limits before any pixel is read; every refusal is InvalidInput naming the file.

#include "plumetrace/render/raster_source.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "plumetrace/core/error.hpp"
#include "render_fixture.hpp"

namespace plumetrace {
namespace {

/// The message of the InvalidInput that opening `file` throws ("" when it opens).
std::string refusal(const std::filesystem::path& file, const RasterLimits& limits = {}) {
  try {
    (void)open_raster_checked(file, limits);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

TEST(RasterSource, OpensAGeoTiff) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "ok.tif", 20, 10, 1.0f);
  EXPECT_EQ(refusal(file), "");
  const RasterIdentity id = raster_identity(file);
  EXPECT_EQ(id.path, file.string());
  EXPECT_GT(id.size_bytes, 0u);
  EXPECT_EQ(id, raster_identity(file));
}

TEST(RasterSource, RefusesVsiVrtAndDriverSyntax) {
  test::TempDir dir;
  const auto tif = test::write_half_tiff(dir.path() / "ok.tif", 20, 10, 1.0f);
  for (const std::string& name : std::vector<std::string>{"/vsicurl/http://example.com/a.tif", "/vsizip//tmp/a.zip/a.tif",
                                 "/VSIMEM/a.tif", "NETCDF:" + tif.string() + ":var", "GTIFF_DIR:1:" + tif.string()}) {
    const std::string why = refusal(name);
    EXPECT_NE(why, "") << name;
    EXPECT_EQ(why.rfind(name + ": ", 0), 0u) << why;
  }
  // a real VRT pointing at a real GeoTIFF: refused by name before GDAL sees it
  const auto vrt = dir.path() / "a.VRT";
  std::ofstream(vrt) << "<VRTDataset rasterXSize=\"20\" rasterYSize=\"10\"><VRTRasterBand dataType=\"Float32\" band=\"1\">"
                        "<SimpleSource><SourceFilename>" << tif.string() << "</SourceFilename><SourceBand>1</SourceBand>"
                        "</SimpleSource></VRTRasterBand></VRTDataset>";
  EXPECT_NE(refusal(vrt).find("VRT"), std::string::npos);
  // the same VRT under another name: VRT is not an allowed driver
  const auto disguised = dir.path() / "disguised.tif";
  std::filesystem::copy_file(vrt, disguised);
  EXPECT_NE(refusal(disguised).find("allowed drivers"), std::string::npos) << refusal(disguised);
}

TEST(RasterSource, RefusesMissingFoldersAndNonRasters) {
  test::TempDir dir;
  EXPECT_NE(refusal(dir.path() / "missing.tif").find("no such file"), std::string::npos);
  EXPECT_NE(refusal(dir.path()).find("not a regular file"), std::string::npos);
  EXPECT_NE(refusal("").find("empty"), std::string::npos);
  const auto text = dir.path() / "notes.tif";
  std::ofstream(text) << "not a raster\n";
  EXPECT_NE(refusal(text).find("notes.tif: not a raster"), std::string::npos) << refusal(text);
}

TEST(RasterSource, SizeLimitCheckedRightAfterOpen) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "big.tif", 200, 100, 1.0f);
  RasterLimits limits;
  limits.max_samples = 200 * 100 - 1;
  EXPECT_NE(refusal(file, limits).find("200 x 100 x 1 samples exceed the limit of 19999"), std::string::npos)
      << refusal(file, limits);
  limits.max_samples = 200 * 100;
  EXPECT_EQ(refusal(file, limits), "");
}

}  // namespace
}  // namespace plumetrace
