// The static pyramid: the library call and `plumetrace tiles` run as a user runs it (exit codes,
// one-line reasons, the files it writes).

#include "plumetrace/render/pyramid.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "plumetrace/core/error.hpp"
#include "plumetrace/render/png.hpp"
#include "render_fixture.hpp"

namespace plumetrace {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct RunResult {
  int code = -1;
  std::string out, err;
};

/// Run the plumetrace binary with `args` (already shell-quoted where needed).
RunResult run_plumetrace(const fs::path& scratch, const std::string& args) {
  const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' " + args + " >'" + (scratch / "stdout.txt").string() +
                          "' 2>'" + (scratch / "stderr.txt").string() + "'";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(scratch / "stdout.txt");
  r.err = slurp(scratch / "stderr.txt");
  return r;
}

/// Count the .png files under dir/z for each z.
std::map<int, int> pngs_per_zoom(const fs::path& dir) {
  std::map<int, int> n;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".png") ++n[std::stoi(e.path().parent_path().parent_path().filename().string())];
  return n;
}

TEST(Pyramid, ParseZoomRange) {
  EXPECT_EQ(parse_zoom_range("9-12"), (std::pair{9, 12}));
  EXPECT_EQ(parse_zoom_range("7"), (std::pair{7, 7}));
  for (const char* bad : {"", "-", "12-9", "a-b", "0-25", "-1", "3-"}) EXPECT_THROW((void)parse_zoom_range(bad), InvalidInput) << bad;
}

TEST(Pyramid, WritesEveryTileTouchingTheRasterAndTileJson) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  PyramidOptions o;
  o.min_zoom = 9;
  o.max_zoom = 12;
  o.threads = 2;
  const PyramidSummary s = write_tile_pyramid(file, dir.path() / "tiles", o);
  const TileRenderer r(file);
  std::int64_t expected = 0;
  for (int z = 9; z <= 12; ++z) {
    const TileRange range = tiles_covering(r.bounds_lonlat(), z);
    expected += range.count();
    EXPECT_EQ(pngs_per_zoom(dir.path() / "tiles")[z], range.count()) << z;
    const fs::path first = dir.path() / "tiles" / std::to_string(z) / std::to_string(range.min_x) /
                           (std::to_string(range.min_y) + ".png");
    EXPECT_EQ(decode_png_rgba(slurp(first)).width, kTileSizePx);
  }
  EXPECT_EQ(s.tiles, expected);
  EXPECT_LT(s.empty_tiles, s.tiles);
  const auto j = nlohmann::json::parse(slurp(dir.path() / "tiles" / "tilejson.json"));
  EXPECT_EQ(j["tilejson"], "3.0.0");
  EXPECT_EQ(j["minzoom"], 9);
  EXPECT_EQ(j["maxzoom"], 12);
  EXPECT_EQ(j["tiles"][0], "{z}/{x}/{y}.png");
  EXPECT_NEAR(j["bounds"][0].get<double>(), r.bounds_lonlat().west_deg, 1e-12);
}

TEST(Pyramid, RefusesTooManyTiles) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  PyramidOptions o;
  o.min_zoom = 0;
  o.max_zoom = 22;  // 20 km at ~8 m per tile: ~4 M tiles at z 22 alone
  EXPECT_THROW((void)write_tile_pyramid(file, dir.path() / "tiles", o), InvalidInput);
  EXPECT_FALSE(fs::exists(dir.path() / "tiles")) << "refused before writing anything";
}

TEST(TilesCommand, WritesThePyramid) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  const RunResult r = run_plumetrace(dir.path(), "tiles '" + file.string() + "' '" + (dir.path() / "out").string() +
                                                     "' --zoom 10-11 --colormap-name magma --rescale 0,10 --threads 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("zoom 10-11"), std::string::npos) << r.out;
  const auto n = pngs_per_zoom(dir.path() / "out");
  EXPECT_EQ(n.size(), 2u);
  EXPECT_GT(n.at(11), 0);
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "tilejson.json"));
  // default zooms from the resolution (10-10 for 100 m pixels, 200 px)
  const RunResult d = run_plumetrace(dir.path(), "tiles '" + file.string() + "' '" + (dir.path() / "default").string() + "'");
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(pngs_per_zoom(dir.path() / "default").begin()->first, 10);
  const RunResult h = run_plumetrace(dir.path(), "tiles --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--colormap-name"), std::string::npos);
}

TEST(TilesCommand, BadInputExitsTwoWithOneLineReasonNamingTheFile) {
  test::TempDir dir;
  const auto file = test::write_half_tiff(dir.path() / "half.tif", 200, 200, 5.0f);
  const std::string out = "'" + (dir.path() / "out").string() + "'";
  const std::string missing = (dir.path() / "missing.tif").string();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"tiles /vsicurl/http://example.com/a.tif " + out, "/vsicurl/http://example.com/a.tif: "},
      {"tiles '" + missing + "' " + out, missing + ": no such file"},
      {"tiles '" + file.string() + "' " + out + " --colormap-name rainbow", "unknown colormap 'rainbow'"},
      {"tiles '" + file.string() + "' " + out + " --rescale 5,1", "LO < HI"},
      {"tiles '" + file.string() + "' " + out + " --band 3", "no band 3"},
      {"tiles '" + file.string() + "' " + out + " --zoom 12-3", "MIN must not exceed MAX"},
      {"tiles '" + file.string() + "'", "needs RASTER and OUT_DIR"},
  };
  for (const auto& [args, reason] : cases) {
    const RunResult r = run_plumetrace(dir.path(), args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("plumetrace: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "tilejson.json"));
}

}  // namespace
}  // namespace plumetrace
