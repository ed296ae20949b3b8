#include <gtest/gtest.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "plumetrace/ingest/readers.hpp"
#include "test_support.hpp"

namespace plumetrace {
namespace {

using test::dump;
using test::has_rejection;
using test::has_warning;
using test::TempDir;

/// UTM 50N (EPSG:32650) coordinates of a WGS 84 lon/lat.
void to_utm50(double lon, double lat, double& x, double& y) {
  OGRSpatialReferenceH wgs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(wgs, 4326);
  OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReferenceH utm = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(utm, 32650);
  OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(wgs, utm);
  x = lon;
  y = lat;
  ASSERT_TRUE(OCTTransform(ct, 1, &x, &y, nullptr));
  OCTDestroyCoordinateTransformation(ct);
  OSRDestroySpatialReference(wgs);
  OSRDestroySpatialReference(utm);
}

/// WGS 84 lon/lat of a UTM 50N point.
void from_utm50(double x, double y, double& lon, double& lat) {
  OGRSpatialReferenceH wgs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(wgs, 4326);
  OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
  OGRSpatialReferenceH utm = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(utm, 32650);
  OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(utm, wgs);
  lon = x;
  lat = y;
  ASSERT_TRUE(OCTTransform(ct, 1, &lon, &lat, nullptr));
  OCTDestroyCoordinateTransformation(ct);
  OSRDestroySpatialReference(wgs);
  OSRDestroySpatialReference(utm);
}

std::string wkt_of_epsg(int code) {
  OGRSpatialReferenceH s = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(s, code);
  char* w = nullptr;
  OSRExportToWkt(s, &w);
  std::string out = w;
  CPLFree(w);
  OSRDestroySpatialReference(s);
  return out;
}

/// Write a Float32 GeoTIFF; `gt` null = no georeferencing.
void write_tiff(const std::filesystem::path& p, int w, int h, int bands, const double* gt,
                const std::string& wkt, const std::function<void(GDALRasterBandH, int)>& fill) {
  GDALAllRegister();
  GDALDriverH drv = GDALGetDriverByName("GTiff");
  GDALDatasetH ds = GDALCreate(drv, p.c_str(), w, h, bands, GDT_Float32, nullptr);
  ASSERT_NE(ds, nullptr);
  if (gt != nullptr) GDALSetGeoTransform(ds, const_cast<double*>(gt));
  if (!wkt.empty()) GDALSetProjection(ds, wkt.c_str());
  for (int b = 1; b <= bands; ++b) fill(GDALGetRasterBand(ds, b), b);
  GDALClose(ds);
}

void fill_const(GDALRasterBandH band, int w, int h, float v) {
  std::vector<float> px(static_cast<std::size_t>(w * h), v);
  ASSERT_EQ(GDALRasterIO(band, GF_Write, 0, 0, w, h, px.data(), w, h, GDT_Float32, 0, 0), CE_None);
}

TEST(SourcesOgr, GeoJsonPoints) {
  TempDir dir;
  const auto p = dir.write("sources.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"S1","name":"Paint, Ltd","height_m":25,"pollutants":"SO2;voc","prior":0.5,"permit":"X"},"geometry":{"type":"Point","coordinates":[120.1,28.9]}},
{"type":"Feature","properties":{"id":"S2","name":"no geometry","height_m":5},"geometry":null},
{"type":"Feature","properties":{"id":"S3","name":"bad lat","height_m":5},"geometry":{"type":"Point","coordinates":[120.1,95.0]}},
{"type":"Feature","properties":{"id":"S1","name":"dup","height_m":5},"geometry":{"type":"Point","coordinates":[120.2,28.8]}},
{"type":"Feature","properties":{"id":"S4","name":"string height","height_m":"tall"},"geometry":{"type":"Point","coordinates":[120.2,28.8]}},
{"type":"Feature","properties":{"id":"S5","name":"ok","height_m":0},"geometry":{"type":"Point","coordinates":[-120.25,-28.5]}}
]})");
  Diagnostics d;
  const auto s = read_sources_ogr(p, "sources.geojson", d);
  ASSERT_EQ(s.size(), 2U) << dump(d);
  EXPECT_EQ(s[0].id, "S1");
  EXPECT_EQ(s[0].name, "Paint, Ltd");
  EXPECT_DOUBLE_EQ(s[0].lon, 120.1);
  EXPECT_DOUBLE_EQ(s[0].lat, 28.9);
  EXPECT_DOUBLE_EQ(s[0].height_m, 25);
  EXPECT_DOUBLE_EQ(s[0].prior, 0.5);
  EXPECT_EQ(s[0].pollutants, (std::vector<std::string>{"so2", "voc"}));
  EXPECT_EQ(s[0].extra.at("permit"), "X");
  EXPECT_EQ(s[0].line, 1U);
  EXPECT_EQ(s[1].id, "S5");
  EXPECT_EQ(s[1].line, 6U);
  EXPECT_TRUE(has_rejection(d, "sources.geojson", 2, "no point geometry"));
  EXPECT_TRUE(has_rejection(d, "sources.geojson", 3, "column lat: 95 outside [-90, 90]"));
  EXPECT_TRUE(has_rejection(d, "sources.geojson", 4, "duplicate source id 'S1' first seen on line 1"));
  EXPECT_TRUE(has_rejection(d, "sources.geojson", 5, "column height_m: 'tall' is not a finite number"));
}

