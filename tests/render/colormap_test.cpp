// Colormaps named as TiTiler names them, their endpoints (matplotlib values as rio-tiler samples
// them), and the rescale to colour indices.

#include "plumetrace/render/colormap.hpp"

#include <gtest/gtest.h>

#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

TEST(Colormap, EndpointsAreMatplotlibsAsRioTilerSamplesThem) {
  EXPECT_EQ(colormap_by_name("viridis")[0], (Rgba{68, 1, 84, 255}));     // #440154
  EXPECT_EQ(colormap_by_name("viridis")[255], (Rgba{253, 231, 36, 255}));  // #fde725, truncated
  EXPECT_EQ(colormap_by_name("greys")[0], (Rgba{255, 255, 255, 255}));
  EXPECT_EQ(colormap_by_name("greys")[255], (Rgba{0, 0, 0, 255}));
  EXPECT_EQ(colormap_by_name("rdylgn")[0], (Rgba{165, 0, 38, 255}));      // ColorBrewer #a50026
  EXPECT_EQ(colormap_by_name("reds")[255], (Rgba{103, 0, 12, 255}));  // #67000d: 13/255*255 truncates to 12
  EXPECT_EQ(colormap_by_name("ylorrd")[0], (Rgba{255, 255, 204, 255}));   // ColorBrewer #ffffcc
}

TEST(Colormap, EveryTitilerNameIsThere) {
  for (const char* name :
       {"viridis", "magma", "inferno", "plasma", "cividis", "greys", "reds", "blues", "ylorrd", "rdylgn", "turbo"}) {
    const ColormapTable& t = colormap_by_name(name);
    for (const Rgba& c : t) EXPECT_EQ(c[3], 255) << name;
  }
  EXPECT_EQ(colormap_names().size(), 11u);
}

TEST(Colormap, UnknownNameNamesTheAllowedOnes) {
  try {
    (void)colormap_by_name("Viridis");  // TiTiler names are lower case
    FAIL() << "no exception";
  } catch (const InvalidInput& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("Viridis"), std::string::npos) << what;
    EXPECT_NE(what.find("viridis, magma"), std::string::npos) << what;
    EXPECT_NE(what.find("turbo"), std::string::npos) << what;
  }
}

TEST(Colormap, RescaleMapsLoToFirstAndHiToLastColour) {
  const Rescale r(0.0, 10.0);
  EXPECT_EQ(r.index(0.0f), 0);
  EXPECT_EQ(r.index(10.0f), 255);
  EXPECT_EQ(r.index(5.0f), 128);   // 127.5 rounds up
  EXPECT_EQ(r.index(-3.0f), 0);    // clamped
  EXPECT_EQ(r.index(1e30f), 255);  // clamped
  const Rescale tiny(1e-9, 3e-9);  // posterior probabilities are small numbers
  EXPECT_EQ(tiny.index(2e-9f), 128);
}

TEST(Colormap, ParseRescale) {
  const Rescale r = parse_rescale("0.5,2e3");
  EXPECT_DOUBLE_EQ(r.lo(), 0.5);
  EXPECT_DOUBLE_EQ(r.hi(), 2000.0);
  EXPECT_DOUBLE_EQ(parse_rescale("-1, 1").lo(), -1.0);
  for (const char* bad : {"", "1", "1,", ",2", "2,1", "1,1", "a,b", "0,inf", "nan,1", "1,2,3"})
    EXPECT_THROW((void)parse_rescale(bad), InvalidInput) << bad;
}

}  // namespace
}  // namespace plumetrace
