// libpng encoding of tiles decodes back (libpng) to the same RGBA, at every zlib level.

#include "plumetrace/render/png.hpp"

#include <gtest/gtest.h>

#include <random>

#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

TEST(Png, RoundTripsRgbaExactly) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> rgba(256 * 256 * 4);
  for (auto& b : rgba) b = static_cast<std::uint8_t>(rng());
  for (int level : {0, 1, 6, 9}) {
    const std::string png = encode_png_rgba(rgba, 256, 256, level);
    ASSERT_EQ(png.compare(1, 3, "PNG"), 0);
    const RgbaImage back = decode_png_rgba(png);
    EXPECT_EQ(back.width, 256);
    EXPECT_EQ(back.height, 256);
    EXPECT_EQ(back.rgba, rgba) << "zlib level " << level;
  }
}

TEST(Png, NonSquareAndTransparent) {
  std::vector<std::uint8_t> rgba(3 * 2 * 4, 0);
  rgba[4] = 10;
  rgba[7] = 255;
  const RgbaImage back = decode_png_rgba(encode_png_rgba(rgba, 3, 2));
  EXPECT_EQ(back.width, 3);
  EXPECT_EQ(back.height, 2);
  EXPECT_EQ(back.rgba, rgba);
}

TEST(Png, RefusesWhatIsNotAPng) {
  EXPECT_THROW((void)decode_png_rgba("GIF89a...."), InvalidInput);
  std::vector<std::uint8_t> rgba(16 * 16 * 4, 200);
  const std::string png = encode_png_rgba(rgba, 16, 16);
  EXPECT_THROW((void)decode_png_rgba(png.substr(0, png.size() / 2)), InvalidInput);
}

}  // namespace
}  // namespace plumetrace