/// A one-point source layer in UTM zone 50 (EPSG:32650) written with GDAL's `driver`: string
/// fields `names` set to `values`, then a real `height_m`.
void write_utm_source(const std::filesystem::path& p, const char* driver,
                      const std::vector<std::string>& names, const std::vector<std::string>& values,
                      double height_m, double x, double y) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName(driver), p.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
  ASSERT_NE(ds, nullptr);
  OGRSpatialReferenceH utm = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(utm, 32650);
  OGRLayerH l = GDALDatasetCreateLayer(ds, "sources", utm, wkbPoint, nullptr);
  OSRDestroySpatialReference(utm);
  for (const std::string& n : names) {
    OGRFieldDefnH fd = OGR_Fld_Create(n.c_str(), OFTString);
    OGR_L_CreateField(l, fd, TRUE);
    OGR_Fld_Destroy(fd);
  }
  OGRFieldDefnH fd = OGR_Fld_Create("height_m", OFTReal);
  OGR_L_CreateField(l, fd, TRUE);
  OGR_Fld_Destroy(fd);
  OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
  for (std::size_t i = 0; i < values.size(); ++i) OGR_F_SetFieldString(f, static_cast<int>(i), values[i].c_str());
  OGR_F_SetFieldDouble(f, static_cast<int>(names.size()), height_m);
  OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
  OGR_G_SetPoint_2D(g, 0, x, y);
  OGR_F_SetGeometryDirectly(f, g);
  ASSERT_EQ(OGR_L_CreateFeature(l, f), OGRERR_NONE);
  OGR_F_Destroy(f);
  GDALClose(ds);
}

TEST(SourcesOgr, GpkgInUtmIsReprojected) {
  TempDir dir;
  const auto p = dir.path() / "sources.gpkg";
  double x = 0, y = 0;
  to_utm50(120.1, 28.9, x, y);
  write_utm_source(p, "GPKG", {"id", "name"}, {"G1", "永康 works"}, 42.5, x, y);
  Diagnostics d;
  const auto s = read_sources_ogr(p, "sources.gpkg", d);
  ASSERT_EQ(s.size(), 1U) << dump(d);
  EXPECT_EQ(s[0].id, "G1");
  EXPECT_EQ(s[0].name, "永康 works");
  EXPECT_NEAR(s[0].lon, 120.1, 1e-8);
  EXPECT_NEAR(s[0].lat, 28.9, 1e-8);
  EXPECT_DOUBLE_EQ(s[0].height_m, 42.5);
}

TEST(SourcesOgr, RefusesVrtAndMissing) {
  TempDir dir;
  const auto vrt = dir.write("sources.vrt", "<OGRVRTDataSource/>");
  Diagnostics d;
  EXPECT_TRUE(read_sources_ogr(vrt, "sources.vrt", d).empty());
  EXPECT_TRUE(has_rejection(d, "sources.vrt", 0, "refused"));
  EXPECT_TRUE(read_sources_ogr("/vsicurl/http://example.com/x.geojson", "x.geojson", d).empty());
  EXPECT_TRUE(has_rejection(d, "x.geojson", 0, "refused"));
  EXPECT_TRUE(read_sources_ogr(dir.path() / "none.geojson", "none.geojson", d).empty());
  EXPECT_TRUE(has_rejection(d, "none.geojson", 0, "cannot open"));
}

TEST(TraceOgr, GpxTrackPointsWithExtensions) {
  TempDir dir;
  const auto p = dir.write("traces/drone.gpx", R"(<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:pt="http://plumetrace.example/gpx">
<trk><name>drone</name><trkseg>
<trkpt lat="28.91" lon="120.11"><ele>50</ele><time>2021-06-01T15:00:02Z</time><extensions><pt:so2>13.5</pt:so2><pt:wind_speed>2.5</pt:wind_speed></extensions></trkpt>
<trkpt lat="28.9" lon="120.1"><ele>55</ele><time>2021-06-01T23:00:00+08:00</time><extensions><pt:so2>12.5</pt:so2><pt:wind_speed>2</pt:wind_speed></extensions></trkpt>
<trkpt lat="28.92" lon="120.12"><time>2021-06-01T15:00:04Z</time><extensions><pt:so2>-3</pt:so2><pt:wind_speed>2</pt:wind_speed></extensions></trkpt>
<trkpt lat="28.93" lon="120.13"><time>2021-06-01T15:00:06Z</time><extensions><pt:so2>4</pt:so2></extensions></trkpt>
</trkseg></trk></gpx>)");
  Diagnostics d;
  const Trace tr = read_trace_ogr(p, "traces/drone.gpx", "drone", TimeZone{}, d);
  ASSERT_EQ(tr.size(), 3U) << dump(d);
  EXPECT_EQ(tr.variables, (std::vector<std::string>{"so2", "wind_speed"}));
  EXPECT_DOUBLE_EQ(tr.time_s[0], parse_iso8601("2021-06-01T15:00:00Z"));
  EXPECT_DOUBLE_EQ(tr.time_s[1], parse_iso8601("2021-06-01T15:00:02Z"));
  EXPECT_DOUBLE_EQ(tr.time_s[2], parse_iso8601("2021-06-01T15:00:06Z"));
  EXPECT_DOUBLE_EQ(tr.lon[0], 120.1);
  EXPECT_DOUBLE_EQ(tr.alt_m[0], 55);
  EXPECT_TRUE(std::isnan(tr.alt_m[2]));
  EXPECT_DOUBLE_EQ(tr.values[0][0], 12.5);
  EXPECT_DOUBLE_EQ(tr.values[1][1], 2.5);
  EXPECT_TRUE(std::isnan(tr.values[1][2]));
  EXPECT_TRUE(has_rejection(d, "traces/drone.gpx", 3, "negative concentration -3 of so2"));
}

TEST(TraceOgr, GeoJsonPoints) {
  TempDir dir;
  const auto p = dir.write("traces/boat.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"time":"2021-06-01T23:00:00","cod":12.5,"platform":"boat 7","note":"x"},"geometry":{"type":"Point","coordinates":[120.1,28.9,3]}},
{"type":"Feature","properties":{"time":"2021-06-01T23:00:10","cod":null,"platform":"boat 7","note":"y"},"geometry":{"type":"Point","coordinates":[120.2,28.8,4]}},
{"type":"Feature","properties":{"time":"garbage","cod":1,"platform":"boat 7","note":"y"},"geometry":{"type":"Point","coordinates":[120.2,28.8]}},
{"type":"Feature","properties":{"time":"2021-06-01T23:00:20","cod":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
]})");
  Diagnostics d;
  const Trace tr = read_trace_ogr(p, "traces/boat.geojson", "boat", TimeZone::parse("Asia/Shanghai"), d);
  ASSERT_EQ(tr.size(), 2U) << dump(d);
  EXPECT_EQ(tr.platform, "boat 7");
  EXPECT_EQ(tr.variables, (std::vector<std::string>{"cod"}));
  EXPECT_DOUBLE_EQ(tr.time_s[0], parse_iso8601("2021-06-01T15:00:00Z"));
  EXPECT_DOUBLE_EQ(tr.alt_m[1], 4);
  EXPECT_DOUBLE_EQ(tr.values[0][0], 12.5);
  EXPECT_TRUE(std::isnan(tr.values[0][1]));
  EXPECT_TRUE(has_rejection(d, "traces/boat.geojson", 3, "column time: cannot parse 'garbage'"));
  EXPECT_TRUE(has_rejection(d, "traces/boat.geojson", 4, "no point"));
  EXPECT_TRUE(has_warning(d, "traces/boat.geojson", "read in time zone Asia/Shanghai"));
}

TEST(TraceOgr, GpkgMeasuredLine) {
  TempDir dir;
  const auto p = dir.path() / "line.gpkg";
  {
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GPKG"), p.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    ASSERT_NE(ds, nullptr);
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(nullptr);
    OSRImportFromEPSG(wgs, 4326);
    OGRLayerH l = GDALDatasetCreateLayer(ds, "track", wgs, wkbLineStringM, nullptr);
    OSRDestroySpatialReference(wgs);
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    OGRGeometryH g = OGR_G_CreateGeometry(wkbLineStringM);
    OGR_G_AddPointM(g, 120.1, 28.9, 1622559600.0);
    OGR_G_AddPointM(g, 120.2, 28.8, 1622559610.0);
    OGR_F_SetGeometryDirectly(f, g);
    ASSERT_EQ(OGR_L_CreateFeature(l, f), OGRERR_NONE);
    OGR_F_Destroy(f);
    GDALClose(ds);
  }
  Diagnostics d;
  const Trace tr = read_trace_ogr(p, "traces/line.gpkg", "line", TimeZone{}, d);
  ASSERT_EQ(tr.size(), 2U) << dump(d);
  EXPECT_DOUBLE_EQ(tr.time_s[1], 1622559610.0);
  EXPECT_DOUBLE_EQ(tr.lon[1], 120.2);
  EXPECT_DOUBLE_EQ(tr.lat[0], 28.9);
}

TEST(Imagery, BandDescriptionAndMetadata) {
  TempDir dir;
  const auto p = dir.path() / "imagery" / "drone_0601.tif";
  std::filesystem::create_directories(p.parent_path());
  const double gt[6] = {120.0, 0.001, 0, 29.0, 0, -0.001};
  write_tiff(p, 100, 50, 1, gt, wkt_of_epsg(4326), [](GDALRasterBandH b, int) {
    GDALSetDescription(b, "SO2");
    GDALSetMetadataItem(b, "unit", "ppb", nullptr);
    GDALSetMetadataItem(b, "time", "2021-06-01T23:30:00+08:00", nullptr);
    GDALSetRasterNoDataValue(b, -9999);
    fill_const(b, 100, 50, 1.0f);
  });
  Diagnostics d;
  const auto im = read_imagery(p, "imagery/drone_0601.tif", TimeZone{}, d);
  ASSERT_TRUE(im.has_value()) << dump(d);
  EXPECT_EQ(im->name, "drone_0601");
  EXPECT_EQ(im->width, 100);
  EXPECT_EQ(im->height, 50);
  EXPECT_DOUBLE_EQ(im->geotransform[1], 0.001);
  ASSERT_EQ(im->bands.size(), 1U);
  EXPECT_EQ(im->bands[0].variable, "so2");
  EXPECT_EQ(im->bands[0].unit, "ppb");
  ASSERT_TRUE(im->bands[0].time_s.has_value());
  EXPECT_DOUBLE_EQ(*im->bands[0].time_s, parse_iso8601("2021-06-01T15:30:00Z"));
  EXPECT_DOUBLE_EQ(*im->bands[0].nodata, -9999);
  EXPECT_NEAR(im->lon_min, 120.0, 1e-9);
  EXPECT_NEAR(im->lon_max, 120.1, 1e-9);
  EXPECT_NEAR(im->lat_min, 28.95, 1e-9);
  EXPECT_NEAR(im->lat_max, 29.0, 1e-9);
  EXPECT_TRUE(d.warnings().empty()) << dump(d);
}

TEST(Imagery, SidecarJsonAndUtmBounds) {
  TempDir dir;
  const auto p = dir.path() / "imagery" / "thermal.tif";
  std::filesystem::create_directories(p.parent_path());
  double x0 = 0, y0 = 0;
  to_utm50(120.1, 28.9, x0, y0);
  const double gt[6] = {x0, 10, 0, y0, 0, -10};
  write_tiff(p, 200, 100, 2, gt, wkt_of_epsg(32650),
             [](GDALRasterBandH b, int) { fill_const(b, 200, 100, 20.0f); });
  dir.write("imagery/thermal.json",
            R"({"bands":[{"variable":"Water_Temperature","unit":"degC","time":"2021-06-01T23:00:00"},)"
            R"({"variable":"cod","unit":"mg/L"}]})");
  Diagnostics d;
  const auto im = read_imagery(p, "imagery/thermal.tif", TimeZone::parse("+08:00"), d);
  ASSERT_TRUE(im.has_value()) << dump(d);
  ASSERT_EQ(im->bands.size(), 2U);
  EXPECT_EQ(im->bands[0].variable, "water_temperature");
  EXPECT_EQ(im->bands[0].unit, "degC");
  EXPECT_DOUBLE_EQ(*im->bands[0].time_s, parse_iso8601("2021-06-01T15:00:00Z"));
  EXPECT_EQ(im->bands[1].variable, "cod");
  EXPECT_FALSE(im->bands[1].time_s.has_value());
  // bounds = extremes of the four corners (UTM grid is rotated against lon/lat by convergence)
  double lo[4], la[4];
  from_utm50(x0, y0, lo[0], la[0]);
  from_utm50(x0 + 2000, y0, lo[1], la[1]);
  from_utm50(x0, y0 - 1000, lo[2], la[2]);
  from_utm50(x0 + 2000, y0 - 1000, lo[3], la[3]);
  EXPECT_NEAR(im->lon_min, *std::min_element(lo, lo + 4), 1e-7);
  EXPECT_NEAR(im->lon_max, *std::max_element(lo, lo + 4), 1e-7);
  EXPECT_NEAR(im->lat_min, *std::min_element(la, la + 4), 1e-7);
  EXPECT_NEAR(im->lat_max, *std::max_element(la, la + 4), 1e-7);
  EXPECT_NEAR(lo[0], 120.1, 1e-8);
  EXPECT_GT(im->lon_max - im->lon_min, 0.02);  // about 2 km at 28.9 N
  EXPECT_FALSE(im->crs_wkt.empty());
}

TEST(Imagery, RejectsUngeoreferencedAndOversized) {
  TempDir dir;
  const auto p = dir.path() / "plain.tif";
  write_tiff(p, 10, 10, 1, nullptr, "", [](GDALRasterBandH b, int) { fill_const(b, 10, 10, 0.0f); });
  Diagnostics d;
  EXPECT_FALSE(read_imagery(p, "imagery/plain.tif", TimeZone{}, d).has_value());
  EXPECT_TRUE(has_rejection(d, "imagery/plain.tif", 0, "not georeferenced"));
  const double gt[6] = {120.0, 0.001, 0, 29.0, 0, -0.001};
  const auto big = dir.path() / "big.tif";
  write_tiff(big, 64, 64, 1, gt, wkt_of_epsg(4326), [](GDALRasterBandH b, int) { fill_const(b, 64, 64, 0.0f); });
  RasterLimits limits;
  limits.max_side_px = 32;
  EXPECT_FALSE(read_imagery(big, "imagery/big.tif", TimeZone{}, d, limits).has_value());
  EXPECT_TRUE(has_rejection(d, "imagery/big.tif", 0, "exceeds the size limit"));
  // a text file named .tif is not an image; a bad sidecar is reported but the raster still loads
  const auto junk = dir.write("junk.tif", "not a tiff");
  EXPECT_FALSE(read_imagery(junk, "imagery/junk.tif", TimeZone{}, d).has_value());
  EXPECT_TRUE(has_rejection(d, "imagery/junk.tif", 0, "cannot open"));
  dir.write("big.json", "{\"variable\": \n oops}");
  Diagnostics d2;
  const auto im = read_imagery(big, "imagery/big.tif", TimeZone{}, d2);
  ASSERT_TRUE(im.has_value());
  EXPECT_TRUE(has_rejection(d2, "imagery/big.json", 2, "invalid JSON"));
  EXPECT_TRUE(has_warning(d2, "imagery/big.tif", "band 1 has no variable"));
}

TEST(Boundaries, PolygonsMultipolygonsAndFields) {
  TempDir dir;
  const auto p = dir.write("boundaries.geojson", R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"adcode":331122,"name":"缙云县"},"geometry":{"type":"Polygon","coordinates":[[[120,28],[121,28],[121,29],[120,29],[120,28]],[[120.2,28.2],[120.3,28.2],[120.3,28.3],[120.2,28.2]]]}},
{"type":"Feature","properties":{"adcode":330784,"name":"永康市"},"geometry":{"type":"MultiPolygon","coordinates":[[[[119,28],[120,28],[120,29],[119,28]]],[[[118,28],[118.5,28],[118.5,28.5],[118,28]]]]}},
{"type":"Feature","properties":{"adcode":330000,"name":"line"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}},
{"type":"Feature","properties":{"adcode":null,"name":"no code"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
]})");
  Diagnostics d;
  const auto b = read_boundaries(p, "boundaries.geojson", "", "", d);
  ASSERT_TRUE(b.has_value()) << dump(d);
  ASSERT_EQ(b->features.size(), 2U) << dump(d);
  EXPECT_EQ(b->features[0].code, "331122");
  EXPECT_EQ(b->features[0].name, "缙云县");
  ASSERT_EQ(b->features[0].polygons.size(), 1U);
  ASSERT_EQ(b->features[0].polygons[0].size(), 2U);  // outer + hole
  EXPECT_EQ(b->features[0].polygons[0][0].size(), 5U);
  EXPECT_EQ(b->features[0].polygons[0][0][1], (std::pair<double, double>{121, 28}));
  EXPECT_EQ(b->features[1].polygons.size(), 2U);
  EXPECT_TRUE(has_rejection(d, "boundaries.geojson", 3, "not a (multi)polygon"));
  EXPECT_TRUE(has_rejection(d, "boundaries.geojson", 4, "empty code"));
  Diagnostics d2;
  EXPECT_FALSE(read_boundaries(p, "boundaries.geojson", "county_code", "", d2).has_value());
  EXPECT_TRUE(has_rejection(d2, "boundaries.geojson", 1, "code field 'county_code' not found"));
}

// The plain-GeoJSON reader must give exactly what GDAL gives, on the real (dirty) county
// layer the product ships and on small plain files; on anything unusual it must leave the file to
// GDAL (same rejections as above).
void expect_same_layer(const BoundaryLayer& a, const BoundaryLayer& b) {
  ASSERT_EQ(a.features.size(), b.features.size());
  for (std::size_t i = 0; i < a.features.size(); ++i) {
    const BoundaryFeature& fa = a.features[i];
    const BoundaryFeature& fb = b.features[i];
    EXPECT_EQ(fa.code, fb.code) << "feature " << i;
    EXPECT_EQ(fa.name, fb.name) << "feature " << i;
    ASSERT_EQ(fa.polygons.size(), fb.polygons.size()) << "feature " << i;
    for (std::size_t p = 0; p < fa.polygons.size(); ++p) {
      ASSERT_EQ(fa.polygons[p].size(), fb.polygons[p].size());
      for (std::size_t r = 0; r < fa.polygons[p].size(); ++r)
        ASSERT_EQ(fa.polygons[p][r], fb.polygons[p][r]) << "feature " << i << " polygon " << p << " ring " << r;
    }
  }
}

TEST(Boundaries, PlainGeoJsonEqualsGdalOnTheZhejiangLayer) {
  const auto path = std::filesystem::path(PLUMETRACE_SOURCE_DIR) / "data" / "zhejiang_counties.geojson";
  Diagnostics d1, d2;
  const auto fast = read_boundaries(path, "zhejiang_counties.geojson", "adcode", "name", d1);
  const auto gdal = read_boundaries_with_gdal(path, "zhejiang_counties.geojson", "adcode", "name", d2);
  ASSERT_TRUE(fast.has_value());
  ASSERT_TRUE(gdal.has_value());
  EXPECT_EQ(fast->features.size(), 89U);
  std::size_t vertices = 0;
  for (const auto& f : fast->features)
    for (const auto& poly : f.polygons)
      for (const auto& ring : poly) vertices += ring.size();
  EXPECT_GT(vertices, 300000U);
  expect_same_layer(*fast, *gdal);
  EXPECT_EQ(fast->file, gdal->file);
  EXPECT_TRUE(d1.rejected().empty());
  EXPECT_TRUE(d2.rejected().empty());
}

TEST(Boundaries, PlainGeoJsonPlainAndUnusualFiles) {
  TempDir dir;
  struct Case {
    const char* what;
    const char* text;
  };
  // Plain files (read in one pass) and unusual ones (read by GDAL): all must equal GDAL's result.
  const Case cases[] = {
      {"plain, keys in any order, escapes, 3-D positions, bbox and id members",
       R"({"bbox":[0,0,2,2],"features":[{"geometry":{"coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,0,5]]],"type":"Polygon"},"id":7,
"properties":{"name":"A \u00e9\ud83d\ude00 \"q\"","adcode":" 1 ","other":[1,{"x":null}]},"type":"Feature"},
{"type":"Feature","properties":{"adcode":"2","name":"B"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}}],
"type":"FeatureCollection","name":"x"})"},
      {"numeric code", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":331122,"name":"N"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})"},
      {"null geometry", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"1","name":"N"},"geometry":null},{"type":"Feature","properties":{"adcode":"2","name":"M"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})"},
      {"a named CRS", R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[{"type":"Feature","properties":{"adcode":"1","name":"N"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[100000,0],[100000,100000],[0,0]]]}}]})"},
      {"type and depth disagree", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"1","name":"N"},"geometry":{"type":"MultiPolygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})"},
      {"no name property", R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"adcode":"1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const auto p = dir.write("b" + std::to_string(i++) + ".geojson", c.text);
    Diagnostics d1, d2;
    const auto fast = read_boundaries(p, "b.geojson", "", "", d1);
    const auto gdal = read_boundaries_with_gdal(p, "b.geojson", "", "", d2);
    ASSERT_EQ(fast.has_value(), gdal.has_value()) << c.what;
    if (fast) expect_same_layer(*fast, *gdal);
    EXPECT_EQ(d1.rejected().size(), d2.rejected().size()) << c.what;
  }
}

// Damaged GeoJSON (bytes deleted, duplicated, replaced; the file cut short) must never crash the
// reader or hand back a layer GDAL would not give: whatever the plain-GeoJSON reader accepts, GDAL
// reads the same.
TEST(Boundaries, PlainGeoJsonSurvivesDamagedFiles) {
  TempDir dir;
  const std::string good = R"({"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"adcode":"1","name":"A \u00e9"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
{"type":"Feature","properties":{"adcode":"2","name":"B"},"geometry":{"type":"MultiPolygon","coordinates":[[[[2,0],[3,0],[3,1e0],[2,0]]],[[[5,5],[6,5],[6,6.5],[5,5]]]]}}]})";
  std::uint64_t state = 20261128;
  auto next = [&](std::uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  const char alphabet[] = "{}[],:\"0123456789.-eE \\u";
  int accepted = 0;
  for (int i = 0; i < 400; ++i) {
    std::string text = good;
    const int edits = 1 + static_cast<int>(next(3));
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = next(text.size());
      switch (next(4)) {
        case 0: text.erase(at, 1 + next(4)); break;
        case 1: text.insert(at, text.substr(at, 1 + next(6))); break;
        case 2: text[at] = alphabet[next(sizeof alphabet - 1)]; break;
        default: text.resize(at); break;
      }
    }
    const auto p = dir.write("damaged.geojson", text);
    Diagnostics d1, d2;
    std::optional<BoundaryLayer> fast, gdal;
    ASSERT_NO_THROW(fast = read_boundaries(p, "damaged.geojson", "", "", d1)) << text;
    ASSERT_NO_THROW(gdal = read_boundaries_with_gdal(p, "damaged.geojson", "", "", d2)) << text;
    ASSERT_EQ(fast.has_value(), gdal.has_value()) << text;
    if (fast) {
      ++accepted;
      expect_same_layer(*fast, *gdal);
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(MetGrid, GeoTiffUvBandsWithTimes) {
  TempDir dir;
  const auto p = dir.path() / "met" / "wind.tif";
  std::filesystem::create_directories(p.parent_path());
  const double gt[6] = {119.5, 0.25, 0, 29.5, 0, -0.25};
  // bands: v(t1), u(t0), v(t0), u(t1), temperature
  write_tiff(p, 4, 3, 5, gt, wkt_of_epsg(4326), [](GDALRasterBandH b, int i) {
    const char* desc[] = {"v", "u", "V", "U", "t2m"};
    const char* time[] = {"2021-06-01T01:00:00Z", "2021-06-01T00:00:00Z", "2021-06-01T00:00:00Z",
                          "2021-06-01T01:00:00Z", "2021-06-01T00:00:00Z"};
    GDALSetDescription(b, desc[i - 1]);
    GDALSetMetadataItem(b, "time", time[i - 1], nullptr);
    GDALSetRasterNoDataValue(b, -999);
    std::vector<float> px(12, static_cast<float>(i));
    px[5] = -999;
    ASSERT_EQ(GDALRasterIO(b, GF_Write, 0, 0, 4, 3, px.data(), 4, 3, GDT_Float32, 0, 0), CE_None);
  });
  Diagnostics d;
  const auto g = read_met_grid(p, "met/wind.tif", TimeZone{}, d);
  ASSERT_TRUE(g.has_value()) << dump(d);
  EXPECT_EQ(g->width, 4);
  EXPECT_EQ(g->height, 3);
  ASSERT_EQ(g->times.size(), 2U);
  EXPECT_DOUBLE_EQ(g->times[0], parse_iso8601("2021-06-01T00:00:00Z"));
  EXPECT_DOUBLE_EQ(g->times[1], parse_iso8601("2021-06-01T01:00:00Z"));
  ASSERT_EQ(g->u.size(), 24U);
  ASSERT_EQ(g->v.size(), 24U);
  EXPECT_FLOAT_EQ(g->u[0], 2.0f);   // t0 u = band 2
  EXPECT_FLOAT_EQ(g->v[0], 3.0f);   // t0 v = band 3
  EXPECT_FLOAT_EQ(g->u[12], 4.0f);  // t1 u = band 4
  EXPECT_FLOAT_EQ(g->v[12], 1.0f);  // t1 v = band 1
  EXPECT_TRUE(std::isnan(g->u[5]));
  EXPECT_DOUBLE_EQ(g->geotransform[0], 119.5);
}

TEST(MetGrid, SidecarTimeAndFailures) {
  TempDir dir;
  const auto p = dir.path() / "met" / "wrf.tif";
  std::filesystem::create_directories(p.parent_path());
  const double gt[6] = {119.5, 0.25, 0, 29.5, 0, -0.25};
  write_tiff(p, 2, 2, 2, gt, wkt_of_epsg(4326), [](GDALRasterBandH b, int i) {
    GDALSetDescription(b, i == 1 ? "u10" : "v10");
    fill_const(b, 2, 2, static_cast<float>(i) * 1.5f);
  });
  Diagnostics d;
  EXPECT_FALSE(read_met_grid(p, "met/wrf.tif", TimeZone{}, d).has_value());
  EXPECT_TRUE(has_rejection(d, "met/wrf.tif", 0, "no u/v wind band pair with a valid time"));
  dir.write("met/wrf.json", R"({"time": "2021-06-01T08:00:00"})");
  Diagnostics d2;
  const auto g = read_met_grid(p, "met/wrf.tif", TimeZone::parse("+08:00"), d2);
  ASSERT_TRUE(g.has_value()) << dump(d2);
  ASSERT_EQ(g->times.size(), 1U);
  EXPECT_DOUBLE_EQ(g->times[0], parse_iso8601("2021-06-01T00:00:00Z"));
  EXPECT_FLOAT_EQ(g->u[3], 1.5f);
  EXPECT_FLOAT_EQ(g->v[3], 3.0f);
  const auto junk = dir.write("met/readme.txt", "hello");
  Diagnostics d3;
  EXPECT_FALSE(read_met_grid(junk, "met/readme.txt", TimeZone{}, d3).has_value());
  EXPECT_TRUE(has_rejection(d3, "met/readme.txt", 0, "cannot open"));
}

}  // namespace
}  // namespace plumetrace

namespace plumetrace {
namespace {

/// Write a CF NetCDF file with variables u10, v10 (time, lat, lon) through GDAL's
/// multidimensional API. Values: u10 = 1 + t, v10 = -2 - t at every cell.
void write_netcdf_uv(const std::filesystem::path& p) {
  GDALAllRegister();
  GDALDatasetH ds = GDALCreateMultiDimensional(GDALGetDriverByName("netCDF"), p.c_str(), nullptr, nullptr);
  ASSERT_NE(ds, nullptr);
  GDALGroupH root = GDALDatasetGetRootGroup(ds);
  GDALDimensionH dt = GDALGroupCreateDimension(root, "time", nullptr, nullptr, 2, nullptr);
  GDALDimensionH dy = GDALGroupCreateDimension(root, "lat", nullptr, nullptr, 3, nullptr);
  GDALDimensionH dx = GDALGroupCreateDimension(root, "lon", nullptr, nullptr, 4, nullptr);
  GDALExtendedDataTypeH f64 = GDALExtendedDataTypeCreate(GDT_Float64);
  GDALExtendedDataTypeH f32 = GDALExtendedDataTypeCreate(GDT_Float32);
  GDALExtendedDataTypeH str = GDALExtendedDataTypeCreateString(0);
  auto coord = [&](const char* name, GDALDimensionH dim, const std::vector<double>& values,
                   const char* units) {
    GDALMDArrayH a = GDALGroupCreateMDArray(root, name, 1, &dim, f64, nullptr);
    ASSERT_NE(a, nullptr);
    GDALAttributeH at = GDALMDArrayCreateAttribute(a, "units", 0, nullptr, str, nullptr);
    GDALAttributeWriteString(at, units);
    GDALAttributeRelease(at);
    const GUInt64 start = 0;
    const size_t count = values.size();
    ASSERT_TRUE(GDALMDArrayWrite(a, &start, &count, nullptr, nullptr, f64, values.data(), nullptr, 0));
    GDALMDArrayRelease(a);
  };
  coord("time", dt, {6.0, 7.0}, "hours since 2021-06-01 00:00:00");
  coord("lat", dy, {29.0, 28.75, 28.5}, "degrees_north");
  coord("lon", dx, {119.5, 119.75, 120.0, 120.25}, "degrees_east");
  GDALDimensionH dims[3] = {dt, dy, dx};
  for (const char* name : {"u10", "v10"}) {
    GDALMDArrayH a = GDALGroupCreateMDArray(root, name, 3, dims, f32, nullptr);
    ASSERT_NE(a, nullptr);
    std::vector<float> v(24);
    for (int i = 0; i < 24; ++i)
      v[static_cast<std::size_t>(i)] = name[0] == 'u' ? 1.0f + static_cast<float>(i / 12)
                                                      : -2.0f - static_cast<float>(i / 12);
    const GUInt64 start[3] = {0, 0, 0};
    const size_t count[3] = {2, 3, 4};
    ASSERT_TRUE(GDALMDArrayWrite(a, start, count, nullptr, nullptr, f32, v.data(), nullptr, 0));
    GDALMDArrayRelease(a);
  }
  GDALExtendedDataTypeRelease(f64);
  GDALExtendedDataTypeRelease(f32);
  GDALExtendedDataTypeRelease(str);
  GDALDimensionRelease(dt);
  GDALDimensionRelease(dy);
  GDALDimensionRelease(dx);
  GDALGroupRelease(root);
  GDALClose(ds);
}

TEST(MetGrid, NetcdfU10V10WithCfTime) {
  TempDir dir;
  const auto p = dir.path() / "met" / "era5.nc";
  std::filesystem::create_directories(p.parent_path());
  write_netcdf_uv(p);
  Diagnostics d;
  const auto g = read_met_grid(p, "met/era5.nc", TimeZone{}, d);
  ASSERT_TRUE(g.has_value()) << dump(d);
  EXPECT_EQ(g->width, 4);
  EXPECT_EQ(g->height, 3);
  ASSERT_EQ(g->times.size(), 2U);
  EXPECT_DOUBLE_EQ(g->times[0], parse_iso8601("2021-06-01T06:00:00Z"));
  EXPECT_DOUBLE_EQ(g->times[1], parse_iso8601("2021-06-01T07:00:00Z"));
  EXPECT_FLOAT_EQ(g->u[0], 1.0f);
  EXPECT_FLOAT_EQ(g->u[12], 2.0f);
  EXPECT_FLOAT_EQ(g->v[23], -3.0f);
  // cell-centre coordinates 119.5 .. 120.25 -> the west edge is half a cell west of 119.5
  EXPECT_NEAR(g->geotransform[1], 0.25, 1e-9);
  EXPECT_NEAR(g->geotransform[0], 119.375, 1e-9);
}

}  // namespace
}  // namespace plumetrace

namespace plumetrace {
namespace {

/// One GRIB2 message of a 4 x 3 lon/lat field (parameter number 2 = UGRD, 3 = VGRD at 10 m,
/// reference time 2021-06-01T00Z, forecast hour `fh`) with constant `value`, appended to `out`.
void append_grib_message(const std::filesystem::path& dir, std::ofstream& out, int number, int fh,
                         float value) {
  GDALAllRegister();
  GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", 4, 3, 1, GDT_Float32, nullptr);
  double gt[6] = {119.5, 0.25, 0, 29.5, 0, -0.25};
  GDALSetGeoTransform(mem, gt);
  GDALSetProjection(mem, wkt_of_epsg(4326).c_str());
  fill_const(GDALGetRasterBand(mem, 1), 4, 3, value);
  const std::string pds = "PDS_TEMPLATE_ASSEMBLED_VALUES=2 " + std::to_string(number) + " 2 0 96 0 0 1 " +
                          std::to_string(fh) + " 103 0 10 255 0 0";
  const char* opts[] = {"DISCIPLINE=0",
                        "IDS=CENTER=7 SUBCENTER=0 MASTER_TABLE=2 SIGNF_REF_TIME=1 "
                        "REF_TIME=2021-06-01T00:00:00Z PROD_STATUS=0 TYPE=1",
                        "PDS_PDTN=0", pds.c_str(), nullptr};
  const auto tmp = dir / "msg.grb2";
  GDALDatasetH g = GDALCreateCopy(GDALGetDriverByName("GRIB"), tmp.c_str(), mem, FALSE,
                                  const_cast<char**>(opts), nullptr, nullptr);
  ASSERT_NE(g, nullptr);
  GDALClose(g);
  GDALClose(mem);
  std::ifstream in(tmp, std::ios::binary);
  out << in.rdbuf();
  std::filesystem::remove(tmp);
}

TEST(MetGrid, GribUgrdVgrdValidTimes) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "met");
  const auto p = dir.path() / "met" / "gfs.grb2";
  {
    std::ofstream out(p, std::ios::binary);
    append_grib_message(dir.path(), out, 3, 6, -1.0f);  // VGRD +6 h
    append_grib_message(dir.path(), out, 2, 3, 2.0f);   // UGRD +3 h
    append_grib_message(dir.path(), out, 3, 3, -4.0f);  // VGRD +3 h
    append_grib_message(dir.path(), out, 2, 6, 5.0f);   // UGRD +6 h
    append_grib_message(dir.path(), out, 2, 9, 5.0f);   // UGRD +9 h, no VGRD
  }
  Diagnostics d;
  const auto g = read_met_grid(p, "met/gfs.grb2", TimeZone{}, d);
  ASSERT_TRUE(g.has_value()) << dump(d);
  ASSERT_EQ(g->times.size(), 2U);
  EXPECT_DOUBLE_EQ(g->times[0], parse_iso8601("2021-06-01T03:00:00Z"));
  EXPECT_DOUBLE_EQ(g->times[1], parse_iso8601("2021-06-01T06:00:00Z"));
  EXPECT_FLOAT_EQ(g->u[0], 2.0f);
  EXPECT_FLOAT_EQ(g->v[0], -4.0f);
  EXPECT_FLOAT_EQ(g->u[12], 5.0f);
  EXPECT_FLOAT_EQ(g->v[12], -1.0f);
  EXPECT_TRUE(has_warning(d, "met/gfs.grb2", "only one wind component"));
}

}  // namespace
}  // namespace plumetrace

namespace plumetrace {
namespace {

TEST(SourcesOgr, ShapefileWithPrjInLoadCase) {
  TempDir dir;
  const auto p = dir.path() / "sources.shp";
  double x = 0, y = 0;
  to_utm50(120.2, 28.8, x, y);
  write_utm_source(p, "ESRI Shapefile", {"id", "name", "industry"}, {"SHP1", "dye works", "textile"}, 18, x, y);
  const Case c = load_case(dir.path());
  ASSERT_EQ(c.sources.size(), 1U) << dump(c.diagnostics);
  EXPECT_EQ(c.sources[0].id, "SHP1");
  EXPECT_EQ(c.sources[0].industry, "textile");
  EXPECT_DOUBLE_EQ(c.sources[0].height_m, 18);
  EXPECT_NEAR(c.sources[0].lon, 120.2, 1e-8);
  EXPECT_NEAR(c.sources[0].lat, 28.8, 1e-8);
  EXPECT_EQ(c.accepted_rows.at("sources.shp"), 1U);
  EXPECT_TRUE(c.diagnostics.warnings().empty()) << dump(c.diagnostics);  // .shx/.dbf/.prj known
}

}  // namespace
}  // namespace plumetrace
